/*
 * verify: compare the source tables with the SQLite replica, trusting
 * neither our cursors nor the replica's positions.
 *
 * Per table: the row counts (source COUNT_BIG(*), replica rows with
 * _deleted = 0), then a walk of the source in primary-key order in
 * chunks of VERIFY_CHUNK_ROWS rows (typed keyset queries through
 * sp_executesql, so the server seeks its index).  Rows are compared by
 * a canonical encoding of their frame values (proto.h): per value its
 * type, then its bytes, length-prefixed, so NULL and '' differ and so
 * do 1 and '1' (verify_enc_row(); binary rather than the JSON
 * rendering, which costs a shortest-float search per double).  Replica
 * values are turned back into frame values by the source column type
 * (bit 0/1 -> bool, real -> float32) first.  Keys are also kept in
 * their JSON rendering, which is what the report prints.
 *
 * Key order.  SQL Server and SQLite order strings (collations), GUIDs,
 * decimals and dates differently, so the ranges always come from the
 * source.  When every key column is an integer type, both orders
 * agree: each chunk is the range (previous last key, this last key]
 * (open-ended at both ends of the table), and SHA-256 over the
 * encodings plus the count is computed for the source chunk and for
 * the replica rows in that range (one indexed range scan).  A range
 * that differs is bisected at source keys, re-hashing only the replica
 * side, down to single source rows, where the replica rows of the
 * range name the missing, extra and differing keys.  For any other key
 * the replica rows are fetched by key lookup (exact equality, no
 * order needed), which finds missing and differing rows; the extra
 * ones are then found only if the counts say there are some, by
 * scanning the replica's keys and asking the source for them in
 * batches of VERIFY_PROBE_KEYS.
 *
 * Memory: one chunk of source rows (their encodings) at a time; the
 * replica side is streamed.  MSSQL_CAPTURE_VERIFY_CHUNK in the
 * environment sets the chunk size (tests use small ones).  Output: one line per difference
 * ("missing: dbo.orders id=42", "extra: ...", "differs: ...") and one
 * summary line per table.  Exit 0 equal, 1 drift, 2 error.
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "state.h"
#include "supervisor.h"
#include "worker.h"

#define VERIFY_CHUNK_ROWS 10000
#define VERIFY_PROBE_KEYS 100 /* keys per probe: one key column */
#define VERIFY_PROBE_ROWS 16 /* composite keys (an OR each) */

/* Rows per chunk; MSSQL_CAPTURE_VERIFY_CHUNK overrides it (tests). */
static size_t verify_chunk_rows = VERIFY_CHUNK_ROWS;

/* One source row of the current chunk. */
struct verify_row {
	uint8_t *enc; /* canonical encoding of the row */
	size_t enclen;
	uint8_t *keyenc; /* canonical encoding of the key */
	size_t keyenclen;
	struct frame_value *key; /* strings point into keydata */
	uint8_t *keydata;
};

/* A table being verified. */
struct verify_table {
	struct verify *vf;
	const char *schema;
	const char *table;
	struct replica_table *rt;
	const struct replica_column *cols;
	size_t ncols;
	size_t *keys; /* column index of key ordinal 1..nkeys */
	size_t nkeys;
	int ordered; /* integer key: ranged comparison */
	char *src_select; /* SELECT TOP (N) <cols> FROM [s].[t] */
	char *src_order; /* ORDER BY <keys> */
	char *rep_select; /* SELECT <cols> FROM "replica" WHERE live */
	sqlite3_stmt *range[4]; /* lo?, hi? */
	sqlite3_stmt *lookup;
	struct verify_row *rows;
	size_t nrows;
	uint64_t matched;
	uint64_t missing, extra, differs;
	int error;
};

struct verify {
	struct config *cfg;
	struct replica *r;
	sqlite3 *sq;
	struct db *db;
	struct json_buf enc; /* scratch encodings */
	struct json_buf val;
	EVP_MD_CTX *md;
};

static int verify_setup(struct verify *, struct cmd_opts *);
static void verify_teardown(struct verify *);
static int verify_names(struct verify *, struct cmd_opts *, char ***, size_t *);
static int verify_one(struct verify *, const char *);
static int verify_table_init(
    struct verify_table *, struct verify *, const char *, const char *);
static void verify_table_free(struct verify_table *);
static void verify_sql_build(struct verify_table *);
static void verify_quote_ms(struct json_buf *, const char *);
static int verify_is_int_type(uint32_t);
static void verify_enc_row(struct json_buf *, const struct frame_value *);
static void verify_enc_key(
    struct json_buf *, struct json_buf *, const struct frame_value *);
static void verify_rep_value(
    const struct replica_column *, sqlite3_stmt *, int, struct frame_value *);
static void verify_rep_encode(struct verify_table *, sqlite3_stmt *);
static void verify_rep_keyenc(struct verify_table *, sqlite3_stmt *, int);
static int verify_counts(struct verify_table *, uint64_t *, uint64_t *);
static int verify_db_scalar(
    struct verify *, const char *, const struct db_param *, size_t, int64_t *);
static void verify_key_params(
    struct verify_table *, struct db_param *, const struct frame_value *);
static int verify_fetch(struct verify_table *, const struct verify_row *);
static void verify_row_free(struct verify_row *);
static void verify_rows_free(struct verify_table *);
static void verify_row_keep(struct verify_table *, const struct frame_value *);
static void verify_report(
    struct verify_table *, const char *, const uint8_t *, size_t);
static void verify_hash(struct verify *, const uint8_t *, size_t, uint8_t *);
static void verify_bind_key(
    sqlite3_stmt *, int, const struct verify_row *, size_t);
