/*
 * Tests of "mssql-capture verify" (supervisor/verify.c) against a
 * server: the simulator, $top_builddir/t/mssqlsim/mssqlsim, started
 * here, or a real SQL Server when MSSQL_TEST_ADDRESS, MSSQL_TEST_USER
 * and MSSQL_TEST_PASSWORD are set (MSSQL_TEST_DATABASE, default
 * master).  Exit 77 (skipped) if neither is available.
 *
 * Three source tables (an int key with every kind of value, a string
 * key, a composite integer key) are copied into a replica through
 * replica_apply_event() from rows read with worker/db.c, exactly as
 * the daemon will.  Then verify must find them equal (exit 0: the
 * canonical encodings of both sides agree for every type); after
 * hand-made drift in the replica (a changed value, a value in another
 * canonical form, a hard-deleted row, a soft-deleted row, extra rows
 * at both ends) it must exit 1 and name exactly those keys; a wrong
 * password or an unknown table exits 2 with a clear message.  Small
 * chunks (MSSQL_CAPTURE_VERIFY_CHUNK) make the walk cross many ranges.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "state.h"
#include "worker.h"

#define TEST_SA_PASSWORD "Check_verify1"
#define MIXED_ROWS 3000

/* A column of a test table: name, SQL type, type id, key ordinal. */
struct tcol {
	const char *name;
	const char *decl;
	uint32_t type_id;
	uint32_t key;
};

static const struct tcol mixed_cols[] = {
	{ "id", "int", 56, 1 },
	{ "name", "nvarchar(40)", 231, 0 },
	{ "amount", "decimal(12,4)", 106, 0 },
	{ "price", "money", 60, 0 },
	{ "flag", "bit", 104, 0 },
	{ "ratio", "real", 59, 0 },
	{ "score", "float", 62, 0 },
	{ "born", "date", 40, 0 },
	{ "at", "datetime2(3)", 42, 0 },
	{ "g", "uniqueidentifier", 36, 0 },
	{ "data", "varbinary(16)", 165, 0 },
	{ NULL, NULL, 0, 0 },
};
static const struct tcol codes_cols[] = {
	{ "code", "nvarchar(20)", 231, 1 },
	{ "qty", "int", 56, 0 },
	{ "note", "varchar(10)", 167, 0 },
	{ NULL, NULL, 0, 0 },
};
static const struct tcol pairs_cols[] = {
	{ "a", "int", 56, 1 },
	{ "b", "bigint", 127, 2 },
	{ "v", "nvarchar(10)", 231, 0 },
	{ NULL, NULL, 0, 0 },
};

static const struct tcol cpair_cols[] = {
	{ "c", "nvarchar(10)", 231, 1 },
	{ "n", "int", 56, 2 },
	{ "v", "int", 56, 0 },
	{ NULL, NULL, 0, 0 },
};

static const char *sim_bin;
static const char *capture_bin;
static pid_t sim_pid;
static char sim_dir[PATH_MAX + 8];
static char work[PATH_MAX];
static char srv_host[256];
static int srv_port;
static const char *srv_user = "sa";
static const char *srv_password = TEST_SA_PASSWORD;
static const char *srv_database = "master";

static int sim_start(void);
static void sim_stop(void);
static struct db *test_open(void);
static void run_sql(struct db *, const char *);
static void create_tables(struct db *);
static void fill_mixed(struct db *);
static void copy_table(struct db *, struct replica *, const char *,
    const struct tcol *, uint64_t *);
static void write_config(const char *, const char *);
static int run_verify(const char *, const char *, char **, char **);
static char *slurp(const char *);
static void replica_sql(const char *);
static void create_one(struct db *, const char *, const struct tcol *);
static void fixture(void);

/* Start the simulator and read its "port N" line. */
static int
sim_start(void)
{
	int fds[2];
	FILE *f;

	snprintf(sim_dir, sizeof(sim_dir), "%s/sim", work);
	if (mkdir(sim_dir, 0700) == -1 || pipe(fds) == -1)
		return (-1);
	if ((sim_pid = fork()) == -1)
		return (-1);
	if (sim_pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(sim_bin, sim_bin, "--listen", "127.0.0.1:0", "--data",
		    sim_dir, "--sa-password", TEST_SA_PASSWORD, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if ((f = fdopen(fds[0], "r")) == NULL)
		return (-1);
	if (fscanf(f, "port %d", &srv_port) != 1) {
		fclose(f);
		return (-1);
	}
	fclose(f);
	snprintf(srv_host, sizeof(srv_host), "127.0.0.1");
	return (0);
}

/* Stop the simulator. */
static void
sim_stop(void)
{
	int status;

	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, &status, 0);
		sim_pid = 0;
	}
}

