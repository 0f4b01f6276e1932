/*
 * ddl.c: CREATE, ALTER and DROP of databases, schemas, tables, indexes,
 * logins, users and roles, and GRANT/DENY/REVOKE, on the metadata that
 * catalog.c describes.  CREATE/ALTER/DROP VIEW hand over to view.c.
 *
 * A table schema.t becomes the SQLite table "schema.t" whose columns
 * have the storage class of their SQL Server type and its collation
 * (types.c), and nothing else: NOT NULL, identity, defaults, computed
 * and rowversion columns are enforced by dml.c with SQL Server's errors,
 * and PRIMARY KEY / UNIQUE constraints become SQLite unique indexes
 * "schema.t$name" so that ALTER TABLE can add and drop them.  FOREIGN
 * KEY constraints are parsed here and defined, checked and enforced by
 * fk.c (never by SQLite).  Metadata rows and the SQLite schema change in
 * the same write transaction.
 *
 * In the compile pass (engine.c, s->dry) every statement is parsed to
 * its end and returns before it checks objects, principals or
 * permissions, which an earlier statement of the batch may change
 * (deferred name resolution): ALTER TABLE parses with no table when it
 * does not exist yet.  Those checks, and their errors, come when it runs.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine.h"

#define MAXCOLS 1024
#define NOW_DT "sim_cast(sim_now(0), 'datetime', NULL, 'datetime2(7)')"
#define MAXKEY 32

struct coldef {
	char name[129];
	struct sim_type t;
	int nullable; /* -1 unspecified */
	int identity;
	int64_t seed, incr;
	int rowversion;
	char *def;
	char *comp;
	int persisted;
};

struct keydef {
	char name[129];
	int pk;
	int clustered; /* -1 default */
	int n;
	char cols[MAXKEY][129];
	int desc[MAXKEY];
};

struct checkdef {
	char name[129];
	char col[129]; /* column constraint: its column */
	char *text;
};

struct tabledef {
	struct coldef *cols;
	int ncols;
	struct keydef keys[16];
	int nkeys;
	struct checkdef checks[16];
	int nchecks;
	struct fkdef *fks; /* FOREIGN KEY constraints (fk.c) */
	int nfks;
	int nocheck; /* ALTER TABLE t WITH NOCHECK ADD */
};

static int ddl_check_owner(struct parser *, const char *);
static int ddl_stmt(struct parser *, const char *, const char *);
static int ddl_alter_column(struct parser *, struct table *);
static int ddl_check(
    struct parser *, struct tabledef *, const char *, const char *);
static int ddl_create_checks(
    struct parser *, const char *, const char *, struct tabledef *);
static int ddl_fk(
    struct parser *, struct tabledef *, const char *, const char *);

/*
 * A #temp table lives in the connection's SQLite TEMP database with its
 * own copy of the metadata tables (catalog_init_temp), so that it is
 * private to the session and gone when the session ends.  DDL on it is
 * the DDL of ordinary tables with its SQL pointed at "temp".
 */
static char *
ddl_fix(struct parser *p, const char *sql)
{
	static const char *from[] = { "main.sim_", "CREATE TABLE \"",
		"CREATE UNIQUE INDEX \"", "CREATE  INDEX \"", "DROP TABLE \"",
		"ALTER TABLE \"", "DROP INDEX \"", "DROP INDEX IF EXISTS \"",
		NULL };
	static const char *to[] = { "temp.sim_", "CREATE TEMP TABLE \"",
		"CREATE UNIQUE INDEX temp.\"", "CREATE  INDEX temp.\"",
		"DROP TABLE temp.\"", "ALTER TABLE temp.\"",
		"DROP INDEX temp.\"", "DROP INDEX IF EXISTS temp.\"", NULL };
	struct sbuf b;
	const char *q = sql;
	int i, hit;

	sbuf_init(&b);
	while (*q != '\0') {
		for (i = 0, hit = 0; p->s->ddl_temp && from[i] != NULL; i++) {
			if (strncmp(q, from[i], strlen(from[i])) == 0) {
				sbuf_add(&b, to[i], strlen(to[i]));
				q += strlen(from[i]);
				hit = 1;
				break;
			}
		}
		if (!hit)
			sbuf_add(&b, q++, 1);
	}
	sbuf_add(&b, "", 1);
	return ((char *)b.data);
}

/* Run SQL on the session connection. */
static int
ddl_exec(struct parser *p, const char *sql0)
{
	char *msg = NULL, *sql;

	if (p->s->dry)
		return (engine_dry_stop(p->s, p->err));
	sql = ddl_fix(p, sql0);

	if (sqlite3_exec(p->s->db, sql, NULL, NULL, &msg) == SQLITE_OK) {
		free(sql);
		return (0);
	}
	if (sim_error_from_sqlite(msg, p->err) == -1)
		sim_error_set(p->err, 50000, 16, 1, "mssqlsim: %s (%s)",
		    msg ? msg : "?", sql);
	sqlite3_free(msg);
	free(sql);
	return (-1);
}

/* Run SQL built with sqlite3_mprintf. */
static int
ddl_execf(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int rc;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	rc = ddl_exec(p, sql);
	sqlite3_free(sql);
	return (rc);
}

