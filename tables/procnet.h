/*
 * procnet.h - pure parsers for the kernel's socket tables under /proc/net
 * (tcp, tcp6, udp, udp6, udplite, udplite6, raw, raw6, icmp, icmp6, unix,
 * packet), shared by listening_ports and process_open_sockets and driven by
 * the fuzz harness tests/fuzz/fuzz_procnet.c.
 *
 * No engine and no I/O here: a caller hands over a buffer and gets records
 * back through a callback.  Records never point outside the buffer given.
 *
 * Addresses in the inet files are the kernel's 32-bit words printed in host
 * byte order ("0100007F" is 127.0.0.1 on x86), so they are decoded in host
 * byte order too: right for the live host and for fixtures taken from a
 * little-endian host, which is every host Mamori runs on today.
 */
#ifndef MM_PROCNET_H
#define MM_PROCNET_H

#include <stddef.h>
#include <stdint.h>

enum mm_procnet_format {
	MM_PN_INET = 1, /* sl local rem st ... inode (tcp, udp, raw, icmp, udplite) */
	MM_PN_UNIX,     /* Num RefCount Protocol Flags Type St Inode [Path] */
	MM_PN_PACKET,   /* sk RefCnt Type Proto Iface R Rmem User Inode */
};

/* One of the files read under /proc/net (or /proc/<pid>/net). */
struct mm_procnet_file {
	const char *name;              /* file name: "tcp", "unix", ... */
	enum mm_procnet_format format; /* line layout */
	int family;                    /* AF_INET 2, AF_INET6 10, AF_UNIX 1, AF_PACKET 17 */
	int protocol;                  /* IPPROTO_* (0 for unix; packet: from the line) */
};

/* The files in the order osquery reads them (by protocol, v4 before v6,
 * then unix and packet), and their number. */
extern const struct mm_procnet_file mm_procnet_files[];
extern const size_t mm_procnet_nfiles;

#define MM_PN_ADDRLEN 46 /* INET6_ADDRSTRLEN */

/* One socket. */
struct mm_procnet_sock {
	int family;                          /* as in mm_procnet_file */
	int protocol;                        /* IPPROTO_*; packet: the ethertype */
	char local_address[MM_PN_ADDRLEN];   /* "" for unix and packet */
	char remote_address[MM_PN_ADDRLEN];  /* "" for unix and packet */
	int local_port;                      /* 0 for unix and packet */
	int remote_port;
	int tcp_state;                       /* kernel TCP state code, 0 when not TCP */
	const char *state;                   /* osquery's state text: "LISTEN", "" ... (static) */
	uint64_t inode;                      /* socket inode, 0 for TIME_WAIT and the like */
	const char *path;                    /* unix: the bound path (in the buffer), else "" */
	size_t path_len;                     /* bytes at path (no NUL is promised) */
};

/* Parses one line of a file of the given format (without its newline; len
 * bytes, no NUL needed).  Fills *out (path points into line).  Returns 0, or
 * MM_ERR_PARSE when a field is missing or malformed (wrong hex width, junk),
 * with *why set to a static phrase saying which ("bad local address"). */
int mm_procnet_parse_line(const struct mm_procnet_file *f, const char *line, size_t len,
			  struct mm_procnet_sock *out, const char **why);

/* Called for each record of a file; lineno counts from 1.  s is NULL for a
 * malformed line, and why then says what is wrong (the caller warns and goes
 * on).  Return non-zero to stop; mm_procnet_parse returns that value. */
typedef int (*mm_procnet_cb)(void *arg, int lineno, const struct mm_procnet_sock *s,
			     const char *why);

/* Parses a whole file: the first line is the header and is skipped (a first
 * line that does not look like this format's header is reported malformed);
 * empty lines are skipped.  Returns 0 or the callback's non-zero value. */
int mm_procnet_parse(const struct mm_procnet_file *f, const char *buf, size_t len,
		     mm_procnet_cb cb, void *arg);

/* Text of a kernel TCP state code as osquery spells it ("UNKNOWN" when out
 * of range). */
const char *mm_procnet_tcp_state(unsigned code);

#endif
