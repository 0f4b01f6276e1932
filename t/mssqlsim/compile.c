/*
 * compile.c: T-SQL expressions and SELECT compiled to SQLite SQL.
 *
 * One pass, parse-and-emit: every expression parser returns a struct ce
 * holding the SQLite text of the expression and its SQL Server type, so
 * that operators can choose their SQLite form from the operand types
 * ('+' on strings is "||", '/' goes through sim_div for integer division
 * and error 8134) and every result column gets the type COLMETADATA
 * announces.  Column references keep their declared type and already
 * hold the canonical stored form (sim.h); any other output column whose
 * value might not be canonical (decimal arithmetic, SUM, CASE mixing
 * types) is wrapped in sim_cast(expr, 'type').
 *
 * The select list names columns of the FROM clause, which follows it:
 * compile_select() skips the list, compiles FROM (which fills the scope
 * with the row sources and their columns), WHERE, GROUP BY and HAVING,
 * then goes back to compile the list.  Names resolve innermost scope
 * first (correlated subqueries see the outer sources), with SQL
 * Server's errors 207, 209 and 4104.  Variables become ?N parameters
 * (N = index in the session's variable array + 1), @@ globals and
 * functions with constant answers become literals.  The OUTPUT clause
 * of INSERT, UPDATE and DELETE is a select list over the pseudo-tables
 * INSERTED and DELETED (compile_output), run by dml.c once per row.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

#define MAXSRC 32

struct src {
	char alias[129];
	struct table *t;
	int borrowed; /* t not owned by the scope */
	int qualified; /* OUTPUT's INSERTED/DELETED: only alias.col */
};

struct scope {
	struct src src[MAXSRC];
	int nsrc;
	struct scope *outer;
	struct cquery *out; /* select list, for ORDER BY aliases */
};

/* A compiled expression. */
struct ce {
	struct sbuf b;
	struct sim_type t;
	char name[129]; /* column name when a column ref */
	int canon; /* value already in canonical form */
	int isnull; /* the NULL literal */
	int col; /* a column reference */
	struct tcol *tc;
	int lit; /* literal integer (for ORDER BY n) */
	int collated; /* explicit COLLATE */
};

static int cx_expr(struct parser *, struct scope *, struct ce *);
static int cx_pred(struct parser *, struct scope *, struct ce *);
static int cx_add(struct parser *, struct scope *, struct ce *);
static int cx_primary(struct parser *, struct scope *, struct ce *);
static int cx_subquery(struct parser *, struct scope *, struct ce *);
static int cx_over(struct parser *, struct scope *, struct ce *);
static int cx_function(
    struct parser *, struct scope *, struct ce *, const char *);
static void ce_init(struct ce *);
static void ce_free(struct ce *);
static void ce_str(struct ce *, const char *);
static void ce_fmt(struct ce *, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));
static void scope_free(struct scope *);
static int ty_chars(const struct sim_type *);

/* Parser helpers. */
struct lex_tok *
p_tok(struct parser *p)
{
	return (&p->lx->t[p->pos]);
}

static struct lex_tok *
p_peek(struct parser *p, int k)
{
	int i = p->pos + k;

	if (i >= p->lx->n)
		i = p->lx->n - 1;
	return (&p->lx->t[i]);
}

int
p_kw(struct parser *p, const char *kw)
{
	return (lex_is_kw(p_tok(p), kw));
}

int
p_op(struct parser *p, const char *op)
{
	return (lex_is_op(p_tok(p), op));
}

int
p_accept_kw(struct parser *p, const char *kw)
{
	if (!p_kw(p, kw))
		return (0);
	p->pos++;
	return (1);
}

int
p_accept_op(struct parser *p, const char *op)
{
	if (!p_op(p, op))
		return (0);
	p->pos++;
	return (1);
}

int
p_expect_kw(struct parser *p, const char *kw)
{
	return (p_accept_kw(p, kw) ? 0 : p_syntax(p));
}

int
p_expect_op(struct parser *p, const char *op)
{
	return (p_accept_op(p, op) ? 0 : p_syntax(p));
}

/* Error 102/156 at the current token. */
int
p_syntax(struct parser *p)
{
	struct lex_tok *t = p_tok(p);

	if (t->kind == LEX_EOF && p->pos > 0)
		t = &p->lx->t[p->pos - 1];
	if (lex_is_reserved(t))
		sim_error_set(p->err, 156, 15, 1,
		    "Incorrect syntax near the keyword '%s'.", t->text);
	else
		sim_error_set(p->err, 102, 15, 1, "Incorrect syntax near '%s'.",
		    t->kind == LEX_STRING || t->kind == LEX_NSTRING ? t->text
								    : t->text);
	p->err->line = t->line;
	return (-1);
}

/* Is the token usable as an identifier? */
static int
p_is_ident(const struct lex_tok *t)
{
	return (t->kind == LEX_QIDENT ||
	    (t->kind == LEX_IDENT && !lex_is_reserved(t)));
}

/* Multi-part name a.b.c (empty parts allowed: db..t).  Returns parts. */
int
p_name(struct parser *p, char parts[][129], int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return (p_syntax(p));
		if (p_op(p, ".")) {
			parts[n++][0] = '\0';
			p->pos++;
			continue;
		}
		if (!p_is_ident(p_tok(p)) &&
		    !(n > 0 && p_tok(p)->kind == LEX_IDENT))
			return (p_syntax(p));
		snprintf(parts[n++], 129, "%s", p_tok(p)->text);
		p->pos++;
		if (!p_accept_op(p, "."))
			return (n);
	}
}

/* [-]integer */
int
p_int(struct parser *p, int64_t *v)
{
	int neg = p_accept_op(p, "-");

	if (p_tok(p)->kind != LEX_INT)
		return (p_syntax(p));
	*v = strtoll(p_tok(p)->text, NULL, 10);
	if (neg)
		*v = -*v;
	p->pos++;
	return (0);
}

/* A type name with its arguments. */
int
p_type(struct parser *p, struct sim_type *t, char *name, size_t len)
{
	int args[2], n = 0;
	int64_t v;

	if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
		return (p_syntax(p));
	if (p_kw(p, "sys") && lex_is_op(p_peek(p, 1), "."))
		p->pos += 2;
	snprintf(name, len, "%s", p_tok(p)->text);
	p->pos++;
	if (strcasecmp(name, "double") == 0 && p_accept_kw(p, "precision"))
		snprintf(name, len, "float");
	if (p_accept_op(p, "(")) {
		if (p_accept_kw(p, "max"))
			args[n++] = -1;
		else if (p_int(p, &v) == -1)
			return (-1);
		else
			args[n++] = (int)v;
		if (p_accept_op(p, ",")) {
			if (p_int(p, &v) == -1)
				return (-1);
			args[n++] = (int)v;
		}
		if (p_expect_op(p, ")") == -1)
			return (-1);
	}
	if (simtype_parse(name, args, n, t, p->err) == -1)
		return (-1);
	return (n);
}

/* The name sim_cast() understands: "nvarchar(10)", "decimal(5,2)". */
void
compile_typename(const struct sim_type *t, char *buf, size_t len)
{
	simtype_format(t, buf, len);
}

static void
ce_init(struct ce *e)
{
	memset(e, 0, sizeof(*e));
	sbuf_init(&e->b);
}

static void
ce_free(struct ce *e)
{
	sbuf_free(&e->b);
}

static void
ce_str(struct ce *e, const char *s)
{
	sbuf_add(&e->b, s, strlen(s));
}

static void
ce_fmt(struct ce *e, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ce_str(e, buf);
}

/* Append b's text to e. */
static void
ce_cat(struct ce *e, const struct ce *b)
{
	sbuf_add(&e->b, b->b.data, b->b.len);
}

/* Append a quoted SQLite identifier. */
static void
sq_ident(struct sbuf *b, const char *s)
{
	sbuf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			sbuf_add(b, "\"", 1);
		sbuf_add(b, s, 1);
	}
	sbuf_add(b, "\"", 1);
}

/* Append a quoted SQLite string literal. */
static void
sq_string(struct sbuf *b, const char *s, size_t n)
{
	size_t i;

	sbuf_add(b, "'", 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '\'')
			sbuf_add(b, "'", 1);
		sbuf_add(b, &s[i], 1);
	}
	sbuf_add(b, "'", 1);
}

/* A type built from an id. */
static struct sim_type
ty(int id, int maxlen, int prec, int scale)
{
	struct sim_type t;

	t.id = id;
	t.maxlen = maxlen;
	t.precision = prec;
	t.scale = scale;
	if (id == SIMT_DECIMAL || id == SIMT_NUMERIC)
		t.maxlen = simtype_decimal_len(prec);
	return (t);
}

static struct sim_type
ty_named(const char *name)
{
	struct sim_type t;
	struct sim_error e;

	if (engine_parse_typename(name, &t, &e) == -1)
		t = ty(SIMT_INT, 4, 10, 0);
	return (t);
}

static int
ty_is_int(const struct sim_type *t)
{
	return (t->id == SIMT_TINYINT || t->id == SIMT_SMALLINT ||
	    t->id == SIMT_INT || t->id == SIMT_BIGINT || t->id == SIMT_BIT);
}

static int
ty_is_dec(const struct sim_type *t)
{
	return (t->id == SIMT_DECIMAL || t->id == SIMT_NUMERIC ||
	    t->id == SIMT_MONEY || t->id == SIMT_SMALLMONEY);
}

/* SQL Server data type precedence (higher wins). */
static int
ty_rank(int id)
{
	static const int order[] = { SIMT_BINARY, SIMT_VARBINARY, SIMT_CHAR,
		SIMT_VARCHAR, SIMT_NCHAR, SIMT_NVARCHAR, SIMT_UNIQUEIDENTIFIER,
		SIMT_TIMESTAMP, SIMT_IMAGE, SIMT_TEXT, SIMT_NTEXT, SIMT_BIT,
		SIMT_TINYINT, SIMT_SMALLINT, SIMT_INT, SIMT_BIGINT,
		SIMT_SMALLMONEY, SIMT_MONEY, SIMT_DECIMAL, SIMT_NUMERIC,
		SIMT_REAL, SIMT_FLOAT, SIMT_TIME, SIMT_DATE, SIMT_SMALLDATETIME,
		SIMT_DATETIME, SIMT_DATETIME2, SIMT_DATETIMEOFFSET,
		SIMT_SQL_VARIANT, SIMT_XML, 0 };
	int i;

	for (i = 0; order[i] != 0; i++)
		if (order[i] == id)
			return (i);
	return (0);
}

/* The type of a CASE/COALESCE over branches of types a and b. */
static struct sim_type
ty_union(const struct sim_type *a, const struct sim_type *b)
{
	struct sim_type t = ty_rank(a->id) >= ty_rank(b->id) ? *a : *b;

	if (simtype_is_string(a) && simtype_is_string(b)) {
		if (a->maxlen < 0 || b->maxlen < 0)
			t.maxlen = -1;
		else if (simtype_is_unicode(&t))
			t.maxlen = 2 *
			    (ty_chars(a) > ty_chars(b) ? ty_chars(a)
						       : ty_chars(b));
		else
			t.maxlen =
			    a->maxlen > b->maxlen ? a->maxlen : b->maxlen;
	} else if (a->id == b->id && (simtype_is_binary(a)))
		t.maxlen = a->maxlen < 0 || b->maxlen < 0 ? -1
		    : a->maxlen > b->maxlen               ? a->maxlen
							  : b->maxlen;
	return (t);
}

/* Precision and scale of an exact numeric type. */
static void
ty_ps(const struct sim_type *t, int *p, int *s)
{
	*s = 0;
	switch (t->id) {
	case SIMT_BIT:
	case SIMT_TINYINT:
		*p = 3;
		break;
	case SIMT_SMALLINT:
		*p = 5;
		break;
	case SIMT_INT:
		*p = 10;
		break;
	case SIMT_BIGINT:
		*p = 19;
		break;
	case SIMT_MONEY:
		*p = 19;
		*s = 4;
		break;
	case SIMT_SMALLMONEY:
		*p = 10;
		*s = 4;
		break;
	default:
		*p = t->precision ? t->precision : 18;
		*s = t->scale;
		break;
	}
}

/* Result type of decimal arithmetic (SQL Server's p/s rules). */
static struct sim_type
ty_decop(int op, const struct sim_type *a, const struct sim_type *b)
{
	int p1, s1, p2, s2, p, s;

	ty_ps(a, &p1, &s1);
	ty_ps(b, &p2, &s2);
	switch (op) {
	case '*':
		p = p1 + p2 + 1;
		s = s1 + s2;
		break;
	case '/':
		s = s1 + p2 + 1 > 6 ? s1 + p2 + 1 : 6;
		p = p1 - s1 + s2 + s;
		break;
	case '%':
		s = s1 > s2 ? s1 : s2;
		p = (p1 - s1 < p2 - s2 ? p1 - s1 : p2 - s2) + s;
		break;
	default:
		s = s1 > s2 ? s1 : s2;
		p = (p1 - s1 > p2 - s2 ? p1 - s1 : p2 - s2) + s + 1;
		break;
	}
	if (p > 38) {
		s = s - (p - 38);
		if (s < 6 && (op == '/' || op == '*'))
			s = s < 6 ? (s > 0 ? s : 6) : s;
		if (s < 0)
			s = 0;
		p = 38;
	}
	if (s > p)
		s = p;
	return (ty(SIMT_NUMERIC, 17, p, s));
}

/* Length in characters of a string type (-1 = max). */
static int
ty_chars(const struct sim_type *t)
{
	if (t->maxlen < 0)
		return (-1);
	if (simtype_is_unicode(t))
		return (t->maxlen / 2);
	return (t->maxlen);
}

/* Resolve a table name to a struct table (catalog views included). */
int
compile_table_name(struct parser *p, struct table **tp)
{
	char parts[4][129], alias[140] = "main";
	const char *schema;
	int n;

	*tp = NULL;
	if (p_tok(p)->kind == LEX_VAR) /* tablevar.c: @t */
		return (tablevar_resolve(p, tp));
	if ((n = p_name(p, parts, 4)) < 1)
		return (-1);
	if (n == 4) {
		sim_error_set(p->err, 208, 16, 1,
		    "Invalid object name "
		    "'%s.%s.%s.%s'.",
		    parts[0], parts[1], parts[2], parts[3]);
		return (-1);
	}
	if (n == 3 && parts[0][0] != '\0' && parts[2][0] != '#' &&
	    engine_attach(p->s, parts[0], alias, p->err) == -1)
		return (-1);
	schema = n >= 2 && parts[n - 2][0] != '\0' ? parts[n - 2] : NULL;
	*tp = catalog_table_in(p->s, alias, schema, parts[n - 1], p->err);
	if (*tp == NULL && n == 3)
		sim_error_set(p->err, 208, 16, 1,
		    "Invalid object name "
		    "'%s.%s.%s'.",
		    parts[0], parts[1], parts[2]);
	return (*tp == NULL ? -1 : 0);
}

/* Find a column by name in a table, -1 if none. */
static int
table_col(struct table *t, const char *name)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i].c.name, name) == 0)
			return (i);
	return (-1);
}

/* Emit a column reference. */
static void
ce_column(struct ce *e, struct src *s, int ci)
{
	struct tcol *c = &s->t->cols[ci];

	sq_ident(&e->b, s->alias);
	sbuf_add(&e->b, ".", 1);
	sq_ident(&e->b, c->c.name);
	e->t = c->c.type;
	snprintf(e->name, sizeof(e->name), "%s", c->c.name);
	e->canon = 1;
	e->col = 1;
	e->tc = c;
}

/* Resolve a one-part column name through the scopes. */
static int
cx_colname1(struct parser *p, struct scope *sc, const char *name, struct ce *e)
{
	struct scope *s;
	int i, ci, found, fi = 0, fc = 0;

	for (s = sc; s != NULL; s = s->outer) {
		found = 0;
		for (i = 0; i < s->nsrc; i++) {
			if (s->src[i].qualified)
				continue;
			if ((ci = table_col(s->src[i].t, name)) >= 0) {
				found++;
				fi = i;
				fc = ci;
			}
		}
		if (found > 1) {
			sim_error_set(p->err, 209, 16, 1,
			    "Ambiguous column name '%s'.", name);
			return (-1);
		}
		if (found == 1) {
			ce_column(e, &s->src[fi], fc);
			return (0);
		}
	}
	sim_error_set(p->err, 207, 16, 1, "Invalid column name '%s'.", name);
	return (-1);
}

