/*
 * files.c - the files a `-f FILE|DIR` option names, for the verbs that
 * upload content (packs apply, policies apply, labels apply).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"
#include "util.h"

/* 1 when name ends in one of the extensions (".yaml", ...; NULL-terminated). */
static int has_ext(const char *name, const char *const *exts)
{
	for (; *exts != NULL; exts++)
		if (mm_endswith(name, *exts))
			return 1;
	return 0;
}

int ctl_collect_files(struct ctl *c, const char *path, const char *const *exts, int max,
		      char ***files, int *nfiles)
{
	struct stat st;
	char **names = NULL;
	size_t n = 0, i;
	int r;

	if (stat(path, &st) != 0)
		return ctl_fail("cannot read %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (!has_ext(path, exts))
			return ctl_usage_error(c, "%s: expected a file ending in %s%s%s", path,
					       exts[0], exts[1] != NULL ? " or " : "",
					       exts[1] != NULL ? exts[1] : "");
		if (*nfiles >= max)
			return ctl_fail("more than %d files", max);
		*files = xreallocarray(*files, (size_t)*nfiles + 1, sizeof(char *));
		(*files)[(*nfiles)++] = xstrdup(path);
		return 0;
	}
	r = mm_dir_files(path, exts, (size_t)(max - *nfiles), &names, &n);
	if (r == MM_ERR_IO)
		return ctl_fail("cannot read directory %s: %s", path, strerror(errno));
	if (r == MM_ERR_LIMIT)
		r = ctl_fail("%s: more than %d files", path, max);
	else if (r == MM_ERR_NOMEM)
		r = ctl_fail("%s: out of memory", path);
	else if (n == 0)
		r = ctl_fail("no matching files in %s", path);
	if (r != 0) {
		mm_dir_files_free(names, n);
		return r;
	}
	*files = xreallocarray(*files, (size_t)*nfiles + n, sizeof(char *));
	for (i = 0; i < n; i++)
		(*files)[(*nfiles)++] = names[i];
	free(names);
	return 0;
}

int ctl_read_upload(const char *path, size_t cap, size_t *total, size_t total_cap,
		    const char *what, json_t **src)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	*src = NULL;
	if ((r = mm_read_file(path, cap, &data, &len)) != 0)
		return r == MM_ERR_TOOBIG ? ctl_fail("cannot read %s: over %zu MiB", path, cap >> 20)
					  : ctl_fail("cannot read %s: %s", path, strerror(errno));
	r = CTL_EXIT_FAIL;
	if ((*total += len) > total_cap)
		ctl_fail("the %s files add up to more than %zu MiB", what, total_cap >> 20);
	else if (memchr(data, '\0', len) != NULL)
		ctl_fail("%s is not a text file (NUL byte)", path);
	else if ((*src = json_stringn(data, len)) == NULL)
		ctl_fail("%s is not UTF-8 text", path);
	else
		r = 0;
	free(data);
	return r;
}
