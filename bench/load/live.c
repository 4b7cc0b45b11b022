/*
 * live.c - mamori-load's live-query driver (--mode longpoll --run-queries N):
 * while the simulated agents hold long-polls, start N live queries one
 * after another as an operator would (POST /api/v1/queries/run, all hosts)
 * and time each from the POST until the coordinator lists it as done
 * (GET /api/v1/queries?after=ID-1&limit=1 every POLL_MS; that listing has
 * no per-host rows, so polling it costs the coordinator little).
 *
 * With LD_TRACE set in the environment, each query's times (ms from the
 * POST) go to stderr: the POST's reply, every agent's answer sent, done.
 *
 * One blocking TLS keep-alive connection with socket timeouts, reconnected
 * when the server closes it.  Every loop is bounded by a count or by the
 * caller's deadline.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "fileio.h"
#include "load.h"
#include "strutil.h"

#define POLL_MS      5     /* status polls while a query runs */
#define IO_TIMEOUT_S 10    /* socket send/receive timeout */
#define QUERY_CAP_MS 60000 /* a query not done by then counts as failed */
#define MAX_QUERIES  10000

struct client {
	const struct ld_opts *o;
	SSL_CTX *ctx;
	int fd;
	SSL *ssl;
	char auth[160]; /* "Bearer mmt_..." (wiped) */
	struct mm_buf w, rb;
	struct ld_http resp;
};

static void cl_close(struct client *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	ERR_clear_error();
}

static int cl_open(struct client *c)
{
	struct timeval tv = {IO_TIMEOUT_S, 0};
	int one = 1;

	c->fd = socket(c->o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return MM_ERR_IO;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&c->o->addr, c->o->addrlen) != 0)
		goto fail;
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->o->host) != 1 ||
	    SSL_connect(c->ssl) != 1)
		goto fail;
	return 0;
fail:
	cl_close(c);
	return MM_ERR_IO;
}

/* One request; *status and *out (the parsed JSON body, caller decrefs) on
 * success.  Reconnects once when the kept-alive connection had gone.
 * Returns 0 or MM_ERR_IO / MM_ERR_PARSE. */
