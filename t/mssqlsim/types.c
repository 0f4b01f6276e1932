/*
 * SQL Server types for mssqlsim: declared types, the canonical stored
 * form of every value (sim.h) and the conversions between them, with
 * SQL Server's rounding, ranges and error messages.
 *
 * Every conversion goes through one internal representation per family
 * so that no value ever passes through a lossy step:
 *
 *   integers        int64_t
 *   decimal/money   struct typnum: sign, 128-bit magnitude, scale
 *                   (38 digits fit in 127 bits); text -> decimal is done
 *                   digit by digit, never via double
 *   float/real      double
 *   date/time       struct typdt: days since 0001-01-01, 100 ns units
 *                   since midnight, offset minutes
 *   strings         UTF-8, lengths counted as SQL Server counts them
 *                   (code page 1252 bytes, UTF-16 units)
 *   uniqueidentifier 16 bytes in wire (mixed-endian) order
 *
 * simval_convert() is the CAST of SQL Server; SIMCONV_IMPLICIT and
 * SIMCONV_ASSIGN (sim.h) give the variants implicit conversion and
 * assignment to a column need.  Conversions to the string types, the
 * collations and the SQL functions live in typestr.c, the TDS codec in
 * tdstypes.c; they share the helpers declared in typespriv.h.
 *
 * Decimal arithmetic (typnum_arith, behind sim_decimal_add() and
 * friends) is exact: products and scaled dividends of two 38-digit
 * numbers take 256 bits, which struct typu256 provides.
 */

#include <sys/types.h>

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "typespriv.h"

struct types_name;
struct typu256;

static const struct types_name *types_lookup(const char *);
static void types_fixed(struct sim_type *);
static int types_parse_sized(const struct types_name *, const int *, int, int,
    struct sim_type *, struct sim_error *);
static int types_parse_strlen(const struct types_name *, const int *, int, int,
    struct sim_type *, struct sim_error *);
static int types_parse_decimal(
    const int *, int, int, struct sim_type *, struct sim_error *);
static int types_allowed(
    const struct sim_type *, const struct sim_type *, int, struct sim_error *);
static void types_int_range(int, int64_t *, int64_t *);
static int types_int_result(int64_t, const struct sim_type *,
    const struct sim_type *, struct simval *, struct sim_error *);
static const char *types_msgstr(const struct typval *, char *, size_t);
static const char *types_strname(const struct sim_type *);
static int types_str_to_int(const struct typval *, const struct sim_type *,
    const struct sim_type *, struct simval *, struct sim_error *);
static int64_t types_bin_to_int(const unsigned char *, size_t, int);
static int types_conv_int(const struct typval *, const struct sim_type *,
    const struct sim_type *, struct simval *, struct sim_error *);
static int types_conv_bit(const struct typval *, const struct sim_type *,
    const struct sim_type *, struct simval *, struct sim_error *);
static int types_parse_float(const char *, size_t, double *);
static int types_conv_float(const struct typval *, const struct sim_type *,
    const struct sim_type *, struct simval *, struct sim_error *);
static int typnum_fits_scale(const struct typnum *, int);
static int types_num_overflow(
    const struct sim_type *, const struct sim_type *, struct sim_error *);
static int types_num_fits(const struct typnum *, const struct sim_type *);
static int types_str_to_num(const struct typval *, const struct sim_type *,
    const struct sim_type *, struct typnum *, struct sim_error *);
static int types_conv_num(const struct typval *, const struct sim_type *,
    const struct sim_type *, struct simval *, struct sim_error *);
static int typdt_mdays(int, int);
static int typdt_num(const char **, const char *, int, int, int *);
static int typdt_month(const char **, const char *);
static int typdt_date(const char **, const char *, int, int *, int *, int *);
static int typdt_time(const char **, const char *, struct typdt *);
static int typdt_offset(const char **, const char *, struct typdt *);
static void typdt_round_small(struct typdt *);
static size_t typdt_fmt_time(int64_t, int, char *);
static size_t typdt_fmt_date(int32_t, char *);
static size_t typdt_fmt_offset(int, char *);
static int typdt_fit(struct typdt *, const struct sim_type *);
static int types_str_to_dt(const struct typval *, const struct sim_type *, int,
    const struct sim_type *, struct typdt *, struct sim_error *);
static int types_num_to_dt(const struct typval *, const struct sim_type *,
    struct typdt *, struct sim_error *);
static int types_conv_dt(const struct typval *, const struct sim_type *, int,
    const struct sim_type *, struct simval *, struct sim_error *);
static int types_hex(int);
static int types_conv_guid(const struct typval *, const struct sim_type *,
    const struct sim_type *, struct simval *, struct sim_error *);
static int types_hex_to_bin(const char *, size_t, int, struct simval *);
static int types_bin_fit(
    struct simval *, const struct sim_type *, int, struct sim_error *);
static int types_conv_bin(const struct typval *, const struct sim_type *,
    const struct sim_type *, int, struct simval *, struct sim_error *);
static struct typu256 typnum_mul128(typu128, typu128);
static int typnum_mul10(struct typu256 *);
static struct typu256 typnum_divmod(struct typu256, typu128, typu128 *);
static void typnum_add256(struct typu256 *, const struct typu256 *);
static void typnum_sub256(struct typu256 *, const struct typu256 *);
static int typnum_cmp256(const struct typu256 *, const struct typu256 *);
static int typnum_scale256(struct typu256 *, int, int);

struct types_name {
	const char *name;
	int id;
	int len; /* fixed maxlen; 0 = sized by arguments */
};

/* Type names and synonyms, lower case, single spaces. */
static const struct types_name types_names[] = {
	{ "bigint", SIMT_BIGINT, 8 },
	{ "binary", SIMT_BINARY, 0 },
	{ "binary varying", SIMT_VARBINARY, 0 },
	{ "bit", SIMT_BIT, 1 },
	{ "char", SIMT_CHAR, 0 },
	{ "char varying", SIMT_VARCHAR, 0 },
	{ "character", SIMT_CHAR, 0 },
	{ "character varying", SIMT_VARCHAR, 0 },
	{ "date", SIMT_DATE, 3 },
	{ "datetime", SIMT_DATETIME, 8 },
	{ "datetime2", SIMT_DATETIME2, 0 },
	{ "datetimeoffset", SIMT_DATETIMEOFFSET, 0 },
	{ "dec", SIMT_DECIMAL, 0 },
	{ "decimal", SIMT_DECIMAL, 0 },
	{ "double precision", SIMT_FLOAT, 0 },
	{ "float", SIMT_FLOAT, 0 },
	{ "image", SIMT_IMAGE, 16 },
	{ "int", SIMT_INT, 4 },
	{ "integer", SIMT_INT, 4 },
	{ "money", SIMT_MONEY, 8 },
	{ "national char", SIMT_NCHAR, 0 },
	{ "national char varying", SIMT_NVARCHAR, 0 },
	{ "national character", SIMT_NCHAR, 0 },
	{ "national character varying", SIMT_NVARCHAR, 0 },
	{ "national text", SIMT_NTEXT, 16 },
	{ "nchar", SIMT_NCHAR, 0 },
	{ "ntext", SIMT_NTEXT, 16 },
	{ "numeric", SIMT_NUMERIC, 0 },
	{ "nvarchar", SIMT_NVARCHAR, 0 },
	{ "real", SIMT_REAL, 4 },
	{ "rowversion", SIMT_TIMESTAMP, 8 },
	{ "smalldatetime", SIMT_SMALLDATETIME, 4 },
	{ "smallint", SIMT_SMALLINT, 2 },
	{ "smallmoney", SIMT_SMALLMONEY, 4 },
	{ "sql_variant", SIMT_SQL_VARIANT, 8016 },
	{ "sysname", SIMT_NVARCHAR, 256 },
	{ "text", SIMT_TEXT, 16 },
	{ "time", SIMT_TIME, 0 },
	{ "timestamp", SIMT_TIMESTAMP, 8 },
	{ "tinyint", SIMT_TINYINT, 1 },
	{ "uniqueidentifier", SIMT_UNIQUEIDENTIFIER, 16 },
	{ "varbinary", SIMT_VARBINARY, 0 },
	{ "varchar", SIMT_VARCHAR, 0 },
	{ "xml", SIMT_XML, -1 },
};

/* Look a (normalized) type name up. */
static const struct types_name *
types_lookup(const char *name)
{
	char buf[64];
	size_t i, j = 0;
	int space = 0;

	if (*name == '[')
		name++;
	for (i = 0; name[i] != '\0' && name[i] != ']'; i++) {
		if (isspace((unsigned char)name[i])) {
			space = j != 0;
			continue;
		}
		if (j + 2 >= sizeof(buf))
			return (NULL);
		if (space)
			buf[j++] = ' ';
		space = 0;
		buf[j++] = tolower((unsigned char)name[i]);
	}
	buf[j] = '\0';
	for (i = 0; i < sizeof(types_names) / sizeof(types_names[0]); i++)
		if (strcmp(types_names[i].name, buf) == 0)
			return (&types_names[i]);
	return (NULL);
}

/* The base name of a type, as SQL Server's messages print it. */
const char *
simtype_name(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_IMAGE:
		return ("image");
	case SIMT_TEXT:
		return ("text");
	case SIMT_UNIQUEIDENTIFIER:
		return ("uniqueidentifier");
	case SIMT_DATE:
		return ("date");
	case SIMT_TIME:
		return ("time");
	case SIMT_DATETIME2:
		return ("datetime2");
	case SIMT_DATETIMEOFFSET:
		return ("datetimeoffset");
	case SIMT_TINYINT:
		return ("tinyint");
	case SIMT_SMALLINT:
		return ("smallint");
	case SIMT_INT:
		return ("int");
	case SIMT_SMALLDATETIME:
		return ("smalldatetime");
	case SIMT_REAL:
		return ("real");
	case SIMT_MONEY:
		return ("money");
	case SIMT_DATETIME:
		return ("datetime");
	case SIMT_FLOAT:
		return ("float");
	case SIMT_SQL_VARIANT:
		return ("sql_variant");
	case SIMT_NTEXT:
		return ("ntext");
	case SIMT_BIT:
		return ("bit");
	case SIMT_DECIMAL:
		return ("decimal");
	case SIMT_NUMERIC:
		return ("numeric");
	case SIMT_SMALLMONEY:
		return ("smallmoney");
	case SIMT_BIGINT:
		return ("bigint");
	case SIMT_VARBINARY:
		return ("varbinary");
	case SIMT_VARCHAR:
		return ("varchar");
	case SIMT_BINARY:
		return ("binary");
	case SIMT_CHAR:
		return ("char");
	case SIMT_TIMESTAMP:
		return ("timestamp");
	case SIMT_NVARCHAR:
		return ("nvarchar");
	case SIMT_NCHAR:
		return ("nchar");
	case SIMT_XML:
		return ("xml");
	}
	return ("unknown");
}

/* Bytes a decimal of precision p takes (sys.columns.max_length). */
int
simtype_decimal_len(int p)
{
	if (p <= 9)
		return (5);
	if (p <= 19)
		return (9);
	if (p <= 28)
		return (13);
	return (17);
}

