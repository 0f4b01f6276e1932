/*
 * proto.h: the wire protocol between the supervisor and its workers
 * (STYLE.md A1; tmux-protocol.h).
 *
 * One worker per bound table talks to the supervisor over a Unix
 * socketpair.  Every message is a frame: a fixed 16-byte header followed
 * by a msgpack body of exactly hdr.len bytes.  The header fields are
 * unsigned 32-bit integers written LITTLE-ENDIAN whatever the host
 * order (both ends are the same binary on the same host, but a fixed
 * order keeps fuzz corpora and captured traffic portable):
 *
 *	offset 0  type		enum frame_type
 *	offset 4  len		body length in bytes (header excluded)
 *	offset 8  peerid	table (binding) id, from the state file
 *	offset 12 pid		pid of the worker (0 from the supervisor)
 *
 * The body is exactly one msgpack object, always an array whose shape
 * is fixed per type (comments below), with nothing after it.  A frame
 * is never larger than FRAME_MAX_SIZE (header included); the reader
 * rejects a header announcing more before buffering the body.
 *
 * Values (table cells, key values) are encoded as:
 *
 *	nil		SQL NULL
 *	ext 1, empty	absent: the column is not known in this event (a CT
 *			delete only knows the key columns); never NULL
 *	int		tinyint, smallint, int, bigint (int64 range only)
 *	bool		bit
 *	float 32	real
 *	float 64	float
 *	str		decimal, numeric, money, smallmoney as exact canonical
 *			strings ("-12.3400", scale digits kept); date
 *			"YYYY-MM-DD"; time "HH:MM:SS.fffffff"; datetime,
 *			datetime2, smalldatetime RFC 3339 (UTC unless
 *			configured otherwise); datetimeoffset
 *			RFC 3339 with its offset; uniqueidentifier canonical
 *			upper-case text; char, varchar, nchar, nvarchar, text,
 *			ntext, xml as UTF-8
 *	bin		binary, varbinary, image, rowversion, timestamp
 *
 * Positions ("pos") are byte strings whose memcmp() order is commit
 * order among positions of one mode (CT versions and LSNs are both
 * database-wide), so the supervisor merges the tables of a mode with
 * memcmp() alone:
 *
 *	ct	16 bytes: CT version (8, big-endian) + ordinal (8, big-endian)
 *	cdc	21 bytes: __$start_lsn (10) + __$seqval (10) + __$operation (1)
 *	batch	1 to FRAME_MAX_POS bytes chosen by the worker
 *
 * Bump PROTOCOL_VERSION if any of these change.
 */

#ifndef PROTO_H
#define PROTO_H

#include <stdint.h>

/* Protocol version, exchanged in FRAME_HELLO. */
#define PROTOCOL_VERSION 2

#define FRAME_HEADER_SIZE 16
#define FRAME_MAX_SIZE (64U * 1024 * 1024) /* header + body */

/* Limits checked by the decoder (and by the encoder's callers). */
#define FRAME_MAX_NAME 512 /* sysname: 128 UTF-16 units as UTF-8 */
#define FRAME_MAX_TYPE_NAME 128 /* "datetimeoffset", alias types */
#define FRAME_MAX_MESSAGE 4096 /* FRAME_ERROR text */
#define FRAME_MAX_TS 64 /* RFC 3339 time of an event (ts) */
#define FRAME_MAX_POS 64 /* position bytes */
#define FRAME_MAX_CURSOR 4096 /* resumable cursor bytes */
#define FRAME_MAX_COLUMNS 4096 /* columns per table */
#define FRAME_MAX_EVENTS 100000 /* events per FRAME_EVENTS */
#define FRAME_POS_CT_SIZE 16
#define FRAME_POS_CDC_SIZE 21

/* Frame types, numbered by subsystem. */
enum frame_type {
	/* Control. */
	FRAME_HELLO = 100,
	FRAME_START,
	FRAME_STOP,
	FRAME_ERROR,
	FRAME_PROGRESS,

	/* Data. */
	FRAME_SCHEMA = 200,
	FRAME_EVENTS,
	FRAME_WATERMARK,
	FRAME_BACKFILL_DONE,

	/* Flow control. */
	FRAME_CREDIT = 300
};

