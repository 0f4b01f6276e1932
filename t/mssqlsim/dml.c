/*
 * dml.c: INSERT, UPDATE, DELETE, TRUNCATE TABLE and the streaming of
 * SELECT results.
 *
 * A DML statement first reads the rows it will write with a compiled
 * SELECT (compile.c): the source rows of INSERT, or the rowids and new
 * values of UPDATE, or the rowids of DELETE.  UPDATE and DELETE read all
 * of them before writing any (no Halloween problem); INSERT ... SELECT
 * too.  Every row is then written through a struct writer, which
 * converts each value to the declared column type with SQL Server's
 * errors (simval_assign: 2628 truncation, 245/8114 conversion), fills
 * identity, DEFAULT, rowversion and computed columns, checks NOT NULL
 * (515) and maps SQLite unique violations to 2627/2601 with the
 * duplicate key value.  FOREIGN KEY constraints (fk.c): the writer
 * checks each row it writes against the keys it references, and UPDATE
 * and DELETE hand the rows they change to fk_parent_save() before and
 * fk_parent_apply() after writing (NO ACTION, CASCADE, SET NULL/DEFAULT,
 * whose cascaded rows fk.c records like its own).  The statement runs between engine_write_begin()
 * and engine_write_end(), whose savepoint makes it atomic.
 *
 * Change Tracking / CDC: writer_insert(), dml_apply_updates() and
 * dml_delete() are the only places a user row changes; when a commit
 * hook is installed they record the change with its full before/after
 * images (engine_change_add), read back after computed and rowversion
 * columns are filled, for engine.c to hand to the hook at commit.
 *
 * OUTPUT clause: compile_output() makes one SELECT of the clause's list
 * over the pseudo-tables INSERTED and DELETED, whose columns are the
 * parameters :iN and :dN.  The writer sends its COLMETADATA before the
 * first row is written, and after each row change (writer_changed())
 * binds the row's after/before images, the same ones the commit hook
 * gets, and sends the ROW; the statement's DONE_COUNT follows.  With
 * OUTPUT ... INTO (a table variable, tablevar.c, or a table) no result
 * set goes out: a second writer on the target inserts each OUTPUT row,
 * converted to the target's column types (writer_into_row()).
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

struct writer {
	struct sim_session *s;
	struct table *t;
	struct sim_error *err;
	sqlite3_stmt *ins;
	sqlite3_stmt *comp; /* recompute computed columns */
	sqlite3_stmt *check; /* CHECK constraints: failing index or NULL */
	char (*cknames)[129];
	char (*ckcols)[129];
	int nchecks;
	sqlite3_stmt **defs;
	struct sim_type *deftypes;
	int identcol;
	int64_t ident_next, ident_incr, ident_last;
	int ident_changed;
	int ident_given;
	int64_t dbts;
	int dbts_changed;
	uint64_t rows;
	char conflict[256]; /* SQLite's message of an UPDATE's conflict */
	struct fkset *fks; /* FOREIGN KEYs of the table (fk.c), or NULL */
	sqlite3_stmt *out; /* OUTPUT clause, or NULL */
	int outcols;
	int outgone; /* the client went away during OUTPUT */
	struct writer *into; /* OUTPUT ... INTO: the target's writer */
	const int *intomap; /* per target column: OUTPUT column or -1 */
	const struct sim_column *outdesc; /* the OUTPUT columns */
};

static int writer_insert(struct writer *, struct simval *, const int *);

/* Prepare SQL built with sqlite3_mprintf. */
static sqlite3_stmt *
dml_prepare(struct sim_session *s, struct sim_error *err, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		engine_sqlite_error(s, err);
		st = NULL;
	}
	sqlite3_free(sql);
	return (st);
}

/* The statement recomputing computed columns of one row. */
static int
writer_prepare_comp(struct writer *w)
{
	struct table *t = w->t;
	struct sbuf b, e;
	struct sim_type ty;
	char tn[80], *q;
	int i, first = 1, rc = 0;

	sbuf_init(&b);
	sbuf_init(&e);
	q = sqlite3_mprintf("UPDATE %s AS \"%w\" SET ", t->sqlname, t->name);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < t->ncols && rc == 0; i++) {
		if (!t->cols[i].c.computed)
			continue;
		sbuf_reset(&e);
		if ((rc = compile_expr_text(
			 w->s, t, t->cols[i].compexpr, &e, &ty, w->err)) == -1)
			break;
		sbuf_add(&e, "", 1);
		simtype_format(&t->cols[i].c.type, tn, sizeof(tn));
		q = sqlite3_mprintf("%s\"%w\" = sim_cast(%s, %Q)",
		    first ? "" : ", ", t->cols[i].c.name, (char *)e.data, tn);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
		first = 0;
	}
	sbuf_add(&b, " WHERE rowid = ?", 17);
	if (rc == 0 &&
	    sqlite3_prepare_v2(w->s->db, (char *)b.data, -1, &w->comp, NULL) !=
		SQLITE_OK)
		rc = engine_sqlite_error(w->s, w->err);
	sbuf_free(&b);
	sbuf_free(&e);
	return (rc);
}

/* Append one CHECK to the statement "SELECT CASE WHEN NOT (e) ...". */
static int
writer_add_check(struct writer *w, struct sbuf *b, const char *name,
    const char *def, const char *col)
{
	struct sim_type ty;
	char buf[40];

	w->cknames = util_xrealloc(w->cknames, (w->nchecks + 1) * 129);
	w->ckcols = util_xrealloc(w->ckcols, (w->nchecks + 1) * 129);
	snprintf(w->cknames[w->nchecks], 129, "%s", name);
	snprintf(w->ckcols[w->nchecks], 129, "%s", col ? col : "");
	sbuf_add(b, " WHEN NOT (", 11);
	if (compile_expr_text(w->s, w->t, def, b, &ty, w->err) == -1)
		return (-1);
	snprintf(buf, sizeof(buf), ") THEN %d", w->nchecks++);
	sbuf_add(b, buf, strlen(buf));
	return (0);
}

/*
 * The CHECK constraints of the table as one statement over the row just
 * written: it answers the index of the first failing constraint.
 */
