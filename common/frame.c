/*
 * Frames between the supervisor and its workers (proto.h).
 *
 * Encoding turns a C struct into one buffer, header and msgpack body,
 * with msgpack-c's packer writing through xrealloc (so it cannot fail
 * half-way).  A result larger than FRAME_MAX_SIZE is refused (NULL) and
 * the caller splits its batch.
 *
 * Decoding is the other half of STYLE.md D4: nothing in a body is used
 * before it is checked.  It does not go through msgpack-c's unpacker,
 * which allocates an array's elements from the count in its header
 * before reading them (five bytes can ask for gigabytes) and builds a
 * generic object tree we would walk a second time.  Instead a small
 * cursor (struct frame_rd, OpenSMTPD m_get_*() style) reads the one
 * fixed shape each type has: every read is bounds-checked, an array
 * count is checked against the bytes left before anything is
 * allocated, every number against its range, and the whole body must
 * be consumed.  The first problem stops decoding and becomes a reason
 * naming the frame type and the path to the bad element, such as
 * "FRAME_EVENTS: event 3: value 7: unexpected msgpack type map".
 *
 * Decoded structs own their memory: the body is copied once and strings
 * and byte strings point into that copy, so a frame outlives the
 * reader's buffer (the supervisor holds events until every table's
 * watermark lets it merge them).  Each struct is released with its
 * frame_*_free().
 *
 * The incremental reader buffers bytes as they come off the socket and
 * pops whole frames.  It checks the announced length against its
 * maximum as soon as a header is complete, so a peer cannot make it
 * buffer more than that.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "common.h"

/* Growing output buffer behind the msgpack packer. */
struct frame_wbuf {
	uint8_t *data;
	size_t len;
	size_t size;
};

/* Read cursor over one body, with the first error met. */
struct frame_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	char err[256];
};

/* One msgpack item as read by frame_rd_next(). */
enum frame_kind {
	FRAME_KIND_NIL,
	FRAME_KIND_BOOL,
	FRAME_KIND_UINT,
	FRAME_KIND_INT,
	FRAME_KIND_F32,
	FRAME_KIND_F64,
	FRAME_KIND_STR,
	FRAME_KIND_BIN,
	FRAME_KIND_ARRAY,
	FRAME_KIND_MAP,
	FRAME_KIND_EXT
};

struct frame_obj {
	enum frame_kind kind;
	uint64_t u; /* UINT, BOOL; ARRAY, MAP count */
	int64_t i; /* INT (negative) */
	float f32;
	double f64;
	const uint8_t *ptr; /* STR, BIN, EXT payload */
	size_t len;
	int8_t ext;
};

/* Incremental reader. */
struct frame_reader {
	uint8_t *buf;
	size_t off; /* start of unread data */
	size_t len; /* end of data */
	size_t size;
	size_t max; /* largest frame, header included */
};

static int frame_wbuf_write(void *, const char *, size_t);
static void frame_pack_begin(struct frame_wbuf *, msgpack_packer *);
static uint8_t *frame_pack_end(
    struct frame_wbuf *, uint32_t, uint32_t, uint32_t, size_t *);
static void frame_pack_bytes(msgpack_packer *, const void *, size_t);
static void frame_pack_string(msgpack_packer *, const char *);
static void frame_pack_value(msgpack_packer *, const struct frame_value *);
static void frame_pack_values(
    msgpack_packer *, const struct frame_value *, size_t);
static void frame_pack_key(msgpack_packer *, const struct frame_values *);
static void frame_pack_column(msgpack_packer *, const struct frame_column *);
static void frame_pack_event(
    msgpack_packer *, const struct frame_event *, size_t);

static uint64_t frame_load_be(const uint8_t *, size_t);
static uint32_t frame_load_le32(const uint8_t *);
static void frame_store_le32(uint8_t *, uint32_t);
static int frame_rd_fail(struct frame_rd *, const char *, ...) printflike(2, 3);
static int frame_rd_wrap(struct frame_rd *, const char *, ...) printflike(2, 3);
static const char *frame_kind_name(enum frame_kind);
static int frame_rd_take(struct frame_rd *, size_t, const uint8_t **);
static int frame_rd_sized(struct frame_rd *, uint8_t, struct frame_obj *);
static int frame_rd_fixed(struct frame_rd *, uint8_t, struct frame_obj *);
static int frame_rd_next(struct frame_rd *, struct frame_obj *);
static int frame_rd_expect(
    struct frame_rd *, struct frame_obj *, enum frame_kind, const char *);
static int frame_rd_array(
    struct frame_rd *, size_t, size_t, size_t *, const char *);
static int frame_rd_uint(struct frame_rd *, uint64_t, uint64_t *, const char *);
static int frame_rd_int(
    struct frame_rd *, int64_t, int64_t, int64_t *, const char *);
static int frame_rd_bool(struct frame_rd *, int *, const char *);
static int frame_rd_bin(struct frame_rd *, size_t, size_t, const uint8_t **,
    size_t *, const char *);
static int frame_rd_str(struct frame_rd *, size_t, size_t, const uint8_t **,
    size_t *, const char *);
static int frame_rd_name(
    struct frame_rd *, size_t, size_t, char **, const char *);
static int frame_rd_is_nil(struct frame_rd *);
static int frame_rd_value(struct frame_rd *, struct frame_value *);
static int frame_rd_values(struct frame_rd *, size_t, struct frame_value *);
static int frame_rd_key(struct frame_rd *, struct frame_values *);
static int frame_rd_column(struct frame_rd *, struct frame_column *);
static int frame_rd_columns(struct frame_rd *, struct frame_schema *);
static int frame_check_keys(struct frame_rd *, const struct frame_schema *);
static int frame_rd_pos(
    struct frame_rd *, enum frame_mode, uint8_t *, size_t *);
static int frame_rd_event(
    struct frame_rd *, const struct frame_schema *, struct frame_events *);
static int frame_check_event(struct frame_rd *, const struct frame_schema *,
    const struct frame_event *, const struct frame_event *);
static int frame_decode_begin(
    const struct frame *, uint32_t, struct frame_rd *, char **);
static int frame_decode_end(struct frame_rd *, uint32_t, int, char **);
static uint8_t *frame_copy_body(const struct frame *, struct frame_rd *);
static void frame_reader_reserve(struct frame_reader *, size_t);

/* Names of the frame types (STYLE.md C4). */
static const struct {
	uint32_t type;
	const char *name;
} frame_type_names[] = {
	{ FRAME_HELLO, "FRAME_HELLO" },
	{ FRAME_START, "FRAME_START" },
	{ FRAME_STOP, "FRAME_STOP" },
	{ FRAME_ERROR, "FRAME_ERROR" },
	{ FRAME_PROGRESS, "FRAME_PROGRESS" },
	{ FRAME_SCHEMA, "FRAME_SCHEMA" },
	{ FRAME_EVENTS, "FRAME_EVENTS" },
	{ FRAME_WATERMARK, "FRAME_WATERMARK" },
	{ FRAME_BACKFILL_DONE, "FRAME_BACKFILL_DONE" },
	{ FRAME_CREDIT, "FRAME_CREDIT" },
};

/* Name of a frame type for logging; "FRAME_UNKNOWN" if there is none. */
const char *
frame_type_name(uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(frame_type_names) / sizeof(*frame_type_names);
	     i++) {
		if (frame_type_names[i].type == type)
			return (frame_type_names[i].name);
	}
	return ("FRAME_UNKNOWN");
}

/* Is this a frame type of this protocol version? */
int
frame_type_valid(uint32_t type)
{
	return (strcmp(frame_type_name(type), "FRAME_UNKNOWN") != 0);
}

