/*
 * confread.c - line iterator, sorted directory listing and wiping for the
 * configuration-file tables; see confread.h.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "confread.h"
#include "error.h"

char *mm_conf_line(char *buf, size_t len, size_t *pos, size_t *n)
{
	char *line, *nl;

	*n = 0;
	if (*pos >= len)
		return NULL;
	line = buf + *pos;
	nl = memchr(line, '\n', len - *pos);
	if (nl != NULL) {
		*nl = '\0';
		*n = (size_t)(nl - line);
		*pos = (size_t)(nl - buf) + 1;
	} else {
		*n = len - *pos;
		*pos = len;
	}
	return line;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void mm_conf_names_free(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int mm_conf_list_dir(struct mm_ctx *ctx, const char *dir, int (*skip)(const char *name),
		     char ***names, size_t *n)
{
	char full[4096], file[4096 + 258];
	char **v = NULL, **nv;
	size_t cnt = 0, alloc = 0, seen = 0;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int r = MM_ERR_INTERNAL, k;

	*names = NULL;
	*n = 0;
	if (mm_rpath(ctx, dir, full, sizeof(full)) != 0)
		return MM_ERR_TOOBIG;
	if (lstat(full, &st) != 0 || !S_ISDIR(st.st_mode))
		return MM_ERR_NOTFOUND; /* a symlinked directory is not followed either */
	if ((d = opendir(full)) == NULL) {
		r = MM_ERR_NOTFOUND;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (++seen > MM_CONF_DIR_MAX) {
			r = MM_ERR_TOOBIG;
			goto out;
		}
		if (skip != NULL && skip(de->d_name))
			continue;
		k = snprintf(file, sizeof(file), "%s/%s", full, de->d_name);
		if (k < 0 || (size_t)k >= sizeof(file)) {
			r = MM_ERR_TOOBIG;
			goto out;
		}
		if (lstat(file, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (cnt == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			if ((nv = realloc(v, alloc * sizeof(char *))) == NULL) {
				r = MM_ERR_NOMEM;
				goto out;
			}
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		cnt++;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(char *), cmp_names);
	*names = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	r = 0;
out:
	if (d != NULL)
		closedir(d);
	mm_conf_names_free(v, cnt);
	return r;
}

void mm_conf_wipe(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}
