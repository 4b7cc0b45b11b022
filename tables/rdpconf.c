/*
 * rdpconf.c - parsers for xrdp's INI files, xrdp's listen specs, TigerVNC's
 * config files and remote-desktop server command lines (see rdpconf.h).
 * Pure functions over buffers: no engine, no I/O, no allocation.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "rdpconf.h"
#include "strutil.h"

/* Returns 1 if the n bytes at s hold a control byte other than tab or '\r'
 * (a NUL inside a line counts). */
static int has_ctl(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return 1;
	}
	return 0;
}

int mm_ini_parse(char *buf, size_t len, mm_ini_fn fn, mm_ini_warn_fn warn, void *arg)
{
	char section[256] = "";
	size_t pos = 0;
	int line = 0, r;

	while (pos < len) {
		char *s = buf + pos, *nl = memchr(s, '\n', len - pos), *eq;
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;

		pos += n + (nl != NULL);
		line++;
		s[n] = '\0';
		if (n > MM_INI_LINE_MAX) {
			if (warn != NULL)
				warn(arg, line, "line too long");
			continue;
		}
		if (has_ctl(s, n)) {
			if (warn != NULL)
				warn(arg, line, "control bytes in line");
			continue;
		}
		s = mm_trim(s);
		if (*s == '\0' || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			size_t sl;
			if (end == NULL) {
				if (warn != NULL)
					warn(arg, line, "section header without ']'");
				continue;
			}
			*end = '\0';
			s = mm_trim(s + 1);
			sl = strlen(s);
			if (sl >= sizeof(section))
				sl = sizeof(section) - 1; /* cannot happen: line cap is smaller */
			memcpy(section, s, sl);
			section[sl] = '\0';
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			if (warn != NULL)
				warn(arg, line, "expected key=value");
			continue;
		}
		*eq = '\0';
		s = mm_trim(s);
		if (*s == '\0') {
			if (warn != NULL)
				warn(arg, line, "empty key");
			continue;
		}
		if ((r = fn(arg, line, section, s, mm_trim(eq + 1))) != 0)
			return r;
	}
	return 0;
}

/* Parses a decimal port 1..65535 from the n bytes at s; -1 if not one. */
static int parse_port(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? v : -1;
}

static int set_addr(struct mm_rd_listen *l, const char *s, size_t n)
{
	size_t i;

	if (n >= sizeof(l->addr))
		return -1;
	for (i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]) || s[i] == '/' || (unsigned char)s[i] < 0x20)
			return -1;
	memcpy(l->addr, s, n);
	l->addr[n] = '\0';
	return 0;
}

