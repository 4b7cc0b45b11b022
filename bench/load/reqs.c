/*
 * reqs.c - what mamori-load's simulated agents send and how it judges the
 * answers.
 *
 * Requests have osquery's shapes (DESIGN.md section 4, docs/api.md): enroll
 * with host_details, then node-key requests to /distributed/read, /config
 * and /log (result lines in osquery's event format).  Bodies are written
 * with printf-style appends into reused buffers: the generator must stay
 * cheap next to the coordinator it measures.  Everything interpolated is
 * either ours (host identifiers from a checked prefix), a checked node key
 * (see key_ok) or the pre-escaped enroll secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "error.h"
#include "load.h"

const char *const ld_req_names[LD_R_COUNT] = {"enroll", "read", "config", "log", "write"};
static const char *const paths[LD_R_COUNT] = {
    "/api/v1/osquery/enroll", "/api/v1/osquery/distributed/read",  "/api/v1/osquery/config",
    "/api/v1/osquery/log",    "/api/v1/osquery/distributed/write",
};

void ld_clock_update(struct ld_clock *c)
{
	time_t now = time(NULL);
	struct tm tm;

	if ((int64_t)now == c->unix_s)
		return;
	c->unix_s = (int64_t)now;
	gmtime_r(&now, &tm);
	if (strftime(c->calendar, sizeof(c->calendar), "%a %b %e %H:%M:%S %Y UTC", &tm) == 0)
		c->calendar[0] = '\0';
}

/* A stable per-host UUID from the index (and the prefix, so two prefixes
 * do not collide). */
static void host_uuid(const char *prefix, int ai, char out[37])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = prefix; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	snprintf(out, 37, "%08x-0000-4000-8000-%012x", h, (unsigned)ai);
}

static int enroll_body(const struct ld_run *run, int ai, struct mm_buf *b)
{
	const struct ld_opts *o = run->o;
	char uuid[37];

	host_uuid(o->host_prefix, ai, uuid);
	return mm_buf_addf(
	    b,
	    "{\"enroll_secret\":%s,\"host_identifier\":\"%s%06d\",\"platform_type\":\"9\","
	    "\"host_details\":{"
	    "\"os_version\":{\"name\":\"Debian GNU/Linux\",\"version\":\"12 (bookworm)\","
	    "\"major\":\"12\",\"minor\":\"0\",\"patch\":\"0\",\"build\":\"\","
	    "\"platform\":\"debian\",\"platform_like\":\"debian\",\"codename\":\"bookworm\","
	    "\"arch\":\"x86_64\"},"
	    "\"osquery_info\":{\"version\":\"5.10.2\",\"build_platform\":\"ubuntu\","
	    "\"build_distro\":\"focal\",\"config_valid\":\"1\",\"extensions\":\"active\","
	    "\"instance_id\":\"%s\",\"pid\":\"%d\",\"platform_mask\":\"9\","
	    "\"start_time\":\"%lld\",\"uuid\":\"%s\",\"watcher\":\"-1\"},"
	    "\"system_info\":{\"computer_name\":\"%s%06d\",\"cpu_brand\":\"QEMU Virtual CPU\","
	    "\"cpu_logical_cores\":\"2\",\"cpu_physical_cores\":\"2\",\"cpu_type\":\"x86_64\","
	    "\"hardware_model\":\"Standard PC (Q35 + ICH9, 2009)\",\"hardware_vendor\":\"QEMU\","
	    "\"hostname\":\"%s%06d\",\"local_hostname\":\"%s%06d\","
	    "\"physical_memory\":\"4294967296\",\"uuid\":\"%s\"},"
	    "\"platform_info\":{\"vendor\":\"SeaBIOS\",\"version\":\"1.16.2-debian-1.16.2-1\","
	    "\"date\":\"04/01/2014\"}}}",
	    run->secret_json, o->host_prefix, ai, uuid, 1000 + ai % 30000, (long long)time(NULL),
	    uuid, o->host_prefix, ai, o->host_prefix, ai, o->host_prefix, ai, uuid);
}

