/*
 * longpoll.c - the agent side of live queries (campaign.h): distributed
 * reads, parked until there is work when the agent asks for it with
 * "mamori_wait", distributed writes routed to campaigns and to label
 * memberships, and the dynamic labels each host evaluates.
 *
 * Each host that reads gets an entry (by host id, never freed: a few dozen
 * bytes per host).  A parked read sits in a binary heap ordered by the
 * time it must be answered anyway: its deadline (mamori_wait, at most
 * live.long_poll) or, when earlier, the host's next label evaluation.  A
 * new campaign answers the parked reads of its targets at once
 * (mm_live_wake); the tick answers those whose time has come; a client
 * that hangs up takes its read out of the heap.  A read that carries no
 * mamori_wait (osquery) is answered at once, with "accelerate" while a
 * campaign that targets the host runs.  A host holding a read counts as
 * seen: its last_seen (hosts.h) is refreshed every TOUCH_S seconds, so it
 * stays online however long its polls are.
 *
 * Dynamic labels: every host gets every dynamic label's query, as
 * "mamori_label_ID", at its first read, then every live.label_interval,
 * and at once after the labels change.  Its answer sets the membership:
 * rows -> member; no rows or an error -> not a member.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "error.h"
#include "opapi.h"
#include "strutil.h"

#define WRITE_IDS_MAX 1000 /* answers taken from one write */
#define TOUCH_S 5          /* parked hosts' last_seen is at most this old */
#define REPLY_MAX (32u << 20) /* a read's reply: the queries of 16 live queries and every label */

struct agent {
	struct agent *next; /* hash chain */
	int64_t host_id;
	struct mm_http_req *req; /* the parked read, or NULL */
	int64_t deadline_ms;     /* of the parked read */
	int64_t wake_ms;         /* its heap key: deadline or label evaluation */
	int64_t label_due_ms;    /* next label evaluation */
	uint64_t label_gen;      /* the label set it was last given */
	size_t hpos;             /* heap index + 1, 0 = not in the heap */
	int wanted_wait;         /* the parked read carried mamori_wait */
};

struct dlabel {
	int64_t id;
	char *qid;  /* "mamori_label_ID" */
	char *pair; /* "mamori_label_ID":"SQL" (JSON text) */
	char *sql;
};

static struct {
	struct agent **tab;
	size_t nb, count;
	struct agent **heap;
	size_t nheap, aheap;
	struct dlabel *labels;
	size_t nlabels;
	uint64_t gen;     /* label set generation, from 1 */
	int labels_moved; /* the last load changed the set */
	int64_t touched_s;  /* when parked hosts' last_seen was last refreshed */
	struct mm_live_counters n;
} lp;

/* ---- hosts' entries ---------------------------------------------------------------- */

static size_t slot(int64_t id, size_t nb)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 17) & (nb - 1);
}

/* The entry of host id; created when create is set (NULL: out of memory). */
static struct agent *agent_get(int64_t id, int create)
{
	struct agent *a;
	size_t i;

	if (lp.nb > 0)
		for (a = lp.tab[slot(id, lp.nb)]; a != NULL; a = a->next)
			if (a->host_id == id)
				return a;
	if (!create)
		return NULL;
	if (lp.count >= lp.nb) {
		size_t nb = lp.nb ? 2 * lp.nb : 1024;
		struct agent **nt = calloc(nb, sizeof(*nt)), *next;

		if (nt == NULL)
			return NULL;
		for (i = 0; i < lp.nb; i++)
			for (a = lp.tab[i]; a != NULL; a = next) {
				next = a->next;
				a->next = nt[slot(a->host_id, nb)];
				nt[slot(a->host_id, nb)] = a;
			}
		free(lp.tab);
		lp.tab = nt;
		lp.nb = nb;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->host_id = id;
	a->next = lp.tab[slot(id, lp.nb)];
	lp.tab[slot(id, lp.nb)] = a;
	lp.count++;
	return a;
}

/* ---- the heap of parked reads --------------------------------------------------------- */

static void heap_set(size_t i, struct agent *a)
{
	lp.heap[i] = a;
	a->hpos = i + 1;
}

static void sift_up(size_t i)
{
	struct agent *a = lp.heap[i];

	while (i > 0 && lp.heap[(i - 1) / 2]->wake_ms > a->wake_ms) {
		heap_set(i, lp.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, a);
}

static void sift_down(size_t i)
{
	struct agent *a = lp.heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= lp.nheap)
			break;
		if (c + 1 < lp.nheap && lp.heap[c + 1]->wake_ms < lp.heap[c]->wake_ms)
			c++;
		if (lp.heap[c]->wake_ms >= a->wake_ms)
			break;
		heap_set(i, lp.heap[c]);
		i = c;
	}
	heap_set(i, a);
}