static sqlite3_stmt *verify_range_stmt(struct verify_table *,
    const struct verify_row *, const struct verify_row *);
static int verify_range_hash(struct verify_table *, const struct verify_row *,
    const struct verify_row *, uint8_t *, uint64_t *);
static void verify_src_hash(struct verify_table *, size_t, size_t, uint8_t *);
static int verify_leaf(struct verify_table *, size_t, size_t,
    const struct verify_row *, const struct verify_row *);
static int verify_bisect(struct verify_table *, size_t, size_t,
    const struct verify_row *, const struct verify_row *);
static int verify_lookup_chunk(struct verify_table *);
static int verify_extras(struct verify_table *);
static void verify_probe_where(
    struct verify_table *, struct json_buf *, size_t);
static int verify_probe(struct verify_table *, struct verify_row *, size_t);
static int verify_walk(struct verify_table *);

/* Quote a T-SQL identifier: [name] with ] doubled. */
static void
verify_quote_ms(struct json_buf *b, const char *s)
{
	json_add(b, "[", 1);
	for (; *s != '\0'; s++) {
		json_add(b, s, 1);
		if (*s == ']')
			json_add(b, "]", 1);
	}
	json_add(b, "]", 1);
}

/* Integer types order the same way in SQL Server and SQLite. */
static int
verify_is_int_type(uint32_t type_id)
{
	return (
	    type_id == 48 || type_id == 52 || type_id == 56 || type_id == 127);
}

/*
 * Append a value's canonical encoding: a type byte, a 4-byte length,
 * the bytes (integers big-endian 64-bit, floating point as its IEEE
 * bits, strings and binary as they are).  NULL is its type byte alone.
 */
static void
verify_enc_row(struct json_buf *out, const struct frame_value *v)
{
	uint8_t hdr[5], num[8];
	const uint8_t *p = num;
	uint64_t u = 0;
	uint32_t f;
	size_t n = 8, i;

	switch (v->type) {
	case FRAME_VALUE_INT:
		u = (uint64_t)v->v.i;
		break;
	case FRAME_VALUE_BOOL:
		u = v->v.b != 0;
		break;
	case FRAME_VALUE_REAL:
		memcpy(&f, &v->v.real, 4);
		u = f;
		break;
	case FRAME_VALUE_FLOAT:
		memcpy(&u, &v->v.flt, 8);
		break;
	case FRAME_VALUE_STR:
	case FRAME_VALUE_BIN:
		p = v->v.s.ptr;
		n = v->v.s.len;
		break;
	default:
		n = 0;
		break;
	}
	for (i = 0; i < 8; i++)
		num[i] = (uint8_t)(u >> (56 - 8 * i));
	hdr[0] = (uint8_t)v->type;
	hdr[1] = n >> 24;
	hdr[2] = n >> 16;
	hdr[3] = n >> 8;
	hdr[4] = n;
	json_add(out, hdr, v->type == FRAME_VALUE_NULL ? 1 : 5);
	json_add(out, p, n);
}

/* Append a key value's display encoding: 4-byte length, JSON text. */
static void
verify_enc_key(
    struct json_buf *out, struct json_buf *scratch, const struct frame_value *v)
{
	uint8_t len[4];
	size_t n;

	json_buf_reset(scratch);
	json_write_value(scratch, v);
	n = scratch->len;
	len[0] = n >> 24;
	len[1] = n >> 16;
	len[2] = n >> 8;
	len[3] = n;
	json_add(out, len, 4);
	json_add(out, scratch->data, n);
}

/* A replica column as the frame value the source would give. */
static void
verify_rep_value(const struct replica_column *c, sqlite3_stmt *stmt, int i,
    struct frame_value *v)
{
	switch (sqlite3_column_type(stmt, i)) {
	case SQLITE_INTEGER:
		v->type =
		    c->type_id == 104 ? FRAME_VALUE_BOOL : FRAME_VALUE_INT;
		v->v.i = sqlite3_column_int64(stmt, i);
		if (c->type_id == 104)
			v->v.b = v->v.i != 0;
		break;
	case SQLITE_FLOAT:
		if (c->type_id == 59) {
			v->type = FRAME_VALUE_REAL;
			v->v.real = (float)sqlite3_column_double(stmt, i);
		} else {
			v->type = FRAME_VALUE_FLOAT;
			v->v.flt = sqlite3_column_double(stmt, i);
		}
		break;
	case SQLITE_TEXT:
		v->type = FRAME_VALUE_STR;
		v->v.s.ptr = sqlite3_column_text(stmt, i);
		v->v.s.len = sqlite3_column_bytes(stmt, i);
		break;
	case SQLITE_BLOB:
		v->type = FRAME_VALUE_BIN;
		v->v.s.ptr = sqlite3_column_blob(stmt, i);
		v->v.s.len = sqlite3_column_bytes(stmt, i);
		break;
	default:
		v->type = FRAME_VALUE_NULL;
		break;
	}
}

/* Encode the current replica row into vf->enc. */
static void
verify_rep_encode(struct verify_table *vt, sqlite3_stmt *stmt)
{
	struct frame_value v;
	size_t i;

	json_buf_reset(&vt->vf->enc);
	for (i = 0; i < vt->ncols; i++) {
		verify_rep_value(&vt->cols[i], stmt, (int)i, &v);
		verify_enc_row(&vt->vf->enc, &v);
	}
}

