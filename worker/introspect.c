/*
 * introspect.c: what the catalog says about the bound table, and the
 * SQL fragments built from it.
 *
 * Order of the questions, each its own query so that a failure names
 * what failed: a TOP (0) probe of the table (the server's own 208 or
 * 229 when it is missing or unreadable), the catalog names, the
 * columns (sys.columns with sys.types), the primary key in key order
 * (sys.indexes, sys.index_columns), the database (snapshot isolation,
 * CDC), Change Tracking (sys.change_tracking_databases and _tables;
 * a server without those views counts as "not enabled"), CDC capture
 * instances when the database has CDC (every instance with a start
 * LSN, oldest first, with its captured columns: cdc.c reads the one
 * whose range holds the cursor, the newest by default) and the row
 * estimate from sys.partitions.
 *
 * Then the mode: the binding's (which config.c resolves from the
 * top-level mode), and for auto CDC if a capture instance exists, else
 * CT if the table is tracked, else a FAILED error that gives the exact
 * SQL to enable Change Tracking.  A table without a primary key fails
 * too (both mechanisms need one to resume a backfill and to key CT).
 *
 * The columns and primary-key queries are shared with discover.c, which
 * asks them about every table at once (INTROSPECT_COLUMNS_SELECT and
 * INTROSPECT_KEY_FROM in worker.h, introspect_column_read()).
 *
 * Names are compared the way the catalog does (case-insensitively,
 * SQL_Latin1_General_CP1_CI_AS), but never sorted or compared here for
 * ordering: every key comparison is SQL run by the server
 * (introspect_key_pred), so collations, GUID and decimal order are the
 * server's.  Identifiers are always bracket-quoted (']' doubled).
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker.h"

/* sys.columns of one column. */
struct introspect_col {
	struct frame_column col;
	int column_id;
};

static int introspect_probe(struct worker *, struct table *);
static int introspect_names(struct worker *, struct table *);
static int introspect_columns(
    struct worker *, struct table *, struct introspect_col **, size_t *);
static int introspect_key(
    struct worker *, struct table *, struct introspect_col *, size_t);
static int introspect_database(struct worker *, struct table *);
static int introspect_ct(struct worker *, struct table *);
static int introspect_cdc(struct worker *, struct table *);
static int introspect_cdc_columns(struct worker *, struct table *,
    struct table_instance *, struct introspect_col *, size_t);
static int introspect_cdc_instances(
    struct worker *, struct table *, struct introspect_col *, size_t);
static int introspect_rows(struct worker *, struct table *);
static int introspect_mode(struct worker *, struct table *);
static int introspect_select(
    struct worker *, struct table *, struct introspect_col *, size_t);
static int introspect_listed(char **, const char *);
static int introspect_query(
    struct worker *, const char *, const struct db_param *, const char *);
static int introspect_done(struct worker *, int, const char *);
static int introspect_row(struct worker *, const char *, struct frame_value *,
    char (*)[DBVALUE_TEXT_MAX], int, int *);
static void introspect_cols_free(struct introspect_col *, size_t);

/* "[name]" with ']' doubled. */
char *
introspect_quote(const char *name)
{
	size_t len = strlen(name), i, j = 0;
	char *q;

	q = xmalloc(2 * len + 3);
	q[j++] = '[';
	for (i = 0; i < len; i++) {
		q[j++] = name[i];
		if (name[i] == ']')
			q[j++] = ']';
	}
	q[j++] = ']';
	q[j] = '\0';
	return (q);
}

/* A copy of a STR value as a C string ("" if not a string). */
char *
introspect_text(const struct frame_value *v)
{
	if (v->type != FRAME_VALUE_STR)
		return (xstrdup(""));
	return (xstrndup((const char *)v->v.s.ptr, v->v.s.len));
}

/* An integer or bool value (0 if NULL). */
int64_t
introspect_int(const struct frame_value *v)
{
	if (v->type == FRAME_VALUE_INT)
		return (v->v.i);
	if (v->type == FRAME_VALUE_BOOL)
		return (v->v.b);
	return (0);
}

