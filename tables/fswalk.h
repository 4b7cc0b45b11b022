/*
 * fswalk.h - the paths a `file` or `hash` query names, expanded under the
 * root prefix.
 *
 * Constraints understood (osquery's semantics):
 *   path = '/etc/passwd'        that path
 *   path LIKE '/etc/%.conf'     '%' matches within one directory level, '_'
 *                               one character (case-insensitively, as LIKE)
 *   path LIKE '/etc/%%'         a final '%%' component matches everything
 *                               below, to a bounded depth
 *   directory = '/etc'          the entries of that directory (one level)
 *
 * The walk is bounded: at most MM_FSWALK_MAX_DEPTH levels below the pattern's
 * fixed prefix and MM_FSWALK_MAX_PATHS paths per query; reaching a bound
 * stops the walk with a warning, never unbounded memory.  Symbolic links are
 * never followed while walking directories.
 */
#ifndef MM_FSWALK_H
#define MM_FSWALK_H

#include "table.h"

#define MM_FSWALK_MAX_DEPTH 16
#define MM_FSWALK_MAX_PATHS 100000

/* Called once per path found.  path is the host path (without root),
 * directory the value for the `directory` column, full the path on disk
 * (root + path).  Returns 0 to go on, non-zero to stop (returned by the
 * walk). */
typedef int (*mm_fswalk_fn)(struct mm_ctx *ctx, const char *path, const char *directory,
			    const char *full, void *arg);

/* Visits every path the query's constraints on columns path_col (=, LIKE) and
 * dir_col (=) name.  Returns 0, the callback's non-zero value, or
 * MM_ERR_LIMIT when the time limit passed. */
int mm_fswalk(struct mm_ctx *ctx, int path_col, int dir_col, mm_fswalk_fn fn, void *arg);

/* Matches name against one LIKE component pattern ('%' any run, '_' one
 * character, ASCII case-insensitive).  Exposed for tests and fuzzing. */
int mm_like_component(const char *pat, const char *name);

#endif