/* Bytes of the time part of time(n), datetime2(n), datetimeoffset(n). */
int
simtype_time_len(int scale)
{
	if (scale <= 2)
		return (3);
	if (scale <= 4)
		return (4);
	return (5);
}

/* Fill precision and scale for types without arguments. */
static void
types_fixed(struct sim_type *t)
{
	switch (t->id) {
	case SIMT_TINYINT:
		t->precision = 3;
		break;
	case SIMT_SMALLINT:
		t->precision = 5;
		break;
	case SIMT_INT:
		t->precision = 10;
		break;
	case SIMT_BIGINT:
		t->precision = 19;
		break;
	case SIMT_BIT:
		t->precision = 1;
		break;
	case SIMT_MONEY:
		t->precision = 19;
		t->scale = 4;
		break;
	case SIMT_SMALLMONEY:
		t->precision = 10;
		t->scale = 4;
		break;
	case SIMT_DATE:
		t->precision = 10;
		break;
	case SIMT_DATETIME:
		t->precision = 23;
		t->scale = 3;
		break;
	case SIMT_SMALLDATETIME:
		t->precision = 16;
		break;
	case SIMT_REAL:
		t->precision = 24;
		break;
	}
}

/*
 * Parse a T-SQL type name and its arguments (args[i] = -1 for "max")
 * into a declared type.  colno numbers the column, parameter or
 * variable in messages.
 */
int
simtype_parse_column(const char *name, const int *args, int nargs, int colno,
    struct sim_type *t, struct sim_error *err)
{
	const struct types_name *tn;

	memset(t, 0, sizeof(*t));
	if ((tn = types_lookup(name)) == NULL) {
		sim_error_set(err, 2715, 16, 6,
		    "Column, parameter, or variable #%d: Cannot find data "
		    "type %s.",
		    colno, name);
		return (-1);
	}
	t->id = tn->id;
	if (tn->len != 0) {
		if (nargs > 0 && strcmp(tn->name, "sysname") != 0) {
			sim_error_set(err, 2716, 16, 1,
			    "Column, parameter, or variable #%d: Cannot "
			    "specify a column width on data type %s.",
			    colno, tn->name);
			return (-1);
		}
		t->maxlen = tn->len;
		types_fixed(t);
		return (0);
	}
	return (types_parse_sized(tn, args, nargs, colno, t, err));
}

/* Parse a T-SQL type name and its arguments into a declared type. */
int
simtype_parse(const char *name, const int *args, int nargs, struct sim_type *t,
    struct sim_error *err)
{
	return (simtype_parse_column(name, args, nargs, 1, t, err));
}

/* Types whose size comes from arguments. */
static int
types_parse_sized(const struct types_name *tn, const int *args, int nargs,
    int colno, struct sim_type *t, struct sim_error *err)
{
	int n;

	switch (t->id) {
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
		return (types_parse_decimal(args, nargs, colno, t, err));
	case SIMT_FLOAT:
		n = nargs > 0 ? args[0] : 53;
		if (nargs > 1 || n < 1) {
			sim_error_set(err, 1001, 16, 1,
			    "Line 1: Length or precision specification %d "
			    "is invalid.",
			    n);
			return (-1);
		}
		if (n > 53) {
			sim_error_set(err, 2750, 16, 1,
			    "Column or parameter #%d: Specified column "
			    "precision %d is greater than the maximum "
			    "precision of 53.",
			    colno, n);
			return (-1);
		}
		t->id = n <= 24 ? SIMT_REAL : SIMT_FLOAT;
		t->maxlen = n <= 24 ? 4 : 8;
		t->precision = n <= 24 ? 24 : 53;
		return (0);
	case SIMT_TIME:
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		n = nargs > 0 ? args[0] : 7;
		if (nargs > 1 || n < 0 || n > 7) {
			sim_error_set(err, 1002, 16, 1,
			    "Line 1: Specified scale %d is invalid.", n);
			return (-1);
		}
		t->scale = n;
		t->maxlen = simtype_time_len(n) +
		    (t->id == SIMT_TIME               ? 0
			    : t->id == SIMT_DATETIME2 ? 3
						      : 5);
		t->precision = (t->id == SIMT_TIME               ? 8
				       : t->id == SIMT_DATETIME2 ? 19
								 : 26) +
		    (n > 0 ? n + 1 : 0);
		return (0);
	}
	return (types_parse_strlen(tn, args, nargs, colno, t, err));
}

/* char, varchar, nchar, nvarchar, binary, varbinary. */
static int
types_parse_strlen(const struct types_name *tn, const int *args, int nargs,
    int colno, struct sim_type *t, struct sim_error *err)
{
	int n, limit, wide;

	(void)colno;
	n = nargs > 0 ? args[0] : 1;
	wide = t->id == SIMT_NCHAR || t->id == SIMT_NVARCHAR;
	limit = wide ? 4000 : 8000;
	if (nargs > 1 || n == 0 || n < -1) {
		sim_error_set(err, 1001, 16, 1,
		    "Line 1: Length or precision specification %d is "
		    "invalid.",
		    n);
		return (-1);
	}
	if (n == -1 &&
	    (t->id == SIMT_CHAR || t->id == SIMT_NCHAR ||
		t->id == SIMT_BINARY)) {
		sim_error_set(err, 2716, 16, 1,
		    "Column, parameter, or variable #%d: Cannot specify a "
		    "column width on data type %s.",
		    colno, tn->name);
		return (-1);
	}
	if (n > limit) {
		sim_error_set(err, 131, 15, 2,
		    "The size (%d) given to the type '%s' exceeds the "
		    "maximum allowed for any data type (%d).",
		    n, simtype_name(t), limit);
		return (-1);
	}
	t->maxlen = n == -1 ? -1 : wide ? 2 * n : n;
	return (0);
}

/* decimal(p, s) and numeric(p, s). */
static int
types_parse_decimal(const int *args, int nargs, int colno, struct sim_type *t,
    struct sim_error *err)
{
	int p, s;

	p = nargs > 0 ? args[0] : 18;
	s = nargs > 1 ? args[1] : 0;
	if (nargs > 2 || p < 1) {
		sim_error_set(err, 1001, 16, 1,
		    "Line 1: Length or precision specification %d is "
		    "invalid.",
		    p);
		return (-1);
	}
	if (p > 38) {
		sim_error_set(err, 2750, 16, 1,
		    "Column or parameter #%d: Specified column precision %d "
		    "is greater than the maximum precision of 38.",
		    colno, p);
		return (-1);
	}
	if (s < 0) {
		sim_error_set(err, 1002, 16, 1,
		    "Line 1: Specified scale %d is invalid.", s);
		return (-1);
	}
	if (s > p) {
		sim_error_set(err, 2751, 16, 1,
		    "Column or parameter #%d: Specified column scale %d is "
		    "greater than the specified precision of %d.",
		    colno, s, p);
		return (-1);
	}
	t->precision = p;
	t->scale = s;
	t->maxlen = simtype_decimal_len(p);
	return (0);
}

/*
 * Parse a type as written in T-SQL, "decimal(10, 2)", "varchar(max)",
 * "double precision".  With cast set, an omitted string length is 30
 * (CAST and CONVERT) instead of 1 (declarations).
 */
int
simtype_parse_text(
    const char *text, int cast, struct sim_type *t, struct sim_error *err)
{
	char name[64];
	const char *p, *q;
	int args[2] = { 0, 0 }, nargs = 0;
	size_t n;

	if ((p = strchr(text, '(')) == NULL)
		p = text + strlen(text);
	n = p - text;
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, text, n);
	name[n] = '\0';
	if (*p == '(') {
		for (q = p + 1; *q != '\0' && *q != ')' && nargs < 2;) {
			while (isspace((unsigned char)*q))
				q++;
			if (strncasecmp(q, "max", 3) == 0) {
				args[nargs++] = -1;
				q += 3;
			} else
				args[nargs++] = (int)strtol(q, (char **)&q, 10);
			while (isspace((unsigned char)*q) || *q == ',')
				q++;
		}
	}
	if (simtype_parse(name, args, nargs, t, err) == -1)
		return (-1);
	if (cast && nargs == 0 && simtype_is_string(t) && t->maxlen > 0 &&
	    !simtype_is_lob(t) && t->id != SIMT_XML)
		t->maxlen *= 30;
	if (cast && nargs == 0 &&
	    (t->id == SIMT_BINARY || t->id == SIMT_VARBINARY))
		t->maxlen = 30;
	return (0);
}

/* Write the type as T-SQL: "decimal(38,2)", "nvarchar(max)", "int". */
char *
simtype_format(const struct sim_type *t, char *buf, size_t len)
{
	const char *name = simtype_name(t);

	switch (t->id) {
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
		snprintf(buf, len, "%s(%d,%d)", name, t->precision, t->scale);
		break;
	case SIMT_TIME:
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		snprintf(buf, len, "%s(%d)", name, t->scale);
		break;
	case SIMT_CHAR:
	case SIMT_VARCHAR:
	case SIMT_BINARY:
	case SIMT_VARBINARY:
		if (t->maxlen == -1)
			snprintf(buf, len, "%s(max)", name);
		else
			snprintf(buf, len, "%s(%d)", name, t->maxlen);
		break;
	case SIMT_NCHAR:
	case SIMT_NVARCHAR:
		if (t->maxlen == -1)
			snprintf(buf, len, "%s(max)", name);
		else
			snprintf(buf, len, "%s(%d)", name, t->maxlen / 2);
		break;
	default:
		snprintf(buf, len, "%s", name);
		break;
	}
	return (buf);
}

/* The SQLite storage class of the canonical form. */
int
simtype_storage(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_TINYINT:
	case SIMT_SMALLINT:
	case SIMT_INT:
	case SIMT_BIGINT:
	case SIMT_BIT:
		return (SQLITE_INTEGER);
	case SIMT_REAL:
	case SIMT_FLOAT:
		return (SQLITE_FLOAT);
	case SIMT_BINARY:
	case SIMT_VARBINARY:
	case SIMT_IMAGE:
	case SIMT_TIMESTAMP:
		return (SQLITE_BLOB);
	case SIMT_SQL_VARIANT:
		return (SQLITE_NULL);
	}
	return (SQLITE_TEXT);
}

/* The collation a column of this type needs, or NULL. */
const char *
simtype_collation(const struct sim_type *t)
{
	if (simtype_is_string(t))
		return ("SIMCI");
	switch (t->id) {
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
	case SIMT_MONEY:
	case SIMT_SMALLMONEY:
		return ("SIMDEC");
	case SIMT_UNIQUEIDENTIFIER:
		return ("SIMGUID");
	case SIMT_DATETIMEOFFSET:
		return ("SIMDTO");
	}
	return (NULL);
}

/* char, varchar, nchar, nvarchar, text, ntext, xml. */
int
simtype_is_string(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_CHAR:
	case SIMT_VARCHAR:
	case SIMT_NCHAR:
	case SIMT_NVARCHAR:
	case SIMT_TEXT:
	case SIMT_NTEXT:
	case SIMT_XML:
		return (1);
	}
	return (0);
}

