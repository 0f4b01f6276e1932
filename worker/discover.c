/*
 * discover.c: which tables of the database can be captured, and the
 * "discover" command that prints them as JSON.
 *
 * The catalog is asked about every table at once, not table by table
 * (a database with a thousand tables costs five queries, not ten
 * thousand): the database (its name, CDC), the user tables outside the
 * system schemas (sys, cdc, INFORMATION_SCHEMA; is_ms_shipped = 0 also
 * leaves out CDC's dbo.systranschemas) with whether Change Tracking
 * tracks them, their columns and primary-key columns (the queries of
 * introspect.c, without its one-table WHERE), and, when the database
 * has CDC, the capture instances with a start LSN from
 * cdc.change_tables, newest first as introspect_cdc() picks them.  A
 * login that may not read cdc.change_tables (SELECT on schema cdc is
 * not granted) still gets the rest: such tables count as CDC tables
 * when sys.tables says is_tracked_by_cdc, with their instances
 * unknown.
 *
 * A table is capturable when it has a primary key and Change Tracking
 * tracks it or it has a capture instance; its modes list those.  With
 * advanced.discover_tables_without_ct, tables with a primary key but
 * neither are listed too (modes []).  A table without a primary key is
 * never listed: discover names it under "skipped" with the reason, as
 * it does the tables without CT or CDC when the option is off.
 *
 * "run" with no bindings binds what discovery lists here
 * (discover_bind()): the tables whose modes the top-level mode can use,
 * in schema, table order.  The workers it starts load the same
 * configuration file and must agree on which binding id is which
 * table, so the supervisor passes the list to them in the environment
 * (DISCOVER_ENV, a JSON array of [schema, table] pairs; fork+exec keeps
 * the environment) and discover_import() rebuilds the bindings from it
 * instead of asking the server again, which could by then answer
 * differently.
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "supervisor.h"
#include "worker.h"

#define DISCOVER_ENV "MSSQL_CAPTURE_DISCOVERED"
#define DISCOVER_ENV_MAX (120 * 1024) /* Linux: 128 KiB per string */
#define DISCOVER_MAX_VALUES 10

/* Called with each row of a query: its values, the struct discover. */
typedef void (*discover_row_cb)(const struct frame_value *, struct discover *);

static int discover_query(struct db *, const char *, const char *, int,
    discover_row_cb, struct discover *, char **);
static void discover_row_database(
    const struct frame_value *, struct discover *);
static void discover_row_table(const struct frame_value *, struct discover *);
static void discover_row_column(const struct frame_value *, struct discover *);
static void discover_row_key(const struct frame_value *, struct discover *);
static void discover_row_cdc(const struct frame_value *, struct discover *);
static int discover_cmp_id(const void *, const void *);
static struct discover_table *discover_by_id(struct discover *, int64_t);
static void discover_table_free(struct discover_table *);
static int discover_export(const struct config *, char **);
static void discover_add_binding(struct config *, const char *, const char *);
static json_t *discover_json_str(const char *);
static json_t *discover_json_type(const struct frame_column *);
static json_t *discover_json_column(const struct frame_column *);
static json_t *discover_json_table(
    const struct discover *, const struct discover_table *);
static const char *discover_skip_reason(const struct config *,
    const struct discover *, const struct discover_table *);
static const char *discover_modes_text(
    const struct discover *, const struct discover_table *);

/*
 * Run sql (no parameters) and hand each row of its nvals values to cb;
 * -1 with *cause naming what on failure.
 */
static int
discover_query(struct db *db, const char *sql, const char *what, int nvals,
    discover_row_cb cb, struct discover *d, char **cause)
{
	struct frame_value v[DISCOVER_MAX_VALUES];
	char text[DISCOVER_MAX_VALUES][DBVALUE_TEXT_MAX];
	const struct db_error *e;
	int i, rc;

	if (db_exec(db, sql) == -1 || db_next_result(db) == -1)
		goto fail;
	while ((rc = db_next_row(db)) == 1) {
		for (i = 0; i < nvals; i++)
			if (db_value(db, i, &v[i], text[i]) == -1)
				goto fail;
		cb(v, d);
	}
	if (rc == -1 || db_drain(db) == -1)
		goto fail;
	return (0);
fail:
	e = db_error(db);
	if (e->number != 0)
		xasprintf(cause, "%s: %s (%d)", what, e->text, e->number);
	else
		xasprintf(cause, "%s: %s", what, e->text);
	return (-1);
}

