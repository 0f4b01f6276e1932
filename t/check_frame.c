/*
 * Unit tests for common/frame.c.
 *
 * The frame code sits on the trust boundary between the supervisor and
 * its workers, so most of these tests feed it bad input: each kind of
 * malformed frame must come back as -1 with a reason that names the
 * frame type and the bad element, never a crash or a read past the
 * body (the ASan build checks that part).  The rest prove that every
 * frame type survives encode -> decode unchanged, that what we encode
 * is plain msgpack (msgpack-c's own unpacker reads it), and that the
 * incremental reader gets the same frames whether bytes arrive all at
 * once, one at a time or through a socketpair.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "common.h"

/* A hand-built body for the malformed cases. */
struct body {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t *frame;
	struct frame f;
};

static void body_begin(struct body *);
static const struct frame *body_end(struct body *, uint32_t, uint32_t);
static void body_free(struct body *);
static void pack_cstr(msgpack_packer *, const char *);
static void pack_bin(msgpack_packer *, const void *, size_t);
static void make_schema(struct frame_schema *, enum frame_mode);
static void set_int(struct frame_value *, int64_t);
static void set_str(struct frame_value *, const char *);
static void set_bin(struct frame_value *, const void *, size_t);
static void ct_pos(uint8_t *, uint64_t, uint64_t);
static void fill_row(struct frame_value *, int64_t);
static void values_equal(
    const struct frame_value *, const struct frame_value *, size_t);
static void parse_packed(uint8_t *, size_t, uint32_t, struct frame *);
static void expect_events_error(
    const struct frame_schema *, const struct frame *, const char *);
static void pack_event_head(msgpack_packer *, int, uint64_t);
static void pack_row(msgpack_packer *, size_t, int64_t);
static uint8_t *three_frames(size_t *, const struct frame_schema *);
static int pop_all(struct frame_reader *, const struct frame_schema *, int *);

/* Start building a body. */
static void
body_begin(struct body *b)
{
	memset(b, 0, sizeof(*b));
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

/* Wrap the body in a header and parse it into b->f. */
static const struct frame *
body_end(struct body *b, uint32_t type, uint32_t peerid)
{
	struct frame_header hdr = { type, b->sb.size, peerid, 4242 };
	char *cause = NULL;

	b->frame = xmalloc(FRAME_HEADER_SIZE + b->sb.size + 1);
	frame_header_write(b->frame, &hdr);
	if (b->sb.size != 0)
		memcpy(b->frame + FRAME_HEADER_SIZE, b->sb.data, b->sb.size);
	ck_assert_int_eq(frame_parse(b->frame, FRAME_HEADER_SIZE + b->sb.size,
			     &b->f, &cause),
	    0);
	return (&b->f);
}

/* Free a body. */
static void
body_free(struct body *b)
{
	msgpack_sbuffer_destroy(&b->sb);
	free(b->frame);
}

/* Pack a C string. */
static void
pack_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* Pack bytes. */
static void
pack_bin(msgpack_packer *pk, const void *p, size_t len)
{
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, p, len);
}

/*
 * Eight columns: id (key), name, price, data, flag, r, f, note; in ct
 * or cdc mode.
 */
static void
make_schema(struct frame_schema *s, enum frame_mode mode)
{
	static const struct {
		const char *name, *type;
		uint32_t id, prec, scale;
		int32_t maxlen;
		int nullable;
		uint32_t key;
	} cols[] = { { "id", "int", 56, 10, 0, 4, 0, 1 },
		{ "name", "nvarchar", 231, 0, 0, 200, 0, 0 },
		{ "price", "decimal", 106, 18, 4, 9, 1, 0 },
		{ "data", "varbinary", 165, 0, 0, -1, 1, 0 },
		{ "flag", "bit", 104, 1, 0, 1, 1, 0 },
		{ "r", "real", 59, 24, 0, 4, 1, 0 },
		{ "f", "float", 62, 53, 0, 8, 1, 0 },
		{ "note", "nvarchar", 231, 0, 0, -1, 1, 0 } };
	struct frame_column c;
	size_t i;

	frame_schema_init(s, "shop", "dbo", "orders", mode);
	for (i = 0; i < sizeof(cols) / sizeof(*cols); i++) {
		memset(&c, 0, sizeof(c));
		c.name = (char *)cols[i].name;
		c.type_name = (char *)cols[i].type;
		c.type_id = cols[i].id;
		c.precision = cols[i].prec;
		c.scale = cols[i].scale;
		c.max_length = cols[i].maxlen;
		c.nullable = cols[i].nullable;
		c.key_ordinal = cols[i].key;
		c.computed = i == 7;
		frame_schema_add_column(s, &c);
	}
}

static void
set_int(struct frame_value *v, int64_t i)
{
	v->type = FRAME_VALUE_INT;
	v->v.i = i;
}

static void
set_str(struct frame_value *v, const char *s)
{
	v->type = FRAME_VALUE_STR;
	v->v.s.ptr = (const uint8_t *)s;
	v->v.s.len = strlen(s);
}

static void
set_bin(struct frame_value *v, const void *p, size_t len)
{
	v->type = FRAME_VALUE_BIN;
	v->v.s.ptr = p;
	v->v.s.len = len;
}

/* A ct position: version and ordinal, big-endian. */
static void
ct_pos(uint8_t *pos, uint64_t version, uint64_t ordinal)
{
	int i;

	for (i = 0; i < 8; i++) {
		pos[i] = version >> (56 - 8 * i);
		pos[8 + i] = ordinal >> (56 - 8 * i);
	}
}

/* One row of every value type for make_schema()'s columns. */
static void
fill_row(struct frame_value *v, int64_t id)
{
	static const uint8_t data[] = { 0, 1, 2, 0xff };

	set_int(&v[0], id);
	set_str(&v[1], "caf\xc3\xa9 \"quoted\"");
	set_str(&v[2], "-12.3400");
	set_bin(&v[3], data, sizeof(data));
	v[4].type = FRAME_VALUE_BOOL;
	v[4].v.b = 1;
	v[5].type = FRAME_VALUE_REAL;
	v[5].v.real = 0.1f;
	v[6].type = FRAME_VALUE_FLOAT;
	v[6].v.flt = -1.5e-300;
	v[7].type = FRAME_VALUE_NULL;
}

