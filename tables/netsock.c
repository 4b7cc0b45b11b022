/*
 * netsock.c - sockets joined with their processes; see netsock.h.
 *
 * Order of work for one query:
 *   1. the pids to look at (all, or those of `pid = / IN`);
 *   2. the network namespaces to read: the reader's own (/proc/net, linked
 *      from /proc/self/ns/net) unless pids are filtered, plus one
 *      representative pid for every other namespace one of the pids is in;
 *   3. the socket tables of each namespace, keeping what the table wants
 *      (listening TCP sockets of our own namespace straight from the kernel
 *      over sock_diag when the table wants no others: see MM_SOCK_TCP_LISTEN);
 *   4. the fd links of the pids, matched by inode (binary search in an
 *      array sorted once), keeping the lowest (pid, fd) per socket;
 *   5. the rows, in file order.
 */
#include "netsock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "procfs.h"

#define MAX_RECS (4u * 1024u * 1024u)   /* sockets kept per query */
#define PATHS_CAP (64u * 1024u * 1024u) /* bytes of unix socket paths per query */
#define MAX_NS 65536u                    /* namespaces per query */

struct rec {
	struct mm_sockrow row;
	size_t path_off; /* offset of the unix path in scan.paths */
};

struct nsrc {
	uint64_t ns;  /* namespace inode, 0 when unknown */
	int64_t pid;  /* read /proc/<pid>/net; 0 = /proc/net */
};

struct scan {
	struct mm_ctx *ctx;
	mm_sock_keep keep;
	struct rec *recs;
	size_t nrecs, arecs;
	struct mm_buf paths;
	const char *file;  /* path of the file being parsed, for warnings */
	uint64_t ns;       /* its namespace */
	int err;           /* first hard error met in a callback */
};

/* mm_procnet_parse callback: keeps wanted records, warns about bad lines. */
static int on_sock(void *arg, int lineno, const struct mm_procnet_sock *s, const char *why)
{
	struct scan *sc = arg;
	struct rec *r;
	int e;

	if (s == NULL) {
		mm_warn(sc->ctx, "%s:%d: %s, line skipped", sc->file, lineno, why);
		return 0;
	}
	if (!sc->keep(s))
		return 0;
	if (sc->nrecs == sc->arecs) {
		size_t na = sc->arecs ? sc->arecs * 2 : 256;
		struct rec *nr;
		if (sc->nrecs >= MAX_RECS)
			return sc->err = MM_ERR_TOOBIG;
		if ((nr = realloc(sc->recs, na * sizeof(*nr))) == NULL)
			return sc->err = MM_ERR_NOMEM;
		sc->recs = nr;
		sc->arecs = na;
	}
	r = &sc->recs[sc->nrecs];
	r->row.s = *s;
	r->row.s.path = NULL;
	r->row.pid = -1;
	r->row.fd = -1;
	r->row.netns = sc->ns;
	r->path_off = sc->paths.len;
	if ((e = mm_buf_add(&sc->paths, s->path, s->path_len)) != 0 ||
	    (e = mm_buf_addc(&sc->paths, '\0')) != 0)
		return sc->err = e;
	sc->nrecs++;
	return 0;
}

/*
 * Asks the kernel for the listening TCP sockets of one family over
 * NETLINK_SOCK_DIAG and hands each to on_sock as if read from /proc/net/tcp.
 * Returns 0, 1 when netlink is unavailable or the dump failed before any
 * record was kept (the caller reads the file instead), or on_sock's error.
 */
static int diag_tcp_listen(struct scan *sc, int family)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} q;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	union {
		char b[32768];
		struct nlmsghdr align;
	} buf;
	size_t kept = sc->nrecs;
	int fd, r = 1, done = 0;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) < 0)
		return 1;
	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.nh.nlmsg_seq = 1;
	q.req.sdiag_family = (uint8_t)family;
	q.req.sdiag_protocol = IPPROTO_TCP;
	q.req.idiag_states = 1u << 10; /* TCP_LISTEN */
	if (sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)sizeof(q))
		goto out;
	while (!done) {
		ssize_t n = recv(fd, buf.b, sizeof(buf.b), 0);
		size_t off;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		/* Messages are 4-aligned in the datagram; each is checked to lie in it. */
		for (off = 0; !done && off + sizeof(struct nlmsghdr) <= (size_t)n;) {
			const struct nlmsghdr *h = (const struct nlmsghdr *)(buf.b + off);
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			struct mm_procnet_sock s;

			if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > (size_t)n - off)
				goto out;
			off += NLMSG_ALIGN(h->nlmsg_len);
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				goto out;
			memset(&s, 0, sizeof(s));
			s.family = m->idiag_family;
			s.protocol = IPPROTO_TCP;
			s.tcp_state = m->idiag_state;
			s.state = mm_procnet_tcp_state(m->idiag_state);
			s.inode = m->idiag_inode;
			s.path = "";
			s.local_port = ntohs(m->id.idiag_sport);
			s.remote_port = ntohs(m->id.idiag_dport);
			/* sock_diag gives addresses in network byte order */
			if (!inet_ntop(family, m->id.idiag_src, s.local_address, MM_PN_ADDRLEN) ||
			    !inet_ntop(family, m->id.idiag_dst, s.remote_address, MM_PN_ADDRLEN))
				goto out;
			if ((r = on_sock(sc, 0, &s, NULL)) != 0)
				goto out;
			r = 1;
		}
	}
	r = 0;
