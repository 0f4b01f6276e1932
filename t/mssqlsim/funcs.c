/*
 * funcs.c: the SQL functions the compiled SQLite SQL calls: arithmetic
 * with SQL Server's errors (sim_div raises 8134), date and time
 * functions over the canonical text forms of sim.h, and the metadata
 * functions (OBJECT_ID, COLUMNPROPERTY, SERVERPROPERTY, permissions...)
 * that answer from the catalog of the session's database.
 *
 * They are registered per connection with the session as user data, so
 * that a function knows the current database, user and login.  Metadata
 * functions run their own queries on the same connection (reads only),
 * which SQLite allows from inside a function.
 */

#include <sys/types.h>
#include <sys/time.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine.h"

/* A broken-down date/time with 100 ns units. */
struct dt {
	int y, mo, d, h, mi, s;
	long frac; /* 100 ns units */
	int off; /* minutes */
	int hasdate, hastime, hasoff, fdigits;
};

/* The session of a function call. */
static struct sim_session *
fn_session(sqlite3_context *ctx)
{
	return (sqlite3_user_data(ctx));
}

/* One integer from a query with one bound text and/or int. */
static int
fn_query(sqlite3 *db, const char *sql, const char *t, int64_t i,
    sqlite3_context *ctx, int asint)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_result_null(ctx);
		return (0);
	}
	if (t != NULL)
		sqlite3_bind_text(st, 1, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 1, i);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		if (asint)
			sqlite3_result_int64(ctx, sqlite3_column_int64(st, 0));
		else
			sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
		found = 1;
	} else
		sqlite3_result_null(ctx);
	sqlite3_finalize(st);
	return (found);
}

/* Numeric value of an argument: 1 integer, 2 float, 0 NULL. */
static int
fn_num(sqlite3_value *v, int64_t *i, double *f)
{
	int t = sqlite3_value_numeric_type(v);

	if (t == SQLITE_NULL)
		return (0);
	*i = sqlite3_value_int64(v);
	*f = sqlite3_value_double(v);
	return (t == SQLITE_INTEGER ? 1 : 2);
}

/* a / b and a % b with 8134 on zero. */
static void
fn_divmod(sqlite3_context *ctx, sqlite3_value **argv, int mod)
{
	int64_t ia = 0, ib = 0;
	double fa = 0, fb = 0;
	int ta, tb;

	ta = fn_num(argv[0], &ia, &fa);
	tb = fn_num(argv[1], &ib, &fb);
	if (ta == 0 || tb == 0) {
		sqlite3_result_null(ctx);
		return;
	}
	if ((tb == 1 && ib == 0) || (tb == 2 && fb == 0)) {
		sim_sqlite_error(
		    ctx, 8134, 16, 1, "Divide by zero error encountered.");
		return;
	}
	if (ta == 1 && tb == 1) {
		if (ib == -1)
			sqlite3_result_int64(ctx, mod ? 0 : -ia);
		else
			sqlite3_result_int64(ctx, mod ? ia % ib : ia / ib);
	} else
		sqlite3_result_double(ctx, mod ? fmod(fa, fb) : fa / fb);
}

static void
fn_div(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	fn_divmod(ctx, argv, 0);
}

static void
fn_mod(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	fn_divmod(ctx, argv, 1);
}

static void
fn_xor(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[1]) == SQLITE_NULL)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx,
		    sqlite3_value_int64(argv[0]) ^
			sqlite3_value_int64(argv[1]));
}

/* FLOOR/CEILING and ROUND on integers. */
static void
fn_floorceil(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t i;
	double f;
	int t = fn_num(argv[0], &i, &f);

	(void)argc;
	if (t == 0)
		sqlite3_result_null(ctx);
	else if (t == 1)
		sqlite3_result_int64(ctx, i);
	else
		sqlite3_result_double(
		    ctx, sqlite3_user_data(ctx) != NULL ? ceil(f) : floor(f));
}

static void
fn_round_int(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t v = sqlite3_value_int64(argv[0]), m = 1;
	int n = sqlite3_value_int(argv[1]);

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	while (n++ < 0 && m < 1000000000000000000LL)
		m *= 10;
	if (m > 1)
		v = (v >= 0 ? (v + m / 2) / m : (v - m / 2) / m) * m;
	sqlite3_result_int64(ctx, v);
}

