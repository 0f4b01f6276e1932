/*
 * "run --pidfile FILE" and "run --daemonize": what a classic init
 * script needs from the daemon (etc/init.d/mssql-capture).  Under
 * systemd neither is used: Type=notify and the cgroup do their jobs.
 *
 * The pidfile is a lock, not just a number.  It is opened (created
 * 0644 if absent) and locked with flock(LOCK_EX | LOCK_NB) for the
 * whole life of the daemon, then the pid is written into it.  A second
 * daemon on the same file fails to take the lock and exits 2 naming
 * the pid that holds it.  A file that is not locked is stale whatever
 * pid it holds (every daemon holds its lock until it exits, even after
 * kill -9, since the kernel drops the lock with the process), so it is
 * taken over.  If the path was unlinked or replaced between our open()
 * and the lock, the lock is on a dead inode: we compare inodes and try
 * again.  The file is removed at exit (atexit, so fatal() paths remove
 * it too); the descriptor is close-on-exec, so workers never hold it.
 *
 * --daemonize detaches the way daemon(3) does, but the caller learns
 * whether the start worked.  It runs after the configuration was
 * loaded (so its errors go to the caller's terminal as usual) and
 * before anything else is opened: SQLite, libevent and FreeTDS state
 * must not cross fork() (STYLE.md D1).  The parent keeps a pipe and
 * waits; the child calls setsid(), takes the pidfile and carries on
 * with its standard error still the caller's, so every startup error
 * (pidfile in use, state locked, output not where the state says) is
 * printed where the operator typed the command.  When it is ready to
 * start workers, daemon_detach() points standard input, output and
 * error at /dev/null and switches logging to syslog(3) (facility
 * daemon), for itself and, through DAEMON_SYSLOG_ENV, for the workers
 * it is about to fork+exec; once they are started, daemon_ready()
 * writes one byte to the pipe and the parent exits 0.  If the child
 * exits first, the parent sees end of file and exits with the child's
 * status, so "mssql-capture run --daemonize" fails exactly when a
 * foreground run would have failed at startup.  Standard output is
 * /dev/null in the background, so output.path "-" is refused up front.
 * The working directory becomes "/" (the configuration path is made
 * absolute first: workers and SIGHUP read it again).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor.h"

#define DAEMON_SYSLOG_ENV "MSSQL_CAPTURE_LOG_SYSLOG"
#define DAEMON_PIDFILE_TRIES 3 /* replaced under us: try again */

static int daemon_notify_fd = -1; /* write end: the waiting parent */
static int daemon_pidfile_fd = -1;
static char *daemon_pidfile_path;
static pid_t daemon_pidfile_owner;

static int daemon_check(const struct cmd_opts *, const struct config *);
static char *daemon_abspath(const char *);
static int daemon_fork(void);
static __dead void daemon_wait_child(pid_t, int);
static int daemon_pidfile_take(const char *);
static int daemon_pidfile_lock(const char *, int *);
static long daemon_pidfile_read(int);
static int daemon_pidfile_write(const char *, int);
static void daemon_pidfile_remove(void);

/* --pidfile and --daemonize belong to run: 0, else -1 (said why). */
int
daemon_check_command(const char *command, const struct cmd_opts *opts)
{
	if ((opts->pidfile == NULL && !opts->daemonize) ||
	    strcmp(command, "run") == 0)
		return (0);
	fprintf(stderr,
	    "%s: %s: --pidfile and --daemonize are options of "
	    "run only\n",
	    PACKAGE_NAME, command);
	return (-1);
}

/*
 * Before anything is opened: detach if asked, take the pidfile if
 * asked.  Returns 0 (in the daemon), or the exit status (2) after
 * logging why.  A parent that forked never returns.
 */
int
daemon_start(struct cmd_opts *opts, struct config *cfg)
{
	char *pidfile = NULL, *abs;
	int rc;

	if (daemon_check(opts, cfg) != 0)
		return (2);
	if (opts->pidfile != NULL &&
	    (pidfile = daemon_abspath(opts->pidfile)) == NULL)
		return (2);
	if (opts->daemonize) {
		if ((abs = daemon_abspath(cfg->path)) == NULL) {
			free(pidfile);
			return (2);
		}
		free(cfg->path);
		cfg->path = abs;
		if (daemon_fork() != 0) {
			free(pidfile);
			return (2);
		}
	}
	rc = pidfile == NULL ? 0 : daemon_pidfile_take(pidfile);
	free(pidfile);
	return (rc == 0 ? 0 : 2);
}

/* What --daemonize cannot work with. */
static int
daemon_check(const struct cmd_opts *opts, const struct config *cfg)
{
	if (opts->pidfile != NULL && opts->pidfile[0] == '\0') {
		log_warnx("--pidfile: empty file name");
		return (-1);
	}
	if (opts->daemonize && strcmp(cfg->output.path, "-") == 0) {
		log_warnx("--daemonize: output.path is \"-\" (standard "
			  "output), which a daemon does not have: set "
			  "output.path to a file");
		return (-1);
	}
	return (0);
}

/* path made absolute against the working directory (NULL: logged). */
static char *
daemon_abspath(const char *path)
{
	char cwd[PATH_MAX], *abs;

	if (path[0] == '/')
		return (xstrdup(path));
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		log_warn("%s: cannot make the path absolute: getcwd", path);
		return (NULL);
	}
	xasprintf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
	return (abs);
}

/*
 * Fork; the parent waits for daemon_ready() or the child's exit and
 * never returns.  The child leads a new session in "/" (-1: logged).
 */