/* Encode the key of the current replica row (key columns from col0). */
static void
verify_rep_keyenc(struct verify_table *vt, sqlite3_stmt *stmt, int col0)
{
	struct frame_value v;
	size_t k;

	json_buf_reset(&vt->vf->enc);
	for (k = 0; k < vt->nkeys; k++) {
		verify_rep_value(&vt->cols[vt->keys[k]], stmt,
		    col0 < 0 ? (int)vt->keys[k] : col0 + (int)k, &v);
		verify_enc_key(&vt->vf->enc, &vt->vf->val, &v);
	}
}

/* Build the source and replica queries of a table. */
static void
verify_sql_build(struct verify_table *vt)
{
	struct json_buf s, o, r;
	char *q, top[64];
	size_t i;

	json_buf_init(&s);
	json_buf_init(&o);
	json_buf_init(&r);
	snprintf(top, sizeof(top), "SELECT TOP (%zu) ", verify_chunk_rows);
	json_add(&s, top, strlen(top));
	json_add(&r, "SELECT ", 7);
	for (i = 0; i < vt->ncols; i++) {
		json_add(&s, ", ", i > 0 ? 2 : 0);
		verify_quote_ms(&s, vt->cols[i].name);
		json_add(&r, ", ", i > 0 ? 2 : 0);
		q = replica_quote(vt->cols[i].rname);
		json_add(&r, q, strlen(q));
		free(q);
	}
	json_add(&s, " FROM ", 6);
	verify_quote_ms(&s, vt->schema);
	json_add(&s, ".", 1);
	verify_quote_ms(&s, vt->table);
	q = replica_quote(replica_table_name(vt->rt));
	json_add(&r, " FROM ", 6);
	json_add(&r, q, strlen(q));
	json_add(&r, " WHERE \"_deleted\" = 0", 21);
	free(q);
	json_add(&o, " ORDER BY ", 10);
	for (i = 0; i < vt->nkeys; i++) {
		json_add(&o, ", ", i > 0 ? 2 : 0);
		verify_quote_ms(&o, vt->cols[vt->keys[i]].name);
	}
	json_add(&s, "", 1);
	json_add(&o, "", 1);
	json_add(&r, "", 1);
	vt->src_select = s.data;
	vt->src_order = o.data;
	vt->rep_select = r.data;
}

/* Find the replica table and its columns. */
static int
verify_table_init(struct verify_table *vt, struct verify *vf,
    const char *schema, const char *table)
{
	char *cause = NULL;
	size_t i, k;
	int found;

	memset(vt, 0, sizeof(*vt));
	vt->vf = vf;
	vt->schema = schema;
	vt->table = table;
	found = replica_table_lookup(
	    vf->r, vf->cfg->database, schema, table, &vt->rt, &cause);
	if (found != 1) {
		fprintf(stderr, "%s: verify: %s.%s: %s\n", PACKAGE_NAME, schema,
		    table, found == 0 ? "not in the replica" : cause);
		free(cause);
		return (-1);
	}
	vt->cols = replica_table_columns(vt->rt, &vt->ncols);
	vt->keys = xcalloc(vt->ncols, sizeof(*vt->keys));
	vt->ordered = 1;
	for (k = 1; k <= vt->ncols; k++)
		for (i = 0; i < vt->ncols; i++)
			if (vt->cols[i].key_ordinal == k) {
				vt->keys[vt->nkeys++] = i;
				vt->ordered &=
				    verify_is_int_type(vt->cols[i].type_id);
			}
	verify_sql_build(vt);
	return (0);
}

/* Free what verify_table_init() and the walk allocated. */
static void
verify_table_free(struct verify_table *vt)
{
	size_t i;

	verify_rows_free(vt);
	free(vt->rows);
	for (i = 0; i < 4; i++)
		sqlite3_finalize(vt->range[i]);
	sqlite3_finalize(vt->lookup);
	free(vt->keys);
	free(vt->src_select);
	free(vt->src_order);
	free(vt->rep_select);
}

/* Run a source query returning one integer. */
static int
verify_db_scalar(struct verify *vf, const char *sql,
    const struct db_param *params, size_t n, int64_t *out)
{
	struct frame_value v;
	char text[DBVALUE_TEXT_MAX];
	int got = 0;

	if (db_exec_params(vf->db, sql, params, n) == -1 ||
	    db_next_result(vf->db) != 1)
		return (-1);
	while (db_next_row(vf->db) == 1) {
		if (db_value(vf->db, 0, &v, text) == 0 &&
		    v.type == FRAME_VALUE_INT) {
			*out = v.v.i;
			got = 1;
		}
	}
	if (db_drain(vf->db) == -1 || !got)
		return (-1);
	return (0);
}

/* Source and replica row counts. */
static int
verify_counts(struct verify_table *vt, uint64_t *src, uint64_t *rep)
{
	struct json_buf b;
	sqlite3_stmt *stmt;
	char *q, *sql;
	int64_t n = 0;
	int rc;

	json_buf_init(&b);
	json_add(&b, "SELECT COUNT_BIG(*) FROM ", 25);
	verify_quote_ms(&b, vt->schema);
	json_add(&b, ".", 1);
	verify_quote_ms(&b, vt->table);
	json_add(&b, "", 1);
	rc = verify_db_scalar(vt->vf, b.data, NULL, 0, &n);
	json_buf_free(&b);
	if (rc == -1) {
		fprintf(stderr, "%s: verify: %s.%s: source: %s\n", PACKAGE_NAME,
		    vt->schema, vt->table, db_error(vt->vf->db)->text);
		return (-1);
	}
	*src = (uint64_t)n;
	q = replica_quote(replica_table_name(vt->rt));
	xasprintf(&sql, "SELECT count(*) FROM %s WHERE \"_deleted\" = 0", q);
	free(q);
	rc = sqlite3_prepare_v2(vt->vf->sq, sql, -1, &stmt, NULL);
	free(sql);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		*rep = (uint64_t)sqlite3_column_int64(stmt, 0);
	else
		rc = SQLITE_ERROR;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "%s: verify: %s: %s\n", PACKAGE_NAME,
		    replica_table_name(vt->rt), sqlite3_errmsg(vt->vf->sq));
		return (-1);
	}
	return (0);
}

