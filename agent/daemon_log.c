/*
 * daemon_log.c - the daemon's log: one line per message on stderr, with a
 * UTC timestamp and the level, filtered by --log-level.  The daemon never
 * passes secrets here (node key, enroll secret).
 */
#include "daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"

static int log_level = MM_DLOG_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int mm_dlog_parse_level(const char *s, int *level)
{
	if (strcmp(s, "error") == 0)
		*level = MM_DLOG_ERROR;
	else if (strcmp(s, "warn") == 0 || strcmp(s, "warning") == 0)
		*level = MM_DLOG_WARN;
	else if (strcmp(s, "info") == 0)
		*level = MM_DLOG_INFO;
	else if (strcmp(s, "debug") == 0)
		*level = MM_DLOG_DEBUG;
	else
		return MM_ERR_USAGE;
	return 0;
}

void mm_dlog_set_level(int level)
{
	log_level = level;
}

int mm_dlog_enabled(int level)
{
	return level <= log_level;
}

void mm_dlog(int level, const char *fmt, ...)
{
	char ts[32], msg[2048];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (!mm_dlog_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent writers to the same stderr do not
	 * interleave within a line. */
	fprintf(stderr, "%s.%03ldZ mamori: %s: %s\n", ts, (long)(now.tv_nsec / 1000000),
	        level_names[level < 0               ? 0
	                    : level > MM_DLOG_DEBUG ? MM_DLOG_DEBUG
	                                            : level],
	        msg);
}
