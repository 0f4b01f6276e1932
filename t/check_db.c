/*
 * Tests of worker/db.c (and dbvalue.c) against a server.
 *
 * With MSSQL_TEST_ADDRESS (host[:port]), MSSQL_TEST_USER and
 * MSSQL_TEST_PASSWORD set, the tests run against that real SQL Server
 * (MSSQL_TEST_DATABASE, default master); otherwise against the
 * project's simulator, $top_builddir/t/mssqlsim/mssqlsim, started here
 * on a kernel-chosen port with a fresh data directory.  If neither is
 * available the program exits 77 (skipped) before running anything:
 * there is no fake server here.
 *
 * What is pinned: a login works; a wrong password fails with 18456 and
 * an unknown database with 4060 (then 18456), both permanent; every
 * type comes back as the exact frame value proto.h fixes; sp_executesql
 * with typed parameters finds the right rows; an error in the middle of
 * a batch fails it with its number and leaves the connection usable;
 * a connection whose server dies (SIGKILL to a private simulator) and
 * a refused connection are retryable.  Each test uses its own temporary
 * table names, so the tests also pass on a shared real server.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

#define TEST_SA_PASSWORD "Check_db1"

struct sim {
	pid_t pid;
	int port;
	char dir[PATH_MAX];
};

static const char *sim_bin; /* NULL: real server */
static struct sim sim_main;
static char srv_host[256];
static int srv_port;
static const char *srv_user;
static const char *srv_password;
static const char *srv_database;

static int sim_start(struct sim *, const char *, const char *);
static void sim_stop(struct sim *, int);
static void test_config(struct config *, const char *, const char *);
static struct db *test_open(void);
static void expect_row(struct db *, const char *, const struct frame_value *,
    const char *const *, int);
static int value_is(const struct frame_value *, const char *);
static Suite *db_suite(void);
static int parse_address(const char *);
static int tls_login(int, const char *, enum config_encrypt, const char *, int);

/* Start a simulator (with TLS if cert) and read its "port N" line. */
static int
sim_start(struct sim *s, const char *cert, const char *key)
{
	const char *base = getenv("TMPDIR");
	int fds[2];
	FILE *f;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(s->dir, sizeof(s->dir), "%s/check_db.XXXXXX", base);
	if (mkdtemp(s->dir) == NULL || pipe(fds) == -1)
		return (-1);
	if ((s->pid = fork()) == -1)
		return (-1);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (cert != NULL)
			execl(sim_bin, sim_bin, "--listen", "127.0.0.1:0",
			    "--data", s->dir, "--sa-password", TEST_SA_PASSWORD,
			    "--tls-cert", cert, "--tls-key", key, (char *)NULL);
		else
			execl(sim_bin, sim_bin, "--listen", "127.0.0.1:0",
			    "--data", s->dir, "--sa-password", TEST_SA_PASSWORD,
			    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if ((f = fdopen(fds[0], "r")) == NULL)
		return (-1);
	if (fscanf(f, "port %d", &s->port) != 1) {
		fclose(f);
		return (-1);
	}
	fclose(f);
	return (0);
}

/* Stop a simulator with a signal and remove its data. */
static void
sim_stop(struct sim *s, int sig)
{
	char cmd[PATH_MAX + 16];
	int status;

	if (s->pid > 0) {
		kill(s->pid, sig);
		waitpid(s->pid, &status, 0);
		s->pid = 0;
	}
	if (s->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "check_db: cannot remove %s\n", s->dir);
		s->dir[0] = '\0';
	}
}

/* A configuration for the test server. */
static void
test_config(struct config *cfg, const char *password, const char *database)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host = srv_host;
	cfg->port = srv_port;
	cfg->user = (char *)srv_user;
	cfg->password = (char *)password;
	cfg->database = (char *)database;
	cfg->tls.encrypt = CONFIG_ENCRYPT_REQUEST;
}

/* Connect or fail the test. */
static struct db *
test_open(void)
{
	struct config cfg;
	struct db_error err;
	struct db *db;

	test_config(&cfg, srv_password, srv_database);
	db = db_open(&cfg, &err);
	ck_assert_msg(db != NULL, "db_open: %d %s (%s)", err.number, err.text,
	    db_class_name(err.class));
	return (db);
}

/* Whether a STR value holds text. */
static int
value_is(const struct frame_value *v, const char *s)
{
	return (v->type == FRAME_VALUE_STR && v->v.s.len == strlen(s) &&
	    memcmp(v->v.s.ptr, s, v->v.s.len) == 0);
}

/*
 * Run sql, expect exactly one row of n columns: want[i] if its type is
 * not STR, else the text wantstr[i].
 */
