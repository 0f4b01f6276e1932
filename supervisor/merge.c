/*
 * The ordering stage: merge the event streams of all workers into one
 * stream in commit order.
 *
 * Each worker sends FRAME_EVENTS in increasing position order and
 * FRAME_WATERMARK(pos), "every event of this table at or below pos has
 * been sent".  The merger keeps one queue per table and releases events
 * by these rules:
 *
 * 1. Groups.  Positions are comparable only within a mode (proto.h):
 *    the ct tables form one group and the cdc tables another, each
 *    merged exactly by memcmp() order of positions, ties broken by
 *    table id.  A batch table's positions are its own cursor values,
 *    comparable with nothing, so each batch table is a group of its own.
 *    Within a release, the candidates of different groups are
 *    interleaved by commit time (ts, compared as text: RFC 3339 UTC of
 *    equal precision sorts as text), then ct before cdc, then table id.
 *    So the output is in exact commit order within each group and in
 *    best-effort time order across groups; a run that mixes ct and cdc
 *    tables gets no cross-mode guarantee, because SQL Server gives
 *    none (a CT version and an LSN cannot be compared).
 *
 * 2. Own watermark.  An event is released only once its table's
 *    watermark covers it (pos <= the table's latest watermark).  Events
 *    after the latest watermark (the "uncovered tail") may still be
 *    resent: when the worker goes away they are dropped, and the
 *    restarted worker, resuming from a watermark's cursor, sends them
 *    again.
 *
 * 3. Holding back.  Within a group, nothing is released above the
 *    group's bound B = the minimum watermark over the tables that hold:
 *    a table holds iff it has been started (merge_table_set_phase())
 *    in, or has reached, the streaming phase and has not failed or
 *    finished.  A streaming table holds even while its worker is being
 *    restarted, since the new worker resumes at its last watermark and
 *    may send positions just above it.  A holding table with no
 *    watermark yet holds at minus infinity (B is -inf and the group
 *    releases nothing) because it could send any position at or above
 *    its resume point, which may be below what others have sent:
 *    every worker must send a watermark at its resume position right
 *    after FRAME_START, and another at least every poll interval even
 *    when idle, or it stalls its group.  These do not hold:
 *     - a table not yet started (max_workers): waiting for it would
 *       stall the run until a slot frees, which in streaming may be
 *       never;
 *     - a table in backfill: snapshot rows have no commit position
 *       worth waiting for (its events are still released in position
 *       order under B, and it holds from FRAME_BACKFILL_DONE on);
 *     - a failed or finished table (its covered events still drain).
 *    A table that starts holding late (a backfill finishing, a table
 *    started after others) can have events below what was already
 *    released; they are released as soon as they are covered (the past
 *    cannot be reordered).  Order is exact among tables that were
 *    holding all along.
 *
 * 4. Duplicates.  An event at or below the highest position already
 *    accepted for its table (events or watermark) is dropped: a worker
 *    restarted from an older cursor resends what was received.  The
 *    same holds across a restart of the supervisor for an event at or
 *    below the table's floor (merge_table_set_floor()), the highest
 *    position of it already emitted and committed: a table's committed
 *    cursor can lag behind what was emitted (its events up to the
 *    group's bound were released while its newest watermark, above the
 *    bound, was not complete yet), and the events in between come again.
 *
 * 5. Whole versions (ct).  A ct group's bound inside a version (a
 *    watermark at a version boundary of one table, ordinal not all ff)
 *    releases only the versions below it: the events of one version
 *    go out together or not at all.  Ordinals are ranks within a
 *    version of a CHANGETABLE read, and a later read of the same
 *    version can rank rows differently (a row changed again moves to
 *    its newer version), so a version cut in two could not be resumed
 *    exactly after a restart: the position emitted last (the floor,
 *    rule 4) is meaningful only at a version's end.
 *
 * What can be committed: a table's watermark is complete once every
 * event of the table at or below it has been released; its cursor (and
 * last backfilled key) is then the table's merge_cursor(), to be stored
 * in the same state transaction as the output lines (output.c).  After
 * a crash, each table resumes after a position whose events are all in
 * the committed output, and every event not released lies above every
 * released position of its group, so the restart keeps the order.
 * FRAME_BACKFILL_DONE travels in band: the phase stored with a cursor
 * becomes streaming only with the watermark that ends the backfill,
 * and that cursor says backfill_done until merge_cursors_committed(),
 * so that the commit storing it reconciles the replica (supervisor.c).
 *
 * Flow control: pause reading (STYLE.md D3), not FRAME_CREDIT.
 * merge_queue_full(table) says the caller should proc_pause_reading()
 * that worker; it counts only covered events, which wait for other
 * tables alone, so a paused table never holds up its own release (no
 * deadlock: the table holding B has no covered events left after a
 * release, so it is never paused, and the uncovered tail waits for a
 * watermark that must be read).  Hysteresis: full above the limit,
 * not full again below half of it.  Credits would need worker
 * cooperation for the same effect; the socket buffer already bounds
 * what a paused worker can push.  A worker must send a watermark at
 * least every batch, since uncovered events are not bounded here.
 *
 * Cost: each released event scans the tables (O(tables)); fine for
 * the tens to hundreds of tables of one database.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

#define MERGE_CT_VERSION 8 /* version bytes of a ct position */