/* Name of a phase, as stored in the state file. */
const char *
frame_phase_name(enum frame_phase phase)
{
	switch (phase) {
	case FRAME_PHASE_BACKFILL:
		return ("backfill");
	case FRAME_PHASE_STREAMING:
		return ("streaming");
	case FRAME_PHASE_FAILED:
		return ("failed");
	case FRAME_PHASE_DONE:
		return ("done");
	}
	return ("unknown");
}

/* Commit order of two positions (proto.h): memcmp, a prefix first. */
int
frame_pos_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int cmp;

	cmp = memcmp(a, b, alen < blen ? alen : blen);
	if (cmp != 0)
		return (cmp);
	return (alen < blen ? -1 : alen > blen);
}

/* Name of a mode, as in the configuration. */
const char *
frame_mode_name(enum frame_mode mode)
{
	switch (mode) {
	case FRAME_MODE_CT:
		return ("ct");
	case FRAME_MODE_CDC:
		return ("cdc");
	case FRAME_MODE_BATCH:
		return ("batch");
	}
	return ("unknown");
}

/* Read a big-endian unsigned integer of n <= 8 bytes. */
static uint64_t
frame_load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* Read a little-endian uint32. */
static uint32_t
frame_load_le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

/* Write a little-endian uint32. */
static void
frame_store_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* Write a header in wire order into 16 bytes. */
void
frame_header_write(uint8_t *p, const struct frame_header *hdr)
{
	frame_store_le32(p, hdr->type);
	frame_store_le32(p + 4, hdr->len);
	frame_store_le32(p + 8, hdr->peerid);
	frame_store_le32(p + 12, hdr->pid);
}

/* Read a header from 16 bytes in wire order. */
void
frame_header_read(const uint8_t *p, struct frame_header *hdr)
{
	hdr->type = frame_load_le32(p);
	hdr->len = frame_load_le32(p + 4);
	hdr->peerid = frame_load_le32(p + 8);
	hdr->pid = frame_load_le32(p + 12);
}

/* Split one complete frame held in a buffer into header and body. */
int
frame_parse(const uint8_t *buf, size_t len, struct frame *f, char **cause)
{
	if (len < FRAME_HEADER_SIZE) {
		xasprintf(cause, "truncated header: %zu of %d bytes", len,
		    FRAME_HEADER_SIZE);
		return (-1);
	}
	frame_header_read(buf, &f->hdr);
	if (len > FRAME_MAX_SIZE) {
		xasprintf(cause, "%s: frame of %zu bytes is over the %u limit",
		    frame_type_name(f->hdr.type), len, FRAME_MAX_SIZE);
		return (-1);
	}
	if (f->hdr.len != len - FRAME_HEADER_SIZE) {
		xasprintf(cause,
		    "%s: length mismatch: header says %u, body is "
		    "%zu bytes",
		    frame_type_name(f->hdr.type), f->hdr.len,
		    len - FRAME_HEADER_SIZE);
		return (-1);
	}
	f->body = buf + FRAME_HEADER_SIZE;
	return (0);
}

/* ---- Encoding. ---- */

/* msgpack write callback: append to the buffer. */
static int
frame_wbuf_write(void *data, const char *buf, size_t len)
{
	struct frame_wbuf *wb = data;
	size_t size;

	if (len == 0)
		return (0);
	if (wb->len + len > wb->size) {
		size = wb->size;
		while (size < wb->len + len)
			size *= 2;
		wb->data = xrealloc(wb->data, size);
		wb->size = size;
	}
	memcpy(wb->data + wb->len, buf, len);
	wb->len += len;
	return (0);
}

/* Start a frame: room for the header, then the body. */
static void
frame_pack_begin(struct frame_wbuf *wb, msgpack_packer *pk)
{
	wb->size = 256;
	wb->data = xmalloc(wb->size);
	wb->len = FRAME_HEADER_SIZE;
	msgpack_packer_init(pk, wb, frame_wbuf_write);
}

/* Finish a frame: fill the header, hand the buffer over. */
static uint8_t *
frame_pack_end(struct frame_wbuf *wb, uint32_t type, uint32_t peerid,
    uint32_t pid, size_t *lenp)
{
	struct frame_header hdr;

	if (wb->len > FRAME_MAX_SIZE) {
		log_debug("%s: %zu bytes is over the frame limit",
		    frame_type_name(type), wb->len);
		free(wb->data);
		*lenp = 0;
		return (NULL);
	}
	hdr.type = type;
	hdr.len = wb->len - FRAME_HEADER_SIZE;
	hdr.peerid = peerid;
	hdr.pid = pid;
	frame_header_write(wb->data, &hdr);
	*lenp = wb->len;
	return (wb->data);
}

/* Pack a byte string. */
static void
frame_pack_bytes(msgpack_packer *pk, const void *p, size_t len)
{
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, p, len);
}

/* Pack a NUL-terminated string. */
static void
frame_pack_string(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

/* Pack one value (proto.h, "Values"). */
static void
frame_pack_value(msgpack_packer *pk, const struct frame_value *v)
{
	switch (v->type) {
	case FRAME_VALUE_ABSENT:
		msgpack_pack_ext(pk, 0, FRAME_EXT_ABSENT);
		break;
	case FRAME_VALUE_NULL:
		msgpack_pack_nil(pk);
		break;
	case FRAME_VALUE_INT:
		msgpack_pack_int64(pk, v->v.i);
		break;
	case FRAME_VALUE_BOOL:
		if (v->v.b)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case FRAME_VALUE_REAL:
		msgpack_pack_float(pk, v->v.real);
		break;
	case FRAME_VALUE_FLOAT:
		msgpack_pack_double(pk, v->v.flt);
		break;
	case FRAME_VALUE_STR:
		msgpack_pack_str(pk, v->v.s.len);
		msgpack_pack_str_body(pk, v->v.s.ptr, v->v.s.len);
		break;
	case FRAME_VALUE_BIN:
		frame_pack_bytes(pk, v->v.s.ptr, v->v.s.len);
		break;
	default:
		fatalx("%s: bad value type %d", __func__, v->type);
	}
}

/* Pack an array of values. */
static void
frame_pack_values(msgpack_packer *pk, const struct frame_value *v, size_t n)
{
	size_t i;

	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		frame_pack_value(pk, &v[i]);
}

/* Pack a key: nil when there is none. */
static void
frame_pack_key(msgpack_packer *pk, const struct frame_values *key)
{
	if (key->n == 0)
		msgpack_pack_nil(pk);
	else
		frame_pack_values(pk, key->v, key->n);
}

/* Encode FRAME_HELLO. */
uint8_t *
frame_pack_hello(
    const struct frame_hello *m, uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint32(&pk, m->version);
	msgpack_pack_uint32(&pk, m->binding_id);
	return (frame_pack_end(&wb, FRAME_HELLO, peerid, pid, lenp));
}

/* Encode FRAME_START. */
uint8_t *
frame_pack_start(
    const struct frame_start *m, uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_unsigned_int(&pk, m->phase);
	frame_pack_bytes(&pk, m->cursor, m->cursorlen);
	frame_pack_key(&pk, &m->key);
	msgpack_pack_uint32(&pk, m->flags);
	return (frame_pack_end(&wb, FRAME_START, peerid, pid, lenp));
}

/* Encode FRAME_STOP. */
uint8_t *
frame_pack_stop(uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 0);
	return (frame_pack_end(&wb, FRAME_STOP, peerid, pid, lenp));
}

/* Encode FRAME_ERROR. */
uint8_t *
frame_pack_error(
    const struct frame_error *m, uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;
	size_t len;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_unsigned_int(&pk, m->code);
	len = strlen(m->message);
	if (len > FRAME_MAX_MESSAGE)
		len =
		    FRAME_MAX_MESSAGE; /* the tail of a message is expendable */
	msgpack_pack_str(&pk, len);
	msgpack_pack_str_body(&pk, m->message, len);
	return (frame_pack_end(&wb, FRAME_ERROR, peerid, pid, lenp));
}

