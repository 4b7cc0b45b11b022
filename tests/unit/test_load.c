/*
 * test_load.c - unit tests for mamori-load's pure parts (bench/load): the
 * HTTP/1.1 response parser, the latency histogram, the request bodies and
 * the response checks.  The generator is a program, not a library, so its
 * sources are compiled into this test directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../bench/load/http1.c"
#include "../../bench/load/reqs.c"
#include "../../bench/load/stats.c"
#include "unit.h"

/* Feeds s to a fresh parser in pieces of step bytes (0 = all at once);
 * returns the final result, and the body in *body (malloc'ed) when done. */
static int feed(const char *s, size_t step, int eof, struct ld_http *h, char **body)
{
	size_t len = strlen(s), have = step == 0 ? len : 0;
	int r;

	*body = NULL;
	for (;;) {
		if (have > len)
			have = len;
		r = ld_http_parse(h, s, have, eof && have == len);
		if (r != LD_HTTP_MORE || have == len)
			break;
		have += step;
	}
	if (r == LD_HTTP_DONE) {
		*body = malloc(h->body_len + 1);
		memcpy(*body, h->body_ptr, h->body_len);
		(*body)[h->body_len] = '\0';
	}
	return r;
}

TEST(http_content_length)
{
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                   "content-length:  11 \r\n\r\n{\"a\": true}";
	size_t steps[] = {0, 1, 3, 7};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ld_http h;
		char *body;
		ld_http_init(&h);
		ASSERT_INT_EQ(feed(resp, steps[i], 0, &h, &body), LD_HTTP_DONE);
		ASSERT_INT_EQ(h.status, 200);
		ASSERT_INT_EQ(h.keep_alive, 1);
		ASSERT_STR_EQ(body, "{\"a\": true}");
		free(body);
		ld_http_free(&h);
	}
}

TEST(http_needs_whole_body)
{
	struct ld_http h;
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc";

	ld_http_init(&h);
	ASSERT_INT_EQ(ld_http_parse(&h, resp, strlen(resp), 0), LD_HTTP_MORE);
	ASSERT_INT_EQ(ld_http_parse(&h, resp, strlen(resp), 1), MM_ERR_PARSE);
	ld_http_free(&h);
}

TEST(http_chunked)
{
	const char *resp = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
	                   "4;ext=1\r\n{\"ab\r\nA\r\n\": [1, 2]}\r\n0\r\nX-Trailer: y\r\n\r\n";
	size_t steps[] = {0, 1, 2, 5};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ld_http h;
		char *body;
		ld_http_init(&h);
		ASSERT_INT_EQ(feed(resp, steps[i], 0, &h, &body), LD_HTTP_DONE);
		ASSERT_INT_EQ(h.status, 201);
		ASSERT_STR_EQ(body, "{\"ab\": [1, 2]}");
		free(body);
		/* Reset keeps working for the next response on the connection. */
		ld_http_reset(&h);
		ASSERT_INT_EQ(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		                   steps[i], 0, &h, &body),
		              LD_HTTP_DONE);
		ASSERT_STR_EQ(body, "");
		free(body);
		ld_http_free(&h);
	}
}

TEST(http_connection_close)
{
	struct ld_http h;
	char *body;

	ld_http_init(&h);
	ASSERT_INT_EQ(feed("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
	                   "Content-Length: 2\r\n\r\n{}",
	                   0, 0, &h, &body),
	              LD_HTTP_DONE);
	ASSERT_INT_EQ(h.keep_alive, 0);
	free(body);
	ld_http_reset(&h);
	ASSERT_INT_EQ(feed("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0, 0, &h, &body),
	              LD_HTTP_DONE);
	ASSERT_INT_EQ(h.keep_alive, 0);
	free(body);
	ld_http_reset(&h);
	ASSERT_INT_EQ(
	    feed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}", 0, 0,
	         &h, &body),
	    LD_HTTP_DONE);
	ASSERT_INT_EQ(h.keep_alive, 1);
	free(body);
	ld_http_free(&h);
}

TEST(http_until_close)
{
	struct ld_http h;
	const char *resp = "HTTP/1.1 200 OK\r\n\r\n{\"x\":1}";
	char *body;

	ld_http_init(&h);
	ASSERT_INT_EQ(ld_http_parse(&h, resp, strlen(resp), 0), LD_HTTP_MORE);
	ASSERT_INT_EQ(feed(resp, 0, 1, &h, &body), LD_HTTP_DONE);
	ASSERT_STR_EQ(body, "{\"x\":1}");
	ASSERT_INT_EQ(h.keep_alive, 0);
	free(body);
	ld_http_free(&h);
}

