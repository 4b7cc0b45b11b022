/*
 * hosts.c - the in-memory index of enrolled hosts (hosts.h): two chained
 * hash tables over the same entries (by node-key hash, by id) and a list of
 * entries whose last_seen or address changed since the last write-back.
 *
 * A check-in only updates the entry; every MM_HOSTS_FLUSH_MS one store job
 * writes the changed entries with one UPDATE each, inside one transaction.
 * After a crash the hosts table's last_seen may be up to that much older than
 * the truth, which only matters for the online/offline status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "hosts.h"
#include "server.h"

#define NODE_KEY_MAX 256

struct mm_hosts {
	struct mm_host **by_key, **by_id;
	size_t nbuckets; /* power of two, for both tables */
	size_t count;
	int64_t *dirty; /* ids whose entry has dirty set */
	size_t ndirty, adirty;
};

static size_t key_slot(const struct mm_hosts *h, const char *key_hash)
{
	uint64_t v = 0;
	int i;

	/* The hash is already uniform: its first 16 hex digits will do. */
	for (i = 0; i < 16 && key_hash[i] != '\0'; i++) {
		char c = key_hash[i];

		v = (v << 4) | (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return (size_t)v & (h->nbuckets - 1);
}

static size_t id_slot(const struct mm_hosts *h, int64_t id)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 20) & (h->nbuckets - 1);
}

int mm_hosts_new(struct mm_hosts **out)
{
	struct mm_hosts *h;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return MM_ERR_NOMEM;
	h->nbuckets = 1024;
	if ((h->by_key = calloc(h->nbuckets, sizeof(*h->by_key))) == NULL ||
	    (h->by_id = calloc(h->nbuckets, sizeof(*h->by_id))) == NULL) {
		mm_hosts_free(h);
		return MM_ERR_NOMEM;
	}
	*out = h;
	return 0;
}

static void host_free(struct mm_host *e)
{
	if (e == NULL)
		return;
	free(e->host_identifier);
	free(e->hostname);
	free(e);
}

void mm_hosts_free(struct mm_hosts *h)
{
	struct mm_host *e, *next;
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; h->by_id != NULL && i < h->nbuckets; i++)
		for (e = h->by_id[i]; e != NULL; e = next) {
			next = e->next_id;
			host_free(e);
		}
	free(h->by_key);
	free(h->by_id);
	free(h->dirty);
	free(h);
}

/* Doubles both tables when the load passes 1. */
static int grow(struct mm_hosts *h)
{
	struct mm_host **nk, **ni, *e, *next, **old_id = h->by_id;
	size_t i, old_n = h->nbuckets;

	if (h->count < h->nbuckets)
		return 0;
	nk = calloc(2 * old_n, sizeof(*nk));
	ni = calloc(2 * old_n, sizeof(*ni));
	if (nk == NULL || ni == NULL) {
		free(nk);
		free(ni);
		return MM_ERR_NOMEM;
	}
	free(h->by_key);
	h->by_key = nk;
	h->by_id = ni;
	h->nbuckets = 2 * old_n;
	for (i = 0; i < old_n; i++)
		for (e = old_id[i]; e != NULL; e = next) {
			size_t ks = key_slot(h, e->key_hash), is = id_slot(h, e->id);

			next = e->next_id;
			e->next_key = nk[ks];
			nk[ks] = e;
			e->next_id = ni[is];
			ni[is] = e;
		}
	free(old_id);
	return 0;
}

/* Unlinks e from both tables (it stays allocated). */
static void unlink_host(struct mm_hosts *h, struct mm_host *e)
{
	struct mm_host **pp;

	for (pp = &h->by_key[key_slot(h, e->key_hash)]; *pp != NULL; pp = &(*pp)->next_key)
		if (*pp == e) {
			*pp = e->next_key;
			break;
		}
	for (pp = &h->by_id[id_slot(h, e->id)]; *pp != NULL; pp = &(*pp)->next_id)
		if (*pp == e) {
			*pp = e->next_id;
			break;
		}
	h->count--;
}

static struct mm_host *by_key_hash(struct mm_hosts *h, const char *key_hash)
{
	struct mm_host *e;

	for (e = h->by_key[key_slot(h, key_hash)]; e != NULL; e = e->next_key)
		if (memcmp(e->key_hash, key_hash, 64) == 0)
			return e;
	return NULL;
}

struct mm_host *mm_hosts_by_key(struct mm_hosts *h, const char *node_key, size_t len)
{
	char hash[65];

	if (len == 0 || len > NODE_KEY_MAX)
		return NULL;
	mm_sha256_hex(node_key, len, hash);
	return by_key_hash(h, hash);
}

struct mm_host *mm_hosts_by_id(struct mm_hosts *h, int64_t id)
{
	struct mm_host *e;

	for (e = h->by_id[id_slot(h, id)]; e != NULL; e = e->next_id)
		if (e->id == id)
			return e;
	return NULL;
}

