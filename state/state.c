/*
 * The supervisor's durable state: one SQLite file.
 *
 * What it holds: one row per bound table (its id, mode, phase, the
 * worker's resumable cursor, the last backfilled key, the highest
 * position already emitted, counters and the last failure) and one row
 * for the output (the seq of the last emitted event and the byte offset
 * of the output file after it).
 *
 * When it is durable: only at state_commit().  The supervisor works in
 * rounds: it merges the events of its workers up to the lowest
 * watermark, writes their lines to the output file and fsyncs it, then
 * in ONE transaction stores every table's new cursor (from the
 * watermarks the round covered) together with the new seq and file
 * offset, commits, and only after that writes to standard output.  So
 * the three always agree: the committed offset is the end of the line
 * with the committed seq, and the committed cursors resume right after
 * the events in that file prefix.
 *
 * Recovery from kill -9 at any point: SQLite in WAL mode commits
 * atomically (a transaction is in the file only once its commit frame
 * is), so after a crash the state is exactly some past commit.  On
 * start the supervisor truncates the output file to the committed
 * offset, which discards lines written after the last commit, and the
 * workers resume from the committed cursors, so those events are
 * captured again and numbered from the committed seq: the file holds
 * each event exactly once.  Lines that reached standard output after
 * the commit are emitted again with their seq (at-least-once; the
 * consumer drops seq it has seen).  A crash inside state_begin()..
 * state_commit() loses only that uncommitted round.
 *
 * Why synchronous=FULL, not NORMAL: kill -9 alone needs only WAL
 * atomicity, and NORMAL would do.  But with NORMAL a power loss can
 * roll back commits whose events were already printed; the next run
 * would then give the same seq to different events, and a consumer
 * dropping seen seq would silently lose them.  FULL syncs the WAL on
 * every commit, so an emitted seq is never reassigned; the cost is one
 * fsync per round, not per event.
 *
 * Readers in other processes (status, verify) open the file with
 * STATE_READONLY: they never write, never migrate, and in WAL mode they
 * read the last commit without blocking the daemon or being blocked by
 * its open transaction.  Both sides wait up to STATE_BUSY_TIMEOUT_MS
 * for the rare locks WAL still takes (recovery, checkpoints).
 *
 * The schema is versioned with PRAGMA user_version: state_migrations[i]
 * upgrades version i to i + 1, all of them in one transaction at open;
 * a file from a newer release is refused rather than guessed at.
 *
 * Only one read-write process may use a file at a time: two daemons
 * appending to one output would number events twice.  A writer holds
 * flock(2) on "<path>-lock" (a separate file, because closing any
 * descriptor of the database itself would drop SQLite's POSIX locks);
 * the kernel releases it when the process dies, even by kill -9.
 * state_lock_holder() tells another process (status, reset) whether a
 * writer holds it, from /proc/locks, without touching the lock: even a
 * brief shared flock() could make a daemon starting at that moment
 * fail.
 *
 * Requests.  "reset TABLE" while a daemon runs cannot take the lock, so
 * it opens the file with STATE_REQUESTER (read-write, no lock, no
 * migration) and appends a row to the requests table in its own short
 * transaction; WAL lets it commit between the daemon's transactions
 * (both wait up to STATE_BUSY_TIMEOUT_MS).  The daemon polls the table
 * and, when it has reset the table, stores the reset with
 * state_table_put() and request_done set: the same statement batch
 * deletes the requests it answered, so the reset and the end of the
 * request commit together (supervisor.c).
 *
 * Progress.  Each table row also keeps the last FRAME_PROGRESS the
 * daemon received: the row estimate (sys.partitions) and the lag with
 * the time it came, so that status can show them without asking the
 * daemon.  They are advisory: the copy of a round kept in the replica
 * (round.c) does not carry them, so a round committed from there at
 * the next start resets them until the next report.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "state.h"

/* Prepared statements, made on first use and kept. */
enum state_stmt {
	STATE_STMT_GET,
	STATE_STMT_LIST,
	STATE_STMT_PUT,
	STATE_STMT_PUT_ID,
	STATE_STMT_REMOVE,
	STATE_STMT_OUTPUT_GET,
	STATE_STMT_OUTPUT_SET,
	STATE_STMT_OUTPUT_TIME,
	STATE_STMT_REQ_ADD,
	STATE_STMT_REQ_LIST,
	STATE_STMT_REQ_REMOVE,
	STATE_NSTMTS
};

