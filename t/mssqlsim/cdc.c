/*
 * cdc.c: Change Data Capture as SQL Server does it (SQLSERVER.md §2):
 * the sys.sp_cdc_* procedures, the commit hook that logs changes, and
 * the capture and cleanup jobs.
 *
 * Capture is asynchronous, as in SQL Server.  The commit hook runs
 * inside the committing write transaction: it draws the transaction's
 * LSNs from the database's counter (sim_meta 'cdc_lsn', so LSN order is
 * commit order, SQLite serializing writers) and appends every change of
 * a captured table, with the images of all its columns, to the private
 * log table sim_cdc_log of the same database.  Nothing is visible in
 * cdc.<ci>_CT until the capture job scans that log: a background thread
 * every --cdc-polling-interval-ms, or EXEC sys.sp_cdc_scan at once.  A
 * scan moves the log into each capture instance's change table (only
 * the captured columns, and only changes after the instance's
 * start_lsn, so two instances of one table see the same change), adds
 * one cdc.lsn_time_mapping row per transaction (a dummy row with tran_id
 * 0x00 when idle) and one row of sys.dm_cdc_log_scan_sessions.  The
 * same thread runs the cleanup job: retention (4320 minutes) on the
 * simulator clock, raising every instance's start_lsn.
 *
 * The cdc schema objects (change tables and metadata tables) are plain
 * tables created with T-SQL DDL through the engine, so that SELECTs on
 * them work like on any table; the jobs write them with SQLite
 * directly, on an agent session per database.
 *
 * Split updates (SQLSERVER.md §2.3 shows their net-change side): an
 * UPDATE that SETs a column of a unique or clustered index (the
 * primary key, usually) is run by SQL Server as a delete then an
 * insert per row (a "deferred" update, KB 238254: "If any column that
 * is part of a unique constraint is updated, then SQL Server
 * implements the update as a pair of DELETE/INSERT operations"), and a
 * delete and an insert of one statement that meet on one clustered key
 * collapse back into an update (the plan's Split, Sort and Collapse).
 * So a key change is logged as operation 1 of the old row and 2 of the
 * new one, each with its own seqval (Estuary's TestPrimaryKeyUpdate on
 * a real server: SET id = 6 WHERE id = 1 gives delete 1, create 6),
 * and "SET id = id + 1" over ids 1..3 logs delete 1, update 2, update
 * 3, insert 4 (as CHANGETABLE shows, SQLSERVER.md §1.4).  An update
 * pair (3/4) keeps its clustered key, so a UNIQUE non-key column
 * changes in place (measured for a singleton update), and so does the
 * primary key of a table clustered on other columns: a pair whose
 * primary keys differ, which readers must split.  The statement's
 * deletes come first, then its inserts and collapsed updates, each in
 * row order (SQL Server sorts them by key).
 *
 * LSNs: binary(10) = VLF (4 bytes), block (4), slot (2), big-endian,
 * built from one 64-bit position per database (block << 16 | slot).  A
 * transaction takes a new block; its row changes get slots 1..n (their
 * __$seqval; an update's before and after rows share one) and its
 * commit LSN the next slot.  Bytewise order is numeric order.
 *
 * Queries (cdc.fn_cdc_get_*_changes_<ci>, sys.fn_cdc_*) are cdc_query.c.
 */

#include <sys/types.h>
#include <sys/time.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine.h"

#define CDC_VLF 0x2a
#define CDC_FIRST_BLOCK 500
#define CDC_RETENTION 4320
#define CDC_IDLE_DUMMY_S 60
#define CDC_MAXTRANS 500 /* sys.sp_cdc_add_job defaults */
#define CDC_MAXSCANS 10

/* A CDC-enabled database and the source tables it captures. */
struct cdc_db {
	char name[129];
	int64_t *srcs; /* source object_id per capture instance */
	int nsrcs;
	struct sim_session *agent; /* the jobs' session */
	int jobs; /* the capture and cleanup jobs exist (first table) */
	double cleanup_checked; /* simulator time of the last look */
	int gone;
};

static struct {
	pthread_mutex_t mtx; /* dbs */
	pthread_mutex_t scan_mtx; /* one scan at a time */
	pthread_cond_t cond;
	struct sim_server *srv;
	long interval_ms;
	int started, stop;
	pthread_t thr;
	struct cdc_db **dbs; /* entries never move or go away */
	int ndbs;
} cdc = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_COND_INITIALIZER, NULL, 5000, 0, 0, 0, NULL, 0 };

/* A captured column of an instance, as the scan needs it. */
struct cdc_ccol {
	int column_id;
	int ordinal;
	int lob; /* 1 text/ntext/image, 2 (max) */
	int computed;
};

/* A capture instance, as the scan needs it. */
struct cdc_inst {
	char ci[129];
	int64_t source;
	unsigned char start[10];
	int has_start;
	struct cdc_ccol *cols;
	int ncols;
	int maskbytes;
	sqlite3_stmt *ins;
};

/* A decoded log image. */
struct cdc_img {
	int n;
	int *ids;
	struct simval *v;
};

/*
 * The indexes that make an update a split update, for one table: the
 * columns of its unique and clustered indexes, and the clustered key
 * (else the primary key, else those columns) on which a delete and an
 * insert of one statement collapse back into an update.  Table indexes
 * (positions in the row images).
 */
struct cdc_split {
	int64_t object_id;
	const char *alias;
	int *ucols;
	int nu;
	int *ckey;
	int nck;
};

/* A row image's collapse key, as bytes, with the row it came from. */
struct cdc_ckey {
	struct sbuf b;
	int row;
};

/* Counters of one scan, for sys.dm_cdc_log_scan_sessions. */
struct cdc_scanstat {
	char start[32];
	int64_t trans, records, commands;
	unsigned char first[10], last[10];
	char last_time[32];
};

static uint64_t cdc_lsn_alloc(sqlite3 *db, const char *alias, uint64_t n);
static uint64_t cdc_lsn_alloc_session(
    struct sim_session *s, const char *alias, uint64_t n);
static struct cdc_db *cdc_db_find(const char *name);
static void cdc_db_set(const char *name, int on);
static void cdc_db_reload(sqlite3 *db, const char *alias, const char *name);
static int cdc_captured(const char *name, int64_t oid);
static void cdc_load_registry(struct sim_server *srv);
static void cdc_image_put(
    struct sbuf *b, const int *colids, int n, const struct simval *v);
static int cdc_colids(
    struct sim_session *s, const char *alias, int64_t oid, int *ids, int max);
static const char *cdc_change_dbname(
    struct sim_session *s, const struct rowchange *c);
static int cdc_log_change(struct sim_session *s, const struct rowchange *c,
    const unsigned char *lsn, uint64_t seq, int cmd, const unsigned char *tid,
    const unsigned char *blsn, const char *now, struct sim_error *err);
static int cdc_commit_db(struct sim_session *s, const struct rowchange *ch,
    int n, const char *alias, const char *name, struct sim_error *err);
static void cdc_split_add(int **list, int *n, int i);
static void cdc_split_load(
    struct sim_session *s, const struct rowchange *c, struct cdc_split *sp);
static void cdc_split_free(struct cdc_split *sp);
static int cdc_split_is(const struct cdc_split *sp, const struct rowchange *c);
static void cdc_split_key(const struct cdc_split *sp, const struct simval *img,
    int row, struct cdc_ckey *out);
static int cdc_ckey_cmp(const void *a, const void *b);
static void cdc_plan_add(struct rowchange **plan, int *n,
    const struct rowchange *c, int op, struct simval *before,
    struct simval *after);
