/*
 * Unit tests for state/replica.c.
 *
 * The replica is the destination users read, so the tests pin what
 * they see: table and column names (escaped so that two source tables
 * never share a replica table), SQLite types that keep every value
 * exact, upserts by key, soft deletes, absent values that leave
 * columns alone, the journal, added and dropped columns; and what the
 * exactly-once promise rests on: a replayed event changes nothing, a
 * kill -9 in the middle of a transaction leaves exactly the committed
 * events (rows, journal and position agree), and a reader holding a
 * long read transaction never blocks a commit.
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
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "state.h"

#define NCOLS_MAX 8

static char dir[64];
static char path[128];

/* An event under construction: values point into text[]. */
struct ev {
	struct frame_event e;
	struct frame_value v[NCOLS_MAX];
};

static void setup(void);
static void teardown(void);
static struct replica *open_ok(int);
static void schema_orders(
    struct frame_schema *, const char *, const char *, const char *);
static void add_col(
    struct frame_schema *, const char *, const char *, uint32_t, uint32_t);
static void ev_init(struct ev *, enum frame_op, uint64_t, size_t);
static void v_int(struct frame_value *, int64_t);
static void v_str(struct frame_value *, const char *);
static void apply_ok(
    struct replica_table *, const struct frame_schema *, struct ev *, int);
static void begin_ok(struct replica *);
static void commit_ok(struct replica *);
static sqlite3 *raw_open(void);
static char *query1(sqlite3 *, const char *);
static void order_event(
    struct ev *, enum frame_op, uint64_t, int64_t, const char *, const char *);
static int pos_int(const uint8_t *);

/* The low 31 bits of a CT position's version. */
static int
pos_int(const uint8_t *pos)
{
	return ((pos[4] & 0x7f) << 24 | pos[5] << 16 | pos[6] << 8 | pos[7]);
}

/* A fresh directory per test. */
static void
setup(void)
{
	log_init("check_replica", LOG_LEVEL_WARN, 0);
	snprintf(dir, sizeof(dir), "/tmp/check_replica.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/replica.db", dir);
}

/* Remove the database and its WAL files. */
static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static struct replica *
open_ok(int flags)
{
	struct replica *r;
	char *cause = NULL;

	r = replica_open(path, flags, &cause);
	ck_assert_msg(r != NULL, "replica_open: %s", cause);
	return (r);
}

static void
add_col(struct frame_schema *s, const char *name, const char *type,
    uint32_t type_id, uint32_t key)
{
	struct frame_column c;

	memset(&c, 0, sizeof(c));
	c.name = (char *)name;
	c.type_name = (char *)type;
	c.type_id = type_id;
	c.key_ordinal = key;
	c.nullable = key == 0;
	frame_schema_add_column(s, &c);
}

/* (id int key, name nvarchar, amount decimal(10,4)) */
static void
schema_orders(struct frame_schema *s, const char *db, const char *schema,
    const char *table)
{
	frame_schema_init(s, db, schema, table, FRAME_MODE_CT);
	add_col(s, "id", "int", 56, 1);
	add_col(s, "name", "nvarchar", 231, 0);
	add_col(s, "amount", "decimal", 106, 0);
}

/* An event at CT version ver (ordinal 0), all values absent. */
static void
ev_init(struct ev *ev, enum frame_op op, uint64_t ver, size_t ncols)
{
	int i;

	memset(ev, 0, sizeof(*ev));
	ev->e.op = op;
	for (i = 0; i < 8; i++)
		ev->e.pos[i] = (uint8_t)(ver >> (56 - 8 * i));
	ev->e.poslen = FRAME_POS_CT_SIZE;
	snprintf(ev->e.ts, sizeof(ev->e.ts), "2026-01-01T00:00:%02uZ",
	    (unsigned)(ver % 60));
	ev->e.values = ev->v;
	(void)ncols;
}

static void
v_int(struct frame_value *v, int64_t i)
{
	v->type = FRAME_VALUE_INT;
	v->v.i = i;
}

static void
v_str(struct frame_value *v, const char *s)
{
	if (s == NULL) {
		v->type = FRAME_VALUE_NULL;
		return;
	}
	v->type = FRAME_VALUE_STR;
	v->v.s.ptr = (const uint8_t *)s;
	v->v.s.len = strlen(s);
}

/* An orders event; name/amount NULL pointers mean absent. */
static void
order_event(struct ev *ev, enum frame_op op, uint64_t ver, int64_t id,
    const char *name, const char *amount)
{
	ev_init(ev, op, ver, 3);
	v_int(&ev->v[0], id);
	if (name != NULL)
		v_str(&ev->v[1], name);
	if (amount != NULL)
		v_str(&ev->v[2], amount);
}