struct state {
	sqlite3 *db;
	char *path;
	int lockfd; /* writer's flock, or -1 */
	int readonly;
	int requester; /* STATE_REQUESTER */
	int in_txn;
	sqlite3_stmt *stmts[STATE_NSTMTS];
};

#define STATE_TABLE_COLUMNS \
	"table_id, binding, mode, phase, cursor, backfill_key, " \
	"rows_backfilled, restarts, last_error, failed_reason, updated_at, " \
	"released, rows_estimate, lag_ms, lag_at_ms"
#define STATE_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

static const char *state_sql[STATE_NSTMTS] = {
	/* STATE_STMT_GET */
	"SELECT " STATE_TABLE_COLUMNS " FROM tables WHERE binding = ?1",
	/* STATE_STMT_LIST */
	"SELECT " STATE_TABLE_COLUMNS " FROM tables ORDER BY binding",
	/* STATE_STMT_PUT */
	"INSERT INTO tables (binding, mode, phase, cursor, backfill_key, "
	"rows_backfilled, restarts, last_error, failed_reason, updated_at, "
	"released, rows_estimate, lag_ms, lag_at_ms) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " STATE_NOW
	", ?10, ?11, ?12, ?13) "
	"ON CONFLICT (binding) DO UPDATE SET mode = excluded.mode, "
	"phase = excluded.phase, cursor = excluded.cursor, "
	"backfill_key = excluded.backfill_key, "
	"rows_backfilled = excluded.rows_backfilled, "
	"restarts = excluded.restarts, last_error = excluded.last_error, "
	"failed_reason = excluded.failed_reason, "
	"updated_at = excluded.updated_at, released = excluded.released, "
	"rows_estimate = excluded.rows_estimate, lag_ms = excluded.lag_ms, "
	"lag_at_ms = excluded.lag_at_ms",
	/* STATE_STMT_PUT_ID */
	"SELECT table_id, updated_at FROM tables WHERE binding = ?1",
	/* STATE_STMT_REMOVE */
	"DELETE FROM tables WHERE binding = ?1",
	/* STATE_STMT_OUTPUT_GET */
	"SELECT seq, byte_offset, round FROM output WHERE id = 1",
	/* STATE_STMT_OUTPUT_SET */
	"UPDATE output SET seq = ?1, byte_offset = ?2, round = ?3, "
	"updated_at = " STATE_NOW " WHERE id = 1",
	/* STATE_STMT_OUTPUT_TIME */
	"SELECT updated_at FROM output WHERE id = 1",
	/* STATE_STMT_REQ_ADD */
	"INSERT INTO requests (binding, kind, requested_at) "
	"VALUES (?1, 'reset', " STATE_NOW ")",
	/* STATE_STMT_REQ_LIST */
	"SELECT id, binding, requested_at FROM requests ORDER BY id",
	/* STATE_STMT_REQ_REMOVE */
	"DELETE FROM requests WHERE binding = ?1 AND id <= ?2",
};

/*
 * Migrations: state_migrations[i] takes user_version i to i + 1.
 * Append only; never edit one that has shipped.
 */