static int heap_push(struct agent *a)
{
	if (lp.nheap == lp.aheap) {
		size_t na = lp.aheap ? 2 * lp.aheap : 1024;
		struct agent **nh = realloc(lp.heap, na * sizeof(*nh));

		if (nh == NULL)
			return MM_ERR_NOMEM;
		lp.heap = nh;
		lp.aheap = na;
	}
	heap_set(lp.nheap++, a);
	sift_up(lp.nheap - 1);
	return 0;
}

static void heap_remove(struct agent *a)
{
	size_t i;

	if (a->hpos == 0)
		return;
	i = a->hpos - 1;
	a->hpos = 0;
	if (--lp.nheap == i)
		return;
	heap_set(i, lp.heap[lp.nheap]);
	if (i > 0 && lp.heap[(i - 1) / 2]->wake_ms > lp.heap[i]->wake_ms)
		sift_up(i);
	else
		sift_down(i);
}

/* ---- what a read gets ------------------------------------------------------------------- */

static int labels_due(const struct agent *a, int64_t now)
{
	return lp.nlabels > 0 && (a->label_gen != lp.gen || now >= a->label_due_ms);
}

/* When a parked read of a must be answered even without a campaign. */
static int64_t wake_time(const struct agent *a, int64_t now)
{
	int64_t w = a->deadline_ms;

	if (lp.nlabels > 0) {
		int64_t due = a->label_gen != lp.gen ? now : a->label_due_ms;

		if (due < w)
			w = due;
	}
	return w;
}

/* The reply to a read of a, as JSON text in the returned buffer (valid
 * until the next call; NULL when out of memory): pending campaign queries,
 * then due label queries.  with_wait: the read carried mamori_wait (the
 * reply says how long the coordinator parks reads); else "accelerate"
 * while a campaign targets the host.  *n gets the number of queries.
 * Built as text from members made once per query: a new live query is
 * the reply to thousands of parked reads at once. */
static const struct mm_buf *work(struct mm_server *srv, struct agent *a, int64_t now,
                                 int with_wait, size_t *n)
{
	static struct mm_buf q, reply;
	int64_t acc = 0;
	size_t i;
	int r;

	if (reply.cap == 0) {
		mm_buf_init(&q, REPLY_MAX);
		mm_buf_init(&reply, REPLY_MAX);
	}
	mm_buf_reset(&q);
	mm_buf_reset(&reply);
	*n = mm_live_work_for(srv, a->host_id, &q, &acc);
	if (labels_due(a, now)) {
		for (i = 0; i < lp.nlabels; i++)
			if ((q.len == 0 || mm_buf_addc(&q, ',') == 0) &&
			    mm_buf_adds(&q, lp.labels[i].pair) == 0)
				(*n)++;
		a->label_due_ms = now + (int64_t)srv->cfg.live.label_interval_s * 1000;
		a->label_gen = lp.gen;
	}
	r = mm_buf_adds(&reply, "{\"queries\":{");
	if (r == 0 && q.len > 0)
		r = mm_buf_add(&reply, q.data, q.len);
	if (r == 0)
		r = mm_buf_adds(&reply, "},\"discovery\":{}");
	if (r == 0 && with_wait)
		r = mm_buf_addf(&reply, ",\"mamori_wait\":%d", srv->cfg.live.long_poll_s);
	else if (r == 0 && acc > 0)
		r = mm_buf_addf(&reply, ",\"accelerate\":%lld", (long long)(acc > 300 ? 300 : acc));
	if (r == 0)
		r = mm_buf_addc(&reply, '}');
	return r == 0 ? &reply : NULL;
}

