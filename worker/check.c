/*
 * check.c: "mssql-capture check": is everything in place for capture?
 *
 * It asks what a worker will need, in the order an operator fixes
 * things: the network and TLS, the login, the database, the server
 * version; then the database's Change Tracking and CDC, snapshot
 * isolation and the retention of changes; then, per table (the
 * bindings, or with none the tables "run" would bind), that it exists,
 * has a primary key, may be read, and has what its mode needs: Change
 * Tracking on it and VIEW CHANGE TRACKING, or a CDC capture instance
 * and membership of its gating role.  Each answer is one line, PASS,
 * WARN or FAIL, and a FAIL (or a WARN that has one) carries the exact
 * SQL a DBA runs to fix it, in the seeds' words.  When the connection
 * or the login fails, the checks that need one are reported as one
 * SKIP line rather than as a cascade of failures.
 *
 * Only the catalog and the permission functions are asked
 * (HAS_PERMS_BY_NAME, IS_ROLEMEMBER): nothing is read from the tables,
 * so check is cheap and safe to run against production.  The catalog of every
 * table comes from discover_load(), the same view of the database that
 * "run" and "discover" have; the mode of a table is decided as
 * introspect_mode() decides it (auto: CDC if there is a capture
 * instance, else Change Tracking).
 *
 * Output: text lines as the checks run, or with --json one array of
 * {status, check, table?, detail, fix?} at the end.  Exit 0 without a
 * FAIL, 1 with one, 2 for a usage or configuration error.
 */

#include "config.h"

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "supervisor.h"
#include "worker.h"

#define CHECK_MAX_VALUES 10
#define CHECK_RETENTION_MIN (3 * 24 * 60) /* minutes: the seeds' advice */
#define CHECK_MIN_MAJOR 13 /* SQL Server 2016 */

enum check_status { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_SKIP };

/* One answer. */
struct check_item {
	enum check_status status;
	char *check;
	char *table; /* NULL: about the server or the database */
	char *detail;
	char *fix; /* SQL, or NULL */
};

/* A table to check and the mode it is bound with. */
struct check_target {
	const char *schema;
	const char *name;
	enum config_mode mode;
};

struct check {
	struct cmd_opts *opts;
	struct config *cfg;
	struct db *db;
	struct discover disc;
	char *qdb; /* [database] */
	char *quser; /* [database user] */
	char *login;
	int snapshot; /* snapshot_isolation_state */
	int rcsi;
	int cdc_db;
	int ct_db;
	int ct_auto_cleanup;
	int64_t ct_retention; /* in ct_units */
	int ct_units; /* 1 minutes, 2 hours, 3 days */
	struct check_target *targets;
	size_t ntargets;
	int want_ct; /* some table is captured with ... */
	int want_cdc;
	struct check_item *items;
	size_t nitems;
	size_t nfail;
};

static void check_add(struct check *, enum check_status, const char *,
    const char *, const char *, const char *, ...) printflike(6, 7);
static void check_print(const struct check_item *);
static int check_row(struct check *, const char *, const struct db_param *,
    size_t, struct frame_value *, int, char **);
static void check_row_free(struct frame_value *, int);
static char *check_key_names(const struct discover_table *);
static int check_connect(struct check *);
static void check_connect_failed(struct check *, const struct db_error *);
static void check_tls(struct check *);
static void check_skip_rest(struct check *);
static int check_session(struct check *);
static void check_version(struct check *, const char *, const char *, int);
static void check_ct_database(struct check *);
static int check_targets(struct check *);
static enum config_mode check_mode(
    struct check *, const struct check_target *, struct discover_table *);
static void check_database(struct check *);
static void check_snapshot(struct check *);
static void check_ct_retention(struct check *);
static void check_cdc_jobs(struct check *);
static void check_table(struct check *, const struct check_target *);
static void check_table_ct(struct check *, struct discover_table *, int);
static void check_table_cdc(struct check *, struct discover_table *);
static int check_perms(struct check *, const char *, const char *, int *);
static const char *check_units(int);
static json_t *check_json(const struct check *);
static void check_free(struct check *);
static void check_run(struct check *);

static const char *check_status_names[] = { "PASS", "WARN", "FAIL", "SKIP" };

