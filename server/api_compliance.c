/*
 * api_compliance.c - the fleet's compliance picture: the summary per policy,
 * the failing hosts of one policy, the failing policies of one host, and the
 * history of verdict changes (GET /api/v1/compliance...).
 *
 * Everything here reads; the counts it reports are maintained by the
 * verdict ingest (api_verdicts.c) as verdicts arrive, so the summary reads
 * one row per policy from policy_counts and is current the moment a verdict
 * is committed: there is no periodic recount.
 */
#include <stdlib.h>
#include <string.h>

#include "opapi.h"
#include "policy.h"
#include "server.h"
#include "strutil.h"

#define DEFAULT_LIMIT 1000
#define MAX_LIMIT 100000

/* A JSON column (rows of a fail): parsed, or null. */
static json_t *col_json_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	json_t *j = t != NULL ? json_loads(t, 0, NULL) : NULL;

	return j != NULL ? j : json_null();
}

/* Resolves H (numeric id, host identifier or hostname) to a live host id.
 * Returns the id, 0 when unknown (replied 404), -1 when ambiguous or on a
 * store error (replied). */
int64_t mm_compliance_resolve_host(struct mm_server *srv, struct mm_http_req *req, const char *h)
{
	int live = 0, status = 0;
	int64_t id = mm_host_resolve(req, mm_store_reader(srv->store), h, &live, &status);

	if (id == 0)
		return status == 404 ? 0 : -1; /* replied */
	if (!live) {
		mm_http_reply_error(req, 404, "no such host", h);
		return 0;
	}
	return id;
}

/* Which verdicts a listing shows: "fail" (default: fail and error), or one
 * verdict, or "all".  Returns an SQL condition on column v, or NULL having
 * replied 400 to anything else. */
static const char *verdict_filter(struct mm_http_req *req)
{
	const char *v = mm_http_query(req, "verdict");

	if (v == NULL || strcmp(v, "fail") == 0)
		return "v.verdict IN ('fail','error')";
	if (strcmp(v, "all") == 0)
		return "1";
	if (strcmp(v, "pass") == 0)
		return "v.verdict = 'pass'";
	if (strcmp(v, "not_applicable") == 0)
		return "v.verdict = 'not_applicable'";
	if (strcmp(v, "error") == 0)
		return "v.verdict = 'error'";
	mm_http_reply_error(req, 400, "bad verdict", "one of fail, pass, not_applicable, error, all");
	return NULL;
}

/* GET /api/v1/compliance: one row per policy, most severe and most failing
 * first.  percent = pass / (pass + fail + error), null before any verdict
 * that counts (not_applicable hosts are left out, as they cannot pass). */
static void summary(struct mm_server *srv, struct mm_http_req *req)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();
	int rc;

	if (sqlite3_prepare_v2(
		    db,
		    "SELECT p.policy, p.title, p.severity, coalesce(c.pass,0), coalesce(c.fail,0),"
		    " coalesce(c.not_applicable,0), coalesce(c.error,0), p.remediation"
		    " FROM policies p LEFT JOIN policy_counts c ON c.policy = p.policy"
		    " ORDER BY p.severity, coalesce(c.fail,0) + coalesce(c.error,0) DESC, p.policy",
		    -1, &st, NULL) != SQLITE_OK) {
		json_decref(a);
		op_reply_db_error(req, db);
		return;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t pass = sqlite3_column_int64(st, 3), fail = sqlite3_column_int64(st, 4),
			na = sqlite3_column_int64(st, 5), err = sqlite3_column_int64(st, 6);
		int64_t den = pass + fail + err;
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "policy",
				     op_col_json(st, 0), "title", op_col_json(st, 1), "severity",
				     mm_severity_name(sqlite3_column_int(st, 2)), "pass",
				     (json_int_t)pass, "fail", (json_int_t)fail, "not_applicable",
				     (json_int_t)na, "error", (json_int_t)err, "hosts",
				     (json_int_t)(den + na),
				     "percent", den > 0 ? json_real((double)(pass * 1000 / den) / 10.0)
							: json_null()));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		op_reply_db_error(req, db);
		return;
	}
	mm_http_reply_json(req, 200, json_pack("{s:o}", "policies", a));
}

/* GET /api/v1/compliance?policy=ID[&verdict=...]: the hosts of one policy. */
static void by_policy(struct mm_server *srv, struct mm_http_req *req, const char *policy)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	const char *cond = verdict_filter(req);
	char *sql = NULL;
	json_t *a;
	int64_t limit;
	int rc;

	if (cond == NULL)
		return;
	if (op_param_i64(req, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) != 0)
		return;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM policies WHERE policy = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_text(st, 1, policy, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW) {
		mm_http_reply_error(req, 404, "no such policy", policy);
		return;
	}
	sql = sqlite3_mprintf("SELECT h.id, h.hostname, h.host_identifier, v.verdict, v.reason,"
			      " v.rows, v.evaluated_at, v.changed_at FROM verdicts v"
			      " JOIN hosts h ON h.id = v.host_id"
			      " WHERE v.policy = ? AND h.revoked_at IS NULL AND %s"
			      " ORDER BY h.hostname, h.id LIMIT ?", cond);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_text(st, 1, policy, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	a = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "host_id", op_col_json(st, 0),
				     "hostname", op_col_json(st, 1), "host_identifier", op_col_json(st, 2),
				     "verdict", op_col_json(st, 3), "reason", op_col_json(st, 4), "rows",
				     col_json_text(st, 5), "evaluated_at", op_col_json(st, 6),
				     "changed_at", op_col_json(st, 7)));
	if (rc != SQLITE_DONE) {
		json_decref(a);
		goto sqlerr;
	}
	mm_http_reply_json(req, 200, json_pack("{s:s,s:o}", "policy", policy, "hosts", a));
	goto out;
