/*
 * The child table: one worker process per binding, started, watched
 * and restarted by the supervisor (STYLE.md D1, D5, D6; PostgreSQL
 * postmaster.c, OpenSMTPD smtpd.c start_child()).
 *
 * Starting.  A worker is a fork+exec of our own binary,
 * "<exec_path> -P worker -I <id> -B <schema.table> -c <config> [-v...]"
 * (the worker finds its binding in the file by name, so that SIGHUP
 * may reorder the bindings of a running daemon), never a bare
 * fork: FreeTDS, libevent and SQLite state must not cross fork().  The
 * parent makes a socketpair (close-on-exec, so no other child inherits
 * it); between fork and exec the child may only make async-signal-safe
 * calls: it puts its end on fd 3, points stdin and stdout at /dev/null
 * (stdout may be the JSON output), closes every other descriptor from
 * 4 up, and resets every signal to its default.  All signals are
 * blocked around fork() so that a signal landing in the child before
 * exec cannot run the supervisor's libevent handler there (which would
 * write to the supervisor's signal socket); the child unblocks them
 * right before exec.  exec_path must be absolute: the caller resolves
 * argv[0] once at start.
 *
 * Watching.  SIGCHLD arrives through libevent (STYLE.md D7); the
 * callback reaps with waitpid(WAIT_ANY, WNOHANG) until nothing is left
 * and looks each pid up in the table.  Before deciding anything about
 * an exit it drains the child's socket: the frames a worker wrote
 * before dying (a FRAME_ERROR saying why) are in the socket even when
 * SIGCHLD is handled first.  Every exit is logged as "worker dbo.orders
 * (pid 42) exited with code 1" or "terminated by signal 9: SIGKILL".
 *
 * Restarting (postmaster's crash time + restart interval):
 *  - exit 0 means stopped on purpose (run --once finished, FRAME_STOP):
 *    CHILD_DONE, no restart;
 *  - a FRAME_ERROR with code FAILED marks the table failed at once:
 *    restarting will not help (no primary key, a changed key);
 *  - anything else is restarted after a delay that starts at 1 s and
 *    doubles up to 60 s; a worker that stayed up 60 s starts again at
 *    1 s.  A crash (a signal, or an exit without FRAME_ERROR RETRYABLE)
 *    counts as a failure; CHILD_MAX_FAILURES in a row, each within 60
 *    s of its start, mark the table failed.  A RETRYABLE error (the
 *    server is unreachable) backs off but never marks it failed: an
 *    outage must not fail every table.
 * A failed table is reported to the caller, which records it in the
 * state; the other workers keep running.
 *
 * Slots.  At most max_workers children hold a slot; a waiting binding
 * gets one in priority order (higher first, ties in the order they
 * were added, i.e. config order) whenever one frees.  A child keeps
 * its slot while it waits for a restart, so a crash does not let a
 * lower priority table overtake it.  The caller may give a slot back
 * early with child_release_slot() (for example once a worker reports
 * FRAME_BACKFILL_DONE, which makes max_workers bound concurrent
 * backfills while every table keeps streaming); a restart never waits
 * for a slot.
 *
 * Stopping (STYLE.md D8).  child_shutdown() cancels pending restarts
 * and sends FRAME_STOP to every worker, which flushes and exits 0; a
 * worker still alive after stop_timeout_ms, or at a second
 * child_shutdown(), gets SIGKILL.
 *
 * The table is a small array in config order, searched linearly by pid
 * or id: a database has tens of bound tables, not thousands.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "supervisor.h"

struct child {
	struct child_table *tbl;
	char *name; /* "dbo.orders" */
	uint32_t id; /* -I, and the peerid of its frames */
	int priority;
	size_t order; /* config order */
	enum child_state state;
	pid_t pid;
	int reaped; /* pid is only kept to check the last frames */
	struct proc_peer *peer;
	int hello; /* FRAME_HELLO received */
	int holds_slot;
	int64_t started_ms;
	uint32_t restarts;
	int failures; /* crashes in a row */
	int backoff_ms; /* next restart delay */
	uint32_t error_code; /* last FRAME_ERROR of this run, 0: none */
	char *error;
	struct event *timer;
};