/* Parse canonical date/time text. */
static int
dt_parse(const char *s, struct dt *d)
{
	const char *p = s;
	int n, sign, oh, om;

	memset(d, 0, sizeof(*d));
	d->y = 1900;
	d->mo = d->d = 1;
	if (s == NULL)
		return (-1);
	while (isspace((unsigned char)*p))
		p++;
	if (sscanf(p, "%4d-%2d-%2d%n", &d->y, &d->mo, &d->d, &n) == 3) {
		d->hasdate = 1;
		p += n;
		while (*p == ' ' || *p == 'T')
			p++;
	}
	if (sscanf(p, "%2d:%2d%n", &d->h, &d->mi, &n) == 2) {
		d->hastime = 1;
		p += n;
		if (*p == ':' && sscanf(p + 1, "%2d%n", &d->s, &n) == 1)
			p += n + 1;
		if (*p == '.') {
			for (p++, n = 0; isdigit((unsigned char)*p); p++, n++)
				if (n < 7)
					d->frac = d->frac * 10 + (*p - '0');
			d->fdigits = n;
			for (; n < 7; n++)
				d->frac *= 10;
		}
		while (*p == ' ')
			p++;
	}
	if ((*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d:%2d", &oh, &om) == 2) {
		sign = *p == '-' ? -1 : 1;
		d->off = sign * (oh * 60 + om);
		d->hasoff = 1;
	}
	return (d->hasdate || d->hastime ? 0 : -1);
}

/* Days since 0001-01-01 (proleptic Gregorian). */
static int64_t
dt_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468 + 719162);
}

/* The inverse of dt_days. */
static void
dt_civil(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days - 719162 + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 100 ns ticks since 0001-01-01 (local time of the value). */
static int64_t
dt_ticks(const struct dt *d)
{
	return (((dt_days(d->y, d->mo, d->d) * 24 + d->h) * 60 + d->mi) *
		600000000LL +
	    d->s * 10000000LL + d->frac);
}

/* Set d from ticks. */
static void
dt_from_ticks(struct dt *d, int64_t t)
{
	int64_t days = t / 864000000000LL, rest = t % 864000000000LL;

	dt_civil(days, &d->y, &d->mo, &d->d);
	d->h = (int)(rest / 36000000000LL);
	rest %= 36000000000LL;
	d->mi = (int)(rest / 600000000LL);
	rest %= 600000000LL;
	d->s = (int)(rest / 10000000LL);
	d->frac = (long)(rest % 10000000LL);
}

/* Format like the input (date only, time only, fraction, offset). */
static void
dt_format(const struct dt *d, char *buf, size_t len)
{
	char frac[16] = "";
	int n = d->fdigits > 7 ? 7 : d->fdigits;

	if (n > 0)
		snprintf(frac, sizeof(frac), ".%07ld", d->frac);
	if (n > 0)
		frac[n + 1] = '\0';
	if (d->hasdate && !d->hastime)
		snprintf(buf, len, "%04d-%02d-%02d", d->y, d->mo, d->d);
	else if (!d->hasdate)
		snprintf(buf, len, "%02d:%02d:%02d%s", d->h, d->mi, d->s, frac);
	else
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d%s", d->y,
		    d->mo, d->d, d->h, d->mi, d->s, frac);
	if (d->hasoff)
		snprintf(buf + strlen(buf), len - strlen(buf), " %c%02d:%02d",
		    d->off < 0 ? '-' : '+', abs(d->off) / 60, abs(d->off) % 60);
}

/* Normalize a datepart name. */
static char
dt_part(const char *p)
{
	static const struct {
		const char *n;
		char c;
	} parts[] = { { "year", 'y' }, { "yy", 'y' }, { "yyyy", 'y' },
		{ "quarter", 'q' }, { "qq", 'q' }, { "q", 'q' },
		{ "month", 'm' }, { "mm", 'm' }, { "m", 'm' },
		{ "dayofyear", 'j' }, { "dy", 'j' }, { "y", 'j' },
		{ "day", 'd' }, { "dd", 'd' }, { "d", 'd' }, { "week", 'w' },
		{ "wk", 'w' }, { "ww", 'w' }, { "weekday", 'W' }, { "dw", 'W' },
		{ "hour", 'h' }, { "hh", 'h' }, { "minute", 'n' },
		{ "mi", 'n' }, { "n", 'n' }, { "second", 's' }, { "ss", 's' },
		{ "s", 's' }, { "millisecond", 'l' }, { "ms", 'l' },
		{ "microsecond", 'u' }, { "mcs", 'u' }, { "nanosecond", 'N' },
		{ "ns", 'N' }, { "tzoffset", 'z' }, { "tz", 'z' },
		{ NULL, 0 } };
	int i;

	for (i = 0; p != NULL && parts[i].n != NULL; i++)
		if (strcasecmp(parts[i].n, p) == 0)
			return (parts[i].c);
	return (0);
}

/* Error 9810-style for a bad datepart. */
static void
fn_bad_part(sqlite3_context *ctx, const char *part)
{
	sim_sqlite_error(ctx, 155, 15, 1,
	    "'%s' is not a recognized datepart "
	    "option.",
	    part ? part : "");
}