/* Connect or fail. */
static struct db *
test_open(void)
{
	struct config cfg;
	struct db_error err;
	struct db *db;

	memset(&cfg, 0, sizeof(cfg));
	cfg.host = srv_host;
	cfg.port = srv_port;
	cfg.user = (char *)srv_user;
	cfg.password = (char *)srv_password;
	cfg.database = (char *)srv_database;
	cfg.tls.encrypt = CONFIG_ENCRYPT_REQUEST;
	db = db_open(&cfg, &err);
	ck_assert_msg(db != NULL, "db_open: %s", err.text);
	return (db);
}

static void
run_sql(struct db *db, const char *sql)
{
	ck_assert_msg(db_run(db, sql) == 0, "%s: %s", sql, db_error(db)->text);
}

/* CREATE TABLE from a column list; key columns form the primary key. */
static void
create_one(struct db *db, const char *table, const struct tcol *cols)
{
	char sql[2048], pk[256] = "";
	size_t i;

	snprintf(sql, sizeof(sql),
	    "IF OBJECT_ID(N'dbo.%s') IS NOT NULL DROP TABLE dbo.%s", table,
	    table);
	run_sql(db, sql);
	snprintf(sql, sizeof(sql), "CREATE TABLE dbo.%s (", table);
	for (i = 0; cols[i].name != NULL; i++) {
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
		    "%s %s %s, ", cols[i].name, cols[i].decl,
		    cols[i].key ? "NOT NULL" : "NULL");
		if (cols[i].key)
			snprintf(pk + strlen(pk), sizeof(pk) - strlen(pk),
			    "%s%s", pk[0] != '\0' ? ", " : "", cols[i].name);
	}
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
	    "PRIMARY KEY (%s))", pk);
	run_sql(db, sql);
}

static void
create_tables(struct db *db)
{
	char sql[16384];
	int i, j;

	create_one(db, "vt_mixed", mixed_cols);
	create_one(db, "vt_codes", codes_cols);
	create_one(db, "vt_pairs", pairs_cols);
	create_one(db, "vt_cpair", cpair_cols);
	fill_mixed(db);
	for (i = 0; i < 300; i += 100) {
		snprintf(sql, sizeof(sql), "INSERT INTO dbo.vt_cpair VALUES ");
		for (j = i; j < i + 100; j++)
			snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
			    "%s(N'%c%d', %d, %d)",
			    j > i ? ", " : "", /* c, n, v */
			    "aBc"[j % 3], j % 17, j, j * 2);
		run_sql(db, sql);
	}
	for (i = 0; i < 600; i += 100) {
		snprintf(sql, sizeof(sql), "INSERT INTO dbo.vt_codes VALUES ");
		for (j = i; j < i + 100; j++)
			snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
			    "%s(N'K%05d', %d, %s)", j > i ? ", " : "", j, j * 3,
			    j % 7 == 0 ? "NULL" : "'n'");
		run_sql(db, sql);
	}
	for (i = 0; i < 1200; i += 100) {
		snprintf(sql, sizeof(sql), "INSERT INTO dbo.vt_pairs VALUES ");
		for (j = i; j < i + 100; j++)
			snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
			    "%s(%d, %lld, N'v%d')", j > i ? ", " : "", j / 10,
			    (long long)(j % 10) * 10 - 40 + 5000000000LL, j);
		run_sql(db, sql);
	}
}

/* MIXED_ROWS rows with NULLs, empty strings and awkward values. */
static void
fill_mixed(struct db *db)
{
	char sql[65536];
	int i, j;

	for (i = 1; i <= MIXED_ROWS; i += 100) {
		snprintf(sql, sizeof(sql), "INSERT INTO dbo.vt_mixed VALUES ");
		for (j = i; j < i + 100 && j <= MIXED_ROWS; j++)
			snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
			    "%s(%d, %s, '%d.%04d', '-%d.5', %d, %d.25, "
			    "%d.1, '20%02d-%02d-%02d', "
			    "'2024-01-02T03:04:%02d.%03d', "
			    "'6F9619FF-8B86-D011-B42D-%012d', %s)",
			    j > i ? ", " : "", j * 3,
			    j % 11 == 0       ? "NULL"
				: j % 13 == 0 ? "N''"
					      : "N'n\xc3\xa9\"x'",
			    j, j % 10000, j, j % 2, j, j, j % 100, j % 12 + 1,
			    j % 28 + 1, j % 60, j % 1000, j,
			    j % 5 == 0 ? "NULL" : "0x00ff10");
		run_sql(db, sql);
	}
}