/* Does source s answer to qualifier parts[0..n)? */
static int
src_matches(struct src *s, char parts[][129], int n)
{
	if (n == 1)
		return (strcasecmp(s->alias, parts[0]) == 0);
	return (strcasecmp(s->alias, s->t->name) == 0 &&
	    strcasecmp(s->t->name, parts[n - 1]) == 0 &&
	    (parts[n - 2][0] == '\0' ||
		strcasecmp(s->t->schema, parts[n - 2]) == 0));
}

/* Resolve a qualified column name q1[.q2[.q3]].col. */
static int
cx_colname(
    struct parser *p, struct scope *sc, char parts[][129], int n, struct ce *e)
{
	struct scope *s;
	char full[600] = "";
	int i, ci, k;

	if (n == 1)
		return (cx_colname1(p, sc, parts[0], e));
	for (s = sc; s != NULL; s = s->outer) {
		for (i = 0; i < s->nsrc; i++) {
			if (!src_matches(&s->src[i], parts, n - 1))
				continue;
			if ((ci = table_col(s->src[i].t, parts[n - 1])) < 0) {
				sim_error_set(p->err, 207, 16, 1,
				    "Invalid column name '%s'.", parts[n - 1]);
				return (-1);
			}
			ce_column(e, &s->src[i], ci);
			return (0);
		}
	}
	for (k = 0; k < n; k++)
		snprintf(full + strlen(full), sizeof(full) - strlen(full),
		    "%s%s", k ? "." : "", parts[k]);
	sim_error_set(p->err, 4104, 16, 1,
	    "The multi-part identifier \"%s\" could not be bound.", full);
	return (-1);
}

/* An integer literal: int, bigint or numeric. */
static void
cx_lit_int(struct ce *e, const char *text)
{
	long long v = strtoll(text, NULL, 10);
	size_t n = strlen(text);

	ce_str(e, text);
	e->canon = 1;
	e->lit = (int)n;
	if (n <= 10 && v <= 2147483647LL)
		e->t = ty(SIMT_INT, 4, 10, 0);
	else if (n <= 19)
		e->t = ty(SIMT_BIGINT, 8, 19, 0);
	else {
		/* Beyond int64: canonical numeric text, never a double. */
		while (text[0] == '0' && text[1] != '\0')
			text++;
		sbuf_reset(&e->b);
		ce_fmt(e, "'%s'", text);
		e->t = ty(SIMT_NUMERIC, 17, (int)n > 38 ? 38 : (int)n, 0);
	}
	if (n > 10 && n <= 19) {
		/* SQL Server types 2147483648 as numeric(10,0). */
		e->t = ty(SIMT_NUMERIC, 9, (int)n, 0);
		e->canon = 0;
	}
}

/* A decimal literal: numeric(p,s). */
static void
cx_lit_dec(struct ce *e, const char *text)
{
	const char *dot = strchr(text, '.');
	int ip, fp;

	while (*text == '0' && text + 1 < dot)
		text++;
	ip = (int)(dot - text);
	if (ip == 1 && text[0] == '0')
		ip = 0;
	fp = (int)strlen(dot + 1);
	/*
	 * Emitted as text, the canonical stored form of numeric(p,s)
	 * (sim.h): an SQLite number literal would go through a double and
	 * lose digits beyond 15-17.
	 */
	ce_fmt(e, "'%s%.*s'", text[0] == '.' ? "0" : "",
	    fp == 0 ? (int)(dot - text) : (int)strlen(text), text);
	e->t = ty(SIMT_NUMERIC, 5, ip + fp > 0 ? ip + fp : 1, fp);
	e->canon = 1;
}

/* Value of a hex digit. */
static int
hexval(int c)
{
	return (isdigit(c) ? c - '0' : toupper(c) - 'A' + 10);
}

/* Record literal t as parameter :lN and emit it (paramlits). */
static void
cx_param_lit(struct parser *p, struct ce *e, struct lex_tok *t)
{
	struct simval *v;
	size_t i;
	int hi, lo;

	if ((p->nlits & 15) == 0)
		p->lits =
		    util_xrealloc(p->lits, (p->nlits + 16) * sizeof(*p->lits));
	v = &p->lits[p->nlits];
	memset(v, 0, sizeof(*v));
	switch (t->kind) {
	case LEX_INT:
		v->kind = SQLITE_INTEGER;
		v->i = strtoll(t->text, NULL, 10);
		break;
	case LEX_DEC:
		/* Exact: the canonical text cx_lit_dec() emitted. */
		v->kind = SQLITE_TEXT;
		v->len = e->b.len - 2;
		v->p = util_xmalloc(v->len + 1);
		memcpy(v->p, e->b.data + 1, v->len);
		v->p[v->len] = '\0';
		break;
	case LEX_FLOAT:
		v->kind = SQLITE_FLOAT;
		v->f = strtod(t->text, NULL);
		break;
	case LEX_BINARY:
		v->kind = SQLITE_BLOB;
		v->len = (t->len + 1) / 2;
		v->p = util_xmalloc(v->len + 1);
		for (i = 0; i < v->len; i++) {
			hi = (int)(2 * i) - (int)(t->len % 2);
			lo = hi + 1;
			v->p[i] = (hi >= 0 ? hexval(t->text[hi]) << 4 : 0) |
			    hexval(t->text[lo]);
		}
		break;
	default:
		v->kind = SQLITE_TEXT;
		v->len = t->len;
		v->p = util_xmalloc(t->len + 1);
		memcpy(v->p, t->text, t->len + 1);
		break;
	}
	sbuf_reset(&e->b);
	ce_fmt(e, ":l%d", p->nlits++);
}

/* Literal tokens. */
static int
cx_literal(struct parser *p, struct ce *e)
{
	struct lex_tok *t = p_tok(p);
	size_t i;

	switch (t->kind) {
	case LEX_INT:
		cx_lit_int(e, t->text);
		break;
	case LEX_DEC:
		cx_lit_dec(e, t->text);
		break;
	case LEX_FLOAT:
		ce_str(e, t->text);
		e->t = ty(SIMT_FLOAT, 8, 53, 0);
		e->canon = 1;
		break;
	case LEX_STRING:
	case LEX_NSTRING:
		sq_string(&e->b, t->text, t->len);
		e->canon = 1;
		if (t->kind == LEX_NSTRING)
			e->t = ty(
			    SIMT_NVARCHAR, t->len ? 2 * (int)t->len : 2, 0, 0);
		else
			e->t = ty(SIMT_VARCHAR, t->len ? (int)t->len : 1, 0, 0);
		if (t->len > 4000 && t->kind == LEX_NSTRING)
			e->t.maxlen = -1;
		if (t->len > 8000)
			e->t.maxlen = -1;
		break;
	case LEX_BINARY:
		ce_str(e, "X'");
		if (t->len % 2)
			ce_str(e, "0");
		for (i = 0; i < t->len; i++)
			ce_fmt(e, "%c", toupper((unsigned char)t->text[i]));
		ce_str(e, "'");
		e->t = ty(
		    SIMT_VARBINARY, t->len ? (int)(t->len + 1) / 2 : 1, 0, 0);
		e->canon = 1;
		break;
	default:
		return (p_syntax(p));
	}
	if (p->paramlits && !(t->kind == LEX_INT && t->len > 18))
		cx_param_lit(p, e, t);
	p->pos++;
	return (0);
}

/* @var */
static int
cx_var(struct parser *p, struct ce *e)
{
	struct lex_tok *t = p_tok(p);
	int idx;

	if ((idx = engine_find_var(p->s, t->text)) == -1 ||
	    tablevar_is(p->s, idx)) {
		sim_error_set(p->err, 137, 15, 2,
		    "Must declare the scalar variable \"%s\".", t->text);
		return (-1);
	}
	ce_fmt(e, ":v%d", idx);
	e->t = p->s->vars[idx].type;
	e->canon = 1;
	p->pos++;
	return (0);
}

/* Emit a constant string. */
static void
ce_conststr(struct ce *e, const char *s, int unicode)
{
	int n = (int)strlen(s);

	sq_string(&e->b, s, n);
	e->t = unicode ? ty(SIMT_NVARCHAR, n ? 2 * n : 2, 0, 0)
		       : ty(SIMT_VARCHAR, n ? n : 1, 0, 0);
	e->canon = 1;
}

/* Emit a constant int. */
static void
ce_constint(struct ce *e, long long v, int id)
{
	ce_fmt(e, "%lld", v);
	e->t = ty(id,
	    id == SIMT_BIGINT         ? 8
		: id == SIMT_SMALLINT ? 2
				      : 4,
	    0, 0);
	e->canon = 1;
}

/* @@global */
static int
cx_global(struct parser *p, struct ce *e)
{
	struct sim_session *s = p->s;
	const char *g = p_tok(p)->text + 2;

	p->pos++;
	if (strcasecmp(g, "VERSION") == 0)
		ce_conststr(e, engine_version_string, 1);
	else if (strcasecmp(g, "SPID") == 0)
		ce_constint(e, s->spid, SIMT_SMALLINT);
	else if (strcasecmp(g, "TRANCOUNT") == 0)
		ce_constint(e, s->trancount, SIMT_INT);
	else if (strcasecmp(g, "ROWCOUNT") == 0)
		ce_constint(e, s->rowcount, SIMT_INT);
	else if (strcasecmp(g, "ERROR") == 0)
		ce_constint(e, s->error, SIMT_INT);
	else if (strcasecmp(g, "IDENTITY") == 0) {
		if (s->has_identity)
			ce_fmt(e, "'%lld'", (long long)s->identity);
		else
			ce_str(e, "NULL");
		e->t = ty(SIMT_NUMERIC, 17, 38, 0);
		e->canon = 1;
	} else if (strcasecmp(g, "SERVERNAME") == 0 ||
	    strcasecmp(g, "SERVICENAME") == 0)
		ce_conststr(e,
		    strcasecmp(g, "SERVERNAME") == 0 ? s->srv->server_name
						     : "MSSQLSERVER",
		    1);
	else if (strcasecmp(g, "DBTS") == 0) {
		ce_fmt(e, "sim_dbts()");
		e->t = ty(SIMT_VARBINARY, 8, 0, 0);
		e->canon = 1;
	} else if (strcasecmp(g, "LANGUAGE") == 0)
		ce_conststr(e, "us_english", 1);
	else if (strcasecmp(g, "MAX_PRECISION") == 0)
		ce_constint(e, 38, SIMT_TINYINT);
	else if (strcasecmp(g, "LOCK_TIMEOUT") == 0)
		ce_constint(e, -1, SIMT_INT);
	else if (strcasecmp(g, "OPTIONS") == 0)
		ce_constint(e, s->nocount ? 512 : 0, SIMT_INT);
	else if (strcasecmp(g, "MICROSOFTVERSION") == 0)
		ce_constint(e, 251660240, SIMT_INT);
	else if (strcasecmp(g, "TEXTSIZE") == 0)
		ce_constint(e, 2147483647, SIMT_INT);
	else if (strcasecmp(g, "DATEFIRST") == 0)
		ce_constint(e, 7, SIMT_TINYINT);
	else if (strcasecmp(g, "FETCH_STATUS") == 0)
		ce_constint(e, -1, SIMT_INT);
	else {
		p->pos--;
		sim_error_set(p->err, 137, 15, 2,
		    "Must declare the scalar variable \"%s\".", p_tok(p)->text);
		return (-1);
	}
	return (0);
}

/* ( expr ) or ( SELECT ... ) */
static int
cx_paren(struct parser *p, struct scope *sc, struct ce *e)
{
	struct ce in;

	if (lex_is_kw(p_peek(p, 1), "SELECT"))
		return (cx_subquery(p, sc, e));
	p->pos++;
	ce_init(&in);
	if (cx_expr(p, sc, &in) == -1 || p_expect_op(p, ")") == -1) {
		ce_free(&in);
		return (-1);
	}
	ce_str(e, "(");
	ce_cat(e, &in);
	ce_str(e, ")");
	e->t = in.t;
	e->canon = in.canon;
	e->isnull = in.isnull;
	e->lit = 0;
	ce_free(&in);
	return (0);
}

/* ( SELECT ... ): a scalar subquery. */
static int
cx_subquery(struct parser *p, struct scope *sc, struct ce *e)
{
	struct cquery q;

	memset(&q, 0, sizeof(q));
	p->pos++;
	if (compile_select(p, sc, &q) == -1 || p_expect_op(p, ")") == -1) {
		cquery_free(&q);
		return (-1);
	}
	if (q.ncols != 1) {
		sim_error_set(p->err, 116, 16, 1,
		    "Only one expression can be "
		    "specified in the select list when the subquery is not "
		    "introduced with EXISTS.");
		cquery_free(&q);
		return (-1);
	}
	ce_str(e, "(");
	sbuf_add(&e->b, q.sql.data, q.sql.len);
	ce_str(e, ")");
	e->t = q.cols[0].type;
	e->canon = 1;
	cquery_free(&q);
	return (0);
}

/* CASE ... END */
static int
cx_case(struct parser *p, struct scope *sc, struct ce *e)
{
	struct ce a;
	int first = 1;

	p->pos++;
	ce_str(e, "CASE ");
	ce_init(&a);
	if (!p_kw(p, "WHEN")) {
		if (cx_expr(p, sc, &a) == -1)
			goto fail;
		ce_cat(e, &a);
		ce_str(e, " ");
	}
	while (p_accept_kw(p, "WHEN")) {
		sbuf_reset(&a.b);
		if (cx_expr(p, sc, &a) == -1)
			goto fail;
		ce_str(e, "WHEN ");
		ce_cat(e, &a);
		if (p_expect_kw(p, "THEN") == -1)
			goto fail;
		sbuf_reset(&a.b);
		a.isnull = 0;
		if (cx_expr(p, sc, &a) == -1)
			goto fail;
		ce_str(e, " THEN ");
		ce_cat(e, &a);
		ce_str(e, " ");
		if (first)
			e->t = a.t;
		else if (!a.isnull)
			e->t = ty_union(&e->t, &a.t);
		first = a.isnull && first;
	}
	if (p_accept_kw(p, "ELSE")) {
		sbuf_reset(&a.b);
		if (cx_expr(p, sc, &a) == -1)
			goto fail;
		ce_str(e, "ELSE ");
		ce_cat(e, &a);
		ce_str(e, " ");
		if (!a.isnull)
			e->t = ty_union(&e->t, &a.t);
	}
	if (p_expect_kw(p, "END") == -1)
		goto fail;
	ce_str(e, "END");
	ce_free(&a);
	return (0);
fail:
	ce_free(&a);
	return (-1);
}

/* CAST(x AS type) / CONVERT(type, x [, style]) / TRY_CAST */
static int
cx_cast(struct parser *p, struct scope *sc, struct ce *e, int convert)
{
	struct ce a, st;
	char tname[64], tbuf[80], fbuf[80];
	struct sim_type t;
	int rc = -1, nargs = 1,
	    try = p_kw(p, "TRY_CAST") || p_kw(p, "TRY_CONVERT");

	ce_init(&a);
	ce_init(&st);
	p->pos++;
	if (p_expect_op(p, "(") == -1)
		goto out;
	if (convert) {
		if ((nargs = p_type(p, &t, tname, sizeof(tname))) == -1 ||
		    p_expect_op(p, ",") == -1 || cx_expr(p, sc, &a) == -1)
			goto out;
		if (p_accept_op(p, ",") && cx_expr(p, sc, &st) == -1)
			goto out;
	} else if (cx_expr(p, sc, &a) == -1 || p_expect_kw(p, "AS") == -1 ||
	    (nargs = p_type(p, &t, tname, sizeof(tname))) == -1)
		goto out;
	if (p_expect_op(p, ")") == -1)
		goto out;
	if (nargs == 0 &&
	    (simtype_is_string(&t) || t.id == SIMT_BINARY ||
		t.id == SIMT_VARBINARY) &&
	    !simtype_is_lob(&t))
		t.maxlen = simtype_is_unicode(&t) ? 60 : 30;
	compile_typename(&t, tbuf, sizeof(tbuf));
	compile_typename(&a.t, fbuf, sizeof(fbuf));
	ce_str(e, try ? "sim_try_cast(" : "sim_cast(");
	ce_cat(e, &a);
	ce_fmt(e, ", '%s', ", tbuf);
	if (st.b.len > 0)
		ce_cat(e, &st);
	else
		ce_str(e, "NULL");
	ce_fmt(e, ", '%s')", a.isnull ? "int" : fbuf);
	e->t = t;
	e->canon = 1;
	rc = 0;
out:
	ce_free(&a);
	ce_free(&st);
	return (rc);
}

