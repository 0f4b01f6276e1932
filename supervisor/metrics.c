/*
 * Metrics and health: what the supervisor counts, served over HTTP in
 * the Prometheus text exposition format (version 0.0.4) when
 * metrics.listen is set, and read by progress.c on a terminal.
 *
 * The supervisor owns one struct metrics and updates it with one-line
 * hook calls where it already counts: each released event
 * (metrics_count_event), each commit (metrics_committed), each
 * FRAME_PROGRESS, FRAME_START and FRAME_BACKFILL_DONE, and each
 * restart or failure child.c reports.  Nothing here looks into the
 * supervisor, the merger or the state: the struct is plain numbers, so
 * the rendering functions are pure and unit-tested (t/check_metrics.c).
 *
 * Events count when they are committed, not when they are released:
 * a released event is only "pending" until the round's commit has put
 * its line in the output, so mssql_capture_events_total never counts
 * a line a crash could take back.  The counters start at zero with the
 * process, as Prometheus counters may.
 *
 * Lag is what the worker reports in FRAME_PROGRESS (the age of its
 * last complete poll) while the table streams.  Workers report every
 * few seconds; a report older than METRICS_LAG_STALE_MS means the
 * worker is stuck or gone, and from then on the lag grows with the
 * time since the report, so an alert on lag sees a hung worker.
 *
 * The HTTP server is libevent's evhttp on the supervisor's own event
 * base: a scrape runs between frames, never concurrently with them,
 * and needs no locking.  The socket is bound here (not by evhttp) so
 * that a failure names the address and the exact errno, and so that
 * it is close-on-exec: workers never inherit it.  GET (and HEAD) of
 * /metrics and /healthz; any other method on them is 405 with an Allow
 * header, any other path 404.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "supervisor.h"

#define METRICS_BACKLOG 16
#define METRICS_TIMEOUT_SECS 10 /* a slow client is dropped */
#define METRICS_MAX_HEADERS 8192
#define METRICS_MAX_BODY 1024
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_ALLOW "GET, HEAD"

static const char metrics_ops[METRICS_NOPS] = { FRAME_OP_CREATE,
	FRAME_OP_UPDATE, FRAME_OP_DELETE };

static struct metrics_table *metrics_get(struct metrics *, uint32_t);
static int metrics_op_index(enum frame_op);
static int metrics_bind(const char *, int, char **);
static void metrics_header(
    struct evbuffer *, const char *, const char *, const char *);
static void metrics_sample(struct evbuffer *, const char *,
    const struct metrics_table *, const char *, const char *);
static void metrics_render_events(const struct metrics *, struct evbuffer *);
static void metrics_render_tables(
    const struct metrics *, int64_t, struct evbuffer *);
static void metrics_render_phases(const struct metrics *, struct evbuffer *);
static void metrics_render_totals(const struct metrics *, struct evbuffer *);
static void metrics_http_reply(
    struct evhttp_request *, int, const char *, struct evbuffer *);
static void metrics_http_error(struct evhttp_request *, int, const char *);
static int metrics_http_method_ok(struct evhttp_request *);
static void metrics_http_metrics(struct evhttp_request *, void *);
static void metrics_http_healthz(struct evhttp_request *, void *);
static void metrics_http_other(struct evhttp_request *, void *);

/* An empty set of counters. */
struct metrics *
metrics_create(void)
{
	return (xcalloc(1, sizeof(struct metrics)));
}

/* Stop serving and free everything. */
void
metrics_free(struct metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	for (i = 0; i < m->ntables; i++) {
		free(m->tables[i].name);
		free(m->tables[i].failed_reason);
	}
	free(m->tables);
	free(m);
}

/*
 * Take the committed seq, and serve metrics.listen on base if it is
 * set.  -1 with *cause if the address cannot be bound: the caller
 * exits before any worker starts.
 */
int
metrics_start(struct metrics *m, struct event_base *base,
    const struct config *cfg, uint64_t seq, char **cause)
{
	const char *listen = cfg->metrics.listen;
	char *why = NULL;
	int fd;

	m->seq = seq;
	if (listen == NULL)
		return (0);
	if ((fd = metrics_bind(cfg->metrics.host, cfg->metrics.port, &why)) ==
	    -1) {
		xasprintf(cause, "metrics.listen: cannot listen on %s: %s",
		    listen, why);
		free(why);
		return (-1);
	}
	if ((m->http = evhttp_new(base)) == NULL)
		fatalx("%s: evhttp_new failed", __func__);
	if (evhttp_accept_socket(m->http, fd) != 0)
		fatalx("%s: evhttp_accept_socket failed", __func__);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_SECS);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_allowed_methods(m->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
		EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_cb(m->http, "/metrics", metrics_http_metrics, m);
	evhttp_set_cb(m->http, "/healthz", metrics_http_healthz, m);
	evhttp_set_gencb(m->http, metrics_http_other, m);
	log_info("metrics: serving /metrics and /healthz on %s", listen);
	return (0);
}

