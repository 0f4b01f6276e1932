/*
 * Unit tests for common/config.c.
 *
 * The messages are the interface here: an operator reads them to fix a
 * file, so each kind of bad input is checked against the exact text it
 * must produce, and a file with several problems must report all of
 * them.  Each test writes its files into a fresh mkdtemp(3) directory
 * (under $TMPDIR or /tmp) that the fixture removes, and runs with
 * MSSQL_CAPTURE_PASSWORD unset unless it sets it.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static char tmpdir[PATH_MAX];
static struct config *cfg;
static struct config_errors errs;

static void setup(void);
static void teardown(void);
static int remove_entry(const char *, const struct stat *, int, struct FTW *);
static char *tmp_path(const char *);
static char *write_file(const char *, mode_t, const char *);
static struct config *load_text(const char *);
static struct config *load_minimal(const char *);
static struct config *load_address(const char *, const char *);
static char *errors_joined(void);
static void assert_error(const char *, ...) printflike(1, 2);
static void assert_fails(const char *);

/* A fresh directory and no password in the environment. */
static void
setup(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_config.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	unsetenv("MSSQL_CAPTURE_PASSWORD");
	cfg = NULL;
	memset(&errs, 0, sizeof(errs));
}

/* Free what the test loaded and remove its directory. */
static void
teardown(void)
{
	config_free(cfg);
	cfg = NULL;
	config_errors_free(&errs);
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* nftw() callback: remove one file or directory. */
static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

/* A path in the test's directory (allocated). */
static char *
tmp_path(const char *name)
{
	char *path;

	xasprintf(&path, "%s/%s", tmpdir, name);
	return (path);
}

/* Write a file with a mode; returns its path (allocated). */
static char *
write_file(const char *name, mode_t mode, const char *text)
{
	char *path = tmp_path(name);
	FILE *fp;

	fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
	return (path);
}

/* Load a configuration given as text. */
static struct config *
load_text(const char *text)
{
	char *path = write_file("c.json", 0600, text);

	config_free(cfg);
	config_errors_free(&errs);
	cfg = config_load(path, &errs);
	free(path);
	return (cfg);
}

/* Load the minimal valid configuration plus more keys ("" for none). */
static struct config *
load_minimal(const char *more)
{
	return (load_address("db.example.com", more));
}

/* The same with another address. */
static struct config *
load_address(const char *address, const char *more)
{
	char *text;
	struct config *c;

	xasprintf(&text,
	    "{ \"address\": \"%s\", \"database\": \"shop\", "
	    "\"user\": \"cap\", \"password\": \"pw\"%s%s }",
	    address, *more != '\0' ? ", " : "", more);
	c = load_text(text);
	free(text);
	return (c);
}

/* All messages, one per line, for failure reports. */
static char *
errors_joined(void)
{
	char *all = xstrdup(""), *next;
	size_t i;

	for (i = 0; i < errs.n; i++) {
		xasprintf(&next, "%s\n  %s", all, errs.msgs[i]);
		free(all);
		all = next;
	}
	return (all);
}

/* The messages must include this one, exactly. */
static void
assert_error(const char *fmt, ...)
{
	va_list ap;
	char *want, *all;
	size_t i;

	va_start(ap, fmt);
	xvasprintf(&want, fmt, ap);
	va_end(ap);
	for (i = 0; i < errs.n; i++) {
		if (strcmp(errs.msgs[i], want) == 0) {
			free(want);
			return;
		}
	}
	all = errors_joined();
	ck_abort_msg("missing message:\n  %s\ngot %zu:%s", want, errs.n, all);
}

/* Loading must fail with exactly one message, this one. */
static void
assert_fails(const char *want)
{
	char *all;

	ck_assert_ptr_null(cfg);
	if (errs.n != 1 || strcmp(errs.msgs[0], want) != 0) {
		all = errors_joined();
		ck_abort_msg("want only:\n  %s\ngot %zu:%s", want, errs.n, all);
	}
}

START_TEST(test_example_loads)
{
	char dir[PATH_MAX], *want;

	cfg = config_load(TOP_SRCDIR "/etc/mssql-capture.json", &errs);
	if (cfg == NULL)
		ck_abort_msg("example fails:%s", errors_joined());
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_str_eq(cfg->host, "127.0.0.1");
	ck_assert_int_eq(cfg->port, 1433);
	ck_assert_str_eq(cfg->password_source, "password");
	ck_assert_uint_eq(cfg->nbindings, 2);
	ck_assert_str_eq(cfg->bindings[0].stream, "orders");
	ck_assert_int_eq(cfg->bindings[1].mode, CONFIG_MODE_CT);
	ck_assert_str_eq(cfg->bindings[1].exclude[0], "password_hash");
	ck_assert_ptr_null(cfg->bindings[1].exclude[1]);
	ck_assert_int_eq(config_skips_backfill(cfg, "DBO", "Audit_Log"), 1);
	ck_assert_ptr_nonnull(
	    realpath(TOP_SRCDIR "/etc/mssql-capture.json", dir));
	xasprintf(&want, "%s/mssql-capture.state.db", dirname(dir));
	ck_assert_str_eq(cfg->state.path, want);
	free(want);
}
END_TEST

START_TEST(test_defaults)
{
	char *want;

	ck_assert_ptr_nonnull(load_minimal(""));
	ck_assert_str_eq(cfg->address, "db.example.com");
	ck_assert_str_eq(cfg->host, "db.example.com");
	ck_assert_int_eq(cfg->port, 1433);
	ck_assert_str_eq(cfg->database, "shop");
	ck_assert_str_eq(cfg->user, "cap");
	ck_assert_str_eq(cfg->password, "pw");
	ck_assert_ptr_null(cfg->password_file);
	ck_assert_str_eq(cfg->password_source, "password");
	ck_assert_int_eq(cfg->history_mode, 0);
	ck_assert_int_eq(cfg->mode, CONFIG_MODE_AUTO);
	ck_assert_int_eq(cfg->tls.encrypt, CONFIG_ENCRYPT_REQUEST);
	ck_assert_ptr_null(cfg->tls.ca_file);
	ck_assert_int_eq(cfg->tls.trust_server_certificate, 0);
	ck_assert_int_eq(cfg->advanced.discover_tables_without_ct, 0);
	ck_assert_int_eq(cfg->advanced.backfill_chunk_size, 50000);
	ck_assert_ptr_null(cfg->advanced.skip_backfills);
	ck_assert_ptr_null(cfg->advanced.skip);
	ck_assert_ptr_null(cfg->advanced.source_tag);
	ck_assert_int_eq(cfg->advanced.poll_interval_ms, 1000);
	ck_assert_int_eq(cfg->advanced.max_workers, 8);
	ck_assert_int_eq(
	    cfg->advanced.oversized_value_strategy, CONFIG_OVERSIZED_FAIL);
	ck_assert_str_eq(cfg->output.path, "-");
	ck_assert_int_eq(cfg->output.format, CONFIG_FORMAT_JSONL);
	ck_assert_ptr_null(cfg->replica.path);
	want = tmp_path("mssql-capture.state.db");
	ck_assert_str_eq(cfg->state.path, want);
	free(want);
	ck_assert_uint_eq(cfg->nbindings, 0);
	ck_assert_ptr_null(cfg->bindings);
	ck_assert_int_eq(config_skips_backfill(cfg, "dbo", "orders"), 0);
}
END_TEST

START_TEST(test_binding_defaults)
{
	struct config_binding *b;

	ck_assert_ptr_nonnull(
	    load_minimal("\"bindings\": [ "
			 "{ \"namespace\": \"dbo\", "
			 "\"stream\": \"a\" }, "
			 "{ \"namespace\": \"dbo\", "
			 "\"stream\": \"b\", \"mode\": \"ct\", "
			 "\"priority\": -3, \"columns\": "
			 "{ \"include\": [\"x\", \"y\"] } } ], "
			 "\"mode\": \"cdc\""));
	ck_assert_uint_eq(cfg->nbindings, 2);
	b = &cfg->bindings[0];
	ck_assert_int_eq(b->priority, 0);
	ck_assert_int_eq(b->mode, CONFIG_MODE_CDC); /* inherited */
	ck_assert_ptr_null(b->include);
	ck_assert_ptr_null(b->exclude);
	b = &cfg->bindings[1];
	ck_assert_int_eq(b->priority, -3);
	ck_assert_int_eq(b->mode, CONFIG_MODE_CT);
	ck_assert_str_eq(b->include[0], "x");
	ck_assert_str_eq(b->include[1], "y");
	ck_assert_ptr_null(b->include[2]);
}
END_TEST

START_TEST(test_every_key_set)
{
	ck_assert_ptr_nonnull(load_minimal(
	    "\"historyMode\": true, \"mode\": \"cdc\", "
	    "\"tls\": { \"encrypt\": \"require\", "
	    "\"trust_server_certificate\": true }, "
	    "\"advanced\": { \"discover_tables_without_ct\": true, "
	    "\"backfill_chunk_size\": 7, \"source_tag\": \"t\", "
	    "\"poll_interval_ms\": 250, \"max_workers\": 2, "
	    "\"oversized_value_strategy\": \"null\" }, "
	    "\"output\": { \"path\": \"/abs/out.jsonl\", "
	    "\"format\": \"jsonl\" }, "
	    "\"replica\": { \"path\": \"r.db\" }, "
	    "\"state\": { \"path\": null }"));
	ck_assert_int_eq(cfg->history_mode, 1);
	ck_assert_int_eq(cfg->mode, CONFIG_MODE_CDC);
	ck_assert_int_eq(cfg->tls.encrypt, CONFIG_ENCRYPT_REQUIRE);
	ck_assert_int_eq(cfg->tls.trust_server_certificate, 1);
	ck_assert_int_eq(cfg->advanced.discover_tables_without_ct, 1);
	ck_assert_int_eq(cfg->advanced.backfill_chunk_size, 7);
	ck_assert_str_eq(cfg->advanced.source_tag, "t");
	ck_assert_int_eq(cfg->advanced.poll_interval_ms, 250);
	ck_assert_int_eq(cfg->advanced.max_workers, 2);
	ck_assert_int_eq(
	    cfg->advanced.oversized_value_strategy, CONFIG_OVERSIZED_NULL);
	ck_assert_str_eq(cfg->output.path, "/abs/out.jsonl");
	ck_assert_int_eq(cfg->output.format, CONFIG_FORMAT_JSONL);
	ck_assert_ptr_nonnull(strstr(cfg->replica.path, "/r.db"));
	ck_assert_int_eq(cfg->replica.path[0], '/');
	ck_assert_ptr_nonnull(strstr(cfg->state.path,
	    "/mssql-capture.state.db")); /* null: the default */
}
END_TEST

START_TEST(test_syntax_error)
{
	char *path = tmp_path("c.json"), *prefix;

	load_text("{\n  \"address\": \"x\",\n  \"database\": \"d\"\n"
		  "  \"user\": \"u\"\n}\n");
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 1);
	xasprintf(&prefix, "config: %s:4:8: ", path);
	ck_assert_msg(strncmp(errs.msgs[0], prefix, strlen(prefix)) == 0,
	    "got %s, want %s...", errs.msgs[0], prefix);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "expected"));
	free(prefix);
	free(path);
}
END_TEST