/* nchar, nvarchar, ntext, xml. */
int
simtype_is_unicode(const struct sim_type *t)
{
	return (t->id == SIMT_NCHAR || t->id == SIMT_NVARCHAR ||
	    t->id == SIMT_NTEXT || t->id == SIMT_XML);
}

/* binary, varbinary, image, timestamp. */
int
simtype_is_binary(const struct sim_type *t)
{
	return (t->id == SIMT_BINARY || t->id == SIMT_VARBINARY ||
	    t->id == SIMT_IMAGE || t->id == SIMT_TIMESTAMP);
}

/* Exact and approximate numbers, money and bit. */
int
simtype_is_numeric(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_TINYINT:
	case SIMT_SMALLINT:
	case SIMT_INT:
	case SIMT_BIGINT:
	case SIMT_BIT:
	case SIMT_REAL:
	case SIMT_FLOAT:
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
	case SIMT_MONEY:
	case SIMT_SMALLMONEY:
		return (1);
	}
	return (0);
}

/* date, time, datetime, smalldatetime, datetime2, datetimeoffset. */
int
simtype_is_datetime(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_DATE:
	case SIMT_TIME:
	case SIMT_DATETIME:
	case SIMT_SMALLDATETIME:
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		return (1);
	}
	return (0);
}

/* Large values: (max) types, text, ntext, image, xml. */
int
simtype_is_lob(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_TEXT:
	case SIMT_NTEXT:
	case SIMT_IMAGE:
	case SIMT_XML:
		return (1);
	case SIMT_VARCHAR:
	case SIMT_NVARCHAR:
	case SIMT_VARBINARY:
		return (t->maxlen == -1);
	}
	return (0);
}

/* text, ntext, image: the legacy types sent with a text pointer. */
int
simtype_is_textptr(const struct sim_type *t)
{
	return (
	    t->id == SIMT_TEXT || t->id == SIMT_NTEXT || t->id == SIMT_IMAGE);
}

/* Conversions. */

/* Fill an owned value. */
void
typval_set_text(struct simval *out, const char *p, size_t len)
{
	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_TEXT;
	out->p = util_xmalloc(len + 1);
	if (len != 0)
		memcpy(out->p, p, len);
	out->p[len] = '\0';
	out->len = len;
}

void
typval_set_blob(struct simval *out, const void *p, size_t len)
{
	typval_set_text(out, p, len);
	out->kind = SQLITE_BLOB;
}

void
typval_set_int(struct simval *out, int64_t i)
{
	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_INTEGER;
	out->i = i;
}

void
typval_set_float(struct simval *out, double f)
{
	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_FLOAT;
	out->f = f;
}

/* A borrowed view of an SQLite value. */
void
typval_from_sqlite(struct typval *v, sqlite3_value *sv)
{
	memset(v, 0, sizeof(*v));
	v->kind = sqlite3_value_type(sv);
	switch (v->kind) {
	case SQLITE_INTEGER:
		v->i = sqlite3_value_int64(sv);
		break;
	case SQLITE_FLOAT:
		v->f = sqlite3_value_double(sv);
		break;
	case SQLITE_TEXT:
		v->p = sqlite3_value_text(sv);
		v->len = sqlite3_value_bytes(sv);
		break;
	case SQLITE_BLOB:
		v->p = sqlite3_value_blob(sv);
		v->len = sqlite3_value_bytes(sv);
		break;
	}
}

/* A borrowed view of an owned value. */
void
typval_from_simval(struct typval *v, const struct simval *sv)
{
	memset(v, 0, sizeof(*v));
	v->kind = sv->kind;
	v->i = sv->i;
	v->f = sv->f;
	v->p = sv->p;
	v->len = sv->len;
}

/* The declared type a bare SQLite value stands for. */
void
typval_infer(const struct typval *v, struct sim_type *t)
{
	memset(t, 0, sizeof(*t));
	switch (v->kind) {
	case SQLITE_INTEGER:
		t->id = v->i >= INT32_MIN && v->i <= INT32_MAX ? SIMT_INT
							       : SIMT_BIGINT;
		t->maxlen = t->id == SIMT_INT ? 4 : 8;
		break;
	case SQLITE_FLOAT:
		t->id = SIMT_FLOAT;
		t->maxlen = 8;
		break;
	case SQLITE_BLOB:
		t->id = SIMT_VARBINARY;
		t->maxlen = -1;
		break;
	default:
		t->id = SIMT_NVARCHAR;
		t->maxlen = -1;
		break;
	}
	types_fixed(t);
}

/* The message for a conversion SQL Server does not allow. */
int
types_err_notallowed(const struct sim_type *from, const struct sim_type *to,
    int flags, struct sim_error *err)
{
	char a[64], b[64];

	/* bare names, but "nvarchar(max)" for (max) types */
	snprintf(a, sizeof(a), "%s%s", simtype_name(from),
	    from->maxlen == -1 && from->id != SIMT_XML ? "(max)" : "");
	snprintf(b, sizeof(b), "%s%s", simtype_name(to),
	    to->maxlen == -1 && to->id != SIMT_XML ? "(max)" : "");
	if (flags & SIMCONV_IMPLICIT)
		sim_error_set(err, 257, 16, 3,
		    "Implicit conversion from data type %s to %s is not "
		    "allowed. Use the CONVERT function to run this query.",
		    a, b);
	else
		sim_error_set(err, 529, 16, 2,
		    "Explicit conversion from data type %s to %s is not "
		    "allowed.",
		    a, b);
	return (-1);
}

/* Is the conversion allowed at all (CAST), or only explicitly? */
static int
types_allowed(const struct sim_type *from, const struct sim_type *to, int flags,
    struct sim_error *err)
{
	int fd = simtype_is_datetime(from), td = simtype_is_datetime(to);
	int fold = from->id == SIMT_DATETIME || from->id == SIMT_SMALLDATETIME;
	int told = to->id == SIMT_DATETIME || to->id == SIMT_SMALLDATETIME;
	int fnum = simtype_is_numeric(from), tnum = simtype_is_numeric(to);

	if (from->id == SIMT_SQL_VARIANT || to->id == SIMT_SQL_VARIANT)
		return (0);
	if ((fd && tnum && !fold) || (td && tnum && !fnum && !told) ||
	    (fnum && td && !told))
		return (types_err_notallowed(from, to, 0, err));
	if ((from->id == SIMT_UNIQUEIDENTIFIER && (tnum || td)) ||
	    (to->id == SIMT_UNIQUEIDENTIFIER && (fnum || fd)))
		return (types_err_notallowed(from, to, 0, err));
	if (((from->id == SIMT_TEXT || from->id == SIMT_NTEXT ||
		 from->id == SIMT_XML) &&
		(tnum || td || to->id == SIMT_UNIQUEIDENTIFIER)) ||
	    ((to->id == SIMT_TEXT || to->id == SIMT_NTEXT) &&
		(fnum || fd || from->id == SIMT_UNIQUEIDENTIFIER)))
		return (types_err_notallowed(from, to, 0, err));
	if ((simtype_is_binary(from) &&
		(td || to->id == SIMT_REAL || to->id == SIMT_FLOAT)) ||
	    (fd && simtype_is_binary(to) && !fold))
		return (types_err_notallowed(from, to, 0, err));
	if ((to->id == SIMT_XML &&
		(fnum || fd || from->id == SIMT_UNIQUEIDENTIFIER)) ||
	    (from->id == SIMT_IMAGE && simtype_is_string(to)) ||
	    (from->id == SIMT_TIME && to->id == SIMT_DATE) ||
	    (from->id == SIMT_DATE && to->id == SIMT_TIME))
		return (types_err_notallowed(from, to, 0, err));
	if ((flags & SIMCONV_IMPLICIT) &&
	    ((simtype_is_string(from) && simtype_is_binary(to)) ||
		(fold && tnum)))
		return (types_err_notallowed(from, to, flags, err));
	return (0);
}

/*
 * Convert a value of type from to type to (CAST when flags has no
 * SIMCONV_ bits; the low 16 bits are CONVERT's style).
 */
int
typval_convert(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, int flags, struct simval *out,
    struct sim_error *err)
{
	struct sim_type inferred;

	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_NULL;
	if (in->kind == SQLITE_NULL)
		return (0);
	/*
	 * A value stored in another class than its type's (an engine
	 * expression, a bare SQLite value) is taken for what it is; a
	 * BLOB passes for text.
	 */
	if (from == NULL || from->id == SIMT_SQL_VARIANT ||
	    (simtype_storage(from) != in->kind &&
		!(simtype_is_string(from) && in->kind == SQLITE_BLOB))) {
		typval_infer(in, &inferred);
		from = &inferred;
	}
	if (types_allowed(from, to, flags, err) == -1)
		return (-1);
	switch (to->id) {
	case SIMT_TINYINT:
	case SIMT_SMALLINT:
	case SIMT_INT:
	case SIMT_BIGINT:
		return (types_conv_int(in, from, to, out, err));
	case SIMT_BIT:
		return (types_conv_bit(in, from, to, out, err));
	case SIMT_REAL:
	case SIMT_FLOAT:
		return (types_conv_float(in, from, to, out, err));
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
	case SIMT_MONEY:
	case SIMT_SMALLMONEY:
		return (types_conv_num(in, from, to, out, err));
	case SIMT_DATE:
	case SIMT_TIME:
	case SIMT_DATETIME:
	case SIMT_SMALLDATETIME:
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		return (types_conv_dt(in, from, flags, to, out, err));
	case SIMT_UNIQUEIDENTIFIER:
		return (types_conv_guid(in, from, to, out, err));
	case SIMT_BINARY:
	case SIMT_VARBINARY:
	case SIMT_IMAGE:
	case SIMT_TIMESTAMP:
		return (types_conv_bin(in, from, to, flags, out, err));
	case SIMT_SQL_VARIANT:
		return (types_conv_variant(in, from, out));
	}
	return (types_conv_str(in, from, to, flags, out, err));
}

/* sql_variant keeps the value as it is. */
int
types_conv_variant(
    const struct typval *in, const struct sim_type *from, struct simval *out)
{
	(void)from;
	switch (in->kind) {
	case SQLITE_INTEGER:
		typval_set_int(out, in->i);
		break;
	case SQLITE_FLOAT:
		typval_set_float(out, in->f);
		break;
	case SQLITE_BLOB:
		typval_set_blob(out, in->p, in->len);
		break;
	default:
		typval_set_text(out, (const char *)in->p, in->len);
		break;
	}
	return (0);
}

/* CAST/CONVERT an SQLite value into the canonical form of type to. */
int
simval_convert(sqlite3_value *sv, const struct sim_type *from,
    const struct sim_type *to, int flags, struct simval *out,
    struct sim_error *err)
{
	struct typval v;

	typval_from_sqlite(&v, sv);
	return (typval_convert(&v, from, to, flags, out, err));
}

/* Integers. */

