/*
 * Unit tests for supervisor/merge.c.
 *
 * The merger decides the order of the output, so the tests replay
 * streams the way workers send them, in random interleavings, and
 * check the rules written at the top of merge.c: the output of a group
 * is sorted by (position, table id); nothing is released above any
 * holding table's watermark; tables that are failed, in backfill or
 * not started hold nothing back; resent events are dropped (also below
 * a floor, across a restart); a cursor becomes committable only once
 * its events are out; a queue reports full only with events that wait
 * for other tables.
 */

#include "config.h"

#include <sys/types.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

#define MAX_OUT 20000

/* What came out of merge_release(). */
struct out {
	uint32_t ids[MAX_OUT];
	uint64_t vers[MAX_OUT]; /* first 8 bytes of pos */
	uint64_t ords[MAX_OUT]; /* next 8 bytes */
	size_t n;
	uint64_t bound; /* the test's own min watermark; 0: none */
	int check_bound;
};

static void setup(void);
static void make_pos(uint8_t *, uint64_t, uint64_t);
static uint64_t load_be(const uint8_t *);
static void add_table(struct merge *, uint32_t, enum frame_mode);
static int push(struct merge *, uint32_t, const uint64_t *, size_t);
static int push_mode(
    struct merge *, uint32_t, enum frame_mode, const uint64_t *, size_t);
static int mark(struct merge *, uint32_t, uint64_t, const char *);
static int mark_mode(struct merge *, uint32_t, enum frame_mode, uint64_t);
static void emit_cb(
    uint32_t, const struct frame_schema *, const struct frame_event *, void *);
static size_t release(struct merge *, struct out *);

static void
setup(void)
{
	log_init("check_merge", LOG_LEVEL_WARN, 0);
}

/* A ct position: version and ordinal, big-endian. */
static void
make_pos(uint8_t *p, uint64_t v, uint64_t ord)
{
	int i;

	for (i = 0; i < 8; i++) {
		p[i] = v >> (56 - 8 * i);
		p[8 + i] = ord >> (56 - 8 * i);
	}
}