/* GETDATE() as datetime text (master's connection lacks sim_now). */
static const char *
ddl_now(struct parser *p, char *buf, size_t len)
{
	sqlite3_stmt *st;

	snprintf(buf, len, "1900-01-01 00:00:00.000");
	if (sqlite3_prepare_v2(p->s->db, "SELECT " NOW_DT, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(buf, len, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	return (buf);
}

/* Run SQL on master (the session's master connection). */
static int
ddl_mexecf(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char *sql, *msg = NULL;
	int rc = 0;

	if (p->s->dry)
		return (engine_dry_stop(p->s, p->err));
	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_exec(engine_mdb(p->s), sql, NULL, NULL, &msg) !=
	    SQLITE_OK) {
		if (sim_error_from_sqlite(msg, p->err) == -1)
			sim_error_set(p->err, 50000, 16, 1, "mssqlsim: %s",
			    msg ? msg : "?");
		rc = -1;
	}
	sqlite3_free(msg);
	sqlite3_free(sql);
	engine_master_sync(p->s);
	return (rc);
}

/* One integer from a query on master, def if none. */
static int64_t
ddl_mint(struct parser *p, int64_t def, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	char *sql;
	int64_t v = def;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(engine_mdb(p->s), sql, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return (v);
}

/* One integer from a query built with sqlite3_mprintf, def if none. */
static int64_t
ddl_int(struct parser *p, int64_t def, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	char *sql, *fixed;
	int64_t v = def;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	fixed = ddl_fix(p, sql);
	if (sqlite3_prepare_v2(p->s->db, fixed, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) != SQLITE_NULL)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	free(fixed);
	sqlite3_free(sql);
	return (v);
}

/* Allocate the next object_id (also for view.c). */
int64_t
ddl_next_object_id(struct parser *p)
{
	int64_t id =
	    catalog_meta_get(p->s->db, "main", "next_object_id", 885578193);

	catalog_meta_set(p->s->db, "main", "next_object_id", id + 16000057);
	return (id);
}

/* Is this statement DDL that ddl.c runs? */
int
catalog_is_ddl(struct parser *p)
{
	return (p_kw(p, "CREATE") || p_kw(p, "DROP") || p_kw(p, "ALTER") ||
	    p_kw(p, "GRANT") || p_kw(p, "DENY") || p_kw(p, "REVOKE"));
}

/* Only sysadmin and db_owner may run DDL (checked when it runs). */
static int
ddl_check_owner(struct parser *p, const char *what)
{
	if (p->s->dry || catalog_is_member(p->s, "db_owner"))
		return (0);
	sim_error_set(p->err, 262, 14, 1,
	    "%s permission denied in database "
	    "'%s'.",
	    what, p->s->dbname);
	return (-1);
}

/* sys.columns precision and scale of a type (also for view.c). */
void
ddl_precision(const struct sim_type *t, int *prec, int *scale)
{
	*scale = 0;
	switch (t->id) {
	case SIMT_TINYINT:
		*prec = 3;
		break;
	case SIMT_SMALLINT:
		*prec = 5;
		break;
	case SIMT_INT:
		*prec = 10;
		break;
	case SIMT_BIGINT:
	case SIMT_MONEY:
		*prec = 19;
		*scale = t->id == SIMT_MONEY ? 4 : 0;
		break;
	case SIMT_SMALLMONEY:
		*prec = 10;
		*scale = 4;
		break;
	case SIMT_BIT:
		*prec = 1;
		break;
	case SIMT_REAL:
		*prec = 24;
		break;
	case SIMT_FLOAT:
		*prec = 53;
		break;
	case SIMT_DATETIME:
		*prec = 23;
		*scale = 3;
		break;
	case SIMT_SMALLDATETIME:
		*prec = 16;
		break;
	case SIMT_DATE:
		*prec = 10;
		break;
	case SIMT_TIME:
		*scale = t->scale;
		*prec = t->scale ? 9 + t->scale : 8;
		break;
	case SIMT_DATETIME2:
		*scale = t->scale;
		*prec = t->scale ? 20 + t->scale : 19;
		break;
	case SIMT_DATETIMEOFFSET:
		*scale = t->scale;
		*prec = t->scale ? 27 + t->scale : 26;
		break;
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
		*prec = t->precision;
		*scale = t->scale;
		break;
	default:
		*prec = 0;
		break;
	}
}

/* IDENTITY [(seed, incr)] */
static int
ddl_identity(struct parser *p, struct coldef *c)
{
	c->identity = 1;
	c->seed = c->incr = 1;
	if (!p_accept_op(p, "("))
		return (0);
	if (p_int(p, &c->seed) == -1 || p_expect_op(p, ",") == -1 ||
	    p_int(p, &c->incr) == -1 || p_expect_op(p, ")") == -1)
		return (-1);
	return (0);
}

/* DEFAULT expr: keep its source text. */
static int
ddl_default(struct parser *p, struct coldef *c)
{
	struct sbuf b;
	struct sim_type t;
	int start = p->pos;

	sbuf_init(&b);
	if (compile_value(p, &b, &t) == -1) {
		sbuf_free(&b);
		return (-1);
	}
	sbuf_free(&b);
	free(c->def);
	c->def = compile_source(p, start, p->pos);
	return (0);
}

/* ( col [ASC|DESC], ... ) of a key. */
static int
ddl_keycols(struct parser *p, struct keydef *k)
{
	if (p_expect_op(p, "(") == -1)
		return (-1);
	do {
		if (k->n == MAXKEY)
			return (p_syntax(p));
		if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
			return (p_syntax(p));
		snprintf(k->cols[k->n], 129, "%s", p_tok(p)->text);
		p->pos++;
		k->desc[k->n] = p_accept_kw(p, "DESC");
		if (!k->desc[k->n])
			p_accept_kw(p, "ASC");
		k->n++;
	} while (p_accept_op(p, ","));
	return (p_expect_op(p, ")"));
}

/* PRIMARY KEY | UNIQUE [CLUSTERED|NONCLUSTERED] [(cols)] */
static int
ddl_key(
    struct parser *p, struct keydef *k, const char *name, const char *onecol)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name ? name : "");
	if (p_accept_kw(p, "PRIMARY")) {
		if (p_expect_kw(p, "KEY") == -1)
			return (-1);
		k->pk = 1;
	} else if (p_expect_kw(p, "UNIQUE") == -1)
		return (-1);
	k->clustered = p_accept_kw(p, "CLUSTERED") ? 1
	    : p_accept_kw(p, "NONCLUSTERED")       ? 0
						   : -1;
	if (onecol != NULL && !p_op(p, "(")) {
		snprintf(k->cols[0], 129, "%s", onecol);
		k->n = 1;
	} else if (ddl_keycols(p, k) == -1)
		return (-1);
	if (p_kw(p, "WITH") && lex_is_op(&p->lx->t[p->pos + 1], "(")) {
		while (!p_op(p, ")") && p_tok(p)->kind != LEX_EOF)
			p->pos++;
		p->pos++;
	}
	if (p_accept_kw(p, "ON") && p_tok(p)->kind != LEX_EOF)
		p->pos++;
	return (0);
}

/* Column constraints after the type. */
static int
ddl_col_constraints(struct parser *p, struct coldef *c, struct tabledef *td)
{
	char cname[129];

	for (;;) {
		cname[0] = '\0';
		if (p_accept_kw(p, "CONSTRAINT")) {
			if (p_tok(p)->kind != LEX_IDENT &&
			    p_tok(p)->kind != LEX_QIDENT)
				return (p_syntax(p));
			snprintf(cname, sizeof(cname), "%s", p_tok(p)->text);
			p->pos++;
		}
		if (p_accept_kw(p, "NOT")) {
			if (p_expect_kw(p, "NULL") == -1)
				return (-1);
			c->nullable = 0;
		} else if (p_accept_kw(p, "NULL"))
			c->nullable = 1;
		else if (p_accept_kw(p, "IDENTITY")) {
			if (ddl_identity(p, c) == -1)
				return (-1);
		} else if (p_accept_kw(p, "DEFAULT")) {
			if (ddl_default(p, c) == -1)
				return (-1);
		} else if (p_kw(p, "PRIMARY") || p_kw(p, "UNIQUE")) {
			if (td->nkeys == 16 ||
			    ddl_key(p, &td->keys[td->nkeys], cname, c->name) ==
				-1)
				return (-1);
			td->nkeys++;
		} else if (p_kw(p, "CHECK")) {
			if (ddl_check(p, td, cname, c->name) == -1)
				return (-1);
		} else if (p_kw(p, "FOREIGN") || p_kw(p, "REFERENCES")) {
			if (ddl_fk(p, td, cname, c->name) == -1)
				return (-1);
		} else if (p_accept_kw(p, "COLLATE") ||
		    p_accept_kw(p, "ROWGUIDCOL") || p_accept_kw(p, "SPARSE")) {
			if (p->lx->t[p->pos - 1].text[0] == 'C' ||
			    p->lx->t[p->pos - 1].text[0] == 'c')
				p->pos++;
		} else if (cname[0] != '\0')
			return (p_syntax(p));
		else
			return (0);
	}
}

/* CHECK (expr): keep the expression's source text. */
static int
ddl_check(
    struct parser *p, struct tabledef *td, const char *name, const char *col)
{
	struct checkdef *k;
	struct sbuf b;
	struct sim_type t;
	int start, depth = 0;

	p->pos++;
	if (td->nchecks == 16 || !p_op(p, "("))
		return (p_syntax(p));
	start = p->pos;
	do {
		if (p_tok(p)->kind == LEX_EOF)
			return (p_syntax(p));
		if (p_op(p, "("))
			depth++;
		else if (p_op(p, ")"))
			depth--;
		p->pos++;
	} while (depth > 0);
	(void)b;
	(void)t;
	k = &td->checks[td->nchecks++];
	snprintf(k->name, sizeof(k->name), "%s", name ? name : "");
	snprintf(k->col, sizeof(k->col), "%s", col ? col : "");
	k->text = compile_source(p, start, p->pos);
	return (0);
}

/* A FOREIGN KEY constraint of a table definition (fk.c). */
static int
ddl_fk(struct parser *p, struct tabledef *td, const char *name, const char *col)
{
	td->fks = util_xrealloc(td->fks, (td->nfks + 1) * sizeof(*td->fks));
	if (fk_parse(p, &td->fks[td->nfks], name, col) == -1)
		return (-1);
	td->nfks++;
	return (0);
}

/* name AS (expr) [PERSISTED] [NOT NULL] */
static int
ddl_computed(struct parser *p, struct coldef *c)
{
	int start, depth = 0;

	p->pos++;
	start = p->pos;
	do {
		if (p_tok(p)->kind == LEX_EOF)
			return (p_syntax(p));
		if (p_op(p, "("))
			depth++;
		else if (p_op(p, ")"))
			depth--;
		p->pos++;
	} while (depth > 0 ||
	    (!p_op(p, ",") && !p_op(p, ")") && !p_kw(p, "PERSISTED") &&
		!p_kw(p, "NOT") && !p_kw(p, "NULL")));
	c->comp = compile_source(p, start, p->pos);
	c->persisted = p_accept_kw(p, "PERSISTED");
	if (p_accept_kw(p, "NOT") && p_expect_kw(p, "NULL") == -1)
		return (-1);
	c->nullable = 1;
	return (0);
}

/* One column definition. */
static int
ddl_coldef(struct parser *p, struct coldef *c, struct tabledef *td)
{
	char tname[64];

	memset(c, 0, sizeof(*c));
	c->nullable = -1;
	if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
		return (p_syntax(p));
	snprintf(c->name, sizeof(c->name), "%s", p_tok(p)->text);
	p->pos++;
	if (p_kw(p, "AS"))
		return (ddl_computed(p, c));
	if (p_type(p, &c->t, tname, sizeof(tname)) == -1)
		return (-1);
	c->rowversion = c->t.id == SIMT_TIMESTAMP;
	return (ddl_col_constraints(p, c, td));
}

static void
tabledef_free(struct tabledef *td)
{
	int i;

	for (i = 0; i < td->nchecks; i++)
		free(td->checks[i].text);
	free(td->fks);
	for (i = 0; i < td->ncols; i++) {
		free(td->cols[i].def);
		free(td->cols[i].comp);
	}
	free(td->cols);
}

/* Column definitions and table constraints up to ")". */
static int
ddl_elements(struct parser *p, struct tabledef *td, int parens)
{
	char cname[129];

	if (parens && p_expect_op(p, "(") == -1)
		return (-1);
	do {
		cname[0] = '\0';
		if (p_kw(p, "CONSTRAINT") &&
		    (lex_is_kw(&p->lx->t[p->pos + 2], "PRIMARY") ||
			lex_is_kw(&p->lx->t[p->pos + 2], "UNIQUE") ||
			lex_is_kw(&p->lx->t[p->pos + 2], "CHECK") ||
			lex_is_kw(&p->lx->t[p->pos + 2], "FOREIGN"))) {
			p->pos++;
			snprintf(cname, sizeof(cname), "%s", p_tok(p)->text);
			p->pos++;
		}
		if (p_kw(p, "CHECK")) {
			if (ddl_check(p, td, cname, NULL) == -1)
				return (-1);
			continue;
		}
		if (p_kw(p, "PRIMARY") || p_kw(p, "UNIQUE")) {
			if (td->nkeys == 16 ||
			    ddl_key(p, &td->keys[td->nkeys], cname, NULL) == -1)
				return (-1);
			td->nkeys++;
			continue;
		}
		if (p_kw(p, "FOREIGN")) {
			if (ddl_fk(p, td, cname, NULL) == -1)
				return (-1);
			continue;
		}
		if (p_kw(p, "CONSTRAINT") || p_kw(p, "FOREIGN") ||
		    p_kw(p, "CHECK") || p_kw(p, "INDEX"))
			return (p_syntax(p));
		if (td->ncols == MAXCOLS)
			return (p_syntax(p));
		td->cols = util_xrealloc(
		    td->cols, (td->ncols + 1) * sizeof(*td->cols));
		if (ddl_coldef(p, &td->cols[td->ncols], td) == -1) {
			td->ncols++;
			return (-1);
		}
		td->ncols++;
	} while (p_accept_op(p, ","));
	return (parens ? p_expect_op(p, ")") : 0);
}

/* Table name parts into schema and name (current database only). */
static int
ddl_table_name(struct parser *p, char *schema, char *name)
{
	char parts[4][129];
	int n;

	if ((n = p_name(p, parts, 3)) < 1)
		return (-1);
	if (n == 3 && strcasecmp(parts[0], p->s->dbname) != 0) {
		sim_error_set(p->err, 2760, 16, 1,
		    "The specified schema name "
		    "\"%s\" either does not exist or you do not have "
		    "permission "
		    "to use it.",
		    parts[0]);
		return (-1);
	}
	snprintf(schema, 129, "%s",
	    n > 1 && parts[n - 2][0] ? parts[n - 2] : p->s->defschema);
	snprintf(name, 129, "%s", parts[n - 1]);
	if (name[0] == '#') {
		p->s->ddl_temp = 1; /* #temp: see ddl_fix() */
		catalog_init_temp(p->s->db, p->err);
		snprintf(schema, 129, "dbo");
	}
	return (0);
}

/*
 * The clustered key of a CREATE TABLE: a PRIMARY KEY without CLUSTERED
 * or NONCLUSTERED is clustered unless a UNIQUE constraint is declared
 * CLUSTERED (CREATE TABLE, "CLUSTERED | NONCLUSTERED"); more than one
 * clustered key is 8112 (measured, SIM).
 */
static int
ddl_resolve_clustered(struct parser *p, struct tabledef *td, const char *table)
{
	int i, explicit = 0, n = 0;

	for (i = 0; i < td->nkeys; i++)
		explicit += !td->keys[i].pk && td->keys[i].clustered == 1;
	for (i = 0; i < td->nkeys; i++) {
		if (td->keys[i].clustered == -1)
			td->keys[i].clustered = td->keys[i].pk && explicit == 0;
		n += td->keys[i].clustered;
	}
	if (n > 1) {
		sim_error_set(p->err, 8112, 16, 1,
		    "Cannot add more than one clustered index for constraints "
		    "on table '%s'.",
		    table);
		return (-1);
	}
	return (0);
}

/* Validate keys and identity; PK columns become NOT NULL. */
static int
ddl_validate(struct parser *p, struct tabledef *td, const char *table)
{
	int i, j, k, pks = 0, idents = 0, found;

	for (i = 0; i < td->nkeys; i++) {
		pks += td->keys[i].pk;
		for (j = 0; j < td->keys[i].n; j++) {
			for (k = 0, found = 0; k < td->ncols && !found; k++) {
				if (strcasecmp(td->cols[k].name,
					td->keys[i].cols[j]) != 0)
					continue;
				found = 1;
				if (td->keys[i].pk &&
				    td->cols[k].nullable == 1) {
					sim_error_set(p->err, 8111, 16, 1,
					    "Cannot define PRIMARY KEY "
					    "constraint on nullable column in "
					    "table '%s'.",
					    table);
					return (-1);
				}
				if (td->keys[i].pk)
					td->cols[k].nullable = 0;
			}
			if (!found) {
				sim_error_set(p->err, 1911, 16, 1,
				    "Column name "
				    "'%s' does not exist in the target table "
				    "or "
				    "view.",
				    td->keys[i].cols[j]);
				return (-1);
			}
		}
	}
	for (i = 0; i < td->ncols; i++)
		idents += td->cols[i].identity;
	if (pks > 1) {
		sim_error_set(p->err, 8110, 16, 1,
		    "Cannot add multiple PRIMARY "
		    "KEY constraints to table '%s'.",
		    table);
		return (-1);
	}
	if (ddl_resolve_clustered(p, td, table) == -1)
		return (-1);
	if (idents > 1) {
		sim_error_set(p->err, 2744, 16, 2,
		    "Multiple identity columns "
		    "specified for table '%s'. Only one identity column per "
		    "table is allowed.",
		    table);
		return (-1);
	}
	return (0);
}

/* Insert the metadata row of one column. */
static int
ddl_insert_column(struct parser *p, int64_t oid, int colid, struct coldef *c)
{
	char tname[80];
	sqlite3_stmt *st;
	int prec, scale, rc;

	simtype_format(&c->t, tname, sizeof(tname));
	ddl_precision(&c->t, &prec, &scale);
	if (sqlite3_prepare_v2(p->s->db,
		p->s->ddl_temp
		    ? "INSERT INTO temp.sim_columns VALUES "
		      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
		    : "INSERT INTO main.sim_columns VALUES "
		      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
		-1, &st, NULL) != SQLITE_OK)
		return (engine_sqlite_error(p->s, p->err));
	sqlite3_bind_int64(st, 1, oid);
	sqlite3_bind_int(st, 2, colid);
	sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tname, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, c->t.id);
	sqlite3_bind_int(st, 6, c->t.maxlen);
	sqlite3_bind_int(st, 7, prec);
	sqlite3_bind_int(st, 8, scale);
	sqlite3_bind_int(
	    st, 9, c->nullable != 0 && !c->identity && !c->rowversion);
	sqlite3_bind_int(st, 10, c->identity);
	sqlite3_bind_int(st, 11, c->comp != NULL);
	sqlite3_bind_int(st, 12, c->rowversion);
	if (c->comp)
		sqlite3_bind_text(st, 13, c->comp, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, c->persisted);
	if (c->def)
		sqlite3_bind_text(st, 15, c->def, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc == -1)
		return (engine_sqlite_error(p->s, p->err));
	return (0);
}

