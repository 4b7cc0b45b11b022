/*
 * api_policies.c - /api/v1/policies: applying, listing, showing and deleting
 * the compliance policies the coordinator hands to its agents.
 *
 * A policy is applied as the file its author wrote (a Lua policy, or a
 * Fleet-style YAML file holding SQL policies).  Applying validates all the
 * files of a request before storing any: the Lua compiles in the sandbox
 * and its metadata is complete (the agent's own loader, policy.c, does
 * both), SQL policies' queries prepare against the agent's table schemas,
 * and so do the SQL strings a Lua policy passes to query() as literals
 * (SQL a policy builds at run time can only fail when evaluated, which
 * yields an `error` verdict naming the problem).  The whole batch is then
 * stored in one store job together with its audit record, and config_gen
 * is bumped so the next config an agent fetches carries the new set.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "opapi.h"
#include "policy.h"
#include "server.h"
#include "buf.h"
#include "strutil.h"

#define MAX_POLICIES_PER_APPLY 1000
#define MAX_FILENAME 255

/* One validated policy on its way to the store. */
struct pol_rec {
	char *policy;     /* id */
	char *title;
	char *description;
	int severity;     /* enum mm_severity */
	const char *kind; /* "lua" or "sql" (static) */
	char *platform;
	int64_t interval;
	char *remediation;
	char *meta;       /* JSON text */
	char *filename;
	char *source;     /* Lua text, or the whole YAML file */
	int created;      /* set by the job */
};

struct apply_job {
	struct op_job base;  /* first: the request, the actor, the reply hooks */
	struct pol_rec *v;
	size_t n;
};

static void pol_rec_clear(struct pol_rec *p)
{
	free(p->policy);
	free(p->title);
	free(p->description);
	free(p->platform);
	free(p->remediation);
	free(p->meta);
	free(p->filename);
	free(p->source);
}

static void apply_job_free(struct op_job *base)
{
	struct apply_job *j = (struct apply_job *)base;
	size_t i;

	for (i = 0; i < j->n; i++)
		pol_rec_clear(&j->v[i]);
	free(j->v);
	free(j);
}

static char *xstrdup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* ---- validation ---------------------------------------------------------- */

/* The engine used only to prepare statements (never to run them).  No
 * heap limit: sqlite3_hard_heap_limit64 is process-wide and would also
 * bound the store's connections. */
static struct mm_engine *validation_engine(char **err)
{
	static struct mm_engine *e;
	struct mm_engine_opts o = { .root = "/", .heap_limit = -1, .time_limit_ms = 1000 };
	char *serr = NULL;

	if (e == NULL && mm_engine_new(&o, &e, &serr) != 0) {
		*err = strdup(serr != NULL ? serr : "cannot open the SQL engine");
		sqlite3_free(serr);
		e = NULL;
	}
	return e;
}

/* Prepares sql; on failure sets *err to "FILE: policy ID: MESSAGE". */
static int prepare_check(struct mm_engine *e, const char *file, const char *id, const char *sql,
			 char **err)
{
	sqlite3_stmt *st = NULL;
	char *serr = NULL;
	int r = mm_engine_prepare(e, sql, &st, NULL, &serr);

	sqlite3_finalize(st);
	if (r != 0) {
		if (asprintf(err, "%s: policy %s: %s (in: %s)", file, id,
			     serr != NULL ? serr : "does not prepare", sql) < 0)
			*err = NULL;
		sqlite3_free(serr);
		return MM_ERR_SQL;
	}
	return 0;
}

/* Reads a Lua short string literal starting at s[*i] (the quote) into out.
 * Returns 0, or -1 when it is not a plain literal we can decode. */
static int lua_short_string(const char *s, size_t len, size_t *i, struct mm_buf *out)
{
	char q = s[*i];
	size_t k = *i + 1;

	while (k < len && s[k] != q) {
		char c = s[k];
		if (c == '\n')
			return -1;
		if (c == '\\') {
			if (++k >= len)
				return -1;
			switch (s[k]) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '\\': c = '\\'; break;
			case '"': c = '"'; break;
			case '\'': c = '\''; break;
			case '\n': c = '\n'; break;
			default: return -1; /* \x, \z, \ddd, \u: leave to run time */
			}
		}
		if (mm_buf_addc(out, c) != 0)
			return -1;
		k++;
	}
	if (k >= len)
		return -1;
	*i = k + 1;
	return 0;
}

/* Long bracket [[...]] / [==[...]==] at s[*i]; level in *lvl.  Returns the
 * index after the opening bracket, or 0 when s[*i] does not open one. */
