/*
 * ct.c: Change Tracking (CT), as ../shared/SQLSERVER.md section 1 says
 * SQL Server does it: ALTER DATABASE ... SET CHANGE_TRACKING, ALTER
 * TABLE ... ENABLE|DISABLE CHANGE_TRACKING, the commit hook that
 * records every change of a tracked table, TRUNCATE, retention and
 * auto-cleanup, the CT functions and the procedures
 * sys.sp_flush_CT_internal_table_on_demand (SQL Server's own manual
 * cleanup) and sim.advance_clock (simulator-only: moves clock.c's clock
 * so that tests can make a retention period pass).  CHANGETABLE itself
 * is compiled by ct_query.c.
 *
 * Storage, all in the database's own SQLite file so that it commits
 * atomically with the data: sim_ct_db (the settings), sim_ct_versions
 * (one row per version with its commit time, for retention; its
 * highest is the database-wide current version, which survives CT
 * OFF/ON because nothing but cleanup of older rows deletes from it),
 * sim_ct_tables (one row per tracked table: begin, cleanup and min
 * valid versions) and, per tracked table, the history sim_ct_<object_id>
 * (WITHOUT ROWID): one row per (primary key, version) with
 *   first_ins  the version's first change of the key inserted it
 *   last_del   the version's last change of the key deleted it
 *   ins        the version inserted the key (SYS_CHANGE_CREATION_VERSION)
 *   cols       SYS_CHANGE_COLUMNS of the version's updates, NULL = all
 *   ctx        SYS_CHANGE_CONTEXT of the version's last change
 * Key columns keep their stored form and collation, so that SQLite
 * matches keys (and joins them to the table) as SQL Server does.
 * Master mirrors the settings in sim_ct_databases for the server-wide
 * sys.change_tracking_databases, DATABASEPROPERTYEX and the cleanup
 * thread.
 *
 * The commit hook (engine.c calls it inside the write transaction just
 * before COMMIT) draws one version per database per transaction that
 * changed a tracked table, and upserts one history row per key.  What
 * it needs of a table (tracked? key, column ids) is cached per thread
 * (one thread per connection) and checked against SQLite's
 * schema_version, which every ENABLE/DISABLE and column or key change
 * moves.  An UPDATE that SETs a key column (even to itself) is a delete
 * of the old key and an insert of the new one; within a statement all
 * such deletes come before the inserts, so that "set id = id + 1" nets
 * to updates of the keys present before and after.  Rollbacks, failed
 * statements and statements that changed no row never reach the hook,
 * so they draw no version.  Writers serialize on SQLite's write lock
 * from their first write to COMMIT, so versions follow commit order.
 *
 * Cleanup: a thread wakes every second (and at once after
 * sim.advance_clock), finds in master the databases with AUTO_CLEANUP
 * ON and, in each, purges the history up to the newest version older
 * than the retention period, raising cleanup_version and
 * min_valid_version; it takes a database's write lock only when there
 * is something to purge.
 */

#include <sys/types.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine.h"

#define CT_MAXKEY 32
#define CT_MAXTABS 16
#define CT_DEF_RETENTION 2 /* DAYS */

/* What the commit hook knows of one table. */
struct ct_tab {
	char db[140];
	char file[400]; /* the database file (cache key with db, oid) */
	int64_t schema; /* SQLite schema_version the entry was read at */
	int64_t object_id;
	int tracked;
	int track_cols;
	int nkeys;
	int keyidx[CT_MAXKEY]; /* table column index of each key column */
	int ncols;
	int *colid; /* column_id per table column */
	int *kind; /* 0 plain, 1 key, 2 computed, 3 rowversion */
	int nplain;
	int rvcol; /* rowversion column index or -1 */
	int64_t version; /* drawn for the commit being recorded */
	char *upsert; /* the SQL of ct_upsert_stmt() */
};

/* A database's CT settings (sim_ct_db). */
struct ct_dbset {
	int enabled;
	int retention; /* as given */
	int units; /* 1 MINUTES, 2 HOURS, 3 DAYS */
	int auto_cleanup;
};

static int ct_execf(sqlite3 *db, struct sim_error *err, const char *fmt, ...);
static void ct_buff(struct sbuf *b, const char *fmt, ...);
static int64_t ct_int(sqlite3 *db, int64_t def, const char *fmt, ...);
static sqlite3_stmt *ct_stmt(struct sim_session *s, const char *fmt, ...);
static sqlite3 *ct_open(struct sim_server *srv, const char *name);
static void ct_dbset_get(sqlite3 *db, const char *alias, struct ct_dbset *d);
static int64_t ct_retention_secs(const struct ct_dbset *d);
static int ct_db_on(struct sim_session *s, const char *alias);
static int ct_key_ids(
    struct sim_session *s, const char *alias, int64_t oid, int *ids, int max);
static void ct_tab_load(struct sim_session *s, struct ct_tab *tb);
static int64_t ct_schema_version(struct sim_session *s, const char *alias);
static void ct_tab_clear(struct ct_tab *tb);
static void ct_cache_free(void *arg);
static void ct_cache_key_init(void);
static struct ct_tab *ct_tab_get(
    struct sim_session *s, const struct rowchange *c);
static int ct_draw(
    struct sim_session *s, struct ct_tab *tb, struct sim_error *err);
static sqlite3_stmt *ct_upsert_stmt(struct sim_session *s, struct ct_tab *tb);
static void ct_mask(
    const struct ct_tab *tb, const struct rowchange *c, struct sbuf *m);
static int ct_emit(struct sim_session *s, struct ct_tab *tb,
    const struct rowchange *c, int op, const struct simval *img,
    struct sbuf *mask, struct sim_error *err);
static int ct_key_set(const struct ct_tab *tb, const struct rowchange *c);
static int ct_record(struct sim_session *s, struct ct_tab *tb,
    const struct rowchange *c, int pass, struct sbuf *m, struct sim_error *err);
static int ct_commit(struct sim_session *s, const struct rowchange *ch, int n,
    struct sim_error *err);
static int64_t ct_cleanup_cut(sqlite3 *db, const char *alias);
static int ct_cleanup_db(
    sqlite3 *db, const char *alias, int64_t only_oid, struct sim_error *err);
static void ct_cleanup_pass(struct sim_server *srv);
static void *ct_cleanup_main(void *arg);
static int ct_parse_table_opts(struct parser *p, int *track);
static int ct_create_history(
    struct parser *p, struct table *t, const int *keys, int nk);
static int ct_enable_table(struct parser *p, struct table *t, int track);
static int ct_disable_table(struct parser *p, struct table *t);
static int ct_db_error(struct parser *p, struct sim_error *e);
static int ct_opt_twice(struct parser *p, const char *opt);
static int ct_opt_retention(struct parser *p, struct ct_dbset *d);
static int ct_parse_db_opts(struct parser *p, struct ct_dbset *d, int *seen);
static int ct_db_store(
    struct parser *p, const char *dbname, const struct ct_dbset *d);
static int64_t ct_db_ntables(struct sim_server *srv, const char *dbname);
static int ct_db_apply(struct parser *p, const char *dbname, int mode,
    const struct ct_dbset *given, int seen);
