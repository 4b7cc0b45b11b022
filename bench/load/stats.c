/*
 * stats.c - mamori-load's measurements: the latency histogram and samples
 * of the coordinator's CPU time and resident memory from /proc.
 *
 * Histogram bucket layout (values in microseconds):
 *   v < 64                 bucket v (exact)
 *   v >= 64, k = msb(v)    shift = k - 5, mantissa m = v >> shift in [32, 63],
 *                          bucket 64 + (shift - 1) * 32 + (m - 32)
 * so every bucket past 64 is 1/32 of its power of two wide (~3%).  Values
 * are capped at 2^40 us (12 days).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fileio.h"
#include "load.h"
#include "strutil.h"

#define HIST_CAP ((UINT64_C(1) << 40) - 1)

int64_t ld_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static unsigned bucket_of(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	unsigned k = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = k - 5;
	unsigned m = (unsigned)(v >> shift);
	return 64 + (shift - 1) * 32 + (m - 32);
}

/* The largest value that falls in bucket i. */
static uint64_t bucket_high(unsigned i)
{
	if (i < 64)
		return i;
	unsigned shift = (i - 64) / 32 + 1;
	uint64_t m = (i - 64) % 32 + 32;
	return ((m + 1) << shift) - 1;
}

void ld_hist_add(struct ld_hist *h, uint64_t us)
{
	if (us > HIST_CAP)
		us = HIST_CAP;
	h->b[bucket_of(us)]++;
	h->count++;
	h->sum += us;
	if (us > h->max)
		h->max = us;
}

void ld_hist_merge(struct ld_hist *into, const struct ld_hist *h)
{
	for (unsigned i = 0; i < LD_HIST_BUCKETS; i++)
		into->b[i] += h->b[i];
	into->count += h->count;
	into->sum += h->sum;
	if (h->max > into->max)
		into->max = h->max;
}

uint64_t ld_hist_quantile(const struct ld_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint64_t seen = 0;
	for (unsigned i = 0; i < LD_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = bucket_high(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

/* Reads "Key:   1234 kB" from a /proc status text; 0 when absent. */
static uint64_t status_kb(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[kl] == ':') {
			char num[32];
			size_t n = 0;
			p += kl + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			while (n + 1 < sizeof(num) && *p >= '0' && *p <= '9')
				num[n++] = *p++;
			num[n] = '\0';
			uint64_t v = 0;
			if (mm_parse_u64(num, 10, &v) != 0)
				return 0;
			return v;
		}
		p += kl;
	}
	return 0;
}

int ld_proc_sample(pid_t pid, struct ld_proc_sample *s)
{
	char path[64], *stat = NULL, *status = NULL;
	size_t len;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((r = mm_read_file(path, 4096, &stat, &len)) != 0)
		goto out;
	/* Fields after the ")" closing comm: state(3) ... utime(14) stime(15). */
	char *p = strrchr(stat, ')');
	if (p == NULL) {
		r = MM_ERR_PARSE;
		goto out;
	}
	char *f[16];
	int n = mm_split_ws(p + 1, " \n", f, 16);
	uint64_t ut, st;
	if (n < 13 || mm_parse_u64(f[11], 10, &ut) != 0 || mm_parse_u64(f[12], 10, &st) != 0) {
		r = MM_ERR_PARSE;
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((r = mm_read_file(path, 16384, &status, &len)) != 0)
		goto out;
	s->ticks = ut + st;
	s->rss_kb = status_kb(status, "VmRSS");
	s->hwm_kb = status_kb(status, "VmHWM");
	s->ok = 1;
	r = 0;
out:
	free(stat);
	free(status);
	return r;
}

int ld_machine_busy(uint64_t *ticks)
{
	char *stat = NULL, *f[12];
	size_t len;
	int r, n;

	*ticks = 0;
	if ((r = mm_read_file("/proc/stat", 1 << 20, &stat, &len)) != 0)
		return r;
	/* "cpu  user nice system idle iowait irq softirq steal ..." */
	char *eol = strchr(stat, '\n');
	if (eol != NULL)
		*eol = '\0';
	n = mm_split_ws(stat, " ", f, 12);
	r = MM_ERR_PARSE;
	if (n >= 9 && strcmp(f[0], "cpu") == 0) {
		static const int busy[] = {1, 2, 3,
		                           6, 7, 8}; /* user nice system irq softirq steal */
		uint64_t v, sum = 0;
		r = 0;
		for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]) && r == 0; i++) {
			r = mm_parse_u64(f[busy[i]], 10, &v);
			sum += v;
		}
		if (r == 0)
			*ticks = sum;
	}
	free(stat);
	return r;
}
