/*
 * api_queries.c - /api/v1/queries: live queries (campaigns), run by
 * operators on the fleet and answered by the hosts' agents within seconds
 * (docs/live-queries.md).
 *
 *   POST /api/v1/queries/run        {"sql", "all", "hosts", "labels", "timeout_ms"}
 *                                   -> {"id", "targeted", "online", "offline", ...}
 *   GET  /api/v1/queries            the live queries kept, by id (paged)
 *   GET  /api/v1/queries/ID         status and every host's results
 *   GET  /api/v1/queries/ID/stream  Server-Sent Events: progress and results
 *
 * A run is checked completely before any host is asked: the SQL (one
 * read-only statement that prepares against the agent's tables), the
 * targets (every host and label named must exist; all, hosts and labels
 * are a union, resolved now), the timeout.  The campaign's rows and its
 * audit record are then committed in one store job, and only after the
 * commit does the campaign start (campaign.c): parked reads of its online
 * targets are answered at once.  A run without any online target is
 * created and done at once (its counts say offline), not refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "campaign.h"
#include "error.h"
#include "opapi.h"
#include "strutil.h"

#define TARGET_NAMES_MAX  10000 /* entries of "hosts" */
#define TARGET_LABELS_MAX 1000  /* entries of "labels" */

/* ---- targets ------------------------------------------------------------------------- */

struct tset {
	struct mm_live_target *v;
	size_t n, cap;
};

static void tset_free(struct tset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Adds the hosts of a statement yielding (id, hostname, host_identifier).
 * *found counts them.  Returns 0, MM_ERR_SQL or MM_ERR_NOMEM. */
static int tset_add_rows(struct tset *s, sqlite3_stmt *st, size_t *found)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hn = (const char *)sqlite3_column_text(st, 1);
		const char *ident = (const char *)sqlite3_column_text(st, 2);

		if (s->n == s->cap) {
			size_t nc = s->cap ? 2 * s->cap : 64;
			struct mm_live_target *nv = realloc(s->v, nc * sizeof(*nv));

			if (nv == NULL)
				return MM_ERR_NOMEM;
			s->v = nv;
			s->cap = nc;
		}
		s->v[s->n].id = sqlite3_column_int64(st, 0);
		s->v[s->n].online = 0;
		if ((s->v[s->n].name = strdup(hn != NULL && hn[0] != '\0' ? hn
		                              : ident != NULL             ? ident
		                                                          : "")) == NULL)
			return MM_ERR_NOMEM;
		s->n++;
		(*found)++;
	}
	return rc == SQLITE_DONE ? 0 : MM_ERR_SQL;
}

static int cmp_target(const void *a, const void *b)
{
	int64_t x = ((const struct mm_live_target *)a)->id;
	int64_t y = ((const struct mm_live_target *)b)->id;

	return x < y ? -1 : x > y;
}

/* Sorts by id and drops duplicates. */
static void tset_unique(struct tset *s)
{
	size_t i, k = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_target);
	for (i = 1; i < s->n; i++) {
		if (s->v[i].id == s->v[k].id) {
			free(s->v[i].name);
			continue;
		}
		s->v[++k] = s->v[i];
	}
	s->n = k + 1;
}

/* Runs sql (one text or integer parameter) and adds its hosts. */
static int add_query(sqlite3 *db, struct tset *s, const char *sql, const char *text, int64_t num,
                     size_t *found)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return MM_ERR_SQL;
	if (text != NULL)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, num);
	r = tset_add_rows(s, st, found);
	sqlite3_finalize(st);
	return r;
}

/* Resolves the targets of a run body into s.  Returns 0, or the status it
 * replied with (400, 404, 500, 503); *why then gets the refusal for the
 * audit record. */
static int resolve(struct mm_server *srv, struct mm_http_req *req, const json_t *body,
                   struct tset *s, char *why, size_t whysz)
{
	sqlite3 *db = mm_store_reader(srv->store);
	const json_t *all = json_object_get(body, "all"), *hosts = json_object_get(body, "hosts");
	const json_t *labels = json_object_get(body, "labels"), *v;
	char num[32];
	size_t i, found;
	int64_t id;
	int r;

