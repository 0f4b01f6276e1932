/*
 * The TDS value codec of mssqlsim ([MS-TDS] 2.2.5; SQLSERVER.md 4.7):
 * TYPE_INFO and values of every declared type, both ways.
 *
 * Writing is the hot path: every value of every row passes through
 * tdstype_write_value(), so it reads the canonical stored form (sim.h)
 * at fixed positions where it can, appends straight into the caller's
 * buffer and never allocates.  A value whose storage class does not
 * match its declared type (an engine expression the engine did not
 * convert) is converted first, on a slow path.
 *
 * The wire type of a declared type is the nullable one (INTN, FLTN,
 * DATETIMN, ...) unless the caller asks for the fixed-length form of a
 * NOT NULL column.  text, ntext and image values carry a text pointer
 * in ROW tokens but not in RPC parameters; TDS_WIRE_TEXTPTR selects the
 * former.  (max) types and xml travel as PLP: total length, one chunk,
 * a zero terminator.
 *
 * Reading (RPC parameters, bulk rows) returns the canonical stored form
 * of the type the TYPE_INFO describes.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "typespriv.h"

#define TDS_NULLTYPE 0x1f
#define TDS_IMAGE 0x22
#define TDS_TEXT 0x23
#define TDS_GUIDN 0x24
#define TDS_VARBINARY 0x25
#define TDS_INTN 0x26
#define TDS_VARCHAR 0x27
#define TDS_DATEN 0x28
#define TDS_TIMEN 0x29
#define TDS_DATETIME2N 0x2a
#define TDS_DATETIMEOFFSETN 0x2b
#define TDS_BINARY 0x2d
#define TDS_CHAR 0x2f
#define TDS_INT1 0x30
#define TDS_BIT 0x32
#define TDS_INT2 0x34
#define TDS_DECIMAL 0x37
#define TDS_INT4 0x38
#define TDS_DATETIM4 0x3a
#define TDS_FLT4 0x3b
#define TDS_MONEY 0x3c
#define TDS_DATETIME 0x3d
#define TDS_FLT8 0x3e
#define TDS_NUMERIC 0x3f
#define TDS_SSVARIANT 0x62
#define TDS_NTEXT 0x63
#define TDS_BITN 0x68
#define TDS_DECIMALN 0x6a
#define TDS_NUMERICN 0x6c
#define TDS_FLTN 0x6d
#define TDS_MONEYN 0x6e
#define TDS_DATETIMN 0x6f
#define TDS_MONEY4 0x7a
#define TDS_INT8 0x7f
#define TDS_BIGVARBIN 0xa5
#define TDS_BIGVARCHR 0xa7
#define TDS_BIGBINARY 0xad
#define TDS_BIGCHAR 0xaf
#define TDS_NVARCHAR 0xe7
#define TDS_NCHAR 0xef
#define TDS_XML 0xf1

static int tds_fixed_size(int);
static int tds_value_size(const struct sim_type *);
static void tds_put_null(struct sbuf *, const struct sim_type *, int);
static void tds_put_le(struct sbuf *, uint64_t, int);
static void tds_put_int(struct sbuf *, const struct sim_type *, int, int64_t);
static void tds_put_float(struct sbuf *, const struct sim_type *, int, double);
static int tds_num(
    const struct typval *, int, struct typnum *, struct sim_error *);
static int tds_put_num(struct sbuf *, const struct sim_type *, int,
    const struct typval *, struct sim_error *);
static int tds_d2(const unsigned char *);
static int tds_digits(const unsigned char *, size_t);
static int tds_fast_time(const unsigned char *, size_t, int64_t *);
static int tds_dt(const struct typval *, const struct sim_type *,
    struct typdt *, struct sim_error *);
static void tds_put_time(struct sbuf *, int64_t, int);
static int tds_put_dt(struct sbuf *, const struct sim_type *, int,
    const struct typval *, struct sim_error *);
static void tds_patch(struct sbuf *, size_t, uint64_t, int);
static void tds_put_chars(struct sbuf *, const struct typval *, int);
static void tds_pad(struct sbuf *, int, size_t);
static void tds_put_data(
    struct sbuf *, const struct sim_type *, int, const struct typval *);
static int tds_put_guid(
    struct sbuf *, const struct typval *, struct sim_error *);
static int tds_put_variant(
    struct sbuf *, const struct typval *, struct sim_error *);
static int tds_kind_ok(const struct sim_type *, int);
static int tds_put(struct sbuf *, const struct sim_type *, int,
    const struct typval *, struct sim_error *);
static int tds_short(struct sim_error *);
static int tds_bad(struct sim_error *, const char *, int);
static int tds_info_sized(int, int, struct sim_type *);
static int tds_info_data(const unsigned char *, size_t, size_t *, int,
    struct sim_type *, struct sim_error *);
static int tds_info_xml(const unsigned char *, size_t, size_t *,
    struct sim_type *, struct sim_error *);
static uint64_t tds_get_le(const unsigned char *, int);
static int tds_get_number(const unsigned char *, int, const struct sim_type *,
    struct simval *, struct sim_error *);
static void tds_set_num(struct simval *, const struct typnum *);
static int tds_get_money(
    const unsigned char *, int, struct simval *, struct sim_error *);
static int tds_get_decimal(const unsigned char *, int, const struct sim_type *,
    struct simval *, struct sim_error *);
static void tds_set_dt(
    struct simval *, const struct typdt *, const struct sim_type *);
static int tds_get_datetime(const unsigned char *, int, const struct sim_type *,
    struct simval *, struct sim_error *);
static int tds_get_dt2(const unsigned char *, int, const struct sim_type *,
    struct simval *, struct sim_error *);
static int tds_set_chars(struct simval *, const unsigned char *, size_t,
    const struct sim_type *, int, struct sim_error *);
static void tds_set_bytes(
    struct simval *, const unsigned char *, size_t, const struct sim_type *);
static int tds_get_plp(
    const unsigned char *, size_t, size_t *, struct sbuf *, struct sim_error *);
static int tds_set_data(struct simval *, const unsigned char *, size_t,
    const struct sim_type *, int, struct sim_error *);
static int tds_get_data(const unsigned char *, size_t, size_t *,
    const struct sim_type *, int, struct simval *, struct sim_error *);
static int tds_get_guid(
    const unsigned char *, int, struct simval *, struct sim_error *);
static int tds_get_raw(const unsigned char *, int, const struct sim_type *,
    struct simval *, struct sim_error *);
static int tds_get_variant(const unsigned char *, size_t, size_t *,
    struct simval *, struct sim_error *);
static int tds_get(const unsigned char *, size_t, size_t *,
    const struct sim_type *, int, struct simval *, struct sim_error *);

/* SQL_Latin1_General_CP1_CI_AS. */
static const unsigned char tds_collation[5] = { 0x09, 0x04, 0xd0, 0x00, 0x34 };

