/*
 * Unit tests for the T-SQL engine of mssqlsim (t/mssqlsim/engine.c and
 * the files it names), driven through the engine_* API of sim.h with a
 * recording sink on a temporary data directory.
 *
 * The recorder turns every sink call into a line of text ("META id:int
 * name:nvarchar(10)", "ROW 1|abc", "DONE fd 10 1", "ERR 2627 ...",
 * "ENV 1 new old"), so that each test asserts on what a client would
 * see on the wire: result types, row values in their canonical forms,
 * row counts and the DONE_COUNT bit, error numbers and ENVCHANGEs.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

struct rec {
	struct sbuf log;
	int nrows;
	int ndone;
	int nerr;
	int lasterr;
	int lastline;
	uint64_t lastcount;
	int laststatus;
	char firstrow[4096];
	char lastrow[4096];
	struct sim_column cols[64];
	int ncols;
};

static char datadir[256];
static struct sim_server *srv;
static struct rec R;
static struct sim_sink sink;

/* Append a formatted line to the recorder. */
static void
rec_line(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sbuf_add(&R.log, buf, strlen(buf));
	sbuf_add(&R.log, "\n", 1);
}

static int
rec_colmetadata(void *a, int n, const struct sim_column *c)
{
	char line[4096] = "META", t[64];
	int i;

	(void)a;
	R.ncols = n;
	for (i = 0; i < n && i < 64; i++) {
		R.cols[i] = c[i];
		simtype_format(&c[i].type, t, sizeof(t));
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    " %s:%s", c[i].name, t);
	}
	rec_line("%s", line);
	return (0);
}

/* Format a value as the tests compare it. */
static void
rec_value(sqlite3_value *v, char *buf, size_t len)
{
	const unsigned char *b;
	int i, n;

	switch (sqlite3_value_type(v)) {
	case SQLITE_NULL:
		snprintf(buf, len, "NULL");
		break;
	case SQLITE_INTEGER:
		snprintf(buf, len, "%lld", (long long)sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT:
		snprintf(buf, len, "%g", sqlite3_value_double(v));
		break;
	case SQLITE_BLOB:
		b = sqlite3_value_blob(v);
		n = sqlite3_value_bytes(v);
		snprintf(buf, len, "0x");
		for (i = 0; i < n && (size_t)(2 * i + 4) < len; i++)
			snprintf(
			    buf + 2 + 2 * i, len - 2 - 2 * i, "%02X", b[i]);
		break;
	default:
		snprintf(buf, len, "%s", sqlite3_value_text(v));
		break;
	}
}

static int
rec_row(void *a, int n, sqlite3_value **v)
{
	char line[4096] = "", val[1024];
	int i;

	(void)a;
	for (i = 0; i < n; i++) {
		rec_value(v[i], val, sizeof(val));
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    "%s%s", i ? "|" : "", val);
	}
	if (R.nrows == 0)
		snprintf(R.firstrow, sizeof(R.firstrow), "%s", line);
	snprintf(R.lastrow, sizeof(R.lastrow), "%s", line);
	R.nrows++;
	if (R.nrows <= 200)
		rec_line("ROW %s", line);
	return (0);
}

static int
rec_done(void *a, int kind, int status, uint64_t count)
{
	(void)a;
	R.ndone++;
	R.lastcount = count;
	R.laststatus = status;
	rec_line("DONE %x %x %llu", kind, status, (unsigned long long)count);
	return (0);
}

static int
rec_message(void *a, const struct sim_error *e, int is_error)
{
	(void)a;
	if (is_error) {
		R.nerr++;
		R.lasterr = e->number;
		R.lastline = e->line;
	}
	rec_line("%s %d %s", is_error ? "ERR" : "INFO", e->number, e->msg);
	return (0);
}

static int
rec_envstr(void *a, int type, const char *nv, const char *ov)
{
	(void)a;
	rec_line("ENV %d %s %s", type, nv, ov);
	return (0);
}

static int
rec_envbin(void *a, int type, const unsigned char *nv, size_t nl,
    const unsigned char *ov, size_t ol)
{
	(void)a;
	(void)nv;
	(void)ov;
	rec_line("ENVB %d %zu %zu", type, nl, ol);
	return (0);
}

static int
rec_retstatus(void *a, int32_t st)
{
	(void)a;
	rec_line("RETSTATUS %d", st);
	return (0);
}

static int
rec_retvalue(void *a, const struct sim_param *p, int ord)
{
	(void)a;
	if (p->value.kind == SQLITE_INTEGER)
		rec_line(
		    "RETVAL %d %s %lld", ord, p->name, (long long)p->value.i);
	else
		rec_line("RETVAL %d %s %s", ord, p->name,
		    p->value.kind == SQLITE_TEXT ? (char *)p->value.p : "?");
	return (0);
}

static int thread_errors;

/* Sink callbacks for writer threads (no shared recorder). */
static int
rec_cancelled_msg(void *a, const struct sim_error *e, int is_error)
{
	(void)a;
	if (is_error)
		__atomic_add_fetch(&thread_errors, 1, __ATOMIC_SEQ_CST);
	(void)e;
	return (0);
}

static int
rec_noop_row(void *a, int n, sqlite3_value **v)
{
	(void)a;
	(void)n;
	(void)v;
	return (0);
}

static int
rec_noop_done(void *a, int kind, int status, uint64_t count)
{
	(void)a;
	(void)kind;
	(void)status;
	(void)count;
	return (0);
}

static int
rec_noop_meta(void *a, int n, const struct sim_column *c)
{
	(void)a;
	(void)n;
	(void)c;
	return (0);
}

static int
rec_cancelled(void *a)
{
	(void)a;
	return (0);
}

/* Reset the recorder. */
static void
rec_reset(void)
{
	sbuf_free(&R.log);
	memset(&R, 0, sizeof(R));
	sbuf_init(&R.log);
	sbuf_add(&R.log, "", 1);
	R.log.len = 0;
}

/* The recorded lines as a string. */
static const char *
rec_text(void)
{
	sbuf_add(&R.log, "", 1);
	R.log.len--;
	return ((const char *)R.log.data);
}

/* Run a batch; returns the number of errors. */
static int
run(struct sim_session *s, const char *sql)
{
	rec_reset();
	ck_assert_int_eq(engine_exec_batch(s, sql, &sink), 0);
	return (R.nerr);
}

/* Run a batch that must succeed. */
static void
ok(struct sim_session *s, const char *sql)
{
	if (run(s, sql) != 0)
		ck_abort_msg("batch failed: %s\n%s", sql, rec_text());
}

/* Run a batch that must fail with error number. */
static void
fails(struct sim_session *s, const char *sql, int number)
{
	run(s, sql);
	if (R.lasterr != number)
		ck_abort_msg(
		    "expected error %d from %s\n%s", number, sql, rec_text());
}

/* Run a query and compare its only (or first) row. */
static void
row_is(struct sim_session *s, const char *sql, const char *want)
{
	ok(s, sql);
	if (R.nrows < 1 || strcmp(R.firstrow, want) != 0)
		ck_abort_msg("%s: want %s\n%s", sql, want, rec_text());
}

/* Does the log contain text? */
static int
has(const char *text)
{
	return (strstr(rec_text(), text) != NULL);
}

static void
rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ck_abort_msg("rm failed");
}

static void
server_start(void)
{
	struct sim_options o;
	struct sim_error e;
	FILE *f;
	char users[300];

	snprintf(users, sizeof(users), "%s.users", datadir);
	f = fopen(users, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "alice:alicepw\n# comment\nbob:bobpw\n");
	fclose(f);
	memset(&o, 0, sizeof(o));
	o.data_dir = datadir;
	o.sa_password = "sapw";
	o.users_file = users;
	o.server_name = "simtest";
	srv = engine_open(&o, &e);
	if (srv == NULL)
		ck_abort_msg("engine_open: %s", e.msg);
}

static void
setup(void)
{
	snprintf(
	    datadir, sizeof(datadir), "/tmp/check_simengine.%d", (int)getpid());
	rm_rf(datadir);
	sink.colmetadata = rec_colmetadata;
	sink.row = rec_row;
	sink.done = rec_done;
	sink.message = rec_message;
	sink.envchange_str = rec_envstr;
	sink.envchange_bin = rec_envbin;
	sink.returnstatus = rec_retstatus;
	sink.returnvalue = rec_retvalue;
	sink.cancelled = rec_cancelled;
	sbuf_init(&R.log);
	server_start();
}

