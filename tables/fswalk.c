/*
 * fswalk.c - expands path/directory constraints into paths; see fswalk.h.
 */
#include "fswalk.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "strutil.h"

struct walk {
	struct mm_ctx *ctx;
	mm_fswalk_fn fn;
	void *arg;
	long count;   /* paths reported so far */
	int stopped;  /* a bound was reached (warned once) */
};

int mm_like_component(const char *p, const char *s)
{
	/* Iterative matcher with one backtrack point for '%' (linear-ish, no
	 * recursion, so hostile patterns cannot blow the stack). */
	const char *star_p = NULL, *star_s = NULL;

	while (*s != '\0') {
		if (*p == '%') {
			while (*p == '%')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p != '\0' && (*p == '_' || tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
			continue;
		}
		if (star_p == NULL)
			return 0;
		p = star_p;
		s = ++star_s;
	}
	while (*p == '%')
		p++;
	return *p == '\0';
}

static int has_wild(const char *s)
{
	return strpbrk(s, "%_") != NULL;
}

static int emit(struct walk *w, const char *path, const char *dir)
{
	char full[4096];
	int r;

	if (w->stopped)
		return 0;
	if (w->count >= MM_FSWALK_MAX_PATHS) {
		mm_warn(w->ctx, "stopped after %d paths (the bound per query); narrow the pattern",
			MM_FSWALK_MAX_PATHS);
		w->stopped = 1;
		return 0;
	}
	if ((r = mm_check(w->ctx)) != 0)
		return r;
	if (mm_rpath(w->ctx, path, full, sizeof(full)) != 0) {
		mm_warn(w->ctx, "%s: path too long, skipped", path);
		return 0;
	}
	w->count++;
	return w->fn(w->ctx, path, dir, full, w->arg);
}

/* Joins dir and name into out ("/" + "etc" -> "/etc"). */
static int join(char *out, size_t n, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	int k = snprintf(out, n, "%s%s%s", dir, (dl > 0 && dir[dl - 1] == '/') ? "" : "/", name);

	return (k < 0 || (size_t)k >= n) ? MM_ERR_TOOBIG : 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Lists a directory (host path dir) into a sorted array of names, skipping
 * . and ..; returns 0 and *names, *n (free with free_names), or an error.
 * Sorted so results are the same on every run and every filesystem. */
static int list_dir(struct walk *w, const char *dir, char ***names, size_t *n)
{
	char full[4096];
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cnt = 0, alloc = 0;
	int r = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (mm_rpath(w->ctx, dir, full, sizeof(full)) != 0)
		return MM_ERR_TOOBIG;
	if ((d = opendir(full)) == NULL)
		return MM_ERR_NOTFOUND;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (cnt == alloc) {
			if (alloc >= MM_FSWALK_MAX_PATHS) {
				r = MM_ERR_TOOBIG;
				break;
			}
			alloc = alloc ? alloc * 2 : 32;
			if ((nv = realloc(v, alloc * sizeof(char *))) == NULL) {
				r = MM_ERR_NOMEM;
				break;
			}
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL) {
			r = MM_ERR_NOMEM;
			break;
		}
		cnt++;
	}
	closedir(d);
	if (r == MM_ERR_NOMEM) {
		free_names(v, cnt);
		return r;
	}
	if (r == MM_ERR_TOOBIG)
		mm_warn(w->ctx, "%s: more than %d entries, the rest skipped", dir,
			MM_FSWALK_MAX_PATHS);
	if (cnt > 1)
		qsort(v, cnt, sizeof(char *), cmp_names);
	*names = v;
	*n = cnt;
	return 0;
}

static int is_dir_nofollow(struct walk *w, const char *path)
{
	char full[4096];
	struct stat st;

	if (mm_rpath(w->ctx, path, full, sizeof(full)) != 0)
		return 0;
	return lstat(full, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists_nofollow(struct walk *w, const char *path)
{
	char full[4096];
	struct stat st;

	if (mm_rpath(w->ctx, path, full, sizeof(full)) != 0)
		return 0;
	return lstat(full, &st) == 0;
}

/* Returns the parent directory of path into out ("/etc/passwd" -> "/etc"). */
static void parent_of(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t len;

	if (slash == NULL) {
		snprintf(out, n, ".");
		return;
	}
	len = (size_t)(slash - path);
	if (len == 0)
		len = 1; /* "/x" -> "/" */
	if (len >= n)
		len = n - 1;
	memcpy(out, path, len);
	out[len] = '\0';
}

static int emit_path(struct walk *w, const char *path)
{
	char dir[4096];

	parent_of(path, dir, sizeof(dir));
	return emit(w, path, dir);
}

/* Emits everything below dir, depth-first, sorted, to a bounded depth. */
static int walk_all(struct walk *w, const char *dir, int depth)
{
	char **names = NULL, child[4096];
	size_t n = 0, i;
	int r = 0;

	if (depth > MM_FSWALK_MAX_DEPTH) {
		if (!w->stopped)
			mm_warn(w->ctx, "%s: deeper than %d levels, not descended", dir,
				MM_FSWALK_MAX_DEPTH);
		return 0;
	}
	if (list_dir(w, dir, &names, &n) != 0)
		return 0;
	for (i = 0; i < n && r == 0 && !w->stopped; i++) {
		if (join(child, sizeof(child), dir, names[i]) != 0)
			continue;
		if ((r = emit(w, child, dir)) != 0)
			break;
		if (is_dir_nofollow(w, child))
			r = walk_all(w, child, depth + 1);
	}
	free_names(names, n);
	return r;
}

#define MAX_COMPONENTS 64

/* Matches components comps[i..n) below the existing directory dir. */
static int walk_pattern(struct walk *w, const char *dir, char **comps, int i, int n)
{
	char **names = NULL, child[4096];
	size_t cnt = 0, k;
	int r = 0, last = i == n - 1;

	if (i >= n)
		return emit_path(w, dir);
	if (last && strcmp(comps[i], "%%") == 0)
		return walk_all(w, dir, 1);
	if (!has_wild(comps[i])) {
		if (join(child, sizeof(child), dir, comps[i]) != 0)
			return 0;
		if (last)
			return exists_nofollow(w, child) ? emit(w, child, dir) : 0;
		return is_dir_nofollow(w, child) ? walk_pattern(w, child, comps, i + 1, n) : 0;
	}
	if (list_dir(w, dir, &names, &cnt) != 0)
		return 0;
	for (k = 0; k < cnt && r == 0 && !w->stopped; k++) {
		if (!mm_like_component(comps[i], names[k]))
			continue;
		if (join(child, sizeof(child), dir, names[k]) != 0)
			continue;
		if (last)
			r = emit(w, child, dir);
		else if (is_dir_nofollow(w, child))
			r = walk_pattern(w, child, comps, i + 1, n);
	}
	free_names(names, cnt);
	return r;
}

static int walk_like(struct walk *w, const char *pattern)
{
	char *copy, *comps[MAX_COMPONENTS];
	int n = 0, r;
	char *p, *q;

	if (pattern[0] != '/') {
		mm_warn(w->ctx, "LIKE pattern '%s' is not an absolute path, ignored", pattern);
		return 0;
	}
	if ((copy = strdup(pattern)) == NULL)
		return MM_ERR_NOMEM;
	for (p = copy + 1; p != NULL && *p != '\0';) {
		q = strchr(p, '/');
		if (q != NULL)
			*q++ = '\0';
		if (*p != '\0') {
			if (n == MAX_COMPONENTS) {
				mm_warn(w->ctx, "LIKE pattern has more than %d components, ignored",
					MAX_COMPONENTS);
				free(copy);
				return 0;
			}
			comps[n++] = p;
		}
		p = q;
	}
	r = walk_pattern(w, "/", comps, 0, n);
	free(copy);
	return r;
}

int mm_fswalk(struct mm_ctx *ctx, int path_col, int dir_col, mm_fswalk_fn fn, void *arg)
{
	struct walk w = { ctx, fn, arg, 0, 0 };
	int i, n, r = 0;

	n = mm_eq_count(ctx, path_col);
	for (i = 0; i < n && r == 0; i++) {
		const char *p = mm_eq_value(ctx, path_col, i);
		if (p[0] != '/') {
			mm_warn(ctx, "path '%s' is not absolute, ignored", p);
			continue;
		}
		if (exists_nofollow(&w, p))
			r = emit_path(&w, p);
	}
	n = mm_like_count(ctx, path_col);
	for (i = 0; i < n && r == 0; i++)
		r = walk_like(&w, mm_like_value(ctx, path_col, i));
	n = mm_eq_count(ctx, dir_col);
	for (i = 0; i < n && r == 0; i++) {
		const char *d = mm_eq_value(ctx, dir_col, i);
		char **names = NULL, child[4096];
		size_t cnt = 0, k;
		if (d[0] != '/') {
			mm_warn(ctx, "directory '%s' is not absolute, ignored", d);
			continue;
		}
		if (list_dir(&w, d, &names, &cnt) != 0)
			continue;
		for (k = 0; k < cnt && r == 0 && !w.stopped; k++)
			if (join(child, sizeof(child), d, names[k]) == 0)
				r = emit(&w, child, d);
		free_names(names, cnt);
	}
	return r;
}
