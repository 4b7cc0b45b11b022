/*
 * apt.c - the read-only APT model behind apt_sources, apt_upgradable,
 * patch_status and apt_config; see apt.h for what is read and the policy.
 *
 * Speed matters: a Debian mirror's Packages list is ~50 MB once
 * decompressed, and the point of apt_upgradable is to answer in a fraction
 * of `apt list --upgradable`'s time.  Lists are streamed (lib/decomp.h)
 * and cut into stanzas in place (find_sep: one vector pass that finds the
 * blank line and counts lines); a stanza whose Package no installed package
 * has is dropped after one hash lookup on its first line, before it is
 * copied or any other field is looked at.
 */
#include "apt.h"

#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "decomp.h"
#include "dpkgver.h"
#include "strutil.h"

#define LIST_CAP (1024u * 1024u * 1024u) /* decompressed bytes per list */
#define STANZA_CAP (1024u * 1024u)       /* one stanza */
#define MAX_SOURCES 4096
#define MAX_PINS 4096

struct pin {
	char *packages;  /* "*" for the generic form, else names/globs/regexes */
	char *kind;      /* "release", "origin" or "version" */
	char *cond;      /* the rest of the Pin: line */
	int priority;
	char *file;
	int line;
};

struct cfg {
	char *key, *value, *file;
};

struct apt_model {
	struct apt_source *src;
	int nsrc;
	struct apt_release *rel;  /* one per source (same index) */
	struct apt_pkg *pkg;
	int npkg, apkg;
	int *slots;               /* hash of name+arch -> pkg index + 1 */
	size_t nslots;
	uint64_t *names;          /* set of name hashes (0 = empty), any arch */
	size_t nnames;            /* slots in names (a power of two) */
	struct pin *pins;
	int npins;
	struct cfg *cfg;
	int ncfg;
	int64_t lists_mtime;
	char native_arch[64];
};

