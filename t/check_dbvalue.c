/*
 * Unit tests for worker/dbvalue.c.
 *
 * The values are built the way FreeTDS 1.3 leaves them in its row
 * buffer (DBNUMERIC with a sign byte and a big-endian magnitude,
 * DBMONEY halves, DBDATETIME days and 1/300 s ticks, DBDATETIMEALL
 * 100 ns units from 1900-01-01, the GUID's host-order fields), at the
 * edges of each SQL Server type, and must come out in the exact text
 * proto.h fixes.  Decimal magnitudes are computed here independently
 * of dbvalue.c (schoolbook multiply-add), and day numbers are those of
 * Python's datetime.  The parameter direction is checked by sending a
 * value through dbvalue_param() and reading the bytes back.
 */

#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sybfront.h>
#include <sybdb.h>

#include "worker.h"

#define SYBUNIQUE_T 36 /* not in sybdb.h */

/* Fields of a uniqueidentifier in FreeTDS's host-order layout. */
struct guid {
	uint32_t d1;
	uint16_t d2;
	uint16_t d3;
	uint8_t d4[8];
};

static struct frame_value val;
static char text[DBVALUE_TEXT_MAX];

static DBNUMERIC make_numeric(int, int, int, const char *);
static void check_text(int, const void *, int, const char *);
static void check_numeric(int, int, int, const char *, const char *);
static void check_money(int64_t, const char *);
static void check_datetime(int, int, const char *);
static void check_dta(int, int64_t, uint64_t, int, int, const char *);
static struct db_param make_param(uint32_t, int, int, int, const char *);
static void check_roundtrip(
    uint32_t, int, int, const char *, int, int, const char *);
static Suite *dbvalue_suite(void);

/* A DBNUMERIC of a decimal digit string, as FreeTDS stores it. */
static DBNUMERIC
make_numeric(int precision, int scale, int negative, const char *digits)
{
	static const int bytes[] = { 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7,
		7, 8, 8, 9, 9, 9, 10, 10, 11, 11, 11, 12, 12, 13, 13, 14, 14,
		14, 15, 15, 16, 16, 16, 17, 17 };
	DBNUMERIC n;
	int n_bytes, i, j, carry;

	memset(&n, 0, sizeof(n));
	n.precision = (BYTE)precision;
	n.scale = (BYTE)scale;
	n.array[0] = (BYTE)negative;
	n_bytes = bytes[precision];
	for (i = 0; digits[i] != '\0'; i++) {
		carry = digits[i] - '0';
		for (j = n_bytes - 1; j >= 1; j--) {
			carry += n.array[j] * 10;
			n.array[j] = (BYTE)carry;
			carry >>= 8;
		}
		ck_assert_int_eq(carry, 0);
	}
	return (n);
}