int mm_hosts_put(struct mm_hosts *h, int64_t id, const char *key_hash, const char *identifier,
                 const char *hostname, int64_t last_seen, int checkin_interval, const char *address)
{
	struct mm_host *e, *old;
	size_t ks, is;

	if (strlen(key_hash) != 64)
		return MM_ERR_INTERNAL;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->host_identifier = strdup(identifier)) == NULL ||
	    (e->hostname = strdup(hostname != NULL ? hostname : "")) == NULL) {
		host_free(e);
		return MM_ERR_NOMEM;
	}
	e->id = id;
	memcpy(e->key_hash, key_hash, 65);
	e->last_seen = last_seen;
	e->stored_seen = last_seen; /* put by the enroll job or loaded */
	e->checkin_interval = checkin_interval > 0 ? checkin_interval : 10;
	if (address != NULL)
		snprintf(e->address, sizeof(e->address), "%s", address);
	if ((old = mm_hosts_by_id(h, id)) != NULL) {
		unlink_host(h, old);
		host_free(old);
	}
	if ((old = by_key_hash(h, key_hash)) != NULL) {
		/* Cannot happen (keys are unique in the table): keep the index
		 * consistent anyway. */
		unlink_host(h, old);
		host_free(old);
	}
	if (grow(h) != 0) {
		host_free(e);
		return MM_ERR_NOMEM;
	}
	ks = key_slot(h, key_hash);
	is = id_slot(h, id);
	e->next_key = h->by_key[ks];
	h->by_key[ks] = e;
	e->next_id = h->by_id[is];
	h->by_id[is] = e;
	h->count++;
	return 0;
}

int mm_hosts_revoke(struct mm_hosts *h, int64_t id)
{
	struct mm_host *e = mm_hosts_by_id(h, id);

	if (e == NULL)
		return MM_ERR_NOTFOUND;
	unlink_host(h, e);
	host_free(e);
	return 0;
}

static void mark_dirty(struct mm_hosts *h, struct mm_host *host);

void mm_hosts_touch(struct mm_hosts *h, struct mm_host *host, int64_t now, const char *address)
{
	int changed = 0;

	if (now > host->last_seen) {
		host->last_seen = now;
		changed = 1;
	}
	if (address != NULL && address[0] != '\0' && strcmp(address, host->address) != 0) {
		snprintf(host->address, sizeof(host->address), "%s", address);
		changed = 2;
	}
	if (!changed || host->dirty)
		return;
	if (changed == 1 && host->last_seen - host->stored_seen < MM_HOSTS_PERSIST_S)
		return; /* fresh enough in the table; written at exit (mm_hosts_flush_all) */
	mark_dirty(h, host);
}

/* Puts host in the list of entries the next flush writes. */
static void mark_dirty(struct mm_hosts *h, struct mm_host *host)
{
	if (host->dirty)
		return;
	if (h->ndirty == h->adirty) {
		size_t na = h->adirty ? 2 * h->adirty : 1024;
		int64_t *nd = realloc(h->dirty, na * sizeof(*nd));

		if (nd == NULL)
			return; /* written at the next check-in that finds memory */
		h->dirty = nd;
		h->adirty = na;
	}
	h->dirty[h->ndirty++] = host->id;
	host->dirty = 1;
}

int64_t mm_hosts_last_seen(struct mm_hosts *h, int64_t id)
{
	struct mm_host *e = mm_hosts_by_id(h, id);

	return e != NULL ? e->last_seen : -1;
}

size_t mm_hosts_count(struct mm_hosts *h)
{
	return h->count;
}

size_t mm_hosts_online(struct mm_hosts *h, int64_t now, int margin_s)
{
	struct mm_host *e;
	size_t i, n = 0;

	for (i = 0; i < h->nbuckets; i++)
		for (e = h->by_id[i]; e != NULL; e = e->next_id)
			if (e->last_seen + e->checkin_interval + margin_s >= now)
				n++;
	return n;
}

int mm_hosts_load(struct mm_hosts *h, sqlite3 *db, char **err)
{
	sqlite3_stmt *st = NULL;
	int rc, r = MM_ERR_SQL;

	*err = NULL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT id, node_key_hash, host_identifier, hostname, last_seen,"
	                       " checkin_interval, address FROM hosts"
	                       " WHERE node_key_hash IS NOT NULL AND revoked_at IS NULL",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kh = (const char *)sqlite3_column_text(st, 1);

		if (kh == NULL || strlen(kh) != 64)
			continue;
		if ((r = mm_hosts_put(h, sqlite3_column_int64(st, 0), kh,
		                      (const char *)sqlite3_column_text(st, 2),
		                      (const char *)sqlite3_column_text(st, 3),
		                      sqlite3_column_int64(st, 4), sqlite3_column_int(st, 5),
		                      (const char *)sqlite3_column_text(st, 6))) != 0)
			goto out;
		r = MM_ERR_SQL;
	}
	if (rc != SQLITE_DONE)
		goto out;
	r = 0;
