/*
 * Unit tests of mssqlsim's types (t/mssqlsim/types.c, typestr.c,
 * tdstypes.c): declared types, CAST semantics and error texts at the
 * documented edges, the collations, and every TDS encoding both ways.
 *
 * Values go in as SQLite values (as the engine hands them over) and
 * come out rendered as text by cv(): integers as digits, floats with
 * %.17g, blobs as 0x hex, errors as "E<number>: <message>", so each
 * expectation is one string comparison.
 */

#include <sys/types.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static sqlite3 *db;
static char out[2048];

/* A free-standing SQLite value from a bound parameter. */
static sqlite3_value *
val_bind(int kind, const void *p, int64_t i, double f, int n)
{
	sqlite3_stmt *st;
	sqlite3_value *v;

	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "SELECT ?", -1, &st, NULL), SQLITE_OK);
	switch (kind) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, 1, i);
		break;
	case SQLITE_FLOAT:
		sqlite3_bind_double(st, 1, f);
		break;
	case SQLITE_TEXT:
		sqlite3_bind_text(st, 1, p, n, SQLITE_TRANSIENT);
		break;
	case SQLITE_BLOB:
		sqlite3_bind_blob(st, 1, p, n, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_null(st, 1);
		break;
	}
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_value_dup(sqlite3_column_value(st, 0));
	sqlite3_finalize(st);
	return (v);
}

static sqlite3_value *
vtext(const char *s)
{
	return (val_bind(SQLITE_TEXT, s, 0, 0, -1));
}

static sqlite3_value *
vint(int64_t i)
{
	return (val_bind(SQLITE_INTEGER, NULL, i, 0, 0));
}

static sqlite3_value *
vfloat(double f)
{
	return (val_bind(SQLITE_FLOAT, NULL, 0, f, 0));
}

static sqlite3_value *
vblob(const void *p, int n)
{
	return (val_bind(SQLITE_BLOB, p, 0, 0, n));
}

static sqlite3_value *
vnull(void)
{
	return (val_bind(SQLITE_NULL, NULL, 0, 0, 0));
}

/* A declared type from its T-SQL text (fails the test if invalid). */
static struct sim_type
T(const char *text) {
	struct sim_type t;
	struct sim_error err;

	if (simtype_parse_text(text, 0, &t, &err) == -1)
		ck_abort_msg("type %s: %s", text, err.msg);
	return (t);
}

/* Render an owned value as the tests compare it. */
static const char *
render(const struct simval *v)
{
	size_t i, n = 0;

	switch (v->kind) {
	case SQLITE_NULL:
		return ("NULL");
	case SQLITE_INTEGER:
		snprintf(out, sizeof(out), "%lld", (long long)v->i);
		break;
	case SQLITE_FLOAT:
		snprintf(out, sizeof(out), "%.17g", v->f);
		break;
	case SQLITE_TEXT:
		snprintf(out, sizeof(out), "%s", (const char *)v->p);
		break;
	case SQLITE_BLOB:
		n = snprintf(out, sizeof(out), "0x");
		for (i = 0; i < v->len && n + 3 < sizeof(out); i++)
			n +=
			    snprintf(out + n, sizeof(out) - n, "%02X", v->p[i]);
		break;
	}
	return (out);
}

/* Convert a value (freed) from type from (NULL: inferred) to type to. */
static const char *
cvf(sqlite3_value *in, const char *from, const char *to, int flags)
{
	struct sim_type tf, tt = T(to);
	struct sim_error err;
	struct simval v;

	if (from != NULL)
		tf = T(from);
	memset(&err, 0, sizeof(err));
	if (simval_convert(
		in, from != NULL ? &tf : NULL, &tt, flags, &v, &err) == -1) {
		snprintf(out, sizeof(out), "E%d: %s", err.number, err.msg);
		sqlite3_value_free(in);
		return (out);
	}
	sqlite3_value_free(in);
	if (v.kind == SQLITE_NULL)
		snprintf(out, sizeof(out), "NULL");
	else
		render(&v);
	simval_free(&v);
	return (out);
}

static const char *
cv(sqlite3_value *in, const char *from, const char *to)
{
	return (cvf(in, from, to, 0));
}

/* Parse a type and render "id maxlen precision scale" or the error. */
static const char *
tp(const char *name, int nargs, int a0, int a1)
{
	struct sim_type t;
	struct sim_error err;
	int args[2] = { a0, a1 };

	if (simtype_parse(name, args, nargs, &t, &err) == -1)
		snprintf(out, sizeof(out), "E%d: %s", err.number, err.msg);
	else
		snprintf(out, sizeof(out), "%d %d %d %d", t.id, t.maxlen,
		    t.precision, t.scale);
	return (out);
}

static void
setup(void)
{
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(simtypes_register(db), 0);
}

static void
teardown(void)
{
	sqlite3_close(db);
}

START_TEST(test_parse_names)
{
	ck_assert_str_eq(tp("int", 0, 0, 0), "56 4 10 0");
	ck_assert_str_eq(tp("INTEGER", 0, 0, 0), "56 4 10 0");
	ck_assert_str_eq(tp("bigint", 0, 0, 0), "127 8 19 0");
	ck_assert_str_eq(tp("tinyint", 0, 0, 0), "48 1 3 0");
	ck_assert_str_eq(tp("smallint", 0, 0, 0), "52 2 5 0");
	ck_assert_str_eq(tp("bit", 0, 0, 0), "104 1 1 0");
	ck_assert_str_eq(tp("decimal", 0, 0, 0), "106 9 18 0");
	ck_assert_str_eq(tp("dec", 2, 5, 2), "106 5 5 2");
	ck_assert_str_eq(tp("numeric", 2, 19, 4), "108 9 19 4");
	ck_assert_str_eq(tp("numeric", 1, 20, 0), "108 13 20 0");
	ck_assert_str_eq(tp("decimal", 2, 28, 0), "106 13 28 0");
	ck_assert_str_eq(tp("decimal", 2, 29, 0), "106 17 29 0");
	ck_assert_str_eq(tp("decimal", 2, 38, 38), "106 17 38 38");
	ck_assert_str_eq(tp("money", 0, 0, 0), "60 8 19 4");
	ck_assert_str_eq(tp("smallmoney", 0, 0, 0), "122 4 10 4");
	ck_assert_str_eq(tp("float", 0, 0, 0), "62 8 53 0");
	ck_assert_str_eq(tp("float", 1, 24, 0), "59 4 24 0");
	ck_assert_str_eq(tp("float", 1, 25, 0), "62 8 53 0");
	ck_assert_str_eq(tp("double  precision", 0, 0, 0), "62 8 53 0");
	ck_assert_str_eq(tp("real", 0, 0, 0), "59 4 24 0");
	ck_assert_str_eq(tp("datetime", 0, 0, 0), "61 8 23 3");
	ck_assert_str_eq(tp("smalldatetime", 0, 0, 0), "58 4 16 0");
	ck_assert_str_eq(tp("date", 0, 0, 0), "40 3 10 0");
	ck_assert_str_eq(tp("time", 0, 0, 0), "41 5 16 7");
	ck_assert_str_eq(tp("time", 1, 0, 0), "41 3 8 0");
	ck_assert_str_eq(tp("time", 1, 3, 0), "41 4 12 3");
	ck_assert_str_eq(tp("datetime2", 0, 0, 0), "42 8 27 7");
	ck_assert_str_eq(tp("datetime2", 1, 0, 0), "42 6 19 0");
	ck_assert_str_eq(tp("datetime2", 1, 4, 0), "42 7 24 4");
	ck_assert_str_eq(tp("datetimeoffset", 0, 0, 0), "43 10 34 7");
	ck_assert_str_eq(tp("datetimeoffset", 1, 0, 0), "43 8 26 0");
	ck_assert_str_eq(tp("uniqueidentifier", 0, 0, 0), "36 16 0 0");
	ck_assert_str_eq(tp("varchar", 0, 0, 0), "167 1 0 0");
	ck_assert_str_eq(tp("char varying", 1, 10, 0), "167 10 0 0");
	ck_assert_str_eq(tp("character", 1, 10, 0), "175 10 0 0");
	ck_assert_str_eq(tp("national char", 1, 10, 0), "239 20 0 0");
	ck_assert_str_eq(
	    tp("national character varying", 1, 10, 0), "231 20 0 0");
	ck_assert_str_eq(tp("nvarchar", 1, -1, 0), "231 -1 0 0");
	ck_assert_str_eq(tp("nvarchar", 1, 4000, 0), "231 8000 0 0");
	ck_assert_str_eq(tp("varchar", 1, 8000, 0), "167 8000 0 0");
	ck_assert_str_eq(tp("varbinary", 1, -1, 0), "165 -1 0 0");
	ck_assert_str_eq(tp("binary", 0, 0, 0), "173 1 0 0");
	ck_assert_str_eq(tp("rowversion", 0, 0, 0), "189 8 0 0");
	ck_assert_str_eq(tp("timestamp", 0, 0, 0), "189 8 0 0");
	ck_assert_str_eq(tp("xml", 0, 0, 0), "241 -1 0 0");
	ck_assert_str_eq(tp("text", 0, 0, 0), "35 16 0 0");
	ck_assert_str_eq(tp("ntext", 0, 0, 0), "99 16 0 0");
	ck_assert_str_eq(tp("image", 0, 0, 0), "34 16 0 0");
	ck_assert_str_eq(tp("sysname", 0, 0, 0), "231 256 0 0");
	ck_assert_str_eq(tp("[NVarChar]", 1, 5, 0), "231 10 0 0");
}
END_TEST

START_TEST(test_parse_errors)
{
	ck_assert_str_eq(tp("foo", 0, 0, 0),
	    "E2715: Column, parameter, or variable #1: Cannot find data "
	    "type foo.");
	ck_assert_str_eq(tp("decimal", 2, 39, 0),
	    "E2750: Column or parameter #1: Specified column precision 39 "
	    "is greater than the maximum precision of 38.");
	ck_assert_str_eq(tp("decimal", 2, 5, 6),
	    "E2751: Column or parameter #1: Specified column scale 6 is "
	    "greater than the specified precision of 5.");
	ck_assert_str_eq(tp("varchar", 1, 8001, 0),
	    "E131: The size (8001) given to the type 'varchar' exceeds the "
	    "maximum allowed for any data type (8000).");
	ck_assert_str_eq(tp("nvarchar", 1, 4001, 0),
	    "E131: The size (4001) given to the type 'nvarchar' exceeds the "
	    "maximum allowed for any data type (4000).");
	ck_assert_str_eq(tp("binary", 1, 9000, 0),
	    "E131: The size (9000) given to the type 'binary' exceeds the "
	    "maximum allowed for any data type (8000).");
	ck_assert_str_eq(tp("varchar", 1, 0, 0),
	    "E1001: Line 1: Length or precision specification 0 is "
	    "invalid.");
	ck_assert_str_eq(tp("time", 1, 8, 0),
	    "E1002: Line 1: Specified scale 8 is invalid.");
	ck_assert_str_eq(tp("float", 1, 54, 0),
	    "E2750: Column or parameter #1: Specified column precision 54 "
	    "is greater than the maximum precision of 53.");
	ck_assert_str_eq(tp("int", 1, 4, 0),
	    "E2716: Column, parameter, or variable #1: Cannot specify a "
	    "column width on data type int.");
}
END_TEST

START_TEST(test_format)
{
	char buf[64];
	struct sim_type t;

	t = T("decimal(38,2)");
	ck_assert_str_eq(simtype_format(&t, buf, sizeof(buf)), "decimal(38,2)");
	t = T("nvarchar(max)");
	ck_assert_str_eq(simtype_format(&t, buf, sizeof(buf)), "nvarchar(max)");
	t = T("nchar(10)");
	ck_assert_str_eq(simtype_format(&t, buf, sizeof(buf)), "nchar(10)");
	t = T("integer");
	ck_assert_str_eq(simtype_format(&t, buf, sizeof(buf)), "int");
	t = T("datetime2");
	ck_assert_str_eq(simtype_format(&t, buf, sizeof(buf)), "datetime2(7)");
	t = T("float(10)");
	ck_assert_str_eq(simtype_format(&t, buf, sizeof(buf)), "real");
	t = T("varbinary(16)");
	ck_assert_str_eq(simtype_format(&t, buf, sizeof(buf)), "varbinary(16)");
	ck_assert_int_eq(simtype_parse_text("varchar", 1, &t, NULL), 0);
	ck_assert_int_eq(t.maxlen, 30);
	ck_assert_int_eq(simtype_parse_text("nvarchar", 1, &t, NULL), 0);
	ck_assert_int_eq(t.maxlen, 60);
	ck_assert_int_eq(
	    simtype_parse_text("decimal( 10 , 3 )", 1, &t, NULL), 0);
	ck_assert_int_eq(t.precision, 10);
	ck_assert_int_eq(t.scale, 3);
}
END_TEST