static int
writer_prepare_checks(struct writer *w)
{
	sqlite3_stmt *st;
	struct sbuf b;
	char sql[1000], *q;
	int rc = 0;

	snprintf(sql, sizeof(sql),
	    "SELECT o.name, c.definition, (SELECT "
	    "name FROM \"%s\".sim_columns WHERE object_id = o.parent_object_id "
	    "AND column_id = c.column_id) FROM \"%s\".sim_checks c JOIN "
	    "\"%s\".sim_objects o USING (object_id) WHERE o.parent_object_id = "
	    "?",
	    w->t->db, w->t->db, w->t->db);
	if ((st = engine_stmt_get(w->s, sql, NULL)) == NULL) /* cached */
		return (0); /* a database without CHECK constraints */
	sqlite3_bind_int64(st, 1, w->t->object_id);
	sbuf_init(&b);
	sbuf_add(&b, "SELECT CASE", 11);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		rc = writer_add_check(w, &b,
		    (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
	engine_stmt_put(w->s, st);
	q = sqlite3_mprintf(" END FROM %s AS \"%w\" WHERE rowid = ?",
	    w->t->sqlname, w->t->name);
	sbuf_add(&b, q, strlen(q) + 1);
	sqlite3_free(q);
	if (rc == 0 && w->nchecks > 0 &&
	    sqlite3_prepare_v2(w->s->db, (char *)b.data, -1, &w->check, NULL) !=
		SQLITE_OK)
		rc = engine_sqlite_error(w->s, w->err);
	sbuf_free(&b);
	return (rc);
}

/* Error 547 when the written row has no referenced row (fk.c). */
static int
writer_fk(struct writer *w, sqlite3_int64 rowid, const char *op)
{
	return (fk_check_row(
	    w->fks, rowid, w->s->stmt_setcols, w->s->stmt_nset, op, w->err));
}

/* Error 547 when the written row fails a CHECK or FOREIGN KEY. */
static int
writer_check(struct writer *w, sqlite3_int64 rowid, const char *op)
{
	int k = -1;

	if (w->check == NULL)
		return (writer_fk(w, rowid, op));
	sqlite3_bind_int64(w->check, 1, rowid);
	if (sqlite3_step(w->check) == SQLITE_ROW &&
	    sqlite3_column_type(w->check, 0) != SQLITE_NULL)
		k = sqlite3_column_int(w->check, 0);
	sqlite3_reset(w->check);
	if (k < 0 || k >= w->nchecks)
		return (writer_fk(w, rowid, op));
	sim_error_set(w->err, 547, 16, 0,
	    "The %s statement conflicted with "
	    "the CHECK constraint \"%s\". The conflict occurred in database "
	    "\"%s\", table \"%s.%s\"%s%s%s.",
	    op, w->cknames[k], w->s->dbname, w->t->schema, w->t->name,
	    w->ckcols[k][0] ? ", column '" : "", w->ckcols[k],
	    w->ckcols[k][0] ? "'" : "");
	return (-1);
}

/* Load the identity state of the table. */
static void
writer_identity(struct writer *w)
{
	sqlite3_stmt *st;
	char sql[400];
	int i;

	w->identcol = -1;
	for (i = 0; i < w->t->ncols; i++)
		if (w->t->cols[i].c.identity)
			w->identcol = i;
	snprintf(sql, sizeof(sql),
	    "SELECT ident_seed, ident_incr, "
	    "ident_last FROM \"%s\".sim_objects WHERE object_id = ?",
	    w->t->db);
	if (w->identcol < 0 || (st = engine_stmt_get(w->s, sql, NULL)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, w->t->object_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		w->ident_incr = sqlite3_column_int64(st, 1);
		if (w->ident_incr == 0)
			w->ident_incr = 1;
		if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			w->ident_next = sqlite3_column_int64(st, 0);
		else
			w->ident_next =
			    sqlite3_column_int64(st, 2) + w->ident_incr;
		w->ident_last = w->ident_next - w->ident_incr;
	}
	engine_stmt_put(w->s, st);
}

/* Open a writer for inserts into t. */
static int
writer_open(struct writer *w, struct sim_session *s, struct table *t,
    struct sim_error *err)
{
	struct sbuf b;
	char *q;
	int i;

	memset(w, 0, sizeof(*w));
	w->s = s;
	w->t = t;
	w->err = err;
	w->defs = util_xmalloc((t->ncols + 1) * sizeof(*w->defs));
	memset(w->defs, 0, (t->ncols + 1) * sizeof(*w->defs));
	w->deftypes = util_xmalloc((t->ncols + 1) * sizeof(*w->deftypes));
	writer_identity(w);
	w->fks = fk_load(s, t);
	if (t->has_rowversion)
		w->dbts = catalog_meta_get(s->db, t->db, "dbts", 2000);
	sbuf_init(&b);
	q = sqlite3_mprintf("INSERT INTO %s VALUES (", t->sqlname);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < t->ncols; i++)
		sbuf_add(&b, i ? ", ?" : "?", i ? 3 : 1);
	sbuf_add(&b, ")", 2);
	w->ins = engine_stmt_get(s, (char *)b.data, err);
	sbuf_free(&b);
	if (w->ins == NULL)
		return (-1);
	if (t->has_computed && writer_prepare_comp(w) == -1)
		return (-1);
	return (writer_prepare_checks(w));
}

/* Save counters and release the writer. */
static void
writer_close(struct writer *w, int ok)
{
	sqlite3_stmt *st;
	char sql[400];
	int i;

	snprintf(sql, sizeof(sql),
	    "UPDATE \"%s\".sim_objects SET ident_last "
	    "= ? WHERE object_id = ?",
	    w->t->db);
	if (ok && w->ident_changed &&
	    (st = engine_stmt_get(w->s, sql, NULL)) != NULL) {
		sqlite3_bind_int64(st, 1, w->ident_last);
		sqlite3_bind_int64(st, 2, w->t->object_id);
		sqlite3_step(st);
		engine_stmt_put(w->s, st);
	}
	if (ok && w->dbts_changed)
		catalog_meta_set(w->s->db, w->t->db, "dbts", w->dbts);
	engine_stmt_put(w->s, w->ins);
	engine_stmt_put(w->s, w->out);
	if (w->into != NULL) {
		writer_close(w->into, ok);
		free(w->into);
		w->into = NULL;
	}
	sqlite3_finalize(w->comp);
	sqlite3_finalize(w->check);
	free(w->cknames);
	free(w->ckcols);
	fk_free(w->fks);
	for (i = 0; i < w->t->ncols; i++)
		sqlite3_finalize(w->defs[i]);
	free(w->defs);
	free(w->deftypes);
}

/* Convert v (of type from, NULL = infer) to column ci's type. */
static int
writer_convert(struct writer *w, int ci, sqlite3_value *v,
    const struct sim_type *from, struct simval *out)
{
	return (simval_assign(v, from, &w->t->cols[ci].c.type, w->t->name,
	    w->t->cols[ci].c.name, out, w->err));
}

/* Evaluate the DEFAULT of column ci. */
static int
writer_default(struct writer *w, int ci, struct simval *out)
{
	struct tcol *c = &w->t->cols[ci];
	struct sbuf b;
	int rc;

	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_NULL;
	if (c->defexpr == NULL)
		return (0);
	if (w->defs[ci] == NULL) {
		sbuf_init(&b);
		sbuf_add(&b, "SELECT ", 7);
		if (compile_expr_text(w->s, NULL, c->defexpr, &b,
			&w->deftypes[ci], w->err) == -1) {
			sbuf_free(&b);
			return (-1);
		}
		sbuf_add(&b, "", 1);
		rc = sqlite3_prepare_v2(
		    w->s->db, (char *)b.data, -1, &w->defs[ci], NULL);
		sbuf_free(&b);
		if (rc != SQLITE_OK)
			return (engine_sqlite_error(w->s, w->err));
	}
	if (sqlite3_step(w->defs[ci]) != SQLITE_ROW) {
		engine_sqlite_error(w->s, w->err);
		sqlite3_reset(w->defs[ci]);
		return (-1);
	}
	rc = writer_convert(
	    w, ci, sqlite3_column_value(w->defs[ci], 0), &w->deftypes[ci], out);
	sqlite3_reset(w->defs[ci]);
	return (rc);
}

/* The next rowversion value, as binary(8). */
static void
writer_rowversion(struct writer *w, struct simval *out)
{
	int i;

	w->dbts++;
	w->dbts_changed = 1;
	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_BLOB;
	out->len = 8;
	out->p = util_xmalloc(9);
	for (i = 0; i < 8; i++)
		out->p[i] = (w->dbts >> (8 * (7 - i))) & 0xff;
}

/* Format the key values of unique index idx for 2627/2601. */
static void
writer_keytext(struct writer *w, const char *idxname, struct simval *vals,
    char *buf, size_t len)
{
	sqlite3_stmt *st;
	int i, n = 0;

	buf[0] = '\0';
	if ((st = dml_prepare(w->s, w->err,
		 "SELECT c.name FROM "
		 "\"%w\".sim_indexes i JOIN \"%w\".sim_index_columns ic USING "
		 "(object_id, index_id) JOIN \"%w\".sim_columns c ON "
		 "c.object_id = "
		 "ic.object_id AND c.column_id = ic.column_id WHERE "
		 "i.object_id = ? "
		 "AND i.name = ? ORDER BY ic.key_ordinal",
		 w->t->db, w->t->db, w->t->db)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, w->t->object_id);
	sqlite3_bind_text(st, 2, idxname, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < w->t->ncols; i++) {
			if (strcasecmp(w->t->cols[i].c.name,
				(const char *)sqlite3_column_text(st, 0)) != 0)
				continue;
			if (vals[i].kind == SQLITE_NULL)
				snprintf(buf + strlen(buf), len - strlen(buf),
				    "%s<NULL>", n ? ", " : "");
			else if (vals[i].kind == SQLITE_INTEGER)
				snprintf(buf + strlen(buf), len - strlen(buf),
				    "%s%lld", n ? ", " : "",
				    (long long)vals[i].i);
			else if (vals[i].kind == SQLITE_FLOAT)
				snprintf(buf + strlen(buf), len - strlen(buf),
				    "%s%g", n ? ", " : "", vals[i].f);
			else
				snprintf(buf + strlen(buf), len - strlen(buf),
				    "%s%s", n ? ", " : "",
				    vals[i].kind == SQLITE_TEXT
					? (char *)vals[i].p
					: "0x..");
			n++;
		}
	}
	sqlite3_finalize(st);
}

/*
 * A unique violation: find which PK/UNIQUE index holds the duplicate
 * (the SQLite message names only the columns).
 */
static int
writer_dup_error(struct writer *w, struct simval *vals)
{
	const char *msg = sqlite3_errmsg(w->s->db), *q;
	sqlite3_stmt *st;
	char key[512], name[129] = "", kind[4] = "", saved[256];
	int pk = 0, uq = 0;

	/* An UPDATE runs other statements after its conflict. */
	if (w->conflict[0] != '\0') {
		snprintf(saved, sizeof(saved), "%s", w->conflict);
		w->conflict[0] = '\0';
		msg = saved;
	}

	if ((st = dml_prepare(w->s, w->err,
		 "SELECT i.name, i.is_primary_key, "
		 "i.is_unique_constraint FROM \"%w\".sim_indexes i WHERE "
		 "i.object_id = ? AND i.is_unique = 1 AND (SELECT "
		 "group_concat(? || "
		 "'.' || c.name, ', ') FROM (SELECT c.name FROM "
		 "\"%w\".sim_index_columns ic JOIN \"%w\".sim_columns c ON "
		 "c.object_id = ic.object_id AND c.column_id = ic.column_id "
		 "WHERE "
		 "ic.object_id = i.object_id AND ic.index_id = i.index_id "
		 "ORDER BY "
		 "ic.key_ordinal) c) = ? COLLATE NOCASE",
		 w->t->db, w->t->db, w->t->db)) != NULL) {
		sqlite3_bind_int64(st, 1, w->t->object_id);
		q = strrchr(w->t->sqlname, '.');
		while (q != NULL && q > w->t->sqlname && q[-1] != '"')
			q--;
		if (q == NULL)
			q = w->t->sqlname + 1;
		sqlite3_bind_text(st, 2, q, (int)strlen(q) - 1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3,
		    strncmp(msg, "UNIQUE constraint failed: ", 26) == 0
			? msg + 26
			: msg,
		    -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(name, sizeof(name), "%s",
			    sqlite3_column_text(st, 0));
			pk = sqlite3_column_int(st, 1);
			uq = sqlite3_column_int(st, 2);
		}
		sqlite3_finalize(st);
	}
	(void)kind;
	writer_keytext(w, name, vals, key, sizeof(key));
	if (pk || uq)
		sim_error_set(w->err, 2627, 14, 1,
		    "Violation of %s constraint "
		    "'%s'. Cannot insert duplicate key in object '%s.%s'. The "
		    "duplicate key value is (%s).",
		    pk ? "PRIMARY KEY" : "UNIQUE KEY", name, w->t->schema,
		    w->t->name, key);
	else
		sim_error_set(w->err, 2601, 14, 1,
		    "Cannot insert duplicate key "
		    "row in object '%s.%s' with unique index '%s'. The "
		    "duplicate "
		    "key value is (%s).",
		    w->t->schema, w->t->name, name, key);
	return (-1);
}

/* Error 515 for column ci. */
static int
writer_null_error(struct writer *w, int ci, const char *op)
{
	sim_error_set(w->err, 515, 16, 2,
	    "Cannot insert the value NULL into "
	    "column '%s', table '%s.%s.%s'; column does not allow nulls. %s "
	    "fails.",
	    w->t->cols[ci].c.name, w->s->dbname, w->t->schema, w->t->name, op);
	return (-1);
}

/* Step a write statement, mapping constraint failures. */
static int
writer_step(struct writer *w, sqlite3_stmt *st, struct simval *vals)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (0);
	if ((sqlite3_extended_errcode(w->s->db) & 0xff) == SQLITE_CONSTRAINT &&
	    vals != NULL)
		return (writer_dup_error(w, vals));
	return (engine_sqlite_error(w->s, w->err));
}

/* Recompute the computed columns of a row. */
static int
writer_recompute(struct writer *w, sqlite3_int64 rowid)
{
	if (w->comp == NULL)
		return (0);
	sqlite3_bind_int64(w->comp, 1, rowid);
	return (writer_step(w, w->comp, NULL));
}

/*
 * Fill the columns the statement did not give (identity, rowversion,
 * defaults) and check NOT NULL.  given[i] is 1 when vals[i] came from
 * the statement.
 */
static int
writer_fill(struct writer *w, struct simval *vals, const int *given)
{
	struct tcol *c;
	int i;

	for (i = 0; i < w->t->ncols; i++) {
		c = &w->t->cols[i];
		if (i == w->identcol && !given[i]) {
			vals[i].kind = SQLITE_INTEGER;
			vals[i].i = w->ident_next;
			w->ident_last = w->ident_next;
			w->ident_next += w->ident_incr;
			w->ident_changed = 1;
		} else if (i == w->identcol && vals[i].kind == SQLITE_INTEGER &&
		    (w->ident_incr > 0 ? vals[i].i > w->ident_last
				       : vals[i].i < w->ident_last)) {
			w->ident_last = vals[i].i;
			w->ident_next = vals[i].i + w->ident_incr;
			w->ident_changed = 1;
		} else if (c->rowversion)
			writer_rowversion(w, &vals[i]);
		else if (!given[i] && !c->c.computed &&
		    writer_default(w, i, &vals[i]) == -1)
			return (-1);
		if (vals[i].kind == SQLITE_NULL && !c->c.nullable &&
		    !c->c.computed)
			return (writer_null_error(w, i, "INSERT"));
	}
	return (0);
}

/*
 * Is a commit hook collecting row changes?  Not of #temp tables and
 * table variables (TEMP): they are never tracked nor captured.
 */
static int
writer_hooked(struct writer *w)
{
	return (
	    w->s->srv->commit_hook != NULL && strcmp(w->t->db, "temp") != 0);
}

/* The current values of a row (every column, table order). */
static struct simval *
writer_image(struct writer *w, sqlite3_int64 rowid)
{
	struct simval *v = util_xmalloc((w->t->ncols + 1) * sizeof(*v));
	sqlite3_stmt *st;
	char sql[500];
	int i;

	memset(v, 0, (w->t->ncols + 1) * sizeof(*v));
	for (i = 0; i < w->t->ncols; i++)
		v[i].kind = SQLITE_NULL;
	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE rowid = ?",
	    w->t->sqlname);
	if ((st = engine_stmt_get(w->s, sql, NULL)) == NULL)
		return (v);
	sqlite3_bind_int64(st, 1, rowid);
	if (sqlite3_step(st) == SQLITE_ROW)
		for (i = 0; i < w->t->ncols; i++)
			simval_from_sqlite(&v[i], sqlite3_column_value(st, i));
	engine_stmt_put(w->s, st);
	return (v);
}

