/*
 * fk.c: FOREIGN KEY constraints: their definition (CREATE TABLE,
 * ALTER TABLE ADD/DROP/NOCHECK/CHECK CONSTRAINT), the catalog rows
 * behind sys.foreign_keys and sys.foreign_key_columns, and their
 * enforcement by dml.c with SQL Server's errors.
 *
 * Metadata: a constraint is a sim_objects row of type 'F' whose parent
 * is the referencing table, a sim_fks row (referenced table, the
 * index_id of the referenced PRIMARY KEY / UNIQUE key, the referential
 * actions 0 NO ACTION, 1 CASCADE, 2 SET NULL, 3 SET DEFAULT, disabled
 * and not-trusted flags) and one sim_fk_columns row per column pair.
 *
 * Enforcement follows the rules of "Primary and foreign key
 * constraints" (Microsoft Learn):
 *   - a referencing row written by INSERT or UPDATE (of a foreign key
 *     column) must match a row of the referenced table unless one of
 *     its foreign key columns is NULL; otherwise 547 "... conflicted
 *     with the FOREIGN KEY constraint" naming the referenced table;
 *     the check runs row by row right after the row is written;
 *   - after a DELETE or an UPDATE of referenced key columns, every old
 *     key that no longer exists in the referenced table is looked up
 *     in the referencing table: NO ACTION raises 547 "... conflicted
 *     with the REFERENCE constraint" naming the referencing table;
 *     CASCADE deletes the referencing rows or sets them to the new
 *     key, SET NULL / SET DEFAULT set their foreign key columns.  The
 *     old keys are read before the statement writes (fk_parent_save)
 *     and the actions run after it (fk_parent_apply), so that rows
 *     changed by the statement itself are seen as SQL Server sees them
 *     at the end of the statement.
 * Cascaded changes are written here, row by row, and recorded with
 * engine_change_add() exactly as dml.c records its own rows, so that
 * Change Tracking and CDC see them as ordinary changes of the
 * referencing table in the same transaction.  A cascade cascades
 * further (up to 32 levels).  A disabled constraint (NOCHECK) is
 * neither checked nor acted on.
 *
 * Definition: the referenced columns must be exactly the columns of a
 * PRIMARY KEY, UNIQUE constraint or unique index (1776), of the same
 * type (1778) and length/scale (1753); actions other than NO ACTION
 * must not make a cycle or two cascade paths (1785); each definition
 * error is followed by 1750 (measured, SIM).  A #temp table's
 * constraints are skipped with notice 1756 (ddl.c).  Not modelled:
 * collation agreement (1757), bulk loads' CHECK_CONSTRAINTS (rows of
 * INSERT BULK are checked), NOCHECK of CHECK constraints.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

#define FK_MAXDEPTH 32

/* One constraint as enforcement needs it. */
struct fk {
	int64_t id;
	char name[129];
	struct table *child; /* referencing table */
	struct table *ref; /* referenced table */
	int own_child, own_ref; /* loaded here (else the caller's) */
	int ondelete, onupdate;
	int disabled;
	int n;
	int ccol[FK_MAXCOLS]; /* child column index */
	int rcol[FK_MAXCOLS]; /* referenced column index */
	/* saved by fk_parent_save: rows of ref and their old keys */
	sqlite3_int64 *rowid;
	struct simval *old; /* n per row */
	size_t nrows;
};

/* The constraints a table takes part in. */
struct fkset {
	struct sim_session *s;
	struct table *t;
	struct fk *fk;
	int nfk;
	int depth;
};

static int fk_define(
    struct parser *, struct table *, struct fkdef *, int64_t, int);
static int fk_apply_one(
    struct fkset *, struct fk *, const char *, struct sim_error *);

/* An integer from SQL built with sqlite3_mprintf (def when no row). */
static int64_t
fk_int(sqlite3 *db, int64_t def, const char *fmt, ...)
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

/* Run SQL built with sqlite3_mprintf on the session connection. */
static int
fk_exec(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char *sql, *msg = NULL;
	int rc = 0;

	if (p->s->dry)
		return (engine_dry_stop(p->s, p->err));
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

/* ( col, ... ) into cols; returns the count or -1. */
static int
fk_parse_cols(struct parser *p, char cols[][129])
{
	int n = 0;

	if (p_expect_op(p, "(") == -1)
		return (-1);
	do {
		if (n == FK_MAXCOLS ||
		    (p_tok(p)->kind != LEX_IDENT &&
			p_tok(p)->kind != LEX_QIDENT))
			return (p_syntax(p));
		snprintf(cols[n++], 129, "%s", p_tok(p)->text);
		p->pos++;
	} while (p_accept_op(p, ","));
	return (p_expect_op(p, ")") == -1 ? -1 : n);
}

/* ON {DELETE|UPDATE} {NO ACTION|CASCADE|SET NULL|SET DEFAULT} */
static int
fk_parse_action(struct parser *p, int *action)
{
	if (p_accept_kw(p, "NO"))
		return (p_expect_kw(p, "ACTION") == -1 ? -1 : (*action = 0));
	if (p_accept_kw(p, "CASCADE"))
		return (*action = 1, 0);
	if (p_expect_kw(p, "SET") == -1)
		return (-1);
	if (p_accept_kw(p, "NULL"))
		return (*action = 2, 0);
	if (p_expect_kw(p, "DEFAULT") == -1)
		return (-1);
	return (*action = 3, 0);
}

/*
 * [FOREIGN KEY [(cols)]] REFERENCES t [(cols)] [ON DELETE a]
 * [ON UPDATE a] [NOT FOR REPLICATION]; onecol is the column of a
 * column constraint (NULL in a table constraint).
 */
int
fk_parse(
    struct parser *p, struct fkdef *f, const char *name, const char *onecol)
{
	char parts[3][129];
	int n;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "");
	if (p_accept_kw(p, "FOREIGN") && p_expect_kw(p, "KEY") == -1)
		return (-1);
	if (onecol == NULL || p_op(p, "(")) {
		if ((f->n = fk_parse_cols(p, f->cols)) == -1)
			return (-1);
	} else {
		snprintf(f->cols[0], 129, "%s", onecol);
		f->n = 1;
	}
	if (p_expect_kw(p, "REFERENCES") == -1 || (n = p_name(p, parts, 3)) < 1)
		return (-1);
	snprintf(f->refschema, sizeof(f->refschema), "%s",
	    n > 1 ? parts[n - 2] : "");
	snprintf(f->reftable, sizeof(f->reftable), "%s", parts[n - 1]);
	if (p_op(p, "(") && (f->nref = fk_parse_cols(p, f->refcols)) == -1)
		return (-1);
	while (p_kw(p, "ON") &&
	    (lex_is_kw(&p->lx->t[p->pos + 1], "DELETE") ||
		lex_is_kw(&p->lx->t[p->pos + 1], "UPDATE"))) {
		p->pos++;
		if (fk_parse_action(p,
			p_accept_kw(p, "DELETE")
			    ? &f->ondelete
			    : (p->pos++, &f->onupdate)) == -1)
			return (-1);
	}
	if (p_accept_kw(p, "NOT") &&
	    (p_expect_kw(p, "FOR") == -1 ||
		p_expect_kw(p, "REPLICATION") == -1))
		return (-1);
	return (0);
}

