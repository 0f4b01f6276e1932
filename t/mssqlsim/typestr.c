/*
 * Character data for mssqlsim's types: conversions to the string types
 * (with CONVERT's styles), code page 1252, and the SQLite collations and
 * functions that types.c's canonical forms need.
 *
 * varchar holds what code page 1252 holds: SQL Server stores its bytes,
 * we store the same characters as UTF-8 and turn everything else into
 * '?' (one per UTF-16 unit, as SQL Server's conversion does).  Lengths
 * are counted as SQL Server counts them: bytes of code page 1252 for
 * char/varchar, UTF-16 units for nchar/nvarchar.
 *
 * SIMCI stands for SQL_Latin1_General_CP1_CI_AS: trailing spaces are
 * ignored, case is folded over Latin, Greek, Cyrillic and Armenian, and
 * accents are a second level (a < ä < b, but a <> ä).  Punctuation
 * weights of the real collation are not modelled: other characters sort
 * by code point.
 */

#include <sys/types.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "typespriv.h"

struct typstr_dec;

static void typstr_filter_1252(struct sbuf *, const unsigned char *, size_t);
static size_t typstr_units(const unsigned char *, size_t, int);
static size_t typstr_prefix(const unsigned char *, size_t, size_t, int);
static size_t typstr_float(double, int, char *);
static size_t typstr_money(const struct typnum *, int, char *);
static size_t typstr_dt_style0(
    const struct typdt *, const struct sim_type *, char *);
static int typstr_dt_digits(const struct sim_type *);
static size_t typstr_dt_iso(struct typdt, const struct sim_type *, int, char *);
static size_t typstr_dt_datestyle(const struct typdt *, int, char *);
static size_t typstr_dt_msec(
    const struct typdt *, const struct sim_type *, char *);
static size_t typstr_dt_named(
    const struct typdt *, const struct sim_type *, int, char *);
static int typstr_dt(const struct typval *, const struct sim_type *, int,
    struct sbuf *, struct sim_error *);
static void typstr_hex(struct sbuf *, const unsigned char *, size_t, int);
static int typstr_source(const struct typval *, const struct sim_type *,
    const struct sim_type *, int, struct sbuf *, struct sim_error *);
static int typstr_num_short(const struct sim_type *, const struct sim_type *,
    struct simval *, struct sim_error *);
static int typstr_fit(struct sbuf *, const struct typval *,
    const struct sim_type *, const struct sim_type *, int, struct simval *,
    struct sim_error *);
static uint32_t typstr_fold(uint32_t);
static uint32_t typstr_primary(uint32_t);
static int typstr_trim(const unsigned char *, int);
static int typstr_cmp_level(const unsigned char *, int, const unsigned char *,
    int, uint32_t (*)(uint32_t));
static int typstr_collate_ci(void *, int, const void *, int, const void *);
static int typstr_dec_split(const char *, int, struct typstr_dec *);
static int typstr_dec_mag(const struct typstr_dec *, const struct typstr_dec *);
static int typstr_collate_dec(void *, int, const void *, int, const void *);
static int typstr_collate_guid(void *, int, const void *, int, const void *);
static int typstr_dto_instant(const void *, int, int64_t *);
static int typstr_collate_dto(void *, int, const void *, int, const void *);
static int typstr_arg_type(
    sqlite3_context *, sqlite3_value **, int, struct sim_type *);
static void typstr_result(sqlite3_context *, struct simval *);
static void typstr_fn_cast(sqlite3_context *, int, sqlite3_value **);
static void typstr_fn_assign(sqlite3_context *, int, sqlite3_value **);
static void typstr_fn_compare(sqlite3_context *, int, sqlite3_value **);
static void typstr_fn_decimal(sqlite3_context *, int, sqlite3_value **);

/* Unicode of code page 1252 bytes 0x80-0x9f (undefined: the C1 code). */
static const uint16_t typstr_cp1252_hi[32] = { 0x20ac, 0x0081, 0x201a, 0x0192,
	0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152,
	0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e,
	0x0178 };

/* Base letters of U+0100-U+017F ('.' = none). */
static const char typstr_base_ext_a[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkk.lllllll"
    "lllnnnnnn...oooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzz.";

/* Base letters of U+00E0-U+00FF (after folding). */
static const char typstr_base_latin1[] = "aaaaaa.ceeeeiiii.nooooo.ouuuuy.y";

/* Append one code point as UTF-8. */
void
typstr_put_utf8(struct sbuf *b, uint32_t cp)
{
	unsigned char u[4];

	if (cp < 0x80) {
		sbuf_u8(b, cp);
		return;
	}
	if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		sbuf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		sbuf_add(b, u, 3);
	} else {
		u[0] = 0xf0 | (cp >> 18);
		u[1] = 0x80 | ((cp >> 12) & 0x3f);
		u[2] = 0x80 | ((cp >> 6) & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		sbuf_add(b, u, 4);
	}
}

/* Is text pure ASCII? */
int
typstr_is_ascii(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] >= 0x80)
			return (0);
	return (1);
}

/* The code page 1252 byte of a code point, or -1. */
int
typstr_cp1252_byte(uint32_t cp)
{
	int i;

	if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff))
		return ((int)cp);
	for (i = 0; i < 32; i++)
		if (typstr_cp1252_hi[i] == cp)
			return (0x80 + i);
	return (-1);
}

/* UTF-8 to code page 1252 bytes ('?' for what it cannot hold). */
void
typstr_to_cp1252(struct sbuf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	uint32_t cp;
	int c;

	if (typstr_is_ascii(p, len)) {
		sbuf_add(b, p, len);
		return;
	}
	while (p < end) {
		cp = util_utf8_next(&p, end);
		if ((c = typstr_cp1252_byte(cp)) != -1)
			sbuf_u8(b, c);
		else if (cp >= 0x10000)
			sbuf_add(b, "??", 2);
		else
			sbuf_u8(b, '?');
	}
}

/* Code page 1252 bytes to UTF-8. */
void
typstr_from_cp1252(struct sbuf *b, const unsigned char *p, size_t len)
{
	size_t i;

	if (typstr_is_ascii(p, len)) {
		sbuf_add(b, p, len);
		return;
	}
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x80 && p[i] < 0xa0)
			typstr_put_utf8(b, typstr_cp1252_hi[p[i] - 0x80]);
		else
			typstr_put_utf8(b, p[i]);
	}
}

/* UTF-8 limited to what code page 1252 holds, still UTF-8. */
static void
typstr_filter_1252(struct sbuf *b, const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	uint32_t cp;

	if (typstr_is_ascii(p, len)) {
		sbuf_add(b, p, len);
		return;
	}
	while (p < end) {
		cp = util_utf8_next(&p, end);
		if (typstr_cp1252_byte(cp) != -1)
			typstr_put_utf8(b, cp);
		else if (cp >= 0x10000)
			sbuf_add(b, "??", 2);
		else
			sbuf_u8(b, '?');
	}
}