/*
 * A row of INTROSPECT_COLUMNS_SELECT as a column (strings allocated,
 * key_ordinal 0); returns its column_id.
 */
int
introspect_column_read(const struct frame_value *v, struct frame_column *col)
{
	memset(col, 0, sizeof(*col));
	col->name = introspect_text(&v[1]);
	col->type_name = introspect_text(&v[2]);
	col->type_id = (uint32_t)introspect_int(&v[3]);
	col->precision = (uint32_t)introspect_int(&v[4]);
	col->scale = (uint32_t)introspect_int(&v[5]);
	col->max_length = (int32_t)introspect_int(&v[6]);
	col->nullable = introspect_int(&v[7]) != 0;
	col->computed = introspect_int(&v[8]) != 0;
	return ((int)introspect_int(&v[0]));
}

/*
 * Run sql, with @p1 = *p unless p is NULL, and open its first result;
 * -1 recorded with what.
 */
static int
introspect_query(struct worker *w, const char *sql, const struct db_param *p,
    const char *what)
{
	int rc;

	rc = p != NULL ? db_exec_params(w->db, sql, p, 1) : db_exec(w->db, sql);
	if (rc == -1 || db_next_result(w->db) == -1)
		return (worker_db_fail(w, what));
	return (0);
}

/* After the rows (rc of the last introspect_row()): drain the rest. */
static int
introspect_done(struct worker *w, int rc, const char *what)
{
	if (rc == -1)
		return (-1);
	if (db_drain(w->db) == -1)
		return (worker_db_fail(w, what));
	return (0);
}

/*
 * Fetch the next row of the current result into vals (n columns):
 * 1 a row, 0 none left, -1 failed (recorded with what).
 */
static int
introspect_row(struct worker *w, const char *what, struct frame_value *vals,
    char (*text)[DBVALUE_TEXT_MAX], int n, int *rc)
{
	int i;

	*rc = db_next_row(w->db);
	if (*rc == 0)
		return (0);
	if (*rc == -1)
		return (worker_db_fail(w, what));
	for (i = 0; i < n && i < db_ncols(w->db); i++) {
		if (db_value(w->db, i, &vals[i], text[i]) == -1)
			return (worker_db_fail(w, what));
	}
	return (1);
}

/* SELECT TOP (0) from the table: the server's error if we cannot. */
static int
introspect_probe(struct worker *w, struct table *t)
{
	char *sql;
	int rc;

	xasprintf(&sql, "SELECT TOP (0) * FROM %s", t->qname);
	rc = db_run(w->db, sql);
	free(sql);
	if (rc == -1)
		return (worker_db_fail(w, "cannot read the table"));
	return (0);
}

/* The catalog's spelling of the names, and the database's name. */
static int
introspect_names(struct worker *w, struct table *t)
{
	static const char sql[] =
	    "SELECT s.name, o.name, DB_NAME() FROM sys.objects o "
	    "JOIN sys.schemas s ON s.schema_id = o.schema_id "
	    "WHERE o.object_id = OBJECT_ID(@p1)";
	struct frame_value v[3];
	char text[3][DBVALUE_TEXT_MAX];
	struct db_param p;
	int rc;

	db_param_nvarchar(&p, t->qname, strlen(t->qname));
	if (introspect_query(w, sql, &p, "sys.objects") == -1)
		return (-1);
	if (introspect_row(w, "sys.objects", v, text, 3, &rc) == 1) {
		free(t->schema);
		free(t->name);
		t->schema = introspect_text(&v[0]);
		t->name = introspect_text(&v[1]);
		t->dbname = introspect_text(&v[2]);
	}
	if (introspect_done(w, rc, "sys.objects") == -1)
		return (-1);
	if (t->dbname == NULL)
		return (worker_fail(
		    w, DB_CLASS_PERMANENT, "table not found (208)"));
	return (0);
}

