/*
 * view.c: user views: CREATE [OR ALTER] VIEW, ALTER VIEW, DROP VIEW.
 *
 * A view schema.v is an object of type 'V' in sim_objects, with its
 * columns in sim_columns (the names, types and nullability of its
 * SELECT's result columns, as sys.columns shows them) and its text in
 * sim_modules (sys.sql_modules.definition), plus the SQLite view
 * "schema.v" over that SELECT compiled to SQLite SQL (compile.c, with
 * literals inline: a SQLite view takes no parameters).  catalog_table()
 * resolves the name to a struct table with is_view 3 whose sqlname is
 * that SQLite view, so SELECT, joins, WHERE, ORDER BY and sp_executesql
 * read a view like a table.  Writes through a view are refused (4406):
 * the simulator never changes base tables through a view.  A view is
 * not a table: sys.tables, and so the daemon's discovery, never lists
 * it; INFORMATION_SCHEMA.TABLES does, with TABLE_TYPE 'VIEW'.  A view
 * follows its base tables by name: ALTER TABLE rebuilding a table leaves
 * it alone (engine.c sets legacy_alter_table), and once a base table is
 * dropped reading the view fails (with SQLite's message, not SQL
 * Server's 208 and 4413).
 *
 * As in SQL Server ("CREATE VIEW (Transact-SQL)", learn.microsoft.com)
 * the statement must open its batch (111) and its SELECT runs to the
 * end of the batch; ORDER BY needs TOP or OFFSET (1033); every column
 * needs a unique name (4511, 4506), or the column list names them all
 * (4502, 8158); no #temp table (4508).  The compile pass compiles the
 * SELECT, so its binding errors fail the batch.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

#define VIEW_MAXCOLS 1024
#define NOW_DT "sim_cast(sim_now(0), 'datetime', NULL, 'datetime2(7)')"

/* A view being created: its name, object, column names and query. */
struct viewdef {
	char schema[129];
	char name[129];
	int schema_id;
	int64_t object_id; /* of the view it replaces (ALTER), else 0 */
	char (*cols)[129]; /* the column list, or NULL */
	int ncols;
	struct cquery q;
	char *text; /* sys.sql_modules.definition (view_text) */
};

static int view_name(struct parser *, struct viewdef *);
static int64_t view_find_id(
    struct parser *, const char *, const char *, char *);
static int view_find(struct parser *, const char *, const char *, char *);
static int view_collist(struct parser *, struct viewdef *);
static int view_temp_check(struct parser *, int);
static int view_order_check(struct parser *, int, int);
static int view_select(struct parser *, struct viewdef *);
static char *view_text(struct parser *, int, int);
static int view_colnames(struct parser *, struct viewdef *);
static int view_exec(struct parser *, const char *, ...); /* sqlite3 %Q */
static int view_store_col(
    struct parser *, int64_t, const struct sim_column *, int);
static int view_store(struct parser *, struct viewdef *);
static int view_unstore(
    struct parser *, int64_t, const char *, const char *, int);
static void view_free(struct viewdef *);
static int view_check_name(struct parser *, struct viewdef *, int);
static int view_drop_one(struct parser *, int);

/* [schema.]name of a view; the schema must exist (2760). */
static int
view_name(struct parser *p, struct viewdef *v)
{
	char parts[3][129];
	int n;

	if ((n = p_name(p, parts, 3)) < 1)
		return (-1);
	snprintf(v->name, sizeof(v->name), "%s", parts[n - 1]);
	snprintf(v->schema, sizeof(v->schema), "%s",
	    n > 1 && parts[n - 2][0] ? parts[n - 2] : p->s->defschema);
	if (v->name[0] == '#') {
		sim_error_set(p->err, 4103, 15, 1,
		    "%s: Temporary views are not allowed.", v->name);
		return (-1);
	}
	if ((v->schema_id = catalog_schema_id(p->s, v->schema)) < 0) {
		sim_error_set(p->err, 2760, 16, 1,
		    "The specified schema name \"%s\" either does not exist "
		    "or you do not have permission to use it.",
		    v->schema);
		return (-1);
	}
	return (0);
}