static int cl_request(struct client *c, const char *method, const char *path, const char *body,
                      int *status, json_t **out)
{
	char tmp[16384];
	int r = MM_ERR_IO;

	*out = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0 && cl_open(c) != 0)
			return MM_ERR_IO;
		mm_buf_reset(&c->w);
		mm_buf_reset(&c->rb);
		ld_http_reset(&c->resp);
		r = mm_buf_addf(&c->w,
		                "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n"
		                "Accept: application/json\r\nContent-Type: application/json\r\n"
		                "Content-Length: %zu\r\n\r\n%s",
		                method, path, c->o->hostport, c->auth,
		                body != NULL ? strlen(body) : 0, body != NULL ? body : "");
		if (r != 0)
			return r;
		ERR_clear_error();
		if (SSL_write(c->ssl, c->w.data, (int)c->w.len) <= 0) {
			cl_close(c);
			continue; /* the server closed an idle connection: once more */
		}
		r = MM_ERR_IO;
		for (int i = 0; i < 100000;
		     i++) { /* bounded: each read waits at most IO_TIMEOUT_S */
			int n = SSL_read(c->ssl, tmp, sizeof(tmp));
			int eof = n <= 0;
			if (n > 0 && mm_buf_add(&c->rb, tmp, (size_t)n) != 0) {
				r = MM_ERR_TOOBIG;
				break;
			}
			int p = ld_http_parse(&c->resp, mm_buf_str(&c->rb), c->rb.len, eof);
			if (p == LD_HTTP_DONE) {
				json_error_t jerr;
				*status = c->resp.status;
				*out = json_loadb(c->resp.body_ptr, c->resp.body_len, 0, &jerr);
				r = *out != NULL ? 0 : MM_ERR_PARSE;
				if (!c->resp.keep_alive)
					cl_close(c);
				return r;
			}
			if (p < 0 || eof) {
				r = p < 0 ? p : MM_ERR_IO;
				break;
			}
		}
		cl_close(c);
		if (c->rb.len > 0)
			return r; /* got part of an answer: do not resend */
	}
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of sorted v[0..n). */
static double quantile(const double *v, int n, double q)
{
	int k;

	if (n <= 0)
		return 0;
	k = (int)(q * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits until at least want long-poll reads were sent, plus 200 ms for the
 * last ones to park.  Returns 0, or -1 at the deadline / on interrupt. */
static int wait_parked(struct ld_run *run, int64_t want, int64_t deadline_us,
                       volatile sig_atomic_t *interrupted)
{
	while (atomic_load(&run->lp_reads) < want) {
		if (*interrupted || ld_now_us() > deadline_us)
			return -1;
		sleep_ms(POLL_MS);
	}
	sleep_ms(200);
	return 0;
}

/* Reads the admin token file into c->auth. */
static int load_token(struct client *c, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = mm_read_file(path, 4096, &data, &len)) != 0) {
		fprintf(stderr, "mamori-load: cannot read the admin token %s\n", path);
		return r;
	}
	const char *t = mm_trim(data);
	if (*t == '\0' || strlen(t) + 8 >= sizeof(c->auth) || strpbrk(t, "\r\n") != NULL) {
		fprintf(stderr, "mamori-load: %s: not a token\n", path);
		r = MM_ERR_PARSE;
	} else {
		snprintf(c->auth, sizeof(c->auth), "Bearer %s", t);
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

int ld_live_run(struct ld_run *run, int64_t agents, int64_t deadline_us,
                volatile sig_atomic_t *interrupted, struct ld_live_report *rep)
{
	const struct ld_opts *o = run->o;
	struct client c;
	double *lat = NULL, *srv = NULL;
	struct ld_proc_sample s0 = {0}, s1 = {0};
	int64_t q0 = 0;
	int nq = o->run_queries < MAX_QUERIES ? o->run_queries : MAX_QUERIES, r = MM_ERR_IO;
	char body[1024], path[128];
	json_t *sqlj = NULL;
	char *sqltext = NULL;

	memset(rep, 0, sizeof(*rep));
	memset(&c, 0, sizeof(c));
	rep->server_cpu = -1;
	rep->online_min = -1;
	c.o = o;
	c.ctx = run->ctx;
	c.fd = -1;
	mm_buf_init(&c.w, 64 * 1024);
	mm_buf_init(&c.rb, LD_MAX_HEADER + 2 * LD_MAX_BODY);
	ld_http_init(&c.resp);
	lat = calloc((size_t)nq + 1, sizeof(*lat));
	srv = calloc((size_t)nq + 1, sizeof(*srv));
	sqlj = json_string(o->query_sql);
	sqltext = sqlj != NULL ? json_dumps(sqlj, JSON_ENCODE_ANY) : NULL;
	if (lat == NULL || srv == NULL || sqltext == NULL) {
		rep->why = "out of memory";
		goto out;
	}
	if (load_token(&c, o->admin_token_file) != 0) {
		rep->why = "no admin token";
		goto out;
	}
	if (wait_parked(run, agents, deadline_us, interrupted) != 0) {
		rep->why = "the agents did not all park in time";
		goto out;
	}
	rep->park_s = (double)(ld_now_us() - run->checkin_start_us) / 1e6;
	if (o->server_pid > 0 && ld_proc_sample(o->server_pid, &s0) != 0)
		s0.ok = 0;
	q0 = ld_now_us();
	snprintf(body, sizeof(body), "{\"sql\":%s,\"all\":true,\"timeout_ms\":%d}", sqltext,
	         QUERY_CAP_MS);
	for (int i = 0; i < nq; i++) {
		int status = 0, done = 0;
		json_t *j = NULL;
		int64_t writes0 = atomic_load(&run->lp_writes);
		int64_t reads0 = atomic_load(&run->lp_reads);
		int64_t start = ld_now_us(), id;

		if (*interrupted || start > deadline_us) {
			rep->why = *interrupted ? "interrupted" : "out of time (--duration)";
			goto out;
		}
		if (cl_request(&c, "POST", "/api/v1/queries/run", body, &status, &j) != 0 ||
		    status != 200 || !json_is_integer(json_object_get(j, "id"))) {
			fprintf(stderr, "mamori-load: POST /api/v1/queries/run: HTTP %d\n", status);
			json_decref(j);
			rep->why = "cannot start a live query";
			goto out;
		}
		id = json_integer_value(json_object_get(j, "id"));
		json_decref(j);
		int64_t posted = ld_now_us(), allw = 0;
		snprintf(path, sizeof(path), "/api/v1/queries?after=%lld&limit=1",
		         (long long)(id - 1));
		while (!done) {
			json_t *q;
			if (*interrupted ||
			    ld_now_us() - start > (int64_t)QUERY_CAP_MS * 1000 + 5000000) {
				rep->why = "a live query never finished";
				goto out;
			}
			if (cl_request(&c, "GET", path, NULL, &status, &j) != 0 || status != 200) {
				rep->why = "GET /api/v1/queries failed";
				json_decref(j);
				goto out;
			}
			q = json_array_get(json_object_get(j, "queries"), 0);
			if (q != NULL && json_is_string(json_object_get(q, "status")) &&
			    strcmp(json_string_value(json_object_get(q, "status")), "done") == 0) {
				json_t *p = json_object_get(q, "progress");
				int64_t online = json_integer_value(json_object_get(p, "online"));
				int64_t ok = json_integer_value(json_object_get(p, "ok"));
				lat[rep->queries] = (double)(ld_now_us() - start) / 1000.0;
				srv[rep->queries] =
				    (double)json_integer_value(json_object_get(p, "elapsed_ms"));
				rep->queries++;
				if (ok == online && online == agents)
					rep->done_all++;
				if (rep->online_min < 0 || online < rep->online_min)
					rep->online_min = (int)online;
				if (online > rep->online_max)
					rep->online_max = (int)online;
				done = 1;
			}
			json_decref(j);
			if (!done) {
				if (allw == 0 && atomic_load(&run->lp_writes) - writes0 >= agents)
					allw = ld_now_us();
				sleep_ms(POLL_MS);
			}
			if (done && getenv("LD_TRACE") != NULL)
				fprintf(stderr, "q%d post %.1f allwrites %.1f done %.1f srv %.0f\n", i,
				        (posted - start) / 1e3, allw ? (allw - start) / 1e3 : -1.0,
				        (ld_now_us() - start) / 1e3, srv[rep->queries - 1]);
		}
		/* Every answer counted: wait (bounded) for the agents to park again. */
		int64_t until = ld_now_us() + 10000000;
		while (atomic_load(&run->lp_writes) - writes0 < agents && ld_now_us() < until &&
		       !*interrupted)
			sleep_ms(POLL_MS);
		if (wait_parked(run, reads0 + agents, until, interrupted) != 0) {
			rep->why = "the agents did not park again";
			goto out;
		}
	}
	r = 0;
out:
	if (q0 > 0 && o->server_pid > 0 && s0.ok && ld_proc_sample(o->server_pid, &s1) == 0) {
		int64_t t1 = ld_now_us();
		rep->rss_kb = s1.rss_kb;
		rep->hwm_kb = s1.hwm_kb;
		if (t1 > q0)
			rep->server_cpu = (double)(s1.ticks - s0.ticks) /
			                  (double)sysconf(_SC_CLK_TCK) / ((double)(t1 - q0) / 1e6) *
			                  100.0;
	}
	if (rep->queries > 0) {
		qsort(lat, (size_t)rep->queries, sizeof(*lat), cmp_double);
		qsort(srv, (size_t)rep->queries, sizeof(*srv), cmp_double);
		rep->p50_ms = quantile(lat, rep->queries, 0.5);
		rep->p95_ms = quantile(lat, rep->queries, 0.95);
		rep->min_ms = lat[0];
		rep->max_ms = lat[rep->queries - 1];
		rep->srv_p50_ms = quantile(srv, rep->queries, 0.5);
		rep->srv_p95_ms = quantile(srv, rep->queries, 0.95);
	}
	if (r == 0 && rep->done_all < rep->queries)
		r = MM_ERR_IO;
	cl_close(&c);
	OPENSSL_cleanse(c.auth, sizeof(c.auth));
	mm_buf_free(&c.w);
	mm_buf_free(&c.rb);
	ld_http_free(&c.resp);
	free(lat);
	free(srv);
	free(sqltext);
	json_decref(sqlj);
	return r;
}
