/*
 * cdc.c: capture with Change Data Capture (SQLSERVER.md §2).
 *
 * Fence: sys.fn_cdc_get_max_lsn(), the last LSN the capture job has
 * harvested, read with the instances' low ends (cdc.change_tables
 * start_lsn, which sys.fn_cdc_get_min_lsn() returns) in one query.
 * Before the first harvest after the instance was created (max NULL
 * or below the low end), the fence is the LSN just before the low end
 * (sys.fn_cdc_decrement_lsn), so the stream starts exactly at the
 * instance's first LSN.  The changes of one poll are
 * the closed range [from, fence] of
 * cdc.fn_cdc_get_all_changes_<instance>(from, to, N'all update old'),
 * ordered by LSN, seqval and operation, where from is
 * sys.fn_cdc_increment_lsn(D) when the cursor's done position D covers
 * its whole LSN, and D's LSN itself otherwise (a watermark sent in the
 * middle of a large transaction): rows at or below D are then skipped,
 * so a restart resumes inside the LSN.  from below the low end of
 * every instance means cleanup removed changes we had not captured,
 * or their instance was disabled (so does error 313, the
 * misleadingly worded out-of-range error, SQLSERVER.md §2.5): the table
 * alone is backfilled again.
 *
 * Rows: operation 1 delete (values are the deleted row's: CDC has
 * them), 2 insert, 3 the before image of an update (it shares its
 * seqval with the 4 that follows and becomes that event's "before"),
 * 4 update.  Position: start_lsn (10) + seqval (10) + operation (1);
 * backfill rows use seqval ff fe + an 8-byte ordinal and operation 0,
 * after every real seqval of the LSN (a real seqval is an LSN below
 * the commit LSN).  An update pair is done when its 4 is: a 3 at or
 * below the cursor is skipped with it.  Columns the instance does not
 * capture (added later, excluded, computed) are absent.  CDC keeps
 * every intermediate change, which is what historyMode needs.
 *
 * Key changes (issue 5): SQL Server logs an UPDATE of the primary key
 * (a clustered or unique index key) as a delete of the old row and an
 * insert of the new one, 1 then 2, each its own row (a "split" update,
 * Microsoft KB 238254; t/sim_cdc.py "key updates"); they need nothing
 * special.  An update pair whose key columns differ (a primary key
 * that is not the clustered key changes in place) becomes a delete of
 * the old key at the 3's position and an insert of the new key at the
 * 4's, so that the old key is deleted downstream.  Keys are compared
 * byte for byte: a key changed only in case (equal under a
 * case-insensitive collation) is a new key to a replica keyed by
 * bytes.  The 3 is kept (copied) until its 4 arrives, and the pair's
 * events are made together, so no watermark falls between them.  The
 * backfill's keyed catch-up ("key <= K") fetches every update pair
 * whole (a filter in the server could keep one half) with a column
 * telling whether the row's key is at or below K: a delete is sent
 * when the old key is, an insert when the new key is, an update when
 * either is (backfill.c).
 *
 * ts: the commit time of the change's transaction, read with the
 * change as Debezium does (SqlServerConnection.java):
 * sys.fn_cdc_map_lsn_to_time(__$start_lsn), that is
 * cdc.lsn_time_mapping.tran_end_time, a datetime in the server's local
 * time, moved to UTC by the server's current UTC offset
 * (DATEPART(TZOFFSET, SYSDATETIMEOFFSET())), so that dbvalue.c renders
 * it like every datetime: RFC 3339 UTC with milliseconds.  (Across a daylight-saving change the
 * current offset is not the one of the commit: Debezium has the same
 * hour of error.)  Backfill rows carry the time they were read, and
 * so does a change whose LSN has no cdc.lsn_time_mapping row.
 *
 * Capture instances (SQLSERVER.md §2.6, §2.9).  After ALTER TABLE an
 * instance keeps its column set: added columns are not captured,
 * dropped ones are NULL.  The DBA creates a second instance (at most
 * two per table) and later disables the old one.  Both capture every
 * change from the new one's start_lsn S on, and change_tables.end_lsn
 * stays NULL, so S is the hand-over point, as in Debezium's
 * SqlServerStreamingChangeEventSource (the old table's stop LSN is the
 * new one's start LSN): changes below S are read from the old
 * instance, changes from S on from the new one, none twice and none
 * lost.  Every fence query lists the table's instances with their
 * start_lsn (raised by cleanup) in start_lsn order; the instance read
 * is the newest whose start_lsn is at or below the first LSN to read
 * (from), and while an older one is read the fence is held back to
 * the LSN before the next one's start (w->again: poll again at once),
 * so that the next poll starts at S in the new instance.  A fresh
 * backfill reads at the newest instance.  When the set of instances
 * differs from the one introspected (one created or disabled), the
 * step ends before reading anything (w->reload) and the worker
 * introspects the table again on the same connection and resumes
 * from its last watermark: the live columns and each instance's
 * captured columns are read again, and FRAME_SCHEMA goes out if the
 * columns changed (an added column is absent from the events of the
 * old instance, present from S on; a dropped one leaves the schema,
 * which the replica keeps as <col>__deleted).  The switch is logged
 * with the columns it adds and drops and the old instance's
 * cdc.ddl_history.  If the old instance is disabled before the
 * cursor reached S, the changes in between are gone: like a
 * retention loss, the table alone is backfilled again, and the log
 * says which instance was disabled.  Values of an added column set
 * between the ALTER and S are not captured by either instance; the
 * row shows them only once it changes again (Debezium documents the
 * same).
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

#define CDC_LSN 10
#define CDC_COL_TS 3 /* the commit time, after lsn, seqval, operation */
#define CDC_COL_FIRST 4 /* the first captured column */