START_TEST(test_comments)
{
	char *path = tmp_path("c.json"), *prefix;

	ck_assert_ptr_nonnull(load_text("// a comment\n"
					"# another one\n"
					"{\n"
					"  \"address\": \"db\", // trailing\n"
					"  \"database\": \"d#1\",  # trailing\n"
					"  \"user\": \"u//x\",\n"
					"  \"password\": \"a\\\"#b\"\n"
					"}\n"));
	ck_assert_str_eq(cfg->database, "d#1");
	ck_assert_str_eq(cfg->user, "u//x");
	ck_assert_str_eq(cfg->password, "a\"#b");

	/* A syntax error after comments is still on the right line. */
	load_text("// one\n// two\n{ \"address\": // three\n  ]\n");
	xasprintf(&prefix, "config: %s:4:3: ", path);
	ck_assert_msg(
	    errs.n == 1 && strncmp(errs.msgs[0], prefix, strlen(prefix)) == 0,
	    "got %s, want %s...", errs.n ? errs.msgs[0] : "nothing", prefix);
	free(prefix);
	free(path);
}
END_TEST

START_TEST(test_wrong_type)
{
	load_minimal("\"historyMode\": \"yes\"");
	assert_fails("config: /historyMode: expected true or false, "
		     "got \"yes\"");
	load_minimal("\"advanced\": { \"backfill_chunk_size\": \"abc\" }");
	assert_fails("config: /advanced/backfill_chunk_size: expected a "
		     "positive integer, got \"abc\"");
	load_minimal("\"tls\": [1, 2]");
	assert_fails("config: /tls: expected an object, got [1,2]");
	load_minimal("\"mode\": \"CDC\"");
	assert_fails("config: /mode: expected one of \"auto\", \"ct\", "
		     "\"cdc\", \"batch\", got \"CDC\"");
	load_minimal("\"output\": { \"format\": \"csv\" }");
	assert_fails("config: /output/format: expected one of \"jsonl\", "
		     "\"debezium\", got \"csv\"");
	load_minimal("\"advanced\": { \"max_workers\": 1e3 }");
	assert_fails("config: /advanced/max_workers: expected a positive "
		     "integer, got 1000.0");
	load_minimal("\"bindings\": {}");
	assert_fails("config: /bindings: expected an array of bindings, "
		     "got {}");
	load_text("[]");
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(
	    errs.msgs[0], "expected a JSON object at the top level, got []"));
}
END_TEST