/* Index of column name in t, -1 if none. */
static int
fk_colindex(const struct table *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i].c.name, name) == 0)
			return (i);
	return (-1);
}

/* Error 1776: no unique key of r has exactly the referenced columns. */
static int
fk_no_key(struct parser *p, const struct table *r, const char *name)
{
	sim_error_set(p->err, 1776, 16, 0,
	    "There are no primary or candidate keys in the referenced table "
	    "'%s.%s' that match the referencing column list in the foreign "
	    "key '%s'.",
	    r->schema, r->name, name);
	return (-1);
}

/* The key columns of unique index idx of r, in key order ("\1"-separated). */
static char *
fk_index_cols(struct sim_session *s, const struct table *r, int idx)
{
	sqlite3_stmt *st;
	char *sql, *cols = NULL;

	sql = sqlite3_mprintf("SELECT group_concat(name, char(1)) FROM (SELECT "
			      "c.name FROM \"%w\".sim_index_columns ic JOIN "
			      "\"%w\".sim_columns c ON c.object_id = "
			      "ic.object_id AND c.column_id = ic.column_id "
			      "WHERE ic.object_id = %lld AND ic.index_id = %d "
			      "ORDER BY ic.key_ordinal)",
	    r->db, r->db, (long long)r->object_id, idx);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL)
			cols = util_xstrdup(
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return (cols);
}

/* Are the columns of index idx of r exactly the referenced columns? */
static int
fk_index_matches(
    struct sim_session *s, const struct table *r, int idx, struct fkdef *f)
{
	char *cols = fk_index_cols(s, r, idx), *c, *save = NULL;
	int n = 0, hit = 0, k;

	for (c = cols ? strtok_r(cols, "\1", &save) : NULL; c != NULL;
	     c = strtok_r(NULL, "\1", &save), n++)
		for (k = 0; k < f->nref; k++)
			hit += strcasecmp(c, f->refcols[k]) == 0;
	free(cols);
	if (f->nref > 0)
		return (n == f->nref && hit == n);
	/* no column list: the primary key's columns, in key order */
	cols = fk_index_cols(s, r, idx);
	for (c = cols ? strtok_r(cols, "\1", &save) : NULL;
	     c != NULL && f->nref < FK_MAXCOLS; c = strtok_r(NULL, "\1", &save))
		snprintf(f->refcols[f->nref++], 129, "%s", c);
	free(cols);
	return (f->nref > 0);
}

/*
 * The index_id of the unique index of r whose columns are exactly the
 * referenced columns (1776 if none); without a column list, the
 * primary key (1773 if none).
 */
