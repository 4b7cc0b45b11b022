/*
 * buf.c - capped growable buffer; see buf.h.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void mm_buf_init(struct mm_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void mm_buf_free(struct mm_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void mm_buf_reset(struct mm_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int grow(struct mm_buf *b, size_t need)
{
	size_t want;
	char *p;

	if (need > b->cap)
		return MM_ERR_TOOBIG;
	if (need + 1 <= b->alloc)
		return 0;
	want = b->alloc ? b->alloc : 64;
	while (want < need + 1)
		want *= 2;
	if (want > b->cap + 1)
		want = b->cap + 1;
	if ((p = realloc(b->data, want)) == NULL)
		return MM_ERR_NOMEM;
	b->data = p;
	b->alloc = want;
	return 0;
}

int mm_buf_add(struct mm_buf *b, const void *p, size_t n)
{
	int r;

	if (n > b->cap || b->len > b->cap - n)
		return MM_ERR_TOOBIG;
	if ((r = grow(b, b->len + n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int mm_buf_adds(struct mm_buf *b, const char *s)
{
	return mm_buf_add(b, s, strlen(s));
}

int mm_buf_addc(struct mm_buf *b, char c)
{
	return mm_buf_add(b, &c, 1);
}

int mm_buf_vaddf(struct mm_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	int r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return MM_ERR_INTERNAL;
	if ((size_t)n > b->cap || b->len > b->cap - (size_t)n)
		return MM_ERR_TOOBIG;
	if ((r = grow(b, b->len + (size_t)n)) != 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int mm_buf_addf(struct mm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = mm_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *mm_buf_str(const struct mm_buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *mm_buf_take(struct mm_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