static void cdc_plan_split(const struct cdc_split *sp,
    const struct rowchange *ch, const int *r, int n, struct rowchange **plan,
    int *np);
static int cdc_plan_wanted(
    const struct rowchange *c, const char *alias, const char *name);
static int cdc_plan(struct sim_session *s, const struct rowchange *ch, int n,
    const char *alias, const char *name, struct rowchange **plan);
static struct sim_session *cdc_agent(struct cdc_db *d, struct sim_error *err);
static void *cdc_thread(void *arg);
static size_t cdc_image_get(
    const unsigned char *p, size_t len, struct cdc_img *im);
static const struct simval *cdc_img_value(const struct cdc_img *im, int colid);
static int cdc_value_differs(const struct simval *a, const struct simval *b);
static void cdc_bind(sqlite3_stmt *st, int i, const struct simval *v);
static void cdc_insts_free(struct cdc_inst *in, int n);
static int cdc_inst_prepare(sqlite3 *db, struct cdc_inst *in);
static int cdc_insts_load(sqlite3 *db, struct cdc_inst **out);
static void cdc_mask_set(unsigned char *mask, int nbytes, int ordinal);
static int cdc_ct_row(struct cdc_inst *in, const unsigned char *lsn,
    const unsigned char *seq, int op, const unsigned char *mask,
    const struct cdc_img *im, const struct cdc_img *other, int cmd);
static int cdc_apply(struct cdc_inst *in, sqlite3_stmt *lg,
    const struct cdc_img *bi, const struct cdc_img *ai);
static int cdc_map_row(sqlite3 *db, sqlite3_stmt *lg);
static int cdc_scan_record(sqlite3 *db, sqlite3_stmt *lg, struct cdc_inst *in,
    int n, struct cdc_scanstat *ss, unsigned char *prev);
static int cdc_scan_idle(sqlite3 *db);
static void cdc_scan_record_session(sqlite3 *db, const struct cdc_scanstat *ss);
static int cdc_scan_log(sqlite3 *db, int maxtrans, int first, int *more);
static int cdc_cleanup(sqlite3 *db);
static int cdc_cleanup_tables(sqlite3 *db);
static int cdc_cleanup_due(struct cdc_db *d);
static int cdc_scan_failed(struct sim_error *err);
static int cdc_scan_once(
    struct cdc_db *d, sqlite3 *db, int job, int maxtrans, int first, int *more);
static int cdc_scan_db(struct cdc_db *d, int job, int maxtrans, int maxscans,
    struct sim_error *err);

static const char *cdc_enable_db_ddl[] = { "CREATE SCHEMA cdc",
	"CREATE USER cdc WITHOUT LOGIN WITH DEFAULT_SCHEMA = cdc",
	"CREATE TABLE cdc.change_tables (object_id int NOT NULL, version int "
	"NULL, source_object_id int NULL, capture_instance sysname NOT NULL, "
	"start_lsn binary(10) NULL, end_lsn binary(10) NULL, "
	"supports_net_changes bit NULL, has_drop_pending bit NULL, role_name "
	"sysname NULL, index_name sysname NULL, filegroup_name sysname NULL, "
	"create_date datetime NULL, partition_switch bit NOT NULL)",
	"CREATE TABLE cdc.captured_columns (object_id int NOT NULL, "
	"column_name sysname NOT NULL, column_id int NULL, column_type sysname "
	"NOT NULL, column_ordinal int NOT NULL, is_computed bit NULL, "
	"masking_function nvarchar(4000) NULL)",
	"CREATE TABLE cdc.index_columns (object_id int NOT NULL, column_name "
	"sysname NOT NULL, index_ordinal tinyint NOT NULL, column_id int NOT "
	"NULL)",
	"CREATE TABLE cdc.ddl_history (source_object_id int NULL, object_id "
	"int NOT NULL, required_column_update bit NULL, ddl_command "
	"nvarchar(max) NULL, ddl_lsn binary(10) NOT NULL, ddl_time datetime "
	"NULL)",
	"CREATE TABLE cdc.lsn_time_mapping (start_lsn binary(10) NOT NULL, "
	"tran_begin_time datetime NULL, tran_end_time datetime NULL, tran_id "
	"varbinary(10) NULL, tran_begin_lsn binary(10) NULL)",
	"CREATE TABLE dbo.systranschemas (tabid int NOT NULL, startlsn "
	"binary(10) NOT NULL, endlsn binary(10) NOT NULL, typeid int NOT NULL "
	"DEFAULT 52)",
	NULL };

static const char *cdc_disable_db_ddl[] = { "DROP TABLE cdc.change_tables",
	"DROP TABLE cdc.captured_columns", "DROP TABLE cdc.index_columns",
	"DROP TABLE cdc.ddl_history", "DROP TABLE cdc.lsn_time_mapping",
	"DROP TABLE dbo.systranschemas", "DROP USER cdc", "DROP SCHEMA cdc",
	NULL };

/* Current simulator time as canonical datetime text, minus some seconds. */
void
cdc_now_datetime(char *buf, size_t len, int64_t minus)
{
	struct timeval tv;
	struct tm tm;
	time_t t;
	int ticks, ms;

	clock_now(&tv);
	ticks = (int)(((int64_t)tv.tv_usec * 300 + 500000) / 1000000);
	t = tv.tv_sec - (time_t)minus;
	if (ticks >= 300) {
		ticks -= 300;
		t++;
	}
	ms = (int)(ticks * 10.0 / 3.0 + 0.5);
	localtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ms);
}

/* A log position as binary(10). */
void
cdc_lsn_make(uint64_t pos, unsigned char *lsn)
{
	uint32_t vlf = CDC_VLF + (uint32_t)(pos >> 48);
	uint32_t blk = (uint32_t)(pos >> 16);
	int i;

	for (i = 0; i < 4; i++) {
		lsn[i] = (vlf >> (24 - 8 * i)) & 0xff;
		lsn[4 + i] = (blk >> (24 - 8 * i)) & 0xff;
	}
	lsn[8] = (pos >> 8) & 0xff;
	lsn[9] = pos & 0xff;
}

/* LSN as SQL Server prints it: 0000002A:000001F4:0003. */
void
cdc_lsn_text(const unsigned char *l, char *buf, size_t len)
{
	snprintf(buf, len, "%02X%02X%02X%02X:%02X%02X%02X%02X:%02X%02X", l[0],
	    l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9]);
}

/*
 * Take n+1 LSNs from a database's counter (inside its write
 * transaction): returns the block start; slots 1..n+1 follow it.
 */
static uint64_t
cdc_lsn_alloc(sqlite3 *db, const char *alias, uint64_t n)
{
	uint64_t pos;

	pos = (uint64_t)catalog_meta_get(
	    db, alias, "cdc_lsn", (int64_t)CDC_FIRST_BLOCK << 16);
	pos = ((pos >> 16) + 1) << 16;
	catalog_meta_set(db, alias, "cdc_lsn", (int64_t)(pos + n + 1));
	return (pos);
}

/* The same through the session's statement cache (the commit path). */
static uint64_t
cdc_lsn_alloc_session(struct sim_session *s, const char *alias, uint64_t n)
{
	sqlite3_stmt *st;
	char sql[300];
	int64_t v = -1;

	snprintf(sql, sizeof(sql),
	    "UPDATE \"%s\".sim_meta SET value = (((value >> 16) + 1) << 16) "
	    "+ ?1 WHERE key = 'cdc_lsn' RETURNING value",
	    alias);
	if ((st = engine_stmt_get(s, sql, NULL)) != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)n + 1);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		engine_stmt_put(s, st);
	}
	if (v < 0)
		return (cdc_lsn_alloc(s->db, alias, n));
	return ((uint64_t)v - n - 1);
}

