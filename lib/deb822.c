/*
 * deb822.c - the deb822 stanza parser (see deb822.h for the format, the
 * folding rule and the error policy).
 *
 * One pass over the input, line by line.  A stanza's names and values are
 * copied NUL-terminated into one scratch buffer (capped at max_stanza) that
 * is reused for every stanza, so a whole file costs two allocations that
 * grow to the largest stanza, not one per field.  Fields are recorded as
 * offsets while the buffer may still move and turned into pointers when the
 * stanza is complete.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "deb822.h"
#include "error.h"

struct fld {
	size_t name_off;  /* offset of the name in text */
	size_t name_len;  /* bytes of the name */
	size_t value_off; /* offset of the value in text */
	size_t value_len; /* bytes of the value so far */
	int line;         /* first line of the field */
};

struct mm_deb822 {
	const char *buf;             /* input, not owned */
	size_t len, pos;             /* input length, next unread byte */
	int line;                    /* lines consumed so far */
	int errors;                  /* problems reported in total */
	struct mm_deb822_opts o;     /* options with defaults filled in */
	struct mm_buf text;          /* current stanza's names and values */
	struct fld *f;               /* current stanza's fields */
	size_t nf, af;               /* used, allocated */
	struct mm_deb822_field *out; /* pointers handed to the caller */
	size_t aout;                 /* allocated entries of out */
	struct mm_deb822_stanza st;  /* the stanza handed to the caller */
};

static void report(struct mm_deb822 *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct mm_deb822 *p, int line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	p->errors++;
	p->st.nerrors++;
	if (p->o.on_error == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->o.on_error(p->o.arg, line, msg);
}

int mm_deb822_new(const char *buf, size_t len, const struct mm_deb822_opts *o,
		  struct mm_deb822 **out)
{
	struct mm_deb822 *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return MM_ERR_NOMEM;
	p->buf = buf;
	p->len = buf != NULL ? len : 0;
	if (o != NULL)
		p->o = *o;
	if (p->o.max_value == 0)
		p->o.max_value = MM_DEB822_MAX_VALUE;
	if (p->o.max_fields == 0)
		p->o.max_fields = MM_DEB822_MAX_FIELDS;
	if (p->o.max_stanza == 0)
		p->o.max_stanza = MM_DEB822_MAX_STANZA;
	mm_buf_init(&p->text, p->o.max_stanza);
	*out = p;
	return 0;
}

void mm_deb822_free(struct mm_deb822 *p)
{
	if (p == NULL)
		return;
	mm_buf_free(&p->text);
	free(p->f);
	free(p->out);
	free(p);
}

int mm_deb822_errors(const struct mm_deb822 *p) { return p != NULL ? p->errors : 0; }

static int is_ws(char c) { return c == ' ' || c == '\t'; }

/* Checks that a line is text: no control bytes other than tab, valid UTF-8.
 * Returns 0, or the 1-based column of the first bad byte (its description
 * in *why). */
static size_t bad_byte(const char *s, size_t n, const char **why)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k, need;
	unsigned char c;

	while (i < n) {
		c = u[i];
		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		if (c == '\t') {
			i++;
			continue;
		}
		if (c < 0x80) {
			*why = "binary data";
			return i + 1;
		}
		/* Multi-byte UTF-8: lead byte, then 1-3 continuation bytes. */
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3;
		else
			need = 0;
		if (need == 0 || need >= n - i) {
			*why = "invalid UTF-8";
			return i + 1;
		}
		for (k = 1; k <= need; k++) {
			if ((u[i + k] & 0xc0) != 0x80) {
				*why = "invalid UTF-8";
				return i + 1;
			}
		}
		i += need + 1;
	}
	return 0;
}

/* Drops the last field (its text too). */
static void drop_last(struct mm_deb822 *p)
{
	p->nf--;
	p->text.len = p->f[p->nf].name_off;
	if (p->text.data != NULL)
		p->text.data[p->text.len] = '\0';
}

/* Turns the recorded offsets into the stanza handed out.  Returns 1 or
 * MM_ERR_NOMEM. */
