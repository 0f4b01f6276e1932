/*
 * worker.c: the worker process: one bound table, one connection to SQL
 * Server, one socket to the supervisor (fd 3).
 *
 * The worker is a plain sequential program.  It writes packed frames
 * to the socket with blocking writes (so a supervisor that stops
 * reading, STYLE.md D3, stops the worker too) and, between queries and
 * at every frame it sends, polls the socket without blocking for STOP
 * (finish the step, send what is buffered, exit 0) and CREDIT.  EOF or
 * EPIPE on the socket means the supervisor is gone: exit quietly
 * (STYLE.md D5).  Credit: a supervisor that wants credit flow control
 * sends FRAME_CREDIT right after FRAME_START; from the first CREDIT on,
 * the worker never has more events in flight than it was granted and
 * blocks for more.  Without one it sends freely.
 *
 * Life: HELLO, connect (retryable failures back off exponentially,
 * WORKER_BACKOFF_MIN_MS to _MAX_MS), wait for START, introspect
 * (introspect.c) and send SCHEMA, then backfill (backfill.c) if the
 * cursor says one is under way, then poll the stream every
 * advanced.poll_interval_ms until STOP.  Both go through struct
 * worker_ops, which hides whether the table is captured with Change
 * Tracking (ct.c) or CDC (cdc.c).  When a fence finds that the table
 * must be introspected again (its CDC capture instances changed,
 * w->reload), the step ends before reading anything and the worker
 * goes back to introspection on the same connection, resuming from
 * its last watermark like after a reconnect (SCHEMA again only if the
 * columns changed).
 *
 * Positions and watermarks.  Every event position is a fence (CT
 * version, LSN) followed by a tail; they strictly increase (checked
 * here: a broken order is a bug, fatalx).  Events are batched into
 * FRAME_EVENTS of at most WORKER_BATCH_EVENTS events or about
 * WORKER_BATCH_BYTES of values, whose bytes live in an arena of blocks
 * that never move until the batch is sent.  A WATERMARK is sent at the
 * end of every step and, when a batch was sent in the middle of one, at
 * the next point where the cursor is consistent (a CT version
 * boundary, any CDC row, any backfill row): its cursor is the state
 * that resumes right after its position, so the supervisor never holds
 * more than about one batch per table that no watermark covers (one CT
 * version larger than a batch is the exception: CHANGETABLE cannot
 * resume inside a version).  What supervisor/merge.c relies on: a
 * watermark at the resume position right after SCHEMA when resuming
 * (in a backfill only the floor of its fence, since the next chunk may
 * be read at that same fence), one after every poll even when idle,
 * WATERMARK before BACKFILL_DONE, and positions above the last
 * watermark only (anything at or below it is dropped as a duplicate).
 * The snapshot ordinal in the cursor keeps growing across chunks,
 * restarts and re-backfills, so that no position is ever reused.
 *
 * A retention loss (ct.c, cdc.c) restarts the backfill of this table
 * alone: the supervisor sees watermarks carrying a last key again and,
 * at the end, a second BACKFILL_DONE.  Rows deleted while the changes
 * were lost are not seen by a backfill; a destination that must drop
 * them has to treat a re-backfill as a replacement of the table.
 *
 * Failures.  A step that fails records a message naming the table and
 * the server's error, with its class.  Retryable, and no event was sent
 * after the last watermark: reconnect with backoff and restart from the
 * state of that watermark, in process (the batch built since is thrown
 * away).  Retryable with events already sent past it: FRAME_ERROR
 * RETRYABLE and exit 1, so the supervisor restarts us and drops those
 * events.  Permanent: FRAME_ERROR FAILED, exit 1.
 *
 * run --once (FRAME_START_ONCE): right after the first START the worker
 * reads the fence once (CT version, max LSN) and keeps its ceiling as
 * the stop position for the life of the process.  It finishes a
 * backfill under way as usual (the backfill's own fences are at or past
 * the stop position), then polls once with the fence capped at the
 * stop position if the done position is still below it, and exits 0
 * after that poll's WATERMARK.  A retention loss in that poll starts a
 * backfill again, which ends past the stop position too.
 *
 * PROGRESS every WORKER_PROGRESS_SECS: rows_done is the snapshot rows
 * emitted by the table's backfills (kept in the cursor, so it survives
 * restarts), rows_estimate sys.partitions' count, lag_ms the age of the
 * last complete poll while streaming (0 while backfilling).
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"
#include "supervisor.h"

static void worker_init(struct worker *, const struct config *, size_t,
    uint32_t, int, const struct worker_ops *);
static size_t worker_find_binding(
    const struct config *, const struct cmd_opts *);
static void worker_free(struct worker *);
static __dead void worker_gone(struct worker *);
static void worker_write_all(struct worker *, uint8_t *, size_t);
static void worker_send_error(struct worker *, enum frame_error_code);
static const char *worker_errtext(const struct worker *);
static void worker_dispatch(struct worker *, const struct frame *);
static void worker_wait_start(struct worker *);
static void worker_wait_credit(struct worker *);
static int worker_sleep(struct worker *, int64_t);
static int worker_connect(struct worker *);
static int worker_reconnect(struct worker *, int64_t *);
static void worker_arena_reset(struct worker *);
static uint8_t *worker_arena_alloc(struct worker *, size_t);
static void worker_batch_reset(struct worker *);
static uint8_t *worker_cursor_encode(const struct worker *, size_t *);
static int worker_cursor_decode(
    struct worker *, const uint8_t *, size_t, const struct frame_values *);
static void worker_restore(struct worker *);
static int worker_setup(struct worker *);
static int worker_stream(struct worker *);
static int worker_poll(struct worker *, const uint8_t *);
static int worker_once_read_stop(struct worker *);
static int worker_once_finish(struct worker *);
static void worker_resume_mark(struct worker *);
static int worker_capture(struct worker *);
static void worker_loop(struct worker *);
static int worker_oversized(
    struct worker *, size_t, struct frame_value *, const struct frame_value *);

/* Set a worker up; nothing is sent yet. */
static void
worker_init(struct worker *w, const struct config *cfg, size_t index,
    uint32_t id, int fd, const struct worker_ops *force_ops)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->binding = &cfg->bindings[index];
	w->id = id;
	w->fd = fd;
	w->pid = (uint32_t)getpid();
	w->rd = frame_reader_create(0);
	w->force_ops = force_ops;
	frame_events_init(&w->batch, 0);
}