/* Length in SQL Server units: bytes (1252) or UTF-16 units. */
static size_t
typstr_units(const unsigned char *p, size_t len, int wide)
{
	const unsigned char *end = p + len;
	size_t n = 0;

	if (typstr_is_ascii(p, len))
		return (len);
	while (p < end)
		n += util_utf8_next(&p, end) >= 0x10000 && wide ? 2 : 1;
	return (n);
}

/* Byte offset of the first units units (a pair is never split). */
static size_t
typstr_prefix(const unsigned char *s, size_t len, size_t units, int wide)
{
	const unsigned char *p = s, *end = s + len, *q;
	size_t n = 0, w;

	while (p < end) {
		q = p;
		w = util_utf8_next(&q, end) >= 0x10000 && wide ? 2 : 1;
		if (n + w > units)
			break;
		n += w;
		p = q;
	}
	return (p - s);
}

/* Text of a float in CONVERT style 0, 1, 2 or 3 (exponent 3 digits). */
static size_t
typstr_float(double f, int style, char *buf)
{
	char d[40], dig[20];
	int sig, exp, i, nd, neg = f < 0, sci;
	size_t n = 0;

	if (f == 0)
		return (sprintf(buf, "0"));
	sig = style == 1 ? 8 : style == 2 ? 16 : style == 3 ? 17 : 6;
	snprintf(d, sizeof(d), "%.16e", fabs(f));
	dig[0] = d[0];
	memcpy(dig + 1, d + 2, 16);
	exp = atoi(d + 19);
	if (sig < 17 && dig[sig] >= '5') {
		for (i = sig - 1; i >= 0 && dig[i] == '9'; i--)
			dig[i] = '0';
		if (i < 0) {
			dig[0] = '1';
			exp++;
		} else
			dig[i]++;
	}
	nd = sig;
	sci = style == 1 || style == 2 || exp < -4 || exp >= sig;
	if (style == 0 || style == 3)
		while (nd > 1 && dig[nd - 1] == '0')
			nd--;
	if (neg)
		buf[n++] = '-';
	if (sci) {
		buf[n++] = dig[0];
		if (nd > 1) {
			buf[n++] = '.';
			memcpy(buf + n, dig + 1, nd - 1);
			n += nd - 1;
		}
		return (n +
		    sprintf(buf + n, "e%c%03d", exp < 0 ? '-' : '+',
			exp < 0 ? -exp : exp));
	}
	if (exp < 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (i = -1; i > exp; i--)
			buf[n++] = '0';
		memcpy(buf + n, dig, nd);
		n += nd;
	} else {
		for (i = 0; i <= exp || i < nd; i++) {
			if (i == exp + 1)
				buf[n++] = '.';
			buf[n++] = i < nd ? dig[i] : '0';
		}
	}
	buf[n] = '\0';
	return (n);
}

/* Money text: style 0 two decimals, 1 with commas, 2 four decimals. */
static size_t
typstr_money(const struct typnum *in, int style, char *buf)
{
	struct typnum n = *in;
	char t[64];
	size_t len, i, j = 0, intlen;
	char *dot;

	typnum_rescale(&n, style == 2 ? 4 : 2, 1);
	len = typnum_format(&n, t, sizeof(t));
	if (style != 1) {
		memcpy(buf, t, len + 1);
		return (len);
	}
	i = 0;
	if (t[0] == '-')
		buf[j++] = t[i++];
	dot = strchr(t, '.');
	intlen = dot - t - i;
	for (; t + i < dot; i++, intlen--) {
		buf[j++] = t[i];
		if (intlen > 1 && intlen % 3 == 1)
			buf[j++] = ',';
	}
	memcpy(buf + j, dot, strlen(dot) + 1);
	return (j + strlen(dot));
}

/* "Mon dd yyyy hh:miAM" pieces of style 0/100. */
static size_t
typstr_dt_style0(const struct typdt *dt, const struct sim_type *from, char *buf)
{
	static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int y, m, d, hh, mi;
	size_t n = 0;

	typdt_civil(dt->days, &y, &m, &d);
	hh = (int)(dt->time / TYPDT_SEC / 3600);
	mi = (int)(dt->time / TYPDT_SEC / 60 % 60);
	if (from->id != SIMT_TIME)
		n += sprintf(buf, "%s %2d %d", mon[m - 1], d, y);
	if (from->id != SIMT_DATE)
		n += sprintf(buf + n, "%s%2d:%02d%s", n ? " " : "",
		    hh % 12 == 0 ? 12 : hh % 12, mi, hh < 12 ? "AM" : "PM");
	if (from->id == SIMT_DATETIMEOFFSET)
		n +=
		    sprintf(buf + n, " %c%02d:%02d", dt->offset < 0 ? '-' : '+',
			abs(dt->offset) / 60, abs(dt->offset) % 60);
	return (n);
}

/* The fraction digits a type shows in style 121. */
static int
typstr_dt_digits(const struct sim_type *t)
{
	if (t->id == SIMT_DATETIME || t->id == SIMT_SMALLDATETIME)
		return (3);
	return (t->scale);
}

/* ISO styles 120, 121, 126, 127 (and 20, 21, 23, 25, 108). */
static size_t
typstr_dt_iso(
    struct typdt dt, const struct sim_type *from, int style, char *buf)
{
	size_t n = 0;
	int y, m, d, digits = typstr_dt_digits(from);
	int64_t sec, frac, utc;

	if (style == 127 && from->id == SIMT_DATETIMEOFFSET) {
		utc = (int64_t)dt.days * TYPDT_DAY + dt.time -
		    (int64_t)dt.offset * 60 * TYPDT_SEC;
		dt.days = (int32_t)(utc / TYPDT_DAY);
		dt.time = utc % TYPDT_DAY;
	}
	typdt_civil(dt.days, &y, &m, &d);
	if (from->id != SIMT_TIME && style != 108)
		n += sprintf(buf, "%04d-%02d-%02d", y, m, d);
	if (style == 23 || from->id == SIMT_DATE)
		return (n);
	if (n)
		buf[n++] = style >= 126 ? 'T' : ' ';
	if (from->id == SIMT_DATETIME)
		dt.time = (dt.time + 5000) / 10000 * 10000;
	sec = dt.time / TYPDT_SEC;
	frac = dt.time % TYPDT_SEC;
	n += sprintf(buf + n, "%02d:%02d:%02d", (int)(sec / 3600),
	    (int)(sec / 60 % 60), (int)(sec % 60));
	if (style == 120 || style == 20 || style == 108)
		return (n);
	if (style >= 126 && frac == 0)
		digits = 0;
	if (digits > 0) {
		n += snprintf(buf + n, 10, ".%0*lld", digits,
		    (long long)(frac / (int64_t)typnum_pow10(7 - digits)));
	}
	if (from->id == SIMT_DATETIMEOFFSET && style == 127)
		buf[n++] = 'Z';
	else if (from->id == SIMT_DATETIMEOFFSET && style == 126)
		n += sprintf(buf + n, "%c%02d:%02d", dt.offset < 0 ? '-' : '+',
		    abs(dt.offset) / 60, abs(dt.offset) % 60);
	else if (from->id == SIMT_DATETIMEOFFSET)
		n += sprintf(buf + n, " %c%02d:%02d", dt.offset < 0 ? '-' : '+',
		    abs(dt.offset) / 60, abs(dt.offset) % 60);
	buf[n] = '\0';
	return (n);
}

