/*
 * interface_addresses.c - osquery's `interface_addresses` table: the IPv4
 * and IPv6 addresses configured on the host's interfaces.
 *
 * Two sources, because the kernel shows IPv4 addresses in no /proc file:
 *
 *   live host (root "/")  getifaddrs(), as osquery does.  This is the one
 *                         place where a table asks the kernel instead of
 *                         reading files under the root: there is no file to
 *                         read that lists IPv4 addresses with their masks.
 *   any other root        files, so that fixture trees and saved /proc
 *                         snapshots work:
 *     IPv6  /proc/net/if_inet6 (address, prefix length, scope, interface)
 *     IPv4  /proc/net/fib_trie: every "/32 host LOCAL" leaf is a local
 *           address; its mask is the longest shorter prefix the kernel added
 *           with it ("/24 link UNICAST", or "/8 host LOCAL" for loopback);
 *           its interface is that of the longest directly connected route in
 *           /proc/net/route holding it (127.0.0.0/8 without one: lo).  The
 *           broadcast address is the subnet's last address when
 *           /sys/class/net/IF/flags has IFF_BROADCAST (and the prefix is
 *           shorter than /31); otherwise point_to_point is the address
 *           itself, which is what getifaddrs() reports for loopback (a real
 *           point-to-point peer is not in /proc: NULL).
 *     An address that no connected route places (a /32 on an interface with
 *     no subnet route) is skipped with a warning.  Addresses of interfaces
 *     that are down are not in the FIB, so they are not listed.
 *
 * type is 'unknown', as osquery reports on Linux; friendly_name is
 * Windows-only in osquery and not part of this table.
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netparse.h"
#include "strutil.h"
#include "table.h"

enum { C_INTERFACE, C_ADDRESS, C_MASK, C_BROADCAST, C_POINT_TO_POINT, C_TYPE };

static const struct mm_column cols[] = {
	{ "interface", MM_TEXT, 0, "Interface name" },
	{ "address", MM_TEXT, 0, "IPv4 or IPv6 address (link-local IPv6 with %interface)" },
	{ "mask", MM_TEXT, 0, "Netmask, dotted (IPv4) or as an IPv6 address" },
	{ "broadcast", MM_TEXT, 0, "Broadcast address (IPv4 on broadcast interfaces)" },
	{ "point_to_point", MM_TEXT, 0, "Peer address when the interface is not broadcast" },
	{ "type", MM_TEXT, 0, "How the address was configured: 'unknown' on Linux" },
	{ NULL },
};

#define MM_IFF_BROADCAST 0x2
#define MM_IFF_POINTOPOINT 0x10

static int row(struct mm_ctx *ctx, const char *iface, const char *addr, const char *mask,
	       const char *bcast, const char *ptp)
{
	int r;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_INTERFACE, iface);
	mm_set_text(ctx, C_ADDRESS, addr);
	mm_set_text(ctx, C_MASK, mask);
	mm_set_text(ctx, C_BROADCAST, bcast);
	mm_set_text(ctx, C_POINT_TO_POINT, ptp);
	mm_set_text(ctx, C_TYPE, "unknown");
	return mm_row_end(ctx);
}

/* ---- live host: getifaddrs() --------------------------------------------- */

static void sa_text(const struct sockaddr *sa, char *out, size_t outsz)
{
	socklen_t l = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6);

	out[0] = '\0';
	if (getnameinfo(sa, l, out, (socklen_t)outsz, NULL, 0, NI_NUMERICHOST) != 0)
		out[0] = '\0';
}

static int gen_live(struct mm_ctx *ctx)
{
	struct ifaddrs *all = NULL, *a;
	char addr[NI_MAXHOST], mask[NI_MAXHOST], dst[NI_MAXHOST];
	int fam, r = 0, bcast;

	if (getifaddrs(&all) != 0) {
		mm_warn(ctx, "getifaddrs: cannot list interface addresses");
		return 0;
	}
	for (a = all; a != NULL; a = a->ifa_next) {
		if (a->ifa_addr == NULL || a->ifa_name == NULL)
			continue;
		fam = a->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		sa_text(a->ifa_addr, addr, sizeof(addr));
		mask[0] = dst[0] = '\0';
		if (a->ifa_netmask != NULL)
			sa_text(a->ifa_netmask, mask, sizeof(mask));
		if (a->ifa_dstaddr != NULL)
			sa_text(a->ifa_dstaddr, dst, sizeof(dst));
		bcast = (a->ifa_flags & IFF_BROADCAST) != 0;
		if ((r = row(ctx, a->ifa_name, addr, mask[0] ? mask : NULL,
			     dst[0] && bcast ? dst : NULL, dst[0] && !bcast ? dst : NULL)) != 0)
			break;
	}
	freeifaddrs(all);
	return r;
}

/* ---- any root: /proc files ------------------------------------------------ */

struct scan {
	struct mm_ctx *ctx;
	const char *path; /* for warnings */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct scan *s = arg;

	mm_warn(s->ctx, "%s:%d: %s", s->path, line, why);
}

