/*
 * backfill.c: the initial copy of a table, interleaved with the stream
 * so that nothing is lost and the result converges (DESIGN.md §2).
 *
 * State between chunks (the cursor): a done position D (a CT version or
 * an LSN: every change at or below it is captured for the keys already
 * copied) and the last copied key K.  Invariant: every row with a key
 * at or below K has been sent as it was at D or later, and every change
 * at or below D to a key at or below K has been sent.
 *
 * One chunk, in one SNAPSHOT transaction when the database allows it:
 *
 *	1. F = the fence (CHANGE_TRACKING_CURRENT_VERSION() / max LSN),
 *	   checking that D is still retained (else start over, below).
 *	2. Catch the stream up from D to F for keys <= K only: those rows
 *	   were copied before, their changes are stream events.  A change
 *	   to a key above K is not sent: the chunk (keys just above K, read
 *	   after F was taken) already reflects it, or a later chunk will.
 *	   D = F.  A key change moves a row across K: sent is the half of
 *	   it at or below K, the delete of the old key (the row is gone
 *	   from the keys copied) or the insert of the new one (a row now
 *	   among them, which no chunk will read); the other half is a key
 *	   above K, which the chunks see as it is at F.  Both Change
 *	   Tracking and CDC give a key change as a delete and an insert,
 *	   so each row is filtered by its own key; a CDC update pair whose
 *	   keys differ is fetched whole and split (cdc.c).
 *	3. SELECT TOP (chunk) cols FROM t WHERE key > K ORDER BY key, each
 *	   row an insert event with snapshot true at position F + an
 *	   ordinal after every real change of F (CT: 2^63 + n; CDC: seqval
 *	   ff fe + n), n counting the backfill's rows so that positions
 *	   keep increasing across chunks read at the same F and across
 *	   restarts (n is in the cursor).  K = the last row's key.
 *	4. WATERMARK(D, K).  Fewer rows than the chunk size: the table is
 *	   done; BACKFILL_DONE, then the stream polls from D.
 *
 * How this improves the brief's version: the catch-up filters with
 * "key <= K" in the server (introspect_key_pred, so collation, GUID and
 * decimal order are the server's), and does not need the chunk's new
 * last key, so the chunk is read after the catch-up and streamed to the
 * supervisor row by row instead of being held in memory (memory stays
 * flat whatever the chunk size); keys above K are "suppressed" and
 * "dropped" alike, which is the same thing.  Since any prefix of a
 * chunk satisfies the invariant with D = F, a watermark can also be
 * sent after any row, which the worker does whenever a batch went out
 * in the middle of a chunk.
 *
 * Without snapshot isolation (READ COMMITTED) F is read before the
 * chunk, so the chunk may reflect changes after F; those changes come
 * again as stream events in the next catch-up (their keys are then at
 * or below K): sent twice, but applied in order the result converges.
 * Nothing is lost, because F is read before both reads.  CDC's fence
 * (the max LSN the capture job has harvested) trails the log the same
 * way and is safe for the same reason.
 *
 * A fence that asks for the table to be introspected again (a CDC
 * capture instance created or disabled, cdc.c) ends the step before
 * anything is read: the worker introspects and resumes from the last
 * watermark.
 *
 * Start over: a fresh table (empty cursor), a cursor out of retention
 * or of another mode clears K and D; the next chunk takes a new F as D
 * without a catch-up.  A table in advanced.skip_backfills is not copied:
 * D = F, BACKFILL_DONE at once, and streaming starts from there.
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

static int backfill_skip(struct worker *);
static int backfill_step(struct worker *, int *);
static int backfill_done(struct worker *);
static int backfill_row(
    struct worker *, const uint8_t *, const char *, char (*)[DBVALUE_TEXT_MAX]);
static char *backfill_sql(const struct worker *);
static void backfill_set_key(struct worker *, const struct frame_value *);

/* Tell the supervisor the backfill is complete (after its watermark). */
static int
backfill_done(struct worker *w)
{
	struct frame_backfill_done m;
	uint8_t *buf;
	size_t len;

	m.rows = w->cur.seq;
	buf = frame_pack_backfill_done(&m, w->id, w->pid, &len);
	worker_send(w, buf, len);
	log_info("backfill done: %llu rows", (unsigned long long)m.rows);
	return (worker_progress(w, 1));
}

/* Make the key of the row values (schema order) the last key. */
static void
backfill_set_key(struct worker *w, const struct frame_value *values)
{
	const struct table *t = w->tbl;
	struct frame_value *key;
	size_t i;

	key = xcalloc(t->nkeys, sizeof(*key));
	for (i = 0; i < t->nkeys; i++)
		key[i] = values[t->keys[i]];
	worker_set_key(w, key, t->nkeys);
	free(key);
}

/* skip_backfills: stream from the current fence on. */
static int
backfill_skip(struct worker *w)
{
	uint8_t fence[WORKER_FENCE_MAX], pos[FRAME_MAX_POS];
	int rc;

	if ((rc = worker_read_fence(w, fence)) != 0)
		return (rc == 1 ? 0 : -1);
	log_info("in advanced.skip_backfills: not backfilled, streaming from "
		 "now on");
	worker_set_done(w, fence, 1);
	w->cur.flags &= ~WORKER_CURSOR_BACKFILL;
	frame_values_free(&w->cur.key);
	worker_pos(w, fence, 1, pos);
	if (worker_watermark(w, pos) == -1)
		return (-1);
	return (backfill_done(w));
}