START_TEST(test_storage)
{
	struct sim_type t;

	t = T("int");
	ck_assert_int_eq(simtype_storage(&t), SQLITE_INTEGER);
	ck_assert_ptr_null(simtype_collation(&t));
	ck_assert(simtype_is_numeric(&t));
	t = T("bit");
	ck_assert_int_eq(simtype_storage(&t), SQLITE_INTEGER);
	t = T("real");
	ck_assert_int_eq(simtype_storage(&t), SQLITE_FLOAT);
	t = T("decimal(5,2)");
	ck_assert_int_eq(simtype_storage(&t), SQLITE_TEXT);
	ck_assert_str_eq(simtype_collation(&t), "SIMDEC");
	t = T("money");
	ck_assert_str_eq(simtype_collation(&t), "SIMDEC");
	t = T("nvarchar(10)");
	ck_assert_str_eq(simtype_collation(&t), "SIMCI");
	ck_assert(simtype_is_string(&t) && simtype_is_unicode(&t));
	ck_assert(!simtype_is_lob(&t));
	t = T("varchar(max)");
	ck_assert(simtype_is_lob(&t) && !simtype_is_unicode(&t));
	t = T("uniqueidentifier");
	ck_assert_str_eq(simtype_collation(&t), "SIMGUID");
	t = T("datetimeoffset");
	ck_assert_str_eq(simtype_collation(&t), "SIMDTO");
	ck_assert(simtype_is_datetime(&t));
	t = T("datetime2");
	ck_assert_ptr_null(simtype_collation(&t));
	t = T("timestamp");
	ck_assert_int_eq(simtype_storage(&t), SQLITE_BLOB);
	ck_assert(simtype_is_binary(&t));
	t = T("image");
	ck_assert(simtype_is_lob(&t) && simtype_is_binary(&t));
}
END_TEST

START_TEST(test_str_to_int)
{
	ck_assert_str_eq(cv(vtext(" 12 "), "varchar(10)", "int"), "12");
	ck_assert_str_eq(cv(vtext("+ 7"), "varchar(10)", "int"), "7");
	ck_assert_str_eq(cv(vtext("-12"), "varchar(10)", "int"), "-12");
	ck_assert_str_eq(cv(vtext(""), "varchar(10)", "int"), "0");
	ck_assert_str_eq(cv(vtext("   "), "varchar(10)", "int"), "0");
	ck_assert_str_eq(cv(vtext("-"), "varchar(10)", "int"), "0");
	ck_assert_str_eq(cv(vtext("abc"), "varchar(10)", "int"),
	    "E245: Conversion failed when converting the varchar value 'abc' "
	    "to data type int.");
	ck_assert_str_eq(cv(vtext("1.5"), "nvarchar(10)", "int"),
	    "E245: Conversion failed when converting the nvarchar value '1.5' "
	    "to data type int.");
	ck_assert_str_eq(cv(vtext("300"), "varchar(10)", "tinyint"),
	    "E244: The conversion of the varchar value '300' overflowed an "
	    "INT1 column. Use a larger integer column.");
	ck_assert_str_eq(cv(vtext("-1"), "varchar(10)", "tinyint"),
	    "E244: The conversion of the varchar value '-1' overflowed an "
	    "INT1 column. Use a larger integer column.");
	ck_assert_str_eq(cv(vtext("99999"), "varchar(10)", "smallint"),
	    "E244: The conversion of the varchar value '99999' overflowed an "
	    "INT2 column. Use a larger integer column.");
	ck_assert_str_eq(cv(vtext("3000000000"), "varchar(10)", "int"),
	    "E248: The conversion of the varchar value '3000000000' "
	    "overflowed an int column.");
	ck_assert_str_eq(
	    cv(vtext("2147483647"), "varchar(10)", "int"), "2147483647");
	ck_assert_str_eq(
	    cv(vtext("-2147483648"), "varchar(20)", "int"), "-2147483648");
	ck_assert_str_eq(
	    cv(vtext("-9223372036854775808"), "varchar(30)", "bigint"),
	    "-9223372036854775808");
	ck_assert_str_eq(
	    cv(vtext("9223372036854775808"), "varchar(30)", "bigint"),
	    "E8115: Arithmetic overflow error converting expression to data "
	    "type bigint.");
	ck_assert_str_eq(cv(vtext("x"), "nvarchar(30)", "bigint"),
	    "E8114: Error converting data type nvarchar to bigint.");
}
END_TEST

START_TEST(test_int_to_int)
{
	ck_assert_str_eq(cv(vint(256), "int", "tinyint"),
	    "E220: Arithmetic overflow error for data type tinyint, value = "
	    "256.");
	ck_assert_str_eq(cv(vint(-1), "int", "tinyint"),
	    "E220: Arithmetic overflow error for data type tinyint, value = "
	    "-1.");
	ck_assert_str_eq(cv(vint(40000), "int", "smallint"),
	    "E220: Arithmetic overflow error for data type smallint, value = "
	    "40000.");
	ck_assert_str_eq(cv(vint(3000000000LL), "bigint", "int"),
	    "E8115: Arithmetic overflow error converting expression to data "
	    "type int.");
	ck_assert_str_eq(cv(vint(255), NULL, "tinyint"), "255");
	ck_assert_str_eq(cv(vfloat(2.9), "float", "int"), "2");
	ck_assert_str_eq(cv(vfloat(-2.9), "float", "int"), "-2");
	ck_assert_str_eq(cv(vfloat(1e30), "float", "int"),
	    "E232: Arithmetic overflow error for type int, value = "
	    "1000000000000000000000000000000.000000.");
	ck_assert_str_eq(cv(vtext("2.9"), "decimal(5,1)", "int"), "2");
	ck_assert_str_eq(cv(vtext("-2.9"), "decimal(5,1)", "int"), "-2");
	ck_assert_str_eq(cv(vtext("2.5000"), "money", "int"), "3");
	ck_assert_str_eq(cv(vtext("-2.5000"), "money", "int"), "-3");
	ck_assert_str_eq(cv(vtext("300.5"), "decimal(5,1)", "tinyint"),
	    "E8115: Arithmetic overflow error converting numeric to data type "
	    "tinyint.");
	ck_assert_str_eq(cv(vint(1), "bit", "int"), "1");
}
END_TEST

START_TEST(test_decimal_edges)
{
	const char *max38 = "99999999999999999999999999999999999999";

	ck_assert_str_eq(
	    cv(vtext(max38), "varchar(50)", "decimal(38,0)"), max38);
	ck_assert_str_eq(cv(vtext("-99999999999999999999999999999999999999"),
			     "varchar(50)", "decimal(38,0)"),
	    "-99999999999999999999999999999999999999");
	ck_assert_str_eq(cv(vtext("999999999999999999999999999999999999999"),
			     "varchar(50)", "decimal(38,0)"),
	    "E8115: Arithmetic overflow error converting varchar to data "
	    "type numeric.");
	/* rounding up past the precision overflows */
	ck_assert_str_eq(cv(vtext("99999999999999999999999999999999999999.5"),
			     "varchar(50)", "decimal(38,0)"),
	    "E8115: Arithmetic overflow error converting varchar to data "
	    "type numeric.");
	ck_assert_str_eq(cv(vtext("0.99999999999999999999999999999999999999"),
			     "varchar(50)", "decimal(38,38)"),
	    "0.99999999999999999999999999999999999999");
	ck_assert_str_eq(cv(vtext("-0.00000000000000000000000000000000000001"),
			     "varchar(50)", "decimal(38,38)"),
	    "-0.00000000000000000000000000000000000001");
	ck_assert_str_eq(cv(vtext("1"), "varchar(50)", "decimal(38,38)"),
	    "E8115: Arithmetic overflow error converting varchar to data "
	    "type numeric.");
	ck_assert_str_eq(
	    cv(vtext("2.345"), "varchar(9)", "decimal(3,2)"), "2.35");
	ck_assert_str_eq(
	    cv(vtext("-2.345"), "varchar(9)", "decimal(3,2)"), "-2.35");
	ck_assert_str_eq(
	    cv(vtext("2.344999"), "varchar(9)", "decimal(3,2)"), "2.34");
	ck_assert_str_eq(
	    cv(vtext(" +.5 "), "varchar(9)", "decimal(3,2)"), "0.50");
	ck_assert_str_eq(cv(vtext("5."), "varchar(9)", "decimal(3,2)"), "5.00");
	ck_assert_str_eq(
	    cv(vtext("-0.001"), "varchar(9)", "decimal(5,2)"), "0.00");
	ck_assert_str_eq(cv(vtext("007"), "varchar(9)", "decimal(5,0)"), "7");
	ck_assert_str_eq(cv(vtext("1e3"), "varchar(9)", "decimal(5,0)"),
	    "E8114: Error converting data type varchar to numeric.");
	ck_assert_str_eq(cv(vtext(""), "varchar(9)", "decimal(5,0)"),
	    "E8114: Error converting data type varchar to numeric.");
	ck_assert_str_eq(cv(vtext("x"), "nvarchar(9)", "numeric(5,0)"),
	    "E8114: Error converting data type nvarchar to numeric.");
	/* decimal to decimal */
	ck_assert_str_eq(
	    cv(vtext("123.4550"), "decimal(10,4)", "decimal(10,2)"), "123.46");
	ck_assert_str_eq(
	    cv(vtext("-123.4550"), "decimal(10,4)", "decimal(10,2)"),
	    "-123.46");
	ck_assert_str_eq(
	    cv(vtext("123.45"), "decimal(10,2)", "decimal(10,5)"), "123.45000");
	ck_assert_str_eq(cv(vtext("123.45"), "decimal(10,2)", "decimal(4,2)"),
	    "E8115: Arithmetic overflow error converting numeric to data "
	    "type numeric.");
	ck_assert_str_eq(cv(vint(1000), "int", "decimal(3,0)"),
	    "E8115: Arithmetic overflow error converting int to data type "
	    "numeric.");
	ck_assert_str_eq(cv(vint(999), "int", "decimal(3,0)"), "999");
	ck_assert_str_eq(cv(vint(-5), "int", "decimal(5,2)"), "-5.00");
	ck_assert_str_eq(cv(vint(INT64_MIN), "bigint", "decimal(38,0)"),
	    "-9223372036854775808");
	/* float to decimal rounds half away from zero */
	ck_assert_str_eq(cv(vfloat(2.5), "float", "decimal(1,0)"), "3");
	ck_assert_str_eq(cv(vfloat(-2.5), "float", "decimal(1,0)"), "-3");
	ck_assert_str_eq(cv(vfloat(0.125), "float", "decimal(5,2)"), "0.13");
	ck_assert_str_eq(cv(vfloat(1.5), "float", "decimal(18,4)"), "1.5000");
	ck_assert_str_eq(cv(vfloat(1e40), "float", "decimal(38,0)"),
	    "E8115: Arithmetic overflow error converting float to data type "
	    "numeric.");
	ck_assert_str_eq(cv(vtext("12.50"), "decimal(4,2)", "float"), "12.5");
	ck_assert_str_eq(cv(vtext("1.5000"), "money", "decimal(5,1)"), "1.5");
}
END_TEST

START_TEST(test_money)
{
	ck_assert_str_eq(
	    cv(vtext("922337203685477.5807"), "varchar(30)", "money"),
	    "922337203685477.5807");
	ck_assert_str_eq(
	    cv(vtext("-922337203685477.5808"), "varchar(30)", "money"),
	    "-922337203685477.5808");
	ck_assert_str_eq(
	    cv(vtext("922337203685477.5808"), "varchar(30)", "money"),
	    "E8115: Arithmetic overflow error converting varchar to data type "
	    "money.");
	ck_assert_str_eq(cv(vtext("214748.3647"), "varchar(30)", "smallmoney"),
	    "214748.3647");
	ck_assert_str_eq(cv(vtext("-214748.3648"), "varchar(30)", "smallmoney"),
	    "-214748.3648");
	ck_assert_str_eq(cv(vtext("214748.3648"), "varchar(30)", "smallmoney"),
	    "E8115: Arithmetic overflow error converting varchar to data type "
	    "smallmoney.");
	ck_assert_str_eq(
	    cv(vtext("$1,234.56"), "varchar(30)", "money"), "1234.5600");
	ck_assert_str_eq(
	    cv(vtext("1.23455"), "varchar(30)", "money"), "1.2346");
	ck_assert_str_eq(
	    cv(vtext("-1.23455"), "varchar(30)", "money"), "-1.2346");
	ck_assert_str_eq(cv(vtext(""), "varchar(30)", "money"), "0.0000");
	ck_assert_str_eq(cv(vtext("abc"), "varchar(30)", "money"),
	    "E235: Cannot convert a char value to money. The char value has "
	    "incorrect syntax.");
	ck_assert_str_eq(cv(vint(5), "int", "money"), "5.0000");
	ck_assert_str_eq(cv(vfloat(0.00005), "float", "money"), "0.0001");
	ck_assert_str_eq(
	    cv(vtext("1.23456"), "decimal(10,5)", "money"), "1.2346");
	ck_assert_str_eq(cv(vint(1000000000), "int", "smallmoney"),
	    "E8115: Arithmetic overflow error converting expression to data "
	    "type smallmoney.");
	/* money to text: style 0 two decimals, 1 commas, 2 four decimals */
	ck_assert_str_eq(
	    cv(vtext("1234567.5678"), "money", "varchar(30)"), "1234567.57");
	ck_assert_str_eq(cvf(vtext("1234567.5678"), "money", "varchar(30)", 1),
	    "1,234,567.57");
	ck_assert_str_eq(cvf(vtext("-234567.5678"), "money", "varchar(30)", 1),
	    "-234,567.57");
	ck_assert_str_eq(cvf(vtext("1234567.5678"), "money", "varchar(30)", 2),
	    "1234567.5678");
}
END_TEST