/* Convert and expect text. */
static void
check_text(int type, const void *data, int len, const char *expect)
{
	memset(text, 'x', sizeof(text));
	ck_assert_int_eq(dbvalue_convert(type, data, len, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_STR);
	ck_assert_uint_eq(val.v.s.len, strlen(expect));
	ck_assert_msg(memcmp(val.v.s.ptr, expect, val.v.s.len) == 0,
	    "got '%.*s', want '%s'", (int)val.v.s.len,
	    (const char *)val.v.s.ptr, expect);
	ck_assert_uint_lt(val.v.s.len, DBVALUE_TEXT_MAX);
}

static void
check_numeric(int precision, int scale, int negative, const char *digits,
    const char *expect)
{
	DBNUMERIC n = make_numeric(precision, scale, negative, digits);

	check_text(SYBDECIMAL, &n, sizeof(n), expect);
	check_text(SYBNUMERIC, &n, sizeof(n), expect);
}

static void
check_money(int64_t x, const char *expect)
{
	DBMONEY m;

	m.mnyhigh = (DBINT)(x >> 32);
	m.mnylow = (DBUINT)((uint64_t)x & 0xffffffff);
	check_text(SYBMONEY, &m, sizeof(m), expect);
	check_text(SYBMONEYN, &m, sizeof(m), expect);
}

static void
check_datetime(int days, int ticks, const char *expect)
{
	DBDATETIME dt;

	dt.dtdays = days;
	dt.dttime = ticks;
	check_text(SYBDATETIME, &dt, sizeof(dt), expect);
	check_text(SYBDATETIMN, &dt, sizeof(dt), expect);
}

/* A DBDATETIMEALL value as FreeTDS's tds_msdatetime_get() fills it. */
static void
check_dta(int type, int64_t date, uint64_t time, int offset, int prec,
    const char *expect)
{
	DBDATETIMEALL dta;

	memset(&dta, 0, sizeof(dta));
	dta.date = (DBINT)date;
	dta.time = time;
	dta.offset = (DBSMALLINT)offset;
	dta.time_prec = prec;
	dta.has_date = type != SYBMSTIME;
	dta.has_time = type != SYBMSDATE;
	dta.has_offset = type == SYBMSDATETIMEOFFSET;
	check_text(type, &dta, sizeof(dta), expect);
}

START_TEST(test_decimal)
{
	DBNUMERIC n;

	check_numeric(38, 0, 0, "99999999999999999999999999999999999999",
	    "99999999999999999999999999999999999999");
	check_numeric(38, 0, 1, "99999999999999999999999999999999999999",
	    "-99999999999999999999999999999999999999");
	check_numeric(38, 38, 0, "99999999999999999999999999999999999999",
	    "0.99999999999999999999999999999999999999");
	check_numeric(
	    38, 38, 1, "1", "-0.00000000000000000000000000000000000001");
	check_numeric(10, 2, 1, "1234567890", "-12345678.90");
	check_numeric(5, 2, 0, "0", "0.00");
	check_numeric(5, 2, 1, "0", "0.00"); /* no negative zero */
	check_numeric(18, 0, 0, "0", "0");
	check_numeric(18, 4, 0, "1", "0.0001");
	check_numeric(19, 4, 0, "1000000000000000000", "100000000000000.0000");
	check_numeric(28, 10, 0, "1234567890123456789012345678",
	    "123456789012345678.9012345678");
	check_numeric(9, 9, 0, "123", "0.000000123");
	check_numeric(1, 0, 0, "7", "7");
	check_numeric(1, 1, 1, "7", "-0.7");
	/* Malformed: precision out of range, scale over precision. */
	n = make_numeric(5, 2, 0, "1");
	n.precision = 0;
	ck_assert_int_eq(
	    dbvalue_convert(SYBDECIMAL, (BYTE *)&n, sizeof(n), &val, text), -1);
	n.precision = 39;
	ck_assert_int_eq(
	    dbvalue_convert(SYBDECIMAL, (BYTE *)&n, sizeof(n), &val, text), -1);
	n.precision = 5;
	n.scale = 6;
	ck_assert_int_eq(
	    dbvalue_convert(SYBDECIMAL, (BYTE *)&n, sizeof(n), &val, text), -1);
}
END_TEST

START_TEST(test_money)
{
	DBMONEY4 m4;

	check_money(INT64_MIN, "-922337203685477.5808");
	check_money(INT64_MAX, "922337203685477.5807");
	check_money(0, "0.0000");
	check_money(-1, "-0.0001");
	check_money(12345, "1.2345");
	check_money(-4294967296LL, "-429496.7296"); /* mnylow 0 */
	check_money(4294967295LL, "429496.7295"); /* mnylow all ones */
	m4.mny4 = INT32_MIN;
	check_text(SYBMONEY4, &m4, sizeof(m4), "-214748.3648");
	check_text(SYBMONEYN, &m4, sizeof(m4), "-214748.3648");
	m4.mny4 = INT32_MAX;
	check_text(SYBMONEY4, &m4, sizeof(m4), "214748.3647");
	m4.mny4 = 10000;
	check_text(SYBMONEY4, &m4, sizeof(m4), "1.0000");
}
END_TEST

START_TEST(test_datetime)
{
	DBDATETIME4 dt4;
	DBDATETIME dt;

	check_datetime(0, 0, "1900-01-01T00:00:00.000Z");
	check_datetime(0, 1, "1900-01-01T00:00:00.003Z");
	check_datetime(0, 2, "1900-01-01T00:00:00.007Z");
	check_datetime(0, 3, "1900-01-01T00:00:00.010Z");
	check_datetime(0, 299, "1900-01-01T00:00:00.997Z");
	check_datetime(0, 300, "1900-01-01T00:00:01.000Z");
	check_datetime(45291, (3 * 3600 + 4 * 60 + 5) * 300 + 1,
	    "2024-01-02T03:04:05.003Z");
	check_datetime(2958463, 25919999, "9999-12-31T23:59:59.997Z");
	check_datetime(-53690, 0, "1753-01-01T00:00:00.000Z");
	check_datetime(36583, 0, "2000-02-29T00:00:00.000Z");
	dt.dtdays = 0;
	dt.dttime = 25920000; /* one tick past the day */
	ck_assert_int_eq(
	    dbvalue_convert(SYBDATETIME, (BYTE *)&dt, sizeof(dt), &val, text),
	    -1);
	dt4.days = 0;
	dt4.minutes = 0;
	check_text(SYBDATETIME4, &dt4, sizeof(dt4), "1900-01-01T00:00:00Z");
	dt4.days = 65535;
	dt4.minutes = 1439;
	check_text(SYBDATETIME4, &dt4, sizeof(dt4), "2079-06-06T23:59:00Z");
	check_text(SYBDATETIMN, &dt4, sizeof(dt4), "2079-06-06T23:59:00Z");
	dt4.minutes = 1440;
	ck_assert_int_eq(dbvalue_convert(SYBDATETIME4, (BYTE *)&dt4,
			     sizeof(dt4), &val, text),
	    -1);
}
END_TEST

START_TEST(test_datetime2)
{
	uint64_t t = (3 * 3600 + 4 * 60 + 5) * 10000000ULL;

	check_dta(SYBMSDATETIME2, 45291, t + 1234567, 0, 7,
	    "2024-01-02T03:04:05.1234567Z");
	check_dta(SYBMSDATETIME2, 45291, t + 1230000, 0, 3,
	    "2024-01-02T03:04:05.123Z");
	check_dta(SYBMSDATETIME2, 45291, t, 0, 0, "2024-01-02T03:04:05Z");
	check_dta(
	    SYBMSDATETIME2, -693595, 0, 0, 7, "0001-01-01T00:00:00.0000000Z");
	check_dta(SYBMSDATETIME2, 2958463, 863999999999ULL, 0, 7,
	    "9999-12-31T23:59:59.9999999Z");
	check_dta(SYBMSDATE, -693595, 0, 0, 0, "0001-01-01");
	check_dta(SYBMSDATE, 2958463, 0, 0, 0, "9999-12-31");
	check_dta(SYBMSDATE, 36583, 0, 0, 0, "2000-02-29");
	/* time always has 7 fraction digits (proto.h). */
	check_dta(SYBMSTIME, 0, 863999999999ULL, 0, 7, "23:59:59.9999999");
	check_dta(
	    SYBMSTIME, 0, 12 * 3600 * 10000000ULL, 0, 0, "12:00:00.0000000");
	check_dta(SYBMSTIME, 0, 0, 0, 3, "00:00:00.0000000");
}
END_TEST

START_TEST(test_datetimeoffset)
{
	uint64_t h = 3600 * 10000000ULL;

	/* UTC 2024-01-01 23:30 at +14:00 is the next local day. */
	check_dta(SYBMSDATETIMEOFFSET, 45290, 23 * h + h / 2, 14 * 60, 0,
	    "2024-01-02T13:30:00+14:00");
	/* UTC 2024-01-02 05:00 at -14:00 is the previous local day. */
	check_dta(SYBMSDATETIMEOFFSET, 45291, 5 * h + 1234567, -14 * 60, 7,
	    "2024-01-01T15:00:00.1234567-14:00");
	check_dta(SYBMSDATETIMEOFFSET, 45291, 3 * h, 5 * 60 + 30, 3,
	    "2024-01-02T08:30:00.000+05:30");
	check_dta(SYBMSDATETIMEOFFSET, 45291, 3 * h, 0, 0,
	    "2024-01-02T03:00:00+00:00");
	check_dta(SYBMSDATETIMEOFFSET, 2958463, 23 * h, -60, 0,
	    "9999-12-31T22:00:00-01:00");
}
END_TEST

START_TEST(test_guid)
{
	struct guid g = { 0x6F9619FF, 0x8B86, 0xD011,
		{ 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF } };
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* On a little-endian host the buffer holds the wire's bytes. */
	static const uint8_t wire[16] = { 0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B,
		0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF };

	check_text(
	    SYBUNIQUE_T, wire, 16, "6F9619FF-8B86-D011-B42D-00C04FC964FF");
#endif
	ck_assert_uint_eq(sizeof(g), 16);
	check_text(SYBUNIQUE_T, &g, 16, "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	memset(&g, 0, sizeof(g));
	check_text(SYBUNIQUE_T, &g, 16, "00000000-0000-0000-0000-000000000000");
	ck_assert_int_eq(
	    dbvalue_convert(SYBUNIQUE_T, (BYTE *)&g, 15, &val, text), -1);
}
END_TEST

START_TEST(test_numbers)
{
	DBTINYINT u1 = 255;
	DBSMALLINT i2 = INT16_MIN;
	DBINT i4 = INT32_MIN;
	DBBIGINT i8;
	DBREAL r = 0.1f;
	DBFLT8 f = 0.1;
	BYTE bit = 1;

	i8 = INT64_MIN;
	ck_assert_int_eq(
	    dbvalue_convert(SYBINT8, (BYTE *)&i8, 8, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_INT);
	ck_assert(val.v.i == INT64_MIN);
	i8 = INT64_MAX;
	ck_assert_int_eq(
	    dbvalue_convert(SYBINTN, (BYTE *)&i8, 8, &val, text), 0);
	ck_assert(val.v.i == INT64_MAX);
	ck_assert_int_eq(dbvalue_convert(SYBINT1, &u1, 1, &val, text), 0);
	ck_assert(val.v.i == 255); /* tinyint is unsigned */
	ck_assert_int_eq(dbvalue_convert(SYBINTN, &u1, 1, &val, text), 0);
	ck_assert(val.v.i == 255);
	ck_assert_int_eq(
	    dbvalue_convert(SYBINT2, (BYTE *)&i2, 2, &val, text), 0);
	ck_assert(val.v.i == INT16_MIN);
	ck_assert_int_eq(
	    dbvalue_convert(SYBINT4, (BYTE *)&i4, 4, &val, text), 0);
	ck_assert(val.v.i == INT32_MIN);
	ck_assert_int_eq(
	    dbvalue_convert(SYBINT4, (BYTE *)&i4, 2, &val, text), -1);
	/* real stays a float32: 0.1f, not 0.1 widened. */
	ck_assert_int_eq(
	    dbvalue_convert(SYBREAL, (BYTE *)&r, 4, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_REAL);
	ck_assert(val.v.real == 0.1f);
	ck_assert_int_eq(
	    dbvalue_convert(SYBFLTN, (BYTE *)&r, 4, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_REAL);
	ck_assert_int_eq(
	    dbvalue_convert(SYBFLT8, (BYTE *)&f, 8, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_FLOAT);
	ck_assert(val.v.flt == 0.1);
	ck_assert_int_eq(dbvalue_convert(SYBBIT, &bit, 1, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_BOOL);
	ck_assert_int_eq(val.v.b, 1);
	bit = 0;
	ck_assert_int_eq(dbvalue_convert(SYBBITN, &bit, 1, &val, text), 0);
	ck_assert_int_eq(val.v.b, 0);
}
END_TEST

START_TEST(test_strings)
{
	static const char utf8[] = "h\xc3\xa9llo  ";
	static const BYTE bin[] = { 0, 1, 2, 0xff };

	/* Strings and binaries point into db-lib's buffer. */
	ck_assert_int_eq(dbvalue_convert(SYBCHAR, (const BYTE *)utf8,
			     (int)strlen(utf8), &val, text),
	    0);
	ck_assert_int_eq(val.type, FRAME_VALUE_STR);
	ck_assert_ptr_eq(val.v.s.ptr, (const uint8_t *)utf8);
	ck_assert_uint_eq(val.v.s.len, strlen(utf8));
	ck_assert_int_eq(
	    dbvalue_convert(SYBTEXT, (const BYTE *)utf8, 0, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_STR);
	ck_assert_uint_eq(val.v.s.len, 0);
	ck_assert_int_eq(dbvalue_convert(SYBIMAGE, bin, 4, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_BIN);
	ck_assert_ptr_eq(val.v.s.ptr, bin);
	ck_assert_uint_eq(val.v.s.len, 4);
	ck_assert_int_eq(dbvalue_convert(SYBBINARY, bin, 4, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_BIN);
	/* NULL of any type; an unsupported type (sql_variant). */
	ck_assert_int_eq(dbvalue_convert(SYBINT4, NULL, 0, &val, text), 0);
	ck_assert_int_eq(val.type, FRAME_VALUE_NULL);
	ck_assert_int_eq(dbvalue_convert(98, bin, 4, &val, text), -1);
}
END_TEST

START_TEST(test_type_decl)
{
	struct db_param p;
	char buf[DBVALUE_DECL_MAX];

	ck_assert_int_gt(
	    dbvalue_type_decl(buf, sizeof(buf), 106, 17, 38, 10), 0);
	ck_assert_str_eq(buf, "decimal(38,10)");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 231, 80, 0, 0), 0);
	ck_assert_str_eq(buf, "nvarchar(40)");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 231, -1, 0, 0), 0);
	ck_assert_str_eq(buf, "nvarchar(max)");
	ck_assert_int_gt(
	    dbvalue_type_decl(buf, sizeof(buf), 167, 8000, 0, 0), 0);
	ck_assert_str_eq(buf, "varchar(8000)");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 165, -1, 0, 0), 0);
	ck_assert_str_eq(buf, "varbinary(max)");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 173, 10, 0, 0), 0);
	ck_assert_str_eq(buf, "binary(10)");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 42, 8, 27, 3), 0);
	ck_assert_str_eq(buf, "datetime2(3)");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 41, 5, 16, 7), 0);
	ck_assert_str_eq(buf, "time(7)");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 56, 4, 10, 0), 0);
	ck_assert_str_eq(buf, "int");
	ck_assert_int_gt(dbvalue_type_decl(buf, sizeof(buf), 189, 8, 0, 0), 0);
	ck_assert_str_eq(buf, "timestamp");
	ck_assert_int_eq(
	    dbvalue_type_decl(buf, sizeof(buf), 9999, 0, 0, 0), -1);
	ck_assert_int_eq(dbvalue_type_decl(buf, sizeof(buf), 231, 0, 0, 0), -1);
	ck_assert_str_eq(dbvalue_type_name(43), "datetimeoffset");
	ck_assert_str_eq(dbvalue_type_name(36), "uniqueidentifier");
	ck_assert_ptr_null(dbvalue_type_name(1));
	/* Parameters are declared as what their column compares as. */
	memset(&p, 0, sizeof(p));
	p.type_id = 189;
	ck_assert_int_gt(dbvalue_param_decl(buf, sizeof(buf), &p), 0);
	ck_assert_str_eq(buf, "binary(8)");
	p.type_id = 99;
	ck_assert_int_gt(dbvalue_param_decl(buf, sizeof(buf), &p), 0);
	ck_assert_str_eq(buf, "nvarchar(max)");
	p.type_id = 98;
	ck_assert_int_eq(dbvalue_param_decl(buf, sizeof(buf), &p), -1);
}
END_TEST

