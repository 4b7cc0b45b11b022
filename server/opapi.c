/*
 * opapi.c - helpers shared by the operator API handlers; see opapi.h.
 */
#include "opapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "strutil.h"

int op_actor_copy(struct op_actor *dst, const struct mm_actor *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src == NULL)
		return 0;
	dst->a = *src;
	dst->name = mm_strdup0(src->name);
	dst->address = mm_strdup0(src->address);
	if ((src->name != NULL && dst->name == NULL) ||
	    (src->address != NULL && dst->address == NULL)) {
		op_actor_clear(dst);
		return MM_ERR_NOMEM;
	}
	dst->a.name = dst->name;
	dst->a.address = dst->address;
	return 0;
}

void op_actor_clear(struct op_actor *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->address);
	memset(a, 0, sizeof(*a));
}

int op_job_init(struct op_job *j, struct mm_server *srv, struct mm_http_req *req,
		const struct mm_actor *actor, op_job_ok_fn ok, op_job_free_fn free_fn)
{
	j->srv = srv;
	j->req = req;
	j->fail_status = 0;
	j->fail_msg[0] = '\0';
	j->fail_detail[0] = '\0';
	j->ok = ok;
	j->free = free_fn;
	return op_actor_copy(&j->actor, actor);
}

int op_job_refuse(struct op_job *j, int status, int code, const char *msg, const char *detail)
{
	j->fail_status = status;
	snprintf(j->fail_msg, sizeof(j->fail_msg), "%s", msg);
	snprintf(j->fail_detail, sizeof(j->fail_detail), "%s", detail != NULL ? detail : "");
	return code;
}

/* The store's done callback for every op_job (loop thread). */
static void job_done(void *arg, int rc, const char *err)
{
	struct op_job *j = arg;

	if (rc == 0) {
		j->ok(j);
	} else if (j->fail_status != 0) {
		mm_http_reply_error(j->req, j->fail_status, j->fail_msg,
				    j->fail_detail[0] != '\0' ? j->fail_detail : NULL);
	} else if (rc == MM_ERR_LIMIT || rc == MM_ERR_NOMEM) {
		mm_http_reply_error(j->req, 503, "store busy, retry", err);
	} else {
		mm_http_reply_error(j->req, 500, "store error", err);
	}
	mm_http_release(j->req);
	op_actor_clear(&j->actor);
	j->free(j);
}

void op_job_submit(struct op_job *j, mm_store_job_fn fn)
{
	int r;

	mm_http_keep(j->req, NULL, NULL);
	if ((r = mm_store_submit(j->srv->store, fn, job_done, j)) != 0) {
		mm_http_reply_error(j->req, 503, "store queue full, retry later", NULL);
		mm_http_release(j->req);
		op_actor_clear(&j->actor);
		j->free(j);
	}
}

int op_sqlerr(sqlite3 *db, char **err)
{
	if (err != NULL && *err == NULL)
		*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
	return MM_ERR_SQL;
}

json_t *op_col_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL: return json_null();
	case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
	default: return json_string((const char *)sqlite3_column_text(st, i));
	}
}

void op_reply_db_error(struct mm_http_req *req, sqlite3 *db)
{
	mm_http_reply_error(req, 500, "store error", sqlite3_errmsg(db));
}

void op_reply_list(struct mm_http_req *req, const char *key, sqlite3_stmt *st, int64_t limit,
		   int paged)
{
	struct mm_buf b;
	int64_t n = 0, last = 0;
	int r = 0, rc = SQLITE_DONE, full = 0;
	sqlite3 *db = sqlite3_db_handle(st);

	mm_buf_init(&b, OP_REPLY_CAP);
	r = mm_buf_addf(&b, "{\"%s\":[", key);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);

		if (paged && n >= limit) {
			full = 1; /* one more row than the page: there is a next page */
			break;
		}
		if (row == NULL)
			continue;
		/* Leave room for the closing part ("],\"next_after\":" + id + "}"). */
		if (b.len + len + 64 > b.cap) {
			full = 1;
			break;
		}
		if (n > 0)
			r = mm_buf_addc(&b, ',');
		if (r == 0)
			r = mm_buf_add(&b, row, len);
		last = sqlite3_column_int64(st, 0);
		n++;
	}
	if (r == 0 && !full && rc != SQLITE_DONE) {
		op_reply_db_error(req, db);
		goto out;
	}
	if (r == 0 && !paged && full) {
		mm_http_reply_error(req, 500, "reply too large", "the list is over the reply cap");
		goto out;
	}
	if (r == 0) {
		if (!paged)
			r = mm_buf_adds(&b, "]}");
		else if (full && n > 0)
			r = mm_buf_addf(&b, "],\"next_after\":%lld}", (long long)last);
		else
			r = mm_buf_adds(&b, "],\"next_after\":null}");
	}
	if (r != 0) {
		mm_http_reply_error(req, 500, "reply too large", mm_strerror(r));
		goto out;
	}
	mm_http_reply(req, 200, "application/json", b.data, b.len);
out:
	sqlite3_finalize(st);
	mm_buf_free(&b);
}

int op_is_id(const char *s, int64_t *id)
{
	int64_t v;
	const char *p;

	if (s == NULL || *s == '\0' || *s == '0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	if (mm_parse_i64(s, &v) != 0 || v <= 0)
		return 0;
	if (id != NULL)
		*id = v;
	return 1;
}

int op_param_i64(struct mm_http_req *req, const char *name, int64_t min, int64_t max,
		 int64_t def, int64_t *out)
{
	const char *s = mm_http_query(req, name);
	char detail[160];
	int64_t v;

	if (s == NULL || *s == '\0') {
		*out = def;
		return 0;
	}
	if (mm_parse_i64(s, &v) != 0 || v < min || v > max) {
		snprintf(detail, sizeof(detail), "%s must be an integer from %lld to %lld", name,
			 (long long)min, (long long)max);
		mm_http_reply_error(req, 400, "bad query parameter", detail);
		return -1;
	}
	*out = v;
	return 0;
}

int op_name_ok(const char *s)
{
	size_t n;

	if (s == NULL || *s == '\0' || *s == '.' || *s == '-')
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= OP_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

const char *op_json_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}
