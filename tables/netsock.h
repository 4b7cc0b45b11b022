/*
 * netsock.h - the sockets of a host joined with the processes holding them,
 * as `ss -p` finds them; shared by listening_ports and process_open_sockets.
 *
 * One scan per query: the socket tables of each network namespace are read
 * once (/proc/net/... for the reader's own namespace, /proc/<pid>/net/... for the
 * first process seen in any other), the records a table wants are kept, and
 * then every process's /proc/<pid>/fd links are read once and matched by
 * socket inode against a sorted array (no per-row rescans).
 */
#ifndef MM_NETSOCK_H
#define MM_NETSOCK_H

#include <stdint.h>

#include "procnet.h"
#include "table.h"

/* One socket as a table sees it. */
struct mm_sockrow {
	struct mm_procnet_sock s; /* path points into memory owned by the scan */
	int64_t pid;              /* holding process, -1 when none was found */
	int64_t fd;               /* its descriptor number, -1 when none */
	uint64_t netns;           /* network namespace inode, 0 when unknown */
};

/* Returns 1 to keep a socket record (decided before owners are looked up). */
typedef int (*mm_sock_keep)(const struct mm_procnet_sock *s);
/* Produces the table row(s) for one socket; returns 0 or mm_row_end()'s code. */
typedef int (*mm_sock_emit)(struct mm_ctx *ctx, const struct mm_sockrow *row);

/*
 * Scans the sockets kept by keep and calls emit once per socket, in file
 * order (tcp, tcp6, udp, ... per namespace).  pid_col is the table's pid
 * column: with `pid = / IN` on it, only those processes are scanned and only
 * their sockets are emitted (osquery's rule; a -1 among the values means the
 * whole host).  owners says whether the query needs pid/fd at all; when it
 * does not and pid is unconstrained, no descriptor is read and pid/fd are -1.
 * flags are MM_SOCK_* below.
 * A socket held by several processes (a server's master and workers) is
 * reported once, for the lowest pid holding it (and its lowest fd).
 * Malformed lines are skipped with a warning naming file and line.  Returns 0
 * or a negative MM_ERR_* after mm_error() (MM_ERR_LIMIT as is).
 */
int mm_sockets_scan(struct mm_ctx *ctx, int pid_col, int owners, unsigned flags,
		    mm_sock_keep keep, mm_sock_emit emit);

/* flags for mm_sockets_scan */
#define MM_SOCK_TCP_LISTEN 0x01 /* keep keeps only LISTEN among TCP sockets: on the live
				 * host, in the reader's own namespace, those are asked of
				 * the kernel over NETLINK_SOCK_DIAG (as ss does), which
				 * then skips the walk of the whole established-connection
				 * hash that every read of /proc/net/tcp costs (~2.5 ms
				 * per read on a large host).  Falls back to the file. */

#endif
