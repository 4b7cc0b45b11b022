/*
 * worker.c - one mamori-load thread: an epoll loop over its share of the
 * TLS keep-alive connections.
 *
 * Connection states (struct conn.state):
 *
 *   DOWN --start_connect--> CONNECTING --SO_ERROR 0--> HANDSHAKE --SSL_connect--> IDLE
 *   IDLE --send--> WRITING --all written--> READING --response--> IDLE (or DOWN: close)
 *   any --error/timeout--> DOWN + retry timer; 3 failed connects in a row --> DEAD
 *
 * An IDLE connection sends its next request at once (closed loop, --interval
 * 0) or when the next agent's check-in falls due (a timer).  Timers (retry
 * after an error, next due check-in) live in a binary min-heap.  epoll is
 * level-triggered on EPOLLIN for every connection, EPOLLOUT only while a
 * write or a connect waits; the event data carries a generation so events
 * for a socket closed earlier in the same batch are ignored.  Every loop is
 * bounded: the event loop by the phases' deadlines (checked every 50 ms),
 * reads by a count per wake-up, requests by --timeout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "load.h"

#define MAX_CONNECTING    64     /* handshakes in progress per thread at start-up */
#define MAX_CONNECT_FAILS 3      /* consecutive failures before a connection gives up */
#define RETRY_US          100000 /* back-off before reconnecting after an error */
#define TICK_US           50000  /* phase and timeout checks */
#define READS_PER_WAKE    300    /* SSL_read calls per event (4 MiB / 16 KiB + slack) */
#define MAX_MESSAGES      10     /* error messages printed per run */

enum cstate { C_DOWN, C_CONNECTING, C_HANDSHAKE, C_IDLE, C_WRITING, C_READING, C_DEAD };

struct conn {
	int idx;   /* global connection number k: agents k, k + C, ... */
	int local; /* index in the thread's array */
	int fd;
	SSL *ssl;
	uint32_t gen; /* bumped per socket: stale epoll events are ignored */
	enum cstate state;
	int want_out; /* EPOLLOUT registered */
	int fails;    /* consecutive connect/handshake failures */
	int started;  /* connect attempted at least once */
	int enroller; /* may enroll during the enroll phase */
	int nagents;
	int cursor;    /* next agent: idx + cursor * C */
	int64_t round; /* passes over the agents (interval mode) */
	int agent;     /* the request in flight: agent, kind, phase sent in */
	enum ld_req kind;
	int sent_phase;
	int64_t sent_us, deadline_us;
	struct mm_buf w;  /* the request */
	struct mm_buf rb; /* the response so far */
	struct ld_http resp;
	int hidx; /* heap position, -1 = no timer */
	int64_t wake_us;
};

struct wstate {
	struct ld_thread *t;
	struct ld_run *run;
	const struct ld_opts *o;
	struct ld_counts *k;
	int epfd;
	struct conn *conns;
	int n;
	struct conn **heap;
	int hn;
	int *enroll; /* this thread's agents, enrolled in this order */
	int nenroll, enroll_next;
	int enroll_done;
	int inflight;       /* requests written or awaiting a response */
	int connecting;     /* connects + handshakes in progress */
	int connect_cursor; /* next never-started connection */
	int phase;
	int stopping; /* check-in phase over for this thread: no new requests */
	int64_t now;
	struct mm_buf scratch;
	struct ld_clock clk;
};

const char *const ld_err_names[LD_E_COUNT] = {
    "connect", "tls", "closed", "http", "status", "body", "node_invalid", "timeout",
};

static void conn_kick(struct wstate *w, struct conn *c);

/* ---- timers --------------------------------------------------------------- */

static void heap_swap(struct wstate *w, int i, int j)
{
	struct conn *a = w->heap[i];

	w->heap[i] = w->heap[j];
	w->heap[j] = a;
	w->heap[i]->hidx = i;
	w->heap[j]->hidx = j;
}

static void heap_up(struct wstate *w, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (w->heap[p]->wake_us <= w->heap[i]->wake_us)
			break;
		heap_swap(w, i, p);
		i = p;
	}
}

static void heap_down(struct wstate *w, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->hn && w->heap[l]->wake_us < w->heap[m]->wake_us)
			m = l;
		if (r < w->hn && w->heap[r]->wake_us < w->heap[m]->wake_us)
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