/*
 * The commit time of a change in UTC: the local time of
 * cdc.lsn_time_mapping.tran_end_time less the server's current offset
 * (Debezium reads the same with TODATETIMEOFFSET,
 * SqlServerConnection.java).
 */
#define CDC_SQL_TS \
	"DATEADD(minute, -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()), " \
	"sys.fn_cdc_map_lsn_to_time(__$start_lsn))"

/* An update's before image (operation 3), kept until its 4 comes. */
struct cdc_pair {
	uint8_t pos[FRAME_POS_CDC_SIZE]; /* of the 3 */
	struct frame_values before; /* owned copy, one value per column */
	int in; /* catch-up: its key is at or below the last key */
	int set;
};

/* A capture instance as the fence query sees it. */
struct cdc_range {
	char name[FRAME_MAX_NAME];
	uint8_t start[CDC_LSN]; /* start_lsn, the low end */
	uint8_t before[CDC_LSN]; /* the LSN before it */
};

/* What the fence query returns. */
struct cdc_fenceinfo {
	uint8_t max[CDC_LSN]; /* sys.fn_cdc_get_max_lsn() */
	int hmax; /* ... is not NULL */
	uint8_t inc[CDC_LSN]; /* the LSN after the done position's */
	int hinc;
	struct cdc_range r[INTROSPECT_INSTANCES_MAX]; /* oldest first */
	size_t n;
};

/* One query of changes being read. */
struct cdc_poll {
	char ts[FRAME_MAX_TS + 1]; /* of the LSN ts_lsn */
	uint8_t ts_lsn[CDC_LSN];
	int ts_set;
	char (*text)[DBVALUE_TEXT_MAX]; /* per result column */
	struct frame_value *row; /* the current row, per table column */
	int keyed; /* the catch-up: a last column "key <= K" (1 or 0) */
	int flagcol;
	struct cdc_pair pair;
};

static int cdc_fence(struct worker *, uint8_t *, int *);
static void cdc_lsn_text(const uint8_t *, char *, size_t);
static int cdc_fence_read(struct worker *, struct cdc_fenceinfo *);
static int cdc_fence_same(const struct table *, const struct cdc_fenceinfo *);
static void cdc_log_instances(struct worker *, const struct cdc_fenceinfo *);
static void cdc_log_lost(struct worker *, const struct cdc_fenceinfo *);
static void cdc_log_ddl(struct worker *, const struct table_instance *);
static void cdc_diff_columns(const struct table_instance *,
    const struct table_instance *, char *, size_t);
static void cdc_use(struct worker *, size_t, const struct cdc_fenceinfo *);
static int cdc_changes(struct worker *, const uint8_t *, int);
static void cdc_snapshot_tail(uint64_t, uint8_t *);
static char *cdc_sql(const struct worker *, int);
static int cdc_lsn(const struct frame_value *, uint8_t *);
static int cdc_commit_ts(struct worker *, struct cdc_poll *, const uint8_t *);
static void cdc_poll_init(struct worker *, struct cdc_poll *, int);
static void cdc_poll_free(struct cdc_poll *);
static int cdc_row(struct worker *, struct cdc_poll *);
static int cdc_read(struct worker *, struct cdc_poll *);
static int cdc_event(struct worker *, const struct cdc_poll *, enum frame_op,
    const uint8_t *, const struct frame_value *, const struct frame_value *);