/* Encode FRAME_PROGRESS. */
uint8_t *
frame_pack_progress(
    const struct frame_progress *m, uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint64(&pk, m->rows_done);
	msgpack_pack_uint64(&pk, m->rows_estimate);
	msgpack_pack_uint64(&pk, m->lag_ms);
	return (frame_pack_end(&wb, FRAME_PROGRESS, peerid, pid, lenp));
}

/* Pack one column of FRAME_SCHEMA. */
static void
frame_pack_column(msgpack_packer *pk, const struct frame_column *c)
{
	msgpack_pack_array(pk, 9);
	frame_pack_string(pk, c->name);
	frame_pack_string(pk, c->type_name);
	msgpack_pack_uint32(pk, c->type_id);
	msgpack_pack_uint32(pk, c->precision);
	msgpack_pack_uint32(pk, c->scale);
	msgpack_pack_int32(pk, c->max_length);
	if (c->nullable)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	msgpack_pack_uint32(pk, c->key_ordinal);
	if (c->computed)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* Encode FRAME_SCHEMA. */
uint8_t *
frame_pack_schema(
    const struct frame_schema *m, uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;
	size_t i;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 5);
	frame_pack_string(&pk, m->db);
	frame_pack_string(&pk, m->schema);
	frame_pack_string(&pk, m->table);
	msgpack_pack_unsigned_int(&pk, m->mode);
	msgpack_pack_array(&pk, m->ncolumns);
	for (i = 0; i < m->ncolumns; i++)
		frame_pack_column(&pk, &m->columns[i]);
	return (frame_pack_end(&wb, FRAME_SCHEMA, peerid, pid, lenp));
}

/* Pack one event of FRAME_EVENTS. */
static void
frame_pack_event(
    msgpack_packer *pk, const struct frame_event *ev, size_t ncolumns)
{
	msgpack_pack_array(pk, 6);
	msgpack_pack_unsigned_int(pk, ev->op);
	if (ev->snapshot)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	frame_pack_bytes(pk, ev->pos, ev->poslen);
	frame_pack_string(pk, ev->ts);
	frame_pack_values(pk, ev->values, ncolumns);
	if (ev->before == NULL)
		msgpack_pack_nil(pk);
	else
		frame_pack_values(pk, ev->before, ncolumns);
}

/* Encode FRAME_EVENTS; NULL if the batch is too large for one frame. */
uint8_t *
frame_pack_events(
    const struct frame_events *m, uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;
	size_t i;

	if (m->n > FRAME_MAX_EVENTS) {
		*lenp = 0;
		return (NULL);
	}
	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, m->n);
	for (i = 0; i < m->n; i++)
		frame_pack_event(&pk, &m->events[i], m->ncolumns);
	return (frame_pack_end(&wb, FRAME_EVENTS, peerid, pid, lenp));
}

/* Encode FRAME_WATERMARK. */
uint8_t *
frame_pack_watermark(const struct frame_watermark *m, uint32_t peerid,
    uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 3);
	frame_pack_bytes(&pk, m->pos, m->poslen);
	frame_pack_bytes(&pk, m->cursor, m->cursorlen);
	frame_pack_key(&pk, &m->key);
	return (frame_pack_end(&wb, FRAME_WATERMARK, peerid, pid, lenp));
}

/* Encode FRAME_BACKFILL_DONE. */
uint8_t *
frame_pack_backfill_done(const struct frame_backfill_done *m, uint32_t peerid,
    uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_uint64(&pk, m->rows);
	return (frame_pack_end(&wb, FRAME_BACKFILL_DONE, peerid, pid, lenp));
}

/* Encode FRAME_CREDIT. */
uint8_t *
frame_pack_credit(
    const struct frame_credit *m, uint32_t peerid, uint32_t pid, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	frame_pack_begin(&wb, &pk);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_uint32(&pk, m->events);
	return (frame_pack_end(&wb, FRAME_CREDIT, peerid, pid, lenp));
}

/*
 * Pack a list of values on its own (no frame header): the state file
 * keeps the last backfilled key this way.
 */
uint8_t *
frame_values_pack(const struct frame_values *vals, size_t *lenp)
{
	struct frame_wbuf wb;
	msgpack_packer pk;

	wb.size = 64;
	wb.data = xmalloc(wb.size);
	wb.len = 0;
	msgpack_packer_init(&pk, &wb, frame_wbuf_write);
	frame_pack_values(&pk, vals->v, vals->n);
	*lenp = wb.len;
	return (wb.data);
}

/* ---- Decoding. ---- */

/* Record the first error of a read; always -1. */
static int
frame_rd_fail(struct frame_rd *rd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->err, sizeof(rd->err), fmt, ap);
	va_end(ap);
	return (-1);
}

/* Prefix the error with where it happened ("event 3"); always -1. */
static int
frame_rd_wrap(struct frame_rd *rd, const char *fmt, ...)
{
	char where[64];
	size_t n, len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	n = strlen(where) + 2; /* "where: " */
	len = strlen(rd->err);
	if (n + len >= sizeof(rd->err))
		len = sizeof(rd->err) - 1 - n;
	memmove(rd->err + n, rd->err, len);
	rd->err[n + len] = '\0';
	memcpy(rd->err, where, n - 2);
	memcpy(rd->err + n - 2, ": ", 2);
	return (-1);
}

/* Name of a msgpack kind in messages. */
static const char *
frame_kind_name(enum frame_kind kind)
{
	static const char *names[] = { "nil", "bool", "uint", "int", "float32",
		"float64", "str", "bin", "array", "map", "ext" };

	return (names[kind]);
}

/* Consume n bytes of the body, if there are n left. */
static int
frame_rd_take(struct frame_rd *rd, size_t n, const uint8_t **p)
{
	if (n > rd->len - rd->off)
		return (frame_rd_fail(rd,
		    "truncated: %zu bytes needed at offset "
		    "%zu, %zu left",
		    n, rd->off, rd->len - rd->off));
	*p = rd->p + rd->off;
	rd->off += n;
	return (0);
}

/* Read the length-prefixed kinds: str, bin, ext, array, map 8/16/32. */
static int
frame_rd_sized(struct frame_rd *rd, uint8_t b, struct frame_obj *o)
{
	static const struct {
		uint8_t b;
		enum frame_kind kind;
		size_t width;
	} t[] = { { 0xc4, FRAME_KIND_BIN, 1 }, { 0xc5, FRAME_KIND_BIN, 2 },
		{ 0xc6, FRAME_KIND_BIN, 4 }, { 0xc7, FRAME_KIND_EXT, 1 },
		{ 0xc8, FRAME_KIND_EXT, 2 }, { 0xc9, FRAME_KIND_EXT, 4 },
		{ 0xd9, FRAME_KIND_STR, 1 }, { 0xda, FRAME_KIND_STR, 2 },
		{ 0xdb, FRAME_KIND_STR, 4 }, { 0xdc, FRAME_KIND_ARRAY, 2 },
		{ 0xdd, FRAME_KIND_ARRAY, 4 }, { 0xde, FRAME_KIND_MAP, 2 },
		{ 0xdf, FRAME_KIND_MAP, 4 } };
	const uint8_t *p = NULL;
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		if (t[i].b == b)
			break;
	}
	if (i == sizeof(t) / sizeof(*t))
		return (frame_rd_fail(rd, "invalid msgpack byte 0x%02x", b));
	o->kind = t[i].kind;
	if (frame_rd_take(rd, t[i].width, &p) != 0)
		return (-1);
	n = frame_load_be(p, t[i].width);
	if (o->kind == FRAME_KIND_EXT) {
		if (frame_rd_take(rd, 1, &p) != 0)
			return (-1);
		o->ext = (int8_t)p[0];
	}
	if (o->kind == FRAME_KIND_ARRAY || o->kind == FRAME_KIND_MAP) {
		o->u = n;
		return (0);
	}
	o->len = n;
	return (frame_rd_take(rd, n, &o->ptr));
}

