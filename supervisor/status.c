/*
 * "status" and "reset": what an operator asks of a capture without
 * stopping it.
 *
 * status reads the state file read-only (STATE_READONLY: in WAL mode
 * it sees the last commit and never blocks the daemon nor is blocked
 * by it) and prints, per table, what the daemon stored there: mode,
 * phase, backfill progress (rows done and the sys.partitions estimate
 * of the last FRAME_PROGRESS), the cursor (the done position of the
 * worker's cursor, worker.h: a CT version or an LSN), the lag, the
 * restarts and the last error or failure; and the output seq and
 * whether a daemon holds the state's writer lock (state_lock_holder()
 * looks in /proc/locks and never takes the lock, so a daemon starting
 * at that moment cannot fail because of us; without /proc/locks it
 * says it cannot tell).  It never talks to the daemon or to SQL
 * Server, so it works the same whether the daemon runs or not; what it
 * shows is as old as the last commit (about a second while the daemon
 * runs).
 *
 * Lag is how far the capture is behind the source, in seconds: the
 * lag the table's worker last reported (the time since the start of
 * its last complete poll of the source: changes committed after that
 * are not captured yet), plus the time since that report once the
 * report is older than METRICS_LAG_STALE_MS, as /metrics computes it;
 * so a stopped daemon or a hung worker shows a growing lag.  None
 * while backfilling, and none before the first report.
 *
 * reset TABLE starts one table over with a backfill.  With no daemon
 * running it takes the writer lock and clears the table's cursor, last
 * key and released position in the state itself, and leaves a request
 * that the next run applies before its workers start (it then marks
 * the replica's backfill, replica.c).  With a daemon running it cannot
 * take the lock: it appends the request (STATE_REQUESTER), which the
 * daemon picks up within SUPERVISOR_REQUEST_POLL_MS (supervisor.c).
 * When it cannot tell (no /proc/locks) it leaves the request too, which
 * is safe either way.
 *
 * Exit statuses: 0; status 1 when a table is failed (so that a
 * monitoring check can run it); 2 for usage, configuration and state
 * errors, among them "no state yet".
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor.h"
#include "state.h"

/* The worker's cursor (worker.h): tag, done position, seq, flags. */
#define STATUS_CURSOR_POS 0x2 /* WORKER_CURSOR_POS */
#define STATUS_LSN_LEN 10

/* One row of the report. */
struct status_row {
	char *name; /* "schema.table" */
	struct state_table *t; /* NULL: bound but never run */
	int reset_pending;
};

/* What status reports. */
struct status {
	const char *state_path;
	int running; /* 1, 0, -1: cannot tell */
	pid_t pid;
	struct state_output out;
	char *committed_at;
	struct status_row *rows;
	size_t nrows;
	int64_t now_ms;
};

static struct config *status_load_config(const struct cmd_opts *, const char *);
static int status_state_exists(const char *, const char *);
static void status_add_row(struct status *, const char *, struct state_table *);
static int status_read(struct status *, const struct config *);
static void status_free(struct status *);
static int status_cursor(const struct state_table *, char *, size_t, int);
static int64_t status_lag_ms(const struct state_table *, int64_t);
static void status_progress(const struct status_row *, char *, size_t);
static void status_print_text(const struct status *, FILE *);
static void status_json_str(struct json_buf *, const char *);
static void status_json_row(
    struct json_buf *, const struct status *, const struct status_row *);
static void status_print_json(const struct status *, FILE *);
static size_t status_failed(const struct status *);
static int reset_is_binding(
    const struct config *, struct state *, const char *, const char *);
static int reset_direct(const struct config *, const char *);
static int reset_request(const struct config *, const char *, pid_t);