START_TEST(test_datetime_rounding)
{
	const char *dt = "datetime";

	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.001"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.000");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.002"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.003");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.005"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.007");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.990"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.990");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.991"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.990");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.992"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.993");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.994"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.993");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.995"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.997");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.998"), "varchar(30)", dt),
	    "2020-01-01 00:00:00.997");
	ck_assert_str_eq(
	    cv(vtext("1998-12-31 23:59:59.999"), "varchar(30)", dt),
	    "1999-01-01 00:00:00.000");
	ck_assert_str_eq(cv(vtext("2020-01-01T10:20:30.5"), "varchar(30)", dt),
	    "2020-01-01 10:20:30.500");
	ck_assert_str_eq(cv(vtext("20200102"), "varchar(30)", dt),
	    "2020-01-02 00:00:00.000");
	ck_assert_str_eq(cv(vtext("01/02/2020 13:14"), "varchar(30)", dt),
	    "2020-01-02 13:14:00.000");
	ck_assert_str_eq(cv(vtext("Jan  2 2024  3:04PM"), "varchar(30)", dt),
	    "2024-01-02 15:04:00.000");
	ck_assert_str_eq(
	    cv(vtext("12:00AM"), "varchar(30)", dt), "1900-01-01 00:00:00.000");
	ck_assert_str_eq(
	    cv(vtext(""), "varchar(30)", dt), "1900-01-01 00:00:00.000");
	ck_assert_str_eq(cv(vtext("1753-01-01"), "varchar(30)", dt),
	    "1753-01-01 00:00:00.000");
	ck_assert_str_eq(
	    cv(vtext("9999-12-31 23:59:59.997"), "varchar(30)", dt),
	    "9999-12-31 23:59:59.997");
	ck_assert_str_eq(cv(vtext("1752-12-31"), "varchar(30)", dt),
	    "E242: The conversion of a varchar data type to a datetime data "
	    "type resulted in an out-of-range value.");
	ck_assert_str_eq(cv(vtext("2019-02-29"), "varchar(30)", dt),
	    "E242: The conversion of a varchar data type to a datetime data "
	    "type resulted in an out-of-range value.");
	ck_assert_str_eq(cv(vtext("2020-02-29"), "varchar(30)", dt),
	    "2020-02-29 00:00:00.000");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.1234"), "varchar(30)", dt),
	    "E241: Conversion failed when converting date and/or time from "
	    "character string.");
	ck_assert_str_eq(cv(vtext("2020-13-01"), "varchar(30)", dt),
	    "E241: Conversion failed when converting date and/or time from "
	    "character string.");
	ck_assert_str_eq(cv(vtext("nonsense"), "varchar(30)", dt),
	    "E241: Conversion failed when converting date and/or time from "
	    "character string.");
	ck_assert_str_eq(cv(vint(1), "int", dt), "1900-01-02 00:00:00.000");
	ck_assert_str_eq(
	    cv(vfloat(1.5), "float", dt), "1900-01-02 12:00:00.000");
	ck_assert_str_eq(
	    cv(vtext("1900-01-02 12:00:00.000"), dt, "float"), "1.5");
	ck_assert_str_eq(cv(vtext("1900-01-02 12:00:00.000"), dt, "int"), "2");
	ck_assert_str_eq(cv(vtext("1900-01-02 11:59:59.997"), dt, "int"), "1");
}
END_TEST

START_TEST(test_smalldatetime)
{
	const char *sd = "smalldatetime";

	ck_assert_str_eq(
	    cv(vtext("2020-01-01 10:00:29.998"), "varchar(30)", sd),
	    "2020-01-01 10:00:00");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 10:00:29.999"), "varchar(30)", sd),
	    "2020-01-01 10:01:00");
	ck_assert_str_eq(cv(vtext("2020-01-01 23:59:30"), "varchar(30)", sd),
	    "2020-01-02 00:00:00");
	ck_assert_str_eq(cv(vtext("2079-06-06 23:59"), "varchar(30)", sd),
	    "2079-06-06 23:59:00");
	ck_assert_str_eq(cv(vtext("2079-06-07"), "varchar(30)", sd),
	    "E242: The conversion of a varchar data type to a smalldatetime "
	    "data type resulted in an out-of-range value.");
	ck_assert_str_eq(cv(vtext("1899-12-31"), "varchar(30)", sd),
	    "E242: The conversion of a varchar data type to a smalldatetime "
	    "data type resulted in an out-of-range value.");
	ck_assert_str_eq(cv(vtext("2080-01-01 00:00:00.000"), "datetime", sd),
	    "E8115: Arithmetic overflow error converting expression to data "
	    "type smalldatetime.");
	ck_assert_str_eq(cv(vtext("2020-01-01 10:00:00"), sd, "datetime"),
	    "2020-01-01 10:00:00.000");
}
END_TEST

START_TEST(test_datetime2)
{
	ck_assert_str_eq(cv(vtext("2020-01-01 12:34:56.1234567"), "varchar(40)",
			     "datetime2"),
	    "2020-01-01 12:34:56.1234567");
	ck_assert_str_eq(cv(vtext("2020-01-01 12:34:56.1234567"), "varchar(40)",
			     "datetime2(3)"),
	    "2020-01-01 12:34:56.123");
	ck_assert_str_eq(cv(vtext("2020-01-01 12:34:56.1235"), "varchar(40)",
			     "datetime2(3)"),
	    "2020-01-01 12:34:56.124");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:34:56"), "varchar(40)", "datetime2(0)"),
	    "2020-01-01 12:34:56");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:34:56.5"), "varchar(40)", "datetime2(0)"),
	    "2020-01-01 12:34:57");
	ck_assert_str_eq(cv(vtext("2020-12-31 23:59:59.9999999"), "varchar(40)",
			     "datetime2(0)"),
	    "2021-01-01 00:00:00");
	ck_assert_str_eq(cv(vtext("0001-01-01"), "varchar(40)", "datetime2"),
	    "0001-01-01 00:00:00.0000000");
	ck_assert_str_eq(cv(vtext("9999-12-31 23:59:59.9999999"), "varchar(40)",
			     "datetime2"),
	    "9999-12-31 23:59:59.9999999");
	ck_assert_str_eq(cv(vtext("2020-02-30"), "varchar(40)", "datetime2"),
	    "E241: Conversion failed when converting date and/or time from "
	    "character string.");
	ck_assert_str_eq(cv(vtext("2020-01-01 00:00:00.12345678"),
			     "varchar(40)", "datetime2"),
	    "E241: Conversion failed when converting date and/or time from "
	    "character string.");
	ck_assert_str_eq(
	    cv(vtext("23:59:59.9999999"), "varchar(40)", "time(0)"),
	    "23:59:59");
	ck_assert_str_eq(cv(vtext("23:59:59.9999"), "varchar(40)", "time(3)"),
	    "23:59:59.999");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 23:59:59.9999999"), "datetime2", "time(0)"),
	    "23:59:59");
	ck_assert_str_eq(
	    cv(vtext("10:00:00.5"), "varchar(40)", "time(0)"), "10:00:01");
	ck_assert_str_eq(cv(vtext("12:34:56.1234567"), "varchar(40)", "time"),
	    "12:34:56.1234567");
	ck_assert_str_eq(
	    cv(vtext("2020-05-06 07:08:09"), "varchar(40)", "time(2)"),
	    "07:08:09.00");
	ck_assert_str_eq(
	    cv(vtext("2020-05-06"), "varchar(40)", "date"), "2020-05-06");
	/* between types */
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 23:59:59.9999999"), "datetime2", "date"),
	    "2020-01-01");
	ck_assert_str_eq(cv(vtext("2020-01-01"), "date", "datetime"),
	    "2020-01-01 00:00:00.000");
	ck_assert_str_eq(cv(vtext("2020-01-01"), "date", "datetime2(2)"),
	    "2020-01-01 00:00:00.00");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.0016667"), "datetime2", "datetime"),
	    "2020-01-01 00:00:00.003");
	ck_assert_str_eq(
	    cv(vtext("1700-01-01 00:00:00.0000000"), "datetime2", "datetime"),
	    "E242: The conversion of a datetime2 data type to a datetime data "
	    "type resulted in an out-of-range value.");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.003"), "datetime", "datetime2"),
	    "2020-01-01 00:00:00.0033333");
	ck_assert_str_eq(cv(vtext("12:34:56.1234567"), "time", "datetime2"),
	    "1900-01-01 12:34:56.1234567");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:34:56.1234567"), "datetime2", "time(3)"),
	    "12:34:56.123");
	ck_assert_str_eq(cv(vtext("12:00:00"), "time", "date"),
	    "E529: Explicit conversion from data type time to date is not "
	    "allowed.");
	ck_assert_str_eq(cv(vtext("2020-01-01"), "date", "time"),
	    "E529: Explicit conversion from data type date to time is not "
	    "allowed.");
	ck_assert_str_eq(cv(vint(1), "int", "xml"),
	    "E529: Explicit conversion from data type int to xml is not "
	    "allowed.");
	ck_assert_str_eq(cv(vtext("2100-01-01 00:00:00.0000000"), "datetime2",
			     "smalldatetime"),
	    "E242: The conversion of a datetime2 data type to a smalldatetime "
	    "data type resulted in an out-of-range value.");
	ck_assert_str_eq(cv(vint(1), "int", "date"),
	    "E529: Explicit conversion from data type int to date is not "
	    "allowed.");
	ck_assert_str_eq(cv(vtext("2020-01-01"), "date", "int"),
	    "E529: Explicit conversion from data type date to int is not "
	    "allowed.");
}
END_TEST

START_TEST(test_datetimeoffset)
{
	const char *d = "datetimeoffset";

	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:00:00 +14:00"), "varchar(40)", d),
	    "2020-01-01 12:00:00.0000000 +14:00");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:00:00 -14:00"), "varchar(40)", d),
	    "2020-01-01 12:00:00.0000000 -14:00");
	ck_assert_str_eq(cv(vtext("2020-01-01T12:00:00Z"), "varchar(40)",
			     "datetimeoffset(0)"),
	    "2020-01-01 12:00:00 +00:00");
	ck_assert_str_eq(cv(vtext("2020-01-01 12:00:00.5 +05:30"),
			     "varchar(40)", "datetimeoffset(2)"),
	    "2020-01-01 12:00:00.50 +05:30");
	ck_assert_str_eq(cv(vtext("2020-01-01 12:00:00"), "varchar(40)",
			     "datetimeoffset(0)"),
	    "2020-01-01 12:00:00 +00:00");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:00:00 +14:01"), "varchar(40)", d),
	    "E241: Conversion failed when converting date and/or time from "
	    "character string.");
	ck_assert_str_eq(
	    cv(vtext("0001-01-01 00:00:00 +01:00"), "varchar(40)", d),
	    "E8114: Error converting data type varchar to datetimeoffset.");
	ck_assert_str_eq(
	    cv(vtext("9999-12-31 23:00:00 -14:00"), "varchar(40)", d),
	    "E8114: Error converting data type varchar to datetimeoffset.");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:00:00.0000000 +01:00"), d, "datetime2"),
	    "2020-01-01 12:00:00.0000000");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:00:00.0000000 +01:00"), d, "date"),
	    "2020-01-01");
	ck_assert_str_eq(cv(vtext("2020-01-01 12:00:00.1234567"), "datetime2",
			     "datetimeoffset(3)"),
	    "2020-01-01 12:00:00.123 +00:00");
	ck_assert_str_eq(cv(vtext("2020-01-01 12:00:00 +01:00"), "varchar(40)",
			     "datetime2(0)"),
	    "2020-01-01 12:00:00");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 12:00:00 +01:00"), "varchar(40)", "datetime"),
	    "E241: Conversion failed when converting date and/or time from "
	    "character string.");
}
END_TEST

START_TEST(test_datetime_styles)
{
	const char *dt = "datetime", *s = "varchar(40)";

	ck_assert_str_eq(
	    cv(vtext("2024-01-02 03:04:05.007"), dt, s), "Jan  2 2024  3:04AM");
	ck_assert_str_eq(
	    cv(vtext("2024-12-25 23:59:00.000"), dt, s), "Dec 25 2024 11:59PM");
	ck_assert_str_eq(cv(vtext("2024-01-02 12:04:05"), "smalldatetime", s),
	    "Jan  2 2024 12:04PM");
	ck_assert_str_eq(
	    cv(vtext("2024-01-02 03:04:05.1230000"), "datetime2", s),
	    "2024-01-02 03:04:05.1230000");
	ck_assert_str_eq(cvf(vtext("2024-01-02 03:04:05.1230000"), "datetime2",
			     s, SIMCONV_STYLE_GIVEN),
	    "Jan  2 2024  3:04AM");
	ck_assert_str_eq(
	    cv(vtext("2024-03-01 00:00:00.00 +01:30"), "datetimeoffset(2)", s),
	    "2024-03-01 00:00:00.00 +01:30");
	ck_assert_str_eq(cvf(vtext("2024-01-02 03:04:05.007"), dt, s, 120),
	    "2024-01-02 03:04:05");
	ck_assert_str_eq(cvf(vtext("2024-01-02 03:04:05.007"), dt, s, 121),
	    "2024-01-02 03:04:05.007");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 03:04:00"), "smalldatetime", s, 121),
	    "2024-01-02 03:04:00.000");
	ck_assert_str_eq(cvf(vtext("2024-01-02 03:04:05.007"), dt, s, 126),
	    "2024-01-02T03:04:05.007");
	ck_assert_str_eq(cvf(vtext("2024-01-02 03:04:05.000"), dt, s, 126),
	    "2024-01-02T03:04:05");
	ck_assert_str_eq(cvf(vtext("2024-01-02 03:04:05.1234567 +02:00"),
			     "datetimeoffset", s, 127),
	    "2024-01-02T01:04:05.1234567Z");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 03:04:05.1234567"), "datetime2", s, 121),
	    "2024-01-02 03:04:05.1234567");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02"), "date", s, 101), "01/02/2024");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02"), "date", s, 103), "02/01/2024");
	ck_assert_str_eq(cvf(vtext("2024-01-02"), "date", s, 112), "20240102");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 03:04:05.007"), dt, s, 108), "03:04:05");
	ck_assert_str_eq(cvf(vtext("2024-01-02 03:04:05.007"), dt, s, 99),
	    "E281: 99 is not a valid style number when converting from "
	    "datetime to a character string.");
	/* text in those styles reads back */
	ck_assert_str_eq(
	    cv(vtext("Dec 25 2024 11:59PM"), s, dt), "2024-12-25 23:59:00.000");
	ck_assert_str_eq(
	    cv(vtext("25 December 2024"), s, "date"), "2024-12-25");
}
END_TEST