static size_t long_open(const char *s, size_t len, size_t i, int *lvl)
{
	size_t k = i + 1;
	int l = 0;

	if (s[i] != '[')
		return 0;
	while (k < len && s[k] == '=') {
		l++;
		k++;
	}
	if (k >= len || s[k] != '[')
		return 0;
	*lvl = l;
	return k + 1;
}

/* Finds the close of a long bracket of level lvl from s[k]; returns the
 * index of its first ']' or len when unterminated. */
static size_t long_close(const char *s, size_t len, size_t k, int lvl)
{
	for (; k < len; k++) {
		size_t m = k + 1;
		int l = 0;
		if (s[k] != ']')
			continue;
		while (m < len && s[m] == '=') {
			l++;
			m++;
		}
		if (l == lvl && m < len && s[m] == ']')
			return k;
	}
	return len;
}

/*
 * Finds the SQL literals a Lua policy passes to query(): `query("...")`,
 * `query('...', x)`, `query([[...]])` and concatenations of literals
 * (`"SELECT a" .. " FROM t"`), skipping comments and other strings.  SQL
 * that concatenates anything else is built at run time and skipped.
 * Calls check(sql) for each; stops at and returns the first failure.
 */
static int lua_query_literals(const char *s, size_t len, struct mm_engine *e, const char *file,
			      const char *id, char **err)
{
	size_t i = 0;
	struct mm_buf sql;
	int r = 0, lvl;

	mm_buf_init(&sql, 1 << 20);
	while (i < len && r == 0) {
		size_t k;
		char c = s[i];
		if (c == '-' && i + 1 < len && s[i + 1] == '-') { /* comment */
			if ((k = long_open(s, len, i + 2, &lvl)) != 0) {
				k = long_close(s, len, k, lvl);
				i = k + (size_t)lvl + 2;
			} else {
				while (i < len && s[i] != '\n')
					i++;
			}
			continue;
		}
		if (c == '"' || c == '\'') { /* any other string */
			mm_buf_reset(&sql);
			if (lua_short_string(s, len, &i, &sql) != 0)
				i++;
			continue;
		}
		if ((k = long_open(s, len, i, &lvl)) != 0) {
			i = long_close(s, len, k, lvl) + (size_t)lvl + 2;
			continue;
		}
		if (strncmp(s + i, "query", 5) == 0 &&
		    (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '.' ||
				 s[i - 1] == ':')) &&
		    i + 5 < len && !(isalnum((unsigned char)s[i + 5]) || s[i + 5] == '_')) {
			size_t j = i + 5;
			int ok = -1;
			while (j < len && isspace((unsigned char)s[j]))
				j++;
			if (j < len && s[j] == '(') {
				j++;
				while (j < len && isspace((unsigned char)s[j]))
					j++;
				mm_buf_reset(&sql);
				/* literal [.. literal]... then ')' or ',' */
				for (;;) {
					ok = -1;
					if (j < len && (s[j] == '"' || s[j] == '\'')) {
						ok = lua_short_string(s, len, &j, &sql);
					} else if (j < len && (k = long_open(s, len, j, &lvl)) != 0) {
						size_t end = long_close(s, len, k, lvl);
						if (k < end && s[k] == '\n')
							k++;
						if (end < len && mm_buf_add(&sql, s + k, end - k) == 0) {
							ok = 0;
							j = end + (size_t)lvl + 2;
						}
					}
					if (ok != 0)
						break;
					while (j < len && isspace((unsigned char)s[j]))
						j++;
					if (j + 1 < len && s[j] == '.' && s[j + 1] == '.') {
						j += 2;
						while (j < len && isspace((unsigned char)s[j]))
							j++;
						continue;
					}
					break;
				}
				if (ok == 0 && j < len && (s[j] == ')' || s[j] == ','))
					r = prepare_check(e, file, id, mm_buf_str(&sql), err);
			}
			i = j > i + 5 ? j : i + 5;
			continue;
		}
		i++;
	}
	mm_buf_free(&sql);
	return r;
}