/* Release what a worker holds. */
static void
worker_free(struct worker *w)
{
	worker_batch_reset(w);
	worker_arena_reset(w);
	free(w->arena);
	w->arena = NULL;
	db_close(w->db);
	introspect_free(w->tbl);
	frame_values_free(&w->cur.key);
	frame_start_free(&w->start);
	frame_reader_free(w->rd);
	free(w->marked);
	memset(w, 0, sizeof(*w));
}

/* The supervisor is gone: nobody to report to (STYLE.md D5). */
static __dead void
worker_gone(struct worker *w)
{
	log_debug("the supervisor is gone");
	db_close(w->db);
	w->db = NULL;
	exit(0);
}

/*
 * Write a packed frame, all of it, and free it; then look for what the
 * supervisor sent.
 */
void
worker_send(struct worker *w, uint8_t *buf, size_t len)
{
	worker_write_all(w, buf, len);
	worker_control(w, 0);
}

/* Write a packed frame, all of it, and free it. */
static void
worker_write_all(struct worker *w, uint8_t *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	if (buf == NULL)
		fatalx("%s: frame too large", __func__);
	while (off < len) {
		n = write(w->fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			free(buf);
			worker_gone(w);
		}
		if (n <= 0)
			fatal("write to the supervisor");
		off += (size_t)n;
	}
	free(buf);
}

/* Send FRAME_ERROR with the recorded message. */
static void
worker_send_error(struct worker *w, enum frame_error_code code)
{
	struct frame_error m;
	uint8_t *buf;
	size_t len;

	m.code = code;
	m.message = w->errmsg;
	log_warnx("%s", worker_errtext(w));
	buf = frame_pack_error(&m, w->id, w->pid, &len);
	/* Not worker_send(): an EOF read now would exit 0, "stopped". */
	worker_write_all(w, buf, len);
}

/* The failure's message without its table (the log prefix has it). */
static const char *
worker_errtext(const struct worker *w)
{
	size_t n = strlen(w->binding->namespace);

	if (strncmp(w->errmsg, w->binding->namespace, n) == 0 &&
	    w->errmsg[n] == '.' &&
	    strncmp(w->errmsg + n + 1, w->binding->stream,
		strlen(w->binding->stream)) == 0 &&
	    strncmp(w->errmsg + n + 1 + strlen(w->binding->stream), ": ", 2) ==
		0)
		return (w->errmsg + n + 3 + strlen(w->binding->stream));
	return (w->errmsg);
}

/* Record a failure of the current step; always -1. */
int
worker_fail(struct worker *w, enum db_class class, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(w->errmsg, sizeof(w->errmsg),
	    "%s.%s: ", w->binding->namespace, w->binding->stream);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(w->errmsg))
		vsnprintf(w->errmsg + n, sizeof(w->errmsg) - n, fmt, ap);
	va_end(ap);
	w->errclass = class;
	return (-1);
}

/* Record the failure of a query: what, the server's text and number. */
int
worker_db_fail(struct worker *w, const char *what)
{
	const struct db_error *e = db_error(w->db);
	char num[32] = "";

	if (e->number != 0)
		snprintf(num, sizeof(num), " (%d)", e->number);
	return (worker_fail(w,
	    e->class == DB_CLASS_NONE ? DB_CLASS_PERMANENT : e->class,
	    "%s: %s%s", what, e->text, num));
}