START_TEST(test_guid)
{
	const char *g = "uniqueidentifier";

	ck_assert_str_eq(
	    cv(vtext("6f9619ff-8b86-d011-b42d-00c04fc964ff"), "varchar(40)", g),
	    "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	ck_assert_str_eq(cv(vtext("{6F9619FF-8B86-D011-B42D-00C04FC964FF}"),
			     "varchar(40)", g),
	    "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	/* the documented truncation of longer text */
	ck_assert_str_eq(cv(vtext("0E984725-C51C-4BF4-9960-E1C80E27ABA0wrong"),
			     "varchar(50)", g),
	    "0E984725-C51C-4BF4-9960-E1C80E27ABA0");
	ck_assert_str_eq(
	    cv(vtext("6F9619FF-8B86-D011-B42D-00C04FC964F"), "varchar(40)", g),
	    "E8169: Conversion failed when converting from a character "
	    "string to uniqueidentifier.");
	ck_assert_str_eq(cv(vtext("6F9619FF-8B86-D011-B42D-00C04FC964FF"), g,
			     "varbinary(16)"),
	    "0xFF19966F868B11D0B42D00C04FC964FF");
	ck_assert_str_eq(cv(vblob("\xff\x19\x96\x6f\x86\x8b\x11\xd0\xb4\x2d"
				  "\x00\xc0\x4f\xc9\x64\xff",
				16),
			     "varbinary(16)", g),
	    "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	ck_assert_str_eq(
	    cv(vtext("6F9619FF-8B86-D011-B42D-00C04FC964FF"), g, "char(10)"),
	    "E8170: Insufficient result space to convert uniqueidentifier "
	    "value to char.");
	ck_assert_str_eq(cv(vtext("6F9619FF-8B86-D011-B42D-00C04FC964FF"), g,
			     "nvarchar(36)"),
	    "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	ck_assert_str_eq(cv(vint(1), "int", g),
	    "E529: Explicit conversion from data type int to uniqueidentifier "
	    "is not allowed.");
}
END_TEST

START_TEST(test_strings)
{
	/* code page 1252 keeps the euro sign and Latin-1, not the rest */
	ck_assert_str_eq(cv(vtext("\xe2\x82\xac caf\xc3\xa9"), "nvarchar(10)",
			     "varchar(10)"),
	    "\xe2\x82\xac caf\xc3\xa9");
	ck_assert_str_eq(
	    cv(vtext("\xc4\x80\xce\xa9x"), "nvarchar(10)", "varchar(10)"),
	    "??x");
	ck_assert_str_eq(
	    cv(vtext("a\xf0\x9f\x98\x80z"), "nvarchar(10)", "varchar(10)"),
	    "a??z");
	ck_assert_str_eq(
	    cv(vtext("a\xf0\x9f\x98\x80z"), "nvarchar(10)", "nvarchar(10)"),
	    "a\xf0\x9f\x98\x80z");
	/* a pair counts two UTF-16 units and is never split */
	ck_assert_str_eq(
	    cv(vtext("a\xf0\x9f\x98\x80z"), "nvarchar(10)", "nvarchar(2)"),
	    "a");
	ck_assert_str_eq(
	    cv(vtext("a\xf0\x9f\x98\x80z"), "nvarchar(10)", "nvarchar(3)"),
	    "a\xf0\x9f\x98\x80");
	ck_assert_str_eq(cv(vtext("ab"), "varchar(10)", "char(5)"), "ab   ");
	ck_assert_str_eq(
	    cv(vtext("abc\xf0\x9f\x98\x80"), "nvarchar(10)", "nchar(4)"),
	    "abc ");
	ck_assert_str_eq(
	    cv(vtext("\xc3\xa9"), "varchar(10)", "nchar(3)"), "\xc3\xa9  ");
	ck_assert_str_eq(
	    cv(vtext("abcdef"), "varchar(10)", "varchar(3)"), "abc");
	ck_assert_str_eq(cv(vtext("abcdef"), "varchar(10)", "char(3)"), "abc");
	ck_assert_str_eq(
	    cvf(vtext("abcdef"), "varchar(10)", "varchar(3)", SIMCONV_ASSIGN),
	    "E8152: String or binary data would be truncated.");
	/* trailing spaces are truncated silently even on assignment */
	ck_assert_str_eq(
	    cvf(vtext("abc   "), "varchar(10)", "varchar(3)", SIMCONV_ASSIGN),
	    "abc");
	ck_assert_str_eq(cv(vtext("x"), "varchar(10)", "varchar(max)"), "x");
	ck_assert_str_eq(cv(vtext("<a/>"), "nvarchar(10)", "xml"), "<a/>");
	/* numbers to short strings: '*' for integers to varchar, else error */
	ck_assert_str_eq(cv(vint(123), "int", "varchar(2)"), "*");
	ck_assert_str_eq(cv(vint(123), "int", "varchar(3)"), "123");
	ck_assert_str_eq(cv(vint(-5), "int", "varchar(30)"), "-5");
	ck_assert_str_eq(cv(vint(123), "int", "nvarchar(2)"),
	    "E8115: Arithmetic overflow error converting expression to data "
	    "type nvarchar.");
	ck_assert_str_eq(cv(vtext("123.45"), "decimal(5,2)", "varchar(3)"),
	    "E8115: Arithmetic overflow error converting numeric to data type "
	    "varchar.");
	ck_assert_str_eq(
	    cv(vtext("-0.50"), "decimal(5,2)", "varchar(30)"), "-0.50");
	ck_assert_str_eq(cv(vint(1), "bit", "varchar(30)"), "1");
}
END_TEST

START_TEST(test_assign_2628)
{
	struct sim_type from = T("varchar(20)"), to = T("varchar(5)");
	struct sim_error err;
	struct simval v;
	sqlite3_value *in = vtext("abcdefgh");

	ck_assert_int_eq(
	    simval_assign(in, &from, &to, "db.dbo.t", "c", &v, &err), -1);
	ck_assert_int_eq(err.number, 2628);
	ck_assert_int_eq(err.class, 16);
	ck_assert_str_eq(err.msg,
	    "String or binary data would be truncated in table 'db.dbo.t', "
	    "column 'c'. Truncated value: 'abcde'.");
	sqlite3_value_free(in);
	in = vtext("abc");
	ck_assert_int_eq(simval_assign(in, &from, &to, "t", "c", &v, &err), 0);
	ck_assert_str_eq(render(&v), "abc");
	simval_free(&v);
	sqlite3_value_free(in);
	to = T("binary(2)");
	in = vblob("\x01\x02\x03", 3);
	ck_assert_int_eq(simval_assign(in, NULL, &to, "t", "b", &v, &err), -1);
	ck_assert_int_eq(err.number, 2628);
	sqlite3_value_free(in);
}
END_TEST

START_TEST(test_bit_float)
{
	ck_assert_str_eq(cv(vtext("true"), "varchar(10)", "bit"), "1");
	ck_assert_str_eq(cv(vtext(" FALSE "), "varchar(10)", "bit"), "0");
	ck_assert_str_eq(cv(vtext("2"), "varchar(10)", "bit"), "1");
	ck_assert_str_eq(cv(vtext("0"), "varchar(10)", "bit"), "0");
	ck_assert_str_eq(cv(vtext("yes"), "varchar(10)", "bit"),
	    "E245: Conversion failed when converting the varchar value 'yes' "
	    "to data type bit.");
	ck_assert_str_eq(cv(vint(-5), "int", "bit"), "1");
	ck_assert_str_eq(cv(vtext("0.00"), "decimal(5,2)", "bit"), "0");
	ck_assert_str_eq(cv(vtext("0.01"), "decimal(5,2)", "bit"), "1");
	ck_assert_str_eq(cv(vfloat(0.1), "float", "bit"), "1");
	ck_assert_str_eq(cv(vtext("1e3"), "varchar(10)", "float"), "1000");
	ck_assert_str_eq(cv(vtext(" -.5 "), "varchar(10)", "float"), "-0.5");
	ck_assert_str_eq(cv(vtext(""), "varchar(10)", "float"), "0");
	ck_assert_str_eq(cv(vtext("abc"), "varchar(10)", "float"),
	    "E8114: Error converting data type varchar to float.");
	ck_assert_str_eq(cv(vtext("0x10"), "varchar(10)", "float"),
	    "E8114: Error converting data type varchar to float.");
	ck_assert_str_eq(
	    cv(vfloat(0.1), "float", "real"), "0.10000000149011612");
	ck_assert_str_eq(
	    cv(vtext("0.1"), "varchar(10)", "real"), "0.10000000149011612");
	ck_assert_str_eq(cv(vfloat(1e300), "float", "real"),
	    "E8115: Arithmetic overflow error converting float to data type "
	    "real.");
	ck_assert_str_eq(cv(vint(7), NULL, "float"), "7");
	/* float to text: %.6g over 17 digits, 3-digit exponent */
	ck_assert_str_eq(
	    cv(vfloat(123456789), "float", "varchar(30)"), "1.23457e+008");
	ck_assert_str_eq(cv(vfloat(1e6), "float", "varchar(30)"), "1e+006");
	ck_assert_str_eq(cv(vfloat(123456), "float", "varchar(30)"), "123456");
	ck_assert_str_eq(cv(vfloat(0.0001), "float", "varchar(30)"), "0.0001");
	ck_assert_str_eq(cv(vfloat(0.00001), "float", "varchar(30)"), "1e-005");
	ck_assert_str_eq(
	    cv(vfloat(1.2345749999999999), "float", "varchar(30)"), "1.23458");
	ck_assert_str_eq(cv(vfloat(-2.5), "float", "varchar(30)"), "-2.5");
	ck_assert_str_eq(
	    cv(vfloat(9.94922e-44), "float", "varchar(30)"), "9.94922e-044");
	ck_assert_str_eq(
	    cvf(vfloat(1234567), "float", "varchar(30)", 1), "1.2345670e+006");
	ck_assert_str_eq(cvf(vfloat(1234567), "float", "varchar(30)", 2),
	    "1.234567000000000e+006");
	ck_assert_str_eq(cv(vfloat(123456789), "float", "varchar(5)"),
	    "E8115: Arithmetic overflow error converting float to data type "
	    "varchar.");
}
END_TEST

START_TEST(test_binary)
{
	ck_assert_str_eq(
	    cvf(vtext("0x4142"), "varchar(10)", "varbinary(10)", 1), "0x4142");
	ck_assert_str_eq(
	    cvf(vtext("4142"), "varchar(10)", "varbinary(10)", 2), "0x4142");
	ck_assert_str_eq(cvf(vtext("0x414"), "varchar(10)", "varbinary(10)", 1),
	    "E8114: Error converting data type varchar to varbinary.");
	ck_assert_str_eq(
	    cv(vtext("ABC"), "varchar(10)", "varbinary(10)"), "0x414243");
	ck_assert_str_eq(
	    cv(vtext("\xc3\xa9"), "varchar(10)", "varbinary(10)"), "0xE9");
	ck_assert_str_eq(
	    cv(vtext("A"), "nvarchar(10)", "varbinary(10)"), "0x4100");
	ck_assert_str_eq(
	    cv(vblob("AB", 2), "varbinary(10)", "varchar(10)"), "AB");
	ck_assert_str_eq(
	    cv(vblob("\xe9", 1), "varbinary(10)", "varchar(10)"), "\xc3\xa9");
	ck_assert_str_eq(
	    cv(vblob("A\0", 2), "varbinary(10)", "nvarchar(10)"), "A");
	ck_assert_str_eq(
	    cvf(vblob("AB", 2), "varbinary(10)", "varchar(10)", 1), "0x4142");
	ck_assert_str_eq(
	    cvf(vblob("AB", 2), "varbinary(10)", "varchar(10)", 2), "4142");
	ck_assert_str_eq(cv(vint(256), "int", "varbinary(10)"), "0x00000100");
	ck_assert_str_eq(cv(vint(256), "int", "binary(2)"), "0x0100");
	ck_assert_str_eq(cv(vint(1), "int", "binary(8)"), "0x0000000000000001");
	ck_assert_str_eq(
	    cv(vint(-1), "bigint", "varbinary(8)"), "0xFFFFFFFFFFFFFFFF");
	ck_assert_str_eq(
	    cv(vblob("\x01", 1), "varbinary(10)", "binary(4)"), "0x01000000");
	ck_assert_str_eq(
	    cv(vblob("\x01\x02\x03", 3), "varbinary(10)", "varbinary(2)"),
	    "0x0102");
	ck_assert_str_eq(
	    cv(vblob("\x00\x00\x01\x00", 4), "varbinary(10)", "int"), "256");
	ck_assert_str_eq(
	    cv(vblob("\xff\xff\xff\xfe", 4), "varbinary(10)", "int"), "-2");
	ck_assert_str_eq(
	    cv(vblob("\x01\x00\x00\x00\x05", 5), "varbinary(10)", "int"), "5");
	ck_assert_str_eq(
	    cvf(vtext("ab"), "varchar(10)", "varbinary(10)", SIMCONV_IMPLICIT),
	    "E257: Implicit conversion from data type varchar to varbinary "
	    "is not allowed. Use the CONVERT function to run this query.");
	ck_assert_str_eq(cvf(vtext("ab"), "varchar(max)", "varbinary(max)",
			     SIMCONV_IMPLICIT),
	    "E257: Implicit conversion from data type varchar(max) to "
	    "varbinary(max) is not allowed. Use the CONVERT function to run "
	    "this query.");
	ck_assert_str_eq(cv(vint(5), NULL, "timestamp"), "0x0000000000000005");
}
END_TEST

