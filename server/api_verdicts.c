/*
 * api_verdicts.c - POST /api/v1/mamori/verdicts: Mamori agents report the
 * verdicts of the policies in their config (a Mamori extension of the agent
 * API; osquery agents never call it).
 *
 * Request: {"node_key", "full": bool, "verdicts": [{"policy", "verdict",
 * "reason", "rows", "evaluated_at"}]}.  Agents send a verdict when it
 * changes and their whole state periodically ("full": true); a full report
 * also removes the host's verdicts for policies it no longer evaluates.
 *
 * In one store job the latest verdict per (host, policy) is upserted, a
 * change is appended to verdict_history, and policy_counts is adjusted by
 * -1 for the old verdict and +1 for the new one, so the fleet summary is
 * exact after every commit without a recount.  The reply ({"accepted": N,
 * "ignored": M}) is sent after the commit; verdicts for policies the
 * coordinator does not have (deleted meanwhile) are ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "server.h"
#include "strutil.h"

#define MAX_VERDICTS 10000
#define MAX_REASON 4096
#define MAX_ROWS_JSON (256 * 1024)

struct vrec {
	char *policy;
	const char *verdict; /* static: one of verdict_names */
	char *reason;
	char *rows;          /* JSON text or NULL */
	int64_t evaluated_at;
};

struct verdict_job {
	struct mm_server *srv;
	struct mm_http_req *req;
	int64_t host_id;
	int full;
	struct vrec *v;
	size_t n;
	int64_t accepted, ignored;
};

static const char *const verdict_names[] = { "pass", "fail", "not_applicable", "error" };

static void job_free(struct verdict_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		free(j->v[i].policy);
		free(j->v[i].reason);
		free(j->v[i].rows);
	}
	free(j->v);
	free(j);
}

/* The four "policy_counts[policy].VERDICT += delta" statements, prepared
 * once per store job on first use rather than for every verdict. */
struct counts {
	sqlite3_stmt *st[4]; /* indexed like verdict_names */
};

static void counts_finalize(struct counts *c)
{
	size_t i;

	for (i = 0; i < sizeof(c->st) / sizeof(c->st[0]); i++)
		sqlite3_finalize(c->st[i]);
}

/* policy_counts[policy].verdict += delta.  verdict is one of verdict_names
 * (the pointer, as verdict_static returns it), so it can name the column. */
static int count_add(sqlite3 *db, struct counts *c, const char *policy, const char *verdict,
		     int delta)
{
	size_t i;
	int rc;

	for (i = 0; i < 4 && verdict_names[i] != verdict; i++)
		;
	if (i == 4)
		return MM_ERR_INTERNAL;
	if (c->st[i] == NULL) {
		char *sql = sqlite3_mprintf("INSERT INTO policy_counts(policy, %s) VALUES (?1, max(?2, 0))"
					    " ON CONFLICT(policy) DO UPDATE SET %s = %s + ?2",
					    verdict, verdict, verdict);
		if (sql == NULL)
			return MM_ERR_NOMEM;
		rc = sqlite3_prepare_v2(db, sql, -1, &c->st[i], NULL);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			return MM_ERR_SQL;
	}
	sqlite3_bind_text(c->st[i], 1, policy, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(c->st[i], 2, delta);
	rc = sqlite3_step(c->st[i]);
	sqlite3_reset(c->st[i]);
	return rc == SQLITE_DONE ? 0 : MM_ERR_SQL;
}

static const char *verdict_static(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(verdict_names) / sizeof(verdict_names[0]); i++)
		if (v != NULL && strcmp(v, verdict_names[i]) == 0)
			return verdict_names[i];
	return NULL;
}