static uint64_t
load_be(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* Register a table with a one-column schema. */
static void
add_table(struct merge *m, uint32_t id, enum frame_mode mode)
{
	struct frame_schema s;
	struct frame_column c;

	memset(&c, 0, sizeof(c));
	c.name = (char *)"id";
	c.type_name = (char *)"int";
	c.type_id = 56;
	c.key_ordinal = 1;
	merge_table_add(m, id, mode);
	frame_schema_init(&s, "db", "dbo", "t", mode);
	frame_schema_add_column(&s, &c);
	ck_assert_int_eq(merge_set_schema(m, id, &s), 0);
	frame_schema_free(&s); /* emptied: a no-op */
}

/* Push ct events at versions v[0..n) (ordinal 0). */
static int
push(struct merge *m, uint32_t id, const uint64_t *v, size_t n)
{
	return (push_mode(m, id, FRAME_MODE_CT, v, n));
}

/* Push events of a mode; positions are padded to the mode's size. */
static int
push_mode(struct merge *m, uint32_t id, enum frame_mode mode, const uint64_t *v,
    size_t n)
{
	struct frame_events ev;
	struct frame_event *e;
	uint8_t pos[FRAME_MAX_POS];
	char ts[64];
	size_t i, len = mode == FRAME_MODE_CDC ? FRAME_POS_CDC_SIZE : 16;

	frame_events_init(&ev, 1);
	for (i = 0; i < n; i++) {
		memset(pos, 0, sizeof(pos));
		make_pos(pos, v[i], 0);
		snprintf(ts, sizeof(ts), "2026-01-01T00:00:%02llu.0000000Z",
		    (unsigned long long)(v[i] % 60));
		e = frame_events_add(&ev, FRAME_OP_CREATE, 0, pos, len, ts);
		e->values[0].type = FRAME_VALUE_INT;
		e->values[0].v.i = (int64_t)v[i];
	}
	return (merge_push_events(m, id, &ev, 100 * n));
}

/* Push a ct watermark at version v with a cursor. */
static int
mark(struct merge *m, uint32_t id, uint64_t v, const char *cursor)
{
	struct frame_watermark w;

	memset(&w, 0, sizeof(w));
	make_pos(w.pos, v, UINT64_MAX);
	w.poslen = 16;
	w.cursor = (const uint8_t *)cursor;
	w.cursorlen = cursor != NULL ? strlen(cursor) : 0;
	return (merge_push_watermark(m, id, &w));
}

/* Push a watermark of a mode at version v. */
static int
mark_mode(struct merge *m, uint32_t id, enum frame_mode mode, uint64_t v)
{
	struct frame_watermark w;

	memset(&w, 0, sizeof(w));
	memset(w.pos, 0xff, sizeof(w.pos));
	make_pos(w.pos, v, UINT64_MAX);
	w.poslen = mode == FRAME_MODE_CDC ? FRAME_POS_CDC_SIZE : 16;
	return (merge_push_watermark(m, id, &w));
}

/* Record an event; check it is in order and within the bound. */
static void
emit_cb(uint32_t id, const struct frame_schema *s, const struct frame_event *ev,
    void *arg)
{
	struct out *o = arg;
	uint64_t v = load_be(ev->pos), ord = load_be(ev->pos + 8);

	ck_assert_uint_lt(o->n, MAX_OUT);
	ck_assert_uint_eq(s->ncolumns, 1);
	ck_assert_int_eq(ev->values[0].v.i, (int64_t)v);
	if (o->check_bound)
		ck_assert_uint_le(v, o->bound);
	o->ids[o->n] = id;
	o->vers[o->n] = v;
	o->ords[o->n] = ord;
	o->n++;
}

/* Release everything releasable. */
static size_t
release(struct merge *m, struct out *o)
{
	return (merge_release(m, SIZE_MAX, emit_cb, o));
}

/*
 * Three streaming tables, random batches and random watermarks: the
 * output is sorted by (version, table id), never above the smallest
 * watermark, and complete once every watermark reaches the end.
 */
START_TEST(test_random_interleaving)
{
	static struct out o;
	struct merge *m;
	uint64_t evs[3][400], wm[3] = { 0, 0, 0 }, v, next;
	size_t nev[3], sent[3] = { 0, 0, 0 }, k, n, total = 0, i;
	uint32_t id;
	int round;

	srandom(1234 + _i);
	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	for (id = 0; id < 3; id++) {
		add_table(m, id, FRAME_MODE_CT);
		merge_table_set_phase(m, id, FRAME_PHASE_STREAMING);
		v = 1;
		for (nev[id] = 0; nev[id] < 400; nev[id]++) {
			v += 1 + random() % 5; /* ties across tables happen */
			evs[id][nev[id]] = v;
		}
		total += nev[id];
	}
	for (round = 0; round < 5000; round++) {
		id = random() % 3;
		if (random() % 3 != 0 && sent[id] < nev[id]) {
			n = 1 + random() % 6;
			if (n > nev[id] - sent[id])
				n = nev[id] - sent[id];
			ck_assert_int_eq(
			    push(m, id, evs[id] + sent[id], n), (int)n);
			sent[id] += n;
		} else {
			/* Any watermark below the next unsent event. */
			next = sent[id] < nev[id] ? evs[id][sent[id]] : 100000;
			if (next - 1 > wm[id])
				wm[id] += random() % (next - wm[id]);
			ck_assert_int_eq(mark(m, id, wm[id], "c"), 0);
		}
		o.bound = wm[0] < wm[1] ? wm[0] : wm[1];
		o.bound = o.bound < wm[2] ? o.bound : wm[2];
		o.check_bound = 1;
		release(m, &o);
	}
	for (id = 0; id < 3; id++) {
		if (sent[id] < nev[id])
			push(m, id, evs[id] + sent[id], nev[id] - sent[id]);
		ck_assert_int_eq(mark(m, id, 100000, "end"), 0);
	}
	o.check_bound = 0;
	release(m, &o);
	ck_assert_uint_eq(o.n, total);
	for (k = 1; k < o.n; k++)
		ck_assert(o.vers[k - 1] < o.vers[k] ||
		    (o.vers[k - 1] == o.vers[k] && o.ids[k - 1] < o.ids[k]));
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(merge_cursor(m, i));
		ck_assert_uint_eq(merge_queued(m, i), 0);
	}
	merge_free(m);
}
END_TEST