static void
teardown(void)
{
	engine_close(srv);
	srv = NULL;
	rm_rf(datadir);
	sbuf_free(&R.log);
}

/* Log in as sa to a database. */
static struct sim_session *
sa(const char *db)
{
	struct sim_session *s;
	struct sim_error e;

	if (engine_login(srv, "sa", "sapw", db, "check", &s, &e) != 0)
		ck_abort_msg("login: %d %s", e.number, e.msg);
	return (s);
}

START_TEST(test_login)
{
	struct sim_session *s, *s2;
	struct sim_error e;

	ck_assert_int_eq(engine_login(srv, "sa", "wrong", "", "x", &s, &e), -1);
	ck_assert_int_eq(e.number, 18456);
	ck_assert_int_eq(e.class, 14);
	ck_assert_str_eq(e.msg, "Login failed for user 'sa'.");
	ck_assert_int_eq(engine_login(srv, "nobody", "x", "", "x", &s, &e), -1);
	ck_assert_int_eq(e.number, 18456);
	ck_assert_int_eq(
	    engine_login(srv, "sa", "sapw", "nosuchdb", "x", &s, &e), -1);
	ck_assert_int_eq(e.number, 4060);
	ck_assert_int_eq(e.class, 11);
	ck_assert_int_eq(
	    engine_login(srv, "alice", "alicepw", "", "x", &s, &e), 0);
	ck_assert_str_eq(engine_session_database(s), "master");
	ck_assert_int_ge(engine_session_spid(s), 51);
	s2 = sa(NULL);
	ck_assert_int_ne(engine_session_spid(s), engine_session_spid(s2));
	row_is(s, "select suser_name(), db_name()", "alice|master");
	ok(s2,
	    "CREATE LOGIN carol WITH PASSWORD = 'c4rol', CHECK_POLICY = OFF");
	engine_session_free(s);
	ck_assert_int_eq(
	    engine_login(srv, "carol", "c4rol", NULL, "x", &s, &e) == 0, 1);
	engine_session_free(s);
	ck_assert_int_eq(
	    engine_login(srv, "carol", "bad", NULL, "x", &s, &e), -1);
	fails(s2, "CREATE LOGIN carol WITH PASSWORD = 'x'", 15025);
	engine_session_free(s2);
}
END_TEST

START_TEST(test_batch_basics)
{
	struct sim_session *s = sa("master");

	ok(s,
	    "select 1 as a, N'x' b -- comment\n /* nested /* c */ */ ; "
	    "select 2");
	ck_assert(has("META a:int b:nvarchar(1)"));
	ck_assert_int_eq(R.ndone, 2);
	ck_assert(has("DONE fd 10 1\nMETA :int"));
	ok(s, "set nocount on; select 1");
	ck_assert_int_eq(R.ndone, 1);
	ck_assert_int_eq(R.laststatus & SIM_DONE_COUNT, 0);
	ok(s,
	    "set nocount off; set textsize 2147483647; set ansi_nulls, "
	    "quoted_identifier on; set transaction isolation level read "
	    "committed; set arithabort on; set language us_english; set "
	    "dateformat mdy; set datefirst 7; set xact_abort off");
	ck_assert_int_eq(R.ndone, 1); /* only the final DONE */
	ck_assert_int_eq(R.laststatus, 0);
	row_is(s, "select @@spid", "51");
	ck_assert(has("META :smallint"));
	row_is(s,
	    "declare @a int = 5, @s varchar(10); set @s = 'ab' + 'c'; "
	    "set @a += 2; select @a, @s, len(@s)",
	    "7|abc|3");
	fails(s, "select @nope", 137);
	fails(s, "selec 1", 102);
	ck_assert(has("Incorrect syntax near 'selec'."));
	fails(s, "select 1 from", 156);
	row_is(s, "if 1 = 2 select 'a' else begin select 'b' end", "b");
	/* a syntax error anywhere: nothing of the batch runs */
	ok(s, "create table tb (i int)");
	fails(s, "insert into tb values (1); select * from tb; selec 2", 102);
	ck_assert_int_eq(R.ndone, 1);
	ck_assert(!has("META"));
	fails(s, "insert into tb values (2); select @undeclared", 137);
	row_is(s, "select count(*) from tb", "0");
	/* ... but names may be created earlier in the same batch */
	row_is(s,
	    "create table tc (i int); insert into tc values (5); "
	    "if 1 = 0 declare @late int; set @late = 7; select i + @late "
	    "from tc",
	    "12");
	row_is(s,
	    "declare @i int = 0; while @i < 5 set @i = @i + 1; "
	    "select @i",
	    "5");
	ok(s, "print 'hello'");
	ck_assert(has("INFO 0 hello"));
	row_is(s, "select 0x0aFF, 'it''s', 1.50, 1e3, -3",
	    "0x0AFF|it's|1.50|1000|-3");
	ck_assert(has("META :varbinary(2) :varchar(4) :numeric(3,2) :float "
		      ":int"));
	engine_session_free(s);
}
END_TEST

/*
 * Batch semantics ("Batches", learn.microsoft.com ms175502; "Batch-level
 * ... Compile and Run-time Errors", ms187878): a compile error anywhere
 * in the batch runs none of it, whatever the kind of the statement
 * holding it (the compile pass used to stop SET, PRINT, EXEC, BEGIN
 * TRAN, COMMIT, RAISERROR, WAITFOR, DROP, UPDATE, DELETE, TRUNCATE and
 * CREATE TABLE/INDEX/DATABASE before their end, so that the statements
 * before them ran), and so does a
 * binding error (207, 4104, 213) in a statement whose tables exist.  A
 * table that does not exist yet is resolved when its statement runs:
 * what comes before runs, its 208 (or the 213 of the statement that
 * compiles late) ends the batch and leaves a transaction open.
 * Constraint violations (2627, 515) end only their statement;
 * conversion errors (245) end the batch and roll back the transaction.
 */
/*
 * A statement, then a syntax error on the next line, with or without
 * a ";" between them: SQL Server compiles the whole batch first and
 * runs none of it (Microsoft Learn, "Batches"), whatever the statement
 * would do or fail on when it runs: its object and permission checks
 * wait for the run (deferred name resolution), so the compile pass
 * must parse it to its end.  Adds the failing batches to bad.
 */
static void
batch_nothing_ran(struct sim_session *s, const char *sep, struct sbuf *bad)
{
	static const char *stmt[] = { "alter table tb add c int",
		"alter table tb add c2 int not null default 0, constraint "
		"ck_v check (v > 0)",
		"alter table tb add constraint uq_v unique (v)",
		"alter table tb with nocheck add constraint fk_v foreign key "
		"(v) references tb (i) on delete cascade",
		"alter table tb drop column v",
		"alter table tb drop constraint nosuch, column nosuch",
		"alter table tb alter column v bigint not null",
		"alter table tb alter column nosuch varchar(10) collate "
		"Latin1_General_CI_AS null",
		"alter table tb enable change_tracking with "
		"(track_columns_updated = on)",
		"alter table tb disable change_tracking",
		"alter table tb nocheck constraint all",
		"alter table tb with check check constraint fk_a, fk_b",
		"alter table nosuch add c int", "drop index ix on tb",
		"drop index tb.nosuch", "drop schema nosuch",
		"grant select on tb to public",
		"deny insert, update on object::dbo.tb to public",
		"revoke select on schema::dbo from nosuch",
		"grant view definition to public with grant option",
		"alter database current set change_tracking = on "
		"(change_retention = 2 days, auto_cleanup = on)",
		"alter database current set change_tracking (auto_cleanup = "
		"off)",
		"alter database current set allow_snapshot_isolation on",
		"alter database current set read_committed_snapshot on with "
		"rollback immediate",
		"alter database nosuch set allow_snapshot_isolation off",
		"alter database current set compatibility_level = 150",
		"create login lx with password = 'pw', default_database = "
		"master",
		"create user ux for login nosuch",
		"create user uy without login with default_schema = dbo",
		"drop login nosuch", "drop user nosuch", "drop database nosuch",
		"create role rx", "alter role db_owner add member nosuch",
		"exec sp_addrolemember 'db_owner', 'nosuch'",
		"exec sys.sp_cdc_enable_table @source_schema = N'dbo', "
		"@source_name = N'tb', @role_name = NULL",
		"exec sys.sp_cdc_disable_table @source_schema = N'dbo', "
		"@source_name = N'tb', @capture_instance = N'all'",
		"exec sim.advance_clock @seconds = 60", NULL };
	char sql[512];
	int i;

	for (i = 0; stmt[i] != NULL; i++) {
		ok(s,
		    "drop table if exists tb; create table tb (i int primary "
		    "key, v int not null)");
		snprintf(sql, sizeof(sql),
		    "insert into tb values (%d, 1);\n%s%s\nselec 1", 300 + i,
		    stmt[i], sep);
		run(s, sql);
		if (R.nerr == 1 && R.lasterr == 102 && R.lastline == 3 &&
		    R.ndone == 1 && run(s, "select count(*) from tb") == 0 &&
		    strcmp(R.firstrow, "0") == 0)
			continue;
		sbuf_add(bad, sql, strlen(sql));
		sbuf_add(bad, "\n", 1);
	}
}