/* The SQLite column declaration of a column. */
static void
ddl_sqlite_coldecl(struct coldef *c, struct sbuf *b)
{
	static const char *storage[] = { "", "INTEGER", "REAL", "TEXT", "BLOB",
		"" };
	const char *coll;
	char *q;
	int st = simtype_storage(&c->t);

	q = sqlite3_mprintf(
	    "\"%w\" %s", c->name, st >= 1 && st <= 4 ? storage[st] : "");
	sbuf_add(b, q, strlen(q));
	sqlite3_free(q);
	if ((coll = simtype_collation(&c->t)) != NULL &&
	    strcasecmp(coll, "BINARY") != 0) {
		sbuf_add(b, " COLLATE ", 9);
		sbuf_add(b, coll, strlen(coll));
	}
}

/* The type of a computed column, from its expression. */
static int
ddl_computed_types(struct parser *p, struct tabledef *td, const char *name)
{
	struct table t;
	struct sbuf b;
	int i, rc = 0;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.cols = util_xmalloc((td->ncols + 1) * sizeof(*t.cols));
	memset(t.cols, 0, (td->ncols + 1) * sizeof(*t.cols));
	for (i = 0; i < td->ncols; i++) {
		if (td->cols[i].comp != NULL)
			continue;
		snprintf(t.cols[t.ncols].c.name, 129, "%s", td->cols[i].name);
		t.cols[t.ncols++].c.type = td->cols[i].t;
	}
	sbuf_init(&b);
	for (i = 0; i < td->ncols && rc == 0; i++) {
		if (td->cols[i].comp == NULL)
			continue;
		sbuf_reset(&b);
		rc = compile_expr_text(
		    p->s, &t, td->cols[i].comp, &b, &td->cols[i].t, p->err);
	}
	sbuf_free(&b);
	free(t.cols);
	return (rc);
}

/* Default constraint name DF__table__col__hex / PK__table__hex. */
static void
ddl_auto_name(char *buf, const char *prefix, const char *table, const char *col,
    int64_t id)
{
	if (col != NULL)
		snprintf(buf, 129, "%s__%.9s__%.5s__%08llX", prefix, table, col,
		    (unsigned long long)(id & 0xffffffff));
	else
		snprintf(buf, 129, "%s__%.8s__%016llX", prefix, table,
		    (unsigned long long)(id * 2654435761ULL));
}

/*
 * 1902 if the table already has a clustered index (index_id 1): a
 * table is stored in one order (measured, SIM: state 3).
 */
static int
ddl_clustered_exists(struct parser *p, int64_t oid, const char *table)
{
	char name[129] = "";
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(p->s->db,
		"SELECT name FROM main.sim_indexes WHERE object_id = ? AND "
		"index_id = 1",
		-1, &st, NULL) != SQLITE_OK)
		return (engine_sqlite_error(p->s, p->err));
	sqlite3_bind_int64(st, 1, oid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(name, sizeof(name), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		sim_error_set(p->err, 1902, 16, 3,
		    "Cannot create more than one clustered index on table "
		    "'%s'. Drop the existing clustered index '%s' before "
		    "creating another.",
		    table, name);
		return (-1);
	}
	sqlite3_finalize(st);
	return (0);
}

/* The index_id of a new nonclustered index: 2 and up (1 is clustered). */
static int
ddl_next_index_id(struct parser *p, int64_t oid)
{
	int64_t max = ddl_int(p, 0,
	    "SELECT max(index_id) FROM main.sim_indexes WHERE object_id = %lld",
	    (long long)oid);

	return ((int)(max < 1 ? 2 : max + 1));
}

/* Create one PK/UNIQUE key: constraint object, index, SQLite index. */
static int
ddl_create_key(struct parser *p, int64_t oid, int schema_id, const char *schema,
    const char *table, struct keydef *k, int index_id)
{
	struct sbuf b;
	char *q;
	int64_t kid = ddl_next_object_id(p);
	int j, colid, rc, clustered = k->clustered == -1 ? k->pk : k->clustered;

	if (k->name[0] == '\0')
		ddl_auto_name(k->name, k->pk ? "PK" : "UQ", table, NULL, kid);
	if (clustered && ddl_clustered_exists(p, oid, table) == -1)
		return (-1);
	if (ddl_int(p, 0,
		"SELECT count(*) FROM main.sim_objects WHERE name = "
		"%Q AND schema_id = %d",
		k->name, schema_id) > 0) {
		sim_error_set(p->err, 2714, 16, 5,
		    "There is already an object "
		    "named '%s' in the database.",
		    k->name);
		return (-1);
	}
	if (ddl_execf(p,
		"INSERT INTO main.sim_objects(object_id, name, "
		"schema_id, type, parent_object_id, create_date, modify_date) "
		"VALUES (%lld, %Q, %d, %Q, %lld, " NOW_DT ", " NOW_DT ")",
		(long long)kid, k->name, schema_id, k->pk ? "PK" : "UQ",
		(long long)oid) == -1 ||
	    ddl_execf(p,
		"INSERT INTO main.sim_indexes VALUES (%lld, %d, %Q, "
		"%d, 1, %d, %d, %lld)",
		(long long)oid, clustered ? 1 : index_id, k->name,
		clustered ? 1 : 2, k->pk, !k->pk, (long long)kid) == -1)
		return (-1);
	if (clustered)
		ddl_execf(p,
		    "DELETE FROM main.sim_indexes WHERE object_id = "
		    "%lld AND index_id = 0",
		    (long long)oid);
	sbuf_init(&b);
	q = sqlite3_mprintf("CREATE UNIQUE INDEX \"%w.%w$%w\" ON \"%w.%w\" (",
	    schema, table, k->name, schema, table);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (j = 0; j < k->n; j++) {
		colid = (int)ddl_int(p, 0,
		    "SELECT column_id FROM "
		    "main.sim_columns WHERE object_id = %lld AND name = %Q",
		    (long long)oid, k->cols[j]);
		ddl_execf(p,
		    "INSERT INTO main.sim_index_columns VALUES (%lld, "
		    "%d, %d, %d, %d, %d, 0)",
		    (long long)oid, clustered ? 1 : index_id, j + 1, colid,
		    j + 1, k->desc[j]);
		q = sqlite3_mprintf("%s\"%w\"%s", j ? ", " : "", k->cols[j],
		    k->desc[j] ? " DESC" : "");
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	sbuf_add(&b, ")", 2);
	rc = ddl_exec(p, (char *)b.data);
	sbuf_free(&b);
	return (rc);
}

/* Create one CHECK constraint of table t (existing rows must pass). */
static int
ddl_create_check(struct parser *p, struct table *t, struct checkdef *k)
{
	struct sbuf b;
	struct sim_type ty;
	int64_t id = ddl_next_object_id(p), bad;
	int colid = 0, i, rc;

	for (i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i].c.name, k->col) == 0)
			colid = t->cols[i].column_id;
	if (k->name[0] == '\0')
		ddl_auto_name(
		    k->name, "CK", t->name, k->col[0] ? k->col : NULL, id);
	sbuf_init(&b);
	if (compile_expr_text(p->s, t, k->text, &b, &ty, p->err) == -1) {
		sbuf_free(&b);
		return (-1);
	}
	sbuf_add(&b, "", 1);
	bad = ddl_int(p, 0,
	    "SELECT count(*) FROM %s AS \"%w\" WHERE NOT "
	    "(%s)",
	    t->sqlname, t->name, (char *)b.data);
	sbuf_free(&b);
	if (bad > 0) {
		sim_error_set(p->err, 547, 16, 0,
		    "The ALTER TABLE statement "
		    "conflicted with the CHECK constraint \"%s\". The conflict "
		    "occurred in database \"%s\", table \"%s.%s\".",
		    k->name, p->s->dbname, t->schema, t->name);
		return (-1);
	}
	rc = ddl_execf(p,
	    "CREATE TABLE IF NOT EXISTS main.sim_checks("
	    "object_id INTEGER PRIMARY KEY, definition TEXT, column_id "
	    "INTEGER)");
	if (rc == 0)
		rc = ddl_execf(p,
		    "INSERT INTO main.sim_objects(object_id, name, "
		    "schema_id, type, parent_object_id, create_date, "
		    "modify_date) VALUES (%lld, %Q, %d, 'C', %lld, " NOW_DT
		    ", " NOW_DT ")",
		    (long long)id, k->name, t->schema_id,
		    (long long)t->object_id);
	if (rc == 0)
		rc = ddl_execf(p,
		    "INSERT INTO main.sim_checks VALUES (%lld, "
		    "%Q, %d)",
		    (long long)id, k->text, colid);
	return (rc);
}

/* Create the CHECK constraints of a table definition. */
static int
ddl_create_checks(
    struct parser *p, const char *schema, const char *name, struct tabledef *td)
{
	struct table *t;
	int i, rc = 0;

	if (td->nchecks == 0)
		return (0);
	/* TEMP: #temp tables and table variables (tablevar.c) */
	if ((t = catalog_table_in(p->s, p->s->ddl_temp ? "temp" : "main",
		 schema, name, p->err)) == NULL)
		return (-1);
	for (i = 0; i < td->nchecks && rc == 0; i++)
		rc = ddl_create_check(p, t, &td->checks[i]);
	catalog_table_free(t);
	return (rc);
}

/*
 * Create the FOREIGN KEY constraints of a table definition; on a
 * #temp table they are skipped with SQL Server's notice 1756.
 */
static int
ddl_create_fks(
    struct parser *p, const char *schema, const char *name, struct tabledef *td)
{
	struct table *t;
	int i, rc = 0;

	if (td->nfks == 0)
		return (0);
	if (p->s->ddl_temp) {
		for (i = 0; i < td->nfks; i++)
			engine_info(p->s, 1756,
			    "Skipping FOREIGN KEY constraint '%s' definition "
			    "for temporary table. FOREIGN KEY constraints are "
			    "not enforced on local or global temporary tables.",
			    name);
		return (0);
	}
	if ((t = catalog_table(p->s, schema, name, p->err)) == NULL)
		return (-1);
	for (i = 0; i < td->nfks && rc == 0; i++)
		rc = fk_create(
		    p, t, &td->fks[i], ddl_next_object_id(p), td->nocheck);
	catalog_table_free(t);
	return (rc);
}