/* One result line in osquery's event format. */
static int log_line(const struct ld_run *run, int ai, const struct ld_agent *a, int i,
                    const struct ld_clock *clk, struct mm_buf *b)
{
	const struct ld_opts *o = run->o;
	char uuid[37];
	int pid = 100 + (int)((a->logs * 7u + (unsigned)i * 13u) % 30000u);

	host_uuid(o->host_prefix, ai, uuid);
	return mm_buf_addf(
	    b,
	    "%s{\"name\":\"pack/load/processes\",\"hostIdentifier\":\"%s%06d\","
	    "\"calendarTime\":\"%s\",\"unixTime\":%lld,\"epoch\":0,\"counter\":%u,"
	    "\"numerics\":false,\"decorations\":{\"host_uuid\":\"%s\",\"hostname\":\"%s%06d\"},"
	    "\"columns\":{\"pid\":\"%d\",\"name\":\"worker%d\",\"path\":\"/usr/sbin/worker%d\","
	    "\"uid\":\"0\",\"cmdline\":\"/usr/sbin/worker%d --serve\"},\"action\":\"%s\"}",
	    i == 0 ? "" : ",", o->host_prefix, ai, clk->calendar, (long long)clk->unix_s, a->logs,
	    uuid, o->host_prefix, ai, pid, i, i, i, i % 2 == 0 ? "added" : "removed");
}

int ld_build_request(const struct ld_run *run, int ai, struct ld_agent *a, enum ld_req kind,
                     const struct ld_clock *clk, struct mm_buf *scratch, struct mm_buf *w)
{
	const struct ld_opts *o = run->o;
	int r = 0;

	mm_buf_reset(scratch);
	switch (kind) {
	case LD_R_ENROLL: r = enroll_body(run, ai, scratch); break;
	case LD_R_READ:
		if (o->longpoll)
			r = mm_buf_addf(scratch, "{\"node_key\":\"%s\",\"mamori_wait\":%lld}",
			                a->key, (long long)o->wait_s);
		else
			r = mm_buf_addf(scratch, "{\"node_key\":\"%s\"}", a->key);
		break;
	case LD_R_CONFIG: r = mm_buf_addf(scratch, "{\"node_key\":\"%s\"}", a->key); break;
	case LD_R_WRITE:
		/* Long polls: the answer waits for the next work, as a Mamori
		 * agent's does (docs/api.md, long polls). */
		r = mm_buf_addf(scratch, "{\"node_key\":\"%s\",%s", a->key,
		                a->answer != NULL
		                    ? a->answer
		                    : "\"queries\":{},\"statuses\":{},\"messages\":{}");
		if (r == 0 && o->longpoll)
			r = mm_buf_addf(scratch, ",\"mamori_wait\":%lld", (long long)o->wait_s);
		if (r == 0)
			r = mm_buf_adds(scratch, "}");
		free(a->answer);
		a->answer = NULL;
		break;
	case LD_R_LOG:
		if (o->mamori_seq)
			r = mm_buf_addf(scratch,
			                "{\"node_key\":\"%s\",\"log_type\":\"result\","
			                "\"mamori_seq\":%llu,\"data\":[",
			                a->key, (unsigned long long)(o->seq_base + a->seq));
		else
			r = mm_buf_addf(scratch,
			                "{\"node_key\":\"%s\",\"log_type\":\"result\",\"data\":[",
			                a->key);
		for (int i = 0; r == 0 && i < o->log_lines; i++)
			r = log_line(run, ai, a, i, clk, scratch);
		if (r == 0)
			r = mm_buf_adds(scratch, "]}");
		a->seq += (uint64_t)o->log_lines;
		a->logs++;
		break;
	default: return MM_ERR_INTERNAL;
	}
	if (r == 0)
		r = mm_buf_addf(w,
		                "POST %s HTTP/1.1\r\nHost: %s\r\n"
		                "User-Agent: osquery/5.10.2 (mamori-load)\r\n"
		                "Accept: application/json\r\nContent-Type: application/json\r\n"
		                "Content-Length: %zu\r\n\r\n",
		                paths[kind], o->hostport, scratch->len);
	if (r == 0)
		r = mm_buf_add(w, scratch->data, scratch->len);
	if (kind == LD_R_ENROLL && scratch->data != NULL)
		OPENSSL_cleanse(scratch->data, scratch->len); /* held the secret */
	return r;
}

