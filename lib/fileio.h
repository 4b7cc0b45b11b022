/*
 * fileio.h - reading whole files with a cap.
 *
 * Host state comes from small files (/proc, /etc, /var/lib/dpkg).  They are
 * read whole, into a NUL-terminated buffer, and never past a cap given by the
 * caller: a file under /proc that never ends, or a multi-gigabyte junk file,
 * costs at most the cap.
 */
#ifndef MM_FILEIO_H
#define MM_FILEIO_H

#include <stddef.h>

/* Reads the file at path.  On success *data is a malloc'ed buffer with a NUL
 * after the last byte, *len its length.  Returns 0, MM_ERR_NOTFOUND (no such
 * file), MM_ERR_IO (other open/read errors; errno kept), MM_ERR_TOOBIG (file
 * longer than cap: nothing is returned), MM_ERR_NOMEM. */
int mm_read_file(const char *path, size_t cap, char **data, size_t *len);

/* Like mm_read_file, but a file longer than cap is truncated to cap bytes and
 * *truncated is set to 1 (for hashing-free uses such as /proc/PID/cmdline). */
int mm_read_file_trunc(const char *path, size_t cap, char **data, size_t *len, int *truncated);

/* Joins root and an absolute path ("/etc/passwd") into out.  root "/" or ""
 * leaves the path as is.  Returns 0 or MM_ERR_TOOBIG when out is too small. */
int mm_path_join(char *out, size_t outsz, const char *root, const char *path);

/* The regular files directly in directory dir whose names end in one of
 * exts (NULL-terminated; names starting with '.' are skipped), as "dir/NAME"
 * paths sorted by name: *names (free with mm_dir_files_free), *n of them.
 * Used for `-f DIR` and `mamori check DIR` style arguments.  Returns 0,
 * MM_ERR_IO (dir cannot be opened; errno kept, nothing returned),
 * MM_ERR_LIMIT (more than max: *names holds max of them, sorted),
 * MM_ERR_NOMEM (nothing returned). */
int mm_dir_files(const char *dir, const char *const *exts, size_t max, char ***names, size_t *n);
void mm_dir_files_free(char **names, size_t n);

#endif