/* Copy a source table into the replica, as the daemon would. */
static void
copy_table(struct db *db, struct replica *r, const char *table,
    const struct tcol *cols, uint64_t *ver)
{
	struct frame_schema s;
	struct frame_column c;
	struct frame_event ev;
	struct frame_value vals[16];
	struct replica_table *rt;
	char text[16][DBVALUE_TEXT_MAX], sql[256], *cause = NULL;
	int i, n, k;

	frame_schema_init(&s, srv_database, "dbo", table, FRAME_MODE_CT);
	for (n = 0; cols[n].name != NULL; n++) {
		memset(&c, 0, sizeof(c));
		c.name = (char *)cols[n].name;
		c.type_name = (char *)cols[n].decl;
		c.type_id = cols[n].type_id;
		c.key_ordinal = cols[n].key;
		c.precision = cols[n].type_id == 106 ? 12 : 0;
		c.scale = cols[n].type_id == 106 ? 4 : 0;
		c.max_length = cols[n].type_id == 231 ? 40 : 4;
		frame_schema_add_column(&s, &c);
	}
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_msg(rt != NULL, "%s", cause);
	snprintf(sql, sizeof(sql), "SELECT * FROM dbo.%s", table);
	ck_assert_int_eq(db_exec(db, sql), 0);
	ck_assert_int_eq(db_next_result(db), 1);
	ck_assert_int_eq(replica_begin(r, &cause), 0);
	while (db_next_row(db) == 1) {
		memset(&ev, 0, sizeof(ev));
		ev.op = FRAME_OP_CREATE;
		ev.snapshot = 1;
		++*ver;
		for (k = 0; k < 8; k++)
			ev.pos[k] = (uint8_t)(*ver >> (56 - 8 * k));
		ev.poslen = FRAME_POS_CT_SIZE;
		snprintf(ev.ts, sizeof(ev.ts), "2026-01-01T00:00:00Z");
		for (i = 0; i < n; i++)
			ck_assert_int_eq(db_value(db, i, &vals[i], text[i]), 0);
		ev.values = vals;
		ck_assert_msg(
		    replica_apply_event(rt, &s, &ev, NULL, &cause) == 0, "%s",
		    cause);
	}
	ck_assert_int_eq(db_next_result(db), 0);
	ck_assert_msg(replica_commit(r, &cause) == 0, "%s", cause);
	frame_schema_free(&s);
}

/* The configuration verify runs with. */
static void
write_config(const char *path, const char *password)
{
	char replica[PATH_MAX + 32];
	FILE *f;

	snprintf(replica, sizeof(replica), "%s/replica.db", work);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f,
	    "{\"address\": \"%s:%d\", \"database\": \"%s\", \"user\": \"%s\", "
	    "\"password\": \"%s\", \"replica\": {\"path\": \"%s\"}, "
	    "\"bindings\": [{\"namespace\": \"dbo\", \"stream\": "
	    "\"vt_mixed\"}, {\"namespace\": \"dbo\", \"stream\": "
	    "\"vt_codes\"}, {\"namespace\": \"dbo\", \"stream\": "
	    "\"vt_pairs\"}, {\"namespace\": \"dbo\", \"stream\": "
	    "\"vt_cpair\"}]}\n",
	    srv_host, srv_port, srv_database, srv_user, password, replica);
	fclose(f);
}