START_TEST(test_batch_errors)
{
	static const char *syntax[] = { "set nocount onn", "print 'a' 'b'",
		"exec sp_who @x =", "begin tran x y", "commit tran x y",
		"rollback tran x y", "raiserror('x' 16, 1)", "waitfor delay",
		"drop table tb tb2", "update tb set v = where i = 1",
		"delete from tb where", "exec ('select 1') 2",
		"throw 50001, 'x', 1 2",
		"set transaction isolation level snapshott", "use master 2",
		"create table tx (a int) garbage",
		"create index ix on tb (v) garbage",
		"truncate table tb garbage", "create database dx garbage",
		NULL };
	static const char *binding[] = { "select nosuch from tb",
		"select x.i from tb", "insert into tb values (9)",
		"update tb set nosuch = 1", "delete from tb where nosuch = 1",
		NULL };
	struct sim_session *s = sa("master");
	struct sbuf bad;
	char sql[512];
	int i, k;

	ok(s, "create table tb (i int primary key, v int not null)");
	for (k = 0; k < 2; k++) {
		for (i = 0; (k ? binding : syntax)[i] != NULL; i++) {
			snprintf(sql, sizeof(sql),
			    "insert into tb values (%d, 1);\n%s;\n"
			    "insert into tb values (%d, 2)",
			    100 + i, (k ? binding : syntax)[i], 200 + i);
			run(s, sql);
			if (R.nerr != 1 || R.ndone != 1 || R.lastline != 2 ||
			    !has("\nDONE fd 2 0\n") || has("DONE fd 10") ||
			    (k == 0 && R.lasterr != 102 && R.lasterr != 156) ||
			    (k == 1 && R.lasterr == 208))
				ck_abort_msg("%s\n%s", sql, rec_text());
			row_is(s, "select count(*) from tb", "0");
		}
	}
	ck_assert_int_eq(R.nerr, 0);

	/* a statement, then a syntax error: nothing ran */
	sbuf_init(&bad);
	batch_nothing_ran(s, ";", &bad);
	batch_nothing_ran(s, "", &bad);
	sbuf_add(&bad, "", 1);
	if (bad.data[0] != '\0')
		ck_abort_msg("something ran:\n%s", (char *)bad.data);
	sbuf_free(&bad);

	/* DDL on a table that the batch creates compiles with the batch */
	run(s,
	    "create table tn (a int primary key, b int)\n"
	    "alter table tn add c int\nalter table tn drop column b\n"
	    "alter table tn alter column c bigint not null\n"
	    "alter table tn enable change_tracking\n"
	    "create index ixn on tn (c)\ndrop index ixn on tn\nselec 1");
	ck_assert_int_eq(R.lasterr, 102);
	ck_assert_int_eq(R.lastline, 8);
	row_is(s, "select count(*) from sys.tables where name = 'tn'", "0");
	ok(s,
	    "create table tn (a int primary key, b int)\n"
	    "alter table tn add c int\nalter table tn drop column b\n"
	    "alter table tn alter column c bigint not null\n"
	    "create index ixn on tn (c)\ndrop index ixn on tn\n"
	    "create login lz with password = 'pw'\n"
	    "create user uz for login lz\ncreate role rz\n"
	    "alter role rz add member uz\n"
	    "exec sp_addrolemember 'db_datareader', 'uz'\n"
	    "grant select on tn to rz");
	row_is(s,
	    "select count(*) from sys.columns where object_id = "
	    "object_id('tn')",
	    "2");
	row_is(s,
	    "select type_name(system_type_id), is_nullable from sys.columns "
	    "where object_id = object_id('tn') and name = 'c'",
	    "bigint|0");
	ok(s, "drop table tn");

	/* deferred name resolution: 208 ends the batch where it is met */
	run(s,
	    "insert into tb values (1, 1);\nselect * from nosuch;\n"
	    "insert into tb values (2, 2)");
	ck_assert_str_eq(rec_text(),
	    "DONE fd 10 1\nERR 208 Invalid object name 'nosuch'.\n"
	    "DONE fd 2 0\n");
	ck_assert_int_eq(R.lastline, 2);
	run(s,
	    "create table tl (a int); insert into tl values (1); "
	    "insert into tl values (1, 1); insert into tl values (3)");
	ck_assert_int_eq(R.lasterr, 213);
	row_is(s, "select count(*) from tl", "1");
	run(s,
	    "begin tran; insert into tb values (3, 3); select * from "
	    "nosuch; select 'not reached'");
	ck_assert_int_eq(R.lasterr, 208);
	ck_assert(!has("not reached") && !has("ENVB 10"));
	ck_assert(has("ERR 208 Invalid object name 'nosuch'.\nDONE fd 6 0"));
	row_is(s, "select @@trancount, count(*) from tb", "1|2");
	ok(s, "commit");

	/* constraint violations end only their statement */
	run(s,
	    "insert into tb values (4, 4); insert into tb values (4, 4); "
	    "insert into tb values (5, null); insert into tb values (6, "
	    "6); select 'after'");
	ck_assert_int_eq(R.nerr, 2);
	ck_assert(has("DONE fd 10 1\nERR 2627 "));
	ck_assert(has("DONE fd 2 0\nERR 515 "));
	ck_assert(has("DONE fd 2 0\nDONE fd 10 1\nMETA"));
	ck_assert(has("ROW after\nDONE fd 10 1"));
	row_is(s, "select count(*) from tb", "4");

	/* conversion errors end the batch and its transaction */
	run(s,
	    "insert into tb values (7, 7); select convert(int, 'abc'); "
	    "insert into tb values (8, 8)");
	ck_assert_int_eq(R.lasterr, 245);
	row_is(s, "select count(*) from tb", "5");
	run(s,
	    "begin tran; insert into tb values (9, 9); select 1 + 'x'; "
	    "select 'not reached'");
	ck_assert_int_eq(R.lasterr, 245);
	ck_assert(!has("not reached"));
	ck_assert(has("ENVB 10 0 8\nDONE fd 2 0"));
	row_is(s, "select @@trancount, count(*) from tb", "0|5");

	/* sp_executesql's statement compiles as a batch of its own */
	run(s,
	    "exec sp_executesql N'insert into tb values (10, 1); selec "
	    "2'; select 'after'");
	ck_assert_int_eq(R.lasterr, 102);
	ck_assert(has("ROW after"));
	row_is(s, "select count(*) from tb", "5");
	engine_session_free(s);
}
END_TEST

START_TEST(test_use_and_databases)
{
	struct sim_session *s = sa("master"), *s2;
	struct sim_error e;

	ok(s, "create database app");
	fails(s, "create database APP", 1801);
	ok(s, "use app");
	ck_assert(has("ENV 1 app master"));
	ck_assert(has("INFO 5701 Changed database context to 'app'."));
	ck_assert_str_eq(engine_session_database(s), "app");
	row_is(s, "select db_name(), db_id()", "app|5");
	fails(s, "use nosuch", 911);
	row_is(s,
	    "select name, snapshot_isolation_state, "
	    "snapshot_isolation_state_desc, is_read_committed_snapshot_on, "
	    "is_cdc_enabled from sys.databases where name = 'app'",
	    "app|0|OFF|0|0");
	ok(s,
	    "alter database app set allow_snapshot_isolation on; "
	    "alter database current set read_committed_snapshot on with "
	    "rollback immediate");
	row_is(s,
	    "select snapshot_isolation_state_desc, "
	    "is_read_committed_snapshot_on from master.sys.databases where "
	    "database_id = db_id('app')",
	    "ON|1");
	ck_assert_int_eq(
	    engine_login(srv, "alice", "alicepw", "app", "x", &s2, &e), -1);
	ck_assert_int_eq(e.number, 4060);
	ok(s, "create user alice for login alice");
	ck_assert_int_eq(
	    engine_login(srv, "alice", "alicepw", "app", "x", &s2, &e), 0);
	row_is(s2, "select user_name(), db_name()", "alice|app");
	engine_session_free(s2);
	engine_session_free(s);
}
END_TEST