/* Source family of a type. */
int
types_family(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_TINYINT:
	case SIMT_SMALLINT:
	case SIMT_INT:
	case SIMT_BIGINT:
		return (TYPF_INT);
	case SIMT_BIT:
		return (TYPF_BIT);
	case SIMT_REAL:
	case SIMT_FLOAT:
		return (TYPF_FLOAT);
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
	case SIMT_MONEY:
	case SIMT_SMALLMONEY:
		return (TYPF_NUM);
	case SIMT_DATE:
	case SIMT_TIME:
	case SIMT_DATETIME:
	case SIMT_SMALLDATETIME:
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		return (TYPF_DT);
	case SIMT_UNIQUEIDENTIFIER:
		return (TYPF_GUID);
	case SIMT_BINARY:
	case SIMT_VARBINARY:
	case SIMT_IMAGE:
	case SIMT_TIMESTAMP:
		return (TYPF_BIN);
	}
	return (TYPF_STR);
}

/* The range of an integer type. */
static void
types_int_range(int id, int64_t *lo, int64_t *hi)
{
	switch (id) {
	case SIMT_TINYINT:
		*lo = 0;
		*hi = 255;
		break;
	case SIMT_SMALLINT:
		*lo = INT16_MIN;
		*hi = INT16_MAX;
		break;
	case SIMT_INT:
		*lo = INT32_MIN;
		*hi = INT32_MAX;
		break;
	default:
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		break;
	}
}

/* An integer result of type to, checked against its range. */
static int
types_int_result(int64_t i, const struct sim_type *from,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	int64_t lo, hi;

	types_int_range(to->id, &lo, &hi);
	if (i < lo || i > hi) {
		if (types_family(from) == TYPF_INT &&
		    (to->id == SIMT_TINYINT || to->id == SIMT_SMALLINT))
			sim_error_set(err, 220, 16, 2,
			    "Arithmetic overflow error for data type %s, "
			    "value = %lld.",
			    simtype_name(to), (long long)i);
		else
			sim_error_set(err, 8115, 16, 2,
			    "Arithmetic overflow error converting %s to data "
			    "type %s.",
			    types_family(from) == TYPF_NUM ? "numeric"
							   : "expression",
			    simtype_name(to));
		return (-1);
	}
	typval_set_int(out, i);
	return (0);
}

/*
 * Text to integer as SQL Server parses it: ASCII spaces around, a sign
 * that may be followed by spaces, digits; "", "  ", "+" and "-" are 0.
 * Returns 0, -1 for bad syntax, -2 for overflow of int64.
 */
int
types_parse_int(const char *s, size_t len, int64_t *out)
{
	const char *end = s + len;
	uint64_t v = 0;
	int neg = 0, digits = 0;

	while (s < end && *s == ' ')
		s++;
	if (s < end && (*s == '+' || *s == '-')) {
		neg = *s++ == '-';
		while (s < end && *s == ' ')
			s++;
	}
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			digits = -1000;
		else
			v = v * 10 + (*s - '0');
		digits++;
	}
	while (s < end && *s == ' ')
		s++;
	if (s != end)
		return (-1);
	if (digits < 0 || v > (uint64_t)INT64_MAX + neg)
		return (-2);
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return (0);
}

/* A printable copy of a string value for messages. */
static const char *
types_msgstr(const struct typval *in, char *buf, size_t len)
{
	size_t n = in->len < len - 1 ? in->len : len - 1;

	memcpy(buf, in->p, n);
	buf[n] = '\0';
	return (buf);
}

/* The base type name of a string source for messages. */
static const char *
types_strname(const struct sim_type *from)
{
	if (from->id == SIMT_CHAR)
		return ("varchar");
	if (from->id == SIMT_NCHAR)
		return ("nvarchar");
	return (simtype_name(from));
}

/* Text to tinyint, smallint, int or bigint. */
static int
types_str_to_int(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	char buf[512];
	int64_t i, lo, hi;
	int rc;

	rc = types_parse_int((const char *)in->p, in->len, &i);
	types_int_range(to->id, &lo, &hi);
	if (rc == 0 && i >= lo && i <= hi) {
		typval_set_int(out, i);
		return (0);
	}
	types_msgstr(in, buf, sizeof(buf));
	if (rc == -1 && to->id == SIMT_BIGINT)
		sim_error_set(err, 8114, 16, 5,
		    "Error converting data type %s to bigint.",
		    types_strname(from));
	else if (rc == -1)
		sim_error_set(err, 245, 16, 1,
		    "Conversion failed when converting the %s value '%s' to "
		    "data type %s.",
		    types_strname(from), buf, simtype_name(to));
	else if (to->id == SIMT_BIGINT)
		sim_error_set(err, 8115, 16, 2,
		    "Arithmetic overflow error converting expression to data "
		    "type bigint.");
	else if (to->id == SIMT_INT)
		sim_error_set(err, 248, 16, 1,
		    "The conversion of the %s value '%s' overflowed an int "
		    "column.",
		    types_strname(from), buf);
	else
		sim_error_set(err, 244, 16, to->id == SIMT_TINYINT ? 1 : 2,
		    "The conversion of the %s value '%s' overflowed an %s "
		    "column. Use a larger integer column.",
		    types_strname(from), buf,
		    to->id == SIMT_TINYINT ? "INT1" : "INT2");
	return (-1);
}

/* Big-endian bytes (the rightmost 8) to an integer. */
static int64_t
types_bin_to_int(const unsigned char *p, size_t len, int bytes)
{
	uint64_t v = 0;
	size_t i, start;

	start = len > (size_t)bytes ? len - bytes : 0;
	for (i = start; i < len; i++)
		v = (v << 8) | p[i];
	if (bytes < 8 && len >= (size_t)bytes && bytes > 1 &&
	    (v >> (bytes * 8 - 1)) & 1)
		v |= ~(uint64_t)0 << (bytes * 8);
	return ((int64_t)v);
}

/* Convert to an integer type. */
static int
types_conv_int(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	struct typnum n;
	struct typdt dt;
	double f;
	int64_t lo, hi;
	int bytes;

	switch (types_family(from)) {
	case TYPF_INT:
	case TYPF_BIT:
		return (types_int_result(typval_int(in), from, to, out, err));
	case TYPF_FLOAT:
		f = typval_float(in);
		if (!(f > -9223372036854775808.0 && f < 9223372036854775808.0))
			return (types_float_overflow(f, to, err));
		types_int_range(to->id, &lo, &hi);
		if (trunc(f) < (double)lo || trunc(f) > (double)hi)
			return (types_float_overflow(f, to, err));
		typval_set_int(out, (int64_t)trunc(f));
		return (0);
	case TYPF_NUM:
		if (typval_num(in, from, &n, err) == -1)
			return (-1);
		/* money rounds to an integer, decimal truncates */
		typnum_rescale(&n, 0,
		    from->id == SIMT_MONEY || from->id == SIMT_SMALLMONEY);
		if (n.mag > (typu128)INT64_MAX + 1 ||
		    (!n.neg && n.mag > (typu128)INT64_MAX)) {
			sim_error_set(err, 8115, 16, 2,
			    "Arithmetic overflow error converting numeric "
			    "to data type %s.",
			    simtype_name(to));
			return (-1);
		}
		return (types_int_result(
		    n.neg ? (int64_t)(0 - (uint64_t)n.mag) : (int64_t)n.mag,
		    from, to, out, err));
	case TYPF_DT:
		if (typval_dt(in, from, &dt, err) == -1)
			return (-1);
		/* days since 1900-01-01, rounded at noon */
		return (types_int_result(
		    dt.days - TYPDT_1900 + (dt.time >= TYPDT_DAY / 2 ? 1 : 0),
		    from, to, out, err));
	case TYPF_BIN:
		bytes = to->id == SIMT_TINYINT ? 1
		    : to->id == SIMT_SMALLINT  ? 2
		    : to->id == SIMT_INT       ? 4
					       : 8;
		typval_set_int(out, types_bin_to_int(in->p, in->len, bytes));
		if (to->id == SIMT_TINYINT)
			out->i &= 0xff;
		return (0);
	}
	return (types_str_to_int(in, from, to, out, err));
}

/* Overflow converting float to an integer (232). */
int
types_float_overflow(double f, const struct sim_type *to, struct sim_error *err)
{
	char d17[64], num[400];
	int exp, i, n = 0;

	/* SQL Server prints the value rounded to 17 digits, as %f */
	snprintf(d17, sizeof(d17), "%.16e", f);
	exp = atoi(strchr(d17, 'e') + 1);
	if (exp >= 16 && exp < 330) {
		if (f < 0)
			num[n++] = '-';
		for (i = 0; i <= exp; i++)
			num[n++] = i == 0 ? d17[f < 0 ? 1 : 0]
			    : i <= 16     ? d17[(f < 0 ? 2 : 1) + i]
					  : '0';
		snprintf(num + n, sizeof(num) - n, ".000000");
	} else
		snprintf(num, sizeof(num), "%f", strtod(d17, NULL));
	sim_error_set(err, 232, 16, 3,
	    "Arithmetic overflow error for type %s, value = %s.",
	    simtype_name(to), num);
	return (-1);
}

/* Convert to bit. */
static int
types_conv_bit(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	struct sim_type bigint = { SIMT_BIGINT, 8, 19, 0 };
	struct sim_error scratch;
	struct typnum n;
	char buf[512];
	const char *s;
	size_t len;

	switch (types_family(from)) {
	case TYPF_INT:
	case TYPF_BIT:
		typval_set_int(out, typval_int(in) != 0);
		return (0);
	case TYPF_FLOAT:
		typval_set_int(out, typval_float(in) != 0);
		return (0);
	case TYPF_NUM:
		if (typval_num(in, from, &n, err) == -1)
			return (-1);
		typval_set_int(out, n.mag != 0);
		return (0);
	case TYPF_BIN:
		typval_set_int(out, types_bin_to_int(in->p, in->len, 1) != 0);
		return (0);
	case TYPF_STR:
		s = (const char *)in->p;
		len = in->len;
		while (len > 0 && *s == ' ')
			s++, len--;
		while (len > 0 && s[len - 1] == ' ')
			len--;
		if (len == 4 && strncasecmp(s, "true", 4) == 0) {
			typval_set_int(out, 1);
			return (0);
		}
		if (len == 5 && strncasecmp(s, "false", 5) == 0) {
			typval_set_int(out, 0);
			return (0);
		}
		if (types_conv_int(in, from, &bigint, out, &scratch) == 0) {
			out->i = out->i != 0;
			return (0);
		}
		sim_error_set(err, 245, 16, 1,
		    "Conversion failed when converting the %s value '%s' to "
		    "data type bit.",
		    types_strname(from), types_msgstr(in, buf, sizeof(buf)));
		return (-1);
	}
	(void)to;
	return (types_err_notallowed(from, to, 0, err));
}

/* The integer value of an INTEGER (or other) storage class. */
int64_t
typval_int(const struct typval *in)
{
	int64_t i;

	switch (in->kind) {
	case SQLITE_INTEGER:
		return (in->i);
	case SQLITE_FLOAT:
		return ((int64_t)in->f);
	case SQLITE_TEXT:
		if (types_parse_int((const char *)in->p, in->len, &i) == 0)
			return (i);
		return (strtoll((const char *)in->p, NULL, 10));
	}
	return (0);
}