static const char *state_migrations[STATE_SCHEMA_VERSION] = {
	/* 0 -> 1: tables and output. */
	"CREATE TABLE tables ("
	" table_id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" binding TEXT NOT NULL UNIQUE,"
	" mode TEXT NOT NULL CHECK (mode IN ('ct', 'cdc', 'batch')),"
	" phase TEXT NOT NULL"
	"  CHECK (phase IN ('backfill', 'streaming', 'failed', 'done')),"
	" cursor BLOB,"
	" backfill_key BLOB,"
	" rows_backfilled INTEGER NOT NULL DEFAULT 0,"
	" restarts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" failed_reason TEXT,"
	" updated_at TEXT NOT NULL);"
	"CREATE TABLE output ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" seq INTEGER NOT NULL,"
	" byte_offset INTEGER NOT NULL,"
	" updated_at TEXT NOT NULL);"
	"INSERT INTO output (id, seq, byte_offset, updated_at)"
	" VALUES (1, 0, 0, " STATE_NOW ");",
	/*
	 * 1 -> 2: the highest position of each table already emitted, so
	 * that a restart drops what the workers send again below it
	 * (supervisor.c).
	 */
	"ALTER TABLE tables ADD COLUMN released BLOB;",
	/*
	 * 2 -> 3: the number of the last committed round, so that a round
	 * the replica committed and this file did not can be told and
	 * committed here at the next start (state_round_pack()).
	 */
	"ALTER TABLE output ADD COLUMN round INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 3 -> 4: requests from other processes (reset TABLE), and the
	 * last progress report of each table (status).
	 */
	"CREATE TABLE requests ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" binding TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('reset')),"
	" requested_at TEXT NOT NULL);"
	"ALTER TABLE tables ADD COLUMN rows_estimate INTEGER NOT NULL "
	"DEFAULT 0;"
	"ALTER TABLE tables ADD COLUMN lag_ms INTEGER;"
	"ALTER TABLE tables ADD COLUMN lag_at_ms INTEGER;",
};

static int state_fail(struct state *, char **, const char *);
static int state_exec(struct state *, const char *, char **);
static int state_user_version(struct state *, int *, char **);
static int state_configure(struct state *, char **);
static int state_migrate(struct state *, char **);
static int state_check_version(struct state *, char **);
static int state_lock(struct state *, char **);
static sqlite3_stmt *state_stmt(struct state *, enum state_stmt, char **);
static int state_step_done(struct state *, sqlite3_stmt *, char **);
static uint8_t *state_column_blob(sqlite3_stmt *, int, size_t *);
static char *state_column_text(sqlite3_stmt *, int);
static struct state_table *state_table_read(sqlite3_stmt *);
static void state_bind_blob(sqlite3_stmt *, int, const uint8_t *, size_t);
static void state_bind_text(sqlite3_stmt *, int, const char *);

/* Set *cause from SQLite's last error; always -1. */
static int
state_fail(struct state *st, char **cause, const char *what)
{
	xasprintf(cause, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return (-1);
}

/* Run SQL that returns no rows. */
static int
state_exec(struct state *st, const char *sql, char **cause)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return (state_fail(st, cause, sql));
	return (0);
}

/* Read PRAGMA user_version. */
static int
state_user_version(struct state *st, int *vp, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(
		st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return (state_fail(st, cause, "user_version"));
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*vp = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return (state_fail(st, cause, "user_version"));
	return (0);
}

/* Connection settings: WAL and FULL sync for the writer (see above). */
static int
state_configure(struct state *st, char **cause)
{
	sqlite3_stmt *stmt;
	const char *mode;
	int ok;

	sqlite3_busy_timeout(st->db, STATE_BUSY_TIMEOUT_MS);
	if (st->readonly)
		return (0);
	if (st->requester) /* the daemon made the file WAL */
		return (state_exec(st, "PRAGMA synchronous = FULL", cause));
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt,
		NULL) != SQLITE_OK)
		return (state_fail(st, cause, "journal_mode"));
	ok = sqlite3_step(stmt) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(stmt, 0)) != NULL &&
	    strcmp(mode, "wal") == 0;
	sqlite3_finalize(stmt);
	if (!ok)
		return (state_fail(st, cause, "cannot switch to WAL mode"));
	return (state_exec(st, "PRAGMA synchronous = FULL", cause));
}

