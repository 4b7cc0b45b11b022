/*
 * fileio.c - capped whole-file reads; see fileio.h.
 */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "strutil.h"

static int read_fd(int fd, size_t cap, int allow_trunc, char **data, size_t *len, int *truncated)
{
	size_t alloc = 4096, used = 0;
	char *p, *np;
	ssize_t n;

	if (alloc > cap + 1)
		alloc = cap + 1;
	if ((p = malloc(alloc)) == NULL)
		return MM_ERR_NOMEM;
	for (;;) {
		if (used + 1 >= alloc) {
			size_t want;
			if (used >= cap) {
				/* Probe one byte to know whether there is more. */
				char c;
				n = read(fd, &c, 1);
				if (n < 0 && errno == EINTR)
					continue;
				if (n > 0) {
					if (!allow_trunc) {
						free(p);
						return MM_ERR_TOOBIG;
					}
					if (truncated != NULL)
						*truncated = 1;
				}
				break;
			}
			want = alloc * 2;
			if (want > cap + 1)
				want = cap + 1;
			if ((np = realloc(p, want)) == NULL) {
				free(p);
				return MM_ERR_NOMEM;
			}
			p = np;
			alloc = want;
		}
		n = read(fd, p + used, alloc - 1 - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(p);
			return MM_ERR_IO;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	p[used] = '\0';
	*data = p;
	*len = used;
	return 0;
}

static int read_path(const char *path, size_t cap, int allow_trunc, char **data, size_t *len,
		     int *truncated)
{
	int fd, r, saved;

	*data = NULL;
	*len = 0;
	if (truncated != NULL)
		*truncated = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? MM_ERR_NOTFOUND : MM_ERR_IO;
	/* O_NONBLOCK only guards against FIFOs on open; reads should block. */
	(void)fcntl(fd, F_SETFL, 0);
	r = read_fd(fd, cap, allow_trunc, data, len, truncated);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int mm_read_file(const char *path, size_t cap, char **data, size_t *len)
{
	return read_path(path, cap, 0, data, len, NULL);
}

int mm_read_file_trunc(const char *path, size_t cap, char **data, size_t *len, int *truncated)
{
	return read_path(path, cap, 1, data, len, truncated);
}

int mm_path_join(char *out, size_t outsz, const char *root, const char *path)
{
	size_t rl;
	int n;

	if (root == NULL || root[0] == '\0' || (root[0] == '/' && root[1] == '\0')) {
		n = snprintf(out, outsz, "%s", path);
	} else {
		rl = strlen(root);
		while (rl > 1 && root[rl - 1] == '/')
			rl--;
		n = snprintf(out, outsz, "%.*s%s%s", (int)rl, root, path[0] == '/' ? "" : "/",
			     path);
	}
	if (n < 0 || (size_t)n >= outsz)
		return MM_ERR_TOOBIG;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void mm_dir_files_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

int mm_dir_files(const char *dir, const char *const *exts, size_t max, char ***names, size_t *n)
{
	const char *sep = mm_endswith(dir, "/") ? "" : "/";
	char **v = NULL, *p;
	size_t cnt = 0, alloc = 0;
	struct dirent *de;
	struct stat st;
	int r = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return MM_ERR_IO;
	while ((de = readdir(d)) != NULL) {
		const char *const *e;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		for (e = exts; *e != NULL && !mm_endswith(de->d_name, *e); e++)
			;
		if (*e == NULL)
			continue;
		len = strlen(dir) + strlen(sep) + strlen(de->d_name) + 1;
		if ((p = malloc(len)) == NULL) {
			r = MM_ERR_NOMEM;
			break;
		}
		snprintf(p, len, "%s%s%s", dir, sep, de->d_name);
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (cnt == max) {
			free(p);
			r = MM_ERR_LIMIT;
			break;
		}
		if (cnt == alloc) {
			size_t na = alloc ? 2 * alloc : 32;
			char **nv = realloc(v, na * sizeof(*nv));

			if (nv == NULL) {
				free(p);
				r = MM_ERR_NOMEM;
				break;
			}
			v = nv;
			alloc = na;
		}
		v[cnt++] = p;
	}
	closedir(d);
	if (r == MM_ERR_NOMEM) {
		mm_dir_files_free(v, cnt);
		return r;
	}
	if (cnt > 0)
		qsort(v, cnt, sizeof(*v), cmp_name);
	*names = v;
	*n = cnt;
	return r;
}