/* The registry entry of a database (cdc.mtx held), or NULL. */
static struct cdc_db *
cdc_db_find(const char *name)
{
	int i;

	for (i = 0; i < cdc.ndbs; i++)
		if (!cdc.dbs[i]->gone &&
		    strcasecmp(cdc.dbs[i]->name, name) == 0)
			return (cdc.dbs[i]);
	return (NULL);
}

/* Is CDC enabled on a database (sys.databases.is_cdc_enabled)? */
int
cdc_db_enabled(const char *name)
{
	int on;

	pthread_mutex_lock(&cdc.mtx);
	on = cdc_db_find(name) != NULL;
	pthread_mutex_unlock(&cdc.mtx);
	return (on);
}

/* Mark a database CDC-enabled (or not) in the registry. */
static void
cdc_db_set(const char *name, int on)
{
	struct cdc_db *d;

	pthread_mutex_lock(&cdc.mtx);
	d = cdc_db_find(name);
	if (on && d == NULL) {
		cdc.dbs =
		    util_xrealloc(cdc.dbs, (cdc.ndbs + 1) * sizeof(*cdc.dbs));
		d = util_xmalloc(sizeof(*d));
		memset(d, 0, sizeof(*d));
		cdc.dbs[cdc.ndbs++] = d;
		snprintf(d->name, sizeof(d->name), "%s", name);
	} else if (!on && d != NULL) {
		d->gone = 1; /* the thread frees its agent */
		d->nsrcs = 0;
	}
	pthread_mutex_unlock(&cdc.mtx);
}

/* Reload the captured source tables of a database from its metadata. */
static void
cdc_db_reload(sqlite3 *db, const char *alias, const char *name)
{
	struct cdc_db *d;
	sqlite3_stmt *st;
	char sql[200];

	snprintf(sql, sizeof(sql),
	    "SELECT source_object_id FROM \"%s\".\"cdc.change_tables\"", alias);
	pthread_mutex_lock(&cdc.mtx);
	if ((d = cdc_db_find(name)) != NULL) {
		d->jobs = catalog_meta_get(db, alias, "cdc_jobs", 0) != 0;
		d->nsrcs = 0;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			while (sqlite3_step(st) == SQLITE_ROW) {
				d->srcs = util_xrealloc(
				    d->srcs, (d->nsrcs + 1) * sizeof(*d->srcs));
				d->srcs[d->nsrcs++] =
				    sqlite3_column_int64(st, 0);
			}
			sqlite3_finalize(st);
		}
	}
	pthread_mutex_unlock(&cdc.mtx);
}

/* Is the object captured in database name?  (cdc.mtx held) */
static int
cdc_captured(const char *name, int64_t oid)
{
	struct cdc_db *d = cdc_db_find(name);
	int i;

	for (i = 0; d != NULL && i < d->nsrcs; i++)
		if (d->srcs[i] == oid)
			return (1);
	return (0);
}

