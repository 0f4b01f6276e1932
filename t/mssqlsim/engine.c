/*
 * engine.c: the T-SQL engine of mssqlsim: server and sessions, logins,
 * the batch loop and the session statements (SET, DECLARE, USE, PRINT,
 * IF/ELSE, BEGIN...END, transactions).  DDL lives in catalog.c, SELECT
 * and expressions in compile.c, DML in dml.c, RPC, TM and bulk in rpc.c,
 * FOREIGN KEY constraints in fk.c, views in view.c, table variables
 * (DECLARE @t TABLE, OUTPUT ... INTO) in tablevar.c; the OUTPUT clause of
 * DML is compiled by compile.c and sent by dml.c.
 *
 * Compile-to-SQLite.  A batch is tokenized (lex.c) and run statement by
 * statement: each statement is parsed and compiled at once into SQLite
 * SQL over the tables "schema.table", with the SQL Server type of every
 * value inferred along the way (COLMETADATA needs it).  Variables become
 * numbered parameters ?N bound from the session's variable array, @@
 * globals become literals.  SELECT results stream straight from
 * sqlite3_step() to sink->row() with sqlite3_column_value() pointers.
 * DML reads its source rows with a compiled SELECT and writes every row
 * through dml_write_row()/dml.c in C, where values are converted to the
 * declared column types with SQL Server's errors, and identity, default,
 * computed and rowversion columns are filled in.
 *
 * Batches.  SQL Server compiles a whole batch before it runs any of it
 * (learn.microsoft.com "Batches"), so engine_exec_tokens() first makes
 * a compile pass over the batch (s->dry): every statement is parsed and
 * compiled to its end, nothing is written, sent or set; DDL leaves its
 * object and permission checks (does the table, column, schema, login
 * exist) to the run, which may follow a CREATE earlier in the batch.
 * A syntax error, or a binding error (207, 213, 4104, ...) of a
 * statement whose tables all exist, fails the batch with nothing run.
 * A statement naming a table that does not exist yet fails the pass
 * with 208, which only skips it: deferred name resolution compiles it
 * when it runs, and an error then (208, or a binding error) ends the
 * batch and leaves the transaction open.  Run-time errors end their
 * statement (constraint violations, arithmetic errors) or the batch
 * and the transaction (conversion errors; any error under XACT_ABORT
 * ON): engine_batch_abort(), engine_tran_abort().  The pass keeps no
 * plan: the run parses and compiles each statement again (SQLite
 * prepares it once, through the statement cache below).
 *
 * Transactions.  Each session owns one SQLite connection to its current
 * database, plus (outside master) a second connection to master for
 * the server catalog: logins, databases and their options, copied into
 * TEMP tables for sys.databases.  Master is deliberately not ATTACHed:
 * BEGIN IMMEDIATE locks every attached database, and a write
 * transaction in one database must not block writers in another.
 * Three-part names (db.schema.t) ATTACH the other database for the
 * batch, outside transactions only.
 * Writers serialize: a writing statement starts BEGIN IMMEDIATE unless
 * the session already holds the write lock, and wraps itself in SAVEPOINT
 * "stmt" so that a failing statement changes nothing.  Readers never
 * block (WAL): outside a SNAPSHOT transaction every read statement runs
 * in autocommit (read committed); SET TRANSACTION ISOLATION LEVEL
 * SNAPSHOT + BEGIN TRAN opens a deferred SQLite transaction whose first
 * read pins a WAL snapshot for the rest of the transaction.  @@TRANCOUNT
 * is ours; the SQLite transaction starts lazily on first data access.
 *
 * Statement cache.  Compiled SQL is prepared once per session and kept
 * (engine_stmt_get/put, keyed by the SQL text); literals of a statement
 * become parameters :lN and variables :vN, so that "insert into t values
 * (1, 'a')" and "(2, 'b')" share one prepared statement.
 *
 * Hook point for Change Tracking / CDC: with a commit hook installed
 * (engine_set_commit_hook), dml.c records every row change (insert,
 * update, delete, bulk row) with its before/after images in the
 * session's change list; a failing statement drops its own changes
 * (statement savepoint), a rollback drops them all, and the commit
 * (autocommit statement, outermost COMMIT, TM commit) calls the hook
 * with the list inside the SQLite write transaction, just before COMMIT,
 * so that side tables written by the hook commit atomically with the
 * data.  TRUNCATE TABLE records no row changes (CT treats it apart).
 * Hooks chain: Change Tracking (ct.c, ct_query.c) installs its own at
 * engine_open(); each change also carries its statement, UPDATE's SET
 * columns and the WITH CHANGE_TRACKING_CONTEXT value.  Change Data
 * Capture (cdc.c: log and capture/cleanup thread, cdc_proc.c:
 * sys.sp_cdc_*, cdc_query.c: the query functions) installs the next.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine.h"

#define ENGINE_VERSION_STRING \
	"Microsoft SQL Server 2019 (RTM) - 15.0.2000.5 (X64) \n" \
	"\tSep 24 2019 13:48:23 \n" \
	"\tCopyright (C) 2019 Microsoft Corporation\n" \
	"\tDeveloper Edition (64-bit) on Linux (mssqlsim) <X64>"

static int engine_load_users(
    struct sim_server *, sqlite3 *, struct sim_error *);
static int engine_exec_stmt(struct parser *);
static int engine_skip_stmt(struct parser *);
static int engine_stmt_set(struct parser *);
static int engine_set_option(struct parser *);
static int engine_stmt_declare(struct parser *);
static int engine_stmt_use(struct parser *);
static int engine_stmt_print(struct parser *);
static int engine_stmt_if(struct parser *);
static int engine_stmt_while(struct parser *);
static int engine_stmt_block(struct parser *);
static int engine_stmt_begin(struct parser *);
static int engine_stmt_try(struct parser *);
static int engine_stmt_raiserror(struct parser *);
static int engine_dry_error(struct parser *, int);
static void engine_changes_drop(struct sim_session *, int);
static int engine_run_hook(struct sim_session *, struct sim_error *);
static int engine_stmt_throw(struct parser *);
static int engine_stmt_waitfor(struct parser *);
static int engine_stmt_commit(struct parser *);
static int engine_stmt_rollback(struct parser *);
static int engine_stmt_select(struct parser *);
static int engine_select_into(struct parser *, struct cquery *, int);
static int engine_stmt_exec(struct parser *);
static int engine_eval(struct parser *, struct simval *, struct sim_type *);
static int engine_batch_abort(int);
static int engine_tran_abort(int);
static int engine_exec_sql(sqlite3 *, const char *, struct sim_error *);

const char *engine_version_string = ENGINE_VERSION_STRING;

/* Run a fixed statement through the session cache. */
static int
engine_exec_cached(
    struct sim_session *s, const char *sql, struct sim_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = engine_stmt_get(s, sql, err)) == NULL)
		return (-1);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		engine_sqlite_error(s, err);
	engine_stmt_put(s, st);
	return (rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1);
}

