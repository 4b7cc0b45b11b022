/*
 * auth.c - the API registry, route mounting and operator authorization.
 *
 * mm_apis[] lists every endpoint family of apis.def.  mm_api_mount()
 * registers each route with the HTTP layer through dispatch(), which for
 * operator routes (roles != MM_ROLE_AGENT) checks the bearer token before
 * the handler runs:
 *
 *   no/malformed Authorization header        401 {"error": "missing token"}
 *   token unknown or revoked                 401 {"error": "unknown or revoked token"}
 *   token's role not in the route's roles    403 {"error": "role not allowed"}
 *   else                                     handler(srv, req, actor)
 *
 * A token is looked up by the SHA-256 (hex) of the presented value in the
 * tokens table through the reader connection.  Known tokens are cached in
 * memory (hash -> id, name, role); revoking a token drops the whole cache
 * (mm_auth_forget), revocations being rare.  Unknown tokens are not cached,
 * so a token created a moment ago works at once.
 *
 * last_used is kept in the cache and written in one store job every
 * FLUSH_MS (and when the cache is dropped), not once per request.
 *
 * Refusals go to the audit log as "auth.denied" (target "METHOD /path",
 * the address, the status, detail {"reason"}).  So that a flood cannot grow
 * the database without bound:
 *   - identical refusals (same token or none, address, target, status and
 *     reason) within DENY_WINDOW_MS are written once; when the window ends
 *     one more record says how many were not written ({"repeated": N});
 *   - at most DENY_BUDGET refusal records are written per window in all;
 *     past that they are only counted, and one record with {"dropped": N}
 *     (target "*") is written when the window ends.
 * At most DENY_BUDGET + DENY_SLOTS + 1 auth.denied records per minute.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "error.h"
#include "opapi.h"
#include "server.h"

const struct mm_api *const mm_apis[] = {
#define MM_API(n) &mm_api_##n,
#include "apis.def"
#undef MM_API
	NULL,
};

#define CACHE_SLOTS 1024      /* power of two */
#define CACHE_MAX 768         /* entries before the cache is dropped and refilled */
#define FLUSH_MS 15000        /* last_used write-back and refusal window sweep */
#define TOKEN_MAX 512         /* longest bearer value looked up */
#define DENY_SLOTS 128
#define DENY_WINDOW_MS 60000
#define DENY_BUDGET 60

static const struct {
	const char *name;
	int bit;
} roles[] = {
	{ "admin", MM_ROLE_ADMIN },
	{ "operator", MM_ROLE_OPERATOR },
	{ "observer", MM_ROLE_OBSERVER },
	{ "responder", MM_ROLE_RESPONDER },
};

int mm_role_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(name, roles[i].name) == 0)
			return roles[i].bit;
	return 0;
}

const char *mm_role_name(int role)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (role == roles[i].bit)
			return roles[i].name;
	return NULL;
}

struct cached_token {
	char hash[65];          /* "" = free slot */
	int64_t id;
	char *name;
	int role;
	int64_t last_used;      /* latest use seen (Unix s) */
	int64_t written;        /* last_used value already queued to the store */
};

struct deny_slot {
	uint64_t key;           /* FNV-1a of the fields below */
	int64_t start_ms;       /* window start; 0 = free */
	unsigned repeats;       /* identical refusals not written in this window */
	int status;
	int64_t token_id;
	int role;
	int anonymous;          /* no token identified the caller */
	char actor[OP_NAME_MAX + 8];
	char address[64];
	char target[192];
	char reason[48];
};

struct route_ctx {
	struct mm_server *srv;
	const struct mm_route *route;
};

static struct auth_state {
	struct mm_server *srv;
	struct route_ctx *ctx;
	size_t nctx;
	struct cached_token cache[CACHE_SLOTS];
	size_t ncache;
	struct deny_slot deny[DENY_SLOTS];
	int64_t budget_start_ms;
	unsigned budget_used;
	unsigned budget_dropped;
} *auth;

/* ---- last_used write-back ---------------------------------------------- */

struct use_rec {
	int64_t id, when;
};
struct flush_job {
	size_t n;
	struct use_rec recs[];
};