/* Handle one frame from the supervisor. */
static void
worker_dispatch(struct worker *w, const struct frame *f)
{
	struct frame_credit credit;
	char *cause = NULL;

	switch (f->hdr.type) {
	case FRAME_START:
		if (w->started) {
			log_warnx("FRAME_START received twice, ignored");
			return;
		}
		if (frame_decode_start(f, &w->start, &cause) != 0)
			fatalx("%s", cause);
		w->started = 1;
		break;
	case FRAME_STOP:
		if (frame_decode_stop(f, &cause) != 0)
			fatalx("%s", cause);
		log_debug("FRAME_STOP received");
		w->stop = 1;
		break;
	case FRAME_CREDIT:
		if (frame_decode_credit(f, &credit, &cause) != 0)
			fatalx("%s", cause);
		w->credit_mode = 1;
		w->credit += credit.events;
		break;
	default:
		fatalx("unexpected %s frame from the supervisor",
		    frame_type_name(f->hdr.type));
	}
}

/*
 * Read and handle what the supervisor sent, waiting up to timeout ms
 * (0: not at all, -1: until something comes).  Returns whether
 * anything was read.
 */
int
worker_control(struct worker *w, int timeout)
{
	struct pollfd pfd;
	struct frame f;
	char *cause = NULL;
	ssize_t n;
	int rc;

	pfd.fd = w->fd;
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, timeout);
	if (rc == -1 && errno == EINTR)
		return (0);
	if (rc == -1)
		fatal("poll");
	if (rc == 0)
		return (0);
	n = frame_reader_read(w->rd, w->fd);
	if (n == 0 || (n == -1 && errno == ECONNRESET))
		worker_gone(w);
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		fatal("read from the supervisor");
	while ((rc = frame_reader_pop(w->rd, &f, &cause)) == 1)
		worker_dispatch(w, &f);
	if (rc == -1)
		fatalx("bad frame from the supervisor: %s", cause);
	return (1);
}

/* Block until FRAME_START. */
static void
worker_wait_start(struct worker *w)
{
	while (!w->started && !w->stop)
		worker_control(w, -1);
}

/* Block until some credit is granted. */
static void
worker_wait_credit(struct worker *w)
{
	while (w->credit_mode && w->credit == 0)
		worker_control(w, -1);
}

/* Sleep ms, waking for the supervisor; -1 if told to stop. */
static int
worker_sleep(struct worker *w, int64_t ms)
{
	int64_t end = clock_now_ms() + ms, left;

	while (!w->stop && (left = end - clock_now_ms()) > 0)
		worker_control(w, (int)left);
	return (w->stop ? -1 : 0);
}

/* Connect once; -1 with the failure recorded. */
static int
worker_connect(struct worker *w)
{
	struct db_error err;
	char num[32] = "";

	if ((w->db = db_open(w->cfg, &err)) != NULL)
		return (0);
	if (err.number != 0)
		snprintf(num, sizeof(num), " (%d)", err.number);
	return (worker_fail(w, err.class, "connect to %s:%d: %s%s",
	    w->cfg->host, w->cfg->port, err.text, num));
}

/* Connect, backing off while failures are retryable. */
static int
worker_reconnect(struct worker *w, int64_t *backoff)
{
	db_close(w->db);
	w->db = NULL;
	w->in_tran = 0;
	for (;;) {
		if (worker_connect(w) == 0) {
			*backoff = 0;
			w->errmsg[0] = '\0';
			w->errclass = DB_CLASS_NONE;
			return (0);
		}
		if (w->errclass != DB_CLASS_RETRYABLE)
			return (-1);
		*backoff = *backoff == 0 ? WORKER_BACKOFF_MIN_MS : *backoff * 2;
		if (*backoff > WORKER_BACKOFF_MAX_MS)
			*backoff = WORKER_BACKOFF_MAX_MS;
		log_warnx("%s; retrying in %lld ms", worker_errtext(w),
		    (long long)*backoff);
		if (worker_sleep(w, *backoff) == -1)
			return (-1);
	}
}

/* Start the transaction of a step (snapshot isolation when allowed). */
int
worker_begin(struct worker *w)
{
	if (!w->snapshot)
		return (0);
	if (db_run(w->db, "BEGIN TRANSACTION") == -1)
		return (worker_db_fail(w, "BEGIN TRANSACTION"));
	w->in_tran = 1;
	return (0);
}

/* Commit the transaction of a step. */
int
worker_commit(struct worker *w)
{
	if (!w->in_tran)
		return (0);
	w->in_tran = 0;
	if (db_run(w->db, "COMMIT TRANSACTION") == -1)
		return (worker_db_fail(w, "COMMIT TRANSACTION"));
	return (0);
}