/* DB_NAME() and whether the database has CDC. */
static void
discover_row_database(const struct frame_value *v, struct discover *d)
{
	free(d->dbname);
	d->dbname = introspect_text(&v[0]);
	d->cdc_db = introspect_int(&v[1]) != 0;
}

/* A user table: object_id, schema, name, tracked by CT, by CDC. */
static void
discover_row_table(const struct frame_value *v, struct discover *d)
{
	struct discover_table *t;
	char *qs, *qt;

	d->tables = xreallocarray(d->tables, d->ntables + 1, sizeof(*t));
	t = &d->tables[d->ntables++];
	memset(t, 0, sizeof(*t));
	t->object_id = introspect_int(&v[0]);
	t->schema = introspect_text(&v[1]);
	t->name = introspect_text(&v[2]);
	t->ct = introspect_int(&v[3]) != 0;
	t->cdc = introspect_int(&v[4]) != 0;
	xasprintf(&t->display, "%s.%s", t->schema, t->name);
	qs = introspect_quote(t->schema);
	qt = introspect_quote(t->name);
	xasprintf(&t->qname, "%s.%s", qs, qt);
	free(qs);
	free(qt);
}

/* A column (INTROSPECT_COLUMNS_SELECT, then object_id). */
static void
discover_row_column(const struct frame_value *v, struct discover *d)
{
	struct discover_table *t;
	int column_id;

	t = discover_by_id(d, introspect_int(&v[INTROSPECT_COLUMNS_NVALUES]));
	if (t == NULL)
		return; /* a table of a system schema */
	t->cols = xreallocarray(t->cols, t->ncols + 1, sizeof(*t->cols));
	t->colids = xreallocarray(t->colids, t->ncols + 1, sizeof(int));
	column_id = introspect_column_read(v, &t->cols[t->ncols]);
	t->colids[t->ncols++] = column_id;
}

/* A primary key column: key_ordinal, column_id, object_id. */
static void
discover_row_key(const struct frame_value *v, struct discover *d)
{
	struct discover_table *t;
	size_t i;

	if ((t = discover_by_id(d, introspect_int(&v[2]))) == NULL)
		return;
	for (i = 0; i < t->ncols; i++) {
		if (t->colids[i] == introspect_int(&v[1])) {
			t->cols[i].key_ordinal = ++t->nkeys;
			t->keys =
			    xreallocarray(t->keys, t->nkeys, sizeof(*t->keys));
			t->keys[t->nkeys - 1] = i;
		}
	}
}

/* A capture instance: source object_id, name, role_name. */
static void
discover_row_cdc(const struct frame_value *v, struct discover *d)
{
	struct discover_table *t;
	size_t n;

	if ((t = discover_by_id(d, introspect_int(&v[0]))) == NULL)
		return;
	n = t->ninstances++;
	t->instances = xreallocarray(t->instances, n + 1, sizeof(char *));
	t->roles = xreallocarray(t->roles, n + 1, sizeof(char *));
	t->instances[n] = introspect_text(&v[1]);
	t->roles[n] =
	    v[2].type == FRAME_VALUE_STR ? introspect_text(&v[2]) : NULL;
}

/* Order of d->byid. */
static int
discover_cmp_id(const void *a, const void *b)
{
	const struct discover_table *x = *(struct discover_table *const *)a;
	const struct discover_table *y = *(struct discover_table *const *)b;

	return (x->object_id < y->object_id ? -1 : x->object_id > y->object_id);
}

/* The table with this object_id, or NULL. */
static struct discover_table *
discover_by_id(struct discover *d, int64_t object_id)
{
	struct discover_table key, *kp = &key, **found;

	if (d->byid == NULL)
		return (NULL);
	key.object_id = object_id;
	found = bsearch(
	    &kp, d->byid, d->ntables, sizeof(*d->byid), discover_cmp_id);
	return (found != NULL ? *found : NULL);
}