/* Parses one endpoint (n bytes at s) into l; returns 0 or sets *why. */
static int parse_one(const char *s, size_t n, struct mm_rd_listen *l, const char **why)
{
	const char *rest, *colon;
	size_t rn;

	memset(l, 0, sizeof(*l));
	l->port = -1;
	if ((l->port = parse_port(s, n)) > 0) {
		l->kind = MM_RD_ANY;
		memcpy(l->addr, "0.0.0.0", 8);
		return 0;
	}
	if (n > 7 && memcmp(s, "unix://", 7) == 0) {
		l->kind = MM_RD_UNIX;
		if (n - 7 >= sizeof(l->addr) || has_ctl(s + 7, n - 7)) {
			*why = "bad unix socket path";
			return MM_ERR_PARSE;
		}
		memcpy(l->addr, s + 7, n - 7);
		l->addr[n - 7] = '\0';
		return 0;
	}
	if (n > 6 && memcmp(s, "tcp://", 6) == 0) {
		l->kind = MM_RD_TCP4;
		rest = s + 6;
	} else if (n > 7 && memcmp(s, "tcp6://", 7) == 0) {
		l->kind = MM_RD_TCP6;
		rest = s + 7;
	} else if (n > 8 && memcmp(s, "vsock://", 8) == 0) {
		l->kind = MM_RD_VSOCK;
		rest = s + 8;
	} else {
		*why = "expected a port, tcp://, tcp6://, vsock:// or unix://";
		return MM_ERR_PARSE;
	}
	rn = (size_t)(s + n - rest);
	/* The port follows the last ':' (IPv6 addresses hold colons of their own). */
	colon = NULL;
	for (const char *p = rest; p < rest + rn; p++)
		if (*p == ':')
			colon = p;
	if (colon == NULL ||
	    (l->port = parse_port(colon + 1, (size_t)(rest + rn - colon - 1))) < 0) {
		*why = "missing or bad port number";
		return MM_ERR_PARSE;
	}
	rn = (size_t)(colon - rest);
	if (rn >= 2 &&
	    ((rest[0] == '[' && rest[rn - 1] == ']') || (rest[0] == '{' && rest[rn - 1] == '}'))) {
		rest++;
		rn -= 2;
	}
	if (rn == 0) {
		const char *any = l->kind == MM_RD_TCP6    ? "::"
		                  : l->kind == MM_RD_VSOCK ? "-1"
		                                           : "0.0.0.0";
		memcpy(l->addr, any, strlen(any) + 1);
		return 0;
	}
	if (rn == 1 && rest[0] == '.' && l->kind != MM_RD_VSOCK) {
		const char *lo = l->kind == MM_RD_TCP6 ? "::1" : "127.0.0.1";
		memcpy(l->addr, lo, strlen(lo) + 1);
		return 0;
	}
	if (set_addr(l, rest, rn) != 0) {
		*why = "bad address";
		return MM_ERR_PARSE;
	}
	return 0;
}

int mm_rd_listen_parse(const char *spec, struct mm_rd_listen *out, int *n, const char **why)
{
	const char *p = spec;

	*n = 0;
	*why = NULL;
	for (;;) {
		const char *start;
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - start);
		if (*n == MM_RD_LISTEN_MAX) {
			*why = "too many endpoints";
			return MM_ERR_PARSE;
		}
		if (parse_one(start, len, &out[*n], why) != 0)
			return MM_ERR_PARSE;
		(*n)++;
	}
	if (*n == 0) {
		*why = "empty port value";
		return MM_ERR_PARSE;
	}
	return 0;
}

int mm_rd_is_loopback(const char *addr)
{
	return mm_startswith(addr, "127.") || strcmp(addr, "::1") == 0 ||
	       mm_startswith(addr, "::ffff:127.") || strcasecmp(addr, "localhost") == 0;
}

int mm_rd_bool(const char *s, size_t n)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
			return 1;
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
			return 0;
	}
	return -1;
}

/* Steps to the next line of buf: sets *ls, *ln to it (without its
 * newline) and advances *pos; returns 0 at the end of the buffer. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **ls, size_t *ln)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	*ls = buf + *pos;
	nl = memchr(*ls, '\n', len - *pos);
	*ln = nl != NULL ? (size_t)(nl - *ls) : len - *pos;
	*pos += *ln + (nl != NULL);
	return 1;
}

static void skip_ws(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r'))
		(*p)++;
}

int mm_rd_perl_localhost(const char *buf, size_t len, int *line)
{
	const char *ls;
	size_t ln, pos = 0;
	int no = 0, v = -1;

	*line = 0;
	while (next_line(buf, len, &pos, &ls, &ln)) {
		const char *p = ls, *end = ls + ln, *val;
		char q;
		int b;

		no++;
		skip_ws(&p, end);
		if ((size_t)(end - p) < 10 || memcmp(p, "$localhost", 10) != 0)
			continue;
		p += 10;
		skip_ws(&p, end);
		if (p == end || *p != '=')
			continue;
		p++;
		skip_ws(&p, end);
		if (p == end)
			continue;
		q = *p;
		if (q == '"' || q == '\'') {
			val = ++p;
			while (p < end && *p != q)
				p++;
			if (p == end)
				continue;
		} else {
			val = p;
			while (p < end && *p != ';' && *p != ' ' && *p != '\t')
				p++;
		}
		if ((b = mm_rd_bool(val, (size_t)(p - val))) >= 0) {
			v = b;
			*line = no;
		}
	}
	return v;
}

int mm_rd_vnc_localhost(const char *buf, size_t len, int *line)
{
	const char *ls;
	size_t ln, pos = 0;
	int no = 0, v = -1;

	*line = 0;
	while (next_line(buf, len, &pos, &ls, &ln)) {
		const char *p = ls, *end = ls + ln, *val;
		int b;

		no++;
		skip_ws(&p, end);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if ((size_t)(end - p) < 9 || strncasecmp(p, "localhost", 9) != 0)
			continue;
		p += 9;
		skip_ws(&p, end);
		if (p == end) {
			v = 1;
			*line = no;
			continue;
		}
		if (*p != '=')
			continue;
		p++;
		skip_ws(&p, end);
		val = p;
		if ((b = mm_rd_bool(val, (size_t)(end - val))) >= 0) {
			v = b;
			*line = no;
		}
	}
	return v;
}

/* Copies the n bytes at s into o->bind when they fit; else leaves it "". */
static void set_bind(struct mm_rd_cmdline *o, const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(o->bind) || has_ctl(s, n))
		return;
	memcpy(o->bind, s, n);
	o->bind[n] = '\0';
}

