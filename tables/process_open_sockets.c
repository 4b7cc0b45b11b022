/*
 * process_open_sockets.c - osquery's `process_open_sockets`: every socket of
 * the host (IP, unix, packet) with the process holding it, from the socket
 * scan of netsock.h.  Sockets no process is found for (TIME_WAIT, other
 * users' sockets without root) have pid -1 and fd -1 unless the query asks
 * for given pids.
 */
#include <sys/socket.h>

#include "netsock.h"
#include "table.h"

enum { C_PID, C_FD, C_SOCKET, C_FAMILY, C_PROTOCOL, C_LOCAL_ADDRESS, C_REMOTE_ADDRESS,
       C_LOCAL_PORT, C_REMOTE_PORT, C_PATH, C_STATE, C_NET_NAMESPACE };

static const struct mm_column cols[] = {
	{ "pid", MM_INTEGER, MM_COL_INDEX, "Process (or thread) ID, -1 when none found" },
	{ "fd", MM_BIGINT, 0, "Socket file descriptor number, -1 when no process found" },
	{ "socket", MM_BIGINT, 0, "Socket inode number" },
	{ "family", MM_INTEGER, 0, "Network protocol (2 IPv4, 10 IPv6, 1 unix, 17 packet)" },
	{ "protocol", MM_INTEGER, 0, "Transport protocol (6 TCP, 17 UDP, ...; packet: ethertype)" },
	{ "local_address", MM_TEXT, 0, "Socket local address ('' for unix and packet)" },
	{ "remote_address", MM_TEXT, 0, "Socket remote address ('' for unix and packet)" },
	{ "local_port", MM_INTEGER, 0, "Socket local port" },
	{ "remote_port", MM_INTEGER, 0, "Socket remote port" },
	{ "path", MM_TEXT, 0, "For unix sockets, the bound path ('@' starts an abstract name)" },
	{ "state", MM_TEXT, 0, "TCP state (LISTEN, ESTABLISHED, ...), else '' (packet: NONE)" },
	{ "net_namespace", MM_TEXT, 0, "The inode number of the network namespace" },
	{ NULL },
};

static int keep(const struct mm_procnet_sock *s)
{
	(void)s;
	return 1;
}

static int emit(struct mm_ctx *ctx, const struct mm_sockrow *row)
{
	int r;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_int(ctx, C_PID, row->pid);
	mm_set_int(ctx, C_FD, row->fd);
	mm_set_int(ctx, C_SOCKET, (int64_t)row->s.inode);
	mm_set_int(ctx, C_FAMILY, row->s.family);
	mm_set_int(ctx, C_PROTOCOL, row->s.protocol);
	mm_set_text(ctx, C_LOCAL_ADDRESS, row->s.local_address);
	mm_set_text(ctx, C_REMOTE_ADDRESS, row->s.remote_address);
	mm_set_int(ctx, C_LOCAL_PORT, row->s.local_port);
	mm_set_int(ctx, C_REMOTE_PORT, row->s.remote_port);
	mm_set_textn(ctx, C_PATH, row->s.path, row->s.path_len);
	mm_set_text(ctx, C_STATE, row->s.state);
	mm_set_textf(ctx, C_NET_NAMESPACE, "%llu", (unsigned long long)row->netns);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	return mm_sockets_scan(ctx, C_PID, mm_col_used(ctx, C_PID) || mm_col_used(ctx, C_FD),
			       0, keep, emit);
}

const struct mm_table mm_table_process_open_sockets = {
	.name = "process_open_sockets",
	.description = "Every socket of the host (TCP, UDP, raw, ICMP, unix, packet) and the "
		       "process holding it.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT pid, remote_address, remote_port, state FROM process_open_sockets "
		   "WHERE family IN (2, 10) AND state = 'ESTABLISHED';",
	.notes = "Owners come from /proc/<pid>/fd links (as `ss -p`); a socket shared by "
		 "several processes is listed once, for the lowest pid. `pid = N` / `pid IN "
		 "(...)` reads only those processes and returns only their sockets; include -1 "
		 "in the list to get sockets without an owner too.",
};