/* Bring the schema to STATE_SCHEMA_VERSION, in one transaction. */
static int
state_migrate(struct state *st, char **cause)
{
	char sql[64];
	int v;

	if (state_exec(st, "BEGIN IMMEDIATE", cause) != 0)
		return (-1);
	if (state_user_version(st, &v, cause) != 0)
		goto fail;
	if (v > STATE_SCHEMA_VERSION) {
		xasprintf(cause,
		    "%s: state schema version %d is newer than "
		    "this release's %d",
		    st->path, v, STATE_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < STATE_SCHEMA_VERSION; v++) {
		log_info("%s: migrating state from version %d to %d", st->path,
		    v, v + 1);
		if (state_exec(st, state_migrations[v], cause) != 0)
			goto fail;
	}
	snprintf(
	    sql, sizeof(sql), "PRAGMA user_version = %d", STATE_SCHEMA_VERSION);
	if (state_exec(st, sql, cause) != 0 ||
	    state_exec(st, "COMMIT", cause) != 0)
		goto fail;
	return (0);

fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/* A read-only handle cannot migrate: the version must be current. */
static int
state_check_version(struct state *st, char **cause)
{
	int v;

	if (state_user_version(st, &v, cause) != 0)
		return (-1);
	if (v == 0) {
		xasprintf(cause, "%s: no state yet (the daemon has not run)",
		    st->path);
		return (-1);
	}
	if (v != STATE_SCHEMA_VERSION) {
		xasprintf(cause,
		    "%s: state schema version %d, this release "
		    "reads %d",
		    st->path, v, STATE_SCHEMA_VERSION);
		return (-1);
	}
	return (0);
}

/* Take the single-writer lock, without waiting. */
static int
state_lock(struct state *st, char **cause)
{
	char *lockpath;

	xasprintf(&lockpath, "%s-lock", st->path);
	st->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lockfd == -1) {
		xasprintf(cause, "%s: %s", lockpath, strerror(errno));
		free(lockpath);
		return (-1);
	}
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			xasprintf(cause,
			    "%s: in use by another mssql-capture "
			    "process",
			    st->path);
		else
			xasprintf(cause, "%s: %s", lockpath, strerror(errno));
		free(lockpath);
		return (-1);
	}
	free(lockpath);
	return (0);
}

/*
 * Open (creating and migrating unless STATE_READONLY or
 * STATE_REQUESTER) the state file.  NULL and *cause on error.
 */
struct state *
state_open(const char *path, int flags, char **cause)
{
	struct state *st;
	int oflags, rc;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->readonly = (flags & STATE_READONLY) != 0;
	st->requester = !st->readonly && (flags & STATE_REQUESTER) != 0;
	st->lockfd = -1;
	if (!st->readonly && !st->requester && state_lock(st, cause) != 0) {
		state_close(st);
		return (NULL);
	}
	oflags = st->readonly ? SQLITE_OPEN_READONLY
	    : st->requester   ? SQLITE_OPEN_READWRITE
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (st->db == NULL)
			xasprintf(cause, "%s: %s", path, sqlite3_errstr(rc));
		else
			state_fail(st, cause, "open");
		state_close(st);
		return (NULL);
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (state_configure(st, cause) != 0 ||
	    (st->readonly || st->requester ? state_check_version(st, cause)
					   : state_migrate(st, cause)) != 0) {
		state_close(st);
		return (NULL);
	}
	return (st);
}