/* Add n months to d, clamping the day. */
static void
dt_add_months(struct dt *d, int64_t n)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int64_t m = (int64_t)d->y * 12 + (d->mo - 1) + n;
	int md;

	d->y = (int)(m / 12);
	d->mo = (int)(m % 12) + 1;
	md = mdays[d->mo - 1] +
	    (d->mo == 2 &&
		((d->y % 4 == 0 && d->y % 100 != 0) || d->y % 400 == 0));
	if (d->d > md)
		d->d = md;
}

/* sim_dateadd(part, n, value) */
static void
fn_dateadd(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *part = (const char *)sqlite3_value_text(argv[0]);
	int64_t n = sqlite3_value_int64(argv[1]), t;
	static const int64_t unit[128] = { ['d'] = 864000000000LL,
		['j'] = 864000000000LL,
		['W'] = 864000000000LL,
		['w'] = 6048000000000LL,
		['h'] = 36000000000LL,
		['n'] = 600000000LL,
		['s'] = 10000000LL,
		['l'] = 10000LL,
		['u'] = 10LL };
	struct dt d;
	char buf[64], c = dt_part(part);

	(void)argc;
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[2]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (c == 0 || c == 'z') {
		fn_bad_part(ctx, part);
		return;
	}
	dt_parse((const char *)sqlite3_value_text(argv[2]), &d);
	if (c == 'y' || c == 'q' || c == 'm')
		dt_add_months(&d, c == 'y' ? n * 12 : c == 'q' ? n * 3 : n);
	else if (c == 'N')
		dt_from_ticks(&d, dt_ticks(&d) + n / 100);
	else {
		t = dt_ticks(&d) + n * unit[(int)c];
		dt_from_ticks(&d, t);
		if (unit[(int)c] < 864000000000LL && !d.hastime)
			d.hastime = 1;
	}
	dt_format(&d, buf, sizeof(buf));
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* Boundaries of one datepart crossed between a and b. */
static int64_t
dt_diff(char c, struct dt *a, struct dt *b)
{
	int64_t ta = dt_ticks(a) - (int64_t)a->off * 600000000LL;
	int64_t tb = dt_ticks(b) - (int64_t)b->off * 600000000LL;
	int64_t da = ta / 864000000000LL, db = tb / 864000000000LL;

	switch (c) {
	case 'y':
		return (b->y - a->y);
	case 'q':
		return ((b->y * 4 + (b->mo - 1) / 3) -
		    (a->y * 4 + (a->mo - 1) / 3));
	case 'm':
		return ((b->y * 12 + b->mo) - (a->y * 12 + a->mo));
	case 'w':
		return ((db + 1) / 7 - (da + 1) / 7);
	case 'd':
	case 'j':
	case 'W':
		return (db - da);
	case 'h':
		return (tb / 36000000000LL - ta / 36000000000LL);
	case 'n':
		return (tb / 600000000LL - ta / 600000000LL);
	case 's':
		return (tb / 10000000LL - ta / 10000000LL);
	case 'l':
		return (tb / 10000LL - ta / 10000LL);
	case 'u':
		return (tb / 10LL - ta / 10LL);
	default:
		return ((tb - ta) * 100);
	}
}

/* sim_datediff(part, a, b) */
static void
fn_datediff(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *part = (const char *)sqlite3_value_text(argv[0]);
	struct dt a, b;
	char c = dt_part(part);

	(void)argc;
	if (c == 0 || c == 'z') {
		fn_bad_part(ctx, part);
		return;
	}
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[2]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	dt_parse((const char *)sqlite3_value_text(argv[1]), &a);
	dt_parse((const char *)sqlite3_value_text(argv[2]), &b);
	sqlite3_result_int64(ctx, dt_diff(c, &a, &b));
}

/* sim_datepart(part, value) */
static void
fn_datepart(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *part = (const char *)sqlite3_value_text(argv[0]);
	struct dt d;
	int64_t v, days;
	char c = dt_part(part);

	(void)argc;
	if (c == 0) {
		fn_bad_part(ctx, part);
		return;
	}
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	dt_parse((const char *)sqlite3_value_text(argv[1]), &d);
	days = dt_days(d.y, d.mo, d.d);
	switch (c) {
	case 'y':
		v = d.y;
		break;
	case 'q':
		v = (d.mo - 1) / 3 + 1;
		break;
	case 'm':
		v = d.mo;
		break;
	case 'd':
		v = d.d;
		break;
	case 'j':
		v = days - dt_days(d.y, 1, 1) + 1;
		break;
	case 'W':
		v = (days + 1) % 7 + 1;
		break;
	case 'w':
		v = (days + 1) / 7 - (dt_days(d.y, 1, 1) + 1) / 7 + 1;
		break;
	case 'h':
		v = d.h;
		break;
	case 'n':
		v = d.mi;
		break;
	case 's':
		v = d.s;
		break;
	case 'l':
		v = d.frac / 10000;
		break;
	case 'u':
		v = d.frac / 10;
		break;
	case 'N':
		v = d.frac * 100;
		break;
	default:
		v = d.off;
		break;
	}
	sqlite3_result_int64(ctx, v);
}

/* sim_now(kind): 0 local, 1 UTC, 2 local with offset. */
static void
fn_now(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct timeval tv;
	struct tm tm;
	char buf[64];
	long off;
	int kind = sqlite3_value_int(argv[0]);

	(void)argc;
	clock_now(&tv);
	if (kind == 1)
		gmtime_r(&tv.tv_sec, &tm);
	else
		localtime_r(&tv.tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06ld0",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)tv.tv_usec);
	if (kind == 2) {
		off = tm.tm_gmtoff / 60;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    " %c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 60,
		    labs(off) % 60);
	}
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* sim_seq(): an increasing number (keeps row order through a sort). */
static void
fn_seq(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static int64_t seq;

	(void)argc;
	(void)argv;
	sqlite3_result_int64(
	    ctx, __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

/* Match a [...] set at *pp against c (case-insensitive). */
static int
like_set(const unsigned char **pp, int c)
{
	const unsigned char *p = *pp + 1;
	int neg = 0, match = 0, lo;

	if (*p == '^') {
		neg = 1;
		p++;
	}
	while (*p != '\0' && *p != ']') {
		lo = tolower(*p);
		if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
			if (c >= lo && c <= tolower(p[2]))
				match = 1;
			p += 3;
		} else {
			if (c == lo)
				match = 1;
			p++;
		}
	}
	*pp = *p == ']' ? p + 1 : p;
	return (match != neg);
}

/* SQL Server LIKE: % _ [set] [^set], case-insensitive, escape char. */
static int
like_match(const unsigned char *s, const unsigned char *p, int esc)
{
	int c;

	while (*p != '\0') {
		if (esc != 0 && *p == esc && p[1] != '\0') {
			if (tolower(*s) != tolower(p[1]))
				return (0);
			s++;
			p += 2;
		} else if (*p == '%') {
			while (*p == '%')
				p++;
			if (*p == '\0')
				return (1);
			for (; *s != '\0'; s++)
				if (like_match(s, p, esc))
					return (1);
			return (like_match(s, p, esc));
		} else if (*s == '\0')
			return (0);
		else if (*p == '_') {
			s++;
			p++;
		} else if (*p == '[' && strchr((const char *)p, ']') != NULL) {
			c = tolower(*s++);
			if (!like_set(&p, c))
				return (0);
		} else {
			if (tolower(*s) != tolower(*p))
				return (0);
			s++;
			p++;
		}
	}
	while (*s == ' ') /* trailing blanks of the value are ignored */
		s++;
	return (*s == '\0');
}

/* sim_like(value, pattern [, escape]) */
static void
fn_like(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *v = sqlite3_value_text(argv[0]);
	const unsigned char *p = sqlite3_value_text(argv[1]);
	const unsigned char *e = argc > 2 ? sqlite3_value_text(argv[2]) : NULL;

	if (v == NULL || p == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int(ctx, like_match(v, p, e != NULL ? e[0] : 0));
}

/* sim_newid(): a random uniqueidentifier. */
static void
fn_newid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	unsigned char b[16];
	char buf[40];

	(void)argc;
	(void)argv;
	sqlite3_randomness(sizeof(b), b);
	b[7] = (b[7] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, sizeof(buf),
	    "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
	    "%02X%02X%02X%02X%02X%02X",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* sim_dbts(): @@DBTS as binary(8). */
static void
fn_dbts(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	int64_t v = catalog_meta_get(db, "main", "dbts", 2000);
	unsigned char b[8];
	int i;

	(void)argc;
	(void)argv;
	for (i = 0; i < 8; i++)
		b[i] = (v >> (8 * (7 - i))) & 0xff;
	sqlite3_result_blob(ctx, b, 8, SQLITE_TRANSIENT);
}

/* sim_rowcount(object_id): live rows of a table. */
static void
fn_rowcount(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	sqlite3_stmt *st;
	char *sql = NULL;

	(void)argc;
	if (sqlite3_prepare_v2(db,
		"SELECT s.name, o.name FROM "
		"main.sim_objects o JOIN main.sim_schemas s USING (schema_id) "
		"WHERE o.object_id = ? AND o.type = 'U'",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, sqlite3_value_int64(argv[0]));
	if (sqlite3_step(st) == SQLITE_ROW)
		sql = sqlite3_mprintf("SELECT count(*) FROM \"%w.%w\"",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (sql == NULL) {
		sqlite3_result_int64(ctx, 0);
		return;
	}
	fn_query(db, sql, NULL, 0, ctx, 1);
	sqlite3_free(sql);
}

/* Split "[db].[schema].name" into parts; returns the count. */
static int
fn_split_name(const char *s, char parts[3][129])
{
	int n = 0;
	size_t k;
	char close;

	memset(parts, 0, 3 * 129);
	while (s != NULL && *s != '\0' && n < 3) {
		k = 0;
		if (*s == '[' || *s == '"') {
			close = *s == '[' ? ']' : '"';
			for (s++; *s != '\0' && *s != close; s++)
				if (k < 128)
					parts[n][k++] = *s;
			if (*s == close)
				s++;
		} else
			for (; *s != '\0' && *s != '.'; s++)
				if (k < 128)
					parts[n][k++] = *s;
		n++;
		if (*s == '.')
			s++;
		else
			break;
	}
	return (n);
}

/* sim_object_id(name [, type]) */
static void
fn_object_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	const char *name = (const char *)sqlite3_value_text(argv[0]);
	const char *type =
	    argc > 1 ? (const char *)sqlite3_value_text(argv[1]) : NULL;
	char parts[3][129], *sql;
	int n = fn_split_name(name, parts);

	if (name != NULL && parts[n - 1][0] == '#') {
		sql = sqlite3_mprintf("SELECT object_id FROM temp.sim_objects "
				      "WHERE name = %Q AND (%Q IS NULL OR "
				      "rtrim(type) = rtrim(%Q))",
		    parts[n - 1], type, type);
		fn_query(s->db, sql, NULL, 0, ctx, 1);
		sqlite3_free(sql);
		return;
	}
	if (name == NULL ||
	    (n == 3 && parts[0][0] && strcasecmp(parts[0], s->dbname) != 0)) {
		sqlite3_result_null(ctx);
		return;
	}
	sql = sqlite3_mprintf(
	    "SELECT o.object_id FROM main.sim_objects o JOIN "
	    "main.sim_schemas s USING (schema_id) WHERE o.name = %Q AND "
	    "s.name = %Q AND (%Q IS NULL OR rtrim(o.type) = rtrim(%Q))",
	    parts[n - 1], n > 1 && parts[n - 2][0] ? parts[n - 2] : "dbo", type,
	    type);
	fn_query(s->db, sql, NULL, 0, ctx, 1);
	sqlite3_free(sql);
}

/* sim_object_name(id) / sim_object_schema_name(id) */
static void
fn_object_name(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	fn_query(sqlite3_context_db_handle(ctx),
	    sqlite3_user_data(ctx)
		? "SELECT s.name FROM main.sim_objects o JOIN main.sim_schemas "
		  "s "
		  "USING (schema_id) WHERE o.object_id = ?"
		: "SELECT name FROM main.sim_objects WHERE object_id = ?",
	    NULL, sqlite3_value_int64(argv[0]), ctx, 0);
}

/* sim_schema_name([id]) / sim_schema_id([name]) */
static void
fn_schema(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	int byname = sqlite3_user_data(ctx) != NULL;

	if (argc == 0) {
		if (byname)
			sqlite3_result_int(ctx, 1);
		else
			sqlite3_result_text(ctx, "dbo", -1, SQLITE_STATIC);
		return;
	}
	if (byname)
		fn_query(db,
		    "SELECT schema_id FROM main.sim_schemas WHERE name "
		    "= ?",
		    (const char *)sqlite3_value_text(argv[0]), 0, ctx, 1);
	else
		fn_query(db,
		    "SELECT name FROM main.sim_schemas WHERE schema_id "
		    "= ?",
		    NULL, sqlite3_value_int64(argv[0]), ctx, 0);
}

/* sim_db_name([id]) */
static void
fn_db_name(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	char sql[200];

	if (argc == 0) {
		sqlite3_result_text(ctx, s->dbname, -1, SQLITE_TRANSIENT);
		return;
	}
	snprintf(sql, sizeof(sql),
	    "SELECT name FROM main.sim_databases WHERE "
	    "database_id = ?");
	fn_query(
	    engine_mdb(s), sql, NULL, sqlite3_value_int64(argv[0]), ctx, 0);
}

/* sim_db_id([name]) */
static void
fn_db_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	char sql[200];

	snprintf(sql, sizeof(sql),
	    "SELECT database_id FROM main.sim_databases "
	    "WHERE name = ?");
	fn_query(engine_mdb(s), sql,
	    argc ? (const char *)sqlite3_value_text(argv[0]) : s->dbname, 0,
	    ctx, 1);
}

/* sim_col_name(object_id, column_id) */
static void
fn_col_name(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3_stmt *st;

	(void)argc;
	if (sqlite3_prepare_v2(sqlite3_context_db_handle(ctx),
		"SELECT name "
		"FROM main.sim_columns WHERE object_id = ? AND column_id = ?",
		-1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_value(st, 1, argv[0]);
	sqlite3_bind_value(st, 2, argv[1]);
	if (sqlite3_step(st) == SQLITE_ROW)
		sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
	else
		sqlite3_result_null(ctx);
	sqlite3_finalize(st);
}

/* sim_columnproperty(object_id, column, property) */
static void
fn_columnproperty(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const char *props[][2] = { { "ColumnId", "column_id" },
		{ "AllowsNull", "is_nullable" },
		{ "IsIdentity", "is_identity" },
		{ "IsComputed", "is_computed" }, { "Precision", "precision" },
		{ "Scale", "scale" }, { "IsRowGuidCol", "0" },
		{ "IsIndexable", "1" }, { NULL, NULL } };
	const char *prop = (const char *)sqlite3_value_text(argv[2]);
	sqlite3_stmt *st;
	char *sql;
	int i;

	(void)argc;
	for (i = 0; prop != NULL && props[i][0] != NULL; i++)
		if (strcasecmp(props[i][0], prop) == 0)
			break;
	if (prop == NULL || props[i][0] == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sql = sqlite3_mprintf("SELECT %s FROM main.sim_columns WHERE object_id "
			      "= ? AND name = ?",
	    props[i][1]);
	if (sqlite3_prepare_v2(sqlite3_context_db_handle(ctx), sql, -1, &st,
		NULL) == SQLITE_OK) {
		sqlite3_bind_value(st, 1, argv[0]);
		sqlite3_bind_value(st, 2, argv[1]);
		if (sqlite3_step(st) == SQLITE_ROW)
			sqlite3_result_int64(ctx, sqlite3_column_int64(st, 0));
		else
			sqlite3_result_null(ctx);
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
}

/* sim_objectproperty(id, property) */
static void
fn_objectproperty(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *prop = (const char *)sqlite3_value_text(argv[1]);
	sqlite3 *db = sqlite3_context_db_handle(ctx);
	int64_t id = sqlite3_value_int64(argv[0]);

	(void)argc;
	if (prop == NULL)
		sqlite3_result_null(ctx);
	else if (strcasecmp(prop, "IsUserTable") == 0 ||
	    strcasecmp(prop, "IsTable") == 0)
		fn_query(db,
		    "SELECT type = 'U' FROM main.sim_objects WHERE "
		    "object_id = ?",
		    NULL, id, ctx, 1);
	else if (strcasecmp(prop, "TableHasPrimaryKey") == 0)
		fn_query(db,
		    "SELECT count(*) > 0 FROM main.sim_objects WHERE "
		    "parent_object_id = ? AND type = 'PK'",
		    NULL, id, ctx, 1);
	else if (strcasecmp(prop, "IsPrimaryKey") == 0)
		fn_query(db,
		    "SELECT type = 'PK' FROM main.sim_objects WHERE "
		    "object_id = ?",
		    NULL, id, ctx, 1);
	else if (strcasecmp(prop, "TableHasIdentity") == 0)
		fn_query(db,
		    "SELECT ident_seed IS NOT NULL FROM "
		    "main.sim_objects WHERE object_id = ?",
		    NULL, id, ctx, 1);
	else if (strcasecmp(prop, "IsMSShipped") == 0)
		fn_query(db,
		    "SELECT 0 FROM main.sim_objects WHERE object_id = "
		    "?",
		    NULL, id, ctx, 1);
	else
		sqlite3_result_null(ctx);
}

/* sim_serverproperty(name) */
static void
fn_serverproperty(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	const char *p = (const char *)sqlite3_value_text(argv[0]);
	static const char *str[][2] = { { "ProductVersion", "15.0.2000.5" },
		{ "ProductLevel", "RTM" },
		{ "Edition", "Developer Edition (64-bit)" },
		{ "Collation", "SQL_Latin1_General_CP1_CI_AS" },
		{ "ProductMajorVersion", "15" }, { "ProductMinorVersion", "0" },
		{ "ProductBuild", "2000" }, { "ProductUpdateLevel", NULL },
		{ "BuildClrVersion", "v4.0.30319" }, { NULL, NULL } };
	static const char *num[][2] = { { "EngineEdition", "3" },
		{ "IsClustered", "0" }, { "IsHadrEnabled", "0" },
		{ "IsIntegratedSecurityOnly", "0" }, { "IsSingleUser", "0" },
		{ "IsFullTextInstalled", "0" }, { "EditionID", "-2117995310" },
		{ "ProcessID", "1" }, { NULL, NULL } };
	int i;

	(void)argc;
	sqlite3_result_null(ctx);
	if (p == NULL)
		return;
	if (strcasecmp(p, "MachineName") == 0 ||
	    strcasecmp(p, "ServerName") == 0) {
		sqlite3_result_text(
		    ctx, s->srv->server_name, -1, SQLITE_TRANSIENT);
		return;
	}
	for (i = 0; str[i][0] != NULL; i++)
		if (strcasecmp(str[i][0], p) == 0 && str[i][1] != NULL)
			sqlite3_result_text(ctx, str[i][1], -1, SQLITE_STATIC);
	for (i = 0; num[i][0] != NULL; i++)
		if (strcasecmp(num[i][0], p) == 0)
			sqlite3_result_int64(ctx, atoll(num[i][1]));
}

/* sim_databasepropertyex(db, property) */
static void
fn_databasepropertyex(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	const char *db = (const char *)sqlite3_value_text(argv[0]);
	const char *p = (const char *)sqlite3_value_text(argv[1]);
	char sql[200];
	sqlite3_stmt *st;
	int exists = 0;

	(void)argc;
	sqlite3_result_null(ctx);
	snprintf(sql, sizeof(sql),
	    "SELECT 1 FROM main.sim_databases WHERE name "
	    "= ?");
	if (db == NULL || p == NULL ||
	    sqlite3_prepare_v2(engine_mdb(s), sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, db, -1, SQLITE_STATIC);
	exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!exists)
		return;
	if (strcasecmp(p, "Status") == 0)
		sqlite3_result_text(ctx, "ONLINE", -1, SQLITE_STATIC);
	else if (strcasecmp(p, "Updateability") == 0)
		sqlite3_result_text(ctx, "READ_WRITE", -1, SQLITE_STATIC);
	else if (strcasecmp(p, "UserAccess") == 0)
		sqlite3_result_text(ctx, "MULTI_USER", -1, SQLITE_STATIC);
	else if (strcasecmp(p, "Recovery") == 0)
		sqlite3_result_text(ctx, "SIMPLE", -1, SQLITE_STATIC);
	else if (strcasecmp(p, "Collation") == 0)
		sqlite3_result_text(
		    ctx, "SQL_Latin1_General_CP1_CI_AS", -1, SQLITE_STATIC);
	else if (strcasecmp(p, "Version") == 0)
		sqlite3_result_int(ctx, 904);
	else if (strcasecmp(p, "IsChangeTrackingEnabled") == 0)
		sqlite3_result_int(ctx, ct_db_is_enabled(s, db));
	else if (strcasecmp(p, "IsAutoClose") == 0 ||
	    strcasecmp(p, "IsAutoShrink") == 0)
		sqlite3_result_int(ctx, 0);
}

/* sim_has_perms_by_name(securable, class, permission [, sub, subclass]) */
static void
fn_has_perms(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	const char *sec = (const char *)sqlite3_value_text(argv[0]);
	const char *cls = (const char *)sqlite3_value_text(argv[1]);
	const char *perm = (const char *)sqlite3_value_text(argv[2]);
	char parts[3][129];
	struct table *t;
	int n;

	(void)argc;
	if (perm == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (s->sysadmin) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	if (cls == NULL || strcasecmp(cls, "SERVER") == 0) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	if (strcasecmp(cls, "DATABASE") == 0) {
		sqlite3_result_int(ctx,
		    strcasecmp(perm, "ANY") == 0 ||
			strcasecmp(perm, "CONNECT") == 0 ||
			catalog_has_perm(s, 0, -1, perm));
		return;
	}
	if (strcasecmp(cls, "SCHEMA") == 0) {
		n = catalog_schema_id(s, sec ? sec : "");
		sqlite3_result_int(
		    ctx, n >= 0 && catalog_has_perm(s, -1, n, perm));
		return;
	}
	if (strcasecmp(cls, "OBJECT") != 0) {
		sqlite3_result_null(ctx);
		return;
	}
	n = fn_split_name(sec, parts);
	t = catalog_table(s, n > 1 && parts[n - 2][0] ? parts[n - 2] : NULL,
	    parts[n - 1], NULL);
	if (t == NULL)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int(ctx,
		    strcasecmp(perm, "ANY") == 0
			? catalog_has_perm(
			      s, t->object_id, t->schema_id, "SELECT")
			: catalog_has_perm(
			      s, t->object_id, t->schema_id, perm));
	catalog_table_free(t);
}

/* sim_is_rolemember(role) / sim_is_srvrolemember(role) */
static void
fn_rolemember(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	const char *role = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	if (role == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (sqlite3_user_data(ctx) == NULL) { /* never: session needed */
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_int(ctx, catalog_is_member(s, role));
}

static void
fn_srvrolemember(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	const char *role = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	if (role == NULL)
		sqlite3_result_null(ctx);
	else if (strcasecmp(role, "public") == 0)
		sqlite3_result_int(ctx, 1);
	else
		sqlite3_result_int(ctx, s->sysadmin);
}

/* sim_ident_current('table') */
static void
fn_ident_current(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_session *s = fn_session(ctx);
	char parts[3][129], *sql;
	int n = fn_split_name((const char *)sqlite3_value_text(argv[0]), parts);

	(void)argc;
	sql = sqlite3_mprintf(
	    "SELECT CAST(ifnull(ident_last, ident_seed) AS "
	    "TEXT) FROM main.sim_objects o JOIN main.sim_schemas s USING "
	    "(schema_id) WHERE o.name = %Q AND s.name = %Q AND o.type = 'U'",
	    parts[n - 1], n > 1 && parts[n - 2][0] ? parts[n - 2] : "dbo");
	fn_query(s->db, sql, NULL, 0, ctx, 0);
	sqlite3_free(sql);
}

/* sim_type_name(id) / sim_type_id(name) */
static void
fn_type(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sim_type t;
	struct sim_error e;
	const char *name;

	(void)argc;
	if (sqlite3_user_data(ctx) != NULL) {
		name = (const char *)sqlite3_value_text(argv[0]);
		if (name != NULL && simtype_parse(name, NULL, 0, &t, &e) == 0)
			sqlite3_result_int(ctx, t.id);
		else
			sqlite3_result_null(ctx);
		return;
	}
	memset(&t, 0, sizeof(t));
	t.id = sqlite3_value_int(argv[0]);
	t.maxlen = 1;
	name = simtype_name(&t);
	if (name != NULL)
		sqlite3_result_text(ctx, name, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

/* sim_principal_name(id) */
static void
fn_principal_name(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	fn_query(sqlite3_context_db_handle(ctx),
	    "SELECT name FROM "
	    "main.sim_principals WHERE principal_id = ?",
	    NULL, sqlite3_value_int64(argv[0]), ctx, 0);
}

/* Register the engine's SQL functions on the session's connection. */
int
catalog_register_functions(struct sim_session *s)
{
	static const struct {
		const char *name;
		int nargs, det;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
		int flag; /* user data: 0 session, 1 non-NULL marker */
	} fns[] = { { "sim_div", 2, 1, fn_div, 0 },
		{ "sim_mod", 2, 1, fn_mod, 0 }, { "sim_xor", 2, 1, fn_xor, 0 },
		{ "sim_floor", 1, 1, fn_floorceil, 2 },
		{ "sim_ceiling", 1, 1, fn_floorceil, 1 },
		{ "sim_round_int", 2, 1, fn_round_int, 0 },
		{ "sim_dateadd", 3, 1, fn_dateadd, 0 },
		{ "sim_datediff", 3, 1, fn_datediff, 0 },
		{ "sim_datepart", 2, 1, fn_datepart, 0 },
		{ "sim_now", 1, 0, fn_now, 0 },
		{ "sim_newid", 0, 0, fn_newid, 0 },
		{ "sim_seq", 0, 0, fn_seq, 0 },
		{ "sim_like", -1, 1, fn_like, 0 },
		{ "sim_dbts", 0, 0, fn_dbts, 0 },
		{ "sim_rowcount", 1, 0, fn_rowcount, 0 },
		{ "sim_object_id", -1, 0, fn_object_id, 0 },
		{ "sim_object_name", -1, 0, fn_object_name, 2 },
		{ "sim_object_schema_name", -1, 0, fn_object_name, 1 },
		{ "sim_schema_name", -1, 0, fn_schema, 2 },
		{ "sim_schema_id", -1, 0, fn_schema, 1 },
		{ "sim_db_name", -1, 0, fn_db_name, 0 },
		{ "sim_db_id", -1, 0, fn_db_id, 0 },
		{ "sim_col_name", 2, 0, fn_col_name, 0 },
		{ "sim_columnproperty", 3, 0, fn_columnproperty, 0 },
		{ "sim_objectproperty", 2, 0, fn_objectproperty, 0 },
		{ "sim_serverproperty", 1, 0, fn_serverproperty, 0 },
		{ "sim_databasepropertyex", 2, 0, fn_databasepropertyex, 0 },
		{ "sim_has_perms_by_name", -1, 0, fn_has_perms, 0 },
		{ "sim_is_rolemember", -1, 0, fn_rolemember, 0 },
		{ "sim_is_srvrolemember", -1, 0, fn_srvrolemember, 0 },
		{ "sim_ident_current", 1, 0, fn_ident_current, 0 },
		{ "sim_type_name", 1, 1, fn_type, 2 },
		{ "sim_type_id", 1, 1, fn_type, 1 },
		{ "sim_principal_name", 1, 0, fn_principal_name, 0 },
		{ NULL, 0, 0, NULL, 0 } };
	static int marker;
	void *ud;
	int i;

	for (i = 0; fns[i].name != NULL; i++) {
		ud = fns[i].flag == 0  ? (void *)s
		    : fns[i].flag == 1 ? (void *)&marker
				       : NULL;
		if (sqlite3_create_function(s->db, fns[i].name, fns[i].nargs,
			SQLITE_UTF8 | (fns[i].det ? SQLITE_DETERMINISTIC : 0),
			ud, fns[i].fn, NULL, NULL) != SQLITE_OK)
			return (-1);
	}
	if (cdc_register_functions(s) == -1) /* CDC */
		return (-1);
	return (ct_register_functions(s)); /* Change Tracking */
}