START_TEST(test_unknown_key)
{
	load_minimal("\"advanced\": { \"backfil_chunk_size\": 10 }");
	assert_fails("config: /advanced/backfil_chunk_size: unknown key "
		     "(did you mean \"backfill_chunk_size\"?)");
	load_minimal("\"history_mode\": true");
	assert_fails("config: /history_mode: unknown key (did you mean "
		     "\"historyMode\"?)");
	load_minimal("\"TLS\": {}");
	assert_fails("config: /TLS: unknown key (did you mean \"tls\"?)");
	load_minimal("\"backfill_chunk_size\": 10");
	assert_fails("config: /backfill_chunk_size: unknown key (did you "
		     "mean \"/advanced/backfill_chunk_size\"?)");
	load_minimal("\"frobnicate\": 1");
	assert_fails("config: /frobnicate: unknown key");
	load_minimal("\"bindings\": [ { \"namespace\": \"dbo\", "
		     "\"stream\": \"t\", \"streem\": \"u\" } ]");
	assert_fails("config: /bindings/0/streem: unknown key (did you "
		     "mean \"stream\"?)");
}
END_TEST

START_TEST(test_missing_required)
{
	load_text("{ \"address\": \"db\", \"user\": \"u\", "
		  "\"password\": \"p\" }");
	assert_fails("config: /database: required key is missing");
	load_minimal("\"bindings\": [ { \"namespace\": \"dbo\" } ]");
	assert_fails("config: /bindings/0/stream: required key is missing");
	load_text("{ \"address\": \"db\", \"database\": \"d\", "
		  "\"user\": \"u\" }");
	assert_fails("config: /password: required key is missing (or "
		     "password_file, or MSSQL_CAPTURE_PASSWORD in the "
		     "environment)");
	load_text("{ \"address\": \"db\", \"database\": \"d\", "
		  "\"user\": null, \"password\": \"p\" }");
	assert_fails("config: /user: expected a non-empty string, got null");
}
END_TEST

