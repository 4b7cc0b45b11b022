/*
 * test_http.c - unit tests for server/http.c over plain HTTP on loopback:
 * routing (exact, longest prefix, 404/405 as JSON), request accessors,
 * JSON bodies (415, 400), the body cap (413: read reliably whether the
 * client sends its body, part of it, nothing or chunks, then a clean close
 * within bounds), deferred replies delivered with mm_http_call from another
 * thread, keep-alive after a kept request, on_close when the client hangs
 * up, Server-Sent-Events streams, a handler that forgets to reply, and
 * mm_http_stop from another thread.
 *
 * The loop runs on its own thread; the test is the client, with plain
 * sockets and a receive timeout so nothing can hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "http.h"
#include "unit.h"

static struct mm_http_server *srv;
static pthread_t loop_thread;
static int port;

/* State the handlers share with the test (loop thread writes, test reads
 * with the atomics). */
static int kept_now, closes, stream_step;
static struct mm_http_req *stream_req;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits (at most 3 s) until *flag reaches want. */
static int wait_for(int *flag, int want)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) >= want)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

/* ---- handlers -------------------------------------------------------------------------- */

static void h_text(struct mm_http_req *r, void *arg)
{
	char out[256];

	snprintf(out, sizeof(out), "%s:%s", (const char *)arg, mm_http_path_rest(r));
	mm_http_reply(r, 200, "text/plain", out, strlen(out));
}

static void h_echo(struct mm_http_req *r, void *arg)
{
	const char *q = mm_http_query(r, "q"), *x = mm_http_header(r, "x-test");
	json_t *body;

	(void)arg;
	if ((body = mm_http_json_body(r, 0)) == NULL)
		return;
	mm_http_reply_json(r, 201,
	                   json_pack("{s:o, s:s?, s:s?, s:s, s:s}", "body", body, "q", q, "x", x,
	                             "method", mm_http_method(r), "peer", mm_http_peer(r)));
}

static void reply_later(void *arg)
{
	struct mm_http_req *r = arg;

	mm_http_reply(r, 200, "text/plain", "later", 5);
	mm_http_release(r);
}

static void *other_thread(void *arg)
{
	sleep_ms(30);
	if (mm_http_call(srv, reply_later, arg) != 0)
		fprintf(stderr, "mm_http_call failed\n");
	return NULL;
}

static void on_close_count(struct mm_http_req *r, void *arg)
{
	(void)arg;
	__atomic_add_fetch(&closes, 1, __ATOMIC_ACQ_REL);
	/* Replies after the close are no-ops. */
	mm_http_reply(r, 200, "text/plain", "x", 1);
	if (!mm_http_closed(r))
		fprintf(stderr, "on_close: mm_http_closed() is 0\n");
	mm_http_release(r);
}

/* Keeps the request, watching for a hang-up if arg is non-NULL, and
 * replies from another thread 30 ms later. */
static void h_deferred(struct mm_http_req *r, void *arg)
{
	pthread_t t;

	mm_http_keep(r, arg != NULL ? on_close_count : NULL, NULL);
	if (pthread_create(&t, NULL, other_thread, r) == 0)
		pthread_detach(t);
}

/* Keeps the request until the client goes away. */
static void h_park(struct mm_http_req *r, void *arg)
{
	(void)arg;
	mm_http_keep(r, on_close_count, NULL);
	__atomic_add_fetch(&kept_now, 1, __ATOMIC_ACQ_REL);
}

static void stream_tick(void *arg)
{
	char ev[64];

	(void)arg;
	if (stream_req == NULL)
		return;
	if (stream_step < 3) {
		snprintf(ev, sizeof(ev), "id: %d\ndata: {\"n\": %d}\n\n", stream_step + 1,
		         stream_step + 1);
		if (mm_http_stream_send(stream_req, ev, strlen(ev)) != 0)
			fprintf(stderr, "stream_send failed\n");
		__atomic_add_fetch(&stream_step, 1, __ATOMIC_ACQ_REL);
		return;
	}
	mm_http_stream_end(stream_req);
	mm_http_release(stream_req);
	stream_req = NULL;
}