static void
expect_row(struct db *db, const char *sql, const struct frame_value *want,
    const char *const *wantstr, int n)
{
	char text[64][DBVALUE_TEXT_MAX];
	struct frame_value v;
	int i, rows = 0;

	ck_assert_msg(db_exec(db, sql) == 0, "%s: %s", sql, db_error(db)->text);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_ncols(db), n);
	while (db_next_row(db) == 1) {
		rows++;
		for (i = 0; i < n; i++) {
			ck_assert_msg(db_value(db, i, &v, text[i]) == 0,
			    "column %d: %s", i + 1, db_error(db)->text);
			ck_assert_msg(v.type == want[i].type,
			    "column %d: type %d, want %d", i + 1, v.type,
			    want[i].type);
			switch (v.type) {
			case FRAME_VALUE_STR:
				ck_assert_msg(value_is(&v, wantstr[i]),
				    "column %d: '%.*s', want '%s'", i + 1,
				    (int)v.v.s.len, (const char *)v.v.s.ptr,
				    wantstr[i]);
				break;
			case FRAME_VALUE_BIN:
				ck_assert_uint_eq(v.v.s.len, want[i].v.s.len);
				ck_assert(memcmp(v.v.s.ptr, want[i].v.s.ptr,
					      v.v.s.len) == 0);
				break;
			case FRAME_VALUE_INT:
				ck_assert_msg(v.v.i == want[i].v.i,
				    "column %d: %lld, want %lld", i + 1,
				    (long long)v.v.i, (long long)want[i].v.i);
				break;
			case FRAME_VALUE_BOOL:
				ck_assert_int_eq(v.v.b, want[i].v.b);
				break;
			case FRAME_VALUE_REAL:
				ck_assert(v.v.real == want[i].v.real);
				break;
			case FRAME_VALUE_FLOAT:
				ck_assert(v.v.flt == want[i].v.flt);
				break;
			default:
				break;
			}
		}
	}
	ck_assert_int_eq(rows, 1);
	ck_assert_msg(db_next_result(db) == 0, "%s", db_error(db)->text);
}

START_TEST(test_login)
{
	struct frame_value want = { .type = FRAME_VALUE_INT, .v.i = 1 };
	struct db *db = test_open();

	expect_row(db, "select 1", &want, NULL, 1);
	want.type = FRAME_VALUE_STR;
	expect_row(db, "select db_name()", &want, &srv_database, 1);
	ck_assert_int_eq(db_dead(db), 0);
	db_close(db);
}
END_TEST

START_TEST(test_bad_password)
{
	struct config cfg;
	struct db_error err;
	int i, saw = 0;

	test_config(&cfg, "not the password", srv_database);
	ck_assert_ptr_null(db_open(&cfg, &err));
	ck_assert_int_eq(err.number, 18456);
	ck_assert_int_eq(err.class, DB_CLASS_PERMANENT);
	for (i = 0; i < err.nnumbers; i++)
		saw |= err.numbers[i] == 18456;
	ck_assert(saw);
	ck_assert_msg(strstr(err.text, "Login failed") != NULL, "%s", err.text);
}
END_TEST

START_TEST(test_unknown_database)
{
	struct config cfg;
	struct db_error err;
	int i, saw = 0;

	test_config(&cfg, srv_password, "no_such_database_check_db");
	ck_assert_ptr_null(db_open(&cfg, &err));
	ck_assert_msg(
	    err.number == 4060, "first error %d: %s", err.number, err.text);
	ck_assert_int_eq(err.class, DB_CLASS_PERMANENT);
	for (i = 0; i < err.nnumbers; i++)
		saw |= err.numbers[i] == 18456;
	ck_assert(saw);
}
END_TEST