static void timer_cancel(struct wstate *w, struct conn *c)
{
	int i = c->hidx;

	if (i < 0)
		return;
	w->hn--;
	if (i != w->hn) {
		w->heap[i] = w->heap[w->hn];
		w->heap[i]->hidx = i;
		heap_down(w, i);
		heap_up(w, i);
	}
	c->hidx = -1;
}

/* Calls conn_kick(c) at when (monotonic us).  Replaces a pending timer.
 * The heap holds at most one entry per connection, so it never overflows. */
static void timer_set(struct wstate *w, struct conn *c, int64_t when)
{
	timer_cancel(w, c);
	c->wake_us = when;
	c->hidx = w->hn;
	w->heap[w->hn++] = c;
	heap_up(w, c->hidx);
}

/* ---- helpers ---------------------------------------------------------------- */

static void message(struct wstate *w, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void message(struct wstate *w, int kind, const char *fmt, ...)
{
	char text[300];
	va_list ap;

	if (atomic_fetch_add(&w->run->messages, 1) >= MAX_MESSAGES)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mamori-load: error (%s): %s\n", ld_err_names[kind], text);
}

static uint64_t ev_data(const struct conn *c)
{
	return ((uint64_t)c->gen << 32) | (uint32_t)c->local;
}

static void set_out(struct wstate *w, struct conn *c, int on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = ev_data(c)};

	if (c->want_out == on || c->fd < 0)
		return;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = on;
}

/* The first queued OpenSSL error (or errno) as text. */
static void tls_reason(struct conn *c, int sslerr, char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	long v = c->ssl != NULL ? SSL_get_verify_result(c->ssl) : X509_V_OK;

	if (v != X509_V_OK)
		snprintf(buf, n, "certificate verification failed: %s",
		         X509_verify_cert_error_string(v));
	else if (e != 0)
		ERR_error_string_n(e, buf, n);
	else if (sslerr == SSL_ERROR_SYSCALL)
		snprintf(buf, n, "%s", errno != 0 ? strerror(errno) : "unexpected EOF");
	else
		snprintf(buf, n, "SSL error %d", sslerr);
	ERR_clear_error();
}

/* Closes the socket (no error counted).  A request in flight is dropped. */
static void conn_close(struct wstate *w, struct conn *c)
{
	if (c->state == C_WRITING || c->state == C_READING)
		w->inflight--;
	if (c->state == C_CONNECTING || c->state == C_HANDSHAKE)
		w->connecting--;
	if (c->ssl != NULL) {
		if (c->state != C_CONNECTING && c->state != C_HANDSHAKE)
			SSL_shutdown(c->ssl); /* one close_notify, not waited for */
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->want_out = 0;
	c->gen++;
	if (c->kind == LD_R_ENROLL && c->w.data != NULL)
		OPENSSL_cleanse(c->w.data, c->w.len);
	mm_buf_reset(&c->w);
	mm_buf_reset(&c->rb);
	ld_http_reset(&c->resp);
	c->state = C_DOWN;
}

static void connect_more(struct wstate *w);

/* Counts an error of the given kind, closes the connection and schedules a
 * reconnect (or gives up after MAX_CONNECT_FAILS failed connects). */
static void conn_fail(struct wstate *w, struct conn *c, int kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void conn_fail(struct wstate *w, struct conn *c, int kind, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int was_connecting = c->state == C_CONNECTING || c->state == C_HANDSHAKE;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	w->k->errors[kind]++;
	if ((c->state == C_WRITING || c->state == C_READING) && c->sent_phase == LD_P_ENROLL)
		w->k->enroll_errors++;
	message(w, kind, "connection %d: %s", c->idx, text);
	conn_close(w, c);
	if (was_connecting && ++c->fails >= MAX_CONNECT_FAILS) {
		c->state = C_DEAD;
		timer_cancel(w, c);
	} else {
		timer_set(w, c, w->now + RETRY_US * (c->fails > 0 ? c->fails : 1));
	}
	if (was_connecting)
		connect_more(w);
}

/* ---- connecting ------------------------------------------------------------- */

static void start_connect(struct wstate *w, struct conn *c)
{
	const struct ld_opts *o = w->o;
	struct epoll_event ev;
	int one = 1;

	c->started = 1;
	c->state = C_CONNECTING;
	c->deadline_us = w->now + o->timeout_ms * 1000;
	w->connecting++;
	if (c->gen > 0)
		w->k->reconnects++;
	c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(w, c, LD_E_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		conn_fail(w, c, LD_E_CONNECT, "connect: %s", strerror(errno));
		return;
	}
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u64 = ev_data(c);
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_fail(w, c, LD_E_CONNECT, "epoll_ctl: %s", strerror(errno));
		return;
	}
	c->want_out = 1;
}

/* Starts never-started connections while fewer than MAX_CONNECTING are in
 * progress. */
static void connect_more(struct wstate *w)
{
	while (w->connecting < MAX_CONNECTING && w->connect_cursor < w->n) {
		struct conn *c = &w->conns[w->connect_cursor++];
		if (c->state == C_DOWN && !c->started)
			start_connect(w, c);
	}
}

static void do_handshake(struct wstate *w, struct conn *c)
{
	char why[200];
	int r, e;

	ERR_clear_error();
	r = SSL_connect(c->ssl);
	if (r == 1) {
		c->state = C_IDLE;
		c->fails = 0;
		w->connecting--;
		set_out(w, c, 0);
		connect_more(w);
		conn_kick(w, c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		set_out(w, c, 0);
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		set_out(w, c, 1);
		return;
	}
	tls_reason(c, e, why, sizeof(why));
	conn_fail(w, c, LD_E_TLS, "TLS handshake: %s", why);
}

static void connected(struct wstate *w, struct conn *c)
{
	const struct ld_opts *o = w->o;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		conn_fail(w, c, LD_E_CONNECT, "connect to %s: %s", o->hostport, strerror(err));
		return;
	}
	c->ssl = SSL_new(w->run->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		conn_fail(w, c, LD_E_TLS, "SSL_new failed");
		return;
	}
	/* The certificate must name the address we dialled (an IP SAN). */
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), o->host) != 1) {
		conn_fail(w, c, LD_E_TLS, "cannot check the certificate against %s", o->host);
		return;
	}
	SSL_set_connect_state(c->ssl);
	c->state = C_HANDSHAKE;
	do_handshake(w, c);
}

