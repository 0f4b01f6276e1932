/*
 * supervisor.h: the supervisor process and the command-line front end.
 * One section per file (STYLE.md A2).
 */

#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include "common.h"

/* Options parsed once by main() and handed to the command. */
struct cmd_opts {
	const char *config_path;
	const char *proc_name; /* -P: "worker" (internal) */
	uint32_t binding_id; /* -I (internal) */
	const char *binding_name; /* -B (internal): "schema.table" */
	int test_only; /* -n */
	int verbose; /* -v, repeatable */
	int once; /* run --once */
	int json; /* --json */
	const char *pidfile; /* run --pidfile */
	int daemonize; /* run --daemonize */
	int argc; /* operands after the command */
	char **argv;
};

/* cmd.c */
int cmd_dispatch(const char *, struct cmd_opts *);
int cmd_config_test(struct cmd_opts *);
int cmd_run(struct cmd_opts *);
void cmd_usage(FILE *);

/* supervisor.c */
int supervisor_run(struct cmd_opts *);

/* daemon.c */
int daemon_check_command(const char *, const struct cmd_opts *);
int daemon_start(struct cmd_opts *, struct config *);
void daemon_detach(const struct cmd_opts *);
void daemon_ready(void);
int daemon_log_syslog(void);

/* verify.c */
int cmd_verify(struct cmd_opts *);

/* status.c */
int cmd_status(struct cmd_opts *);
int cmd_reset(struct cmd_opts *);

/* child.c */
#define CHILD_BACKOFF_MIN_MS 1000 /* first restart delay */
#define CHILD_BACKOFF_MAX_MS 60000
#define CHILD_STABLE_MS 60000 /* up this long: backoff and failures reset */
#define CHILD_MAX_FAILURES 5 /* crashes in a row before "failed" */
#define CHILD_STOP_TIMEOUT_MS 10000 /* FRAME_STOP to SIGKILL */

enum child_state {
	CHILD_WAITING = 0, /* not started: waits for a slot */
	CHILD_RUNNING,
	CHILD_BACKOFF, /* exited, restart timer pending */
	CHILD_DONE, /* exited 0, or stopped by child_shutdown() */
	CHILD_FAILED /* FRAME_ERROR FAILED, or kept crashing */
};

struct child;
struct child_table;
struct proc_peer;

/* What the caller hears about its children. */
struct child_cb {
	/* Every frame of a child (HELLO already checked); NULL: the
	 * socket closed. */
	void (*dispatch)(struct child *, const struct frame *, void *);
	/* The child was marked failed: reason says why. */
	void (*failed)(struct child *, const char *, void *);
	/* An exit was handled; child_state() says what comes next. */
	void (*exited)(struct child *, void *);
	void *arg;
};

/* How children are run; zero values take the defaults. */
struct child_params {
	const char *exec_path; /* our binary, absolute */
	const char *config_path; /* -c */
	int verbose; /* -v count */
	int max_workers; /* 0: no limit */
	int max_failures;
	int backoff_min_ms;
	int backoff_max_ms;
	int stable_ms;
	int stop_timeout_ms;
};

struct child_table *child_table_create(
    struct event_base *, const struct child_params *, const struct child_cb *);
void child_table_free(struct child_table *);
struct child *child_add(struct child_table *, const char *, uint32_t, int);
int child_schedule(struct child_table *);
void child_release_slot(struct child *);
void child_restart(struct child *);
void child_retire(struct child *);
int child_send(struct child *, uint8_t *, size_t);
void child_shutdown(struct child_table *);
size_t child_running(const struct child_table *);
struct child *child_find_pid(const struct child_table *, pid_t);
struct child *child_find_id(const struct child_table *, uint32_t);
const char *child_name(const struct child *);
uint32_t child_id(const struct child *);
pid_t child_pid(const struct child *);
enum child_state child_state(const struct child *);
const char *child_state_name(enum child_state);
uint32_t child_restarts(const struct child *);
struct proc_peer *child_peer(const struct child *);
const char *child_signal_name(int);
char *child_exit_describe(int);

/* merge.c */
#define MERGE_MAX_EVENTS 100000 /* covered events queued per table */
#define MERGE_MAX_BYTES (64 * 1024 * 1024) /* frame bytes per table */

/* A table's last complete watermark: what the state may store. */
struct merge_cursor {
	uint32_t table_id;
	enum frame_phase phase; /* to store with it */
	uint8_t pos[FRAME_MAX_POS];
	size_t poslen;
	uint8_t *cursor; /* the worker's resumable cursor */
	size_t cursorlen;
	uint8_t *key; /* frame_values_pack() of the last key, or NULL */
	size_t keylen;
	int dirty; /* moved since merge_cursors_committed() */
	int backfill_done; /* a backfill ended since then (reconcile) */
};

struct merge;

/* Called with each released event, in order. */
typedef void (*merge_emit_cb)(
    uint32_t, const struct frame_schema *, const struct frame_event *, void *);

struct merge *merge_create(size_t, size_t);
void merge_free(struct merge *);
void merge_table_add(struct merge *, uint32_t, enum frame_mode);
void merge_table_set_phase(struct merge *, uint32_t, enum frame_phase);
void merge_table_disconnect(struct merge *, uint32_t);
void merge_table_set_floor(struct merge *, uint32_t, const uint8_t *, size_t);
int merge_set_schema(struct merge *, uint32_t, struct frame_schema *);
int merge_push_events(struct merge *, uint32_t, struct frame_events *, size_t);
int merge_push_watermark(
    struct merge *, uint32_t, const struct frame_watermark *);
