/*
 * Unit tests for state/state.c.
 *
 * The state file is what makes a restart lose nothing, so the tests
 * check the promises the supervisor builds on: what was committed is
 * there after close and reopen, and after a kill -9 in the middle of
 * the next transaction; what was rolled back or never committed is not;
 * seq and offset move together with the cursors; a read-only handle in
 * another process sees only committed state and never blocks the
 * writer; and a file is created, migrated from nothing, and refused
 * when it comes from a newer release.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "state.h"

static char dir[64];
static char path[128];

static void setup(void);
static void teardown(void);
static struct state *open_ok(int);
static struct state_table *get_ok(struct state *, const char *);
static void put_ok(struct state *, struct state_table *);
static void begin_ok(struct state *);
static void commit_ok(struct state *);
static void output_set_ok(struct state *, uint64_t, uint64_t);
static struct state_output output_get_ok(struct state *);
static int user_version(void);
static void set_cursor(struct state_table *, const void *, size_t);

/* A fresh directory per test. */
static void
setup(void)
{
	log_init("check_state", LOG_LEVEL_WARN, 0);
	snprintf(dir, sizeof(dir), "/tmp/check_state.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
}

/* Remove the database and its WAL files. */
static void
teardown(void)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-lock", path);
	unlink(p);
	rmdir(dir);
}

static struct state *
open_ok(int flags)
{
	struct state *st;
	char *cause = NULL;

	st = state_open(path, flags, &cause);
	ck_assert_msg(st != NULL, "state_open: %s", cause);
	return (st);
}

static struct state_table *
get_ok(struct state *st, const char *binding)
{
	struct state_table *t;
	char *cause = NULL;

	ck_assert_int_eq(state_table_get(st, binding, &t, &cause), 1);
	return (t);
}

static void
put_ok(struct state *st, struct state_table *t)
{
	char *cause = NULL;

	ck_assert_msg(state_table_put(st, t, &cause) == 0, "put: %s", cause);
}

static void
begin_ok(struct state *st)
{
	char *cause = NULL;

	ck_assert_msg(state_begin(st, &cause) == 0, "begin: %s", cause);
}

static void
commit_ok(struct state *st)
{
	char *cause = NULL;

	ck_assert_msg(state_commit(st, &cause) == 0, "commit: %s", cause);
}

static void
output_set_ok(struct state *st, uint64_t seq, uint64_t offset)
{
	struct state_output out = { seq, offset, 0 };
	char *cause = NULL;

	ck_assert_msg(state_output_set(st, &out, &cause) == 0, "%s", cause);
}

static struct state_output
output_get_ok(struct state *st)
{
	struct state_output out;
	char *cause = NULL;

	ck_assert_msg(state_output_get(st, &out, &cause) == 0, "%s", cause);
	return (out);
}

/* PRAGMA user_version of the file, read behind state.c's back. */
static int
user_version(void)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	int v = -1;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL),
	    SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return (v);
}

/* Replace a table's cursor. */
static void
set_cursor(struct state_table *t, const void *p, size_t len)
{
	free(t->cursor);
	t->cursor = xmalloc(len);
	memcpy(t->cursor, p, len);
	t->cursorlen = len;
}