static int cdc_value_eq(const struct frame_value *, const struct frame_value *);
static int cdc_same_key(const struct table *, const struct frame_value *,
    const struct frame_value *);
static int cdc_pair_keep(
    struct worker *, struct cdc_poll *, const uint8_t *, int);
static int cdc_pair_send(
    struct worker *, struct cdc_poll *, const uint8_t *, int);

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

/*
 * The ts of the events of the current row (at pos): the commit time of
 * its LSN, read once per LSN; the read time if the server has none
 * (an LSN without a cdc.lsn_time_mapping row).
 */
static int
cdc_commit_ts(struct worker *w, struct cdc_poll *q, const uint8_t *pos)
{
	struct frame_value v;

	if (q->ts_set && memcmp(q->ts_lsn, pos, CDC_LSN) == 0)
		return (0);
	if (db_value(w->db, CDC_COL_TS, &v, q->text[CDC_COL_TS]) == -1)
		return (worker_db_fail(w, "CDC changes"));
	if (v.type == FRAME_VALUE_STR && v.v.s.len < sizeof(q->ts)) {
		memcpy(q->ts, v.v.s.ptr, v.v.s.len);
		q->ts[v.v.s.len] = '\0';
	} else {
		log_debug("no commit time for an LSN: using the read time");
		clock_rfc3339(q->ts, sizeof(q->ts));
	}
	memcpy(q->ts_lsn, pos, CDC_LSN);
	q->ts_set = 1;
	return (0);
}

/* An LSN as SQL Server prints it: 0000002A:000001F4:0003. */
static void
cdc_lsn_text(const uint8_t *l, char *buf, size_t size)
{
	snprintf(buf, size, "%02X%02X%02X%02X:%02X%02X%02X%02X:%02X%02X", l[0],
	    l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9]);
}

/*
 * The fence query: the max LSN, the LSN after the done position and
 * the table's capture instances with their low ends, oldest first.
 */
static int
cdc_fence_read(struct worker *w, struct cdc_fenceinfo *fi)
{
	static const char sql[] =
	    "SELECT sys.fn_cdc_get_max_lsn(), sys.fn_cdc_increment_lsn(@p2), "
	    "capture_instance, start_lsn, sys.fn_cdc_decrement_lsn("
	    "start_lsn)" INTROSPECT_INSTANCES_FROM;
	struct cdc_range *r;
	struct frame_value v[5];
	char text[5][DBVALUE_TEXT_MAX];
	struct db_param p[2];
	int rc, i;

	memset(fi, 0, sizeof(*fi));
	db_param_nvarchar(&p[0], w->tbl->qname, strlen(w->tbl->qname));
	db_param_binary(&p[1], w->cur.done, CDC_LSN);
	if (db_exec_params(w->db, sql, p, 2) == -1 ||
	    db_next_result(w->db) == -1)
		return (worker_db_fail(w, "CDC LSN range"));
	while ((rc = db_next_row(w->db)) == 1) {
		for (i = 0; i < 5; i++)
			if (db_value(w->db, i, &v[i], text[i]) == -1)
				return (worker_db_fail(w, "CDC LSN range"));
		fi->hmax = cdc_lsn(&v[0], fi->max);
		fi->hinc = cdc_lsn(&v[1], fi->inc);
		if (fi->n == INTROSPECT_INSTANCES_MAX)
			continue;
		r = &fi->r[fi->n++];
		snprintf(r->name, sizeof(r->name), "%.*s",
		    v[2].type == FRAME_VALUE_STR ? (int)v[2].v.s.len : 0,
		    v[2].type == FRAME_VALUE_STR ? (const char *)v[2].v.s.ptr
						 : "");
		if (!cdc_lsn(&v[3], r->start) || !cdc_lsn(&v[4], r->before))
			return (worker_fail(w, DB_CLASS_RETRYABLE,
			    "CDC LSN range: capture instance %s has no start "
			    "LSN",
			    r->name));
	}
	if (rc == -1 || db_drain(w->db) == -1)
		return (worker_db_fail(w, "CDC LSN range"));
	return (0);
}

