/*
 * procfs.c - walking /proc under the root prefix; see procfs.h.
 */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strutil.h"

#define MAX_PIDS (4u * 1024u * 1024u) /* pid_max is at most 2^22 */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Appends v to l, growing it; returns 0, MM_ERR_NOMEM or MM_ERR_TOOBIG. */
static int push(struct mm_pidlist *l, size_t *alloc, int64_t v)
{
	if (l->n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 256;
		int64_t *np;
		if (l->n >= MAX_PIDS)
			return MM_ERR_TOOBIG;
		if ((np = realloc(l->pid, na * sizeof(*np))) == NULL)
			return MM_ERR_NOMEM;
		l->pid = np;
		*alloc = na;
	}
	l->pid[l->n++] = v;
	return 0;
}

/* Parses a whole positive decimal pid; 0 when name is not one. */
static int64_t pid_of(const char *name)
{
	int64_t v = 0;
	const char *p;

	if (*name == '\0' || *name == '0')
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v;
}

int mm_proc_pids(struct mm_ctx *ctx, int col, int all_on_minus1, struct mm_pidlist *out)
{
	char path[4096];
	struct mm_pidlist l = { NULL, 0, 0 };
	size_t alloc = 0, i, j;
	DIR *d = NULL;
	struct dirent *e;
	int neq = mm_eq_count(ctx, col), r = MM_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (neq >= 0 && !(all_on_minus1 && mm_eq_allows(ctx, col, "-1"))) {
		l.filtered = 1;
		for (i = 0; i < (size_t)neq; i++) {
			int64_t v = pid_of(mm_eq_value(ctx, col, (int)i));
			if (v > 0 && (r = push(&l, &alloc, v)) != 0)
				goto out;
		}
	} else {
		if ((r = mm_rpath(ctx, "/proc", path, sizeof(path))) != 0)
			goto out;
		if ((d = opendir(path)) != NULL) {
			while ((e = readdir(d)) != NULL) {
				int64_t v = pid_of(e->d_name);
				if (v <= 0)
					continue;
				if ((r = push(&l, &alloc, v)) != 0 || (r = mm_check(ctx)) != 0)
					goto out;
			}
		}
	}
	if (l.n > 0) {
		qsort(l.pid, l.n, sizeof(*l.pid), cmp_i64);
		for (i = 1, j = 1; i < l.n; i++)
			if (l.pid[i] != l.pid[j - 1])
				l.pid[j++] = l.pid[i];
		l.n = j;
	}
	*out = l;
	l.pid = NULL;
	r = 0;
out:
	if (d != NULL)
		closedir(d);
	free(l.pid);
	return r;
}

void mm_pidlist_free(struct mm_pidlist *l)
{
	if (l == NULL)
		return;
	free(l->pid);
	l->pid = NULL;
	l->n = 0;
}

int mm_proc_open(struct mm_ctx *ctx)
{
	char path[4096];
	int r, fd;

	if ((r = mm_rpath(ctx, "/proc", path, sizeof(path))) != 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? MM_ERR_NOTFOUND : MM_ERR_IO;
	return fd;
}

ssize_t mm_proc_read(int procfd, const char *rel, char *buf, size_t bufsz)
{
	size_t used = 0;
	ssize_t n;
	int fd;

	if (bufsz == 0)
		return MM_ERR_TOOBIG;
	buf[0] = '\0';
	fd = openat(procfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH || errno == ENOTDIR ? MM_ERR_NOTFOUND
									  : MM_ERR_IO;
	while (used < bufsz - 1) {
		n = read(fd, buf + used, bufsz - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			buf[used] = '\0';
			return e == ESRCH ? MM_ERR_NOTFOUND : MM_ERR_IO;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	if (used == bufsz - 1) {
		char c;
		do
			n = read(fd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n > 0) {
			close(fd);
			return MM_ERR_TOOBIG;
		}
	}
	close(fd);
	return (ssize_t)used;
}

ssize_t mm_proc_readlink(int procfd, const char *rel, char *buf, size_t bufsz)
{
	ssize_t n;

	if (bufsz == 0)
		return MM_ERR_TOOBIG;
	buf[0] = '\0';
	n = readlinkat(procfd, rel, buf, bufsz);
	if (n < 0)
		return errno == ENOENT || errno == ESRCH || errno == ENOTDIR ? MM_ERR_NOTFOUND
									  : MM_ERR_IO;
	if ((size_t)n >= bufsz) {
		buf[bufsz - 1] = '\0';
		return MM_ERR_TOOBIG;
	}
	buf[n] = '\0';
	return n;
}

int mm_proc_link_inode(const char *text, const char *kind, uint64_t *inode)
{
	size_t k = strlen(kind);
	uint64_t v = 0;
	const char *p;

	*inode = 0;
	if (strncmp(text, kind, k) != 0 || text[k] != ':' || text[k + 1] != '[')
		return MM_ERR_PARSE;
	for (p = text + k + 2; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return MM_ERR_PARSE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == text + k + 2 || p[0] != ']' || p[1] != '\0')
		return MM_ERR_PARSE;
	*inode = v;
	return 0;
}

int64_t mm_proc_btime(struct mm_ctx *ctx)
{
	char *data = NULL, *line;
	size_t len, pos = 0;
	int64_t bt = -1, v;

	if (mm_read(ctx, "/proc/stat", MM_READ_CAP, &data, &len) != 0)
		return -1;
	while ((line = mm_next_line(data, len, &pos)) != NULL) {
		if (strncmp(line, "btime ", 6) == 0) {
			if (mm_parse_i64(mm_trim(line + 6), &v) == 0 && v >= 0)
				bt = v;
			break;
		}
	}
	free(data);
	return bt;
}
