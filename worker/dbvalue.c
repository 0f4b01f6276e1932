/*
 * dbvalue.c: SQL Server values between db-lib's binary forms and the
 * frame encoding of proto.h, in both directions.
 *
 * Reading: dbvalue_convert() turns what dbdata()/dbdatlen() give for a
 * column into a struct frame_value.  It is on the backfill's hot path
 * (every cell of millions of rows), so it never allocates: strings and
 * binaries point into db-lib's row buffer, and the values that must be
 * formatted (decimal, money, dates and times, GUID) are written into a
 * caller-provided buffer of DBVALUE_TEXT_MAX bytes, one per column.
 * Both stay valid until the next row is fetched.
 *
 * The binary forms are FreeTDS 1.3's, read from its sources (src/tds/
 * data.c, numeric.c, include/freetds/proto.h), host byte order:
 *
 *	DBNUMERIC	precision, scale, array[0] = 1 if negative, then the
 *			magnitude BIG-endian in tds_numeric_bytes_per_prec
 *			[precision] - 1 bytes (FreeTDS swaps the wire's
 *			little-endian magnitude and inverts its sign byte)
 *	DBMONEY		mnyhigh (int32), mnylow (uint32) of value x 10^4
 *	DBMONEY4	int32 of value x 10^4
 *	DBDATETIME	dtdays (days from 1900-01-01), dttime (1/300 s)
 *	DBDATETIME4	days (uint16 from 1900-01-01), minutes
 *	DBDATETIMEALL	time in 100 ns units (already scaled to 7 digits),
 *			date in days from 1900-01-01 (0001-01-01 is
 *			-693595), offset in minutes, time_prec = the
 *			column's scale; for datetimeoffset date and time
 *			are UTC, as on the wire
 *	GUID		Data1 (uint32), Data2, Data3 (uint16), Data4[8]: the
 *			wire's first 8 bytes are little-endian fields
 *
 * The formats are exact and fixed: decimals with exactly scale fraction
 * digits, never through a double; money with 4; datetime with 3, the
 * 1/300 s tick rounded to milliseconds as SQL Server shows it (.003,
 * .007); datetime2 and datetimeoffset with the column's scale; time
 * always with 7 (proto.h "HH:MM:SS.fffffff"); smalldatetime with none.
 * datetime, datetime2 and smalldatetime carry no zone, and proto.h
 * defines them as UTC ("Z"); datetimeoffset is shown in its own local
 * time with its offset ("+02:00"), like SQL Server.
 *
 * Writing: dbvalue_param() turns a struct db_param (a frame value and
 * its SQL Server type, e.g. a key read back from the state file) into
 * the db-lib type and bytes that dbrpcparam() sends, parsing the same
 * canonical strings.  The sp_executesql declaration gives the type the
 * server compares with; the value only has to convert to it exactly.
 * Two FreeTDS 1.3 limits (src/dblib/rpc.c, misc/types.csv) shape it:
 * a datalen of 0 always means NULL, so an empty string is sent as one
 * space (SQL Server compares strings with trailing spaces ignored, so
 * '' = ' ') and an empty binary cannot be sent; SYBUNIQUE and SYBMSDATE
 * are both "fixed" and "nullable" in its type table, so dbrpcparam()
 * refuses any non-NULL value of them (SYBERPUL): a GUID is sent as its
 * canonical text and a date as a datetime2 at midnight, and the
 * declaration converts them back exactly.
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sybfront.h>
#include <sybdb.h>

#include "worker.h"

/*
 * TDS types db-lib returns or accepts but sybdb.h does not name (FreeTDS
 * include/freetds/proto.h, TDS_SERVER_TYPE).
 */
#define DBV_SYBUNIQUE 36
#define DBV_SYBVARIANT 98
#define DBV_XSYBVARBINARY 165
#define DBV_XSYBVARCHAR 167
#define DBV_XSYBBINARY 173
#define DBV_XSYBCHAR 175
#define DBV_SYBLONGBINARY 225
#define DBV_XSYBNVARCHAR 231
#define DBV_XSYBNCHAR 239
#define DBV_SYBMSUDT 240
#define DBV_SYBMSXML 241

/* sys.types system_type_id values. */
#define TYPE_IMAGE 34
#define TYPE_TEXT 35
#define TYPE_UNIQUEIDENTIFIER 36
#define TYPE_DATE 40
#define TYPE_TIME 41
#define TYPE_DATETIME2 42
#define TYPE_DATETIMEOFFSET 43
#define TYPE_TINYINT 48
#define TYPE_SMALLINT 52
#define TYPE_INT 56
#define TYPE_SMALLDATETIME 58
#define TYPE_REAL 59
#define TYPE_MONEY 60
#define TYPE_DATETIME 61
#define TYPE_FLOAT 62
#define TYPE_SQL_VARIANT 98
#define TYPE_NTEXT 99
#define TYPE_BIT 104
#define TYPE_DECIMAL 106
#define TYPE_NUMERIC 108
#define TYPE_SMALLMONEY 122
#define TYPE_BIGINT 127
#define TYPE_VARBINARY 165
#define TYPE_VARCHAR 167
#define TYPE_BINARY 173
#define TYPE_CHAR 175
#define TYPE_TIMESTAMP 189
#define TYPE_NVARCHAR 231
#define TYPE_NCHAR 239
#define TYPE_UDT 240
#define TYPE_XML 241

#define DBV_MAX_PRECISION 38
#define DBV_DAYS_1900_TO_1970 25567
#define DBV_TICKS_PER_DAY 864000000000LL /* 100 ns units */
#define DBV_DT_TICKS_PER_DAY 25920000 /* datetime: 1/300 s */
#define DBV_LONG_STRING 4000 /* bytes sent as nvarchar */
#define DBV_LONG_BINARY 8000 /* bytes sent as varbinary */

/* Parsed date and time (the frame's canonical text). */
struct dbv_when {
	int64_t days; /* from 1900-01-01 */
	uint64_t ticks; /* 100 ns units since midnight */
	int offset; /* minutes east of UTC */
	int has_offset;
};

_Static_assert(sizeof(DBDECIMAL) <= 48, "DBDECIMAL fits dbvalue_param");
_Static_assert(sizeof(DBDATETIMEALL) <= 48, "DBDATETIMEALL fits");