/* The wire type of a declared type; fixed-length forms when !nullable. */
int
tdstype_wire(const struct sim_type *t, int nullable)
{
	switch (t->id) {
	case SIMT_TINYINT:
		return (nullable ? TDS_INTN : TDS_INT1);
	case SIMT_SMALLINT:
		return (nullable ? TDS_INTN : TDS_INT2);
	case SIMT_INT:
		return (nullable ? TDS_INTN : TDS_INT4);
	case SIMT_BIGINT:
		return (nullable ? TDS_INTN : TDS_INT8);
	case SIMT_BIT:
		return (nullable ? TDS_BITN : TDS_BIT);
	case SIMT_REAL:
		return (nullable ? TDS_FLTN : TDS_FLT4);
	case SIMT_FLOAT:
		return (nullable ? TDS_FLTN : TDS_FLT8);
	case SIMT_MONEY:
		return (nullable ? TDS_MONEYN : TDS_MONEY);
	case SIMT_SMALLMONEY:
		return (nullable ? TDS_MONEYN : TDS_MONEY4);
	case SIMT_DATETIME:
		return (nullable ? TDS_DATETIMN : TDS_DATETIME);
	case SIMT_SMALLDATETIME:
		return (nullable ? TDS_DATETIMN : TDS_DATETIM4);
	case SIMT_DECIMAL:
		return (TDS_DECIMALN);
	case SIMT_NUMERIC:
		return (TDS_NUMERICN);
	case SIMT_DATE:
		return (TDS_DATEN);
	case SIMT_TIME:
		return (TDS_TIMEN);
	case SIMT_DATETIME2:
		return (TDS_DATETIME2N);
	case SIMT_DATETIMEOFFSET:
		return (TDS_DATETIMEOFFSETN);
	case SIMT_UNIQUEIDENTIFIER:
		return (TDS_GUIDN);
	case SIMT_CHAR:
		return (TDS_BIGCHAR);
	case SIMT_VARCHAR:
		return (TDS_BIGVARCHR);
	case SIMT_NCHAR:
		return (TDS_NCHAR);
	case SIMT_NVARCHAR:
		return (TDS_NVARCHAR);
	case SIMT_BINARY:
	case SIMT_TIMESTAMP:
		return (TDS_BIGBINARY);
	case SIMT_VARBINARY:
		return (TDS_BIGVARBIN);
	case SIMT_TEXT:
		return (TDS_TEXT | TDS_WIRE_TEXTPTR);
	case SIMT_NTEXT:
		return (TDS_NTEXT | TDS_WIRE_TEXTPTR);
	case SIMT_IMAGE:
		return (TDS_IMAGE | TDS_WIRE_TEXTPTR);
	case SIMT_XML:
		return (TDS_XML);
	case SIMT_SQL_VARIANT:
		return (TDS_SSVARIANT);
	}
	return (TDS_NVARCHAR);
}

/* Bytes of a fixed-length wire type (0 for the others). */
static int
tds_fixed_size(int wire)
{
	switch (wire) {
	case TDS_INT1:
	case TDS_BIT:
		return (1);
	case TDS_INT2:
		return (2);
	case TDS_INT4:
	case TDS_FLT4:
	case TDS_MONEY4:
	case TDS_DATETIM4:
		return (4);
	case TDS_INT8:
	case TDS_FLT8:
	case TDS_MONEY:
	case TDS_DATETIME:
		return (8);
	}
	return (0);
}

/* The byte size of the value of a 1-byte-length type (INTN, ...). */
static int
tds_value_size(const struct sim_type *t)
{
	switch (t->id) {
	case SIMT_TINYINT:
	case SIMT_BIT:
		return (1);
	case SIMT_SMALLINT:
		return (2);
	case SIMT_INT:
	case SIMT_REAL:
	case SIMT_SMALLMONEY:
	case SIMT_SMALLDATETIME:
		return (4);
	case SIMT_UNIQUEIDENTIFIER:
		return (16);
	}
	return (8);
}

/* TYPE_INFO of a declared type in the given wire form. */
void
tdstype_write_info_wire(struct sbuf *b, const struct sim_type *t, int wire)
{
	int w = wire & 0xff;

	sbuf_u8(b, w);
	switch (w) {
	case TDS_INTN:
	case TDS_BITN:
	case TDS_FLTN:
	case TDS_MONEYN:
	case TDS_DATETIMN:
	case TDS_GUIDN:
		sbuf_u8(b, tds_value_size(t));
		break;
	case TDS_DECIMALN:
	case TDS_NUMERICN:
		sbuf_u8(b, simtype_decimal_len(t->precision));
		sbuf_u8(b, t->precision);
		sbuf_u8(b, t->scale);
		break;
	case TDS_TIMEN:
	case TDS_DATETIME2N:
	case TDS_DATETIMEOFFSETN:
		sbuf_u8(b, t->scale);
		break;
	case TDS_BIGCHAR:
	case TDS_BIGVARCHR:
	case TDS_NCHAR:
	case TDS_NVARCHAR:
		sbuf_u16le(b, t->maxlen < 0 ? 0xffff : t->maxlen);
		sbuf_add(b, tds_collation, 5);
		break;
	case TDS_BIGBINARY:
	case TDS_BIGVARBIN:
		sbuf_u16le(b,
		    t->id == SIMT_TIMESTAMP ? 8
			: t->maxlen < 0     ? 0xffff
					    : t->maxlen);
		break;
	case TDS_TEXT:
	case TDS_NTEXT:
		sbuf_u32le(b, w == TDS_TEXT ? 0x7fffffff : 0x7ffffffe);
		sbuf_add(b, tds_collation, 5);
		break;
	case TDS_IMAGE:
		sbuf_u32le(b, 0x7fffffff);
		break;
	case TDS_XML:
		sbuf_u8(b, 0); /* no schema collection */
		break;
	case TDS_SSVARIANT:
		sbuf_u32le(b, 8009);
		break;
	}
}

/* TYPE_INFO of a declared type (nullable wire form). */
void
tdstype_write_info(struct sbuf *b, const struct sim_type *t)
{
	tdstype_write_info_wire(b, t, tdstype_wire(t, 1));
}

/* TableName of a text/ntext/image column in COLMETADATA. */
void
tdstype_write_tablename(struct sbuf *b, const char *schema, const char *table)
{
	if (table == NULL || *table == '\0') {
		sbuf_u8(b, 0);
		return;
	}
	sbuf_u8(b, schema != NULL && *schema != '\0' ? 2 : 1);
	if (schema != NULL && *schema != '\0')
		sbuf_usvarchar(b, schema);
	sbuf_usvarchar(b, table);
}

/* The NULL of a wire type. */
static void
tds_put_null(struct sbuf *b, const struct sim_type *t, int wire)
{
	int w = wire & 0xff, n;

	switch (w) {
	case TDS_BIGCHAR:
	case TDS_BIGVARCHR:
	case TDS_NCHAR:
	case TDS_NVARCHAR:
	case TDS_BIGBINARY:
	case TDS_BIGVARBIN:
		if (t->maxlen < 0 && t->id != SIMT_TIMESTAMP)
			sbuf_u64le(b, UINT64_MAX);
		else
			sbuf_u16le(b, 0xffff);
		return;
	case TDS_XML:
		sbuf_u64le(b, UINT64_MAX);
		return;
	case TDS_TEXT:
	case TDS_NTEXT:
	case TDS_IMAGE:
		if (wire & TDS_WIRE_TEXTPTR)
			sbuf_u8(b, 0);
		else
			sbuf_u32le(b, 0xffffffff);
		return;
	case TDS_SSVARIANT:
		sbuf_u32le(b, 0);
		return;
	}
	if ((n = tds_fixed_size(w)) != 0) {
		/* not representable: NBCROW carries it in the bitmap */
		sbuf_reserve(b, n);
		memset(b->data + b->len, 0, n);
		b->len += n;
		return;
	}
	sbuf_u8(b, 0);
}

