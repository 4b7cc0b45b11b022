/*
 * client.c - mamorictl's HTTPS requests to the coordinator (libcurl +
 * jansson).  See client.h for the contract.
 *
 * Each request resets the easy handle and sets every option again, so no
 * option leaks from one request into the next, while libcurl keeps the
 * connection (and the TLS session) alive between them.  Transport failures
 * become one clear sentence naming the server URL; HTTP errors become the
 * server's own {"error","detail"} as "ERROR: DETAIL".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "client.h"
#include "error.h"
#include "version.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_TOTAL_MS 60000
#define MAX_URL (64u << 10)

struct ctl_client {
	CURL *curl;
	char *server;               /* base URL without a trailing '/' */
	char *ca;                   /* CA file or NULL */
	char *token;                /* bearer token or NULL; wiped on free */
	int64_t connect_timeout_ms;
	int64_t timeout_ms;
	long status;                /* HTTP status of the last answer, 0 = none */
	int toobig;                 /* the last answer hit CTL_MAX_RESPONSE */
	struct mm_buf body;         /* the last answer's body */
	char errbuf[CURL_ERROR_SIZE];
};

/* malloc'ed printf; NULL on out-of-memory (the callers then report NOMEM). */
static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	struct mm_buf b;
	va_list ap;
	int r;

	mm_buf_init(&b, 1u << 20);
	va_start(ap, fmt);
	r = mm_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (r != 0) {
		mm_buf_free(&b);
		return NULL;
	}
	return mm_buf_take(&b);
}

/* Replaces control characters in text that came from the network, so a
 * server cannot drive the operator's terminal: newlines and tabs become
 * spaces, other controls '?'. */
static void sanitize(char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\n' || ch == '\r' || ch == '\t')
			*s = ' ';
		else if (ch < 0x20 || ch == 0x7f)
			*s = '?';
	}
}

int ctl_check_server_url(const char *url, char **err)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *query = NULL;
	int r = MM_ERR_USAGE;

	*err = NULL;
	if ((u = curl_url()) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		*err = xasprintf("server URL '%s' is not a URL (expected https://HOST:PORT)", url);
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0) {
		*err = xasprintf("server URL '%s' must start with https:// (TLS is always used)",
				 url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    strchr(url, '#') != NULL) {
		*err = xasprintf("server URL '%s' must not have a query or fragment", url);
		goto out;
	}
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(query);
	curl_url_cleanup(u);
	if (r != 0 && *err == NULL)
		r = MM_ERR_NOMEM;
	return r;
}

int ctl_client_new(const struct ctl_client_opts *o, struct ctl_client **out, char **err)
{
	struct ctl_client *c = NULL;
	size_t n;
	int r;

	*out = NULL;
	*err = NULL;
	if ((r = ctl_check_server_url(o->server, err)) != 0)
		return r;
	r = MM_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	mm_buf_init(&c->body, CTL_MAX_RESPONSE);
	if ((c->server = strdup(o->server)) == NULL)
		goto out;
	n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	if (o->ca != NULL && (c->ca = strdup(o->ca)) == NULL)
		goto out;
	if (o->token != NULL && (c->token = strdup(o->token)) == NULL)
		goto out;
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
							   : DEFAULT_CONNECT_MS;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TOTAL_MS;
	if ((c->curl = curl_easy_init()) == NULL) {
		*err = xasprintf("cannot initialise libcurl");
		r = MM_ERR_INTERNAL;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	ctl_client_free(c);
	return r;
}

void ctl_client_free(struct ctl_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->token != NULL) {
		OPENSSL_cleanse(c->token, strlen(c->token));
		free(c->token);
	}
	if (c->body.data != NULL)
		OPENSSL_cleanse(c->body.data, c->body.alloc);
	mm_buf_free(&c->body);
	free(c->server);
	free(c->ca);
	free(c);
}