/* Every column, in column_id order. */
static int
introspect_columns(struct worker *w, struct table *t,
    struct introspect_col **colsp, size_t *np)
{
	static const char sql[] =
	    INTROSPECT_COLUMNS_SELECT INTROSPECT_COLUMNS_FROM
	    " WHERE c.object_id = OBJECT_ID(@p1) "
	    "ORDER BY c.column_id";
	struct introspect_col *cols = NULL, *c;
	struct frame_value v[INTROSPECT_COLUMNS_NVALUES];
	char text[INTROSPECT_COLUMNS_NVALUES][DBVALUE_TEXT_MAX];
	struct db_param p;
	size_t n = 0;
	int rc;

	db_param_nvarchar(&p, t->qname, strlen(t->qname));
	if (introspect_query(w, sql, &p, "sys.columns") == -1)
		return (-1);
	while (introspect_row(w, "sys.columns", v, text,
		   INTROSPECT_COLUMNS_NVALUES, &rc) == 1) {
		cols = xreallocarray(cols, n + 1, sizeof(*cols));
		c = &cols[n++];
		c->column_id = introspect_column_read(v, &c->col);
	}
	*colsp = cols;
	*np = n;
	return (introspect_done(w, rc, "sys.columns"));
}

/* The primary key: key_ordinal of each column. */
static int
introspect_key(
    struct worker *w, struct table *t, struct introspect_col *cols, size_t n)
{
	static const char sql[] =
	    "SELECT ic.key_ordinal, ic.column_id" INTROSPECT_KEY_FROM
	    " AND i.object_id = OBJECT_ID(@p1) "
	    "ORDER BY ic.key_ordinal";
	struct frame_value v[2];
	char text[2][DBVALUE_TEXT_MAX];
	struct db_param p;
	size_t i, nkeys = 0;
	int rc;

	db_param_nvarchar(&p, t->qname, strlen(t->qname));
	if (introspect_query(w, sql, &p, "sys.index_columns") == -1)
		return (-1);
	while (introspect_row(w, "sys.index_columns", v, text, 2, &rc) == 1) {
		for (i = 0; i < n; i++) {
			if (cols[i].column_id == introspect_int(&v[1]))
				cols[i].col.key_ordinal = ++nkeys;
		}
	}
	if (introspect_done(w, rc, "sys.index_columns") == -1)
		return (-1);
	if (nkeys == 0) {
		worker_fail(w, DB_CLASS_PERMANENT, "no primary key");
		/* The message reads better without the usual prefix. */
		snprintf(w->errmsg, sizeof(w->errmsg),
		    "%s has no primary key: Change Tracking and CDC need one "
		    "to key rows and resume a backfill; add one, e.g. ALTER "
		    "TABLE %s ADD CONSTRAINT [PK_%s] PRIMARY KEY (<columns>)",
		    t->display, t->qname, t->name);
		return (-1);
	}
	return (0);
}

/* Snapshot isolation and CDC in the database. */
static int
introspect_database(struct worker *w, struct table *t)
{
	static const char sql[] =
	    "SELECT snapshot_isolation_state, is_cdc_enabled "
	    "FROM sys.databases WHERE name = DB_NAME()";
	struct frame_value v[2];
	char text[2][DBVALUE_TEXT_MAX];
	int rc;

	if (introspect_query(w, sql, NULL, "sys.databases") == -1)
		return (-1);
	if (introspect_row(w, "sys.databases", v, text, 2, &rc) == 1) {
		t->snapshot_allowed = introspect_int(&v[0]) == 1;
		t->cdc_db = introspect_int(&v[1]) != 0;
	}
	return (introspect_done(w, rc, "sys.databases"));
}

