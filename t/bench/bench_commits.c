/*
 * bench_commits: commits per second of single-row autocommit UPDATEs
 * of a change-tracked table through one FreeTDS db-lib connection, the
 * library mssql-capture uses (t/bench/sim_commits.sh runs it).  Each
 * UPDATE is its own batch and its own transaction, so each draws one
 * Change Tracking version; the version count is checked at the end.
 *
 *	bench_commits host:port user password [updates]
 */

#include <sys/types.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sybdb.h>
#include <sybfront.h>

static int bench_msgno;

/* db-lib errors: report and go on (the batch result says the rest). */
static int
bench_err(DBPROCESS *dbp, int sev, int dberr, int oserr, char *msg, char *osmsg)
{
	(void)dbp;
	(void)sev;
	(void)oserr;
	(void)osmsg;
	fprintf(stderr, "bench_commits: db-lib %d: %s\n", dberr, msg);
	return (INT_CANCEL);
}

/* Server messages: keep the number of errors. */
static int
bench_msg(DBPROCESS *dbp, DBINT msgno, int state, int sev, char *msg, char *srv,
    char *proc, int line)
{
	(void)dbp;
	(void)state;
	(void)srv;
	(void)proc;
	(void)line;
	if (sev > 10) {
		bench_msgno = msgno;
		fprintf(stderr, "bench_commits: Msg %d: %s\n", (int)msgno, msg);
	}
	return (0);
}

/* Run a batch and drain its results; -1 on an error. */
static int
bench_exec(DBPROCESS *dbp, const char *sql)
{
	RETCODE rc;

	bench_msgno = 0;
	if (dbcmd(dbp, sql) == FAIL || dbsqlexec(dbp) == FAIL)
		return (-1);
	while ((rc = dbresults(dbp)) != NO_MORE_RESULTS) {
		if (rc == FAIL)
			return (-1);
		while (dbnextrow(dbp) != NO_MORE_ROWS)
			;
	}
	return (bench_msgno ? -1 : 0);
}

/* One bigint from a query. */
static long long
bench_int(DBPROCESS *dbp, const char *sql)
{
	long long v = -1;
	DBBIGINT b;

	if (dbcmd(dbp, sql) == FAIL || dbsqlexec(dbp) == FAIL)
		return (-1);
	while (dbresults(dbp) == SUCCEED)
		while (dbnextrow(dbp) != NO_MORE_ROWS)
			if (dbdatlen(dbp, 1) > 0 &&
			    dbconvert(dbp, dbcoltype(dbp, 1), dbdata(dbp, 1),
				dbdatlen(dbp, 1), SYBINT8, (BYTE *)&b,
				sizeof(b)) > 0)
				v = b;
	return (v);
}

/* Connect to host:port. */
static DBPROCESS *
bench_connect(const char *server, const char *user, const char *pw)
{
	LOGINREC *login;
	DBPROCESS *dbp;

	login = dblogin();
	DBSETLUSER(login, user);
	DBSETLPWD(login, pw);
	DBSETLAPP(login, "bench_commits");
	dbp = dbopen(login, server);
	dbloginfree(login);
	return (dbp);
}

/* Database and tracked table for the run. */
static int
bench_setup(DBPROCESS *dbp)
{
	return (bench_exec(dbp,
		    "if db_id('bench_ct') is not null drop database bench_ct; "
		    "create database bench_ct") == -1 ||
		    bench_exec(dbp,
			"alter database bench_ct set change_tracking = on") ==
			-1 ||
		    bench_exec(dbp,
			"use bench_ct; create table t (id int primary key, "
			"v int, s varchar(20)); insert into t values (1, 0, "
			"'x'); alter table t enable change_tracking") == -1
		? -1
		: 0);
}

int
main(int argc, char **argv)
{
	struct timeval t0, t1;
	DBPROCESS *dbp;
	long long n = 100000, i, v0, v1;
	double secs;

	if (argc < 4) {
		fprintf(stderr,
		    "usage: bench_commits host:port user "
		    "password [updates]\n");
		return (2);
	}
	if (argc > 4)
		n = atoll(argv[4]);
	dbinit();
	dberrhandle(bench_err);
	dbmsghandle(bench_msg);
	if ((dbp = bench_connect(argv[1], argv[2], argv[3])) == NULL ||
	    bench_setup(dbp) == -1) {
		fprintf(stderr, "bench_commits: setup failed\n");
		return (1);
	}
	v0 = bench_int(dbp, "select change_tracking_current_version()");
	gettimeofday(&t0, NULL);
	for (i = 0; i < n; i++)
		if (bench_exec(dbp, "update t set v = v + 1 where id = 1") ==
		    -1) {
			fprintf(
			    stderr, "bench_commits: update %lld failed\n", i);
			return (1);
		}
	gettimeofday(&t1, NULL);
	v1 = bench_int(dbp, "select change_tracking_current_version()");
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
	printf("%lld commits in %.2f s: %.0f commits/s (CT versions %lld "
	       "-> %lld)\n",
	    n, secs, n / secs, v0, v1);
	dbclose(dbp);
	dbexit();
	return (v1 - v0 == n ? 0 : 1);
}