/* A schema shared by the batches sent under it. */
struct merge_schema {
	struct frame_schema s;
	int refs;
};

/* One FRAME_EVENTS; events [next, end) are not released. */
struct merge_batch {
	struct frame_events ev;
	struct merge_schema *schema;
	size_t next;
	size_t end;
	size_t bytes;
	TAILQ_ENTRY(merge_batch) entry;
};
TAILQ_HEAD(merge_batches, merge_batch);

/* A watermark waiting for its events to be released. */
struct merge_mark {
	struct merge_cursor c;
	int backfill_done;
	TAILQ_ENTRY(merge_mark) entry;
};
TAILQ_HEAD(merge_marks, merge_mark);

struct merge_table {
	uint32_t id;
	enum frame_mode mode;
	int started;
	enum frame_phase phase; /* live phase */
	struct merge_schema *schema;
	struct merge_batches queue;
	size_t nqueued; /* events not released */
	size_t ncovered; /* of which covered by the watermark */
	size_t bytes;
	struct merge_batch *cov_batch; /* first uncovered event, or NULL */
	size_t cov_index;
	uint8_t wm[FRAME_MAX_POS];
	size_t wmlen; /* 0: no watermark yet */
	uint8_t last[FRAME_MAX_POS]; /* highest position accepted */
	size_t lastlen;
	uint8_t floor[FRAME_MAX_POS]; /* emitted before: drop at or below */
	size_t floorlen;
	struct merge_marks marks;
	struct merge_cursor cursor; /* poslen 0: none yet */
	int full;
	int rewound; /* worker restarted: may repeat older watermarks */
};

/* The release bound of a group. */
enum merge_bound_kind {
	MERGE_BOUND_NONE = 0, /* nothing holds: +inf */
	MERGE_BOUND_BLOCKED, /* a holder has no watermark: -inf */
	MERGE_BOUND_POS
};

struct merge_bound {
	enum merge_bound_kind kind;
	const uint8_t *pos;
	size_t len;
};

struct merge {
	struct merge_table **tables; /* sorted by id */
	size_t ntables;
	size_t max_events;
	size_t max_bytes;
	struct merge_bound bounds[FRAME_MODE_MAX + 1];
};

