/*
 * cdc_query.c: reading captured changes (SQLSERVER.md §2.3-§2.5): the
 * table-valued functions cdc.fn_cdc_get_all_changes_<ci> and
 * cdc.fn_cdc_get_net_changes_<ci>, compiled into SQLite subqueries over
 * cdc.<ci>_CT, and the sys.fn_cdc_* scalar functions, registered as
 * SQLite functions on every session connection.
 *
 * A function's range check (error 313 for NULL bounds, a low end below
 * the instance's start_lsn, a high end above the database's max LSN or
 * a bad row filter) must fire even when no row is in range, so the
 * compiled subquery is "SELECT NULLs WHERE sim_cdc_check(...) = 0 UNION
 * ALL SELECT the rows", the check arm running once, first.  Net changes
 * fold every row of the window per row identifier (cdc.index_columns)
 * with window functions: the last change gives the values and the
 * LSN, the first one says whether the row existed before the window
 * (insert first: 2, else 4; delete last: 1; insert first and delete
 * last: nothing).  An update that changes the identifier counts as a
 * delete of the old key and an insert of the new one.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

/* A capture instance as the query functions need it. */
struct cdc_qinst {
	char ci[129];
	int net;
	int has_role;
	char role[129];
	char keys[32][129];
	int nkeys;
};

static int cdc_bincmp(const void *a, int la, const void *b, int lb);
static int cdc_q_value(
    sqlite3 *db, const char *sql, sqlite3_value *arg, sqlite3_context *ctx);
