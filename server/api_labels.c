/*
 * api_labels.c - /api/v1/labels: named sets of hosts that live queries
 * target (docs/live-queries.md).
 *
 *   POST   /api/v1/labels        {"labels": [{"name", "description", "query"}
 *                                 | {"name", "description", "hosts": [...]}]}
 *   GET    /api/v1/labels        every label with its number of members
 *   GET    /api/v1/labels/NAME   one label and its members
 *   DELETE /api/v1/labels/NAME
 *
 * A manual label lists its hosts (ids, hostnames or host identifiers,
 * resolved when applied: a name several hosts share takes all of them).  A
 * dynamic label is an SQL query each agent evaluates every
 * live.label_interval: a host is a member while the query returns rows on
 * it (longpoll.c sends the queries and records the answers).  Applying
 * checks every label of the request first (name, exactly one of query and
 * hosts, the query as a live query, every host known) and stores them all
 * in one store job with their audit records, or none.  Changing a dynamic
 * label's query forgets its members until the hosts answer the new one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "campaign.h"
#include "error.h"
#include "opapi.h"
#include "strutil.h"

#define LABELS_PER_APPLY 1000
#define HOSTS_PER_LABEL  10000
#define ERRORS_CAP       (32u << 10)

struct lab {
	char *name, *description, *query; /* query NULL: manual */
	char *hosts;                      /* manual: the names as applied (JSON) */
	int64_t *ids;                     /* manual: the hosts resolved */
	size_t nids;
	int created; /* set by the job */
};

struct apply_job {
	struct op_job base;
	struct lab *v;
	size_t n;
	int64_t now;
};

static void apply_free(struct op_job *oj)
{
	struct apply_job *j = (struct apply_job *)oj;
	size_t i;

	for (i = 0; i < j->n; i++) {
		free(j->v[i].name);
		free(j->v[i].description);
		free(j->v[i].query);
		free(j->v[i].hosts);
		free(j->v[i].ids);
	}
	free(j->v);
	free(j);
}

/* Resolves a host name (id, hostname or identifier) into l->ids.  Returns
 * the number of hosts found, or -1 on a store error. */
static int resolve_host(sqlite3 *db, const char *name, struct lab *l, size_t *cap)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc, found = 0, pass;

	for (pass = 0; pass < 2 && found == 0; pass++) {
		if (pass == 0 && !op_is_id(name, &id))
			continue;
		if (sqlite3_prepare_v2(
		        db,
		        pass == 0 ? "SELECT id FROM hosts WHERE id = ?1 AND revoked_at IS NULL"
		                  : "SELECT id FROM hosts WHERE revoked_at IS NULL AND"
		                    " (host_identifier = ?1 OR hostname = ?1)",
		        -1, &st, NULL) != SQLITE_OK)
			return -1;
		if (pass == 0)
			sqlite3_bind_int64(st, 1, id);
		else
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (l->nids == *cap) {
				size_t nc = *cap ? 2 * *cap : 16;
				int64_t *nv = realloc(l->ids, nc * sizeof(*nv));

				if (nv == NULL) {
					sqlite3_finalize(st);
					return -1;
				}
				l->ids = nv;
				*cap = nc;
			}
			l->ids[l->nids++] = sqlite3_column_int64(st, 0);
			found++;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return found;
}

/* Checks one label of the request into l; a failure is one line in errs. */
static void check_label(struct mm_server *srv, const json_t *e, size_t idx, struct lab *l,
                        struct mm_buf *errs)
{
	const char *name = op_json_str(e, "name"), *desc = op_json_str(e, "description");
	const json_t *q = json_object_get(e, "query"), *hosts = json_object_get(e, "hosts"), *h;
	char label[96];
	size_t i, cap = 0;