/* ---- small helpers ------------------------------------------------------- */

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static uint64_t hash2(const char *a, size_t alen, const char *b)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < alen; i++)
		h = (h ^ (unsigned char)a[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (; b != NULL && *b != '\0'; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ull;
	return h;
}

/* Finds the installed package name (first nlen bytes of name) for arch;
 * returns its index or -1. */
static int pkg_find(const struct apt_model *m, const char *name, size_t nlen, const char *arch)
{
	size_t i;

	if (m->nslots == 0)
		return -1;
	i = (size_t)(hash2(name, nlen, arch) & (m->nslots - 1));
	while (m->slots[i] != 0) {
		const struct apt_pkg *p = &m->pkg[m->slots[i] - 1];
		if (strncmp(p->name, name, nlen) == 0 && p->name[nlen] == '\0' &&
		    strcmp(p->arch, arch) == 0)
			return m->slots[i] - 1;
		i = (i + 1) & (m->nslots - 1);
	}
	return -1;
}

/* Returns 0 when no installed package (of any arch) is called name[0..nlen),
 * 1 when one may be (hash collisions say yes; pkg_find decides). */
static int name_maybe(const struct apt_model *m, const char *name, size_t nlen)
{
	uint64_t h = hash2(name, nlen, NULL);
	size_t i;

	if (m->nnames == 0)
		return 0;
	if (h == 0)
		h = 1;
	i = (size_t)(h & (m->nnames - 1));
	while (m->names[i] != 0) {
		if (m->names[i] == h)
			return 1;
		i = (i + 1) & (m->nnames - 1);
	}
	return 0;
}

/* Name-only index: the same table answers "is any arch of this name
 * installed" by probing with the arch of each stanza. */
static int build_index(struct apt_model *m)
{
	size_t n = 16, i;
	int k;

	while (n < (size_t)m->npkg * 2 + 16)
		n *= 2;
	if ((m->slots = calloc(n, sizeof(int))) == NULL)
		return MM_ERR_NOMEM;
	m->nslots = n;
	for (k = 0; k < m->npkg; k++) {
		i = (size_t)(hash2(m->pkg[k].name, strlen(m->pkg[k].name), m->pkg[k].arch) & (n - 1));
		while (m->slots[i] != 0)
			i = (i + 1) & (n - 1);
		m->slots[i] = k + 1;
	}
	/* The set of names, so a list stanza can be dropped on its Package
	 * alone, before its Architecture is looked for. */
	if ((m->names = calloc(n, sizeof(uint64_t))) == NULL)
		return MM_ERR_NOMEM;
	m->nnames = n;
	for (k = 0; k < m->npkg; k++) {
		uint64_t h = hash2(m->pkg[k].name, strlen(m->pkg[k].name), NULL);
		if (h == 0)
			h = 1;
		i = (size_t)(h & (n - 1));
		while (m->names[i] != 0 && m->names[i] != h)
			i = (i + 1) & (n - 1);
		m->names[i] = h;
	}
	return 0;
}

/* Returns the value of field `name` in a stanza (NUL-terminated text), as a
 * pointer into it and a length; NULL when absent.  Field names compare
 * case-insensitively, as deb822 wants. */
static const char *field(const char *st, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = st;

	while (*p != '\0') {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e;
			while (*v == ' ' || *v == '\t')
				v++;
			e = strchr(v, '\n');
			if (e == NULL)
				e = v + strlen(v);
			while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
				e--;
			*len = (size_t)(e - v);
			return v;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return NULL;
}

static char *field_dup(const char *st, const char *name)
{
	size_t n;
	const char *v = field(st, name, &n);

	return v != NULL ? dupn(v, n) : NULL;
}

/* ---- stanza streaming ---------------------------------------------------- */

/* Cuts a stream into blank-line separated stanzas and calls fn on each
 * (NUL-terminated, modifiable) with its first line number.  When peek is
 * set, a stanza met whole inside one decompressed chunk is first shown to
 * peek in place (st[0..n), not NUL-terminated): 0 drops it without copying
 * it, 1 hands it to fn, negative stops the stream with that error.  Stanzas
 * cut by a chunk boundary and the last one go to fn unpeeked, so fn must
 * make the same decision itself. */
struct stanzas {
	struct mm_buf carry;
	int line;       /* line number of the start of carry */
	int (*fn)(char *st, int line, void *arg);
	int (*peek)(const char *st, size_t n, void *arg);
	void *arg;
	struct mm_ctx *ctx;
	const char *path;
	int skipping;   /* dropping the rest of an over-long stanza */
	int eat_nl;     /* just past a separator: more '\n's belong to it */
};

static int count_nl(const char *p, size_t n)
{
	int c = 0;
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

/* Finds the first "\n\n" in p[0..n) and sets *nls to the number of '\n'
 * before it, in one pass (the lists are ~50 MB of short lines: memmem and
 * a second pass to count lines were most of apt_upgradable's time).
 * Returns its offset, or n when there is none (*nls is then unspecified). */
static size_t find_sep(const char *p, size_t n, int *nls)
{
	const char *q = p, *e = p + n;
	int c = 0;

#ifdef __SSE2__
	/* 16 bytes at a time: a '\n' at i with another at i + 1 is the
	 * separator; the loads at q and q + 1 both stay inside p[0..n).  The
	 * '\n's are counted in 16 byte-wide counters (each cmpeq hit is -1),
	 * summed before any can pass 255. */
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	__m128i acc = zero, sum;
	int rounds = 0;

	while (e - q >= 17) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(q + 1));
		__m128i ea = _mm_cmpeq_epi8(a, nl), eb = _mm_cmpeq_epi8(b, nl);
		unsigned both = (unsigned)_mm_movemask_epi8(_mm_and_si128(ea, eb));

		if (both != 0) {
			unsigned at = (unsigned)__builtin_ctz(both);
			unsigned ma = (unsigned)_mm_movemask_epi8(ea) & ((1u << at) - 1u);

			for (; ma != 0; ma &= ma - 1)
				c++;
			sum = _mm_sad_epu8(acc, zero);
			c += _mm_cvtsi128_si32(sum) + _mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
			*nls = c;
			return (size_t)(q - p) + at;
		}
		acc = _mm_sub_epi8(acc, ea);
		q += 16;
		if (++rounds == 255) {
			sum = _mm_sad_epu8(acc, zero);
			c += _mm_cvtsi128_si32(sum) + _mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
			acc = zero;
			rounds = 0;
		}
	}
	sum = _mm_sad_epu8(acc, zero);
	c += _mm_cvtsi128_si32(sum) + _mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
#endif
	while ((q = memchr(q, '\n', (size_t)(e - q))) != NULL) {
		if (q + 1 < e && q[1] == '\n') {
			*nls = c;
			return (size_t)(q - p);
		}
		c++;
		q++;
	}
	return n;
}

/* Hands every complete stanza in carry to fn and keeps the rest. */
static int drain(struct stanzas *s)
{
	char *p = s->carry.data, *end = p + s->carry.len, *sep;
	size_t off;
	int r, nls = 0;

	while ((off = find_sep(p, (size_t)(end - p), &nls)) < (size_t)(end - p)) {
		int lines;
		sep = p + off;
		*sep = '\0';
		lines = nls + 2;
		if (sep > p && (r = s->fn(p, s->line, s->arg)) != 0)
			return r;
		s->line += lines;
		p = sep + 2;
		while (p < end && *p == '\n') {
			p++;
			s->line++;
		}
	}
	if (p != s->carry.data) {
		size_t rest = (size_t)(end - p);
		if (rest == 0)
			s->eat_nl = 1; /* the blank-line run may go on in the next chunk */
		memmove(s->carry.data, p, rest);
		s->carry.len = rest;
		s->carry.data[rest] = '\0';
	}
	return 0;
}

/* Hands the stanzas of data that are whole in it to peek and fn without
 * going through carry (most of a list's bytes go this way, most of them
 * never copied); stops at the first byte of a stanza that the chunk cuts
 * and sets *used to the bytes consumed.  Returns 0 or an error from peek
 * or fn (carry is empty before and after). */
static int direct(struct stanzas *s, const char *data, size_t len, size_t *used)
{
	const char *p = data, *e = data + len;
	int r, nls;

	*used = 0;
	while (p < e) {
		size_t n;
		if (s->eat_nl) {
			if (*p == '\n') {
				p++;
				s->line++;
				continue;
			}
			s->eat_nl = 0;
		}
		if ((n = find_sep(p, (size_t)(e - p), &nls)) == (size_t)(e - p))
			break;
		r = n > 0 ? s->peek(p, n, s->arg) : 0;
		if (r < 0)
			return r;
		if (r > 0) {
			/* fn wants a NUL-terminated, modifiable copy. */
			mm_buf_reset(&s->carry);
			if ((r = mm_buf_add(&s->carry, p, n)) == MM_ERR_TOOBIG)
				mm_warn(s->ctx, "%s:%d: stanza longer than %u bytes, skipped", s->path,
					s->line, STANZA_CAP);
			else if (r != 0 || (r = s->fn(s->carry.data, s->line, s->arg)) != 0)
				return r;
			mm_buf_reset(&s->carry);
		}
		s->line += nls + 2;
		p += n + 2;
		s->eat_nl = 1;
	}
	*used = (size_t)(p - data);
	return 0;
}

static int stanzas_feed(const char *data, size_t len, void *arg)
{
	struct stanzas *s = arg;
	int r, nls;

	while (len > 0) {
		size_t room, n, used;
		if (s->peek != NULL && !s->skipping && s->carry.len == 0) {
			if ((r = direct(s, data, len, &used)) != 0)
				return r;
			data += used;
			len -= used;
			if (len == 0)
				break;
		}
		if (s->skipping) {
			/* Inside a stanza over the cap: drop up to its end. */
			const char *sep = memmem(data, len, "\n\n", 2);
			if (sep == NULL) {
				s->line += count_nl(data, len);
				return 0;
			}
			s->line += count_nl(data, (size_t)(sep - data)) + 2;
			len -= (size_t)(sep + 2 - data);
			data = sep + 2;
			s->skipping = 0;
			continue;
		}
		room = s->carry.cap - s->carry.len;
		n = len;
		if (s->peek != NULL && s->carry.len > 0) {
			/* Take only the end of the cut stanza (and its separator):
			 * the rest of the chunk goes the direct way. */
			size_t off;
			if (s->carry.data[s->carry.len - 1] == '\n' && data[0] == '\n')
				n = 1;
			else if ((off = find_sep(data, len, &nls)) < len)
				n = off + 2;
		}
		if (n > room)
			n = room;
		if ((r = mm_buf_add(&s->carry, data, n)) != 0)
			return r;
		data += n;
		len -= n;
		if ((r = drain(s)) != 0)
			return r;
		if (s->carry.len == s->carry.cap) {
			mm_warn(s->ctx, "%s:%d: stanza longer than %u bytes, skipped", s->path,
				s->line, STANZA_CAP);
			s->line += count_nl(s->carry.data, s->carry.len);
			mm_buf_reset(&s->carry);
			s->skipping = 1;
		}
	}
	return 0;
}

/* Streams path (any compression) stanza by stanza, peek (may be NULL)
 * first when it can be (see struct stanzas).  Returns 0 or an error from
 * fn or peek; read errors are warned about and return 0. */
static int stream_stanzas(struct mm_ctx *ctx, const char *path,
			  int (*peek)(const char *st, size_t n, void *arg),
			  int (*fn)(char *st, int line, void *arg), void *arg)
{
	struct stanzas s;
	char full[4096], *err = NULL;
	int r;

	if (mm_rpath(ctx, path, full, sizeof(full)) != 0)
		return 0;
	memset(&s, 0, sizeof(s));
	mm_buf_init(&s.carry, STANZA_CAP);
	s.line = 1;
	s.fn = fn;
	s.peek = peek;
	s.arg = arg;
	s.ctx = ctx;
	s.path = path;
	r = mm_decomp_file(full, LIST_CAP, stanzas_feed, &s, &err);
	if (r == 0 && s.carry.len > 0) {
		/* The last stanza may lack its blank line. */
		char *t = s.carry.data;
		size_t n = s.carry.len;
		while (n > 0 && t[n - 1] == '\n')
			t[--n] = '\0';
		if (n > 0)
			r = fn(t, s.line, arg);
	} else if (r == MM_ERR_PARSE || r == MM_ERR_TOOBIG || r == MM_ERR_IO) {
		/* The message names the file on disk; say the host path. */
		const char *m = err != NULL ? err : "unreadable";
		if (mm_startswith(m, full) && m[strlen(full)] == ':')
			m += strlen(full) + 2;
		mm_warn(ctx, "%s: %s", path, m);
		r = 0;
	} else if (r == MM_ERR_NOTFOUND) {
		r = 0;
	}
	free(err);
	mm_buf_free(&s.carry);
	return r;
}

/* Streams path stanza by stanza (for_each_stanza without a peek). */
static int for_each_stanza(struct mm_ctx *ctx, const char *path,
			   int (*fn)(char *st, int line, void *arg), void *arg)
{
	return stream_stanzas(ctx, path, NULL, fn, arg);
}

/* ---- dpkg status --------------------------------------------------------- */

struct status_arg {
	struct apt_model *m;
	struct mm_ctx *ctx;
};

static int status_stanza(char *st, int line, void *arg)
{
	struct status_arg *a = arg;
	struct apt_model *m = a->m;
	size_t nl, sl, vl, al, srl;
	const char *name = field(st, "Package", &nl);
	const char *status = field(st, "Status", &sl);
	const char *ver = field(st, "Version", &vl);
	const char *arch = field(st, "Architecture", &al);
	const char *src = field(st, "Source", &srl);
	struct apt_pkg *p;

	if (name == NULL || nl == 0) {
		mm_warn(a->ctx, "/var/lib/dpkg/status:%d: stanza without Package, skipped", line);
		return 0;
	}
	if (status == NULL || sl < 10 || memcmp(status + sl - 10, " installed", 10) != 0)
		return 0;
	if (ver == NULL || arch == NULL) {
		mm_warn(a->ctx, "/var/lib/dpkg/status:%d: %.*s: no Version or Architecture, skipped",
			line, (int)nl, name);
		return 0;
	}
	if (m->npkg == m->apkg) {
		int want = m->apkg ? m->apkg * 2 : 512;
		struct apt_pkg *np = realloc(m->pkg, (size_t)want * sizeof(*np));
		if (np == NULL)
			return MM_ERR_NOMEM;
		m->pkg = np;
		m->apkg = want;
	}
	p = &m->pkg[m->npkg];
	memset(p, 0, sizeof(*p));
	p->name = dupn(name, nl);
	p->arch = dupn(arch, al);
	p->installed = dupn(ver, vl);
	if (src != NULL) {
		const char *sp = memchr(src, ' ', srl); /* "openssl (3.0.11-1)" */
		p->source = dupn(src, sp != NULL ? (size_t)(sp - src) : srl);
	} else {
		p->source = dupn(name, nl);
	}
	if (p->name == NULL || p->arch == NULL || p->installed == NULL || p->source == NULL)
		return MM_ERR_NOMEM;
	if (nl == 4 && memcmp(name, "dpkg", 4) == 0 && al < sizeof(m->native_arch))
		snprintf(m->native_arch, sizeof(m->native_arch), "%.*s", (int)al, arch);
	m->npkg++;
	return 0;
}

/* ---- sources ------------------------------------------------------------- */

void apt_source_clear(struct apt_source *s)
{
	free(s->file);
	free(s->type);
	free(s->uri);
	free(s->suite);
	free(s->components);
	free(s->arch);
	free(s->signed_by);
	free(s->list_prefix);
	memset(s, 0, sizeof(*s));
}

int apt_list_prefix(const char *uri, const char *suite, char *out, size_t outsz)
{
	static const char quote[] = "\\|{}[]<>\"^~_=!@#$%&*";
	const char *p = strstr(uri, "://"), *at, *slash;
	struct mm_buf b;
	char *s;
	int r;

	p = p != NULL ? p + 3 : uri;
	/* Drop user:password@ (never part of file names). */
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at != NULL && (slash == NULL || at < slash))
		p = at + 1;
	mm_buf_init(&b, 4096);
	if (mm_endswith(suite, "/"))
		r = mm_buf_addf(&b, "%s/%s", p, strcmp(suite, "./") == 0 ? "" : suite);
	else
		r = mm_buf_addf(&b, "%s/dists/%s/", p, suite);
	if (r != 0) {
		mm_buf_free(&b);
		return MM_ERR_TOOBIG;
	}
	s = b.data;
	{
		size_t o = 0, i;
		for (i = 0; s[i] != '\0'; i++) {
			unsigned char c = (unsigned char)s[i];
			if (o + 4 >= outsz) {
				mm_buf_free(&b);
				return MM_ERR_TOOBIG;
			}
			if (c <= 0x20 || c >= 0x7f || strchr(quote, c) != NULL) {
				snprintf(out + o, 4, "%%%02x", c);
				o += 3;
			} else {
				out[o++] = c == '/' ? '_' : (char)c;
			}
		}
		out[o] = '\0';
	}
	mm_buf_free(&b);
	return 0;
}

/* Reads "key=value" options inside [...] of a one-line entry. */
static void line_options(char *opts, struct apt_source *s)
{
	char *f[32];
	int n = mm_split_ws(opts, " \t", f, 32), i;

	for (i = 0; i < n; i++) {
		char *eq = strchr(f[i], '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(f[i], "arch") == 0) {
			free(s->arch);
			s->arch = strdup(eq + 1);
		} else if (strcmp(f[i], "signed-by") == 0) {
			free(s->signed_by);
			s->signed_by = strdup(eq + 1);
		} else if (strcmp(f[i], "enabled") == 0) {
			s->enabled = strcmp(eq + 1, "no") != 0;
		}
	}
}

int apt_parse_source_line(const char *line, struct apt_source *s, const char **why)
{
	char buf[4096], *p, *hash, *f[64];
	int n, i, k;
	struct mm_buf comps;

	memset(s, 0, sizeof(*s));
	*why = NULL;
	if (strlen(line) >= sizeof(buf)) {
		*why = "line too long";
		return MM_ERR_PARSE;
	}
	memcpy(buf, line, strlen(line) + 1);
	if ((hash = strchr(buf, '#')) != NULL)
		*hash = '\0';
	p = mm_trim(buf);
	if (*p == '\0')
		return 0;
	s->enabled = 1;
	s->arch = strdup("");
	s->signed_by = strdup("");
	/* Options in brackets may contain spaces: cut them out first. */
	{
		char *lb = strchr(p, '['), *rb;
		if (lb != NULL) {
			rb = strchr(lb, ']');
			if (rb == NULL) {
				*why = "'[' without ']'";
				apt_source_clear(s);
				return MM_ERR_PARSE;
			}
			*rb = '\0';
			line_options(lb + 1, s);
			memmove(lb, rb + 1, strlen(rb + 1) + 1);
		}
	}
	n = mm_split_ws(p, " \t", f, 64);
	if (n < 1 || (strcmp(f[0], "deb") != 0 && strcmp(f[0], "deb-src") != 0)) {
		*why = "expected 'deb' or 'deb-src'";
		apt_source_clear(s);
		return MM_ERR_PARSE;
	}
	if (n < 3) {
		*why = "expected a URI and a suite";
		apt_source_clear(s);
		return MM_ERR_PARSE;
	}
	if (strstr(f[1], ":") == NULL) {
		*why = "the URI has no scheme";
		apt_source_clear(s);
		return MM_ERR_PARSE;
	}
	s->type = strdup(f[0]);
	k = (int)strlen(f[1]);
	while (k > 0 && f[1][k - 1] == '/')
		k--;
	s->uri = dupn(f[1], (size_t)k);
	s->suite = strdup(f[2]);
	mm_buf_init(&comps, 4096);
	for (i = 3; i < n; i++)
		mm_buf_addf(&comps, "%s%s", i > 3 ? " " : "", f[i]);
	s->components = mm_buf_take(&comps);
	if (!mm_endswith(s->suite, "/") && n < 4) {
		*why = "a suite needs at least one component";
		apt_source_clear(s);
		return MM_ERR_PARSE;
	}
	if (s->type == NULL || s->uri == NULL || s->suite == NULL || s->components == NULL ||
	    s->arch == NULL || s->signed_by == NULL) {
		apt_source_clear(s);
		*why = "out of memory";
		return MM_ERR_NOMEM;
	}
	return 1;
}

static int add_source(struct apt_model *m, struct apt_source *s)
{
	struct apt_source *ns;
	char prefix[2048];

	if (m->nsrc >= MAX_SOURCES) {
		apt_source_clear(s);
		return 0;
	}
	if (apt_list_prefix(s->uri, s->suite, prefix, sizeof(prefix)) != 0 ||
	    (s->list_prefix = strdup(prefix)) == NULL) {
		apt_source_clear(s);
		return 0;
	}
	if ((ns = realloc(m->src, (size_t)(m->nsrc + 1) * sizeof(*ns))) == NULL) {
		apt_source_clear(s);
		return MM_ERR_NOMEM;
	}
	m->src = ns;
	m->src[m->nsrc++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

static int read_list_file(struct mm_ctx *ctx, struct apt_model *m, const char *path)
{
	char *data = NULL, *line;
	size_t len, pos = 0;
	int lineno = 0, r = 0;

	if (mm_read(ctx, path, MM_READ_CAP, &data, &len) != 0)
		return 0;
	while ((line = mm_next_line(data, len, &pos)) != NULL && r == 0) {
		struct apt_source s;
		const char *why;
		int k;
		lineno++;
		k = apt_parse_source_line(line, &s, &why);
		if (k < 0) {
			mm_warn(ctx, "%s:%d: %s, line skipped", path, lineno, why);
			continue;
		}
		if (k == 0)
			continue;
		s.file = strdup(path);
		s.line = lineno;
		r = add_source(m, &s);
	}
	free(data);
	return r;
}

struct sources_arg {
	struct mm_ctx *ctx;
	struct apt_model *m;
	const char *path;
};

/* One deb822 stanza of a .sources file: Types x URIs x Suites entries. */
static int sources_stanza(char *st, int line, void *arg)
{
	struct sources_arg *a = arg;
	char *types = field_dup(st, "Types"), *uris = field_dup(st, "URIs");
	char *suites = field_dup(st, "Suites"), *comps = field_dup(st, "Components");
	char *archs = field_dup(st, "Architectures"), *signed_by = field_dup(st, "Signed-By");
	char *enabled = field_dup(st, "Enabled");
	char *tv[8], *uv[32], *sv[32];
	int nt, nu, ns, i, j, k, r = 0;

	if (types == NULL || uris == NULL || suites == NULL) {
		/* A stanza of comments only is fine; anything else is not. */
		if (strspn(st, "#") == 0 || strchr(st, ':') != NULL)
			mm_warn(a->ctx, "%s:%d: stanza without Types, URIs and Suites, skipped",
				a->path, line);
		goto out;
	}
	nt = mm_split_ws(types, " \t", tv, 8);
	nu = mm_split_ws(uris, " \t", uv, 32);
	ns = mm_split_ws(suites, " \t", sv, 32);
	for (i = 0; i < nt && r == 0; i++)
		for (j = 0; j < nu && r == 0; j++)
			for (k = 0; k < ns && r == 0; k++) {
				struct apt_source s;
				int ul = (int)strlen(uv[j]);
				if (strcmp(tv[i], "deb") != 0 && strcmp(tv[i], "deb-src") != 0) {
					mm_warn(a->ctx, "%s:%d: unknown type '%s', skipped", a->path,
						line, tv[i]);
					continue;
				}
				if (!mm_endswith(sv[k], "/") && (comps == NULL || *comps == '\0')) {
					mm_warn(a->ctx, "%s:%d: suite %s without Components, skipped",
						a->path, line, sv[k]);
					continue;
				}
				memset(&s, 0, sizeof(s));
				while (ul > 0 && uv[j][ul - 1] == '/')
					ul--;
				s.file = strdup(a->path);
				s.line = line;
				s.type = strdup(tv[i]);
				s.uri = dupn(uv[j], (size_t)ul);
				s.suite = strdup(sv[k]);
				s.components = strdup(comps != NULL ? comps : "");
				s.arch = strdup(archs != NULL ? archs : "");
				/* An inline key is long: keep only that it is inline. */
				s.signed_by = strdup(signed_by == NULL ? ""
						     : strstr(signed_by, "BEGIN PGP") != NULL
							     ? "(inline key)"
							     : signed_by);
				s.enabled = enabled == NULL || strcasecmp(enabled, "no") != 0;
				if (s.file == NULL || s.type == NULL || s.uri == NULL ||
				    s.suite == NULL || s.components == NULL || s.arch == NULL ||
				    s.signed_by == NULL) {
					apt_source_clear(&s);
					r = MM_ERR_NOMEM;
					break;
				}
				r = add_source(a->m, &s);
			}
out:
	free(types);
	free(uris);
	free(suites);
	free(comps);
	free(archs);
	free(signed_by);
	free(enabled);
	return r;
}

/* apt ignores files in *.d directories whose names have other characters
 * than these (backups like "x.list~" or "x.list.save"). */
static int valid_part_name(const char *n, const char *ext)
{
	size_t i, l = strlen(n), el = strlen(ext);

	if (l <= el || strcmp(n + l - el, ext) != 0)
		return 0;
	for (i = 0; i < l - el; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '_' && n[i] != '-' && n[i] != '.')
			return 0;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the names in directory dir (host path) that ok() accepts, sorted.
 * Returns the count (0 when the directory is missing); *out freed by caller. */
static int list_names(struct mm_ctx *ctx, const char *dir, int (*ok)(const char *, const void *),
		      const void *okarg, char ***out)
{
	char full[4096];
	struct dirent *de;
	char **v = NULL, **nv;
	int n = 0;
	DIR *d;

	*out = NULL;
	if (mm_rpath(ctx, dir, full, sizeof(full)) != 0 || (d = opendir(full)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < 100000) {
		if (de->d_name[0] == '.' || !ok(de->d_name, okarg))
			continue;
		if ((nv = realloc(v, (size_t)(n + 1) * sizeof(char *))) == NULL)
			break;
		v = nv;
		if ((v[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(char *), cmp_str);
	*out = v;
	return n;
}

static void free_names(char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int ok_sources(const char *n, const void *arg)
{
	(void)arg;
	return valid_part_name(n, ".list") || valid_part_name(n, ".sources");
}

static int load_sources(struct mm_ctx *ctx, struct apt_model *m)
{
	char **names, path[4096];
	int n, i, r;

	if ((r = read_list_file(ctx, m, "/etc/apt/sources.list")) != 0)
		return r;
	n = list_names(ctx, "/etc/apt/sources.list.d", ok_sources, NULL, &names);
	for (i = 0; i < n && r == 0; i++) {
		snprintf(path, sizeof(path), "/etc/apt/sources.list.d/%s", names[i]);
		if (mm_endswith(names[i], ".list")) {
			r = read_list_file(ctx, m, path);
		} else {
			struct sources_arg a = { ctx, m, path };
			r = for_each_stanza(ctx, path, sources_stanza, &a);
		}
	}
	free_names(names, n);
	return r;
}

/* ---- releases ------------------------------------------------------------ */

static int load_release(struct mm_ctx *ctx, const struct apt_source *s, struct apt_release *rel)
{
	static const char *const names[] = { "InRelease", "Release" };
	char path[4096], *data = NULL, *p, *body;
	size_t len;
	const char *host, *end;
	int i;

	memset(rel, 0, sizeof(*rel));
	host = strstr(s->uri, "://");
	host = host != NULL ? host + 3 : s->uri;
	end = host + strcspn(host, "/:");
	rel->site = dupn(host, (size_t)(end - host));
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/var/lib/apt/lists/%s%s", s->list_prefix, names[i]);
		if (mm_read(ctx, path, MM_READ_CAP, &data, &len) == 0)
			break;
	}
	if (data == NULL)
		return 0;
	rel->path = strdup(path);
	body = data;
	if (mm_startswith(body, "-----BEGIN PGP SIGNED MESSAGE-----")) {
		/* Skip the armor headers up to the first empty line. */
		p = strstr(body, "\n\n");
		body = p != NULL ? p + 2 : body + len;
	}
	p = strstr(body, "\n-----BEGIN PGP SIGNATURE-----");
	if (p != NULL)
		*p = '\0';
	rel->origin = field_dup(body, "Origin");
	rel->label = field_dup(body, "Label");
	rel->suite = field_dup(body, "Suite");
	rel->codename = field_dup(body, "Codename");
	rel->version = field_dup(body, "Version");
	rel->components = field_dup(body, "Components");
	rel->architectures = field_dup(body, "Architectures");
	rel->date = field_dup(body, "Date");
	{
		size_t n;
		const char *v = field(body, "NotAutomatic", &n);
		rel->not_automatic = v != NULL && n == 3 && strncasecmp(v, "yes", 3) == 0;
		v = field(body, "ButAutomaticUpgrades", &n);
		rel->but_automatic_upgrades = v != NULL && n == 3 && strncasecmp(v, "yes", 3) == 0;
	}
	free(data);
	return 0;
}

static int is_security(const struct apt_release *r)
{
	if (r->label != NULL && strcmp(r->label, "Debian-Security") == 0)
		return 1;
	if (r->suite != NULL && mm_endswith(r->suite, "-security"))
		return 1;
	if (r->codename != NULL && mm_endswith(r->codename, "-security"))
		return 1;
	return 0;
}

/* ---- preferences (pins) -------------------------------------------------- */

struct pins_arg {
	struct mm_ctx *ctx;
	struct apt_model *m;
	const char *path;
};

static int pin_stanza(char *st, int line, void *arg)
{
	struct pins_arg *a = arg;
	char *pkg = field_dup(st, "Package"), *pin = field_dup(st, "Pin");
	char *prio = field_dup(st, "Pin-Priority");
	struct pin *np, *p;
	int64_t v;
	int r = 0;

	if (pkg == NULL || pin == NULL || prio == NULL) {
		if (strchr(st, ':') != NULL && !(st[0] == '#' && strchr(st, '\n') == NULL))
			mm_warn(a->ctx, "%s:%d: record needs Package, Pin and Pin-Priority, skipped",
				a->path, line);
		goto out;
	}
	if (mm_parse_i64(prio, &v) != 0 || v < -32768 || v > 32767) {
		mm_warn(a->ctx, "%s:%d: bad Pin-Priority '%s', record skipped", a->path, line, prio);
		goto out;
	}
	if (a->m->npins >= MAX_PINS)
		goto out;
	if ((np = realloc(a->m->pins, (size_t)(a->m->npins + 1) * sizeof(*np))) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	a->m->pins = np;
	p = &np[a->m->npins];
	memset(p, 0, sizeof(*p));
	{
		char *sp = pin + strcspn(pin, " \t");
		char *rest = sp;
		if (*sp != '\0')
			*sp++ = '\0', rest = sp;
		p->kind = strdup(pin);
		p->cond = strdup(mm_trim(rest));
	}
	if (strcmp(p->kind, "release") != 0 && strcmp(p->kind, "origin") != 0 &&
	    strcmp(p->kind, "version") != 0) {
		mm_warn(a->ctx, "%s:%d: unknown pin type '%s', record skipped", a->path, line,
			p->kind);
		free(p->kind);
		free(p->cond);
		goto out;
	}
	p->packages = pkg;
	pkg = NULL;
	p->priority = (int)v;
	p->file = strdup(a->path);
	p->line = line;
	a->m->npins++;
out:
	free(pkg);
	free(pin);
	free(prio);
	return r;
}

static int ok_prefs(const char *n, const void *arg)
{
	size_t i;

	(void)arg;
	/* apt: no extension or ".pref"; only [A-Za-z0-9_.-]. */
	for (i = 0; n[i] != '\0'; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '_' && n[i] != '-' && n[i] != '.')
			return 0;
	return strchr(n, '.') == NULL || mm_endswith(n, ".pref");
}

static int load_pins(struct mm_ctx *ctx, struct apt_model *m)
{
	char **names, path[4096];
	int n, i, r;
	struct pins_arg a = { ctx, m, "/etc/apt/preferences" };

	if ((r = for_each_stanza(ctx, a.path, pin_stanza, &a)) != 0)
		return r;
	n = list_names(ctx, "/etc/apt/preferences.d", ok_prefs, NULL, &names);
	for (i = 0; i < n && r == 0; i++) {
		snprintf(path, sizeof(path), "/etc/apt/preferences.d/%s", names[i]);
		a.path = path;
		r = for_each_stanza(ctx, path, pin_stanza, &a);
	}
	free_names(names, n);
	return r;
}

/* Matches a pin value: "/regex/" or a glob. */
static int pin_match(const char *pattern, const char *value)
{
	size_t n = strlen(pattern);

	if (value == NULL)
		value = "";
	if (n >= 2 && pattern[0] == '/' && pattern[n - 1] == '/') {
		char re_s[512];
		regex_t re;
		int ok;
		if (n - 2 >= sizeof(re_s))
			return 0;
		memcpy(re_s, pattern + 1, n - 2);
		re_s[n - 2] = '\0';
		if (regcomp(&re, re_s, REG_EXTENDED | REG_NOSUB) != 0)
			return 0;
		ok = regexec(&re, value, 0, NULL, 0) == 0;
		regfree(&re);
		return ok;
	}
	return fnmatch(pattern, value, 0) == 0;
}

static int pin_packages_match(const char *list, const char *name)
{
	char buf[4096], *f[128];
	int n, i;

	if (strlen(list) >= sizeof(buf))
		return 0;
	memcpy(buf, list, strlen(list) + 1);
	n = mm_split_ws(buf, " \t", f, 128);
	for (i = 0; i < n; i++)
		if (pin_match(f[i], name))
			return 1;
	return 0;
}

/* "release a=bookworm-security, l=Debian-Security" against a release. */
static int pin_release_match(const char *cond, const struct apt_release *r, const char *comp)
{
	char buf[1024], *parts[32];
	int n, i;

	if (strlen(cond) >= sizeof(buf))
		return 0;
	memcpy(buf, cond, strlen(cond) + 1);
	n = mm_split_char(buf, ',', parts, 32);
	for (i = 0; i < n; i++) {
		char *kv = mm_trim(parts[i]), *eq = strchr(kv, '=');
		const char *val, *want;
		char unq[512];
		if (eq == NULL) {
			/* A bare word is the archive or codename. */
			if (!pin_match(kv, r->suite) && !pin_match(kv, r->codename))
				return 0;
			continue;
		}
		*eq = '\0';
		want = mm_trim(eq + 1);
		kv = mm_trim(kv);
		if (want[0] == '"') {
			size_t wl = strlen(want);
			if (wl >= 2 && wl - 2 < sizeof(unq)) {
				memcpy(unq, want + 1, wl - 2);
				unq[wl - 2] = '\0';
				want = unq;
			}
		}
		if (strcmp(kv, "a") == 0 || strcmp(kv, "archive") == 0)
			val = r->suite;
		else if (strcmp(kv, "n") == 0 || strcmp(kv, "codename") == 0)
			val = r->codename;
		else if (strcmp(kv, "o") == 0 || strcmp(kv, "origin") == 0)
			val = r->origin;
		else if (strcmp(kv, "l") == 0 || strcmp(kv, "label") == 0)
			val = r->label;
		else if (strcmp(kv, "c") == 0 || strcmp(kv, "component") == 0)
			val = comp;
		else if (strcmp(kv, "v") == 0 || strcmp(kv, "version") == 0)
			val = r->version;
		else
			return 0;
		if (!pin_match(want, val))
			return 0;
	}
	return 1;
}

static int pin_applies(const struct pin *p, const struct apt_release *r, const char *comp,
		       const char *version)
{
	if (strcmp(p->kind, "release") == 0)
		return r != NULL && pin_release_match(p->cond, r, comp);
	if (strcmp(p->kind, "origin") == 0) {
		const char *want = p->cond;
		char unq[256];
		size_t wl = strlen(want);
		if (wl >= 2 && want[0] == '"' && want[wl - 1] == '"' && wl - 2 < sizeof(unq)) {
			memcpy(unq, want + 1, wl - 2);
			unq[wl - 2] = '\0';
			want = unq;
		}
		return r != NULL && pin_match(want, r->site);
	}
	return version != NULL && pin_match(p->cond, version);
}

/* The priority of `version` of package `name` as found in release r with
 * component comp (r NULL: the dpkg status file). */
static int priority_of(const struct apt_model *m, const char *name, const char *version,
		       const struct apt_release *r, const char *comp)
{
	int i;

	/* Specific records first, then the generic ("Package: *") ones; the
	 * first matching record of each kind applies. */
	for (i = 0; i < m->npins; i++) {
		const struct pin *p = &m->pins[i];
		if (strcmp(p->packages, "*") == 0)
			continue;
		if (pin_packages_match(p->packages, name) && pin_applies(p, r, comp, version))
			return p->priority;
	}
	if (r == NULL)
		return 100;
	for (i = 0; i < m->npins; i++) {
		const struct pin *p = &m->pins[i];
		if (strcmp(p->packages, "*") == 0 && pin_applies(p, r, comp, version))
			return p->priority;
	}
	if (r->not_automatic)
		return r->but_automatic_upgrades ? 100 : 1;
	{
		const char *dr = apt_config(m, "APT::Default-Release");
		if (dr != NULL && *dr != '\0' &&
		    ((r->suite != NULL && strcmp(dr, r->suite) == 0) ||
		     (r->codename != NULL && strcmp(dr, r->codename) == 0)))
			return 990;
	}
	return 500;
}

/* ---- Packages lists ------------------------------------------------------ */

struct list_arg {
	struct mm_ctx *ctx;
	struct apt_model *m;
	int rel;            /* release index (= source index) */
	const char *comp;   /* component of this list */
	const char *path;
	int security;
	long stanzas;
};

static int add_version(struct list_arg *a, struct apt_pkg *p, const char *ver, size_t vl)
{
	const struct apt_release *r = &a->m->rel[a->rel];
	struct apt_version *v = NULL;
	char *vs;
	int i, prio;

	for (i = 0; i < p->navail; i++)
		if (strlen(p->avail[i].version) == vl && memcmp(p->avail[i].version, ver, vl) == 0) {
			v = &p->avail[i];
			break;
		}
	if ((vs = dupn(ver, vl)) == NULL)
		return MM_ERR_NOMEM;
	prio = priority_of(a->m, p->name, vs, r, a->comp);
	if (v == NULL) {
		if (p->navail == p->aavail) {
			int want = p->aavail ? p->aavail * 2 : 2;
			struct apt_version *nv = realloc(p->avail, (size_t)want * sizeof(*nv));
			if (nv == NULL) {
				free(vs);
				return MM_ERR_NOMEM;
			}
			p->avail = nv;
			p->aavail = want;
		}
		v = &p->avail[p->navail++];
		memset(v, 0, sizeof(*v));
		v->version = vs;
		v->priority = prio;
		v->rel = a->rel;
		v->component = strdup(a->comp);
		v->security = a->security;
		return v->component != NULL ? 0 : MM_ERR_NOMEM;
	}
	free(vs);
	v->security |= a->security;
	if (prio > v->priority) {
		v->priority = prio;
		v->rel = a->rel;
		free(v->component);
		v->component = strdup(a->comp);
	}
	return 0;
}

/* The peek of list stanzas: drops, from its Package line alone, a stanza
 * list_stanza would drop because no arch of that name is installed (the
 * same name rule as list_stanza's: the value up to white space or NUL).
 * Anything else (no Package first) goes to list_stanza.  Returns 0, 1 or
 * MM_ERR_LIMIT. */
static int list_peek(const char *st, size_t n, void *arg)
{
	struct list_arg *a = arg;
	size_t i = 8, nl = 0;

	a->stanzas++;
	if ((a->stanzas & 1023) == 0 && mm_check(a->ctx) != 0)
		return MM_ERR_LIMIT;
	if (n < 8 || memcmp(st, "Package:", 8) != 0)
		return 1;
	while (i < n && st[i] == ' ')
		i++;
	while (i + nl < n && st[i + nl] != ' ' && st[i + nl] != '\t' && st[i + nl] != '\r' &&
	       st[i + nl] != '\n' && st[i + nl] != '\0')
		nl++;
	return name_maybe(a->m, st + i, nl);
}

static int list_stanza(char *st, int line, void *arg)
{
	struct list_arg *a = arg;
	size_t nl, vl, al;
	const char *name, *ver, *arch;
	char archbuf[64];
	int k;

	(void)line;
	a->stanzas++;
	if ((a->stanzas & 1023) == 0 && mm_check(a->ctx) != 0)
		return MM_ERR_LIMIT;
	/* Package is the first field of every stanza apt writes; look there
	 * before searching. */
	if (strncmp(st, "Package:", 8) == 0) {
		name = st + 8;
		while (*name == ' ')
			name++;
		nl = strcspn(name, " \t\r\n");
	} else if ((name = field(st, "Package", &nl)) == NULL) {
		mm_warn(a->ctx, "%s:%d: stanza without Package, skipped", a->path, line);
		return 0;
	}
	if (!name_maybe(a->m, name, nl))
		return 0; /* most stanzas: no arch of this name is installed */
	arch = field(st, "Architecture", &al);
	if (arch == NULL || al >= sizeof(archbuf))
		return 0;
	memcpy(archbuf, arch, al);
	archbuf[al] = '\0';
	if ((k = pkg_find(a->m, name, nl, archbuf)) < 0)
		return 0;
	if ((ver = field(st, "Version", &vl)) == NULL || vl == 0) {
		mm_warn(a->ctx, "%s:%d: %.*s: no Version, skipped", a->path, line, (int)nl, name);
		return 0;
	}
	return add_version(a, &a->m->pkg[k], ver, vl);
}

struct prefix_arg {
	const char *prefix;
};

static int ok_list(const char *n, const void *arg)
{
	const struct prefix_arg *p = arg;
	const char *rest;

	if (!mm_startswith(n, p->prefix))
		return 0;
	rest = n + strlen(p->prefix);
	/* COMP_binary-ARCH_Packages[.ext] or (flat) Packages[.ext] */
	return (strstr(rest, "_binary-") != NULL && strstr(rest, "_Packages") != NULL &&
		strchr(strstr(rest, "_Packages") + 9, '_') == NULL) ||
	       mm_startswith(rest, "Packages");
}

static int load_lists(struct mm_ctx *ctx, struct apt_model *m)
{
	int i, r = 0;

	for (i = 0; i < m->nsrc && r == 0; i++) {
		const struct apt_source *s = &m->src[i];
		struct prefix_arg pa = { s->list_prefix };
		char **names = NULL, path[4096], comp[256];
		int n, j;

		if (!s->enabled || strcmp(s->type, "deb") != 0)
			continue;
		/* The same suite listed twice shares its lists: read once. */
		for (j = 0; j < i; j++)
			if (m->src[j].enabled && strcmp(m->src[j].type, "deb") == 0 &&
			    strcmp(m->src[j].list_prefix, s->list_prefix) == 0)
				break;
		if (j < i)
			continue;
		n = list_names(ctx, "/var/lib/apt/lists", ok_list, &pa, &names);
		for (j = 0; j < n && r == 0; j++) {
			const char *rest = names[j] + strlen(s->list_prefix);
			const char *us = strstr(rest, "_binary-");
			struct list_arg la;
			char base[4096];
			int k, dup = 0;
			/* Prefer one file per list when several compressions exist. */
			snprintf(base, sizeof(base), "%s", names[j]);
			{
				char *pk = strstr(base, "Packages");
				if (pk != NULL)
					pk[8] = '\0';
			}
			for (k = 0; k < j; k++)
				if (strncmp(names[k], base, strlen(base)) == 0)
					dup = 1;
			if (dup)
				continue;
			if (!mm_decomp_supported(names[j])) {
				mm_warn(ctx, "/var/lib/apt/lists/%s: compression not supported, skipped",
					names[j]);
				continue;
			}
			if (us != NULL && (size_t)(us - rest) < sizeof(comp)) {
				memcpy(comp, rest, (size_t)(us - rest));
				comp[us - rest] = '\0';
			} else {
				comp[0] = '\0';
			}
			snprintf(path, sizeof(path), "/var/lib/apt/lists/%s", names[j]);
			memset(&la, 0, sizeof(la));
			la.ctx = ctx;
			la.m = m;
			la.rel = i;
			la.comp = comp;
			la.path = path;
			la.security = is_security(&m->rel[i]);
			r = stream_stanzas(ctx, path, list_peek, list_stanza, &la);
		}
		free_names(names, n);
	}
	return r;
}

/* ---- apt.conf ------------------------------------------------------------ */

static int cfg_set(struct apt_model *m, const char *key, const char *value, const char *file)
{
	struct cfg *nc;
	int i;

	for (i = 0; i < m->ncfg; i++)
		if (strcasecmp(m->cfg[i].key, key) == 0) {
			char *v = strdup(value), *f = strdup(file);
			if (v == NULL || f == NULL) {
				free(v);
				free(f);
				return MM_ERR_NOMEM;
			}
			free(m->cfg[i].value);
			free(m->cfg[i].file);
			m->cfg[i].value = v;
			m->cfg[i].file = f;
			return 0;
		}
	if (m->ncfg >= 100000)
		return 0;
	if ((nc = realloc(m->cfg, (size_t)(m->ncfg + 1) * sizeof(*nc))) == NULL)
		return MM_ERR_NOMEM;
	m->cfg = nc;
	nc[m->ncfg].key = strdup(key);
	nc[m->ncfg].value = strdup(value);
	nc[m->ncfg].file = strdup(file);
	if (nc[m->ncfg].key == NULL || nc[m->ncfg].value == NULL || nc[m->ncfg].file == NULL)
		return MM_ERR_NOMEM;
	m->ncfg++;
	return 0;
}

/* apt.conf syntax: `A::B "v";`, `A { B "v"; C { D "w"; }; };`, comments
 * with // and # at line starts and C-style blocks.  A list value
 * (`A { "x"; "y"; };`) is kept as "x y". */
static int parse_conf(struct mm_ctx *ctx, struct apt_model *m, const char *path, char *s)
{
	char scope[16][512], key[512], val[1024];
	int depth = 0, line = 1, r = 0;
	char *p = s;

	key[0] = '\0';
	while (*p != '\0' && r == 0) {
		if (*p == '\n') {
			line++;
			p++;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if ((p[0] == '/' && p[1] == '/') || *p == '#') {
			while (*p != '\0' && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			char *e = strstr(p + 2, "*/");
			for (char *q = p; q < (e != NULL ? e : p + strlen(p)); q++)
				if (*q == '\n')
					line++;
			p = e != NULL ? e + 2 : p + strlen(p);
			continue;
		}
		if (*p == '}') {
			if (depth == 0) {
				mm_warn(ctx, "%s:%d: unbalanced '}', rest of file skipped", path, line);
				return 0;
			}
			depth--;
			p++;
			while (isspace((unsigned char)*p) && *p != '\n')
				p++;
			if (*p == ';')
				p++;
			continue;
		}
		if (*p == '"' || key[0] != '\0') {
			/* a value: "..." up to ';' */
			char *q;
			size_t n;
			if (*p != '"') {
				mm_warn(ctx, "%s:%d: expected a quoted value, rest of file skipped",
					path, line);
				return 0;
			}
			q = strchr(p + 1, '"');
			if (q == NULL) {
				mm_warn(ctx, "%s:%d: unterminated string, rest of file skipped", path,
					line);
				return 0;
			}
			n = (size_t)(q - p - 1);
			if (n >= sizeof(val))
				n = sizeof(val) - 1;
			memcpy(val, p + 1, n);
			val[n] = '\0';
			{
				char full[1024];
				int i, off = 0;
				full[0] = '\0';
				for (i = 0; i < depth && off < (int)sizeof(full); i++)
					off += snprintf(full + off, sizeof(full) - (size_t)off, "%s::",
							scope[i]);
				if (key[0] != '\0')
					snprintf(full + off, sizeof(full) - (size_t)off, "%s", key);
				else if (off >= 2)
					full[off - 2] = '\0'; /* list item: the scope itself */
				if (key[0] == '\0') {
					/* list element: append */
					const char *old = apt_config(m, full);
					char joined[2048];
					snprintf(joined, sizeof(joined), "%s%s%s", old ? old : "",
						 old && *old ? " " : "", val);
					r = cfg_set(m, full, joined, path);
				} else {
					r = cfg_set(m, full, val, path);
				}
			}
			key[0] = '\0';
			p = q + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ';')
				p++;
			continue;
		}
		/* a name */
		{
			size_t n = strcspn(p, " \t\r\n\"{};");
			if (n == 0) {
				mm_warn(ctx, "%s:%d: unexpected '%c', rest of file skipped", path, line,
					*p);
				return 0;
			}
			if (n >= sizeof(key))
				n = sizeof(key) - 1;
			memcpy(key, p, n);
			key[n] = '\0';
			p += n;
			/* The value or '{' may follow on a later line. */
			while (isspace((unsigned char)*p)) {
				if (*p == '\n')
					line++;
				p++;
			}
			if (*p == '{') {
				if (depth >= 16) {
					mm_warn(ctx, "%s:%d: nested too deeply, rest skipped", path,
						line);
					return 0;
				}
				snprintf(scope[depth++], sizeof(scope[0]), "%s", key);
				key[0] = '\0';
				p++;
			} else if (*p == ';') {
				/* `#clear` style or a bare name: ignore */
				key[0] = '\0';
				p++;
			} else if (*p != '"') {
				mm_warn(ctx, "%s:%d: expected a value after %s, rest skipped", path,
					line, key);
				return 0;
			}
		}
	}
	return r;
}

static int ok_conf(const char *n, const void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; n[i] != '\0'; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '_' && n[i] != '-' && n[i] != '.')
			return 0;
	return strchr(n, '.') == NULL || mm_endswith(n, ".conf");
}

static int load_conf(struct mm_ctx *ctx, struct apt_model *m)
{
	char **names, path[4096], *data;
	size_t len;
	int n, i, r = 0;

	n = list_names(ctx, "/etc/apt/apt.conf.d", ok_conf, NULL, &names);
	for (i = 0; i <= n && r == 0; i++) {
		if (i < n)
			snprintf(path, sizeof(path), "/etc/apt/apt.conf.d/%s", names[i]);
		else
			snprintf(path, sizeof(path), "/etc/apt/apt.conf");
		if (mm_read(ctx, path, MM_READ_CAP, &data, &len) != 0)
			continue;
		r = parse_conf(ctx, m, path, data);
		free(data);
	}
	free_names(names, n);
	return r;
}

/* ---- the model ----------------------------------------------------------- */

int apt_model_load(struct mm_ctx *ctx, int want_lists, struct apt_model **out)
{
	struct apt_model *m = calloc(1, sizeof(*m));
	struct status_arg sa;
	int i, r;

	*out = NULL;
	if (m == NULL)
		return MM_ERR_NOMEM;
	sa.m = m;
	sa.ctx = ctx;
	if ((r = load_conf(ctx, m)) != 0 || (r = load_sources(ctx, m)) != 0 ||
	    (r = load_pins(ctx, m)) != 0)
		goto fail;
	if ((m->rel = calloc((size_t)m->nsrc + 1, sizeof(*m->rel))) == NULL) {
		r = MM_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < m->nsrc; i++) {
		char full[4096];
		struct stat st;
		load_release(ctx, &m->src[i], &m->rel[i]);
		if (m->rel[i].path != NULL && mm_rpath(ctx, m->rel[i].path, full, sizeof(full)) == 0 &&
		    stat(full, &st) == 0 && (int64_t)st.st_mtime > m->lists_mtime)
			m->lists_mtime = (int64_t)st.st_mtime;
	}
	if ((r = for_each_stanza(ctx, "/var/lib/dpkg/status", status_stanza, &sa)) != 0)
		goto fail;
	if ((r = build_index(m)) != 0)
		goto fail;
	if (want_lists && (r = load_lists(ctx, m)) != 0)
		goto fail;
	*out = m;
	return 0;
fail:
	apt_model_free(m);
	return r;
}

void apt_model_free(struct apt_model *m)
{
	int i, j;

	if (m == NULL)
		return;
	for (i = 0; i < m->nsrc; i++) {
		apt_source_clear(&m->src[i]);
		if (m->rel != NULL) {
			struct apt_release *r = &m->rel[i];
			free(r->path);
			free(r->origin);
			free(r->label);
			free(r->suite);
			free(r->codename);
			free(r->version);
			free(r->components);
			free(r->architectures);
			free(r->date);
			free(r->site);
		}
	}
	free(m->src);
	free(m->rel);
	for (i = 0; i < m->npkg; i++) {
		struct apt_pkg *p = &m->pkg[i];
		for (j = 0; j < p->navail; j++) {
			free(p->avail[j].version);
			free(p->avail[j].component);
		}
		free(p->avail);
		free(p->name);
		free(p->arch);
		free(p->installed);
		free(p->source);
	}
	free(m->pkg);
	free(m->slots);
	free(m->names);
	for (i = 0; i < m->npins; i++) {
		free(m->pins[i].packages);
		free(m->pins[i].kind);
		free(m->pins[i].cond);
		free(m->pins[i].file);
	}
	free(m->pins);
	for (i = 0; i < m->ncfg; i++) {
		free(m->cfg[i].key);
		free(m->cfg[i].value);
		free(m->cfg[i].file);
	}
	free(m->cfg);
	free(m);
}

int apt_nsources(const struct apt_model *m) { return m->nsrc; }
const struct apt_source *apt_source_at(const struct apt_model *m, int i) { return &m->src[i]; }
const struct apt_release *apt_source_release(const struct apt_model *m, int i) { return &m->rel[i]; }
int apt_npkgs(const struct apt_model *m) { return m->npkg; }
struct apt_pkg *apt_pkg_at(struct apt_model *m, int i) { return &m->pkg[i]; }
const struct apt_release *apt_release_at(const struct apt_model *m, int rel) { return rel >= 0 && rel < m->nsrc ? &m->rel[rel] : NULL; }
int64_t apt_lists_mtime(const struct apt_model *m) { return m->lists_mtime; }
int apt_nconfig(const struct apt_model *m) { return m->ncfg; }

void apt_config_at(const struct apt_model *m, int i, const char **key, const char **value,
		   const char **file)
{
	*key = m->cfg[i].key;
	*value = m->cfg[i].value;
	*file = m->cfg[i].file;
}

const char *apt_config(const struct apt_model *m, const char *key)
{
	int i;

	for (i = 0; i < m->ncfg; i++)
		if (strcasecmp(m->cfg[i].key, key) == 0)
			return m->cfg[i].value;
	return NULL;
}

const char *apt_installed_version(const struct apt_model *m, const char *name)
{
	int i;

	for (i = 0; i < m->npkg; i++)
		if (strcmp(m->pkg[i].name, name) == 0)
			return m->pkg[i].installed;
	return NULL;
}

const struct apt_version *apt_candidate(const struct apt_pkg *p)
{
	const struct apt_version *best = NULL;
	int best_prio = -100000, inst_prio = 100, i;

	/* The installed version competes too, at the highest priority of any
	 * file carrying it (at least dpkg status's 100). */
	for (i = 0; i < p->navail; i++)
		if (mm_dpkg_vercmp(p->avail[i].version, p->installed) == 0 &&
		    p->avail[i].priority > inst_prio)
			inst_prio = p->avail[i].priority;
	for (i = 0; i < p->navail; i++) {
		const struct apt_version *v = &p->avail[i];
		int c = mm_dpkg_vercmp(v->version, p->installed);
		if (c == 0)
			continue;
		if (c < 0 && v->priority < 1000)
			continue; /* no downgrades below priority 1000 */
		if (v->priority < 0)
			continue; /* a negative pin forbids the version */
		if (v->priority > best_prio ||
		    (v->priority == best_prio && mm_dpkg_vercmp(v->version, best->version) > 0)) {
			best = v;
			best_prio = v->priority;
		}
	}
	if (best == NULL)
		return NULL;
	/* The installed version wins a tie when newer, or a higher priority. */
	if (inst_prio > best_prio ||
	    (inst_prio == best_prio && mm_dpkg_vercmp(p->installed, best->version) > 0))
		return NULL;
	return best;
}