static int
fk_key_index(struct parser *p, struct fkdef *f, const struct table *r)
{
	sqlite3_stmt *st;
	char *sql;
	int idx = -1, i, implicit = f->nref == 0;

	for (i = 0; i < f->nref; i++)
		if (fk_colindex(r, f->refcols[i]) < 0) {
			sim_error_set(p->err, 1770, 16, 0,
			    "Foreign key '%s' references invalid column '%s' "
			    "in referenced table '%s'.",
			    f->name, f->refcols[i], r->name);
			return (-1);
		}
	sql = sqlite3_mprintf("SELECT index_id FROM \"%w\".sim_indexes WHERE "
			      "object_id = %lld AND is_unique = 1 %s ORDER BY "
			      "is_primary_key DESC, index_id",
	    r->db, (long long)r->object_id,
	    implicit ? "AND is_primary_key = 1" : "");
	if (sqlite3_prepare_v2(p->s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_free(sql);
		return (engine_sqlite_error(p->s, p->err));
	}
	sqlite3_free(sql);
	while (idx < 0 && sqlite3_step(st) == SQLITE_ROW)
		if (fk_index_matches(p->s, r, sqlite3_column_int(st, 0), f))
			idx = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (idx < 0 && implicit) {
		sim_error_set(p->err, 1773, 16, 0,
		    "Foreign key '%s' has implicit reference to object '%s' "
		    "which does not have a primary key defined on it.",
		    f->name, r->name);
		return (-1);
	}
	return (idx < 0 ? fk_no_key(p, r, f->name) : idx);
}

/* Column count, names and types of the two sides (1769, 8139, 1778). */
static int
fk_validate(struct parser *p, struct fkdef *f, const struct table *t,
    const struct table *r, int *cc, int *rc)
{
	int i;

	if (f->n != f->nref) {
		sim_error_set(p->err, 8139, 16, 0,
		    "Number of referencing columns in foreign key differs "
		    "from number of referenced columns, table '%s'.",
		    t->name);
		return (-1);
	}
	for (i = 0; i < f->n; i++) {
		if ((cc[i] = fk_colindex(t, f->cols[i])) < 0) {
			sim_error_set(p->err, 1769, 16, 1,
			    "Foreign key '%s' references invalid column '%s' "
			    "in referencing table '%s'.",
			    f->name, f->cols[i], t->name);
			return (-1);
		}
		rc[i] = fk_colindex(r, f->refcols[i]);
		if (t->cols[cc[i]].c.type.id != r->cols[rc[i]].c.type.id) {
			sim_error_set(p->err, 1778, 16, 0,
			    "Column '%s.%s' is not the same data type as "
			    "referencing column '%s.%s' in foreign key '%s'.",
			    r->name, r->cols[rc[i]].c.name, t->name,
			    t->cols[cc[i]].c.name, f->name);
			return (-1);
		}
		if (memcmp(&t->cols[cc[i]].c.type, &r->cols[rc[i]].c.type,
			sizeof(struct sim_type)) != 0) {
			sim_error_set(p->err, 1753, 16, 0,
			    "Column '%s.%s' is not the same length or scale as "
			    "referencing column '%s.%s' in foreign key '%s'. "
			    "Columns participating in a foreign key "
			    "relationship must be defined with the same length "
			    "and scale.",
			    r->name, r->cols[rc[i]].c.name, t->name,
			    t->cols[cc[i]].c.name, f->name);
			return (-1);
		}
		if ((f->ondelete == 2 || f->onupdate == 2) &&
		    !t->cols[cc[i]].c.nullable) {
			sim_error_set(p->err, 1761, 16, 0,
			    "Cannot create the foreign key \"%s\" with the SET "
			    "NULL referential action, because one or more "
			    "referencing columns are not nullable.",
			    f->name);
			return (-1);
		}
	}
	return (0);
}

/*
 * 1785 when the referential actions (col: "delete_action" or
 * "update_action") of the existing constraints and of the new one
 * (ref -> child, when action is not NO ACTION) would give two
 * cascade paths between two tables, or a cycle ("Cascading
 * referential integrity", learn.microsoft.com).
 */
static int
fk_cascade_paths(
    struct parser *p, const struct fk *k, const char *col, int action)
{
	if (action == 0 ||
	    fk_int(p->s->db, 0,
		"WITH RECURSIVE e(a, b) AS (SELECT referenced_object_id, "
		"parent_object_id FROM main.sim_fks WHERE %s <> 0 UNION ALL "
		"SELECT %lld, %lld), r(a, b, n) AS (SELECT a, b, 1 FROM e "
		"UNION ALL SELECT r.a, e.b, r.n + 1 FROM r JOIN e ON e.a = r.b "
		"WHERE r.n < 33) SELECT count(*) FROM (SELECT a, b FROM r "
		"GROUP BY a, b HAVING count(*) > 1 OR a = b)",
		col, (long long)k->ref->object_id,
		(long long)k->child->object_id) == 0)
		return (0);
	sim_error_set(p->err, 1785, 16, 0,
	    "Introducing FOREIGN KEY constraint '%s' on table '%s' may cause "
	    "cycles or multiple cascade paths. Specify ON DELETE NO ACTION or "
	    "ON UPDATE NO ACTION, or modify other FOREIGN KEY constraints.",
	    k->name, k->child->name);
	return (-1);
}

/* SQL: the rows of child alias c whose key has no match in r. */
static char *
fk_orphans_sql(const struct fk *k, const char *where)
{
	struct sbuf b;
	char *q;
	int i;

	sbuf_init(&b);
	q = sqlite3_mprintf(
	    "SELECT 1 FROM %s AS c WHERE %s", k->child->sqlname, where);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < k->n; i++) {
		q = sqlite3_mprintf(" AND c.\"%w\" IS NOT NULL",
		    k->child->cols[k->ccol[i]].c.name);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	q = sqlite3_mprintf(
	    " AND NOT EXISTS (SELECT 1 FROM %s AS r WHERE ", k->ref->sqlname);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < k->n; i++) {
		q = sqlite3_mprintf("%sr.\"%w\" = c.\"%w\"", i ? " AND " : "",
		    k->ref->cols[k->rcol[i]].c.name,
		    k->child->cols[k->ccol[i]].c.name);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	sbuf_add(&b, ") LIMIT 1", 10);
	return ((char *)b.data);
}

/* Error 547 of a referencing row without a referenced row. */
static int
fk_conflict(struct sim_session *s, const struct fk *k, const char *op,
    struct sim_error *err)
{
	sim_error_set(err, 547, 16, 0,
	    "The %s statement conflicted with the FOREIGN KEY%s constraint "
	    "\"%s\". The conflict occurred in database \"%s\", table "
	    "\"%s.%s\"%s%s%s.",
	    op, k->child->object_id == k->ref->object_id ? " SAME TABLE" : "",
	    k->name, s->dbname, k->ref->schema, k->ref->name,
	    k->n == 1 ? ", column '" : "",
	    k->n == 1 ? k->ref->cols[k->rcol[0]].c.name : "",
	    k->n == 1 ? "'" : "");
	return (-1);
}

/* WITH CHECK: the existing rows must satisfy the new constraint. */
static int
fk_check_existing(struct parser *p, struct fk *k)
{
	char *sql = fk_orphans_sql(k, "1");
	int64_t bad = fk_int(p->s->db, 0, "%s", sql);

	free(sql);
	if (bad == 0)
		return (0);
	return (fk_conflict(p->s, k, "ALTER TABLE", p->err));
}

/*
 * Default name FK__<table>__<column>__<8 hex digits>: at most 9
 * characters of the table name and 14 of both names together (as
 * the names in SQL Server's 547 messages show, e.g.
 * FK__ProductVa__produ__3F466844, FK__person__departme__7C4F7684); the
 * hex digits here are the constraint's object_id; a real server's
 * suffix can not be reproduced, so tests must not pin it.
 */
static void
fk_auto_name(char *buf, const char *table, const char *col, int64_t id)
{
	int tl = (int)strlen(table) < 9 ? (int)strlen(table) : 9;

	snprintf(buf, 129, "FK__%.*s__%.*s__%08llX", tl, table, 14 - tl, col,
	    (unsigned long long)(id & 0xffffffff));
}

/* Write the metadata rows of a new constraint. */
static int
fk_insert_rows(
    struct parser *p, struct fk *k, int idx, int sysnamed, int nocheck)
{
	int i, rc;

	rc = fk_exec(p,
	    "INSERT INTO main.sim_objects(object_id, name, schema_id, type, "
	    "parent_object_id, create_date, modify_date) VALUES (%lld, %Q, "
	    "%d, 'F', %lld, sim_cast(sim_now(0), 'datetime', NULL, "
	    "'datetime2(7)'), sim_cast(sim_now(0), 'datetime', NULL, "
	    "'datetime2(7)')); INSERT INTO main.sim_fks VALUES (%lld, %lld, "
	    "%lld, %d, %d, %d, 0, %d, %d)",
	    (long long)k->id, k->name, k->child->schema_id,
	    (long long)k->child->object_id, (long long)k->id,
	    (long long)k->child->object_id, (long long)k->ref->object_id, idx,
	    k->ondelete, k->onupdate, nocheck, sysnamed);
	for (i = 0; i < k->n && rc == 0; i++)
		rc = fk_exec(p,
		    "INSERT INTO main.sim_fk_columns VALUES (%lld, %d, %lld, "
		    "%d, %lld, %d)",
		    (long long)k->id, i + 1, (long long)k->child->object_id,
		    k->child->cols[k->ccol[i]].column_id,
		    (long long)k->ref->object_id,
		    k->ref->cols[k->rcol[i]].column_id);
	return (rc);
}

/*
 * Create constraint f of table t (its referenced table must exist:
 * 1767); nocheck: WITH NOCHECK, existing rows are not checked and the
 * constraint is not trusted.  A definition error is followed by 1750
 * as the statement's error (measured, SIM); 547 of WITH CHECK is not.
 */
int
fk_create(
    struct parser *p, struct table *t, struct fkdef *f, int64_t id, int nocheck)
{
	int rc = fk_define(p, t, f, id, nocheck);

	if (rc == -1 && p->err->number != 547 && p->err->number != 1750 &&
	    p->err->number != ENGINE_DRYSTOP) {
		engine_send_message(p->s, p->err);
		sim_error_set(p->err, 1750, 16, 0,
		    "Could not create constraint or index. See previous "
		    "errors.");
	}
	return (rc);
}

/* fk_create() up to its error. */
static int
fk_define(
    struct parser *p, struct table *t, struct fkdef *f, int64_t id, int nocheck)
{
	struct table *r;
	struct fk k;
	int idx, rc = -1, sysnamed = f->name[0] == '\0';

	if (sysnamed)
		fk_auto_name(f->name, t->name, f->cols[0], id);
	if ((r = catalog_table_in(p->s, t->db,
		 f->refschema[0] ? f->refschema : NULL, f->reftable, NULL)) ==
		NULL ||
	    r->is_view) {
		catalog_table_free(r);
		sim_error_set(p->err, 1767, 16, 0,
		    "Foreign key '%s' references invalid table '%s'.", f->name,
		    f->reftable);
		return (-1);
	}
	memset(&k, 0, sizeof(k));
	k.id = id;
	snprintf(k.name, sizeof(k.name), "%s", f->name);
	k.child = t;
	k.ref = r;
	k.n = f->n;
	k.ondelete = f->ondelete;
	k.onupdate = f->onupdate;
	if ((idx = fk_key_index(p, f, r)) < 0 ||
	    fk_validate(p, f, t, r, k.ccol, k.rcol) == -1)
		rc = -1;
	else if (fk_int(p->s->db, 0,
		     "SELECT count(*) FROM main.sim_objects WHERE name = %Q "
		     "AND schema_id = %d",
		     f->name, t->schema_id) > 0)
		sim_error_set(p->err, 2714, 16, 5,
		    "There is already an object named '%s' in the database.",
		    f->name);
	else if (fk_cascade_paths(p, &k, "delete_action", k.ondelete) == 0 &&
	    fk_cascade_paths(p, &k, "update_action", k.onupdate) == 0 &&
	    (nocheck || fk_check_existing(p, &k) == 0))
		rc = fk_insert_rows(p, &k, idx, sysnamed, nocheck);
	catalog_table_free(r);
	return (rc);
}

/* The table of an object_id in SQLite schema db. */
static struct table *
fk_table_by_id(
    struct sim_session *s, const char *db, int64_t oid, struct sim_error *err)
{
	sqlite3_stmt *st;
	struct table *t = NULL;
	char *sql;

	sql = sqlite3_mprintf("SELECT s.name, o.name FROM \"%w\".sim_objects o "
			      "JOIN \"%w\".sim_schemas s USING (schema_id) "
			      "WHERE o.object_id = %lld",
	    db, db, (long long)oid);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			t = catalog_table_in(s, db,
			    (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1), err);
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return (t);
}

/* Column indexes of one constraint from sim_fk_columns. */
static void
fk_load_cols(struct sim_session *s, const char *db, struct fk *k)
{
	sqlite3_stmt *st;
	char *sql;
	int i;

	sql = sqlite3_mprintf("SELECT parent_column_id, referenced_column_id "
			      "FROM \"%w\".sim_fk_columns WHERE "
			      "constraint_object_id = %lld ORDER BY "
			      "constraint_column_id",
	    db, (long long)k->id);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (k->n < FK_MAXCOLS && sqlite3_step(st) == SQLITE_ROW) {
			k->ccol[k->n] = k->rcol[k->n] = 0;
			for (i = 0; i < k->child->ncols; i++)
				if (k->child->cols[i].column_id ==
				    sqlite3_column_int(st, 0))
					k->ccol[k->n] = i;
			for (i = 0; i < k->ref->ncols; i++)
				if (k->ref->cols[i].column_id ==
				    sqlite3_column_int(st, 1))
					k->rcol[k->n] = i;
			k->n++;
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
}

/* Fill one struct fk from a row of the query of fk_load(). */
static int
fk_load_one(struct fkset *set, sqlite3_stmt *st, struct fk *k)
{
	int64_t child = sqlite3_column_int64(st, 2);
	int64_t ref = sqlite3_column_int64(st, 3);

	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	snprintf(k->name, sizeof(k->name), "%s", sqlite3_column_text(st, 1));
	k->ondelete = sqlite3_column_int(st, 4);
	k->onupdate = sqlite3_column_int(st, 5);
	k->disabled = sqlite3_column_int(st, 6);
	k->child = child == set->t->object_id
	    ? set->t
	    : fk_table_by_id(set->s, set->t->db, child, NULL);
	k->ref = ref == set->t->object_id
	    ? set->t
	    : fk_table_by_id(set->s, set->t->db, ref, NULL);
	k->own_child = k->child != set->t;
	k->own_ref = k->ref != set->t;
	if (k->child == NULL || k->ref == NULL)
		return (-1);
	fk_load_cols(set->s, set->t->db, k);
	return (0);
}

/*
 * The constraints t takes part in (as referencing or referenced
 * table), disabled ones too when all is set; NULL when there are none.
 */
static struct fkset *
fk_load_set(struct sim_session *s, struct table *t, int all)
{
	struct fkset *set;
	sqlite3_stmt *st;
	char sql[600];

	if (strcmp(t->db, "temp") == 0 || t->is_view)
		return (NULL);
	snprintf(sql, sizeof(sql),
	    "SELECT f.object_id, o.name, f.parent_object_id, "
	    "f.referenced_object_id, f.delete_action, f.update_action, "
	    "f.is_disabled FROM \"%s\".sim_fks f JOIN \"%s\".sim_objects o "
	    "USING (object_id) WHERE f.parent_object_id = ?1 OR "
	    "f.referenced_object_id = ?1",
	    t->db, t->db);
	if ((st = engine_stmt_get(s, sql, NULL)) == NULL)
		return (NULL);
	sqlite3_bind_int64(st, 1, t->object_id);
	set = util_xmalloc(sizeof(*set));
	memset(set, 0, sizeof(*set));
	set->s = s;
	set->t = t;
	while (sqlite3_step(st) == SQLITE_ROW) {
		set->fk =
		    util_xrealloc(set->fk, (set->nfk + 1) * sizeof(*set->fk));
		if (fk_load_one(set, st, &set->fk[set->nfk]) == 0 &&
		    (all || !set->fk[set->nfk].disabled))
			set->nfk++;
		else {
			if (set->fk[set->nfk].own_child)
				catalog_table_free(set->fk[set->nfk].child);
			if (set->fk[set->nfk].own_ref)
				catalog_table_free(set->fk[set->nfk].ref);
		}
	}
	engine_stmt_put(s, st);
	if (set->nfk == 0) {
		fk_free(set);
		return (NULL);
	}
	return (set);
}

/* The enabled constraints t takes part in, or NULL. */
struct fkset *
fk_load(struct sim_session *s, struct table *t)
{
	return (fk_load_set(s, t, 0));
}

/* Forget the saved rows of a constraint. */
static void
fk_forget(struct fk *k)
{
	size_t i;

	for (i = 0; i < k->nrows * (size_t)k->n; i++)
		simval_free(&k->old[i]);
	free(k->old);
	free(k->rowid);
	k->old = NULL;
	k->rowid = NULL;
	k->nrows = 0;
}

/* Release a set from fk_load(). */
void
fk_free(struct fkset *set)
{
	int i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nfk; i++) {
		fk_forget(&set->fk[i]);
		if (set->fk[i].own_child)
			catalog_table_free(set->fk[i].child);
		if (set->fk[i].own_ref)
			catalog_table_free(set->fk[i].ref);
	}
	free(set->fk);
	free(set);
}

/* Does constraint k use one of the columns set (of table side)? */
static int
fk_uses(const int *cols, int n, const int *setcols, int nset)
{
	int i, j;

	if (setcols == NULL)
		return (1);
	for (i = 0; i < n; i++)
		for (j = 0; j < nset; j++)
			if (cols[i] == setcols[j])
				return (1);
	return (0);
}

/*
 * Check the row just written at rowid of the set's table against the
 * constraints it references (UPDATE: only those using a column SET).
 */
int
fk_check_row(struct fkset *set, sqlite3_int64 rowid, const int *setcols,
    int nset, const char *op, struct sim_error *err)
{
	sqlite3_stmt *st;
	struct fk *k;
	char *sql;
	int i, bad;

	for (i = 0; set != NULL && i < set->nfk; i++) {
		k = &set->fk[i];
		if (k->child != set->t ||
		    !fk_uses(k->ccol, k->n, setcols, nset))
			continue;
		sql = fk_orphans_sql(k, "c.rowid = ?");
		st = engine_stmt_get(set->s, sql, err);
		free(sql);
		if (st == NULL)
			return (-1);
		sqlite3_bind_int64(st, 1, rowid);
		bad = sqlite3_step(st) == SQLITE_ROW;
		engine_stmt_put(set->s, st);
		if (bad)
			return (fk_conflict(set->s, k, op, err));
	}
	return (0);
}

/* Read the values of columns cols of row rowid of t into out. */
static void
fk_read(struct sim_session *s, const struct table *t, const int *cols, int n,
    sqlite3_int64 rowid, struct simval *out)
{
	sqlite3_stmt *st;
	struct sbuf b;
	char *q;
	int i;

	sbuf_init(&b);
	sbuf_add(&b, "SELECT ", 7);
	for (i = 0; i < n; i++) {
		q = sqlite3_mprintf(
		    "%s\"%w\"", i ? ", " : "", t->cols[cols[i]].c.name);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	q = sqlite3_mprintf(" FROM %s WHERE rowid = ?", t->sqlname);
	sbuf_add(&b, q, strlen(q) + 1);
	sqlite3_free(q);
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].kind = SQLITE_NULL;
	}
	if ((st = engine_stmt_get(s, (char *)b.data, NULL)) != NULL) {
		sqlite3_bind_int64(st, 1, rowid);
		if (sqlite3_step(st) == SQLITE_ROW)
			for (i = 0; i < n; i++)
				simval_from_sqlite(
				    &out[i], sqlite3_column_value(st, i));
		engine_stmt_put(s, st);
	}
	sbuf_free(&b);
}