/* Read the fixed-width kinds: numbers, fixext. */
static int
frame_rd_fixed(struct frame_rd *rd, uint8_t b, struct frame_obj *o)
{
	const uint8_t *p = NULL;
	uint64_t v;
	uint32_t v32;
	size_t width;

	if (b >= 0xd4 && b <= 0xd8) { /* fixext 1, 2, 4, 8, 16 */
		if (frame_rd_take(rd, 1, &p) != 0)
			return (-1);
		o->kind = FRAME_KIND_EXT;
		o->ext = (int8_t)p[0];
		o->len = (size_t)1 << (b - 0xd4);
		return (frame_rd_take(rd, o->len, &o->ptr));
	}
	if (b >= 0xca && b <= 0xcb) /* float 32, 64 */
		width = b == 0xca ? 4 : 8;
	else
		width = (size_t)1 << (b & 0x3); /* (u)int 8..64 */
	if (frame_rd_take(rd, width, &p) != 0)
		return (-1);
	v = frame_load_be(p, width);
	if (b == 0xca) {
		o->kind = FRAME_KIND_F32;
		v32 = (uint32_t)v;
		memcpy(&o->f32, &v32, sizeof(o->f32));
	} else if (b == 0xcb) {
		o->kind = FRAME_KIND_F64;
		memcpy(&o->f64, &v, sizeof(o->f64));
	} else if (b <= 0xcf) {
		o->kind = FRAME_KIND_UINT;
		o->u = v;
	} else {
		if (width < 8 && (v >> (width * 8 - 1)) != 0)
			v |= ~(uint64_t)0 << (width * 8); /* sign-extend */
		o->i = (int64_t)v;
		o->kind = o->i < 0 ? FRAME_KIND_INT : FRAME_KIND_UINT;
		o->u = (uint64_t)o->i;
	}
	return (0);
}

/* Read the next msgpack item (containers: only their header). */
static int
frame_rd_next(struct frame_rd *rd, struct frame_obj *o)
{
	const uint8_t *p = NULL;
	uint8_t b;

	memset(o, 0, sizeof(*o));
	if (frame_rd_take(rd, 1, &p) != 0)
		return (-1);
	b = *p;
	if (b <= 0x7f) {
		o->kind = FRAME_KIND_UINT;
		o->u = b;
	} else if (b >= 0xe0) {
		o->kind = FRAME_KIND_INT;
		o->i = (int8_t)b;
	} else if (b <= 0x8f) {
		o->kind = FRAME_KIND_MAP;
		o->u = b & 0x0f;
	} else if (b <= 0x9f) {
		o->kind = FRAME_KIND_ARRAY;
		o->u = b & 0x0f;
	} else if (b <= 0xbf) {
		o->kind = FRAME_KIND_STR;
		o->len = b & 0x1f;
		return (frame_rd_take(rd, o->len, &o->ptr));
	} else if (b == 0xc0)
		o->kind = FRAME_KIND_NIL;
	else if (b == 0xc2 || b == 0xc3) {
		o->kind = FRAME_KIND_BOOL;
		o->u = b == 0xc3;
	} else if ((b >= 0xca && b <= 0xd8))
		return (frame_rd_fixed(rd, b, o));
	else
		return (frame_rd_sized(rd, b, o));
	return (0);
}

/* Read the next item and require a kind (UINT also accepts INT). */
static int
frame_rd_expect(struct frame_rd *rd, struct frame_obj *o, enum frame_kind kind,
    const char *what)
{
	if (frame_rd_next(rd, o) != 0)
		return (frame_rd_wrap(rd, "%s", what));
	if (o->kind == kind)
		return (0);
	if (kind == FRAME_KIND_INT && o->kind == FRAME_KIND_UINT)
		return (0);
	return (frame_rd_fail(rd, "%s: expected %s, got msgpack %s", what,
	    frame_kind_name(kind), frame_kind_name(o->kind)));
}

/*
 * Read an array header with min <= count <= max.  Every element takes
 * at least one byte, so the count is also checked against what is left
 * before any caller allocates for it.
 */
static int
frame_rd_array(
    struct frame_rd *rd, size_t min, size_t max, size_t *np, const char *what)
{
	struct frame_obj o;

	if (frame_rd_expect(rd, &o, FRAME_KIND_ARRAY, what) != 0)
		return (-1);
	if (o.u < min || o.u > max) {
		if (min == max)
			return (frame_rd_fail(rd,
			    "%s: expected %zu elements, "
			    "got %llu",
			    what, min, (unsigned long long)o.u));
		return (frame_rd_fail(rd, "%s: %llu elements, not in %zu..%zu",
		    what, (unsigned long long)o.u, min, max));
	}
	if (o.u > rd->len - rd->off)
		return (
		    frame_rd_fail(rd, "%s: %llu elements but %zu bytes left",
			what, (unsigned long long)o.u, rd->len - rd->off));
	*np = o.u;
	return (0);
}

/* Read a non-negative integer no larger than max. */
static int
frame_rd_uint(struct frame_rd *rd, uint64_t max, uint64_t *vp, const char *what)
{
	struct frame_obj o;

	if (frame_rd_next(rd, &o) != 0)
		return (frame_rd_wrap(rd, "%s", what));
	if (o.kind == FRAME_KIND_INT)
		return (frame_rd_fail(
		    rd, "%s: %lld is negative", what, (long long)o.i));
	if (o.kind != FRAME_KIND_UINT)
		return (frame_rd_fail(rd, "%s: expected uint, got msgpack %s",
		    what, frame_kind_name(o.kind)));
	if (o.u > max)
		return (frame_rd_fail(rd, "%s: %llu is over %llu", what,
		    (unsigned long long)o.u, (unsigned long long)max));
	*vp = o.u;
	return (0);
}

/* Read an integer in min..max. */
static int
frame_rd_int(struct frame_rd *rd, int64_t min, int64_t max, int64_t *vp,
    const char *what)
{
	struct frame_obj o;

	if (frame_rd_expect(rd, &o, FRAME_KIND_INT, what) != 0)
		return (-1);
	if (o.kind == FRAME_KIND_UINT && o.u > INT64_MAX)
		return (frame_rd_fail(rd, "%s: %llu is out of range", what,
		    (unsigned long long)o.u));
	if (o.kind == FRAME_KIND_UINT)
		o.i = (int64_t)o.u;
	if (o.i < min || o.i > max)
		return (frame_rd_fail(rd, "%s: %lld is not in %lld..%lld", what,
		    (long long)o.i, (long long)min, (long long)max));
	*vp = o.i;
	return (0);
}

/* Read a bool. */
static int
frame_rd_bool(struct frame_rd *rd, int *vp, const char *what)
{
	struct frame_obj o;

	if (frame_rd_expect(rd, &o, FRAME_KIND_BOOL, what) != 0)
		return (-1);
	*vp = o.u != 0;
	return (0);
}

/* Read a byte string of min..max bytes. */
static int
frame_rd_bin(struct frame_rd *rd, size_t min, size_t max, const uint8_t **pp,
    size_t *lenp, const char *what)
{
	struct frame_obj o;

	if (frame_rd_expect(rd, &o, FRAME_KIND_BIN, what) != 0)
		return (-1);
	if (o.len < min || o.len > max)
		return (frame_rd_fail(rd, "%s: %zu bytes, not in %zu..%zu",
		    what, o.len, min, max));
	*pp = o.ptr;
	*lenp = o.len;
	return (0);
}