/* A parameter holding text. */
static struct db_param
make_param(
    uint32_t type_id, int precision, int scale, int max_length, const char *s)
{
	struct db_param p;

	memset(&p, 0, sizeof(p));
	p.type_id = type_id;
	p.precision = precision;
	p.scale = scale;
	p.max_length = max_length;
	p.value.type = FRAME_VALUE_STR;
	p.value.v.s.ptr = (const uint8_t *)s;
	p.value.v.s.len = strlen(s);
	return (p);
}

/*
 * Send text as a parameter of a type; expect db-lib type dbtype, then
 * read the bytes back as readtype and expect back.
 */
static void
check_roundtrip(uint32_t type_id, int precision, int scale, const char *s,
    int dbtype, int readtype, const char *back)
{
	struct db_param p = make_param(type_id, precision, scale, 0, s);
	struct dbvalue_param out;
	char err[128];
	int len;

	ck_assert_msg(
	    dbvalue_param(&p, &out, err, sizeof(err)) == 0, "%s: %s", s, err);
	ck_assert_int_eq(out.dbtype, dbtype);
	len = out.datalen;
	switch (dbtype) {
	case SYBMONEY:
	case SYBDATETIME:
		len = 8;
		break;
	case SYBMONEY4:
	case SYBDATETIME4:
		len = 4;
		break;
	}
	check_text(readtype, out.ptr, len, back);
}