/*
 * FRAME_HELLO, worker -> supervisor, first frame on the socket:
 *	[uint protocol_version, uint binding_id]
 * binding_id must equal hdr.peerid.
 *
 * FRAME_START, supervisor -> worker, answer to HELLO: resume state:
 *	[uint phase, bin cursor, nil | array last_key, uint flags]
 * phase is enum frame_phase; cursor is empty for a fresh table; last_key
 * holds the values of the last backfilled primary key, in key order.
 * flags is a set of FRAME_START_*: with FRAME_START_ONCE (run --once)
 * the worker reads the source position (CT version, max LSN) once when
 * it starts, captures up to it (finishing a backfill first), sends a
 * WATERMARK (and BACKFILL_DONE when a backfill ended) and exits 0.
 *
 * FRAME_STOP, supervisor -> worker: send what is buffered, then exit 0:
 *	[]
 *
 * FRAME_ERROR, worker -> supervisor, the worker exits after sending it:
 *	[uint code, str message]
 * code is enum frame_error_code.
 *
 * FRAME_PROGRESS, worker -> supervisor:
 *	[uint rows_done, uint rows_estimate, uint lag_ms]
 * rows_estimate 0 means unknown; lag_ms is source commit to capture.
 *
 * FRAME_SCHEMA, worker -> supervisor, before the first FRAME_EVENTS and
 * again whenever the table's columns change:
 *	[str db, str schema, str table, uint mode, array columns]
 * each column:
 *	[str name, str type_name, uint type_id, uint precision, uint scale,
 *	 int max_length, bool nullable, uint key_ordinal, bool computed]
 * mode is enum frame_mode; type_id is sys.types.system_type_id;
 * max_length is in bytes, -1 for (max); key_ordinal is the 1-based
 * position in the primary key, 0 for a non-key column.  Key ordinals
 * are exactly 1..k, k >= 1.
 *
 * FRAME_EVENTS, worker -> supervisor, events in position order:
 *	[array events]
 * each event:
 *	[uint op, bool snapshot, bin pos, str ts, array values,
 *	 nil | array before]
 * op is enum frame_op; values (and before, the CDC update before-image)
 * have exactly one value per FRAME_SCHEMA column, in schema order.
 * ts is RFC 3339 UTC with milliseconds: for a CDC change the commit
 * time of its transaction (cdc.lsn_time_mapping.tran_end_time); for a
 * CT change and a snapshot row the time the worker read it (CT's
 * commit times need VIEW SERVER STATE, sys.dm_tran_commit_table).
 *
 * FRAME_WATERMARK, worker -> supervisor: every event at or below pos
 * has been sent, and cursor/last_key resume right after pos:
 *	[bin pos, bin cursor, nil | array last_key]
 *
 * FRAME_BACKFILL_DONE, worker -> supervisor: the backfill is complete
 * (the events and the watermark before it cover it):
 *	[uint rows]
 *
 * FRAME_CREDIT, supervisor -> worker: the worker may send this many
 * more events:
 *	[uint events]  (1 <= events <= UINT32_MAX)
 */

/* FRAME_START flags. */
#define FRAME_START_ONCE 0x1 /* stop at the position read at start */
#define FRAME_START_FLAGS (FRAME_START_ONCE)

/* Phase of a table, in FRAME_START and in the state file. */
enum frame_phase {
	FRAME_PHASE_BACKFILL = 0,
	FRAME_PHASE_STREAMING,
	FRAME_PHASE_FAILED,
	FRAME_PHASE_DONE
};
#define FRAME_PHASE_MAX FRAME_PHASE_DONE

/* Capture mechanism of a table (never "auto" on the wire). */
enum frame_mode { FRAME_MODE_CT = 1, FRAME_MODE_CDC, FRAME_MODE_BATCH };
#define FRAME_MODE_MAX FRAME_MODE_BATCH

/* FRAME_ERROR codes. */
enum frame_error_code {
	FRAME_ERROR_RETRYABLE = 1, /* restart the worker with backoff */
	FRAME_ERROR_FAILED /* mark the table failed, do not restart */
};
#define FRAME_ERROR_CODE_MAX FRAME_ERROR_FAILED

/* Event operations: the letter printed in "_meta.op". */
enum frame_op {
	FRAME_OP_CREATE = 'c',
	FRAME_OP_UPDATE = 'u',
	FRAME_OP_DELETE = 'd'
};

/* msgpack ext type of an absent value (payload empty). */
#define FRAME_EXT_ABSENT 1

#endif /* PROTO_H */