/* Typed parameters for a key (from a kept row). */
static void
verify_key_params(
    struct verify_table *vt, struct db_param *p, const struct frame_value *key)
{
	const struct replica_column *c;
	size_t k;

	for (k = 0; k < vt->nkeys; k++) {
		c = &vt->cols[vt->keys[k]];
		db_param_set(&p[k], c->type_id, c->precision, c->scale,
		    c->max_length, &key[k]);
	}
}

/* Free what a kept row holds. */
static void
verify_row_free(struct verify_row *row)
{
	free(row->enc);
	free(row->keyenc);
	free(row->key);
	free(row->keydata);
	memset(row, 0, sizeof(*row));
}

/* Free the rows of the current chunk. */
static void
verify_rows_free(struct verify_table *vt)
{
	size_t i;

	for (i = 0; i < vt->nrows; i++)
		verify_row_free(&vt->rows[i]);
	vt->nrows = 0;
}

/* Keep a source row: its encodings and a copy of its key values. */
static void
verify_row_keep(struct verify_table *vt, const struct frame_value *vals)
{
	struct verify_row *row;
	struct frame_value *kv;
	size_t k, off = 0, need = 0;

	if (vt->nrows % 1024 == 0)
		vt->rows = xreallocarray(
		    vt->rows, vt->nrows + 1024, sizeof(*vt->rows));
	row = &vt->rows[vt->nrows++];
	row->enc = xmalloc(vt->vf->enc.len + 1);
	memcpy(row->enc, vt->vf->enc.data, vt->vf->enc.len);
	row->enclen = vt->vf->enc.len;
	row->key = xcalloc(vt->nkeys, sizeof(*row->key));
	for (k = 0; k < vt->nkeys; k++) {
		kv = &row->key[k];
		*kv = vals[vt->keys[k]];
		if (kv->type == FRAME_VALUE_STR || kv->type == FRAME_VALUE_BIN)
			need += kv->v.s.len;
	}
	row->keydata = xmalloc(need + 1);
	for (k = 0; k < vt->nkeys; k++) {
		kv = &row->key[k];
		if (kv->type != FRAME_VALUE_STR && kv->type != FRAME_VALUE_BIN)
			continue;
		memcpy(row->keydata + off, kv->v.s.ptr, kv->v.s.len);
		kv->v.s.ptr = row->keydata + off;
		off += kv->v.s.len;
	}
	json_buf_reset(&vt->vf->enc);
	for (k = 0; k < vt->nkeys; k++)
		verify_enc_key(&vt->vf->enc, &vt->vf->val, &row->key[k]);
	row->keyenc = xmalloc(vt->vf->enc.len + 1);
	memcpy(row->keyenc, vt->vf->enc.data, vt->vf->enc.len);
	row->keyenclen = vt->vf->enc.len;
}

/*
 * Fetch the next chunk of source rows, after the key of last (NULL:
 * from the start).  0, or -1 with the error printed.
 */
static int
verify_fetch(struct verify_table *vt, const struct verify_row *last)
{
	struct verify *vf = vt->vf;
	struct db_param *p;
	struct frame_value *vals;
	struct json_buf b;
	char(*text)[DBVALUE_TEXT_MAX], n[32];
	size_t i, k, np = 0;
	int rc = 0;

	p = xcalloc(vt->nkeys, sizeof(*p));
	json_buf_init(&b);
	json_add(&b, vt->src_select, strlen(vt->src_select));
	if (last != NULL) {
		/* (k1 > @p1) OR (k1 = @p1 AND k2 > @p2) OR ... */
		json_add(&b, " WHERE ", 7);
		for (k = 0; k < vt->nkeys; k++) {
			json_add(&b, k > 0 ? " OR (" : "(", k > 0 ? 5 : 1);
			for (i = 0; i <= k; i++) {
				json_add(&b, " AND ", i > 0 ? 5 : 0);
				verify_quote_ms(&b, vt->cols[vt->keys[i]].name);
				snprintf(n, sizeof(n), " %s @p%zu",
				    i < k ? "=" : ">", i + 1);
				json_add(&b, n, strlen(n));
			}
			json_add(&b, ")", 1);
		}
		verify_key_params(vt, p, last->key);
		np = vt->nkeys;
	}
	json_add(&b, vt->src_order, strlen(vt->src_order) + 1);
	vals = xcalloc(vt->ncols, sizeof(*vals));
	text = xcalloc(vt->ncols, sizeof(*text));
	if (db_exec_params(vf->db, b.data, p, np) == -1 ||
	    db_next_result(vf->db) != 1)
		rc = -1;
	if (rc == 0 && last != NULL)
		verify_rows_free(vt);
	while (rc == 0 && (rc = db_next_row(vf->db)) == 1) {
		json_buf_reset(&vf->enc);
		for (i = 0; i < vt->ncols && rc == 1; i++) {
			if (db_value(vf->db, (int)i, &vals[i], text[i]) == -1)
				rc = -1;
			else
				verify_enc_row(&vf->enc, &vals[i]);
		}
		if (rc == 1)
			verify_row_keep(vt, vals);
		rc = rc == 1 ? 0 : rc;
	}
	if (rc == 0 && db_drain(vf->db) == -1)
		rc = -1;
	if (rc == -1)
		fprintf(stderr, "%s: verify: %s.%s: source: %s\n", PACKAGE_NAME,
		    vt->schema, vt->table, db_error(vf->db)->text);
	free(p);
	free(vals);
	free(text);
	json_buf_free(&b);
	return (rc);
}

