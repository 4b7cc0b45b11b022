/*
 * http.h - the coordinator's small HTTP(S) layer over libevent's evhttp.
 *
 * Everything above this header (API handlers, store callbacks) sees only
 * these types, so the library underneath can be swapped.  One event loop,
 * one thread: every function here except mm_http_call() and mm_http_stop()
 * must be called on the loop thread.
 *
 * Settings applied by mm_http_server_new (design brief, section 3):
 *   - TCP_NODELAY on the listener, SO_REUSEADDR, backlog 1024;
 *   - caps on header size and body size (413 for a body over the cap);
 *   - read/write timeouts per connection;
 *   - with TLS: TLS 1.2 minimum, ECDSA P-256 certificate, SSL_MODE_RELEASE_BUFFERS,
 *     the bufferevent callback never returns NULL (evhttp would otherwise
 *     serve plain HTTP on the TLS port), a dirty TLS shutdown is a normal close.
 *
 * Requests can be answered at once or later (deferred): a handler may keep
 * the request, return, and reply from a later loop callback, e.g. when the
 * store's writer thread has committed (log ingest) or when work arrives for
 * a parked long-poll.  A response can also be a stream (Server-Sent Events).
 * If the client goes away first, the close callback (if set) runs and the
 * request handle stays valid (replies become no-ops) until mm_http_release().
 */
#ifndef MM_HTTP_H
#define MM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct mm_http_server;
struct mm_http_req;

struct mm_http_config {
	const char *address;     /* listen address, e.g. "127.0.0.1" */
	int port;                /* 0 = pick a free port (see mm_http_port) */
	const char *cert_file;   /* PEM certificate chain; NULL = plain HTTP (tests, behind a proxy) */
	const char *key_file;    /* PEM private key */
	size_t max_header_size;  /* 0 = 16 KiB */
	size_t max_body_size;    /* 0 = 8 MiB */
	int timeout_s;           /* read/write timeout per connection, 0 = 60 s */
};

/* A route handler.  It must either reply (mm_http_reply*, mm_http_stream_*)
 * before returning or keep the request for a deferred reply. */
typedef void (*mm_http_handler)(struct mm_http_req *req, void *arg);

/* Creates the server and binds the listener.  Returns 0 or MM_ERR_* with
 * *err set (malloc'ed; the certificate/key/bind problem in words). */
int mm_http_server_new(const struct mm_http_config *cfg, struct mm_http_server **out, char **err);
/* Frees the server (closes every connection).  NULL is fine. */
void mm_http_server_free(struct mm_http_server *s);
/* The port actually bound. */
int mm_http_port(const struct mm_http_server *s);

/* Routes METHOD + PATH to a handler.  PATH is exact ("/api/v1/hosts"), or a
 * prefix when it ends with a star ("/api/v1/hosts/<star>" matches "/api/v1/hosts/12"
 * but not "/api/v1/hosts").  Exact routes win over prefixes; the longest
 * prefix wins.  method NULL = any method.  Unknown path -> 404 JSON error,
 * known path with another method -> 405.  Returns 0 or MM_ERR_NOMEM. */
int mm_http_route(struct mm_http_server *s, const char *method, const char *path,
		  mm_http_handler h, void *arg);

/* Runs the loop until mm_http_stop().  Returns 0. */
int mm_http_run(struct mm_http_server *s);
/* Stops the loop soon.  Safe from any thread and from a signal handler. */
void mm_http_stop(struct mm_http_server *s);
/* Runs fn(arg) on the loop thread soon.  Safe from any thread (the store's
 * writer thread uses it to deliver commit results).  Returns 0 or MM_ERR_NOMEM. */
int mm_http_call(struct mm_http_server *s, void (*fn)(void *arg), void *arg);
/* A repeating timer on the loop thread every interval_ms.  Returns 0. */
int mm_http_every(struct mm_http_server *s, int interval_ms, void (*fn)(void *arg), void *arg);
/* Current time in milliseconds (cached per loop iteration, monotonic is not needed). */
int64_t mm_http_now_ms(struct mm_http_server *s);

/* ---- the request ------------------------------------------------------ */
const char *mm_http_method(const struct mm_http_req *r);   /* "GET", "POST", ... */
const char *mm_http_path(const struct mm_http_req *r);     /* decoded path, no query */
/* The part of the path matched by a prefix route's '*' ("12"), else "". */
const char *mm_http_path_rest(const struct mm_http_req *r);
/* A query-string parameter (decoded), or NULL. */
const char *mm_http_query(const struct mm_http_req *r, const char *name);
/* A request header, case-insensitive, or NULL. */
const char *mm_http_header(const struct mm_http_req *r, const char *name);
/* The body (NUL-terminated for convenience); *len gets its length. */
const char *mm_http_body(const struct mm_http_req *r, size_t *len);
/* The peer's address as text ("127.0.0.1"). */
const char *mm_http_peer(const struct mm_http_req *r);
/* Parses the body as JSON after checking Content-Type is application/json
 * (charset parameter allowed; an absent Content-Type is accepted for the
 * osquery agent API only when lenient != 0).  On failure replies itself
 * (415 wrong type, 400 with line/column of the JSON error) and returns
 * NULL; on success returns a new reference. */
json_t *mm_http_json_body(struct mm_http_req *r, int lenient);

/* ---- replies ---------------------------------------------------------- */
/* Sets a response header for the coming reply. */
void mm_http_set_header(struct mm_http_req *r, const char *name, const char *value);
/* Replies with a body (copied).  After a reply the request belongs to the
 * layer again unless mm_http_keep() was called. */
void mm_http_reply(struct mm_http_req *r, int status, const char *content_type,
		   const void *body, size_t len);
/* Replies with JSON (steals the reference to j). */
void mm_http_reply_json(struct mm_http_req *r, int status, json_t *j);
/* Replies {"error": msg, "detail": detail-or-null} with the given status. */
void mm_http_reply_error(struct mm_http_req *r, int status, const char *msg, const char *detail);

/* ---- deferred replies and streams -------------------------------------- */
/* Keeps the request after the handler returns; the owner must reply or
 * stream-end, then call mm_http_release().  If the client disconnects
 * first, on_close(r, arg) runs (once) and later replies are no-ops.  The
 * connection is watched for that only when on_close is given or the reply
 * is a stream: without, a short deferred reply (a store commit) saves the
 * watching, and a vanished client is noticed when the reply is written.
 * Calling it again replaces on_close. */
void mm_http_keep(struct mm_http_req *r, void (*on_close)(struct mm_http_req *r, void *arg),
		  void *arg);
void mm_http_release(struct mm_http_req *r);
/* 1 when the client has gone away. */
int mm_http_closed(const struct mm_http_req *r);
/* Starts a chunked streaming reply (e.g. "text/event-stream"). */
void mm_http_stream_begin(struct mm_http_req *r, int status, const char *content_type);
/* Sends a chunk; returns 0, or MM_ERR_IO when the client is gone. */
int mm_http_stream_send(struct mm_http_req *r, const void *data, size_t len);
/* Ends the stream. */
void mm_http_stream_end(struct mm_http_req *r);

#endif