/* Are the instances of the fence query those introspected? */
static int
cdc_fence_same(const struct table *t, const struct cdc_fenceinfo *fi)
{
	size_t i;

	if (fi->n != t->ncdc)
		return (0);
	for (i = 0; i < fi->n; i++)
		if (strcmp(fi->r[i].name, t->cdc[i].name) != 0)
			return (0);
	return (1);
}

/* The changed set of capture instances, logged before introspecting. */
static void
cdc_log_instances(struct worker *w, const struct cdc_fenceinfo *fi)
{
	char list[2 * FRAME_MAX_NAME + 8] = "none";
	size_t i, off = 0;

	for (i = 0; i < fi->n && off < sizeof(list); i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
		    i > 0 ? ", " : "", fi->r[i].name);
	log_info("the table's capture instances changed (now: %s): reading "
		 "its columns and capture instances again",
	    list);
}

/* The cursor is below every instance's low end: say why. */
static void
cdc_log_lost(struct worker *w, const struct cdc_fenceinfo *fi)
{
	char from[32], start[32];
	size_t i;

	if (w->lost_logged)
		return; /* run --once reads the fence twice */
	w->lost_logged = 1;
	cdc_lsn_text(w->from, from, sizeof(from));
	cdc_lsn_text(fi->r[0].start, start, sizeof(start));
	for (i = 0; i < fi->n; i++)
		if (strcmp(fi->r[i].name, w->cdc_read) == 0)
			break;
	if (w->cdc_read[0] != '\0' && i == fi->n)
		log_warnx("capture instance %s, which this table was read "
			  "from, was disabled before the changes from LSN %s "
			  "up to %s, where %s starts, were read: they are "
			  "lost; backfilling the table again",
		    w->cdc_read, from, start, fi->r[0].name);
	else
		log_warnx("the cursor (LSN %s) is below the low end of "
			  "capture instance %s (%s): changes were cleaned up, "
			  "or the instance holding them was disabled, before "
			  "they were captured; backfilling the table again",
		    from, fi->r[0].name, start);
}

/* Log what cdc.ddl_history records for a capture instance. */
static void
cdc_log_ddl(struct worker *w, const struct table_instance *in)
{
	static const char sql[] =
	    "SELECT ddl_command FROM cdc.ddl_history WHERE object_id = @p1 "
	    "ORDER BY ddl_lsn";
	struct frame_value v;
	char text[DBVALUE_TEXT_MAX];
	struct db_param p;
	int rc;

	db_param_bigint(&p, in->ctid);
	if (db_exec_params(w->db, sql, &p, 1) == -1 ||
	    db_next_result(w->db) == -1) {
		log_debug("cdc.ddl_history: %s", db_error(w->db)->text);
		return;
	}
	while ((rc = db_next_row(w->db)) == 1)
		if (db_value(w->db, 0, &v, text) == 0 &&
		    v.type == FRAME_VALUE_STR)
			log_info("cdc.ddl_history of %s: %.*s", in->name,
			    (int)v.v.s.len, (const char *)v.v.s.ptr);
	if (rc == -1 || db_drain(w->db) == -1)
		log_debug("cdc.ddl_history: %s", db_error(w->db)->text);
}

/* The columns instance a captures and b does not, listed. */
static void
cdc_diff_columns(const struct table_instance *a, const struct table_instance *b,
    char *buf, size_t size)
{
	size_t i, j, off = 0;

	buf[0] = '\0';
	for (i = 0; i < a->ncolumns && off < size; i++) {
		for (j = 0; j < b->ncolumns; j++)
			if (strcmp(a->columns[i], b->columns[j]) == 0)
				break;
		if (j == b->ncolumns)
			off += snprintf(buf + off, size - off, "%s%s",
			    off > 0 ? ", " : "", a->columns[i]);
	}
	if (off == 0)
		snprintf(buf, size, "none");
}

/*
 * Read instance cur from now on; log the switch from the instance read
 * before, with the columns it changes and the DDL behind it.
 */
