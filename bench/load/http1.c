/*
 * http1.c - mamori-load's HTTP/1.1 response parser.
 *
 * Minimal but correct for what a client sending one request at a time needs:
 * the status line, the headers that frame the body (Content-Length,
 * Transfer-Encoding: chunked, Connection), 1xx interim responses skipped,
 * bodies framed by length, by chunks (trailers read and dropped) or by the
 * connection closing.  Bytes past the end of a response are an error: we
 * never pipeline, so the server had no reason to send them.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "load.h"

void ld_http_init(struct ld_http *h)
{
	memset(h, 0, sizeof(*h));
	mm_buf_init(&h->body, LD_MAX_BODY);
	ld_http_reset(h);
}

void ld_http_reset(struct ld_http *h)
{
	struct mm_buf body = h->body;

	mm_buf_reset(&body);
	memset(h, 0, sizeof(*h));
	h->body = body;
	h->content_length = -1;
	h->cleft = -1;
}

void ld_http_free(struct ld_http *h)
{
	mm_buf_free(&h->body);
}

/* Finds "\r\n" in buf[from..len); returns its offset or -1. */
static ssize_t find_crlf(const char *buf, size_t from, size_t len)
{
	for (size_t i = from; i + 1 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n')
			return (ssize_t)i;
	return -1;
}

/* Compares a header name of length n with a lower-case literal. */
static int name_is(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

/* Is the comma-separated token list v[0..n) holding tok (case-insensitive)? */
static int has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);
	size_t i = 0;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* Parses the header block buf[base..hdr_end) into h.  Returns 0 or
 * MM_ERR_PARSE. */
static int parse_head(struct ld_http *h, const char *buf)
{
	size_t pos = h->base;
	ssize_t eol = find_crlf(buf, pos, h->hdr_end);
	int minor, conn_close = 0, conn_keep = 0;

	/* Status line: HTTP/1.x SP 3DIGIT [SP reason] */
	if (eol < 0 || (size_t)eol - pos < 12 || memcmp(buf + pos, "HTTP/1.", 7) != 0)
		return MM_ERR_PARSE;
	if (buf[pos + 7] != '0' && buf[pos + 7] != '1')
		return MM_ERR_PARSE;
	minor = buf[pos + 7] - '0';
	if (buf[pos + 8] != ' ' || !isdigit((unsigned char)buf[pos + 9]) ||
	    !isdigit((unsigned char)buf[pos + 10]) || !isdigit((unsigned char)buf[pos + 11]))
		return MM_ERR_PARSE;
	if ((size_t)eol - pos > 12 && buf[pos + 12] != ' ')
		return MM_ERR_PARSE;
	h->status = (buf[pos + 9] - '0') * 100 + (buf[pos + 10] - '0') * 10 + (buf[pos + 11] - '0');
	if (h->status < 100)
		return MM_ERR_PARSE;
	pos = (size_t)eol + 2;

	/* Header fields up to the blank line (hdr_end - 2). */
	while (pos + 2 < h->hdr_end) {
		eol = find_crlf(buf, pos, h->hdr_end);
		if (eol < 0)
			return MM_ERR_PARSE;
		const char *line = buf + pos;
		size_t n = (size_t)eol - pos;
		const char *colon = memchr(line, ':', n);
		if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t')
			return MM_ERR_PARSE; /* no obsolete line folding either */
		size_t nl = (size_t)(colon - line);
		const char *v = colon + 1;
		size_t vl = n - nl - 1;
		while (vl > 0 && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (name_is(line, nl, "content-length")) {
			int64_t cl = 0;
			if (vl == 0 || vl > 18)
				return MM_ERR_PARSE;
			for (size_t i = 0; i < vl; i++) {
				if (!isdigit((unsigned char)v[i]))
					return MM_ERR_PARSE;
				cl = cl * 10 + (v[i] - '0');
			}
			if (h->content_length >= 0 && h->content_length != cl)
				return MM_ERR_PARSE; /* conflicting lengths */
			h->content_length = cl;
		} else if (name_is(line, nl, "transfer-encoding")) {
			/* Only "chunked" (last) is something we can frame. */
			if (!has_token(v, vl, "chunked"))
				return MM_ERR_PARSE;
			h->chunked = 1;
		} else if (name_is(line, nl, "connection")) {
			conn_close |= has_token(v, vl, "close");
			conn_keep |= has_token(v, vl, "keep-alive");
		}
		pos = (size_t)eol + 2;
	}
	h->keep_alive = minor == 1 ? !conn_close : (conn_keep && !conn_close);
	return 0;
}

/* Decodes chunks from buf[cpos..len).  Returns LD_HTTP_DONE, LD_HTTP_MORE,
 * MM_ERR_PARSE or MM_ERR_TOOBIG. */
static int parse_chunks(struct ld_http *h, const char *buf, size_t len)
{
	for (;;) {
		if (h->ctrailer) {
			/* Trailer lines until an empty one; bounded by the header cap. */
			ssize_t eol = find_crlf(buf, h->cpos, len);
			if (eol < 0)
				return len - h->cpos > LD_MAX_HEADER ? MM_ERR_TOOBIG : LD_HTTP_MORE;
			size_t start = h->cpos;
			h->cpos = (size_t)eol + 2;
			if ((size_t)eol == start)
				return LD_HTTP_DONE;
			continue;
		}
		if (h->cleft < 0) {
			/* chunk-size [; ext] CRLF */
			ssize_t eol = find_crlf(buf, h->cpos, len);
			if (eol < 0)
				return len - h->cpos > 256 ? MM_ERR_PARSE : LD_HTTP_MORE;
			int64_t sz = 0;
			size_t i = h->cpos, digits = 0;
			for (; i < (size_t)eol && isxdigit((unsigned char)buf[i]); i++, digits++) {
				int c = (unsigned char)buf[i];
				int d = isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
				if (digits >= 15)
					return MM_ERR_PARSE;
				sz = sz * 16 + d;
			}
			if (digits == 0 ||
			    (i < (size_t)eol && buf[i] != ';' && buf[i] != ' ' && buf[i] != '\t'))
				return MM_ERR_PARSE;
			h->cpos = (size_t)eol + 2;
			if (sz == 0) {
				h->ctrailer = 1;
				continue;
			}
			if (sz > LD_MAX_BODY || h->body.len + (size_t)sz > LD_MAX_BODY)
				return MM_ERR_TOOBIG;
			h->cleft = sz;
		}
		if (h->cleft > 0) {
			size_t avail = len - h->cpos;
			size_t take = avail < (size_t)h->cleft ? avail : (size_t)h->cleft;
			if (take > 0) {
				int r = mm_buf_add(&h->body, buf + h->cpos, take);
				if (r != 0)
					return r;
				h->cpos += take;
				h->cleft -= (int64_t)take;
			}
			if (h->cleft > 0)
				return LD_HTTP_MORE;
		}
		/* cleft == 0: the chunk's CRLF. */
		if (len - h->cpos < 2)
			return LD_HTTP_MORE;
		if (buf[h->cpos] != '\r' || buf[h->cpos + 1] != '\n')
			return MM_ERR_PARSE;
		h->cpos += 2;
		h->cleft = -1;
	}
}

int ld_http_parse(struct ld_http *h, const char *buf, size_t len, int eof)
{
	int r;

	for (;;) {
		if (h->hdr_end == 0) {
			/* Look for the blank line, resuming 3 bytes back. */
			size_t from = h->scan > h->base + 3 ? h->scan - 3 : h->base;
			const char *p = NULL;
			for (size_t i = from; i + 3 < len; i++) {
				if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
				    buf[i + 3] == '\n') {
					p = buf + i;
					break;
				}
			}
			h->scan = len;
			if (p == NULL) {
				if (len - h->base > LD_MAX_HEADER)
					return MM_ERR_TOOBIG;
				return eof ? MM_ERR_PARSE : LD_HTTP_MORE;
			}
			h->hdr_end = (size_t)(p - buf) + 4;
			if (h->hdr_end - h->base > LD_MAX_HEADER)
				return MM_ERR_TOOBIG;
			if ((r = parse_head(h, buf)) != 0)
				return r;
			if (h->status < 200) {
				/* Interim response (100 Continue, ...): skip it. */
				size_t next = h->hdr_end;
				struct mm_buf body = h->body;
				memset(h, 0, sizeof(*h));
				h->body = body;
				h->content_length = -1;
				h->cleft = -1;
				h->base = h->scan = next;
				continue;
			}
			h->cpos = h->hdr_end;
			if (h->status == 204 || h->status == 304) {
				h->content_length = 0;
				h->chunked = 0;
			} else if (!h->chunked && h->content_length < 0) {
				h->until_close = 1;
				h->keep_alive = 0;
			}
			if (h->content_length > LD_MAX_BODY)
				return MM_ERR_TOOBIG;
		}
		break;
	}

	if (h->chunked) {
		r = parse_chunks(h, buf, len);
		if (r == LD_HTTP_MORE && eof)
			return MM_ERR_PARSE;
		if (r != LD_HTTP_DONE)
			return r;
		if (h->cpos != len)
			return MM_ERR_PARSE;
		h->body_ptr = mm_buf_str(&h->body);
		h->body_len = h->body.len;
		return LD_HTTP_DONE;
	}
	if (h->until_close) {
		if (len - h->hdr_end > LD_MAX_BODY)
			return MM_ERR_TOOBIG;
		if (!eof)
			return LD_HTTP_MORE;
		h->body_ptr = buf + h->hdr_end;
		h->body_len = len - h->hdr_end;
		return LD_HTTP_DONE;
	}
	if (len - h->hdr_end < (size_t)h->content_length)
		return eof ? MM_ERR_PARSE : LD_HTTP_MORE;
	if (len - h->hdr_end > (size_t)h->content_length)
		return MM_ERR_PARSE;
	h->body_ptr = buf + h->hdr_end;
	h->body_len = (size_t)h->content_length;
	return LD_HTTP_DONE;
}