/* Print one difference: "missing: dbo.orders id=42,b=\"x\"". */
static void
verify_report(struct verify_table *vt, const char *what, const uint8_t *keyenc,
    size_t len)
{
	size_t k, off = 0, n;

	printf("%s: %s.%s ", what, vt->schema, vt->table);
	for (k = 0; k < vt->nkeys && off + 4 <= len; k++) {
		n = (size_t)keyenc[off] << 24 | keyenc[off + 1] << 16 |
		    keyenc[off + 2] << 8 | keyenc[off + 3];
		printf("%s%s=%.*s", k > 0 ? "," : "",
		    vt->cols[vt->keys[k]].name, (int)n,
		    (const char *)keyenc + off + 4);
		off += 4 + n;
	}
	printf("\n");
	if (strcmp(what, "missing") == 0)
		vt->missing++;
	else if (strcmp(what, "extra") == 0)
		vt->extra++;
	else
		vt->differs++;
}

/* SHA-256 of bytes (one row), added to an open digest if out NULL. */
static void
verify_hash(struct verify *vf, const uint8_t *p, size_t len, uint8_t *out)
{
	uint8_t n[4] = { len >> 24, len >> 16, len >> 8, len };

	EVP_DigestUpdate(vf->md, n, 4);
	EVP_DigestUpdate(vf->md, p, len);
	if (out != NULL)
		EVP_DigestFinal_ex(vf->md, out, NULL);
}

/* Bind a kept row's key values from parameter idx on. */
static void
verify_bind_key(
    sqlite3_stmt *stmt, int idx, const struct verify_row *row, size_t nkeys)
{
	const struct frame_value *v;
	size_t k;

	for (k = 0; k < nkeys; k++) {
		v = &row->key[k];
		switch (v->type) {
		case FRAME_VALUE_INT:
			sqlite3_bind_int64(stmt, idx + (int)k, v->v.i);
			break;
		case FRAME_VALUE_BOOL:
			sqlite3_bind_int(stmt, idx + (int)k, v->v.b != 0);
			break;
		case FRAME_VALUE_REAL:
			sqlite3_bind_double(stmt, idx + (int)k, v->v.real);
			break;
		case FRAME_VALUE_FLOAT:
			sqlite3_bind_double(stmt, idx + (int)k, v->v.flt);
			break;
		case FRAME_VALUE_STR:
			sqlite3_bind_text64(stmt, idx + (int)k,
			    (const char *)v->v.s.ptr, v->v.s.len, SQLITE_STATIC,
			    SQLITE_UTF8);
			break;
		case FRAME_VALUE_BIN:
			sqlite3_bind_blob64(stmt, idx + (int)k, v->v.s.ptr,
			    v->v.s.len, SQLITE_STATIC);
			break;
		default:
			sqlite3_bind_null(stmt, idx + (int)k);
			break;
		}
	}
}

/* The replica range statement for (lo, hi], either bound open. */
static sqlite3_stmt *
verify_range_stmt(struct verify_table *vt, const struct verify_row *lo,
    const struct verify_row *hi)
{
	struct json_buf b, t;
	sqlite3_stmt **sp = &vt->range[(lo != NULL) | (hi != NULL) << 1];
	char *q, n[32];
	size_t k;
	int side;

	if (*sp != NULL) {
		sqlite3_reset(*sp);
		goto bind;
	}
	json_buf_init(&b);
	json_buf_init(&t);
	json_add(&t, "(", 1);
	for (k = 0; k < vt->nkeys; k++) {
		q = replica_quote(vt->cols[vt->keys[k]].rname);
		json_add(&t, ", ", k > 0 ? 2 : 0);
		json_add(&t, q, strlen(q));
		free(q);
	}
	json_add(&t, ")", 1);
	json_add(&b, vt->rep_select, strlen(vt->rep_select));
	for (side = 0; side < 2; side++) {
		if ((side == 0 ? lo : hi) == NULL)
			continue;
		json_add(&b, " AND ", 5);
		json_add(&b, t.data, t.len);
		json_add(&b, side == 0 ? " > (" : " <= (", side == 0 ? 4 : 5);
		for (k = 0; k < vt->nkeys; k++) {
			snprintf(n, sizeof(n), "%s?%zu", k > 0 ? ", " : "",
			    side * vt->nkeys + k + 1);
			json_add(&b, n, strlen(n));
		}
		json_add(&b, ")", 1);
	}
	json_add(&b, " ORDER BY ", 10);
	json_add(&b, t.data + 1, t.len - 2);
	json_add(&b, "", 1);
	if (sqlite3_prepare_v2(vt->vf->sq, b.data, -1, sp, NULL) != SQLITE_OK)
		*sp = NULL;
	json_buf_free(&b);
	json_buf_free(&t);
	if (*sp == NULL)
		return (NULL);
bind:
	sqlite3_clear_bindings(*sp);
	if (lo != NULL)
		verify_bind_key(*sp, 1, lo, vt->nkeys);
	if (hi != NULL)
		verify_bind_key(*sp, 1 + (int)vt->nkeys, hi, vt->nkeys);
	return (*sp);
}