/* A streaming table without a watermark holds; failing it lets go. */
START_TEST(test_failed_stops_holding)
{
	static struct out o;
	struct merge *m;
	uint64_t a[] = { 10, 20, 30 }, b[] = { 15 };

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 2, FRAME_PHASE_STREAMING);
	ck_assert_int_eq(push(m, 1, a, 3), 3);
	ck_assert_int_eq(mark(m, 1, 30, "a"), 0);
	ck_assert_uint_eq(release(m, &o), 0); /* 2 has no watermark */
	ck_assert_int_eq(push(m, 2, b, 1), 1);
	ck_assert_int_eq(mark(m, 2, 12, "b"), 0);
	ck_assert_uint_eq(release(m, &o), 1); /* 10 only */
	ck_assert_uint_eq(o.vers[0], 10);
	/* Table 2 fails: its uncovered 15 is dropped, 1 goes on. */
	merge_table_set_phase(m, 2, FRAME_PHASE_FAILED);
	ck_assert_uint_eq(release(m, &o), 2);
	ck_assert_uint_eq(o.vers[1], 20);
	ck_assert_uint_eq(o.vers[2], 30);
	ck_assert_uint_eq(merge_queued(m, 2), 0);
	merge_free(m);
}
END_TEST

/* Not started and backfilling tables hold nothing back; done ones too. */
START_TEST(test_who_holds)
{
	static struct out o;
	struct merge *m;
	uint64_t a[] = { 10, 20 }, c[] = { 5, 25 };

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CT); /* never started */
	add_table(m, 3, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 3, FRAME_PHASE_BACKFILL);
	ck_assert_int_eq(push(m, 1, a, 2), 2);
	ck_assert_int_eq(mark(m, 1, 20, NULL), 0);
	ck_assert_uint_eq(release(m, &o), 2);
	/* The backfill's events are released under table 1's bound. */
	ck_assert_int_eq(push(m, 3, c, 2), 2);
	ck_assert_int_eq(mark(m, 3, 30, NULL), 0);
	ck_assert_uint_eq(release(m, &o), 1);
	ck_assert_uint_eq(o.vers[2], 5);
	/* Backfill done: table 3 holds now, at 30; 25 waits for 1. */
	merge_push_backfill_done(m, 3);
	ck_assert_int_eq(mark(m, 1, 26, NULL), 0);
	ck_assert_uint_eq(release(m, &o), 1);
	ck_assert_uint_eq(o.vers[3], 25);
	/* Table 1 done: table 3 alone holds. */
	merge_table_set_phase(m, 1, FRAME_PHASE_DONE);
	ck_assert_uint_eq(release(m, &o), 0);
	merge_free(m);
}
END_TEST

/* Equal positions in two tables: the lower table id first. */
START_TEST(test_ties)
{
	static struct out o;
	struct merge *m;
	uint64_t v[] = { 7, 8 };

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 9, FRAME_MODE_CT);
	add_table(m, 4, FRAME_MODE_CT);
	merge_table_set_phase(m, 9, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 4, FRAME_PHASE_STREAMING);
	push(m, 9, v, 2);
	push(m, 4, v, 2);
	mark(m, 9, 8, NULL);
	mark(m, 4, 8, NULL);
	ck_assert_uint_eq(release(m, &o), 4);
	ck_assert(
	    o.ids[0] == 4 && o.ids[1] == 9 && o.ids[2] == 4 && o.ids[3] == 9);
	merge_free(m);
}
END_TEST