/* Write the metadata and SQLite table of a new table. */
static int
ddl_create_table_rows(struct parser *p, const char *schema, int schema_id,
    const char *name, struct tabledef *td)
{
	struct sbuf b;
	int64_t oid = ddl_next_object_id(p);
	int i, nextidx = 2;
	char *q;

	for (i = 0; i < td->ncols; i++)
		if (td->cols[i].identity && ddl_execf(p, "SELECT 1") == -1)
			return (-1);
	if (ddl_execf(p,
		"INSERT INTO main.sim_objects(object_id, name, "
		"schema_id, type, create_date, modify_date, next_column_id, "
		"ident_seed, ident_incr) VALUES (%lld, %Q, %d, 'U', " NOW_DT
		", " NOW_DT ", %d, NULL, NULL)",
		(long long)oid, name, schema_id, td->ncols + 1) == -1)
		return (-1);
	sbuf_init(&b);
	q = sqlite3_mprintf("CREATE TABLE \"%w.%w\" (", schema, name);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < td->ncols; i++) {
		if (td->cols[i].identity)
			ddl_execf(p,
			    "UPDATE main.sim_objects SET ident_seed = "
			    "%lld, ident_incr = %lld WHERE object_id = %lld",
			    (long long)td->cols[i].seed,
			    (long long)td->cols[i].incr, (long long)oid);
		if (ddl_insert_column(p, oid, i + 1, &td->cols[i]) == -1) {
			sbuf_free(&b);
			return (-1);
		}
		if (i > 0)
			sbuf_add(&b, ", ", 2);
		ddl_sqlite_coldecl(&td->cols[i], &b);
	}
	sbuf_add(&b, ")", 2);
	if (ddl_exec(p, (char *)b.data) == -1 ||
	    ddl_execf(p,
		"INSERT INTO main.sim_indexes VALUES (%lld, 0, NULL, "
		"0, 0, 0, 0, 0)",
		(long long)oid) == -1) {
		sbuf_free(&b);
		return (-1);
	}
	sbuf_free(&b);
	for (i = 0; i < td->nkeys; i++)
		if (ddl_create_key(p, oid, schema_id, schema, name,
			&td->keys[i],
			td->keys[i].clustered ? 1 : nextidx++) == -1)
			return (-1);
	if (ddl_create_checks(p, schema, name, td) == -1)
		return (-1);
	return (ddl_create_fks(p, schema, name, td));
}

/* CREATE TABLE name ( ... ) */
static int
ddl_create_table(struct parser *p)
{
	struct tabledef td;
	char schema[129], name[129];
	int schema_id, rc = -1;

	memset(&td, 0, sizeof(td));
	if (ddl_table_name(p, schema, name) == -1)
		return (-1);
	if ((schema_id = catalog_schema_id(p->s, schema)) < 0) {
		sim_error_set(p->err, 2760, 16, 1,
		    "The specified schema name "
		    "\"%s\" either does not exist or you do not have "
		    "permission "
		    "to use it.",
		    schema);
		return (-1);
	}
	if (ddl_elements(p, &td, 1) == -1)
		goto out;
	if (p_accept_kw(p, "ON") && p_tok(p)->kind != LEX_EOF)
		p->pos++;
	if (ddl_validate(p, &td, name) == -1 ||
	    ddl_computed_types(p, &td, name) == -1)
		goto out;
	if (p->s->dry) { /* the compile pass: parsed to its end */
		rc = 0;
		goto out;
	}
	if (ddl_int(p, 0,
		"SELECT count(*) FROM main.sim_objects WHERE name = "
		"%Q AND schema_id = %d",
		name, schema_id) > 0) {
		sim_error_set(p->err, 2714, 16, 6,
		    "There is already an object "
		    "named '%s' in the database.",
		    name);
		goto out;
	}
	rc = ddl_stmt(p, NULL, NULL);
	if (rc == 0) {
		rc = ddl_create_table_rows(p, schema, schema_id, name, &td);
		rc = engine_write_end(p->s, rc == 0, p->err);
	}
out:
	tabledef_free(&td);
	return (rc == 0 ? engine_send_done(p->s, 0, 0) == -1 ? -2 : 0 : -1);
}

/*
 * The TEMP table "dbo.@name" of DECLARE @name TABLE (...) (tablevar.c):
 * the column list of CREATE TABLE, made as a #temp table is.  No DONE.
 */
int
ddl_create_tablevar(struct parser *p, const char *name)
{
	struct tabledef td;
	int schema_id, rc = -1;

	memset(&td, 0, sizeof(td));
	p->s->ddl_temp = 1; /* see ddl_fix() */
	if (ddl_elements(p, &td, 1) == -1 || ddl_validate(p, &td, name) == -1 ||
	    ddl_computed_types(p, &td, name) == -1)
		goto out;
	if (p->s->dry) {
		rc = 0;
		goto out;
	}
	schema_id = catalog_schema_id(p->s, "dbo");
	if (catalog_init_temp(p->s->db, p->err) == 0 &&
	    ddl_stmt(p, NULL, NULL) == 0) {
		rc = ddl_create_table_rows(p, "dbo", schema_id, name, &td);
		rc = engine_write_end(p->s, rc == 0, p->err);
	}
out:
	p->s->ddl_temp = 0;
	tabledef_free(&td);
	return (rc);
}

/* Begin the write transaction of a DDL statement. */
static int
ddl_stmt(struct parser *p, const char *a, const char *b)
{
	(void)a;
	(void)b;
	return (engine_write_begin(p->s, p->err));
}

/* Drop one table and its metadata. */
static int
ddl_drop_one(struct parser *p, struct table *t)
{
	long long oid = (long long)t->object_id;

	return (ct_drop_table(p, t) || /* Change Tracking history */
		    fk_drop_table(p, t->object_id) || /* its FOREIGN KEYs */
		    ddl_execf(p, "DROP TABLE \"%w.%w\"", t->schema, t->name) ||
		    ddl_execf(p,
			"DELETE FROM main.sim_objects WHERE object_id = %lld "
			"OR parent_object_id = %lld",
			oid, oid) ||
		    ddl_execf(p,
			"DELETE FROM main.sim_columns WHERE object_id = %lld",
			oid) ||
		    ddl_execf(p,
			"DELETE FROM main.sim_indexes WHERE object_id = %lld",
			oid) ||
		    ddl_execf(p,
			"DELETE FROM main.sim_index_columns WHERE object_id = "
			"%lld",
			oid) ||
		    ddl_execf(p,
			"DELETE FROM main.sim_perms WHERE class = 1 AND "
			"major_id = %lld",
			oid)
		? -1
		: 0);
}

/* DROP TABLE [IF EXISTS] t [, t ...] */
static int
ddl_drop_table(struct parser *p)
{
	char schema[129], name[129];
	struct table *t;
	int ifexists, rc;
	int64_t oid;

	ifexists = p_kw(p, "IF") && lex_is_kw(&p->lx->t[p->pos + 1], "EXISTS");
	if (ifexists)
		p->pos += 2;
	do {
		if (ddl_table_name(p, schema, name) == -1)
			return (-1);
		if (p->s->dry) /* the compile pass: names only */
			continue;
		t = catalog_table(p->s, schema, name, NULL);
		if (t != NULL && t->is_view == 3) { /* a user view */
			sim_error_set(p->err, 3705, 16, 1,
			    "Cannot use DROP TABLE with '%s' because '%s' is "
			    "a view. Use DROP VIEW.",
			    name, name);
			catalog_table_free(t);
			return (-1);
		}
		if (t == NULL || t->is_view) {
			catalog_table_free(t);
			if (ifexists)
				continue;
			sim_error_set(p->err, 3701, 11, 5,
			    "Cannot drop the "
			    "table '%s', because it does not exist or you do "
			    "not "
			    "have permission.",
			    name);
			return (-1);
		}
		if (fk_referenced_check(p->s, t, 0, p->err) == -1 || /* 3726 */
		    engine_write_begin(p->s, p->err) == -1) {
			catalog_table_free(t);
			return (-1);
		}
		rc = ddl_drop_one(p, t);
		oid = t->object_id;
		catalog_table_free(t);
		if (engine_write_end(p->s, rc == 0, p->err) == -1)
			return (-1);
		cdc_drop_source(p->s, oid); /* cdc_proc.c: its instances */
	} while (p_accept_op(p, ","));
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* Evaluate a DEFAULT text once (for ALTER TABLE ADD). */
static int
ddl_fill_default(
    struct parser *p, const char *schema, const char *table, struct coldef *c)
{
	struct sbuf b;
	struct sim_type t;
	char to[80], from[80];
	int rc;

	sbuf_init(&b);
	if (compile_expr_text(p->s, NULL, c->def, &b, &t, p->err) == -1) {
		sbuf_free(&b);
		return (-1);
	}
	sbuf_add(&b, "", 1);
	simtype_format(&c->t, to, sizeof(to));
	simtype_format(&t, from, sizeof(from));
	rc = ddl_execf(p,
	    "UPDATE \"%w.%w\" SET \"%w\" = sim_assign(%s, %Q, "
	    "%Q, %Q, %Q)",
	    schema, table, c->name, (char *)b.data, to, from, table, c->name);
	sbuf_free(&b);
	return (rc);
}

/* Errors 4901 and 2744 of ALTER TABLE ADD. */
static int
ddl_add_check(struct parser *p, struct table *t, struct tabledef *td)
{
	int64_t rows;
	int i;

	rows =
	    ddl_int(p, 0, "SELECT count(*) FROM \"%w.%w\"", t->schema, t->name);
	for (i = 0; i < td->ncols; i++) {
		if (td->cols[i].nullable == 0 && !td->cols[i].def && rows > 0 &&
		    !td->cols[i].identity && !td->cols[i].rowversion) {
			sim_error_set(p->err, 4901, 16, 1,
			    "ALTER TABLE only "
			    "allows columns to be added that can contain "
			    "nulls, "
			    "or have a DEFAULT definition specified, or the "
			    "column being added is an identity or timestamp "
			    "column, or alternatively if none of the previous "
			    "conditions are satisfied the table must be empty "
			    "to allow addition of this column. Column '%s' "
			    "cannot be added to non-empty table '%s' because "
			    "it "
			    "does not satisfy these conditions.",
			    td->cols[i].name, t->name);
			return (-1);
		}
		if (td->cols[i].identity && t->has_identity) {
			sim_error_set(p->err, 2744, 16, 2,
			    "Multiple identity "
			    "columns specified for table '%s'. Only one "
			    "identity column per table is allowed.",
			    t->name);
			return (-1);
		}
	}
	return (0);
}

/* ALTER TABLE t [WITH NOCHECK] ADD col ... | constraint ... */
static int
ddl_add_columns(struct parser *p, struct table *t, int nocheck)
{
	struct tabledef td;
	struct sbuf b;
	int i, colid, rc = -1;

	memset(&td, 0, sizeof(td));
	td.nocheck = nocheck;
	if (ddl_elements(p, &td, 0) == -1 ||
	    (t != NULL && ddl_computed_types(p, &td, t->name) == -1))
		goto out;
	if (p->s->dry) { /* the compile pass: parsed to its end */
		rc = 0;
		goto out;
	}
	if (ddl_add_check(p, t, &td) == -1)
		goto out;
	if (engine_write_begin(p->s, p->err) == -1)
		goto out;
	sbuf_init(&b);
	for (i = 0, rc = 0; i < td.ncols && rc == 0; i++) {
		colid = (int)ddl_int(p, 1,
		    "SELECT next_column_id FROM "
		    "main.sim_objects WHERE object_id = %lld",
		    (long long)t->object_id);
		sbuf_reset(&b);
		ddl_sqlite_coldecl(&td.cols[i], &b);
		sbuf_add(&b, "", 1);
		rc = ddl_insert_column(p, t->object_id, colid, &td.cols[i]);
		if (rc == 0)
			rc = ddl_execf(p,
			    "UPDATE main.sim_objects SET "
			    "next_column_id = %d%s WHERE object_id = %lld",
			    colid + 1,
			    td.cols[i].identity
				? ", ident_seed = 1, ident_incr = 1"
				: "",
			    (long long)t->object_id);
		if (rc == 0)
			rc = ddl_execf(p, "ALTER TABLE \"%w.%w\" ADD COLUMN %s",
			    t->schema, t->name, (char *)b.data);
		if (rc == 0 && td.cols[i].def && !td.cols[i].nullable)
			rc = ddl_fill_default(
			    p, t->schema, t->name, &td.cols[i]);
	}
	sbuf_free(&b);
	for (i = 0; i < td.nkeys && rc == 0; i++)
		rc = ddl_create_key(p, t->object_id, t->schema_id, t->schema,
		    t->name, &td.keys[i], ddl_next_index_id(p, t->object_id));
	if (rc == 0)
		rc = ddl_create_checks(p, t->schema, t->name, &td);
	if (rc == 0)
		rc = ddl_create_fks(p, t->schema, t->name, &td);
	rc = engine_write_end(p->s, rc == 0, p->err);
out:
	tabledef_free(&td);
	return (rc);
}

/* Drop one column (error when an index uses it). */
static int
ddl_drop_column(struct parser *p, struct table *t, const char *col)
{
	int colid = -1, i;

	for (i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i].c.name, col) == 0)
			colid = t->cols[i].column_id;
	if (colid < 0) {
		sim_error_set(p->err, 4924, 16, 1,
		    "ALTER TABLE DROP COLUMN "
		    "failed because column '%s' does not exist in table '%s'.",
		    col, t->name);
		return (-1);
	}
	if (ddl_int(p, 0,
		"SELECT count(*) FROM main.sim_index_columns WHERE "
		"object_id = %lld AND column_id = %d",
		(long long)t->object_id, colid) > 0 ||
	    fk_uses_column(p, t->object_id, colid)) {
		sim_error_set(p->err, 4922, 16, 9,
		    "ALTER TABLE DROP COLUMN %s "
		    "failed because one or more objects access this column.",
		    col);
		return (-1);
	}
	return (ddl_execf(p, "ALTER TABLE \"%w.%w\" DROP COLUMN \"%w\"",
		    t->schema, t->name, col) ||
		    ddl_execf(p,
			"DELETE FROM "
			"main.sim_columns WHERE object_id = %lld AND column_id "
			"= %d",
			(long long)t->object_id, colid)
		? -1
		: 0);
}