START_TEST(test_chunk_size)
{
	load_minimal("\"advanced\": { \"backfill_chunk_size\": -5 }");
	assert_fails("config: /advanced/backfill_chunk_size: expected a "
		     "positive integer, got -5");
	load_minimal("\"advanced\": { \"backfill_chunk_size\": 0 }");
	assert_fails("config: /advanced/backfill_chunk_size: expected a "
		     "positive integer, got 0");
	load_minimal("\"advanced\": { \"poll_interval_ms\": 0 }");
	assert_fails("config: /advanced/poll_interval_ms: expected a "
		     "positive integer, got 0");
	load_minimal("\"advanced\": { \"max_workers\": 4294967296 }");
	assert_fails("config: /advanced/max_workers: expected a positive "
		     "integer no larger than 2147483647, got 4294967296");
	ck_assert_ptr_nonnull(load_minimal("\"advanced\": "
					   "{ \"backfill_chunk_size\": 1 }"));
	ck_assert_int_eq(cfg->advanced.backfill_chunk_size, 1);
}
END_TEST

START_TEST(test_address)
{
	ck_assert_ptr_nonnull(load_address("h:1444", ""));
	ck_assert_str_eq(cfg->address, "h:1444");
	ck_assert_str_eq(cfg->host, "h");
	ck_assert_int_eq(cfg->port, 1444);
	ck_assert_ptr_nonnull(load_address("[::1]:65535", ""));
	ck_assert_str_eq(cfg->host, "::1");
	ck_assert_int_eq(cfg->port, 65535);
	ck_assert_ptr_nonnull(load_address("[fe80::1]", ""));
	ck_assert_str_eq(cfg->host, "fe80::1");
	ck_assert_int_eq(cfg->port, 1433);
	ck_assert_ptr_nonnull(load_address("::1", ""));
	ck_assert_str_eq(cfg->host, "::1");
	ck_assert_int_eq(cfg->port, 1433);
	ck_assert_ptr_nonnull(load_address("db-1.example.com:1", ""));
	ck_assert_str_eq(cfg->host, "db-1.example.com");
	ck_assert_int_eq(cfg->port, 1);
}
END_TEST