/* Bytes of a DBNUMERIC array for a precision (FreeTDS numeric.c). */
static const int dbv_bytes_per_prec[DBV_MAX_PRECISION + 1] = { 1, 2, 2, 3, 3, 4,
	4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 9, 9, 10, 10, 11, 11, 11, 12, 12,
	13, 13, 14, 14, 14, 15, 15, 16, 16, 16, 17, 17 };

static const uint32_t dbv_pow10[10] = { 1, 10, 100, 1000, 10000, 100000,
	1000000, 10000000, 100000000, 1000000000 };

static void dbv_set_str(struct frame_value *, const char *, size_t);
static void dbv_set_bin(struct frame_value *, const uint8_t *, size_t);
static void dbv_set_int(struct frame_value *, int64_t);
static char *dbv_digits(char *, uint64_t, int);
static int dbv_int(int, const uint8_t *, int, struct frame_value *);
static int dbv_float(int, const uint8_t *, int, struct frame_value *);
static size_t dbv_magnitude_text(const uint8_t *, int, char *);
static size_t dbv_decimal_text(const char *, size_t, int, int, char *);
static int dbv_decimal(const uint8_t *, int, struct frame_value *, char *);
static size_t dbv_money_text(int64_t, char *);
static int dbv_money(int, const uint8_t *, int, struct frame_value *, char *);
static void dbv_civil(int64_t, int *, int *, int *);
static int64_t dbv_days(int, int, int);
static char *dbv_date_text(char *, int64_t);
static char *dbv_time_text(char *, uint64_t, int);
static char *dbv_offset_text(char *, int);
static int dbv_datetime(
    int, const uint8_t *, int, struct frame_value *, char *);
static int dbv_datetimeall(
    int, const uint8_t *, int, struct frame_value *, char *);
static int dbv_guid(const uint8_t *, int, struct frame_value *, char *);
static int dbv_hex(int);
static int dbv_number(const char **, const char *, int, int *);
static int dbv_parse_date(const char **, const char *, struct dbv_when *);
static int dbv_parse_time(const char **, const char *, struct dbv_when *);
static int dbv_parse_offset(const char **, const char *, struct dbv_when *);
static int dbv_parse_when(
    const struct frame_value *, uint32_t, struct dbv_when *);
static int dbv_parse_decimal(
    const uint8_t *, size_t, int, int, int *, uint8_t *, size_t);
static int dbv_parse_guid(const uint8_t *, size_t, uint8_t *);
static int dbv_param_int(const struct db_param *, struct dbvalue_param *);
static int dbv_param_float(const struct db_param *, struct dbvalue_param *);
static int dbv_param_decimal(const struct db_param *, struct dbvalue_param *);
static int dbv_param_money(const struct db_param *, struct dbvalue_param *);
static int dbv_param_datetime(const struct db_param *, struct dbvalue_param *);
static int dbv_param_datetimeall(
    const struct db_param *, struct dbvalue_param *);
static int dbv_param_string(const struct db_param *, struct dbvalue_param *);
static int dbv_param_binary(const struct db_param *, struct dbvalue_param *);
static int dbv_param_guid(const struct db_param *, struct dbvalue_param *);
static int dbv_param_error(
    char *, size_t, const struct db_param *, const char *);
static int dbv_null_type(uint32_t);

/* Point a value at text. */
static void
dbv_set_str(struct frame_value *v, const char *s, size_t len)
{
	v->type = FRAME_VALUE_STR;
	v->v.s.ptr = (const uint8_t *)s;
	v->v.s.len = len;
}

/* Point a value at bytes. */
static void
dbv_set_bin(struct frame_value *v, const uint8_t *b, size_t len)
{
	v->type = FRAME_VALUE_BIN;
	v->v.s.ptr = b;
	v->v.s.len = len;
}

/* Set an integer value. */
static void
dbv_set_int(struct frame_value *v, int64_t i)
{
	v->type = FRAME_VALUE_INT;
	v->v.i = i;
}

/* Write n decimal digits of x, zero-padded; return the end. */
static char *
dbv_digits(char *p, uint64_t x, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = '0' + (char)(x % 10);
		x /= 10;
	}
	return (p + n);
}

/* Integer types: tinyint is unsigned, the others signed. */
static int
dbv_int(int type, const uint8_t *data, int len, struct frame_value *v)
{
	int16_t i2;
	int32_t i4;
	int64_t i8;

	if (type == SYBINT1 || (type == SYBINTN && len == 1)) {
		if (len != 1)
			return (-1);
		dbv_set_int(v, data[0]);
	} else if (type == SYBINT2 || (type == SYBINTN && len == 2)) {
		if (len != 2)
			return (-1);
		memcpy(&i2, data, 2);
		dbv_set_int(v, i2);
	} else if (type == SYBINT4 || (type == SYBINTN && len == 4)) {
		if (len != 4)
			return (-1);
		memcpy(&i4, data, 4);
		dbv_set_int(v, i4);
	} else {
		if (len != 8)
			return (-1);
		memcpy(&i8, data, 8);
		dbv_set_int(v, i8);
	}
	return (0);
}

/* real stays a float32, float a float64. */
static int
dbv_float(int type, const uint8_t *data, int len, struct frame_value *v)
{
	if (type == SYBREAL || (type == SYBFLTN && len == 4)) {
		if (len != 4)
			return (-1);
		v->type = FRAME_VALUE_REAL;
		memcpy(&v->v.real, data, 4);
	} else {
		if (len != 8)
			return (-1);
		v->type = FRAME_VALUE_FLOAT;
		memcpy(&v->v.flt, data, 8);
	}
	return (0);
}

/*
 * Decimal digits of a big-endian magnitude of up to 16 bytes, most
 * significant first, without leading zeros ("" for zero).  Repeated
 * division of 32-bit limbs by 10^9: exact at any precision.
 */
static size_t
dbv_magnitude_text(const uint8_t *mag, int nbytes, char *out)
{
	uint32_t limb[5] = { 0 };
	char rev[64];
	uint64_t cur, rem;
	int nl, first, i, j, k;
	size_t nd = 0;

	nl = (nbytes + 3) / 4;
	for (i = 0; i < nbytes; i++) {
		j = nl - 1 - (nbytes - 1 - i) / 4;
		limb[j] = (limb[j] << 8) | mag[i];
	}
	first = 0;
	while (first < nl && limb[first] == 0)
		first++;
	while (first < nl) {
		rem = 0;
		for (k = first; k < nl; k++) {
			cur = (rem << 32) | limb[k];
			limb[k] = (uint32_t)(cur / 1000000000);
			rem = cur % 1000000000;
		}
		while (first < nl && limb[first] == 0)
			first++;
		for (k = 0; k < 9; k++) {
			rev[nd++] = '0' + (char)(rem % 10);
			rem /= 10;
		}
	}
	while (nd > 0 && rev[nd - 1] == '0')
		nd--;
	for (i = 0; i < (int)nd; i++)
		out[i] = rev[nd - 1 - i];
	return (nd);
}