/* Load the configuration for command cmd; NULL after a message. */
static struct config *
status_load_config(const struct cmd_opts *opts, const char *cmd)
{
	struct config_errors errs;
	struct config *cfg;
	size_t i;

	if (opts->config_path == NULL) {
		fprintf(stderr, "%s: %s: no configuration file: use -c FILE\n",
		    PACKAGE_NAME, cmd);
		return (NULL);
	}
	if ((cfg = config_load(opts->config_path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "%s: %s: configuration %s is not valid\n",
		    PACKAGE_NAME, cmd, opts->config_path);
		config_errors_free(&errs);
	}
	return (cfg);
}

/* Does the state file exist?  Says why not. */
static int
status_state_exists(const char *path, const char *cmd)
{
	if (access(path, F_OK) == 0)
		return (1);
	if (errno == ENOENT)
		fprintf(stderr,
		    "%s: %s: %s: no state yet (the daemon has not run)\n",
		    PACKAGE_NAME, cmd, path);
	else
		fprintf(stderr, "%s: %s: %s: %s\n", PACKAGE_NAME, cmd, path,
		    strerror(errno));
	return (0);
}

/* Append a row; t is taken. */
static void
status_add_row(struct status *s, const char *name, struct state_table *t)
{
	struct status_row *r;

	s->rows = xreallocarray(s->rows, s->nrows + 1, sizeof(*s->rows));
	r = &s->rows[s->nrows++];
	r->name = xstrdup(name);
	r->t = t;
	r->reset_pending = 0;
}

/*
 * Read everything in one read transaction: the bindings in config
 * order (or the state's tables when the bindings are discovered), then
 * tables the state has that are no longer bound.
 */
static int
status_read(struct status *s, const struct config *cfg)
{
	struct state_table **tables = NULL;
	struct state_request *reqs = NULL;
	struct state *st;
	char *cause = NULL, *name;
	size_t i, j, n = 0, nreq = 0;
	int rc = -1, *used = NULL;

	if ((st = state_open(s->state_path, STATE_READONLY, &cause)) == NULL)
		goto out;
	if (state_begin(st, &cause) != 0 ||
	    state_output_get(st, &s->out, &cause) != 0 ||
	    state_output_updated_at(st, &s->committed_at, &cause) != 0 ||
	    state_table_list(st, &tables, &n, &cause) != 0 ||
	    state_request_list(st, &reqs, &nreq, &cause) != 0)
		goto out;
	used = xcalloc(n + 1, sizeof(*used));
	for (i = 0; i < cfg->nbindings; i++) {
		xasprintf(&name, "%s.%s", cfg->bindings[i].namespace,
		    cfg->bindings[i].stream);
		for (j = 0; j < n && strcmp(tables[j]->binding, name); j++)
			;
		status_add_row(s, name, j < n ? tables[j] : NULL);
		if (j < n)
			used[j] = 1;
		free(name);
	}
	for (j = 0; j < n; j++) {
		if (!used[j])
			status_add_row(s, tables[j]->binding, tables[j]);
	}
	for (i = 0; i < s->nrows; i++) {
		for (j = 0; j < nreq; j++)
			if (strcmp(reqs[j].binding, s->rows[i].name) == 0)
				s->rows[i].reset_pending = 1;
	}
	rc = 0;
out:
	if (rc != 0) {
		fprintf(stderr, "%s: status: %s\n", PACKAGE_NAME, cause);
		free(cause);
		for (j = 0; j < n; j++)
			state_table_free(tables[j]);
	}
	free(tables); /* the rows own the tables now */
	free(used);
	state_requests_free(reqs, nreq);
	state_close(st);
	return (rc);
}

/* Free what status_read() built. */
static void
status_free(struct status *s)
{
	size_t i;

	for (i = 0; i < s->nrows; i++) {
		free(s->rows[i].name);
		state_table_free(s->rows[i].t);
	}
	free(s->rows);
	free(s->committed_at);
}

/*
 * The done position of the table's cursor: "ct version 42" or "cdc lsn
 * 0x..." (json: a JSON object).  0 when there is none to show.
 */
static int
status_cursor(const struct state_table *t, char *buf, size_t len, int json)
{
	const uint8_t *c;
	uint64_t v = 0;
	size_t i, plen, off = 0;

	if (t == NULL || t->cursorlen < 1)
		return (0);
	c = t->cursor;
	plen = c[0] == 'T' ? FRAME_POS_CT_SIZE
	    : c[0] == 'C'  ? FRAME_POS_CDC_SIZE
			   : 0;
	if (plen == 0 || t->cursorlen != 1 + plen + 8 + 1 ||
	    !(c[1 + plen + 8] & STATUS_CURSOR_POS))
		return (0);
	if (c[0] == 'T') {
		for (i = 0; i < 8; i++)
			v = v << 8 | c[1 + i];
		snprintf(buf, len,
		    json ? "{\"ct_version\":%llu}" : "ct version %llu",
		    (unsigned long long)v);
		return (1);
	}
	off = snprintf(buf, len, json ? "{\"lsn\":\"0x" : "cdc lsn 0x");
	for (i = 0; i < STATUS_LSN_LEN && off + 3 < len; i++)
		off += snprintf(buf + off, len - off, "%02X", c[1 + i]);
	if (json && off + 3 < len)
		snprintf(buf + off, len - off, "\"}");
	return (1);
}

/* The lag in ms (top of the file), -1 when there is none. */
static int64_t
status_lag_ms(const struct state_table *t, int64_t now_ms)
{
	if (t == NULL || !t->has_lag || t->phase != FRAME_PHASE_STREAMING)
		return (-1);
	return (metrics_lag_aged(t->lag_ms, t->lag_at_ms, now_ms));
}

/* "1200/5000 24%", "1200/?" or "-". */
static void
status_progress(const struct status_row *r, char *buf, size_t len)
{
	const struct state_table *t = r->t;

	if (t == NULL)
		snprintf(buf, len, "-");
	else if (t->rows_estimate == 0)
		snprintf(
		    buf, len, "%llu/?", (unsigned long long)t->rows_backfilled);
	else
		snprintf(buf, len, "%llu/%llu %llu%%",
		    (unsigned long long)t->rows_backfilled,
		    (unsigned long long)t->rows_estimate,
		    (unsigned long long)(t->rows_backfilled >= t->rows_estimate
			    ? 100
			    : t->rows_backfilled * 100 / t->rows_estimate));
}

/* An aligned table, then one line per error. */
static void
status_print_text(const struct status *s, FILE *fp)
{
	const struct status_row *r;
	char cursor[64], progress[64], lag[32], phase[40];
	size_t i;
	int64_t lms;

	if (s->running == 1 && s->pid > 0)
		fprintf(fp, "daemon: running (pid %ld)\n", (long)s->pid);
	else
		fprintf(fp, "daemon: %s\n",
		    s->running == 1 ? "running"
			: s->running == 0
			? "not running"
			: "unknown (cannot read /proc/locks)");
	fprintf(fp, "output: seq %llu, last commit %s\n",
	    (unsigned long long)s->out.seq,
	    s->out.round == 0 ? "never"
			      : (s->committed_at ? s->committed_at : "?"));
	fprintf(fp, "%-24s %-5s %-26s %-18s %-30s %-8s %-8s %s\n", "TABLE",
	    "MODE", "PHASE", "BACKFILL", "CURSOR", "LAG", "RESTARTS",
	    "UPDATED");
	for (i = 0; i < s->nrows; i++) {
		r = &s->rows[i];
		if (!status_cursor(r->t, cursor, sizeof(cursor), 0))
			snprintf(cursor, sizeof(cursor), "-");
		status_progress(r, progress, sizeof(progress));
		if ((lms = status_lag_ms(r->t, s->now_ms)) < 0)
			snprintf(lag, sizeof(lag), "-");
		else
			snprintf(lag, sizeof(lag), "%.1fs", lms / 1000.0);
		snprintf(phase, sizeof(phase), "%s%s",
		    r->t ? frame_phase_name(r->t->phase) : "new",
		    r->reset_pending ? " (reset pending)" : "");
		fprintf(fp, "%-24s %-5s %-26s %-18s %-30s %-8s %-8u %s\n",
		    r->name, r->t ? frame_mode_name(r->t->mode) : "-", phase,
		    progress, cursor, lag, r->t ? r->t->restarts : 0,
		    r->t && r->t->updated_at ? r->t->updated_at : "-");
	}
	for (i = 0; i < s->nrows; i++) {
		r = &s->rows[i];
		if (r->t != NULL && r->t->failed_reason != NULL)
			fprintf(fp, "%s: failed: %s\n", r->name,
			    r->t->failed_reason);
		else if (r->t != NULL && r->t->last_error != NULL)
			fprintf(fp, "%s: last error: %s\n", r->name,
			    r->t->last_error);
	}
}

/* A JSON string, or null. */
static void
status_json_str(struct json_buf *b, const char *s)
{
	if (s == NULL)
		json_write_null(b);
	else
		json_write_string(b, s, strlen(s));
}

#define STATUS_KEY(b, k) json_add((b), "\"" k "\":", strlen("\"" k "\":"))

/* One table as a JSON object. */
static void
status_json_row(
    struct json_buf *b, const struct status *s, const struct status_row *r)
{
	const struct state_table *t = r->t;
	char cursor[64];
	int64_t lms;

	json_add(b, "{", 1);
	STATUS_KEY(b, "table");
	status_json_str(b, r->name);
	json_add(b, ",", 1);
	STATUS_KEY(b, "mode");
	status_json_str(b, t ? frame_mode_name(t->mode) : NULL);
	json_add(b, ",", 1);
	STATUS_KEY(b, "phase");
	status_json_str(b, t ? frame_phase_name(t->phase) : "new");
	json_add(b, ",", 1);
	STATUS_KEY(b, "reset_pending");
	json_write_bool(b, r->reset_pending);
	json_add(b, ",", 1);
	STATUS_KEY(b, "rows_backfilled");
	json_write_uint(b, t ? t->rows_backfilled : 0);
	json_add(b, ",", 1);
	STATUS_KEY(b, "rows_estimate");
	if (t != NULL && t->rows_estimate != 0)
		json_write_uint(b, t->rows_estimate);
	else
		json_write_null(b);
	json_add(b, ",", 1);
	STATUS_KEY(b, "cursor");
	if (status_cursor(t, cursor, sizeof(cursor), 1))
		json_add(b, cursor, strlen(cursor));
	else
		json_write_null(b);
	json_add(b, ",", 1);
	STATUS_KEY(b, "lag_seconds");
	if ((lms = status_lag_ms(t, s->now_ms)) >= 0)
		json_write_double(b, lms / 1000.0);
	else
		json_write_null(b);
	json_add(b, ",", 1);
	STATUS_KEY(b, "restarts");
	json_write_uint(b, t ? t->restarts : 0);
	json_add(b, ",", 1);
	STATUS_KEY(b, "last_error");
	status_json_str(b, t ? t->last_error : NULL);
	json_add(b, ",", 1);
	STATUS_KEY(b, "failed_reason");
	status_json_str(b, t ? t->failed_reason : NULL);
	json_add(b, ",", 1);
	STATUS_KEY(b, "updated_at");
	status_json_str(b, t ? t->updated_at : NULL);
	json_add(b, "}", 1);
}

/* The whole report as one JSON object. */
static void
status_print_json(const struct status *s, FILE *fp)
{
	struct json_buf b;
	size_t i;

	json_buf_init(&b);
	json_add(&b, "{", 1);
	STATUS_KEY(&b, "state");
	status_json_str(&b, s->state_path);
	json_add(&b, ",", 1);
	STATUS_KEY(&b, "daemon");
	json_add(&b, "{", 1);
	STATUS_KEY(&b, "running");
	if (s->running == -1)
		json_write_null(&b);
	else
		json_write_bool(&b, s->running);
	json_add(&b, ",", 1);
	STATUS_KEY(&b, "pid");
	if (s->running == 1 && s->pid > 0)
		json_write_int(&b, s->pid);
	else
		json_write_null(&b);
	json_add(&b, "},", 2);
	STATUS_KEY(&b, "output");
	json_add(&b, "{", 1);
	STATUS_KEY(&b, "seq");
	json_write_uint(&b, s->out.seq);
	json_add(&b, ",", 1);
	STATUS_KEY(&b, "offset");
	json_write_uint(&b, s->out.offset);
	json_add(&b, ",", 1);
	STATUS_KEY(&b, "round");
	json_write_uint(&b, s->out.round);
	json_add(&b, ",", 1);
	STATUS_KEY(&b, "committed_at");
	status_json_str(&b, s->out.round == 0 ? NULL : s->committed_at);
	json_add(&b, "},", 2);
	STATUS_KEY(&b, "tables");
	json_add(&b, "[", 1);
	for (i = 0; i < s->nrows; i++) {
		json_add(&b, ",", i > 0);
		status_json_row(&b, s, &s->rows[i]);
	}
	json_add(&b, "]}\n", 3);
	fwrite(b.data, 1, b.len, fp);
	json_buf_free(&b);
}

/* Tables in the failed phase. */
static size_t
status_failed(const struct status *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nrows; i++)
		n += s->rows[i].t != NULL &&
		    s->rows[i].t->phase == FRAME_PHASE_FAILED;
	return (n);
}