	if (name == NULL || !op_name_ok(name)) {
		mm_buf_addf(errs, "labels[%zu]: name: 1 to 64 of A-Z a-z 0-9 _ . - is needed\n",
		            idx);
		return;
	}
	snprintf(label, sizeof(label), "label %s", name);
	if (json_object_get(e, "description") != NULL && desc == NULL) {
		mm_buf_addf(errs, "%s: description must be a string\n", label);
		return;
	}
	if ((q == NULL) == (hosts == NULL)) {
		mm_buf_addf(errs, "%s: give either query (dynamic) or hosts (manual)\n", label);
		return;
	}
	if ((l->name = strdup(name)) == NULL ||
	    (l->description = strdup(desc != NULL ? desc : "")) == NULL) {
		mm_buf_addf(errs, "%s: out of memory\n", label);
		return;
	}
	if (q != NULL) {
		const char *msg = NULL;
		char *detail = NULL;

		if (!json_is_string(q)) {
			mm_buf_addf(errs, "%s: query must be a string\n", label);
			return;
		}
		if (mm_live_check_sql(json_string_value(q), &msg, &detail) != 0)
			mm_buf_addf(errs, "%s: %s%s%s\n", label, msg, detail != NULL ? ": " : "",
			            detail != NULL ? detail : "");
		else if ((l->query = strdup(json_string_value(q))) == NULL)
			mm_buf_addf(errs, "%s: out of memory\n", label);
		free(detail);
		return;
	}
	if (!json_is_array(hosts) || json_array_size(hosts) > HOSTS_PER_LABEL) {
		mm_buf_addf(errs, "%s: hosts must be a list of at most %d hosts\n", label,
		            HOSTS_PER_LABEL);
		return;
	}
	json_array_foreach(hosts, i, h)
	{
		const char *hn = json_string_value(h);
		char num[32];
		int found;

		if (json_is_integer(h)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(h));
			hn = num;
		}
		if (hn == NULL || hn[0] == '\0') {
			mm_buf_addf(errs, "%s: hosts[%zu]: an id, hostname or host identifier\n",
			            label, i);
			return;
		}
		if ((found = resolve_host(mm_store_reader(srv->store), hn, l, &cap)) < 0) {
			mm_buf_addf(errs, "%s: store error: %s\n", label,
			            sqlite3_errmsg(mm_store_reader(srv->store)));
			return;
		}
		if (found == 0)
			mm_buf_addf(errs, "%s: no such host: %s\n", label, hn);
	}
	if ((l->hosts = json_dumps(hosts, JSON_COMPACT)) == NULL)
		mm_buf_addf(errs, "%s: out of memory\n", label);
}

static int apply_run(sqlite3 *db, void *arg, char **err)
{
	struct apply_job *j = arg;
	sqlite3_stmt *s;
	size_t i, k;
	int rc, r;

	for (i = 0; i < j->n; i++) {
		struct lab *l = &j->v[i];
		const char *kind = l->query != NULL ? "dynamic" : "manual";
		int64_t id = 0;
		int forget = 1;
		json_t *detail;

		if ((s = mm_store_stmt(db, "SELECT id, kind, query FROM labels WHERE name = ?1",
		                       err)) == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			id = sqlite3_column_int64(s, 0);
			/* The same dynamic query keeps what the hosts said. */
			forget = l->query == NULL ||
			         strcmp((const char *)sqlite3_column_text(s, 1), "dynamic") != 0 ||
			         strcmp((const char *)sqlite3_column_text(s, 2), l->query) != 0;
		} else if (rc != SQLITE_DONE) {
			return op_sqlerr(db, err);
		}
		sqlite3_reset(s);
		l->created = id == 0;
		if (id == 0)
			s = mm_store_stmt(
			    db,
			    "INSERT INTO labels(name, description, kind, query, hosts,"
			    " created_at, updated_at, updated_by)"
			    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
			    err);
		else
			s = mm_store_stmt(
			    db,
			    "UPDATE labels SET description = ?2, kind = ?3, query = ?4,"
			    " hosts = ?5, updated_at = ?6, updated_by = ?7"
			    " WHERE name = ?1",
			    err);
		if (s == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, l->description, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, l->query != NULL ? l->query : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, l->hosts != NULL ? l->hosts : "[]", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, j->now);
		sqlite3_bind_text(s, 7, j->base.actor.a.name != NULL ? j->base.actor.a.name : "",
		                  -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return op_sqlerr(db, err);
		if (id == 0)
			id = sqlite3_last_insert_rowid(db);
		if (forget) {
			if ((s = mm_store_stmt(db, "DELETE FROM label_members WHERE label_id = ?1",
			                       err)) == NULL)
				return MM_ERR_SQL;
			sqlite3_bind_int64(s, 1, id);
			if (sqlite3_step(s) != SQLITE_DONE)
				return op_sqlerr(db, err);
		}
		if (l->query == NULL) {
			if ((s = mm_store_stmt(
			         db,
			         "INSERT OR IGNORE INTO label_members(label_id, host_id,"
			         " updated_at) VALUES(?1, ?2, ?3)",
			         err)) == NULL)
				return MM_ERR_SQL;
			for (k = 0; k < l->nids; k++) {
				sqlite3_bind_int64(s, 1, id);
				sqlite3_bind_int64(s, 2, l->ids[k]);
				sqlite3_bind_int64(s, 3, j->now);
				if (sqlite3_step(s) != SQLITE_DONE)
					return op_sqlerr(db, err);
				sqlite3_reset(s);
			}
		}
		detail = json_pack("{s:s, s:b, s:s?, s:I}", "kind", kind, "created", l->created,
		                   "query", l->query, "hosts", (json_int_t)l->nids);
		r = mm_audit_insert(db, &j->base.actor.a, "label.apply", l->name, detail, 200);
		json_decref(detail);
		if (r != 0) {
			if (*err == NULL)
				*err = sqlite3_mprintf("audit: %s", mm_strerror(r));
			return r;
		}
	}
	return 0;
}

static void apply_ok(struct op_job *oj)
{
	struct apply_job *j = (struct apply_job *)oj;
	json_t *a = json_array();
	size_t i;

	mm_live_labels_changed(oj->srv);
	for (i = 0; i < j->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "name", j->v[i].name, "kind",
		                                   j->v[i].query != NULL ? "dynamic" : "manual",
		                                   "created", j->v[i].created));
	mm_http_reply_json(oj->req, 200, json_pack("{s:o}", "applied", a));
}