/* Drop a PK/UNIQUE constraint. */
static int
ddl_drop_constraint(struct parser *p, struct table *t, const char *name)
{
	int64_t kid;
	int idx;

	kid = ddl_int(p, -1,
	    "SELECT object_id FROM main.sim_objects WHERE "
	    "name = %Q AND parent_object_id = %lld",
	    name, (long long)t->object_id);
	if (kid < 0) {
		sim_error_set(
		    p->err, 3728, 16, 1, "'%s' is not a constraint.", name);
		return (-1);
	}
	if (ct_drop_constraint(p, t, kid) == -1) /* 3735 */
		return (-1);
	if (fk_is_fk(p, kid))
		return (fk_drop(p, kid));
	if (ddl_int(p, 0,
		"SELECT type = 'C' FROM main.sim_objects WHERE "
		"object_id = %lld",
		(long long)kid))
		return (ddl_execf(p,
		    "DELETE FROM main.sim_objects WHERE "
		    "object_id = %lld; DELETE FROM main.sim_checks WHERE "
		    "object_id = %lld",
		    (long long)kid, (long long)kid));
	idx = (int)ddl_int(p, -1,
	    "SELECT index_id FROM main.sim_indexes WHERE "
	    "constraint_id = %lld",
	    (long long)kid);
	if (fk_key_check(p, t, idx, name) == -1) /* fk.c: 3725 */
		return (-1);
	return (ddl_execf(p, "DROP INDEX IF EXISTS \"%w.%w$%w\"", t->schema,
		    t->name, name) ||
		    ddl_execf(p,
			"DELETE FROM main.sim_objects WHERE "
			"object_id = %lld",
			(long long)kid) ||
		    ddl_execf(p,
			"DELETE FROM "
			"main.sim_index_columns WHERE object_id = %lld AND "
			"index_id = %d",
			(long long)t->object_id, idx) ||
		    ddl_execf(p,
			"DELETE FROM "
			"main.sim_indexes WHERE object_id = %lld AND index_id "
			"= %d",
			(long long)t->object_id, idx) ||
		    (idx == 1 &&
			ddl_execf(p,
			    "INSERT INTO main.sim_indexes VALUES (%lld, 0, "
			    "NULL, 0, 0, 0, 0, "
			    "0)",
			    (long long)t->object_id))
		? -1
		: 0);
}

/* ALTER TABLE t DROP COLUMN a, b | DROP CONSTRAINT c */
static int
ddl_alter_drop(struct parser *p, struct table *t)
{
	int rc = 0, constraint;

	if (!p->s->dry && engine_write_begin(p->s, p->err) == -1)
		return (-1);
	do {
		constraint = p_accept_kw(p, "CONSTRAINT");
		if (!constraint && !p_accept_kw(p, "COLUMN")) {
			rc = p_syntax(p);
			break;
		}
		if (p_tok(p)->kind != LEX_IDENT &&
		    p_tok(p)->kind != LEX_QIDENT) {
			rc = p_syntax(p);
			break;
		}
		if (p->s->dry) /* the compile pass: names only */
			rc = 0;
		else if (constraint)
			rc = ddl_drop_constraint(p, t, p_tok(p)->text);
		else
			rc = ddl_drop_column(p, t, p_tok(p)->text);
		p->pos++;
	} while (rc == 0 && p_accept_op(p, ","));
	if (p->s->dry)
		return (rc);
	return (engine_write_end(p->s, rc == 0, p->err));
}

/* Recreate the SQLite indexes of a table from its metadata. */
static int
ddl_reindex(struct parser *p, struct table *t)
{
	sqlite3_stmt *st;
	char *sql, *fixed;
	int rc = 0;

	sql = sqlite3_mprintf(
	    "SELECT 'CREATE ' || CASE WHEN i.is_unique THEN "
	    "'UNIQUE ' ELSE '' END || 'INDEX \"%w.%w$' || replace(i.name, "
	    "'\"', '\"\"') || '\" ON \"%w.%w\" (' || (SELECT "
	    "group_concat('\"' || replace(c.name, '\"', '\"\"') || '\"' || "
	    "CASE WHEN ic.is_descending_key THEN ' DESC' ELSE '' END, ', ') "
	    "FROM (SELECT * FROM main.sim_index_columns ORDER BY key_ordinal) "
	    "ic JOIN main.sim_columns c ON c.object_id = ic.object_id AND "
	    "c.column_id = ic.column_id WHERE ic.object_id = i.object_id AND "
	    "ic.index_id = i.index_id) || ')' FROM main.sim_indexes i WHERE "
	    "i.object_id = %lld AND i.index_id > 0",
	    t->schema, t->name, t->schema, t->name, (long long)t->object_id);
	fixed = ddl_fix(p, sql);
	sqlite3_free(sql);
	if (sqlite3_prepare_v2(p->s->db, fixed, -1, &st, NULL) != SQLITE_OK) {
		free(fixed);
		return (engine_sqlite_error(p->s, p->err));
	}
	free(fixed);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			rc = ddl_exec(
			    p, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return (rc);
}

/* Rebuild t with column ci of type nt (values converted). */
static int
ddl_rebuild(struct parser *p, struct table *t, int ci, struct sim_type *nt)
{
	struct coldef c;
	struct sbuf cr, sel, cols;
	char to[80], from[80], *q;
	int i, rc;

	sbuf_init(&cr);
	sbuf_init(&sel);
	sbuf_init(&cols);
	q = sqlite3_mprintf(
	    "CREATE TABLE \"%w.%w__new\" (", t->schema, t->name);
	sbuf_add(&cr, q, strlen(q));
	sqlite3_free(q);
	for (i = 0; i < t->ncols; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.name, sizeof(c.name), "%s", t->cols[i].c.name);
		c.t = i == ci ? *nt : t->cols[i].c.type;
		if (i > 0) {
			sbuf_add(&cr, ", ", 2);
			sbuf_add(&sel, ", ", 2);
			sbuf_add(&cols, ", ", 2);
		}
		ddl_sqlite_coldecl(&c, &cr);
		q = sqlite3_mprintf("\"%w\"", c.name);
		sbuf_add(&cols, q, strlen(q));
		sqlite3_free(q);
		simtype_format(&t->cols[i].c.type, from, sizeof(from));
		simtype_format(nt, to, sizeof(to));
		q = i == ci ? sqlite3_mprintf("sim_assign(\"%w\", %Q, %Q, %Q, "
					      "%Q)",
				  c.name, to, from, t->name, c.name)
			    : sqlite3_mprintf("\"%w\"", c.name);
		sbuf_add(&sel, q, strlen(q));
		sqlite3_free(q);
	}
	sbuf_add(&cr, ")", 2);
	sbuf_add(&sel, "", 1);
	sbuf_add(&cols, "", 1);
	rc = ddl_exec(p, (char *)cr.data);
	if (rc == 0)
		rc = ddl_execf(p,
		    "INSERT INTO \"%w.%w__new\" (rowid, %s) "
		    "SELECT rowid, %s FROM \"%w.%w\"",
		    t->schema, t->name, (char *)cols.data, (char *)sel.data,
		    t->schema, t->name);
	sbuf_free(&cr);
	sbuf_free(&sel);
	sbuf_free(&cols);
	return (rc);
}

/* The new type of ALTER COLUMN: type [COLLATE c] [NULL | NOT NULL] */
static int
ddl_alter_type(struct parser *p, struct sim_type *nt, int *nullable)
{
	char tname[64];

	*nullable = 1;
	if (p_type(p, nt, tname, sizeof(tname)) == -1)
		return (-1);
	if (p_accept_kw(p, "COLLATE"))
		p->pos++;
	if (p_accept_kw(p, "NOT")) {
		if (p_expect_kw(p, "NULL") == -1)
			return (-1);
		*nullable = 0;
	} else
		p_accept_kw(p, "NULL");
	return (0);
}

