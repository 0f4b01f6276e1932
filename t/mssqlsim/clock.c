/*
 * clock.c: the simulator's clock.
 *
 * Change Tracking retention, CDC cleanup and lsn_time_mapping all run on
 * time, and a test cannot wait three days for a retention period to
 * pass.  So every time the simulator reads (GETDATE() and friends,
 * commit times, cleanup decisions) comes from here: the real clock plus
 * an offset that only moves forward.  Tests move it with the
 * simulator-only procedure EXEC sim.advance_clock @seconds = n, or, from
 * outside, by writing a number of seconds into the file given with
 * --clock-file (read again whenever its modification time changes).
 * The two add up.  The offset is not persisted: a restarted simulator
 * starts again from the real clock plus the file's offset.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t clock_offset_us; /* from sim.advance_clock */
static int64_t clock_file_offset_us; /* from the clock file */
static char *clock_file;
static struct timespec clock_file_mtime;

static void clock_read_file(void);

/* Remember the clock file (NULL for none). */
void
clock_init(const char *path)
{
	pthread_mutex_lock(&clock_lock);
	free(clock_file);
	clock_file = path != NULL ? util_xstrdup(path) : NULL;
	memset(&clock_file_mtime, 0, sizeof(clock_file_mtime));
	clock_offset_us = 0;
	clock_file_offset_us = 0;
	clock_read_file();
	pthread_mutex_unlock(&clock_lock);
}

/* Re-read the clock file if it changed; called with the lock held. */
static void
clock_read_file(void)
{
	struct stat st;
	FILE *fp;
	double secs;

	if (clock_file == NULL || stat(clock_file, &st) == -1)
		return;
	if (st.st_mtim.tv_sec == clock_file_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == clock_file_mtime.tv_nsec)
		return;
	if ((fp = fopen(clock_file, "r")) == NULL)
		return;
	if (fscanf(fp, "%lf", &secs) == 1 && secs >= 0)
		clock_file_offset_us = (int64_t)(secs * 1e6);
	fclose(fp);
	clock_file_mtime = st.st_mtim;
}

/* Move the clock forward by a number of seconds; returns -1 if negative. */
int
clock_advance(int64_t seconds)
{
	if (seconds < 0)
		return (-1);
	pthread_mutex_lock(&clock_lock);
	clock_offset_us += seconds * 1000000;
	pthread_mutex_unlock(&clock_lock);
	return (0);
}

/* The simulator's current time. */
void
clock_now(struct timeval *tv)
{
	int64_t us;

	gettimeofday(tv, NULL);
	pthread_mutex_lock(&clock_lock);
	clock_read_file();
	us = clock_offset_us + clock_file_offset_us;
	pthread_mutex_unlock(&clock_lock);
	us += (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
	tv->tv_sec = us / 1000000;
	tv->tv_usec = us % 1000000;
}

/* The simulator's current time in seconds since the epoch. */
double
clock_now_seconds(void)
{
	struct timeval tv;

	clock_now(&tv);
	return (tv.tv_sec + tv.tv_usec / 1e6);
}