/*
 * Place the decimal point: digits (most significant first, no leading
 * zeros) with exactly scale fraction digits; "-" only if not zero.
 */
static size_t
dbv_decimal_text(const char *dig, size_t nd, int negative, int scale, char *out)
{
	char *p = out;
	size_t i, intdigits, s = (size_t)scale;

	if (negative && nd > 0)
		*p++ = '-';
	intdigits = nd > s ? nd - s : 0;
	if (intdigits == 0)
		*p++ = '0';
	for (i = 0; i < intdigits; i++)
		*p++ = dig[i];
	if (s > 0) {
		*p++ = '.';
		for (i = 0; i + nd < s; i++)
			*p++ = '0';
		for (i = intdigits; i < nd; i++)
			*p++ = dig[i];
	}
	*p = '\0';
	return ((size_t)(p - out));
}

/* decimal and numeric, from FreeTDS's DBNUMERIC. */
static int
dbv_decimal(const uint8_t *data, int len, struct frame_value *v, char *text)
{
	DBNUMERIC num;
	char dig[48];
	size_t nd;
	int nbytes;

	if (len < 2 || len > (int)sizeof(num))
		return (-1);
	memset(&num, 0, sizeof(num));
	memcpy(&num, data, (size_t)len);
	if (num.precision < 1 || num.precision > DBV_MAX_PRECISION ||
	    num.scale > num.precision || num.array[0] > 1)
		return (-1);
	nbytes = dbv_bytes_per_prec[num.precision] - 1;
	if (len < 2 + 1 + nbytes)
		return (-1);
	nd = dbv_magnitude_text(num.array + 1, nbytes, dig);
	if (nd > DBV_MAX_PRECISION + 1)
		return (-1);
	nd = dbv_decimal_text(dig, nd, num.array[0] == 1, num.scale, text);
	dbv_set_str(v, text, nd);
	return (0);
}

/* Money text from the value x 10^4; INT64_MIN included. */
static size_t
dbv_money_text(int64_t m, char *out)
{
	char dig[24], *p;
	uint64_t u;
	size_t nd;

	u = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
	p = dig + sizeof(dig);
	nd = 0;
	while (u > 0) {
		*--p = '0' + (char)(u % 10);
		u /= 10;
		nd++;
	}
	return (dbv_decimal_text(p, nd, m < 0, 4, out));
}

/* money and smallmoney. */
static int
dbv_money(
    int type, const uint8_t *data, int len, struct frame_value *v, char *text)
{
	DBMONEY m;
	DBMONEY4 m4;
	int64_t x;

	if (type == SYBMONEY4 || (type == SYBMONEYN && len == 4)) {
		if (len != 4)
			return (-1);
		memcpy(&m4, data, 4);
		x = m4.mny4;
	} else {
		if (len != 8)
			return (-1);
		memcpy(&m, data, 8);
		x = (int64_t)(((uint64_t)(uint32_t)m.mnyhigh << 32) | m.mnylow);
	}
	dbv_set_str(v, text, dbv_money_text(x, text));
	return (0);
}

/* Civil date of a day number from 1900-01-01 (H. Hinnant's algorithm). */
static void
dbv_civil(int64_t days1900, int *y, int *m, int *d)
{
	int64_t z, era, doe, yoe, doy, mp;

	z = days1900 - DBV_DAYS_1900_TO_1970 + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Day number from 1900-01-01 of a civil date. */
static int64_t
dbv_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468 + DBV_DAYS_1900_TO_1970);
}

/* "YYYY-MM-DD"; NULL outside years 1 to 9999. */
static char *
dbv_date_text(char *p, int64_t days1900)
{
	int y, m, d;

	dbv_civil(days1900, &y, &m, &d);
	if (y < 1 || y > 9999)
		return (NULL);
	p = dbv_digits(p, (uint64_t)y, 4);
	*p++ = '-';
	p = dbv_digits(p, (uint64_t)m, 2);
	*p++ = '-';
	return (dbv_digits(p, (uint64_t)d, 2));
}

/* "HH:MM:SS" and digits fraction digits of 100 ns ticks. */
static char *
dbv_time_text(char *p, uint64_t ticks, int digits)
{
	uint64_t secs = ticks / 10000000;

	p = dbv_digits(p, secs / 3600, 2);
	*p++ = ':';
	p = dbv_digits(p, secs / 60 % 60, 2);
	*p++ = ':';
	p = dbv_digits(p, secs % 60, 2);
	if (digits > 0) {
		*p++ = '.';
		p = dbv_digits(
		    p, ticks % 10000000 / dbv_pow10[7 - digits], digits);
	}
	return (p);
}

/* "+HH:MM" or "-HH:MM". */
static char *
dbv_offset_text(char *p, int offset)
{
	*p++ = offset < 0 ? '-' : '+';
	if (offset < 0)
		offset = -offset;
	p = dbv_digits(p, (uint64_t)offset / 60, 2);
	*p++ = ':';
	return (dbv_digits(p, (uint64_t)offset % 60, 2));
}

/* datetime (3 fraction digits) and smalldatetime (none), in UTC. */
static int
dbv_datetime(
    int type, const uint8_t *data, int len, struct frame_value *v, char *text)
{
	DBDATETIME dt;
	DBDATETIME4 dt4;
	uint64_t ms;
	char *p;

	if (type == SYBDATETIME4 || (type == SYBDATETIMN && len == 4)) {
		if (len != 4)
			return (-1);
		memcpy(&dt4, data, 4);
		if (dt4.minutes >= 1440)
			return (-1);
		if ((p = dbv_date_text(text, dt4.days)) == NULL)
			return (-1);
		*p++ = 'T';
		p = dbv_time_text(p, (uint64_t)dt4.minutes * 600000000, 0);
	} else {
		if (len != 8)
			return (-1);
		memcpy(&dt, data, 8);
		if (dt.dttime < 0 || dt.dttime >= DBV_DT_TICKS_PER_DAY)
			return (-1);
		if ((p = dbv_date_text(text, dt.dtdays)) == NULL)
			return (-1);
		*p++ = 'T';
		/* 1/300 s to the nearest millisecond: 1 -> .003, 2 -> .007 */
		ms = ((uint64_t)dt.dttime * 10 + 1) / 3;
		p = dbv_time_text(p, ms * 10000, 3);
	}
	*p++ = 'Z';
	*p = '\0';
	dbv_set_str(v, text, (size_t)(p - text));
	return (0);
}