/* Read a string of min..max bytes. */
static int
frame_rd_str(struct frame_rd *rd, size_t min, size_t max, const uint8_t **pp,
    size_t *lenp, const char *what)
{
	struct frame_obj o;

	if (frame_rd_expect(rd, &o, FRAME_KIND_STR, what) != 0)
		return (-1);
	if (o.len < min || o.len > max)
		return (frame_rd_fail(rd,
		    "%s: string of %zu bytes, not in "
		    "%zu..%zu",
		    what, o.len, min, max));
	*pp = o.ptr;
	*lenp = o.len;
	return (0);
}

/* Read a string of min..max bytes without NUL into a new C string. */
static int
frame_rd_name(
    struct frame_rd *rd, size_t min, size_t max, char **sp, const char *what)
{
	const uint8_t *p = NULL;
	size_t len;

	if (frame_rd_str(rd, min, max, &p, &len, what) != 0)
		return (-1);
	if (memchr(p, '\0', len) != NULL)
		return (frame_rd_fail(rd, "%s: contains a NUL byte", what));
	*sp = xstrndup((const char *)p, len);
	return (0);
}

/* If the next item is nil, consume it and return 1. */
static int
frame_rd_is_nil(struct frame_rd *rd)
{
	if (rd->off < rd->len && rd->p[rd->off] == 0xc0) {
		rd->off++;
		return (1);
	}
	return (0);
}

/* Read one value (proto.h, "Values"). */
static int
frame_rd_value(struct frame_rd *rd, struct frame_value *v)
{
	struct frame_obj o;

	if (frame_rd_next(rd, &o) != 0)
		return (-1);
	switch (o.kind) {
	case FRAME_KIND_NIL:
		v->type = FRAME_VALUE_NULL;
		return (0);
	case FRAME_KIND_BOOL:
		v->type = FRAME_VALUE_BOOL;
		v->v.b = o.u != 0;
		return (0);
	case FRAME_KIND_UINT:
		if (o.u > INT64_MAX)
			return (
			    frame_rd_fail(rd, "integer %llu is out of range",
				(unsigned long long)o.u));
		v->type = FRAME_VALUE_INT;
		v->v.i = (int64_t)o.u;
		return (0);
	case FRAME_KIND_INT:
		v->type = FRAME_VALUE_INT;
		v->v.i = o.i;
		return (0);
	case FRAME_KIND_F32:
		v->type = FRAME_VALUE_REAL;
		v->v.real = o.f32;
		return (0);
	case FRAME_KIND_F64:
		v->type = FRAME_VALUE_FLOAT;
		v->v.flt = o.f64;
		return (0);
	case FRAME_KIND_STR:
	case FRAME_KIND_BIN:
		v->type = o.kind == FRAME_KIND_STR ? FRAME_VALUE_STR
						   : FRAME_VALUE_BIN;
		v->v.s.ptr = o.ptr;
		v->v.s.len = o.len;
		return (0);
	case FRAME_KIND_EXT:
		if (o.ext == FRAME_EXT_ABSENT && o.len == 0) {
			v->type = FRAME_VALUE_ABSENT;
			return (0);
		}
		return (frame_rd_fail(rd,
		    "unexpected msgpack ext type %d of "
		    "%zu bytes",
		    o.ext, o.len));
	default:
		break;
	}
	return (frame_rd_fail(
	    rd, "unexpected msgpack type %s", frame_kind_name(o.kind)));
}

/* Read exactly n values into v[]. */
static int
frame_rd_values(struct frame_rd *rd, size_t n, struct frame_value *v)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (frame_rd_value(rd, &v[i]) != 0)
			return (frame_rd_wrap(rd, "value %zu", i));
	}
	return (0);
}

/* Read a key: nil, or an array of present values. */
static int
frame_rd_key(struct frame_rd *rd, struct frame_values *key)
{
	size_t i;

	memset(key, 0, sizeof(*key));
	if (frame_rd_is_nil(rd))
		return (0);
	if (frame_rd_array(rd, 1, FRAME_MAX_COLUMNS, &key->n, "last_key") != 0)
		return (-1);
	key->v = xcalloc(key->n, sizeof(*key->v));
	if (frame_rd_values(rd, key->n, key->v) != 0)
		return (frame_rd_wrap(rd, "last_key"));
	for (i = 0; i < key->n; i++) {
		if (key->v[i].type == FRAME_VALUE_ABSENT)
			return (frame_rd_fail(
			    rd, "last_key: value %zu: absent", i));
	}
	return (0);
}

/* Check the frame type and start reading its body. */
static int
frame_decode_begin(
    const struct frame *f, uint32_t type, struct frame_rd *rd, char **cause)
{
	memset(rd, 0, sizeof(*rd));
	if (f->hdr.type != type) {
		xasprintf(cause, "%s: got a %s frame", frame_type_name(type),
		    frame_type_name(f->hdr.type));
		return (-1);
	}
	if (f->hdr.len > FRAME_MAX_SIZE - FRAME_HEADER_SIZE) {
		xasprintf(cause, "%s: body of %u bytes is over the limit",
		    frame_type_name(type), f->hdr.len);
		return (-1);
	}
	rd->p = f->body;
	rd->len = f->hdr.len;
	return (0);
}

/* Finish reading a body: it must be consumed.  Sets *cause on error. */
static int
frame_decode_end(struct frame_rd *rd, uint32_t type, int rc, char **cause)
{
	if (rc == 0 && rd->off != rd->len)
		rc = frame_rd_fail(
		    rd, "%zu trailing bytes after the body", rd->len - rd->off);
	if (rc != 0)
		xasprintf(cause, "%s: %s", frame_type_name(type), rd->err);
	return (rc);
}

/* Copy the body so that decoded strings outlive the reader's buffer. */
static uint8_t *
frame_copy_body(const struct frame *f, struct frame_rd *rd)
{
	uint8_t *copy;

	if (f->hdr.len == 0)
		return (NULL);
	copy = xmalloc(f->hdr.len);
	memcpy(copy, f->body, f->hdr.len);
	rd->p = copy;
	return (copy);
}

/* Decode FRAME_HELLO. */
int
frame_decode_hello(const struct frame *f, struct frame_hello *m, char **cause)
{
	struct frame_rd rd;
	uint64_t version = 0, id = 0;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_HELLO, &rd, cause) != 0)
		return (-1);
	rc = frame_rd_array(&rd, 2, 2, &n, "body");
	if (rc == 0)
		rc = frame_rd_uint(&rd, UINT32_MAX, &version, "version");
	if (rc == 0)
		rc = frame_rd_uint(&rd, UINT32_MAX, &id, "binding_id");
	if (rc == 0 && version != PROTOCOL_VERSION)
		rc = frame_rd_fail(&rd, "protocol version %llu, expected %d",
		    (unsigned long long)version, PROTOCOL_VERSION);
	if (rc == 0 && id != f->hdr.peerid)
		rc = frame_rd_fail(&rd, "binding_id %llu but header peerid %u",
		    (unsigned long long)id, f->hdr.peerid);
	m->version = version;
	m->binding_id = id;
	return (frame_decode_end(&rd, FRAME_HELLO, rc, cause));
}