/* Every type in a temporary table, back as the exact frame value. */
START_TEST(test_types)
{
	static const char *create =
	    "create table #check_types (id int primary key, c_bit bit, "
	    "c_tiny tinyint, c_small smallint, c_int int, c_big bigint, "
	    "c_real real, c_float float, c_dec38 decimal(38,0), "
	    "c_dec3838 decimal(38,38), c_num numeric(10,2), c_money money, "
	    "c_smallmoney smallmoney, c_datetime datetime, "
	    "c_smalldt smalldatetime, c_dt2 datetime2(7), c_dt20 datetime2(0), "
	    "c_date date, c_time time(7), c_dto datetimeoffset(7), "
	    "c_guid uniqueidentifier, c_char char(5), c_varchar varchar(10), "
	    "c_nvarchar nvarchar(10), c_binary binary(4), "
	    "c_varbinary varbinary(10), c_nvmax nvarchar(max))";
	static const char *insert =
	    "insert into #check_types values (1, 1, 255, -32768, -2147483648, "
	    "-9223372036854775808, 0.5, 0.1, "
	    "'99999999999999999999999999999999999999', "
	    "'0.99999999999999999999999999999999999999', '-12345678.90', "
	    "'-922337203685477.5808', '-214748.3648', "
	    "'2024-01-02T03:04:05.007', '2079-06-06T23:59:00', "
	    "'9999-12-31T23:59:59.9999999', '2024-01-02T03:04:05', "
	    "'0001-01-01', '23:59:59.9999999', "
	    "'2024-01-02T13:30:00.1234567+14:00', "
	    "'6F9619FF-8B86-D011-B42D-00C04FC964FF', 'ab', 'xyz', "
	    "N'h\xe2\x82\xacllo', 0x01020304, 0x0a0b, N'')";
	static const char *const text[] = { NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, "99999999999999999999999999999999999999",
		"0.99999999999999999999999999999999999999", "-12345678.90",
		"-922337203685477.5808", "-214748.3648",
		"2024-01-02T03:04:05.007Z", "2079-06-06T23:59:00Z",
		"9999-12-31T23:59:59.9999999Z", "2024-01-02T03:04:05Z",
		"0001-01-01", "23:59:59.9999999",
		"2024-01-02T13:30:00.1234567+14:00",
		"6F9619FF-8B86-D011-B42D-00C04FC964FF", "ab   ", "xyz",
		"h\xe2\x82\xacllo", NULL, NULL, "" };
	static const uint8_t bin4[] = { 1, 2, 3, 4 }, bin2[] = { 10, 11 };
	struct frame_value want[27];
	struct db *db = test_open();
	int i;

	for (i = 0; i < 27; i++)
		want[i].type = FRAME_VALUE_STR;
	want[0] = (struct frame_value){ .type = FRAME_VALUE_INT, .v.i = 1 };
	want[1] = (struct frame_value){ .type = FRAME_VALUE_BOOL, .v.b = 1 };
	want[2] = (struct frame_value){ .type = FRAME_VALUE_INT, .v.i = 255 };
	want[3] =
	    (struct frame_value){ .type = FRAME_VALUE_INT, .v.i = -32768 };
	want[4] =
	    (struct frame_value){ .type = FRAME_VALUE_INT, .v.i = INT32_MIN };
	want[5] =
	    (struct frame_value){ .type = FRAME_VALUE_INT, .v.i = INT64_MIN };
	want[6] =
	    (struct frame_value){ .type = FRAME_VALUE_REAL, .v.real = 0.5f };
	want[7] =
	    (struct frame_value){ .type = FRAME_VALUE_FLOAT, .v.flt = 0.1 };
	want[24].type = FRAME_VALUE_BIN;
	want[24].v.s.ptr = bin4;
	want[24].v.s.len = 4;
	want[25].type = FRAME_VALUE_BIN;
	want[25].v.s.ptr = bin2;
	want[25].v.s.len = 2;
	ck_assert_msg(db_run(db, create) == 0, "%s", db_error(db)->text);
	ck_assert_msg(db_run(db, insert) == 0, "%s", db_error(db)->text);
	expect_row(db, "select * from #check_types", want, text, 27);
	/* NULLs of every type. */
	ck_assert_msg(
	    db_run(db, "insert into #check_types (id) values (2)") == 0, "%s",
	    db_error(db)->text);
	for (i = 1; i < 27; i++)
		want[i].type = FRAME_VALUE_NULL;
	want[0].v.i = 2;
	expect_row(
	    db, "select * from #check_types where id = 2", want, text, 27);
	db_run(db, "drop table #check_types");
	db_close(db);
}
END_TEST