static void
apply_ok(struct replica_table *rt, const struct frame_schema *s, struct ev *ev,
    int want)
{
	char *cause = NULL;
	int rc;

	rc = replica_apply_event(
	    rt, s, &ev->e, "2026-02-02T00:00:00.000Z", &cause);
	ck_assert_msg(rc == want, "apply: %d (want %d): %s", rc, want,
	    cause != NULL ? cause : "");
}

static void
begin_ok(struct replica *r)
{
	char *cause = NULL;

	ck_assert_msg(replica_begin(r, &cause) == 0, "begin: %s", cause);
}

static void
commit_ok(struct replica *r)
{
	char *cause = NULL;

	ck_assert_msg(replica_commit(r, &cause) == 0, "commit: %s", cause);
}

/* A second, plain connection: what a user with sqlite3 sees. */
static sqlite3 *
raw_open(void)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 100);
	return (db);
}

/* First column of the first row as text ("NULL"); caller frees. */
static char *
query1(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	const unsigned char *t;
	char *s = NULL;
	int rc;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(stmt);
	ck_assert_msg(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql,
	    sqlite3_errmsg(db));
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(stmt, 0);
		s = xstrdup(t != NULL ? (const char *)t : "NULL");
	} else
		s = xstrdup("(none)");
	sqlite3_finalize(stmt);
	return (s);
}

#define ASSERT_Q(db, sql, want) \
	do { \
		char *got_ = query1((db), (sql)); \
		ck_assert_msg(strcmp(got_, (want)) == 0, \
		    "%s: '%s', want '%s'", (sql), got_, (want)); \
		free(got_); \
	} while (0)