/*
 * The object schema.name of the current database: its object_id and
 * type ("U", "V", ...) in type, or 0 when there is none.
 */
static int64_t
view_find_id(struct parser *p, const char *schema, const char *name, char *type)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	type[0] = '\0';
	if (sqlite3_prepare_v2(p->s->db,
		"SELECT o.object_id, o.type FROM main.sim_objects o JOIN "
		"main.sim_schemas s USING (schema_id) WHERE o.name = ? AND "
		"s.name = ? AND o.parent_object_id = 0",
		-1, &st, NULL) != SQLITE_OK)
		return (0);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		snprintf(type, 3, "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return (id);
}

/* 1 when schema.name is a view (type filled as view_find_id does). */
static int
view_find(struct parser *p, const char *schema, const char *name, char *type)
{
	return (
	    view_find_id(p, schema, name, type) != 0 && strcmp(type, "V") == 0);
}

/* The optional column list "(a, b, ...)". */
static int
view_collist(struct parser *p, struct viewdef *v)
{
	if (!p_accept_op(p, "("))
		return (0);
	do {
		if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
			return (p_syntax(p));
		if (v->ncols == VIEW_MAXCOLS)
			return (p_syntax(p));
		v->cols = util_xrealloc(v->cols, (v->ncols + 1) * 129);
		snprintf(v->cols[v->ncols++], 129, "%s", p_tok(p)->text);
		p->pos++;
	} while (p_accept_op(p, ","));
	return (p_expect_op(p, ")"));
}

/* 4508: a #temp table among the tokens from from on. */
static int
view_temp_check(struct parser *p, int from)
{
	struct lex_tok *t;
	int i;

	for (i = from; i < p->lx->n; i++) {
		t = &p->lx->t[i];
		if ((t->kind == LEX_IDENT || t->kind == LEX_QIDENT) &&
		    t->text[0] == '#') {
			sim_error_set(p->err, 4508, 16, 1,
			    "Views or functions are not allowed on temporary "
			    "tables. Table names that begin with '#' denote "
			    "temporary tables.");
			return (-1);
		}
	}
	return (0);
}

/*
 * 1033: an ORDER BY at depth 0 of tokens [from, to) without TOP or
 * OFFSET (a TOP of the first SELECT, or an OFFSET at depth 0).
 */
static int
view_order_check(struct parser *p, int from, int to)
{
	struct lex_tok *t;
	int i, depth = 0, order = 0, top = 0;

	for (i = from; i < to; i++) {
		t = &p->lx->t[i];
		if (lex_is_op(t, "("))
			depth++;
		else if (lex_is_op(t, ")"))
			depth--;
		else if (depth == 0 && lex_is_kw(t, "ORDER"))
			order = 1;
		else if (depth == 0 &&
		    (lex_is_kw(t, "TOP") || lex_is_kw(t, "OFFSET")))
			top = 1;
	}
	if (!order || top)
		return (0);
	sim_error_set(p->err, 1033, 15, 1,
	    "The ORDER BY clause is invalid in views, inline functions, "
	    "derived tables, subqueries, and common table expressions, unless "
	    "TOP, OFFSET or FOR XML is also specified.");
	return (-1);
}

/*
 * [WITH SCHEMABINDING | VIEW_METADATA ...] AS SELECT ... up to the end
 * of the batch: compiled into v->q with literals inline.
 */
