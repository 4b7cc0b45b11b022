/*
 * http.c - http.h over libevent: evhttp for HTTP/1.1, bufferevent_openssl
 * for TLS, one event loop on one thread.
 *
 * Request lifetime.  evhttp owns its evhttp_request and frees it once the
 * reply is written (or with the connection).  Handlers see our own struct
 * mm_http_req, which wraps it:
 *
 *   reply in the handler          the wrapper goes back to a free list when
 *                                 the handler returns
 *   mm_http_keep, reply later     the wrapper lives until mm_http_release;
 *                                 while no reply is written the connection
 *                                 is "parked": its close callback is ours,
 *                                 reading is on (without evhttp's read
 *                                 callback) so a client that hangs up is
 *                                 noticed at once, and on_close runs
 *   client gone while kept        libevent detaches the request from the
 *                                 connection and frees the connection; the
 *                                 detached evhttp_request is ours to free
 *                                 (we do it in the close callback); later
 *                                 replies are no-ops
 *   server freed while kept       libevent frees the request with its
 *                                 connection; on_close runs first
 *
 * Body cap: evhttp refuses a body over max_body_size with 413 before
 * reading it (a declared Content-Length at once, a chunked body when a
 * chunk crosses the cap), writes the reply and closes the connection.  The
 * reply is a small HTML page it writes itself: libevent 2.1 has no hook
 * to replace it (the header callback that could run before the body needs
 * the request object, which 2.1 hands out only once the body is read).
 * Every other error is JSON.
 *
 * Lingering close.  The refused body is still coming: had we closed the
 * socket with it unread (or while it was arriving), the kernel would answer
 * with a reset, which makes the client's writes fail and can destroy the
 * 413 before the client reads it.  So every connection gets our close
 * callback (see adopt()), and when evhttp closes a connection whose client
 * has not hung up, we take the socket from the bufferevent before it is
 * closed, shut down our side (the client sees the reply, then the end of
 * the stream) and read and discard what still comes, for at most
 * LINGER_MS and LINGER_BYTES, then close.  That holds for every close with
 * the client still there (an idle timeout, Connection: close), at most
 * LINGER_MAX at a time.  EVHTTP_SERVER_LINGERING_CLOSE is no substitute:
 * it withholds the 413 until the whole declared body has arrived, so a
 * client that waits for the reply before sending waits for the timeout.
 *
 *   closing connection                       close callback
 *   request kept and watched (park)          on_conn_close: no lingering
 *   any other, server running                conn_closed: lingers unless
 *                                            the client already hung up
 *   any, server being freed                  conn_closed: nothing
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "error.h"
#include "http.h"

#define DEFAULT_HEADER_MAX (16u << 10)
#define DEFAULT_BODY_MAX   (8u << 20)
#define DEFAULT_TIMEOUT_S  60
#define LISTEN_BACKLOG     1024
#define PARK_READ_MAX      (64u << 10) /* bytes buffered from a client whose request is kept */
#define FREE_REQS_MAX      256         /* wrappers kept for reuse */
#define LINGER_MS          1000        /* longest a closing connection is drained */
#define LINGER_BYTES       (1u << 20)  /* most bytes drained from one */
#define LINGER_MAX         1024        /* connections drained at once; more close at once */

struct route {
	char *method; /* NULL = any */
	char *path;   /* for a prefix, without the '*' */
	size_t len;
	int prefix;
	mm_http_handler h;
	void *arg;
};

struct call {
	struct call *next;
	void (*fn)(void *arg);
	void *arg;
};

struct timer {
	struct timer *next;
	struct event *ev;
	void (*fn)(void *arg);
	void *arg;
};

/* A closed connection's socket, drained before it is closed (lingering). */
struct drain {
	struct drain *prev, *next;
	struct mm_http_server *s;
	struct event *ev;
	int fd;
	size_t bytes;   /* read and dropped so far */
	int64_t end_ms; /* closed by then at the latest (monotonic) */
};

struct mm_http_server {
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl;
	int port;
	struct timeval tv_timeout;
	struct route *routes;
	size_t nroutes, aroutes;
	int wake_fd; /* eventfd: mm_http_call and mm_http_stop */
	struct event *wake_ev;
	pthread_mutex_t mu; /* calls */
	struct call *calls, **calls_tail;
	int stop_req; /* atomic */
	struct timer *timers;
	struct mm_http_req *kept; /* kept requests, for cleanup */
	struct mm_http_req *free_reqs;
	size_t nfree;
	struct evbuffer *scratch; /* stream chunks */
	int closing;              /* being freed: no more handlers */
	/* Lingering close (see the top of the file). */
	struct event *adopt_ev;     /* runs adopt() after new connections */
	struct bufferevent **fresh; /* their bufferevents, referenced until then */
	size_t nfresh, afresh;
	struct drain *drains; /* sockets being drained before their close */
	size_t ndrains;
};