/* A listening socket on host:port (close-on-exec); -1 with *cause. */
static int
metrics_bind(const char *host, int port, char **cause)
{
	struct addrinfo hints, *res, *ai;
	char portstr[16];
	int fd = -1, on = 1, error, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((error = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		xasprintf(cause, "%s", gai_strerror(error));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ==
			0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, METRICS_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		xasprintf(cause, "%s", strerror(saved));
	return (fd);
}

/* The table with binding id, made (inactive) if it is new. */
static struct metrics_table *
metrics_get(struct metrics *m, uint32_t id)
{
	size_t n;

	if (id >= m->ntables) {
		n = (size_t)id + 1;
		m->tables = xreallocarray(m->tables, n, sizeof(*m->tables));
		memset(m->tables + m->ntables, 0,
		    (n - m->ntables) * sizeof(*m->tables));
		m->ntables = n;
	}
	return (&m->tables[id]);
}

/* A binding was registered: count for it from now on. */
void
metrics_table_add(struct metrics *m, uint32_t id, const char *name,
    enum frame_phase phase, uint32_t restarts)
{
	struct metrics_table *t = metrics_get(m, id);

	free(t->name);
	free(t->failed_reason);
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->active = 1;
	t->phase = phase;
	t->restarts = restarts;
}

/* A binding was removed (SIGHUP): it is no longer exported. */
void
metrics_table_remove(struct metrics *m, uint32_t id)
{
	if (id < m->ntables)
		m->tables[id].active = 0;
}

/* Index of op in metrics_ops, or -1. */
static int
metrics_op_index(enum frame_op op)
{
	int i;

	for (i = 0; i < METRICS_NOPS; i++) {
		if (metrics_ops[i] == (char)op)
			return (i);
	}
	return (-1);
}

/* An event was released into the open round. */
void
metrics_count_event(struct metrics *m, uint32_t id, enum frame_op op)
{
	int i = metrics_op_index(op);

	if (i != -1 && id < m->ntables)
		m->tables[id].pending[i]++;
}

/* The round is committed: its events count, up to seq. */
void
metrics_committed(struct metrics *m, uint64_t seq)
{
	struct metrics_table *t;
	struct timespec ts;
	size_t i;
	int op;

	for (i = 0; i < m->ntables; i++) {
		t = &m->tables[i];
		for (op = 0; op < METRICS_NOPS; op++) {
			t->events[op] += t->pending[op];
			t->pending[op] = 0;
		}
	}
	m->seq = seq;
	clock_gettime(CLOCK_REALTIME, &ts);
	m->commit_time = (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The table's phase changed (START, BACKFILL_DONE, done). */
void
metrics_set_phase(struct metrics *m, uint32_t id, enum frame_phase phase)
{
	if (id < m->ntables && m->tables[id].phase != FRAME_PHASE_FAILED)
		m->tables[id].phase = phase;
}

/* FRAME_PROGRESS: rows, estimate and (streaming) lag. */
void
metrics_set_progress(
    struct metrics *m, uint32_t id, const struct frame_progress *p)
{
	struct metrics_table *t;

	if (id >= m->ntables)
		return;
	t = &m->tables[id];
	t->rows_done = p->rows_done;
	t->rows_estimate = p->rows_estimate;
	t->progress_at_ms = clock_now_ms();
	if (t->phase == FRAME_PHASE_STREAMING) {
		t->has_lag = 1;
		t->lag_ms = p->lag_ms;
		t->lag_at_ms = clock_now_ms();
	}
}

/* child.c counted a restart. */
void
metrics_set_restarts(struct metrics *m, uint32_t id, uint32_t restarts)
{
	if (id < m->ntables)
		m->tables[id].restarts = restarts;
}

/* The table was marked failed: health turns 503. */
void
metrics_set_failed(struct metrics *m, uint32_t id, const char *reason)
{
	struct metrics_table *t;

	if (id >= m->ntables)
		return;
	t = &m->tables[id];
	t->phase = FRAME_PHASE_FAILED;
	free(t->failed_reason);
	t->failed_reason = xstrdup(reason != NULL ? reason : "failed");
}

/* The table was reset: healthy again, in phase (no failure kept). */
void
metrics_clear_failed(struct metrics *m, uint32_t id, enum frame_phase phase)
{
	struct metrics_table *t;

	if (id >= m->ntables)
		return;
	t = &m->tables[id];
	t->phase = phase;
	free(t->failed_reason);
	t->failed_reason = NULL;
}

/*
 * The lag at now_ms of a report of lag_ms made at at_ms (same clock):
 * the report, plus its age once it is older than METRICS_LAG_STALE_MS,
 * so that a hung worker or a stopped daemon shows a growing lag.
 * status.c uses the same rule.
 */
int64_t
metrics_lag_aged(uint64_t lag_ms, int64_t at_ms, int64_t now_ms)
{
	int64_t age = now_ms - at_ms;

	if (age > METRICS_LAG_STALE_MS)
		return ((int64_t)lag_ms + age);
	return ((int64_t)lag_ms);
}

/* A table's lag at now_ms (clock_now_ms()); -1 if it has none. */
int64_t
metrics_lag_ms(const struct metrics_table *t, int64_t now_ms)
{
	if (!t->has_lag || t->phase == FRAME_PHASE_BACKFILL ||
	    t->phase == FRAME_PHASE_DONE)
		return (-1);
	return (metrics_lag_aged(t->lag_ms, t->lag_at_ms, now_ms));
}

/* How many active tables are failed. */
size_t
metrics_failed(const struct metrics *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->ntables; i++) {
		if (m->tables[i].active &&
		    m->tables[i].phase == FRAME_PHASE_FAILED)
			n++;
	}
	return (n);
}

/*
 * A label value as the exposition format wants it: backslash, double
 * quote and line feed escaped, everything else as is (UTF-8).
 */
void
metrics_escape_label(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			evbuffer_add(b, "\\\\", 2);
			break;
		case '"':
			evbuffer_add(b, "\\\"", 2);
			break;
		case '\n':
			evbuffer_add(b, "\\n", 2);
			break;
		default:
			evbuffer_add(b, s, 1);
			break;
		}
	}
}

/* The HELP and TYPE lines of a metric family. */
static void
metrics_header(
    struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{table="...",label="value"} and the value, one line. */
static void
metrics_sample(struct evbuffer *b, const char *name,
    const struct metrics_table *t, const char *label, const char *value)
{
	evbuffer_add_printf(b, "%s{table=\"", name);
	metrics_escape_label(b, t->name);
	evbuffer_add(b, "\"", 1);
	if (label != NULL)
		evbuffer_add_printf(b, ",%s", label);
	evbuffer_add_printf(b, "} %s\n", value);
}

/* Render every metric family into b; now_ms is clock_now_ms(). */
void
metrics_render(const struct metrics *m, int64_t now_ms, struct evbuffer *b)
{
	metrics_render_events(m, b);
	metrics_render_tables(m, now_ms, b);
	metrics_render_phases(m, b);
	metrics_render_totals(m, b);
}

/* mssql_capture_events_total{table,op}. */
static void
metrics_render_events(const struct metrics *m, struct evbuffer *b)
{
	static const char *name = "mssql_capture_events_total";
	const struct metrics_table *t;
	char label[16], value[32];
	size_t i;
	int op;

	metrics_header(b, name, "counter",
	    "Change events committed to the output, per table and operation "
	    "(c create, u update, d delete).");
	for (i = 0; i < m->ntables; i++) {
		t = &m->tables[i];
		if (!t->active)
			continue;
		for (op = 0; op < METRICS_NOPS; op++) {
			snprintf(
			    label, sizeof(label), "op=\"%c\"", metrics_ops[op]);
			snprintf(value, sizeof(value), "%llu",
			    (unsigned long long)t->events[op]);
			metrics_sample(b, name, t, label, value);
		}
	}
}

/* The per-table gauges and counters other than events and phase. */
static void
metrics_render_tables(
    const struct metrics *m, int64_t now_ms, struct evbuffer *b)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "mssql_capture_backfill_rows", "gauge",
		    "Rows the table's backfills have emitted (kept across "
		    "restarts)." },
		{ "mssql_capture_backfill_rows_estimate", "gauge",
		    "Rows in the table according to sys.partitions (0: "
		    "unknown)." },
		{ "mssql_capture_lag_seconds", "gauge",
		    "Age of the last complete poll of a streaming table, as "
		    "its worker reports it." },
		{ "mssql_capture_worker_restarts_total", "counter",
		    "Times the table's worker was restarted after an exit." },
	};
	const struct metrics_table *t;
	char value[32];
	int64_t lag;
	size_t f, i;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		metrics_header(b, fam[f].name, fam[f].type, fam[f].help);
		for (i = 0; i < m->ntables; i++) {
			t = &m->tables[i];
			if (!t->active)
				continue;
			if (f == 0 || f == 1)
				snprintf(value, sizeof(value), "%llu",
				    (unsigned long long)(f == 0
					    ? t->rows_done
					    : t->rows_estimate));
			else if (f == 3)
				snprintf(value, sizeof(value), "%lu",
				    (unsigned long)t->restarts);
			else if ((lag = metrics_lag_ms(t, now_ms)) != -1)
				snprintf(
				    value, sizeof(value), "%.3f", lag / 1000.0);
			else
				continue;
			metrics_sample(b, fam[f].name, t, NULL, value);
		}
	}
}

