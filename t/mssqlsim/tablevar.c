/*
 * tablevar.c: table variables, DECLARE @t TABLE (...) ("table
 * (Transact-SQL)", "DECLARE @local_variable").
 *
 * A table variable is a variable of the batch (engine.c's variable
 * list, type SIM_TYPE_TABLE), so that a second DECLARE of the name is
 * 134 and the name is gone when the batch ends, and a TEMP table
 * "dbo.@t" of the connection made by the DDL of #temp tables
 * (ddl_create_tablevar), so that INSERT, UPDATE, DELETE, SELECT, joins,
 * constraints (2627) and identity work on it as on a table.  Like a
 * #temp table it is not in the database's catalog views (it lives in
 * tempdb) and dml.c records no row change of it for Change Tracking or
 * CDC.  A reference to an undeclared @t as a table is the compile
 * error 1087.  The variable is the batch's wherever its DECLARE stands:
 * run again (a loop) the DECLARE does nothing, and one the compile pass
 * saw but the run skipped (a branch not taken) gets its table when @t
 * is first used (tablevar_table).  The end of the batch drops it
 * (tablevar_batch_end).
 *
 * OUTPUT ... INTO t [(cols)] (tablevar_output_into) maps the OUTPUT
 * columns onto the target's and dml.c inserts them there instead of
 * sending a result set.
 *
 * "Table variables aren't affected by a ROLLBACK": around the SQLite
 * ROLLBACK of a transaction, tablevar_save() copies the rows of every
 * live table variable and tablevar_restore() makes the table again if
 * the rollback undid its DECLARE (the DECLARE's column list is parsed
 * again from the batch's tokens, which live as long as the variable)
 * and puts the rows back.  A failing statement still undoes its own
 * changes (statement savepoint), as in SQL Server.  A DROP at the end
 * of a batch inside a transaction that later rolls back leaves an
 * unreachable table behind: the next DECLARE of the name drops it.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

/* A live table variable: its variable and where its DECLARE is. */
struct tablevar {
	int var; /* index in s->vars */
	struct lex *lx; /* the batch holding the DECLARE */
	int pos; /* token of its column list "(" */
	struct simval *rows; /* tablevar_save(): nrows x ncols values */
	int nrows, ncols;
	int64_t ident_last;
};

static void tablevar_sqlname(const char *, char *, size_t);
static void tablevar_drop_table(struct sim_session *, const char *);
static int tablevar_find(struct sim_session *, int);
static int tablevar_create(
    struct sim_session *, struct tablevar *, struct sim_error *);
static void tablevar_rows_free(struct tablevar *);
static void tablevar_save_one(struct sim_session *, struct tablevar *);
static void tablevar_restore_rows(struct sim_session *, struct tablevar *);
static void tablevar_restore_ident(struct sim_session *, struct tablevar *);
static int tablevar_exists(struct sim_session *, struct tablevar *);
static int tablevar_column(struct table *, const char *);
static int tablevar_into_list(struct parser *, struct table *, int *, int *);
static int tablevar_add(
    struct sim_session *, int, struct lex *, int, struct sim_error *);
static int tablevar_skip_parens(struct parser *);

/* The quoted TEMP table of a variable name. */
static void
tablevar_sqlname(const char *name, char *buf, size_t len)
{
	char *q = sqlite3_mprintf("temp.\"dbo.%w\"", name);

	snprintf(buf, len, "%s", q);
	sqlite3_free(q);
}

/* Drop the TEMP table of @name and its metadata, if any. */
static void
tablevar_drop_table(struct sim_session *s, const char *name)
{
	static const char *meta[] = { "sim_columns", "sim_indexes",
		"sim_index_columns", "sim_checks", "sim_objects", NULL };
	char *sql;
	int i;

	sql = sqlite3_mprintf("DROP TABLE IF EXISTS temp.\"dbo.%w\"", name);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	for (i = 0; meta[i] != NULL; i++) { /* the table and its children */
		sql = sqlite3_mprintf(
		    "DELETE FROM temp.%s WHERE object_id IN (SELECT object_id "
		    "FROM temp.sim_objects WHERE (name = %Q AND "
		    "parent_object_id = 0) OR parent_object_id IN (SELECT "
		    "object_id FROM temp.sim_objects WHERE name = %Q AND "
		    "parent_object_id = 0))",
		    meta[i], name, name);
		sqlite3_exec(s->db, sql, NULL, NULL, NULL);
		sqlite3_free(sql);
	}
}

