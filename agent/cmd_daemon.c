/*
 * cmd_daemon.c - `mamori daemon --config FILE`: the agent's long-running
 * mode (docs/agent.md).  One thread runs one loop; each step is bounded
 * (query time limit, request timeouts), and signals are taken between steps:
 *
 *   enroll      POST /api/v1/osquery/enroll until a node key is granted
 *   config      POST /config every config_refresh: the schedule
 *   scheduler   each scheduled query at its interval (plus a splay), through
 *               the differential into the state DB's queue
 *   sender      POST /log batches of queued lines every log_flush; lines are
 *               deleted only once the coordinator acknowledged them
 *   distributed POST /distributed/read, run what it asks, POST
 *               /distributed/write: while idle the read is a long poll
 *               (mamori_wait, see idle()) the coordinator answers as soon
 *               as a live query comes; else every distributed_interval
 *   policies    each policy of the config's mamori.policies at its interval
 *               (plus a splay; at most POLICY_STEP_MS of them per step), the
 *               latest verdicts kept in the state DB (daemon_policy.c)
 *   verdicts    POST /api/v1/mamori/verdicts: changed verdicts soon after
 *               they change (at most one report per VERDICT_GAP_MS), every
 *               verdict ("full") at start, after each enrollment, when
 *               policies left the config and every policy_full_report
 *
 * Any answer with "node_invalid": true drops the node key and enrolls again
 * (queued lines stay).  A request that fails (no answer, not JSON, HTTP
 * error) puts every request on hold for an exponential backoff with jitter
 * (1 s doubling to 5 min); scheduled queries keep running meanwhile.
 *
 * SIGTERM/SIGINT: finish the current step, try one last flush, exit 0.
 * SIGHUP: reload the config file (a bad new file is logged, the old one
 * kept).  The three signals are blocked and taken with sigtimedwait(), so no
 * handler runs in the middle of SQLite or libcurl; a pending SIGTERM aborts
 * a transfer in progress (daemon_http.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon_curl.h" /* libcurl, loaded by the daemon at start */
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli.h"
#include "daemon.h"
#include "error.h"
#include "fileio.h"
#include "policy.h"
#include "version.h"

#define BACKOFF_MIN_MS         1000
#define BACKOFF_MAX_MS         (5 * 60 * 1000)
#define FLUSH_BATCHES_PER_STEP 20
#define FINAL_FLUSH_MS         5000
#define MAX_PENDING_WRITES     8
#define DIST_ROUNDS_MAX        64 /* live queries answered in one long-poll turn */
#define SECRET_MAX             4096
#define POLICY_STEP_MS         1000 /* policy evaluation per loop step, then other work */
#define VERDICT_GAP_MS         1000 /* between two reports of changed verdicts */

struct daemon {
	struct mm_daemon_config *cfg;
	struct mm_state *st;
	struct mm_engine *eng;
	struct mm_httpc *http;
	struct mm_schedule *sched;
	char *config_text; /* the applied coordinator config (canonical JSON) */
	char *host_id;     /* hostIdentifier */
	char *hostname;
	char *node_key; /* NULL until enrolled; wiped when dropped */
	int once;
	int stop;
	int64_t now;        /* monotonic ms, updated per step */
	int64_t retry_at;   /* no request before this (backoff) */
	int64_t backoff_ms; /* current backoff, 0 = none */
	int invalid_streak; /* node_invalid answers since the last success */
	int64_t next_config, next_dist, next_flush;
	int64_t accelerate_until;  /* distributed polling every second until then */
	int long_poll_off;         /* the coordinator ignores mamori_wait: plain polls */
	json_t *pending_writes;    /* distributed answers not delivered yet (array) */
	size_t batch_limit;        /* lines per /log batch; halved on HTTP 413 */
	struct mm_dpolicies *pols; /* NULL: the config has no mamori.policies */
	char *pols_text;           /* the mamori.policies applied (canonical JSON) */
	int full_pending;          /* a full verdict report is due */
	int64_t next_full;         /* the next periodic full report */
	int64_t next_verdicts;     /* no report of changed verdicts before this */
	char last_error[128];      /* "error" of the last failed answer, or "" */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (uint64_t)mono_ms() * 6364136223846793005ull;
	return v;
}

/* Puts requests on hold: 1 s, 2 s, 4 s ... 5 min, each drawn in [b/2, b]. */
static void backoff(struct daemon *d)
{
	int64_t half;

	d->backoff_ms = d->backoff_ms == 0 ? BACKOFF_MIN_MS : d->backoff_ms * 2;
	if (d->backoff_ms > BACKOFF_MAX_MS)
		d->backoff_ms = BACKOFF_MAX_MS;
	half = d->backoff_ms / 2;
	d->retry_at = mono_ms() + half + (int64_t)(random_u64() % (uint64_t)(half + 1));
	mm_dlog(MM_DLOG_INFO, "next attempt in %lld ms", (long long)(d->retry_at - mono_ms()));
}

static void backoff_reset(struct daemon *d)
{
	d->backoff_ms = 0;
	d->retry_at = 0;
}

static void drop_node_key(struct daemon *d)
{
	char *err = NULL;

	if (d->node_key != NULL) {
		OPENSSL_cleanse(d->node_key, strlen(d->node_key));
		free(d->node_key);
		d->node_key = NULL;
	}
	if (mm_state_kv_set(d->st, "node_key", NULL, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s", err);
		free(err);
	}
}

/* A node key we can put in a JSON string without escaping. */
static int node_key_ok(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n > 1024)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] < 0x21 || k[i] > 0x7e || k[i] == '"' || k[i] == '\\')
			return 0;
	return 1;
}

/* ---- requests ------------------------------------------------------------------ */

enum { CALL_OK = 0, CALL_FAILED = 1, CALL_INVALID = 2 };

/* POSTs {"node_key": KEY, FIELDS...} to path.  fields is a JSON object text
 * ("{...}") or NULL.  Returns CALL_OK with *resp (a JSON object; 200),
 * CALL_INVALID when the coordinator said node_invalid (the key is dropped),
 * or CALL_FAILED (logged, backoff started).  *status gets the HTTP status
 * (0 without an answer). */