/* Change Tracking on the database and on the table. */
static int
introspect_ct(struct worker *w, struct table *t)
{
	static const char sql[] =
	    "SELECT (SELECT COUNT(*) FROM sys.change_tracking_databases "
	    "WHERE database_id = DB_ID()), (SELECT COUNT(*) FROM "
	    "sys.change_tracking_tables WHERE object_id = OBJECT_ID(@p1))";
	const struct db_error *e;
	struct frame_value v[2];
	char text[2][DBVALUE_TEXT_MAX];
	struct db_param p;
	int rc;

	db_param_nvarchar(&p, t->qname, strlen(t->qname));
	if (db_exec_params(w->db, sql, &p, 1) == -1 ||
	    db_next_result(w->db) == -1) {
		e = db_error(w->db);
		if (e->number != 208 && e->number != 195)
			return (worker_db_fail(w, "change tracking catalog"));
		log_debug("no change tracking catalog: %s", e->text);
		return (0);
	}
	if (introspect_row(w, "change tracking catalog", v, text, 2, &rc) ==
	    1) {
		t->ct_db = introspect_int(&v[0]) > 0;
		t->ct_table = introspect_int(&v[1]) > 0;
	}
	return (introspect_done(w, rc, "change tracking catalog"));
}

/*
 * The capture instances of the table with a start LSN, oldest first
 * (at most INTROSPECT_INSTANCES_MAX; SQL Server allows two, 22962).
 */
static int
introspect_cdc(struct worker *w, struct table *t)
{
	static const char sql[] =
	    INTROSPECT_INSTANCES_SELECT INTROSPECT_INSTANCES_FROM;
	struct table_instance *in;
	struct frame_value v[2];
	char text[2][DBVALUE_TEXT_MAX];
	struct db_param p;
	int rc;

	if (!t->cdc_db)
		return (0);
	t->cdc = xcalloc(INTROSPECT_INSTANCES_MAX, sizeof(*t->cdc));
	db_param_nvarchar(&p, t->qname, strlen(t->qname));
	if (introspect_query(w, sql, &p, "cdc.change_tables") == -1)
		return (-1);
	while (introspect_row(w, "cdc.change_tables", v, text, 2, &rc) == 1) {
		if (t->ncdc == INTROSPECT_INSTANCES_MAX)
			continue;
		in = &t->cdc[t->ncdc++];
		in->name = introspect_text(&v[0]);
		in->ctid = introspect_int(&v[1]);
	}
	return (introspect_done(w, rc, "cdc.change_tables"));
}

/* Which of the table's columns a capture instance holds. */
static int
introspect_cdc_columns(struct worker *w, struct table *t,
    struct table_instance *in, struct introspect_col *cols, size_t n)
{
	static const char sql[] =
	    "SELECT column_id, column_name FROM cdc.captured_columns "
	    "WHERE object_id = @p1 ORDER BY column_ordinal";
	struct frame_value v[2];
	char text[2][DBVALUE_TEXT_MAX];
	struct db_param p;
	size_t i, j;
	int rc;

	in->captured = xcalloc(t->fs.ncolumns + 1, sizeof(int));
	db_param_bigint(&p, in->ctid);
	if (introspect_query(w, sql, &p, "cdc.captured_columns") == -1)
		return (-1);
	while (
	    introspect_row(w, "cdc.captured_columns", v, text, 2, &rc) == 1) {
		in->columns = xreallocarray(
		    in->columns, in->ncolumns + 1, sizeof(*in->columns));
		in->columns[in->ncolumns++] = introspect_text(&v[1]);
		for (i = 0; i < n; i++) {
			if (cols[i].column_id != introspect_int(&v[0]))
				continue;
			for (j = 0; j < t->fs.ncolumns; j++)
				if (strcmp(t->fs.columns[j].name,
					cols[i].col.name) == 0 &&
				    !cols[i].col.computed)
					in->captured[j] = 1;
		}
	}
	return (introspect_done(w, rc, "cdc.captured_columns"));
}

/* The captured columns of every instance; the newest is read first. */
static int
introspect_cdc_instances(
    struct worker *w, struct table *t, struct introspect_col *cols, size_t n)
{
	size_t i;

	for (i = 0; i < t->ncdc; i++)
		if (introspect_cdc_columns(w, t, &t->cdc[i], cols, n) == -1)
			return (-1);
	if (t->ncdc != 0) {
		t->cdc_instance = t->cdc[t->ncdc - 1].name;
		t->cdc_captured = t->cdc[t->ncdc - 1].captured;
	}
	return (0);
}