START_TEST(test_ddl_catalog)
{
	struct sim_session *s = sa("master");

	ok(s, "create database d; use d");
	ok(s, "create schema sales");
	ok(s,
	    "CREATE TABLE sales.[Order Lines] (id int IDENTITY(10, 5) NOT "
	    "NULL, code nvarchar(20) NOT NULL, qty decimal(10,2) DEFAULT 1, "
	    "note varchar(max) NULL, ts rowversion, total AS (qty * 2), "
	    "CONSTRAINT pk_ol PRIMARY KEY CLUSTERED (code, id DESC), "
	    "CONSTRAINT uq_note UNIQUE (note))");
	fails(s, "create table sales.[order lines] (a int)", 2714);
	row_is(s,
	    "select t.name, s.name, t.type, t.type_desc from sys.tables "
	    "t join sys.schemas s on s.schema_id = t.schema_id",
	    "Order Lines|sales|U |USER_TABLE");
	ck_assert(has("META name:nvarchar(128) name:nvarchar(128) "
		      "type:char(2) type_desc:nvarchar(60)"));
	ok(s,
	    "select name, column_id, system_type_id, max_length, precision, "
	    "scale, is_nullable, is_identity, is_computed from sys.columns "
	    "where object_id = object_id('sales.[Order Lines]') order by "
	    "column_id");
	ck_assert_int_eq(R.nrows, 6);
	ck_assert(has("ROW id|1|56|4|10|0|0|1|0"));
	ck_assert(has("ROW code|2|231|40|0|0|0|0|0"));
	ck_assert(has("ROW qty|3|106|9|10|2|1|0|0"));
	ck_assert(has("ROW note|4|167|-1|0|0|1|0|0"));
	ck_assert(has("ROW ts|5|189|8|0|0|0|0|0"));
	ck_assert(has("ROW total|6|"));
	row_is(s,
	    "select i.name, i.index_id, i.is_primary_key, i.type_desc "
	    "from sys.indexes i where i.object_id = object_id('sales.[Order "
	    "Lines]') and is_primary_key = 1",
	    "pk_ol|1|1|CLUSTERED");
	ok(s,
	    "select c.name, ic.key_ordinal, ic.is_descending_key from "
	    "sys.index_columns ic join sys.columns c on c.object_id = "
	    "ic.object_id and c.column_id = ic.column_id where ic.index_id = 1 "
	    "order by ic.key_ordinal");
	ck_assert(has("ROW code|1|0\nROW id|2|1"));
	ok(s,
	    "SELECT kcu.COLUMN_NAME, kcu.ORDINAL_POSITION FROM "
	    "INFORMATION_SCHEMA.TABLE_CONSTRAINTS tc JOIN "
	    "INFORMATION_SCHEMA.KEY_COLUMN_USAGE kcu ON kcu.CONSTRAINT_NAME = "
	    "tc.CONSTRAINT_NAME AND kcu.TABLE_NAME = tc.TABLE_NAME WHERE "
	    "tc.CONSTRAINT_TYPE = 'PRIMARY KEY' ORDER BY kcu.ORDINAL_POSITION");
	ck_assert(has("ROW code|1\nROW id|2"));
	row_is(s,
	    "select DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE "
	    "from INFORMATION_SCHEMA.COLUMNS where COLUMN_NAME = 'code'",
	    "nvarchar|20|NO");
	row_is(s,
	    "select columnproperty(object_id('sales.[Order Lines]'), "
	    "'qty', 'ColumnId'), col_name(object_id('sales.[Order Lines]'), 2)",
	    "3|code");
	/* a column in a constraint cannot go; column ids are not reused */
	fails(s, "alter table sales.[Order Lines] drop column note", 4922);
	row_is(s, "select name from sys.key_constraints where type = 'UQ'",
	    "uq_note");
	ok(s,
	    "alter table sales.[Order Lines] drop constraint uq_note; "
	    "alter table sales.[Order Lines] drop column note");
	fails(s, "alter table sales.[Order Lines] drop column note", 4924);
	ok(s,
	    "alter table sales.[Order Lines] add extra int null, e2 bit "
	    "not null default 0");
	ok(s,
	    "select name, column_id from sys.columns where object_id = "
	    "object_id('sales.Order Lines') order by column_id");
	ck_assert(has("ROW ts|5\nROW total|6\nROW extra|7\nROW e2|8"));
	/* ALTER COLUMN converts the data and keeps the keys */
	ok(s,
	    "create table ac (id int primary key, a varchar(10)); insert "
	    "into ac values (1, '12'), (2, '7')");
	ok(s, "alter table ac alter column a int not null");
	row_is(s, "select sum(a), max(a + 1) from ac", "19|13");
	ck_assert(has("META :int :int"));
	fails(s, "insert into ac values (1, 5)", 2627);
	fails(s, "alter table ac alter column id bigint", 5074);
	fails(s, "alter table ac alter column nosuch int", 4924);
	ok(s, "drop table ac");
	ok(s, "drop table sales.[Order Lines]");
	fails(s, "drop table sales.[Order Lines]", 3701);
	ok(s, "drop table if exists sales.[Order Lines]");
	row_is(s, "select count(*) from sys.objects", "0");
	engine_session_free(s);
}
END_TEST