static int
view_select(struct parser *p, struct viewdef *v)
{
	int save = p->paramlits, from, rc;

	if (p_accept_kw(p, "WITH")) {
		do {
			if (!p_accept_kw(p, "SCHEMABINDING") &&
			    !p_accept_kw(p, "VIEW_METADATA") &&
			    !p_accept_kw(p, "ENCRYPTION"))
				return (p_syntax(p));
		} while (p_accept_op(p, ","));
	}
	if (p_expect_kw(p, "AS") == -1)
		return (-1);
	if (!p_kw(p, "SELECT") && !p_kw(p, "WITH") && !p_op(p, "("))
		return (p_syntax(p));
	from = p->pos;
	if (view_temp_check(p, from) == -1)
		return (-1);
	p->paramlits = 0;
	rc = compile_select(p, NULL, &v->q);
	p->paramlits = save;
	if (rc == -1)
		return (-1);
	if (view_order_check(p, from, p->pos) == -1)
		return (-1);
	if (p_kw(p, "WITH") && lex_is_kw(&p->lx->t[p->pos + 1], "CHECK")) {
		p->pos += 2;
		if (p_expect_kw(p, "OPTION") == -1)
			return (-1);
	}
	p_accept_op(p, ";");
	if (p_tok(p)->kind != LEX_EOF)
		return (p_syntax(p));
	return (0);
}

/*
 * sys.sql_modules.definition: the whole batch as written, comments
 * included, except that ALTER VIEW is stored as CREATE VIEW and CREATE
 * OR ALTER VIEW loses "OR ALTER" (sqlquantumleap.com, "Stored
 * Procedure / Function / View / Trigger Definitions Can Be Wrong").
 */
static char *
view_text(struct parser *p, int start, int mode)
{
	struct lex_tok *t = p->lx->t;
	const char *src = p->lx->src;
	struct sbuf b;
	size_t cut, resume;

	cut = t[start].off; /* mode VIEW_ALTER: the ALTER word */
	resume = t[start].end;
	if (mode == VIEW_CREATE_OR_ALTER) {
		cut = t[start + 1]
			  .off; /* OR ... ALTER, keeping what is between */
		resume = t[start + 1].end;
	}
	sbuf_init(&b);
	if (mode == VIEW_CREATE)
		sbuf_add(&b, src, strlen(src));
	else {
		sbuf_add(&b, src, cut);
		if (mode == VIEW_ALTER)
			sbuf_add(&b, "CREATE", 6);
		else {
			sbuf_add(&b, src + resume, t[start + 2].off - resume);
			resume = t[start + 2].end;
		}
		sbuf_add(&b, src + resume, strlen(src + resume));
	}
	sbuf_add(&b, "", 1);
	return ((char *)b.data);
}

/* Name the columns from the list or the SELECT (4511, 4506, 4502, 8158). */
static int
view_colnames(struct parser *p, struct viewdef *v)
{
	struct sim_column *c = v->q.cols;
	int i, k;

	if (v->cols != NULL && v->ncols > v->q.ncols) {
		sim_error_set(p->err, 4502, 16, 1,
		    "View or function '%s' has more column names specified "
		    "than columns defined.",
		    v->name);
		return (-1);
	}
	if (v->cols != NULL && v->ncols < v->q.ncols) {
		sim_error_set(p->err, 8158, 16, 1,
		    "'%s' has more columns than were specified in the column "
		    "list.",
		    v->name);
		return (-1);
	}
	for (i = 0; i < v->q.ncols; i++) {
		if (v->cols != NULL)
			snprintf(
			    c[i].name, sizeof(c[i].name), "%s", v->cols[i]);
		if (c[i].name[0] == '\0') {
			sim_error_set(p->err, 4511, 16, 1,
			    "Create View or Function failed because no column "
			    "name was specified for column %d.",
			    i + 1);
			return (-1);
		}
		for (k = 0; k < i; k++) {
			if (strcasecmp(c[k].name, c[i].name) != 0)
				continue;
			sim_error_set(p->err, 4506, 16, 1,
			    "Column names in each view or function must be "
			    "unique. Column name '%s' in view or function '%s' "
			    "is specified more than once.",
			    c[i].name, v->name);
			return (-1);
		}
	}
	return (0);
}