/* A whole file, NUL-terminated. */
static char *
slurp(const char *path)
{
	FILE *f;
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc(n + 1);
	ck_assert_int_eq(fread(buf, 1, n, f), n);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/* Run "mssql-capture -c cfg verify [table]": exit status, output. */
static int
run_verify(const char *cfg, const char *table, char **out, char **err)
{
	char opath[PATH_MAX + 8], epath[PATH_MAX + 8];
	pid_t pid;
	int status, fd;

	snprintf(opath, sizeof(opath), "%s/out", work);
	snprintf(epath, sizeof(epath), "%s/err", work);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		setenv("MSSQL_CAPTURE_VERIFY_CHUNK", "256", 1);
		execl(capture_bin, capture_bin, "-c", cfg, "verify", table,
		    (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*out = slurp(opath);
	*err = slurp(epath);
	ck_assert_msg(WIFEXITED(status), "verify died");
	return (WEXITSTATUS(status));
}

/* Change the replica behind the daemon's back. */
static void
replica_sql(const char *sql)
{
	char path[PATH_MAX + 16];
	sqlite3 *db;
	char *msg = NULL;

	snprintf(path, sizeof(path), "%s/replica.db", work);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s: %s", sql, msg);
	sqlite3_close(db);
}

/* Fill the source and the replica once, before the tests. */
static void
fixture(void)
{
	struct replica *r;
	struct db *db;
	char path[PATH_MAX + 16], *cause = NULL;
	uint64_t ver = 0;

	db = test_open();
	create_tables(db);
	snprintf(path, sizeof(path), "%s/replica.db", work);
	r = replica_open(path, 0, &cause);
	ck_assert_msg(r != NULL, "%s", cause);
	copy_table(db, r, "vt_mixed", mixed_cols, &ver);
	copy_table(db, r, "vt_codes", codes_cols, &ver);
	copy_table(db, r, "vt_pairs", pairs_cols, &ver);
	copy_table(db, r, "vt_cpair", cpair_cols, &ver);
	replica_close(r);
	db_close(db);
	snprintf(path, sizeof(path), "%s/good.json", work);
	write_config(path, srv_password);
	snprintf(path, sizeof(path), "%s/bad.json", work);
	write_config(path, "not the password");
}

/* A faithful replica is equal, every type included. */
START_TEST(test_equal)
{
	char cfg[PATH_MAX + 16], *out, *err;
	int rc;

	snprintf(cfg, sizeof(cfg), "%s/good.json", work);
	rc = run_verify(cfg, NULL, &out, &err);
	ck_assert_msg(rc == 0, "exit %d\n%s%s", rc, out, err);
	ck_assert_msg(strstr(out,
			  "dbo.vt_mixed: equal: source 3000 rows, "
			  "replica 3000 rows") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "dbo.vt_codes: equal") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "dbo.vt_pairs: equal") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "dbo.vt_cpair: equal") != NULL, "%s", out);
	free(out);
	free(err);
}
END_TEST

/* Drift: exactly the changed keys are named, exit 1. */
START_TEST(test_drift)
{
	static const char *want[] = {
		"differs: dbo.vt_mixed id=126\n",
		"differs: dbo.vt_mixed id=27\n",
		"missing: dbo.vt_mixed id=21\n",
		"missing: dbo.vt_mixed id=4500\n",
		"extra: dbo.vt_mixed id=-5\n",
		"extra: dbo.vt_mixed id=100000\n",
		"extra: dbo.vt_mixed id=1000\n",
		"differs: dbo.vt_codes code=\"K00017\"\n",
		"missing: dbo.vt_codes code=\"K00003\"\n",
		"extra: dbo.vt_codes code=\"zzz\"\n",
		"missing: dbo.vt_pairs a=3,b=4999999990\n",
		"extra: dbo.vt_pairs a=200,b=1\n",
		"missing: dbo.vt_cpair c=\"B13\",n=13\n",
		"extra: dbo.vt_cpair c=\"b13\",n=13\n",
		"differs: dbo.vt_cpair c=\"c14\",n=14\n",
	};
	char cfg[PATH_MAX + 16], *out, *err, *line, *p;
	size_t i;
	int rc, lines = 0;

	replica_sql(
	    "UPDATE \"master_dbo.vt_mixed\" SET name = 'changed' WHERE id = "
	    "126;"
	    "UPDATE \"master_dbo.vt_mixed\" SET amount = '9.0' WHERE id = 27;"
	    "DELETE FROM \"master_dbo.vt_mixed\" WHERE id = 21;"
	    "UPDATE \"master_dbo.vt_mixed\" SET _deleted = 1 WHERE id = 4500;"
	    "INSERT INTO \"master_dbo.vt_mixed\" (id, _inserted_at, "
	    " _updated_at) VALUES (-5, 'x', 'x'), (100000, 'x', 'x'),"
	    " (1000, 'x', 'x');"
	    "UPDATE \"master_dbo.vt_codes\" SET qty = 1 WHERE code = 'K00017';"
	    "DELETE FROM \"master_dbo.vt_codes\" WHERE code = 'K00003';"
	    "INSERT INTO \"master_dbo.vt_codes\" (code, _inserted_at, "
	    " _updated_at) VALUES ('zzz', 'x', 'x');"
	    "DELETE FROM \"master_dbo.vt_pairs\" WHERE a = 3 AND "
	    " b = 4999999990;"
	    "INSERT INTO \"master_dbo.vt_pairs\" (a, b, _inserted_at, "
	    " _updated_at) VALUES (200, 1, 'x', 'x');"
	    "UPDATE \"master_dbo.vt_cpair\" SET c = 'b13' WHERE c = 'B13' AND "
	    "n = 13;"
	    "UPDATE \"master_dbo.vt_cpair\" SET v = NULL WHERE c = 'c14' AND n "
	    "= 14;");
	snprintf(cfg, sizeof(cfg), "%s/good.json", work);
	rc = run_verify(cfg, NULL, &out, &err);
	ck_assert_msg(rc == 1, "exit %d\n%s%s", rc, out, err);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(
		    strstr(out, want[i]) != NULL, "no %s in\n%s", want[i], out);
	for (line = out; (p = strchr(line, '\n')) != NULL; line = p + 1)
		lines += strncmp(line, "missing: ", 9) == 0 ||
		    strncmp(line, "extra: ", 7) == 0 ||
		    strncmp(line, "differs: ", 9) == 0;
	ck_assert_msg(lines == (int)(sizeof(want) / sizeof(want[0])),
	    "%d difference lines:\n%s", lines, out);
	ck_assert_msg(strstr(out,
			  "dbo.vt_mixed: DRIFT: source 3000 rows, "
			  "replica 3001 rows, 2 missing, 3 extra, "
			  "2 differ") != NULL,
	    "%s", out);
	free(out);
	free(err);

	/* One table named on the command line. */
	rc = run_verify(cfg, "dbo.vt_codes", &out, &err);
	ck_assert_msg(rc == 1, "exit %d\n%s%s", rc, out, err);
	ck_assert_ptr_null(strstr(out, "vt_mixed"));
	ck_assert_ptr_nonnull(strstr(out, "extra: dbo.vt_codes code=\"zzz\""));
	free(out);
	free(err);
}
END_TEST