/* The float value of a REAL (or other) storage class. */
double
typval_float(const struct typval *in)
{
	switch (in->kind) {
	case SQLITE_INTEGER:
		return ((double)in->i);
	case SQLITE_FLOAT:
		return (in->f);
	case SQLITE_TEXT:
		return (strtod((const char *)in->p, NULL));
	}
	return (0);
}

/* Floats. */

/*
 * Check text against SQL Server's float syntax: spaces, sign, digits
 * with an optional point, an optional exponent.  "" is 0.
 */
static int
types_parse_float(const char *s, size_t len, double *out)
{
	char buf[512];
	size_t i = 0, j = 0;
	int digits = 0;

	while (i < len && s[i] == ' ')
		i++;
	while (len > i && s[len - 1] == ' ')
		len--;
	if (i == len) {
		*out = 0;
		return (0);
	}
	if (len - i >= sizeof(buf))
		return (-1);
	if (s[i] == '+' || s[i] == '-')
		buf[j++] = s[i++];
	for (; i < len && isdigit((unsigned char)s[i]); digits++)
		buf[j++] = s[i++];
	if (i < len && s[i] == '.')
		for (buf[j++] = s[i++]; i < len && isdigit((unsigned char)s[i]);
		     digits++)
			buf[j++] = s[i++];
	if (digits == 0)
		return (-1);
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		buf[j++] = s[i++];
		if (i < len && (s[i] == '+' || s[i] == '-'))
			buf[j++] = s[i++];
		for (digits = 0; i < len && isdigit((unsigned char)s[i]);
		     digits++)
			buf[j++] = s[i++];
		if (digits == 0)
			buf[j++] = '0';
	}
	if (i != len)
		return (-1);
	buf[j] = '\0';
	*out = strtod(buf, NULL);
	return (isinf(*out) ? -2 : 0);
}

/* Convert to real or float. */
static int
types_conv_float(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	char buf[128];
	struct typnum n;
	struct typdt dt;
	double f;
	int rc;

	switch (types_family(from)) {
	case TYPF_INT:
	case TYPF_BIT:
		f = (double)typval_int(in);
		break;
	case TYPF_FLOAT:
		f = typval_float(in);
		break;
	case TYPF_NUM:
		if (typval_num(in, from, &n, err) == -1)
			return (-1);
		typnum_format(&n, buf, sizeof(buf));
		f = strtod(buf, NULL);
		break;
	case TYPF_DT:
		if (typval_dt(in, from, &dt, err) == -1)
			return (-1);
		f = (double)(dt.days - TYPDT_1900) +
		    (double)dt.time / (double)TYPDT_DAY;
		break;
	case TYPF_STR:
		rc = types_parse_float((const char *)in->p, in->len, &f);
		if (rc == -1) {
			sim_error_set(err, 8114, 16, 5,
			    "Error converting data type %s to float.",
			    types_strname(from));
			return (-1);
		}
		if (rc == -2) {
			sim_error_set(err, 8115, 16, 2,
			    "Arithmetic overflow error converting %s to data "
			    "type float.",
			    types_strname(from));
			return (-1);
		}
		break;
	default:
		return (types_err_notallowed(from, to, 0, err));
	}
	if (to->id == SIMT_REAL) {
		if (fabs(f) > FLT_MAX && !isinf(f)) {
			sim_error_set(err, 8115, 16, 2,
			    "Arithmetic overflow error converting float to "
			    "data type real.");
			return (-1);
		}
		f = (double)(float)f;
	}
	typval_set_float(out, f);
	return (0);
}

/* Decimal, numeric, money, smallmoney. */

static const typu128 typnum_pow10_1 = 1;

/* 10^n for n <= 38. */
typu128
typnum_pow10(int n)
{
	typu128 v = typnum_pow10_1;

	while (n-- > 0)
		v *= 10;
	return (v);
}

/* Change the scale, rounding half away from zero (or truncating). */
void
typnum_rescale(struct typnum *n, int scale, int round)
{
	typu128 d, r;

	if (scale > n->scale) {
		n->mag *= typnum_pow10(scale - n->scale);
	} else if (scale < n->scale) {
		d = typnum_pow10(n->scale - scale);
		r = n->mag % d;
		n->mag /= d;
		if (round && r * 2 >= d)
			n->mag++;
	}
	n->scale = scale;
}

/* Can n be rescaled to scale without passing 38 digits? */
static int
typnum_fits_scale(const struct typnum *n, int scale)
{
	if (scale <= n->scale)
		return (1);
	return (n->mag < typnum_pow10(38 - (scale - n->scale)));
}

/*
 * Parse decimal text: spaces, sign, digits, point, digits, spaces (and
 * with money, '$' and thousands commas).  Rounds half away from zero to
 * scale.  Returns 0, -1 for bad syntax, -2 when more than maxint
 * integer digits.
 */
int
typnum_parse(const char *s, size_t len, int scale, int maxint, int money,
    struct typnum *n)
{
	const char *end = s + len, *frac = NULL, *fend = NULL;
	int digits = 0, intdig = 0, i;

	memset(n, 0, sizeof(*n));
	while (s < end && *s == ' ')
		s++;
	if (money && s < end && *s == '$')
		for (s++; s < end && *s == ' '; s++)
			;
	if (s < end && (*s == '+' || *s == '-')) {
		n->neg = *s++ == '-';
		while (money && s < end && *s == ' ')
			s++;
	}
	if (money && s < end && *s == '$')
		s++;
	while (s < end && (*s == '0' || (money && *s == ',' && digits)))
		s++, digits++;
	for (; s < end && (isdigit((unsigned char)*s) || (money && *s == ','));
	     s++) {
		if (*s == ',')
			continue;
		digits++;
		if (++intdig > maxint)
			return (-2);
		n->mag = n->mag * 10 + (*s - '0');
	}
	if (s < end && *s == '.') {
		frac = ++s;
		while (s < end && isdigit((unsigned char)*s))
			s++, digits++;
		fend = s;
	}
	while (s < end && *s == ' ')
		s++;
	if (s != end || (digits == 0 && !money))
		return (-1);
	for (i = 0; i < scale; i++)
		n->mag = n->mag * 10 +
		    (frac != NULL && frac + i < fend ? frac[i] - '0' : 0);
	if (frac != NULL && frac + scale < fend && frac[scale] >= '5')
		n->mag++;
	n->scale = scale;
	if (n->mag == 0)
		n->neg = 0;
	return (0);
}

/* Canonical decimal text: "-123.4500", "0.5". */
size_t
typnum_format(const struct typnum *n, char *buf, size_t len)
{
	char dig[48];
	typu128 m = n->mag;
	int nd = 0, i;
	size_t j = 0;

	do {
		dig[nd++] = '0' + (int)(m % 10);
		m /= 10;
	} while (m != 0);
	while (nd <= n->scale)
		dig[nd++] = '0';
	if (n->neg && n->mag != 0 && j + 1 < len)
		buf[j++] = '-';
	for (i = nd - 1; i >= 0 && j + 2 < len; i--) {
		buf[j++] = dig[i];
		if (i == n->scale && i != 0)
			buf[j++] = '.';
	}
	buf[j] = '\0';
	return (j);
}

/* The decimal value of a stored decimal/money (or other) value. */
int
typval_num(const struct typval *in, const struct sim_type *from,
    struct typnum *n, struct sim_error *err)
{
	const char *p, *dot;
	int scale;

	memset(n, 0, sizeof(*n));
	switch (in->kind) {
	case SQLITE_INTEGER:
		n->neg = in->i < 0;
		n->mag =
		    n->neg ? (typu128)(0 - (uint64_t)in->i) : (typu128)in->i;
		return (0);
	case SQLITE_FLOAT:
		return (
		    typnum_from_double(in->f, from->scale, n) == 0 ? 0 : -1);
	case SQLITE_TEXT:
		p = (const char *)in->p;
		dot = memchr(p, '.', in->len);
		scale = dot == NULL ? 0 : (int)(in->len - (dot - p) - 1);
		if (scale > 38)
			scale = 38;
		if (typnum_parse(p, in->len, scale, 38 - scale, 0, n) == 0)
			return (0);
		break;
	}
	sim_error_set(err, 8114, 16, 5,
	    "Error converting data type %s to "
	    "numeric.",
	    simtype_name(from));
	return (-1);
}

/*
 * A double as decimal with the given scale, rounded half away from zero
 * from its exact binary value.  Returns -2 when it needs more than 38
 * digits.
 */
int
typnum_from_double(double f, int scale, struct typnum *n)
{
	char buf[400];
	int len;

	if (!isfinite(f) || fabs(f) >= 1e38)
		return (-2);
	len = snprintf(
	    buf, sizeof(buf), "%.*f", scale + 30 > 60 ? 60 : scale + 30, f);
	return (typnum_parse(buf, len, scale, 38 - scale, 0, n));
}

/* The overflow error for a decimal or money target. */
static int
types_num_overflow(const struct sim_type *from, const struct sim_type *to,
    struct sim_error *err)
{
	const char *src;

	switch (types_family(from)) {
	case TYPF_STR:
		src = types_strname(from);
		break;
	case TYPF_NUM:
		src = from->id == SIMT_MONEY || from->id == SIMT_SMALLMONEY
		    ? "expression"
		    : "numeric";
		break;
	case TYPF_FLOAT:
		src = "float";
		break;
	case TYPF_INT:
		src = simtype_name(from);
		break;
	default:
		src = "expression";
		break;
	}
	if (to->id == SIMT_MONEY || to->id == SIMT_SMALLMONEY)
		src = types_family(from) == TYPF_STR ? src : "expression";
	sim_error_set(err, 8115, 16, types_family(from) == TYPF_STR ? 8 : 2,
	    "Arithmetic overflow error converting %s to data type %s.", src,
	    to->id == SIMT_MONEY || to->id == SIMT_SMALLMONEY ? simtype_name(to)
							      : "numeric");
	return (-1);
}

/* Does n fit type to (precision or money range)? */
static int
types_num_fits(const struct typnum *n, const struct sim_type *to)
{
	if (to->id == SIMT_MONEY)
		return (n->mag < (typu128)INT64_MAX + 1 ||
		    (n->neg && n->mag == (typu128)INT64_MAX + 1));
	if (to->id == SIMT_SMALLMONEY)
		return (n->mag < (typu128)INT32_MAX + 1 ||
		    (n->neg && n->mag == (typu128)INT32_MAX + 1));
	return (n->mag < typnum_pow10(to->precision));
}

/* Text to decimal or money. */
static int
types_str_to_num(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, struct typnum *n, struct sim_error *err)
{
	int money = to->id == SIMT_MONEY || to->id == SIMT_SMALLMONEY;
	int rc, prec = money ? 38 : to->precision;

	rc = typnum_parse((const char *)in->p, in->len, to->scale,
	    prec - to->scale, money, n);
	if (rc == -1 && money) {
		sim_error_set(err, 235, 16, 0,
		    "Cannot convert a char value to money. The char value "
		    "has incorrect syntax.");
		return (-1);
	}
	if (rc == -1) {
		sim_error_set(err, 8114, 16, 5,
		    "Error converting data type %s to numeric.",
		    types_strname(from));
		return (-1);
	}
	if (rc == -2)
		return (types_num_overflow(from, to, err));
	return (0);
}