/* Two value arrays hold the same values. */
static void
values_equal(const struct frame_value *a, const struct frame_value *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(a[i].type, b[i].type);
		switch (a[i].type) {
		case FRAME_VALUE_INT:
			ck_assert_int_eq(a[i].v.i, b[i].v.i);
			break;
		case FRAME_VALUE_BOOL:
			ck_assert_int_eq(a[i].v.b, b[i].v.b);
			break;
		case FRAME_VALUE_REAL:
			ck_assert(a[i].v.real == b[i].v.real);
			break;
		case FRAME_VALUE_FLOAT:
			ck_assert(a[i].v.flt == b[i].v.flt);
			break;
		case FRAME_VALUE_STR:
		case FRAME_VALUE_BIN:
			ck_assert_uint_eq(a[i].v.s.len, b[i].v.s.len);
			ck_assert(memcmp(a[i].v.s.ptr, b[i].v.s.ptr,
				      a[i].v.s.len) == 0);
			break;
		default:
			break;
		}
	}
}

/* Parse a packed frame and check its type. */
static void
parse_packed(uint8_t *buf, size_t len, uint32_t type, struct frame *f)
{
	char *cause = NULL;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(frame_parse(buf, len, f, &cause), 0);
	ck_assert_uint_eq(f->hdr.type, type);
	ck_assert_uint_eq(f->hdr.peerid, 7);
	ck_assert_uint_eq(f->hdr.pid, 99);
}