/*
 * A worker restart: the uncovered tail is dropped at disconnect, and
 * what the new worker resends at or below the watermark is dropped.
 */
START_TEST(test_restart_dedup)
{
	static struct out o;
	struct merge *m;
	uint64_t a[] = { 1, 2, 3, 4, 5 }, again[] = { 2, 3, 4, 5, 6 };

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	ck_assert_int_eq(push(m, 1, a, 5), 5);
	ck_assert_int_eq(mark(m, 1, 3, "c3"), 0);
	ck_assert_uint_eq(merge_queued(m, 1), 5);
	merge_table_disconnect(m, 1);
	ck_assert_uint_eq(merge_queued(m, 1), 3);
	/*
	 * The restarted worker resumes from an older cursor and repeats
	 * its watermarks from there: known already, accepted (this was
	 * the bug: the table was failed after 5 restarts).
	 */
	ck_assert_int_eq(mark(m, 1, 2, "c2"), 0);
	ck_assert_int_eq(push(m, 1, again, 5), 3); /* 4, 5, 6 */
	ck_assert_int_eq(push(m, 1, a, 2), 0);
	ck_assert_int_eq(mark(m, 1, 6, "c6"), 0);
	ck_assert_uint_eq(release(m, &o), 6);
	ck_assert(o.vers[0] == 1 && o.vers[5] == 6);
	/* A watermark may not go back, nor have the wrong size. */
	ck_assert_int_eq(mark(m, 1, 5, NULL), -1);
	ck_assert_int_eq(mark_mode(m, 1, FRAME_MODE_CDC, 9), -1);
	merge_free(m);
}
END_TEST

/*
 * Two streaming tables: table 1's events up to table 2's watermark are
 * released while table 1's own newer watermark is not complete, so its
 * committable cursor lags behind what was emitted.  A new merger (the
 * supervisor restarted) given the emitted position as the floor drops
 * what the worker, resuming from that cursor, sends again; a
 * disconnect does not forget the floor.
 */
START_TEST(test_floor)
{
	static struct out o;
	struct merge *m;
	const struct merge_cursor *c;
	uint64_t a[] = { 7, 9 }, b[] = { 8 };
	uint8_t floor[16];

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 2, FRAME_PHASE_STREAMING);
	ck_assert_int_eq(mark(m, 1, 6, "c6"), 0);
	ck_assert_int_eq(push(m, 1, a, 2), 2);
	ck_assert_int_eq(mark(m, 1, 10, "c10"), 0);
	ck_assert_int_eq(push(m, 2, b, 1), 1);
	ck_assert_int_eq(mark(m, 2, 8, "d8"), 0);
	ck_assert_uint_eq(release(m, &o), 2); /* 7 of table 1, 8 */
	ck_assert_ptr_nonnull(c = merge_cursor(m, 1));
	ck_assert(c->cursorlen == 2 && memcmp(c->cursor, "c6", 2) == 0);
	merge_free(m);

	/* Restart: table 1 resumes from c6 and sends 7 and 9 again. */
	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	make_pos(floor, 7, 0);
	merge_table_set_floor(m, 1, floor, sizeof(floor));
	ck_assert_int_eq(mark(m, 1, 6, "c6"), 0);
	merge_table_disconnect(m, 1);
	ck_assert_int_eq(push(m, 1, a, 2), 1); /* 9 only */
	ck_assert_int_eq(mark(m, 1, 10, "c10"), 0);
	ck_assert_uint_eq(release(m, &o), 1);
	ck_assert(o.vers[0] == 9);
	merge_free(m);
}
END_TEST

/*
 * Rule 5: a ct bound inside a version releases only the versions below
 * it; the version goes out whole once the bound passes its end.
 */
