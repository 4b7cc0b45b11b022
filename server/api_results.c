/*
 * api_results.c - GET /api/v1/results: the scheduled-query results agents
 * sent, filtered and paged.
 *
 * Filters (all optional, combined with AND):
 *   pack=P, query=Q      the pack and query names (results_pq index);
 *   host=H               numeric id, or host identifier or hostname (every
 *                        host with that name, revoked ones included);
 *   since=UNIX           unix_time (the agent's time of the run) >= since;
 *   after=ID             rows with id > ID: pass the previous page's
 *                        next_after to get the next page;
 *   limit=N              rows per page, 1..10000, default 1000.
 * Rows come in id order (arrival order).  "columns" is the stored JSON
 * (an object for added/removed rows, an array of rows for a snapshot),
 * embedded as JSON, not as a string.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "opapi.h"
#include "server.h"

/* 1 when some host matches H (id, identifier or hostname), 0 when none,
 * -1 on a store error (replied). */
static int host_exists(struct mm_http_req *req, sqlite3 *db, const char *h, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc, r = -1;

	if (sqlite3_prepare_v2(db,
			       id > 0 ? "SELECT 1 FROM hosts WHERE id = ?2"
				      : "SELECT 1 FROM hosts WHERE host_identifier = ?1 OR"
					" hostname = ?1 LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	sqlite3_bind_text(st, 1, h, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		op_reply_db_error(req, db);
out:
	sqlite3_finalize(st);
	return r;
}

static void results(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	const char *pack = mm_http_query(req, "pack"), *query = mm_http_query(req, "query");
	const char *host = mm_http_query(req, "host");
	int64_t since, after, limit, host_id = 0;
	struct mm_buf sql;
	int r;

	mm_buf_init(&sql, 4096);
	if (op_param_i64(req, "since", 0, INT64_MAX, -1, &since) != 0 ||
	    op_param_i64(req, "after", 0, INT64_MAX, 0, &after) != 0 ||
	    op_param_i64(req, "limit", 1, OP_LIST_LIMIT_MAX, OP_LIST_LIMIT_DEFAULT, &limit) != 0)
		goto out;
	if (host != NULL && *host == '\0')
		host = NULL;
	if (host != NULL) {
		op_is_id(host, &host_id);
		if ((r = host_exists(req, db, host, host_id)) < 0)
			goto out;
		if (r == 0) {
			mm_http_reply_error(req, 404, "no such host", host);
			goto out;
		}
	}
	/* Fixed fragments only; values are bound. */
	r = mm_buf_adds(&sql,
			"SELECT r.id, json_object('id', r.id, 'host_id', r.host_id,"
			" 'host', coalesce(nullif(h.hostname, ''), h.host_identifier),"
			" 'name', r.name, 'pack', r.pack, 'query', r.query, 'action', r.action,"
			" 'epoch', r.epoch, 'counter', r.counter, 'unix_time', r.unix_time,"
			" 'columns', CASE WHEN json_valid(r.columns) THEN json(r.columns)"
			" ELSE r.columns END)"
			" FROM results r LEFT JOIN hosts h ON h.id = r.host_id WHERE r.id > :after");
	if (r == 0 && pack != NULL)
		r = mm_buf_adds(&sql, " AND r.pack = :pack");
	if (r == 0 && query != NULL)
		r = mm_buf_adds(&sql, " AND r.query = :query");
	if (r == 0 && host_id > 0)
		r = mm_buf_adds(&sql, " AND r.host_id = :hid");
	else if (r == 0 && host != NULL)
		r = mm_buf_adds(&sql, " AND r.host_id IN (SELECT id FROM hosts WHERE"
				      " host_identifier = :host OR hostname = :host)");
	if (r == 0 && since >= 0)
		r = mm_buf_adds(&sql, " AND r.unix_time >= :since");
	if (r == 0)
		r = mm_buf_adds(&sql, " ORDER BY r.id LIMIT :lim");
	if (r != 0) {
		mm_http_reply_error(req, 500, "out of memory", NULL);
		goto out;
	}
	if (sqlite3_prepare_v2(db, mm_buf_str(&sql), -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":after"), after);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":pack"), pack, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":query"), query, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":hid"), host_id);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":host"), host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), since);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lim"), limit + 1);
	op_reply_list(req, "results", st, limit, 1);
out:
	mm_buf_free(&sql);
}

static const struct mm_route routes[] = {
	{ "GET", "/api/v1/results", MM_ROLES_READ, results },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_results = { "results", routes };