static int ct_context_value(struct parser *p, struct simval *v);
static struct sim_param *ct_arg(
    struct sim_param *a, int n, const char *name, int pos);
static int ct_proc_flush(struct sim_session *s, struct sim_param *a, int n);
static int ct_proc_advance(struct sim_session *s, struct sim_param *a, int n);

/* The cleanup thread of a server (one server per process in practice). */
static struct {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	pthread_t thread;
	struct sim_server *srv;
	int running, stop;
} ct_bg = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };

/* ---- small helpers ---- */

/* Run SQL (sqlite3_mprintf format) on a connection. */
static int
ct_execf(sqlite3 *db, struct sim_error *err, const char *fmt, ...)
{
	va_list ap;
	char *sql, *msg = NULL;
	int rc = 0;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (err != NULL && sim_error_from_sqlite(msg, err) == -1)
			sim_error_set(err, 50000, 16, 1, "mssqlsim ct: %s",
			    msg ? msg : "?");
		rc = -1;
	}
	sqlite3_free(msg);
	sqlite3_free(sql);
	return (rc);
}

/* Append sqlite3_mprintf output to a buffer. */
static void
ct_buff(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *q;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	sbuf_add(b, q, strlen(q));
	sqlite3_free(q);
}

/* One integer from a query (sqlite3_mprintf format), def if none. */
static int64_t
ct_int(sqlite3 *db, int64_t def, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	char *sql;
	int64_t v = def;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return (v);
}

/* A cached statement of the session, or NULL (no such table...). */
static sqlite3_stmt *
ct_stmt(struct sim_session *s, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	st = engine_stmt_get(s, sql, NULL);
	sqlite3_free(sql);
	return (st);
}

/* Open a database file of the server on a connection of our own. */
static sqlite3 *
ct_open(struct sim_server *srv, const char *name)
{
	sqlite3 *db;
	char *path = engine_db_path(srv, name);

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		free(path);
		return (NULL);
	}
	free(path);
	sqlite3_busy_timeout(db, 30000);
	simtypes_register(db);
	return (db);
}

/* Read a database's settings (alias = SQLite schema). */
static void
ct_dbset_get(sqlite3 *db, const char *alias, struct ct_dbset *d)
{
	sqlite3_stmt *st;
	char *sql;

	memset(d, 0, sizeof(*d));
	sql = sqlite3_mprintf("SELECT enabled, retention, units, "
			      "auto_cleanup FROM \"%w\".sim_ct_db WHERE id = 1",
	    alias);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			d->enabled = sqlite3_column_int(st, 0);
			d->retention = sqlite3_column_int(st, 1);
			d->units = sqlite3_column_int(st, 2);
			d->auto_cleanup = sqlite3_column_int(st, 3);
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
}

/* Retention in seconds. */
static int64_t
ct_retention_secs(const struct ct_dbset *d)
{
	int64_t m = d->units == 1 ? 1 : d->units == 2 ? 60 : 1440;

	return ((int64_t)d->retention * m * 60);
}

/* Is the database's CT on (session connection, schema alias)? */
static int
ct_db_on(struct sim_session *s, const char *alias)
{
	sqlite3_stmt *st;
	int on = 0;

	st = ct_stmt(
	    s, "SELECT enabled FROM \"%w\".sim_ct_db WHERE id = 1", alias);
	if (st == NULL)
		return (0);
	if (sqlite3_step(st) == SQLITE_ROW)
		on = sqlite3_column_int(st, 0);
	engine_stmt_put(s, st);
	return (on);
}

/* The database's current version (committed, or this transaction's). */
int64_t
ct_current_version(struct sim_session *s, const char *alias)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	st = ct_stmt(s, "SELECT max(ver) FROM \"%w\".sim_ct_versions", alias);
	if (st == NULL)
		return (0);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	engine_stmt_put(s, st);
	return (v);
}

/* Is a table tracked?  Fills its TRACK_COLUMNS_UPDATED. */
int
ct_tracked(struct sim_session *s, const char *alias, int64_t oid, int *cols)
{
	sqlite3_stmt *st;
	int found = 0;

	st = ct_stmt(s,
	    "SELECT track_columns FROM \"%w\".sim_ct_tables WHERE "
	    "object_id = ?",
	    alias);
	if (st == NULL)
		return (0);
	sqlite3_bind_int64(st, 1, oid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		if (cols != NULL)
			*cols = sqlite3_column_int(st, 0);
	}
	engine_stmt_put(s, st);
	return (found);
}

/* The column_ids of the primary key of (alias, oid), in key order. */
static int
ct_key_ids(
    struct sim_session *s, const char *alias, int64_t oid, int *ids, int max)
{
	sqlite3_stmt *st;
	int n = 0;

	st = ct_stmt(s,
	    "SELECT ic.column_id FROM \"%w\".sim_index_columns ic "
	    "JOIN \"%w\".sim_indexes i ON i.object_id = ic.object_id AND "
	    "i.index_id = ic.index_id WHERE i.object_id = ? AND "
	    "i.is_primary_key = 1 AND ic.key_ordinal > 0 ORDER BY "
	    "ic.key_ordinal",
	    alias, alias);
	if (st == NULL)
		return (0);
	sqlite3_bind_int64(st, 1, oid);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int(st, 0);
	engine_stmt_put(s, st);
	return (n);
}

/* The primary key of a table as indexes into t->cols, in key order. */
int
ct_table_keys(struct sim_session *s, const struct table *t, int *idx, int max)
{
	int ids[CT_MAXKEY], n, i, k;

	n = ct_key_ids(s, t->db, t->object_id, ids, CT_MAXKEY);
	for (k = 0; k < n && k < max; k++) {
		idx[k] = -1;
		for (i = 0; i < t->ncols; i++)
			if (t->cols[i].column_id == ids[k])
				idx[k] = i;
		if (idx[k] < 0)
			return (0);
	}
	return (n < max ? n : max);
}

/* ---- the commit hook ---- */

/* Load what the hook needs of a table. */
static void
ct_tab_load(struct sim_session *s, struct ct_tab *tb)
{
	sqlite3_stmt *st;
	int ids[CT_MAXKEY], nk, i, k;

	tb->rvcol = -1;
	if (!(tb->tracked =
		    ct_tracked(s, tb->db, tb->object_id, &tb->track_cols)))
		return;
	nk = ct_key_ids(s, tb->db, tb->object_id, ids, CT_MAXKEY);
	st = ct_stmt(s,
	    "SELECT column_id, is_computed, is_rowversion FROM "
	    "\"%w\".sim_columns WHERE object_id = ? ORDER BY column_id",
	    tb->db);
	if (st == NULL) {
		tb->tracked = 0;
		return;
	}
	sqlite3_bind_int64(st, 1, tb->object_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		tb->colid =
		    util_xrealloc(tb->colid, (tb->ncols + 1) * sizeof(int));
		tb->kind =
		    util_xrealloc(tb->kind, (tb->ncols + 1) * sizeof(int));
		tb->colid[tb->ncols] = sqlite3_column_int(st, 0);
		tb->kind[tb->ncols] = sqlite3_column_int(st, 1) ? 2
		    : sqlite3_column_int(st, 2)                 ? 3
								: 0;
		if (tb->kind[tb->ncols] == 3)
			tb->rvcol = tb->ncols;
		tb->ncols++;
	}
	engine_stmt_put(s, st);
	for (k = 0; k < nk; k++)
		for (i = 0; i < tb->ncols; i++)
			if (tb->colid[i] == ids[k]) {
				tb->keyidx[tb->nkeys++] = i;
				tb->kind[i] = 1;
			}
	for (i = 0; i < tb->ncols; i++)
		tb->nplain += tb->kind[i] == 0;
	if (tb->nkeys != nk || nk == 0)
		tb->tracked = 0;
}