static void fn_db_enabled(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_tracked(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_ms_shipped(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_min_lsn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_max_lsn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_step_lsn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void cdc_time_arg(sqlite3_value *v, char *buf, size_t len);
static void fn_time_to_lsn(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_lsn_to_time(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_is_bit_set(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_column_ordinal(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_has_column_changed(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void cdc_err313(sqlite3_context *ctx, int net);
static int cdc_option_ok(sqlite3_value *v, int net);
static void fn_check(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_mask_step(sqlite3_context *ctx, int argc, sqlite3_value **argv);
static void fn_mask_final(sqlite3_context *ctx);
static void fn_todatetimeoffset(
    sqlite3_context *ctx, int argc, sqlite3_value **argv);
static int cdc_q_inst(
    struct sim_session *s, const char *ci, struct cdc_qinst *in);
static int cdc_q_name(
    struct parser *p, char *ci, int *net, int *ntok, char *db);
static int cdc_q_args(struct parser *p, struct sbuf *a);
static struct table *cdc_q_table(struct table *ct, int net, const char *alias);
static void cdc_q_cols(
    struct sbuf *b, const struct table *t, int from, const char *pfx);
static void cdc_q_str(struct sbuf *b, const char *str);
static void cdc_q_add(struct sbuf *b, const char *fmt, ...);
static void cdc_q_check(struct sbuf *b, const struct table *t, const char *ci,
    struct sbuf *a, int net);
static void cdc_q_all(
    struct sbuf *b, const struct table *t, const char *ci, struct sbuf *a);
static void cdc_q_keyeq(
    struct sbuf *b, const struct cdc_qinst *in, const char *x, const char *y);
static void cdc_q_partition(struct sbuf *b, const struct cdc_qinst *in);
static void cdc_q_effective(
    struct sbuf *b, const struct cdc_qinst *in, struct sbuf *a);
static void cdc_q_net(struct sbuf *b, const struct table *t,
    const struct cdc_qinst *in, struct sbuf *a);
static int cdc_q_perm(struct parser *p, const struct cdc_qinst *in, int net);
static int cdc_q_alias(struct parser *p, char *alias, const char *def);

/* Compare two binary values bytewise, unsigned (shorter first on ties). */
static int
cdc_bincmp(const void *a, int la, const void *b, int lb)
{
	int n = la < lb ? la : lb, c = memcmp(a, b, (size_t)n);

	return (c != 0 ? c : la - lb);
}

/* A one-value query on the function's connection: 1 row, 0 none, -1. */
static int
cdc_q_value(
    sqlite3 *db, const char *sql, sqlite3_value *arg, sqlite3_context *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	if (arg != NULL)
		sqlite3_bind_value(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 1 : 0);
}

/* sim_cdc_db_enabled(name) */
static void
fn_db_enabled(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_result_int(ctx,
	    sqlite3_value_type(argv[0]) == SQLITE_TEXT &&
		cdc_db_enabled((const char *)sqlite3_value_text(argv[0])));
}

/* sim_cdc_tracked(object_id): sys.tables.is_tracked_by_cdc */
static void
fn_tracked(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3 *db = sqlite3_context_db_handle(ctx);

	(void)argc;
	sqlite3_result_int(ctx, 0);
	cdc_q_value(db,
	    "SELECT 1 FROM main.\"cdc.change_tables\" WHERE "
	    "source_object_id = ? LIMIT 1",
	    argv[0], ctx);
}

/*
 * sim_cdc_ms_shipped(schema_id, name): is_ms_shipped of sys.objects,
 * 1 for what sp_cdc_enable_db created (schema cdc, dbo.systranschemas).
 */
static void
fn_ms_shipped(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *name = (const char *)sqlite3_value_text(argv[1]);
	struct sim_session *s = sqlite3_user_data(ctx);
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	sqlite3_stmt *st;
	int shipped = 0;

	(void)argc;
	sqlite3_result_int(ctx, 0);
	if (name == NULL || !cdc_db_enabled(s->dbname))
		return;
	if (sqlite3_prepare_v2(db,
		"SELECT name = 'cdc' OR (name = 'dbo' AND ?2 = "
		"'systranschemas') FROM main.sim_schemas WHERE schema_id = ?1",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_value(st, 1, argv[0]);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		shipped = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_result_int(ctx, shipped);
}

/*
 * sys.fn_cdc_get_min_lsn('ci'): start_lsn; zeros for an unknown
 * instance or a caller outside its gating role.
 */
static void
fn_min_lsn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const unsigned char zero[10];
	struct sim_session *s = sqlite3_user_data(ctx);
	sqlite3_stmt *st;
	int ok = 0;

	(void)argc;
	if (sqlite3_prepare_v2(sqlite3_context_db_handle(ctx),
		"SELECT start_lsn, role_name FROM main.\"cdc.change_tables\" "
		"WHERE capture_instance = ?",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_value(st, 1, argv[0]);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (sqlite3_column_type(st, 1) == SQLITE_NULL ||
			catalog_is_member(
			    s, (const char *)sqlite3_column_text(st, 1)) ||
			catalog_is_member(s, "db_owner"))) {
			sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
			ok = 1;
		}
		sqlite3_finalize(st);
	}
	if (!ok)
		sqlite3_result_blob(ctx, zero, 10, SQLITE_STATIC);
}

/* sys.fn_cdc_get_max_lsn() */
static void
fn_max_lsn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	if (cdc_q_value(sqlite3_context_db_handle(ctx),
		"SELECT max(start_lsn) FROM main.\"cdc.lsn_time_mapping\"",
		NULL, ctx) == -1)
		sim_sqlite_error(ctx, 208, 16, 1,
		    "Invalid object name "
		    "'cdc.lsn_time_mapping'.");
}

/* sys.fn_cdc_increment_lsn / _decrement_lsn: +-1 on 80 bits. */
static void
fn_step_lsn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int up = sqlite3_user_data(ctx) != NULL, i;
	unsigned char l[10];

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	memset(l, 0, sizeof(l));
	i = sqlite3_value_bytes(argv[0]);
	memcpy(l, sqlite3_value_blob(argv[0]), i < 10 ? (size_t)i : 10);
	for (i = 9; i >= 0; i--) {
		if (up && ++l[i] != 0)
			break;
		if (!up && l[i]-- != 0)
			break;
	}
	sqlite3_result_blob(ctx, l, 10, SQLITE_TRANSIENT);
}

/* A datetime argument as "YYYY-MM-DD HH:MM:SS.fff". */
static void
cdc_time_arg(sqlite3_value *v, char *buf, size_t len)
{
	const char *t = (const char *)sqlite3_value_text(v);
	size_t n;

	snprintf(buf, len, "%s", t ? t : "");
	n = strlen(buf);
	if (n == 10)
		snprintf(buf + n, len - n, " 00:00:00.000");
	else if (n == 19)
		snprintf(buf + n, len - n, ".000");
	else if (n > 23)
		buf[23] = '\0';
}

/* sys.fn_cdc_map_time_to_lsn(relation, time) */
static void
fn_time_to_lsn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const char *const rel[][2] = {
		{ "largest less than",
		    "max(start_lsn) FROM "
		    "main.\"cdc.lsn_time_mapping\" WHERE "
		    "tran_end_time < ?" },
		{ "largest less than or equal",
		    "max(start_lsn) FROM main.\"cdc.lsn_time_mapping\" WHERE "
		    "tran_end_time <= ?" },
		{ "smallest greater than",
		    "min(start_lsn) FROM main.\"cdc.lsn_time_mapping\" WHERE "
		    "tran_end_time > ?" },
		{ "smallest greater than or equal",
		    "min(start_lsn) FROM main.\"cdc.lsn_time_mapping\" WHERE "
		    "tran_end_time >= ?" },
	};
	const char *r = (const char *)sqlite3_value_text(argv[0]);
	char t[64], sql[200];
	sqlite3_stmt *st;
	int i;

	(void)argc;
	for (i = 0; r != NULL && i < 4; i++)
		if (strcasecmp(r, rel[i][0]) == 0)
			break;
	if (r == NULL || i == 4) {
		sim_sqlite_error(ctx, 313, 16, 3,
		    "An insufficient number of "
		    "arguments were supplied for the procedure or function "
		    "sys.fn_cdc_map_time_to_lsn.");
		return;
	}
	cdc_time_arg(argv[1], t, sizeof(t));
	snprintf(sql, sizeof(sql), "SELECT %s", rel[i][1]);
	if (sqlite3_prepare_v2(sqlite3_context_db_handle(ctx), sql, -1, &st,
		NULL) != SQLITE_OK) {
		sim_sqlite_error(ctx, 208, 16, 1,
		    "Invalid object name 'cdc.lsn_time_mapping'.");
		return;
	}
	sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
	sqlite3_finalize(st);
}

/* sys.fn_cdc_map_lsn_to_time(lsn) */
static void
fn_lsn_to_time(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (cdc_q_value(sqlite3_context_db_handle(ctx),
		"SELECT tran_end_time FROM main.\"cdc.lsn_time_mapping\" WHERE "
		"start_lsn <= ?1 ORDER BY start_lsn DESC LIMIT 1",
		argv[0], ctx) == -1)
		sim_sqlite_error(ctx, 208, 16, 1,
		    "Invalid object name "
		    "'cdc.lsn_time_mapping'.");
}

/* sys.fn_cdc_is_bit_set(position, mask): ordinal 1 = last byte, bit 0. */
static void
fn_is_bit_set(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *m = sqlite3_value_blob(argv[1]);
	int n = sqlite3_value_bytes(argv[1]);
	int pos = sqlite3_value_int(argv[0]), byte;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL)
		return;
	byte = n - 1 - (pos - 1) / 8;
	sqlite3_result_int(
	    ctx, pos >= 1 && byte >= 0 && (m[byte] >> ((pos - 1) % 8)) & 1);
}

/* sys.fn_cdc_get_column_ordinal('ci', 'column') */
static void
fn_column_ordinal(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3_stmt *st;

	(void)argc;
	sqlite3_result_int(ctx, -1);
	if (sqlite3_prepare_v2(sqlite3_context_db_handle(ctx),
		"SELECT cc.column_ordinal FROM main.\"cdc.captured_columns\" "
		"cc "
		"JOIN main.\"cdc.change_tables\" ct USING (object_id) WHERE "
		"ct.capture_instance = ?1 AND cc.column_name = ?2 COLLATE "
		"NOCASE",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_value(st, 1, argv[0]);
	sqlite3_bind_value(st, 2, argv[1]);
	if (sqlite3_step(st) == SQLITE_ROW)
		sqlite3_result_int(ctx, sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
}

/* sys.fn_cdc_has_column_changed('ci', 'column', mask) */
static void
fn_has_column_changed(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *m = sqlite3_value_blob(argv[2]);
	int n = sqlite3_value_bytes(argv[2]), pos = -1, byte;
	sqlite3_stmt *st;

	(void)argc;
	if (sqlite3_value_type(argv[2]) == SQLITE_NULL)
		return;
	if (sqlite3_prepare_v2(sqlite3_context_db_handle(ctx),
		"SELECT cc.column_ordinal FROM main.\"cdc.captured_columns\" "
		"cc JOIN main.\"cdc.change_tables\" ct USING (object_id) "
		"WHERE ct.capture_instance = ?1 AND cc.column_name = ?2 "
		"COLLATE NOCASE",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_value(st, 1, argv[0]);
		sqlite3_bind_value(st, 2, argv[1]);
		if (sqlite3_step(st) == SQLITE_ROW)
			pos = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	byte = n - 1 - (pos - 1) / 8;
	sqlite3_result_int(
	    ctx, pos >= 1 && byte >= 0 && (m[byte] >> ((pos - 1) % 8)) & 1);
}

/* The 313 error of a query function (§2.5). */
static void
cdc_err313(sqlite3_context *ctx, int net)
{
	sim_sqlite_error(ctx, 313, 16, 3,
	    "An insufficient number of arguments were supplied for the "
	    "procedure or function cdc.fn_cdc_get_%s_changes_ ... .",
	    net ? "net" : "all");
}

/* Is the row filter option valid for the function? */
static int
cdc_option_ok(sqlite3_value *v, int net)
{
	const char *o = (const char *)sqlite3_value_text(v);
	char buf[64];
	size_t n;

	if (o == NULL)
		return (0);
	while (isspace((unsigned char)*o))
		o++;
	snprintf(buf, sizeof(buf), "%s", o);
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (strcasecmp(buf, "all") == 0)
		return (1);
	if (!net)
		return (strcasecmp(buf, "all update old") == 0);
	return (strcasecmp(buf, "all with mask") == 0 ||
	    strcasecmp(buf, "all with merge") == 0);
}

/* sim_cdc_check(ci, from, to, option, net): 1, or error 313. */
static void
fn_check(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	int net = sqlite3_value_int(argv[4]), ok;
	sqlite3_stmt *st;

	(void)argc;
	if (sqlite3_value_type(argv[1]) != SQLITE_BLOB ||
	    sqlite3_value_type(argv[2]) != SQLITE_BLOB ||
	    !cdc_option_ok(argv[3], net)) {
		cdc_err313(ctx, net);
		return;
	}
	if (sqlite3_prepare_v2(db,
		"SELECT (SELECT start_lsn FROM main.\"cdc.change_tables\" "
		"WHERE "
		"capture_instance = ?1), (SELECT max(start_lsn) FROM "
		"main.\"cdc.lsn_time_mapping\")",
		-1, &st, NULL) != SQLITE_OK) {
		cdc_err313(ctx, net);
		return;
	}
	sqlite3_bind_value(st, 1, argv[0]);
	ok = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 1) == SQLITE_BLOB &&
	    (sqlite3_column_type(st, 0) != SQLITE_BLOB ||
		cdc_bincmp(sqlite3_value_blob(argv[1]),
		    sqlite3_value_bytes(argv[1]), sqlite3_column_blob(st, 0),
		    sqlite3_column_bytes(st, 0)) >= 0) &&
	    cdc_bincmp(sqlite3_value_blob(argv[2]),
		sqlite3_value_bytes(argv[2]), sqlite3_column_blob(st, 1),
		sqlite3_column_bytes(st, 1)) <= 0;
	sqlite3_finalize(st);
	if (!ok)
		cdc_err313(ctx, net);
	else
		sqlite3_result_int(ctx, 1);
}

/* sim_cdc_mask_or(mask): aggregate OR of update masks. */
static void
fn_mask_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	unsigned char *acc = sqlite3_aggregate_context(ctx, 130);
	const unsigned char *m = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]), i;

	(void)argc;
	if (acc == NULL || m == NULL || n > 128)
		return;
	if (n > acc[0])
		acc[0] = (unsigned char)n;
	for (i = 0; i < n; i++)
		acc[2 + 128 - n + i] |= m[i];
	acc[1] = 1;
}

static void
fn_mask_final(sqlite3_context *ctx)
{
	unsigned char *acc = sqlite3_aggregate_context(ctx, 0);

	if (acc == NULL || !acc[1])
		return;
	sqlite3_result_blob(
	    ctx, acc + 2 + 128 - acc[0], acc[0], SQLITE_TRANSIENT);
}

/*
 * sim_todatetimeoffset(value, offset, scale): TODATETIMEOFFSET, which
 * Debezium's change query applies to fn_cdc_map_lsn_to_time(): the
 * same local time with the offset (minutes, or '+hh:mm') attached.
 */
static void
fn_todatetimeoffset(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *v = (const char *)sqlite3_value_text(argv[0]);
	int scale = sqlite3_value_int(argv[2]), n, off;
	char buf[80], frac[8];
	const char *dot;

	(void)argc;
	if (v == NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
		return;
	if (sqlite3_value_type(argv[1]) == SQLITE_TEXT) {
		const char *o = (const char *)sqlite3_value_text(argv[1]);
		int h = 0, m = 0;

		sscanf(o + (*o == '+' || *o == '-'), "%d:%d", &h, &m);
		off = (*o == '-' ? -1 : 1) * (h * 60 + m);
	} else
		off = sqlite3_value_int(argv[1]);
	if (off < -840 || off > 840) {
		sim_sqlite_error(ctx, 9812, 16, 1,
		    "The timezone provided to "
		    "builtin function todatetimeoffset is invalid.");
		return;
	}
	memset(frac, '0', sizeof(frac));
	dot = strchr(v, '.');
	for (n = 0; dot != NULL && n < 7 && isdigit((unsigned char)dot[1 + n]);
	     n++)
		frac[n] = dot[1 + n];
	frac[scale > 7 ? 7 : scale] = '\0';
	snprintf(buf, sizeof(buf), "%.19s%s%s %c%02d:%02d", v,
	    strlen(v) == 10 ? " 00:00:00" : "", scale > 0 ? "." : "",
	    off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
	if (scale > 0) {
		char *sp = strrchr(buf, ' ');
		char tail[16];

		snprintf(tail, sizeof(tail), "%s", sp);
		snprintf(sp, sizeof(buf) - (sp - buf), "%s%s", frac, tail);
	}
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* Register the CDC functions on a session's connection. */
int
cdc_register_functions(struct sim_session *s)
{
	static const struct {
		const char *name;
		int nargs;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
		int up; /* user data: 1 increment, 2 the session */
	} fns[] = { { "sim_cdc_db_enabled", 1, fn_db_enabled, 0 },
		{ "sim_cdc_tracked", 1, fn_tracked, 0 },
		{ "sim_cdc_ms_shipped", 2, fn_ms_shipped, 2 },
		{ "sim_cdc_get_min_lsn", 1, fn_min_lsn, 2 },
		{ "sim_cdc_get_max_lsn", 0, fn_max_lsn, 0 },
		{ "sim_cdc_increment_lsn", 1, fn_step_lsn, 1 },
		{ "sim_cdc_decrement_lsn", 1, fn_step_lsn, 0 },
		{ "sim_cdc_map_time_to_lsn", 2, fn_time_to_lsn, 0 },
		{ "sim_cdc_map_lsn_to_time", 1, fn_lsn_to_time, 0 },
		{ "sim_cdc_is_bit_set", 2, fn_is_bit_set, 0 },
		{ "sim_cdc_get_column_ordinal", 2, fn_column_ordinal, 0 },
		{ "sim_cdc_has_column_changed", 3, fn_has_column_changed, 0 },
		{ "sim_cdc_check", 5, fn_check, 0 },
		{ "sim_todatetimeoffset", 3, fn_todatetimeoffset, 0 },
		{ NULL, 0, NULL, 0 } };
	static int marker;
	int i;

	for (i = 0; fns[i].name != NULL; i++)
		if (sqlite3_create_function(s->db, fns[i].name, fns[i].nargs,
			SQLITE_UTF8,
			fns[i].up == 2  ? (void *)s
			    : fns[i].up ? (void *)&marker
					: NULL,
			fns[i].fn, NULL, NULL) != SQLITE_OK)
			return (-1);
	if (sqlite3_create_function(s->db, "sim_cdc_mask_or", 1, SQLITE_UTF8,
		NULL, NULL, fn_mask_step, fn_mask_final) != SQLITE_OK)
		return (-1);
	return (0);
}

/*
 * Compile-time side of sys.fn_cdc_*: name is "sys.fn_cdc_...".  Fills
 * the SQLite function and the result type; 1 when not ours.
 */
int
cdc_function(const char *name, int nargs, char *fn, size_t len,
    struct sim_type *t, struct sim_error *err)
{
	static const struct {
		const char *name;
		int nargs;
		int type; /* SIMT_ */
		int maxlen;
	} fns[] = { { "fn_cdc_get_min_lsn", 1, SIMT_BINARY, 10 },
		{ "fn_cdc_get_max_lsn", 0, SIMT_BINARY, 10 },
		{ "fn_cdc_increment_lsn", 1, SIMT_BINARY, 10 },
		{ "fn_cdc_decrement_lsn", 1, SIMT_BINARY, 10 },
		{ "fn_cdc_map_time_to_lsn", 2, SIMT_BINARY, 10 },
		{ "fn_cdc_map_lsn_to_time", 1, SIMT_DATETIME, 8 },
		{ "fn_cdc_is_bit_set", 2, SIMT_BIT, 1 },
		{ "fn_cdc_get_column_ordinal", 2, SIMT_INT, 4 },
		{ "fn_cdc_has_column_changed", 3, SIMT_BIT, 1 },
		{ NULL, 0, 0, 0 } };
	int i;

	if (strncasecmp(name, "sys.", 4) != 0)
		return (1);
	for (i = 0; fns[i].name != NULL; i++)
		if (strcasecmp(name + 4, fns[i].name) == 0)
			break;
	if (fns[i].name == NULL)
		return (1);
	if (nargs != fns[i].nargs) {
		sim_error_set(err, nargs < fns[i].nargs ? 313 : 8144, 16,
		    nargs < fns[i].nargs ? 3 : 2,
		    nargs < fns[i].nargs
			? "An insufficient number of arguments were supplied "
			  "for the procedure or function %s."
			: "Procedure or function %s has too many arguments "
			  "specified.",
		    name + 4);
		return (-1);
	}
	snprintf(fn, len, "sim_cdc_%s", fns[i].name + 7);
	memset(t, 0, sizeof(*t));
	t->id = fns[i].type;
	t->maxlen = fns[i].maxlen;
	if (t->id == SIMT_DATETIME) {
		t->precision = 23;
		t->scale = 3;
	}
	return (0);
}

/* Load a capture instance; 0 missing. */
static int
cdc_q_inst(struct sim_session *s, const char *ci, struct cdc_qinst *in)
{
	sqlite3_stmt *st;
	int found = 0;

	memset(in, 0, sizeof(*in));
	if (sqlite3_prepare_v2(s->db,
		"SELECT capture_instance, supports_net_changes, role_name, "
		"object_id FROM main.\"cdc.change_tables\" WHERE "
		"capture_instance = ?",
		-1, &st, NULL) != SQLITE_OK)
		return (0);
	sqlite3_bind_text(st, 1, ci, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		snprintf(
		    in->ci, sizeof(in->ci), "%s", sqlite3_column_text(st, 0));
		in->net = sqlite3_column_int(st, 1);
		in->has_role = sqlite3_column_type(st, 2) != SQLITE_NULL;
		if (in->has_role)
			snprintf(in->role, sizeof(in->role), "%s",
			    sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	if (!found ||
	    sqlite3_prepare_v2(s->db,
		"SELECT column_name FROM main.\"cdc.index_columns\" "
		"WHERE object_id = (SELECT object_id FROM "
		"main.\"cdc.change_tables\" WHERE capture_instance "
		"= ?) ORDER BY index_ordinal",
		-1, &st, NULL) != SQLITE_OK)
		return (found);
	sqlite3_bind_text(st, 1, ci, -1, SQLITE_STATIC);
	while (in->nkeys < 32 && sqlite3_step(st) == SQLITE_ROW)
		snprintf(in->keys[in->nkeys++], 129, "%s",
		    sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return (1);
}

/* Recognize [db.]cdc.fn_cdc_get_{all|net}_changes_<ci>( ; fills ci. */
static int
cdc_q_name(struct parser *p, char *ci, int *net, int *ntok, char *db)
{
	struct lex_tok *t = &p->lx->t[p->pos];
	const char *parts[4];
	int n = 0, i = 0;

	for (;;) {
		if (t[i].kind != LEX_IDENT && t[i].kind != LEX_QIDENT)
			return (0);
		parts[n++] = t[i].text;
		if (n < 4 && lex_is_op(&t[i + 1], ".")) {
			i += 2;
			continue;
		}
		break;
	}
	if (n < 2 || !lex_is_op(&t[i + 1], "(") ||
	    strcasecmp(parts[n - 2], "cdc") != 0)
		return (0);
	if (strncasecmp(parts[n - 1], "fn_cdc_get_all_changes_", 23) == 0)
		*net = 0;
	else if (strncasecmp(parts[n - 1], "fn_cdc_get_net_changes_", 23) == 0)
		*net = 1;
	else
		return (0);
	snprintf(ci, 129, "%s", parts[n - 1] + 23);
	snprintf(db, 129, "%s", n >= 3 ? parts[n - 3] : "");
	*ntok = i + 1;
	return (1);
}

/* The three arguments (from, to, option) as SQLite expressions. */
static int
cdc_q_args(struct parser *p, struct sbuf *a)
{
	struct sim_type t;
	int i;

	if (p_expect_op(p, "(") == -1)
		return (-1);
	for (i = 0; i < 3; i++) {
		if (i > 0 && !p_accept_op(p, ",")) {
			sim_error_set(p->err, 313, 16, 3,
			    "An insufficient "
			    "number of arguments were supplied for the "
			    "procedure or function cdc.fn_cdc_get_all_changes_ "
			    "... .");
			return (-1);
		}
		if (compile_value(p, &a[i], &t) == -1)
			return (-1);
		sbuf_add(&a[i], "", 1);
	}
	return (p_expect_op(p, ")"));
}

/* The result columns: the leading __$ ones, then the captured ones. */
static struct table *
cdc_q_table(struct table *ct, int net, const char *alias)
{
	struct table *t = util_xmalloc(sizeof(*t));
	int i, k = 0;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", alias);
	t->is_view = 2;
	t->cols = util_xmalloc((ct->ncols + 1) * sizeof(*t->cols));
	memset(t->cols, 0, (ct->ncols + 1) * sizeof(*t->cols));
	for (i = 0; i < ct->ncols; i++) {
		const char *n = ct->cols[i].c.name;

		if (strcmp(n, "__$end_lsn") == 0 ||
		    strcmp(n, "__$command_id") == 0 ||
		    (net && strcmp(n, "__$seqval") == 0))
			continue;
		t->cols[k].c = ct->cols[i].c;
		t->cols[k].c.nullable = 1;
		t->cols[k].c.identity = 0;
		t->cols[k].c.computed = 0;
		t->cols[k].column_id = k + 1;
		k++;
	}
	t->ncols = k;
	return (t);
}

/* "NULL AS a, NULL AS b, ..." or "x.a, x.b, ..." over the columns. */
static void
cdc_q_cols(struct sbuf *b, const struct table *t, int from, const char *pfx)
{
	char *x;
	int i;

	for (i = from; i < t->ncols; i++) {
		if (pfx == NULL)
			x = sqlite3_mprintf("%sNULL AS \"%w\"",
			    i > from ? ", " : "", t->cols[i].c.name);
		else
			x = sqlite3_mprintf("%s%s.\"%w\"", i > from ? ", " : "",
			    pfx, t->cols[i].c.name);
		sbuf_add(b, x, strlen(x));
		sqlite3_free(x);
	}
}

/* Append a string. */
static void
cdc_q_str(struct sbuf *b, const char *str)
{
	sbuf_add(b, str, strlen(str));
}

/* Append SQL formatted by sqlite3_vmprintf (%Q, %w). */
static void
cdc_q_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *x;

	va_start(ap, fmt);
	x = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	sbuf_add(b, x, strlen(x));
	sqlite3_free(x);
}

/* The check arm: no row, or error 313. */
static void
cdc_q_check(struct sbuf *b, const struct table *t, const char *ci,
    struct sbuf *a, int net)
{
	cdc_q_str(b, "(SELECT ");
	cdc_q_cols(b, t, 0, NULL);
	cdc_q_add(b,
	    " WHERE sim_cdc_check(%Q, %s, %s, %s, %d) = 0 UNION ALL "
	    "SELECT ",
	    ci, a[0].data, a[1].data, a[2].data, net);
}

/* cdc.fn_cdc_get_all_changes_<ci>(from, to, option) */
static void
cdc_q_all(struct sbuf *b, const struct table *t, const char *ci, struct sbuf *a)
{
	cdc_q_check(b, t, ci, a, 0);
	cdc_q_cols(b, t, 0, "c");
	cdc_q_add(b,
	    " FROM \"cdc.%w_CT\" AS c WHERE c.\"__$start_lsn\" >= %s AND "
	    "c.\"__$start_lsn\" <= %s AND (c.\"__$operation\" <> 3 OR "
	    "lower(trim(%s)) = 'all update old') ORDER BY 1, 2, 3)",
	    ci, a[0].data, a[1].data, a[2].data);
}

/* "x.k1 IS y.k1 AND ..." over the row identifier. */
static void
cdc_q_keyeq(
    struct sbuf *b, const struct cdc_qinst *in, const char *x, const char *y)
{
	int i;

	for (i = 0; i < in->nkeys; i++)
		cdc_q_add(b, "%s%s.\"%w\" IS %s.\"%w\"", i ? " AND " : "", x,
		    in->keys[i], y, in->keys[i]);
	if (in->nkeys == 0)
		cdc_q_str(b, "1");
}

/* "PARTITION BY e.k1, ..." */
static void
cdc_q_partition(struct sbuf *b, const struct cdc_qinst *in)
{
	int i;

	cdc_q_str(b, "PARTITION BY ");
	for (i = 0; i < in->nkeys; i++)
		cdc_q_add(b, "%se.\"%w\"", i ? ", " : "", in->keys[i]);
}

/* The effective changes of the window: key changes split in two. */
static void
cdc_q_effective(struct sbuf *b, const struct cdc_qinst *in, struct sbuf *a)
{
	cdc_q_add(b,
	    "SELECT c.*, CASE c.\"__$operation\" WHEN 2 THEN 'I' WHEN 4 THEN "
	    "CASE WHEN EXISTS (SELECT 1 FROM \"cdc.%w_CT\" AS o WHERE "
	    "o.\"__$start_lsn\" = c.\"__$start_lsn\" AND o.\"__$seqval\" = "
	    "c.\"__$seqval\" AND o.\"__$operation\" = 3 AND NOT (",
	    in->ci);
	cdc_q_keyeq(b, in, "o", "c");
	cdc_q_add(b,
	    ")) THEN 'I' ELSE 'U' END ELSE 'D' END AS sim_eop FROM "
	    "\"cdc.%w_CT\" AS c WHERE c.\"__$start_lsn\" >= %s AND "
	    "c.\"__$start_lsn\" <= %s AND (c.\"__$operation\" <> 3 OR EXISTS "
	    "(SELECT 1 FROM \"cdc.%w_CT\" AS o WHERE o.\"__$start_lsn\" = "
	    "c.\"__$start_lsn\" AND o.\"__$seqval\" = c.\"__$seqval\" AND "
	    "o.\"__$operation\" = 4 AND NOT (",
	    in->ci, a[0].data, a[1].data, in->ci);
	cdc_q_keyeq(b, in, "o", "c");
	cdc_q_str(b, ")))");
}

/* cdc.fn_cdc_get_net_changes_<ci>(from, to, option) */
static void
cdc_q_net(struct sbuf *b, const struct table *t, const struct cdc_qinst *in,
    struct sbuf *a)
{
	cdc_q_check(b, t, in->ci, a, 1);
	cdc_q_add(b,
	    "r.\"__$start_lsn\", CASE WHEN r.sim_eop = 'D' THEN 1 WHEN "
	    "lower(trim(%s)) = 'all with merge' THEN 5 WHEN r.sim_fop = 'I' "
	    "THEN 2 ELSE 4 END, CASE WHEN lower(trim(%s)) = 'all with mask' "
	    "AND r.sim_eop <> 'D' AND r.sim_fop <> 'I' THEN (SELECT "
	    "sim_cdc_mask_or(x.\"__$update_mask\") FROM \"cdc.%w_CT\" AS x "
	    "WHERE x.\"__$start_lsn\" >= %s AND x.\"__$start_lsn\" <= %s AND "
	    "x.\"__$operation\" = 4 AND ",
	    a[2].data, a[2].data, in->ci, a[0].data, a[1].data);
	cdc_q_keyeq(b, in, "x", "r");
	cdc_q_str(b, ") END");
	if (t->ncols > 3)
		cdc_q_str(b, ", ");
	cdc_q_cols(b, t, 3, "r");
	cdc_q_str(b, " FROM (SELECT e.*, row_number() OVER (");
	cdc_q_partition(b, in);
	cdc_q_str(b,
	    " ORDER BY e.\"__$start_lsn\" DESC, e.\"__$seqval\" DESC, "
	    "e.\"__$operation\" DESC) AS sim_rn, first_value(e.sim_eop) OVER "
	    "(");
	cdc_q_partition(b, in);
	cdc_q_str(b,
	    " ORDER BY e.\"__$start_lsn\", e.\"__$seqval\", "
	    "e.\"__$operation\") "
	    "AS sim_fop FROM (");
	cdc_q_effective(b, in, a);
	cdc_q_str(b,
	    ") AS e) AS r WHERE r.sim_rn = 1 AND NOT (r.sim_eop = 'D' AND "
	    "r.sim_fop = 'I') ORDER BY 1)");
}

/* Error 229 for a caller outside the gating role. */
static int
cdc_q_perm(struct parser *p, const struct cdc_qinst *in, int net)
{
	if (!in->has_role || catalog_is_member(p->s, in->role) ||
	    catalog_is_member(p->s, "db_owner"))
		return (0);
	sim_error_set(p->err, 229, 14, 5,
	    "The SELECT permission was denied on "
	    "the object 'fn_cdc_get_%s_changes_...', database '%s', schema "
	    "'cdc'.",
	    net ? "net" : "all", p->s->dbname);
	return (-1);
}

/* An optional [AS] alias after the call. */
static int
cdc_q_alias(struct parser *p, char *alias, const char *def)
{
	int as = p_accept_kw(p, "AS");
	struct lex_tok *t = p_tok(p);

	if (t->kind == LEX_QIDENT ||
	    (t->kind == LEX_IDENT && !lex_is_reserved(t))) {
		snprintf(alias, 129, "%s", t->text);
		p->pos++;
		return (0);
	}
	if (as)
		return (p_syntax(p));
	snprintf(alias, 129, "%.128s", def);
	return (0);
}

/*
 * A FROM item cdc.fn_cdc_get_*_changes_<ci>(...) [AS alias]: 0 when it
 * is not one, 1 with the subquery in out and its columns in *tp, -1.
 */
int
cdc_compile_from(
    struct parser *p, struct sbuf *out, struct table **tp, char *alias)
{
	struct cdc_qinst in;
	struct table *ct = NULL;
	struct sbuf a[3];
	char ci[129], ctname[140], fname[160], db[129];
	int net, ntok, rc = -1, i;

	if (!cdc_q_name(p, ci, &net, &ntok, db))
		return (0);
	snprintf(fname, sizeof(fname), "fn_cdc_get_%s_changes_%s",
	    net ? "net" : "all", ci);
	p->pos += ntok;
	for (i = 0; i < 3; i++)
		sbuf_init(&a[i]);
	snprintf(ctname, sizeof(ctname), "%s_CT", ci);
	if ((db[0] != '\0' && strcasecmp(db, p->s->dbname) != 0) ||
	    !cdc_q_inst(p->s, ci, &in) || (net && !in.net) ||
	    (ct = catalog_table(p->s, "cdc", ctname, NULL)) == NULL) {
		sim_error_set(
		    p->err, 208, 16, 1, "Invalid object name 'cdc.%s'.", fname);
		goto out;
	}
	if (cdc_q_perm(p, &in, net) == -1 || cdc_q_args(p, a) == -1 ||
	    cdc_q_alias(p, alias, fname) == -1)
		goto out;
	*tp = cdc_q_table(ct, net, alias);
	if (net)
		cdc_q_net(out, *tp, &in, a);
	else
		cdc_q_all(out, *tp, in.ci, a);
	sbuf_add(out, " AS \"", 5);
	sbuf_add(out, alias, strlen(alias));
	sbuf_add(out, "\"", 1);
	rc = 1;
out:
	catalog_table_free(ct);
	for (i = 0; i < 3; i++)
		sbuf_free(&a[i]);
	return (rc);
}