out:
	if (r == 1)
		sc->nrecs = kept; /* half a dump: drop it, the file will be read */
	close(fd);
	return r;
}

/* Reads and parses every socket table of one namespace. */
static int read_ns(struct scan *sc, const struct nsrc *src, unsigned flags)
{
	char path[96];
	char *data = NULL;
	size_t len, i;
	int r, live = strcmp(mm_root(sc->ctx), "/") == 0;

	for (i = 0; i < mm_procnet_nfiles; i++) {
		const struct mm_procnet_file *f = &mm_procnet_files[i];
		sc->ns = src->ns;
		if ((flags & MM_SOCK_TCP_LISTEN) && live && src->pid == 0 &&
		    f->protocol == IPPROTO_TCP) {
			r = diag_tcp_listen(sc, f->family);
			if (r == 0)
				continue;
			if (r != 1)
				return r;
		}
		if (src->pid > 0)
			snprintf(path, sizeof(path), "/proc/%lld/net/%s", (long long)src->pid,
				 f->name);
		else
			snprintf(path, sizeof(path), "/proc/net/%s", f->name);
		r = mm_read(sc->ctx, path, MM_READ_CAP, &data, &len);
		if (r == MM_ERR_NOTFOUND || r == MM_ERR_IO)
			continue; /* a kernel without udplite, a process gone: nothing to say */
		if (r == MM_ERR_TOOBIG) {
			mm_warn(sc->ctx, "%s:1: larger than %u bytes, not read", path, MM_READ_CAP);
			continue;
		}
		if (r != 0)
			return r;
		sc->file = path;
		r = mm_procnet_parse(f, data, len, on_sock, sc);
		free(data);
		data = NULL;
		if (r != 0)
			return sc->err != 0 ? sc->err : r;
		if ((r = mm_check(sc->ctx)) != 0)
			return r;
	}
	return 0;
}

/* Net namespace of "self" or "<pid>", 0 when unreadable. */
static uint64_t netns_of(int procfd, const char *who)
{
	char rel[64], link[128];
	uint64_t ns;

	snprintf(rel, sizeof(rel), "%s/ns/net", who);
	if (mm_proc_readlink(procfd, rel, link, sizeof(link)) < 0 ||
	    mm_proc_link_inode(link, "net", &ns) != 0)
		return 0;
	return ns;
}

/* Adds a namespace source unless ns is already listed. */
static int add_src(struct nsrc **v, size_t *n, size_t *alloc, uint64_t ns, int64_t pid)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*v)[i].ns == ns)
			return 0;
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 8;
		struct nsrc *nv;
		if (*n >= MAX_NS)
			return MM_ERR_TOOBIG;
		if ((nv = realloc(*v, na * sizeof(*nv))) == NULL)
			return MM_ERR_NOMEM;
		*v = nv;
		*alloc = na;
	}
	(*v)[*n].ns = ns;
	(*v)[(*n)++].pid = pid;
	return 0;
}

/* Inode index: socket inode -> record. */
struct ix {
	uint64_t inode;
	size_t rec;
};

static int cmp_ix(const void *a, const void *b)
{
	uint64_t x = ((const struct ix *)a)->inode, y = ((const struct ix *)b)->inode;

	return (x > y) - (x < y);
}

static struct ix *find_ix(struct ix *v, size_t n, uint64_t inode)
{
	struct ix key = { inode, 0 };

	return bsearch(&key, v, n, sizeof(*v), cmp_ix);
}

/* Reads the /proc/<pid>/fd/N links and records pid/fd on the sockets found.  A
 * process that is gone or not ours to look at is skipped quietly. */