static int flush_run(sqlite3 *db, void *arg, char **err)
{
	struct flush_job *f = arg;
	sqlite3_stmt *st = NULL;
	size_t i;
	int r = MM_ERR_SQL;

	if (sqlite3_prepare_v2(db,
			       "UPDATE tokens SET last_used = ?2 WHERE id = ?1 AND"
			       " (last_used IS NULL OR last_used < ?2)",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < f->n; i++) {
		sqlite3_bind_int64(st, 1, f->recs[i].id);
		sqlite3_bind_int64(st, 2, f->recs[i].when);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	r = 0;
out:
	if (r != 0)
		op_sqlerr(db, err);
	sqlite3_finalize(st);
	return r;
}

static void flush_done(void *arg, int rc, const char *err)
{
	if (rc != 0)
		fprintf(stderr, "mamori-server: token last_used not saved: %s\n",
			err != NULL ? err : mm_strerror(rc));
	free(arg);
}

/* Queues the cached last_used values not yet written. */
static void flush_last_used(void)
{
	struct flush_job *f;
	size_t i, n = 0;

	for (i = 0; i < CACHE_SLOTS; i++)
		if (auth->cache[i].hash[0] != '\0' &&
		    auth->cache[i].last_used > auth->cache[i].written)
			n++;
	if (n == 0)
		return;
	if ((f = malloc(sizeof(*f) + n * sizeof(f->recs[0]))) == NULL)
		return;
	f->n = 0;
	for (i = 0; i < CACHE_SLOTS; i++) {
		struct cached_token *c = &auth->cache[i];

		if (c->hash[0] != '\0' && c->last_used > c->written)
			f->recs[f->n++] = (struct use_rec){ c->id, c->last_used };
	}
	if (mm_store_submit(auth->srv->store, flush_run, flush_done, f) != 0) {
		free(f);
		return; /* retried at the next tick */
	}
	for (i = 0; i < CACHE_SLOTS; i++)
		auth->cache[i].written = auth->cache[i].last_used;
}

/* ---- the token cache ---------------------------------------------------- */

static size_t slot_of(const char *hash)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		char c = hash[i];

		v = v * 16 + (uint64_t)(c >= 'a' ? c - 'a' + 10 : c - '0');
	}
	return (size_t)(v & (CACHE_SLOTS - 1));
}

static struct cached_token *cache_find(const char *hash)
{
	size_t i = slot_of(hash), k;

	for (k = 0; k < CACHE_SLOTS; k++, i = (i + 1) & (CACHE_SLOTS - 1)) {
		if (auth->cache[i].hash[0] == '\0')
			return NULL;
		if (memcmp(auth->cache[i].hash, hash, 64) == 0)
			return &auth->cache[i];
	}
	return NULL;
}

static void cache_clear(void)
{
	size_t i;

	flush_last_used();
	for (i = 0; i < CACHE_SLOTS; i++) {
		free(auth->cache[i].name);
		memset(&auth->cache[i], 0, sizeof(auth->cache[i]));
	}
	auth->ncache = 0;
}

static struct cached_token *cache_add(const char *hash, int64_t id, const char *name, int role)
{
	struct cached_token *c;
	size_t i;
	char *copy;

	if (auth->ncache >= CACHE_MAX)
		cache_clear();
	if ((copy = strdup(name)) == NULL)
		return NULL;
	for (i = slot_of(hash); auth->cache[i].hash[0] != '\0'; i = (i + 1) & (CACHE_SLOTS - 1))
		;
	c = &auth->cache[i];
	memcpy(c->hash, hash, 65);
	c->id = id;
	c->name = copy;
	c->role = role;
	c->last_used = 0;
	c->written = 0;
	auth->ncache++;
	return c;
}

void mm_auth_forget(void)
{
	if (auth != NULL)
		cache_clear();
}

int64_t mm_auth_last_used(int64_t token_id)
{
	size_t i;

	for (i = 0; auth != NULL && i < CACHE_SLOTS; i++)
		if (auth->cache[i].hash[0] != '\0' && auth->cache[i].id == token_id)
			return auth->cache[i].last_used;
	return 0;
}

/* Looks the token up (cache, then store).  Returns 1 found, 0 unknown,
 * -1 store error (replied). */