static int finish(struct mm_deb822 *p, const struct mm_deb822_stanza **st)
{
	size_t i;

	if (p->nf > p->aout) {
		struct mm_deb822_field *o = realloc(p->out, p->nf * sizeof(*o));
		if (o == NULL)
			return MM_ERR_NOMEM;
		p->out = o;
		p->aout = p->nf;
	}
	for (i = 0; i < p->nf; i++) {
		p->out[i].name = p->text.data + p->f[i].name_off;
		p->out[i].value = p->text.data + p->f[i].value_off;
		p->out[i].value_len = p->f[i].value_len;
		p->out[i].line = p->f[i].line;
	}
	p->st.fields = p->out;
	p->st.nfields = p->nf;
	*st = &p->st;
	return 1;
}

/* Adds a field line (name already validated).  Returns 0, 1 when the field
 * was refused (reported), or MM_ERR_NOMEM; sets *overflow when the stanza
 * is full. */
static int add_field(struct mm_deb822 *p, const char *name, size_t nlen, const char *val,
		     size_t vlen, int *overflow)
{
	size_t i, start = p->text.len;
	int r;

	for (i = 0; i < p->nf; i++) {
		if (p->f[i].name_len == nlen &&
		    strncasecmp(p->text.data + p->f[i].name_off, name, nlen) == 0) {
			report(p, p->line, "duplicate field %.*s (first on line %d)", (int)nlen,
			       name, p->f[i].line);
			return 1;
		}
	}
	if (vlen > p->o.max_value) {
		report(p, p->line, "field %.*s: value longer than %zu bytes", (int)nlen, name,
		       p->o.max_value);
		return 1;
	}
	if (p->nf >= p->o.max_fields) {
		report(p, p->line, "more than %zu fields in one stanza: rest of stanza skipped",
		       p->o.max_fields);
		*overflow = 1;
		return 1;
	}
	if (p->nf == p->af) {
		size_t na = p->af != 0 ? p->af * 2 : 32;
		struct fld *f = realloc(p->f, na * sizeof(*f));
		if (f == NULL)
			return MM_ERR_NOMEM;
		p->f = f;
		p->af = na;
	}
	if ((r = mm_buf_add(&p->text, name, nlen)) == 0 && (r = mm_buf_addc(&p->text, '\0')) == 0 &&
	    (r = mm_buf_add(&p->text, val, vlen)) == 0)
		r = mm_buf_addc(&p->text, '\0');
	if (r == MM_ERR_TOOBIG) {
		p->text.len = start;
		if (p->text.data != NULL)
			p->text.data[start] = '\0';
		report(p, p->line, "stanza longer than %zu bytes: rest of stanza skipped",
		       p->o.max_stanza);
		*overflow = 1;
		return 1;
	}
	if (r != 0)
		return r;
	p->f[p->nf].name_off = start;
	p->f[p->nf].name_len = nlen;
	p->f[p->nf].value_off = start + nlen + 1;
	p->f[p->nf].value_len = vlen;
	p->f[p->nf].line = p->line;
	p->nf++;
	return 0;
}

/* Appends a continuation line to the last field.  Returns 0, 1 when the
 * field was dropped (reported), or MM_ERR_NOMEM; sets *overflow when the
 * stanza is full. */
static int add_cont(struct mm_deb822 *p, const char *s, size_t n, int *overflow)
{
	struct fld *f = &p->f[p->nf - 1];
	size_t extra = n + (f->value_len > 0 ? 1 : 0);
	int r;

	if (f->value_len + extra > p->o.max_value) {
		report(p, p->line, "field %s: value longer than %zu bytes",
		       p->text.data + f->name_off, p->o.max_value);
		drop_last(p);
		return 1;
	}
	p->text.len--; /* reopen the value: its NUL goes */
	if (f->value_len > 0)
		r = mm_buf_addc(&p->text, '\n');
	else
		r = 0;
	if (r == 0 && (r = mm_buf_add(&p->text, s, n)) == 0)
		r = mm_buf_addc(&p->text, '\0');
	if (r == MM_ERR_TOOBIG) {
		report(p, p->line, "stanza longer than %zu bytes: rest of stanza skipped",
		       p->o.max_stanza);
		drop_last(p);
		*overflow = 1;
		return 1;
	}
	if (r != 0)
		return r;
	f->value_len += extra;
	return 0;
}

