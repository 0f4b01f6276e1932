/*
 * The SQLite replica: the embedded destination (DESIGN.md section 4).
 *
 * One SQLite file (replica.path), separate from the state file, holds
 * per source table a replica table with the current rows merged by
 * primary key, and an append-only journal of every applied event.
 *
 * Names.  The replica table of source table db.schema.table is named
 * "<db>_<schema>.<table>" (one SQLite identifier containing the dot),
 * with three escapes that make the name collision-free and decodable:
 *
 *	db	'%', '_' and '.' become %XX (hex), so its first raw '_' ends
 *		it; a db starting with "sqlite" has its first byte escaped
 *		(SQLite reserves "sqlite_" names)
 *	schema	'%' and '.' become %XX, so the first raw '.' after the db
 *		ends it
 *	table	'%' and '~' become %XX, and the '_' of a trailing
 *		"_journal" becomes %5F, so that no replica table is named
 *		like a journal
 *
 * So db "a_b" schema "c" is "a%5Fb_c.t" while db "a" schema "b_c" is
 * "a_b_c.t".  SQLite compares names without regard to ASCII case,
 * SQL Server may not: a name already taken by another source table
 * (case-insensitively) gets "~2", "~3", ... appended.  The journal is
 * "<replica table>_journal".  The mapping table _replica_tables
 * (source db, schema, table -> replica table) is the authoritative
 * record; replica_name_decode() only helps humans.
 *
 * Columns.  Each source column keeps its name unless that is taken
 * (case-insensitively) by the metadata columns _inserted_at,
 * _updated_at, _deleted or another column; then "~N" is appended.
 * _replica_columns records every column: source name, replica name,
 * source type, key ordinal, dropped flag.  SQLite types are chosen so
 * that column affinity never alters a value: integer types and bit
 * INTEGER (bit 0/1), real and float REAL, binary types BLOB, decimal,
 * numeric, money, dates and times (as the frames render them), GUIDs
 * and strings TEXT, anything else (sql_variant, CLR types) BLOB, which
 * has no affinity.  A column added at the source is added (existing
 * rows NULL); a dropped one is renamed "<column>__deleted" ("~N" if
 * that is taken) and keeps its values; a changed primary key is an
 * error.
 *
 * Applying.  Inserts and updates are upserts by primary key; a delete
 * is the same upsert with _deleted = 1 (the row is kept; a key never
 * seen gets a row with _deleted = 1).  Absent values (a CT delete only
 * knows the key) are left out of the statement, so they leave existing
 * columns untouched.  Every applied event is appended to the journal,
 * whose columns are _seq (append order), _op ('c', 'u', 'd'), _pos,
 * _ts (source commit time), _snapshot, _applied_at, _absent (JSON
 * array of the columns the event did not know, or NULL), _before (the
 * CDC before image as a JSON object, or NULL), then the row image in
 * the same columns, types and names as the replica table (absent
 * values NULL); columns are added and renamed in both tables alike.
 * Typed columns rather than a JSON image: users query the journal
 * with plain SQL, and applying costs no number formatting.
 *
 * Exactly once.  SQLite is not atomic across files, so the replica
 * keeps its own applied position per table (memcmp-ordered pos bytes,
 * proto.h) in _replica_tables, written by replica_commit() in the same
 * transaction as the rows.  An event at or below that position is
 * skipped (replica_apply_event() returns 1): after a kill -9 between
 * the replica's commit and the state file's, the events replayed from
 * the older cursors change nothing.  Positions of one table's events
 * are strictly increasing (proto.h).  Skipping is not enough for a
 * backfill, which resumes by reading the rows as they are now: so the
 * same transaction also stores the state file's round
 * (replica_round_set(), state/round.c), and the supervisor commits it
 * to the state file at the next start when the state missed it.
 * synchronous=FULL, as in state.c:
 * a commit the state file builds on must survive a power loss too.
 *
 * Re-backfills and reconcile.  A backfill reads the rows as they are:
 * a row deleted at the source while its change was not captured (the
 * table was reset, its cursor fell out of retention, its capture mode
 * changed) is simply not read again, and upserts alone would leave it
 * in the replica with _deleted = 0.  So each backfill is bracketed.
 * replica_backfill_begin() records in _replica_tables.backfill_mark
 * the journal's highest _seq so far; the supervisor calls it when it
 * resets a table (clearing the applied position too: the new backfill
 * numbers its positions afresh), and replica_apply_event() calls it
 * itself at the first snapshot event of a table that has no mark (a
 * first backfill, or one a retention loss restarted in the worker).
 * When the backfill is complete and all of its events are applied
 * (the round that completes its FRAME_BACKFILL_DONE watermark),
 * replica_backfill_end() applies the rule: every row with _deleted = 0
 * whose key has no journal entry after the mark was not seen by the
 * backfill (nor changed since it started), so it is gone at the
 * source: it gets _deleted = 1, _updated_at = now and a journal entry
 * (_op 'd', _snapshot 1, _ts now, the row's values) whose _pos is the
 * table's applied position, not beyond it, so later events still
 * apply.  The mark is cleared in the same transaction, which is the
 * round's: after a kill -9 either all of it is committed or the round
 * is replayed and the rule applied again; applied twice it finds
 * nothing more (the rows are _deleted already, the mark is gone).  A
 * table reset while empty at the source is reconciled too (its mark
 * comes from the reset); after a retention loss a table that is empty
 * at the source sends no snapshot event, so it gets no mark and is not
 * reconciled.  A mark of 0 (the journal was empty when the backfill
 * began) is cleared without a look: every row came with a journal
 * entry after it.  Tables that existed before schema version 3 start
 * with mark 0, so a backfill under way at the upgrade is not cut
 * short.
 *
 * Positions of two capture modes do not compare (proto.h), so the mode
 * the table's position was taken in is recorded with it: a schema in
 * another mode (CDC enabled on a Change Tracking table, a binding's
 * mode edited) forgets the position, and the first event of the new
 * mode is applied whatever its bytes.
 *
 * Batching.  The caller applies many events per transaction
 * (replica_begin() .. replica_commit()) and asks replica_batch_full()
 * when to commit: after REPLICA_BATCH_EVENTS events or REPLICA_BATCH_MS,
 * so a commit never waits long.  WAL mode: a reader (sqlite3, verify)
 * never blocks a commit and is never blocked by one; a long read only
 * keeps the WAL from being checkpointed past its snapshot.  One writer
 * per file, enforced by flock(2) on "<path>-lock" as in state.c.
 *
 * Handles (struct replica_table) are owned by the replica and live
 * until replica_close().  replica_rollback() reloads them from the
 * file: positions and columns go back to the last commit, and a table
 * created in the rolled-back transaction must get its schema again.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/file.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "state.h"

#define REPLICA_BUSY_TIMEOUT_MS 5000
#define REPLICA_NUPSERTS 4 /* cached upsert statements per table */
#define REPLICA_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

/* An upsert statement for one set of present columns. */
struct replica_upsert {
	sqlite3_stmt *stmt;
	uint8_t *mask; /* ncols bytes: 1 present */
	uint64_t used;
};

struct replica_table {
	struct replica *r;
	char *name; /* replica table */
	char *journal;
	char *qname; /* quoted */
	char *qjournal;
	char *db;
	char *schema;
	char *table;
	struct replica_column *cols; /* all, active first in source order */
	size_t ncols; /* active */
	size_t nall; /* active and dropped */
	int gone; /* rolled back before its first commit */
	uint8_t pos[FRAME_MAX_POS];
	size_t poslen;
	int dirty; /* pos changed in this transaction */
	int mode; /* enum frame_mode of pos, 0: not known yet */
	int has_mark; /* a backfill is under way (top of file) */
	int64_t mark; /* journal _seq when it started */
	sqlite3_stmt *jstmt;
	struct replica_upsert up[REPLICA_NUPSERTS];
	uint64_t upclock;
	uint8_t *mask;
	struct json_buf row;
	struct json_buf before;
};

struct replica {
	sqlite3 *db;
	char *path;
	int lockfd;
	int readonly;
	int in_txn;
	uint64_t txn_events;
	struct timespec txn_start;
	struct replica_table **tables;
	size_t ntables;
};

static const char *replica_migrations[REPLICA_SCHEMA_VERSION] = {
	/* 0 -> 1: the mapping and the columns. */
	"CREATE TABLE _replica_tables ("
	" replica_table TEXT PRIMARY KEY,"
	" journal_table TEXT NOT NULL,"
	" source_db TEXT NOT NULL,"
	" source_schema TEXT NOT NULL,"
	" source_table TEXT NOT NULL,"
	" pos BLOB,"
	" created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL,"
	" UNIQUE (source_db, source_schema, source_table));"
	"CREATE TABLE _replica_columns ("
	" replica_table TEXT NOT NULL,"
	" rname TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" ordinal INTEGER,"
	" type_name TEXT NOT NULL,"
	" type_id INTEGER NOT NULL,"
	" precision INTEGER NOT NULL,"
	" scale INTEGER NOT NULL,"
	" max_length INTEGER NOT NULL,"
	" key_ordinal INTEGER NOT NULL,"
	" dropped INTEGER NOT NULL DEFAULT 0,"
	" dropped_at TEXT,"
	" PRIMARY KEY (replica_table, rname));",
	/*
	 * 1 -> 2: a copy of the state file's round committed with the
	 * rows (state/round.c).
	 */
	"CREATE TABLE _replica_round ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" round INTEGER NOT NULL,"
	" state BLOB NOT NULL,"
	" updated_at TEXT NOT NULL);",
	/*
	 * 2 -> 3: where the journal stood when the table's backfill
	 * started (replica_backfill_begin(); 0 deletes nothing).
	 */
	"ALTER TABLE _replica_tables ADD COLUMN backfill_mark INTEGER;"
	"UPDATE _replica_tables SET backfill_mark = 0;"
	"ALTER TABLE _replica_tables ADD COLUMN mode INTEGER;",
};