static int call(struct daemon *d, const char *path, const char *fields, size_t flen,
                int64_t timeout_ms, long *status, json_t **resp)
{
	struct mm_buf body;
	json_t *j = NULL;
	char *err = NULL;
	int r, rc = CALL_FAILED;

	*resp = NULL;
	*status = 0;
	d->last_error[0] = '\0';
	mm_buf_init(&body, flen + 2048);
	if (mm_buf_adds(&body, "{\"node_key\":\"") != 0 || mm_buf_adds(&body, d->node_key) != 0 ||
	    mm_buf_addc(&body, '"') != 0 ||
	    (fields != NULL && flen > 2
	         ? mm_buf_addc(&body, ',') != 0 || mm_buf_add(&body, fields + 1, flen - 1) != 0
	         : mm_buf_addc(&body, '}') != 0)) {
		mm_dlog(MM_DLOG_ERROR, "POST %s: out of memory", path);
		goto out;
	}
	r = mm_httpc_post(d->http, path, body.data, body.len, timeout_ms, status, &j, &err);
	if (r != 0) {
		mm_dlog(MM_DLOG_WARN, "%s", err);
		backoff(d);
		goto out;
	}
	if (json_is_object(j) && json_is_true(json_object_get(j, "node_invalid"))) {
		const char *e = json_string_value(json_object_get(j, "error"));
		mm_dlog(MM_DLOG_WARN, "POST %s: node key rejected%s%s; enrolling again", path,
		        e != NULL ? ": " : "", e != NULL ? e : "");
		drop_node_key(d);
		/* A coordinator that rejects every fresh key must not make us spin. */
		if (++d->invalid_streak > 1)
			backoff(d);
		rc = CALL_INVALID;
		goto out;
	}
	if (*status != 200 || !json_is_object(j)) {
		const char *e =
		    json_is_object(j) ? json_string_value(json_object_get(j, "error")) : NULL;
		const char *detail =
		    json_is_object(j) ? json_string_value(json_object_get(j, "detail")) : NULL;
		mm_dlog(MM_DLOG_WARN, "POST %s: HTTP %ld: %s%s%s", path, *status,
		        e != NULL     ? e
		        : err != NULL ? err
		                      : "unexpected answer",
		        detail != NULL ? ": " : "", detail != NULL ? detail : "");
		snprintf(d->last_error, sizeof(d->last_error), "%s", e != NULL ? e : "");
		backoff(d);
		goto out;
	}
	d->invalid_streak = 0;
	backoff_reset(d);
	*resp = j;
	j = NULL;
	rc = CALL_OK;
out:
	if (body.data != NULL)
		OPENSSL_cleanse(body.data, body.len);
	mm_buf_free(&body);
	json_decref(j);
	free(err);
	return rc;
}

/* ---- host facts and enrollment ------------------------------------------------ */

/* The first row of a query as an object ({} when it fails or is empty). */
static json_t *first_row(struct daemon *d, const char *sql)
{
	json_t *rows = NULL, *row;
	char *err = NULL;

	if (mm_run_query(d->eng, sql, 16, 1 << 20, &rows, &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "%s: %s", sql, err);
		free(err);
		return json_object();
	}
	row = json_array_get(rows, 0);
	row = row != NULL ? json_incref(row) : json_object();
	json_decref(rows);
	return row;
}

/* Reads hostname, uuid and the host identifier from the tables. */
static int host_facts(struct daemon *d)
{
	json_t *si = first_row(d, "SELECT hostname, uuid FROM system_info");
	const char *hn = json_string_value(json_object_get(si, "hostname"));
	const char *uuid = json_string_value(json_object_get(si, "uuid"));
	const char *id;

	if (hn == NULL || hn[0] == '\0')
		hn = "localhost";
	if (uuid == NULL)
		uuid = "";
	switch (d->cfg->host_identifier) {
	case MM_HOSTID_UUID: id = uuid[0] != '\0' ? uuid : hn; break;
	case MM_HOSTID_SPECIFIED: id = d->cfg->identifier; break;
	default: id = hn;
	}
	free(d->hostname);
	free(d->host_id);
	d->hostname = strdup(hn);
	d->host_id = strdup(id);
	json_decref(si);
	if (d->hostname == NULL || d->host_id == NULL)
		return MM_ERR_NOMEM;
	return 0;
}

/* host_details for the enroll request, from the agent's own tables. */
static json_t *host_details(struct daemon *d)
{
	json_t *hd = json_object(), *oi = first_row(d, "SELECT * FROM osquery_info");

	json_object_set_new(oi, "version", json_string(MM_VERSION));
	json_object_set_new(oi, "extensions", json_string("mamori"));
	json_object_set_new(hd, "os_version", first_row(d, "SELECT * FROM os_version"));
	json_object_set_new(hd, "osquery_info", oi);
	json_object_set_new(hd, "system_info", first_row(d, "SELECT * FROM system_info"));
	json_object_set_new(hd, "platform_info", json_object());
	json_object_set_new(hd, "mamori_info", first_row(d, "SELECT * FROM mamori_info"));
	if (d->cfg->lr_enabled) /* Live Response: the host keys to pin (daemon_lr.c) */
		json_object_set_new(hd, "mamori_live_response", mm_lr_agent_info(d->cfg));
	return hd;
}

/* Reads the enroll secret (trailing white space trimmed).  Returns a
 * malloc'ed string the caller wipes, or NULL (logged). */
static char *read_secret(struct daemon *d)
{
	char *s = NULL;
	size_t len = 0;
	int r;

	if ((r = mm_read_file(d->cfg->enroll_secret_file, SECRET_MAX, &s, &len)) != 0) {
		mm_dlog(MM_DLOG_ERROR, "enroll_secret_file %s: %s", d->cfg->enroll_secret_file,
		        r == MM_ERR_TOOBIG ? "too large" : strerror(errno));
		return NULL;
	}
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
	                   s[len - 1] == '\t'))
		s[--len] = '\0';
	if (len == 0 || strlen(s) != len) {
		mm_dlog(MM_DLOG_ERROR, "enroll_secret_file %s: empty or binary",
		        d->cfg->enroll_secret_file);
		OPENSSL_cleanse(s, len);
		free(s);
		return NULL;
	}
	return s;
}

/* Enrolls.  Returns 0 with d->node_key set (and stored), or -1 (logged,
 * backoff started). */