/* A new table: documented name, mapping, columns, types, journal. */
START_TEST(test_create)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	const struct replica_column *cols;
	size_t n;
	char *cause = NULL;
	sqlite3 *db;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_msg(rt != NULL, "%s", cause);
	ck_assert_str_eq(replica_table_name(rt), "shop_dbo.orders");
	ck_assert_str_eq(replica_table_journal(rt), "shop_dbo.orders_journal");
	cols = replica_table_columns(rt, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(cols[2].rname, "amount");
	ck_assert_uint_eq(cols[0].key_ordinal, 1);
	/* Same schema again: same handle, nothing changes. */
	ck_assert_ptr_eq(replica_apply_schema(r, &s, &cause), rt);
	db = raw_open();
	ASSERT_Q(db,
	    "SELECT source_db || '|' || source_schema || '|' || source_table "
	    "FROM _replica_tables WHERE replica_table = 'shop_dbo.orders'",
	    "shop|dbo|orders");
	ASSERT_Q(db,
	    "SELECT group_concat(name || ':' || type, ',') FROM "
	    "pragma_table_info('shop_dbo.orders')",
	    "id:INTEGER,name:TEXT,amount:TEXT,_inserted_at:TEXT,"
	    "_updated_at:TEXT,_deleted:INTEGER");
	ASSERT_Q(db,
	    "SELECT group_concat(name || ':' || type, ',') FROM "
	    "pragma_table_info('shop_dbo.orders_journal')",
	    "_seq:INTEGER,_op:TEXT,_pos:BLOB,_ts:TEXT,_snapshot:INTEGER,"
	    "_applied_at:TEXT,_absent:TEXT,_before:TEXT,id:INTEGER,name:TEXT,"
	    "amount:TEXT");
	ASSERT_Q(db, "PRAGMA journal_mode", "wal");
	sqlite3_close(db);
	/* No primary key: refused. */
	frame_schema_free(&s);
	frame_schema_init(&s, "shop", "dbo", "heap", FRAME_MODE_CT);
	add_col(&s, "x", "int", 56, 0);
	ck_assert_ptr_null(replica_apply_schema(r, &s, &cause));
	ck_assert_msg(strstr(cause, "no primary key") != NULL, "%s", cause);
	free(cause);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/* Upserts, soft deletes, absent values, metadata columns, journal. */
START_TEST(test_apply)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	char *cause = NULL;
	sqlite3 *db;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_ptr_nonnull(rt);
	begin_ok(r);
	order_event(&ev, FRAME_OP_CREATE, 10, 1, "alice", "10.5000");
	apply_ok(rt, &s, &ev, 0);
	order_event(&ev, FRAME_OP_CREATE, 11, 2, "bob", "-0.0001");
	apply_ok(rt, &s, &ev, 0);
	ck_assert_int_eq(replica_apply_event(rt, &s, &ev.e, NULL, &cause), 1);
	commit_ok(r);

	begin_ok(r);
	order_event(&ev, FRAME_OP_UPDATE, 12, 1, "alice2", NULL);
	v_str(&ev.v[2], NULL); /* amount NULL: set to NULL */
	ck_assert_int_eq(replica_apply_event(
			     rt, &s, &ev.e, "2026-03-03T00:00:00.000Z", &cause),
	    0);
	order_event(&ev, FRAME_OP_DELETE, 13, 2, NULL, NULL); /* CT delete */
	apply_ok(rt, &s, &ev, 0);
	order_event(&ev, FRAME_OP_DELETE, 14, 99, NULL, NULL); /* unseen */
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);

	db = raw_open();
	ASSERT_Q(db,
	    "SELECT name || '|' || ifnull(amount, 'NULL') || '|' || _deleted "
	    "|| '|' || _inserted_at || '|' || _updated_at FROM "
	    "\"shop_dbo.orders\" WHERE id = 1",
	    "alice2|NULL|0|2026-02-02T00:00:00.000Z|2026-03-03T00:00:00.000Z");
	/* The delete kept the row and its (absent) values. */
	ASSERT_Q(db,
	    "SELECT name || '|' || amount || '|' || typeof(amount) || '|' || "
	    "_deleted FROM \"shop_dbo.orders\" WHERE id = 2",
	    "bob|-0.0001|text|1");
	ASSERT_Q(db,
	    "SELECT ifnull(name, 'NULL') || '|' || _deleted FROM "
	    "\"shop_dbo.orders\" WHERE id = 99",
	    "NULL|1");
	ASSERT_Q(db, "SELECT count(*) FROM \"shop_dbo.orders\"", "3");
	ASSERT_Q(db,
	    "SELECT group_concat(_op || ' ' || hex(_pos) || ' ' || _ts || ' ' "
	    "|| id || ' ' || ifnull(name, 'NULL') || ' ' || "
	    "ifnull(amount, 'NULL') || ' ' || ifnull(_absent, '-'), ';') "
	    "FROM (SELECT * FROM \"shop_dbo.orders_journal\" ORDER BY _seq)",
	    "c 000000000000000A0000000000000000 2026-01-01T00:00:10Z "
	    "1 alice 10.5000 -;"
	    "c 000000000000000B0000000000000000 2026-01-01T00:00:11Z "
	    "2 bob -0.0001 -;"
	    "u 000000000000000C0000000000000000 2026-01-01T00:00:12Z "
	    "1 alice2 NULL -;"
	    "d 000000000000000D0000000000000000 2026-01-01T00:00:13Z "
	    "2 NULL NULL [\"name\",\"amount\"];"
	    "d 000000000000000E0000000000000000 2026-01-01T00:00:14Z "
	    "99 NULL NULL [\"name\",\"amount\"]");
	ASSERT_Q(db,
	    "SELECT _applied_at || ' ' || _snapshot || ' ' || "
	    "ifnull(_before, 'NULL') FROM \"shop_dbo.orders_journal\" "
	    "WHERE _seq = 3",
	    "2026-03-03T00:00:00.000Z 0 NULL");
	ASSERT_Q(db, "SELECT hex(pos) FROM _replica_tables",
	    "000000000000000E0000000000000000");
	/* Re-inserting a soft-deleted key revives it. */
	begin_ok(r);
	order_event(&ev, FRAME_OP_CREATE, 15, 2, "bob", "1");
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	ASSERT_Q(
	    db, "SELECT _deleted FROM \"shop_dbo.orders\" WHERE id = 2", "0");
	sqlite3_close(db);
	/* No transaction: refused, nothing written. */
	ck_assert_int_eq(replica_apply_event(rt, &s, &ev.e, NULL, &cause), -1);
	ck_assert_msg(
	    strstr(cause, "no open transaction") != NULL, "%s", cause);
	free(cause);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/* Every type keeps its exact value and SQLite type. */