/* Read the catalog of the connected database; -1 with *cause. */
int
discover_load(struct db *db, struct discover *d, char **cause)
{
	static const char sql_db[] =
	    "SELECT DB_NAME(), is_cdc_enabled FROM sys.databases "
	    "WHERE database_id = DB_ID()";
	static const char sql_tables[] =
	    "SELECT t.object_id, s.name, t.name, CASE WHEN ctt.object_id "
	    "IS NULL THEN 0 ELSE 1 END, t.is_tracked_by_cdc FROM sys.tables "
	    "t JOIN sys.schemas s ON s.schema_id = t.schema_id LEFT JOIN "
	    "sys.change_tracking_tables ctt ON ctt.object_id = t.object_id "
	    "WHERE t.is_ms_shipped = 0 AND s.name NOT IN (N'sys', N'cdc', "
	    "N'INFORMATION_SCHEMA') ORDER BY s.name, t.name";
	static const char sql_columns[] = INTROSPECT_COLUMNS_SELECT
	    ", c.object_id" INTROSPECT_COLUMNS_FROM
	    " JOIN sys.tables t ON t.object_id = c.object_id WHERE "
	    "t.is_ms_shipped = 0 ORDER BY c.object_id, c.column_id";
	static const char sql_keys[] = "SELECT ic.key_ordinal, ic.column_id, "
				       "i.object_id" INTROSPECT_KEY_FROM
				       " ORDER BY i.object_id, ic.key_ordinal";
	static const char sql_cdc[] =
	    "SELECT source_object_id, capture_instance, role_name FROM "
	    "cdc.change_tables WHERE start_lsn IS NOT NULL ORDER BY "
	    "source_object_id, create_date DESC, object_id DESC";
	size_t i;

	memset(d, 0, sizeof(*d));
	if (discover_query(db, sql_db, "sys.databases", 2,
		discover_row_database, d, cause) == -1 ||
	    discover_query(db, sql_tables, "sys.tables", 5, discover_row_table,
		d, cause) == -1)
		return (-1);
	d->byid = xcalloc(d->ntables + 1, sizeof(*d->byid));
	for (i = 0; i < d->ntables; i++)
		d->byid[i] = &d->tables[i];
	qsort(d->byid, d->ntables, sizeof(*d->byid), discover_cmp_id);
	if (discover_query(db, sql_columns, "sys.columns",
		INTROSPECT_COLUMNS_NVALUES + 1, discover_row_column, d,
		cause) == -1 ||
	    discover_query(db, sql_keys, "sys.index_columns", 3,
		discover_row_key, d, cause) == -1)
		return (-1);
	d->instances_known = 1;
	if (!d->cdc_db)
		return (0);
	if (discover_query(db, sql_cdc, "cdc.change_tables", 3,
		discover_row_cdc, d, cause) == -1) {
		if (db_error(db)->number != 229)
			return (-1);
		d->instances_known = 0;
		d->instances_error = *cause;
		*cause = NULL;
	}
	return (0);
}

/* Free one table's description. */
static void
discover_table_free(struct discover_table *t)
{
	size_t i;

	free(t->schema);
	free(t->name);
	free(t->display);
	free(t->qname);
	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].type_name);
	}
	free(t->cols);
	free(t->colids);
	free(t->keys);
	for (i = 0; i < t->ninstances; i++) {
		free(t->instances[i]);
		free(t->roles[i]);
	}
	free(t->instances);
	free(t->roles);
}

/* Free what discover_load() read. */
void
discover_free(struct discover *d)
{
	size_t i;

	for (i = 0; i < d->ntables; i++)
		discover_table_free(&d->tables[i]);
	free(d->tables);
	free(d->byid);
	free(d->dbname);
	free(d->instances_error);
	memset(d, 0, sizeof(*d));
}

/* The table named schema.name (as the catalog compares), or NULL. */
struct discover_table *
discover_find(struct discover *d, const char *schema, const char *name)
{
	size_t i;

	for (i = 0; i < d->ntables; i++)
		if (strcasecmp(d->tables[i].schema, schema) == 0 &&
		    strcasecmp(d->tables[i].name, name) == 0)
			return (&d->tables[i]);
	return (NULL);
}

/* Has the table a capture instance (or CDC, when they are unknown)? */
int
discover_has_cdc(const struct discover *d, const struct discover_table *t)
{
	return (d->instances_known ? t->ninstances > 0 : t->cdc);
}

/*
 * Would "run" with no bindings bind this table?  It needs a primary
 * key, and a mechanism the top-level mode can use (auto: either), or
 * discover_tables_without_ct.
 */
int
discover_bindable(const struct config *cfg, const struct discover *d,
    const struct discover_table *t)
{
	if (t->nkeys == 0 || cfg->mode == CONFIG_MODE_BATCH)
		return (0);
	if (cfg->advanced.discover_tables_without_ct)
		return (1);
	switch (cfg->mode) {
	case CONFIG_MODE_CT:
		return (t->ct);
	case CONFIG_MODE_CDC:
		return (discover_has_cdc(d, t));
	default:
		return (t->ct || discover_has_cdc(d, t));
	}
}