/* Index in s->tablevars of variable var, -1 if it is not live. */
static int
tablevar_find(struct sim_session *s, int var)
{
	int i;

	for (i = 0; i < s->ntablevars; i++)
		if (s->tablevars[i].var == var)
			return (i);
	return (-1);
}

/* Make the TEMP table of a table variable from its DECLARE's tokens. */
static int
tablevar_create(
    struct sim_session *s, struct tablevar *tv, struct sim_error *err)
{
	struct parser p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.lx = tv->lx;
	p.pos = tv->pos;
	p.err = err;
	rc = ddl_create_tablevar(&p, s->vars[tv->var].name);
	engine_parser_reset(&p);
	free(p.lits);
	return (rc);
}

/*
 * DECLARE @name [AS] TABLE ( column and table constraints ): the
 * parser is at TABLE.
 */
int
tablevar_declare(struct parser *p, const char *name)
{
	struct sim_session *s = p->s;
	struct sim_type t;
	int var, i;

	p->pos++; /* TABLE */
	memset(&t, 0, sizeof(t));
	t.id = SIM_TYPE_TABLE;
	t.maxlen = p->pos; /* where tablevar_table() finds the DECLARE */
	if (s->dry) {
		if (ddl_create_tablevar(p, name) == -1)
			return (-1);
		return (
		    engine_declare_var(s, name, &t, -1, p->err) == -1 ? -1 : 0);
	}
	var = engine_find_var(s, name);
	if (var != -1 && (i = tablevar_find(s, var)) != -1 &&
	    s->tablevars[i].lx == p->lx && s->tablevars[i].pos == p->pos)
		return (tablevar_skip_parens(p)); /* again (a loop): no-op */
	if ((var = engine_declare_var(s, name, &t, -1, p->err)) == -1 ||
	    tablevar_add(s, var, p->lx, p->pos, p->err) == -1)
		return (-1);
	return (tablevar_skip_parens(p));
}

/*
 * Start tracking table variable var, whose DECLARE's column list is at
 * token pos of lx, and make its table (dropping a leftover of the name,
 * see the top).
 */
static int
tablevar_add(struct sim_session *s, int var, struct lex *lx, int pos,
    struct sim_error *err)
{
	struct tablevar *tv;

	tablevar_drop_table(s, s->vars[var].name);
	s->tablevars = util_xrealloc(
	    s->tablevars, (s->ntablevars + 1) * sizeof(*s->tablevars));
	tv = &s->tablevars[s->ntablevars];
	memset(tv, 0, sizeof(*tv));
	tv->var = var;
	tv->lx = lx;
	tv->pos = pos;
	if (tablevar_create(s, tv, err) == -1)
		return (-1);
	s->ntablevars++;
	return (0);
}

/* Step over the parenthesized column list of a DECLARE. */
static int
tablevar_skip_parens(struct parser *p)
{
	int depth = 0;

	if (!p_op(p, "("))
		return (p_syntax(p));
	do {
		if (p_op(p, "("))
			depth++;
		else if (p_op(p, ")"))
			depth--;
		p->pos++;
	} while (depth > 0 && p_tok(p)->kind != LEX_EOF);
	return (depth == 0 ? 0 : p_syntax(p));
}

/*
 * @name as a table (FROM, INSERT INTO, UPDATE, DELETE, OUTPUT INTO):
 * 1087 unless declared.  In the compile pass the table does not exist
 * yet: 208 skips the statement (deferred name resolution).
 */
int
tablevar_resolve(struct parser *p, struct table **tp)
{
	*tp = tablevar_table(p, p_tok(p)->text);
	p->pos++;
	return (*tp == NULL ? -1 : 0);
}

/*
 * The table of table variable name, NULL with 1087 or 208.  A variable
 * the compile pass declared whose DECLARE did not run (a branch not
 * taken) exists all the same: its table is made now.
 */
struct table *
tablevar_table(struct parser *p, const char *name)
{
	struct sim_session *s = p->s;
	int var, pos;

	var = engine_find_var(s, name);
	if (var == -1 || s->vars[var].type.id != SIM_TYPE_TABLE) {
		sim_error_set(p->err, 1087, 15, 2,
		    "Must declare the table variable \"%s\".", name);
		return (NULL);
	}
	pos = s->vars[var].type.maxlen;
	if (tablevar_find(s, var) == -1 &&
	    (s->dry || pos < 1 || pos >= p->lx->n ||
		!lex_is_kw(&p->lx->t[pos - 1], "TABLE") ||
		tablevar_add(s, var, p->lx, pos, p->err) == -1)) {
		if (p->err->number == 0)
			sim_error_set(p->err, 208, 16, 1,
			    "Invalid object name '%s'.", name);
		return (NULL);
	}
	return (catalog_table_in(s, "temp", "dbo", s->vars[var].name, p->err));
}