struct mm_http_req {
	struct mm_http_server *s;
	struct evhttp_request *ev; /* NULL once replied or once the client is gone */
	const char *method;
	const char *path;
	char *path_dec; /* malloc'ed when the path had %-escapes */
	const char *rest;
	char peer[64]; /* filled on first use */
	struct evkeyvalq query;
	const char *body;
	size_t body_len;
	unsigned query_parsed : 1, body_ready : 1, kept : 1, parked : 1, replied : 1, streaming : 1,
	    closed : 1, released : 1, in_handler : 1;
	void (*on_close)(struct mm_http_req *r, void *arg);
	void *close_arg;
	struct mm_http_req *prev, *next; /* kept list; next also links the free list */
};

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_rc;

static void evthread_init(void)
{
	evthread_rc = evthread_use_pthreads();
}

static char *fmt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_err(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* The last OpenSSL error as text (the queue is cleared). */
static const char *ssl_errstr(char *buf, size_t n)
{
	unsigned long e = ERR_get_error(), last = e;

	while (e != 0) {
		last = e;
		e = ERR_get_error();
	}
	if (last == 0)
		snprintf(buf, n, "unknown TLS error");
	else
		ERR_error_string_n(last, buf, n);
	return buf;
}

/* ---- TLS ------------------------------------------------------------------ */

static int tls_setup(struct mm_http_server *s, const struct mm_http_config *cfg, char **err)
{
	char eb[256];
	EVP_PKEY *pk;

	if ((s->ssl = SSL_CTX_new(TLS_server_method())) == NULL) {
		*err = fmt_err("TLS: %s", ssl_errstr(eb, sizeof(eb)));
		return MM_ERR_INTERNAL;
	}
	SSL_CTX_set_min_proto_version(s->ssl, TLS1_2_VERSION);
	SSL_CTX_set_options(s->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                                SSL_OP_NO_COMPRESSION);
	/* Idle keep-alive connections give their 2 x 16 KiB buffers back. */
	SSL_CTX_set_mode(s->ssl, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(s->ssl, (const unsigned char *)"mamori-server", 13);
	if (SSL_CTX_set1_groups_list(s->ssl, "X25519:P-256:P-384") != 1 ||
	    SSL_CTX_set_cipher_list(s->ssl, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL") != 1) {
		*err = fmt_err("TLS: %s", ssl_errstr(eb, sizeof(eb)));
		return MM_ERR_INTERNAL;
	}
	if (SSL_CTX_use_certificate_chain_file(s->ssl, cfg->cert_file) != 1) {
		*err = fmt_err("%s: cannot use the certificate: %s", cfg->cert_file,
		               ssl_errstr(eb, sizeof(eb)));
		return MM_ERR_IO;
	}
	if (SSL_CTX_use_PrivateKey_file(s->ssl, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
		*err = fmt_err("%s: cannot use the private key: %s", cfg->key_file,
		               ssl_errstr(eb, sizeof(eb)));
		return MM_ERR_IO;
	}
	if (SSL_CTX_check_private_key(s->ssl) != 1) {
		*err = fmt_err("%s does not match %s: %s", cfg->key_file, cfg->cert_file,
		               ssl_errstr(eb, sizeof(eb)));
		return MM_ERR_USAGE;
	}
	pk = SSL_CTX_get0_privatekey(s->ssl);
	if (pk == NULL || !EVP_PKEY_is_a(pk, "EC"))
		fprintf(stderr,
		        "mamori-server: warning: %s is not an ECDSA key; handshakes cost"
		        " several times more than with P-256 (mamori-server init makes one)\n",
		        cfg->key_file);
	return 0;
}

/* A TLS bufferevent for a new connection.  It must never return NULL:
 * evhttp would then make a plain socket bufferevent and serve cleartext
 * HTTP on the TLS port.  Both allocations fail only when memory is
 * exhausted, and then the process cannot go on serving anyway. */
static struct bufferevent *tls_bev(struct mm_http_server *s, struct event_base *base)
{
	struct bufferevent *bev;
	SSL *ssl;

	if ((ssl = SSL_new(s->ssl)) == NULL ||
	    (bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                          BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		fprintf(stderr, "mamori-server: out of memory for a TLS connection\n");
		abort();
	}
	/* A client that closes without close_notify is a normal close. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* ---- closing connections: lingering close ------------------------------------ */

/* Monotonic milliseconds: a drain's deadline must not move with the wall
 * clock (mm_http_now_ms follows it). */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain_end(struct drain *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		d->s->drains = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	d->s->ndrains--;
	event_free(d->ev);
	close(d->fd);
	free(d);
}

/* Reads and drops what the client still sends; closes at its end of the
 * stream, on an error, at the deadline or past LINGER_BYTES. */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct drain *d = arg;
	char buf[16384];
	struct timeval tv;
	int64_t left;
	ssize_t n;

	if (what & EV_TIMEOUT)
		goto done;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			d->bytes += (size_t)n;
			if (d->bytes >= LINGER_BYTES)
				goto done;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		goto done; /* end of stream, or the client reset */
	}
	if ((left = d->end_ms - mono_ms()) <= 0)
		goto done;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	if (event_add(d->ev, &tv) == 0)
		return;
done:
	drain_end(d);
}

/* Detaches the socket from a closing connection's bufferevent, so that
 * freeing the bufferevent no longer closes it (both kinds are made with
 * BEV_OPT_CLOSE_ON_FREE, so evhttp does not close it either).  A socket
 * bufferevent closes the descriptor its events watch: set it to -1.  A TLS
 * one closes the descriptor of the SSL's socket BIO (its events keep theirs
 * until it is freed, which deletes them): set the BIO's to -1, without
 * closing.  Returns 0, or -1 when the socket stays the bufferevent's. */
static int detach_fd(struct bufferevent *bev, int fd)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	BIO *bio;

	if (ssl == NULL)
		return bufferevent_setfd(bev, -1) == 0 ? 0 : -1;
	if ((bio = SSL_get_wbio(ssl)) == NULL || BIO_get_fd(bio, NULL) != fd)
		return -1;
	BIO_set_fd(bio, -1, BIO_NOCLOSE);
	return 0;
}

/* Takes the socket fd of bev, which evhttp is freeing, shuts down our side
 * (the client reads the reply, then the end of the stream) and drains it
 * (see the top of the file).  When it cannot (LINGER_MAX drains already,
 * no memory), the bufferevent closes the socket as usual. */
static void drain_start(struct mm_http_server *s, struct bufferevent *bev, int fd)
{
	struct timeval tv = {LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
	struct drain *d;

	if (s->ndrains >= LINGER_MAX || (d = calloc(1, sizeof(*d))) == NULL)
		return;
	if ((d->ev = event_new(s->base, fd, EV_READ, on_drain, d)) == NULL ||
	    detach_fd(bev, fd) != 0) {
		if (d->ev != NULL)
			event_free(d->ev);
		free(d);
		return;
	}
	d->s = s;
	d->fd = fd;
	d->end_ms = mono_ms() + LINGER_MS;
	d->next = s->drains;
	if (d->next != NULL)
		d->next->prev = d;
	s->drains = d;
	s->ndrains++;
	shutdown(fd, SHUT_WR);
	if (event_add(d->ev, &tv) != 0)
		drain_end(d);
}

/* The close callback of every connection (but while a request is parked):
 * evhttp is freeing it.  Unless the client has hung up already or the
 * server is going away, drains the socket before closing it, so that the
 * last reply (a 413 in particular) is not destroyed by a reset. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct mm_http_server *s = arg;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	char c;
	ssize_t n;

	if (s->closing || fd < 0)
		return;
	/* End of stream or an error: nothing more will come, close now. */
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		return;
	drain_start(s, bev, fd);
}

/* Gives the connections made since the last run our close callback.  It
 * runs in the same loop pass as their creation (an active event), before
 * any of them can have read a byte, so each is still alive; the reference
 * taken in new_bev() makes sure of it anyway (a connection evhttp freed at
 * once has had its callbacks cleared and is skipped). */
static void adopt(evutil_socket_t fd, short what, void *arg)
{
	struct mm_http_server *s = arg;
	bufferevent_data_cb rcb, wcb;
	bufferevent_event_cb ecb;
	void *evcon;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < s->nfresh; i++) {
		/* evhttp's callbacks carry its connection as their argument. */
		bufferevent_getcb(s->fresh[i], &rcb, &wcb, &ecb, &evcon);
		if (evcon != NULL && !s->closing &&
		    evhttp_connection_get_bufferevent(evcon) == s->fresh[i])
			evhttp_connection_set_closecb(evcon, conn_closed, s);
		bufferevent_decref(s->fresh[i]);
	}
	s->nfresh = 0;
}

/* evhttp's bufferevent factory, for every new connection: a TLS or a plain
 * socket bufferevent, both closing their socket when freed (detach_fd()
 * relies on it: evhttp closes the socket itself otherwise), remembered for
 * adopt().  Like tls_bev() it never returns NULL. */
static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
	struct mm_http_server *s = arg;
	struct bufferevent *bev, **nf;

	if (s->ssl != NULL)
		bev = tls_bev(s, base);
	else if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		fprintf(stderr, "mamori-server: out of memory for a connection\n");
		abort();
	}
	if (s->nfresh == s->afresh) {
		size_t na = s->afresh ? 2 * s->afresh : 16;

		if ((nf = realloc(s->fresh, na * sizeof(*nf))) == NULL)
			return bev; /* this one will not linger */
		s->fresh = nf;
		s->afresh = na;
	}
	bufferevent_incref(bev);
	s->fresh[s->nfresh++] = bev;
	if (s->nfresh == 1)
		event_active(s->adopt_ev, EV_TIMEOUT, 1);
	return bev;
}