/* Run SQL built with sqlite3_mprintf on the session's connection. */
static int
view_exec(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char *sql, *msg = NULL;
	int rc = 0;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_exec(p->s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (sim_error_from_sqlite(msg, p->err) == -1)
			sim_error_set(p->err, 50000, 16, 1, "mssqlsim: %s",
			    msg ? msg : "?");
		rc = -1;
	}
	sqlite3_free(msg);
	sqlite3_free(sql);
	return (rc);
}

/* Insert the sim_columns row of result column i of the view. */
static int
view_store_col(
    struct parser *p, int64_t oid, const struct sim_column *c, int colid)
{
	char tname[80];
	int prec, scale;

	simtype_format(&c->type, tname, sizeof(tname));
	ddl_precision(&c->type, &prec, &scale);
	return (view_exec(p,
	    "INSERT INTO main.sim_columns VALUES (%lld, %d, %Q, %Q, %d, %d, "
	    "%d, %d, %d, %d, 0, 0, NULL, 0, NULL, 0)",
	    (long long)oid, colid, c->name, tname, c->type.id, c->type.maxlen,
	    prec, scale, c->nullable, c->identity));
}

/* Write the view: metadata rows and the SQLite view. */
static int
view_store(struct parser *p, struct viewdef *v)
{
	struct sbuf b;
	int64_t oid = v->object_id ? v->object_id : ddl_next_object_id(p);
	char *q;
	int i, rc;

	if ((v->object_id != 0
		    ? view_exec(p,
			  "UPDATE main.sim_objects SET modify_date = " NOW_DT
			  ", next_column_id = %d WHERE object_id = %lld",
			  v->q.ncols + 1, (long long)oid)
		    : view_exec(p,
			  "INSERT INTO main.sim_objects(object_id, name, "
			  "schema_id, type, create_date, modify_date, "
			  "next_column_id) VALUES (%lld, %Q, %d, 'V', " NOW_DT
			  ", " NOW_DT ", %d)",
			  (long long)oid, v->name, v->schema_id,
			  v->q.ncols + 1)) == -1 ||
	    view_exec(p, "INSERT INTO main.sim_modules VALUES (%lld, %Q)",
		(long long)oid, v->text) == -1)
		return (-1);
	for (i = 0; i < v->q.ncols; i++)
		if (view_store_col(p, oid, &v->q.cols[i], i + 1) == -1)
			return (-1);
	sbuf_init(&b);
	q = sqlite3_mprintf("CREATE VIEW \"%w.%w\"(", v->schema, v->name);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < v->q.ncols; i++) {
		q = sqlite3_mprintf(
		    "%s\"%w\"", i ? ", " : "", v->q.cols[i].name);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	sbuf_add(&b, ") AS ", 5);
	sbuf_add(&b, v->q.sql.data, v->q.sql.len);
	sbuf_add(&b, "", 1);
	rc = view_exec(p, "%s", (char *)b.data);
	sbuf_free(&b);
	return (rc);
}

/*
 * Remove a view's SQLite view and metadata rows; ALTER (keep) keeps its
 * object row and permissions.
 */
static int
view_unstore(struct parser *p, int64_t oid, const char *schema,
    const char *name, int keep)
{
	return (view_exec(p, "DROP VIEW IF EXISTS \"%w.%w\"", schema, name) ||
	    view_exec(p,
		"DELETE FROM main.sim_columns WHERE object_id = %lld; "
		"DELETE FROM main.sim_modules WHERE object_id = %lld",
		(long long)oid, (long long)oid) ||
	    (!keep &&
		view_exec(p,
		    "DELETE FROM main.sim_objects WHERE object_id = %lld; "
		    "DELETE FROM main.sim_perms WHERE class = 1 AND major_id "
		    "= %lld",
		    (long long)oid, (long long)oid)));
}

static void
view_free(struct viewdef *v)
{
	free(v->cols);
	cquery_free(&v->q);
	free(v->text);
}