/* The chunk query: parameters @p1 (TOP) then the last key @p2... */
static char *
backfill_sql(const struct worker *w)
{
	const struct table *t = w->tbl;
	char *sql, *pred = NULL;

	if (w->cur.key.n != 0)
		pred = introspect_key_pred(t, NULL, 2, 0);
	xasprintf(&sql, "SELECT TOP (@p1) %s FROM %s%s%s ORDER BY %s",
	    t->cols_sql, t->qname, pred != NULL ? " WHERE " : "",
	    pred != NULL ? pred : "", t->keys_sql);
	free(pred);
	return (sql);
}

/* Send one row of a chunk as a snapshot insert. */
static int
backfill_row(struct worker *w, const uint8_t *fence, const char *ts,
    char (*text)[DBVALUE_TEXT_MAX])
{
	const struct table *t = w->tbl;
	struct frame_value v;
	struct frame_event *ev;
	uint8_t pos[FRAME_MAX_POS];
	size_t i;

	memcpy(pos, fence, w->ops->fencelen);
	w->ops->snapshot_tail(w->cur.seq, pos + w->ops->fencelen);
	ev = worker_event(w, FRAME_OP_CREATE, 1, pos, ts);
	for (i = 0; i < t->fs.ncolumns; i++) {
		if (db_value(w->db, (int)i, &v, text[i]) == -1)
			return (worker_db_fail(w, "backfill"));
		if (worker_value(w, i, &ev->values[i], &v) == -1)
			return (-1);
	}
	w->cur.seq++;
	if (!worker_checkpoint_due(w))
		return (0);
	backfill_set_key(w, ev->values);
	return (worker_watermark(w, NULL));
}

/*
 * Read one chunk after the last key and send it at fence; *rows is
 * how many rows it had.
 */
int
backfill_chunk(struct worker *w, const uint8_t *fence, size_t *rows)
{
	const struct table *t = w->tbl;
	struct db_param *p;
	char(*text)[DBVALUE_TEXT_MAX], ts[FRAME_MAX_TS + 1], *sql;
	size_t np = 1 + w->cur.key.n;
	int rc;

	*rows = 0;
	p = xcalloc(np, sizeof(*p));
	db_param_bigint(&p[0], w->cfg->advanced.backfill_chunk_size);
	if (w->cur.key.n != 0)
		introspect_key_params(t, &w->cur.key, &p[1]);
	sql = backfill_sql(w);
	rc = db_exec_params(w->db, sql, p, np);
	free(sql);
	free(p);
	if (rc == -1 || db_next_result(w->db) == -1)
		return (worker_db_fail(w, "backfill"));
	text = xcalloc(t->fs.ncolumns, sizeof(*text));
	clock_rfc3339(ts, sizeof(ts));
	while ((rc = db_next_row(w->db)) == 1) {
		if (backfill_row(w, fence, ts, text) == -1) {
			free(text);
			db_cancel(w->db);
			return (-1);
		}
		(*rows)++;
	}
	free(text);
	if (rc == -1 || db_drain(w->db) == -1)
		return (worker_db_fail(w, "backfill"));
	if (*rows == 0 || w->batch.n == 0)
		return (0);
	/* The last row's key, while the batch still holds it. */
	backfill_set_key(w, w->batch.events[w->batch.n - 1].values);
	return (0);
}

/* One chunk with its catch-up; *final once the table is copied. */
static int
backfill_step(struct worker *w, int *final)
{
	uint8_t fence[WORKER_FENCE_MAX], floor[FRAME_MAX_POS];
	size_t rows;
	int lost = 0, rc;

	*final = 0;
	if (worker_begin(w) == -1 || w->ops->fence(w, fence, &lost) == -1)
		return (-1);
	if (w->reload) {
		worker_rollback(w);
		return (0);
	}
	if (!lost && (w->cur.flags & WORKER_CURSOR_POS) && w->cur.key.n != 0) {
		if ((rc = w->ops->changes(w, fence, 1)) == -1)
			return (-1);
		lost = rc == 1;
	}
	if (lost) {
		worker_rollback(w);
		worker_cursor_fresh(w);
		return (0);
	}
	worker_set_done(w, fence, 1);
	if (backfill_chunk(w, fence, &rows) == -1 || worker_commit(w) == -1)
		return (-1);
	*final = rows < (size_t)w->cfg->advanced.backfill_chunk_size;
	if (*final)
		w->cur.flags &= ~WORKER_CURSOR_BACKFILL;
	worker_pos(w, fence, 0, floor);
	return (worker_watermark(w, floor));
}

/*
 * Backfill the table (resuming after the cursor's last key); returns
 * early, 0, when the table must be introspected again (w->reload).
 */
int
backfill_run(struct worker *w)
{
	int final = 0;

	if (!(w->cur.flags & WORKER_CURSOR_POS) &&
	    config_skips_backfill(w->cfg, w->tbl->schema, w->tbl->name))
		return (backfill_skip(w));
	log_info("backfilling%s: about %llu rows, %ld per chunk",
	    w->cur.key.n != 0 ? " (resuming)" : "",
	    (unsigned long long)w->tbl->rows_estimate,
	    w->cfg->advanced.backfill_chunk_size);
	worker_progress(w, 1);
	while (!final) {
		if (w->stop || w->reload)
			return (0);
		if (backfill_step(w, &final) == -1)
			return (-1);
	}
	return (backfill_done(w));
}