/* "status [--json]": see the top of the file. */
int
cmd_status(struct cmd_opts *opts)
{
	struct status s;
	struct config *cfg;
	struct timespec ts;
	int rc;

	if (opts->argc != 0) {
		fprintf(stderr, "%s: status: unexpected argument '%s'\n",
		    PACKAGE_NAME, opts->argv[0]);
		return (2);
	}
	if ((cfg = status_load_config(opts, "status")) == NULL)
		return (2);
	memset(&s, 0, sizeof(s));
	s.state_path = cfg->state.path;
	if (!status_state_exists(s.state_path, "status") ||
	    status_read(&s, cfg) != 0) {
		status_free(&s);
		config_free(cfg);
		return (2);
	}
	s.running = state_lock_holder(s.state_path, &s.pid);
	clock_gettime(CLOCK_REALTIME, &ts);
	s.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (opts->json)
		status_print_json(&s, stdout);
	else
		status_print_text(&s, stdout);
	rc = status_failed(&s) != 0 ? 1 : 0;
	status_free(&s);
	config_free(cfg);
	return (rc);
}

/*
 * Is name a binding?  The configured ones, or with none configured
 * (discovery) the tables the state knows.  If not, say which are.
 */
static int
reset_is_binding(const struct config *cfg, struct state *st, const char *name,
    const char *path)
{
	struct state_table **tables = NULL;
	struct json_buf b;
	char *one, *cause = NULL;
	size_t i, n = 0;
	int found = 0;

	json_buf_init(&b);
	if (cfg->nbindings == 0 && st != NULL &&
	    state_table_list(st, &tables, &n, &cause) != 0) {
		fprintf(stderr, "%s: reset: %s\n", PACKAGE_NAME, cause);
		free(cause);
	}
	for (i = 0; i < cfg->nbindings + n; i++) {
		if (i < cfg->nbindings)
			xasprintf(&one, "%s.%s", cfg->bindings[i].namespace,
			    cfg->bindings[i].stream);
		else
			one = xstrdup(tables[i - cfg->nbindings]->binding);
		found |= strcmp(one, name) == 0;
		json_add(&b, ", ", i > 0 ? 2 : 0);
		json_add(&b, one, strlen(one));
		free(one);
	}
	state_tables_free(tables, n);
	if (!found)
		fprintf(stderr,
		    "%s: reset: %s is not a binding of %s; the bindings are: "
		    "%.*s\n",
		    PACKAGE_NAME, name, path, (int)b.len,
		    b.len ? b.data : "(none)");
	json_buf_free(&b);
	return (found);
}