long ctl_client_status(const struct ctl_client *c)
{
	return c->status;
}

/* libcurl write callback: collects the body up to its cap. */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct ctl_client *c = arg;

	if (mm_buf_add(&c->body, p, size * n) != 0) {
		c->toobig = 1;
		return 0;
	}
	return size * n;
}

/* Sets every option of one request.  Returns 0 or MM_ERR_INTERNAL when
 * libcurl refuses an option (it lacks a feature we insist on). */
static int setup(struct ctl_client *c, const char *url, const char *method, const char *payload,
		 size_t payload_len, struct curl_slist *hdrs)
{
	CURL *h = c->curl;
	CURLcode e = CURLE_OK;

#define SET(opt, val)                                        \
	do {                                                 \
		if (e == CURLE_OK)                           \
			e = curl_easy_setopt(h, opt, val);   \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->ca != NULL) {
		/* Only the operator's CA: no fallback to the system directory. */
		SET(CURLOPT_CAINFO, c->ca);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, c);
	SET(CURLOPT_USERAGENT, "mamorictl/" MM_VERSION);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (c->token != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		SET(CURLOPT_XOAUTH2_BEARER, c->token);
	}
	if (strcmp(method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
		if (payload != NULL || strcmp(method, "POST") == 0) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_len);
			SET(CURLOPT_POSTFIELDS, payload != NULL ? payload : "");
		}
	}
#undef SET
	return e == CURLE_OK ? 0 : MM_ERR_INTERNAL;
}

/* The sentence for a transfer that got no HTTP answer. */
static char *transport_error(struct ctl_client *c, CURLcode rc)
{
	const char *why = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc);
	long oserr = 0;
	char *m;

	sanitize(c->errbuf);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		m = xasprintf("cannot resolve the server's host name in %s: %s", c->server, why);
		break;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
		m = xasprintf("cannot connect to %s: %s (is mamori-server running?)", c->server,
			      oserr != 0 ? strerror((int)oserr) : why);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		m = xasprintf("no answer from %s in time (--timeout): %s", c->server, why);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		m = xasprintf("TLS verification of %s failed: %s (trusted CA: %s)", c->server, why,
			      c->ca != NULL ? c->ca : "the system store; use --ca FILE");
		break;
	case CURLE_SSL_CACERT_BADFILE:
		m = xasprintf("cannot use the CA file %s: %s", c->ca != NULL ? c->ca : "(default)",
			      why);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		m = xasprintf("TLS handshake with %s failed: %s", c->server, why);
		break;
	case CURLE_WRITE_ERROR:
		if (c->toobig) {
			m = xasprintf("the answer from %s is over %u MiB", c->server,
				      CTL_MAX_RESPONSE >> 20);
			break;
		}
		/* fall through */
	default:
		m = xasprintf("request to %s failed: %s", c->server, why);
		break;
	}
	return m;
}

/* The sentence for an HTTP error answer: "ERROR: DETAIL" from the server's
 * JSON error body, else "HTTP N from URL". */