/* Large and legacy types, rowversion, column information. */
START_TEST(test_types_lob)
{
	static const uint8_t b2[] = { 1, 2 }, b3[] = { 3, 3 };
	char buf[10][DBVALUE_TEXT_MAX];
	struct frame_value v;
	struct db_column col;
	struct db *db = test_open();

	ck_assert_msg(db_run(db,
			  "create table #check_lob (id int primary key, "
			  "a varchar(max), b varbinary(max), c text, d ntext, "
			  "e image, f xml, g rowversion, h nchar(3), "
			  "n numeric(10,2), t datetime2(0))") == 0,
	    "%s", db_error(db)->text);
	ck_assert_msg(
	    db_run(db,
		"insert into #check_lob (id, a, b, c, d, e, f, h, n, t) "
		"values (1, 'aaa', 0x0102, 'ttt', N'n\xc3\xa9', 0x0303, "
		"N'<a>x</a>', N'x', '1.50', '2024-01-02T03:04:05')") == 0,
	    "%s", db_error(db)->text);
	ck_assert_int_eq(db_exec(db, "select * from #check_lob"), 0);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_ncols(db), 11);
	ck_assert_int_eq(db_column(db, 9, &col), 0);
	ck_assert_str_eq(col.name, "n");
	ck_assert_int_eq(col.precision, 10);
	ck_assert_int_eq(col.scale, 2);
	ck_assert_int_eq(db_column(db, 7, &col), 0);
	ck_assert_int_eq(col.usertype, 80); /* timestamp */
	ck_assert_int_eq(db_next_row(db), 1);
	ck_assert_int_eq(db_value(db, 1, &v, buf[1]), 0);
	ck_assert(value_is(&v, "aaa"));
	ck_assert_int_eq(db_value(db, 2, &v, buf[2]), 0);
	ck_assert(v.type == FRAME_VALUE_BIN && v.v.s.len == 2 &&
	    memcmp(v.v.s.ptr, b2, 2) == 0);
	ck_assert_int_eq(db_value(db, 3, &v, buf[3]), 0);
	ck_assert(value_is(&v, "ttt"));
	ck_assert_int_eq(db_value(db, 4, &v, buf[4]), 0);
	ck_assert(value_is(&v, "n\xc3\xa9"));
	ck_assert_int_eq(db_value(db, 5, &v, buf[5]), 0);
	ck_assert(v.type == FRAME_VALUE_BIN && v.v.s.len == 2 &&
	    memcmp(v.v.s.ptr, b3, 2) == 0);
	ck_assert_int_eq(db_value(db, 6, &v, buf[6]), 0);
	ck_assert(value_is(&v, "<a>x</a>"));
	ck_assert_int_eq(db_value(db, 7, &v, buf[7]), 0);
	ck_assert(v.type == FRAME_VALUE_BIN && v.v.s.len == 8);
	ck_assert_int_eq(db_value(db, 8, &v, buf[8]), 0);
	ck_assert(value_is(&v, "x  "));
	ck_assert_int_eq(db_value(db, 9, &v, buf[9]), 0);
	ck_assert(value_is(&v, "1.50"));
	ck_assert_int_eq(db_value(db, 10, &v, buf[0]), 0);
	ck_assert(value_is(&v, "2024-01-02T03:04:05Z"));
	ck_assert_int_eq(db_next_row(db), 0);
	ck_assert_int_eq(db_next_result(db), 0);
	db_run(db, "drop table #check_lob");
	db_close(db);
}
END_TEST

