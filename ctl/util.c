/*
 * util.c - allocation, formatting and time helpers for mamorictl (util.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static void oom(void)
{
	fputs("mamorictl: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n != 0 ? n : 1, size != 0 ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	void *q;

	if (size != 0 && n > (size_t)-1 / size)
		oom();
	if ((q = realloc(p, n * size != 0 ? n * size : 1)) == NULL)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void ctl_time_str(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "%lld", (long long)t);
}

void ctl_span_str(int64_t secs, char *out, size_t outsz)
{
	int64_t d, h, m, s;

	if (secs < 0)
		secs = 0;
	d = secs / 86400;
	h = secs / 3600 % 24;
	m = secs / 60 % 60;
	s = secs % 60;
	if (d > 0)
		snprintf(out, outsz, "%lldd%lldh%lldm%llds", (long long)d, (long long)h,
			 (long long)m, (long long)s);
	else if (h > 0)
		snprintf(out, outsz, "%lldh%lldm%llds", (long long)h, (long long)m, (long long)s);
	else if (m > 0)
		snprintf(out, outsz, "%lldm%llds", (long long)m, (long long)s);
	else
		snprintf(out, outsz, "%llds", (long long)s);
}