/* Errors: exit 2 with a message that says what is wrong. */
START_TEST(test_errors)
{
	char cfg[PATH_MAX + 16], *out, *err;
	int rc;

	snprintf(cfg, sizeof(cfg), "%s/bad.json", work);
	rc = run_verify(cfg, NULL, &out, &err);
	ck_assert_msg(rc == 2, "exit %d\n%s%s", rc, out, err);
	ck_assert_msg(strstr(err, "cannot connect") != NULL &&
		strstr(err, "Login failed") != NULL,
	    "%s", err);
	free(out);
	free(err);
	snprintf(cfg, sizeof(cfg), "%s/good.json", work);
	rc = run_verify(cfg, "dbo.no_such_table", &out, &err);
	ck_assert_msg(rc == 2, "exit %d\n%s%s", rc, out, err);
	ck_assert_msg(
	    strstr(err, "dbo.no_such_table: not in the replica") != NULL, "%s",
	    err);
	free(out);
	free(err);
}
END_TEST

int
main(void)
{
	const char *addr = getenv("MSSQL_TEST_ADDRESS"), *top, *bin;
	static char simpath[PATH_MAX], cappath[PATH_MAX];
	const char *base = getenv("TMPDIR");
	Suite *s;
	TCase *tc;
	SRunner *sr;
	char cmd[PATH_MAX + 16];
	int failed;

	log_init("check_verify", LOG_LEVEL_WARN, 0);
	top = getenv("top_builddir");
	bin = getenv("MSSQL_CAPTURE");
	snprintf(cappath, sizeof(cappath), "%s/mssql-capture",
	    top != NULL ? top : ".");
	capture_bin = bin != NULL ? bin : cappath;
	snprintf(work, sizeof(work), "%s/check_verify.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(work) == NULL || access(capture_bin, X_OK) == -1) {
		fprintf(stderr, "check_verify: no %s\n", capture_bin);
		return (77);
	}
	if (addr != NULL && *addr != '\0') {
		srv_user = getenv("MSSQL_TEST_USER");
		srv_password = getenv("MSSQL_TEST_PASSWORD");
		if (getenv("MSSQL_TEST_DATABASE") != NULL)
			srv_database = getenv("MSSQL_TEST_DATABASE");
		if (srv_user == NULL || srv_password == NULL)
			return (77);
		snprintf(srv_host, sizeof(srv_host), "%s", addr);
		srv_port = 1433;
		if (strchr(srv_host, ':') != NULL) {
			srv_port = atoi(strchr(srv_host, ':') + 1);
			*strchr(srv_host, ':') = '\0';
		}
	} else {
		snprintf(simpath, sizeof(simpath), "%s/t/mssqlsim/mssqlsim",
		    top != NULL ? top : ".");
		sim_bin = simpath;
		if (access(sim_bin, X_OK) == -1 || sim_start() == -1) {
			fprintf(stderr, "check_verify: %s did not start\n",
			    sim_bin);
			sim_stop();
			return (77);
		}
	}
	s = suite_create("verify");
	tc = tcase_create("verify");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, fixture, NULL);
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_drift);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sim_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd) != 0)
		fprintf(stderr, "check_verify: cannot remove %s\n", work);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