/* ---- requests ---------------------------------------------------------------- */

static void conn_write(struct wstate *w, struct conn *c)
{
	char why[200];
	int n, e;

	ERR_clear_error();
	n = SSL_write(c->ssl, c->w.data, (int)c->w.len);
	if (n > 0) {
		/* Without SSL_MODE_ENABLE_PARTIAL_WRITE a success writes it all. */
		if (c->kind == LD_R_ENROLL)
			OPENSSL_cleanse(c->w.data, c->w.len);
		c->state = C_READING;
		set_out(w, c, 0);
		return;
	}
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE) {
		set_out(w, c, 1);
		return;
	}
	if (e == SSL_ERROR_WANT_READ) {
		set_out(w, c, 0);
		return;
	}
	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && (errno == EPIPE || errno == ECONNRESET))) {
		conn_fail(w, c, LD_E_CLOSED, "closed by the server while sending %s",
		          ld_req_names[c->kind]);
		return;
	}
	tls_reason(c, e, why, sizeof(why));
	conn_fail(w, c, LD_E_TLS, "sending %s: %s", ld_req_names[c->kind], why);
}

static void send_request(struct wstate *w, struct conn *c, int ai, enum ld_req kind)
{
	struct ld_agent *a = &w->run->agents[ai];
	int r;

	mm_buf_reset(&c->w);
	r = ld_build_request(w->run, ai, a, kind, &w->clk, &w->scratch, &c->w);
	if (r != 0) {
		/* Our own request over the 1 MiB cap: a bug in the options check. */
		w->k->errors[LD_E_HTTP]++;
		message(w, LD_E_HTTP, "cannot build a %s request: %s", ld_req_names[kind],
		        mm_strerror(r));
		return;
	}
	c->agent = ai;
	c->kind = kind;
	c->sent_phase = w->phase;
	c->sent_us = w->now;
	c->deadline_us = w->now + w->o->timeout_ms * 1000;
	if (w->o->longpoll && (kind == LD_R_READ || kind == LD_R_WRITE)) {
		/* Parked up to the wait (an answer too waits for the next
		 * work): the timeout starts after it. */
		c->deadline_us += w->o->wait_s * 1000000;
		if (w->phase == LD_P_CHECKIN)
			atomic_fetch_add(&w->run->lp_reads, 1);
		if (w->phase == LD_P_CHECKIN && kind == LD_R_WRITE)
			atomic_fetch_add(&w->run->lp_writes, 1);
	}
	c->state = C_WRITING;
	w->inflight++;
	if (w->phase == LD_P_CHECKIN)
		w->k->sent[kind]++;
	if (kind == LD_R_ENROLL && w->phase == LD_P_CHECKIN)
		w->k->reenrolls++;
	conn_write(w, c);
}