/* Little-endian integer of n bytes. */
static void
tds_put_le(struct sbuf *b, uint64_t v, int n)
{
	int i;

	sbuf_reserve(b, n);
	for (i = 0; i < n; i++)
		b->data[b->len++] = (v >> (8 * i)) & 0xff;
}

/* Integers and bit. */
static void
tds_put_int(struct sbuf *b, const struct sim_type *t, int w, int64_t i)
{
	int n = tds_value_size(t);

	if (t->id == SIMT_BIT)
		i = i != 0;
	if (tds_fixed_size(w) == 0)
		sbuf_u8(b, n);
	tds_put_le(b, (uint64_t)i, n);
}

/* real and float. */
static void
tds_put_float(struct sbuf *b, const struct sim_type *t, int w, double f)
{
	float f4 = (float)f;
	uint32_t u4;
	uint64_t u8;

	if (tds_fixed_size(w) == 0)
		sbuf_u8(b, t->id == SIMT_REAL ? 4 : 8);
	if (t->id == SIMT_REAL) {
		memcpy(&u4, &f4, 4);
		sbuf_u32le(b, u4);
	} else {
		memcpy(&u8, &f, 8);
		sbuf_u64le(b, u8);
	}
}

/* Canonical decimal text to a number at the type's scale. */
static int
tds_num(
    const struct typval *v, int scale, struct typnum *n, struct sim_error *err)
{
	if (typnum_parse((const char *)v->p, v->len, scale, 38 - scale, 0, n) ==
	    0)
		return (0);
	sim_error_set(
	    err, 8114, 16, 5, "Error converting data type varchar to numeric.");
	return (-1);
}

/* decimal, numeric, money, smallmoney. */
static int
tds_put_num(struct sbuf *b, const struct sim_type *t, int w,
    const struct typval *v, struct sim_error *err)
{
	struct typnum n;
	int64_t m;
	int len, i;

	if (tds_num(v,
		t->id == SIMT_MONEY || t->id == SIMT_SMALLMONEY ? 4 : t->scale,
		&n, err) == -1)
		return (-1);
	if (w == TDS_DECIMALN || w == TDS_NUMERICN) {
		len = simtype_decimal_len(t->precision);
		sbuf_u8(b, len);
		sbuf_u8(b, n.neg ? 0 : 1);
		sbuf_reserve(b, len - 1);
		for (i = 0; i < len - 1; i++) {
			b->data[b->len++] = (unsigned char)(n.mag & 0xff);
			n.mag >>= 8;
		}
		return (0);
	}
	m = (int64_t)(n.neg ? 0 - (uint64_t)n.mag : (uint64_t)n.mag);
	if (t->id == SIMT_SMALLMONEY) {
		if (w == TDS_MONEYN)
			sbuf_u8(b, 4);
		sbuf_u32le(b, (uint32_t)(int32_t)m);
		return (0);
	}
	if (w == TDS_MONEYN)
		sbuf_u8(b, 8);
	sbuf_u32le(b, (uint32_t)((uint64_t)m >> 32));
	sbuf_u32le(b, (uint32_t)m);
	return (0);
}

/* Two digits at p. */
static int
tds_d2(const unsigned char *p)
{
	return ((p[0] - '0') * 10 + (p[1] - '0'));
}

/* Is p[0..n) all digits? */
static int
tds_digits(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return (0);
	return (1);
}

/* Canonical "HH:MM:SS[.fffffff]" at p (n bytes) in 100 ns units. */
static int
tds_fast_time(const unsigned char *p, size_t n, int64_t *t)
{
	int64_t frac = 0;
	size_t i;

	if (n < 8 || p[2] != ':' || p[5] != ':' || !tds_digits(p, 2) ||
	    !tds_digits(p + 3, 2) || !tds_digits(p + 6, 2))
		return (-1);
	if (n > 8) {
		if (p[8] != '.' || n > 16 || !tds_digits(p + 9, n - 9))
			return (-1);
		for (i = 9; i < 16; i++)
			frac = frac * 10 + (i < n ? p[i] - '0' : 0);
	}
	*t = ((int64_t)tds_d2(p) * 3600 + tds_d2(p + 3) * 60 + tds_d2(p + 6)) *
		TYPDT_SEC +
	    frac;
	return (0);
}

/* Canonical date/time text, read at fixed positions when it can be. */
static int
tds_dt(const struct typval *v, const struct sim_type *t, struct typdt *dt,
    struct sim_error *err)
{
	const unsigned char *p = v->p;
	size_t n = v->len, tl;

	memset(dt, 0, sizeof(*dt));
	if (v->kind == SQLITE_TEXT && t->id == SIMT_TIME &&
	    tds_fast_time(p, n, &dt->time) == 0)
		return (0);
	if (v->kind == SQLITE_TEXT && n >= 10 && p[4] == '-' && p[7] == '-' &&
	    tds_digits(p, 4) && tds_digits(p + 5, 2) && tds_digits(p + 8, 2) &&
	    t->id != SIMT_DATETIMEOFFSET) {
		dt->days = typdt_days(
		    (p[0] - '0') * 1000 + (p[1] - '0') * 100 + tds_d2(p + 2),
		    tds_d2(p + 5), tds_d2(p + 8));
		if (n == 10)
			return (0);
		tl = n - 11;
		if (p[10] == ' ' && tds_fast_time(p + 11, tl, &dt->time) == 0)
			return (0);
	}
	return (typval_dt(v, t, dt, err));
}

/* Time of day in 10^-scale units, as 3, 4 or 5 bytes. */
static void
tds_put_time(struct sbuf *b, int64_t time, int scale)
{
	tds_put_le(b, (uint64_t)(time / (int64_t)typnum_pow10(7 - scale)),
	    simtype_time_len(scale));
}