static json_t *str_array(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Turns one loaded policy into a store record. */
static int pol_rec_fill(struct pol_rec *r, const struct mm_policy *p, const char *filename,
			const char *source)
{
	json_t *meta = json_object();
	char *m;

	json_object_set_new(meta, "rationale", json_string(p->rationale ? p->rationale : ""));
	json_object_set_new(meta, "remediation_script",
			    p->remediation_script ? json_string(p->remediation_script) : json_null());
	json_object_set_new(meta, "references", str_array(p->references, p->nreferences));
	json_object_set_new(meta, "tags", str_array(p->tags, p->ntags));
	if (p->kind == MM_POLICY_SQL)
		json_object_set_new(meta, "sql", json_string(p->sql ? p->sql : ""));
	m = json_dumps(meta, JSON_COMPACT);
	json_decref(meta);
	r->policy = strdup(p->id);
	r->title = xstrdup_or_empty(p->title);
	r->description = xstrdup_or_empty(p->description);
	r->severity = (int)p->severity;
	r->kind = p->kind == MM_POLICY_LUA ? "lua" : "sql";
	r->platform = xstrdup_or_empty(p->platform);
	r->interval = p->interval > 0 ? p->interval : 3600;
	r->remediation = xstrdup_or_empty(p->remediation);
	r->meta = m;
	r->filename = strdup(filename);
	r->source = strdup(source);
	if (!r->policy || !r->title || !r->description || !r->platform || !r->remediation ||
	    !r->meta || !r->filename || !r->source)
		return MM_ERR_NOMEM;
	return 0;
}

/* A file name as given by the client: a base name, no path. */
static int filename_ok(const char *f)
{
	size_t n = strlen(f);

	if (n == 0 || n > MAX_FILENAME || strchr(f, '/') != NULL || f[0] == '.')
		return 0;
	return mm_endswith(f, ".lua") || mm_endswith(f, ".yaml") || mm_endswith(f, ".yml");
}

/* Validates every file of the request into job->v.  On failure replies
 * itself and returns non-zero. */
static int validate_all(struct mm_http_req *req, json_t *files, struct apply_job *job)
{
	struct mm_engine *e;
	struct mm_policy_list list = { 0 };
	char *err = NULL;
	size_t i, k, alloc = 0;
	int status = 422, r = MM_ERR_PARSE;
	const char *what = "policy refused";

	if ((e = validation_engine(&err)) == NULL) {
		status = 500;
		what = "internal error";
		goto out;
	}
	for (i = 0; i < json_array_size(files); i++) {
		json_t *f = json_array_get(files, i);
		const char *filename = json_string_value(json_object_get(f, "filename"));
		const char *source = json_string_value(json_object_get(f, "source"));
		size_t first = list.n;

		if (!json_is_object(f) || filename == NULL || source == NULL) {
			status = 400;
			what = "bad request";
			if (asprintf(&err, "policies[%zu]: needs \"filename\" and \"source\" strings",
				     i) < 0)
				err = NULL;
			goto out;
		}
		if (!filename_ok(filename)) {
			status = 400;
			what = "bad request";
			if (asprintf(&err, "policies[%zu]: filename must be a base name ending in "
				     ".lua, .yaml or .yml", i) < 0)
				err = NULL;
			goto out;
		}
		if (mm_endswith(filename, ".lua"))
			r = mm_policy_load_lua(filename, source, strlen(source), NULL, &list, &err);
		else
			r = mm_policy_parse_yaml(filename, source, strlen(source), &list, &err);
		if (r != 0)
			goto out;
		for (k = first; k < list.n; k++) {
			const struct mm_policy *p = list.v[k];
			size_t m;
			if (p->kind == MM_POLICY_SQL)
				r = prepare_check(e, filename, p->id, p->sql, &err);
			else
				r = lua_query_literals(p->source, p->source_len, e, filename, p->id,
						       &err);
			if (r != 0)
				goto out;
			for (m = 0; m < job->n; m++) {
				if (strcmp(job->v[m].policy, p->id) == 0) {
					r = MM_ERR_PARSE;
					if (asprintf(&err, "%s: policy %s: the id is also in %s",
						     filename, p->id, job->v[m].filename) < 0)
						err = NULL;
					goto out;
				}
			}
			if (job->n == MAX_POLICIES_PER_APPLY) {
				status = 413;
				what = "too many policies";
				r = MM_ERR_TOOBIG;
				goto out;
			}
			if (job->n == alloc) {
				size_t want = alloc ? alloc * 2 : 16;
				struct pol_rec *nv = realloc(job->v, want * sizeof(*nv));
				if (nv == NULL) {
					r = MM_ERR_NOMEM;
					goto out;
				}
				job->v = nv;
				alloc = want;
			}
			memset(&job->v[job->n], 0, sizeof(job->v[0]));
			job->n++;
			if ((r = pol_rec_fill(&job->v[job->n - 1], p, filename, source)) != 0)
				goto out;
		}
	}
	if (job->n == 0) {
		r = MM_ERR_PARSE;
		status = 400;
		what = "bad request";
		err = strdup("no policies in the request");
		goto out;
	}
	r = 0;
out:
	mm_policy_list_free(&list);
	if (r != 0) {
		if (r == MM_ERR_NOMEM) {
			status = 500;
			what = "out of memory";
		}
		mm_http_reply_error(req, status, what, err);
	}
	free(err);
	return r;
}

/* ---- storing --------------------------------------------------------------- */

static int apply_run(sqlite3 *db, void *arg, char **err)
{
	struct apply_job *j = arg;
	sqlite3_stmt *ex = NULL, *up = NULL;
	const struct mm_actor *a = &j->base.actor.a;
	json_t *names = json_array();
	int64_t now = mm_now();
	size_t i;
	int r = MM_ERR_SQL;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM policies WHERE policy = ?", -1, &ex, NULL) ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO policies(policy, title, description, severity, kind,"
			       " platform, interval, remediation, meta, filename, source,"
			       " created_at, updated_at, updated_by)"
			       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?12,?13)"
			       " ON CONFLICT(policy) DO UPDATE SET title=?2, description=?3,"
			       " severity=?4, kind=?5, platform=?6, interval=?7, remediation=?8,"
			       " meta=?9, filename=?10, source=?11, updated_at=?12, updated_by=?13",
			       -1, &up, NULL))
		goto sqlerr;
	for (i = 0; i < j->n; i++) {
		struct pol_rec *p = &j->v[i];
		sqlite3_bind_text(ex, 1, p->policy, -1, SQLITE_STATIC);
		p->created = sqlite3_step(ex) != SQLITE_ROW;
		sqlite3_reset(ex);
		sqlite3_bind_text(up, 1, p->policy, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, p->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 3, p->description, -1, SQLITE_STATIC);
		sqlite3_bind_int(up, 4, p->severity);
		sqlite3_bind_text(up, 5, p->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 6, p->platform, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 7, p->interval);
		sqlite3_bind_text(up, 8, p->remediation, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 9, p->meta, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 10, p->filename, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 11, p->source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 12, now);
		sqlite3_bind_text(up, 13, a->name, -1, SQLITE_STATIC);
		if (sqlite3_step(up) != SQLITE_DONE)
			goto sqlerr;
		sqlite3_reset(up);
		json_array_append_new(names, json_string(p->policy));
	}
	{
		json_t *d = json_pack("{s:o}", "policies", names);
		names = NULL;
		r = mm_audit_insert(db, a, "policy.apply", "", d, 200);
		json_decref(d);
		if (r != 0)
			goto out;
	}
	r = 0;
	goto out;