/* The row count estimate (PROGRESS). */
static int
introspect_rows(struct worker *w, struct table *t)
{
	static const char sql[] =
	    "SELECT SUM(rows) FROM sys.partitions WHERE object_id = "
	    "OBJECT_ID(@p1) AND index_id < 2";
	struct frame_value v[1];
	char text[1][DBVALUE_TEXT_MAX];
	struct db_param p;
	int rc;

	db_param_nvarchar(&p, t->qname, strlen(t->qname));
	if (db_exec_params(w->db, sql, &p, 1) == -1 ||
	    db_next_result(w->db) == -1) {
		log_debug("sys.partitions: %s", db_error(w->db)->text);
		return (0); /* an estimate is not worth failing for */
	}
	if (introspect_row(w, "sys.partitions", v, text, 1, &rc) == 1 &&
	    v[0].type == FRAME_VALUE_INT && v[0].v.i > 0)
		t->rows_estimate = (uint64_t)v[0].v.i;
	db_drain(w->db);
	return (0);
}

/* Choose the capture mechanism, or fail saying how to enable one. */
static int
introspect_mode(struct worker *w, struct table *t)
{
	const char *what;
	char *dbq;
	int rc;

	switch (w->binding->mode) {
	case CONFIG_MODE_CDC:
		if (t->cdc_instance == NULL)
			return (worker_fail(w, DB_CLASS_PERMANENT,
			    "mode is cdc but the table has no CDC capture "
			    "instance; enable it with: EXEC "
			    "sys.sp_cdc_enable_db; EXEC "
			    "sys.sp_cdc_enable_table "
			    "@source_schema = N'%s', @source_name = N'%s', "
			    "@role_name = NULL",
			    t->schema, t->name));
		t->mode = FRAME_MODE_CDC;
		return (0);
	case CONFIG_MODE_BATCH:
		return (worker_fail(w, DB_CLASS_PERMANENT,
		    "mode batch is not supported by this worker"));
	case CONFIG_MODE_AUTO:
		if (t->cdc_instance != NULL) {
			t->mode = FRAME_MODE_CDC;
			return (0);
		}
		/* FALLTHROUGH */
	case CONFIG_MODE_CT:
		if (t->ct_table) {
			t->mode = FRAME_MODE_CT;
			return (0);
		}
		break;
	}
	dbq = introspect_quote(t->dbname);
	what = w->binding->mode == CONFIG_MODE_CT
	    ? "Change Tracking is not enabled"
	    : "neither CDC nor Change Tracking is enabled";
	if (t->ct_db)
		rc = worker_fail(w, DB_CLASS_PERMANENT,
		    "%s; enable it with: ALTER TABLE %s ENABLE CHANGE_TRACKING",
		    what, t->qname);
	else
		rc = worker_fail(w, DB_CLASS_PERMANENT,
		    "%s; enable it with: ALTER DATABASE %s SET CHANGE_TRACKING "
		    "= ON (CHANGE_RETENTION = 3 DAYS, AUTO_CLEANUP = ON); "
		    "ALTER TABLE %s ENABLE CHANGE_TRACKING",
		    what, dbq, t->qname);
	free(dbq);
	return (rc);
}

/* Whether name is in a NULL-terminated list (case-insensitively). */
static int
introspect_listed(char **list, const char *name)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcasecmp(*list, name) == 0)
			return (1);
	return (0);
}

/*
 * Apply columns.include / exclude (key columns always kept) and build
 * the schema and the SQL fragments.
 */
static int
introspect_select(
    struct worker *w, struct table *t, struct introspect_col *cols, size_t n)
{
	const struct config_binding *b = w->binding;
	char **lists[2] = { b->include, b->exclude }, **l;
	size_t i, j, k;
	int keep;