static void on_stream_close(struct mm_http_req *r, void *arg)
{
	(void)arg;
	if (mm_http_stream_send(r, "x", 1) != MM_ERR_IO)
		fprintf(stderr, "stream_send after close did not fail\n");
	if (stream_req == r)
		stream_req = NULL;
	__atomic_add_fetch(&closes, 1, __ATOMIC_ACQ_REL);
	mm_http_release(r);
}

/* A stream that ends only when the client leaves. */
static void h_stream_forever(struct mm_http_req *r, void *arg)
{
	(void)arg;
	mm_http_keep(r, on_stream_close, NULL);
	mm_http_stream_begin(r, 200, "text/event-stream");
	mm_http_stream_send(r, ": hello\n\n", 10);
	__atomic_add_fetch(&kept_now, 1, __ATOMIC_ACQ_REL);
}

static void h_stream(struct mm_http_req *r, void *arg)
{
	(void)arg;
	mm_http_keep(r, on_stream_close, NULL);
	mm_http_stream_begin(r, 200, "text/event-stream");
	stream_req = r;
	stream_step = 0;
}

static void h_now(struct mm_http_req *r, void *arg)
{
	char out[32];

	(void)arg;
	snprintf(out, sizeof(out), "%lld", (long long)mm_http_now_ms(srv));
	mm_http_reply(r, 200, "text/plain", out, strlen(out));
}

static void h_noreply(struct mm_http_req *r, void *arg)
{
	(void)r;
	(void)arg;
}

/* ---- the server ------------------------------------------------------------------------- */

static void *loop_main(void *arg)
{
	(void)arg;
	mm_http_run(srv);
	return NULL;
}

static int start(void)
{
	struct mm_http_config cfg = {"127.0.0.1", 0, NULL, NULL, 0, 1024, 5};
	char *err = NULL;

	if (mm_http_server_new(&cfg, &srv, &err) != 0) {
		fprintf(stderr, "mm_http_server_new: %s\n", err ? err : "?");
		free(err);
		return -1;
	}
	port = mm_http_port(srv);
	if (mm_http_route(srv, "GET", "/exact", h_text, "exact") != 0 ||
	    mm_http_route(srv, "GET", "/a/*", h_text, "a") != 0 ||
	    mm_http_route(srv, "GET", "/a/b/*", h_text, "ab") != 0 ||
	    mm_http_route(srv, "GET", "/a/x", h_text, "ax") != 0 ||
	    mm_http_route(srv, "DELETE", "/a/x", h_text, "del") != 0 ||
	    mm_http_route(srv, "POST", "/echo", h_echo, NULL) != 0 ||
	    mm_http_route(srv, "GET", "/deferred", h_deferred, NULL) != 0 ||
	    mm_http_route(srv, "GET", "/deferred-watched", h_deferred, "w") != 0 ||
	    mm_http_route(srv, "GET", "/park", h_park, NULL) != 0 ||
	    mm_http_route(srv, "GET", "/stream", h_stream, NULL) != 0 ||
	    mm_http_route(srv, "GET", "/stream-forever", h_stream_forever, NULL) != 0 ||
	    mm_http_route(srv, NULL, "/noreply", h_noreply, NULL) != 0 ||
	    mm_http_route(srv, "GET", "/now", h_now, NULL) != 0 ||
	    mm_http_every(srv, 10, stream_tick, NULL) != 0)
		return -1;
	return pthread_create(&loop_thread, NULL, loop_main, NULL) == 0 ? 0 : -1;
}

/* ---- the client ------------------------------------------------------------------------- */