/* Names the metadata columns take, in replica and journal tables. */
static const char *replica_meta_columns[] = { "_inserted_at", "_updated_at",
	"_deleted", "_seq", "_op", "_pos", "_ts", "_snapshot", "_applied_at",
	"_absent", "_before" };

/* Metadata columns of a replica table, after the source columns. */
#define REPLICA_META_DEFS \
	", \"_inserted_at\" TEXT NOT NULL, \"_updated_at\" TEXT NOT NULL, " \
	"\"_deleted\" INTEGER NOT NULL DEFAULT 0"

/* Metadata columns of a journal table, before the source columns. */
#define REPLICA_JOURNAL_DEFS \
	"\"_seq\" INTEGER PRIMARY KEY, \"_op\" TEXT NOT NULL, " \
	"\"_pos\" BLOB NOT NULL, \"_ts\" TEXT NOT NULL, " \
	"\"_snapshot\" INTEGER NOT NULL, \"_applied_at\" TEXT NOT NULL, " \
	"\"_absent\" TEXT, \"_before\" TEXT"

static int replica_fail(struct replica *, char **, const char *);
static int replica_exec(struct replica *, const char *, char **);
static int replica_configure(struct replica *, char **);
static int replica_migrate(struct replica *, char **);
static int replica_lock(struct replica *, char **);
static int replica_prepare(
    struct replica *, const char *, sqlite3_stmt **, char **);
static void replica_escape_byte(struct json_buf *, char);
static void replica_escape(struct json_buf *, const char *, const char *);
static char *replica_buf_str(struct json_buf *);
static char *replica_unescape(const char *, size_t, int);
static int replica_name_taken(struct replica *, const char *, int *, char **);
static char *replica_name_unique(struct replica *, const char *, char **);
static const char *replica_sqlite_type(uint32_t);
static int replica_column_taken(const struct replica_table *, const char *);
static char *replica_column_unique(const struct replica_table *, const char *);
static struct replica_table *replica_table_new(struct replica *, const char *);
static void replica_table_free(struct replica_table *);
static void replica_table_clear(struct replica_table *);
static void replica_stmts_free(struct replica_table *);
static struct replica_table *replica_table_cached(
    struct replica *, const char *);
static int replica_table_load(struct replica_table *, char **);
static int replica_load_columns(struct replica_table *, char **);
static int replica_find_name(
    struct replica *, const struct frame_schema *, char **, char **);
static int replica_create(
    struct replica *, const struct frame_schema *, char **, char **);
static void replica_coldefs(const struct replica_table *, struct json_buf *);
static void replica_keydefs(const struct replica_table *, struct json_buf *);
static int replica_create_tables(
    struct replica *, const char *, const struct frame_schema *, char **);
static int replica_alter_both(struct replica_table *, const char *, char **);
static char *replica_journal_sql(const struct replica_table *);
static void replica_json_absent(const struct replica_table *, struct json_buf *,
    const struct frame_value *);
static int replica_column_put(struct replica_table *,
    const struct frame_column *, const char *, size_t, char **);
static int replica_keys_match(
    const struct replica_table *, const struct frame_schema *, char **);
static size_t replica_schema_find(
    const struct frame_schema *, const struct replica_column *);
static int replica_evolve(
    struct replica_table *, const struct frame_schema *, char **);
static int replica_drop_column(
    struct replica_table *, struct replica_column *, char **);
static int replica_add_column(
    struct replica_table *, const struct frame_column *, size_t, char **);
static int replica_schema_in_txn(struct replica *, const struct frame_schema *,
    struct replica_table **, char **);
static void replica_add_keys(const struct replica_table *, struct json_buf *);
static sqlite3_stmt *replica_upsert_stmt(struct replica_table *, char **);
static char *replica_upsert_sql(const struct replica_table *);
static void replica_bind_value(sqlite3_stmt *, int, const struct frame_value *);
static int replica_write_row(
    struct replica_table *, const struct frame_event *, const char *, char **);
static void replica_json_row(const struct replica_table *, struct json_buf *,
    const struct frame_value *);
static int replica_write_journal(
    struct replica_table *, const struct frame_event *, const char *, char **);
static int replica_save_positions(struct replica *, char **);
static void replica_add(struct json_buf *, const char *);
static int replica_journal_max(struct replica_table *, int64_t *, char **);
static int replica_mode_store(struct replica_table *, int, char **);
static int replica_mark_store(struct replica_table *, int, int64_t, char **);
static void replica_key_match(
    const struct replica_table *, const char *, struct json_buf *);
static char *replica_reconcile_sql(const struct replica_table *, int);
static int replica_reconcile_seen(struct replica_table *, char **);
static int replica_reconcile_run(
    struct replica_table *, const char *, int, uint64_t *, char **);

/* Set *cause from SQLite's last error; always -1. */
static int
replica_fail(struct replica *r, char **cause, const char *what)
{
	xasprintf(cause, "%s: %s: %s", r->path, what, sqlite3_errmsg(r->db));
	return (-1);
}

/* Run SQL that returns no rows. */
static int
replica_exec(struct replica *r, const char *sql, char **cause)
{
	if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return (replica_fail(r, cause, sql));
	return (0);
}

/* Prepare a statement. */
static int
replica_prepare(
    struct replica *r, const char *sql, sqlite3_stmt **sp, char **cause)
{
	if (sqlite3_prepare_v2(r->db, sql, -1, sp, NULL) != SQLITE_OK) {
		*sp = NULL;
		return (replica_fail(r, cause, "prepare"));
	}
	return (0);
}

/* Connection settings: WAL and FULL sync for the writer. */
static int
replica_configure(struct replica *r, char **cause)
{
	sqlite3_stmt *stmt;
	const char *mode;
	int ok;

	sqlite3_busy_timeout(r->db, REPLICA_BUSY_TIMEOUT_MS);
	if (r->readonly)
		return (0);
	if (replica_prepare(r, "PRAGMA journal_mode = WAL", &stmt, cause) != 0)
		return (-1);
	ok = sqlite3_step(stmt) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(stmt, 0)) != NULL &&
	    strcmp(mode, "wal") == 0;
	sqlite3_finalize(stmt);
	if (!ok)
		return (replica_fail(r, cause, "cannot switch to WAL mode"));
	return (replica_exec(
	    r, "PRAGMA synchronous = FULL; PRAGMA cache_size = -16384", cause));
}

/* Bring the schema to REPLICA_SCHEMA_VERSION (or check it, read-only). */
static int
replica_migrate(struct replica *r, char **cause)
{
	sqlite3_stmt *stmt;
	char sql[64];
	int v = -1;

	if (!r->readonly && replica_exec(r, "BEGIN IMMEDIATE", cause) != 0)
		return (-1);
	if (replica_prepare(r, "PRAGMA user_version", &stmt, cause) != 0)
		goto fail;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (v < 0 || v > REPLICA_SCHEMA_VERSION ||
	    (r->readonly && v != REPLICA_SCHEMA_VERSION)) {
		if (v == 0)
			xasprintf(cause, "%s: no replica yet", r->path);
		else
			xasprintf(cause,
			    "%s: replica schema version %d, this release "
			    "reads %d",
			    r->path, v, REPLICA_SCHEMA_VERSION);
		goto fail;
	}
	if (r->readonly)
		return (0);
	for (; v < REPLICA_SCHEMA_VERSION; v++) {
		if (replica_exec(r, replica_migrations[v], cause) != 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    REPLICA_SCHEMA_VERSION);
	if (replica_exec(r, sql, cause) != 0 ||
	    replica_exec(r, "COMMIT", cause) != 0)
		goto fail;
	return (0);

fail:
	if (!r->readonly)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/* Take the single-writer lock, without waiting. */
static int
replica_lock(struct replica *r, char **cause)
{
	char *lockpath;
	int error = 0;

	xasprintf(&lockpath, "%s-lock", r->path);
	r->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (r->lockfd == -1 || flock(r->lockfd, LOCK_EX | LOCK_NB) != 0)
		error = errno;
	if (error == EWOULDBLOCK)
		xasprintf(cause, "%s: in use by another mssql-capture process",
		    r->path);
	else if (error != 0)
		xasprintf(cause, "%s: %s", lockpath, strerror(error));
	free(lockpath);
	return (error == 0 ? 0 : -1);
}

/*
 * Open (creating and migrating unless REPLICA_READONLY) the replica.
 * NULL and *cause on error.
 */
struct replica *
replica_open(const char *path, int flags, char **cause)
{
	struct replica *r;
	int oflags, rc;

	r = xcalloc(1, sizeof(*r));
	r->path = xstrdup(path);
	r->readonly = (flags & REPLICA_READONLY) != 0;
	r->lockfd = -1;
	if (!r->readonly && replica_lock(r, cause) != 0) {
		replica_close(r);
		return (NULL);
	}
	oflags = r->readonly ? SQLITE_OPEN_READONLY
			     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &r->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (r->db == NULL)
			xasprintf(cause, "%s: %s", path, sqlite3_errstr(rc));
		else
			replica_fail(r, cause, "open");
		replica_close(r);
		return (NULL);
	}
	sqlite3_extended_result_codes(r->db, 1);
	if (replica_configure(r, cause) != 0 ||
	    replica_migrate(r, cause) != 0) {
		replica_close(r);
		return (NULL);
	}
	return (r);
}

/* Close the replica; an open transaction is rolled back. */
void
replica_close(struct replica *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->in_txn)
		replica_rollback(r);
	for (i = 0; i < r->ntables; i++)
		replica_table_free(r->tables[i]);
	free(r->tables);
	if (r->db != NULL && sqlite3_close(r->db) != SQLITE_OK)
		log_warnx("%s: close: %s", r->path, sqlite3_errmsg(r->db));
	if (r->lockfd != -1)
		close(r->lockfd); /* after the database is closed */
	free(r->path);
	free(r);
}