/* Free a row image. */
static void
writer_image_free(struct writer *w, struct simval *v)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < w->t->ncols; i++)
		simval_free(&v[i]);
	free(v);
}

/*
 * Open the OUTPUT clause q of the statement (none when q has no
 * columns): its COLMETADATA goes out at once, before any row is
 * written, so that a statement writing no row still answers an empty
 * result set.
 */
static int
writer_output_open(struct writer *w, struct parser *p, struct cquery *q)
{
	struct sim_session *s = w->s;

	if (q->ncols == 0)
		return (0);
	if ((w->out = engine_stmt_get(s, (char *)q->sql.data, w->err)) == NULL)
		return (-1);
	engine_bind_vars(s, p, w->out);
	w->outcols = q->ncols;
	w->outdesc = q->cols;
	if (q->into != NULL) { /* OUTPUT ... INTO: no result set */
		w->into = util_xmalloc(sizeof(*w->into));
		w->intomap = q->intomap;
		return (writer_open(w->into, s, q->into, w->err));
	}
	if (s->sink->colmetadata(s->sink->arg, q->ncols, q->cols) == -1) {
		w->outgone = 1;
		return (-1);
	}
	return (0);
}

/*
 * OUTPUT ... INTO: insert the OUTPUT row w->out holds into the target,
 * each value converted to its column's type; the target's columns left
 * out of the INTO list get their default or identity.
 */