/* Run a query returning one integer. */
static int64_t
q1(const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

/* Run a query and join its first column with ','. */
static const char *
qcol(const char *sql)
{
	sqlite3_stmt *st;
	size_t n = 0;

	out[0] = '\0';
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n += snprintf(out + n, sizeof(out) - n, "%s%s", n ? "," : "",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return (out);
}

START_TEST(test_collation_ci)
{
	ck_assert_int_eq(q1("SELECT 'abc' = 'ABC' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'abc' = 'abc   ' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT ' abc' = 'abc' COLLATE SIMCI"), 0);
	ck_assert_int_eq(q1("SELECT 'a' < 'B' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'é' = 'É' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'é' = 'e' COLLATE SIMCI"), 0);
	ck_assert_int_eq(q1("SELECT 'a' < 'ä' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'ä' < 'b' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'Straße' = 'STRASSE' COLLATE SIMCI"), 0);
	ck_assert_int_eq(q1("SELECT 'ΣΟΦΙΑ' = 'σοφια' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'ДОМ' = 'дом' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'Łódź' = 'łÓDŹ' COLLATE SIMCI"), 1);
	ck_assert_int_eq(q1("SELECT 'Ÿ' = 'ÿ' COLLATE SIMCI"), 1);
	ck_assert_str_eq(
	    qcol("SELECT v FROM (SELECT 'b' v UNION ALL SELECT "
		 "'A' UNION ALL SELECT 'á' UNION ALL SELECT 'a' "
		 "UNION ALL SELECT 'B ') ORDER BY v COLLATE SIMCI, "
		 "v"),
	    "A,a,á,B ,b");
}
END_TEST

START_TEST(test_collation_dec)
{
	ck_assert_int_eq(q1("SELECT '10.5' > '9.75' COLLATE SIMDEC"), 1);
	ck_assert_int_eq(q1("SELECT '-1' < '0.5' COLLATE SIMDEC"), 1);
	ck_assert_int_eq(q1("SELECT '0.50' = '0.5' COLLATE SIMDEC"), 1);
	ck_assert_int_eq(q1("SELECT '-10' < '-9' COLLATE SIMDEC"), 1);
	ck_assert_int_eq(q1("SELECT '-0.00' = '0' COLLATE SIMDEC"), 1);
	ck_assert_int_eq(q1("SELECT '5' = '5.0000' COLLATE SIMDEC"), 1);
	ck_assert_int_eq(q1("SELECT '99999999999999999999999999999999999999' > "
			    "'99999999999999999999999999999999999998.9' "
			    "COLLATE SIMDEC"),
	    1);
	ck_assert_int_eq(q1("SELECT '0.00000000000000000000000000000000000001'"
			    " > '0' COLLATE SIMDEC"),
	    1);
	ck_assert_str_eq(qcol("SELECT v FROM (SELECT '10' v UNION ALL SELECT "
			      "'-2.5' UNION ALL SELECT '9.99' UNION ALL SELECT "
			      "'-10' UNION ALL SELECT '0.001') ORDER BY v "
			      "COLLATE SIMDEC"),
	    "-10,-2.5,0.001,9.99,10");
}
END_TEST

START_TEST(test_collation_guid)
{
	/*
	 * SQL Server's order (SqlGuid.CompareTo: bytes 10-15, 8-9, 6-7,
	 * 4-5, 0-3 of the wire form): the last group decides, then the
	 * fourth; within the first three groups the text bytes count from
	 * the right (they are stored little-endian).
	 */
	ck_assert_str_eq(
	    qcol(
		"SELECT v FROM (SELECT '00000000-0000-0000-0000-010000000000' v"
		" UNION ALL SELECT '00000000-0000-0000-0000-000000000001'"
		" UNION ALL SELECT '00000000-0000-0000-0100-000000000000'"
		" UNION ALL SELECT '00000000-0000-0000-0001-000000000000'"
		" UNION ALL SELECT '00000000-0000-0100-0000-000000000000'"
		" UNION ALL SELECT '00000000-0000-0001-0000-000000000000'"
		" UNION ALL SELECT '00000000-0100-0000-0000-000000000000'"
		" UNION ALL SELECT '00000000-0001-0000-0000-000000000000'"
		" UNION ALL SELECT '01000000-0000-0000-0000-000000000000'"
		" UNION ALL SELECT '00000001-0000-0000-0000-000000000000'"
		" UNION ALL SELECT 'FF000000-0000-0000-0000-000000000000'"
		") ORDER BY v COLLATE SIMGUID"),
	    "01000000-0000-0000-0000-000000000000,"
	    "FF000000-0000-0000-0000-000000000000,"
	    "00000001-0000-0000-0000-000000000000,"
	    "00000000-0100-0000-0000-000000000000,"
	    "00000000-0001-0000-0000-000000000000,"
	    "00000000-0000-0100-0000-000000000000,"
	    "00000000-0000-0001-0000-000000000000,"
	    "00000000-0000-0000-0001-000000000000,"
	    "00000000-0000-0000-0100-000000000000,"
	    "00000000-0000-0000-0000-000000000001,"
	    "00000000-0000-0000-0000-010000000000");
	ck_assert_int_eq(q1("SELECT '6f9619ff-8b86-d011-b42d-00c04fc964ff' = "
			    "'6F9619FF-8B86-D011-B42D-00C04FC964FF' COLLATE "
			    "SIMGUID"),
	    1);
}
END_TEST

START_TEST(test_collation_dto)
{
	ck_assert_int_eq(q1("SELECT '2020-01-01 12:00:00.0000000 +01:00' = "
			    "'2020-01-01 11:00:00.0000000 +00:00' COLLATE "
			    "SIMDTO"),
	    1);
	ck_assert_int_eq(q1("SELECT '2020-01-01 12:00:00.0000000 +14:00' < "
			    "'2019-12-31 23:00:00.0000000 -14:00' COLLATE "
			    "SIMDTO"),
	    1);
	ck_assert_int_eq(q1("SELECT '2020-01-01 00:00:00.0000001 +00:00' > "
			    "'2020-01-01 00:00:00.0000000 +00:00' COLLATE "
			    "SIMDTO"),
	    1);
}
END_TEST

START_TEST(test_sql_functions)
{
	sqlite3_stmt *st;
	struct sim_error err;

	ck_assert_int_eq(q1("SELECT sim_cast('12', 'int')"), 12);
	ck_assert_int_eq(q1("SELECT typeof(sim_cast('12', 'int')) = "
			    "'integer'"),
	    1);
	ck_assert_str_eq(
	    qcol("SELECT sim_cast('2.345', 'decimal(3,2)')"), "2.35");
	ck_assert_str_eq(
	    qcol("SELECT sim_cast(123456789012, 'varchar')"), "123456789012");
	ck_assert_str_eq(qcol("SELECT sim_cast('2024-01-02 03:04:05.007', "
			      "'varchar(30)', 121, 'datetime')"),
	    "2024-01-02 03:04:05.007");
	ck_assert_int_eq(q1("SELECT sim_try_cast('abc', 'int') IS NULL"), 1);
	ck_assert_int_eq(
	    q1("SELECT sim_compare('10', '9.5', 'decimal(5,2)')"), 1);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT sim_cast('abc', 'int')",
			     -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ERROR);
	ck_assert_int_eq(sim_error_from_sqlite(sqlite3_errmsg(db), &err), 0);
	ck_assert_int_eq(err.number, 245);
	ck_assert_int_eq(err.class, 16);
	ck_assert_str_eq(err.msg,
	    "Conversion failed when converting the nvarchar value 'abc' to "
	    "data type int.");
	sqlite3_finalize(st);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "SELECT sim_cast(1, 'nope')", -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ERROR);
	ck_assert_int_eq(sim_error_from_sqlite(sqlite3_errmsg(db), &err), 0);
	ck_assert_int_eq(err.number, 2715);
	sqlite3_finalize(st);
}
END_TEST

/* Hex of a buffer. */
static const char *
hex(const unsigned char *p, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 3 < sizeof(out); i++)
		j += snprintf(out + j, sizeof(out) - j, "%02X", p[i]);
	out[j] = '\0';
	return (out);
}

/* TYPE_INFO and value of a value of type ty, as hex "info|value". */
static const char *
enc(const char *ty, sqlite3_value *v)
{
	struct sim_type t = T(ty);
	struct sim_error err;
	struct sbuf b;
	size_t info;
	static char res[4096];

	sbuf_init(&b);
	tdstype_write_info(&b, &t);
	info = b.len;
	ck_assert_int_eq(tdstype_write_value(&b, &t, v, &err), 0);
	snprintf(res, sizeof(res), "%s|", hex(b.data, info));
	strncat(res, hex(b.data + info, b.len - info),
	    sizeof(res) - strlen(res) - 1);
	sbuf_free(&b);
	sqlite3_value_free(v);
	return (res);
}