/* Replies 200 with a work() reply, or 503 when it could not be made. */
static void reply_work(struct mm_http_req *req, const struct mm_buf *w)
{
	if (w == NULL)
		mm_http_reply_error(req, 503, "out of memory", NULL);
	else
		mm_http_reply(req, 200, "application/json", w->data, w->len);
}

/* Replies to a read with no work.  with_wait: it carried mamori_wait (the
 * answer keeps saying that reads are held, so the agent keeps long-polling). */
static void reply_empty(struct mm_server *srv, struct mm_http_req *req, int with_wait)
{
	char body[96];
	int n;

	if (with_wait)
		n = snprintf(body, sizeof(body),
		             "{\"queries\":{},\"discovery\":{},\"mamori_wait\":%d}",
		             srv->cfg.live.long_poll_s);
	else
		n = snprintf(body, sizeof(body), "{\"queries\":{},\"discovery\":{}}");
	mm_http_reply(req, 200, "application/json", body, (size_t)n);
}

/* Answers a's parked read now with its work (maybe none). */
static void answer_parked(struct mm_server *srv, struct agent *a, int64_t now)
{
	struct mm_http_req *req = a->req;
	size_t n;

	if (req == NULL)
		return;
	heap_remove(a);
	a->req = NULL;
	reply_work(req, work(srv, a, now, a->wanted_wait, &n));
	mm_http_release(req);
}

/* The client of a parked read went away. */
static void poll_closed(struct mm_http_req *req, void *arg)
{
	struct agent *a = arg;

	heap_remove(a);
	if (a->req == req)
		a->req = NULL;
	mm_http_release(req);
}

/* The wait a body asks for with "mamori_wait": 0 when absent (*wv NULL),
 * else milliseconds capped by live.long_poll; -1 when it is not a number
 * of seconds from 0 to 86400. */
static int64_t wait_of(struct mm_server *srv, const json_t *body, const json_t **wv)
{
	double w;

	*wv = json_object_get(body, "mamori_wait");
	if (*wv == NULL)
		return 0;
	w = json_is_number(*wv) ? json_number_value(*wv) : -1;
	if (!(w >= 0 && w <= 86400))
		return -1;
	if (w * 1000 > (double)srv->cfg.live.long_poll_s * 1000)
		return (int64_t)srv->cfg.live.long_poll_s * 1000;
	return (int64_t)(w * 1000);
}

static void reply_bad_wait(struct mm_http_req *req)
{
	mm_http_reply_error(req, 400, "mamori_wait must be a number of seconds", "from 0 to 86400");
}

/* A read of host_id (or a write that asked to wait, see mm_live_write):
 * its work now, or parked for up to wait_ms when there is none.
 * with_wait: the request carried mamori_wait.  Returns 1 when req was
 * parked (it is then this file's), 0 when it was answered (or its client
 * had gone). */
static int read_or_park(struct mm_server *srv, struct mm_http_req *req, int64_t host_id,
                        int with_wait, int64_t wait_ms)
{
	int64_t now = mm_http_now_ms(srv->http);
	const struct mm_buf *reply;
	struct agent *a;
	size_t n;

	if (mm_http_closed(req))
		return 0;
	if (mm_live_init(srv) != 0 || (a = agent_get(host_id, 1)) == NULL) {
		reply_empty(srv, req, with_wait);
		return 0;
	}
	if (a->req != NULL) {
		/* An older read of the same host is still parked (a client that
		 * gave up without closing, or a cloned node key): it gets an
		 * empty answer so no work goes to it. */
		struct mm_http_req *old = a->req;

		heap_remove(a);
		a->req = NULL;
		reply_empty(srv, old, a->wanted_wait);
		mm_http_release(old);
	}
	a->wanted_wait = with_wait;
	reply = work(srv, a, now, with_wait, &n);
	if (reply == NULL || n > 0 || wait_ms <= 0) {
		reply_work(req, reply);
		return 0;
	}
	a->deadline_ms = now + wait_ms;
	a->wake_ms = wake_time(a, now);
	if (heap_push(a) != 0) {
		reply_empty(srv, req, 1);
		return 0;
	}
	a->req = req;
	mm_http_keep(req, poll_closed, a);
	return 1;
}

