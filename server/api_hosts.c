/*
 * api_hosts.c - /api/v1/hosts (list, show, revoke) and /api/v1/status.
 *
 * A host is online when it was seen within its check-in interval plus the
 * configured online margin.  last_seen is fresher in the in-memory host
 * index (server/hosts.c writes it back in batches) than in the hosts
 * table, so the SQL here reads it through mm_seen(id, last_seen), a
 * function registered on the reader connection that asks the index first.
 *
 * A host is named by its numeric id, its host identifier or its hostname.
 * A name that several live hosts share is ambiguous (409: use the id); a
 * name that only revoked hosts carry names the most recent of them.
 *
 * DELETE revokes: the node key hash is cleared and revoked_at set (the row
 * and its results stay), the host's policy verdicts are forgotten, and
 * after the commit the host leaves the in-memory index so its node key gets
 * node_invalid at once.  Revoked hosts are left out of the list unless
 * status=revoked or status=all is asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "error.h"
#include "hosts.h"
#include "opapi.h"
#include "server.h"

#define HOSTS_LIMIT_DEFAULT 10000
#define HOSTS_LIMIT_MAX 10000

/* mm_seen(id, last_seen): the index's last_seen when it knows the host. */
static void seen_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct mm_hosts *hosts = sqlite3_user_data(ctx);
	int64_t db = sqlite3_value_int64(argv[1]), mem = -1;

	if (hosts != NULL)
		mem = mm_hosts_last_seen(hosts, sqlite3_value_int64(argv[0]));
	sqlite3_result_int64(ctx, mem > db ? mem : db);
}

/* The reader connection with mm_seen registered, or NULL (replied 500). */
static sqlite3 *reader(struct mm_server *srv, struct mm_http_req *req)
{
	static sqlite3 *registered;
	static struct mm_hosts *registered_hosts;
	sqlite3 *db = mm_store_reader(srv->store);

	if (db != registered || srv->hosts != registered_hosts) {
		if (sqlite3_create_function(db, "mm_seen", 2, SQLITE_UTF8, srv->hosts, seen_fn,
					    NULL, NULL) != SQLITE_OK) {
			op_reply_db_error(req, db);
			return NULL;
		}
		registered = db;
		registered_hosts = srv->hosts;
	}
	return db;
}

/* The HOST object (plus extra members for show), from a row of `hosts h`
 * with `seen` = mm_seen(h.id, h.last_seen) and :margin, :now bound. */
#define HOST_STATUS                                                                            \
	"CASE WHEN h.revoked_at IS NOT NULL THEN 'revoked'"                                    \
	" WHEN mm_seen(h.id, h.last_seen) + h.checkin_interval + :margin >= :now THEN 'online'" \
	" ELSE 'offline' END"
#define HOST_JSON                                                                              \
	"json_object('id', h.id, 'host_identifier', h.host_identifier, 'hostname', h.hostname," \
	" 'uuid', h.uuid, 'os_name', h.os_name, 'os_version', h.os_version,"                   \
	" 'platform', h.platform, 'agent', h.agent, 'agent_version', h.agent_version,"         \
	" 'address', h.address, 'enrolled_at', h.enrolled_at,"                                 \
	" 'last_seen', mm_seen(h.id, h.last_seen), 'status', " HOST_STATUS

static void bind_time(struct mm_server *srv, sqlite3_stmt *st)
{
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":margin"),
			   srv->cfg.online_margin_s);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":now"), mm_now());
}

