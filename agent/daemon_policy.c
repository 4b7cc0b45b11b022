/*
 * daemon_policy.c - the compliance policies the coordinator gives the daemon
 * in its config (docs/agent.md, "Policies"):
 *
 *   "mamori": {"host_id": N, "policies": [{"policy": ID, "kind": "lua"|"sql",
 *              "filename": "ID.lua" | "file.yaml", "source": TEXT,
 *              "interval": SECONDS}]}
 *
 * A Lua entry's source is the policy file; an SQL entry's source is the whole
 * Fleet YAML file it came from, which may hold several policies: the one
 * whose id is the entry's is taken.  Each config refresh rebuilds the set;
 * an entry whose source did not change (same SHA-256 over kind, filename and
 * source) keeps its loaded policy and its schedule, so only changed policies
 * are loaded again.  A policy that does not load stays in the set and
 * reports an `error` verdict naming the load error.
 *
 * Evaluation goes through mm_policy_eval on the daemon's engine; the verdict
 * is then shaped for storage and the coordinator: reason and rows capped,
 * text made valid UTF-8.  The verdict bookkeeping itself (latest verdict per
 * policy, sent or not, reports) lives in the state DB (daemon_state.c); the
 * scheduling and the sending in cmd_daemon.c.
 */
#include "daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "error.h"
#include "policy.h"
#include "strutil.h"

#define ID_MAX           255
#define FILENAME_MAX_LEN 255
#define INTERVAL_MAX     604800

/* ---- text helpers --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid, as
 * jansson holds them. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp;
	size_t len, i;

	if (c < 0x80)
		return c != 0 ? 1 : 0;
	if ((c >> 5) == 0x6) {
		len = 2;
		cp = c & 0x1f;
	} else if ((c >> 4) == 0xe) {
		len = 3;
		cp = c & 0x0f;
	} else if ((c >> 3) == 0x1e) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void mm_utf8_cut(char *s, size_t max)
{
	size_t i;

	if (strlen(s) <= max)
		return;
	/* Back up over continuation bytes to the start of the sequence that
	 * would be split. */
	for (i = max; i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80; i--)
		;
	s[i] = '\0';
}

/* A copy of s with every byte that is not valid UTF-8 replaced by U+FFFD.
 * NULL on out-of-memory. */
static char *utf8_clean(const char *s)
{
	struct mm_buf b;
	size_t i = 0, n = strlen(s), len;

	mm_buf_init(&b, n * 3 + 16);
	while (i < n) {
		if ((len = utf8_seq((const unsigned char *)s + i, n - i)) > 0) {
			if (mm_buf_add(&b, s + i, len) != 0)
				goto nomem;
			i += len;
		} else {
			if (mm_buf_adds(&b, "\xef\xbf\xbd") != 0)
				goto nomem;
			i++;
		}
	}
	return mm_buf_take(&b);
nomem:
	mm_buf_free(&b);
	return NULL;
}

/* ---- the policy set ------------------------------------------------------------- */

static void dpolicy_clear(struct mm_dpolicy *dp)
{
	free(dp->id);
	free(dp->kind);
	free(dp->filename);
	mm_policy_free(dp->p);
	free(dp->load_err);
	memset(dp, 0, sizeof(*dp));
}

void mm_dpolicies_free(struct mm_dpolicies *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		dpolicy_clear(&s->v[i]);
	free(s->v);
	free(s);
}

/* SHA-256 (hex) of kind NUL filename NUL source into hash (65 bytes). */
static void source_hash(const char *kind, const char *filename, const char *src, size_t len,
                        char *hash)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	hash[0] = '\0';
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, kind, strlen(kind) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, filename, strlen(filename) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, src, len) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1)
		for (i = 0; i < mdlen && i < 32; i++)
			snprintf(hash + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
}

/* A policy id we can use as a key and in messages: 1..255 bytes, no
 * control characters. */
static int id_ok(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			return 0;
	return 1;
}

