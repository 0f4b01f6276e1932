/*
 * cdc.c: capture with Change Data Capture (SQLSERVER.md §2).
 *
 * Fence: sys.fn_cdc_get_max_lsn(), the last LSN the capture job has
 * harvested, read with the instance's low end sys.fn_cdc_get_min_lsn()
 * in one query.  Before the first harvest after the instance was
 * created (max NULL or below the low end), the fence is the LSN just
 * before the low end (sys.fn_cdc_decrement_lsn), so the stream starts
 * exactly at the instance's first LSN.  The changes of one poll are
 * the closed range [from, fence] of
 * cdc.fn_cdc_get_all_changes_<instance>(from, to, N'all update old'),
 * ordered by LSN, seqval and operation, where from is
 * sys.fn_cdc_increment_lsn(D) when the cursor's done position D covers
 * its whole LSN, and D's LSN itself otherwise (a watermark sent in the
 * middle of a large transaction): rows at or below D are then skipped,
 * so a restart resumes inside the LSN.  from below the low end means
 * cleanup removed changes we had not captured (so does error 313, the
 * misleadingly worded out-of-range error, SQLSERVER.md §2.5): the table
 * alone is backfilled again.
 *
 * Rows: operation 1 delete (values are the deleted row's: CDC has
 * them), 2 insert, 3 the before image of an update (it shares its
 * seqval with the 4 that follows and becomes that event's "before"),
 * 4 update.  Position: start_lsn (10) + seqval (10) + operation (1);
 * backfill rows use seqval ff fe + an 8-byte ordinal and operation 0,
 * after every real seqval of the LSN (a real seqval is an LSN below
 * the commit LSN).  Columns the instance does not capture (added later,
 * excluded, computed) are absent.  CDC keeps every intermediate change,
 * which is what historyMode needs.
 *
 * Not done here: following schema changes through cdc.ddl_history and a
 * second capture instance (DESIGN.md §2).  A vanished instance (min LSN
 * 0x00..) fails the step as retryable, so the worker reconnects and
 * introspects again, finding the newest instance (or CT).
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

#define CDC_LSN 10

static int cdc_fence(struct worker *, uint8_t *, int *);
static int cdc_changes(struct worker *, const uint8_t *, int);
static void cdc_snapshot_tail(uint64_t, uint8_t *);
static char *cdc_sql(const struct worker *, int);
static int cdc_lsn(const struct frame_value *, uint8_t *);
static int cdc_row(struct worker *, const char *, char (*)[DBVALUE_TEXT_MAX],
    struct frame_event **);
static int cdc_values(
    struct worker *, struct frame_value *, char (*)[DBVALUE_TEXT_MAX]);

const struct worker_ops cdc_ops = {
	.mode = FRAME_MODE_CDC,
	.tag = 'C',
	.fencelen = CDC_LSN,
	.poslen = FRAME_POS_CDC_SIZE,
	.fence = cdc_fence,
	.changes = cdc_changes,
	.snapshot_tail = cdc_snapshot_tail,
};

/* Backfill rows: seqval ff fe + ordinal, operation 0. */
static void
cdc_snapshot_tail(uint64_t seq, uint8_t *tail)
{
	int i;

	tail[0] = 0xff;
	tail[1] = 0xfe;
	for (i = 0; i < 8; i++)
		tail[2 + i] = (uint8_t)(seq >> (56 - 8 * i));
	tail[10] = 0;
}

/* A binary(10) LSN value; 0 if it is not one (NULL). */
static int
cdc_lsn(const struct frame_value *v, uint8_t *lsn)
{
	if (v->type != FRAME_VALUE_BIN || v->v.s.len != CDC_LSN)
		return (0);
	memcpy(lsn, v->v.s.ptr, CDC_LSN);
	return (1);
}

