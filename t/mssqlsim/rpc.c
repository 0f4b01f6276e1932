/*
 * rpc.c: RPC requests (sp_executesql and the prepare/execute family),
 * Transaction Manager requests and bulk load (freebcp's "insert bulk").
 *
 * sp_executesql runs its statement text as a batch in a new variable
 * scope in which the declared parameters are variables of their
 * declared types, so that "@p1 int" compares with an indexed column as
 * an int and is bound to SQLite as an integer (no per-row conversion).
 * Inside an RPC every statement ends with DONEINPROC; the reply ends
 * with RETURNSTATUS, the OUTPUT parameters as RETURNVALUE and DONEPROC.
 * Prepared handles are per session integers.
 *
 * Bulk load: the batch "insert bulk t (...)" remembers the table;
 * tds.c then hands over the client's COLMETADATA and rows, which are
 * converted to the column types and written with dml.c's writer in one
 * write transaction.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

/* The bare procedure name: "[sys].[sp_executesql]" -> "sp_executesql". */
static void
rpc_base_name(const char *name, char *out, size_t len)
{
	const char *p = strrchr(name, '.');
	size_t n;

	p = p ? p + 1 : name;
	if (*p == '[')
		p++;
	snprintf(out, len, "%s", p);
	n = strlen(out);
	if (n > 0 && out[n - 1] == ']')
		out[n - 1] = '\0';
}

/* A parameter's value as a protected sqlite3_value via "SELECT ?". */
static int
rpc_set_var(
    struct sim_session *s, int idx, struct simval *v, struct sim_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT ?", -1, &st, NULL) != SQLITE_OK)
		return (engine_sqlite_error(s, err));
	switch (v->kind) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, 1, v->i);
		break;
	case SQLITE_FLOAT:
		sqlite3_bind_double(st, 1, v->f);
		break;
	case SQLITE_TEXT:
		sqlite3_bind_text(st, 1, (char *)v->p, v->len, SQLITE_STATIC);
		break;
	case SQLITE_BLOB:
		sqlite3_bind_blob(st, 1, v->p, v->len, SQLITE_STATIC);
		break;
	}
	sqlite3_step(st);
	rc = engine_set_var(s, idx, sqlite3_column_value(st, 0), err);
	sqlite3_finalize(st);
	return (rc);
}

/* Return parameter ord as RETURNVALUE after RETURNSTATUS. */
static void
rpc_defer(struct sim_session *s, int ord)
{
	if (s->nret < 64)
		s->retord[s->nret++] = ord;
}

/* Text of a string parameter ("" when NULL or missing). */
static const char *
rpc_text(struct sim_param *p)
{
	if (p == NULL || p->value.kind != SQLITE_TEXT)
		return ("");
	return ((const char *)p->value.p);
}

/*
 * Declare "@p1 int, @p2 nvarchar(10) OUTPUT" in the current scope.
 * Fills out[i] = 1 for OUTPUT parameters.
 */
static int
rpc_declare(struct sim_session *s, const char *decl, int *out, int max,
    int *ndecl, struct sim_error *err)
{
	struct parser p;
	struct lex lx;
	struct sim_type t;
	char tname[64];
	int rc = 0, idx;

	*ndecl = 0;
	if (lex_tokenize(decl, &lx, err) == -1)
		return (-1);
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.lx = &lx;
	p.err = err;
	while (rc == 0 && p_tok(&p)->kind != LEX_EOF) {
		if (p_tok(&p)->kind != LEX_VAR || *ndecl == max) {
			rc = p_syntax(&p);
			break;
		}
		idx = p.pos++;
		p_accept_kw(&p, "AS");
		if (p_type(&p, &t, tname, sizeof(tname)) == -1 ||
		    engine_declare_var(s, lx.t[idx].text, &t, -1, err) == -1) {
			rc = -1;
			break;
		}
		out[*ndecl] =
		    p_accept_kw(&p, "OUTPUT") || p_accept_kw(&p, "OUT");
		(*ndecl)++;
		if (!p_accept_op(&p, ",") && p_tok(&p)->kind != LEX_EOF)
			rc = p_syntax(&p);
	}
	lex_free(&lx);
	return (rc);
}

