/*
 * cdc_proc.c: the sys.sp_cdc_* procedures (SQLSERVER.md §2.1, §2.7,
 * §2.8), reached from rpc_exec() both as RPC calls by name and as EXEC
 * statements of a batch, with named or positional parameters.
 *
 * They check their arguments in SQL Server's order with its error
 * numbers and texts (MS:err22k), then create or drop the cdc objects
 * with T-SQL DDL run through the engine (statement by statement, their
 * DONE tokens suppressed) and fill the metadata tables with SQLite
 * inside the session's write transaction.  The registry of cdc.c learns
 * of every change, since the commit hook relies on it.
 */

#include <sys/types.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

#define MAXCAP 1024

/* A procedure's parameters, by name or position. */
struct cdc_args {
	const char *proc;
	const char *const *names;
	struct sim_param *a;
	int n;
};

/* What sp_cdc_enable_table works out before it creates anything. */
struct cdc_enable {
	struct table *t;
	char schema[129], name[129], ci[260], role[129], index[129], fg[129];
	int has_role, net, has_index, partsw;
	int cap[MAXCAP]; /* captured columns: index into t->cols */
	int ncap;
	int key[64]; /* row-identifying columns: index into t->cols */
	int nkey;
};

static struct sim_param *cdc_arg(struct cdc_args *g, int idx);
static const char *cdc_arg_text(struct cdc_args *g, int idx);
static int64_t cdc_arg_int(struct cdc_args *g, int idx, int64_t def);
static int cdc_require(struct sim_session *s, struct cdc_args *g, int idx);
static int cdc_check_given(struct sim_session *s, struct cdc_args *g, int n);
static int cdc_not_enabled(struct sim_session *s);
static int cdc_ddl(struct sim_session *s, const char *sql);
static int cdc_write(struct sim_session *s, const char *sql);
static int64_t cdc_int(struct sim_session *s, int64_t def, const char *sql);
static int cdc_send_rows(
    struct sim_session *s, const char *spec, sqlite3_stmt *st);
static int cdc_enable_db(struct sim_session *s);
static int cdc_disable_db(struct sim_session *s);
static int cdc_parse_columns(
    struct sim_session *s, struct cdc_enable *ce, const char *l);
static int cdc_find_key(struct sim_session *s, struct cdc_enable *ce);
static int cdc_check_columns(struct sim_session *s, struct cdc_enable *ce);
static int cdc_check_instance(struct sim_session *s, struct cdc_enable *ce);
static int cdc_enable_args(
    struct sim_session *s, struct cdc_args *g, struct cdc_enable *ce);
static int cdc_enable_plan(
    struct sim_session *s, struct cdc_args *g, struct cdc_enable *ce);
static int cdc_create_ct(struct sim_session *s, struct cdc_enable *ce);
static int cdc_enable_meta(struct sim_session *s, struct cdc_enable *ce);
static struct sim_session *cdc_msdb_session(struct sim_session *s);
static void cdc_msdb_jobs(struct sim_session *s, int add);
static int cdc_add_jobs(struct sim_session *s);
static int cdc_enable_table(struct sim_session *s, struct sim_param *a, int n);
static int cdc_drop_instance(struct sim_session *s, const char *ci);
static int cdc_disable_table(struct sim_session *s, struct sim_param *a, int n);
static int cdc_help(struct sim_session *s, struct sim_param *a, int n);
static int cdc_help_jobs(struct sim_session *s);
static int cdc_change_job(struct sim_session *s, struct sim_param *a, int n);
static int cdc_no_instance(struct sim_session *s, const char *ci);
static void cdc_lsn_hex(const unsigned char *l, int n, char *buf);
static int cdc_cleanup_lwm(struct sim_session *s, const char *ci,
    sqlite3_value *lwm, unsigned char *out);
static int cdc_cleanup_change_table(
    struct sim_session *s, struct sim_param *a, int n);
static int cdc_get_ddl_history(
    struct sim_session *s, struct sim_param *a, int n);
static int cdc_scan(struct sim_session *s, struct sim_param *a, int n);
static int cdc_retype(struct sim_session *s, const char *ci,
    const struct table *ct, const struct tcol *sc);

/* The parameter at position idx: the named one, else the positional. */
static struct sim_param *
cdc_arg(struct cdc_args *g, int idx)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (g->a[i].name[0] != '\0' &&
		    strcasecmp(g->a[i].name, g->names[idx]) == 0)
			return (&g->a[i]);
	if (idx < g->n && g->a[idx].name[0] == '\0')
		return (&g->a[idx]);
	return (NULL);
}

/* A parameter as text (NULL when missing or NULL). */
static const char *
cdc_arg_text(struct cdc_args *g, int idx)
{
	struct sim_param *p = cdc_arg(g, idx);

	if (p == NULL || p->value.kind == SQLITE_NULL)
		return (NULL);
	if (p->value.kind == SQLITE_INTEGER) {
		static __thread char buf[32];

		snprintf(buf, sizeof(buf), "%lld", (long long)p->value.i);
		return (buf);
	}
	return ((const char *)p->value.p);
}

/* A parameter as an integer (def when missing or NULL). */
static int64_t
cdc_arg_int(struct cdc_args *g, int idx, int64_t def)
{
	struct sim_param *p = cdc_arg(g, idx);

	if (p == NULL || p->value.kind == SQLITE_NULL)
		return (def);
	if (p->value.kind == SQLITE_INTEGER)
		return (p->value.i);
	if (p->value.kind == SQLITE_FLOAT)
		return ((int64_t)p->value.f);
	return (strtoll((const char *)p->value.p, NULL, 10));
}

/* Error 201 for a required parameter that was not supplied. */
static int
cdc_require(struct sim_session *s, struct cdc_args *g, int idx)
{
	if (cdc_arg(g, idx) != NULL)
		return (0);
	sim_error_set(&s->err, 201, 16, 4,
	    "Procedure or function '%s' "
	    "expects parameter '%s', which was not supplied.",
	    g->proc, g->names[idx]);
	return (-1);
}

/* 22963 for a NULL or empty parameter; 22904 for a non-owner. */
static int
cdc_check_given(struct sim_session *s, struct cdc_args *g, int n)
{
	const char *v;
	int i;

	if (!catalog_is_member(s, "db_owner")) {
		sim_error_set(&s->err, 22904, 16, 1,
		    "Caller is not authorized "
		    "to initiate the requested action. DBO privileges are "
		    "required.");
		return (-1);
	}
	for (i = 0; i < n; i++)
		if ((v = cdc_arg_text(g, i)) == NULL || *v == '\0') {
			sim_error_set(&s->err, 22963, 16, 1,
			    "Parameter '%s' "
			    "cannot be null or empty. Specify a value for the "
			    "named parameter and retry the operation.",
			    g->names[i]);
			return (-1);
		}
	return (0);
}

/* 22901: the database is not enabled. */
static int
cdc_not_enabled(struct sim_session *s)
{
	sim_error_set(&s->err, 22901, 16, 1,
	    "The database '%s' is not enabled "
	    "for Change Data Capture. Ensure that the correct database context "
	    "is set and retry the operation. To report on the databases "
	    "enabled for Change Data Capture, query the is_cdc_enabled column "
	    "in the sys.databases catalog view.",
	    s->dbname);
	return (-1);
}

/* Run one generated DDL statement without its DONE. */
static int
cdc_ddl(struct sim_session *s, const char *sql)
{
	struct parser p2;
	struct lex lx;
	int rc;

	if (lex_tokenize(sql, &lx, &s->err) == -1)
		return (-1);
	memset(&p2, 0, sizeof(p2));
	p2.s = s;
	p2.lx = &lx;
	p2.err = &s->err;
	s->suppress_done = 1;
	rc = catalog_exec_ddl(&p2);
	s->suppress_done = 0;
	engine_parser_reset(&p2);
	free(p2.lits);
	lex_free(&lx);
	return (rc == 0 ? 0 : -1);
}