START_TEST(test_param_roundtrip)
{
	check_roundtrip(
	    106, 10, 2, "-12345678.90", SYBDECIMAL, SYBDECIMAL, "-12345678.90");
	check_roundtrip(106, 38, 38, "0.99999999999999999999999999999999999999",
	    SYBDECIMAL, SYBDECIMAL, "0.99999999999999999999999999999999999999");
	check_roundtrip(108, 38, 0, "-99999999999999999999999999999999999999",
	    SYBNUMERIC, SYBDECIMAL, "-99999999999999999999999999999999999999");
	check_roundtrip(106, 4, 2, "12", SYBDECIMAL, SYBDECIMAL, "12.00");
	check_roundtrip(106, 5, 2, "1.230", SYBDECIMAL, SYBDECIMAL, "1.23");
	check_roundtrip(106, 5, 2, "-0.00", SYBDECIMAL, SYBDECIMAL, "0.00");
	check_roundtrip(60, 0, 0, "-922337203685477.5808", SYBMONEY, SYBMONEY,
	    "-922337203685477.5808");
	check_roundtrip(60, 0, 0, "922337203685477.5807", SYBMONEY, SYBMONEY,
	    "922337203685477.5807");
	check_roundtrip(60, 0, 0, "1.5", SYBMONEY, SYBMONEY, "1.5000");
	check_roundtrip(
	    122, 0, 0, "-214748.3648", SYBMONEY4, SYBMONEY4, "-214748.3648");
	check_roundtrip(61, 0, 0, "2024-01-02T03:04:05.003Z", SYBDATETIME,
	    SYBDATETIME, "2024-01-02T03:04:05.003Z");
	check_roundtrip(61, 0, 0, "2024-01-02T03:04:05.007Z", SYBDATETIME,
	    SYBDATETIME, "2024-01-02T03:04:05.007Z");
	check_roundtrip(61, 0, 0, "9999-12-31T23:59:59.997Z", SYBDATETIME,
	    SYBDATETIME, "9999-12-31T23:59:59.997Z");
	check_roundtrip(61, 0, 0, "1753-01-01T00:00:00.000Z", SYBDATETIME,
	    SYBDATETIME, "1753-01-01T00:00:00.000Z");
	check_roundtrip(58, 0, 0, "2079-06-06T23:59:00Z", SYBDATETIME4,
	    SYBDATETIME4, "2079-06-06T23:59:00Z");
	check_roundtrip(42, 0, 7, "2024-01-02T03:04:05.1234567Z",
	    SYBMSDATETIME2, SYBMSDATETIME2, "2024-01-02T03:04:05.1234567Z");
	check_roundtrip(42, 0, 0, "0001-01-01T00:00:00Z", SYBMSDATETIME2,
	    SYBMSDATETIME2, "0001-01-01T00:00:00.0000000Z");
	check_roundtrip(
	    40, 0, 0, "9999-12-31", SYBMSDATETIME2, SYBMSDATE, "9999-12-31");
	check_roundtrip(41, 0, 7, "23:59:59.9999999", SYBMSTIME, SYBMSTIME,
	    "23:59:59.9999999");
	check_roundtrip(43, 0, 7, "2024-01-02T13:30:00.0000000+14:00",
	    SYBMSDATETIMEOFFSET, SYBMSDATETIMEOFFSET,
	    "2024-01-02T13:30:00.0000000+14:00");
	check_roundtrip(43, 0, 7, "2024-01-01T15:00:00.1234567-14:00",
	    SYBMSDATETIMEOFFSET, SYBMSDATETIMEOFFSET,
	    "2024-01-01T15:00:00.1234567-14:00");
	/* db-lib cannot send SYBUNIQUE: the text, checked, converts. */
	check_roundtrip(36, 0, 0, "6F9619FF-8B86-D011-B42D-00C04FC964FF",
	    SYBVARCHAR, SYBCHAR, "6F9619FF-8B86-D011-B42D-00C04FC964FF");
	check_roundtrip(36, 0, 0, "6f9619ff-8b86-d011-b42d-00c04fc964ff",
	    SYBVARCHAR, SYBCHAR, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
	check_roundtrip(
	    231, 0, 0, "h\xc3\xa9llo", SYBVARCHAR, SYBCHAR, "h\xc3\xa9llo");
	/* db-lib sends datalen 0 as NULL: '' goes as ' ', equal in SQL. */
	check_roundtrip(167, 0, 0, "", SYBVARCHAR, SYBCHAR, " ");
}
END_TEST

START_TEST(test_param_rejects)
{
	static const char *bad[][2] = {
		{ "106", "1.234" }, /* would round at scale 2 */
		{ "106", "123.45" }, /* more than precision 4 */
		{ "106", "1e5" },
		{ "106", "" },
		{ "106", "." },
		{ "106", "-" },
		{ "60", "922337203685477.5808" },
		{ "60", "1.23456" },
		{ "122", "214748.3648" },
		{ "61", "2024-02-30T00:00:00Z" },
		{ "61", "1752-12-31T00:00:00Z" },
		{ "61", "2024-01-02T03:04:05+01:00" },
		{ "42", "2024-01-02T03:04:05.12345678Z" },
		{ "42", "2024-01-02" },
		{ "40", "2024-1-2" },
		{ "41", "24:00:00" },
		{ "43", "2024-01-02T03:04:05+14:01" },
		{ "36", "6F9619FF-8B86-D011-B42D-00C04FC964F" },
		{ "36", "6F9619FF+8B86-D011-B42D-00C04FC964FF" },
	};
	struct db_param p;
	struct dbvalue_param out;
	char err[128];
	size_t i;
	uint8_t none[1] = { 0 };

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = make_param((uint32_t)atoi(bad[i][0]), 4, 2, 0, bad[i][1]);
		ck_assert_msg(dbvalue_param(&p, &out, err, sizeof(err)) == -1,
		    "type %s accepted '%s'", bad[i][0], bad[i][1]);
	}
	/* Integers out of range, empty binary, absent, unsupported. */
	memset(&p, 0, sizeof(p));
	p.type_id = 48;
	p.value.type = FRAME_VALUE_INT;
	p.value.v.i = 256;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid value for type tinyint");
	p.type_id = 56;
	p.value.v.i = INT64_C(2147483648);
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), -1);
	p.value.v.i = INT32_MIN;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.dbtype, SYBINT4);
	ck_assert_int_eq(out.datalen, -1);
	p.type_id = 173;
	p.value.type = FRAME_VALUE_BIN;
	p.value.v.s.ptr = none;
	p.value.v.s.len = 0;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), -1);
	p.value.v.s.len = 1;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.dbtype, SYBBINARY);
	ck_assert_int_eq(out.datalen, 1);
	p.value.type = FRAME_VALUE_ABSENT;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), -1);
	p.type_id = 98;
	p.value.type = FRAME_VALUE_NULL;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unsupported for type sql_variant");
}
END_TEST