	if ((all != NULL && !json_is_boolean(all)) || (hosts != NULL && !json_is_array(hosts)) ||
	    (labels != NULL && !json_is_array(labels))) {
		snprintf(why, whysz, "malformed targets");
		mm_http_reply_error(req, 400, "malformed targets",
		                    "all is true or false, hosts and labels are lists");
		return 400;
	}
	if (!json_is_true(all) && json_array_size(hosts) == 0 && json_array_size(labels) == 0) {
		snprintf(why, whysz, "no targets");
		mm_http_reply_error(req, 400, "no targets", "give all, hosts or labels");
		return 400;
	}
	if (json_array_size(hosts) > TARGET_NAMES_MAX ||
	    json_array_size(labels) > TARGET_LABELS_MAX) {
		snprintf(why, whysz, "too many targets");
		mm_http_reply_error(req, 400, "too many targets",
		                    "at most 10000 hosts and 1000 labels; use a label or all");
		return 400;
	}
	if (json_is_true(all) &&
	    (r = add_query(db, s,
	                   "SELECT id, hostname, host_identifier FROM hosts"
	                   " WHERE revoked_at IS NULL AND node_key_hash IS NOT NULL AND ?1 = 1",
	                   NULL, 1, &found)) != 0)
		goto fail;
	json_array_foreach(hosts, i, v)
	{
		const char *name = json_string_value(v);

		found = 0;
		if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			name = num;
		}
		if (name == NULL || name[0] == '\0') {
			snprintf(why, whysz, "malformed host");
			mm_http_reply_error(req, 400, "malformed targets",
			                    "hosts are ids, hostnames or host identifiers");
			return 400;
		}
		/* An id first; a name may be shared by several hosts: all of them. */
		if (op_is_id(name, &id) &&
		    (r = add_query(
		         db, s,
		         "SELECT id, hostname, host_identifier FROM hosts"
		         " WHERE id = ?1 AND revoked_at IS NULL AND node_key_hash IS NOT NULL",
		         NULL, id, &found)) != 0)
			goto fail;
		if (found == 0 &&
		    (r = add_query(db, s,
		                   "SELECT id, hostname, host_identifier FROM hosts"
		                   " WHERE revoked_at IS NULL AND node_key_hash IS NOT NULL"
		                   " AND (host_identifier = ?1 OR hostname = ?1) ORDER BY id",
		                   name, 0, &found)) != 0)
			goto fail;
		if (found == 0) {
			snprintf(why, whysz, "no such host: %.150s", name);
			mm_http_reply_error(req, 404, "no such host", name);
			return 404;
		}
	}
	json_array_foreach(labels, i, v)
	{
		const char *name = json_string_value(v);
		sqlite3_stmt *st = NULL;
		int rc;

		if (name == NULL) {
			snprintf(why, whysz, "malformed label");
			mm_http_reply_error(req, 400, "malformed targets",
			                    "labels are label names");
			return 400;
		}
		if (sqlite3_prepare_v2(db, "SELECT id FROM labels WHERE name = ?1", -1, &st,
		                       NULL) != SQLITE_OK) {
			r = MM_ERR_SQL;
			goto fail;
		}
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			r = MM_ERR_SQL;
			goto fail;
		}
		if (id == 0) {
			snprintf(why, whysz, "no such label: %.150s", name);
			mm_http_reply_error(req, 404, "no such label", name);
			return 404;
		}
		if ((r = add_query(db, s,
		                   "SELECT h.id, h.hostname, h.host_identifier FROM label_members m"
		                   " JOIN hosts h ON h.id = m.host_id WHERE m.label_id = ?1"
		                   " AND h.revoked_at IS NULL AND h.node_key_hash IS NOT NULL",
		                   NULL, id, &found)) != 0)
			goto fail;
	}
	tset_unique(s);
	for (i = 0; i < s->n; i++)
		s->v[i].online = mm_live_host_online(srv, s->v[i].id);
	return 0;
fail:
	snprintf(why, whysz, "store error");
	if (r == MM_ERR_NOMEM) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return 503;
	}
	op_reply_db_error(req, db);
	return 500;
}

/* ---- run ----------------------------------------------------------------------------- */