struct child_table {
	struct event_base *base;
	struct child_params params;
	struct child_cb cb;
	struct child **children; /* config order */
	size_t nchildren;
	struct event *sigchld;
	struct event *kill_timer;
	int stopping;
};

static const struct {
	int sig;
	const char *name;
} child_signals[] = { { SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" },
	{ SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" },
	{ SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" },
	{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" },
	{ SIGUSR2, "SIGUSR2" }, { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" },
	{ SIGTERM, "SIGTERM" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
	{ SIGSYS, "SIGSYS" } };

static void child_sigchld_cb(int, short, void *);
static void child_restart_cb(int, short, void *);
static void child_kill_cb(int, short, void *);
static char **child_build_argv(const struct child *);
static void child_free_argv(char **);
static __dead void child_exec(int, char **);
static int child_start(struct child *);
static void child_dispatch(const struct frame *, void *);
static int child_check_frame(struct child *, const struct frame *);
static void child_note_error(struct child *, const struct frame *);
static void child_close_peer(struct child *);
static void child_exited(struct child *, int);
static void child_decide(struct child *, int, int64_t);
static void child_backoff(struct child *);
static void child_fail(struct child *, const char *);
static struct child *child_next_waiting(const struct child_table *);
static size_t child_slots_used(const struct child_table *);

/* Create an empty table; SIGCHLD is handled from now on. */
struct child_table *
child_table_create(struct event_base *base, const struct child_params *params,
    const struct child_cb *cb)
{
	struct child_table *tbl;
	struct child_params *p;

	tbl = xcalloc(1, sizeof(*tbl));
	tbl->base = base;
	tbl->params = *params;
	tbl->cb = *cb;
	p = &tbl->params;
	if (p->max_failures <= 0)
		p->max_failures = CHILD_MAX_FAILURES;
	if (p->backoff_min_ms <= 0)
		p->backoff_min_ms = CHILD_BACKOFF_MIN_MS;
	if (p->backoff_max_ms <= 0)
		p->backoff_max_ms = CHILD_BACKOFF_MAX_MS;
	if (p->stable_ms <= 0)
		p->stable_ms = CHILD_STABLE_MS;
	if (p->stop_timeout_ms <= 0)
		p->stop_timeout_ms = CHILD_STOP_TIMEOUT_MS;
	tbl->sigchld = evsignal_new(base, SIGCHLD, child_sigchld_cb, tbl);
	if (tbl->sigchld == NULL || evsignal_add(tbl->sigchld, NULL) != 0)
		fatalx("%s: cannot handle SIGCHLD", __func__);
	tbl->kill_timer = evtimer_new(base, child_kill_cb, tbl);
	if (tbl->kill_timer == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	return (tbl);
}

/* Free the table; running children are killed and reaped. */
void
child_table_free(struct child_table *tbl)
{
	struct child *c;
	size_t i;

	if (tbl == NULL)
		return;
	for (i = 0; i < tbl->nchildren; i++) {
		c = tbl->children[i];
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
		}
		proc_remove_peer(c->peer);
		event_free(c->timer);
		free(c->error);
		free(c->name);
		free(c);
	}
	free(tbl->children);
	event_free(tbl->sigchld);
	event_free(tbl->kill_timer);
	free(tbl);
}

/*
 * Add a binding: name ("dbo.orders"), id (passed as -I) and priority.
 * It waits for child_schedule().
 */
struct child *
child_add(struct child_table *tbl, const char *name, uint32_t id, int priority)
{
	struct child *c;

	if (child_find_id(tbl, id) != NULL)
		fatalx("%s: binding id %u added twice", __func__, id);
	c = xcalloc(1, sizeof(*c));
	c->tbl = tbl;
	c->name = xstrdup(name);
	c->id = id;
	c->priority = priority;
	c->order = tbl->nchildren;
	c->state = CHILD_WAITING;
	c->backoff_ms = tbl->params.backoff_min_ms;
	c->timer = evtimer_new(tbl->base, child_restart_cb, c);
	if (c->timer == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	tbl->children = xreallocarray(
	    tbl->children, tbl->nchildren + 1, sizeof(*tbl->children));
	tbl->children[tbl->nchildren++] = c;
	return (c);
}

/* Slots in use: running or waiting to restart, slot not given back. */
static size_t
child_slots_used(const struct child_table *tbl)
{
	size_t i, n = 0;

	for (i = 0; i < tbl->nchildren; i++)
		n += tbl->children[i]->holds_slot;
	return (n);
}

/* The waiting binding to start next: highest priority, then first. */
static struct child *
child_next_waiting(const struct child_table *tbl)
{
	struct child *c, *best = NULL;
	size_t i;

	for (i = 0; i < tbl->nchildren; i++) {
		c = tbl->children[i];
		if (c->state != CHILD_WAITING)
			continue;
		if (best == NULL || c->priority > best->priority)
			best = c;
	}
	return (best);
}

/*
 * Start waiting bindings while slots are free, in priority order.
 * Returns how many were started.
 */
int
child_schedule(struct child_table *tbl)
{
	struct child *c;
	int max = tbl->params.max_workers, n = 0;

	if (tbl->stopping)
		return (0);
	while (max <= 0 || child_slots_used(tbl) < (size_t)max) {
		if ((c = child_next_waiting(tbl)) == NULL)
			break;
		c->holds_slot = 1;
		if (child_start(c) == 0)
			n++;
	}
	return (n);
}

/*
 * Start a stopped child again (reset TABLE): done, failed or waiting
 * for a restart, it waits for a slot like a new one, with its backoff
 * and crash count cleared.
 */
void
child_restart(struct child *c)
{
	if (c->pid > 0)
		fatalx("%s: worker %s is still running", __func__, c->name);
	evtimer_del(c->timer);
	c->state = CHILD_WAITING;
	c->holds_slot = 0;
	c->failures = 0;
	c->backoff_ms = c->tbl->params.backoff_min_ms;
}

/*
 * Its binding is gone (SIGHUP): a child waiting for a slot or for its
 * restart is done at once; a running one is the caller's to stop.
 */
void
child_retire(struct child *c)
{
	if (c->state != CHILD_WAITING && c->state != CHILD_BACKOFF)
		return;
	evtimer_del(c->timer);
	c->state = CHILD_DONE;
	c->holds_slot = 0;
}

/* Give a running child's slot back (its backfill is done). */
void
child_release_slot(struct child *c)
{
	if (!c->holds_slot)
		return;
	c->holds_slot = 0;
	child_schedule(c->tbl);
}

/* Build the worker's argv (before fork: the child must not allocate). */
static char **
child_build_argv(const struct child *c)
{
	const struct child_params *p = &c->tbl->params;
	char **argv;
	int i, n = 0;

	argv = xcalloc(10 + (p->verbose > 0 ? p->verbose : 0), sizeof(*argv));
	argv[n++] = xstrdup(p->exec_path);
	argv[n++] = xstrdup("-P");
	argv[n++] = xstrdup("worker");
	argv[n++] = xstrdup("-I");
	xasprintf(&argv[n++], "%u", c->id);
	argv[n++] = xstrdup("-B");
	argv[n++] = xstrdup(c->name);
	if (p->config_path != NULL) {
		argv[n++] = xstrdup("-c");
		argv[n++] = xstrdup(p->config_path);
	}
	for (i = 0; i < p->verbose; i++)
		argv[n++] = xstrdup("-v");
	argv[n] = NULL;
	return (argv);
}

/* Free an argv from child_build_argv(). */
static void
child_free_argv(char **argv)
{
	size_t i;

	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/*
 * In the new process: set up the descriptors and signals, exec.  Only
 * async-signal-safe calls from here on.
 */
static __dead void
child_exec(int fd, char **argv)
{
	static const char msg[] = "mssql-capture: worker exec failed\n";
	sigset_t none;
	int null, sig;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (fd == 3)
		fcntl(fd, F_SETFD, 0);
	else if (dup2(fd, 3) == -1)
		_exit(127);
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
#ifdef HAVE_CLOSEFROM
	closefrom(4);
#else
	for (fd = 4; fd < sysconf(_SC_OPEN_MAX); fd++)
		close(fd);
#endif
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], argv);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) == -1)
		_exit(127);
	_exit(127);
}

/* Start a child now.  On failure it waits for a restart (-1). */
static int
child_start(struct child *c)
{
	sigset_t all, old;
	char **argv, name[256];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("worker %s: socketpair", c->name);
		child_backoff(c);
		return (-1);
	}
	argv = child_build_argv(c);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0)
		child_exec(sv[1], argv);
	sigprocmask(SIG_SETMASK, &old, NULL);
	child_free_argv(argv);
	close(sv[1]);
	if (pid == -1) {
		log_warn("worker %s: fork", c->name);
		close(sv[0]);
		child_backoff(c);
		return (-1);
	}
	c->pid = pid;
	c->reaped = 0;
	c->state = CHILD_RUNNING;
	c->hello = 0;
	c->error_code = 0;
	c->started_ms = clock_now_ms();
	c->peer = proc_add_peer(c->tbl->base, sv[0], child_dispatch, c);
	snprintf(name, sizeof(name), "worker %s (pid %ld)", c->name, (long)pid);
	proc_set_name(c->peer, name);
	log_info("worker %s (pid %ld) started", c->name, (long)pid);
	return (0);
}

/* Frames from a worker: check what the table relies on, pass on. */
static void
child_dispatch(const struct frame *f, void *arg)
{
	struct child *c = arg;

	if (f == NULL) {
		child_close_peer(c);
		return;
	}
	if (child_check_frame(c, f) != 0) {
		child_close_peer(c);
		if (c->pid > 0 && !c->reaped)
			kill(c->pid, SIGTERM);
		return;
	}
	if (f->hdr.type == FRAME_ERROR)
		child_note_error(c, f);
	c->tbl->cb.dispatch(c, f, c->tbl->cb.arg);
}

/*
 * The header names this worker and the first frame is a valid HELLO.
 * Returns -1 (logged) on a protocol violation.
 */
static int
child_check_frame(struct child *c, const struct frame *f)
{
	struct frame_hello h;
	char *cause = NULL;

	if (f->hdr.peerid != c->id || f->hdr.pid != (uint32_t)c->pid) {
		log_warnx("worker %s (pid %ld): %s frame for table %u from "
			  "pid %u",
		    c->name, (long)c->pid, frame_type_name(f->hdr.type),
		    f->hdr.peerid, f->hdr.pid);
		return (-1);
	}
	if (c->hello == (f->hdr.type == FRAME_HELLO)) {
		log_warnx("worker %s (pid %ld): unexpected %s", c->name,
		    (long)c->pid, frame_type_name(f->hdr.type));
		return (-1);
	}
	if (f->hdr.type != FRAME_HELLO)
		return (0);
	if (frame_decode_hello(f, &h, &cause) != 0 ||
	    h.version != PROTOCOL_VERSION || h.binding_id != c->id) {
		log_warnx("worker %s (pid %ld): bad hello: %s", c->name,
		    (long)c->pid,
		    cause != NULL ? cause : "protocol or binding mismatch");
		free(cause);
		return (-1);
	}
	c->hello = 1;
	return (0);
}

/* Remember a FRAME_ERROR: it decides what the exit means. */
static void
child_note_error(struct child *c, const struct frame *f)
{
	struct frame_error e;
	char *cause = NULL;

	if (frame_decode_error(f, &e, &cause) != 0) {
		log_warnx("worker %s: %s", c->name, cause);
		free(cause);
		return;
	}
	c->error_code = e.code;
	free(c->error);
	c->error = xstrdup(e.message);
	log_warnx("worker %s (pid %ld): %s error: %s", c->name, (long)c->pid,
	    e.code == FRAME_ERROR_FAILED ? "fatal" : "retryable", e.message);
	frame_error_free(&e);
}

/* Forget the socket (the worker sees EOF and exits, STYLE.md D5). */
static void
child_close_peer(struct child *c)
{
	if (c->peer == NULL)
		return;
	proc_remove_peer(c->peer);
	c->peer = NULL;
	c->tbl->cb.dispatch(c, NULL, c->tbl->cb.arg);
}

/* Handle SIGCHLD: reap every child that exited. */
static void
child_sigchld_cb(int sig, short events, void *arg)
{
	struct child_table *tbl = arg;
	struct child *c;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(WAIT_ANY, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid == -1 && errno != ECHILD)
			log_warn("waitpid");
		if (pid <= 0)
			break;
		if ((c = child_find_pid(tbl, pid)) == NULL) {
			log_debug("reaped pid %ld, not a worker", (long)pid);
			continue;
		}
		child_exited(c, status);
	}
	if (tbl->stopping && child_running(tbl) == 0)
		evtimer_del(tbl->kill_timer);
}

/* The name of a signal ("SIGKILL"), for log lines (STYLE.md C4). */
const char *
child_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(child_signals) / sizeof(child_signals[0]); i++) {
		if (child_signals[i].sig == sig)
			return (child_signals[i].name);
	}
	return ("unknown signal");
}