/* ---- the listener ---------------------------------------------------------- */

static int listen_on(struct mm_http_server *s, const char *address, int port, char **err)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char portstr[16];
	int fd = -1, one = 1, r = MM_ERR_IO, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(address, portstr, &hints, &ai)) != 0) {
		*err = fmt_err("listen address %s: %s", address, gai_strerror(gai));
		return MM_ERR_USAGE;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    /* Accepted sockets inherit it: without it a keep-alive TLS reply
	     * waits for the peer's delayed ACK (Nagle), ~15x fewer requests/s. */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		*err = fmt_err("listen on %s port %d: %s", address, port, strerror(errno));
		goto out;
	}
	s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
	                                   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (evhttp_accept_socket_with_handle(s->http, fd) == NULL) {
		*err = fmt_err("listen on %s port %d: cannot add the listener", address, port);
		goto out;
	}
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

/* ---- calls from other threads, stop ------------------------------------------ */

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct mm_http_server *s = arg;
	struct call *c, *next;
	uint64_t v;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fprintf(stderr, "mamori-server: wake-up read: %s\n", strerror(errno));
	if (__atomic_load_n(&s->stop_req, __ATOMIC_ACQUIRE))
		event_base_loopbreak(s->base);
	pthread_mutex_lock(&s->mu);
	c = s->calls;
	s->calls = NULL;
	s->calls_tail = &s->calls;
	pthread_mutex_unlock(&s->mu);
	for (; c != NULL; c = next) {
		next = c->next;
		c->fn(c->arg);
		free(c);
	}
}

