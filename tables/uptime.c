/*
 * uptime.c - osquery's `uptime` table: time since boot, from the first number
 * of /proc/uptime under the root prefix ("1717.75 2694.47": seconds up,
 * seconds idle summed over CPUs), split into days, hours, minutes and
 * seconds.  Fractions of a second are dropped, as osquery does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "table.h"

enum { C_DAYS, C_HOURS, C_MINUTES, C_SECONDS, C_TOTAL_SECONDS };

static const struct mm_column cols[] = {
	{ "days", MM_INTEGER, 0, "Whole days since boot" },
	{ "hours", MM_INTEGER, 0, "Hours past the whole days (0-23)" },
	{ "minutes", MM_INTEGER, 0, "Minutes past the whole hours (0-59)" },
	{ "seconds", MM_INTEGER, 0, "Seconds past the whole minutes (0-59)" },
	{ "total_seconds", MM_BIGINT, 0, "Seconds since boot" },
	{ NULL },
};

/* Parses "1717.75" (digits, optionally a dot and more digits) into its
 * whole seconds.  Returns 0 or -1. */
static int whole_seconds(char *s, int64_t *t)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0)
		return -1;
	if (s[n] == '.' && strspn(s + n + 1, "0123456789") == strlen(s + n + 1))
		s[n] = '\0';
	return mm_parse_i64(s, t) == 0 ? 0 : -1;
}

static int gen(struct mm_ctx *ctx)
{
	char *data = NULL, *f[2];
	size_t len;
	int64_t t;
	int r;

	r = mm_read(ctx, "/proc/uptime", 4096, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "/proc/uptime: %s", mm_strerror(r));
		return 0;
	}
	if (mm_split_ws(data, " \t\r\n", f, 2) < 1 || whole_seconds(f[0], &t) != 0) {
		mm_warn(ctx, "/proc/uptime:1: expected seconds since boot");
		r = 0;
		goto out;
	}
	if ((r = mm_row_begin(ctx)) != 0)
		goto out;
	mm_set_int(ctx, C_DAYS, t / 86400);
	mm_set_int(ctx, C_HOURS, t % 86400 / 3600);
	mm_set_int(ctx, C_MINUTES, t % 3600 / 60);
	mm_set_int(ctx, C_SECONDS, t % 60);
	mm_set_int(ctx, C_TOTAL_SECONDS, t);
	r = mm_row_end(ctx);
out:
	free(data);
	return r;
}

const struct mm_table mm_table_uptime = {
	.name = "uptime",
	.description = "Time since the system booted, in days, hours, minutes and seconds and as "
		       "a total.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT days, hours, total_seconds FROM uptime;",
	.notes = "Read from /proc/uptime under the root prefix (on an image, whatever the "
		 "file there says); fractions of a second are dropped.",
};