START_TEST(test_address_bad)
{
	static const char *bad[] = { "h:0", "h:65536", "h:", ":1433", "h:x",
		"[::1", "[::1]:", "[]", "", "h:-1", "[::1]1433", "h:1433 ",
		"h:1:2", "a b" };
	char *want;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		load_address(bad[i], "");
		xasprintf(&want,
		    "config: /address: expected host or "
		    "host:port with a port from 1 to 65535, got \"%s\"",
		    bad[i]);
		assert_fails(want);
		free(want);
	}
}
END_TEST

START_TEST(test_password_file)
{
	char *pw, *text;

	pw = write_file("pw", 0600, "s3cret\n\n");
	xasprintf(&text,
	    "{ \"address\": \"db\", \"database\": \"d\", "
	    "\"user\": \"u\", \"password_file\": \"pw\" }");
	ck_assert_ptr_nonnull(load_text(text));
	ck_assert_str_eq(cfg->password, "s3cret\n"); /* one newline only */
	ck_assert_str_eq(cfg->password_source, "password_file");
	ck_assert_str_eq(cfg->password_file, pw);
	free(pw);
	pw = write_file("pw", 0640, "crlf\r\n");
	ck_assert_ptr_nonnull(load_text(text));
	ck_assert_str_eq(cfg->password, "crlf");
	free(pw);
	free(text);
}
END_TEST

START_TEST(test_password_file_unreadable)
{
	char *pw = tmp_path("missing"), *want;

	load_text("{ \"address\": \"db\", \"database\": \"d\", "
		  "\"user\": \"u\", \"password_file\": \"missing\" }");
	xasprintf(
	    &want, "config: /password_file: %s: %s", pw, strerror(ENOENT));
	assert_fails(want);
	free(want);
	free(pw);
	if (geteuid() == 0)
		return; /* root reads mode 0000 files */
	pw = write_file("locked", 0000, "x\n");
	load_text("{ \"address\": \"db\", \"database\": \"d\", "
		  "\"user\": \"u\", \"password_file\": \"locked\" }");
	xasprintf(
	    &want, "config: /password_file: %s: %s", pw, strerror(EACCES));
	assert_fails(want);
	free(want);
	free(pw);
}
END_TEST

START_TEST(test_password_file_world_readable)
{
	char *pw = write_file("pw", 0644, "x\n"), *want;

	load_text("{ \"address\": \"db\", \"database\": \"d\", "
		  "\"user\": \"u\", \"password_file\": \"pw\" }");
	xasprintf(&want,
	    "config: /password_file: %s is readable by others "
	    "(mode 0644); chmod 600 it",
	    pw);
	assert_fails(want);
	free(want);
	free(pw);
}
END_TEST