/* The kind of agent a's next check-in (see --mix). */
static enum ld_req next_kind(const struct ld_opts *o, struct ld_agent *a)
{
	uint32_t n = ++a->checkins;

	if (o->longpoll)
		return a->answer != NULL ? LD_R_WRITE : LD_R_READ;
	if (o->config_every > 0 && n % (uint32_t)o->config_every == 0)
		return LD_R_CONFIG;
	if (o->log_every > 0 && n % (uint32_t)o->log_every == 0)
		return LD_R_LOG;
	return LD_R_READ;
}

/* An IDLE connection: send what is due, or set a timer for it. */
static void next_request(struct wstate *w, struct conn *c)
{
	const struct ld_opts *o = w->o;
	struct ld_run *run = w->run;

	if (w->phase == LD_P_ENROLL) {
		if (c->enroller && w->enroll_next < w->nenroll)
			send_request(w, c, w->enroll[w->enroll_next++], LD_R_ENROLL);
		return;
	}
	if (w->phase != LD_P_CHECKIN || w->stopping || c->nagents == 0)
		return;
	if (w->now >= run->checkin_deadline_us) {
		w->stopping = 1;
		return;
	}
	int ai = c->idx + c->cursor * o->connections;
	if (o->interval_ms > 0) {
		int64_t iv = o->interval_ms * 1000;
		int64_t due = run->checkin_start_us + (int64_t)ai * iv / o->agents + c->round * iv;
		if (due > w->now) {
			timer_set(w, c, due);
			return;
		}
	}
	if (o->max_requests > 0 && atomic_fetch_add(&run->tickets, 1) >= o->max_requests) {
		w->stopping = 1;
		return;
	}
	if (++c->cursor == c->nagents) {
		c->cursor = 0;
		c->round++;
	}
	struct ld_agent *a = &run->agents[ai];
	send_request(w, c, ai, a->key[0] != '\0' ? next_kind(o, a) : LD_R_ENROLL);
}

/* Something may be possible for c: (re)connect, or send. */
static void conn_kick(struct wstate *w, struct conn *c)
{
	if (c->state == C_DOWN) {
		if (c->hidx >= 0 || !c->started || w->stopping || w->phase == LD_P_STOP)
			return;
		start_connect(w, c);
	} else if (c->state == C_IDLE) {
		next_request(w, c);
	}
}

static void complete(struct wstate *w, struct conn *c)
{
	struct ld_agent *a = &w->run->agents[c->agent];
	char why[256];
	int queries = 0;
	int keep = c->resp.keep_alive;
	int64_t lat = w->now - c->sent_us;
	int e =
	    ld_check_response_answer(c->kind, c->resp.status, c->resp.body_ptr, c->resp.body_len, a,
	                             w->o->longpoll, &queries, why, sizeof(why));

	w->inflight--;
	if (c->sent_phase == LD_P_ENROLL) {
		ld_hist_add(&w->k->enroll_lat, (uint64_t)lat);
	} else {
		ld_hist_add(&w->k->lat, (uint64_t)lat);
		w->k->last_done_us = w->now;
	}
	if (e < 0 && c->sent_phase == LD_P_ENROLL) {
		w->k->enroll_ok++;
	} else if (e < 0) {
		w->k->ok[c->kind]++;
		w->k->queries_seen += (uint64_t)queries;
	} else {
		w->k->errors[e]++;
		if (c->sent_phase == LD_P_ENROLL)
			w->k->enroll_errors++;
		message(w, e, "agent %d: %s", c->agent, why);
	}
	mm_buf_reset(&c->rb);
	ld_http_reset(&c->resp);
	c->state = C_IDLE;
	if (!keep)
		conn_close(w, c); /* the next kick reconnects */
	if (c->state == C_DOWN && !w->stopping)
		start_connect(w, c);
	else
		conn_kick(w, c);
}