sqlerr:
	*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
	r = MM_ERR_SQL;
out:
	json_decref(names);
	sqlite3_finalize(ex);
	sqlite3_finalize(up);
	return r;
}

static void apply_ok(struct op_job *base)
{
	struct apply_job *j = (struct apply_job *)base;
	json_t *applied = json_array();
	size_t i;

	base->srv->config_gen++;
	for (i = 0; i < j->n; i++)
		json_array_append_new(applied,
				      json_pack("{s:s,s:s,s:s,s:b}", "policy", j->v[i].policy, "kind",
						j->v[i].kind, "filename", j->v[i].filename, "created",
						j->v[i].created));
	mm_http_reply_json(base->req, 200, json_pack("{s:o}", "applied", applied));
}

/* POST /api/v1/policies {"policies": [{"filename", "source"}...]} */
static void policies_apply(struct mm_server *srv, struct mm_http_req *req,
			   const struct mm_actor *actor)
{
	json_t *body = mm_http_json_body(req, 0), *files;
	struct apply_job *j = NULL;

	if (body == NULL)
		return;
	files = json_object_get(body, "policies");
	if (!json_is_array(files) || json_array_size(files) == 0) {
		mm_http_reply_error(req, 400, "bad request",
				    "expected {\"policies\": [{\"filename\", \"source\"}, ...]}");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    op_job_init(&j->base, srv, req, actor, apply_ok, apply_job_free) != 0) {
		free(j);
		j = NULL;
		mm_http_reply_error(req, 500, "out of memory", NULL);
		goto out;
	}
	if (validate_all(req, files, j) != 0) {
		json_t *d = json_pack("{s:s}", "reason", "validation failed");
		mm_audit_log(srv, actor, actor->address, "policy.apply", "", d, 422);
		goto out;
	}
	op_job_submit(&j->base, apply_run); /* takes j over */
	j = NULL;
out:
	if (j != NULL) {
		op_actor_clear(&j->base.actor);
		apply_job_free(&j->base);
	}
	json_decref(body);
}

/* ---- reading ----------------------------------------------------------------- */