/* The SQLite connection, for readers (verify). */
struct sqlite3 *
replica_sqlite(struct replica *r)
{
	return (r->db);
}

/* Start a transaction (the writer takes the write lock now). */
int
replica_begin(struct replica *r, char **cause)
{
	if (r->in_txn) {
		xasprintf(cause, "%s: transaction already open", r->path);
		return (-1);
	}
	if (replica_exec(r, r->readonly ? "BEGIN" : "BEGIN IMMEDIATE", cause) !=
	    0)
		return (-1);
	r->in_txn = 1;
	r->txn_events = 0;
	clock_gettime(CLOCK_MONOTONIC, &r->txn_start);
	return (0);
}

/* Write the positions of the tables applied to in this transaction. */
static int
replica_save_positions(struct replica *r, char **cause)
{
	struct replica_table *rt;
	sqlite3_stmt *stmt;
	size_t i;
	int rc;

	if (replica_prepare(r,
		"UPDATE _replica_tables SET pos = ?1, updated_at = " REPLICA_NOW
		" WHERE replica_table = ?2",
		&stmt, cause) != 0)
		return (-1);
	for (i = 0; i < r->ntables; i++) {
		rt = r->tables[i];
		if (!rt->dirty)
			continue;
		sqlite3_reset(stmt);
		sqlite3_bind_blob(
		    stmt, 1, rt->pos, (int)rt->poslen, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, rt->name, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(stmt)) != SQLITE_DONE) {
			sqlite3_finalize(stmt);
			return (replica_fail(r, cause, "save position"));
		}
	}
	sqlite3_finalize(stmt);
	return (0);
}

/*
 * Commit rows, journal and positions together.  On -1 the transaction
 * is still open; call replica_rollback().
 */
int
replica_commit(struct replica *r, char **cause)
{
	size_t i;

	if (!r->in_txn) {
		xasprintf(cause, "%s: no transaction to commit", r->path);
		return (-1);
	}
	if (!r->readonly && replica_save_positions(r, cause) != 0)
		return (-1);
	if (replica_exec(r, "COMMIT", cause) != 0)
		return (-1);
	r->in_txn = 0;
	for (i = 0; i < r->ntables; i++)
		r->tables[i]->dirty = 0;
	return (0);
}

/* Abandon the open transaction; handles go back to the last commit. */
void
replica_rollback(struct replica *r)
{
	char *cause = NULL;
	size_t i;

	if (!r->in_txn)
		return;
	if (sqlite3_get_autocommit(r->db) == 0 &&
	    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		log_warnx("%s: rollback: %s", r->path, sqlite3_errmsg(r->db));
	r->in_txn = 0;
	for (i = 0; i < r->ntables; i++) {
		r->tables[i]->dirty = 0;
		if (replica_table_load(r->tables[i], &cause) != 0) {
			log_warnx("%s", cause);
			free(cause);
			cause = NULL;
		}
	}
}

/* Has the open transaction applied enough (events or time) to commit? */
int
replica_batch_full(const struct replica *r)
{
	struct timespec now;
	int64_t ms;

	if (!r->in_txn)
		return (0);
	if (r->txn_events >= REPLICA_BATCH_EVENTS)
		return (1);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - r->txn_start.tv_sec) * 1000 +
	    (now.tv_nsec - r->txn_start.tv_nsec) / 1000000;
	return (ms >= REPLICA_BATCH_MS);
}

/* Append one byte as %XX. */
static void
replica_escape_byte(struct json_buf *b, char c)
{
	char hex[4];

	snprintf(hex, sizeof(hex), "%%%02X", (unsigned char)c);
	json_add(b, hex, 3);
}

/* Append s to b with every byte of esc written as %XX. */
static void
replica_escape(struct json_buf *b, const char *s, const char *esc)
{
	for (; *s != '\0'; s++) {
		if (strchr(esc, *s) != NULL)
			replica_escape_byte(b, *s);
		else
			json_add(b, s, 1);
	}
}

/* Terminate a buffer and hand its string over. */
static char *
replica_buf_str(struct json_buf *b)
{
	char *s;

	json_add(b, "", 1);
	s = b->data;
	memset(b, 0, sizeof(*b));
	return (s);
}

/* The escaped name "<db>_<schema>.<table>" (top of file). */
char *
replica_name_encode(const char *db, const char *schema, const char *table)
{
	struct json_buf b;
	size_t len = strlen(table), jl = strlen(REPLICA_JOURNAL_SUFFIX);
	char *t;

	json_buf_init(&b);
	if (strncasecmp(db, "sqlite", 6) == 0)
		replica_escape_byte(&b, *db++);
	replica_escape(&b, db, "%_.");
	json_add(&b, "_", 1);
	replica_escape(&b, schema, "%.");
	json_add(&b, ".", 1);
	if (len >= jl && strcasecmp(table + len - jl, "_journal") == 0) {
		t = xstrndup(table, len - jl);
		replica_escape(&b, t, "%~");
		free(t);
		json_add(&b, "%5F", 3);
		json_add(&b, table + len - jl + 1, jl - 1);
	} else
		replica_escape(&b, table, "%~");
	return (replica_buf_str(&b));
}

/* Undo %XX escapes of s[0..len); in a table, "~N" (a suffix) ends it. */
static char *
replica_unescape(const char *s, size_t len, int table)
{
	struct json_buf b;
	unsigned int c;
	size_t i;

	json_buf_init(&b);
	for (i = 0; i < len && (!table || s[i] != '~'); i++) {
		if (s[i] == '%' && i + 2 < len &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2]) &&
		    sscanf(s + i + 1, "%2x", &c) == 1) {
			json_add(&b, (char[]){ (char)c }, 1);
			i += 2;
		} else
			json_add(&b, s + i, 1);
	}
	return (replica_buf_str(&b));
}

/* Split a replica table name into its source names: 0, or -1. */
int
replica_name_decode(const char *name, char **db, char **schema, char **table)
{
	const char *us, *dot;

	if ((us = strchr(name, '_')) == NULL ||
	    (dot = strchr(us + 1, '.')) == NULL)
		return (-1);
	*db = replica_unescape(name, us - name, 0);
	*schema = replica_unescape(us + 1, dot - us - 1, 0);
	*table = replica_unescape(dot + 1, strlen(dot + 1), 1);
	return (0);
}

/* An SQL identifier in double quotes. */
char *
replica_quote(const char *s)
{
	struct json_buf b;

	json_buf_init(&b);
	json_add(&b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			json_add(&b, "\"", 1);
		json_add(&b, s, 1);
	}
	json_add(&b, "\"", 1);
	return (replica_buf_str(&b));
}