/*
 * Before a DELETE or UPDATE (setcols: its SET columns) of the set's
 * table writes: keep the old keys of the rows, for every constraint
 * referencing the table through a changed column.
 */
void
fk_parent_save(struct fkset *set, const sqlite3_int64 *rowid, size_t n,
    const int *setcols, int nset)
{
	struct fk *k;
	size_t j;
	int i;

	for (i = 0; set != NULL && i < set->nfk; i++) {
		k = &set->fk[i];
		fk_forget(k);
		if (k->ref != set->t ||
		    !fk_uses(k->rcol, k->n, setcols, nset) || n == 0)
			continue;
		k->rowid = util_xmalloc(n * sizeof(*k->rowid));
		k->old = util_xmalloc(n * k->n * sizeof(*k->old));
		for (j = 0; j < n; j++) {
			k->rowid[j] = rowid[j];
			fk_read(set->s, k->ref, k->rcol, k->n, rowid[j],
			    &k->old[j * k->n]);
		}
		k->nrows = n;
	}
}

/* Bind n values from ?1; 0 if one of them is NULL. */
static int
fk_bind(sqlite3_stmt *st, const struct simval *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (v[i].kind == SQLITE_NULL)
			return (0);
		simval_bind(st, i + 1, &v[i]);
	}
	return (1);
}