TEST(http_interim_and_204)
{
	struct ld_http h;
	char *body;

	ld_http_init(&h);
	ASSERT_INT_EQ(
	    feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 1,
	         0, &h, &body),
	    LD_HTTP_DONE);
	ASSERT_INT_EQ(h.status, 200);
	ASSERT_STR_EQ(body, "{}");
	free(body);
	ld_http_reset(&h);
	ASSERT_INT_EQ(feed("HTTP/1.1 204 No Content\r\n\r\n", 0, 0, &h, &body), LD_HTTP_DONE);
	ASSERT_INT_EQ(h.status, 204);
	ASSERT_INT_EQ(h.keep_alive, 1);
	ASSERT_STR_EQ(body, "");
	free(body);
	ld_http_free(&h);
}

TEST(http_malformed)
{
	static const struct {
		const char *resp;
		int want;
	} cases[] = {
	    {"HTTP/2 200 OK\r\n\r\n", MM_ERR_PARSE},
	    {"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", MM_ERR_PARSE},
	    {"HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}{}", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 2\r\n\r\n{}", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\n folded: x\r\nContent-Length: 2\r\n\r\n{}", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nextra", MM_ERR_PARSE},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", MM_ERR_TOOBIG},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFF\r\n", MM_ERR_TOOBIG},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ld_http h;
		char *body;
		ld_http_init(&h);
		int got = feed(cases[i].resp, 0, 0, &h, &body);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu: %s\n", i, cases[i].resp);
		ASSERT_INT_EQ(got, cases[i].want);
		free(body);
		ld_http_free(&h);
	}
}

TEST(http_header_cap)
{
	struct ld_http h;
	size_t n = LD_MAX_HEADER + 100;
	char *big = malloc(n + 1);

	memset(big, 'a', n);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 21);
	big[n] = '\0';
	ld_http_init(&h);
	ASSERT_INT_EQ(ld_http_parse(&h, big, n, 0), MM_ERR_TOOBIG);
	ld_http_free(&h);
	free(big);
}

TEST(histogram)
{
	static struct ld_hist h, m;

	ASSERT_INT_EQ(ld_hist_quantile(&h, 0.5), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		ld_hist_add(&h, v);
	ASSERT_INT_EQ(h.count, 1000);
	ASSERT_INT_EQ(h.max, 1000);
	/* 500 lies in [496, 503], 990 in [976, 991], 1000 in [992, 1007] (capped by max). */
	ASSERT_INT_EQ(ld_hist_quantile(&h, 0.5), 503);
	ASSERT_INT_EQ(ld_hist_quantile(&h, 0.99), 991);
	ASSERT_INT_EQ(ld_hist_quantile(&h, 1.0), 1000);
	ASSERT_INT_EQ(ld_hist_quantile(&h, 0.01), 10); /* exact below 64 */
	ld_hist_add(&m, UINT64_MAX);                   /* capped, not out of range */
	ASSERT_INT_EQ(m.max, (UINT64_C(1) << 40) - 1);
	ld_hist_merge(&m, &h);
	ASSERT_INT_EQ(m.count, 1001);
	ASSERT_INT_EQ(ld_hist_quantile(&m, 0.5), 503);
}

static struct ld_opts opts = {
    .hostport = "127.0.0.1:8443",
    .host_prefix = "t-",
    .log_lines = 3,
};

TEST(requests)
{
	struct ld_run run = {.o = &opts, .secret_json = "\"s\\\"x\""};
	struct ld_agent a = {.key = "abc123"};
	struct ld_clock clk = {0};
	struct mm_buf scratch, w;
	json_t *j;

	mm_buf_init(&scratch, 1 << 20);
	mm_buf_init(&w, 1 << 20);
	ld_clock_update(&clk);

	ASSERT_INT_EQ(ld_build_request(&run, 7, &a, LD_R_READ, &clk, &scratch, &w), 0);
	ASSERT_STR_EQ(mm_buf_str(&w),
	              "POST /api/v1/osquery/distributed/read HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n"
	              "User-Agent: osquery/5.10.2 (mamori-load)\r\nAccept: application/json\r\n"
	              "Content-Type: application/json\r\nContent-Length: 21\r\n\r\n"
	              "{\"node_key\":\"abc123\"}");

	/* The enroll body is JSON with the secret, host identifier and details. */
	mm_buf_reset(&w);
	ASSERT_INT_EQ(ld_build_request(&run, 7, &a, LD_R_ENROLL, &clk, &scratch, &w), 0);
	const char *b = strstr(mm_buf_str(&w), "\r\n\r\n") + 4;
	j = json_loads(b, 0, NULL);
	ASSERT_TRUE(j != NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "enroll_secret")), "s\"x");
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "host_identifier")), "t-000007");
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "platform_type")), "9");
	ASSERT_STR_EQ(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(j, "host_details"), "system_info"), "hostname")),
	    "t-000007");
	json_decref(j);

	/* A log request: three result lines in osquery's event format. */
	mm_buf_reset(&w);
	ASSERT_INT_EQ(ld_build_request(&run, 7, &a, LD_R_LOG, &clk, &scratch, &w), 0);
	b = strstr(mm_buf_str(&w), "\r\n\r\n") + 4;
	j = json_loads(b, 0, NULL);
	ASSERT_TRUE(j != NULL);
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "log_type")), "result");
	ASSERT_TRUE(json_object_get(j, "mamori_seq") == NULL);
	json_t *data = json_object_get(j, "data");
	ASSERT_INT_EQ(json_array_size(data), 3);
	json_t *l0 = json_array_get(data, 0);
	ASSERT_STR_EQ(json_string_value(json_object_get(l0, "name")), "pack/load/processes");
	ASSERT_STR_EQ(json_string_value(json_object_get(l0, "hostIdentifier")), "t-000007");
	ASSERT_STR_EQ(json_string_value(json_object_get(l0, "action")), "added");
	ASSERT_INT_EQ(json_integer_value(json_object_get(l0, "unixTime")), clk.unix_s);
	ASSERT_TRUE(json_is_string(json_object_get(json_object_get(l0, "columns"), "pid")));
	ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(data, 1), "action")),
	              "removed");
	json_decref(j);
	ASSERT_INT_EQ(a.logs, 1);
	ASSERT_INT_EQ(a.seq, 3);

	/* With --mamori-seq the batch carries the number of its first line. */
	opts.mamori_seq = 1;
	opts.seq_base = 1000;
	mm_buf_reset(&w);
	ASSERT_INT_EQ(ld_build_request(&run, 7, &a, LD_R_LOG, &clk, &scratch, &w), 0);
	j = json_loads(strstr(mm_buf_str(&w), "\r\n\r\n") + 4, 0, NULL);
	ASSERT_INT_EQ(json_integer_value(json_object_get(j, "mamori_seq")), 1003);
	json_decref(j);
	opts.mamori_seq = 0;

	mm_buf_free(&scratch);
	mm_buf_free(&w);
}