/* The fence, where the next changes start, and the retention check. */
static int
cdc_fence(struct worker *w, uint8_t *fence, int *lost)
{
	static const char sql[] =
	    "SELECT sys.fn_cdc_get_max_lsn(), sys.fn_cdc_get_min_lsn(@p1), "
	    "sys.fn_cdc_increment_lsn(@p2), "
	    "sys.fn_cdc_decrement_lsn(sys.fn_cdc_get_min_lsn(@p1))";
	static const uint8_t zero[CDC_LSN];
	struct frame_value v[4];
	char text[4][DBVALUE_TEXT_MAX];
	uint8_t max[CDC_LSN], min[CDC_LSN], inc[CDC_LSN], dec[CDC_LSN];
	struct db_param p[2];
	int rc, i, hmax;

	*lost = 0;
	db_param_nvarchar(
	    &p[0], w->tbl->cdc_instance, strlen(w->tbl->cdc_instance));
	db_param_binary(&p[1], w->cur.done, CDC_LSN);
	if (db_exec_params(w->db, sql, p, 2) == -1 ||
	    db_next_result(w->db) == -1 || (rc = db_next_row(w->db)) == -1)
		return (worker_db_fail(w, "CDC LSN range"));
	for (i = 0; rc == 1 && i < 4; i++)
		if (db_value(w->db, i, &v[i], text[i]) == -1)
			return (worker_db_fail(w, "CDC LSN range"));
	if (db_drain(w->db) == -1)
		return (worker_db_fail(w, "CDC LSN range"));
	if (rc == 0 || !cdc_lsn(&v[1], min) || memcmp(min, zero, CDC_LSN) == 0)
		return (worker_fail(w, DB_CLASS_RETRYABLE,
		    "capture instance %s is gone or not yet started",
		    w->tbl->cdc_instance));
	hmax = cdc_lsn(&v[0], max);
	if (!cdc_lsn(&v[3], dec))
		memset(dec, 0, sizeof(dec));
	memcpy(
	    fence, hmax && memcmp(max, dec, CDC_LSN) > 0 ? max : dec, CDC_LSN);
	if (!(w->cur.flags & WORKER_CURSOR_POS))
		return (0);
	/* A done position covering its whole LSN ends in 0xff bytes. */
	if (w->cur.done[FRAME_POS_CDC_SIZE - 1] == 0xff &&
	    w->cur.done[CDC_LSN] == 0xff && cdc_lsn(&v[2], inc))
		memcpy(w->from, inc, CDC_LSN);
	else
		memcpy(w->from, w->cur.done, CDC_LSN);
	if (memcmp(w->from, min, CDC_LSN) < 0) {
		log_warnx("the cursor is below the low end of capture "
			  "instance %s: changes were cleaned up before they "
			  "were captured; backfilling the table again",
		    w->tbl->cdc_instance);
		*lost = 1;
	}
	return (0);
}

/* The query of the changes; keyed adds "key <= @p3..". */
static char *
cdc_sql(const struct worker *w, int keyed)
{
	const struct table *t = w->tbl;
	char *sql, *cols = xstrdup(""), *q, *n, *fn, *pred = NULL;
	size_t i;

	for (i = 0; i < t->fs.ncolumns; i++) {
		if (!t->cdc_captured[i])
			continue;
		q = introspect_quote(t->fs.columns[i].name);
		xasprintf(&n, "%s, %s", cols, q);
		free(cols);
		free(q);
		cols = n;
	}
	xasprintf(&n, "fn_cdc_get_all_changes_%s", t->cdc_instance);
	fn = introspect_quote(n);
	free(n);
	if (keyed)
		pred = introspect_key_pred(t, NULL, 3, 1);
	xasprintf(&sql,
	    "SELECT __$start_lsn, __$seqval, __$operation%s FROM "
	    "cdc.%s(@p1, @p2, N'all update old')%s%s ORDER BY "
	    "__$start_lsn, __$seqval, __$operation",
	    cols, fn, pred != NULL ? " WHERE " : "", pred != NULL ? pred : "");
	free(cols);
	free(fn);
	free(pred);
	return (sql);
}

/* Copy the captured columns of the current row into values. */
static int
cdc_values(struct worker *w, struct frame_value *values,
    char (*text)[DBVALUE_TEXT_MAX])
{
	const struct table *t = w->tbl;
	struct frame_value v;
	size_t i;
	int col = 3;

	for (i = 0; i < t->fs.ncolumns; i++) {
		if (!t->cdc_captured[i])
			continue;
		if (db_value(w->db, col, &v, text[col]) == -1)
			return (worker_db_fail(w, "CDC changes"));
		col++;
		if (worker_value(w, i, &values[i], &v) == -1)
			return (-1);
	}
	return (0);
}

