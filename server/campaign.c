/*
 * campaign.c - live query campaigns (campaign.h): validation of the SQL,
 * the campaigns in memory while they run, their events and SSE streams,
 * answers on their way to the store, timeouts, the final record, replay
 * from the store, retention and the periodic tick.
 *
 * A campaign in memory holds one record per target host, sorted by host
 * id.  A host's state moves
 *
 *   PENDING --read--> ASKED --write--> ANSWERING --commit--> OK | ERROR
 *      \                \
 *       +--------------+-+--deadline--> TIMEOUT        (OFFLINE: at the start)
 *
 * and it takes its event id when its answer arrives (ANSWERING) or when
 * it times out.  Events are sent in id order: an answer still on its way
 * to the store holds back the events after it until it is committed, so a
 * stream never shows an answer the store does not have and never skips an
 * id.  When every online target is OK, ERROR or TIMEOUT the `done` event
 * follows, one store job records the end (campaign counts, timed-out
 * hosts) and, once committed, the campaign leaves memory: later readers
 * get it from the store, with the same event ids.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "campaign.h"
#include "engine.h"
#include "error.h"
#include "hosts.h"
#include "opapi.h"
#include "strutil.h"

#define RETENTION_EVERY_MS 60000
#define REPLY_MAX          (512u << 20) /* a status reply: every host's rows */
#define EVENT_MAX          (256u << 20) /* one SSE event */
#define HOSTS_INLINE_MAX   256          /* target rows written with the campaign's */

enum hstate { H_PENDING, H_ASKED, H_ANSWERING, H_OK, H_ERROR, H_TIMEOUT, H_OFFLINE };
enum cstate { C_RUNNING, C_FINISHING, C_STORED };

/* One target of a campaign. */
struct chost {
	int64_t id;
	char *name;
	int state;          /* enum hstate */
	int unstored;       /* ERROR because the store refused the answer */
	int64_t seq;        /* event id, 0 = none yet */
	char *message;      /* ERROR / TIMEOUT: why */
	char *rows;         /* OK: JSON array text of the rows kept, NULL = [] */
	int64_t row_count;  /* rows the host returned */
	int64_t rows_kept;  /* of them, kept */
	char *stats;        /* the agent's stats (JSON object text) or NULL */
	int64_t elapsed_ms; /* from the start to the answer (or timeout) */
};

/* Progress as of one event. */
struct counts {
	int64_t answered, ok, errors, timed_out, rows;
};

struct campaign;

/* One SSE stream attached to a campaign in memory. */
struct stream {
	struct stream *prev, *next;
	struct campaign *c;
	struct mm_http_req *req;
	int64_t sent;     /* the last event id sent (or skipped by Last-Event-ID) */
	int64_t cnt_upto; /* cnt holds the counts of events up to this id */
	struct counts cnt;
};

struct campaign {
	struct campaign *next;
	int64_t id;
	char *sql, *qid, *created_by;
	char *pair; /* "qid":"sql" as JSON text, for the hosts' reads */
	size_t open; /* online targets not final yet */
	char *targets;      /* JSON text, as requested */
	int64_t created_at; /* Unix s */
	int64_t timeout_ms;
	int64_t start_ms, deadline_ms, end_ms; /* wall clock ms */
	struct chost *h;                       /* sorted by id */
	size_t n;
	size_t *order; /* host index by event id - 2 */
	size_t norder;
	size_t nready; /* order[0..nready) are final: their events can go */
	size_t offline;
	struct counts cnt; /* now */
	int64_t kept_rows; /* rows kept (answers on their way included) */
	int64_t kept_bytes;
	int answering;    /* answers on their way to the store */
	int state;        /* enum cstate */
	int64_t done_seq; /* the done event's id, 0 until done */
	struct stream *streams;
	mm_live_one_fn one_done; /* mm_live_run_one's caller, NULL = none */
	void *one_arg;
	uint64_t one_token;
};

static struct {
	struct mm_server *srv;
	int ready;
	struct campaign *list; /* in memory: running, finishing */
	size_t running;
	size_t nstreams;
	int64_t last_heartbeat, last_retention;
	struct mm_engine *validator;
	struct one_job *ones; /* mm_live_run_one jobs on their way to the store */
	uint64_t one_seq;
} g;

static const char *const hstate_name[] = {
    [H_PENDING] = "pending", [H_ASKED] = "pending",   [H_ANSWERING] = "pending", [H_OK] = "ok",
    [H_ERROR] = "error",     [H_TIMEOUT] = "timeout", [H_OFFLINE] = "offline",
};

struct one_job;
static void tick(void *arg);
struct campaign;
static int hosts_submit(struct mm_server *srv, const struct campaign *c);
static void one_finished(struct campaign *c);
static void retention_submit(struct mm_server *srv);
static void interrupted_submit(struct mm_server *srv);

/* ---- small helpers ------------------------------------------------------------ */

static int64_t now_ms(void)
{
	return mm_http_now_ms(g.srv->http);
}

static int is_final(int st)
{
	return st == H_OK || st == H_ERROR || st == H_TIMEOUT;
}

/* Appends s as a JSON string (s is UTF-8: it came from JSON or the store). */
static int add_jstr(struct mm_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int r = mm_buf_addc(b, '"');

	for (p = (const unsigned char *)(s != NULL ? s : ""); r == 0 && *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			if ((r = mm_buf_addc(b, '\\')) == 0)
				r = mm_buf_addc(b, (char)*p);
		} else if (*p < 0x20) {
			char e[7] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], '\0'};

			r = mm_buf_adds(b, e);
		} else {
			r = mm_buf_addc(b, (char)*p);
		}
	}
	return r != 0 ? r : mm_buf_addc(b, '"');
}

char *mm_live_query_pair(const char *qid, const char *sql)
{
	struct mm_buf b;

	mm_buf_init(&b, (size_t)8 << 20); /* 6 bytes per character at most */
	if (add_jstr(&b, qid) != 0 || mm_buf_addc(&b, ':') != 0 || add_jstr(&b, sql) != 0) {
		mm_buf_free(&b);
		return NULL;
	}
	return mm_buf_take(&b);
}