static int
daemon_fork(void)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_warn("--daemonize: pipe");
		return (-1);
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		log_warn("--daemonize: fork");
		close(fds[0]);
		close(fds[1]);
		return (-1);
	}
	if (pid != 0) {
		close(fds[1]);
		daemon_wait_child(pid, fds[0]);
	}
	close(fds[0]);
	daemon_notify_fd = fds[1];
	if (setsid() == -1)
		fatal("--daemonize: setsid");
	if (chdir("/") == -1)
		fatal("--daemonize: chdir /");
	return (0);
}

/* The parent: exit 0 once the child is ready, else with its status. */
static __dead void
daemon_wait_child(pid_t pid, int fd)
{
	char c;
	ssize_t n;
	int status;

	do
		n = read(fd, &c, 1);
	while (n == -1 && errno == EINTR);
	if (n == 1)
		_exit(0);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: --daemonize: waitpid: %s\n",
			    PACKAGE_NAME, strerror(errno));
			_exit(1);
		}
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1);
	fprintf(stderr, "%s: --daemonize: the daemon (pid %ld) was %s\n",
	    PACKAGE_NAME, (long)pid,
	    WIFSIGNALED(status) ? child_signal_name(WTERMSIG(status))
				: "stopped");
	_exit(1);
}

/*
 * About to start workers: with --daemonize, leave the terminal and log
 * to syslog from now on, and so will the workers.
 */
void
daemon_detach(const struct cmd_opts *opts)
{
	char name[128];
	int fd;

	if (!opts->daemonize)
		return;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("--daemonize: /dev/null");
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		fatal("--daemonize: dup2 /dev/null");
	close(fd);
	if (setenv(DAEMON_SYSLOG_ENV, "1", 1) == -1)
		fatal("--daemonize: setenv");
	snprintf(name, sizeof(name), "%s", log_getname());
	log_init(name, LOG_LEVEL_INFO + opts->verbose, 1);
	log_info("running in the background, pid %ld", (long)getpid());
}

/* Workers started: the waiting parent may exit 0. */
void
daemon_ready(void)
{
	ssize_t n;

	if (daemon_notify_fd == -1)
		return;
	do
		n = write(daemon_notify_fd, "", 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		log_warn("--daemonize: telling the parent we are ready");
	close(daemon_notify_fd);
	daemon_notify_fd = -1;
}

/* Should a worker log to syslog?  Yes if its supervisor does. */
int
daemon_log_syslog(void)
{
	const char *v = getenv(DAEMON_SYSLOG_ENV);

	return (v != NULL && strcmp(v, "1") == 0);
}

/* Lock path and write our pid into it (-1: logged). */
static int
daemon_pidfile_take(const char *path)
{
	int fd, i;

	for (i = 0; i < DAEMON_PIDFILE_TRIES; i++) {
		if (daemon_pidfile_lock(path, &fd) != 0)
			return (-1);
		if (fd != -1)
			break;
	}
	if (fd == -1) {
		log_warnx("pidfile %s: replaced while we locked it, %d times",
		    path, DAEMON_PIDFILE_TRIES);
		return (-1);
	}
	if (daemon_pidfile_write(path, fd) != 0) {
		close(fd);
		return (-1);
	}
	daemon_pidfile_fd = fd;
	daemon_pidfile_path = xstrdup(path);
	daemon_pidfile_owner = getpid();
	if (atexit(daemon_pidfile_remove) != 0)
		fatalx("atexit failed");
	return (0);
}

/*
 * Open and lock path.  0 with *fdp locked, 0 with *fdp -1 if the path
 * now names another file (try again), -1 if it cannot be had (logged).
 */
static int
daemon_pidfile_lock(const char *path, int *fdp)
{
	struct stat sb_fd, sb_path;
	long pid;
	int fd;

	*fdp = -1;
	fd = open(
	    path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	if (fd == -1) {
		log_warn("pidfile %s", path);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			pid = daemon_pidfile_read(fd);
			log_warnx("pidfile %s: locked by another mssql-capture "
				  "(pid %ld): it is already running",
			    path, pid);
		} else
			log_warn("pidfile %s: flock", path);
		close(fd);
		return (-1);
	}
	if (fstat(fd, &sb_fd) == -1 || stat(path, &sb_path) == -1 ||
	    sb_fd.st_dev != sb_path.st_dev || sb_fd.st_ino != sb_path.st_ino) {
		close(fd);
		return (0);
	}
	*fdp = fd;
	return (0);
}

/* The pid a pidfile holds, 0 if none or not a number. */
static long
daemon_pidfile_read(int fd)
{
	char buf[32], *end;
	ssize_t n;
	long pid;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return (0);
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    pid <= 0)
		return (0);
	return (pid);
}

/* Replace the locked file's contents with our pid (-1: logged). */
static int
daemon_pidfile_write(const char *path, int fd)
{
	char buf[32];
	long old;
	int len;

	old = daemon_pidfile_read(fd);
	if (old != 0 && old != (long)getpid())
		log_info("pidfile %s: replacing a stale one (pid %ld does "
			 "not hold it)",
		    path, old);
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, len, 0) != len) {
		log_warn("pidfile %s: write", path);
		return (-1);
	}
	return (0);
}

/* atexit: remove the pidfile, in the process that wrote it only. */
static void
daemon_pidfile_remove(void)
{
	if (daemon_pidfile_fd == -1 || getpid() != daemon_pidfile_owner)
		return;
	if (unlink(daemon_pidfile_path) == -1 && errno != ENOENT)
		log_warn("pidfile %s: unlink", daemon_pidfile_path);
	close(daemon_pidfile_fd);
	daemon_pidfile_fd = -1;
	free(daemon_pidfile_path);
	daemon_pidfile_path = NULL;
}