/* Date-only styles 1-5, 10-12 and 101-105, 110-112. */
static size_t
typstr_dt_datestyle(const struct typdt *dt, int style, char *buf)
{
	int y, m, d, yy, base = style % 100;

	typdt_civil(dt->days, &y, &m, &d);
	yy = style >= 100 ? y : y % 100;
	switch (base) {
	case 1:
		return (sprintf(
		    buf, "%02d/%02d/%0*d", m, d, style >= 100 ? 4 : 2, yy));
	case 2:
		return (sprintf(
		    buf, "%0*d.%02d.%02d", style >= 100 ? 4 : 2, yy, m, d));
	case 3:
		return (sprintf(
		    buf, "%02d/%02d/%0*d", d, m, style >= 100 ? 4 : 2, yy));
	case 4:
		return (sprintf(
		    buf, "%02d.%02d.%0*d", d, m, style >= 100 ? 4 : 2, yy));
	case 5:
		return (sprintf(
		    buf, "%02d-%02d-%0*d", d, m, style >= 100 ? 4 : 2, yy));
	case 10:
		return (sprintf(
		    buf, "%02d-%02d-%0*d", m, d, style >= 100 ? 4 : 2, yy));
	case 11:
		return (sprintf(
		    buf, "%0*d/%02d/%02d", style >= 100 ? 4 : 2, yy, m, d));
	case 12:
		return (sprintf(
		    buf, "%0*d%02d%02d", style >= 100 ? 4 : 2, yy, m, d));
	}
	return (0);
}

/* Fraction of styles 9, 13, 14: ":mmm" for datetime, ".f" otherwise. */
static size_t
typstr_dt_msec(const struct typdt *dt, const struct sim_type *from, char *buf)
{
	int64_t frac = dt->time % TYPDT_SEC;
	int digits = from->id == SIMT_DATETIME ? 3
	    : from->id == SIMT_SMALLDATETIME   ? 3
					       : from->scale;

	if (from->id == SIMT_DATETIME || from->id == SIMT_SMALLDATETIME)
		return (snprintf(
		    buf, 8, ":%03d", (int)((frac + 5000) / 10000 % 1000)));
	if (digits == 0)
		return (0);
	return (snprintf(buf, 10, ".%0*lld", digits,
	    (long long)(frac / (int64_t)typnum_pow10(7 - digits))));
}

/* Styles with month names or milliseconds: 6, 7, 9, 13, 14, 22 (+100). */
static size_t
typstr_dt_named(
    const struct typdt *dt, const struct sim_type *from, int style, char *buf)
{
	static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int y, m, d, hh, mi, ss, yy, w = style >= 100 ? 4 : 2;
	size_t n;

	typdt_civil(dt->days, &y, &m, &d);
	yy = style >= 100 ? y : y % 100;
	hh = (int)(dt->time / TYPDT_SEC / 3600);
	mi = (int)(dt->time / TYPDT_SEC / 60 % 60);
	ss = (int)(dt->time / TYPDT_SEC % 60);
	switch (style % 100) {
	case 6:
		return (sprintf(buf, "%02d %s %0*d", d, mon[m - 1], w, yy));
	case 7:
		return (sprintf(buf, "%s %02d, %0*d", mon[m - 1], d, w, yy));
	case 9:
		n = sprintf(buf, "%s %2d %d %2d:%02d:%02d", mon[m - 1], d, y,
		    hh % 12 == 0 ? 12 : hh % 12, mi, ss);
		n += typstr_dt_msec(dt, from, buf + n);
		return (n + sprintf(buf + n, "%s", hh < 12 ? "AM" : "PM"));
	case 13:
		n = sprintf(buf, "%02d %s %d %02d:%02d:%02d", d, mon[m - 1], y,
		    hh, mi, ss);
		return (n + typstr_dt_msec(dt, from, buf + n));
	case 14:
		n = sprintf(buf, "%02d:%02d:%02d", hh, mi, ss);
		return (n + typstr_dt_msec(dt, from, buf + n));
	case 22:
		return (sprintf(buf, "%02d/%02d/%02d %2d:%02d:%02d %s", m, d,
		    y % 100, hh % 12 == 0 ? 12 : hh % 12, mi, ss,
		    hh < 12 ? "AM" : "PM"));
	}
	return (0);
}

/* Text of a date/time value in a CONVERT style; -1 if not a style. */
static int
typstr_dt(const struct typval *in, const struct sim_type *from, int flags,
    struct sbuf *b, struct sim_error *err)
{
	struct typdt dt;
	char buf[80];
	size_t n;
	int style = flags & SIMCONV_STYLE;

	if (typval_dt(in, from, &dt, err) == -1)
		return (-1);
	if (style == 0 && !(flags & SIMCONV_STYLE_GIVEN) &&
	    from->id != SIMT_DATETIME && from->id != SIMT_SMALLDATETIME)
		n = typdt_format(&dt, from, buf);
	else if (style == 0 || style == 100)
		n = typstr_dt_style0(&dt, from, buf);
	else if (style == 20 || style == 120 || style == 21 || style == 25 ||
	    style == 121 || style == 126 || style == 127 || style == 23 ||
	    style == 108 || style == 8 || style == 24)
		n = typstr_dt_iso(dt, from,
		    style == 21 || style == 25      ? 121
			: style == 8 || style == 24 ? 108
						    : style,
		    buf);
	else if ((n = typstr_dt_datestyle(&dt, style, buf)) == 0 &&
	    (n = typstr_dt_named(&dt, from, style, buf)) == 0) {
		sim_error_set(err, 281, 16, 1,
		    "%d is not a valid style number when converting from %s "
		    "to a character string.",
		    style, simtype_name(from));
		return (-1);
	}
	sbuf_add(b, buf, n);
	return (0);
}

/* Hex text of bytes (styles 1 and 2). */
static void
typstr_hex(struct sbuf *b, const unsigned char *p, size_t len, int prefix)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	if (prefix)
		sbuf_add(b, "0x", 2);
	sbuf_reserve(b, len * 2);
	for (i = 0; i < len; i++) {
		b->data[b->len++] = hex[p[i] >> 4];
		b->data[b->len++] = hex[p[i] & 15];
	}
}