START_TEST(test_whole_versions)
{
	static struct out o;
	struct frame_events ev;
	struct frame_watermark w;
	struct frame_event *e;
	struct merge *m;
	uint8_t pos[FRAME_MAX_POS];
	uint64_t vo[][2] = { { 4, 0 }, { 5, 0 }, { 5, 1 }, { 5, 2 } };
	size_t i;

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 2, FRAME_PHASE_STREAMING);
	frame_events_init(&ev, 1);
	for (i = 0; i < 4; i++) {
		memset(pos, 0, sizeof(pos));
		make_pos(pos, vo[i][0], vo[i][1]);
		e = frame_events_add(&ev, FRAME_OP_CREATE, 0, pos, 16,
		    "2026-01-01T00:00:00.0000000Z");
		e->values[0].type = FRAME_VALUE_INT;
		e->values[0].v.i = (int64_t)vo[i][0];
	}
	ck_assert_int_eq(merge_push_events(m, 1, &ev, 400), 4);
	ck_assert_int_eq(mark(m, 1, 5, NULL), 0);
	/* Table 2's watermark at a boundary inside version 5. */
	memset(&w, 0, sizeof(w));
	make_pos(w.pos, 5, 1);
	w.poslen = 16;
	ck_assert_int_eq(merge_push_watermark(m, 2, &w), 0);
	ck_assert_uint_eq(release(m, &o), 1);
	ck_assert(o.vers[0] == 4);
	ck_assert_int_eq(mark(m, 2, 5, NULL), 0);
	ck_assert_uint_eq(release(m, &o), 3);
	ck_assert(o.vers[3] == 5 && o.ords[3] == 2);
	merge_free(m);
}
END_TEST

/* A cursor is committable once its events are out; phase in band. */
START_TEST(test_cursor)
{
	static struct out o;
	struct merge *m;
	const struct merge_cursor *c;
	uint64_t a[] = { 10, 20 }, b[] = { 15 };

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_BACKFILL);
	merge_table_set_phase(m, 2, FRAME_PHASE_STREAMING);
	ck_assert_int_eq(mark(m, 2, 12, "b12"), 0); /* no events: complete */
	c = merge_cursor(m, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert(
	    c->dirty && c->cursorlen == 3 && memcmp(c->cursor, "b12", 3) == 0);
	merge_cursors_committed(m);
	ck_assert_int_eq(merge_cursor(m, 2)->dirty, 0);
	push(m, 1, a, 2);
	ck_assert_int_eq(mark(m, 1, 20, "a20"), 0);
	merge_push_backfill_done(m, 1);
	ck_assert_ptr_null(merge_cursor(m, 1)); /* 20 waits for table 2 */
	ck_assert_uint_eq(release(m, &o), 1); /* 10 */
	ck_assert_ptr_null(merge_cursor(m, 1));
	push(m, 2, b, 1);
	ck_assert_int_eq(mark(m, 2, 25, "b25"), 0);
	ck_assert_uint_eq(release(m, &o), 2); /* 15, 20 */
	c = merge_cursor(m, 1);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->phase, FRAME_PHASE_STREAMING);
	ck_assert(c->dirty && memcmp(c->cursor, "a20", 3) == 0);
	c = merge_cursor(m, 2);
	ck_assert(c->dirty && memcmp(c->cursor, "b25", 3) == 0);
	ck_assert_int_eq(c->phase, FRAME_PHASE_STREAMING);
	merge_free(m);
}
END_TEST

/*
 * Full counts covered events waiting for another table, with
 * hysteresis; a queue of events awaiting their own watermark never is.
 */
START_TEST(test_queue_full)
{
	static struct out o;
	struct merge *m;
	uint64_t v[20];
	size_t i;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < 20; i++)
		v[i] = 100 + i;
	m = merge_create(8, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 2, FRAME_PHASE_STREAMING);
	push(m, 1, v, 20);
	ck_assert_int_eq(merge_queue_full(m, 1), 0); /* uncovered */
	mark(m, 2, 50, NULL);
	mark(m, 1, 119, NULL);
	release(m, &o);
	ck_assert_uint_eq(o.n, 0);
	ck_assert_int_eq(merge_queue_full(m, 1), 1);
	ck_assert_int_eq(merge_queue_full(m, 2), 0);
	mark(m, 2, 113, NULL); /* 14 out, 6 left: above half */
	release(m, &o);
	ck_assert_uint_eq(o.n, 14);
	ck_assert_int_eq(merge_queue_full(m, 1), 1);
	mark(m, 2, 116, NULL); /* 3 left */
	release(m, &o);
	ck_assert_int_eq(merge_queue_full(m, 1), 0);
	merge_free(m);
}
END_TEST