static struct chost *find_host(struct campaign *c, int64_t id)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->h[mid].id == id)
			return &c->h[mid];
		if (c->h[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct campaign *find_campaign(int64_t id)
{
	struct campaign *c;

	for (c = g.list; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void campaign_free(struct campaign *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->h[i].name);
		free(c->h[i].message);
		free(c->h[i].rows);
		free(c->h[i].stats);
	}
	free(c->h);
	free(c->order);
	free(c->sql);
	free(c->qid);
	free(c->pair);
	free(c->created_by);
	free(c->targets);
	free(c);
}

static void unlink_campaign(struct campaign *c)
{
	struct campaign **pp;

	for (pp = &g.list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

/* Gives host h the next event id. */
static void take_seq(struct campaign *c, struct chost *h)
{
	c->order[c->norder++] = (size_t)(h - c->h);
	h->seq = (int64_t)c->norder + 1;
}

static void count_host(struct counts *k, const struct chost *h)
{
	switch (h->state) {
	case H_OK:
		k->answered++;
		k->ok++;
		k->rows += h->row_count;
		break;
	case H_ERROR:
		k->answered++;
		k->errors++;
		break;
	case H_TIMEOUT: k->timed_out++; break;
	default: break;
	}
}

/* The id of the last event that may be sent. */
static int64_t last_ready(struct campaign *c)
{
	while (c->nready < c->norder && is_final(c->h[c->order[c->nready]].state))
		c->nready++;
	return c->done_seq != 0 ? c->done_seq : (int64_t)c->nready + 1;
}

/* Brings *k (counts of events up to *upto) to event id. */
static void counts_upto(const struct campaign *c, struct counts *k, int64_t *upto, int64_t id)
{
	for (; *upto < id; (*upto)++) {
		int64_t e = *upto + 1;

		if (e >= 2 && (size_t)(e - 2) < c->norder)
			count_host(k, &c->h[c->order[e - 2]]);
	}
}

/* ---- JSON for events and status ------------------------------------------------ */

static int add_progress(struct mm_buf *b, const struct campaign *c, const struct counts *k,
                        int64_t elapsed_ms)
{
	int64_t online = (int64_t)(c->n - c->offline);

	return mm_buf_addf(b,
	                   "{\"targeted\":%zu,\"online\":%lld,\"offline\":%zu,\"answered\":%lld,"
	                   "\"ok\":%lld,\"errors\":%lld,\"timed_out\":%lld,\"remaining\":%lld,"
	                   "\"rows\":%lld,\"elapsed_ms\":%lld}",
	                   c->n, (long long)online, c->offline, (long long)k->answered,
	                   (long long)k->ok, (long long)k->errors, (long long)k->timed_out,
	                   (long long)(online - k->answered - k->timed_out), (long long)k->rows,
	                   (long long)elapsed_ms);
}

/* A host as in events and the status: {"host_id", "host", "status", ...}
 * with progress when k is given, rows when with_rows. */
static int add_host(struct mm_buf *b, const struct campaign *c, const struct chost *h,
                    const struct counts *k, int with_rows)
{
	int r;

	if ((r = mm_buf_addf(b, "{\"host_id\":%lld,\"host\":", (long long)h->id)) != 0 ||
	    (r = add_jstr(b, h->name)) != 0 ||
	    (r = mm_buf_addf(b, ",\"status\":\"%s\"", hstate_name[h->state])) != 0)
		return r;
	if (h->state == H_OFFLINE || h->state < H_OK)
		return mm_buf_addc(b, '}');
	if ((r = mm_buf_addf(b, ",\"row_count\":%lld,\"truncated\":%s,\"elapsed_ms\":%lld",
	                     (long long)h->row_count,
	                     h->rows_kept < h->row_count ? "true" : "false",
	                     (long long)h->elapsed_ms)) != 0)
		return r;
	if (h->state != H_OK &&
	    ((r = mm_buf_adds(b, ",\"error\":")) != 0 || (r = add_jstr(b, h->message)) != 0))
		return r;
	if ((r = mm_buf_adds(b, ",\"stats\":")) != 0 ||
	    (r = mm_buf_adds(b, h->stats != NULL ? h->stats : "null")) != 0)
		return r;
	if (k != NULL && ((r = mm_buf_adds(b, ",\"progress\":")) != 0 ||
	                  (r = add_progress(b, c, k, h->elapsed_ms)) != 0))
		return r;
	if (with_rows && h->state == H_OK &&
	    ((r = mm_buf_adds(b, ",\"rows\":")) != 0 ||
	     (r = mm_buf_adds(b, h->rows != NULL ? h->rows : "[]")) != 0))
		return r;
	return mm_buf_addc(b, '}');
}

/* Event id of campaign c as SSE text; k = the counts including it. */
static int event_text(struct mm_buf *b, const struct campaign *c, int64_t id,
                      const struct counts *k)
{
	const char *name;
	size_t i;
	int r, first = 1;

	if (id == 1)
		name = "progress";
	else if (id == c->done_seq)
		name = "done";
	else
		name = c->h[c->order[id - 2]].state == H_OK ? "result" : "error";
	if ((r = mm_buf_addf(b, "id: %lld\nevent: %s\ndata: ", (long long)id, name)) != 0)
		return r;
	if (id == 1) {
		if ((r = mm_buf_addf(b, "{\"id\":%lld,\"sql\":", (long long)c->id)) != 0 ||
		    (r = add_jstr(b, c->sql)) != 0 ||
		    (r = mm_buf_addf(
		         b, ",\"timeout_ms\":%lld,\"progress\":", (long long)c->timeout_ms)) != 0 ||
		    (r = add_progress(b, c, k, 0)) != 0 ||
		    (r = mm_buf_adds(b, ",\"offline_hosts\":[")) != 0)
			return r;
		for (i = 0; i < c->n; i++) {
			if (c->h[i].state != H_OFFLINE)
				continue;
			if ((r = mm_buf_addf(b, "%s{\"host_id\":%lld,\"host\":", first ? "" : ",",
			                     (long long)c->h[i].id)) != 0 ||
			    (r = add_jstr(b, c->h[i].name)) != 0 || (r = mm_buf_addc(b, '}')) != 0)
				return r;
			first = 0;
		}
		r = mm_buf_adds(b, "]}");
	} else if (id == c->done_seq) {
		if ((r = mm_buf_addf(b, "{\"id\":%lld,\"status\":\"done\",\"progress\":",
		                     (long long)c->id)) != 0 ||
		    (r = add_progress(b, c, k, c->end_ms - c->start_ms)) != 0)
			return r;
		r = mm_buf_addc(b, '}');
	} else {
		r = add_host(b, c, &c->h[c->order[id - 2]], k, 1);
	}
	return r != 0 ? r : mm_buf_adds(b, "\n\n");
}

/* {"query": {...}} of campaign c. */
static int status_text(struct mm_buf *b, struct campaign *c)
{
	struct counts k = {0, 0, 0, 0, 0};
	size_t i, pass;
	int r, first = 1;
	int64_t elapsed = c->end_ms != 0 ? c->end_ms - c->start_ms : now_ms() - c->start_ms;

	for (i = 0; i < c->n; i++)
		count_host(&k, &c->h[i]);
	if ((r = mm_buf_addf(b, "{\"query\":{\"id\":%lld,\"sql\":", (long long)c->id)) != 0 ||
	    (r = add_jstr(b, c->sql)) != 0 ||
	    (r = mm_buf_addf(b, ",\"status\":\"%s\",\"created_at\":%lld,\"created_by\":",
	                     c->done_seq != 0 ? "done" : "running", (long long)c->created_at)) !=
	        0 ||
	    (r = add_jstr(b, c->created_by)) != 0 ||
	    (r = mm_buf_addf(b, ",\"targets\":%s,\"timeout_ms\":%lld,\"finished_at\":",
	                     c->targets != NULL ? c->targets : "{}", (long long)c->timeout_ms)) !=
	        0)
		return r;
	if (c->done_seq != 0)
		r = mm_buf_addf(b, "%lld", (long long)(c->end_ms / 1000));
	else
		r = mm_buf_adds(b, "null");
	if (r != 0 ||
	    (r = mm_buf_addf(b, ",\"events\":%lld,\"progress\":",
	                     (long long)(c->done_seq != 0 ? c->done_seq : last_ready(c)))) != 0 ||
	    (r = add_progress(b, c, &k, elapsed)) != 0 || (r = mm_buf_adds(b, ",\"hosts\":[")) != 0)
		return r;
	/* Answers in event order, then hosts still waited for, then offline. */
	for (i = 0; i < c->norder; i++) {
		const struct chost *h = &c->h[c->order[i]];

		if (!is_final(h->state))
			continue;
		if ((!first && (r = mm_buf_addc(b, ',')) != 0) ||
		    (r = add_host(b, c, h, NULL, 1)) != 0)
			return r;
		first = 0;
	}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < c->n; i++) {
			const struct chost *h = &c->h[i];

			if (pass == 0 ? is_final(h->state) || h->state == H_OFFLINE
			              : h->state != H_OFFLINE)
				continue;
			if ((!first && (r = mm_buf_addc(b, ',')) != 0) ||
			    (r = add_host(b, c, h, NULL, 0)) != 0)
				return r;
			first = 0;
		}
	return mm_buf_adds(b, "]}}");
}

/* ---- validation ------------------------------------------------------------------ */

/* The engine statements are prepared on (never run).  No heap limit:
 * sqlite3_hard_heap_limit64 is process-wide and would bound the store. */
static struct mm_engine *validator(char **err)
{
	struct mm_engine_opts o = {.root = "/", .heap_limit = -1, .time_limit_ms = 1000};
	char *serr = NULL;

	if (g.validator == NULL && mm_engine_new(&o, &g.validator, &serr) != 0) {
		*err = strdup(serr != NULL ? serr : "cannot open the SQL engine");
		sqlite3_free(serr);
		g.validator = NULL;
	}
	return g.validator;
}

/* Skips white space and SQL comments. */
static const char *skip_blank(const char *s)
{
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (s[0] == '-' && s[1] == '-') {
			while (*s != '\0' && *s != '\n')
				s++;
		} else if (s[0] == '/' && s[1] == '*') {
			const char *e = strstr(s + 2, "*/");

			s = e != NULL ? e + 2 : s + strlen(s);
		} else {
			return s;
		}
	}
}

/* 1 when the statement starts with a keyword that changes something. */
static int writes(const char *sql)
{
	static const char *const kw[] = {"INSERT",  "UPDATE",    "DELETE", "REPLACE", "CREATE",
	                                 "DROP",    "ALTER",     "ATTACH", "DETACH",  "VACUUM",
	                                 "REINDEX", "ANALYZE",   "BEGIN",  "COMMIT",  "ROLLBACK",
	                                 "END",     "SAVEPOINT", "RELEASE"};
	const char *s = skip_blank(sql);
	size_t i, n = 0;

	while (isalpha((unsigned char)s[n]))
		n++;
	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (strlen(kw[i]) == n && strncasecmp(s, kw[i], n) == 0)
			return 1;
	return 0;
}

int mm_live_check_sql(const char *sql, const char **msg, char **detail)
{
	struct mm_engine *e;
	sqlite3_stmt *st = NULL, *st2 = NULL;
	const char *tail = NULL;
	char *err = NULL;
	int r, status = 0;

	*msg = NULL;
	*detail = NULL;
	if (sql == NULL || *skip_blank(sql) == '\0') {
		*msg = "empty SQL";
		*detail = strdup("give one SELECT statement");
		return 400;
	}
	if (strlen(sql) > MM_LIVE_SQL_MAX) {
		*msg = "SQL too long";
		if (asprintf(detail, "at most %d bytes", MM_LIVE_SQL_MAX) < 0)
			*detail = NULL;
		return 400;
	}
	if ((e = validator(&err)) == NULL) {
		*msg = "cannot check the SQL";
		*detail = err;
		return 500;
	}
	r = mm_engine_prepare(e, sql, &st, &tail, &err);
	/* sqlite3_stmt_readonly() is true for BEGIN, COMMIT ...: the keyword
	 * list catches those. */
	if (r != 0 || (st != NULL && (!sqlite3_stmt_readonly(st) || writes(sql)))) {
		if (r == MM_ERR_DENIED || writes(sql) || r == 0) {
			*msg = "only read-only statements (SELECT) can run as live queries";
			status = 422;
		} else {
			*msg = "the query does not prepare";
			status = 422;
		}
		*detail = strdup(err != NULL ? err : "not a read-only statement");
		goto out;
	}
	if (st == NULL) {
		*msg = "empty SQL";
		*detail = strdup("give one SELECT statement");
		status = 400;
		goto out;
	}
	sqlite3_free(err);
	err = NULL;
	if (tail != NULL && *skip_blank(tail) != '\0' &&
	    (mm_engine_prepare(e, tail, &st2, NULL, &err) != 0 || st2 != NULL)) {
		*msg = "more than one statement";
		*detail = strdup("a live query is exactly one SQL statement");
		status = 422;
		goto out;
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(st2);
	sqlite3_free(err);
	return status;
}

/* ---- online ------------------------------------------------------------------------- */

int mm_live_host_online(struct mm_server *srv, int64_t host_id)
{
	struct mm_host *h = mm_hosts_by_id(srv->hosts, host_id);

	if (h == NULL)
		return 0;
	if (mm_live_parked(host_id))
		return 1;
	return h->last_seen + h->checkin_interval + srv->cfg.online_margin_s >=
	       mm_http_now_ms(srv->http) / 1000;
}

/* ---- streams ------------------------------------------------------------------------ */

static void stream_drop(struct stream *s)
{
	struct campaign *c = s->c;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	g.nstreams--;
	free(s);
	if (c->state == C_STORED && c->streams == NULL) {
		unlink_campaign(c);
		campaign_free(c);
	}
}

static void stream_closed(struct mm_http_req *req, void *arg)
{
	struct stream *s = arg;

	mm_http_release(req);
	stream_drop(s);
}

/* Sends the events of c after *sent up to last on req; *cnt holds the
 * counts of the events up to *upto.  Stops early when the client is gone. */
static void send_events(struct campaign *c, struct mm_http_req *req, int64_t *sent,
                        struct counts *cnt, int64_t *upto, int64_t last)
{
	struct mm_buf b;

	mm_buf_init(&b, EVENT_MAX);
	while (*sent < last) {
		int64_t id = *sent + 1;

		counts_upto(c, cnt, upto, id);
		mm_buf_reset(&b);
		if (event_text(&b, c, id, cnt) != 0) {
			/* Only an event over EVENT_MAX: say so instead. */
			mm_buf_reset(&b);
			mm_buf_addf(
			    &b, "id: %lld\nevent: error\ndata: {\"error\":\"event too large\"}\n\n",
			    (long long)id);
		}
		if (mm_http_stream_send(req, b.data, b.len) != 0)
			break; /* gone: stream_closed comes */
		*sent = id;
	}
	mm_buf_free(&b);
}

/* Sends the events after s->sent that may go.  Returns 1 when the stream
 * ended (done sent; s is freed), 0 otherwise. */
static int stream_pump(struct stream *s)
{
	struct campaign *c = s->c;

	send_events(c, s->req, &s->sent, &s->cnt, &s->cnt_upto, last_ready(c));
	if (c->done_seq != 0 && s->sent >= c->done_seq) {
		mm_http_stream_end(s->req);
		mm_http_release(s->req);
		stream_drop(s);
		return 1;
	}
	return 0;
}

static void pump(struct campaign *c)
{
	struct stream *s, *next;

	for (s = c->streams; s != NULL; s = next) {
		next = s->next;
		stream_pump(s);
	}
}

/* ---- the end of a campaign ------------------------------------------------------------ */

struct host_upd {
	int64_t host_id, seq, elapsed_ms;
	const char *status;
	char *message;
	char *host;
};

struct final_job {
	struct mm_server *srv;
	int64_t id, finished_at, duration_ms, done_seq;
	int64_t ok, errors, timed_out, rows, online;
	struct host_upd *u;
	size_t nu;
};

static void final_free(struct final_job *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nu; i++) {
		free(f->u[i].message);
		free(f->u[i].host);
	}
	free(f->u);
	free(f);
}

static int final_run(sqlite3 *db, void *arg, char **err)
{
	struct final_job *f = arg;
	sqlite3_stmt *s;
	size_t i;

	if ((s = mm_store_stmt(
	         db,
	         "UPDATE campaigns SET status = 'done', finished_at = ?2,"
	         " duration_ms = ?3, done_seq = ?4, online = ?5, ok = ?6, errors = ?7,"
	         " timed_out = ?8, rows = ?9 WHERE id = ?1",
	         err)) == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_int64(s, 1, f->id);
	sqlite3_bind_int64(s, 2, f->finished_at);
	sqlite3_bind_int64(s, 3, f->duration_ms);
	sqlite3_bind_int64(s, 4, f->done_seq);
	sqlite3_bind_int64(s, 5, f->online);
	sqlite3_bind_int64(s, 6, f->ok);
	sqlite3_bind_int64(s, 7, f->errors);
	sqlite3_bind_int64(s, 8, f->timed_out);
	sqlite3_bind_int64(s, 9, f->rows);
	if (sqlite3_step(s) != SQLITE_DONE)
		return op_sqlerr(db, err);
	if (f->nu == 0)
		return 0;
	if ((s = mm_store_stmt(db,
	                       "INSERT INTO campaign_hosts(campaign_id, host_id, host, status, seq,"
	                       " message, elapsed_ms) VALUES(?1, ?2, ?7, ?3, ?4, ?5, ?6)"
	                       " ON CONFLICT(campaign_id, host_id) DO UPDATE SET status = ?3,"
	                       " seq = ?4, message = ?5, elapsed_ms = ?6, results = NULL,"
	                       " rows_kept = 0",
	                       err)) == NULL)
		return MM_ERR_SQL;
	for (i = 0; i < f->nu; i++) {
		sqlite3_bind_int64(s, 1, f->id);
		sqlite3_bind_int64(s, 2, f->u[i].host_id);
		sqlite3_bind_text(s, 3, f->u[i].status, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, f->u[i].seq);
		sqlite3_bind_text(s, 5, f->u[i].message != NULL ? f->u[i].message : "", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, f->u[i].elapsed_ms);
		sqlite3_bind_text(s, 7, f->u[i].host != NULL ? f->u[i].host : "", -1,
		                  SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return op_sqlerr(db, err);
		sqlite3_reset(s);
	}
	return 0;
}

static void final_done(void *arg, int rc, const char *err)
{
	struct final_job *f = arg;
	struct campaign *c = find_campaign(f->id);

	if (rc != 0)
		fprintf(stderr, "mamori-server: live query %lld: recording its end: %s\n",
		        (long long)f->id, err != NULL ? err : mm_strerror(rc));
	if (c != NULL) {
		c->state = C_STORED;
		if (c->streams == NULL) {
			unlink_campaign(c);
			campaign_free(c);
		}
	}
	final_free(f);
}

/* Ends c when every online target is final: the done event, the store job. */
static void maybe_finish(struct campaign *c)
{
	struct final_job *f;
	size_t i, nu;

	if (c->state != C_RUNNING || c->answering > 0 || c->open > 0)
		return;
	c->state = C_FINISHING;
	c->end_ms = now_ms();
	c->done_seq = (int64_t)c->norder + 2;
	g.running--;
	for (i = 0, nu = 0; i < c->n; i++)
		nu += c->h[i].state == H_TIMEOUT || c->h[i].unstored;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->u = calloc(nu + 1, sizeof(*f->u))) == NULL) {
		free(f);
		f = NULL;
	}
	if (f != NULL) {
		f->srv = g.srv;
		f->id = c->id;
		f->finished_at = c->end_ms / 1000;
		f->duration_ms = c->end_ms - c->start_ms;
		f->done_seq = c->done_seq;
		f->online = (int64_t)(c->n - c->offline);
		f->ok = c->cnt.ok;
		f->errors = c->cnt.errors;
		f->timed_out = c->cnt.timed_out;
		f->rows = c->kept_rows;
		for (i = 0; i < c->n; i++) {
			struct chost *h = &c->h[i];

			if (h->state != H_TIMEOUT && !h->unstored)
				continue;
			f->u[f->nu].host_id = h->id;
			f->u[f->nu].seq = h->seq;
			f->u[f->nu].elapsed_ms = h->elapsed_ms;
			f->u[f->nu].status = hstate_name[h->state];
			f->u[f->nu].message = mm_strdup0(h->message);
			f->u[f->nu].host = mm_strdup0(h->name);
			f->nu++;
		}
	}
	if (f == NULL || mm_store_submit(g.srv->store, final_run, final_done, f) != 0) {
		fprintf(stderr, "mamori-server: live query %lld: cannot record its end\n",
		        (long long)c->id);
		final_free(f);
		f = NULL;
	}
	pump(c); /* the done event ends every stream */
	one_finished(c);
	if (f == NULL) {
		c->state = C_STORED;
		if (c->streams == NULL) {
			unlink_campaign(c);
			campaign_free(c);
		}
	}
}

/* The deadline: every host not final times out. */
static void time_out(struct campaign *c, int64_t now)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct chost *h = &c->h[i];
		char msg[160];

		if (h->state != H_PENDING && h->state != H_ASKED)
			continue;
		if (h->state == H_PENDING)
			snprintf(msg, sizeof(msg),
			         "not asked: the host did not poll within the timeout (%lld ms)",
			         (long long)c->timeout_ms);
		else
			snprintf(msg, sizeof(msg), "no answer within the timeout (%lld ms)",
			         (long long)c->timeout_ms);
		free(h->message);
		h->message = strdup(msg);
		h->state = H_TIMEOUT;
		c->open--;
		h->elapsed_ms = now - c->start_ms;
		take_seq(c, h);
		count_host(&c->cnt, h);
	}
	pump(c);
	maybe_finish(c);
}

