/*
 * dns_resolvers.c - osquery's `dns_resolvers` table: the resolver
 * configuration in /etc/resolv.conf under the root prefix, read the way
 * glibc's res_init() reads it (resolv.conf(5)).
 *
 * Rows, in osquery's order:
 *   type 'nameserver'  the first 3 nameserver lines (glibc ignores more);
 *                      netmask '32' for IPv4, '128' for IPv6
 *   type 'sortlist'    each address[/netmask] pair; netmask is the prefix
 *                      length (the natural class mask when none is given)
 *   type 'search'      each domain of the last search or domain line
 *                      (netmask NULL)
 * id numbers the rows of each type from 0.  options is the resolver's
 * option bitmask (_res.options, RES_* in <resolv.h>) as res_init() would set
 * it: RES_INIT | RES_DEFAULT plus the flags named on `options` lines; it is
 * the same on every row.
 *
 * Differences from osquery, which asks the live resolver: under a root
 * prefix nothing is taken from the running system (no RES_OPTIONS
 * variable, no search domain derived from the host name, no 127.0.0.1
 * default when no nameserver is configured); each search row holds its own
 * domain (osquery repeats the first); and sortlist netmasks are prefix
 * lengths.  Lines the resolver would not understand (unknown keywords,
 * bad addresses, unknown options) are reported with a warning.
 */
#include <arpa/inet.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "table.h"

enum { C_ID, C_TYPE, C_ADDRESS, C_NETMASK, C_OPTIONS, C_PID_WITH_NAMESPACE };

static const struct mm_column cols[] = {
	{ "id", MM_INTEGER, 0, "Order of the entry within its type, from 0" },
	{ "type", MM_TEXT, 0, "Entry type: nameserver, sortlist or search" },
	{ "address", MM_TEXT, 0, "Name server or sortlist address, or search domain" },
	{ "netmask", MM_TEXT, 0, "Prefix length: 32/128 for name servers, the sortlist mask" },
	{ "options", MM_BIGINT, 0, "Resolver option bits (RES_* of resolv.h), same on every row" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ NULL },
};

#define NS_MAX 3    /* MAXNS: name servers glibc uses */
#define SORT_MAX 10 /* MAXRESOLVSORT */

struct sortent {
	char addr[INET_ADDRSTRLEN];
	int prefix;
};

struct conf {
	char ns[NS_MAX][INET6_ADDRSTRLEN + 64]; /* canonical address, "%zone" kept */
	int nns;
	struct sortent sort[SORT_MAX];
	int nsort;
	char *search; /* words of the last search/domain line (in the file buffer) */
	int64_t options;
};

/* Options that set a flag (glibc 2.36 res_init.c); the numeric ones
 * (ndots:, timeout:, attempts:) and debug set none. */
static const struct {
	const char *name;
	int64_t flag;
} opt_flags[] = {
	{ "rotate", RES_ROTATE },
	{ "edns0", RES_USE_EDNS0 },
	{ "single-request-reopen", RES_SNGLKUPREOP },
	{ "single-request", RES_SNGLKUP },
	{ "no_tld_query", RES_NOTLDQUERY },
	{ "no-tld-query", RES_NOTLDQUERY },
	{ "no-reload", RES_NORELOAD },
	{ "use-vc", RES_USEVC },
	{ "trust-ad", RES_TRUSTAD },
	{ "no-aaaa", RES_NOAAAA },
	{ "debug", 0 },
};

/* Canonicalises an IPv4 or IPv6 address (IPv6 may carry "%zone") into out.
 * Returns 0 or -1 when s is not an address. */
static int canon_addr(const char *s, char *out, size_t outsz)
{
	unsigned char bin[16];
	char tmp[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(s, '%');
	size_t n = pct != NULL ? (size_t)(pct - s) : strlen(s), k;

	if (inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)outsz) != NULL ? 0 : -1;
	if (n >= sizeof(tmp) || (pct != NULL && (pct[1] == '\0' || strlen(pct) > 32)))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, bin) != 1 || inet_ntop(AF_INET6, bin, out, (socklen_t)outsz) == NULL)
		return -1;
	if (pct != NULL) {
		k = strlen(out);
		if (k + strlen(pct) + 1 > outsz)
			return -1;
		memcpy(out + k, pct, strlen(pct) + 1);
	}
	return 0;
}