/* Close the state file; an open transaction is rolled back. */
void
state_close(struct state *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (st->in_txn)
		state_rollback(st);
	for (i = 0; i < STATE_NSTMTS; i++)
		sqlite3_finalize(st->stmts[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("%s: close: %s", st->path, sqlite3_errmsg(st->db));
	if (st->lockfd != -1)
		close(st->lockfd); /* after the database is closed */
	free(st->path);
	free(st);
}

/* Was this handle opened read-only? */
int
state_readonly(const struct state *st)
{
	return (st->readonly);
}

/*
 * Start a transaction.  The writer takes the write lock now (IMMEDIATE)
 * so that nothing fails half-way with SQLITE_BUSY; a reader gets one
 * consistent snapshot for several reads.
 */
int
state_begin(struct state *st, char **cause)
{
	if (st->in_txn) {
		xasprintf(cause, "%s: transaction already open", st->path);
		return (-1);
	}
	if (state_exec(st, st->readonly ? "BEGIN" : "BEGIN IMMEDIATE", cause) !=
	    0)
		return (-1);
	st->in_txn = 1;
	return (0);
}

/*
 * Commit: when this returns 0, everything since state_begin() is on
 * disk.  On -1 the transaction is still open; call state_rollback().
 */
int
state_commit(struct state *st, char **cause)
{
	if (!st->in_txn) {
		xasprintf(cause, "%s: no transaction to commit", st->path);
		return (-1);
	}
	if (state_exec(st, "COMMIT", cause) != 0)
		return (-1);
	st->in_txn = 0;
	return (0);
}

/* Abandon the open transaction, if any. */
void
state_rollback(struct state *st)
{
	if (!st->in_txn)
		return;
	if (sqlite3_get_autocommit(st->db) == 0 &&
	    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		log_warnx("%s: rollback: %s", st->path, sqlite3_errmsg(st->db));
	st->in_txn = 0;
}

/* Return a prepared statement, reset and with no bindings. */
static sqlite3_stmt *
state_stmt(struct state *st, enum state_stmt which, char **cause)
{
	sqlite3_stmt *stmt = st->stmts[which];

	if (stmt == NULL) {
		if (sqlite3_prepare_v2(st->db, state_sql[which], -1, &stmt,
			NULL) != SQLITE_OK) {
			state_fail(st, cause, "prepare");
			return (NULL);
		}
		st->stmts[which] = stmt;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return (stmt);
}

/* Run a statement that returns no rows. */
static int
state_step_done(struct state *st, sqlite3_stmt *stmt, char **cause)
{
	int rc;

	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return (state_fail(st, cause, sqlite3_sql(stmt)));
	return (0);
}

/* Copy a BLOB column (NULL: no bytes). */
static uint8_t *
state_column_blob(sqlite3_stmt *stmt, int col, size_t *lenp)
{
	const void *p;
	uint8_t *copy;
	int len;

	p = sqlite3_column_blob(stmt, col);
	len = sqlite3_column_bytes(stmt, col);
	*lenp = 0;
	if (p == NULL || len <= 0)
		return (NULL);
	copy = xmalloc(len);
	memcpy(copy, p, len);
	*lenp = len;
	return (copy);
}

/* Copy a TEXT column (NULL stays NULL). */
static char *
state_column_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s;

	s = sqlite3_column_text(stmt, col);
	return (s == NULL ? NULL : xstrdup((const char *)s));
}

/* Build a state_table from a row of STATE_TABLE_COLUMNS. */
static struct state_table *
state_table_read(sqlite3_stmt *stmt)
{
	struct state_table *t;

	t = xcalloc(1, sizeof(*t));
	t->table_id = sqlite3_column_int64(stmt, 0);
	t->binding = state_column_text(stmt, 1);
	if (state_mode_parse(
		(const char *)sqlite3_column_text(stmt, 2), &t->mode) != 0)
		fatalx("state: %s: bad mode", t->binding);
	if (state_phase_parse(
		(const char *)sqlite3_column_text(stmt, 3), &t->phase) != 0)
		fatalx("state: %s: bad phase", t->binding);
	t->cursor = state_column_blob(stmt, 4, &t->cursorlen);
	t->backfill_key = state_column_blob(stmt, 5, &t->backfill_keylen);
	t->rows_backfilled = sqlite3_column_int64(stmt, 6);
	t->restarts = sqlite3_column_int64(stmt, 7);
	t->last_error = state_column_text(stmt, 8);
	t->failed_reason = state_column_text(stmt, 9);
	t->updated_at = state_column_text(stmt, 10);
	t->released = state_column_blob(stmt, 11, &t->releasedlen);
	t->rows_estimate = sqlite3_column_int64(stmt, 12);
	t->has_lag = sqlite3_column_type(stmt, 13) != SQLITE_NULL;
	t->lag_ms = sqlite3_column_int64(stmt, 13);
	t->lag_at_ms = sqlite3_column_int64(stmt, 14);
	return (t);
}

/*
 * Look a table up by binding: 1 and *tp (free with state_table_free())
 * if found, 0 if not, -1 on error.
 */
int
state_table_get(struct state *st, const char *binding, struct state_table **tp,
    char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	*tp = NULL;
	if ((stmt = state_stmt(st, STATE_STMT_GET, cause)) == NULL)
		return (-1);
	sqlite3_bind_text(stmt, 1, binding, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*tp = state_table_read(stmt);
	sqlite3_reset(stmt);
	if (rc == SQLITE_ROW)
		return (1);
	if (rc == SQLITE_DONE)
		return (0);
	return (state_fail(st, cause, "table_get"));
}

/* Every table, ordered by binding; free with state_tables_free(). */
int
state_table_list(
    struct state *st, struct state_table ***listp, size_t *np, char **cause)
{
	struct state_table **list = NULL;
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc;

	*listp = NULL;
	*np = 0;
	if ((stmt = state_stmt(st, STATE_STMT_LIST, cause)) == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		list = xreallocarray(list, n + 1, sizeof(*list));
		list[n++] = state_table_read(stmt);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		state_tables_free(list, n);
		return (state_fail(st, cause, "table_list"));
	}
	*listp = list;
	*np = n;
	return (0);
}

/* Bind bytes, or NULL when there are none. */
static void
state_bind_blob(sqlite3_stmt *stmt, int idx, const uint8_t *p, size_t len)
{
	if (p == NULL || len == 0)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_blob64(stmt, idx, p, len, SQLITE_STATIC);
}

/* Bind a string, or NULL. */
static void
state_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
}

/*
 * Insert or update a table by binding.  Its id is assigned on first
 * insert and never changes; t->table_id and t->updated_at are set from
 * the stored row.
 */
int
state_table_put(struct state *st, struct state_table *t, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = state_stmt(st, STATE_STMT_PUT, cause)) == NULL)
		return (-1);
	state_bind_text(stmt, 1, t->binding);
	state_bind_text(stmt, 2, frame_mode_name(t->mode));
	state_bind_text(stmt, 3, frame_phase_name(t->phase));
	state_bind_blob(stmt, 4, t->cursor, t->cursorlen);
	state_bind_blob(stmt, 5, t->backfill_key, t->backfill_keylen);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)t->rows_backfilled);
	sqlite3_bind_int64(stmt, 7, t->restarts);
	state_bind_text(stmt, 8, t->last_error);
	state_bind_text(stmt, 9, t->failed_reason);
	state_bind_blob(stmt, 10, t->released, t->releasedlen);
	sqlite3_bind_int64(stmt, 11, (sqlite3_int64)t->rows_estimate);
	if (t->has_lag) {
		sqlite3_bind_int64(stmt, 12, (sqlite3_int64)t->lag_ms);
		sqlite3_bind_int64(stmt, 13, t->lag_at_ms);
	}
	if (state_step_done(st, stmt, cause) != 0)
		return (-1);
	if (t->request_done != 0 &&
	    state_request_remove(st, t->binding, t->request_done, cause) != 0)
		return (-1);
	if ((stmt = state_stmt(st, STATE_STMT_PUT_ID, cause)) == NULL)
		return (-1);
	state_bind_text(stmt, 1, t->binding);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		t->table_id = sqlite3_column_int64(stmt, 0);
		free(t->updated_at);
		t->updated_at = state_column_text(stmt, 1);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW)
		return (state_fail(st, cause, "table_put"));
	return (0);
}