/* Sets dp->load_err to "what" (printf-style).  Returns 0 or MM_ERR_NOMEM. */
static int load_error(struct mm_dpolicy *dp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int load_error(struct mm_dpolicy *dp, const char *fmt, ...)
{
	struct mm_buf b;
	va_list ap;

	mm_buf_init(&b, 1 << 16); /* the reason is cut to MM_VERDICT_MAX_REASON later */
	va_start(ap, fmt);
	mm_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(dp->load_err);
	dp->load_err = mm_buf_take(&b);
	return dp->load_err != NULL ? 0 : MM_ERR_NOMEM;
}

/* Loads dp from its source.  A failure goes to dp->load_err; returns
 * MM_ERR_NOMEM only when not even that can be kept. */
static int dpolicy_load(struct mm_dpolicy *dp, const char *src, size_t len,
                        const struct mm_policy_limits *lim)
{
	struct mm_policy_list list = {NULL, 0, 0};
	char *err = NULL;
	size_t i;
	int r = 0;

	if (strcmp(dp->kind, "lua") == 0) {
		if (mm_policy_load_lua(dp->filename, src, len, lim, &list, &err) != 0) {
			r = load_error(dp, "%s", err != NULL ? err : "out of memory");
			goto out;
		}
		if (list.n == 1) {
			dp->p = list.v[0];
			list.v[0] = NULL;
			list.n = 0;
		}
	} else if (strcmp(dp->kind, "sql") == 0) {
		if (mm_policy_parse_yaml(dp->filename, src, len, &list, &err) != 0) {
			r = load_error(dp, "%s", err != NULL ? err : "out of memory");
			goto out;
		}
		for (i = 0; i < list.n; i++)
			if (list.v[i] != NULL && strcmp(list.v[i]->id, dp->id) == 0) {
				dp->p = list.v[i];
				list.v[i] = NULL;
				break;
			}
		if (dp->p == NULL)
			r = load_error(dp, "%s: no policy with id '%s' in the file", dp->filename,
			               dp->id);
	} else {
		r = load_error(dp, "%s: unknown policy kind '%s' (expected lua or sql)",
		               dp->filename, dp->kind);
	}
	if (r == 0 && dp->p == NULL && dp->load_err == NULL)
		r = load_error(dp, "%s: no policy in the file", dp->filename);
out:
	mm_policy_list_free(&list);
	free(err);
	return r;
}

/* A string member, "" when absent or not a string. */
static const char *member_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* The interval of an entry: an integer or a numeric string, 1..604800;
 * anything else gives the default (logged). */
static int64_t member_interval(json_t *o, const char *id)
{
	json_t *j = json_object_get(o, "interval");
	int64_t v = 0;

	if (j == NULL || json_is_null(j))
		return MM_DPOLICY_INTERVAL;
	if (json_is_integer(j))
		v = (int64_t)json_integer_value(j);
	else if (json_is_string(j) && mm_parse_i64(json_string_value(j), &v) != 0)
		v = -1;
	if (v == 0)
		return MM_DPOLICY_INTERVAL;
	if (v < 1 || v > INTERVAL_MAX) {
		mm_dlog(MM_DLOG_WARN, "policy %s: bad interval, using %d s", id,
		        MM_DPOLICY_INTERVAL);
		return MM_DPOLICY_INTERVAL;
	}
	return v;
}

static struct mm_dpolicy *find_old(struct mm_dpolicies *old, const char *id)
{
	size_t i;

	for (i = 0; old != NULL && i < old->n; i++)
		if (old->v[i].id != NULL && strcmp(old->v[i].id, id) == 0)
			return &old->v[i];
	return NULL;
}

int mm_dpolicies_update(json_t *list, struct mm_dpolicies *old, const struct mm_policy_limits *lim,
                        struct mm_dpolicies **out)
{
	struct mm_dpolicies *s = NULL;
	size_t i, j, n = json_is_array(list) ? json_array_size(list) : 0;
	json_t *o;
	int r = MM_ERR_NOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MM_ERR_NOMEM;
	if (n > MM_DPOLICY_MAX) {
		mm_dlog(MM_DLOG_WARN, "config: %zu policies, only the first %d are used", n,
		        MM_DPOLICY_MAX);
		n = MM_DPOLICY_MAX;
	}
	if (n > 0 && (s->v = calloc(n, sizeof(*s->v))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		struct mm_dpolicy *dp = &s->v[s->n], *od;
		const char *id, *kind, *filename, *src;
		json_t *jsrc;
		size_t len;
		int dup = 0;

		o = json_array_get(list, i);
		id = member_str(o, "policy");
		if (!json_is_object(o) || !id_ok(id)) {
			mm_dlog(MM_DLOG_WARN,
			        "config: policies[%zu]: no usable \"policy\" id, skipped", i);
			continue;
		}
		for (j = 0; j < s->n && !dup; j++)
			dup = strcmp(s->v[j].id, id) == 0;
		if (dup) {
			mm_dlog(MM_DLOG_WARN, "config: policy %s is given twice; the first is used",
			        id);
			continue;
		}
		kind = member_str(o, "kind");
		filename = member_str(o, "filename");
		jsrc = json_object_get(o, "source");
		src = json_is_string(jsrc) ? json_string_value(jsrc) : "";
		len = json_is_string(jsrc) ? json_string_length(jsrc) : 0;
		s->n++; /* from here on freed with the set */
		if ((dp->id = strdup(id)) == NULL || (dp->kind = strdup(kind)) == NULL ||
		    (dp->filename = strdup(filename[0] != '\0' ? filename : id)) == NULL)
			goto out;
		mm_utf8_cut(dp->filename, FILENAME_MAX_LEN);
		dp->interval = member_interval(o, id);
		source_hash(kind, filename, src, len, dp->hash);
		od = find_old(old, id);
		if (od != NULL && strcmp(od->hash, dp->hash) == 0 && dp->hash[0] != '\0') {
			/* Unchanged: keep what was loaded, and when it runs. */
			dp->p = od->p;
			od->p = NULL;
			dp->load_err = od->load_err;
			od->load_err = NULL;
			dp->due_ms = od->due_ms;
			continue;
		}
		dp->fresh = 1;
		if (!json_is_string(jsrc))
			r = load_error(dp, "%s: no source in the coordinator's config",
			               dp->filename);
		else if (len > MM_POLICY_FILE_CAP)
			r = load_error(dp, "%s: larger than %zu bytes", dp->filename,
			               (size_t)MM_POLICY_FILE_CAP);
		else
			r = dpolicy_load(dp, src, len, lim);
		if (r != 0)
			goto out;
		if (dp->load_err != NULL)
			mm_dlog(MM_DLOG_WARN, "policy %s does not load: %s", id, dp->load_err);
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	mm_dpolicies_free(s);
	return r;
}

/* ---- verdicts ---------------------------------------------------------------------- */

int mm_verdict_rows_cap(const char *rows, char **out)
{
	json_t *j = NULL, *a = NULL, *row;
	size_t i, total, bytes = 0;
	int r = MM_ERR_NOMEM;

	*out = NULL;
	if (rows == NULL || (j = json_loads(rows, JSON_DECODE_ANY, NULL)) == NULL)
		return 0;
	if (!json_is_array(j)) {
		a = json_array();
		if (a == NULL || json_array_append(a, j) != 0)
			goto out;
		json_decref(j);
		j = a;
		a = NULL;
	}
	total = json_array_size(j);
	if ((a = json_array()) == NULL)
		goto out;
	for (i = 0; i < total && i < MM_VERDICT_MAX_ROWS; i++) {
		char *t;
		size_t len;

		row = json_array_get(j, i);
		if ((t = json_dumps(row, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)) ==
		    NULL)
			goto out;
		len = strlen(t) + 1;
		free(t);
		if (bytes + len > MM_VERDICT_MAX_ROWS_BYTES)
			break;
		bytes += len;
		if (json_array_append(a, row) != 0)
			goto out;
	}
	if (i < total) {
		char note[64];
		snprintf(note, sizeof(note), "%zu of %zu rows sent", i, total);
		if (json_array_append_new(a, json_pack("{s:s}", "mamori_truncated", note)) != 0)
			goto out;
	}
	if ((*out = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	r = 0;
out:
	json_decref(a);
	json_decref(j);
	return r;
}

int mm_dpolicy_eval(const struct mm_dpolicy *dp, struct mm_engine *e,
                    const struct mm_policy_limits *lim, int64_t now, struct mm_vrec *out)
{
	struct mm_verdict *v = NULL;
	char *reason = NULL;
	int r = MM_ERR_NOMEM;

	memset(out, 0, sizeof(*out));
	if ((out->policy = strdup(dp->id)) == NULL)
		goto out;
	out->evaluated_at = now;
	if (dp->p == NULL) {
		struct mm_buf b;

		out->verdict = mm_verdict_name(MM_VERDICT_ERROR);
		mm_buf_init(&b, 2 * MM_VERDICT_MAX_REASON);
		mm_buf_adds(&b, "the policy does not load: ");
		mm_buf_add(
		    &b, dp->load_err != NULL ? dp->load_err : "?",
		    strnlen(dp->load_err != NULL ? dp->load_err : "?", MM_VERDICT_MAX_REASON));
		if ((reason = mm_buf_take(&b)) == NULL)
			goto out;
	} else {
		if ((r = mm_policy_eval(dp->p, e, lim, &v)) != 0)
			goto out;
		r = MM_ERR_NOMEM;
		out->verdict = mm_verdict_name(v->verdict);
		if ((reason = strdup(v->reason != NULL ? v->reason : "")) == NULL ||
		    mm_verdict_rows_cap(v->rows_json, &out->rows) != 0)
			goto out;
	}
	mm_utf8_cut(reason, MM_VERDICT_MAX_REASON);
	if ((out->reason = utf8_clean(reason)) == NULL)
		goto out;
	mm_utf8_cut(out->reason, MM_VERDICT_MAX_REASON);
	r = 0;
out:
	free(reason);
	mm_verdict_free(v);
	if (r != 0)
		mm_vrec_clear(out);
	return r;
}

char *mm_verdicts_body(int full, json_t *verdicts, size_t *len)
{
	json_t *o = json_object();
	char *s = NULL;

	*len = 0;
	if (o != NULL && json_object_set_new(o, "full", json_boolean(full)) == 0 &&
	    json_object_set(o, "verdicts", verdicts) == 0 &&
	    (s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL)
		*len = strlen(s);
	json_decref(o);
	return s;
}