/* "SELECT <what> FROM t WHERE c1 = ?1 AND ..." over columns cols. */
static char *
fk_match_sql(const char *what, const struct table *t, const int *cols, int n)
{
	struct sbuf b;
	char *q;
	int i;

	sbuf_init(&b);
	q = sqlite3_mprintf("SELECT %s FROM %s WHERE ", what, t->sqlname);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < n; i++) {
		q = sqlite3_mprintf("%s\"%w\" = ?%d", i ? " AND " : "",
		    t->cols[cols[i]].c.name, i + 1);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	sbuf_add(&b, "", 1);
	return ((char *)b.data);
}

/* Rows of SQL over key v (engine_stmt_get cache): rowids or a count. */
static int
fk_rows(struct sim_session *s, const char *sql, const struct simval *v, int n,
    sqlite3_int64 **rowid, size_t *nrows, struct sim_error *err)
{
	sqlite3_stmt *st;

	if ((st = engine_stmt_get(s, sql, err)) == NULL)
		return (-1);
	if (fk_bind(st, v, n))
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (rowid != NULL) {
				*rowid = util_xrealloc(
				    *rowid, (*nrows + 1) * sizeof(**rowid));
				(*rowid)[*nrows] = sqlite3_column_int64(st, 0);
			}
			(*nrows)++;
		}
	engine_stmt_put(s, st);
	return (0);
}