/* Column reference or function call starting with an identifier. */
static int
cx_name(struct parser *p, struct scope *sc, struct ce *e)
{
	char parts[4][129];
	int n;

	if (lex_is_op(p_peek(p, 1), "(") && p_tok(p)->kind == LEX_IDENT)
		return (cx_function(p, sc, e, p_tok(p)->text));
	if ((n = p_name(p, parts, 4)) < 1)
		return (-1);
	if (p_op(p, "(") && n >= 2 && strcasecmp(parts[n - 2], "sys") == 0 &&
	    strncasecmp(parts[n - 1], "fn_cdc_", 7) == 0) {
		char qn[140]; /* sys.fn_cdc_*: cdc_function() */

		snprintf(qn, sizeof(qn), "sys.%s", parts[n - 1]);
		p->pos--;
		return (cx_function(p, sc, e, qn));
	}
	if (p_op(p, "(")) {
		sim_error_set(p->err, 4121, 16, 1,
		    "Cannot find either column "
		    "\"%s\" or the user-defined function or aggregate "
		    "\"%s.%s\", or the name is ambiguous.",
		    parts[0], parts[0], parts[n - 1]);
		return (-1);
	}
	return (cx_colname(p, sc, parts, n, e));
}

/* EXISTS ( SELECT ... ) */
static int
cx_exists(struct parser *p, struct scope *sc, struct ce *e)
{
	struct cquery q;

	p->pos++;
	if (!p_op(p, "(") || !lex_is_kw(p_peek(p, 1), "SELECT"))
		return (p_syntax(p));
	p->pos++;
	memset(&q, 0, sizeof(q));
	if (compile_select(p, sc, &q) == -1 || p_expect_op(p, ")") == -1) {
		cquery_free(&q);
		return (-1);
	}
	ce_str(e, "EXISTS (");
	sbuf_add(&e->b, q.sql.data, q.sql.len);
	ce_str(e, ")");
	e->t = ty(SIMT_BIT, 1, 0, 0);
	e->canon = 1;
	cquery_free(&q);
	return (0);
}

static int
cx_primary(struct parser *p, struct scope *sc, struct ce *e)
{
	struct lex_tok *t = p_tok(p);

	switch (t->kind) {
	case LEX_INT:
	case LEX_DEC:
	case LEX_FLOAT:
	case LEX_STRING:
	case LEX_NSTRING:
	case LEX_BINARY:
		return (cx_literal(p, e));
	case LEX_VAR:
		return (cx_var(p, e));
	case LEX_GLOBAL:
		return (cx_global(p, e));
	case LEX_QIDENT:
		return (cx_name(p, sc, e));
	case LEX_OP:
		if (lex_is_op(t, "("))
			return (cx_paren(p, sc, e));
		return (p_syntax(p));
	case LEX_IDENT:
		break;
	default:
		return (p_syntax(p));
	}
	if (lex_is_kw(t, "NULL")) {
		p->pos++;
		ce_str(e, "NULL");
		e->t = ty(SIMT_INT, 4, 0, 0);
		e->isnull = 1;
		e->canon = 1;
		return (0);
	}
	if (lex_is_kw(t, "CASE"))
		return (cx_case(p, sc, e));
	if (lex_is_kw(t, "CAST") || lex_is_kw(t, "TRY_CAST"))
		return (cx_cast(p, sc, e, 0));
	if (lex_is_kw(t, "CONVERT") || lex_is_kw(t, "TRY_CONVERT"))
		return (cx_cast(p, sc, e, 1));
	if (lex_is_kw(t, "EXISTS"))
		return (cx_exists(p, sc, e));
	if (lex_is_reserved(t) && !lex_is_kw(t, "LEFT") &&
	    !lex_is_kw(t, "RIGHT"))
		return (p_syntax(p));
	return (cx_name(p, sc, e));
}

/* Digits of an integer literal (its precision as a decimal). */
static int
ty_digits(const struct ce *e)
{
	return (e->lit > 0 ? e->lit : 1);
}

/* The result type of arithmetic a op b. */
static struct sim_type
ty_arith(int op, const struct ce *a, const struct ce *b)
{
	const struct sim_type *x = &a->t, *y = &b->t;

	if (a->isnull)
		return (*y);
	if (b->isnull)
		return (*x);
	if (ty_is_int(x) && ty_is_int(y)) {
		if (x->id == SIMT_BIT && y->id == SIMT_BIT)
			return (ty(SIMT_INT, 4, 10, 0));
		return (ty_rank(x->id) >= ty_rank(y->id) ? *x : *y);
	}
	if (x->id == SIMT_FLOAT || y->id == SIMT_FLOAT || x->id == SIMT_REAL ||
	    y->id == SIMT_REAL)
		return (ty(SIMT_FLOAT, 8, 53, 0));
	if (((x->id == SIMT_MONEY || x->id == SIMT_SMALLMONEY) &&
		(y->id == SIMT_MONEY || y->id == SIMT_SMALLMONEY ||
		    ty_is_int(y))) ||
	    ((y->id == SIMT_MONEY || y->id == SIMT_SMALLMONEY) && ty_is_int(x)))
		return (ty(SIMT_MONEY, 8, 19, 4));
	if ((ty_is_dec(x) || ty_is_int(x)) && (ty_is_dec(y) || ty_is_int(y))) {
		struct sim_type lx = *x, ly = *y;

		if (a->lit && ty_is_int(x))
			lx = ty(SIMT_NUMERIC, 5, ty_digits(a), 0);
		if (b->lit && ty_is_int(y))
			ly = ty(SIMT_NUMERIC, 5, ty_digits(b), 0);
		return (ty_decop(op, &lx, &ly));
	}
	return (ty_rank(x->id) >= ty_rank(y->id) ? *x : *y);
}

/* Wrap e in sim_cast(e, 'type'). */
static void
ce_wrap_cast(struct ce *e, const struct sim_type *t)
{
	struct sbuf old = e->b;
	char tb[80], fb[80];

	sbuf_init(&e->b);
	compile_typename(t, tb, sizeof(tb));
	compile_typename(&e->t, fb, sizeof(fb));
	ce_str(e, "sim_cast(");
	sbuf_add(&e->b, old.data, old.len);
	ce_fmt(e, ", '%s', NULL, '%s')", tb, e->isnull ? "int" : fb);
	sbuf_free(&old);
	e->t = *t;
	e->canon = 1;
	e->col = 0;
}

/* Combine a and b (consumed) into e with a binary operator. */
static void
ce_binary(struct ce *e, struct ce *a, const char *pre, const char *mid,
    struct ce *b, const char *post)
{
	ce_str(e, pre);
	ce_cat(e, a);
	ce_str(e, mid);
	ce_cat(e, b);
	ce_str(e, post);
	ce_free(a);
	ce_free(b);
}

/* String concatenation type. */
static struct sim_type
ty_concat(const struct sim_type *a, const struct sim_type *b)
{
	int uni = simtype_is_unicode(a) || simtype_is_unicode(b);
	int n1 = ty_chars(a), n2 = ty_chars(b), n;

	n = n1 < 0 || n2 < 0 ? -1 : n1 + n2;
	if (uni)
		return (
		    ty(SIMT_NVARCHAR, n < 0 || n > 4000 ? -1 : 2 * n, 0, 0));
	return (ty(SIMT_VARCHAR, n < 0 || n > 8000 ? -1 : n, 0, 0));
}

/* expr COLLATE name: case-insensitive names keep SIMCI, others BINARY. */
static int
cx_collate(struct parser *p, struct ce *e)
{
	const char *name;

	if (!p_accept_kw(p, "COLLATE"))
		return (0);
	if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
		return (p_syntax(p));
	name = p_tok(p)->text;
	p->pos++;
	if (strstr(name, "_CI") != NULL && strstr(name, "BIN") == NULL)
		ce_str(e, " COLLATE SIMCI");
	else
		ce_str(e, " COLLATE BINARY");
	e->col = 0;
	e->collated = 1;
	return (0);
}

static int
cx_unary(struct parser *p, struct scope *sc, struct ce *e)
{
	struct ce a;

	if (p_op(p, "-") || p_op(p, "~") || p_op(p, "+")) {
		const char *op = p_tok(p)->text;

		p->pos++;
		ce_init(&a);
		if (cx_unary(p, sc, &a) == -1) {
			ce_free(&a);
			return (-1);
		}
		if (*op == '+') {
			*e = a;
			return (0);
		}
		if (*op == '-' && ty_is_dec(&a.t)) {
			/* Exact: "-x" in SQLite would make text a double. */
			int prec, scale;

			ty_ps(&a.t, &prec, &scale);
			ce_str(e, "sim_decimal_sub('0', ");
			ce_cat(e, &a);
			ce_fmt(e, ", %d, %d)", prec, scale);
			e->t = a.t;
			e->canon = 1;
			e->lit = a.lit;
			ce_free(&a);
			return (0);
		}
		ce_fmt(e, "(%s", op);
		ce_cat(e, &a);
		ce_str(e, ")");
		e->t = a.t;
		e->canon = ty_is_dec(&a.t) ? 0 : a.canon;
		e->lit = a.lit;
		ce_free(&a);
		return (0);
	}
	if (cx_primary(p, sc, e) == -1)
		return (-1);
	return (cx_collate(p, e));
}

/*
 * Decimal and money arithmetic, exact: SQLite's own operators would turn
 * the canonical text into doubles.  The result has the precision and
 * scale SQL Server gives it (ty_decop).
 */
static void
cx_arith_dec(
    struct ce *e, int op, struct ce *l, struct ce *r, const struct sim_type *t)
{
	static const char *fn[] = { "sim_decimal_add(", "sim_decimal_sub(",
		"sim_decimal_mul(", "sim_decimal_div(" };
	int prec, scale;

	ty_ps(t, &prec, &scale);
	ce_binary(e, l, fn[strchr("+-*/", op) - "+-*/"], ", ", r, "");
	ce_fmt(e, ", %d, %d)", prec, scale);
	e->t = *t;
	e->canon = 1;
}

/* Apply arithmetic op to l (in e) and r. */
static void
cx_arith(struct ce *e, int op, struct ce *l, struct ce *r)
{
	struct sim_type t;
	char mid[8];

	if (op == '+' && (simtype_is_string(&l->t) || l->isnull) &&
	    (simtype_is_string(&r->t) || r->isnull) &&
	    !(l->isnull && r->isnull)) {
		t = ty_concat(&l->t, &r->t);
		ce_binary(e, l, "(", " || ", r, ")");
		e->t = t;
		e->canon = 1;
		return;
	}
	if (simtype_is_string(&l->t) && !simtype_is_string(&r->t))
		ce_wrap_cast(l, &r->t);
	else if (simtype_is_string(&r->t) && !simtype_is_string(&l->t))
		ce_wrap_cast(r, &l->t);
	t = ty_arith(op, l, r);
	if (ty_is_dec(&t) && strchr("+-*/", op) != NULL) {
		cx_arith_dec(e, op, l, r, &t);
		return;
	}
	switch (op) {
	case '/':
		ce_binary(e, l, "sim_div(", ", ", r, ")");
		break;
	case '%':
		ce_binary(e, l, "sim_mod(", ", ", r, ")");
		break;
	case '^':
		ce_binary(e, l, "sim_xor(", ", ", r, ")");
		break;
	default:
		snprintf(mid, sizeof(mid), " %c ", op);
		ce_binary(e, l, "(", mid, r, ")");
		break;
	}
	e->t = t;
	/* int results are range-checked (8115) by the output sim_cast */
	e->canon = t.id == SIMT_BIGINT || t.id == SIMT_FLOAT;
}

/* Binary operator levels: mul (* / %) and add (+ - & | ^). */
static int
cx_binlevel(struct parser *p, struct scope *sc, struct ce *e, int level)
{
	struct ce l, r;
	const char *ops = level == 0 ? "*/%" : "+-&|^";
	int op;

	ce_init(&l);
	if ((level == 0 ? cx_unary(p, sc, &l) : cx_binlevel(p, sc, &l, 0)) ==
	    -1) {
		ce_free(&l);
		return (-1);
	}
	while (p_tok(p)->kind == LEX_OP && strlen(p_tok(p)->text) == 1 &&
	    strchr(ops, p_tok(p)->text[0]) != NULL) {
		op = p_tok(p)->text[0];
		p->pos++;
		ce_init(&r);
		if ((level == 0 ? cx_unary(p, sc, &r)
				: cx_binlevel(p, sc, &r, 0)) == -1) {
			ce_free(&l);
			ce_free(&r);
			ce_init(e); /* e may alias l's buffer */
			return (-1);
		}
		ce_init(e);
		cx_arith(e, op, &l, &r);
		l = *e;
	}
	*e = l;
	return (0);
}

static int
cx_add(struct parser *p, struct scope *sc, struct ce *e)
{
	ce_free(e);
	return (cx_binlevel(p, sc, e, 1));
}

/* Make the two sides of a comparison compare as SQL Server does. */
static void
cx_cmp_fix(struct ce *l, struct ce *r)
{
	if (simtype_is_string(&l->t) && simtype_is_string(&r->t)) {
		if (!l->collated && !r->collated)
			ce_str(l, " COLLATE SIMCI");
		return;
	}
	if (simtype_is_string(&l->t) && !r->isnull &&
	    !simtype_is_string(&r->t) && !l->isnull)
		ce_wrap_cast(l, &r->t);
	else if (simtype_is_string(&r->t) && !l->isnull &&
	    !simtype_is_string(&l->t) && !r->isnull)
		ce_wrap_cast(r, &l->t);
	if (ty_is_dec(&l->t) && ty_is_dec(&r->t) && !l->col && !r->col)
		ce_str(l, " COLLATE SIMDEC");
	else if (ty_is_dec(&l->t) && !l->col && !ty_is_dec(&r->t) && !r->isnull)
		ce_wrap_cast(l, &(struct sim_type){ SIMT_FLOAT, 8, 53, 0 });
	else if (ty_is_dec(&r->t) && !r->col && !ty_is_dec(&l->t) && !l->isnull)
		ce_wrap_cast(r, &(struct sim_type){ SIMT_FLOAT, 8, 53, 0 });
}

/* IN ( list | SELECT ) after the left operand. */
static int
cx_in(struct parser *p, struct scope *sc, struct ce *e, struct ce *l, int neg)
{
	struct cquery q;
	struct ce a;
	int first = 1;

	if (p_expect_op(p, "(") == -1)
		return (-1);
	ce_str(e, "(");
	ce_cat(e, l);
	if (simtype_is_string(&l->t))
		ce_str(e, " COLLATE SIMCI");
	ce_str(e, neg ? " NOT IN (" : " IN (");
	if (p_kw(p, "SELECT")) {
		memset(&q, 0, sizeof(q));
		if (compile_select(p, sc, &q) == -1) {
			cquery_free(&q);
			return (-1);
		}
		sbuf_add(&e->b, q.sql.data, q.sql.len);
		cquery_free(&q);
	} else {
		do {
			ce_init(&a);
			if (cx_expr(p, sc, &a) == -1) {
				ce_free(&a);
				return (-1);
			}
			if (!first)
				ce_str(e, ", ");
			ce_cat(e, &a);
			ce_free(&a);
			first = 0;
		} while (p_accept_op(p, ","));
	}
	if (p_expect_op(p, ")") == -1)
		return (-1);
	ce_str(e, "))");
	return (0);
}

/* The rest of a predicate after its left operand l. */
static int
cx_pred_rest(struct parser *p, struct scope *sc, struct ce *e, struct ce *l)
{
	static const char *cmp[][2] = { { "=", "=" }, { "<>", "<>" },
		{ "!=", "<>" }, { "<", "<" }, { ">", ">" }, { "<=", "<=" },
		{ ">=", ">=" }, { "!<", ">=" }, { "!>", "<=" },
		{ NULL, NULL } };
	struct ce r, h;
	char mid[16];
	int i, neg;

	for (i = 0; cmp[i][0] != NULL; i++) {
		if (!p_op(p, cmp[i][0]))
			continue;
		p->pos++;
		ce_init(&r);
		if (cx_add(p, sc, &r) == -1) {
			ce_free(&r);
			return (-1);
		}
		cx_cmp_fix(l, &r);
		snprintf(mid, sizeof(mid), " %s ", cmp[i][1]);
		ce_binary(e, l, "(", mid, &r, ")");
		return (0);
	}
	if (p_accept_kw(p, "IS")) {
		neg = p_accept_kw(p, "NOT");
		if (p_expect_kw(p, "NULL") == -1)
			return (-1);
		ce_str(e, "(");
		ce_cat(e, l);
		ce_str(e, neg ? " IS NOT NULL)" : " IS NULL)");
		return (0);
	}
	neg = p_accept_kw(p, "NOT");
	if (p_accept_kw(p, "IN"))
		return (cx_in(p, sc, e, l, neg));
	ce_init(&r);
	ce_init(&h);
	if (p_accept_kw(p, "BETWEEN")) {
		if (cx_add(p, sc, &r) == -1 || p_expect_kw(p, "AND") == -1 ||
		    cx_add(p, sc, &h) == -1)
			goto fail;
		cx_cmp_fix(l, &r);
		ce_str(e, "(");
		ce_cat(e, l);
		ce_str(e, neg ? " NOT BETWEEN " : " BETWEEN ");
		ce_binary(e, &r, "", " AND ", &h, ")");
		return (0);
	}
	if (p_accept_kw(p, "LIKE")) {
		if (cx_add(p, sc, &r) == -1)
			goto fail;
		ce_str(e, neg ? "(NOT sim_like(" : "(sim_like(");
		ce_cat(e, l);
		ce_str(e, ", ");
		ce_cat(e, &r);
		if (p_accept_kw(p, "ESCAPE")) {
			if (cx_add(p, sc, &h) == -1)
				goto fail;
			ce_str(e, ", ");
			ce_cat(e, &h);
		}
		ce_str(e, "))");
		ce_free(&r);
		ce_free(&h);
		return (0);
	}
	if (neg) {
		p->pos--;
		goto fail_syntax;
	}
	ce_free(&r);
	ce_free(&h);
	*e = *l;
	ce_init(l);
	return (1);
fail_syntax:
	p_syntax(p);
fail:
	ce_free(&r);
	ce_free(&h);
	return (-1);
}