/* Assign the values (positional, then @name =) to declared params. */
static int
rpc_bind_values(struct sim_session *s, int base, int ndecl,
    struct sim_param *vals, int nvals, int *src, struct sim_error *err)
{
	int i, k, idx;

	for (i = 0; i < ndecl; i++)
		src[i] = -1;
	for (i = 0; i < nvals; i++) {
		idx = i;
		if (vals[i].name[0] != '\0') {
			for (k = 0, idx = -1; k < ndecl; k++)
				if (strcasecmp(s->vars[base + k].name,
					vals[i].name) == 0)
					idx = k;
		}
		if (idx < 0 || idx >= ndecl) {
			sim_error_set(err, 8178, 16, 1,
			    "The parameterized query "
			    "expects the parameter '%s', which was not "
			    "supplied.",
			    vals[i].name[0] ? vals[i].name : "?");
			if (idx < 0)
				sim_error_set(err, 8145, 16, 1,
				    "%s is not a "
				    "parameter for procedure sp_executesql.",
				    vals[i].name);
			return (-1);
		}
		src[idx] = i;
		if (rpc_set_var(s, base + idx, &vals[i].value, err) == -1)
			return (-1);
	}
	for (i = 0; i < ndecl; i++) {
		if (src[i] < 0) {
			sim_error_set(err, 8178, 16, 1,
			    "The parameterized query "
			    "'(%s)' expects the parameter '%s', which was not "
			    "supplied.",
			    "...", s->vars[base + i].name);
			return (-1);
		}
	}
	return (0);
}

/*
 * Run statement text with declared parameters and values; sends the
 * OUTPUT values.  vals/nvals are the RPC parameters holding values,
 * ordbase the RPC ordinal of vals[0].
 */
static int
rpc_run(struct sim_session *s, const char *stmt, const char *decl,
    struct sim_param *vals, int nvals, int ordbase)
{
	struct lex lx;
	int out[128], src[128], ndecl, base, oldbase = s->varbase, rc, i;

	base = s->varbase = s->nvars;
	rc = rpc_declare(s, decl, out, 128, &ndecl, &s->err);
	if (rc == 0)
		rc = rpc_bind_values(s, base, ndecl, vals, nvals, src, &s->err);
	if (rc == 0 && lex_tokenize(stmt, &lx, &s->err) == 0) {
		rc = engine_exec_tokens(s, &lx) == -1 ? -2 : 0;
		lex_free(&lx);
	} else if (rc == 0)
		rc = -1;
	for (i = 0; rc == 0 && i < ndecl; i++) {
		if (!out[i] || src[i] < 0 || !vals[src[i]].output)
			continue;
		simval_free(&vals[src[i]].value);
		vals[src[i]].value = s->vars[base + i].value;
		memset(&s->vars[base + i].value, 0, sizeof(struct simval));
		vals[src[i]].type = s->vars[base + i].type;
		rpc_defer(s, ordbase + src[i]);
	}
	for (i = base; i < s->nvars; i++)
		simval_free(&s->vars[i].value);
	s->nvars = base;
	s->varbase = oldbase;
	return (rc);
}

/* Find a prepared statement. */
static struct prepared *
rpc_find_prep(struct sim_session *s, int handle)
{
	int i;

	for (i = 0; i < s->npreps; i++)
		if (s->preps[i].handle == handle)
			return (&s->preps[i]);
	return (NULL);
}

/* Store a statement; returns its handle. */
static int
rpc_prepare(struct sim_session *s, const char *decl, const char *stmt)
{
	struct prepared *pr;

	s->preps = util_xrealloc(s->preps, (s->npreps + 1) * sizeof(*s->preps));
	pr = &s->preps[s->npreps++];
	pr->handle = s->next_handle++;
	pr->decl = util_xstrdup(decl);
	pr->stmt = util_xstrdup(stmt);
	return (pr->handle);
}

/* Return the handle as the OUTPUT parameter p (ordinal ord). */
static int
rpc_return_handle(
    struct sim_session *s, struct sim_param *p, int ord, int handle)
{
	struct sim_error e;

	simval_free(&p->value);
	p->value.kind = SQLITE_INTEGER;
	p->value.i = handle;
	if (simtype_parse("int", NULL, 0, &p->type, &e) == -1)
		p->type.id = SIMT_INT;
	rpc_defer(s, ord);
	return (0);
}