/* Convert to decimal, numeric, money or smallmoney. */
static int
types_conv_num(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	struct typnum n;
	struct typdt dt;
	char buf[64];
	size_t len;
	int scale = to->scale;

	if (to->id == SIMT_MONEY || to->id == SIMT_SMALLMONEY)
		scale = 4;
	switch (types_family(from)) {
	case TYPF_INT:
	case TYPF_BIT:
		if (typval_num(in, from, &n, err) == -1)
			return (-1);
		break;
	case TYPF_FLOAT:
		if (typnum_from_double(typval_float(in), scale, &n) != 0)
			return (types_num_overflow(from, to, err));
		break;
	case TYPF_NUM:
		if (typval_num(in, from, &n, err) == -1)
			return (-1);
		break;
	case TYPF_DT:
		if (typval_dt(in, from, &dt, err) == -1)
			return (-1);
		if (typnum_from_double((double)(dt.days - TYPDT_1900) +
			    (double)dt.time / (double)TYPDT_DAY,
			scale, &n) != 0)
			return (types_num_overflow(from, to, err));
		break;
	case TYPF_STR:
		if (types_str_to_num(in, from, to, &n, err) == -1)
			return (-1);
		break;
	default:
		return (types_err_notallowed(from, to, 0, err));
	}
	if (!typnum_fits_scale(&n, scale))
		return (types_num_overflow(from, to, err));
	typnum_rescale(&n, scale, 1);
	if (!types_num_fits(&n, to))
		return (types_num_overflow(from, to, err));
	len = typnum_format(&n, buf, sizeof(buf));
	typval_set_text(out, buf, len);
	return (0);
}

/* Date and time. */

/* Days from 0001-01-01 to y-m-d (proleptic Gregorian). */
int32_t
typdt_days(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 306);
}

/* y-m-d of a day number. */
void
typdt_civil(int32_t days, int *y, int *m, int *d)
{
	int z = days + 306, era, doe, yoe, doy, mp;

	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Days in a month. */
static int
typdt_mdays(int y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return (29);
	return (mdays[m - 1]);
}

/* Read n digits. */
static int
typdt_num(const char **pp, const char *end, int min, int max, int *out)
{
	const char *p = *pp;
	int n = 0, v = 0;

	while (p < end && n < max && isdigit((unsigned char)*p)) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n < min)
		return (-1);
	*pp = p;
	*out = v;
	return (n);
}

/* A month name or abbreviation. */
static int
typdt_month(const char **pp, const char *end)
{
	static const char *full[] = { "january", "february", "march", "april",
		"may", "june", "july", "august", "september", "october",
		"november", "december" };
	const char *p = *pp;
	size_t n = 0, i;

	while (p + n < end && isalpha((unsigned char)p[n]))
		n++;
	if (n < 3)
		return (-1);
	for (i = 0; i < 12; i++)
		if (strncasecmp(p, full[i], n) == 0 && n <= strlen(full[i])) {
			*pp = p + n;
			return ((int)i + 1);
		}
	return (-1);
}

/*
 * The date part: ISO y-m-d, yyyymmdd, m/d/y (us_english), "Mon d yyyy",
 * "d Mon yyyy".  Returns 0, 1 when the text starts with a time, -1.
 */
static int
typdt_date(const char **pp, const char *end, int order, int *y, int *m, int *d)
{
	const char *p = *pp;
	int n, a, b, c, nc;
	char sep;

	if ((n = typdt_month(&p, end)) != -1) {
		*m = n;
		while (p < end && (*p == ' ' || *p == '.'))
			p++;
		if (typdt_num(&p, end, 1, 2, d) == -1)
			return (-1);
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (typdt_num(&p, end, 4, 4, y) == -1)
			return (-1);
		*pp = p;
		return (0);
	}
	if ((n = typdt_num(&p, end, 1, 8, &a)) == -1)
		return (-1);
	if (p < end && *p == ':')
		return (1);
	if (n == 8) {
		*y = a / 10000;
		*m = a / 100 % 100;
		*d = a % 100;
		*pp = p;
		return (0);
	}
	if (n <= 2 && p < end && *p == ' ') {
		while (p < end && *p == ' ')
			p++;
		if ((*m = typdt_month(&p, end)) == -1)
			return (-1);
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		*d = a;
		if (typdt_num(&p, end, 4, 4, y) == -1)
			return (-1);
		*pp = p;
		return (0);
	}
	if (p >= end || (*p != '-' && *p != '/' && *p != '.'))
		return (-1);
	sep = *p++;
	if (typdt_num(&p, end, 1, 2, &b) == -1 || p >= end || *p++ != sep)
		return (-1);
	if ((nc = typdt_num(&p, end, 1, 4, &c)) == -1)
		return (-1);
	if (n == 4 && nc <= 2) {
		*y = a;
		*m = b;
		*d = c;
	} else if (n <= 2 && (nc == 2 || nc == 4) && order == 2) {
		/* yy/mm/dd */
		*y = a + (a < 50 ? 2000 : 1900);
		*m = b;
		*d = c;
		if (nc != 2)
			return (-1);
	} else if (n <= 2 && (nc == 2 || nc == 4)) {
		*m = order == 1 ? b : a;
		*d = order == 1 ? a : b;
		*y = nc == 4 ? c : c + (c < 50 ? 2000 : 1900);
	} else
		return (-1);
	*pp = p;
	return (0);
}

/* The time part: hh:mm[:ss[.fffffff|:fff]] [AM|PM]. */
static int
typdt_time(const char **pp, const char *end, struct typdt *dt)
{
	const char *p = *pp;
	int hh, mi, ss = 0, n, i, ms;
	int64_t frac = 0;

	if (typdt_num(&p, end, 1, 2, &hh) == -1 || p >= end || *p++ != ':' ||
	    typdt_num(&p, end, 1, 2, &mi) == -1)
		return (-1);
	if (p < end && *p == ':') {
		p++;
		if (typdt_num(&p, end, 1, 2, &ss) == -1)
			return (-1);
		if (p < end && *p == '.') {
			p++;
			for (n = 0; p < end && isdigit((unsigned char)*p); n++)
				if (n < 7)
					frac = frac * 10 + (*p++ - '0');
				else
					return (-1);
			dt->fdigits = n;
			for (i = n; i < 7; i++)
				frac *= 10;
		} else if (p < end && *p == ':') {
			p++;
			if ((n = typdt_num(&p, end, 1, 3, &ms)) == -1)
				return (-1);
			frac = (int64_t)ms * 10000;
			dt->fdigits = 3;
		}
	}
	while (p < end && *p == ' ')
		p++;
	if (end - p >= 2 && (p[1] == 'M' || p[1] == 'm') &&
	    (*p == 'A' || *p == 'a' || *p == 'P' || *p == 'p')) {
		if (hh > 12 || hh == 0)
			return (-1);
		if (hh == 12)
			hh = 0;
		if (*p == 'P' || *p == 'p')
			hh += 12;
		p += 2;
	}
	if (hh > 23 || mi > 59 || ss > 59)
		return (-1);
	dt->time = ((int64_t)hh * 3600 + mi * 60 + ss) * TYPDT_SEC + frac;
	dt->has_time = 1;
	*pp = p;
	return (0);
}

/* An offset: [+-]hh:mm or Z. */
static int
typdt_offset(const char **pp, const char *end, struct typdt *dt)
{
	const char *p = *pp;
	int hh, mi, neg;

	if (p < end && (*p == 'Z' || *p == 'z')) {
		dt->offset = 0;
		dt->has_offset = 2;
		*pp = p + 1;
		return (0);
	}
	if (p >= end || (*p != '+' && *p != '-'))
		return (-1);
	neg = *p++ == '-';
	if (typdt_num(&p, end, 1, 2, &hh) == -1 || p >= end || *p++ != ':' ||
	    typdt_num(&p, end, 2, 2, &mi) == -1)
		return (-1);
	if (mi > 59 || hh * 60 + mi > 14 * 60)
		return (-1);
	dt->offset = neg ? -(hh * 60 + mi) : hh * 60 + mi;
	dt->has_offset = 1;
	*pp = p;
	return (0);
}

/*
 * Parse date/time text.  Returns 0, -1 for bad syntax, -2 for a date
 * that does not exist (SQL Server reports that as out of range for
 * datetime and smalldatetime).
 */
int
typdt_parse(const char *s, size_t len, struct typdt *dt)
{
	return (typdt_parse_order(s, len, 0, dt));
}

/*
 * The same with the order of numeric dates: 0 m/d/y (us_english), 1
 * d/m/y (CONVERT styles 3, 4, 5, 103, 104, 105), 2 y/m/d (2, 11, 102,
 * 111; four-digit years are y/m/d whatever the order).
 */
int
typdt_parse_order(const char *s, size_t len, int order, struct typdt *dt)
{
	const char *p = s, *end = s + len;
	int y = 1900, m = 1, d = 1, rc;

	memset(dt, 0, sizeof(*dt));
	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	if (p == end) {
		dt->days = TYPDT_1900;
		return (0);
	}
	if ((rc = typdt_date(&p, end, order, &y, &m, &d)) == -1)
		return (-1);
	dt->has_date = rc == 0;
	if (rc == 0 && p < end && (*p == 'T' || *p == ' ')) {
		if (*p == 'T' &&
		    (p + 1 >= end || !isdigit((unsigned char)p[1])))
			return (-1);
		while (p < end && (*p == 'T' || *p == ' '))
			p++;
	}
	if (p < end && isdigit((unsigned char)*p) &&
	    typdt_time(&p, end, dt) == -1)
		return (-1);
	while (p < end && *p == ' ')
		p++;
	if (p < end && typdt_offset(&p, end, dt) == -1)
		return (-1);
	if (p != end)
		return (-1);
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return (-1);
	if (d > typdt_mdays(y, m))
		return (-2);
	dt->days = typdt_days(y, m, d);
	return (0);
}

/* Round the time of day to scale fraction digits; may carry a day. */
void
typdt_round(struct typdt *dt, int scale)
{
	int64_t unit = 1;
	int i;

	for (i = scale; i < 7; i++)
		unit *= 10;
	dt->time = (dt->time + unit / 2) / unit * unit;
	if (dt->time >= TYPDT_DAY) {
		dt->time -= TYPDT_DAY;
		dt->days++;
	}
}