/* ALTER TABLE t ALTER COLUMN c type [NULL | NOT NULL] */
static int
ddl_alter_column(struct parser *p, struct table *t)
{
	struct sim_type nt;
	char tn[80];
	int ci, nullable, prec, scale, rc;

	if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
		return (p_syntax(p));
	if (p->s->dry) { /* the compile pass: parsed to its end */
		p->pos++;
		return (ddl_alter_type(p, &nt, &nullable));
	}
	for (ci = 0; ci < t->ncols; ci++)
		if (strcasecmp(t->cols[ci].c.name, p_tok(p)->text) == 0)
			break;
	if (ci == t->ncols) {
		sim_error_set(p->err, 4924, 16, 1,
		    "ALTER TABLE ALTER COLUMN "
		    "failed because column '%s' does not exist in table '%s'.",
		    p_tok(p)->text, t->name);
		return (-1);
	}
	p->pos++;
	if (ddl_alter_type(p, &nt, &nullable) == -1)
		return (-1);
	if (t->cols[ci].c.computed || t->cols[ci].c.identity ||
	    t->cols[ci].rowversion ||
	    fk_uses_column(p, t->object_id, t->cols[ci].column_id) ||
	    ddl_int(p, 0,
		"SELECT count(*) FROM "
		"main.sim_index_columns WHERE object_id = %lld AND column_id = "
		"%d",
		(long long)t->object_id, t->cols[ci].column_id) > 0) {
		sim_error_set(p->err, 5074, 16, 1,
		    "The object '%s' is "
		    "dependent on column '%s'.",
		    t->name, t->cols[ci].c.name);
		return (-1);
	}
	if (!nullable &&
	    ddl_int(p, 0,
		"SELECT count(*) FROM \"%w.%w\" WHERE "
		"\"%w\" IS NULL",
		t->schema, t->name, t->cols[ci].c.name) > 0) {
		sim_error_set(p->err, 515, 16, 2,
		    "Cannot insert the value NULL "
		    "into column '%s', table '%s.%s.%s'; column does not allow "
		    "nulls. UPDATE fails.",
		    t->cols[ci].c.name, p->s->dbname, t->schema, t->name);
		return (-1);
	}
	if (engine_write_begin(p->s, p->err) == -1)
		return (-1);
	simtype_format(&nt, tn, sizeof(tn));
	ddl_precision(&nt, &prec, &scale);
	rc = ddl_rebuild(p, t, ci, &nt);
	if (rc == 0)
		rc = ddl_execf(p, "DROP TABLE \"%w.%w\"", t->schema, t->name);
	if (rc == 0)
		rc = ddl_execf(p,
		    "ALTER TABLE \"%w.%w__new\" RENAME TO "
		    "\"%w.%w\"",
		    t->schema, t->name, t->schema, t->name);
	if (rc == 0)
		rc = ddl_reindex(p, t);
	if (rc == 0)
		rc = ddl_execf(p,
		    "UPDATE main.sim_columns SET type = %Q, "
		    "system_type_id = %d, max_length = %d, precision = %d, "
		    "scale = %d, is_nullable = %d WHERE object_id = %lld AND "
		    "column_id = %d",
		    tn, nt.id, nt.maxlen, prec, scale, nullable,
		    (long long)t->object_id, t->cols[ci].column_id);
	return (engine_write_end(p->s, rc == 0, p->err));
}

/*
 * ALTER TABLE ...  In the compile pass the statement is parsed to its
 * end with t NULL when the table does not exist yet (a CREATE TABLE
 * earlier in the batch may make it): its checks run when it runs.
 */