	for (i = 0; i < 2; i++) {
		for (l = lists[i]; l != NULL && *l != NULL; l++) {
			for (j = 0; j < n; j++)
				if (strcasecmp(cols[j].col.name, *l) == 0)
					break;
			if (j == n)
				return (worker_fail(w, DB_CLASS_PERMANENT,
				    "columns.%s names %s, which is not a "
				    "column of the table",
				    i == 0 ? "include" : "exclude", *l));
		}
	}
	frame_schema_init(&t->fs, t->dbname, t->schema, t->name, FRAME_MODE_CT);
	for (i = 0; i < n; i++) {
		keep = cols[i].col.key_ordinal != 0 ||
		    (b->include != NULL
			    ? introspect_listed(b->include, cols[i].col.name)
			    : !introspect_listed(b->exclude, cols[i].col.name));
		if (keep)
			frame_schema_add_column(&t->fs, &cols[i].col);
	}
	for (i = 0; i < t->fs.ncolumns; i++)
		if (t->fs.columns[i].key_ordinal > t->nkeys)
			t->nkeys = t->fs.columns[i].key_ordinal;
	t->keys = xcalloc(t->nkeys, sizeof(*t->keys));
	for (i = 0; i < t->fs.ncolumns; i++)
		if ((k = t->fs.columns[i].key_ordinal) != 0)
			t->keys[k - 1] = i;
	t->cols_sql = introspect_cols(t, NULL);
	t->keys_sql = introspect_keys(t, NULL);
	return (0);
}

/* "a.[c1], a.[c2]" of every schema column (alias NULL: none). */
char *
introspect_cols(const struct table *t, const char *alias)
{
	char *s = xstrdup(""), *q, *n;
	size_t i;

	for (i = 0; i < t->fs.ncolumns; i++) {
		q = introspect_quote(t->fs.columns[i].name);
		xasprintf(&n, "%s%s%s%s%s", s, i > 0 ? ", " : "",
		    alias != NULL ? alias : "", alias != NULL ? "." : "", q);
		free(s);
		free(q);
		s = n;
	}
	return (s);
}

/* "a.[k1], a.[k2]": the key columns in key order. */
char *
introspect_keys(const struct table *t, const char *alias)
{
	char *s = xstrdup(""), *q, *n;
	size_t i;

	for (i = 0; i < t->nkeys; i++) {
		q = introspect_quote(t->fs.columns[t->keys[i]].name);
		xasprintf(&n, "%s%s%s%s%s", s, i > 0 ? ", " : "",
		    alias != NULL ? alias : "", alias != NULL ? "." : "", q);
		free(s);
		free(q);
		s = n;
	}
	return (s);
}

/*
 * A predicate comparing the key with the parameters @pN.. (first is
 * N): upper 0 "key > params" (after a key), 1 "key <= params".
 * Composite keys expand to (k1 > @p1) OR (k1 = @p1 AND k2 > @p2)...
 */
char *
introspect_key_pred(
    const struct table *t, const char *alias, int first, int upper)
{
	char *s = xstrdup(""), *term = NULL, *q, *n;
	const char *pre = alias != NULL ? alias : "", *dot;
	size_t i, j;

	dot = alias != NULL ? "." : "";
	for (i = 0; i < t->nkeys; i++) {
		term = xstrdup("");
		for (j = 0; j <= i; j++) {
			q = introspect_quote(t->fs.columns[t->keys[j]].name);
			xasprintf(&n, "%s%s%s%s%s %s @p%zu", term,
			    j > 0 ? " AND " : "", pre, dot, q,
			    j < i ? "="
				  : (!upper ? ">"
					    : (i + 1 < t->nkeys ? "<" : "<=")),
			    first + j);
			free(term);
			free(q);
			term = n;
		}
		xasprintf(&n, "%s%s(%s)", s, i > 0 ? " OR " : "", term);
		free(s);
		free(term);
		s = n;
	}
	xasprintf(&n, "(%s)", s);
	free(s);
	return (n);
}

/* "a.[k1] = b.[k1] AND a.[k2] = b.[k2]". */
char *
introspect_key_join(const struct table *t, const char *a, const char *b)
{
	char *s = xstrdup(""), *q, *n;
	size_t i;

	for (i = 0; i < t->nkeys; i++) {
		q = introspect_quote(t->fs.columns[t->keys[i]].name);
		xasprintf(&n, "%s%s%s.%s = %s.%s", s, i > 0 ? " AND " : "", a,
		    q, b, q);
		free(s);
		free(q);
		s = n;
	}
	return (s);
}