/* Error 201 for a missing parameter. */
static int
rpc_missing(struct sim_session *s, const char *proc, const char *param)
{
	sim_error_set(&s->err, 201, 16, 4,
	    "Procedure or function '%s' "
	    "expects parameter '%s', which was not supplied.",
	    proc, param);
	return (-1);
}

/* sp_prepare / sp_prepexec / sp_execute / sp_unprepare */
static int
rpc_prepared(
    struct sim_session *s, const char *name, struct sim_param *a, int n)
{
	struct prepared *pr;
	int h, rc;

	if (strcasecmp(name, "sp_prepare") == 0 ||
	    strcasecmp(name, "sp_prepexec") == 0) {
		if (n < 3)
			return (rpc_missing(s, name, "@stmt"));
		h = rpc_prepare(s, rpc_text(&a[1]), rpc_text(&a[2]));
		if (strcasecmp(name, "sp_prepare") == 0)
			return (rpc_return_handle(s, &a[0], 0, h));
		rc = rpc_run(
		    s, rpc_text(&a[2]), rpc_text(&a[1]), a + 3, n - 3, 3);
		if (rc != 0)
			return (rc);
		return (rpc_return_handle(s, &a[0], 0, h));
	}
	if (n < 1 || a[0].value.kind != SQLITE_INTEGER)
		return (rpc_missing(s, name, "@handle"));
	if ((pr = rpc_find_prep(s, (int)a[0].value.i)) == NULL) {
		sim_error_set(&s->err, 8179, 16, 2,
		    "Could not find prepared "
		    "statement with handle %lld.",
		    (long long)a[0].value.i);
		return (-1);
	}
	if (strcasecmp(name, "sp_unprepare") == 0) {
		free(pr->decl);
		free(pr->stmt);
		*pr = s->preps[--s->npreps];
		return (0);
	}
	return (rpc_run(s, pr->stmt, pr->decl, a + 1, n - 1, 1));
}

/* sp_addrolemember role, member */
static int
rpc_addrolemember(struct sim_session *s, struct sim_param *a, int n)
{
	char sql[600];
	struct lex lx;
	int rc;

	if (n < 2)
		return (rpc_missing(s, "sp_addrolemember", "@membername"));
	snprintf(sql, sizeof(sql), "ALTER ROLE [%s] ADD MEMBER [%s]",
	    rpc_text(&a[0]), rpc_text(&a[1]));
	if (lex_tokenize(sql, &lx, &s->err) == -1)
		return (-1);
	rc = engine_exec_tokens(s, &lx) == -1 ? -2 : 0;
	lex_free(&lx);
	return (rc);
}

/* Run a procedure; sends everything up to and including DONEPROC. */
int
rpc_exec(
    struct sim_session *s, const char *fullname, struct sim_param *a, int n)
{
	char name[129];
	int rc, i, errs = s->nerrors;

	rpc_base_name(fullname, name, sizeof(name));
	s->inproc = 1;
	s->nret = 0;
	if (strcasecmp(name, "sp_executesql") == 0) {
		if (n < 1)
			rc = rpc_missing(s, name, "@statement");
		else
			rc = rpc_run(s, rpc_text(&a[0]),
			    n > 1 ? rpc_text(&a[1]) : "", a + 2,
			    n > 2 ? n - 2 : 0, 2);
	} else if (strcasecmp(name, "sp_prepare") == 0 ||
	    strcasecmp(name, "sp_prepexec") == 0 ||
	    strcasecmp(name, "sp_execute") == 0 ||
	    strcasecmp(name, "sp_unprepare") == 0)
		rc = rpc_prepared(s, name, a, n);
	else if (strcasecmp(name, "sp_addrolemember") == 0)
		rc = rpc_addrolemember(s, a, n);
	else if ((rc = ct_proc(s, fullname, a, n)) != 1)
		; /* ct.c: sim.advance_clock, sp_flush_CT_... */
	else if ((rc = cdc_exec_proc(s, name, a, n)) != 1)
		; /* cdc_proc.c: sys.sp_cdc_* */
	else {
		sim_error_set(&s->err, 2812, 16, 62,
		    "Could not find stored procedure '%s'.", fullname);
		rc = -1;
	}
	if (rc == -2)
		return (-2);
	if (rc == -1) {
		if (engine_send_message(s, &s->err) == -1)
			return (-2);
		s->error = s->err.number;
		s->nerrors++;
	}
	if (rc == 0 &&
	    s->sink->returnstatus(s->sink->arg,
		s->nerrors == errs ? 0
		    : s->error     ? s->error
				   : 1) == -1)
		return (-2);
	for (i = 0; rc == 0 && !s->exec_in_batch && i < s->nret; i++)
		if (s->retord[i] < n &&
		    s->sink->returnvalue(
			s->sink->arg, &a[s->retord[i]], s->retord[i]) == -1)
			return (-2);
	rc = s->sink->done(s->sink->arg, SIM_DONEPROC,
	    (s->nerrors != errs ? SIM_DONE_ERROR : 0) |
		(s->trancount ? SIM_DONE_INXACT : 0),
	    0);
	return (rc == -1 ? -2 : 0);
}

