/*
 * The JSON-lines output: merged events become numbered lines in a file
 * (exactly once) or on standard output (at least once).
 *
 * Events are formatted into one buffer as the merger releases them,
 * each with the next seq.  A commit then makes a round durable:
 *
 *	1. write the buffer at the committed offset (one pwrite(2) loop)
 *	2. fdatasync(2) the file
 *	2a. the caller's precommit: the replica commits its rows with a
 *	   copy of what step 3 stores			(state/round.c)
 *	3. BEGIN; store every table whose cursor moved; store the new
 *	   (seq, offset, round); COMMIT			(state.c)
 *
 * and only then moves its idea of the committed offset.  On start the
 * file is truncated to the committed offset.
 *
 * Why kill -9 between any two steps leaves file and state consistent:
 * the state is always exactly some past commit (SQLite WAL; state.c),
 * so what matters is the file beyond the committed offset.
 *  - Before 1, or during 1 or 2 (a partial line may be on disk), or
 *    during 3 before the commit frame is in the WAL: the state is the
 *    previous round's.  The bytes past its offset are this round's
 *    lines, whose events the cursors do not cover yet.  On restart the
 *    file is cut back to the committed offset, the workers resume from
 *    the committed cursors and produce those events again, numbered
 *    again from the committed seq: each event once in the file.
 *  - After 2a, before 3 commits: the replica holds this round, the
 *    state the previous one.  At the next start the supervisor
 *    commits the replica's copy of the round to the state (the lines
 *    it covers are on disk since step 2), and all three agree.
 *  - After 3: state and file both end at this round.
 * Step 2 before step 3 is what makes power loss safe as well: the
 * state never claims an offset whose bytes are not on disk (state.c
 * runs synchronous=FULL for the same reason).  The truncation needs no
 * sync of its own: the next fdatasync() makes the new size durable
 * before any later commit, and a lost truncation is redone at the next
 * start.  A file shorter than the committed offset cannot come from
 * this order; it means the file was truncated or replaced behind our
 * back, and the open fails rather than renumber or lose events.
 *
 * Standard output cannot be truncated: lines are written, then the
 * state is committed.  A crash in between prints the round again after
 * restart with the same seq (at least once; the consumer drops a seq it
 * has seen).  Committing first would lose the round instead.  The
 * stored offset is left alone, so a later run writing to the file
 * again finds it consistent.
 *
 * Rounds are bounded so that commit-to-emit latency stays low: a
 * commit is due when OUTPUT_COMMIT_EVENTS lines or OUTPUT_COMMIT_BYTES
 * are buffered (output_add_event() returns 1), or OUTPUT_COMMIT_MS
 * after the first line of a round (the timer calls back).  The caller
 * does the commit, because it knows which cursors go with the lines.
 *
 * A test hook runs between the steps, so tests can kill the process at
 * each point.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "supervisor.h"
#include "state.h"

struct output {
	char *path; /* NULL: standard output */
	int fd;
	struct state *st;
	char *tag;
	uint64_t seq; /* last seq given out */
	uint64_t committed_seq;
	uint64_t offset; /* committed file offset */
	uint64_t round; /* last committed round */
	struct json_buf buf; /* the round's lines */
	size_t nlines;
	struct event *timer;
	output_commit_cb commitcb;
	void *commitarg;
	output_hook_cb hook;
	void *hookarg;
	output_precommit_cb precommit;
	void *precommitarg;
};

static int output_open_file(struct output *, char **);
static int output_sync_dir(const char *);
static int output_write_all(struct output *, char **);
static int output_store(struct output *, const struct state_output *,
    struct state_table **, size_t, char **);
static void output_step(struct output *, enum output_step);
static void output_timer_cb(int, short, void *);

/*
 * Open the output ("-" is standard output) and recover: seq and offset
 * come from the state, and a file is cut back to the offset.
 */