/* date, time, datetime2, datetimeoffset, datetime, smalldatetime. */
static int
tds_put_dt(struct sbuf *b, const struct sim_type *t, int w,
    const struct typval *v, struct sim_error *err)
{
	struct typdt dt;
	int64_t utc, ticks;
	int tl = simtype_time_len(t->scale);

	if (tds_dt(v, t, &dt, err) == -1)
		return (-1);
	switch (t->id) {
	case SIMT_DATETIME:
		if (w == TDS_DATETIMN)
			sbuf_u8(b, 8);
		ticks = dt.time / TYPDT_SEC * 300 +
		    (dt.time % TYPDT_SEC * 3 + 50000) / 100000;
		sbuf_u32le(b, (uint32_t)(dt.days - TYPDT_1900));
		sbuf_u32le(b, (uint32_t)ticks);
		return (0);
	case SIMT_SMALLDATETIME:
		if (w == TDS_DATETIMN)
			sbuf_u8(b, 4);
		sbuf_u16le(b, (uint16_t)(dt.days - TYPDT_1900));
		sbuf_u16le(b, (uint16_t)(dt.time / TYPDT_SEC / 60));
		return (0);
	case SIMT_DATE:
		sbuf_u8(b, 3);
		tds_put_le(b, (uint64_t)dt.days, 3);
		return (0);
	case SIMT_TIME:
		sbuf_u8(b, tl);
		tds_put_time(b, dt.time, t->scale);
		return (0);
	case SIMT_DATETIME2:
		sbuf_u8(b, tl + 3);
		tds_put_time(b, dt.time, t->scale);
		tds_put_le(b, (uint64_t)dt.days, 3);
		return (0);
	}
	utc = (int64_t)dt.days * TYPDT_DAY + dt.time -
	    (int64_t)dt.offset * 60 * TYPDT_SEC;
	sbuf_u8(b, tl + 5);
	tds_put_time(b, utc % TYPDT_DAY, t->scale);
	tds_put_le(b, (uint64_t)(utc / TYPDT_DAY), 3);
	sbuf_u16le(b, (uint16_t)(int16_t)dt.offset);
	return (0);
}

/* Patch a little-endian length written earlier at off. */
static void
tds_patch(struct sbuf *b, size_t off, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		b->data[off + i] = (v >> (8 * i)) & 0xff;
}

/* Bytes of a character value in its wire encoding, appended. */
static void
tds_put_chars(struct sbuf *b, const struct typval *v, int wide)
{
	if (wide)
		sbuf_ucs2(b, (const char *)v->p, v->len);
	else
		typstr_to_cp1252(b, (const char *)v->p, v->len);
}

/* n bytes of padding: spaces (code page 1252 or UCS-2) or zeros. */
static void
tds_pad(struct sbuf *b, int w, size_t n)
{
	size_t i;

	sbuf_reserve(b, n);
	for (i = 0; i < n; i++)
		b->data[b->len++] = w == TDS_BIGBINARY ? 0
		    : w == TDS_NCHAR && i % 2 == 1     ? 0
						       : ' ';
}

/* Character and binary data with a 2-byte, 4-byte or PLP length. */
static void
tds_put_data(
    struct sbuf *b, const struct sim_type *t, int wire, const struct typval *v)
{
	int w = wire & 0xff, wide, chars;
	size_t off, start, n;

	wide = w == TDS_NCHAR || w == TDS_NVARCHAR || w == TDS_NTEXT ||
	    w == TDS_XML;
	chars = wide || w == TDS_BIGCHAR || w == TDS_BIGVARCHR || w == TDS_TEXT;
	off = b->len;
	if (w == TDS_TEXT || w == TDS_NTEXT || w == TDS_IMAGE) {
		if (wire & TDS_WIRE_TEXTPTR) {
			sbuf_u8(b, 16);
			sbuf_reserve(b, 24);
			memset(b->data + b->len, 0xff, 24);
			b->len += 24;
			off = b->len;
		}
		sbuf_u32le(b, 0);
	} else if (w == TDS_XML || (t->maxlen < 0 && t->id != SIMT_TIMESTAMP)) {
		sbuf_u64le(b, 0);
		sbuf_u32le(b, 0);
	} else
		sbuf_u16le(b, 0);
	start = b->len;
	if (chars && !wide && typstr_is_ascii(v->p, v->len))
		sbuf_add(b, v->p, v->len);
	else if (chars)
		tds_put_chars(b, v, wide);
	else
		sbuf_add(b, v->p, v->len);
	n = b->len - start;
	if ((w == TDS_BIGCHAR || w == TDS_NCHAR || w == TDS_BIGBINARY) &&
	    t->maxlen > 0 && n < (size_t)t->maxlen) {
		/* fixed-length types travel padded */
		tds_pad(b, w, t->maxlen - n);
		n = t->maxlen;
	}
	if (start - off == 2) {
		if (n > 8000) {
			n = 8000;
			b->len = start + n;
		}
		tds_patch(b, off, n, 2);
	} else if (start - off == 4)
		tds_patch(b, off, n, 4);
	else {
		tds_patch(b, off, n, 8);
		if (n == 0)
			b->len -= 4; /* no chunk: the terminator follows */
		else
			tds_patch(b, off + 8, n, 4);
		sbuf_u32le(b, 0);
	}
}

/* uniqueidentifier. */
static int
tds_put_guid(struct sbuf *b, const struct typval *v, struct sim_error *err)
{
	unsigned char g[16];

	if (typguid_parse((const char *)v->p, v->len, g) == -1) {
		sim_error_set(err, 8169, 16, 2,
		    "Conversion failed when converting from a character "
		    "string to uniqueidentifier.");
		return (-1);
	}
	sbuf_u8(b, 16);
	sbuf_add(b, g, 16);
	return (0);
}

/* sql_variant: the base type follows the storage class. */
static int
tds_put_variant(struct sbuf *b, const struct typval *v, struct sim_error *err)
{
	struct sim_type t;
	size_t off = b->len, start;

	sbuf_u32le(b, 0);
	start = b->len;
	typval_infer(v, &t);
	switch (v->kind) {
	case SQLITE_INTEGER:
		sbuf_u8(b, t.id == SIMT_INT ? TDS_INT4 : TDS_INT8);
		sbuf_u8(b, 0);
		tds_put_le(b, (uint64_t)v->i, t.id == SIMT_INT ? 4 : 8);
		break;
	case SQLITE_FLOAT:
		sbuf_u8(b, TDS_FLT8);
		sbuf_u8(b, 0);
		tds_put_float(b, &t, TDS_FLT8, v->f);
		break;
	case SQLITE_BLOB:
		sbuf_u8(b, TDS_BIGVARBIN);
		sbuf_u8(b, 2);
		sbuf_u16le(b, 8000);
		sbuf_add(b, v->p, v->len > 8000 ? 8000 : v->len);
		break;
	default:
		sbuf_u8(b, TDS_NVARCHAR);
		sbuf_u8(b, 7);
		sbuf_add(b, tds_collation, 5);
		sbuf_u16le(b, 8000);
		sbuf_ucs2(b, (const char *)v->p, v->len);
		break;
	}
	(void)err;
	tds_patch(b, off, b->len - start, 4);
	return (0);
}

/* Does the storage class fit what the declared type stores? */
static int
tds_kind_ok(const struct sim_type *t, int kind)
{
	int want = simtype_storage(t);

	return (want == kind || want == SQLITE_NULL ||
	    (want == SQLITE_TEXT && kind == SQLITE_BLOB &&
		simtype_is_string(t)));
}