static void
cdc_use(struct worker *w, size_t cur, const struct cdc_fenceinfo *fi)
{
	struct table *t = w->tbl;
	struct table_instance *in = &t->cdc[cur], *old = NULL;
	char start[32], added[1024], gone[1024];
	size_t i;

	t->cdc_instance = in->name;
	t->cdc_captured = in->captured;
	if (strcmp(w->cdc_read, in->name) == 0)
		return;
	for (i = 0; i < t->ncdc; i++)
		if (strcmp(t->cdc[i].name, w->cdc_read) == 0)
			old = &t->cdc[i];
	cdc_lsn_text(fi->r[cur].start, start, sizeof(start));
	if (old != NULL) {
		cdc_diff_columns(in, old, added, sizeof(added));
		cdc_diff_columns(old, in, gone, sizeof(gone));
		log_info("switching from capture instance %s to %s at LSN "
			 "%s, where %s starts (changes before it were read "
			 "from %s): columns captured now: %s; no longer: %s",
		    old->name, in->name, start, in->name, old->name, added,
		    gone);
		cdc_log_ddl(w, old);
	} else if (w->cdc_read[0] != '\0')
		log_info("reading capture instance %s (from LSN %s) instead "
			 "of %s",
		    in->name, start, w->cdc_read);
	else
		log_info("reading capture instance %s (from LSN %s)%s",
		    in->name, start,
		    cur + 1 < t->ncdc ? " until the newer instance starts"
				      : "");
	snprintf(w->cdc_read, sizeof(w->cdc_read), "%s", in->name);
}

/*
 * The fence, where the next changes start, the retention check and
 * the instance to read (see the top of the file).
 */
static int
cdc_fence(struct worker *w, uint8_t *fence, int *lost)
{
	struct cdc_fenceinfo fi;
	const uint8_t *low;
	size_t cur;

	*lost = 0;
	w->again = 0;
	if (cdc_fence_read(w, &fi) == -1)
		return (-1);
	if (fi.n == 0 && w->tbl->ncdc == 0)
		return (worker_fail(w, DB_CLASS_RETRYABLE,
		    "the table has no capture instance with a start LSN"));
	if (!cdc_fence_same(w->tbl, &fi)) {
		cdc_log_instances(w, &fi);
		w->reload = 1;
		return (0);
	}
	cur = fi.n - 1;
	if (w->cur.flags & WORKER_CURSOR_POS) {
		/* A done position covering its whole LSN ends in 0xff. */
		if (w->cur.done[FRAME_POS_CDC_SIZE - 1] == 0xff &&
		    w->cur.done[CDC_LSN] == 0xff && fi.hinc)
			memcpy(w->from, fi.inc, CDC_LSN);
		else
			memcpy(w->from, w->cur.done, CDC_LSN);
		for (cur = fi.n; cur > 0 &&
		     memcmp(fi.r[cur - 1].start, w->from, CDC_LSN) > 0;
		     cur--)
			;
		if (cur == 0) {
			cdc_log_lost(w, &fi);
			*lost = 1;
			cur = fi.n;
		}
		cur--;
	}
	low = fi.r[cur].before;
	memcpy(fence,
	    fi.hmax && memcmp(fi.max, low, CDC_LSN) > 0 ? fi.max : low,
	    CDC_LSN);
	memcpy(w->top, fence, CDC_LSN);
	/* The hand-over: this instance up to the next one's start. */
	if (cur + 1 < fi.n &&
	    memcmp(fence, fi.r[cur + 1].before, CDC_LSN) > 0) {
		memcpy(fence, fi.r[cur + 1].before, CDC_LSN);
		w->again = 1;
	}
	if (!*lost)
		cdc_use(w, cur, &fi);
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
	if (!keyed)
		xasprintf(&sql,
		    "SELECT __$start_lsn, __$seqval, __$operation, %s%s FROM "
		    "cdc.%s(@p1, @p2, N'all update old') ORDER BY "
		    "__$start_lsn, __$seqval, __$operation",
		    CDC_SQL_TS, cols, fn);
	else {
		pred = introspect_key_pred(t, NULL, 3, 1);
		xasprintf(&sql,
		    "SELECT __$start_lsn, __$seqval, __$operation, %s%s, "
		    "CASE WHEN %s THEN 1 ELSE 0 END FROM cdc.%s(@p1, @p2, "
		    "N'all update old') WHERE %s OR __$operation IN (3, 4) "
		    "ORDER BY __$start_lsn, __$seqval, __$operation",
		    CDC_SQL_TS, cols, pred, fn, pred);
	}
	free(cols);
	free(fn);
	free(pred);
	return (sql);
}