/* The text of a value (UTF-8) before it is fitted to the target. */
static int
typstr_source(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, int flags, struct sbuf *b, struct sim_error *err)
{
	char buf[80];
	struct typnum n;
	int style = flags & SIMCONV_STYLE;
	char *u;
	size_t ulen;

	switch (types_family(from)) {
	case TYPF_INT:
	case TYPF_BIT:
		sbuf_add(
		    b, buf, sprintf(buf, "%lld", (long long)typval_int(in)));
		return (0);
	case TYPF_FLOAT:
		sbuf_add(b, buf, typstr_float(typval_float(in), style, buf));
		return (0);
	case TYPF_NUM:
		if (typval_num(in, from, &n, err) == -1)
			return (-1);
		if (from->id == SIMT_MONEY || from->id == SIMT_SMALLMONEY)
			sbuf_add(b, buf, typstr_money(&n, style, buf));
		else
			sbuf_add(b, buf, typnum_format(&n, buf, sizeof(buf)));
		return (0);
	case TYPF_DT:
		return (typstr_dt(in, from, flags, b, err));
	case TYPF_BIN:
		if (style == 1 || style == 2)
			typstr_hex(b, in->p, in->len, style == 1);
		else if (simtype_is_unicode(to)) {
			if (util_ucs2_to_utf8(
				in->p, in->len & ~(size_t)1, &u, &ulen) == 0) {
				sbuf_add(b, u, ulen);
				free(u);
			}
		} else
			typstr_from_cp1252(b, in->p, in->len);
		return (0);
	}
	if (in->kind == SQLITE_BLOB || in->kind == SQLITE_TEXT)
		sbuf_add(b, in->p, in->len);
	else if (in->kind == SQLITE_INTEGER)
		sbuf_add(b, buf, sprintf(buf, "%lld", (long long)in->i));
	else if (in->kind == SQLITE_FLOAT)
		sbuf_add(b, buf, typstr_float(in->f, 0, buf));
	return (0);
}

/* The error or '*' when a number does not fit a short string. */
static int
typstr_num_short(const struct sim_type *from, const struct sim_type *to,
    struct simval *out, struct sim_error *err)
{
	int f = types_family(from);

	if ((f == TYPF_INT || f == TYPF_BIT) && !simtype_is_unicode(to)) {
		typval_set_text(out, "*", 1);
		if (to->id == SIMT_CHAR && to->maxlen > 1) {
			simval_free(out);
			out->p = util_xmalloc(to->maxlen + 1);
			memset(out->p, ' ', to->maxlen);
			out->p[0] = '*';
			out->p[to->maxlen] = '\0';
			out->len = to->maxlen;
			out->kind = SQLITE_TEXT;
		}
		return (0);
	}
	sim_error_set(err, 8115, 16, 2,
	    "Arithmetic overflow error converting %s to data type %s.",
	    f == TYPF_NUM         ? "numeric"
		: f == TYPF_FLOAT ? "float"
				  : "expression",
	    simtype_name(to));
	return (-1);
}

/* Fit UTF-8 text to the target's repertoire, length and padding. */
static int
typstr_fit(struct sbuf *src, const struct typval *in,
    const struct sim_type *from, const struct sim_type *to, int flags,
    struct simval *out, struct sim_error *err)
{
	struct sbuf b;
	int wide = simtype_is_unicode(to), f = types_family(from);
	size_t limit, units, cut, i;

	(void)in;
	sbuf_init(&b);
	if (wide)
		sbuf_add(&b, src->data, src->len);
	else
		typstr_filter_1252(&b, src->data, src->len);
	limit = to->maxlen < 0 || simtype_is_lob(to) ? (size_t)-1
	    : wide                                   ? (size_t)to->maxlen / 2
						     : (size_t)to->maxlen;
	units = limit == (size_t)-1 ? 0 : typstr_units(b.data, b.len, wide);
	if (limit != (size_t)-1 && units > limit) {
		if (f == TYPF_INT || f == TYPF_BIT || f == TYPF_NUM ||
		    f == TYPF_FLOAT) {
			sbuf_free(&b);
			return (typstr_num_short(from, to, out, err));
		}
		if (f == TYPF_GUID) {
			sbuf_free(&b);
			sim_error_set(err, 8170, 16, 2,
			    "Insufficient result space to convert "
			    "uniqueidentifier value to %s.",
			    wide ? "nchar" : "char");
			return (-1);
		}
		cut = typstr_prefix(b.data, b.len, limit, wide);
		for (i = cut; i < b.len && b.data[i] == ' '; i++)
			;
		if ((flags & SIMCONV_ASSIGN) && i < b.len) {
			sbuf_free(&b);
			sim_error_set(err, 8152, 16, 30,
			    "String or binary data would be truncated.");
			return (-1);
		}
		b.len = cut;
		units =
		    typstr_units(b.data, cut, wide); /* a pair may not fit */
	}
	if ((to->id == SIMT_CHAR || to->id == SIMT_NCHAR) && units < limit) {
		sbuf_reserve(&b, limit - units);
		memset(b.data + b.len, ' ', limit - units);
		b.len += limit - units;
	}
	typval_set_text(out, b.len ? (const char *)b.data : "", b.len);
	sbuf_free(&b);
	return (0);
}

/* Convert to char, varchar, nchar, nvarchar, text, ntext, xml. */
int
types_conv_str(const struct typval *in, const struct sim_type *from,
    const struct sim_type *to, int flags, struct simval *out,
    struct sim_error *err)
{
	struct sbuf b;
	int rc;

	if ((flags & SIMCONV_IMPLICIT) && to->id != SIMT_XML &&
	    (from->id == SIMT_XML))
		return (types_err_notallowed(from, to, flags, err));
	sbuf_init(&b);
	if (typstr_source(in, from, to, flags, &b, err) == -1) {
		sbuf_free(&b);
		return (-1);
	}
	rc = typstr_fit(&b, in, from, to, flags, out, err);
	sbuf_free(&b);
	return (rc);
}

/*
 * Assignment to a column: like CAST, but truncation of anything but
 * trailing spaces is SQL Server 2019's error 2628 naming the table, the
 * column and the truncated value.
 */
int
simval_assign(sqlite3_value *sv, const struct sim_type *from,
    const struct sim_type *to, const char *table, const char *column,
    struct simval *out, struct sim_error *err)
{
	struct typval v;
	struct simval cut;
	struct sbuf b;

	typval_from_sqlite(&v, sv);
	if (typval_convert(&v, from, to, SIMCONV_ASSIGN, out, err) == 0)
		return (0);
	if (err->number != 8152)
		return (-1);
	if (typval_convert(&v, from, to, 0, &cut, err) == -1)
		return (-1);
	sbuf_init(&b);
	if (cut.kind == SQLITE_BLOB)
		typstr_hex(&b, cut.p, cut.len, 1);
	else
		sbuf_add(&b, cut.p, cut.len);
	sbuf_u8(&b, '\0');
	sim_error_set(err, 2628, 16, 1,
	    "String or binary data would be truncated in table '%s', column "
	    "'%s'. Truncated value: '%s'.",
	    table, column, (const char *)b.data);
	sbuf_free(&b);
	simval_free(&cut);
	return (-1);
}

/* Collations. */

/*
 * Simple lower-case mappings of the BMP as runs: start, end, delta,
 * stride (generated from Unicode's UnicodeData; final sigma folds to
 * sigma; mappings to more than one character are left out).
 */
