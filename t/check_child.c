/*
 * Unit tests for supervisor/child.c.
 *
 * The children are real processes: this binary re-executes itself as
 * "-P worker -I <id> -c <config>" through child.c, the way mssql-capture
 * runs its workers, and main() hands such a run to child_peer_main()
 * (t/child_peer.c), which speaks the frame protocol on fd 3 and
 * behaves as its id says.  The tests check what an operator relies on:
 * a worker killed with SIGKILL is logged by signal name and restarted
 * after the backoff; exit 0 is not restarted; a FRAME_ERROR FAILED or
 * repeated crashes report the table failed while retryable errors do
 * not; max_workers and priorities decide who starts; a stop escalates
 * to SIGKILL; no descriptor leaks into a worker.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "supervisor.h"
#include "child_peer.h"

#define MAX_CHILDREN 8

/* What the callbacks saw. */
struct seen {
	int hellos[MAX_CHILDREN];
	int ends[MAX_CHILDREN];
	int exits[MAX_CHILDREN];
	int failed[MAX_CHILDREN];
	char reason[MAX_CHILDREN][256];
	size_t max_running; /* most workers alive at once */
};

static char self[PATH_MAX];
static struct event_base *base;
static struct child_table *tbl;
static struct seen seen;
static FILE *logfp;

static void setup(void);
static void teardown(void);
static int slot(struct child *);
static void dispatch_cb(struct child *, const struct frame *, void *);
static void failed_cb(struct child *, const char *, void *);
static void exited_cb(struct child *, void *);
static void make_table(int, int, int);
static int64_t now_ms(void);
static void tick_cb(int, short, void *);
static int run_until(int (*)(void *), void *, int);
static int hellos_at_least(void *);
static int state_is(void *);
static int failed_one(void *);
static char *log_text(void);

/* Table ids are behaviour * 100 + slot: slot is the index in seen. */
static int
slot(struct child *c)
{
	return (child_id(c) % 100);
}

static void
dispatch_cb(struct child *c, const struct frame *f, void *arg)
{
	if (f == NULL)
		seen.ends[slot(c)]++;
	else if (f->hdr.type == FRAME_HELLO)
		seen.hellos[slot(c)]++;
}

static void
failed_cb(struct child *c, const char *reason, void *arg)
{
	seen.failed[slot(c)]++;
	snprintf(seen.reason[slot(c)], sizeof(seen.reason[0]), "%s", reason);
}

static void
exited_cb(struct child *c, void *arg)
{
	seen.exits[slot(c)]++;
}

/* A loop, a log captured in a file, and a table with these knobs. */
static void
setup(void)
{
	memset(&seen, 0, sizeof(seen));
	log_init("check_child", LOG_LEVEL_INFO, 0);
	logfp = tmpfile();
	ck_assert_ptr_nonnull(logfp);
	log_setstream(logfp);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	tbl = NULL;
}

static void
teardown(void)
{
	child_table_free(tbl);
	event_base_free(base);
	log_setstream(NULL);
	fclose(logfp);
}

/* The table under test. */
static void
make_table(int max_workers, int backoff_min_ms, int max_failures)
{
	struct child_params p;
	struct child_cb cb = { dispatch_cb, failed_cb, exited_cb, NULL };

	memset(&p, 0, sizeof(p));
	p.exec_path = self;
	p.config_path = "/nonexistent/config.json";
	p.max_workers = max_workers;
	p.backoff_min_ms = backoff_min_ms;
	p.max_failures = max_failures;
	p.stop_timeout_ms = 300;
	tbl = child_table_create(base, &p, &cb);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wake the loop up now and then, so run_until() checks its clock. */
static void
tick_cb(int fd, short events, void *arg)
{
}

/* Run the loop until pred(arg) or timeout_ms; returns pred's value. */
static int
run_until(int (*pred)(void *), void *arg, int timeout_ms)
{
	struct timeval tick = { 0, 10000 };
	struct event *ev;
	int64_t end = now_ms() + timeout_ms;
	size_t running;

	ev = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(ev, &tick);
	while (!pred(arg) && now_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE);
		running = child_running(tbl);
		if (running > seen.max_running)
			seen.max_running = running;
	}
	event_free(ev);
	return (pred(arg));
}

/* Predicates: arg points to {slot, n} or to a child and a state. */
struct want {
	struct child *c;
	int n;
	enum child_state state;
};

