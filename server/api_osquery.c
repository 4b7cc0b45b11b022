/*
 * api_osquery.c - the agent API: osquery's TLS remote API at the paths
 * Fleet uses (docs/api.md), for stock osquery agents and Mamori's own.
 *
 *   POST /api/v1/osquery/enroll              enroll secret -> node key (a store job)
 *   POST /api/v1/osquery/config              the config, cached per config_gen
 *   POST /api/v1/osquery/log                 result / status lines (a store job)
 *   POST /api/v1/osquery/distributed/read    live and label queries, parked (long poll)
 *                                            until there are some (campaign.h)
 *   POST /api/v1/osquery/distributed/write   their answers (stored, then streamed)
 *
 * The check-in path (config, distributed read) touches no database: the
 * node key is found in the in-memory host index (hosts.h), the config is a
 * cached string.  Enroll and log go through the store's writer thread and
 * are answered from the job's done callback, after the commit.  osquery
 * ignores HTTP status codes, so every answer is JSON, and an unknown node
 * key is answered {"node_invalid": true}, which makes the agent enroll
 * again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "campaign.h"
#include "error.h"
#include "hosts.h"
#include "server.h"
#include "strutil.h"

#define IDENT_MAX        256  /* host_identifier, hostname, uuid ... */
#define NAME_MAX_LEN     1024 /* a scheduled query's name */
#define CHECKIN_INTERVAL 10   /* seconds: distributed_interval below */
#define RATE_SLOTS       4096 /* addresses tracked for bad enroll secrets */
#define RATE_PROBE       16

/* ---- state (one coordinator per process) --------------------------------------- */

struct rate {
	char addr[64];
	int64_t minute; /* the window: Unix time / 60 */
	int fails;
};

static struct {
	const struct mm_server *srv;
	uint64_t gen; /* config_gen the cache holds */
	int valid;
	char *config; /* the config JSON without its last '}' */
	size_t config_len;
	char **packs; /* pack names, for splitting "pack_P_Q" */
	size_t npacks;
	struct mm_buf reply; /* scratch for config replies */
	struct rate rates[RATE_SLOTS];
} st;

/* ---- small helpers --------------------------------------------------------------- */

/* A string member, "" when absent or not a string. */
static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* A number given as a JSON integer or as a string of digits (osquery sends
 * both, depending on the field and version).  Returns 0, or -1 when the
 * member is present but not such a number; *out keeps def when absent. */
static int num_of(const json_t *o, const char *key, int64_t def, int64_t *out, int *present)
{
	const json_t *v = json_object_get(o, key);

	*out = def;
	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && mm_parse_i64(json_string_value(v), out) == 0)
		return 0;
	return -1;
}

static void reply_invalid_node(struct mm_http_req *req, int status, const char *msg)
{
	mm_http_reply_json(req, status, json_pack("{s:b, s:s}", "node_invalid", 1, "error", msg));
}

/* ---- enroll ------------------------------------------------------------------------ */

/* The slot for addr, or NULL when addr has no record (find_only) or every
 * probed slot is in use this minute. */
static struct rate *rate_slot(const char *addr, int64_t minute, int find_only)
{
	uint64_t h = 1469598103934665603ull;
	struct rate *victim = NULL;
	const char *p;
	int i;