/* One value in the wire form of its declared type. */
static int
tds_put(struct sbuf *b, const struct sim_type *t, int wire,
    const struct typval *v, struct sim_error *err)
{
	struct simval tmp;
	struct typval tv;
	int w = wire & 0xff, rc;

	if (v->kind == SQLITE_NULL) {
		tds_put_null(b, t, wire);
		return (0);
	}
	if (!tds_kind_ok(t, v->kind)) {
		if (typval_convert(v, NULL, t, 0, &tmp, err) == -1)
			return (-1);
		typval_from_simval(&tv, &tmp);
		rc = tmp.kind == SQLITE_NULL || !tds_kind_ok(t, tmp.kind)
		    ? (tds_put_null(b, t, wire), 0)
		    : tds_put(b, t, wire, &tv, err);
		simval_free(&tmp);
		return (rc);
	}
	switch (t->id) {
	case SIMT_TINYINT:
	case SIMT_SMALLINT:
	case SIMT_INT:
	case SIMT_BIGINT:
	case SIMT_BIT:
		tds_put_int(b, t, w, v->i);
		return (0);
	case SIMT_REAL:
	case SIMT_FLOAT:
		tds_put_float(b, t, w, v->f);
		return (0);
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
	case SIMT_MONEY:
	case SIMT_SMALLMONEY:
		return (tds_put_num(b, t, w, v, err));
	case SIMT_DATE:
	case SIMT_TIME:
	case SIMT_DATETIME:
	case SIMT_SMALLDATETIME:
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		return (tds_put_dt(b, t, w, v, err));
	case SIMT_UNIQUEIDENTIFIER:
		return (tds_put_guid(b, v, err));
	case SIMT_SQL_VARIANT:
		return (tds_put_variant(b, v, err));
	}
	tds_put_data(b, t, wire, v);
	return (0);
}

/* A value in the given wire form. */
int
tdstype_write_value_wire(struct sbuf *b, const struct sim_type *t, int wire,
    sqlite3_value *sv, struct sim_error *err)
{
	struct typval v;

	typval_from_sqlite(&v, sv);
	return (tds_put(b, t, wire, &v, err));
}

/* A value in the nullable wire form of its type (ROW, RETURNVALUE). */
int
tdstype_write_value(struct sbuf *b, const struct sim_type *t, sqlite3_value *sv,
    struct sim_error *err)
{
	struct typval v;

	typval_from_sqlite(&v, sv);
	return (tds_put(b, t, tdstype_wire(t, 1), &v, err));
}

/* An owned value in the given wire form. */
int
tdstype_write_simval(struct sbuf *b, const struct sim_type *t, int wire,
    const struct simval *sv, struct sim_error *err)
{
	struct typval v;

	typval_from_simval(&v, sv);
	return (tds_put(b, t, wire, &v, err));
}

/* Reading. */

/* The stream ended inside a value or TYPE_INFO. */
static int
tds_short(struct sim_error *err)
{
	sim_error_set(err, 4002, 16, 1,
	    "The incoming tabular data stream (TDS) protocol stream is "
	    "incorrect. The stream ended unexpectedly.");
	return (-1);
}

/* A value or TYPE_INFO that makes no sense. */
static int
tds_bad(struct sim_error *err, const char *what, int v)
{
	sim_error_set(err, 8009, 16, 1,
	    "The incoming tabular data stream (TDS) remote procedure call "
	    "(RPC) protocol stream is incorrect. %s 0x%02X is invalid.",
	    what, v);
	return (-1);
}

/* The declared type of an integer, float, money, datetime size. */
static int
tds_info_sized(int w, int size, struct sim_type *t)
{
	static const struct {
		int wire, size, id;
	} map[] = { { TDS_INTN, 1, SIMT_TINYINT },
		{ TDS_INTN, 2, SIMT_SMALLINT }, { TDS_INTN, 4, SIMT_INT },
		{ TDS_INTN, 8, SIMT_BIGINT }, { TDS_BITN, 1, SIMT_BIT },
		{ TDS_FLTN, 4, SIMT_REAL }, { TDS_FLTN, 8, SIMT_FLOAT },
		{ TDS_MONEYN, 4, SIMT_SMALLMONEY },
		{ TDS_MONEYN, 8, SIMT_MONEY },
		{ TDS_DATETIMN, 4, SIMT_SMALLDATETIME },
		{ TDS_DATETIMN, 8, SIMT_DATETIME },
		{ TDS_GUIDN, 16, SIMT_UNIQUEIDENTIFIER },
		{ TDS_INT1, 1, SIMT_TINYINT }, { TDS_INT2, 2, SIMT_SMALLINT },
		{ TDS_INT4, 4, SIMT_INT }, { TDS_INT8, 8, SIMT_BIGINT },
		{ TDS_BIT, 1, SIMT_BIT }, { TDS_FLT4, 4, SIMT_REAL },
		{ TDS_FLT8, 8, SIMT_FLOAT }, { TDS_MONEY4, 4, SIMT_SMALLMONEY },
		{ TDS_MONEY, 8, SIMT_MONEY },
		{ TDS_DATETIM4, 4, SIMT_SMALLDATETIME },
		{ TDS_DATETIME, 8, SIMT_DATETIME } };
	struct sim_error err;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].wire == w && map[i].size == size)
			return (simtype_parse(simtype_name(&(struct sim_type){
						  map[i].id, 0, 0, 0 }),
			    NULL, 0, t, &err));
	return (-1);
}

/* TYPE_INFO of the character and binary types. */
static int
tds_info_data(const unsigned char *p, size_t len, size_t *pos, int w,
    struct sim_type *t, struct sim_error *err)
{
	size_t need = w == TDS_TEXT || w == TDS_NTEXT  ? 9
	    : w == TDS_IMAGE                           ? 4
	    : w == TDS_BIGVARBIN || w == TDS_BIGBINARY ? 2
						       : 7;
	uint32_t max;

	if (*pos + need > len)
		return (tds_short(err));
	memset(t, 0, sizeof(*t));
	if (need == 9 || need == 4) {
		t->id = w == TDS_TEXT ? SIMT_TEXT
		    : w == TDS_NTEXT  ? SIMT_NTEXT
				      : SIMT_IMAGE;
		t->maxlen = 16;
		*pos += need;
		return (0);
	}
	max = util_get_u16le(p + *pos);
	*pos += need;
	t->id = w == TDS_BIGCHAR ? SIMT_CHAR
	    : w == TDS_BIGVARCHR ? SIMT_VARCHAR
	    : w == TDS_NCHAR     ? SIMT_NCHAR
	    : w == TDS_NVARCHAR  ? SIMT_NVARCHAR
	    : w == TDS_BIGBINARY ? SIMT_BINARY
				 : SIMT_VARBINARY;
	t->maxlen = max == 0xffff ? -1 : (int)max;
	if (max == 0xffff &&
	    (t->id == SIMT_CHAR || t->id == SIMT_NCHAR || t->id == SIMT_BINARY))
		return (tds_bad(err, "Length", (int)max));
	if (t->maxlen == 0)
		t->maxlen =
		    t->id == SIMT_NCHAR || t->id == SIMT_NVARCHAR ? 2 : 1;
	return (0);
}

/* TYPE_INFO, also returning the wire type for tdstype_read_value_wire. */
int
tdstype_read_info_wire(const unsigned char *p, size_t len, size_t *pos,
    struct sim_type *t, int *wire, struct sim_error *err)
{
	int w, size, prec, scale;