START_TEST(test_dml)
{
	struct sim_session *s = sa("master");

	ok(s, "create database d; use d");
	ok(s,
	    "create table t (id int identity(1,1) primary key, name "
	    "varchar(5) not null, amount decimal(10,2) default 9.5, created "
	    "datetime default getdate(), rv rowversion, dbl as (amount * 2))");
	ok(s, "insert into t (name, amount) values ('a', 1.234), ('b', 2)");
	ck_assert(has("DONE fd 10 2"));
	row_is(s, "select @@identity, scope_identity(), @@rowcount", "2|2|2");
	ok(s, "insert t (name) values ('c')");
	row_is(s, "select id, name, amount, dbl from t where id = 3",
	    "3|c|9.50|19.00");
	ck_assert(has("META id:int name:varchar(5) amount:decimal(10,2) "
		      "dbl:numeric(12,2)"));
	row_is(s, "select amount from t where id = 1", "1.23");
	fails(s, "insert into t (name) values ('toolong')", 2628);
	fails(s, "insert into t (name) values (NULL)", 515);
	ck_assert(has("Cannot insert the value NULL into column 'name', table "
		      "'d.dbo.t'; column does not allow nulls. INSERT fails."));
	fails(s, "insert into t (id, name) values (10, 'x')", 544);
	fails(s, "insert into t (name, dbl) values ('x', 1)", 271);
	fails(s, "update t set dbl = 1", 271);
	ok(s,
	    "set identity_insert t on; insert into t (id, name) values (10, "
	    "'x'); set identity_insert t off; insert into t (name) values "
	    "('y')");
	row_is(s, "select max(id) from t", "11");
	fails(s,
	    "set identity_insert t on; insert into t (id, name) values "
	    "(10, 'dup')",
	    2627);
	ck_assert(has("Violation of PRIMARY KEY constraint 'PK__t__"));
	ck_assert(has("Cannot insert duplicate key in object 'dbo.t'. The "
		      "duplicate key value is (10)."));
	ok(s, "set identity_insert t off");
	/* statement atomicity: the second row fails, the first is undone */
	fails(s, "insert into t (name) values ('ok'), (NULL)", 515);
	row_is(s, "select count(*) from t", "5");
	ok(s, "update t set amount = amount + 1 where name in ('a', 'b')");
	ck_assert(has("DONE fd 10 2"));
	row_is(s, "select sum(amount), count_big(*) from t", "33.73|5");
	ck_assert(has("META :decimal(38,2) :bigint"));
	row_is(s, "select dbl from t where name = 'b'", "6.00");
	ok(s, "update t set name = upper(name) from t where id < 3");
	row_is(s, "select name from t where id = 1", "A");
	/* rowversion: database-wide, bumped on update */
	ok(s,
	    "declare @before binary(8) = (select rv from t where id = 1); "
	    "update t set amount = 0 where id = 1; select case when rv > "
	    "@before then 1 else 0 end, case when rv = @@dbts then 1 else 0 "
	    "end from t where id = 1");
	ck_assert_str_eq(R.firstrow, "1|1");
	ok(s, "delete from t where id > 10");
	ck_assert(has("DONE fd 10 1"));
	ok(s, "delete t where name = 'nomatch'");
	ck_assert(has("DONE fd 10 0"));
	row_is(s, "select 10 / 3, 10 % 3, 7.0 / 2", "3|1|3.500000");
	fails(s, "select 1 / 0", 8134);
	fails(s, "select nosuch from t", 207);
	fails(s, "select * from nosuch", 208);
	ck_assert(has("Invalid object name 'nosuch'."));
	ok(s, "create table u (id int primary key, name varchar(5))");
	fails(s, "select name from t join u on t.id = u.id", 209);
	ok(s, "insert into u select id, name from t");
	ck_assert(has("DONE fd 10 4"));
	ok(s, "truncate table t; insert into t (name) values ('z')");
	row_is(s, "select id from t", "1");
	fails(s, "update t set id = 5", 8102);
	/* CHECK constraints */
	ok(s,
	    "create table ck (id int primary key, q int check (q > 0), a "
	    "int, b int, constraint ck_ab check (a <= b))");
	ok(s, "insert into ck values (1, 5, 1, 2), (2, NULL, NULL, 1)");
	fails(s, "insert into ck values (3, 0, 1, 2)", 547);
	ck_assert(has("The INSERT statement conflicted with the CHECK "
		      "constraint \"CK__ck__q__"));
	ck_assert(has("table \"dbo.ck\", column 'q'."));
	fails(s, "update ck set a = 9 where id = 1", 547);
	ck_assert(has("The UPDATE statement conflicted with the CHECK "
		      "constraint \"ck_ab\"."));
	row_is(s, "select count(*) from sys.check_constraints", "2");
	fails(s, "alter table ck add constraint ck_b check (b > 1)", 547);
	ok(s, "alter table ck drop constraint ck_ab; update ck set a = 9");
	engine_session_free(s);
}
END_TEST

/*
 * Keys and indexes (SQLSERVER.md §3, sys.indexes): SQL Server checks
 * uniqueness per statement, not per row, so "set id = id + 1" over
 * consecutive keys and key swaps succeed while a real duplicate is
 * 2627 naming the constraint and the key, the statement undone; index
 * 0 is the heap, 1 the clustered index (a PRIMARY KEY NONCLUSTERED
 * takes 2 and up, so does a nonclustered index on a heap), CREATE
 * CLUSTERED INDEX is clustered, a second clustered index is 1902
 * (8112 within one CREATE TABLE), and CREATE INDEX's options end
 * before the next statement of the batch.
 */
START_TEST(test_keys_and_indexes)
{
	struct sim_session *s = sa("master");

	ok(s, "create database d; use d");
	ok(s,
	    "create table k (id int not null primary key, v int not null, "
	    "constraint k_v unique (v)); insert into k values (1, 1), (2, 2), "
	    "(3, 3)");
	ok(s, "update k set id = id + 1");
	ck_assert(has("DONE fd 10 3"));
	ok(s, "update k set v = 4 - v");
	ok(s,
	    "update k set id = case id when 2 then 4 when 4 then 2 else id "
	    "end");
	ok(s, "select id, v from k order by id");
	ck_assert(has("ROW 2|1\nROW 3|2\nROW 4|3"));
	fails(s, "update k set id = 5 where id < 4", 2627);
	ck_assert(has("Violation of PRIMARY KEY constraint 'PK__k__"));
	ck_assert(has("Cannot insert duplicate key in object 'dbo.k'. The "
		      "duplicate key value is (5)."));
	fails(s, "update k set v = 7", 2627);
	ck_assert(has("Violation of UNIQUE KEY constraint 'k_v'. Cannot insert "
		      "duplicate key in object 'dbo.k'. The duplicate key "
		      "value is (7)."));
	row_is(s, "select sum(id), sum(v) from k", "9|6");
	ok(s,
	    "create table c2 (a int not null, b int not null, primary key "
	    "(a, b)); insert into c2 values (1, 1), (1, 2), (1, 3); update "
	    "c2 set b = b + 1");
	row_is(s, "select min(b), max(b) from c2", "2|4");

	/* sys.indexes: heap 0, clustered 1, nonclustered 2 and up */
	ok(s,
	    "create table nc (id int not null, c int not null, constraint "
	    "nc_pk primary key nonclustered (id))");
	ok(s,
	    "select index_id, type_desc, coalesce(name, '-'), is_primary_key "
	    "from sys.indexes where object_id = object_id('nc') order by "
	    "index_id");
	ck_assert(has("ROW 0|HEAP|-|0\nROW 2|NONCLUSTERED|nc_pk|1"));
	ok(s,
	    "create table uc (id int not null primary key, c int not null, "
	    "constraint uc_c unique clustered (c))");
	ok(s,
	    "select index_id, type_desc, is_primary_key from sys.indexes "
	    "where object_id = object_id('uc') order by index_id");
	ck_assert(has("ROW 1|CLUSTERED|0\nROW 2|NONCLUSTERED|1"));
	fails(s,
	    "create table two (a int not null primary key clustered, b int "
	    "not null unique clustered)",
	    8112);
	ck_assert(has("Cannot add more than one clustered index for "
		      "constraints on table 'two'."));
	ok(s, "create table h (a int not null, b int not null)");
	ok(s,
	    "create index h_b on h (b)\ncreate clustered index h_a on h (a) "
	    "with (fillfactor = 80) on [PRIMARY]\ninsert into h values (1, "
	    "2)");
	ok(s,
	    "select index_id, type, type_desc, name from sys.indexes where "
	    "object_id = object_id('h') order by index_id");
	ck_assert(has("ROW 1|1|CLUSTERED|h_a\nROW 2|2|NONCLUSTERED|h_b\n"));
	ck_assert_int_eq(R.nrows, 2);
	row_is(s, "select count(*) from h", "1");
	fails(s, "create clustered index h_x on h (b)", 1902);
	ck_assert(has("Cannot create more than one clustered index on table "
		      "'h'. Drop the existing clustered index 'h_a' before "
		      "creating another."));
	fails(s, "alter table h add constraint h_pk primary key (b)", 1902);
	ok(s, "alter table h add constraint h_pk primary key nonclustered (b)");
	ok(s, "drop index h_a on h");
	ok(s,
	    "select index_id, type_desc from sys.indexes where object_id = "
	    "object_id('h') order by index_id");
	ck_assert(has("ROW 0|HEAP\nROW 2|NONCLUSTERED\nROW 3|NONCLUSTERED"));
	engine_session_free(s);
}
END_TEST

