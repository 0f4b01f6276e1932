/*
 * libFuzzer target for the frame reader and decoders (STYLE.md E5;
 * tmux fuzz/input-fuzzer.c).
 *
 * The input is a byte stream as a worker could write it to the
 * socketpair.  It is fed to the incremental reader in chunks whose
 * sizes come from the input itself, so frame boundaries fall at every
 * place in a read; each frame popped goes to the decoder for its type
 * (unknown types to all of them), and EVENTS are decoded against a
 * SCHEMA seen earlier in the stream or a built-in one.  Whatever
 * decodes is encoded again, decoded again and written as JSON, so the
 * encoder and the JSON writer see every shape the decoder lets through.
 * Nothing may crash, leak or read out of bounds (ASan), whatever the
 * bytes.
 *
 * Run: t/fuzz/frame-fuzzer -dict=t/fuzz/frame-fuzzer.dict corpus/
 * Under "make check" (no arguments) it runs a short smoke test.
 */

#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

static void fuzz_builtin_schema(struct frame_schema *);
static void fuzz_events(const struct frame *, const struct frame_schema *);
static void fuzz_schema(const struct frame *, struct frame_schema *, int *);
static void fuzz_control(const struct frame *);
static void fuzz_frame(const struct frame *, struct frame_schema *, int *);

/* A ct table: id int key, v nvarchar. */
static void
fuzz_builtin_schema(struct frame_schema *s)
{
	struct frame_column c;

	frame_schema_init(s, "db", "dbo", "t", FRAME_MODE_CT);
	memset(&c, 0, sizeof(c));
	c.name = (char *)"id";
	c.type_name = (char *)"int";
	c.key_ordinal = 1;
	frame_schema_add_column(s, &c);
	c.name = (char *)"v";
	c.type_name = (char *)"nvarchar";
	c.key_ordinal = 0;
	frame_schema_add_column(s, &c);
}

/* Decode events; re-encode and write JSON for what passes. */
static void
fuzz_events(const struct frame *f, const struct frame_schema *s)
{
	struct frame_events evs, again;
	struct json_buf b;
	struct frame f2;
	uint8_t *buf;
	size_t i, len;
	char *cause = NULL;

	if (frame_decode_events(f, s, &evs, &cause) != 0) {
		free(cause);
		return;
	}
	json_buf_init(&b);
	for (i = 0; i < evs.n; i++)
		json_write_event(&b, s, &evs.events[i], i, "tag");
	json_buf_free(&b);
	buf = frame_pack_events(&evs, f->hdr.peerid, 0, &len);
	if (buf != NULL) {
		if (frame_parse(buf, len, &f2, &cause) != 0 ||
		    frame_decode_events(&f2, s, &again, &cause) != 0)
			abort(); /* what decoded must survive a round trip */
		frame_events_free(&again);
		free(buf);
	}
	frame_events_free(&evs);
}

/* Decode a schema and keep it for later EVENTS. */
static void
fuzz_schema(const struct frame *f, struct frame_schema *s, int *have)
{
	struct frame_schema next;
	char *cause = NULL;

	if (frame_decode_schema(f, &next, &cause) != 0) {
		free(cause);
		return;
	}
	frame_schema_free(s);
	*s = next;
	*have = 1;
}

/* The control and flow-control decoders. */
static void
fuzz_control(const struct frame *f)
{
	struct frame_hello h;
	struct frame_start st;
	struct frame_error e;
	struct frame_progress p;
	struct frame_watermark w;
	struct frame_backfill_done d;
	struct frame_credit c;
	char *cause = NULL;

#define FUZZ_TRY(call) \
	do { \
		if ((call) != 0) { \
			free(cause); \
			cause = NULL; \
		} \
	} while (0)
	FUZZ_TRY(frame_decode_hello(f, &h, &cause));
	FUZZ_TRY(frame_decode_stop(f, &cause));
	FUZZ_TRY(frame_decode_progress(f, &p, &cause));
	FUZZ_TRY(frame_decode_backfill_done(f, &d, &cause));
	FUZZ_TRY(frame_decode_credit(f, &c, &cause));
	if (frame_decode_start(f, &st, &cause) == 0)
		frame_start_free(&st);
	else
		free(cause);
	cause = NULL;
	if (frame_decode_error(f, &e, &cause) == 0)
		frame_error_free(&e);
	else
		free(cause);
	cause = NULL;
	if (frame_decode_watermark(f, &w, &cause) == 0)
		frame_watermark_free(&w);
	else
		free(cause);
#undef FUZZ_TRY
}

/* Dispatch one frame; an unknown type goes to every decoder. */
static void
fuzz_frame(const struct frame *f, struct frame_schema *s, int *have)
{
	struct frame any = *f;
	uint32_t type;

	if (frame_type_valid(f->hdr.type)) {
		fuzz_control(f);
		if (f->hdr.type == FRAME_SCHEMA)
			fuzz_schema(f, s, have);
		if (f->hdr.type == FRAME_EVENTS)
			fuzz_events(f, s);
		return;
	}
	for (type = FRAME_HELLO; type <= FRAME_CREDIT; type++) {
		if (!frame_type_valid(type))
			continue;
		any.hdr.type = type;
		fuzz_control(&any);
		if (type == FRAME_EVENTS)
			fuzz_events(&any, s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader *r;
	struct frame_schema schema;
	struct frame f;
	size_t off = 0, chunk;
	char *cause = NULL;
	int have = 0, rc = 0;

	fuzz_builtin_schema(&schema);
	r = frame_reader_create(1 << 20);
	while (off < size && rc >= 0) {
		chunk = 1 + data[off] % 64; /* the first byte sizes the read */
		if (chunk > size - off)
			chunk = size - off;
		frame_reader_feed(r, data + off, chunk);
		off += chunk;
		while ((rc = frame_reader_pop(r, &f, &cause)) == 1)
			fuzz_frame(&f, &schema, &have);
	}
	free(cause);
	frame_reader_free(r);
	frame_schema_free(&schema);
	return (0);
}

/*
 * Without arguments ("make check"), run a bounded smoke test instead of
 * fuzzing forever.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *smoke[] = { NULL, (char *)"-runs=20000",
		(char *)"-max_len=4096", NULL };

	log_setlevel(LOG_LEVEL_WARN);
	if (*argc == 1) {
		smoke[0] = (*argv)[0];
		*argc = 3;
		*argv = smoke;
	}
	return (0);
}