static int lookup(struct mm_http_req *req, const char *hash, struct cached_token **out)
{
	sqlite3 *db = mm_store_reader(auth->srv->store);
	sqlite3_stmt *st = NULL;
	int rc, r = -1;

	*out = cache_find(hash);
	if (*out != NULL)
		return 1;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, name, role FROM tokens WHERE hash = ?1 AND"
			       " revoked_at IS NULL",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	sqlite3_bind_text(st, 1, hash, 64, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = 0;
	} else if (rc == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int role = mm_role_parse((const char *)sqlite3_column_text(st, 2));

		if ((*out = cache_add(hash, sqlite3_column_int64(st, 0), name != NULL ? name : "",
				      role)) == NULL) {
			mm_http_reply_error(req, 500, "out of memory", NULL);
			goto out;
		}
		r = 1;
	} else {
		op_reply_db_error(req, db);
	}
out:
	sqlite3_finalize(st);
	return r;
}

/* ---- refusals ------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	h ^= 0xff; /* field separator */
	h *= 0x100000001b3ull;
	return h;
}

/* Writes the "repeated" summary of a slot whose window ended. */
static void deny_summary(struct deny_slot *d)
{
	struct mm_actor a = { d->token_id, d->actor, d->role, d->address };
	json_t *detail;

	if (d->repeats == 0)
		return;
	detail = json_pack("{s:s, s:I, s:i}", "reason", d->reason, "repeated",
			   (json_int_t)d->repeats, "window_s", DENY_WINDOW_MS / 1000);
	mm_audit_log(auth->srv, d->anonymous ? NULL : &a, d->address, "auth.denied", d->target,
		     detail, d->status);
	d->repeats = 0;
}

/* Ends the refusal windows that are over (and the global budget's). */
static void deny_sweep(int64_t now)
{
	size_t i;

	for (i = 0; i < DENY_SLOTS; i++) {
		struct deny_slot *d = &auth->deny[i];

		if (d->start_ms != 0 && now - d->start_ms >= DENY_WINDOW_MS) {
			deny_summary(d);
			d->start_ms = 0;
		}
	}
	if (now - auth->budget_start_ms >= DENY_WINDOW_MS) {
		if (auth->budget_dropped > 0)
			mm_audit_log(auth->srv, NULL, NULL, "auth.denied", "*",
				     json_pack("{s:s, s:I, s:i}", "reason", "too many refusals",
					       "dropped", (json_int_t)auth->budget_dropped,
					       "window_s", DENY_WINDOW_MS / 1000),
				     429);
		auth->budget_start_ms = now;
		auth->budget_used = 0;
		auth->budget_dropped = 0;
	}
}

/* Records a refusal in the audit log, subject to the limits above. */
static void deny_record(struct mm_http_req *req, const struct mm_actor *actor, int status,
			const char *reason, const char *allowed)
{
	int64_t now = mm_http_now_ms(auth->srv->http);
	const char *addr = mm_http_peer(req);
	char target[sizeof(((struct deny_slot *)0)->target)];
	char num[32];
	struct deny_slot *d;
	uint64_t key = 0xcbf29ce484222325ull;
	json_t *detail;

	if (addr == NULL)
		addr = "";
	snprintf(target, sizeof(target), "%s %s", mm_http_method(req), mm_http_path(req));
	snprintf(num, sizeof(num), "%lld/%d", actor != NULL ? (long long)actor->token_id : 0LL,
		 status);
	key = fnv(fnv(fnv(fnv(key, num), addr), target), reason);
	deny_sweep(now);
	d = &auth->deny[key % DENY_SLOTS];
	if (d->start_ms != 0 && d->key == key) {
		d->repeats++;
		return;
	}
	if (auth->budget_used >= DENY_BUDGET) {
		auth->budget_dropped++;
		return;
	}
	if (d->start_ms != 0)
		deny_summary(d); /* another refusal owned the slot */
	auth->budget_used++;
	memset(d, 0, sizeof(*d));
	d->key = key;
	d->start_ms = now != 0 ? now : 1;
	d->status = status;
	d->anonymous = actor == NULL;
	if (actor != NULL) {
		d->token_id = actor->token_id;
		d->role = actor->role;
		snprintf(d->actor, sizeof(d->actor), "%s", actor->name);
	}
	snprintf(d->address, sizeof(d->address), "%s", addr);
	snprintf(d->target, sizeof(d->target), "%s", target);
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	detail = allowed != NULL ? json_pack("{s:s, s:s}", "reason", reason, "allowed", allowed)
				 : json_pack("{s:s}", "reason", reason);
	mm_audit_log(auth->srv, actor, addr, "auth.denied", target, detail, status);
}