/* SHA-256 and count of the replica rows in (lo, hi]. */
static int
verify_range_hash(struct verify_table *vt, const struct verify_row *lo,
    const struct verify_row *hi, uint8_t *md, uint64_t *count)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = verify_range_stmt(vt, lo, hi)) == NULL)
		return (-1);
	*count = 0;
	EVP_DigestInit_ex(vt->vf->md, EVP_sha256(), NULL);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		verify_rep_encode(vt, stmt);
		verify_hash(vt->vf, (const uint8_t *)vt->vf->enc.data,
		    vt->vf->enc.len, NULL);
		(*count)++;
	}
	verify_hash(vt->vf, (const uint8_t *)"", 0, md);
	sqlite3_reset(stmt);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* SHA-256 of source rows [a, b) of the chunk. */
static void
verify_src_hash(struct verify_table *vt, size_t a, size_t b, uint8_t *md)
{
	EVP_DigestInit_ex(vt->vf->md, EVP_sha256(), NULL);
	for (; a < b; a++)
		verify_hash(vt->vf, vt->rows[a].enc, vt->rows[a].enclen, NULL);
	verify_hash(vt->vf, (const uint8_t *)"", 0, md);
}

/* At most one source row in (lo, hi]: name what differs. */
static int
verify_leaf(struct verify_table *vt, size_t a, size_t b,
    const struct verify_row *lo, const struct verify_row *hi)
{
	struct verify_row *src = a < b ? &vt->rows[a] : NULL;
	sqlite3_stmt *stmt;
	uint8_t *keyenc;
	size_t keylen;
	int rc, seen = 0;

	if ((stmt = verify_range_stmt(vt, lo, hi)) == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		verify_rep_keyenc(vt, stmt, -1);
		keylen = vt->vf->enc.len;
		keyenc = xmalloc(keylen + 1);
		memcpy(keyenc, vt->vf->enc.data, keylen);
		if (src != NULL && keylen == src->keyenclen &&
		    memcmp(keyenc, src->keyenc, keylen) == 0) {
			seen = 1;
			verify_rep_encode(vt, stmt);
			if (vt->vf->enc.len != src->enclen ||
			    memcmp(vt->vf->enc.data, src->enc, src->enclen) !=
				0)
				verify_report(vt, "differs", keyenc, keylen);
		} else
			verify_report(vt, "extra", keyenc, keylen);
		free(keyenc);
	}
	sqlite3_reset(stmt);
	if (src != NULL && !seen)
		verify_report(vt, "missing", src->keyenc, src->keyenclen);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/*
 * Compare source rows [a, b) with the replica rows in (lo, hi] by
 * count and SHA-256; bisect what differs down to single rows.
 */
static int
verify_bisect(struct verify_table *vt, size_t a, size_t b,
    const struct verify_row *lo, const struct verify_row *hi)
{
	uint8_t src[EVP_MAX_MD_SIZE], rep[EVP_MAX_MD_SIZE];
	uint64_t count;
	size_t mid;

	if (verify_range_hash(vt, lo, hi, rep, &count) != 0)
		return (-1);
	verify_src_hash(vt, a, b, src);
	if (count == b - a && memcmp(src, rep, 32) == 0) {
		vt->matched += count;
		return (0);
	}
	if (b - a <= 1)
		return (verify_leaf(vt, a, b, lo, hi));
	mid = a + (b - a) / 2;
	if (verify_bisect(vt, a, mid, lo, &vt->rows[mid - 1]) != 0)
		return (-1);
	return (verify_bisect(vt, mid, b, &vt->rows[mid - 1], hi));
}

/* Compare a chunk by key lookups in the replica (unordered keys). */
static int
verify_lookup_chunk(struct verify_table *vt)
{
	struct verify_row *src;
	struct json_buf b;
	char *q, n[32];
	size_t i, k;
	int rc;

	if (vt->lookup == NULL) {
		json_buf_init(&b);
		json_add(&b, vt->rep_select, strlen(vt->rep_select));
		for (k = 0; k < vt->nkeys; k++) {
			q = replica_quote(vt->cols[vt->keys[k]].rname);
			snprintf(n, sizeof(n), " = ?%zu", k + 1);
			json_add(&b, " AND ", 5);
			json_add(&b, q, strlen(q));
			json_add(&b, n, strlen(n) + (k + 1 == vt->nkeys));
			free(q);
		}
		rc = sqlite3_prepare_v2(
		    vt->vf->sq, b.data, -1, &vt->lookup, NULL);
		json_buf_free(&b);
		if (rc != SQLITE_OK)
			return (-1);
	}
	for (i = 0; i < vt->nrows; i++) {
		src = &vt->rows[i];
		sqlite3_reset(vt->lookup);
		verify_bind_key(vt->lookup, 1, src, vt->nkeys);
		rc = sqlite3_step(vt->lookup);
		if (rc == SQLITE_DONE) {
			verify_report(
			    vt, "missing", src->keyenc, src->keyenclen);
			continue;
		}
		if (rc != SQLITE_ROW)
			return (-1);
		vt->matched++;
		verify_rep_encode(vt, vt->lookup);
		if (vt->vf->enc.len != src->enclen ||
		    memcmp(vt->vf->enc.data, src->enc, src->enclen) != 0)
			verify_report(
			    vt, "differs", src->keyenc, src->keyenclen);
	}
	sqlite3_reset(vt->lookup);
	return (0);
}

/* "k IN (@p1, ..)" or "(k1 = @p1 AND k2 = @p2) OR ..." for n keys. */
static void
verify_probe_where(struct verify_table *vt, struct json_buf *b, size_t n)
{
	char num[32];
	size_t i, k;

	if (vt->nkeys == 1)
		verify_quote_ms(b, vt->cols[vt->keys[0]].name);
	json_add(b, " IN (", vt->nkeys == 1 ? 5 : 0);
	for (i = 0; i < n; i++) {
		if (vt->nkeys == 1) {
			snprintf(num, sizeof(num), "%s@p%zu", i > 0 ? ", " : "",
			    i + 1);
			json_add(b, num, strlen(num));
			continue;
		}
		json_add(b, i > 0 ? " OR (" : "(", i > 0 ? 5 : 1);
		for (k = 0; k < vt->nkeys; k++) {
			json_add(b, " AND ", k > 0 ? 5 : 0);
			verify_quote_ms(b, vt->cols[vt->keys[k]].name);
			snprintf(num, sizeof(num), " = @p%zu",
			    i * vt->nkeys + k + 1);
			json_add(b, num, strlen(num));
		}
		json_add(b, ")", 1);
	}
	json_add(b, ")", vt->nkeys == 1);
}

/*
 * Ask the source which of n replica keys exist; report the others as
 * extra.  The probe rows hold only keyenc and key.
 */
static int
verify_probe(struct verify_table *vt, struct verify_row *probe, size_t n)
{
	struct db_param *p;
	struct frame_value *vals;
	struct json_buf b;
	char(*text)[DBVALUE_TEXT_MAX];
	uint8_t *found;
	size_t i, k, j;
	int rc = 0;

	p = xcalloc(n * vt->nkeys, sizeof(*p));
	vals = xcalloc(vt->nkeys, sizeof(*vals));
	found = xcalloc(n, 1);
	text = xcalloc(vt->nkeys, sizeof(*text));
	json_buf_init(&b);
	json_add(&b, "SELECT ", 7);
	for (k = 0; k < vt->nkeys; k++) {
		json_add(&b, ", ", k > 0 ? 2 : 0);
		verify_quote_ms(&b, vt->cols[vt->keys[k]].name);
	}
	json_add(&b, " FROM ", 6);
	verify_quote_ms(&b, vt->schema);
	json_add(&b, ".", 1);
	verify_quote_ms(&b, vt->table);
	json_add(&b, " WHERE ", 7);
	verify_probe_where(vt, &b, n);
	for (i = 0; i < n; i++)
		verify_key_params(vt, &p[i * vt->nkeys], probe[i].key);
	json_add(&b, "", 1);
	if (db_exec_params(vt->vf->db, b.data, p, n * vt->nkeys) == -1 ||
	    db_next_result(vt->vf->db) != 1)
		rc = -1;
	while (rc == 0 && db_next_row(vt->vf->db) == 1) {
		json_buf_reset(&vt->vf->enc);
		for (k = 0; k < vt->nkeys; k++) {
			if (db_value(vt->vf->db, (int)k, &vals[k], text[k]) ==
			    -1)
				rc = -1;
			else
				verify_enc_key(
				    &vt->vf->enc, &vt->vf->val, &vals[k]);
		}
		for (j = 0; rc == 0 && j < n; j++)
			if (probe[j].keyenclen == vt->vf->enc.len &&
			    memcmp(probe[j].keyenc, vt->vf->enc.data,
				vt->vf->enc.len) == 0)
				found[j] = 1;
	}
	if (rc == 0 && db_drain(vt->vf->db) == -1)
		rc = -1;
	if (rc == -1)
		fprintf(stderr, "%s: verify: %s.%s: source: %s\n", PACKAGE_NAME,
		    vt->schema, vt->table, db_error(vt->vf->db)->text);
	for (j = 0; rc == 0 && j < n; j++)
		if (!found[j])
			verify_report(
			    vt, "extra", probe[j].keyenc, probe[j].keyenclen);
	json_buf_free(&b);
	free(text);
	free(found);
	free(vals);
	free(p);
	return (rc);
}

/* Find the replica rows whose keys the source does not have. */
static int
verify_extras(struct verify_table *vt)
{
	sqlite3_stmt *stmt;
	struct frame_value *vals;
	size_t k, i;
	int rc;

	rc = sqlite3_prepare_v2(vt->vf->sq, vt->rep_select, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return (-1);
	verify_rows_free(vt);
	vals = xcalloc(vt->ncols, sizeof(*vals));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (k = 0; k < vt->nkeys; k++)
			verify_rep_value(&vt->cols[vt->keys[k]], stmt,
			    (int)vt->keys[k], &vals[vt->keys[k]]);
		json_buf_reset(&vt->vf->enc);
		verify_row_keep(vt, vals);
		if (vt->nrows ==
		    (vt->nkeys == 1 ? VERIFY_PROBE_KEYS : VERIFY_PROBE_ROWS)) {
			if (verify_probe(vt, vt->rows, vt->nrows) != 0)
				break;
			verify_rows_free(vt);
		}
	}
	i = vt->nrows;
	if (rc == SQLITE_DONE && i > 0 && verify_probe(vt, vt->rows, i) != 0)
		rc = SQLITE_ERROR;
	verify_rows_free(vt);
	sqlite3_finalize(stmt);
	free(vals);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* Walk the source in chunks and compare each with the replica. */
static int
verify_walk(struct verify_table *vt)
{
	struct verify_row *hi, last;
	int more, rc = 0;

	memset(&last, 0, sizeof(last));
	do {
		if (verify_fetch(vt, last.key != NULL ? &last : NULL) != 0) {
			rc = -1;
			break;
		}
		more = vt->nrows == verify_chunk_rows;
		hi = more ? &vt->rows[vt->nrows - 1] : NULL;
		if (vt->ordered)
			rc = verify_bisect(vt, 0, vt->nrows,
			    last.key != NULL ? &last : NULL, hi);
		else
			rc = verify_lookup_chunk(vt);
		verify_row_free(&last);
		if (more && rc == 0) {
			last = vt->rows[vt->nrows - 1];
			vt->nrows--; /* ownership moves to last */
		}
	} while (more && rc == 0);
	verify_row_free(&last);
	return (rc);
}

/* Verify one "schema.table": 0 equal, 1 drift, -1 error. */
static int
verify_one(struct verify *vf, const char *name)
{
	struct verify_table vt;
	char *schema, *table, *dot;
	uint64_t src = 0, rep = 0;
	int rc = -1;

	schema = xstrdup(name);
	if ((dot = strchr(schema, '.')) == NULL) {
		table = schema;
		schema = xstrdup("dbo");
	} else {
		*dot = '\0';
		table = xstrdup(dot + 1);
	}
	if (verify_table_init(&vt, vf, schema, table) != 0)
		goto out;
	if (verify_counts(&vt, &src, &rep) == 0 && verify_walk(&vt) == 0 &&
	    (vt.ordered || vt.matched == rep || verify_extras(&vt) == 0))
		rc = vt.missing + vt.extra + vt.differs > 0;
	if (rc == -1)
		fprintf(stderr, "%s: verify: %s.%s: failed\n", PACKAGE_NAME,
		    schema, table);
	else
		printf("%s.%s: %s: source %llu rows, replica %llu rows, "
		       "%llu missing, %llu extra, %llu differ\n",
		    schema, table, rc ? "DRIFT" : "equal",
		    (unsigned long long)src, (unsigned long long)rep,
		    (unsigned long long)vt.missing,
		    (unsigned long long)vt.extra,
		    (unsigned long long)vt.differs);
	verify_table_free(&vt);
out:
	free(schema);
	free(table);
	return (rc);
}

/* Load the configuration, open the replica, connect to the source. */
static int
verify_setup(struct verify *vf, struct cmd_opts *opts)
{
	struct config_errors errs;
	struct db_error err;
	char *cause = NULL;
	size_t i;

	memset(vf, 0, sizeof(*vf));
	json_buf_init(&vf->enc);
	json_buf_init(&vf->val);
	if (opts->config_path == NULL) {
		fprintf(stderr,
		    "%s: verify: no configuration file: use -c "
		    "FILE\n",
		    PACKAGE_NAME);
		return (-1);
	}
	if ((vf->cfg = config_load(opts->config_path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		config_errors_free(&errs);
		return (-1);
	}
	if (vf->cfg->replica.path == NULL) {
		fprintf(stderr, "%s: verify: %s has no replica.path\n",
		    PACKAGE_NAME, opts->config_path);
		return (-1);
	}
	vf->r = replica_open(vf->cfg->replica.path, REPLICA_READONLY, &cause);
	if (vf->r == NULL) {
		fprintf(stderr, "%s: verify: %s\n", PACKAGE_NAME, cause);
		free(cause);
		return (-1);
	}
	vf->sq = (sqlite3 *)replica_sqlite(vf->r);
	if ((vf->db = db_open(vf->cfg, &err)) == NULL) {
		fprintf(stderr, "%s: verify: cannot connect to %s:%d: %s\n",
		    PACKAGE_NAME, vf->cfg->host, vf->cfg->port, err.text);
		return (-1);
	}
	vf->md = EVP_MD_CTX_new();
	return (0);
}

/* Free what verify_setup() made. */
static void
verify_teardown(struct verify *vf)
{
	db_close(vf->db);
	replica_close(vf->r);
	if (vf->cfg != NULL)
		config_free(vf->cfg);
	if (vf->md != NULL)
		EVP_MD_CTX_free(vf->md);
	json_buf_free(&vf->enc);
	json_buf_free(&vf->val);
}

/* The tables to verify: operands, else bindings, else the replica's. */
static int
verify_names(
    struct verify *vf, struct cmd_opts *opts, char ***namesp, size_t *np)
{
	char **names = NULL, *cause = NULL;
	size_t i, n = 0;

	if (opts->argc > 0) {
		n = opts->argc;
		names = xcalloc(n, sizeof(*names));
		for (i = 0; i < n; i++)
			names[i] = xstrdup(opts->argv[i]);
	} else if (vf->cfg->nbindings > 0) {
		n = vf->cfg->nbindings;
		names = xcalloc(n, sizeof(*names));
		for (i = 0; i < n; i++)
			xasprintf(&names[i], "%s.%s",
			    vf->cfg->bindings[i].namespace,
			    vf->cfg->bindings[i].stream);
	} else if (replica_table_list(
		       vf->r, vf->cfg->database, &names, &n, &cause) != 0) {
		fprintf(stderr, "%s: verify: %s\n", PACKAGE_NAME, cause);
		free(cause);
		return (-1);
	}
	*namesp = names;
	*np = n;
	return (0);
}

/*
 * mssql-capture verify -c FILE [TABLE...]: exit 0 equal, 1 drift,
 * 2 error.
 */
int
cmd_verify(struct cmd_opts *opts)
{
	struct verify vf;
	const char *chunk = getenv("MSSQL_CAPTURE_VERIFY_CHUNK");
	char **names = NULL;
	size_t i, n = 0;
	int rc, drift = 0, error = 0;

	if (chunk != NULL && atoi(chunk) > 0)
		verify_chunk_rows = (size_t)atoi(chunk);
	if (verify_setup(&vf, opts) != 0) {
		verify_teardown(&vf);
		return (2);
	}
	if (verify_names(&vf, opts, &names, &n) != 0)
		error = 1;
	for (i = 0; i < n; i++) {
		rc = verify_one(&vf, names[i]);
		drift |= rc == 1;
		error |= rc == -1;
		free(names[i]);
	}
	free(names);
	fflush(stdout);
	verify_teardown(&vf);
	return (error ? 2 : drift ? 1 : 0);
}