START_TEST(test_select)
{
	struct sim_session *s = sa("master");

	ok(s, "create database d; use d");
	ok(s,
	    "create table p (id int primary key, cat nvarchar(10), price "
	    "money, qty smallint, g uniqueidentifier, d date)");
	ok(s,
	    "insert into p values (1, N'Tools', 10.5, 3, NEWID(), "
	    "'2024-01-31'), (2, N'tools', 2, 1, NULL, '2024-02-29'), (3, "
	    "N'Food', 1.25, 10, NULL, NULL), (4, NULL, 7, 2, NULL, NULL)");
	row_is(s, "select count(*) from p where cat = 'TOOLS'", "2");
	ok(s, "select top 2 id from p order by price desc");
	ck_assert(has("ROW 1\nROW 4\nDONE"));
	ok(s,
	    "select id from p order by id offset 1 rows fetch next 2 rows "
	    "only");
	ck_assert(has("ROW 2\nROW 3\nDONE"));
	ok(s,
	    "select cat, count(*) n, sum(qty) q from p where cat is not null "
	    "group by cat having count(*) >= 1 order by n desc, cat");
	ck_assert(has("META cat:nvarchar(10) n:int q:int"));
	ck_assert_int_eq(R.nrows, 2); /* Tools/tools grouped (CI) */
	row_is(s,
	    "select isnull(cat, 'none'), coalesce(null, cat, 'x') from "
	    "p where id = 4",
	    "none|x");
	row_is(s, "select x = id * 2, id as y from p where id between 2 and 2",
	    "4|2");
	ck_assert(has("META x:int y:int"));
	row_is(s,
	    "select cast(price as int), convert(varchar(10), qty), "
	    "cast('12' as bigint) + 1 from p where id = 1",
	    "11|3|13");
	ck_assert(has("META :int :varchar(10) :bigint"));
	row_is(s, "select price, price * qty from p where id = 1",
	    "10.5000|31.5000");
	ck_assert(has("META price:money :money"));
	row_is(s,
	    "select len('ab  '), datalength(N'ab'), upper('x') + "
	    "lower('Y'), substring('hello', 2, 3), replace('aXb', 'X', '-'), "
	    "concat('a', 1, null, 'b'), ltrim('  x'), rtrim('y  ') + '|'",
	    "2|4|Xy|ell|a-b|a1b|x|y|");
	row_is(s,
	    "select case when qty > 5 then 'big' when qty > 1 then 'mid' "
	    "else 'small' end from p where id = 2",
	    "small");
	ok(s,
	    "select id from p where id in (select id from p where qty > 2) "
	    "and exists (select 1 from p p2 where p2.id = p.id) order by 1");
	ck_assert(has("ROW 1\nROW 3\nDONE"));
	row_is(s, "select (select max(id) from p), nullif(1, 1)", "4|NULL");
	ok(s,
	    "select a.id, b.id from p a left join p b on b.id = a.id + 3 "
	    "order by a.id");
	ck_assert(has("ROW 1|4\nROW 2|NULL"));
	ok(s,
	    "select id from p with (nolock) where cat like 't%' union all "
	    "select 99");
	ck_assert_int_eq(R.nrows, 3);
	ok(s, "select distinct qty % 2 from p");
	ck_assert_int_eq(R.nrows, 2);
	row_is(s,
	    "select dateadd(day, 1, d), datediff(day, '2024-01-01', d), "
	    "year(d) from p where id = 2",
	    "2024-03-01|59|2024");
	ck_assert(has("META :date :int :int"));
	ok(s, "select p.*, 1 from p where id = 1");
	ck_assert_int_eq(R.ncols, 7);
	row_is(s,
	    "select object_name(object_id('p')), schema_name(), "
	    "has_perms_by_name('dbo.p', 'OBJECT', 'SELECT'), "
	    "is_srvrolemember('sysadmin'), serverproperty('EngineEdition')",
	    "p|dbo|1|1|3");
	row_is(s,
	    "select cast(serverproperty('ProductVersion') as "
	    "varchar(20)), @@servername",
	    "15.0.2000.5|simtest");
	ok(s, "select @@version");
	ck_assert(has("Microsoft SQL Server 2019"));
	row_is(s,
	    "select rows from sys.partitions where object_id = "
	    "object_id('p') and index_id in (0, 1)",
	    "4");
	row_is(
	    s, "select row_number() over (order by id desc), id from p", "1|4");
	row_is(s, "select count(*) from p where cat like '[s-u]%'", "2");
	row_is(s,
	    "select count(*) from p where cat like '_OOD' and cat not "
	    "like '[^f]%'",
	    "1");
	fails(s, "select 2147483647 + 1", 8115);
	row_is(s,
	    "select count(*) from p where cat = 'TOOLS' collate "
	    "Latin1_General_BIN",
	    "0");
	row_is(s, "select count(*) from p where d = '2024-02-29'", "1");
	ok(s,
	    "select id, cat into p2 from p where id < 3; select * from p2 "
	    "order by id");
	ck_assert(
	    has("DONE fd 10 2\nMETA id:int cat:nvarchar(10)\nROW 1|Tools"));
	fails(s, "select 1 into p3", 1038);
	row_is(s, "select count(*) from p option (recompile, maxdop 1)", "4");
	ok(s, "select top 50 percent id from p order by id desc");
	ck_assert(has("ROW 4\nROW 3\nDONE"));
	ok(s, "set rowcount 2; select id from p order by id; set rowcount 0");
	ck_assert_int_eq(R.nrows, 2);
	ck_assert(has("DONE fd 10 2"));
	row_is(s,
	    "with c (k, n) as (select cat, count(*) from p group by cat), "
	    "d as (select * from c where n > 1) select k, n from d",
	    "Tools|2");
	engine_session_free(s);
}
END_TEST

START_TEST(test_transactions)
{
	struct sim_session *s = sa("master"), *r;

	ok(s, "create database d; use d; create table t (id int primary key)");
	r = sa("d");
	ok(s, "begin tran");
	ck_assert(has("ENVB 8 8 0"));
	ck_assert(has("DONE fd 4 0"));
	row_is(s, "select @@trancount", "1");
	ok(s, "insert into t values (1)");
	ck_assert(has("DONE fd 14 1"));
	/* readers never block and see only committed data */
	row_is(r, "select count(*) from t", "0");
	ok(s, "rollback");
	ck_assert(has("ENVB 10 0 8"));
	row_is(s, "select count(*), @@trancount from t", "0|0");
	ok(s,
	    "begin transaction; insert into t values (2); begin tran; "
	    "commit; select @@trancount; commit");
	ck_assert(has("ROW 1"));
	ck_assert(has("ENVB 9 0 8"));
	row_is(r, "select count(*) from t", "1");
	fails(s, "commit", 3902);
	fails(s, "rollback", 3903);
	/* an error inside a transaction undoes only its statement */
	ok(s, "begin tran");
	fails(s, "insert into t values (3); insert into t values (2)", 2627);
	row_is(s, "select count(*), @@trancount from t", "2|1");
	ok(s, "commit");
	/* xact_abort rolls the whole transaction back */
	run(s,
	    "set xact_abort on; begin tran; insert into t values (4); "
	    "insert into t values (4); select 'not reached'");
	ck_assert_int_eq(R.lasterr, 2627);
	ck_assert(!has("not reached"));
	row_is(s, "set xact_abort off; select count(*), @@trancount from t",
	    "2|0");
	/* snapshot isolation needs the database option */
	fails(s,
	    "set transaction isolation level snapshot; begin tran; select "
	    "count(*) from t",
	    3952);
	ok(s, "rollback; set transaction isolation level read committed");
	ok(s, "alter database d set allow_snapshot_isolation on");
	ok(r,
	    "set transaction isolation level snapshot; begin tran; select "
	    "count(*) from t");
	ck_assert_str_eq(R.firstrow, "2");
	ok(s, "insert into t values (10)");
	row_is(r, "select count(*) from t", "2"); /* stable view */
	ok(r, "commit");
	row_is(r, "select count(*) from t", "3");
	/* a snapshot writer that lost the race gets 3960, tran rolled back */
	ok(r, "begin tran; select count(*) from t");
	ok(s, "insert into t values (11)");
	fails(r, "insert into t values (12)", 3960);
	ck_assert(has("ENVB 10 0 8"));
	row_is(r, "select @@trancount, count(*) from t", "0|4");
	/* read committed (the default) sees each new commit */
	ok(r,
	    "set transaction isolation level read committed; begin tran; "
	    "select count(*) from t");
	ok(s, "insert into t values (13)");
	row_is(r, "select count(*) from t; commit", "5");
	engine_session_free(r);
	engine_session_free(s);
}
END_TEST