/* date, time, datetime2 and datetimeoffset, from DBDATETIMEALL. */
static int
dbv_datetimeall(
    int type, const uint8_t *data, int len, struct frame_value *v, char *text)
{
	DBDATETIMEALL dta;
	int64_t days, ticks;
	char *p = text;

	if (len != (int)sizeof(dta))
		return (-1);
	memcpy(&dta, data, sizeof(dta));
	if (dta.time >= (uint64_t)DBV_TICKS_PER_DAY || dta.time_prec > 7)
		return (-1);
	days = dta.date;
	ticks = (int64_t)dta.time;
	if (type == SYBMSDATETIMEOFFSET) {
		if (dta.offset < -840 || dta.offset > 840)
			return (-1);
		/* The wire carries UTC: show the local time. */
		ticks += (int64_t)dta.offset * 600000000;
		if (ticks < 0) {
			ticks += DBV_TICKS_PER_DAY;
			days--;
		} else if (ticks >= DBV_TICKS_PER_DAY) {
			ticks -= DBV_TICKS_PER_DAY;
			days++;
		}
	}
	if (type != SYBMSTIME && (p = dbv_date_text(p, days)) == NULL)
		return (-1);
	if (type == SYBMSTIME)
		p = dbv_time_text(p, (uint64_t)ticks, 7);
	else if (type != SYBMSDATE) {
		*p++ = 'T';
		p = dbv_time_text(p, (uint64_t)ticks, dta.time_prec);
		if (type == SYBMSDATETIMEOFFSET)
			p = dbv_offset_text(p, dta.offset);
		else
			*p++ = 'Z';
	}
	*p = '\0';
	dbv_set_str(v, text, (size_t)(p - text));
	return (0);
}

/* uniqueidentifier as canonical upper-case text. */
static int
dbv_guid(const uint8_t *data, int len, struct frame_value *v, char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t b[16];
	uint32_t d1;
	uint16_t d2, d3;
	char *p = text;
	int i;

	if (len != 16)
		return (-1);
	memcpy(&d1, data, 4);
	memcpy(&d2, data + 4, 2);
	memcpy(&d3, data + 6, 2);
	b[0] = d1 >> 24;
	b[1] = d1 >> 16;
	b[2] = d1 >> 8;
	b[3] = d1;
	b[4] = d2 >> 8;
	b[5] = d2;
	b[6] = d3 >> 8;
	b[7] = d3;
	memcpy(b + 8, data + 8, 8);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 0xf];
	}
	*p = '\0';
	dbv_set_str(v, text, 36);
	return (0);
}

/*
 * Convert one column of a row: dbtype is dbcoltype(), data and len are
 * dbdata() and dbdatlen() (data NULL is SQL NULL).  text is the
 * column's DBVALUE_TEXT_MAX-byte buffer.  -1 if the type is not
 * supported or the bytes are malformed.
 */
int
dbvalue_convert(
    int dbtype, const uint8_t *data, int len, struct frame_value *v, char *text)
{
	if (data == NULL) {
		v->type = FRAME_VALUE_NULL;
		return (0);
	}
	if (len < 0)
		return (-1);
	switch (dbtype) {
	case SYBINT1:
	case SYBINT2:
	case SYBINT4:
	case SYBINT8:
	case SYBINTN:
		return (dbv_int(dbtype, data, len, v));
	case SYBBIT:
	case SYBBITN:
		if (len != 1)
			return (-1);
		v->type = FRAME_VALUE_BOOL;
		v->v.b = data[0] != 0;
		return (0);
	case SYBREAL:
	case SYBFLT8:
	case SYBFLTN:
		return (dbv_float(dbtype, data, len, v));
	case SYBDECIMAL:
	case SYBNUMERIC:
		return (dbv_decimal(data, len, v, text));
	case SYBMONEY:
	case SYBMONEY4:
	case SYBMONEYN:
		return (dbv_money(dbtype, data, len, v, text));
	case SYBDATETIME:
	case SYBDATETIME4:
	case SYBDATETIMN:
		return (dbv_datetime(dbtype, data, len, v, text));
	case SYBMSDATE:
	case SYBMSTIME:
	case SYBMSDATETIME2:
	case SYBMSDATETIMEOFFSET:
		return (dbv_datetimeall(dbtype, data, len, v, text));
	case DBV_SYBUNIQUE:
		return (dbv_guid(data, len, v, text));
	case SYBCHAR:
	case SYBVARCHAR:
	case SYBTEXT:
	case SYBNTEXT:
	case SYBNVARCHAR:
	case DBV_XSYBCHAR:
	case DBV_XSYBVARCHAR:
	case DBV_XSYBNCHAR:
	case DBV_XSYBNVARCHAR:
	case DBV_SYBMSXML:
		dbv_set_str(v, (const char *)data, (size_t)len);
		return (0);
	case SYBBINARY:
	case SYBVARBINARY:
	case SYBIMAGE:
	case DBV_XSYBBINARY:
	case DBV_XSYBVARBINARY:
	case DBV_SYBLONGBINARY:
	case DBV_SYBMSUDT:
		dbv_set_bin(v, data, (size_t)len);
		return (0);
	default:
		return (-1); /* sql_variant among others */
	}
}

