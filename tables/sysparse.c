/*
 * sysparse.c - os-release, /proc/cpuinfo and /proc/cmdline parsers, and the
 * architecture helper; see sysparse.h.
 */
#include "sysparse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strutil.h"

static int is_key_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_key_char(int c)
{
	return is_key_start(c) || (c >= '0' && c <= '9');
}

/* Unquotes the shell word at v in place.  Returns NULL on success, else why
 * the value is malformed. */
static const char *unquote(char *v)
{
	char *r = v, *w = v;

	while (*r != '\0') {
		if (*r == ' ' || *r == '\t') {
			while (*r == ' ' || *r == '\t')
				r++;
			if (*r != '\0' && *r != '#')
				return "unquoted white space in value";
			break;
		} else if (*r == '\'') {
			r++;
			while (*r != '\0' && *r != '\'')
				*w++ = *r++;
			if (*r == '\0')
				return "unterminated single quote";
			r++;
		} else if (*r == '"') {
			r++;
			while (*r != '\0' && *r != '"') {
				if (*r == '\\' && r[1] != '\0' && strchr("\"\\$`", r[1]) != NULL)
					r++;
				*w++ = *r++;
			}
			if (*r == '\0')
				return "unterminated double quote";
			r++;
		} else if (*r == '\\') {
			if (r[1] == '\0')
				return "backslash at end of line";
			*w++ = r[1];
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return NULL;
}

int mm_osrelease_parse(char *buf, size_t len, mm_sp_kv_fn fn, mm_sp_warn_fn warn, void *arg)
{
	size_t pos = 0, n;
	char *line, *s, *eq, *k;
	const char *why;
	int lineno = 0, r;

	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		lineno++;
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			warn(arg, lineno, "expected KEY=value");
			continue;
		}
		*eq = '\0';
		for (k = s; *k != '\0' && (k == s ? is_key_start(*k) : is_key_char(*k)); k++)
			;
		if (k == s || *k != '\0') {
			warn(arg, lineno, "bad variable name");
			continue;
		}
		if ((why = unquote(eq + 1)) != NULL) {
			warn(arg, lineno, why);
			continue;
		}
		if ((r = fn(arg, lineno, s, eq + 1)) != 0)
			return r;
	}
	return 0;
}

struct pair {
	long phys, core;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->phys != y->phys)
		return x->phys < y->phys ? -1 : 1;
	return (x->core > y->core) - (x->core < y->core);
}

/* Sorts and counts distinct pairs (core -1 compares as any other value). */
static int distinct(struct pair *p, int n)
{
	int i, d = 0;

	qsort(p, (size_t)n, sizeof(*p), cmp_pair);
	for (i = 0; i < n; i++)
		if (i == 0 || cmp_pair(&p[i - 1], &p[i]) != 0)
			d++;
	return d;
}

static void copy_field(char *dst, size_t dsz, const char *v)
{
	snprintf(dst, dsz, "%s", v);
}