static int scan_fds(struct scan *sc, int procfd, int64_t pid, struct ix *ix, size_t nix)
{
	char rel[64], link[64];
	struct dirent *e;
	DIR *d;
	int fd, dfd;

	snprintf(rel, sizeof(rel), "%lld/fd", (long long)pid);
	if ((fd = openat(procfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		uint64_t inode;
		int64_t fdnum = 0;
		const char *p;
		struct ix *hit;
		ssize_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		n = readlinkat(dfd, e->d_name, link, sizeof(link) - 1);
		if (n < 8 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[n] = '\0';
		if (mm_proc_link_inode(link, "socket", &inode) != 0 ||
		    (hit = find_ix(ix, nix, inode)) == NULL)
			continue;
		for (p = e->d_name; *p >= '0' && *p <= '9' && fdnum < INT32_MAX; p++)
			fdnum = fdnum * 10 + (*p - '0');
		/* A socket lives in one namespace's table, so one record per inode. */
		{
			struct mm_sockrow *row = &sc->recs[hit->rec].row;
			if (row->pid < 0 || (row->pid == pid && fdnum < row->fd)) {
				row->pid = pid;
				row->fd = fdnum;
			}
		}
	}
	closedir(d);
	return 0;
}

int mm_sockets_scan(struct mm_ctx *ctx, int pid_col, int owners, unsigned flags,
		    mm_sock_keep keep, mm_sock_emit emit)
{
	struct scan sc = { .ctx = ctx, .keep = keep };
	struct mm_pidlist pl = { NULL, 0, 0 };
	struct nsrc *src = NULL;
	struct ix *ix = NULL;
	size_t nsrc = 0, asrc = 0, nix = 0, i;
	uint64_t self_ns;
	int procfd = -1, r = MM_ERR_INTERNAL, constrained = mm_eq_count(ctx, pid_col) >= 0;
	char who[32];

	mm_buf_init(&sc.paths, PATHS_CAP);
	if ((procfd = mm_proc_open(ctx)) < 0) {
		r = procfd == MM_ERR_NOTFOUND ? 0 : procfd;
		if (r != 0)
			mm_error(ctx, "cannot open %s/proc: %s", mm_root(ctx), mm_strerror(r));
		goto out;
	}
	owners = owners || constrained;
	if (owners && (r = mm_proc_pids(ctx, pid_col, 1, &pl)) != 0)
		goto fail;

	/* 2. namespaces */
	self_ns = netns_of(procfd, "self");
	if (!pl.filtered && (r = add_src(&src, &nsrc, &asrc, self_ns, 0)) != 0)
		goto fail;
	for (i = 0; owners && i < pl.n; i++) {
		uint64_t ns;
		snprintf(who, sizeof(who), "%lld", (long long)pl.pid[i]);
		ns = netns_of(procfd, who);
		if (ns == 0 || ns == self_ns)
			r = add_src(&src, &nsrc, &asrc, self_ns, 0);
		else
			r = add_src(&src, &nsrc, &asrc, ns, pl.pid[i]);
		if (r != 0)
			goto fail;
	}

	/* 3. socket tables */
	for (i = 0; i < nsrc; i++)
		if ((r = read_ns(&sc, &src[i], flags)) != 0)
			goto fail;

	/* 4. owners */
	if (owners && sc.nrecs > 0) {
		if ((ix = malloc(sc.nrecs * sizeof(*ix))) == NULL) {
			r = MM_ERR_NOMEM;
			goto fail;
		}
		for (i = 0; i < sc.nrecs; i++)
			if (sc.recs[i].row.s.inode != 0) {
				ix[nix].inode = sc.recs[i].row.s.inode;
				ix[nix++].rec = i;
			}
		qsort(ix, nix, sizeof(*ix), cmp_ix);
		for (i = 0; i < pl.n; i++) {
			if ((r = scan_fds(&sc, procfd, pl.pid[i], ix, nix)) != 0 ||
			    (r = mm_check(ctx)) != 0)
				goto fail;
		}
	}

	/* 5. rows */
	for (i = 0; i < sc.nrecs; i++) {
		struct mm_sockrow *row = &sc.recs[i].row;
		if (pl.filtered && row->pid < 0)
			continue;
		row->s.path = mm_buf_str(&sc.paths) + sc.recs[i].path_off;
		if ((r = emit(ctx, row)) != 0)
			goto out;
	}
	r = 0;
	goto out;
fail:
	if (r != MM_ERR_LIMIT)
		mm_error(ctx, "reading sockets: %s", mm_strerror(r));
out:
	if (procfd >= 0)
		close(procfd);
	mm_pidlist_free(&pl);
	mm_buf_free(&sc.paths);
	free(sc.recs);
	free(src);
	free(ix);
	return r;
}