static void wake(struct mm_http_server *s)
{
	uint64_t one = 1;
	ssize_t n;

	/* EAGAIN means the counter is already non-zero: the loop will wake. */
	n = write(s->wake_fd, &one, sizeof(one));
	(void)n;
}

int mm_http_call(struct mm_http_server *s, void (*fn)(void *arg), void *arg)
{
	struct call *c;
	int was_empty;

	if ((c = malloc(sizeof(*c))) == NULL)
		return MM_ERR_NOMEM;
	c->next = NULL;
	c->fn = fn;
	c->arg = arg;
	pthread_mutex_lock(&s->mu);
	was_empty = s->calls == NULL;
	*s->calls_tail = c;
	s->calls_tail = &c->next;
	pthread_mutex_unlock(&s->mu);
	if (was_empty)
		wake(s);
	return 0;
}

void mm_http_stop(struct mm_http_server *s)
{
	__atomic_store_n(&s->stop_req, 1, __ATOMIC_RELEASE);
	wake(s);
}

int mm_http_run(struct mm_http_server *s)
{
	if (!__atomic_load_n(&s->stop_req, __ATOMIC_ACQUIRE))
		event_base_dispatch(s->base);
	return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct timer *t = arg;

	(void)fd;
	(void)what;
	t->fn(t->arg);
}

int mm_http_every(struct mm_http_server *s, int interval_ms, void (*fn)(void *arg), void *arg)
{
	struct timeval tv = {interval_ms / 1000, (interval_ms % 1000) * 1000};
	struct timer *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return MM_ERR_NOMEM;
	t->fn = fn;
	t->arg = arg;
	if ((t->ev = event_new(s->base, -1, EV_PERSIST, on_timer, t)) == NULL ||
	    event_add(t->ev, &tv) != 0) {
		if (t->ev != NULL)
			event_free(t->ev);
		free(t);
		return MM_ERR_NOMEM;
	}
	t->next = s->timers;
	s->timers = t;
	return 0;
}

int64_t mm_http_now_ms(struct mm_http_server *s)
{
	struct timeval tv;

	event_base_gettimeofday_cached(s->base, &tv);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- request wrappers ------------------------------------------------------ */

static struct mm_http_req *req_get(struct mm_http_server *s)
{
	struct mm_http_req *r = s->free_reqs;

	if (r != NULL) {
		s->free_reqs = r->next;
		s->nfree--;
	} else if ((r = malloc(sizeof(*r))) == NULL) {
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->s = s;
	return r;
}

static void req_put(struct mm_http_req *r)
{
	struct mm_http_server *s = r->s;

	free(r->path_dec);
	if (r->query_parsed)
		evhttp_clear_headers(&r->query);
	if (s->nfree < FREE_REQS_MAX) {
		r->next = s->free_reqs;
		s->free_reqs = r;
		s->nfree++;
	} else {
		free(r);
	}
}

static void kept_unlink(struct mm_http_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (r->s->kept == r)
		r->s->kept = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

/* The client went away (or the server is being freed) while r was kept. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	struct mm_http_req *r = arg;
	void (*cb)(struct mm_http_req *, void *) = r->on_close;

	(void)evcon;
	r->closed = 1;
	r->parked = 0;
	if (r->ev != NULL) {
		/* Detached (client gone): nobody else will free it.  Still
		 * attached (server freed): libevent frees it next. */
		if (evhttp_request_get_connection(r->ev) == NULL)
			evhttp_request_free(r->ev);
		r->ev = NULL;
	}
	r->on_close = NULL;
	if (cb != NULL)
		cb(r, r->close_arg); /* may release r: do not touch it after */
}

static struct bufferevent *req_bev(struct mm_http_req *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);

	return evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
}