/* Abandon the transaction of a step (the step read only). */
void
worker_rollback(struct worker *w)
{
	if (!w->in_tran)
		return;
	w->in_tran = 0;
	if (db_run(w->db, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION") == -1)
		log_debug("rollback: %s", db_error(w->db)->text);
}

/* Free the arena's blocks but one of the usual size, emptied. */
static void
worker_arena_reset(struct worker *w)
{
	struct worker_block *b, *next, *keep = NULL;

	for (b = w->arena; b != NULL; b = next) {
		next = b->next;
		if (keep == NULL && b->size == WORKER_BLOCK_SIZE)
			keep = b;
		else
			free(b);
	}
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = 0;
	}
	w->arena = keep;
}

/* Room for n bytes that stay put until the batch is sent. */
static uint8_t *
worker_arena_alloc(struct worker *w, size_t n)
{
	struct worker_block *b = w->arena;
	size_t size;

	if (b == NULL || b->size - b->used < n) {
		size = n > WORKER_BLOCK_SIZE ? n : WORKER_BLOCK_SIZE;
		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = w->arena;
		w->arena = b;
	}
	b->used += n;
	return (b->data + b->used - n);
}

/* Forget the events of the batch (sent or thrown away). */
static void
worker_batch_reset(struct worker *w)
{
	frame_events_free(&w->batch);
	frame_events_init(&w->batch, w->tbl != NULL ? w->tbl->fs.ncolumns : 0);
	worker_arena_reset(w);
	w->batch_bytes = 0;
}

/* Send the batch, if any. */
int
worker_flush(struct worker *w)
{
	uint8_t *buf;
	size_t len;

	if (w->batch.n == 0)
		return (0);
	buf = frame_pack_events(&w->batch, w->id, w->pid, &len);
	worker_send(w, buf, len);
	if (w->credit_mode)
		w->credit -= w->credit >= w->batch.n ? w->batch.n : w->credit;
	worker_batch_reset(w);
	w->unmarked = 1;
	return (0);
}

/*
 * Add an event at pos (ops->poslen bytes) to the batch; its values are
 * all absent.  A full batch is sent first.
 */
struct frame_event *
worker_event(struct worker *w, enum frame_op op, int snapshot,
    const uint8_t *pos, const char *ts)
{
	size_t len = w->ops->poslen;

	if (w->last_poslen != 0 && memcmp(pos, w->last_pos, len) <= 0)
		fatalx("%s: event position out of order", w->tbl->display);
	if (w->batch.n >= WORKER_BATCH_EVENTS ||
	    w->batch_bytes >= WORKER_BATCH_BYTES ||
	    (w->credit_mode && w->batch.n >= w->credit)) {
		worker_flush(w);
		worker_wait_credit(w);
	}
	memcpy(w->last_pos, pos, len);
	w->last_poslen = len;
	return (frame_events_add(&w->batch, op, snapshot, pos, len, ts));
}

/* Apply oversized_value_strategy to a value over WORKER_VALUE_MAX. */
static int
worker_oversized(struct worker *w, size_t col, struct frame_value *dst,
    const struct frame_value *src)
{
	const char *name = w->tbl->fs.columns[col].name;
	size_t len = WORKER_VALUE_MAX;

	switch (w->cfg->advanced.oversized_value_strategy) {
	case CONFIG_OVERSIZED_FAIL:
		return (worker_fail(w, DB_CLASS_PERMANENT,
		    "column %s: a value of %zu bytes is over the %d byte "
		    "limit (advanced.oversized_value_strategy is fail)",
		    name, src->v.s.len, WORKER_VALUE_MAX));
	case CONFIG_OVERSIZED_NULL:
		dst->type = FRAME_VALUE_NULL;
		return (0);
	case CONFIG_OVERSIZED_TRUNCATE:
		/* Cut strings on a UTF-8 character boundary. */
		while (src->type == FRAME_VALUE_STR && len > 0 &&
		    (src->v.s.ptr[len] & 0xc0) == 0x80)
			len--;
		*dst = *src;
		dst->v.s.len = len;
		dst->v.s.ptr = worker_arena_alloc(w, len);
		memcpy((uint8_t *)dst->v.s.ptr, src->v.s.ptr, len);
		w->batch_bytes += len;
		return (0);
	}
	return (0);
}

/* Copy a value read from the server into the batch (column col). */
int
worker_value(struct worker *w, size_t col, struct frame_value *dst,
    const struct frame_value *src)
{
	uint8_t *p;

	*dst = *src;
	if (src->type != FRAME_VALUE_STR && src->type != FRAME_VALUE_BIN)
		return (0);
	if (src->v.s.len > WORKER_VALUE_MAX)
		return (worker_oversized(w, col, dst, src));
	p = worker_arena_alloc(w, src->v.s.len == 0 ? 1 : src->v.s.len);
	if (src->v.s.len != 0)
		memcpy(p, src->v.s.ptr, src->v.s.len);
	dst->v.s.ptr = p;
	w->batch_bytes += src->v.s.len + 16;
	return (0);
}

/* Whether a batch was sent since the last watermark. */
int
worker_checkpoint_due(const struct worker *w)
{
	return (w->unmarked);
}

/* Make key (n values, borrowed) the last backfilled key (copied). */
void
worker_set_key(struct worker *w, const struct frame_value *key, size_t n)
{
	struct frame_values tmp;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	frame_values_free(&w->cur.key);
	if (n == 0)
		return;
	tmp.v = (struct frame_value *)key;
	tmp.n = n;
	tmp.data = NULL;
	buf = frame_values_pack(&tmp, &len);
	if (frame_values_unpack(buf, len, &w->cur.key, &cause) != 0)
		fatalx("%s: %s", __func__, cause);
	free(buf);
}

/*
 * A position at fence: the fence then a tail of 0x00 (floor) or 0xff
 * (ceiling) bytes.
 */
void
worker_pos(
    const struct worker *w, const uint8_t *fence, int ceiling, uint8_t *pos)
{
	memcpy(pos, fence, w->ops->fencelen);
	memset(pos + w->ops->fencelen, ceiling ? 0xff : 0x00,
	    w->ops->poslen - w->ops->fencelen);
}

/* Every change up to fence is captured (ceiling: the whole fence). */
void
worker_set_done(struct worker *w, const uint8_t *pos, int whole)
{
	if (whole)
		worker_pos(w, pos, 1, w->cur.done);
	else
		memcpy(w->cur.done, pos, w->ops->poslen);
	w->cur.flags |= WORKER_CURSOR_POS;
}

/* The cursor of the current state, as WATERMARK carries it. */
static uint8_t *
worker_cursor_encode(const struct worker *w, size_t *lenp)
{
	size_t plen = w->ops->poslen, i;
	uint8_t *c;

	*lenp = 1 + plen + 8 + 1;
	c = xcalloc(1, *lenp);
	c[0] = (uint8_t)w->ops->tag;
	memcpy(c + 1, w->cur.done, plen);
	for (i = 0; i < 8; i++)
		c[1 + plen + i] = (uint8_t)(w->cur.seq >> (56 - 8 * i));
	c[1 + plen + 8] = (uint8_t)w->cur.flags;
	return (c);
}

/*
 * Start from nothing: a backfill (or none, for skip_backfills).  The
 * snapshot ordinal keeps counting, so that positions keep increasing.
 */
void
worker_cursor_fresh(struct worker *w)
{
	frame_values_free(&w->cur.key);
	w->cur.mode = w->ops->mode;
	w->cur.flags = WORKER_CURSOR_BACKFILL;
	memset(w->cur.done, 0, sizeof(w->cur.done));
	w->lost_logged = 0;
}

/*
 * Load a cursor (and last key) from the supervisor; a cursor of another
 * mode or shape starts afresh (positions of two modes do not compare).
 */
static int
worker_cursor_decode(struct worker *w, const uint8_t *c, size_t len,
    const struct frame_values *key)
{
	size_t plen = w->ops->poslen, i;

	worker_cursor_fresh(w);
	w->cur.seq = 0;
	if (len == 0)
		return (0);
	if (len != 1 + plen + 8 + 1 || c[0] != (uint8_t)w->ops->tag) {
		log_warnx("%s: the stored cursor is not a %s cursor; "
			  "backfilling the table again",
		    w->tbl->display, frame_mode_name(w->ops->mode));
		return (0);
	}
	memcpy(w->cur.done, c + 1, plen);
	w->cur.seq = 0;
	for (i = 0; i < 8; i++)
		w->cur.seq = (w->cur.seq << 8) | c[1 + plen + i];
	w->cur.flags = c[1 + plen + 8];
	if ((w->cur.flags & WORKER_CURSOR_BACKFILL) && key != NULL &&
	    key->n != 0) {
		if (key->n != w->tbl->nkeys)
			return (worker_fail(w, DB_CLASS_PERMANENT,
			    "the primary key changed: the stored last key has "
			    "%zu columns, the table's key %zu",
			    key->n, w->tbl->nkeys));
		worker_set_key(w, key->v, key->n);
	}
	return (0);
}

/* Send a WATERMARK for the current state, at least at pos. */
int
worker_watermark(struct worker *w, const uint8_t *floor)
{
	struct frame_watermark m;
	size_t plen = w->ops->poslen, len;
	uint8_t *cursor, *buf;

	worker_flush(w);
	memset(&m, 0, sizeof(m));
	if (w->last_poslen != 0 &&
	    (floor == NULL || memcmp(w->last_pos, floor, plen) > 0))
		memcpy(m.pos, w->last_pos, plen);
	else if (floor != NULL)
		memcpy(m.pos, floor, plen);
	else
		memcpy(m.pos, w->cur.done, plen);
	m.poslen = plen;
	cursor = worker_cursor_encode(w, &len);
	m.cursor = cursor;
	m.cursorlen = len;
	m.key = w->cur.key;
	if (!(w->cur.flags & WORKER_CURSOR_BACKFILL))
		m.key.n = 0;
	buf = frame_pack_watermark(&m, w->id, w->pid, &len);
	worker_send(w, buf, len);
	free(w->marked);
	w->marked = frame_values_pack(&w->cur.key, &w->markedlen);
	w->marked = xrealloc(w->marked, w->markedlen + m.cursorlen);
	memcpy(w->marked + w->markedlen, cursor, m.cursorlen);
	w->markedlen += m.cursorlen;
	memcpy(w->marked_pos, m.pos, plen);
	w->marked_poslen = plen;
	free(cursor);
	w->unmarked = 0;
	w->fail_backoff = 0;
	return (worker_progress(w, 0));
}

/* Go back to the state of the last WATERMARK (or of START). */
static void
worker_restore(struct worker *w)
{
	struct frame_values key;
	size_t clen = 1 + w->ops->poslen + 8 + 1;
	char *cause = NULL;

	worker_batch_reset(w);
	if (w->marked == NULL) {
		worker_cursor_decode(
		    w, w->start.cursor, w->start.cursorlen, &w->start.key);
		w->last_poslen = 0;
		return;
	}
	if (frame_values_unpack(w->marked, w->markedlen - clen, &key, &cause) !=
	    0)
		fatalx("%s: %s", __func__, cause);
	worker_cursor_decode(w, w->marked + w->markedlen - clen, clen, &key);
	frame_values_free(&key);
	memcpy(w->last_pos, w->marked_pos, w->marked_poslen);
	w->last_poslen = w->marked_poslen;
}

/* Send PROGRESS if it is time (or now, if forced). */
int
worker_progress(struct worker *w, int force)
{
	struct frame_progress m;
	int64_t now = clock_now_ms();
	uint8_t *buf;
	size_t len;

	if (!force && now - w->progress_at < WORKER_PROGRESS_SECS * 1000)
		return (0);
	w->progress_at = now;
	m.rows_done = w->cur.seq;
	m.rows_estimate = w->tbl != NULL ? w->tbl->rows_estimate : 0;
	m.lag_ms = 0;
	if (!(w->cur.flags & WORKER_CURSOR_BACKFILL) && w->polled_at != 0)
		m.lag_ms = (uint64_t)(now - w->polled_at);
	buf = frame_pack_progress(&m, w->id, w->pid, &len);
	worker_send(w, buf, len);
	return (0);
}

/*
 * Introspect, pick the operations and send SCHEMA (again only when the
 * columns changed).
 */
static int
worker_setup(struct worker *w)
{
	struct table *t;
	char name[FRAME_MAX_NAME * 2 + 16];
	uint8_t *buf;
	size_t len;
	int same, was_snapshot;

	if (introspect_table(w, &t) == -1)
		return (-1);
	same = w->tbl != NULL && introspect_same(w->tbl, t);
	/* Say it when it is first seen or changes, not at every setup. */
	was_snapshot = w->tbl == NULL || w->snapshot;
	introspect_free(w->tbl);
	w->tbl = t;
	snprintf(name, sizeof(name), "worker %s", t->display);
	log_setname(name);
	if (w->force_ops != NULL)
		w->ops = w->force_ops;
	else
		w->ops = t->mode == FRAME_MODE_CDC ? &cdc_ops : &ct_ops;
	t->fs.mode = w->ops->mode;
	worker_batch_reset(w);
	w->snapshot = t->snapshot_allowed;
	if (!w->snapshot && was_snapshot)
		log_info("snapshot isolation is off in database %s: reading "
			 "at READ COMMITTED, a change made during a backfill "
			 "chunk may be sent twice (the result converges)",
		    t->dbname);
	else if (db_run(w->db, "SET TRANSACTION ISOLATION LEVEL SNAPSHOT") ==
	    -1)
		return (worker_db_fail(w, "SET TRANSACTION ISOLATION LEVEL"));
	if (!same) {
		buf = frame_pack_schema(&t->fs, w->id, w->pid, &len);
		worker_send(w, buf, len);
	}
	return (0);
}

/*
 * The watermark at the resume position: the done position when
 * streaming; in a backfill only the floor of its fence, since rows of
 * the next chunk may be read at that same fence.
 */
static void
worker_resume_mark(struct worker *w)
{
	uint8_t pos[FRAME_MAX_POS];

	if (w->cur.flags & WORKER_CURSOR_BACKFILL)
		worker_pos(w, w->cur.done, 0, pos);
	else
		memcpy(pos, w->cur.done, w->ops->poslen);
	worker_watermark(w, pos);
}

/*
 * One poll of the stream: the changes up to the current fence, or up
 * to cap (a fence) if that is lower.
 */
static int
worker_poll(struct worker *w, const uint8_t *cap)
{
	uint8_t fence[WORKER_FENCE_MAX], pos[FRAME_MAX_POS];
	int64_t started = clock_now_ms();
	int lost = 0, rc = 0;

	if (worker_begin(w) == -1 || w->ops->fence(w, fence, &lost) == -1)
		return (-1);
	if (w->reload) {
		worker_rollback(w);
		return (0);
	}
	if (cap != NULL && memcmp(fence, cap, w->ops->fencelen) > 0)
		memcpy(fence, cap, w->ops->fencelen);
	if (!lost && (rc = w->ops->changes(w, fence, 0)) == -1)
		return (-1);
	if (lost || rc == 1) {
		worker_rollback(w);
		worker_cursor_fresh(w);
		return (0);
	}
	if (worker_commit(w) == -1)
		return (-1);
	worker_set_done(w, fence, 1);
	worker_pos(w, fence, 1, pos);
	w->polled_at = started;
	return (worker_watermark(w, pos));
}

/*
 * Stream until STOP (or a retention loss asks for a backfill, or the
 * table must be introspected again).  A poll whose fence was held back
 * (a CDC hand-over between capture instances) is followed by the next
 * at once.
 */
static int
worker_stream(struct worker *w)
{
	while (!w->stop && !(w->cur.flags & WORKER_CURSOR_BACKFILL)) {
		if (worker_poll(w, NULL) == -1)
			return (-1);
		if ((w->cur.flags & WORKER_CURSOR_BACKFILL) || w->reload)
			break;
		worker_progress(w, 0);
		if (!w->again)
			worker_sleep(w, w->cfg->advanced.poll_interval_ms);
	}
	return (0);
}

/*
 * Read the source position (the fence) alone, in its own transaction:
 * 0, 1 when the table must be introspected again first (w->reload),
 * -1 on error.
 */
int
worker_read_fence(struct worker *w, uint8_t *fence)
{
	int lost = 0;

	if (worker_begin(w) == -1 || w->ops->fence(w, fence, &lost) == -1)
		return (-1);
	if (w->reload) {
		worker_rollback(w);
		return (1);
	}
	return (worker_commit(w) == -1 ? -1 : 0);
}

/* run --once: read the stop position, once per process. */
static int
worker_once_read_stop(struct worker *w)
{
	uint8_t fence[WORKER_FENCE_MAX];
	int rc;

	if (w->has_stop_pos)
		return (0);
	if ((rc = worker_read_fence(w, fence)) != 0)
		return (rc == 1 ? 0 : -1);
	/* Past a CDC hand-over: where the fence was before it. */
	worker_pos(w, w->again ? w->top : fence, 1, w->stop_pos);
	w->has_stop_pos = 1;
	log_info("run --once: capturing up to the source position at start");
	return (0);
}

/*
 * run --once after any backfill: catch up to the stop position if the
 * cursor is below it (one poll, or more when a CDC hand-over holds a
 * fence back), then stop (unless a retention loss in a poll asks for
 * a backfill, or the table must be introspected again).
 */
static int
worker_once_finish(struct worker *w)
{
	uint8_t done[FRAME_MAX_POS];

	while (!(w->cur.flags & WORKER_CURSOR_POS) ||
	    memcmp(w->cur.done, w->stop_pos, w->ops->poslen) < 0) {
		memcpy(done, w->cur.done, w->ops->poslen);
		if (worker_poll(w, w->stop_pos) == -1)
			return (-1);
		if ((w->cur.flags & WORKER_CURSOR_BACKFILL) || w->reload)
			return (0);
		if (memcmp(w->cur.done, done, w->ops->poslen) <= 0)
			return (worker_fail(w, DB_CLASS_RETRYABLE,
			    "run --once: a poll did not move the cursor "
			    "towards the stop position"));
	}
	w->stop = 1;
	return (0);
}

/*
 * Backfill when one is under way, then stream; 0 once stopped, 1 when
 * the table must be introspected again (w->reload).
 */
static int
worker_capture(struct worker *w)
{
	int once = (w->start.flags & FRAME_START_ONCE) != 0;

	if (once && worker_once_read_stop(w) == -1)
		return (-1);
	while (!w->stop) {
		if (w->reload)
			return (1);
		if ((w->cur.flags & WORKER_CURSOR_BACKFILL) &&
		    backfill_run(w) == -1)
			return (-1);
		if (w->reload)
			return (1);
		if (w->stop)
			break;
		if (once) {
			if (worker_once_finish(w) == -1)
				return (-1);
		} else if (worker_stream(w) == -1)
			return (-1);
	}
	return (0);
}

/* The life of the worker after START, until STOP or a failure. */
static void
worker_loop(struct worker *w)
{
	int64_t backoff = 0;
	int rc;

	for (;;) {
		/* After a reconnect the mode may have changed: restore
		 * once the operations are known. */
		w->reload = 0;
		if (worker_setup(w) == 0) {
			worker_restore(w);
			/* The merger waits for a watermark at the resume
			 * position (supervisor/merge.c, rule 3). */
			if (w->errmsg[0] == '\0' &&
			    (w->cur.flags & WORKER_CURSOR_POS))
				worker_resume_mark(w);
			rc = w->errmsg[0] == '\0' ? worker_capture(w) : -1;
			if (rc == 0)
				break;
			/* Introspect again on the same connection: the
			 * last watermark is the current state. */
			if (rc == 1)
				continue;
		}
		if (w->errclass == DB_CLASS_PERMANENT) {
			worker_send_error(w, FRAME_ERROR_FAILED);
			worker_free(w);
			exit(1);
		}
		if (w->unmarked) {
			worker_send_error(w, FRAME_ERROR_RETRYABLE);
			worker_free(w);
			exit(1);
		}
		w->fail_backoff = w->fail_backoff == 0 ? WORKER_BACKOFF_MIN_MS
						       : w->fail_backoff * 2;
		if (w->fail_backoff > WORKER_BACKOFF_MAX_MS)
			w->fail_backoff = WORKER_BACKOFF_MAX_MS;
		log_warnx("%s; reconnecting in %lld ms", worker_errtext(w),
		    (long long)w->fail_backoff);
		w->errmsg[0] = '\0';
		if (worker_sleep(w, w->fail_backoff) == -1)
			break;
		if (worker_reconnect(w, &backoff) == -1) {
			if (w->stop)
				break;
			worker_send_error(w, FRAME_ERROR_FAILED);
			worker_free(w);
			exit(1);
		}
	}
	worker_flush(w);
}

/*
 * The whole worker for cfg->bindings[index], peer id (-I, the peerid of
 * its frames) on socket fd: returns the exit status (0 stopped;
 * failures exit 1 after FRAME_ERROR).  force_ops (tests only) captures
 * with those operations whatever the table's state.
 */
int
worker_run(const struct config *cfg, size_t index, uint32_t id, int fd,
    const struct worker_ops *force_ops)
{
	struct frame_hello hello;
	struct worker w;
	char name[FRAME_MAX_NAME * 2 + 16];
	int64_t backoff = 0;
	uint8_t *buf;
	size_t len;

	if (index >= cfg->nbindings)
		fatalx("binding %zu does not exist (%zu bindings)", index,
		    cfg->nbindings);
	signal(SIGPIPE, SIG_IGN);
	worker_init(&w, cfg, index, id, fd, force_ops);
	snprintf(name, sizeof(name), "worker %s.%s", w.binding->namespace,
	    w.binding->stream);
	log_setname(name);
	hello.version = PROTOCOL_VERSION;
	hello.binding_id = id;
	buf = frame_pack_hello(&hello, id, w.pid, &len);
	worker_send(&w, buf, len);
	if (worker_reconnect(&w, &backoff) == -1) {
		if (w.stop) {
			worker_free(&w);
			return (0);
		}
		worker_send_error(&w, FRAME_ERROR_FAILED);
		worker_free(&w);
		return (1);
	}
	worker_wait_start(&w);
	if (!w.stop)
		worker_loop(&w);
	worker_free(&w);
	return (0);
}

/*
 * The index of our binding in cfg: by name (-B, what the supervisor
 * passes), else -I is the index; (size_t)-1 if there is none.
 */
static size_t
worker_find_binding(const struct config *cfg, const struct cmd_opts *opts)
{
	if (opts->binding_name != NULL)
		return (config_binding_find(cfg, opts->binding_name));
	return (
	    opts->binding_id < cfg->nbindings ? opts->binding_id : (size_t)-1);
}

/* "-P worker": load the configuration and run binding opts->binding. */
int
worker_main(struct cmd_opts *opts)
{
	struct config_errors errs;
	struct config *cfg;
	char *cause = NULL;
	size_t i;
	size_t index;
	int rc;

	if (opts->config_path == NULL)
		fatalx("worker: no configuration file");
	if ((cfg = config_load(opts->config_path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_warnx("%s", errs.msgs[i]);
		config_errors_free(&errs);
		return (1);
	}
	/* No bindings: the supervisor's discovered ones (discover.c). */
	if (discover_import(cfg, &cause) != 0)
		fatalx("worker: %s", cause);
	if ((index = worker_find_binding(cfg, opts)) == (size_t)-1)
		fatalx("worker: binding %s is not in %s",
		    opts->binding_name != NULL ? opts->binding_name : "-I",
		    opts->config_path);
	rc = worker_run(cfg, index, opts->binding_id, WORKER_FD, NULL);
	config_free(cfg);
	return (rc);
}