static int
hellos_at_least(void *arg)
{
	struct want *w = arg;

	return (seen.hellos[slot(w->c)] >= w->n);
}

static int
state_is(void *arg)
{
	struct want *w = arg;

	return (child_state(w->c) == w->state && child_pid(w->c) == 0);
}

static int
failed_one(void *arg)
{
	struct want *w = arg;

	return (seen.failed[slot(w->c)] != 0);
}

/* Everything logged so far (caller frees). */
static char *
log_text(void)
{
	long len;
	char *buf;

	fflush(logfp);
	len = ftell(logfp);
	buf = xcalloc(1, len + 1);
	rewind(logfp);
	ck_assert_int_eq(fread(buf, 1, len, logfp), len);
	fseek(logfp, 0, SEEK_END);
	return (buf);
}

/*
 * A worker says HELLO (so its descriptors were as promised: a leaked
 * one makes it exit first); FRAME_STOP makes it exit 0, not restarted.
 */
START_TEST(test_hello_and_stop)
{
	struct want w;
	char *text;
	int leak;

	leak = open("/dev/null", O_RDONLY); /* not close-on-exec */
	ck_assert_int_ge(leak, 4);
	make_table(0, 0, 0);
	w.c = child_add(tbl, "dbo.orders", PEER_OK * 100 + 0, 0);
	ck_assert_int_eq(child_schedule(tbl), 1);
	ck_assert_int_eq(child_state(w.c), CHILD_RUNNING);
	ck_assert_int_gt(child_pid(w.c), 0);
	w.n = 1;
	ck_assert(run_until(hellos_at_least, &w, 10000));
	ck_assert_ptr_nonnull(child_peer(w.c));
	child_shutdown(tbl);
	w.state = CHILD_DONE;
	ck_assert(run_until(state_is, &w, 10000));
	ck_assert_int_eq(seen.exits[0], 1);
	ck_assert_int_eq(seen.ends[0], 1);
	ck_assert_uint_eq(child_restarts(w.c), 0);
	text = log_text();
	ck_assert_ptr_nonnull(strstr(text, "worker dbo.orders (pid "));
	ck_assert_ptr_nonnull(strstr(text, ") exited with code 0"));
	free(text);
	close(leak);
}
END_TEST

/* kill -9: logged with the signal's name, restarted after 1 s. */
START_TEST(test_kill9_restart)
{
	struct want w;
	char *text, line[128];
	pid_t first;
	int64_t t0, waited;

	make_table(0, 0, 0);
	w.c = child_add(tbl, "dbo.orders", PEER_OK * 100 + 0, 0);
	child_schedule(tbl);
	w.n = 1;
	ck_assert(run_until(hellos_at_least, &w, 10000));
	first = child_pid(w.c);
	ck_assert_int_eq(kill(first, SIGKILL), 0);
	t0 = now_ms();
	w.n = 2;
	ck_assert(run_until(hellos_at_least, &w, 10000));
	waited = now_ms() - t0;
	ck_assert_int_ge(waited, 900);
	ck_assert_int_lt(waited, 5000);
	ck_assert_int_ne(child_pid(w.c), first);
	ck_assert_int_eq(child_state(w.c), CHILD_RUNNING);
	ck_assert_uint_eq(child_restarts(w.c), 1);
	text = log_text();
	snprintf(line, sizeof(line),
	    "worker dbo.orders (pid %ld) terminated by signal 9: SIGKILL",
	    (long)first);
	ck_assert_msg(strstr(text, line) != NULL, "log: %s", text);
	ck_assert_ptr_nonnull(strstr(text, "restarting in 1.000 s"));
	free(text);
	ck_assert_int_eq(seen.failed[0], 0);
}
END_TEST

/* Exit 0 means stopped on purpose: no restart. */
START_TEST(test_exit0)
{
	struct want w;

	make_table(0, 50, 0);
	w.c = child_add(tbl, "dbo.done", PEER_EXIT0 * 100 + 1, 0);
	child_schedule(tbl);
	w.state = CHILD_DONE;
	ck_assert(run_until(state_is, &w, 10000));
	w.n = 99;
	run_until(hellos_at_least, &w, 300); /* time for a wrong restart */
	ck_assert_int_eq(child_state(w.c), CHILD_DONE);
	ck_assert_int_eq(seen.hellos[1], 1);
	ck_assert_int_eq(seen.exits[1], 1);
	ck_assert_uint_eq(child_restarts(w.c), 0);
}
END_TEST