/* Watches a kept request's connection for the client going away. */
static void park(struct mm_http_req *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);
	struct bufferevent *bev;
	bufferevent_data_cb rcb, wcb;
	bufferevent_event_cb ecb;
	void *cbarg;

	if (evcon == NULL)
		return;
	evhttp_connection_set_closecb(evcon, on_conn_close, r);
	r->parked = 1;
	if (r->streaming)
		return; /* evhttp already reads for close detection */
	/* evhttp stops reading while a request is with the handler, so a
	 * hang-up would go unseen until the reply.  Read again, without
	 * evhttp's read callback (it would take the bytes for a new request):
	 * its event callback then sees EOF and frees the connection, which
	 * calls on_conn_close.  evhttp sets its callbacks again when it
	 * writes the reply. */
	bev = evhttp_connection_get_bufferevent(evcon);
	bufferevent_getcb(bev, &rcb, &wcb, &ecb, &cbarg);
	bufferevent_setcb(bev, NULL, wcb, ecb, cbarg);
	bufferevent_setwatermark(bev, EV_READ, 0, PARK_READ_MAX);
	bufferevent_set_timeouts(bev, NULL, &r->s->tv_timeout);
	bufferevent_enable(bev, EV_READ);
}

/* Undoes park() before the final reply. */
static void unpark(struct mm_http_req *r)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev;

	if (!r->parked)
		return;
	r->parked = 0;
	if ((evcon = evhttp_request_get_connection(r->ev)) == NULL)
		return;
	evhttp_connection_set_closecb(evcon, conn_closed, r->s);
	bev = evhttp_connection_get_bufferevent(evcon);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_set_timeouts(bev, &r->s->tv_timeout, &r->s->tv_timeout);
}

/* 1 when a reply may still be written. */
static int can_reply(const struct mm_http_req *r)
{
	return r->ev != NULL && !r->replied && !r->closed;
}

/* ---- dispatch -------------------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type c)
{
	switch (c) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

/* Finds the route for method + path: exact paths first, then the longest
 * prefix.  *path_known is set when some route has this path under another
 * method (-> 405); allow gets those methods. */
static const struct route *find_route(const struct mm_http_server *s, const char *method,
                                      const char *path, int *path_known, char *allow,
                                      size_t allowsz)
{
	const struct route *best = NULL;
	size_t i, plen = strlen(path), best_len = 0;
	int best_exact = 0;

	*path_known = 0;
	allow[0] = '\0';
	for (i = 0; i < s->nroutes; i++) {
		const struct route *rt = &s->routes[i];
		int match = rt->prefix ? plen > rt->len && memcmp(path, rt->path, rt->len) == 0
		                       : plen == rt->len && memcmp(path, rt->path, plen) == 0;

		if (!match)
			continue;
		if (rt->method != NULL && strcmp(rt->method, method) != 0) {
			size_t al = strlen(allow), ml = strlen(rt->method);
			const char *p;

			*path_known = 1;
			for (p = allow; (p = strstr(p, rt->method)) != NULL; p += ml)
				if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
					break;
			if (p == NULL)
				snprintf(allow + al, allowsz - al, "%s%s", al ? ", " : "",
				         rt->method);
			continue;
		}
		if (best == NULL || (!rt->prefix && !best_exact) ||
		    (rt->prefix && !best_exact && rt->len > best_len)) {
			best = rt;
			best_len = rt->len;
			best_exact = !rt->prefix;
		}
	}
	return best;
}

static void on_request(struct evhttp_request *ev, void *arg)
{
	struct mm_http_server *s = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	const struct route *rt;
	struct mm_http_req *r;
	const char *raw = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	char allow[128];
	int known;

	if ((r = req_get(s)) == NULL) {
		evhttp_send_error(ev, 503, "Out of memory");
		return;
	}
	if (s->closing) {
		r->ev = ev;
		mm_http_set_header(r, "Connection", "close");
		mm_http_reply_error(r, 503, "shutting down", "retry later");
		req_put(r);
		return;
	}
	r->ev = ev;
	r->method = method_name(evhttp_request_get_command(ev));
	r->path = raw != NULL && raw[0] != '\0' ? raw : "/";
	if (strchr(r->path, '%') != NULL) {
		size_t n = 0;

		r->path_dec = evhttp_uridecode(r->path, 0, &n);
		if (r->path_dec == NULL || strlen(r->path_dec) != n) {
			mm_http_reply_error(r, 400, "malformed path", NULL);
			req_put(r);
			return;
		}
		r->path = r->path_dec;
	}
	rt = find_route(s, r->method, r->path, &known, allow, sizeof(allow));
	if (rt == NULL) {
		if (known) {
			mm_http_set_header(r, "Allow", allow);
			mm_http_reply_error(r, 405, "method not allowed", allow);
		} else {
			mm_http_reply_error(r, 404, "not found", r->path);
		}
		req_put(r);
		return;
	}
	r->rest = rt->prefix ? r->path + rt->len : "";
	r->in_handler = 1;
	rt->h(r, rt->arg);
	r->in_handler = 0;
	if (r->released) {
		req_put(r);
	} else if (!r->kept) {
		if (r->streaming)
			mm_http_stream_end(r);
		else if (can_reply(r))
			mm_http_reply_error(r, 500, "internal error", "the handler sent no reply");
		req_put(r);
	}
}