/* The hook's table entries, per thread (one thread per connection). */
static __thread struct ct_tab ct_cache[CT_MAXTABS];
static __thread int ct_cache_next;
static pthread_key_t ct_cache_key; /* frees a thread's entries at exit */
static pthread_once_t ct_cache_once = PTHREAD_ONCE_INIT;

/* Free a thread's cache entries (pthread key destructor). */
static void
ct_cache_free(void *arg)
{
	struct ct_tab *c = arg;
	int i;

	for (i = 0; i < CT_MAXTABS; i++)
		ct_tab_clear(&c[i]);
}

/* Create the key whose destructor empties the cache. */
static void
ct_cache_key_init(void)
{
	pthread_key_create(&ct_cache_key, ct_cache_free);
}

/* SQLite's schema_version of a database of the session's connection. */
static int64_t
ct_schema_version(struct sim_session *s, const char *alias)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if ((st = ct_stmt(s, "PRAGMA \"%w\".schema_version", alias)) == NULL)
		return (-1);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	engine_stmt_put(s, st);
	return (v);
}

/* Empty a cache entry. */
static void
ct_tab_clear(struct ct_tab *tb)
{
	free(tb->colid);
	free(tb->kind);
	free(tb->upsert);
	memset(tb, 0, sizeof(*tb));
}

/* The hook's entry for the table of a change, NULL if not tracked. */
static struct ct_tab *
ct_tab_get(struct sim_session *s, const struct rowchange *c)
{
	struct ct_tab *tb = NULL;
	const char *file;
	int64_t schema;
	int i;

	if (strcmp(c->db, "temp") == 0 ||
	    (file = sqlite3_db_filename(s->db, c->db)) == NULL)
		return (NULL);
	schema = ct_schema_version(s, c->db);
	for (i = 0; i < CT_MAXTABS && tb == NULL; i++)
		if (ct_cache[i].object_id == c->object_id &&
		    strcmp(ct_cache[i].db, c->db) == 0 &&
		    strcmp(ct_cache[i].file, file) == 0)
			tb = &ct_cache[i];
	if (tb != NULL && tb->schema == schema)
		return (tb->tracked ? tb : NULL);
	if (tb == NULL) {
		pthread_once(&ct_cache_once, ct_cache_key_init);
		pthread_setspecific(ct_cache_key, ct_cache);
		tb = &ct_cache[ct_cache_next++ % CT_MAXTABS];
	}
	ct_tab_clear(tb);
	snprintf(tb->db, sizeof(tb->db), "%s", c->db);
	snprintf(tb->file, sizeof(tb->file), "%s", file);
	tb->object_id = c->object_id;
	tb->schema = schema;
	ct_tab_load(s, tb);
	return (tb->tracked ? tb : NULL);
}

/* The versions this commit drew, per database (schema alias). */
static __thread struct {
	char db[140];
	int64_t v;
} ct_drawn[8];
static __thread int ct_ndrawn;

/* Draw the transaction's version in a database (once per commit). */
static int
ct_draw(struct sim_session *s, struct ct_tab *tb, struct sim_error *err)
{
	sqlite3_stmt *st;
	int i, rc;

	for (i = 0; i < ct_ndrawn; i++)
		if (strcmp(ct_drawn[i].db, tb->db) == 0) {
			tb->version = ct_drawn[i].v;
			return (0);
		}
	if (ct_ndrawn == 8 ||
	    (st = ct_stmt(s, "INSERT INTO \"%w\".sim_ct_versions VALUES (?, ?)",
		 tb->db)) == NULL)
		return (engine_sqlite_error(s, err));
	tb->version = ct_current_version(s, tb->db) + 1;
	sqlite3_bind_int64(st, 1, tb->version);
	sqlite3_bind_double(st, 2, clock_now_seconds());
	rc = sqlite3_step(st);
	engine_stmt_put(s, st);
	if (rc != SQLITE_DONE)
		return (engine_sqlite_error(s, err));
	snprintf(ct_drawn[ct_ndrawn].db, sizeof(ct_drawn[0].db), "%s", tb->db);
	ct_drawn[ct_ndrawn++].v = tb->version;
	return (0);
}

/* The upsert of one history row of a table (SQL built once). */
static sqlite3_stmt *
ct_upsert_stmt(struct sim_session *s, struct ct_tab *tb)
{
	struct sbuf b;
	int k;

	if (tb->upsert != NULL)
		return (engine_stmt_get(s, tb->upsert, NULL));
	sbuf_init(&b);
	ct_buff(&b, "INSERT INTO \"%w\".sim_ct_%lld (", tb->db,
	    (long long)tb->object_id);
	for (k = 0; k < tb->nkeys; k++)
		ct_buff(&b, "k%d, ", k);
	ct_buff(&b, "ver, first_ins, last_del, ins, cols, ctx) VALUES (?1");
	for (k = 2; k <= tb->nkeys + 6; k++)
		ct_buff(&b, ", ?%d", k);
	ct_buff(&b, ") ON CONFLICT (");
	for (k = 0; k < tb->nkeys; k++)
		ct_buff(&b, "k%d, ", k);
	ct_buff(&b,
	    "ver) DO UPDATE SET last_del = excluded.last_del, ins = "
	    "max(ins, excluded.ins), cols = sim_ct_colmerge(cols, "
	    "excluded.cols), ctx = excluded.ctx");
	for (k = 0; k < tb->nkeys; k++) /* 'x' -> 'X': the key as now */
		ct_buff(&b, ", k%d = excluded.k%d", k, k);
	sbuf_add(&b, "", 1);
	tb->upsert = (char *)b.data;
	return (engine_stmt_get(s, tb->upsert, NULL));
}

/* SYS_CHANGE_COLUMNS of an update of non-key columns, or NULL = all. */
static void
ct_mask(const struct ct_tab *tb, const struct rowchange *c, struct sbuf *m)
{
	int i, k, id, plain = 0, seen;

	sbuf_reset(m);
	if (!tb->track_cols)
		return;
	sbuf_u32le(m, 0);
	for (i = 0; i < c->nset; i++) {
		if (c->setcols[i] < 0 || c->setcols[i] >= tb->ncols ||
		    tb->kind[c->setcols[i]] == 2)
			continue;
		id = tb->colid[c->setcols[i]];
		for (k = 4, seen = 0; k < (int)m->len; k += 4)
			seen |= (int)util_get_u32le(m->data + k) == id;
		if (seen)
			continue;
		sbuf_u32le(m, (uint32_t)id);
		plain += tb->kind[c->setcols[i]] == 0;
	}
	if (plain >= tb->nplain) {
		sbuf_reset(m); /* every non-key column: NULL */
		return;
	}
	if (tb->rvcol >= 0)
		sbuf_u32le(m, (uint32_t)tb->colid[tb->rvcol]);
}