/*
 * reset TABLE: a done or failed child is started again by
 * child_restart() and the next child_schedule(), without counting a
 * restart.
 */
START_TEST(test_restart)
{
	struct want w, f;

	make_table(0, 50, 0);
	w.c = child_add(tbl, "dbo.done", PEER_EXIT0 * 100 + 1, 0);
	f.c = child_add(tbl, "dbo.nokey", PEER_FAILED * 100 + 2, 0);
	child_schedule(tbl);
	w.state = CHILD_DONE;
	ck_assert(run_until(state_is, &w, 10000));
	ck_assert(run_until(failed_one, &f, 10000));
	f.state = CHILD_FAILED;
	ck_assert(run_until(state_is, &f, 1000));
	child_restart(w.c);
	child_restart(f.c);
	ck_assert_int_eq(child_state(w.c), CHILD_WAITING);
	ck_assert_int_eq(child_schedule(tbl), 2);
	w.n = f.n = 2;
	ck_assert(run_until(hellos_at_least, &w, 10000));
	ck_assert(run_until(hellos_at_least, &f, 10000));
	ck_assert(run_until(state_is, &w, 10000));
	ck_assert_uint_eq(child_restarts(w.c), 0);
}
END_TEST

/* FRAME_ERROR FAILED: failed at once, with the worker's reason. */
START_TEST(test_error_failed)
{
	struct want w;

	make_table(0, 50, 0);
	w.c = child_add(tbl, "dbo.nokey", PEER_FAILED * 100 + 2, 0);
	child_schedule(tbl);
	ck_assert(run_until(failed_one, &w, 10000));
	ck_assert_str_eq(seen.reason[2], "no primary key");
	w.state = CHILD_FAILED;
	ck_assert(run_until(state_is, &w, 1000));
	w.n = 99;
	run_until(hellos_at_least, &w, 300);
	ck_assert_int_eq(seen.hellos[2], 1);
	ck_assert_int_eq(child_state(w.c), CHILD_FAILED);
}
END_TEST

/* Crashing max_failures times in a row marks the table failed. */
START_TEST(test_repeated_crash)
{
	struct want w;
	char *text;

	make_table(0, 20, 3);
	w.c = child_add(tbl, "dbo.crash", PEER_CRASH * 100 + 3, 0);
	child_schedule(tbl);
	ck_assert(run_until(failed_one, &w, 10000));
	ck_assert_int_eq(seen.hellos[3], 3);
	ck_assert_int_eq(seen.exits[3], 3);
	ck_assert_ptr_nonnull(strstr(seen.reason[3], "3 times in a row"));
	ck_assert_ptr_nonnull(strstr(seen.reason[3], "exited with code 2"));
	ck_assert_int_eq(child_state(w.c), CHILD_FAILED);
	text = log_text();
	ck_assert_ptr_nonnull(strstr(text, "restarting in 0.040 s"));
	free(text);
}
END_TEST

/* A retryable error backs off but never fails the table. */
START_TEST(test_retryable)
{
	struct want w;

	make_table(0, 10, 2);
	w.c = child_add(tbl, "dbo.retry", PEER_RETRY * 100 + 4, 0);
	child_schedule(tbl);
	w.n = 5;
	ck_assert(run_until(hellos_at_least, &w, 10000));
	ck_assert_int_eq(seen.failed[4], 0);
	ck_assert_uint_ge(child_restarts(w.c), 4);
}
END_TEST

/*
 * max_workers = 2 over five bindings: never more than two alive, and
 * they start by priority, ties in the order added.
 */