/* Reads a file under the root into *data (NULL when missing or unreadable:
 * a warning says which). */
static void load(struct scan *s, const char *path, char **data, size_t *len)
{
	int r;

	s->path = path;
	r = mm_read(s->ctx, path, MM_READ_CAP, data, len);
	if (r != 0 && r != MM_ERR_NOTFOUND)
		mm_warn(s->ctx, "%s: %s", path, mm_strerror(r));
}

/* The interface's flags from sysfs (dev->flags), or 0 when unknown. */
static unsigned long if_flags(struct mm_ctx *ctx, const char *iface)
{
	char path[128], *data = NULL;
	size_t len;
	uint64_t v = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", iface);
	if (mm_read(ctx, path, 4096, &data, &len) == 0 &&
	    mm_parse_u64(mm_trim(data), 16, &v) != 0)
		v = 0;
	free(data);
	return (unsigned long)v;
}

static int gen_files(struct mm_ctx *ctx)
{
	struct scan s = { ctx, NULL };
	struct mm_route4 *rt = NULL;
	struct mm_fib4 *fib = NULL;
	struct mm_addr4 *la = NULL;
	struct mm_inet6 *in6 = NULL;
	size_t nrt = 0, nfib = 0, nla = 0, nin6 = 0, i, len = 0;
	char *data = NULL, addr[80], mask[64], bcast[32];
	uint8_t m6[16];
	unsigned long fl;
	uint32_t m;
	int r = 0;

	load(&s, "/proc/net/route", &data, &len);
	if (data != NULL && (r = mm_np_route4(data, len, &rt, &nrt, on_warn, &s)) != 0)
		goto out;
	free(data);
	data = NULL;
	load(&s, "/proc/net/fib_trie", &data, &len);
	if (data != NULL && (r = mm_np_fib4(data, len, &fib, &nfib, on_warn, &s)) != 0)
		goto out;
	free(data);
	data = NULL;
	load(&s, "/proc/net/if_inet6", &data, &len);
	if (data != NULL && (r = mm_np_inet6(data, len, &in6, &nin6, on_warn, &s)) != 0)
		goto out;
	free(data);
	data = NULL;
	if ((r = mm_np_local4(fib, nfib, rt, nrt, &la, &nla)) != 0)
		goto out;

	for (i = 0; i < nla; i++) {
		mm_np_fmt4(la[i].addr, addr, sizeof(addr));
		if (la[i].iface[0] == '\0') {
			mm_warn(ctx, "/proc/net/fib_trie: local address %s is on no connected route "
				     "in /proc/net/route: skipped", addr);
			continue;
		}
		m = mm_np_mask4(la[i].plen);
		mm_np_fmt4(m, mask, sizeof(mask));
		fl = if_flags(ctx, la[i].iface);
		mm_np_fmt4(la[i].addr | ~m, bcast, sizeof(bcast));
		if (fl & MM_IFF_BROADCAST)
			r = row(ctx, la[i].iface, addr, mask, la[i].plen < 31 ? bcast : NULL, NULL);
		else
			r = row(ctx, la[i].iface, addr, mask, NULL,
				(fl & MM_IFF_POINTOPOINT) ? NULL : addr);
		if (r != 0)
			goto out;
	}
	for (i = 0; i < nin6; i++) {
		mm_np_fmt6(in6[i].addr, addr, sizeof(addr));
		if (in6[i].scope == 0x20) {
			size_t n = strlen(addr);
			snprintf(addr + n, sizeof(addr) - n, "%%%s", in6[i].iface);
		}
		mm_np_mask6(in6[i].plen, m6);
		mm_np_fmt6(m6, mask, sizeof(mask));
		if ((r = row(ctx, in6[i].iface, addr, mask, NULL, NULL)) != 0)
			goto out;
	}
out:
	free(data);
	free(rt);
	free(fib);
	free(la);
	free(in6);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	const char *root = mm_root(ctx);

	if (root[0] == '\0' || strcmp(root, "/") == 0)
		return gen_live(ctx);
	return gen_files(ctx);
}

const struct mm_table mm_table_interface_addresses = {
	.name = "interface_addresses",
	.description = "IPv4 and IPv6 addresses of the network interfaces, with netmask and "
		       "broadcast or point-to-point address.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT interface, address, mask FROM interface_addresses "
		   "WHERE interface != 'lo';",
	.notes = "On the live host (root /) the addresses come from getifaddrs(), as in "
		 "osquery: the kernel lists IPv4 addresses in no file. Under any other root they "
		 "are read from files: IPv6 from /proc/net/if_inet6; IPv4 from the '/32 host "
		 "LOCAL' entries of /proc/net/fib_trie, with the mask of the subnet entry that "
		 "holds each and the interface of the connected route in /proc/net/route "
		 "(127.0.0.0/8: lo); broadcast is computed when the interface's sysfs flags have "
		 "IFF_BROADCAST. Addresses of interfaces that are down are not in the FIB and are "
		 "not listed there. type is 'unknown', as osquery reports on Linux.",
};