/* Decode FRAME_START. */
int
frame_decode_start(const struct frame *f, struct frame_start *m, char **cause)
{
	struct frame_rd rd;
	uint64_t phase, flags = 0;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_START, &rd, cause) != 0)
		return (-1);
	m->body = frame_copy_body(f, &rd);
	rc = frame_rd_array(&rd, 4, 4, &n, "body");
	if (rc == 0)
		rc = frame_rd_uint(&rd, FRAME_PHASE_MAX, &phase, "phase");
	if (rc == 0)
		rc = frame_rd_bin(&rd, 0, FRAME_MAX_CURSOR, &m->cursor,
		    &m->cursorlen, "cursor");
	if (rc == 0)
		rc = frame_rd_key(&rd, &m->key);
	if (rc == 0)
		rc = frame_rd_uint(&rd, UINT32_MAX, &flags, "flags");
	if (rc == 0 && (flags & ~(uint64_t)FRAME_START_FLAGS) != 0)
		rc = frame_rd_fail(
		    &rd, "unknown flags %#llx", (unsigned long long)flags);
	if (rc == 0) {
		m->phase = phase;
		m->flags = (uint32_t)flags;
	}
	if (frame_decode_end(&rd, FRAME_START, rc, cause) != 0) {
		frame_start_free(m);
		return (-1);
	}
	return (0);
}

/* Free what frame_decode_start() allocated. */
void
frame_start_free(struct frame_start *m)
{
	frame_values_free(&m->key);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

/* Decode FRAME_STOP. */
int
frame_decode_stop(const struct frame *f, char **cause)
{
	struct frame_rd rd;
	size_t n;
	int rc;

	if (frame_decode_begin(f, FRAME_STOP, &rd, cause) != 0)
		return (-1);
	rc = frame_rd_array(&rd, 0, 0, &n, "body");
	return (frame_decode_end(&rd, FRAME_STOP, rc, cause));
}

/* Decode FRAME_ERROR. */
int
frame_decode_error(const struct frame *f, struct frame_error *m, char **cause)
{
	struct frame_rd rd;
	uint64_t code;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_ERROR, &rd, cause) != 0)
		return (-1);
	rc = frame_rd_array(&rd, 2, 2, &n, "body");
	if (rc == 0)
		rc = frame_rd_uint(&rd, FRAME_ERROR_CODE_MAX, &code, "code");
	if (rc == 0 && code == 0)
		rc = frame_rd_fail(&rd, "code: 0 is not a code");
	if (rc == 0)
		rc = frame_rd_name(
		    &rd, 0, FRAME_MAX_MESSAGE, &m->message, "message");
	if (rc == 0)
		m->code = code;
	if (frame_decode_end(&rd, FRAME_ERROR, rc, cause) != 0) {
		frame_error_free(m);
		return (-1);
	}
	return (0);
}

/* Free what frame_decode_error() allocated. */
void
frame_error_free(struct frame_error *m)
{
	free(m->message);
	memset(m, 0, sizeof(*m));
}

/* Decode FRAME_PROGRESS. */
int
frame_decode_progress(
    const struct frame *f, struct frame_progress *m, char **cause)
{
	struct frame_rd rd;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_PROGRESS, &rd, cause) != 0)
		return (-1);
	rc = frame_rd_array(&rd, 3, 3, &n, "body");
	if (rc == 0)
		rc = frame_rd_uint(&rd, UINT64_MAX, &m->rows_done, "rows_done");
	if (rc == 0)
		rc = frame_rd_uint(
		    &rd, UINT64_MAX, &m->rows_estimate, "rows_estimate");
	if (rc == 0)
		rc = frame_rd_uint(&rd, UINT64_MAX, &m->lag_ms, "lag_ms");
	return (frame_decode_end(&rd, FRAME_PROGRESS, rc, cause));
}

/* Read one column of FRAME_SCHEMA. */
static int
frame_rd_column(struct frame_rd *rd, struct frame_column *c)
{
	uint64_t u[4] = { 0, 0, 0, 0 };
	int64_t maxlen = 0;
	size_t n;

	if (frame_rd_array(rd, 9, 9, &n, "column") != 0 ||
	    frame_rd_name(rd, 1, FRAME_MAX_NAME, &c->name, "name") != 0 ||
	    frame_rd_name(
		rd, 1, FRAME_MAX_TYPE_NAME, &c->type_name, "type_name") != 0 ||
	    frame_rd_uint(rd, INT32_MAX, &u[0], "type_id") != 0 ||
	    frame_rd_uint(rd, 255, &u[1], "precision") != 0 ||
	    frame_rd_uint(rd, 255, &u[2], "scale") != 0 ||
	    frame_rd_int(rd, -1, INT32_MAX, &maxlen, "max_length") != 0 ||
	    frame_rd_bool(rd, &c->nullable, "nullable") != 0 ||
	    frame_rd_uint(rd, FRAME_MAX_COLUMNS, &u[3], "key_ordinal") != 0 ||
	    frame_rd_bool(rd, &c->computed, "computed") != 0)
		return (-1);
	c->type_id = u[0];
	c->precision = u[1];
	c->scale = u[2];
	c->max_length = maxlen;
	c->key_ordinal = u[3];
	return (0);
}

/* Read the columns of FRAME_SCHEMA. */
static int
frame_rd_columns(struct frame_rd *rd, struct frame_schema *m)
{
	size_t i, j, n;

	if (frame_rd_array(rd, 1, FRAME_MAX_COLUMNS, &n, "columns") != 0)
		return (-1);
	m->columns = xcalloc(n, sizeof(*m->columns));
	m->ncolumns = n;
	for (i = 0; i < n; i++) {
		if (frame_rd_column(rd, &m->columns[i]) != 0)
			return (frame_rd_wrap(rd, "column %zu", i));
		for (j = 0; j < i; j++) {
			if (strcmp(m->columns[j].name, m->columns[i].name) == 0)
				return (frame_rd_fail(rd,
				    "column %zu: name %s "
				    "repeats column %zu",
				    i, m->columns[i].name, j));
		}
	}
	return (0);
}

/* Key ordinals must be 1..k, each once; k >= 1 except in batch mode. */
static int
frame_check_keys(struct frame_rd *rd, const struct frame_schema *m)
{
	size_t i, nkeys = 0;
	uint8_t *seen;
	uint32_t k;

	seen = xcalloc(m->ncolumns + 1, 1);
	for (i = 0; i < m->ncolumns; i++) {
		k = m->columns[i].key_ordinal;
		if (k == 0)
			continue;
		if (k > m->ncolumns || seen[k]) {
			free(seen);
			return (frame_rd_fail(rd,
			    "column %zu: key_ordinal %u "
			    "is out of place",
			    i, k));
		}
		seen[k] = 1;
		nkeys++;
	}
	for (i = 1; i <= nkeys; i++) {
		if (!seen[i]) {
			free(seen);
			return (
			    frame_rd_fail(rd, "key_ordinal %zu is missing", i));
		}
	}
	free(seen);
	if (nkeys == 0 && m->mode != FRAME_MODE_BATCH)
		return (frame_rd_fail(rd, "no primary key column"));
	return (0);
}

/* Decode FRAME_SCHEMA. */
int
frame_decode_schema(const struct frame *f, struct frame_schema *m, char **cause)
{
	struct frame_rd rd;
	uint64_t mode;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_SCHEMA, &rd, cause) != 0)
		return (-1);
	rc = frame_rd_array(&rd, 5, 5, &n, "body");
	if (rc == 0)
		rc = frame_rd_name(&rd, 1, FRAME_MAX_NAME, &m->db, "db");
	if (rc == 0)
		rc =
		    frame_rd_name(&rd, 1, FRAME_MAX_NAME, &m->schema, "schema");
	if (rc == 0)
		rc = frame_rd_name(&rd, 1, FRAME_MAX_NAME, &m->table, "table");
	if (rc == 0)
		rc = frame_rd_uint(&rd, FRAME_MODE_MAX, &mode, "mode");
	if (rc == 0 && mode < FRAME_MODE_CT)
		rc = frame_rd_fail(
		    &rd, "mode: %llu is not a mode", (unsigned long long)mode);
	if (rc == 0) {
		m->mode = mode;
		rc = frame_rd_columns(&rd, m);
	}
	if (rc == 0)
		rc = frame_check_keys(&rd, m);
	if (frame_decode_end(&rd, FRAME_SCHEMA, rc, cause) != 0) {
		frame_schema_free(m);
		return (-1);
	}
	return (0);
}