/* GET /api/v1/hosts?status=online|offline|revoked|all&after=ID&limit=N */
static void list(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	const char *status = mm_http_query(req, "status");
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t after, limit;

	if (status != NULL && *status == '\0')
		status = NULL;
	if (status != NULL && strcmp(status, "online") != 0 && strcmp(status, "offline") != 0 &&
	    strcmp(status, "revoked") != 0 && strcmp(status, "all") != 0) {
		mm_http_reply_error(req, 400, "bad query parameter",
				    "status must be online, offline, revoked or all");
		return;
	}
	if (op_param_i64(req, "after", 0, INT64_MAX, 0, &after) != 0 ||
	    op_param_i64(req, "limit", 1, HOSTS_LIMIT_MAX, HOSTS_LIMIT_DEFAULT, &limit) != 0)
		return;
	if ((db = reader(srv, req)) == NULL)
		return;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, j FROM (SELECT h.id AS id, " HOST_JSON ") AS j, "
			       HOST_STATUS " AS s FROM hosts h WHERE h.id > :after)"
			       " WHERE CASE WHEN :status IS NULL THEN s <> 'revoked'"
			       " WHEN :status = 'all' THEN 1 ELSE s = :status END"
			       " ORDER BY id LIMIT :lim",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		return;
	}
	bind_time(srv, st);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":after"), after);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":status"), status, -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lim"), limit + 1);
	op_reply_list(req, "hosts", st, limit, 1);
}