void mm_live_read(struct mm_server *srv, struct mm_http_req *req, struct mm_host *h,
                  const json_t *body)
{
	const json_t *wv;
	int64_t wait_ms = wait_of(srv, body, &wv);

	lp.n.reads++;
	if (wait_ms < 0) {
		reply_bad_wait(req);
		return;
	}
	read_or_park(srv, req, h->id, wv != NULL, wait_ms);
}

void mm_live_wake(struct mm_server *srv, const int64_t *host_ids, size_t n)
{
	int64_t now = mm_http_now_ms(srv->http);
	size_t i;

	for (i = 0; i < n; i++) {
		struct agent *a = agent_get(host_ids[i], 0);

		if (a != NULL && a->req != NULL)
			answer_parked(srv, a, now);
	}
}

int mm_live_parked(int64_t host_id)
{
	struct agent *a = agent_get(host_id, 0);

	return a != NULL && a->req != NULL;
}

size_t mm_live_parked_count(void)
{
	return lp.nheap;
}

void mm_live_counters(struct mm_live_counters *out)
{
	*out = lp.n;
}

void mm_live_poll_tick(struct mm_server *srv, int64_t now_ms)
{
	size_t guard = lp.nheap, i;
	int64_t now_s = now_ms / 1000;

	/* Bounded: each round answers one parked read. */
	while (lp.nheap > 0 && lp.heap[0]->wake_ms <= now_ms && guard-- > 0)
		answer_parked(srv, lp.heap[0], now_ms);
	/* A host holding a read is in contact: its last_seen (the online
	 * status everywhere, written back in batches) follows, once every
	 * TOUCH_S, whatever the length of its long polls. */
	if (now_s - lp.touched_s < 1)
		return;
	lp.touched_s = now_s;
	for (i = 0; i < lp.nheap; i++) {
		struct mm_host *h = mm_hosts_by_id(srv->hosts, lp.heap[i]->host_id);

		if (h != NULL && h->last_seen + TOUCH_S <= now_s)
			mm_hosts_touch(srv->hosts, h, now_s, NULL);
	}
}

/* ---- dynamic labels ---------------------------------------------------------------------- */

static void labels_clear(struct dlabel *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].qid);
		free(v[i].pair);
		free(v[i].sql);
	}
	free(v);
}

/* 1 when v[0..n) is the set loaded now (same ids, same queries). */
static int labels_same(const struct dlabel *v, size_t n)
{
	size_t i;

	if (n != lp.nlabels)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i].id != lp.labels[i].id || strcmp(v[i].sql, lp.labels[i].sql) != 0)
			return 0;
	return 1;
}

