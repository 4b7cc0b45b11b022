/*
 * api_tokens.c - /api/v1/me and /api/v1/tokens: who am I, and the admin's
 * management of operator API tokens.
 *
 * A token is "mmt_" + 64 hex characters (256 random bits).  Only its
 * SHA-256 is stored; the value is returned once, by POST /api/v1/tokens,
 * and wiped from memory after the reply.  Names are unique among the
 * tokens not revoked (they identify actors in the audit log).  The last
 * admin token not revoked cannot be revoked (409): that would lock every
 * operator out; `mamori-server` run on the host can still make a new one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "error.h"
#include "opapi.h"
#include "server.h"

#define TOKEN_PREFIX "mmt_"

static void me(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	mm_http_reply_json(req, 200,
			   json_pack("{s:s, s:s, s:I}", "name", actor->name, "role",
				     mm_role_name(actor->role), "token_id",
				     (json_int_t)actor->token_id));
}

/* GET /api/v1/tokens */
static void list(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array(), *o;
	int rc;

	if (arr == NULL)
		goto nomem;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, name, role, created_at, created_by, last_used,"
			       " revoked_at FROM tokens ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		int64_t cached = mm_auth_last_used(id);
		json_t *last = NULL, *revoked = NULL;

		if (sqlite3_column_type(st, 5) != SQLITE_NULL || cached > 0) {
			int64_t v = sqlite3_column_int64(st, 5);

			last = json_integer(cached > v ? cached : v);
		}
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			revoked = json_integer(sqlite3_column_int64(st, 6));
		o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:o, s:o}", "id", (json_int_t)id, "name",
			      (const char *)sqlite3_column_text(st, 1), "role",
			      (const char *)sqlite3_column_text(st, 2), "created_at",
			      (json_int_t)sqlite3_column_int64(st, 3), "created_by",
			      (const char *)sqlite3_column_text(st, 4), "last_used",
			      last != NULL ? last : json_null(), "revoked_at",
			      revoked != NULL ? revoked : json_null());
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto nomem;
	}
	if (rc != SQLITE_DONE) {
		op_reply_db_error(req, db);
		goto out;
	}
	mm_http_reply_json(req, 200, json_pack("{s:o}", "tokens", arr));
	arr = NULL;
	goto out;
nomem:
	mm_http_reply_error(req, 500, "out of memory", NULL);
out:
	sqlite3_finalize(st);
	json_decref(arr);
}

/* ---- POST /api/v1/tokens -------------------------------------------------- */

struct create_job {
	struct op_job base;
	char *name;
	int role;
	char token[sizeof(TOKEN_PREFIX) + 64];
	char hash[65];
	int64_t id;
};

static void create_free(struct op_job *j)
{
	struct create_job *c = (struct create_job *)j;

	free(c->name);
	OPENSSL_cleanse(c->token, sizeof(c->token));
	OPENSSL_cleanse(c->hash, sizeof(c->hash));
	free(c);
}

static int create_run(sqlite3 *db, void *arg, char **err)
{
	struct create_job *c = arg;
	sqlite3_stmt *st = NULL;
	json_t *detail = NULL;
	int r = MM_ERR_SQL, rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM tokens WHERE name = ?1 AND revoked_at IS NULL",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = op_job_refuse(&c->base, 409, MM_ERR_CONSTRAINT, "token name in use",
				  "revoke the other token first or choose another name");
		goto done;
	}
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO tokens(name, role, hash, created_at, created_by)"
			       " VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mm_role_name(c->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->hash, 64, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, mm_now());
	sqlite3_bind_text(st, 5, c->base.actor.a.name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	c->id = sqlite3_last_insert_rowid(db);
	detail = json_pack("{s:I, s:s}", "id", (json_int_t)c->id, "role", mm_role_name(c->role));
	if ((r = mm_audit_insert(db, &c->base.actor.a, "token.create", c->name, detail, 200)) != 0)
		goto out;
	r = 0;
	goto done;
out:
	r = op_sqlerr(db, err);
done:
	json_decref(detail);
	sqlite3_finalize(st);
	return r;
}

static void create_ok(struct op_job *j)
{
	struct create_job *c = (struct create_job *)j;

	/* The only place the token value ever leaves the server. */
	mm_http_reply_json(j->req, 200,
			   json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)c->id, "name",
				     c->name, "role", mm_role_name(c->role), "token", c->token));
}