/* Find CDC-enabled databases of an existing data directory. */
static void
cdc_load_registry(struct sim_server *srv)
{
	sqlite3 *m, *db;
	sqlite3_stmt *st;
	char *path;

	path = engine_db_path(srv, "master");
	if (sqlite3_open_v2(path, &m, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(m);
		free(path);
		return;
	}
	free(path);
	if (sqlite3_prepare_v2(m, "SELECT name FROM sim_databases", -1, &st,
		NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *name =
			    (const char *)sqlite3_column_text(st, 0);

			path = engine_db_path(srv, name);
			if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
				NULL) == SQLITE_OK &&
			    catalog_meta_get(db, "main", "cdc_enabled", 0)) {
				cdc_db_set(name, 1);
				cdc_db_reload(db, "main", name);
			}
			sqlite3_close(db);
			free(path);
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(m);
}

/* Start the capture/cleanup thread (engine_open). */
void
cdc_start(struct sim_server *srv, long interval_ms)
{
	engine_set_commit_hook(srv, cdc_commit);
	pthread_mutex_lock(&cdc.mtx);
	if (cdc.started) {
		pthread_mutex_unlock(&cdc.mtx);
		return;
	}
	cdc.srv = srv;
	cdc.interval_ms = interval_ms > 0 ? interval_ms : 5000;
	cdc.stop = 0;
	pthread_mutex_unlock(&cdc.mtx);
	cdc_load_registry(srv);
	if (pthread_create(&cdc.thr, NULL, cdc_thread, NULL) == 0)
		cdc.started = 1;
}

/* Stop the thread and forget the registry (engine_close). */
void
cdc_stop(struct sim_server *srv)
{
	int i;

	if (!cdc.started || cdc.srv != srv)
		return;
	pthread_mutex_lock(&cdc.mtx);
	cdc.stop = 1;
	pthread_cond_signal(&cdc.cond);
	pthread_mutex_unlock(&cdc.mtx);
	pthread_join(cdc.thr, NULL);
	for (i = 0; i < cdc.ndbs; i++) {
		if (cdc.dbs[i]->agent != NULL)
			engine_session_free(cdc.dbs[i]->agent);
		free(cdc.dbs[i]->srcs);
		free(cdc.dbs[i]);
	}
	free(cdc.dbs);
	cdc.dbs = NULL;
	cdc.ndbs = 0;
	cdc.started = 0;
}

/* Is any database capturing (so that dml.c records row changes)? */
int
cdc_active(void)
{
	return (cdc.ndbs > 0);
}

/*
 * Serialize a row image: per column its column_id (4), kind (1) and
 * value (8 bytes for numbers, 4-byte length and bytes otherwise).
 */
static void
cdc_image_put(struct sbuf *b, const int *colids, int n, const struct simval *v)
{
	int i;

	sbuf_u32le(b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		sbuf_u32le(b, (uint32_t)colids[i]);
		sbuf_u8(b, (uint8_t)(v ? v[i].kind : SQLITE_NULL));
		if (v == NULL || v[i].kind == SQLITE_NULL)
			continue;
		if (v[i].kind == SQLITE_INTEGER)
			sbuf_u64le(b, (uint64_t)v[i].i);
		else if (v[i].kind == SQLITE_FLOAT)
			sbuf_add(b, &v[i].f, sizeof(double));
		else {
			sbuf_u32le(b, (uint32_t)v[i].len);
			sbuf_add(b, v[i].p, v[i].len);
		}
	}
}

/* The column_ids of a table in table order. */
static int
cdc_colids(
    struct sim_session *s, const char *alias, int64_t oid, int *ids, int max)
{
	sqlite3_stmt *st;
	char sql[400];
	int n = 0;

	snprintf(sql, sizeof(sql),
	    "SELECT column_id FROM \"%s\".sim_columns WHERE "
	    "object_id = ? ORDER BY column_id",
	    alias);
	if ((st = engine_stmt_get(s, sql, NULL)) == NULL)
		return (0);
	sqlite3_bind_int64(st, 1, oid);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int(st, 0);
	engine_stmt_put(s, st);
	return (n);
}

/* The database name behind a change's SQLite schema alias. */
static const char *
cdc_change_dbname(struct sim_session *s, const struct rowchange *c)
{
	if (strcmp(c->db, "main") == 0)
		return (s->dbname);
	if (strncmp(c->db, "db_", 3) == 0)
		return (c->db + 3);
	return (c->db);
}

/* Log one captured row change (inside the commit). */
static int
cdc_log_change(struct sim_session *s, const struct rowchange *c,
    const unsigned char *lsn, uint64_t seq, int cmd, const unsigned char *tid,
    const unsigned char *blsn, const char *now, struct sim_error *err)
{
	int ids[1024], n;
	unsigned char sv[10];
	sqlite3_stmt *st;
	struct sbuf b;
	char sql[400];
	int rc;

	n = cdc_colids(s, c->db, c->object_id, ids, 1024);
	if (n != c->ncols)
		n = c->ncols < n ? c->ncols : n;
	sbuf_init(&b);
	cdc_image_put(&b, ids, n, c->before);
	cdc_image_put(&b, ids, n, c->after);
	cdc_lsn_make(seq, sv);
	snprintf(sql, sizeof(sql),
	    "INSERT INTO \"%s\".sim_cdc_log(lsn, seqval, cmd, op, "
	    "object_id, tran_id, begin_lsn, tran_time, img) VALUES (?, ?, ?, "
	    "?, ?, ?, ?, ?, ?)",
	    c->db);
	if ((st = engine_stmt_get(s, sql, err)) == NULL) {
		sbuf_free(&b);
		return (-1);
	}
	sqlite3_bind_blob(st, 1, lsn, 10, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, sv, 10, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, cmd);
	sqlite3_bind_int(st, 4, c->op);
	sqlite3_bind_int64(st, 5, c->object_id);
	sqlite3_bind_blob(st, 6, tid, 10, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, blsn, 10, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, now, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, b.data, (int)b.len, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc == -1)
		engine_sqlite_error(s, err);
	engine_stmt_put(s, st);
	sbuf_free(&b);
	return (rc);
}

/* Add table index i to a list unless it is there. */
static void
cdc_split_add(int **list, int *n, int i)
{
	int k;

	for (k = 0; k < *n; k++)
		if ((*list)[k] == i)
			return;
	*list = util_xrealloc(*list, (*n + 1) * sizeof(int));
	(*list)[(*n)++] = i;
}

/* Load the split columns of a change's table. */
static void
cdc_split_load(
    struct sim_session *s, const struct rowchange *c, struct cdc_split *sp)
{
	int ids[1024], n, i, kind, cl = 0, pk = 0, *pkc = NULL, npk = 0;
	sqlite3_stmt *st;
	char sql[1000];

	sp->object_id = c->object_id;
	sp->alias = c->db;
	sp->nu = sp->nck = 0;
	n = cdc_colids(s, c->db, c->object_id, ids, 1024);
	snprintf(sql, sizeof(sql),
	    "SELECT ic.column_id, i.type, i.is_primary_key FROM "
	    "\"%s\".sim_index_columns ic JOIN \"%s\".sim_indexes i ON "
	    "i.object_id = ic.object_id AND i.index_id = ic.index_id WHERE "
	    "i.object_id = ? AND ic.key_ordinal > 0 AND (i.is_unique = 1 OR "
	    "i.type = 1) ORDER BY i.index_id, ic.key_ordinal",
	    c->db, c->db);
	if ((st = engine_stmt_get(s, sql, NULL)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, c->object_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < n && ids[i] != sqlite3_column_int(st, 0); i++)
			;
		if (i == n || i >= c->ncols)
			continue;
		kind = sqlite3_column_int(st, 1);
		cdc_split_add(&sp->ucols, &sp->nu, i);
		if (kind == 1)
			cdc_split_add(&sp->ckey, &sp->nck, i);
		cl |= kind == 1;
		if (sqlite3_column_int(st, 2)) {
			cdc_split_add(&pkc, &npk, i);
			pk = 1;
		}
	}
	engine_stmt_put(s, st);
	if (!cl && pk) {
		free(sp->ckey);
		sp->ckey = pkc;
		sp->nck = npk;
		return;
	}
	free(pkc);
	for (i = 0; !cl && i < sp->nu; i++)
		cdc_split_add(&sp->ckey, &sp->nck, sp->ucols[i]);
}

/* Forget a table's split columns. */
static void
cdc_split_free(struct cdc_split *sp)
{
	free(sp->ucols);
	free(sp->ckey);
	memset(sp, 0, sizeof(*sp));
}

/* Is a change an update that SETs a column of a unique/clustered index? */
static int
cdc_split_is(const struct cdc_split *sp, const struct rowchange *c)
{
	int i, k;

	if (c->op != 'U')
		return (0);
	for (i = 0; i < c->nset; i++)
		for (k = 0; k < sp->nu; k++)
			if (c->setcols[i] == sp->ucols[k])
				return (1);
	return (0);
}

/* The collapse key of an image as bytes (canonical stored values). */
static void
cdc_split_key(const struct cdc_split *sp, const struct simval *img, int row,
    struct cdc_ckey *out)
{
	int k, id;

	sbuf_init(&out->b);
	out->row = row;
	for (k = 0; k < sp->nck; k++) {
		id = sp->ckey[k];
		cdc_image_put(&out->b, &id, 1, &img[sp->ckey[k]]);
	}
}

/* qsort/bsearch order of collapse keys. */
static int
cdc_ckey_cmp(const void *a, const void *b)
{
	const struct cdc_ckey *x = a, *y = b;
	size_t n = x->b.len < y->b.len ? x->b.len : y->b.len;
	int c = memcmp(x->b.data, y->b.data, n);

	if (c != 0)
		return (c);
	return (x->b.len < y->b.len ? -1 : x->b.len > y->b.len);
}

/* Append a record to the plan: a change as op with these images. */
static void
cdc_plan_add(struct rowchange **plan, int *n, const struct rowchange *c, int op,
    struct simval *before, struct simval *after)
{
	*plan = util_xrealloc(*plan, (*n + 1) * sizeof(**plan));
	(*plan)[*n] = *c;
	(*plan)[*n].op = op;
	(*plan)[*n].before = before;
	(*plan)[*n].after = after;
	(*n)++;
}

/*
 * Plan a statement's split updates of one table (rows r[0..n-1]): the
 * deletes of the old keys, then per row the insert of its new key, or
 * an update where the new key is an old key of the statement (the
 * Collapse: before image of the row that had the key, after image of
 * the row that has it now).
 */
static void
cdc_plan_split(const struct cdc_split *sp, const struct rowchange *ch,
    const int *r, int n, struct rowchange **plan, int *np)
{
	struct cdc_ckey *old, key, *hit;
	char *collapsed;
	int i;

	old = util_xmalloc((n ? n : 1) * sizeof(*old));
	collapsed = util_xmalloc(n ? n : 1);
	memset(collapsed, 0, n ? n : 1);
	for (i = 0; i < n; i++)
		cdc_split_key(sp, ch[r[i]].before, i, &old[i]);
	qsort(old, n, sizeof(*old), cdc_ckey_cmp);
	for (i = 0; i < n; i++) {
		cdc_split_key(sp, ch[r[i]].after, i, &key);
		hit = bsearch(&key, old, n, sizeof(*old), cdc_ckey_cmp);
		if (hit != NULL)
			collapsed[hit->row] = 1;
		sbuf_free(&key.b);
	}
	for (i = 0; i < n; i++)
		if (!collapsed[i])
			cdc_plan_add(
			    plan, np, &ch[r[i]], 'D', ch[r[i]].before, NULL);
	for (i = 0; i < n; i++) {
		cdc_split_key(sp, ch[r[i]].after, i, &key);
		hit = bsearch(&key, old, n, sizeof(*old), cdc_ckey_cmp);
		if (hit != NULL)
			cdc_plan_add(plan, np, &ch[r[i]], 'U',
			    ch[r[hit->row]].before, ch[r[i]].after);
		else
			cdc_plan_add(
			    plan, np, &ch[r[i]], 'I', NULL, ch[r[i]].after);
		sbuf_free(&key.b);
	}
	for (i = 0; i < n; i++)
		sbuf_free(&old[i].b);
	free(old);
	free(collapsed);
}

/* Is a change one of a captured table of this database (alias)? */
static int
cdc_plan_wanted(const struct rowchange *c, const char *alias, const char *name)
{
	int k;

	if (strcmp(c->db, alias) != 0)
		return (0);
	pthread_mutex_lock(&cdc.mtx);
	k = cdc_captured(name, c->object_id);
	pthread_mutex_unlock(&cdc.mtx);
	return (k);
}

/*
 * The records a transaction logs in one database (alias): its changes
 * of captured tables in order, each statement's split updates of a
 * table replaced by their deletes and inserts (or collapsed updates).
 * Returns how many; *plan holds shallow copies of the changes.
 */
static int
cdc_plan(struct sim_session *s, const struct rowchange *ch, int n,
    const char *alias, const char *name, struct rowchange **plan)
{
	struct cdc_split sp;
	int i, j, np = 0, nr, *r;

	*plan = NULL;
	memset(&sp, 0, sizeof(sp));
	r = util_xmalloc((n ? n : 1) * sizeof(int));
	for (i = 0; i < n; i = j) {
		j = i + 1;
		if (!cdc_plan_wanted(&ch[i], alias, name))
			continue;
		if (ch[i].op != 'U') {
			cdc_plan_add(plan, &np, &ch[i], ch[i].op, ch[i].before,
			    ch[i].after);
			continue;
		}
		if (sp.alias == NULL || sp.object_id != ch[i].object_id ||
		    strcmp(sp.alias, ch[i].db) != 0) {
			cdc_split_free(&sp);
			cdc_split_load(s, &ch[i], &sp);
		}
		if (!cdc_split_is(&sp, &ch[i])) {
			cdc_plan_add(plan, &np, &ch[i], ch[i].op, ch[i].before,
			    ch[i].after);
			continue;
		}
		for (nr = 0, j = i; j < n && ch[j].stmt == ch[i].stmt &&
		     ch[j].object_id == ch[i].object_id &&
		     strcmp(ch[j].db, ch[i].db) == 0 &&
		     cdc_split_is(&sp, &ch[j]);
		     j++)
			r[nr++] = j;
		cdc_plan_split(&sp, ch, r, nr, plan, &np);
	}
	cdc_split_free(&sp);
	free(r);
	return (np);
}

/* Log a transaction's captured changes of one database (one alias). */
static int
cdc_commit_db(struct sim_session *s, const struct rowchange *ch, int n,
    const char *alias, const char *name, struct sim_error *err)
{
	unsigned char lsn[10], tid[10], blsn[10];
	struct rowchange *plan;
	uint64_t pos, blk;
	char now[32];
	int i, np, rc = 0;

	if ((np = cdc_plan(s, ch, n, alias, name, &plan)) == 0) {
		free(plan);
		return (0);
	}
	pos = cdc_lsn_alloc_session(s, alias, (uint64_t)np);
	cdc_lsn_make(pos + (uint64_t)np + 1, lsn);
	cdc_lsn_make(pos, blsn);
	blk = pos >> 16;
	memset(tid, 0, sizeof(tid));
	for (i = 0; i < 8; i++)
		tid[2 + i] = (blk >> (56 - 8 * i)) & 0xff;
	cdc_now_datetime(now, sizeof(now), 0);
	for (i = 0; i < np && rc == 0; i++)
		rc = cdc_log_change(s, &plan[i], lsn, pos + (uint64_t)i + 1,
		    i + 1, tid, blsn, now, err);
	free(plan);
	return (rc);
}

/*
 * The commit hook: log the changes of captured tables, per database
 * touched, inside the write transaction.
 */
int
cdc_commit(struct sim_session *s, const struct rowchange *ch, int n,
    struct sim_error *err)
{
	const char *done[8];
	int i, j, nd = 0;

	if (cdc.ndbs == 0)
		return (0);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nd; j++)
			if (strcmp(done[j], ch[i].db) == 0)
				break;
		if (j < nd || nd == 8)
			continue;
		done[nd++] = ch[i].db;
		if (!cdc_db_enabled(cdc_change_dbname(s, &ch[i])))
			continue;
		if (cdc_commit_db(s, ch, n, ch[i].db,
			cdc_change_dbname(s, &ch[i]), err) == -1)
			return (-1);
	}
	return (0);
}