static int
writer_into_row(struct writer *w)
{
	struct writer *o = w->into;
	struct simval *vals;
	int *given, i, k, rc = 0;

	vals = util_xmalloc((o->t->ncols + 1) * sizeof(*vals));
	given = util_xmalloc((o->t->ncols + 1) * sizeof(int));
	for (i = 0; i < o->t->ncols; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		vals[i].kind = SQLITE_NULL;
		given[i] = (k = w->intomap[i]) >= 0;
		if (k >= 0 && rc == 0)
			rc = writer_convert(o, i,
			    sqlite3_column_value(w->out, k),
			    &w->outdesc[k].type, &vals[i]);
	}
	if (rc == 0)
		rc = writer_insert(o, vals, given);
	for (i = 0; i < o->t->ncols; i++)
		simval_free(&vals[i]);
	free(vals);
	free(given);
	return (rc);
}

/* Send the OUTPUT row of a written row (images in table order). */
static int
writer_output_row(struct writer *w, struct simval *before, struct simval *after)
{
	struct sim_session *s = w->s;
	sqlite3_value **vals;
	struct simval *img;
	const char *name;
	int i, k, n, rc;

	n = sqlite3_bind_parameter_count(w->out);
	for (i = 1; i <= n; i++) { /* :iN INSERTED, :dN DELETED column N */
		name = sqlite3_bind_parameter_name(w->out, i);
		if (name == NULL || (name[1] != 'i' && name[1] != 'd'))
			continue;
		img = name[1] == 'i' ? after : before;
		k = atoi(name + 2);
		if (img != NULL && k >= 0 && k < w->t->ncols)
			simval_bind(w->out, i, &img[k]);
		else
			sqlite3_bind_null(w->out, i);
	}
	if (sqlite3_step(w->out) != SQLITE_ROW) {
		rc = engine_sqlite_error(s, w->err);
		sqlite3_reset(w->out);
		return (rc);
	}
	if (w->into != NULL) {
		rc = writer_into_row(w);
		sqlite3_reset(w->out);
		return (rc);
	}
	vals = util_xmalloc((w->outcols + 1) * sizeof(*vals));
	for (i = 0; i < w->outcols; i++)
		vals[i] = sqlite3_column_value(w->out, i);
	rc = s->sink->row(s->sink->arg, w->outcols, vals);
	free(vals);
	sqlite3_reset(w->out);
	if (rc == -1)
		w->outgone = 1;
	return (rc == -1 ? -1 : 0);
}

/* Does the statement need row images (commit hook or OUTPUT)? */
static int
writer_images(struct writer *w)
{
	return (writer_hooked(w) || w->out != NULL);
}

/*
 * A row was written: send its OUTPUT row, then hand its images to the
 * commit hook (which owns them) or free them.
 */
static int
writer_changed(struct writer *w, int op, sqlite3_int64 rowid,
    struct simval *before, struct simval *after)
{
	int rc = 0;

	if (w->out != NULL)
		rc = writer_output_row(w, before, after);
	if (writer_hooked(w))
		engine_change_add(w->s, w->t, op, rowid, before, after);
	else {
		writer_image_free(w, before);
		writer_image_free(w, after);
	}
	return (rc);
}

/* Insert one row (vals per table column, owned by the caller). */
static int
writer_insert(struct writer *w, struct simval *vals, const int *given)
{
	int i;

	if (writer_fill(w, vals, given) == -1)
		return (-1);
	for (i = 0; i < w->t->ncols; i++)
		simval_bind(w->ins, i + 1, &vals[i]);
	if (writer_step(w, w->ins, vals) == -1)
		return (-1);
	if (writer_recompute(w, sqlite3_last_insert_rowid(w->s->db)) == -1 ||
	    writer_check(w, sqlite3_last_insert_rowid(w->s->db), "INSERT") ==
		-1)
		return (-1);
	if (writer_images(w) &&
	    writer_changed(w, 'I', sqlite3_last_insert_rowid(w->s->db), NULL,
		writer_image(w, sqlite3_last_insert_rowid(w->s->db))) == -1)
		return (-1);
	if (w->identcol >= 0) {
		w->s->identity = vals[w->identcol].i;
		w->s->has_identity = 1;
	}
	w->rows++;
	return (0);
}