int mm_cpuinfo_parse(char *buf, size_t len, struct mm_cpuinfo *ci)
{
	struct pair *pairs = NULL, *socks = NULL;
	int np = 0, ns = 0, cpu_cores = 0, in_cpu = 0, brand_mn = 0;
	long phys = -1, core = -1;
	size_t pos = 0;
	char *line, *colon, *key, *val, *tok, *p;
	int64_t v;

	memset(ci, 0, sizeof(*ci));
	pairs = malloc(sizeof(*pairs) * MM_CPUINFO_MAX_CPUS);
	socks = malloc(sizeof(*socks) * MM_CPUINFO_MAX_CPUS);
	if (pairs == NULL || socks == NULL) {
		free(pairs);
		free(socks);
		return MM_ERR_NOMEM;
	}
	for (;;) {
		line = mm_next_line(buf, len, &pos);
		key = val = NULL;
		if (line != NULL && (colon = strchr(line, ':')) != NULL) {
			*colon = '\0';
			key = mm_trim(line);
			val = mm_trim(colon + 1);
		}
		/* A stanza ends at "processor", a blank line or the end. */
		if (line == NULL || (key != NULL && strcmp(key, "processor") == 0) ||
		    (key == NULL && *mm_trim(line) == '\0')) {
			if (in_cpu && phys >= 0 && ns < MM_CPUINFO_MAX_CPUS) {
				socks[ns].phys = phys;
				socks[ns++].core = 0;
				if (core >= 0 && np < MM_CPUINFO_MAX_CPUS) {
					pairs[np].phys = phys;
					pairs[np++].core = core;
				}
			}
			in_cpu = 0;
			phys = core = -1;
			if (line == NULL)
				break;
		}
		if (key == NULL)
			continue;
		if (strcmp(key, "processor") == 0) {
			ci->logical++;
			in_cpu = 1;
		} else if (strcmp(key, "physical id") == 0) {
			if (mm_parse_i64(val, &v) == 0 && v >= 0)
				phys = (long)v;
		} else if (strcmp(key, "core id") == 0) {
			if (mm_parse_i64(val, &v) == 0 && v >= 0)
				core = (long)v;
		} else if (strcmp(key, "cpu cores") == 0) {
			if (cpu_cores == 0 && mm_parse_i64(val, &v) == 0 && v > 0 && v < 1000000)
				cpu_cores = (int)v;
		} else if (strcmp(key, "model name") == 0) {
			/* x86 (and some ARM) name the CPU here: it wins over the rest. */
			if (!brand_mn)
				copy_field(ci->brand, sizeof(ci->brand), val);
			brand_mn = 1;
		} else if (strcmp(key, "Hardware") == 0 || strcmp(key, "Model") == 0) {
			if (ci->brand[0] == '\0')
				copy_field(ci->brand, sizeof(ci->brand), val);
		} else if (strcmp(key, "model") == 0) {
			if (ci->model[0] == '\0')
				copy_field(ci->model, sizeof(ci->model), val);
		} else if (strcmp(key, "microcode") == 0) {
			if (ci->microcode[0] == '\0')
				copy_field(ci->microcode, sizeof(ci->microcode), val);
		} else if (strcmp(key, "vendor_id") == 0) {
			if (ci->vendor[0] == '\0')
				copy_field(ci->vendor, sizeof(ci->vendor), val);
		} else if (strcmp(key, "CPU architecture") == 0) {
			if (ci->arm_arch == 0 && mm_parse_i64(val, &v) == 0 && v > 0 && v < 100)
				ci->arm_arch = (int)v;
		} else if (strcmp(key, "flags") == 0 && !ci->has_lm) {
			p = val;
			while ((tok = mm_cmdline_next(&p)) != NULL)
				if (strcmp(tok, "lm") == 0)
					ci->has_lm = 1;
		}
	}
	ci->sockets = ns > 0 ? distinct(socks, ns) : 0;
	if (np > 0)
		ci->physical = distinct(pairs, np);
	else if (cpu_cores > 0)
		ci->physical = cpu_cores * (ci->sockets > 0 ? ci->sockets : 1);
	else
		ci->physical = ci->logical;
	free(pairs);
	free(socks);
	return 0;
}

char *mm_cmdline_next(char **p)
{
	char *s = *p, *start;
	int quoted = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	start = s;
	while (*s != '\0' && (quoted || (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r'))) {
		if (*s == '"')
			quoted = !quoted;
		s++;
	}
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return start;
}

int mm_host_arch(struct mm_ctx *ctx, char *out, size_t outsz)
{
	struct mm_cpuinfo ci;
	char *data = NULL, *s;
	size_t len;

	out[0] = '\0';
	if (mm_read(ctx, "/proc/sys/kernel/arch", 4096, &data, &len) == 0) {
		s = mm_trim(data);
		if (*s != '\0' && mm_is_text(s, strlen(s)))
			snprintf(out, outsz, "%s", s);
		free(data);
		if (out[0] != '\0')
			return 0;
	}
	data = NULL;
	if (mm_read(ctx, "/proc/cpuinfo", MM_READ_CAP, &data, &len) != 0)
		return 0;
	if (mm_cpuinfo_parse(data, len, &ci) == 0) {
		if (ci.has_lm)
			snprintf(out, outsz, "x86_64");
		else if (ci.vendor[0] != '\0')
			snprintf(out, outsz, "i686");
		else if (ci.arm_arch >= 8)
			snprintf(out, outsz, "aarch64");
		else if (ci.arm_arch == 7)
			snprintf(out, outsz, "armv7l");
	}
	free(data);
	return 0;
}