/* Record (and in text mode print) one answer. */
static void
check_add(struct check *ck, enum check_status status, const char *what,
    const char *table, const char *fix, const char *fmt, ...)
{
	struct check_item *it;
	va_list ap;

	ck->items = xreallocarray(ck->items, ck->nitems + 1, sizeof(*it));
	it = &ck->items[ck->nitems++];
	it->status = status;
	it->check = xstrdup(what);
	it->table = table != NULL ? xstrdup(table) : NULL;
	it->fix = fix != NULL ? xstrdup(fix) : NULL;
	va_start(ap, fmt);
	xvasprintf(&it->detail, fmt, ap);
	va_end(ap);
	if (status == CHECK_FAIL)
		ck->nfail++;
	if (!ck->opts->json)
		check_print(it);
}

/* "FAIL  change tracking dbo.t: detail", then the fix indented. */
static void
check_print(const struct check_item *it)
{
	printf("%s  %s%s%s: %s\n", check_status_names[it->status], it->check,
	    it->table != NULL ? " " : "", it->table != NULL ? it->table : "",
	    it->detail);
	if (it->fix != NULL)
		printf("      fix: %s\n", it->fix);
	fflush(stdout);
}

/*
 * Run sql with its parameters and read its first row (n values) into
 * v, strings and binaries copied (check_row_free()): 1 a row, 0 none,
 * -1 failed with *cause (the server's words).
 */
static int
check_row(struct check *ck, const char *sql, const struct db_param *p,
    size_t np, struct frame_value *v, int n, char **cause)
{
	char text[CHECK_MAX_VALUES][DBVALUE_TEXT_MAX];
	const struct db_error *e;
	uint8_t *copy;
	int i, rc;

	for (i = 0; i < n; i++)
		v[i].type = FRAME_VALUE_NULL;
	if ((np > 0 ? db_exec_params(ck->db, sql, p, np)
		    : db_exec(ck->db, sql)) == -1 ||
	    db_next_result(ck->db) == -1 || (rc = db_next_row(ck->db)) == -1)
		goto fail;
	for (i = 0; rc == 1 && i < n; i++) {
		if (db_value(ck->db, i, &v[i], text[i]) == -1) {
			check_row_free(v, i);
			goto fail;
		}
		if (v[i].type != FRAME_VALUE_STR &&
		    v[i].type != FRAME_VALUE_BIN)
			continue;
		copy = xmalloc(v[i].v.s.len + 1);
		memcpy(copy, v[i].v.s.ptr, v[i].v.s.len);
		copy[v[i].v.s.len] = '\0';
		v[i].v.s.ptr = copy;
	}
	if (db_drain(ck->db) == -1) {
		check_row_free(v, n);
		goto fail;
	}
	return (rc);
fail:
	e = db_error(ck->db);
	if (e->number != 0)
		xasprintf(cause, "%s (%d)", e->text, e->number);
	else
		xasprintf(cause, "%s", e->text);
	return (-1);
}

/* Free the copies check_row() made. */
static void
check_row_free(struct frame_value *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (v[i].type == FRAME_VALUE_STR ||
		    v[i].type == FRAME_VALUE_BIN)
			free((void *)v[i].v.s.ptr);
		v[i].type = FRAME_VALUE_NULL;
	}
}

/* Connect; -1 (with the reasons reported) if that failed. */
static int
check_connect(struct check *ck)
{
	struct db_error err;

	if ((ck->db = db_open(ck->cfg, &err)) == NULL) {
		check_connect_failed(ck, &err);
		check_skip_rest(ck);
		return (-1);
	}
	check_add(ck, CHECK_PASS, "connect", NULL, NULL, "%s:%d", ck->cfg->host,
	    ck->cfg->port);
	check_tls(ck);
	return (0);
}