static void policies_list(struct mm_server *srv, struct mm_http_req *req,
			  const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT policy, title, severity, kind, platform, interval,"
				   " filename, updated_at, updated_by FROM policies"
				   " ORDER BY severity, policy", -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		json_decref(a);
		return;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "policy",
				     op_col_json(st, 0), "title", op_col_json(st, 1), "severity",
				     mm_severity_name(sqlite3_column_int(st, 2)), "kind",
				     op_col_json(st, 3), "platform", op_col_json(st, 4), "interval",
				     op_col_json(st, 5), "filename", op_col_json(st, 6), "updated_at",
				     op_col_json(st, 7), "updated_by", op_col_json(st, 8)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		op_reply_db_error(req, db);
		json_decref(a);
		return;
	}
	mm_http_reply_json(req, 200, json_pack("{s:o}", "policies", a));
}

static void policies_show(struct mm_server *srv, struct mm_http_req *req,
			  const struct mm_actor *actor)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	const char *id = mm_http_path_rest(req);
	json_t *meta;

	if (sqlite3_prepare_v2(db, "SELECT policy, title, description, severity, kind, platform,"
				   " interval, remediation, meta, filename, source, created_at,"
				   " updated_at, updated_by FROM policies WHERE policy = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		mm_http_reply_error(req, 404, "no such policy", id);
		return;
	}
	meta = json_loads((const char *)sqlite3_column_text(st, 8), 0, NULL);
	if (meta == NULL)
		meta = json_object();
	json_object_update(meta, json_pack("{s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
					   "policy", op_col_json(st, 0), "title", op_col_json(st, 1),
					   "description", op_col_json(st, 2), "severity",
					   mm_severity_name(sqlite3_column_int(st, 3)), "kind",
					   op_col_json(st, 4), "platform", op_col_json(st, 5),
					   "interval", op_col_json(st, 6), "remediation",
					   op_col_json(st, 7), "filename", op_col_json(st, 9), "source",
					   op_col_json(st, 10), "created_at", op_col_json(st, 11),
					   "updated_at", op_col_json(st, 12), "updated_by",
					   op_col_json(st, 13)));
	sqlite3_finalize(st);
	mm_http_reply_json(req, 200, json_pack("{s:o}", "policy", meta));
}

/* ---- deleting ---------------------------------------------------------------- */

struct delete_job {
	struct op_job base; /* first */
	char *policy;
};

static void delete_free(struct op_job *base)
{
	struct delete_job *j = (struct delete_job *)base;

	free(j->policy);
	free(j);
}

static int delete_run(sqlite3 *db, void *arg, char **err)
{
	struct delete_job *j = arg;
	static const char *const sql[] = {
		"DELETE FROM policies WHERE policy = ?",
		"DELETE FROM verdicts WHERE policy = ?",
		"DELETE FROM policy_counts WHERE policy = ?",
	};
	size_t i;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = NULL;
		int rc;
		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return op_sqlerr(db, err);
		sqlite3_bind_text(st, 1, j->policy, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return op_sqlerr(db, err);
		if (i == 0 && sqlite3_changes(db) == 0)
			return op_job_refuse(&j->base, 404, MM_ERR_NOTFOUND, "no such policy",
					     j->policy);
	}
	return mm_audit_insert(db, &j->base.actor.a, "policy.delete", j->policy, NULL, 200);
}

static void delete_ok(struct op_job *base)
{
	struct delete_job *j = (struct delete_job *)base;

	base->srv->config_gen++;
	mm_http_reply_json(base->req, 200, json_pack("{s:s}", "deleted", j->policy));
}

static void policies_delete(struct mm_server *srv, struct mm_http_req *req,
			    const struct mm_actor *actor)
{
	struct delete_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->policy = strdup(mm_http_path_rest(req))) == NULL ||
	    op_job_init(&j->base, srv, req, actor, delete_ok, delete_free) != 0) {
		if (j != NULL)
			free(j->policy);
		free(j);
		mm_http_reply_error(req, 500, "out of memory", NULL);
		return;
	}
	op_job_submit(&j->base, delete_run);
}

static const struct mm_route routes[] = {
	{ "GET", "/api/v1/policies", MM_ROLES_READ, policies_list },
	{ "POST", "/api/v1/policies", MM_ROLES_WRITE, policies_apply },
	{ "GET", "/api/v1/policies/*", MM_ROLES_READ, policies_show },
	{ "DELETE", "/api/v1/policies/*", MM_ROLES_WRITE, policies_delete },
	{ NULL, NULL, 0, NULL },
};

const struct mm_api mm_api_policies = { "policies", routes };