/* Why discover does not list a table; NULL if it does. */
static const char *
discover_skip_reason(const struct config *cfg, const struct discover *d,
    const struct discover_table *t)
{
	if (t->nkeys == 0)
		return ("no primary key: Change Tracking and CDC capture "
			"need one");
	if (!t->ct && !discover_has_cdc(d, t) &&
	    !cfg->advanced.discover_tables_without_ct)
		return ("neither Change Tracking nor a CDC capture instance "
			"(advanced.discover_tables_without_ct lists it)");
	return (NULL);
}

/* The modes of a table, for a log line. */
static const char *
discover_modes_text(const struct discover *d, const struct discover_table *t)
{
	if (t->ct && discover_has_cdc(d, t))
		return ("ct, cdc");
	if (t->ct)
		return ("ct");
	if (discover_has_cdc(d, t))
		return ("cdc");
	return ("neither ct nor cdc enabled");
}

/* Append a binding of schema.name, as config.c would make it. */
static void
discover_add_binding(struct config *cfg, const char *schema, const char *name)
{
	struct config_binding *b;

	cfg->bindings = xreallocarray(
	    cfg->bindings, cfg->nbindings + 1, sizeof(*cfg->bindings));
	b = &cfg->bindings[cfg->nbindings++];
	memset(b, 0, sizeof(*b));
	b->namespace = xstrdup(schema);
	b->stream = xstrdup(name);
	b->priority = 0;
	b->mode = cfg->mode;
}

/* Pass the bindings to the workers (DISCOVER_ENV); -1 with *cause. */
static int
discover_export(const struct config *cfg, char **cause)
{
	json_t *list;
	char *s;
	size_t i;

	list = json_array();
	for (i = 0; i < cfg->nbindings; i++)
		json_array_append_new(list,
		    json_pack("[oo]",
			discover_json_str(cfg->bindings[i].namespace),
			discover_json_str(cfg->bindings[i].stream)));
	s = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	if (s == NULL)
		fatalx("%s: json_dumps failed", __func__);
	if (strlen(s) > DISCOVER_ENV_MAX) {
		xasprintf(cause,
		    "discovery found %zu tables, too many to hand to the "
		    "workers; list the tables to capture under \"bindings\"",
		    cfg->nbindings);
		free(s);
		return (-1);
	}
	if (setenv(DISCOVER_ENV, s, 1) == -1)
		fatal("setenv %s", DISCOVER_ENV);
	free(s);
	return (0);
}

/*
 * "run" with no bindings: connect, discover, and bind every table
 * discover_bindable() accepts (mode: the top-level mode, priority 0).
 * -1 with *cause if it cannot connect or finds nothing to bind.
 */
int
discover_bind(struct config *cfg, char **cause)
{
	struct discover d;
	struct db_error err;
	struct db *db;
	size_t i;
	int rc;

	if ((db = db_open(cfg, &err)) == NULL) {
		xasprintf(cause,
		    "cannot connect to %s:%d to discover the tables to "
		    "capture: %s",
		    cfg->host, cfg->port, err.text);
		return (-1);
	}
	rc = discover_load(db, &d, cause);
	db_close(db);
	if (rc == -1) {
		discover_free(&d);
		return (-1);
	}
	if (d.instances_error != NULL)
		log_warnx("%s: tables with CDC are bound as such, but their "
			  "capture instances are unknown",
		    d.instances_error);
	for (i = 0; i < d.ntables; i++) {
		if (!discover_bindable(cfg, &d, &d.tables[i]))
			continue;
		discover_add_binding(cfg, d.tables[i].schema, d.tables[i].name);
		log_info("no bindings: bound %s (%s), found by discovery",
		    d.tables[i].display, discover_modes_text(&d, &d.tables[i]));
	}
	if (cfg->nbindings == 0) {
		xasprintf(cause,
		    "discovery found no table to capture in database %s: it "
		    "looks for tables with a primary key and %s; list the "
		    "tables under \"bindings\", or enable Change Tracking "
		    "(ALTER TABLE [schema].[table] ENABLE CHANGE_TRACKING)",
		    d.dbname != NULL ? d.dbname : cfg->database,
		    cfg->mode == CONFIG_MODE_CT
			? "Change Tracking enabled (mode ct)"
			: cfg->mode == CONFIG_MODE_CDC
			? "a CDC capture instance (mode cdc)"
			: cfg->mode == CONFIG_MODE_BATCH
			? "mode batch, which discovery cannot bind"
			: "Change Tracking enabled or a CDC capture instance "
			  "(mode auto)");
		discover_free(&d);
		return (-1);
	}
	discover_free(&d);
	return (discover_export(cfg, cause));
}