/* Run SQLite SQL on the session's database inside a write statement. */
static int
cdc_write(struct sim_session *s, const char *sql)
{
	char *msg = NULL;
	int ok;

	if (engine_write_begin(s, &s->err) == -1)
		return (-1);
	ok = sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK;
	if (!ok)
		sim_error_set(&s->err, 50000, 16, 1, "mssqlsim: cdc: %s",
		    msg ? msg : "?");
	sqlite3_free(msg);
	return (engine_write_end(s, ok, &s->err));
}

/* An integer from a query on the session's database (def if none). */
static int64_t
cdc_int(struct sim_session *s, int64_t def, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = def;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (def);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

/* Send a result set: columns "name type;..." and a prepared query. */
static int
cdc_send_rows(struct sim_session *s, const char *spec, sqlite3_stmt *st)
{
	struct sim_column cols[32];
	char buf[2048], *tok, *sp, *save = NULL;
	struct sim_error e;
	sqlite3_value *v[32];
	uint64_t rows = 0;
	int n = 0, i, rc;

	memset(cols, 0, sizeof(cols));
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ";", &save); tok != NULL && n < 32;
	     tok = strtok_r(NULL, ";", &save)) {
		sp = strchr(tok, ' ');
		*sp = '\0';
		snprintf(cols[n].name, sizeof(cols[n].name), "%s", tok);
		if (engine_parse_typename(sp + 1, &cols[n].type, &e) == -1)
			cols[n].type.id = SIMT_INT;
		cols[n++].nullable = 1;
	}
	if (s->sink->colmetadata(s->sink->arg, n, cols) == -1)
		return (-2);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			v[i] = sqlite3_column_value(st, i);
		if (s->sink->row(s->sink->arg, n, v) == -1)
			return (-2);
		rows++;
	}
	if (rc != SQLITE_DONE)
		return (engine_sqlite_error(s, &s->err));
	return (engine_send_done(s, SIM_DONE_COUNT, rows) == -1 ? -2 : 0);
}

/* sys.sp_cdc_enable_db */
static int
cdc_enable_db(struct sim_session *s)
{
	const char *const *ddl = cdc_db_ddl(1);
	char sql[200];
	int i;

	if (!s->sysadmin) {
		sim_error_set(&s->err, 22902, 16, 1,
		    "Caller is not authorized to "
		    "initiate the requested action. Sysadmin privileges are "
		    "required.");
		return (-1);
	}
	if (strcasecmp(s->dbname, "master") == 0 ||
	    strcasecmp(s->dbname, "tempdb") == 0 ||
	    strcasecmp(s->dbname, "model") == 0 ||
	    strcasecmp(s->dbname, "msdb") == 0 ||
	    strcasecmp(s->dbname, "distribution") == 0) {
		sim_error_set(&s->err, 22989, 16, 1,
		    "Could not enable Change "
		    "Data Capture for database '%s'. Change data capture is "
		    "not "
		    "supported on system databases, or on a distribution "
		    "database.",
		    s->dbname);
		return (-1);
	}
	if (catalog_meta_get(s->db, "main", "cdc_enabled", 0)) {
		struct sim_error e;

		sim_error_set(&e, 22905, 10, 1,
		    "Database '%s' is already "
		    "enabled for Change Data Capture. Ensure that the correct "
		    "database context is set, and retry the operation. To "
		    "report "
		    "on the databases enabled for Change Data Capture, query "
		    "the "
		    "is_cdc_enabled column in the sys.databases catalog view.",
		    s->dbname);
		return (engine_send_message(s, &e) == -1 ? -2 : 0);
	}
	if (cdc_int(s, 0,
		"SELECT count(*) FROM sim_schemas WHERE name = 'cdc'") > 0 ||
	    cdc_int(s, 0,
		"SELECT count(*) FROM sim_principals WHERE name = 'cdc'") > 0) {
		sim_error_set(&s->err, 22906, 16, 1,
		    "The database '%s' cannot "
		    "be enabled for Change Data Capture because a database "
		    "user "
		    "named 'cdc' or a schema named 'cdc' already exists in the "
		    "current database. These objects are required exclusively "
		    "by "
		    "Change Data Capture. Drop or rename the user or schema "
		    "and "
		    "retry the operation.",
		    s->dbname);
		return (-1);
	}
	for (i = 0; ddl[i] != NULL; i++)
		if (cdc_ddl(s, ddl[i]) == -1)
			return (-1);
	snprintf(sql, sizeof(sql),
	    "INSERT OR REPLACE INTO sim_meta VALUES "
	    "('cdc_enabled', 1)");
	if (cdc_write(s, sql) == -1)
		return (-1);
	cdc_registry_update(s, 2);
	return (0);
}