/*
 * The referencing rows of the saved old keys that lost their
 * referenced row; parent[] gets the referenced rowid of each.
 */
static int
fk_orphans(struct fkset *set, struct fk *k, sqlite3_int64 **rowid,
    sqlite3_int64 **parent, size_t *n, struct sim_error *err)
{
	char *exists, *children;
	size_t j, have, before;
	int rc = 0;

	exists = fk_match_sql("1", k->ref, k->rcol, k->n);
	children = fk_match_sql("rowid", k->child, k->ccol, k->n);
	for (j = 0; j < k->nrows && rc == 0; j++) {
		have = 0;
		if ((rc = fk_rows(set->s, exists, &k->old[j * k->n], k->n, NULL,
			 &have, err)) == -1 ||
		    have > 0)
			continue;
		before = *n;
		rc = fk_rows(
		    set->s, children, &k->old[j * k->n], k->n, rowid, n, err);
		*parent = util_xrealloc(*parent, (*n + 1) * sizeof(**parent));
		for (; before < *n; before++)
			(*parent)[before] = k->rowid[j];
	}
	free(exists);
	free(children);
	return (rc);
}

/* Error 547 of a referenced row still referenced (NO ACTION). */
static int
fk_reference_error(struct sim_session *s, const struct fk *k, const char *op,
    struct sim_error *err)
{
	sim_error_set(err, 547, 16, 0,
	    "The %s statement conflicted with the %sREFERENCE constraint "
	    "\"%s\". The conflict occurred in database \"%s\", table "
	    "\"%s.%s\"%s%s%s.",
	    op, k->child->object_id == k->ref->object_id ? "SAME TABLE " : "",
	    k->name, s->dbname, k->child->schema, k->child->name,
	    k->n == 1 ? ", column '" : "",
	    k->n == 1 ? k->child->cols[k->ccol[0]].c.name : "",
	    k->n == 1 ? "'" : "");
	return (-1);
}

/* The full image of a row of t (for the commit hooks), or NULL. */
static struct simval *
fk_image(struct sim_session *s, const struct table *t, sqlite3_int64 rowid)
{
	struct simval *v;
	int *all, i;

	if (s->srv->commit_hook == NULL)
		return (NULL);
	all = util_xmalloc((t->ncols + 1) * sizeof(int));
	for (i = 0; i < t->ncols; i++)
		all[i] = i;
	v = util_xmalloc((t->ncols + 1) * sizeof(*v));
	fk_read(s, t, all, t->ncols, rowid, v);
	free(all);
	return (v);
}

/* Delete referencing rows (cascade), recording them as changes. */
static int
fk_delete_rows(struct sim_session *s, struct table *t,
    const sqlite3_int64 *rowid, size_t n, struct sim_error *err)
{
	sqlite3_stmt *st;
	struct simval *before;
	char sql[600];
	size_t j;
	int rc = 0;

	snprintf(
	    sql, sizeof(sql), "DELETE FROM %s WHERE rowid = ?", t->sqlname);
	if ((st = engine_stmt_get(s, sql, err)) == NULL)
		return (-1);
	for (j = 0; j < n && rc == 0; j++) {
		before = fk_image(s, t, rowid[j]);
		sqlite3_bind_int64(st, 1, rowid[j]);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = engine_sqlite_error(s, err);
		sqlite3_reset(st);
		if (before != NULL && rc == 0 && sqlite3_changes(s->db) > 0)
			engine_change_add(s, t, 'D', rowid[j], before, NULL);
		else if (before != NULL) {
			for (int i = 0; i < t->ncols; i++)
				simval_free(&before[i]);
			free(before);
		}
	}
	engine_stmt_put(s, st);
	return (rc);
}

/* The DEFAULT of column ci of t converted to its type (NULL if none). */
static int
fk_default(struct sim_session *s, const struct table *t, int ci,
    struct simval *out, struct sim_error *err)
{
	const struct tcol *c = &t->cols[ci];
	struct sim_type ty;
	sqlite3_stmt *st;
	struct sbuf b;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_NULL;
	if (c->defexpr == NULL)
		return (0);
	sbuf_init(&b);
	sbuf_add(&b, "SELECT ", 7);
	if (compile_expr_text(s, NULL, c->defexpr, &b, &ty, err) == -1) {
		sbuf_free(&b);
		return (-1);
	}
	sbuf_add(&b, "", 1);
	if (sqlite3_prepare_v2(s->db, (char *)b.data, -1, &st, NULL) !=
	    SQLITE_OK)
		rc = engine_sqlite_error(s, err);
	else {
		if (sqlite3_step(st) == SQLITE_ROW)
			rc = simval_assign(sqlite3_column_value(st, 0), &ty,
			    &c->c.type, t->name, c->c.name, out, err);
		else
			rc = engine_sqlite_error(s, err);
		sqlite3_finalize(st);
	}
	sbuf_free(&b);
	return (rc);
}

/*
 * The new values of the referencing columns of row j (parent: its
 * referenced row) under action (1 CASCADE, 2 SET NULL, 3 SET DEFAULT).
 */
static int
fk_new_values(struct sim_session *s, struct fk *k, int action,
    sqlite3_int64 parent, struct simval *v, struct sim_error *err)
{
	int i;

	if (action == 1) {
		fk_read(s, k->ref, k->rcol, k->n, parent, v);
		return (0);
	}
	for (i = 0; i < k->n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].kind = SQLITE_NULL;
		if (action == 3 &&
		    fk_default(s, k->child, k->ccol[i], &v[i], err) == -1)
			return (-1);
	}
	return (0);
}

