/*
 * sim_dblib: checks mssqlsim (or a real SQL Server) through FreeTDS
 * db-lib, the library mssql-capture itself uses, so that the simulator
 * is judged by a client we did not write.
 *
 *	sim_dblib host:port user password
 *	sim_dblib
 *
 * Without arguments (as "make check" runs it) it tests the server in
 * MSSQL_TEST_ADDRESS (host:port, with MSSQL_TEST_USER and
 * MSSQL_TEST_PASSWORD) if set, else starts its own mssqlsim
 * ($top_builddir/t/mssqlsim/mssqlsim on port 0, fresh data directory)
 * and stops it at the end.
 *
 * Each check prints "ok" or "not ok" with what it saw; the last line is
 * "N passed, N failed" and the exit status is 1 if anything failed.
 * Server messages and db-lib errors are captured by the handlers into
 * sim_last_msgno / sim_last_dberr, as a real application would.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <unistd.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sybdb.h>
#include <sybfront.h>

static int sim_passed;
static int sim_failed;
static int sim_last_msgno;
static int sim_msgnos[16];
static int sim_nmsgnos;
static int sim_last_dberr;
static const char *sim_server;
static const char *sim_user;
static const char *sim_password;
static pid_t sim_pid = -1;
static char sim_dir[256];
static char sim_addr[64];

/* Record a check. */
static void
sim_check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		sim_passed++;
	else
		sim_failed++;
}

/* db-lib error handler: remember the error. */
static int
sim_err_handler(DBPROCESS *dbproc, int severity, int dberr, int oserr,
    char *dberrstr, char *oserrstr)
{
	(void)dbproc;
	(void)severity;
	(void)oserr;
	(void)oserrstr;
	sim_last_dberr = dberr;
	fprintf(stderr, "db-lib error %d: %s\n", dberr,
	    dberrstr != NULL ? dberrstr : "");
	return (INT_CANCEL);
}

/* Server message handler: remember every message number. */
static int
sim_msg_handler(DBPROCESS *dbproc, DBINT msgno, int msgstate, int severity,
    char *msgtext, char *srvname, char *procname, int line)
{
	(void)dbproc;
	(void)msgstate;
	(void)srvname;
	(void)procname;
	(void)line;
	sim_last_msgno = msgno;
	if (sim_nmsgnos < 16)
		sim_msgnos[sim_nmsgnos++] = msgno;
	if (severity > 10)
		fprintf(stderr, "server message %d: %s\n", (int)msgno, msgtext);
	return (0);
}

/* Whether a message number was seen since the last reset. */
static int
sim_saw(int msgno)
{
	int i;

	for (i = 0; i < sim_nmsgnos; i++)
		if (sim_msgnos[i] == msgno)
			return (1);
	return (0);
}

static void
sim_reset_msgs(void)
{
	sim_nmsgnos = 0;
	sim_last_msgno = 0;
	sim_last_dberr = 0;
}

/* Log in; NULL on failure. */
static DBPROCESS *
sim_connect(const char *password, const char *db)
{
	LOGINREC *login;
	DBPROCESS *dbp;

	login = dblogin();
	DBSETLUSER(login, sim_user);
	DBSETLPWD(login, password);
	DBSETLAPP(login, "sim_dblib");
	if (db != NULL)
		DBSETLDBNAME(login, db);
	dbp = dbopen(login, sim_server);
	dbloginfree(login);
	return (dbp);
}

/* Run a statement that returns no rows; 0 on success. */
static int
sim_exec(DBPROCESS *dbp, const char *sql)
{
	RETCODE rc;

	if (dbcmd(dbp, sql) == FAIL || dbsqlexec(dbp) == FAIL)
		return (-1);
	while ((rc = dbresults(dbp)) == SUCCEED)
		while (dbnextrow(dbp) != NO_MORE_ROWS)
			;
	return (rc == NO_MORE_RESULTS ? 0 : -1);
}