/* Contract in server.h. */
int64_t mm_host_resolve(struct mm_http_req *req, sqlite3 *db, const char *name, int *live,
			int *status)
{
	sqlite3_stmt *st = NULL;
	int64_t id = 0, v, nlive = 0, n = 0;
	int rc;

	*live = 0;
	if (op_is_id(name, &v)) {
		if (sqlite3_prepare_v2(db,
				       "SELECT id, revoked_at IS NULL FROM hosts WHERE id = ?2",
				       -1, &st, NULL) != SQLITE_OK)
			goto sqlerr;
	} else if (sqlite3_prepare_v2(db,
				      "SELECT id, revoked_at IS NULL FROM hosts WHERE"
				      " host_identifier = ?1 OR hostname = ?1"
				      " ORDER BY revoked_at IS NULL DESC, id DESC LIMIT 2",
				      -1, &st, NULL) != SQLITE_OK) {
		goto sqlerr;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int is_live = sqlite3_column_int(st, 1);

		if (n++ == 0) {
			id = sqlite3_column_int64(st, 0);
			*live = is_live;
		}
		nlive += is_live;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(st);
	if (n == 0) {
		mm_http_reply_error(req, 404, "no such host", name);
		if (status != NULL)
			*status = 404;
		return 0;
	}
	if (nlive > 1) {
		mm_http_reply_error(req, 409, "several hosts have that name", "use the numeric id");
		if (status != NULL)
			*status = 409;
		return 0;
	}
	return id;
sqlerr:
	op_reply_db_error(req, db);
	if (status != NULL)
		*status = 500;
	sqlite3_finalize(st);
	return 0;
}

/* GET /api/v1/hosts/ID */
static void show(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int64_t id;
	int live, rc;

	if ((db = reader(srv, req)) == NULL ||
	    (id = mm_host_resolve(req, db, mm_http_path_rest(req), &live, NULL)) == 0)
		return;
	if (sqlite3_prepare_v2(db,
			       "SELECT json_object('host', json_set(" HOST_JSON "),"
			       " '$.details', CASE WHEN json_valid(h.details) THEN json(h.details)"
			       " ELSE json_object() END, '$.checkin_interval', h.checkin_interval,"
			       " '$.revoked_at', h.revoked_at)) FROM hosts h WHERE h.id = :id",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	bind_time(srv, st);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			mm_http_reply_error(req, 404, "no such host", mm_http_path_rest(req));
		else
			op_reply_db_error(req, db);
		goto out;
	}
	mm_http_reply(req, 200, "application/json", sqlite3_column_text(st, 0),
		      (size_t)sqlite3_column_bytes(st, 0));
out:
	sqlite3_finalize(st);
}

/* ---- DELETE /api/v1/hosts/ID ----------------------------------------------- */

struct revoke_job {
	struct op_job base;
	int64_t id;
};

static void revoke_free(struct op_job *j)
{
	free(j);
}

static int revoke_run(sqlite3 *db, void *arg, char **err)
{
	struct revoke_job *v = arg;
	sqlite3_stmt *st = NULL;
	json_t *detail = NULL;
	char *ident = NULL;
	int r = MM_ERR_SQL, rc;

	if (sqlite3_prepare_v2(db,
			       "UPDATE hosts SET node_key_hash = NULL, revoked_at = ?2"
			       " WHERE id = ?1 AND revoked_at IS NULL"
			       " RETURNING host_identifier, hostname",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, v->id);
	sqlite3_bind_int64(st, 2, mm_now());
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = op_job_refuse(&v->base, 409, MM_ERR_CONSTRAINT, "host already revoked", NULL);
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto out;
	ident = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
	detail = json_pack("{s:I, s:s}", "id", (json_int_t)v->id, "hostname",
			   (const char *)sqlite3_column_text(st, 1));
	if (ident == NULL || sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = mm_compliance_forget_host(db, v->id)) != 0)
		goto out;
	if ((r = mm_audit_insert(db, &v->base.actor.a, "host.revoke", ident, detail, 200)) != 0)
		goto out;
	r = 0;
	goto done;
out:
	r = op_sqlerr(db, err);
done:
	sqlite3_free(ident);
	json_decref(detail);
	sqlite3_finalize(st);
	return r;
}

static void revoke_ok(struct op_job *j)
{
	struct revoke_job *v = (struct revoke_job *)j;

	if (j->srv->hosts != NULL)
		mm_hosts_revoke(j->srv->hosts, v->id);
	mm_http_reply_json(j->req, 200, json_pack("{s:I}", "revoked", (json_int_t)v->id));
}

static void revoke(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct revoke_job *v;
	sqlite3 *db = mm_store_reader(srv->store);
	int64_t id;
	int live;

	if ((id = mm_host_resolve(req, db, mm_http_path_rest(req), &live, NULL)) == 0)
		return;
	if (!live) {
		mm_http_reply_error(req, 409, "host already revoked", mm_http_path_rest(req));
		return;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    op_job_init(&v->base, srv, req, actor, revoke_ok, revoke_free) != 0) {
		free(v);
		mm_http_reply_error(req, 500, "out of memory", NULL);
		return;
	}
	v->id = id;
	op_job_submit(&v->base, revoke_run);
}

/* ---- GET /api/v1/status ------------------------------------------------------ */

static void status(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct mm_store_stats ss;
	struct mm_live_counters lc;
	int64_t now = mm_now();
	size_t hosts = 0, online = 0;

	mm_store_stats(srv->store, &ss);
	if (srv->hosts != NULL) {
		hosts = mm_hosts_count(srv->hosts);
		online = mm_hosts_online(srv->hosts, now, srv->cfg.online_margin_s);
	}
	mm_live_counters(&lc);
	mm_http_reply_json(
	    req, 200,
	    json_pack("{s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}}",
		      "version", MM_VERSION, "uptime",
		      (json_int_t)(srv->started_at > 0 ? now - srv->started_at : 0), "hosts",
		      (json_int_t)hosts, "online", (json_int_t)online, "store", "jobs",
		      (json_int_t)ss.jobs, "commits", (json_int_t)ss.commits, "queue",
		      (json_int_t)ss.queue_len, "live", "running", (json_int_t)mm_live_running(),
		      "held", (json_int_t)mm_live_parked_count(), "reads", (json_int_t)lc.reads,
		      "writes", (json_int_t)lc.writes, "held_writes", (json_int_t)lc.held_writes));
}

static const struct mm_route routes[] = {
	{ "GET", "/api/v1/hosts", MM_ROLES_READ, list },
	{ "GET", "/api/v1/hosts/*", MM_ROLES_READ, show },
	{ "DELETE", "/api/v1/hosts/*", MM_ROLE_ADMIN, revoke },
	{ "GET", "/api/v1/status", MM_ROLES_READ, status },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_hosts = { "hosts", routes };
