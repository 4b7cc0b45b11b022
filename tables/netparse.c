/*
 * netparse.c - parsers for /proc/net/{route,ipv6_route,if_inet6,fib_trie,dev};
 * see netparse.h.  Pure functions: a buffer in, an array of records out.
 */
#include "netparse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strutil.h"

#define MAXF 24 /* more fields than any line has, so that extra ones are counted */

/* Appends one zeroed record to a growable array; returns it or NULL. */
static void *push(void **arr, size_t *n, size_t *cap, size_t elsz)
{
	void *na;
	size_t nc;

	if (*n == *cap) {
		nc = *cap == 0 ? 16 : *cap * 2;
		if ((na = realloc(*arr, nc * elsz)) == NULL)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	memset((char *)*arr + *n * elsz, 0, elsz);
	return (char *)*arr + (*n)++ * elsz;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses exactly 2*n hex digits into n bytes; returns 0 or -1. */
static int hexbytes(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = hexval((unsigned char)s[2 * i])) < 0 ||
		    (lo = hexval((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Parses a hex or decimal number no larger than max. */
static int num(const char *s, int base, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (mm_parse_u64(s, base, &v) != 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int ifname_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < MM_NP_IFNAMSIZ && mm_is_text(s, n) && strchr(s, '/') == NULL;
}

/* Counts the leading one bits of a host-order mask; -1 when not contiguous. */
static int mask_plen(uint32_t m)
{
	int n = 0;

	while (n < 32 && (m & (0x80000000u >> n)) != 0)
		n++;
	if (n < 32 && (m << n) != 0)
		return -1;
	return n;
}

/*
 * /proc/net/route, one line per route after the header:
 *   Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
 *   eth0  000200C0    00000000 0001 0      0   0      00FFFFFF 0 0 0
 * Addresses are the kernel's __be32 printed as a native integer (%08X), so
 * on this (little-endian) machine 000200C0 is 192.0.2.0: ntohl() of the
 * parsed value gives the host-order address on either endianness.
 */
int mm_np_route4(char *buf, size_t len, struct mm_route4 **out, size_t *n, mm_np_warn_fn warn,
		 void *arg)
{
	struct mm_route4 *arr = NULL, *r;
	size_t cap = 0, pos = 0;
	char *line, *f[MAXF];
	uint64_t dest, gw, flags, metric, mask, mtu;
	int lineno = 0, nf, plen;

	*out = NULL;
	*n = 0;
	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		lineno++;
		nf = mm_split_ws(line, " \t\r", f, MAXF);
		if (nf == 0 || strcmp(f[0], "Iface") == 0)
			continue;
		if (nf < 11) {
			char why[64];
			snprintf(why, sizeof(why), "expected 11 fields, got %d", nf);
			warn(arg, lineno, why);
			continue;
		}
		if (!ifname_ok(f[0]) || num(f[1], 16, UINT32_MAX, &dest) != 0 ||
		    num(f[2], 16, UINT32_MAX, &gw) != 0 || num(f[3], 16, UINT32_MAX, &flags) != 0 ||
		    num(f[6], 10, UINT32_MAX, &metric) != 0 || num(f[7], 16, UINT32_MAX, &mask) != 0 ||
		    num(f[8], 10, UINT32_MAX, &mtu) != 0) {
			warn(arg, lineno, "bad interface name or number");
			continue;
		}
		if ((plen = mask_plen(ntohl((uint32_t)mask))) < 0) {
			warn(arg, lineno, "netmask is not a prefix");
			continue;
		}
		if ((r = push((void **)&arr, n, &cap, sizeof(*r))) == NULL) {
			free(arr);
			*n = 0;
			return MM_ERR_NOMEM;
		}
		memcpy(r->iface, f[0], strlen(f[0]) + 1);
		r->dest = ntohl((uint32_t)dest);
		r->gateway = ntohl((uint32_t)gw);
		r->mask = ntohl((uint32_t)mask);
		r->plen = (unsigned)plen;
		r->flags = (uint32_t)flags;
		r->metric = (uint32_t)metric;
		r->mtu = (uint32_t)mtu;
	}
	*out = arr;
	return 0;
}

/*
 * /proc/net/ipv6_route, one line per route, no header:
 *   dest(32 hex) dest_plen(2) src(32) src_plen(2) next_hop(32) metric(8)
 *   refcnt(8) use(8) flags(8) iface
 */
int mm_np_route6(char *buf, size_t len, struct mm_route6 **out, size_t *n, mm_np_warn_fn warn,
		 void *arg)
{
	struct mm_route6 *arr = NULL, *r;
	struct mm_route6 tmp;
	size_t cap = 0, pos = 0;
	char *line, *f[MAXF];
	uint64_t dplen, splen, metric, flags;
	int lineno = 0, nf;

	*out = NULL;
	*n = 0;
	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		lineno++;
		nf = mm_split_ws(line, " \t\r", f, MAXF);
		if (nf == 0)
			continue;
		if (nf != 10) {
			char why[64];
			snprintf(why, sizeof(why), "expected 10 fields, got %d", nf);
			warn(arg, lineno, why);
			continue;
		}
		memset(&tmp, 0, sizeof(tmp));
		if (hexbytes(f[0], tmp.dest, 16) != 0 || strlen(f[1]) != 2 ||
		    num(f[1], 16, 128, &dplen) != 0 || hexbytes(f[2], tmp.src, 16) != 0 ||
		    strlen(f[3]) != 2 || num(f[3], 16, 128, &splen) != 0 ||
		    hexbytes(f[4], tmp.gateway, 16) != 0 || strlen(f[5]) != 8 ||
		    num(f[5], 16, UINT32_MAX, &metric) != 0 || strlen(f[8]) != 8 ||
		    num(f[8], 16, UINT32_MAX, &flags) != 0 || !ifname_ok(f[9])) {
			warn(arg, lineno, "malformed route (hex fields or interface name)");
			continue;
		}
		if ((r = push((void **)&arr, n, &cap, sizeof(*r))) == NULL) {
			free(arr);
			*n = 0;
			return MM_ERR_NOMEM;
		}
		*r = tmp;
		memcpy(r->iface, f[9], strlen(f[9]) + 1);
		r->dest_plen = (unsigned)dplen;
		r->src_plen = (unsigned)splen;
		r->metric = (uint32_t)metric;
		r->flags = (uint32_t)flags;
	}
	*out = arr;
	return 0;
}

/*
 * /proc/net/if_inet6, one line per address, no header:
 *   addr(32 hex) ifindex plen scope flags iface      (numbers in hex)
 */
int mm_np_inet6(char *buf, size_t len, struct mm_inet6 **out, size_t *n, mm_np_warn_fn warn,
		void *arg)
{
	struct mm_inet6 *arr = NULL, *r;
	uint8_t addr[16];
	size_t cap = 0, pos = 0;
	char *line, *f[MAXF];
	uint64_t idx, plen, scope, flags;
	int lineno = 0, nf;

	*out = NULL;
	*n = 0;
	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		lineno++;
		nf = mm_split_ws(line, " \t\r", f, MAXF);
		if (nf == 0)
			continue;
		if (nf != 6) {
			char why[64];
			snprintf(why, sizeof(why), "expected 6 fields, got %d", nf);
			warn(arg, lineno, why);
			continue;
		}
		if (hexbytes(f[0], addr, 16) != 0 || num(f[1], 16, UINT32_MAX, &idx) != 0 ||
		    num(f[2], 16, 128, &plen) != 0 || num(f[3], 16, 0xff, &scope) != 0 ||
		    num(f[4], 16, UINT32_MAX, &flags) != 0 || !ifname_ok(f[5])) {
			warn(arg, lineno, "malformed address (hex fields or interface name)");
			continue;
		}
		if ((r = push((void **)&arr, n, &cap, sizeof(*r))) == NULL) {
			free(arr);
			*n = 0;
			return MM_ERR_NOMEM;
		}
		memcpy(r->addr, addr, 16);
		memcpy(r->iface, f[5], strlen(f[5]) + 1);
		r->ifindex = (unsigned)idx;
		r->plen = (unsigned)plen;
		r->scope = (unsigned)scope;
		r->flags = (unsigned)flags;
	}
	*out = arr;
	return 0;
}

static int parse_ip4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int fib_seen(const struct mm_fib4 *arr, size_t n, const struct mm_fib4 *e)
{
	size_t i;

	/* Main and Local repeat the same leaves in the same order, so a repeat
	 * is found near the start of the list: cheap in practice. */
	for (i = 0; i < n; i++)
		if (arr[i].prefix == e->prefix && arr[i].plen == e->plen &&
		    arr[i].type == e->type && arr[i].scope == e->scope)
			return 1;
	return 0;
}

/*
 * /proc/net/fib_trie, a drawing of the trie per table:
 *
 *   Main:                          table header ("Local:", "Id 100:")
 *     +-- 0.0.0.0/0 3 0 5          inner node: skipped
 *        |-- 192.0.2.0             leaf: the key of the lines below
 *           /24 link UNICAST       alias: prefix length, scope, type [tos=N]
 *        |-- 192.0.2.10
 *           /32 host LOCAL
 *
 * Duplicates across tables are dropped (the first is kept).  The dedup scan
 * is linear per entry: a host's FIB has tens of entries; a full Internet
 * table would not fit MM_READ_CAP anyway.
 */
int mm_np_fib4(char *buf, size_t len, struct mm_fib4 **out, size_t *n, mm_np_warn_fn warn,
	       void *arg)
{
	struct mm_fib4 *arr = NULL, *r, e;
	size_t cap = 0, pos = 0;
	char *line, *s, *f[MAXF];
	uint32_t leaf = 0;
	uint64_t plen;
	int lineno = 0, nf, have_leaf = 0;

	*out = NULL;
	*n = 0;
	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		lineno++;
		s = mm_trim(line);
		if (*s == '\0')
			continue;
		if (mm_startswith(s, "+--"))
			continue;
		if (mm_endswith(s, ":")) {
			have_leaf = 0;
			continue;
		}
		if (mm_startswith(s, "|--")) {
			s = mm_trim(s + 3);
			if (parse_ip4(s, &leaf) != 0) {
				warn(arg, lineno, "leaf is not an IPv4 address");
				have_leaf = 0;
				continue;
			}
			have_leaf = 1;
			continue;
		}
		if (*s != '/') {
			warn(arg, lineno, "unrecognised line");
			continue;
		}
		nf = mm_split_ws(s + 1, " \t", f, MAXF);
		if (!have_leaf || nf < 3 || num(f[0], 10, 32, &plen) != 0) {
			warn(arg, lineno, "prefix line without a leaf or with a bad length");
			continue;
		}
		memset(&e, 0, sizeof(e));
		e.prefix = leaf;
		e.plen = (unsigned)plen;
		e.scope = strcmp(f[1], "universe") == 0 ? MM_FIB_UNIVERSE
			  : strcmp(f[1], "link") == 0	? MM_FIB_LINK
			  : strcmp(f[1], "host") == 0	? MM_FIB_HOST
							: MM_FIB_SCOPE_OTHER;
		e.type = strcmp(f[2], "UNICAST") == 0	  ? MM_FIB_UNICAST
			 : strcmp(f[2], "LOCAL") == 0	  ? MM_FIB_LOCAL
			 : strcmp(f[2], "BROADCAST") == 0 ? MM_FIB_BROADCAST
							  : MM_FIB_OTHER;
		if (fib_seen(arr, *n, &e))
			continue;
		if ((r = push((void **)&arr, n, &cap, sizeof(*r))) == NULL) {
			free(arr);
			*n = 0;
			return MM_ERR_NOMEM;
		}
		*r = e;
	}
	*out = arr;
	return 0;
}

/*
 * /proc/net/dev: two header lines, then per interface
 *   "  eth0: rx_bytes packets errs drop fifo frame compressed multicast
 *            tx_bytes packets errs drop fifo colls carrier compressed"
 * Old kernels glue the name to the first number ("eth0:123"); interface
 * names cannot contain ':', so the first one ends the name.
 */
int mm_np_netdev(char *buf, size_t len, struct mm_netdev **out, size_t *n, mm_np_warn_fn warn,
		 void *arg)
{
	struct mm_netdev *arr = NULL, *r;
	size_t cap = 0, pos = 0;
	char *line, *colon, *name, *f[MAXF];
	uint64_t v[16];
	int lineno = 0, nf, i, bad;

	*out = NULL;
	*n = 0;
	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		lineno++;
		if (strchr(line, '|') != NULL || *mm_trim(line) == '\0')
			continue; /* the two header lines */
		if ((colon = strchr(line, ':')) == NULL) {
			warn(arg, lineno, "no ':' after the interface name");
			continue;
		}
		*colon = '\0';
		name = mm_trim(line);
		nf = mm_split_ws(colon + 1, " \t\r", f, MAXF);
		if (nf != 16 || !ifname_ok(name)) {
			char why[64];
			snprintf(why, sizeof(why), "expected 16 counters, got %d", nf);
			warn(arg, lineno, ifname_ok(name) ? why : "bad interface name");
			continue;
		}
		for (i = 0, bad = 0; i < 16 && !bad; i++)
			bad = mm_parse_u64(f[i], 10, &v[i]) != 0;
		if (bad) {
			warn(arg, lineno, "counter is not a number");
			continue;
		}
		if ((r = push((void **)&arr, n, &cap, sizeof(*r))) == NULL) {
			free(arr);
			*n = 0;
			return MM_ERR_NOMEM;
		}
		memcpy(r->iface, name, strlen(name) + 1);
		r->rx_bytes = v[0];
		r->rx_packets = v[1];
		r->rx_errs = v[2];
		r->rx_drop = v[3];
		r->tx_bytes = v[8];
		r->tx_packets = v[9];
		r->tx_errs = v[10];
		r->tx_drop = v[11];
		r->colls = v[13];
	}
	*out = arr;
	return 0;
}

uint32_t mm_np_mask4(unsigned plen)
{
	return plen == 0 ? 0 : plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
}

static int holds(uint32_t prefix, unsigned plen, uint32_t addr)
{
	uint32_t m = mm_np_mask4(plen);

	return (prefix & m) == (addr & m);
}

/* The longest connected route (no gateway, not rejecting) that holds addr,
 * or NULL. */
static const struct mm_route4 *connected(const struct mm_route4 *rt, size_t nrt, uint32_t addr)
{
	const struct mm_route4 *best = NULL;
	size_t j;

	for (j = 0; j < nrt; j++) {
		if ((rt[j].flags & (MM_RTF_GATEWAY | MM_RTF_REJECT)) != 0 ||
		    !holds(rt[j].dest, rt[j].plen, addr))
			continue;
		if (best == NULL || rt[j].plen > best->plen)
			best = &rt[j];
	}
	return best;
}

const char *mm_np_iface4(const struct mm_route4 *rt, size_t nrt, uint32_t addr)
{
	const struct mm_route4 *best = connected(rt, nrt, addr);

	if (best != NULL)
		return best->iface;
	if ((addr >> 24) == 127)
		return "lo";
	return NULL;
}

int mm_np_local4(const struct mm_fib4 *fib, size_t nfib, const struct mm_route4 *rt, size_t nrt,
		 struct mm_addr4 **out, size_t *n)
{
	struct mm_addr4 *arr = NULL, *a;
	size_t cap = 0, i, j;
	const struct mm_route4 *best;
	const char *ifn;
	int plen, seen;

	*out = NULL;
	*n = 0;
	for (i = 0; i < nfib; i++) {
		if (fib[i].type != MM_FIB_LOCAL || fib[i].plen != 32)
			continue;
		for (j = 0, seen = 0; j < *n && !seen; j++)
			seen = arr[j].addr == fib[i].prefix;
		if (seen)
			continue;
		/* The subnet the address came with: the longest shorter FIB prefix. */
		plen = -1;
		for (j = 0; j < nfib; j++) {
			const struct mm_fib4 *e = &fib[j];
			if (e->plen >= 32 || (int)e->plen <= plen ||
			    !holds(e->prefix, e->plen, fib[i].prefix))
				continue;
			if ((e->type == MM_FIB_UNICAST && e->scope == MM_FIB_LINK) ||
			    (e->type == MM_FIB_LOCAL && e->scope == MM_FIB_HOST))
				plen = (int)e->plen;
		}
		if ((a = push((void **)&arr, n, &cap, sizeof(*a))) == NULL) {
			free(arr);
			*n = 0;
			return MM_ERR_NOMEM;
		}
		a->addr = fib[i].prefix;
		best = connected(rt, nrt, a->addr);
		a->plen = plen >= 0 ? (unsigned)plen : best != NULL ? best->plen : 32;
		if ((ifn = mm_np_iface4(rt, nrt, a->addr)) != NULL)
			snprintf(a->iface, sizeof(a->iface), "%s", ifn);
	}
	*out = arr;
	return 0;
}

void mm_np_fmt4(uint32_t addr, char *out, size_t outsz)
{
	snprintf(out, outsz, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
}

void mm_np_fmt6(const uint8_t a[16], char *out, size_t outsz)
{
	char tmp[64];

	if (inet_ntop(AF_INET6, a, tmp, sizeof(tmp)) == NULL)
		tmp[0] = '\0';
	snprintf(out, outsz, "%s", tmp);
}

void mm_np_mask6(unsigned plen, uint8_t out[16])
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8 * (i + 1))
			out[i] = 0xff;
		else if (plen > 8 * i)
			out[i] = (uint8_t)(0xff << (8 - (plen - 8 * i)));
		else
			out[i] = 0;
	}
}