sqlerr:
	op_reply_db_error(req, db);
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
}

/* GET /api/v1/compliance?host=H[&verdict=...]: the policies of one host,
 * with reasons and remediation. */
static void by_host(struct mm_server *srv, struct mm_http_req *req, const char *h)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	const char *cond = verdict_filter(req);
	char *sql = NULL;
	json_t *a;
	int64_t id;
	int rc;

	if (cond == NULL)
		return;
	if ((id = mm_compliance_resolve_host(srv, req, h)) <= 0)
		return;
	sql = sqlite3_mprintf("SELECT p.policy, p.title, p.severity, v.verdict, v.reason, v.rows,"
			      " p.remediation, json_extract(p.meta, '$.remediation_script'),"
			      " json_extract(p.meta, '$.references'), v.evaluated_at, v.changed_at"
			      " FROM verdicts v JOIN policies p ON p.policy = v.policy"
			      " WHERE v.host_id = ? AND %s ORDER BY p.severity, p.policy", cond);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	sqlite3_bind_int64(st, 1, id);
	a = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "policy",
				     op_col_json(st, 0), "title", op_col_json(st, 1), "severity",
				     mm_severity_name(sqlite3_column_int(st, 2)), "verdict",
				     op_col_json(st, 3), "reason", op_col_json(st, 4), "rows",
				     col_json_text(st, 5), "remediation", op_col_json(st, 6),
				     "remediation_script", op_col_json(st, 7), "references",
				     col_json_text(st, 8), "evaluated_at", op_col_json(st, 9),
				     "changed_at", op_col_json(st, 10)));
	if (rc != SQLITE_DONE) {
		json_decref(a);
		goto sqlerr;
	}
	mm_http_reply_json(req, 200, json_pack("{s:I,s:o}", "host_id", (json_int_t)id, "policies", a));
	goto out;
sqlerr:
	op_reply_db_error(req, db);
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
}

static void compliance_get(struct mm_server *srv, struct mm_http_req *req,
			   const struct mm_actor *actor)
{
	const char *policy = mm_http_query(req, "policy"), *host = mm_http_query(req, "host");

	if (policy != NULL && host != NULL)
		mm_http_reply_error(req, 400, "bad request", "give policy or host, not both");
	else if (policy != NULL)
		by_policy(srv, req, policy);
	else if (host != NULL)
		by_host(srv, req, host);
	else
		summary(srv, req);
}

/* GET /api/v1/compliance/history?host=H&policy=ID&limit=N: verdict changes,
 * newest first. */
static void history_get(struct mm_server *srv, struct mm_http_req *req,
			const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	const char *policy = mm_http_query(req, "policy"), *host = mm_http_query(req, "host");
	int64_t id = 0, limit;
	json_t *a;
	int rc;

	if (op_param_i64(req, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) != 0)
		return;
	if (host != NULL && (id = mm_compliance_resolve_host(srv, req, host)) <= 0)
		return;
	if (sqlite3_prepare_v2(db, "SELECT x.id, x.host_id, h.hostname, x.policy, x.old_verdict,"
				   " x.new_verdict, x.reason, x.time FROM verdict_history x"
				   " JOIN hosts h ON h.id = x.host_id"
				   " WHERE (?1 = 0 OR x.host_id = ?1) AND (?2 IS NULL OR x.policy = ?2)"
				   " ORDER BY x.id DESC LIMIT ?3", -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	if (policy != NULL)
		sqlite3_bind_text(st, 2, policy, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, limit);
	a = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", op_col_json(st, 0),
				     "host_id", op_col_json(st, 1), "hostname", op_col_json(st, 2), "policy",
				     op_col_json(st, 3), "old_verdict", op_col_json(st, 4), "new_verdict",
				     op_col_json(st, 5), "reason", op_col_json(st, 6), "time",
				     op_col_json(st, 7)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		op_reply_db_error(req, db);
		return;
	}
	mm_http_reply_json(req, 200, json_pack("{s:o}", "history", a));
}

static const struct mm_route routes[] = {
	{ "GET", "/api/v1/compliance", MM_ROLES_READ, compliance_get },
	{ "GET", "/api/v1/compliance/history", MM_ROLES_READ, history_get },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_compliance = { "compliance", routes };