/* Say which step of connecting failed: network, login or database. */
static void
check_connect_failed(struct check *ck, const struct db_error *err)
{
	const struct config *cfg = ck->cfg;
	int i, login = 0, database = 0;
	char *fix, *qu;

	for (i = 0; i < err->nnumbers; i++) {
		login |= err->numbers[i] == 18456;
		database |= err->numbers[i] == 4060;
	}
	if (!login && !database) {
		check_add(ck, CHECK_FAIL, "connect", NULL, NULL, "%s:%d: %s%s",
		    cfg->host, cfg->port, err->text,
		    cfg->tls.encrypt == CONFIG_ENCRYPT_REQUIRE
			? " (tls.encrypt is require: the server must offer "
			  "TLS with a certificate that tls.ca_file or the "
			  "system store trusts)"
			: "; check the address, the port and that the "
			  "server accepts TCP connections");
		return;
	}
	check_add(ck, CHECK_PASS, "connect", NULL, NULL, "%s:%d answered",
	    cfg->host, cfg->port);
	check_tls(ck);
	if (database) {
		qu = introspect_quote(cfg->user);
		xasprintf(&fix, "USE %s; CREATE USER %s FOR LOGIN %s;", ck->qdb,
		    qu, qu);
		check_add(ck, CHECK_FAIL, "database", NULL, fix,
		    "%s: %s (4060): it does not exist, or login '%s' has no "
		    "user in it",
		    ck->qdb, err->text, cfg->user);
		free(fix);
		free(qu);
		return;
	}
	check_add(ck, CHECK_FAIL, "login", NULL, NULL,
	    "%s (18456): check the user and the password (taken from %s), "
	    "that the login exists and is enabled, and that the server "
	    "allows SQL Server authentication (mixed mode)",
	    err->text,
	    cfg->password_source != NULL ? cfg->password_source : "nowhere");
}

/* What the connection's TLS is, as configured. */
static void
check_tls(struct check *ck)
{
	const struct config *cfg = ck->cfg;

	switch (cfg->tls.encrypt) {
	case CONFIG_ENCRYPT_OFF:
		check_add(ck, CHECK_WARN, "tls", NULL, NULL,
		    "tls.encrypt is off: rows travel unencrypted; set it to "
		    "require to insist on TLS");
		break;
	case CONFIG_ENCRYPT_REQUEST:
		check_add(ck, CHECK_PASS, "tls", NULL, NULL,
		    "tls.encrypt is request: TLS when the server offers it, "
		    "%s",
		    cfg->tls.ca_file != NULL &&
			    !cfg->tls.trust_server_certificate
			? "certificate verified against tls.ca_file"
			: "certificate not verified (require verifies it)");
		break;
	case CONFIG_ENCRYPT_REQUIRE:
		check_add(ck, CHECK_PASS, "tls", NULL, NULL,
		    "tls.encrypt is require: TLS in use, %s",
		    cfg->tls.trust_server_certificate
			? "certificate not verified "
			  "(trust_server_certificate)"
			: cfg->tls.ca_file != NULL
			? "certificate verified against tls.ca_file"
			: "certificate verified against the system store");
		break;
	}
}

/* The connection failed: the other checks cannot run. */
static void
check_skip_rest(struct check *ck)
{
	check_add(ck, CHECK_SKIP, "remaining checks", NULL, NULL,
	    "skipped: the server version, permissions, Change Tracking and "
	    "CDC setup, primary keys, snapshot isolation and retention "
	    "need a connection");
}

/* Login, database, server version and the database's options. */
static int
check_session(struct check *ck)
{
	static const char sql[] =
	    "SELECT DB_NAME(), USER_NAME(), SUSER_SNAME(), "
	    "CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), "
	    "CAST(SERVERPROPERTY('EngineEdition') AS int), @@VERSION, "
	    "d.snapshot_isolation_state, d.is_read_committed_snapshot_on, "
	    "d.is_cdc_enabled FROM sys.databases d WHERE d.database_id = "
	    "DB_ID()";
	struct frame_value v[CHECK_MAX_VALUES];
	char *cause = NULL, *db, *user, *product, *version;
	int rc;

	if ((rc = check_row(ck, sql, NULL, 0, v, 9, &cause)) != 1) {
		check_add(ck, CHECK_FAIL, "database", NULL, NULL,
		    "cannot read sys.databases: %s",
		    rc == 0 ? "no row for DB_ID()" : cause);
		free(cause);
		check_skip_rest(ck);
		return (-1);
	}
	db = introspect_text(&v[0]);
	user = introspect_text(&v[1]);
	ck->login = introspect_text(&v[2]);
	product = introspect_text(&v[3]);
	version = introspect_text(&v[5]);
	ck->snapshot = (int)introspect_int(&v[6]);
	ck->rcsi = introspect_int(&v[7]) != 0;
	ck->cdc_db = introspect_int(&v[8]) != 0;
	free(ck->qdb);
	ck->qdb = introspect_quote(db);
	ck->quser = introspect_quote(user);
	check_add(ck, CHECK_PASS, "login", NULL, NULL,
	    "as login '%s', database user '%s'", ck->login, user);
	check_add(ck, CHECK_PASS, "database", NULL, NULL, "%s", ck->qdb);
	check_version(ck, version, product, (int)introspect_int(&v[4]));
	check_row_free(v, 9);
	free(db);
	free(user);
	free(product);
	free(version);
	return (0);
}

