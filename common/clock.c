/*
 * The two clocks every process reads: a monotonic one in milliseconds
 * for timeouts, backoff and ages, and the wall clock as RFC 3339 UTC
 * with milliseconds for what is written down (event ts, _applied_at).
 */

#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common.h"

/* CLOCK_MONOTONIC in milliseconds. */
int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The wall clock now, "YYYY-MM-DDTHH:MM:SS.mmmZ" (CLOCK_RFC3339_MAX). */
void
clock_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char date[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}