/* RPC request from tds.c. */
int
engine_exec_rpc(struct sim_session *s, const char *name,
    struct sim_param *params, int n, const struct sim_sink *sink)
{
	int rc;

	engine_sink_push(s, sink);
	rc = rpc_exec(s, name, params, n);
	s->inproc = 0;
	return (rc == -2 ? -1 : 0);
}

/* Transaction Manager: BEGIN (iso 0 = session level). */
int
engine_tm_begin(struct sim_session *s, int iso, const struct sim_sink *sink)
{
	engine_sink_push(s, sink);
	if (iso > 0 && iso <= ISO_SNAPSHOT)
		s->iso = iso;
	if (engine_tran_begin(s, iso) == -1)
		return (-1);
	return (sink->done(sink->arg, SIM_DONE, SIM_DONE_INXACT, 0));
}

/* Send an error and a DONE with the error bit. */
static int
rpc_tm_error(struct sim_session *s, struct sim_error *err)
{
	if (engine_send_message(s, err) == -1)
		return (-1);
	return (s->sink->done(s->sink->arg, SIM_DONE,
	    SIM_DONE_ERROR | (s->trancount ? SIM_DONE_INXACT : 0), 0));
}

/* Transaction Manager: COMMIT [and begin a new one]. */
int
engine_tm_commit(
    struct sim_session *s, int begin_new, const struct sim_sink *sink)
{
	struct sim_error err;
	int rc;

	engine_sink_push(s, sink);
	memset(&err, 0, sizeof(err));
	if (s->trancount > 1)
		s->trancount = 1;
	if ((rc = engine_tran_commit(s, &err)) == -2)
		return (-1);
	if (rc == -1)
		return (rpc_tm_error(s, &err));
	if (begin_new && engine_tran_begin(s, 0) == -1)
		return (-1);
	return (sink->done(
	    sink->arg, SIM_DONE, s->trancount ? SIM_DONE_INXACT : 0, 0));
}

/* Transaction Manager: ROLLBACK [and begin a new one]. */
int
engine_tm_rollback(
    struct sim_session *s, int begin_new, const struct sim_sink *sink)
{
	struct sim_error err;

	engine_sink_push(s, sink);
	if (s->trancount == 0) {
		sim_error_set(&err, 3903, 16, 1,
		    "The ROLLBACK TRANSACTION "
		    "request has no corresponding BEGIN TRANSACTION.");
		return (rpc_tm_error(s, &err));
	}
	if (engine_tran_rollback_all(s, 1) == -1)
		return (-1);
	if (begin_new && engine_tran_begin(s, 0) == -1)
		return (-1);
	return (sink->done(
	    sink->arg, SIM_DONE, s->trancount ? SIM_DONE_INXACT : 0, 0));
}

