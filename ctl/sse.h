/*
 * sse.h - an incremental reader of Server-Sent Events (text/event-stream)
 * for mamorictl: bytes in as the network hands them over, in any split,
 * events out through a callback.  `mamorictl query` reads a live query's
 * stream with it (ctl/cmd_query.c); tests/fuzz/fuzz_sse.c feeds it
 * arbitrary bytes.
 *
 * What it understands (the subset the coordinator speaks, see
 * docs/live-queries.md):
 *   - a line ends at LF; one CR right before the LF is dropped (CRLF);
 *   - a NUL byte ends a line's text (the rest of that line is ignored);
 *   - an empty line ends the event being read: it is handed over when it
 *     has data or a name, then its fields are cleared (also its id: an id
 *     does not carry over to the next event);
 *   - a line starting with ':' is a comment (the keep-alive);
 *   - "FIELD: VALUE" or "FIELD:VALUE" (one space after the colon is dropped;
 *     a line without a colon is a field with an empty value):
 *       id     the event's id, a whole decimal int64 (mm_parse_i64), else -1
 *       event  its name, cut to CTL_SSE_EVENT_MAX - 1 bytes; "" = none
 *       data   one more line of data: data lines are joined with '\n'
 *     other fields are ignored.
 * An event's name is "message" when it had no event: line.  Bytes after
 * the last LF wait in the reader for the next feed.
 */
#ifndef MM_CTL_SSE_H
#define MM_CTL_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CTL_SSE_EVENT_MAX 32 /* bytes of an event name with its NUL */
#define CTL_SSE_STOP      1  /* a callback's "no more events": see ctl_sse_feed */

/* The reader.  Fields are private to sse.c except in a callback (below). */
struct ctl_sse {
	struct mm_buf in;              /* bytes fed and not parsed yet */
	struct mm_buf data;            /* the data lines of the event being read */
	char event[CTL_SSE_EVENT_MAX]; /* its name, "" = no event: line yet */
	int64_t id;                    /* its id: value, -1 = none or not a number */
	int stopped;                   /* a callback returned CTL_SSE_STOP */
	size_t scanned;                /* leading bytes of in known to hold no LF */
};

/* One complete event, valid only during the callback. */
struct ctl_sse_event {
	const char *name; /* never empty; at most CTL_SSE_EVENT_MAX - 1 bytes */
	const char *data; /* the data lines joined by '\n', NUL-terminated, "" when none */
	size_t len;       /* strlen(data): data never holds a NUL byte */
	int64_t id;       /* the id: field as parsed, -1 when none or not a number */
};

/* Called for each complete event.  Returns 0 to go on, CTL_SSE_STOP to stop
 * reading events for good (until ctl_sse_reset), or a negative MM_ERR_* to
 * stop this feed with that code. */
typedef int (*ctl_sse_fn)(void *arg, const struct ctl_sse_event *ev);

/* Initialises an empty reader.  in_cap bounds the bytes it holds unparsed
 * (an unfinished line plus the rest of one feed), data_cap the data of one
 * event.  Nothing is allocated until the first feed. */
void ctl_sse_init(struct ctl_sse *s, size_t in_cap, size_t data_cap);
/* Forgets everything read (a new connection): unparsed bytes, the event
 * being read, a stop.  The caps are kept. */
void ctl_sse_reset(struct ctl_sse *s);
/* Frees what the reader holds.  NULL is fine. */
void ctl_sse_free(struct ctl_sse *s);

/* Appends the n bytes at p (n may be 0) and parses every complete line,
 * calling fn(arg, event) for each complete event in stream order.
 * Returns 0; MM_ERR_TOOBIG when the unparsed bytes would pass in_cap
 * (nothing of p is then taken) or an event's data would pass data_cap;
 * MM_ERR_NOMEM; or the negative code fn returned.  After any error the
 * stream is broken: the caller drops it (ctl_sse_reset before reading
 * another).  After fn returned CTL_SSE_STOP, later feeds still take bytes
 * (within in_cap) but call fn no more. */
int ctl_sse_feed(struct ctl_sse *s, const void *p, size_t n, ctl_sse_fn fn, void *arg);

#endif