/* Stream a SELECT's rows to the client (or into variables). */
int
dml_stream_select(struct parser *p, struct cquery *q)
{
	struct sim_session *s = p->s;
	sqlite3_value **vals;
	sqlite3_stmt *st;
	uint64_t n = 0;
	int rc, i;

	if (s->dry)
		return (0);
	if (engine_read_begin(s, p->err) == -1)
		return (-1);
	if ((st = engine_stmt_get(s, (char *)q->sql.data, p->err)) == NULL)
		return (-1);
	engine_bind_vars(s, p, st);
	if (q->assign) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (i = 0; i < q->ncols; i++)
				if (engine_set_var(s, q->assignvars[i],
					sqlite3_column_value(st, i),
					p->err) == -1)
					rc = SQLITE_ABORT;
			if (rc == SQLITE_ABORT)
				break;
			n++;
		}
		if (rc != SQLITE_DONE && rc != SQLITE_ABORT)
			engine_sqlite_error(s, p->err);
		engine_stmt_put(s, st);
		s->rowcount = (int64_t)n;
		return (rc == SQLITE_DONE ? 0 : -1);
	}
	if (s->sink->colmetadata(s->sink->arg, q->ncols, q->cols) == -1) {
		engine_stmt_put(s, st);
		return (-2);
	}
	vals = util_xmalloc((q->ncols + 1) * sizeof(*vals));
	rc = SQLITE_DONE;
	while (!s->fmtonly && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < q->ncols; i++)
			vals[i] = sqlite3_column_value(st, i);
		if (s->sink->row(s->sink->arg, q->ncols, vals) == -1) {
			rc = -2;
			break;
		}
		if (++n == (uint64_t)s->rowcount_limit) { /* SET ROWCOUNT */
			rc = SQLITE_DONE;
			break;
		}
	}
	free(vals);
	if (rc != SQLITE_DONE && rc != -2)
		engine_sqlite_error(s, p->err);
	engine_stmt_put(s, st);
	s->rowcount = (int64_t)n;
	if (rc == -2)
		return (-2);
	if (rc != SQLITE_DONE)
		return (-1);
	return (engine_send_done(s, s->fmtonly ? 0 : SIM_DONE_COUNT, n) == -1
		? -2
		: 0);
}

/* The target table of INSERT/UPDATE/DELETE with its permission. */
static struct table *
dml_target(struct parser *p, const char *perm)
{
	struct table *t;

	if (compile_table_name(p, &t) == -1)
		return (NULL);
	if (t->is_view == 3) { /* view.c: no writes through views */
		sim_error_set(p->err, 4406, 16, 1,
		    "Update or insert of view or function '%s' failed because "
		    "it contains a derived or constant field.",
		    t->name);
		catalog_table_free(t);
		return (NULL);
	}
	if (t->is_view) {
		sim_error_set(p->err, 259, 16, 1,
		    "Ad hoc updates to system "
		    "catalogs are not allowed.");
		catalog_table_free(t);
		return (NULL);
	}
	if (catalog_check_perm(p->s, t, perm, p->err) == -1) {
		catalog_table_free(t);
		return (NULL);
	}
	return (t);
}

/* The column list of INSERT into map (table column index per value). */
static int
dml_collist(struct parser *p, struct table *t, int *map, int *n)
{
	int i, ci;

	*n = 0;
	if (!p_accept_op(p, "(")) {
		for (i = 0; i < t->ncols; i++)
			if (!t->cols[i].c.computed && !t->cols[i].rowversion &&
			    (!t->cols[i].c.identity ||
				p->s->identity_insert == t->object_id))
				map[(*n)++] = i;
		return (0);
	}
	do {
		if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
			return (p_syntax(p));
		for (ci = 0; ci < t->ncols; ci++)
			if (strcasecmp(t->cols[ci].c.name, p_tok(p)->text) == 0)
				break;
		if (ci == t->ncols) {
			sim_error_set(p->err, 207, 16, 1,
			    "Invalid column name '%s'.", p_tok(p)->text);
			return (-1);
		}
		for (i = 0; i < *n; i++) {
			if (map[i] == ci) {
				sim_error_set(p->err, 264, 16, 1,
				    "The column "
				    "name '%s' is specified more than once in "
				    "the SET clause or column list of an "
				    "INSERT. "
				    "A column cannot be assigned more than one "
				    "value in the same clause. Modify the "
				    "clause "
				    "to make sure that a column is updated "
				    "only "
				    "once. If this statement updates or "
				    "inserts "
				    "columns into a view, column aliasing can "
				    "conceal the duplication in your code.",
				    t->cols[ci].c.name);
				return (-1);
			}
		}
		map[(*n)++] = ci;
		p->pos++;
	} while (p_accept_op(p, ","));
	return (p_expect_op(p, ")"));
}

/* Check the INSERT column list against identity/computed/rowversion. */
static int
dml_check_cols(struct parser *p, struct table *t, const int *map, int n)
{
	int i, ident = 0;

	for (i = 0; i < n; i++) {
		struct tcol *c = &t->cols[map[i]];

		if (c->c.computed) {
			sim_error_set(p->err, 271, 16, 1,
			    "The column \"%s\" "
			    "cannot be modified because it is either a "
			    "computed "
			    "column or is the result of a UNION operator.",
			    c->c.name);
			return (-1);
		}
		if (c->rowversion) {
			sim_error_set(p->err, 273, 16, 1,
			    "Cannot insert an "
			    "explicit value into a timestamp column. Use "
			    "INSERT "
			    "with a column list to exclude the timestamp "
			    "column, "
			    "or insert a DEFAULT into the timestamp column.");
			return (-1);
		}
		if (c->c.identity && p->s->identity_insert != t->object_id) {
			sim_error_set(p->err, 544, 16, 1,
			    "Cannot insert "
			    "explicit value for identity column in table '%s' "
			    "when IDENTITY_INSERT is set to OFF.",
			    t->name);
			return (-1);
		}
		ident |= c->c.identity;
	}
	if (t->has_identity && p->s->identity_insert == t->object_id &&
	    !ident) {
		sim_error_set(p->err, 545, 16, 1,
		    "Explicit value must be "
		    "specified for identity column in table '%s' either when "
		    "IDENTITY_INSERT is set to ON or when a replication user "
		    "is "
		    "inserting into a NOT FOR REPLICATION identity column.",
		    t->name);
		return (-1);
	}
	return (0);
}

/* Insert the current row of st (source values per map). */
static int
dml_insert_row(struct writer *w, sqlite3_stmt *st, struct cquery *q,
    const int *map, int n, const int *isdef)
{
	struct simval *vals;
	int *given, i, rc = 0;

	vals = util_xmalloc((w->t->ncols + 1) * sizeof(*vals));
	given = util_xmalloc((w->t->ncols + 1) * sizeof(*given));
	for (i = 0; i < w->t->ncols; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		vals[i].kind = SQLITE_NULL;
		given[i] = 0;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (isdef != NULL && isdef[i])
			continue;
		given[map[i]] = 1;
		rc = writer_convert(w, map[i], sqlite3_column_value(st, i),
		    &q->cols[i].type, &vals[map[i]]);
	}
	if (rc == 0)
		rc = writer_insert(w, vals, given);
	for (i = 0; i < w->t->ncols; i++)
		simval_free(&vals[i]);
	free(vals);
	free(given);
	return (rc);
}