/* Returns 1 if the token (t, n) is option name (with one or two dashes). */
static int is_opt(const char *t, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n >= 2 && t[0] == '-' && t[1] == '-') {
		t++;
		n--;
	}
	return n == k + 1 && t[0] == '-' && strncasecmp(t + 1, name, k) == 0;
}

/* Returns the value after "-name=" in token (t, n), or NULL. */
static const char *opt_eq(const char *t, size_t n, const char *name, size_t *vn)
{
	size_t k = strlen(name);

	if (n >= 2 && t[0] == '-' && t[1] == '-') {
		t++;
		n--;
	}
	if (n > k + 1 && t[0] == '-' && strncasecmp(t + 1, name, k) == 0 && t[k + 1] == '=') {
		*vn = n - k - 2;
		return t + k + 2;
	}
	return NULL;
}

void mm_rd_cmdline_parse(const char *cmdline, struct mm_rd_cmdline *o)
{
	const char *p = cmdline, *prev = NULL;
	size_t prevn = 0;

	memset(o, 0, sizeof(*o));
	o->localhost = o->port = o->display = -1;
	for (;;) {
		const char *t, *v;
		size_t n, vn;
		int b;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		t = p;
		while (*p != '\0' && *p != ' ')
			p++;
		n = (size_t)(p - t);
		/* Options taking the next argument as value. */
		if (prev != NULL) {
			if (is_opt(prev, prevn, "rfbport"))
				o->port = parse_port(t, n);
			else
				set_bind(o, t, n);
			prev = NULL;
			continue;
		}
		if (is_opt(t, n, "rfbport") || is_opt(t, n, "interface") ||
		    is_opt(t, n, "listen")) {
			prev = t;
			prevn = n;
		} else if (is_opt(t, n, "localhost")) {
			o->localhost = 1;
		} else if ((v = opt_eq(t, n, "localhost", &vn)) != NULL) {
			if ((b = mm_rd_bool(v, vn)) >= 0)
				o->localhost = b;
		} else if ((v = opt_eq(t, n, "rfbport", &vn)) != NULL) {
			o->port = parse_port(v, vn);
		} else if ((v = opt_eq(t, n, "interface", &vn)) != NULL) {
			set_bind(o, v, vn);
		} else if (n > 6 && strncmp(t, "/port:", 6) == 0) {
			o->port = parse_port(t + 6, n - 6);
		} else if (n > 14 && strncmp(t, "/bind-address:", 14) == 0) {
			set_bind(o, t + 14, n - 14);
		} else if (n >= 2 && n <= 4 && t[0] == ':' && o->display < 0) {
			int d = parse_port(t + 1, n - 1);
			if (t[1] == '0' && n == 2)
				d = 0;
			if (d >= 0 && d < 100)
				o->display = d;
		}
	}
}
