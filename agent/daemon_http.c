/*
 * daemon_http.c - the daemon's HTTPS client (libcurl): POST a JSON body to
 * the coordinator and parse the JSON answer.
 *
 * TLS: the peer certificate and the host name are verified against the
 * configured CA file only (no system store), TLS 1.2 minimum, https only,
 * no redirects.  One easy handle is reused so connections stay alive
 * between requests.  The response body is capped (16 MiB).  Request bodies
 * carry the node key, so they are never logged and the caller wipes them.
 */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_curl.h" /* libcurl, loaded by the daemon at start */
#include <openssl/crypto.h>

#include "error.h"
#include "version.h"

#define RESPONSE_MAX (16 << 20)

struct mm_httpc {
	CURL *curl;
	char *server;
	int64_t request_timeout_ms;
	int interruptible;
	struct mm_buf resp;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct mm_httpc *c = arg;

	if (mm_buf_add(&c->resp, p, size * n) != 0)
		return 0; /* over the cap: curl fails with CURLE_WRITE_ERROR */
	return size * n;
}

/* Aborts the transfer when SIGTERM/SIGINT is pending (the daemon blocks
 * them and takes them with sigtimedwait between steps), and SIGHUP too
 * during a long poll (interruptible 2). */
static int on_progress(void *arg, curl_off_t dlt, curl_off_t dl, curl_off_t ult, curl_off_t ul)
{
	struct mm_httpc *c = arg;
	sigset_t pending;

	(void)dlt;
	(void)dl;
	(void)ult;
	(void)ul;
	if (!c->interruptible || sigpending(&pending) != 0)
		return 0;
	return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1 ||
	       (c->interruptible == 2 && sigismember(&pending, SIGHUP) == 1);
}

int mm_httpc_new(const struct mm_daemon_config *cfg, struct mm_httpc **out, char **err)
{
	struct mm_httpc *c = NULL;
	CURLcode cc = CURLE_OK;
	int r = MM_ERR_NOMEM;

	*out = NULL;
	*err = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->server = strdup(cfg->server)) == NULL)
		goto out;
	mm_buf_init(&c->resp, RESPONSE_MAX);
	c->request_timeout_ms = cfg->request_timeout_ms;
	if ((c->curl = curl_easy_init()) == NULL) {
		*err = strdup("cannot initialise libcurl");
		r = MM_ERR_INTERNAL;
		goto out;
	}
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (cc == CURLE_OK)                                                                \
			cc = curl_easy_setopt(c->curl, opt, val);                                  \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_CAINFO, cfg->ca_file);
	SET(CURLOPT_CAPATH, (char *)NULL);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, "mamori/" MM_VERSION);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, c);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, c);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
#undef SET
	if (cc != CURLE_OK) {
		struct mm_buf b;
		mm_buf_init(&b, 1024);
		mm_buf_addf(&b, "libcurl: %s", curl_easy_strerror(cc));
		*err = mm_buf_take(&b);
		r = MM_ERR_INTERNAL;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	mm_httpc_free(c);
	if (r == MM_ERR_NOMEM && *err == NULL)
		*err = strdup("out of memory");
	return r;
}

void mm_httpc_free(struct mm_httpc *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	mm_buf_free(&c->resp);
	free(c->server);
	free(c);
}

void mm_httpc_set_interruptible(struct mm_httpc *c, int on)
{
	c->interruptible = on;
}

int mm_httpc_post(struct mm_httpc *c, const char *path, const char *body, size_t len,
                  int64_t timeout_ms, long *status, json_t **resp, char **err)
{
	struct curl_slist *h = NULL, *h2;
	struct mm_buf url, e;
	json_error_t je;
	CURLcode cc;
	int r = MM_ERR_NOMEM;

	*status = 0;
	*resp = NULL;
	*err = NULL;
	mm_buf_init(&url, 8192);
	mm_buf_init(&e, 1024);
	mm_buf_reset(&c->resp);
	c->errbuf[0] = '\0';
	if (mm_buf_addf(&url, "%s%s", c->server, path) != 0)
		goto out;
	if ((h = curl_slist_append(NULL, "Content-Type: application/json")) == NULL)
		goto out;
	if ((h2 = curl_slist_append(h, "Accept: application/json")) == NULL)
		goto out;
	h = h2;
	/* No "Expect: 100-continue" round trip for large bodies. */
	if ((h2 = curl_slist_append(h, "Expect:")) == NULL)
		goto out;
	h = h2;
	curl_easy_setopt(c->curl, CURLOPT_URL, mm_buf_str(&url));
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS,
	                 (long)(timeout_ms > 0 ? timeout_ms : c->request_timeout_ms));
	cc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, (char *)NULL);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	if (cc != CURLE_OK) {
		if (cc == CURLE_WRITE_ERROR && c->resp.len + 1 >= RESPONSE_MAX) {
			mm_buf_addf(&e, "POST %s: response larger than %d bytes", path,
			            RESPONSE_MAX);
			r = MM_ERR_TOOBIG;
		} else {
			mm_buf_addf(&e, "POST %s: %s", path,
			            c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cc));
			r = MM_ERR_IO;
		}
		*err = mm_buf_take(&e);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	*resp = json_loadb(c->resp.data != NULL ? c->resp.data : "", c->resp.len, 0, &je);
	if (*resp == NULL) {
		mm_buf_addf(&e, "POST %s: HTTP %ld with a body that is not JSON (%s)", path,
		            *status, je.text);
		*err = mm_buf_take(&e);
	}
	r = 0;
out:
	curl_slist_free_all(h);
	mm_buf_free(&url);
	mm_buf_free(&e);
	/* The enroll answer holds the node key. */
	if (c->resp.data != NULL)
		OPENSSL_cleanse(c->resp.data, c->resp.len);
	mm_buf_reset(&c->resp);
	if (r == MM_ERR_NOMEM && *err == NULL)
		*err = strdup("out of memory");
	return r;
}