/* The agent session of a database, logged in on first use. */
static struct sim_session *
cdc_agent(struct cdc_db *d, struct sim_error *err)
{
	static const struct sim_sink nosink;

	if (d->agent != NULL)
		return (d->agent);
	if (engine_login(cdc.srv, "sa", cdc.srv->sa_password, d->name,
		"SQLAgent - CDC", &d->agent, err) == -1)
		return (NULL);
	d->agent->sink = &nosink;
	d->agent->real = &nosink;
	return (d->agent);
}

/* The capture and cleanup jobs: every polling interval. */
static void *
cdc_thread(void *arg)
{
	struct timespec ts;
	struct timeval tv;
	struct sim_error err;
	struct cdc_db *d;
	int i;

	(void)arg;
	pthread_mutex_lock(&cdc.mtx);
	while (!cdc.stop) {
		gettimeofday(&tv, NULL);
		ts.tv_sec = tv.tv_sec + cdc.interval_ms / 1000;
		ts.tv_nsec =
		    tv.tv_usec * 1000 + (cdc.interval_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&cdc.cond, &cdc.mtx, &ts);
		if (cdc.stop)
			break;
		for (i = 0; i < cdc.ndbs && !cdc.stop; i++) {
			d = cdc.dbs[i];
			pthread_mutex_unlock(&cdc.mtx);
			memset(&err, 0, sizeof(err));
			pthread_mutex_lock(&cdc.scan_mtx);
			cdc_scan_db(d, 1, CDC_MAXTRANS, CDC_MAXSCANS, &err);
			pthread_mutex_unlock(&cdc.scan_mtx);
			pthread_mutex_lock(&cdc.mtx);
		}
	}
	pthread_mutex_unlock(&cdc.mtx);
	return (NULL);
}

/* Decode one image at *p; returns the bytes used. */
static size_t
cdc_image_get(const unsigned char *p, size_t len, struct cdc_img *im)
{
	size_t off = 4;
	int i;

	memset(im, 0, sizeof(*im));
	if (len < 4)
		return (len);
	im->n = (int)util_get_u32le(p);
	im->ids = util_xmalloc((im->n + 1) * sizeof(int));
	im->v = util_xmalloc((im->n + 1) * sizeof(struct simval));
	memset(im->v, 0, (im->n + 1) * sizeof(struct simval));
	for (i = 0; i < im->n && off + 5 <= len; i++) {
		im->ids[i] = (int)util_get_u32le(p + off);
		im->v[i].kind = p[off + 4];
		off += 5;
		if (im->v[i].kind == SQLITE_INTEGER) {
			im->v[i].i = (int64_t)util_get_u64le(p + off);
			off += 8;
		} else if (im->v[i].kind == SQLITE_FLOAT) {
			memcpy(&im->v[i].f, p + off, sizeof(double));
			off += 8;
		} else if (im->v[i].kind != SQLITE_NULL) {
			im->v[i].len = util_get_u32le(p + off);
			im->v[i].p = (unsigned char *)(p + off + 4);
			off += 4 + im->v[i].len;
		}
	}
	return (off);
}

/* The value of column_id in an image, or NULL. */
static const struct simval *
cdc_img_value(const struct cdc_img *im, int colid)
{
	int i;

	for (i = 0; i < im->n; i++)
		if (im->ids[i] == colid)
			return (&im->v[i]);
	return (NULL);
}

