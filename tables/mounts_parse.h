/*
 * mounts_parse.h - pure parser for the mount table format of /proc/mounts
 * (fstab(5) layout: device, mount point, type, options, dump, pass), used
 * by tables/mounts.c and fuzzed by tests/fuzz/fuzz_mounts.c.
 *
 * The kernel escapes space, tab, newline and backslash in the first four
 * fields as three-digit octal ("\040" for a space); the parser decodes them
 * in place.  An escape that would produce a NUL byte, or a backslash not
 * followed by three octal digits, is kept as written.
 */
#ifndef MM_MOUNTS_PARSE_H
#define MM_MOUNTS_PARSE_H

#include <stddef.h>

struct mm_mount {
	char *device;  /* "/dev/vda1", "tmpfs", "//server/share" */
	char *path;    /* mount point */
	char *type;    /* file system type */
	char *options; /* comma-separated options as the kernel lists them */
};

/* Parses one line in place (the line is modified).  Returns 1 with *m
 * filled, 0 for a blank or '#' comment line, or -1 when the line has fewer
 * than 4 fields or more than 6 (*nfields then says how many it has).  The
 * dump and pass fields are accepted but not returned. */
int mm_mounts_parse_line(char *line, struct mm_mount *m, int *nfields);

/* Decodes "\ooo" octal escapes of s in place (see above). */
void mm_mounts_unescape(char *s);

#endif