/*
 * No daemon: clear the table in the state now and leave a request for
 * the next run's replica.  1 if a daemon took the lock meanwhile.
 */
static int
reset_direct(const struct config *cfg, const char *name)
{
	struct state *st;
	struct state_table *t = NULL;
	uint64_t id;
	char *cause = NULL;
	pid_t pid;
	int found;

	if ((st = state_open(cfg->state.path, 0, &cause)) == NULL) {
		if (state_lock_holder(cfg->state.path, &pid) == 1) {
			free(cause);
			return (1);
		}
		fprintf(stderr, "%s: reset: %s\n", PACKAGE_NAME, cause);
		free(cause);
		return (2);
	}
	if ((found = state_table_get(st, name, &t, &cause)) == 0) {
		printf("%s: %s has no state yet: the next run backfills it\n",
		    PACKAGE_NAME, name);
		state_close(st);
		return (0);
	}
	if (found == -1 || state_begin(st, &cause) != 0)
		goto fail;
	state_table_reset(t);
	if (state_table_put(st, t, &cause) != 0 ||
	    state_request_add(st, name, &id, &cause) != 0 ||
	    state_commit(st, &cause) != 0)
		goto fail;
	printf("%s: %s: cursor cleared; the next run backfills it again "
	       "(request %llu)\n",
	    PACKAGE_NAME, name, (unsigned long long)id);
	state_table_free(t);
	state_close(st);
	return (0);
fail:
	fprintf(stderr, "%s: reset: %s: %s\n", PACKAGE_NAME, name, cause);
	free(cause);
	state_table_free(t);
	state_close(st); /* rolls back */
	return (2);
}