static const struct typstr_case {
	uint16_t start, end;
	int32_t delta;
	uint8_t stride;
} typstr_cases[] = {
	{ 0x00c0, 0x00d6, 32, 1 },
	{ 0x00d8, 0x00de, 32, 1 },
	{ 0x0100, 0x012e, 1, 2 },
	{ 0x0132, 0x0136, 1, 2 },
	{ 0x0139, 0x0147, 1, 2 },
	{ 0x014a, 0x0176, 1, 2 },
	{ 0x0178, 0x0178, -121, 1 },
	{ 0x0179, 0x017d, 1, 2 },
	{ 0x0181, 0x0181, 210, 1 },
	{ 0x0182, 0x0184, 1, 2 },
	{ 0x0186, 0x0186, 206, 1 },
	{ 0x0187, 0x0187, 1, 1 },
	{ 0x0189, 0x018a, 205, 1 },
	{ 0x018b, 0x018b, 1, 1 },
	{ 0x018e, 0x018e, 79, 1 },
	{ 0x018f, 0x018f, 202, 1 },
	{ 0x0190, 0x0190, 203, 1 },
	{ 0x0191, 0x0191, 1, 1 },
	{ 0x0193, 0x0193, 205, 1 },
	{ 0x0194, 0x0194, 207, 1 },
	{ 0x0196, 0x0196, 211, 1 },
	{ 0x0197, 0x0197, 209, 1 },
	{ 0x0198, 0x0198, 1, 1 },
	{ 0x019c, 0x019c, 211, 1 },
	{ 0x019d, 0x019d, 213, 1 },
	{ 0x019f, 0x019f, 214, 1 },
	{ 0x01a0, 0x01a4, 1, 2 },
	{ 0x01a6, 0x01a6, 218, 1 },
	{ 0x01a7, 0x01a7, 1, 1 },
	{ 0x01a9, 0x01a9, 218, 1 },
	{ 0x01ac, 0x01ac, 1, 1 },
	{ 0x01ae, 0x01ae, 218, 1 },
	{ 0x01af, 0x01af, 1, 1 },
	{ 0x01b1, 0x01b2, 217, 1 },
	{ 0x01b3, 0x01b5, 1, 2 },
	{ 0x01b7, 0x01b7, 219, 1 },
	{ 0x01b8, 0x01b8, 1, 1 },
	{ 0x01bc, 0x01bc, 1, 1 },
	{ 0x01c4, 0x01c4, 2, 1 },
	{ 0x01c5, 0x01c5, 1, 1 },
	{ 0x01c7, 0x01c7, 2, 1 },
	{ 0x01c8, 0x01c8, 1, 1 },
	{ 0x01ca, 0x01ca, 2, 1 },
	{ 0x01cb, 0x01db, 1, 2 },
	{ 0x01de, 0x01ee, 1, 2 },
	{ 0x01f1, 0x01f1, 2, 1 },
	{ 0x01f2, 0x01f4, 1, 2 },
	{ 0x01f6, 0x01f6, -97, 1 },
	{ 0x01f7, 0x01f7, -56, 1 },
	{ 0x01f8, 0x021e, 1, 2 },
	{ 0x0220, 0x0220, -130, 1 },
	{ 0x0222, 0x0232, 1, 2 },
	{ 0x023a, 0x023a, 10795, 1 },
	{ 0x023b, 0x023b, 1, 1 },
	{ 0x023d, 0x023d, -163, 1 },
	{ 0x023e, 0x023e, 10792, 1 },
	{ 0x0241, 0x0241, 1, 1 },
	{ 0x0243, 0x0243, -195, 1 },
	{ 0x0244, 0x0244, 69, 1 },
	{ 0x0245, 0x0245, 71, 1 },
	{ 0x0246, 0x024e, 1, 2 },
	{ 0x0370, 0x0372, 1, 2 },
	{ 0x0376, 0x0376, 1, 1 },
	{ 0x037f, 0x037f, 116, 1 },
	{ 0x0386, 0x0386, 38, 1 },
	{ 0x0388, 0x038a, 37, 1 },
	{ 0x038c, 0x038c, 64, 1 },
	{ 0x038e, 0x038f, 63, 1 },
	{ 0x0391, 0x03a1, 32, 1 },
	{ 0x03a3, 0x03ab, 32, 1 },
	{ 0x03c2, 0x03c2, 1, 1 },
	{ 0x03cf, 0x03cf, 8, 1 },
	{ 0x03d8, 0x03ee, 1, 2 },
	{ 0x03f4, 0x03f4, -60, 1 },
	{ 0x03f7, 0x03f7, 1, 1 },
	{ 0x03f9, 0x03f9, -7, 1 },
	{ 0x03fa, 0x03fa, 1, 1 },
	{ 0x03fd, 0x03ff, -130, 1 },
	{ 0x0400, 0x040f, 80, 1 },
	{ 0x0410, 0x042f, 32, 1 },
	{ 0x0460, 0x0480, 1, 2 },
	{ 0x048a, 0x04be, 1, 2 },
	{ 0x04c0, 0x04c0, 15, 1 },
	{ 0x04c1, 0x04cd, 1, 2 },
	{ 0x04d0, 0x052e, 1, 2 },
	{ 0x0531, 0x0556, 48, 1 },
	{ 0x10a0, 0x10c5, 7264, 1 },
	{ 0x10c7, 0x10c7, 7264, 1 },
	{ 0x10cd, 0x10cd, 7264, 1 },
	{ 0x13a0, 0x13ef, 38864, 1 },
	{ 0x13f0, 0x13f5, 8, 1 },
	{ 0x1c90, 0x1cba, -3008, 1 },
	{ 0x1cbd, 0x1cbf, -3008, 1 },
	{ 0x1e00, 0x1e94, 1, 2 },
	{ 0x1e9e, 0x1e9e, -7615, 1 },
	{ 0x1ea0, 0x1efe, 1, 2 },
	{ 0x1f08, 0x1f0f, -8, 1 },
	{ 0x1f18, 0x1f1d, -8, 1 },
	{ 0x1f28, 0x1f2f, -8, 1 },
	{ 0x1f38, 0x1f3f, -8, 1 },
	{ 0x1f48, 0x1f4d, -8, 1 },
	{ 0x1f59, 0x1f5f, -8, 2 },
	{ 0x1f68, 0x1f6f, -8, 1 },
	{ 0x1f88, 0x1f8f, -8, 1 },
	{ 0x1f98, 0x1f9f, -8, 1 },
	{ 0x1fa8, 0x1faf, -8, 1 },
	{ 0x1fb8, 0x1fb9, -8, 1 },
	{ 0x1fba, 0x1fbb, -74, 1 },
	{ 0x1fbc, 0x1fbc, -9, 1 },
	{ 0x1fc8, 0x1fcb, -86, 1 },
	{ 0x1fcc, 0x1fcc, -9, 1 },
	{ 0x1fd8, 0x1fd9, -8, 1 },
	{ 0x1fda, 0x1fdb, -100, 1 },
	{ 0x1fe8, 0x1fe9, -8, 1 },
	{ 0x1fea, 0x1feb, -112, 1 },
	{ 0x1fec, 0x1fec, -7, 1 },
	{ 0x1ff8, 0x1ff9, -128, 1 },
	{ 0x1ffa, 0x1ffb, -126, 1 },
	{ 0x1ffc, 0x1ffc, -9, 1 },
	{ 0x2126, 0x2126, -7517, 1 },
	{ 0x212a, 0x212a, -8383, 1 },
	{ 0x212b, 0x212b, -8262, 1 },
	{ 0x2132, 0x2132, 28, 1 },
	{ 0x2160, 0x216f, 16, 1 },
	{ 0x2183, 0x2183, 1, 1 },
	{ 0x24b6, 0x24cf, 26, 1 },
	{ 0x2c00, 0x2c2f, 48, 1 },
	{ 0x2c60, 0x2c60, 1, 1 },
	{ 0x2c62, 0x2c62, -10743, 1 },
	{ 0x2c63, 0x2c63, -3814, 1 },
	{ 0x2c64, 0x2c64, -10727, 1 },
	{ 0x2c67, 0x2c6b, 1, 2 },
	{ 0x2c6d, 0x2c6d, -10780, 1 },
	{ 0x2c6e, 0x2c6e, -10749, 1 },
	{ 0x2c6f, 0x2c6f, -10783, 1 },
	{ 0x2c70, 0x2c70, -10782, 1 },
	{ 0x2c72, 0x2c72, 1, 1 },
	{ 0x2c75, 0x2c75, 1, 1 },
	{ 0x2c7e, 0x2c7f, -10815, 1 },
	{ 0x2c80, 0x2ce2, 1, 2 },
	{ 0x2ceb, 0x2ced, 1, 2 },
	{ 0x2cf2, 0x2cf2, 1, 1 },
	{ 0xa640, 0xa66c, 1, 2 },
	{ 0xa680, 0xa69a, 1, 2 },
	{ 0xa722, 0xa72e, 1, 2 },
	{ 0xa732, 0xa76e, 1, 2 },
	{ 0xa779, 0xa77b, 1, 2 },
	{ 0xa77d, 0xa77d, -35332, 1 },
	{ 0xa77e, 0xa786, 1, 2 },
	{ 0xa78b, 0xa78b, 1, 1 },
	{ 0xa78d, 0xa78d, -42280, 1 },
	{ 0xa790, 0xa792, 1, 2 },
	{ 0xa796, 0xa7a8, 1, 2 },
	{ 0xa7aa, 0xa7aa, -42308, 1 },
	{ 0xa7ab, 0xa7ab, -42319, 1 },
	{ 0xa7ac, 0xa7ac, -42315, 1 },
	{ 0xa7ad, 0xa7ad, -42305, 1 },
	{ 0xa7ae, 0xa7ae, -42308, 1 },
	{ 0xa7b0, 0xa7b0, -42258, 1 },
	{ 0xa7b1, 0xa7b1, -42282, 1 },
	{ 0xa7b2, 0xa7b2, -42261, 1 },
	{ 0xa7b3, 0xa7b3, 928, 1 },
	{ 0xa7b4, 0xa7c2, 1, 2 },
	{ 0xa7c4, 0xa7c4, -48, 1 },
	{ 0xa7c5, 0xa7c5, -42307, 1 },
	{ 0xa7c6, 0xa7c6, -35384, 1 },
	{ 0xa7c7, 0xa7c9, 1, 2 },
	{ 0xa7d0, 0xa7d0, 1, 1 },
	{ 0xa7d6, 0xa7d8, 1, 2 },
	{ 0xa7f5, 0xa7f5, 1, 1 },
	{ 0xff21, 0xff3a, 32, 1 },
};