/* sp_executesql with typed parameters finds the right rows. */
START_TEST(test_params)
{
	/* The LSN of row 1: "lsn > @p3" must find row 2 only. */
	static const uint8_t lsn[10] = { 0, 0, 0, 0x2a, 0, 0, 0x01, 0x10, 0,
		0x02 };
	struct frame_value v;
	struct db_param p[6];
	const char *text[2] = { NULL, "bob" };
	char buf[2][DBVALUE_TEXT_MAX], *long_sql, *long_val;
	struct db *db = test_open();
	int rows;

	ck_assert_msg(
	    db_run(db,
		"create table #check_params (id bigint primary key, "
		"name nvarchar(40), amount decimal(10,2), "
		"at datetime2(3), lsn binary(10), g uniqueidentifier)") == 0,
	    "%s", db_error(db)->text);
	ck_assert_msg(db_run(db,
			  "insert into #check_params values "
			  "(1, N'alice', '10.50', '2024-01-01T00:00:00.000', "
			  "0x0000002a000001100002, "
			  "'00000000-0000-0000-0000-000000000001'), "
			  "(2, N'bob', '20.25', '2024-01-02T12:00:00.500', "
			  "0x0000002a000001100003, "
			  "'6F9619FF-8B86-D011-B42D-00C04FC964FF'), "
			  "(3, N'carol', '30.00', '2024-01-03T00:00:00.000', "
			  "0x0000002a000001100004, "
			  "'00000000-0000-0000-0000-000000000003')") == 0,
	    "%s", db_error(db)->text);
	/* bigint and nvarchar. */
	db_param_bigint(&p[0], 1);
	db_param_nvarchar(&p[1], "bob", 3);
	ck_assert_msg(db_exec_params(db,
			  "select id, name from #check_params "
			  "where id > @p1 and name = @p2 order by id",
			  p, 2) == 0,
	    "%s", db_error(db)->text);
	ck_assert_int_eq(db_next_result(db), 1);
	for (rows = 0; db_next_row(db) == 1; rows++) {
		ck_assert_int_eq(db_value(db, 0, &v, buf[0]), 0);
		ck_assert(v.type == FRAME_VALUE_INT && v.v.i == 2);
		ck_assert_int_eq(db_value(db, 1, &v, buf[1]), 0);
		ck_assert(value_is(&v, text[1]));
	}
	ck_assert_int_eq(rows, 1);
	ck_assert_msg(db_next_result(db) == 0, "%s", db_error(db)->text);
	/* decimal, datetime2(3), binary(10), uniqueidentifier. */
	v.type = FRAME_VALUE_STR;
	v.v.s.ptr = (const uint8_t *)"20.25";
	v.v.s.len = 5;
	db_param_set(&p[0], 106, 10, 2, 9, &v);
	v.v.s.ptr = (const uint8_t *)"2024-01-02T12:00:00.500Z";
	v.v.s.len = strlen((const char *)v.v.s.ptr);
	db_param_set(&p[1], 42, 27, 3, 8, &v);
	db_param_binary(&p[2], lsn, sizeof(lsn));
	v.v.s.ptr = (const uint8_t *)"6F9619FF-8B86-D011-B42D-00C04FC964FF";
	v.v.s.len = 36;
	db_param_set(&p[3], 36, 0, 0, 16, &v);
	ck_assert_msg(db_exec_params(db,
			  "select count(*) from #check_params where "
			  "amount = @p1 and at = @p2 and lsn > @p3 and g = @p4",
			  p, 4) == 0,
	    "%s", db_error(db)->text);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_next_row(db), 1);
	ck_assert_int_eq(db_value(db, 0, &v, buf[0]), 0);
	ck_assert_msg(v.type == FRAME_VALUE_INT && v.v.i == 1, "count %lld",
	    (long long)v.v.i);
	ck_assert_int_eq(db_next_row(db), 0);
	ck_assert_int_eq(db_next_result(db), 0);
	/* A parameter that does not fit its type is refused unsent. */
	v.type = FRAME_VALUE_STR;
	v.v.s.ptr = (const uint8_t *)"1.234";
	v.v.s.len = 5;
	db_param_set(&p[0], 106, 10, 2, 9, &v);
	ck_assert_int_eq(db_exec_params(db, "select @p1", p, 1), -1);
	ck_assert_int_eq(db_error(db)->class, DB_CLASS_PERMANENT);
	ck_assert_msg(strstr(db_error(db)->text, "@p1") != NULL, "%s",
	    db_error(db)->text);
	/* A statement and a value over 4000 bytes travel as ntext. */
	long_sql = malloc(6000);
	long_val = malloc(5000);
	ck_assert(long_sql != NULL && long_val != NULL);
	memset(long_val, 'z', 5000);
	snprintf(long_sql, 6000, "select len(@p1) /*%*s*/", 4500, "");
	db_param_nvarchar(&p[0], long_val, 5000);
	ck_assert_msg(
	    db_exec_params(db, long_sql, p, 1) == 0, "%s", db_error(db)->text);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_next_row(db), 1);
	ck_assert_int_eq(db_value(db, 0, &v, buf[0]), 0);
	ck_assert_msg(v.type == FRAME_VALUE_INT && v.v.i == 5000, "len %lld",
	    (long long)v.v.i);
	ck_assert_int_eq(db_drain(db), 0);
	free(long_sql);
	free(long_val);
	/* No parameters at all. */
	ck_assert_int_eq(
	    db_exec_params(db, "select count(*) from #check_params", NULL, 0),
	    0);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_next_row(db), 1);
	ck_assert_int_eq(db_value(db, 0, &v, buf[0]), 0);
	ck_assert(v.type == FRAME_VALUE_INT && v.v.i == 3);
	ck_assert_int_eq(db_drain(db), 0);
	db_run(db, "drop table #check_params");
	db_close(db);
}
END_TEST

/* An error in the middle of a batch fails it with its number. */
START_TEST(test_error_mid_batch)
{
	struct frame_value v, one = { .type = FRAME_VALUE_INT, .v.i = 1 };
	char buf[DBVALUE_TEXT_MAX];
	struct db *db = test_open();

	ck_assert_int_eq(db_exec(db, "select 1 select 1/0 select 3"), 0);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_next_row(db), 1);
	ck_assert_int_eq(db_value(db, 0, &v, buf), 0);
	ck_assert(v.type == FRAME_VALUE_INT && v.v.i == 1);
	ck_assert_int_eq(db_next_row(db), 0);
	ck_assert_int_eq(db_next_result(db), -1);
	ck_assert_int_eq(db_error(db)->number, 8134);
	ck_assert_int_eq(db_error(db)->severity, 16);
	ck_assert_int_eq(db_error(db)->class, DB_CLASS_PERMANENT);
	ck_assert_int_eq(db_next_result(db), 0); /* the rest was dropped */
	expect_row(db, "select 1", &one, NULL, 1);
	/* Unknown object, through db_run and through sp_executesql. */
	ck_assert_int_eq(
	    db_run(db, "select * from no_such_table_check_db"), -1);
	ck_assert_int_eq(db_error(db)->number, 208);
	ck_assert_int_eq(db_error(db)->class, DB_CLASS_PERMANENT);
	ck_assert_int_eq(
	    db_exec_params(
		db, "select * from no_such_table_check_db", NULL, 0) == -1 ||
		db_drain(db) == -1,
	    1);
	ck_assert_int_eq(db_error(db)->number, 208);
	/* Results left unread are dropped by the next command. */
	ck_assert_int_eq(db_exec(db, "select 1 select 2"), 0);
	ck_assert_int_eq(db_next_result(db), 1);
	expect_row(db, "select 1", &one, NULL, 1);
	db_close(db);
}
END_TEST