/* A daemon runs (pid, 0 unknown): leave it a request. */
static int
reset_request(const struct config *cfg, const char *name, pid_t pid)
{
	struct state *st;
	uint64_t id;
	char *cause = NULL;

	st = state_open(cfg->state.path, STATE_REQUESTER, &cause);
	if (st == NULL || state_request_add(st, name, &id, &cause) != 0) {
		fprintf(
		    stderr, "%s: reset: %s: %s\n", PACKAGE_NAME, name, cause);
		free(cause);
		state_close(st);
		return (2);
	}
	state_close(st);
	if (pid > 0)
		printf("%s: %s: asked the running daemon (pid %ld) to "
		       "backfill it again (request %llu)\n",
		    PACKAGE_NAME, name, (long)pid, (unsigned long long)id);
	else
		printf("%s: %s: left request %llu to backfill it again: a "
		       "running daemon picks it up within seconds, else the "
		       "next run does\n",
		    PACKAGE_NAME, name, (unsigned long long)id);
	return (0);
}

/* "reset TABLE": see the top of the file. */
int
cmd_reset(struct cmd_opts *opts)
{
	struct config *cfg;
	struct state *st = NULL;
	const char *name;
	char *cause = NULL;
	pid_t pid;
	int rc, holder;

	if (opts->argc != 1) {
		fprintf(stderr, "%s: reset: %s\n", PACKAGE_NAME,
		    opts->argc == 0 ? "which table? use reset SCHEMA.TABLE"
				    : "one table at a time");
		return (2);
	}
	name = opts->argv[0];
	if ((cfg = status_load_config(opts, "reset")) == NULL)
		return (2);
	if (cfg->nbindings == 0 && access(cfg->state.path, F_OK) == 0 &&
	    (st = state_open(cfg->state.path, STATE_READONLY, &cause)) ==
		NULL) {
		fprintf(stderr, "%s: reset: %s\n", PACKAGE_NAME, cause);
		free(cause);
		config_free(cfg);
		return (2);
	}
	if (!reset_is_binding(cfg, st, name, opts->config_path)) {
		state_close(st);
		config_free(cfg);
		return (2);
	}
	state_close(st);
	if (access(cfg->state.path, F_OK) != 0) {
		printf("%s: %s: no state yet: the first run backfills it\n",
		    PACKAGE_NAME, name);
		config_free(cfg);
		return (0);
	}
	/* -1: cannot tell (no /proc/locks): a request is always safe. */
	holder = state_lock_holder(cfg->state.path, &pid);
	rc = holder != 0 ? 1 : reset_direct(cfg, name);
	if (rc == 1) {
		if (state_lock_holder(cfg->state.path, &pid) != 1)
			pid = 0;
		rc = reset_request(cfg, name, pid);
	}
	config_free(cfg);
	return (rc);
}