/* mssql_capture_table_phase{table,phase}: 1 for the current phase. */
static void
metrics_render_phases(const struct metrics *m, struct evbuffer *b)
{
	static const char *name = "mssql_capture_table_phase";
	const struct metrics_table *t;
	char label[32];
	size_t i;
	int p;

	metrics_header(b, name, "gauge",
	    "1 for the phase the table is in (backfill, streaming, failed, "
	    "done), 0 for the others.");
	for (i = 0; i < m->ntables; i++) {
		t = &m->tables[i];
		if (!t->active)
			continue;
		for (p = 0; p <= FRAME_PHASE_MAX; p++) {
			snprintf(label, sizeof(label), "phase=\"%s\"",
			    frame_phase_name(p));
			metrics_sample(
			    b, name, t, label, (int)t->phase == p ? "1" : "0");
		}
	}
}

/* The whole-daemon gauges. */
static void
metrics_render_totals(const struct metrics *m, struct evbuffer *b)
{
	size_t i, n = 0;

	for (i = 0; i < m->ntables; i++)
		n += m->tables[i].active;
	metrics_header(b, "mssql_capture_tables", "gauge", "Bound tables.");
	evbuffer_add_printf(b, "mssql_capture_tables %zu\n", n);
	metrics_header(b, "mssql_capture_failed_tables", "gauge",
	    "Tables marked failed; the others keep running.");
	evbuffer_add_printf(
	    b, "mssql_capture_failed_tables %zu\n", metrics_failed(m));
	metrics_header(b, "mssql_capture_last_commit_timestamp_seconds",
	    "gauge", "Unix time of the last commit (0: none yet).");
	evbuffer_add_printf(b,
	    "mssql_capture_last_commit_timestamp_seconds %.3f\n",
	    m->commit_time);
	metrics_header(b, "mssql_capture_committed_seq", "gauge",
	    "seq of the last event committed to the output.");
	evbuffer_add_printf(b, "mssql_capture_committed_seq %llu\n",
	    (unsigned long long)m->seq);
}