/* Is variable var a table variable? */
int
tablevar_is(struct sim_session *s, int var)
{
	return (var >= 0 && var < s->nvars &&
	    s->vars[var].type.id == SIM_TYPE_TABLE);
}

/* End of a batch (scope from s->varbase): drop its table variables. */
void
tablevar_batch_end(struct sim_session *s)
{
	struct tablevar *tv;

	while (s->ntablevars > 0 &&
	    s->tablevars[s->ntablevars - 1].var >= s->varbase) {
		tv = &s->tablevars[--s->ntablevars];
		tablevar_drop_table(s, s->vars[tv->var].name);
		tablevar_rows_free(tv);
	}
}

/* Free the rows saved by tablevar_save(). */
static void
tablevar_rows_free(struct tablevar *tv)
{
	int i;

	for (i = 0; i < tv->nrows * tv->ncols; i++)
		simval_free(&tv->rows[i]);
	free(tv->rows);
	tv->rows = NULL;
	tv->nrows = tv->ncols = 0;
}

/* Copy the rows and identity counter of one table variable. */
static void
tablevar_save_one(struct sim_session *s, struct tablevar *tv)
{
	sqlite3_stmt *st;
	char tn[300], sql[400];
	int i, n;

	tablevar_sqlname(s->vars[tv->var].name, tn, sizeof(tn));
	snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY rowid", tn);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	tv->ncols = sqlite3_column_count(st);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n = tv->nrows * tv->ncols;
		tv->rows = util_xrealloc(
		    tv->rows, (size_t)(n + tv->ncols + 1) * sizeof(*tv->rows));
		for (i = 0; i < tv->ncols; i++)
			simval_from_sqlite(
			    &tv->rows[n + i], sqlite3_column_value(st, i));
		tv->nrows++;
	}
	sqlite3_finalize(st);
	tv->ident_last = -1;
	if (sqlite3_prepare_v2(s->db,
		"SELECT ident_last FROM temp.sim_objects WHERE name = ? AND "
		"parent_object_id = 0 AND ident_last IS NOT NULL",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, s->vars[tv->var].name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		tv->ident_last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
}

/* Before the ROLLBACK of a transaction: copy every table variable. */
void
tablevar_save(struct sim_session *s)
{
	int i;

	for (i = 0; i < s->ntablevars; i++) {
		tablevar_rows_free(&s->tablevars[i]);
		tablevar_save_one(s, &s->tablevars[i]);
	}
}

/* Put the saved rows of one table variable back. */
static void
tablevar_restore_rows(struct sim_session *s, struct tablevar *tv)
{
	struct sbuf b;
	sqlite3_stmt *st;
	char tn[300], sql[400];
	int i, r;

	tablevar_sqlname(s->vars[tv->var].name, tn, sizeof(tn));
	snprintf(sql, sizeof(sql), "DELETE FROM %s", tn);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (tv->ncols == 0)
		return;
	snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (?", tn);
	sbuf_init(&b);
	sbuf_add(&b, sql, strlen(sql));
	for (i = 1; i < tv->ncols; i++)
		sbuf_add(&b, ", ?", 3);
	sbuf_add(&b, ")", 2);
	if (sqlite3_prepare_v2(s->db, (char *)b.data, -1, &st, NULL) ==
	    SQLITE_OK) {
		for (r = 0; r < tv->nrows; r++) {
			for (i = 0; i < tv->ncols; i++)
				simval_bind(
				    st, i + 1, &tv->rows[r * tv->ncols + i]);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
	}
	sbuf_free(&b);
}

/* Put back the identity counter of one table variable. */
static void
tablevar_restore_ident(struct sim_session *s, struct tablevar *tv)
{
	sqlite3_stmt *st;

	if (tv->ident_last == -1 ||
	    sqlite3_prepare_v2(s->db,
		"UPDATE temp.sim_objects SET ident_last = ? WHERE name = ? "
		"AND parent_object_id = 0",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, tv->ident_last);
	sqlite3_bind_text(st, 2, s->vars[tv->var].name, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* Does the TEMP table of a table variable exist? */
static int
tablevar_exists(struct sim_session *s, struct tablevar *tv)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(s->db,
		"SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND "
		"name = ? COLLATE NOCASE",
		-1, &st, NULL) != SQLITE_OK)
		return (0);
	sqlite3_bind_text(st, 1,
	    sqlite3_mprintf("dbo.%s", s->vars[tv->var].name), -1, sqlite3_free);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return (found);
}

/*
 * After the ROLLBACK (outside any transaction): make again the table
 * variables whose DECLARE it undid and put their rows back.
 */
void
tablevar_restore(struct sim_session *s)
{
	struct sim_error err;
	struct tablevar *tv;
	int i;

	for (i = 0; i < s->ntablevars; i++) {
		tv = &s->tablevars[i];
		memset(&err, 0, sizeof(err));
		if (!tablevar_exists(s, tv)) {
			tablevar_drop_table(s, s->vars[tv->var].name);
			if (tablevar_create(s, tv, &err) == -1)
				fprintf(stderr,
				    "mssqlsim: table variable %s: %s\n",
				    s->vars[tv->var].name, err.msg);
		}
		tablevar_restore_rows(s, tv);
		tablevar_restore_ident(s, tv);
		tablevar_rows_free(tv);
	}
}

/* Release the session's list (engine_session_free). */
void
tablevar_free_all(struct sim_session *s)
{
	int i;

	for (i = 0; i < s->ntablevars; i++)
		tablevar_rows_free(&s->tablevars[i]);
	free(s->tablevars);
	s->tablevars = NULL;
	s->ntablevars = 0;
}

/*
 * The target of UPDATE/DELETE (compile.c): @t as one name part, or the
 * parts of a table name; returns their count.
 */
int
tablevar_dml_name(struct parser *p, char parts[][129])
{
	if (p_tok(p)->kind != LEX_VAR)
		return (p_name(p, parts, 4));
	snprintf(parts[0], 129, "%s", p_tok(p)->text);
	p->pos++;
	return (1);
}

/* Column index of name in t, -1 if none. */
static int
tablevar_column(struct table *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i].c.name, name) == 0)
			return (i);
	return (-1);
}

/* The OUTPUT columns of INTO t (cols): map[target column] = n-th. */
static int
tablevar_into_list(struct parser *p, struct table *t, int *map, int *n)
{
	char parts[1][129];
	int ci;

	do {
		if (p_name(p, parts, 1) != 1)
			return (-1);
		if ((ci = tablevar_column(t, parts[0])) == -1) {
			sim_error_set(p->err, 207, 16, 1,
			    "Invalid column name '%s'.", parts[0]);
			return (-1);
		}
		map[ci] = (*n)++;
	} while (p_accept_op(p, ","));
	return (p_expect_op(p, ")"));
}

/*
 * OUTPUT list INTO target [(cols)] (compile.c, p after INTO): without
 * a column list the OUTPUT columns fill the target's columns in order,
 * identity, computed and rowversion columns skipped ("OUTPUT clause",
 * column_list).  The counts must match (213).
 */
int
tablevar_output_into(struct parser *p, struct cquery *q)
{
	struct table *t;
	struct tcol *c;
	int i, n = 0, *map;

	if (compile_table_name(p, &t) == -1)
		return (-1);
	map = util_xmalloc((t->ncols + 1) * sizeof(*map));
	for (i = 0; i < t->ncols; i++)
		map[i] = -1;
	if (p_accept_op(p, "(")) {
		if (tablevar_into_list(p, t, map, &n) == -1)
			goto fail;
	} else
		for (i = 0; i < t->ncols; i++) {
			c = &t->cols[i];
			if (!c->c.identity && !c->c.computed && !c->rowversion)
				map[i] = n++;
		}
	if (n != q->ncols) {
		sim_error_set(p->err, 213, 16, 1,
		    "Column name or number of supplied values does not match "
		    "table definition.");
		goto fail;
	}
	q->into = t;
	q->intomap = map;
	return (0);
fail:
	free(map);
	catalog_table_free(t);
	return (-1);
}

/*
 * Step over INTO target [(cols)] after an OUTPUT list (compile.c marks
 * where the clause ends before it compiles it).
 */
void
tablevar_skip_into(struct parser *p)
{
	char parts[4][129];

	if (!p_accept_kw(p, "INTO"))
		return;
	if (p_tok(p)->kind == LEX_VAR)
		p->pos++;
	else if (p_name(p, parts, 4) < 1)
		return;
	if (p_op(p, "("))
		tablevar_skip_parens(p);
}
