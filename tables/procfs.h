/*
 * procfs.h - walking /proc under the root prefix, shared by processes,
 * listening_ports and process_open_sockets.
 *
 * Per-process files are small and read many times per query, so they are
 * read relative to one directory descriptor for <root>/proc (openat /
 * readlinkat) into caller buffers, not malloc'ed one by one.  Links are read
 * as text (readlinkat), never followed: under a root prefix a link's target
 * names a path on the imaged host, not on this one.
 */
#ifndef MM_PROCFS_H
#define MM_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "table.h"

/* The processes a query is about. */
struct mm_pidlist {
	int64_t *pid;  /* ascending, no duplicates (malloc'ed) */
	size_t n;      /* entries in pid */
	int filtered;  /* 1 when taken from `col = / IN` values, 0 when every process */
};

/* Fills *out with the pids named by equality constraints on column col
 * (positive, parseable values only), or with every numeric entry of
 * <root>/proc when col is unconstrained -- or, if all_on_minus1 is set, when
 * one of the values is -1 (osquery's "sockets of no process" marker, which
 * needs the whole host).  A missing /proc gives an empty list.  Returns 0,
 * MM_ERR_NOMEM, MM_ERR_TOOBIG (more than 4 Mi processes) or MM_ERR_LIMIT. */
int mm_proc_pids(struct mm_ctx *ctx, int col, int all_on_minus1, struct mm_pidlist *out);
/* Frees the list (NULL and an empty list are fine). */
void mm_pidlist_free(struct mm_pidlist *l);

/* Opens <root>/proc as a directory descriptor.  Returns the fd (>= 0) or
 * MM_ERR_NOTFOUND / MM_ERR_IO / MM_ERR_TOOBIG. */
int mm_proc_open(struct mm_ctx *ctx);

/* Reads the file rel (e.g. "812/stat") under the /proc descriptor into buf,
 * NUL-terminated.  Returns the length (>= 0), MM_ERR_NOTFOUND (no such file
 * or process), MM_ERR_IO, or MM_ERR_TOOBIG when the file does not fit in
 * bufsz - 1 bytes (buf then holds the first bufsz - 1 bytes). */
ssize_t mm_proc_read(int procfd, const char *rel, char *buf, size_t bufsz);

/* Reads the text of the link rel (e.g. "812/exe") into buf, NUL-terminated.
 * Returns the length (>= 0), MM_ERR_NOTFOUND, MM_ERR_IO (e.g. EACCES for
 * another user's process) or MM_ERR_TOOBIG when it does not fit. */
ssize_t mm_proc_readlink(int procfd, const char *rel, char *buf, size_t bufsz);

/* Parses a "<kind>:[<inode>]" link text ("socket:[15797]", "net:[4026531840]")
 * of the given kind.  Returns 0 or MM_ERR_PARSE. */
int mm_proc_link_inode(const char *text, const char *kind, uint64_t *inode);

/* Boot time (UNIX seconds) from the "btime" line of <root>/proc/stat, or -1
 * when it cannot be read. */
int64_t mm_proc_btime(struct mm_ctx *ctx);

#endif