/* Returns 1 if the name is acceptable: printable ASCII other than space and
 * ':', not starting with '#' or '-', at most MM_DEB822_MAX_NAME bytes. */
static int good_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MM_DEB822_MAX_NAME || s[0] == '#' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * Line handling in a stanza, by state:
 *   cur     the last line added to a field, so a continuation may follow
 *   swallow a field line was refused: its continuation lines go silently
 *   skip    the stanza overflowed: everything up to the blank line goes
 */
int mm_deb822_next(struct mm_deb822 *p, const struct mm_deb822_stanza **st)
{
	int cur = 0, swallow = 0, skip = 0, overflow, r;

	*st = NULL;
	mm_buf_reset(&p->text);
	p->nf = 0;
	memset(&p->st, 0, sizeof(p->st));
	while (p->pos < p->len) {
		const char *s = p->buf + p->pos, *nl, *why = NULL;
		size_t n, col, i;

		nl = memchr(s, '\n', p->len - p->pos);
		n = nl != NULL ? (size_t)(nl - s) : p->len - p->pos;
		p->pos += n + (nl != NULL);
		p->line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		for (i = 0; i < n && is_ws(s[i]); i++)
			;
		if (i == n) { /* blank: ends a stanza */
			if (p->nf > 0)
				break;
			cur = swallow = skip = 0;
			p->st.nerrors = 0;
			p->st.line = 0;
			continue;
		}
		if ((p->o.flags & MM_DEB822_COMMENTS) && s[0] == '#')
			continue; /* not part of any stanza */
		if (p->st.line == 0)
			p->st.line = p->line;
		p->st.last_line = p->line;
		if (skip)
			continue;
		if ((col = bad_byte(s, n, &why)) != 0) {
			report(p, p->line, "%s (byte 0x%02x at column %zu): line skipped", why,
			       (unsigned char)s[col - 1], col);
			if (!is_ws(s[0])) { /* a lost field line: its continuations go too */
				cur = 0;
				swallow = 1;
			}
			continue;
		}
		while (n > 0 && is_ws(s[n - 1]))
			n--;
		overflow = 0;
		if (is_ws(s[0])) {
			if (!cur) {
				if (!swallow)
					report(p, p->line, "continuation line with no field before it");
				swallow = 1;
				continue;
			}
			r = add_cont(p, s + 1, n - 1, &overflow);
		} else {
			const char *colon = memchr(s, ':', n), *v;
			size_t nlen, vlen;

			cur = 0;
			if (colon == NULL) {
				report(p, p->line, "not a field (no ':'): line skipped");
				swallow = 1;
				continue;
			}
			nlen = (size_t)(colon - s);
			if (!good_name(s, nlen)) {
				report(p, p->line, "bad field name: line skipped");
				swallow = 1;
				continue;
			}
			v = colon + 1;
			vlen = n - nlen - 1;
			while (vlen > 0 && is_ws(*v)) {
				v++;
				vlen--;
			}
			r = add_field(p, s, nlen, v, vlen, &overflow);
		}
		if (r < 0)
			return r;
		cur = r == 0;
		swallow = r == 1;
		skip = overflow;
	}
	if (p->nf == 0)
		return 0;
	return finish(p, st);
}

const struct mm_deb822_field *mm_deb822_find(const struct mm_deb822_stanza *st, const char *name)
{
	size_t i;

	for (i = 0; st != NULL && i < st->nfields; i++)
		if (strcasecmp(st->fields[i].name, name) == 0)
			return &st->fields[i];
	return NULL;
}

const char *mm_deb822_get(const struct mm_deb822_stanza *st, const char *name)
{
	const struct mm_deb822_field *f = mm_deb822_find(st, name);

	return f != NULL ? f->value : NULL;
}