/* Write one history row: op 'I', 'D' or 'U' of the key in img. */
static int
ct_emit(struct sim_session *s, struct ct_tab *tb, const struct rowchange *c,
    int op, const struct simval *img, struct sbuf *mask, struct sim_error *err)
{
	sqlite3_stmt *st;
	int k, rc, n = tb->nkeys;

	if (img == NULL)
		return (0);
	if ((st = ct_upsert_stmt(s, tb)) == NULL)
		return (engine_sqlite_error(s, err));
	for (k = 0; k < n; k++)
		simval_bind(st, k + 1, &img[tb->keyidx[k]]);
	sqlite3_bind_int64(st, n + 1, tb->version);
	sqlite3_bind_int(st, n + 2, op == 'I');
	sqlite3_bind_int(st, n + 3, op == 'D');
	sqlite3_bind_int(st, n + 4, op == 'I');
	if (op == 'U' && mask->len > 0)
		sqlite3_bind_blob(
		    st, n + 5, mask->data, mask->len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, n + 5);
	simval_bind(st, n + 6, &c->context);
	rc = sqlite3_step(st);
	engine_stmt_put(s, st);
	return (rc == SQLITE_DONE ? 0 : engine_sqlite_error(s, err));
}

/* Does an update SET a key column? */
static int
ct_key_set(const struct ct_tab *tb, const struct rowchange *c)
{
	int i;

	if (c->op != 'U')
		return (0);
	for (i = 0; i < c->nset; i++)
		if (c->setcols[i] >= 0 && c->setcols[i] < tb->ncols &&
		    tb->kind[c->setcols[i]] == 1)
			return (1);
	return (0);
}

/* Record one change; pass 1 = all but the inserts of key updates. */
static int
ct_record(struct sim_session *s, struct ct_tab *tb, const struct rowchange *c,
    int pass, struct sbuf *m, struct sim_error *err)
{
	int keyset = ct_key_set(tb, c);

	if (pass == 2 && !keyset)
		return (0);
	if (ct_draw(s, tb, err) == -1)
		return (-1);
	if (pass == 2)
		return (ct_emit(s, tb, c, 'I', c->after, m, err));
	if (c->op == 'I' || c->op == 'D')
		return (ct_emit(s, tb, c, c->op,
		    c->op == 'I' ? c->after : c->before, m, err));
	if (keyset)
		return (ct_emit(s, tb, c, 'D', c->before, m, err));
	ct_mask(tb, c, m);
	return (ct_emit(s, tb, c, 'U', c->after, m, err));
}

/* The hook: history rows for every change of a tracked table. */
static int
ct_commit(struct sim_session *s, const struct rowchange *ch, int n,
    struct sim_error *err)
{
	const struct rowchange *last = NULL;
	struct ct_tab *tb = NULL;
	struct sbuf m;
	int i, j, k, pass, rc = 0;

	ct_ndrawn = 0;
	sbuf_init(&m);
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i; j < n && ch[j].stmt == ch[i].stmt; j++)
			;
		for (pass = 1; pass <= 2 && rc == 0; pass++)
			for (k = i; k < j && rc == 0; k++) {
				/* runs of one table: look it up once */
				if (last == NULL ||
				    last->object_id != ch[k].object_id ||
				    strcmp(last->db, ch[k].db) != 0) {
					last = &ch[k];
					tb = ct_tab_get(s, &ch[k]);
				}
				if (tb != NULL)
					rc = ct_record(
					    s, tb, &ch[k], pass, &m, err);
			}
	}
	sbuf_free(&m);
	return (rc);
}

/* ---- server start and stop ---- */

/* Install the hook and start the cleanup thread. */
void
ct_init(struct sim_server *srv)
{
	engine_set_commit_hook(srv, ct_commit);
	pthread_mutex_lock(&ct_bg.mtx);
	if (!ct_bg.running) {
		ct_bg.srv = srv;
		ct_bg.stop = 0;
		if (pthread_create(
			&ct_bg.thread, NULL, ct_cleanup_main, NULL) == 0)
			ct_bg.running = 1;
	}
	pthread_mutex_unlock(&ct_bg.mtx);
}

/* Stop the cleanup thread of srv. */
void
ct_fini(struct sim_server *srv)
{
	pthread_mutex_lock(&ct_bg.mtx);
	if (!ct_bg.running || ct_bg.srv != srv) {
		pthread_mutex_unlock(&ct_bg.mtx);
		return;
	}
	ct_bg.stop = 1;
	pthread_cond_broadcast(&ct_bg.cond);
	pthread_mutex_unlock(&ct_bg.mtx);
	pthread_join(ct_bg.thread, NULL);
	pthread_mutex_lock(&ct_bg.mtx);
	ct_bg.running = 0;
	ct_bg.srv = NULL;
	pthread_mutex_unlock(&ct_bg.mtx);
}

/* ---- retention ---- */

/*
 * The retention cut of a database: the newest version older than the
 * retention period that cleanup has still to pass, or 0 for none.
 */
static int64_t
ct_cleanup_cut(sqlite3 *db, const char *alias)
{
	struct ct_dbset d;
	int64_t cut;

	ct_dbset_get(db, alias, &d);
	if (!d.enabled)
		return (0);
	cut = ct_int(db, 0,
	    "SELECT max(ver) FROM \"%w\".sim_ct_versions WHERE "
	    "commit_time <= %.6f",
	    alias, clock_now_seconds() - (double)ct_retention_secs(&d));
	if (cut <= 0 ||
	    ct_int(db, 0,
		"SELECT EXISTS (SELECT 1 FROM \"%w\".sim_ct_tables WHERE "
		"cleanup_version < %lld) OR EXISTS (SELECT 1 FROM "
		"\"%w\".sim_ct_versions WHERE ver < %lld)",
		alias, (long long)cut, alias, (long long)cut) == 0)
		return (0);
	return (cut);
}

/*
 * Purge history older than the retention period from every tracked
 * table of a database (alias on db) and raise the tables' cleanup and
 * min valid versions; only_oid limits it to one table (0 = all).  The
 * caller holds the write transaction.
 */