/* The sys.types name of a system type id; NULL if unknown. */
const char *
dbvalue_type_name(uint32_t type_id)
{
	switch (type_id) {
	case TYPE_IMAGE:
		return ("image");
	case TYPE_TEXT:
		return ("text");
	case TYPE_UNIQUEIDENTIFIER:
		return ("uniqueidentifier");
	case TYPE_DATE:
		return ("date");
	case TYPE_TIME:
		return ("time");
	case TYPE_DATETIME2:
		return ("datetime2");
	case TYPE_DATETIMEOFFSET:
		return ("datetimeoffset");
	case TYPE_TINYINT:
		return ("tinyint");
	case TYPE_SMALLINT:
		return ("smallint");
	case TYPE_INT:
		return ("int");
	case TYPE_SMALLDATETIME:
		return ("smalldatetime");
	case TYPE_REAL:
		return ("real");
	case TYPE_MONEY:
		return ("money");
	case TYPE_DATETIME:
		return ("datetime");
	case TYPE_FLOAT:
		return ("float");
	case TYPE_SQL_VARIANT:
		return ("sql_variant");
	case TYPE_NTEXT:
		return ("ntext");
	case TYPE_BIT:
		return ("bit");
	case TYPE_DECIMAL:
		return ("decimal");
	case TYPE_NUMERIC:
		return ("numeric");
	case TYPE_SMALLMONEY:
		return ("smallmoney");
	case TYPE_BIGINT:
		return ("bigint");
	case TYPE_VARBINARY:
		return ("varbinary");
	case TYPE_VARCHAR:
		return ("varchar");
	case TYPE_BINARY:
		return ("binary");
	case TYPE_CHAR:
		return ("char");
	case TYPE_TIMESTAMP:
		return ("timestamp");
	case TYPE_NVARCHAR:
		return ("nvarchar");
	case TYPE_NCHAR:
		return ("nchar");
	case TYPE_UDT:
		return ("udt"); /* hierarchyid, geometry...: use the name */
	case TYPE_XML:
		return ("xml");
	default:
		return (NULL);
	}
}

/*
 * Format a type as T-SQL declares it: "decimal(38,10)", "nvarchar(40)"
 * (max_length is in bytes, so halved for nchar/nvarchar), "varbinary
 * (max)", "datetime2(3)", "int".  Returns the length, -1 if the type is
 * unknown or does not fit.
 */
int
dbvalue_type_decl(char *buf, size_t size, uint32_t type_id, int max_length,
    int precision, int scale)
{
	const char *name = dbvalue_type_name(type_id);
	int n, len;

	if (name == NULL)
		return (-1);
	switch (type_id) {
	case TYPE_DECIMAL:
	case TYPE_NUMERIC:
		n = snprintf(buf, size, "%s(%d,%d)", name, precision, scale);
		break;
	case TYPE_CHAR:
	case TYPE_VARCHAR:
	case TYPE_BINARY:
	case TYPE_VARBINARY:
	case TYPE_NCHAR:
	case TYPE_NVARCHAR:
		len = max_length;
		if (len > 0 &&
		    (type_id == TYPE_NCHAR || type_id == TYPE_NVARCHAR))
			len /= 2;
		if (max_length == -1)
			n = snprintf(buf, size, "%s(max)", name);
		else if (len < 1)
			return (-1);
		else
			n = snprintf(buf, size, "%s(%d)", name, len);
		break;
	case TYPE_TIME:
	case TYPE_DATETIME2:
	case TYPE_DATETIMEOFFSET:
		if (scale < 0 || scale > 7)
			return (-1);
		n = snprintf(buf, size, "%s(%d)", name, scale);
		break;
	default:
		n = snprintf(buf, size, "%s", name);
		break;
	}
	if (n < 0 || (size_t)n >= size)
		return (-1);
	return (n);
}

/*
 * The declaration of a parameter in sp_executesql's @params.  Types a
 * variable cannot have are declared as what they compare as: timestamp
 * as binary(8), text/ntext/image/xml as (max) types.
 */
int
dbvalue_param_decl(char *buf, size_t size, const struct db_param *p)
{
	switch (p->type_id) {
	case TYPE_TIMESTAMP:
		return (dbvalue_type_decl(buf, size, TYPE_BINARY, 8, 0, 0));
	case TYPE_TEXT:
		return (dbvalue_type_decl(buf, size, TYPE_VARCHAR, -1, 0, 0));
	case TYPE_NTEXT:
	case TYPE_XML:
		return (dbvalue_type_decl(buf, size, TYPE_NVARCHAR, -1, 0, 0));
	case TYPE_IMAGE:
		return (dbvalue_type_decl(buf, size, TYPE_VARBINARY, -1, 0, 0));
	case TYPE_SQL_VARIANT:
	case TYPE_UDT:
		return (-1);
	default:
		return (dbvalue_type_decl(buf, size, p->type_id, p->max_length,
		    p->precision, p->scale));
	}
}

/* Value of a hex digit, -1 if not one. */
static int
dbv_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Exactly n decimal digits at *sp. */
static int
dbv_number(const char **sp, const char *end, int n, int *out)
{
	const char *s = *sp;
	int i, x = 0;

	if (end - s < n)
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		x = x * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = x;
	return (0);
}

/* "YYYY-MM-DD". */
static int
dbv_parse_date(const char **sp, const char *end, struct dbv_when *w)
{
	int y, m, d, y2, m2, d2;

	if (dbv_number(sp, end, 4, &y) == -1 || *sp == end || *(*sp)++ != '-' ||
	    dbv_number(sp, end, 2, &m) == -1 || *sp == end || *(*sp)++ != '-' ||
	    dbv_number(sp, end, 2, &d) == -1)
		return (-1);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		return (-1);
	w->days = dbv_days(y, m, d);
	dbv_civil(w->days, &y2, &m2, &d2);
	if (y2 != y || m2 != m || d2 != d) /* 2023-02-30 */
		return (-1);
	return (0);
}

/* "HH:MM:SS" with up to 7 fraction digits. */
static int
dbv_parse_time(const char **sp, const char *end, struct dbv_when *w)
{
	int h, mi, s, n;
	uint64_t frac = 0;

	if (dbv_number(sp, end, 2, &h) == -1 || *sp == end || *(*sp)++ != ':' ||
	    dbv_number(sp, end, 2, &mi) == -1 || *sp == end ||
	    *(*sp)++ != ':' || dbv_number(sp, end, 2, &s) == -1)
		return (-1);
	if (h > 23 || mi > 59 || s > 59)
		return (-1);
	if (*sp < end && **sp == '.') {
		(*sp)++;
		for (n = 0; *sp < end && **sp >= '0' && **sp <= '9'; n++) {
			if (n == 7)
				return (-1);
			frac = frac * 10 + (uint64_t)(*(*sp)++ - '0');
		}
		if (n == 0)
			return (-1);
		frac *= dbv_pow10[7 - n];
	}
	w->ticks =
	    ((uint64_t)h * 3600 + (uint64_t)mi * 60 + (uint64_t)s) * 10000000 +
	    frac;
	return (0);
}