/* POST /api/v1/labels */
static void apply(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct apply_job *j = NULL;
	struct mm_buf errs;
	json_t *body = NULL, *labels, *e;
	size_t i, k;

	mm_buf_init(&errs, ERRORS_CAP);
	if (mm_live_init(srv) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	if ((body = mm_http_json_body(req, 0)) == NULL)
		goto out;
	labels = json_object_get(body, "labels");
	if (!json_is_array(labels) || json_array_size(labels) == 0 ||
	    json_array_size(labels) > LABELS_PER_APPLY) {
		mm_http_reply_error(req, 400, "labels must be a list of 1 to 1000 labels", NULL);
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->v = calloc(json_array_size(labels), sizeof(*j->v))) == NULL ||
	    op_job_init(&j->base, srv, req, actor, apply_ok, apply_free) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	json_array_foreach(labels, i, e)
	{
		const char *name = op_json_str(e, "name");

		j->n++;
		if (!json_is_object(e)) {
			mm_buf_addf(&errs, "labels[%zu]: expected an object\n", i);
			continue;
		}
		for (k = 0; name != NULL && k < i; k++)
			if (j->v[k].name != NULL && strcmp(j->v[k].name, name) == 0)
				break;
		if (name != NULL && k < i) {
			mm_buf_addf(&errs, "label %s: given twice\n", name);
			continue;
		}
		check_label(srv, e, i, &j->v[i], &errs);
	}
	if (errs.len > 0) {
		errs.data[--errs.len] = '\0'; /* the last newline */
		mm_audit_log(srv, actor, NULL, "label.apply", "",
		             json_pack("{s:s}", "error", errs.data), 422);
		mm_http_reply_error(req, 422, "invalid labels", errs.data);
		goto out;
	}
	j->now = mm_http_now_ms(srv->http) / 1000;
	op_job_submit(&j->base, apply_run);
	j = NULL;
out:
	if (j != NULL) {
		op_actor_clear(&j->base.actor);
		apply_free(&j->base);
	}
	json_decref(body);
	mm_buf_free(&errs);
}

/* GET /api/v1/labels */
static void list(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st;

	(void)actor;
	if (sqlite3_prepare_v2(db,
	                       "SELECT id, json_object('id', id, 'name', name, 'description',"
	                       " description, 'kind', kind, 'query', query, 'members',"
	                       " (SELECT count(*) FROM label_members m JOIN hosts h"
	                       "  ON h.id = m.host_id WHERE m.label_id = labels.id"
	                       "  AND h.revoked_at IS NULL),"
	                       " 'updated_at', updated_at, 'updated_by', updated_by)"
	                       " FROM labels ORDER BY name",
	                       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		return;
	}
	op_reply_list(req, "labels", st, 0, 0);
}

/* GET /api/v1/labels/NAME */
static void show(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	json_t *label = NULL, *members;
	const char *name = mm_http_path_rest(req);
	int64_t id;
	int rc;

	(void)actor;
	if (mm_live_init(srv) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return;
	}
	if (sqlite3_prepare_v2(db,
	                       "SELECT id, json_object('id', id, 'name', name, 'description',"
	                       " description, 'kind', kind, 'query', query, 'hosts', json(hosts),"
	                       " 'created_at', created_at, 'updated_at', updated_at,"
	                       " 'updated_by', updated_by) FROM labels WHERE name = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		mm_http_reply_error(req, 404, "no such label", name);
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto dberr;
	id = sqlite3_column_int64(st, 0);
	label = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
	sqlite3_finalize(st);
	st = NULL;
	if (label == NULL || (members = json_array()) == NULL ||
	    json_object_set_new(label, "members", members) != 0) {
		mm_http_reply_error(req, 500, "out of memory", NULL);
		goto out;
	}
	if (sqlite3_prepare_v2(db,
	                       "SELECT h.id, h.host_identifier, h.hostname, m.updated_at"
	                       " FROM label_members m JOIN hosts h ON h.id = m.host_id"
	                       " WHERE m.label_id = ?1 AND h.revoked_at IS NULL ORDER BY h.id",
	                       -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t hid = sqlite3_column_int64(st, 0);

		json_array_append_new(
		    members,
		    json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)hid, "host_identifier",
		              (const char *)sqlite3_column_text(st, 1), "hostname",
		              (const char *)sqlite3_column_text(st, 2), "status",
		              mm_live_host_online(srv, hid) ? "online" : "offline", "since",
		              (json_int_t)sqlite3_column_int64(st, 3)));
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	mm_http_reply_json(req, 200, json_pack("{s:o}", "label", label));
	label = NULL;
	goto out;
dberr:
	op_reply_db_error(req, db);
out:
	sqlite3_finalize(st);
	json_decref(label);
}

struct delete_job {
	struct op_job base;
	char *name;
};

static void delete_free(struct op_job *oj)
{
	struct delete_job *j = (struct delete_job *)oj;

	free(j->name);
	free(j);
}

static int delete_run(sqlite3 *db, void *arg, char **err)
{
	struct delete_job *j = arg;
	sqlite3_stmt *s;

	if ((s = mm_store_stmt(db,
	                       "DELETE FROM label_members WHERE label_id IN"
	                       " (SELECT id FROM labels WHERE name = ?1)",
	                       err)) == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_text(s, 1, j->name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return op_sqlerr(db, err);
	if ((s = mm_store_stmt(db, "DELETE FROM labels WHERE name = ?1", err)) == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_text(s, 1, j->name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return op_sqlerr(db, err);
	if (sqlite3_changes(db) == 0)
		return op_job_refuse(&j->base, 404, MM_ERR_NOTFOUND, "no such label", j->name);
	return mm_audit_insert(db, &j->base.actor.a, "label.delete", j->name, NULL, 200);
}

static void delete_ok(struct op_job *oj)
{
	struct delete_job *j = (struct delete_job *)oj;

	mm_live_labels_changed(oj->srv);
	mm_http_reply_json(oj->req, 200, json_pack("{s:s}", "deleted", j->name));
}

/* DELETE /api/v1/labels/NAME */
static void del(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct delete_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->name = strdup(mm_http_path_rest(req))) == NULL ||
	    op_job_init(&j->base, srv, req, actor, delete_ok, delete_free) != 0) {
		if (j != NULL) {
			op_actor_clear(&j->base.actor);
			free(j->name);
			free(j);
		}
		mm_http_reply_error(req, 503, "out of memory", NULL);
		return;
	}
	op_job_submit(&j->base, delete_run);
}

static const struct mm_route routes[] = {
    {"POST", "/api/v1/labels", MM_ROLES_WRITE, apply},
    {"GET", "/api/v1/labels", MM_ROLES_READ, list},
    {"GET", "/api/v1/labels/*", MM_ROLES_READ, show},
    {"DELETE", "/api/v1/labels/*", MM_ROLES_WRITE, del},
    {NULL, NULL, 0, NULL},
};

const struct mm_api mm_api_labels = {"labels", routes};