/* Set up the reading of one query of changes. */
static void
cdc_poll_init(struct worker *w, struct cdc_poll *q, int keyed)
{
	const struct table *t = w->tbl;
	size_t i;

	memset(q, 0, sizeof(*q));
	q->text = xcalloc(CDC_COL_FIRST + 1 + t->fs.ncolumns, sizeof(*q->text));
	q->row = xcalloc(t->fs.ncolumns + 1, sizeof(*q->row));
	q->keyed = keyed;
	q->flagcol = CDC_COL_FIRST;
	for (i = 0; i < t->fs.ncolumns; i++)
		q->flagcol += t->cdc_captured[i] != 0;
}

/* Free what reading a query of changes holds. */
static void
cdc_poll_free(struct cdc_poll *q)
{
	frame_values_free(&q->pair.before);
	free(q->text);
	free(q->row);
	memset(q, 0, sizeof(*q));
}

/* Read the captured columns of the current row into q->row (borrowed). */
static int
cdc_read(struct worker *w, struct cdc_poll *q)
{
	const struct table *t = w->tbl;
	size_t i;
	int col = CDC_COL_FIRST;

	for (i = 0; i < t->fs.ncolumns; i++) {
		q->row[i].type = FRAME_VALUE_ABSENT;
		if (!t->cdc_captured[i])
			continue;
		if (db_value(w->db, col, &q->row[i], q->text[col]) == -1)
			return (worker_db_fail(w, "CDC changes"));
		col++;
	}
	return (0);
}

/* Add an event at pos with values (and a before image) copied in. */
static int
cdc_event(struct worker *w, const struct cdc_poll *q, enum frame_op op,
    const uint8_t *pos, const struct frame_value *values,
    const struct frame_value *before)
{
	const struct table *t = w->tbl;
	struct frame_event *ev;
	size_t i;

	ev = worker_event(w, op, 0, pos, q->ts);
	if (before != NULL)
		frame_events_add_before(&w->batch, ev);
	for (i = 0; i < t->fs.ncolumns; i++) {
		if (worker_value(w, i, &ev->values[i], &values[i]) == -1 ||
		    (before != NULL &&
			worker_value(w, i, &ev->before[i], &before[i]) == -1))
			return (-1);
	}
	return (0);
}

/* Are two values the same (type and bytes)? */
static int
cdc_value_eq(const struct frame_value *a, const struct frame_value *b)
{
	if (a->type != b->type)
		return (0);
	switch (a->type) {
	case FRAME_VALUE_ABSENT:
	case FRAME_VALUE_NULL:
		return (1);
	case FRAME_VALUE_INT:
		return (a->v.i == b->v.i);
	case FRAME_VALUE_BOOL:
		return (a->v.b == b->v.b);
	case FRAME_VALUE_REAL:
		return (memcmp(&a->v.real, &b->v.real, sizeof(a->v.real)) == 0);
	case FRAME_VALUE_FLOAT:
		return (memcmp(&a->v.flt, &b->v.flt, sizeof(a->v.flt)) == 0);
	case FRAME_VALUE_STR:
	case FRAME_VALUE_BIN:
		return (a->v.s.len == b->v.s.len &&
		    (a->v.s.len == 0 ||
			memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0));
	}
	return (0);
}

/* Do two images (per table column) have the same primary key? */
static int
cdc_same_key(const struct table *t, const struct frame_value *a,
    const struct frame_value *b)
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		if (!cdc_value_eq(&a[t->keys[i]], &b[t->keys[i]]))
			return (0);
	return (1);
}

/* Keep an operation 3 row (q->row) until its 4 comes. */
static int
cdc_pair_keep(struct worker *w, struct cdc_poll *q, const uint8_t *pos, int in)
{
	struct frame_values tmp;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	frame_values_free(&q->pair.before);
	tmp.v = q->row;
	tmp.n = w->tbl->fs.ncolumns;
	tmp.data = NULL;
	buf = frame_values_pack(&tmp, &len);
	if (frame_values_unpack(buf, len, &q->pair.before, &cause) != 0)
		fatalx("%s: %s", __func__, cause);
	free(buf);
	memcpy(q->pair.pos, pos, FRAME_POS_CDC_SIZE);
	q->pair.in = in;
	q->pair.set = 1;
	return (0);
}

/*
 * An operation 4 row (q->row at pos) completing the kept 3: one update
 * event, or a delete of the old key and an insert of the new one when
 * the keys differ.  in / q->pair.in: the catch-up's "key <= K" of
 * each.  Returns 1 if an event was made, else 0, or -1.
 */