/* "Z", "+HH:MM" or "-HH:MM". */
static int
dbv_parse_offset(const char **sp, const char *end, struct dbv_when *w)
{
	int sign, h, m;

	if (*sp == end)
		return (0);
	w->has_offset = 1;
	if (**sp == 'Z') {
		(*sp)++;
		w->offset = 0;
		return (0);
	}
	if (**sp != '+' && **sp != '-')
		return (-1);
	sign = *(*sp)++ == '-' ? -1 : 1;
	if (dbv_number(sp, end, 2, &h) == -1 || *sp == end || *(*sp)++ != ':' ||
	    dbv_number(sp, end, 2, &m) == -1 || m > 59)
		return (-1);
	w->offset = sign * (h * 60 + m);
	if (w->offset < -840 || w->offset > 840)
		return (-1);
	return (0);
}

/* Parse a date, time or timestamp string of a type. */
static int
dbv_parse_when(
    const struct frame_value *v, uint32_t type_id, struct dbv_when *w)
{
	const char *s, *end;

	memset(w, 0, sizeof(*w));
	if (v->type != FRAME_VALUE_STR)
		return (-1);
	s = (const char *)v->v.s.ptr;
	end = s + v->v.s.len;
	if (type_id == TYPE_TIME)
		return (dbv_parse_time(&s, end, w) == -1 || s != end ? -1 : 0);
	if (dbv_parse_date(&s, end, w) == -1)
		return (-1);
	if (type_id == TYPE_DATE)
		return (s != end ? -1 : 0);
	if (s == end || (*s != 'T' && *s != ' '))
		return (-1);
	s++;
	if (dbv_parse_time(&s, end, w) == -1 ||
	    dbv_parse_offset(&s, end, w) == -1 || s != end)
		return (-1);
	return (0);
}

/*
 * Parse canonical decimal text into a sign and a big-endian magnitude
 * of nbytes scaled to scale fraction digits (more non-zero fraction
 * digits, or more than precision digits, are an error).
 */
static int
dbv_parse_decimal(const uint8_t *s, size_t len, int precision, int scale,
    int *negative, uint8_t *mag, size_t nbytes)
{
	size_t i, ndig = 0, nfrac = 0;
	int seen_point = 0, seen_digit = 0, carry, j;

	memset(mag, 0, nbytes);
	*negative = 0;
	i = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		*negative = s[i++] == '-';
	if (i == len)
		return (-1);
	for (; i < len || nfrac < (size_t)scale; i++) {
		if (i < len && s[i] == '.' && !seen_point) {
			seen_point = 1;
			continue;
		}
		if (i < len && (s[i] < '0' || s[i] > '9'))
			return (-1);
		if (i < len)
			seen_digit = 1;
		else if (!seen_digit)
			return (-1);
		carry = i < len ? s[i] - '0' : 0;
		if (seen_point || i >= len) {
			if (nfrac == (size_t)scale) {
				if (carry != 0)
					return (-1); /* would be rounded */
				continue;
			}
			nfrac++;
		}
		if (ndig > 0 || carry != 0)
			ndig++;
		if (ndig > (size_t)precision)
			return (-1);
		for (j = (int)nbytes - 1; j >= 0; j--) {
			carry += mag[j] * 10;
			mag[j] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	return (seen_digit ? 0 : -1);
}

/* Canonical GUID text to FreeTDS's 16 bytes. */
static int
dbv_parse_guid(const uint8_t *s, size_t len, uint8_t *out)
{
	uint8_t b[16];
	uint32_t d1;
	uint16_t d2, d3;
	size_t i, n = 0;
	int hi, lo;

	if (len != 36)
		return (-1);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (-1);
			continue;
		}
		hi = dbv_hex(s[i++]);
		lo = dbv_hex(s[i]);
		if (hi < 0 || lo < 0)
			return (-1);
		b[n++] = (uint8_t)(hi << 4 | lo);
	}
	d1 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	    b[3];
	d2 = (uint16_t)(b[4] << 8 | b[5]);
	d3 = (uint16_t)(b[6] << 8 | b[7]);
	memcpy(out, &d1, 4);
	memcpy(out + 4, &d2, 2);
	memcpy(out + 6, &d3, 2);
	memcpy(out + 8, b + 8, 8);
	return (0);
}

/* tinyint, smallint, int, bigint, bit. */
static int
dbv_param_int(const struct db_param *p, struct dbvalue_param *out)
{
	const struct frame_value *v = &p->value;
	int64_t i;

	if (v->type == FRAME_VALUE_BOOL && p->type_id == TYPE_BIT)
		i = v->v.b != 0;
	else if (v->type == FRAME_VALUE_INT)
		i = v->v.i;
	else
		return (-1);
	out->datalen = -1;
	switch (p->type_id) {
	case TYPE_BIT:
		if (i != 0 && i != 1)
			return (-1);
		out->dbtype = SYBBIT;
		out->u.b[0] = (uint8_t)i;
		break;
	case TYPE_TINYINT:
		if (i < 0 || i > 255)
			return (-1);
		out->dbtype = SYBINT1;
		out->u.b[0] = (uint8_t)i;
		break;
	case TYPE_SMALLINT:
		if (i < INT16_MIN || i > INT16_MAX)
			return (-1);
		out->dbtype = SYBINT2;
		memcpy(out->u.b, &(int16_t){ (int16_t)i }, 2);
		break;
	case TYPE_INT:
		if (i < INT32_MIN || i > INT32_MAX)
			return (-1);
		out->dbtype = SYBINT4;
		memcpy(out->u.b, &(int32_t){ (int32_t)i }, 4);
		break;
	default:
		out->dbtype = SYBINT8;
		out->u.i = i;
		break;
	}
	out->ptr = out->u.b;
	return (0);
}

/* real and float. */
static int
dbv_param_float(const struct db_param *p, struct dbvalue_param *out)
{
	const struct frame_value *v = &p->value;
	double d;
	float f;

	if (v->type == FRAME_VALUE_REAL)
		d = v->v.real;
	else if (v->type == FRAME_VALUE_FLOAT)
		d = v->v.flt;
	else
		return (-1);
	out->datalen = -1;
	if (p->type_id == TYPE_REAL) {
		out->dbtype = SYBREAL;
		f = (float)d;
		memcpy(out->u.b, &f, 4);
	} else {
		out->dbtype = SYBFLT8;
		out->u.f = d;
	}
	out->ptr = out->u.b;
	return (0);
}

