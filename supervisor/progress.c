/*
 * Progress on a terminal: while "run" has a person watching it, a line
 * on stderr says how far each backfill is (rows, rows/s, ETA) and how
 * far behind streaming tables are.  Only when stderr is a terminal and
 * systemd is not running us (NOTIFY_SOCKET unset): a pipe, a file or
 * the journal get log lines only.
 *
 * Why whole lines and not a status line redrawn with "\r": the workers
 * write their own log lines to the same terminal (they inherit stderr),
 * and the supervisor cannot erase a status line before a worker
 * writes, so a redrawn line would end up glued to the front of a log
 * line.  A whole line written with one write(2) never is.  To keep the
 * terminal readable a line comes only with news: at the next tick
 * (PROGRESS_TICK_MS) after a backfilling table's worker reported
 * (FRAME_PROGRESS, every few seconds) or a table changed phase, and
 * otherwise every PROGRESS_QUIET_MS, which is the streaming lag line.
 *
 * The numbers come from struct metrics (metrics.c); this file only
 * keeps, per table, the first report of the current backfill, so that
 * rows/s is the average between that report and the latest one (the
 * worker's own clock of rows, not ours of lines) and ETA the rest of
 * the estimate at that rate, less the time since the latest report.
 * Beyond PROGRESS_MAX_LISTED streaming tables the line gives their
 * count and the largest lag instead of each of them.
 */

#include "config.h"

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "supervisor.h"

#define PROGRESS_LINE_MAX 2048

/* The first report of a table's current backfill. */
struct progress_table {
	int seen;
	uint64_t rows0;
	int64_t t0_ms; /* its progress_at_ms */
	enum frame_phase phase; /* at the last line */
	int64_t reported_ms; /* progress_at_ms at the last line */
};

struct progress {
	const struct metrics *m;
	struct event *timer;
	struct progress_table *tables; /* by binding id, like m->tables */
	size_t ntables;
	int64_t last_ms; /* the last line, 0: none yet */
};

static void progress_tick_cb(int, short, void *);
static int progress_update(struct progress *, int64_t);
static void progress_add(char *, size_t, const char *, ...) printflike(3, 4);
static void progress_format_eta(char *, size_t, uint64_t);
static void progress_format_backfill(
    struct progress *, size_t, int64_t, char *, size_t);
static void progress_format_stream_one(
    const struct metrics_table *, int64_t, char *, size_t);
static void progress_format_stream_all(
    const struct metrics *, int64_t, char *, size_t);

/* Should "run" show progress on fd: a terminal, and not under systemd? */
int
progress_wanted(int fd)
{
	const char *notify = getenv("NOTIFY_SOCKET");

	return (isatty(fd) && (notify == NULL || *notify == '\0'));
}

/* Start showing the progress of m on stderr, ticking on base. */
struct progress *
progress_create(struct event_base *base, const struct metrics *m)
{
	struct timeval tv = { PROGRESS_TICK_MS / 1000,
		(PROGRESS_TICK_MS % 1000) * 1000 };
	struct progress *p;

	p = xcalloc(1, sizeof(*p));
	p->m = m;
	if (base == NULL)
		return (p); /* tests call progress_format() themselves */
	p->timer = event_new(base, -1, EV_PERSIST, progress_tick_cb, p);
	if (p->timer == NULL || event_add(p->timer, &tv) != 0)
		fatalx("%s: cannot add the progress timer", __func__);
	return (p);
}

/* Stop showing progress. */
void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->timer != NULL)
		event_free(p->timer);
	free(p->tables);
	free(p);
}

/* Every PROGRESS_TICK_MS: write a line if one is due. */
static void
progress_tick_cb(int fd, short events, void *arg)
{
	struct progress *p = arg;
	char line[PROGRESS_LINE_MAX];
	int64_t now = clock_now_ms();
	ssize_t n;
	size_t len;

	if (!progress_update(p, now))
		return;
	progress_format(p, now, line, sizeof(line) - 1);
	if (line[0] == '\0')
		return;
	len = strlen(line);
	line[len++] = '\n';
	n = write(STDERR_FILENO, line, len); /* one write: never interleaved */
	(void)n;
}

/*
 * Note the first report of each backfill; is a line due at now (a
 * phase changed, a backfill reported, or it has been quiet too long)?
 */
static int
progress_update(struct progress *p, int64_t now)
{
	const struct metrics_table *mt;
	struct progress_table *t;
	int news = p->last_ms == 0;
	size_t i;

	if (p->ntables < p->m->ntables) {
		p->tables =
		    xreallocarray(p->tables, p->m->ntables, sizeof(*p->tables));
		memset(p->tables + p->ntables, 0,
		    (p->m->ntables - p->ntables) * sizeof(*p->tables));
		p->ntables = p->m->ntables;
	}
	for (i = 0; i < p->ntables; i++) {
		mt = &p->m->tables[i];
		t = &p->tables[i];
		if (!mt->active)
			continue;
		news |= mt->phase != t->phase;
		t->phase = mt->phase;
		if (mt->phase != FRAME_PHASE_BACKFILL) {
			t->seen = 0;
			continue;
		}
		news |= mt->progress_at_ms != t->reported_ms;
		if (mt->progress_at_ms != 0 &&
		    (!t->seen || mt->rows_done < t->rows0)) {
			t->seen = 1;
			t->rows0 = mt->rows_done;
			t->t0_ms = mt->progress_at_ms;
		}
	}
	if (!news && now - p->last_ms < PROGRESS_QUIET_MS)
		return (0);
	p->last_ms = now;
	for (i = 0; i < p->ntables; i++)
		p->tables[i].reported_ms = p->m->tables[i].progress_at_ms;
	return (1);
}