out:
	if (r == MM_ERR_SQL && asprintf(err, "loading hosts: %s", sqlite3_errmsg(db)) < 0)
		*err = NULL;
	else if (r == MM_ERR_NOMEM)
		*err = strdup("loading hosts: out of memory");
	sqlite3_finalize(st);
	return r;
}

/* ---- agent authentication ------------------------------------------------- */

struct mm_host *mm_hosts_auth(struct mm_server *srv, struct mm_http_req *req, const json_t *body)
{
	const char *auth = mm_http_header(req, "Authorization"), *key = NULL;
	struct mm_host *host;
	size_t len = 0;

	if (auth != NULL && strncasecmp(auth, "NodeKey ", 8) == 0) {
		key = auth + 8;
		while (*key == ' ')
			key++;
		len = strlen(key);
	} else if (body != NULL) {
		const json_t *v = json_object_get(body, "node_key");

		if (v != NULL && !json_is_string(v)) {
			mm_http_reply_error(req, 400, "node_key must be a string", NULL);
			return NULL;
		}
		if (v != NULL) {
			key = json_string_value(v);
			len = json_string_length(v);
		}
	}
	if (key == NULL || len == 0) {
		mm_http_reply_json(
		    req, 401,
		    json_pack("{s:b, s:s}", "node_invalid", 1, "error", "missing node key"));
		return NULL;
	}
	if ((host = mm_hosts_by_key(srv->hosts, key, len)) == NULL) {
		mm_http_reply_json(req, 401,
		                   json_pack("{s:b, s:s}", "node_invalid", 1, "error",
		                             "unknown or revoked node key"));
		return NULL;
	}
	mm_hosts_touch(srv->hosts, host, mm_http_now_ms(srv->http) / 1000, mm_http_peer(req));
	return host;
}

/* ---- write-back --------------------------------------------------------------- */

struct seen {
	int64_t id, last_seen;
	char address[64];
};

struct flush_job {
	struct seen *v;
	size_t n;
};

static int flush_run(sqlite3 *db, void *arg, char **err)
{
	static const char sql[] = "UPDATE hosts SET last_seen = max(last_seen, ?2),"
	                          " address = ?3 WHERE id = ?1";
	struct flush_job *f = arg;
	sqlite3_stmt *st;
	size_t i;

	if ((st = mm_store_stmt(db, sql, err)) == NULL)
		return MM_ERR_SQL;
	for (i = 0; i < f->n; i++) {
		sqlite3_bind_int64(st, 1, f->v[i].id);
		sqlite3_bind_int64(st, 2, f->v[i].last_seen);
		sqlite3_bind_text(st, 3, f->v[i].address, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
			return MM_ERR_SQL;
		}
		sqlite3_reset(st);
	}
	return 0;
}

static void flush_done(void *arg, int rc, const char *err)
{
	struct flush_job *f = arg;

	if (rc != 0)
		fprintf(stderr, "mamori-server: writing hosts' last_seen: %s\n",
		        err != NULL ? err : mm_strerror(rc));
	free(f->v);
	free(f);
}

int mm_hosts_flush(struct mm_server *srv)
{
	struct mm_hosts *h = srv->hosts;
	struct flush_job *f;
	size_t i;
	int r;

	if (h == NULL || h->ndirty == 0)
		return 0;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->v = malloc(h->ndirty * sizeof(*f->v))) == NULL) {
		free(f);
		return MM_ERR_NOMEM;
	}
	for (i = 0; i < h->ndirty; i++) {
		struct mm_host *e = mm_hosts_by_id(h, h->dirty[i]);

		if (e == NULL || !e->dirty)
			continue;
		f->v[f->n].id = e->id;
		f->v[f->n].last_seen = e->last_seen;
		e->stored_seen = e->last_seen;
		memcpy(f->v[f->n].address, e->address, sizeof(e->address));
		f->n++;
	}
	if ((r = mm_store_submit(srv->store, flush_run, flush_done, f)) != 0) {
		/* Queue full: keep them dirty for the next round. */
		free(f->v);
		free(f);
		return r;
	}
	for (i = 0; i < h->ndirty; i++) {
		struct mm_host *e = mm_hosts_by_id(h, h->dirty[i]);

		if (e != NULL)
			e->dirty = 0;
	}
	h->ndirty = 0;
	return 0;
}

int mm_hosts_flush_all(struct mm_server *srv)
{
	struct mm_hosts *h = srv->hosts;
	struct mm_host *e;
	size_t i;

	if (h == NULL)
		return 0;
	for (i = 0; i < h->nbuckets; i++)
		for (e = h->by_id[i]; e != NULL; e = e->next_id)
			if (e->last_seen > e->stored_seen)
				mark_dirty(h, e);
	return mm_hosts_flush(srv);
}

static void flush_tick(void *arg)
{
	mm_hosts_flush(arg);
}

int mm_hosts_start_flush(struct mm_server *srv)
{
	return mm_http_every(srv->http, MM_HOSTS_FLUSH_MS, flush_tick, srv);
}