/* Several result sets, statements without one, columns per set. */
START_TEST(test_multiple_results)
{
	struct frame_value v;
	char buf[2][DBVALUE_TEXT_MAX];
	struct db_column col;
	struct db *db = test_open();

	ck_assert_int_eq(db_exec(db,
			     "create table #check_multi (i int primary key) "
			     "insert into #check_multi values (5) "
			     "select i from #check_multi "
			     "select N'a' as s, cast(2 as bigint) as n"),
	    0);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_ncols(db), 1);
	ck_assert_int_eq(db_column(db, 0, &col), 0);
	ck_assert_str_eq(col.name, "i");
	ck_assert_int_eq(db_next_row(db), 1);
	ck_assert_int_eq(db_value(db, 0, &v, buf[0]), 0);
	ck_assert(v.type == FRAME_VALUE_INT && v.v.i == 5);
	ck_assert_int_eq(db_next_row(db), 0);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(db_ncols(db), 2);
	ck_assert_int_eq(db_column(db, 1, &col), 0);
	ck_assert_str_eq(col.name, "n");
	ck_assert_int_eq(db_column(db, 2, &col), -1);
	ck_assert_int_eq(db_next_row(db), 1);
	ck_assert_int_eq(db_value(db, 0, &v, buf[0]), 0);
	ck_assert(value_is(&v, "a"));
	ck_assert_int_eq(db_value(db, 1, &v, buf[1]), 0);
	ck_assert(v.type == FRAME_VALUE_INT && v.v.i == 2);
	ck_assert_int_eq(db_next_row(db), 0);
	ck_assert_int_eq(db_next_result(db), 0);
	ck_assert_int_eq(db_next_result(db), 0);
	ck_assert_int_eq(db_run(db, "drop table #check_multi"), 0);
	db_close(db);
}
END_TEST

/* An error after some rows of a result set fails the command. */
START_TEST(test_error_after_rows)
{
	struct frame_value one = { .type = FRAME_VALUE_INT, .v.i = 1 };
	struct db *db = test_open();
	int rc, rows = 0;

	ck_assert_int_eq(db_run(db,
			     "create table #check_rows (i int primary key) "
			     "insert into #check_rows values (1), (2), (0)"),
	    0);
	ck_assert_int_eq(
	    db_exec(db, "select 10 / i from #check_rows order by i desc"), 0);
	rc = db_next_result(db);
	if (rc == 1) {
		while ((rc = db_next_row(db)) == 1)
			rows++;
		if (rc == 0)
			rc = db_next_result(db);
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_int_le(rows, 2);
	ck_assert_int_eq(db_error(db)->number, 8134);
	expect_row(db, "select 1", &one, NULL, 1);
	db_close(db);
}
END_TEST

/* A server that stops answering: the query timeout, retryable. */
START_TEST(test_timeout)
{
	struct config cfg;
	struct db_error err;
	struct sim s;
	struct db *db;
	int status;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sim_start(&s, NULL, NULL), 0);
	test_config(&cfg, TEST_SA_PASSWORD, NULL);
	cfg.user = "sa";
	cfg.port = s.port;
	db = db_open(&cfg, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err.text);
	db_set_timeouts(DB_LOGIN_TIMEOUT, 1);
	kill(s.pid, SIGSTOP);
	ck_assert_int_eq(waitpid(s.pid, &status, WUNTRACED), s.pid);
	ck_assert(WIFSTOPPED(status));
	ck_assert_int_eq(db_run(db, "select 1"), -1);
	ck_assert_int_eq(db_error(db)->dberr, 20003); /* SYBETIME */
	ck_assert_int_eq(db_error(db)->class, DB_CLASS_RETRYABLE);
	ck_assert_int_eq(db_dead(db), 1);
	db_set_timeouts(DB_LOGIN_TIMEOUT, DB_QUERY_TIMEOUT);
	db_close(db);
	sim_stop(&s, SIGKILL);
}
END_TEST