/*
 * A worker (or a reload) of a "run" that bound the tables found by
 * discovery: rebuild cfg's bindings from DISCOVER_ENV.  0 if it is not
 * set; -1 with *cause if it is malformed.
 */
int
discover_import(struct config *cfg, char **cause)
{
	const char *env = getenv(DISCOVER_ENV);
	json_error_t jerr;
	json_t *list, *pair;
	const char *schema, *name;
	size_t i;

	if (env == NULL || cfg->nbindings != 0)
		return (0);
	if ((list = json_loads(env, 0, &jerr)) == NULL ||
	    !json_is_array(list)) {
		xasprintf(cause, "%s is not a JSON array: %s", DISCOVER_ENV,
		    list == NULL ? jerr.text : "another JSON value");
		json_decref(list);
		return (-1);
	}
	json_array_foreach(list, i, pair)
	{
		if (json_unpack(pair, "[ss]", &schema, &name) != 0) {
			xasprintf(cause,
			    "%s: element %zu is not a [schema, table] "
			    "pair",
			    DISCOVER_ENV, i);
			json_decref(list);
			return (-1);
		}
		discover_add_binding(cfg, schema, name);
	}
	json_decref(list);
	return (0);
}

/* A JSON string of a name (catalog names arrive as UTF-8). */
static json_t *
discover_json_str(const char *s)
{
	json_t *v;

	if ((v = json_string(s)) == NULL)
		v = json_stringn_nocheck(s, strlen(s));
	return (v);
}

/*
 * The JSON type of a column's values in the output (DESIGN.md §4), as a
 * JSON Schema fragment; null for sql_variant, which is not captured.
 */
static json_t *
discover_json_type(const struct frame_column *c)
{
	switch (c->type_id) {
	case 48: /* tinyint */
	case 52: /* smallint */
	case 56: /* int */
	case 127: /* bigint */
		return (json_pack("{ss}", "type", "integer"));
	case 106: /* decimal */
	case 108: /* numeric */
	case 60: /* money */
	case 122: /* smallmoney */
		return (
		    json_pack("{ssss}", "type", "string", "format", "number"));
	case 59: /* real */
	case 62: /* float */
		return (json_pack("{ss}", "type", "number"));
	case 104: /* bit */
		return (json_pack("{ss}", "type", "boolean"));
	case 34: /* image */
	case 165: /* varbinary */
	case 173: /* binary */
	case 189: /* timestamp (rowversion) */
	case 240: /* CLR types: hierarchyid, geometry, geography */
		return (json_pack(
		    "{ssss}", "type", "string", "contentEncoding", "base64"));
	case 36: /* uniqueidentifier */
		return (
		    json_pack("{ssss}", "type", "string", "format", "uuid"));
	case 40: /* date */
		return (
		    json_pack("{ssss}", "type", "string", "format", "date"));
	case 41: /* time */
		return (
		    json_pack("{ssss}", "type", "string", "format", "time"));
	case 42: /* datetime2 */
	case 43: /* datetimeoffset */
	case 58: /* smalldatetime */
	case 61: /* datetime */
		return (json_pack(
		    "{ssss}", "type", "string", "format", "date-time"));
	case 98: /* sql_variant */
		return (json_null());
	default: /* char, varchar, nchar, nvarchar, text, ntext, xml */
		return (json_pack("{ss}", "type", "string"));
	}
}

/* One column: name, type as declared, JSON type, nullable, computed. */
static json_t *
discover_json_column(const struct frame_column *c)
{
	char decl[DBVALUE_DECL_MAX];
	const char *base;
	json_t *o;

	if (dbvalue_type_decl(decl, sizeof(decl), c->type_id, c->max_length,
		(int)c->precision, (int)c->scale) == -1)
		snprintf(decl, sizeof(decl), "%s", c->type_name);
	o = json_object();
	json_object_set_new(o, "name", discover_json_str(c->name));
	json_object_set_new(o, "type", discover_json_str(decl));
	base = dbvalue_type_name(c->type_id);
	if (c->type_id != 240 && base != NULL &&
	    strcasecmp(base, c->type_name) != 0)
		json_object_set_new(
		    o, "user_type", discover_json_str(c->type_name));
	json_object_set_new(o, "json", discover_json_type(c));
	json_object_set_new(o, "nullable", json_boolean(c->nullable));
	json_object_set_new(o, "computed", json_boolean(c->computed));
	return (o);
}