static struct merge_table *merge_find(const struct merge *, uint32_t);
static void merge_schema_unref(struct merge_schema *);
static void merge_cursor_clear(struct merge_cursor *);
static void merge_batch_free(struct merge_table *, struct merge_batch *);
static void merge_table_free(struct merge_table *);
static const struct frame_event *merge_head(const struct merge_table *);
static void merge_advance_cover(struct merge_table *);
static void merge_drop_tail(struct merge_table *);
static int merge_seen(const struct merge_table *, const struct frame_event *);
static void merge_complete(struct merge_table *);
static int merge_holds(const struct merge_table *);
static void merge_compute_bounds(struct merge *);
static int merge_releasable(const struct merge *, const struct merge_table *);
static int merge_ct_ceiling(const uint8_t *, size_t);
static int merge_before(const struct merge_table *, const struct merge_table *);
static struct merge_table *merge_pick(const struct merge *);
static void merge_emit(struct merge_table *, merge_emit_cb, void *);

/* Create a merger; limits of 0 take the defaults. */
struct merge *
merge_create(size_t max_events, size_t max_bytes)
{
	struct merge *m;

	m = xcalloc(1, sizeof(*m));
	m->max_events = max_events != 0 ? max_events : MERGE_MAX_EVENTS;
	m->max_bytes = max_bytes != 0 ? max_bytes : MERGE_MAX_BYTES;
	return (m);
}

/* Free the merger and every event it still holds. */
void
merge_free(struct merge *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->ntables; i++)
		merge_table_free(m->tables[i]);
	free(m->tables);
	free(m);
}

