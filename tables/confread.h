/*
 * confread.h - small helpers for tables that read configuration files
 * (shadow, sudoers, login_defs, crontab): a line iterator that knows each
 * line's true length (so NUL bytes inside a line are detected, not silently
 * cut), and a bounded, sorted directory listing through the root prefix
 * (for /etc/sudoers.d, /etc/cron.d, /var/spool/cron/crontabs).
 */
#ifndef MM_CONFREAD_H
#define MM_CONFREAD_H

#include <stddef.h>

#include "table.h"

/* Returns the next line of buf (len bytes), NUL-terminated in place (the
 * '\n' is replaced; a '\r' before it is kept), its length in *n (which is
 * larger than strlen() when the line holds NUL bytes), and advances *pos.
 * Returns NULL at the end of the buffer.  The buffer must have a NUL at
 * buf[len] (as mm_read() leaves it). */
char *mm_conf_line(char *buf, size_t len, size_t *pos, size_t *n);

/* Most directory entries a listing returns; more is an error. */
#define MM_CONF_DIR_MAX 10000

/* Lists the regular files of host directory dir (read through the root
 * prefix), without following symbolic links, sorted by name (strcmp).
 * Names starting with '.' are always skipped; names for which skip(name)
 * returns 1 are skipped too (skip may be NULL).  On success *names is a
 * malloc'ed array of *n malloc'ed names (free with mm_conf_names_free()).
 * Returns 0, MM_ERR_NOTFOUND (no such directory), MM_ERR_TOOBIG (more than
 * MM_CONF_DIR_MAX entries, or a path too long), MM_ERR_NOMEM. */
int mm_conf_list_dir(struct mm_ctx *ctx, const char *dir, int (*skip)(const char *name),
		     char ***names, size_t *n);
void mm_conf_names_free(char **names, size_t n);

/* Wipes n bytes at p in a way the compiler keeps (for buffers that held
 * secrets such as /etc/shadow). */
void mm_conf_wipe(void *p, size_t n);

#endif