/* ---- starting ---------------------------------------------------------------------------- */

int mm_live_campaign_start(struct mm_server *srv, int64_t id, const char *sql,
                           const char *created_by, const char *targets, int64_t created_at,
                           int64_t timeout_ms, const struct mm_live_target *t, size_t n)
{
	struct campaign *c;
	int64_t *wake = NULL;
	size_t i, nwake = 0;
	char qid[64];

	if (mm_live_init(srv) != 0)
		return MM_ERR_NOMEM;
	snprintf(qid, sizeof(qid), MM_LIVE_QUERY_PREFIX "%lld", (long long)id);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (n > 0 && ((c->h = calloc(n, sizeof(*c->h))) == NULL ||
	               (c->order = calloc(n, sizeof(*c->order))) == NULL ||
	               (wake = calloc(n, sizeof(*wake))) == NULL)) ||
	    (c->sql = strdup(sql)) == NULL || (c->qid = strdup(qid)) == NULL ||
	    (c->pair = mm_live_query_pair(qid, sql)) == NULL ||
	    (c->created_by = strdup(created_by != NULL ? created_by : "")) == NULL ||
	    (c->targets = strdup(targets != NULL ? targets : "{}")) == NULL)
		goto nomem;
	c->id = id;
	c->created_at = created_at;
	c->timeout_ms = timeout_ms;
	c->start_ms = now_ms();
	c->deadline_ms = c->start_ms + timeout_ms;
	c->n = n;
	for (i = 0; i < n; i++) {
		c->h[i].id = t[i].id;
		if ((c->h[i].name = strdup(t[i].name != NULL ? t[i].name : "")) == NULL)
			goto nomem;
		c->h[i].state = t[i].online ? H_PENDING : H_OFFLINE;
		if (!t[i].online) {
			c->offline++;
		} else {
			wake[nwake++] = t[i].id;
			c->open++;
		}
	}
	if (n > HOSTS_INLINE_MAX && hosts_submit(srv, c) != 0)
		fprintf(stderr,
		        "mamori-server: live query %lld: cannot record its %zu targets"
		        " (answers are still recorded)\n",
		        (long long)id, n);
	c->state = C_RUNNING;
	c->next = g.list;
	g.list = c;
	g.running++;
	mm_live_wake(srv, wake, nwake);
	free(wake);
	maybe_finish(c); /* no online target: done at once */
	return 0;
