/*
 * cmd_query.c - `mamorictl query [--hosts H,...] [--labels L,...] [--all]
 * [--timeout D] SQL`: a live query on the fleet (docs/live-queries.md).
 *
 * POST /api/v1/queries/run starts it; GET /api/v1/queries/ID/stream is
 * then read as Server-Sent Events (sse.h) from libcurl's write callback: each
 * `result` event's rows are printed as they arrive, each `error` event is
 * reported on stderr, `done` ends the run.  If the stream drops before
 * `done`, it is opened again with Last-Event-ID (the last event handled),
 * so no row is lost or printed twice.  While stderr is a terminal a
 * progress line is kept up to date there; a summary always ends the run.
 *
 * Exit status: 0 when every online target answered without error, 1 when
 * a host failed or timed out, or the run could not be started or followed,
 * 2 for usage errors.  Offline hosts do not make the run fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ctl.h"
#include "error.h"
#include "sse.h"
#include "strutil.h"
#include "util.h"

#define TARGET_ARGS_MAX    64
#define DEFAULT_TIMEOUT_MS 30000
#define GRACE_MS           15000 /* past the query's timeout: the server's own end */
#define RECONNECTS_MAX     30
#define RECONNECT_PAUSE_MS 500
#define STALL_S            45 /* no byte for this long (3 heartbeats): reconnect */
#define STREAM_BUF_MAX     (512u << 20)
#define CELL_MAX           80 /* table: characters shown of a cell but the last */
#define CELL_BYTES_MAX     (64u << 20)
#define REDRAW_MS          200