int mm_compliance_forget_host(sqlite3 *db, int64_t host_id)
{
	sqlite3_stmt *st = NULL;
	struct counts c = { { NULL } };
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, "DELETE FROM verdicts WHERE host_id = ?"
				   " RETURNING policy, verdict", -1, &st, NULL) != SQLITE_OK)
		return MM_ERR_SQL;
	sqlite3_bind_int64(st, 1, host_id);
	/* RETURNING rows are all computed before the first is returned, so
	 * writing policy_counts while stepping is safe. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0) {
		const char *v = verdict_static((const char *)sqlite3_column_text(st, 1));
		if (v != NULL)
			r = count_add(db, &c, (const char *)sqlite3_column_text(st, 0), v, -1);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = MM_ERR_SQL;
	sqlite3_finalize(st);
	counts_finalize(&c);
	return r;
}

static int verdicts_run(sqlite3 *db, void *arg, char **err)
{
	struct verdict_job *j = arg;
	sqlite3_stmt *known = NULL, *cur = NULL, *ins = NULL, *upd = NULL, *hist = NULL,
		     *keep = NULL, *drop = NULL;
	struct counts cnt = { { NULL } };
	int64_t now = mm_now();
	size_t i;
	int r = MM_ERR_SQL, rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM policies WHERE policy = ?", -1, &known, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT verdict FROM verdicts WHERE host_id = ? AND policy = ?",
			       -1, &cur, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO verdicts(host_id, policy, verdict,"
				   " reason, rows, evaluated_at, changed_at)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &ins, NULL) ||
	    sqlite3_prepare_v2(db, "UPDATE verdicts SET reason = ?3, rows = ?4, evaluated_at = ?5"
				   " WHERE host_id = ?1 AND policy = ?2", -1, &upd, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO verdict_history(host_id, policy, old_verdict,"
				   " new_verdict, reason, time) VALUES (?, ?, ?, ?, ?, ?)",
			       -1, &hist, NULL))
		goto sqlerr;
	for (i = 0; i < j->n; i++) {
		struct vrec *v = &j->v[i];
		const char *old = NULL;
		char oldbuf[32];

		sqlite3_bind_text(known, 1, v->policy, -1, SQLITE_STATIC);
		rc = sqlite3_step(known);
		sqlite3_reset(known);
		if (rc != SQLITE_ROW) {
			j->ignored++;
			continue;
		}
		sqlite3_bind_int64(cur, 1, j->host_id);
		sqlite3_bind_text(cur, 2, v->policy, -1, SQLITE_STATIC);
		if (sqlite3_step(cur) == SQLITE_ROW) {
			snprintf(oldbuf, sizeof(oldbuf), "%s", sqlite3_column_text(cur, 0));
			old = oldbuf;
		}
		sqlite3_reset(cur);
		if (old != NULL && strcmp(old, v->verdict) == 0) {
			sqlite3_bind_int64(upd, 1, j->host_id);
			sqlite3_bind_text(upd, 2, v->policy, -1, SQLITE_STATIC);
			sqlite3_bind_text(upd, 3, v->reason, -1, SQLITE_STATIC);
			sqlite3_bind_text(upd, 4, v->rows, -1, SQLITE_STATIC);
			sqlite3_bind_int64(upd, 5, v->evaluated_at);
			rc = sqlite3_step(upd);
			sqlite3_reset(upd);
			if (rc != SQLITE_DONE)
				goto sqlerr;
			j->accepted++;
			continue;
		}
		sqlite3_bind_int64(ins, 1, j->host_id);
		sqlite3_bind_text(ins, 2, v->policy, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, v->verdict, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, v->reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, v->rows, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 6, v->evaluated_at);
		sqlite3_bind_int64(ins, 7, now);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			goto sqlerr;
		sqlite3_bind_int64(hist, 1, j->host_id);
		sqlite3_bind_text(hist, 2, v->policy, -1, SQLITE_STATIC);
		if (old != NULL)
			sqlite3_bind_text(hist, 3, old, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(hist, 3);
		sqlite3_bind_text(hist, 4, v->verdict, -1, SQLITE_STATIC);
		sqlite3_bind_text(hist, 5, v->reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(hist, 6, now);
		rc = sqlite3_step(hist);
		sqlite3_reset(hist);
		sqlite3_clear_bindings(hist);
		if (rc != SQLITE_DONE)
			goto sqlerr;
		if (old != NULL && verdict_static(old) != NULL &&
		    count_add(db, &cnt, v->policy, verdict_static(old), -1) != 0)
			goto sqlerr;
		if (count_add(db, &cnt, v->policy, v->verdict, 1) != 0)
			goto sqlerr;
		j->accepted++;
	}
	if (j->full) {
		/* Drop verdicts of policies the host no longer reports. */
		if (sqlite3_exec(db, "CREATE TEMP TABLE IF NOT EXISTS mm_keep(policy TEXT PRIMARY KEY);"
				     "DELETE FROM mm_keep", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO mm_keep VALUES (?)", -1, &keep,
				       NULL) != SQLITE_OK)
			goto sqlerr;
		for (i = 0; i < j->n; i++) {
			sqlite3_bind_text(keep, 1, j->v[i].policy, -1, SQLITE_STATIC);
			rc = sqlite3_step(keep);
			sqlite3_reset(keep);
			if (rc != SQLITE_DONE)
				goto sqlerr;
		}
		if (sqlite3_prepare_v2(db, "DELETE FROM verdicts WHERE host_id = ? AND policy NOT IN"
					   " (SELECT policy FROM mm_keep) RETURNING policy, verdict",
				       -1, &drop, NULL) != SQLITE_OK)
			goto sqlerr;
		sqlite3_bind_int64(drop, 1, j->host_id);
		while ((rc = sqlite3_step(drop)) == SQLITE_ROW) {
			const char *v = verdict_static((const char *)sqlite3_column_text(drop, 1));
			if (v != NULL &&
			    count_add(db, &cnt, (const char *)sqlite3_column_text(drop, 0), v, -1) != 0)
				goto sqlerr;
		}
		if (rc != SQLITE_DONE)
			goto sqlerr;
	}
	r = 0;
	goto out;