/* Run a query returning one value; its text in buf, 0 on success. */
static int
sim_query1(DBPROCESS *dbp, const char *sql, char *buf, size_t len)
{
	RETCODE rc;
	int got = 0;

	buf[0] = '\0';
	if (dbcmd(dbp, sql) == FAIL || dbsqlexec(dbp) == FAIL)
		return (-1);
	while ((rc = dbresults(dbp)) == SUCCEED) {
		while (dbnextrow(dbp) != NO_MORE_ROWS) {
			if (got++ > 0 || dbnumcols(dbp) < 1)
				continue;
			if (dbdata(dbp, 1) == NULL)
				snprintf(buf, len, "NULL");
			else if (dbdatlen(dbp, 1) < (DBINT)len / 4)
				dbconvert(dbp, dbcoltype(dbp, 1),
				    dbdata(dbp, 1), dbdatlen(dbp, 1), SYBCHAR,
				    (BYTE *)buf, -1);
		}
	}
	return (rc == NO_MORE_RESULTS && got > 0 ? 0 : -1);
}

/* Login failures carry the server's error numbers. */
static void
sim_test_logins(void)
{
	DBPROCESS *dbp;

	sim_reset_msgs();
	dbp = sim_connect("wrong password", NULL);
	sim_check(dbp == NULL && sim_saw(18456),
	    "bad password refused with 18456 (saw %d)", sim_last_msgno);
	if (dbp != NULL)
		dbclose(dbp);
	sim_reset_msgs();
	dbp = sim_connect(sim_password, "no_such_db");
	sim_check(dbp == NULL && sim_nmsgnos == 2 && sim_msgnos[0] == 4060 &&
		sim_msgnos[1] == 18456,
	    "unknown database refused with 4060 then 18456 (last %d)",
	    sim_last_msgno);
	if (dbp != NULL)
		dbclose(dbp);
}

/* Plain queries and values. */
static void
sim_test_queries(DBPROCESS *dbp)
{
	char buf[256];
	RETCODE rc;
	int rows = 0, ok = 1;
	DBINT v;

	sim_check(sim_query1(dbp, "select 1", buf, sizeof(buf)) == 0 &&
		strcmp(buf, "1") == 0,
	    "select 1 gives '%s'", buf);
	sim_check(
	    sim_query1(dbp, "select N'h\xc3\xa9llo'", buf, sizeof(buf)) == 0 &&
		strcmp(buf, "h\xc3\xa9llo") == 0,
	    "nvarchar literal gives '%s'", buf);
	sim_check(sim_query1(
		      dbp, "select cast(null as int)", buf, sizeof(buf)) == 0 &&
		strcmp(buf, "NULL") == 0,
	    "NULL int gives '%s'", buf);
	sim_reset_msgs();
	ok = sim_query1(dbp, "select 1/0", buf, sizeof(buf)) == -1;
	sim_check(ok && sim_saw(8134), "division by zero raises 8134 (saw %d)",
	    sim_last_msgno);
	ok = 1;
	/* Two result sets in one batch. */
	if (dbcmd(dbp, "select 10 select 20") == FAIL || dbsqlexec(dbp) == FAIL)
		ok = 0;
	while (ok && (rc = dbresults(dbp)) == SUCCEED)
		while (dbnextrow(dbp) != NO_MORE_ROWS) {
			v = *(DBINT *)dbdata(dbp, 1);
			if (v != (rows + 1) * 10)
				ok = 0;
			rows++;
		}
	sim_check(
	    ok && rows == 2, "two result sets in one batch (%d rows)", rows);
}