/* Simple case folding (to lower case). */
static uint32_t
typstr_fold(uint32_t c)
{
	size_t lo = 0, hi, mid;
	const struct typstr_case *r;

	if (c < 0x80)
		return (c >= 'A' && c <= 'Z' ? c + 32 : c);
	if (c > 0xffff)
		return (c);
	hi = sizeof(typstr_cases) / sizeof(typstr_cases[0]);
	while (lo < hi) {
		mid = (lo + hi) / 2;
		r = &typstr_cases[mid];
		if (c < r->start)
			hi = mid;
		else if (c > r->end)
			lo = mid + 1;
		else
			return ((c - r->start) % r->stride == 0
				? (uint32_t)((int32_t)c + r->delta)
				: c);
	}
	return (c);
}

/* The primary weight: folded, accents removed from Latin letters. */
static uint32_t
typstr_primary(uint32_t c)
{
	char b;

	c = typstr_fold(c);
	if (c >= 0xe0 && c <= 0xff) {
		b = typstr_base_latin1[c - 0xe0];
		return (b == '.' ? c : (uint32_t)b);
	}
	if (c >= 0x100 && c < 0x180) {
		b = typstr_base_ext_a[c - 0x100];
		return (b == '.' ? c : (uint32_t)b);
	}
	return (c);
}

/* Length without trailing spaces. */
static int
typstr_trim(const unsigned char *p, int n)
{
	while (n > 0 && p[n - 1] == ' ')
		n--;
	return (n);
}

/* One level of SIMCI: weights by fn. */
static int
typstr_cmp_level(const unsigned char *a, int na, const unsigned char *b, int nb,
    uint32_t (*fn)(uint32_t))
{
	const unsigned char *ea = a + na, *eb = b + nb;
	uint32_t ca, cb;

	while (a < ea && b < eb) {
		if (*a < 0x80 && *b < 0x80) {
			ca = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
			cb = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;
			a++, b++;
		} else {
			ca = fn(util_utf8_next(&a, ea));
			cb = fn(util_utf8_next(&b, eb));
		}
		if (ca != cb)
			return (ca < cb ? -1 : 1);
	}
	if (a < ea)
		return (1);
	if (b < eb)
		return (-1);
	return (0);
}

/* SIMCI: SQL_Latin1_General_CP1_CI_AS, approximately. */
static int
typstr_collate_ci(void *arg, int na, const void *va, int nb, const void *vb)
{
	const unsigned char *a = va, *b = vb;
	int rc;

	(void)arg;
	na = typstr_trim(a, na);
	nb = typstr_trim(b, nb);
	if ((rc = typstr_cmp_level(a, na, b, nb, typstr_primary)) != 0)
		return (rc);
	if (typstr_is_ascii(a, na) && typstr_is_ascii(b, nb))
		return (0);
	return (typstr_cmp_level(a, na, b, nb, typstr_fold));
}

struct typstr_dec {
	int neg;
	const char *ip; /* integer digits without leading zeros */
	int ni;
	const char *fp; /* fraction digits without trailing zeros */
	int nf;
};

/* Split decimal text; -1 if it is not plain decimal text. */
static int
typstr_dec_split(const char *p, int n, struct typstr_dec *d)
{
	const char *end = p + n;

	memset(d, 0, sizeof(*d));
	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	if (p < end && (*p == '-' || *p == '+'))
		d->neg = *p++ == '-';
	while (p < end && *p == '0')
		p++;
	for (d->ip = p; p < end && *p >= '0' && *p <= '9'; p++)
		d->ni++;
	if (p < end && *p == '.')
		for (d->fp = ++p; p < end && *p >= '0' && *p <= '9'; p++)
			d->nf++;
	if (p != end)
		return (-1);
	while (d->nf > 0 && d->fp[d->nf - 1] == '0')
		d->nf--;
	if (d->ni == 0 && d->nf == 0)
		d->neg = 0;
	return (0);
}