/* A server that dies takes the connection: retryable. */
START_TEST(test_dropped_connection)
{
	struct frame_value one = { .type = FRAME_VALUE_INT, .v.i = 1 };
	struct config cfg;
	struct db_error err;
	struct sim s;
	struct db *db;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sim_start(&s, NULL, NULL), 0);
	test_config(&cfg, TEST_SA_PASSWORD, NULL);
	cfg.user = "sa";
	cfg.port = s.port;
	db = db_open(&cfg, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err.text);
	expect_row(db, "select 1", &one, NULL, 1);
	sim_stop(&s, SIGKILL);
	ck_assert_int_eq(db_run(db, "select 1"), -1);
	ck_assert_msg(db_error(db)->class == DB_CLASS_RETRYABLE, "class %s: %s",
	    db_class_name(db_error(db)->class), db_error(db)->text);
	ck_assert_int_eq(db_dead(db), 1);
	ck_assert_int_eq(db_run(db, "select 1"), -1);
	ck_assert_int_eq(db_error(db)->class, DB_CLASS_RETRYABLE);
	db_close(db);
	/* Nobody listens on that port any more: refused, retryable. */
	ck_assert_ptr_null(db_open(&cfg, &err));
	ck_assert_msg(err.class == DB_CLASS_RETRYABLE, "class %s: %d %s",
	    db_class_name(err.class), err.dberr, err.text);
	ck_assert_int_eq(err.number, 0);
}
END_TEST

/* Try a login with TLS settings; 0 if it worked. */
static int
tls_login(int port, const char *host, enum config_encrypt encrypt,
    const char *ca_file, int trust)
{
	struct config cfg;
	struct db_error err;
	struct db *db;

	test_config(&cfg, TEST_SA_PASSWORD, NULL);
	cfg.user = "sa";
	cfg.host = (char *)host;
	cfg.port = port;
	cfg.tls.encrypt = encrypt;
	cfg.tls.ca_file = (char *)ca_file;
	cfg.tls.trust_server_certificate = trust;
	if ((db = db_open(&cfg, &err)) == NULL)
		return (-1);
	ck_assert_int_eq(db_run(db, "select 1"), 0);
	db_close(db);
	return (0);
}

/*
 * TLS through the generated freetds.conf: encryption levels, a CA file
 * (behind a name freetds.conf could not hold), the host name check.
 */
START_TEST(test_tls)
{
	char dir[PATH_MAX], cert[PATH_MAX + 32], key[PATH_MAX + 32];
	char cmd[3 * PATH_MAX];
	struct sim s;

	memset(&s, 0, sizeof(s));
	snprintf(dir, sizeof(dir), "%s/check_db_tls.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/my ca;#1.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
	    "-subj /CN=localhost -keyout '%s' -out '%s' >/dev/null 2>&1",
	    key, cert);
	if (system(cmd) != 0) {
		fprintf(stderr, "check_db: no openssl, TLS not tested\n");
		return;
	}
	/* Without a certificate: request goes plain, require fails. */
	ck_assert_int_eq(
	    tls_login(srv_port, "127.0.0.1", CONFIG_ENCRYPT_REQUEST, NULL, 0),
	    0);
	ck_assert_int_eq(
	    tls_login(srv_port, "127.0.0.1", CONFIG_ENCRYPT_OFF, NULL, 0), 0);
	ck_assert_int_eq(
	    tls_login(srv_port, "127.0.0.1", CONFIG_ENCRYPT_REQUIRE, NULL, 1),
	    -1);
	ck_assert_int_eq(sim_start(&s, cert, key), 0);
	ck_assert_int_eq(
	    tls_login(s.port, "127.0.0.1", CONFIG_ENCRYPT_REQUIRE, NULL, 1), 0);
	ck_assert_int_eq(
	    tls_login(s.port, "127.0.0.1", CONFIG_ENCRYPT_REQUEST, NULL, 0), 0);
	ck_assert_int_eq(
	    tls_login(s.port, "localhost", CONFIG_ENCRYPT_REQUIRE, cert, 0), 0);
	/* Verified: the system store does not know it, the name differs. */
	ck_assert_int_eq(
	    tls_login(s.port, "localhost", CONFIG_ENCRYPT_REQUIRE, NULL, 0),
	    -1);
	ck_assert_int_eq(
	    tls_login(s.port, "127.0.0.1", CONFIG_ENCRYPT_REQUIRE, cert, 0),
	    -1);
	sim_stop(&s, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The classification rules on their own. */
START_TEST(test_classify)
{
	struct db_error err;

	memset(&err, 0, sizeof(err));
	err.number = 1205;
	err.numbers[err.nnumbers++] = 1205;
	ck_assert_int_eq(db_classify(&err, 0), DB_CLASS_RETRYABLE);
	err.numbers[err.nnumbers++] = 208;
	ck_assert_int_eq(db_classify(&err, 0), DB_CLASS_PERMANENT);
	memset(&err, 0, sizeof(err));
	err.number = 102; /* syntax error */
	err.severity = 15;
	err.numbers[err.nnumbers++] = 102;
	ck_assert_int_eq(db_classify(&err, 0), DB_CLASS_PERMANENT);
	ck_assert_int_eq(db_classify(&err, 1), DB_CLASS_RETRYABLE);
	err.severity = 20;
	ck_assert_int_eq(db_classify(&err, 0), DB_CLASS_RETRYABLE);
	memset(&err, 0, sizeof(err));
	err.dberr = 20003; /* SYBETIME */
	ck_assert_int_eq(db_classify(&err, 0), DB_CLASS_RETRYABLE);
	err.dberr = 20009; /* SYBECONN */
	ck_assert_int_eq(db_classify(&err, 0), DB_CLASS_RETRYABLE);
	memset(&err, 0, sizeof(err));
	err.number = 6005;
	err.numbers[err.nnumbers++] = 6005;
	ck_assert_int_eq(db_classify(&err, 1), DB_CLASS_RETRYABLE);
	memset(&err, 0, sizeof(err));
	err.number = 229;
	err.numbers[err.nnumbers++] = 229;
	ck_assert_int_eq(db_classify(&err, 0), DB_CLASS_PERMANENT);
	ck_assert_str_eq(db_class_name(DB_CLASS_RETRYABLE), "retryable");
}
END_TEST

static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("server");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_bad_password);
	tcase_add_test(tc, test_unknown_database);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_types_lob);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_error_mid_batch);
	tcase_add_test(tc, test_multiple_results);
	tcase_add_test(tc, test_error_after_rows);
	if (sim_bin != NULL) {
		tcase_add_test(tc, test_dropped_connection);
		tcase_add_test(tc, test_tls);
		tcase_add_test(tc, test_timeout);
	}
	tcase_add_test(tc, test_classify);
	suite_add_tcase(s, tc);
	return (s);
}

