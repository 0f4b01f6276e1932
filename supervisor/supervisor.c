/*
 * The supervisor of "mssql-capture run [--once]": it starts one worker
 * per binding (child.c), merges their events into commit order
 * (merge.c), makes events and cursors durable (output.c, state.c,
 * replica.c) and only then emits them.  It never talks to SQL Server.
 *
 * Startup, in this order, nothing started before all of it succeeded:
 * load the configuration (an error exits 2); fill an empty bindings
 * list with every capturable table discovery finds (the one moment the
 * supervisor asks SQL Server anything, before any fork; none found
 * exits 2; worker/discover.c); open the state file, which takes the
 * single-writer lock (a second daemon on the same state exits 2 naming
 * the lock); open the replica when replica.path is set, and commit its
 * copy of a round the state missed (below); open the output (a file is
 * cut back to the committed offset); register every
 * binding in the state (a new one starts in backfill with an empty
 * cursor).  Workers are then added to the child table in config order
 * and scheduled in priority order (max_workers bounds them; a worker
 * gives its slot back at FRAME_BACKFILL_DONE, so max_workers bounds
 * concurrent backfills and higher priority bindings finish their
 * backfill first).  The binding id of a worker is its index in
 * cfg->bindings (worker.h); each answer to HELLO is a FRAME_START with
 * the stored phase, cursor and last key, plus FRAME_START_ONCE for
 * --once.  A table stored as failed is tried again at startup (the
 * operator may have fixed it): its phase is derived from its cursor.
 *
 * A table's capture mode is known up front when the binding names it
 * (ct, cdc) or the state has a cursor for it; the table then joins the
 * merger at START so that it holds its group back from the first
 * moment (merge.c rule 3).  A fresh "auto" table joins at its first
 * FRAME_SCHEMA; it is backfilling then, which holds nothing back.
 * When a table's mode changes (auto: CDC enabled on a Change Tracking
 * table, or a binding's mode edited) the worker starts afresh, since
 * positions of two modes do not compare: the supervisor clears the
 * stored cursor and the table joins the merger again under a new
 * generation of its id (SUPERVISOR_GEN_SHIFT), backfilling.
 *
 * Delivery in rounds.  Every frame received is fed to the merger, which
 * releases events in commit order up to the minimum watermark of the
 * streaming tables.  Each released event becomes an output line (seq
 * assigned) and, with a replica, is applied to it in an open replica
 * transaction.  Each release takes all the merger allows, never part
 * of it, so that a round never ends inside a Change Tracking version
 * (merge.c rule 5).  A round is committed when output.c says it is
 * full, OUTPUT_COMMIT_MS after its first line,
 * SUPERVISOR_CURSOR_COMMIT_MS after a cursor moved without lines (idle
 * heartbeats, a backfill ending), and at the end of the run:
 *
 *	1. output: write the lines at the committed offset, fdatasync
 *	2. replica COMMIT: rows, journal, the replica's own per-table
 *	   positions, and a copy of what step 3 will store (the round,
 *	   state/round.c), one SQLite transaction
 *	3. state: one transaction with (seq, offset, round) and every
 *	   cursor the round completed (and failures, restarts)
 *
 * Crash argument (kill -9 between any two steps; the state is always
 * exactly some past commit, SQLite WAL):
 *  - before 2: nothing of the round is committed anywhere.  Restart:
 *    the file is cut to the committed offset, the workers resume from
 *    the committed cursors and send the round's events again.
 *  - between 2 and 3: the replica holds the round, the state does not.
 *    Restart: before anything else the supervisor commits the
 *    replica's copy of the round to the state file
 *    (supervisor_roll_forward()); its lines are on disk since step 1.
 *    Now all three end at that round.  Resuming from the older cursors
 *    instead would be wrong: a backfill reads rows as they are now, so
 *    a row the lost round copied and that was deleted since would never
 *    be deleted in the replica (the delete is below the cursor's key,
 *    and the rows read again have new positions).
 *  - after 3: everything agrees.
 * The replica also skips events at or below its own position per
 * table, a second line of defence for stream events.
 * The state also stores, per table, the highest position emitted
 * ("released").  A table's committed cursor can lag behind it: events
 * up to the group's bound were released while the table's own newer
 * watermark was not complete yet.  After a restart the worker resumes
 * from the cursor and sends those events again; the merger drops every
 * event at or below the stored position (merge_table_set_floor()), so
 * the file still gets each event once.  This floor assumes that a
 * position names the same change when read again, which holds for
 * whole CT versions (hence rule 5) and for CDC rows.  Snapshot rows are
 * numbered in key order from the cursor's last key, so rows inserted
 * or deleted between a crash and the restart renumber the rest of an
 * uncommitted chunk; that chunk was never committed anywhere, so it is
 * simply read again.
 *
 * Standard output is written in step 1 and is at least once (seq lets
 * a consumer drop duplicates).
 *
 * run --once: FRAME_START carries FRAME_START_ONCE; each worker reads
 * the source position (CT version, max LSN) when it starts, captures
 * up to it (finishing a backfill first), sends its last WATERMARK and
 * exits 0 (worker.c).  When every table is done or failed the merger
 * holds nothing back any more, so everything covered is released; a
 * final commit follows and the run exits 0, or 1 with a summary line if
 * a table failed.  A rerun with no new changes emits nothing.  With
 * max_workers the position of a late worker is read when it starts,
 * and a worker restarted after a crash reads it again: "before the
 * command started" is a lower bound, which is what a restart-safe cron
 * rerun needs.
 *
 * Signals, through libevent only (STYLE.md D7): SIGTERM or SIGINT
 * starts a staged shutdown (D8): FRAME_STOP to every worker, which
 * flushes and exits 0; what they sent is drained, committed, and the
 * run exits 0.  A second SIGTERM/SIGINT kills the workers and exits 1
 * at once without a commit (nothing is lost: the last commit stands).
 * SIGHUP reloads the configuration: bindings are matched by name
 * ("schema.table"); new ones are started, those no longer in the file
 * are stopped, the others are left running, in whatever order the
 * file now lists them.  A binding id is a slot in sv->bindings that
 * never changes or comes back; the worker finds its binding in the
 * file by name (-B), so ids and config order are independent.  A
 * binding removed and added again gets a new slot, once its old worker
 * has stopped and its last round is committed (else the reload is
 * refused with a log line: try again).  An invalid file is refused
 * too.  Workers read the file when they start, so other changes (mode,
 * priority, columns) apply to a worker at its next start.  SIGPIPE is
 * ignored; SIGCHLD belongs to child.c.  sd_notify: READY=1 once the
 * loop runs, STOPPING=1, RELOADING=1 (STYLE.md E1).
 * run --pidfile and --daemonize (init scripts) are daemon.c's: one
 * call before the open, one before the workers start, one at READY.
 *
 * Failed tables: a FRAME_ERROR FAILED or repeated crashes (child.c)
 * mark the table failed in the state with its reason, logged once by
 * child.c; the others keep running.  In streaming mode, when every
 * table has failed, the daemon exits 1: there is nothing left to do.
 *
 * Backpressure (STYLE.md D3): after each release the supervisor stops
 * reading a worker whose covered queue is full (merge_queue_full()) and
 * resumes it below half; the blocked worker then blocks on write.
 *
 * Reset requests (reset TABLE, status.c).  Another process cannot take
 * the state's lock while we run, so it appends a row to the state's
 * requests table (state.c); a timer reads them every
 * SUPERVISOR_REQUEST_POLL_MS (a read of the last commit, cheap in WAL
 * mode).  Requests waiting when the daemon starts are applied before
 * any worker starts.  A running table is reset in three steps: its
 * worker is told to stop (a worker starting meanwhile is told the
 * same); once it has exited and every covered event of it has been
 * released (so nothing of the old capture reaches the replica after
 * the reset), the table leaves the merger, joins it again under a new
 * generation like a mode change, its stored cursor, last key,
 * released position and counters are cleared (state_table_reset()),
 * the replica marks the start of a backfill with its positions
 * starting afresh (replica.c, "Re-backfills"), and the worker is
 * started again, backfilling.  The reset is stored by the next commit
 * with the request's id: state_table_put() deletes the answered
 * requests in that same transaction.  A kill -9 before it repeats the
 * reset at the next start; one between the replica's and the state's
 * commit (supervisor_roll_forward()) too, since the round's copy does
 * not carry the request.
 *
 * Reconcile.  When the watermark that ends a backfill is complete (its
 * events all released, merge_cursor() backfill_done), the commit that
 * stores the table as streaming first lets the replica soft-delete the
 * rows that backfill did not see (replica_backfill_end()), in the same
 * replica transaction.  After a mode change the new generation's first
 * event (or its backfill's end) marks the replica's backfill, and from
 * then on the old generation's late events go to the output but not to
 * the replica: the new backfill read the table after them.
 *
 * Metrics (metrics.c): one-line hooks where the supervisor already
 * counts (a released event, a commit, PROGRESS, START, BACKFILL_DONE,
 * a restart, a failure) keep struct metrics current; metrics.listen
 * serves it over HTTP, bound before any worker starts (a failure exits
 * 2), and on a terminal progress.c prints it every few seconds.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "supervisor.h"
#include "state.h"
#include "worker.h" /* discover_bind() */