START_TEST(test_rpc)
{
	struct sim_session *s = sa("master");
	struct sim_param a[5];
	struct sim_error e;

	ok(s,
	    "create database d; use d; create table k (id bigint primary "
	    "key, v nvarchar(10)); insert into k values (1, N'one'), (2, "
	    "N'two'), (10, N'ten')");
	memset(a, 0, sizeof(a));
	a[0].value.kind = SQLITE_TEXT;
	a[0].value.p = (unsigned char *)"select v from k where id > @p1 "
					"order by id";
	a[1].value.kind = SQLITE_TEXT;
	a[1].value.p = (unsigned char *)"@p1 bigint";
	a[2].value.kind = SQLITE_TEXT; /* converted to bigint, not text */
	a[2].value.p = (unsigned char *)"2";
	a[2].value.len = 1;
	simtype_parse("nvarchar", (int[]){ 10 }, 1, &a[2].type, &e);
	rec_reset();
	ck_assert_int_eq(engine_exec_rpc(s, "sp_executesql", a, 3, &sink), 0);
	ck_assert_str_eq(R.firstrow, "ten");
	ck_assert_int_eq(R.nrows, 1);
	ck_assert(has("DONE ff 10 1\nRETSTATUS 0\nDONE fe 0 0"));
	/* OUTPUT parameter */
	a[0].value.p = (unsigned char *)"select @n = count(*) from k";
	a[1].value.p = (unsigned char *)"@n int OUTPUT";
	a[2].value.kind = SQLITE_NULL;
	a[2].value.p = NULL;
	a[2].output = 1;
	snprintf(a[2].name, sizeof(a[2].name), "@n");
	rec_reset();
	ck_assert_int_eq(engine_exec_rpc(s, "sp_executesql", a, 3, &sink), 0);
	ck_assert(has("RETVAL 2 @n 3"));
	/* prepare / execute / unprepare */
	memset(a, 0, sizeof(a));
	a[0].output = 1;
	a[0].value.kind = SQLITE_NULL;
	a[1].value.kind = SQLITE_TEXT;
	a[1].value.p = (unsigned char *)"@a int";
	a[2].value.kind = SQLITE_TEXT;
	a[2].value.p = (unsigned char *)"select v from k where id = @a";
	rec_reset();
	ck_assert_int_eq(engine_exec_rpc(s, "sp_prepare", a, 3, &sink), 0);
	ck_assert(has("RETVAL 0  1"));
	a[0].value.kind = SQLITE_INTEGER;
	a[0].value.i = 1;
	a[0].output = 0;
	a[1].value.kind = SQLITE_INTEGER;
	a[1].value.i = 2;
	rec_reset();
	ck_assert_int_eq(engine_exec_rpc(s, "sp_execute", a, 2, &sink), 0);
	ck_assert_str_eq(R.firstrow, "two");
	rec_reset();
	ck_assert_int_eq(engine_exec_rpc(s, "sp_unprepare", a, 1, &sink), 0);
	rec_reset();
	ck_assert_int_eq(engine_exec_rpc(s, "sp_execute", a, 2, &sink), 0);
	ck_assert_int_eq(R.lasterr, 8179);
	rec_reset();
	ck_assert_int_eq(engine_exec_rpc(s, "sp_nosuch", a, 0, &sink), 0);
	ck_assert_int_eq(R.lasterr, 2812);
	ck_assert(has("DONE fe 2 0"));
	/* EXEC sp_executesql from a batch */
	row_is(
	    s, "exec sp_executesql N'select @x + 1', N'@x int', @x = 41", "42");
	engine_session_free(s);
}
END_TEST

START_TEST(test_tm_bulk_fmtonly)
{
	struct sim_session *s = sa("master");
	struct sim_column cols[2];
	struct simval v[2];
	struct sim_error e;
	int i;

	ok(s,
	    "create database d; use d; create table b (id int identity, "
	    "name varchar(10) not null, n int)");
	rec_reset();
	ck_assert_int_eq(engine_tm_begin(s, 0, &sink), 0);
	ck_assert(has("ENVB 8 8 0"));
	ok(s, "insert into b (name) values ('tm')");
	rec_reset();
	ck_assert_int_eq(engine_tm_rollback(s, 1, &sink), 0);
	ck_assert(has("ENVB 10 0 8\nENVB 8 8 0"));
	rec_reset();
	ck_assert_int_eq(engine_tm_commit(s, 0, &sink), 0);
	row_is(s, "select count(*), @@trancount from b", "0|0");
	ok(s, "SET FMTONLY ON select * from b SET FMTONLY OFF");
	ck_assert(has("META id:int name:varchar(10) n:int"));
	ck_assert_int_eq(R.nrows, 0);
	ok(s, "insert bulk b (name varchar(10), n int)");
	memset(cols, 0, sizeof(cols));
	strcpy(cols[0].name, "name");
	simtype_parse("varchar", (int[]){ 10 }, 1, &cols[0].type, &e);
	strcpy(cols[1].name, "n");
	simtype_parse("int", NULL, 0, &cols[1].type, &e);
	ck_assert_int_eq(engine_bulk_begin(s, cols, 2, &e), 0);
	for (i = 0; i < 100; i++) {
		memset(v, 0, sizeof(v));
		v[0].kind = SQLITE_TEXT;
		v[0].p = (unsigned char *)"row";
		v[0].len = 3;
		v[1].kind = SQLITE_INTEGER;
		v[1].i = i;
		if (engine_bulk_row(s, v, 2, &e) != 0)
			ck_abort_msg("bulk row: %d %s", e.number, e.msg);
	}
	rec_reset();
	ck_assert_int_eq(engine_bulk_end(s, &sink), 0);
	ck_assert(has("DONE fd 10 100"));
	row_is(s, "select count(*), sum(n), max(id) from b", "100|4950|100");
	engine_session_free(s);
}
END_TEST

START_TEST(test_persistence_and_perms)
{
	struct sim_session *s = sa("master"), *u;
	struct sim_error e;

	ok(s,
	    "create database d; use d; create table t (id int primary "
	    "key); insert into t values (7)");
	ok(s,
	    "create schema s2; create table s2.x (a int); create user alice "
	    "for login alice");
	engine_session_free(s);
	engine_close(srv);
	server_start();
	s = sa("d");
	row_is(s, "select id from t", "7");
	ck_assert_int_eq(
	    engine_login(srv, "alice", "alicepw", "d", "x", &u, &e), 0);
	fails(u, "select * from t", 229);
	ck_assert(has("The SELECT permission was denied on the object 't', "
		      "database 'd', schema 'dbo'."));
	ok(s, "grant select on t to alice");
	row_is(u, "select id from t", "7");
	fails(u, "select * from s2.x", 229);
	ok(s,
	    "grant select on schema::s2 to alice; grant view change "
	    "tracking on object::dbo.t to alice");
	ok(u, "select * from s2.x");
	ok(s,
	    "create user bob for login bob with default_schema = s2; grant "
	    "select on schema::s2 to bob");
	{
		struct sim_session *b;

		ck_assert_int_eq(
		    engine_login(srv, "bob", "bobpw", "d", "x", &b, &e), 0);
		ok(b, "select * from x"); /* s2.x via default schema */
		ck_assert(has("META a:int"));
		engine_session_free(b);
	}
	ok(s, "deny select on object::t to alice");
	fails(u, "select * from t", 229);
	fails(u, "insert into t values (8)", 229);
	row_is(u,
	    "select has_perms_by_name('dbo.t', 'OBJECT', 'SELECT'), "
	    "is_rolemember('db_owner')",
	    "0|0");
	engine_session_free(u);
	engine_session_free(s);
}
END_TEST

START_TEST(test_try_catch)
{
	struct sim_session *s = sa("master");

	ok(s,
	    "begin try select 1 / 0; select 'skipped' end try begin catch "
	    "select error_number(), error_message() end catch");
	ck_assert(has("ROW 8134|Divide by zero error encountered."));
	ck_assert(!has("skipped"));
	ck_assert_int_eq(R.nerr, 0);
	row_is(s,
	    "begin try select 'ok' end try begin catch select 'no' end "
	    "catch",
	    "ok");
	ck_assert(!has("ROW no"));
	run(s,
	    "raiserror('n=%d %s', 10, 1, 5, 'x'); raiserror('bad', 16, 1); "
	    "select 'after'");
	ck_assert(has("INFO 50000 n=5 x"));
	ck_assert(has("ERR 50000 bad"));
	ck_assert(has("ROW after"));
	row_is(s,
	    "begin try throw 50001, 'boom', 1 end try begin catch select "
	    "error_number(), error_message() end catch",
	    "50001|boom");
	fails(s, "throw 50002, 'out', 1", 50002);
	engine_session_free(s);
}
END_TEST