START_TEST(test_password_both)
{
	char *pw = write_file("pw", 0600, "x\n");

	load_text("{ \"address\": \"db\", \"database\": \"d\", "
		  "\"user\": \"u\", \"password\": \"p\", "
		  "\"password_file\": \"pw\" }");
	assert_fails("config: /password_file: password and password_file "
		     "are both set; use one");
	free(pw);
}
END_TEST

START_TEST(test_env_override)
{
	ck_assert_int_eq(setenv("MSSQL_CAPTURE_PASSWORD", "from-env", 1), 0);
	ck_assert_ptr_nonnull(load_minimal(""));
	ck_assert_str_eq(cfg->password, "from-env");
	ck_assert_str_eq(cfg->password_source, "MSSQL_CAPTURE_PASSWORD");

	/* The file is not read, so it may be missing. */
	ck_assert_ptr_nonnull(load_text("{ \"address\": \"db\", "
					"\"database\": \"d\", \"user\": \"u\", "
					"\"password_file\": \"absent\" }"));
	ck_assert_str_eq(cfg->password, "from-env");

	/* No password key at all is fine too. */
	ck_assert_ptr_nonnull(
	    load_text("{ \"address\": \"db\", "
		      "\"database\": \"d\", \"user\": \"u\" }"));
	ck_assert_str_eq(cfg->password_source, "MSSQL_CAPTURE_PASSWORD");

	/* Empty is unset. */
	ck_assert_int_eq(setenv("MSSQL_CAPTURE_PASSWORD", "", 1), 0);
	ck_assert_ptr_nonnull(load_minimal(""));
	ck_assert_str_eq(cfg->password, "pw");
}
END_TEST

START_TEST(test_duplicate_binding)
{
	load_minimal("\"bindings\": ["
		     "{ \"namespace\": \"dbo\", \"stream\": \"a\" },"
		     "{ \"namespace\": \"dbo\", \"stream\": \"orders\" },"
		     "{ \"namespace\": \"sales\", \"stream\": \"orders\" },"
		     "{ \"namespace\": \"DBO\", \"stream\": \"Orders\" } ]");
	assert_fails("config: /bindings/3: duplicate binding DBO.Orders "
		     "(also /bindings/1)");
}
END_TEST

/* Known but unimplemented values are refused, not silently ignored. */
START_TEST(test_unimplemented)
{
	load_minimal("\"output\": { \"format\": \"debezium\" }");
	assert_fails("config: /output/format: \"debezium\" is not "
		     "implemented yet; use \"jsonl\"");
	config_errors_free(&errs);
	load_minimal("\"bindings\": [ { \"namespace\": \"dbo\", "
		     "\"stream\": \"a\", \"mode\": \"batch\" } ]");
	assert_fails("config: /bindings/0/mode: \"batch\" is not "
		     "implemented yet; use \"auto\", \"ct\" or \"cdc\"");
}
END_TEST

START_TEST(test_columns_both)
{
	load_minimal("\"bindings\": [ { \"namespace\": \"dbo\", "
		     "\"stream\": \"a\", \"columns\": { \"include\": [\"x\"], "
		     "\"exclude\": [\"y\"] } } ]");
	assert_fails("config: /bindings/0/columns: include and exclude are "
		     "both set; use one");
	load_minimal("\"bindings\": [ { \"namespace\": \"dbo\", "
		     "\"stream\": \"a\", \"columns\": { \"include\": [] } } ]");
	assert_fails("config: /bindings/0/columns/include: expected a "
		     "non-empty array of names, got []");
	load_minimal("\"bindings\": [ { \"namespace\": \"dbo\", "
		     "\"stream\": \"a\", \"columns\": { \"exclude\": "
		     "[\"x\", 3] } } ]");
	assert_fails("config: /bindings/0/columns/exclude/1: expected a "
		     "non-empty string, got 3");
}
END_TEST