static int
ct_cleanup_db(
    sqlite3 *db, const char *alias, int64_t only_oid, struct sim_error *err)
{
	sqlite3_stmt *st;
	int64_t cut, oid, *oids = NULL;
	int n = 0, i, rc = 0;
	char *sql;

	if ((cut = ct_cleanup_cut(db, alias)) <= 0)
		return (0);
	sql = sqlite3_mprintf("SELECT object_id FROM \"%w\".sim_ct_tables "
			      "WHERE cleanup_version < %lld",
	    alias, (long long)cut);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			oids = util_xrealloc(oids, (n + 1) * sizeof(*oids));
			oids[n++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	for (i = 0; i < n && rc == 0; i++) {
		oid = oids[i];
		if (only_oid != 0 && oid != only_oid)
			continue;
		rc = ct_execf(db, err,
		    "DELETE FROM \"%w\".sim_ct_%lld WHERE ver <= %lld; "
		    "UPDATE \"%w\".sim_ct_tables SET cleanup_version = %lld, "
		    "min_valid_version = max(min_valid_version, %lld) WHERE "
		    "object_id = %lld",
		    alias, (long long)oid, (long long)cut, alias,
		    (long long)cut, (long long)cut, (long long)oid);
	}
	free(oids);
	if (rc == 0 && only_oid == 0)
		rc = ct_execf(db, err,
		    "DELETE FROM \"%w\".sim_ct_versions WHERE ver < %lld",
		    alias, (long long)cut);
	return (rc);
}

/* One auto-cleanup pass over the databases with AUTO_CLEANUP ON. */
static void
ct_cleanup_pass(struct sim_server *srv)
{
	char names[64][129];
	sqlite3_stmt *st;
	sqlite3 *m, *db;
	int n = 0, i;

	if ((m = ct_open(srv, "master")) == NULL)
		return;
	/* forget dropped databases */
	if (ct_int(m, 0,
		"SELECT count(*) FROM sim_ct_databases c WHERE NOT EXISTS "
		"(SELECT 1 FROM sim_databases d WHERE d.name = c.name AND "
		"d.database_id = c.database_id)") > 0)
		ct_execf(m, NULL,
		    "DELETE FROM sim_ct_databases WHERE NOT EXISTS (SELECT 1 "
		    "FROM sim_databases d WHERE d.name = sim_ct_databases.name "
		    "AND d.database_id = sim_ct_databases.database_id)");
	if (sqlite3_prepare_v2(m,
		"SELECT name FROM sim_ct_databases WHERE "
		"auto_cleanup = 1",
		-1, &st, NULL) == SQLITE_OK) {
		while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
			snprintf(
			    names[n++], 129, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(m);
	for (i = 0; i < n; i++) {
		if ((db = ct_open(srv, names[i])) == NULL)
			continue;
		if (ct_cleanup_cut(db, "main") > 0 &&
		    ct_execf(db, NULL, "BEGIN IMMEDIATE") == 0) {
			if (ct_cleanup_db(db, "main", 0, NULL) == 0)
				ct_execf(db, NULL, "COMMIT");
			else
				ct_execf(db, NULL, "ROLLBACK");
		}
		sqlite3_close(db);
	}
}

/* The cleanup thread: a pass every second (sooner when woken). */
static void *
ct_cleanup_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&ct_bg.mtx);
	while (!ct_bg.stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&ct_bg.cond, &ct_bg.mtx, &ts);
		if (ct_bg.stop)
			break;
		pthread_mutex_unlock(&ct_bg.mtx);
		ct_cleanup_pass(ct_bg.srv);
		pthread_mutex_lock(&ct_bg.mtx);
	}
	pthread_mutex_unlock(&ct_bg.mtx);
	return (NULL);
}

/* ---- TRUNCATE TABLE, DROP TABLE, DROP CONSTRAINT ---- */

/*
 * TRUNCATE TABLE of a tracked table (inside its write transaction):
 * no per-row history, no version; the history restarts and min valid
 * moves to the current version.
 */
int
ct_truncate(struct sim_session *s, struct table *t, struct sim_error *err)
{
	if (!ct_tracked(s, t->db, t->object_id, NULL))
		return (0);
	return (ct_execf(s->db, err,
	    "DELETE FROM \"%w\".sim_ct_%lld; UPDATE \"%w\".sim_ct_tables "
	    "SET min_valid_version = %lld WHERE object_id = %lld",
	    t->db, (long long)t->object_id, t->db,
	    (long long)ct_current_version(s, t->db), (long long)t->object_id));
}

/* DROP TABLE: the table's tracking goes with it. */
int
ct_drop_table(struct parser *p, struct table *t)
{
	if (p->s->dry || !ct_tracked(p->s, t->db, t->object_id, NULL))
		return (0);
	return (ct_execf(p->s->db, p->err,
	    "DROP TABLE IF EXISTS \"%w\".sim_ct_%lld; DELETE FROM "
	    "\"%w\".sim_ct_tables WHERE object_id = %lld",
	    t->db, (long long)t->object_id, t->db, (long long)t->object_id));
}