/*
 * ct and cdc tables are merged separately: a cdc table without a
 * watermark holds back cdc only.  A batch table goes by its own
 * watermark alone.
 */
START_TEST(test_modes)
{
	static struct out o;
	struct merge *m;
	uint64_t a[] = { 1, 2 }, c[] = { 3 }, b[] = { 900 };

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CDC);
	add_table(m, 3, FRAME_MODE_CDC);
	add_table(m, 4, FRAME_MODE_BATCH);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 2, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 3, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 4, FRAME_PHASE_STREAMING);
	ck_assert_int_eq(push(m, 1, a, 2), 2);
	ck_assert_int_eq(mark(m, 1, 2, NULL), 0);
	ck_assert_int_eq(push_mode(m, 2, FRAME_MODE_CDC, c, 1), 1);
	ck_assert_int_eq(mark_mode(m, 2, FRAME_MODE_CDC, 3), 0);
	ck_assert_int_eq(push_mode(m, 4, FRAME_MODE_BATCH, b, 1), 1);
	ck_assert_int_eq(mark_mode(m, 4, FRAME_MODE_BATCH, 900), 0);
	ck_assert_uint_eq(release(m, &o), 3); /* ct 1, 2 and batch 900 */
	ck_assert_uint_eq(merge_queued(m, 2), 1);
	ck_assert_int_eq(mark_mode(m, 3, FRAME_MODE_CDC, 5), 0);
	ck_assert_uint_eq(release(m, &o), 1);
	ck_assert_uint_eq(o.ids[3], 2);
	merge_free(m);
}
END_TEST

/* Heartbeats at one position while blocked: the newest cursor wins. */
START_TEST(test_heartbeat)
{
	static struct out o;
	struct merge *m;
	uint64_t a[] = { 30 };

	memset(&o, 0, sizeof(o));
	m = merge_create(0, 0);
	add_table(m, 1, FRAME_MODE_CT);
	add_table(m, 2, FRAME_MODE_CT);
	merge_table_set_phase(m, 1, FRAME_PHASE_STREAMING);
	merge_table_set_phase(m, 2, FRAME_PHASE_STREAMING);
	push(m, 1, a, 1);
	ck_assert_int_eq(mark(m, 1, 30, "x"), 0);
	ck_assert_int_eq(mark(m, 1, 30, "y"), 0);
	ck_assert_int_eq(mark(m, 1, 30, "z"), 0);
	ck_assert_uint_eq(release(m, &o), 0); /* table 2 has no mark */
	ck_assert_ptr_null(merge_cursor(m, 1));
	ck_assert_int_eq(mark(m, 2, 40, "b"), 0);
	ck_assert_uint_eq(release(m, &o), 1);
	ck_assert(memcmp(merge_cursor(m, 1)->cursor, "z", 1) == 0);
	merge_free(m);
}
END_TEST

static Suite *
merge_suite(void)
{
	Suite *s = suite_create("merge");
	TCase *tc = tcase_create("merge");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_random_interleaving, 0, 20);
	tcase_add_test(tc, test_failed_stops_holding);
	tcase_add_test(tc, test_who_holds);
	tcase_add_test(tc, test_ties);
	tcase_add_test(tc, test_restart_dedup);
	tcase_add_test(tc, test_floor);
	tcase_add_test(tc, test_whole_versions);
	tcase_add_test(tc, test_cursor);
	tcase_add_test(tc, test_queue_full);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_heartbeat);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(merge_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