	if (*pos >= len)
		return (tds_short(err));
	w = p[(*pos)++];
	*wire = w;
	memset(t, 0, sizeof(*t));
	if ((size = tds_fixed_size(w)) != 0)
		return (tds_info_sized(w, size, t) == 0
			? 0
			: tds_bad(err, "Data type", w));
	switch (w) {
	case TDS_INTN:
	case TDS_BITN:
	case TDS_FLTN:
	case TDS_MONEYN:
	case TDS_DATETIMN:
	case TDS_GUIDN:
		if (*pos >= len)
			return (tds_short(err));
		size = p[(*pos)++];
		if (tds_info_sized(w, size, t) == -1)
			return (tds_bad(err, "Length", size));
		return (0);
	case TDS_DECIMALN:
	case TDS_NUMERICN:
	case TDS_DECIMAL:
	case TDS_NUMERIC:
		if (*pos + 3 > len)
			return (tds_short(err));
		prec = p[*pos + 1];
		scale = p[*pos + 2];
		*pos += 3;
		if (prec < 1 || prec > 38 || scale > prec)
			return (tds_bad(err, "Precision", prec));
		t->id = w == TDS_NUMERICN || w == TDS_NUMERIC ? SIMT_NUMERIC
							      : SIMT_DECIMAL;
		t->precision = prec;
		t->scale = scale;
		t->maxlen = simtype_decimal_len(prec);
		*wire = t->id == SIMT_NUMERIC ? TDS_NUMERICN : TDS_DECIMALN;
		return (0);
	case TDS_DATEN:
		return (simtype_parse("date", NULL, 0, t, err));
	case TDS_TIMEN:
	case TDS_DATETIME2N:
	case TDS_DATETIMEOFFSETN:
		if (*pos >= len)
			return (tds_short(err));
		scale = p[(*pos)++];
		if (scale > 7)
			return (tds_bad(err, "Scale", scale));
		return (simtype_parse(w == TDS_TIMEN ? "time"
			: w == TDS_DATETIME2N        ? "datetime2"
						     : "datetimeoffset",
		    &scale, 1, t, err));
	case TDS_BIGCHAR:
	case TDS_BIGVARCHR:
	case TDS_NCHAR:
	case TDS_NVARCHAR:
	case TDS_BIGBINARY:
	case TDS_BIGVARBIN:
	case TDS_TEXT:
	case TDS_NTEXT:
	case TDS_IMAGE:
		return (tds_info_data(p, len, pos, w, t, err));
	case TDS_XML:
		return (tds_info_xml(p, len, pos, t, err));
	case TDS_SSVARIANT:
		if (*pos + 4 > len)
			return (tds_short(err));
		*pos += 4;
		t->id = SIMT_SQL_VARIANT;
		t->maxlen = 8016;
		return (0);
	}
	return (tds_bad(err, "Data type", w));
}

/* TYPE_INFO of xml: a schema collection may follow. */
static int
tds_info_xml(const unsigned char *p, size_t len, size_t *pos,
    struct sim_type *t, struct sim_error *err)
{
	if (*pos >= len)
		return (tds_short(err));
	if (p[*pos] > 1) /* FreeTDS < 1.4 bulk sends f1 ff ff */
		return (tds_bad(err, "XML schema flag", p[*pos]));
	if (p[(*pos)++] != 0) {
		/* database and owning schema (B_VARCHAR), collection */
		if (*pos >= len || (size_t)p[*pos] * 2 + 1 > len - *pos)
			return (tds_short(err));
		*pos += 1 + p[*pos] * 2;
		if (*pos >= len || (size_t)p[*pos] * 2 + 1 > len - *pos)
			return (tds_short(err));
		*pos += 1 + p[*pos] * 2;
		if (*pos + 2 > len ||
		    (size_t)util_get_u16le(p + *pos) * 2 + 2 > len - *pos)
			return (tds_short(err));
		*pos += 2 + util_get_u16le(p + *pos) * 2;
	}
	memset(t, 0, sizeof(*t));
	t->id = SIMT_XML;
	t->maxlen = -1;
	return (0);
}

/* TYPE_INFO (RPC parameter, bulk COLMETADATA) to a declared type. */
int
tdstype_read_info(const unsigned char *p, size_t len, size_t *pos,
    struct sim_type *t, struct sim_error *err)
{
	int wire;

	return (tdstype_read_info_wire(p, len, pos, t, &wire, err));
}

/* Little-endian integer of n bytes at p. */
static uint64_t
tds_get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v);
}

/* Integers, bit, real, float from n bytes. */
static int
tds_get_number(const unsigned char *p, int n, const struct sim_type *t,
    struct simval *out, struct sim_error *err)
{
	uint64_t u = tds_get_le(p, n);
	uint32_t u4;
	float f4;
	double f8;

	switch (t->id) {
	case SIMT_REAL:
		if (n != 4)
			break;
		u4 = (uint32_t)u;
		memcpy(&f4, &u4, 4);
		typval_set_float(out, (double)f4);
		return (0);
	case SIMT_FLOAT:
		if (n == 4) {
			u4 = (uint32_t)u;
			memcpy(&f4, &u4, 4);
			typval_set_float(out, (double)f4);
			return (0);
		}
		memcpy(&f8, &u, 8);
		typval_set_float(out, f8);
		return (0);
	case SIMT_TINYINT:
		typval_set_int(out, (int64_t)(u & 0xff));
		return (0);
	case SIMT_BIT:
		typval_set_int(out, u != 0);
		return (0);
	case SIMT_SMALLINT:
		typval_set_int(out, (int16_t)u);
		return (0);
	case SIMT_INT:
		typval_set_int(out, n == 4 ? (int32_t)u : (int64_t)u);
		return (0);
	case SIMT_BIGINT:
		typval_set_int(out, (int64_t)u);
		return (0);
	}
	return (tds_bad(err, "Length", n));
}

/* Canonical text of a number. */
static void
tds_set_num(struct simval *out, const struct typnum *n)
{
	char buf[64];
	size_t len;

	len = typnum_format(n, buf, sizeof(buf));
	typval_set_text(out, buf, len);
}

/* money (8 bytes: high, low) and smallmoney (4 bytes). */
static int
tds_get_money(
    const unsigned char *p, int n, struct simval *out, struct sim_error *err)
{
	struct typnum num;
	int64_t m;

	if (n == 8)
		m = (int64_t)(((uint64_t)util_get_u32le(p) << 32) |
		    util_get_u32le(p + 4));
	else if (n == 4)
		m = (int32_t)util_get_u32le(p);
	else
		return (tds_bad(err, "Length", n));
	num.neg = m < 0;
	num.mag = m < 0 ? (typu128)(0 - (uint64_t)m) : (typu128)m;
	num.scale = 4;
	tds_set_num(out, &num);
	return (0);
}

/* decimal/numeric: sign byte and little-endian magnitude. */
static int
tds_get_decimal(const unsigned char *p, int n, const struct sim_type *t,
    struct simval *out, struct sim_error *err)
{
	struct typnum num;
	int i;

	if (n < 2 || n > 17)
		return (tds_bad(err, "Length", n));
	num.neg = p[0] == 0;
	num.mag = 0;
	for (i = n - 1; i >= 1; i--)
		num.mag = (num.mag << 8) | p[i];
	num.scale = t->scale;
	if (num.mag >= typnum_pow10(t->precision))
		return (
		    tds_bad(err, "Numeric value of precision", t->precision));
	if (num.mag == 0)
		num.neg = 0;
	tds_set_num(out, &num);
	return (0);
}

