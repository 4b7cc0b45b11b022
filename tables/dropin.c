/*
 * dropin.c - merged, masked and sorted drop-in directory listing for
 * system_controls (sysctl.d) and kernel_module_rules (modprobe.d); see
 * dropin.h for the rules.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dropin.h"
#include "strutil.h"

void mm_dropin_free(struct mm_dropin *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].path);
		free(list[i].target);
	}
	free(list);
}

static int cmp_dropin(const void *a, const void *b)
{
	return strcmp(((const struct mm_dropin *)a)->name, ((const struct mm_dropin *)b)->name);
}

/* Joins dir and name into a malloc'ed "dir/name"; NULL on out-of-memory. */
static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p == NULL)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

/* Fills e->target and e->masked for the entry at host path e->path (on disk
 * at full).  Returns 0, 1 to skip the entry (not a file), MM_ERR_NOMEM. */
static int resolve(const char *dir, const char *full, struct mm_dropin *e)
{
	char link[4096];
	struct stat st;
	ssize_t k;

	if (lstat(full, &st) != 0)
		return 1;
	if (S_ISREG(st.st_mode)) {
		e->target = strdup(e->path);
		return e->target != NULL ? 0 : MM_ERR_NOMEM;
	}
	if (!S_ISLNK(st.st_mode))
		return 1;
	k = readlink(full, link, sizeof(link) - 1);
	if (k <= 0)
		return 1;
	link[k] = '\0';
	if (strcmp(link, "/dev/null") == 0) {
		e->masked = 1;
		return 0;
	}
	e->target = link[0] == '/' ? strdup(link) : join(dir, link);
	return e->target != NULL ? 0 : MM_ERR_NOMEM;
}

/* Returns 1 if name is already in list[0..n). */
static int seen(const struct mm_dropin *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return 1;
	return 0;
}

int mm_dropin_list(struct mm_ctx *ctx, const char *const *dirs, size_t ndirs, const char *suffix,
		   struct mm_dropin **list, size_t *n)
{
	struct mm_dropin *v = NULL, *nv;
	size_t cnt = 0, alloc = 0, first, d, entries;
	char full[4096], file[4096 + 258];
	struct dirent *de;
	DIR *dh = NULL;
	int r = MM_ERR_INTERNAL, k;

	*list = NULL;
	*n = 0;
	for (d = 0; d < ndirs; d++) {
		if (mm_rpath(ctx, dirs[d], full, sizeof(full)) != 0) {
			r = MM_ERR_TOOBIG;
			goto out;
		}
		if ((dh = opendir(full)) == NULL)
			continue;
		first = cnt; /* names of this directory are not checked against each other */
		entries = 0;
		while ((de = readdir(dh)) != NULL) {
			struct mm_dropin e = { NULL, NULL, NULL, 0 };

			if (de->d_name[0] == '.' || !mm_endswith(de->d_name, suffix))
				continue;
			if (++entries > MM_DROPIN_MAX) {
				r = MM_ERR_TOOBIG;
				goto out;
			}
			/* Names are few (tens): a linear check against the earlier
			 * directories costs less than a hash table would. */
			if (seen(v, first, de->d_name))
				continue;
			k = snprintf(file, sizeof(file), "%s/%s", full, de->d_name);
			if (k < 0 || (size_t)k >= sizeof(file)) {
				r = MM_ERR_TOOBIG;
				goto out;
			}
			if ((e.name = strdup(de->d_name)) == NULL || (e.path = join(dirs[d], de->d_name)) == NULL) {
				free(e.name);
				r = MM_ERR_NOMEM;
				goto out;
			}
			if ((k = resolve(dirs[d], file, &e)) != 0) {
				free(e.name);
				free(e.path);
				if (k < 0) {
					r = k;
					goto out;
				}
				continue;
			}
			if (cnt == alloc) {
				alloc = alloc ? alloc * 2 : 16;
				if ((nv = realloc(v, alloc * sizeof(*v))) == NULL) {
					free(e.name);
					free(e.path);
					free(e.target);
					r = MM_ERR_NOMEM;
					goto out;
				}
				v = nv;
			}
			v[cnt++] = e;
		}
		closedir(dh);
		dh = NULL;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_dropin);
	*list = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	r = 0;
out:
	if (dh != NULL)
		closedir(dh);
	mm_dropin_free(v, cnt);
	return r;
}
