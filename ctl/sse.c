/*
 * sse.c - the incremental Server-Sent Events reader of sse.h: bytes are
 * appended to one capped buffer, every complete line in it is parsed in
 * place, and the unfinished tail is moved to the front for the next feed.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "sse.h"
#include "strutil.h"

void ctl_sse_init(struct ctl_sse *s, size_t in_cap, size_t data_cap)
{
	memset(s, 0, sizeof(*s));
	mm_buf_init(&s->in, in_cap);
	mm_buf_init(&s->data, data_cap);
	s->id = -1;
}

void ctl_sse_reset(struct ctl_sse *s)
{
	mm_buf_reset(&s->in);
	mm_buf_reset(&s->data);
	s->event[0] = '\0';
	s->id = -1;
	s->stopped = 0;
	s->scanned = 0;
}

void ctl_sse_free(struct ctl_sse *s)
{
	if (s == NULL)
		return;
	mm_buf_free(&s->in);
	mm_buf_free(&s->data);
}

/* Ends the event being read (an empty line): hands it to fn when it has data
 * or a name, then clears it.  Returns what fn returned, or 0. */
static int dispatch(struct ctl_sse *s, ctl_sse_fn fn, void *arg)
{
	struct ctl_sse_event ev;
	int r = 0;

	if (s->data.len > 0 || s->event[0] != '\0') {
		if (s->event[0] == '\0')
			snprintf(s->event, sizeof(s->event), "message");
		ev.name = s->event;
		ev.data = s->data.data != NULL ? s->data.data : "";
		ev.len = s->data.len;
		ev.id = s->id;
		r = fn(arg, &ev);
	}
	mm_buf_reset(&s->data);
	s->event[0] = '\0';
	s->id = -1;
	return r;
}

/* One field line, NUL-terminated in place (not empty, not a comment).
 * Returns 0, or MM_ERR_TOOBIG / MM_ERR_NOMEM when the data cannot grow. */
static int field(struct ctl_sse *s, char *line)
{
	char *colon = strchr(line, ':'), *value = colon != NULL ? colon + 1 : "";
	int r = 0;

	if (colon != NULL)
		*colon = '\0';
	if (*value == ' ')
		value++;
	if (strcmp(line, "id") == 0) {
		if (mm_parse_i64(value, &s->id) != 0)
			s->id = -1;
	} else if (strcmp(line, "event") == 0) {
		snprintf(s->event, sizeof(s->event), "%s", value);
	} else if (strcmp(line, "data") == 0) {
		if (s->data.len > 0)
			r = mm_buf_addc(&s->data, '\n');
		if (r == 0)
			r = mm_buf_adds(&s->data, value);
	}
	return r;
}

int ctl_sse_feed(struct ctl_sse *s, const void *p, size_t n, ctl_sse_fn fn, void *arg)
{
	size_t pos = 0, skip = s->scanned, unfinished = 0;
	int r;

	/* mm_buf_add allocates even for n == 0, so in.data is set below. */
	if ((r = mm_buf_add(&s->in, p, n)) != 0)
		return r;
	/* Bounded by the bytes held: each round consumes one line. */
	while (r == 0 && !s->stopped && pos < s->in.len) {
		char *line = s->in.data + pos, *nl;
		size_t len;

		/* The bytes of the unfinished line kept from the last feed were
		 * searched then: a long line fed in small pieces costs O(n). */
		nl = memchr(line + skip, '\n', s->in.len - pos - skip);
		skip = 0;
		if (nl == NULL) {
			unfinished = s->in.len - pos;
			break;
		}
		len = (size_t)(nl - line);
		pos += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (len == 0) {
			r = dispatch(s, fn, arg);
			if (r > 0) {
				s->stopped = 1;
				r = 0;
			}
		} else if (line[0] != ':') { /* ':' starts a comment: the keep-alive */
			r = field(s, line);
		}
	}
	/* Keep the unparsed tail. */
	if (pos > 0) {
		memmove(s->in.data, s->in.data + pos, s->in.len - pos);
		s->in.len -= pos;
		s->in.data[s->in.len] = '\0';
	}
	s->scanned = unfinished;
	return r;
}
