/*
 * daemon_sched.c - the schedule: which queries this host runs and when,
 * from the coordinator's config document (osquery's shape):
 *
 *   {"options": {"pack_delimiter": "/", "pack_refresh_interval": 3600, ...},
 *    "schedule": {NAME: {"query", "interval", "snapshot", "removed", ...}},
 *    "packs": {PACK: {"platform", "shard", "discovery": [SQL...],
 *                     "queries": {NAME: {...}}}}}
 *
 * As osquery: a query without "query" or with an interval outside
 * 1..604800 s is skipped with a warning; "interval" defaults to 3600 and may
 * be a quoted number; booleans may be true/false, 0/1 or "true"/"false"; a
 * pack or query whose platform excludes Linux, or whose shard is below this
 * machine's shard, is left out; a pack given as a file path (a string) is
 * skipped.  "version" is not checked: it names osquery versions, which
 * Mamori's own numbering cannot be compared with.  Scheduled names are
 * "pack" D PACK D QUERY with D = pack_delimiter ("/" unless the config says
 * otherwise); top-level schedule entries keep their name.
 */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "error.h"
#include "strutil.h"

#define MAX_INTERVAL     604800
#define DEFAULT_INTERVAL 3600

void mm_schedule_free(struct mm_schedule *s)
{
	size_t i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nqueries; i++) {
		free(s->queries[i].name);
		free(s->queries[i].query);
	}
	free(s->queries);
	for (i = 0; i < s->npacks; i++) {
		free(s->packs[i].name);
		for (j = 0; j < s->packs[i].ndiscovery; j++)
			free(s->packs[i].discovery[j]);
		free(s->packs[i].discovery);
	}
	free(s->packs);
	free(s->delimiter);
	free(s);
}

int mm_machine_shard(const char *hostname)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_Digest(hostname, strlen(hostname), md, &len, EVP_sha1(), NULL) != 1 || len < 1)
		return 0;
	return (int)md[0] * 100 / 255;
}

int64_t mm_splay_ms(const char *name, const char *host_identifier, int64_t interval_s, int percent)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	uint64_t h = 0, span;
	EVP_MD_CTX *ctx;

	if (percent <= 0 || interval_s <= 0)
		return 0;
	span = (uint64_t)interval_s * 1000u * (uint64_t)percent / 100u;
	if (span == 0 || (ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, name, strlen(name) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, host_identifier, strlen(host_identifier)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &len) == 1)
		for (i = 0; i < 8 && i < len; i++)
			h = h << 8 | md[i];
	EVP_MD_CTX_free(ctx);
	return (int64_t)(h % (span + 1));
}

int mm_platform_matches(const char *platform)
{
	static const char *const ours[] = {"any",    "all",    "linux", "posix",
	                                   "debian", "ubuntu", NULL};
	char buf[256], *f[16];
	int n, i, j;

	if (platform == NULL || platform[0] == '\0' || strcmp(platform, "null") == 0)
		return 1;
	snprintf(buf, sizeof(buf), "%s", platform);
	n = mm_split_ws(buf, ", \t", f, 16);
	for (i = 0; i < n; i++)
		for (j = 0; ours[j] != NULL; j++)
			if (strcmp(f[i], ours[j]) == 0)
				return 1;
	return 0;
}

/* A JSON value as an integer: a number or a string of digits.  -1 when it
 * is neither. */
static int64_t to_int(const json_t *v)
{
	int64_t i;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	if (json_is_string(v) && mm_parse_i64(json_string_value(v), &i) == 0)
		return i;
	return -1;
}

/* A JSON value as a boolean: true/false, numbers, "true"/"false"/"1"/"0". */
static int to_bool(const json_t *v, int dflt)
{
	const char *s;

	if (v == NULL || json_is_null(v))
		return dflt;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_number(v))
		return json_number_value(v) != 0;
	if (json_is_string(v)) {
		s = json_string_value(v);
		if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
			return 1;
		if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
			return 0;
	}
	return dflt;
}

/* Whether a shard restriction lets this machine in (osquery: shards falling
 * below the value are included). */
static int shard_ok(const json_t *v, int machine_shard)
{
	int64_t shard = v != NULL ? to_int(v) : 0;

	return !(shard > 0 && shard < machine_shard);
}

