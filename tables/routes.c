/*
 * routes.c - osquery's `routes` table: the kernel's IPv4 and IPv6 routes,
 * read through the root prefix (parsed by netparse.c):
 *
 *   /proc/net/route       IPv4 main table: one row per line
 *   /proc/net/fib_trie    IPv4 local table: 'local' and 'broadcast' rows for
 *                         the host's own and broadcast addresses
 *   /proc/net/ipv6_route  IPv6, all tables (local routes carry RTF_LOCAL)
 *
 * osquery dumps the same routes over netlink.  The columns mean the same;
 * the differences that follow from reading files are:
 *   - flags are the RTF_* bits the files print (UP 0x1, GATEWAY 0x2, HOST
 *     0x4, REJECT 0x200, ...; IPv4 local/broadcast rows: UP, plus HOST for
 *     a /32), where osquery shows netlink's rtm_flags (almost always 0);
 *   - netmask is the true prefix length, 32 and 128 included (osquery
 *     reports 0 for host routes);
 *   - gateway is 0.0.0.0 / :: for a directly connected route (osquery: NULL);
 *   - source (the preferred source address) is known only for IPv4
 *     connected and local routes: the host's address on that interface in
 *     that prefix, as the kernel sets it; NULL otherwise;
 *   - mtu is the route's MTU from /proc/net/route (0: the interface's), 0
 *     for IPv6; hopcount is always 0.
 * type follows osquery's names: 'gateway' for any unicast route, 'local',
 * 'broadcast', 'anycast', and 'other' (unreachable, prohibit, multicast).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netparse.h"
#include "table.h"

enum { C_DESTINATION, C_NETMASK, C_GATEWAY, C_SOURCE, C_FLAGS, C_INTERFACE, C_MTU, C_METRIC,
       C_TYPE, C_HOPCOUNT };

static const struct mm_column cols[] = {
	{ "destination", MM_TEXT, 0, "Destination network or host address" },
	{ "netmask", MM_INTEGER, 0, "Destination prefix length (0 for a default route)" },
	{ "gateway", MM_TEXT, 0, "Next hop; 0.0.0.0 or :: when directly connected" },
	{ "source", MM_TEXT, 0, "Preferred source address, when known (IPv4 only)" },
	{ "flags", MM_INTEGER, 0, "RTF_* route flags as /proc prints them" },
	{ "interface", MM_TEXT, 0, "Outgoing interface" },
	{ "mtu", MM_INTEGER, 0, "Route MTU, 0 when the interface's applies" },
	{ "metric", MM_INTEGER, 0, "Route metric (cost); lowest is preferred" },
	{ "type", MM_TEXT, 0, "gateway (unicast), local, broadcast, anycast or other" },
	{ "hopcount", MM_INTEGER, 0, "Hop limit: not in /proc, always 0" },
	{ NULL },
};

struct scan {
	struct mm_ctx *ctx;
	const char *path; /* for warnings */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct scan *s = arg;

	mm_warn(s->ctx, "%s:%d: %s", s->path, line, why);
}

/* Reads a /proc file under the root into *data (NULL when it is missing or
 * unreadable: a warning says which). */
static void load(struct scan *s, const char *path, char **data, size_t *len)
{
	int r;

	s->path = path;
	r = mm_read(s->ctx, path, MM_READ_CAP, data, len);
	if (r != 0 && r != MM_ERR_NOTFOUND)
		mm_warn(s->ctx, "%s: %s", path, mm_strerror(r));
}

/* The host's address on iface inside prefix/plen, or NULL. */
static const struct mm_addr4 *source4(const struct mm_addr4 *la, size_t nla, const char *iface,
				      uint32_t prefix, unsigned plen)
{
	uint32_t m = mm_np_mask4(plen);
	size_t i;

	for (i = 0; i < nla; i++)
		if ((la[i].addr & m) == (prefix & m) && strcmp(la[i].iface, iface) == 0)
			return &la[i];
	return NULL;
}

/* The host's address on iface whose subnet holds x (the address a local or
 * broadcast entry was made for), or NULL. */
static const struct mm_addr4 *owner4(const struct mm_addr4 *la, size_t nla, const char *iface,
				     uint32_t x)
{
	size_t i;
	uint32_t m;

	for (i = 0; i < nla; i++) {
		m = mm_np_mask4(la[i].plen);
		if ((la[i].addr & m) == (x & m) && strcmp(la[i].iface, iface) == 0)
			return &la[i];
	}
	return NULL;
}

static int row(struct mm_ctx *ctx, const char *dest, unsigned plen, const char *gw,
	       const char *src, uint32_t flags, const char *iface, uint32_t mtu, uint32_t metric,
	       const char *type)
{
	int r;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_DESTINATION, dest);
	mm_set_int(ctx, C_NETMASK, plen);
	mm_set_text(ctx, C_GATEWAY, gw);
	mm_set_text(ctx, C_SOURCE, src);
	mm_set_int(ctx, C_FLAGS, flags);
	mm_set_text(ctx, C_INTERFACE, iface);
	mm_set_int(ctx, C_MTU, mtu);
	mm_set_int(ctx, C_METRIC, metric);
	mm_set_text(ctx, C_TYPE, type);
	mm_set_int(ctx, C_HOPCOUNT, 0);
	return mm_row_end(ctx);
}