/* Run a source query and insert each row (materialized first). */
static int
dml_insert_query(struct parser *p, struct writer *w, struct cquery *q,
    const int *map, int n, const int *isdef)
{
	sqlite3_stmt *st;
	int rc;

	if (q->ncols != n) {
		sim_error_set(p->err, 213, 16, 1,
		    "Column name or number of "
		    "supplied values does not match table definition.");
		return (-1);
	}
	if (isdef == NULL) {
		/* INSERT ... SELECT: read everything before writing. */
		st = dml_prepare(p->s, p->err,
		    "SELECT * FROM (%s) ORDER BY "
		    "sim_seq()",
		    (char *)q->sql.data);
	} else
		st = engine_stmt_get(p->s, (char *)q->sql.data, p->err);
	if (st == NULL)
		return (-1);
	engine_bind_vars(p->s, p, st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (dml_insert_row(w, st, q, map, n, isdef) == -1)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		engine_sqlite_error(p->s, p->err);
	engine_stmt_put(p->s, st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* VALUES (...), (...) */
static int
dml_insert_values(struct parser *p, struct writer *w, const int *map, int n)
{
	struct cquery q;
	int *isdef = util_xmalloc((n + 1) * sizeof(int));
	int rc = 0;

	do {
		memset(&q, 0, sizeof(q));
		rc = compile_values_row(p, &q, isdef, n);
		if (rc == 0)
			rc = dml_insert_query(p, w, &q, map, n, isdef);
		cquery_free(&q);
	} while (rc == 0 && p_accept_op(p, ","));
	free(isdef);
	return (rc);
}

/* The body of INSERT after the column list. */
static int
dml_insert_source(struct parser *p, struct writer *w, int *map, int n)
{
	struct cquery q;
	int rc, given[1] = { 0 };
	struct simval *vals;
	int i, *giv;

	if (p_accept_kw(p, "VALUES"))
		return (dml_insert_values(p, w, map, n));
	if (p_kw(p, "SELECT") || p_kw(p, "WITH")) {
		memset(&q, 0, sizeof(q));
		rc = compile_select(p, NULL, &q);
		if (rc == 0)
			rc = dml_insert_query(p, w, &q, map, n, NULL);
		cquery_free(&q);
		return (rc);
	}
	if (p_accept_kw(p, "DEFAULT")) {
		if (p_expect_kw(p, "VALUES") == -1)
			return (-1);
		(void)given;
		vals = util_xmalloc((w->t->ncols + 1) * sizeof(*vals));
		giv = util_xmalloc((w->t->ncols + 1) * sizeof(*giv));
		for (i = 0; i < w->t->ncols; i++) {
			memset(&vals[i], 0, sizeof(vals[i]));
			giv[i] = 0;
		}
		rc = writer_insert(w, vals, giv);
		for (i = 0; i < w->t->ncols; i++)
			simval_free(&vals[i]);
		free(vals);
		free(giv);
		return (rc);
	}
	return (p_syntax(p));
}

/* Finish a DML statement: counters, DONE with the row count. */
static int
dml_finish(struct parser *p, int rc, uint64_t rows)
{
	if (engine_write_end(p->s, rc == 0, p->err) == -1 && rc != -2)
		return (-1);
	if (rc != 0)
		return (rc == -2 ? -2 : -1);
	p->s->rowcount = (int64_t)rows;
	return (engine_send_done(p->s, SIM_DONE_COUNT, rows) == -1 ? -2 : 0);
}

/*
 * Too many VALUES: 110 names the column list, which SQL Server says
 * only when there is one; without it, the count does not match the
 * table (213).
 */
static void
dml_values_count(struct parser *p, int listed)
{
	if (!listed && p->err->number == 110)
		sim_error_set(p->err, 213, 16, 1,
		    "Column name or number of "
		    "supplied values does not match table definition.");
}

/* The compile pass: a source row must have n values (213); frees q. */
static int
dml_dry_count(struct parser *p, struct cquery *q, int n, int rc)
{
	if (rc == 0 && q->ncols != n) {
		sim_error_set(p->err, 213, 16, 1,
		    "Column name or number of "
		    "supplied values does not match table definition.");
		rc = -1;
	}
	cquery_free(q);
	return (rc);
}

/* The compile pass of an INSERT source: parse it, run nothing. */
static int
dml_dry_source(struct parser *p, int n)
{
	struct cquery q;
	int *isdef = util_xmalloc((n + 1) * sizeof(int)), rc = 0;

	if (p_accept_kw(p, "VALUES")) {
		do {
			memset(&q, 0, sizeof(q));
			rc = compile_values_row(p, &q, isdef, n);
			rc = dml_dry_count(p, &q, n, rc);
		} while (rc == 0 && p_accept_op(p, ","));
	} else if (p_kw(p, "SELECT")) {
		memset(&q, 0, sizeof(q));
		rc = compile_select(p, NULL, &q);
		rc = dml_dry_count(p, &q, n, rc);
	} else if (p_accept_kw(p, "DEFAULT"))
		rc = p_expect_kw(p, "VALUES");
	else
		rc = p_syntax(p);
	free(isdef);
	return (rc);
}

/* INSERT [INTO] t [(cols)] VALUES ... | SELECT ... | DEFAULT VALUES */
int
dml_insert(struct parser *p)
{
	struct writer w;
	struct table *t;
	struct cquery out;
	int *map, n, rc, listed;

	p->pos++;
	if (p_accept_kw(p, "BULK"))
		return (rpc_insert_bulk(p));
	p_accept_kw(p, "INTO");
	if ((t = dml_target(p, "INSERT")) == NULL)
		return (-1);
	memset(&out, 0, sizeof(out));
	map = util_xmalloc((t->ncols + 1) * sizeof(int));
	listed = p_op(p, "(");
	if (dml_collist(p, t, map, &n) == -1 ||
	    dml_check_cols(p, t, map, n) == -1 ||
	    (p_accept_kw(p, "OUTPUT") &&
		compile_output(p, t, OUTPUT_INSERTED, &out) == -1)) {
		cquery_free(&out);
		free(map);
		catalog_table_free(t);
		return (-1);
	}
	if (p->s->fmtonly || p->s->dry) {
		rc = p->s->dry ? dml_dry_source(p, n) : p_syntax(p);
		dml_values_count(p, listed);
		cquery_free(&out);
		free(map);
		catalog_table_free(t);
		return (rc);
	}
	if (engine_write_begin(p->s, p->err) == -1) {
		cquery_free(&out);
		free(map);
		catalog_table_free(t);
		return (-1);
	}
	rc = writer_open(&w, p->s, t, p->err);
	if (rc == 0)
		rc = writer_output_open(&w, p, &out);
	if (rc == 0)
		rc = dml_insert_source(p, &w, map, n);
	dml_values_count(p, listed);
	writer_close(&w, rc == 0);
	cquery_free(&out);
	free(map);
	catalog_table_free(t);
	return (dml_finish(p, w.outgone ? -2 : rc, w.rows));
}

/* Collected rows of UPDATE/DELETE. */
struct rowset {
	sqlite3_int64 *rowid;
	struct simval *vals; /* nset per row */
	size_t n;
};

static void
rowset_free(struct rowset *r, int nset)
{
	size_t i;

	for (i = 0; i < r->n * (size_t)nset; i++)
		simval_free(&r->vals[i]);
	free(r->vals);
	free(r->rowid);
}

/* Read the rowids (and new values, converted) of the affected rows. */
static int
dml_collect(
    struct parser *p, struct dmlsrc *d, struct writer *w, struct rowset *r)
{
	sqlite3_stmt *st;
	int rc, i;
	size_t k;

	memset(r, 0, sizeof(*r));
	if ((st = engine_stmt_get(p->s, (char *)d->q.sql.data, p->err)) == NULL)
		return (-1);
	engine_bind_vars(p->s, p, st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->rowid =
		    util_xrealloc(r->rowid, (r->n + 1) * sizeof(*r->rowid));
		r->vals = util_xrealloc(
		    r->vals, (r->n + 1) * (d->nset + 1) * sizeof(*r->vals));
		r->rowid[r->n] = sqlite3_column_int64(st, 0);
		k = r->n * (size_t)d->nset;
		r->n++;
		for (i = 0; i < d->nset; i++)
			memset(&r->vals[k + i], 0, sizeof(struct simval));
		for (i = 0; i < d->nset; i++) {
			if (writer_convert(w, d->setcols[i],
				sqlite3_column_value(st, i + 1),
				&d->q.cols[i].type, &r->vals[k + i]) == -1) {
				engine_stmt_put(p->s, st);
				return (-1);
			}
			if (r->vals[k + i].kind == SQLITE_NULL &&
			    !w->t->cols[d->setcols[i]].c.nullable) {
				engine_stmt_put(p->s, st);
				return (writer_null_error(
				    w, d->setcols[i], "UPDATE"));
			}
		}
		if (r->n == (size_t)p->s->rowcount_limit) { /* SET ROWCOUNT */
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		engine_sqlite_error(p->s, p->err);
	engine_stmt_put(p->s, st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* The UPDATE statement of one row: SET cols [, rowversion] by rowid. */
static sqlite3_stmt *
dml_update_stmt(struct parser *p, struct dmlsrc *d, int *rvcol)
{
	struct table *t = d->target;
	struct sbuf b;
	sqlite3_stmt *st = NULL;
	char *q;
	int i;

	*rvcol = -1;
	sbuf_init(&b);
	q = sqlite3_mprintf("UPDATE %s SET ", t->sqlname);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < d->nset; i++) {
		q = sqlite3_mprintf("%s\"%w\" = ?%d", i ? ", " : "",
		    t->cols[d->setcols[i]].c.name, i + 1);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	for (i = 0; i < t->ncols; i++) {
		if (!t->cols[i].rowversion)
			continue;
		*rvcol = i;
		q = sqlite3_mprintf(
		    ", \"%w\" = ?%d", t->cols[i].c.name, d->nset + 1);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	q = sqlite3_mprintf(" WHERE rowid = ?%d", d->nset + 2);
	sbuf_add(&b, q, strlen(q) + 1);
	sqlite3_free(q);
	st = engine_stmt_get(p->s, (char *)b.data, p->err);
	sbuf_free(&b);
	return (st);
}

/* Key values of a row for 2627 after an UPDATE. */
static int
dml_update_dup(
    struct writer *w, sqlite3_int64 rowid, struct dmlsrc *d, struct simval *nv)
{
	struct simval *vals;
	sqlite3_stmt *st;
	int i, rc;

	vals = util_xmalloc((w->t->ncols + 1) * sizeof(*vals));
	st = dml_prepare(w->s, w->err, "SELECT * FROM %s WHERE rowid = %lld",
	    w->t->sqlname, (long long)rowid);
	for (i = 0; i < w->t->ncols; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
			simval_from_sqlite(
			    &vals[i], sqlite3_column_value(st, i));
		if (st != NULL)
			sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	for (i = 0; i < d->nset; i++) {
		simval_free(&vals[d->setcols[i]]);
		vals[d->setcols[i]] = nv[i];
	}
	rc = writer_dup_error(w, vals);
	for (i = 0; i < w->t->ncols; i++) {
		int own = 1, k;

		for (k = 0; k < d->nset; k++)
			if (d->setcols[k] == i)
				own = 0;
		if (own)
			simval_free(&vals[i]);
	}
	free(vals);
	return (rc);
}

/*
 * Apply the new values of row k (before: its image, owned).  Returns 0,
 * -1 with the error set, or 1 for a unique key conflict (error not set:
 * sqlite3_errmsg() still names it for dml_update_dup()).
 */
static int
dml_update_one(struct parser *p, struct dmlsrc *d, struct writer *w,
    struct rowset *r, size_t k, sqlite3_stmt *st, int rvcol,
    struct simval *before)
{
	struct simval rv;
	int i, rc;

	for (i = 0; i < d->nset; i++)
		simval_bind(st, i + 1, &r->vals[k * d->nset + i]);
	memset(&rv, 0, sizeof(rv));
	if (rvcol >= 0) {
		writer_rowversion(w, &rv);
		simval_bind(st, d->nset + 1, &rv);
	}
	sqlite3_bind_int64(st, d->nset + 2, r->rowid[k]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	simval_free(&rv);
	if (rc != SQLITE_DONE) {
		writer_image_free(w, before);
		if ((sqlite3_extended_errcode(p->s->db) & 0xff) ==
		    SQLITE_CONSTRAINT) {
			snprintf(w->conflict, sizeof(w->conflict), "%s",
			    sqlite3_errmsg(p->s->db));
			return (1);
		}
		return (engine_sqlite_error(p->s, p->err));
	}
	rc = writer_recompute(w, r->rowid[k]);
	if (rc == 0)
		rc = writer_check(w, r->rowid[k], "UPDATE");
	if (rc == 0 && writer_images(w))
		rc = writer_changed(
		    w, 'U', r->rowid[k], before, writer_image(w, r->rowid[k]));
	else
		writer_image_free(w, before);
	w->rows++;
	return (rc);
}

/* "UPDATE t SET <the SET columns> = NULL WHERE rowid = ?" */
static sqlite3_stmt *
dml_update_nulls(struct parser *p, struct dmlsrc *d)
{
	struct sbuf b;
	sqlite3_stmt *st;
	char *q;
	int i;

	sbuf_init(&b);
	q = sqlite3_mprintf("UPDATE %s SET ", d->target->sqlname);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < d->nset; i++) {
		q = sqlite3_mprintf("%s\"%w\" = NULL", i ? ", " : "",
		    d->target->cols[d->setcols[i]].c.name);
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	sbuf_add(&b, " WHERE rowid = ?", 17);
	st = engine_stmt_get(p->s, (char *)b.data, p->err);
	sbuf_free(&b);
	return (st);
}

/*
 * SQLite checks unique keys row by row, SQL Server at the end of the
 * statement: when a row's new key is still held by a row yet to be
 * updated ("set id = id + 1", swaps), the rows from k on first get
 * NULL in the columns SET (SQLite's unique indexes let NULLs repeat;
 * dml.c enforces NOT NULL itself), then their new values, so that
 * only a real duplicate still conflicts.
 */
static int
dml_update_rest(struct parser *p, struct dmlsrc *d, struct writer *w,
    struct rowset *r, size_t k0, sqlite3_stmt *st, int rvcol)
{
	struct simval **pre;
	sqlite3_stmt *nul;
	size_t k;
	int rc = 0;

	if ((nul = dml_update_nulls(p, d)) == NULL)
		return (-1);
	pre = util_xmalloc((r->n - k0 + 1) * sizeof(*pre));
	memset(pre, 0, (r->n - k0 + 1) * sizeof(*pre));
	for (k = k0; k < r->n && rc == 0; k++) {
		pre[k - k0] =
		    writer_images(w) ? writer_image(w, r->rowid[k]) : NULL;
		sqlite3_bind_int64(nul, 1, r->rowid[k]);
		if (sqlite3_step(nul) != SQLITE_DONE)
			rc = engine_sqlite_error(p->s, p->err);
		sqlite3_reset(nul);
	}
	engine_stmt_put(p->s, nul);
	for (k = k0; k < r->n && rc == 0; k++) {
		rc = dml_update_one(p, d, w, r, k, st, rvcol, pre[k - k0]);
		pre[k - k0] = NULL;
		if (rc == 1)
			rc = dml_update_dup(
			    w, r->rowid[k], d, &r->vals[k * d->nset]);
	}
	for (k = k0; k < r->n; k++)
		writer_image_free(w, pre[k - k0]);
	free(pre);
	return (rc);
}

/* Apply collected new values row by row. */
static int
dml_apply_updates(
    struct parser *p, struct dmlsrc *d, struct writer *w, struct rowset *r)
{
	struct simval *before;
	sqlite3_stmt *st;
	size_t k;
	int rvcol, rc = 0;

	if ((st = dml_update_stmt(p, d, &rvcol)) == NULL)
		return (-1);
	for (k = 0; k < r->n && rc == 0; k++) {
		before = writer_images(w) ? writer_image(w, r->rowid[k]) : NULL;
		if ((rc = dml_update_one(p, d, w, r, k, st, rvcol, before)) !=
		    1)
			continue;
		rc = k + 1 < r->n
		    ? dml_update_rest(p, d, w, r, k, st, rvcol)
		    : dml_update_dup(w, r->rowid[k], d, &r->vals[k * d->nset]);
		break;
	}
	engine_stmt_put(p->s, st);
	return (rc);
}

/* UPDATE ... */
int
dml_update(struct parser *p)
{
	struct dmlsrc d;
	struct writer w;
	struct rowset r;
	int rc, nset = 0;

	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	/* the compile pass stops where the statement would act */
	if ((rc = compile_update(p, &d)) == -1 || p->s->dry) {
		dmlsrc_free(&d);
		return (rc);
	}
	if (catalog_check_perm(p->s, d.target, "UPDATE", p->err) == -1 ||
	    engine_write_begin(p->s, p->err) == -1) {
		dmlsrc_free(&d);
		return (-1);
	}
	nset = d.nset;
	rc = writer_open(&w, p->s, d.target, p->err);
	if (rc == 0)
		rc = writer_output_open(&w, p, &d.out);
	if (rc == 0)
		rc = dml_collect(p, &d, &w, &r);
	if (rc == 0) /* fk.c: the old keys of referenced rows */
		fk_parent_save(w.fks, r.rowid, r.n, d.setcols, d.nset);
	p->s->stmt_setcols = d.setcols; /* for the row changes */
	p->s->stmt_nset = d.nset;
	if (rc == 0)
		rc = dml_apply_updates(p, &d, &w, &r);
	p->s->stmt_setcols = NULL;
	p->s->stmt_nset = 0;
	if (rc == 0) /* fk.c: NO ACTION, CASCADE, SET NULL/DEFAULT */
		rc = fk_parent_apply(w.fks, "UPDATE", p->err);
	writer_close(&w, rc == 0);
	rowset_free(&r, nset);
	dmlsrc_free(&d);
	return (dml_finish(p, w.outgone ? -2 : rc, w.rows));
}

/* DELETE ... */
int
dml_delete(struct parser *p)
{
	struct dmlsrc d;
	struct writer w;
	struct rowset r;
	sqlite3_stmt *st = NULL;
	struct simval *before;
	char del[500];
	size_t k;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	/* the compile pass stops where the statement would act */
	if ((rc = compile_delete(p, &d)) == -1 || p->s->dry) {
		dmlsrc_free(&d);
		return (rc);
	}
	if (catalog_check_perm(p->s, d.target, "DELETE", p->err) == -1 ||
	    engine_write_begin(p->s, p->err) == -1) {
		dmlsrc_free(&d);
		return (-1);
	}
	rc = writer_open(&w, p->s, d.target, p->err);
	if (rc == 0)
		rc = writer_output_open(&w, p, &d.out);
	if (rc == 0)
		rc = dml_collect(p, &d, &w, &r);
	if (rc == 0) /* fk.c: the keys of referenced rows */
		fk_parent_save(w.fks, r.rowid, r.n, NULL, 0);
	snprintf(del, sizeof(del), "DELETE FROM %s WHERE rowid = ?",
	    d.target->sqlname);
	if (rc == 0 && (st = engine_stmt_get(p->s, del, p->err)) == NULL)
		rc = -1;
	for (k = 0; rc == 0 && k < r.n; k++) {
		sqlite3_bind_int64(st, 1, r.rowid[k]);
		before =
		    writer_images(&w) ? writer_image(&w, r.rowid[k]) : NULL;
		rc = writer_step(&w, st, NULL);
		if (rc == 0 && before != NULL)
			rc = writer_changed(&w, 'D', r.rowid[k], before, NULL);
		else
			writer_image_free(&w, before);
		w.rows++;
	}
	engine_stmt_put(p->s, st);
	if (rc == 0) /* fk.c: NO ACTION, CASCADE, SET NULL/DEFAULT */
		rc = fk_parent_apply(w.fks, "DELETE", p->err);
	writer_close(&w, rc == 0);
	rowset_free(&r, 0);
	dmlsrc_free(&d);
	return (dml_finish(p, w.outgone ? -2 : rc, w.rows));
}

/* TRUNCATE TABLE t */
int
dml_truncate(struct parser *p)
{
	struct table *t;
	char *sql;
	int rc;

	p->pos++;
	if (p_expect_kw(p, "TABLE") == -1 ||
	    (t = dml_target(p, "DELETE")) == NULL)
		return (-1);
	if (p->s->dry) { /* the compile pass: parsed to its end */
		catalog_table_free(t);
		return (0);
	}
	if (cdc_truncate_check(p->s, t, p->err) == -1 || /* cdc_proc.c: 4711 */
	    fk_referenced_check(p->s, t, 1, p->err) == -1 || /* fk.c: 4712 */
	    engine_write_begin(p->s, p->err) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	sql = sqlite3_mprintf("DELETE FROM %s; UPDATE \"%w\".sim_objects SET "
			      "ident_last = NULL WHERE object_id = %lld",
	    t->sqlname, t->db, (long long)t->object_id);
	rc = sqlite3_exec(p->s->db, sql, NULL, NULL, NULL) == SQLITE_OK
	    ? 0
	    : engine_sqlite_error(p->s, p->err);
	sqlite3_free(sql);
	if (rc == 0)
		rc = ct_truncate(p->s, t, p->err); /* Change Tracking */
	catalog_table_free(t);
	if (engine_write_end(p->s, rc == 0, p->err) == -1 || rc == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* Bulk load (rpc.c): a writer kept open across rows. */
void *
dml_bulk_open(struct sim_session *s, struct table *t, struct sim_error *err)
{
	struct writer *w = util_xmalloc(sizeof(*w));

	if (writer_open(w, s, t, err) == -1) {
		writer_close(w, 0);
		free(w);
		return (NULL);
	}
	return (w);
}

/* Insert one bulk row: vals[i] (type from[i]) for table column i. */
int
dml_bulk_row(void *arg, sqlite3_stmt *conv, struct simval *in,
    const struct sim_type *from, struct sim_error *err)
{
	struct writer *w = arg;
	struct simval *vals;
	int *given, i, rc = 0;

	w->err = err;
	vals = util_xmalloc((w->t->ncols + 1) * sizeof(*vals));
	given = util_xmalloc((w->t->ncols + 1) * sizeof(int));
	for (i = 0; i < w->t->ncols; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		given[i] = in[i].kind != SQLITE_NULL;
		if (in[i].kind == SQLITE_NULL || rc == -1)
			continue;
		simval_bind(conv, 1, &in[i]);
		sqlite3_step(conv);
		rc = writer_convert(
		    w, i, sqlite3_column_value(conv, 0), &from[i], &vals[i]);
		sqlite3_reset(conv);
	}
	if (rc == 0)
		rc = writer_insert(w, vals, given);
	for (i = 0; i < w->t->ncols; i++)
		simval_free(&vals[i]);
	free(vals);
	free(given);
	return (rc);
}

/* Finish a bulk load; returns the rows inserted. */
uint64_t
dml_bulk_close(void *arg, int ok)
{
	struct writer *w = arg;
	uint64_t n = w->rows;

	writer_close(w, ok);
	free(w);
	return (n);
}