/* Compare magnitudes of split decimals. */
static int
typstr_dec_mag(const struct typstr_dec *a, const struct typstr_dec *b)
{
	int i, rc, n;

	if (a->ni != b->ni)
		return (a->ni < b->ni ? -1 : 1);
	if (a->ni > 0 && (rc = memcmp(a->ip, b->ip, a->ni)) != 0)
		return (rc < 0 ? -1 : 1);
	n = a->nf > b->nf ? a->nf : b->nf;
	for (i = 0; i < n; i++) {
		char ca = i < a->nf ? a->fp[i] : '0';
		char cb = i < b->nf ? b->fp[i] : '0';

		if (ca != cb)
			return (ca < cb ? -1 : 1);
	}
	return (0);
}

/* SIMDEC: numeric order of decimal text of any length and scale. */
static int
typstr_collate_dec(void *arg, int na, const void *va, int nb, const void *vb)
{
	struct typstr_dec a, b;
	double fa, fb;
	char ta[64], tb[64];
	int rc;

	(void)arg;
	if (typstr_dec_split(va, na, &a) == -1 ||
	    typstr_dec_split(vb, nb, &b) == -1) {
		snprintf(ta, sizeof(ta), "%.*s", na, (const char *)va);
		snprintf(tb, sizeof(tb), "%.*s", nb, (const char *)vb);
		fa = strtod(ta, NULL);
		fb = strtod(tb, NULL);
		return (fa < fb ? -1 : fa > fb);
	}
	if (a.neg != b.neg)
		return (a.neg ? -1 : 1);
	rc = typstr_dec_mag(&a, &b);
	return (a.neg ? -rc : rc);
}

/* SIMGUID: SQL Server's uniqueidentifier order. */
static int
typstr_collate_guid(void *arg, int na, const void *va, int nb, const void *vb)
{
	static const int order[16] = { 10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5,
		0, 1, 2, 3 };
	unsigned char a[16], b[16];
	int i, rc;

	(void)arg;
	if (typguid_parse(va, na, a) == -1 || typguid_parse(vb, nb, b) == -1) {
		rc = na && nb ? memcmp(va, vb, na < nb ? na : nb) : 0;
		return (rc != 0 ? rc : na - nb);
	}
	for (i = 0; i < 16; i++)
		if (a[order[i]] != b[order[i]])
			return (a[order[i]] < b[order[i]] ? -1 : 1);
	return (0);
}

/* The UTC instant of datetimeoffset text in 100 ns units. */
static int
typstr_dto_instant(const void *p, int n, int64_t *out)
{
	struct typdt dt;

	if (typdt_parse(p, n, &dt) != 0)
		return (-1);
	*out = (int64_t)dt.days * TYPDT_DAY + dt.time -
	    (int64_t)dt.offset * 60 * TYPDT_SEC;
	return (0);
}

/*
 * SIMDTO: datetimeoffset by its UTC instant.  SQL Server compares only
 * the instant: 12:00 +01:00 equals 11:00 +00:00.
 */
static int
typstr_collate_dto(void *arg, int na, const void *va, int nb, const void *vb)
{
	int64_t a, b;
	int rc;

	(void)arg;
	if (typstr_dto_instant(va, na, &a) == -1 ||
	    typstr_dto_instant(vb, nb, &b) == -1) {
		rc = na && nb ? memcmp(va, vb, na < nb ? na : nb) : 0;
		return (rc != 0 ? rc : na - nb);
	}
	return (a < b ? -1 : a > b);
}

/*
 * Compare two canonical values of type t as SQL Server does (NULLs
 * first, as ORDER BY puts them).
 */
int
simval_compare(sqlite3_value *a, sqlite3_value *b, const struct sim_type *t)
{
	int ka = sqlite3_value_type(a), kb = sqlite3_value_type(b);
	int (*cmp)(void *, int, const void *, int, const void *) = NULL;
	const char *coll = simtype_collation(t);
	double fa, fb;
	int rc, na, nb;

	if (ka == SQLITE_NULL || kb == SQLITE_NULL)
		return (ka == kb ? 0 : ka == SQLITE_NULL ? -1 : 1);
	if (ka == SQLITE_INTEGER && kb == SQLITE_INTEGER) {
		int64_t ia = sqlite3_value_int64(a),
			ib = sqlite3_value_int64(b);

		return (ia < ib ? -1 : ia > ib);
	}
	if ((ka == SQLITE_INTEGER || ka == SQLITE_FLOAT) &&
	    (kb == SQLITE_INTEGER || kb == SQLITE_FLOAT)) {
		fa = sqlite3_value_double(a);
		fb = sqlite3_value_double(b);
		return (fa < fb ? -1 : fa > fb);
	}
	if (coll != NULL && strcmp(coll, "SIMCI") == 0)
		cmp = typstr_collate_ci;
	else if (coll != NULL && strcmp(coll, "SIMDEC") == 0)
		cmp = typstr_collate_dec;
	else if (coll != NULL && strcmp(coll, "SIMGUID") == 0)
		cmp = typstr_collate_guid;
	else if (coll != NULL && strcmp(coll, "SIMDTO") == 0)
		cmp = typstr_collate_dto;
	if (cmp != NULL)
		return (cmp(NULL, sqlite3_value_bytes(a), sqlite3_value_text(a),
		    sqlite3_value_bytes(b), sqlite3_value_text(b)));
	na = sqlite3_value_bytes(a);
	nb = sqlite3_value_bytes(b);
	rc = na && nb ? memcmp(sqlite3_value_blob(a), sqlite3_value_blob(b),
			    na < nb ? na : nb)
		      : 0;
	if (rc != 0)
		return (rc < 0 ? -1 : 1);
	return (na < nb ? -1 : na > nb);
}

/* SQL functions. */

/*
 * The parsed type of a type-name argument into *t, cached by SQLite
 * while the argument is constant.  Raises 2715 and friends.
 */
static int
typstr_arg_type(
    sqlite3_context *ctx, sqlite3_value **argv, int i, struct sim_type *t)
{
	struct sim_type *cached;
	struct sim_error err;
	const char *text;

	if ((cached = sqlite3_get_auxdata(ctx, i)) != NULL) {
		*t = *cached;
		return (0);
	}
	if ((text = (const char *)sqlite3_value_text(argv[i])) == NULL)
		text = "";
	if (simtype_parse_text(text, 1, t, &err) == -1) {
		sim_sqlite_error(
		    ctx, err.number, err.class, err.state, "%s", err.msg);
		return (-1);
	}
	cached = util_xmalloc(sizeof(*cached));
	*cached = *t;
	sqlite3_set_auxdata(ctx, i, cached, free);
	return (0);
}