/* Start building a schema (the worker); strings are copied. */
void
frame_schema_init(struct frame_schema *m, const char *db, const char *schema,
    const char *table, enum frame_mode mode)
{
	memset(m, 0, sizeof(*m));
	m->db = xstrdup(db);
	m->schema = xstrdup(schema);
	m->table = xstrdup(table);
	m->mode = mode;
}

/* Append a copy of a column to a schema. */
void
frame_schema_add_column(struct frame_schema *m, const struct frame_column *c)
{
	struct frame_column *nc;

	m->columns =
	    xreallocarray(m->columns, m->ncolumns + 1, sizeof(*m->columns));
	nc = &m->columns[m->ncolumns++];
	*nc = *c;
	nc->name = xstrdup(c->name);
	nc->type_name = xstrdup(c->type_name);
}

/* Free a schema built by frame_schema_init() or frame_decode_schema(). */
void
frame_schema_free(struct frame_schema *m)
{
	size_t i;

	for (i = 0; i < m->ncolumns; i++) {
		free(m->columns[i].name);
		free(m->columns[i].type_name);
	}
	free(m->columns);
	free(m->db);
	free(m->schema);
	free(m->table);
	memset(m, 0, sizeof(*m));
}

/* Read an event position; its size depends on the mode (proto.h). */
static int
frame_rd_pos(
    struct frame_rd *rd, enum frame_mode mode, uint8_t *pos, size_t *lenp)
{
	const uint8_t *p = NULL;
	size_t min = 1, max = FRAME_MAX_POS;

	if (mode == FRAME_MODE_CT)
		min = max = FRAME_POS_CT_SIZE;
	else if (mode == FRAME_MODE_CDC)
		min = max = FRAME_POS_CDC_SIZE;
	if (frame_rd_bin(rd, min, max, &p, lenp, "pos") != 0)
		return (-1);
	memcpy(pos, p, *lenp);
	return (0);
}

/* Read one event of FRAME_EVENTS and append it. */
static int
frame_rd_event(struct frame_rd *rd, const struct frame_schema *schema,
    struct frame_events *m)
{
	struct frame_event *ev;
	uint8_t pos[FRAME_MAX_POS];
	char ts[FRAME_MAX_TS + 1];
	const uint8_t *p = NULL;
	uint64_t op;
	size_t n, poslen, tslen;
	int snapshot;

	if (frame_rd_array(rd, 6, 6, &n, "event") != 0 ||
	    frame_rd_uint(rd, 255, &op, "op") != 0)
		return (-1);
	if (op != FRAME_OP_CREATE && op != FRAME_OP_UPDATE &&
	    op != FRAME_OP_DELETE)
		return (frame_rd_fail(rd, "op: %llu is not an operation",
		    (unsigned long long)op));
	if (frame_rd_bool(rd, &snapshot, "snapshot") != 0 ||
	    frame_rd_pos(rd, schema->mode, pos, &poslen) != 0 ||
	    frame_rd_str(rd, 1, FRAME_MAX_TS, &p, &tslen, "ts") != 0)
		return (-1);
	if (memchr(p, '\0', tslen) != NULL)
		return (frame_rd_fail(rd, "ts: contains a NUL byte"));
	memcpy(ts, p, tslen);
	ts[tslen] = '\0';
	if (frame_rd_array(rd, m->ncolumns, m->ncolumns, &n, "values") != 0)
		return (-1);
	ev = frame_events_add(m, op, snapshot, pos, poslen, ts);
	if (frame_rd_values(rd, n, ev->values) != 0)
		return (-1);
	if (frame_rd_is_nil(rd))
		return (0);
	if (frame_rd_array(rd, m->ncolumns, m->ncolumns, &n, "before") != 0)
		return (-1);
	frame_events_add_before(m, ev);
	if (frame_rd_values(rd, n, ev->before) != 0)
		return (frame_rd_wrap(rd, "before"));
	return (0);
}

/* Events carry their key columns, and positions increase. */
static int
frame_check_event(struct frame_rd *rd, const struct frame_schema *schema,
    const struct frame_event *ev, const struct frame_event *prev)
{
	size_t i, len;
	int cmp;

	for (i = 0; i < schema->ncolumns; i++) {
		if (schema->columns[i].key_ordinal == 0)
			continue;
		if (ev->values[i].type == FRAME_VALUE_ABSENT ||
		    ev->values[i].type == FRAME_VALUE_NULL)
			return (frame_rd_fail(rd, "key column %s is %s",
			    schema->columns[i].name,
			    ev->values[i].type == FRAME_VALUE_NULL ? "NULL"
								   : "absent"));
	}
	if (ev->before != NULL && ev->op != FRAME_OP_UPDATE)
		return (
		    frame_rd_fail(rd, "before-image on a %c event", ev->op));
	if (prev == NULL)
		return (0);
	len = prev->poslen < ev->poslen ? prev->poslen : ev->poslen;
	cmp = memcmp(prev->pos, ev->pos, len);
	if (cmp > 0 || (cmp == 0 && prev->poslen >= ev->poslen))
		return (frame_rd_fail(rd,
		    "position is not after the previous "
		    "event's"));
	return (0);
}

/*
 * Decode FRAME_EVENTS against the table's schema (the last FRAME_SCHEMA
 * of this peer): every event has one value per column.
 */
int
frame_decode_events(const struct frame *f, const struct frame_schema *schema,
    struct frame_events *m, char **cause)
{
	struct frame_rd rd;
	struct frame_event *prev;
	size_t i, n;
	int rc;

	frame_events_init(m, schema->ncolumns);
	if (frame_decode_begin(f, FRAME_EVENTS, &rd, cause) != 0)
		return (-1);
	m->body = frame_copy_body(f, &rd);
	rc = frame_rd_array(&rd, 1, 1, &n, "body");
	if (rc == 0)
		rc = frame_rd_array(&rd, 0, FRAME_MAX_EVENTS, &n, "events");
	for (i = 0; rc == 0 && i < n; i++) {
		if (frame_rd_event(&rd, schema, m) != 0) {
			rc = frame_rd_wrap(&rd, "event %zu", i);
			break;
		}
		prev = i == 0 ? NULL : &m->events[i - 1];
		if (frame_check_event(&rd, schema, &m->events[i], prev) != 0)
			rc = frame_rd_wrap(&rd, "event %zu", i);
	}
	if (frame_decode_end(&rd, FRAME_EVENTS, rc, cause) != 0) {
		frame_events_free(m);
		return (-1);
	}
	return (0);
}

/* Start an empty batch of events for a table of ncolumns columns. */
void
frame_events_init(struct frame_events *m, size_t ncolumns)
{
	memset(m, 0, sizeof(*m));
	m->ncolumns = ncolumns;
}

/*
 * Append an event; its values are allocated, all absent.  The pointer
 * is valid until the next frame_events_add().
 */
struct frame_event *
frame_events_add(struct frame_events *m, enum frame_op op, int snapshot,
    const uint8_t *pos, size_t poslen, const char *ts)
{
	struct frame_event *ev;
	size_t tslen = strlen(ts);

	if (poslen > FRAME_MAX_POS || tslen > FRAME_MAX_TS)
		fatalx("%s: position of %zu or time of %zu bytes", __func__,
		    poslen, tslen);
	if (m->n == m->size) {
		m->size = m->size == 0 ? 16 : m->size * 2;
		m->events =
		    xreallocarray(m->events, m->size, sizeof(*m->events));
	}
	ev = &m->events[m->n++];
	memset(ev, 0, sizeof(*ev));
	ev->op = op;
	ev->snapshot = snapshot;
	if (poslen != 0)
		memcpy(ev->pos, pos, poslen);
	ev->poslen = poslen;
	memcpy(ev->ts, ts, tslen + 1);
	ev->values =
	    xcalloc(m->ncolumns == 0 ? 1 : m->ncolumns, sizeof(*ev->values));
	return (ev);
}