/* Forget a table (reset TABLE): it starts again with a backfill. */
int
state_table_remove(struct state *st, const char *binding, char **cause)
{
	sqlite3_stmt *stmt;

	if ((stmt = state_stmt(st, STATE_STMT_REMOVE, cause)) == NULL)
		return (-1);
	sqlite3_bind_text(stmt, 1, binding, -1, SQLITE_STATIC);
	return (state_step_done(st, stmt, cause));
}

/* A new table in the backfill phase, not yet stored. */
struct state_table *
state_table_create(const char *binding, enum frame_mode mode)
{
	struct state_table *t;

	t = xcalloc(1, sizeof(*t));
	t->binding = xstrdup(binding);
	t->mode = mode;
	t->phase = FRAME_PHASE_BACKFILL;
	return (t);
}

/* Free a table from state_table_create(), _get() or _list(). */
void
state_table_free(struct state_table *t)
{
	if (t == NULL)
		return;
	free(t->binding);
	free(t->cursor);
	free(t->backfill_key);
	free(t->released);
	free(t->last_error);
	free(t->failed_reason);
	free(t->updated_at);
	free(t);
}

/* Free the result of state_table_list(). */
void
state_tables_free(struct state_table **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		state_table_free(list[i]);
	free(list);
}

/* Read the last emitted seq and the output file's committed offset. */
int
state_output_get(struct state *st, struct state_output *out, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((stmt = state_stmt(st, STATE_STMT_OUTPUT_GET, cause)) == NULL)
		return (-1);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		out->seq = sqlite3_column_int64(stmt, 0);
		out->offset = sqlite3_column_int64(stmt, 1);
		out->round = sqlite3_column_int64(stmt, 2);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW)
		return (state_fail(st, cause, "output_get"));
	return (0);
}