int mm_http_route(struct mm_http_server *s, const char *method, const char *path, mm_http_handler h,
                  void *arg)
{
	struct route *rt;
	size_t len = strlen(path);

	if (s->nroutes == s->aroutes) {
		size_t na = s->aroutes ? 2 * s->aroutes : 32;

		if ((rt = realloc(s->routes, na * sizeof(*rt))) == NULL)
			return MM_ERR_NOMEM;
		s->routes = rt;
		s->aroutes = na;
	}
	rt = &s->routes[s->nroutes];
	memset(rt, 0, sizeof(*rt));
	rt->prefix = len > 0 && path[len - 1] == '*';
	rt->len = rt->prefix ? len - 1 : len;
	if ((rt->path = strndup(path, rt->len)) == NULL ||
	    (method != NULL && (rt->method = strdup(method)) == NULL)) {
		free(rt->path);
		return MM_ERR_NOMEM;
	}
	rt->h = h;
	rt->arg = arg;
	s->nroutes++;
	return 0;
}

/* ---- server lifetime --------------------------------------------------------- */

int mm_http_server_new(const struct mm_http_config *cfg, struct mm_http_server **out, char **err)
{
	struct mm_http_server *s = NULL;
	struct event_config *ec = NULL;
	int r = MM_ERR_NOMEM, timeout = cfg->timeout_s > 0 ? cfg->timeout_s : DEFAULT_TIMEOUT_S;

	*out = NULL;
	*err = NULL;
	pthread_once(&evthread_once, evthread_init);
	if (evthread_rc != 0) {
		*err = fmt_err("libevent: cannot enable threads");
		return MM_ERR_INTERNAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	s->wake_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	s->calls_tail = &s->calls;
	s->tv_timeout.tv_sec = timeout;
	s->tv_timeout.tv_usec = 0;
	/* Only the loop thread touches the base (other threads wake it through
	 * wake_fd), so it needs no locks; the changelist folds evhttp's
	 * enable/disable of a connection's events within one loop pass into
	 * at most one epoll_ctl. */
	if ((ec = event_config_new()) == NULL ||
	    event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK |
	                                  EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) != 0 ||
	    (s->base = event_base_new_with_config(ec)) == NULL ||
	    (s->http = evhttp_new(s->base)) == NULL || (s->scratch = evbuffer_new()) == NULL)
		goto out;
	/* Every connection has the same timeout: as a common timeout libevent
	 * keeps them in one list instead of its heap, so re-arming one (each
	 * read and write does) is O(1) instead of O(log connections). */
	{
		const struct timeval *ct = event_base_init_common_timeout(s->base, &s->tv_timeout);

		if (ct != NULL)
			s->tv_timeout = *ct;
	}
	if ((s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		*err = fmt_err("eventfd: %s", strerror(errno));
		r = MM_ERR_IO;
		goto out;
	}
	if ((s->wake_ev = event_new(s->base, s->wake_fd, EV_READ | EV_PERSIST, on_wake, s)) ==
	        NULL ||
	    event_add(s->wake_ev, NULL) != 0 ||
	    (s->adopt_ev = event_new(s->base, -1, 0, adopt, s)) == NULL)
		goto out;
	evhttp_set_max_headers_size(
	    s->http,
	    (ev_ssize_t)(cfg->max_header_size > 0 ? cfg->max_header_size : DEFAULT_HEADER_MAX));
	evhttp_set_max_body_size(
	    s->http, (ev_ssize_t)(cfg->max_body_size > 0 ? cfg->max_body_size : DEFAULT_BODY_MAX));
	evhttp_set_timeout_tv(s->http, &s->tv_timeout);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                        EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	                                        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(s->http, on_request, s);
	if (cfg->cert_file != NULL && (r = tls_setup(s, cfg, err)) != 0)
		goto out;
	evhttp_set_bevcb(s->http, new_bev, s);
	if ((r = listen_on(s, cfg->address != NULL ? cfg->address : "127.0.0.1", cfg->port, err)) !=
	    0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	if (r != 0 && *err == NULL)
		*err = fmt_err("%s", mm_strerror(r));
	if (ec != NULL)
		event_config_free(ec);
	mm_http_server_free(s);
	return r;
}

void mm_http_server_free(struct mm_http_server *s)
{
	struct mm_http_req *r;
	struct timer *t;
	size_t i;

	if (s == NULL)
		return;
	/* From here on no handler runs (what they use, the store, may be
	 * gone already): new requests get 503, timers stop. */
	s->closing = 1;
	while ((t = s->timers) != NULL) {
		s->timers = t->next;
		event_free(t->ev);
		free(t);
	}
	/* Callbacks queued by other threads (the store's done callbacks
	 * after its drain) still run, so their owners reply and release
	 * what they hold; a few loop passes then write those last replies
	 * (an agent whose batch committed gets its ack) and finish
	 * libevent's deferred work. */
	if (s->wake_ev != NULL)
		on_wake(s->wake_fd, EV_READ, s);
	for (i = 0; s->base != NULL && i < 3; i++)
		event_base_loop(s->base, EVLOOP_NONBLOCK);
	for (i = 0; i < s->nfresh; i++)
		bufferevent_decref(s->fresh[i]);
	s->nfresh = 0;
	/* Closes every connection: kept requests get on_close. */
	if (s->http != NULL)
		evhttp_free(s->http);
	if (s->base != NULL)
		event_base_loop(s->base, EVLOOP_NONBLOCK);
	while (s->drains != NULL)
		drain_end(s->drains);
	free(s->fresh);
	if (s->adopt_ev != NULL)
		event_free(s->adopt_ev);
	while ((r = s->kept) != NULL) {
		kept_unlink(r);
		r->ev = NULL;
		req_put(r);
	}
	while ((r = s->free_reqs) != NULL) {
		s->free_reqs = r->next;
		free(r);
	}
	if (s->wake_ev != NULL)
		event_free(s->wake_ev);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->scratch != NULL)
		evbuffer_free(s->scratch);
	if (s->base != NULL)
		event_base_free(s->base);
	SSL_CTX_free(s->ssl);
	for (i = 0; i < s->nroutes; i++) {
		free(s->routes[i].method);
		free(s->routes[i].path);
	}
	free(s->routes);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int mm_http_port(const struct mm_http_server *s)
{
	return s->port;
}

/* ---- the request --------------------------------------------------------------- */

const char *mm_http_method(const struct mm_http_req *r)
{
	return r->method;
}

const char *mm_http_path(const struct mm_http_req *r)
{
	return r->path;
}

const char *mm_http_path_rest(const struct mm_http_req *r)
{
	return r->rest != NULL ? r->rest : "";
}

const char *mm_http_query(const struct mm_http_req *r, const char *name)
{
	struct mm_http_req *w = (struct mm_http_req *)r; /* parsed on first use */

	if (!w->query_parsed) {
		const struct evhttp_uri *uri;
		const char *q;

		TAILQ_INIT(&w->query);
		w->query_parsed = 1;
		if (w->ev == NULL || (uri = evhttp_request_get_evhttp_uri(w->ev)) == NULL ||
		    (q = evhttp_uri_get_query(uri)) == NULL)
			return NULL;
		if (evhttp_parse_query_str(q, &w->query) != 0) {
			evhttp_clear_headers(&w->query);
			TAILQ_INIT(&w->query);
		}
	}
	return evhttp_find_header(&w->query, name);
}

const char *mm_http_header(const struct mm_http_req *r, const char *name)
{
	if (r->ev == NULL)
		return NULL;
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

const char *mm_http_body(const struct mm_http_req *r, size_t *len)
{
	struct mm_http_req *w = (struct mm_http_req *)r;

	if (!w->body_ready && w->ev != NULL) {
		struct evbuffer *b = evhttp_request_get_input_buffer(w->ev);
		size_t n = evbuffer_get_length(b);
		const char *p = NULL;

		if (evbuffer_add(b, "", 1) == 0)
			p = (const char *)evbuffer_pullup(b, -1);
		if (p != NULL) {
			w->body = p;
			w->body_len = n;
			w->body_ready = 1;
		}
	}
	if (!w->body_ready) {
		*len = 0;
		return "";
	}
	*len = w->body_len;
	return w->body;
}

const char *mm_http_peer(const struct mm_http_req *r)
{
	struct mm_http_req *w = (struct mm_http_req *)r;
	struct evhttp_connection *evcon;
	char *addr = NULL;
	ev_uint16_t port = 0;

	if (w->peer[0] == '\0' && w->ev != NULL &&
	    (evcon = evhttp_request_get_connection(w->ev)) != NULL) {
		evhttp_connection_get_peer(evcon, &addr, &port);
		if (addr != NULL)
			snprintf(w->peer, sizeof(w->peer), "%s", addr);
	}
	return w->peer;
}

/* 1 when the Content-Type is application/json, with parameters allowed. */
static int is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

json_t *mm_http_json_body(struct mm_http_req *r, int lenient)
{
	const char *ct = mm_http_header(r, "Content-Type"), *body;
	char detail[300];
	json_error_t je;
	json_t *j;
	size_t len;

	if (ct == NULL ? !lenient : !is_json_type(ct)) {
		mm_http_reply_error(r, 415, "Content-Type must be application/json",
		                    ct != NULL ? ct : "no Content-Type");
		return NULL;
	}
	body = mm_http_body(r, &len);
	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(detail, sizeof(detail), "line %d, column %d: %s", je.line, je.column,
		         je.text);
		mm_http_reply_error(r, 400, "malformed JSON", detail);
		return NULL;
	}
	return j;
}

/* ---- replies ---------------------------------------------------------------------- */

void mm_http_set_header(struct mm_http_req *r, const char *name, const char *value)
{
	struct evkeyvalq *h;

	if (!can_reply(r))
		return;
	h = evhttp_request_get_output_headers(r->ev);
	evhttp_remove_header(h, name);
	evhttp_add_header(h, name, value);
}

/* evhttp queues a reply as several pieces (the head, then the body; a
 * chunk as its size line, data and CRLF), and bufferevent_openssl makes
 * each piece its own SSL_write: its own TLS record and its own write(2),
 * which the client then reads separately too.  A reply that fits one TLS
 * record is made one piece, so it costs one record and one system call. */
#define COALESCE_MAX 16384

static void coalesce(struct bufferevent *bev)
{
	struct evbuffer *out;
	size_t len;

	if (bev == NULL || (out = bufferevent_get_output(bev)) == NULL)
		return;
	len = evbuffer_get_length(out);
	if (len > 0 && len <= COALESCE_MAX && evbuffer_peek(out, -1, NULL, NULL, 0) > 1)
		evbuffer_pullup(out, -1);
}

/* Sends what is in the output buffer as the final reply. */
static void send_final(struct mm_http_req *r, int status, const char *content_type)
{
	struct bufferevent *bev;

	if (content_type != NULL)
		mm_http_set_header(r, "Content-Type", content_type);
	unpark(r);
	bev = req_bev(r);
	evhttp_send_reply(r->ev, status, NULL, NULL);
	coalesce(bev);
	r->ev = NULL;
	r->replied = 1;
}

void mm_http_reply(struct mm_http_req *r, int status, const char *content_type, const void *body,
                   size_t len)
{
	if (!can_reply(r) || r->streaming)
		return;
	if (len > 0)
		evbuffer_add(evhttp_request_get_output_buffer(r->ev), body, len);
	send_final(r, status, content_type);
}

static int dump_to_evbuffer(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

void mm_http_reply_json(struct mm_http_req *r, int status, json_t *j)
{
	struct evbuffer *out;

	if (!can_reply(r) || r->streaming) {
		json_decref(j);
		return;
	}
	out = evhttp_request_get_output_buffer(r->ev);
	if (j == NULL || json_dump_callback(j, dump_to_evbuffer, out, JSON_COMPACT) != 0) {
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add_printf(out, "{\"error\":\"out of memory\",\"detail\":null}");
		status = 500;
	}
	json_decref(j);
	send_final(r, status, "application/json");
}

void mm_http_reply_error(struct mm_http_req *r, int status, const char *msg, const char *detail)
{
	mm_http_reply_json(r, status, json_pack("{s:s, s:s?}", "error", msg, "detail", detail));
}

/* ---- deferred replies and streams --------------------------------------------------- */

void mm_http_keep(struct mm_http_req *r, void (*on_close)(struct mm_http_req *r, void *arg),
                  void *arg)
{
	r->on_close = on_close;
	r->close_arg = arg;
	if (r->kept) {
		if (on_close != NULL && !r->parked && can_reply(r))
			park(r);
		return;
	}
	r->kept = 1;
	r->next = r->s->kept;
	r->prev = NULL;
	if (r->next != NULL)
		r->next->prev = r;
	r->s->kept = r;
	/* Without on_close nobody needs to know early that the client left:
	 * the reply then simply goes nowhere, and the socket calls a park
	 * costs are saved (log ingest keeps every request for a commit). */
	if ((on_close != NULL || r->streaming) && can_reply(r))
		park(r);
}

void mm_http_release(struct mm_http_req *r)
{
	if (r == NULL)
		return;
	if (can_reply(r)) {
		/* The owner forgot to answer: never leave a client hanging. */
		if (r->streaming)
			mm_http_stream_end(r);
		else
			mm_http_reply_error(r, 500, "internal error", "the request was dropped");
	}
	if (r->kept)
		kept_unlink(r);
	r->kept = 0;
	r->on_close = NULL;
	if (r->in_handler) {
		r->released = 1;
		return;
	}
	req_put(r);
}

int mm_http_closed(const struct mm_http_req *r)
{
	return r->closed;
}

void mm_http_stream_begin(struct mm_http_req *r, int status, const char *content_type)
{
	struct bufferevent *bev;

	if (!can_reply(r) || r->streaming)
		return;
	if (content_type != NULL)
		mm_http_set_header(r, "Content-Type", content_type);
	mm_http_set_header(r, "Cache-Control", "no-cache");
	evhttp_send_reply_start(r->ev, status, NULL);
	r->streaming = 1;
	if (r->kept && !r->parked)
		park(r); /* a stream's owner must learn that the client left */
	/* A stream may stay quiet longer than the read timeout: only a
	 * stuck write ends it. */
	if ((bev = req_bev(r)) != NULL)
		bufferevent_set_timeouts(bev, NULL, &r->s->tv_timeout);
}

int mm_http_stream_send(struct mm_http_req *r, const void *data, size_t len)
{
	if (!can_reply(r) || !r->streaming)
		return MM_ERR_IO;
	if (len == 0)
		return 0;
	if (evbuffer_add(r->s->scratch, data, len) != 0)
		return MM_ERR_NOMEM;
	evhttp_send_reply_chunk(r->ev, r->s->scratch);
	evbuffer_drain(r->s->scratch, evbuffer_get_length(r->s->scratch));
	coalesce(req_bev(r));
	return 0;
}

void mm_http_stream_end(struct mm_http_req *r)
{
	struct bufferevent *bev;

	if (!can_reply(r) || !r->streaming)
		return;
	unpark(r);
	if ((bev = req_bev(r)) != NULL)
		bufferevent_set_timeouts(bev, &r->s->tv_timeout, &r->s->tv_timeout);
	evhttp_send_reply_end(r->ev);
	r->ev = NULL;
	r->replied = 1;
}