/* Give an event a before-image, all absent. */
void
frame_events_add_before(struct frame_events *m, struct frame_event *ev)
{
	if (ev->before == NULL)
		ev->before = xcalloc(
		    m->ncolumns == 0 ? 1 : m->ncolumns, sizeof(*ev->before));
}

/* Free a batch of events (values' strings are never owned by them). */
void
frame_events_free(struct frame_events *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->events[i].values);
		free(m->events[i].before);
	}
	free(m->events);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

/* Decode FRAME_WATERMARK. */
int
frame_decode_watermark(
    const struct frame *f, struct frame_watermark *m, char **cause)
{
	struct frame_rd rd;
	const uint8_t *pos;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_WATERMARK, &rd, cause) != 0)
		return (-1);
	m->body = frame_copy_body(f, &rd);
	rc = frame_rd_array(&rd, 3, 3, &n, "body");
	if (rc == 0)
		rc = frame_rd_bin(
		    &rd, 1, FRAME_MAX_POS, &pos, &m->poslen, "pos");
	if (rc == 0) {
		memcpy(m->pos, pos, m->poslen);
		rc = frame_rd_bin(&rd, 0, FRAME_MAX_CURSOR, &m->cursor,
		    &m->cursorlen, "cursor");
	}
	if (rc == 0)
		rc = frame_rd_key(&rd, &m->key);
	if (frame_decode_end(&rd, FRAME_WATERMARK, rc, cause) != 0) {
		frame_watermark_free(m);
		return (-1);
	}
	return (0);
}

/* Free what frame_decode_watermark() allocated. */
void
frame_watermark_free(struct frame_watermark *m)
{
	frame_values_free(&m->key);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

/* Decode FRAME_BACKFILL_DONE. */
int
frame_decode_backfill_done(
    const struct frame *f, struct frame_backfill_done *m, char **cause)
{
	struct frame_rd rd;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_BACKFILL_DONE, &rd, cause) != 0)
		return (-1);
	rc = frame_rd_array(&rd, 1, 1, &n, "body");
	if (rc == 0)
		rc = frame_rd_uint(&rd, UINT64_MAX, &m->rows, "rows");
	return (frame_decode_end(&rd, FRAME_BACKFILL_DONE, rc, cause));
}

/* Decode FRAME_CREDIT. */
int
frame_decode_credit(const struct frame *f, struct frame_credit *m, char **cause)
{
	struct frame_rd rd;
	uint64_t events = 0;
	size_t n;
	int rc;

	memset(m, 0, sizeof(*m));
	if (frame_decode_begin(f, FRAME_CREDIT, &rd, cause) != 0)
		return (-1);
	rc = frame_rd_array(&rd, 1, 1, &n, "body");
	if (rc == 0)
		rc = frame_rd_uint(&rd, UINT32_MAX, &events, "events");
	if (rc == 0 && events == 0)
		rc = frame_rd_fail(&rd, "events: a credit of 0");
	m->events = events;
	return (frame_decode_end(&rd, FRAME_CREDIT, rc, cause));
}

/*
 * Unpack a list of values packed by frame_values_pack() (the state
 * file's last key); the bytes are copied.
 */
int
frame_values_unpack(
    const uint8_t *buf, size_t len, struct frame_values *vals, char **cause)
{
	struct frame_rd rd;
	int rc;

	memset(vals, 0, sizeof(*vals));
	memset(&rd, 0, sizeof(rd));
	if (len == 0) {
		xasprintf(cause, "values: empty");
		return (-1);
	}
	vals->data = xmalloc(len);
	memcpy(vals->data, buf, len);
	rd.p = vals->data;
	rd.len = len;
	rc = frame_rd_array(&rd, 0, FRAME_MAX_COLUMNS, &vals->n, "values");
	if (rc == 0 && vals->n != 0) {
		vals->v = xcalloc(vals->n, sizeof(*vals->v));
		rc = frame_rd_values(&rd, vals->n, vals->v);
	}
	if (rc == 0 && rd.off != len)
		rc = frame_rd_fail(&rd, "%zu trailing bytes", len - rd.off);
	if (rc != 0) {
		xasprintf(cause, "values: %s", rd.err);
		frame_values_free(vals);
	}
	return (rc);
}

/* Free a list of values and its storage. */
void
frame_values_free(struct frame_values *vals)
{
	free(vals->v);
	free(vals->data);
	memset(vals, 0, sizeof(*vals));
}

/* ---- Incremental reader. ---- */

/* Create a reader accepting frames of up to max bytes (0: FRAME_MAX_SIZE). */
struct frame_reader *
frame_reader_create(size_t max)
{
	struct frame_reader *r;

	if (max == 0 || max > FRAME_MAX_SIZE)
		max = FRAME_MAX_SIZE;
	if (max < FRAME_HEADER_SIZE)
		max = FRAME_HEADER_SIZE;
	r = xcalloc(1, sizeof(*r));
	r->max = max;
	return (r);
}

/* Free a reader and whatever it buffered. */
void
frame_reader_free(struct frame_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

/* Make room for n more bytes, moving unread data to the front. */
static void
frame_reader_reserve(struct frame_reader *r, size_t n)
{
	size_t size;

	if (r->off != 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->size - r->len >= n)
		return;
	size = r->size == 0 ? 4096 : r->size;
	while (size - r->len < n)
		size *= 2;
	r->buf = xrealloc(r->buf, size);
	r->size = size;
}

/* Append bytes received from the peer. */
void
frame_reader_feed(struct frame_reader *r, const void *data, size_t len)
{
	if (len == 0)
		return;
	frame_reader_reserve(r, len);
	memcpy(r->buf + r->len, data, len);
	r->len += len;
}

/*
 * Read once from fd into the buffer.  Returns what read(2) returned:
 * 0 at EOF, -1 with errno set (EAGAIN included).
 */
ssize_t
frame_reader_read(struct frame_reader *r, int fd)
{
	ssize_t n;

	frame_reader_reserve(r, 65536);
	n = read(fd, r->buf + r->len, r->size - r->len);
	if (n > 0)
		r->len += n;
	return (n);
}

/*
 * Pop the next complete frame: 1 and *f filled (its body points into
 * the reader and is valid until the next call on it), 0 if more bytes
 * are needed, -1 and *cause if the stream is bad; the peer must then be
 * dropped.
 */
int
frame_reader_pop(struct frame_reader *r, struct frame *f, char **cause)
{
	size_t avail = r->len - r->off, total;

	if (avail < FRAME_HEADER_SIZE)
		return (0);
	frame_header_read(r->buf + r->off, &f->hdr);
	if (f->hdr.len > r->max - FRAME_HEADER_SIZE) {
		xasprintf(cause,
		    "%s: frame of %llu bytes is over the %zu "
		    "limit",
		    frame_type_name(f->hdr.type),
		    (unsigned long long)f->hdr.len + FRAME_HEADER_SIZE, r->max);
		return (-1);
	}
	total = FRAME_HEADER_SIZE + (size_t)f->hdr.len;
	if (avail < total)
		return (0);
	f->body = r->buf + r->off + FRAME_HEADER_SIZE;
	r->off += total;
	return (1);
}

/* Bytes buffered but not popped (a partial frame at EOF is an error). */
size_t
frame_reader_pending(const struct frame_reader *r)
{
	return (r->len - r->off);
}