START_TEST(test_types)
{
	static const uint8_t bin[] = { 0, 1, 0xff };
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	char *cause = NULL;
	sqlite3 *db;

	r = open_ok(0);
	frame_schema_init(&s, "d", "s", "types", FRAME_MODE_CDC);
	add_col(&s, "k", "bigint", 127, 1);
	add_col(&s, "b", "bit", 104, 0);
	add_col(&s, "r", "real", 59, 0);
	add_col(&s, "m", "money", 60, 0);
	add_col(&s, "d", "numeric", 108, 0);
	add_col(&s, "bin", "varbinary", 165, 0);
	add_col(&s, "g", "uniqueidentifier", 36, 0);
	add_col(&s, "v", "sql_variant", 98, 0);
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_msg(rt != NULL, "%s", cause);
	begin_ok(r);
	ev_init(&ev, FRAME_OP_CREATE, 1, 8);
	ev.e.poslen = FRAME_POS_CDC_SIZE;
	v_int(&ev.v[0], INT64_MIN);
	ev.v[1].type = FRAME_VALUE_BOOL;
	ev.v[1].v.b = 1;
	ev.v[2].type = FRAME_VALUE_REAL;
	ev.v[2].v.real = 0.1f;
	v_str(&ev.v[3], "922337203685477.5807");
	v_str(&ev.v[4], "00012.300");
	ev.v[5].type = FRAME_VALUE_BIN;
	ev.v[5].v.s.ptr = bin;
	ev.v[5].v.s.len = sizeof(bin);
	v_str(&ev.v[6], "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	v_int(&ev.v[7], 42);
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	db = raw_open();
	ASSERT_Q(db,
	    "SELECT k || '|' || b || '|' || m || '|' || d || '|' || hex(bin) "
	    "|| '|' || g || '|' || typeof(v) || typeof(d) || typeof(r) FROM "
	    "\"d_s.types\"",
	    "-9223372036854775808|1|922337203685477.5807|00012.300|0001FF|"
	    "6F9619FF-8B86-D011-B42D-00C04FC964FF|integertextreal");
	ASSERT_Q(db, "SELECT r = CAST(0.1 AS REAL) FROM \"d_s.types\"", "0");
	ASSERT_Q(db,
	    "SELECT typeof(r) || typeof(bin) || typeof(d) || k FROM "
	    "\"d_s.types_journal\"",
	    "realblobtext-9223372036854775808");
	sqlite3_close(db);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/* Replay after a crash between commits, rollback, reopen. */
START_TEST(test_replay)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	const uint8_t *pos;
	size_t len;
	struct ev ev;
	char *cause = NULL;
	int i;
	sqlite3 *db;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_int_eq(replica_position(rt, &pos, &len), 0);
	begin_ok(r);
	for (i = 1; i <= 5; i++) {
		order_event(&ev, FRAME_OP_CREATE, i, i, "x", "1");
		apply_ok(rt, &s, &ev, 0);
	}
	commit_ok(r);
	/* A rolled-back transaction leaves rows and position alone. */
	begin_ok(r);
	order_event(&ev, FRAME_OP_UPDATE, 6, 1, "rolled back", "2");
	apply_ok(rt, &s, &ev, 0);
	replica_rollback(r);
	ck_assert_int_eq(replica_position(rt, &pos, &len), 1);
	ck_assert_int_eq(pos[7], 5);
	replica_close(r);

	/* Reopen: the supervisor replays events 3..6. */
	r = open_ok(0);
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_int_eq(replica_position(rt, &pos, &len), 1);
	ck_assert_uint_eq(len, FRAME_POS_CT_SIZE);
	ck_assert_int_eq(pos[7], 5);
	begin_ok(r);
	for (i = 3; i <= 5; i++) {
		order_event(&ev, FRAME_OP_CREATE, i, i, "replayed", "9");
		apply_ok(rt, &s, &ev, 1);
	}
	order_event(&ev, FRAME_OP_UPDATE, 6, 1, "six", "2");
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	db = raw_open();
	ASSERT_Q(db, "SELECT count(*) FROM \"shop_dbo.orders_journal\"", "6");
	ASSERT_Q(db,
	    "SELECT count(*) FROM \"shop_dbo.orders\" WHERE name = 'replayed'",
	    "0");
	ASSERT_Q(
	    db, "SELECT name FROM \"shop_dbo.orders\" WHERE id = 1", "six");
	sqlite3_close(db);
	/* A second writer is refused. */
	ck_assert_ptr_null(replica_open(path, 0, &cause));
	ck_assert_msg(strstr(cause, "in use") != NULL, "%s", cause);
	free(cause);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/* Column added (old rows NULL), dropped (renamed, values kept). */
START_TEST(test_evolve)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	char *cause = NULL;
	sqlite3 *db;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	begin_ok(r);
	order_event(&ev, FRAME_OP_CREATE, 1, 1, "alice", "1.00");
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);

	/* Drop "name", add "email". */
	frame_schema_free(&s);
	frame_schema_init(&s, "shop", "dbo", "orders", FRAME_MODE_CT);
	add_col(&s, "id", "int", 56, 1);
	add_col(&s, "amount", "decimal", 106, 0);
	add_col(&s, "email", "nvarchar", 231, 0);
	ck_assert_ptr_eq(replica_apply_schema(r, &s, &cause), rt);
	begin_ok(r);
	ev_init(&ev, FRAME_OP_CREATE, 2, 3);
	v_int(&ev.v[0], 2);
	v_str(&ev.v[1], "2.00");
	v_str(&ev.v[2], "b@example.com");
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	db = raw_open();
	ASSERT_Q(db,
	    "SELECT group_concat(name, ',') FROM "
	    "pragma_table_info('shop_dbo.orders')",
	    "id,name__deleted,amount,_inserted_at,_updated_at,_deleted,email");
	ASSERT_Q(db,
	    "SELECT name__deleted || '|' || ifnull(email, 'NULL') FROM "
	    "\"shop_dbo.orders\" WHERE id = 1",
	    "alice|NULL");
	ASSERT_Q(db,
	    "SELECT ifnull(name__deleted, 'NULL') || '|' || email FROM "
	    "\"shop_dbo.orders\" WHERE id = 2",
	    "NULL|b@example.com");
	/* The journal follows: old entries keep their values. */
	ASSERT_Q(db,
	    "SELECT group_concat(ifnull(name__deleted, 'NULL') || '|' || "
	    "ifnull(email, 'NULL'), ';') FROM (SELECT * FROM "
	    "\"shop_dbo.orders_journal\" ORDER BY _seq)",
	    "alice|NULL;NULL|b@example.com");

	/* "name" comes back and goes again: name__deleted~2. */
	add_col(&s, "name", "nvarchar", 231, 0);
	ck_assert_ptr_nonnull(replica_apply_schema(r, &s, &cause));
	frame_schema_free(&s);
	frame_schema_init(&s, "shop", "dbo", "orders", FRAME_MODE_CT);
	add_col(&s, "id", "int", 56, 1);
	ck_assert_ptr_nonnull(replica_apply_schema(r, &s, &cause));
	ASSERT_Q(db,
	    "SELECT group_concat(name, ',') FROM "
	    "pragma_table_info('shop_dbo.orders')",
	    "id,name__deleted,amount__deleted,_inserted_at,_updated_at,"
	    "_deleted,email__deleted,name__deleted~2");
	/* A source column named like a metadata column gets a suffix. */
	add_col(&s, "_deleted", "bit", 104, 0);
	ck_assert_ptr_nonnull(replica_apply_schema(r, &s, &cause));
	ASSERT_Q(db,
	    "SELECT rname FROM _replica_columns WHERE name = '_deleted'",
	    "_deleted~2");
	/* A type SQLite stores differently: dropped and added anew. */
	frame_schema_free(&s);
	frame_schema_init(&s, "shop", "dbo", "orders", FRAME_MODE_CT);
	add_col(&s, "id", "int", 56, 1);
	add_col(&s, "_deleted", "nvarchar", 231, 0);
	ck_assert_ptr_nonnull(replica_apply_schema(r, &s, &cause));
	ASSERT_Q(db,
	    "SELECT group_concat(rname || ':' || dropped, ',') FROM "
	    "_replica_columns WHERE name = '_deleted'",
	    "_deleted~2__deleted:1,_deleted~2:0");
	ASSERT_Q(db,
	    "SELECT type FROM pragma_table_info('shop_dbo.orders') WHERE "
	    "name = '_deleted~2'",
	    "TEXT");
	/* A changed primary key is refused and changes nothing. */
	frame_schema_free(&s);
	frame_schema_init(&s, "shop", "dbo", "orders", FRAME_MODE_CT);
	add_col(&s, "id", "int", 56, 0);
	add_col(&s, "id2", "int", 56, 1);
	ck_assert_ptr_null(replica_apply_schema(r, &s, &cause));
	ck_assert_msg(
	    strstr(cause, "primary key changed") != NULL, "%s", cause);
	free(cause);
	ASSERT_Q(db,
	    "SELECT count(*) FROM pragma_table_info('shop_dbo.orders')", "10");
	sqlite3_close(db);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/* Escaping: no two source tables share a replica table. */
START_TEST(test_names)
{
	static const char *cases[][4] = {
		{ "a_b", "c", "t", "a%5Fb_c.t" },
		{ "a", "b_c", "t", "a_b_c.t" },
		{ "a.b", "c.d", "e.f", "a%2Eb_c%2Ed.e.f" },
		{ "x", "dbo", "orders_journal", "x_dbo.orders%5Fjournal" },
		{ "sqlite", "dbo", "t", "%73qlite_dbo.t" },
		{ "p%", "s", "a~b%", "p%25_s.a%7Eb%25" },
		{ "SQLite3", "~s", "t", "%53QLite3_~s.t" },
	};
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt1, *rt2, *rt3;
	char *name, *db, *schema, *table, *cause = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		name =
		    replica_name_encode(cases[i][0], cases[i][1], cases[i][2]);
		ck_assert_str_eq(name, cases[i][3]);
		ck_assert_int_eq(
		    replica_name_decode(name, &db, &schema, &table), 0);
		ck_assert_str_eq(db, cases[i][0]);
		ck_assert_str_eq(schema, cases[i][1]);
		ck_assert_str_eq(table, cases[i][2]);
		free(db);
		free(schema);
		free(table);
		free(name);
	}
	r = open_ok(0);
	schema_orders(&s, "a_b", "c", "t");
	rt1 = replica_apply_schema(r, &s, &cause);
	frame_schema_free(&s);
	schema_orders(&s, "a", "b_c", "t");
	rt2 = replica_apply_schema(r, &s, &cause);
	frame_schema_free(&s);
	schema_orders(&s, "A", "b_c", "T"); /* differs only by case */
	rt3 = replica_apply_schema(r, &s, &cause);
	ck_assert_msg(rt1 != NULL && rt2 != NULL && rt3 != NULL, "%s", cause);
	ck_assert_str_eq(replica_table_name(rt1), "a%5Fb_c.t");
	ck_assert_str_eq(replica_table_name(rt2), "a_b_c.t");
	ck_assert_str_eq(replica_table_name(rt3), "A_b_c.T~2");
	frame_schema_free(&s);
	/* The journal of "t" and a source table "t_journal" differ. */
	schema_orders(&s, "a", "b_c", "t_journal");
	rt1 = replica_apply_schema(r, &s, &cause);
	ck_assert_msg(rt1 != NULL, "%s", cause);
	ck_assert_str_eq(replica_table_name(rt1), "a_b_c.t%5Fjournal");
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/*
 * kill -9 in the middle of a transaction, then at random moments of a
 * stream of transactions: rows, journal and position always agree.
 */
START_TEST(test_kill9)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	const uint8_t *pos;
	size_t len;
	char *cause = NULL, *n1, *n2, sql[128];
	pid_t pid;
	int round, status, i;
	sqlite3 *db;

	schema_orders(&s, "shop", "dbo", "orders");
	for (round = 0; round < 4; round++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			r = open_ok(0);
			rt = replica_apply_schema(r, &s, &cause);
			replica_position(rt, &pos, &len);
			i = len > 0 ? pos_int(pos) + 1 : 1;
			for (;; i++) {
				if ((i - 1) % 100 == 0)
					begin_ok(r);
				order_event(
				    &ev, FRAME_OP_CREATE, i, i % 500, "k", "1");
				apply_ok(rt, &s, &ev, 0);
				if (round == 0 && i == 150)
					_exit(0); /* mid-transaction */
				if (i % 100 == 0)
					commit_ok(r);
			}
		}
		if (round > 0) {
			usleep(20000 + 30000 * round);
			kill(pid, SIGKILL);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		r = open_ok(0);
		rt = replica_apply_schema(r, &s, &cause);
		ck_assert_int_eq(replica_position(rt, &pos, &len), 1);
		i = pos_int(pos);
		ck_assert_int_eq(i % 100, 0); /* whole transactions only */
		if (round == 0)
			ck_assert_int_eq(i, 100);
		replica_close(r);
		db = raw_open();
		n1 = query1(
		    db, "SELECT count(*) FROM \"shop_dbo.orders_journal\"");
		snprintf(sql, sizeof(sql), "%d", i);
		ck_assert_str_eq(n1, sql);
		n2 = query1(db, "SELECT count(*) FROM \"shop_dbo.orders\"");
		snprintf(sql, sizeof(sql), "%d", i < 500 ? i : 500);
		ck_assert_str_eq(n2, sql);
		free(n1);
		free(n2);
		sqlite3_close(db);
	}
	frame_schema_free(&s);
}
END_TEST