/* One capturable table. */
static json_t *
discover_json_table(const struct discover *d, const struct discover_table *t)
{
	json_t *o, *cols, *key, *modes, *inst;
	size_t i;

	cols = json_array();
	for (i = 0; i < t->ncols; i++)
		json_array_append_new(cols, discover_json_column(&t->cols[i]));
	key = json_array();
	for (i = 0; i < t->nkeys; i++)
		json_array_append_new(
		    key, discover_json_str(t->cols[t->keys[i]].name));
	modes = json_array();
	if (t->ct)
		json_array_append_new(modes, json_string("ct"));
	if (discover_has_cdc(d, t))
		json_array_append_new(modes, json_string("cdc"));
	if (d->instances_known) {
		inst = json_array();
		for (i = 0; i < t->ninstances; i++)
			json_array_append_new(
			    inst, discover_json_str(t->instances[i]));
	} else
		inst = json_null();
	o = json_object();
	json_object_set_new(o, "schema", discover_json_str(t->schema));
	json_object_set_new(o, "table", discover_json_str(t->name));
	json_object_set_new(o, "columns", cols);
	json_object_set_new(o, "key", key);
	json_object_set_new(o, "modes", modes);
	json_object_set_new(o, "cdc_instances", inst);
	return (o);
}

/*
 * Load and validate the configuration for a command (errors printed);
 * NULL if there is none or it is not valid.
 */
struct config *
discover_config(struct cmd_opts *opts, const char *command)
{
	struct config_errors errs;
	struct config *cfg;
	size_t i;

	if (opts->config_path == NULL) {
		fprintf(stderr, "%s: %s: no configuration file: use -c FILE\n",
		    PACKAGE_NAME, command);
		return (NULL);
	}
	if ((cfg = config_load(opts->config_path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "%s: %s: configuration %s is not valid\n",
		    PACKAGE_NAME, command, opts->config_path);
		config_errors_free(&errs);
	}
	return (cfg);
}

/*
 * mssql-capture discover -c FILE: the capturable tables as JSON on
 * standard output.  Exit 0, or 2 (configuration, connection, catalog).
 */
int
cmd_discover(struct cmd_opts *opts)
{
	struct config *cfg;
	struct discover d;
	struct db_error err;
	struct db *db;
	json_t *root, *tables, *skipped;
	const char *why;
	char *cause = NULL;
	size_t i;

	if (opts->argc != 0) {
		fprintf(stderr, "%s: discover: unexpected argument '%s'\n",
		    PACKAGE_NAME, opts->argv[0]);
		return (2);
	}
	if ((cfg = discover_config(opts, "discover")) == NULL)
		return (2);
	if ((db = db_open(cfg, &err)) == NULL) {
		fprintf(stderr, "%s: discover: cannot connect to %s:%d: %s\n",
		    PACKAGE_NAME, cfg->host, cfg->port, err.text);
		config_free(cfg);
		return (2);
	}
	if (discover_load(db, &d, &cause) == -1) {
		fprintf(stderr, "%s: discover: %s\n", PACKAGE_NAME, cause);
		free(cause);
		discover_free(&d);
		db_close(db);
		config_free(cfg);
		return (2);
	}
	db_close(db);
	if (d.instances_error != NULL)
		fprintf(stderr,
		    "%s: discover: %s: capture instances unknown; "
		    "GRANT SELECT ON SCHEMA::[cdc] to the user to see them\n",
		    PACKAGE_NAME, d.instances_error);
	tables = json_array();
	skipped = json_array();
	for (i = 0; i < d.ntables; i++) {
		if ((why = discover_skip_reason(cfg, &d, &d.tables[i])) == NULL)
			json_array_append_new(
			    tables, discover_json_table(&d, &d.tables[i]));
		else
			json_array_append_new(skipped,
			    json_pack("{sososs}", "schema",
				discover_json_str(d.tables[i].schema), "table",
				discover_json_str(d.tables[i].name), "reason",
				why));
	}
	root = json_pack("{sososo}", "database",
	    discover_json_str(d.dbname != NULL ? d.dbname : cfg->database),
	    "tables", tables, "skipped", skipped);
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
	discover_free(&d);
	config_free(cfg);
	return (fflush(stdout) == 0 ? 0 : 2);
}