/* Round to datetime's 1/300 s ticks (dt->ticks: ticks of the day). */
void
typdt_round_datetime(struct typdt *dt)
{
	int64_t sec = dt->time / TYPDT_SEC, frac = dt->time % TYPDT_SEC;
	int64_t ticks = (frac * 3 + 50000) / 100000;

	dt->time = sec * TYPDT_SEC + ticks * 100000 / 3;
	/* keep the exact tick: 1/300 s = 33333.33 units, store rounded */
	dt->ticks = sec * 300 + ticks;
	if (dt->ticks >= 86400LL * 300) {
		dt->ticks -= 86400LL * 300;
		dt->days++;
	}
	dt->time = dt->ticks / 300 * TYPDT_SEC +
	    ((dt->ticks % 300) * 10 + 1) / 3 * 10000;
}

/* Round to smalldatetime's minutes (after rounding to ticks). */
static void
typdt_round_small(struct typdt *dt)
{
	int64_t min;

	typdt_round_datetime(dt);
	min = dt->ticks / (60 * 300);
	if (dt->ticks % (60 * 300) >= 30 * 300)
		min++;
	if (min >= 24 * 60) {
		min -= 24 * 60;
		dt->days++;
	}
	dt->time = min * 60 * TYPDT_SEC;
	dt->ticks = min * 60 * 300;
}

/* Write the time of day "HH:MM:SS[.fffffff]" with scale digits. */
static size_t
typdt_fmt_time(int64_t t, int scale, char *buf)
{
	int64_t sec = t / TYPDT_SEC, frac = t % TYPDT_SEC;
	size_t n;
	int i;

	n = sprintf(buf, "%02d:%02d:%02d", (int)(sec / 3600),
	    (int)(sec / 60 % 60), (int)(sec % 60));
	if (scale > 0) {
		for (i = scale; i < 7; i++)
			frac /= 10;
		n += snprintf(buf + n, 10, ".%0*lld", scale, (long long)frac);
	}
	return (n);
}

/* Write the date "YYYY-MM-DD". */
static size_t
typdt_fmt_date(int32_t days, char *buf)
{
	int y, m, d;

	typdt_civil(days, &y, &m, &d);
	return (sprintf(buf, "%04d-%02d-%02d", y, m, d));
}

