/*
 * dpkgver.c - dpkg's version ordering; see dpkgver.h.
 */
#include "dpkgver.h"

#include <string.h>

#include "error.h"

struct ver {
	unsigned long epoch;
	const char *up; /* upstream part */
	size_t uplen;
	const char *rev; /* revision part ("" when absent) */
	size_t revlen;
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static void split(const char *s, size_t n, struct ver *v)
{
	const char *colon = memchr(s, ':', n);
	size_t i;

	v->epoch = 0;
	if (colon != NULL) {
		int ok = colon > s;
		unsigned long e = 0;
		for (const char *p = s; p < colon; p++) {
			if (!is_digit(*p)) {
				ok = 0;
				break;
			}
			if (e < 100000000UL)
				e = e * 10 + (unsigned long)(*p - '0');
		}
		if (ok) {
			v->epoch = e;
			n -= (size_t)(colon + 1 - s);
			s = colon + 1;
		}
	}
	v->up = s;
	v->uplen = n;
	v->rev = "";
	v->revlen = 0;
	for (i = n; i > 0; i--) {
		if (s[i - 1] == '-') {
			v->uplen = i - 1;
			v->rev = s + i;
			v->revlen = n - i;
			break;
		}
	}
}

/* Sort weight of a non-digit character: '~' lowest, end of string next,
 * then letters, then everything else. */
static int order(const char *p, const char *end)
{
	if (p >= end)
		return 0;
	if (is_digit(*p))
		return 0;
	if (is_alpha(*p))
		return (unsigned char)*p;
	if (*p == '~')
		return -1;
	return (unsigned char)*p + 256;
}

static int verrevcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const char *ae = a + alen, *be = b + blen;

	while (a < ae || b < be) {
		int first_diff = 0;

		while ((a < ae && !is_digit(*a)) || (b < be && !is_digit(*b))) {
			int ac = order(a, ae), bc = order(b, be);
			if (ac != bc)
				return ac - bc;
			if (a < ae)
				a++;
			if (b < be)
				b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (a < ae && b < be && is_digit(*a) && is_digit(*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (a < ae && is_digit(*a))
			return 1;
		if (b < be && is_digit(*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

int mm_dpkg_vercmp_n(const char *a, size_t alen, const char *b, size_t blen)
{
	struct ver va, vb;
	int r;

	split(a, alen, &va);
	split(b, blen, &vb);
	if (va.epoch != vb.epoch)
		return va.epoch > vb.epoch ? 1 : -1;
	if ((r = verrevcmp(va.up, va.uplen, vb.up, vb.uplen)) != 0)
		return r;
	return verrevcmp(va.rev, va.revlen, vb.rev, vb.revlen);
}

int mm_dpkg_vercmp(const char *a, const char *b)
{
	return mm_dpkg_vercmp_n(a, strlen(a), b, strlen(b));
}

int mm_dpkg_version_valid(const char *v)
{
	struct ver s;
	size_t i;

	if (v == NULL || *v == '\0')
		return MM_ERR_PARSE;
	split(v, strlen(v), &s);
	if (s.uplen == 0 || !is_digit(s.up[0]))
		return MM_ERR_PARSE;
	for (i = 0; i < s.uplen; i++) {
		char c = s.up[i];
		if (!is_digit(c) && !is_alpha(c) && strchr(".+~-:", c) == NULL)
			return MM_ERR_PARSE;
	}
	for (i = 0; i < s.revlen; i++) {
		char c = s.rev[i];
		if (!is_digit(c) && !is_alpha(c) && strchr(".+~", c) == NULL)
			return MM_ERR_PARSE;
	}
	return 0;
}
