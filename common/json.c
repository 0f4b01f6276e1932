/*
 * The JSON-lines writer: one change event per line (DESIGN.md §4).
 *
 * Everything appends to a struct json_buf, which only grows; the
 * supervisor formats a batch of lines into one buffer and writes it
 * with one write(2), so that the committed file offset is a line
 * boundary.  Nothing here can fail: every value has a valid JSON
 * spelling, and the output is always valid JSON whatever the input.
 *
 *  - Strings are UTF-8 passed through.  '"' and '\' are escaped, the
 *    control characters U+0000..U+001F as \b \f \n \r \t or \u00XX.
 *    Bytes that are not well-formed UTF-8 (overlong forms, surrogates,
 *    code points over U+10FFFF, truncated sequences) become U+FFFD, one
 *    per maximal invalid subpart as Unicode recommends, so a consumer
 *    never rejects a line.
 *  - Binary is base64, standard alphabet with padding (RFC 4648 §4).
 *  - float (double) and real (float32) are the shortest decimal that
 *    reads back to the same value (0.1f is 0.1, not
 *    0.10000000149011612), laid out the way ECMAScript's
 *    Number.prototype.toString() does: positional from 1e-6 up to
 *    1e21 (123456789012345680, 1, 0.001), exponential outside
 *    (5e-324, 1.7976931348623157e+308).  -0 stays -0.  NaN and the
 *    infinities cannot come from SQL Server but would be invalid JSON,
 *    so they are written as null.  This assumes the "C" locale for
 *    printf and strtod, which the daemon never changes.
 *
 * json_write_event() lays out one event:
 *
 *	{"_meta":{"op":"u","seq":7,"source":{"db":"shop","schema":"dbo",
 *	 "table":"orders","snapshot":false,"version":42,"ts":"...",
 *	 "tag":"..."}},"id":1,"qty":3,"_before":{"id":1,"qty":2}}
 *
 * with "version" (the CT version) for ct tables, "lsn" and "seqval" as
 * lower-case hex for cdc tables and neither for batch tables; "tag"
 * only when one is configured.  Columns follow in schema order; a
 * column absent from the event (a CT delete knows only the key) is left
 * out rather than written as null, which would claim SQL NULL.  A CDC
 * update's before-image, when the worker sent one, is the object
 * "_before" after the columns.
 */

#include "config.h"

#include <sys/types.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void json_add_cstr(struct json_buf *, const char *);
static void json_add_char(struct json_buf *, char);
static void json_reserve(struct json_buf *, size_t);
static size_t json_utf8_seq(const uint8_t *, size_t, size_t *);
static void json_escape_char(struct json_buf *, uint8_t);
static int json_try_digits(char *, size_t, double, int, int);
static void json_shortest(char *, size_t, double, int);
static void json_layout(struct json_buf *, const char *);
static void json_write_position(
    struct json_buf *, const struct frame_schema *, const struct frame_event *);
static void json_write_meta(struct json_buf *, const struct frame_schema *,
    const struct frame_event *, uint64_t, const char *);
static void json_write_row(struct json_buf *, const struct frame_schema *,
    const struct frame_value *, int);

/* Start an empty buffer. */
void
json_buf_init(struct json_buf *b)
{
	memset(b, 0, sizeof(*b));
}