/* "admin, operator" for a role set. */
static void roles_text(int bits, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if ((bits & roles[i].bit) != 0 && len < size) {
			int n = snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "",
					 roles[i].name);

			len += n > 0 ? (size_t)n : 0;
		}
}

/* ---- dispatch ------------------------------------------------------------ */

static void periodic(void *arg)
{
	if (auth == NULL)
		return;
	flush_last_used();
	deny_sweep(mm_http_now_ms(auth->srv->http));
}

/* The token of "Authorization: Bearer TOKEN" (scheme case-insensitive),
 * or NULL; *len gets its length. */
static const char *bearer(struct mm_http_req *req, size_t *len)
{
	const char *h = mm_http_header(req, "Authorization"), *t;
	size_t n;

	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	for (t = h + 6; *t == ' ' || *t == '\t'; t++)
		;
	for (n = strlen(t); n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'); n--)
		;
	if (n == 0)
		return NULL;
	*len = n;
	return t;
}

static void dispatch(struct mm_http_req *req, void *arg)
{
	const struct route_ctx *c = arg;
	const struct mm_route *rt = c->route;
	struct cached_token *tok = NULL;
	struct mm_actor actor;
	const char *t;
	char hash[65], allowed[64], detail[160];
	size_t len = 0;
	int r;

	if (rt->roles == MM_ROLE_AGENT) {
		rt->fn(c->srv, req, NULL);
		return;
	}
	if ((t = bearer(req, &len)) == NULL) {
		/* Record first: after the reply the request belongs to the layer. */
		deny_record(req, NULL, 401, "missing token", NULL);
		mm_http_set_header(req, "WWW-Authenticate", "Bearer");
		mm_http_reply_error(req, 401, "missing token",
				    "send the header Authorization: Bearer TOKEN");
		return;
	}
	r = 0;
	if (len <= TOKEN_MAX) {
		mm_sha256_hex(t, len, hash);
		if ((r = lookup(req, hash, &tok)) < 0)
			return;
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r == 0) {
		deny_record(req, NULL, 401, "unknown or revoked token", NULL);
		mm_http_set_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
		mm_http_reply_error(req, 401, "unknown or revoked token", NULL);
		return;
	}
	actor = (struct mm_actor){ tok->id, tok->name, tok->role, mm_http_peer(req) };
	/* Used (recognised), even when the role then refuses the route. */
	tok->last_used = mm_http_now_ms(c->srv->http) / 1000;
	if ((tok->role & rt->roles) == 0) {
		roles_text(rt->roles, allowed, sizeof(allowed));
		snprintf(detail, sizeof(detail), "role %s may not %s %s; allowed: %s",
			 mm_role_name(tok->role) != NULL ? mm_role_name(tok->role) : "?",
			 mm_http_method(req), mm_http_path(req), allowed);
		deny_record(req, &actor, 403, "role not allowed", allowed);
		mm_http_reply_error(req, 403, "role not allowed", detail);
		return;
	}
	rt->fn(c->srv, req, &actor);
}

static void auth_free(struct auth_state *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		free(a->cache[i].name);
	free(a->ctx);
	free(a);
}

int mm_api_mount(struct mm_server *srv)
{
	struct auth_state *a;
	size_t n = 0, i, k;
	int r;

	for (i = 0; mm_apis[i] != NULL; i++)
		for (k = 0; mm_apis[i]->routes[k].path != NULL; k++)
			n++;
	if ((a = calloc(1, sizeof(*a))) == NULL || (a->ctx = calloc(n + 1, sizeof(*a->ctx))) == NULL) {
		auth_free(a);
		return MM_ERR_NOMEM;
	}
	a->srv = srv;
	/* One server per process: a second mount (tests) replaces the state. */
	auth_free(auth);
	auth = a;
	for (i = 0; mm_apis[i] != NULL; i++)
		for (k = 0; mm_apis[i]->routes[k].path != NULL; k++) {
			const struct mm_route *rt = &mm_apis[i]->routes[k];
			struct route_ctx *c = &a->ctx[a->nctx++];

			c->srv = srv;
			c->route = rt;
			if ((r = mm_http_route(srv->http, rt->method, rt->path, dispatch, c)) != 0)
				return r;
		}
	a->budget_start_ms = mm_http_now_ms(srv->http);
	return mm_http_every(srv->http, FLUSH_MS, periodic, NULL);
}
