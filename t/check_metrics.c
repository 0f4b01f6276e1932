/*
 * Unit tests for supervisor/metrics.c and supervisor/progress.c: the
 * text a Prometheus server and an operator read.
 *
 * The exposition text is checked line by line the way a scraper reads
 * it: every line a HELP, a TYPE or a sample "name{labels} value"; the
 * TYPE of a family before its first sample; label values escaped (a
 * table name may hold a quote or a backslash: SQL Server allows both
 * in bracketed names).  Events must count only once committed.  The
 * HTTP side is tested against the real daemon by t/run_metrics.sh.
 */

#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "supervisor.h"

static struct metrics *m;

static void setup(void);
static void teardown(void);
static char *render(int64_t);
static char *health(int *);
static void assert_has(const char *, const char *);
static void assert_lacks(const char *, const char *);
static void assert_well_formed(const char *);

/* A metrics set with two tables, as the supervisor registers them. */
static void
setup(void)
{
	m = metrics_create();
	metrics_table_add(m, 0, "dbo.orders", FRAME_PHASE_BACKFILL, 0);
	metrics_table_add(m, 1, "we\"ird\\name", FRAME_PHASE_STREAMING, 0);
}

/* Free it. */
static void
teardown(void)
{
	metrics_free(m);
	m = NULL;
}

/* The exposition text at now_ms (allocated). */
static char *
render(int64_t now_ms)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *s;

	ck_assert_ptr_nonnull(b);
	metrics_render(m, now_ms, b);
	len = evbuffer_get_length(b);
	s = xmalloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	assert_well_formed(s);
	return (s);
}

/* The /healthz body and status (allocated). */
static char *
health(int *code)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *s;

	*code = metrics_render_health(m, b);
	len = evbuffer_get_length(b);
	s = xmalloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	return (s);
}

/* text must contain this line, exactly. */
static void
assert_has(const char *text, const char *line)
{
	const char *p = text;
	size_t len = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return;
		p++;
	}
	ck_abort_msg("missing line:\n%s\nin:\n%s", line, text);
}

/* text must not contain this string. */
static void
assert_lacks(const char *text, const char *what)
{
	if (strstr(text, what) != NULL)
		ck_abort_msg("unexpected %s in:\n%s", what, text);
}

/*
 * Every line a comment or "name{labels} value"; TYPE once per family,
 * before its samples.
 */
static void
assert_well_formed(const char *text)
{
	static const char *sample =
	    "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
	    "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\"\\\\n])*\""
	    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\"\\\\n])*\")*\\})?"
	    " (-?[0-9]+(\\.[0-9]+)?|NaN|[+-]Inf)$";
	static const char *comment = "^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)"
				     " (.+)$";
	char *copy = xstrdup(text), *line, *cp = copy, name[128];
	char typed[64][128];
	size_t ntyped = 0, i, len;
	regmatch_t mt[3];
	regex_t rs, rc;
	int found;

	ck_assert_int_eq(regcomp(&rs, sample, REG_EXTENDED), 0);
	ck_assert_int_eq(regcomp(&rc, comment, REG_EXTENDED), 0);
	ck_assert_msg(strlen(text) > 0 && text[strlen(text) - 1] == '\n',
	    "does not end with a newline");
	while ((line = strsep(&cp, "\n")) != NULL) {
		if (*line == '\0' && cp == NULL)
			break;
		if (regexec(&rc, line, 3, mt, 0) == 0) {
			if (strncmp(line, "# TYPE", 6) != 0)
				continue;
			len = mt[2].rm_eo - mt[2].rm_so;
			ck_assert_uint_lt(len, sizeof(name));
			ck_assert_uint_lt(ntyped, 64);
			memcpy(typed[ntyped], line + mt[2].rm_so, len);
			typed[ntyped++][len] = '\0';
			continue;
		}
		ck_assert_msg(regexec(&rs, line, 3, mt, 0) == 0,
		    "not a sample line: \"%s\"", line);
		len = mt[1].rm_eo - mt[1].rm_so;
		memcpy(name, line, len);
		name[len] = '\0';
		for (i = 0, found = 0; i < ntyped; i++)
			found |= strcmp(typed[i], name) == 0;
		ck_assert_msg(found, "sample of %s before its TYPE", name);
	}
	for (i = 0; i < ntyped; i++) {
		for (len = i + 1; len < ntyped; len++)
			ck_assert_str_ne(typed[i], typed[len]);
	}
	regfree(&rs);
	regfree(&rc);
	free(copy);
}