nomem:
	free(wake);
	campaign_free(c);
	return MM_ERR_NOMEM;
}

/* Inserts the 'pending' (online) or 'offline' rows of targets t[0..n). */
static int host_rows(sqlite3 *db, int64_t cid, const struct mm_live_target *t, size_t n,
                     char **err)
{
	sqlite3_stmt *s;
	size_t i;

	if (n == 0)
		return 0;
	if ((s = mm_store_stmt(db,
	                       "INSERT INTO campaign_hosts(campaign_id, host_id, host, status)"
	                       " VALUES(?1, ?2, ?3, ?4)",
	                       err)) == NULL)
		return MM_ERR_SQL;
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, cid);
		sqlite3_bind_int64(s, 2, t[i].id);
		sqlite3_bind_text(s, 3, t[i].name != NULL ? t[i].name : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, t[i].online ? "pending" : "offline", -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return op_sqlerr(db, err);
		sqlite3_reset(s);
	}
	return 0;
}

/* The rows of a campaign's targets, when there are more than
 * HOSTS_INLINE_MAX: written by a job submitted as the campaign starts, so
 * the start (and the operator's reply) does not wait for thousands of
 * inserts.  The store runs jobs in order, so the rows are there before any
 * answer's job; answers and ends are written as upserts all the same. */
struct hosts_job {
	int64_t cid;
	size_t n;
	struct mm_live_target *t; /* names owned */
};

static void hosts_free(struct hosts_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; j->t != NULL && i < j->n; i++)
		free(j->t[i].name);
	free(j->t);
	free(j);
}

static int hosts_run(sqlite3 *db, void *arg, char **err)
{
	struct hosts_job *j = arg;

	return host_rows(db, j->cid, j->t, j->n, err);
}

static void hosts_done(void *arg, int rc, const char *err)
{
	struct hosts_job *j = arg;

	if (rc != 0)
		fprintf(stderr,
		        "mamori-server: live query %lld: recording its %zu targets: %s"
		        " (answers are still recorded)\n",
		        (long long)j->cid, j->n, err != NULL ? err : mm_strerror(rc));
	hosts_free(j);
}

/* Submits the target rows of campaign c (see hosts_job).  Returns 0 or
 * MM_ERR_NOMEM / MM_ERR_LIMIT. */
static int hosts_submit(struct mm_server *srv, const struct campaign *c)
{
	struct hosts_job *j;
	size_t i;

	if ((j = calloc(1, sizeof(*j))) == NULL || (j->t = calloc(c->n, sizeof(*j->t))) == NULL) {
		hosts_free(j);
		return MM_ERR_NOMEM;
	}
	j->cid = c->id;
	j->n = c->n;
	for (i = 0; i < c->n; i++) {
		j->t[i].id = c->h[i].id;
		j->t[i].online = c->h[i].state != H_OFFLINE;
		if ((j->t[i].name = strdup(c->h[i].name)) == NULL) {
			hosts_free(j);
			return MM_ERR_NOMEM;
		}
	}
	if (mm_store_submit(srv->store, hosts_run, hosts_done, j) != 0) {
		hosts_free(j);
		return MM_ERR_LIMIT;
	}
	return 0;
}