/* Do two values differ? */
static int
cdc_value_differs(const struct simval *a, const struct simval *b)
{
	if (a == NULL || b == NULL)
		return (a != b);
	if (a->kind != b->kind)
		return (1);
	switch (a->kind) {
	case SQLITE_NULL:
		return (0);
	case SQLITE_INTEGER:
		return (a->i != b->i);
	case SQLITE_FLOAT:
		return (a->f != b->f);
	}
	return (a->len != b->len || memcmp(a->p, b->p, a->len) != 0);
}

/* Bind a simval. */
static void
cdc_bind(sqlite3_stmt *st, int i, const struct simval *v)
{
	if (v == NULL || v->kind == SQLITE_NULL)
		sqlite3_bind_null(st, i);
	else if (v->kind == SQLITE_INTEGER)
		sqlite3_bind_int64(st, i, v->i);
	else if (v->kind == SQLITE_FLOAT)
		sqlite3_bind_double(st, i, v->f);
	else if (v->kind == SQLITE_TEXT)
		sqlite3_bind_text(
		    st, i, (const char *)v->p, (int)v->len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_blob(st, i, v->p, (int)v->len, SQLITE_TRANSIENT);
}

/* Free the instances of a scan. */
static void
cdc_insts_free(struct cdc_inst *in, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(in[i].cols);
		if (in[i].ins != NULL)
			sqlite3_finalize(in[i].ins);
	}
	free(in);
}

/* Load an instance's captured columns and prepare its INSERT. */
static int
cdc_inst_prepare(sqlite3 *db, struct cdc_inst *in)
{
	sqlite3_stmt *st;
	struct sbuf b;
	char *sql;
	int i, rc, maxord = 0;

	sql =
	    sqlite3_mprintf("SELECT cc.column_id, cc.column_ordinal, "
			    "cc.column_type, cc.is_computed, c.max_length FROM "
			    "\"cdc.captured_columns\" cc LEFT JOIN "
			    "sim_columns c ON c.object_id = %lld AND "
			    "c.column_id = cc.column_id WHERE cc.object_id = "
			    "(SELECT object_id FROM \"cdc.change_tables\" "
			    "WHERE capture_instance = %Q) ORDER BY "
			    "column_ordinal",
		(long long)in->source, in->ci);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return (-1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ty = (const char *)sqlite3_column_text(st, 2);
		struct cdc_ccol *c;

		in->cols = util_xrealloc(
		    in->cols, (in->ncols + 1) * sizeof(*in->cols));
		c = &in->cols[in->ncols++];
		c->column_id = sqlite3_column_int(st, 0);
		c->ordinal = sqlite3_column_int(st, 1);
		c->computed = sqlite3_column_int(st, 3);
		c->lob = ty &&
			(strcasecmp(ty, "text") == 0 ||
			    strcasecmp(ty, "ntext") == 0 ||
			    strcasecmp(ty, "image") == 0)
		    ? 1
		    : sqlite3_column_int(st, 4) == -1 ? 2
						      : 0;
		if (c->ordinal > maxord)
			maxord = c->ordinal;
	}
	sqlite3_finalize(st);
	in->maskbytes = (maxord + 7) / 8;
	sbuf_init(&b);
	sql = sqlite3_mprintf("INSERT INTO \"cdc.%w_CT\" VALUES (?, NULL, ?, "
			      "?, ?",
	    in->ci);
	sbuf_add(&b, sql, strlen(sql));
	sqlite3_free(sql);
	for (i = 0; i <= in->ncols; i++)
		sbuf_add(&b, ", ?", 3);
	sbuf_add(&b, ")", 2);
	rc = sqlite3_prepare_v2(db, (char *)b.data, -1, &in->ins, NULL);
	sbuf_free(&b);
	return (rc == SQLITE_OK ? 0 : -1);
}

/* Load every capture instance of the database. */
static int
cdc_insts_load(sqlite3 *db, struct cdc_inst **out)
{
	struct cdc_inst *in = NULL;
	sqlite3_stmt *st;
	int n = 0, i;

	*out = NULL;
	if (sqlite3_prepare_v2(db,
		"SELECT capture_instance, source_object_id, start_lsn FROM "
		"\"cdc.change_tables\"",
		-1, &st, NULL) != SQLITE_OK)
		return (-1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		in = util_xrealloc(in, (n + 1) * sizeof(*in));
		memset(&in[n], 0, sizeof(*in));
		snprintf(in[n].ci, sizeof(in[n].ci), "%s",
		    sqlite3_column_text(st, 0));
		in[n].source = sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 2) == 10) {
			memcpy(in[n].start, sqlite3_column_blob(st, 2), 10);
			in[n].has_start = 1;
		}
		n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++)
		if (cdc_inst_prepare(db, &in[i]) == -1) {
			cdc_insts_free(in, n);
			return (-1);
		}
	*out = in;
	return (n);
}

/* Set the mask bit of an ordinal (1 = lowest bit of the last byte). */
static void
cdc_mask_set(unsigned char *mask, int nbytes, int ordinal)
{
	mask[nbytes - 1 - (ordinal - 1) / 8] |= 1 << ((ordinal - 1) % 8);
}

/* Write one change-table row. */
static int
cdc_ct_row(struct cdc_inst *in, const unsigned char *lsn,
    const unsigned char *seq, int op, const unsigned char *mask,
    const struct cdc_img *im, const struct cdc_img *other, int cmd)
{
	const struct simval *v;
	int i, rc;

	sqlite3_reset(in->ins);
	sqlite3_clear_bindings(in->ins);
	sqlite3_bind_blob(in->ins, 1, lsn, 10, SQLITE_STATIC);
	sqlite3_bind_blob(in->ins, 2, seq, 10, SQLITE_STATIC);
	sqlite3_bind_int(in->ins, 3, op);
	sqlite3_bind_blob(in->ins, 4, mask, in->maskbytes, SQLITE_STATIC);
	for (i = 0; i < in->ncols; i++) {
		struct cdc_ccol *c = &in->cols[i];

		v = cdc_img_value(im, c->column_id);
		if (c->computed || (c->lob == 1 && (op == 1 || op == 3)))
			v = NULL;
		if (c->lob == 2 && op == 3 &&
		    !cdc_value_differs(v, cdc_img_value(other, c->column_id)))
			v = NULL;
		cdc_bind(in->ins, 5 + i, v);
	}
	sqlite3_bind_int(in->ins, 5 + in->ncols, cmd);
	rc = sqlite3_step(in->ins);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Apply one logged change to one instance. */
static int
cdc_apply(struct cdc_inst *in, sqlite3_stmt *lg, const struct cdc_img *bi,
    const struct cdc_img *ai)
{
	const unsigned char *lsn = sqlite3_column_blob(lg, 1);
	const unsigned char *seq = sqlite3_column_blob(lg, 2);
	int cmd = sqlite3_column_int(lg, 3), op = sqlite3_column_int(lg, 4);
	unsigned char mask[128];
	int i, nb = in->maskbytes;

	memset(mask, 0, sizeof(mask));
	for (i = 0; i < in->ncols; i++)
		if (op != 'U' ||
		    cdc_value_differs(cdc_img_value(bi, in->cols[i].column_id),
			cdc_img_value(ai, in->cols[i].column_id)))
			cdc_mask_set(mask, nb, in->cols[i].ordinal);
	if (op == 'I')
		return (cdc_ct_row(in, lsn, seq, 2, mask, ai, bi, cmd));
	if (op == 'D')
		return (cdc_ct_row(in, lsn, seq, 1, mask, bi, ai, cmd));
	if (cdc_ct_row(in, lsn, seq, 3, mask, bi, ai, cmd) == -1)
		return (-1);
	return (cdc_ct_row(in, lsn, seq, 4, mask, ai, bi, cmd));
}

/* Add a transaction's lsn_time_mapping row. */
static int
cdc_map_row(sqlite3 *db, sqlite3_stmt *lg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db,
		"INSERT INTO \"cdc.lsn_time_mapping\" VALUES (?, ?, ?, ?, ?)",
		-1, &st, NULL) != SQLITE_OK)
		return (-1);
	sqlite3_bind_value(st, 1, sqlite3_column_value(lg, 1));
	sqlite3_bind_value(st, 2, sqlite3_column_value(lg, 8));
	sqlite3_bind_value(st, 3, sqlite3_column_value(lg, 8));
	sqlite3_bind_value(st, 4, sqlite3_column_value(lg, 6));
	sqlite3_bind_value(st, 5, sqlite3_column_value(lg, 7));
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return (rc);
}

