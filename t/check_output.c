/*
 * Unit tests for supervisor/output.c.
 *
 * The output is where "exactly once" is won or lost, so beside the
 * plain behaviour (lines numbered from the committed seq, the file cut
 * back to the committed offset on open, stdout written before the
 * commit) the tests kill a process with SIGKILL at every point of a
 * commit and check that the file and the state that survive agree:
 * the file ends at the committed offset once reopened, it holds
 * exactly the committed seq lines, numbered 1..seq, and the table's
 * cursor is the one stored with the last committed round.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "supervisor.h"
#include "state.h"

static char dir[64];
static char statepath[128];
static char outpath[128];
static struct frame_schema schema;

static void setup(void);
static void teardown(void);
static struct state *open_state(void);
static struct output *open_output(struct state *, const char *);
static void add_events(struct output *, int, int);
static void commit_round(struct output *, struct state *, const char *);
static char *slurp(const char *, size_t *);
static void check_lines(const char *, uint64_t);
static void check_lines_from(const char *, uint64_t, uint64_t);
static const char *table_cursor(struct state *, char *, size_t);
static void kill_hook(enum output_step, void *);
static void commit_cb(struct output *, void *);

/* A fresh directory and a one-column ct schema per test. */
static void
setup(void)
{
	struct frame_column c;

	log_init("check_output", LOG_LEVEL_WARN, 0);
	snprintf(dir, sizeof(dir), "/tmp/check_output.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(statepath, sizeof(statepath), "%s/state.db", dir);
	snprintf(outpath, sizeof(outpath), "%s/out.jsonl", dir);
	memset(&c, 0, sizeof(c));
	c.name = (char *)"id";
	c.type_name = (char *)"int";
	c.type_id = 56;
	c.key_ordinal = 1;
	frame_schema_init(&schema, "shop", "dbo", "orders", FRAME_MODE_CT);
	frame_schema_add_column(&schema, &c);
}

/* Remove what a test left. */
static void
teardown(void)
{
	char cmd[160];

	frame_schema_free(&schema);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static struct state *
open_state(void)
{
	struct state *st;
	char *cause = NULL;

	st = state_open(statepath, 0, &cause);
	ck_assert_msg(st != NULL, "state_open: %s", cause);
	return (st);
}

static struct output *
open_output(struct state *st, const char *path)
{
	struct output *o;
	char *cause = NULL;

	o = output_open(path, st, "tag1", &cause);
	ck_assert_msg(o != NULL, "output_open: %s", cause);
	return (o);
}

/* Format n events with ids from first. */
static void
add_events(struct output *o, int first, int n)
{
	struct frame_events ev;
	struct frame_event *e;
	uint8_t pos[16];
	int i;

	frame_events_init(&ev, 1);
	for (i = 0; i < n; i++) {
		memset(pos, 0, sizeof(pos));
		pos[7] = first + i;
		e = frame_events_add(&ev, FRAME_OP_CREATE, 0, pos, 16,
		    "2026-01-01T00:00:00.0000000Z");
		e->values[0].type = FRAME_VALUE_INT;
		e->values[0].v.i = first + i;
		output_add_event(o, &schema, e);
	}
	frame_events_free(&ev);
}

/* Commit with table dbo.orders at cursor. */
static void
commit_round(struct output *o, struct state *st, const char *cursor)
{
	struct state_table *t;
	char *cause = NULL;

	t = state_table_create("dbo.orders", FRAME_MODE_CT);
	t->phase = FRAME_PHASE_STREAMING;
	t->cursor = (uint8_t *)xstrdup(cursor);
	t->cursorlen = strlen(cursor);
	ck_assert_msg(
	    output_commit(o, &t, 1, &cause) == 0, "commit: %s", cause);
	state_table_free(t);
}

/* Read a whole file, NUL-terminated. */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE *fp;
	char *buf;
	long len;

	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = xmalloc(len + 1);
	ck_assert_int_eq(fread(buf, 1, len, fp), len);
	buf[len] = '\0';
	fclose(fp);
	*lenp = len;
	return (buf);
}

/* The file holds exactly lines seq 1..n, in order. */
static void
check_lines(const char *path, uint64_t n)
{
	check_lines_from(path, 1, n);
}

/* The file holds exactly n lines, seq first.., in order. */
static void
check_lines_from(const char *path, uint64_t first, uint64_t n)
{
	char *buf, *line, *next, want[64];
	size_t len;
	uint64_t i = 0;

	buf = slurp(path, &len);
	for (line = buf; *line != '\0'; line = next + 1) {
		next = strchr(line, '\n');
		ck_assert_ptr_nonnull(next);
		*next = '\0';
		snprintf(want, sizeof(want), "\"seq\":%llu,",
		    (unsigned long long)(first + i));
		i++;
		ck_assert_msg(strstr(line, want) != NULL, "line %llu: %s",
		    (unsigned long long)i, line);
		ck_assert_ptr_nonnull(strstr(line, "\"tag\":\"tag1\""));
	}
	ck_assert_uint_eq(i, n);
	free(buf);
}

/* The stored cursor of dbo.orders, as a string ("" if none). */
static const char *
table_cursor(struct state *st, char *buf, size_t size)
{
	struct state_table *t;
	char *cause = NULL;

	buf[0] = '\0';
	ck_assert_int_ge(state_table_get(st, "dbo.orders", &t, &cause), 0);
	if (t != NULL) {
		snprintf(buf, size, "%.*s", (int)t->cursorlen, t->cursor);
		state_table_free(t);
	}
	return (buf);
}

/* kill -9 ourselves at the chosen step. */
static void
kill_hook(enum output_step step, void *arg)
{
	if ((int)step == *(int *)arg)
		kill(getpid(), SIGKILL);
}

/* Rounds are numbered; lines go to the file at commit. */
START_TEST(test_commit)
{
	struct state *st = open_state();
	struct output *o = open_output(st, outpath);
	struct state_output so;
	char *cause = NULL, cur[64];
	struct stat sb;

	add_events(o, 1, 3);
	ck_assert_uint_eq(output_pending(o), 3);
	ck_assert_uint_eq(output_seq(o), 3);
	ck_assert_int_eq(stat(outpath, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0); /* nothing before the commit */
	commit_round(o, st, "r1");
	ck_assert_uint_eq(output_pending(o), 0);
	check_lines(outpath, 3);
	ck_assert_int_eq(state_output_get(st, &so, &cause), 0);
	ck_assert_int_eq(stat(outpath, &sb), 0);
	ck_assert(so.seq == 3 && so.offset == (uint64_t)sb.st_size);
	ck_assert_str_eq(table_cursor(st, cur, sizeof(cur)), "r1");
	/* A round of cursors only (an idle table): seq does not move. */
	commit_round(o, st, "r1b");
	ck_assert_str_eq(table_cursor(st, cur, sizeof(cur)), "r1b");
	ck_assert_int_eq(state_output_get(st, &so, &cause), 0);
	ck_assert_uint_eq(so.seq, 3);
	/* Nothing at all: a no-op. */
	ck_assert_int_eq(output_commit(o, NULL, 0, &cause), 0);
	output_close(o);
	state_close(st);
}
END_TEST

/*
 * Lines after the last commit are cut on open, and numbering goes on
 * from the committed seq.
 */
START_TEST(test_truncate_on_start)
{
	struct state *st = open_state();
	struct output *o = open_output(st, outpath);
	uint64_t seq, off;
	struct stat sb;
	FILE *fp;

	add_events(o, 1, 2);
	commit_round(o, st, "r1");
	add_events(o, 3, 2); /* never committed */
	output_close(o);
	fp = fopen(outpath, "a");
	fputs("{\"_meta\":{\"seq\":3,\"uncommitted\":1}}\n{\"half", fp);
	fclose(fp);
	o = open_output(st, outpath);
	output_committed(o, &seq, &off);
	ck_assert_uint_eq(seq, 2);
	ck_assert_int_eq(stat(outpath, &sb), 0);
	ck_assert_uint_eq(off, (uint64_t)sb.st_size);
	check_lines(outpath, 2);
	add_events(o, 3, 2);
	ck_assert_uint_eq(output_seq(o), 4);
	commit_round(o, st, "r2");
	check_lines(outpath, 4);
	output_close(o);
	state_close(st);
}
END_TEST

/* A file shorter than the committed offset is refused. */
START_TEST(test_short_file)
{
	struct state *st = open_state();
	struct output *o = open_output(st, outpath);
	char *cause = NULL;

	add_events(o, 1, 2);
	commit_round(o, st, "r1");
	output_close(o);
	ck_assert_int_eq(truncate(outpath, 10), 0);
	ck_assert_ptr_null(output_open(outpath, st, NULL, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "truncated or replaced"));
	free(cause);
	state_close(st);
}
END_TEST

/* Standard output: written at commit; the stored offset is kept. */
START_TEST(test_stdout)
{
	struct state *st = open_state();
	struct output *o = open_output(st, outpath);
	struct state_output so, so2;
	char *cause = NULL, path[160];
	int fd, saved;

	add_events(o, 1, 2);
	commit_round(o, st, "r1");
	output_close(o);
	ck_assert_int_eq(state_output_get(st, &so, &cause), 0);
	snprintf(path, sizeof(path), "%s/stdout", dir);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);
	o = open_output(st, "-");
	add_events(o, 3, 3);
	commit_round(o, st, "r2");
	output_close(o);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	check_lines_from(path, 3, 3);
	check_lines(outpath, 2);
	ck_assert_int_eq(state_output_get(st, &so2, &cause), 0);
	ck_assert(so2.seq == 5 && so2.offset == so.offset);
	state_close(st);
}
END_TEST

/* A round is full at OUTPUT_COMMIT_EVENTS; the timer asks for a commit. */
START_TEST(test_bounds)
{
	struct state *st = open_state();
	struct output *o = open_output(st, outpath);
	struct event_base *base = event_base_new();
	struct frame_events ev;
	struct frame_event *e;
	uint8_t pos[16];
	int i, full = 0, fired = 0;

	memset(pos, 0, sizeof(pos));
	frame_events_init(&ev, 1);
	e = frame_events_add(&ev, FRAME_OP_DELETE, 0, pos, 16, "ts");
	e->values[0].type = FRAME_VALUE_INT;
	for (i = 1; i <= OUTPUT_COMMIT_EVENTS; i++) {
		full = output_add_event(o, &schema, e);
		if (i < OUTPUT_COMMIT_EVENTS)
			ck_assert_int_eq(full, 0);
	}
	ck_assert_int_eq(full, 1);
	commit_round(o, st, "r1");
	output_set_timer(o, base, commit_cb, &fired);
	output_add_event(o, &schema, e);
	event_base_dispatch(base); /* returns once the timer has fired */
	ck_assert_int_eq(fired, 1);
	frame_events_free(&ev);
	output_close(o);
	event_base_free(base);
	state_close(st);
}
END_TEST

/*
 * kill -9 at each step of a commit (_i): a child commits round 1 (2
 * events, cursor r1), then dies inside round 2 (3 events, cursor r2).
 * Reopened, file and state agree on one of the two rounds.
 */
START_TEST(test_kill9)
{
	struct state *st;
	struct output *o;
	uint64_t seq, off;
	struct stat sb;
	char cur[64];
	int status, step = _i;
	pid_t pid;

	if ((pid = fork()) == 0) {
		st = open_state();
		o = open_output(st, outpath);
		add_events(o, 1, 2);
		commit_round(o, st, "r1");
		add_events(o, 3, 3);
		output_set_hook(o, kill_hook, &step);
		if (step > OUTPUT_STEP_COMMITTED)
			kill(getpid(), SIGKILL); /* before any write */
		commit_round(o, st, "r2");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	st = open_state();
	ck_assert_int_eq(stat(outpath, &sb), 0);
	o = open_output(st, outpath);
	output_committed(o, &seq, &off);
	table_cursor(st, cur, sizeof(cur));
	if (step == OUTPUT_STEP_COMMITTED) {
		ck_assert_uint_eq(seq, 5);
		ck_assert_str_eq(cur, "r2");
	} else {
		ck_assert_uint_eq(seq, 2);
		ck_assert_str_eq(cur, "r1");
		if (step != OUTPUT_STEP_COMMITTED + 1)
			ck_assert_uint_gt((uint64_t)sb.st_size, off);
	}
	ck_assert_int_eq(stat(outpath, &sb), 0);
	ck_assert_uint_eq((uint64_t)sb.st_size, off);
	check_lines(outpath, seq);
	/* And the run goes on from there. */
	add_events(o, 10, 1);
	commit_round(o, st, "r3");
	check_lines(outpath, seq + 1);
	output_close(o);
	state_close(st);
}
END_TEST

/* Timer callback of test_bounds: count and stop the loop. */
static void
commit_cb(struct output *o, void *arg)
{
	(*(int *)arg)++;
}

static Suite *
output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("output");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_commit);
	tcase_add_test(tc, test_truncate_on_start);
	tcase_add_test(tc, test_short_file);
	tcase_add_test(tc, test_stdout);
	tcase_add_test(tc, test_bounds);
	/* Every step, plus OUTPUT_STEP_COMMITTED + 1: before writing. */
	tcase_add_loop_test(
	    tc, test_kill9, OUTPUT_STEP_WRITTEN, OUTPUT_STEP_COMMITTED + 2);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(output_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