/* The insert of a campaign: see campaign.h. */
int mm_live_campaign_insert(sqlite3 *db, const struct mm_actor *actor, const char *sql,
                            const char *targets, int64_t created_at, int64_t timeout_ms,
                            const struct mm_live_target *t, size_t n, int64_t *id, char **err)
{
	sqlite3_stmt *s;
	json_t *detail;
	size_t i, online = 0;
	char target[32];
	int r;

	for (i = 0; i < n; i++)
		online += t[i].online != 0;
	if ((s = mm_store_stmt(db,
	                       "INSERT INTO campaigns(sql, targets, created_at, created_by,"
	                       " timeout_ms, status, targeted, online)"
	                       " VALUES(?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7)",
	                       err)) == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_text(s, 1, sql, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, targets, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, created_at);
	sqlite3_bind_text(s, 4, actor != NULL && actor->name != NULL ? actor->name : "", -1,
	                  SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, timeout_ms);
	sqlite3_bind_int64(s, 6, (int64_t)n);
	sqlite3_bind_int64(s, 7, (int64_t)online);
	if (sqlite3_step(s) != SQLITE_DONE)
		return op_sqlerr(db, err);
	*id = sqlite3_last_insert_rowid(db);
	/* Many targets: their rows are a job of their own (hosts_submit). */
	if (n <= HOSTS_INLINE_MAX && (r = host_rows(db, *id, t, n, err)) != 0)
		return r;
	snprintf(target, sizeof(target), "%lld", (long long)*id);
	detail = json_pack("{s:s, s:o, s:I, s:I, s:I, s:I}", "sql", sql, "targets",
	                   json_loads(targets, 0, NULL), "targeted", (json_int_t)n, "online",
	                   (json_int_t)online, "offline", (json_int_t)(n - online), "timeout_ms",
	                   (json_int_t)timeout_ms);
	r = mm_audit_insert(db, actor, "query.run", target, detail, 200);
	json_decref(detail);
	if (r != 0 && *err == NULL)
		*err = sqlite3_mprintf("audit: %s", mm_strerror(r));
	return r;
}

/* ---- one host, in process ------------------------------------------------------------------ */

struct one_job {
	struct one_job *next;
	struct mm_server *srv;
	struct op_actor actor;
	char *sql, *targets;
	int64_t created_at, timeout_ms, id;
	struct mm_live_target t;
	mm_live_one_fn done; /* NULL once forgotten */
	void *arg;
	uint64_t token;
};

static void one_free(struct one_job *j)
{
	op_actor_clear(&j->actor);
	free(j->sql);
	free(j->targets);
	free(j->t.name);
	free(j);
}

static void one_unlink(struct one_job *j)
{
	struct one_job **pp;

	for (pp = &g.ones; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			return;
		}
}

/* Calls done with an error (rc < 0) and its message. */
static void one_fail(mm_live_one_fn done, void *arg, int rc, const char *msg)
{
	json_t *m = json_string(msg);

	done(arg, rc, m);
	json_decref(m);
}

static int one_run(sqlite3 *db, void *arg, char **err)
{
	struct one_job *j = arg;

	return mm_live_campaign_insert(db, &j->actor.a, j->sql, j->targets, j->created_at,
	                               j->timeout_ms, &j->t, 1, &j->id, err);
}

static void one_done(void *arg, int rc, const char *err)
{
	struct one_job *j = arg;
	struct campaign *c;
	char msg[300];

	one_unlink(j);
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "the live query was not recorded: %.200s",
		         err != NULL ? err : mm_strerror(rc));
		if (j->done != NULL)
			one_fail(j->done, j->arg, MM_ERR_IO, msg);
		goto out;
	}
	if (mm_live_campaign_start(j->srv, j->id, j->sql, j->actor.a.name, j->targets,
	                           j->created_at, j->timeout_ms, &j->t, 1) != 0) {
		if (j->done != NULL)
			one_fail(j->done, j->arg, MM_ERR_NOMEM,
			         "out of memory: the live query was not started");
		goto out;
	}
	/* Started: the campaign reports its end (an offline host is done already). */
	c = find_campaign(j->id);
	if (c != NULL && c->state == C_RUNNING) {
		c->one_done = j->done;
		c->one_arg = j->arg;
		c->one_token = j->token;
	} else if (j->done != NULL) {
		one_fail(j->done, j->arg, MM_ERR_NOTFOUND,
		         "the host's agent is offline: it is not polling the coordinator");
	}
out:
	one_free(j);
}

/* At the end of a campaign started by mm_live_run_one: tells its caller. */
static void one_finished(struct campaign *c)
{
	mm_live_one_fn done = c->one_done;
	const struct chost *h = c->n > 0 ? &c->h[0] : NULL;
	json_t *res = NULL;

	if (done == NULL)
		return;
	c->one_done = NULL;
	c->one_token = 0;
	if (h != NULL && h->state == H_OK) {
		res = h->rows != NULL ? json_loads(h->rows, 0, NULL) : json_array();
		if (res != NULL) {
			done(c->one_arg, 0, res);
			json_decref(res);
			return;
		}
		one_fail(done, c->one_arg, MM_ERR_NOMEM, "out of memory");
		return;
	}
	one_fail(done, c->one_arg,
	         h == NULL                  ? MM_ERR_INTERNAL
	         : h->state == H_TIMEOUT    ? MM_ERR_LIMIT
	         : h->state == H_OFFLINE    ? MM_ERR_NOTFOUND
	                                    : MM_ERR_SQL,
	         h == NULL                ? "no target"
	         : h->state == H_OFFLINE  ? "the host's agent is offline"
	         : h->message != NULL     ? h->message
	                                  : "the query failed on the host");
}