/* "exited with code N" or "terminated by signal N: SIGNAME". */
char *
child_exit_describe(int status)
{
	char *s;

	if (WIFEXITED(status))
		xasprintf(&s, "exited with code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		xasprintf(&s, "terminated by signal %d: %s", WTERMSIG(status),
		    child_signal_name(WTERMSIG(status)));
	else
		xasprintf(&s, "stopped with status %#x", status);
	return (s);
}

/* A child was reaped: read its last words, log, decide. */
static void
child_exited(struct child *c, int status)
{
	char *what;
	int64_t up;

	c->reaped = 1;
	if (c->peer != NULL && proc_drain(c->peer) == 0)
		child_close_peer(c);
	what = child_exit_describe(status);
	up = clock_now_ms() - c->started_ms;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("worker %s (pid %ld) %s", c->name, (long)c->pid, what);
	else
		log_warnx(
		    "worker %s (pid %ld) %s", c->name, (long)c->pid, what);
	c->pid = 0;
	child_decide(c, status, up);
	free(what);
	c->tbl->cb.exited(c, c->tbl->cb.arg);
	child_schedule(c->tbl);
}

/* After an exit: done, failed, or restart later. */
static void
child_decide(struct child *c, int status, int64_t up)
{
	const struct child_params *p = &c->tbl->params;
	char *what, *reason;

	if (c->tbl->stopping ||
	    (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		c->state = CHILD_DONE;
		c->holds_slot = 0;
		return;
	}
	if (c->error_code == FRAME_ERROR_FAILED) {
		child_fail(c, c->error);
		return;
	}
	if (up >= p->stable_ms) {
		c->failures = 0;
		c->backoff_ms = p->backoff_min_ms;
	}
	if (c->error_code != FRAME_ERROR_RETRYABLE &&
	    ++c->failures >= p->max_failures) {
		what = child_exit_describe(status);
		xasprintf(&reason,
		    "worker failed %d times in a row, last %s%s%s", c->failures,
		    what, c->error ? ": " : "", c->error ? c->error : "");
		child_fail(c, reason);
		free(reason);
		free(what);
		return;
	}
	child_backoff(c);
}

/* Wait before starting the child again, doubling the next wait. */
static void
child_backoff(struct child *c)
{
	const struct child_params *p = &c->tbl->params;
	struct timeval tv;
	int delay = c->backoff_ms;

	c->state = CHILD_BACKOFF;
	c->restarts++;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	c->backoff_ms =
	    delay >= p->backoff_max_ms / 2 ? p->backoff_max_ms : delay * 2;
	log_info("worker %s: restarting in %d.%03d s (restart %u)", c->name,
	    delay / 1000, delay % 1000, c->restarts);
}

/* Give up on a table: the caller marks it failed in the state. */
static void
child_fail(struct child *c, const char *reason)
{
	if (reason == NULL)
		reason = "failed";
	c->state = CHILD_FAILED;
	c->holds_slot = 0;
	log_warnx("worker %s: table marked failed: %s", c->name, reason);
	c->tbl->cb.failed(c, reason, c->tbl->cb.arg);
}

/* The restart delay is over. */
static void
child_restart_cb(int fd, short events, void *arg)
{
	struct child *c = arg;

	if (c->state != CHILD_BACKOFF || c->tbl->stopping)
		return;
	child_start(c);
}

/* Queue a packed frame to a child (taken); -1 if it has no socket. */
int
child_send(struct child *c, uint8_t *data, size_t len)
{
	if (c->peer == NULL) {
		free(data);
		return (-1);
	}
	return (proc_send_frame(c->peer, data, len));
}

/*
 * Stop every child: the first call sends FRAME_STOP and arms a SIGKILL
 * timer, a second call kills at once.
 */
void
child_shutdown(struct child_table *tbl)
{
	struct timeval tv;
	struct child *c;
	uint8_t *data;
	size_t i, len;
	int again = tbl->stopping;

	tbl->stopping = 1;
	for (i = 0; i < tbl->nchildren; i++) {
		c = tbl->children[i];
		if (c->state == CHILD_BACKOFF || c->state == CHILD_WAITING) {
			evtimer_del(c->timer);
			c->state = CHILD_DONE;
			c->holds_slot = 0;
		}
		if (c->pid <= 0)
			continue;
		if (again) {
			kill(c->pid, SIGKILL);
			continue;
		}
		data = frame_pack_stop(c->id, 0, &len);
		if (child_send(c, data, len) != 0)
			kill(c->pid, SIGTERM);
	}
	if (again || child_running(tbl) == 0)
		return;
	tv.tv_sec = tbl->params.stop_timeout_ms / 1000;
	tv.tv_usec = (tbl->params.stop_timeout_ms % 1000) * 1000;
	evtimer_add(tbl->kill_timer, &tv);
}

/* Workers still alive after FRAME_STOP get SIGKILL. */
static void
child_kill_cb(int fd, short events, void *arg)
{
	struct child_table *tbl = arg;
	size_t i;

	for (i = 0; i < tbl->nchildren; i++) {
		if (tbl->children[i]->pid > 0) {
			log_warnx("worker %s (pid %ld): still running, killing",
			    tbl->children[i]->name,
			    (long)tbl->children[i]->pid);
			kill(tbl->children[i]->pid, SIGKILL);
		}
	}
}

/* Children alive now. */
size_t
child_running(const struct child_table *tbl)
{
	size_t i, n = 0;

	for (i = 0; i < tbl->nchildren; i++)
		n += tbl->children[i]->pid > 0;
	return (n);
}

/* Look a child up by pid. */
struct child *
child_find_pid(const struct child_table *tbl, pid_t pid)
{
	size_t i;

	for (i = 0; i < tbl->nchildren; i++) {
		if (tbl->children[i]->pid == pid)
			return (tbl->children[i]);
	}
	return (NULL);
}

/* Look a child up by binding id. */
struct child *
child_find_id(const struct child_table *tbl, uint32_t id)
{
	size_t i;

	for (i = 0; i < tbl->nchildren; i++) {
		if (tbl->children[i]->id == id)
			return (tbl->children[i]);
	}
	return (NULL);
}

/* The binding's name. */
const char *
child_name(const struct child *c)
{
	return (c->name);
}

/* The binding id. */
uint32_t
child_id(const struct child *c)
{
	return (c->id);
}

/* The worker's pid, 0 when none runs. */
pid_t
child_pid(const struct child *c)
{
	return (c->pid);
}

/* Where the child stands. */
enum child_state
child_state(const struct child *c)
{
	return (c->state);
}

/* A state's name for logs and status. */
const char *
child_state_name(enum child_state state)
{
	static const char *names[] = { "waiting", "running", "backoff", "done",
		"failed" };

	if ((size_t)state >= sizeof(names) / sizeof(names[0]))
		return ("unknown");
	return (names[state]);
}

/* Restarts so far. */
uint32_t
child_restarts(const struct child *c)
{
	return (c->restarts);
}

/* The child's socket, NULL when it has none. */
struct proc_peer *
child_peer(const struct child *c)
{
	return (c->peer);
}