static void conn_read(struct wstate *w, struct conn *c)
{
	char tmp[16384], why[200];

	for (int i = 0; i < READS_PER_WAKE; i++) {
		int n, e, r;

		ERR_clear_error();
		n = SSL_read(c->ssl, tmp, sizeof(tmp));
		if (n > 0) {
			if (c->state != C_READING) {
				conn_fail(w, c, LD_E_HTTP,
				          "%d bytes from the server with no request", n);
				return;
			}
			if (mm_buf_add(&c->rb, tmp, (size_t)n) != 0) {
				conn_fail(w, c, LD_E_HTTP, "response to %s over the size cap",
				          ld_req_names[c->kind]);
				return;
			}
			r = ld_http_parse(&c->resp, c->rb.data, c->rb.len, 0);
			if (r == LD_HTTP_MORE)
				continue;
			if (r < 0) {
				conn_fail(w, c, LD_E_HTTP, "malformed response to %s: %s",
				          ld_req_names[c->kind], mm_strerror(r));
				return;
			}
			complete(w, c);
			return;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return;
		if (e == SSL_ERROR_WANT_WRITE) {
			set_out(w, c, 1);
			return;
		}
		if (e == SSL_ERROR_ZERO_RETURN ||
		    (e == SSL_ERROR_SYSCALL && (n == 0 || errno == ECONNRESET))) {
			if (c->state != C_READING) {
				conn_close(w, c); /* an idle keep-alive connection ended */
				return;
			}
			r = ld_http_parse(&c->resp, mm_buf_str(&c->rb), c->rb.len, 1);
			if (r == LD_HTTP_DONE) {
				complete(w, c);
				return;
			}
			conn_fail(w, c, LD_E_CLOSED,
			          "closed by the server before the response to %s",
			          ld_req_names[c->kind]);
			return;
		}
		if (c->state != C_READING) {
			ERR_clear_error();
			conn_close(w, c);
			return;
		}
		tls_reason(c, e, why, sizeof(why));
		conn_fail(w, c, LD_E_TLS, "reading the response to %s: %s", ld_req_names[c->kind],
		          why);
		return;
	}
}

static void conn_drive(struct wstate *w, struct conn *c, uint32_t ev)
{
	switch (c->state) {
	case C_CONNECTING:
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			connected(w, c);
		break;
	case C_HANDSHAKE: do_handshake(w, c); break;
	case C_WRITING: conn_write(w, c); break;
	case C_READING:
	case C_IDLE: conn_read(w, c); break;
	default: break;
	}
}

/* ---- the loop ------------------------------------------------------------------ */

static void check_timeouts(struct wstate *w)
{
	static const char *const what[] = {
	    [C_CONNECTING] = "connect",
	    [C_HANDSHAKE] = "TLS handshake",
	    [C_WRITING] = "sending",
	    [C_READING] = "waiting for the response",
	};

	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->conns[i];
		if ((c->state == C_CONNECTING || c->state == C_HANDSHAKE || c->state == C_WRITING ||
		     c->state == C_READING) &&
		    w->now > c->deadline_us)
			conn_fail(w, c, LD_E_TIMEOUT, "%s timed out after %lld ms (%s)",
			          what[c->state], (long long)w->o->timeout_ms,
			          c->state >= C_WRITING ? ld_req_names[c->kind] : "-");
	}
}

/* Enroll phase over for this thread: every agent sent and answered, or no
 * connection left that may enroll. */
static int enroll_finished(struct wstate *w)
{
	if (w->inflight > 0)
		return 0;
	if (w->enroll_next >= w->nenroll)
		return 1;
	for (int i = 0; i < w->n; i++)
		if (w->conns[i].enroller && w->conns[i].state != C_DEAD)
			return 0;
	return 1;
}

static void on_phase(struct wstate *w)
{
	if (w->phase != LD_P_CHECKIN)
		return;
	for (int i = 0; i < w->n; i++)
		conn_kick(w, &w->conns[i]);
}