static int
cx_pred(struct parser *p, struct scope *sc, struct ce *e)
{
	struct ce l;
	int rc;

	ce_init(&l);
	if (cx_add(p, sc, &l) == -1) {
		ce_free(&l);
		return (-1);
	}
	ce_init(e);
	rc = cx_pred_rest(p, sc, e, &l);
	if (rc == 1)
		return (0);
	ce_free(&l);
	if (rc == 0) {
		e->t = ty(SIMT_BIT, 1, 0, 0);
		e->canon = 1;
	}
	return (rc);
}

static int
cx_not(struct parser *p, struct scope *sc, struct ce *e)
{
	struct ce a;

	if (!p_accept_kw(p, "NOT"))
		return (cx_pred(p, sc, e));
	ce_init(&a);
	if (cx_not(p, sc, &a) == -1) {
		ce_free(&a);
		return (-1);
	}
	ce_init(e);
	ce_str(e, "(NOT ");
	ce_cat(e, &a);
	ce_str(e, ")");
	e->t = ty(SIMT_BIT, 1, 0, 0);
	e->canon = 1;
	ce_free(&a);
	return (0);
}

/* AND (level 0) and OR (level 1). */
static int
cx_logic(struct parser *p, struct scope *sc, struct ce *e, int level)
{
	struct ce l, r;
	const char *kw = level == 0 ? "AND" : "OR";

	ce_init(&l);
	if ((level == 0 ? cx_not(p, sc, &l) : cx_logic(p, sc, &l, 0)) == -1) {
		ce_free(&l);
		return (-1);
	}
	while (p_accept_kw(p, kw)) {
		ce_init(&r);
		if ((level == 0 ? cx_not(p, sc, &r) : cx_logic(p, sc, &r, 0)) ==
		    -1) {
			ce_free(&l);
			ce_free(&r);
			ce_init(e); /* e may alias l's buffer */
			return (-1);
		}
		ce_init(e);
		ce_binary(e, &l, "(", level == 0 ? " AND " : " OR ", &r, ")");
		e->t = ty(SIMT_BIT, 1, 0, 0);
		e->canon = 1;
		l = *e;
	}
	*e = l;
	return (0);
}

static int
cx_expr(struct parser *p, struct scope *sc, struct ce *e)
{
	ce_free(e);
	return (cx_logic(p, sc, e, 1));
}

#define MAXARGS 10

struct fargs {
	struct ce a[MAXARGS];
	int n;
	int distinct;
	int star;
	char part[32]; /* DATEADD/DATEDIFF/DATEPART */
};

static void
fargs_free(struct fargs *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		ce_free(&f->a[i]);
}

/* Is the function's first argument a datepart keyword? */
static int
fn_has_datepart(const char *name)
{
	return (strcasecmp(name, "DATEADD") == 0 ||
	    strcasecmp(name, "DATEDIFF") == 0 ||
	    strcasecmp(name, "DATEDIFF_BIG") == 0 ||
	    strcasecmp(name, "DATEPART") == 0 ||
	    strcasecmp(name, "DATENAME") == 0);
}

/* Parse "( args )" of a function call. */
static int
fargs_parse(
    struct parser *p, struct scope *sc, const char *name, struct fargs *f)
{
	memset(f, 0, sizeof(*f));
	if (p_expect_op(p, "(") == -1)
		return (-1);
	if (p_accept_op(p, ")"))
		return (0);
	if (p_op(p, "*") && lex_is_op(p_peek(p, 1), ")")) {
		p->pos += 2;
		f->star = 1;
		return (0);
	}
	if (p_accept_kw(p, "DISTINCT"))
		f->distinct = 1;
	else
		p_accept_kw(p, "ALL");
	if (fn_has_datepart(name)) {
		if (p_tok(p)->kind != LEX_IDENT)
			return (p_syntax(p));
		snprintf(f->part, sizeof(f->part), "%s", p_tok(p)->text);
		p->pos++;
		if (p_expect_op(p, ",") == -1)
			return (-1);
	}
	do {
		if (f->n == MAXARGS)
			return (p_syntax(p));
		ce_init(&f->a[f->n]);
		if (cx_expr(p, sc, &f->a[f->n++]) == -1)
			return (-1);
	} while (p_accept_op(p, ","));
	return (p_expect_op(p, ")"));
}

/* Emit name(a0, a1, ...). */
static void
ce_call(struct ce *e, const char *fn, struct fargs *f, int from)
{
	int i;

	ce_fmt(e, "%s(", fn);
	for (i = from; i < f->n; i++) {
		if (i > from)
			ce_str(e, ", ");
		ce_cat(e, &f->a[i]);
	}
	ce_str(e, ")");
}

/* Check the argument count of a function. */
static int
fn_nargs(struct parser *p, const char *name, struct fargs *f, int lo, int hi)
{
	if (f->n >= lo && f->n <= hi && !f->star)
		return (0);
	sim_error_set(p->err, 174, 15, 1,
	    "The %s function requires %d "
	    "argument(s).",
	    name, lo);
	return (-1);
}

/* COUNT, COUNT_BIG, SUM, AVG, MIN, MAX, STDEV... */
static int
fn_aggregate(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	const char *d = f->distinct ? "DISTINCT " : "";
	struct sim_type *t = f->n > 0 ? &f->a[0].t : NULL;

	if (strcasecmp(name, "COUNT") == 0 ||
	    strcasecmp(name, "COUNT_BIG") == 0) {
		if (f->star)
			ce_str(e, "count(*)");
		else {
			if (fn_nargs(p, name, f, 1, 1) == -1)
				return (-1);
			ce_fmt(e, "count(%s", d);
			ce_cat(e, &f->a[0]);
			ce_str(e, ")");
		}
		e->t = strcasecmp(name, "COUNT") == 0
		    ? ty(SIMT_INT, 4, 10, 0)
		    : ty(SIMT_BIGINT, 8, 19, 0);
		e->canon = 1;
		return (0);
	}
	if (fn_nargs(p, name, f, 1, 1) == -1)
		return (-1);
	ce_fmt(e, "%s(%s",
	    strcasecmp(name, "SUM") == 0       ? "sum"
		: strcasecmp(name, "AVG") == 0 ? "avg"
		: strcasecmp(name, "MIN") == 0 ? "min"
					       : "max",
	    d);
	ce_cat(e, &f->a[0]);
	ce_str(e, ")");
	e->t = *t;
	e->canon = f->a[0].canon;
	if (strcasecmp(name, "SUM") == 0 || strcasecmp(name, "AVG") == 0) {
		e->canon = 0;
		if (ty_is_int(t))
			e->t =
			    t->id == SIMT_BIGINT ? *t : ty(SIMT_INT, 4, 10, 0);
		else if (t->id == SIMT_DECIMAL || t->id == SIMT_NUMERIC)
			e->t = ty(t->id, 17, 38,
			    strcasecmp(name, "AVG") == 0 && t->scale < 6
				? 6
				: t->scale);
		else if (t->id == SIMT_REAL)
			e->t = ty(SIMT_FLOAT, 8, 53, 0);
		else if (t->id == SIMT_SMALLMONEY)
			e->t = ty(SIMT_MONEY, 8, 19, 4);
		if (strcasecmp(name, "AVG") == 0 && ty_is_int(t)) {
			sbuf_reset(&e->b);
			ce_fmt(e, "CAST(avg(%s", d);
			ce_cat(e, &f->a[0]);
			ce_str(e, ") AS INTEGER)");
		}
	}
	return (0);
}

/* Functions answered by engine SQL functions (catalog.c). */
static int
fn_catalog(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	static const struct {
		const char *name, *fn, *type;
		int lo, hi;
	} fns[] = { { "OBJECT_ID", "sim_object_id", "int", 1, 2 },
		{ "OBJECT_NAME", "sim_object_name", "nvarchar(128)", 1, 2 },
		{ "OBJECT_SCHEMA_NAME", "sim_object_schema_name",
		    "nvarchar(128)", 1, 2 },
		{ "SCHEMA_NAME", "sim_schema_name", "nvarchar(128)", 0, 1 },
		{ "SCHEMA_ID", "sim_schema_id", "int", 0, 1 },
		{ "DB_NAME", "sim_db_name", "nvarchar(128)", 0, 1 },
		{ "DB_ID", "sim_db_id", "smallint", 0, 1 },
		{ "COL_NAME", "sim_col_name", "nvarchar(128)", 2, 2 },
		{ "COLUMNPROPERTY", "sim_columnproperty", "int", 3, 3 },
		{ "OBJECTPROPERTY", "sim_objectproperty", "int", 2, 2 },
		{ "SERVERPROPERTY", "sim_serverproperty", "sql_variant", 1, 1 },
		{ "DATABASEPROPERTYEX", "sim_databasepropertyex", "sql_variant",
		    2, 2 },
		{ "HAS_PERMS_BY_NAME", "sim_has_perms_by_name", "int", 3, 5 },
		{ "IS_ROLEMEMBER", "sim_is_rolemember", "int", 1, 2 },
		{ "IS_MEMBER", "sim_is_rolemember", "int", 1, 1 },
		{ "IS_SRVROLEMEMBER", "sim_is_srvrolemember", "int", 1, 2 },
		{ "IDENT_CURRENT", "sim_ident_current", "numeric(38,0)", 1, 1 },
		{ "NEWID", "sim_newid", "uniqueidentifier", 0, 0 },
		{ "TYPE_NAME", "sim_type_name", "nvarchar(128)", 1, 1 },
		{ "TYPE_ID", "sim_type_id", "int", 1, 1 },
		{ "CHANGE_TRACKING_CURRENT_VERSION", "sim_ct_current_version",
		    "bigint", 0, 0 },
		{ "CHANGE_TRACKING_MIN_VALID_VERSION",
		    "sim_ct_min_valid_version", "bigint", 1, 1 },
		{ "CHANGE_TRACKING_IS_COLUMN_IN_MASK",
		    "sim_ct_is_column_in_mask", "bit", 2, 2 },
		{ NULL, NULL, NULL, 0, 0 } };
	int i;

	for (i = 0; fns[i].name != NULL; i++)
		if (strcasecmp(fns[i].name, name) == 0)
			break;
	if (fns[i].name == NULL)
		return (1);
	if (fn_nargs(p, name, f, fns[i].lo, fns[i].hi) == -1)
		return (-1);
	if (strcasecmp(name, "CHANGE_TRACKING_IS_COLUMN_IN_MASK") == 0 &&
	    !ty_is_int(&f->a[0].t) && !f->a[0].isnull) {
		sim_error_set(p->err, 8116, 16, 1,
		    "Argument data type %s is invalid for argument 1 of "
		    "change_tracking_is_column_in_mask function.",
		    simtype_name(&f->a[0].t));
		return (-1);
	}
	ce_call(e, fns[i].fn, f, 0);
	e->t = ty_named(fns[i].type);
	e->canon = strcmp(fns[i].type, "numeric(38,0)") != 0;
	return (0);
}

/* Functions whose answer is a session constant. */
static int
fn_session(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	struct sim_session *s = p->s;

	if (f->n > 0 && strcasecmp(name, "USER_NAME") != 0 &&
	    strcasecmp(name, "SUSER_NAME") != 0 &&
	    strcasecmp(name, "SUSER_SNAME") != 0)
		return (1);
	if (strcasecmp(name, "USER_NAME") == 0 && f->n == 0)
		ce_conststr(e, s->user, 1);
	else if (strcasecmp(name, "SUSER_NAME") == 0 ||
	    strcasecmp(name, "SUSER_SNAME") == 0 ||
	    strcasecmp(name, "ORIGINAL_LOGIN") == 0)
		ce_conststr(e, s->login, 1);
	else if (strcasecmp(name, "APP_NAME") == 0)
		ce_conststr(e, s->appname, 1);
	else if (strcasecmp(name, "HOST_NAME") == 0)
		ce_conststr(e, "mssqlsim", 1);
	else if (strcasecmp(name, "SCOPE_IDENTITY") == 0) {
		if (s->has_identity)
			ce_fmt(e, "'%lld'", (long long)s->identity);
		else
			ce_str(e, "NULL");
		e->t = ty(SIMT_NUMERIC, 17, 38, 0);
		e->canon = 1;
	} else if (strcasecmp(name, "XACT_STATE") == 0)
		ce_constint(e, s->trancount > 0, SIMT_SMALLINT);
	else if (strncasecmp(name, "ERROR_", 6) == 0 && !s->incatch) {
		ce_str(e, "NULL");
		e->t = strcasecmp(name, "ERROR_MESSAGE") == 0
		    ? ty(SIMT_NVARCHAR, 8000, 0, 0)
		    : ty(SIMT_INT, 4, 10, 0);
		e->canon = 1;
	} else if (strcasecmp(name, "ERROR_NUMBER") == 0)
		ce_constint(e, s->caught.number, SIMT_INT);
	else if (strcasecmp(name, "ERROR_SEVERITY") == 0)
		ce_constint(e, s->caught.class, SIMT_INT);
	else if (strcasecmp(name, "ERROR_STATE") == 0)
		ce_constint(e, s->caught.state, SIMT_INT);
	else if (strcasecmp(name, "ERROR_LINE") == 0)
		ce_constint(e, s->caught.line, SIMT_INT);
	else if (strcasecmp(name, "ERROR_MESSAGE") == 0) {
		ce_conststr(e, s->caught.msg, 1);
		e->t = ty(SIMT_NVARCHAR, 8000, 0, 0);
	} else if (strcasecmp(name, "ERROR_PROCEDURE") == 0) {
		ce_str(e, "NULL");
		e->t = ty(SIMT_NVARCHAR, 256, 0, 0);
		e->canon = 1;
	} else
		return (1);
	if (f->n > 0 && e->b.len > 0) {
		/* USER_NAME(id) etc.: only the current principal. */
		sbuf_reset(&e->b);
		ce_call(e, "sim_principal_name", f, 0);
	}
	return (0);
}