/* Is a table name (or its journal's) taken, case-insensitively? */
static int
replica_name_taken(
    struct replica *r, const char *name, int *taken, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (replica_prepare(r,
		"SELECT 1 FROM sqlite_master WHERE name = ?1 COLLATE NOCASE "
		"OR name = ?1 || '" REPLICA_JOURNAL_SUFFIX "' COLLATE NOCASE "
		"UNION ALL SELECT 1 FROM _replica_tables WHERE "
		"replica_table = ?1 COLLATE NOCASE",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (replica_fail(r, cause, "name lookup"));
	*taken = rc == SQLITE_ROW;
	return (0);
}

/* A free replica table name for a source table. */
static char *
replica_name_unique(struct replica *r, const char *base, char **cause)
{
	char *name;
	int n, taken;

	name = xstrdup(base);
	for (n = 2;; n++) {
		if (replica_name_taken(r, name, &taken, cause) != 0) {
			free(name);
			return (NULL);
		}
		if (!taken)
			return (name);
		free(name);
		xasprintf(&name, "%s~%d", base, n);
	}
}

/* The declared SQLite type of a source type (top of file). */
static const char *
replica_sqlite_type(uint32_t type_id)
{
	switch (type_id) {
	case 48: /* tinyint */
	case 52: /* smallint */
	case 56: /* int */
	case 127: /* bigint */
	case 104: /* bit */
		return ("INTEGER");
	case 59: /* real */
	case 62: /* float */
		return ("REAL");
	case 34: /* image */
	case 165: /* varbinary */
	case 173: /* binary, rowversion */
	case 189: /* timestamp */
		return ("BLOB");
	case 35: /* text */
	case 36: /* uniqueidentifier */
	case 40: /* date */
	case 41: /* time */
	case 42: /* datetime2 */
	case 43: /* datetimeoffset */
	case 58: /* smalldatetime */
	case 60: /* money */
	case 61: /* datetime */
	case 99: /* ntext */
	case 106: /* decimal */
	case 108: /* numeric */
	case 122: /* smallmoney */
	case 167: /* varchar */
	case 175: /* char */
	case 231: /* nvarchar, sysname */
	case 239: /* nchar */
	case 241: /* xml */
		return ("TEXT");
	}
	return ("BLOB"); /* no affinity: values stay as they are */
}

/* Is a replica column name taken (metadata or any column)? */
static int
replica_column_taken(const struct replica_table *rt, const char *name)
{
	size_t i;

	for (i = 0;
	     i < sizeof(replica_meta_columns) / sizeof(replica_meta_columns[0]);
	     i++)
		if (strcasecmp(name, replica_meta_columns[i]) == 0)
			return (1);
	for (i = 0; i < rt->nall; i++)
		if (strcasecmp(name, rt->cols[i].rname) == 0)
			return (1);
	return (0);
}

/* A free replica column name: base, else base~2, base~3, ... */
static char *
replica_column_unique(const struct replica_table *rt, const char *base)
{
	char *name;
	int n;

	name = xstrdup(base);
	for (n = 2; replica_column_taken(rt, name); n++) {
		free(name);
		xasprintf(&name, "%s~%d", base, n);
	}
	return (name);
}

/* A new handle for a replica table, registered with the replica. */
static struct replica_table *
replica_table_new(struct replica *r, const char *name)
{
	struct replica_table *rt;

	rt = xcalloc(1, sizeof(*rt));
	rt->r = r;
	rt->name = xstrdup(name);
	xasprintf(&rt->journal, "%s%s", name, REPLICA_JOURNAL_SUFFIX);
	rt->qname = replica_quote(rt->name);
	rt->qjournal = replica_quote(rt->journal);
	json_buf_init(&rt->row);
	json_buf_init(&rt->before);
	r->tables =
	    xreallocarray(r->tables, r->ntables + 1, sizeof(*r->tables));
	r->tables[r->ntables++] = rt;
	return (rt);
}

/* Finalize a table's statements (columns changed or closing). */
static void
replica_stmts_free(struct replica_table *rt)
{
	size_t i;

	sqlite3_finalize(rt->jstmt);
	rt->jstmt = NULL;
	for (i = 0; i < REPLICA_NUPSERTS; i++) {
		sqlite3_finalize(rt->up[i].stmt);
		free(rt->up[i].mask);
		memset(&rt->up[i], 0, sizeof(rt->up[i]));
	}
}

/* Forget the columns and source names of a handle. */
static void
replica_table_clear(struct replica_table *rt)
{
	size_t i;

	replica_stmts_free(rt);
	for (i = 0; i < rt->nall; i++) {
		free(rt->cols[i].name);
		free(rt->cols[i].rname);
		free(rt->cols[i].type_name);
	}
	free(rt->cols);
	rt->cols = NULL;
	rt->ncols = rt->nall = 0;
	free(rt->mask);
	rt->mask = NULL;
	free(rt->db);
	free(rt->schema);
	free(rt->table);
	rt->db = rt->schema = rt->table = NULL;
}

/* Free a handle. */
static void
replica_table_free(struct replica_table *rt)
{
	replica_table_clear(rt);
	json_buf_free(&rt->row);
	json_buf_free(&rt->before);
	free(rt->name);
	free(rt->journal);
	free(rt->qname);
	free(rt->qjournal);
	free(rt);
}

/* The handle of a replica table, if one is open. */
static struct replica_table *
replica_table_cached(struct replica *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->ntables; i++)
		if (strcmp(r->tables[i]->name, name) == 0)
			return (r->tables[i]);
	return (NULL);
}

/* Read the columns of a table: active ones in source order first. */
static int
replica_load_columns(struct replica_table *rt, char **cause)
{
	struct replica_column *c;
	sqlite3_stmt *stmt;
	int rc;

	if (replica_prepare(rt->r,
		"SELECT name, rname, type_name, type_id, precision, scale, "
		"max_length, key_ordinal, dropped FROM _replica_columns "
		"WHERE replica_table = ?1 ORDER BY dropped, ordinal, rname",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_text(stmt, 1, rt->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rt->cols =
		    xreallocarray(rt->cols, rt->nall + 1, sizeof(*rt->cols));
		c = &rt->cols[rt->nall++];
		c->name = xstrdup((const char *)sqlite3_column_text(stmt, 0));
		c->rname = xstrdup((const char *)sqlite3_column_text(stmt, 1));
		c->type_name =
		    xstrdup((const char *)sqlite3_column_text(stmt, 2));
		c->type_id = sqlite3_column_int(stmt, 3);
		c->precision = sqlite3_column_int(stmt, 4);
		c->scale = sqlite3_column_int(stmt, 5);
		c->max_length = sqlite3_column_int(stmt, 6);
		c->key_ordinal = sqlite3_column_int(stmt, 7);
		c->dropped = sqlite3_column_int(stmt, 8);
		if (!c->dropped)
			rt->ncols++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, "load columns"));
	rt->mask = xcalloc(rt->ncols + 1, 1);
	return (0);
}

/* (Re)load a handle from the file: source names, position, columns. */
static int
replica_table_load(struct replica_table *rt, char **cause)
{
	sqlite3_stmt *stmt;
	const void *p;
	int rc, n;

	replica_table_clear(rt);
	if (replica_prepare(rt->r,
		"SELECT source_db, source_schema, source_table, pos, "
		"backfill_mark, mode FROM _replica_tables WHERE "
		"replica_table = ?1",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_text(stmt, 1, rt->name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rt->db = xstrdup((const char *)sqlite3_column_text(stmt, 0));
		rt->schema =
		    xstrdup((const char *)sqlite3_column_text(stmt, 1));
		rt->table = xstrdup((const char *)sqlite3_column_text(stmt, 2));
		p = sqlite3_column_blob(stmt, 3);
		n = sqlite3_column_bytes(stmt, 3);
		if (!rt->dirty) /* else this transaction's is newer */
			rt->poslen = 0;
		if (!rt->dirty && p != NULL && n > 0 && n <= FRAME_MAX_POS) {
			memcpy(rt->pos, p, n);
			rt->poslen = n;
		}
		rt->has_mark = sqlite3_column_type(stmt, 4) != SQLITE_NULL;
		rt->mark = sqlite3_column_int64(stmt, 4);
		rt->mode = sqlite3_column_int(stmt, 5);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, "load table"));
	rt->gone = rc == SQLITE_DONE;
	if (rt->gone)
		return (0);
	return (replica_load_columns(rt, cause));
}

/* The replica name recorded for a source table: 1, 0 none, -1 error. */
static int
replica_find_name(
    struct replica *r, const struct frame_schema *s, char **namep, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	*namep = NULL;
	if (replica_prepare(r,
		"SELECT replica_table FROM _replica_tables WHERE "
		"source_db = ?1 AND source_schema = ?2 AND source_table = ?3",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_text(stmt, 1, s->db, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, s->schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, s->table, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*namep = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (replica_fail(r, cause, "mapping lookup"));
	return (rc == SQLITE_ROW);
}

/* Record a column (new or changed) in _replica_columns. */
static int
replica_column_put(struct replica_table *rt, const struct frame_column *c,
    const char *rname, size_t ordinal, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (replica_prepare(rt->r,
		"INSERT INTO _replica_columns (replica_table, rname, name, "
		"ordinal, type_name, type_id, precision, scale, max_length, "
		"key_ordinal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		"ON CONFLICT (replica_table, rname) DO UPDATE SET "
		"ordinal = excluded.ordinal, type_name = excluded.type_name, "
		"type_id = excluded.type_id, precision = excluded.precision, "
		"scale = excluded.scale, max_length = excluded.max_length",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_text(stmt, 1, rt->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, rname, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)ordinal);
	sqlite3_bind_text(stmt, 5, c->type_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, c->type_id);
	sqlite3_bind_int64(stmt, 7, c->precision);
	sqlite3_bind_int64(stmt, 8, c->scale);
	sqlite3_bind_int64(stmt, 9, c->max_length);
	sqlite3_bind_int64(stmt, 10, c->key_ordinal);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, "column record"));
	return (0);
}

/* Append "col TYPE, ..." for the active columns (comma-separated). */
static void
replica_coldefs(const struct replica_table *rt, struct json_buf *b)
{
	const char *type;
	char *q;
	size_t i;

	for (i = 0; i < rt->ncols; i++) {
		q = replica_quote(rt->cols[i].rname);
		type = replica_sqlite_type(rt->cols[i].type_id);
		json_add(b, ", ", i > 0 ? 2 : 0);
		json_add(b, q, strlen(q));
		json_add(b, " ", 1);
		json_add(b, type, strlen(type));
		free(q);
	}
}

/* Append the key columns, in key order. */
static void
replica_keydefs(const struct replica_table *rt, struct json_buf *b)
{
	char *q;
	size_t i, k, n = 0;

	for (k = 1; k <= rt->ncols; k++)
		for (i = 0; i < rt->ncols; i++) {
			if (rt->cols[i].key_ordinal != k)
				continue;
			q = replica_quote(rt->cols[i].rname);
			json_add(b, ", ", n++ > 0 ? 2 : 0);
			json_add(b, q, strlen(q));
			free(q);
		}
}

/* CREATE the replica and journal tables of a new source table. */
static int
replica_create_tables(struct replica *r, const char *name,
    const struct frame_schema *s, char **cause)
{
	struct replica_table *rt;
	struct replica_column *c;
	struct json_buf b;
	char *sql;
	size_t i;
	int rc;

	rt = replica_table_cached(r, name);
	for (i = 0; i < s->ncolumns; i++) {
		rt->cols =
		    xreallocarray(rt->cols, rt->nall + 1, sizeof(*rt->cols));
		c = &rt->cols[rt->nall];
		memset(c, 0, sizeof(*c));
		c->rname = replica_column_unique(rt, s->columns[i].name);
		c->name = xstrdup(s->columns[i].name);
		c->type_name = xstrdup(s->columns[i].type_name);
		c->type_id = s->columns[i].type_id;
		c->key_ordinal = s->columns[i].key_ordinal;
		rt->nall++;
		rt->ncols++;
		if (replica_column_put(
			rt, &s->columns[i], c->rname, i, cause) != 0)
			return (-1);
	}
	json_buf_init(&b);
	json_add(&b, "CREATE TABLE ", 13);
	json_add(&b, rt->qname, strlen(rt->qname));
	json_add(&b, " (", 2);
	replica_coldefs(rt, &b);
	json_add(&b, REPLICA_META_DEFS ", PRIMARY KEY (",
	    strlen(REPLICA_META_DEFS ", PRIMARY KEY ("));
	replica_keydefs(rt, &b);
	json_add(&b, "))", 2);
	sql = replica_buf_str(&b);
	rc = replica_exec(r, sql, cause);
	free(sql);
	if (rc != 0)
		return (-1);
	json_add(&b, "CREATE TABLE ", 13);
	json_add(&b, rt->qjournal, strlen(rt->qjournal));
	json_add(&b, " (" REPLICA_JOURNAL_DEFS ", ",
	    strlen(" (" REPLICA_JOURNAL_DEFS ", "));
	replica_coldefs(rt, &b);
	json_add(&b, ")", 1);
	sql = replica_buf_str(&b);
	rc = replica_exec(r, sql, cause);
	free(sql);
	return (rc);
}

/* Make the mapping and the tables of a source table seen first. */
static int
replica_create(
    struct replica *r, const struct frame_schema *s, char **namep, char **cause)
{
	sqlite3_stmt *stmt;
	char *base, *name;
	int rc;

	base = replica_name_encode(s->db, s->schema, s->table);
	name = replica_name_unique(r, base, cause);
	free(base);
	if (name == NULL)
		return (-1);
	if (replica_prepare(r,
		"INSERT INTO _replica_tables (replica_table, journal_table, "
		"source_db, source_schema, source_table, created_at, "
		"updated_at) VALUES (?1, ?1 || '" REPLICA_JOURNAL_SUFFIX
		"', ?2, ?3, ?4, " REPLICA_NOW ", " REPLICA_NOW ")",
		&stmt, cause) != 0) {
		free(name);
		return (-1);
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, s->db, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, s->schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, s->table, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		free(name);
		return (replica_fail(r, cause, "mapping insert"));
	}
	if (replica_table_cached(r, name) == NULL)
		replica_table_new(r, name);
	if (replica_create_tables(r, name, s, cause) != 0) {
		free(name);
		return (-1);
	}
	*namep = name;
	return (0);
}

/* The key must not change: same columns, same order. */
static int
replica_keys_match(
    const struct replica_table *rt, const struct frame_schema *s, char **cause)
{
	const struct frame_column *c;
	size_t i, j, nkeys = 0;

	for (i = 0; i < s->ncolumns; i++) {
		c = &s->columns[i];
		if (c->key_ordinal == 0)
			continue;
		nkeys++;
		for (j = 0; j < rt->ncols; j++)
			if (rt->cols[j].key_ordinal == c->key_ordinal &&
			    strcmp(rt->cols[j].name, c->name) == 0)
				break;
		if (j == rt->ncols)
			goto changed;
	}
	for (j = 0; j < rt->ncols; j++)
		nkeys -= rt->cols[j].key_ordinal != 0;
	if (nkeys == 0)
		return (0);
changed:
	xasprintf(
	    cause, "%s.%s.%s: primary key changed", s->db, s->schema, s->table);
	return (-1);
}

/* ALTER TABLE the replica table and its journal alike. */
static int
replica_alter_both(struct replica_table *rt, const char *what, char **cause)
{
	char *sql;
	int rc;

	xasprintf(&sql, "ALTER TABLE %s %s; ALTER TABLE %s %s", rt->qname, what,
	    rt->qjournal, what);
	rc = replica_exec(rt->r, sql, cause);
	free(sql);
	return (rc);
}

/* Rename a column the source dropped to <name>__deleted. */
static int
replica_drop_column(
    struct replica_table *rt, struct replica_column *c, char **cause)
{
	sqlite3_stmt *stmt;
	char *base, *rname, *sql, *qold, *qnew;
	int rc;

	xasprintf(&base, "%s%s", c->rname, REPLICA_DROPPED_SUFFIX);
	rname = replica_column_unique(rt, base);
	free(base);
	qold = replica_quote(c->rname);
	qnew = replica_quote(rname);
	xasprintf(&sql, "RENAME COLUMN %s TO %s", qold, qnew);
	rc = replica_alter_both(rt, sql, cause);
	free(sql);
	free(qold);
	free(qnew);
	if (rc == 0)
		rc = replica_prepare(rt->r,
		    "UPDATE _replica_columns SET rname = ?3, dropped = 1, "
		    "ordinal = NULL, dropped_at = " REPLICA_NOW
		    " WHERE replica_table = ?1 AND rname = ?2",
		    &stmt, cause);
	if (rc == 0) {
		sqlite3_bind_text(stmt, 1, rt->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, c->rname, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, rname, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			rc = replica_fail(rt->r, cause, "drop column");
		sqlite3_finalize(stmt);
	}
	if (rc != 0) {
		free(rname);
		return (-1);
	}
	free(c->rname);
	c->rname = rname;
	c->dropped = 1;
	return (0);
}

/* Add a column the source added (existing rows NULL). */
static int
replica_add_column(struct replica_table *rt, const struct frame_column *c,
    size_t ordinal, char **cause)
{
	char *rname, *q, *sql;
	int rc;

	rname = replica_column_unique(rt, c->name);
	q = replica_quote(rname);
	xasprintf(&sql, "ADD COLUMN %s %s", q, replica_sqlite_type(c->type_id));
	rc = replica_alter_both(rt, sql, cause);
	free(sql);
	free(q);
	if (rc == 0)
		rc = replica_column_put(rt, c, rname, ordinal, cause);
	if (rc == 0) {
		rt->cols =
		    xreallocarray(rt->cols, rt->nall + 1, sizeof(*rt->cols));
		memset(&rt->cols[rt->nall], 0, sizeof(rt->cols[0]));
		rt->cols[rt->nall].name = xstrdup(c->name);
		rt->cols[rt->nall].rname = rname;
		rt->cols[rt->nall++].type_name = xstrdup(c->type_name);
	} else
		free(rname);
	return (rc);
}

/*
 * The index in s of a replica column, or s->ncolumns if the source no
 * longer has it.  A column whose type now needs another SQLite type
 * counts as dropped (and is added anew): an INTEGER column would turn
 * the text of a new nvarchar into numbers.
 */
static size_t
replica_schema_find(
    const struct frame_schema *s, const struct replica_column *c)
{
	size_t i;

	for (i = 0; i < s->ncolumns; i++) {
		if (strcmp(s->columns[i].name, c->name) != 0)
			continue;
		if (strcmp(replica_sqlite_type(s->columns[i].type_id),
			replica_sqlite_type(c->type_id)) != 0)
			return (s->ncolumns);
		return (i);
	}
	return (s->ncolumns);
}

/* Bring an existing table to a new source schema. */
static int
replica_evolve(
    struct replica_table *rt, const struct frame_schema *s, char **cause)
{
	size_t i, j, nall = rt->nall;

	if (replica_keys_match(rt, s, cause) != 0)
		return (-1);
	for (j = 0; j < nall; j++) {
		if (rt->cols[j].dropped)
			continue;
		i = replica_schema_find(s, &rt->cols[j]);
		if (i == s->ncolumns &&
		    replica_drop_column(rt, &rt->cols[j], cause) != 0)
			return (-1);
	}
	for (i = 0; i < s->ncolumns; i++) {
		for (j = 0; j < nall; j++)
			if (!rt->cols[j].dropped &&
			    strcmp(s->columns[i].name, rt->cols[j].name) == 0)
				break;
		if (j < nall) {
			if (replica_column_put(rt, &s->columns[i],
				rt->cols[j].rname, i, cause) != 0)
				return (-1);
		} else if (replica_add_column(rt, &s->columns[i], i, cause) !=
		    0)
			return (-1);
	}
	return (0);
}

/* replica_apply_schema() inside an open transaction. */
static int
replica_schema_in_txn(struct replica *r, const struct frame_schema *s,
    struct replica_table **rtp, char **cause)
{
	struct replica_table *rt;
	char *name = NULL;
	int found;

	if ((found = replica_find_name(r, s, &name, cause)) == -1)
		return (-1);
	if (!found && replica_create(r, s, &name, cause) != 0)
		return (-1);
	if ((rt = replica_table_cached(r, name)) == NULL)
		rt = replica_table_new(r, name);
	free(name);
	if (found && replica_table_load(rt, cause) != 0)
		return (-1);
	if (found && replica_evolve(rt, s, cause) != 0)
		return (-1);
	if (replica_table_load(rt, cause) != 0 ||
	    replica_mode_store(rt, s->mode, cause) != 0)
		return (-1);
	*rtp = rt;
	return (0);
}

/*
 * Create or evolve the replica table of a source table (top of file)
 * and return its handle, owned by the replica.  In the open
 * transaction if there is one, else in its own.  NULL on error.
 */
struct replica_table *
replica_apply_schema(
    struct replica *r, const struct frame_schema *s, char **cause)
{
	struct replica_table *rt = NULL;
	size_t i, nkeys = 0;
	int own = !r->in_txn;

	for (i = 0; i < s->ncolumns; i++)
		nkeys += s->columns[i].key_ordinal != 0;
	if (nkeys == 0) {
		xasprintf(cause, "%s.%s.%s: no primary key", s->db, s->schema,
		    s->table);
		return (NULL);
	}
	if (own && replica_begin(r, cause) != 0)
		return (NULL);
	if (replica_schema_in_txn(r, s, &rt, cause) != 0) {
		if (own)
			replica_rollback(r);
		return (NULL);
	}
	if (own && replica_commit(r, cause) != 0) {
		replica_rollback(r);
		return (NULL);
	}
	return (rt);
}

/* INSERT .. ON CONFLICT DO UPDATE for the columns in rt->mask. */
static char *
replica_upsert_sql(const struct replica_table *rt)
{
	struct json_buf b;
	char *q, n[64];
	size_t i, np = 0;

	json_buf_init(&b);
	json_add(&b, "INSERT INTO ", 12);
	json_add(&b, rt->qname, strlen(rt->qname));
	json_add(&b, " (", 2);
	for (i = 0; i < rt->ncols; i++) {
		if (!rt->mask[i])
			continue;
		q = replica_quote(rt->cols[i].rname);
		json_add(&b, q, strlen(q));
		json_add(&b, ", ", 2);
		free(q);
		np++;
	}
	json_add(&b,
	    "\"_inserted_at\", \"_updated_at\", \"_deleted\") VALUES (",
	    strlen(
		"\"_inserted_at\", \"_updated_at\", \"_deleted\") VALUES ("));
	for (i = 1; i <= np + 2; i++) {
		snprintf(n, sizeof(n), "?%zu, ", i);
		json_add(&b, n, strlen(n));
	}
	snprintf(n, sizeof(n), "?%zu) ON CONFLICT (", np + 3);
	json_add(&b, n, strlen(n));
	replica_add_keys(rt, &b);
	json_add(&b, ") DO UPDATE SET ", 16);
	for (i = 0; i < rt->ncols; i++) {
		if (!rt->mask[i] || rt->cols[i].key_ordinal != 0)
			continue;
		q = replica_quote(rt->cols[i].rname);
		json_add(&b, q, strlen(q));
		json_add(&b, " = excluded.", 12);
		json_add(&b, q, strlen(q));
		json_add(&b, ", ", 2);
		free(q);
	}
	json_add(&b,
	    "\"_updated_at\" = excluded.\"_updated_at\", "
	    "\"_deleted\" = excluded.\"_deleted\"",
	    strlen("\"_updated_at\" = excluded.\"_updated_at\", "
		   "\"_deleted\" = excluded.\"_deleted\""));
	return (replica_buf_str(&b));
}

/* The cached upsert for rt->mask, prepared on first use (LRU of 4). */
static sqlite3_stmt *
replica_upsert_stmt(struct replica_table *rt, char **cause)
{
	struct replica_upsert *u, *victim = &rt->up[0];
	char *sql;
	size_t i;

	for (i = 0; i < REPLICA_NUPSERTS; i++) {
		u = &rt->up[i];
		if (u->stmt != NULL &&
		    memcmp(u->mask, rt->mask, rt->ncols) == 0) {
			u->used = ++rt->upclock;
			return (u->stmt);
		}
		if (u->used < victim->used)
			victim = u;
	}
	sqlite3_finalize(victim->stmt);
	free(victim->mask);
	memset(victim, 0, sizeof(*victim));
	sql = replica_upsert_sql(rt);
	if (replica_prepare(rt->r, sql, &victim->stmt, cause) != 0) {
		free(sql);
		return (NULL);
	}
	free(sql);
	victim->mask = xmalloc(rt->ncols + 1);
	memcpy(victim->mask, rt->mask, rt->ncols);
	victim->used = ++rt->upclock;
	return (victim->stmt);
}

/* Bind a frame value with the SQLite type of its column. */
static void
replica_bind_value(sqlite3_stmt *stmt, int idx, const struct frame_value *v)
{
	switch (v->type) {
	case FRAME_VALUE_INT:
		sqlite3_bind_int64(stmt, idx, v->v.i);
		break;
	case FRAME_VALUE_BOOL:
		sqlite3_bind_int(stmt, idx, v->v.b != 0);
		break;
	case FRAME_VALUE_REAL:
		sqlite3_bind_double(stmt, idx, (double)v->v.real);
		break;
	case FRAME_VALUE_FLOAT:
		sqlite3_bind_double(stmt, idx, v->v.flt);
		break;
	case FRAME_VALUE_STR:
		sqlite3_bind_text64(stmt, idx, (const char *)v->v.s.ptr,
		    v->v.s.len, SQLITE_STATIC, SQLITE_UTF8);
		break;
	case FRAME_VALUE_BIN:
		sqlite3_bind_blob64(
		    stmt, idx, v->v.s.ptr, v->v.s.len, SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(stmt, idx);
		break;
	}
}

/* Upsert the row of an event (a delete sets _deleted). */
static int
replica_write_row(struct replica_table *rt, const struct frame_event *ev,
    const char *ts, char **cause)
{
	sqlite3_stmt *stmt;
	size_t i;
	int idx = 1, rc;

	for (i = 0; i < rt->ncols; i++) {
		rt->mask[i] = ev->values[i].type != FRAME_VALUE_ABSENT;
		if (rt->cols[i].key_ordinal != 0 &&
		    (!rt->mask[i] || ev->values[i].type == FRAME_VALUE_NULL)) {
			xasprintf(cause, "%s: event without key column %s",
			    rt->name, rt->cols[i].name);
			return (-1);
		}
	}
	if ((stmt = replica_upsert_stmt(rt, cause)) == NULL)
		return (-1);
	for (i = 0; i < rt->ncols; i++)
		if (rt->mask[i])
			replica_bind_value(stmt, idx++, &ev->values[i]);
	sqlite3_bind_text(stmt, idx++, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, idx++, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, idx, ev->op == FRAME_OP_DELETE);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, rt->name));
	return (0);
}

/* A row image as a JSON object by source column name (absent left out). */
static void
replica_json_row(const struct replica_table *rt, struct json_buf *b,
    const struct frame_value *values)
{
	size_t i;
	int n = 0;

	json_buf_reset(b);
	json_add(b, "{", 1);
	for (i = 0; i < rt->ncols; i++) {
		if (values[i].type == FRAME_VALUE_ABSENT)
			continue;
		json_add(b, ",", n++ > 0);
		json_write_string(
		    b, rt->cols[i].name, strlen(rt->cols[i].name));
		json_add(b, ":", 1);
		json_write_value(b, &values[i]);
	}
	json_add(b, "}", 1);
}

/* The journal INSERT: metadata, then every active column. */
static char *
replica_journal_sql(const struct replica_table *rt)
{
	struct json_buf b;
	char *q, n[32];
	size_t i;

	json_buf_init(&b);
	json_add(&b, "INSERT INTO ", 12);
	json_add(&b, rt->qjournal, strlen(rt->qjournal));
	json_add(&b,
	    " (\"_op\", \"_pos\", \"_ts\", \"_snapshot\", \"_applied_at\", "
	    "\"_absent\", \"_before\"",
	    strlen(" (\"_op\", \"_pos\", \"_ts\", \"_snapshot\", "
		   "\"_applied_at\", \"_absent\", \"_before\""));
	for (i = 0; i < rt->ncols; i++) {
		q = replica_quote(rt->cols[i].rname);
		json_add(&b, ", ", 2);
		json_add(&b, q, strlen(q));
		free(q);
	}
	json_add(&b, ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7",
	    strlen(") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7"));
	for (i = 0; i < rt->ncols; i++) {
		snprintf(n, sizeof(n), ", ?%zu", i + 8);
		json_add(&b, n, strlen(n));
	}
	json_add(&b, ")", 1);
	return (replica_buf_str(&b));
}

/* A JSON array of the names of the absent columns, "" if none. */
static void
replica_json_absent(const struct replica_table *rt, struct json_buf *b,
    const struct frame_value *values)
{
	size_t i;
	int n = 0;

	json_buf_reset(b);
	for (i = 0; i < rt->ncols; i++) {
		if (values[i].type != FRAME_VALUE_ABSENT)
			continue;
		json_add(b, n++ > 0 ? "," : "[", 1);
		json_write_string(
		    b, rt->cols[i].name, strlen(rt->cols[i].name));
	}
	json_add(b, "]", n > 0);
}

/* Append an event to the table's journal. */
static int
replica_write_journal(struct replica_table *rt, const struct frame_event *ev,
    const char *ts, char **cause)
{
	sqlite3_stmt *stmt;
	char *sql, op[2] = { (char)ev->op, '\0' };
	size_t i;
	int rc;

	if (rt->jstmt == NULL) {
		sql = replica_journal_sql(rt);
		rc = replica_prepare(rt->r, sql, &rt->jstmt, cause);
		free(sql);
		if (rc != 0)
			return (-1);
	}
	stmt = rt->jstmt;
	sqlite3_bind_text(stmt, 1, op, 1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(stmt, 2, ev->pos, (int)ev->poslen, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, ev->ts, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 4, ev->snapshot != 0);
	sqlite3_bind_text(stmt, 5, ts, -1, SQLITE_STATIC);
	replica_json_absent(rt, &rt->row, ev->values);
	if (rt->row.len > 0)
		sqlite3_bind_text64(stmt, 6, rt->row.data, rt->row.len,
		    SQLITE_STATIC, SQLITE_UTF8);
	else
		sqlite3_bind_null(stmt, 6);
	if (ev->before != NULL) {
		replica_json_row(rt, &rt->before, ev->before);
		sqlite3_bind_text64(stmt, 7, rt->before.data, rt->before.len,
		    SQLITE_STATIC, SQLITE_UTF8);
	} else
		sqlite3_bind_null(stmt, 7);
	for (i = 0; i < rt->ncols; i++)
		replica_bind_value(stmt, (int)i + 8, &ev->values[i]);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, rt->journal));
	return (0);
}

/*
 * Apply one event inside the open transaction: 0 applied, 1 skipped
 * (at or below the table's applied position), -1 on error (roll back).
 * s must be the schema last given to replica_apply_schema() for the
 * table; ts is the apply time for _inserted_at/_updated_at (NULL: now).
 */
int
replica_apply_event(struct replica_table *rt, const struct frame_schema *s,
    const struct frame_event *ev, const char *ts, char **cause)
{
	char now[40];

	if (!rt->r->in_txn || rt->r->readonly || rt->gone ||
	    s->ncolumns != rt->ncols) {
		xasprintf(cause, "%s: %s", rt->name,
		    !rt->r->in_txn        ? "no open transaction"
			: rt->r->readonly ? "replica is read-only"
			: rt->gone ? "table rolled back: apply its schema"
				   : "event does not match the schema");
		return (-1);
	}
	if (rt->poslen > 0 &&
	    frame_pos_cmp(ev->pos, ev->poslen, rt->pos, rt->poslen) <= 0)
		return (1);
	if (ev->snapshot && !rt->has_mark &&
	    replica_backfill_begin(rt, 0, cause) != 0)
		return (-1);
	if (ts == NULL) {
		clock_rfc3339(now, sizeof(now));
		ts = now;
	}
	if (replica_write_row(rt, ev, ts, cause) != 0 ||
	    replica_write_journal(rt, ev, ts, cause) != 0)
		return (-1);
	memcpy(rt->pos, ev->pos, ev->poslen);
	rt->poslen = ev->poslen;
	rt->dirty = 1;
	rt->r->txn_events++;
	return (0);
}

/* The last applied position of a table (in this transaction). */
int
replica_position(
    const struct replica_table *rt, const uint8_t **posp, size_t *lenp)
{
	*posp = rt->pos;
	*lenp = rt->poslen;
	return (rt->poslen > 0);
}

/*
 * The handle of a source table's replica table: 1 found, 0 not in the
 * replica, -1 error.  Works read-only (verify).
 */
int
replica_table_lookup(struct replica *r, const char *db, const char *schema,
    const char *table, struct replica_table **rtp, char **cause)
{
	struct frame_schema s;
	struct replica_table *rt;
	char *name;
	int found;

	*rtp = NULL;
	memset(&s, 0, sizeof(s));
	s.db = (char *)db;
	s.schema = (char *)schema;
	s.table = (char *)table;
	if ((found = replica_find_name(r, &s, &name, cause)) != 1)
		return (found);
	if ((rt = replica_table_cached(r, name)) == NULL)
		rt = replica_table_new(r, name);
	free(name);
	if (replica_table_load(rt, cause) != 0)
		return (-1);
	*rtp = rt;
	return (1);
}

/* "schema.table" of every source table of db in the replica, sorted. */
int
replica_table_list(
    struct replica *r, const char *db, char ***listp, size_t *np, char **cause)
{
	sqlite3_stmt *stmt;
	char **list = NULL;
	size_t n = 0;
	int rc;

	if (replica_prepare(r,
		"SELECT source_schema || '.' || source_table FROM "
		"_replica_tables WHERE source_db = ?1 ORDER BY 1",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_text(stmt, 1, db, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		list = xreallocarray(list, n + 1, sizeof(*list));
		list[n++] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	}
	sqlite3_finalize(stmt);
	*listp = list;
	*np = n;
	if (rc != SQLITE_DONE)
		return (replica_fail(r, cause, "table list"));
	return (0);
}

/* The replica table's name. */
const char *
replica_table_name(const struct replica_table *rt)
{
	return (rt->name);
}

/* The journal table's name. */
const char *
replica_table_journal(const struct replica_table *rt)
{
	return (rt->journal);
}

/* The active columns, in source order. */
const struct replica_column *
replica_table_columns(const struct replica_table *rt, size_t *np)
{
	*np = rt->ncols;
	return (rt->cols);
}

/*
 * Store the state's round (state_round_pack()) in the open transaction:
 * it commits with the rows (state/round.c says why).
 */
int
replica_round_set(struct replica *r, uint64_t round, const uint8_t *blob,
    size_t len, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (!r->in_txn || r->readonly || round > INT64_MAX) {
		xasprintf(cause, "%s: cannot store round %llu here", r->path,
		    (unsigned long long)round);
		return (-1);
	}
	if (replica_prepare(r,
		"INSERT INTO _replica_round (id, round, state, updated_at) "
		"VALUES (1, ?1, ?2, " REPLICA_NOW ") ON CONFLICT (id) DO "
		"UPDATE SET round = excluded.round, state = excluded.state, "
		"updated_at = excluded.updated_at",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)round);
	sqlite3_bind_blob(stmt, 2, blob, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(r, cause, "store round"));
	return (0);
}

/*
 * The last stored round: 1 with *roundp and a copy of the blob, 0 when
 * none was ever stored, -1 and *cause on error.
 */
int
replica_round_get(struct replica *r, uint64_t *roundp, uint8_t **blobp,
    size_t *lenp, char **cause)
{
	sqlite3_stmt *stmt;
	const void *p;
	int rc, found = 0;

	*blobp = NULL;
	*lenp = 0;
	if (replica_prepare(r, "SELECT round, state FROM _replica_round", &stmt,
		cause) != 0)
		return (-1);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*roundp = (uint64_t)sqlite3_column_int64(stmt, 0);
		*lenp = (size_t)sqlite3_column_bytes(stmt, 1);
		*blobp = xmalloc(*lenp == 0 ? 1 : *lenp);
		if ((p = sqlite3_column_blob(stmt, 1)) != NULL)
			memcpy(*blobp, p, *lenp);
		found = 1;
		rc = sqlite3_step(stmt);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		free(*blobp);
		*blobp = NULL;
		return (replica_fail(r, cause, "read round"));
	}
	return (found);
}

/* Append a C string to a SQL buffer. */
static void
replica_add(struct json_buf *b, const char *s)
{
	json_add(b, s, strlen(s));
}

/* The highest _seq of the table's journal, 0 when it is empty. */
static int
replica_journal_max(struct replica_table *rt, int64_t *maxp, char **cause)
{
	sqlite3_stmt *stmt;
	char *sql;
	int rc;

	xasprintf(
	    &sql, "SELECT COALESCE(MAX(\"_seq\"), 0) FROM %s", rt->qjournal);
	rc = replica_prepare(rt->r, sql, &stmt, cause);
	free(sql);
	if (rc != 0)
		return (-1);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*maxp = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return (replica_fail(rt->r, cause, rt->journal));
	return (0);
}

/* Store the table's backfill mark (set 0: clear it). */
static int
replica_mark_store(
    struct replica_table *rt, int set, int64_t mark, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (replica_prepare(rt->r,
		"UPDATE _replica_tables SET backfill_mark = ?1 WHERE "
		"replica_table = ?2",
		&stmt, cause) != 0)
		return (-1);
	if (set)
		sqlite3_bind_int64(stmt, 1, mark);
	sqlite3_bind_text(stmt, 2, rt->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, "store backfill mark"));
	rt->has_mark = set;
	rt->mark = set ? mark : 0;
	return (0);
}

/*
 * A backfill of the table starts (top of file): mark the end of its
 * journal.  clear_pos forgets the applied position as well, for a
 * backfill whose positions start afresh.  In the open transaction.
 */
int
replica_backfill_begin(struct replica_table *rt, int clear_pos, char **cause)
{
	int64_t mark;

	if (!rt->r->in_txn || rt->r->readonly || rt->gone) {
		xasprintf(cause, "%s: cannot mark a backfill: %s", rt->name,
		    rt->gone ? "table rolled back" : "no open transaction");
		return (-1);
	}
	if (replica_journal_max(rt, &mark, cause) != 0 ||
	    replica_mark_store(rt, 1, mark, cause) != 0)
		return (-1);
	if (clear_pos) {
		rt->poslen = 0;
		rt->dirty = 1;
	}
	log_debug("%s: backfill starts after journal entry %lld%s", rt->name,
	    (long long)mark, clear_pos ? ", positions start afresh" : "");
	return (0);
}

/* "k1, k2, ...": the quoted key columns, in column order. */
static void
replica_add_keys(const struct replica_table *rt, struct json_buf *b)
{
	char *q;
	size_t i;
	int n = 0;

	for (i = 0; i < rt->ncols; i++) {
		if (rt->cols[i].key_ordinal == 0)
			continue;
		q = replica_quote(rt->cols[i].rname);
		json_add(b, ", ", n++ > 0 ? 2 : 0);
		json_add(b, q, strlen(q));
		free(q);
	}
}

/* "s.k1 = <table>.k1 AND ..." over the key columns. */
static void
replica_key_match(
    const struct replica_table *rt, const char *table, struct json_buf *b)
{
	char *q;
	size_t i;
	int n = 0;

	for (i = 0; i < rt->ncols; i++) {
		if (rt->cols[i].key_ordinal == 0)
			continue;
		q = replica_quote(rt->cols[i].rname);
		json_add(b, " AND ", n++ > 0 ? 5 : 0);
		json_add(b, "s.", 2);
		json_add(b, q, strlen(q));
		json_add(b, " = ", 3);
		json_add(b, table, strlen(table));
		json_add(b, ".", 1);
		json_add(b, q, strlen(q));
		free(q);
	}
}

/*
 * The reconcile statements: journal (1) or update (0) the live rows
 * whose key is not in temp._replica_seen.  ?1 _pos, ?2 now.
 */
static char *
replica_reconcile_sql(const struct replica_table *rt, int journal)
{
	struct json_buf b;
	char *q;
	size_t i;

	json_buf_init(&b);
	if (journal) {
		json_add(&b, "INSERT INTO ", 12);
		json_add(&b, rt->qjournal, strlen(rt->qjournal));
		replica_add(&b,
		    " (\"_op\", \"_pos\", \"_ts\", \"_snapshot\", "
		    "\"_applied_at\"");
		for (i = 0; i < rt->nall; i++) {
			q = replica_quote(rt->cols[i].rname);
			json_add(&b, ", ", 2);
			json_add(&b, q, strlen(q));
			free(q);
		}
		replica_add(&b, ") SELECT 'd', ?1, ?2, 1, ?2");
		for (i = 0; i < rt->nall; i++) {
			q = replica_quote(rt->cols[i].rname);
			json_add(&b, ", ", 2);
			json_add(&b, rt->qname, strlen(rt->qname));
			json_add(&b, ".", 1);
			json_add(&b, q, strlen(q));
			free(q);
		}
		json_add(&b, " FROM ", 6);
	} else {
		json_add(&b, "UPDATE ", 7);
		json_add(&b, rt->qname, strlen(rt->qname));
		replica_add(&b, " SET \"_deleted\" = 1, \"_updated_at\" = ?2");
	}
	if (journal)
		json_add(&b, rt->qname, strlen(rt->qname));
	replica_add(&b,
	    " WHERE \"_deleted\" = 0 AND NOT EXISTS (SELECT 1 FROM "
	    "temp.\"_replica_seen\" AS s WHERE ");
	replica_key_match(rt, rt->qname, &b);
	json_add(&b, ")", 1);
	return (replica_buf_str(&b));
}

/* temp._replica_seen: the keys journaled after the mark, indexed. */
static int
replica_reconcile_seen(struct replica_table *rt, char **cause)
{
	struct json_buf b;
	char *sql, n[32];
	int rc;

	json_buf_init(&b);
	replica_add(&b,
	    "DROP TABLE IF EXISTS temp.\"_replica_seen\"; "
	    "CREATE TEMP TABLE \"_replica_seen\" AS SELECT DISTINCT ");
	replica_add_keys(rt, &b);
	json_add(&b, " FROM ", 6);
	json_add(&b, rt->qjournal, strlen(rt->qjournal));
	snprintf(n, sizeof(n), " WHERE \"_seq\" > %lld; ", (long long)rt->mark);
	json_add(&b, n, strlen(n));
	replica_add(&b,
	    "CREATE INDEX temp.\"_replica_seen_key\" ON "
	    "\"_replica_seen\" (");
	replica_add_keys(rt, &b);
	json_add(&b, ")", 1);
	sql = replica_buf_str(&b);
	rc = replica_exec(rt->r, sql, cause);
	free(sql);
	return (rc);
}

/* Run one reconcile statement (journal or update); *np rows. */
static int
replica_reconcile_run(struct replica_table *rt, const char *now, int journal,
    uint64_t *np, char **cause)
{
	sqlite3_stmt *stmt;
	char *sql;
	int rc;

	sql = replica_reconcile_sql(rt, journal);
	rc = replica_prepare(rt->r, sql, &stmt, cause);
	free(sql);
	if (rc != 0)
		return (-1);
	sqlite3_bind_blob(stmt, 1, rt->pos, (int)rt->poslen, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, "reconcile"));
	*np = (uint64_t)sqlite3_changes(rt->r->db);
	return (0);
}

/*
 * The table's backfill is complete and all its events are applied:
 * soft-delete the rows it did not see (the rule at the top of the
 * file), in the open transaction, and clear the mark.  ts is the time
 * to record (NULL: now); *np the rows deleted.  Without a mark this
 * does nothing.
 */
int
replica_backfill_end(
    struct replica_table *rt, const char *ts, uint64_t *np, char **cause)
{
	char now[40];
	uint64_t journaled, deleted;

	*np = 0;
	if (!rt->r->in_txn || rt->r->readonly || rt->gone) {
		xasprintf(cause, "%s: cannot reconcile: %s", rt->name,
		    rt->gone ? "table rolled back" : "no open transaction");
		return (-1);
	}
	if (!rt->has_mark)
		return (0);
	if (rt->mark == 0) /* every row came with a journal entry */
		return (replica_mark_store(rt, 0, 0, cause));
	if (ts == NULL) {
		clock_rfc3339(now, sizeof(now));
		ts = now;
	}
	if (replica_reconcile_seen(rt, cause) != 0 ||
	    replica_reconcile_run(rt, ts, 1, &journaled, cause) != 0 ||
	    replica_reconcile_run(rt, ts, 0, &deleted, cause) != 0 ||
	    replica_exec(rt->r, "DROP TABLE temp.\"_replica_seen\"", cause) !=
		0 ||
	    replica_mark_store(rt, 0, 0, cause) != 0)
		return (-1);
	if (journaled != deleted) {
		xasprintf(cause,
		    "%s: reconcile journaled %llu rows but deleted %llu",
		    rt->name, (unsigned long long)journaled,
		    (unsigned long long)deleted);
		return (-1);
	}
	*np = deleted;
	return (0);
}

/*
 * The table's events now come in mode: record it, and forget a
 * position taken in another mode (top of file).
 */
static int
replica_mode_store(struct replica_table *rt, int mode, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (rt->mode == mode)
		return (0);
	if (rt->mode != 0 && rt->poslen > 0) {
		log_info("%s: capture mode changed from %s to %s: its "
			 "position starts afresh",
		    rt->name, frame_mode_name(rt->mode), frame_mode_name(mode));
		rt->poslen = 0;
		rt->dirty = 1;
	}
	if (replica_prepare(rt->r,
		"UPDATE _replica_tables SET mode = ?1 WHERE replica_table = ?2",
		&stmt, cause) != 0)
		return (-1);
	sqlite3_bind_int(stmt, 1, mode);
	sqlite3_bind_text(stmt, 2, rt->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return (replica_fail(rt->r, cause, "store mode"));
	rt->mode = mode;
	return (0);
}
