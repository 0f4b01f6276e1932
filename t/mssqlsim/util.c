/*
 * Small helpers shared by the wire and the engine of mssqlsim: growable
 * byte buffers with little- and big-endian writers (TDS mixes both),
 * UTF-8 <-> UCS-2LE with surrogate pairs (TDS strings are UTF-16LE,
 * SQLite's are UTF-8), owned values, and the error conventions of sim.h.
 *
 * Allocation failure aborts: mssqlsim is a test fixture, and a fixture
 * that limps on after ENOMEM would only produce confusing test failures.
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* malloc or abort. */
void *
util_xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL) {
		fprintf(stderr, "mssqlsim: out of memory (%zu bytes)\n", n);
		abort();
	}
	return (p);
}

/* realloc or abort. */
void *
util_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL) {
		fprintf(stderr, "mssqlsim: out of memory (%zu bytes)\n", n);
		abort();
	}
	return (p);
}

/* strdup or abort. */
char *
util_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return (memcpy(util_xmalloc(n), s, n));
}

/* Start an empty buffer. */
void
sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

/* Release a buffer's memory. */
void
sbuf_free(struct sbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Empty a buffer, keeping its memory. */
void
sbuf_reset(struct sbuf *b)
{
	b->len = 0;
}

/* Make room for n more bytes. */
void
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t cap;

	if (b->len + n <= b->cap)
		return;
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap < b->len + n)
		cap *= 2;
	b->data = util_xrealloc(b->data, cap);
	b->cap = cap;
}

/* Append bytes. */
void
sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	sbuf_reserve(b, n);
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Append one byte. */
void
sbuf_u8(struct sbuf *b, uint8_t v)
{
	sbuf_reserve(b, 1);
	b->data[b->len++] = v;
}

/* Append a 16-bit little-endian integer. */
void
sbuf_u16le(struct sbuf *b, uint16_t v)
{
	unsigned char p[2] = { v & 0xff, v >> 8 };

	sbuf_add(b, p, 2);
}

/* Append a 16-bit big-endian integer. */
void
sbuf_u16be(struct sbuf *b, uint16_t v)
{
	unsigned char p[2] = { v >> 8, v & 0xff };

	sbuf_add(b, p, 2);
}

/* Append a 32-bit little-endian integer. */
void
sbuf_u32le(struct sbuf *b, uint32_t v)
{
	unsigned char p[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
		v >> 24 };

	sbuf_add(b, p, 4);
}

/* Append a 32-bit big-endian integer. */
void
sbuf_u32be(struct sbuf *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
		v & 0xff };

	sbuf_add(b, p, 4);
}

/* Append a 64-bit little-endian integer. */
void
sbuf_u64le(struct sbuf *b, uint64_t v)
{
	sbuf_u32le(b, (uint32_t)v);
	sbuf_u32le(b, (uint32_t)(v >> 32));
}

/* Decode one UTF-8 code point; invalid bytes decode as U+FFFD. */
uint32_t
util_utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	int n, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return (p[0]);
	}
	if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		n = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		n = 3;
	} else {
		*pp = p + 1;
		return (0xfffd);
	}
	if (end - p <= n) {
		*pp = end;
		return (0xfffd);
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*pp = p + i;
			return (0xfffd);
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	*pp = p + n + 1;
	return (cp);
}

/* Append UTF-8 text as UCS-2LE (UTF-16LE); returns the bytes added. */
size_t
sbuf_ucs2(struct sbuf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t start = b->len;
	uint32_t cp;

	sbuf_reserve(b, len * 2);
	while (p < end) {
		cp = util_utf8_next(&p, end);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			sbuf_u16le(b, 0xd800 | (cp >> 10));
			sbuf_u16le(b, 0xdc00 | (cp & 0x3ff));
		} else
			sbuf_u16le(b, cp);
	}
	return (b->len - start);
}

/* Number of UTF-16 code units UTF-8 text needs. */
size_t
util_utf8_to_ucs2_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n = 0;

	while (p < end)
		n += util_utf8_next(&p, end) >= 0x10000 ? 2 : 1;
	return (n);
}

/* Append a B_VARCHAR: length in characters (one byte), then UCS-2. */
void
sbuf_bvarchar(struct sbuf *b, const char *s)
{
	size_t n = util_utf8_to_ucs2_len(s, strlen(s));

	sbuf_u8(b, n > 255 ? 255 : n);
	sbuf_ucs2(b, s, strlen(s));
}

/* Append a US_VARCHAR: length in characters (two bytes), then UCS-2. */
void
sbuf_usvarchar(struct sbuf *b, const char *s)
{
	size_t n = util_utf8_to_ucs2_len(s, strlen(s));

	sbuf_u16le(b, n > 65535 ? 65535 : n);
	sbuf_ucs2(b, s, strlen(s));
}