/* Canonical text of a date/time value. */
static void
tds_set_dt(struct simval *out, const struct typdt *dt, const struct sim_type *t)
{
	char buf[64];
	size_t n;

	n = typdt_format(dt, t, buf);
	typval_set_text(out, buf, n);
}

/* datetime and smalldatetime. */
static int
tds_get_datetime(const unsigned char *p, int n, const struct sim_type *t,
    struct simval *out, struct sim_error *err)
{
	struct typdt dt;
	int64_t ticks, days;

	memset(&dt, 0, sizeof(dt));
	if (n == 8) {
		days = (int64_t)(int32_t)util_get_u32le(p) + TYPDT_1900;
		ticks = util_get_u32le(p + 4);
		if (ticks >= 300LL * 86400 || days < 0 || days > TYPDT_MAXDAY)
			return (tds_bad(err, "Datetime ticks", (int)ticks));
		dt.days = (int32_t)days;
		dt.time = ticks / 300 * TYPDT_SEC +
		    ((ticks % 300) * 10 + 1) / 3 * 10000;
	} else if (n == 4) {
		dt.days = util_get_u16le(p) + TYPDT_1900;
		ticks = util_get_u16le(p + 2);
		if (ticks >= 24 * 60)
			return (
			    tds_bad(err, "Smalldatetime minutes", (int)ticks));
		dt.time = ticks * 60 * TYPDT_SEC;
	} else
		return (tds_bad(err, "Length", n));
	tds_set_dt(out, &dt, t);
	return (0);
}

/* date, time, datetime2, datetimeoffset. */
static int
tds_get_dt2(const unsigned char *p, int n, const struct sim_type *t,
    struct simval *out, struct sim_error *err)
{
	struct typdt dt;
	int tl = t->id == SIMT_DATE ? 0 : simtype_time_len(t->scale);
	int want = tl + (t->id == SIMT_TIME ? 0 : 3) +
	    (t->id == SIMT_DATETIMEOFFSET ? 2 : 0);
	int64_t utc;

	if (n != want)
		return (tds_bad(err, "Length", n));
	memset(&dt, 0, sizeof(dt));
	if (tl != 0)
		dt.time = (int64_t)tds_get_le(p, tl) *
		    (int64_t)typnum_pow10(7 - t->scale);
	if (dt.time >= TYPDT_DAY)
		return (tds_bad(err, "Time", 0));
	if (t->id != SIMT_TIME)
		dt.days = (int32_t)tds_get_le(p + tl, 3);
	if (dt.days > TYPDT_MAXDAY)
		return (tds_bad(err, "Date", 0));
	if (t->id == SIMT_DATETIMEOFFSET) {
		dt.offset = (int16_t)util_get_u16le(p + tl + 3);
		if (dt.offset < -14 * 60 || dt.offset > 14 * 60)
			return (tds_bad(err, "Offset", dt.offset & 0xff));
		utc = (int64_t)dt.days * TYPDT_DAY + dt.time +
		    (int64_t)dt.offset * 60 * TYPDT_SEC;
		dt.days = (int32_t)(utc / TYPDT_DAY);
		dt.time = utc % TYPDT_DAY;
	}
	tds_set_dt(out, &dt, t);
	return (0);
}

/* Character data of the wire encoding to canonical UTF-8. */
static int
tds_set_chars(struct simval *out, const unsigned char *p, size_t n,
    const struct sim_type *t, int wide, struct sim_error *err)
{
	struct sbuf b;
	char *u;
	size_t ulen, units, want;

	if (wide) {
		if (n >= 2 && p[0] == 0xff && p[1] == 0xfe && t->id == SIMT_XML)
			p += 2, n -= 2;
		if (util_ucs2_to_utf8(p, n, &u, &ulen) == -1)
			return (tds_bad(err, "Length", (int)n));
		sbuf_init(&b);
		b.data = (unsigned char *)u;
		b.len = ulen;
		b.cap = ulen + 1;
		units = n / 2;
	} else {
		sbuf_init(&b);
		typstr_from_cp1252(&b, p, n);
		units = n;
	}
	want = t->maxlen < 0      ? 0
	    : t->id == SIMT_NCHAR ? t->maxlen / 2
				  : t->maxlen;
	if ((t->id == SIMT_CHAR || t->id == SIMT_NCHAR) && units < want) {
		sbuf_reserve(&b, want - units);
		memset(b.data + b.len, ' ', want - units);
		b.len += want - units;
	}
	typval_set_text(out, b.len ? (const char *)b.data : "", b.len);
	sbuf_free(&b);
	return (0);
}

/* Binary data (binary(n) zero-padded). */
static void
tds_set_bytes(struct simval *out, const unsigned char *p, size_t n,
    const struct sim_type *t)
{
	size_t want = t->id == SIMT_BINARY && t->maxlen > 0 ? (size_t)t->maxlen
	    : t->id == SIMT_TIMESTAMP                       ? 8
							    : n;

	typval_set_blob(out, p, n);
	if (want > n) {
		out->p = util_xrealloc(out->p, want + 1);
		memset(out->p + n, 0, want - n);
		out->p[want] = 0;
		out->len = want;
	}
}

/* Read PLP chunks into b; 1 for NULL. */
static int
tds_get_plp(const unsigned char *p, size_t len, size_t *pos, struct sbuf *b,
    struct sim_error *err)
{
	uint64_t total;
	uint32_t chunk;

	if (*pos + 8 > len)
		return (tds_short(err));
	total = util_get_u64le(p + *pos);
	*pos += 8;
	if (total == UINT64_MAX)
		return (1);
	for (;;) {
		if (*pos + 4 > len)
			return (tds_short(err));
		chunk = util_get_u32le(p + *pos);
		*pos += 4;
		if (chunk == 0)
			break;
		if (chunk > len - *pos)
			return (tds_short(err));
		sbuf_add(b, p + *pos, chunk);
		*pos += chunk;
	}
	return (0);
}

/* The data of a character/binary value once its bytes are known. */
static int
tds_set_data(struct simval *out, const unsigned char *p, size_t n,
    const struct sim_type *t, int w, struct sim_error *err)
{
	int wide = w == TDS_NCHAR || w == TDS_NVARCHAR || w == TDS_NTEXT ||
	    w == TDS_XML;

	if (w == TDS_BIGBINARY || w == TDS_BIGVARBIN || w == TDS_IMAGE ||
	    w == TDS_BINARY || w == TDS_VARBINARY) {
		tds_set_bytes(out, p, n, t);
		return (0);
	}
	return (tds_set_chars(out, p, n, t, wide, err));
}

/* Character and binary values: USHORT, LONG, text pointer or PLP. */
static int
tds_get_data(const unsigned char *p, size_t len, size_t *pos,
    const struct sim_type *t, int wire, struct simval *out,
    struct sim_error *err)
{
	struct sbuf b;
	int w = wire & 0xff, rc;
	size_t n;