START_TEST(test_priority)
{
	static const int prio[5] = { 0, 5, 5, 9, 1 };
	static const char *want[5] = { "t3", "t1", "t2", "t4", "t0" };
	struct child *c[5];
	struct want w;
	char *text, *p, name[16];
	int i;

	make_table(2, 0, 0);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		c[i] = child_add(tbl, name, PEER_EXIT0 * 100 + i, prio[i]);
	}
	ck_assert_int_eq(child_schedule(tbl), 2);
	ck_assert_int_eq(child_state(c[3]), CHILD_RUNNING);
	ck_assert_int_eq(child_state(c[1]), CHILD_RUNNING);
	ck_assert_int_eq(child_state(c[2]), CHILD_WAITING);
	w.state = CHILD_DONE;
	for (i = 0; i < 5; i++) {
		w.c = c[i];
		ck_assert(run_until(state_is, &w, 20000));
	}
	ck_assert_uint_le(seen.max_running, 2);
	text = log_text();
	p = text;
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "worker %s (pid", want[i]);
		p = strstr(p, name);
		ck_assert_msg(
		    p != NULL, "%s not started in order: %s", want[i], text);
		p += strlen(name);
	}
	free(text);
}
END_TEST

/* Releasing a slot lets the next binding start. */
START_TEST(test_release_slot)
{
	struct child *a, *b;
	struct want w;

	make_table(1, 0, 0);
	a = child_add(tbl, "a", PEER_OK * 100 + 0, 1);
	b = child_add(tbl, "b", PEER_OK * 100 + 1, 0);
	ck_assert_int_eq(child_schedule(tbl), 1);
	ck_assert_int_eq(child_state(b), CHILD_WAITING);
	child_release_slot(a);
	ck_assert_int_eq(child_state(b), CHILD_RUNNING);
	w.c = b;
	w.n = 1;
	ck_assert(run_until(hellos_at_least, &w, 10000));
}
END_TEST

/* A HELLO naming another binding: the worker is cut off and killed. */
START_TEST(test_bad_hello)
{
	struct want w;
	char *text;

	make_table(0, 5000, 0);
	w.c = child_add(tbl, "dbo.liar", PEER_BAD_HELLO * 100 + 5, 0);
	child_schedule(tbl);
	w.state = CHILD_BACKOFF;
	ck_assert(run_until(state_is, &w, 10000));
	ck_assert_int_eq(seen.hellos[5], 0);
	ck_assert_int_eq(seen.ends[5], 1);
	text = log_text();
	ck_assert_ptr_nonnull(strstr(text, "bad hello"));
	ck_assert_ptr_nonnull(strstr(text, "signal 15: SIGTERM"));
	free(text);
}
END_TEST

/* A worker ignoring FRAME_STOP is killed after the stop timeout. */
START_TEST(test_stop_timeout)
{
	struct want w;
	char *text;

	make_table(0, 0, 0);
	w.c = child_add(tbl, "dbo.deaf", PEER_DEAF * 100 + 6, 0);
	child_schedule(tbl);
	w.n = 1;
	ck_assert(run_until(hellos_at_least, &w, 10000));
	child_shutdown(tbl);
	w.state = CHILD_DONE;
	ck_assert(run_until(state_is, &w, 10000));
	text = log_text();
	ck_assert_ptr_nonnull(strstr(text, "still running, killing"));
	ck_assert_ptr_nonnull(strstr(text, "terminated by signal 9: SIGKILL"));
	free(text);
	ck_assert_uint_eq(child_restarts(w.c), 0);
}
END_TEST

/* Exit statuses read the way the log writes them. */
START_TEST(test_describe)
{
	char *s;

	s = child_exit_describe(3 << 8);
	ck_assert_str_eq(s, "exited with code 3");
	free(s);
	ck_assert_str_eq(child_signal_name(SIGSEGV), "SIGSEGV");
	ck_assert_str_eq(child_signal_name(SIGTERM), "SIGTERM");
	ck_assert_str_eq(child_state_name(CHILD_BACKOFF), "backoff");
}
END_TEST

static Suite *
child_suite(void)
{
	Suite *s = suite_create("child");
	TCase *tc = tcase_create("child");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hello_and_stop);
	tcase_add_test(tc, test_kill9_restart);
	tcase_add_test(tc, test_exit0);
	tcase_add_test(tc, test_error_failed);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_repeated_crash);
	tcase_add_test(tc, test_retryable);
	tcase_add_test(tc, test_priority);
	tcase_add_test(tc, test_release_slot);
	tcase_add_test(tc, test_bad_hello);
	tcase_add_test(tc, test_stop_timeout);
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc > 1 && strcmp(argv[1], "-P") == 0)
		return (child_peer_main(argc, argv));
	if (realpath(argv[0], self) == NULL) {
		perror(argv[0]);
		return (EXIT_FAILURE);
	}
	sr = srunner_create(child_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
