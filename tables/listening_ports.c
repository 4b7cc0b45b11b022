/*
 * listening_ports.c - osquery's `listening_ports`: the sockets a host
 * listens on, with the process holding each one.  Built on the socket scan
 * of netsock.h (the same data as process_open_sockets), keeping:
 *
 *   TCP (v4/v6)                    state LISTEN
 *   UDP, UDP-Lite, raw, ICMP       bound and unconnected (remote port 0)
 *   unix                           sockets with a path (port 0, socket 0 as
 *                                  in osquery)
 *
 * Packet sockets are left out (osquery lets them through with port 0; they
 * listen on no port).
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "netsock.h"
#include "table.h"

enum { C_PID, C_PORT, C_PROTOCOL, C_FAMILY, C_ADDRESS, C_FD, C_SOCKET, C_PATH,
       C_NET_NAMESPACE };

static const struct mm_column cols[] = {
	{ "pid", MM_INTEGER, MM_COL_INDEX, "Process ID holding the socket, -1 when none found" },
	{ "port", MM_INTEGER, 0, "Transport layer port (0 for unix sockets)" },
	{ "protocol", MM_INTEGER, 0, "Transport protocol (6 TCP, 17 UDP, 255 raw, 1 ICMP)" },
	{ "family", MM_INTEGER, 0, "Network protocol (2 IPv4, 10 IPv6, 1 unix)" },
	{ "address", MM_TEXT, 0, "Specific address for bind (NULL for unix sockets)" },
	{ "fd", MM_BIGINT, 0, "Socket file descriptor number, -1 when no process found" },
	{ "socket", MM_BIGINT, 0, "Socket inode number (0 for unix sockets, as osquery)" },
	{ "path", MM_TEXT, 0, "Path for unix domain sockets (NULL for IP sockets)" },
	{ "net_namespace", MM_TEXT, 0, "The inode number of the network namespace" },
	{ NULL },
};

static int keep(const struct mm_procnet_sock *s)
{
	if (s->family == AF_UNIX)
		return s->path_len > 0;
	if (s->family != AF_INET && s->family != AF_INET6)
		return 0;
	if (s->protocol == IPPROTO_TCP)
		return s->tcp_state == 10; /* TCP_LISTEN */
	return s->remote_port == 0;
}

static int emit(struct mm_ctx *ctx, const struct mm_sockrow *row)
{
	int r;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_int(ctx, C_PID, row->pid);
	mm_set_int(ctx, C_PROTOCOL, row->s.protocol);
	mm_set_int(ctx, C_FAMILY, row->s.family);
	mm_set_int(ctx, C_FD, row->fd);
	if (row->s.family == AF_UNIX) {
		mm_set_int(ctx, C_PORT, 0);
		mm_set_int(ctx, C_SOCKET, 0);
		mm_set_textn(ctx, C_PATH, row->s.path, row->s.path_len);
	} else {
		mm_set_int(ctx, C_PORT, row->s.local_port);
		mm_set_int(ctx, C_SOCKET, (int64_t)row->s.inode);
		mm_set_text(ctx, C_ADDRESS, row->s.local_address);
	}
	mm_set_textf(ctx, C_NET_NAMESPACE, "%llu", (unsigned long long)row->netns);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	return mm_sockets_scan(ctx, C_PID, mm_col_used(ctx, C_PID) || mm_col_used(ctx, C_FD),
			       MM_SOCK_TCP_LISTEN, keep, emit);
}

const struct mm_table mm_table_listening_ports = {
	.name = "listening_ports",
	.description = "Sockets the host listens on (TCP in LISTEN, bound UDP/raw, named unix "
		       "sockets) and the process holding each one.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT pid, port, protocol, family, address FROM listening_ports "
		   "WHERE family IN (2, 10) AND address NOT IN ('127.0.0.1', '::1');",
	.notes = "Owners are found as `ss -p` finds them, from /proc/<pid>/fd links; a socket "
		 "shared by several processes (a server's master and workers) is listed once, "
		 "for the lowest pid. Without root, other users' sockets show pid -1 and fd -1. "
		 "`pid = N` / `pid IN (...)` reads only those processes' descriptors. Sockets "
		 "of other network namespaces are read through a process inside them.",
};
