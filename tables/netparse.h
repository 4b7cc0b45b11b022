/*
 * netparse.h - pure parsers for the kernel's network files under /proc, used
 * by the routes, interface_addresses and interface_details tables and by the
 * fuzzers (no engine needed).
 *
 *   /proc/net/route       IPv4 main routing table (hex, native byte order)
 *   /proc/net/ipv6_route  IPv6 routes (hex, network byte order)
 *   /proc/net/if_inet6    IPv6 addresses per interface
 *   /proc/net/fib_trie    the IPv4 FIB as a trie: local addresses, prefixes
 *   /proc/net/dev         per-interface counters
 *
 * Each parser takes a NUL-terminated buffer (modified in place), returns a
 * malloc'ed array of records (free() it; NULL when empty) and reports each
 * malformed line through warn(arg, line, why) with a 1-based line number, then
 * skips it.  They return 0 or MM_ERR_NOMEM.  IPv4 addresses are kept as
 * host-order uint32_t (192.0.2.1 is 0xc0000201) so that prefix arithmetic is
 * plain; IPv6 addresses as 16 bytes in network order.
 */
#ifndef MM_NETPARSE_H
#define MM_NETPARSE_H

#include <stddef.h>
#include <stdint.h>

#define MM_NP_IFNAMSIZ 32 /* Linux allows 15 characters; room for junk to be rejected */

/* Reports a skipped line: why says what is wrong. */
typedef void (*mm_np_warn_fn)(void *arg, int line, const char *why);

/* Route flags of /proc/net/route and ipv6_route (linux/route.h, ipv6_route.h). */
#define MM_RTF_UP 0x0001u
#define MM_RTF_GATEWAY 0x0002u
#define MM_RTF_HOST 0x0004u
#define MM_RTF_REJECT 0x0200u
#define MM_RTF_ANYCAST 0x00100000u /* IPv6 only */
#define MM_RTF_LOCAL 0x80000000u   /* IPv6 only */

struct mm_route4 {
	char iface[MM_NP_IFNAMSIZ];
	uint32_t dest;    /* host order */
	uint32_t gateway; /* host order, 0 when directly connected */
	uint32_t mask;    /* host order */
	unsigned plen;    /* prefix length of mask (contiguous bits counted from the top) */
	uint32_t flags;   /* MM_RTF_* */
	uint32_t metric;
	uint32_t mtu;
};

struct mm_route6 {
	char iface[MM_NP_IFNAMSIZ];
	uint8_t dest[16];
	unsigned dest_plen;
	uint8_t src[16]; /* source prefix (policy routing), usually :: */
	unsigned src_plen;
	uint8_t gateway[16];
	uint32_t metric;
	uint32_t flags; /* MM_RTF_* */
};

struct mm_inet6 {
	char iface[MM_NP_IFNAMSIZ];
	uint8_t addr[16];
	unsigned ifindex;
	unsigned plen;
	unsigned scope; /* 0x00 global, 0x10 host, 0x20 link, 0x40 site */
	unsigned flags; /* IFA_F_* */
};

/* Route types in fib_trie alias lines ("/24 link UNICAST"). */
enum mm_fib_type { MM_FIB_UNICAST = 1, MM_FIB_LOCAL, MM_FIB_BROADCAST, MM_FIB_OTHER };
/* Scopes in fib_trie alias lines. */
enum mm_fib_scope { MM_FIB_UNIVERSE = 1, MM_FIB_LINK, MM_FIB_HOST, MM_FIB_SCOPE_OTHER };

struct mm_fib4 {
	uint32_t prefix; /* host order: the leaf's key */
	unsigned plen;
	enum mm_fib_scope scope;
	enum mm_fib_type type;
};

struct mm_netdev {
	char iface[MM_NP_IFNAMSIZ];
	uint64_t rx_bytes, rx_packets, rx_errs, rx_drop;
	uint64_t tx_bytes, tx_packets, tx_errs, tx_drop, colls;
};

/* A local IPv4 address with the interface and prefix it was found on. */
struct mm_addr4 {
	uint32_t addr; /* host order */
	unsigned plen;
	char iface[MM_NP_IFNAMSIZ]; /* "" when no connected route names one */
};

int mm_np_route4(char *buf, size_t len, struct mm_route4 **out, size_t *n, mm_np_warn_fn warn,
		 void *arg);
int mm_np_route6(char *buf, size_t len, struct mm_route6 **out, size_t *n, mm_np_warn_fn warn,
		 void *arg);
int mm_np_inet6(char *buf, size_t len, struct mm_inet6 **out, size_t *n, mm_np_warn_fn warn,
		void *arg);
/* Entries of every table in the file (Main, Local, Id N), duplicates
 * removed: on kernels since 4.1 Main and Local list the same merged trie. */
int mm_np_fib4(char *buf, size_t len, struct mm_fib4 **out, size_t *n, mm_np_warn_fn warn,
	       void *arg);
int mm_np_netdev(char *buf, size_t len, struct mm_netdev **out, size_t *n, mm_np_warn_fn warn,
		 void *arg);

/* The kernel's local IPv4 addresses (fib "/32 host LOCAL" entries), in trie
 * order, each with:
 *   plen   the longest shorter prefix that holds it in the FIB (the subnet
 *          route the kernel added with the address: "link UNICAST", or
 *          "host LOCAL" as for 127.0.0.0/8), else the connected route's, else 32;
 *   iface  the interface of the longest connected route (no gateway, not
 *          rejecting) in /proc/net/route that holds it; 127.0.0.0/8 without
 *          one is on "lo"; "" when nothing names an interface.
 * Returns 0 or MM_ERR_NOMEM. */
int mm_np_local4(const struct mm_fib4 *fib, size_t nfib, const struct mm_route4 *rt, size_t nrt,
		 struct mm_addr4 **out, size_t *n);

/* The interface an IPv4 address is on, by the rule of mm_np_local4(): the
 * longest connected route's, else "lo" for 127.0.0.0/8, else NULL.  The
 * result points into rt (or is a literal). */
const char *mm_np_iface4(const struct mm_route4 *rt, size_t nrt, uint32_t addr);

/* Formats a host-order IPv4 address / prefix length as a dotted mask.  out
 * holds at least 16 bytes. */
void mm_np_fmt4(uint32_t addr, char *out, size_t outsz);
uint32_t mm_np_mask4(unsigned plen);
/* Formats 16 network-order bytes as RFC 5952 text (inet_ntop); out holds at
 * least 46 bytes. */
void mm_np_fmt6(const uint8_t a[16], char *out, size_t outsz);
/* The IPv6 mask of a prefix length, as 16 bytes. */
void mm_np_mask6(unsigned plen, uint8_t out[16]);

#endif