static int enroll(struct daemon *d)
{
	json_t *body = NULL, *js = NULL, *resp = NULL;
	char *secret = NULL, *text = NULL, *err = NULL;
	const char *key;
	long status = 0;
	int r = -1;

	if ((secret = read_secret(d)) == NULL) {
		backoff(d);
		return -1;
	}
	body = json_object();
	js = json_string(secret);
	if (body == NULL || js == NULL || json_object_set(body, "enroll_secret", js) != 0 ||
	    json_object_set_new(body, "host_identifier", json_string(d->host_id)) != 0 ||
	    json_object_set_new(body, "platform_type", json_string("9")) != 0 ||
	    json_object_set_new(body, "host_details", host_details(d)) != 0 ||
	    (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		mm_dlog(MM_DLOG_ERROR, "enroll: out of memory");
		backoff(d);
		goto out;
	}
	mm_dlog(MM_DLOG_INFO, "enrolling with %s as %s", d->cfg->server, d->host_id);
	if (mm_httpc_post(d->http, "/api/v1/osquery/enroll", text, strlen(text), 0, &status, &resp,
	                  &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "%s", err);
		backoff(d);
		goto out;
	}
	key = json_string_value(json_object_get(resp, "node_key"));
	if (status != 200 || !json_is_object(resp) ||
	    json_is_true(json_object_get(resp, "node_invalid")) || key == NULL ||
	    !node_key_ok(key)) {
		const char *e = json_string_value(json_object_get(resp, "error"));
		mm_dlog(MM_DLOG_ERROR, "enroll refused (HTTP %ld): %s", status,
		        e != NULL     ? e
		        : err != NULL ? err
		                      : "no valid node key in the answer");
		backoff(d);
		goto out;
	}
	free(err);
	err = NULL;
	if ((d->node_key = strdup(key)) == NULL ||
	    mm_state_kv_set(d->st, "node_key", key, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "enroll: cannot keep the node key: %s",
		        err != NULL ? err : "out of memory");
		drop_node_key(d);
		backoff(d);
		goto out;
	}
	{
		json_t *hid = json_object_get(json_object_get(resp, "mamori"), "host_id");
		if (json_is_integer(hid))
			mm_dlog(MM_DLOG_INFO, "enrolled (host id %lld)",
			        (long long)json_integer_value(hid));
		else
			mm_dlog(MM_DLOG_INFO, "enrolled");
	}
	backoff_reset(d);
	d->next_config = d->now; /* a new key: fetch the config at once */
	/* The coordinator may have lost this host's verdicts, or never had them. */
	d->full_pending = 1;
	r = 0;
out:
	if (resp != NULL && json_string_value(json_object_get(resp, "node_key")) != NULL) {
		char *k = (char *)json_string_value(json_object_get(resp, "node_key"));
		OPENSSL_cleanse(k, strlen(k));
	}
	json_decref(resp);
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	if (js != NULL) {
		char *s = (char *)json_string_value(js);
		OPENSSL_cleanse(s, strlen(s));
	}
	json_decref(js);
	json_decref(body);
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	free(err);
	return r;
}

/* ---- the schedule ---------------------------------------------------------------- */

static const struct mm_sched_query *find_query(const struct mm_schedule *s, const char *name)
{
	size_t i;

	for (i = 0; s != NULL && i < s->nqueries; i++)
		if (strcmp(s->queries[i].name, name) == 0)
			return &s->queries[i];
	return NULL;
}

/* When a query newly in the schedule first runs: at once plus its splay, or
 * where its last recorded run puts it (a restart does not rerun everything). */
static int64_t first_due(struct daemon *d, const struct mm_sched_query *q)
{
	struct mm_query_state qs;
	int64_t base = d->now, wall = (int64_t)time(NULL);
	char *err = NULL;

	if (d->once)
		return d->now;
	if (mm_state_query_get(d->st, q->name, &qs, &err) == 0) {
		if (qs.exists && qs.last_run > 0 && strcmp(qs.query, q->query) == 0) {
			int64_t left = qs.last_run + q->interval - wall;
			if (left > q->interval)
				left = q->interval;
			if (left > 0)
				base += left * 1000;
		}
		mm_query_state_clear(&qs);
	}
	free(err);
	return base + mm_splay_ms(q->name, d->host_id, q->interval, d->cfg->splay_percent);
}

/* Makes s the schedule: queries that stay keep their next run time, new ones
 * get a first one; state of queries that left is forgotten. */
static void apply_schedule(struct daemon *d, struct mm_schedule *s)
{
	char **names = calloc(s->nqueries + 1, sizeof(char *)), *err = NULL;
	size_t i;

	for (i = 0; i < s->nqueries; i++) {
		struct mm_sched_query *q = &s->queries[i];
		const struct mm_sched_query *old = find_query(d->sched, q->name);
		if (old != NULL && strcmp(old->query, q->query) == 0 &&
		    old->interval == q->interval)
			q->due_ms = old->due_ms;
		else
			q->due_ms = first_due(d, q);
		if (names != NULL)
			names[i] = q->name;
	}
	if (names != NULL) {
		if (mm_state_begin(d->st, &err) != 0 ||
		    mm_state_query_retain(d->st, names, s->nqueries, &err) != 0 ||
		    mm_state_commit(d->st, &err) != 0) {
			mm_state_rollback(d->st);
			mm_dlog(MM_DLOG_ERROR, "%s", err);
		}
	}
	free(err);
	free(names);
	mm_schedule_free(d->sched);
	d->sched = s;
	mm_dlog(MM_DLOG_INFO, "schedule: %zu queries in %zu packs", s->nqueries, s->npacks);
}

/* ---- policies ------------------------------------------------------------------------ */

static void policy_limits(const struct daemon *d, struct mm_policy_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->time_limit_ms = d->cfg->time_limit_ms; /* same meaning: 0 default, < 0 none */
}

/* How often a policy runs: its interval, or policy_override when shorter. */
static int64_t policy_every_ms(const struct daemon *d, const struct mm_dpolicy *dp)
{
	int64_t ms = dp->interval * 1000;

	if (d->cfg->policy_override_ms > 0 && d->cfg->policy_override_ms < ms)
		ms = d->cfg->policy_override_ms;
	return ms;
}

/* When a policy new in the set (or changed) first runs: at once plus its
 * splay, or, when the stored verdict came from the same source, where its
 * last evaluation puts it (a restart does not rerun everything). */
static int64_t policy_first_due(struct daemon *d, const struct mm_dpolicy *dp)
{
	int64_t every = policy_every_ms(d, dp), at = 0, base = d->now;
	char hash[65], *err = NULL;

	if (d->once)
		return d->now;
	if (mm_state_verdict_last(d->st, dp->id, &at, hash, &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "%s", err);
		free(err);
	} else if (at > 0 && strcmp(hash, dp->hash) == 0) {
		int64_t left = at * 1000 + every - (int64_t)time(NULL) * 1000;
		if (left > every)
			left = every;
		if (left > 0)
			base += left;
	}
	return base + mm_splay_ms(dp->id, d->host_id, every >= 1000 ? every / 1000 : 1,
	                          d->cfg->splay_percent);
}

/* After a change of policy_override: nothing waits longer than its period. */
static void policies_reschedule(struct daemon *d)
{
	size_t i;

	for (i = 0; d->pols != NULL && i < d->pols->n; i++) {
		struct mm_dpolicy *dp = &d->pols->v[i];
		if (dp->due_ms > d->now + policy_every_ms(d, dp))
			dp->due_ms = d->now + policy_every_ms(d, dp);
	}
}

/* Makes list (a config's mamori.policies; NULL when it has none) the policy
 * set unless it is the one in force: unchanged policies keep their state,
 * new and changed ones are loaded and scheduled, verdicts of policies that
 * left are deleted and a full report is then due.  from_cache: list comes
 * from the state DB (not stored again). */
static void apply_policies(struct daemon *d, json_t *list, int from_cache)
{
	struct mm_dpolicies *s = NULL;
	struct mm_policy_limits lim;
	char *text, *err = NULL, **ids = NULL;
	int64_t removed = 0;
	size_t i, fresh = 0, bad = 0;

	if (!json_is_array(list))
		list = NULL;
	text = list != NULL ? json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS) : strdup("null");
	if (text == NULL) {
		mm_dlog(MM_DLOG_ERROR, "policies: out of memory");
		return;
	}
	if (d->pols_text != NULL && strcmp(text, d->pols_text) == 0) {
		free(text);
		return;
	}
	policy_limits(d, &lim);
	if (list != NULL && mm_dpolicies_update(list, d->pols, &lim, &s) != 0) {
		mm_dlog(MM_DLOG_ERROR, "policies: out of memory; keeping the current ones");
		free(text);
		return;
	}
	if (s != NULL && s->n > 0 && (ids = calloc(s->n, sizeof(*ids))) == NULL) {
		mm_dlog(MM_DLOG_ERROR, "policies: out of memory; keeping the current ones");
		mm_dpolicies_free(s);
		free(text);
		return;
	}
	for (i = 0; s != NULL && i < s->n; i++) {
		struct mm_dpolicy *dp = &s->v[i];
		ids[i] = dp->id;
		if (dp->fresh) {
			dp->due_ms = policy_first_due(d, dp);
			fresh++;
		} else if (dp->due_ms > d->now + policy_every_ms(d, dp)) {
			dp->due_ms = d->now + policy_every_ms(d, dp); /* its interval shrank */
		}
		if (dp->p == NULL)
			bad++;
	}
	if (mm_state_verdicts_retain(d->st, ids, s != NULL ? s->n : 0, &removed, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s", err);
		free(err);
		err = NULL;
	} else if (removed > 0) {
		mm_dlog(MM_DLOG_INFO,
		        "policies: %lld verdicts of policies no longer in the config deleted",
		        (long long)removed);
		d->full_pending = 1;
	}
	free(ids);
	mm_dpolicies_free(d->pols);
	d->pols = s;
	if (!from_cache && mm_state_kv_set(d->st, "policies", text, &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "cannot cache the policies: %s", err);
		free(err);
	}
	free(d->pols_text);
	d->pols_text = text;
	if (s == NULL)
		mm_dlog(MM_DLOG_INFO, "policies: none in the config");
	else
		mm_dlog(MM_DLOG_INFO, "policies: %zu (%zu new or changed, %zu do not load)", s->n,
		        fresh, bad);
}

/* Parses and applies a coordinator config unless it is the one in force.
 * Returns 0, or -1 (logged) when it is not usable. */
static int use_config(struct daemon *d, json_t *cfg, int from_cache)
{
	struct mm_schedule *s = NULL;
	char *text, *err = NULL;

	/* The policies come apart from the schedule: the cached config is
	 * stored without them (kv "policies" holds them). */
	if (!from_cache)
		apply_policies(d, json_object_get(json_object_get(cfg, "mamori"), "policies"), 0);
	/* Fields that say nothing about the schedule (the coordinator's host
	 * id changes with a new enrollment). */
	json_object_del(cfg, "node_invalid");
	json_object_del(cfg, "mamori");
	if ((text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return -1;
	if (d->config_text != NULL && strcmp(text, d->config_text) == 0) {
		free(text);
		return 0;
	}
	if (mm_schedule_from_json(cfg, d->hostname, &s, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "config: %s", err);
		free(err);
		free(text);
		return -1;
	}
	mm_dlog(MM_DLOG_INFO, "%s config", from_cache ? "using the cached" : "new");
	apply_schedule(d, s);
	if (!from_cache && mm_state_kv_set(d->st, "config", text, &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "cannot cache the config: %s", err);
		free(err);
	}
	free(d->config_text);
	d->config_text = text;
	return 0;
}

/* Fetches the config.  Returns a CALL_* value. */
static int fetch_config(struct daemon *d)
{
	json_t *resp = NULL;
	long status;
	int rc;

	if ((rc = call(d, "/api/v1/osquery/config", NULL, 0, 0, &status, &resp)) != CALL_OK)
		return rc;
	d->next_config = d->now + d->cfg->config_refresh_ms;
	if (use_config(d, resp, 0) != 0)
		rc = CALL_FAILED;
	json_decref(resp);
	return rc;
}

/* Whether a pack's discovery queries let it run now (all must return a
 * row; cached for pack_refresh_interval). */
static int pack_active(struct daemon *d, struct mm_sched_pack *p)
{
	size_t i;

	if (p->ndiscovery == 0)
		return 1;
	if (p->checked_ms != 0 && d->now - p->checked_ms < d->sched->pack_refresh_ms)
		return p->active;
	p->checked_ms = d->now;
	p->active = 1;
	for (i = 0; i < p->ndiscovery && p->active; i++) {
		json_t *rows = NULL;
		char *err = NULL;
		if (mm_run_query(d->eng, p->discovery[i], 1000, 1 << 20, &rows, &err) != 0) {
			mm_dlog(MM_DLOG_WARN, "pack %s: discovery query failed: %s", p->name, err);
			p->active = 0;
		} else if (json_array_size(rows) == 0) {
			p->active = 0;
		}
		json_decref(rows);
		free(err);
	}
	mm_dlog(MM_DLOG_DEBUG, "pack %s: discovery says %s", p->name, p->active ? "run" : "skip");
	return p->active;
}

/* Runs one scheduled query and records its results. */
static void run_scheduled(struct daemon *d, const struct mm_sched_query *q)
{
	struct mm_record_opts o = {0};
	json_t *rows = NULL;
	char *err = NULL;
	size_t nlines = 0;
	int64_t t0 = mono_ms();

	o.unix_time = (int64_t)time(NULL);
	if (mm_run_query(d->eng, q->query, SIZE_MAX, MM_SCHED_MAX_BYTES, &rows, &err) != 0) {
		struct mm_buf m;
		mm_dlog(MM_DLOG_WARN, "scheduled query %s failed: %s", q->name, err);
		mm_buf_init(&m, 4096);
		mm_buf_addf(&m, "Error executing scheduled query %s: %s", q->name, err);
		mm_queue_status(d->st, d->host_id, 2, "cmd_daemon.c", __LINE__, mm_buf_str(&m));
		mm_buf_free(&m);
		goto out;
	}
	o.name = q->name;
	o.query = q->query;
	o.snapshot = q->snapshot;
	o.removed = q->removed;
	o.host_identifier = d->host_id;
	if (mm_record_results(d->st, &o, rows, &nlines, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "scheduled query %s: cannot record results: %s", q->name,
		        err);
		goto out;
	}
	mm_dlog(MM_DLOG_DEBUG, "scheduled query %s: %zu rows, %zu lines queued, %lld ms", q->name,
	        json_array_size(rows), nlines, (long long)(mono_ms() - t0));
out:
	json_decref(rows);
	free(err);
}

static int stop_pending(void)
{
	sigset_t p;

	return sigpending(&p) == 0 &&
	       (sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1);
}

/* Runs every due query (all of them with --once). */
static void run_due(struct daemon *d)
{
	size_t i;

	for (i = 0; d->sched != NULL && i < d->sched->nqueries; i++) {
		struct mm_sched_query *q = &d->sched->queries[i];

		if (!d->once && q->due_ms > d->now)
			continue;
		if (!d->once && stop_pending())
			return;
		q->due_ms += q->interval * 1000;
		if (q->due_ms <= d->now)
			q->due_ms = d->now + q->interval * 1000; /* fell behind: skip, as osquery */
		if (q->pack >= 0 && !pack_active(d, &d->sched->packs[q->pack]))
			continue;
		run_scheduled(d, q);
		d->now = mono_ms();
	}
}

/* Evaluates one policy and stores its verdict. */
static void eval_policy(struct daemon *d, const struct mm_dpolicy *dp,
                        const struct mm_policy_limits *lim)
{
	struct mm_vrec v;
	char *err = NULL;
	int changed = 0;
	int64_t t0 = mono_ms();

	if (mm_dpolicy_eval(dp, d->eng, lim, (int64_t)time(NULL), &v) != 0) {
		mm_dlog(MM_DLOG_ERROR, "policy %s: out of memory", dp->id);
		return;
	}
	if (mm_state_verdict_put(d->st, &v, dp->hash, &changed, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "policy %s: cannot store the verdict: %s", dp->id, err);
		free(err);
	} else if (changed) {
		mm_dlog(MM_DLOG_INFO, "policy %s: %s: %.200s", dp->id, v.verdict, v.reason);
	}
	mm_dlog(MM_DLOG_DEBUG, "policy %s: %s in %lld ms%s", dp->id, v.verdict,
	        (long long)(mono_ms() - t0), changed ? "" : " (unchanged)");
	mm_vrec_clear(&v);
}

/* Evaluates the due policies (all of them with --once), each at most once
 * and for at most POLICY_STEP_MS per call: the rest stay due for the next
 * step, so the sender and distributed queries are not held up for long. */
static void run_policies(struct daemon *d)
{
	struct mm_policy_limits lim;
	int64_t t0 = mono_ms(), start = d->now;

	policy_limits(d, &lim);
	while (d->pols != NULL) {
		struct mm_dpolicy *dp = NULL;
		int64_t every;
		size_t i;

		/* The most overdue first: a step cut short by its budget does not
		 * starve the policies at the end of the list. */
		for (i = 0; i < d->pols->n; i++)
			if (d->pols->v[i].due_ms <= start &&
			    (dp == NULL || d->pols->v[i].due_ms < dp->due_ms))
				dp = &d->pols->v[i];
		if (dp == NULL)
			return;
		if (!d->once && (stop_pending() || mono_ms() - t0 >= POLICY_STEP_MS))
			return;
		every = policy_every_ms(d, dp);
		dp->due_ms += every;
		if (dp->due_ms <= d->now)
			dp->due_ms = d->now + every; /* fell behind: skip, as queries do */
		eval_policy(d, dp, &lim);
		d->now = mono_ms();
	}
}

/* Sends a verdict report: every verdict (full) or the changed ones not sent
 * yet.  Returns a CALL_* value; CALL_OK also when there was nothing to send.
 * A report the coordinator refuses as such (a 4xx other than 408/429) is
 * dropped (logged) rather than sent again forever. */
static int send_verdicts(struct daemon *d, int full)
{
	json_t *list = NULL, *resp = NULL;
	char *body = NULL, *err = NULL;
	int64_t last_gen = 0;
	size_t len = 0, n;
	long status = 0;
	int rc = CALL_FAILED;

	if (mm_state_verdicts_report(d->st, full, MM_VERDICT_BATCH,
	                             full ? MM_VERDICT_FULL_BYTES : MM_VERDICT_BATCH_BYTES, &list,
	                             &last_gen, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "verdict report: %s", err != NULL ? err : "out of memory");
		goto out;
	}
	n = json_array_size(list);
	if (!full && n == 0) {
		rc = CALL_OK;
		goto out;
	}
	if ((body = mm_verdicts_body(full, list, &len)) == NULL) {
		mm_dlog(MM_DLOG_ERROR, "verdict report: out of memory");
		goto out;
	}
	rc = call(d, "/api/v1/mamori/verdicts", body, len, 0, &status, &resp);
	if (rc == CALL_FAILED && status >= 400 && status < 500 && status != 408 && status != 429) {
		mm_dlog(MM_DLOG_WARN,
		        "the coordinator refuses the %s verdict report (HTTP %ld): dropped",
		        full ? "full" : "changed", status);
		backoff_reset(d);
	} else if (rc != CALL_OK) {
		goto out;
	} else {
		mm_dlog(MM_DLOG_DEBUG, "sent %zu verdicts%s: %lld accepted, %lld ignored", n,
		        full ? " (full report)" : "",
		        (long long)json_integer_value(json_object_get(resp, "accepted")),
		        (long long)json_integer_value(json_object_get(resp, "ignored")));
	}
	if (mm_state_verdicts_ack(d->st, last_gen, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s", err);
		rc = CALL_FAILED;
		goto out;
	}
	if (full) {
		d->full_pending = 0;
		d->next_full = mono_ms() + d->cfg->policy_full_report_ms;
	}
out:
	json_decref(list);
	json_decref(resp);
	free(body);
	free(err);
	return rc;
}

/* Sends what verdicts are due: a full report when one is, else the changed
 * verdicts; no sooner than VERDICT_GAP_MS after the last attempt, so a burst
 * of evaluations goes in one report and a report that cannot even be built
 * is not retried in a tight loop.  Only to a coordinator whose config has
 * mamori.policies. */
static void verdicts_step(struct daemon *d)
{
	int64_t total = 0, unsent = 0;
	char *err = NULL;

	if (d->pols == NULL || d->node_key == NULL || d->now < d->retry_at ||
	    d->now < d->next_verdicts)
		return;
	if (d->now >= d->next_full)
		d->full_pending = 1;
	if (d->full_pending) {
		send_verdicts(d, 1);
	} else {
		if (mm_state_verdicts_count(d->st, &total, &unsent, &err) != 0) {
			mm_dlog(MM_DLOG_ERROR, "%s", err);
			free(err);
			unsent = 1; /* try the report: it says what is wrong, and we wait */
		}
		if (unsent == 0)
			return;
		send_verdicts(d, 0);
	}
	d->now = mono_ms();
	d->next_verdicts = d->now + VERDICT_GAP_MS;
}

/* ---- the sender ------------------------------------------------------------------- */

/* Sends queued lines: up to max_batches batches, and none started after
 * deadline (monotonic ms, 0 = none).  Returns 1 when the queue is empty, 0
 * when lines remain (budget used), -1 on failure (logged; *invalid set when
 * the node key was rejected). */
static int flush(struct daemon *d, int max_batches, int64_t timeout_ms, int64_t deadline,
                 int *invalid)
{
	struct mm_batch b;
	struct mm_buf f;
	char *err = NULL;
	int i, r = 0;

	*invalid = 0;
	mm_batch_init(&b);
	mm_buf_init(&f, MM_LOG_BATCH_BYTES + 4096);
	for (i = 0; i < max_batches && (deadline == 0 || mono_ms() < deadline); i++) {
		json_t *resp = NULL;
		long status;
		int rc;

		if (mm_state_queue_batch(d->st, d->batch_limit, MM_LOG_BATCH_BYTES, &b, &err) !=
		    0) {
			mm_dlog(MM_DLOG_ERROR, "%s", err);
			r = -1;
			goto out;
		}
		if (b.n == 0) {
			r = 1;
			goto out;
		}
		mm_buf_reset(&f);
		if (mm_buf_addf(&f, "{\"log_type\":\"%s\",\"mamori_seq\":%lld,\"data\":[",
		                b.type == MM_LINE_RESULT ? "result" : "status",
		                (long long)b.first_seq) != 0 ||
		    mm_buf_add(&f, b.data.data, b.data.len) != 0 || mm_buf_adds(&f, "]}") != 0) {
			mm_dlog(MM_DLOG_ERROR, "log batch: out of memory");
			r = -1;
			goto out;
		}
		rc = call(d, "/api/v1/osquery/log", f.data, f.len, timeout_ms, &status, &resp);
		json_decref(resp);
		if (rc == CALL_INVALID) {
			*invalid = 1;
			r = -1;
			goto out;
		}
		if (rc != CALL_OK &&
		    (status == 413 ||
		     (status == 400 && strcmp(d->last_error, "malformed log line") == 0))) {
			/* Refused as such (over the body cap, or a line the coordinator
			 * cannot read): sending it again would not help.  Halve the
			 * batches until the culprit is alone, then drop it (reported)
			 * rather than block every line behind it. */
			if (b.n > 1) {
				d->batch_limit = b.n / 2;
				backoff_reset(d);
				mm_dlog(MM_DLOG_INFO, "log batches now at most %zu lines",
				        d->batch_limit);
				continue;
			}
			mm_dlog(MM_DLOG_WARN,
			        "the coordinator refuses line %lld (HTTP %ld): dropped",
			        (long long)b.first_seq, status);
			backoff_reset(d);
			if (mm_state_queue_ack(d->st, b.last_seq, &err) != 0)
				goto ackfail;
			mm_queue_status(d->st, d->host_id, 1, "cmd_daemon.c", __LINE__,
			                b.type == MM_LINE_RESULT
			                    ? "dropped 1 result lines: refused by the coordinator"
			                    : "dropped 1 status lines: refused by the coordinator");
			continue;
		}
		if (rc != CALL_OK) {
			r = -1;
			goto out;
		}
		if (mm_state_queue_ack(d->st, b.last_seq, &err) != 0)
			goto ackfail;
		mm_dlog(MM_DLOG_DEBUG, "sent %zu %s lines (seq %lld..%lld)", b.n,
		        b.type == MM_LINE_RESULT ? "result" : "status", (long long)b.first_seq,
		        (long long)b.last_seq);
		if (b.n == d->batch_limit && d->batch_limit < MM_LOG_BATCH_LINES)
			d->batch_limit = d->batch_limit * 2 > MM_LOG_BATCH_LINES
			                     ? MM_LOG_BATCH_LINES
			                     : d->batch_limit * 2;
	}
	goto out;
ackfail:
	/* Delivered but still queued: resent later, and the coordinator skips
	 * the sequence numbers it has (no duplicates). */
	mm_dlog(MM_DLOG_ERROR, "%s", err);
	r = -1;
out:
	free(err);
	mm_buf_free(&f);
	mm_batch_free(&b);
	return r;
}

/* ---- distributed queries ---------------------------------------------------------- */

/* A POST that the coordinator may hold up to wait_s seconds (a long poll):
 * SIGHUP and SIGTERM cut it short, and then it is not a failure of the
 * coordinator (no backoff). */
static int long_call(struct daemon *d, const char *path, const char *fields, size_t flen,
                     int64_t wait_s, long *status, json_t **resp)
{
	sigset_t pending;
	int rc;

	mm_httpc_set_interruptible(d->http, 2);
	rc = call(d, path, fields, flen, wait_s * 1000 + d->cfg->request_timeout_ms, status, resp);
	mm_httpc_set_interruptible(d->http, 1);
	if (rc == CALL_FAILED && *status == 0 && sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGHUP) == 1 || sigismember(&pending, SIGTERM) == 1 ||
	     sigismember(&pending, SIGINT) == 1))
		backoff_reset(d); /* not a failure of the coordinator */
	return rc;
}

/* 1 when a reply says the coordinator held the request as a long poll. */
static int held(const json_t *resp)
{
	return json_integer_value(json_object_get(resp, "mamori_wait")) > 0;
}

/* Sends pending answers in order.  wait_s >= 0: the last one carries
 * "mamori_wait": wait_s, and a coordinator that holds answers (docs/api.md,
 * long polls) answers it as it would a long-poll read: *read then gets that
 * reply (else NULL), and no separate read is needed.  Returns 0 when none
 * is left, -1 when one could not be delivered. */
static int send_writes(struct daemon *d, int64_t wait_s, json_t **read)
{
	if (read != NULL)
		*read = NULL;
	while (json_array_size(d->pending_writes) > 0) {
		json_t *a = json_array_get(d->pending_writes, 0), *resp = NULL;
		int last = json_array_size(d->pending_writes) == 1 && wait_s >= 0 && read != NULL;
		char *text;
		long status;
		int rc;

		if (last)
			json_object_set_new(a, "mamori_wait", json_integer(wait_s));
		else
			json_object_del(a, "mamori_wait");
		if ((text = json_dumps(a, JSON_COMPACT)) == NULL)
			return -1;
		if (last)
			rc = long_call(d, "/api/v1/osquery/distributed/write", text, strlen(text),
			               wait_s, &status, &resp);
		else
			rc = call(d, "/api/v1/osquery/distributed/write", text, strlen(text), 0,
			          &status, &resp);
		free(text);
		if (rc != CALL_OK) {
			json_decref(resp);
			if (rc == CALL_FAILED && status >= 400 && status < 500 && status != 408 &&
			    status != 429) {
				/* Refused as such: sending it again would not help. */
				mm_dlog(MM_DLOG_WARN, "distributed answer refused, dropped");
				json_array_remove(d->pending_writes, 0);
			}
			return -1;
		}
		json_array_remove(d->pending_writes, 0);
		if (last && held(resp))
			*read = resp;
		else
			json_decref(resp);
	}
	return 0;
}

static void queue_answer(struct daemon *d, json_t *a)
{
	if (json_object_size(json_object_get(a, "statuses")) == 0) {
		json_decref(a);
		return;
	}
	if (json_array_size(d->pending_writes) >= MAX_PENDING_WRITES) {
		mm_dlog(MM_DLOG_WARN,
		        "too many undelivered distributed answers: dropping the oldest");
		json_array_remove(d->pending_writes, 0);
	}
	json_array_append_new(d->pending_writes, a);
}

/* Runs the queries of a read's reply and queues the answers.  Returns the
 * number of answers queued. */
static size_t answer(struct daemon *d, json_t *resp)
{
	json_t *writes = NULL, *a;
	int64_t acc = json_integer_value(json_object_get(resp, "accelerate"));
	size_t i, n = 0;

	if (acc > 0)
		d->accelerate_until = d->now + (acc > 3600 ? 3600 : acc) * 1000;
	if (mm_dist_answer(d->eng, resp, &writes) != 0) {
		mm_dlog(MM_DLOG_ERROR, "distributed queries: out of memory");
		return 0;
	}
	json_array_foreach(writes, i, a)
	{
		queue_answer(d, json_incref(a));
		n++;
	}
	json_decref(writes);
	return n;
}

/* Polls for distributed queries, runs them and sends the answers.
 * wait_s >= 0 makes it a long poll (docs/api.md): the read carries
 * "mamori_wait": wait_s and the coordinator answers it as soon as a live
 * query arrives, or after that long with nothing.  The answers then ride
 * on the next long poll (the coordinator holds an answer that carries
 * mamori_wait as it holds a read), so a host answering one live query
 * after another costs one request each, until wait_s is used up.  A
 * coordinator whose answer lacks "mamori_wait" (or has 0) does not hold
 * reads: plain polls from then on. */
static void distributed_poll(struct daemon *d, int64_t wait_s)
{
	int64_t deadline = mono_ms() + (wait_s > 0 ? wait_s : 0) * 1000;
	json_t *resp = NULL;
	char fields[48];
	long status;
	int round, rc;

	if (wait_s < 0) {
		if (send_writes(d, -1, NULL) != 0)
			return;
		if (call(d, "/api/v1/osquery/distributed/read", NULL, 0, 0, &status, &resp) ==
		        CALL_OK &&
		    answer(d, resp) > 0)
			send_writes(d, -1, NULL);
		json_decref(resp);
		return;
	}
	for (round = 0; round < DIST_ROUNDS_MAX && !d->stop && !stop_pending(); round++) {
		if (send_writes(d, wait_s, &resp) != 0)
			return;
		if (resp == NULL) {
			snprintf(fields, sizeof(fields), "{\"mamori_wait\":%lld}", (long long)wait_s);
			mm_dlog(MM_DLOG_DEBUG, "distributed read: long poll of up to %lld s",
			        (long long)wait_s);
			rc = long_call(d, "/api/v1/osquery/distributed/read", fields, strlen(fields),
			               wait_s, &status, &resp);
			if (rc != CALL_OK) {
				json_decref(resp);
				return;
			}
			if (!held(resp)) {
				mm_dlog(MM_DLOG_INFO, "the coordinator does not hold distributed reads:"
				                      " polling every distributed_interval");
				d->long_poll_off = 1;
			}
		}
		d->now = mono_ms();
		if (answer(d, resp) == 0 || d->long_poll_off) {
			json_decref(resp);
			send_writes(d, -1, NULL);
			return;
		}
		json_decref(resp);
		resp = NULL;
		/* Answers queued: they go with the next long poll, while there
		 * is time for one before the scheduled work. */
		wait_s = (deadline - mono_ms()) / 1000;
		if (wait_s < 1) {
			send_writes(d, -1, NULL);
			return;
		}
	}
	send_writes(d, -1, NULL);
}

static void distributed(struct daemon *d)
{
	distributed_poll(d, -1);
}

/* ---- setup, reload ------------------------------------------------------------------ */

static void warn_cb(void *arg, const char *table, const char *msg)
{
	(void)arg;
	mm_dlog(MM_DLOG_DEBUG, "table %s: %s", table, msg);
}

static int open_engine(struct daemon *d)
{
	struct mm_engine_opts o = {0};
	struct mm_engine *e = NULL;
	char *err = NULL;

	o.root = d->cfg->root;
	o.time_limit_ms = d->cfg->time_limit_ms;
	o.heap_limit = d->cfg->heap_limit;
	o.warn = warn_cb;
	if (mm_engine_new(&o, &e, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "cannot open the SQL engine: %s", err != NULL ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	mm_engine_free(d->eng);
	d->eng = e;
	return 0;
}

static int open_state(struct daemon *d)
{
	struct mm_state *st = NULL;
	char *err = NULL, *key = NULL;

	if (mm_state_open(d->cfg->state_dir, d->cfg->queue_max_rows, d->cfg->queue_max_bytes, &st,
	                  &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s", err);
		free(err);
		return -1;
	}
	mm_state_close(d->st);
	d->st = st;
	if (d->node_key != NULL) {
		OPENSSL_cleanse(d->node_key, strlen(d->node_key));
		free(d->node_key);
		d->node_key = NULL;
	}
	if (mm_state_kv_get(st, "node_key", &key, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s", err);
		free(err);
	} else if (key != NULL && node_key_ok(key)) {
		d->node_key = key;
		key = NULL;
	}
	if (key != NULL) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	return 0;
}

static int open_http(struct daemon *d)
{
	struct mm_httpc *h = NULL;
	char *err = NULL;

	if (mm_httpc_new(d->cfg, &h, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s", err);
		free(err);
		return -1;
	}
	mm_httpc_set_interruptible(h, 1);
	mm_httpc_free(d->http);
	d->http = h;
	return 0;
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* SIGHUP: reads the config file again; keeps the old one when it is bad. */
static void reload(struct daemon *d)
{
	struct mm_daemon_config *nc = NULL, *old = d->cfg;
	char *err = NULL;
	int new_engine, new_state, new_id;

	mm_dlog(MM_DLOG_INFO, "SIGHUP: reloading %s", old->path);
	if (mm_daemon_config_load(old->path, &nc, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s; keeping the current config", err);
		free(err);
		return;
	}
	new_engine = !same(nc->root, old->root) || nc->time_limit_ms != old->time_limit_ms ||
	             nc->heap_limit != old->heap_limit;
	new_state = !same(nc->state_dir, old->state_dir);
	new_id = new_engine || nc->host_identifier != old->host_identifier ||
	         !same(nc->identifier, old->identifier);
	d->cfg = nc;
	if (open_http(d) != 0 || (new_engine && open_engine(d) != 0) ||
	    (new_state && open_state(d) != 0)) {
		mm_dlog(MM_DLOG_ERROR, "reload failed; keeping the current config");
		d->cfg = old;
		mm_daemon_config_free(nc);
		open_http(d);
		if (new_engine)
			open_engine(d);
		if (new_state)
			open_state(d);
		return;
	}
	mm_daemon_config_free(old);
	mm_state_set_bounds(d->st, d->cfg->queue_max_rows, d->cfg->queue_max_bytes);
	if (new_id && host_facts(d) != 0)
		mm_dlog(MM_DLOG_ERROR, "out of memory");
	policies_reschedule(d);
	if (new_state)
		d->full_pending = 1; /* another state DB: other verdicts */
	backoff_reset(d);
	d->next_config = d->now;
	d->next_dist = d->now + d->cfg->distributed_interval_ms;
	d->next_flush = d->now;
	mm_dlog(MM_DLOG_INFO, "config reloaded");
}

/* Waits up to ms for a signal; acts on it. */
static void wait_signals(struct daemon *d, int64_t ms)
{
	struct timespec ts;
	sigset_t set;
	int sig;

	if (ms < 0)
		ms = 0;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while ((sig = sigtimedwait(&set, NULL, &ts)) > 0) {
		if (sig == SIGHUP) {
			d->now = mono_ms();
			reload(d);
		} else {
			mm_dlog(MM_DLOG_INFO, "%s: stopping",
			        sig == SIGTERM ? "SIGTERM" : "SIGINT");
			d->stop = 1;
		}
		ts.tv_sec = 0; /* take any other pending signal, then go on */
		ts.tv_nsec = 0;
	}
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* ---- the loop -------------------------------------------------------------------------- */

/* Waits until wake (which leaves out the next distributed poll).  While
 * enrolled, not backing off and with a second or more to wait, the wait is
 * a long poll (up to intervals.long_poll): a live query arrives at once
 * instead of at the next poll.  Otherwise it waits for signals, until the
 * next plain poll at the latest. */
static void idle(struct daemon *d, int64_t wake)
{
	int64_t now = mono_ms();

	if (d->node_key != NULL) {
		if (d->cfg->long_poll_ms > 0 && !d->long_poll_off && now >= d->retry_at &&
		    wake - now >= 1000) {
			d->now = now;
			distributed_poll(d, min64(wake - now, d->cfg->long_poll_ms) / 1000);
			/* A plain poll only if no long poll happens for that long. */
			d->next_dist = mono_ms() + d->cfg->distributed_interval_ms;
			wait_signals(d, 0);
			return;
		}
		wake = min64(wake, max64(d->retry_at, d->next_dist));
	}
	wait_signals(d, wake - mono_ms());
}

static void loop(struct daemon *d)
{
	while (!d->stop) {
		int64_t wake, remote;
		int64_t rows, bytes;
		int invalid, r;

		d->now = mono_ms();
		if (d->node_key == NULL && d->now >= d->retry_at)
			enroll(d);
		d->now = mono_ms();
		if (d->node_key != NULL && d->now >= d->retry_at && d->now >= d->next_config)
			fetch_config(d);
		wait_signals(d, 0);
		if (d->stop)
			break;
		d->now = mono_ms();
		run_due(d);
		d->now = mono_ms();
		run_policies(d);
		d->now = mono_ms();
		verdicts_step(d);
		d->now = mono_ms();
		if (d->node_key != NULL && d->now >= d->retry_at) /* Live Response host keys */
			mm_lr_agent_step(d->cfg, d->st, d->http, d->node_key, d->now, 0);
		if (d->node_key != NULL && d->now >= d->retry_at && d->now >= d->next_dist) {
			distributed(d);
			d->now = mono_ms();
			d->next_dist =
			    d->now +
			    (d->now < d->accelerate_until ? 1000 : d->cfg->distributed_interval_ms);
		}
		mm_state_queue_stats(d->st, &rows, &bytes);
		if (d->node_key != NULL && d->now >= d->retry_at && d->now >= d->next_flush &&
		    rows > 0) {
			r = flush(d, FLUSH_BATCHES_PER_STEP, 0, 0, &invalid);
			d->now = mono_ms();
			d->next_flush = r == 0 ? d->now : d->now + d->cfg->log_flush_ms;
		}
		/* Sleep until the next thing to do. */
		d->now = mono_ms();
		wake = d->now + 60000;
		if (d->sched != NULL) {
			size_t i;
			for (i = 0; i < d->sched->nqueries; i++)
				wake = min64(wake, d->sched->queries[i].due_ms);
		}
		if (d->pols != NULL) {
			size_t i;
			for (i = 0; i < d->pols->n; i++)
				wake = min64(wake, d->pols->v[i].due_ms);
		}
		remote = d->retry_at;
		if (d->node_key == NULL) {
			wake = min64(wake, remote);
		} else {
			wake = min64(wake, max64(remote, d->next_config));
			/* The next distributed poll: idle() adds it. */
			mm_state_queue_stats(d->st, &rows, &bytes);
			if (rows > 0)
				wake = min64(wake, max64(remote, d->next_flush));
			if (d->pols != NULL) {
				int64_t total = 0, unsent = 0;
				char *err = NULL;
				int64_t v = max64(remote, d->next_verdicts);
				if (mm_state_verdicts_count(d->st, &total, &unsent, &err) != 0)
					free(err);
				wake = min64(wake, d->full_pending || unsent > 0
				                       ? v
				                       : max64(v, d->next_full));
			}
		}
		idle(d, wake);
	}
}

/* --once: enroll, fetch the config, run every query and every policy once,
 * flush, send a full verdict report.  Returns the exit code. */
static int once(struct daemon *d)
{
	int attempts, r, invalid = 0;
	int64_t rows, bytes;

	for (attempts = 0; attempts < 3; attempts++) {
		d->now = mono_ms();
		if (d->node_key == NULL && enroll(d) != 0)
			return MM_EXIT_FAIL;
		r = fetch_config(d);
		if (r == CALL_OK)
			break;
		if (r == CALL_FAILED)
			return MM_EXIT_FAIL;
	}
	if (attempts == 3)
		return MM_EXIT_FAIL;
	if (mm_lr_agent_step(d->cfg, d->st, d->http, d->node_key, mono_ms(), 1) != 0)
		return MM_EXIT_FAIL;
	d->now = mono_ms();
	run_due(d);
	d->now = mono_ms();
	run_policies(d);
	for (attempts = 0; attempts < 3; attempts++) {
		backoff_reset(d);
		r = flush(d, 1 << 30, 0, 0, &invalid);
		if (r == 1)
			break;
		if (!invalid)
			return MM_EXIT_FAIL;
		d->now = mono_ms();
		if (enroll(d) != 0)
			return MM_EXIT_FAIL;
	}
	mm_state_queue_stats(d->st, &rows, &bytes);
	if (rows > 0)
		return MM_EXIT_FAIL;
	mm_dlog(MM_DLOG_INFO, "--once: every line acknowledged");
	if (d->pols == NULL)
		return MM_EXIT_OK;
	for (attempts = 0; attempts < 3; attempts++) {
		backoff_reset(d);
		d->now = mono_ms();
		r = send_verdicts(d, 1);
		if (r == CALL_OK)
			break;
		if (r != CALL_INVALID)
			return MM_EXIT_FAIL;
		if (enroll(d) != 0)
			return MM_EXIT_FAIL;
	}
	if (attempts == 3)
		return MM_EXIT_FAIL;
	mm_dlog(MM_DLOG_INFO, "--once: %zu policy verdicts acknowledged", d->pols->n);
	return MM_EXIT_OK;
}

static void usage(void)
{
	fprintf(stderr, "usage: mamori daemon --config FILE [--once] "
	                "[--log-level error|warn|info|debug]\n");
}

int mm_cmd_daemon(int argc, char **argv)
{
	struct daemon d = {0};
	const char *config = NULL;
	char *err = NULL, *cached = NULL;
	sigset_t set;
	int i, level = MM_DLOG_INFO, rc = MM_EXIT_FAIL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strcmp(argv[i], "--once") == 0) {
			d.once = 1;
		} else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
			if (mm_dlog_parse_level(argv[++i], &level) != 0) {
				fprintf(stderr, "mamori daemon: unknown log level '%s'\n", argv[i]);
				return MM_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			return MM_EXIT_OK;
		} else {
			fprintf(stderr, "mamori daemon: unknown or incomplete option '%s'\n",
			        argv[i]);
			usage();
			return MM_EXIT_USAGE;
		}
	}
	if (config == NULL) {
		usage();
		return MM_EXIT_USAGE;
	}
	mm_dlog_set_level(level);
	if (mm_daemon_config_load(config, &d.cfg, &err) != 0) {
		fprintf(stderr, "mamori daemon: %s\n", err);
		free(err);
		return MM_EXIT_USAGE;
	}
	umask(077);
	/* Signals are taken synchronously (wait_signals); SIGPIPE is ignored. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	{
		char *cerr = NULL;
		if (mm_curl_load(&cerr) != 0) {
			mm_dlog(MM_DLOG_ERROR, "%s", cerr != NULL ? cerr : "cannot load libcurl");
			free(cerr);
			goto out;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		mm_dlog(MM_DLOG_ERROR, "cannot initialise libcurl");
		goto out;
	}
	d.batch_limit = MM_LOG_BATCH_LINES;
	if ((d.pending_writes = json_array()) == NULL || open_state(&d) != 0 ||
	    open_engine(&d) != 0 || open_http(&d) != 0 || host_facts(&d) != 0)
		goto out;
	mm_dlog(MM_DLOG_INFO, "mamori %s daemon: server %s, host %s, root %s, state %s", MM_VERSION,
	        d.cfg->server, d.host_id, d.cfg->root, d.cfg->state_dir);
	d.now = mono_ms();
	d.next_config = d.now;
	d.next_dist = d.now + d.cfg->distributed_interval_ms;
	d.next_flush = d.now;
	if (d.once) {
		rc = once(&d);
		goto out;
	}
	/* Until the coordinator answers, run the schedule and the policies it
	 * gave last time. */
	if (mm_state_kv_get(d.st, "config", &cached, &err) == 0 && cached != NULL) {
		json_t *j = json_loads(cached, 0, NULL);
		if (j != NULL)
			use_config(&d, j, 1);
		json_decref(j);
	}
	free(err);
	err = NULL;
	free(cached);
	cached = NULL;
	if (mm_state_kv_get(d.st, "policies", &cached, &err) == 0 && cached != NULL) {
		json_t *j = json_loads(cached, JSON_DECODE_ANY, NULL);
		apply_policies(&d, j, 1);
		json_decref(j);
	}
	free(err);
	err = NULL;
	/* A full verdict report at start: whatever the coordinator missed. */
	d.next_full = d.now;
	loop(&d);
	/* Last flush: not interrupted by the signal that asked us to stop, and
	 * short; whatever is left stays queued for the next start. */
	if (d.node_key != NULL) {
		int64_t rows, bytes;
		int invalid;
		mm_state_queue_stats(d.st, &rows, &bytes);
		if (rows > 0) {
			mm_httpc_set_interruptible(d.http, 0);
			flush(&d, FLUSH_BATCHES_PER_STEP, FINAL_FLUSH_MS,
			      mono_ms() + FINAL_FLUSH_MS, &invalid);
		}
	}
	mm_dlog(MM_DLOG_INFO, "stopped");
	rc = MM_EXIT_OK;
out:
	free(cached);
	free(err);
	mm_schedule_free(d.sched);
	mm_dpolicies_free(d.pols);
	free(d.pols_text);
	free(d.config_text);
	free(d.host_id);
	free(d.hostname);
	if (d.node_key != NULL) {
		OPENSSL_cleanse(d.node_key, strlen(d.node_key));
		free(d.node_key);
	}
	json_decref(d.pending_writes);
	mm_httpc_free(d.http);
	mm_engine_free(d.eng);
	mm_state_close(d.st);
	mm_daemon_config_free(d.cfg);
	if (mm_curl.global_cleanup != NULL)
		curl_global_cleanup();
	return rc;
}
