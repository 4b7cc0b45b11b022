/*
 * daemon_dist.c - distributed (live) queries: what the daemon answers to a
 * /distributed/read reply {"queries": {ID: SQL}, "discovery": {ID: SQL}}.
 *
 * As osquery: a query whose discovery query fails or returns no row is not
 * run and not answered; every other query gets queries[ID] (its rows, [] on
 * failure), statuses[ID] (0 ok, 1 failed), messages[ID] ("" or the error)
 * and stats[ID].  Each answer is capped (MM_DIST_MAX_ROWS rows,
 * MM_DIST_MAX_BYTES bytes: over the cap it is an error, never a silent
 * truncation) and the answers are split into several write bodies when
 * together they would pass MM_DIST_MAX_BYTES, so each fits the
 * coordinator's body cap.  At most MM_DIST_MAX_QUERIES queries run per read.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "error.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t tv_ms(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000 + tv->tv_usec / 1000;
}

static json_t *new_write(void)
{
	return json_pack("{s:{}, s:{}, s:{}, s:{}}", "queries", "statuses", "messages", "stats");
}

/* Whether discovery SQL lets the query run: it must return a row. */
static int discovered(struct mm_engine *e, const char *id, const char *dsql)
{
	json_t *rows = NULL;
	char *err = NULL;
	int ok;

	if (dsql == NULL || dsql[0] == '\0')
		return 1;
	ok = mm_run_query(e, dsql, 1000, 1 << 20, &rows, &err) == 0 && json_array_size(rows) > 0;
	if (!ok)
		mm_dlog(MM_DLOG_DEBUG, "distributed query %s: discovery says skip%s%s", id,
		        err != NULL ? ": " : "", err != NULL ? err : "");
	json_decref(rows);
	free(err);
	return ok;
}

int mm_dist_answer(struct mm_engine *e, json_t *read, json_t **writes)
{
	json_t *queries = json_object_get(read, "queries");
	json_t *disc = json_object_get(read, "discovery");
	json_t *out = json_array(), *w = NULL, *sqlv;
	const char *id;
	size_t bytes = 0, n = 0;
	int r = MM_ERR_NOMEM;

	*writes = NULL;
	if (out == NULL)
		goto out;
	if (!json_is_object(queries) || json_object_size(queries) == 0) {
		*writes = out;
		return 0;
	}
	if ((w = new_write()) == NULL)
		goto out;
	json_object_foreach(queries, id, sqlv)
	{
		const char *sql = json_string_value(sqlv);
		struct rusage ru0, ru1;
		json_t *rows = NULL, *stats;
		char *err = NULL;
		int64_t t0;
		size_t sz;
		int q;

		if (++n > MM_DIST_MAX_QUERIES) {
			mm_dlog(MM_DLOG_WARN,
			        "more than %d distributed queries at once: the rest wait",
			        MM_DIST_MAX_QUERIES);
			break;
		}
		if (!discovered(e, id, json_string_value(json_object_get(disc, id))))
			continue;
		t0 = now_ms();
		getrusage(RUSAGE_SELF, &ru0);
		if (sql == NULL) {
			err = strdup("the query is not a string");
			q = MM_ERR_PARSE;
		} else {
			q = mm_run_query(e, sql, MM_DIST_MAX_ROWS, MM_DIST_MAX_BYTES, &rows, &err);
		}
		getrusage(RUSAGE_SELF, &ru1);
		if (q != 0) {
			json_decref(rows);
			rows = json_array();
		}
		sz = json_dumpb(rows, NULL, 0, JSON_COMPACT) + strlen(id) * 4 + 256 +
		     (err != NULL ? strlen(err) : 0);
		if (bytes + sz > MM_DIST_MAX_BYTES && bytes > 0) {
			/* This answer goes in the next write body. */
			if (json_array_append_new(out, w) != 0 || (w = new_write()) == NULL) {
				w = NULL;
				json_decref(rows);
				free(err);
				goto out;
			}
			bytes = 0;
		}
		bytes += sz;
		stats = json_pack(
		    "{s:I, s:I, s:I, s:I, s:i}", "wall_time_ms", (json_int_t)(now_ms() - t0),
		    "wall_time", (json_int_t)((now_ms() - t0) / 1000), "user_time",
		    (json_int_t)(tv_ms(&ru1.ru_utime) - tv_ms(&ru0.ru_utime)), "system_time",
		    (json_int_t)(tv_ms(&ru1.ru_stime) - tv_ms(&ru0.ru_stime)), "memory", 0);
		if (rows == NULL || stats == NULL ||
		    json_object_set_new(json_object_get(w, "queries"), id, rows) != 0 ||
		    json_object_set_new(json_object_get(w, "statuses"), id, json_integer(q != 0)) !=
		        0 ||
		    json_object_set_new(json_object_get(w, "messages"), id,
		                        json_string(q != 0 && err != NULL ? err : "")) != 0 ||
		    json_object_set_new(json_object_get(w, "stats"), id, stats) != 0) {
			free(err);
			goto out;
		}
		mm_dlog(q != 0 ? MM_DLOG_WARN : MM_DLOG_INFO, "distributed query %s: %s", id,
		        q != 0 ? err : "answered");
		free(err);
	}
	if (json_object_size(json_object_get(w, "statuses")) > 0) {
		if (json_array_append_new(out, w) != 0) {
			w = NULL;
			goto out;
		}
	} else {
		json_decref(w);
	}
	w = NULL;
	*writes = out;
	out = NULL;
	r = 0;
out:
	json_decref(w);
	json_decref(out);
	return r;
}