/* decimal and numeric, from text or an integer. */
static int
dbv_param_decimal(const struct db_param *p, struct dbvalue_param *out)
{
	const struct frame_value *v = &p->value;
	DBDECIMAL dec;
	char buf[24];
	const uint8_t *s;
	size_t len;
	int neg;

	if (p->precision < 1 || p->precision > DBV_MAX_PRECISION ||
	    p->scale < 0 || p->scale > p->precision)
		return (-1);
	if (v->type == FRAME_VALUE_STR) {
		s = v->v.s.ptr;
		len = v->v.s.len;
	} else if (v->type == FRAME_VALUE_INT) {
		len = (size_t)snprintf(
		    buf, sizeof(buf), "%lld", (long long)v->v.i);
		s = (const uint8_t *)buf;
	} else
		return (-1);
	memset(&dec, 0, sizeof(dec));
	dec.precision = (unsigned char)p->precision;
	dec.scale = (unsigned char)p->scale;
	if (dbv_parse_decimal(s, len, p->precision, p->scale, &neg,
		dec.array + 1,
		(size_t)dbv_bytes_per_prec[p->precision] - 1) == -1)
		return (-1);
	dec.array[0] = (unsigned char)neg;
	out->dbtype = p->type_id == TYPE_NUMERIC ? SYBNUMERIC : SYBDECIMAL;
	out->datalen = (int)sizeof(dec);
	memcpy(out->u.b, &dec, sizeof(dec));
	out->ptr = out->u.b;
	return (0);
}

/* money and smallmoney, from text with up to 4 fraction digits. */
static int
dbv_param_money(const struct db_param *p, struct dbvalue_param *out)
{
	const struct frame_value *v = &p->value;
	uint8_t mag[9];
	DBMONEY m;
	uint64_t u = 0;
	int64_t x;
	int neg, i;

	if (v->type != FRAME_VALUE_STR ||
	    dbv_parse_decimal(
		v->v.s.ptr, v->v.s.len, 19, 4, &neg, mag, sizeof(mag)) == -1 ||
	    mag[0] != 0)
		return (-1);
	for (i = 1; i < 9; i++)
		u = u << 8 | mag[i];
	if (u > (uint64_t)INT64_MAX + (uint64_t)neg)
		return (-1);
	x = neg ? (int64_t)(0 - u) : (int64_t)u;
	out->datalen = -1;
	out->ptr = out->u.b;
	if (p->type_id == TYPE_SMALLMONEY) {
		if (x < INT32_MIN || x > INT32_MAX)
			return (-1);
		out->dbtype = SYBMONEY4;
		memcpy(out->u.b, &(DBMONEY4){ (DBINT)x }, sizeof(DBMONEY4));
		return (0);
	}
	m.mnyhigh = (DBINT)(x >> 32);
	m.mnylow = (DBUINT)((uint64_t)x & 0xffffffff);
	out->dbtype = SYBMONEY;
	memcpy(out->u.b, &m, sizeof(m));
	return (0);
}

/* datetime (1/300 s ticks) and smalldatetime (minutes), rounded. */
static int
dbv_param_datetime(const struct db_param *p, struct dbvalue_param *out)
{
	struct dbv_when w;
	DBDATETIME dt;
	DBDATETIME4 dt4;
	uint64_t t;

	if (dbv_parse_when(&p->value, p->type_id, &w) == -1 ||
	    (w.has_offset && w.offset != 0))
		return (-1);
	out->datalen = -1;
	out->ptr = out->u.b;
	if (p->type_id == TYPE_SMALLDATETIME) {
		t = (w.ticks + 300000000) / 600000000;
		if (t >= 1440) {
			t -= 1440;
			w.days++;
		}
		if (w.days < 0 || w.days > UINT16_MAX)
			return (-1);
		dt4.days = (DBUSMALLINT)w.days;
		dt4.minutes = (DBUSMALLINT)t;
		out->dbtype = SYBDATETIME4;
		memcpy(out->u.b, &dt4, sizeof(dt4));
		return (0);
	}
	t = (w.ticks * 3 + 50000) / 100000;
	if (t >= DBV_DT_TICKS_PER_DAY) {
		t -= DBV_DT_TICKS_PER_DAY;
		w.days++;
	}
	if (w.days < -53690 || w.days > 2958463) /* 1753-01-01, 9999-12-31 */
		return (-1);
	dt.dtdays = (DBINT)w.days;
	dt.dttime = (DBINT)t;
	out->dbtype = SYBDATETIME;
	memcpy(out->u.b, &dt, sizeof(dt));
	return (0);
}

/* date, time, datetime2, datetimeoffset as DBDATETIMEALL. */
static int
dbv_param_datetimeall(const struct db_param *p, struct dbvalue_param *out)
{
	struct dbv_when w;
	DBDATETIMEALL dta;
	int64_t ticks, days;

	if (dbv_parse_when(&p->value, p->type_id, &w) == -1)
		return (-1);
	memset(&dta, 0, sizeof(dta));
	days = w.days;
	ticks = (int64_t)w.ticks;
	if (p->type_id == TYPE_DATETIMEOFFSET) {
		/* Local time with an offset to UTC plus the offset. */
		ticks -= (int64_t)w.offset * 600000000;
		if (ticks < 0) {
			ticks += DBV_TICKS_PER_DAY;
			days--;
		} else if (ticks >= DBV_TICKS_PER_DAY) {
			ticks -= DBV_TICKS_PER_DAY;
			days++;
		}
		dta.offset = (DBSMALLINT)w.offset;
		dta.has_offset = 1;
		out->dbtype = SYBMSDATETIMEOFFSET;
	} else if (p->type_id == TYPE_TIME)
		out->dbtype = SYBMSTIME;
	else {
		if (w.has_offset && w.offset != 0)
			return (-1);
		out->dbtype = SYBMSDATETIME2; /* also for date: see above */
	}
	if (days < -693595 || days > 2958463)
		return (-1);
	dta.time = (DBUBIGINT)ticks;
	dta.date = (DBINT)days;
	dta.time_prec = 7;
	dta.has_time = 1;
	dta.has_date = p->type_id != TYPE_TIME;
	out->datalen = (int)sizeof(dta);
	memcpy(out->u.b, &dta, sizeof(dta));
	out->ptr = out->u.b;
	return (0);
}