struct qrun {
	struct ctl *c;
	int64_t id;
	int64_t t0, deadline; /* monotonic ms */
	/* the stream being parsed */
	CURL *curl;
	long status;        /* HTTP status of this connection (0 until known) */
	struct ctl_sse sse; /* the event stream reader (sse.h) */
	struct mm_buf err;  /* the body of an error answer */
	int64_t last_id;    /* the last event handled */
	int events_here;    /* events handled on this connection */
	int drop_after;     /* MAMORICTL_STREAM_DROP_AFTER (tests), 0 = never */
	int done;
	/* output */
	char **cols; /* table, csv: "host" and the first rows' columns */
	char **keys; /* the row key of each column (cols[0]: none) */
	size_t ncols;
	size_t *width;
	int json_rows; /* json: rows printed so far */
	/* progress */
	int64_t targeted, online, offline, answered, ok, errors, timed_out, remaining, rows;
	json_t *offline_hosts;
	int tty, shown; /* stderr is a terminal; a progress line is on it */
	int64_t last_draw;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- progress line ------------------------------------------------------------- */

static void progress_clear(struct qrun *q)
{
	if (q->shown) {
		fputs("\r\033[K", stderr);
		q->shown = 0;
	}
}

static void progress_draw(struct qrun *q)
{
	if (!q->tty || q->done)
		return;
	q->last_draw = mono_ms();
	fprintf(stderr,
	        "\r\033[Klive query %lld: answered %lld/%lld, errors %lld, offline %lld,"
	        " remaining %lld, %.1fs",
	        (long long)q->id, (long long)q->answered, (long long)q->online,
	        (long long)(q->errors + q->timed_out), (long long)q->offline,
	        (long long)q->remaining, (double)(mono_ms() - q->t0) / 1000.0);
	fflush(stderr);
	q->shown = 1;
}

/* ---- rows ------------------------------------------------------------------------- */

/* A value as text for table and csv: strings as they are, null as NULL
 * (shown "-" in a table), other JSON compact. */
static char *value_text(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return ctl_json_text(v, 0, 0);
}

static size_t width_of(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* s escaped for a terminal (control characters as \n, \t, \xHH), null "-",
 * cut to max characters (0 = no cut). */
static char *cell(const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	struct mm_buf b;
	size_t w = 0, cut = 0;
	const unsigned char *p;
	int r = 0;

	if (s == NULL)
		return xstrdup("-");
	if (max > 0 && width_of(s) > max)
		cut = max; /* max - 1 characters and an ellipsis */
	mm_buf_init(&b, CELL_BYTES_MAX);
	for (p = (const unsigned char *)s; r == 0 && *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80 && cut > 0 && ++w == cut) {
			r = mm_buf_adds(&b, "\u2026");
			break;
		}
		if (*p == '\n')
			r = mm_buf_adds(&b, "\\n");
		else if (*p == '\t')
			r = mm_buf_adds(&b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			r = mm_buf_addf(&b, "\\x%c%c", hex[*p >> 4], hex[*p & 15]);
		else
			r = mm_buf_addc(&b, (char)*p);
	}
	if (r != 0) {
		mm_buf_free(&b);
		return xstrdup("(too large to show)");
	}
	return b.data != NULL ? mm_buf_take(&b) : xstrdup("");
}

static void csv_field(const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* Table and csv take their columns from the first rows that arrive: host,
 * then the row's keys (a key named host shows as columns.host). */
static void set_columns(struct qrun *q, const json_t *row)
{
	const char *k;
	json_t *v;
	size_t i = 1;

	q->ncols = json_object_size(row) + 1;
	q->cols = xcalloc(q->ncols, sizeof(char *));
	q->keys = xcalloc(q->ncols, sizeof(char *));
	q->width = xcalloc(q->ncols, sizeof(size_t));
	q->cols[0] = xstrdup("host");
	json_object_foreach((json_t *)row, k, v)
	{
		q->keys[i] = xstrdup(k);
		q->cols[i] = strcmp(k, "host") == 0 ? xstrdup("columns.host") : xstrdup(k);
		i++;
	}
}

/* Prints the rows of one host in the table or csv format. */
static void print_grid_rows(struct qrun *q, const char *host, const json_t *rows)
{
	size_t i, k, n = json_array_size(rows);
	char ***cells;

	if (n == 0)
		return;
	if (q->cols == NULL) {
		set_columns(q, json_array_get(rows, 0));
		if (q->c->format == CTL_FMT_CSV) {
			for (k = 0; k < q->ncols; k++) {
				if (k > 0)
					putchar(',');
				csv_field(q->cols[k]);
			}
			putchar('\n');
		}
	}
	cells = xcalloc(n, sizeof(char **));
	for (i = 0; i < n; i++) {
		const json_t *row = json_array_get(rows, i);

		cells[i] = xcalloc(q->ncols, sizeof(char *));
		cells[i][0] = xstrdup(host);
		for (k = 1; k < q->ncols; k++)
			cells[i][k] = value_text(json_object_get(row, q->keys[k]));
	}
	if (q->c->format == CTL_FMT_CSV) {
		for (i = 0; i < n; i++) {
			for (k = 0; k < q->ncols; k++) {
				if (k > 0)
					putchar(',');
				csv_field(cells[i][k]);
			}
			putchar('\n');
		}
	} else {
		int header = q->width[0] == 0;

		for (i = 0; i < n; i++)
			for (k = 0; k < q->ncols; k++) {
				char *t = cell(cells[i][k], k + 1 < q->ncols ? CELL_MAX : 0);

				free(cells[i][k]);
				cells[i][k] = t;
			}
		/* Rows are printed as they arrive, so the columns cannot be
		 * aligned for rows not seen yet: the widths grow with each host's
		 * rows (the header takes the first host's), and a cell is always
		 * followed by two spaces at least. */
		for (k = 0; k < q->ncols; k++) {
			if (header)
				q->width[k] = width_of(q->cols[k]);
			for (i = 0; i < n; i++)
				if (width_of(cells[i][k]) > q->width[k])
					q->width[k] = width_of(cells[i][k]);
		}
		for (i = header ? (size_t)-1 : 0; i == (size_t)-1 || i < n; i++) {
			for (k = 0; k < q->ncols; k++) {
				const char *t = i == (size_t)-1 ? q->cols[k] : cells[i][k];
				size_t pad = width_of(t),
				       to = q->width[k] > pad ? q->width[k] : pad;

				fputs(t, stdout);
				if (k + 1 < q->ncols)
					for (; pad < to + 2; pad++)
						putchar(' ');
			}
			putchar('\n');
		}
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < q->ncols; k++)
			free(cells[i][k]);
		free(cells[i]);
	}
	free(cells);
}

static void print_rows(struct qrun *q, const char *host, const json_t *rows)
{
	size_t i;
	json_t *o, *row;
	char *t;

	switch (q->c->format) {
	case CTL_FMT_JSONL:
		/* One object per host, as Fleet's CLI prints. */
		o = json_pack("{s:s, s:O}", "host", host, "rows", rows);
		if (o != NULL && (t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
			puts(t);
			free(t);
		}
		json_decref(o);
		break;
	case CTL_FMT_JSON:
		json_array_foreach(rows, i, row)
		{
			const char *k;
			json_t *v;

			o = json_pack("{s:s}", "host", host);
			json_object_foreach(row, k, v)
			    json_object_set(o, strcmp(k, "host") == 0 ? "columns.host" : k, v);
			if ((t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
				printf("%s  %s", q->json_rows++ == 0 ? "[\n" : ",\n", t);
				free(t);
			}
			json_decref(o);
		}
		break;
	default: print_grid_rows(q, host, rows); break;
	}
	fflush(stdout);
}

/* ---- events ---------------------------------------------------------------------- */

static void take_progress(struct qrun *q, const json_t *p)
{
	if (!json_is_object(p))
		return;
	q->targeted = json_integer_value(json_object_get(p, "targeted"));
	q->online = json_integer_value(json_object_get(p, "online"));
	q->offline = json_integer_value(json_object_get(p, "offline"));
	q->answered = json_integer_value(json_object_get(p, "answered"));
	q->ok = json_integer_value(json_object_get(p, "ok"));
	q->errors = json_integer_value(json_object_get(p, "errors"));
	q->timed_out = json_integer_value(json_object_get(p, "timed_out"));
	q->remaining = json_integer_value(json_object_get(p, "remaining"));
	q->rows = json_integer_value(json_object_get(p, "rows"));
}

/* Handles one complete event.  Returns 0, or MM_ERR_PARSE when the data is
 * not the JSON object expected (the stream is then opened again). */
static int handle_event(struct qrun *q, const struct ctl_sse_event *ev)
{
	json_t *d = json_loadb(ev->data, ev->len, 0, NULL);
	const char *host;

	if (!json_is_object(d)) {
		json_decref(d);
		return MM_ERR_PARSE;
	}
	if (ev->id > 0)
		q->last_id = ev->id;
	take_progress(q, json_object_get(d, "progress"));
	host = json_string_value(json_object_get(d, "host"));
	progress_clear(q);
	if (strcmp(ev->name, "progress") == 0 && q->offline_hosts == NULL) {
		q->offline_hosts = json_incref(json_object_get(d, "offline_hosts"));
	} else if (strcmp(ev->name, "result") == 0) {
		print_rows(q, host != NULL ? host : "?", json_object_get(d, "rows"));
		if (json_is_true(json_object_get(d, "truncated")))
			fprintf(stderr, "mamorictl: %s: only part of its %lld rows were kept\n",
			        host != NULL ? host : "?",
			        (long long)json_integer_value(json_object_get(d, "row_count")));
	} else if (strcmp(ev->name, "error") == 0) {
		const char *st = json_string_value(json_object_get(d, "status"));

		fprintf(stderr, "mamorictl: %s: %s: %s\n", host != NULL ? host : "?",
		        st != NULL && strcmp(st, "timeout") == 0 ? "timed out" : "error",
		        json_string_value(json_object_get(d, "error")) != NULL
		            ? json_string_value(json_object_get(d, "error"))
		            : "unknown error");
	} else if (strcmp(ev->name, "done") == 0) {
		q->done = 1;
	}
	progress_draw(q);
	json_decref(d);
	return 0;
}

/* The SSE reader's callback (sse.h): handles one event.  Returns 0,
 * CTL_SSE_STOP after `done`, or a negative code to stop this connection (a
 * malformed event, the test knob). */
static int on_event(void *arg, const struct ctl_sse_event *ev)
{
	struct qrun *q = arg;
	int r = handle_event(q, ev);

	q->events_here++;
	if (r == 0 && q->drop_after > 0 && q->events_here >= q->drop_after && !q->done)
		r = MM_ERR_LIMIT;
	if (r == 0 && q->done)
		r = CTL_SSE_STOP;
	return r;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct qrun *q = arg;

	if (q->status == 0)
		curl_easy_getinfo(q->curl, CURLINFO_RESPONSE_CODE, &q->status);
	if (q->status != 200)
		return mm_buf_add(&q->err, p, size * n) == 0 ? size * n : 0;
	if (ctl_sse_feed(&q->sse, p, size * n, on_event, q) != 0)
		return 0; /* stops this connection: reopened after the last event */
	return size * n;
}

static int on_progress(void *arg, curl_off_t dlt, curl_off_t dl, curl_off_t ult, curl_off_t ul)
{
	struct qrun *q = arg;

	(void)dlt;
	(void)dl;
	(void)ult;
	(void)ul;
	if (q->tty && !q->done && mono_ms() - q->last_draw >= REDRAW_MS) {
		progress_clear(q);
		progress_draw(q);
	}
	return 0;
}

/* Reads the stream once, from q->last_id.  Returns 0 when it got an answer
 * (q->status says which; the stream may have ended early), or MM_ERR_IO
 * with *err. */
static int stream_once(struct qrun *q, CURL *h, const char *url, char **err)
{
	struct ctl *c = q->c;
	struct curl_slist *hdrs = NULL, *t;
	char last[64];
	CURLcode rc, e = CURLE_OK;
	int64_t left = q->deadline - mono_ms();

	*err = NULL;
	if (left <= 0) {
		*err = xstrdup("the live query did not end in time");
		return MM_ERR_IO;
	}
	q->status = 0;
	q->events_here = 0;
	ctl_sse_reset(&q->sse);
	mm_buf_reset(&q->err);
	hdrs = curl_slist_append(NULL, "Accept: text/event-stream");
	snprintf(last, sizeof(last), "Last-Event-ID: %lld", (long long)q->last_id);
	if (hdrs != NULL && q->last_id > 0 && (t = curl_slist_append(hdrs, last)) != NULL)
		hdrs = t;
	curl_easy_reset(h);
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (e == CURLE_OK)                                                                 \
			e = curl_easy_setopt(h, opt, val);                                         \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->set.ca != NULL) {
		SET(CURLOPT_CAINFO, c->set.ca);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	SET(CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	SET(CURLOPT_TIMEOUT_MS, (long)left);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, (long)STALL_S);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, q);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, q);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_USERAGENT, "mamorictl/" MM_VERSION);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (c->set.token != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		SET(CURLOPT_XOAUTH2_BEARER, c->set.token);
	}
#undef SET
	if (e != CURLE_OK) {
		curl_slist_free_all(hdrs);
		*err = xasprintf("libcurl: %s", curl_easy_strerror(e));
		return MM_ERR_IO;
	}
	q->curl = h;
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
	if (q->status == 0) {
		*err = xasprintf("the stream from %s failed: %s", c->set.server,
		                 curl_easy_strerror(rc));
		return MM_ERR_IO;
	}
	return 0;
}

/* ---- the verb ----------------------------------------------------------------------- */

/* Appends the comma-separated names of each argument to arr. */
static void add_names(json_t *arr, const char **args, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char *copy = xstrdup(args[i]), *p = copy, *comma;

		for (;;) {
			comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			if (*mm_trim(p) != '\0')
				json_array_append_new(arr, json_string(mm_trim(p)));
			if (comma == NULL)
				break;
			p = comma + 1;
		}
		free(copy);
	}
}