/* Typed parameters for a key (nkeys of them, values borrowed). */
void
introspect_key_params(
    const struct table *t, const struct frame_values *key, struct db_param *p)
{
	const struct frame_column *c;
	size_t i;

	for (i = 0; i < t->nkeys; i++) {
		c = &t->fs.columns[t->keys[i]];
		db_param_set(&p[i], c->type_id, (int)c->precision,
		    (int)c->scale, c->max_length, &key->v[i]);
	}
}

/* Whether two introspections give the same FRAME_SCHEMA. */
int
introspect_same(const struct table *a, const struct table *b)
{
	const struct frame_column *x, *y;
	size_t i;

	if (a->fs.ncolumns != b->fs.ncolumns || a->mode != b->mode)
		return (0);
	for (i = 0; i < a->fs.ncolumns; i++) {
		x = &a->fs.columns[i];
		y = &b->fs.columns[i];
		if (strcmp(x->name, y->name) != 0 ||
		    strcmp(x->type_name, y->type_name) != 0 ||
		    x->type_id != y->type_id || x->precision != y->precision ||
		    x->scale != y->scale || x->max_length != y->max_length ||
		    x->nullable != y->nullable ||
		    x->key_ordinal != y->key_ordinal ||
		    x->computed != y->computed)
			return (0);
	}
	return (1);
}

/* Free the columns read from sys.columns. */
static void
introspect_cols_free(struct introspect_col *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(cols[i].col.name);
		free(cols[i].col.type_name);
	}
	free(cols);
}

/* Describe the bound table; -1 with the failure recorded. */
int
introspect_table(struct worker *w, struct table **tp)
{
	struct introspect_col *cols = NULL;
	struct table *t;
	size_t n = 0;
	int rc;
	char *qs, *qt;

	t = xcalloc(1, sizeof(*t));
	t->schema = xstrdup(w->binding->namespace);
	t->name = xstrdup(w->binding->stream);
	qs = introspect_quote(t->schema);
	qt = introspect_quote(t->name);
	xasprintf(&t->qname, "%s.%s", qs, qt);
	xasprintf(&t->display, "%s.%s", t->schema, t->name);
	free(qs);
	free(qt);
	rc = introspect_probe(w, t);
	if (rc == 0)
		rc = introspect_names(w, t);
	if (rc == 0) {
		free(t->display);
		xasprintf(&t->display, "%s.%s", t->schema, t->name);
		rc = introspect_columns(w, t, &cols, &n);
	}
	if (rc == 0)
		rc = introspect_key(w, t, cols, n);
	if (rc == 0)
		rc = introspect_select(w, t, cols, n);
	if (rc == 0)
		rc = introspect_database(w, t);
	if (rc == 0)
		rc = introspect_ct(w, t);
	if (rc == 0)
		rc = introspect_cdc(w, t);
	if (rc == 0)
		rc = introspect_cdc_instances(w, t, cols, n);
	if (rc == 0)
		rc = introspect_rows(w, t);
	if (rc == 0 && w->force_ops != NULL)
		t->mode = w->force_ops->mode;
	else if (rc == 0)
		rc = introspect_mode(w, t);
	introspect_cols_free(cols, n);
	if (rc == -1) {
		introspect_free(t);
		return (-1);
	}
	t->fs.mode = t->mode;
	*tp = t;
	return (0);
}

/* Free a table description. */
void
introspect_free(struct table *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	free(t->schema);
	free(t->name);
	free(t->display);
	free(t->qname);
	free(t->dbname);
	frame_schema_free(&t->fs);
	free(t->keys);
	for (i = 0; i < t->ncdc; i++) {
		free(t->cdc[i].name);
		free(t->cdc[i].captured);
		for (j = 0; j < t->cdc[i].ncolumns; j++)
			free(t->cdc[i].columns[j]);
		free(t->cdc[i].columns);
	}
	free(t->cdc);
	free(t->cols_sql);
	free(t->keys_sql);
	free(t);
}