/* Look a table up by id. */
static struct merge_table *
merge_find(const struct merge *m, uint32_t id)
{
	size_t lo = 0, hi = m->ntables, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->tables[mid]->id == id)
			return (m->tables[mid]);
		if (m->tables[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (NULL);
}

/* Register a table (not started: it holds nothing back). */
void
merge_table_add(struct merge *m, uint32_t id, enum frame_mode mode)
{
	struct merge_table *t;
	size_t i;

	if (merge_find(m, id) != NULL)
		fatalx("%s: table %u added twice", __func__, id);
	t = xcalloc(1, sizeof(*t));
	t->id = id;
	t->mode = mode;
	t->cursor.table_id = id;
	TAILQ_INIT(&t->queue);
	TAILQ_INIT(&t->marks);
	m->tables =
	    xreallocarray(m->tables, m->ntables + 1, sizeof(*m->tables));
	for (i = m->ntables; i > 0 && m->tables[i - 1]->id > id; i--)
		m->tables[i] = m->tables[i - 1];
	m->tables[i] = t;
	m->ntables++;
}

/* Drop a reference to a schema. */
static void
merge_schema_unref(struct merge_schema *ms)
{
	if (ms == NULL || --ms->refs > 0)
		return;
	frame_schema_free(&ms->s);
	free(ms);
}

/* Free the bytes a cursor owns. */
static void
merge_cursor_clear(struct merge_cursor *c)
{
	free(c->cursor);
	free(c->key);
	c->cursor = c->key = NULL;
	c->cursorlen = c->keylen = 0;
}

/* Unlink and free a batch. */
static void
merge_batch_free(struct merge_table *t, struct merge_batch *b)
{
	TAILQ_REMOVE(&t->queue, b, entry);
	t->bytes -= b->bytes;
	frame_events_free(&b->ev);
	merge_schema_unref(b->schema);
	free(b);
}

/* Free a table and all it holds. */
static void
merge_table_free(struct merge_table *t)
{
	struct merge_batch *b;
	struct merge_mark *mk;

	while ((b = TAILQ_FIRST(&t->queue)) != NULL)
		merge_batch_free(t, b);
	while ((mk = TAILQ_FIRST(&t->marks)) != NULL) {
		TAILQ_REMOVE(&t->marks, mk, entry);
		merge_cursor_clear(&mk->c);
		free(mk);
	}
	merge_cursor_clear(&t->cursor);
	merge_schema_unref(t->schema);
	free(t);
}

/*
 * A worker was started in phase (backfill, streaming), or the table
 * ended (failed, done: its uncovered tail is dropped).
 */
void
merge_table_set_phase(struct merge *m, uint32_t id, enum frame_phase phase)
{
	struct merge_table *t;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	if (phase == FRAME_PHASE_FAILED || phase == FRAME_PHASE_DONE)
		merge_drop_tail(t);
	else if (t->cursor.poslen == 0)
		t->cursor.phase = phase;
	t->started = 1;
	t->phase = phase;
}

/* The worker went away: drop what its last watermark does not cover. */
void
merge_table_disconnect(struct merge *m, uint32_t id)
{
	struct merge_table *t;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	merge_drop_tail(t);
	t->rewound = 1;
}

/*
 * Events of the table at or below pos were emitted before (by an
 * earlier run): drop them when they come again (rule 4).
 */
void
merge_table_set_floor(
    struct merge *m, uint32_t id, const uint8_t *pos, size_t len)
{
	struct merge_table *t;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	if (len > FRAME_MAX_POS)
		fatalx("%s: position of %zu bytes", __func__, len);
	memcpy(t->floor, pos, len);
	t->floorlen = len;
}

/* Drop the uncovered tail; what was accepted restarts at the watermark. */
static void
merge_drop_tail(struct merge_table *t)
{
	struct merge_batch *b, *next;
	size_t dropped = 0;

	if ((b = t->cov_batch) != NULL) {
		dropped = b->end - t->cov_index;
		b->end = t->cov_index;
		for (b = TAILQ_NEXT(b, entry); b != NULL; b = next) {
			next = TAILQ_NEXT(b, entry);
			dropped += b->end - b->next;
			merge_batch_free(t, b);
		}
		b = t->cov_batch;
		if (b->next == b->end)
			merge_batch_free(t, b);
	}
	t->nqueued -= dropped;
	t->cov_batch = NULL;
	memcpy(t->last, t->wm, t->wmlen);
	t->lastlen = t->wmlen;
	if (dropped != 0)
		log_debug("merge: table %u: dropped %zu uncovered events",
		    t->id, dropped);
}

/*
 * Set a table's schema (taken: *s is emptied).  Events pushed after it
 * are formatted with it.  -1 if its mode is not the table's.
 */
int
merge_set_schema(struct merge *m, uint32_t id, struct frame_schema *s)
{
	struct merge_table *t;
	struct merge_schema *ms;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	if (s->mode != t->mode)
		return (-1);
	ms = xcalloc(1, sizeof(*ms));
	ms->s = *s;
	ms->refs = 1;
	memset(s, 0, sizeof(*s));
	merge_schema_unref(t->schema);
	t->schema = ms;
	return (0);
}

/* The first event not released, or NULL. */
static const struct frame_event *
merge_head(const struct merge_table *t)
{
	const struct merge_batch *b;

	if ((b = TAILQ_FIRST(&t->queue)) == NULL)
		return (NULL);
	return (&b->ev.events[b->next]);
}

/* Was the event accepted, or emitted by an earlier run (rule 4)? */
static int
merge_seen(const struct merge_table *t, const struct frame_event *ev)
{
	if (t->lastlen != 0 &&
	    frame_pos_cmp(ev->pos, ev->poslen, t->last, t->lastlen) <= 0)
		return (1);
	return (t->floorlen != 0 &&
	    frame_pos_cmp(ev->pos, ev->poslen, t->floor, t->floorlen) <= 0);
}

/*
 * Queue a batch of events (taken: *ev is emptied); bytes is its frame
 * size.  Events at or below what was accepted are dropped.  Returns
 * the number kept, or -1 without a schema.
 */
int
merge_push_events(
    struct merge *m, uint32_t id, struct frame_events *ev, size_t bytes)
{
	struct merge_table *t;
	struct merge_batch *b;
	size_t skip = 0;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	if (t->schema == NULL || ev->ncolumns != t->schema->s.ncolumns)
		return (-1);
	while (skip < ev->n && merge_seen(t, &ev->events[skip]))
		skip++;
	if (skip != 0)
		log_debug(
		    "merge: table %u: dropped %zu resent events", id, skip);
	if (skip == ev->n) {
		frame_events_free(ev);
		return (0);
	}
	b = xcalloc(1, sizeof(*b));
	b->ev = *ev;
	memset(ev, 0, sizeof(*ev));
	b->schema = t->schema;
	b->schema->refs++;
	b->next = skip;
	b->end = b->ev.n;
	b->bytes = bytes;
	TAILQ_INSERT_TAIL(&t->queue, b, entry);
	t->nqueued += b->end - b->next;
	t->bytes += bytes;
	memcpy(t->last, b->ev.events[b->end - 1].pos,
	    b->ev.events[b->end - 1].poslen);
	t->lastlen = b->ev.events[b->end - 1].poslen;
	if (t->cov_batch == NULL) {
		t->cov_batch = b;
		t->cov_index = b->next;
	}
	merge_advance_cover(t);
	return ((int)(b->end - b->next));
}

/* Move the covered boundary over events at or below the watermark. */
static void
merge_advance_cover(struct merge_table *t)
{
	struct merge_batch *b;
	const struct frame_event *ev;

	while ((b = t->cov_batch) != NULL && t->wmlen != 0) {
		ev = &b->ev.events[t->cov_index];
		if (frame_pos_cmp(ev->pos, ev->poslen, t->wm, t->wmlen) > 0)
			break;
		t->ncovered++;
		if (++t->cov_index == b->end) {
			t->cov_batch = TAILQ_NEXT(b, entry);
			t->cov_index = t->cov_batch ? t->cov_batch->next : 0;
		}
	}
}

/*
 * Record a watermark.  -1 if it goes backwards or its position does not
 * fit the table's mode.
 */
int
merge_push_watermark(
    struct merge *m, uint32_t id, const struct frame_watermark *w)
{
	struct merge_table *t;
	struct merge_mark *mk;
	size_t len = 0;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	if ((t->mode == FRAME_MODE_CT && w->poslen != FRAME_POS_CT_SIZE) ||
	    (t->mode == FRAME_MODE_CDC && w->poslen != FRAME_POS_CDC_SIZE))
		return (-1);
	if (t->wmlen != 0 &&
	    frame_pos_cmp(w->pos, w->poslen, t->wm, t->wmlen) < 0) {
		/*
		 * A restarted worker resumes from the last fully released
		 * cursor, below the watermark its predecessor reached: what
		 * it repeats up to there is known already (its events are
		 * dropped as seen, the old marks keep their cursors).
		 */
		return (t->rewound ? 0 : -1);
	}
	t->rewound = 0;
	memcpy(t->wm, w->pos, w->poslen);
	t->wmlen = w->poslen;
	if (t->lastlen == 0 ||
	    frame_pos_cmp(t->wm, t->wmlen, t->last, t->lastlen) > 0) {
		memcpy(t->last, t->wm, t->wmlen);
		t->lastlen = t->wmlen;
	}
	merge_advance_cover(t);
	mk = TAILQ_LAST(&t->marks, merge_marks);
	if (mk != NULL &&
	    frame_pos_cmp(mk->c.pos, mk->c.poslen, w->pos, w->poslen) == 0) {
		/* An idle heartbeat: the newer cursor replaces it. */
		TAILQ_REMOVE(&t->marks, mk, entry);
		merge_cursor_clear(&mk->c);
	} else
		mk = xcalloc(1, sizeof(*mk));
	mk->c.table_id = id;
	memcpy(mk->c.pos, w->pos, w->poslen);
	mk->c.poslen = w->poslen;
	if (w->cursorlen != 0) {
		mk->c.cursor = xmalloc(w->cursorlen);
		memcpy(mk->c.cursor, w->cursor, w->cursorlen);
		mk->c.cursorlen = w->cursorlen;
	}
	if (w->key.n != 0) {
		mk->c.key = frame_values_pack(&w->key, &len);
		mk->c.keylen = len;
	}
	TAILQ_INSERT_TAIL(&t->marks, mk, entry);
	merge_complete(t);
	return (0);
}

/*
 * The backfill is complete: the table holds from now on, and the phase
 * stored with its cursor becomes streaming with its last watermark.
 */
void
merge_push_backfill_done(struct merge *m, uint32_t id)
{
	struct merge_table *t;
	struct merge_mark *mk;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	t->started = 1;
	t->phase = FRAME_PHASE_STREAMING;
	if ((mk = TAILQ_LAST(&t->marks, merge_marks)) != NULL)
		mk->backfill_done = 1;
	else {
		t->cursor.phase = FRAME_PHASE_STREAMING;
		t->cursor.dirty = 1;
		t->cursor.backfill_done = 1;
	}
}

/* Make complete watermarks the table's committable cursor. */
static void
merge_complete(struct merge_table *t)
{
	struct merge_mark *mk;
	const struct frame_event *head;
	enum frame_phase phase;
	int ended;

	while ((mk = TAILQ_FIRST(&t->marks)) != NULL) {
		head = merge_head(t);
		if (head != NULL &&
		    frame_pos_cmp(
			head->pos, head->poslen, mk->c.pos, mk->c.poslen) <= 0)
			break;
		TAILQ_REMOVE(&t->marks, mk, entry);
		phase =
		    mk->backfill_done ? FRAME_PHASE_STREAMING : t->cursor.phase;
		ended = t->cursor.backfill_done || mk->backfill_done;
		merge_cursor_clear(&t->cursor);
		t->cursor = mk->c;
		t->cursor.phase = phase;
		t->cursor.dirty = 1;
		t->cursor.backfill_done = ended;
		free(mk);
	}
}

/* Does the table hold its group back? */
static int
merge_holds(const struct merge_table *t)
{
	return (t->started && t->phase == FRAME_PHASE_STREAMING &&
	    t->mode != FRAME_MODE_BATCH);
}

/* Each group's bound: the minimum watermark of its holding tables. */
static void
merge_compute_bounds(struct merge *m)
{
	struct merge_bound *bd;
	struct merge_table *t;
	size_t i;

	memset(m->bounds, 0, sizeof(m->bounds));
	for (i = 0; i < m->ntables; i++) {
		t = m->tables[i];
		if (!merge_holds(t))
			continue;
		bd = &m->bounds[t->mode];
		if (t->wmlen == 0)
			bd->kind = MERGE_BOUND_BLOCKED;
		if (bd->kind == MERGE_BOUND_BLOCKED)
			continue;
		if (bd->kind == MERGE_BOUND_NONE ||
		    frame_pos_cmp(t->wm, t->wmlen, bd->pos, bd->len) < 0) {
			bd->kind = MERGE_BOUND_POS;
			bd->pos = t->wm;
			bd->len = t->wmlen;
		}
	}
}

/* Can the table's head be released now? */
static int
merge_releasable(const struct merge *m, const struct merge_table *t)
{
	const struct merge_bound *bd = &m->bounds[t->mode];
	const struct frame_event *head;

	if (t->ncovered == 0 || (head = merge_head(t)) == NULL)
		return (0);
	if (t->mode == FRAME_MODE_BATCH || bd->kind == MERGE_BOUND_NONE)
		return (1);
	if (bd->kind == MERGE_BOUND_BLOCKED)
		return (0);
	if (t->mode == FRAME_MODE_CT && !merge_ct_ceiling(bd->pos, bd->len))
		return (memcmp(head->pos, bd->pos, MERGE_CT_VERSION) < 0);
	return (frame_pos_cmp(head->pos, head->poslen, bd->pos, bd->len) <= 0);
}

/* Is a ct position the end of its version (ordinal all ff)? */
static int
merge_ct_ceiling(const uint8_t *pos, size_t len)
{
	size_t i;

	for (i = MERGE_CT_VERSION; i < len; i++) {
		if (pos[i] != 0xff)
			return (0);
	}
	return (1);
}

/* Order of two releasable heads (rule 1 at the top of the file). */
static int
merge_before(const struct merge_table *a, const struct merge_table *b)
{
	const struct frame_event *ea = merge_head(a), *eb = merge_head(b);
	int cmp;

	if (a->mode == b->mode && a->mode != FRAME_MODE_BATCH)
		cmp = frame_pos_cmp(ea->pos, ea->poslen, eb->pos, eb->poslen);
	else if ((cmp = strcmp(ea->ts, eb->ts)) == 0)
		cmp = (int)a->mode - (int)b->mode;
	if (cmp == 0)
		return (a->id < b->id);
	return (cmp < 0);
}

/* The table whose head goes next: each group's first, then across. */
static struct merge_table *
merge_pick(const struct merge *m)
{
	struct merge_table *best[FRAME_MODE_MAX + 1] = { NULL }, *t, *pick;
	size_t i;
	int g;

	for (i = 0; i < m->ntables; i++) {
		t = m->tables[i];
		if (!merge_releasable(m, t))
			continue;
		if (best[t->mode] == NULL || merge_before(t, best[t->mode]))
			best[t->mode] = t;
	}
	pick = NULL;
	for (g = 0; g <= FRAME_MODE_MAX; g++) {
		if (best[g] != NULL &&
		    (pick == NULL || merge_before(best[g], pick)))
			pick = best[g];
	}
	return (pick);
}

/* Hand the head of a table to the callback, then let it go. */
static void
merge_emit(struct merge_table *t, merge_emit_cb cb, void *arg)
{
	struct merge_batch *b = TAILQ_FIRST(&t->queue);

	cb(t->id, &b->schema->s, &b->ev.events[b->next], arg);
	t->nqueued--;
	t->ncovered--;
	if (++b->next == b->end)
		merge_batch_free(t, b);
}

/*
 * Release up to max events in order, each to cb (its strings are valid
 * only during the call).  Returns the number released.
 */
size_t
merge_release(struct merge *m, size_t max, merge_emit_cb cb, void *arg)
{
	struct merge_table *t;
	size_t i, n = 0;

	merge_compute_bounds(m);
	while (n < max && (t = merge_pick(m)) != NULL) {
		merge_emit(t, cb, arg);
		n++;
	}
	for (i = 0; i < m->ntables; i++)
		merge_complete(m->tables[i]);
	return (n);
}

/*
 * Should the caller stop reading this table's worker?  Counts covered
 * events only (see the top of the file); hysteresis of one half.
 */
int
merge_queue_full(struct merge *m, uint32_t id)
{
	struct merge_table *t;

	if ((t = merge_find(m, id)) == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	if (t->ncovered > m->max_events ||
	    (t->ncovered != 0 && t->bytes > m->max_bytes))
		t->full = 1;
	else if (t->ncovered <= m->max_events / 2 &&
	    (t->ncovered == 0 || t->bytes <= m->max_bytes / 2))
		t->full = 0;
	return (t->full);
}

/* Events of a table not released yet. */
size_t
merge_queued(const struct merge *m, uint32_t id)
{
	const struct merge_table *t;

	if ((t = merge_find(m, id)) == NULL)
		return (0);
	return (t->nqueued);
}

/* A table's committable cursor (NULL before its first watermark). */
const struct merge_cursor *
merge_cursor(const struct merge *m, uint32_t id)
{
	const struct merge_table *t;

	if ((t = merge_find(m, id)) == NULL || t->cursor.poslen == 0)
		return (NULL);
	return (&t->cursor);
}

/* The cursors returned so far are in the state file: not dirty now. */
void
merge_cursors_committed(struct merge *m)
{
	size_t i;

	for (i = 0; i < m->ntables; i++) {
		m->tables[i]->cursor.dirty = 0;
		m->tables[i]->cursor.backfill_done = 0;
	}
}