START_TEST(test_param_kinds)
{
	struct db_param p;
	struct dbvalue_param out;
	char err[128], *big;
	int64_t i8;

	/* NULL of any supported type: datalen 0. */
	memset(&p, 0, sizeof(p));
	p.type_id = 42;
	p.value.type = FRAME_VALUE_NULL;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.datalen, 0);
	ck_assert_ptr_null(out.ptr);
	db_param_bigint(&p, INT64_MIN);
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.dbtype, SYBINT8);
	memcpy(&i8, out.ptr, 8);
	ck_assert(i8 == INT64_MIN);
	/* Long strings go as ntext (nvarchar is 4000 bytes at most). */
	big = malloc(5000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 5000);
	db_param_nvarchar(&p, big, 5000);
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.dbtype, SYBNTEXT);
	ck_assert_int_eq(out.datalen, 5000);
	db_param_nvarchar(&p, big, 4000);
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.dbtype, SYBVARCHAR);
	free(big);
	/* real and float keep their width; bit from a bool. */
	memset(&p, 0, sizeof(p));
	p.type_id = 59;
	p.value.type = FRAME_VALUE_REAL;
	p.value.v.real = 0.1f;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.dbtype, SYBREAL);
	ck_assert(*(const float *)out.ptr == 0.1f);
	p.type_id = 104;
	p.value.type = FRAME_VALUE_BOOL;
	p.value.v.b = 1;
	ck_assert_int_eq(dbvalue_param(&p, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(out.dbtype, SYBBIT);
	ck_assert_int_eq(*(const uint8_t *)out.ptr, 1);
}
END_TEST

static Suite *
dbvalue_suite(void)
{
	Suite *s = suite_create("dbvalue");
	TCase *tc = tcase_create("convert");

	tcase_add_test(tc, test_decimal);
	tcase_add_test(tc, test_money);
	tcase_add_test(tc, test_datetime);
	tcase_add_test(tc, test_datetime2);
	tcase_add_test(tc, test_datetimeoffset);
	tcase_add_test(tc, test_guid);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);
	tc = tcase_create("param");
	tcase_add_test(tc, test_type_decl);
	tcase_add_test(tc, test_param_roundtrip);
	tcase_add_test(tc, test_param_rejects);
	tcase_add_test(tc, test_param_kinds);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(dbvalue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