/*
 * Store seq and offset together.  Call it inside the transaction that
 * stores the cursors of the same round (see the top of this file).
 */
int
state_output_set(struct state *st, const struct state_output *out, char **cause)
{
	sqlite3_stmt *stmt;

	if (out->seq > INT64_MAX || out->offset > INT64_MAX ||
	    out->round > INT64_MAX) {
		xasprintf(cause, "%s: output position out of range", st->path);
		return (-1);
	}
	if ((stmt = state_stmt(st, STATE_STMT_OUTPUT_SET, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)out->seq);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)out->offset);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)out->round);
	return (state_step_done(st, stmt, cause));
}

/* Parse a phase name as stored; -1 if unknown. */
int
state_phase_parse(const char *s, enum frame_phase *pp)
{
	enum frame_phase p;

	if (s == NULL)
		return (-1);
	for (p = FRAME_PHASE_BACKFILL; p <= FRAME_PHASE_MAX; p++) {
		if (strcmp(s, frame_phase_name(p)) == 0) {
			*pp = p;
			return (0);
		}
	}
	return (-1);
}

/* Parse a mode name as stored; -1 if unknown. */
int
state_mode_parse(const char *s, enum frame_mode *mp)
{
	enum frame_mode m;

	if (s == NULL)
		return (-1);
	for (m = FRAME_MODE_CT; m <= FRAME_MODE_MAX; m++) {
		if (strcmp(s, frame_mode_name(m)) == 0) {
			*mp = m;
			return (0);
		}
	}
	return (-1);
}

/*
 * Start a table over (reset TABLE, a mode change): backfill from
 * scratch.  A failure is forgotten, kept as the last error.
 */
void
state_table_reset(struct state_table *t)
{
	free(t->cursor);
	free(t->backfill_key);
	free(t->released);
	t->cursor = t->backfill_key = t->released = NULL;
	t->cursorlen = t->backfill_keylen = t->releasedlen = 0;
	t->rows_backfilled = 0;
	t->has_lag = 0;
	t->lag_ms = 0;
	t->lag_at_ms = 0;
	t->phase = FRAME_PHASE_BACKFILL;
	if (t->failed_reason != NULL) {
		free(t->last_error);
		t->last_error = t->failed_reason;
		t->failed_reason = NULL;
	}
}

/* When the output row was last stored: the last commit (RFC 3339). */
int
state_output_updated_at(struct state *st, char **atp, char **cause)
{
	sqlite3_stmt *stmt;
	int rc;

	*atp = NULL;
	if ((stmt = state_stmt(st, STATE_STMT_OUTPUT_TIME, cause)) == NULL)
		return (-1);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*atp = state_column_text(stmt, 0);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW)
		return (state_fail(st, cause, "output_updated_at"));
	return (0);
}

/*
 * Ask the daemon to reset a table: one row in requests, committed at
 * once unless a transaction is open.  *idp is the request's id.
 */