/* Free a buffer's storage. */
void
json_buf_free(struct json_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Empty a buffer, keeping its storage. */
void
json_buf_reset(struct json_buf *b)
{
	b->len = 0;
}

/* Make room for n more bytes. */
static void
json_reserve(struct json_buf *b, size_t n)
{
	size_t size;

	if (b->size - b->len >= n)
		return;
	size = b->size == 0 ? 256 : b->size;
	while (size - b->len < n) {
		if (size > SIZE_MAX / 2)
			fatalx("%s: buffer too large", __func__);
		size *= 2;
	}
	b->data = xrealloc(b->data, size);
	b->size = size;
}

/* Append raw bytes. */
void
json_add(struct json_buf *b, const void *p, size_t len)
{
	if (len == 0)
		return;
	json_reserve(b, len);
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

/* Append a C string, raw. */
static void
json_add_cstr(struct json_buf *b, const char *s)
{
	json_add(b, s, strlen(s));
}

/* Append one raw character. */
static void
json_add_char(struct json_buf *b, char c)
{
	json_reserve(b, 1);
	b->data[b->len++] = c;
}

/*
 * Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or
 * 0 with *skip set to the length of the maximal invalid subpart.
 */
static size_t
json_utf8_seq(const uint8_t *p, size_t len, size_t *skip)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (b < 0x80)
		return (1);
	if (b >= 0xc2 && b <= 0xdf)
		need = 1;
	else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		if (b == 0xe0)
			lo = 0xa0; /* overlong */
		else if (b == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		if (b == 0xf0)
			lo = 0x90; /* overlong */
		else if (b == 0xf4)
			hi = 0x8f; /* over U+10FFFF */
	} else {
		*skip = 1;
		return (0);
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || p[i] < lo || p[i] > hi) {
			*skip = i;
			return (0);
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return (need + 1);
}

/* Append the escape of '"', '\' or a control character. */
static void
json_escape_char(struct json_buf *b, uint8_t c)
{
	char tmp[8];

	switch (c) {
	case '"':
		json_add_cstr(b, "\\\"");
		break;
	case '\\':
		json_add_cstr(b, "\\\\");
		break;
	case '\b':
		json_add_cstr(b, "\\b");
		break;
	case '\f':
		json_add_cstr(b, "\\f");
		break;
	case '\n':
		json_add_cstr(b, "\\n");
		break;
	case '\r':
		json_add_cstr(b, "\\r");
		break;
	case '\t':
		json_add_cstr(b, "\\t");
		break;
	default:
		snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		json_add_cstr(b, tmp);
		break;
	}
}

/* Append a JSON string: quoted, escaped, always valid UTF-8. */
void
json_write_string(struct json_buf *b, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run = 0, n, skip = 1;

	if (len == 0) {
		json_add(b, "\"\"", 2);
		return;
	}
	json_reserve(b, len + 2);
	json_add_char(b, '"');
	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' &&
		    p[i] != '\\') {
			i++;
			continue;
		}
		if (p[i] >= 0x80 &&
		    (n = json_utf8_seq(p + i, len - i, &skip)) != 0) {
			i += n;
			continue;
		}
		json_add(b, p + run, i - run); /* the clean run before */
		if (p[i] < 0x80) {
			json_escape_char(b, p[i]);
			i++;
		} else {
			json_add_cstr(b, "\xef\xbf\xbd"); /* U+FFFD */
			i += skip;
		}
		run = i;
	}
	json_add(b, p + run, i - run);
	json_add_char(b, '"');
}

/* Append binary as a quoted base64 string (RFC 4648, padded). */
void
json_write_base64(struct json_buf *b, const uint8_t *p, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out;
	uint32_t v;
	size_t i;

	json_reserve(b, 4 * ((len + 2) / 3) + 2);
	out = b->data + b->len;
	*out++ = '"';
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*out++ = alphabet[(v >> 18) & 0x3f];
		*out++ = alphabet[(v >> 12) & 0x3f];
		*out++ = alphabet[(v >> 6) & 0x3f];
		*out++ = alphabet[v & 0x3f];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*out++ = alphabet[(v >> 18) & 0x3f];
		*out++ = alphabet[(v >> 12) & 0x3f];
		*out++ = i + 1 < len ? alphabet[(v >> 6) & 0x3f] : '=';
		*out++ = '=';
	}
	*out++ = '"';
	b->len = out - b->data;
}

/* Append bytes as a quoted lower-case hex string. */
void
json_write_hex(struct json_buf *b, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	json_reserve(b, 2 * len + 2);
	b->data[b->len++] = '"';
	for (i = 0; i < len; i++) {
		b->data[b->len++] = digits[p[i] >> 4];
		b->data[b->len++] = digits[p[i] & 0xf];
	}
	b->data[b->len++] = '"';
}

/* Print d with p significant digits as "%.Ne"; does it read back? */
static int
json_try_digits(char *out, size_t size, double d, int is_float, int p)
{
	snprintf(out, size, "%.*e", p - 1, d);
	if (is_float)
		return (strtof(out, NULL) == (float)d);
	return (strtod(out, NULL) == d);
}

/*
 * Find the fewest significant digits that read back as the same double
 * (or float when is_float) and print them as "%.Ne" into out.
 *
 * Correctly rounded to p + 1 digits is never further from d than to p
 * digits, and d's rounding interval is symmetric unless d is a power of
 * two, so "p digits read back" is monotonic in p and a binary search
 * finds the least p (a handful of printf/strtod pairs, not up to 17).
 * Powers of two, whose interval is narrower below, get a linear scan.
 */