	for (p = addr; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (i = 0; i < RATE_PROBE; i++) {
		struct rate *r = &st.rates[(h + (uint64_t)i) % RATE_SLOTS];

		if (strcmp(r->addr, addr) == 0)
			return r;
		if (victim == NULL && (r->addr[0] == '\0' || r->minute < minute))
			victim = r;
	}
	if (find_only || victim == NULL)
		return NULL;
	snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	victim->minute = minute;
	victim->fails = 0;
	return victim;
}

/* 1 when addr has used up its bad enroll attempts for this minute. */
static int rate_blocked(const struct mm_server *srv, const char *addr, int64_t now)
{
	struct rate *r = rate_slot(addr, now / 60, 1);

	return r != NULL && r->minute == now / 60 && r->fails >= srv->cfg.enroll_rate_per_min;
}

static void rate_fail(const char *addr, int64_t now)
{
	struct rate *r = rate_slot(addr, now / 60, 0);

	if (r == NULL)
		return;
	if (r->minute != now / 60) {
		r->minute = now / 60;
		r->fails = 0;
	}
	r->fails++;
}

struct enroll_job {
	struct mm_server *srv;
	struct mm_http_req *req;
	char key[65]; /* the new node key (wiped) */
	char key_hash[65];
	char *identifier, *hostname, *uuid, *os_name, *os_version, *platform, *agent,
	    *agent_version, *details;
	char address[64];
	int64_t now;
	int64_t id; /* set by the job */
	int reused; /* 1 when an existing row got the new key */
};

static void enroll_free(struct enroll_job *j)
{
	if (j == NULL)
		return;
	OPENSSL_cleanse(j->key, sizeof(j->key));
	free(j->identifier);
	free(j->hostname);
	free(j->uuid);
	free(j->os_name);
	free(j->os_version);
	free(j->platform);
	free(j->agent);
	free(j->agent_version);
	free(j->details);
	free(j);
}

static int sql_fail(sqlite3 *db, char **err)
{
	*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
	return MM_ERR_SQL;
}

static int enroll_run(sqlite3 *db, void *arg, char **err)
{
	struct enroll_job *j = arg;
	sqlite3_stmt *s;
	json_t *detail;
	int i, r;

	j->id = 0;
	j->reused = 0;
	/* osquery may enroll again (lost key, reinstall): the same machine
	 * (identifier and hardware uuid) keeps its row and gets a new key. */
	if (j->uuid[0] != '\0') {
		if ((s = mm_store_stmt(
		         db,
		         "SELECT id FROM hosts WHERE host_identifier = ?1 AND uuid = ?2"
		         " AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",
		         err)) == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_text(s, 1, j->identifier, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, j->uuid, -1, SQLITE_STATIC);
		if ((r = sqlite3_step(s)) == SQLITE_ROW)
			j->id = sqlite3_column_int64(s, 0);
		else if (r != SQLITE_DONE)
			return sql_fail(db, err);
		sqlite3_reset(s);
	}
	if (j->id != 0) {
		s = mm_store_stmt(
		    db,
		    "UPDATE hosts SET node_key_hash = ?2, hostname = ?3, os_name = ?4,"
		    " os_version = ?5, platform = ?6, agent = ?7, agent_version = ?8,"
		    " address = ?9, details = ?10, last_seen = ?11 WHERE id = ?1",
		    err);
		j->reused = 1;
	} else {
		s = mm_store_stmt(
		    db,
		    "INSERT INTO hosts(node_key_hash, hostname, os_name, os_version,"
		    " platform, agent, agent_version, address, details, last_seen,"
		    " host_identifier, uuid, enrolled_at, checkin_interval)"
		    " VALUES(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?11, ?14)",
		    err);
	}
	if (s == NULL)
		return MM_ERR_SQL;
	if (j->id != 0)
		sqlite3_bind_int64(s, 1, j->id);
	sqlite3_bind_text(s, 2, j->key_hash, 64, SQLITE_STATIC);
	{
		const char *v[] = {j->hostname, j->os_name,       j->os_version, j->platform,
		                   j->agent,    j->agent_version, j->address,    j->details};

		for (i = 0; i < 8; i++)
			sqlite3_bind_text(s, 3 + i, v[i], -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 11, j->now);
	if (j->id == 0) {
		sqlite3_bind_text(s, 12, j->identifier, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 13, j->uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 14, CHECKIN_INTERVAL);
	}
	if (sqlite3_step(s) != SQLITE_DONE)
		return sql_fail(db, err);
	if (j->id == 0)
		j->id = sqlite3_last_insert_rowid(db);
	detail = json_pack("{s:I, s:s, s:s, s:b}", "host_id", (json_int_t)j->id, "address",
	                   j->address, "agent", j->agent, "reenrolled", j->reused);
	r = mm_audit_insert(db, NULL, "host.enroll", j->identifier, detail, 200);
	json_decref(detail);
	if (r != 0 && *err == NULL)
		*err = sqlite3_mprintf("audit: %s", mm_strerror(r));
	return r;
}

static void enroll_done(void *arg, int rc, const char *err)
{
	struct enroll_job *j = arg;
	struct mm_server *srv = j->srv;

	if (rc != 0) {
		fprintf(stderr, "mamori-server: enroll of %s: %s\n", j->identifier,
		        err != NULL ? err : mm_strerror(rc));
		mm_http_reply_json(j->req, 503,
		                   json_pack("{s:s, s:s?, s:b}", "error", "store unavailable",
		                             "detail", err, "node_invalid", 1));
	} else if (mm_hosts_put(srv->hosts, j->id, j->key_hash, j->identifier, j->hostname, j->now,
	                        CHECKIN_INTERVAL, j->address) != 0) {
		mm_http_reply_error(j->req, 503, "out of memory", NULL);
	} else {
		mm_http_reply_json(j->req, 200,
		                   json_pack("{s:s, s:b, s:{s:I}}", "node_key", j->key,
		                             "node_invalid", 0, "mamori", "host_id",
		                             (json_int_t)j->id));
	}
	mm_http_release(j->req);
	enroll_free(j);
}

static char *dup_capped(const char *s)
{
	return strndup(s, IDENT_MAX);
}

static void h_enroll(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	const char *peer = mm_http_peer(req), *secret, *ident;
	const json_t *hd, *os, *sys, *oi, *v;
	struct enroll_job *j = NULL;
	int64_t now = mm_http_now_ms(srv->http) / 1000;
	json_t *body;
	char retry[16];
	size_t secret_len;

	(void)actor;
	if (rate_blocked(srv, peer, now)) {
		snprintf(retry, sizeof(retry), "%d", (int)(60 - now % 60));
		mm_http_set_header(req, "Retry-After", retry);
		mm_http_reply_json(req, 429,
		                   json_pack("{s:b, s:s, s:s}", "node_invalid", 1, "error",
		                             "too many failed enroll attempts", "detail",
		                             "retry in a minute"));
		return;
	}
	if ((body = mm_http_json_body(req, 1)) == NULL)
		return;
	if (!json_is_object(body)) {
		mm_http_reply_error(req, 400, "the body must be a JSON object", NULL);
		goto out;
	}
	v = json_object_get(body, "enroll_secret");
	if (!json_is_string(v)) {
		mm_http_reply_error(req, 400, "enroll_secret must be a string", NULL);
		goto out;
	}
	secret = json_string_value(v);
	secret_len = json_string_length(v);
	ident = json_string_value(json_object_get(body, "host_identifier"));
	if (ident == NULL || ident[0] == '\0' || strlen(ident) > IDENT_MAX) {
		mm_http_reply_error(req, 400, "host_identifier must be a non-empty string",
		                    "at most 256 bytes");
		goto out;
	}
	if ((v = json_object_get(body, "platform_type")) != NULL && !json_is_string(v)) {
		mm_http_reply_error(req, 400, "platform_type must be a string", NULL);
		goto out;
	}
	hd = json_object_get(body, "host_details");
	if (hd != NULL && !json_is_object(hd)) {
		mm_http_reply_error(req, 400, "host_details must be an object", NULL);
		goto out;
	}
	if (!mm_ct_equal(secret, secret_len, srv->enroll_secret, srv->enroll_secret_len)) {
		rate_fail(peer, now);
		mm_audit_log(srv, NULL, peer, "enroll.denied", ident,
		             json_pack("{s:s}", "reason", "invalid enroll secret"), 401);
		reply_invalid_node(req, 401, "invalid enroll secret");
		goto out;
	}
	os = json_object_get(hd, "os_version");
	sys = json_object_get(hd, "system_info");
	oi = json_object_get(hd, "osquery_info");
	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto nomem;
	j->srv = srv;
	j->req = req;
	j->now = now;
	snprintf(j->address, sizeof(j->address), "%s", peer);
	if (mm_random_hex(j->key, 32) != 0) {
		mm_http_reply_error(req, 500, "no randomness", NULL);
		goto out;
	}
	mm_sha256_hex(j->key, 64, j->key_hash);
	j->identifier = dup_capped(ident);
	j->hostname =
	    dup_capped(str_of(sys, "hostname")[0] != '\0' ? str_of(sys, "hostname") : ident);
	j->uuid = dup_capped(str_of(sys, "uuid"));
	j->os_name = dup_capped(str_of(os, "name"));
	j->os_version = dup_capped(str_of(os, "version"));
	j->platform = dup_capped(str_of(os, "platform")[0] != '\0' ? str_of(os, "platform")
	                                                           : str_of(body, "platform_type"));
	j->agent = strdup(strcmp(str_of(oi, "extensions"), "mamori") == 0 ||
	                          json_object_get(hd, "mamori_info") != NULL
	                      ? "mamori"
	                      : "osquery");
	j->agent_version = dup_capped(str_of(oi, "version"));
	j->details = hd != NULL ? json_dumps(hd, JSON_COMPACT) : strdup("{}");
	if (j->identifier == NULL || j->hostname == NULL || j->uuid == NULL || j->os_name == NULL ||
	    j->os_version == NULL || j->platform == NULL || j->agent == NULL ||
	    j->agent_version == NULL || j->details == NULL)
		goto nomem;
	mm_http_keep(req, NULL, NULL);
	if (mm_store_submit(srv->store, enroll_run, enroll_done, j) != 0) {
		mm_http_reply_error(req, 503, "store queue full", "retry later");
		mm_http_release(req);
		goto out;
	}
	j = NULL;
	goto out;
nomem:
	mm_http_reply_error(req, 503, "out of memory", NULL);
out:
	enroll_free(j);
	json_decref(body);
}

/* ---- config ------------------------------------------------------------------------ */

static void cache_clear(void)
{
	size_t i;

	free(st.config);
	st.config = NULL;
	for (i = 0; i < st.npacks; i++)
		free(st.packs[i]);
	free(st.packs);
	st.packs = NULL;
	st.npacks = 0;
	st.valid = 0;
}

/* The policies agents evaluate (a Mamori extension in the config):
 * [{"policy", "kind", "filename", "source", "interval"}].  For kind "sql"
 * the source is the whole YAML file the policy came from (the agent picks
 * the policy by id).  Returns a new reference, NULL on a store error. */
static json_t *config_policies(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	json_t *a = json_array();
	int rc;

	if (a == NULL || sqlite3_prepare_v2(db,
	                                    "SELECT policy, kind, filename, source, interval"
	                                    " FROM policies ORDER BY policy",
	                                    -1, &s, NULL) != SQLITE_OK) {
		json_decref(a);
		return NULL;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a,
		                      json_pack("{s:s,s:s,s:s,s:s,s:I}", "policy",
		                                (const char *)sqlite3_column_text(s, 0), "kind",
		                                (const char *)sqlite3_column_text(s, 1), "filename",
		                                (const char *)sqlite3_column_text(s, 2), "source",
		                                (const char *)sqlite3_column_text(s, 3), "interval",
		                                (json_int_t)sqlite3_column_int64(s, 4)));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* Rebuilds the config from the packs and policies tables when config_gen
 * moved. */
static int config_refresh(struct mm_server *srv)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *s = NULL;
	json_t *packs = NULL, *cfg = NULL, *policies = NULL;
	char *text = NULL, **names = NULL;
	size_t n = 0, an = 0;
	int rc, r = MM_ERR_SQL;

	if (st.valid && st.srv == srv && st.gen == srv->config_gen)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT name, body FROM packs ORDER BY name", -1, &s, NULL) !=
	    SQLITE_OK)
		goto out;
	r = MM_ERR_NOMEM;
	if ((packs = json_object()) == NULL)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		const char *body = (const char *)sqlite3_column_text(s, 1);
		json_error_t je;
		json_t *p;

		if (name == NULL || body == NULL)
			continue;
		if ((p = json_loads(body, 0, &je)) == NULL || !json_is_object(p)) {
			fprintf(stderr,
			        "mamori-server: pack %s: stored body is not a JSON object;"
			        " left out of the config\n",
			        name);
			json_decref(p);
			continue;
		}
		if (json_object_set_new(packs, name, p) != 0)
			goto out;
		if (n == an) {
			char **nn = realloc(names, (an ? 2 * an : 16) * sizeof(*nn));

			if (nn == NULL)
				goto out;
			names = nn;
			an = an ? 2 * an : 16;
		}
		if ((names[n] = strdup(name)) == NULL)
			goto out;
		n++;
	}
	r = MM_ERR_SQL;
	if (rc != SQLITE_DONE)
		goto out;
	r = MM_ERR_NOMEM;
	if ((policies = config_policies(db)) == NULL)
		goto out;
	/* "mamori" comes last: its closing "}}" is cut off so each reply can
	 * add the host's id (see h_config). */
	cfg =
	    json_pack("{s:{s:i, s:i, s:s}, s:{}, s:O, s:{s:O}}", "options", "distributed_interval",
	              CHECKIN_INTERVAL, "config_refresh", 60, "pack_delimiter", "/", "schedule",
	              "packs", packs, "mamori", "policies", policies);
	if (cfg == NULL || (text = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	cache_clear();
	st.config_len = strlen(text) - 2; /* without the final "}}" */
	st.config = text;
	text = NULL;
	st.packs = names;
	st.npacks = n;
	names = NULL;
	n = 0;
	st.srv = srv;
	st.gen = srv->config_gen;
	st.valid = 1;
	r = 0;
out:
	if (r == MM_ERR_SQL)
		fprintf(stderr, "mamori-server: reading packs: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	while (n > 0)
		free(names[--n]);
	free(names);
	free(text);
	json_decref(cfg);
	json_decref(packs);
	json_decref(policies);
	return r;
}

/* Parses the body and authenticates the agent; replies and returns NULL on
 * failure.  *body gets the parsed body (the caller drops it). */
static struct mm_host *agent_begin(struct mm_server *srv, struct mm_http_req *req, json_t **body)
{
	struct mm_host *h;

	if ((*body = mm_http_json_body(req, 1)) == NULL)
		return NULL;
	if (!json_is_object(*body)) {
		mm_http_reply_error(req, 400, "the body must be a JSON object", NULL);
		return NULL;
	}
	if ((h = mm_hosts_auth(srv, req, *body)) == NULL)
		return NULL;
	return h;
}

static void h_config(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct mm_host *h;
	json_t *body = NULL;

	(void)actor;
	if ((h = agent_begin(srv, req, &body)) == NULL)
		goto out;
	if (config_refresh(srv) != 0) {
		mm_http_reply_error(req, 503, "config unavailable", "the store could not be read");
		goto out;
	}
	if (st.reply.cap == 0)
		mm_buf_init(&st.reply, 64u << 20);
	mm_buf_reset(&st.reply);
	if (mm_buf_add(&st.reply, st.config, st.config_len) != 0 ||
	    mm_buf_addf(&st.reply, ",\"host_id\":%lld}}", (long long)h->id) != 0) {
		mm_http_reply_error(req, 503, "config too large", NULL);
		goto out;
	}
	mm_http_reply(req, 200, "application/json", st.reply.data, st.reply.len);
out:
	json_decref(body);
}

/* ---- log ---------------------------------------------------------------------------- */

/* Where a scheduled query's name splits into pack and query. */
struct split {
	unsigned pack_off, pack_len, query_off;
};

/* Splits "pack/P/Q" (our pack_delimiter) or "pack_P_Q" (osquery's
 * default "_": the longest known pack name that fits wins, else the first
 * '_').  Other names are a query outside packs: pack "". */
static void split_name(const char *name, struct split *sp)
{
	size_t n = strlen(name), i, best = 0;
	const char *p;

	sp->pack_off = sp->pack_len = 0;
	sp->query_off = 0;
	if (strncmp(name, "pack/", 5) == 0 && (p = strchr(name + 5, '/')) != NULL) {
		sp->pack_off = 5;
		sp->pack_len = (unsigned)(p - name - 5);
		sp->query_off = (unsigned)(p - name + 1);
		return;
	}
	if (strncmp(name, "pack_", 5) != 0)
		return;
	for (i = 0; i < st.npacks; i++) {
		size_t l = strlen(st.packs[i]);

		if (l > best && 5 + l + 1 < n && strncmp(name + 5, st.packs[i], l) == 0 &&
		    name[5 + l] == '_')
			best = l;
	}
	if (best == 0 && (p = strchr(name + 5, '_')) != NULL && p[1] != '\0')
		best = (size_t)(p - name - 5);
	if (best == 0)
		return;
	sp->pack_off = 5;
	sp->pack_len = (unsigned)best;
	sp->query_off = (unsigned)(5 + best + 1);
}

static int is_object_array(const json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, v) if (!json_is_object(v)) return 0;
	return 1;
}

/* Checks one result line; writes the reason into why. */
static int check_result_line(const json_t *l, char *why, size_t n)
{
	const char *name = json_string_value(json_object_get(l, "name")), *action;
	const json_t *dr, *v;
	int64_t x;

	if (name == NULL || name[0] == '\0' || strlen(name) > NAME_MAX_LEN)
		return snprintf(why, n, "name: expected a non-empty string"), -1;
	if (num_of(l, "unixTime", 0, &x, NULL) != 0 || json_object_get(l, "unixTime") == NULL)
		return snprintf(why, n, "unixTime: expected a number"), -1;
	if (num_of(l, "epoch", 0, &x, NULL) != 0)
		return snprintf(why, n, "epoch: expected a number"), -1;
	if (num_of(l, "counter", 0, &x, NULL) != 0)
		return snprintf(why, n, "counter: expected a number"), -1;
	if ((v = json_object_get(l, "hostIdentifier")) != NULL && !json_is_string(v))
		return snprintf(why, n, "hostIdentifier: expected a string"), -1;
	if ((v = json_object_get(l, "decorations")) != NULL && !json_is_object(v))
		return snprintf(why, n, "decorations: expected an object"), -1;
	if ((dr = json_object_get(l, "diffResults")) != NULL) {
		/* osquery's batch format (--logger_event_type=false). */
		if (!json_is_object(dr))
			return snprintf(why, n, "diffResults: expected an object"), -1;
		if ((v = json_object_get(dr, "added")) != NULL && !is_object_array(v))
			return snprintf(why, n, "diffResults.added: expected an array of rows"), -1;
		if ((v = json_object_get(dr, "removed")) != NULL && !is_object_array(v))
			return snprintf(why, n, "diffResults.removed: expected an array of rows"),
			       -1;
		return 0;
	}
	action = json_string_value(json_object_get(l, "action"));
	if (action == NULL)
		return snprintf(why, n, "action: expected \"added\", \"removed\" or \"snapshot\""),
		       -1;
	if (strcmp(action, "snapshot") == 0) {
		if (!is_object_array(json_object_get(l, "snapshot")))
			return snprintf(why, n, "snapshot: expected an array of rows"), -1;
		return 0;
	}
	if (strcmp(action, "added") != 0 && strcmp(action, "removed") != 0)
		return snprintf(why, n, "action: expected \"added\", \"removed\" or \"snapshot\""),
		       -1;
	if (!json_is_object(json_object_get(l, "columns")))
		return snprintf(why, n, "columns: expected an object"), -1;
	return 0;
}

static int check_status_line(const json_t *l, char *why, size_t n)
{
	int64_t x;
	int present;

	if (num_of(l, "severity", 0, &x, &present) != 0 || !present)
		return snprintf(why, n, "severity: expected a number"), -1;
	if (!json_is_string(json_object_get(l, "filename")))
		return snprintf(why, n, "filename: expected a string"), -1;
	if (num_of(l, "line", 0, &x, &present) != 0 || !present)
		return snprintf(why, n, "line: expected a number"), -1;
	if (!json_is_string(json_object_get(l, "message")))
		return snprintf(why, n, "message: expected a string"), -1;
	if (num_of(l, "unixTime", 0, &x, NULL) != 0)
		return snprintf(why, n, "unixTime: expected a number"), -1;
	return 0;
}

struct log_job {
	struct mm_server *srv;
	struct mm_http_req *req;
	int64_t host_id;
	char *identifier;    /* the host's, written into file lines */
	int status_log;      /* 1 = status lines, 0 = result lines */
	json_t *data;        /* the validated lines (owned) */
	struct split *split; /* per line, for result lines */
	int64_t seq;         /* mamori_seq of data[0], 0 = none */
	int64_t now;
};

static void log_free(struct log_job *j)
{
	if (j == NULL)
		return;
	free(j->identifier);
	json_decref(j->data);
	free(j->split);
	free(j);
}

static int insert_result(sqlite3_stmt *s, const struct log_job *j, const json_t *l,
                         const struct split *sp, const char *action, const json_t *cols)
{
	const char *name = json_string_value(json_object_get(l, "name"));
	int64_t ut, epoch, counter;
	char *text;
	int rc;

	num_of(l, "unixTime", 0, &ut, NULL);
	num_of(l, "epoch", 0, &epoch, NULL);
	num_of(l, "counter", 0, &counter, NULL);
	if ((text = json_dumps(cols, JSON_COMPACT)) == NULL)
		return MM_ERR_NOMEM;
	sqlite3_bind_int64(s, 1, j->host_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name + sp->pack_off, (int)sp->pack_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, name + sp->query_off, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, epoch);
	sqlite3_bind_int64(s, 7, counter);
	sqlite3_bind_int64(s, 8, ut);
	sqlite3_bind_text(s, 9, text, -1, free);
	sqlite3_bind_int64(s, 10, j->now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : MM_ERR_SQL;
}

/* Writes one event-format line to the results file. */
static int write_event(FILE *f, json_t *ev)
{
	if (json_dumpf(ev, f, JSON_COMPACT) != 0 || fputc('\n', f) == EOF)
		return MM_ERR_IO;
	return 0;
}

/* Appends the lines [from, n) to the results file, the batch format
 * expanded into one event line per row. */
static int write_results_file(FILE *f, const struct log_job *j, size_t from)
{
	json_t *l, *ident = json_string(j->identifier);
	size_t i, k;
	int r = 0;

	if (ident == NULL)
		return MM_ERR_NOMEM;
	for (i = from; r == 0 && i < json_array_size(j->data); i++) {
		const json_t *dr;

		l = json_array_get(j->data, i);
		json_object_set(l, "hostIdentifier", ident);
		if ((dr = json_object_get(l, "diffResults")) == NULL) {
			r = write_event(f, l);
			continue;
		}
		for (k = 0; r == 0 && k < 2; k++) {
			const char *action = k == 0 ? "added" : "removed";
			json_t *rows = json_object_get(dr, action), *row, *ev;
			size_t m;

			json_array_foreach(rows, m, row)
			{
				if ((ev = json_deep_copy(l)) == NULL) {
					r = MM_ERR_NOMEM;
					break;
				}
				json_object_del(ev, "diffResults");
				json_object_set(ev, "columns", row);
				json_object_set_new(ev, "action", json_string(action));
				r = write_event(f, ev);
				json_decref(ev);
				if (r != 0)
					break;
			}
		}
	}
	json_decref(ident);
	if (r == 0 && ferror(f))
		r = MM_ERR_IO;
	return r;
}

static int log_run(sqlite3 *db, void *arg, char **err)
{
	struct log_job *j = arg;
	size_t n = json_array_size(j->data), skip = 0, i, k;
	int64_t cur = 0;
	sqlite3_stmt *s;
	FILE *f = j->srv->results_log;
	int r;

	if (j->seq > 0) {
		if ((s = mm_store_stmt(db, "SELECT log_seq FROM hosts WHERE id = ?1", err)) == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_int64(s, 1, j->host_id);
		if ((r = sqlite3_step(s)) == SQLITE_ROW)
			cur = sqlite3_column_int64(s, 0);
		else if (r != SQLITE_DONE)
			return sql_fail(db, err);
		sqlite3_reset(s);
		/* Lines up to cur were committed before: a resent batch. */
		if (cur >= j->seq)
			skip =
			    (size_t)(cur - j->seq + 1 < (int64_t)n ? cur - j->seq + 1 : (int64_t)n);
	}
	if (j->status_log) {
		s = mm_store_stmt(
		    db,
		    "INSERT INTO status_logs(host_id, severity, filename, line, message,"
		    " unix_time) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		    err);
		if (s == NULL)
			return MM_ERR_SQL;
		for (i = skip; i < n; i++) {
			const json_t *l = json_array_get(j->data, i);
			int64_t sev, line, ut;

			num_of(l, "severity", 0, &sev, NULL);
			num_of(l, "line", 0, &line, NULL);
			num_of(l, "unixTime", j->now, &ut, NULL);
			sqlite3_bind_int64(s, 1, j->host_id);
			sqlite3_bind_int64(s, 2, sev);
			sqlite3_bind_text(s, 3, str_of(l, "filename"), -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 4, line);
			sqlite3_bind_text(s, 5, str_of(l, "message"), -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 6, ut);
			r = sqlite3_step(s);
			sqlite3_reset(s);
			if (r != SQLITE_DONE)
				return sql_fail(db, err);
		}
	} else {
		s = mm_store_stmt(db,
		                  "INSERT INTO results(host_id, name, pack, query, action, epoch,"
		                  " counter, unix_time, columns, received_at)"
		                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
		                  err);
		if (s == NULL)
			return MM_ERR_SQL;
		for (i = skip; i < n; i++) {
			const json_t *l = json_array_get(j->data, i), *dr, *rows, *row;
			const char *action = str_of(l, "action");

			r = 0;
			if ((dr = json_object_get(l, "diffResults")) != NULL) {
				for (k = 0; r == 0 && k < 2; k++) {
					size_t m;

					action = k == 0 ? "added" : "removed";
					rows = json_object_get(dr, action);
					json_array_foreach(
					    rows, m,
					    row) if ((r = insert_result(s, j, l, &j->split[i],
					                                action, row)) != 0) break;
				}
			} else if (strcmp(action, "snapshot") == 0) {
				r = insert_result(s, j, l, &j->split[i], action,
				                  json_object_get(l, "snapshot"));
			} else {
				r = insert_result(s, j, l, &j->split[i], action,
				                  json_object_get(l, "columns"));
			}
			if (r == MM_ERR_SQL)
				return sql_fail(db, err);
			if (r != 0) {
				*err = sqlite3_mprintf("%s", mm_strerror(r));
				return r;
			}
		}
	}
	if (j->seq > 0 && j->seq + (int64_t)n - 1 > cur) {
		if ((s = mm_store_stmt(db, "UPDATE hosts SET log_seq = ?2 WHERE id = ?1", err)) ==
		    NULL)
			return MM_ERR_SQL;
		sqlite3_bind_int64(s, 1, j->host_id);
		sqlite3_bind_int64(s, 2, j->seq + (int64_t)n - 1);
		r = sqlite3_step(s);
		sqlite3_reset(s);
		if (r != SQLITE_DONE)
			return sql_fail(db, err);
	}
	/* Last, so a failing insert leaves no file line; flushed by the
	 * store's precommit hook before the COMMIT. */
	if (!j->status_log && f != NULL && skip < n && (r = write_results_file(f, j, skip)) != 0) {
		*err = sqlite3_mprintf("writing the results file: %s", mm_strerror(r));
		return r;
	}
	return 0;
}

static void log_done(void *arg, int rc, const char *err)
{
	struct log_job *j = arg;

	if (rc == 0)
		mm_http_reply(j->req, 200, "application/json", "{}", 2);
	else
		mm_http_reply_error(j->req, 503, "store unavailable, retry later", err);
	mm_http_release(j->req);
	log_free(j);
}

static void h_log(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct log_job *j = NULL;
	struct mm_host *h;
	const char *type;
	json_t *body = NULL, *data, *l;
	char why[200], detail[260];
	int64_t seq = 0;
	size_t i;
	int status_log, present;

	(void)actor;
	if ((h = agent_begin(srv, req, &body)) == NULL)
		goto out;
	type = json_string_value(json_object_get(body, "log_type"));
	if (type == NULL || (strcmp(type, "result") != 0 && strcmp(type, "status") != 0)) {
		mm_http_reply_error(req, 400, "log_type must be \"result\" or \"status\"", NULL);
		goto out;
	}
	status_log = strcmp(type, "status") == 0;
	data = json_object_get(body, "data");
	if (!json_is_array(data)) {
		mm_http_reply_error(req, 400, "data must be an array of log lines", NULL);
		goto out;
	}
	if (num_of(body, "mamori_seq", 0, &seq, &present) != 0 || (present && seq < 1)) {
		mm_http_reply_error(req, 400, "mamori_seq must be a number from 1", NULL);
		goto out;
	}
	json_array_foreach(data, i, l)
	{
		/* A line may also come as a string holding the JSON object. */
		if (json_is_string(l)) {
			json_t *p = json_loads(json_string_value(l), JSON_REJECT_DUPLICATES, NULL);

			if (p == NULL || json_array_set_new(data, i, p) != 0) {
				json_decref(p);
				snprintf(detail, sizeof(detail), "data[%zu]: not a JSON object", i);
				mm_http_reply_error(req, 400, "malformed log line", detail);
				goto out;
			}
			l = p;
		}
		if (!json_is_object(l) ||
		    (status_log ? check_status_line(l, why, sizeof(why))
		                : check_result_line(l, why, sizeof(why))) != 0) {
			if (!json_is_object(l))
				snprintf(why, sizeof(why), "expected an object");
			snprintf(detail, sizeof(detail), "data[%zu]: %s", i, why);
			mm_http_reply_error(req, 400, "malformed log line", detail);
			goto out;
		}
	}
	if (json_array_size(data) == 0) {
		mm_http_reply(req, 200, "application/json", "{}", 2);
		goto out;
	}
	if (!status_log && config_refresh(srv) != 0) /* the pack names for split_name */
		fprintf(stderr, "mamori-server: pack names unavailable; splitting on '_'\n");
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->identifier = strdup(h->host_identifier)) == NULL ||
	    (!status_log &&
	     (j->split = calloc(json_array_size(data), sizeof(*j->split))) == NULL)) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	if (!status_log)
		json_array_foreach(data, i, l)
		    split_name(json_string_value(json_object_get(l, "name")), &j->split[i]);
	j->srv = srv;
	j->req = req;
	j->host_id = h->id;
	j->status_log = status_log;
	j->data = json_incref(data);
	j->seq = seq;
	j->now = mm_http_now_ms(srv->http) / 1000;
	/* The body (and its lines) now belong to the job: the writer thread
	 * is the only one to touch them until done. */
	json_decref(body);
	body = NULL;
	mm_http_keep(req, NULL, NULL);
	if (mm_store_submit(srv->store, log_run, log_done, j) != 0) {
		mm_http_reply_error(req, 503, "store queue full", "retry later");
		mm_http_release(req);
		goto out;
	}
	j = NULL;
out:
	log_free(j);
	json_decref(body);
}

/* ---- distributed (live queries) ---------------------------------------------------- */

/* Live queries and labels (campaign.h): pending work at once, or the read
 * parked until there is some when the body asks with "mamori_wait". */
static void h_distributed_read(struct mm_server *srv, struct mm_http_req *req,
                               const struct mm_actor *actor)
{
	struct mm_host *h;
	json_t *body = NULL;

	(void)actor;
	if ((h = agent_begin(srv, req, &body)) == NULL)
		goto out;
	mm_live_read(srv, req, h, body);
out:
	json_decref(body);
}

static void h_distributed_write(struct mm_server *srv, struct mm_http_req *req,
                                const struct mm_actor *actor)
{
	static const char *const members[] = {"queries", "statuses", "messages", "stats"};
	struct mm_host *h;
	json_t *body = NULL, *v;
	size_t i;

	(void)actor;
	if ((h = agent_begin(srv, req, &body)) == NULL)
		goto out;
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		if ((v = json_object_get(body, members[i])) != NULL && !json_is_object(v)) {
			char msg[64];

			snprintf(msg, sizeof(msg), "%s must be an object", members[i]);
			mm_http_reply_error(req, 400, msg, NULL);
			goto out;
		}
	}
	/* Answers to live queries and labels: stored, then streamed. */
	mm_live_write(srv, req, h, body);
out:
	json_decref(body);
}

static const struct mm_route routes[] = {
    {"POST", "/api/v1/osquery/enroll", MM_ROLE_AGENT, h_enroll},
    {"POST", "/api/v1/osquery/config", MM_ROLE_AGENT, h_config},
    {"POST", "/api/v1/osquery/log", MM_ROLE_AGENT, h_log},
    {"POST", "/api/v1/osquery/distributed/read", MM_ROLE_AGENT, h_distributed_read},
    {"POST", "/api/v1/osquery/distributed/write", MM_ROLE_AGENT, h_distributed_write},
    {NULL, NULL, 0, NULL},
};

const struct mm_api mm_api_osquery = {"osquery", routes};