/* Run SQL with no results on a connection. */
static int
engine_exec_sql(sqlite3 *db, const char *sql, struct sim_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (sim_error_from_sqlite(msg, err) == -1)
			sim_error_set(err, 50000, 16, 1, "mssqlsim: %s: %s",
			    sql, msg ? msg : "?");
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

/* The SQLite file of a database. */
char *
engine_db_path(struct sim_server *srv, const char *name)
{
	char *path, *p;
	size_t n;

	n = strlen(srv->dir) + strlen(name) + 8;
	path = util_xmalloc(n);
	snprintf(path, n, "%s/%s.db", srv->dir, name);
	for (p = path + strlen(srv->dir) + 1; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	return (path);
}

/* Load "login:password" lines into master. */
static int
engine_load_users(struct sim_server *srv, sqlite3 *m, struct sim_error *err)
{
	char line[1024], *pw, *e;
	sqlite3_stmt *st;
	FILE *f;

	if (srv->users_file == NULL)
		return (0);
	if ((f = fopen(srv->users_file, "r")) == NULL) {
		sim_error_set(err, 50000, 16, 1, "mssqlsim: %s: %s",
		    srv->users_file, strerror(errno));
		return (-1);
	}
	sqlite3_prepare_v2(m,
	    "INSERT OR REPLACE INTO sim_logins(name, password) VALUES (?, ?)",
	    -1, &st, NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (pw = strchr(line, ':')) == NULL)
			continue;
		*pw++ = '\0';
		for (e = line; isspace((unsigned char)*e); e++)
			;
		sqlite3_bind_text(st, 1, e, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, pw, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	fclose(f);
	return (0);
}

/*
 * Busy handler: poll every 200 us (SQLite's default handler sleeps up
 * to 100 ms between tries, which makes concurrent writers crawl).  The
 * timeout in ms is kept in the handler argument.
 */
static int
engine_busy(void *arg, int tries)
{
	intptr_t ms = (intptr_t)arg;
	struct timespec ts = { 0, 200000 };

	if ((intptr_t)tries * 200 / 1000 >= ms)
		return (0);
	nanosleep(&ts, NULL);
	return (1);
}

/* Set the lock timeout of a connection (LOCK_TIMEOUT). */
static void
engine_busy_timeout(sqlite3 *db, int ms)
{
	sqlite3_busy_handler(db, engine_busy, (void *)(intptr_t)ms);
}

/* Open a connection with our pragmas, types and functions. */
static sqlite3 *
engine_connect(const char *path, int create, struct sim_error *err)
{
	sqlite3 *db;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		sim_error_set(err, 50000, 16, 1, "mssqlsim: cannot open %s: %s",
		    path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return (NULL);
	}
	engine_busy_timeout(db, 30000);
	/*
	 * legacy_alter_table: a table rebuilt by ALTER TABLE (ddl.c: new
	 * table, drop, rename) keeps the views over it (view.c) as they are,
	 * as SQL Server does, instead of SQLite failing the rename on them.
	 */
	if (engine_exec_sql(db,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
		"PRAGMA legacy_alter_table=ON;",
		err) == -1 ||
	    simtypes_register(db) != 0) {
		sqlite3_close(db);
		return (NULL);
	}
	return (db);
}

/* Open the data directory, creating master when missing. */
struct sim_server *
engine_open(const struct sim_options *opt, struct sim_error *err)
{
	struct sim_server *srv;
	sqlite3 *m;
	char *path;

	if (mkdir(opt->data_dir, 0700) == -1 && errno != EEXIST) {
		sim_error_set(err, 50000, 16, 1, "mssqlsim: %s: %s",
		    opt->data_dir, strerror(errno));
		return (NULL);
	}
	srv = util_xmalloc(sizeof(*srv));
	memset(srv, 0, sizeof(*srv));
	srv->dir = util_xstrdup(opt->data_dir);
	srv->sa_password =
	    util_xstrdup(opt->sa_password ? opt->sa_password : "");
	srv->users_file =
	    opt->users_file ? util_xstrdup(opt->users_file) : NULL;
	srv->server_name =
	    util_xstrdup(opt->server_name ? opt->server_name : "mssqlsim");
	srv->next_spid = 51;
	srv->next_tran = 1;
	pthread_mutex_init(&srv->mtx, NULL);
	path = engine_db_path(srv, "master");
	m = engine_connect(path, 1, err);
	free(path);
	if (m == NULL || catalog_init_db(m, 1, err) == -1 ||
	    catalog_init_master(m, err) == -1 ||
	    engine_load_users(srv, m, err) == -1) {
		sqlite3_close(m);
		engine_close(srv);
		return (NULL);
	}
	sqlite3_close(m);
	ct_init(srv);
	cdc_start(srv, opt->cdc_polling_interval_ms);
	return (srv);
}

/* Release the server. */
void
engine_close(struct sim_server *srv)
{
	if (srv == NULL)
		return;
	cdc_stop(srv);
	ct_fini(srv);
	pthread_mutex_destroy(&srv->mtx);
	free(srv->dir);
	free(srv->sa_password);
	free(srv->users_file);
	free(srv->server_name);
	free(srv);
}

/* Look a login up in master: 1 found (password matches), 0, -1. */
static int
engine_check_login(sqlite3 *m, const char *user, const char *password,
    char *defdb, size_t defdblen)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (sqlite3_prepare_v2(m,
		"SELECT password, default_db FROM "
		"sim_logins WHERE name = ? COLLATE NOCASE",
		-1, &st, NULL) != SQLITE_OK)
		return (-1);
	sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rc = strcmp((const char *)sqlite3_column_text(st, 0),
			 password) == 0;
		if (sqlite3_column_text(st, 1) != NULL)
			snprintf(
			    defdb, defdblen, "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return (rc);
}

/* Authenticate and open a session on a database. */
int
engine_login(struct sim_server *srv, const char *user, const char *password,
    const char *database, const char *appname, struct sim_session **sp,
    struct sim_error *err)
{
	struct sim_session *s;
	char defdb[129] = "master", *path;
	sqlite3 *m;
	int ok;

	*sp = NULL;
	path = engine_db_path(srv, "master");
	m = engine_connect(path, 0, err);
	free(path);
	if (m == NULL)
		return (-1);
	if (strcasecmp(user, "sa") == 0)
		ok = strcmp(password, srv->sa_password) == 0;
	else
		ok = engine_check_login(
			 m, user, password, defdb, sizeof(defdb)) == 1;
	sqlite3_close(m);
	if (!ok) {
		sim_error_set(
		    err, 18456, 14, 1, "Login failed for user '%s'.", user);
		return (-1);
	}
	s = util_xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->srv = srv;
	snprintf(s->login, sizeof(s->login), "%s", user);
	s->sysadmin = strcasecmp(user, "sa") == 0;
	snprintf(s->appname, sizeof(s->appname), "%s", appname ? appname : "");
	s->iso = ISO_READ_COMMITTED;
	s->next_handle = 1;
	pthread_mutex_lock(&srv->mtx);
	s->spid = srv->next_spid++;
	if (srv->next_spid > 32000)
		srv->next_spid = 51;
	pthread_mutex_unlock(&srv->mtx);
	if (database == NULL || *database == '\0')
		database = defdb;
	if (engine_open_db(s, database, err) == -1) {
		if (err->number == 916 || err->number == 911) {
			sim_error_set(err, 4060, 11, 1,
			    "Cannot open database "
			    "\"%s\" requested by the login. The login failed.",
			    database);
		}
		engine_session_free(s);
		return (-1);
	}
	snprintf(s->logindb, sizeof(s->logindb), "%s", s->dbname);
	*sp = s;
	return (0);
}

/*
 * RESETCONNECTION: what sp_reset_connection does.  Roll back, forget
 * SET options, variables, prepared handles and #temp tables (a fresh
 * connection to the login database).  Sends nothing but a
 * ROLLBACK ENVCHANGE when a transaction was open.
 */
int
engine_session_reset(struct sim_session *s, const struct sim_sink *sink)
{
	struct sim_error err;
	int i;

	engine_sink_push(s, sink);
	if (engine_tran_rollback_all(s, 1) == -1)
		return (-1);
	s->nocount = s->xact_abort = s->fmtonly = s->implicit = 0;
	s->iso = ISO_READ_COMMITTED;
	s->identity_insert = 0;
	s->has_identity = 0;
	for (i = 0; i < s->npreps; i++) {
		free(s->preps[i].decl);
		free(s->preps[i].stmt);
	}
	s->npreps = 0;
	return (engine_open_db(s, s->logindb, &err));
}

/* Does a database exist?  Fills the canonical name. */
static int
engine_db_exists(struct sim_server *srv, const char *name, char *canon)
{
	char *path;
	sqlite3 *m;
	sqlite3_stmt *st;
	struct sim_error e;
	int found = 0;

	if (strcasecmp(name, "master") == 0) {
		strcpy(canon, "master");
		return (1);
	}
	path = engine_db_path(srv, "master");
	m = engine_connect(path, 0, &e);
	free(path);
	if (m == NULL)
		return (0);
	if (sqlite3_prepare_v2(m,
		"SELECT name FROM sim_databases WHERE "
		"name = ? COLLATE NOCASE",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(canon, 129, "%s", sqlite3_column_text(st, 0));
			found = 1;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(m);
	return (found);
}

/* Map the login to a database user; 0 when it has no access. */
static int
engine_db_user(struct sim_session *s)
{
	sqlite3_stmt *st;
	int found = 0;

	strcpy(s->defschema, "dbo");
	if (s->sysadmin) {
		strcpy(s->user, "dbo");
		return (1);
	}
	if (sqlite3_prepare_v2(s->db,
		"SELECT name, ifnull(default_schema, 'dbo') FROM "
		"main.sim_principals WHERE login_name = ? COLLATE NOCASE",
		-1, &st, NULL) != SQLITE_OK)
		return (0);
	sqlite3_bind_text(st, 1, s->login, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(
		    s->user, sizeof(s->user), "%s", sqlite3_column_text(st, 0));
		snprintf(s->defschema, sizeof(s->defschema), "%s",
		    sqlite3_column_text(st, 1));
		found = 1;
	}
	sqlite3_finalize(st);
	if (!found && strcasecmp(s->dbname, "master") == 0) {
		strcpy(s->user, "guest");
		found = 1;
	}
	return (found);
}

/* Private copies of master's tables for the catalog views. */
static const char *engine_temp_master_sql =
    "CREATE TEMP TABLE IF NOT EXISTS sim_databases(database_id INTEGER "
    "PRIMARY KEY, name TEXT COLLATE NOCASE, create_date TEXT, allow_snapshot "
    "INTEGER, rcsi INTEGER, compat INTEGER);"
    "CREATE TEMP TABLE IF NOT EXISTS sim_logins(name TEXT COLLATE NOCASE, "
    "password TEXT, default_db TEXT, principal_id INTEGER, create_date "
    "TEXT);";

/* The connection holding master's tables as "main". */
sqlite3 *
engine_mdb(struct sim_session *s)
{
	return (s->mdb != NULL ? s->mdb : s->db);
}

/* Copy one master table into its TEMP copy. */
static void
engine_sync_table(struct sim_session *s, const char *tbl, int ncols)
{
	sqlite3_stmt *rd, *wr;
	char sql[200];
	int i;

	snprintf(sql, sizeof(sql), "DELETE FROM temp.%s", tbl);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "SELECT * FROM main.%s", tbl);
	if (sqlite3_prepare_v2(s->mdb, sql, -1, &rd, NULL) != SQLITE_OK)
		return;
	snprintf(sql, sizeof(sql), "INSERT INTO temp.%s VALUES (?%s)", tbl,
	    ncols == 6 ? ", ?, ?, ?, ?, ?" : ", ?, ?, ?, ?");
	if (sqlite3_prepare_v2(s->db, sql, -1, &wr, NULL) == SQLITE_OK) {
		while (sqlite3_step(rd) == SQLITE_ROW) {
			for (i = 0; i < ncols; i++)
				sqlite3_bind_value(
				    wr, i + 1, sqlite3_column_value(rd, i));
			sqlite3_step(wr);
			sqlite3_reset(wr);
		}
		sqlite3_finalize(wr);
	}
	sqlite3_finalize(rd);
}

/*
 * Refresh the TEMP copies of master's databases and logins.  Sessions
 * outside master read master through a second connection instead of
 * ATTACH, so that their write transactions never lock master.
 */
void
engine_master_sync(struct sim_session *s)
{
	if (s->mdb == NULL)
		return;
	sqlite3_exec(s->db, engine_temp_master_sql, NULL, NULL, NULL);
	engine_sync_table(s, "sim_databases", 6);
	engine_sync_table(s, "sim_logins", 5);
}

/* DETACH the databases ATTACHed for three-part names. */
void
engine_detach_all(struct sim_session *s)
{
	sqlite3_stmt *st;
	char names[16][140], sql[300];
	int n = 0, i;

	if (s->nattached == 0 || !sqlite3_get_autocommit(s->db))
		return;
	engine_stmt_flush(s);
	if (sqlite3_prepare_v2(s->db,
		"SELECT name FROM pragma_database_list "
		"WHERE name LIKE 'db\\_%' ESCAPE '\\'",
		-1, &st, NULL) != SQLITE_OK)
		return;
	while (n < 16 && sqlite3_step(st) == SQLITE_ROW)
		snprintf(names[n++], 140, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		snprintf(
		    sql, sizeof(sql), "DETACH DATABASE \"%.139s\"", names[i]);
		sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	}
	s->nattached = 0;
}

/* Switch the session's connection to a database. */
int
engine_open_db(struct sim_session *s, const char *name, struct sim_error *err)
{
	char canon[129], *path;
	sqlite3 *db, *oldm;
	sqlite3 *old = s->db;
	const char *oldschema = s->mschema;

	if (!engine_db_exists(s->srv, name, canon)) {
		sim_error_set(err, 911, 16, 1,
		    "Database '%s' does not exist. "
		    "Make sure that the name is entered correctly.",
		    name);
		return (-1);
	}
	path = engine_db_path(s->srv, canon);
	db = engine_connect(path, 0, err);
	free(path);
	if (db == NULL)
		return (-1);
	s->db = db;
	oldm = s->mdb;
	s->mdb = NULL;
	s->mschema = strcasecmp(canon, "master") == 0 ? "main" : "temp";
	if (strcmp(s->mschema, "temp") == 0) {
		path = engine_db_path(s->srv, "master");
		s->mdb = engine_connect(path, 0, err);
		free(path);
		if (s->mdb == NULL)
			goto fail;
	}
	snprintf(s->dbname, sizeof(s->dbname), "%s", canon);
	s->views_made = 0;
	if (catalog_register_functions(s) == -1)
		goto fail;
	if (!engine_db_user(s)) {
		sim_error_set(err, 916, 14, 1,
		    "The server principal \"%s\" is "
		    "not able to access the database \"%s\" under the current "
		    "security context.",
		    s->login, canon);
		goto fail;
	}
	if (old != NULL) {
		s->db = old;
		engine_stmt_flush(s);
		sqlite3_close(old);
		s->db = db;
	}
	sqlite3_close(oldm);
	s->nattached = 0;
	return (0);
fail:
	sqlite3_close(db);
	sqlite3_close(s->mdb);
	s->db = old;
	s->mdb = oldm;
	s->mschema = oldschema;
	return (-1);
}

/*
 * The SQLite schema holding database name for this session: "main" for
 * the current one, else the database ATTACHed as "db_<name>" (only
 * outside a transaction: SQLite cannot attach inside one).
 */
int
engine_attach(
    struct sim_session *s, const char *name, char *alias, struct sim_error *err)
{
	char canon[129], *path, *sql, *p;
	sqlite3_stmt *st;
	int found = 0;

	if (strcasecmp(name, s->dbname) == 0) {
		strcpy(alias, "main");
		return (0);
	}
	if (!engine_db_exists(s->srv, name, canon)) {
		sim_error_set(err, 911, 16, 1,
		    "Database '%s' does not exist. "
		    "Make sure that the name is entered correctly.",
		    name);
		return (-1);
	}
	snprintf(alias, 140, "db_%s", canon);
	for (p = alias; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	if (sqlite3_prepare_v2(s->db,
		"SELECT 1 FROM pragma_database_list "
		"WHERE name = ?",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, alias, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (found)
		return (0);
	if (!sqlite3_get_autocommit(s->db)) {
		sim_error_set(err, 208, 16, 1,
		    "Invalid object name '%s' "
		    "(mssqlsim reaches other databases only outside "
		    "transactions).",
		    name);
		return (-1);
	}
	path = engine_db_path(s->srv, canon);
	sql = sqlite3_mprintf("ATTACH DATABASE %Q AS \"%w\"", path, alias);
	free(path);
	found = engine_exec_sql(s->db, sql, err);
	sqlite3_free(sql);
	if (found == 0)
		s->nattached++;
	return (found);
}

/* Release a session (rolls back an open transaction). */
void
engine_session_free(struct sim_session *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->db != NULL) {
		engine_stmt_flush(s);
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(s->db);
	}
	sqlite3_close(s->mdb);
	for (i = 0; i < s->nvars; i++)
		simval_free(&s->vars[i].value);
	free(s->vars);
	free(s->predecl);
	free(s->declsite);
	tablevar_free_all(s);
	engine_changes_drop(s, 0);
	free(s->changes);
	for (i = 0; i < s->npreps; i++) {
		free(s->preps[i].decl);
		free(s->preps[i].stmt);
	}
	free(s->preps);
	free(s->bulk_map);
	free(s->bulk_from);
	catalog_table_free(s->bulk_table);
	free(s);
}

int
engine_session_spid(struct sim_session *s)
{
	return (s->spid);
}

const char *
engine_session_database(struct sim_session *s)
{
	return (s->dbname);
}

/* Send a DONE (DONEINPROC inside RPC) with the INXACT bit as needed. */
int
engine_send_done(struct sim_session *s, int status, uint64_t count)
{
	if (s->suppress_done || s->dry)
		return (0);
	if (s->trancount > 0)
		status |= SIM_DONE_INXACT;
	if (s->nocount)
		status &= ~SIM_DONE_COUNT;
	if (!(status & SIM_DONE_COUNT))
		count = 0;
	return (s->sink->done(s->sink->arg,
	    s->inproc ? SIM_DONEINPROC : SIM_DONE, status, count));
}

/* Send an ERROR or INFO token. */
int
engine_send_message(struct sim_session *s, const struct sim_error *e)
{
	if (s->dry)
		return (0);
	return (s->sink->message(s->sink->arg, e, e->class > 10));
}

/* Send an INFO message. */
int
engine_info(struct sim_session *s, int number, const char *fmt, ...)
{
	struct sim_error e;
	va_list ap;

	memset(&e, 0, sizeof(e));
	e.number = number;
	e.state = 1;
	e.line = 1;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return (engine_send_message(s, &e));
}

/* Turn the connection's last SQLite error into a SQL Server one. */
int
engine_sqlite_error(struct sim_session *s, struct sim_error *err)
{
	const char *msg = sqlite3_errmsg(s->db);
	int ext = sqlite3_extended_errcode(s->db);

	if (sim_error_from_sqlite(msg, err) == 0)
		return (-1);
	if (ext == SQLITE_BUSY_SNAPSHOT) {
		sim_error_set(err, 3960, 16, 2,
		    "Snapshot isolation "
		    "transaction aborted due to update conflict. You cannot "
		    "use "
		    "snapshot isolation to access table directly or indirectly "
		    "in database '%s' to update, delete, or insert the row "
		    "that "
		    "has been modified or deleted by another transaction. "
		    "Retry "
		    "the transaction or change the isolation level for the "
		    "update/delete statement.",
		    s->dbname);
	} else if ((ext & 0xff) == SQLITE_BUSY) {
		sim_error_set(err, 1222, 16, 51,
		    "Lock request time out period exceeded.");
	} else
		sim_error_set(err, 50000, 16, 1, "mssqlsim: %s", msg);
	return (-1);
}

/* Start reading: pin the snapshot of a SNAPSHOT transaction. */
int
engine_read_begin(struct sim_session *s, struct sim_error *err)
{
	if (s->trancount == 0 || s->txn != TXN_NONE ||
	    s->tran_iso != ISO_SNAPSHOT)
		return (0);
	if (!catalog_db_option(s, s->dbname, "allow_snapshot")) {
		sim_error_set(err, 3952, 16, 1,
		    "Snapshot isolation transaction "
		    "failed accessing database '%s' because snapshot isolation "
		    "is not allowed in this database. Use ALTER DATABASE to "
		    "allow snapshot isolation.",
		    s->dbname);
		return (-1);
	}
	if (engine_exec_sql(s->db, "BEGIN DEFERRED", err) == -1)
		return (-1);
	s->txn = TXN_READ;
	return (0);
}

/*
 * In the compile pass, stop the statement where it would start to act:
 * everything before parsed without a syntax error.
 */
int
engine_dry_stop(struct sim_session *s, struct sim_error *err)
{
	(void)s;
	sim_error_set(err, ENGINE_DRYSTOP, 16, 1, "compile pass");
	return (-1);
}

/*
 * Install a commit hook (Change Tracking, CDC): hooks chain, each runs
 * in installation order; commit_hook stays non-NULL once any is in.
 */
void
engine_set_commit_hook(struct sim_server *srv, engine_commit_hook fn)
{
	int i;

	pthread_mutex_lock(&srv->mtx);
	for (i = 0; i < srv->nhooks; i++)
		if (srv->hooks[i] == fn)
			break;
	if (i == srv->nhooks && srv->nhooks < 4)
		srv->hooks[srv->nhooks++] = fn;
	if (srv->commit_hook == NULL)
		srv->commit_hook = fn;
	pthread_mutex_unlock(&srv->mtx);
}

/* Record a row change (dml.c); takes ownership of the images. */
void
engine_change_add(struct sim_session *s, const struct table *t, int op,
    sqlite3_int64 rowid, struct simval *before, struct simval *after)
{
	struct rowchange *c;

	if ((s->nchanges & 63) == 0)
		s->changes = util_xrealloc(
		    s->changes, (s->nchanges + 64) * sizeof(*s->changes));
	c = &s->changes[s->nchanges++];
	c->object_id = t->object_id;
	snprintf(c->db, sizeof(c->db), "%s", t->db);
	c->op = op;
	c->rowid = rowid;
	c->ncols = t->ncols;
	c->before = before;
	c->after = after;
	c->stmt = s->stmt_mark;
	c->nset = 0;
	c->setcols = NULL;
	if (op == 'U' && s->stmt_nset > 0) {
		c->setcols = util_xmalloc(s->stmt_nset * sizeof(int));
		memcpy(c->setcols, s->stmt_setcols, s->stmt_nset * sizeof(int));
		c->nset = s->stmt_nset;
	}
	memset(&c->context, 0, sizeof(c->context));
	c->context.kind = SQLITE_NULL;
	if (s->ct_context.kind == SQLITE_BLOB) {
		c->context.kind = SQLITE_BLOB;
		c->context.len = s->ct_context.len;
		c->context.p = util_xmalloc(s->ct_context.len + 1);
		memcpy(c->context.p, s->ct_context.p, s->ct_context.len);
	}
}

/* Forget the changes from index from on (rollback of a statement). */
static void
engine_changes_drop(struct sim_session *s, int from)
{
	int i, k;

	for (i = from; i < s->nchanges; i++) {
		for (k = 0; k < s->changes[i].ncols; k++) {
			if (s->changes[i].before != NULL)
				simval_free(&s->changes[i].before[k]);
			if (s->changes[i].after != NULL)
				simval_free(&s->changes[i].after[k]);
		}
		free(s->changes[i].before);
		free(s->changes[i].after);
		free(s->changes[i].setcols);
		simval_free(&s->changes[i].context);
	}
	if (from < s->nchanges)
		s->nchanges = from;
	if (s->stmt_mark > s->nchanges)
		s->stmt_mark = s->nchanges;
}

/* Run the commit hook over the transaction's changes, if any. */
static int
engine_run_hook(struct sim_session *s, struct sim_error *err)
{
	int i;

	if (s->srv->commit_hook == NULL || s->nchanges == 0)
		return (0);
	for (i = 0; i < s->srv->nhooks; i++)
		if (s->srv->hooks[i](s, s->changes, s->nchanges, err) == -1)
			return (-1);
	return (0);
}

/* Start a writing statement: write lock plus statement savepoint. */
int
engine_write_begin(struct sim_session *s, struct sim_error *err)
{
	if (s->dry)
		return (engine_dry_stop(s, err));
	s->stmt_mark = s->nchanges;
	if (engine_read_begin(s, err) == -1)
		return (-1);
	if (s->txn == TXN_NONE) {
		if (engine_exec_cached(s, "BEGIN IMMEDIATE", err) == -1)
			return (-1);
		s->txn = TXN_WRITE;
		if (s->trancount == 0)
			return (0);
	}
	return (engine_exec_cached(s, "SAVEPOINT stmt", err));
}

/* End a writing statement: commit, or undo everything it did. */
int
engine_write_end(struct sim_session *s, int ok, struct sim_error *err)
{
	struct sim_error e2;

	if (s->trancount == 0) {
		/* Autocommit: the commit hook sees the statement's changes. */
		if (ok && engine_run_hook(s, &e2) == 0 &&
		    engine_exec_cached(s, "COMMIT", &e2) == 0) {
			engine_changes_drop(s, 0);
			s->txn = TXN_NONE;
			return (0);
		}
		if (ok)
			*err = e2;
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		engine_changes_drop(s, 0);
		s->txn = TXN_NONE;
		return (-1);
	}
	if (ok) {
		if (sqlite3_get_autocommit(s->db) == 0 &&
		    engine_exec_sql(s->db, "RELEASE stmt", &e2) == 0) {
			if (s->txn == TXN_READ)
				s->txn = TXN_WRITE;
			return (0);
		}
	}
	sqlite3_exec(s->db, "ROLLBACK TO stmt; RELEASE stmt", NULL, NULL, NULL);
	engine_changes_drop(s, s->stmt_mark);
	return (ok ? 0 : -1);
}

/*
 * Bind the parameters of compiled SQL: ":vN" is session variable N,
 * ":lN" literal N of the statement being run (p may be NULL).
 */
int
engine_bind_vars(struct sim_session *s, struct parser *p, sqlite3_stmt *st)
{
	int i, n = sqlite3_bind_parameter_count(st), k;
	const char *name;

	for (i = 1; i <= n; i++) {
		if ((name = sqlite3_bind_parameter_name(st, i)) == NULL ||
		    name[0] != ':')
			continue;
		k = atoi(name + 2);
		if (name[1] == 'v' && k >= 0 && k < s->nvars)
			simval_bind(st, i, &s->vars[k].value);
		else if (name[1] == 'l' && p != NULL && k >= 0 && k < p->nlits)
			simval_bind(st, i, &p->lits[k]);
	}
	return (0);
}

/* Forget the literals of the previous statement. */
void
engine_parser_reset(struct parser *p)
{
	int i;

	for (i = 0; i < p->nlits; i++)
		simval_free(&p->lits[i]);
	p->nlits = 0;
	for (i = 0; i < p->nctes; i++)
		cquery_free(&p->ctes[i].q);
	free(p->ctes);
	p->ctes = NULL;
	p->nctes = 0;
}

/* A prepared statement for sql, from the session's cache. */
sqlite3_stmt *
engine_stmt_get(struct sim_session *s, const char *sql, struct sim_error *err)
{
	struct stmtcache *c, *victim = NULL;
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < STMTCACHE_SIZE; i++) {
		c = &s->cache[i];
		if (c->sql != NULL && !c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = 1;
			c->used = ++s->cacheclock;
			return (c->st);
		}
		if (!c->busy &&
		    (victim == NULL || c->sql == NULL ||
			(victim->sql != NULL && c->used < victim->used)))
			victim = c;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
		NULL) != SQLITE_OK) {
		if (err != NULL)
			engine_sqlite_error(s, err);
		return (NULL);
	}
	if (victim != NULL) {
		sqlite3_finalize(victim->st);
		free(victim->sql);
		victim->sql = util_xstrdup(sql);
		victim->st = st;
		victim->busy = 1;
		victim->used = ++s->cacheclock;
	}
	return (st);
}

/* Give a statement back (reset; finalized when not cached). */
void
engine_stmt_put(struct sim_session *s, sqlite3_stmt *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < STMTCACHE_SIZE; i++) {
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			s->cache[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(st);
}

/* Drop every cached statement (before closing the connection). */
void
engine_stmt_flush(struct sim_session *s)
{
	int i;

	for (i = 0; i < STMTCACHE_SIZE; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
		memset(&s->cache[i], 0, sizeof(s->cache[i]));
	}
}

/* Index of a declared variable, -1 if none. */
int
engine_find_var(struct sim_session *s, const char *name)
{
	int i;

	for (i = s->nvars - 1; i >= s->varbase; i--)
		if (strcasecmp(s->vars[i].name, name) == 0)
			return (i);
	return (-1);
}

/*
 * Declare a variable (value NULL) at token site of the batch (-1: an
 * RPC parameter).  A DECLARE runs again in a loop: it is the same
 * declaration, the variable keeps its value (SQL Server declares at
 * compile time; only an initializer assigns again).
 */
int
engine_declare_var(struct sim_session *s, const char *name,
    const struct sim_type *t, int site, struct sim_error *err)
{
	struct sim_param *v;
	int idx;

	idx = engine_find_var(s, name);
	if (idx != -1 && site != -1 && s->declsite[idx] == site) {
		if (s->predecl[idx] && !s->dry) {
			/* declared by the compile pass: now it runs */
			s->predecl[idx] = 0;
			s->vars[idx].type = *t;
		}
		return (idx); /* again (a loop): the value is kept */
	}
	if (idx != -1 && site == -1 && s->predecl[idx]) {
		/* declared by the compile pass: now in execution order */
		s->predecl[idx] = 0;
		s->vars[idx].type = *t;
		simval_free(&s->vars[idx].value);
		s->vars[idx].value.kind = SQLITE_NULL;
		return (idx);
	}
	if (idx != -1) {
		sim_error_set(err, 134, 15, 1,
		    "The variable name '%s' has "
		    "already been declared. Variable names must be unique "
		    "within a query batch or stored procedure.",
		    name);
		return (-1);
	}
	s->vars = util_xrealloc(s->vars, (s->nvars + 1) * sizeof(*s->vars));
	s->predecl = util_xrealloc(s->predecl, (s->nvars + 1) * sizeof(int));
	s->predecl[s->nvars] = s->dry;
	s->declsite = util_xrealloc(s->declsite, (s->nvars + 1) * sizeof(int));
	s->declsite[s->nvars] = site;
	v = &s->vars[s->nvars++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->type = *t;
	v->value.kind = SQLITE_NULL;
	return (s->nvars - 1);
}

/* Assign a value to a variable, converted to its declared type. */
int
engine_set_var(
    struct sim_session *s, int idx, sqlite3_value *val, struct sim_error *err)
{
	struct sim_param *v = &s->vars[idx];
	struct simval nv;

	if (simval_convert(val, NULL, &v->type, 0, &nv, err) == -1)
		return (-1);
	simval_free(&v->value);
	v->value = nv;
	return (0);
}

/* Parse "nvarchar(10)" / "decimal(10,2)" / "varchar(max)". */
int
engine_parse_typename(const char *s, struct sim_type *t, struct sim_error *err)
{
	return (simtype_parse_text(s, 0, t, err));
}

/*
 * Errors that roll back the open transaction as they end the batch:
 * conversion errors ("most conversion errors" abort the batch, and a
 * conversion error inside a transaction terminates it) and snapshot
 * update conflicts.
 */
static int
engine_tran_abort(int number)
{
	return (
	    number == 241 || number == 245 || number == 8114 || number == 3960);
}

/*
 * Errors that end the batch: compile errors met at run time (deferred
 * name resolution: 208, and the binding errors of a statement that
 * compiles late), which leave the transaction open, and conversion
 * errors (engine_tran_abort).  Anything else with class < 20 ends
 * only its statement (constraint violations, arithmetic errors with
 * ANSI_WARNINGS ON), unless XACT_ABORT is ON.
 */
static int
engine_batch_abort(int number)
{
	switch (number) {
	case 102:
	case 105:
	case 109:
	case 110:
	case 113:
	case 116:
	case 134:
	case 137:
	case 156:
	case 205:
	case 207:
	case 208:
	case 209:
	case 213:
	case 264:
	case 1013:
	case 4104:
	case 8116:
	case 241:
	case 245:
	case 2715:
	case 3960:
	case 8114:
	case 911:
	case 916:
		return (1);
	}
	return (0);
}

/* Run a batch of T-SQL. */
int
engine_exec_batch(
    struct sim_session *s, const char *sql, const struct sim_sink *sink)
{
	struct lex lx;
	struct sim_error err;
	int rc, i;

	engine_sink_push(s, sink);
	s->inproc = 0;
	if (lex_tokenize(sql, &lx, &err) == -1) {
		engine_send_message(s, &err);
		return (engine_send_done(s, SIM_DONE_ERROR, 0));
	}
	rc = engine_exec_tokens(s, &lx);
	lex_free(&lx);
	for (i = s->varbase; i < s->nvars; i++)
		simval_free(&s->vars[i].value);
	s->nvars = s->varbase;
	engine_detach_all(s);
	if (rc == -1)
		return (-1);
	if (!s->last_done)
		return (engine_send_done(s, 0, 0));
	return (0);
}

/* Proxy sink callbacks: forward and remember whether a DONE came last. */
static int
engine_px_colmetadata(void *a, int n, const struct sim_column *c)
{
	struct sim_session *s = a;

	s->last_done = 0;
	return (s->real->colmetadata(s->real->arg, n, c));
}

static int
engine_px_row(void *a, int n, sqlite3_value **v)
{
	struct sim_session *s = a;

	return (s->real->row(s->real->arg, n, v));
}

static int
engine_px_done(void *a, int kind, int status, uint64_t count)
{
	struct sim_session *s = a;

	s->last_done = 1;
	return (s->real->done(s->real->arg, kind, status, count));
}

static int
engine_px_message(void *a, const struct sim_error *e, int is_error)
{
	struct sim_session *s = a;

	s->last_done = 0;
	return (s->real->message(s->real->arg, e, is_error));
}

static int
engine_px_envstr(void *a, int type, const char *nv, const char *ov)
{
	struct sim_session *s = a;

	s->last_done = 0;
	return (s->real->envchange_str(s->real->arg, type, nv, ov));
}

static int
engine_px_envbin(void *a, int type, const unsigned char *nv, size_t nl,
    const unsigned char *ov, size_t ol)
{
	struct sim_session *s = a;

	s->last_done = 0;
	return (s->real->envchange_bin(s->real->arg, type, nv, nl, ov, ol));
}

static int
engine_px_retstatus(void *a, int32_t st)
{
	struct sim_session *s = a;

	s->last_done = 0;
	return (s->real->returnstatus(s->real->arg, st));
}

static int
engine_px_retvalue(void *a, const struct sim_param *p, int ord)
{
	struct sim_session *s = a;

	s->last_done = 0;
	return (s->real->returnvalue(s->real->arg, p, ord));
}

static int
engine_px_cancelled(void *a)
{
	struct sim_session *s = a;

	return (s->real->cancelled != NULL && s->real->cancelled(s->real->arg));
}

/* Route the engine's output through the tracking proxy. */
void
engine_sink_push(struct sim_session *s, const struct sim_sink *sink)
{
	s->real = sink;
	s->proxy.arg = s;
	s->proxy.colmetadata = engine_px_colmetadata;
	s->proxy.row = engine_px_row;
	s->proxy.done = engine_px_done;
	s->proxy.message = engine_px_message;
	s->proxy.envchange_str = engine_px_envstr;
	s->proxy.envchange_bin = engine_px_envbin;
	s->proxy.returnstatus = engine_px_retstatus;
	s->proxy.returnvalue = engine_px_retvalue;
	s->proxy.cancelled = engine_px_cancelled;
	s->sink = &s->proxy;
	s->last_done = 0;
}

/* Is the token the first word of a statement? */
static int
engine_stmt_word(const struct lex_tok *t)
{
	static const char *w[] = { "SELECT", "INSERT", "UPDATE", "DELETE",
		"SET", "DECLARE", "IF", "ELSE", "BEGIN", "END", "COMMIT",
		"ROLLBACK", "PRINT", "EXEC", "EXECUTE", "USE", "CREATE", "DROP",
		"ALTER", "TRUNCATE", "GRANT", "DENY", "REVOKE", "WHILE",
		"RETURN", "SAVE", "MERGE", "RAISERROR", "THROW", "WAITFOR",
		NULL };
	int i;

	for (i = 0; w[i] != NULL; i++)
		if (lex_is_kw(t, w[i]))
			return (1);
	return (0);
}

/* Skip the tokens of a condition or simple statement (heuristic). */
static void
engine_skip_simple(struct parser *p, const struct lex_tok *first)
{
	struct lex_tok *t;
	int depth = 0, seen_to = 0, allow_select, allow_set;

	allow_select = first != NULL &&
	    (lex_is_kw(first, "INSERT") || lex_is_kw(first, "WITH"));
	allow_set = first != NULL &&
	    (lex_is_kw(first, "UPDATE") || lex_is_kw(first, "ALTER"));
	for (;;) {
		t = p_tok(p);
		if (t->kind == LEX_EOF)
			return;
		if (depth == 0 && lex_is_op(t, ";"))
			return;
		if (depth == 0 && engine_stmt_word(t) &&
		    !(lex_is_kw(t, "ROLLBACK") && p->pos > 0 &&
			lex_is_kw(&p->lx->t[p->pos - 1], "WITH")) &&
		    !(lex_is_kw(t, "ALTER") && p->pos > 0 && /* OR ALTER */
			lex_is_kw(&p->lx->t[p->pos - 1], "OR")) &&
		    !((lex_is_kw(t, "DROP") || lex_is_kw(t, "ALTER")) &&
			(lex_is_kw(&p->lx->t[p->pos + 1], "COLUMN") ||
			    lex_is_kw(&p->lx->t[p->pos + 1], "CONSTRAINT"))) &&
		    !(allow_select &&
			(lex_is_kw(t, "SELECT") || lex_is_kw(t, "EXEC") ||
			    lex_is_kw(t, "EXECUTE"))) &&
		    !(allow_set && lex_is_kw(t, "SET")) &&
		    !(first != NULL &&
			(lex_is_kw(first, "GRANT") ||
			    lex_is_kw(first, "DENY") ||
			    lex_is_kw(first, "REVOKE")) &&
			!seen_to))
			return;
		if (lex_is_kw(t, "TO") || lex_is_kw(t, "FROM"))
			seen_to = 1;
		if (lex_is_op(t, "(") || lex_is_kw(t, "CASE"))
			depth++;
		else if ((lex_is_op(t, ")") || lex_is_kw(t, "END")) &&
		    depth > 0)
			depth--;
		else if (lex_is_kw(t, "SELECT"))
			allow_select = 0;
		else if (lex_is_kw(t, "SET"))
			allow_set = 0;
		p->pos++;
		if (lex_is_kw(t, "UNION") || lex_is_kw(t, "ALL") ||
		    lex_is_kw(t, "EXCEPT") || lex_is_kw(t, "INTERSECT"))
			allow_select = 1;
	}
}

/* Skip one statement (with its blocks) without running it. */
static int
engine_skip_stmt(struct parser *p)
{
	struct lex_tok *t = p_tok(p);

	if (lex_is_op(t, ";")) {
		p->pos++;
		return (0);
	}
	if (lex_is_kw(t, "BEGIN") &&
	    !lex_is_kw(&p->lx->t[p->pos + 1], "TRAN") &&
	    !lex_is_kw(&p->lx->t[p->pos + 1], "TRANSACTION")) {
		p->pos++;
		while (p_tok(p)->kind != LEX_EOF && !p_kw(p, "END"))
			engine_skip_stmt(p);
		p_accept_kw(p, "END");
		if (p_accept_kw(p, "TRY") && p_kw(p, "BEGIN"))
			engine_skip_stmt(p); /* BEGIN CATCH ... END CATCH */
		else
			p_accept_kw(p, "CATCH");
		return (0);
	}
	if (t->kind == LEX_EOF)
		return (0);
	if (lex_is_kw(t, "WITH") &&
	    lex_is_kw(&p->lx->t[p->pos + 1], "CHANGE_TRACKING_CONTEXT")) {
		p->pos += 2; /* (@ctx), then the DML statement */
		engine_skip_simple(p, NULL);
		return (engine_skip_stmt(p));
	}
	if (lex_is_kw(t, "IF") || lex_is_kw(t, "WHILE")) {
		p->pos++;
		engine_skip_simple(p, NULL);
		engine_skip_stmt(p);
		if (lex_is_kw(t, "IF") && p_accept_kw(p, "ELSE"))
			engine_skip_stmt(p);
		return (0);
	}
	p->pos++;
	engine_skip_simple(p, t);
	return (0);
}

/*
 * Run one statement and report its error.  Returns 0 to go on, 1 to
 * stop the batch (RETURN or a batch-aborting error), -2 when the client
 * went away.
 */
static int
engine_run_stmt(struct parser *p)
{
	struct sim_session *s = p->s;
	struct sim_error *err = p->err;
	int start = p->pos, rc, abort_batch;

	memset(err, 0, sizeof(*err));
	engine_parser_reset(p);
	rc = engine_exec_stmt(p);
	if (rc == -2 || rc == 1 || rc == 2)
		return (rc);
	if (rc == 0) {
		if (!s->dry)
			s->error = 0;
		p_accept_op(p, ";");
		return (0);
	}
	if (s->dry)
		return (engine_dry_error(p, start));
	s->error = err->number;
	if (err->line <= 1)
		err->line = p->lx->t[start].line;
	if (s->trydepth > 0 && err->class >= 11 && err->class < 20) {
		s->caught = *err; /* BEGIN CATCH takes over */
		return (2);
	}
	s->nerrors++;
	if (engine_send_message(s, err) == -1)
		return (-2);
	abort_batch = engine_batch_abort(err->number) || err->class >= 20 ||
	    (s->xact_abort && s->trancount > 0);
	/* XACT_ABORT, conversions and update conflicts end the transaction */
	if (s->trancount > 0 &&
	    (s->xact_abort || engine_tran_abort(err->number)) &&
	    engine_tran_rollback_all(s, 1) == -1)
		return (-2);
	if (engine_send_done(s, SIM_DONE_ERROR, 0) == -1)
		return (-2);
	if (abort_batch)
		return (1);
	p->pos = start;
	engine_skip_stmt(p);
	return (0);
}

/*
 * Errors SQL Server finds when it compiles the batch: syntax errors,
 * and binding errors (a column, a value count, a function) in a
 * statement whose tables all exist when the batch compiles.  Deferred
 * name resolution: a statement naming a table that does not exist yet
 * compiles only when it runs (in the compile pass it fails with 208,
 * which is not among these), so its binding errors are run-time
 * errors.  After a USE the pass binds in the wrong database: only
 * syntax errors count.
 */
static int
engine_compile_error(struct sim_session *s, int number)
{
	switch (number) {
	case 102:
	case 113:
	case 134:
	case 137:
	case 156:
	case 174:
	case 195:
	case 22105:
	case 1087: /* tablevar.c: undeclared table variable */
	case 111: /* view.c: CREATE VIEW not first in the batch */
	case 1033:
		return (1);
	case 109:
	case 110:
	case 116:
	case 205:
	case 207:
	case 209:
	case 213:
	case 264:
	case 1013:
	case 4104:
	case 8116:
	case 4502: /* view.c: view column names, #temp tables */
	case 4506:
	case 4508:
	case 4511:
	case 8158:
		return (!s->dry_lax);
	}
	return (0);
}

/*
 * An error in the compile pass: a syntax error fails the batch (3);
 * anything else (a name that a CREATE earlier in the batch will make,
 * the marker of a statement that parsed) lets the pass skip ahead.
 */
static int
engine_dry_error(struct parser *p, int start)
{
	if (engine_compile_error(p->s, p->err->number)) {
		if (p->err->line <= 1)
			p->err->line = p->lx->t[start].line;
		return (3);
	}
	p->pos = start;
	engine_skip_stmt(p);
	return (0);
}

/*
 * The compile pass over a whole batch: SQL Server runs nothing of a
 * batch with a compile error (engine_compile_error).  Statements are
 * parsed and compiled to their end and return without acting (SELECT,
 * DML, DDL, SET, PRINT, EXEC, transaction statements); the pass skips
 * the rest of a statement that stops where it would act (the odd case
 * left: engine_dry_stop) or fails on a table that does not exist yet;
 * declared variables are dropped afterwards.  Returns 0 or 3 with
 * p->err set.
 */
static int
engine_dry_run(struct sim_session *s, struct lex *lx, struct sim_error *err)
{
	struct parser p;
	int rc = 0, nvars = s->nvars, i, error = s->error;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.lx = lx;
	p.err = err;
	p.paramlits = 1;
	s->dry = 1;
	s->dry_lax = 0;
	while (rc == 0 && p_tok(&p)->kind != LEX_EOF) {
		if (p_kw(&p, "END") || p_kw(&p, "ELSE")) {
			memset(err, 0, sizeof(*err));
			p_syntax(&p);
			rc = 3;
			break;
		}
		rc = engine_run_stmt(&p);
		if (rc != 3)
			rc = 0;
	}
	s->dry = 0;
	s->dry_lax = 0;
	engine_parser_reset(&p);
	free(p.lits);
	/*
	 * Keep the variables the pass declared (SQL Server declares at
	 * compile time, even in a branch not taken), NULL until their
	 * DECLARE runs.
	 */
	for (i = nvars; i < s->nvars; i++) {
		simval_free(&s->vars[i].value);
		s->vars[i].value.kind = SQLITE_NULL;
		if (rc == 3)
			s->predecl[i] = 0;
	}
	if (rc == 3)
		s->nvars = nvars;
	s->error = error;
	return (rc);
}

/* Run a tokenized batch; returns -1 when the client went away. */
int
engine_exec_tokens(struct sim_session *s, struct lex *lx)
{
	struct parser p;
	struct sim_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	if (!s->dry && engine_dry_run(s, lx, &err) == 3) {
		s->error = err.number;
		s->nerrors++;
		if (engine_send_message(s, &err) == -1)
			return (-1);
		return (engine_send_done(s, SIM_DONE_ERROR, 0));
	}
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.lx = lx;
	p.err = &err;
	p.paramlits = 1;
	rc = 0;
	while (p_tok(&p)->kind != LEX_EOF) {
		if (p_kw(&p, "END") || p_kw(&p, "ELSE")) {
			memset(&err, 0, sizeof(err));
			p_syntax(&p);
			engine_send_message(s, &err);
			rc = engine_send_done(s, SIM_DONE_ERROR, 0);
			break;
		}
		rc = engine_run_stmt(&p);
		if (rc == -2) {
			rc = -1;
			break;
		}
		if (rc == 1 || rc == 2) {
			rc = 0;
			break;
		}
	}
	tablevar_batch_end(s); /* table variables die with the batch */
	engine_parser_reset(&p);
	free(p.lits);
	return (rc);
}

/* Dispatch one statement on its first word. */
static int
engine_exec_stmt(struct parser *p)
{
	struct lex_tok *t = p_tok(p);

	if (!p->s->dry && p->s->sink->cancelled(p->s->sink->arg))
		return (-2);
	if (lex_is_op(t, ";")) {
		p->pos++;
		return (0);
	}
	if (lex_is_kw(t, "WITH") &&
	    lex_is_kw(&p->lx->t[p->pos + 1], "CHANGE_TRACKING_CONTEXT"))
		return (ct_stmt_context(p));
	if (lex_is_kw(t, "SELECT") || lex_is_op(t, "(") || lex_is_kw(t, "WITH"))
		return (engine_stmt_select(p));
	if (lex_is_kw(t, "INSERT"))
		return (dml_insert(p));
	if (lex_is_kw(t, "UPDATE"))
		return (dml_update(p));
	if (lex_is_kw(t, "DELETE"))
		return (dml_delete(p));
	if (lex_is_kw(t, "TRUNCATE"))
		return (dml_truncate(p));
	if (lex_is_kw(t, "SET"))
		return (engine_stmt_set(p));
	if (lex_is_kw(t, "DECLARE"))
		return (engine_stmt_declare(p));
	if (lex_is_kw(t, "USE"))
		return (engine_stmt_use(p));
	if (lex_is_kw(t, "PRINT"))
		return (engine_stmt_print(p));
	if (lex_is_kw(t, "IF"))
		return (engine_stmt_if(p));
	if (lex_is_kw(t, "WHILE"))
		return (engine_stmt_while(p));
	if (lex_is_kw(t, "BEGIN"))
		return (engine_stmt_begin(p));
	if (lex_is_kw(t, "COMMIT"))
		return (engine_stmt_commit(p));
	if (lex_is_kw(t, "ROLLBACK"))
		return (engine_stmt_rollback(p));
	if (lex_is_kw(t, "EXEC") || lex_is_kw(t, "EXECUTE"))
		return (engine_stmt_exec(p));
	if (lex_is_kw(t, "RETURN")) {
		p->pos++;
		return (p->s->dry ? 0 : 1); /* the pass compiles what follows */
	}
	if (lex_is_kw(t, "RAISERROR"))
		return (engine_stmt_raiserror(p));
	if (lex_is_kw(t, "THROW"))
		return (engine_stmt_throw(p));
	if (lex_is_kw(t, "WAITFOR"))
		return (engine_stmt_waitfor(p));
	if (catalog_is_ddl(p))
		return (catalog_exec_ddl(p));
	return (p_syntax(p));
}

/* Evaluate a scalar expression with no FROM. */
static int
engine_eval(struct parser *p, struct simval *out, struct sim_type *t)
{
	struct sbuf sql;
	sqlite3_stmt *st;
	int rc;

	sbuf_init(&sql);
	sbuf_add(&sql, "SELECT ", 7);
	if (compile_value(p, &sql, t) == -1) {
		sbuf_free(&sql);
		return (-1);
	}
	sbuf_add(&sql, "", 1);
	if (engine_read_begin(p->s, p->err) == -1) {
		sbuf_free(&sql);
		return (-1);
	}
	st = engine_stmt_get(p->s, (char *)sql.data, p->err);
	sbuf_free(&sql);
	if (st == NULL)
		return (-1);
	engine_bind_vars(p->s, p, st);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		engine_sqlite_error(p->s, p->err);
		engine_stmt_put(p->s, st);
		return (-1);
	}
	simval_from_sqlite(out, sqlite3_column_value(st, 0));
	engine_stmt_put(p->s, st);
	return (0);
}

/* Evaluate an expression and assign it to variable idx. */
static int
engine_assign(struct parser *p, int idx)
{
	struct simval v;
	struct sim_type t;
	sqlite3_value *sv;
	sqlite3 *db = p->s->db;
	sqlite3_stmt *st;
	int rc;

	if (engine_eval(p, &v, &t) == -1)
		return (-1);
	/* Round-trip through SQLite for a protected sqlite3_value. */
	sqlite3_prepare_v2(db, "SELECT ?", -1, &st, NULL);
	switch (v.kind) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, 1, v.i);
		break;
	case SQLITE_FLOAT:
		sqlite3_bind_double(st, 1, v.f);
		break;
	case SQLITE_TEXT:
		sqlite3_bind_text(st, 1, (char *)v.p, v.len, SQLITE_STATIC);
		break;
	case SQLITE_BLOB:
		sqlite3_bind_blob(st, 1, v.p, v.len, SQLITE_STATIC);
		break;
	}
	sqlite3_step(st);
	sv = sqlite3_column_value(st, 0);
	rc = engine_set_var(p->s, idx, sv, p->err);
	sqlite3_finalize(st);
	simval_free(&v);
	return (rc);
}

/* SET option ON|OFF lists, SET @v = expr, SET TRANSACTION ... */
static int
engine_set_onoff(struct parser *p)
{
	struct sim_session *s = p->s;
	char opt[8][129];
	int n = 0, on, i;

	do {
		if (p_tok(p)->kind != LEX_IDENT || n == 8)
			return (p_syntax(p));
		snprintf(opt[n++], sizeof(opt[0]), "%s", p_tok(p)->text);
		p->pos++;
	} while (p_accept_op(p, ","));
	if (p_accept_kw(p, "ON"))
		on = 1;
	else if (p_accept_kw(p, "OFF"))
		on = 0;
	else
		return (p_syntax(p));
	for (i = 0; i < n; i++) {
		if (strcasecmp(opt[i], "NOCOUNT") == 0)
			s->nocount = on;
		else if (strcasecmp(opt[i], "XACT_ABORT") == 0)
			s->xact_abort = on;
		else if (strcasecmp(opt[i], "FMTONLY") == 0)
			s->fmtonly = on;
		else if (strcasecmp(opt[i], "IMPLICIT_TRANSACTIONS") == 0 &&
		    on) {
			p->pos--;
			return (p_syntax(p));
		}
	}
	return (0);
}

/* SET IDENTITY_INSERT t ON|OFF */
static int
engine_set_identity_insert(struct parser *p)
{
	char parts[4][129];
	struct table *t;
	int n, on;

	if ((n = p_name(p, parts, 4)) < 1)
		return (-1);
	on = p_accept_kw(p, "ON");
	if (!on && !p_accept_kw(p, "OFF"))
		return (p_syntax(p));
	t = catalog_table(
	    p->s, n > 1 ? parts[n - 2] : NULL, parts[n - 1], p->err);
	if (t == NULL)
		return (-1);
	if (!t->has_identity) {
		sim_error_set(p->err, 8106, 16, 1,
		    "Table '%s.%s' does not "
		    "have the identity property. Cannot perform SET "
		    "operation.",
		    t->schema, t->name);
		catalog_table_free(t);
		return (-1);
	}
	p->s->identity_insert = on ? t->object_id : 0;
	catalog_table_free(t);
	return (0);
}

/* SET TRANSACTION ISOLATION LEVEL ... */
static int
engine_set_isolation(struct parser *p)
{
	struct sim_session *s = p->s;

	if (!p_accept_kw(p, "ISOLATION") || !p_accept_kw(p, "LEVEL"))
		return (p_syntax(p));
	if (p_accept_kw(p, "READ")) {
		if (p_accept_kw(p, "COMMITTED"))
			s->iso = ISO_READ_COMMITTED;
		else if (p_accept_kw(p, "UNCOMMITTED"))
			s->iso = ISO_READ_UNCOMMITTED;
		else
			return (p_syntax(p));
	} else if (p_accept_kw(p, "REPEATABLE")) {
		if (!p_accept_kw(p, "READ"))
			return (p_syntax(p));
		s->iso = ISO_REPEATABLE_READ;
	} else if (p_accept_kw(p, "SERIALIZABLE"))
		s->iso = ISO_SERIALIZABLE;
	else if (p_accept_kw(p, "SNAPSHOT"))
		s->iso = ISO_SNAPSHOT;
	else
		return (p_syntax(p));
	return (0);
}

/* SET <var> [op]= expr */
static int
engine_set_var_stmt(struct parser *p)
{
	struct lex_tok *t = p_tok(p);
	int idx;

	if ((idx = engine_find_var(p->s, t->text)) == -1) {
		sim_error_set(p->err, 137, 15, 2,
		    "Must declare the scalar variable \"%s\".", t->text);
		return (-1);
	}
	p->pos++;
	if (p_op(p, "+=") || p_op(p, "-=") || p_op(p, "*=") || p_op(p, "/=")) {
		/* Rewind so "@v op expr" is compiled as one expression. */
		struct lex_tok *op = &p->lx->t[p->pos];
		int rc;

		op->text[1] = '\0';
		p->pos--;
		rc = engine_assign(p, idx);
		op->text[1] = '=';
		return (rc);
	}
	if (p_expect_op(p, "=") == -1)
		return (-1);
	return (engine_assign(p, idx));
}

/* SET option ...: what engine_stmt_set() runs. */
static int
engine_set_option(struct parser *p)
{
	struct lex_tok *t;

	p->pos++;
	t = p_tok(p);
	if (t->kind == LEX_VAR)
		return (engine_set_var_stmt(p));
	if (t->kind != LEX_IDENT)
		return (p_syntax(p));
	if (p_accept_kw(p, "TRANSACTION"))
		return (engine_set_isolation(p));
	if (p_accept_kw(p, "IDENTITY_INSERT"))
		return (engine_set_identity_insert(p));
	if (p_accept_kw(p, "LOCK_TIMEOUT")) {
		int64_t ms;

		if (p_int(p, &ms) == -1)
			return (-1);
		if (!p->s->dry)
			engine_busy_timeout(
			    p->s->db, ms < 0 ? 600000 : (int)ms);
		return (0);
	}
	if (p_accept_kw(p, "ROWCOUNT")) {
		struct simval v;
		struct sim_type vt;

		if (engine_eval(p, &v, &vt) == -1)
			return (-1);
		p->s->rowcount_limit =
		    v.kind == SQLITE_INTEGER && v.i > 0 ? v.i : 0;
		simval_free(&v);
		return (0);
	}
	if (p_accept_kw(p, "TEXTSIZE") || p_accept_kw(p, "DATEFIRST")) {
		p_accept_op(p, "-");
		if (p_tok(p)->kind != LEX_INT && p_tok(p)->kind != LEX_VAR)
			return (p_syntax(p));
		p->pos++;
		return (0);
	}
	if (p_accept_kw(p, "LANGUAGE") || p_accept_kw(p, "DATEFORMAT") ||
	    p_accept_kw(p, "DEADLOCK_PRIORITY")) {
		p_accept_op(p, "-");
		if (p_tok(p)->kind == LEX_EOF || p_tok(p)->kind == LEX_OP)
			return (p_syntax(p));
		p->pos++;
		return (0);
	}
	if (p_accept_kw(p, "STATISTICS")) {
		if (p_tok(p)->kind != LEX_IDENT)
			return (p_syntax(p));
		p->pos++;
		if (!p_accept_kw(p, "ON") && !p_accept_kw(p, "OFF"))
			return (p_syntax(p));
		return (0);
	}
	return (engine_set_onoff(p));
}

/*
 * SET ...; the compile pass parses it and keeps the session's options
 * as they are (SET takes effect when it runs).
 */
static int
engine_stmt_set(struct parser *p)
{
	struct sim_session *s = p->s;
	int nocount = s->nocount, xact_abort = s->xact_abort, rc;
	int fmtonly = s->fmtonly, iso = s->iso;
	int64_t ident = s->identity_insert, limit = s->rowcount_limit;

	rc = engine_set_option(p);
	if (s->dry) {
		s->nocount = nocount;
		s->xact_abort = xact_abort;
		s->fmtonly = fmtonly;
		s->iso = iso;
		s->identity_insert = ident;
		s->rowcount_limit = limit;
	}
	return (rc);
}

/* DECLARE @v type [= expr] [, ...] */
static int
engine_stmt_declare(struct parser *p)
{
	struct sim_type t;
	char name[129], tname[64];
	int idx, site;

	p->pos++;
	do {
		if (p_tok(p)->kind != LEX_VAR)
			return (p_syntax(p));
		snprintf(name, sizeof(name), "%s", p_tok(p)->text);
		site = p->pos++;
		p_accept_kw(p, "AS");
		if (p_kw(p, "TABLE")) /* tablevar.c */
			return (tablevar_declare(p, name));
		if (p_kw(p, "CURSOR"))
			return (p_syntax(p));
		if (p_type(p, &t, tname, sizeof(tname)) == -1)
			return (-1);
		if ((idx = engine_declare_var(p->s, name, &t, site, p->err)) ==
		    -1)
			return (-1);
		if (p_accept_op(p, "=") && engine_assign(p, idx) == -1)
			return (-1);
	} while (p_accept_op(p, ","));
	return (0);
}

/* USE db */
static int
engine_stmt_use(struct parser *p)
{
	struct sim_session *s = p->s;
	char old[129], parts[1][129];

	p->pos++;
	if (p_name(p, parts, 1) != 1)
		return (-1);
	if (s->dry) {
		/* what follows compiles in that database, not this one */
		s->dry_lax |= strcasecmp(parts[0], s->dbname) != 0;
		return (0);
	}
	if (s->trancount > 0 && strcasecmp(parts[0], s->dbname) != 0) {
		sim_error_set(p->err, 3906, 16, 1,
		    "mssqlsim cannot switch "
		    "databases inside a transaction (USE %s).",
		    parts[0]);
		return (-1);
	}
	snprintf(old, sizeof(old), "%s", s->dbname);
	if (engine_open_db(s, parts[0], p->err) == -1)
		return (-1);
	if (s->sink->envchange_str(
		s->sink->arg, SIM_ENV_DATABASE, s->dbname, old) == -1 ||
	    engine_info(
		s, 5701, "Changed database context to '%s'.", s->dbname) == -1)
		return (-2);
	return (engine_send_done(s, 0, 0) == -1 ? -2 : 0);
}

/* PRINT expr */
static int
engine_stmt_print(struct parser *p)
{
	struct simval v;
	struct sim_type t;
	int rc;

	p->pos++;
	if (engine_eval(p, &v, &t) == -1)
		return (-1);
	rc = engine_info(p->s, 0, "%s",
	    v.kind == SQLITE_NULL       ? ""
		: v.kind == SQLITE_TEXT ? (char *)v.p
					: "");
	if (v.kind == SQLITE_INTEGER)
		rc = engine_info(p->s, 0, "%lld", (long long)v.i);
	simval_free(&v);
	return (rc == -1 ? -2 : 0);
}

/* Evaluate a condition to 0/1 (NULL is false). */
static int
engine_cond(struct parser *p, int *truth)
{
	struct simval v;
	struct sim_type t;

	if (engine_eval(p, &v, &t) == -1)
		return (-1);
	*truth = v.kind == SQLITE_INTEGER ? v.i != 0
	    : v.kind == SQLITE_FLOAT      ? v.f != 0
					  : 0;
	simval_free(&v);
	return (0);
}

/* IF cond stmt [ELSE stmt] */
static int
engine_stmt_if(struct parser *p)
{
	int truth, rc;

	p->pos++;
	if (engine_cond(p, &truth) == -1)
		return (-1);
	if (p->s->dry) { /* compile both branches */
		if ((rc = engine_run_stmt(p)) != 0)
			return (rc);
		return (p_accept_kw(p, "ELSE") ? engine_run_stmt(p) : 0);
	}
	if (truth) {
		if ((rc = engine_run_stmt(p)) != 0)
			return (rc);
		if (p_accept_kw(p, "ELSE"))
			engine_skip_stmt(p);
		return (0);
	}
	engine_skip_stmt(p);
	if (p_accept_kw(p, "ELSE"))
		return (engine_run_stmt(p));
	return (0);
}

/* WHILE cond stmt */
static int
engine_stmt_while(struct parser *p)
{
	int start, truth, rc, guard = 0;

	p->pos++;
	start = p->pos;
	if (p->s->dry) {
		engine_skip_simple(p, NULL); /* condition */
		return (engine_run_stmt(p)); /* body, once */
	}
	for (;;) {
		p->pos = start;
		if (engine_cond(p, &truth) == -1)
			return (-1);
		if (!truth || guard++ > 1000000) {
			engine_skip_stmt(p);
			return (0);
		}
		if ((rc = engine_run_stmt(p)) != 0)
			return (rc);
	}
}

/* BEGIN ... END */
static int
engine_stmt_block(struct parser *p)
{
	int rc;

	while (!p_kw(p, "END")) {
		if (p_tok(p)->kind == LEX_EOF)
			return (p_syntax(p));
		if ((rc = engine_run_stmt(p)) != 0)
			return (rc);
	}
	p->pos++;
	return (0);
}

/* Begin a (possibly nested) transaction. */
int
engine_tran_begin(struct sim_session *s, int iso)
{
	unsigned char d[8];
	int i;

	if (s->trancount++ > 0)
		return (0);
	pthread_mutex_lock(&s->srv->mtx);
	s->tran_id = s->srv->next_tran++;
	pthread_mutex_unlock(&s->srv->mtx);
	s->tran_iso = iso > 0 ? iso : s->iso;
	for (i = 0; i < 8; i++)
		d[i] = (s->tran_id >> (8 * i)) & 0xff;
	return (s->sink->envchange_bin(
	    s->sink->arg, SIM_ENV_BEGINTRAN, d, 8, NULL, 0));
}

/* Commit one level; the outermost commits SQLite. */
int
engine_tran_commit(struct sim_session *s, struct sim_error *err)
{
	unsigned char d[8];
	int i;

	if (s->trancount == 0) {
		sim_error_set(err, 3902, 16, 1,
		    "The COMMIT TRANSACTION request "
		    "has no corresponding BEGIN TRANSACTION.");
		return (-1);
	}
	if (--s->trancount > 0)
		return (0);
	/* The commit hook sees the whole transaction's changes. */
	if (s->txn != TXN_NONE &&
	    (engine_run_hook(s, err) == -1 ||
		engine_exec_cached(s, "COMMIT", err) == -1)) {
		s->trancount = 1;
		engine_tran_rollback_all(s, 1);
		return (-1);
	}
	engine_changes_drop(s, 0);
	s->txn = TXN_NONE;
	for (i = 0; i < 8; i++)
		d[i] = (s->tran_id >> (8 * i)) & 0xff;
	if (s->sink->envchange_bin(
		s->sink->arg, SIM_ENV_COMMITTRAN, NULL, 0, d, 8) == -1)
		return (-2);
	return (0);
}

/* Roll the whole transaction back. */
int
engine_tran_rollback_all(struct sim_session *s, int notify)
{
	unsigned char d[8];
	int i, had = s->trancount > 0;

	tablevar_save(s); /* table variables outlive the rollback */
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	engine_changes_drop(s, 0);
	s->txn = TXN_NONE;
	s->trancount = 0;
	tablevar_restore(s);
	if (!had || !notify)
		return (0);
	for (i = 0; i < 8; i++)
		d[i] = (s->tran_id >> (8 * i)) & 0xff;
	return (s->sink->envchange_bin(
	    s->sink->arg, SIM_ENV_ROLLBACKTRAN, NULL, 0, d, 8));
}

/* Skip an optional transaction name. */
static void
engine_tran_name(struct parser *p)
{
	if (p_tok(p)->kind == LEX_VAR || p_tok(p)->kind == LEX_QIDENT ||
	    (p_tok(p)->kind == LEX_IDENT && !lex_is_reserved(p_tok(p)) &&
		!engine_stmt_word(p_tok(p))))
		p->pos++;
}

/* Is the parser at END kw (END TRY / END CATCH)? */
static int
engine_at_end(struct parser *p, const char *kw)
{
	return (p_kw(p, "END") && lex_is_kw(&p->lx->t[p->pos + 1], kw));
}

/* Statements up to END kw; skip them when run is 0. */
static int
engine_try_part(struct parser *p, const char *kw, int run)
{
	int rc;

	while (!engine_at_end(p, kw)) {
		if (p_tok(p)->kind == LEX_EOF)
			return (p_syntax(p));
		if (!run) {
			engine_skip_stmt(p);
			continue;
		}
		if ((rc = engine_run_stmt(p)) != 0)
			return (rc);
	}
	p->pos += 2;
	return (0);
}

/* BEGIN TRY ... END TRY BEGIN CATCH ... END CATCH */
static int
engine_stmt_try(struct parser *p)
{
	struct sim_session *s = p->s;
	struct sim_error saved;
	int rc;

	s->trydepth++;
	rc = engine_try_part(p, "TRY", 1);
	s->trydepth--;
	if (rc == 2)
		rc = engine_try_part(p, "TRY", 0) == 0 ? 2 : -1;
	if (rc != 0 && rc != 2)
		return (rc);
	if (!p_accept_kw(p, "BEGIN") || !p_accept_kw(p, "CATCH"))
		return (p_syntax(p));
	if (rc == 0)
		return (engine_try_part(p, "CATCH", s->dry));
	saved = s->caught;
	s->incatch++;
	rc = engine_try_part(p, "CATCH", 1);
	s->incatch--;
	s->caught = saved;
	return (rc);
}

/* RAISERROR (msg, severity, state [, args]) [WITH ...] */
static int
engine_stmt_raiserror(struct parser *p)
{
	struct simval v[8];
	struct sim_type t;
	char msg[1024] = "", *o;
	const char *f;
	int n = 0, i, ai = 3, sev;

	p->pos++;
	if (p_expect_op(p, "(") == -1)
		return (-1);
	do {
		if (n == 8 || engine_eval(p, &v[n], &t) == -1) {
			for (i = 0; i < n; i++)
				simval_free(&v[i]);
			return (n == 8 ? p_syntax(p) : -1);
		}
		n++;
	} while (p_accept_op(p, ","));
	if (p_expect_op(p, ")") == -1 || n < 3)
		goto fail;
	if (p_accept_kw(p, "WITH"))
		while (p_tok(p)->kind == LEX_IDENT &&
		    (p_accept_kw(p, "NOWAIT") || p_accept_kw(p, "LOG") ||
			p_accept_kw(p, "SETERROR")))
			p_accept_op(p, ",");
	f = v[0].kind == SQLITE_TEXT ? (char *)v[0].p : "";
	for (o = msg; *f != '\0' && o < msg + sizeof(msg) - 32; f++) {
		if (*f != '%' || f[1] == '\0') {
			*o++ = *f;
			continue;
		}
		while (
		    strchr("-+ #0123456789.lh", *++f) != NULL && f[1] != '\0')
			;
		if (*f == '%')
			*o++ = '%';
		else if (ai < n && v[ai].kind == SQLITE_TEXT)
			o += snprintf(o, 256, "%s", (char *)v[ai++].p);
		else if (ai < n)
			o += snprintf(o, 32, "%lld", (long long)v[ai++].i);
	}
	*o = '\0';
	if (p->s->dry)
		goto fail;
	sev = (int)v[1].i;
	sim_error_set(p->err, 50000, sev, (int)v[2].i, "%s", msg);
	for (i = 0; i < n; i++)
		simval_free(&v[i]);
	if (sev <= 10)
		return (engine_send_message(p->s, p->err) == -1 ? -2 : 0);
	return (-1);
fail:
	for (i = 0; i < n; i++)
		simval_free(&v[i]);
	if (p->s->dry && n >= 3 && p->err->number == 0)
		return (0);
	return (p->err->number ? -1 : p_syntax(p));
}

/* THROW [number, message, state] */
static int
engine_stmt_throw(struct parser *p)
{
	struct simval v[3];
	struct sim_type t;
	int n = 0, i;

	p->pos++;
	if (p_tok(p)->kind == LEX_EOF || p_op(p, ";") || p_kw(p, "END")) {
		if (p->s->dry) /* the pass does not know if in a CATCH */
			return (0);
		if (!p->s->incatch)
			return (p_syntax(p));
		*p->err = p->s->caught;
		return (-1);
	}
	do {
		if (n == 3 || engine_eval(p, &v[n], &t) == -1) {
			for (i = 0; i < n; i++)
				simval_free(&v[i]);
			return (n == 3 ? p_syntax(p) : -1);
		}
		n++;
	} while (p_accept_op(p, ","));
	if (n == 3 && p->s->dry) {
		for (i = 0; i < n; i++)
			simval_free(&v[i]);
		return (0);
	}
	if (n == 3)
		sim_error_set(p->err, (int)v[0].i, 16, (int)v[2].i, "%s",
		    v[1].kind == SQLITE_TEXT ? (char *)v[1].p : "");
	for (i = 0; i < n; i++)
		simval_free(&v[i]);
	return (n == 3 ? -1 : p_syntax(p));
}

/* WAITFOR DELAY 'hh:mm:ss[.mmm]' */
static int
engine_stmt_waitfor(struct parser *p)
{
	struct simval v;
	struct sim_type t;
	struct timespec ts;
	int h = 0, m = 0;
	double sec = 0;

	p->pos++;
	if (!p_accept_kw(p, "DELAY"))
		return (p_syntax(p));
	if (engine_eval(p, &v, &t) == -1)
		return (-1);
	if (p->s->dry) {
		simval_free(&v);
		return (0);
	}
	if (v.kind != SQLITE_TEXT ||
	    sscanf((char *)v.p, "%d:%d:%lf", &h, &m, &sec) < 2) {
		simval_free(&v);
		sim_error_set(p->err, 148, 15, 1,
		    "Incorrect time syntax in time "
		    "string used with WAITFOR.");
		return (-1);
	}
	simval_free(&v);
	sec += h * 3600 + m * 60;
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	return (0);
}

/* BEGIN TRAN | BEGIN ... END */
static int
engine_stmt_begin(struct parser *p)
{
	p->pos++;
	if (p_accept_kw(p, "DISTRIBUTED")) {
		p->pos--;
		return (p_syntax(p));
	}
	if (p_accept_kw(p, "TRY"))
		return (engine_stmt_try(p));
	if (!p_accept_kw(p, "TRAN") && !p_accept_kw(p, "TRANSACTION"))
		return (engine_stmt_block(p));
	engine_tran_name(p);
	if (p->s->dry)
		return (0);
	if (engine_tran_begin(p->s, 0) == -1)
		return (-2);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* COMMIT [TRAN|WORK] [name] */
static int
engine_stmt_commit(struct parser *p)
{
	int rc;

	p->pos++;
	if (p_accept_kw(p, "TRAN") || p_accept_kw(p, "TRANSACTION"))
		engine_tran_name(p);
	else
		p_accept_kw(p, "WORK");
	if (p->s->dry)
		return (0);
	if ((rc = engine_tran_commit(p->s, p->err)) != 0)
		return (rc);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* ROLLBACK [TRAN|WORK] [name] */
static int
engine_stmt_rollback(struct parser *p)
{
	p->pos++;
	if (p_accept_kw(p, "TRAN") || p_accept_kw(p, "TRANSACTION"))
		engine_tran_name(p);
	else
		p_accept_kw(p, "WORK");
	if (p->s->dry)
		return (0);
	if (p->s->trancount == 0) {
		sim_error_set(p->err, 3903, 16, 1,
		    "The ROLLBACK TRANSACTION "
		    "request has no corresponding BEGIN TRANSACTION.");
		return (-1);
	}
	if (engine_tran_rollback_all(p->s, 1) == -1)
		return (-2);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* Run one generated statement (SELECT INTO's CREATE and INSERT). */
static int
engine_run_generated(struct parser *p, const char *sql, int ddl)
{
	struct parser p2;
	struct lex lx;
	int rc;

	if (lex_tokenize(sql, &lx, p->err) == -1)
		return (-1);
	memset(&p2, 0, sizeof(p2));
	p2.s = p->s;
	p2.lx = &lx;
	p2.err = p->err;
	p->s->suppress_done = ddl;
	rc = ddl ? catalog_exec_ddl(&p2) : dml_insert(&p2);
	p->s->suppress_done = 0;
	engine_parser_reset(&p2);
	free(p2.lits);
	lex_free(&lx);
	return (rc);
}

/* SELECT ... INTO t FROM ...: CREATE TABLE t, then INSERT t SELECT. */
static int
engine_select_into(struct parser *p, struct cquery *q, int start)
{
	struct sbuf b;
	char *src, tn[80], *col;
	int i, rc;

	sbuf_init(&b);
	src = compile_source(p, q->into_start + 1, q->into_end);
	sbuf_add(&b, "CREATE TABLE ", 13);
	sbuf_add(&b, src, strlen(src));
	sbuf_add(&b, " (", 2);
	for (i = 0; i < q->ncols; i++) {
		if (q->cols[i].name[0] == '\0') {
			sim_error_set(p->err, 1038, 15, 5,
			    "An object or column "
			    "name is missing or empty. For SELECT INTO "
			    "statements, verify each column has a name. For "
			    "other statements, look for empty alias names.");
			free(src);
			sbuf_free(&b);
			return (-1);
		}
		simtype_format(&q->cols[i].type, tn, sizeof(tn));
		col = sqlite3_mprintf(
		    "%s[%s] %s NULL", i ? ", " : "", q->cols[i].name, tn);
		sbuf_add(&b, col, strlen(col));
		sqlite3_free(col);
	}
	sbuf_add(&b, ")", 2);
	rc = engine_run_generated(p, (char *)b.data, 1);
	sbuf_reset(&b);
	if (rc == 0) {
		col = compile_source(p, start, q->into_start);
		sbuf_add(&b, "INSERT INTO ", 12);
		sbuf_add(&b, src, strlen(src));
		sbuf_add(&b, " ", 1);
		sbuf_add(&b, col, strlen(col));
		free(col);
		if (p->pos > q->into_end) {
			col = compile_source(p, q->into_end, p->pos);
			sbuf_add(&b, " ", 1);
			sbuf_add(&b, col, strlen(col));
			free(col);
		}
		sbuf_add(&b, "", 1);
		rc = engine_run_generated(p, (char *)b.data, 0);
	}
	free(src);
	sbuf_free(&b);
	return (rc);
}

/* SELECT ... (results, or assignment to variables) */
static int
engine_stmt_select(struct parser *p)
{
	struct cquery q;
	int rc;

	int start = p->pos;

	memset(&q, 0, sizeof(q));
	if (compile_select(p, NULL, &q) == -1) {
		cquery_free(&q);
		return (-1);
	}
	if (q.into_start != 0)
		rc = engine_select_into(p, &q, start);
	else
		rc = dml_stream_select(p, &q);
	cquery_free(&q);
	return (rc);
}

/* EXEC('sql') */
static int
engine_exec_dynamic(struct parser *p)
{
	struct sim_session *s = p->s;
	struct simval v;
	struct sim_type t;
	struct lex lx;
	int rc, base = s->varbase, i;

	if (engine_eval(p, &v, &t) == -1)
		return (-1);
	if (p_expect_op(p, ")") == -1 || s->dry) {
		simval_free(&v);
		return (s->dry && p->err->number == 0 ? 0 : -1);
	}
	if (lex_tokenize(
		v.kind == SQLITE_TEXT ? (char *)v.p : "", &lx, p->err) == -1) {
		simval_free(&v);
		return (-1);
	}
	simval_free(&v);
	s->varbase = s->nvars;
	rc = engine_exec_tokens(s, &lx);
	for (i = s->varbase; i < s->nvars; i++)
		simval_free(&s->vars[i].value);
	s->nvars = s->varbase;
	s->varbase = base;
	lex_free(&lx);
	return (rc == -1 ? -2 : 0);
}

/* One EXEC argument: [@name =] value [OUTPUT] */
static int
engine_exec_arg(struct parser *p, struct sim_param *a, int *outvar)
{
	struct sim_type t;
	struct lex_tok *t0 = p_tok(p);

	memset(a, 0, sizeof(*a));
	*outvar = -1;
	if (t0->kind == LEX_VAR && lex_is_op(&p->lx->t[p->pos + 1], "=")) {
		snprintf(a->name, sizeof(a->name), "%s", t0->text);
		p->pos += 2;
	}
	if (p_tok(p)->kind == LEX_VAR)
		*outvar = engine_find_var(p->s, p_tok(p)->text);
	if (engine_eval(p, &a->value, &t) == -1)
		return (-1);
	a->type = t;
	if (p_accept_kw(p, "OUTPUT") || p_accept_kw(p, "OUT"))
		a->output = 1;
	else
		*outvar = -1;
	return (0);
}

/* EXEC proc args | EXEC('sql') */
static int
engine_stmt_exec(struct parser *p)
{
	struct sim_param args[32];
	int outvars[32], n = 0, rc, i, inproc = p->s->inproc;
	char parts[4][129], name[300];
	int np;

	p->pos++;
	if (p_accept_op(p, "("))
		return (engine_exec_dynamic(p));
	if (p_tok(p)->kind == LEX_VAR && lex_is_op(&p->lx->t[p->pos + 1], "="))
		p->pos += 2; /* @rc = proc */
	if ((np = p_name(p, parts, 4)) < 1)
		return (-1);
	snprintf(name, sizeof(name), "%s%s%s", np > 1 ? parts[np - 2] : "",
	    np > 1 ? "." : "", parts[np - 1]);
	if (p_tok(p)->kind != LEX_EOF && !lex_is_op(p_tok(p), ";") &&
	    !engine_stmt_word(p_tok(p))) {
		do {
			if (n == 32)
				return (p_syntax(p));
			if (engine_exec_arg(p, &args[n], &outvars[n]) == -1) {
				for (i = 0; i < n; i++)
					simval_free(&args[i].value);
				return (-1);
			}
			n++;
		} while (p_accept_op(p, ","));
	}
	if (p->s->dry) { /* the procedure compiles when it runs */
		for (i = 0; i < n; i++)
			simval_free(&args[i].value);
		return (0);
	}
	p->s->exec_in_batch = 1;
	rc = rpc_exec(p->s, name, args, n);
	p->s->exec_in_batch = 0;
	p->s->inproc = inproc;
	for (i = 0; i < n; i++) {
		if (rc == 0 && outvars[i] >= 0 && args[i].output) {
			simval_free(&p->s->vars[outvars[i]].value);
			p->s->vars[outvars[i]].value = args[i].value;
			continue;
		}
		simval_free(&args[i].value);
	}
	if (rc == -1)
		*p->err = p->s->err;
	return (rc);
}