/* The server version: 2016 (13.x) and later are supported. */
static void
check_version(
    struct check *ck, const char *version, const char *product, int edition)
{
	size_t len = strcspn(version, "\r\n");
	int major = atoi(product);

	while (len > 0 && (version[len - 1] == ' ' || version[len - 1] == '\t'))
		len--;
	if (major < CHECK_MIN_MAJOR)
		check_add(ck, CHECK_WARN, "server version", NULL, NULL,
		    "%.*s (%s): older than SQL Server 2016 (13.x), which "
		    "mssql-capture needs",
		    (int)len, version, product);
	else
		check_add(ck, CHECK_PASS, "server version", NULL, NULL,
		    "%.*s (%s, engine edition %d)", (int)len, version, product,
		    edition);
}

/* Change Tracking settings of the database (none: not enabled). */
static void
check_ct_database(struct check *ck)
{
	static const char sql[] =
	    "SELECT is_auto_cleanup_on, retention_period, "
	    "retention_period_units FROM sys.change_tracking_databases "
	    "WHERE database_id = DB_ID()";
	struct frame_value v[3];
	char *cause = NULL;
	int rc;

	if ((rc = check_row(ck, sql, NULL, 0, v, 3, &cause)) == -1) {
		check_add(ck, CHECK_FAIL, "change tracking", NULL, NULL,
		    "cannot read sys.change_tracking_databases: %s", cause);
		free(cause);
		return;
	}
	ck->ct_db = rc == 1;
	if (rc == 1) {
		ck->ct_auto_cleanup = introspect_int(&v[0]) != 0;
		ck->ct_retention = introspect_int(&v[1]);
		ck->ct_units = (int)introspect_int(&v[2]);
	}
	check_row_free(v, 3);
}

/*
 * The tables to check: the bindings, or those "run" would bind; -1 if
 * there are none (reported).
 */
static int
check_targets(struct check *ck)
{
	const struct config *cfg = ck->cfg;
	struct check_target *t;
	size_t i, n = 0;

	if (cfg->nbindings > 0) {
		ck->targets = xcalloc(cfg->nbindings, sizeof(*t));
		for (i = 0; i < cfg->nbindings; i++) {
			t = &ck->targets[n++];
			t->schema = cfg->bindings[i].namespace;
			t->name = cfg->bindings[i].stream;
			t->mode = cfg->bindings[i].mode;
		}
	} else {
		ck->targets = xcalloc(ck->disc.ntables + 1, sizeof(*t));
		for (i = 0; i < ck->disc.ntables; i++) {
			if (!discover_bindable(
				cfg, &ck->disc, &ck->disc.tables[i]))
				continue;
			t = &ck->targets[n++];
			t->schema = ck->disc.tables[i].schema;
			t->name = ck->disc.tables[i].name;
			t->mode = cfg->mode;
		}
	}
	ck->ntargets = n;
	if (n == 0) {
		check_add(ck, CHECK_FAIL, "tables", NULL,
		    "ALTER TABLE [schema].[table] ENABLE CHANGE_TRACKING;",
		    "no bindings, and discovery found no table with a primary "
		    "key and Change Tracking or a CDC capture instance in %s",
		    ck->qdb);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		switch (check_mode(ck, &ck->targets[i],
		    discover_find(&ck->disc, ck->targets[i].schema,
			ck->targets[i].name))) {
		case CONFIG_MODE_CT:
			ck->want_ct = 1;
			break;
		case CONFIG_MODE_CDC:
			ck->want_cdc = 1;
			break;
		default:
			break;
		}
	}
	return (0);
}

/* The mode a table will be captured in, as introspect_mode() picks. */
static enum config_mode
check_mode(
    struct check *ck, const struct check_target *tg, struct discover_table *t)
{
	if (tg->mode != CONFIG_MODE_AUTO)
		return (tg->mode);
	if (t != NULL && discover_has_cdc(&ck->disc, t))
		return (CONFIG_MODE_CDC);
	return (CONFIG_MODE_CT);
}