/* Date and time functions. */
static int
fn_datetime(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	static const struct {
		const char *name, *type;
		int kind;
	} now[] = { { "GETDATE", "datetime", 0 },
		{ "CURRENT_TIMESTAMP", "datetime", 0 },
		{ "GETUTCDATE", "datetime", 1 },
		{ "SYSDATETIME", "datetime2(7)", 0 },
		{ "SYSUTCDATETIME", "datetime2(7)", 1 },
		{ "SYSDATETIMEOFFSET", "datetimeoffset(7)", 2 },
		{ NULL, NULL, 0 } };
	int i;

	for (i = 0; now[i].name != NULL; i++) {
		if (strcasecmp(name, now[i].name) == 0) {
			if (fn_nargs(p, name, f, 0, 0) == -1)
				return (-1);
			ce_fmt(e, "sim_cast(sim_now(%d), '%s', NULL, '%s')",
			    now[i].kind, now[i].type,
			    now[i].kind == 2 ? "datetimeoffset(7)"
					     : "datetime2(7)");
			e->t = ty_named(now[i].type);
			e->canon = 1;
			return (0);
		}
	}
	if (strcasecmp(name, "TODATETIMEOFFSET") == 0) {
		/* Debezium's CDC query; sim_todatetimeoffset in cdc_query.c */
		if (fn_nargs(p, name, f, 2, 2) == -1)
			return (-1);
		e->t = ty(SIMT_DATETIMEOFFSET, 10, 34,
		    f->a[0].t.id == SIMT_DATETIME2      ? f->a[0].t.scale
			: f->a[0].t.id == SIMT_DATETIME ? 3
							: 7);
		ce_str(e, "sim_todatetimeoffset(");
		ce_cat(e, &f->a[0]);
		ce_str(e, ", ");
		ce_cat(e, &f->a[1]);
		ce_fmt(e, ", %d)", e->t.scale);
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "DATEADD") == 0) {
		if (fn_nargs(p, name, f, 2, 2) == -1)
			return (-1);
		e->t = simtype_is_string(&f->a[1].t) ? ty_named("datetime")
						     : f->a[1].t;
		ce_fmt(e, "sim_dateadd('%s', ", f->part);
		ce_cat(e, &f->a[0]);
		ce_str(e, ", ");
		ce_cat(e, &f->a[1]);
		ce_str(e, ")");
		return (0);
	}
	if (strcasecmp(name, "DATEDIFF") == 0 ||
	    strcasecmp(name, "DATEDIFF_BIG") == 0) {
		if (fn_nargs(p, name, f, 2, 2) == -1)
			return (-1);
		ce_fmt(e, "sim_datediff('%s', ", f->part);
		ce_cat(e, &f->a[0]);
		ce_str(e, ", ");
		ce_cat(e, &f->a[1]);
		ce_str(e, ")");
		e->t = strcasecmp(name, "DATEDIFF") == 0
		    ? ty(SIMT_INT, 4, 10, 0)
		    : ty(SIMT_BIGINT, 8, 19, 0);
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "DATEPART") == 0 ||
	    strcasecmp(name, "YEAR") == 0 || strcasecmp(name, "MONTH") == 0 ||
	    strcasecmp(name, "DAY") == 0) {
		if (fn_nargs(p, name, f, 1, 1) == -1)
			return (-1);
		ce_fmt(e, "sim_datepart('%s', ", f->part[0] ? f->part : name);
		ce_cat(e, &f->a[0]);
		ce_str(e, ")");
		e->t = ty(SIMT_INT, 4, 10, 0);
		e->canon = 1;
		return (0);
	}
	return (1);
}

/* ISNULL, COALESCE, NULLIF, IIF. */
static int
fn_null(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	int i;

	if (strcasecmp(name, "ISNULL") == 0) {
		if (fn_nargs(p, name, f, 2, 2) == -1)
			return (-1);
		ce_call(e, "ifnull", f, 0);
		e->t = f->a[0].isnull ? f->a[1].t : f->a[0].t;
		e->canon = 0;
		return (0);
	}
	if (strcasecmp(name, "COALESCE") == 0) {
		if (fn_nargs(p, name, f, 2, MAXARGS) == -1)
			return (-1);
		ce_call(e, "coalesce", f, 0);
		e->t = f->a[0].t;
		for (i = 1; i < f->n; i++)
			if (f->a[i - 1].isnull)
				e->t = f->a[i].t;
			else if (!f->a[i].isnull)
				e->t = ty_union(&e->t, &f->a[i].t);
		return (0);
	}
	if (strcasecmp(name, "NULLIF") == 0) {
		if (fn_nargs(p, name, f, 2, 2) == -1)
			return (-1);
		ce_call(e, "nullif", f, 0);
		e->t = f->a[0].t;
		e->canon = f->a[0].canon;
		return (0);
	}
	if (strcasecmp(name, "IIF") == 0) {
		if (fn_nargs(p, name, f, 3, 3) == -1)
			return (-1);
		ce_str(e, "(CASE WHEN ");
		ce_cat(e, &f->a[0]);
		ce_str(e, " THEN ");
		ce_cat(e, &f->a[1]);
		ce_str(e, " ELSE ");
		ce_cat(e, &f->a[2]);
		ce_str(e, " END)");
		e->t = ty_rank(f->a[2].t.id) > ty_rank(f->a[1].t.id)
		    ? f->a[2].t
		    : f->a[1].t;
		return (0);
	}
	return (1);
}

/* DATALENGTH(x) */
static void
fn_datalength(struct fargs *f, struct ce *e)
{
	struct sim_type *t = &f->a[0].t;

	if (simtype_is_unicode(t))
		ce_str(e, "(length(");
	else
		ce_str(e, "(length(CAST(");
	ce_cat(e, &f->a[0]);
	if (simtype_is_unicode(t))
		ce_str(e, ") * 2)");
	else
		ce_str(e, " AS BLOB)))");
	if (!simtype_is_string(t) && !simtype_is_binary(t) && t->maxlen > 0) {
		sbuf_reset(&e->b);
		ce_str(e, "(CASE WHEN ");
		ce_cat(e, &f->a[0]);
		ce_fmt(e, " IS NULL THEN NULL ELSE %d END)", t->maxlen);
	}
	e->t = simtype_is_lob(t) ? ty(SIMT_BIGINT, 8, 19, 0)
				 : ty(SIMT_INT, 4, 10, 0);
	e->canon = 1;
}

static int fn_string2(
    struct parser *, const char *, struct fargs *, struct ce *);

/* String functions. */
static int
fn_string(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	if (strcasecmp(name, "LEN") == 0) {
		if (fn_nargs(p, name, f, 1, 1) == -1)
			return (-1);
		ce_str(e, "length(rtrim(CAST(");
		ce_cat(e, &f->a[0]);
		ce_str(e, " AS TEXT), ' '))");
		e->t = simtype_is_lob(&f->a[0].t) ? ty(SIMT_BIGINT, 8, 19, 0)
						  : ty(SIMT_INT, 4, 10, 0);
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "DATALENGTH") == 0) {
		if (fn_nargs(p, name, f, 1, 1) == -1)
			return (-1);
		fn_datalength(f, e);
		return (0);
	}
	if (strcasecmp(name, "UPPER") == 0 || strcasecmp(name, "LOWER") == 0 ||
	    strcasecmp(name, "LTRIM") == 0 || strcasecmp(name, "RTRIM") == 0 ||
	    strcasecmp(name, "TRIM") == 0) {
		if (fn_nargs(p, name, f, 1, 1) == -1)
			return (-1);
		ce_fmt(e, "%s(",
		    name[0] == 'U' || name[0] == 'u'       ? "upper"
			: name[1] == 'O' || name[1] == 'o' ? "lower"
			: name[0] == 'L' || name[0] == 'l' ? "ltrim"
			: name[0] == 'R' || name[0] == 'r' ? "rtrim"
							   : "trim");
		ce_cat(e, &f->a[0]);
		ce_str(e,
		    strncasecmp(name, "UPP", 3) == 0 ||
			    strncasecmp(name, "LOW", 3) == 0
			? ")"
			: ", ' ')");
		e->t = f->a[0].t;
		if (e->t.id == SIMT_CHAR)
			e->t.id = SIMT_VARCHAR;
		if (e->t.id == SIMT_NCHAR)
			e->t.id = SIMT_NVARCHAR;
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "SUBSTRING") == 0) {
		if (fn_nargs(p, name, f, 3, 3) == -1)
			return (-1);
		ce_call(e, "substr", f, 0);
		e->t = f->a[0].t;
		if (e->t.id == SIMT_CHAR)
			e->t.id = SIMT_VARCHAR;
		if (e->t.id == SIMT_NCHAR)
			e->t.id = SIMT_NVARCHAR;
		e->canon = 1;
		return (0);
	}
	return (fn_string2(p, name, f, e));
}

/* String functions, continued. */
static int
fn_string2(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	int i, n = 0, uni = 0;

	if (strcasecmp(name, "LEFT") == 0 || strcasecmp(name, "RIGHT") == 0) {
		if (fn_nargs(p, name, f, 2, 2) == -1)
			return (-1);
		ce_str(e, "(CASE WHEN ");
		ce_cat(e, &f->a[1]);
		ce_str(e, " <= 0 THEN '' ELSE substr(");
		ce_cat(e, &f->a[0]);
		ce_str(e,
		    toupper((unsigned char)name[0]) == 'L' ? ", 1, " : ", -(");
		ce_cat(e, &f->a[1]);
		ce_str(e,
		    toupper((unsigned char)name[0]) == 'L' ? ") END)"
							   : ")) END)");
		e->t = simtype_is_unicode(&f->a[0].t)
		    ? ty(SIMT_NVARCHAR, f->a[0].t.maxlen, 0, 0)
		    : ty(SIMT_VARCHAR, f->a[0].t.maxlen, 0, 0);
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "REPLACE") == 0) {
		if (fn_nargs(p, name, f, 3, 3) == -1)
			return (-1);
		ce_call(e, "replace", f, 0);
		e->t = simtype_is_unicode(&f->a[0].t)
		    ? ty(SIMT_NVARCHAR, f->a[0].t.maxlen < 0 ? -1 : 8000, 0, 0)
		    : ty(SIMT_VARCHAR, f->a[0].t.maxlen < 0 ? -1 : 8000, 0, 0);
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "CONCAT") == 0) {
		if (fn_nargs(p, name, f, 2, MAXARGS) == -1)
			return (-1);
		ce_str(e, "(");
		for (i = 0; i < f->n; i++) {
			ce_str(e, i ? " || ifnull(CAST(" : "ifnull(CAST(");
			ce_cat(e, &f->a[i]);
			ce_str(e, " AS TEXT), '')");
			uni |= simtype_is_unicode(&f->a[i].t);
			if (n >= 0 && ty_chars(&f->a[i].t) >= 0)
				n += simtype_is_string(&f->a[i].t)
				    ? ty_chars(&f->a[i].t)
				    : 30;
			else
				n = -1;
		}
		ce_str(e, ")");
		e->t = uni
		    ? ty(SIMT_NVARCHAR, n < 0 || n > 4000 ? -1 : 2 * n, 0, 0)
		    : ty(SIMT_VARCHAR, n < 0 || n > 8000 ? -1 : n, 0, 0);
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "CHARINDEX") == 0) {
		if (fn_nargs(p, name, f, 2, 2) == -1)
			return (-1);
		ce_str(e, "instr(lower(");
		ce_cat(e, &f->a[1]);
		ce_str(e, "), lower(");
		ce_cat(e, &f->a[0]);
		ce_str(e, "))");
		e->t = ty(SIMT_INT, 4, 10, 0);
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "REPLICATE") == 0 ||
	    strcasecmp(name, "SPACE") == 0) {
		int rep = toupper((unsigned char)name[0]) == 'R';

		if (fn_nargs(p, name, f, rep ? 2 : 1, rep ? 2 : 1) == -1)
			return (-1);
		ce_str(e, "(CASE WHEN ");
		ce_cat(e, &f->a[rep]);
		ce_str(e, " < 0 THEN NULL WHEN ");
		ce_cat(e, &f->a[rep]);
		ce_str(e, " = 0 THEN '' ELSE ");
		if (rep) {
			ce_str(e, "replace(printf('%.*c', ");
			ce_cat(e, &f->a[1]);
			ce_str(e, ", 'x'), 'x', ");
			ce_cat(e, &f->a[0]);
			ce_str(e, ")");
		} else {
			ce_str(e, "printf('%*s', ");
			ce_cat(e, &f->a[0]);
			ce_str(e, ", '')");
		}
		ce_str(e, " END)");
		e->t = rep && simtype_is_unicode(&f->a[0].t)
		    ? ty(SIMT_NVARCHAR, 8000, 0, 0)
		    : ty(SIMT_VARCHAR, 8000, 0, 0);
		if (rep && f->a[0].t.maxlen < 0)
			e->t.maxlen = -1;
		e->canon = 1;
		return (0);
	}
	if (strcasecmp(name, "QUOTENAME") == 0) {
		if (fn_nargs(p, name, f, 1, 1) == -1)
			return (-1);
		ce_str(e, "('[' || replace(");
		ce_cat(e, &f->a[0]);
		ce_str(e, ", ']', ']]') || ']')");
		e->t = ty(SIMT_NVARCHAR, 516, 0, 0);
		e->canon = 1;
		return (0);
	}
	return (1);
}

/* Numeric functions. */
static int
fn_numeric(struct parser *p, const char *name, struct fargs *f, struct ce *e)
{
	if (strcasecmp(name, "ABS") == 0) {
		if (fn_nargs(p, name, f, 1, 1) == -1)
			return (-1);
		ce_call(e, "abs", f, 0);
		e->t = f->a[0].t;
		e->canon = !ty_is_dec(&e->t);
		return (0);
	}
	if (strcasecmp(name, "ROUND") == 0) {
		if (fn_nargs(p, name, f, 2, 3) == -1)
			return (-1);
		f->n = 2;
		ce_call(e, "round", f, 0);
		e->t = f->a[0].t;
		if (ty_is_int(&e->t)) {
			sbuf_reset(&e->b);
			ce_call(e, "sim_round_int", f, 0);
		}
		e->canon = ty_is_int(&e->t) || e->t.id == SIMT_FLOAT;
		return (0);
	}
	if (strcasecmp(name, "FLOOR") == 0 ||
	    strcasecmp(name, "CEILING") == 0) {
		if (fn_nargs(p, name, f, 1, 1) == -1)
			return (-1);
		ce_call(e,
		    toupper((unsigned char)name[0]) == 'F' ? "sim_floor"
							   : "sim_ceiling",
		    f, 0);
		e->t = f->a[0].t;
		if (ty_is_dec(&e->t))
			e->t.scale = 0;
		e->canon = 0;
		return (0);
	}
	return (1);
}

/* A function call name(args) [OVER (...)]. */
static int
cx_function(struct parser *p, struct scope *sc, struct ce *e, const char *fname)
{
	struct fargs f;
	char name[129], cfn[64];
	int rc;

	snprintf(name, sizeof(name), "%s", fname);
	p->pos++;
	if (fargs_parse(p, sc, name, &f) == -1) {
		fargs_free(&f);
		return (-1);
	}
	if (strcasecmp(name, "COUNT") == 0 ||
	    strcasecmp(name, "COUNT_BIG") == 0 ||
	    strcasecmp(name, "SUM") == 0 || strcasecmp(name, "AVG") == 0 ||
	    strcasecmp(name, "MIN") == 0 || strcasecmp(name, "MAX") == 0)
		rc = fn_aggregate(p, name, &f, e);
	else if ((rc = fn_catalog(p, name, &f, e)) == 1 &&
	    (rc = fn_session(p, name, &f, e)) == 1 &&
	    (rc = fn_datetime(p, name, &f, e)) == 1 &&
	    (rc = fn_null(p, name, &f, e)) == 1 &&
	    (rc = fn_string(p, name, &f, e)) == 1 &&
	    (rc = fn_numeric(p, name, &f, e)) == 1) {
		if ((rc = cdc_function(name, f.n, cfn, sizeof(cfn), &e->t,
			 p->err)) != 1) { /* cdc_query.c: sys.fn_cdc_* */
			if (rc == 0)
				ce_call(e, cfn, &f, 0);
			e->canon = 1;
		} else if (strcasecmp(name, "ROW_NUMBER") == 0 ||
		    strcasecmp(name, "RANK") == 0 ||
		    strcasecmp(name, "DENSE_RANK") == 0) {
			ce_fmt(e, "%s()", name);
			e->t = ty(SIMT_BIGINT, 8, 19, 0);
			e->canon = 1;
			rc = 0;
		} else {
			sim_error_set(p->err, 195, 15, 10,
			    "'%s' is not a "
			    "recognized built-in function name.",
			    name);
			rc = -1;
		}
	}
	fargs_free(&f);
	if (rc == 0 && p_kw(p, "OVER"))
		rc = cx_over(p, sc, e);
	return (rc);
}

/* OVER ( [PARTITION BY ...] [ORDER BY ...] ) after a function call. */
static int
cx_over(struct parser *p, struct scope *sc, struct ce *e)
{
	struct ce a;
	int first;

	p->pos++;
	if (p_expect_op(p, "(") == -1)
		return (-1);
	ce_str(e, " OVER (");
	ce_init(&a);
	if (p_accept_kw(p, "PARTITION")) {
		if (p_expect_kw(p, "BY") == -1)
			goto fail;
		ce_str(e, "PARTITION BY ");
		first = 1;
		do {
			if (cx_expr(p, sc, &a) == -1)
				goto fail;
			if (!first)
				ce_str(e, ", ");
			ce_cat(e, &a);
			first = 0;
		} while (p_accept_op(p, ","));
	}
	if (p_accept_kw(p, "ORDER")) {
		if (p_expect_kw(p, "BY") == -1)
			goto fail;
		ce_str(e, " ORDER BY ");
		first = 1;
		do {
			if (cx_expr(p, sc, &a) == -1)
				goto fail;
			if (!first)
				ce_str(e, ", ");
			ce_cat(e, &a);
			if (p_accept_kw(p, "DESC"))
				ce_str(e, " DESC");
			else
				p_accept_kw(p, "ASC");
			first = 0;
		} while (p_accept_op(p, ","));
	}
	if (p_expect_op(p, ")") == -1)
		goto fail;
	ce_str(e, ")");
	ce_free(&a);
	return (0);
fail:
	ce_free(&a);
	return (-1);
}

