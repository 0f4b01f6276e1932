/*
 * ct_query.c: the reading side of Change Tracking: CHANGETABLE(CHANGES
 * t, @v) and CHANGETABLE(VERSION t, (cols), (values)) as row sources of
 * the compiler (compile.c calls ct_compile_from() for a FROM item
 * starting with CHANGETABLE), and the SQL functions behind them and
 * behind CHANGE_TRACKING_CURRENT_VERSION(), _MIN_VALID_VERSION() and
 * _IS_COLUMN_IN_MASK().
 *
 * CHANGETABLE(CHANGES) becomes a subquery over the table's history
 * (ct.c: one row per key and version) that folds the versions after
 * the baseline into one row per key, as SQLSERVER.md 1.4 says SQL
 * Server does: the operation is D if the last change in range deleted
 * the key, else I if the first one inserted it, else U; the creation
 * version is the latest insert in range; columns and context come from
 * the changes in version order.  The folding aggregates (sim_ct_op,
 * sim_ct_cols, sim_ct_last) order by version themselves, so the rest
 * of the query (joins, WHERE, ORDER BY, TOP) is plain SQL that the
 * compiler builds around the subquery.  The checks SQL Server makes
 * when it compiles the batch (22105 above all) happen here, so that
 * the compile pass of engine.c fails the batch with them.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

#define CT_MAXKEY 32

/* The table a CHANGETABLE reads, with its primary key. */
struct ct_src {
	struct table *t;
	int keys[CT_MAXKEY];
	int nk;
	char *written; /* the name as written, for messages */
};

struct ct_listagg;

static void ct_src_free(struct ct_src *cs);
static void ct_addf(struct sbuf *b, const char *fmt, ...);
static int ct_name_parts(struct parser *p);
static int ct_src_table(struct parser *p, struct ct_src *cs);
static int ct_baseline(struct parser *p, struct sbuf *v);
static void ct_col(
    struct table *r, const char *name, const char *type, int nullable);
static struct table *ct_result(
    const struct ct_src *cs, const char *alias, int version);
static int ct_alias(struct parser *p, struct table *r, char *alias);
static void ct_changes_sql(const struct ct_src *cs, const struct table *r,
    const char *base, struct sbuf *out);
static int ct_changes(
    struct parser *p, struct sbuf *out, struct table **tp, char *alias);
static int ct_version_cols(
    struct parser *p, struct ct_src *cs, int *pos, int *n);
static int ct_version_values(struct parser *p, struct ct_src *cs,
    const int *pos, int n, struct sbuf *cond);
static void ct_version_sql(const struct ct_src *cs, const struct table *r,
    const struct sbuf *cond, struct sbuf *out);
static int ct_version(
    struct parser *p, struct sbuf *out, struct table **tp, char *alias);