/* Append one code point as UTF-8. */
static void
util_put_utf8(struct sbuf *b, uint32_t cp)
{
	if (cp < 0x80)
		sbuf_u8(b, cp);
	else if (cp < 0x800) {
		sbuf_u8(b, 0xc0 | (cp >> 6));
		sbuf_u8(b, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		sbuf_u8(b, 0xe0 | (cp >> 12));
		sbuf_u8(b, 0x80 | ((cp >> 6) & 0x3f));
		sbuf_u8(b, 0x80 | (cp & 0x3f));
	} else {
		sbuf_u8(b, 0xf0 | (cp >> 18));
		sbuf_u8(b, 0x80 | ((cp >> 12) & 0x3f));
		sbuf_u8(b, 0x80 | ((cp >> 6) & 0x3f));
		sbuf_u8(b, 0x80 | (cp & 0x3f));
	}
}

/*
 * Convert UCS-2LE bytes to a NUL-terminated malloc'd UTF-8 string.
 * Surrogate pairs join; a lone surrogate becomes U+FFFD.  Returns -1 if
 * the byte count is odd.
 */
int
util_ucs2_to_utf8(
    const unsigned char *p, size_t len, char **out, size_t *outlen)
{
	struct sbuf b;
	size_t i;
	uint32_t cu, lo;

	if (len % 2 != 0)
		return (-1);
	sbuf_init(&b);
	sbuf_reserve(&b, len + 1);
	for (i = 0; i < len; i += 2) {
		cu = p[i] | (p[i + 1] << 8);
		if (cu >= 0xd800 && cu <= 0xdbff && i + 3 < len) {
			lo = p[i + 2] | (p[i + 3] << 8);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cu = 0x10000 + ((cu - 0xd800) << 10) +
				    (lo - 0xdc00);
				i += 2;
			} else
				cu = 0xfffd;
		} else if (cu >= 0xd800 && cu <= 0xdfff)
			cu = 0xfffd;
		util_put_utf8(&b, cu);
	}
	if (outlen != NULL)
		*outlen = b.len;
	sbuf_u8(&b, 0);
	*out = (char *)b.data;
	return (0);
}

/* Read little- and big-endian integers. */
uint16_t
util_get_u16le(const unsigned char *p)
{
	return (p[0] | (p[1] << 8));
}

uint32_t
util_get_u32le(const unsigned char *p)
{
	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

uint64_t
util_get_u64le(const unsigned char *p)
{
	return ((uint64_t)util_get_u32le(p) |
	    ((uint64_t)util_get_u32le(p + 4) << 32));
}

uint16_t
util_get_u16be(const unsigned char *p)
{
	return ((p[0] << 8) | p[1]);
}

/* Fill a struct sim_error. */
void
sim_error_set(
    struct sim_error *e, int number, int class, int state, const char *fmt, ...)
{
	va_list ap;

	e->number = number;
	e->class = class;
	e->state = state;
	e->line = 1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/*
 * Parse "SIMERR <number> <class> <state> <message>" (an error raised
 * inside SQLite by one of our functions).  Returns 0 and fills e when
 * the text has that form, -1 otherwise.
 */
int
sim_error_from_sqlite(const char *text, struct sim_error *e)
{
	int number, class, state, off = 0;

	if (text == NULL || strncmp(text, "SIMERR ", 7) != 0)
		return (-1);
	if (sscanf(text + 7, "%d %d %d %n", &number, &class, &state, &off) !=
		3 ||
	    off == 0)
		return (-1);
	sim_error_set(e, number, class, state, "%s", text + 7 + off);
	return (0);
}

/* Raise a SQL Server error from inside an SQLite function. */
void
sim_sqlite_error(sqlite3_context *ctx, int number, int class, int state,
    const char *fmt, ...)
{
	char msg[1024], full[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "SIMERR %d %d %d %s", number, class, state,
	    msg);
	sqlite3_result_error(ctx, full, -1);
}

/* Release an owned value. */
void
simval_free(struct simval *v)
{
	free(v->p);
	memset(v, 0, sizeof(*v));
	v->kind = SQLITE_NULL;
}

/* Copy an SQLite value into an owned value. */
void
simval_from_sqlite(struct simval *v, sqlite3_value *sv)
{
	const void *p;

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
	case SQLITE_BLOB:
		p = v->kind == SQLITE_TEXT
		    ? (const void *)sqlite3_value_text(sv)
		    : sqlite3_value_blob(sv);
		v->len = sqlite3_value_bytes(sv);
		v->p = util_xmalloc(v->len + 1);
		if (v->len != 0)
			memcpy(v->p, p, v->len);
		v->p[v->len] = '\0';
		break;
	default:
		v->kind = SQLITE_NULL;
		break;
	}
}

/* Bind an owned value (NULL for SQL NULL) to parameter i of a statement. */
void
simval_bind(sqlite3_stmt *st, int i, const struct simval *v)
{
	switch (v == NULL ? SQLITE_NULL : v->kind) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case SQLITE_FLOAT:
		sqlite3_bind_double(st, i, v->f);
		break;
	case SQLITE_TEXT:
		sqlite3_bind_text(st, i, (char *)v->p, v->len, SQLITE_STATIC);
		break;
	case SQLITE_BLOB:
		sqlite3_bind_blob(st, i, v->p, v->len, SQLITE_STATIC);
		break;
	default:
		sqlite3_bind_null(st, i);
		break;
	}
}