START_TEST(test_tds_encodings)
{
	ck_assert_str_eq(enc("int", vint(1)), "2604|0401000000");
	ck_assert_str_eq(enc("int", vnull()), "2604|00");
	ck_assert_str_eq(enc("tinyint", vint(255)), "2601|01FF");
	ck_assert_str_eq(enc("smallint", vint(-2)), "2602|02FEFF");
	ck_assert_str_eq(enc("bigint", vint(-1)), "2608|08FFFFFFFFFFFFFFFF");
	ck_assert_str_eq(enc("bit", vint(1)), "6801|0101");
	ck_assert_str_eq(enc("float", vfloat(1.0)), "6D08|08000000000000F03F");
	ck_assert_str_eq(enc("real", vfloat(1.0)), "6D04|040000803F");
	ck_assert_str_eq(enc("decimal(38,2)", vtext("-1.23")),
	    "6A112602|11007B000000000000000000000000000000");
	ck_assert_str_eq(
	    enc("numeric(5,0)", vtext("1")), "6C050500|050101000000");
	ck_assert_str_eq(enc("decimal(19,4)", vtext("0.0001")),
	    "6A091304|09010100000000000000");
	ck_assert_str_eq(
	    enc("money", vtext("1.0000")), "6E08|080000000010270000");
	ck_assert_str_eq(
	    enc("money", vtext("-0.0001")), "6E08|08FFFFFFFFFFFFFFFF");
	ck_assert_str_eq(enc("money", vtext("922337203685477.5807")),
	    "6E08|08FFFFFF7FFFFFFFFF");
	ck_assert_str_eq(
	    enc("smallmoney", vtext("-214748.3648")), "6E04|0400000080");
	ck_assert_str_eq(enc("datetime", vtext("1900-01-01 00:00:00.003")),
	    "6F08|080000000001000000");
	ck_assert_str_eq(enc("datetime", vtext("1900-01-02 00:00:01.000")),
	    "6F08|08010000002C010000");
	ck_assert_str_eq(enc("datetime", vtext("1753-01-01 00:00:00.000")),
	    "6F08|08462EFFFF00000000");
	ck_assert_str_eq(enc("smalldatetime", vtext("1900-01-02 00:01:00")),
	    "6F04|0401000100");
	ck_assert_str_eq(enc("date", vtext("0001-01-01")), "28|03000000");
	ck_assert_str_eq(enc("date", vtext("9999-12-31")), "28|03DAB937");
	ck_assert_str_eq(enc("date", vnull()), "28|00");
	ck_assert_str_eq(
	    enc("time", vtext("00:00:00.0000001")), "2907|050100000000");
	ck_assert_str_eq(enc("time(0)", vtext("00:00:01")), "2900|03010000");
	ck_assert_str_eq(
	    enc("time(3)", vtext("00:00:01.000")), "2903|04E8030000");
	ck_assert_str_eq(enc("datetime2(0)", vtext("0001-01-01 00:00:01")),
	    "2A00|06010000000000");
	ck_assert_str_eq(
	    enc("datetimeoffset(0)", vtext("0001-01-02 01:00:00 +01:00")),
	    "2B00|08000000010000"
	    "3C00");
	ck_assert_str_eq(
	    enc("datetimeoffset(0)", vtext("0001-01-02 00:00:00 -00:30")),
	    "2B00|08080700010000E2FF");
	ck_assert_str_eq(enc("uniqueidentifier",
			     vtext("6F9619FF-8B86-D011-B42D-00C04FC964FF")),
	    "2410|10FF19966F868B11D0B42D00C04FC964FF");
	ck_assert_str_eq(enc("uniqueidentifier", vnull()), "2410|00");
	ck_assert_str_eq(enc("varchar(10)", vtext("a\xc3\xa9\xe2\x82\xac")),
	    "A70A0009"
	    "04D00034|030061E980");
	ck_assert_str_eq(enc("varchar(10)", vnull()),
	    "A70A0009"
	    "04D00034|FFFF");
	ck_assert_str_eq(enc("char(3)", vtext("ab ")),
	    "AF030009"
	    "04D00034|0300616220");
	ck_assert_str_eq(enc("nvarchar(5)", vtext("a\xf0\x9f\x98\x80")),
	    "E70A0009"
	    "04D00034|06006100"
	    "3DD800DE");
	ck_assert_str_eq(enc("char(3)", vtext("a")),
	    "AF030009"
	    "04D00034|0300612020");
	ck_assert_str_eq(enc("nchar(2)", vtext("a")),
	    "EF040009"
	    "04D00034|040061002000");
	ck_assert_str_eq(
	    enc("binary(3)", vblob("\x01", 1)), "AD0300|0300010000");
	ck_assert_str_eq(enc("nchar(1)", vtext("x")),
	    "EF020009"
	    "04D00034|02007800");
	ck_assert_str_eq(enc("nvarchar(max)", vtext("ab")),
	    "E7FFFF09"
	    "04D00034|0400000000000000"
	    "04000000"
	    "61006200"
	    "00000000");
	ck_assert_str_eq(enc("nvarchar(max)", vtext("")),
	    "E7FFFF09"
	    "04D00034|0000000000000000"
	    "00000000");
	ck_assert_str_eq(enc("nvarchar(max)", vnull()),
	    "E7FFFF09"
	    "04D00034|FFFFFFFFFFFFFFFF");
	ck_assert_str_eq(
	    enc("varbinary(4)", vblob("\x01\x02", 2)), "A50400|02000102");
	ck_assert_str_eq(
	    enc("varbinary(max)", vnull()), "A5FFFF|FFFFFFFFFFFFFFFF");
	ck_assert_str_eq(
	    enc("binary(2)", vblob("\x01\x02", 2)), "AD0200|02000102");
	ck_assert_str_eq(enc("timestamp", vblob("\0\0\0\0\0\0\0\x07", 8)),
	    "AD0800|08000000000000000007");
	ck_assert_str_eq(enc("xml", vtext("<a/>")),
	    "F100|0800000000000000"
	    "08000000"
	    "3C0061002F003E00"
	    "00000000");
	ck_assert_str_eq(enc("image", vnull()), "22FFFFFF7F|00");
	ck_assert_str_eq(enc("text", vtext("ab")),
	    "23FFFFFF7F0904D00034|10"
	    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
	    "FFFFFFFFFFFFFFFF"
	    "020000006162");
	ck_assert_str_eq(enc("ntext", vtext("a")),
	    "63FEFFFF7F0904D00034|10"
	    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
	    "FFFFFFFFFFFFFFFF"
	    "020000006100");
	ck_assert_str_eq(
	    enc("sql_variant", vint(5)), "62491F0000|06000000380005000000");
	ck_assert_str_eq(enc("sql_variant", vnull()), "62491F0000|00000000");
}
END_TEST

START_TEST(test_tds_fixed)
{
	struct sim_type t = T("int");
	struct sim_error err;
	struct simval v;
	struct sbuf b;
	sqlite3_value *in = vint(-2);
	size_t pos = 0;
	int wire;

	ck_assert_int_eq(tdstype_wire(&t, 0), 0x38);
	sbuf_init(&b);
	tdstype_write_info_wire(&b, &t, 0x38);
	ck_assert_int_eq(tdstype_write_value_wire(&b, &t, 0x38, in, &err), 0);
	ck_assert_str_eq(hex(b.data, b.len), "38FEFFFFFF");
	ck_assert_int_eq(
	    tdstype_read_info_wire(b.data, b.len, &pos, &t, &wire, &err), 0);
	ck_assert_int_eq(wire, 0x38);
	ck_assert_int_eq(t.id, SIMT_INT);
	ck_assert_int_eq(
	    tdstype_read_value_wire(b.data, b.len, &pos, &t, wire, &v, &err),
	    0);
	ck_assert_int_eq(pos, b.len);
	ck_assert_int_eq(v.i, -2);
	sqlite3_value_free(in);
	/* datetime, money, float fixed forms as freebcp sends them */
	sbuf_reset(&b);
	t = T("datetime");
	in = vtext("2000-01-01 12:00:00.000");
	tdstype_write_info_wire(&b, &t, tdstype_wire(&t, 0));
	ck_assert_int_eq(
	    tdstype_write_value_wire(&b, &t, tdstype_wire(&t, 0), in, &err), 0);
	ck_assert_str_eq(hex(b.data, b.len), "3DAC8E000000C1C500");
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info_wire(b.data, b.len, &pos, &t, &wire, &err), 0);
	ck_assert_int_eq(
	    tdstype_read_value_wire(b.data, b.len, &pos, &t, wire, &v, &err),
	    0);
	ck_assert_str_eq(render(&v), "2000-01-01 12:00:00.000");
	simval_free(&v);
	sqlite3_value_free(in);
	sbuf_free(&b);
}
END_TEST

/* Encode a value, decode it back: type and canonical value survive. */
static void
roundtrip(const char *ty, sqlite3_value *in, int textptr)
{
	struct sim_type t = T(ty), back;
	struct sim_error err;
	struct simval v, want;
	struct sbuf b;
	size_t pos = 0;
	int wire = tdstype_wire(&t, 1), rwire;
	char f1[64], f2[64];

	if (!textptr)
		wire &= 0xff;
	sbuf_init(&b);
	tdstype_write_info_wire(&b, &t, wire);
	ck_assert_int_eq(tdstype_write_value_wire(&b, &t, wire, in, &err), 0);
	sbuf_u8(&b, 0xee); /* nothing may read past the value */
	ck_assert_msg(tdstype_read_info_wire(
			  b.data, b.len, &pos, &back, &rwire, &err) == 0,
	    "%s: %s", ty, err.msg);
	if (t.id == SIMT_TIMESTAMP)
		t = T("binary(8)");
	ck_assert_str_eq(simtype_format(&back, f1, sizeof(f1)),
	    simtype_format(&t, f2, sizeof(f2)));
	ck_assert_msg(tdstype_read_value_wire(b.data, b.len, &pos, &back,
			  rwire | (wire & TDS_WIRE_TEXTPTR), &v, &err) == 0,
	    "%s: %s", ty, err.msg);
	ck_assert_int_eq(pos, b.len - 1);
	simval_from_sqlite(&want, in);
	ck_assert_int_eq(v.kind, want.kind);
	ck_assert_int_eq(v.len, want.len);
	if (v.kind == SQLITE_INTEGER)
		ck_assert_int_eq(v.i, want.i);
	else if (v.kind == SQLITE_FLOAT)
		ck_assert(v.f == want.f);
	else if (v.kind != SQLITE_NULL)
		ck_assert_msg(memcmp(v.p, want.p, v.len) == 0,
		    "%s: got %s want %s", ty, v.p, want.p);
	simval_free(&v);
	simval_free(&want);
	sbuf_free(&b);
	sqlite3_value_free(in);
}

START_TEST(test_tds_roundtrip)
{
	static const char *types[] = { "tinyint", "smallint", "int", "bigint",
		"bit", "real", "float", "decimal(38,0)", "decimal(38,38)",
		"numeric(9,2)", "decimal(19,4)", "decimal(28,10)", "money",
		"smallmoney", "datetime", "smalldatetime", "date", "time(0)",
		"time(3)", "time", "datetime2(0)", "datetime2(4)", "datetime2",
		"datetimeoffset(0)", "datetimeoffset", "uniqueidentifier",
		"char(4)", "varchar(10)", "varchar(max)", "nchar(4)",
		"nvarchar(10)", "nvarchar(max)", "binary(4)", "varbinary(10)",
		"varbinary(max)", "timestamp", "xml", "text", "ntext",
		"image" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		roundtrip(types[i], vnull(), 1);
		roundtrip(types[i], vnull(), 0);
	}
	roundtrip("tinyint", vint(255), 0);
	roundtrip("smallint", vint(-32768), 0);
	roundtrip("int", vint(INT32_MIN), 0);
	roundtrip("bigint", vint(INT64_MIN), 0);
	roundtrip("bigint", vint(INT64_MAX), 0);
	roundtrip("bit", vint(1), 0);
	roundtrip("real", vfloat((double)(float)3.14159), 0);
	roundtrip("float", vfloat(-1.7976931348623157e308), 0);
	roundtrip("float", vfloat(5e-324), 0);
	roundtrip("decimal(38,0)",
	    vtext("99999999999999999999999999999999999999"), 0);
	roundtrip("decimal(38,0)",
	    vtext("-99999999999999999999999999999999999999"), 0);
	roundtrip("decimal(38,38)",
	    vtext("0.99999999999999999999999999999999999999"), 0);
	roundtrip("decimal(38,38)",
	    vtext("-0.00000000000000000000000000000000000001"), 0);
	roundtrip("numeric(9,2)", vtext("-9999999.99"), 0);
	roundtrip("decimal(19,4)", vtext("123456789012345.6789"), 0);
	roundtrip("decimal(28,10)", vtext("0.0000000001"), 0);
	roundtrip("decimal(5,2)", vtext("0.00"), 0);
	roundtrip("money", vtext("922337203685477.5807"), 0);
	roundtrip("money", vtext("-922337203685477.5808"), 0);
	roundtrip("smallmoney", vtext("214748.3647"), 0);
	roundtrip("smallmoney", vtext("-214748.3648"), 0);
	roundtrip("datetime", vtext("1753-01-01 00:00:00.000"), 0);
	roundtrip("datetime", vtext("9999-12-31 23:59:59.997"), 0);
	roundtrip("datetime", vtext("2020-02-29 12:34:56.007"), 0);
	roundtrip("datetime", vtext("2020-02-29 12:34:56.993"), 0);
	roundtrip("smalldatetime", vtext("1900-01-01 00:00:00"), 0);
	roundtrip("smalldatetime", vtext("2079-06-06 23:59:00"), 0);
	roundtrip("date", vtext("0001-01-01"), 0);
	roundtrip("date", vtext("9999-12-31"), 0);
	roundtrip("time(0)", vtext("23:59:59"), 0);
	roundtrip("time(3)", vtext("23:59:59.999"), 0);
	roundtrip("time", vtext("23:59:59.9999999"), 0);
	roundtrip("datetime2(0)", vtext("9999-12-31 23:59:59"), 0);
	roundtrip("datetime2(4)", vtext("2020-01-01 00:00:00.0001"), 0);
	roundtrip("datetime2", vtext("0001-01-01 00:00:00.0000000"), 0);
	roundtrip(
	    "datetimeoffset", vtext("2020-01-01 00:30:00.1234567 +14:00"), 0);
	roundtrip(
	    "datetimeoffset", vtext("2020-12-31 23:30:00.0000001 -14:00"), 0);
	roundtrip("datetimeoffset(0)", vtext("0001-01-01 14:00:00 +14:00"), 0);
	roundtrip("datetimeoffset(0)", vtext("9999-12-31 09:59:59 -14:00"), 0);
	roundtrip("uniqueidentifier",
	    vtext("6F9619FF-8B86-D011-B42D-00C04FC964FF"), 0);
	roundtrip("char(4)", vtext("\xc3\xa9t\xc3\xa9 "), 0);
	roundtrip("varchar(10)", vtext(""), 0);
	roundtrip(
	    "varchar(10)", vtext("\xe2\x80\x9cq\xe2\x80\x9d \xc5\xa0"), 0);
	roundtrip("varchar(max)", vtext("long"), 0);
	roundtrip("nchar(4)", vtext("\xd0\x94   "), 0);
	roundtrip("nvarchar(10)", vtext("\xf0\x9f\x98\x80\xe4\xb8\xad"), 0);
	roundtrip("nvarchar(max)", vtext("\xf0\x9f\x98\x80"), 0);
	roundtrip("nvarchar(max)", vtext(""), 0);
	roundtrip("binary(4)", vblob("\0\x01\x02\x03", 4), 0);
	roundtrip("varbinary(10)", vblob("", 0), 0);
	roundtrip("varbinary(max)", vblob("\xff\x00", 2), 0);
	roundtrip("timestamp", vblob("\0\0\0\0\0\0\x01\x02", 8), 0);
	roundtrip("xml", vtext("<r a=\"\xc3\xa9\"/>"), 0);
	roundtrip("text", vtext("abc"), 1);
	roundtrip("text", vtext("abc"), 0);
	roundtrip("ntext", vtext("\xf0\x9f\x98\x80"), 1);
	roundtrip("ntext", vtext("x"), 0);
	roundtrip("image", vblob("\x01", 1), 1);
	roundtrip("image", vblob("\x01", 1), 0);
}
END_TEST