START_TEST(test_skip_backfills)
{
	ck_assert_ptr_nonnull(
	    load_minimal("\"advanced\": { "
			 "\"skip_backfills\": "
			 "\" dbo.a ,Sales.Order History,\" }"));
	ck_assert_str_eq(cfg->advanced.skip[0], "dbo.a");
	ck_assert_str_eq(cfg->advanced.skip[1], "Sales.Order History");
	ck_assert_ptr_null(cfg->advanced.skip[2]);
	ck_assert_int_eq(config_skips_backfill(cfg, "DBO", "A"), 1);
	ck_assert_int_eq(
	    config_skips_backfill(cfg, "sales", "order history"), 1);
	ck_assert_int_eq(config_skips_backfill(cfg, "dbo", "ab"), 0);
	ck_assert_int_eq(config_skips_backfill(cfg, "db", "a"), 0);
	ck_assert_int_eq(config_skips_backfill(cfg, "sales", "a"), 0);

	load_minimal("\"advanced\": { \"skip_backfills\": "
		     "\"dbo.a, orders, a.b.c\" }");
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 2);
	assert_error("config: /advanced/skip_backfills: expected "
		     "schema.table, got \"orders\"");
	assert_error("config: /advanced/skip_backfills: expected "
		     "schema.table, got \"a.b.c\"");
}
END_TEST

START_TEST(test_several_problems)
{
	load_text("{ \"address\": \"db:99999\", \"user\": 5, "
		  "\"password\": \"p\", \"advanced\": { "
		  "\"backfill_chunk_size\": -1, \"max_worker\": 3 } }");
	ck_assert_ptr_null(cfg);
	if (errs.n != 5)
		ck_abort_msg("want 5 messages, got%s", errors_joined());
	/* In file order, missing keys at the end of their object. */
	ck_assert_str_eq(errs.msgs[0],
	    "config: /address: expected host or "
	    "host:port with a port from 1 to 65535, "
	    "got \"db:99999\"");
	ck_assert_str_eq(errs.msgs[1],
	    "config: /user: expected a non-empty "
	    "string, got 5");
	ck_assert_str_eq(errs.msgs[2],
	    "config: /advanced/backfill_chunk_"
	    "size: expected a positive integer, "
	    "got -1");
	ck_assert_str_eq(errs.msgs[3],
	    "config: /advanced/max_worker: "
	    "unknown key (did you mean "
	    "\"max_workers\"?)");
	ck_assert_str_eq(errs.msgs[4],
	    "config: /database: required key is "
	    "missing");
}
END_TEST

START_TEST(test_unreadable_config)
{
	char *path = tmp_path("nope.json"), *want;

	cfg = config_load(path, &errs);
	xasprintf(&want, "config: %s: %s", path, strerror(ENOENT));
	assert_fails(want);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_ca_file)
{
	char *ca = write_file("ca.pem", 0644, "pem\n"), *want, *missing;

	ck_assert_ptr_nonnull(load_minimal("\"tls\": { \"ca_file\": "
					   "\"ca.pem\" }"));
	ck_assert_str_eq(cfg->tls.ca_file, ca);
	load_minimal("\"tls\": { \"ca_file\": \"other.pem\" }");
	missing = tmp_path("other.pem");
	xasprintf(
	    &want, "config: /tls/ca_file: %s: %s", missing, strerror(ENOENT));
	assert_fails(want);
	free(want);
	free(missing);
	free(ca);
}
END_TEST

START_TEST(test_print)
{
	json_error_t jerr;
	json_t *root;
	FILE *fp;

	ck_assert_ptr_nonnull(load_address("[::1]",
	    "\"bindings\": [ { "
	    "\"namespace\": \"dbo\", \"stream\": \"t\" } ]"));
	ck_assert_ptr_nonnull(fp = tmpfile());
	config_print(cfg, fp);
	rewind(fp);
	root = json_loadf(fp, 0, &jerr);
	ck_assert_msg(root != NULL, "not JSON: %s", jerr.text);
	fclose(fp);
	ck_assert_str_eq(
	    json_string_value(json_object_get(root, "password")), "********");
	ck_assert_str_eq(
	    json_string_value(json_object_get(root, "password_source")),
	    "password");
	ck_assert_str_eq(
	    json_string_value(json_object_get(root, "address")), "[::1]:1433");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(
		json_object_get(root, "advanced"), "backfill_chunk_size")),
	    50000);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(root, "bindings"), 0), "mode")),
	    "auto");
	ck_assert(json_is_null(
	    json_object_get(json_object_get(root, "metrics"), "listen")));
	json_decref(root);
}
END_TEST