static void
scope_free(struct scope *sc)
{
	int i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nsrc; i++)
		if (!sc->src[i].borrowed)
			catalog_table_free(sc->src[i].t);
	free(sc);
}

static struct scope *
scope_new(struct scope *outer)
{
	struct scope *sc = util_xmalloc(sizeof(*sc));

	memset(sc, 0, sizeof(*sc));
	sc->outer = outer;
	return (sc);
}

/* Add a source; the scope owns t. */
static int
scope_add(
    struct parser *p, struct scope *sc, struct table *t, const char *alias)
{
	int i;

	for (i = 0; i < sc->nsrc; i++) {
		if (strcasecmp(sc->src[i].alias, alias) == 0) {
			sim_error_set(p->err, 1013, 16, 1,
			    "The objects \"%s\" "
			    "and \"%s\" in the FROM clause have the same "
			    "exposed names. Use correlation names to "
			    "distinguish them.",
			    alias, alias);
			catalog_table_free(t);
			return (-1);
		}
	}
	if (sc->nsrc == MAXSRC) {
		catalog_table_free(t);
		return (p_syntax(p));
	}
	snprintf(sc->src[sc->nsrc].alias, 129, "%s", alias);
	sc->src[sc->nsrc++].t = t;
	return (0);
}

void
cquery_free(struct cquery *q)
{
	sbuf_free(&q->sql);
	free(q->cols);
	free(q->assignvars);
	catalog_table_free(q->into);
	free(q->intomap);
	memset(q, 0, sizeof(*q));
}

void
dmlsrc_free(struct dmlsrc *d)
{
	catalog_table_free(d->target);
	cquery_free(&d->q);
	cquery_free(&d->out);
	free(d->setcols);
	memset(d, 0, sizeof(*d));
}

/* Skip query hints: OPTION (RECOMPILE, MAXDOP 1, ...). */
static int
p_skip_option(struct parser *p)
{
	int depth = 0;

	if (!p_accept_kw(p, "OPTION"))
		return (0);
	if (!p_op(p, "("))
		return (p_syntax(p));
	do {
		if (p_tok(p)->kind == LEX_EOF)
			return (p_syntax(p));
		if (p_op(p, "("))
			depth++;
		else if (p_op(p, ")"))
			depth--;
		p->pos++;
	} while (depth > 0);
	return (0);
}

/* Skip table hints: WITH (NOLOCK, ...) or (NOLOCK). */
static void
p_skip_hints(struct parser *p)
{
	int depth;

	if (p_kw(p, "WITH") && lex_is_op(p_peek(p, 1), "("))
		p->pos++;
	else if (!(p_op(p, "(") && p_peek(p, 1)->kind == LEX_IDENT &&
		     !lex_is_kw(p_peek(p, 1), "SELECT")))
		return;
	for (depth = 0;; p->pos++) {
		if (p_tok(p)->kind == LEX_EOF)
			return;
		if (p_op(p, "("))
			depth++;
		else if (p_op(p, ")") && --depth == 0) {
			p->pos++;
			return;
		}
	}
}

/* An optional [AS] alias. */
static int
p_alias(struct parser *p, char *alias)
{
	int as = p_accept_kw(p, "AS");

	if (p_is_ident(p_tok(p)) || (as && p_tok(p)->kind == LEX_STRING)) {
		snprintf(alias, 129, "%s", p_tok(p)->text);
		p->pos++;
		return (1);
	}
	if (as)
		return (p_syntax(p));
	return (0);
}

/* A table made from a compiled subquery's result columns. */
static struct table *
table_from_query(struct cquery *q, const char *alias)
{
	struct table *t = util_xmalloc(sizeof(*t));
	int i;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", alias);
	t->is_view = 2;
	t->ncols = q->ncols;
	t->cols = util_xmalloc((q->ncols + 1) * sizeof(*t->cols));
	memset(t->cols, 0, (q->ncols + 1) * sizeof(*t->cols));
	for (i = 0; i < q->ncols; i++) {
		t->cols[i].c = q->cols[i];
		if (t->cols[i].c.name[0] == '\0')
			snprintf(t->cols[i].c.name, 129, "__c%d", i + 1);
	}
	return (t);
}

/* ( SELECT ... ) [AS] alias */
static int
cx_derived(struct parser *p, struct scope *sc, struct sbuf *out)
{
	struct cquery q;
	char alias[129];

	memset(&q, 0, sizeof(q));
	p->pos++;
	if (compile_select(p, sc->outer, &q) == -1 || p_expect_op(p, ")") == -1)
		goto fail;
	if (p_alias(p, alias) != 1) {
		if (p->err->number == 0)
			p_syntax(p);
		goto fail;
	}
	sbuf_add(out, "(", 1);
	sbuf_add(out, q.sql.data, q.sql.len);
	sbuf_add(out, ") AS ", 5);
	sq_ident(out, alias);
	if (scope_add(p, sc, table_from_query(&q, alias), alias) == -1)
		goto fail;
	cquery_free(&q);
	return (0);
fail:
	cquery_free(&q);
	return (-1);
}

/* A reference to a CTE: 1 done, 0 not a CTE, -1 error. */
static int
cx_cte_ref(struct parser *p, struct scope *sc, struct sbuf *out)
{
	struct table *t;
	char alias[129];
	int i, rc;

	if (!p_is_ident(p_tok(p)) || lex_is_op(p_peek(p, 1), "."))
		return (0);
	for (i = 0; i < p->nctes; i++)
		if (strcasecmp(p->ctes[i].name, p_tok(p)->text) == 0)
			break;
	if (i == p->nctes)
		return (0);
	p->pos++;
	p_skip_hints(p);
	if ((rc = p_alias(p, alias)) == -1)
		return (-1);
	if (rc == 0)
		snprintf(alias, sizeof(alias), "%s", p->ctes[i].name);
	t = table_from_query(&p->ctes[i].q, p->ctes[i].name);
	sq_ident(out, p->ctes[i].name);
	sbuf_add(out, " AS ", 4);
	sq_ident(out, alias);
	return (scope_add(p, sc, t, alias) == -1 ? -1 : 1);
}

/* WITH name [(cols)] AS (SELECT ...), ...: into prefix. */
static int
cx_with(struct parser *p, struct sbuf *prefix)
{
	struct cte *c;
	char names[64][129];
	int n, i;

	p->pos++;
	sbuf_add(prefix, "WITH ", 5);
	do {
		if (!p_is_ident(p_tok(p)))
			return (p_syntax(p));
		p->ctes =
		    util_xrealloc(p->ctes, (p->nctes + 1) * sizeof(*p->ctes));
		c = &p->ctes[p->nctes];
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", p_tok(p)->text);
		p->pos++;
		n = 0;
		if (p_accept_op(p, "(")) {
			do {
				if (n == 64 || !p_is_ident(p_tok(p)))
					return (p_syntax(p));
				snprintf(names[n++], 129, "%s", p_tok(p)->text);
				p->pos++;
			} while (p_accept_op(p, ","));
			if (p_expect_op(p, ")") == -1)
				return (-1);
		}
		if (p_expect_kw(p, "AS") == -1 || p_expect_op(p, "(") == -1)
			return (-1);
		p->nctes++;
		if (compile_select(p, NULL, &c->q) == -1 ||
		    p_expect_op(p, ")") == -1)
			return (-1);
		if (n > 0 && n != c->q.ncols) {
			sim_error_set(p->err, 8158, 16, 1,
			    "'%s' has more "
			    "columns than were specified in the column list.",
			    c->name);
			return (-1);
		}
		for (i = 0; i < n; i++)
			snprintf(c->q.cols[i].name, 129, "%.128s", names[i]);
		if (prefix->len > 5)
			sbuf_add(prefix, ", ", 2);
		sq_ident(prefix, c->name);
		sbuf_add(prefix, "(", 1);
		for (i = 0; i < c->q.ncols; i++) {
			char nm[140];

			if (i > 0)
				sbuf_add(prefix, ", ", 2);
			snprintf(nm, sizeof(nm), "%s",
			    c->q.cols[i].name[0] ? c->q.cols[i].name : "__c");
			if (c->q.cols[i].name[0] == '\0')
				snprintf(nm, sizeof(nm), "__c%d", i + 1);
			sq_ident(prefix, nm);
		}
		sbuf_add(prefix, ") AS (", 6);
		sbuf_add(prefix, c->q.sql.data, c->q.sql.len);
		sbuf_add(prefix, ")", 1);
	} while (p_accept_op(p, ","));
	sbuf_add(prefix, " ", 1);
	return (p_kw(p, "SELECT") ? 0 : p_syntax(p));
}