/* Parses one sortlist word: "a.b.c.d" or "a.b.c.d/m.m.m.m" (glibc also
 * accepts '&' as the separator).  Returns 0 or -1. */
static int parse_sort(char *word, struct sortent *e)
{
	struct in_addr a, m;
	char *sep = strpbrk(word, "/&");
	char sc = sep != NULL ? *sep : '\0';
	uint32_t mask, h;
	int bits = 0, r;

	if (sep != NULL)
		*sep = '\0';
	r = inet_pton(AF_INET, word, &a);
	if (sep != NULL) {
		*sep = sc; /* the caller may quote the word */
		if (r != 1 || inet_pton(AF_INET, sep + 1, &m) != 1)
			return -1;
		mask = ntohl(m.s_addr);
	} else {
		if (r != 1)
			return -1;
		h = ntohl(a.s_addr); /* natural class mask, as glibc's net_mask() */
		mask = (h >> 31) == 0 ? 0xff000000u : (h >> 30) == 2 ? 0xffff0000u : 0xffffff00u;
	}
	while (bits < 32 && (mask & (0x80000000u >> bits)))
		bits++;
	if (bits < 32 && (mask << bits) != 0)
		return -1; /* holes in the mask */
	inet_ntop(AF_INET, &a, e->addr, sizeof(e->addr));
	e->prefix = bits;
	return 0;
}

/* Reads one configuration line into c, warning about what the resolver
 * would ignore. */
static void parse_line(struct mm_ctx *ctx, const char *path, int lineno, char *line,
		       struct conf *c)
{
	char *w[SORT_MAX + 2], *kw, *rest;
	size_t i;
	int n, k;

	line += strspn(line, " \t");
	if (*line == '\0' || *line == '#' || *line == ';')
		return;
	if ((i = strlen(line)) > 0 && line[i - 1] == '\r')
		line[i - 1] = '\0'; /* CRLF file */
	if (!mm_is_text(line, strlen(line))) {
		mm_warn(ctx, "%s:%d: control characters in line", path, lineno);
		return;
	}
	kw = line;
	rest = line + strcspn(line, " \t\r");
	if (*rest != '\0')
		*rest++ = '\0';
	if (strcmp(kw, "nameserver") == 0) {
		char addr[sizeof(c->ns[0])];
		if (mm_split_ws(rest, " \t\r", w, 1) != 1) {
			mm_warn(ctx, "%s:%d: nameserver without an address", path, lineno);
		} else if (canon_addr(w[0], addr, sizeof(addr)) != 0) {
			mm_warn(ctx, "%s:%d: bad nameserver address '%.64s'", path, lineno, w[0]);
		} else if (c->nns == NS_MAX) {
			mm_warn(ctx, "%s:%d: nameserver %s ignored: only the first %d are used", path,
				lineno, addr, NS_MAX);
		} else {
			memcpy(c->ns[c->nns++], addr, sizeof(addr));
		}
	} else if (strcmp(kw, "search") == 0 || strcmp(kw, "domain") == 0) {
		/* the last search or domain line wins; domain names one domain */
		if (kw[0] == 'd' && mm_split_ws(rest, " \t\r", w, 1) == 1)
			c->search = w[0];
		else if (kw[0] == 's')
			c->search = rest;
		else
			mm_warn(ctx, "%s:%d: domain without a name", path, lineno);
	} else if (strcmp(kw, "sortlist") == 0) {
		n = mm_split_ws(rest, " \t\r", w, SORT_MAX + 1);
		for (k = 0; k < n; k++) {
			if (c->nsort == SORT_MAX) {
				mm_warn(ctx, "%s:%d: sortlist entries past the first %d ignored", path,
					lineno, SORT_MAX);
				break;
			}
			if (parse_sort(w[k], &c->sort[c->nsort]) == 0)
				c->nsort++;
			else
				mm_warn(ctx, "%s:%d: bad sortlist entry '%.64s'", path, lineno, w[k]);
		}
	} else if (strcmp(kw, "options") == 0) {
		char *o = rest;
		size_t len;
		while (*(o += strspn(o, " \t\r")) != '\0') {
			len = strcspn(o, " \t\r");
			if ((len > 6 && strncmp(o, "ndots:", 6) == 0) ||
			    (len > 8 && strncmp(o, "timeout:", 8) == 0) ||
			    (len > 9 && strncmp(o, "attempts:", 9) == 0)) {
				o += len;
				continue;
			}
			for (i = 0; i < sizeof(opt_flags) / sizeof(opt_flags[0]); i++)
				if (strlen(opt_flags[i].name) == len &&
				    strncmp(o, opt_flags[i].name, len) == 0)
					break;
			if (i < sizeof(opt_flags) / sizeof(opt_flags[0]))
				c->options |= opt_flags[i].flag;
			else
				mm_warn(ctx, "%s:%d: unknown option '%.*s'", path, lineno,
					(int)(len > 40 ? 40 : len), o);
			o += len;
		}
	} else {
		mm_warn(ctx, "%s:%d: unknown keyword '%.40s'", path, lineno, kw);
	}
}