START_TEST(test_escape_label)
{
	struct evbuffer *b = evbuffer_new();
	char out[64];
	size_t len;

	metrics_escape_label(b, "a\\b\"c\nd\xc3\xa9");
	len = evbuffer_get_length(b);
	ck_assert_uint_lt(len, sizeof(out));
	evbuffer_remove(b, out, len);
	out[len] = '\0';
	ck_assert_str_eq(out, "a\\\\b\\\"c\\nd\xc3\xa9");
	evbuffer_free(b);
}
END_TEST

START_TEST(test_events_count_at_commit)
{
	char *text;

	metrics_count_event(m, 0, FRAME_OP_CREATE);
	metrics_count_event(m, 0, FRAME_OP_CREATE);
	metrics_count_event(m, 1, FRAME_OP_DELETE);
	text = render(0);
	assert_has(text,
	    "mssql_capture_events_total{table=\"dbo.orders\",op=\"c\"} 0");
	assert_has(text, "mssql_capture_committed_seq 0");
	assert_has(text, "mssql_capture_last_commit_timestamp_seconds 0.000");
	free(text);
	metrics_committed(m, 3);
	metrics_count_event(m, 0, FRAME_OP_UPDATE); /* the next round */
	text = render(0);
	assert_has(text,
	    "mssql_capture_events_total{table=\"dbo.orders\",op=\"c\"} 2");
	assert_has(text,
	    "mssql_capture_events_total{table=\"dbo.orders\",op=\"u\"} 0");
	assert_has(text,
	    "mssql_capture_events_total{table=\"dbo.orders\",op=\"d\"} 0");
	assert_has(text,
	    "mssql_capture_events_total{table=\"we\\\"ird\\\\name\","
	    "op=\"d\"} 1");
	assert_has(text, "mssql_capture_committed_seq 3");
	assert_lacks(text, "mssql_capture_last_commit_timestamp_seconds 0.000");
	free(text);
}
END_TEST

START_TEST(test_tables)
{
	struct frame_progress p = { 1500, 5000, 0 };
	char *text;

	metrics_set_progress(m, 0, &p);
	metrics_set_restarts(m, 0, 2);
	text = render(0);
	assert_has(text, "# TYPE mssql_capture_worker_restarts_total counter");
	assert_has(
	    text, "mssql_capture_backfill_rows{table=\"dbo.orders\"} 1500");
	assert_has(text,
	    "mssql_capture_backfill_rows_estimate{table=\"dbo.orders\"} 5000");
	assert_has(text,
	    "mssql_capture_worker_restarts_total{table=\"dbo.orders\"} 2");
	assert_has(text,
	    "mssql_capture_table_phase{table=\"dbo.orders\","
	    "phase=\"backfill\"} 1");
	assert_has(text,
	    "mssql_capture_table_phase{table=\"dbo.orders\","
	    "phase=\"streaming\"} 0");
	assert_has(text, "mssql_capture_tables 2");
	assert_has(text, "mssql_capture_failed_tables 0");
	assert_lacks(text, "mssql_capture_lag_seconds{");
	free(text);
	metrics_table_remove(m, 1);
	text = render(0);
	assert_has(text, "mssql_capture_tables 1");
	assert_lacks(text, "ird");
	free(text);
}
END_TEST

START_TEST(test_lag)
{
	struct frame_progress p = { 0, 0, 250 };
	int64_t now = clock_now_ms();
	char *text;

	metrics_set_progress(m, 0, &p); /* backfilling: no lag */
	metrics_set_progress(m, 1, &p);
	text = render(now);
	assert_lacks(text, "mssql_capture_lag_seconds{table=\"dbo.orders\"}");
	assert_has(text,
	    "mssql_capture_lag_seconds{table=\"we\\\"ird\\\\name\"} 0.250");
	free(text);
	/* No report for too long: the lag grows with the silence. */
	text = render(now + METRICS_LAG_STALE_MS + 1000);
	assert_has(text,
	    "mssql_capture_lag_seconds{table=\"we\\\"ird\\\\name\"} 16.250");
	free(text);
	metrics_set_phase(m, 0, FRAME_PHASE_STREAMING);
	metrics_set_progress(m, 0, &p);
	text = render(now);
	assert_has(
	    text, "mssql_capture_lag_seconds{table=\"dbo.orders\"} 0.250");
	free(text);
}
END_TEST