/* sys.sp_cdc_disable_db */
static int
cdc_disable_db(struct sim_session *s)
{
	const char *const *ddl = cdc_db_ddl(0);
	sqlite3_stmt *st;
	char cis[64][129], sql[400];
	int n = 0, i;

	if (!s->sysadmin) {
		sim_error_set(&s->err, 22902, 16, 1,
		    "Caller is not authorized to "
		    "initiate the requested action. Sysadmin privileges are "
		    "required.");
		return (-1);
	}
	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (0);
	if (catalog_meta_get(s->db, "main", "cdc_jobs", 0))
		cdc_msdb_jobs(s, 0);
	if (sqlite3_prepare_v2(s->db,
		"SELECT capture_instance FROM \"cdc.change_tables\"", -1, &st,
		NULL) == SQLITE_OK) {
		while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
			snprintf(
			    cis[n++], 129, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	for (i = 0; i < n; i++) {
		snprintf(
		    sql, sizeof(sql), "DROP TABLE cdc.[%.128s_CT]", cis[i]);
		if (cdc_ddl(s, sql) == -1)
			return (-1);
	}
	for (i = 0; ddl[i] != NULL; i++)
		if (cdc_ddl(s, ddl[i]) == -1)
			return (-1);
	if (cdc_write(s,
		"DELETE FROM sim_meta WHERE key IN ('cdc_enabled', "
		"'cdc_jobs'); DELETE FROM sim_cdc_log; DELETE FROM "
		"sim_cdc_scans") == -1)
		return (-1);
	cdc_registry_update(s, 0);
	return (0);
}

/* Parse @captured_column_list: names with [] or "" quoting. */
static int
cdc_parse_columns(struct sim_session *s, struct cdc_enable *ce, const char *l)
{
	char name[260];
	int i, k;

	ce->ncap = 0;
	while (*l != '\0') {
		while (isspace((unsigned char)*l) || *l == ',')
			l++;
		if (*l == '\0')
			break;
		k = 0;
		if (*l == '[' || *l == '"') {
			char close = *l == '[' ? ']' : '"';

			for (l++; *l != '\0'; l++) {
				if (*l == close && l[1] == close)
					l++;
				else if (*l == close)
					break;
				if (k < 258)
					name[k++] = *l;
			}
			if (*l != close) {
				sim_error_set(&s->err, 22965, 16, 1,
				    "A quoted column in the column list is "
				    "not properly terminated. Verify that "
				    "columns are correctly delimited and "
				    "retry the operation. For more "
				    "information, see 'Delimited "
				    "Identifiers' in Books Online.");
				return (-1);
			}
			l++;
		} else
			while (*l != '\0' && *l != ',' && k < 258)
				name[k++] = *l++;
		while (k > 0 && isspace((unsigned char)name[k - 1]))
			k--;
		name[k] = '\0';
		for (i = 0; i < ce->t->ncols; i++)
			if (strcasecmp(ce->t->cols[i].c.name, name) == 0)
				break;
		if (i == ce->t->ncols) {
			sim_error_set(&s->err, 22942, 16, 1,
			    "Columns specified in "
			    "the captured column list could not be mapped to "
			    "columns in source table '%s.%s'. Verify that the "
			    "columns specified in the parameter "
			    "@captured_column_list are delimited properly and "
			    "match columns in the source table.",
			    ce->schema, ce->name);
			return (-1);
		}
		if (ce->ncap < MAXCAP)
			ce->cap[ce->ncap++] = i;
	}
	return (0);
}

/* Find the row-identifying index (PK or @index_name). */
static int
cdc_find_key(struct sim_session *s, struct cdc_enable *ce)
{
	sqlite3_stmt *st;
	char *sql;
	int i, id = -1, uniq = 0, pk = 0;

	if (ce->has_index)
		sql = sqlite3_mprintf("SELECT index_id, is_unique, "
				      "is_primary_key, name FROM sim_indexes "
				      "WHERE object_id = %lld AND name = %Q",
		    (long long)ce->t->object_id, ce->index);
	else
		sql = sqlite3_mprintf("SELECT index_id, is_unique, "
				      "is_primary_key, name FROM sim_indexes "
				      "WHERE object_id = %lld AND "
				      "is_primary_key = 1",
		    (long long)ce->t->object_id);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			id = sqlite3_column_int(st, 0);
			uniq = sqlite3_column_int(st, 1);
			pk = sqlite3_column_int(st, 2);
			snprintf(ce->index, sizeof(ce->index), "%s",
			    sqlite3_column_text(st, 3));
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	if (ce->has_index && id < 0) {
		sim_error_set(&s->err, 22928, 16, 1,
		    "Index name '%s' is not an "
		    "index for table '%s.%s'. Specify a valid index name for "
		    "the "
		    "table.",
		    ce->index, ce->schema, ce->name);
		return (-1);
	}
	if (ce->has_index && !uniq && !pk) {
		sim_error_set(&s->err, 22929, 16, 1,
		    "Index '%s' must be either "
		    "a primary key or a unique index for table '%s.%s'. "
		    "Specify "
		    "an index that meets at least one of these requirements.",
		    ce->index, ce->schema, ce->name);
		return (-1);
	}
	if (id < 0) {
		ce->index[0] = '\0';
		return (0);
	}
	sql = sqlite3_mprintf("SELECT column_id FROM sim_index_columns WHERE "
			      "object_id = %lld AND index_id = %d AND "
			      "key_ordinal > 0 ORDER BY key_ordinal",
	    (long long)ce->t->object_id, id);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (ce->nkey < 64 && sqlite3_step(st) == SQLITE_ROW)
			for (i = 0; i < ce->t->ncols; i++)
				if (ce->t->cols[i].column_id ==
				    sqlite3_column_int(st, 0))
					ce->key[ce->nkey++] = i;
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	for (i = 0; ce->has_index && i < ce->nkey; i++)
		if (ce->t->cols[ce->key[i]].c.nullable) {
			sim_error_set(&s->err, 22838, 16, 1,
			    "All columns of a "
			    "CDC unique index must be defined as NOT NULL. "
			    "Index "
			    "'%s' selected as the CDC unique index for source "
			    "table '%s.%s' does not meet this requirement. "
			    "Define all columns of the selected index as NOT "
			    "NULL or select another unique index as the CDC "
			    "index and resubmit the request.",
			    ce->index, ce->schema, ce->name);
			return (-1);
		}
	return (0);
}

/* Checks on the captured columns: key columns present, no __$ names. */
static int
cdc_check_columns(struct sim_session *s, struct cdc_enable *ce)
{
	int i, k;

	for (i = 0; i < ce->ncap; i++)
		if (strncmp(ce->t->cols[ce->cap[i]].c.name, "__$", 3) == 0) {
			sim_error_set(&s->err, 22975, 16, 1,
			    "Source table '%s' "
			    "contains one of the following reserved column "
			    "names: __$start_lsn, __$end_lsn, __$seqval, "
			    "__$operation, and __$update_mask. To enable "
			    "Change "
			    "Data Capture for this table, specify a captured "
			    "column list and ensure that these columns are "
			    "excluded from the list.",
			    ce->name);
			return (-1);
		}
	for (k = 0; k < ce->nkey; k++) {
		for (i = 0; i < ce->ncap; i++)
			if (ce->cap[i] == ce->key[k])
				break;
		if (i == ce->ncap) {
			sim_error_set(&s->err, 22943, 16, 1,
			    "Columns used to "
			    "uniquely identify a row for net change tracking "
			    "must be included in the list of captured columns. "
			    "Add either the primary key columns of the source "
			    "table, or the columns defined for the index "
			    "specified in the parameter @index_name to the "
			    "list "
			    "of captured columns and retry the operation.");
			return (-1);
		}
	}
	return (0);
}

/* The instance name: given, or <schema>_<table>; 22927 and 22926. */
static int
cdc_check_instance(struct sim_session *s, struct cdc_enable *ce)
{
	char *sql;
	int64_t n;

	if (strlen(ce->ci) > 100) {
		sim_error_set(&s->err, 22927, 16, 1,
		    "Capture instance name '%s' "
		    "exceeds the length limit of 100 characters. Specify a "
		    "name "
		    "that satisfies the length constraint.",
		    ce->ci);
		return (-1);
	}
	sql = sqlite3_mprintf("SELECT count(*) FROM \"cdc.change_tables\" "
			      "WHERE capture_instance = %Q",
	    ce->ci);
	n = cdc_int(s, 0, sql);
	sqlite3_free(sql);
	if (n > 0) {
		sim_error_set(&s->err, 22926, 16, 1,
		    "Could not create a capture "
		    "instance because the capture instance name '%s' already "
		    "exists in the current database. Specify an explicit "
		    "unique "
		    "name for the parameter @capture_instance.",
		    ce->ci);
		return (-1);
	}
	sql = sqlite3_mprintf("SELECT count(*) FROM \"cdc.change_tables\" "
			      "WHERE source_object_id = %lld",
	    (long long)ce->t->object_id);
	n = cdc_int(s, 0, sql);
	sqlite3_free(sql);
	if (n >= 2) {
		sim_error_set(&s->err, 22962, 16, 1,
		    "Two capture instances "
		    "already exist for source table '%s.%s'. A table can have "
		    "at "
		    "most two capture instances. If the current tracking "
		    "options "
		    "are not appropriate, disable change tracking for the "
		    "obsolete instance by using sys.sp_cdc_disable_table and "
		    "retry the operation.",
		    ce->schema, ce->name);
		return (-1);
	}
	return (0);
}

/* Parameters of sp_cdc_enable_table, checked in SQL Server's order. */
static int
cdc_enable_args(
    struct sim_session *s, struct cdc_args *g, struct cdc_enable *ce)
{
	const char *v;
	int i;

	for (i = 0; i < 3; i++)
		if (cdc_require(s, g, i) == -1)
			return (-1);
	if (cdc_check_given(s, g, 2) == -1)
		return (-1);
	snprintf(ce->schema, sizeof(ce->schema), "%s",
	    cdc_arg_text(g, 0) ? cdc_arg_text(g, 0) : "");
	snprintf(ce->name, sizeof(ce->name), "%s",
	    cdc_arg_text(g, 1) ? cdc_arg_text(g, 1) : "");
	if ((v = cdc_arg_text(g, 2)) != NULL) {
		if (*v == '\0') {
			sim_error_set(&s->err, 22907, 16, 1,
			    "Parameter "
			    "@role_name cannot be empty. Specify a value for "
			    "@role_name and retry the operation. Supply null "
			    "as "
			    "the value if no role is to be used to gate access "
			    "to captured change data.");
			return (-1);
		}
		ce->has_role = 1;
		snprintf(ce->role, sizeof(ce->role), "%s", v);
	}
	if (strcasecmp(ce->schema, "cdc") == 0) {
		sim_error_set(&s->err, 22974, 16, 1,
		    "Tables contained in the "
		    "cdc schema cannot be enabled for Change Data Capture.");
		return (-1);
	}
	if ((ce->t = catalog_table(s, ce->schema, ce->name, NULL)) == NULL ||
	    ce->t->is_view) {
		sim_error_set(&s->err, 22931, 16, 1,
		    "Source table '%s.%s' "
		    "does not exist in the current database. Ensure that the "
		    "correct database context is set. Specify a valid schema "
		    "and "
		    "table name for the database.",
		    ce->schema, ce->name);
		return (-1);
	}
	if ((v = cdc_arg_text(g, 3)) != NULL && *v != '\0')
		snprintf(ce->ci, sizeof(ce->ci), "%s", v);
	else
		snprintf(ce->ci, sizeof(ce->ci), "%s_%s", ce->t->schema,
		    ce->t->name);
	if ((v = cdc_arg_text(g, 5)) != NULL) {
		ce->has_index = 1;
		snprintf(ce->index, sizeof(ce->index), "%s", v);
	}
	if ((v = cdc_arg_text(g, 7)) != NULL && *v != '\0') {
		snprintf(ce->fg, sizeof(ce->fg), "%s", v);
		if (strcasecmp(v, "PRIMARY") != 0) {
			sim_error_set(&s->err, 22973, 16, 1,
			    "The specified "
			    "filegroup '%s' is not a valid filegroup for "
			    "database '%s'. Specify a valid existing filegroup "
			    "or create the named filegroup, and retry the "
			    "operation.",
			    v, s->dbname);
			return (-1);
		}
	}
	ce->partsw = (int)cdc_arg_int(g, 8, 1);
	return (0);
}

/* Work out columns, key and net support. */
static int
cdc_enable_plan(
    struct sim_session *s, struct cdc_args *g, struct cdc_enable *ce)
{
	const char *list = cdc_arg_text(g, 6);
	int64_t net;
	int i;

	if (cdc_check_instance(s, ce) == -1 || cdc_find_key(s, ce) == -1)
		return (-1);
	net = cdc_arg_int(g, 4, -1);
	if (net == 1 && ce->nkey == 0) {
		sim_error_set(&s->err, 22939, 16, 1,
		    "The parameter "
		    "@supports_net_changes is set to 1, but the source table "
		    "does "
		    "not have a primary key defined and no alternate unique "
		    "index "
		    "has been specified.");
		return (-1);
	}
	ce->net = net == -1 ? ce->nkey > 0 : net != 0;
	if (list != NULL && *list != '\0') {
		if (cdc_parse_columns(s, ce, list) == -1)
			return (-1);
	} else
		for (i = 0; i < ce->t->ncols && i < MAXCAP; i++)
			ce->cap[ce->ncap++] = i;
	return (cdc_check_columns(s, ce));
}

/* CREATE TABLE cdc.<ci>_CT with the columns of §2.2. */
static int
cdc_create_ct(struct sim_session *s, struct cdc_enable *ce)
{
	struct sim_type ty;
	struct sbuf b;
	char tn[80], *x;
	int i, rc;

	sbuf_init(&b);
	x = sqlite3_mprintf("CREATE TABLE cdc.[%s_CT] ([__$start_lsn] "
			    "binary(10) NOT NULL, [__$end_lsn] binary(10) "
			    "NULL, [__$seqval] binary(10) NOT NULL, "
			    "[__$operation] int NOT NULL, [__$update_mask] "
			    "varbinary(128) NULL",
	    ce->ci);
	sbuf_add(&b, x, strlen(x));
	sqlite3_free(x);
	for (i = 0; i < ce->ncap; i++) {
		ty = ce->t->cols[ce->cap[i]].c.type;
		if (ty.id == SIMT_TIMESTAMP) {
			ty.id = SIMT_BINARY;
			ty.maxlen = 8;
		}
		simtype_format(&ty, tn, sizeof(tn));
		x = sqlite3_mprintf(
		    ", [%s] %s NULL", ce->t->cols[ce->cap[i]].c.name, tn);
		sbuf_add(&b, x, strlen(x));
		sqlite3_free(x);
	}
	sbuf_add(&b, ", [__$command_id] int NULL)", 28);
	rc = cdc_ddl(s, (char *)b.data);
	sbuf_free(&b);
	if (rc == 0) {
		x = sqlite3_mprintf(
		    "CREATE INDEX IF NOT EXISTS \"cdc.%w_CT$lsn\" "
		    "ON \"cdc.%w_CT\"(\"__$start_lsn\", "
		    "\"__$seqval\", \"__$operation\")",
		    ce->ci, ce->ci);
		rc = cdc_write(s, x);
		sqlite3_free(x);
	}
	return (rc);
}

/* Fill change_tables, captured_columns and index_columns. */
static int
cdc_enable_meta(struct sim_session *s, struct cdc_enable *ce)
{
	unsigned char lsn[10];
	char now[32], hex[21], *sql, *x;
	struct sbuf b;
	int64_t ctid;
	int i, rc;

	x = sqlite3_mprintf("SELECT o.object_id FROM sim_objects o JOIN "
			    "sim_schemas s USING (schema_id) WHERE s.name = "
			    "'cdc' AND o.name = '%q_CT'",
	    ce->ci);
	ctid = cdc_int(s, 0, x);
	sqlite3_free(x);
	if (engine_write_begin(s, &s->err) == -1)
		return (-1);
	cdc_lsn_next(s, lsn);
	engine_write_end(s, 1, &s->err);
	for (i = 0; i < 10; i++)
		snprintf(hex + 2 * i, 3, "%02X", lsn[i]);
	cdc_now_datetime(now, sizeof(now), 0);
	sbuf_init(&b);
	sql = sqlite3_mprintf("INSERT INTO \"cdc.change_tables\" VALUES (%lld, "
			      "0, %lld, %Q, X'%s', NULL, %d, 0, %Q, %Q, %Q, "
			      "%Q, %d);",
	    (long long)ctid, (long long)ce->t->object_id, ce->ci, hex, ce->net,
	    ce->has_role ? ce->role : NULL, ce->index[0] ? ce->index : NULL,
	    ce->fg[0] ? ce->fg : NULL, now, ce->partsw);
	sbuf_add(&b, sql, strlen(sql));
	sqlite3_free(sql);
	for (i = 0; i < ce->ncap; i++) {
		struct tcol *c = &ce->t->cols[ce->cap[i]];

		sql = sqlite3_mprintf("INSERT INTO \"cdc.captured_columns\" "
				      "VALUES (%lld, %Q, %d, %Q, %d, %d, "
				      "NULL);",
		    (long long)ctid, c->c.name, c->column_id,
		    simtype_name(&c->c.type), i + 1, c->c.computed);
		sbuf_add(&b, sql, strlen(sql));
		sqlite3_free(sql);
	}
	for (i = 0; i < ce->nkey; i++) {
		struct tcol *c = &ce->t->cols[ce->key[i]];

		sql = sqlite3_mprintf("INSERT INTO \"cdc.index_columns\" "
				      "VALUES (%lld, %Q, %d, %d);",
		    (long long)ctid, c->c.name, i + 1, c->column_id);
		sbuf_add(&b, sql, strlen(sql));
		sqlite3_free(sql);
	}
	sbuf_add(&b, "", 1);
	rc = cdc_write(s, (char *)b.data);
	sbuf_free(&b);
	return (rc);
}

static pthread_mutex_t cdc_msdb_mtx = PTHREAD_MUTEX_INITIALIZER;

/* A session on msdb, the database created (a bare catalog) if need be. */
static struct sim_session *
cdc_msdb_session(struct sim_session *s)
{
	static const struct sim_sink nosink;
	struct sim_session *m;
	struct sim_error e;
	sqlite3 *db;
	char *path;

	path = engine_db_path(s->srv, "msdb");
	if (sqlite3_open_v2(path, &db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
		NULL) == SQLITE_OK) {
		sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		catalog_init_db(db, 4, &e);
	}
	sqlite3_close(db);
	free(path);
	if (engine_login(s->srv, "sa", s->srv->sa_password, "msdb",
		"SQLAgent - CDC", &m, &e) == -1)
		return (NULL);
	m->sink = &nosink;
	m->real = &nosink;
	return (m);
}

/*
 * msdb.dbo.cdc_jobs: the jobs of every database using CDC; the table
 * exists only while some database does.  add: 1 the database's jobs
 * appear, 0 they go, 2 the cleanup job's retention changed.
 */
static void
cdc_msdb_jobs(struct sim_session *s, int add)
{
	struct sim_session *m;
	sqlite3_stmt *st;
	int64_t dbid = 0;
	char *sql;

	if (sqlite3_prepare_v2(engine_mdb(s),
		"SELECT database_id FROM main.sim_databases WHERE name = ?", -1,
		&st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, s->dbname, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			dbid = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	pthread_mutex_lock(&cdc_msdb_mtx);
	if ((m = cdc_msdb_session(s)) == NULL) {
		pthread_mutex_unlock(&cdc_msdb_mtx);
		return;
	}
	if (add &&
	    cdc_int(m, 0,
		"SELECT count(*) FROM sim_objects WHERE name = "
		"'cdc_jobs'") == 0)
		cdc_ddl(m,
		    "CREATE TABLE dbo.cdc_jobs (database_id int NOT NULL, "
		    "job_type nvarchar(20) NOT NULL, job_id uniqueidentifier "
		    "NULL, maxtrans int NULL, maxscans int NULL, continuous "
		    "bit "
		    "NULL, pollinginterval bigint NULL, retention bigint NULL, "
		    "threshold bigint NULL)");
	if (add == 2) /* sp_cdc_change_job @retention */
		sql = sqlite3_mprintf("UPDATE \"dbo.cdc_jobs\" SET retention = "
				      "%lld WHERE database_id = %lld AND "
				      "job_type = 'cleanup'",
		    (long long)catalog_meta_get(
			s->db, "main", "cdc_retention", 4320),
		    (long long)dbid);
	else
		sql = sqlite3_mprintf(add ? "INSERT INTO \"dbo.cdc_jobs\" "
					    "VALUES (%lld, 'capture', "
					    "printf('%%08X-0000-4000-8000-%%"
					    "012X', %lld, 1), 500, 10, 1, "
					    "5, 0, 0), (%lld, 'cleanup', "
					    "printf('%%08X-0000-4000-8000-%%"
					    "012X', %lld, 2), 0, 0, 0, 0, "
					    "4320, 5000)"
					  : "DELETE FROM \"dbo.cdc_jobs\" "
					    "WHERE database_id = %lld",
		    (long long)dbid, (long long)dbid, (long long)dbid,
		    (long long)dbid);
	sqlite3_exec(m->db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	if (!add && cdc_int(m, 1, "SELECT count(*) FROM \"dbo.cdc_jobs\"") == 0)
		cdc_ddl(m, "DROP TABLE dbo.cdc_jobs");
	engine_session_free(m);
	pthread_mutex_unlock(&cdc_msdb_mtx);
}

/* First table of a database: the capture and cleanup jobs. */
static int
cdc_add_jobs(struct sim_session *s)
{
	if (catalog_meta_get(s->db, "main", "cdc_jobs", 0))
		return (0);
	if (cdc_write(s,
		"INSERT OR REPLACE INTO sim_meta VALUES ('cdc_jobs', 1)") == -1)
		return (-1);
	cdc_msdb_jobs(s, 1);
	if (engine_info(s, 22022,
		"SQLServerAgent is not currently running so it cannot be "
		"notified of this action.") == -1)
		return (-2);
	return (0);
}

/* sys.sp_cdc_enable_table */
static int
cdc_enable_table(struct sim_session *s, struct sim_param *a, int n)
{
	static const char *const names[] = { "@source_schema", "@source_name",
		"@role_name", "@capture_instance", "@supports_net_changes",
		"@index_name", "@captured_column_list", "@filegroup_name",
		"@allow_partition_switch" };
	struct cdc_args g = { "sp_cdc_enable_table", names, a, n };
	struct cdc_enable ce;
	char sql[300];
	int rc = -1;

	memset(&ce, 0, sizeof(ce));
	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0)) {
		if (cdc_require(s, &g, 0) == -1 || cdc_require(s, &g, 1) == -1)
			return (-1);
		return (cdc_not_enabled(s));
	}
	if (cdc_enable_args(s, &g, &ce) == -1 ||
	    cdc_enable_plan(s, &g, &ce) == -1)
		goto out;
	if (ce.has_role &&
	    cdc_int(s, 0,
		sqlite3_snprintf(sizeof(sql), sql,
		    "SELECT count(*) FROM "
		    "sim_principals WHERE name = %Q",
		    ce.role)) == 0) {
		snprintf(sql, sizeof(sql), "CREATE ROLE [%s]", ce.role);
		if (cdc_ddl(s, sql) == -1)
			goto out;
	}
	if (cdc_create_ct(s, &ce) == -1 || cdc_enable_meta(s, &ce) == -1)
		goto out;
	rc = cdc_add_jobs(s);
	cdc_registry_update(s, 1);
out:
	catalog_table_free(ce.t);
	return (rc);
}

/* Drop one capture instance. */
static int
cdc_drop_instance(struct sim_session *s, const char *ci)
{
	char sql[400], *x;
	int rc;

	snprintf(sql, sizeof(sql), "DROP TABLE cdc.[%s_CT]", ci);
	if (cdc_ddl(s, sql) == -1)
		return (-1);
	x = sqlite3_mprintf(
	    "CREATE TEMP TABLE IF NOT EXISTS sim_cdc_drop(oid INTEGER);"
	    "DELETE FROM temp.sim_cdc_drop;"
	    "INSERT INTO temp.sim_cdc_drop SELECT object_id FROM "
	    "\"cdc.change_tables\" WHERE capture_instance = %Q;"
	    "DELETE FROM \"cdc.captured_columns\" WHERE object_id IN (SELECT "
	    "oid FROM temp.sim_cdc_drop);"
	    "DELETE FROM \"cdc.index_columns\" WHERE object_id IN (SELECT oid "
	    "FROM temp.sim_cdc_drop);"
	    "DELETE FROM \"cdc.ddl_history\" WHERE object_id IN (SELECT oid "
	    "FROM temp.sim_cdc_drop);"
	    "DELETE FROM \"cdc.change_tables\" WHERE capture_instance = %Q;",
	    ci, ci);
	rc = cdc_write(s, x);
	sqlite3_free(x);
	return (rc);
}

/* sys.sp_cdc_disable_table */
static int
cdc_disable_table(struct sim_session *s, struct sim_param *a, int n)
{
	static const char *const names[] = { "@source_schema", "@source_name",
		"@capture_instance" };
	struct cdc_args g = { "sp_cdc_disable_table", names, a, n };
	char cis[2][129], *sql;
	const char *schema, *name, *ci;
	struct table *t;
	sqlite3_stmt *st;
	int i, k = 0;

	for (i = 0; i < 3; i++)
		if (cdc_require(s, &g, i) == -1)
			return (-1);
	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (cdc_not_enabled(s));
	if (cdc_check_given(s, &g, 3) == -1)
		return (-1);
	schema = cdc_arg_text(&g, 0) ? cdc_arg_text(&g, 0) : "";
	name = cdc_arg_text(&g, 1) ? cdc_arg_text(&g, 1) : "";
	ci = cdc_arg_text(&g, 2) ? cdc_arg_text(&g, 2) : "";
	if ((t = catalog_table(s, schema, name, NULL)) == NULL) {
		sim_error_set(&s->err, 22931, 16, 1,
		    "Source table '%s.%s' "
		    "does not exist in the current database. Ensure that the "
		    "correct database context is set. Specify a valid schema "
		    "and "
		    "table name for the database.",
		    schema, name);
		return (-1);
	}
	sql = sqlite3_mprintf("SELECT capture_instance FROM "
			      "\"cdc.change_tables\" WHERE source_object_id = "
			      "%lld AND (%Q = 'all' OR capture_instance = %Q)",
	    (long long)t->object_id, ci, ci);
	catalog_table_free(t);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (k < 2 && sqlite3_step(st) == SQLITE_ROW)
			snprintf(
			    cis[k++], 129, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	if (k == 0) {
		sim_error_set(&s->err, 22960, 16, 1,
		    "Change data capture "
		    "instance '%s' has not been enabled for the source table "
		    "'%s.%s'. Use sys.sp_cdc_help_change_data_capture to "
		    "verify "
		    "the capture instance name and retry the operation.",
		    ci, schema, name);
		return (-1);
	}
	for (i = 0; i < k; i++)
		if (cdc_drop_instance(s, cis[i]) == -1)
			return (-1);
	cdc_registry_update(s, 1);
	return (0);
}

#define HELP_COLS \
	"source_schema sysname;source_table sysname;capture_instance " \
	"sysname;object_id int;source_object_id int;start_lsn binary(10);" \
	"end_lsn binary(10);supports_net_changes bit;has_drop_pending bit;" \
	"role_name sysname;index_name sysname;filegroup_name sysname;" \
	"create_date datetime;index_column_list nvarchar(max);" \
	"captured_column_list nvarchar(max)"

/* sys.sp_cdc_help_change_data_capture [@source_schema, @source_name] */
static int
cdc_help(struct sim_session *s, struct sim_param *a, int n)
{
	static const char *const names[] = { "@source_schema", "@source_name" };
	struct cdc_args g = { "sp_cdc_help_change_data_capture", names, a, n };
	const char *sc = cdc_arg_text(&g, 0), *nm = cdc_arg_text(&g, 1);
	sqlite3_stmt *st;
	char *sql;
	int rc;

	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (cdc_not_enabled(s));
	if ((sc && *sc) != (nm && *nm)) {
		sim_error_set(&s->err, 22972, 16, 1,
		    "When calling stored "
		    "procedure [sys].sp_cdc_help_change_data capture, if "
		    "either "
		    "@source_schema or @source_name is non-null and non-empty, "
		    "the other parameter must also be non-null and non-empty.");
		return (-1);
	}
	sql = sqlite3_mprintf(
	    "SELECT s.name, o.name, ct.capture_instance, ct.object_id, "
	    "ct.source_object_id, ct.start_lsn, ct.end_lsn, "
	    "ct.supports_net_changes, ct.has_drop_pending, ct.role_name, "
	    "ct.index_name, ct.filegroup_name, ct.create_date, (SELECT "
	    "group_concat('[' || column_name || ']', ', ') FROM (SELECT "
	    "column_name FROM \"cdc.index_columns\" WHERE object_id = "
	    "ct.object_id ORDER BY index_ordinal)), (SELECT "
	    "group_concat('[' || column_name || ']', ', ') FROM (SELECT "
	    "column_name FROM \"cdc.captured_columns\" WHERE object_id = "
	    "ct.object_id ORDER BY column_ordinal)) FROM \"cdc.change_tables\" "
	    "ct JOIN sim_objects o ON o.object_id = ct.source_object_id JOIN "
	    "sim_schemas s ON s.schema_id = o.schema_id WHERE (%Q IS NULL OR "
	    "%Q = '' OR (s.name = %Q AND o.name = %Q)) ORDER BY s.name, "
	    "o.name, ct.capture_instance",
	    sc, sc, sc, nm);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return (engine_sqlite_error(s, &s->err));
	rc = cdc_send_rows(s, HELP_COLS, st);
	sqlite3_finalize(st);
	return (rc);
}

#define JOB_COLS \
	"job_id uniqueidentifier;job_type nvarchar(20);job_name " \
	"nvarchar(128);maxtrans int;maxscans int;continuous bit;" \
	"pollinginterval bigint;retention bigint;threshold bigint"

/* sys.sp_cdc_help_jobs */
static int
cdc_help_jobs(struct sim_session *s)
{
	sqlite3_stmt *st;
	char *sql;
	int rc;

	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (cdc_not_enabled(s));
	sql = sqlite3_mprintf(
	    "SELECT printf('%%08X-0000-4000-8000-%%012X', abs(sim_db_id()), "
	    "column1), column2, 'cdc.' || %Q || '_' || column2, column3, "
	    "column4, column5, column6, column7, column8 FROM (VALUES (1, "
	    "'capture', 500, 10, 1, 5, 0, 0), (2, 'cleanup', 0, 0, 0, 0, "
	    "(SELECT ifnull((SELECT value FROM sim_meta WHERE key = "
	    "'cdc_retention'), 4320)), 5000)) WHERE (SELECT value FROM "
	    "sim_meta WHERE key = 'cdc_jobs') = 1",
	    s->dbname);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return (engine_sqlite_error(s, &s->err));
	rc = cdc_send_rows(s, JOB_COLS, st);
	sqlite3_finalize(st);
	return (rc);
}

/* sys.sp_cdc_change_job [@job_type, ..., @retention] */
static int
cdc_change_job(struct sim_session *s, struct sim_param *a, int n)
{
	static const char *const names[] = { "@job_type", "@maxtrans",
		"@maxscans", "@continuous", "@pollinginterval", "@retention",
		"@threshold" };
	struct cdc_args g = { "sp_cdc_change_job", names, a, n };
	int64_t ret = cdc_arg_int(&g, 5, -1);
	char sql[200];

	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (cdc_not_enabled(s));
	if (ret == -1)
		return (0);
	if (ret <= 0 || ret > 52594800) {
		sim_error_set(&s->err, 22994, 16, 1,
		    "The retention value "
		    "specified for the Change Data Capture cleanup process "
		    "must "
		    "be greater than 0 and less than or equal to 52594800. "
		    "When "
		    "creating or modifying the cleanup job, specify a "
		    "retention "
		    "value (in minutes) that is within that range. If this "
		    "error "
		    "is encountered when executing the "
		    "sys.sp_cdc_cleanup_change_table stored procedure, reset "
		    "the "
		    "retention value associated with the job to a non-negative "
		    "value less than 52594800 by using the sp_cdc_change_job "
		    "stored procedure.");
		return (-1);
	}
	snprintf(sql, sizeof(sql),
	    "INSERT OR REPLACE INTO sim_meta VALUES "
	    "('cdc_retention', %lld)",
	    (long long)ret);
	if (cdc_write(s, sql) == -1)
		return (-1);
	if (catalog_meta_get(s->db, "main", "cdc_jobs", 0))
		cdc_msdb_jobs(s, 2);
	return (0);
}

/* 22920: no such capture instance. */
static int
cdc_no_instance(struct sim_session *s, const char *ci)
{
	sim_error_set(&s->err, 22920, 16, 1,
	    "The named capture instance %s "
	    "does not exist for database %s.",
	    ci, s->dbname);
	return (-1);
}

/* An LSN as it appears in messages: 0x0000002A000001F60003. */
static void
cdc_lsn_hex(const unsigned char *l, int n, char *buf)
{
	int i;

	strcpy(buf, "0x");
	for (i = 0; i < n && i < 10; i++)
		snprintf(buf + 2 + 2 * i, 3, "%02X", l[i]);
}

/*
 * The new low-water mark of sp_cdc_cleanup_change_table: an entry of
 * cdc.lsn_time_mapping (22964), within [start_lsn, max] (22957), moved
 * down to the smallest LSN sharing its commit time.
 */
static int
cdc_cleanup_lwm(struct sim_session *s, const char *ci, sqlite3_value *lwm,
    unsigned char *out)
{
	char hex[32], lo[32], hi[32];
	sqlite3_stmt *st;
	int rc = -1, in;

	cdc_lsn_hex(sqlite3_value_blob(lwm), sqlite3_value_bytes(lwm), hex);
	if (sqlite3_prepare_v2(s->db,
		"SELECT (SELECT min(m2.start_lsn) FROM "
		"\"cdc.lsn_time_mapping\" "
		"m2 WHERE m2.tran_end_time = m.tran_end_time), (SELECT "
		"start_lsn FROM \"cdc.change_tables\" WHERE capture_instance = "
		"?2), (SELECT max(start_lsn) FROM \"cdc.lsn_time_mapping\") "
		"FROM "
		"\"cdc.lsn_time_mapping\" m WHERE m.start_lsn = ?1",
		-1, &st, NULL) != SQLITE_OK)
		return (engine_sqlite_error(s, &s->err));
	sqlite3_bind_value(st, 1, lwm);
	sqlite3_bind_text(st, 2, ci, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sim_error_set(&s->err, 22964, 16, 1,
		    "LSN %s, specified as the "
		    "new low end point for change table cleanup must represent "
		    "the start_lsn value of a current entry in the "
		    "cdc.lsn_time_mapping table. Choose an LSN value that "
		    "satisfies this requirement.",
		    hex);
	} else {
		cdc_lsn_hex(sqlite3_column_blob(st, 1),
		    sqlite3_column_bytes(st, 1), lo);
		cdc_lsn_hex(sqlite3_column_blob(st, 2),
		    sqlite3_column_bytes(st, 2), hi);
		in = sqlite3_column_bytes(st, 1) != 10 ||
		    memcmp(sqlite3_value_blob(lwm), sqlite3_column_blob(st, 1),
			10) >= 0;
		if (in) {
			memcpy(out, sqlite3_column_blob(st, 0), 10);
			rc = 0;
		} else
			sim_error_set(&s->err, 22957, 16, 1,
			    "LSN %s, specified "
			    "as the new low end point for the change table "
			    "associated with capture instance '%s', is not "
			    "within the Change Data Capture timeline [%s, %s].",
			    hex, ci, lo, hi);
	}
	sqlite3_finalize(st);
	return (rc);
}

/* sys.sp_cdc_cleanup_change_table @capture_instance, @low_water_mark */
static int
cdc_cleanup_change_table(struct sim_session *s, struct sim_param *a, int n)
{
	static const char *const names[] = { "@capture_instance",
		"@low_water_mark", "@threshold", "@fCleanupFailed" };
	struct cdc_args g = { "sp_cdc_cleanup_change_table", names, a, n };
	struct sim_param *lwm, *failed;
	unsigned char lsn[10];
	const char *ci;
	char *sql, hex[32];
	int rc;

	if (cdc_require(s, &g, 0) == -1 || cdc_require(s, &g, 1) == -1)
		return (-1);
	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (cdc_not_enabled(s));
	if (cdc_check_given(s, &g, 1) == -1)
		return (-1);
	ci = cdc_arg_text(&g, 0);
	sql = sqlite3_mprintf("SELECT count(*) FROM \"cdc.change_tables\" "
			      "WHERE capture_instance = %Q",
	    ci);
	rc = (int)cdc_int(s, 0, sql);
	sqlite3_free(sql);
	if (rc == 0)
		return (cdc_no_instance(s, ci));
	lwm = cdc_arg(&g, 1);
	if (lwm->value.kind != SQLITE_NULL) {
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(s->db, "SELECT ?", -1, &st, NULL) !=
		    SQLITE_OK)
			return (engine_sqlite_error(s, &s->err));
		sqlite3_bind_blob(
		    st, 1, lwm->value.p, (int)lwm->value.len, SQLITE_STATIC);
		sqlite3_step(st);
		rc = cdc_cleanup_lwm(s, ci, sqlite3_column_value(st, 0), lsn);
		sqlite3_finalize(st);
		if (rc == -1)
			return (-1);
		cdc_lsn_hex(lsn, 10, hex);
		sql =
		    sqlite3_mprintf("UPDATE \"cdc.change_tables\" SET "
				    "start_lsn = X'%s' WHERE capture_instance "
				    "= %Q AND (start_lsn IS NULL OR start_lsn "
				    "< X'%s');",
			hex + 2, ci, hex + 2);
		rc = cdc_write(s, sql);
		sqlite3_free(sql);
		if (rc == -1)
			return (-1);
	}
	sql = sqlite3_mprintf("DELETE FROM \"cdc.%w_CT\" WHERE "
			      "\"__$start_lsn\" < (SELECT start_lsn FROM "
			      "\"cdc.change_tables\" WHERE capture_instance = "
			      "%Q)",
	    ci, ci);
	rc = cdc_write(s, sql);
	sqlite3_free(sql);
	if ((failed = cdc_arg(&g, 3)) != NULL && failed->output) {
		simval_free(&failed->value);
		failed->value.kind = SQLITE_INTEGER;
		failed->value.i = rc == -1;
	}
	return (rc);
}

#define DDLH_COLS \
	"source_schema sysname;source_table sysname;capture_instance " \
	"sysname;required_column_update bit;ddl_command nvarchar(max);" \
	"ddl_lsn binary(10);ddl_time datetime"

/* sys.sp_cdc_get_ddl_history @capture_instance */
static int
cdc_get_ddl_history(struct sim_session *s, struct sim_param *a, int n)
{
	static const char *const names[] = { "@capture_instance" };
	struct cdc_args g = { "sp_cdc_get_ddl_history", names, a, n };
	const char *ci;
	sqlite3_stmt *st;
	char *sql;
	int rc;

	if (cdc_require(s, &g, 0) == -1)
		return (-1);
	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (cdc_not_enabled(s));
	ci = cdc_arg_text(&g, 0) ? cdc_arg_text(&g, 0) : "";
	sql = sqlite3_mprintf("SELECT count(*) FROM \"cdc.change_tables\" "
			      "WHERE capture_instance = %Q",
	    ci);
	rc = (int)cdc_int(s, 0, sql);
	sqlite3_free(sql);
	if (rc == 0)
		return (cdc_no_instance(s, ci));
	sql = sqlite3_mprintf(
	    "SELECT sc.name, o.name, ct.capture_instance, "
	    "h.required_column_update, h.ddl_command, h.ddl_lsn, h.ddl_time "
	    "FROM \"cdc.ddl_history\" h JOIN \"cdc.change_tables\" ct ON "
	    "ct.object_id = h.object_id JOIN sim_objects o ON o.object_id = "
	    "ct.source_object_id JOIN sim_schemas sc ON sc.schema_id = "
	    "o.schema_id WHERE ct.capture_instance = %Q ORDER BY h.ddl_lsn",
	    ci);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return (engine_sqlite_error(s, &s->err));
	rc = cdc_send_rows(s, DDLH_COLS, st);
	sqlite3_finalize(st);
	return (rc);
}

/* sys.sp_cdc_scan [@maxtrans = 500, @maxscans = 10, @continuous = 0] */
static int
cdc_scan(struct sim_session *s, struct sim_param *a, int n)
{
	static const char *const names[] = { "@maxtrans", "@maxscans",
		"@continuous", "@pollinginterval" };
	struct cdc_args g = { "sp_cdc_scan", names, a, n };
	int64_t maxtrans = cdc_arg_int(&g, 0, 500);
	int64_t maxscans = cdc_arg_int(&g, 1, 10);

	if (!catalog_meta_get(s->db, "main", "cdc_enabled", 0))
		return (cdc_not_enabled(s));
	if (maxtrans <= 0) {
		sim_error_set(&s->err, 22991, 16, 1,
		    "The value specified for "
		    "the parameter @maxtrans must be greater than 0.");
		return (-1);
	}
	if (maxscans <= 0) {
		sim_error_set(&s->err, 22970, 16, 1,
		    "The value for parameter "
		    "@maxscans specified for the Change Data Capture job must "
		    "be "
		    "greater than 0.");
		return (-1);
	}
	if (cdc_arg_int(&g, 2, 0) != 0) {
		sim_error_set(&s->err, 22903, 16, 1,
		    "Another connection is "
		    "already running 'sp_replcmds' for Change Data Capture in "
		    "the current database.");
		return (-1); /* the simulator's capture job is running */
	}
	return (cdc_scan_now(s->dbname,
	    (int)(maxtrans > INT32_MAX ? INT32_MAX : maxtrans),
	    (int)(maxscans > INT32_MAX ? INT32_MAX : maxscans), &s->err));
}

/*
 * After DROP TABLE of a captured table: its capture instances go with
 * it (SQL Server's DDL trigger does the same).
 */
void
cdc_drop_source(struct sim_session *s, int64_t oid)
{
	char cis[2][129], *sql;
	struct sim_error keep = s->err;
	sqlite3_stmt *st;
	int k = 0, i;

	if (!cdc_db_enabled(s->dbname))
		return;
	sql = sqlite3_mprintf("SELECT capture_instance FROM "
			      "\"cdc.change_tables\" WHERE source_object_id = "
			      "%lld",
	    (long long)oid);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (k < 2 && sqlite3_step(st) == SQLITE_ROW)
			snprintf(
			    cis[k++], 129, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	for (i = 0; i < k; i++)
		cdc_drop_instance(s, cis[i]);
	if (k > 0)
		cdc_registry_update(s, 1);
	s->err = keep;
}

/* Give a change-table column the type of its changed source column. */
static int
cdc_retype(struct sim_session *s, const char *ci, const struct table *ct,
    const struct tcol *sc)
{
	struct sim_type ty = sc->c.type;
	char tn[80], was[80], *sql;
	int i, rc;

	if (ty.id == SIMT_TIMESTAMP) {
		ty.id = SIMT_BINARY;
		ty.maxlen = 8;
	}
	for (i = 0; i < ct->ncols; i++)
		if (strcasecmp(ct->cols[i].c.name, sc->c.name) == 0)
			break;
	if (i == ct->ncols)
		return (0); /* not captured */
	simtype_format(&ty, tn, sizeof(tn));
	simtype_format(&ct->cols[i].c.type, was, sizeof(was));
	if (strcmp(tn, was) == 0)
		return (0);
	sql = sqlite3_mprintf("ALTER TABLE cdc.[%s_CT] ALTER COLUMN [%s] %s "
			      "NULL",
	    ci, sc->c.name, tn);
	rc = cdc_ddl(s, sql);
	sqlite3_free(sql);
	if (rc == -1)
		return (0);
	sql = sqlite3_mprintf("UPDATE \"cdc.captured_columns\" SET "
			      "column_type = %Q WHERE object_id = %lld AND "
			      "column_id = %d",
	    simtype_name(&sc->c.type), (long long)ct->object_id, sc->column_id);
	cdc_write(s, sql);
	sqlite3_free(sql);
	return (1);
}

/*
 * After ALTER TABLE on a captured table: a captured column whose type
 * changed takes the new type in every change table (§2.9).  Returns
 * the number of change-table columns altered.
 */
int
cdc_propagate_types(struct sim_session *s, const struct table *old)
{
	struct sim_error keep = s->err;
	struct table *src, *ct;
	char cis[2][129], ctname[140], *sql;
	sqlite3_stmt *st;
	int k = 0, i, c, n = 0;

	if ((src = catalog_table(s, old->schema, old->name, NULL)) == NULL)
		return (0);
	sql = sqlite3_mprintf("SELECT capture_instance FROM "
			      "\"cdc.change_tables\" WHERE source_object_id = "
			      "%lld",
	    (long long)src->object_id);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (k < 2 && sqlite3_step(st) == SQLITE_ROW)
			snprintf(
			    cis[k++], 129, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	for (i = 0; i < k; i++) {
		snprintf(ctname, sizeof(ctname), "%.128s_CT", cis[i]);
		if ((ct = catalog_table(s, "cdc", ctname, NULL)) == NULL)
			continue;
		for (c = 0; c < src->ncols; c++)
			n += cdc_retype(s, cis[i], ct, &src->cols[c]);
		catalog_table_free(ct);
	}
	catalog_table_free(src);
	s->err = keep;
	return (n);
}

/* TRUNCATE TABLE of a captured table: error 4711. */
int
cdc_truncate_check(
    struct sim_session *s, const struct table *t, struct sim_error *err)
{
	sqlite3_stmt *st;
	int captured = 0;

	if (strcmp(t->db, "main") != 0 || !cdc_db_enabled(s->dbname))
		return (0);
	if (sqlite3_prepare_v2(s->db,
		"SELECT 1 FROM \"cdc.change_tables\" WHERE source_object_id "
		"= ?",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, t->object_id);
		captured = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (!captured)
		return (0);
	sim_error_set(err, 4711, 16, 1,
	    "Cannot truncate table '%s' because "
	    "it is published for replication or enabled for Change Data "
	    "Capture.",
	    t->name);
	return (-1);
}

/* Run a sys.sp_cdc_* procedure; 1 when name is not one of them. */
int
cdc_exec_proc(
    struct sim_session *s, const char *name, struct sim_param *a, int n)
{
	if (strncasecmp(name, "sp_cdc_", 7) != 0)
		return (1);
	if (strcasecmp(name, "sp_cdc_enable_db") == 0)
		return (cdc_enable_db(s));
	if (strcasecmp(name, "sp_cdc_disable_db") == 0)
		return (cdc_disable_db(s));
	if (strcasecmp(name, "sp_cdc_enable_table") == 0)
		return (cdc_enable_table(s, a, n));
	if (strcasecmp(name, "sp_cdc_disable_table") == 0)
		return (cdc_disable_table(s, a, n));
	if (strcasecmp(name, "sp_cdc_help_change_data_capture") == 0)
		return (cdc_help(s, a, n));
	if (strcasecmp(name, "sp_cdc_help_jobs") == 0)
		return (cdc_help_jobs(s));
	if (strcasecmp(name, "sp_cdc_change_job") == 0)
		return (cdc_change_job(s, a, n));
	if (strcasecmp(name, "sp_cdc_cleanup_change_table") == 0)
		return (cdc_cleanup_change_table(s, a, n));
	if (strcasecmp(name, "sp_cdc_get_ddl_history") == 0)
		return (cdc_get_ddl_history(s, a, n));
	if (strcasecmp(name, "sp_cdc_scan") == 0)
		return (cdc_scan(s, a, n));
	if (strcasecmp(name, "sp_cdc_start_job") == 0 ||
	    strcasecmp(name, "sp_cdc_stop_job") == 0)
		return (0);
	return (1);
}