/* Decoding these events fails with exactly this reason. */
static void
expect_events_error(
    const struct frame_schema *s, const struct frame *f, const char *want)
{
	struct frame_events evs;
	char *cause = NULL;

	ck_assert_int_eq(frame_decode_events(f, s, &evs, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	ck_assert_ptr_null(evs.events);
	free(cause);
}

/* Pack the first four fields of a ct event at version v. */
static void
pack_event_head(msgpack_packer *pk, int nfields, uint64_t v)
{
	uint8_t pos[16];

	ct_pos(pos, v, 0);
	msgpack_pack_array(pk, nfields);
	msgpack_pack_unsigned_int(pk, 'c');
	msgpack_pack_false(pk);
	pack_bin(pk, pos, sizeof(pos));
	pack_cstr(pk, "2026-01-02T03:04:05Z");
}

/* Pack a row of n ints. */
static void
pack_row(msgpack_packer *pk, size_t n, int64_t id)
{
	size_t i;

	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		msgpack_pack_int64(pk, id + i);
}

/* The header is 16 little-endian bytes. */
START_TEST(test_header_wire)
{
	struct frame_header hdr = { FRAME_EVENTS, 0x01020304, 7, 0xa0b0c0d0 },
			    back;
	uint8_t p[FRAME_HEADER_SIZE];
	static const uint8_t want[FRAME_HEADER_SIZE] = { 201, 0, 0, 0, 4, 3, 2,
		1, 7, 0, 0, 0, 0xd0, 0xc0, 0xb0, 0xa0 };

	frame_header_write(p, &hdr);
	ck_assert(memcmp(p, want, sizeof(want)) == 0);
	frame_header_read(p, &back);
	ck_assert(memcmp(&hdr, &back, sizeof(hdr)) == 0);
}
END_TEST

/* Every type has a name; others are unknown. */
START_TEST(test_type_names)
{
	ck_assert_str_eq(frame_type_name(FRAME_HELLO), "FRAME_HELLO");
	ck_assert_str_eq(frame_type_name(FRAME_EVENTS), "FRAME_EVENTS");
	ck_assert_str_eq(frame_type_name(FRAME_CREDIT), "FRAME_CREDIT");
	ck_assert_str_eq(frame_type_name(999), "FRAME_UNKNOWN");
	ck_assert(frame_type_valid(FRAME_BACKFILL_DONE));
	ck_assert(!frame_type_valid(0));
	ck_assert(!frame_type_valid(105));
	ck_assert_str_eq(frame_phase_name(FRAME_PHASE_STREAMING), "streaming");
	ck_assert_str_eq(frame_mode_name(FRAME_MODE_CDC), "cdc");
}
END_TEST

/* HELLO, STOP, ERROR, PROGRESS, BACKFILL_DONE, CREDIT round trip. */
START_TEST(test_roundtrip_control)
{
	struct frame_hello h = { PROTOCOL_VERSION, 7 }, h2;
	struct frame_error e = { FRAME_ERROR_FAILED, "table dbo.x dropped" },
			   e2;
	struct frame_progress p = { 1000, 50000, 250 }, p2;
	struct frame_backfill_done d = { UINT64_MAX }, d2;
	struct frame_credit c = { 5000 }, c2;
	struct frame f;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	buf = frame_pack_hello(&h, 7, 99, &len);
	parse_packed(buf, len, FRAME_HELLO, &f);
	ck_assert_int_eq(frame_decode_hello(&f, &h2, &cause), 0);
	ck_assert_uint_eq(h2.version, PROTOCOL_VERSION);
	ck_assert_uint_eq(h2.binding_id, 7);
	free(buf);

	buf = frame_pack_stop(7, 99, &len);
	parse_packed(buf, len, FRAME_STOP, &f);
	ck_assert_uint_eq(f.hdr.len, 1);
	ck_assert_int_eq(frame_decode_stop(&f, &cause), 0);
	free(buf);

	buf = frame_pack_error(&e, 7, 99, &len);
	parse_packed(buf, len, FRAME_ERROR, &f);
	ck_assert_int_eq(frame_decode_error(&f, &e2, &cause), 0);
	ck_assert_int_eq(e2.code, FRAME_ERROR_FAILED);
	ck_assert_str_eq(e2.message, "table dbo.x dropped");
	frame_error_free(&e2);
	free(buf);
	e.message = "";
	buf = frame_pack_error(&e, 7, 99, &len);
	parse_packed(buf, len, FRAME_ERROR, &f);
	ck_assert_int_eq(frame_decode_error(&f, &e2, &cause), 0);
	ck_assert_str_eq(e2.message, "");
	frame_error_free(&e2);
	free(buf);

	buf = frame_pack_progress(&p, 7, 99, &len);
	parse_packed(buf, len, FRAME_PROGRESS, &f);
	ck_assert_int_eq(frame_decode_progress(&f, &p2, &cause), 0);
	ck_assert(memcmp(&p, &p2, sizeof(p)) == 0);
	free(buf);

	buf = frame_pack_backfill_done(&d, 7, 99, &len);
	parse_packed(buf, len, FRAME_BACKFILL_DONE, &f);
	ck_assert_int_eq(frame_decode_backfill_done(&f, &d2, &cause), 0);
	ck_assert(d2.rows == UINT64_MAX);
	free(buf);

	buf = frame_pack_credit(&c, 7, 99, &len);
	parse_packed(buf, len, FRAME_CREDIT, &f);
	ck_assert_int_eq(frame_decode_credit(&f, &c2, &cause), 0);
	ck_assert_uint_eq(c2.events, 5000);
	free(buf);
}
END_TEST

/* START and WATERMARK with and without a key. */
START_TEST(test_roundtrip_start_watermark)
{
	struct frame_value keyv[2];
	struct frame_start s, s2;
	struct frame_watermark w, w2;
	struct frame f;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	memset(&s, 0, sizeof(s));
	s.phase = FRAME_PHASE_STREAMING;
	s.cursor = (const uint8_t *)"\x00\x00\x00\x2a";
	s.cursorlen = 4;
	s.flags = FRAME_START_ONCE;
	buf = frame_pack_start(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_START, &f);
	ck_assert_int_eq(frame_decode_start(&f, &s2, &cause), 0);
	free(buf); /* the decoded struct owns a copy */
	ck_assert_int_eq(s2.phase, FRAME_PHASE_STREAMING);
	ck_assert_uint_eq(s2.cursorlen, 4);
	ck_assert(memcmp(s2.cursor, "\x00\x00\x00\x2a", 4) == 0);
	ck_assert_uint_eq(s2.key.n, 0);
	ck_assert_uint_eq(s2.flags, FRAME_START_ONCE);
	frame_start_free(&s2);

	set_int(&keyv[0], -5);
	set_str(&keyv[1], "k\xc3\xa9y");
	s.phase = FRAME_PHASE_BACKFILL;
	s.key.v = keyv;
	s.key.n = 2;
	s.flags = 0;
	buf = frame_pack_start(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_START, &f);
	ck_assert_int_eq(frame_decode_start(&f, &s2, &cause), 0);
	free(buf);
	ck_assert_uint_eq(s2.key.n, 2);
	values_equal(keyv, s2.key.v, 2);
	ck_assert_uint_eq(s2.flags, 0);
	frame_start_free(&s2);

	/* Unknown flags are refused. */
	s.flags = 0x80;
	buf = frame_pack_start(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_START, &f);
	ck_assert_int_eq(frame_decode_start(&f, &s2, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "flags"));
	free(cause);
	cause = NULL;
	free(buf);

	memset(&w, 0, sizeof(w));
	ct_pos(w.pos, 42, 7);
	w.poslen = 16;
	w.cursor = (const uint8_t *)"cur";
	w.cursorlen = 3;
	w.key.v = keyv;
	w.key.n = 2;
	buf = frame_pack_watermark(&w, 7, 99, &len);
	parse_packed(buf, len, FRAME_WATERMARK, &f);
	ck_assert_int_eq(frame_decode_watermark(&f, &w2, &cause), 0);
	free(buf);
	ck_assert_uint_eq(w2.poslen, 16);
	ck_assert(memcmp(w2.pos, w.pos, 16) == 0);
	ck_assert_uint_eq(w2.cursorlen, 3);
	ck_assert(memcmp(w2.cursor, "cur", 3) == 0);
	values_equal(keyv, w2.key.v, 2);
	frame_watermark_free(&w2);
}
END_TEST

/* SCHEMA round trip, every column field. */
START_TEST(test_roundtrip_schema)
{
	struct frame_schema s, s2;
	struct frame f;
	uint8_t *buf;
	size_t i, len;
	char *cause = NULL;

	make_schema(&s, FRAME_MODE_CDC);
	buf = frame_pack_schema(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_SCHEMA, &f);
	ck_assert_int_eq(frame_decode_schema(&f, &s2, &cause), 0);
	free(buf);
	ck_assert_str_eq(s2.db, "shop");
	ck_assert_str_eq(s2.schema, "dbo");
	ck_assert_str_eq(s2.table, "orders");
	ck_assert_int_eq(s2.mode, FRAME_MODE_CDC);
	ck_assert_uint_eq(s2.ncolumns, s.ncolumns);
	for (i = 0; i < s.ncolumns; i++) {
		ck_assert_str_eq(s2.columns[i].name, s.columns[i].name);
		ck_assert_str_eq(
		    s2.columns[i].type_name, s.columns[i].type_name);
		ck_assert_uint_eq(s2.columns[i].type_id, s.columns[i].type_id);
		ck_assert_uint_eq(
		    s2.columns[i].precision, s.columns[i].precision);
		ck_assert_uint_eq(s2.columns[i].scale, s.columns[i].scale);
		ck_assert_int_eq(
		    s2.columns[i].max_length, s.columns[i].max_length);
		ck_assert_int_eq(s2.columns[i].nullable, s.columns[i].nullable);
		ck_assert_uint_eq(
		    s2.columns[i].key_ordinal, s.columns[i].key_ordinal);
		ck_assert_int_eq(s2.columns[i].computed, s.columns[i].computed);
	}
	frame_schema_free(&s2);
	frame_schema_free(&s);
}
END_TEST

/* EVENTS round trip: every value type, absent, before-images. */
START_TEST(test_roundtrip_events)
{
	struct frame_schema s;
	struct frame_events evs, evs2;
	struct frame_event *ev;
	struct frame f;
	uint8_t pos[16], *buf;
	size_t i, len;
	char *cause = NULL;

	make_schema(&s, FRAME_MODE_CT);
	frame_events_init(&evs, s.ncolumns);
	for (i = 0; i < 40; i++) {
		ct_pos(pos, 100 + i, i);
		ev = frame_events_add(&evs,
		    i % 3 == 0       ? FRAME_OP_CREATE
			: i % 3 == 1 ? FRAME_OP_UPDATE
				     : FRAME_OP_DELETE,
		    i < 10, pos, 16, "2026-01-02T03:04:05.1234567Z");
		if (ev->op == FRAME_OP_DELETE) {
			set_int(&ev->values[0], i); /* key only */
			continue;
		}
		fill_row(ev->values, i);
		if (ev->op == FRAME_OP_UPDATE) {
			frame_events_add_before(&evs, ev);
			fill_row(ev->before, i);
			set_str(&ev->before[1], "old");
		}
	}
	buf = frame_pack_events(&evs, 7, 99, &len);
	parse_packed(buf, len, FRAME_EVENTS, &f);
	ck_assert_int_eq(frame_decode_events(&f, &s, &evs2, &cause), 0);
	free(buf);
	ck_assert_uint_eq(evs2.n, 40);
	for (i = 0; i < evs.n; i++) {
		ck_assert_int_eq(evs2.events[i].op, evs.events[i].op);
		ck_assert_int_eq(
		    evs2.events[i].snapshot, evs.events[i].snapshot);
		ck_assert_uint_eq(evs2.events[i].poslen, 16);
		ck_assert(
		    memcmp(evs2.events[i].pos, evs.events[i].pos, 16) == 0);
		ck_assert_str_eq(evs2.events[i].ts, evs.events[i].ts);
		values_equal(
		    evs.events[i].values, evs2.events[i].values, s.ncolumns);
		ck_assert_int_eq(evs2.events[i].before == NULL,
		    evs.events[i].before == NULL);
		if (evs.events[i].before != NULL)
			values_equal(evs.events[i].before,
			    evs2.events[i].before, s.ncolumns);
	}
	ck_assert_int_eq(evs2.events[2].values[1].type, FRAME_VALUE_ABSENT);
	frame_events_free(&evs2);
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

/* What we encode is ordinary msgpack: msgpack-c reads it whole. */
START_TEST(test_encoding_is_msgpack)
{
	struct frame_schema s;
	struct frame_events evs;
	struct frame_event *ev;
	msgpack_unpacked u;
	uint8_t pos[16], *buf;
	size_t len, off = 0;

	make_schema(&s, FRAME_MODE_CT);
	frame_events_init(&evs, s.ncolumns);
	ct_pos(pos, 1, 1);
	ev = frame_events_add(&evs, FRAME_OP_CREATE, 0, pos, 16, "t");
	fill_row(ev->values, 1);
	buf = frame_pack_events(&evs, 7, 99, &len);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(
	    msgpack_unpack_next(&u, (const char *)buf + FRAME_HEADER_SIZE,
		len - FRAME_HEADER_SIZE, &off),
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, len - FRAME_HEADER_SIZE);
	ck_assert_int_eq(u.data.type, MSGPACK_OBJECT_ARRAY);
	ck_assert_int_eq(u.data.via.array.ptr[0].type, MSGPACK_OBJECT_ARRAY);
	ck_assert_int_eq(u.data.via.array.ptr[0]
			     .via.array.ptr[0]
			     .via.array.ptr[4]
			     .via.array.ptr[5]
			     .type,
	    MSGPACK_OBJECT_FLOAT32);
	msgpack_unpacked_destroy(&u);
	free(buf);
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

/* A buffer shorter than a header. */
START_TEST(test_bad_truncated_header)
{
	uint8_t buf[10] = { 0 };
	struct frame f;
	char *cause = NULL;

	ck_assert_int_eq(frame_parse(buf, sizeof(buf), &f, &cause), -1);
	ck_assert_str_eq(cause, "truncated header: 10 of 16 bytes");
	free(cause);
}
END_TEST

/* The header's length disagrees with the buffer. */
START_TEST(test_bad_length_mismatch)
{
	struct frame_credit c = { 1 };
	struct frame f;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	buf = frame_pack_credit(&c, 7, 99, &len);
	ck_assert_int_eq(frame_parse(buf, len - 1, &f, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_CREDIT: length mismatch: header says "
	    "2, body is 1 bytes");
	free(cause);
	free(buf);
}
END_TEST

/* A body cut short inside the msgpack. */
START_TEST(test_bad_truncated_body)
{
	struct body b;
	const struct frame *f;
	struct frame_hello h;
	char *cause = NULL;

	body_begin(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint32(&b.pk, PROTOCOL_VERSION);
	msgpack_pack_uint32(&b.pk, 0x10000); /* ce 00 01 00 00 */
	b.sb.size -= 2;
	f = body_end(&b, FRAME_HELLO, 7);
	ck_assert_int_eq(frame_decode_hello(f, &h, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_HELLO: binding_id: truncated: 4 bytes "
	    "needed at offset 3, 2 left");
	free(cause);
	body_free(&b);
}
END_TEST

/* Wrong msgpack types, at the top and inside. */
START_TEST(test_bad_wrong_type)
{
	struct body b;
	const struct frame *f;
	struct frame_hello h;
	struct frame_credit c;
	char *cause = NULL;

	body_begin(&b);
	msgpack_pack_map(&b.pk, 0);
	f = body_end(&b, FRAME_CREDIT, 7);
	ck_assert_int_eq(frame_decode_credit(f, &c, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_CREDIT: body: expected array, got "
	    "msgpack map");
	free(cause);
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 2);
	pack_cstr(&b.pk, "1");
	msgpack_pack_uint32(&b.pk, 7);
	f = body_end(&b, FRAME_HELLO, 7);
	ck_assert_int_eq(frame_decode_hello(f, &h, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_HELLO: version: expected uint, got "
	    "msgpack str");
	free(cause);
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_int32(&b.pk, -3);
	f = body_end(&b, FRAME_CREDIT, 7);
	ck_assert_int_eq(frame_decode_credit(f, &c, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_CREDIT: events: -3 is negative");
	free(cause);
	body_free(&b);
}
END_TEST

/* Bytes after the one object. */
START_TEST(test_bad_trailing)
{
	struct body b;
	const struct frame *f;
	char *cause = NULL;

	body_begin(&b);
	msgpack_pack_array(&b.pk, 0);
	msgpack_pack_nil(&b.pk);
	f = body_end(&b, FRAME_STOP, 7);
	ck_assert_int_eq(frame_decode_stop(f, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_STOP: 1 trailing bytes after the body");
	free(cause);
	body_free(&b);
}
END_TEST

/* Wrong frame type, empty body, unknown protocol, wrong peer, credit 0. */
START_TEST(test_bad_semantics_control)
{
	struct body b;
	const struct frame *f;
	struct frame_hello h;
	struct frame_credit c;
	struct frame_error e;
	char *cause = NULL, want[80];

	body_begin(&b);
	f = body_end(&b, FRAME_STOP, 7);
	ck_assert_int_eq(frame_decode_credit(f, &c, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_CREDIT: got a FRAME_STOP frame");
	free(cause);
	ck_assert_int_eq(frame_decode_stop(f, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_STOP: body: truncated: 1 bytes needed "
	    "at offset 0, 0 left");
	free(cause);
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint32(&b.pk, PROTOCOL_VERSION + 1);
	msgpack_pack_uint32(&b.pk, 7);
	f = body_end(&b, FRAME_HELLO, 7);
	ck_assert_int_eq(frame_decode_hello(f, &h, &cause), -1);
	snprintf(want, sizeof(want),
	    "FRAME_HELLO: protocol version %d, expected %d",
	    PROTOCOL_VERSION + 1, PROTOCOL_VERSION);
	ck_assert_str_eq(cause, want);
	free(cause);
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint32(&b.pk, PROTOCOL_VERSION);
	msgpack_pack_uint32(&b.pk, 8);
	f = body_end(&b, FRAME_HELLO, 7);
	ck_assert_int_eq(frame_decode_hello(f, &h, &cause), -1);
	ck_assert_str_eq(
	    cause, "FRAME_HELLO: binding_id 8 but header peerid 7");
	free(cause);
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_uint32(&b.pk, 0);
	f = body_end(&b, FRAME_CREDIT, 7);
	ck_assert_int_eq(frame_decode_credit(f, &c, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_CREDIT: events: a credit of 0");
	free(cause);
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint32(&b.pk, 9);
	pack_cstr(&b.pk, "x");
	f = body_end(&b, FRAME_ERROR, 7);
	ck_assert_int_eq(frame_decode_error(f, &e, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_ERROR: code: 9 is over 2");
	ck_assert_ptr_null(e.message);
	free(cause);
	body_free(&b);
}
END_TEST

/* Raw bytes msgpack forbids or that lie about their size. */
START_TEST(test_bad_raw_msgpack)
{
	static const struct {
		uint8_t body[8];
		size_t len;
		const char *want;
	} cases[] = {
		{ { 0xc1 }, 1, "FRAME_STOP: body: invalid msgpack byte 0xc1" },
		{ { 0xdd, 0xff, 0xff, 0xff, 0xff }, 5,
		    "FRAME_STOP: body: expected 0 elements, got 4294967295" },
		{ { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' }, 6,
		    "FRAME_STOP: body: truncated: 4294967295 bytes needed at "
		    "offset 5, 1 left" },
		{ { 0x91, 0xdd, 0x7f, 0xff, 0xff, 0xff }, 6,
		    "FRAME_CREDIT: events: expected uint, got msgpack array" },
	};
	struct frame_header hdr;
	struct frame f;
	struct frame_credit c;
	uint8_t buf[FRAME_HEADER_SIZE + 8];
	size_t i;
	char *cause = NULL;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		hdr.type = i < 3 ? FRAME_STOP : FRAME_CREDIT;
		hdr.len = cases[i].len;
		hdr.peerid = 7;
		hdr.pid = 1;
		frame_header_write(buf, &hdr);
		memcpy(buf + FRAME_HEADER_SIZE, cases[i].body, cases[i].len);
		ck_assert_int_eq(
		    frame_parse(
			buf, FRAME_HEADER_SIZE + cases[i].len, &f, &cause),
		    0);
		if (i < 3)
			rc = frame_decode_stop(&f, &cause);
		else
			rc = frame_decode_credit(&f, &c, &cause);
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(cause, cases[i].want);
		free(cause);
	}
}
END_TEST

/* An event value of a type no column can have: the documented reason. */
START_TEST(test_bad_value_type)
{
	struct frame_schema s;
	struct body b;
	const struct frame *f;
	size_t i, j;

	make_schema(&s, FRAME_MODE_CT);
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 4);
	for (i = 0; i < 4; i++) {
		pack_event_head(&b.pk, 6, 10 + i);
		msgpack_pack_array(&b.pk, s.ncolumns);
		for (j = 0; j < s.ncolumns; j++) {
			if (i == 3 && j == 7)
				msgpack_pack_map(&b.pk, 0);
			else
				msgpack_pack_int64(&b.pk, j);
		}
		msgpack_pack_nil(&b.pk);
	}
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 3: value 7: unexpected msgpack type map");
	body_free(&b);

	/* A count larger than the bytes left allocates nothing. */
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_sbuffer_write(&b.sb, "\xdd\x00\x01\x00\x00", 5);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(
	    &s, f, "FRAME_EVENTS: events: 65536 elements but 0 bytes left");
	body_free(&b);
	frame_schema_free(&s);
}
END_TEST

/* Values that do not match the schema's column count. */
START_TEST(test_bad_values_count)
{
	struct frame_schema s;
	struct body b;
	const struct frame *f;

	make_schema(&s, FRAME_MODE_CT);
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	pack_event_head(&b.pk, 6, 1);
	pack_row(&b.pk, s.ncolumns - 1, 1);
	msgpack_pack_nil(&b.pk);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(
	    &s, f, "FRAME_EVENTS: event 0: values: expected 8 elements, got 7");
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	pack_event_head(&b.pk, 6, 1);
	pack_row(&b.pk, s.ncolumns, 1);
	pack_row(&b.pk, s.ncolumns + 1, 1);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(
	    &s, f, "FRAME_EVENTS: event 0: before: expected 8 elements, got 9");
	body_free(&b);
	frame_schema_free(&s);
}
END_TEST

/* Events that are well-formed msgpack but wrong for the table. */
START_TEST(test_bad_event_semantics)
{
	struct frame_schema s;
	struct body b;
	const struct frame *f;
	size_t j;

	make_schema(&s, FRAME_MODE_CT);

	/* Positions must increase. */
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 2);
	pack_event_head(&b.pk, 6, 5);
	pack_row(&b.pk, s.ncolumns, 1);
	msgpack_pack_nil(&b.pk);
	pack_event_head(&b.pk, 6, 5);
	pack_row(&b.pk, s.ncolumns, 2);
	msgpack_pack_nil(&b.pk);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 1: position is not "
	    "after the previous event's");
	body_free(&b);

	/* A ct position is 16 bytes. */
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 6);
	msgpack_pack_unsigned_int(&b.pk, 'u');
	msgpack_pack_false(&b.pk);
	pack_bin(&b.pk, "12345678", 8);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 0: pos: 8 bytes, not "
	    "in 16..16");
	body_free(&b);

	/* Unknown operation. */
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 6);
	msgpack_pack_unsigned_int(&b.pk, 'x');
	msgpack_pack_false(&b.pk);
	pack_bin(&b.pk, "0123456789abcdef", 16);
	pack_cstr(&b.pk, "t");
	pack_row(&b.pk, s.ncolumns, 1);
	msgpack_pack_nil(&b.pk);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 0: op: 120 is not an "
	    "operation");
	body_free(&b);

	/* The key column must be there: absent (ext 1). */
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	pack_event_head(&b.pk, 6, 1);
	msgpack_pack_array(&b.pk, s.ncolumns);
	msgpack_pack_ext(&b.pk, 0, FRAME_EXT_ABSENT);
	for (j = 1; j < s.ncolumns; j++)
		msgpack_pack_nil(&b.pk);
	msgpack_pack_nil(&b.pk);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 0: key column id is "
	    "absent");
	body_free(&b);

	/* A before-image only on updates; other ext types refused. */
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	pack_event_head(&b.pk, 6, 1);
	pack_row(&b.pk, s.ncolumns, 1);
	pack_row(&b.pk, s.ncolumns, 1);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 0: before-image on a "
	    "c event");
	body_free(&b);

	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	pack_event_head(&b.pk, 6, 1);
	msgpack_pack_array(&b.pk, s.ncolumns);
	msgpack_pack_int64(&b.pk, 1);
	msgpack_pack_ext_with_body(&b.pk, "abcd", 4, 5);
	for (j = 2; j <= s.ncolumns; j++)
		msgpack_pack_nil(&b.pk);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 0: value 1: "
	    "unexpected msgpack ext type 5 of 4 bytes");
	body_free(&b);

	/* bigint range. */
	body_begin(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_array(&b.pk, 1);
	pack_event_head(&b.pk, 6, 1);
	msgpack_pack_array(&b.pk, s.ncolumns);
	msgpack_pack_uint64(&b.pk, UINT64_MAX);
	for (j = 1; j <= s.ncolumns; j++)
		msgpack_pack_nil(&b.pk);
	f = body_end(&b, FRAME_EVENTS, 7);
	expect_events_error(&s, f,
	    "FRAME_EVENTS: event 0: value 0: integer "
	    "18446744073709551615 is out of range");
	body_free(&b);

	frame_schema_free(&s);
}
END_TEST

/* Schemas that cannot describe a table. */
START_TEST(test_bad_schema)
{
	struct frame_schema s, s2;
	struct frame f;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	/* Two columns with one name. */
	make_schema(&s, FRAME_MODE_CT);
	free(s.columns[3].name);
	s.columns[3].name = xstrdup("name");
	buf = frame_pack_schema(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_SCHEMA, &f);
	ck_assert_int_eq(frame_decode_schema(&f, &s2, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_SCHEMA: column 3: name name repeats "
	    "column 1");
	ck_assert_ptr_null(s2.columns);
	free(cause);
	free(buf);

	/* No key in ct mode (fine in batch mode). */
	s.columns[3].name[0] = 'N';
	s.columns[0].key_ordinal = 0;
	buf = frame_pack_schema(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_SCHEMA, &f);
	ck_assert_int_eq(frame_decode_schema(&f, &s2, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_SCHEMA: no primary key column");
	free(cause);
	free(buf);
	s.mode = FRAME_MODE_BATCH;
	buf = frame_pack_schema(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_SCHEMA, &f);
	ck_assert_int_eq(frame_decode_schema(&f, &s2, &cause), 0);
	frame_schema_free(&s2);
	free(buf);

	/* Key ordinals 1 and 3 but no 2. */
	s.columns[0].key_ordinal = 1;
	s.columns[2].key_ordinal = 3;
	buf = frame_pack_schema(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_SCHEMA, &f);
	ck_assert_int_eq(frame_decode_schema(&f, &s2, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_SCHEMA: key_ordinal 2 is missing");
	free(cause);
	free(buf);

	/* A mode out of range. */
	s.columns[2].key_ordinal = 0;
	free(s.db);
	s.db = xstrdup("x");
	s.mode = 4;
	buf = frame_pack_schema(&s, 7, 99, &len);
	parse_packed(buf, len, FRAME_SCHEMA, &f);
	ck_assert_int_eq(frame_decode_schema(&f, &s2, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_SCHEMA: mode: 4 is over 3");
	free(cause);
	free(buf);
	frame_schema_free(&s);
}
END_TEST

/* A name with an embedded NUL and one that is too long. */
START_TEST(test_bad_names)
{
	struct frame_schema s;
	struct body b;
	const struct frame *f;
	char *cause = NULL, big[FRAME_MAX_NAME + 2];

	body_begin(&b);
	msgpack_pack_array(&b.pk, 5);
	msgpack_pack_str(&b.pk, 3);
	msgpack_pack_str_body(&b.pk, "a\0b", 3);
	pack_cstr(&b.pk, "dbo");
	pack_cstr(&b.pk, "t");
	msgpack_pack_uint32(&b.pk, FRAME_MODE_CT);
	msgpack_pack_array(&b.pk, 0);
	f = body_end(&b, FRAME_SCHEMA, 7);
	ck_assert_int_eq(frame_decode_schema(f, &s, &cause), -1);
	ck_assert_str_eq(cause, "FRAME_SCHEMA: db: contains a NUL byte");
	free(cause);
	body_free(&b);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	body_begin(&b);
	msgpack_pack_array(&b.pk, 5);
	pack_cstr(&b.pk, "db");
	pack_cstr(&b.pk, big);
	f = body_end(&b, FRAME_SCHEMA, 7);
	ck_assert_int_eq(frame_decode_schema(f, &s, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_SCHEMA: schema: string of 513 bytes, "
	    "not in 1..512");
	free(cause);
	body_free(&b);
}
END_TEST

/* Frames over the size limit: refused by the reader and the encoder. */
START_TEST(test_bad_oversized)
{
	struct frame_reader *r;
	struct frame_header hdr = { FRAME_EVENTS, 1000, 7, 1 };
	struct frame_schema s;
	struct frame_events evs;
	struct frame_event *ev;
	struct frame f;
	uint8_t h[FRAME_HEADER_SIZE], pos[16], *big, *buf;
	size_t len;
	char *cause = NULL;

	r = frame_reader_create(512);
	frame_header_write(h, &hdr);
	frame_reader_feed(r, h, sizeof(h));
	ck_assert_int_eq(frame_reader_pop(r, &f, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_EVENTS: frame of 1016 bytes is over "
	    "the 512 limit");
	free(cause);
	frame_reader_free(r);

	/* The default limit, announced by a 16-byte header alone. */
	r = frame_reader_create(0);
	hdr.len = FRAME_MAX_SIZE;
	frame_header_write(h, &hdr);
	frame_reader_feed(r, h, sizeof(h));
	ck_assert_int_eq(frame_reader_pop(r, &f, &cause), -1);
	free(cause);
	frame_reader_free(r);

	/* One value larger than a frame: the encoder refuses. */
	make_schema(&s, FRAME_MODE_CT);
	frame_events_init(&evs, s.ncolumns);
	ct_pos(pos, 1, 1);
	ev = frame_events_add(&evs, FRAME_OP_CREATE, 0, pos, 16, "t");
	fill_row(ev->values, 1);
	big = xcalloc(1, FRAME_MAX_SIZE);
	set_bin(&ev->values[3], big, FRAME_MAX_SIZE);
	buf = frame_pack_events(&evs, 7, 99, &len);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	free(big);
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

/* Build three frames back to back in one buffer. */
static uint8_t *
three_frames(size_t *lenp, const struct frame_schema *s)
{
	struct frame_events evs;
	struct frame_event *ev;
	struct frame_credit c = { 3 };
	uint8_t pos[16], *a, *b, *cc, *all;
	size_t la, lb, lc;

	a = frame_pack_schema(s, 7, 99, &la);
	frame_events_init(&evs, s->ncolumns);
	ct_pos(pos, 9, 0);
	ev = frame_events_add(&evs, FRAME_OP_CREATE, 1, pos, 16, "t");
	fill_row(ev->values, 9);
	b = frame_pack_events(&evs, 7, 99, &lb);
	frame_events_free(&evs);
	cc = frame_pack_credit(&c, 7, 99, &lc);
	all = xmalloc(la + lb + lc);
	memcpy(all, a, la);
	memcpy(all + la, b, lb);
	memcpy(all + la + lb, cc, lc);
	free(a);
	free(b);
	free(cc);
	*lenp = la + lb + lc;
	return (all);
}

/* Pop every complete frame, checking the sequence of types. */
static int
pop_all(struct frame_reader *r, const struct frame_schema *s, int *seen)
{
	static const uint32_t order[] = { FRAME_SCHEMA, FRAME_EVENTS,
		FRAME_CREDIT };
	struct frame f;
	struct frame_events evs;
	char *cause = NULL;
	int rc, n = 0;

	while ((rc = frame_reader_pop(r, &f, &cause)) == 1) {
		ck_assert_int_lt(*seen, 3);
		ck_assert_uint_eq(f.hdr.type, order[*seen]);
		if (f.hdr.type == FRAME_EVENTS) {
			ck_assert_int_eq(
			    frame_decode_events(&f, s, &evs, &cause), 0);
			ck_assert_uint_eq(evs.n, 1);
			ck_assert_int_eq(evs.events[0].values[0].v.i, 9);
			frame_events_free(&evs);
		}
		(*seen)++;
		n++;
	}
	ck_assert_int_eq(rc, 0);
	return (n);
}

/* The reader fed one byte at a time. */
START_TEST(test_reader_bytewise)
{
	struct frame_schema s;
	struct frame_reader *r;
	uint8_t *all;
	size_t i, len;
	int seen = 0;

	make_schema(&s, FRAME_MODE_CT);
	all = three_frames(&len, &s);
	r = frame_reader_create(0);
	for (i = 0; i < len; i++) {
		frame_reader_feed(r, all + i, 1);
		pop_all(r, &s, &seen);
	}
	ck_assert_int_eq(seen, 3);
	ck_assert_uint_eq(frame_reader_pending(r), 0);

	/* All at once, and a partial frame left pending. */
	seen = 0;
	frame_reader_feed(r, all, len);
	frame_reader_feed(r, all, 5);
	ck_assert_int_eq(pop_all(r, &s, &seen), 3);
	ck_assert_uint_eq(frame_reader_pending(r), 5);
	frame_reader_free(r);
	free(all);
	frame_schema_free(&s);
}
END_TEST

/* The reader on a socketpair, as the supervisor uses it. */
START_TEST(test_reader_socket)
{
	struct frame_schema s;
	struct frame_reader *r;
	uint8_t *all;
	size_t len;
	ssize_t n;
	int sv[2], seen = 0;

	make_schema(&s, FRAME_MODE_CT);
	all = three_frames(&len, &s);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], all, len), (ssize_t)len);
	close(sv[0]);
	r = frame_reader_create(0);
	while ((n = frame_reader_read(r, sv[1])) > 0)
		pop_all(r, &s, &seen);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(seen, 3);
	ck_assert_uint_eq(frame_reader_pending(r), 0);
	close(sv[1]);
	frame_reader_free(r);
	free(all);
	frame_schema_free(&s);
}
END_TEST

/* A key packed for the state file comes back; garbage does not. */
START_TEST(test_values_pack)
{
	struct frame_value v[3];
	struct frame_values vals = { v, 3, NULL }, back;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	set_int(&v[0], INT64_MIN);
	set_str(&v[1], "");
	set_bin(&v[2], "\0\1", 2);
	buf = frame_values_pack(&vals, &len);
	ck_assert_int_eq(frame_values_unpack(buf, len, &back, &cause), 0);
	free(buf); /* back holds a copy */
	ck_assert_uint_eq(back.n, 3);
	values_equal(v, back.v, 3);
	frame_values_free(&back);

	ck_assert_int_eq(
	    frame_values_unpack((const uint8_t *)"\x92\x01", 2, &back, &cause),
	    -1);
	ck_assert_str_eq(cause, "values: values: 2 elements but 1 bytes left");
	free(cause);
	ck_assert_int_eq(frame_values_unpack(
			     (const uint8_t *)"\x92\x01\xcd", 3, &back, &cause),
	    -1);
	ck_assert_str_eq(cause,
	    "values: value 1: truncated: 2 bytes needed "
	    "at offset 3, 0 left");
	free(cause);
	ck_assert_int_eq(frame_values_unpack(
			     (const uint8_t *)"\x91\x01\x01", 3, &back, &cause),
	    -1);
	ck_assert_str_eq(cause, "values: 1 trailing bytes");
	free(cause);
}
END_TEST

/* The cdc position size, and a batch position of any size. */
START_TEST(test_positions_by_mode)
{
	struct frame_schema s;
	struct frame_events evs, evs2;
	struct frame_event *ev;
	struct frame f;
	uint8_t pos[FRAME_POS_CDC_SIZE], *buf;
	size_t len;
	char *cause = NULL;

	make_schema(&s, FRAME_MODE_CDC);
	memset(pos, 0xab, sizeof(pos));
	frame_events_init(&evs, s.ncolumns);
	ev = frame_events_add(&evs, FRAME_OP_UPDATE, 0, pos, sizeof(pos), "t");
	fill_row(ev->values, 1);
	buf = frame_pack_events(&evs, 7, 99, &len);
	parse_packed(buf, len, FRAME_EVENTS, &f);
	ck_assert_int_eq(frame_decode_events(&f, &s, &evs2, &cause), 0);
	frame_events_free(&evs2);
	s.mode = FRAME_MODE_CT;
	ck_assert_int_eq(frame_decode_events(&f, &s, &evs2, &cause), -1);
	ck_assert_str_eq(cause,
	    "FRAME_EVENTS: event 0: pos: 21 bytes, not in "
	    "16..16");
	free(cause);
	s.mode = FRAME_MODE_BATCH;
	ck_assert_int_eq(frame_decode_events(&f, &s, &evs2, &cause), 0);
	frame_events_free(&evs2);
	free(buf);
	frame_events_free(&evs);
	frame_schema_free(&s);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("frame");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_header_wire);
	tcase_add_test(tc, test_type_names);
	tcase_add_test(tc, test_roundtrip_control);
	tcase_add_test(tc, test_roundtrip_start_watermark);
	tcase_add_test(tc, test_roundtrip_schema);
	tcase_add_test(tc, test_roundtrip_events);
	tcase_add_test(tc, test_encoding_is_msgpack);
	tcase_add_test(tc, test_bad_truncated_header);
	tcase_add_test(tc, test_bad_length_mismatch);
	tcase_add_test(tc, test_bad_truncated_body);
	tcase_add_test(tc, test_bad_wrong_type);
	tcase_add_test(tc, test_bad_trailing);
	tcase_add_test(tc, test_bad_semantics_control);
	tcase_add_test(tc, test_bad_raw_msgpack);
	tcase_add_test(tc, test_bad_value_type);
	tcase_add_test(tc, test_bad_values_count);
	tcase_add_test(tc, test_bad_event_semantics);
	tcase_add_test(tc, test_bad_schema);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_bad_oversized);
	tcase_add_test(tc, test_reader_bytewise);
	tcase_add_test(tc, test_reader_socket);
	tcase_add_test(tc, test_values_pack);
	tcase_add_test(tc, test_positions_by_mode);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(frame_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