START_TEST(test_metrics_listen)
{
	ck_assert_ptr_nonnull(load_minimal(""));
	ck_assert_ptr_null(cfg->metrics.listen);
	ck_assert_ptr_nonnull(
	    load_minimal("\"metrics\": { \"listen\": \"127.0.0.1:9187\" }"));
	ck_assert_str_eq(cfg->metrics.listen, "127.0.0.1:9187");
	ck_assert_str_eq(cfg->metrics.host, "127.0.0.1");
	ck_assert_int_eq(cfg->metrics.port, 9187);
	ck_assert_ptr_nonnull(
	    load_minimal("\"metrics\": { \"listen\": \"[::1]:1\" }"));
	ck_assert_str_eq(cfg->metrics.host, "::1");
	ck_assert_int_eq(cfg->metrics.port, 1);
	ck_assert_ptr_nonnull(
	    load_minimal("\"metrics\": { \"listen\": \":65535\" }"));
	ck_assert_str_eq(cfg->metrics.host, "0.0.0.0");
	ck_assert_int_eq(cfg->metrics.port, 65535);
	ck_assert_ptr_nonnull(
	    load_minimal("\"metrics\": { \"listen\": \"localhost:80\" }"));
	ck_assert_str_eq(cfg->metrics.host, "localhost");
	ck_assert_ptr_nonnull(
	    load_minimal("\"metrics\": { \"listen\": null }"));
	ck_assert_ptr_null(cfg->metrics.listen);
}
END_TEST

START_TEST(test_metrics_listen_bad)
{
	static const char *bad[] = { "9187", "127.0.0.1", "h:0", "h:65536",
		"h:", ":", "", "::1:9187", "[::1]", "[::1]:", "[h]:80", "[]:80",
		"h:80 ", "a b:80", "h:x", "h:1:2" };
	char *more, *want;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xasprintf(&more, "\"metrics\": { \"listen\": \"%s\" }", bad[i]);
		load_minimal(more);
		xasprintf(&want,
		    "config: /metrics/listen: expected host:port, "
		    "[ipv6]:port or :port with a port from 1 to 65535, "
		    "got \"%s\"",
		    bad[i]);
		assert_fails(want);
		free(want);
		free(more);
	}
	load_minimal("\"metrics\": { \"listen\": 9187 }");
	assert_fails("config: /metrics/listen: expected host:port, "
		     "[ipv6]:port or :port with a port from 1 to 65535, "
		     "got 9187");
	load_minimal("\"metrics\": { \"lisen\": \":9187\" }");
	assert_fails("config: /metrics/lisen: unknown key (did you mean "
		     "\"listen\"?)");
}
END_TEST

START_TEST(test_mode_name)
{
	ck_assert_str_eq(config_mode_name(CONFIG_MODE_AUTO), "auto");
	ck_assert_str_eq(config_mode_name(CONFIG_MODE_CT), "ct");
	ck_assert_str_eq(config_mode_name(CONFIG_MODE_CDC), "cdc");
	ck_assert_str_eq(config_mode_name(CONFIG_MODE_BATCH), "batch");
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_example_loads);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_binding_defaults);
	tcase_add_test(tc, test_every_key_set);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_wrong_type);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_missing_required);
	tcase_add_test(tc, test_chunk_size);
	tcase_add_test(tc, test_address);
	tcase_add_test(tc, test_address_bad);
	tcase_add_test(tc, test_password_file);
	tcase_add_test(tc, test_password_file_unreadable);
	tcase_add_test(tc, test_password_file_world_readable);
	tcase_add_test(tc, test_password_both);
	tcase_add_test(tc, test_env_override);
	tcase_add_test(tc, test_duplicate_binding);
	tcase_add_test(tc, test_unimplemented);
	tcase_add_test(tc, test_columns_both);
	tcase_add_test(tc, test_skip_backfills);
	tcase_add_test(tc, test_several_problems);
	tcase_add_test(tc, test_unreadable_config);
	tcase_add_test(tc, test_ca_file);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_metrics_listen);
	tcase_add_test(tc, test_metrics_listen_bad);
	tcase_add_test(tc, test_mode_name);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