static int
ddl_alter_table(struct parser *p)
{
	char schema[129], name[129], *src;
	struct table *t;
	int rc, start = p->pos, cols = 0, with = -1;

	if (ddl_table_name(p, schema, name) == -1)
		return (-1);
	if ((t = catalog_table(
		 p->s, schema, name, p->s->dry ? NULL : p->err)) == NULL &&
	    !p->s->dry)
		return (-1);
	if (p_accept_kw(p, "WITH")) /* WITH CHECK | NOCHECK */
		with = p_accept_kw(p, "CHECK")       ? 1
		    : p_expect_kw(p, "NOCHECK") == 0 ? 0
						     : -2;
	if (with == -2)
		rc = -1;
	else if ((p_kw(p, "ENABLE") || p_kw(p, "DISABLE")) &&
	    lex_is_kw(&p->lx->t[p->pos + 1], "CHANGE_TRACKING"))
		rc = ct_alter_table(p, t); /* ct.c */
	else if ((p_kw(p, "CHECK") || p_kw(p, "NOCHECK")) &&
	    lex_is_kw(&p->lx->t[p->pos + 1], "CONSTRAINT"))
		rc = fk_alter_check(p, t, with); /* fk.c */
	else if (p_accept_kw(p, "ADD") && (cols = 1))
		rc = ddl_add_columns(p, t, with == 0);
	else if (p_accept_kw(p, "DROP") && (cols = 1))
		rc = ddl_alter_drop(p, t);
	else if (p_accept_kw(p, "ALTER") && p_accept_kw(p, "COLUMN") &&
	    (cols = 1))
		rc = ddl_alter_column(p, t);
	else
		rc = p_syntax(p);
	if (rc == 0 && cols && !p->s->dry) { /* cdc.c: cdc.ddl_history */
		src = compile_source(p, start, p->pos);
		cdc_ddl_notify(p->s, t, src);
		free(src);
	}
	catalog_table_free(t);
	if (rc == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* CREATE DATABASE name */
static int
ddl_create_database(struct parser *p)
{
	char parts[1][129], *path, now[64];
	struct sim_error e;
	sqlite3 *db;
	int id;

	if (p_name(p, parts, 1) != 1)
		return (-1);
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if (!p->s->sysadmin) {
		sim_error_set(p->err, 262, 14, 1,
		    "CREATE DATABASE permission "
		    "denied in database 'master'.");
		return (-1);
	}
	if (p->s->trancount > 0) {
		sim_error_set(p->err, 226, 16, 6,
		    "CREATE DATABASE statement not "
		    "allowed within multi-statement transaction.");
		return (-1);
	}
	if (ddl_mint(p, 0,
		"SELECT count(*) FROM main.sim_databases WHERE name = "
		"%Q",
		parts[0]) > 0) {
		sim_error_set(p->err, 1801, 16, 3,
		    "Database '%s' already "
		    "exists. Choose a different database name.",
		    parts[0]);
		return (-1);
	}
	id = (int)ddl_mint(p, 4,
		 "SELECT max(database_id) FROM "
		 "main.sim_databases") +
	    1;
	path = engine_db_path(p->s->srv, parts[0]);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) !=
		SQLITE_OK ||
	    catalog_init_db(db, id, &e) == -1) {
		sqlite3_close(db);
		free(path);
		sim_error_set(p->err, 5123, 16, 1,
		    "CREATE FILE encountered "
		    "operating system error while attempting to open or create "
		    "the physical file for database '%s'.",
		    parts[0]);
		return (-1);
	}
	sqlite3_close(db);
	free(path);
	ddl_now(p, now, sizeof(now));
	if (ddl_mexecf(p,
		"INSERT INTO main.sim_databases(database_id, name, "
		"create_date) VALUES (%d, %Q, %Q)",
		id, parts[0], now) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* DROP DATABASE name */
static int
ddl_drop_database(struct parser *p)
{
	char parts[1][129], *path, side[700];

	if (p_name(p, parts, 1) != 1)
		return (-1);
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if (!p->s->sysadmin ||
	    ddl_mint(p, 0,
		"SELECT count(*) FROM "
		"main.sim_databases WHERE name = %Q AND database_id > 4",
		parts[0]) == 0) {
		sim_error_set(p->err, 3701, 11, 1,
		    "Cannot drop the database "
		    "'%s', because it does not exist or you do not have "
		    "permission.",
		    parts[0]);
		return (-1);
	}
	if (strcasecmp(parts[0], p->s->dbname) == 0) {
		sim_error_set(p->err, 3702, 16, 4,
		    "Cannot drop database \"%s\" "
		    "because it is currently in use.",
		    parts[0]);
		return (-1);
	}
	if (ddl_mexecf(p, "DELETE FROM main.sim_databases WHERE name = %Q",
		parts[0]) == -1)
		return (-1);
	path = engine_db_path(p->s->srv, parts[0]);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	free(path);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* ALTER DATABASE d SET option ON|OFF [WITH ROLLBACK ...] */
static int
ddl_alter_database(struct parser *p)
{
	char parts[1][129], db[129];
	const char *col = NULL;
	int on;

	if (p_accept_kw(p, "CURRENT"))
		snprintf(db, sizeof(db), "%s", p->s->dbname);
	else if (p_name(p, parts, 1) != 1)
		return (-1);
	else
		snprintf(db, sizeof(db), "%s", parts[0]);
	if (!p->s->dry && /* the compile pass: syntax only */
	    (ddl_mint(p, 0,
		 "SELECT count(*) FROM main.sim_databases WHERE name = "
		 "%Q",
		 db) == 0 ||
		!p->s->sysadmin)) {
		sim_error_set(p->err, 5011, 14, 5,
		    "User does not have "
		    "permission to alter database '%s', the database does not "
		    "exist, or the database is not in a state that allows "
		    "access checks.",
		    db);
		return (-1);
	}
	if (p_expect_kw(p, "SET") == -1)
		return (-1);
	if (p_kw(p, "CHANGE_TRACKING"))
		return (ct_alter_database(p, db)); /* ct.c */
	if (p_accept_kw(p, "ALLOW_SNAPSHOT_ISOLATION"))
		col = "allow_snapshot";
	else if (p_accept_kw(p, "READ_COMMITTED_SNAPSHOT"))
		col = "rcsi";
	else if (p_accept_kw(p, "COMPATIBILITY_LEVEL")) {
		int64_t lvl;

		if (p_expect_op(p, "=") == -1 || p_int(p, &lvl) == -1)
			return (-1);
		if (p->s->dry) /* the compile pass: parsed to its end */
			return (0);
		if (ddl_mexecf(p,
			"UPDATE main.sim_databases SET compat = %d "
			"WHERE name = %Q",
			(int)lvl, db) == -1)
			return (-1);
		return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
	} else
		return (p_syntax(p));
	if ((on = p_accept_kw(p, "ON")) == 0 && !p_accept_kw(p, "OFF"))
		return (p_syntax(p));
	if (p_accept_kw(p, "WITH")) {
		if (p_accept_kw(p, "ROLLBACK")) {
			if (!p_accept_kw(p, "IMMEDIATE")) {
				if (p_expect_kw(p, "AFTER") == -1)
					return (-1);
				p->pos++;
				p_accept_kw(p, "SECONDS");
			}
		} else if (!p_accept_kw(p, "NO_WAIT"))
			return (p_syntax(p));
	}
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if (ddl_mexecf(p,
		"UPDATE main.sim_databases SET %s = %d WHERE name = %Q", col,
		on, db) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* CREATE SCHEMA s [AUTHORIZATION owner] */
static int
ddl_create_schema(struct parser *p)
{
	char parts[1][129];
	int rc;

	if (p_name(p, parts, 1) != 1)
		return (-1);
	if (p_accept_kw(p, "AUTHORIZATION") && p_tok(p)->kind != LEX_EOF)
		p->pos++;
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if (catalog_schema_id(p->s, parts[0]) >= 0) {
		sim_error_set(p->err, 2714, 16, 6,
		    "There is already an object "
		    "named '%s' in the database.",
		    parts[0]);
		return (-1);
	}
	if (engine_write_begin(p->s, p->err) == -1)
		return (-1);
	rc = ddl_execf(p,
	    "INSERT INTO main.sim_schemas VALUES ((SELECT "
	    "max(schema_id) + 1 FROM main.sim_schemas WHERE schema_id < "
	    "16384), "
	    "%Q, 1)",
	    parts[0]);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* DROP SCHEMA s */
static int
ddl_drop_schema(struct parser *p)
{
	char parts[1][129];
	int id, rc;

	if (p_name(p, parts, 1) != 1)
		return (-1);
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if ((id = catalog_schema_id(p->s, parts[0])) < 5 || id >= 16384) {
		sim_error_set(p->err, 15151, 16, 1,
		    "Cannot drop the schema "
		    "'%s', because it does not exist or you do not have "
		    "permission.",
		    parts[0]);
		return (-1);
	}
	if (ddl_int(p, 0,
		"SELECT count(*) FROM main.sim_objects WHERE "
		"schema_id = %d",
		id) > 0) {
		sim_error_set(p->err, 3729, 16, 1,
		    "Cannot drop schema '%s' "
		    "because it is being referenced by an object.",
		    parts[0]);
		return (-1);
	}
	if (engine_write_begin(p->s, p->err) == -1)
		return (-1);
	rc = ddl_execf(
	    p, "DELETE FROM main.sim_schemas WHERE schema_id = %d", id);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* CREATE LOGIN name WITH PASSWORD = 'x' [, DEFAULT_DATABASE = d, ...] */
static int
ddl_create_login(struct parser *p)
{
	char parts[1][129], pw[256] = "", defdb[129] = "master", now[64];

	if (p_name(p, parts, 1) != 1 || p_expect_kw(p, "WITH") == -1)
		return (-1);
	do {
		if (p_accept_kw(p, "PASSWORD")) {
			if (p_expect_op(p, "=") == -1)
				return (-1);
			if (p_tok(p)->kind != LEX_STRING &&
			    p_tok(p)->kind != LEX_NSTRING)
				return (p_syntax(p));
			snprintf(pw, sizeof(pw), "%s", p_tok(p)->text);
			p->pos++;
			p_accept_kw(p, "MUST_CHANGE");
		} else if (p_tok(p)->kind == LEX_IDENT &&
		    lex_is_op(&p->lx->t[p->pos + 1], "=")) {
			if (p_kw(p, "DEFAULT_DATABASE"))
				snprintf(defdb, sizeof(defdb), "%s",
				    p->lx->t[p->pos + 2].text);
			p->pos += 3;
		} else
			return (p_syntax(p));
	} while (p_accept_op(p, ","));
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if (!p->s->sysadmin) {
		sim_error_set(p->err, 15247, 16, 1,
		    "User does not have "
		    "permission to perform this action.");
		return (-1);
	}
	if (strcasecmp(parts[0], "sa") == 0 ||
	    ddl_mint(p, 0,
		"SELECT count(*) "
		"FROM main.sim_logins WHERE name = %Q",
		parts[0])) {
		sim_error_set(p->err, 15025, 16, 1,
		    "The server principal '%s' "
		    "already exists.",
		    parts[0]);
		return (-1);
	}
	if (ddl_mexecf(p,
		"INSERT INTO main.sim_logins VALUES (%Q, %Q, %Q, "
		"(SELECT ifnull(max(principal_id), 256) + 1 FROM "
		"main.sim_logins), %Q)",
		parts[0], pw, defdb, ddl_now(p, now, sizeof(now))) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* CREATE USER u [FOR|FROM LOGIN l | WITHOUT LOGIN] [WITH DEFAULT_SCHEMA] */
static int
ddl_create_user(struct parser *p)
{
	char user[1][129], login[1][129], schema[129] = "dbo";
	int nologin = 0, rc;

	if (p_name(p, user, 1) != 1)
		return (-1);
	snprintf(login[0], 129, "%s", user[0]);
	if (p_accept_kw(p, "FOR") || p_accept_kw(p, "FROM")) {
		if (p_expect_kw(p, "LOGIN") == -1 || p_name(p, login, 1) != 1)
			return (-1);
	} else if (p_accept_kw(p, "WITHOUT")) {
		if (p_expect_kw(p, "LOGIN") == -1)
			return (-1);
		nologin = 1;
	}
	if (p_accept_kw(p, "WITH")) {
		if (!p_accept_kw(p, "DEFAULT_SCHEMA") ||
		    p_expect_op(p, "=") == -1)
			return (p->err->number ? -1 : p_syntax(p));
		snprintf(schema, sizeof(schema), "%s", p_tok(p)->text);
		p->pos++;
	}
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if (ddl_check_owner(p, "CREATE USER") == -1)
		return (-1);
	if (!nologin &&
	    ddl_mint(p, 0,
		"SELECT count(*) FROM main.sim_logins "
		"WHERE name = %Q",
		login[0]) == 0) {
		sim_error_set(p->err, 15007, 16, 1,
		    "'%s' is not a valid login "
		    "or you do not have permission.",
		    login[0]);
		return (-1);
	}
	if (ddl_int(p, 0,
		"SELECT count(*) FROM main.sim_principals WHERE name "
		"= %Q",
		user[0]) > 0) {
		sim_error_set(p->err, 15023, 16, 1,
		    "User, group, or role '%s' "
		    "already exists in the current database.",
		    user[0]);
		return (-1);
	}
	if (engine_write_begin(p->s, p->err) == -1)
		return (-1);
	rc = ddl_execf(p,
	    "INSERT INTO main.sim_principals VALUES ((SELECT "
	    "max(principal_id) + 1 FROM main.sim_principals WHERE principal_id "
	    "< 16384), %Q, 'S', %Q, %Q, " NOW_DT ")",
	    user[0], nologin ? NULL : login[0], schema);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* CREATE ROLE r / ALTER ROLE r ADD|DROP MEMBER u */
static int
ddl_role(struct parser *p, int create)
{
	char role[1][129], user[1][129];
	int add = 0, rc;

	if (p_name(p, role, 1) != 1)
		return (-1);
	if (!create) {
		if (!(add = p_accept_kw(p, "ADD")) && !p_accept_kw(p, "DROP"))
			return (p_syntax(p));
		if (p_expect_kw(p, "MEMBER") == -1 || p_name(p, user, 1) != 1)
			return (-1);
	}
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if (ddl_check_owner(p, "ALTER ROLE") == -1 ||
	    engine_write_begin(p->s, p->err) == -1)
		return (-1);
	if (create)
		rc = ddl_execf(p,
		    "INSERT INTO main.sim_principals VALUES "
		    "((SELECT max(principal_id) + 1 FROM main.sim_principals "
		    "WHERE principal_id < 16384), %Q, 'R', NULL, NULL, "
		    "" NOW_DT ")",
		    role[0]);
	else if (add)
		rc = ddl_execf(p,
		    "INSERT INTO main.sim_role_members VALUES "
		    "(%Q, %Q)",
		    role[0], user[0]);
	else
		rc = ddl_execf(p,
		    "DELETE FROM main.sim_role_members WHERE "
		    "role = %Q AND member = %Q",
		    role[0], user[0]);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/*
 * Skip the options after CREATE INDEX's column list: INCLUDE (cols),
 * WHERE filter, WITH (options), ON filegroup [(column)].  A filter
 * ends at one of these, at ";", GO or the end of the batch, or at the
 * next statement (a keyword that starts one, outside parentheses).
 */
static void
ddl_index_options(struct parser *p)
{
	static const char *next[] = { "INSERT", "UPDATE", "DELETE", "SELECT",
		"CREATE", "ALTER", "DROP", "EXEC", "EXECUTE", "BEGIN", "COMMIT",
		"ROLLBACK", "SET", "DECLARE", "IF", "WHILE", "PRINT", "GRANT",
		"DENY", "REVOKE", "TRUNCATE", "USE", "MERGE", "RETURN",
		"WAITFOR", "RAISERROR", "THROW", NULL };
	int depth, i, stop;

	for (;;) {
		if (p_accept_kw(p, "INCLUDE") || p_accept_kw(p, "WITH")) {
			if (!p_op(p, "("))
				return;
		} else if (p_accept_kw(p, "ON")) {
			if (p_tok(p)->kind != LEX_EOF)
				p->pos++;
			if (!p_op(p, "("))
				continue;
		} else if (p_accept_kw(p, "WHERE")) {
			for (depth = 0; p_tok(p)->kind != LEX_EOF; p->pos++) {
				if (p_op(p, "("))
					depth++;
				else if (p_op(p, ")"))
					depth--;
				if (depth > 0)
					continue;
				for (i = 0, stop = 0; next[i] != NULL; i++)
					stop |= p_kw(p, next[i]);
				if (stop || lex_is_op(p_tok(p), ";") ||
				    p_kw(p, "GO") || p_kw(p, "WITH") ||
				    p_kw(p, "ON"))
					break;
			}
			continue;
		} else
			return;
		for (depth = 0; p_tok(p)->kind != LEX_EOF; p->pos++) {
			if (p_op(p, "("))
				depth++;
			else if (p_op(p, ")") && --depth == 0) {
				p->pos++;
				break;
			}
		}
	}
}

/*
 * CREATE [UNIQUE] [CLUSTERED | NONCLUSTERED] INDEX name ON t (cols): a
 * clustered index is index_id 1 (type 1) and replaces the heap's row
 * 0 in sys.indexes; a nonclustered one takes the next index_id from 2
 * (sys.indexes).
 */
static int
ddl_create_index(struct parser *p, int unique, int clustered)
{
	char schema[129], name[129], *q;
	struct keydef k;
	struct table *t;
	struct sbuf b;
	int j, idx, rc;

	memset(&k, 0, sizeof(k));
	if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
		return (p_syntax(p));
	snprintf(k.name, sizeof(k.name), "%s", p_tok(p)->text);
	p->pos++;
	if (p_expect_kw(p, "ON") == -1 || ddl_table_name(p, schema, name) == -1)
		return (-1);
	if ((t = catalog_table(p->s, schema, name, p->err)) == NULL)
		return (-1);
	if (ddl_keycols(p, &k) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	ddl_index_options(p);
	if (p->s->dry) { /* the compile pass: parsed to its end */
		catalog_table_free(t);
		return (0);
	}
	if (clustered && ddl_clustered_exists(p, t->object_id, name) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	if (engine_write_begin(p->s, p->err) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	idx = clustered ? 1 : ddl_next_index_id(p, t->object_id);
	rc = ddl_execf(p,
	    "INSERT INTO main.sim_indexes VALUES (%lld, %d, %Q, "
	    "%d, %d, 0, 0, 0)",
	    (long long)t->object_id, idx, k.name, clustered ? 1 : 2, unique);
	if (rc == 0 && clustered)
		rc = ddl_execf(p,
		    "DELETE FROM main.sim_indexes WHERE object_id = %lld AND "
		    "index_id = 0",
		    (long long)t->object_id);
	sbuf_init(&b);
	q = sqlite3_mprintf("CREATE %s INDEX \"%w.%w$%w\" ON \"%w.%w\" (",
	    unique ? "UNIQUE" : "", t->schema, t->name, k.name, t->schema,
	    t->name);
	sbuf_add(&b, q, strlen(q));
	sqlite3_free(q);
	for (j = 0; j < k.n && rc == 0; j++) {
		rc = ddl_execf(p,
		    "INSERT INTO main.sim_index_columns SELECT "
		    "%lld, %d, %d, column_id, %d, %d, 0 FROM main.sim_columns "
		    "WHERE object_id = %lld AND name = %Q",
		    (long long)t->object_id, idx, j + 1, j + 1, k.desc[j],
		    (long long)t->object_id, k.cols[j]);
		q = sqlite3_mprintf("%s\"%w\"%s", j ? ", " : "", k.cols[j],
		    k.desc[j] ? " DESC" : "");
		sbuf_add(&b, q, strlen(q));
		sqlite3_free(q);
	}
	sbuf_add(&b, ")", 2);
	if (rc == 0)
		rc = ddl_exec(p, (char *)b.data);
	sbuf_free(&b);
	catalog_table_free(t);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* A permission name: words up to ",", ON, TO or FROM. */
static int
ddl_perm_name(struct parser *p, char *buf, size_t len)
{
	buf[0] = '\0';
	while (p_tok(p)->kind == LEX_IDENT && !p_kw(p, "ON") &&
	    !p_kw(p, "TO") && !p_kw(p, "FROM")) {
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    buf[0] ? " " : "", p_tok(p)->text);
		p->pos++;
	}
	if (p_op(p, "(")) { /* column list */
		while (!p_op(p, ")") && p_tok(p)->kind != LEX_EOF)
			p->pos++;
		p->pos++;
	}
	return (buf[0] ? 0 : p_syntax(p));
}

/* ON SCHEMA::s | OBJECT::t | t | DATABASE::d -> class/major_id. */
static int
ddl_securable(struct parser *p, int *class, int64_t *major)
{
	char schema[129], name[129];
	struct table *t;

	*class = 0;
	*major = 0;
	if (!p_accept_kw(p, "ON"))
		return (0);
	if (p_kw(p, "SCHEMA") && lex_is_op(&p->lx->t[p->pos + 1], "::")) {
		p->pos += 2;
		*class = 3;
		snprintf(name, sizeof(name), "%s", p_tok(p)->text);
		p->pos++;
		if (p->s->dry) /* the compile pass: names only */
			return (0);
		if ((*major = catalog_schema_id(p->s, name)) < 0) {
			sim_error_set(p->err, 15151, 16, 1,
			    "Cannot find the "
			    "schema '%s', because it does not exist or you do "
			    "not have permission.",
			    name);
			return (-1);
		}
		return (0);
	}
	if (p_kw(p, "DATABASE") && lex_is_op(&p->lx->t[p->pos + 1], "::")) {
		p->pos += 3;
		return (0);
	}
	if (p_kw(p, "OBJECT") && lex_is_op(&p->lx->t[p->pos + 1], "::"))
		p->pos += 2;
	if (ddl_table_name(p, schema, name) == -1)
		return (-1);
	if (p->s->dry) /* the compile pass: names only */
		return (0);
	if ((t = catalog_table(p->s, schema, name, NULL)) == NULL) {
		sim_error_set(p->err, 15151, 16, 1,
		    "Cannot find the object "
		    "'%s', because it does not exist or you do not have "
		    "permission.",
		    name);
		return (-1);
	}
	*class = 1;
	*major = t->object_id;
	catalog_table_free(t);
	return (0);
}

/* Record one permission row for each grantee. */
static int
ddl_perm_apply(struct parser *p, const char *stmt, char perms[][64], int np,
    int class, int64_t major)
{
	char who[129];
	int i, rc = 0;

	do {
		if (p_tok(p)->kind != LEX_IDENT && p_tok(p)->kind != LEX_QIDENT)
			return (p_syntax(p));
		snprintf(who, sizeof(who), "%s", p_tok(p)->text);
		p->pos++;
		if (p->s->dry) /* the compile pass: names only */
			continue;
		if (strcasecmp(who, "public") != 0 &&
		    ddl_int(p, 0,
			"SELECT "
			"count(*) FROM main.sim_principals WHERE name = %Q",
			who) == 0) {
			sim_error_set(p->err, 15151, 16, 1,
			    "Cannot find the "
			    "user '%s', because it does not exist or you do "
			    "not "
			    "have permission.",
			    who);
			return (-1);
		}
		for (i = 0; i < np && rc == 0; i++) {
			rc = ddl_execf(p,
			    "DELETE FROM main.sim_perms WHERE "
			    "class = %d AND major_id = %lld AND grantee = %Q "
			    "AND "
			    "permission = %Q",
			    class, (long long)major, who, perms[i]);
			if (rc == 0 && toupper((unsigned char)stmt[0]) != 'R')
				rc = ddl_execf(p,
				    "INSERT INTO main.sim_perms "
				    "VALUES (%d, %lld, %Q, %Q, %Q)",
				    class, (long long)major, who, perms[i],
				    toupper((unsigned char)stmt[0]) == 'G'
					? "G"
					: "D");
		}
	} while (rc == 0 && p_accept_op(p, ","));
	return (rc);
}

/* GRANT|DENY|REVOKE perms [ON securable] TO|FROM principals */
static int
ddl_permission(struct parser *p, const char *stmt)
{
	char perms[16][64];
	int np = 0, class, rc;
	int64_t major;

	do {
		if (np == 16 || ddl_perm_name(p, perms[np], 64) == -1)
			return (np == 16 ? p_syntax(p) : -1);
		np++;
	} while (p_accept_op(p, ","));
	if (ddl_securable(p, &class, &major) == -1)
		return (-1);
	if (!p_accept_kw(p, "TO") && !p_accept_kw(p, "FROM"))
		return (p_syntax(p));
	if (ddl_check_owner(p, stmt) == -1 ||
	    (!p->s->dry && engine_write_begin(p->s, p->err) == -1))
		return (-1);
	rc = ddl_perm_apply(p, stmt, perms, np, class, major);
	if (rc == 0 && p_accept_kw(p, "WITH")) {
		p_accept_kw(p, "GRANT");
		p_accept_kw(p, "OPTION");
	}
	if (rc == 0 && p_accept_kw(p, "CASCADE"))
		rc = 0;
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (rc);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* DROP LOGIN / USER / INDEX */
static int
ddl_drop_principal(struct parser *p, const char *what)
{
	char parts[3][129];
	int login = strcmp(what, "login") == 0;
	const char *tbl = login ? "main.sim_logins" : "main.sim_principals";

	if (p_name(p, parts, 1) != 1)
		return (-1);
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if ((login ? ddl_mint(p, 0, "SELECT count(*) FROM %s WHERE name = %Q",
			 tbl, parts[0])
		   : ddl_int(p, 0,
			 "SELECT count(*) FROM %s WHERE "
			 "name = %Q",
			 tbl, parts[0])) == 0) {
		sim_error_set(p->err, 15151, 16, 1,
		    "Cannot drop the %s '%s', "
		    "because it does not exist or you do not have permission.",
		    what, parts[0]);
		return (-1);
	}
	if (ddl_check_owner(p, "DROP") == -1 ||
	    (login ? ddl_mexecf(
			 p, "DELETE FROM %s WHERE name = %Q", tbl, parts[0])
		   : ddl_execf(p, "DELETE FROM %s WHERE name = %Q", tbl,
			 parts[0])) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* CREATE ... */
static int
ddl_create(struct parser *p)
{
	int unique, clustered;

	if (p_accept_kw(p, "DATABASE"))
		return (ddl_create_database(p));
	if (p_accept_kw(p, "LOGIN"))
		return (ddl_create_login(p));
	if (p_accept_kw(p, "USER"))
		return (ddl_create_user(p));
	if (p_accept_kw(p, "ROLE"))
		return (ddl_role(p, 1));
	if (ddl_check_owner(p, "CREATE TABLE") == -1)
		return (-1);
	if (p_accept_kw(p, "TABLE"))
		return (ddl_create_table(p));
	if (p_accept_kw(p, "VIEW")) /* view.c */
		return (view_create(p, p->pos - 2, VIEW_CREATE));
	if (p_kw(p, "OR") && lex_is_kw(&p->lx->t[p->pos + 1], "ALTER") &&
	    lex_is_kw(&p->lx->t[p->pos + 2], "VIEW")) {
		p->pos += 3;
		return (view_create(p, p->pos - 4, VIEW_CREATE_OR_ALTER));
	}
	if (p_accept_kw(p, "SCHEMA"))
		return (ddl_create_schema(p));
	unique = p_accept_kw(p, "UNIQUE");
	if (!(clustered = p_accept_kw(p, "CLUSTERED")))
		p_accept_kw(p, "NONCLUSTERED");
	if (p_accept_kw(p, "INDEX"))
		return (ddl_create_index(p, unique, clustered));
	return (p_syntax(p));
}

/* DROP INDEX name ON t | t.name */
static int
ddl_drop_index(struct parser *p)
{
	char parts[4][129], schema[129], name[129], idx[129];
	struct table *t;
	int n, rc;

	if ((n = p_name(p, parts, 4)) < 1)
		return (-1);
	if (p_accept_kw(p, "ON")) {
		snprintf(idx, sizeof(idx), "%s", parts[n - 1]);
		if (ddl_table_name(p, schema, name) == -1)
			return (-1);
	} else if (n >= 2) {
		snprintf(idx, sizeof(idx), "%s", parts[n - 1]);
		snprintf(name, sizeof(name), "%s", parts[n - 2]);
		snprintf(
		    schema, sizeof(schema), "%s", n > 2 ? parts[n - 3] : "dbo");
	} else
		return (p_syntax(p));
	if (p->s->dry) /* the compile pass: parsed to its end */
		return (0);
	if ((t = catalog_table(p->s, schema, name, p->err)) == NULL)
		return (-1);
	n = (int)ddl_int(p, -1,
	    "SELECT index_id FROM main.sim_indexes WHERE "
	    "object_id = %lld AND name = %Q AND constraint_id = 0",
	    (long long)t->object_id, idx);
	if (n < 0) {
		sim_error_set(p->err, 3701, 11, 7,
		    "Cannot drop the index "
		    "'%s.%s', because it does not exist or you do not have "
		    "permission.",
		    name, idx);
		catalog_table_free(t);
		return (-1);
	}
	if (engine_write_begin(p->s, p->err) == -1) {
		catalog_table_free(t);
		return (-1);
	}
	rc = ddl_execf(p, "DROP INDEX \"%w.%w$%w\"", t->schema, t->name, idx) ||
		ddl_execf(p,
		    "DELETE FROM main.sim_indexes WHERE object_id = %lld "
		    "AND index_id = %d",
		    (long long)t->object_id, n) ||
		ddl_execf(p,
		    "DELETE FROM main.sim_index_columns WHERE object_id = "
		    "%lld AND index_id = %d",
		    (long long)t->object_id, n)
	    ? -1
	    : 0;
	if (rc == 0 && n == 1) /* the table is a heap again */
		rc = ddl_execf(p,
		    "INSERT INTO main.sim_indexes VALUES (%lld, 0, NULL, 0, "
		    "0, 0, 0, 0)",
		    (long long)t->object_id);
	catalog_table_free(t);
	if (engine_write_end(p->s, rc == 0, p->err) == -1)
		return (-1);
	return (engine_send_done(p->s, 0, 0) == -1 ? -2 : 0);
}

/* DROP ... */
static int
ddl_drop(struct parser *p)
{
	if (p_accept_kw(p, "DATABASE"))
		return (ddl_drop_database(p));
	if (p_accept_kw(p, "LOGIN"))
		return (ddl_drop_principal(p, "login"));
	if (p_accept_kw(p, "USER"))
		return (ddl_drop_principal(p, "user"));
	if (ddl_check_owner(p, "DROP TABLE") == -1)
		return (-1);
	if (p_accept_kw(p, "TABLE"))
		return (ddl_drop_table(p));
	if (p_accept_kw(p, "VIEW"))
		return (view_drop(p)); /* view.c */
	if (p_accept_kw(p, "SCHEMA"))
		return (ddl_drop_schema(p));
	if (p_accept_kw(p, "INDEX"))
		return (ddl_drop_index(p));
	return (p_syntax(p));
}

/* Run a DDL statement. */
int
catalog_exec_ddl(struct parser *p)
{
	p->s->ddl_temp = 0;
	p->pos++;
	if (lex_is_kw(&p->lx->t[p->pos - 1], "CREATE"))
		return (ddl_create(p));
	if (lex_is_kw(&p->lx->t[p->pos - 1], "DROP"))
		return (ddl_drop(p));
	if (lex_is_kw(&p->lx->t[p->pos - 1], "ALTER")) {
		if (p_accept_kw(p, "DATABASE"))
			return (ddl_alter_database(p));
		if (p_accept_kw(p, "ROLE"))
			return (ddl_role(p, 0));
		if (ddl_check_owner(p, "ALTER TABLE") == -1)
			return (-1);
		if (p_accept_kw(p, "TABLE"))
			return (ddl_alter_table(p));
		if (p_accept_kw(p, "VIEW")) /* view.c */
			return (view_create(p, p->pos - 2, VIEW_ALTER));
		return (p_syntax(p));
	}
	return (ddl_permission(p, p->lx->t[p->pos - 1].text));
}