struct run_job {
	struct op_job base;
	char *sql, *targets;
	int64_t timeout_ms, created_at;
	struct tset t;
	size_t online;
	int64_t id; /* set by the job */
};

static void run_free(struct op_job *oj)
{
	struct run_job *j = (struct run_job *)oj;

	free(j->sql);
	free(j->targets);
	tset_free(&j->t);
	free(j);
}

static int run_run(sqlite3 *db, void *arg, char **err)
{
	struct run_job *j = arg;

	return mm_live_campaign_insert(db, &j->base.actor.a, j->sql, j->targets, j->created_at,
	                               j->timeout_ms, j->t.v, j->t.n, &j->id, err);
}

static void run_ok(struct op_job *oj)
{
	struct run_job *j = (struct run_job *)oj;

	if (mm_live_campaign_start(oj->srv, j->id, j->sql, j->base.actor.a.name, j->targets,
	                           j->created_at, j->timeout_ms, j->t.v, j->t.n) != 0) {
		mm_http_reply_error(oj->req, 503, "out of memory",
		                    "the live query was not started");
		return;
	}
	mm_http_reply_json(oj->req, 200,
	                   json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "id", (json_int_t)j->id,
	                             "status", j->online > 0 ? "running" : "done", "targeted",
	                             (json_int_t)j->t.n, "online", (json_int_t)j->online, "offline",
	                             (json_int_t)(j->t.n - j->online), "timeout_ms",
	                             (json_int_t)j->timeout_ms));
}

/* Replies with a refusal and writes it to the audit log. */
static void refuse(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor,
                   int status, const char *msg, const char *detail, const char *sql)
{
	mm_audit_log(srv, actor, NULL, "query.run", "",
	             json_pack("{s:s?, s:s, s:s?}", "sql", sql, "error", msg, "detail", detail),
	             status);
	mm_http_reply_error(req, status, msg, detail);
}