static struct sim_session *ct_fn_session(sqlite3_context *ctx);
static void ct_fn_current(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void ct_fn_min_valid(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void ct_fn_in_mask(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void ct_fn_pending(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void ct_mask_merge(struct sbuf *a, const unsigned char *b, int n);
static void ct_fn_colmerge(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void ct_agg_op_step(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void ct_agg_op_final(sqlite3_context *ctx);
static void ct_agg_list_step(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static int ct_item_cmp(const void *a, const void *b);
static void ct_listagg_free(struct ct_listagg *a);
static void ct_agg_cols_final(sqlite3_context *ctx);
static void ct_agg_last_final(sqlite3_context *ctx);

/* Release a CHANGETABLE source. */
static void
ct_src_free(struct ct_src *cs)
{
	catalog_table_free(cs->t);
	free(cs->written);
	memset(cs, 0, sizeof(*cs));
}

/* Append sqlite3_mprintf output to a buffer. */
static void
ct_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *q;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	sbuf_add(b, q, strlen(q));
	sqlite3_free(q);
}

/* The number of parts of the (dotted) name at the parser. */
static int
ct_name_parts(struct parser *p)
{
	int i = p->pos, n = 1;

	while (p->lx->t[i].kind != LEX_EOF) {
		if (lex_is_op(&p->lx->t[i], ".")) {
			n++;
			i++;
			continue;
		}
		if (p->lx->t[i].kind != LEX_IDENT &&
		    p->lx->t[i].kind != LEX_QIDENT)
			break;
		if (!lex_is_op(&p->lx->t[i + 1], "."))
			break;
		i++;
	}
	return (n);
}

/* The tracked user table named at the parser, with its checks. */
static int
ct_src_table(struct parser *p, struct ct_src *cs)
{
	int start = p->pos;
	struct table *t;

	memset(cs, 0, sizeof(*cs));
	if (ct_name_parts(p) == 4) {
		sim_error_set(p->err, 22106, 16, 1,
		    "The CHANGETABLE function "
		    "does not support remote data sources.");
		return (-1);
	}
	if (compile_table_name(p, &cs->t) == -1)
		return (-1);
	t = cs->t;
	cs->written = compile_source(p, start, p->pos);
	if (t->is_view || t->name[0] == '#' || strcmp(t->db, "temp") == 0) {
		sim_error_set(p->err, 22107, 16, 1,
		    "Object '%s' is of a data "
		    "type that is not supported by the CHANGETABLE function. "
		    "The object must be a user-defined table.",
		    cs->written);
		return (-1);
	}
	if (!ct_tracked(p->s, t->db, t->object_id, NULL) ||
	    (cs->nk = ct_table_keys(p->s, t, cs->keys, CT_MAXKEY)) == 0) {
		sim_error_set(p->err, 22105, 16, 1,
		    "Change tracking is not "
		    "enabled on table '%s'.",
		    cs->written);
		return (-1);
	}
	if (catalog_check_perm(p->s, t, "SELECT", p->err) == -1 ||
	    catalog_check_perm(p->s, t, "VIEW CHANGE TRACKING", p->err) == -1)
		return (-1);
	return (0);
}

/* last_sync_version: a bigint literal, a variable or NULL. */
static int
ct_baseline(struct parser *p, struct sbuf *v)
{
	struct lex_tok *t = p_tok(p);
	struct sim_type *vt;
	char tn[80];
	int idx, neg = 0;

	if (p_accept_kw(p, "NULL")) {
		sbuf_add(v, "NULL", 4);
		return (0);
	}
	if (p_op(p, "-") && p->lx->t[p->pos + 1].kind == LEX_INT) {
		neg = 1;
		p->pos++;
		t = p_tok(p);
	}
	if (t->kind == LEX_INT) {
		ct_addf(v, "%s%lld", neg ? "-" : "",
		    (long long)strtoll(t->text, NULL, 10));
		p->pos++;
		return (0);
	}
	if (t->kind != LEX_VAR)
		return (p_syntax(p));
	if ((idx = engine_find_var(p->s, t->text)) == -1) {
		sim_error_set(p->err, 137, 15, 2,
		    "Must declare the scalar variable \"%s\".", t->text);
		return (-1);
	}
	vt = &p->s->vars[idx].type;
	if (simtype_is_datetime(vt)) {
		sim_error_set(p->err, 257, 16, 3,
		    "Implicit conversion from "
		    "data type %s to bigint is not allowed. Use the CONVERT "
		    "function to run this query.",
		    simtype_name(vt));
		return (-1);
	}
	p->pos++;
	if (vt->id == SIMT_BIGINT || vt->id == SIMT_INT ||
	    vt->id == SIMT_SMALLINT || vt->id == SIMT_TINYINT) {
		ct_addf(v, ":v%d", idx);
		return (0);
	}
	compile_typename(vt, tn, sizeof(tn));
	ct_addf(v, "sim_cast(:v%d, 'bigint', NULL, %Q)", idx, tn);
	return (0);
}

/* A result column of the CHANGETABLE row source. */
static void
ct_col(struct table *r, const char *name, const char *type, int nullable)
{
	struct sim_error e;
	struct tcol *c;

	r->cols = util_xrealloc(r->cols, (r->ncols + 1) * sizeof(*r->cols));
	c = &r->cols[r->ncols++];
	memset(c, 0, sizeof(*c));
	snprintf(c->c.name, sizeof(c->c.name), "%s", name);
	if (engine_parse_typename(type, &c->c.type, &e) == -1)
		c->c.type.id = SIMT_BIGINT;
	c->c.nullable = nullable;
	c->column_id = r->ncols;
}

/* The row source's table: the SYS_ columns, then the key columns. */
static struct table *
ct_result(const struct ct_src *cs, const char *alias, int version)
{
	struct table *r = util_xmalloc(sizeof(*r));
	struct tcol *c;
	int k;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", alias);
	r->is_view = 2;
	ct_col(r, "SYS_CHANGE_VERSION", "bigint", 1);
	if (!version) {
		ct_col(r, "SYS_CHANGE_CREATION_VERSION", "bigint", 1);
		ct_col(r, "SYS_CHANGE_OPERATION", "nchar(1)", 1);
		ct_col(r, "SYS_CHANGE_COLUMNS", "varbinary(4100)", 1);
	}
	ct_col(r, "SYS_CHANGE_CONTEXT", "varbinary(128)", 1);
	for (k = 0; k < cs->nk; k++) {
		ct_col(r, "", "int", 0);
		c = &r->cols[r->ncols - 1];
		c->c = cs->t->cols[cs->keys[k]].c;
		c->c.identity = 0;
		c->c.computed = 0;
		c->c.updateable = 0;
	}
	return (r);
}

/* AS alias [(column aliases)]; 22104 without an alias. */
static int
ct_alias(struct parser *p, struct table *r, char *alias)
{
	int as = p_accept_kw(p, "AS"), n = 0;
	struct lex_tok *t = p_tok(p);

	if ((t->kind != LEX_IDENT && t->kind != LEX_QIDENT) ||
	    (t->kind == LEX_IDENT && lex_is_reserved(t))) {
		if (as)
			return (p_syntax(p));
		sim_error_set(p->err, 22104, 16, 1,
		    "A table returned by the "
		    "CHANGETABLE function must be aliased.");
		return (-1);
	}
	snprintf(alias, 129, "%s", t->text);
	snprintf(r->name, sizeof(r->name), "%s", t->text);
	p->pos++;
	if (!p_accept_op(p, "("))
		return (0);
	do {
		t = p_tok(p);
		if (t->kind != LEX_IDENT && t->kind != LEX_QIDENT)
			return (p_syntax(p));
		if (n < r->ncols)
			snprintf(r->cols[n].c.name, 129, "%s", t->text);
		n++;
		p->pos++;
	} while (p_accept_op(p, ","));
	if (n != r->ncols) {
		sim_error_set(p->err, 8159, 16, 1,
		    "'%s' has fewer columns "
		    "than were specified in the column list.",
		    alias);
		return (-1);
	}
	return (p_expect_op(p, ")"));
}

/* The folding subquery of CHANGETABLE(CHANGES). */
static void
ct_changes_sql(const struct ct_src *cs, const struct table *r, const char *base,
    struct sbuf *out)
{
	int k;

	ct_addf(out,
	    "(SELECT max(ver) AS \"%w\", max(CASE WHEN ins THEN ver END) AS "
	    "\"%w\", sim_ct_op(ver, first_ins, last_del) AS \"%w\", "
	    "sim_ct_cols(ver, cols) AS \"%w\", sim_ct_last(ver, ctx) AS \"%w\"",
	    r->cols[0].c.name, r->cols[1].c.name, r->cols[2].c.name,
	    r->cols[3].c.name, r->cols[4].c.name);
	for (k = 0; k < cs->nk; k++)
		ct_addf(out, ", k%d AS \"%w\"", k, r->cols[5 + k].c.name);
	ct_addf(out,
	    " FROM \"%w\".sim_ct_%lld WHERE (%s) IS NULL OR ((%s) >= 0 AND "
	    "ver > (%s)) GROUP BY ",
	    cs->t->db, (long long)cs->t->object_id, base, base, base);
	for (k = 0; k < cs->nk; k++)
		ct_addf(out, "%sk%d", k ? ", " : "", k);
	sbuf_add(out, " ORDER BY ", 10);
	for (k = 0; k < cs->nk; k++)
		ct_addf(out, "%sk%d", k ? ", " : "", k);
	/* a LIMIT is evaluated even over no rows: 8114 from @v always */
	ct_addf(
	    out, " LIMIT coalesce((%s) * 0, 0) - 1) AS \"%w\"", base, r->name);
}

/* CHANGES t, last_sync_version ) AS alias [(...)] */
static int
ct_changes(struct parser *p, struct sbuf *out, struct table **tp, char *alias)
{
	struct ct_src cs;
	struct sbuf base;
	struct table *r = NULL;
	int rc = -1;

	sbuf_init(&base);
	if (ct_src_table(p, &cs) == -1 || p_expect_op(p, ",") == -1 ||
	    ct_baseline(p, &base) == -1 || p_expect_op(p, ")") == -1)
		goto out;
	r = ct_result(&cs, "", 0);
	if (ct_alias(p, r, alias) == -1)
		goto out;
	sbuf_add(&base, "", 1);
	ct_changes_sql(&cs, r, (char *)base.data, out);
	*tp = r;
	r = NULL;
	rc = 0;
out:
	catalog_table_free(r);
	sbuf_free(&base);
	ct_src_free(&cs);
	return (rc);
}

/* VERSION's column list: the key position of each named column. */
static int
ct_version_cols(struct parser *p, struct ct_src *cs, int *pos, int *n)
{
	struct lex_tok *t;
	int k, i, found;

	*n = 0;
	if (p_expect_op(p, "(") == -1)
		return (-1);
	do {
		t = p_tok(p);
		if (t->kind != LEX_IDENT && t->kind != LEX_QIDENT)
			return (p_syntax(p));
		for (k = 0, found = -1; k < cs->nk; k++)
			if (strcasecmp(
				cs->t->cols[cs->keys[k]].c.name, t->text) == 0)
				found = k;
		if (found < 0) {
			sim_error_set(p->err, 22111, 16, 1,
			    "The column '%s' specified in the "
			    "CHANGETABLE(VERSION ...) function is not part of "
			    "the primary key for table '%s'.",
			    t->text, cs->written);
			return (-1);
		}
		for (i = 0; i < *n; i++)
			if (pos[i] == found) {
				sim_error_set(p->err, 22112, 16, 1,
				    "Each primary key column must be "
				    "specified once in the "
				    "CHANGETABLE(VERSION ...) function. The "
				    "column '%s' is specified more than once.",
				    t->text);
				return (-1);
			}
		if (*n == CT_MAXKEY)
			return (p_syntax(p));
		pos[(*n)++] = found;
		p->pos++;
	} while (p_accept_op(p, ","));
	if (p_expect_op(p, ")") == -1)
		return (-1);
	if (*n != cs->nk) {
		sim_error_set(p->err, 22110, 16, 1,
		    "The number of columns "
		    "specified in the CHANGETABLE(VERSION ...) function does "
		    "not match the number of primary key columns for table "
		    "'%s'.",
		    cs->written);
		return (-1);
	}
	return (0);
}

/* VERSION's value list: "x.col = (value) AND ..." into cond. */
static int
ct_version_values(struct parser *p, struct ct_src *cs, const int *pos, int n,
    struct sbuf *cond)
{
	struct sim_type vt;
	int i = 0;

	if (p_expect_op(p, "(") == -1)
		return (-1);
	do {
		if (i == n) {
			sim_error_set(p->err, 22103, 16, 1,
			    "The arguments "
			    "supplied are not valid for the VERSION option of "
			    "the CHANGETABLE function.");
			return (-1);
		}
		ct_addf(cond, "%sx.\"%w\" = (", i ? " AND " : "",
		    cs->t->cols[cs->keys[pos[i]]].c.name);
		if (compile_value(p, cond, &vt) == -1)
			return (-1);
		sbuf_add(cond, ")", 1);
		i++;
	} while (p_accept_op(p, ","));
	if (i != n) {
		sim_error_set(p->err, 22103, 16, 1,
		    "The arguments supplied "
		    "are not valid for the VERSION option of the CHANGETABLE "
		    "function.");
		return (-1);
	}
	return (p_expect_op(p, ")"));
}

/* The subquery of CHANGETABLE(VERSION): the row, its last change. */
static void
ct_version_sql(const struct ct_src *cs, const struct table *r,
    const struct sbuf *cond, struct sbuf *out)
{
	struct sbuf m;
	int k;

	sbuf_init(&m);
	for (k = 0; k < cs->nk; k++)
		ct_addf(&m, " AND h.k%d = x.\"%w\"", k,
		    cs->t->cols[cs->keys[k]].c.name);
	sbuf_add(&m, "", 1);
	/* a row this transaction changed has NULLs (SQLSERVER.md 1.6) */
	ct_addf(out,
	    "(SELECT CASE WHEN sim_ct_pending(%lld, x.rowid) THEN NULL ELSE "
	    "(SELECT max(h.ver) FROM \"%w\".sim_ct_%lld h WHERE 1%s) END AS "
	    "\"%w\", CASE WHEN sim_ct_pending(%lld, x.rowid) THEN NULL ELSE "
	    "(SELECT h.ctx FROM \"%w\".sim_ct_%lld h WHERE 1%s ORDER BY "
	    "h.ver DESC LIMIT 1) END AS \"%w\"",
	    (long long)cs->t->object_id, cs->t->db, (long long)cs->t->object_id,
	    (char *)m.data, r->cols[0].c.name, (long long)cs->t->object_id,
	    cs->t->db, (long long)cs->t->object_id, (char *)m.data,
	    r->cols[1].c.name);
	for (k = 0; k < cs->nk; k++)
		ct_addf(out, ", x.\"%w\" AS \"%w\"",
		    cs->t->cols[cs->keys[k]].c.name, r->cols[2 + k].c.name);
	ct_addf(out, " FROM %s AS x WHERE %.*s) AS \"%w\"", cs->t->sqlname,
	    (int)cond->len, (char *)cond->data, r->name);
	sbuf_free(&m);
}

/* VERSION t, (cols), (values) ) AS alias [(...)] */
static int
ct_version(struct parser *p, struct sbuf *out, struct table **tp, char *alias)
{
	struct ct_src cs;
	struct sbuf cond;
	struct table *r = NULL;
	int pos[CT_MAXKEY], n, rc = -1;

	sbuf_init(&cond);
	if (ct_src_table(p, &cs) == -1 || p_expect_op(p, ",") == -1 ||
	    ct_version_cols(p, &cs, pos, &n) == -1 ||
	    p_expect_op(p, ",") == -1 ||
	    ct_version_values(p, &cs, pos, n, &cond) == -1 ||
	    p_expect_op(p, ")") == -1)
		goto out;
	r = ct_result(&cs, "", 1);
	if (ct_alias(p, r, alias) == -1)
		goto out;
	ct_version_sql(&cs, r, &cond, out);
	*tp = r;
	r = NULL;
	rc = 0;
out:
	catalog_table_free(r);
	sbuf_free(&cond);
	ct_src_free(&cs);
	return (rc);
}

/*
 * CHANGETABLE(...) AS alias as a FROM item: the subquery into out, the
 * row source's table (owned by the caller) and its alias.
 */
int
ct_compile_from(
    struct parser *p, struct sbuf *out, struct table **tp, char *alias)
{
	*tp = NULL;
	p->pos++;
	if (p_expect_op(p, "(") == -1)
		return (-1);
	if (p_accept_kw(p, "CHANGES"))
		return (ct_changes(p, out, tp, alias));
	if (p_accept_kw(p, "VERSION"))
		return (ct_version(p, out, tp, alias));
	return (p_syntax(p));
}

/* ---- SQL functions ---- */

/* The session of a function call. */
static struct sim_session *
ct_fn_session(sqlite3_context *ctx)
{
	return (sqlite3_user_data(ctx));
}

/* CHANGE_TRACKING_CURRENT_VERSION(): NULL when the database's CT is off. */
static void
ct_fn_current(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = ct_fn_session(ctx);
	sqlite3_stmt *st;
	int on = 0;

	(void)argc;
	(void)argv;
	if (sqlite3_prepare_v2(s->db,
		"SELECT enabled FROM main.sim_ct_db "
		"WHERE id = 1",
		-1, &st, NULL) == SQLITE_OK) {
		on =
		    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (!on)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx, ct_current_version(s, "main"));
}

/* CHANGE_TRACKING_MIN_VALID_VERSION(object_id) */
static void
ct_fn_min_valid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = ct_fn_session(ctx);
	sqlite3_stmt *st;
	int64_t oid = sqlite3_value_int64(argv[0]);

	(void)argc;
	sqlite3_result_null(ctx);
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_prepare_v2(s->db,
		"SELECT t.min_valid_version, o.schema_id "
		"FROM main.sim_ct_tables t JOIN main.sim_objects o USING "
		"(object_id) JOIN main.sim_ct_db d ON d.id = 1 AND d.enabled "
		"WHERE t.object_id = ?",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, oid);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    catalog_has_perm(
		s, oid, sqlite3_column_int(st, 1), "VIEW CHANGE TRACKING"))
		sqlite3_result_int64(ctx, sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
}

/* CHANGE_TRACKING_IS_COLUMN_IN_MASK(column_id, mask) */
static void
ct_fn_in_mask(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *m;
	int64_t id;
	int n, k;

	(void)argc;
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	m = sqlite3_value_blob(argv[1]);
	n = sqlite3_value_bytes(argv[1]);
	if (n < 8) {
		sim_sqlite_error(ctx, 22101, 16, 1,
		    "The value supplied for the "
		    "change_columns argument of "
		    "CHANGE_TRACKING_IS_COLUMN_IN_MASK "
		    "function is not valid. The value must be a bitmask "
		    "returned "
		    "by the CHANGETABLE(CHANGES ...) function.");
		return;
	}
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	id = sqlite3_value_int64(argv[0]);
	for (k = 4; k + 4 <= n; k += 4)
		if ((int64_t)util_get_u32le(m + k) == id) {
			sqlite3_result_int(ctx, 1);
			return;
		}
	sqlite3_result_int(ctx, 0);
}

/* sim_ct_pending(object_id, rowid): did this transaction change it? */
static void
ct_fn_pending(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = ct_fn_session(ctx);
	int64_t oid = sqlite3_value_int64(argv[0]);
	sqlite3_int64 rowid = sqlite3_value_int64(argv[1]);
	int i;

	(void)argc;
	for (i = 0; i < s->nchanges; i++)
		if (s->changes[i].object_id == oid &&
		    s->changes[i].rowid == rowid) {
			sqlite3_result_int(ctx, 1);
			return;
		}
	sqlite3_result_int(ctx, 0);
}

/* Append the column ids of mask b missing from mask a (a non-empty). */
static void
ct_mask_merge(struct sbuf *a, const unsigned char *b, int n)
{
	int i, k, seen;
	uint32_t id;

	for (i = 4; i + 4 <= n; i += 4) {
		id = util_get_u32le(b + i);
		for (k = 4, seen = 0; k + 4 <= (int)a->len; k += 4)
			seen |= util_get_u32le(a->data + k) == id;
		if (!seen)
			sbuf_u32le(a, id);
	}
}

/* sim_ct_colmerge(a, b): the columns of two updates, NULL = all. */
static void
ct_fn_colmerge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sbuf a;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB ||
	    sqlite3_value_type(argv[1]) != SQLITE_BLOB) {
		sqlite3_result_null(ctx);
		return;
	}
	sbuf_init(&a);
	sbuf_add(&a, sqlite3_value_blob(argv[0]), sqlite3_value_bytes(argv[0]));
	ct_mask_merge(
	    &a, sqlite3_value_blob(argv[1]), sqlite3_value_bytes(argv[1]));
	sqlite3_result_blob(ctx, a.data, a.len, SQLITE_TRANSIENT);
	sbuf_free(&a);
}

/* The state of sim_ct_op. */
struct ct_opagg {
	int init;
	int64_t minver, maxver;
	int first_ins, last_del;
};

static void
ct_agg_op_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct ct_opagg *a = sqlite3_aggregate_context(ctx, sizeof(*a));
	int64_t v = sqlite3_value_int64(argv[0]);

	(void)argc;
	if (a == NULL)
		return;
	if (!a->init || v < a->minver) {
		a->minver = v;
		a->first_ins = sqlite3_value_int(argv[1]);
	}
	if (!a->init || v > a->maxver) {
		a->maxver = v;
		a->last_del = sqlite3_value_int(argv[2]);
	}
	a->init = 1;
}

static void
ct_agg_op_final(sqlite3_context *ctx)
{
	struct ct_opagg *a = sqlite3_aggregate_context(ctx, 0);

	if (a == NULL || !a->init)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_text(ctx,
		    a->last_del        ? "D"
			: a->first_ins ? "I"
				       : "U",
		    1, SQLITE_STATIC);
}

/* The state of sim_ct_cols and sim_ct_last: (version, value) pairs. */
struct ct_item {
	int64_t ver;
	unsigned char *p; /* NULL for SQL NULL */
	int n;
};

struct ct_listagg {
	struct ct_item *items;
	int n;
};

static void
ct_agg_list_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct ct_listagg *a = sqlite3_aggregate_context(ctx, sizeof(*a));
	struct ct_item *it;

	(void)argc;
	if (a == NULL)
		return;
	if ((a->n & 15) == 0)
		a->items =
		    util_xrealloc(a->items, (a->n + 16) * sizeof(*a->items));
	it = &a->items[a->n++];
	it->ver = sqlite3_value_int64(argv[0]);
	it->p = NULL;
	it->n = 0;
	if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
		it->n = sqlite3_value_bytes(argv[1]);
		it->p = util_xmalloc(it->n + 1);
		memcpy(it->p, sqlite3_value_blob(argv[1]), it->n);
	}
}