int
state_request_add(
    struct state *st, const char *binding, uint64_t *idp, char **cause)
{
	sqlite3_stmt *stmt;
	int own = !st->in_txn;

	if (st->readonly) {
		xasprintf(cause, "%s: opened read-only", st->path);
		return (-1);
	}
	if (own && state_begin(st, cause) != 0)
		return (-1);
	if ((stmt = state_stmt(st, STATE_STMT_REQ_ADD, cause)) == NULL)
		goto fail;
	sqlite3_bind_text(stmt, 1, binding, -1, SQLITE_STATIC);
	if (state_step_done(st, stmt, cause) != 0)
		goto fail;
	*idp = (uint64_t)sqlite3_last_insert_rowid(st->db);
	if (own && state_commit(st, cause) != 0)
		goto fail;
	return (0);
fail:
	if (own)
		state_rollback(st);
	return (-1);
}

/* Pending requests, oldest first; free with state_requests_free(). */
int
state_request_list(
    struct state *st, struct state_request **listp, size_t *np, char **cause)
{
	struct state_request *list = NULL, *r;
	sqlite3_stmt *stmt;
	size_t n = 0;
	int rc;

	*listp = NULL;
	*np = 0;
	if ((stmt = state_stmt(st, STATE_STMT_REQ_LIST, cause)) == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		list = xreallocarray(list, n + 1, sizeof(*list));
		r = &list[n++];
		r->id = (uint64_t)sqlite3_column_int64(stmt, 0);
		r->binding = state_column_text(stmt, 1);
		r->requested_at = state_column_text(stmt, 2);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		state_requests_free(list, n);
		return (state_fail(st, cause, "request_list"));
	}
	*listp = list;
	*np = n;
	return (0);
}

/* Forget the requests for binding with an id up to upto (answered). */
int
state_request_remove(
    struct state *st, const char *binding, uint64_t upto, char **cause)
{
	sqlite3_stmt *stmt;

	if ((stmt = state_stmt(st, STATE_STMT_REQ_REMOVE, cause)) == NULL)
		return (-1);
	sqlite3_bind_text(stmt, 1, binding, -1, SQLITE_STATIC);
	sqlite3_bind_int64(
	    stmt, 2, upto > INT64_MAX ? INT64_MAX : (sqlite3_int64)upto);
	return (state_step_done(st, stmt, cause));
}

/* Free the result of state_request_list(). */
void
state_requests_free(struct state_request *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(list[i].binding);
		free(list[i].requested_at);
	}
	free(list);
}

/*
 * Does a process hold the writer lock of the state file path?  1 and
 * *pidp (0 if unknown) if so, 0 if not, -1 if it cannot be told.
 * Read from /proc/locks (device and inode of "<path>-lock"): looking
 * never takes the lock, so it cannot make a starting daemon fail.
 */
int
state_lock_holder(const char *path, pid_t *pidp)
{
	struct stat sb;
	FILE *fp;
	char *lockpath, line[256], kind[16], dev[64];
	unsigned int maj, min;
	unsigned long long ino;
	long pid;
	int found = 0;

	*pidp = 0;
	xasprintf(&lockpath, "%s-lock", path);
	if (stat(lockpath, &sb) != 0) {
		free(lockpath);
		return (errno == ENOENT ? 0 : -1);
	}
	free(lockpath);
	if ((fp = fopen("/proc/locks", "r")) == NULL)
		return (-1);
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		/* "1: FLOCK  ADVISORY  WRITE 42 fe:00:1234 0 EOF" */
		if (sscanf(line, "%*s %15s %*s %*s %ld %63s", kind, &pid,
			dev) != 3 ||
		    strcmp(kind, "FLOCK") != 0)
			continue; /* "->" lines wait for a lock */
		if (sscanf(dev, "%x:%x:%llu", &maj, &min, &ino) != 3)
			continue;
		if (maj == major(sb.st_dev) && min == minor(sb.st_dev) &&
		    ino == (unsigned long long)sb.st_ino) {
			*pidp = (pid_t)pid;
			found = 1;
		}
	}
	fclose(fp);
	return (found);
}