/*
 * One row of the changes.  *pending is the update event an operation 3
 * row started (its before image filled), completed by the 4 after it.
 * Returns 1 when an event is complete, 0 when not (skipped, or a
 * before image), -1 on failure.
 */
static int
cdc_row(struct worker *w, const char *ts, char (*text)[DBVALUE_TEXT_MAX],
    struct frame_event **pending)
{
	struct frame_value v[3];
	uint8_t pos[FRAME_POS_CDC_SIZE];
	struct frame_event *ev;
	enum frame_op op;
	int i;

	for (i = 0; i < 3; i++)
		if (db_value(w->db, i, &v[i], text[i]) == -1)
			return (worker_db_fail(w, "CDC changes"));
	if (!cdc_lsn(&v[0], pos) || !cdc_lsn(&v[1], pos + CDC_LSN) ||
	    v[2].type != FRAME_VALUE_INT)
		return (worker_fail(w, DB_CLASS_PERMANENT,
		    "CDC changes: unexpected LSN or operation"));
	pos[2 * CDC_LSN] = (uint8_t)(v[2].v.i == 3 ? 4 : v[2].v.i);
	if ((w->cur.flags & WORKER_CURSOR_POS) &&
	    memcmp(pos, w->cur.done, FRAME_POS_CDC_SIZE) <= 0)
		return (0); /* sent before a restart */
	switch (v[2].v.i) {
	case 1:
		op = FRAME_OP_DELETE;
		break;
	case 2:
		op = FRAME_OP_CREATE;
		break;
	case 3:
		*pending = worker_event(w, FRAME_OP_UPDATE, 0, pos, ts);
		frame_events_add_before(&w->batch, *pending);
		return (cdc_values(w, (*pending)->before, text) == -1 ? -1 : 0);
	default:
		op = FRAME_OP_UPDATE;
		break;
	}
	if (op == FRAME_OP_UPDATE && *pending != NULL &&
	    memcmp((*pending)->pos, pos, FRAME_POS_CDC_SIZE) == 0)
		ev = *pending;
	else
		ev = worker_event(w, op, 0, pos, ts);
	*pending = NULL;
	if (cdc_values(w, ev->values, text) == -1)
		return (-1);
	worker_set_done(w, pos, 0);
	return (1);
}

/* Send the changes from w->from up to the fence. */
static int
cdc_changes(struct worker *w, const uint8_t *fence, int keyed)
{
	const struct table *t = w->tbl;
	struct frame_event *pending = NULL;
	struct db_param *p;
	char(*text)[DBVALUE_TEXT_MAX], ts[FRAME_MAX_TS + 1], *sql;
	size_t np = 2 + (keyed ? t->nkeys : 0);
	int rc;

	if (memcmp(w->from, fence, CDC_LSN) > 0)
		return (0);
	p = xcalloc(np, sizeof(*p));
	db_param_binary(&p[0], w->from, CDC_LSN);
	db_param_binary(&p[1], fence, CDC_LSN);
	if (keyed)
		introspect_key_params(t, &w->cur.key, &p[2]);
	sql = cdc_sql(w, keyed);
	rc = db_exec_params(w->db, sql, p, np);
	free(sql);
	free(p);
	if (rc == -1 || db_next_result(w->db) == -1) {
		if (db_error(w->db)->number != 313)
			return (worker_db_fail(w, "CDC changes"));
		log_warnx("CDC changes: %s (313): the range is out of "
			  "retention; backfilling the table again",
		    db_error(w->db)->text);
		return (1);
	}
	text = xcalloc(3 + t->fs.ncolumns, sizeof(*text));
	worker_ts(ts, sizeof(ts));
	while ((rc = db_next_row(w->db)) == 1) {
		if ((rc = cdc_row(w, ts, text, &pending)) == -1)
			break;
		if (rc == 1 && worker_checkpoint_due(w))
			worker_watermark(w, NULL);
	}
	free(text);
	if (rc == -1) {
		db_cancel(w->db);
		return (w->errmsg[0] != '\0'
			? -1
			: worker_db_fail(w, "CDC changes"));
	}
	if (db_drain(w->db) == -1)
		return (worker_db_fail(w, "CDC changes"));
	return (0);
}