static void
json_shortest(char *out, size_t size, double d, int is_float)
{
	int lo = 1, hi = is_float ? 9 : 17, mid, e;
	int fast = is_float ? 6 : 15;

	/*
	 * Fast path: most values (decimal data) read back at 15 digits (6
	 * for a float).  Then the 15-digit rounding, trailing zeros dropped
	 * by json_layout(), IS the shortest form: a shorter k-digit form
	 * that reads back lies within half an ulp of d (< 1.2e-16
	 * relative), nearer than half a step of the 15-digit grid (> 5e-16
	 * relative), so rounding d to 15 digits lands on it.  Only the
	 * values needing 16 or 17 digits go on to the search.  Subnormals,
	 * whose ulp is relatively wider, always search.
	 */
	if (fabs(d) >= (is_float ? FLT_MIN : DBL_MIN)) {
		if (json_try_digits(out, size, d, is_float, fast))
			return;
		lo = fast + 1;
	}
	if (frexp(fabs(d), &e) == 0.5) {
		for (mid = lo; mid < hi; mid++) {
			if (json_try_digits(out, size, d, is_float, mid))
				return;
		}
	} else {
		while (lo < hi) {
			mid = (lo + hi) / 2;
			if (json_try_digits(out, size, d, is_float, mid))
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	json_try_digits(out, size, d, is_float, hi); /* always reads back */
}

/*
 * Append a number from its "%e" form ("-1.25e+02"), laid out like
 * ECMAScript's Number.prototype.toString().
 */
static void
json_layout(struct json_buf *b, const char *e)
{
	char digits[32], tmp[16];
	const char *cp = e;
	int k = 0, n;

	if (*cp == '-')
		json_add_char(b, *cp++);
	for (; *cp != 'e' && *cp != '\0'; cp++) {
		if (*cp >= '0' && *cp <= '9' && k < (int)sizeof(digits) - 1)
			digits[k++] = *cp;
	}
	n = (*cp == 'e' ? atoi(cp + 1) : 0) + 1; /* value = 0.digits x 10^n */
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	if (k <= n && n <= 21) {
		json_add(b, digits, k);
		while (k++ < n)
			json_add_char(b, '0');
	} else if (0 < n && n <= 21) {
		json_add(b, digits, n);
		json_add_char(b, '.');
		json_add(b, digits + n, k - n);
	} else if (-6 < n && n <= 0) {
		json_add_cstr(b, "0.");
		for (; n < 0; n++)
			json_add_char(b, '0');
		json_add(b, digits, k);
	} else {
		json_add_char(b, digits[0]);
		if (k > 1) {
			json_add_char(b, '.');
			json_add(b, digits + 1, k - 1);
		}
		snprintf(tmp, sizeof(tmp), "e%c%d", n - 1 < 0 ? '-' : '+',
		    abs(n - 1));
		json_add_cstr(b, tmp);
	}
}

/* Append a double as its shortest round-trip number; null if not finite. */
void
json_write_double(struct json_buf *b, double d)
{
	char tmp[40];

	if (!isfinite(d)) {
		json_write_null(b);
		return;
	}
	json_shortest(tmp, sizeof(tmp), d, 0);
	json_layout(b, tmp);
}

/* Append a float32 as the shortest number that reads back as it. */
void
json_write_real(struct json_buf *b, float f)
{
	char tmp[40];

	if (!isfinite(f)) {
		json_write_null(b);
		return;
	}
	json_shortest(tmp, sizeof(tmp), f, 1);
	json_layout(b, tmp);
}

/* Append a signed integer. */
void
json_write_int(struct json_buf *b, int64_t v)
{
	char tmp[24];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	json_add(b, tmp, n);
}

/* Append an unsigned integer. */
void
json_write_uint(struct json_buf *b, uint64_t v)
{
	char tmp[24];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	json_add(b, tmp, n);
}

/* Append true or false. */
void
json_write_bool(struct json_buf *b, int v)
{
	json_add_cstr(b, v ? "true" : "false");
}

/* Append null. */
void
json_write_null(struct json_buf *b)
{
	json_add_cstr(b, "null");
}

/* Append one value (DESIGN.md §4 types); absent is written as null. */
void
json_write_value(struct json_buf *b, const struct frame_value *v)
{
	switch (v->type) {
	case FRAME_VALUE_INT:
		json_write_int(b, v->v.i);
		break;
	case FRAME_VALUE_BOOL:
		json_write_bool(b, v->v.b);
		break;
	case FRAME_VALUE_REAL:
		json_write_real(b, v->v.real);
		break;
	case FRAME_VALUE_FLOAT:
		json_write_double(b, v->v.flt);
		break;
	case FRAME_VALUE_STR:
		json_write_string(b, (const char *)v->v.s.ptr, v->v.s.len);
		break;
	case FRAME_VALUE_BIN:
		json_write_base64(b, v->v.s.ptr, v->v.s.len);
		break;
	default:
		json_write_null(b);
		break;
	}
}

/* Append the position keys of "source" for the table's mode. */
static void
json_write_position(struct json_buf *b, const struct frame_schema *s,
    const struct frame_event *ev)
{
	uint64_t version = 0;
	size_t i;

	switch (s->mode) {
	case FRAME_MODE_CT:
		if (ev->poslen != FRAME_POS_CT_SIZE)
			fatalx("%s: ct position of %zu bytes", __func__,
			    ev->poslen);
		for (i = 0; i < 8; i++)
			version = (version << 8) | ev->pos[i];
		json_add_cstr(b, ",\"version\":");
		json_write_int(b, (int64_t)version);
		break;
	case FRAME_MODE_CDC:
		if (ev->poslen != FRAME_POS_CDC_SIZE)
			fatalx("%s: cdc position of %zu bytes", __func__,
			    ev->poslen);
		json_add_cstr(b, ",\"lsn\":");
		json_write_hex(b, ev->pos, 10);
		json_add_cstr(b, ",\"seqval\":");
		json_write_hex(b, ev->pos + 10, 10);
		break;
	default:
		break;
	}
}

/* Append the "_meta" member. */
static void
json_write_meta(struct json_buf *b, const struct frame_schema *s,
    const struct frame_event *ev, uint64_t seq, const char *tag)
{
	json_add_cstr(b, "\"_meta\":{\"op\":\"");
	json_add_char(b, (char)ev->op);
	json_add_cstr(b, "\",\"seq\":");
	json_write_uint(b, seq);
	json_add_cstr(b, ",\"source\":{\"db\":");
	json_write_string(b, s->db, strlen(s->db));
	json_add_cstr(b, ",\"schema\":");
	json_write_string(b, s->schema, strlen(s->schema));
	json_add_cstr(b, ",\"table\":");
	json_write_string(b, s->table, strlen(s->table));
	json_add_cstr(b, ",\"snapshot\":");
	json_write_bool(b, ev->snapshot);
	json_write_position(b, s, ev);
	json_add_cstr(b, ",\"ts\":");
	json_write_string(b, ev->ts, strlen(ev->ts));
	if (tag != NULL) {
		json_add_cstr(b, ",\"tag\":");
		json_write_string(b, tag, strlen(tag));
	}
	json_add_cstr(b, "}}");
}

/* Append ,"name":value for each present value, in schema order. */
static void
json_write_row(struct json_buf *b, const struct frame_schema *s,
    const struct frame_value *values, int first)
{
	const char *name;
	size_t i;

	for (i = 0; i < s->ncolumns; i++) {
		if (values[i].type == FRAME_VALUE_ABSENT)
			continue;
		if (!first)
			json_add_char(b, ',');
		first = 0;
		name = s->columns[i].name;
		json_write_string(b, name, strlen(name));
		json_add_char(b, ':');
		json_write_value(b, &values[i]);
	}
}

/*
 * Append one event as a line (DESIGN.md §4).  The event must match the
 * schema, as frame_decode_events() guarantees.
 */
void
json_write_event(struct json_buf *b, const struct frame_schema *s,
    const struct frame_event *ev, uint64_t seq, const char *tag)
{
	json_add_char(b, '{');
	json_write_meta(b, s, ev, seq, tag);
	json_write_row(b, s, ev->values, 0);
	if (ev->before != NULL) {
		json_add_cstr(b, ",\"_before\":{");
		json_write_row(b, s, ev->before, 1);
		json_add_char(b, '}');
	}
	json_add_cstr(b, "}\n");
}