static char *http_error(struct ctl_client *c, const json_t *j)
{
	const json_t *e = json_is_object(j) ? json_object_get(j, "error") : NULL;
	const json_t *d = json_is_object(j) ? json_object_get(j, "detail") : NULL;
	char *m = NULL, *dd = NULL;

	if (json_is_string(e)) {
		if (json_is_string(d) && json_string_length(d) > 0)
			m = xasprintf("%s: %s", json_string_value(e), json_string_value(d));
		else if (d != NULL && !json_is_null(d) && !json_is_string(d) &&
			 (dd = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL)
			m = xasprintf("%s: %s", json_string_value(e), dd);
		else
			m = xasprintf("%s", json_string_value(e));
		free(dd);
	} else {
		m = xasprintf("HTTP %ld from %s", c->status, c->server);
	}
	sanitize(m);
	return m;
}

int ctl_client_request(struct ctl_client *c, const char *method, const char *path,
		       const json_t *body, json_t **resp, char **err)
{
	struct mm_buf url;
	struct curl_slist *hdrs = NULL, *t;
	char *payload = NULL;
	json_t *j = NULL;
	json_error_t jerr;
	CURLcode rc;
	int r = MM_ERR_NOMEM;

	*resp = NULL;
	*err = NULL;
	mm_buf_init(&url, MAX_URL);
	if (c->body.data != NULL)
		OPENSSL_cleanse(c->body.data, c->body.alloc);
	mm_buf_reset(&c->body);
	c->status = 0;
	c->toobig = 0;
	c->errbuf[0] = '\0';
	if ((r = mm_buf_adds(&url, c->server)) != 0 || (r = mm_buf_adds(&url, path)) != 0) {
		*err = xasprintf("request URL too long");
		goto out;
	}
	r = MM_ERR_NOMEM;
	if (body != NULL && (payload = json_dumps(body, JSON_COMPACT)) == NULL)
		goto out;
	/* "Expect:" turns off 100-continue: no 1 s wait before larger bodies. */
	if ((t = curl_slist_append(hdrs, "Accept: application/json")) == NULL)
		goto out;
	hdrs = t;
	if (payload != NULL) {
		if ((t = curl_slist_append(hdrs, "Content-Type: application/json")) == NULL)
			goto out;
		hdrs = t;
		if ((t = curl_slist_append(hdrs, "Expect:")) == NULL)
			goto out;
		hdrs = t;
	}
	curl_easy_reset(c->curl);
	if ((r = setup(c, mm_buf_str(&url), method, payload, payload ? strlen(payload) : 0,
		       hdrs)) != 0) {
		*err = xasprintf("libcurl lacks a required feature (HTTPS, TLS 1.2, bearer auth)");
		goto out;
	}
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		r = c->toobig ? MM_ERR_TOOBIG : MM_ERR_IO;
		*err = transport_error(c, rc);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
	j = json_loadb(c->body.data != NULL ? c->body.data : "", c->body.len,
		       JSON_DECODE_ANY, &jerr);
	if (c->status < 200 || c->status > 299) {
		*err = http_error(c, j);
		if (c->status == 401 || c->status == 403)
			r = MM_ERR_DENIED;
		else if (c->status == 404)
			r = MM_ERR_NOTFOUND;
		else
			r = MM_ERR_INTERNAL;
		goto out;
	}
	if (j == NULL) {
		*err = xasprintf("the answer from %s (HTTP %ld) is not JSON: %s", c->server,
				 c->status, jerr.text);
		sanitize(*err);
		r = MM_ERR_PARSE;
		goto out;
	}
	*resp = j;
	j = NULL;
	r = 0;
out:
	if (r != 0 && *err == NULL)
		*err = xasprintf("%s", mm_strerror(r));
	json_decref(j);
	curl_slist_free_all(hdrs);
	if (payload != NULL) {
		OPENSSL_cleanse(payload, strlen(payload));
		free(payload);
	}
	mm_buf_free(&url);
	return r;
}

int ctl_path_segment(struct mm_buf *path, const char *seg)
{
	char *e;
	int r;

	if ((e = curl_easy_escape(NULL, seg, 0)) == NULL)
		return MM_ERR_NOMEM;
	if ((r = mm_buf_addc(path, '/')) == 0)
		r = mm_buf_adds(path, e);
	curl_free(e);
	return r;
}

int ctl_path_query(struct mm_buf *path, const char *name, const char *value)
{
	char *e;
	int r;

	if (value == NULL)
		return 0;
	if ((e = curl_easy_escape(NULL, value, 0)) == NULL)
		return MM_ERR_NOMEM;
	r = mm_buf_addf(path, "%c%s=%s", strchr(mm_buf_str(path), '?') != NULL ? '&' : '?', name,
			e);
	curl_free(e);
	return r;
}