/* Parse MSSQL_TEST_ADDRESS: host, host:port, [v6]:port. */
static int
parse_address(const char *a)
{
	const char *colon = strrchr(a, ':');

	srv_port = 1433;
	if (a[0] == '[' && strchr(a, ']') != NULL) {
		snprintf(srv_host, sizeof(srv_host), "%.*s",
		    (int)(strchr(a, ']') - a - 1), a + 1);
		colon = strchr(a, ']')[1] == ':' ? strchr(a, ']') + 1 : NULL;
	} else if (colon != NULL && strchr(a, ':') == colon)
		snprintf(
		    srv_host, sizeof(srv_host), "%.*s", (int)(colon - a), a);
	else {
		snprintf(srv_host, sizeof(srv_host), "%s", a);
		colon = NULL;
	}
	if (colon != NULL)
		srv_port = atoi(colon + 1);
	return (srv_port > 0 && srv_port < 65536 ? 0 : -1);
}

int
main(void)
{
	const char *addr = getenv("MSSQL_TEST_ADDRESS"), *top;
	static char bin[PATH_MAX];
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	log_init("check_db",
	    getenv("CHECK_DB_DEBUG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN,
	    0);
	if (addr != NULL && *addr != '\0') {
		srv_user = getenv("MSSQL_TEST_USER");
		srv_password = getenv("MSSQL_TEST_PASSWORD");
		srv_database = getenv("MSSQL_TEST_DATABASE");
		if (srv_database == NULL)
			srv_database = "master";
		if (srv_user == NULL || srv_password == NULL ||
		    parse_address(addr) == -1) {
			fprintf(stderr,
			    "check_db: MSSQL_TEST_ADDRESS needs "
			    "MSSQL_TEST_USER and MSSQL_TEST_PASSWORD\n");
			return (99);
		}
	} else {
		top = getenv("top_builddir");
		snprintf(bin, sizeof(bin), "%s/t/mssqlsim/mssqlsim",
		    top != NULL ? top : ".");
		if (access(bin, X_OK) == -1) {
			printf("check_db: %s is not built: skipped\n", bin);
			return (77);
		}
		sim_bin = bin;
		if (sim_start(&sim_main, NULL, NULL) == -1) {
			fprintf(stderr, "check_db: %s did not start\n", bin);
			sim_stop(&sim_main, SIGTERM);
			return (99);
		}
		snprintf(srv_host, sizeof(srv_host), "127.0.0.1");
		srv_port = sim_main.port;
		srv_user = "sa";
		srv_password = TEST_SA_PASSWORD;
		srv_database = "master";
	}
	sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (sim_bin != NULL)
		sim_stop(&sim_main, SIGTERM);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