int mm_live_run_one(struct mm_server *srv, const struct mm_actor *actor, const char *sql,
                    int64_t host_id, int64_t timeout_ms, mm_live_one_fn done, void *arg,
                    uint64_t *token, char **err)
{
	struct one_job *j = NULL;
	struct mm_host *h;
	json_t *tj;
	const char *msg = NULL;
	char *detail = NULL, num[32];
	int status, r;

	*token = 0;
	*err = NULL;
	if (mm_live_init(srv) != 0) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	if ((status = mm_live_check_sql(sql, &msg, &detail)) != 0) {
		mm_audit_log(srv, actor, NULL, "query.run", "",
		             json_pack("{s:s?, s:s, s:s?}", "sql", sql, "error", msg, "detail",
		                       detail),
		             status);
		if (asprintf(err, "%s%s%s", msg, detail != NULL ? ": " : "",
		             detail != NULL ? detail : "") < 0)
			*err = NULL;
		r = MM_ERR_USAGE;
		goto out;
	}
	if (mm_live_running() >= MM_LIVE_RUNNING_MAX) {
		*err = strdup("too many live queries running (at most 16 at once); retry when one "
		              "is done");
		r = MM_ERR_LIMIT;
		goto out;
	}
	if ((h = mm_hosts_by_id(srv->hosts, host_id)) == NULL) {
		*err = strdup("no such host (unknown or revoked)");
		r = MM_ERR_NOTFOUND;
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL || op_actor_copy(&j->actor, actor) != 0 ||
	    (j->sql = strdup(sql)) == NULL ||
	    (j->t.name = strdup(h->hostname != NULL && h->hostname[0] != '\0' ? h->hostname
	                        : h->host_identifier != NULL                   ? h->host_identifier
	                                                                       : "")) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	snprintf(num, sizeof(num), "%lld", (long long)host_id);
	tj = json_pack("{s:b, s:[s]}", "all", 0, "hosts", num);
	j->targets = tj != NULL ? json_dumps(tj, JSON_COMPACT) : NULL;
	json_decref(tj);
	if (j->targets == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	j->srv = srv;
	j->t.id = host_id;
	j->t.online = mm_live_host_online(srv, host_id);
	j->created_at = mm_http_now_ms(srv->http) / 1000;
	j->timeout_ms = timeout_ms < 1000                     ? 1000
	                : timeout_ms > MM_LIVE_TIMEOUT_MAX_MS ? MM_LIVE_TIMEOUT_MAX_MS
	                                                      : timeout_ms;
	j->done = done;
	j->arg = arg;
	j->token = ++g.one_seq;
	if ((r = mm_store_submit(srv->store, one_run, one_done, j)) != 0) {
		*err = strdup("the coordinator is busy (store queue full); retry");
		goto out;
	}
	j->next = g.ones;
	g.ones = j;
	*token = j->token;
	j = NULL;
	r = 0;
out:
	if (j != NULL)
		one_free(j);
	if (r != 0 && *err == NULL)
		*err = strdup(mm_strerror(r));
	free(detail);
	return r;
}

void mm_live_run_forget(uint64_t token)
{
	struct one_job *j;
	struct campaign *c;

	if (token == 0)
		return;
	for (j = g.ones; j != NULL; j = j->next)
		if (j->token == token)
			j->done = NULL;
	for (c = g.list; c != NULL; c = c->next)
		if (c->one_token == token) {
			c->one_done = NULL;
			c->one_token = 0;
		}
}

size_t mm_live_running(void)
{
	return g.running;
}

size_t mm_live_work_for(struct mm_server *srv, int64_t host_id, struct mm_buf *queries,
                        int64_t *accelerate_s)
{
	struct campaign *c;
	int64_t now = mm_http_now_ms(srv->http), acc = 0;
	size_t n = 0;

	for (c = g.list; c != NULL; c = c->next) {
		struct chost *h;

		if (c->state != C_RUNNING || now >= c->deadline_ms ||
		    (h = find_host(c, host_id)) == NULL)
			continue;
		if ((c->deadline_ms - now) / 1000 + 1 > acc)
			acc = (c->deadline_ms - now) / 1000 + 1;
		if (h->state != H_PENDING)
			continue;
		if ((queries->len > 0 && mm_buf_addc(queries, ',') != 0) ||
		    mm_buf_adds(queries, c->pair) != 0)
			continue;
		h->state = H_ASKED;
		n++;
	}
	if (accelerate_s != NULL)
		*accelerate_s = acc;
	return n;
}

/* ---- answers ------------------------------------------------------------------------------- */

struct mm_live_answer {
	int64_t cid, host_id, seq, elapsed_ms;
	int ok;
	char *message, *rows, *stats;
	char *host; /* the target's name, for the row when it is not there yet */
	int64_t row_count, rows_kept;
};

void mm_live_answer_free(struct mm_live_answer *a)
{
	if (a == NULL)
		return;
	free(a->message);
	free(a->rows);
	free(a->stats);
	free(a->host);
	free(a);
}

/* The first n rows of rows as JSON text. */
static char *rows_text(const json_t *rows, size_t n)
{
	json_t *part;
	char *t;
	size_t i;

	if (rows == NULL || n == 0)
		return strdup("[]");
	if (n >= json_array_size(rows))
		return json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if ((part = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_array_append(part, json_array_get(rows, i));
	t = json_dumps(part, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(part);
	return t;
}

struct mm_live_answer *mm_live_answer_new(struct mm_server *srv, int64_t cid, int64_t host_id,
                                          int ok, const char *message, const json_t *rows,
                                          const json_t *stats)
{
	struct campaign *c = find_campaign(cid);
	struct mm_live_answer *a = NULL;
	struct chost *h;
	int64_t room;
	size_t n = ok && json_is_array(rows) ? json_array_size(rows) : 0, keep;

	if (c == NULL || c->state != C_RUNNING || (h = find_host(c, host_id)) == NULL ||
	    h->state != H_ASKED)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->cid = cid;
	a->host_id = host_id;
	a->ok = ok;
	a->row_count = (int64_t)n;
	room = srv->cfg.live.max_rows - c->kept_rows;
	keep = room <= 0 ? 0 : (int64_t)n > room ? (size_t)room : n;
	if ((a->rows = rows_text(rows, keep)) == NULL)
		goto nomem;
	if (c->kept_bytes + (int64_t)strlen(a->rows) > MM_LIVE_CAMPAIGN_BYTES) {
		/* Over the memory budget: the answer is counted, its rows not kept. */
		free(a->rows);
		keep = 0;
		if ((a->rows = strdup("[]")) == NULL)
			goto nomem;
	}
	a->rows_kept = (int64_t)keep;
	if ((a->host = strdup(h->name)) == NULL)
		goto nomem;
	if (!ok && (a->message = strdup(message != NULL && message[0] != '\0'
	                                    ? message
	                                    : "the query failed on the host")) == NULL)
		goto nomem;
	if (json_is_object(stats) &&
	    (a->stats = json_dumps(stats, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto nomem;
	c->kept_rows += a->rows_kept;
	c->kept_bytes += (int64_t)strlen(a->rows);
	a->elapsed_ms = mm_http_now_ms(srv->http) - c->start_ms;
	h->state = H_ANSWERING;
	take_seq(c, h);
	a->seq = h->seq;
	c->answering++;
	return a;
nomem:
	mm_live_answer_free(a);
	return NULL;
}

int mm_live_answer_store(sqlite3 *db, const struct mm_live_answer *a, char **err)
{
	sqlite3_stmt *s;

	if ((s = mm_store_stmt(db,
	                       "INSERT INTO campaign_hosts(campaign_id, host_id, host, status, seq,"
	                       " message, row_count, rows_kept, results, stats, elapsed_ms)"
	                       " VALUES(?1, ?2, ?11, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	                       " ON CONFLICT(campaign_id, host_id) DO UPDATE SET"
	                       " status = ?3, seq = ?4, message = ?5, row_count = ?6,"
	                       " rows_kept = ?7, results = ?8, stats = ?9, elapsed_ms = ?10",
	                       err)) == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_int64(s, 1, a->cid);
	sqlite3_bind_int64(s, 2, a->host_id);
	sqlite3_bind_text(s, 3, a->ok ? "ok" : "error", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, a->seq);
	sqlite3_bind_text(s, 5, a->message != NULL ? a->message : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, a->row_count);
	sqlite3_bind_int64(s, 7, a->rows_kept);
	if (a->ok)
		sqlite3_bind_text(s, 8, a->rows, -1, SQLITE_STATIC);
	if (a->stats != NULL)
		sqlite3_bind_text(s, 9, a->stats, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, a->elapsed_ms);
	sqlite3_bind_text(s, 11, a->host != NULL ? a->host : "", -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return op_sqlerr(db, err);
	return 0;
}

void mm_live_answer_done(struct mm_server *srv, struct mm_live_answer *a, int rc, const char *err)
{
	struct campaign *c = find_campaign(a->cid);
	struct chost *h;

	(void)srv;
	if (c == NULL || (h = find_host(c, a->host_id)) == NULL || h->state != H_ANSWERING) {
		mm_live_answer_free(a);
		return;
	}
	c->answering--;
	h->elapsed_ms = a->elapsed_ms;
	h->row_count = a->row_count;
	if (rc == 0) {
		h->state = a->ok ? H_OK : H_ERROR;
		c->open--;
		h->rows_kept = a->rows_kept;
		h->rows = a->ok ? a->rows : NULL;
		if (a->ok)
			a->rows = NULL;
		h->message = a->message;
		a->message = NULL;
		h->stats = a->stats;
		a->stats = NULL;
	} else {
		char msg[300];

		snprintf(msg, sizeof(msg), "the coordinator could not store the answer: %s",
		         err != NULL ? err : mm_strerror(rc));
		c->kept_rows -= a->rows_kept;
		c->kept_bytes -= (int64_t)strlen(a->rows);
		h->state = H_ERROR;
		c->open--;
		h->unstored = 1;
		h->message = strdup(msg);
	}
	count_host(&c->cnt, h);
	mm_live_answer_free(a);
	pump(c);
	maybe_finish(c);
}

/* ---- campaigns from the store ---------------------------------------------------------------- */

static const char interrupted_msg[] =
    "interrupted: the coordinator stopped before the query finished";

static int state_of(const char *s)
{
	size_t i;

	for (i = H_OK; i <= H_OFFLINE; i++)
		if (strcmp(s, hstate_name[i]) == 0)
			return (int)i;
	return H_PENDING;
}

static int cmp_seq(const void *a, const void *b, void *arg)
{
	const struct campaign *c = arg;
	int64_t x = c->h[*(const size_t *)a].seq, y = c->h[*(const size_t *)b].seq;

	return x < y ? -1 : x > y;
}

/* Loads a campaign that is not in memory.  A campaign the store still has
 * as running was interrupted (the coordinator stopped): its hosts still
 * pending time out after the others, in host id order, as the job run at
 * start records it.  Returns 0, MM_ERR_NOTFOUND, MM_ERR_SQL or MM_ERR_NOMEM. */
static int load(sqlite3 *db, int64_t id, struct campaign **out)
{
	sqlite3_stmt *st = NULL;
	struct campaign *c = NULL;
	size_t i, cap = 0;
	int rc, r = MM_ERR_SQL, running;

	*out = NULL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT sql, targets, created_at, created_by, timeout_ms, status,"
	                       " finished_at, duration_ms, done_seq FROM campaigns WHERE id = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = MM_ERR_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	r = MM_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->sql = strdup((const char *)sqlite3_column_text(st, 0))) == NULL ||
	    (c->targets = strdup((const char *)sqlite3_column_text(st, 1))) == NULL ||
	    (c->created_by = strdup((const char *)sqlite3_column_text(st, 3))) == NULL)
		goto out;
	c->id = id;
	c->created_at = sqlite3_column_int64(st, 2);
	c->timeout_ms = sqlite3_column_int64(st, 4);
	running = strcmp((const char *)sqlite3_column_text(st, 5), "running") == 0;
	c->start_ms = c->created_at * 1000;
	c->end_ms = c->start_ms + sqlite3_column_int64(st, 7);
	c->done_seq = sqlite3_column_int64(st, 8);
	c->state = C_STORED;
	sqlite3_finalize(st);
	st = NULL;
	r = MM_ERR_SQL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT host_id, host, status, seq, message, row_count, rows_kept,"
	                       " results, stats, elapsed_ms FROM campaign_hosts"
	                       " WHERE campaign_id = ?1 ORDER BY host_id",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct chost *h;

		if (c->n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct chost *nh = realloc(c->h, nc * sizeof(*nh));

			if (nh == NULL) {
				r = MM_ERR_NOMEM;
				goto out;
			}
			c->h = nh;
			cap = nc;
		}
		h = &c->h[c->n++];
		memset(h, 0, sizeof(*h));
		h->id = sqlite3_column_int64(st, 0);
		h->state = state_of((const char *)sqlite3_column_text(st, 2));
		h->seq = sqlite3_column_int64(st, 3);
		h->row_count = sqlite3_column_int64(st, 5);
		h->rows_kept = sqlite3_column_int64(st, 6);
		h->elapsed_ms = sqlite3_column_int64(st, 9);
		if ((h->name = strdup((const char *)sqlite3_column_text(st, 1))) == NULL ||
		    (h->state != H_OK &&
		     (h->message = strdup((const char *)sqlite3_column_text(st, 4))) == NULL) ||
		    (sqlite3_column_type(st, 7) != SQLITE_NULL &&
		     (h->rows = strdup((const char *)sqlite3_column_text(st, 7))) == NULL) ||
		    (sqlite3_column_type(st, 8) != SQLITE_NULL &&
		     (h->stats = strdup((const char *)sqlite3_column_text(st, 8))) == NULL)) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		if (h->state == H_OFFLINE)
			c->offline++;
		if (!is_final(h->state))
			h->seq = 0;
	}
	if (rc != SQLITE_DONE)
		goto out;
	r = MM_ERR_NOMEM;
	if (c->n > 0 && (c->order = calloc(c->n, sizeof(*c->order))) == NULL)
		goto out;
	for (i = 0; i < c->n; i++)
		if (c->h[i].seq > 0)
			c->order[c->norder++] = i;
	qsort_r(c->order, c->norder, sizeof(*c->order), cmp_seq, c);
	if (running) {
		for (i = 0; i < c->n; i++)
			if (c->h[i].state == H_PENDING) {
				c->h[i].state = H_TIMEOUT;
				free(c->h[i].message);
				if ((c->h[i].message = strdup(interrupted_msg)) == NULL)
					goto out;
				c->order[c->norder++] = i;
			}
		c->done_seq = 0;
	}
	for (i = 0; i < c->norder; i++) {
		c->h[c->order[i]].seq = (int64_t)i + 2;
		count_host(&c->cnt, &c->h[c->order[i]]);
	}
	c->nready = c->norder;
	if (c->done_seq == 0)
		c->done_seq = (int64_t)c->norder + 2;
	*out = c;
	c = NULL;
	r = 0;
out:
	sqlite3_finalize(st);
	campaign_free(c);
	return r;
}

/* A campaign for a reply: in memory, else loaded (*tmp then owns it).
 * Replies 404/500 itself and returns NULL. */
static struct campaign *get(struct mm_server *srv, struct mm_http_req *req, int64_t id,
                            struct campaign **tmp)
{
	struct campaign *c = find_campaign(id);
	int r;

	*tmp = NULL;
	if (c != NULL)
		return c;
	r = load(mm_store_reader(srv->store), id, tmp);
	if (r == MM_ERR_NOTFOUND) {
		char d[32];

		snprintf(d, sizeof(d), "%lld", (long long)id);
		mm_http_reply_error(req, 404, "no such live query", d);
		return NULL;
	}
	if (r != 0) {
		if (r == MM_ERR_SQL)
			op_reply_db_error(req, mm_store_reader(srv->store));
		else
			mm_http_reply_error(req, 500, "out of memory", NULL);
		return NULL;
	}
	return *tmp;
}

void mm_live_campaign_show(struct mm_server *srv, struct mm_http_req *req, int64_t id)
{
	struct campaign *tmp = NULL, *c;
	struct mm_buf b;

	mm_buf_init(&b, REPLY_MAX);
	if (mm_live_init(srv) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	if ((c = get(srv, req, id, &tmp)) == NULL)
		goto out;
	if (status_text(&b, c) != 0) {
		mm_http_reply_error(req, 500, "reply too large", NULL);
		goto out;
	}
	mm_http_reply(req, 200, "application/json", b.data, b.len);
out:
	mm_buf_free(&b);
	campaign_free(tmp);
}

void mm_live_campaign_stream(struct mm_server *srv, struct mm_http_req *req, int64_t id,
                             int64_t after)
{
	struct campaign *tmp = NULL, *c;
	struct stream *s = NULL;

	if (mm_live_init(srv) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return;
	}
	if (g.nstreams >= MM_LIVE_STREAMS_MAX) {
		mm_http_reply_error(req, 503, "too many live query streams", "retry later");
		return;
	}
	if ((c = get(srv, req, id, &tmp)) == NULL)
		return;
	mm_http_set_header(req, "X-Accel-Buffering", "no");
	if (tmp != NULL) {
		/* Finished: replay what the store has and end. */
		struct counts cnt = {0, 0, 0, 0, 0};
		int64_t upto = 0;

		mm_http_stream_begin(req, 200, "text/event-stream");
		send_events(tmp, req, &after, &cnt, &upto, tmp->done_seq);
		mm_http_stream_end(req);
		campaign_free(tmp);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return;
	}
	s->c = c;
	s->req = req;
	s->sent = after;
	s->next = c->streams;
	if (c->streams != NULL)
		c->streams->prev = s;
	c->streams = s;
	g.nstreams++;
	/* Begin first: a kept stream is then only watched for the close. */
	mm_http_stream_begin(req, 200, "text/event-stream");
	mm_http_keep(req, stream_closed, s);
	/* A comment first, so the client sees the stream open at once. */
	mm_http_stream_send(req, ": live query stream\n\n", 21);
	stream_pump(s);
}

int mm_live_campaign_summary(int64_t id, json_t *obj)
{
	struct campaign *c = find_campaign(id);
	struct mm_buf b;
	json_t *p;

	if (c == NULL)
		return 0;
	mm_buf_init(&b, 4096);
	if (add_progress(&b, c, &c->cnt, (c->end_ms != 0 ? c->end_ms : now_ms()) - c->start_ms) ==
	        0 &&
	    (p = json_loads(b.data, 0, NULL)) != NULL) {
		json_object_set_new(obj, "progress", p);
		json_object_set_new(obj, "status",
		                    json_string(c->done_seq != 0 ? "done" : "running"));
	}
	mm_buf_free(&b);
	return 1;
}

/* ---- jobs at start and every minute ------------------------------------------------ */

/* Appends the ids of a one-column query to *v. */
static int collect_ids(sqlite3 *db, sqlite3_stmt *st, int64_t **v, size_t *n, char **err)
{
	size_t cap = *n;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int64_t *nv = realloc(*v, (cap ? 2 * cap : 16) * sizeof(*nv));

			if (nv == NULL)
				return MM_ERR_NOMEM;
			*v = nv;
			cap = cap ? 2 * cap : 16;
		}
		(*v)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	return rc == SQLITE_DONE ? 0 : op_sqlerr(db, err);
}

/* Closes the campaigns a previous run left running: their pending hosts
 * time out after the last event, in host id order (as load() shows them). */
static int interrupted_run(sqlite3 *db, void *arg, char **err)
{
	sqlite3_stmt *st = NULL, *s;
	int64_t *v = NULL, *hv = NULL, base;
	size_t n = 0, nh, i, k;
	int r;

	(void)arg;
	if (sqlite3_prepare_v2(db, "SELECT id FROM campaigns WHERE status = 'running'", -1, &st,
	                       NULL) != SQLITE_OK)
		return op_sqlerr(db, err);
	r = collect_ids(db, st, &v, &n, err);
	sqlite3_finalize(st);
	for (i = 0; r == 0 && i < n; i++) {
		r = MM_ERR_SQL;
		if ((s = mm_store_stmt(db,
		                       "SELECT max(1, coalesce(max(seq), 0)) FROM campaign_hosts"
		                       " WHERE campaign_id = ?1",
		                       err)) == NULL)
			break;
		sqlite3_bind_int64(s, 1, v[i]);
		if (sqlite3_step(s) != SQLITE_ROW) {
			op_sqlerr(db, err);
			break;
		}
		base = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if ((s = mm_store_stmt(db,
		                       "SELECT host_id FROM campaign_hosts WHERE campaign_id = ?1"
		                       " AND status = 'pending' ORDER BY host_id",
		                       err)) == NULL)
			break;
		sqlite3_bind_int64(s, 1, v[i]);
		nh = 0;
		r = collect_ids(db, s, &hv, &nh, err);
		sqlite3_reset(s);
		if (r != 0)
			break;
		r = MM_ERR_SQL;
		if ((s = mm_store_stmt(db,
		                       "UPDATE campaign_hosts SET status = 'timeout', message = ?3,"
		                       " seq = ?4 WHERE campaign_id = ?1 AND host_id = ?2",
		                       err)) == NULL)
			break;
		for (k = 0; k < nh; k++) {
			sqlite3_bind_int64(s, 1, v[i]);
			sqlite3_bind_int64(s, 2, hv[k]);
			sqlite3_bind_text(s, 3, interrupted_msg, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 4, base + 1 + (int64_t)k);
			if (sqlite3_step(s) != SQLITE_DONE)
				break;
			sqlite3_reset(s);
		}
		if (k < nh) {
			op_sqlerr(db, err);
			break;
		}
		if ((s = mm_store_stmt(
		         db,
		         "UPDATE campaigns SET status = 'done', finished_at = ?2, done_seq = ?3,"
		         " ok = (SELECT count(*) FROM campaign_hosts WHERE campaign_id = ?1"
		         "       AND status = 'ok'),"
		         " errors = (SELECT count(*) FROM campaign_hosts WHERE campaign_id = ?1"
		         "           AND status = 'error'),"
		         " timed_out = (SELECT count(*) FROM campaign_hosts WHERE campaign_id = ?1"
		         "              AND status = 'timeout'),"
		         " rows = (SELECT coalesce(sum(rows_kept), 0) FROM campaign_hosts"
		         "         WHERE campaign_id = ?1)"
		         " WHERE id = ?1",
		         err)) == NULL)
			break;
		sqlite3_bind_int64(s, 1, v[i]);
		sqlite3_bind_int64(s, 2, mm_now());
		sqlite3_bind_int64(s, 3, base + 1 + (int64_t)nh);
		if (sqlite3_step(s) != SQLITE_DONE) {
			op_sqlerr(db, err);
			break;
		}
		r = 0;
	}
	free(v);
	free(hv);
	return r;
}

static void log_done(void *arg, int rc, const char *err)
{
	if (rc != 0)
		fprintf(stderr, "mamori-server: live queries: %s: %s\n", (const char *)arg,
		        err != NULL ? err : mm_strerror(rc));
}

static void interrupted_submit(struct mm_server *srv)
{
	if (mm_store_submit(srv->store, interrupted_run, log_done,
	                    (void *)"closing interrupted live queries") != 0)
		fprintf(stderr, "mamori-server: live queries: store queue full\n");
}

struct retention_job {
	int64_t before;   /* finished before this (Unix s) go */
	int64_t max_rows; /* rows kept over all finished campaigns */
};

/* Deletes finished campaigns older than the retention, then the oldest
 * finished ones until the rows kept fit retention_rows. */
static int retention_run(sqlite3 *db, void *arg, char **err)
{
#define GOING                                                                                      \
	"SELECT id FROM campaigns WHERE status = 'done' AND (finished_at < ?1"                     \
	" OR id IN (SELECT id FROM (SELECT id, sum(rows) OVER (ORDER BY id DESC) AS cum"           \
	"  FROM campaigns WHERE status = 'done') WHERE cum > ?2))"
	static const char *const sql[] = {
	    "DELETE FROM campaign_hosts WHERE campaign_id IN (" GOING ")",
	    "DELETE FROM campaigns WHERE id IN (" GOING ")",
	};
#undef GOING
	struct retention_job *j = arg;
	sqlite3_stmt *s;
	size_t i;

	/* Hosts first: the campaigns going are still there to be named. */
	for (i = 0; i < 2; i++) {
		if ((s = mm_store_stmt(db, sql[i], err)) == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_int64(s, 1, j->before);
		sqlite3_bind_int64(s, 2, j->max_rows);
		if (sqlite3_step(s) != SQLITE_DONE)
			return op_sqlerr(db, err);
	}
	return 0;
}

static void retention_done(void *arg, int rc, const char *err)
{
	log_done((void *)"retention", rc, err);
	free(arg);
}

static void retention_submit(struct mm_server *srv)
{
	struct retention_job *j = malloc(sizeof(*j));

	if (j == NULL)
		return;
	j->before = mm_http_now_ms(srv->http) / 1000 - srv->cfg.live.retention_s;
	j->max_rows = srv->cfg.live.retention_rows;
	if (mm_store_submit(srv->store, retention_run, retention_done, j) != 0)
		free(j);
}

/* ---- state and tick
 * ------------------------------------------------------------------------------ */

int mm_live_init(struct mm_server *srv)
{
	if (g.ready && g.srv == srv)
		return 0;
	/* One coordinator per process; a new one (tests) starts afresh. */
	g.srv = srv;
	g.list = NULL;
	g.ones = NULL;
	g.running = 0;
	g.nstreams = 0;
	if (mm_http_every(srv->http, MM_LIVE_TICK_MS, tick, srv) != 0)
		return MM_ERR_NOMEM;
	g.ready = 1;
	g.last_heartbeat = g.last_retention = mm_http_now_ms(srv->http);
	if (mm_live_labels_load(srv) != 0)
		fprintf(stderr, "mamori-server: live queries: cannot load the labels\n");
	interrupted_submit(srv);
	retention_submit(srv);
	return 0;
}

static void tick(void *arg)
{
	struct mm_server *srv = arg;
	struct campaign *c, *next;
	int64_t now;

	if (srv != g.srv || srv->store == NULL)
		return;
	now = mm_http_now_ms(srv->http);
	mm_live_poll_tick(srv, now);
	for (c = g.list; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_RUNNING && now >= c->deadline_ms)
			time_out(c, now);
	}
	if (now - g.last_heartbeat >= MM_LIVE_HEARTBEAT_MS) {
		g.last_heartbeat = now;
		for (c = g.list; c != NULL; c = c->next) {
			struct stream *s;

			for (s = c->streams; s != NULL; s = s->next)
				mm_http_stream_send(s->req, ": keep-alive\n\n", 14);
		}
	}
	if (now - g.last_retention >= RETENTION_EVERY_MS) {
		g.last_retention = now;
		retention_submit(srv);
	}
}