/* Apply one log record to every instance of its table. */
static int
cdc_scan_record(sqlite3 *db, sqlite3_stmt *lg, struct cdc_inst *in, int n,
    struct cdc_scanstat *ss, unsigned char *prev)
{
	const unsigned char *img = sqlite3_column_blob(lg, 9);
	const unsigned char *lsn = sqlite3_column_blob(lg, 1);
	size_t len = (size_t)sqlite3_column_bytes(lg, 9), off;
	struct cdc_img bi, ai;
	int i, rc = 0;

	if (memcmp(prev, lsn, 10) != 0) {
		if (cdc_map_row(db, lg) == -1)
			return (-1);
		memcpy(prev, lsn, 10);
		if (ss->trans++ == 0)
			memcpy(ss->first, lsn, 10);
		memcpy(ss->last, lsn, 10);
		snprintf(ss->last_time, sizeof(ss->last_time), "%s",
		    sqlite3_column_text(lg, 8));
	}
	ss->records++;
	off = cdc_image_get(img, len, &bi);
	cdc_image_get(img + off, len - off, &ai);
	for (i = 0; rc == 0 && i < n; i++) {
		if (in[i].source != sqlite3_column_int64(lg, 5) ||
		    (in[i].has_start && memcmp(lsn, in[i].start, 10) <= 0))
			continue;
		ss->commands++;
		rc = cdc_apply(&in[i], lg, &bi, &ai);
	}
	free(bi.ids);
	free(bi.v);
	free(ai.ids);
	free(ai.v);
	return (rc);
}

/* An idle scan: a dummy lsn_time_mapping row now and then. */
static int
cdc_scan_idle(sqlite3 *db)
{
	char now[32], cut[32], *sql;
	unsigned char lsn[10];
	uint64_t pos;
	int rc, recent = 0;
	sqlite3_stmt *st;

	cdc_now_datetime(now, sizeof(now), 0);
	cdc_now_datetime(cut, sizeof(cut), CDC_IDLE_DUMMY_S);
	if (sqlite3_prepare_v2(db,
		"SELECT count(*) FROM \"cdc.lsn_time_mapping\" WHERE "
		"tran_end_time > ?",
		-1, &st, NULL) != SQLITE_OK)
		return (-1);
	sqlite3_bind_text(st, 1, cut, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		recent = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (recent > 0)
		return (0);
	pos = cdc_lsn_alloc(db, "main", 0);
	cdc_lsn_make(pos + 1, lsn);
	sql = sqlite3_mprintf("INSERT INTO \"cdc.lsn_time_mapping\" VALUES "
			      "(?, %Q, %Q, X'00', ?)",
	    now, now);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return (-1);
	sqlite3_bind_blob(st, 1, lsn, 10, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, lsn, 10, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return (rc);
}

/* Record the scan in sim_cdc_scans (sys.dm_cdc_log_scan_sessions). */
static void
cdc_scan_record_session(sqlite3 *db, const struct cdc_scanstat *ss)
{
	char end[32], a[32], b[32], *sql;

	cdc_now_datetime(end, sizeof(end), 0);
	if (ss->trans == 0) {
		sqlite3_exec(db,
		    "UPDATE sim_cdc_scans SET empty_scan_count = "
		    "empty_scan_count + 1 WHERE session_id = (SELECT "
		    "max(session_id) FROM sim_cdc_scans)",
		    NULL, NULL, NULL);
		return;
	}
	cdc_lsn_text(ss->first, a, sizeof(a));
	cdc_lsn_text(ss->last, b, sizeof(b));
	sql = sqlite3_mprintf("INSERT INTO sim_cdc_scans VALUES ((SELECT "
			      "ifnull(max(session_id), 0) + 1 FROM "
			      "sim_cdc_scans), %Q, %Q, 0, 'Done', 0, %Q, %Q, "
			      "%Q, %lld, %Q, %Q, %lld, 0, %lld, %Q, %Q, %Q, 0, "
			      "0, 0)",
	    ss->start, end, a, b, b, (long long)ss->trans, b, ss->last_time,
	    (long long)ss->records, (long long)ss->commands, a, b,
	    ss->last_time);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
}

/*
 * One log scan (write transaction held): moves up to maxtrans whole
 * transactions into the change tables; *more says whether the log
 * still holds some.  An empty first scan of a cycle may add a dummy
 * lsn_time_mapping row.
 */
static int
cdc_scan_log(sqlite3 *db, int maxtrans, int first, int *more)
{
	struct cdc_scanstat ss;
	struct cdc_inst *in;
	unsigned char prev[10];
	sqlite3_stmt *lg;
	int64_t maxid = 0;
	int n, rc = 0;
	char sql[80];

	memset(&ss, 0, sizeof(ss));
	memset(prev, 0, sizeof(prev));
	cdc_now_datetime(ss.start, sizeof(ss.start), 0);
	if ((n = cdc_insts_load(db, &in)) == -1)
		return (-1);
	if (sqlite3_prepare_v2(db,
		"SELECT id, lsn, seqval, cmd, op, object_id, tran_id, "
		"begin_lsn, tran_time, img FROM sim_cdc_log ORDER BY id",
		-1, &lg, NULL) != SQLITE_OK) {
		cdc_insts_free(in, n);
		return (-1);
	}
	*more = 0;
	while (rc == 0 && sqlite3_step(lg) == SQLITE_ROW) {
		if (ss.trans >= maxtrans &&
		    memcmp(prev, sqlite3_column_blob(lg, 1), 10) != 0) {
			*more = 1; /* maxtrans reached: the next scan goes on */
			break;
		}
		maxid = sqlite3_column_int64(lg, 0);
		rc = cdc_scan_record(db, lg, in, n, &ss, prev);
	}
	sqlite3_finalize(lg);
	cdc_insts_free(in, n);
	if (rc == 0 && maxid > 0) {
		snprintf(sql, sizeof(sql),
		    "DELETE FROM sim_cdc_log WHERE id <= %lld",
		    (long long)maxid);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0
									  : -1;
	}
	if (rc == 0 && maxid == 0 && first)
		rc = cdc_scan_idle(db);
	if (rc == 0)
		cdc_scan_record_session(db, &ss);
	return (rc);
}

/*
 * The cleanup job: the low-water mark is the newest lsn_time_mapping
 * entry older than the retention; everything below it goes, and every
 * instance's start_lsn rises to it.
 */
static int
cdc_cleanup(sqlite3 *db)
{
	char cut[32], *sql;
	int64_t ret;
	int rc;

	ret = catalog_meta_get(db, "main", "cdc_retention", CDC_RETENTION);
	cdc_now_datetime(cut, sizeof(cut), ret * 60);
	sql = sqlite3_mprintf(
	    "CREATE TEMP TABLE IF NOT EXISTS sim_cdc_lwm(lsn BLOB);"
	    "DELETE FROM temp.sim_cdc_lwm;"
	    "INSERT INTO temp.sim_cdc_lwm SELECT max(start_lsn) FROM "
	    "\"cdc.lsn_time_mapping\" WHERE tran_end_time < %Q;"
	    "DELETE FROM \"cdc.lsn_time_mapping\" WHERE start_lsn < (SELECT "
	    "lsn FROM temp.sim_cdc_lwm);"
	    "UPDATE \"cdc.change_tables\" SET start_lsn = (SELECT lsn FROM "
	    "temp.sim_cdc_lwm) WHERE (SELECT lsn FROM temp.sim_cdc_lwm) IS NOT "
	    "NULL AND (start_lsn IS NULL OR start_lsn < (SELECT lsn FROM "
	    "temp.sim_cdc_lwm));",
	    cut);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	return (rc == SQLITE_OK ? 0 : -1);
}

/* Delete change-table rows below each instance's start_lsn. */
static int
cdc_cleanup_tables(sqlite3 *db)
{
	sqlite3_stmt *st;
	char *sql;
	int rc = 0;

	if (sqlite3_prepare_v2(db,
		"SELECT capture_instance FROM \"cdc.change_tables\" WHERE "
		"start_lsn IS NOT NULL",
		-1, &st, NULL) != SQLITE_OK)
		return (-1);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		sql = sqlite3_mprintf(
		    "DELETE FROM \"cdc.%w_CT\" WHERE \"__$start_lsn\" < "
		    "(SELECT "
		    "start_lsn FROM \"cdc.change_tables\" WHERE "
		    "capture_instance = %Q)",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 0));
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0
									  : -1;
		sqlite3_free(sql);
	}
	sqlite3_finalize(st);
	return (rc);
}