START_TEST(test_cross_database)
{
	struct sim_session *a = sa("master"), *b;

	ok(a,
	    "create database d1; create database d2; use d1; create table "
	    "t (id int primary key); insert into t values (1)");
	b = sa("d2");
	ok(b, "create table u (id int); set lock_timeout 2000");
	/* a write transaction in d1 must not lock master or d2 */
	ok(a, "begin tran; insert into t values (2)");
	ok(b, "insert into u values (1)");
	row_is(b, "select count(*) from d1.dbo.t", "1");
	row_is(b, "select name from sys.databases where name = 'd1'", "d1");
	ok(a, "commit");
	row_is(b, "select count(*) from d1.dbo.t", "2");
	fails(b, "select * from nosuchdb.dbo.t", 911);
	/* master's list is fresh for a session in another database */
	ok(a, "create database d3");
	row_is(b, "select db_id('d3'), count(*) from sys.databases", "7|7");
	engine_session_free(b);
	engine_session_free(a);
}
END_TEST

/* A writer thread: 200 autocommit inserts with its own session. */
static void *
writer_thread(void *arg)
{
	struct sim_session *s = arg;
	struct sim_sink quiet = sink;
	char sql[200];
	int i, *bad = util_xmalloc(sizeof(int));

	*bad = 0;
	quiet.message = rec_cancelled_msg;
	quiet.row = rec_noop_row;
	quiet.done = rec_noop_done;
	quiet.colmetadata = rec_noop_meta;
	for (i = 0; i < 200; i++) {
		snprintf(sql, sizeof(sql), "insert into c (v) values (%d)", i);
		engine_exec_batch(s, sql, &quiet);
	}
	*bad = thread_errors;
	return (bad);
}

START_TEST(test_concurrent_writers)
{
	struct sim_session *s = sa("master"), *w[4];
	pthread_t th[4];
	void *res;
	int i;

	ok(s,
	    "create database d; use d; create table c (id int identity "
	    "primary key, v int)");
	for (i = 0; i < 4; i++)
		w[i] = sa("d");
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, writer_thread, w[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &res);
		free(res);
		engine_session_free(w[i]);
	}
	ck_assert_int_eq(thread_errors, 0);
	row_is(s, "select count(*), count(distinct id), max(id) from c",
	    "800|800|800");
	engine_session_free(s);
}
END_TEST

/*
 * Decimal literals and arithmetic are exact.  They used to reach SQLite as
 * doubles: cast(12345678901234567890.5 as decimal(38,2)) came back as
 * 12345678901234567168.00 and the money minimum overflowed (8115).
 */
START_TEST(test_decimal_exact)
{
	struct sim_session *s = sa("master");

	row_is(s, "select cast(12345678901234567890.5 as decimal(38,2))",
	    "12345678901234567890.50");
	row_is(s, "select cast(-922337203685477.5808 as money)",
	    "-922337203685477.5808");
	row_is(s,
	    "select 99999999999999999999999999999999999999, "
	    "-99999999999999999999999999999999999999",
	    "99999999999999999999999999999999999999|"
	    "-99999999999999999999999999999999999999");
	row_is(s, "select 12345678901234567890123 + 1, 0.1 + 0.2, 10.0 / 3",
	    "12345678901234567890124|0.3|3.333333");
	row_is(s, "select 100000000000000000.5 * 3, 2.5 - 5, -(-2.5)",
	    "300000000000000001.5|-2.5|2.5");
	ok(s, "create database d; use d");
	ok(s, "create table m (id int primary key, v decimal(38,10))");
	ok(s,
	    "insert into m values (1, "
	    "1234567890123456789012345678.0123456789)");
	/* decimal(38,10) + numeric(10,10): precision 39 > 38, so SQL
	 * Server keeps the 29 integer digits and cuts the scale to 9. */
	row_is(s, "select v + 0.0000000001 from m where v > 1.5",
	    "1234567890123456789012345678.012345679");
	ck_assert(has("META :numeric(38,9)"));
	fails(s, "select cast(1e40 as decimal(38,0))", 8115);
	engine_session_free(s);
}
END_TEST

START_TEST(test_temp_tables)
{
	struct sim_session *a = sa("master"), *b;

	ok(a, "create database d; use d");
	b = sa("d");
	ok(a,
	    "create table #t (i int primary key, s varchar(10)); insert "
	    "into #t values (1, 'a'); insert into #t select i + 1, s from #t");
	ok(b, "create table #t (x int)"); /* private per session */
	row_is(a, "select count(*), max(i) from #t", "2|2");
	row_is(b, "select count(*) from #t", "0");
	row_is(a, "select count(*) from sys.tables", "0");
	fails(a, "insert into #t values (1, 'dup')", 2627);
	ok(a, "if object_id('tempdb..#t') is not null drop table #t");
	row_is(a, "select object_id('tempdb..#t')", "NULL");
	fails(a, "select * from #t", 208);
	engine_session_free(b);
	b = sa("d"); /* a new session starts without #t */
	fails(b, "select * from #t", 208);
	engine_session_free(b);
	/* RESETCONNECTION: back to the login database, no #t, no tran */
	ok(a, "create table #r (i int); set nocount on; begin tran; use d");
	rec_reset();
	ck_assert_int_eq(engine_session_reset(a, &sink), 0);
	ck_assert(has("ENVB 10 0 8"));
	ck_assert_str_eq(engine_session_database(a), "master");
	fails(a, "select * from #r", 208);
	ok(a, "select @@trancount");
	ck_assert(has("DONE fd 10 1")); /* NOCOUNT is off again */
	engine_session_free(a);
}
END_TEST

static char hooklog[4096];

/* A commit hook that logs "op:id[before>after] " and writes a side table. */
static int
test_hook(struct sim_session *s, const struct rowchange *c, int n,
    struct sim_error *err)
{
	int i;

	(void)s;
	(void)err;
	snprintf(
	    hooklog + strlen(hooklog), sizeof(hooklog) - strlen(hooklog), "[");
	for (i = 0; i < n; i++)
		snprintf(hooklog + strlen(hooklog),
		    sizeof(hooklog) - strlen(hooklog), "%c:%lld%s%s ", c[i].op,
		    c[i].after ? (long long)c[i].after[0].i
			       : (long long)c[i].before[0].i,
		    c[i].before && c[i].after ? ">" : "",
		    c[i].before && c[i].after ? (char *)c[i].after[1].p : "");
	snprintf(
	    hooklog + strlen(hooklog), sizeof(hooklog) - strlen(hooklog), "]");
	return (0);
}

START_TEST(test_commit_hook)
{
	struct sim_session *s = sa("master");

	ok(s,
	    "create database d; use d; create table h (id int primary key, "
	    "v varchar(5))");
	engine_set_commit_hook(srv, test_hook);
	hooklog[0] = '\0';
	ok(s, "insert into h values (1, 'a'), (2, 'b')");
	ck_assert_str_eq(hooklog, "[I:1 I:2 ]");
	hooklog[0] = '\0';
	ok(s, "begin tran; update h set v = 'z' where id = 1");
	fails(s, "insert into h values (3, 'c'), (1, 'dup')", 2627);
	ok(s, "delete from h where id = 2");
	ck_assert_str_eq(hooklog, ""); /* nothing before the commit */
	ok(s, "commit");
	ck_assert_str_eq(hooklog, "[U:1>z D:2 ]"); /* failed stmt gone */
	hooklog[0] = '\0';
	ok(s, "begin tran; insert into h values (9, 'x'); rollback");
	ok(s, "update h set v = v where id = 42"); /* no rows */
	ck_assert_str_eq(hooklog, "");
	engine_set_commit_hook(srv, NULL);
	engine_session_free(s);
}
END_TEST

static Suite *
simengine_suite(void)
{
	Suite *s = suite_create("simengine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_batch_basics);
	tcase_add_test(tc, test_batch_errors);
	tcase_add_test(tc, test_use_and_databases);
	tcase_add_test(tc, test_ddl_catalog);
	tcase_add_test(tc, test_dml);
	tcase_add_test(tc, test_keys_and_indexes);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_rpc);
	tcase_add_test(tc, test_tm_bulk_fmtonly);
	tcase_add_test(tc, test_persistence_and_perms);
	tcase_add_test(tc, test_try_catch);
	tcase_add_test(tc, test_cross_database);
	tcase_add_test(tc, test_concurrent_writers);
	tcase_add_test(tc, test_temp_tables);
	tcase_add_test(tc, test_decimal_exact);
	tcase_add_test(tc, test_commit_hook);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(simengine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