START_TEST(test_tds_read_rpc)
{
	/* parameters as FreeTDS and others send them */
	static const unsigned char intn[] = { 0x26, 0x04, 0x04, 0x2a, 0, 0, 0 };
	static const unsigned char nvar[] = { 0xe7, 0x40, 0x1f, 0x09, 0x04,
		0xd0, 0x00, 0x34, 0x04, 0x00, 'h', 0, 'i', 0 };
	static const unsigned char dec[] = { 0x6a, 0x11, 0x26, 0x02, 0x11, 0x00,
		0x7b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const unsigned char ntext[] = { 0x63, 0xfe, 0xff, 0xff, 0x7f,
		0x09, 0x04, 0xd0, 0x00, 0x34, 0x02, 0, 0, 0, 'z', 0 };
	static const unsigned char dt2[] = { 0x2a, 0x07, 0x08, 0x01, 0, 0, 0, 0,
		0x5b, 0x95, 0x0a };
	static const unsigned char bad[] = { 0x26, 0x03 };
	static const unsigned char shortv[] = { 0x26, 0x04, 0x04, 0x2a };
	struct sim_type t;
	struct sim_error err;
	struct simval v;
	size_t pos;

	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(intn, sizeof(intn), &pos, &t, &err), 0);
	ck_assert_int_eq(
	    tdstype_read_value(intn, sizeof(intn), &pos, &t, &v, &err), 0);
	ck_assert_int_eq(v.i, 42);
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(nvar, sizeof(nvar), &pos, &t, &err), 0);
	ck_assert_int_eq(t.id, SIMT_NVARCHAR);
	ck_assert_int_eq(t.maxlen, 8000);
	ck_assert_int_eq(
	    tdstype_read_value(nvar, sizeof(nvar), &pos, &t, &v, &err), 0);
	ck_assert_str_eq(render(&v), "hi");
	simval_free(&v);
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(dec, sizeof(dec), &pos, &t, &err), 0);
	ck_assert_int_eq(
	    tdstype_read_value(dec, sizeof(dec), &pos, &t, &v, &err), 0);
	ck_assert_str_eq(render(&v), "-1.23");
	simval_free(&v);
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(ntext, sizeof(ntext), &pos, &t, &err), 0);
	ck_assert_int_eq(t.id, SIMT_NTEXT);
	ck_assert_int_eq(
	    tdstype_read_value(ntext, sizeof(ntext), &pos, &t, &v, &err), 0);
	ck_assert_str_eq(render(&v), "z");
	simval_free(&v);
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(dt2, sizeof(dt2), &pos, &t, &err), 0);
	ck_assert_int_eq(
	    tdstype_read_value(dt2, sizeof(dt2), &pos, &t, &v, &err), 0);
	ck_assert_str_eq(render(&v), "1900-01-01 00:00:00.0000001");
	simval_free(&v);
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(bad, sizeof(bad), &pos, &t, &err), -1);
	ck_assert_int_eq(err.number, 8009);
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(shortv, sizeof(shortv), &pos, &t, &err), 0);
	ck_assert_int_eq(
	    tdstype_read_value(shortv, sizeof(shortv), &pos, &t, &v, &err), -1);
	ck_assert_int_eq(err.number, 4002);
}
END_TEST

START_TEST(test_tds_mismatched_storage)
{
	/* an engine value in the wrong storage class is converted */
	ck_assert_str_eq(enc("int", vtext("7")), "2604|0407000000");
	ck_assert_str_eq(enc("decimal(5,2)", vint(3)), "6A050502|05012C010000");
	ck_assert_str_eq(enc("float", vint(2)), "6D08|080000000000000040");
	ck_assert_str_eq(enc("nvarchar(10)", vint(12)),
	    "E7140009"
	    "04D00034|040031003200");
}
END_TEST

START_TEST(test_tds_speed)
{
	struct sim_type ty[5];
	sqlite3_value *v[5];
	struct sim_error err;
	struct sbuf b;
	clock_t c0;
	double secs;
	int i, j;

	ty[0] = T("int");
	ty[1] = T("nvarchar(50)");
	ty[2] = T("decimal(18,2)");
	ty[3] = T("datetime2");
	ty[4] = T("varchar(50)");
	v[0] = vint(123456);
	v[1] = vtext("some customer name");
	v[2] = vtext("12345.67");
	v[3] = vtext("2024-01-02 03:04:05.1234567");
	v[4] = vtext("ascii text value");
	sbuf_init(&b);
	c0 = clock();
	for (i = 0; i < 400000; i++) {
		sbuf_reset(&b);
		for (j = 0; j < 5; j++)
			tdstype_write_value(&b, &ty[j], v[j], &err);
	}
	secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
	/*
	 * 2M values: the target is 2M values per second; an optimized
	 * build does about 10M.  The bound leaves room for sanitizers and
	 * -O0, and still catches a per-value allocation or reparse gone
	 * quadratic.
	 */
	ck_assert_msg(secs < 6.0 || getenv("SIMTYPES_SLOW") != NULL,
	    "2M values took %.2f s", secs);
	for (j = 0; j < 5; j++)
		sqlite3_value_free(v[j]);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_cp1252)
{
	static const unsigned int hi[32] = { 0x20ac, 0x81, 0x201a, 0x192,
		0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039,
		0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d,
		0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153,
		0x9d, 0x17e, 0x178 };
	struct sim_type t = T("varchar(100)");
	struct sim_error err;
	struct simval v;
	struct sbuf b, u;
	sqlite3_value *in;
	size_t pos = 0;
	int i;

	/* every code page 1252 character travels as its single byte */
	sbuf_init(&u);
	for (i = 0; i < 32; i++) {
		unsigned int c = hi[i];

		if (c < 0x800) {
			sbuf_u8(&u, 0xc0 | (c >> 6));
			sbuf_u8(&u, 0x80 | (c & 0x3f));
		} else {
			sbuf_u8(&u, 0xe0 | (c >> 12));
			sbuf_u8(&u, 0x80 | ((c >> 6) & 0x3f));
			sbuf_u8(&u, 0x80 | (c & 0x3f));
		}
	}
	sbuf_add(&u, "\xc2\xa0\xc3\xbf", 4); /* U+00A0, U+00FF */
	in = val_bind(SQLITE_TEXT, u.data, 0, 0, (int)u.len);
	sbuf_init(&b);
	tdstype_write_info(&b, &t);
	ck_assert_int_eq(tdstype_write_value(&b, &t, in, &err), 0);
	ck_assert_int_eq(b.len, 8 + 2 + 34);
	for (i = 0; i < 32; i++)
		ck_assert_int_eq(b.data[10 + i], 0x80 + i);
	ck_assert_int_eq(b.data[42], 0xa0);
	ck_assert_int_eq(b.data[43], 0xff);
	/* and reads back to the same characters */
	ck_assert_int_eq(tdstype_read_info(b.data, b.len, &pos, &t, &err), 0);
	ck_assert_int_eq(
	    tdstype_read_value(b.data, b.len, &pos, &t, &v, &err), 0);
	ck_assert_int_eq(v.len, u.len);
	ck_assert(memcmp(v.p, u.data, u.len) == 0);
	/* CAST keeps them too, and replaces what 1252 lacks */
	ck_assert_str_eq(
	    cv(in, "nvarchar(100)", "varchar(100)"), (const char *)v.p);
	ck_assert_str_eq(cv(vtext("\xc5\x81\xe4\xb8\xad\xe2\x82\xac"),
			     "nvarchar(10)", "varchar(10)"),
	    "??\xe2\x82\xac");
	simval_free(&v);
	sbuf_free(&b);
	sbuf_free(&u);
}
END_TEST

START_TEST(test_variant)
{
	/* decimal(5,2) 123.45 and nvarchar N'hi' as sql_variant values */
	static const unsigned char dec[] = { 0x62, 0x49, 0x1f, 0, 0, 0x09, 0, 0,
		0, 0x6a, 0x02, 0x05, 0x02, 0x01, 0x39, 0x30, 0, 0 };
	static const unsigned char nv[] = { 0x62, 0x49, 0x1f, 0, 0, 0x0d, 0, 0,
		0, 0xe7, 0x07, 0x09, 0x04, 0xd0, 0x00, 0x34, 0x40, 0x1f, 'h', 0,
		'i', 0 };
	static const unsigned char nc[] = { 0x62, 0x49, 0x1f, 0, 0, 0x0d, 0, 0,
		0, 0xef, 0x07, 0x09, 0x04, 0xd0, 0x00, 0x34, 0x06, 0x00, 'h', 0,
		'i', 0 };
	static const unsigned char g[] = { 0x62, 0x49, 0x1f, 0, 0, 0x12, 0, 0,
		0, 0x24, 0x00, 0xff, 0x19, 0x96, 0x6f, 0x86, 0x8b, 0x11, 0xd0,
		0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff };
	struct sim_type t;
	struct sim_error err;
	struct simval v;
	size_t pos;

	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(dec, sizeof(dec), &pos, &t, &err), 0);
	ck_assert_int_eq(t.id, SIMT_SQL_VARIANT);
	ck_assert_int_eq(
	    tdstype_read_value(dec, sizeof(dec), &pos, &t, &v, &err), 0);
	ck_assert_int_eq(pos, sizeof(dec));
	ck_assert_str_eq(render(&v), "123.45");
	simval_free(&v);
	pos = 5;
	ck_assert_int_eq(
	    tdstype_read_value(nv, sizeof(nv), &pos, &t, &v, &err), 0);
	ck_assert_str_eq(render(&v), "hi");
	simval_free(&v);
	pos = 5;
	ck_assert_int_eq(
	    tdstype_read_value(nc, sizeof(nc), &pos, &t, &v, &err), 0);
	ck_assert_str_eq(render(&v), "hi ");
	simval_free(&v);
	pos = 5;
	ck_assert_int_eq(
	    tdstype_read_value(g, sizeof(g), &pos, &t, &v, &err), 0);
	ck_assert_str_eq(render(&v), "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	simval_free(&v);
	/* what we write reads back */
	roundtrip("sql_variant", vint(5), 0);
	roundtrip("sql_variant", vint(INT64_MAX), 0);
	roundtrip("sql_variant", vfloat(2.5), 0);
	roundtrip("sql_variant", vtext("\xc3\xa9t\xc3\xa9"), 0);
	roundtrip("sql_variant", vblob("\x01\x02", 2), 0);
	roundtrip("sql_variant", vnull(), 0);
}
END_TEST

START_TEST(test_compare)
{
	struct sim_type t;
	sqlite3_value *a, *b;

	t = T("decimal(10,2)");
	a = vtext("10.00");
	b = vtext("9.5");
	ck_assert_int_eq(simval_compare(a, b, &t), 1);
	ck_assert_int_eq(simval_compare(b, a, &t), -1);
	sqlite3_value_free(a);
	a = vtext("9.50");
	ck_assert_int_eq(simval_compare(a, b, &t), 0);
	sqlite3_value_free(a);
	sqlite3_value_free(b);
	t = T("varchar(10)");
	a = vtext("ABC ");
	b = vtext("abc");
	ck_assert_int_eq(simval_compare(a, b, &t), 0);
	sqlite3_value_free(b);
	b = vnull();
	ck_assert_int_eq(simval_compare(b, a, &t), -1);
	sqlite3_value_free(a);
	sqlite3_value_free(b);
	t = T("varbinary(10)");
	a = vblob("\x01", 1);
	b = vblob("\x01\x00", 2);
	ck_assert_int_eq(simval_compare(a, b, &t), -1);
	sqlite3_value_free(a);
	sqlite3_value_free(b);
	t = T("int");
	a = vint(-1);
	b = vint(1);
	ck_assert_int_eq(simval_compare(a, b, &t), -1);
	sqlite3_value_free(a);
	sqlite3_value_free(b);
}
END_TEST

START_TEST(test_storage_mismatch)
{
	/* the stored class wins over a declared source type */
	ck_assert_str_eq(cv(vint(5), "varchar(10)", "int"), "5");
	ck_assert_str_eq(cv(vint(5), "varchar(10)", "varchar(10)"), "5");
	ck_assert_str_eq(
	    cv(vfloat(1.5), "decimal(5,2)", "decimal(5,2)"), "1.50");
	ck_assert_str_eq(
	    cv(vblob("ab", 2), "varchar(10)", "nvarchar(10)"), "ab");
	ck_assert_str_eq(cv(vint(3), "datetime", "int"), "3");
	ck_assert_str_eq(cv(vnull(), "int", "varchar(3)"), "NULL");
}
END_TEST