/* POST /api/v1/queries/run */
static void run(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct run_job *j = NULL;
	json_t *body = NULL, *targets = NULL, *tv;
	const char *sql, *msg = NULL;
	char *detail = NULL, why[200];
	int64_t timeout_ms = MM_LIVE_TIMEOUT_DEFAULT_MS;
	int status;
	size_t i;

	if (mm_live_init(srv) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return;
	}
	if ((body = mm_http_json_body(req, 0)) == NULL)
		return;
	if (!json_is_object(body)) {
		refuse(srv, req, actor, 400, "the body must be a JSON object", NULL, NULL);
		goto out;
	}
	sql = json_string_value(json_object_get(body, "sql"));
	if (json_object_get(body, "sql") != NULL && sql == NULL) {
		refuse(srv, req, actor, 400, "sql must be a string", NULL, NULL);
		goto out;
	}
	if ((tv = json_object_get(body, "timeout_ms")) != NULL) {
		if (!json_is_integer(tv) || json_integer_value(tv) < 1000 ||
		    json_integer_value(tv) > MM_LIVE_TIMEOUT_MAX_MS) {
			refuse(srv, req, actor, 400, "bad timeout_ms",
			       "milliseconds from 1000 to 3600000", sql);
			goto out;
		}
		timeout_ms = json_integer_value(tv);
	}
	if ((status = mm_live_check_sql(sql, &msg, &detail)) != 0) {
		refuse(srv, req, actor, status, msg, detail, sql);
		goto out;
	}
	if (mm_live_running() >= MM_LIVE_RUNNING_MAX) {
		refuse(srv, req, actor, 429, "too many live queries running",
		       "at most 16 at once; retry when one is done", sql);
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    op_job_init(&j->base, srv, req, actor, run_ok, run_free) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	why[0] = '\0';
	if ((status = resolve(srv, req, body, &j->t, why, sizeof(why))) != 0) {
		mm_audit_log(srv, actor, NULL, "query.run", "",
		             json_pack("{s:s, s:s}", "sql", sql, "error", why), status);
		goto out;
	}
	for (i = 0; i < j->t.n; i++)
		j->online += j->t.v[i].online != 0;
	targets = json_pack("{s:b, s:O*, s:O*}", "all", json_is_true(json_object_get(body, "all")),
	                    "hosts", json_object_get(body, "hosts"), "labels",
	                    json_object_get(body, "labels"));
	if (targets == NULL || (j->targets = json_dumps(targets, JSON_COMPACT)) == NULL ||
	    (j->sql = strdup(sql)) == NULL) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	j->timeout_ms = timeout_ms;
	j->created_at = mm_http_now_ms(srv->http) / 1000;
	op_job_submit(&j->base, run_run);
	j = NULL;
out:
	if (j != NULL) {
		op_actor_clear(&j->base.actor);
		run_free(&j->base);
	}
	json_decref(targets);
	json_decref(body);
	free(detail);
}

/* ---- list, show, stream ------------------------------------------------------------------- */

/* GET /api/v1/queries?after=ID&limit=N */
static void list(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL, *o;
	int64_t after, limit, last = 0, n = 0;
	int rc;

	(void)actor;
	if (mm_live_init(srv) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return;
	}
	if (op_param_i64(req, "after", 0, INT64_MAX, 0, &after) != 0 ||
	    op_param_i64(req, "limit", 1, 1000, 100, &limit) != 0)
		return;
	if (sqlite3_prepare_v2(
	        db,
	        "SELECT id, json_object('id', id, 'sql', sql, 'status', status, 'created_at',"
	        " created_at, 'created_by', created_by, 'targets', json(targets),"
	        " 'timeout_ms', timeout_ms, 'finished_at', finished_at, 'progress',"
	        " json_object('targeted', targeted, 'online', online, 'offline',"
	        " targeted - online, 'answered', ok + errors, 'ok', ok, 'errors', errors,"
	        " 'timed_out', timed_out, 'remaining', online - ok - errors - timed_out,"
	        " 'rows', rows, 'elapsed_ms', duration_ms))"
	        " FROM campaigns WHERE id > ?1 ORDER BY id LIMIT ?2",
	        -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		return;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit + 1);
	arr = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (++n > limit)
			break;
		last = sqlite3_column_int64(st, 0);
		if ((o = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL)) == NULL)
			continue;
		/* A running one: the counts are in memory. */
		mm_live_campaign_summary(last, o);
		json_array_append_new(arr, o);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		op_reply_db_error(req, db);
		json_decref(arr);
	} else {
		mm_http_reply_json(req, 200,
		                   json_pack("{s:o, s:o}", "queries", arr, "next_after",
		                             n > limit ? json_integer(last) : json_null()));
	}
	sqlite3_finalize(st);
}

/* GET /api/v1/queries/ID and /api/v1/queries/ID/stream */
static void show(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	const char *rest = mm_http_path_rest(req), *slash = strchr(rest, '/');
	char idtext[32];
	int64_t id, after = 0;

	(void)actor;
	if (mm_live_init(srv) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return;
	}
	snprintf(idtext, sizeof(idtext), "%.*s",
	         slash != NULL ? (int)(slash - rest) : (int)strlen(rest), rest);
	if (!op_is_id(idtext, &id) || (slash != NULL && strcmp(slash, "/stream") != 0)) {
		mm_http_reply_error(req, 404, "no such live query", rest);
		return;
	}
	if (slash == NULL) {
		mm_live_campaign_show(srv, req, id);
		return;
	}
	/* Where to resume: EventSource sends Last-Event-ID; ?after= for others. */
	{
		const char *h = mm_http_header(req, "Last-Event-ID"),
		           *q = mm_http_query(req, "after");
		const char *v = h != NULL ? h : q;

		if (v != NULL && (mm_parse_i64(v, &after) != 0 || after < 0)) {
			mm_http_reply_error(req, 400, "bad Last-Event-ID or after",
			                    "an event id (a number from 0)");
			return;
		}
	}
	mm_live_campaign_stream(srv, req, id, after);
}

static const struct mm_route routes[] = {
    {"POST", "/api/v1/queries/run", MM_ROLES_WRITE, run},
    {"GET", "/api/v1/queries", MM_ROLES_READ, list},
    {"GET", "/api/v1/queries/*", MM_ROLES_READ, show},
    {NULL, NULL, 0, NULL},
};

const struct mm_api mm_api_queries = {"queries", routes};