START_TEST(test_failed_health)
{
	char *text;
	int code;

	text = health(&code);
	ck_assert_int_eq(code, 200);
	ck_assert_str_eq(text, "ok\n");
	free(text);
	metrics_set_failed(m, 0, "the table has no primary key");
	metrics_set_phase(m, 0, FRAME_PHASE_DONE); /* failed sticks */
	text = health(&code);
	ck_assert_int_eq(code, 503);
	ck_assert_str_eq(
	    text, "failed: dbo.orders: the table has no primary key\n");
	free(text);
	text = render(0);
	assert_has(text, "mssql_capture_failed_tables 1");
	assert_has(text,
	    "mssql_capture_table_phase{table=\"dbo.orders\","
	    "phase=\"failed\"} 1");
	free(text);
	/* reset TABLE: healthy again, backfilling. */
	metrics_clear_failed(m, 0, FRAME_PHASE_BACKFILL);
	text = health(&code);
	ck_assert_int_eq(code, 200);
	free(text);
	text = render(0);
	assert_has(text, "mssql_capture_failed_tables 0");
	assert_has(text,
	    "mssql_capture_table_phase{table=\"dbo.orders\","
	    "phase=\"backfill\"} 1");
	free(text);
	metrics_set_failed(m, 0, "again");
	/* A removed table no longer counts. */
	metrics_table_remove(m, 0);
	text = health(&code);
	ck_assert_int_eq(code, 200);
	free(text);
}
END_TEST

START_TEST(test_progress_line)
{
	struct frame_progress p = { 1000, 5000, 0 }, s = { 0, 0, 300 };
	struct progress *pr = progress_create(NULL, m);
	int64_t now = clock_now_ms(), t0;
	char line[512];

	metrics_set_progress(m, 0, &p);
	metrics_set_progress(m, 1, &s);
	t0 = m->tables[0].progress_at_ms;
	progress_format(pr, now, line, sizeof(line));
	ck_assert_str_eq(line,
	    "progress: dbo.orders backfill 1000/5000 rows (20%); "
	    "we\"ird\\name streaming, lag 0.3s");
	p.rows_done = 3000; /* 2000 rows in 2 s, by the worker's reports */
	metrics_set_progress(m, 0, &p);
	m->tables[0].progress_at_ms = t0 + 2000;
	progress_format(pr, t0 + 2000, line, sizeof(line));
	ck_assert_str_eq(line,
	    "progress: dbo.orders backfill 3000/5000 rows (60%), "
	    "1000 rows/s, ETA 2s; we\"ird\\name streaming, lag 0.3s");
	/* A second later, no report: the ETA goes down all the same. */
	progress_format(pr, t0 + 3000, line, sizeof(line));
	ck_assert_str_eq(line,
	    "progress: dbo.orders backfill 3000/5000 rows (60%), "
	    "1000 rows/s, ETA 1s; we\"ird\\name streaming, lag 0.3s");
	metrics_set_failed(m, 1, "dropped");
	progress_format(pr, now + 2000, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "; we\"ird\\name failed"));
	progress_free(pr);
}
END_TEST

START_TEST(test_progress_many_streaming)
{
	struct frame_progress s = { 0, 0, 100 };
	struct progress *pr;
	char line[512], name[32];
	uint32_t i;

	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "dbo.t%u", i);
		metrics_table_add(m, i, name, FRAME_PHASE_STREAMING, 0);
		s.lag_ms = 100 * (i + 1);
		metrics_set_progress(m, i, &s);
	}
	pr = progress_create(NULL, m);
	progress_format(pr, clock_now_ms(), line, sizeof(line));
	ck_assert_str_eq(
	    line, "progress: 6 tables streaming, max lag 0.6s (dbo.t5)");
	progress_free(pr);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_escape_label);
	tcase_add_test(tc, test_events_count_at_commit);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_lag);
	tcase_add_test(tc, test_failed_health);
	tcase_add_test(tc, test_progress_line);
	tcase_add_test(tc, test_progress_many_streaming);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