	if (w == TDS_XML ||
	    (t->maxlen < 0 &&
		(w == TDS_BIGVARCHR || w == TDS_NVARCHAR ||
		    w == TDS_BIGVARBIN))) {
		sbuf_init(&b);
		if ((rc = tds_get_plp(p, len, pos, &b, err)) == 0)
			rc = tds_set_data(out,
			    b.data != NULL ? b.data : (const unsigned char *)"",
			    b.len, t, w, err);
		else if (rc == 1)
			rc = 0;
		sbuf_free(&b);
		return (rc);
	}
	if (w == TDS_TEXT || w == TDS_NTEXT || w == TDS_IMAGE) {
		if (wire & TDS_WIRE_TEXTPTR) {
			if (*pos >= len)
				return (tds_short(err));
			n = p[(*pos)++];
			if (n == 0)
				return (0);
			if (n + 8 > len - *pos)
				return (tds_short(err));
			*pos += n + 8;
		} else if (*pos + 4 <= len &&
		    util_get_u32le(p + *pos) == 0xffffffff) {
			*pos += 4;
			return (0);
		}
		if (*pos + 4 > len)
			return (tds_short(err));
		n = util_get_u32le(p + *pos);
		*pos += 4;
	} else {
		if (*pos + 2 > len)
			return (tds_short(err));
		n = util_get_u16le(p + *pos);
		*pos += 2;
		if (n == 0xffff)
			return (0);
	}
	if (n > len - *pos)
		return (tds_short(err));
	*pos += n;
	return (tds_set_data(out, p + *pos - n, n, t, w, err));
}

/* uniqueidentifier bytes to canonical text. */
static int
tds_get_guid(
    const unsigned char *p, int n, struct simval *out, struct sim_error *err)
{
	char s[37];

	if (n != 16)
		return (tds_bad(err, "Length", n));
	typguid_format(p, s);
	typval_set_text(out, s, 36);
	return (0);
}

/* A value of a fixed or 1-byte-length type whose n bytes are at p. */
static int
tds_get_raw(const unsigned char *p, int n, const struct sim_type *t,
    struct simval *out, struct sim_error *err)
{
	switch (t->id) {
	case SIMT_MONEY:
	case SIMT_SMALLMONEY:
		return (tds_get_money(p, n, out, err));
	case SIMT_DECIMAL:
	case SIMT_NUMERIC:
		return (tds_get_decimal(p, n, t, out, err));
	case SIMT_DATETIME:
	case SIMT_SMALLDATETIME:
		return (tds_get_datetime(p, n, t, out, err));
	case SIMT_DATE:
	case SIMT_TIME:
	case SIMT_DATETIME2:
	case SIMT_DATETIMEOFFSET:
		return (tds_get_dt2(p, n, t, out, err));
	case SIMT_UNIQUEIDENTIFIER:
		return (tds_get_guid(p, n, out, err));
	}
	if (n > 8)
		return (tds_bad(err, "Length", n));
	return (tds_get_number(p, n, t, out, err));
}

/* sql_variant: LONG length, base type, property bytes, data. */
static int
tds_get_variant(const unsigned char *p, size_t len, size_t *pos,
    struct simval *out, struct sim_error *err)
{
	struct sim_type bt;
	const unsigned char *props, *data;
	unsigned char info[10];
	size_t n, ipos = 0, ilen, dlen;
	int base, nprop, wire;

	if (*pos + 4 > len)
		return (tds_short(err));
	n = util_get_u32le(p + *pos);
	*pos += 4;
	if (n == 0)
		return (0);
	if (n < 2 || n > len - *pos)
		return (tds_short(err));
	base = p[*pos];
	nprop = p[*pos + 1];
	props = p + *pos + 2;
	if (nprop > 7 || 2 + (size_t)nprop > n)
		return (tds_bad(err, "sql_variant properties", nprop));
	data = props + nprop;
	dlen = n - 2 - nprop;
	*pos += n;
	/*
	 * Rebuild a TYPE_INFO from the base type and its properties:
	 * strings carry collation then length (TYPE_INFO has the reverse),
	 * decimals precision and scale without the length, GUIDs nothing.
	 */
	info[0] = base;
	memcpy(info + 1, props, nprop);
	ilen = 1 + nprop;
	if (nprop == 7) {
		memcpy(info + 1, props + 5, 2);
		memcpy(info + 3, props, 5);
	} else if (base == TDS_DECIMALN || base == TDS_NUMERICN) {
		info[1] = 17;
		memcpy(info + 2, props, nprop < 2 ? nprop : 2);
		ilen = 4;
	} else if (base == TDS_GUIDN) {
		info[1] = 16;
		ilen = 2;
	}
	if (base == TDS_INTN || base == TDS_BITN || base == TDS_FLTN ||
	    base == TDS_MONEYN || base == TDS_DATETIMN)
		return (tds_bad(err, "sql_variant base type", base));
	if (tdstype_read_info_wire(info, ilen, &ipos, &bt, &wire, err) == -1)
		return (-1);
	if (tds_fixed_size(wire) != 0 || base == TDS_GUIDN ||
	    base == TDS_DECIMALN || base == TDS_NUMERICN || base == TDS_DATEN ||
	    base == TDS_TIMEN || base == TDS_DATETIME2N ||
	    base == TDS_DATETIMEOFFSETN)
		return (tds_get_raw(data, (int)dlen, &bt, out, err));
	return (tds_set_data(out, data, dlen, &bt, wire, err));
}

/* One value of declared type t in wire form wire. */
static int
tds_get(const unsigned char *p, size_t len, size_t *pos,
    const struct sim_type *t, int wire, struct simval *out,
    struct sim_error *err)
{
	int w = wire & 0xff, n;

	memset(out, 0, sizeof(*out));
	out->kind = SQLITE_NULL;
	if ((n = tds_fixed_size(w)) != 0) {
		if (*pos + n > len)
			return (tds_short(err));
		*pos += n;
		return (tds_get_raw(p + *pos - n, n, t, out, err));
	}
	switch (w) {
	case TDS_INTN:
	case TDS_BITN:
	case TDS_FLTN:
	case TDS_MONEYN:
	case TDS_DATETIMN:
	case TDS_GUIDN:
	case TDS_DECIMALN:
	case TDS_NUMERICN:
	case TDS_DATEN:
	case TDS_TIMEN:
	case TDS_DATETIME2N:
	case TDS_DATETIMEOFFSETN:
		if (*pos >= len)
			return (tds_short(err));
		n = p[(*pos)++];
		if (n == 0)
			return (0);
		if ((size_t)n > len - *pos)
			return (tds_short(err));
		*pos += n;
		return (tds_get_raw(p + *pos - n, n, t, out, err));
	case TDS_SSVARIANT:
		return (tds_get_variant(p, len, pos, out, err));
	}
	return (tds_get_data(p, len, pos, t, wire, out, err));
}

/* A value in the given wire form (RPC parameter, bulk row). */
int
tdstype_read_value_wire(const unsigned char *p, size_t len, size_t *pos,
    const struct sim_type *t, int wire, struct simval *out,
    struct sim_error *err)
{
	return (tds_get(p, len, pos, t, wire, out, err));
}

/* A value in the nullable wire form of its declared type. */
int
tdstype_read_value(const unsigned char *p, size_t len, size_t *pos,
    const struct sim_type *t, struct simval *out, struct sim_error *err)
{
	int wire = tdstype_wire(t, 1) & 0xff;

	return (tds_get(p, len, pos, t, wire, out, err));
}
