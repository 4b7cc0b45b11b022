/*
 * api_audit.c - GET /api/v1/audit: the audit log, for admins.
 *
 * Filters: after=ID (rows with a larger id; pass the previous page's
 * next_after), limit=N (1..10000, default 1000), actor=NAME (exact),
 * action=A (exact, or a prefix when it ends in '*': "auth.*", "pack.*").
 * Rows come oldest first (id order); "detail" is embedded as JSON.
 */
#include <string.h>

#include "buf.h"
#include "error.h"
#include "opapi.h"
#include "server.h"

static void audit(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	const char *who = mm_http_query(req, "actor"), *action = mm_http_query(req, "action");
	int64_t after, limit;
	size_t alen = 0;
	int prefix = 0, r;
	struct mm_buf sql;

	mm_buf_init(&sql, 2048);
	if (op_param_i64(req, "after", 0, INT64_MAX, 0, &after) != 0 ||
	    op_param_i64(req, "limit", 1, OP_LIST_LIMIT_MAX, OP_LIST_LIMIT_DEFAULT, &limit) != 0)
		goto out;
	if (who != NULL && *who == '\0')
		who = NULL;
	if (action != NULL && *action == '\0')
		action = NULL;
	if (action != NULL) {
		alen = strlen(action);
		if (action[alen - 1] == '*') {
			prefix = 1;
			alen--;
		}
	}
	r = mm_buf_adds(&sql, "SELECT id, json_object('id', id, 'time', time, 'actor', actor,"
			      " 'role', role, 'action', action, 'target', target, 'detail',"
			      " CASE WHEN json_valid(detail) THEN json(detail) ELSE detail END,"
			      " 'address', address, 'status', status)"
			      " FROM audit WHERE id > :after");
	if (r == 0 && who != NULL)
		r = mm_buf_adds(&sql, " AND actor = :actor");
	if (r == 0 && action != NULL)
		r = mm_buf_adds(&sql, prefix ? " AND substr(CAST(action AS BLOB), 1, :alen) = CAST(:action AS BLOB)"
					     : " AND action = :action");
	if (r == 0)
		r = mm_buf_adds(&sql, " ORDER BY id LIMIT :lim");
	if (r != 0) {
		mm_http_reply_error(req, 500, "out of memory", NULL);
		goto out;
	}
	if (sqlite3_prepare_v2(db, mm_buf_str(&sql), -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":after"), after);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":actor"), who, -1, SQLITE_STATIC);
	if (action != NULL)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":action"), action, (int)alen,
				  SQLITE_STATIC);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":alen"), (int64_t)alen);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lim"), limit + 1);
	op_reply_list(req, "audit", st, limit, 1);
out:
	mm_buf_free(&sql);
}

static const struct mm_route routes[] = {
	{ "GET", "/api/v1/audit", MM_ROLE_ADMIN, audit },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_audit = { "audit", routes };
