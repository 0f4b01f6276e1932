/*
 * ct.c: capture with Change Tracking (SQLSERVER.md §1).
 *
 * Fence: CHANGE_TRACKING_CURRENT_VERSION(), read in the step's SNAPSHOT
 * transaction together with CHANGE_TRACKING_MIN_VALID_VERSION() of the
 * table.  A cursor version below the minimum valid version has lost
 * changes to cleanup (or to a TRUNCATE): CHANGETABLE would still answer
 * (SQLSERVER.md §1.4, "not an error"), so the check is ours; the table
 * alone is then backfilled again (backfill.c), which the supervisor
 * sees as watermarks carrying a last key again and a second
 * BACKFILL_DONE, and in the log.
 *
 * Changes: CHANGETABLE(CHANGES t, @cursor) LEFT JOIN the live table for
 * the values (so computed columns come too), versions up to the fence,
 * ordered by version then key.  Positions: version (8 bytes big-endian)
 * and an ordinal within the version (8); backfill rows use ordinals
 * from 2^63 (backfill.c).  D gives a delete event carrying the key
 * columns (the others absent); I gives "c", U gives "u".  An I or U row
 * whose live row is missing was deleted after CHANGETABLE was read
 * (possible only without snapshot isolation, where the two reads are
 * not one snapshot): it is sent as a delete; the delete's own version,
 * later than the fence, comes again in the next poll as D, which is
 * harmless.
 *
 * Net changes only: CT keeps one row per changed key with its last
 * version, and the values are the row as it is when read, so CT cannot
 * give every intermediate state of a row (historyMode needs CDC).  An
 * insert followed by an update reads as one "c" with the final values.
 *
 * Watermarks inside a catch-up are only possible at a version boundary
 * (CHANGETABLE resumes after a whole version), so a batch sent in the
 * middle of a large version is covered at the next boundary.
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

static int ct_fence(struct worker *, uint8_t *, int *);
static int ct_changes(struct worker *, const uint8_t *, int);
static void ct_snapshot_tail(uint64_t, uint8_t *);
static uint64_t ct_load(const uint8_t *);
static void ct_store(uint8_t *, uint64_t);
static char *ct_sql(const struct worker *, int);
static int ct_row(struct worker *, uint64_t, uint64_t, const char *,
    char (*)[DBVALUE_TEXT_MAX]);

const struct worker_ops ct_ops = {
	.mode = FRAME_MODE_CT,
	.tag = 'T',
	.fencelen = 8,
	.poslen = FRAME_POS_CT_SIZE,
	.fence = ct_fence,
	.changes = ct_changes,
	.snapshot_tail = ct_snapshot_tail,
};

/* A big-endian uint64. */
static uint64_t
ct_load(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* Store a big-endian uint64. */
static void
ct_store(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

/* Backfill rows come after every real change of the version. */
static void
ct_snapshot_tail(uint64_t seq, uint8_t *tail)
{
	ct_store(tail, (UINT64_C(1) << 63) + seq);
}

/* The current version, and whether the cursor is still retained. */
static int
ct_fence(struct worker *w, uint8_t *fence, int *lost)
{
	static const char sql[] =
	    "SELECT CHANGE_TRACKING_CURRENT_VERSION(), "
	    "CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@p1))";
	struct frame_value v[2];
	char text[2][DBVALUE_TEXT_MAX];
	struct db_param p;
	uint64_t done;
	int rc, i;

	*lost = 0;
	db_param_nvarchar(&p, w->tbl->qname, strlen(w->tbl->qname));
	if (db_exec_params(w->db, sql, &p, 1) == -1 ||
	    db_next_result(w->db) == -1 || (rc = db_next_row(w->db)) == -1)
		return (worker_db_fail(w, "change tracking version"));
	for (i = 0; rc == 1 && i < 2; i++)
		if (db_value(w->db, i, &v[i], text[i]) == -1)
			return (worker_db_fail(w, "change tracking version"));
	if (db_drain(w->db) == -1)
		return (worker_db_fail(w, "change tracking version"));
	if (rc == 0 || v[0].type != FRAME_VALUE_INT)
		return (worker_fail(w, DB_CLASS_PERMANENT,
		    "Change Tracking is not enabled on database %s",
		    w->tbl->dbname));
	if (v[1].type != FRAME_VALUE_INT)
		return (worker_fail(w, DB_CLASS_PERMANENT,
		    "CHANGE_TRACKING_MIN_VALID_VERSION is NULL: Change "
		    "Tracking is off for the table (ALTER TABLE %s ENABLE "
		    "CHANGE_TRACKING) or the VIEW CHANGE TRACKING permission "
		    "is missing",
		    w->tbl->qname));
	ct_store(fence, (uint64_t)v[0].v.i);
	if (!(w->cur.flags & WORKER_CURSOR_POS))
		return (0);
	done = ct_load(w->cur.done);
	if (done < (uint64_t)v[1].v.i) {
		if (!w->lost_logged)
			log_warnx(
			    "the cursor (version %llu) is below the table's "
			    "minimum valid Change Tracking version %lld: "
			    "changes were cleaned up before they were "
			    "captured; backfilling the table again",
			    (unsigned long long)done, (long long)v[1].v.i);
		w->lost_logged = 1;
		*lost = 1;
	}
	return (0);
}

/* The CHANGETABLE query; keyed adds "key <= @p3..". */
static char *
ct_sql(const struct worker *w, int keyed)
{
	const struct table *t = w->tbl;
	char *sql, *ctkeys, *tcols, *join, *pred = NULL;

	ctkeys = introspect_keys(t, "ct");
	tcols = introspect_cols(t, "t");
	join = introspect_key_join(t, "t", "ct");
	if (keyed)
		pred = introspect_key_pred(t, "ct", 3, 1);
	xasprintf(&sql,
	    "SELECT ct.SYS_CHANGE_VERSION, ct.SYS_CHANGE_OPERATION, %s, %s "
	    "FROM CHANGETABLE(CHANGES %s, @p1) AS ct LEFT JOIN %s AS t ON %s "
	    "WHERE ct.SYS_CHANGE_VERSION <= @p2%s%s ORDER BY "
	    "ct.SYS_CHANGE_VERSION, %s",
	    ctkeys, tcols, t->qname, t->qname, join,
	    pred != NULL ? " AND " : "", pred != NULL ? pred : "", ctkeys);
	free(ctkeys);
	free(tcols);
	free(join);
	free(pred);
	return (sql);
}

/* Send one CHANGETABLE row as an event at (version, ordinal). */
static int
ct_row(struct worker *w, uint64_t version, uint64_t ordinal, const char *ts,
    char (*text)[DBVALUE_TEXT_MAX])
{
	const struct table *t = w->tbl;
	struct frame_value v, op;
	struct frame_event *ev;
	uint8_t pos[FRAME_POS_CT_SIZE];
	size_t i, first = 2 + t->nkeys;
	enum frame_op fop;
	char opc = 'U';

	if (db_value(w->db, 1, &op, text[1]) == -1 ||
	    db_value(w->db, (int)(first + t->keys[0]), &v, text[first]) == -1)
		return (worker_db_fail(w, "CHANGETABLE"));
	if (op.type == FRAME_VALUE_STR && op.v.s.len > 0)
		opc = (char)op.v.s.ptr[0];
	if (opc == 'D' || v.type == FRAME_VALUE_NULL)
		fop = FRAME_OP_DELETE;
	else
		fop = opc == 'I' ? FRAME_OP_CREATE : FRAME_OP_UPDATE;
	ct_store(pos, version);
	ct_store(pos + 8, ordinal);
	ev = worker_event(w, fop, 0, pos, ts);
	if (fop == FRAME_OP_DELETE) {
		for (i = 0; i < t->nkeys; i++) {
			if (db_value(w->db, (int)(2 + i), &v, text[2 + i]) ==
			    -1)
				return (worker_db_fail(w, "CHANGETABLE"));
			if (worker_value(w, t->keys[i], &ev->values[t->keys[i]],
				&v) == -1)
				return (-1);
		}
		return (0);
	}
	for (i = 0; i < t->fs.ncolumns; i++) {
		if (db_value(w->db, (int)(first + i), &v, text[first + i]) ==
		    -1)
			return (worker_db_fail(w, "CHANGETABLE"));
		if (worker_value(w, i, &ev->values[i], &v) == -1)
			return (-1);
	}
	return (0);
}

/* Send the changes after the cursor's version up to the fence. */
static int
ct_changes(struct worker *w, const uint8_t *fence, int keyed)
{
	const struct table *t = w->tbl;
	struct db_param *p;
	struct frame_value v;
	char(*text)[DBVALUE_TEXT_MAX], ts[FRAME_MAX_TS + 1], *sql;
	uint64_t from = ct_load(w->cur.done), to = ct_load(fence);
	uint64_t version, prev = 0, ordinal = 0;
	uint8_t boundary[8];
	size_t np = 2 + (keyed ? t->nkeys : 0);
	int rc;

	if (to <= from)
		return (0);
	p = xcalloc(np, sizeof(*p));
	db_param_bigint(&p[0], (int64_t)from);
	db_param_bigint(&p[1], (int64_t)to);
	if (keyed)
		introspect_key_params(t, &w->cur.key, &p[2]);
	sql = ct_sql(w, keyed);
	rc = db_exec_params(w->db, sql, p, np);
	free(sql);
	free(p);
	if (rc == -1 || db_next_result(w->db) == -1)
		return (worker_db_fail(w, "CHANGETABLE"));
	text = xcalloc(2 + t->nkeys + t->fs.ncolumns, sizeof(*text));
	clock_rfc3339(ts, sizeof(ts));
	while ((rc = db_next_row(w->db)) == 1) {
		if (db_value(w->db, 0, &v, text[0]) == -1 ||
		    v.type != FRAME_VALUE_INT) {
			rc = worker_db_fail(w, "CHANGETABLE version");
			break;
		}
		version = (uint64_t)v.v.i;
		if (version != prev && prev != 0) {
			/* Every change up to prev is in the batch. */
			ct_store(boundary, prev);
			worker_set_done(w, boundary, 1);
			if (worker_checkpoint_due(w))
				worker_watermark(w, NULL);
			ordinal = 0;
		}
		prev = version;
		if ((rc = ct_row(w, version, ordinal++, ts, text)) == -1)
			break;
	}
	free(text);
	if (rc == -1) {
		db_cancel(w->db);
		return (w->errmsg[0] != '\0'
			? -1
			: worker_db_fail(w, "CHANGETABLE"));
	}
	if (db_drain(w->db) == -1)
		return (worker_db_fail(w, "CHANGETABLE"));
	return (0);
}