/* Change Tracking and CDC on the database, as the tables need them. */
static void
check_database(struct check *ck)
{
	char *fix;

	if (ck->ct_db)
		check_add(ck, CHECK_PASS, "change tracking", NULL, NULL,
		    "enabled on database %s", ck->qdb);
	else if (ck->want_ct) {
		xasprintf(&fix,
		    "ALTER DATABASE %s SET CHANGE_TRACKING = ON "
		    "(CHANGE_RETENTION = 3 DAYS, AUTO_CLEANUP = ON);",
		    ck->qdb);
		check_add(ck, CHECK_FAIL, "change tracking", NULL, fix,
		    "not enabled on database %s", ck->qdb);
		free(fix);
	}
	if (ck->cdc_db)
		check_add(ck, CHECK_PASS, "cdc", NULL, NULL,
		    "enabled on database %s", ck->qdb);
	else if (ck->want_cdc) {
		xasprintf(&fix, "USE %s; EXEC sys.sp_cdc_enable_db;", ck->qdb);
		check_add(ck, CHECK_FAIL, "cdc", NULL, fix,
		    "not enabled on database %s (enabling it needs sysadmin)",
		    ck->qdb);
		free(fix);
	}
}

/* Snapshot isolation: what backfill reads at. */
static void
check_snapshot(struct check *ck)
{
	char *fix;

	if (ck->snapshot == 1) {
		check_add(ck, CHECK_PASS, "snapshot isolation", NULL, NULL,
		    "ALLOW_SNAPSHOT_ISOLATION is ON: each backfill chunk and "
		    "poll reads one consistent snapshot");
		return;
	}
	xasprintf(&fix, "ALTER DATABASE %s SET ALLOW_SNAPSHOT_ISOLATION ON;",
	    ck->qdb);
	check_add(ck, CHECK_WARN, "snapshot isolation", NULL, fix,
	    "ALLOW_SNAPSHOT_ISOLATION is %s: backfill reads at READ "
	    "COMMITTED (%s), so a row changed during a backfill chunk may "
	    "be sent twice (the result converges)",
	    ck->snapshot == 0 ? "OFF" : "in transition",
	    ck->rcsi ? "row versions: READ_COMMITTED_SNAPSHOT is ON"
		     : "with shared locks: READ_COMMITTED_SNAPSHOT is OFF, "
		       "so backfill and writers can block each other");
	free(fix);
}

/* "DAYS" for retention_period_units. */
static const char *
check_units(int units)
{
	return (units == 1 ? "MINUTES" : units == 2 ? "HOURS" : "DAYS");
}

/* Change Tracking retention vs how long capture may be stopped. */
static void
check_ct_retention(struct check *ck)
{
	int64_t minutes;
	char *fix;

	if (!ck->ct_db || !ck->want_ct)
		return;
	if (!ck->ct_auto_cleanup) {
		check_add(ck, CHECK_PASS, "change tracking retention", NULL,
		    NULL,
		    "%lld %s, but AUTO_CLEANUP is OFF: changes are kept until "
		    "it is turned on, so capture may be stopped for any time "
		    "(the side tables grow meanwhile)",
		    (long long)ck->ct_retention, check_units(ck->ct_units));
		return;
	}
	minutes = ck->ct_retention *
	    (ck->ct_units == 1          ? 1
		    : ck->ct_units == 2 ? 60
					: 24 * 60);
	if (minutes >= CHECK_RETENTION_MIN) {
		check_add(ck, CHECK_PASS, "change tracking retention", NULL,
		    NULL,
		    "%lld %s: capture may be stopped for up to %lld hours "
		    "before its tables are backfilled again",
		    (long long)ck->ct_retention, check_units(ck->ct_units),
		    (long long)(minutes / 60));
		return;
	}
	xasprintf(&fix,
	    "ALTER DATABASE %s SET CHANGE_TRACKING (CHANGE_RETENTION = 3 "
	    "DAYS);",
	    ck->qdb);
	check_add(ck, CHECK_WARN, "change tracking retention", NULL, fix,
	    "%lld %s: if capture is stopped for more than %lld minutes, its "
	    "cursors fall out of retention and every Change Tracking table "
	    "is backfilled again; at least 3 days is advised",
	    (long long)ck->ct_retention, check_units(ck->ct_units),
	    (long long)minutes);
	free(fix);
}