/* INSERT BULK t (col type, ...) [WITH (...)]: remember the table. */
int
rpc_insert_bulk(struct parser *p)
{
	struct table *t;
	int depth = 0;

	if (compile_table_name(p, &t) == -1)
		return (-1);
	if (catalog_check_perm(p->s, t, "INSERT", p->err) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	while (p_tok(p)->kind != LEX_EOF && !(depth == 0 && p_op(p, ";"))) {
		if (p_op(p, "("))
			depth++;
		else if (p_op(p, ")"))
			depth--;
		p->pos++;
	}
	catalog_table_free(p->s->bulk_table);
	p->s->bulk_table = t;
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* Release the bulk state. */
static void
rpc_bulk_reset(struct sim_session *s)
{
	sqlite3_finalize(s->bulk_conv);
	s->bulk_conv = NULL;
	free(s->bulk_from);
	free(s->bulk_map);
	s->bulk_from = NULL;
	s->bulk_map = NULL;
	catalog_table_free(s->bulk_table);
	s->bulk_table = NULL;
	s->bulk_writer = NULL;
	s->bulk_failed = 0;
}

/* The client's COLMETADATA of a bulk load. */
int
engine_bulk_begin(struct sim_session *s, const struct sim_column *cols, int n,
    struct sim_error *err)
{
	struct table *t = s->bulk_table;
	int i, k;

	if (t == NULL) {
		sim_error_set(err, 4804, 16, 1,
		    "While reading current row from "
		    "host, a premature end-of-message was encountered--an "
		    "incoming data stream was interrupted when the server "
		    "expected to see more data.");
		return (-1);
	}
	s->bulk_map = util_xmalloc((n + 1) * sizeof(int));
	s->bulk_from = util_xmalloc((t->ncols + 1) * sizeof(*s->bulk_from));
	memset(s->bulk_from, 0, (t->ncols + 1) * sizeof(*s->bulk_from));
	s->bulk_ncols = n;
	for (i = 0; i < n; i++) {
		s->bulk_map[i] = -1;
		for (k = 0; k < t->ncols; k++)
			if (strcasecmp(t->cols[k].c.name, cols[i].name) == 0)
				s->bulk_map[i] = k;
		k = s->bulk_map[i];
		if (k >= 0 &&
		    (t->cols[k].c.computed || t->cols[k].rowversion ||
			t->cols[k].c.identity))
			s->bulk_map[i] = -1; /* server-generated */
		if (s->bulk_map[i] >= 0)
			s->bulk_from[s->bulk_map[i]] = cols[i].type;
	}
	if (engine_write_begin(s, err) == -1)
		return (-1);
	sqlite3_prepare_v2(s->db, "SELECT ?", -1, &s->bulk_conv, NULL);
	if ((s->bulk_writer = dml_bulk_open(s, t, err)) == NULL) {
		engine_write_end(s, 0, err);
		return (-1);
	}
	return (0);
}

/* One row of a bulk load. */
int
engine_bulk_row(
    struct sim_session *s, struct simval *vals, int n, struct sim_error *err)
{
	struct simval *row;
	int i, k, rc;

	if (s->bulk_writer == NULL || s->bulk_failed)
		return (-1);
	row = util_xmalloc((s->bulk_table->ncols + 1) * sizeof(*row));
	memset(row, 0, (s->bulk_table->ncols + 1) * sizeof(*row));
	for (i = 0; i < s->bulk_table->ncols; i++)
		row[i].kind = SQLITE_NULL;
	for (i = 0; i < n && i < s->bulk_ncols; i++)
		if ((k = s->bulk_map[i]) >= 0)
			row[k] = vals[i];
	rc = dml_bulk_row(s->bulk_writer, s->bulk_conv, row, s->bulk_from, err);
	free(row);
	if (rc == -1) {
		s->bulk_failed = 1;
		s->bulk_err = *err;
	}
	return (rc);
}

/* End of a bulk load: commit and DONE with the row count. */
int
engine_bulk_end(struct sim_session *s, const struct sim_sink *sink)
{
	struct sim_error err = s->bulk_err;
	uint64_t rows = 0;
	int ok = !s->bulk_failed && s->bulk_writer != NULL;
	int reported = s->bulk_failed; /* tds.c sent the row's error */

	engine_sink_push(s, sink);
	if (s->bulk_writer != NULL) {
		rows = dml_bulk_close(s->bulk_writer, ok);
		if (engine_write_end(s, ok, &err) == -1)
			ok = 0;
	}
	if (s->bulk_writer == NULL && err.number == 0)
		sim_error_set(&err, 4804, 16, 1,
		    "While reading current row "
		    "from host, a premature end-of-message was encountered.");
	rpc_bulk_reset(s);
	if (!ok) {
		if (!reported && engine_send_message(s, &err) == -1)
			return (-1);
		return (engine_send_done(s, SIM_DONE_ERROR, 0));
	}
	s->rowcount = (int64_t)rows;
	return (engine_send_done(s, SIM_DONE_COUNT, rows));
}