/*
 * The merger knows a table as its binding id plus a generation, bumped
 * when the table's capture mode changes under a running daemon (auto:
 * CDC enabled on a Change Tracking table): positions of two modes do
 * not compare, so the table then joins the merger afresh.
 */
#define SUPERVISOR_GEN_SHIFT 24
#define SUPERVISOR_MAX_BINDINGS (1U << SUPERVISOR_GEN_SHIFT)

#define SUPERVISOR_CURSOR_COMMIT_MS 1000 /* cursor moved, no lines: commit */
#define SUPERVISOR_REQUEST_POLL_MS 1000 /* reset requests: look this often */

/*
 * Test hook: MSSQL_CAPTURE_CRASH_AT=STEP:N kills the daemon with
 * SIGKILL the N-th time a commit reaches STEP: "written", "synced",
 * "replica", "state" (output.c's steps), so that t/run_ct.sh can check
 * the crash argument of output.c at each point.
 */
#define SUPERVISOR_CRASH_ENV "MSSQL_CAPTURE_CRASH_AT"

/* One bound table. */
struct supervisor_binding {
	struct supervisor *sv;
	uint32_t id; /* index in cfg->bindings */
	char *name; /* "schema.table" */
	char *ns; /* its namespace and stream, as configured */
	char *stream;
	int priority;
	enum config_mode cmode;
	struct child *child;
	struct state_table *st; /* what the next commit stores */
	int st_dirty;
	int in_merge;
	uint32_t merge_id; /* id | generation << SUPERVISOR_GEN_SHIFT */
	uint8_t released[FRAME_MAX_POS]; /* highest position emitted */
	size_t releasedlen;
	enum frame_mode mode;
	int mode_known;
	struct frame_schema schema; /* the latest, to decode EVENTS */
	int has_schema;
	struct replica_table *rt; /* replica handle for rt_schema */
	const struct frame_schema *rt_schema;
	enum frame_phase start_phase; /* sent in the last FRAME_START */
	int failed;
	int removed; /* SIGHUP took it out */
	uint64_t reset_req; /* reset request being served, 0: none */
	uint64_t reset_served; /* highest request id served */
	int reset_mark; /* mode changed: mark the replica's backfill */
	int gen_marked; /* ... done: older generations skip the replica */
};

struct supervisor {
	struct cmd_opts *opts;
	struct config *cfg;
	struct event_base *base;
	struct state *state;
	struct output *out;
	struct replica *replica;
	int replica_txn;
	struct merge *merge;
	struct child_table *children;
	struct supervisor_binding **bindings;
	size_t nbindings;
	struct event *sigterm;
	struct event *sigint;
	struct event *sighup;
	struct event *cursor_timer;
	struct event *request_timer; /* reset requests (status.c) */
	char *exec_path;
	char *config_path; /* the workers' -c, kept across reloads */
	int once;
	int stopping;
	int finished;
	int round_full; /* output.c asks for a commit */
	int exit_code;
	int fatal; /* a commit failed: exit 1 without more */
	int crash_step; /* SUPERVISOR_CRASH_ENV: -1 none */
	long crash_left;
	struct metrics *metrics; /* metrics.c: counted here, served there */
	struct progress *progress; /* on a terminal only (progress.c) */
};

static int supervisor_open(struct supervisor *, char **);
static int supervisor_load_config(struct supervisor *, const char *);
static void supervisor_close(struct supervisor *);
static int supervisor_register(
    struct supervisor *, const struct config_binding *, uint32_t, char **);
static void supervisor_binding_free(struct supervisor_binding *);
static void supervisor_binding_reset(struct supervisor_binding *);
static void supervisor_binding_retry(struct supervisor_binding *);
static void supervisor_binding_start(struct supervisor_binding *);
static void supervisor_merge_join(struct supervisor_binding *, enum frame_mode);
static void supervisor_merge_rejoin(
    struct supervisor_binding *, enum frame_mode);
static void supervisor_signals(struct supervisor *);
static void supervisor_signal_cb(int, short, void *);
static void supervisor_shutdown(struct supervisor *);
static void supervisor_reload(struct supervisor *);
static int supervisor_reload_check(struct supervisor *, const struct config *);
static void supervisor_remove(struct supervisor_binding *);
static void supervisor_send_stop(struct supervisor_binding *);
static void supervisor_notify(const char *);
static void supervisor_child_dispatch(
    struct child *, const struct frame *, void *);
static void supervisor_child_failed(struct child *, const char *, void *);
static void supervisor_child_exited(struct child *, void *);
static void supervisor_send_start(struct supervisor_binding *);
static int supervisor_on_schema(
    struct supervisor_binding *, const struct frame *);
static int supervisor_on_events(
    struct supervisor_binding *, const struct frame *);
static int supervisor_on_watermark(
    struct supervisor_binding *, const struct frame *);
static int supervisor_on_backfill_done(
    struct supervisor_binding *, const struct frame *);
static int supervisor_on_progress(
    struct supervisor_binding *, const struct frame *);
static void supervisor_protocol_error(
    struct supervisor_binding *, const char *);
static void supervisor_pump(struct supervisor *);
static void supervisor_emit(
    uint32_t, const struct frame_schema *, const struct frame_event *, void *);
static int supervisor_replica_apply(struct supervisor_binding *,
    const struct frame_schema *, const struct frame_event *, char **);
static void supervisor_backpressure(struct supervisor *);
static void supervisor_commit_soon(struct supervisor *);
static void supervisor_output_timer_cb(struct output *, void *);
static void supervisor_cursor_timer_cb(int, short, void *);
static int supervisor_commit(struct supervisor *);
static int supervisor_replica_commit(const struct state_output *,
    struct state_table **, size_t, void *, char **);
static int supervisor_roll_forward(struct supervisor *, char **);
static int supervisor_roll_check(struct supervisor *,
    const struct state_output *, const struct state_output *);
static size_t supervisor_collect(struct supervisor *, struct state_table ***);
static void supervisor_check_finished(struct supervisor *);
static void supervisor_finish(struct supervisor *);
static struct supervisor_binding *supervisor_find(
    struct supervisor *, uint32_t);
static char *supervisor_exec_path(void);
static void supervisor_crash_parse(struct supervisor *);
static void supervisor_crash_point(struct supervisor *, int);
static void supervisor_output_hook(enum output_step, void *);
static struct supervisor_binding *supervisor_find_name(
    struct supervisor *, const char *);
static int supervisor_requests_startup(struct supervisor *, char **);
static void supervisor_request_timer_cb(int, short, void *);
static void supervisor_request_drop(
    struct supervisor *, const char *, const struct state_request *);
static void supervisor_reset_begin(struct supervisor_binding *, uint64_t);
static void supervisor_reset_step(struct supervisor_binding *);
static void supervisor_reset_apply(struct supervisor_binding *);
static int supervisor_replica_table(
    struct supervisor_binding *, struct replica_table **, char **);
static int supervisor_replica_mark(struct supervisor_binding *, char **);
static int supervisor_reconcile(struct supervisor_binding *, char **);
static void supervisor_replica_fatal(struct supervisor_binding *, char *);