/*
 * Is the cleanup job due?  Like SQL Server's, it runs daily at 2 A.M.
 * (local simulator time): when 02:00 passed since the last look.
 */
static int
cdc_cleanup_due(struct cdc_db *d)
{
	double now = clock_now_seconds(), prev = d->cleanup_checked;
	struct tm tm;
	time_t t = (time_t)now;
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff - 2 * 3600;
	d->cleanup_checked = now;
	if (prev == 0)
		return (0);
	return (
	    (int64_t)((now + off) / 86400) > (int64_t)((prev + off) / 86400));
}

/* 22859: a scan failed. */
static int
cdc_scan_failed(struct sim_error *err)
{
	sim_error_set(err, 22859, 16, 1,
	    "Log Scan process failed in processing "
	    "log records. Refer to previous errors in the current session to "
	    "identify the cause and correct any associated problems.");
	return (-1);
}

/* One scan in its own write transaction (plus cleanup when due). */
static int
cdc_scan_once(
    struct cdc_db *d, sqlite3 *db, int job, int maxtrans, int first, int *more)
{
	int rc;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return (-1);
	rc = cdc_scan_log(db, maxtrans, first, more);
	if (rc == 0 && job && first && cdc_cleanup_due(d))
		rc = cdc_cleanup(db) == 0 && cdc_cleanup_tables(db) == 0 ? 0
									 : -1;
	if (rc == 0 &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return (0);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/*
 * One scan cycle over a database, as sp_cdc_scan and the capture job
 * run it: up to maxscans scans of up to maxtrans transactions each,
 * stopping at the end of the log (and, from the job, the cleanup).
 */
static int
cdc_scan_db(struct cdc_db *d, int job, int maxtrans, int maxscans,
    struct sim_error *err)
{
	struct sim_session *a;
	int i, more = 0;

	if (d->gone) {
		if (d->agent != NULL)
			engine_session_free(d->agent);
		d->agent = NULL;
		return (0);
	}
	if (job && !d->jobs)
		return (0); /* no capture job before the first table */
	if ((a = cdc_agent(d, err)) == NULL)
		return (-1);
	engine_stmt_flush(a);
	for (i = 0; i < maxscans; i++) {
		if (cdc_scan_once(d, a->db, job, maxtrans, i == 0, &more) == -1)
			return (cdc_scan_failed(err));
		if (!more)
			break;
	}
	return (0);
}

/* Scan a database now (sys.sp_cdc_scan); 0, or -1 with err set. */
int
cdc_scan_now(
    const char *name, int maxtrans, int maxscans, struct sim_error *err)
{
	struct cdc_db *d;
	char nm[129];
	int rc;

	pthread_mutex_lock(&cdc.mtx);
	d = cdc_db_find(name);
	if (d != NULL)
		snprintf(nm, sizeof(nm), "%s", d->name);
	pthread_mutex_unlock(&cdc.mtx);
	if (d == NULL) {
		sim_error_set(err, 22901, 16, 1,
		    "The database '%s' is not "
		    "enabled for Change Data Capture. Ensure that the correct "
		    "database context is set and retry the operation. To "
		    "report "
		    "on the databases enabled for Change Data Capture, query "
		    "the "
		    "is_cdc_enabled column in the sys.databases catalog view.",
		    name);
		return (-1);
	}
	pthread_mutex_lock(&cdc.scan_mtx);
	rc = cdc_scan_db(d, 0, maxtrans, maxscans, err);
	pthread_mutex_unlock(&cdc.scan_mtx);
	return (rc);
}

/* Registry updates after sp_cdc_* changed the metadata. */
void
cdc_registry_update(struct sim_session *s, int dbon)
{
	if (dbon == 2) /* sp_cdc_enable_db: forget a dropped namesake */
		cdc_db_set(s->dbname, 0);
	cdc_db_set(s->dbname, dbon != 0);
	if (dbon)
		cdc_db_reload(s->db, "main", s->dbname);
}

/*
 * Record DDL on a captured table in cdc.ddl_history (ddl.c calls this
 * after ALTER TABLE ... ADD / DROP / ALTER COLUMN), once column type
 * changes have reached the change tables (required_column_update).
 */
void
cdc_ddl_notify(struct sim_session *s, const struct table *t, const char *cmd)
{
	unsigned char lsn[10];
	char now[32], *sql;
	sqlite3_stmt *st;
	uint64_t pos;
	int captured, retyped;

	if (strcmp(t->db, "main") != 0)
		return;
	pthread_mutex_lock(&cdc.mtx);
	captured = cdc_captured(s->dbname, t->object_id);
	pthread_mutex_unlock(&cdc.mtx);
	if (!captured)
		return;
	retyped = cdc_propagate_types(s, t) > 0; /* cdc_proc.c */
	pos = cdc_lsn_alloc(s->db, "main", 0);
	cdc_lsn_make(pos + 1, lsn);
	cdc_now_datetime(now, sizeof(now), 0);
	sql = sqlite3_mprintf("INSERT INTO \"cdc.ddl_history\" SELECT %lld, "
			      "object_id, %d, 'ALTER TABLE ' || %Q, ?, %Q FROM "
			      "\"cdc.change_tables\" WHERE source_object_id = "
			      "%lld",
	    (long long)t->object_id, retyped, cmd, now,
	    (long long)t->object_id);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, lsn, 10, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
}

/* The DDL lists for sp_cdc_enable_db / sp_cdc_disable_db (cdc_proc.c). */
const char *const *
cdc_db_ddl(int enable)
{
	return (enable ? cdc_enable_db_ddl : cdc_disable_db_ddl);
}

/* Allocate an LSN in the session's database (enable_table start_lsn). */
void
cdc_lsn_next(struct sim_session *s, unsigned char *lsn)
{
	cdc_lsn_make(cdc_lsn_alloc(s->db, "main", 0) + 1, lsn);
}