/*
 * The progress line at now, without a newline: "progress: " and one
 * part per table, "; " between them.  Empty if there is no table.
 */
void
progress_format(struct progress *p, int64_t now, char *buf, size_t size)
{
	const struct metrics *m = p->m;
	const struct metrics_table *mt;
	size_t i, streaming = 0, parts = 0;
	char part[256];

	if (size == 0)
		return;
	buf[0] = '\0';
	if (p->ntables < m->ntables)
		progress_update(p, now);
	for (i = 0; i < m->ntables; i++)
		streaming += m->tables[i].active &&
		    m->tables[i].phase == FRAME_PHASE_STREAMING;
	for (i = 0; i < m->ntables; i++) {
		mt = &m->tables[i];
		if (!mt->active)
			continue;
		if (mt->phase == FRAME_PHASE_BACKFILL)
			progress_format_backfill(p, i, now, part, sizeof(part));
		else if (mt->phase == FRAME_PHASE_STREAMING &&
		    streaming <= PROGRESS_MAX_LISTED)
			progress_format_stream_one(mt, now, part, sizeof(part));
		else if (mt->phase == FRAME_PHASE_STREAMING)
			continue;
		else
			snprintf(part, sizeof(part), "%s %s", mt->name,
			    frame_phase_name(mt->phase));
		progress_add(buf, size, "%s%s",
		    parts++ == 0 ? "progress: " : "; ", part);
	}
	if (streaming > PROGRESS_MAX_LISTED) {
		progress_format_stream_all(m, now, part, sizeof(part));
		progress_add(
		    buf, size, "%s%s", parts == 0 ? "progress: " : "; ", part);
	}
}

/* Append to buf, truncating (with "...") what does not fit. */
static void
progress_add(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < size - len)
		return;
	if (size > 4)
		memcpy(buf + size - 4, "...", 4);
}

/* A duration for people: 42s, 3m07s, 2h05m. */
static void
progress_format_eta(char *buf, size_t size, uint64_t secs)
{
	if (secs < 60)
		snprintf(buf, size, "%llus", (unsigned long long)secs);
	else if (secs < 3600)
		snprintf(buf, size, "%llum%02llus",
		    (unsigned long long)(secs / 60),
		    (unsigned long long)(secs % 60));
	else
		snprintf(buf, size, "%lluh%02llum",
		    (unsigned long long)(secs / 3600),
		    (unsigned long long)(secs / 60 % 60));
}

/* "dbo.t backfill 1500/5000 rows (30%), 2400 rows/s, ETA 2s". */
static void
progress_format_backfill(
    struct progress *p, size_t i, int64_t now, char *buf, size_t size)
{
	const struct metrics_table *mt = &p->m->tables[i];
	const struct progress_table *t = &p->tables[i];
	unsigned long long done = mt->rows_done, est = mt->rows_estimate;
	int64_t span = mt->progress_at_ms - t->t0_ms;
	double rate = 0, left;
	char eta[32];
	size_t len;

	if (est > done)
		snprintf(buf, size, "%s backfill %llu/%llu rows (%llu%%)",
		    mt->name, done, est, done * 100 / est);
	else
		snprintf(buf, size, "%s backfill %llu rows", mt->name, done);
	if (t->seen && span >= 1000 && done > t->rows0)
		rate = (done - t->rows0) * 1000.0 / span;
	if (rate <= 0)
		return;
	len = strlen(buf);
	snprintf(buf + len, size - len, ", %.0f rows/s", rate);
	if (est <= done)
		return;
	left = (est - done) / rate - (now - mt->progress_at_ms) / 1000.0;
	progress_format_eta(eta, sizeof(eta), left > 0 ? (uint64_t)left : 0);
	len = strlen(buf);
	snprintf(buf + len, size - len, ", ETA %s", eta);
}

/* "dbo.t streaming, lag 0.3s". */
static void
progress_format_stream_one(
    const struct metrics_table *mt, int64_t now, char *buf, size_t size)
{
	int64_t lag;

	if ((lag = metrics_lag_ms(mt, now)) == -1)
		snprintf(buf, size, "%s streaming", mt->name);
	else
		snprintf(buf, size, "%s streaming, lag %.1fs", mt->name,
		    lag / 1000.0);
}

/* "12 tables streaming, max lag 1.2s (dbo.t)". */
static void
progress_format_stream_all(
    const struct metrics *m, int64_t now, char *buf, size_t size)
{
	const struct metrics_table *mt, *worst = NULL;
	int64_t lag, max = -1;
	size_t i, n = 0;

	for (i = 0; i < m->ntables; i++) {
		mt = &m->tables[i];
		if (!mt->active || mt->phase != FRAME_PHASE_STREAMING)
			continue;
		n++;
		if ((lag = metrics_lag_ms(mt, now)) > max) {
			max = lag;
			worst = mt;
		}
	}
	if (worst == NULL)
		snprintf(buf, size, "%zu tables streaming", n);
	else
		snprintf(buf, size, "%zu tables streaming, max lag %.1fs (%s)",
		    n, max / 1000.0, worst->name);
}