/* The CDC capture and cleanup jobs (msdb.dbo.cdc_jobs), if readable. */
static void
check_cdc_jobs(struct check *ck)
{
	static const char sql[] =
	    "SELECT (SELECT COUNT(*) FROM msdb.dbo.cdc_jobs WHERE "
	    "database_id = DB_ID() AND job_type = N'capture'), (SELECT "
	    "MAX(retention) FROM msdb.dbo.cdc_jobs WHERE database_id = "
	    "DB_ID() AND job_type = N'cleanup')";
	struct frame_value v[2];
	char *cause = NULL;
	int64_t retention;

	if (!ck->cdc_db || !ck->want_cdc)
		return;
	if (check_row(ck, sql, NULL, 0, v, 2, &cause) == -1) {
		check_add(ck, CHECK_WARN, "cdc retention", NULL,
		    "EXEC sys.sp_cdc_help_jobs;",
		    "cannot read msdb.dbo.cdc_jobs (%s): make sure the "
		    "cleanup job's retention (minutes, 4320 by default) is "
		    "longer than capture may be stopped",
		    cause);
		free(cause);
		return;
	}
	if (introspect_int(&v[0]) == 0)
		check_add(ck, CHECK_WARN, "cdc capture job", NULL,
		    "EXEC sys.sp_cdc_add_job @job_type = N'capture';",
		    "database %s has no CDC capture job: no change reaches "
		    "the change tables",
		    ck->qdb);
	if (v[1].type != FRAME_VALUE_INT) {
		check_add(ck, CHECK_WARN, "cdc retention", NULL,
		    "EXEC sys.sp_cdc_add_job @job_type = N'cleanup';",
		    "database %s has no CDC cleanup job: change tables are "
		    "never cleaned up and grow",
		    ck->qdb);
		return;
	}
	retention = v[1].v.i;
	if (retention >= CHECK_RETENTION_MIN)
		check_add(ck, CHECK_PASS, "cdc retention", NULL, NULL,
		    "cleanup job retention %lld minutes: capture may be "
		    "stopped for up to %lld hours before its CDC tables are "
		    "backfilled again",
		    (long long)retention, (long long)(retention / 60));
	else
		check_add(ck, CHECK_WARN, "cdc retention", NULL,
		    "EXEC sys.sp_cdc_change_job @job_type = N'cleanup', "
		    "@retention = 4320;",
		    "cleanup job retention %lld minutes: if capture is "
		    "stopped for longer, its CDC tables are backfilled "
		    "again; at least 3 days (4320 minutes) is advised",
		    (long long)retention);
}

/*
 * HAS_PERMS_BY_NAME(table, OBJECT, perm) and the like: sql has @p1;
 * perms[] gets its int columns (NULL counts as 0).  -1 with a FAIL
 * reported.
 */
static int
check_perms(struct check *ck, const char *sql, const char *arg, int *perms)
{
	struct frame_value v[3];
	char *cause = NULL;
	struct db_param p;
	int i, rc;

	db_param_nvarchar(&p, arg, strlen(arg));
	if ((rc = check_row(ck, sql, &p, 1, v, 3, &cause)) != 1) {
		check_add(ck, CHECK_FAIL, "permissions", arg, NULL,
		    "cannot ask the server: %s", rc == 0 ? "no row" : cause);
		free(cause);
		return (-1);
	}
	for (i = 0; i < 3; i++)
		perms[i] = v[i].type == FRAME_VALUE_INT && v[i].v.i == 1;
	check_row_free(v, 3);
	return (0);
}