/*
 * /healthz: "ok" if no table has failed, else one line per failed
 * table with its reason.  Returns the HTTP status, 200 or 503.
 */
int
metrics_render_health(const struct metrics *m, struct evbuffer *b)
{
	const struct metrics_table *t;
	size_t i;

	if (metrics_failed(m) == 0) {
		evbuffer_add_printf(b, "ok\n");
		return (200);
	}
	for (i = 0; i < m->ntables; i++) {
		t = &m->tables[i];
		if (!t->active || t->phase != FRAME_PHASE_FAILED)
			continue;
		evbuffer_add_printf(b, "failed: %s: %s\n", t->name,
		    t->failed_reason != NULL ? t->failed_reason : "failed");
	}
	return (503);
}

/* GET or HEAD; anything else gets 405 (0 returned). */
static int
metrics_http_method_ok(struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		return (1);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Allow", METRICS_ALLOW);
	metrics_http_error(req, 405, "Method Not Allowed");
	return (0);
}

/*
 * Send a reply with a plain text body.  Not evhttp_send_error(): it
 * drops the headers set so far (Allow) and answers in HTML.
 */
static void
metrics_http_reply(struct evhttp_request *req, int code, const char *reason,
    struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(
		    h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, body);
}

/* An error: the status line's reason is the body too. */
static void
metrics_http_error(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer *b;

	if ((b = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new failed", __func__);
	evbuffer_add_printf(b, "%d %s\n", code, reason);
	metrics_http_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* GET /metrics. */
static void
metrics_http_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *b;

	if (!metrics_http_method_ok(req))
		return;
	if ((b = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new failed", __func__);
	metrics_render(m, clock_now_ms(), b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CONTENT_TYPE);
	metrics_http_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* GET /healthz. */
static void
metrics_http_healthz(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *b;
	int code;

	if (!metrics_http_method_ok(req))
		return;
	if ((b = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new failed", __func__);
	code = metrics_render_health(m, b);
	metrics_http_reply(
	    req, code, code == 200 ? "OK" : "Service Unavailable", b);
	evbuffer_free(b);
}

/* Any other path. */
static void
metrics_http_other(struct evhttp_request *req, void *arg)
{
	metrics_http_error(req, 404, "Not Found");
}