/* UPDATE child SET <fk columns> = ?.. WHERE rowid = ?. */
static sqlite3_stmt *
fk_update_stmt(struct sim_session *s, const struct fk *k, struct sim_error *err)
{
	sqlite3_stmt *st;
	struct sbuf b;
	char *q;
	int i;

	sbuf_init(&b);
	q = sqlite3_mprintf("UPDATE %s SET ", k->child->sqlname);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < k->n; i++) {
		q = sqlite3_mprintf("%s\"%w\" = ?%d", i ? ", " : "",
		    k->child->cols[k->ccol[i]].c.name, i + 1);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	q = sqlite3_mprintf(" WHERE rowid = ?%d", k->n + 1);
	sbuf_add(&b, q, strlen(q) + 1);
	sqlite3_free(q);
	st = engine_stmt_get(s, (char *)b.data, err);
	sbuf_free(&b);
	return (st);
}

/* Update one referencing row to v, recording the change. */
static int
fk_update_row(struct sim_session *s, const struct fk *k, sqlite3_stmt *st,
    sqlite3_int64 rowid, const struct simval *v, struct sim_error *err)
{
	struct simval *before = fk_image(s, k->child, rowid);
	const int *oset = s->stmt_setcols;
	int i, rc = 0, onset = s->stmt_nset;

	for (i = 0; i < k->n; i++)
		simval_bind(st, i + 1, &v[i]);
	sqlite3_bind_int64(st, k->n + 1, rowid);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = engine_sqlite_error(s, err);
	sqlite3_reset(st);
	if (before == NULL)
		return (rc);
	if (rc == 0) {
		s->stmt_setcols = k->ccol; /* CT: the columns changed */
		s->stmt_nset = k->n;
		engine_change_add(s, k->child, 'U', rowid, before,
		    fk_image(s, k->child, rowid));
		s->stmt_setcols = oset;
		s->stmt_nset = onset;
		return (0);
	}
	for (i = 0; i < k->child->ncols; i++)
		simval_free(&before[i]);
	free(before);
	return (rc);
}

/* Set the referencing columns of rows (referenced rows parent[]). */
static int
fk_update_rows(struct sim_session *s, struct fkset *cs, struct fk *k,
    int action, const sqlite3_int64 *rowid, const sqlite3_int64 *parent,
    size_t n, struct sim_error *err)
{
	struct simval v[FK_MAXCOLS];
	sqlite3_stmt *st;
	size_t j;
	int i, rc = 0;

	if ((st = fk_update_stmt(s, k, err)) == NULL)
		return (-1);
	for (j = 0; j < n && rc == 0; j++) {
		if ((rc = fk_new_values(s, k, action, parent[j], v, err)) == 0)
			rc = fk_update_row(s, k, st, rowid[j], v, err);
		for (i = 0; i < k->n; i++)
			simval_free(&v[i]);
		if (rc == 0 && action == 3)
			rc = fk_check_row(
			    cs, rowid[j], k->ccol, k->n, "UPDATE", err);
	}
	engine_stmt_put(s, st);
	return (rc);
}

/* Apply the action of k to the referencing rows found. */
static int
fk_act(struct fkset *set, struct fk *k, int action, int del,
    const sqlite3_int64 *rowid, const sqlite3_int64 *parent, size_t n,
    const char *op, struct sim_error *err)
{
	struct sim_session *s = set->s;
	struct fkset *cs;
	int rc;

	if (set->depth >= FK_MAXDEPTH) {
		sim_error_set(err, 217, 16, 1,
		    "Maximum stored procedure, function, trigger, or view "
		    "nesting level exceeded (limit 32).");
		return (-1);
	}
	if ((cs = fk_load(s, k->child)) != NULL) {
		cs->depth = set->depth + 1;
		fk_parent_save(
		    cs, rowid, n, del ? NULL : k->ccol, del ? 0 : k->n);
	}
	rc = del && action == 1
	    ? fk_delete_rows(s, k->child, rowid, n, err)
	    : fk_update_rows(s, cs, k, action, rowid, parent, n, err);
	if (rc == 0)
		rc = fk_parent_apply(cs, op, err);
	fk_free(cs);
	return (rc);
}

/* The action of one constraint after its referenced rows changed. */
static int
fk_apply_one(
    struct fkset *set, struct fk *k, const char *op, struct sim_error *err)
{
	sqlite3_int64 *rowid = NULL, *parent = NULL;
	size_t n = 0;
	int del = strcmp(op, "DELETE") == 0, action, rc;

	action = del ? k->ondelete : k->onupdate;
	rc = fk_orphans(set, k, &rowid, &parent, &n, err);
	fk_forget(k);
	if (rc == 0 && n > 0)
		rc = action == 0
		    ? fk_reference_error(set->s, k, op, err)
		    : fk_act(set, k, action, del, rowid, parent, n, op, err);
	free(rowid);
	free(parent);
	return (rc);
}

/*
 * After the statement wrote the rows fk_parent_save() saw: the
 * referential actions of every constraint referencing the table.
 */
int
fk_parent_apply(struct fkset *set, const char *op, struct sim_error *err)
{
	int i, rc = 0;

	for (i = 0; set != NULL && i < set->nfk && rc == 0; i++)
		if (set->fk[i].ref == set->t && set->fk[i].nrows > 0)
			rc = fk_apply_one(set, &set->fk[i], op, err);
	return (rc);
}

/*
 * 3726 (DROP TABLE) / 4712 (TRUNCATE TABLE) when another table's
 * constraint references t; a constraint of t on itself does not count.
 */
int
fk_referenced_check(struct sim_session *s, const struct table *t, int truncate,
    struct sim_error *err)
{
	if (strcmp(t->db, "temp") == 0 ||
	    fk_int(s->db, 0,
		"SELECT count(*) FROM \"%w\".sim_fks WHERE "
		"referenced_object_id = %lld AND parent_object_id <> %lld",
		t->db, (long long)t->object_id, (long long)t->object_id) == 0)
		return (0);
	if (truncate)
		sim_error_set(err, 4712, 16, 1,
		    "Cannot truncate table '%s.%s' because it is being "
		    "referenced by a FOREIGN KEY constraint.",
		    t->schema, t->name);
	else
		sim_error_set(err, 3726, 16, 1,
		    "Could not drop object '%s.%s' because it is referenced "
		    "by a FOREIGN KEY constraint.",
		    t->schema, t->name);
	return (-1);
}