int mm_live_labels_load(struct mm_server *srv)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	struct dlabel *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = MM_ERR_SQL;

	if (lp.gen == 0)
		lp.gen = 1;
	if (sqlite3_prepare_v2(db,
	                       "SELECT id, query FROM labels WHERE kind = 'dynamic' ORDER BY id",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char qid[64];

		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct dlabel *nv = realloc(v, nc * sizeof(*nv));

			if (nv == NULL) {
				r = MM_ERR_NOMEM;
				goto out;
			}
			v = nv;
			cap = nc;
		}
		v[n].id = sqlite3_column_int64(st, 0);
		snprintf(qid, sizeof(qid), MM_LIVE_LABEL_PREFIX "%lld", (long long)v[n].id);
		v[n].qid = strdup(qid);
		v[n].sql = strdup((const char *)sqlite3_column_text(st, 1));
		v[n].pair = v[n].sql != NULL ? mm_live_query_pair(qid, v[n].sql) : NULL;
		n++;
		if (v[n - 1].qid == NULL || v[n - 1].sql == NULL || v[n - 1].pair == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		goto out;
	lp.labels_moved = !labels_same(v, n);
	labels_clear(lp.labels, lp.nlabels);
	lp.labels = v;
	lp.nlabels = n;
	v = NULL;
	n = 0;
	r = 0;
out:
	if (r == MM_ERR_SQL)
		fprintf(stderr, "mamori-server: loading labels: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	labels_clear(v, n);
	return r;
}

static const struct dlabel *find_label(int64_t id)
{
	size_t i;

	for (i = 0; i < lp.nlabels; i++)
		if (lp.labels[i].id == id)
			return &lp.labels[i];
	return NULL;
}

void mm_live_labels_changed(struct mm_server *srv)
{
	int64_t now = mm_http_now_ms(srv->http);
	struct agent **v;
	size_t i, n;

	if (mm_live_init(srv) != 0)
		return;
	/* Manual labels do not concern the agents: only a new set of
	 * dynamic labels is sent again to every host. */
	if (mm_live_labels_load(srv) != 0 || !lp.labels_moved)
		return;
	lp.gen++;
	if (lp.nlabels == 0 || lp.nheap == 0)
		return;
	/* Parked reads get the new set now (a copy: answering edits the heap). */
	n = lp.nheap;
	if ((v = malloc(n * sizeof(*v))) == NULL) {
		/* They get it at their deadline instead. */
		return;
	}
	memcpy(v, lp.heap, n * sizeof(*v));
	for (i = 0; i < n; i++)
		answer_parked(srv, v[i], now);
	free(v);
}

/* ---- writes ------------------------------------------------------------------------ */

struct membership {
	int64_t label_id;
	int member;
};

struct write_job {
	struct mm_server *srv;
	struct mm_http_req *req;
	int64_t host_id, now;
	struct mm_live_answer **ans;
	size_t nans;
	struct membership *m;
	size_t nm;
	int with_wait;   /* the write carried mamori_wait: answered as a read */
	int64_t wait_ms; /* then parked up to this long */
};

static void write_free(struct write_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->nans; i++)
		mm_live_answer_free(j->ans[i]);
	free(j->ans);
	free(j->m);
	free(j);
}

static int write_run(sqlite3 *db, void *arg, char **err)
{
	struct write_job *j = arg;
	sqlite3_stmt *s;
	size_t i;
	int r;

	for (i = 0; i < j->nans; i++)
		if ((r = mm_live_answer_store(db, j->ans[i], err)) != 0)
			return r;
	for (i = 0; i < j->nm; i++) {
		if (j->m[i].member)
			s = mm_store_stmt(db,
			                  "INSERT INTO label_members(label_id, host_id, updated_at)"
			                  " SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM labels"
			                  " WHERE id = ?1 AND kind = 'dynamic')"
			                  " ON CONFLICT(label_id, host_id) DO UPDATE"
			                  " SET updated_at = excluded.updated_at",
			                  err);
		else
			s = mm_store_stmt(db,
			                  "DELETE FROM label_members WHERE label_id = ?1 AND"
			                  " host_id = ?2 AND EXISTS (SELECT 1"
			                  " FROM labels WHERE id = ?1 AND kind = 'dynamic')",
			                  err);
		if (s == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_int64(s, 1, j->m[i].label_id);
		sqlite3_bind_int64(s, 2, j->host_id);
		if (j->m[i].member)
			sqlite3_bind_int64(s, 3, j->now);
		if (sqlite3_step(s) != SQLITE_DONE)
			return op_sqlerr(db, err);
		sqlite3_reset(s);
	}
	return 0;
}

static void write_done(void *arg, int rc, const char *err)
{
	struct write_job *j = arg;
	int parked = 0;
	size_t i;

	for (i = 0; i < j->nans; i++) {
		mm_live_answer_done(j->srv, j->ans[i], rc, err);
		j->ans[i] = NULL;
	}
	j->nans = 0;
	if (rc != 0)
		mm_http_reply_error(j->req, 503, "store unavailable, retry later", err);
	else if (j->with_wait && mm_hosts_by_id(j->srv->hosts, j->host_id) != NULL)
		parked = read_or_park(j->srv, j->req, j->host_id, 1, j->wait_ms);
	else
		mm_http_reply(j->req, 200, "application/json", "{}", 2);
	if (!parked)
		mm_http_release(j->req);
	write_free(j);
}

/* The agent's verdict on query id: statuses[id] (0 = ok; a number or a
 * string of digits), else ok when queries[id] is an array. */
static int answer_ok(const json_t *statuses, const json_t *queries, const char *id)
{
	const json_t *s = json_object_get(statuses, id);
	int64_t v;

	if (json_is_integer(s))
		return json_integer_value(s) == 0;
	if (json_is_string(s))
		return mm_parse_i64(json_string_value(s), &v) == 0 && v == 0;
	return s == NULL && json_is_array(json_object_get(queries, id));
}

/* The id number after prefix, or 0. */
static int64_t id_after(const char *id, const char *prefix)
{
	int64_t v;

	if (!mm_startswith(id, prefix) || mm_parse_i64(id + strlen(prefix), &v) != 0 || v <= 0)
		return 0;
	return v;
}

/* Takes the answer to query id (from queries or statuses) into j. */
static int take(struct mm_server *srv, struct write_job *j, const json_t *body, const char *id)
{
	const json_t *queries = json_object_get(body, "queries");
	const json_t *statuses = json_object_get(body, "statuses");
	const json_t *rows = json_object_get(queries, id), *row;
	const char *message =
	    json_string_value(json_object_get(json_object_get(body, "messages"), id));
	int ok = answer_ok(statuses, queries, id);
	int64_t cid, lid;
	char why[96];
	size_t i;

	if (ok && !json_is_array(rows)) {
		ok = 0;
		message = "malformed answer: the rows are not an array";
	}
	for (i = 0; ok && i < json_array_size(rows); i++) {
		if (json_is_object(row = json_array_get(rows, i)))
			continue;
		snprintf(why, sizeof(why), "malformed answer: row %zu is not an object", i);
		ok = 0;
		message = why;
	}
	if ((cid = id_after(id, MM_LIVE_QUERY_PREFIX)) > 0) {
		struct mm_live_answer *a =
		    mm_live_answer_new(srv, cid, j->host_id, ok, message, ok ? rows : NULL,
		                       json_object_get(json_object_get(body, "stats"), id));

		if (a != NULL)
			j->ans[j->nans++] = a;
	} else if ((lid = id_after(id, MM_LIVE_LABEL_PREFIX)) > 0 && find_label(lid) != NULL) {
		j->m[j->nm].label_id = lid;
		j->m[j->nm].member = ok && json_array_size(rows) > 0;
		j->nm++;
	}
	return 0;
}

void mm_live_write(struct mm_server *srv, struct mm_http_req *req, struct mm_host *h,
                   const json_t *body)
{
	const json_t *queries = json_object_get(body, "queries");
	const json_t *statuses = json_object_get(body, "statuses");
	struct write_job *j = NULL;
	const char *id;
	const json_t *wv;
	json_t *v;
	size_t n = json_object_size(queries) + json_object_size(statuses), seen = 0;
	int64_t wait_ms = wait_of(srv, body, &wv);

	lp.n.writes++;
	if (wait_ms < 0) {
		reply_bad_wait(req);
		return;
	}
	if (wv != NULL)
		lp.n.held_writes++;
	if (mm_live_init(srv) != 0)
		goto busy;
	if (n > 2 * WRITE_IDS_MAX)
		n = 2 * WRITE_IDS_MAX;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (n > 0 && ((j->ans = calloc(n, sizeof(*j->ans))) == NULL ||
	               (j->m = calloc(n, sizeof(*j->m))) == NULL)))
		goto busy;
	j->srv = srv;
	j->req = req;
	j->host_id = h->id;
	j->now = mm_http_now_ms(srv->http) / 1000;
	j->with_wait = wv != NULL;
	j->wait_ms = wait_ms;
	json_object_foreach((json_t *)queries, id, v)
	{
		if (++seen > WRITE_IDS_MAX)
			break;
		take(srv, j, body, id);
	}
	json_object_foreach((json_t *)statuses, id, v)
	{
		if (json_object_get(queries, id) != NULL)
			continue;
		if (++seen > WRITE_IDS_MAX)
			break;
		take(srv, j, body, id);
	}
	if (j->nans == 0 && j->nm == 0) {
		if (j->with_wait)
			read_or_park(srv, req, h->id, 1, wait_ms);
		else
			mm_http_reply(req, 200, "application/json", "{}", 2);
		write_free(j);
		return;
	}
	mm_http_keep(req, NULL, NULL);
	if (mm_store_submit(srv->store, write_run, write_done, j) != 0) {
		/* Queue full: the answers are reported as not stored. */
		write_done(j, MM_ERR_LIMIT, "store queue full");
		return;
	}
	return;
busy:
	write_free(j);
	mm_http_reply_error(req, 503, "out of memory", "retry later");
}
