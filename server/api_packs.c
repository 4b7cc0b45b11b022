/*
 * api_packs.c - /api/v1/packs: the query packs the coordinator hands to
 * agents in their config.
 *
 * POST takes several pack files at once (YAML or osquery .conf).  Every
 * pack is parsed (agent/pack.c) and every query and discovery statement
 * prepared against the agent's table schemas in an engine opened once per
 * process (it prepares, never runs: root "/" is never read).  If anything
 * fails, nothing is stored and the 422 names each failure (file, pack,
 * query, SQLite's message).  Otherwise all packs are written in one store
 * job, with their audit records, and the config generation is bumped after
 * the commit so agents pick the change up.
 *
 * Stored per pack: the osquery JSON form (body: what agents get), the
 * text as applied (source), description and platform for listings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "error.h"
#include "opapi.h"
#include "pack.h"
#include "server.h"

#define PACKS_PER_REQUEST 200
#define ERRORS_CAP (32u << 10) /* bytes of error text in a 422 */

static struct mm_engine *validator;

/* The engine queries are validated against, opened on first use.  Its
 * heap limit is off: sqlite3_hard_heap_limit64 is process-wide and would
 * also bound the store's connections. */
static struct mm_engine *get_validator(char **err)
{
	struct mm_engine_opts o = { .root = "/", .heap_limit = -1 };

	if (validator == NULL && mm_engine_new(&o, &validator, err) != 0)
		validator = NULL;
	return validator;
}

/* GET /api/v1/packs */
static void list(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db,
			       "SELECT id, json_object('name', name, 'description', description,"
			       " 'platform', platform, 'queries',"
			       " (SELECT count(*) FROM json_each(body, '$.queries')),"
			       " 'updated_at', updated_at, 'updated_by', updated_by)"
			       " FROM packs ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		return;
	}
	op_reply_list(req, "packs", st, 0, 0);
}

/* GET /api/v1/packs/NAME */
static void show(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	struct mm_buf b;
	int rc;

	mm_buf_init(&b, OP_REPLY_CAP);
	if (sqlite3_prepare_v2(db,
			       "SELECT json_set(json_patch(json_object('name', name), body),"
			       " '$.source', source, '$.created_at', created_at,"
			       " '$.updated_at', updated_at, '$.updated_by', updated_by)"
			       " FROM packs WHERE name = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	sqlite3_bind_text(st, 1, mm_http_path_rest(req), -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		mm_http_reply_error(req, 404, "no such pack", mm_http_path_rest(req));
		goto out;
	}
	if (rc != SQLITE_ROW) {
		op_reply_db_error(req, db);
		goto out;
	}
	if (mm_buf_adds(&b, "{\"pack\":") != 0 ||
	    mm_buf_add(&b, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0)) != 0 ||
	    mm_buf_addc(&b, '}') != 0) {
		mm_http_reply_error(req, 500, "reply too large", NULL);
		goto out;
	}
	mm_http_reply(req, 200, "application/json", b.data, b.len);
out:
	sqlite3_finalize(st);
	mm_buf_free(&b);
}

/* ---- POST /api/v1/packs --------------------------------------------------- */

struct apply_item {
	char *name, *description, *platform, *body, *source, *filename;
	size_t source_len;
	size_t nqueries;
	int created;
};

struct apply_job {
	struct op_job base;
	size_t n;
	struct apply_item *items;
};

static void apply_free(struct op_job *j)
{
	struct apply_job *a = (struct apply_job *)j;
	size_t i;

	for (i = 0; a->items != NULL && i < a->n; i++) {
		struct apply_item *it = &a->items[i];

		free(it->name);
		free(it->description);
		free(it->platform);
		free(it->body);
		free(it->source);
		free(it->filename);
	}
	free(a->items);
	free(a);
}

static int apply_run(sqlite3 *db, void *arg, char **err)
{
	struct apply_job *a = arg;
	sqlite3_stmt *find = NULL, *put = NULL;
	json_t *detail = NULL;
	int64_t now = mm_now();
	size_t i;
	int r = MM_ERR_SQL, rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM packs WHERE name = ?1", -1, &find, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO packs(name, description, platform, body, source,"
			       " created_at, updated_at, updated_by)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)"
			       " ON CONFLICT(name) DO UPDATE SET description = excluded.description,"
			       " platform = excluded.platform, body = excluded.body,"
			       " source = excluded.source, updated_at = excluded.updated_at,"
			       " updated_by = excluded.updated_by",
			       -1, &put, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < a->n; i++) {
		struct apply_item *it = &a->items[i];

		sqlite3_bind_text(find, 1, it->name, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(find)) != SQLITE_ROW && rc != SQLITE_DONE)
			goto out;
		it->created = rc == SQLITE_DONE;
		sqlite3_reset(find);
		sqlite3_bind_text(put, 1, it->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(put, 2, it->description, -1, SQLITE_STATIC);
		sqlite3_bind_text(put, 3, it->platform, -1, SQLITE_STATIC);
		sqlite3_bind_text(put, 4, it->body, -1, SQLITE_STATIC);
		sqlite3_bind_text(put, 5, it->source, (int)it->source_len, SQLITE_STATIC);
		sqlite3_bind_int64(put, 6, now);
		sqlite3_bind_text(put, 7, a->base.actor.a.name != NULL ? a->base.actor.a.name : "",
				  -1, SQLITE_STATIC);
		if (sqlite3_step(put) != SQLITE_DONE)
			goto out;
		sqlite3_reset(put);
		detail = json_pack("{s:I, s:b, s:s}", "queries", (json_int_t)it->nqueries,
				   "created", it->created, "filename", it->filename);
		if (mm_audit_insert(db, &a->base.actor.a, "pack.apply", it->name, detail, 200) != 0)
			goto out;
		json_decref(detail);
		detail = NULL;
	}
	r = 0;