/* Error 3735 (then 3727) for the primary key of a tracked table. */
int
ct_drop_constraint(struct parser *p, struct table *t, int64_t kid)
{
	struct sim_error e;
	char *sql, name[129] = "";
	sqlite3_stmt *st;
	int pk = 0;

	if (!ct_tracked(p->s, t->db, t->object_id, NULL))
		return (0);
	sql = sqlite3_mprintf("SELECT name, type = 'PK' FROM "
			      "\"%w\".sim_objects WHERE object_id = %lld",
	    t->db, (long long)kid);
	if (sqlite3_prepare_v2(p->s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(name, sizeof(name), "%s",
			    sqlite3_column_text(st, 0));
			pk = sqlite3_column_int(st, 1);
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	if (!pk)
		return (0);
	sim_error_set(&e, 3735, 16, 1,
	    "The primary key constraint '%s' on "
	    "table '%s' cannot be dropped because change tracking is enabled "
	    "on the table. Change tracking requires a primary key constraint "
	    "on the table. Disable change tracking before dropping the "
	    "constraint.",
	    name, t->name);
	e.line = p->lx->t[p->pos > 0 ? p->pos - 1 : 0].line;
	engine_send_message(p->s, &e);
	p->s->nerrors++;
	sim_error_set(p->err, 3727, 16, 0,
	    "Could not drop constraint. See "
	    "previous errors.");
	return (-1);
}

/* ---- ALTER TABLE ... ENABLE|DISABLE CHANGE_TRACKING ---- */

/* [WITH (TRACK_COLUMNS_UPDATED = ON|OFF)] */
static int
ct_parse_table_opts(struct parser *p, int *track)
{
	*track = 0;
	if (!p_accept_kw(p, "WITH"))
		return (0);
	if (p_expect_op(p, "(") == -1 ||
	    p_expect_kw(p, "TRACK_COLUMNS_UPDATED") == -1 ||
	    p_expect_op(p, "=") == -1)
		return (-1);
	if (p_accept_kw(p, "ON"))
		*track = 1;
	else if (!p_accept_kw(p, "OFF"))
		return (p_syntax(p));
	return (p_expect_op(p, ")"));
}

/* Create the history table of t. */
static int
ct_create_history(struct parser *p, struct table *t, const int *keys, int nk)
{
	struct sbuf b;
	const char *coll;
	char *q;
	int k, rc;

	sbuf_init(&b);
	q = sqlite3_mprintf("CREATE TABLE \"%w\".sim_ct_%lld (", t->db,
	    (long long)t->object_id);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (k = 0; k < nk; k++) {
		coll = simtype_collation(&t->cols[keys[k]].c.type);
		q = sqlite3_mprintf(
		    "k%d%s%s, ", k, coll ? " COLLATE " : "", coll ? coll : "");
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	q = "ver INTEGER, first_ins INTEGER, last_del INTEGER, ins INTEGER, "
	    "cols BLOB, ctx BLOB, PRIMARY KEY (";
	sbuf_add(&b, q, strlen(q));
	for (k = 0; k < nk; k++) {
		q = sqlite3_mprintf("k%d, ", k);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	q = "ver)) WITHOUT ROWID";
	sbuf_add(&b, q, strlen(q) + 1);
	rc = ct_execf(p->s->db, p->err, "%s", (char *)b.data);
	sbuf_free(&b);
	return (rc);
}

/* ENABLE CHANGE_TRACKING: checks, then history table and catalog row. */
static int
ct_enable_table(struct parser *p, struct table *t, int track)
{
	int keys[CT_MAXKEY], nk, k, rc;
	int64_t cur;

	if (ct_tracked(p->s, t->db, t->object_id, NULL)) {
		sim_error_set(p->err, 4996, 16, 1,
		    "Change tracking is already "
		    "enabled for table '%s'.",
		    t->name);
		return (-1);
	}
	if ((nk = ct_table_keys(p->s, t, keys, CT_MAXKEY)) == 0) {
		sim_error_set(p->err, 4997, 16, 1,
		    "Cannot enable change "
		    "tracking on table '%s'. Change tracking requires a "
		    "primary key on the table. Create a primary key on the "
		    "table before enabling change tracking.",
		    t->name);
		return (-1);
	}
	for (k = 0; k < nk; k++)
		if (t->cols[keys[k]].rowversion ||
		    t->cols[keys[k]].c.type.id == SIMT_TIMESTAMP) {
			sim_error_set(p->err, 4999, 16, 1,
			    "Cannot enable "
			    "change tracking on table '%s'. Change tracking "
			    "does not support a primary key of type timestamp "
			    "on a table.",
			    t->name);
			return (-1);
		}
	if (engine_write_begin(p->s, p->err) == -1)
		return (-1);
	cur = ct_current_version(p->s, t->db);
	rc = ct_create_history(p, t, keys, nk);
	if (rc == 0)
		rc = ct_execf(p->s->db, p->err,
		    "INSERT INTO \"%w\".sim_ct_tables VALUES (%lld, %d, "
		    "%lld, 0, %lld)",
		    t->db, (long long)t->object_id, track, (long long)cur,
		    (long long)cur);
	return (engine_write_end(p->s, rc == 0, p->err));
}

/* DISABLE CHANGE_TRACKING */
static int
ct_disable_table(struct parser *p, struct table *t)
{
	int rc;

	if (!ct_tracked(p->s, t->db, t->object_id, NULL)) {
		sim_error_set(p->err, 4998, 16, 1,
		    "Change tracking is not "
		    "enabled on table '%s'.",
		    t->name);
		return (-1);
	}
	if (engine_write_begin(p->s, p->err) == -1)
		return (-1);
	rc = ct_execf(p->s->db, p->err,
	    "DROP TABLE \"%w\".sim_ct_%lld; DELETE FROM \"%w\".sim_ct_tables "
	    "WHERE object_id = %lld",
	    t->db, (long long)t->object_id, t->db, (long long)t->object_id);
	return (engine_write_end(p->s, rc == 0, p->err));
}

/* ALTER TABLE t ENABLE|DISABLE CHANGE_TRACKING [WITH (...)] */
int
ct_alter_table(struct parser *p, struct table *t)
{
	int enable = p_accept_kw(p, "ENABLE"), track = 0;

	if (!enable)
		p_accept_kw(p, "DISABLE");
	if (p_expect_kw(p, "CHANGE_TRACKING") == -1)
		return (-1);
	if (enable && ct_parse_table_opts(p, &track) == -1)
		return (-1);
	if (p->s->dry) /* the compile pass: t may not exist yet */
		return (0);
	if (t->name[0] == '#' || strcmp(t->db, "temp") == 0 ||
	    (enable && !ct_db_on(p->s, t->db))) {
		sim_error_set(p->err, 1718, 16, 1,
		    "Change tracking must be "
		    "enabled on database '%s' before it can be enabled on "
		    "table '%s'.",
		    t->name[0] == '#' ? "tempdb" : p->s->dbname, t->name);
		return (-1);
	}
	return (enable ? ct_enable_table(p, t, track) : ct_disable_table(p, t));
}

/* ---- ALTER DATABASE ... SET CHANGE_TRACKING ---- */

/* Error e, then 5069 "ALTER DATABASE statement failed." */
static int
ct_db_error(struct parser *p, struct sim_error *e)
{
	e->line = p->lx->t[p->pos > 0 ? p->pos - 1 : 0].line;
	engine_send_message(p->s, e);
	p->s->nerrors++;
	sim_error_set(p->err, 5069, 16, 1, "ALTER DATABASE statement failed.");
	return (-1);
}

/* Error 5091 for an option written twice. */
static int
ct_opt_twice(struct parser *p, const char *opt)
{
	sim_error_set(p->err, 5091, 15, 1,
	    "ALTER DATABASE change tracking "
	    "option '%s' was specified more than once. Each option can be "
	    "specified only once.",
	    opt);
	return (-1);
}

/* CHANGE_RETENTION = n {DAYS|HOURS|MINUTES} (after the keyword). */
static int
ct_opt_retention(struct parser *p, struct ct_dbset *d)
{
	static const int64_t mins[] = { 0, 1, 60, 1440 };
	const char *u;
	int64_t n;

	if (p_expect_op(p, "=") == -1 || p_int(p, &n) == -1)
		return (-1);
	if (p_tok(p)->kind != LEX_IDENT)
		return (p_syntax(p));
	u = p_tok(p)->text;
	d->units = strcasecmp(u, "MINUTES") == 0 ? 1
	    : strcasecmp(u, "HOURS") == 0        ? 2
	    : strcasecmp(u, "DAYS") == 0         ? 3
						 : 0;
	if (d->units == 0) {
		sim_error_set(p->err, 155, 15, 2,
		    "'%s' is not a recognized "
		    "CHANGE RETENTION UNIT option.",
		    u);
		return (-1);
	}
	p->pos++;
	if (n < 1 || n * mins[d->units] > 2147483647LL) {
		sim_error_set(p->err, 5092, 15, 1,
		    "The value for change "
		    "tracking option 'CHANGE_RETENTION' is not valid. The "
		    "value "
		    "must be between 1 and 2147483647 minutes.");
		return (-1);
	}
	d->retention = (int)n;
	return (0);
}

/* CHANGE_RETENTION = n unit | AUTO_CLEANUP = ON|OFF, ... ) */
static int
ct_parse_db_opts(struct parser *p, struct ct_dbset *d, int *seen)
{
	do {
		if (p_accept_kw(p, "CHANGE_RETENTION")) {
			if (*seen & 1)
				return (ct_opt_twice(p, "CHANGE_RETENTION"));
			*seen |= 1;
			if (ct_opt_retention(p, d) == -1)
				return (-1);
		} else if (p_accept_kw(p, "AUTO_CLEANUP")) {
			if (*seen & 2)
				return (ct_opt_twice(p, "AUTO_CLEANUP"));
			*seen |= 2;
			if (p_expect_op(p, "=") == -1)
				return (-1);
			if (p_accept_kw(p, "ON"))
				d->auto_cleanup = 1;
			else if (p_accept_kw(p, "OFF"))
				d->auto_cleanup = 0;
			else
				return (p_syntax(p));
		} else
			return (p_syntax(p));
	} while (p_accept_op(p, ","));
	return (p_expect_op(p, ")"));
}

/* Write the settings to the database and to master's mirror. */
static int
ct_db_store(struct parser *p, const char *dbname, const struct ct_dbset *d)
{
	sqlite3 *db, *m;
	int rc;

	if ((db = ct_open(p->s->srv, dbname)) == NULL) {
		sim_error_set(p->err, 50000, 16, 1,
		    "mssqlsim: cannot open "
		    "database '%s'",
		    dbname);
		return (-1);
	}
	rc = ct_execf(db, p->err,
	    "INSERT OR REPLACE INTO sim_ct_db VALUES (1, %d, %d, %d, %d)",
	    d->enabled, d->retention, d->units, d->auto_cleanup);
	sqlite3_close(db);
	if (rc == -1 || (m = ct_open(p->s->srv, "master")) == NULL)
		return (-1);
	if (d->enabled)
		rc = ct_execf(m, p->err,
		    "INSERT OR REPLACE INTO sim_ct_databases SELECT name, "
		    "database_id, %d, %d, %d FROM sim_databases WHERE name = "
		    "%Q",
		    d->auto_cleanup, d->retention, d->units, dbname);
	else
		rc = ct_execf(m, p->err,
		    "DELETE FROM sim_ct_databases WHERE "
		    "name = %Q",
		    dbname);
	sqlite3_close(m);
	return (rc);
}

/* The number of tracked tables of a database. */
static int64_t
ct_db_ntables(struct sim_server *srv, const char *dbname)
{
	sqlite3 *db;
	int64_t n;

	if ((db = ct_open(srv, dbname)) == NULL)
		return (0);
	n = ct_int(db, 0, "SELECT count(*) FROM sim_ct_tables");
	sqlite3_close(db);
	return (n);
}

/* Apply a parsed SET CHANGE_TRACKING (mode 1 ON, 0 OFF, 2 options). */
static int
ct_db_apply(struct parser *p, const char *dbname, int mode,
    const struct ct_dbset *given, int seen)
{
	struct ct_dbset d;
	struct sim_error e;
	sqlite3 *db;

	if ((db = ct_open(p->s->srv, dbname)) == NULL)
		return (-1);
	catalog_init_db(db, 0, &e); /* a file older than the CT tables */
	ct_dbset_get(db, "main", &d);
	sqlite3_close(db);
	if (mode == 1 && d.enabled) {
		sim_error_set(&e, 5088, 16, 1,
		    "Change tracking is "
		    "already enabled for database '%s'.",
		    dbname);
		return (ct_db_error(p, &e));
	}
	if (mode != 1 && !d.enabled) {
		sim_error_set(&e, 5089, 16, mode == 0 ? 1 : 2,
		    "Change "
		    "tracking is disabled for database '%s'. Change tracking "
		    "must be enabled on a database to modify change tracking "
		    "settings.",
		    dbname);
		return (ct_db_error(p, &e));
	}
	if (mode == 0 && ct_db_ntables(p->s->srv, dbname) > 0) {
		sim_error_set(&e, 22115, 16, 1,
		    "Change tracking is "
		    "enabled for one or more tables in database '%s'. Disable "
		    "change tracking on each table before disabling it for the "
		    "database. Use the sys.change_tracking_tables catalog view "
		    "to obtain a list of tables for which change tracking is "
		    "enabled.",
		    dbname);
		return (ct_db_error(p, &e));
	}
	if (mode == 1) {
		d.retention = CT_DEF_RETENTION;
		d.units = 3;
		d.auto_cleanup = 1;
	}
	d.enabled = mode != 0;
	if (seen & 1) {
		d.retention = given->retention;
		d.units = given->units;
	}
	if (seen & 2)
		d.auto_cleanup = given->auto_cleanup;
	return (ct_db_store(p, dbname, &d));
}

/* ALTER DATABASE db SET CHANGE_TRACKING { = ON [(...)] | = OFF | (...) } */
int
ct_alter_database(struct parser *p, const char *dbname)
{
	struct ct_dbset given;
	struct sim_error e;
	int mode, seen = 0;

	memset(&given, 0, sizeof(given));
	p->pos++;
	if (p_accept_op(p, "=")) {
		if (p_accept_kw(p, "ON"))
			mode = 1;
		else if (p_accept_kw(p, "OFF"))
			mode = 0;
		else
			return (p_syntax(p));
		if (mode == 1 && p_accept_op(p, "(") &&
		    ct_parse_db_opts(p, &given, &seen) == -1)
			return (-1);
	} else if (p_accept_op(p, "(")) {
		mode = 2;
		if (ct_parse_db_opts(p, &given, &seen) == -1)
			return (-1);
	} else
		return (p_syntax(p));
	if (p->s->dry) /* 22114 when it runs */
		return (p_op(p, ",") ? engine_dry_stop(p->s, p->err) : 0);
	if (p_op(p, ",")) {
		sim_error_set(&e, 22114, 16, 1,
		    "Change tracking options "
		    "for ALTER DATABASE cannot be combined with other ALTER "
		    "DATABASE options.");
		return (ct_db_error(p, &e));
	}
	if (strcasecmp(dbname, "master") == 0 ||
	    strcasecmp(dbname, "tempdb") == 0 ||
	    strcasecmp(dbname, "model") == 0 ||
	    strcasecmp(dbname, "msdb") == 0) {
		sim_error_set(&e, 5090, 16, 1,
		    "Database '%s' is a system "
		    "database. Change tracking settings cannot be modified for "
		    "system databases.",
		    dbname);
		return (ct_db_error(p, &e));
	}
	if (p->s->trancount > 0) {
		sim_error_set(p->err, 226, 16, 6,
		    "ALTER DATABASE statement "
		    "not allowed within multi-statement transaction.");
		return (-1);
	}
	if (ct_db_apply(p, dbname, mode, &given, seen) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* ---- master mirror ---- */

/* Is CT on for a database (DATABASEPROPERTYEX)? */
int
ct_db_is_enabled(struct sim_session *s, const char *db)
{
	return (ct_int(engine_mdb(s), 0,
		    "SELECT count(*) FROM main.sim_ct_databases c JOIN "
		    "main.sim_databases d USING (name, database_id) WHERE "
		    "name = %Q",
		    db) > 0);
}

/* Copy master's sim_ct_databases for sys.change_tracking_databases. */
void
ct_master_sync(struct sim_session *s)
{
	sqlite3_stmt *rd, *wr;
	int i;

	if (s->mdb == NULL)
		return;
	sqlite3_exec(s->db,
	    "CREATE TEMP TABLE IF NOT EXISTS sim_ct_databases(name TEXT, "
	    "database_id INTEGER, auto_cleanup INTEGER, retention INTEGER, "
	    "units INTEGER); DELETE FROM temp.sim_ct_databases",
	    NULL, NULL, NULL);
	if (sqlite3_prepare_v2(s->mdb,
		"SELECT c.* FROM main.sim_ct_databases c "
		"JOIN main.sim_databases d USING (name, database_id)",
		-1, &rd, NULL) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(s->db,
		"INSERT INTO temp.sim_ct_databases "
		"VALUES (?, ?, ?, ?, ?)",
		-1, &wr, NULL) == SQLITE_OK) {
		while (sqlite3_step(rd) == SQLITE_ROW) {
			for (i = 0; i < 5; i++)
				sqlite3_bind_value(
				    wr, i + 1, sqlite3_column_value(rd, i));
			sqlite3_step(wr);
			sqlite3_reset(wr);
		}
		sqlite3_finalize(wr);
	}
	sqlite3_finalize(rd);
}

/* ---- WITH CHANGE_TRACKING_CONTEXT (@ctx) DML ---- */

/* The context value: a varbinary(n <= 128) or binary variable. */
static int
ct_context_value(struct parser *p, struct simval *v)
{
	struct lex_tok *t = p_tok(p);
	struct sim_param *var;
	int idx;

	memset(v, 0, sizeof(*v));
	v->kind = SQLITE_NULL;
	if (t->kind != LEX_VAR)
		return (p_syntax(p));
	if ((idx = engine_find_var(p->s, t->text)) == -1) {
		sim_error_set(p->err, 137, 15, 2,
		    "Must declare the scalar variable \"%s\".", t->text);
		return (-1);
	}
	var = &p->s->vars[idx];
	if ((var->type.id != SIMT_VARBINARY && var->type.id != SIMT_BINARY) ||
	    var->type.maxlen < 0 || var->type.maxlen > 128) {
		sim_error_set(p->err, 22109, 16, 1,
		    "The \"context\" argument "
		    "for the CHANGE_TRACKING_CONTEXT WITH clause must be of "
		    "type varbinary data type with a maximum length of 128.");
		return (-1);
	}
	p->pos++;
	if (var->value.kind == SQLITE_BLOB) {
		v->kind = SQLITE_BLOB;
		v->len = var->value.len;
		v->p = util_xmalloc(v->len + 1);
		memcpy(v->p, var->value.p, v->len);
	}
	return (0);
}

/* WITH CHANGE_TRACKING_CONTEXT (@ctx) INSERT|UPDATE|DELETE ... */
int
ct_stmt_context(struct parser *p)
{
	struct sim_session *s = p->s;
	struct simval v;
	int rc;

	p->pos += 2;
	if (p_expect_op(p, "(") == -1 || ct_context_value(p, &v) == -1)
		return (-1);
	if (p_expect_op(p, ")") == -1) {
		simval_free(&v);
		return (-1);
	}
	if (p_kw(p, "SELECT")) {
		simval_free(&v);
		sim_error_set(p->err, 22108, 16, 1,
		    "The CHANGE_TRACKING_CONTEXT "
		    "WITH clause cannot be used with a SELECT statement.");
		return (-1);
	}
	simval_free(&s->ct_context);
	s->ct_context = v;
	if (p_kw(p, "INSERT"))
		rc = dml_insert(p);
	else if (p_kw(p, "UPDATE"))
		rc = dml_update(p);
	else if (p_kw(p, "DELETE"))
		rc = dml_delete(p);
	else
		rc = p_syntax(p);
	simval_free(&s->ct_context);
	s->ct_context.kind = SQLITE_NULL;
	return (rc);
}

/* ---- procedures ---- */

/* A procedure argument by name or position, NULL if absent. */
static struct sim_param *
ct_arg(struct sim_param *a, int n, const char *name, int pos)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcasecmp(a[i].name, name) == 0)
			return (&a[i]);
	return (pos < n && a[pos].name[0] == '\0' ? &a[pos] : NULL);
}

/* sys.sp_flush_CT_internal_table_on_demand [@TableToClean = 't'] */
static int
ct_proc_flush(struct sim_session *s, struct sim_param *a, int n)
{
	struct sim_param *t = ct_arg(a, n, "@TableToClean", 0);
	struct table *tb = NULL;
	int64_t oid = 0;
	int rc;

	if (t != NULL && t->value.kind == SQLITE_TEXT) {
		if ((tb = catalog_table(
			 s, NULL, (char *)t->value.p, &s->err)) == NULL)
			return (-1);
		oid = tb->object_id;
		catalog_table_free(tb);
	}
	if (engine_write_begin(s, &s->err) == -1)
		return (-1);
	rc = ct_cleanup_db(s->db, "main", oid, &s->err);
	return (engine_write_end(s, rc == 0, &s->err));
}

/* sim.advance_clock @seconds = n (simulator only). */
static int
ct_proc_advance(struct sim_session *s, struct sim_param *a, int n)
{
	struct sim_param *sec = ct_arg(a, n, "@seconds", 0);
	int64_t v = 0;

	if (sec == NULL) {
		sim_error_set(&s->err, 201, 16, 4,
		    "Procedure or function "
		    "'sim.advance_clock' expects parameter '@seconds', which "
		    "was not supplied.");
		return (-1);
	}
	if (sec->value.kind == SQLITE_INTEGER)
		v = sec->value.i;
	else if (sec->value.kind == SQLITE_FLOAT)
		v = (int64_t)sec->value.f;
	if (clock_advance(v) == -1) {
		sim_error_set(&s->err, 50000, 16, 1,
		    "sim.advance_clock: the "
		    "clock only moves forward.");
		return (-1);
	}
	pthread_mutex_lock(&ct_bg.mtx);
	pthread_cond_broadcast(&ct_bg.cond); /* cleanup soon */
	pthread_mutex_unlock(&ct_bg.mtx);
	return (0);
}

/* Our procedures: 0 done, -1 error (s->err), 1 not ours. */
int
ct_proc(struct sim_session *s, const char *fullname, struct sim_param *a, int n)
{
	const char *base = strrchr(fullname, '.');
	char name[200];
	size_t len;

	snprintf(name, sizeof(name), "%s", base ? base + 1 : fullname);
	if (name[0] == '[')
		memmove(name, name + 1, strlen(name));
	len = strlen(name);
	if (len > 0 && name[len - 1] == ']')
		name[len - 1] = '\0';
	if (strcasecmp(name, "sp_flush_CT_internal_table_on_demand") == 0)
		return (ct_proc_flush(s, a, n));
	if (strcasecmp(name, "advance_clock") == 0 &&
	    (strncasecmp(fullname, "sim.", 4) == 0 ||
		strncasecmp(fullname, "[sim].", 6) == 0))
		return (ct_proc_advance(s, a, n));
	return (1);
}
