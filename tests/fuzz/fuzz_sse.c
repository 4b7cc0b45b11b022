/*
 * fuzz_sse.c - mamorictl's Server-Sent Events reader (ctl/sse.c) on
 * arbitrary bytes in arbitrary splits, as a coordinator or anything between
 * it and the operator could send them.
 *
 * Input: byte 0 picks the caps (small ones so that both cap errors are
 * reached); the next CHUNK_SIZES bytes are chunk sizes (0..255, cycled),
 * the rest is the stream (the seeds in corpus/sse start with "?7@!~0#P ":
 * both caps 1 MiB, chunks of 55, 64, 33, 126, 48, 35, 80 and 32 bytes, so
 * they stay readable text).  The stream is fed in those chunks, and once more
 * whole to a plain model of the format written here independently of
 * sse.c (whole input, no state carried across feeds).  Checks:
 *   - memory safety, no leak, no UB (the sanitizers);
 *   - every event: a name of 1..CTL_SSE_EVENT_MAX-1 bytes without NUL or
 *     LF (a lone CR is text, as sse.h says); data with len == strlen(data)
 *     (no NUL), within the data cap;
 *   - the reader holds no more than its caps, and no complete line after a
 *     feed that did not stop;
 *   - the chunked run hands over exactly the model's events (name, data,
 *     id: the last id: line's value when it is a whole decimal int64, else
 *     -1) and ends the same way: no split changes what is read.  Only when
 *     the chunked run stops on its unparsed-bytes cap (which depends on the
 *     split) may it have seen a prefix of the model's events;
 *   - "done" stops the events for good (the callback returns CTL_SSE_STOP,
 *     as mamorictl query does); an event named "abort" makes the callback
 *     fail, and that code comes back from the feed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ctl/sse.c"

#define CHUNK_SIZES 8

struct event {
	char *name;
	char *data;
	size_t len;
	int64_t id;
};

/* The events of one run. */
struct log {
	struct event *ev;
	size_t n, alloc;
	size_t data_cap; /* the reader's */
};

static void log_free(struct log *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->ev[i].name);
		free(l->ev[i].data);
	}
	free(l->ev);
	memset(l, 0, sizeof(*l));
}

static void log_add(struct log *l, const char *name, const char *data, size_t len, int64_t id)
{
	struct event *e;

	if (l->n == l->alloc) {
		l->alloc = l->alloc > 0 ? 2 * l->alloc : 16;
		if ((l->ev = realloc(l->ev, l->alloc * sizeof(*l->ev))) == NULL)
			abort();
	}
	e = &l->ev[l->n++];
	e->name = strdup(name);
	e->data = malloc(len + 1);
	if (e->name == NULL || e->data == NULL)
		abort();
	memcpy(e->data, data, len);
	e->data[len] = '\0';
	e->len = len;
	e->id = id;
}

/* The reader's callback: checks the event, records it. */
static int on_event(void *arg, const struct ctl_sse_event *ev)
{
	struct log *l = arg;
	size_t n = strlen(ev->name);

	if (n == 0 || n >= CTL_SSE_EVENT_MAX || strchr(ev->name, '\n') != NULL)
		abort();
	if (ev->data == NULL || strlen(ev->data) != ev->len || ev->len > l->data_cap)
		abort();
	log_add(l, ev->name, ev->data, ev->len, ev->id);
	if (strcmp(ev->name, "done") == 0)
		return CTL_SSE_STOP;
	if (strcmp(ev->name, "abort") == 0)
		return MM_ERR_PARSE;
	return 0;
}

/* ---- the model: the format of sse.h, on the whole input at once ---------------- */