/* Character types: nvarchar up to 4000 bytes, ntext beyond. */
static int
dbv_param_string(const struct db_param *p, struct dbvalue_param *out)
{
	const struct frame_value *v = &p->value;

	if (v->type != FRAME_VALUE_STR || v->v.s.len > INT32_MAX)
		return (-1);
	if (v->v.s.len == 0) {
		out->dbtype = SYBVARCHAR;
		out->ptr = " "; /* see the top of the file */
		out->datalen = 1;
		return (0);
	}
	/* db-lib sends SYBVARCHAR up to 4000 bytes as nvarchar. */
	out->dbtype = v->v.s.len <= DBV_LONG_STRING ? SYBVARCHAR : SYBNTEXT;
	out->ptr = v->v.s.ptr;
	out->datalen = (int)v->v.s.len;
	return (0);
}

/* Binary types; an empty value cannot be sent (it would be NULL). */
static int
dbv_param_binary(const struct db_param *p, struct dbvalue_param *out)
{
	const struct frame_value *v = &p->value;

	if (v->type != FRAME_VALUE_BIN || v->v.s.len == 0 ||
	    v->v.s.len > INT32_MAX)
		return (-1);
	if (v->v.s.len > DBV_LONG_BINARY)
		out->dbtype = SYBIMAGE;
	else if (p->type_id == TYPE_VARBINARY || p->type_id == TYPE_IMAGE)
		out->dbtype = SYBVARBINARY;
	else
		out->dbtype = SYBBINARY;
	out->ptr = v->v.s.ptr;
	out->datalen = (int)v->v.s.len;
	return (0);
}

/*
 * uniqueidentifier: checked, then sent as its text (see the top of the
 * file: db-lib refuses a non-NULL SYBUNIQUE parameter).
 */
static int
dbv_param_guid(const struct db_param *p, struct dbvalue_param *out)
{
	const struct frame_value *v = &p->value;
	uint8_t b[16];

	if (v->type != FRAME_VALUE_STR ||
	    dbv_parse_guid(v->v.s.ptr, v->v.s.len, b) == -1)
		return (-1);
	out->dbtype = SYBVARCHAR;
	out->datalen = (int)v->v.s.len;
	out->ptr = v->v.s.ptr;
	return (0);
}

/* Describe why a parameter cannot be sent. */
static int
dbv_param_error(
    char *err, size_t errlen, const struct db_param *p, const char *why)
{
	const char *name = dbvalue_type_name(p->type_id);

	if (name != NULL)
		snprintf(err, errlen, "%s for type %s", why, name);
	else
		snprintf(err, errlen, "%s for type id %u", why, p->type_id);
	return (-1);
}

/* The db-lib type of a NULL parameter of a type; -1 if unsupported. */
static int
dbv_null_type(uint32_t type_id)
{
	switch (type_id) {
	case TYPE_BIT:
	case TYPE_TINYINT:
	case TYPE_SMALLINT:
	case TYPE_INT:
	case TYPE_BIGINT:
		return (SYBINT8);
	case TYPE_REAL:
	case TYPE_FLOAT:
		return (SYBFLT8);
	case TYPE_DECIMAL:
	case TYPE_NUMERIC:
		return (SYBDECIMAL);
	case TYPE_MONEY:
	case TYPE_SMALLMONEY:
		return (SYBMONEY);
	case TYPE_DATETIME:
	case TYPE_SMALLDATETIME:
		return (SYBDATETIME);
	case TYPE_DATE:
	case TYPE_TIME:
	case TYPE_DATETIME2:
	case TYPE_DATETIMEOFFSET:
		return (SYBMSDATETIME2);
	case TYPE_UNIQUEIDENTIFIER:
		return (DBV_SYBUNIQUE);
	case TYPE_CHAR:
	case TYPE_VARCHAR:
	case TYPE_NCHAR:
	case TYPE_NVARCHAR:
	case TYPE_TEXT:
	case TYPE_NTEXT:
	case TYPE_XML:
		return (SYBVARCHAR);
	case TYPE_BINARY:
	case TYPE_VARBINARY:
	case TYPE_TIMESTAMP:
	case TYPE_IMAGE:
		return (SYBVARBINARY);
	default:
		return (-1);
	}
}

/*
 * Convert a parameter for dbrpcparam(); out must stay in place until
 * the call is sent (ptr may point into it).  -1 with a message in err
 * if the value does not fit the type.
 */
int
dbvalue_param(const struct db_param *p, struct dbvalue_param *out, char *err,
    size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((out->dbtype = dbv_null_type(p->type_id)) == -1)
		return (dbv_param_error(err, errlen, p, "unsupported"));
	if (p->value.type == FRAME_VALUE_ABSENT)
		return (dbv_param_error(err, errlen, p, "absent value"));
	if (p->value.type == FRAME_VALUE_NULL)
		return (0); /* datalen 0 */
	switch (p->type_id) {
	case TYPE_BIT:
	case TYPE_TINYINT:
	case TYPE_SMALLINT:
	case TYPE_INT:
	case TYPE_BIGINT:
		rc = dbv_param_int(p, out);
		break;
	case TYPE_REAL:
	case TYPE_FLOAT:
		rc = dbv_param_float(p, out);
		break;
	case TYPE_DECIMAL:
	case TYPE_NUMERIC:
		rc = dbv_param_decimal(p, out);
		break;
	case TYPE_MONEY:
	case TYPE_SMALLMONEY:
		rc = dbv_param_money(p, out);
		break;
	case TYPE_DATETIME:
	case TYPE_SMALLDATETIME:
		rc = dbv_param_datetime(p, out);
		break;
	case TYPE_DATE:
	case TYPE_TIME:
	case TYPE_DATETIME2:
	case TYPE_DATETIMEOFFSET:
		rc = dbv_param_datetimeall(p, out);
		break;
	case TYPE_UNIQUEIDENTIFIER:
		rc = dbv_param_guid(p, out);
		break;
	case TYPE_BINARY:
	case TYPE_VARBINARY:
	case TYPE_TIMESTAMP:
	case TYPE_IMAGE:
		rc = dbv_param_binary(p, out);
		break;
	default:
		rc = dbv_param_string(p, out);
		break;
	}
	if (rc == -1)
		return (dbv_param_error(err, errlen, p, "invalid value"));
	return (0);
}