/* Node keys are interpolated into JSON unescaped: allow only the characters
 * a random token is made of. */
static int key_ok(const char *k, size_t n)
{
	if (n == 0 || n > LD_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == '+' || c == '/' || c == '=' ||
		      c == ':'))
			return 0;
	}
	return 1;
}

/* The members of a /distributed/write answering every query in q (an
 * object) with one row {"x": "1"} and status 0, as a malloc'd string
 * without the braces; NULL when out of memory. */
static char *make_answer(json_t *q)
{
	json_t *qs = json_object(), *st = json_object(), *w = NULL;
	const char *id;
	json_t *v;
	char *text = NULL, *out = NULL;
	size_t n;

	if (qs == NULL || st == NULL)
		goto out;
	json_object_foreach(q, id, v)
	{
		json_object_set_new(qs, id, json_pack("[{s:s}]", "x", "1"));
		json_object_set_new(st, id, json_integer(0));
	}
	w = json_pack("{s:O, s:O, s:{}}", "queries", qs, "statuses", st, "messages");
	if (w == NULL)
		goto out;
	text = json_dumps(w, JSON_COMPACT);
	if (text == NULL || (n = strlen(text)) < 2)
		goto out;
	out = malloc(n - 1);
	if (out != NULL) {
		memcpy(out, text + 1, n - 2);
		out[n - 2] = '\0';
	}
out:
	free(text);
	json_decref(w);
	json_decref(qs);
	json_decref(st);
	return out;
}

int ld_check_response(enum ld_req kind, int status, const char *body, size_t len,
                      struct ld_agent *a, int *queries, char *why, size_t whysz)
{
	return ld_check_response_answer(kind, status, body, len, a, 0, queries, why, whysz);
}

int ld_check_response_answer(enum ld_req kind, int status, const char *body, size_t len,
                             struct ld_agent *a, int answer, int *queries, char *why, size_t whysz)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	int r = -1;

	*queries = 0;
	why[0] = '\0';
	if (root == NULL || !json_is_object(root)) {
		snprintf(why, whysz, "%s: HTTP %d, body is not a JSON object (%.60s)",
		         ld_req_names[kind], status, root == NULL ? jerr.text : "");
		r = (status >= 200 && status < 300) ? LD_E_BODY : LD_E_STATUS;
		goto out;
	}
	if (json_is_true(json_object_get(root, "node_invalid"))) {
		json_t *e = json_object_get(root, "error");
		snprintf(why, whysz, "%s: HTTP %d, node_invalid (%.80s)", ld_req_names[kind],
		         status, json_is_string(e) ? json_string_value(e) : "");
		a->key[0] = '\0'; /* enroll again, as osquery does */
		r = LD_E_NODE_INVALID;
		goto out;
	}
	if (status < 200 || status > 299) {
		json_t *e = json_object_get(root, "error");
		snprintf(why, whysz, "%s: HTTP %d (%.80s)", ld_req_names[kind], status,
		         json_is_string(e) ? json_string_value(e) : "");
		r = LD_E_STATUS;
		goto out;
	}
	if (kind == LD_R_ENROLL) {
		json_t *k = json_object_get(root, "node_key");
		if (!json_is_string(k) || !key_ok(json_string_value(k), json_string_length(k))) {
			snprintf(why, whysz, "enroll: no usable node_key in the response");
			r = LD_E_BODY;
			goto out;
		}
		memcpy(a->key, json_string_value(k), json_string_length(k) + 1);
	} else if (kind == LD_R_READ ||
	           (kind == LD_R_WRITE && json_object_get(root, "mamori_wait") != NULL)) {
		/* A write that carried mamori_wait is answered as a read. */
		json_t *q = json_object_get(root, "queries");
		if (q != NULL && !json_is_object(q)) {
			snprintf(why, whysz, "read: \"queries\" is not an object");
			r = LD_E_BODY;
			goto out;
		}
		*queries = q != NULL && json_object_size(q) > 0;
		if (answer && *queries) {
			free(a->answer);
			a->answer = make_answer(q);
			if (a->answer == NULL) {
				snprintf(why, whysz, "read: out of memory for the answer");
				r = LD_E_BODY;
				goto out;
			}
		}
	}
out:
	json_decref(root);
	return r;
}