static int connect_srv(void)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;
	ssize_t k;

	while (off < n) {
		if ((k = write(fd, s + off, n - off)) <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

/* Reads one response with a Content-Length body (or, when to_eof, until the
 * server closes).  Returns the status; the body goes into body. */
static int read_resp(int fd, char *buf, size_t cap, char **body, int to_eof)
{
	size_t len = 0;
	ssize_t k;
	char *hdr_end = NULL, *cl;
	long want = -1;
	int status = -1;

	buf[0] = '\0';
	*body = buf;
	while (len + 1 < cap) {
		if ((k = read(fd, buf + len, cap - 1 - len)) <= 0)
			break;
		len += (size_t)k;
		buf[len] = '\0';
		if (hdr_end == NULL && (hdr_end = strstr(buf, "\r\n\r\n")) != NULL) {
			if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < hdr_end)
				want = strtol(cl + 17, NULL, 10);
		}
		if (!to_eof && hdr_end != NULL && want >= 0 &&
		    len >= (size_t)(hdr_end + 4 - buf) + (size_t)want)
			break;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	if (hdr_end != NULL)
		*body = hdr_end + 4;
	return status;
}

/* One request on a new connection.  Returns the status; body in buf. */
static int req1(const char *request, char *buf, size_t cap, char **body)
{
	int fd = connect_srv(), st;

	if (fd < 0)
		return -1;
	if (send_all(fd, request) != 0) {
		close(fd);
		return -1;
	}
	st = read_resp(fd, buf, cap, body, 0);
	close(fd);
	return st;
}

static int get(const char *path, char *buf, size_t cap, char **body)
{
	char rq[512];

	snprintf(rq, sizeof(rq), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	return req1(rq, buf, cap, body);
}

/* Milliseconds on the monotonic clock. */
static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends n bytes without SIGPIPE.  Returns 0, or the errno of the failure. */
static int send_n(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = send(fd, p, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads until the server closes.  Returns the status line's code (-1 when
 * none came); *how gets 0 for a clean end of stream, else the errno of the
 * read that failed (ECONNRESET when a reset destroyed the rest, EAGAIN when
 * the 5 s receive timeout struck). */
static int read_to_close(int fd, char *buf, size_t cap, int *how)
{
	size_t len = 0;
	ssize_t k;
	int status = -1;

	buf[0] = '\0';
	*how = 0;
	for (;;) {
		if (len + 1 >= cap)
			len = 0; /* only the start and the end matter here */
		if ((k = read(fd, buf + len, cap - 1 - len)) < 0) {
			if (errno == EINTR)
				continue;
			*how = errno;
			break;
		}
		if (k == 0)
			break;
		if (status < 0) {
			buf[len + (size_t)k] = '\0';
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				status = -1;
		}
		len += (size_t)k;
	}
	buf[len] = '\0';
	return status;
}

/* ---- tests -------------------------------------------------------------------------------- */

TEST(routing)
{
	char buf[4096], *body;

	ASSERT_INT_EQ(get("/exact", buf, sizeof(buf), &body), 200);
	ASSERT_STR_EQ(body, "exact:");
	ASSERT_INT_EQ(get("/a/12", buf, sizeof(buf), &body), 200);
	ASSERT_STR_EQ(body, "a:12");
	ASSERT_INT_EQ(get("/a/b/c/d", buf, sizeof(buf), &body), 200);
	ASSERT_STR_EQ(body, "ab:c/d");
	ASSERT_INT_EQ(get("/a/x", buf, sizeof(buf), &body), 200);
	ASSERT_STR_EQ(body, "ax:");
	ASSERT_INT_EQ(get("/a/caf%C3%A9", buf, sizeof(buf), &body), 200);
	ASSERT_STR_EQ(body, "a:caf\xc3\xa9");
	ASSERT_INT_EQ(get("/a", buf, sizeof(buf), &body), 404);
	ASSERT_STR_EQ(body, "{\"error\":\"not found\",\"detail\":\"/a\"}");
	ASSERT_INT_EQ(get("/a/", buf, sizeof(buf), &body), 404);
	ASSERT_INT_EQ(get("/a/%00x", buf, sizeof(buf), &body), 400);
	ASSERT_INT_EQ(req1("POST /a/x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", buf,
	                   sizeof(buf), &body),
	              405);
	ASSERT_STR_EQ(body, "{\"error\":\"method not allowed\",\"detail\":\"GET, DELETE\"}");
	ASSERT_TRUE(strstr(buf, "\r\nAllow: GET, DELETE\r\n") != NULL);
	ASSERT_TRUE(strstr(buf, "\r\nContent-Type: application/json\r\n") != NULL);
}

TEST(json_bodies)
{
	char buf[4096], *body;

	ASSERT_INT_EQ(req1("POST /echo?q=a%20b&z=1 HTTP/1.1\r\nHost: t\r\nX-Test: yes\r\n"
	                   "Content-Type: application/json; charset=utf-8\r\n"
	                   "Content-Length: 9\r\n\r\n{\"k\": 1}\n",
	                   buf, sizeof(buf), &body),
	              201);
	ASSERT_STR_EQ(body, "{\"body\":{\"k\":1},\"q\":\"a b\",\"x\":\"yes\",\"method\":\"POST\","
	                    "\"peer\":\"127.0.0.1\"}");
	ASSERT_INT_EQ(req1("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
	                   "Content-Length: 2\r\n\r\n{}",
	                   buf, sizeof(buf), &body),
	              415);
	ASSERT_STR_EQ(body, "{\"error\":\"Content-Type must be application/json\",\"detail\":"
	                    "\"text/plain\"}");
	/* Not lenient: no Content-Type is refused too. */
	ASSERT_INT_EQ(req1("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}", buf,
	                   sizeof(buf), &body),
	              415);
	ASSERT_INT_EQ(req1("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
	                   "Content-Length: 9\r\n\r\n{\"k\": 1,}",
	                   buf, sizeof(buf), &body),
	              400);
	ASSERT_TRUE(strstr(body, "\"error\":\"malformed JSON\",\"detail\":\"line 1, column") !=
	            NULL);
	ASSERT_INT_EQ(req1("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
	                   "Content-Length: 16\r\n\r\n{\"a\": 1, \"a\": 2}",
	                   buf, sizeof(buf), &body),
	              400);
}

TEST(body_cap)
{
	static const char head[] = "POST /echo HTTP/1.1\r\nHost: t\r\n"
	                           "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n";
	char buf[4096], *body, rq[2048];
	int n;

	snprintf(rq, sizeof(rq), head, 1025);
	ASSERT_INT_EQ(req1(rq, buf, sizeof(buf), &body), 413);
	/* Exactly at the cap is fine: "{}" and 1022 spaces. */
	n = snprintf(rq, sizeof(rq), head, 1024);
	memcpy(rq + n, "{}", 2);
	memset(rq + n + 2, ' ', 1022);
	rq[n + 1024] = '\0';
	ASSERT_INT_EQ(req1(rq, buf, sizeof(buf), &body), 201);
	ASSERT_STR_EQ(strstr(body, "\"body\":{}") != NULL ? "ok" : body, "ok");
}

#define OVER_HEAD "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"

/* A client that declares a body over the cap and sends it in several
 * writes, with pauses that let the server refuse and close in between:
 * every write must go through and every time the 413 must be read, followed
 * by a clean end of stream.  A server that closes with the body unread
 * sends a reset instead, which makes the writes fail or wipes the reply.
 * 200 rounds, each bounded by the 5 s receive timeout. */
TEST(body_cap_body_sent)
{
	static char chunk[2048];
	char buf[4096];
	long long t0 = mono_ms();
	int i, k, fd, st, how, bad = 0, werr;

	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 200 && mono_ms() - t0 < 60000; i++) {
		if ((fd = connect_srv()) < 0) {
			bad++;
			continue;
		}
		werr = send_n(fd, OVER_HEAD "Content-Length: 8192\r\n\r\n",
		              strlen(OVER_HEAD "Content-Length: 8192\r\n\r\n"));
		/* 0 to 3 ms: the 413 goes out before, between or after the writes. */
		for (k = 0; k < 4 && werr == 0; k++) {
			sleep_ms(i % 4);
			werr = send_n(fd, chunk, sizeof(chunk));
		}
		st = read_to_close(fd, buf, sizeof(buf), &how);
		close(fd);
		if (werr != 0 || st != 413 || how != 0) {
			if (bad++ == 0)
				fprintf(stderr,
				        "round %d: write error %d, status %d, read error %d\n", i,
				        werr, st, how);
		}
	}
	ASSERT_INT_EQ(i, 200); /* all rounds within 60 s */
	ASSERT_INT_EQ(bad, 0);
}

/* A client that declares a body over the cap and sends nothing more gets
 * the 413 at once (it does not wait for a body or a timeout), then the
 * connection closes cleanly, all within 2 s. */
TEST(body_cap_no_body)
{
	char buf[4096], *body;
	long long t0 = mono_ms();
	int fd = connect_srv();

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	ASSERT_INT_EQ(send_all(fd, OVER_HEAD "Content-Length: 1000000\r\n\r\n"), 0);
	ASSERT_INT_EQ(read_resp(fd, buf, sizeof(buf), &body, 0), 413);
	ASSERT_TRUE(mono_ms() - t0 < 2000);
	/* Then the end of stream, not a reset and not the 5 s timeout. */
	ASSERT_INT_EQ(read(fd, buf, sizeof(buf)), 0);
	ASSERT_TRUE(mono_ms() - t0 < 2000);
	close(fd);
	/* Expect: 100-continue: refused before the client sends anything. */
	t0 = mono_ms();
	ASSERT_INT_EQ(req1(OVER_HEAD "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n", buf,
	                   sizeof(buf), &body),
	              413);
	ASSERT_TRUE(mono_ms() - t0 < 2000);
}

/* Chunked bodies are capped too (by evhttp, as they arrive): 413 and a
 * clean close, also when more chunks follow the one over the cap. */
TEST(body_cap_chunked)
{
	static char chunk[2048 + 16];
	char buf[4096];
	int i, fd, st, how, werr, n;

	n = snprintf(chunk, sizeof(chunk), "800\r\n");
	memset(chunk + n, 'y', 2048);
	memcpy(chunk + n + 2048, "\r\n", 2);
	n += 2050;
	for (i = 0; i < 20; i++) {
		fd = connect_srv();
		ASSERT_TRUE(fd >= 0);
		if (fd < 0)
			return;
		werr = send_n(fd, OVER_HEAD "Transfer-Encoding: chunked\r\n\r\n",
		              strlen(OVER_HEAD "Transfer-Encoding: chunked\r\n\r\n"));
		if (werr == 0)
			werr = send_n(fd, "10\r\n{\"a\": \"bcdefghi\"}\r\n", 22);
		sleep_ms(i % 3);
		if (werr == 0)
			werr = send_n(fd, chunk, (size_t)n);
		sleep_ms(i % 2);
		if (werr == 0)
			werr = send_n(fd, chunk, (size_t)n);
		st = read_to_close(fd, buf, sizeof(buf), &how);
		close(fd);
		ASSERT_INT_EQ(werr, 0);
		ASSERT_INT_EQ(st, 413);
		ASSERT_INT_EQ(how, 0);
		if (werr != 0 || st != 413 || how != 0)
			return;
	}
}

/* A refused connection ends the same way after a request that was served
 * on it: keep-alive is unaffected up to the refusal. */
TEST(body_cap_after_keepalive)
{
	char buf[4096], *body;
	int fd = connect_srv(), how;

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	ASSERT_INT_EQ(send_all(fd, "GET /exact HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	ASSERT_INT_EQ(read_resp(fd, buf, sizeof(buf), &body, 0), 200);
	ASSERT_STR_EQ(body, "exact:");
	ASSERT_INT_EQ(send_all(fd, OVER_HEAD "Content-Length: 3000\r\n\r\n"), 0);
	memset(buf, 'z', 3000);
	ASSERT_INT_EQ(send_n(fd, buf, 3000), 0);
	ASSERT_INT_EQ(read_to_close(fd, buf, sizeof(buf), &how), 413);
	ASSERT_INT_EQ(how, 0);
	close(fd);
}

/* The draining after a refusal is bounded in time: a client that keeps
 * trickling its body is cut off (its writes fail) after about a second,
 * not at once and not never. */
TEST(body_cap_drain_time_bound)
{
	char buf[4096], *body;
	long long t0, t;
	int fd = connect_srv(), werr = 0;

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	ASSERT_INT_EQ(send_all(fd, OVER_HEAD "Content-Length: 100000\r\n\r\n"), 0);
	ASSERT_INT_EQ(read_resp(fd, buf, sizeof(buf), &body, 0), 413);
	t0 = mono_ms();
	while (werr == 0 && mono_ms() - t0 < 5000) {
		sleep_ms(50);
		werr = send_n(fd, "x", 1);
	}
	t = mono_ms() - t0;
	close(fd);
	ASSERT_TRUE(werr == ECONNRESET || werr == EPIPE);
	if (t < 700 || t > 3000)
		fprintf(stderr, "writes failed after %lld ms, want 700..3000\n", t);
	ASSERT_TRUE(t >= 700 && t <= 3000);
}

/* ... and in bytes: a client that pushes a huge body as fast as it can is
 * cut off well before it is done. */
TEST(body_cap_drain_byte_bound)
{
	static char chunk[65536];
	long long t0 = mono_ms();
	size_t sent = 0;
	int fd = connect_srv(), werr;

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	memset(chunk, 'w', sizeof(chunk));
	werr = send_n(fd, OVER_HEAD "Content-Length: 1000000000\r\n\r\n",
	              strlen(OVER_HEAD "Content-Length: 1000000000\r\n\r\n"));
	while (werr == 0 && sent < 256u << 20 && mono_ms() - t0 < 5000) {
		werr = send_n(fd, chunk, sizeof(chunk));
		sent += sizeof(chunk);
	}
	close(fd);
	ASSERT_TRUE(werr == ECONNRESET || werr == EPIPE);
	ASSERT_TRUE(mono_ms() - t0 < 5000);
}

TEST(deferred_and_keepalive)
{
	char buf[4096], *body;
	int fd = connect_srv();

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	/* Three requests on one connection: a deferred reply, one watched for
	 * a hang-up (parked, then answered: the connection must go on
	 * working), then a plain one. */
	ASSERT_INT_EQ(send_all(fd, "GET /deferred HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	ASSERT_INT_EQ(read_resp(fd, buf, sizeof(buf), &body, 0), 200);
	ASSERT_STR_EQ(body, "later");
	ASSERT_INT_EQ(send_all(fd, "GET /deferred-watched HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	ASSERT_INT_EQ(read_resp(fd, buf, sizeof(buf), &body, 0), 200);
	ASSERT_STR_EQ(body, "later");
	ASSERT_INT_EQ(send_all(fd, "GET /exact HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	ASSERT_INT_EQ(read_resp(fd, buf, sizeof(buf), &body, 0), 200);
	ASSERT_STR_EQ(body, "exact:");
	close(fd);
	ASSERT_INT_EQ(__atomic_load_n(&closes, __ATOMIC_ACQUIRE), 0);
}

TEST(on_close_once)
{
	int fd = connect_srv(), before = __atomic_load_n(&closes, __ATOMIC_ACQUIRE);

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	ASSERT_INT_EQ(send_all(fd, "GET /park HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	ASSERT_INT_EQ(wait_for(&kept_now, 1), 1);
	close(fd);
	ASSERT_INT_EQ(wait_for(&closes, before + 1), 1);
	sleep_ms(50);
	ASSERT_INT_EQ(__atomic_load_n(&closes, __ATOMIC_ACQUIRE), before + 1);
}

TEST(sse_stream)
{
	char buf[8192], *body;
	int fd = connect_srv(), st;

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	ASSERT_INT_EQ(send_all(fd, "GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
	              0);
	st = read_resp(fd, buf, sizeof(buf), &body, 1);
	close(fd);
	ASSERT_INT_EQ(st, 200);
	ASSERT_TRUE(strstr(buf, "\r\nContent-Type: text/event-stream\r\n") != NULL);
	ASSERT_TRUE(strstr(buf, "\r\nTransfer-Encoding: chunked\r\n") != NULL);
	ASSERT_TRUE(strstr(body, "id: 1\ndata: {\"n\": 1}\n\n") != NULL);
	ASSERT_TRUE(strstr(body, "id: 3\ndata: {\"n\": 3}\n\n") != NULL);
	ASSERT_TRUE(strstr(body, "\r\n0\r\n\r\n") != NULL);
}

TEST(sse_client_leaves)
{
	char buf[512];
	int fd = connect_srv(), before = __atomic_load_n(&closes, __ATOMIC_ACQUIRE);
	int kept = __atomic_load_n(&kept_now, __ATOMIC_ACQUIRE);
	size_t len;
	ssize_t n;

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return;
	ASSERT_INT_EQ(send_all(fd, "GET /stream-forever HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	ASSERT_INT_EQ(wait_for(&kept_now, kept + 1), 1);
	len = 0;
	buf[0] = '\0';
	while (strstr(buf, ": hello") == NULL && len + 1 < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
	}
	ASSERT_TRUE(strstr(buf, ": hello") != NULL);
	close(fd);
	ASSERT_INT_EQ(wait_for(&closes, before + 1), 1);
	sleep_ms(50);
	ASSERT_INT_EQ(__atomic_load_n(&closes, __ATOMIC_ACQUIRE), before + 1);
}

TEST(forgotten_reply)
{
	char buf[4096], *body;

	ASSERT_INT_EQ(get("/noreply", buf, sizeof(buf), &body), 500);
	ASSERT_STR_EQ(body,
	              "{\"error\":\"internal error\",\"detail\":\"the handler sent no reply\"}");
}

TEST(now_is_wall_clock)
{
	char buf[4096], *body;
	struct timeval tv;
	int64_t d;

	ASSERT_INT_EQ(get("/now", buf, sizeof(buf), &body), 200);
	gettimeofday(&tv, NULL);
	d = strtoll(body, NULL, 10) - ((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	ASSERT_TRUE(d > -5000 && d < 1000); /* cached, and synced with the wall clock every 5 s */
}

TEST(stop_from_another_thread)
{
	char buf[4096], *body;
	int fd = connect_srv();

	/* A refused client whose socket is still being drained when the
	 * server is freed: freeing ends the drain (the sanitizer build checks
	 * that nothing leaks).  The client has had the 413 and the end of the
	 * stream already. */
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(send_all(fd, OVER_HEAD "Content-Length: 5000\r\n\r\n"), 0);
	ASSERT_INT_EQ(read_resp(fd, buf, sizeof(buf), &body, 0), 413);
	mm_http_stop(srv);
	ASSERT_INT_EQ(pthread_join(loop_thread, NULL), 0);
	mm_http_server_free(srv);
	srv = NULL;
	ASSERT_INT_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	ASSERT_INT_EQ(get("/exact", buf, sizeof(buf), &body), -1);
}

TEST(setup)
{
	ASSERT_INT_EQ(start(), 0);
	if (srv == NULL)
		exit(1);
}

TEST(bad_certificate)
{
	struct mm_http_config cfg = {"127.0.0.1", 0, "/nonexistent/cert.pem", "/nonexistent/key", 0,
	                             0,           0};
	struct mm_http_server *s = NULL;
	char *err = NULL;

	ASSERT_INT_EQ(mm_http_server_new(&cfg, &s, &err), MM_ERR_IO);
	ASSERT_TRUE(s == NULL);
	ASSERT_TRUE(err != NULL &&
	            strstr(err, "/nonexistent/cert.pem: cannot use the certificate") == err);
	free(err);
}

UNIT_MAIN(T(setup), T(routing), T(json_bodies), T(body_cap), T(body_cap_body_sent),
          T(body_cap_no_body), T(body_cap_chunked), T(body_cap_after_keepalive),
          T(body_cap_drain_time_bound), T(body_cap_drain_byte_bound), T(deferred_and_keepalive),
          T(on_close_once), T(sse_stream), T(sse_client_leaves), T(forgotten_reply),
          T(now_is_wall_clock), T(stop_from_another_thread), T(bad_certificate))