/* Hand an owned value to SQLite as the result. */
static void
typstr_result(sqlite3_context *ctx, struct simval *v)
{
	switch (v->kind) {
	case SQLITE_INTEGER:
		sqlite3_result_int64(ctx, v->i);
		break;
	case SQLITE_FLOAT:
		sqlite3_result_double(ctx, v->f);
		break;
	case SQLITE_TEXT:
		sqlite3_result_text(ctx, (char *)v->p, (int)v->len, free);
		v->p = NULL;
		break;
	case SQLITE_BLOB:
		sqlite3_result_blob(ctx, v->p, (int)v->len, free);
		v->p = NULL;
		break;
	default:
		sqlite3_result_null(ctx);
		break;
	}
	simval_free(v);
}

/*
 * sim_cast(value, 'type'[, style[, 'fromtype']]) and sim_try_cast():
 * CAST/CONVERT into the canonical form; TRY_ variants give NULL instead
 * of conversion errors.
 */
static void
typstr_fn_cast(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_type to, from;
	struct sim_error err;
	struct simval out;
	int flags = 0, try = sqlite3_user_data(ctx) != NULL, has_from = 0;

	if (argc < 2 || argc > 4) {
		sqlite3_result_error(ctx, "sim_cast: 2 to 4 arguments", -1);
		return;
	}
	if (typstr_arg_type(ctx, argv, 1, &to) == -1)
		return;
	if (argc > 2 && sqlite3_value_type(argv[2]) != SQLITE_NULL)
		flags = (sqlite3_value_int(argv[2]) & SIMCONV_STYLE) |
		    SIMCONV_STYLE_GIVEN;
	if (argc > 3 && sqlite3_value_type(argv[3]) != SQLITE_NULL) {
		if (typstr_arg_type(ctx, argv, 3, &from) == -1)
			return;
		has_from = 1;
	}
	if (simval_convert(argv[0], has_from ? &from : NULL, &to, flags, &out,
		&err) == -1) {
		if (try && err.number != 529)
			sqlite3_result_null(ctx);
		else
			sim_sqlite_error(ctx, err.number, err.class, err.state,
			    "%s", err.msg);
		return;
	}
	typstr_result(ctx, &out);
}

/*
 * sim_assign(value, 'totype', 'fromtype' or NULL, 'table', 'column'):
 * the conversion INSERT and UPDATE do, with error 2628.
 */
static void
typstr_fn_assign(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_type to, from;
	struct sim_error err;
	struct simval out;
	int has_from = 0;

	(void)argc;
	if (typstr_arg_type(ctx, argv, 1, &to) == -1)
		return;
	if (sqlite3_value_type(argv[2]) != SQLITE_NULL) {
		if (typstr_arg_type(ctx, argv, 2, &from) == -1)
			return;
		has_from = 1;
	}
	if (simval_assign(argv[0], has_from ? &from : NULL, &to,
		(const char *)sqlite3_value_text(argv[3]),
		(const char *)sqlite3_value_text(argv[4]), &out, &err) == -1) {
		sim_sqlite_error(
		    ctx, err.number, err.class, err.state, "%s", err.msg);
		return;
	}
	typstr_result(ctx, &out);
}

/* sim_compare(a, b, 'type'): -1, 0, 1 as SQL Server orders the type. */
static void
typstr_fn_compare(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_type t;

	(void)argc;
	if (typstr_arg_type(ctx, argv, 2, &t) == -1)
		return;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int(ctx, simval_compare(argv[0], argv[1], &t));
}

/*
 * sim_decimal_add/sub/mul/div(a, b, p, s): exact decimal arithmetic with
 * the result type decimal(p, s) the engine worked out from SQL Server's
 * rules; rounding half away from zero, division truncating.
 */
static void
typstr_fn_decimal(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_type dec = { SIMT_DECIMAL, 17, 38, 0 };
	struct typnum a, b, r;
	struct sim_error err;
	struct typval va, vb;
	char buf[64];
	int op = *(const char *)sqlite3_user_data(ctx), p, s, rc;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	p = sqlite3_value_int(argv[2]);
	s = sqlite3_value_int(argv[3]);
	if (p < 1 || p > 38 || s < 0 || s > p) {
		sqlite3_result_error(ctx, "sim_decimal: bad precision", -1);
		return;
	}
	typval_from_sqlite(&va, argv[0]);
	typval_from_sqlite(&vb, argv[1]);
	dec.scale = 18; /* how much of a float operand counts */
	memset(&err, 0, sizeof(err));
	if (typval_num(&va, &dec, &a, &err) == -1 ||
	    typval_num(&vb, &dec, &b, &err) == -1) {
		if (err.number == 0)
			sim_error_set(&err, 8115, 16, 2,
			    "Arithmetic overflow error converting expression "
			    "to data type numeric.");
		sim_sqlite_error(
		    ctx, err.number, err.class, err.state, "%s", err.msg);
		return;
	}
	if ((rc = typnum_arith(&a, &b, op, p, s, &r)) == -2)
		sim_sqlite_error(
		    ctx, 8134, 16, 1, "Divide by zero error encountered.");
	else if (rc == -1)
		sim_sqlite_error(ctx, 8115, 16, 2,
		    "Arithmetic overflow error converting expression to data "
		    "type numeric.");
	else
		sqlite3_result_text(ctx, buf,
		    (int)typnum_format(&r, buf, sizeof(buf)), SQLITE_TRANSIENT);
}

/* Register the collations and functions on a connection. */
int
simtypes_register(sqlite3 *db)
{
	static int try_flag = 1;
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

	if (sqlite3_create_collation(db, "SIMCI", SQLITE_UTF8, NULL,
		typstr_collate_ci) != SQLITE_OK ||
	    sqlite3_create_collation(db, "SIMDEC", SQLITE_UTF8, NULL,
		typstr_collate_dec) != SQLITE_OK ||
	    sqlite3_create_collation(db, "SIMGUID", SQLITE_UTF8, NULL,
		typstr_collate_guid) != SQLITE_OK ||
	    sqlite3_create_collation(db, "SIMDTO", SQLITE_UTF8, NULL,
		typstr_collate_dto) != SQLITE_OK)
		return (-1);
	if (sqlite3_create_function(db, "sim_cast", -1, flags, NULL,
		typstr_fn_cast, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "sim_try_cast", -1, flags, &try_flag,
		typstr_fn_cast, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "sim_assign", 5, flags, NULL,
		typstr_fn_assign, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "sim_compare", 3, flags, NULL,
		typstr_fn_compare, NULL, NULL) != SQLITE_OK)
		return (-1);
	if (sqlite3_create_function(db, "sim_decimal_add", 4, flags,
		(void *)"+", typstr_fn_decimal, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "sim_decimal_sub", 4, flags,
		(void *)"-", typstr_fn_decimal, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "sim_decimal_mul", 4, flags,
		(void *)"*", typstr_fn_decimal, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "sim_decimal_div", 4, flags,
		(void *)"/", typstr_fn_decimal, NULL, NULL) != SQLITE_OK)
		return (-1);
	return (0);
}