/* Check the name against what exists (2714, 208) for mode. */
static int
view_check_name(struct parser *p, struct viewdef *v, int mode)
{
	char type[3];
	int64_t id = view_find_id(p, v->schema, v->name, type);

	if (id != 0 && strcmp(type, "V") == 0 && mode != VIEW_CREATE) {
		v->object_id = id; /* ALTER keeps the object_id */
		return (0);
	}
	if (id != 0) {
		sim_error_set(p->err, 2714, 16, 3,
		    "There is already an object named '%s' in the database.",
		    v->name);
		return (-1);
	}
	if (mode == VIEW_ALTER) {
		sim_error_set(
		    p->err, 208, 16, 1, "Invalid object name '%s'.", v->name);
		return (-1);
	}
	return (0);
}

/*
 * CREATE VIEW, CREATE OR ALTER VIEW, ALTER VIEW (mode VIEW_*); start is
 * the token of CREATE or ALTER, p is after VIEW.
 */
int
view_create(struct parser *p, int start, int mode)
{
	struct viewdef v;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	if (start != 0) {
		sim_error_set(p->err, 111, 15, 1,
		    "'%s VIEW' must be the first statement in a query batch.",
		    mode == VIEW_ALTER ? "ALTER" : "CREATE");
		return (-1);
	}
	if (view_name(p, &v) == -1 || view_collist(p, &v) == -1 ||
	    view_select(p, &v) == -1 || view_colnames(p, &v) == -1)
		goto out;
	v.text = view_text(p, start, mode);
	if (p->s->dry) { /* the compile pass: bound, at the batch's end */
		rc = 0;
		goto out;
	}
	if (view_check_name(p, &v, mode) == -1 ||
	    engine_write_begin(p->s, p->err) == -1)
		goto out;
	rc = 0;
	if (v.object_id != 0)
		rc = view_unstore(p, v.object_id, v.schema, v.name, 1);
	if (rc == 0)
		rc = view_store(p, &v);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		rc = -1;
	else if (rc == 0)
		rc = engine_send_done(p->s, 0, 0) == -1 ? -2 : 0;
out:
	view_free(&v);
	return (rc);
}

/* Drop one view (3701, or 3705 for a table). */
static int
view_drop_one(struct parser *p, int ifexists)
{
	struct viewdef v;
	char type[3];
	int64_t id;
	int rc;

	memset(&v, 0, sizeof(v));
	if (view_name(p, &v) == -1)
		return (-1);
	if (p->s->dry) /* the compile pass: names only */
		return (0);
	if (!view_find(p, v.schema, v.name, type)) {
		if (type[0] == 'U') {
			sim_error_set(p->err, 3705, 16, 1,
			    "Cannot use DROP VIEW with '%s' because '%s' is "
			    "a table. Use DROP TABLE.",
			    v.name, v.name);
			return (-1);
		}
		if (ifexists)
			return (0);
		sim_error_set(p->err, 3701, 11, 5,
		    "Cannot drop the view '%s', because it does not exist or "
		    "you do not have permission.",
		    v.name);
		return (-1);
	}
	id = view_find_id(p, v.schema, v.name, type);
	if (engine_write_begin(p->s, p->err) == -1)
		return (-1);
	rc = view_unstore(p, id, v.schema, v.name, 0);
	return (engine_write_end(p->s, rc == 0, p->err) == -1 ? -1 : rc);
}

/* DROP VIEW [IF EXISTS] v [, ...] (p after VIEW) */
int
view_drop(struct parser *p)
{
	int ifexists;

	ifexists = p_kw(p, "IF") && lex_is_kw(&p->lx->t[p->pos + 1], "EXISTS");
	if (ifexists)
		p->pos += 2;
	do {
		if (view_drop_one(p, ifexists) == -1)
			return (-1);
	} while (p_accept_op(p, ","));
	if (p->s->dry)
		return (0);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}