static int add_query(struct mm_schedule *s, size_t *alloc, const char *pack, int pack_idx,
                     const char *qname, json_t *q, int machine_shard)
{
	struct mm_sched_query *sq;
	const char *sql, *platform;
	struct mm_buf name;
	int64_t interval;
	json_t *iv;

	mm_buf_init(&name, 4096);
	if ((pack != NULL
	         ? mm_buf_addf(&name, "pack%s%s%s%s", s->delimiter, pack, s->delimiter, qname)
	         : mm_buf_adds(&name, qname)) != 0) {
		mm_dlog(MM_DLOG_WARN, "config: a query name is too long, skipped");
		goto skip;
	}
	if (name.len == 0) {
		mm_dlog(MM_DLOG_WARN, "config: a query without a name, skipped");
		goto skip;
	}
	if (!json_is_object(q)) {
		mm_dlog(MM_DLOG_WARN, "config: %s: not an object, skipped", mm_buf_str(&name));
		goto skip;
	}
	sql = json_string_value(json_object_get(q, "query"));
	if (sql == NULL || sql[0] == '\0') {
		mm_dlog(MM_DLOG_WARN, "config: %s: no query, skipped", mm_buf_str(&name));
		goto skip;
	}
	platform = json_string_value(json_object_get(q, "platform"));
	if (!mm_platform_matches(platform)) {
		mm_dlog(MM_DLOG_DEBUG, "config: %s: platform '%s' is not this one, skipped",
		        mm_buf_str(&name), platform);
		goto skip;
	}
	if (!shard_ok(json_object_get(q, "shard"), machine_shard)) {
		mm_dlog(MM_DLOG_DEBUG, "config: %s: this host is outside the shard, skipped",
		        mm_buf_str(&name));
		goto skip;
	}
	iv = json_object_get(q, "interval");
	interval = iv == NULL || json_is_null(iv) ? DEFAULT_INTERVAL : to_int(iv);
	if (interval <= 0 || interval > MAX_INTERVAL) {
		mm_dlog(MM_DLOG_WARN, "config: %s: bad interval, skipped (1 to %d seconds)",
		        mm_buf_str(&name), MAX_INTERVAL);
		goto skip;
	}
	if (s->nqueries == *alloc) {
		size_t want = *alloc ? *alloc * 2 : 16;
		struct mm_sched_query *nq = realloc(s->queries, want * sizeof(*nq));
		if (nq == NULL) {
			mm_buf_free(&name);
			return MM_ERR_NOMEM;
		}
		s->queries = nq;
		*alloc = want;
	}
	sq = &s->queries[s->nqueries];
	memset(sq, 0, sizeof(*sq));
	sq->name = mm_buf_take(&name);
	sq->query = strdup(sql);
	sq->interval = interval;
	sq->snapshot = to_bool(json_object_get(q, "snapshot"), 0);
	sq->removed = to_bool(json_object_get(q, "removed"), 1);
	sq->pack = pack_idx;
	s->nqueries++;
	if (sq->name == NULL || sq->query == NULL)
		return MM_ERR_NOMEM;
	return 0;
skip:
	mm_buf_free(&name);
	return 0;
}

static int add_pack(struct mm_schedule *s, size_t *qalloc, const char *pname, json_t *p,
                    int machine_shard)
{
	struct mm_sched_pack *sp;
	const char *platform, *qname;
	json_t *disc, *queries, *q;
	size_t i;
	int r, idx;

	if (!json_is_object(p)) {
		mm_dlog(MM_DLOG_WARN,
		        "config: pack %s: not an object (pack files are not read), skipped", pname);
		return 0;
	}
	platform = json_string_value(json_object_get(p, "platform"));
	if (!mm_platform_matches(platform)) {
		mm_dlog(MM_DLOG_DEBUG, "config: pack %s: platform '%s' is not this one", pname,
		        platform);
		return 0;
	}
	if (!shard_ok(json_object_get(p, "shard"), machine_shard)) {
		mm_dlog(MM_DLOG_DEBUG, "config: pack %s: this host is outside the shard", pname);
		return 0;
	}
	sp = realloc(s->packs, (s->npacks + 1) * sizeof(*sp));
	if (sp == NULL)
		return MM_ERR_NOMEM;
	s->packs = sp;
	sp = &s->packs[s->npacks];
	memset(sp, 0, sizeof(*sp));
	idx = (int)s->npacks++;
	if ((sp->name = strdup(pname)) == NULL)
		return MM_ERR_NOMEM;
	disc = json_object_get(p, "discovery");
	if (json_is_array(disc) && json_array_size(disc) > 0) {
		if ((sp->discovery = calloc(json_array_size(disc), sizeof(char *))) == NULL)
			return MM_ERR_NOMEM;
		for (i = 0; i < json_array_size(disc); i++) {
			const char *d = json_string_value(json_array_get(disc, i));
			if (d == NULL)
				continue;
			if ((sp->discovery[sp->ndiscovery] = strdup(d)) == NULL)
				return MM_ERR_NOMEM;
			sp->ndiscovery++;
		}
	}
	queries = json_object_get(p, "queries");
	if (queries == NULL)
		return 0;
	if (!json_is_object(queries)) {
		mm_dlog(MM_DLOG_WARN, "config: pack %s: \"queries\" is not an object", pname);
		return 0;
	}
	json_object_foreach(queries, qname, q)
	{
		if ((r = add_query(s, qalloc, pname, idx, qname, q, machine_shard)) != 0)
			return r;
	}
	return 0;
}

int mm_schedule_from_json(json_t *config, const char *hostname, struct mm_schedule **out,
                          char **err)
{
	struct mm_schedule *s = NULL;
	json_t *opts, *sched, *packs, *v;
	const char *key, *delim;
	size_t qalloc = 0;
	int r = MM_ERR_NOMEM, shard = mm_machine_shard(hostname != NULL ? hostname : "");
	int64_t refresh;

	*out = NULL;
	*err = NULL;
	if (!json_is_object(config)) {
		*err = strdup("the config is not a JSON object");
		return MM_ERR_PARSE;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	opts = json_object_get(config, "options");
	delim = json_string_value(json_object_get(opts, "pack_delimiter"));
	if (delim == NULL || strlen(delim) > 16)
		delim = "/";
	if ((s->delimiter = strdup(delim)) == NULL)
		goto out;
	refresh = to_int(json_object_get(opts, "pack_refresh_interval"));
	s->pack_refresh_ms = (refresh > 0 ? refresh : 3600) * 1000;
	sched = json_object_get(config, "schedule");
	if (json_is_object(sched))
		json_object_foreach(sched, key, v)
		{
			if ((r = add_query(s, &qalloc, NULL, -1, key, v, shard)) != 0)
				goto out;
		}
	packs = json_object_get(config, "packs");
	if (json_is_object(packs))
		json_object_foreach(packs, key, v)
		{
			if ((r = add_pack(s, &qalloc, key, v, shard)) != 0)
				goto out;
		}
	*out = s;
	s = NULL;
	r = 0;
out:
	mm_schedule_free(s);
	if (r == MM_ERR_NOMEM && *err == NULL)
		*err = strdup("out of memory");
	return r;
}