/*
 * 3725 when a PRIMARY KEY / UNIQUE constraint (index idx of t) to be
 * dropped is referenced by a FOREIGN KEY.
 */
int
fk_key_check(struct parser *p, const struct table *t, int idx, const char *name)
{
	sqlite3_stmt *st;
	struct sim_error e;
	char *sql;
	int rc = 0;

	sql = sqlite3_mprintf(
	    "SELECT t.name, o.name FROM main.sim_fks f JOIN main.sim_objects "
	    "o USING (object_id) JOIN main.sim_objects t ON t.object_id = "
	    "f.parent_object_id WHERE f.referenced_object_id = %lld AND "
	    "f.key_index_id = %d",
	    (long long)t->object_id, idx);
	if (sqlite3_prepare_v2(p->s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			memset(&e, 0, sizeof(e));
			sim_error_set(&e, 3725, 16, 0,
			    "The constraint '%s' is being referenced by table "
			    "'%s', foreign key constraint '%s'.",
			    name, sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 1));
			engine_send_message(p->s, &e);
			sim_error_set(p->err, 3727, 16, 0,
			    "Could not drop constraint. See previous errors.");
			rc = -1;
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return (rc);
}

/* Is column colid of table oid in a FOREIGN KEY (either side)? */
int
fk_uses_column(struct parser *p, int64_t oid, int colid)
{
	if (p->s->ddl_temp) /* #temp tables have none */
		return (0);
	return (fk_int(p->s->db, 0,
		    "SELECT count(*) FROM main.sim_fk_columns WHERE "
		    "(parent_object_id = %lld AND parent_column_id = %d) OR "
		    "(referenced_object_id = %lld AND referenced_column_id = "
		    "%d)",
		    (long long)oid, colid, (long long)oid, colid) > 0);
}

/* Is kid a FOREIGN KEY constraint? */
int
fk_is_fk(struct parser *p, int64_t kid)
{
	return (fk_int(p->s->db, 0,
		    "SELECT type = 'F' FROM main.sim_objects WHERE object_id = "
		    "%lld",
		    (long long)kid) == 1);
}

/* Drop the metadata of constraint kid (DROP CONSTRAINT). */
int
fk_drop(struct parser *p, int64_t kid)
{
	return (fk_exec(p,
	    "DELETE FROM main.sim_objects WHERE object_id = %lld; DELETE "
	    "FROM main.sim_fks WHERE object_id = %lld; DELETE FROM "
	    "main.sim_fk_columns WHERE constraint_object_id = %lld",
	    (long long)kid, (long long)kid, (long long)kid));
}

/* Drop the metadata of the constraints of table oid (DROP TABLE). */
int
fk_drop_table(struct parser *p, int64_t oid)
{
	return (fk_exec(p,
	    "DELETE FROM main.sim_fk_columns WHERE constraint_object_id IN "
	    "(SELECT object_id FROM main.sim_fks WHERE parent_object_id = "
	    "%lld); DELETE FROM main.sim_fks WHERE parent_object_id = %lld",
	    (long long)oid, (long long)oid));
}

/*
 * Enable or disable constraint kid of t (0: all of them); with is 1
 * for WITH CHECK, 0 for WITH NOCHECK, -1 when not given.
 */
static int
fk_set_enabled(
    struct parser *p, struct table *t, int64_t kid, int enable, int with)
{
	struct fkset *set = fk_load_set(p->s, t, 1);
	struct fk *k;
	int i, rc = 0;

	for (i = 0; set != NULL && i < set->nfk && rc == 0; i++) {
		k = &set->fk[i];
		if (k->child != t || (kid != 0 && k->id != kid))
			continue;
		if (enable && with == 1 && (rc = fk_check_existing(p, k)) == -1)
			break;
		rc = fk_exec(p,
		    "UPDATE main.sim_fks SET is_disabled = %d, is_not_trusted "
		    "= "
		    "%s WHERE object_id = %lld",
		    !enable,
		    !enable         ? "1"
			: with == 1 ? "0"
				    : "is_not_trusted",
		    (long long)k->id);
	}
	fk_free(set);
	return (rc);
}

/*
 * ALTER TABLE t [WITH {CHECK|NOCHECK}] {CHECK|NOCHECK} CONSTRAINT
 * {ALL | name [, ...]}: enable or disable FOREIGN KEY constraints.
 * Enabling WITH CHECK checks the existing rows and makes the
 * constraint trusted; disabling makes it not trusted.
 */
int
fk_alter_check(struct parser *p, struct table *t, int with)
{
	int enable, all, rc = 0;
	int64_t kid;

	enable = p_accept_kw(p, "CHECK");
	if (!enable && p_expect_kw(p, "NOCHECK") == -1)
		return (-1);
	if (p_expect_kw(p, "CONSTRAINT") == -1)
		return (-1);
	if (!p->s->dry && engine_write_begin(p->s, p->err) == -1)
		return (-1);
	do {
		if (p_tok(p)->kind != LEX_IDENT &&
		    p_tok(p)->kind != LEX_QIDENT) {
			rc = p_syntax(p);
			break;
		}
		if (p->s->dry) { /* the compile pass: names only */
			p->pos++;
			continue;
		}
		all = p_tok(p)->kind == LEX_IDENT && p_kw(p, "ALL");
		kid = all ? 0
			  : fk_int(p->s->db, -1,
				"SELECT object_id FROM main.sim_objects WHERE "
				"name = %Q AND parent_object_id = %lld AND "
				"type = 'F'",
				p_tok(p)->text, (long long)t->object_id);
		if (kid < 0 &&
		    fk_int(p->s->db, 0,
			"SELECT count(*) FROM main.sim_objects "
			"WHERE name = %Q AND parent_object_id = %lld",
			p_tok(p)->text, (long long)t->object_id) > 0) {
			sim_error_set(p->err, 50000, 16, 1,
			    "mssqlsim: only FOREIGN KEY constraints can be "
			    "disabled or enabled ('%s').",
			    p_tok(p)->text);
			rc = -1;
			break;
		}
		if (kid < 0) {
			sim_error_set(p->err, 4917, 16, 0,
			    "Constraint '%s' does not exist.", p_tok(p)->text);
			rc = -1;
			break;
		}
		p->pos++;
		rc = fk_set_enabled(p, t, kid, enable, with);
	} while (rc == 0 && p_accept_op(p, ","));
	if (p->s->dry)
		return (rc);
	return (engine_write_end(p->s, rc == 0, p->err));
}
