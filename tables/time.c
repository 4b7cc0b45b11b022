/*
 * time.c - osquery's `time` table: the current time in UTC, from the clock
 * of the machine Mamori runs on (not from the root prefix: an image has no
 * clock).  All columns describe the same instant, read once per scan.
 *
 * Shapes follow osquery: weekday "Monday"; timezone always "UTC";
 * local_timezone the abbreviation of the agent's local zone ("CET"; "UTC"
 * when it has none); timestamp "Mon Jan  2 15:04:05 2006 UTC" (asctime);
 * datetime and iso_8601 "2006-01-02T15:04:05Z".
 */
#include <stdint.h>
#include <time.h>

#include "table.h"

enum { C_WEEKDAY, C_YEAR, C_MONTH, C_DAY, C_HOUR, C_MINUTES, C_SECONDS, C_TIMEZONE,
       C_LOCAL_TIMEZONE, C_UNIX_TIME, C_TIMESTAMP, C_DATETIME, C_ISO_8601 };

static const struct mm_column cols[] = {
	{ "weekday", MM_TEXT, 0, "Day of the week in UTC, e.g. 'Monday'" },
	{ "year", MM_INTEGER, 0, "Year in UTC" },
	{ "month", MM_INTEGER, 0, "Month in UTC (1-12)" },
	{ "day", MM_INTEGER, 0, "Day of the month in UTC (1-31)" },
	{ "hour", MM_INTEGER, 0, "Hour in UTC (0-23)" },
	{ "minutes", MM_INTEGER, 0, "Minutes in UTC (0-59)" },
	{ "seconds", MM_INTEGER, 0, "Seconds in UTC (0-60)" },
	{ "timezone", MM_TEXT, 0, "Time zone of the columns above: always 'UTC'" },
	{ "local_timezone", MM_TEXT, 0, "Abbreviation of the agent's local time zone" },
	{ "unix_time", MM_INTEGER, 0, "Seconds since 1970-01-01 00:00:00 UTC" },
	{ "timestamp", MM_TEXT, 0, "asctime() form, e.g. 'Mon Jan  2 15:04:05 2006 UTC'" },
	{ "datetime", MM_TEXT, 0, "ISO 8601 form, e.g. '2006-01-02T15:04:05Z'" },
	{ "iso_8601", MM_TEXT, 0, "Same as datetime" },
	{ NULL },
};

static int gen(struct mm_ctx *ctx)
{
	static const char *const days[] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
					    "Thursday", "Friday", "Saturday" };
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm u, l;
	char zone[64];
	int r;

	if (gmtime_r(&now, &u) == NULL || u.tm_wday < 0 || u.tm_wday > 6 || u.tm_mon < 0 ||
	    u.tm_mon > 11) {
		mm_error(ctx, "the clock gives no valid UTC time");
		return MM_ERR_INTERNAL;
	}
	zone[0] = '\0';
	if (localtime_r(&now, &l) != NULL)
		strftime(zone, sizeof(zone), "%Z", &l);
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	/* Names are spelled out here rather than by strftime so that a locale
	 * never changes them. */
	mm_set_text(ctx, C_WEEKDAY, days[u.tm_wday]);
	mm_set_int(ctx, C_YEAR, (int64_t)u.tm_year + 1900);
	mm_set_int(ctx, C_MONTH, u.tm_mon + 1);
	mm_set_int(ctx, C_DAY, u.tm_mday);
	mm_set_int(ctx, C_HOUR, u.tm_hour);
	mm_set_int(ctx, C_MINUTES, u.tm_min);
	mm_set_int(ctx, C_SECONDS, u.tm_sec);
	mm_set_text(ctx, C_TIMEZONE, "UTC");
	mm_set_text(ctx, C_LOCAL_TIMEZONE, zone[0] != '\0' ? zone : "UTC");
	mm_set_int(ctx, C_UNIX_TIME, (int64_t)now);
	mm_set_textf(ctx, C_TIMESTAMP, "%s %s %2d %02d:%02d:%02d %lld UTC", wd[u.tm_wday],
		     mon[u.tm_mon], u.tm_mday, u.tm_hour, u.tm_min, u.tm_sec,
		     (long long)u.tm_year + 1900);
	mm_set_textf(ctx, C_DATETIME, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
		     (long long)u.tm_year + 1900, u.tm_mon + 1, u.tm_mday, u.tm_hour, u.tm_min,
		     u.tm_sec);
	mm_set_textf(ctx, C_ISO_8601, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
		     (long long)u.tm_year + 1900, u.tm_mon + 1, u.tm_mday, u.tm_hour, u.tm_min,
		     u.tm_sec);
	return mm_row_end(ctx);
}

const struct mm_table mm_table_time = {
	.name = "time",
	.description = "The current date and time in UTC, in parts and in several formats.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT unix_time, datetime, local_timezone FROM time;",
	.notes = "Taken from the clock of the machine the agent runs on, also when --root "
		 "points at an image. One instant per scan: all columns agree.",
};