/* Everything one table needs. */
static void
check_table(struct check *ck, const struct check_target *tg)
{
	static const char sql[] =
	    "SELECT HAS_PERMS_BY_NAME(@p1, N'OBJECT', N'SELECT'), "
	    "HAS_PERMS_BY_NAME(@p1, N'OBJECT', N'VIEW CHANGE TRACKING'), "
	    "IS_ROLEMEMBER(N'db_owner')";
	struct discover_table *t;
	enum config_mode mode;
	char *name, *fix, *keys, *qs;
	int perms[3];

	xasprintf(&name, "%s.%s", tg->schema, tg->name);
	t = discover_find(&ck->disc, tg->schema, tg->name);
	if (t == NULL) {
		check_add(ck, CHECK_FAIL, "table", name, NULL,
		    "not found in database %s, or user %s may not see it: "
		    "check the binding's namespace and stream",
		    ck->qdb, ck->quser);
		free(name);
		return;
	}
	if (t->nkeys == 0) {
		xasprintf(&fix,
		    "ALTER TABLE %s ADD CONSTRAINT [PK_%s] PRIMARY KEY "
		    "(<columns>);",
		    t->qname, t->name);
		check_add(ck, CHECK_FAIL, "primary key", t->display, fix,
		    "none: Change Tracking and CDC capture need one to key "
		    "rows and resume a backfill");
		free(fix);
	} else {
		keys = check_key_names(t);
		check_add(ck, CHECK_PASS, "primary key", t->display, NULL, "%s",
		    keys);
		free(keys);
	}
	free(name);
	if (check_perms(ck, sql, t->qname, perms) == -1)
		return;
	qs = introspect_quote(t->schema);
	if (perms[0])
		check_add(ck, CHECK_PASS, "select permission", t->display, NULL,
		    "granted to %s", ck->quser);
	else {
		xasprintf(
		    &fix, "GRANT SELECT ON SCHEMA::%s TO %s;", qs, ck->quser);
		check_add(ck, CHECK_FAIL, "select permission", t->display, fix,
		    "user %s may not SELECT from %s", ck->quser, t->qname);
		free(fix);
	}
	free(qs);
	mode = check_mode(ck, tg, t);
	if (mode == CONFIG_MODE_CT)
		check_table_ct(ck, t, perms[1]);
	else if (mode == CONFIG_MODE_CDC)
		check_table_cdc(ck, t);
	else
		check_add(ck, CHECK_FAIL, "mode", t->display, NULL,
		    "mode batch is not supported yet: use auto, ct or cdc");
}

/* "id, line": the key columns in key order. */
static char *
check_key_names(const struct discover_table *t)
{
	char *s = xstrdup(""), *n;
	size_t i;

	for (i = 0; i < t->nkeys; i++) {
		xasprintf(&n, "%s%s%s", s, i > 0 ? ", " : "",
		    t->cols[t->keys[i]].name);
		free(s);
		s = n;
	}
	return (s);
}

/* Change Tracking on the table and VIEW CHANGE TRACKING on it. */
static void
check_table_ct(struct check *ck, struct discover_table *t, int view)
{
	char *fix, *qs;

	if (t->ct)
		check_add(ck, CHECK_PASS, "change tracking", t->display, NULL,
		    "enabled on %s", t->qname);
	else {
		xasprintf(
		    &fix, "ALTER TABLE %s ENABLE CHANGE_TRACKING;", t->qname);
		check_add(ck, CHECK_FAIL, "change tracking", t->display, fix,
		    "not enabled on %s%s", t->qname,
		    discover_has_cdc(&ck->disc, t)
			? ""
			: ", and it has no CDC capture instance");
		free(fix);
	}
	qs = introspect_quote(t->schema);
	if (view)
		check_add(ck, CHECK_PASS, "view change tracking permission",
		    t->display, NULL, "granted to %s", ck->quser);
	else {
		xasprintf(&fix,
		    "GRANT VIEW CHANGE TRACKING ON SCHEMA::%s TO %s;", qs,
		    ck->quser);
		check_add(ck, CHECK_FAIL, "view change tracking permission",
		    t->display, fix,
		    "user %s lacks VIEW CHANGE TRACKING on %s: CHANGETABLE "
		    "fails with error 229",
		    ck->quser, t->qname);
		free(fix);
	}
	free(qs);
}

/* A CDC capture instance, and the right to read its changes. */
static void
check_table_cdc(struct check *ck, struct discover_table *t)
{
	static const char sql[] =
	    "SELECT IS_ROLEMEMBER(@p1), IS_ROLEMEMBER(N'db_owner'), 0";
	const char *role;
	char *fix, *qr;
	int perms[3];

	if (!ck->disc.instances_known) {
		xasprintf(
		    &fix, "GRANT SELECT ON SCHEMA::[cdc] TO %s;", ck->quser);
		check_add(ck, CHECK_FAIL, "cdc capture instance", t->display,
		    fix, "%s: the capture reads it to find the instance",
		    ck->disc.instances_error);
		free(fix);
		return;
	}
	if (t->ninstances == 0) {
		xasprintf(&fix,
		    "EXEC sys.sp_cdc_enable_table @source_schema = N'%s', "
		    "@source_name = N'%s', @role_name = NULL;",
		    t->schema, t->name);
		check_add(ck, CHECK_FAIL, "cdc capture instance", t->display,
		    fix, "%s has none (mode cdc)", t->qname);
		free(fix);
		return;
	}
	check_add(ck, CHECK_PASS, "cdc capture instance", t->display, NULL,
	    "%s%s", t->instances[0],
	    t->ninstances > 1 ? " (the newest of two)" : "");
	if ((role = t->roles[0]) == NULL) {
		check_add(ck, CHECK_PASS, "cdc access", t->display, NULL,
		    "capture instance %s has no gating role", t->instances[0]);
		return;
	}
	if (check_perms(ck, sql, role, perms) == -1)
		return;
	if (perms[0] || perms[1]) {
		check_add(ck, CHECK_PASS, "cdc access", t->display, NULL,
		    "user %s is a member of %s", ck->quser,
		    perms[0] ? role : "db_owner");
		return;
	}
	qr = introspect_quote(role);
	xasprintf(&fix, "ALTER ROLE %s ADD MEMBER %s;", qr, ck->quser);
	check_add(ck, CHECK_FAIL, "cdc access", t->display, fix,
	    "user %s is not a member of %s, the gating role of capture "
	    "instance %s: reading its changes fails with error 229",
	    ck->quser, qr, t->instances[0]);
	free(fix);
	free(qr);
}