void merge_push_backfill_done(struct merge *, uint32_t);
size_t merge_release(struct merge *, size_t, merge_emit_cb, void *);
int merge_queue_full(struct merge *, uint32_t);
size_t merge_queued(const struct merge *, uint32_t);
const struct merge_cursor *merge_cursor(const struct merge *, uint32_t);
void merge_cursors_committed(struct merge *);

/* output.c */
#define OUTPUT_COMMIT_EVENTS 10000 /* lines per commit, at most */
#define OUTPUT_COMMIT_BYTES (8 * 1024 * 1024)
#define OUTPUT_COMMIT_MS 50 /* oldest line of a round to its commit */

/* Points between the steps of output_commit() (test hook). */
enum output_step {
	OUTPUT_STEP_WRITTEN, /* lines written, not synced */
	OUTPUT_STEP_SYNCED, /* lines on disk, replica not committed */
	OUTPUT_STEP_REPLICA, /* replica committed, state not begun */
	OUTPUT_STEP_STATE, /* state written, not committed */
	OUTPUT_STEP_COMMITTED
};

struct output;
struct state;
struct state_output;
struct state_table;

typedef void (*output_commit_cb)(struct output *, void *);
typedef void (*output_hook_cb)(enum output_step, void *);
/* Between the sync and the state: commit the replica with this round. */
typedef int (*output_precommit_cb)(const struct state_output *,
    struct state_table **, size_t, void *, char **);

struct output *output_open(const char *, struct state *, const char *, char **);
void output_close(struct output *);
void output_set_timer(
    struct output *, struct event_base *, output_commit_cb, void *);
void output_set_hook(struct output *, output_hook_cb, void *);
void output_set_precommit(struct output *, output_precommit_cb, void *);
int output_add_event(
    struct output *, const struct frame_schema *, const struct frame_event *);
int output_commit(struct output *, struct state_table **, size_t, char **);
size_t output_pending(const struct output *);
uint64_t output_seq(const struct output *);
void output_committed(const struct output *, uint64_t *, uint64_t *);

/* metrics.c */
#define METRICS_NOPS 3 /* c, u, d */
#define METRICS_LAG_STALE_MS 15000 /* no PROGRESS this long: lag grows */

/* What the supervisor counts for one table (by binding id). */
struct metrics_table {
	char *name; /* "schema.table" */
	int active; /* registered, not removed */
	enum frame_phase phase;
	uint64_t events[METRICS_NOPS]; /* committed: c, u, d */
	uint64_t pending[METRICS_NOPS]; /* released, not committed yet */
	uint64_t rows_done;
	uint64_t rows_estimate; /* 0: unknown */
	int has_lag;
	uint64_t lag_ms; /* last PROGRESS while streaming */
	int64_t lag_at_ms; /* clock_now_ms() when it came */
	int64_t progress_at_ms; /* the last PROGRESS, 0: none yet */
	uint32_t restarts;
	char *failed_reason;
};

struct evbuffer;
struct evhttp;

struct metrics {
	struct metrics_table *tables; /* indexed by binding id */
	size_t ntables;
	uint64_t seq; /* committed */
	double commit_time; /* unix seconds, 0: no commit yet */
	struct evhttp *http; /* NULL: metrics.listen unset */
};

struct metrics *metrics_create(void);
void metrics_free(struct metrics *);
int metrics_start(struct metrics *, struct event_base *, const struct config *,
    uint64_t, char **);
void metrics_table_add(
    struct metrics *, uint32_t, const char *, enum frame_phase, uint32_t);
void metrics_table_remove(struct metrics *, uint32_t);
void metrics_count_event(struct metrics *, uint32_t, enum frame_op);
void metrics_committed(struct metrics *, uint64_t);
void metrics_set_phase(struct metrics *, uint32_t, enum frame_phase);
void metrics_set_progress(
    struct metrics *, uint32_t, const struct frame_progress *);
void metrics_set_restarts(struct metrics *, uint32_t, uint32_t);
void metrics_set_failed(struct metrics *, uint32_t, const char *);
void metrics_clear_failed(struct metrics *, uint32_t, enum frame_phase);
int64_t metrics_lag_aged(uint64_t, int64_t, int64_t);
int64_t metrics_lag_ms(const struct metrics_table *, int64_t);
size_t metrics_failed(const struct metrics *);
void metrics_escape_label(struct evbuffer *, const char *);
void metrics_render(const struct metrics *, int64_t, struct evbuffer *);
int metrics_render_health(const struct metrics *, struct evbuffer *);

/* progress.c */
#define PROGRESS_TICK_MS 1000 /* at most one line this often */
#define PROGRESS_QUIET_MS 30000 /* at least one line this often */
#define PROGRESS_MAX_LISTED 4 /* more streaming tables: one summary */

struct progress;

int progress_wanted(int);
struct progress *progress_create(struct event_base *, const struct metrics *);
void progress_free(struct progress *);
void progress_format(struct progress *, int64_t, char *, size_t);

#endif /* SUPERVISOR_H */