/* One FROM item: table [AS alias] [hints] or derived table. */
static int
cx_from_item(struct parser *p, struct scope *sc, struct sbuf *out)
{
	struct table *t;
	char alias[129];
	int rc;

	if (p_op(p, "(") && lex_is_kw(p_peek(p, 1), "SELECT"))
		return (cx_derived(p, sc, out));
	if (p_kw(p, "CHANGETABLE") && lex_is_op(p_peek(p, 1), "(")) {
		if (ct_compile_from(p, out, &t, alias) == -1) /* ct_query.c */
			return (-1);
		return (scope_add(p, sc, t, alias));
	}
	if ((rc = cdc_compile_from(p, out, &t, alias)) != 0) /* cdc_query.c */
		return (rc == -1 ? -1 : scope_add(p, sc, t, alias));
	if ((rc = cx_cte_ref(p, sc, out)) != 0)
		return (rc == 1 ? 0 : -1);
	if (compile_table_name(p, &t) == -1)
		return (-1);
	if (p_op(p, "(") && !lex_is_kw(p_peek(p, 1), "NOLOCK")) {
		sim_error_set(
		    p->err, 208, 16, 1, "Invalid object name '%s'.", t->name);
		catalog_table_free(t);
		return (-1);
	}
	if (!t->is_view &&
	    catalog_check_perm(p->s, t, "SELECT", p->err) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	p_skip_hints(p);
	if ((rc = p_alias(p, alias)) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	if (rc == 0)
		snprintf(alias, sizeof(alias), "%s", t->name);
	p_skip_hints(p);
	sbuf_add(out, t->sqlname, strlen(t->sqlname));
	sbuf_add(out, " AS ", 4);
	sq_ident(out, alias);
	return (scope_add(p, sc, t, alias));
}

/* The join operator before the next FROM item, or NULL. */
static const char *
cx_join_kw(struct parser *p, int *on)
{
	*on = 1;
	if (p_accept_op(p, ",")) {
		*on = 0;
		return (", ");
	}
	if (p_kw(p, "CROSS") && lex_is_kw(p_peek(p, 1), "JOIN")) {
		p->pos += 2;
		*on = 0;
		return (" CROSS JOIN ");
	}
	if (p_accept_kw(p, "JOIN"))
		return (" JOIN ");
	if (p_accept_kw(p, "INNER"))
		return (p_expect_kw(p, "JOIN") == -1 ? "" : " JOIN ");
	if (p_accept_kw(p, "LEFT") || p_accept_kw(p, "RIGHT") ||
	    p_accept_kw(p, "FULL")) {
		const char *kw = p->lx->t[p->pos - 1].text;

		p_accept_kw(p, "OUTER");
		if (p_expect_kw(p, "JOIN") == -1)
			return ("");
		return (toupper((unsigned char)kw[0]) == 'L'   ? " LEFT JOIN "
			: toupper((unsigned char)kw[0]) == 'R' ? " RIGHT JOIN "
							       : " FULL JOIN ");
	}
	return (NULL);
}

/* FROM item { join item [ON cond] } */
static int
cx_from(struct parser *p, struct scope *sc, struct sbuf *out)
{
	const char *j;
	struct ce c;
	int on;

	if (cx_from_item(p, sc, out) == -1)
		return (-1);
	while ((j = cx_join_kw(p, &on)) != NULL) {
		if (*j == '\0')
			return (-1);
		sbuf_add(out, j, strlen(j));
		if (cx_from_item(p, sc, out) == -1)
			return (-1);
		if (!on)
			continue;
		if (p_expect_kw(p, "ON") == -1)
			return (-1);
		ce_init(&c);
		if (cx_expr(p, sc, &c) == -1) {
			ce_free(&c);
			return (-1);
		}
		sbuf_add(out, " ON ", 4);
		sbuf_add(out, c.b.data, c.b.len);
		ce_free(&c);
	}
	if (p_kw(p, "CROSS") || p_kw(p, "OUTER"))
		return (p_syntax(p));
	return (0);
}

/* Skip a select or SET list up to its clause keyword at depth 0. */
static void
p_skip_list(struct parser *p)
{
	static const char *stop[] = { "FROM", "WHERE", "GROUP", "HAVING",
		"ORDER", "UNION", "EXCEPT", "INTERSECT", "OPTION", "INTO",
		"FOR", "SELECT", "INSERT", "UPDATE", "DELETE", "SET", "DECLARE",
		"IF", "ELSE", "BEGIN", "COMMIT", "ROLLBACK", "PRINT", "EXEC",
		"EXECUTE", "USE", "CREATE", "DROP", "ALTER", "WHILE", "RETURN",
		"TRUNCATE", "GRANT", "OFFSET", NULL };
	struct lex_tok *t;
	int depth = 0, i;

	for (;; p->pos++) {
		t = p_tok(p);
		if (t->kind == LEX_EOF ||
		    (depth == 0 &&
			(lex_is_op(t, ";") || lex_is_op(t, ")") ||
			    lex_is_kw(t, "END"))))
			return;
		if (depth == 0)
			for (i = 0; stop[i] != NULL; i++)
				if (lex_is_kw(t, stop[i]))
					return;
		if (lex_is_op(t, "(") || lex_is_kw(t, "CASE"))
			depth++;
		else if (lex_is_op(t, ")") || lex_is_kw(t, "END"))
			depth--;
	}
}

/* Add a result column to q. */
static void
cq_addcol(struct cquery *q, const struct ce *e, const char *alias)
{
	struct sim_column *c;

	q->cols = util_xrealloc(q->cols, (q->ncols + 1) * sizeof(*q->cols));
	c = &q->cols[q->ncols++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", alias ? alias : e->name);
	c->type = e->t;
	c->nullable = 1;
	if (e->tc != NULL) {
		c->nullable = e->tc->c.nullable;
		c->identity = e->tc->c.identity;
		c->computed = e->tc->c.computed;
		c->updateable = !e->tc->c.identity && !e->tc->c.computed;
	}
}

/* Emit one result column "expr AS name" into the list. */
static void
cq_emit(struct cquery *q, struct sbuf *list, struct ce *e, const char *alias)
{
	char nm[140];

	if (!e->canon && !e->isnull)
		ce_wrap_cast(e, &e->t);
	if (q->ncols > 0)
		sbuf_add(list, ", ", 2);
	sbuf_add(list, e->b.data, e->b.len);
	sbuf_add(list, " AS ", 4);
	cq_addcol(q, e, alias);
	if (q->cols[q->ncols - 1].name[0] == '\0') {
		snprintf(nm, sizeof(nm), "__c%d", q->ncols);
		sq_ident(list, nm);
	} else
		sq_ident(list, q->cols[q->ncols - 1].name);
}

/* * or alias.* */
static int
cx_star(struct parser *p, struct scope *sc, struct cquery *q, struct sbuf *list,
    const char *qual)
{
	struct ce e;
	int i, j, any = 0;

	for (i = 0; i < sc->nsrc; i++) {
		if (qual != NULL && strcasecmp(sc->src[i].alias, qual) != 0)
			continue;
		if (qual == NULL && sc->src[i].qualified)
			continue;
		any = 1;
		for (j = 0; j < sc->src[i].t->ncols; j++) {
			ce_init(&e);
			ce_column(&e, &sc->src[i], j);
			cq_emit(q, list, &e, NULL);
			ce_free(&e);
		}
	}
	if (!any && qual != NULL) {
		sim_error_set(p->err, 4104, 16, 1,
		    "The multi-part identifier "
		    "\"%s\" could not be bound.",
		    qual);
		return (-1);
	}
	if (!any) {
		sim_error_set(p->err, 263, 16, 1,
		    "Must specify table to select "
		    "from.");
		return (-1);
	}
	return (0);
}

/* Record SELECT @v = expr. */
static void
cq_assign(struct cquery *q, int var)
{
	q->assignvars =
	    util_xrealloc(q->assignvars, (q->ncols + 1) * sizeof(int));
	q->assignvars[q->ncols] = var;
}

/* One select list item. */
static int
cx_item(struct parser *p, struct scope *sc, struct cquery *q, struct sbuf *list)
{
	char alias[129] = "";
	struct ce e;
	int var = -1, rc;

	if (p_op(p, "*")) {
		p->pos++;
		return (cx_star(p, sc, q, list, NULL));
	}
	if (p_is_ident(p_tok(p)) && lex_is_op(p_peek(p, 1), ".") &&
	    lex_is_op(p_peek(p, 2), "*")) {
		p->pos += 3;
		return (cx_star(p, sc, q, list, p->lx->t[p->pos - 3].text));
	}
	if (p_tok(p)->kind == LEX_VAR && lex_is_op(p_peek(p, 1), "=")) {
		if ((var = engine_find_var(p->s, p_tok(p)->text)) == -1) {
			sim_error_set(p->err, 137, 15, 2,
			    "Must declare the "
			    "scalar variable \"%s\".",
			    p_tok(p)->text);
			return (-1);
		}
		p->pos += 2;
	} else if ((p_is_ident(p_tok(p)) || p_tok(p)->kind == LEX_STRING) &&
	    lex_is_op(p_peek(p, 1), "=")) {
		snprintf(alias, sizeof(alias), "%s", p_tok(p)->text);
		p->pos += 2;
	}
	if ((var >= 0) != (q->assign != 0) && q->ncols > 0) {
		sim_error_set(p->err, 141, 15, 1,
		    "A SELECT statement that "
		    "assigns a value to a variable must not be combined with "
		    "data-retrieval operations.");
		return (-1);
	}
	q->assign = var >= 0;
	ce_init(&e);
	if (cx_expr(p, sc, &e) == -1) {
		ce_free(&e);
		return (-1);
	}
	if (alias[0] == '\0' && var < 0 && (rc = p_alias(p, alias)) == -1) {
		ce_free(&e);
		return (-1);
	}
	if (var >= 0)
		cq_assign(q, var);
	cq_emit(q, list, &e, alias[0] ? alias : NULL);
	ce_free(&e);
	return (0);
}

/* TOP n | TOP (expr) [PERCENT] [WITH TIES] */
static int
cx_top(struct parser *p, struct scope *sc, struct sbuf *limit)
{
	struct ce e;

	ce_init(&e);
	if (p_op(p, "(")) {
		if (cx_paren(p, sc, &e) == -1)
			goto fail;
	} else if (p_tok(p)->kind == LEX_INT ||
	    (p_tok(p)->kind == LEX_DEC && lex_is_kw(p_peek(p, 1), "PERCENT"))) {
		ce_str(&e, p_tok(p)->text);
		p->pos++;
	} else {
		p_syntax(p);
		goto fail;
	}
	if (p_kw(p, "WITH") && lex_is_kw(p_peek(p, 1), "TIES")) {
		p_syntax(p);
		goto fail;
	}
	if (p_accept_kw(p, "PERCENT"))
		sbuf_add(limit, "%", 1); /* compile_select: a share */
	sbuf_add(limit, e.b.data, e.b.len);
	ce_free(&e);
	return (0);
fail:
	ce_free(&e);
	return (-1);
}

/*
 * TOP (n) PERCENT: LIMIT to ceiling(count * n / 100) rows of the same
 * query (limit holds "%n").
 */
static void
cx_top_percent(struct cquery *q, struct sbuf *limit, struct sbuf *tail)
{
	char *pct, *sql;

	pct = sqlite3_mprintf("(%.*s)", (int)limit->len - 1, limit->data + 1);
	sql = sqlite3_mprintf(
	    " LIMIT (SELECT CAST(count(*) * %s / 100.0 AS "
	    "INTEGER) + (count(*) * %s / 100.0 > CAST(count(*) * %s / 100.0 "
	    "AS INTEGER)) FROM (%.*s))",
	    pct, pct, pct, (int)q->sql.len, q->sql.data);
	sbuf_add(tail, sql, strlen(sql));
	sqlite3_free(sql);
	sqlite3_free(pct);
}

/* A list of expressions separated by commas. */
static int
cx_exprlist(struct parser *p, struct scope *sc, struct sbuf *out)
{
	struct ce e;

	do {
		ce_init(&e);
		if (cx_expr(p, sc, &e) == -1) {
			ce_free(&e);
			return (-1);
		}
		if (out->len > 0)
			sbuf_add(out, ", ", 2);
		sbuf_add(out, e.b.data, e.b.len);
		ce_free(&e);
	} while (p_accept_op(p, ","));
	return (0);
}

/* WHERE/HAVING condition into out. */
static int
cx_cond(struct parser *p, struct scope *sc, struct sbuf *out, const char *kw)
{
	struct ce e;

	ce_init(&e);
	if (cx_expr(p, sc, &e) == -1) {
		ce_free(&e);
		return (-1);
	}
	sbuf_add(out, kw, strlen(kw));
	sbuf_add(out, e.b.data, e.b.len);
	ce_free(&e);
	return (0);
}

/* The clauses after the select list: FROM, WHERE, GROUP BY, HAVING. */
static int
cx_clauses(struct parser *p, struct scope *sc, struct sbuf *tail)
{
	struct sbuf g;

	if (p_accept_kw(p, "FROM")) {
		sbuf_add(tail, " FROM ", 6);
		if (cx_from(p, sc, tail) == -1)
			return (-1);
	}
	if (p_accept_kw(p, "WHERE") && cx_cond(p, sc, tail, " WHERE ") == -1)
		return (-1);
	if (p_accept_kw(p, "GROUP")) {
		if (p_expect_kw(p, "BY") == -1)
			return (-1);
		sbuf_init(&g);
		if (cx_exprlist(p, sc, &g) == -1) {
			sbuf_free(&g);
			return (-1);
		}
		sbuf_add(tail, " GROUP BY ", 10);
		sbuf_add(tail, g.data, g.len);
		sbuf_free(&g);
	}
	if (p_accept_kw(p, "HAVING") && cx_cond(p, sc, tail, " HAVING ") == -1)
		return (-1);
	return (0);
}

/* One SELECT without ORDER BY: fills q, the scope and the TOP limit. */
static int
cx_core(
    struct parser *p, struct scope *sc, struct cquery *q, struct sbuf *limit)
{
	struct sbuf list, tail;
	char tname[3][129];
	int lstart, lend, end, rc = -1;

	if (p_expect_kw(p, "SELECT") == -1)
		return (-1);
	sbuf_init(&list);
	sbuf_init(&tail);
	sbuf_add(&q->sql, "SELECT ", 7);
	if (p_accept_kw(p, "DISTINCT"))
		sbuf_add(&q->sql, "DISTINCT ", 9);
	else
		p_accept_kw(p, "ALL");
	if (p_accept_kw(p, "TOP") && cx_top(p, sc, limit) == -1)
		goto out;
	lstart = p->pos;
	p_skip_list(p);
	lend = p->pos;
	if (lend == lstart) {
		p_syntax(p);
		goto out;
	}
	if (p_kw(p, "INTO") && q->into_start == 0) {
		q->into_start = p->pos++;
		if (p_name(p, tname, 3) < 1)
			goto out;
		q->into_end = p->pos;
	}
	if (cx_clauses(p, sc, &tail) == -1)
		goto out;
	end = p->pos;
	p->pos = lstart;
	do {
		if (cx_item(p, sc, q, &list) == -1)
			goto out;
	} while (p_accept_op(p, ","));
	if (p->pos != lend) {
		p_syntax(p);
		goto out;
	}
	p->pos = end;
	sbuf_add(&q->sql, list.data, list.len);
	sbuf_add(&q->sql, tail.data, tail.len);
	rc = 0;
out:
	sbuf_free(&list);
	sbuf_free(&tail);
	return (rc);
}

/* ORDER BY item, item ... */
static int
cx_orderby(
    struct parser *p, struct scope *sc, struct cquery *q, struct sbuf *out)
{
	struct ce e;
	int i, done;

	sbuf_add(out, " ORDER BY ", 10);
	do {
		done = 0;
		if (p_tok(p)->kind == LEX_INT &&
		    (lex_is_op(p_peek(p, 1), ",") ||
			lex_is_kw(p_peek(p, 1), "ASC") ||
			lex_is_kw(p_peek(p, 1), "DESC") ||
			!(p_peek(p, 1)->kind == LEX_OP &&
			    strchr("+-*/%", p_peek(p, 1)->text[0])))) {
			sbuf_add(out, p_tok(p)->text, p_tok(p)->len);
			p->pos++;
			done = 1;
		}
		if (p_is_ident(p_tok(p)) && !lex_is_op(p_peek(p, 1), ".") &&
		    !lex_is_op(p_peek(p, 1), "(")) {
			for (i = 0; i < q->ncols && !done; i++) {
				if (strcasecmp(
					q->cols[i].name, p_tok(p)->text) == 0) {
					sq_ident(out, q->cols[i].name);
					p->pos++;
					done = 1;
				}
			}
		}
		if (!done) {
			ce_init(&e);
			if (cx_expr(p, sc, &e) == -1) {
				ce_free(&e);
				return (-1);
			}
			sbuf_add(out, e.b.data, e.b.len);
			ce_free(&e);
		}
		if (p_accept_kw(p, "DESC"))
			sbuf_add(out, " DESC", 5);
		else
			p_accept_kw(p, "ASC");
		if (!p_op(p, ","))
			break;
		sbuf_add(out, ", ", 2);
		p->pos++;
	} while (1);
	return (0);
}

/* OFFSET n ROWS [FETCH NEXT|FIRST m ROWS ONLY] */
static int
cx_offset(
    struct parser *p, struct scope *sc, struct sbuf *out, struct sbuf *limit)
{
	struct ce off, cnt;
	int rc = -1;

	ce_init(&off);
	ce_init(&cnt);
	if (cx_add(p, sc, &off) == -1)
		goto out;
	if (!p_accept_kw(p, "ROWS") && !p_accept_kw(p, "ROW")) {
		p_syntax(p);
		goto out;
	}
	if (p_accept_kw(p, "FETCH")) {
		if ((!p_accept_kw(p, "NEXT") && !p_accept_kw(p, "FIRST")) ||
		    cx_add(p, sc, &cnt) == -1 ||
		    (!p_accept_kw(p, "ROWS") && !p_accept_kw(p, "ROW")) ||
		    p_expect_kw(p, "ONLY") == -1) {
			if (p->err->number == 0)
				p_syntax(p);
			goto out;
		}
	}
	if (limit->len > 0) {
		p_syntax(p);
		goto out;
	}
	sbuf_add(out, " LIMIT ", 7);
	if (cnt.b.len > 0)
		sbuf_add(out, cnt.b.data, cnt.b.len);
	else
		sbuf_add(out, "-1", 2);
	sbuf_add(out, " OFFSET ", 8);
	sbuf_add(out, off.b.data, off.b.len);
	rc = 0;
out:
	ce_free(&off);
	ce_free(&cnt);
	return (rc);
}

/* UNION [ALL] | EXCEPT | INTERSECT core... */
static int
cx_compound(struct parser *p, struct scope *outer, struct cquery *q)
{
	struct cquery q2;
	struct sbuf lim;
	struct scope *sc;
	const char *op;

	for (;;) {
		if (p_accept_kw(p, "UNION"))
			op = p_accept_kw(p, "ALL") ? " UNION ALL " : " UNION ";
		else if (p_accept_kw(p, "EXCEPT"))
			op = " EXCEPT ";
		else if (p_accept_kw(p, "INTERSECT"))
			op = " INTERSECT ";
		else
			return (0);
		memset(&q2, 0, sizeof(q2));
		sbuf_init(&lim);
		sc = scope_new(outer);
		if (cx_core(p, sc, &q2, &lim) == -1 || lim.len > 0) {
			if (lim.len > 0)
				p_syntax(p);
			scope_free(sc);
			sbuf_free(&lim);
			cquery_free(&q2);
			return (-1);
		}
		scope_free(sc);
		sbuf_free(&lim);
		if (q2.ncols != q->ncols) {
			sim_error_set(p->err, 205, 16, 1,
			    "All queries combined "
			    "using a UNION, INTERSECT or EXCEPT operator must "
			    "have an equal number of expressions in their "
			    "target lists.");
			cquery_free(&q2);
			return (-1);
		}
		sbuf_add(&q->sql, op, strlen(op));
		sbuf_add(&q->sql, q2.sql.data, q2.sql.len);
		cquery_free(&q2);
	}
}

/* A full SELECT statement or subquery into q (SQL NUL-terminated). */
int
compile_select(struct parser *p, struct scope *outer, struct cquery *q)
{
	struct scope *sc = scope_new(outer);
	struct sbuf limit, tail, prefix;
	int rc = -1;

	sbuf_init(&limit);
	sbuf_init(&tail);
	sbuf_init(&prefix);
	if (outer == NULL && p_kw(p, "WITH") && cx_with(p, &prefix) == -1)
		goto out;
	if (cx_core(p, sc, q, &limit) == -1 || cx_compound(p, outer, q) == -1)
		goto out;
	if (prefix.len > 0) {
		sbuf_add(&prefix, q->sql.data, q->sql.len);
		sbuf_free(&q->sql);
		q->sql = prefix;
		sbuf_init(&prefix);
	}
	if (p_accept_kw(p, "ORDER")) {
		if (p_expect_kw(p, "BY") == -1 ||
		    cx_orderby(p, sc, q, &tail) == -1)
			goto out;
		if (p_accept_kw(p, "OFFSET") &&
		    cx_offset(p, sc, &tail, &limit) == -1)
			goto out;
	}
	if (limit.len > 0 && limit.data[0] == '%')
		cx_top_percent(q, &limit, &tail);
	else if (limit.len > 0) {
		sbuf_add(&tail, " LIMIT ", 7);
		sbuf_add(&tail, limit.data, limit.len);
	}
	if (outer == NULL && p_skip_option(p) == -1)
		goto out;
	if (p_kw(p, "OPTION") || p_kw(p, "FOR") || p_kw(p, "INTO") ||
	    (outer != NULL && q->into_start != 0)) {
		p_syntax(p);
		goto out;
	}
	sbuf_add(&q->sql, tail.data, tail.len);
	sbuf_add(&q->sql, "", 1);
	q->sql.len--;
	rc = 0;
out:
	scope_free(sc);
	sbuf_free(&limit);
	sbuf_free(&tail);
	sbuf_free(&prefix);
	return (rc);
}

/* A scalar expression with no FROM (SET, IF, PRINT, EXEC args). */
int
compile_value(struct parser *p, struct sbuf *out, struct sim_type *t)
{
	struct ce e;

	ce_init(&e);
	if (cx_expr(p, NULL, &e) == -1) {
		ce_free(&e);
		return (-1);
	}
	sbuf_add(out, e.b.data, e.b.len);
	*t = e.t;
	ce_free(&e);
	return (0);
}

/* One VALUES row "(e1, DEFAULT, ...)" as "SELECT e1, NULL, ...". */
int
compile_values_row(struct parser *p, struct cquery *q, int *isdef, int max)
{
	struct ce e;

	if (p_expect_op(p, "(") == -1)
		return (-1);
	sbuf_add(&q->sql, "SELECT ", 7);
	do {
		if (q->ncols == max) {
			sim_error_set(p->err, 110, 15, 1,
			    "There are fewer "
			    "columns in the INSERT statement than values "
			    "specified in the VALUES clause. The number of "
			    "values in the VALUES clause must match the number "
			    "of columns specified in the INSERT statement.");
			return (-1);
		}
		ce_init(&e);
		isdef[q->ncols] = p_accept_kw(p, "DEFAULT");
		if (isdef[q->ncols]) {
			ce_str(&e, "NULL");
			e.t = ty(SIMT_INT, 4, 10, 0);
			e.isnull = 1;
		} else if (cx_expr(p, NULL, &e) == -1) {
			ce_free(&e);
			return (-1);
		}
		e.canon = 1; /* converted by dml.c with e.t as source */
		cq_emit(q, &q->sql, &e, NULL);
		ce_free(&e);
	} while (p_accept_op(p, ","));
	sbuf_add(&q->sql, "", 1);
	q->sql.len--;
	return (p_expect_op(p, ")"));
}

/*
 * The target of UPDATE/DELETE: a name that is either an alias of the
 * FROM clause or a table (added as a source when FROM lacks it).
 */
static int
cx_dml_target(struct parser *p, struct scope *sc, char parts[][129], int n,
    struct sbuf *from, int *ti)
{
	struct table *t;
	char alias[129];
	int i, save;

	for (i = 0; i < sc->nsrc && n == 1; i++) {
		if (strcasecmp(sc->src[i].alias, parts[0]) == 0 &&
		    sc->src[i].t->is_view == 0) {
			*ti = i;
			return (0);
		}
	}
	for (i = 0; i < sc->nsrc; i++) {
		t = sc->src[i].t;
		if (t->is_view == 0 && strcasecmp(t->name, parts[n - 1]) == 0 &&
		    (n == 1 || strcasecmp(t->schema, parts[n - 2]) == 0)) {
			*ti = i;
			return (0);
		}
	}
	/* Re-resolve the name as a table and add it. */
	save = p->pos;
	if (n == 1 && parts[0][0] == '@') /* tablevar.c */
		t = tablevar_table(p, parts[0]);
	else
		t = catalog_table(p->s,
		    n > 1 && parts[n - 2][0] ? parts[n - 2] : NULL,
		    parts[n - 1], p->err);
	p->pos = save;
	if (t == NULL)
		return (-1);
	if (t->is_view) {
		sim_error_set(p->err, 4406, 16, 1,
		    "Update or insert of view or "
		    "function '%s' failed because it contains a derived or "
		    "constant field.",
		    t->name);
		catalog_table_free(t);
		return (-1);
	}
	snprintf(alias, sizeof(alias), "%s", t->name);
	if (from->len > 0)
		sbuf_add(from, ", ", 2);
	sbuf_add(from, t->sqlname, strlen(t->sqlname));
	sbuf_add(from, " AS ", 4);
	sq_ident(from, alias);
	if (scope_add(p, sc, t, alias) == -1)
		return (-1);
	*ti = sc->nsrc - 1;
	return (0);
}

/* Start the rows query "SELECT "alias".rowid". */
static void
cx_dml_head(struct dmlsrc *d, struct scope *sc, int ti)
{
	sbuf_add(&d->q.sql, "SELECT ", 7);
	sq_ident(&d->q.sql, sc->src[ti].alias);
	sbuf_add(&d->q.sql, ".rowid", 6);
}

/* Move the target table out of the scope into d. */
static void
cx_dml_take(struct dmlsrc *d, struct scope *sc, int ti)
{
	struct table *t = sc->src[ti].t;

	d->target = t;
	sc->src[ti].t = util_xmalloc(sizeof(*t));
	memset(sc->src[ti].t, 0, sizeof(*t));
}

/* One SET item: col = expr | col op= expr. */
static int
cx_set_item(struct parser *p, struct scope *sc, int ti, struct dmlsrc *d)
{
	char parts[4][129];
	struct table *t = sc->src[ti].t;
	struct ce e, l, r;
	int n, ci, op = 0;

	if (p_tok(p)->kind == LEX_VAR)
		return (p_syntax(p));
	if ((n = p_name(p, parts, 4)) < 1)
		return (-1);
	if ((ci = table_col(t, parts[n - 1])) < 0) {
		sim_error_set(p->err, 207, 16, 1, "Invalid column name '%s'.",
		    parts[n - 1]);
		return (-1);
	}
	if (p_tok(p)->kind == LEX_OP && strlen(p_tok(p)->text) == 2 &&
	    p_tok(p)->text[1] == '=' && strchr("+-*/", p_tok(p)->text[0]))
		op = p_tok(p)->text[0];
	if (op)
		p->pos++;
	else if (p_expect_op(p, "=") == -1)
		return (-1);
	if (t->cols[ci].c.computed) {
		sim_error_set(p->err, 271, 16, 1,
		    "The column \"%s\" cannot be "
		    "modified because it is either a computed column or is the "
		    "result of a UNION operator.",
		    t->cols[ci].c.name);
		return (-1);
	}
	if (t->cols[ci].c.identity) {
		sim_error_set(p->err, 8102, 16, 1,
		    "Cannot update identity column '%s'.", t->cols[ci].c.name);
		return (-1);
	}
	if (t->cols[ci].rowversion) {
		sim_error_set(
		    p->err, 272, 16, 1, "Cannot update a timestamp column.");
		return (-1);
	}
	ce_init(&e);
	if (cx_expr(p, sc, &e) == -1) {
		ce_free(&e);
		return (-1);
	}
	if (op) {
		ce_init(&l);
		ce_column(&l, &sc->src[ti], ci);
		r = e;
		ce_init(&e);
		cx_arith(&e, op, &l, &r);
	}
	e.canon = 1;
	cq_emit(&d->q, &d->q.sql, &e, NULL);
	ce_free(&e);
	d->setcols = util_xrealloc(d->setcols, (d->nset + 1) * sizeof(int));
	for (n = 0; n < d->nset; n++) {
		if (d->setcols[n] == ci) {
			sim_error_set(p->err, 264, 16, 1,
			    "The column name '%s' "
			    "is specified more than once in the SET clause or "
			    "column list of an INSERT. A column cannot be "
			    "assigned more than one value in the same clause. "
			    "Modify the clause to make sure that a column is "
			    "updated only once. If this statement updates or "
			    "inserts columns into a view, column aliasing can "
			    "conceal the duplication in your code.",
			    t->cols[ci].c.name);
			return (-1);
		}
	}
	d->setcols[d->nset++] = ci;
	return (0);
}

/* [TOP (n)] before the UPDATE/DELETE target. */
static int
cx_dml_top(struct parser *p, struct sbuf *limit)
{
	if (!p_accept_kw(p, "TOP"))
		return (0);
	if (!p_op(p, "("))
		return (p_syntax(p));
	if (cx_top(p, NULL, limit) == -1)
		return (-1);
	return (limit->len > 0 && limit->data[0] == '%' ? p_syntax(p) : 0);
}

/* The FROM/WHERE part shared by UPDATE and DELETE. */
static int
cx_dml_from_where(struct parser *p, struct scope *sc, char parts[][129], int n,
    struct sbuf *tail, int *ti)
{
	struct sbuf from;

	sbuf_init(&from);
	if (p_accept_kw(p, "FROM") && cx_from(p, sc, &from) == -1)
		goto fail;
	if (cx_dml_target(p, sc, parts, n, &from, ti) == -1)
		goto fail;
	sbuf_add(tail, " FROM ", 6);
	sbuf_add(tail, from.data, from.len);
	if (p_accept_kw(p, "WHERE") && cx_cond(p, sc, tail, " WHERE ") == -1)
		goto fail;
	if (p_skip_option(p) == -1)
		goto fail;
	if (p_kw(p, "OPTION") || p_kw(p, "OUTPUT")) {
		p_syntax(p);
		goto fail;
	}
	sbuf_free(&from);
	return (0);
fail:
	sbuf_free(&from);
	return (-1);
}

/*
 * An OUTPUT pseudo-table (INSERTED, DELETED): a source named alias with
 * the columns of t, whose values are the parameters :<pre>N (N = column
 * index) that dml.c binds from each written row's image; only
 * alias.column names it (cx_colname1 and * skip it).
 */
static int
cx_output_src(struct parser *p, struct scope *sc, struct table *t,
    const char *alias, int pre, struct sbuf *from)
{
	struct table *o = util_xmalloc(sizeof(*o));
	const char *coll;
	char buf[40];
	int i;

	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", alias);
	o->is_view = 2;
	o->ncols = t->ncols;
	o->cols = util_xmalloc((t->ncols + 1) * sizeof(*o->cols));
	memset(o->cols, 0, (t->ncols + 1) * sizeof(*o->cols));
	sbuf_add(from, from->len > 0 ? ", (SELECT " : " FROM (SELECT ",
	    from->len > 0 ? 10 : 14);
	for (i = 0; i < t->ncols; i++) {
		o->cols[i].c = t->cols[i].c;
		o->cols[i].column_id = t->cols[i].column_id;
		snprintf(buf, sizeof(buf), "%s:%c%d", i ? ", " : "", pre, i);
		sbuf_add(from, buf, strlen(buf));
		if ((coll = simtype_collation(&t->cols[i].c.type)) != NULL) {
			sbuf_add(from, " COLLATE ", 9);
			sbuf_add(from, coll, strlen(coll));
		}
		sbuf_add(from, " AS ", 4);
		sq_ident(from, t->cols[i].c.name);
	}
	sbuf_add(from, ") AS ", 5);
	sq_ident(from, alias);
	if (scope_add(p, sc, o, alias) == -1)
		return (-1);
	sc->src[sc->nsrc - 1].qualified = 1;
	return (0);
}

/*
 * OUTPUT <list> of a DML statement on t (p just after OUTPUT): the
 * columns of INSERTED and/or DELETED (which: OUTPUT_*) as q, "SELECT
 * list FROM (SELECT :d0 AS c, ...) AS deleted, (SELECT :i0 ...) AS
 * inserted", run by dml.c once per row.  A name the statement lacks
 * (DELETED in an INSERT) is 4104, an unqualified column 207.  OUTPUT
 * ... INTO t [(cols)] sets q->into (tablevar_output_into()); OUTPUT @v
 * = ... is a syntax error.
 */
int
compile_output(struct parser *p, struct table *t, int which, struct cquery *q)
{
	struct scope *sc = scope_new(NULL);
	struct sbuf list, from;
	int rc = -1;

	sbuf_init(&list);
	sbuf_init(&from);
	if ((which & OUTPUT_DELETED) &&
	    cx_output_src(p, sc, t, "deleted", 'd', &from) == -1)
		goto out;
	if ((which & OUTPUT_INSERTED) &&
	    cx_output_src(p, sc, t, "inserted", 'i', &from) == -1)
		goto out;
	do {
		if (cx_item(p, sc, q, &list) == -1)
			goto out;
	} while (p_accept_op(p, ","));
	if (q->assign) {
		p_syntax(p);
		goto out;
	}
	if (p_accept_kw(p, "INTO") && tablevar_output_into(p, q) == -1)
		goto out;
	sbuf_add(&q->sql, "SELECT ", 7);
	sbuf_add(&q->sql, list.data, list.len);
	sbuf_add(&q->sql, from.data, from.len);
	sbuf_add(&q->sql, "", 1);
	q->sql.len--;
	rc = 0;
out:
	scope_free(sc);
	sbuf_free(&list);
	sbuf_free(&from);
	return (rc);
}

/*
 * The OUTPUT keyword that ends an UPDATE's SET list in tokens [from,
 * to), or -1: at depth 0 and after the end of an expression (a column
 * may be named output: "SET output = 1", "SET a = 1, output = 2").
 */
static int
cx_find_output(struct parser *p, int from, int to)
{
	struct lex_tok *t;
	int depth = 0, i;

	for (i = from; i < to; i++) {
		t = &p->lx->t[i];
		if (lex_is_op(t, "(") || lex_is_kw(t, "CASE"))
			depth++;
		else if (lex_is_op(t, ")") || lex_is_kw(t, "END"))
			depth--;
		else if (depth == 0 && i > from && lex_is_kw(t, "OUTPUT") &&
		    (p->lx->t[i - 1].kind != LEX_OP ||
			lex_is_op(&p->lx->t[i - 1], ")")))
			return (i);
	}
	return (-1);
}

/*
 * Compile the OUTPUT list of tokens [start + 1, end) of a DML statement
 * on d->target; the list must fill them.  start -1: none.
 */
static int
cx_dml_output(struct parser *p, struct dmlsrc *d, int start, int end, int which)
{
	int save = p->pos;

	if (start < 0)
		return (0);
	p->pos = start + 1;
	if (compile_output(p, d->target, which, &d->out) == -1)
		return (-1);
	if (p->pos != end)
		return (p_syntax(p));
	p->pos = save;
	return (0);
}

/* UPDATE [TOP (n)] t SET ... [FROM ...] [WHERE ...] */
int
compile_update(struct parser *p, struct dmlsrc *d)
{
	struct scope *sc = scope_new(NULL);
	struct sbuf tail, limit;
	char parts[4][129];
	int n, ti, setpos, outpos, outend, end, rc = -1;

	sbuf_init(&tail);
	sbuf_init(&limit);
	p->pos++;
	if (cx_dml_top(p, &limit) == -1 ||
	    (n = tablevar_dml_name(p, parts)) < 1)
		goto out;
	p_skip_hints(p);
	if (p_expect_kw(p, "SET") == -1)
		goto out;
	setpos = p->pos;
	p_skip_list(p);
	if (cx_find_output(p, setpos, p->pos) >= 0)
		tablevar_skip_into(p); /* OUTPUT ... INTO t (cols) */
	if (p_kw(p, "SET") || p_kw(p, "OUTPUT")) {
		p_syntax(p);
		goto out;
	}
	outend = p->pos;
	outpos = cx_find_output(p, setpos, outend);
	if (cx_dml_from_where(p, sc, parts, n, &tail, &ti) == -1)
		goto out;
	end = p->pos;
	p->pos = setpos;
	cx_dml_head(d, sc, ti);
	d->q.ncols = 0;
	sbuf_add(&d->q.sql, ", ", 2);
	do {
		if (cx_set_item(p, sc, ti, d) == -1)
			goto out;
	} while (p_accept_op(p, ","));
	if (outpos >= 0 && p->pos != outpos) {
		p_syntax(p);
		goto out;
	}
	p->pos = end;
	sbuf_add(&d->q.sql, tail.data, tail.len);
	if (limit.len > 0) {
		sbuf_add(&d->q.sql, " LIMIT ", 7);
		sbuf_add(&d->q.sql, limit.data, limit.len);
	}
	sbuf_add(&d->q.sql, "", 1);
	d->q.sql.len--;
	cx_dml_take(d, sc, ti);
	rc = cx_dml_output(
	    p, d, outpos, outend, OUTPUT_INSERTED | OUTPUT_DELETED);
out:
	scope_free(sc);
	sbuf_free(&tail);
	sbuf_free(&limit);
	return (rc);
}

/* DELETE [TOP (n)] [FROM] t [FROM ...] [WHERE ...] */
int
compile_delete(struct parser *p, struct dmlsrc *d)
{
	struct scope *sc = scope_new(NULL);
	struct sbuf tail, limit;
	char parts[4][129];
	int n, ti, outpos = -1, outend = 0, rc = -1;

	sbuf_init(&tail);
	sbuf_init(&limit);
	p->pos++;
	if (cx_dml_top(p, &limit) == -1)
		goto out;
	p_accept_kw(p, "FROM");
	if ((n = tablevar_dml_name(p, parts)) < 1)
		goto out;
	p_skip_hints(p);
	if (p_kw(p, "OUTPUT")) { /* compiled once the target is known */
		outpos = p->pos++;
		p_skip_list(p);
		tablevar_skip_into(p); /* OUTPUT ... INTO t (cols) */
		outend = p->pos;
	}
	if (cx_dml_from_where(p, sc, parts, n, &tail, &ti) == -1)
		goto out;
	cx_dml_head(d, sc, ti);
	sbuf_add(&d->q.sql, tail.data, tail.len);
	if (limit.len > 0) {
		sbuf_add(&d->q.sql, " LIMIT ", 7);
		sbuf_add(&d->q.sql, limit.data, limit.len);
	}
	sbuf_add(&d->q.sql, "", 1);
	d->q.sql.len--;
	cx_dml_take(d, sc, ti);
	rc = cx_dml_output(p, d, outpos, outend, OUTPUT_DELETED);
out:
	scope_free(sc);
	sbuf_free(&tail);
	sbuf_free(&limit);
	return (rc);
}

/* The source text of tokens [from, to). */
char *
compile_source(struct parser *p, int from, int to)
{
	size_t a = p->lx->t[from].off, b = p->lx->t[to - 1].end;
	char *s = util_xmalloc(b - a + 1);

	memcpy(s, p->lx->src + a, b - a);
	s[b - a] = '\0';
	return (s);
}

/*
 * Compile stored expression text (DEFAULT, computed column) with the
 * columns of t visible under the alias t->name.
 */
int
compile_expr_text(struct sim_session *s, struct table *t, const char *text,
    struct sbuf *out, struct sim_type *type, struct sim_error *err)
{
	struct parser p;
	struct lex lx;
	struct scope *sc = NULL;
	struct ce e;
	int rc = -1;

	if (lex_tokenize(text, &lx, err) == -1)
		return (-1);
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.lx = &lx;
	p.err = err;
	if (t != NULL) {
		sc = scope_new(NULL);
		snprintf(sc->src[0].alias, 129, "%s", t->name);
		sc->src[0].t = t;
		sc->src[0].borrowed = 1;
		sc->nsrc = 1;
	}
	ce_init(&e);
	if (cx_expr(&p, sc, &e) == 0 && p_tok(&p)->kind == LEX_EOF) {
		sbuf_add(out, e.b.data, e.b.len);
		*type = e.t;
		rc = 0;
	} else if (err->number == 0)
		p_syntax(&p);
	ce_free(&e);
	scope_free(sc);
	lex_free(&lx);
	return (rc);
}