static void summary(struct qrun *q)
{
	size_t i, n = json_array_size(q->offline_hosts);

	progress_clear(q);
	fprintf(stderr,
	        "mamorictl: live query %lld: %lld of %lld online hosts answered (%lld ok, %lld "
	        "with errors), %lld timed out, %lld offline; %lld rows in %.2f s\n",
	        (long long)q->id, (long long)q->answered, (long long)q->online, (long long)q->ok,
	        (long long)q->errors, (long long)q->timed_out, (long long)q->offline,
	        (long long)q->rows, (double)(mono_ms() - q->t0) / 1000.0);
	if (n > 0) {
		fputs("mamorictl: offline:", stderr);
		for (i = 0; i < n && i < 20; i++)
			fprintf(stderr, "%s %s", i > 0 ? "," : "",
			        json_string_value(
			            json_object_get(json_array_get(q->offline_hosts, i), "host")));
		if (n > 20)
			fprintf(stderr, " and %zu more", n - 20);
		fputc('\n', stderr);
	}
}

int ctl_cmd_query(struct ctl *c, int argc, char **argv)
{
	const char *hosts[TARGET_ARGS_MAX], *labels[TARGET_ARGS_MAX];
	int nhosts = 0, nlabels = 0, all = 0;
	const struct ctl_opt opts[] = {
	    {"--hosts", NULL, NULL, hosts, &nhosts, TARGET_ARGS_MAX},
	    {"--labels", NULL, NULL, labels, &nlabels, TARGET_ARGS_MAX},
	    {"--all", NULL, &all},
	    {NULL},
	};
	struct qrun q;
	struct mm_buf sql, url;
	json_t *body = NULL, *resp = NULL, *id, *harr, *larr;
	CURL *h = NULL;
	char *err = NULL;
	int npos, i, r = CTL_EXIT_FAIL, attempts;
	const char *knob;

	memset(&q, 0, sizeof(q));
	mm_buf_init(&sql, 1u << 20);
	mm_buf_init(&url, 64u << 10);
	ctl_sse_init(&q.sse, STREAM_BUF_MAX, STREAM_BUF_MAX);
	mm_buf_init(&q.err, 64u << 10);
	q.c = c;
	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0) {
		r = CTL_EXIT_USAGE;
		goto out;
	}
	if (npos == 0) {
		r = ctl_usage_error(c, "which query? give the SQL, e.g. 'SELECT * FROM users'");
		goto out;
	}
	for (i = 0; i < npos; i++)
		if ((i > 0 && mm_buf_addc(&sql, ' ') != 0) || mm_buf_adds(&sql, argv[i]) != 0) {
			r = ctl_usage_error(c, "the SQL is over 1 MiB");
			goto out;
		}
	harr = json_array();
	larr = json_array();
	add_names(harr, hosts, nhosts);
	add_names(larr, labels, nlabels);
	if (!all && json_array_size(harr) == 0 && json_array_size(larr) == 0) {
		json_decref(harr);
		json_decref(larr);
		r = ctl_usage_error(c, "which hosts? give --all, --hosts H,... or --labels L,...");
		goto out;
	}
	body = json_pack("{s:s, s:b, s:o, s:o, s:I}", "sql", mm_buf_str(&sql), "all", all, "hosts",
	                 harr, "labels", larr, "timeout_ms",
	                 (json_int_t)(c->timeout_set ? c->timeout_ms : DEFAULT_TIMEOUT_MS));
	if ((knob = getenv("MAMORICTL_STREAM_DROP_AFTER")) != NULL) {
		int64_t v;

		if (mm_parse_i64(knob, &v) != 0 || v < 1 || v > 1000000) {
			r = ctl_usage_error(c, "MAMORICTL_STREAM_DROP_AFTER: expected a number of "
			                       "events");
			goto out;
		}
		q.drop_after = (int)v;
	}
	if ((r = ctl_call(c, "POST", "/api/v1/queries/run", body, &resp)) != 0)
		goto out;
	r = CTL_EXIT_FAIL;
	if ((id = ctl_expect(resp, "id", JSON_INTEGER)) == NULL)
		goto out;
	q.id = json_integer_value(id);
	q.t0 = mono_ms();
	q.deadline = q.t0 + (c->timeout_set ? c->timeout_ms : DEFAULT_TIMEOUT_MS) + GRACE_MS;
	q.tty = isatty(STDERR_FILENO);
	q.online = json_integer_value(json_object_get(resp, "online"));
	q.offline = json_integer_value(json_object_get(resp, "offline"));
	q.remaining = q.online;
	if (mm_buf_addf(&url, "%s/api/v1/queries/%lld/stream", c->set.server, (long long)q.id) !=
	        0 ||
	    (h = curl_easy_init()) == NULL) {
		ctl_fail("cannot set up the stream");
		goto out;
	}
	progress_draw(&q);
	/* Bounded: each round is one connection; a drop reconnects from the
	 * last event handled. */
	for (attempts = 0; !q.done && attempts <= RECONNECTS_MAX; attempts++) {
		if (attempts > 0) {
			struct timespec ts = {0, RECONNECT_PAUSE_MS * 1000000L};

			if (q.drop_after == 0)
				nanosleep(&ts, NULL);
		}
		free(err);
		err = NULL;
		if (stream_once(&q, h, mm_buf_str(&url), &err) != 0) {
			if (mono_ms() >= q.deadline)
				break;
			continue;
		}
		if (q.status != 200) {
			json_t *e =
			    json_loadb(q.err.data != NULL ? q.err.data : "", q.err.len, 0, NULL);
			const char *m = json_string_value(json_object_get(e, "error"));

			progress_clear(&q);
			ctl_fail("live query %lld: the stream was refused: HTTP %ld%s%s",
			         (long long)q.id, q.status, m != NULL ? ": " : "",
			         m != NULL ? m : "");
			json_decref(e);
			goto out;
		}
	}
	if (c->format == CTL_FMT_JSON)
		fputs(q.json_rows > 0 ? "\n]\n" : "[]\n", stdout);
	if (!q.done) {
		progress_clear(&q);
		ctl_fail("live query %lld: %s", (long long)q.id,
		         err != NULL ? err : "the stream ended before the query did");
		summary(&q);
		goto out;
	}
	summary(&q);
	r = q.errors > 0 || q.timed_out > 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	free(err);
	json_decref(body);
	json_decref(resp);
	json_decref(q.offline_hosts);
	for (i = 0; i < (int)q.ncols; i++) {
		free(q.cols[i]);
		free(q.keys[i]);
	}
	free(q.cols);
	free(q.keys);
	free(q.width);
	mm_buf_free(&sql);
	mm_buf_free(&url);
	ctl_sse_free(&q.sse);
	mm_buf_free(&q.err);
	return r;
}
