/*
 * Unit tests for common/log.c.
 *
 * What matters in the logger is what callers rely on without looking:
 * every line carries the process prefix, the threshold drops lines
 * above it, errno survives a log call (so "log_warn(); return (-1);"
 * keeps the caller's errno), log_warn appends strerror, and the fatal
 * pair exits 1.  Lines are captured with log_setstream() on a tmpfile.
 */

#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static FILE *stream;

static void setup(void);
static void teardown(void);
static char *captured(void);

/* Log to a fresh tmpfile at the info level. */
static void
setup(void)
{
	stream = tmpfile();
	ck_assert_ptr_nonnull(stream);
	log_init("test", LOG_LEVEL_INFO, 0);
	log_setstream(stream);
}

/* Back to stderr. */
static void
teardown(void)
{
	log_setstream(NULL);
	fclose(stream);
}

/* Everything logged so far (allocated). */
static char *
captured(void)
{
	long len;
	char *buf;

	fflush(stream);
	len = ftell(stream);
	ck_assert_int_ge(len, 0);
	buf = xcalloc(1, len + 1);
	rewind(stream);
	ck_assert_uint_eq(fread(buf, 1, len, stream), (size_t)len);
	return (buf);
}

START_TEST(test_prefix)
{
	char *out;

	log_info("hello %d", 42);
	log_setname("worker dbo.orders");
	ck_assert_str_eq(log_getname(), "worker dbo.orders");
	log_warnx("lost %s", "connection");
	out = captured();
	ck_assert_str_eq(out,
	    "test: hello 42\n"
	    "worker dbo.orders: lost connection\n");
	free(out);
}
END_TEST

START_TEST(test_long_name)
{
	char name[300];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	log_setname(name);
	ck_assert_uint_eq(strlen(log_getname()), 127); /* truncated */
	ck_assert_int_eq(strncmp(log_getname(), name, 127), 0);
}
END_TEST

START_TEST(test_level_filter)
{
	char *out;

	log_debug("hidden");
	log_info("shown");
	log_setlevel(LOG_LEVEL_WARN);
	log_info("hidden too");
	log_warnx("warned");
	log_setlevel(LOG_LEVEL_DEBUG);
	log_debug("debug now");
	log_at(LOG_LEVEL_INFO, "at %s", "info");
	out = captured();
	ck_assert_str_eq(out,
	    "test: shown\n"
	    "test: warned\n"
	    "test: debug now\n"
	    "test: at info\n");
	free(out);
}
END_TEST

START_TEST(test_warn_strerror)
{
	char *out, *want;

	errno = ENOENT;
	log_warn("open %s", "x.db");
	out = captured();
	xasprintf(&want, "test: open x.db: %s\n", strerror(ENOENT));
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
}
END_TEST

START_TEST(test_errno_preserved)
{
	errno = EBADF;
	log_info("printed");
	ck_assert_int_eq(errno, EBADF);
	log_debug("filtered");
	ck_assert_int_eq(errno, EBADF);
	log_warn("with strerror");
	ck_assert_int_eq(errno, EBADF);
	log_warnx("without");
	ck_assert_int_eq(errno, EBADF);

	/* Even when the stream itself fails. */
	log_setstream(stdin);
	errno = EPIPE;
	log_info("to a read-only stream");
	ck_assert_int_eq(errno, EPIPE);
	log_setstream(stream);
}
END_TEST

START_TEST(test_parse_level)
{
	ck_assert_int_eq(log_parse_level("fatal"), LOG_LEVEL_FATAL);
	ck_assert_int_eq(log_parse_level("warning"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_parse_level("warn"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_parse_level("info"), LOG_LEVEL_INFO);
	ck_assert_int_eq(log_parse_level("debug"), LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_parse_level("DEBUG"), -1);
	ck_assert_int_eq(log_parse_level(""), -1);
	ck_assert_int_eq(log_parse_level("verbose"), -1);
}
END_TEST

START_TEST(test_long_message)
{
	char big[10000], *out;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	out = captured();
	/* Cut to the 8 KiB buffer, but still one whole line. */
	ck_assert_uint_eq(strlen(out), strlen("test: ") + 8191 + 1);
	ck_assert_int_eq(out[strlen(out) - 1], '\n');
	free(out);
}
END_TEST

START_TEST(test_fatalx_exits)
{
	log_setstream(stderr);
	fatalx("broken %s", "invariant");
}
END_TEST

START_TEST(test_fatal_exits)
{
	log_setstream(stderr);
	errno = EIO;
	fatal("cannot continue");
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_prefix);
	tcase_add_test(tc, test_long_name);
	tcase_add_test(tc, test_level_filter);
	tcase_add_test(tc, test_warn_strerror);
	tcase_add_test(tc, test_errno_preserved);
	tcase_add_test(tc, test_parse_level);
	tcase_add_test(tc, test_long_message);
	tcase_add_exit_test(tc, test_fatalx_exits, 1);
	tcase_add_exit_test(tc, test_fatal_exits, 1);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
