/*
 * daemon_diff.c - what a scheduled query run becomes: its result set, the
 * differential against the last run (osquery's algorithm), the event,
 * snapshot and status lines in osquery's log format, and the bounded queue.
 *
 * Differential (as osquery's Query::addNewResults):
 *
 *   last state                      this run
 *   ------------------------------  -------------------------------------------
 *   none (new query)                epoch 0, counter 0, every row "added"
 *   query text changed, or results  epoch + 1, counter 0, every row "added"
 *   forgotten (unscheduled)
 *   same query                      "removed" then "added" lines of the multiset
 *                                   difference; counter + 1 when any line,
 *                                   unchanged (and nothing queued) otherwise
 *   snapshot query                  one "snapshot" line with every row, counter 0
 *
 * `removed: false` drops the removed lines but the state still moves on.
 */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "engine.h"
#include "error.h"

/* ---- result sets ----------------------------------------------------------- */

/* Returns s as a JSON string; bytes that are not valid UTF-8 become U+FFFD
 * (the coordinator must receive valid JSON). */
static json_t *json_text(const char *s, size_t n)
{
	struct mm_buf b;
	json_t *j;
	size_t i = 0;

	if ((j = json_stringn(s, n)) != NULL)
		return j;
	mm_buf_init(&b, n * 3 + 16);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80           ? 1
		             : (c >> 5) == 0x6  ? 2
		             : (c >> 4) == 0xe  ? 3
		             : (c >> 3) == 0x1e ? 4
		                                : 0;
		json_t *t = NULL;

		if (len > 0 && i + len <= n && c != 0 && (t = json_stringn(s + i, len)) != NULL) {
			mm_buf_add(&b, s + i, len);
			json_decref(t);
			i += len;
		} else if (c == 0) {
			mm_buf_adds(&b, "\\u0000"); /* kept visible, never a NUL */
			i++;
		} else {
			mm_buf_adds(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	j = json_stringn(mm_buf_str(&b), b.len);
	mm_buf_free(&b);
	return j;
}

int mm_rows_from_stmt(struct mm_engine *e, void *stmt, size_t max_rows, size_t max_bytes,
                      json_t **rows, char **err)
{
	sqlite3_stmt *st = stmt;
	json_t *arr = json_array(), *row = NULL;
	int ncols = sqlite3_column_count(st), i, rc, r = MM_ERR_NOMEM;
	size_t bytes = 0, n = 0;

	*rows = NULL;
	*err = NULL;
	if (arr == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (++n > max_rows) {
			char m[96];
			snprintf(m, sizeof(m), "more than %zu rows", max_rows);
			*err = strdup(m);
			r = MM_ERR_LIMIT;
			goto out;
		}
		if ((row = json_object()) == NULL)
			goto out;
		for (i = 0; i < ncols; i++) {
			const char *name = sqlite3_column_name(st, i);
			const char *v = "";
			size_t vlen = 0;
			json_t *jv;

			if (sqlite3_column_type(st, i) != SQLITE_NULL) {
				v = (const char *)sqlite3_column_text(st, i);
				vlen = (size_t)sqlite3_column_bytes(st, i);
				if (v == NULL) {
					v = "";
					vlen = 0;
				}
			}
			if (name == NULL)
				name = "";
			bytes += strlen(name) + vlen + 8;
			if ((jv = json_text(v, vlen)) == NULL)
				goto out;
			if (json_object_set_new(row, name, jv) != 0) {
				/* A column name that is not UTF-8: name it by position. */
				char alt[32];
				snprintf(alt, sizeof(alt), "column%d", i + 1);
				if (json_object_set_new(row, alt, jv) != 0)
					goto out;
			}
		}
		if (bytes > max_bytes) {
			char m[96];
			snprintf(m, sizeof(m), "results larger than %zu bytes", max_bytes);
			*err = strdup(m);
			r = MM_ERR_LIMIT;
			goto out;
		}
		if (json_array_append_new(arr, row) != 0) {
			row = NULL;
			goto out;
		}
		row = NULL;
	}
	if (rc != SQLITE_DONE) {
		char *m = mm_engine_errmsg(e);
		*err = strdup(m != NULL ? m : "query failed");
		sqlite3_free(m);
		r = mm_engine_errcode(e);
		goto out;
	}
	*rows = arr;
	arr = NULL;
	r = 0;
out:
	json_decref(row);
	json_decref(arr);
	if (r == MM_ERR_NOMEM && *err == NULL)
		*err = strdup("out of memory");
	return r;
}

int mm_run_query(struct mm_engine *e, const char *sql, size_t max_rows, size_t max_bytes,
                 json_t **rows, char **err)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	char *serr = NULL;
	int r;

	*rows = NULL;
	*err = NULL;
	if ((r = mm_engine_prepare(e, sql, &st, &tail, &serr)) != 0) {
		*err = strdup(serr != NULL ? serr : "cannot prepare the query");
		sqlite3_free(serr);
		return r;
	}
	if (st == NULL) {
		*err = strdup("empty query");
		return MM_ERR_SQL;
	}
	while (tail != NULL &&
	       (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r' || *tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0') {
		sqlite3_finalize(st);
		*err = strdup("more than one statement");
		return MM_ERR_SQL;
	}
	r = mm_rows_from_stmt(e, st, max_rows, max_bytes, rows, err);
	sqlite3_finalize(st);
	return r;
}

/* ---- the differential ------------------------------------------------------ */

struct keyed {
	char *key;  /* canonical row: compact JSON with sorted keys */
	size_t idx; /* position in its result set */
	int matched;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static struct keyed *keyed_new(json_t *rows, size_t *n)
{
	struct keyed *k;
	size_t i;

	*n = rows != NULL ? json_array_size(rows) : 0;
	if ((k = calloc(*n + 1, sizeof(*k))) == NULL)
		return NULL;
	for (i = 0; i < *n; i++) {
		k[i].idx = i;
		k[i].key = json_dumps(json_array_get(rows, i),
		                      JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		if (k[i].key == NULL) {
			while (i-- > 0)
				free(k[i].key);
			free(k);
			return NULL;
		}
	}
	qsort(k, *n, sizeof(*k), keyed_cmp);
	return k;
}

static void keyed_free(struct keyed *k, size_t n)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

/* Appends, in original order, the rows whose keyed entry is unmatched. */
static int unmatched(json_t *rows, struct keyed *k, size_t n, json_t *out)
{
	char *flag = calloc(n + 1, 1);
	size_t i;
	int r = 0;

	if (flag == NULL)
		return MM_ERR_NOMEM;
	for (i = 0; i < n; i++)
		if (!k[i].matched)
			flag[k[i].idx] = 1;
	for (i = 0; i < n && r == 0; i++)
		if (flag[i] && json_array_append(out, json_array_get(rows, i)) != 0)
			r = MM_ERR_NOMEM;
	free(flag);
	return r;
}

int mm_diff_rows(json_t *old, json_t *cur, json_t **added, json_t **removed)
{
	struct keyed *ko = NULL, *kc = NULL;
	size_t no = 0, nc = 0, i = 0, j = 0;
	json_t *a = json_array(), *rm = json_array();
	int r = MM_ERR_NOMEM;

	*added = *removed = NULL;
	if (a == NULL || rm == NULL || (ko = keyed_new(old, &no)) == NULL ||
	    (kc = keyed_new(cur, &nc)) == NULL)
		goto out;
	/* Merge the two sorted lists: equal keys pair up one to one (the k-th
	 * copy now with the k-th copy before), which is multiset difference. */
	while (i < no && j < nc) {
		int c = strcmp(ko[i].key, kc[j].key);
		if (c == 0) {
			ko[i++].matched = 1;
			kc[j++].matched = 1;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	if ((r = unmatched(cur, kc, nc, a)) != 0 || (r = unmatched(old, ko, no, rm)) != 0)
		goto out;
	*added = a;
	*removed = rm;
	a = rm = NULL;
	r = 0;
out:
	keyed_free(ko, no);
	keyed_free(kc, nc);
	json_decref(a);
	json_decref(rm);
	return r;
}

/* ---- lines ------------------------------------------------------------------ */

void mm_calendar_time(int64_t unix_time, char *out, size_t outsz)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)unix_time;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11) {
		snprintf(out, outsz, "Thu Jan  1 00:00:00 1970 UTC");
		return;
	}
	/* asctime's layout (day of month padded with a space), as osquery. */
	snprintf(out, outsz, "%s %s %2d %02d:%02d:%02d %d UTC", days[tm.tm_wday], months[tm.tm_mon],
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

/* The fields every result line starts with, in osquery's order. */
static json_t *line_head(const struct mm_line_meta *m)
{
	json_t *o = json_object();
	char cal[64];

	if (o == NULL)
		return NULL;
	mm_calendar_time(m->unix_time, cal, sizeof(cal));
	if (json_object_set_new(o, "name", json_text(m->name, strlen(m->name))) != 0 ||
	    json_object_set_new(o, "hostIdentifier",
	                        json_text(m->host_identifier, strlen(m->host_identifier))) != 0 ||
	    json_object_set_new(o, "calendarTime", json_string(cal)) != 0 ||
	    json_object_set_new(o, "unixTime", json_integer(m->unix_time)) != 0 ||
	    json_object_set_new(o, "epoch", json_integer(m->epoch)) != 0 ||
	    json_object_set_new(o, "counter", json_integer(m->counter)) != 0 ||
	    json_object_set_new(o, "numerics", json_false()) != 0 ||
	    json_object_set_new(o, "decorations",
	                        m->decorations != NULL ? json_deep_copy(m->decorations)
	                                               : json_object()) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static char *dump(json_t *o)
{
	char *s = NULL;

	if (o != NULL)
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

char *mm_event_line(const struct mm_line_meta *m, json_t *row, const char *action)
{
	json_t *o = line_head(m);

	if (o == NULL || json_object_set(o, "columns", row) != 0 ||
	    json_object_set_new(o, "action", json_string(action)) != 0) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

char *mm_snapshot_line(const struct mm_line_meta *m, json_t *rows)
{
	json_t *o = line_head(m);

	if (o == NULL || json_object_set(o, "snapshot", rows) != 0 ||
	    json_object_set_new(o, "action", json_string("snapshot")) != 0) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

char *mm_status_line(const char *host_identifier, int64_t unix_time, int severity,
                     const char *filename, int line, const char *message)
{
	json_t *o = json_object();
	char cal[64], num[32], sev[16], ln[16];

	if (o == NULL)
		return NULL;
	mm_calendar_time(unix_time, cal, sizeof(cal));
	snprintf(num, sizeof(num), "%lld", (long long)unix_time);
	snprintf(sev, sizeof(sev), "%d", severity);
	snprintf(ln, sizeof(ln), "%d", line);
	/* Values are strings, as osquery's TLS logger sends them (and as
	 * Fleet's decoder expects). */
	if (json_object_set_new(o, "hostIdentifier",
	                        json_text(host_identifier, strlen(host_identifier))) != 0 ||
	    json_object_set_new(o, "calendarTime", json_string(cal)) != 0 ||
	    json_object_set_new(o, "unixTime", json_string(num)) != 0 ||
	    json_object_set_new(o, "severity", json_string(sev)) != 0 ||
	    json_object_set_new(o, "filename", json_text(filename, strlen(filename))) != 0 ||
	    json_object_set_new(o, "line", json_string(ln)) != 0 ||
	    json_object_set_new(o, "message", json_text(message, strlen(message))) != 0 ||
	    json_object_set_new(o, "version", json_string(MM_VERSION)) != 0 ||
	    json_object_set_new(o, "decorations", json_object()) != 0) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

/* ---- the queue -------------------------------------------------------------- */

/* Room kept for the queue-full report line itself. */
#define REPORT_RESERVE_BYTES 1024

int mm_queue_push(struct mm_state *st, const char *host_identifier, int64_t now, int type,
                  char **lines, size_t nlines, char **err)
{
	int64_t dres = 0, dstat = 0, carried = 0;
	char msg[160], *report = NULL;
	size_t i;
	int r = 0;

	for (i = 0; i < nlines; i++) {
		size_t len = strlen(lines[i]);
		if (len > MM_LOG_BATCH_BYTES) {
			/* Can never be sent (over a batch): dropped and reported. */
			if (type == MM_LINE_RESULT)
				dres++;
			else
				dstat++;
			mm_dlog(MM_DLOG_WARN, "dropping a %s line of %zu bytes (more than %d)",
			        type == MM_LINE_RESULT ? "result" : "status", len,
			        MM_LOG_BATCH_BYTES);
			continue;
		}
		if ((r = mm_state_enqueue(st, type, lines[i], len, 0, err)) != 0)
			return r;
	}
	if (dres == 0 && dstat == 0 && !mm_state_over_bounds(st))
		return 0;
	if (mm_state_over_bounds(st) &&
	    (r = mm_state_trim(st, 1, REPORT_RESERVE_BYTES, &dres, &dstat, &carried, err)) != 0)
		return r;
	if (dstat > 0)
		snprintf(msg, sizeof(msg),
		         "dropped %lld result lines and %lld status lines: queue full",
		         (long long)(dres + carried), (long long)dstat);
	else
		snprintf(msg, sizeof(msg), "dropped %lld result lines: queue full",
		         (long long)(dres + carried));
	mm_dlog(MM_DLOG_WARN, "%s", msg);
	if ((report = mm_status_line(host_identifier, now, 1, "daemon_diff.c", __LINE__, msg)) ==
	    NULL)
		return MM_ERR_NOMEM;
	r = mm_state_enqueue(st, MM_LINE_STATUS, report, strlen(report), dres + carried, err);
	free(report);
	return r;
}

int mm_queue_status(struct mm_state *st, const char *host_identifier, int severity,
                    const char *filename, int line, const char *message)
{
	char *l =
	    mm_status_line(host_identifier, (int64_t)time(NULL), severity, filename, line, message);
	char *err = NULL;
	int r = MM_ERR_NOMEM;

	if (l == NULL)
		goto out;
	if ((r = mm_state_begin(st, &err)) != 0)
		goto out;
	if ((r = mm_queue_push(st, host_identifier, (int64_t)time(NULL), MM_LINE_STATUS, &l, 1,
	                       &err)) != 0) {
		mm_state_rollback(st);
		goto out;
	}
	r = mm_state_commit(st, &err);
out:
	if (r != 0)
		mm_dlog(MM_DLOG_ERROR, "cannot queue a status line: %s",
		        err != NULL ? err : mm_strerror(r));
	free(err);
	free(l);
	return r;
}

/* ---- one scheduled run ------------------------------------------------------ */

static void free_lines(char **lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* Turns each row into an event line with the given action, appending to
 * lines[*n..]. */
static int event_lines(const struct mm_line_meta *m, json_t *rows, const char *action, char **lines,
                       size_t *n)
{
	size_t i;

	for (i = 0; i < json_array_size(rows); i++) {
		if ((lines[*n] = mm_event_line(m, json_array_get(rows, i), action)) == NULL)
			return MM_ERR_NOMEM;
		(*n)++;
	}
	return 0;
}

int mm_record_results(struct mm_state *st, const struct mm_record_opts *o, json_t *rows,
                      size_t *nlines, char **err)
{
	struct mm_query_state qs = {0};
	json_t *added = NULL, *removed = NULL;
	struct mm_line_meta m = {0};
	char **lines = NULL;
	size_t n = 0, cap;
	int r, fresh;

	*err = NULL;
	if (nlines != NULL)
		*nlines = 0;
	if ((r = mm_state_begin(st, err)) != 0)
		return r;
	if ((r = mm_state_query_get(st, o->name, &qs, err)) != 0)
		goto out;
	/* A new epoch when the query is new, its text changed, or (for a
	 * differential query) its last results are gone: forgotten while it was
	 * not scheduled, or it was a snapshot query until now. */
	fresh =
	    !qs.exists || strcmp(qs.query, o->query) != 0 || (!o->snapshot && qs.results == NULL);
	if (fresh && qs.exists)
		qs.epoch++;
	else if (!qs.exists)
		qs.epoch = 0;
	m.name = o->name;
	m.host_identifier = o->host_identifier;
	m.unix_time = o->unix_time;
	m.epoch = qs.epoch;
	m.decorations = o->decorations;
	if (o->snapshot) {
		m.counter = 0;
		if ((lines = calloc(1, sizeof(char *))) == NULL ||
		    (lines[0] = mm_snapshot_line(&m, rows)) == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		n = 1;
		qs.counter = 0;
		json_decref(qs.results);
		qs.results = NULL; /* snapshots keep no differential state */
	} else {
		if (fresh) {
			added = json_incref(rows);
			removed = json_array();
			qs.counter = 0;
		} else {
			if ((r = mm_diff_rows(qs.results, rows, &added, &removed)) != 0)
				goto out;
			if (json_array_size(added) > 0 || json_array_size(removed) > 0)
				qs.counter++;
		}
		if (added == NULL || removed == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		if (!o->removed)
			json_array_clear(removed);
		m.counter = qs.counter;
		cap = json_array_size(added) + json_array_size(removed) + 1;
		if ((lines = calloc(cap, sizeof(char *))) == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		/* osquery serializes "removed" before "added". */
		if ((r = event_lines(&m, removed, "removed", lines, &n)) != 0 ||
		    (r = event_lines(&m, added, "added", lines, &n)) != 0)
			goto out;
		json_decref(qs.results);
		qs.results = json_incref(rows);
	}
	free(qs.query);
	if ((qs.query = strdup(o->query)) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	qs.last_run = o->unix_time;
	if ((r = mm_state_query_put(st, o->name, &qs, err)) != 0)
		goto out;
	if (n > 0 && (r = mm_queue_push(st, o->host_identifier, o->unix_time, MM_LINE_RESULT, lines,
	                                n, err)) != 0)
		goto out;
	if ((r = mm_state_commit(st, err)) != 0)
		goto out;
	if (nlines != NULL)
		*nlines = n;
out:
	if (r != 0) {
		mm_state_rollback(st);
		if (*err == NULL)
			*err = strdup(mm_strerror(r));
	}
	free_lines(lines, n);
	json_decref(added);
	json_decref(removed);
	mm_query_state_clear(&qs);
	return r;
}
