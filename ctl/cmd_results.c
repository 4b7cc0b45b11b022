/*
 * cmd_results.c - `mamorictl results`: scheduled query results stored by the
 * coordinator (GET /api/v1/results), paged through next_after up to --limit.
 *
 * json and jsonl print the server's result objects as they are.  table and
 * csv print one line per result row: the columns host, name, action,
 * counter, unix_time, then one column per result column (in the order first
 * seen); a snapshot result gives one line per row of its snapshot.  A result
 * column whose name is one of those five is shown as "columns.NAME".
 */
/* strptime and timegm come with _GNU_SOURCE, set by the build. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "error.h"
#include "strutil.h"
#include "util.h"

#define PAGE_MAX 10000        /* the server's largest page */
#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 1000000     /* everything is held in memory to align columns */

static const char *const meta_cols[] = { "host", "name", "action", "counter", "unix_time" };
#define NMETA ((int)(sizeof(meta_cols) / sizeof(meta_cols[0])))

/* RFC 3339: 2024-05-01T12:00:00Z, with optional fraction and +hh:mm offset.
 * Returns 0 with *t set, or -1. */
static int parse_rfc3339(const char *s, int64_t *t)
{
	struct tm tm;
	const char *p;
	int sign, oh, om, n = 0;
	time_t v;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	if ((p = strptime(s, "%Y-%m-%d", &tm)) == NULL || p != s + 10)
		return -1;
	if ((p = strptime(s + 11, "%H:%M:%S", &tm)) == NULL || p != s + 19)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			n++;
		if (n == 0)
			return -1;
	}
	if ((v = timegm(&tm)) == (time_t)-1)
		return -1;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*t = (int64_t)v;
		return 0;
	}
	if ((*p != '+' && *p != '-') || strlen(p) != 6 || p[3] != ':' ||
	    sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
		return -1;
	sign = *p == '+' ? 1 : -1;
	*t = (int64_t)v - sign * (oh * 3600 + om * 60);
	return 0;
}

/* --since: unix seconds, RFC 3339, or a duration ago (90s, 30m, 2h, 7d, 1w).
 * Returns 0 with *t set, or -1. */
static int parse_since(const char *s, int64_t *t)
{
	size_t n = strlen(s);
	int64_t v, ms;

	if (n > 0 && strspn(s, "0123456789") == n)
		return mm_parse_i64(s, t) == 0 ? 0 : -1;
	if (parse_rfc3339(s, t) == 0)
		return 0;
	if (n > 1 && (s[n - 1] == 'd' || s[n - 1] == 'w')) {
		char *num = xasprintf("%.*s", (int)(n - 1), s);
		int ok = mm_parse_i64(num, &v) == 0 && v >= 0 && v <= 100000;

		free(num);
		if (!ok)
			return -1;
		*t = (int64_t)time(NULL) - v * (s[n - 1] == 'd' ? 86400 : 604800);
		return 0;
	}
	if (mm_parse_duration_ms(s, &ms) != 0)
		return -1;
	*t = (int64_t)time(NULL) - ms / 1000;
	return 0;
}

/* The grid column for a result column name. */
static int result_col(struct ctl_grid *g, const char *name)
{
	char *alias;
	int i, c;

	for (i = 0; i < NMETA; i++)
		if (strcmp(meta_cols[i], name) == 0)
			break;
	if (i == NMETA)
		return ctl_grid_col(g, name);
	alias = xasprintf("columns.%s", name);
	c = ctl_grid_col(g, alias);
	free(alias);
	return c;
}

/* Adds one grid line for result r with the row object row. */
static void add_line(struct ctl_grid *g, const json_t *r, const json_t *row, int table)
{
	const char *k;
	json_t *v;
	int i;

	ctl_grid_row(g);
	for (i = 0; i < NMETA; i++)
		ctl_grid_setj(g, i, json_object_get(r, meta_cols[i]), 0, table);
	if (!json_is_object(row))
		return;
	json_object_foreach((json_t *)row, k, v) {
		ctl_grid_setj(g, result_col(g, k), v, 0, table);
	}
}

static void print_rows(const json_t *all, enum ctl_format f)
{
	struct ctl_grid *g = ctl_grid_new();
	const json_t *r, *cols;
	size_t i, k;
	int c;

	for (c = 0; c < NMETA; c++)
		ctl_grid_add_col(g, meta_cols[c]);
	for (i = 0; i < json_array_size(all); i++) {
		r = json_array_get(all, i);
		cols = json_object_get(r, "columns");
		if (json_is_array(cols)) {
			for (k = 0; k < json_array_size(cols); k++)
				add_line(g, r, json_array_get(cols, k), f == CTL_FMT_TABLE);
		} else {
			add_line(g, r, cols, f == CTL_FMT_TABLE);
		}
	}
	ctl_grid_print(g, f, stdout);
	ctl_grid_free(g);
}

int ctl_cmd_results(struct ctl *c, int argc, char **argv)
{
	const char *pack = NULL, *query = NULL, *host = NULL, *since = NULL, *limit_s = NULL;
	const struct ctl_opt opts[] = {
		{ "--pack", &pack },   { "--query", &query }, { "--host", &host },
		{ "--since", &since }, { "--limit", &limit_s }, { NULL },
	};
	int64_t limit = LIMIT_DEFAULT, since_t = 0;
	char since_buf[32];
	json_t *all = json_array();
	struct mm_buf path;
	int npos, r = CTL_EXIT_FAIL;

	mm_buf_init(&path, 16384);
	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0) {
		r = CTL_EXIT_USAGE;
		goto out;
	}
	if (npos != 0) {
		r = ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
		goto out;
	}
	if (pack == NULL || query == NULL) {
		r = ctl_usage_error(c, "give --pack P and --query Q");
		goto out;
	}
	if (limit_s != NULL &&
	    (mm_parse_i64(limit_s, &limit) != 0 || limit < 1 || limit > LIMIT_MAX)) {
		r = ctl_usage_error(c, "--limit: expected a number from 1 to %d, not '%s'",
				    LIMIT_MAX, limit_s);
		goto out;
	}
	if (since != NULL) {
		if (parse_since(since, &since_t) != 0) {
			r = ctl_usage_error(c, "--since: expected unix seconds, RFC 3339 "
					       "(2024-05-01T12:00:00Z) or a duration (30m, 2h, 7d), "
					       "not '%s'",
					    since);
			goto out;
		}
		snprintf(since_buf, sizeof(since_buf), "%lld", (long long)(since_t < 0 ? 0 : since_t));
	}
	if (mm_buf_adds(&path, "/api/v1/results") != 0 ||
	    ctl_path_query(&path, "pack", pack) != 0 ||
	    ctl_path_query(&path, "query", query) != 0 ||
	    ctl_path_query(&path, "host", host) != 0 ||
	    ctl_path_query(&path, "since", since != NULL ? since_buf : NULL) != 0) {
		r = ctl_fail("arguments too long");
		goto out;
	}
	if ((r = ctl_get_paged(c, mm_buf_str(&path), "results", limit, PAGE_MAX, all)) != 0)
		goto out;
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL)
		ctl_print_json_array(all, c->format, stdout);
	else
		print_rows(all, c->format);
	r = CTL_EXIT_OK;
out:
	json_decref(all);
	mm_buf_free(&path);
	return r;
}