/* dbcancel in the middle of a large result leaves a usable connection. */
static void
sim_test_cancel(DBPROCESS *dbp)
{
	char buf[64];
	int i, ok;

	ok = sim_exec(dbp,
		 "create table #big (i int primary key, "
		 "s varchar(100))") == 0 &&
	    sim_exec(dbp,
		"insert into #big values (1, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"
		")") == 0;
	for (i = 0; ok && i < 18; i++) {
		snprintf(buf, sizeof(buf),
		    "insert into #big select i + %d, s from #big", 1 << i);
		ok = sim_exec(dbp, buf) == 0;
	}
	sim_check(ok, "built a 262144-row table");
	if (!ok)
		return;
	ok = dbcmd(dbp, "select * from #big") == SUCCEED &&
	    dbsqlexec(dbp) == SUCCEED && dbresults(dbp) == SUCCEED;
	for (i = 0; ok && i < 100; i++)
		ok = dbnextrow(dbp) == REG_ROW;
	sim_check(ok, "read 100 rows of the large result");
	sim_check(dbcancel(dbp) == SUCCEED, "dbcancel succeeds");
	sim_check(sim_query1(dbp, "select count(*) from #big", buf,
		      sizeof(buf)) == 0 &&
		strcmp(buf, "262144") == 0,
	    "connection usable after cancel: count %s", buf);
}

/* Start a private mssqlsim and wait for its "port N" line. */
static int
sim_spawn(void)
{
	const char *top = getenv("top_builddir");
	char bin[1024], data[300];
	int fds[2], port = 0;
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/t/mssqlsim/mssqlsim",
	    top != NULL ? top : ".");
	snprintf(sim_dir, sizeof(sim_dir), "%s/sim_dblib.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(sim_dir) == NULL || pipe(fds) == -1)
		return (-1);
	snprintf(data, sizeof(data), "%s", sim_dir);
	if ((sim_pid = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		/* Under timeout(1): it must not outlive us. */
		execlp("timeout", "timeout", "-k", "5", "180", bin, "--listen",
		    "127.0.0.1:0", "--data", data, "--sa-password",
		    "Sim_dblib1", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if ((f = fdopen(fds[0], "r")) == NULL ||
	    fscanf(f, "port %d", &port) != 1) {
		fprintf(stderr, "sim_dblib: %s did not start\n", bin);
		return (-1);
	}
	fclose(f);
	snprintf(sim_addr, sizeof(sim_addr), "127.0.0.1:%d", port);
	sim_server = sim_addr;
	sim_user = "sa";
	sim_password = "Sim_dblib1";
	return (0);
}

/* Stop the private mssqlsim and remove its data. */
static void
sim_unspawn(void)
{
	char cmd[300];
	int status;

	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, &status, 0);
	}
	if (sim_dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sim_dir);
		if (system(cmd) != 0)
			fprintf(
			    stderr, "sim_dblib: cannot remove %s\n", sim_dir);
	}
}

int
main(int argc, char **argv)
{
	DBPROCESS *dbp;

	if (argc == 4) {
		sim_server = argv[1];
		sim_user = argv[2];
		sim_password = argv[3];
	} else if (argc == 1 && getenv("MSSQL_TEST_ADDRESS") != NULL) {
		sim_server = getenv("MSSQL_TEST_ADDRESS");
		sim_user = getenv("MSSQL_TEST_USER");
		sim_password = getenv("MSSQL_TEST_PASSWORD");
		if (sim_user == NULL || sim_password == NULL)
			return (99);
	} else if (argc == 1) {
		alarm(120);
		if (sim_spawn() == -1) {
			sim_unspawn();
			return (99);
		}
	} else {
		fprintf(stderr, "usage: sim_dblib [host:port user password]\n");
		return (2);
	}
	if (dbinit() == FAIL)
		return (99);
	dberrhandle(sim_err_handler);
	dbmsghandle(sim_msg_handler);
	sim_reset_msgs();
	dbp = sim_connect(sim_password, NULL);
	sim_check(dbp != NULL, "login as %s", sim_user);
	if (dbp != NULL) {
		sim_test_queries(dbp);
		sim_test_cancel(dbp);
		dbclose(dbp);
	}
	sim_test_logins();
	dbexit();
	sim_unspawn();
	printf("%d passed, %d failed\n", sim_passed, sim_failed);
	return (sim_failed == 0 ? 0 : 1);
}
