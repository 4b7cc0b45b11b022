/*
 * dropin.h - the merged list of "*.conf" drop-in files across a set of
 * directories, as systemd-sysctl and kmod read /etc/sysctl.d, /run/...,
 * /usr/lib/... and /etc/modprobe.d, /run/modprobe.d, /lib/modprobe.d.
 *
 * Rules (systemd's conf-files logic, which kmod follows too):
 *   - only names ending in the suffix, not starting with '.', count;
 *   - a name found in an earlier directory masks the same name in every
 *     later directory (so /etc overrides /run overrides /usr/lib);
 *   - a symbolic link to /dev/null (or an empty file) masks a name and
 *     contributes nothing: such an entry is kept with masked = 1;
 *   - the merged list is sorted by file name (strcmp), whichever directory
 *     each came from, and callers apply the files in that order.
 * Symbolic links are resolved inside the root prefix (one level): an
 * absolute target is read under the root, a relative one from the entry's
 * directory, so a mounted image never sends a read to the live host.
 */
#ifndef MM_DROPIN_H
#define MM_DROPIN_H

#include <stddef.h>

#include "table.h"

/* Most entries one directory may hold; more is an error. */
#define MM_DROPIN_MAX 4096

struct mm_dropin {
	char *name;   /* file name, e.g. "99-sysctl.conf" */
	char *path;   /* host path of the entry, e.g. "/etc/sysctl.d/99-sysctl.conf" */
	char *target; /* host path to read (path, or a symlink's target under the root) */
	int masked;   /* 1: symlink to /dev/null; nothing to read */
};

/* Lists the drop-ins of the ndirs host directories dirs (earliest wins) with
 * names ending in suffix.  Missing directories are skipped.  On success
 * *list is a malloc'ed array of *n entries (free with mm_dropin_free()).
 * Returns 0, MM_ERR_TOOBIG (a directory with more than MM_DROPIN_MAX
 * entries, or a path too long), MM_ERR_NOMEM. */
int mm_dropin_list(struct mm_ctx *ctx, const char *const *dirs, size_t ndirs, const char *suffix,
		   struct mm_dropin **list, size_t *n);
void mm_dropin_free(struct mm_dropin *list, size_t n);

#endif
