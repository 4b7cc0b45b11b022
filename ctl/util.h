/*
 * util.h - small helpers for mamorictl's program code: allocation that
 * aborts on out-of-memory (allowed in programs, STYLE.md), formatted
 * strings, and times shown to people.
 */
#ifndef MM_CTL_UTIL_H
#define MM_CTL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocation that prints "out of memory" and aborts instead of failing. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* A malloc'ed formatted string (aborts on out-of-memory). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Unix seconds as RFC 3339 UTC ("2024-05-01T12:00:00Z") into out (>= 32 bytes). */
void ctl_time_str(int64_t t, char *out, size_t outsz);
/* A span of seconds as "3d4h5m6s" (leading zero units left out). */
void ctl_span_str(int64_t secs, char *out, size_t outsz);

#endif