/* A new file: current version, seq 0 at offset 0, no tables, WAL. */
START_TEST(test_create)
{
	struct state *st;
	struct state_output out;
	struct state_table **list, *t;
	size_t n;
	char *cause = NULL, wal[160];

	st = open_ok(0);
	ck_assert_int_eq(user_version(), STATE_SCHEMA_VERSION);
	out = output_get_ok(st);
	ck_assert(out.seq == 0 && out.offset == 0);
	ck_assert_int_eq(state_table_list(st, &list, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	state_tables_free(list, n);
	ck_assert_int_eq(state_table_get(st, "dbo.none", &t, &cause), 0);
	ck_assert_ptr_null(t);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	ck_assert_int_eq(access(wal, F_OK), 0);
	ck_assert(!state_readonly(st));
	state_close(st);
}
END_TEST

/* Every field of a table survives put and get; ids are stable. */
START_TEST(test_table_roundtrip)
{
	struct state *st;
	struct state_table *t, *u, *back, **list;
	struct frame_value kv[2];
	struct frame_values key = { kv, 2, NULL }, keyback;
	static const uint8_t lsn[10] = { 0, 0, 0, 0x2a, 0, 0, 1, 0xe8, 0, 3 };
	size_t n;
	char *cause = NULL;
	uint32_t id;

	st = open_ok(0);
	t = state_table_create("dbo.orders", FRAME_MODE_CDC);
	set_cursor(t, lsn, sizeof(lsn));
	kv[0].type = FRAME_VALUE_INT;
	kv[0].v.i = 50000;
	kv[1].type = FRAME_VALUE_STR;
	kv[1].v.s.ptr = (const uint8_t *)"b";
	kv[1].v.s.len = 1;
	t->backfill_key = frame_values_pack(&key, &t->backfill_keylen);
	t->rows_backfilled = 50000;
	t->restarts = 2;
	t->last_error = xstrdup("login timeout");
	t->released = xmalloc(sizeof(lsn));
	memcpy(t->released, lsn, sizeof(lsn));
	t->releasedlen = sizeof(lsn);
	put_ok(st, t);
	ck_assert_uint_gt(t->table_id, 0);
	ck_assert_ptr_nonnull(t->updated_at);
	id = t->table_id;

	back = get_ok(st, "dbo.orders");
	ck_assert_uint_eq(back->table_id, id);
	ck_assert_str_eq(back->binding, "dbo.orders");
	ck_assert_int_eq(back->mode, FRAME_MODE_CDC);
	ck_assert_int_eq(back->phase, FRAME_PHASE_BACKFILL);
	ck_assert_uint_eq(back->cursorlen, 10);
	ck_assert(memcmp(back->cursor, lsn, 10) == 0);
	ck_assert_int_eq(frame_values_unpack(back->backfill_key,
			     back->backfill_keylen, &keyback, &cause),
	    0);
	ck_assert_uint_eq(keyback.n, 2);
	ck_assert_int_eq(keyback.v[0].v.i, 50000);
	frame_values_free(&keyback);
	ck_assert(back->rows_backfilled == 50000);
	ck_assert_uint_eq(back->restarts, 2);
	ck_assert_str_eq(back->last_error, "login timeout");
	ck_assert_ptr_null(back->failed_reason);
	ck_assert_uint_eq(back->releasedlen, sizeof(lsn));
	ck_assert(memcmp(back->released, lsn, sizeof(lsn)) == 0);
	ck_assert_int_eq(strlen(back->updated_at), 24); /* ...T..:..:..mmmZ */
	state_table_free(back);

	/* Update in place: same id; a second table gets another. */
	t->phase = FRAME_PHASE_FAILED;
	t->failed_reason = xstrdup("primary key changed");
	free(t->backfill_key);
	t->backfill_key = NULL;
	t->backfill_keylen = 0;
	put_ok(st, t);
	ck_assert_uint_eq(t->table_id, id);
	u = state_table_create("dbo.customers", FRAME_MODE_CT);
	put_ok(st, u);
	ck_assert_uint_ne(u->table_id, id);

	ck_assert_int_eq(state_table_list(st, &list, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0]->binding, "dbo.customers");
	ck_assert_str_eq(list[1]->binding, "dbo.orders");
	ck_assert_int_eq(list[1]->phase, FRAME_PHASE_FAILED);
	ck_assert_str_eq(list[1]->failed_reason, "primary key changed");
	ck_assert_ptr_null(list[1]->backfill_key);
	ck_assert_uint_eq(list[1]->releasedlen, sizeof(lsn));
	ck_assert_ptr_null(list[0]->released);
	state_tables_free(list, n);

	/* reset TABLE forgets it; it comes back with a new id. */
	ck_assert_int_eq(state_table_remove(st, "dbo.orders", &cause), 0);
	ck_assert_int_eq(state_table_get(st, "dbo.orders", &back, &cause), 0);
	put_ok(st, t);
	ck_assert_uint_gt(t->table_id, u->table_id);
	state_table_free(t);
	state_table_free(u);
	state_close(st);
}
END_TEST

/* One writer at a time; readers are not locked out. */
START_TEST(test_single_writer)
{
	struct state *w, *r;
	char *cause = NULL;

	w = open_ok(0);
	ck_assert_ptr_null(state_open(path, 0, &cause));
	ck_assert_msg(strstr(cause, "in use by another") != NULL, "%s", cause);
	free(cause);
	r = open_ok(STATE_READONLY);
	state_close(r);
	state_close(w);
	w = open_ok(0); /* released on close */
	state_close(w);
}
END_TEST

/* Rollback undoes cursors and output together; commit keeps both. */
START_TEST(test_atomicity)
{
	struct state *st;
	struct state_table *t, *back;
	struct state_output out;
	char *cause = NULL;

	st = open_ok(0);
	t = state_table_create("dbo.t", FRAME_MODE_CT);
	set_cursor(t, "v1", 2);
	begin_ok(st);
	put_ok(st, t);
	output_set_ok(st, 10, 1000);
	commit_ok(st);

	begin_ok(st);
	set_cursor(t, "v2", 2);
	put_ok(st, t);
	output_set_ok(st, 20, 2000);
	state_rollback(st);
	back = get_ok(st, "dbo.t");
	ck_assert_uint_eq(back->cursorlen, 2);
	ck_assert(memcmp(back->cursor, "v1", 2) == 0);
	state_table_free(back);
	out = output_get_ok(st);
	ck_assert(out.seq == 10 && out.offset == 1000);

	/* Misuse is an error, not a silent nested transaction. */
	begin_ok(st);
	ck_assert_int_eq(state_begin(st, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "already open"));
	free(cause);
	put_ok(st, t);
	output_set_ok(st, 20, 2000);
	commit_ok(st);
	ck_assert_int_eq(state_commit(st, &cause), -1);
	free(cause);
	back = get_ok(st, "dbo.t");
	ck_assert(memcmp(back->cursor, "v2", 2) == 0);
	state_table_free(back);
	out = output_get_ok(st);
	ck_assert(out.seq == 20 && out.offset == 2000);
	state_table_free(t);
	state_close(st);
}
END_TEST

/* Close and reopen: everything committed is there. */
START_TEST(test_reopen)
{
	struct state *st;
	struct state_table *t, *back;
	struct state_output out;
	uint32_t id;

	st = open_ok(0);
	t = state_table_create("sales.items", FRAME_MODE_BATCH);
	t->phase = FRAME_PHASE_STREAMING;
	set_cursor(t, "2026-01-01T00:00:00Z", 20);
	begin_ok(st);
	put_ok(st, t);
	output_set_ok(st, 123456789012ULL, 987654321098ULL);
	commit_ok(st);
	id = t->table_id;

	/* Close with a transaction open: it is rolled back. */
	begin_ok(st);
	output_set_ok(st, 1, 1);
	state_close(st);

	st = open_ok(0);
	back = get_ok(st, "sales.items");
	ck_assert_uint_eq(back->table_id, id);
	ck_assert_int_eq(back->mode, FRAME_MODE_BATCH);
	ck_assert_int_eq(back->phase, FRAME_PHASE_STREAMING);
	ck_assert_uint_eq(back->cursorlen, t->cursorlen);
	ck_assert(memcmp(back->cursor, t->cursor, t->cursorlen) == 0);
	out = output_get_ok(st);
	ck_assert(out.seq == 123456789012ULL && out.offset == 987654321098ULL);
	state_table_free(back);
	state_table_free(t);
	state_close(st);
	ck_assert_int_eq(user_version(), STATE_SCHEMA_VERSION);
}
END_TEST

/* A reader sees committed state while the writer holds a transaction. */
START_TEST(test_readonly_reader)
{
	struct state *w, *r;
	struct state_table *t, *back;
	struct state_output out;
	char *cause = NULL;

	w = open_ok(0);
	t = state_table_create("dbo.t", FRAME_MODE_CT);
	set_cursor(t, "old", 3);
	put_ok(w, t);
	output_set_ok(w, 5, 50);

	r = open_ok(STATE_READONLY);
	ck_assert(state_readonly(r));
	begin_ok(w);
	set_cursor(t, "new", 3);
	put_ok(w, t);
	output_set_ok(w, 6, 60);

	back = get_ok(r, "dbo.t"); /* does not wait for the writer */
	ck_assert(memcmp(back->cursor, "old", 3) == 0);
	state_table_free(back);
	out = output_get_ok(r);
	ck_assert(out.seq == 5 && out.offset == 50);

	/* A reader's transaction is a snapshot; it does not block commit. */
	begin_ok(r);
	out = output_get_ok(r);
	commit_ok(w);
	out = output_get_ok(r);
	ck_assert(out.seq == 5);
	commit_ok(r);
	back = get_ok(r, "dbo.t");
	ck_assert(memcmp(back->cursor, "new", 3) == 0);
	state_table_free(back);
	out = output_get_ok(r);
	ck_assert(out.seq == 6 && out.offset == 60);

	/* And it cannot write. */
	ck_assert_int_eq(state_table_put(r, t, &cause), -1);
	ck_assert_msg(strstr(cause, "readonly") != NULL, "%s", cause);
	free(cause);
	state_close(r);
	state_table_free(t);
	state_close(w);

	/* With the daemon gone, a reader still opens the file. */
	r = open_ok(STATE_READONLY);
	out = output_get_ok(r);
	ck_assert(out.seq == 6);
	state_close(r);
}
END_TEST

/* Migration: from a zero-byte file and from a bare SQLite database. */
START_TEST(test_migrate)
{
	struct state *st;
	struct state_output out;
	sqlite3 *db;
	FILE *f;
	char *cause = NULL;

	/* No file: a reader refuses; an empty file has "no state yet". */
	ck_assert_ptr_null(state_open(path, STATE_READONLY, &cause));
	free(cause);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	ck_assert_ptr_null(state_open(path, STATE_READONLY, &cause));
	ck_assert_msg(strstr(cause, "no state yet") != NULL, "%s", cause);
	free(cause);

	st = open_ok(0);
	ck_assert_int_eq(user_version(), STATE_SCHEMA_VERSION);
	out = output_get_ok(st);
	ck_assert(out.seq == 0);
	state_close(st);
	teardown();
	setup();

	/* A database some other tool made, version 0. */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(db, "CREATE TABLE unrelated (x)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	st = open_ok(0);
	ck_assert_int_eq(user_version(), STATE_SCHEMA_VERSION);
	state_close(st);

	/* Opening again migrates nothing and changes nothing. */
	st = open_ok(0);
	state_close(st);
	ck_assert_int_eq(user_version(), STATE_SCHEMA_VERSION);
}
END_TEST

/*
 * Version 3 (no requests, no progress) migrates to 4 keeping its rows;
 * a reader of a version 3 file is refused with both versions named.
 */
START_TEST(test_migrate_v3)
{
	struct state *st;
	struct state_table *t;
	struct state_request *reqs;
	size_t n;
	sqlite3 *db;
	char *cause = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(db,
		"CREATE TABLE tables (table_id INTEGER PRIMARY "
		"KEY AUTOINCREMENT, binding TEXT NOT NULL UNIQUE, "
		"mode TEXT NOT NULL, phase TEXT NOT NULL, cursor "
		"BLOB, backfill_key BLOB, rows_backfilled INTEGER "
		"NOT NULL DEFAULT 0, restarts INTEGER NOT NULL "
		"DEFAULT 0, last_error TEXT, failed_reason TEXT, "
		"updated_at TEXT NOT NULL, released BLOB);"
		"CREATE TABLE output (id INTEGER PRIMARY KEY, seq "
		"INTEGER NOT NULL, byte_offset INTEGER NOT NULL, "
		"updated_at TEXT NOT NULL, round INTEGER NOT NULL "
		"DEFAULT 0);"
		"INSERT INTO output VALUES (1, 5, 50, 'x', 2);"
		"INSERT INTO tables (binding, mode, phase, cursor, "
		"rows_backfilled, updated_at) VALUES ('dbo.a', "
		"'ct', 'streaming', x'01', 7, 'x');"
		"PRAGMA user_version = 3",
		NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	ck_assert_ptr_null(state_open(path, STATE_READONLY, &cause));
	ck_assert_msg(strstr(cause, "version 3") != NULL, "%s", cause);
	free(cause);
	st = open_ok(0);
	ck_assert_int_eq(user_version(), 4);
	t = get_ok(st, "dbo.a");
	ck_assert_uint_eq(t->rows_backfilled, 7);
	ck_assert_uint_eq(t->rows_estimate, 0);
	ck_assert_int_eq(t->has_lag, 0);
	state_table_free(t);
	ck_assert_int_eq(state_request_list(st, &reqs, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	state_close(st);
}
END_TEST

/*
 * reset TABLE while a daemon holds the lock: a STATE_REQUESTER handle
 * adds requests without the lock; the writer lists them; a put with
 * request_done removes that binding's requests up to it in the same
 * transaction (and a rollback keeps them).  Progress fields come back.
 */
START_TEST(test_requests)
{
	struct state *w, *q;
	struct state_table *t;
	struct state_request *reqs;
	uint64_t id1, id2, id3;
	size_t n;
	pid_t pid;
	char *cause = NULL;

	ck_assert_int_eq(state_lock_holder(path, &pid), 0);
	ck_assert_ptr_null(state_open(path, STATE_REQUESTER, &cause));
	free(cause);
	w = open_ok(0);
	ck_assert_int_eq(state_lock_holder(path, &pid), 1);
	ck_assert_int_eq(pid, getpid());
	t = state_table_create("dbo.a", FRAME_MODE_CT);
	set_cursor(t, "cur", 3);
	t->phase = FRAME_PHASE_STREAMING;
	t->rows_backfilled = 10;
	t->rows_estimate = 12;
	t->has_lag = 1;
	t->lag_ms = 1500;
	t->lag_at_ms = 1700000000000LL;
	put_ok(w, t);
	q = open_ok(STATE_REQUESTER);
	ck_assert_int_eq(state_request_add(q, "dbo.a", &id1, &cause), 0);
	ck_assert_int_eq(state_request_add(q, "dbo.b", &id2, &cause), 0);
	ck_assert_int_eq(state_request_add(q, "dbo.a", &id3, &cause), 0);
	ck_assert(id1 < id2 && id2 < id3);
	state_close(q);
	ck_assert_int_eq(state_lock_holder(path, &pid), 1);
	ck_assert_int_eq(state_request_list(w, &reqs, &n, &cause), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(reqs[0].binding, "dbo.a");
	ck_assert_str_eq(reqs[1].binding, "dbo.b");
	ck_assert(reqs[0].id == id1 && reqs[2].id == id3);
	ck_assert_ptr_nonnull(reqs[0].requested_at);
	state_requests_free(reqs, n);

	/* The reset and the end of its requests: one transaction. */
	state_table_reset(t);
	ck_assert_int_eq(t->phase, FRAME_PHASE_BACKFILL);
	ck_assert(t->cursor == NULL && t->rows_backfilled == 0);
	ck_assert_int_eq(t->has_lag, 0);
	t->request_done = id1;
	begin_ok(w);
	put_ok(w, t);
	state_rollback(w);
	ck_assert_int_eq(state_request_list(w, &reqs, &n, &cause), 0);
	ck_assert_uint_eq(n, 3);
	state_requests_free(reqs, n);
	begin_ok(w);
	put_ok(w, t);
	commit_ok(w);
	ck_assert_int_eq(state_request_list(w, &reqs, &n, &cause), 0);
	ck_assert_uint_eq(n, 2); /* id3 came later: still pending */
	ck_assert(reqs[0].id == id2 && reqs[1].id == id3);
	state_requests_free(reqs, n);
	state_table_free(t);
	t = get_ok(w, "dbo.a");
	ck_assert_int_eq(t->phase, FRAME_PHASE_BACKFILL);
	ck_assert_uint_eq(t->cursorlen, 0);
	ck_assert_uint_eq(t->rows_estimate, 12);
	state_table_free(t);
	state_close(w);
	ck_assert_int_eq(state_lock_holder(path, &pid), 0);
	/* Progress survives a reopen. */
	w = open_ok(STATE_READONLY);
	t = get_ok(w, "dbo.a");
	ck_assert_int_eq(t->has_lag, 0);
	state_table_free(t);
	state_close(w);
}
END_TEST

/* Lag and its time are stored and read back. */
START_TEST(test_progress)
{
	struct state *st;
	struct state_table *t;
	char *at = NULL, *cause = NULL;

	st = open_ok(0);
	t = state_table_create("dbo.p", FRAME_MODE_CDC);
	t->rows_estimate = 99;
	t->has_lag = 1;
	t->lag_ms = 2500;
	t->lag_at_ms = 1700000000123LL;
	put_ok(st, t);
	state_table_free(t);
	ck_assert_int_eq(state_output_updated_at(st, &at, &cause), 0);
	ck_assert_ptr_nonnull(at);
	free(at);
	state_close(st);
	st = open_ok(STATE_READONLY);
	t = get_ok(st, "dbo.p");
	ck_assert_uint_eq(t->rows_estimate, 99);
	ck_assert_int_eq(t->has_lag, 1);
	ck_assert_uint_eq(t->lag_ms, 2500);
	ck_assert_int_eq(t->lag_at_ms, 1700000000123LL);
	state_table_free(t);
	state_close(st);
}
END_TEST

/*
 * A round packed for the replica (state/round.c) comes back field for
 * field, NULLs included; anything else is refused with a cause.
 */
START_TEST(test_round)
{
	struct state_output so = { 77, 12345, 9 }, back;
	struct state_table *t[2], **list;
	static const uint8_t pos[16] = { 0, 0, 0, 0, 0, 0, 0x06, 0x40, 0x80 };
	uint8_t *blob, bad[17];
	size_t len, n, i;
	char *cause = NULL;

	t[0] = state_table_create("dbo.orders", FRAME_MODE_CT);
	set_cursor(t[0], pos, sizeof(pos));
	t[0]->released = xmalloc(sizeof(pos));
	memcpy(t[0]->released, pos, sizeof(pos));
	t[0]->releasedlen = sizeof(pos);
	t[0]->backfill_key = xmalloc(1);
	t[0]->backfill_keylen = 0; /* empty, not NULL */
	t[0]->rows_backfilled = 19304;
	t[0]->restarts = 3;
	t[0]->last_error = xstrdup("worker killed by signal 9");
	t[1] = state_table_create("s.t", FRAME_MODE_CDC);
	t[1]->phase = FRAME_PHASE_FAILED;
	t[1]->failed_reason = xstrdup("no primary key");

	blob = state_round_pack(&so, t, 2, &len);
	ck_assert_msg(
	    state_round_unpack(blob, len, &back, &list, &n, &cause) == 0, "%s",
	    cause);
	ck_assert(back.round == 9 && back.seq == 77 && back.offset == 12345);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0]->binding, "dbo.orders");
	ck_assert_int_eq(list[0]->mode, FRAME_MODE_CT);
	ck_assert_int_eq(list[0]->phase, FRAME_PHASE_BACKFILL);
	ck_assert_uint_eq(list[0]->cursorlen, sizeof(pos));
	ck_assert(memcmp(list[0]->cursor, pos, sizeof(pos)) == 0);
	ck_assert_uint_eq(list[0]->releasedlen, sizeof(pos));
	ck_assert(memcmp(list[0]->released, pos, sizeof(pos)) == 0);
	ck_assert_ptr_nonnull(list[0]->backfill_key);
	ck_assert_uint_eq(list[0]->backfill_keylen, 0);
	ck_assert(list[0]->rows_backfilled == 19304);
	ck_assert_uint_eq(list[0]->restarts, 3);
	ck_assert_str_eq(list[0]->last_error, "worker killed by signal 9");
	ck_assert_ptr_null(list[0]->failed_reason);
	ck_assert_str_eq(list[1]->binding, "s.t");
	ck_assert_int_eq(list[1]->mode, FRAME_MODE_CDC);
	ck_assert_int_eq(list[1]->phase, FRAME_PHASE_FAILED);
	ck_assert_ptr_null(list[1]->cursor);
	ck_assert_ptr_null(list[1]->released);
	ck_assert_ptr_null(list[1]->last_error);
	ck_assert_str_eq(list[1]->failed_reason, "no primary key");
	state_tables_free(list, n);

	/* Every truncation is refused, and so is trailing garbage. */
	for (i = 0; i < len; i++) {
		ck_assert_int_eq(
		    state_round_unpack(blob, i, &back, &list, &n, &cause), -1);
		ck_assert_ptr_null(list);
		ck_assert_msg(
		    strstr(cause, "not a packed round") != NULL, "%s", cause);
		free(cause);
	}
	blob = xrealloc(blob, len + 1);
	blob[len] = 0xc0;
	ck_assert_int_eq(
	    state_round_unpack(blob, len + 1, &back, &list, &n, &cause), -1);
	free(cause);
	/* A phase out of range (the first table's third field). */
	memcpy(bad,
	    "\x94\x01\x01\x01\x91\x9a\xa1x\x00\x63\xc0\xc0\xc0\x00\x00"
	    "\xc0\xc0",
	    17);
	ck_assert_int_eq(
	    state_round_unpack(bad, 17, &back, &list, &n, &cause), -1);
	free(cause);
	bad[9] = FRAME_PHASE_STREAMING; /* now it is one */
	ck_assert_msg(
	    state_round_unpack(bad, 17, &back, &list, &n, &cause) == 0, "%s",
	    cause);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0]->binding, "x");
	state_tables_free(list, n);
	free(blob);
	state_table_free(t[0]);
	state_table_free(t[1]);
}
END_TEST

/* The round number is stored with seq and offset; v2 files migrate. */
START_TEST(test_output_round)
{
	struct state *st;
	struct state_output so = { 5, 500, 42 }, back;
	sqlite3 *db;
	char *cause = NULL;

	st = open_ok(0);
	begin_ok(st);
	ck_assert_msg(state_output_set(st, &so, &cause) == 0, "%s", cause);
	commit_ok(st);
	state_close(st);
	st = open_ok(STATE_READONLY);
	back = output_get_ok(st);
	ck_assert(back.round == 42 && back.seq == 5 && back.offset == 500);
	state_close(st);

	/* Back to a version 2 file: the round starts at 0. */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
			     "ALTER TABLE output DROP COLUMN round; "
			     "DROP TABLE requests; "
			     "ALTER TABLE tables DROP COLUMN rows_estimate; "
			     "ALTER TABLE tables DROP COLUMN lag_ms; "
			     "ALTER TABLE tables DROP COLUMN lag_at_ms; "
			     "PRAGMA user_version = 2",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	st = open_ok(0);
	ck_assert_int_eq(user_version(), STATE_SCHEMA_VERSION);
	back = output_get_ok(st);
	ck_assert(back.round == 0 && back.seq == 5 && back.offset == 500);
	state_close(st);
}
END_TEST

/* A file from a newer release is refused, by writers and readers. */
START_TEST(test_newer_version)
{
	struct state *st;
	sqlite3 *db;
	char *cause = NULL;

	st = open_ok(0);
	state_close(st);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	ck_assert_ptr_null(state_open(path, 0, &cause));
	ck_assert_msg(
	    strstr(cause, "version 99 is newer") != NULL, "%s", cause);
	free(cause);
	ck_assert_ptr_null(state_open(path, STATE_READONLY, &cause));
	ck_assert_msg(strstr(cause, "version 99") != NULL, "%s", cause);
	free(cause);
	ck_assert_int_eq(user_version(), 99);
}
END_TEST

/* kill -9 in the middle of a transaction: the last commit survives. */
START_TEST(test_kill9)
{
	struct state *st;
	struct state_table *t, *back;
	struct state_output out;
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		st = open_ok(0);
		t = state_table_create("dbo.t", FRAME_MODE_CT);
		set_cursor(t, "committed", 9);
		begin_ok(st);
		put_ok(st, t);
		output_set_ok(st, 100, 4096);
		commit_ok(st);
		begin_ok(st);
		set_cursor(t, "lost", 4);
		put_ok(st, t);
		output_set_ok(st, 200, 8192);
		raise(SIGKILL);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	st = open_ok(0);
	back = get_ok(st, "dbo.t");
	ck_assert_uint_eq(back->cursorlen, 9);
	ck_assert(memcmp(back->cursor, "committed", 9) == 0);
	out = output_get_ok(st);
	ck_assert(out.seq == 100 && out.offset == 4096);
	state_table_free(back);
	state_close(st);
}
END_TEST

/* Phase and mode names parse back. */
START_TEST(test_names)
{
	enum frame_phase p;
	enum frame_mode m;

	ck_assert_int_eq(state_phase_parse("done", &p), 0);
	ck_assert_int_eq(p, FRAME_PHASE_DONE);
	ck_assert_int_eq(state_phase_parse("backfill", &p), 0);
	ck_assert_int_eq(p, FRAME_PHASE_BACKFILL);
	ck_assert_int_eq(state_phase_parse("Done", &p), -1);
	ck_assert_int_eq(state_phase_parse(NULL, &p), -1);
	ck_assert_int_eq(state_mode_parse("batch", &m), 0);
	ck_assert_int_eq(m, FRAME_MODE_BATCH);
	ck_assert_int_eq(state_mode_parse("auto", &m), -1);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_table_roundtrip);
	tcase_add_test(tc, test_single_writer);
	tcase_add_test(tc, test_atomicity);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_readonly_reader);
	tcase_add_test(tc, test_migrate);
	tcase_add_test(tc, test_migrate_v3);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_round);
	tcase_add_test(tc, test_output_round);
	tcase_add_test(tc, test_newer_version);
	tcase_add_test(tc, test_kill9);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