static int
ct_item_cmp(const void *a, const void *b)
{
	const struct ct_item *x = a, *y = b;

	return (x->ver < y->ver ? -1 : x->ver > y->ver);
}

static void
ct_listagg_free(struct ct_listagg *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		free(a->items[i].p);
	free(a->items);
}

/* sim_ct_cols: the columns of the range's updates in order, NULL = all. */
static void
ct_agg_cols_final(sqlite3_context *ctx)
{
	struct ct_listagg *a = sqlite3_aggregate_context(ctx, 0);
	struct sbuf m;
	int i;

	sqlite3_result_null(ctx);
	if (a == NULL || a->n == 0)
		return;
	qsort(a->items, a->n, sizeof(*a->items), ct_item_cmp);
	sbuf_init(&m);
	for (i = 0; i < a->n && a->items[i].p != NULL; i++) {
		if (m.len == 0)
			sbuf_u32le(&m, 0);
		ct_mask_merge(&m, a->items[i].p, a->items[i].n);
	}
	if (i == a->n)
		sqlite3_result_blob(ctx, m.data, m.len, SQLITE_TRANSIENT);
	sbuf_free(&m);
	ct_listagg_free(a);
}

/* sim_ct_last: the value of the latest version. */
static void
ct_agg_last_final(sqlite3_context *ctx)
{
	struct ct_listagg *a = sqlite3_aggregate_context(ctx, 0);
	int i, best = 0;

	sqlite3_result_null(ctx);
	if (a == NULL || a->n == 0)
		return;
	for (i = 1; i < a->n; i++)
		if (a->items[i].ver > a->items[best].ver)
			best = i;
	if (a->items[best].p != NULL)
		sqlite3_result_blob(
		    ctx, a->items[best].p, a->items[best].n, SQLITE_TRANSIENT);
	ct_listagg_free(a);
}

/* Register the CT functions on the session's connection. */
int
ct_register_functions(struct sim_session *s)
{
	int f = SQLITE_UTF8;

	if (sqlite3_create_function(s->db, "sim_ct_current_version", 0, f, s,
		ct_fn_current, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sim_ct_min_valid_version", 1, f, s,
		ct_fn_min_valid, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sim_ct_is_column_in_mask", 2,
		f | SQLITE_DETERMINISTIC, s, ct_fn_in_mask, NULL,
		NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sim_ct_pending", 2, f, s,
		ct_fn_pending, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sim_ct_colmerge", 2,
		f | SQLITE_DETERMINISTIC, s, ct_fn_colmerge, NULL,
		NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sim_ct_op", 3, f, s, NULL,
		ct_agg_op_step, ct_agg_op_final) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sim_ct_cols", 2, f, s, NULL,
		ct_agg_list_step, ct_agg_cols_final) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "sim_ct_last", 2, f, s, NULL,
		ct_agg_list_step, ct_agg_last_final) != SQLITE_OK)
		return (-1);
	return (0);
}