/* Emits one row. */
static int row(struct mm_ctx *ctx, const struct conf *c, int id, const char *type,
	       const char *addr, size_t addrlen, int prefix)
{
	int r;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_int(ctx, C_ID, id);
	mm_set_text(ctx, C_TYPE, type);
	mm_set_textn(ctx, C_ADDRESS, addr, addrlen);
	if (prefix >= 0)
		mm_set_textf(ctx, C_NETMASK, "%d", prefix);
	mm_set_int(ctx, C_OPTIONS, c->options);
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	const char *path = "/etc/resolv.conf";
	struct conf c;
	char *data = NULL, *line;
	size_t len = 0, pos = 0, n;
	const char *s;
	int r, lineno = 0, i;

	memset(&c, 0, sizeof(c));
	c.options = RES_INIT | RES_DEFAULT;
	r = mm_read(ctx, path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: %s", path, mm_strerror(r));
		return 0;
	}
	while ((line = mm_next_line(data, len, &pos)) != NULL)
		parse_line(ctx, path, ++lineno, line, &c);
	for (i = 0; i < c.nns; i++)
		if ((r = row(ctx, &c, i, "nameserver", c.ns[i], strlen(c.ns[i]),
			     strchr(c.ns[i], ':') != NULL ? 128 : 32)) != 0)
			goto out;
	for (i = 0; i < c.nsort; i++)
		if ((r = row(ctx, &c, i, "sortlist", c.sort[i].addr, strlen(c.sort[i].addr),
			     c.sort[i].prefix)) != 0)
			goto out;
	for (i = 0, s = c.search; s != NULL && *(s += strspn(s, " \t\r")) != '\0'; i++) {
		n = strcspn(s, " \t\r");
		if ((r = row(ctx, &c, i, "search", s, n, -1)) != 0)
			goto out;
		s += n;
	}
	r = 0;
out:
	free(data);
	return r;
}

const struct mm_table mm_table_dns_resolvers = {
	.name = "dns_resolvers",
	.description = "Resolver configuration from /etc/resolv.conf: name servers, sortlist "
		       "and search domains, with the resolver option bits.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT id, address FROM dns_resolvers WHERE type = 'nameserver' ORDER BY id;",
	.notes = "Read from /etc/resolv.conf under the root prefix as glibc's res_init() reads "
		 "it: the first 3 nameserver lines, the last search/domain line, sortlist "
		 "entries. options is the RES_* bitmask (RES_INIT|RES_DEFAULT = 705 plus "
		 "flags such as rotate or edns0), the same on every row. Nothing is taken from "
		 "the running system: no RES_OPTIONS, no default 127.0.0.1 name server, no "
		 "search domain from the host name. Lines the resolver would ignore are "
		 "reported with a warning naming file and line.",
};