/* "mssql-capture run": the daemon.  Returns the exit status. */
int
supervisor_run(struct cmd_opts *opts)
{
	struct supervisor sv;
	char *cause = NULL;
	size_t i;
	int rc;

	memset(&sv, 0, sizeof(sv));
	sv.opts = opts;
	sv.once = opts->once;
	log_setname("supervisor");
	if ((rc = supervisor_load_config(&sv, opts->config_path)) != 0)
		return (rc);
	if ((rc = daemon_start(opts, sv.cfg)) != 0) { /* daemon.c */
		config_free(sv.cfg);
		return (rc);
	}
	sv.metrics = metrics_create();
	if (supervisor_open(&sv, &cause) != 0 ||
	    metrics_start(
		sv.metrics, sv.base, sv.cfg, output_seq(sv.out), &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		supervisor_close(&sv);
		return (2);
	}
	supervisor_signals(&sv);
	daemon_detach(opts);
	for (i = 0; i < sv.nbindings; i++)
		supervisor_binding_start(sv.bindings[i]);
	child_schedule(sv.children);
	log_info("running %zu binding%s%s", sv.nbindings,
	    sv.nbindings == 1 ? "" : "s",
	    sv.once ? " once, up to the source position at start" : "");
	supervisor_notify("READY=1");
	daemon_ready();
	if (progress_wanted(STDERR_FILENO))
		sv.progress = progress_create(sv.base, sv.metrics);
	event_base_dispatch(sv.base);
	rc = sv.exit_code;
	supervisor_close(&sv);
	return (rc);
}

/* Load and check the configuration; 0, or the exit status (2). */
static int
supervisor_load_config(struct supervisor *sv, const char *path)
{
	struct config_errors errs;
	char *cause = NULL;
	size_t i;

	if (path == NULL) {
		log_warnx("no configuration file: use run -c FILE");
		return (2);
	}
	if ((sv->cfg = config_load(path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_warnx("%s", errs.msgs[i]);
		log_warnx(
		    "%s: configuration is not valid, nothing started", path);
		config_errors_free(&errs);
		return (2);
	}
	/* No bindings: bind what discovery finds (worker/discover.c). */
	if (sv->cfg->nbindings == 0 && discover_bind(sv->cfg, &cause) != 0) {
		log_warnx("%s: no bindings: %s", path, cause);
		free(cause);
		config_free(sv->cfg);
		sv->cfg = NULL;
		return (2);
	}
	return (0);
}

/* Open state, output, replica, the loop and the tables (-1: *cause). */
static int
supervisor_open(struct supervisor *sv, char **cause)
{
	struct timeval request_tv = { SUPERVISOR_REQUEST_POLL_MS / 1000,
		(SUPERVISOR_REQUEST_POLL_MS % 1000) * 1000 };
	struct child_params params;
	struct child_cb cb;
	size_t i;

	if ((sv->state = state_open(sv->cfg->state.path, 0, cause)) == NULL)
		return (-1);
	if (sv->cfg->replica.path != NULL &&
	    ((sv->replica = replica_open(sv->cfg->replica.path, 0, cause)) ==
		    NULL ||
		supervisor_roll_forward(sv, cause) != 0))
		return (-1);
	sv->out = output_open(sv->cfg->output.path, sv->state,
	    sv->cfg->advanced.source_tag, cause);
	if (sv->out == NULL)
		return (-1);
	if (sv->replica != NULL)
		output_set_precommit(sv->out, supervisor_replica_commit, sv);
	if ((sv->exec_path = supervisor_exec_path()) == NULL) {
		xasprintf(cause, "cannot find our own executable: %s",
		    strerror(errno));
		return (-1);
	}
	if ((sv->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	sv->merge = merge_create(0, 0);
	output_set_timer(sv->out, sv->base, supervisor_output_timer_cb, sv);
	supervisor_crash_parse(sv);
	if (sv->crash_step != -1)
		output_set_hook(sv->out, supervisor_output_hook, sv);
	sv->cursor_timer =
	    evtimer_new(sv->base, supervisor_cursor_timer_cb, sv);
	if (sv->cursor_timer == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	memset(&params, 0, sizeof(params));
	params.exec_path = sv->exec_path;
	sv->config_path = xstrdup(sv->cfg->path);
	params.config_path = sv->config_path;
	params.verbose = sv->opts->verbose;
	params.max_workers = sv->cfg->advanced.max_workers;
	cb.dispatch = supervisor_child_dispatch;
	cb.failed = supervisor_child_failed;
	cb.exited = supervisor_child_exited;
	cb.arg = sv;
	sv->children = child_table_create(sv->base, &params, &cb);
	for (i = 0; i < sv->cfg->nbindings; i++) {
		if (supervisor_register(sv, &sv->cfg->bindings[i], i, cause) !=
		    0)
			return (-1);
	}
	if (supervisor_requests_startup(sv, cause) != 0)
		return (-1);
	sv->request_timer = event_new(
	    sv->base, -1, EV_PERSIST, supervisor_request_timer_cb, sv);
	if (sv->request_timer == NULL ||
	    event_add(sv->request_timer, &request_tv) != 0)
		fatalx("%s: cannot add the request timer", __func__);
	return (0);
}

/* The absolute path of our binary, for fork+exec (child.c). */
static char *
supervisor_exec_path(void)
{
	char buf[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) == -1)
		return (NULL);
	buf[n] = '\0';
	return (xstrdup(buf));
}

/*
 * Register binding id: load or create its state row.  A new binding is
 * stored at once, so that status sees it before its first commit.
 */
static int
supervisor_register(struct supervisor *sv, const struct config_binding *cb,
    uint32_t id, char **cause)
{
	struct supervisor_binding *b;
	int found;

	if (id >= SUPERVISOR_MAX_BINDINGS) {
		xasprintf(
		    cause, "more than %u bindings", SUPERVISOR_MAX_BINDINGS);
		return (-1);
	}
	b = xcalloc(1, sizeof(*b));
	b->sv = sv;
	b->id = id;
	b->merge_id = id;
	b->cmode = cb->mode;
	xasprintf(&b->name, "%s.%s", cb->namespace, cb->stream);
	b->ns = xstrdup(cb->namespace);
	b->stream = xstrdup(cb->stream);
	b->priority = cb->priority;
	sv->bindings = xreallocarray(
	    sv->bindings, sv->nbindings + 1, sizeof(*sv->bindings));
	sv->bindings[sv->nbindings++] = b;
	if ((found = state_table_get(sv->state, b->name, &b->st, cause)) == -1)
		return (-1);
	if (!found) {
		b->st = state_table_create(b->name,
		    cb->mode == CONFIG_MODE_CDC ? FRAME_MODE_CDC
						: FRAME_MODE_CT);
		if (state_table_put(sv->state, b->st, cause) != 0)
			return (-1);
	}
	if (cb->mode == CONFIG_MODE_CT || cb->mode == CONFIG_MODE_CDC) {
		b->mode =
		    cb->mode == CONFIG_MODE_CT ? FRAME_MODE_CT : FRAME_MODE_CDC;
		b->mode_known = 1;
		if (b->st->cursorlen != 0 && b->st->mode != b->mode)
			supervisor_binding_reset(b);
	} else if (b->st->cursorlen != 0) {
		b->mode = b->st->mode;
		b->mode_known = 1;
	}
	if (b->st->phase == FRAME_PHASE_FAILED)
		supervisor_binding_retry(b);
	metrics_table_add(sv->metrics, id, b->name, b->st->phase, 0);
	return (0);
}

/*
 * The binding's mode is not the one its cursor was taken in: positions
 * of two modes do not compare, so the table is backfilled again.
 */
static void
supervisor_binding_reset(struct supervisor_binding *b)
{
	log_info("table %s: capture mode changed from %s to %s: backfilling "
		 "again",
	    b->name, frame_mode_name(b->st->mode), frame_mode_name(b->mode));
	state_table_reset(b->st);
	b->st->mode = b->mode;
	b->st_dirty = 1;
	b->reset_mark = 1; /* at the new backfill's first event */
	b->gen_marked = 0;
}

/*
 * A table stored as failed is tried again (the operator may have fixed
 * it); its reason becomes its last error until it fails again.
 */
static void
supervisor_binding_retry(struct supervisor_binding *b)
{
	struct state_table *t = b->st;

	log_info("table %s failed before (%s): trying again", b->name,
	    t->failed_reason != NULL ? t->failed_reason : "no reason");
	t->phase = t->cursorlen == 0 || t->backfill_key != NULL
	    ? FRAME_PHASE_BACKFILL
	    : FRAME_PHASE_STREAMING;
	if (t->failed_reason != NULL) {
		free(t->last_error);
		t->last_error = t->failed_reason;
		t->failed_reason = NULL;
	}
	b->st_dirty = 1;
}

/* Add a binding's worker to the child table (and the merger). */
static void
supervisor_binding_start(struct supervisor_binding *b)
{
	b->child = child_add(b->sv->children, b->name, b->id, b->priority);
	if (b->mode_known)
		supervisor_merge_join(b, b->mode);
}

/* The table joins the merger in mode. */
static void
supervisor_merge_join(struct supervisor_binding *b, enum frame_mode mode)
{
	b->mode = mode;
	b->mode_known = 1;
	if (b->in_merge)
		return;
	merge_table_add(b->sv->merge, b->merge_id, mode);
	b->in_merge = 1;
	if (b->st->releasedlen != 0 && b->st->mode == mode)
		merge_table_set_floor(b->sv->merge, b->merge_id,
		    b->st->released, b->st->releasedlen);
}

/*
 * The worker captures the table in another mode now: the old merger
 * table ends (its covered events drain) and the table joins again
 * under a new generation, starting afresh as the worker does.
 */
static void
supervisor_merge_rejoin(struct supervisor_binding *b, enum frame_mode mode)
{
	merge_table_set_phase(b->sv->merge, b->merge_id, FRAME_PHASE_DONE);
	b->merge_id += 1U << SUPERVISOR_GEN_SHIFT;
	b->in_merge = 0;
	b->releasedlen = 0;
	b->mode = mode;
	supervisor_binding_reset(b);
	b->start_phase = FRAME_PHASE_BACKFILL;
	metrics_set_phase(b->sv->metrics, b->id, FRAME_PHASE_BACKFILL);
}

/* Free one binding. */
static void
supervisor_binding_free(struct supervisor_binding *b)
{
	state_table_free(b->st);
	if (b->has_schema)
		frame_schema_free(&b->schema);
	free(b->name);
	free(b->ns);
	free(b->stream);
	free(b);
}

/* Release everything (workers are killed by child_table_free()). */
static void
supervisor_close(struct supervisor *sv)
{
	size_t i;

	child_table_free(sv->children);
	if (sv->sigterm != NULL)
		event_free(sv->sigterm);
	if (sv->sigint != NULL)
		event_free(sv->sigint);
	if (sv->sighup != NULL)
		event_free(sv->sighup);
	if (sv->cursor_timer != NULL)
		event_free(sv->cursor_timer);
	if (sv->request_timer != NULL)
		event_free(sv->request_timer);
	merge_free(sv->merge);
	output_close(sv->out);
	if (sv->replica != NULL) {
		if (sv->replica_txn)
			replica_rollback(sv->replica);
		replica_close(sv->replica);
	}
	for (i = 0; i < sv->nbindings; i++)
		supervisor_binding_free(sv->bindings[i]);
	free(sv->bindings);
	progress_free(sv->progress);
	metrics_free(sv->metrics); /* its evhttp before the base */
	if (sv->state != NULL)
		state_close(sv->state);
	if (sv->base != NULL)
		event_base_free(sv->base);
	config_free(sv->cfg);
	free(sv->exec_path);
	free(sv->config_path);
}

/* Install the signal events (STYLE.md D7). */
static void
supervisor_signals(struct supervisor *sv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		fatal("sigaction SIGPIPE");
	sv->sigterm = evsignal_new(sv->base, SIGTERM, supervisor_signal_cb, sv);
	sv->sigint = evsignal_new(sv->base, SIGINT, supervisor_signal_cb, sv);
	sv->sighup = evsignal_new(sv->base, SIGHUP, supervisor_signal_cb, sv);
	if (sv->sigterm == NULL || sv->sigint == NULL || sv->sighup == NULL ||
	    evsignal_add(sv->sigterm, NULL) != 0 ||
	    evsignal_add(sv->sigint, NULL) != 0 ||
	    evsignal_add(sv->sighup, NULL) != 0)
		fatalx("cannot handle SIGTERM, SIGINT and SIGHUP");
}

/* SIGTERM, SIGINT: staged shutdown; SIGHUP: reload. */
static void
supervisor_signal_cb(int sig, short events, void *arg)
{
	struct supervisor *sv = arg;

	if (sig == SIGHUP) {
		supervisor_reload(sv);
		return;
	}
	if (sv->stopping) {
		log_warnx("got %s while shutting down, fast exit",
		    child_signal_name(sig));
		child_shutdown(sv->children);
		sv->exit_code = 1;
		event_base_loopbreak(sv->base);
		return;
	}
	log_info(
	    "got %s: stopping the workers, draining", child_signal_name(sig));
	supervisor_shutdown(sv);
}

/* First stage of a shutdown: workers flush and exit. */
static void
supervisor_shutdown(struct supervisor *sv)
{
	sv->stopping = 1;
	supervisor_notify("STOPPING=1");
	child_shutdown(sv->children);
	supervisor_check_finished(sv);
}

/* Tell systemd (Type=notify); a no-op without $NOTIFY_SOCKET. */
static void
supervisor_notify(const char *msg)
{
	struct sockaddr_un sun;
	const char *path = getenv("NOTIFY_SOCKET");
	socklen_t len;
	int fd;

	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, len) == -1)
		log_debug("sd_notify %s: %s", msg, strerror(errno));
	close(fd);
}

/* SIGHUP: apply added and removed bindings (top of the file). */
static void
supervisor_reload(struct supervisor *sv)
{
	struct config_errors errs;
	struct config *cfg;
	struct supervisor_binding *b;
	struct timespec ts;
	char msg[64], *cause = NULL, *name;
	size_t i, old = sv->nbindings;
	int found;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	supervisor_notify(msg);
	log_info("got SIGHUP: reloading %s", sv->cfg->path);
	if (sv->stopping || (cfg = config_load(sv->cfg->path, &errs)) == NULL) {
		if (!sv->stopping) {
			for (i = 0; i < errs.n; i++)
				log_warnx("%s", errs.msgs[i]);
			config_errors_free(&errs);
			log_warnx("reload refused: configuration not valid");
		}
		supervisor_notify("READY=1");
		return;
	}
	/* Still no bindings: keep those discovered at start (discover.c). */
	if (discover_import(cfg, &cause) != 0)
		fatalx("reload: %s", cause);
	if (supervisor_reload_check(sv, cfg) != 0) {
		config_free(cfg);
		supervisor_notify("READY=1");
		return;
	}
	for (i = 0; i < old; i++) {
		if (config_binding_find(cfg, sv->bindings[i]->name) ==
		    (size_t)-1)
			supervisor_remove(sv->bindings[i]);
	}
	config_free(sv->cfg);
	sv->cfg = cfg;
	for (i = 0; i < cfg->nbindings; i++) {
		xasprintf(&name, "%s.%s", cfg->bindings[i].namespace,
		    cfg->bindings[i].stream);
		found = supervisor_find_name(sv, name) != NULL;
		free(name);
		if (found)
			continue;
		if (supervisor_register(
			sv, &cfg->bindings[i], sv->nbindings, &cause) != 0) {
			log_warnx("binding %s.%s: %s",
			    cfg->bindings[i].namespace, cfg->bindings[i].stream,
			    cause);
			free(cause);
			sv->exit_code = 1;
			event_base_loopbreak(sv->base);
			return;
		}
		b = sv->bindings[sv->nbindings - 1];
		log_info("binding %s added", b->name);
		supervisor_binding_start(b);
	}
	child_schedule(sv->children);
	supervisor_notify("READY=1");
	supervisor_check_finished(sv);
}

/*
 * A binding was removed: it stops holding the merger back at once (its
 * covered events still drain) and its worker is told to stop.
 */
static void
supervisor_remove(struct supervisor_binding *b)
{
	if (b->removed)
		return;
	log_info("binding %s removed: stopping its worker", b->name);
	b->removed = 1;
	metrics_table_remove(b->sv->metrics, b->id);
	if (b->in_merge)
		merge_table_set_phase(
		    b->sv->merge, b->merge_id, FRAME_PHASE_DONE);
	if (child_pid(b->child) > 0)
		supervisor_send_stop(b);
	else
		child_retire(b->child);
}

/* Tell a binding's worker to stop. */
static void
supervisor_send_stop(struct supervisor_binding *b)
{
	uint8_t *buf;
	size_t len;

	buf = frame_pack_stop(b->id, 0, &len);
	child_send(b->child, buf, len);
}

/*
 * Can cfg be applied?  A binding added back after a removal needs its
 * old worker stopped and its last round committed: the two slots must
 * never write the same state row at once.
 */
static int
supervisor_reload_check(struct supervisor *sv, const struct config *cfg)
{
	struct supervisor_binding *b;
	char *name;
	size_t i, j;
	int busy;

	for (i = 0; i < cfg->nbindings; i++) {
		xasprintf(&name, "%s.%s", cfg->bindings[i].namespace,
		    cfg->bindings[i].stream);
		if (supervisor_find_name(sv, name) != NULL) {
			free(name);
			continue;
		}
		for (j = 0; j < sv->nbindings; j++) {
			b = sv->bindings[j];
			busy = child_pid(b->child) > 0 || b->st_dirty ||
			    (b->in_merge &&
				merge_queued(sv->merge, b->merge_id) != 0);
			if (!b->removed || strcmp(b->name, name) != 0 || !busy)
				continue;
			log_warnx("reload refused: binding %s was removed and "
				  "its worker is still stopping; send SIGHUP "
				  "again in a moment",
			    name);
			free(name);
			return (-1);
		}
		free(name);
	}
	return (0);
}

/* Look a binding up by id. */
static struct supervisor_binding *
supervisor_find(struct supervisor *sv, uint32_t id)
{
	if (id >= sv->nbindings)
		return (NULL);
	return (sv->bindings[id]);
}

/* Every frame of a worker (NULL: its socket closed). */
static void
supervisor_child_dispatch(struct child *c, const struct frame *f, void *arg)
{
	struct supervisor *sv = arg;
	struct supervisor_binding *b = supervisor_find(sv, child_id(c));
	int rc = 0;

	if (b == NULL)
		fatalx("%s: unknown binding %u", __func__, child_id(c));
	if (f == NULL) {
		if (b->in_merge)
			merge_table_disconnect(sv->merge, b->merge_id);
		supervisor_pump(sv);
		return;
	}
	switch (f->hdr.type) {
	case FRAME_HELLO:
		if (b->removed || b->reset_req != 0)
			supervisor_send_stop(b);
		else
			supervisor_send_start(b);
		break;
	case FRAME_SCHEMA:
		rc = supervisor_on_schema(b, f);
		break;
	case FRAME_EVENTS:
		rc = supervisor_on_events(b, f);
		break;
	case FRAME_WATERMARK:
		rc = supervisor_on_watermark(b, f);
		break;
	case FRAME_BACKFILL_DONE:
		rc = supervisor_on_backfill_done(b, f);
		break;
	case FRAME_PROGRESS:
		rc = supervisor_on_progress(b, f);
		break;
	case FRAME_ERROR:
		break; /* child.c logged it and decides at the exit */
	default:
		supervisor_protocol_error(b, frame_type_name(f->hdr.type));
		return;
	}
	if (rc == 0)
		supervisor_pump(sv);
}

/* Answer HELLO: resume from the stored state. */
static void
supervisor_send_start(struct supervisor_binding *b)
{
	const struct merge_cursor *mc = NULL;
	struct frame_start m;
	const uint8_t *key;
	char *cause = NULL;
	uint8_t *buf;
	size_t len, keylen;

	memset(&m, 0, sizeof(m));
	if (b->in_merge)
		mc = merge_cursor(b->sv->merge, b->merge_id);
	if (mc != NULL) {
		/* Newer than the state: its events were all released. */
		m.phase = mc->phase;
		m.cursor = mc->cursor;
		m.cursorlen = mc->cursorlen;
		key = mc->key;
		keylen = mc->keylen;
	} else {
		m.phase = b->st->phase;
		m.cursor = b->st->cursor;
		m.cursorlen = b->st->cursorlen;
		key = b->st->backfill_key;
		keylen = b->st->backfill_keylen;
	}
	m.flags = b->sv->once ? FRAME_START_ONCE : 0;
	if (key != NULL &&
	    frame_values_unpack(key, keylen, &m.key, &cause) != 0) {
		log_warnx("table %s: stored last key: %s; backfilling again",
		    b->name, cause);
		free(cause);
		m.cursorlen = 0;
		m.phase = FRAME_PHASE_BACKFILL;
	}
	buf = frame_pack_start(&m, b->id, 0, &len);
	frame_values_free(&m.key);
	child_send(b->child, buf, len);
	b->start_phase = m.phase;
	metrics_set_phase(b->sv->metrics, b->id, m.phase);
	if (b->in_merge)
		merge_table_set_phase(b->sv->merge, b->merge_id, m.phase);
	log_debug(
	    "table %s: started in %s", b->name, frame_phase_name(m.phase));
}

/* FRAME_SCHEMA: the merger and the EVENTS decoder get it. */
static int
supervisor_on_schema(struct supervisor_binding *b, const struct frame *f)
{
	struct frame_schema s, mine;
	char *cause = NULL;
	int rc;

	if (frame_decode_schema(f, &s, &cause) != 0 ||
	    frame_decode_schema(f, &mine, &cause) != 0) {
		supervisor_protocol_error(b, cause);
		free(cause);
		return (-1);
	}
	if (b->in_merge && s.mode != b->mode)
		supervisor_merge_rejoin(b, s.mode);
	if (!b->in_merge) {
		supervisor_merge_join(b, s.mode);
		merge_table_set_phase(
		    b->sv->merge, b->merge_id, b->start_phase);
	}
	if (b->st->mode != s.mode) {
		b->st->mode = s.mode;
		b->st_dirty = 1;
	}
	rc = merge_set_schema(b->sv->merge, b->merge_id, &s);
	frame_schema_free(&s);
	if (b->has_schema)
		frame_schema_free(&b->schema);
	b->schema = mine;
	b->has_schema = 1;
	b->rt_schema = NULL; /* apply to the replica at the next event */
	return (rc);
}

/* FRAME_EVENTS: queue them in the merger. */
static int
supervisor_on_events(struct supervisor_binding *b, const struct frame *f)
{
	struct frame_events ev;
	char *cause = NULL;

	if (!b->has_schema) {
		supervisor_protocol_error(
		    b, "FRAME_EVENTS before FRAME_SCHEMA");
		return (-1);
	}
	if (frame_decode_events(f, &b->schema, &ev, &cause) != 0) {
		supervisor_protocol_error(b, cause);
		free(cause);
		return (-1);
	}
	if (merge_push_events(b->sv->merge, b->merge_id, &ev,
		FRAME_HEADER_SIZE + f->hdr.len) == -1) {
		frame_events_free(&ev);
		supervisor_protocol_error(b, "events do not match the schema");
		return (-1);
	}
	return (0);
}

/* FRAME_WATERMARK: what the merger may release and commit. */
static int
supervisor_on_watermark(struct supervisor_binding *b, const struct frame *f)
{
	struct frame_watermark w;
	char *cause = NULL;
	int rc;

	if (frame_decode_watermark(f, &w, &cause) != 0) {
		supervisor_protocol_error(b, cause);
		free(cause);
		return (-1);
	}
	if (!b->in_merge) {
		frame_watermark_free(&w);
		supervisor_protocol_error(
		    b, "FRAME_WATERMARK before FRAME_SCHEMA");
		return (-1);
	}
	rc = merge_push_watermark(b->sv->merge, b->merge_id, &w);
	frame_watermark_free(&w);
	if (rc != 0)
		supervisor_protocol_error(b,
		    "watermark goes backwards or does not "
		    "fit the table's mode");
	return (rc);
}

/* FRAME_BACKFILL_DONE: the table streams; its slot is free. */
static int
supervisor_on_backfill_done(struct supervisor_binding *b, const struct frame *f)
{
	struct frame_backfill_done m;
	char *cause = NULL;

	if (frame_decode_backfill_done(f, &m, &cause) != 0 || !b->in_merge) {
		supervisor_protocol_error(
		    b, cause ? cause : "BACKFILL_DONE too early");
		free(cause);
		return (-1);
	}
	log_info("table %s: backfill done", b->name);
	merge_push_backfill_done(b->sv->merge, b->merge_id);
	metrics_set_phase(b->sv->metrics, b->id, FRAME_PHASE_STREAMING);
	child_release_slot(b->child);
	return (0);
}

/* FRAME_PROGRESS: kept for status, stored with the next commit. */
static int
supervisor_on_progress(struct supervisor_binding *b, const struct frame *f)
{
	struct frame_progress m;
	char *cause = NULL;

	if (frame_decode_progress(f, &m, &cause) != 0) {
		supervisor_protocol_error(b, cause);
		free(cause);
		return (-1);
	}
	metrics_set_progress(b->sv->metrics, b->id, &m);
	if (b->st->rows_backfilled != m.rows_done ||
	    b->st->rows_estimate != m.rows_estimate ||
	    b->st->lag_ms != m.lag_ms || !b->st->has_lag) {
		b->st->rows_backfilled = m.rows_done;
		b->st->rows_estimate = m.rows_estimate;
		b->st->has_lag = 1;
		b->st->lag_ms = m.lag_ms;
		b->st->lag_at_ms = (int64_t)time(NULL) * 1000;
		b->st_dirty = 1;
	}
	return (0);
}

/* A worker broke the protocol: kill it; child.c restarts it. */
static void
supervisor_protocol_error(struct supervisor_binding *b, const char *what)
{
	pid_t pid = child_pid(b->child);

	log_warnx("worker %s (pid %ld): protocol error: %s; killing it",
	    b->name, (long)pid, what);
	if (pid > 0)
		kill(pid, SIGKILL);
}

/* child.c gave up on a table: record it in the state. */
static void
supervisor_child_failed(struct child *c, const char *reason, void *arg)
{
	struct supervisor *sv = arg;
	struct supervisor_binding *b = supervisor_find(sv, child_id(c));

	if (b == NULL || b->failed || b->removed) {
		supervisor_check_finished(sv);
		return;
	}
	b->failed = 1;
	metrics_set_failed(sv->metrics, b->id, reason);
	b->st->phase = FRAME_PHASE_FAILED;
	free(b->st->failed_reason);
	b->st->failed_reason = xstrdup(reason);
	b->st_dirty = 1;
	if (b->in_merge)
		merge_table_set_phase(
		    sv->merge, b->merge_id, FRAME_PHASE_FAILED);
	supervisor_pump(sv);
	supervisor_commit_soon(sv);
	supervisor_check_finished(sv);
}

/* A worker exited and child.c decided: done tables stop holding. */
static void
supervisor_child_exited(struct child *c, void *arg)
{
	struct supervisor *sv = arg;
	struct supervisor_binding *b = supervisor_find(sv, child_id(c));

	if (b == NULL)
		return;
	if (b->st->restarts != child_restarts(c)) {
		b->st->restarts = child_restarts(c);
		b->st_dirty = 1;
	}
	metrics_set_restarts(sv->metrics, b->id, child_restarts(c));
	if (child_state(c) == CHILD_DONE)
		metrics_set_phase(sv->metrics, b->id, FRAME_PHASE_DONE);
	if (child_state(c) == CHILD_DONE && b->in_merge)
		merge_table_set_phase(sv->merge, b->merge_id, FRAME_PHASE_DONE);
	if (child_state(c) == CHILD_DONE && sv->once && !sv->stopping &&
	    !b->removed && b->reset_req == 0)
		log_info(
		    "table %s: reached the position taken at start", b->name);
	supervisor_pump(sv);
	supervisor_check_finished(sv);
}

/*
 * Release all the merger allows, and commit a full round.  Never only
 * part of it: a round must not end inside a ct version (merge.c rule
 * 5), so a round can exceed OUTPUT_COMMIT_EVENTS by what one release
 * brings (bounded by the merger's queues).
 */
static void
supervisor_pump(struct supervisor *sv)
{
	size_t i;

	if (sv->fatal || sv->finished)
		return;
	merge_release(sv->merge, SIZE_MAX, supervisor_emit, sv);
	for (i = 0; i < sv->nbindings && !sv->fatal; i++)
		supervisor_reset_step(sv->bindings[i]);
	if (sv->fatal)
		return;
	if ((sv->round_full ||
		output_pending(sv->out) >= OUTPUT_COMMIT_EVENTS) &&
	    supervisor_commit(sv) != 0)
		return;
	supervisor_backpressure(sv);
	supervisor_commit_soon(sv);
}

/* One released event: a line, and the replica. */
static void
supervisor_emit(uint32_t id, const struct frame_schema *s,
    const struct frame_event *ev, void *arg)
{
	struct supervisor *sv = arg;
	struct supervisor_binding *b;
	char *cause = NULL;

	b = supervisor_find(sv, id & (SUPERVISOR_MAX_BINDINGS - 1));
	if (b == NULL)
		fatalx("%s: unknown table %u", __func__, id);
	if (sv->fatal)
		return;
	if (output_add_event(sv->out, s, ev) == 1)
		sv->round_full = 1;
	metrics_count_event(sv->metrics, b->id, ev->op);
	memcpy(b->released, ev->pos, ev->poslen);
	b->releasedlen = ev->poslen;
	if (sv->replica == NULL || (b->gen_marked && id != b->merge_id))
		return;
	if (b->reset_mark && id == b->merge_id &&
	    supervisor_replica_mark(b, &cause) != 0) {
		supervisor_replica_fatal(b, cause);
		return;
	}
	if (supervisor_replica_apply(b, s, ev, &cause) != 0)
		supervisor_replica_fatal(b, cause);
}

/* The replica failed: exit 1, a restart resumes from the last commit. */
static void
supervisor_replica_fatal(struct supervisor_binding *b, char *cause)
{
	struct supervisor *sv = b->sv;

	log_warnx("replica: table %s: %s; exiting, a restart resumes from the "
		  "last commit",
	    b->name, cause);
	free(cause);
	sv->fatal = 1;
	sv->exit_code = 1;
	event_base_loopbreak(sv->base);
}

/* Apply an event to the replica, in the round's transaction. */
static int
supervisor_replica_apply(struct supervisor_binding *b,
    const struct frame_schema *s, const struct frame_event *ev, char **cause)
{
	struct supervisor *sv = b->sv;

	if (!sv->replica_txn) {
		if (replica_begin(sv->replica, cause) != 0)
			return (-1);
		sv->replica_txn = 1;
	}
	if (b->rt == NULL || b->rt_schema != s) {
		if ((b->rt = replica_apply_schema(sv->replica, s, cause)) ==
		    NULL)
			return (-1);
		b->rt_schema = s;
	}
	return (replica_apply_event(b->rt, s, ev, NULL, cause) == -1 ? -1 : 0);
}

/* Stop reading workers that run ahead (STYLE.md D3). */
static void
supervisor_backpressure(struct supervisor *sv)
{
	struct supervisor_binding *b;
	struct proc_peer *peer;
	size_t i;

	for (i = 0; i < sv->nbindings; i++) {
		b = sv->bindings[i];
		if (!b->in_merge || (peer = child_peer(b->child)) == NULL)
			continue;
		if (merge_queue_full(sv->merge, b->merge_id)) {
			if (!proc_paused(peer))
				log_debug(
				    "table %s: pausing its worker", b->name);
			proc_pause_reading(peer);
		} else if (proc_paused(peer))
			proc_resume_reading(peer);
	}
}

/* Lines wait for output.c's timer; cursors alone for ours. */
static void
supervisor_commit_soon(struct supervisor *sv)
{
	struct timeval tv = { SUPERVISOR_CURSOR_COMMIT_MS / 1000,
		(SUPERVISOR_CURSOR_COMMIT_MS % 1000) * 1000 };
	struct state_table **list;
	size_t n;

	if (output_pending(sv->out) != 0 ||
	    evtimer_pending(sv->cursor_timer, NULL))
		return;
	n = supervisor_collect(sv, &list);
	free(list);
	if (n != 0)
		evtimer_add(sv->cursor_timer, &tv);
}

/* output.c: the round's first line is old enough. */
static void
supervisor_output_timer_cb(struct output *o, void *arg)
{
	supervisor_commit(arg);
}

/* Cursors moved without lines: commit them. */
static void
supervisor_cursor_timer_cb(int fd, short events, void *arg)
{
	supervisor_commit(arg);
}

/*
 * The state rows the next commit stores: completed cursors (their
 * events are all in this round or before) and other changes.
 */
static size_t
supervisor_collect(struct supervisor *sv, struct state_table ***listp)
{
	const struct merge_cursor *mc;
	struct supervisor_binding *b;
	struct state_table *t;
	size_t i, n = 0;

	*listp = xcalloc(sv->nbindings + 1, sizeof(**listp));
	for (i = 0; i < sv->nbindings; i++) {
		b = sv->bindings[i];
		t = b->st;
		mc = b->in_merge ? merge_cursor(sv->merge, b->merge_id) : NULL;
		if (mc != NULL && mc->dirty) {
			if (!b->failed)
				t->phase = mc->phase;
			free(t->cursor);
			t->cursor = xmalloc(mc->cursorlen + 1);
			memcpy(t->cursor, mc->cursor, mc->cursorlen);
			t->cursorlen = mc->cursorlen;
			free(t->backfill_key);
			t->backfill_key = NULL;
			t->backfill_keylen = 0;
			if (mc->keylen != 0) {
				t->backfill_key = xmalloc(mc->keylen);
				memcpy(t->backfill_key, mc->key, mc->keylen);
				t->backfill_keylen = mc->keylen;
			}
			b->st_dirty = 1;
		}
		if (b->releasedlen != 0 &&
		    (b->releasedlen != t->releasedlen ||
			memcmp(b->released, t->released, b->releasedlen) !=
			    0)) {
			free(t->released);
			t->released = xmalloc(b->releasedlen);
			memcpy(t->released, b->released, b->releasedlen);
			t->releasedlen = b->releasedlen;
			b->st_dirty = 1;
		}
		if (b->st_dirty)
			(*listp)[n++] = t;
	}
	return (n);
}

/*
 * output.c's step 2: commit the replica's transaction with a copy of
 * the round the state is about to store (top of the file).
 */
static int
supervisor_replica_commit(const struct state_output *so,
    struct state_table **tables, size_t n, void *arg, char **cause)
{
	struct supervisor *sv = arg;
	uint8_t *blob;
	size_t len;
	int rc;

	if (!sv->replica_txn)
		return (0);
	blob = state_round_pack(so, tables, n, &len);
	rc = replica_round_set(sv->replica, so->round, blob, len, cause);
	free(blob);
	if (rc != 0 || replica_commit(sv->replica, cause) != 0)
		return (-1);
	sv->replica_txn = 0;
	return (0);
}

/*
 * At start: if the replica committed a round the state file did not
 * (a kill between output.c's steps 2 and 3), commit that round to the
 * state now, before the output is opened and the workers resume.
 */
static int
supervisor_roll_forward(struct supervisor *sv, char **cause)
{
	struct state_output so, rso;
	struct state_table **tables = NULL;
	uint8_t *blob;
	uint64_t round;
	size_t len, n = 0, i;
	int found;

	if ((found = replica_round_get(
		 sv->replica, &round, &blob, &len, cause)) <= 0)
		return (found);
	if (state_output_get(sv->state, &so, cause) != 0 ||
	    state_round_unpack(blob, len, &rso, &tables, &n, cause) != 0)
		goto fail;
	if (rso.round != round) {
		xasprintf(cause, "%s: stored round %llu holds round %llu",
		    sv->cfg->replica.path, (unsigned long long)round,
		    (unsigned long long)rso.round);
		goto fail;
	}
	if (supervisor_roll_check(sv, &so, &rso) != 0) {
		free(blob);
		state_tables_free(tables, n);
		return (0);
	}
	if (state_begin(sv->state, cause) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (state_table_put(sv->state, tables[i], cause) != 0) {
			state_rollback(sv->state);
			goto fail;
		}
	}
	if (state_output_set(sv->state, &rso, cause) != 0 ||
	    state_commit(sv->state, cause) != 0) {
		state_rollback(sv->state);
		goto fail;
	}
	log_info("%s: committed round %llu (up to seq %llu) from the replica: "
		 "the last run stopped between the replica's commit and the "
		 "state's",
	    sv->cfg->state.path, (unsigned long long)round,
	    (unsigned long long)rso.seq);
	free(blob);
	state_tables_free(tables, n);
	return (0);
fail:
	free(blob);
	state_tables_free(tables, n);
	return (-1);
}

/*
 * Is the replica's round rso the one after the state's so?  0 yes; -1
 * no: nothing to do, or files of different runs (logged).
 */
static int
supervisor_roll_check(struct supervisor *sv, const struct state_output *so,
    const struct state_output *rso)
{
	if (rso->round <= so->round)
		return (-1);
	if (rso->round != so->round + 1 || rso->seq < so->seq ||
	    rso->offset < so->offset) {
		log_warnx("%s is at round %llu (seq %llu) but %s at round %llu "
			  "(seq %llu): not the same capture (a file replaced "
			  "or restored?); leaving the state as it is",
		    sv->cfg->replica.path, (unsigned long long)rso->round,
		    (unsigned long long)rso->seq, sv->cfg->state.path,
		    (unsigned long long)so->round, (unsigned long long)so->seq);
		return (-1);
	}
	return (0);
}

/*
 * Commit the round: output, replica, state (top of the file).  On
 * failure the run ends with exit 1: the last commit stands.
 */
static int
supervisor_commit(struct supervisor *sv)
{
	struct state_table **list;
	char *cause = NULL;
	size_t i, n;

	if (sv->fatal)
		return (-1);
	evtimer_del(sv->cursor_timer);
	n = supervisor_collect(sv, &list);
	for (i = 0; i < sv->nbindings; i++) {
		if (supervisor_reconcile(sv->bindings[i], &cause) != 0)
			goto fail;
	}
	if (output_commit(sv->out, list, n, &cause) != 0)
		goto fail;
	merge_cursors_committed(sv->merge);
	metrics_committed(sv->metrics, output_seq(sv->out));
	sv->round_full = 0;
	for (i = 0; i < sv->nbindings; i++) {
		sv->bindings[i]->st_dirty = 0;
		sv->bindings[i]->st->request_done = 0;
	}
	free(list);
	return (0);
fail:
	log_warnx("commit failed: %s; exiting, a restart resumes from the "
		  "last commit",
	    cause);
	free(cause);
	free(list);
	sv->fatal = 1;
	sv->exit_code = 1;
	event_base_loopbreak(sv->base);
	return (-1);
}

/* Is the run over: stopping or --once, and no worker left? */
static void
supervisor_check_finished(struct supervisor *sv)
{
	struct supervisor_binding *b;
	enum child_state cs;
	size_t i, failed = 0, live = 0, active = 0;

	if (sv->finished || sv->fatal)
		return;
	for (i = 0; i < sv->nbindings; i++) {
		b = sv->bindings[i];
		if (b->removed)
			continue;
		active++;
		cs = child_state(b->child);
		if (b->reset_req != 0 && !sv->stopping)
			live++; /* it starts again */
		else if (b->failed || cs == CHILD_FAILED)
			failed++;
		else if (cs != CHILD_DONE)
			live++;
	}
	if (live != 0)
		return;
	if (!sv->once && !sv->stopping) {
		if (failed != active || active == 0)
			return;
		log_warnx("every table has failed: nothing left to capture");
	}
	supervisor_finish(sv);
}

/* Drain the merger, commit a last time, leave the loop. */
static void
supervisor_finish(struct supervisor *sv)
{
	struct supervisor_binding *b;
	size_t i, failed = 0;

	sv->finished = 1;
	merge_release(sv->merge, SIZE_MAX, supervisor_emit, sv);
	if (sv->fatal || supervisor_commit(sv) != 0)
		return;
	for (i = 0; i < sv->nbindings; i++) {
		b = sv->bindings[i];
		if (!b->failed)
			continue;
		failed++;
		log_warnx("table %s failed: %s", b->name,
		    b->st->failed_reason ? b->st->failed_reason : "unknown");
	}
	if (failed != 0 && (sv->once || !sv->stopping)) {
		log_warnx("%zu of %zu table%s failed", failed, sv->nbindings,
		    sv->nbindings == 1 ? "" : "s");
		sv->exit_code = 1;
	} else
		log_info("all tables %s; committed up to seq %llu",
		    sv->once && !sv->stopping ? "reached their stop position"
					      : "stopped",
		    (unsigned long long)output_seq(sv->out));
	event_base_loopexit(sv->base, NULL);
}

/* Read SUPERVISOR_CRASH_ENV (tests only). */
static void
supervisor_crash_parse(struct supervisor *sv)
{
	static const char *steps[] = { "written", "synced", "replica",
		"state" };
	const char *env = getenv(SUPERVISOR_CRASH_ENV), *colon;
	size_t i, len;

	sv->crash_step = -1;
	if (env == NULL || (colon = strchr(env, ':')) == NULL)
		return;
	len = colon - env;
	sv->crash_left = strtol(colon + 1, NULL, 10);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (len == strlen(steps[i]) && strncmp(env, steps[i], len) == 0)
			sv->crash_step = OUTPUT_STEP_WRITTEN + i;
	}
	if (sv->crash_step != -1)
		log_warnx("%s=%s: will kill myself there (a test)",
		    SUPERVISOR_CRASH_ENV, env);
}

/* A commit reached step: die there if the test hook says so. */
static void
supervisor_crash_point(struct supervisor *sv, int step)
{
	if (sv->crash_step != step || --sv->crash_left != 0)
		return;
	log_warnx("%s: killing myself now", SUPERVISOR_CRASH_ENV);
	kill(getpid(), SIGKILL);
}

/* output.c's steps, for the test hook. */
static void
supervisor_output_hook(enum output_step step, void *arg)
{
	supervisor_crash_point(arg, (int)step);
}

/* Look a binding up by "schema.table" (removed ones are not found). */
static struct supervisor_binding *
supervisor_find_name(struct supervisor *sv, const char *name)
{
	size_t i;

	for (i = 0; i < sv->nbindings; i++) {
		if (!sv->bindings[i]->removed &&
		    strcmp(sv->bindings[i]->name, name) == 0)
			return (sv->bindings[i]);
	}
	return (NULL);
}

/* A request for a table that is not bound (any more): forget it. */
static void
supervisor_request_drop(
    struct supervisor *sv, const char *why, const struct state_request *req)
{
	char *cause = NULL;

	log_warnx("reset request %llu for %s: %s; dropping it",
	    (unsigned long long)req->id, req->binding, why);
	if (state_begin(sv->state, &cause) != 0 ||
	    state_request_remove(sv->state, req->binding, req->id, &cause) !=
		0 ||
	    state_commit(sv->state, &cause) != 0) {
		state_rollback(sv->state);
		log_warnx("%s", cause);
		free(cause);
	}
}

/*
 * At start, before any worker: apply the reset requests left while no
 * daemon ran (or before a crash).  The replica marks first, then the
 * state stores the resets and deletes the requests; a crash in between
 * applies them again at the next start, which changes nothing more.
 */
static int
supervisor_requests_startup(struct supervisor *sv, char **cause)
{
	struct state_request *reqs;
	struct supervisor_binding *b;
	size_t i, n;
	int rc = -1;

	if (state_request_list(sv->state, &reqs, &n, cause) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if ((b = supervisor_find_name(sv, reqs[i].binding)) == NULL) {
			supervisor_request_drop(sv, "not a binding", &reqs[i]);
			continue;
		}
		if (b->st->request_done == 0)
			log_info("table %s: reset requested at %s: "
				 "backfilling it again",
			    b->name, reqs[i].requested_at);
		state_table_reset(b->st);
		b->st->request_done = reqs[i].id;
		b->reset_served = reqs[i].id;
		b->st_dirty = 1;
		if (b->cmode != CONFIG_MODE_CT && b->cmode != CONFIG_MODE_CDC)
			b->mode_known = 0; /* auto: the worker decides */
		metrics_set_phase(sv->metrics, b->id, FRAME_PHASE_BACKFILL);
		if (supervisor_replica_mark(b, cause) != 0)
			goto out;
	}
	if (sv->replica_txn) {
		if (replica_commit(sv->replica, cause) != 0)
			goto out;
		sv->replica_txn = 0;
	}
	if (state_begin(sv->state, cause) != 0)
		goto out;
	for (i = 0; i < sv->nbindings; i++) {
		b = sv->bindings[i];
		if (b->st->request_done != 0 &&
		    state_table_put(sv->state, b->st, cause) != 0) {
			state_rollback(sv->state);
			goto out;
		}
		b->st->request_done = 0;
	}
	if (state_commit(sv->state, cause) != 0) {
		state_rollback(sv->state);
		goto out;
	}
	rc = 0;
out:
	state_requests_free(reqs, n);
	return (rc);
}

/* Every SUPERVISOR_REQUEST_POLL_MS: new reset requests? */
static void
supervisor_request_timer_cb(int fd, short events, void *arg)
{
	struct supervisor *sv = arg;
	struct supervisor_binding *b;
	struct state_request *reqs;
	char *cause = NULL;
	size_t i, n;

	if (sv->stopping || sv->finished || sv->fatal)
		return;
	if (state_request_list(sv->state, &reqs, &n, &cause) != 0) {
		log_warnx("reading reset requests: %s", cause);
		free(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((b = supervisor_find_name(sv, reqs[i].binding)) == NULL)
			supervisor_request_drop(sv, "not a binding", &reqs[i]);
		else if (reqs[i].id > b->reset_served &&
		    reqs[i].id > b->reset_req)
			supervisor_reset_begin(b, reqs[i].id);
	}
	state_requests_free(reqs, n);
	supervisor_pump(sv);
}

/* A reset was requested: stop the worker (supervisor_reset_step()). */
static void
supervisor_reset_begin(struct supervisor_binding *b, uint64_t id)
{
	if (b->reset_req != 0) {
		b->reset_req = id; /* the same reset answers both */
		return;
	}
	log_info("table %s: reset requested (request %llu): stopping its "
		 "worker to backfill the table again",
	    b->name, (unsigned long long)id);
	b->reset_req = id;
	if (child_pid(b->child) > 0)
		supervisor_send_stop(b);
}

/*
 * Go on with a reset once the worker is gone and the merger has
 * released everything the old capture sent.
 */
static void
supervisor_reset_step(struct supervisor_binding *b)
{
	if (b->reset_req == 0 || child_pid(b->child) > 0 || b->sv->stopping)
		return; /* stopping: the request waits for the next start */
	if (b->in_merge) {
		merge_table_set_phase(
		    b->sv->merge, b->merge_id, FRAME_PHASE_DONE);
		if (merge_queued(b->sv->merge, b->merge_id) != 0)
			return;
	}
	supervisor_reset_apply(b);
}

/* Reset the table and start its worker again, backfilling. */
static void
supervisor_reset_apply(struct supervisor_binding *b)
{
	struct supervisor *sv = b->sv;
	char *cause = NULL;

	if (b->in_merge) {
		b->merge_id += 1U << SUPERVISOR_GEN_SHIFT;
		b->in_merge = 0;
	}
	b->releasedlen = 0;
	b->failed = 0;
	state_table_reset(b->st);
	b->st->request_done = b->reset_served = b->reset_req;
	b->st_dirty = 1;
	b->reset_req = 0;
	if (b->cmode != CONFIG_MODE_CT && b->cmode != CONFIG_MODE_CDC)
		b->mode_known = 0; /* auto: the worker decides */
	if (supervisor_replica_mark(b, &cause) != 0) {
		supervisor_replica_fatal(b, cause);
		return;
	}
	metrics_clear_failed(sv->metrics, b->id, FRAME_PHASE_BACKFILL);
	if (b->mode_known)
		supervisor_merge_join(b, b->mode);
	child_restart(b->child);
	log_info(
	    "table %s: reset: cursor cleared, backfilling it again", b->name);
	child_schedule(sv->children);
	supervisor_commit_soon(sv);
}

/*
 * The replica handle of a binding, in an open replica transaction:
 * *rtp NULL when the replica has no such table yet.
 */
static int
supervisor_replica_table(
    struct supervisor_binding *b, struct replica_table **rtp, char **cause)
{
	struct supervisor *sv = b->sv;

	*rtp = NULL;
	if (!sv->replica_txn) {
		if (replica_begin(sv->replica, cause) != 0)
			return (-1);
		sv->replica_txn = 1;
	}
	if (b->rt != NULL) {
		*rtp = b->rt;
		return (0);
	}
	if (b->has_schema)
		return (replica_table_lookup(sv->replica, b->schema.db,
			    b->schema.schema, b->schema.table, rtp, cause) == -1
			? -1
			: 0);
	return (replica_table_lookup(sv->replica, sv->cfg->database, b->ns,
		    b->stream, rtp, cause) == -1
		? -1
		: 0);
}

/*
 * A backfill starting afresh: the replica marks where its journal
 * stands and forgets the table's position (replica.c).
 */
static int
supervisor_replica_mark(struct supervisor_binding *b, char **cause)
{
	struct replica_table *rt;

	b->reset_mark = 0;
	b->gen_marked = 1;
	if (b->sv->replica == NULL)
		return (0);
	if (supervisor_replica_table(b, &rt, cause) != 0)
		return (-1);
	if (rt == NULL && !b->has_schema) {
		/* Looked up by the configured names: try the server's. */
		b->reset_mark = 1;
		b->gen_marked = 0;
		return (0);
	}
	if (rt == NULL)
		return (0); /* no rows yet: nothing to reconcile */
	return (replica_backfill_begin(rt, 1, cause));
}

/*
 * Before a commit: a table whose backfill just ended has the rows its
 * backfill did not see soft-deleted in the replica (replica.c), in the
 * round's replica transaction.
 */
static int
supervisor_reconcile(struct supervisor_binding *b, char **cause)
{
	const struct merge_cursor *mc;
	struct replica_table *rt;
	uint64_t n;

	if (b->sv->replica == NULL || !b->in_merge ||
	    (mc = merge_cursor(b->sv->merge, b->merge_id)) == NULL ||
	    !mc->dirty || !mc->backfill_done)
		return (0);
	if (b->reset_mark && supervisor_replica_mark(b, cause) != 0)
		return (-1);
	if (supervisor_replica_table(b, &rt, cause) != 0)
		return (-1);
	if (rt == NULL || replica_backfill_end(rt, NULL, &n, cause) != 0)
		return (rt == NULL ? 0 : -1);
	if (n != 0)
		log_info("table %s: backfill complete: %llu replica row%s it "
			 "did not see marked deleted (gone at the source)",
		    b->name, (unsigned long long)n, n == 1 ? "" : "s");
	return (0);
}