static const char *type6(const struct mm_route6 *rt)
{
	if (rt->flags & MM_RTF_REJECT)
		return "other";
	if (rt->flags & MM_RTF_LOCAL)
		return "local";
	if (rt->flags & MM_RTF_ANYCAST)
		return "anycast";
	if (rt->dest[0] == 0xff)
		return "other"; /* multicast, ff00::/8 */
	return "gateway";
}

static int gen(struct mm_ctx *ctx)
{
	struct scan s = { ctx, NULL };
	struct mm_route4 *rt4 = NULL;
	struct mm_route6 *rt6 = NULL;
	struct mm_fib4 *fib = NULL;
	struct mm_addr4 *la = NULL;
	const struct mm_addr4 *src;
	size_t nrt4 = 0, nrt6 = 0, nfib = 0, nla = 0, i;
	char dest[64], gw[64], srcs[64], *data = NULL;
	const char *ifn;
	size_t len = 0;
	int r = 0;

	load(&s, "/proc/net/route", &data, &len);
	if (data != NULL && (r = mm_np_route4(data, len, &rt4, &nrt4, on_warn, &s)) != 0)
		goto out;
	free(data);
	data = NULL;
	load(&s, "/proc/net/fib_trie", &data, &len);
	if (data != NULL && (r = mm_np_fib4(data, len, &fib, &nfib, on_warn, &s)) != 0)
		goto out;
	free(data);
	data = NULL;
	load(&s, "/proc/net/ipv6_route", &data, &len);
	if (data != NULL && (r = mm_np_route6(data, len, &rt6, &nrt6, on_warn, &s)) != 0)
		goto out;
	free(data);
	data = NULL;
	if ((r = mm_np_local4(fib, nfib, rt4, nrt4, &la, &nla)) != 0)
		goto out;

	for (i = 0; i < nrt4; i++) {
		const struct mm_route4 *e = &rt4[i];
		mm_np_fmt4(e->dest, dest, sizeof(dest));
		mm_np_fmt4(e->gateway, gw, sizeof(gw));
		src = NULL;
		if ((e->flags & (MM_RTF_GATEWAY | MM_RTF_REJECT)) == 0)
			src = source4(la, nla, e->iface, e->dest, e->plen);
		if (src != NULL)
			mm_np_fmt4(src->addr, srcs, sizeof(srcs));
		if ((r = row(ctx, dest, e->plen, gw, src != NULL ? srcs : NULL, e->flags, e->iface,
			     e->mtu, e->metric, (e->flags & MM_RTF_REJECT) ? "other" : "gateway")) != 0)
			goto out;
	}
	for (i = 0; i < nfib; i++) {
		const struct mm_fib4 *e = &fib[i];
		if (e->type != MM_FIB_LOCAL && e->type != MM_FIB_BROADCAST)
			continue;
		ifn = mm_np_iface4(rt4, nrt4, e->prefix);
		mm_np_fmt4(e->prefix, dest, sizeof(dest));
		src = ifn != NULL ? owner4(la, nla, ifn, e->prefix) : NULL;
		if (src != NULL)
			mm_np_fmt4(src->addr, srcs, sizeof(srcs));
		if ((r = row(ctx, dest, e->plen, "0.0.0.0", src != NULL ? srcs : NULL,
			     MM_RTF_UP | (e->plen == 32 ? MM_RTF_HOST : 0), ifn, 0, 0,
			     e->type == MM_FIB_LOCAL ? "local" : "broadcast")) != 0)
			goto out;
	}
	for (i = 0; i < nrt6; i++) {
		const struct mm_route6 *e = &rt6[i];
		mm_np_fmt6(e->dest, dest, sizeof(dest));
		mm_np_fmt6(e->gateway, gw, sizeof(gw));
		if ((r = row(ctx, dest, e->dest_plen, gw, NULL, e->flags, e->iface, 0, e->metric,
			     type6(e))) != 0)
			goto out;
	}
out:
	free(data);
	free(rt4);
	free(rt6);
	free(fib);
	free(la);
	return r;
}

const struct mm_table mm_table_routes = {
	.name = "routes",
	.description = "The kernel's IPv4 and IPv6 routes: destination prefix, gateway, "
		       "interface, metric and type.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT destination, netmask, gateway, interface FROM routes "
		   "WHERE type = 'gateway' AND destination IN ('0.0.0.0', '::');",
	.notes = "Read from /proc/net/route (IPv4 main table), /proc/net/fib_trie (IPv4 local "
		 "and broadcast entries) and /proc/net/ipv6_route under the root prefix, not over "
		 "netlink: flags are the RTF_* bits of those files, netmask is the real prefix "
		 "length (32/128 for host routes, where osquery says 0), a directly connected "
		 "route has gateway 0.0.0.0 or ::, source is filled for IPv4 connected and local "
		 "routes only, hopcount is 0. Malformed lines are skipped with a warning.",
};