sqlerr:
	*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
	r = MM_ERR_SQL;
out:
	sqlite3_finalize(known);
	sqlite3_finalize(cur);
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_finalize(hist);
	sqlite3_finalize(keep);
	sqlite3_finalize(drop);
	counts_finalize(&cnt);
	return r;
}

static void verdicts_done(void *arg, int rc, const char *err)
{
	struct verdict_job *j = arg;

	if (rc != 0)
		mm_http_reply_error(j->req, 503, "verdicts not stored", "retry later");
	else
		mm_http_reply_json(j->req, 200,
				   json_pack("{s:I,s:I}", "accepted", (json_int_t)j->accepted,
					     "ignored", (json_int_t)j->ignored));
	mm_http_release(j->req);
	job_free(j);
}

static void verdicts_post(struct mm_server *srv, struct mm_http_req *req,
			  const struct mm_actor *actor)
{
	json_t *body = mm_http_json_body(req, 1), *list;
	struct verdict_job *j = NULL;
	struct mm_host *h;
	char *detail = NULL;
	size_t i;

	if (body == NULL)
		return;
	if ((h = mm_hosts_auth(srv, req, body)) == NULL)
		goto out; /* replied: node_invalid */
	list = json_object_get(body, "verdicts");
	if (!json_is_array(list) || json_array_size(list) > MAX_VERDICTS) {
		mm_http_reply_error(req, 400, "bad request",
				    "\"verdicts\" must be an array of at most 10000 verdicts");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (json_array_size(list) > 0 &&
	     (j->v = calloc(json_array_size(list), sizeof(*j->v))) == NULL)) {
		mm_http_reply_error(req, 500, "out of memory", NULL);
		goto out;
	}
	j->srv = srv;
	j->req = req;
	j->host_id = h->id;
	j->full = json_is_true(json_object_get(body, "full"));
	for (i = 0; i < json_array_size(list); i++) {
		json_t *o = json_array_get(list, i), *rows = json_object_get(o, "rows");
		const char *policy = json_string_value(json_object_get(o, "policy"));
		const char *verdict = verdict_static(json_string_value(json_object_get(o, "verdict")));
		const char *reason = json_string_value(json_object_get(o, "reason"));
		json_t *at = json_object_get(o, "evaluated_at");
		struct vrec *v = &j->v[j->n];

		if (policy == NULL || verdict == NULL || (at != NULL && !json_is_integer(at)) ||
		    (rows != NULL && !json_is_array(rows) && !json_is_null(rows))) {
			if (asprintf(&detail, "verdicts[%zu]: needs \"policy\", \"verdict\" (pass, "
				     "fail, not_applicable or error), optional \"reason\" string, "
				     "\"rows\" array and \"evaluated_at\" integer", i) < 0)
				detail = NULL;
			mm_http_reply_error(req, 400, "bad verdict", detail);
			goto out;
		}
		j->n++;
		v->policy = strdup(policy);
		v->verdict = verdict;
		v->reason = strndup(reason != NULL ? reason : "", MAX_REASON);
		v->evaluated_at = at != NULL ? (int64_t)json_integer_value(at) : mm_now();
		if (json_is_array(rows)) {
			v->rows = json_dumps(rows, JSON_COMPACT);
			if (v->rows != NULL && strlen(v->rows) > MAX_ROWS_JSON) {
				free(v->rows);
				v->rows = strdup("[{\"mamori_truncated\":\"rows over 256 KiB\"}]");
			}
		}
		if (v->policy == NULL || v->reason == NULL) {
			mm_http_reply_error(req, 500, "out of memory", NULL);
			goto out;
		}
	}
	mm_http_keep(req, NULL, NULL);
	if (mm_store_submit(srv->store, verdicts_run, verdicts_done, j) != 0) {
		mm_http_reply_error(req, 503, "store busy", "retry later");
		mm_http_release(req);
		goto out;
	}
	j = NULL;
out:
	free(detail);
	job_free(j);
	json_decref(body);
}

static const struct mm_route routes[] = {
	{ "POST", "/api/v1/mamori/verdicts", MM_ROLE_AGENT, verdicts_post },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_verdicts = { "verdicts", routes };