static void create(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct create_job *c = NULL;
	json_t *body;
	const char *name, *role;
	char hex[65];

	if ((body = mm_http_json_body(req, 0)) == NULL)
		return;
	if (!json_is_object(body)) {
		mm_http_reply_error(req, 400, "body must be a JSON object", NULL);
		goto out;
	}
	name = op_json_str(body, "name");
	role = op_json_str(body, "role");
	if (!op_name_ok(name)) {
		mm_http_reply_error(req, 422, "invalid token name",
				    "name: 1 to 64 characters of A-Z a-z 0-9 _ . - (not first . or -)");
		goto out;
	}
	if (mm_role_parse(role) == 0) {
		mm_http_reply_error(req, 422, "invalid role",
				    "role: one of admin, operator, observer, responder");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->name = strdup(name)) == NULL ||
	    op_job_init(&c->base, srv, req, actor, create_ok, create_free) != 0) {
		mm_http_reply_error(req, 500, "out of memory", NULL);
		goto out;
	}
	c->role = mm_role_parse(role);
	if (mm_random_hex(hex, 32) != 0) {
		mm_http_reply_error(req, 500, "no randomness", NULL);
		goto out;
	}
	snprintf(c->token, sizeof(c->token), "%s%s", TOKEN_PREFIX, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	mm_sha256_hex(c->token, strlen(c->token), c->hash);
	op_job_submit(&c->base, create_run);
	c = NULL;
out:
	if (c != NULL) {
		op_actor_clear(&c->base.actor);
		create_free(&c->base);
	}
	json_decref(body);
}

/* ---- DELETE /api/v1/tokens/ID --------------------------------------------- */

struct revoke_job {
	struct op_job base;
	int64_t id;
	char name[OP_NAME_MAX * 2];
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
	const char *role;
	int r = MM_ERR_SQL, rc;

	if (sqlite3_prepare_v2(db, "SELECT name, role, revoked_at FROM tokens WHERE id = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, v->id);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = op_job_refuse(&v->base, 404, MM_ERR_NOTFOUND, "no such token", NULL);
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		r = op_job_refuse(&v->base, 409, MM_ERR_CONSTRAINT, "token already revoked", NULL);
		goto done;
	}
	snprintf(v->name, sizeof(v->name), "%s", (const char *)sqlite3_column_text(st, 0));
	role = (const char *)sqlite3_column_text(st, 1);
	if (role != NULL && strcmp(role, "admin") == 0) {
		sqlite3_finalize(st);
		if (sqlite3_prepare_v2(db,
				       "SELECT count(*) FROM tokens WHERE role = 'admin' AND"
				       " revoked_at IS NULL",
				       -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW)
			goto out;
		if (sqlite3_column_int64(st, 0) <= 1) {
			r = op_job_refuse(&v->base, 409, MM_ERR_CONSTRAINT,
					  "cannot revoke the last admin token",
					  "create another admin token first");
			goto done;
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, v->id);
	sqlite3_bind_int64(st, 2, mm_now());
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	detail = json_pack("{s:I}", "id", (json_int_t)v->id);
	if ((r = mm_audit_insert(db, &v->base.actor.a, "token.revoke", v->name, detail, 200)) != 0)
		goto out;
	r = 0;
	goto done;
out:
	r = op_sqlerr(db, err);
done:
	json_decref(detail);
	sqlite3_finalize(st);
	return r;
}

static void revoke_ok(struct op_job *j)
{
	struct revoke_job *v = (struct revoke_job *)j;

	/* Again after the commit: a request between the first forget and the
	 * commit may have cached the token from the old state. */
	mm_auth_forget();
	mm_http_reply_json(j->req, 200, json_pack("{s:I}", "revoked", (json_int_t)v->id));
}

static void revoke(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct revoke_job *v;
	int64_t id;

	if (!op_is_id(mm_http_path_rest(req), &id)) {
		mm_http_reply_error(req, 404, "no such token", "tokens are named by numeric id");
		return;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    op_job_init(&v->base, srv, req, actor, revoke_ok, revoke_free) != 0) {
		free(v);
		mm_http_reply_error(req, 500, "out of memory", NULL);
		return;
	}
	v->id = id;
	/* actor is copied now: forgetting frees the cached name it points at. */
	mm_auth_forget();
	op_job_submit(&v->base, revoke_run);
}

static const struct mm_route routes[] = {
	{ "GET", "/api/v1/me", MM_ROLES_READ, me },
	{ "GET", "/api/v1/tokens", MM_ROLE_ADMIN, list },
	{ "POST", "/api/v1/tokens", MM_ROLE_ADMIN, create },
	{ "DELETE", "/api/v1/tokens/*", MM_ROLE_ADMIN, revoke },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_tokens = { "tokens", routes };