/* A reader holding a long read transaction never blocks a commit. */
START_TEST(test_reader)
{
	struct frame_schema s;
	struct replica *r, *ro;
	struct replica_table *rt;
	struct ev ev;
	struct timespec t0, t1;
	char *cause = NULL;
	int i;
	sqlite3 *db;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	begin_ok(r);
	order_event(&ev, FRAME_OP_CREATE, 1, 1, "a", "1");
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);

	db = raw_open();
	ck_assert_int_eq(
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	ASSERT_Q(db, "SELECT count(*) FROM \"shop_dbo.orders\"", "1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 2; i <= 50; i++) {
		begin_ok(r);
		order_event(&ev, FRAME_OP_CREATE, i, i, "a", "1");
		apply_ok(rt, &s, &ev, 0);
		commit_ok(r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 5, "commits waited");
	ASSERT_Q(db, "SELECT count(*) FROM \"shop_dbo.orders\"", "1");
	ck_assert_int_eq(
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	ASSERT_Q(db, "SELECT count(*) FROM \"shop_dbo.orders\"", "50");
	sqlite3_close(db);

	/* A read-only handle (verify) finds the table and its columns. */
	ro = open_ok(REPLICA_READONLY);
	ck_assert_int_eq(
	    replica_table_lookup(ro, "shop", "dbo", "orders", &rt, &cause), 1);
	ck_assert_str_eq(replica_table_name(rt), "shop_dbo.orders");
	ck_assert_int_eq(
	    replica_table_lookup(ro, "shop", "dbo", "none", &rt, &cause), 0);
	replica_close(ro);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/*
 * The state's round commits with the rows and only with them: a rolled
 * back transaction leaves the previous round, a reopen finds the last.
 */
START_TEST(test_round)
{
	struct replica *r;
	uint64_t round = 0;
	uint8_t *blob;
	size_t len;
	char *cause = NULL;

	r = open_ok(0);
	ck_assert_int_eq(replica_round_get(r, &round, &blob, &len, &cause), 0);
	ck_assert_ptr_null(blob);
	/* Outside a transaction: refused, not auto-committed. */
	ck_assert_int_eq(
	    replica_round_set(r, 1, (const uint8_t *)"a", 1, &cause), -1);
	free(cause);
	begin_ok(r);
	ck_assert_msg(
	    replica_round_set(r, 1, (const uint8_t *)"one", 3, &cause) == 0,
	    "%s", cause);
	commit_ok(r);
	begin_ok(r);
	ck_assert_int_eq(
	    replica_round_set(r, 2, (const uint8_t *)"two", 3, &cause), 0);
	replica_rollback(r);
	ck_assert_int_eq(replica_round_get(r, &round, &blob, &len, &cause), 1);
	ck_assert(round == 1 && len == 3 && memcmp(blob, "one", 3) == 0);
	free(blob);
	begin_ok(r);
	ck_assert_int_eq(
	    replica_round_set(r, 2, (const uint8_t *)"round2", 6, &cause), 0);
	commit_ok(r);
	replica_close(r);
	r = open_ok(REPLICA_READONLY);
	ck_assert_int_eq(replica_round_get(r, &round, &blob, &len, &cause), 1);
	ck_assert(round == 2 && len == 6 && memcmp(blob, "round2", 6) == 0);
	free(blob);
	replica_close(r);
}
END_TEST

/*
 * Re-backfill reconcile: after a reset (mark, positions afresh) the new
 * backfill sees rows 1 and 3 again and row 4 is updated by the stream;
 * row 2 was deleted at the source while not captured, so it ends
 * _deleted = 1 with a 'd' journal entry at the applied position.  Row
 * 5, deleted before the mark, is left alone.  Run twice: nothing more.
 * A first backfill marks itself and deletes nothing; a rolled back
 * reconcile leaves the mark for the replay.
 */
START_TEST(test_reconcile)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	uint64_t n = 0;
	char *cause = NULL;
	sqlite3 *db;
	int i;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_ptr_nonnull(rt);
	begin_ok(r);
	for (i = 1; i <= 5; i++) {
		order_event(&ev, FRAME_OP_CREATE, 100 + i, i, "a", "1");
		ev.e.snapshot = 1;
		apply_ok(rt, &s, &ev, 0);
	}
	order_event(&ev, FRAME_OP_DELETE, 200, 5, NULL, NULL);
	apply_ok(rt, &s, &ev, 0);
	/* The first backfill marked itself at 0: it deletes nothing. */
	ck_assert_msg(
	    replica_backfill_end(rt, NULL, &n, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(n, 0);
	commit_ok(r);
	db = raw_open();
	ASSERT_Q(
	    db, "SELECT quote(backfill_mark) FROM _replica_tables", "NULL");
	/* Reset: mark after entry 6, positions start again. */
	begin_ok(r);
	ck_assert_msg(replica_backfill_begin(rt, 1, &cause) == 0, "%s", cause);
	order_event(&ev, FRAME_OP_CREATE, 50, 1, "a", "1");
	ev.e.snapshot = 1;
	apply_ok(rt, &s, &ev, 0);
	order_event(&ev, FRAME_OP_CREATE, 51, 3, "c", "3");
	ev.e.snapshot = 1;
	apply_ok(rt, &s, &ev, 0);
	order_event(&ev, FRAME_OP_UPDATE, 52, 4, "d", NULL);
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	ASSERT_Q(db, "SELECT backfill_mark FROM _replica_tables", "6");
	/* A rolled back reconcile changes nothing, keeps the mark. */
	begin_ok(r);
	ck_assert_int_eq(replica_backfill_end(rt, NULL, &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	replica_rollback(r);
	ASSERT_Q(
	    db, "SELECT _deleted FROM \"shop_dbo.orders\" WHERE id = 2", "0");
	begin_ok(r);
	ck_assert_int_eq(
	    replica_backfill_end(rt, "2026-03-03T00:00:00.000Z", &n, &cause),
	    0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(replica_backfill_end(rt, NULL, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	commit_ok(r);
	ASSERT_Q(db,
	    "SELECT group_concat(id || ':' || _deleted, ',') FROM "
	    "(SELECT * FROM \"shop_dbo.orders\" ORDER BY id)",
	    "1:0,2:1,3:0,4:0,5:1");
	ASSERT_Q(db, "SELECT _updated_at FROM \"shop_dbo.orders\" WHERE id = 2",
	    "2026-03-03T00:00:00.000Z");
	ASSERT_Q(db,
	    "SELECT _op || ',' || id || ',' || name || ',' || _snapshot || "
	    "',' || hex(_pos) FROM \"shop_dbo.orders_journal\" ORDER BY _seq "
	    "DESC LIMIT 1",
	    "d,2,a,1,0000000000000034"
	    "0000000000000000");
	ASSERT_Q(db, "SELECT count(*) FROM \"shop_dbo.orders_journal\"", "10");
	ASSERT_Q(
	    db, "SELECT quote(backfill_mark) FROM _replica_tables", "NULL");
	sqlite3_close(db);
	/* Later events still apply: the position did not move. */
	begin_ok(r);
	order_event(&ev, FRAME_OP_UPDATE, 53, 3, "c2", NULL);
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/*
 * A version 2 file migrates with mark 0 for its tables: a backfill
 * under way at the upgrade finishes without deleting the rows it
 * copied before it.
 */
START_TEST(test_migrate_mark)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	uint64_t n = 1;
	char *cause = NULL;
	sqlite3 *db;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	begin_ok(r);
	order_event(&ev, FRAME_OP_CREATE, 10, 1, "a", "1");
	ev.e.snapshot = 1;
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	replica_close(r);
	db = raw_open();
	ck_assert_int_eq(sqlite3_exec(db,
			     "ALTER TABLE _replica_tables DROP COLUMN "
			     "backfill_mark; ALTER TABLE _replica_tables DROP "
			     "COLUMN mode; PRAGMA user_version = 2",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	r = open_ok(0);
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_ptr_nonnull(rt);
	begin_ok(r);
	order_event(&ev, FRAME_OP_CREATE, 11, 2, "b", "2");
	ev.e.snapshot = 1;
	apply_ok(rt, &s, &ev, 0);
	ck_assert_int_eq(replica_backfill_end(rt, NULL, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	commit_ok(r);
	db = raw_open();
	ASSERT_Q(db, "PRAGMA user_version", "3");
	ASSERT_Q(db,
	    "SELECT count(*) FROM \"shop_dbo.orders\" WHERE _deleted = 0", "2");
	sqlite3_close(db);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

/*
 * A position of another capture mode does not compare: after a schema
 * in CDC mode, an event whose bytes sort below the last Change
 * Tracking position is applied, not skipped as a replay.
 */
START_TEST(test_mode_change)
{
	struct frame_schema s, c;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	char *cause = NULL;
	sqlite3 *db;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_ptr_nonnull(rt);
	begin_ok(r);
	order_event(&ev, FRAME_OP_CREATE, 900, 1, "ct", "1");
	apply_ok(rt, &s, &ev, 0);
	commit_ok(r);
	schema_orders(&c, "shop", "dbo", "orders");
	c.mode = FRAME_MODE_CDC;
	begin_ok(r);
	ck_assert_ptr_eq(replica_apply_schema(r, &c, &cause), rt);
	order_event(&ev, FRAME_OP_UPDATE, 5, 1, "cdc", NULL);
	ev.e.poslen = FRAME_POS_CDC_SIZE;
	apply_ok(rt, &c, &ev, 0);
	apply_ok(rt, &c, &ev, 1); /* the same CDC position: a replay */
	commit_ok(r);
	db = raw_open();
	ASSERT_Q(
	    db, "SELECT name FROM \"shop_dbo.orders\" WHERE id = 1", "cdc");
	ASSERT_Q(db, "SELECT mode || ',' || length(pos) FROM _replica_tables",
	    "2,21");
	sqlite3_close(db);
	frame_schema_free(&s);
	frame_schema_free(&c);
	replica_close(r);
}
END_TEST

/* A transaction is full after REPLICA_BATCH_EVENTS events (or ms). */
START_TEST(test_batch)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	struct ev ev;
	char *cause = NULL;
	int i;

	r = open_ok(0);
	schema_orders(&s, "shop", "dbo", "orders");
	rt = replica_apply_schema(r, &s, &cause);
	ck_assert_int_eq(replica_batch_full(r), 0);
	begin_ok(r);
	ck_assert_int_eq(replica_batch_full(r), 0);
	for (i = 1; i <= REPLICA_BATCH_EVENTS; i++) {
		order_event(&ev, FRAME_OP_CREATE, i, i, "a", "1");
		apply_ok(rt, &s, &ev, 0);
	}
	ck_assert_int_eq(replica_batch_full(r), 1);
	commit_ok(r);
	frame_schema_free(&s);
	replica_close(r);
}
END_TEST

static Suite *
replica_suite(void)
{
	Suite *s = suite_create("replica");
	TCase *tc = tcase_create("replica");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_evolve);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_kill9);
	tcase_add_test(tc, test_reader);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_round);
	tcase_add_test(tc, test_reconcile);
	tcase_add_test(tc, test_mode_change);
	tcase_add_test(tc, test_migrate_mark);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(replica_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