/* Write the offset " +hh:mm". */
static size_t
typdt_fmt_offset(int off, char *buf)
{
	int a = off < 0 ? -off : off;

	return (
	    sprintf(buf, " %c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60));
}

/* The canonical text of a date/time value of type t (rounded). */
size_t
typdt_format(const struct typdt *dt, const struct sim_type *t, char *buf)
{
	size_t n = 0;

	switch (t->id) {
	case SIMT_DATE:
		return (typdt_fmt_date(dt->days, buf));
	case SIMT_TIME:
		return (typdt_fmt_time(dt->time, t->scale, buf));
	case SIMT_DATETIME:
		n = typdt_fmt_date(dt->days, buf);
		buf[n++] = ' ';
		return (n + typdt_fmt_time(dt->time, 3, buf + n));
	case SIMT_SMALLDATETIME:
		n = typdt_fmt_date(dt->days, buf);
		buf[n++] = ' ';
		return (n + typdt_fmt_time(dt->time, 0, buf + n));
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		n = typdt_fmt_date(dt->days, buf);
		buf[n++] = ' ';
		n += typdt_fmt_time(dt->time, t->scale, buf + n);
		if (t->id == SIMT_DATETIMEOFFSET)
			n += typdt_fmt_offset(dt->offset, buf + n);
		return (n);
	}
	buf[0] = '\0';
	return (0);
}

/*
 * The date/time value of a stored value of type from.  Stored text is
 * canonical, but any text SQL Server accepts is read.
 */
int
typval_dt(const struct typval *in, const struct sim_type *from,
    struct typdt *dt, struct sim_error *err)
{
	memset(dt, 0, sizeof(*dt));
	int64_t frac, ticks;

	if (in->kind == SQLITE_TEXT &&
	    typdt_parse((const char *)in->p, in->len, dt) == 0) {
		if (from->id == SIMT_TIME)
			dt->days = TYPDT_1900;
		if (from->id == SIMT_DATETIME) {
			/* .003 is really 1/300 s: 0.0033333 */
			frac = dt->time % TYPDT_SEC;
			ticks = (frac * 3 + 50000) / 100000;
			dt->time += (ticks * 200000 + 3) / 6 - frac;
		}
		return (0);
	}
	sim_error_set(err, 241, 16, 1,
	    "Conversion failed when converting date and/or time from "
	    "character string.");
	return (-1);
}

/* Range and rounding of a date/time target; -1 when out of range. */
static int
typdt_fit(struct typdt *dt, const struct sim_type *to)
{
	int32_t lo = 0, hi = TYPDT_MAXDAY, keep;

	switch (to->id) {
	case SIMT_DATETIME:
		typdt_round_datetime(dt);
		lo = typdt_days(1753, 1, 1);
		break;
	case SIMT_SMALLDATETIME:
		typdt_round_small(dt);
		lo = TYPDT_1900;
		hi = typdt_days(2079, 6, 6);
		break;
	case SIMT_TIME:
		/* rounding never wraps a time past midnight */
		keep = dt->days;
		typdt_round(dt, to->scale);
		if (dt->days != keep)
			dt->time =
			    TYPDT_DAY - (int64_t)typnum_pow10(7 - to->scale);
		dt->days = TYPDT_1900;
		return (0);
	case SIMT_DATE:
		dt->time = 0;
		break;
	default:
		typdt_round(dt, to->scale);
		break;
	}
	return (dt->days < lo || dt->days > hi ? -1 : 0);
}

/* Text to a date/time type, with SQL Server's errors. */
static int
types_str_to_dt(const struct typval *in, const struct sim_type *from, int flags,
    const struct sim_type *to, struct typdt *dt, struct sim_error *err)
{
	int rc, old = to->id == SIMT_DATETIME || to->id == SIMT_SMALLDATETIME;
	int order = 0;

	switch (flags & SIMCONV_STYLE) {
	case 3:
	case 4:
	case 5:
	case 103:
	case 104:
	case 105:
		order = 1;
		break;
	case 2:
	case 11:
	case 102:
	case 111:
		order = 2;
		break;
	}
	rc = typdt_parse_order((const char *)in->p, in->len, order, dt);
	if (rc == 0 && old && (dt->fdigits > 3 || dt->has_offset == 1))
		rc = -1;
	if (rc == 0 && to->id == SIMT_TIME && dt->has_date && !dt->has_time)
		rc = 0;
	if (rc == -2 && old)
		goto range;
	if (rc != 0) {
		if (to->id == SIMT_DATETIMEOFFSET && rc == -2)
			goto dto;
		sim_error_set(err, 241, 16, 1,
		    "Conversion failed when converting date and/or time from "
		    "character string.");
		return (-1);
	}
	if (to->id == SIMT_TIME)
		return (typdt_fit(dt, to));
	if (to->id == SIMT_DATETIMEOFFSET) {
		if (!dt->has_offset)
			dt->offset = 0;
		if (typdt_fit(dt, to) == -1 || typdt_utc_days(dt) < 0 ||
		    typdt_utc_days(dt) > TYPDT_MAXDAY)
			goto dto;
		return (0);
	}
	if (typdt_fit(dt, to) == -1)
		goto range;
	return (0);
range:
	sim_error_set(err, 242, 16, 3,
	    "The conversion of a %s data type to a %s data type resulted in "
	    "an out-of-range value.",
	    types_strname(from), simtype_name(to));
	return (-1);
dto:
	sim_error_set(err, 8114, 16, 31,
	    "Error converting data type %s to datetimeoffset.",
	    types_strname(from));
	return (-1);
}

/* The day of the UTC instant. */
int32_t
typdt_utc_days(const struct typdt *dt)
{
	int64_t t = dt->time - (int64_t)dt->offset * 60 * TYPDT_SEC;

	if (t < 0)
		return (dt->days - 1);
	if (t >= TYPDT_DAY)
		return (dt->days + 1);
	return (dt->days);
}

/* A number of days since 1900-01-01 (int, float, decimal) to datetime. */
static int
types_num_to_dt(const struct typval *in, const struct sim_type *from,
    struct typdt *dt, struct sim_error *err)
{
	struct typnum n;
	char buf[64];
	double f, days;

	switch (types_family(from)) {
	case TYPF_INT:
	case TYPF_BIT:
		f = (double)typval_int(in);
		break;
	case TYPF_NUM:
		if (typval_num(in, from, &n, err) == -1)
			return (-1);
		typnum_format(&n, buf, sizeof(buf));
		f = strtod(buf, NULL);
		break;
	default:
		f = typval_float(in);
		break;
	}
	memset(dt, 0, sizeof(*dt));
	if (!(f > -700000 && f < 3000000))
		f = 3000000;
	days = floor(f);
	dt->days = (int32_t)days + TYPDT_1900;
	dt->time = (int64_t)llround((f - days) * (double)TYPDT_DAY);
	return (0);
}

/* Convert to a date/time type. */
static int
types_conv_dt(const struct typval *in, const struct sim_type *from, int flags,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	struct typdt dt;
	char buf[64];
	size_t n;

	switch (types_family(from)) {
	case TYPF_STR:
		if (types_str_to_dt(in, from, flags, to, &dt, err) == -1)
			return (-1);
		break;
	case TYPF_DT:
		if (typval_dt(in, from, &dt, err) == -1)
			return (-1);
		if (types_dt_to_dt(&dt, from, to, err) == -1)
			return (-1);
		break;
	case TYPF_INT:
	case TYPF_BIT:
	case TYPF_FLOAT:
	case TYPF_NUM:
		if (types_num_to_dt(in, from, &dt, err) == -1)
			return (-1);
		if (typdt_fit(&dt, to) == -1) {
			sim_error_set(err, 8115, 16, 2,
			    "Arithmetic overflow error converting expression "
			    "to data type %s.",
			    simtype_name(to));
			return (-1);
		}
		break;
	default:
		return (types_err_notallowed(from, to, 0, err));
	}
	n = typdt_format(&dt, to, buf);
	typval_set_text(out, buf, n);
	return (0);
}

/* Between date/time types. */
int
types_dt_to_dt(struct typdt *dt, const struct sim_type *from,
    const struct sim_type *to, struct sim_error *err)
{
	if (from->id == SIMT_DATE)
		dt->time = 0;
	if (from->id == SIMT_TIME) {
		/* time to a type with a date takes 1900-01-01 */
		dt->days = TYPDT_1900;
	}
	if (from->id != SIMT_DATETIMEOFFSET)
		dt->offset = 0;
	if (typdt_fit(dt, to) == -1) {
		if (to->id == SIMT_SMALLDATETIME && from->id == SIMT_DATETIME) {
			sim_error_set(err, 8115, 16, 2,
			    "Arithmetic overflow error converting expression "
			    "to data type smalldatetime.");
			return (-1);
		}
		sim_error_set(err, 242, 16, 3,
		    "The conversion of a %s data type to a %s data type "
		    "resulted in an out-of-range value.",
		    simtype_name(from), simtype_name(to));
		return (-1);
	}
	return (0);
}

/* uniqueidentifier. */

static int
types_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Canonical GUID text to wire-order bytes; -1 if malformed. */
int
typguid_parse(const char *s, size_t len, unsigned char *b)
{
	static const int pos[16] = { 6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26,
		28, 30, 32, 34 };
	int i, hi, lo;

	if (len >= 38 && s[0] == '{' && s[37] == '}')
		s++;
	else if (len < 36)
		return (-1);
	if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return (-1);
	for (i = 0; i < 16; i++) {
		hi = types_hex(s[pos[i]]);
		lo = types_hex(s[pos[i] + 1]);
		if (hi < 0 || lo < 0)
			return (-1);
		b[i] = hi << 4 | lo;
	}
	return (0);
}

/* Wire-order bytes to canonical upper-case GUID text (36 chars). */
void
typguid_format(const unsigned char *b, char *s)
{
	snprintf(s, 37,
	    "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
	    "%02X%02X%02X%02X%02X%02X",
	    b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

/* Convert to uniqueidentifier. */
static int
types_conv_guid(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, struct simval *out, struct sim_error *err)
{
	unsigned char b[16];
	char s[37];
	const char *p = (const char *)in->p;
	size_t len = in->len;

	switch (types_family(from)) {
	case TYPF_BIN:
		memset(b, 0, sizeof(b));
		memcpy(b, in->p, len < 16 ? len : 16);
		break;
	case TYPF_STR:
	case TYPF_GUID:
		while (len > 0 && *p == ' ')
			p++, len--;
		if (typguid_parse(p, len, b) == 0)
			break;
		sim_error_set(err, 8169, 16, 2,
		    "Conversion failed when converting from a character "
		    "string to uniqueidentifier.");
		return (-1);
	default:
		return (types_err_notallowed(from, to, 0, err));
	}
	typguid_format(b, s);
	typval_set_text(out, s, 36);
	return (0);
}

/* Binary. */

/* Hex text (style 1 with "0x", style 2 without) to bytes. */
static int
types_hex_to_bin(const char *s, size_t len, int style, struct simval *out)
{
	size_t i, n;
	int hi, lo;

	if (style == 1) {
		if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
			return (-1);
		s += 2;
		len -= 2;
	}
	if (len % 2 != 0)
		return (-1);
	typval_set_blob(out, "", 0);
	free(out->p);
	out->p = util_xmalloc(len / 2 + 1);
	for (i = 0, n = 0; i < len; i += 2) {
		hi = types_hex(s[i]);
		lo = types_hex(s[i + 1]);
		if (hi < 0 || lo < 0) {
			simval_free(out);
			return (-1);
		}
		out->p[n++] = hi << 4 | lo;
	}
	out->p[n] = '\0';
	out->len = n;
	return (0);
}

/* Fit bytes to binary(n) (zero padding) or varbinary(n). */
static int
types_bin_fit(struct simval *out, const struct sim_type *to, int flags,
    struct sim_error *err)
{
	size_t n = to->maxlen < 0 ? out->len : (size_t)to->maxlen;

	if (to->id == SIMT_TIMESTAMP || to->id == SIMT_IMAGE)
		n = to->id == SIMT_TIMESTAMP ? 8 : out->len;
	if (out->len > n) {
		if (flags & SIMCONV_ASSIGN) {
			simval_free(out);
			sim_error_set(err, 8152, 16, 30,
			    "String or binary data would be truncated.");
			return (-1);
		}
		out->len = n;
	}
	if ((to->id == SIMT_BINARY || to->id == SIMT_TIMESTAMP) &&
	    out->len < n) {
		out->p = util_xrealloc(out->p, n + 1);
		memset(out->p + out->len, 0, n - out->len);
		out->len = n;
	}
	out->p[out->len] = '\0';
	return (0);
}

/* Convert to binary, varbinary, image, timestamp. */
static int
types_conv_bin(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, int flags, struct simval *out,
    struct sim_error *err)
{
	unsigned char b[16];
	struct sbuf sb;
	int64_t i;
	int k, bytes, style = flags & SIMCONV_STYLE;

	switch (types_family(from)) {
	case TYPF_BIN:
		typval_set_blob(out, in->p, in->len);
		break;
	case TYPF_INT:
	case TYPF_BIT:
		i = typval_int(in);
		bytes = from->id == SIMT_BIGINT ? 8
		    : from->id == SIMT_INT      ? 4
		    : from->id == SIMT_SMALLINT ? 2
						: 1;
		for (k = 0; k < bytes; k++)
			b[k] = (uint64_t)i >> (8 * (bytes - 1 - k));
		/* integers keep their low-order bytes */
		if (to->maxlen > 0 && to->maxlen < bytes &&
		    to->id != SIMT_TIMESTAMP)
			typval_set_blob(
			    out, b + bytes - to->maxlen, to->maxlen);
		else
			typval_set_blob(out, b, bytes);
		if ((to->id == SIMT_BINARY || to->id == SIMT_TIMESTAMP) &&
		    out->len < (size_t)to->maxlen) {
			memset(b, 0, sizeof(b));
			sbuf_init(&sb);
			sbuf_add(&sb, b, to->maxlen - out->len);
			sbuf_add(&sb, out->p, out->len);
			simval_free(out);
			typval_set_blob(out, sb.data, sb.len);
			sbuf_free(&sb);
		}
		break;
	case TYPF_GUID:
		if (typguid_parse((const char *)in->p, in->len, b) == -1)
			return (types_err_notallowed(from, to, 0, err));
		typval_set_blob(out, b, 16);
		break;
	case TYPF_STR:
		if (style == 1 || style == 2) {
			if (types_hex_to_bin((const char *)in->p, in->len,
				style, out) == -1) {
				sim_error_set(err, 8114, 16, 5,
				    "Error converting data type %s to %s.",
				    types_strname(from), simtype_name(to));
				return (-1);
			}
			break;
		}
		sbuf_init(&sb);
		if (simtype_is_unicode(from))
			sbuf_ucs2(&sb, (const char *)in->p, in->len);
		else
			typstr_to_cp1252(&sb, (const char *)in->p, in->len);
		typval_set_blob(out, sb.data, sb.len);
		sbuf_free(&sb);
		break;
	default:
		return (types_err_notallowed(from, to, 0, err));
	}
	return (types_bin_fit(out, to, flags, err));
}

/* Exact decimal arithmetic (sim_decimal_add/sub/mul/div). */

/* A 256-bit unsigned integer. */
struct typu256 {
	typu128 hi;
	typu128 lo;
};

/* a * b of two 128-bit numbers. */
static struct typu256
typnum_mul128(typu128 a, typu128 b)
{
	uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
	uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
	typu128 p00 = (typu128)a0 * b0, p01 = (typu128)a0 * b1;
	typu128 p10 = (typu128)a1 * b0, p11 = (typu128)a1 * b1;
	typu128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
	struct typu256 r;

	r.lo = (typu128)(uint64_t)p00 | (mid << 64);
	r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
	return (r);
}

/* x * 10; -1 when it no longer fits. */
static int
typnum_mul10(struct typu256 *x)
{
	struct typu256 lo = typnum_mul128(x->lo, 10);

	if (x->hi > (~(typu128)0) / 10)
		return (-1);
	x->lo = lo.lo;
	if (lo.hi > ~(typu128)0 - x->hi * 10)
		return (-1);
	x->hi = x->hi * 10 + lo.hi;
	return (0);
}

/* n / d and n % d by shift and subtract (d < 2^127). */
static struct typu256
typnum_divmod(struct typu256 n, typu128 d, typu128 *rem)
{
	struct typu256 q = { 0, 0 };
	typu128 r = 0;
	int i;

	for (i = 255; i >= 0; i--) {
		r = (r << 1) |
		    (i >= 128 ? (n.hi >> (i - 128)) & 1 : (n.lo >> i) & 1);
		if (r >= d) {
			r -= d;
			if (i >= 128)
				q.hi |= (typu128)1 << (i - 128);
			else
				q.lo |= (typu128)1 << i;
		}
	}
	*rem = r;
	return (q);
}

/* x += y (both below 10^77: no overflow). */
static void
typnum_add256(struct typu256 *x, const struct typu256 *y)
{
	x->lo += y->lo;
	x->hi += y->hi + (x->lo < y->lo);
}

/* x -= y (x >= y). */
static void
typnum_sub256(struct typu256 *x, const struct typu256 *y)
{
	x->hi -= y->hi + (x->lo < y->lo);
	x->lo -= y->lo;
}

static int
typnum_cmp256(const struct typu256 *x, const struct typu256 *y)
{
	if (x->hi != y->hi)
		return (x->hi < y->hi ? -1 : 1);
	if (x->lo != y->lo)
		return (x->lo < y->lo ? -1 : 1);
	return (0);
}

/* Change the scale of x by delta digits (rounding or truncating). */
static int
typnum_scale256(struct typu256 *x, int delta, int round)
{
	typu128 rem, d;

	while (delta > 0) {
		if (typnum_mul10(x) == -1)
			return (-1);
		delta--;
	}
	while (delta < 0) {
		d = typnum_pow10(-delta > 38 ? 38 : -delta);
		*x = typnum_divmod(*x, d, &rem);
		delta += -delta > 38 ? 38 : -delta;
		if (round && delta == 0 && rem * 2 >= d && ++x->lo == 0)
			x->hi++;
	}
	return (0);
}

/*
 * a op b ('+', '-', '*', '/') as decimal(p, s): exact, rounded half away
 * from zero except that division truncates, as SQL Server does.  Returns
 * 0, -1 on overflow of precision p, -2 on division by zero.
 */
int
typnum_arith(const struct typnum *a, const struct typnum *b, int op, int p,
    int s, struct typnum *r)
{
	struct typu256 x, y;
	typu128 rem;
	int m;

	memset(r, 0, sizeof(*r));
	r->scale = s;
	if (op == '/' && b->mag == 0)
		return (-2);
	if (op == '+' || op == '-') {
		m = a->scale > b->scale ? a->scale : b->scale;
		x.hi = y.hi = 0;
		x.lo = a->mag;
		y.lo = b->mag;
		typnum_scale256(&x, m - a->scale, 0);
		typnum_scale256(&y, m - b->scale, 0);
		r->neg = a->neg;
		if (a->neg == (op == '+' ? b->neg : !b->neg))
			typnum_add256(&x, &y);
		else if (typnum_cmp256(&x, &y) >= 0)
			typnum_sub256(&x, &y);
		else {
			typnum_sub256(&y, &x);
			x = y;
			r->neg = !r->neg;
		}
		if (typnum_scale256(&x, s - m, 1) == -1)
			return (-1);
	} else if (op == '*') {
		x = typnum_mul128(a->mag, b->mag);
		r->neg = a->neg != b->neg;
		if (typnum_scale256(&x, s - a->scale - b->scale, 1) == -1)
			return (-1);
	} else {
		x.hi = 0;
		x.lo = a->mag;
		r->neg = a->neg != b->neg;
		if (typnum_scale256(&x, s + b->scale - a->scale, 0) == -1)
			return (-1);
		x = typnum_divmod(x, b->mag, &rem);
	}
	if (x.hi != 0 || x.lo >= typnum_pow10(p))
		return (-1);
	r->mag = x.lo;
	if (r->mag == 0)
		r->neg = 0;
	return (0);
}