static int setup(struct wstate *w, struct ld_thread *t)
{
	const struct ld_opts *o = t->run->o;
	int nc = 0;

	w->t = t;
	w->run = t->run;
	w->o = o;
	w->k = &t->counts;
	w->phase = LD_P_ENROLL;
	mm_buf_init(&w->scratch, 1024 * 1024);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return MM_ERR_IO;
	for (int k = t->conn_first; k < o->connections; k += o->threads)
		nc++;
	w->n = nc;
	w->conns = calloc((size_t)(nc > 0 ? nc : 1), sizeof(*w->conns));
	w->heap = calloc((size_t)(nc > 0 ? nc : 1), sizeof(*w->heap));
	if (w->conns == NULL || w->heap == NULL)
		return MM_ERR_NOMEM;
	for (int i = 0; i < nc; i++) {
		struct conn *c = &w->conns[i];
		c->idx = t->conn_first + i * o->threads;
		c->local = i;
		c->fd = -1;
		c->hidx = -1;
		c->state = C_DOWN;
		c->enroller = c->idx < o->enroll_concurrency;
		c->nagents = (o->agents - c->idx + o->connections - 1) / o->connections;
		mm_buf_init(&c->w, 1024 * 1024);
		mm_buf_init(&c->rb, LD_MAX_HEADER + 2 * LD_MAX_BODY);
		ld_http_init(&c->resp);
	}
	size_t total = 0;
	for (int i = 0; i < nc; i++)
		total += (size_t)w->conns[i].nagents;
	w->enroll = calloc(total + 1, sizeof(*w->enroll));
	if (w->enroll == NULL)
		return MM_ERR_NOMEM;
	/* Enroll order: first agent of every connection, then the second, ... */
	for (int j = 0;; j++) {
		int any = 0;
		for (int i = 0; i < nc; i++) {
			if (j < w->conns[i].nagents) {
				w->enroll[w->nenroll++] = w->conns[i].idx + j * o->connections;
				any = 1;
			}
		}
		if (!any)
			break;
	}
	return 0;
}

static void teardown(struct wstate *w)
{
	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->conns[i];
		if (c->state != C_DEAD)
			conn_close(w, c);
		mm_buf_free(&c->w);
		mm_buf_free(&c->rb);
		ld_http_free(&c->resp);
	}
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->conns);
	free(w->heap);
	free(w->enroll);
	mm_buf_free(&w->scratch);
}

void *ld_worker_main(void *arg)
{
	struct ld_thread *t = arg;
	struct wstate w;
	struct epoll_event evs[512];
	int64_t next_tick;

	memset(&w, 0, sizeof(w));
	w.epfd = -1;
	if (setup(&w, t) != 0) {
		fprintf(stderr, "mamori-load: thread %d: out of memory or epoll failed\n", t->id);
		atomic_store(&t->run->phase, LD_P_STOP);
		goto out;
	}
	w.now = ld_now_us();
	ld_clock_update(&w.clk);
	connect_more(&w);
	next_tick = w.now + TICK_US;
	for (;;) {
		int phase = atomic_load(&w.run->phase);
		if (phase != w.phase) {
			w.phase = phase;
			on_phase(&w);
		}
		if (w.phase == LD_P_STOP)
			break;
		if (w.phase == LD_P_ENROLL && !w.enroll_done && enroll_finished(&w)) {
			w.enroll_done = 1;
			atomic_fetch_add(&w.run->enrolled_threads, 1);
		}
		if (w.phase == LD_P_CHECKIN && w.now >= w.run->checkin_deadline_us)
			w.stopping = 1;
		if (w.phase == LD_P_CHECKIN && w.stopping && w.inflight == 0)
			break;

		int64_t until = next_tick;
		if (w.hn > 0 && w.heap[0]->wake_us < until)
			until = w.heap[0]->wake_us;
		int ms = until > w.now ? (int)((until - w.now + 999) / 1000) : 0;
		int n = epoll_wait(w.epfd, evs, 512, ms);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "mamori-load: epoll_wait: %s\n", strerror(errno));
			atomic_store(&w.run->phase, LD_P_STOP);
			break;
		}
		w.now = ld_now_us();
		for (int i = 0; i < n; i++) {
			uint32_t local = (uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			if (local >= (uint32_t)w.n || w.conns[local].gen != gen)
				continue;
			conn_drive(&w, &w.conns[local], evs[i].events);
		}
		while (w.hn > 0 && w.heap[0]->wake_us <= w.now) {
			struct conn *c = w.heap[0];
			timer_cancel(&w, c);
			conn_kick(&w, c);
		}
		if (w.now >= next_tick) {
			ld_clock_update(&w.clk);
			check_timeouts(&w);
			next_tick = w.now + TICK_US;
		}
	}
out:
	teardown(&w);
	atomic_fetch_add(&t->run->finished_threads, 1);
	return NULL;
}