/* The answers as a JSON array. */
static json_t *
check_json(const struct check *ck)
{
	const struct check_item *it;
	json_t *list, *o;
	size_t i;

	list = json_array();
	for (i = 0; i < ck->nitems; i++) {
		it = &ck->items[i];
		o = json_object();
		json_object_set_new(
		    o, "status", json_string(check_status_names[it->status]));
		json_object_set_new(o, "check", json_string(it->check));
		if (it->table != NULL)
			json_object_set_new(o, "table",
			    json_stringn_nocheck(it->table, strlen(it->table)));
		json_object_set_new(o, "detail",
		    json_stringn_nocheck(it->detail, strlen(it->detail)));
		if (it->fix != NULL)
			json_object_set_new(o, "fix",
			    json_stringn_nocheck(it->fix, strlen(it->fix)));
		json_array_append_new(list, o);
	}
	return (list);
}

/* Free the answers and the connection. */
static void
check_free(struct check *ck)
{
	size_t i;

	for (i = 0; i < ck->nitems; i++) {
		free(ck->items[i].check);
		free(ck->items[i].table);
		free(ck->items[i].detail);
		free(ck->items[i].fix);
	}
	free(ck->items);
	free(ck->targets);
	discover_free(&ck->disc);
	db_close(ck->db);
	free(ck->qdb);
	free(ck->quser);
	free(ck->login);
	config_free(ck->cfg);
}

/* Every check, in order; stops early without a connection. */
static void
check_run(struct check *ck)
{
	char *cause = NULL;
	size_t i;

	if (check_connect(ck) == -1 || check_session(ck) == -1)
		return;
	check_ct_database(ck);
	if (discover_load(ck->db, &ck->disc, &cause) == -1) {
		check_add(ck, CHECK_FAIL, "catalog", NULL, NULL,
		    "cannot read the tables: %s", cause);
		free(cause);
		return;
	}
	if (check_targets(ck) == -1)
		return;
	check_database(ck);
	check_snapshot(ck);
	check_ct_retention(ck);
	check_cdc_jobs(ck);
	for (i = 0; i < ck->ntargets; i++)
		check_table(ck, &ck->targets[i]);
}

/*
 * mssql-capture check -c FILE [--json]: exit 0 without a FAIL, 1 with
 * one, 2 for a usage or configuration error.
 */
int
cmd_check(struct cmd_opts *opts)
{
	struct check ck;
	json_t *list;
	int rc;

	if (opts->argc != 0) {
		fprintf(stderr, "%s: check: unexpected argument '%s'\n",
		    PACKAGE_NAME, opts->argv[0]);
		return (2);
	}
	memset(&ck, 0, sizeof(ck));
	ck.opts = opts;
	if ((ck.cfg = discover_config(opts, "check")) == NULL)
		return (2);
	ck.qdb = introspect_quote(ck.cfg->database);
	check_run(&ck);
	if (opts->json) {
		list = check_json(&ck);
		json_dumpf(list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(list);
	} else
		printf("%zu check%s, %zu failed\n", ck.nitems,
		    ck.nitems == 1 ? "" : "s", ck.nfail);
	rc = ck.nfail > 0 ? 1 : 0;
	check_free(&ck);
	return (fflush(stdout) == 0 ? rc : 2);
}