START_TEST(test_sql_assign)
{
	sqlite3_stmt *st;
	struct sim_error err;

	ck_assert_str_eq(qcol("SELECT sim_assign('ab   ', 'varchar(2)', NULL, "
			      "'t', 'c')"),
	    "ab");
	ck_assert_int_eq(sqlite3_prepare_v2(db,
			     "SELECT sim_assign('abc', 'varchar(2)', "
			     "'varchar(10)', 'd.dbo.t', 'c')",
			     -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ERROR);
	ck_assert_int_eq(sim_error_from_sqlite(sqlite3_errmsg(db), &err), 0);
	ck_assert_int_eq(err.number, 2628);
	ck_assert_str_eq(err.msg,
	    "String or binary data would be truncated in table 'd.dbo.t', "
	    "column 'c'. Truncated value: 'ab'.");
	sqlite3_finalize(st);
	ck_assert_str_eq(qcol("SELECT sim_cast('2024-01-02 15:04:00.000', "
			      "'varchar(30)', 0, 'datetime')"),
	    "Jan  2 2024  3:04PM");
	ck_assert_str_eq(
	    qcol("SELECT sim_cast(x'0102', 'varchar(10)', 1)"), "0x0102");
	/* a table keyed by canonical values orders as SQL Server */
	ck_assert_int_eq(sqlite3_exec(db,
			     "CREATE TABLE m (v TEXT COLLATE SIMDEC PRIMARY "
			     "KEY);"
			     "INSERT INTO m VALUES (sim_cast('10', 'money')),"
			     "(sim_cast('-2.5', 'money')),"
			     "(sim_cast('9.99', 'money'))",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_str_eq(
	    qcol("SELECT v FROM m ORDER BY v"), "-2.5000,9.9900,10.0000");
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO m VALUES ('10.00')",
			     NULL, NULL, NULL),
	    SQLITE_CONSTRAINT);
}
END_TEST

START_TEST(test_decimal_arith)
{
	sqlite3_stmt *st;
	struct sim_error err;

	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_add('1.5', '2.25', 5, 2)"), "3.75");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_sub('1.5', '2.25', 5, 2)"), "-0.75");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_sub('2.25', '2.250', 5, 2)"), "0.00");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_add(-3, '2.25', 5, 2)"), "-0.75");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_mul('1.5', '2.25', 10, 3)"), "3.375");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_mul('1.5', '2.25', 10, 2)"), "3.38");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_mul('-1.5', '2.25', 10, 2)"), "-3.38");
	/* division truncates: 2/3 as decimal(13,8) */
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_div('2', '3', 13, 8)"), "0.66666666");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_div('-2', '3', 13, 8)"), "-0.66666666");
	ck_assert_str_eq(qcol("SELECT sim_decimal_div('1', '3', 38, 38)"),
	    "0.33333333333333333333333333333333333333");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_div('10.00', '0.25', 10, 2)"), "40.00");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_mul("
		 "'9999999999999999999.9999999999999999999', "
		 "'9999999999999999999.9999999999999999999', 38, 0)"),
	    "99999999999999999999999999999999999998");
	ck_assert_str_eq(
	    qcol("SELECT sim_decimal_add("
		 "'0.00000000000000000000000000000000000001', 1, 38, 37)"),
	    "1.0000000000000000000000000000000000000");
	ck_assert_int_eq(
	    q1("SELECT sim_decimal_add(NULL, 1, 5, 0) IS NULL"), 1);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
			     "SELECT sim_decimal_add("
			     "'99999999999999999999999999999999999999', 1, 38, "
			     "0)",
			     -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ERROR);
	ck_assert_int_eq(sim_error_from_sqlite(sqlite3_errmsg(db), &err), 0);
	ck_assert_str_eq(err.msg,
	    "Arithmetic overflow error converting expression to data type "
	    "numeric.");
	sqlite3_finalize(st);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(
		db, "SELECT sim_decimal_div(1, '0.00', 5, 0)", -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ERROR);
	ck_assert_int_eq(sim_error_from_sqlite(sqlite3_errmsg(db), &err), 0);
	ck_assert_int_eq(err.number, 8134);
	ck_assert_str_eq(err.msg, "Divide by zero error encountered.");
	sqlite3_finalize(st);
}
END_TEST

START_TEST(test_more_edges)
{
	/* rounding into the next digit overflows the precision */
	ck_assert_str_eq(cv(vtext("999.995"), "varchar(9)", "decimal(5,2)"),
	    "E8115: Arithmetic overflow error converting varchar to data type "
	    "numeric.");
	ck_assert_str_eq(
	    cv(vtext("999.994"), "varchar(9)", "decimal(5,2)"), "999.99");
	/* float text: 17 digits first, then %.6g, 3-digit exponents */
	ck_assert_str_eq(cv(vfloat(0.1), "float", "varchar(30)"), "0.1");
	ck_assert_str_eq(
	    cv(vfloat((double)(float)0.1), "real", "varchar(30)"), "0.1");
	ck_assert_str_eq(cv(vfloat(9007199254740993.0), "float", "varchar(30)"),
	    "9.0072e+015");
	ck_assert_str_eq(
	    cv(vfloat(999999.5), "float", "varchar(30)"), "1e+006");
	ck_assert_str_eq(
	    cv(vfloat(-123.456), "float", "nvarchar(30)"), "-123.456");
	/* datetime keeps 1/300 s exactly when widened */
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.007"), "datetime", "datetime2"),
	    "2020-01-01 00:00:00.0066667");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.997"), "datetime", "time(7)"),
	    "00:00:00.9966667");
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 00:00:00.0066667"), "datetime2", "datetime"),
	    "2020-01-01 00:00:00.007");
	/* smalldatetime rounds seconds, datetime2(0) rounds fractions */
	ck_assert_str_eq(
	    cv(vtext("2020-01-01 10:00:30"), "datetime2(0)", "smalldatetime"),
	    "2020-01-01 10:01:00");
	/* tinyint is unsigned; bit keeps 0/1 */
	ck_assert_str_eq(cv(vtext("255"), "varchar(9)", "tinyint"), "255");
	ck_assert_str_eq(cv(vint(-32768), "int", "smallint"), "-32768");
	ck_assert_str_eq(cv(vint(-32769), "int", "smallint"),
	    "E220: Arithmetic overflow error for data type smallint, value = "
	    "-32769.");
	/* money to text rounds half away from zero */
	ck_assert_str_eq(cv(vtext("-0.0050"), "money", "varchar(30)"), "-0.01");
	ck_assert_str_eq(cv(vtext("0.0049"), "money", "varchar(30)"), "0.00");
	/* text and ntext take what varchar and nvarchar take */
	ck_assert_str_eq(cv(vtext("\xc4\x80"), "nvarchar(10)", "text"), "?");
	ck_assert_str_eq(
	    cv(vtext("\xc4\x80"), "nvarchar(10)", "ntext"), "\xc4\x80");
	ck_assert_str_eq(cv(vblob("\x01", 1), "image", "varchar(10)"),
	    "E529: Explicit conversion from data type image to varchar is not "
	    "allowed.");
}
END_TEST

START_TEST(test_tds_misc)
{
	static const unsigned char xml_freetds[] = { 0xf1, 0xff, 0xff };
	static const unsigned char xml_schema[] = { 0xf1, 0x01, 0x01, 'd', 0,
		0x01, 'o', 0, 0x01, 0x00, 'c', 0 };
	struct sim_type t;
	struct sim_error err;
	struct sbuf b;
	size_t pos;

	sbuf_init(&b);
	tdstype_write_tablename(&b, "dbo", "t");
	ck_assert_str_eq(hex(b.data, b.len), "020300640062006F0001007400");
	sbuf_reset(&b);
	tdstype_write_tablename(&b, NULL, NULL);
	ck_assert_str_eq(hex(b.data, b.len), "00");
	sbuf_free(&b);
	/* xml TYPE_INFO: a schema collection is skipped, junk refused */
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(xml_schema, sizeof(xml_schema), &pos, &t, &err),
	    0);
	ck_assert_int_eq(pos, sizeof(xml_schema));
	ck_assert_int_eq(t.id, SIMT_XML);
	pos = 0;
	ck_assert_int_eq(
	    tdstype_read_info(xml_freetds, sizeof(xml_freetds), &pos, &t, &err),
	    -1);
	ck_assert_int_eq(err.number, 8009);
	/* fixed-length wire types of every NOT NULL column */
	t = T("bit");
	ck_assert_int_eq(tdstype_wire(&t, 0), 0x32);
	t = T("smallmoney");
	ck_assert_int_eq(tdstype_wire(&t, 0), 0x7a);
	t = T("smalldatetime");
	ck_assert_int_eq(tdstype_wire(&t, 0), 0x3a);
	t = T("real");
	ck_assert_int_eq(tdstype_wire(&t, 0), 0x3b);
	t = T("decimal(5,2)");
	ck_assert_int_eq(tdstype_wire(&t, 0), 0x6a);
	t = T("ntext");
	ck_assert_int_eq(tdstype_wire(&t, 1), 0x63 | TDS_WIRE_TEXTPTR);
}
END_TEST

START_TEST(test_datetime_styles_named)
{
	const char *dt = "datetime", *s = "varchar(40)";

	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 15:04:05.007"), dt, s, 106), "02 Jan 2024");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 15:04:05.007"), dt, s, 6), "02 Jan 24");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 15:04:05.007"), dt, s, 107), "Jan 02, 2024");
	ck_assert_str_eq(cvf(vtext("2024-01-02 15:04:05.007"), dt, s, 109),
	    "Jan  2 2024  3:04:05:007PM");
	ck_assert_str_eq(cvf(vtext("2024-01-02 15:04:05.007"), dt, s, 113),
	    "02 Jan 2024 15:04:05:007");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 15:04:05.007"), dt, s, 114), "15:04:05:007");
	ck_assert_str_eq(cvf(vtext("2024-01-02 15:04:05.007"), dt, s, 22),
	    "01/02/24  3:04:05 PM");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02 15:04:05.1234567"), "datetime2", s, 109),
	    "Jan  2 2024  3:04:05.1234567PM");
	/* text in: the style picks the order of numeric dates */
	ck_assert_str_eq(
	    cvf(vtext("02/01/2024"), s, dt, 103), "2024-01-02 00:00:00.000");
	ck_assert_str_eq(
	    cvf(vtext("02.01.2024"), s, "date", 104), "2024-01-02");
	ck_assert_str_eq(
	    cvf(vtext("02/01/2024"), s, "date", 101), "2024-02-01");
	ck_assert_str_eq(cvf(vtext("24/01/02"), s, "date", 11), "2024-01-02");
	ck_assert_str_eq(
	    cvf(vtext("2024-01-02"), s, "date", 103), "2024-01-02");
	/* documented examples */
	ck_assert_str_eq(
	    cv(vtext("10.3496847"), "numeric(9,7)", "money"), "10.3497");
	ck_assert_str_eq(cv(vtext("10.6496"), "numeric(6,4)", "int"), "10");
	ck_assert_str_eq(cv(vtext("123.4"), "varchar(10)", "decimal"), "123");
	ck_assert_str_eq(
	    cv(vtext("123.4"), "varchar(10)", "decimal(9,2)"), "123.40");
}
END_TEST

START_TEST(test_tds_garbage)
{
	/*
	 * Whatever a client sends, reading stops at the end of the buffer:
	 * random TYPE_INFOs and values, every prefix of a valid one.
	 */
	unsigned char buf[64];
	struct sim_type t;
	struct sim_error err;
	struct simval v;
	uint32_t seed = 12345;
	size_t pos, len, i;
	int n, wire;

	for (n = 0; n < 200000; n++) {
		len = n % sizeof(buf);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = seed >> 16;
		}
		if (len > 0 && n % 3 == 0) /* favour known types */
			buf[0] = (const unsigned char[]){ 0x26, 0x6a, 0xe7,
				0xa7, 0xa5, 0x2b, 0x2a, 0x62, 0x63, 0x24, 0x6f,
				0xf1 }[n % 12];
		pos = 0;
		if (tdstype_read_info_wire(buf, len, &pos, &t, &wire, &err) ==
		    -1)
			continue;
		ck_assert_uint_le(pos, len);
		if (tdstype_read_value_wire(buf, len, &pos, &t,
			wire | (n % 2 ? TDS_WIRE_TEXTPTR : 0), &v, &err) == 0)
			simval_free(&v);
		ck_assert_uint_le(pos, len);
	}
}
END_TEST

static Suite *
simtypes_suite(void)
{
	Suite *s = suite_create("simtypes");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_names);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_storage);
	tcase_add_test(tc, test_str_to_int);
	tcase_add_test(tc, test_int_to_int);
	tcase_add_test(tc, test_decimal_edges);
	tcase_add_test(tc, test_money);
	tcase_add_test(tc, test_datetime_rounding);
	tcase_add_test(tc, test_smalldatetime);
	tcase_add_test(tc, test_datetime2);
	tcase_add_test(tc, test_datetimeoffset);
	tcase_add_test(tc, test_datetime_styles);
	tcase_add_test(tc, test_guid);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_assign_2628);
	tcase_add_test(tc, test_bit_float);
	tcase_add_test(tc, test_binary);
	tcase_add_test(tc, test_collation_ci);
	tcase_add_test(tc, test_collation_dec);
	tcase_add_test(tc, test_collation_guid);
	tcase_add_test(tc, test_collation_dto);
	tcase_add_test(tc, test_sql_functions);
	tcase_add_test(tc, test_tds_encodings);
	tcase_add_test(tc, test_tds_fixed);
	tcase_add_test(tc, test_tds_roundtrip);
	tcase_add_test(tc, test_tds_read_rpc);
	tcase_add_test(tc, test_tds_mismatched_storage);
	tcase_add_test(tc, test_tds_speed);
	tcase_add_test(tc, test_cp1252);
	tcase_add_test(tc, test_variant);
	tcase_add_test(tc, test_compare);
	tcase_add_test(tc, test_storage_mismatch);
	tcase_add_test(tc, test_sql_assign);
	tcase_add_test(tc, test_decimal_arith);
	tcase_add_test(tc, test_more_edges);
	tcase_add_test(tc, test_tds_misc);
	tcase_add_test(tc, test_datetime_styles_named);
	tcase_add_test(tc, test_tds_garbage);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(simtypes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