TEST(responses)
{
	struct ld_agent a = {0};
	char why[200];
	int q;

#define CHECK(kind, status, body)                                                                  \
	ld_check_response(kind, status, body, strlen(body), &a, &q, why, sizeof(why))
	ASSERT_INT_EQ(CHECK(LD_R_ENROLL, 200, "{\"node_key\":\"k-1\",\"node_invalid\":false}"), -1);
	ASSERT_STR_EQ(a.key, "k-1");
	ASSERT_INT_EQ(CHECK(LD_R_READ, 200, "{\"queries\":{},\"discovery\":{}}"), -1);
	ASSERT_INT_EQ(q, 0);
	ASSERT_INT_EQ(CHECK(LD_R_READ, 200, "{\"queries\":{\"q1\":\"SELECT 1\"}}"), -1);
	ASSERT_INT_EQ(q, 1);
	ASSERT_INT_EQ(CHECK(LD_R_READ, 200, "{\"queries\":[]}"), LD_E_BODY);
	ASSERT_INT_EQ(CHECK(LD_R_LOG, 200, "{}"), -1);
	ASSERT_INT_EQ(CHECK(LD_R_LOG, 200, "[]"), LD_E_BODY);
	ASSERT_INT_EQ(CHECK(LD_R_LOG, 200, "not json"), LD_E_BODY);
	ASSERT_INT_EQ(CHECK(LD_R_LOG, 502, "<html>"), LD_E_STATUS);
	ASSERT_INT_EQ(CHECK(LD_R_LOG, 503, "{\"error\":\"store queue full\"}"), LD_E_STATUS);
	ASSERT_STR_EQ(why, "log: HTTP 503 (store queue full)");
	ASSERT_INT_EQ(CHECK(LD_R_CONFIG, 401, "{\"node_invalid\":true}"), LD_E_NODE_INVALID);
	ASSERT_STR_EQ(a.key, ""); /* dropped: the agent enrolls again */
	ASSERT_INT_EQ(CHECK(LD_R_ENROLL, 200, "{\"node_key\":\"a\\\"b\"}"), LD_E_BODY);
	ASSERT_INT_EQ(CHECK(LD_R_ENROLL, 200, "{\"node_key\":\"\"}"), LD_E_BODY);
	ASSERT_INT_EQ(CHECK(LD_R_ENROLL, 200, "{\"node_invalid\":false}"), LD_E_BODY);
	ASSERT_STR_EQ(a.key, "");
#undef CHECK
}

UNIT_MAIN(T(http_content_length), T(http_needs_whole_body), T(http_chunked),
          T(http_connection_close), T(http_until_close), T(http_interim_and_204), T(http_malformed),
          T(http_header_cap), T(histogram), T(requests), T(responses))