/* Whole decimal int64: optional sign, digits only, no overflow. */
static int64_t model_id(const char *v, size_t n)
{
	size_t i = 0;
	int neg = 0;
	uint64_t x = 0, lim;

	if (n > 0 && (v[0] == '-' || v[0] == '+')) {
		neg = v[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (lim - (uint64_t)(v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (neg)
		return x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
	return (int64_t)x;
}

/* Runs the model on s[0..n).  Returns 0, CTL_SSE_STOP after "done",
 * MM_ERR_PARSE after "abort", MM_ERR_TOOBIG when an event's data passes
 * data_cap. */
static int model(const char *s, size_t n, struct log *l)
{
	char name[CTL_SSE_EVENT_MAX] = "", *data;
	size_t start = 0, dlen = 0, i;
	int64_t id = -1;
	int r = 0;

	data = malloc(l->data_cap + 1);
	if (data == NULL)
		abort();
	for (i = 0; i < n && r == 0; i++) {
		const char *line = s + start, *colon, *v;
		size_t len, flen, vlen;

		if (s[i] != '\n')
			continue;
		len = i - start;
		start = i + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0) {
			if (dlen > 0 || name[0] != '\0') {
				const char *nm = name[0] != '\0' ? name : "message";

				log_add(l, nm, data, dlen, id);
				if (strcmp(nm, "done") == 0)
					r = CTL_SSE_STOP;
				else if (strcmp(nm, "abort") == 0)
					r = MM_ERR_PARSE;
			}
			name[0] = '\0';
			dlen = 0;
			id = -1;
			continue;
		}
		/* A NUL ends the line's text. */
		v = memchr(line, '\0', len);
		if (v != NULL)
			len = (size_t)(v - line);
		if (len > 0 && line[0] == ':')
			continue;
		colon = memchr(line, ':', len);
		flen = colon != NULL ? (size_t)(colon - line) : len;
		v = colon != NULL ? colon + 1 : line + len;
		vlen = (size_t)(line + len - v);
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		if (flen == 2 && memcmp(line, "id", 2) == 0) {
			id = model_id(v, vlen);
		} else if (flen == 5 && memcmp(line, "event", 5) == 0) {
			size_t k = vlen < sizeof(name) - 1 ? vlen : sizeof(name) - 1;

			memcpy(name, v, k);
			name[k] = '\0';
		} else if (flen == 4 && memcmp(line, "data", 4) == 0) {
			size_t add = (dlen > 0 ? 1 : 0) + vlen;

			if (add > l->data_cap - dlen) {
				r = MM_ERR_TOOBIG;
				break;
			}
			if (dlen > 0)
				data[dlen++] = '\n';
			memcpy(data + dlen, v, vlen);
			dlen += vlen;
		}
	}
	free(data);
	return r;
}

/* ---- the run ------------------------------------------------------------------ */

static int same(const struct event *a, const struct event *b)
{
	return strcmp(a->name, b->name) == 0 && a->len == b->len &&
	       memcmp(a->data, b->data, a->len) == 0 && a->id == b->id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct log got = {0}, want = {0};
	static const size_t in_caps[4] = {64, 512, 4096, 1u << 20};
	static const size_t data_caps[4] = {16, 256, 4096, 1u << 20};
	uint8_t sizes[CHUNK_SIZES];
	struct ctl_sse s;
	const char *text;
	size_t n, off = 0, k = 0, i;
	int r = 0, rm, in_full = 0;

	if (size < 1 + CHUNK_SIZES)
		return 0;
	memcpy(sizes, data + 1, CHUNK_SIZES);
	for (i = 0; i < CHUNK_SIZES && sizes[i] == 0; i++)
		;
	if (i == CHUNK_SIZES)
		sizes[0] = 1; /* some progress */
	text = (const char *)data + 1 + CHUNK_SIZES;
	n = size - 1 - CHUNK_SIZES;
	ctl_sse_init(&s, in_caps[data[0] & 3], data_caps[(data[0] >> 2) & 3]);
	got.data_cap = want.data_cap = data_caps[(data[0] >> 2) & 3];

	/* Chunked, as libcurl's write callback hands them over; a chunk of 0
	 * bytes is a feed of nothing (allowed). */
	while (r == 0) {
		size_t c = sizes[k++ % CHUNK_SIZES];
		int over;

		if (c > n - off)
			c = n - off;
		over = c > s.in.cap || s.in.len > s.in.cap - c; /* mm_buf_add's test */
		r = ctl_sse_feed(&s, text + off, c, on_event, &got);
		if (over && r != MM_ERR_TOOBIG)
			abort();
		in_full = over;
		off += c;
		if (off == n)
			break;
	}
	/* The reader never holds more than its caps, nor a whole line. */
	if (s.in.len > s.in.cap || s.data.len > s.data.cap ||
	    (r == 0 && !s.stopped && memchr(s.in.data, '\n', s.in.len) != NULL))
		abort();

	rm = model(text, n, &want);
	if (in_full) {
		if (got.n > want.n)
			abort();
	} else {
		/* Same ending: the stop is not an error for ctl_sse_feed. */
		if (r != (rm == CTL_SSE_STOP ? 0 : rm) || got.n != want.n)
			abort();
		if ((rm == CTL_SSE_STOP) != (s.stopped != 0))
			abort();
	}
	for (i = 0; i < got.n; i++)
		if (!same(&got.ev[i], &want.ev[i]))
			abort();

	/* A reset reader reads a new stream from scratch. */
	ctl_sse_reset(&s);
	if (s.in.len != 0 || s.data.len != 0 || s.event[0] != '\0' || s.id != -1 || s.stopped ||
	    s.scanned != 0)
		abort();
	log_free(&got);
	log_free(&want);
	ctl_sse_free(&s);
	return 0;
}