struct output *
output_open(const char *path, struct state *st, const char *tag, char **cause)
{
	struct output *o;
	struct state_output so;

	if (state_output_get(st, &so, cause) != 0)
		return (NULL);
	o = xcalloc(1, sizeof(*o));
	o->fd = STDOUT_FILENO;
	o->st = st;
	o->tag = tag != NULL ? xstrdup(tag) : NULL;
	o->seq = o->committed_seq = so.seq;
	o->offset = so.offset;
	o->round = so.round;
	json_buf_init(&o->buf);
	if (strcmp(path, "-") != 0) {
		o->path = xstrdup(path);
		if (output_open_file(o, cause) != 0) {
			output_close(o);
			return (NULL);
		}
	}
	return (o);
}

/* Open the file and cut it to the committed offset. */
static int
output_open_file(struct output *o, char **cause)
{
	struct stat sb;
	int created = 0;

	o->fd = open(o->path, O_WRONLY | O_CLOEXEC);
	if (o->fd == -1 && errno == ENOENT) {
		o->fd = open(
		    o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		created = 1;
	}
	if (o->fd == -1 || fstat(o->fd, &sb) == -1) {
		xasprintf(cause, "%s: %s", o->path, strerror(errno));
		return (-1);
	}
	if ((uint64_t)sb.st_size < o->offset) {
		xasprintf(cause,
		    "%s: the file has %lld bytes but %llu were committed: it "
		    "was truncated or replaced outside mssql-capture",
		    o->path, (long long)sb.st_size,
		    (unsigned long long)o->offset);
		return (-1);
	}
	if ((uint64_t)sb.st_size > o->offset) {
		if (ftruncate(o->fd, (off_t)o->offset) == -1) {
			xasprintf(cause, "%s: ftruncate: %s", o->path,
			    strerror(errno));
			return (-1);
		}
		log_info("%s: discarded %llu bytes written after the last "
			 "commit (seq %llu)",
		    o->path, (unsigned long long)(sb.st_size - o->offset),
		    (unsigned long long)o->committed_seq);
	}
	if (created && output_sync_dir(o->path) != 0) {
		xasprintf(cause, "%s: fsync of its directory: %s", o->path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Make a new file's name durable. */
static int
output_sync_dir(const char *path)
{
	char *dir, *slash;
	int fd, rc;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd == -1)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

/* Close the output; lines not committed are dropped. */
void
output_close(struct output *o)
{
	if (o == NULL)
		return;
	if (o->timer != NULL)
		event_free(o->timer);
	if (o->path != NULL && o->fd != -1)
		close(o->fd);
	json_buf_free(&o->buf);
	free(o->path);
	free(o->tag);
	free(o);
}

/* Call cb OUTPUT_COMMIT_MS after the first line of each round. */
void
output_set_timer(
    struct output *o, struct event_base *base, output_commit_cb cb, void *arg)
{
	if (o->timer != NULL)
		event_free(o->timer);
	o->timer = evtimer_new(base, output_timer_cb, o);
	if (o->timer == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	o->commitcb = cb;
	o->commitarg = arg;
}

/* Run fn between the steps of a commit (tests). */
void
output_set_hook(struct output *o, output_hook_cb fn, void *arg)
{
	o->hook = fn;
	o->hookarg = arg;
}

/* The round is old enough: ask for a commit. */
static void
output_timer_cb(int fd, short events, void *arg)
{
	struct output *o = arg;

	if (o->commitcb != NULL)
		o->commitcb(o, o->commitarg);
}

/*
 * Format an event as the next line.  Returns 1 when the round is full
 * and should be committed now, else 0.
 */
int
output_add_event(struct output *o, const struct frame_schema *schema,
    const struct frame_event *ev)
{
	struct timeval tv = { 0, OUTPUT_COMMIT_MS * 1000 };

	json_write_event(&o->buf, schema, ev, ++o->seq, o->tag);
	if (o->nlines++ == 0 && o->timer != NULL)
		evtimer_add(o->timer, &tv);
	return (o->nlines >= OUTPUT_COMMIT_EVENTS ||
	    o->buf.len >= OUTPUT_COMMIT_BYTES);
}

/* Lines formatted and not committed. */
size_t
output_pending(const struct output *o)
{
	return (o->nlines);
}

/* The seq of the last line formatted. */
uint64_t
output_seq(const struct output *o)
{
	return (o->seq);
}

/* The committed seq and file offset. */
void
output_committed(const struct output *o, uint64_t *seqp, uint64_t *offsetp)
{
	*seqp = o->committed_seq;
	*offsetp = o->offset;
}

/* Set the call between the sync and the state commit (step 2a). */
void
output_set_precommit(struct output *o, output_precommit_cb fn, void *arg)
{
	o->precommit = fn;
	o->precommitarg = arg;
}

/* Call the test hook. */
static void
output_step(struct output *o, enum output_step step)
{
	if (o->hook != NULL)
		o->hook(step, o->hookarg);
}

/* Write the round's lines: at the committed offset, or to stdout. */
static int
output_write_all(struct output *o, char **cause)
{
	struct pollfd pfd;
	size_t done = 0;
	ssize_t n;

	while (done < o->buf.len) {
		if (o->path != NULL)
			n = pwrite(o->fd, o->buf.data + done, o->buf.len - done,
			    (off_t)(o->offset + done));
		else
			n = write(o->fd, o->buf.data + done, o->buf.len - done);
		if (n == -1 && errno == EAGAIN) {
			pfd.fd = o->fd;
			pfd.events = POLLOUT;
			poll(&pfd, 1, -1);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "%s: write: %s",
			    o->path ? o->path : "standard output",
			    strerror(errno));
			return (-1);
		}
		done += n;
	}
	return (0);
}

/* Step 3: the cursors and (seq, offset, round) in one transaction. */
static int
output_store(struct output *o, const struct state_output *so,
    struct state_table **tables, size_t n, char **cause)
{
	size_t i;

	if (state_begin(o->st, cause) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (state_table_put(o->st, tables[i], cause) != 0)
			goto fail;
	}
	if (state_output_set(o->st, so, cause) != 0)
		goto fail;
	output_step(o, OUTPUT_STEP_STATE);
	if (state_commit(o->st, cause) != 0)
		goto fail;
	return (0);
fail:
	state_rollback(o->st);
	return (-1);
}

/*
 * Commit the round: its lines, then the given tables (their cursors
 * moved with these lines) and the new seq and offset, atomically.  On
 * -1 nothing is committed and the round is kept: a retry writes the
 * same bytes at the same offset.
 */
int
output_commit(
    struct output *o, struct state_table **tables, size_t n, char **cause)
{
	struct state_output so;

	if (o->nlines == 0 && n == 0)
		return (0);
	if (o->timer != NULL)
		evtimer_del(o->timer);
	if (output_write_all(o, cause) != 0)
		return (-1);
	output_step(o, OUTPUT_STEP_WRITTEN);
	if (o->path != NULL) {
		if (o->buf.len != 0 && fdatasync(o->fd) == -1) {
			xasprintf(cause, "%s: fdatasync: %s", o->path,
			    strerror(errno));
			return (-1);
		}
	}
	output_step(o, OUTPUT_STEP_SYNCED);
	so.seq = o->seq;
	so.offset = o->offset + (o->path != NULL ? o->buf.len : 0);
	so.round = o->round + 1;
	if (o->precommit != NULL &&
	    o->precommit(&so, tables, n, o->precommitarg, cause) != 0)
		return (-1);
	output_step(o, OUTPUT_STEP_REPLICA);
	if (output_store(o, &so, tables, n, cause) != 0)
		return (-1);
	output_step(o, OUTPUT_STEP_COMMITTED);
	o->offset = so.offset;
	o->round = so.round;
	o->committed_seq = o->seq;
	json_buf_reset(&o->buf);
	o->nlines = 0;
	return (0);
}
