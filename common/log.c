/*
 * Logging for every process of mssql-capture.
 *
 * Each process calls log_init() once with its name ("supervisor",
 * "worker dbo.orders", "check") and every line it writes carries that
 * prefix, so an operator reading a merged stream (journald, a terminal)
 * can tell who spoke.  Lines go to stderr, or to syslog(3) when asked
 * (daemon mode without systemd).  The vlog() family saves and restores
 * errno so a log call never disturbs an error path (OpenSMTPD log.c).
 *
 * Three tiers (STYLE.md C1): fatal()/fatalx() for broken invariants,
 * log_warn()/log_warnx() for recoverable trouble, and -1 returns for
 * errors the caller decides about.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common.h"

static char log_procname[128] = "mssql-capture";
static int log_level = LOG_LEVEL_INFO;
static int log_syslog;
static FILE *log_stream;

static const char *log_level_names[] = { "fatal", "warning", "info", "debug" };

/* Set the process name, the threshold and the destination. */
void
log_init(const char *procname, int level, int to_syslog)
{
	log_setname(procname);
	log_level = level;
	log_syslog = to_syslog;
	if (log_syslog)
		openlog("mssql-capture", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Change the per-process prefix (after fork+exec of a worker). */
void
log_setname(const char *procname)
{
	snprintf(log_procname, sizeof(log_procname), "%s", procname);
}

/* Return the current prefix. */
const char *
log_getname(void)
{
	return (log_procname);
}

/* Change the threshold at run time. */
void
log_setlevel(int level)
{
	log_level = level;
}

/* Send lines to another stream than stderr (tests). */
void
log_setstream(FILE *fp)
{
	log_stream = fp;
}

/* Parse a level name: fatal, warning, info or debug. */
int
log_parse_level(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]);
	     i++) {
		if (strcmp(name, log_level_names[i]) == 0)
			return ((int)i);
	}
	if (strcmp(name, "warn") == 0)
		return (LOG_LEVEL_WARN);
	return (-1);
}

/* Format and write one line; errno survives. */
void
vlog(int level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_CRIT, LOG_WARNING, LOG_INFO,
		LOG_DEBUG };
	char msg[8192];
	int saved_errno = errno;
	FILE *fp = log_stream != NULL ? log_stream : stderr;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog)
		syslog(prio[level], "%s: %s", log_procname, msg);
	else {
		fprintf(fp, "%s: %s\n", log_procname, msg);
		fflush(fp);
	}
	errno = saved_errno;
}

/* Log at a level. */
void
log_at(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* Warning with strerror(errno) appended. */
void
log_warn(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int saved_errno = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_at(LOG_LEVEL_WARN, "%s: %s", buf, strerror(saved_errno));
	errno = saved_errno;
}

/* Warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

/* Informational message. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

/* Debug message. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

/* Broken invariant with strerror(errno): log and exit 1. */
void
fatal(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int saved_errno = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (saved_errno != 0)
		log_at(LOG_LEVEL_FATAL, "fatal: %s: %s", buf,
		    strerror(saved_errno));
	else
		log_at(LOG_LEVEL_FATAL, "fatal: %s", buf);
	exit(1);
}

/* Broken invariant: log and exit 1. */
void
fatalx(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_at(LOG_LEVEL_FATAL, "fatal: %s", buf);
	exit(1);
}