static int
cdc_pair_send(struct worker *w, struct cdc_poll *q, const uint8_t *pos, int in)
{
	const struct table *t = w->tbl;
	struct cdc_pair *pr = &q->pair;
	int sent = pr->in || in, rc = 0;

	pr->set = 0;
	if (cdc_same_key(t, pr->before.v, q->row)) {
		if (sent)
			rc = cdc_event(
			    w, q, FRAME_OP_UPDATE, pos, q->row, pr->before.v);
	} else {
		if (pr->in)
			rc = cdc_event(
			    w, q, FRAME_OP_DELETE, pr->pos, pr->before.v, NULL);
		if (in && rc == 0)
			rc =
			    cdc_event(w, q, FRAME_OP_CREATE, pos, q->row, NULL);
	}
	frame_values_free(&pr->before);
	if (rc == -1)
		return (-1);
	if (sent)
		worker_set_done(w, pos, 0);
	return (sent);
}

/*
 * One row of the changes.  Returns 1 when an event is complete, 0 when
 * not (skipped, or an update's before image), -1 on failure.
 */
static int
cdc_row(struct worker *w, struct cdc_poll *q)
{
	struct frame_value v[3], flag;
	uint8_t pos[FRAME_POS_CDC_SIZE], done[FRAME_POS_CDC_SIZE];
	enum frame_op op;
	int i, in = 1;

	for (i = 0; i < 3; i++)
		if (db_value(w->db, i, &v[i], q->text[i]) == -1)
			return (worker_db_fail(w, "CDC changes"));
	if (!cdc_lsn(&v[0], pos) || !cdc_lsn(&v[1], pos + CDC_LSN) ||
	    v[2].type != FRAME_VALUE_INT || v[2].v.i < 1 || v[2].v.i > 4)
		return (worker_fail(w, DB_CLASS_PERMANENT,
		    "CDC changes: unexpected LSN or operation"));
	pos[2 * CDC_LSN] = (uint8_t)v[2].v.i;
	memcpy(done, pos, sizeof(done));
	if (v[2].v.i == 3)
		done[2 * CDC_LSN] = 4;
	if ((w->cur.flags & WORKER_CURSOR_POS) &&
	    memcmp(done, w->cur.done, FRAME_POS_CDC_SIZE) <= 0)
		return (0); /* sent before a restart */
	if (cdc_commit_ts(w, q, pos) == -1)
		return (-1);
	if (q->keyed) {
		if (db_value(w->db, q->flagcol, &flag, q->text[q->flagcol]) ==
		    -1)
			return (worker_db_fail(w, "CDC changes"));
		in = flag.type == FRAME_VALUE_INT && flag.v.i == 1;
	}
	if (cdc_read(w, q) == -1)
		return (-1);
	switch (v[2].v.i) {
	case 1:
		op = FRAME_OP_DELETE;
		break;
	case 2:
		op = FRAME_OP_CREATE;
		break;
	case 3:
		return (cdc_pair_keep(w, q, pos, in) == -1 ? -1 : 0);
	default:
		if (q->pair.set && memcmp(q->pair.pos, pos, 2 * CDC_LSN) == 0)
			return (cdc_pair_send(w, q, pos, in));
		op = FRAME_OP_UPDATE; /* a 4 alone */
		break;
	}
	if (!in)
		return (0);
	if (cdc_event(w, q, op, pos, q->row, NULL) == -1)
		return (-1);
	worker_set_done(w, pos, 0);
	return (1);
}

/* Send the changes from w->from up to the fence. */
static int
cdc_changes(struct worker *w, const uint8_t *fence, int keyed)
{
	const struct table *t = w->tbl;
	struct cdc_poll q;
	struct db_param *p;
	char *sql;
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
	cdc_poll_init(w, &q, keyed);
	while ((rc = db_next_row(w->db)) == 1) {
		if ((rc = cdc_row(w, &q)) == -1)
			break;
		if (rc == 1 && worker_checkpoint_due(w))
			worker_watermark(w, NULL);
	}
	if (rc == 0 && q.pair.set)
		rc = worker_fail(w, DB_CLASS_RETRYABLE,
		    "CDC changes: the update at seqval %02x%02x... has no "
		    "after image (operation 4)",
		    q.pair.pos[CDC_LSN], q.pair.pos[CDC_LSN + 1]);
	cdc_poll_free(&q);
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