out:
	if (r != 0)
		op_sqlerr(db, err);
	json_decref(detail);
	sqlite3_finalize(find);
	sqlite3_finalize(put);
	return r;
}

static void apply_ok(struct op_job *j)
{
	struct apply_job *a = (struct apply_job *)j;
	json_t *arr = json_array();
	size_t i;

	j->srv->config_gen++;
	for (i = 0; arr != NULL && i < a->n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:b}", "name", a->items[i].name,
						     "queries", (json_int_t)a->items[i].nqueries,
						     "created", a->items[i].created));
	mm_http_reply_json(j->req, 200, json_pack("{s:o}", "applied", arr));
}

/* The name of a .conf pack from its file name: base name without extension. */
static char *conf_name(const char *filename)
{
	const char *base, *dot;

	if (filename == NULL)
		return NULL;
	base = strrchr(filename, '/');
	base = base != NULL ? base + 1 : filename;
	dot = strrchr(base, '.');
	return strndup(base, dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* Adds msg as one more line of the 422 detail (past ERRORS_CAP the line is
 * left out; nerr still counts it). */
static void add_error(struct mm_buf *errs, size_t *nerr, const char *prefix, const char *msg)
{
	size_t mark = errs->len;

	(*nerr)++;
	if ((errs->len > 0 && mm_buf_addc(errs, '\n') != 0) ||
	    (prefix != NULL && mm_buf_adds(errs, prefix) != 0) || mm_buf_adds(errs, msg) != 0) {
		errs->len = mark;
		if (errs->data != NULL)
			errs->data[mark] = '\0';
	}
}

/* The length of s cut to at most max bytes on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* Parses and validates item i into it; failures are added to errs. */
static int prepare_item(const json_t *o, size_t i, struct apply_item *it, struct mm_buf *errs,
			size_t *nerr)
{
	const json_t *src = json_object_get(o, "source");
	const char *format = op_json_str(o, "format"), *filename = op_json_str(o, "filename");
	const char *name = op_json_str(o, "name");
	struct mm_pack *p = NULL;
	struct mm_engine *e;
	char label[64], msg[512], *err = NULL, *derived = NULL;
	json_t *pj = NULL;
	int r = MM_ERR_PARSE;

	snprintf(label, sizeof(label), "packs[%zu]", i);
	if (!json_is_object(o) || !json_is_string(src)) {
		snprintf(msg, sizeof(msg), "%s: needs \"source\" (the pack file's text)", label);
		add_error(errs, nerr, NULL, msg);
		goto out;
	}
	if (format != NULL && strcmp(format, "yaml") != 0 && strcmp(format, "conf") != 0) {
		snprintf(msg, sizeof(msg), "%s: format must be \"yaml\" or \"conf\"", label);
		add_error(errs, nerr, NULL, msg);
		goto out;
	}
	if (filename == NULL)
		filename = label;
	if (name == NULL && (derived = conf_name(filename)) != NULL)
		name = derived;
	if ((r = mm_pack_parse(json_string_value(src), json_string_length(src), format, filename,
			       name, &p, &err)) != 0) {
		add_error(errs, nerr, NULL, err != NULL ? err : mm_strerror(r));
		goto out;
	}
	free(err);
	err = NULL;
	if ((e = get_validator(&err)) == NULL) {
		snprintf(msg, sizeof(msg), "query validator unavailable: %s",
			 err != NULL ? err : "?");
		sqlite3_free(err); /* mm_engine_new's message */
		err = NULL;
		add_error(errs, nerr, NULL, msg);
		r = MM_ERR_INTERNAL;
		goto out;
	}
	if ((r = mm_pack_validate(p, e, &err)) != 0) {
		snprintf(msg, sizeof(msg), "%s: ", filename);
		add_error(errs, nerr, msg, err != NULL ? err : mm_strerror(r));
		goto out;
	}
	r = MM_ERR_NOMEM;
	if ((pj = mm_pack_to_json(p)) == NULL || (it->body = json_dumps(pj, JSON_COMPACT)) == NULL ||
	    (it->name = strdup(p->name)) == NULL ||
	    (it->description = strdup(p->description != NULL ? p->description : "")) == NULL ||
	    (it->platform = strdup(p->platform != NULL ? p->platform : "")) == NULL ||
	    (it->filename = strdup(filename)) == NULL ||
	    (it->source = malloc(json_string_length(src) + 1)) == NULL) {
		add_error(errs, nerr, NULL, "out of memory");
		goto out;
	}
	memcpy(it->source, json_string_value(src), json_string_length(src) + 1);
	it->source_len = json_string_length(src);
	it->nqueries = p->nqueries;
	r = 0;
out:
	free(err);
	free(derived);
	json_decref(pj);
	mm_pack_free(p);
	return r;
}

static void apply(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct apply_job *a = NULL;
	struct mm_buf errs;
	json_t *body, *packs, *o;
	size_t i, k, nerr = 0;
	char msg[MM_PACK_MAX_NAME + 64];

	mm_buf_init(&errs, ERRORS_CAP);
	if ((body = mm_http_json_body(req, 0)) == NULL)
		return;
	packs = json_object_get(body, "packs");
	if (!json_is_array(packs) || json_array_size(packs) == 0 ||
	    json_array_size(packs) > PACKS_PER_REQUEST) {
		mm_http_reply_error(req, 400, "bad request",
				    "the body must be {\"packs\": [{\"format\", \"filename\","
				    " \"name\", \"source\"}, ...]} with 1 to 200 packs");
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->items = calloc(json_array_size(packs), sizeof(*a->items))) == NULL ||
	    op_job_init(&a->base, srv, req, actor, apply_ok, apply_free) != 0) {
		mm_http_reply_error(req, 500, "out of memory", NULL);
		goto out;
	}
	a->n = json_array_size(packs);
	json_array_foreach(packs, i, o) {
		if (prepare_item(o, i, &a->items[i], &errs, &nerr) != 0)
			continue;
		for (k = 0; k < i; k++)
			if (a->items[k].name != NULL && strcmp(a->items[k].name, a->items[i].name) == 0) {
				snprintf(msg, sizeof(msg), "%s: pack %s given twice",
					 a->items[i].filename, a->items[i].name);
				add_error(&errs, &nerr, NULL, msg);
				break;
			}
	}
	if (nerr > 0) {
		/* Audit first: actor->address lives in the request. */
		mm_audit_log(srv, actor, actor->address, "pack.apply", "",
			     json_pack("{s:I, s:s%}", "errors", (json_int_t)nerr, "error",
				       mm_buf_str(&errs), utf8_cut(mm_buf_str(&errs), 1024)),
			     422);
		mm_http_reply_error(req, 422,
				    nerr == 1 ? "invalid pack, nothing applied"
					      : "invalid packs, nothing applied",
				    mm_buf_str(&errs));
		goto out;
	}
	op_job_submit(&a->base, apply_run);
	a = NULL;
out:
	if (a != NULL) {
		op_actor_clear(&a->base.actor);
		apply_free(&a->base);
	}
	mm_buf_free(&errs);
	json_decref(body);
}

/* ---- DELETE /api/v1/packs/NAME -------------------------------------------- */

struct delete_job {
	struct op_job base;
	char *name;
};

static void delete_free(struct op_job *j)
{
	struct delete_job *d = (struct delete_job *)j;

	free(d->name);
	free(d);
}

static int delete_run(sqlite3 *db, void *arg, char **err)
{
	struct delete_job *d = arg;
	sqlite3_stmt *st = NULL;
	int r = MM_ERR_SQL;

	if (sqlite3_prepare_v2(db, "DELETE FROM packs WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	if (sqlite3_changes(db) == 0) {
		r = op_job_refuse(&d->base, 404, MM_ERR_NOTFOUND, "no such pack", NULL);
		goto done;
	}
	if (mm_audit_insert(db, &d->base.actor.a, "pack.delete", d->name, NULL, 200) != 0)
		goto out;
	r = 0;
	goto done;
out:
	r = op_sqlerr(db, err);
done:
	sqlite3_finalize(st);
	return r;
}

static void delete_ok(struct op_job *j)
{
	struct delete_job *d = (struct delete_job *)j;

	j->srv->config_gen++;
	mm_http_reply_json(j->req, 200, json_pack("{s:s}", "deleted", d->name));
}

static void delete(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct delete_job *d;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->name = strdup(mm_http_path_rest(req))) == NULL ||
	    op_job_init(&d->base, srv, req, actor, delete_ok, delete_free) != 0) {
		if (d != NULL)
			free(d->name);
		free(d);
		mm_http_reply_error(req, 500, "out of memory", NULL);
		return;
	}
	op_job_submit(&d->base, delete_run);
}

static const struct mm_route routes[] = {
	{ "GET", "/api/v1/packs", MM_ROLES_READ, list },
	{ "POST", "/api/v1/packs", MM_ROLES_WRITE, apply },
	{ "GET", "/api/v1/packs/*", MM_ROLES_READ, show },
	{ "DELETE", "/api/v1/packs/*", MM_ROLES_WRITE, delete },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_packs = { "packs", routes };
