/*
 * client.h - mamorictl's HTTPS client for the coordinator's operator API
 * (docs/api.md): libcurl for the transfer, jansson for the bodies.
 *
 * TLS is always verified: the peer's chain against the CA file given
 * (only that file) or the system store, and the host name; TLS 1.2 at
 * least; https:// only, no redirects.  The token goes out as
 * "Authorization: Bearer ..." and appears in no message.  One client keeps
 * its connection alive between requests (paging).
 */
#ifndef MM_CTL_CLIENT_H
#define MM_CTL_CLIENT_H

#include <stdint.h>

#include <jansson.h>

#include "buf.h"

struct ctl_client;

struct ctl_client_opts {
	const char *server;         /* base URL, https:// */
	const char *ca;             /* PEM CA file, or NULL for the system store */
	const char *token;          /* bearer token, or NULL */
	int64_t connect_timeout_ms; /* 0 = 10 s */
	int64_t timeout_ms;         /* whole request, 0 = 60 s */
};

/* Largest response body accepted (a page of 10000 results fits well). */
#define CTL_MAX_RESPONSE (256u << 20)

/* Checks that url is an absolute https:// URL with a host.  Returns 0, or
 * MM_ERR_USAGE with *err (malloc'ed). */
int ctl_check_server_url(const char *url, char **err);

/* Creates a client (copies the options; the token copy is wiped on free).
 * Returns 0, MM_ERR_USAGE (bad URL) or MM_ERR_NOMEM/MM_ERR_INTERNAL with
 * *err (malloc'ed). */
int ctl_client_new(const struct ctl_client_opts *o, struct ctl_client **out, char **err);
/* Frees the client.  NULL is fine. */
void ctl_client_free(struct ctl_client *c);

/* Sends METHOD server+path (path starts with '/', query string included,
 * already escaped) with body (JSON, may be NULL) and parses the answer.
 * Returns 0 for a 2xx answer with a JSON body: *resp gets a new reference.
 * Otherwise returns:
 *   MM_ERR_IO      no answer: connection refused, TLS verification failed,
 *                  timeout ... (*err names the server URL and the cause);
 *   MM_ERR_DENIED  401 or 403, MM_ERR_NOTFOUND 404, MM_ERR_PARSE a 2xx
 *                  answer that is not JSON, MM_ERR_INTERNAL other statuses:
 *                  *err is "ERROR: DETAIL" from the server's
 *                  {"error","detail"} body, or "HTTP N from URL";
 *   MM_ERR_TOOBIG  the answer is over CTL_MAX_RESPONSE;
 * with *err malloc'ed, control characters from the server replaced. */
int ctl_client_request(struct ctl_client *c, const char *method, const char *path,
		       const json_t *body, json_t **resp, char **err);
/* The HTTP status of the last answer (0 when there was none). */
long ctl_client_status(const struct ctl_client *c);

/* Appends "/" + seg, percent-escaped, to a path being built.  Returns 0 or
 * MM_ERR_NOMEM / MM_ERR_TOOBIG. */
int ctl_path_segment(struct mm_buf *path, const char *seg);
/* Appends "?name=value" (or "&name=value" when the path already has a query)
 * with value escaped.  value NULL appends nothing.  Returns 0 or MM_ERR_*. */
int ctl_path_query(struct mm_buf *path, const char *name, const char *value);

#endif
