/*
 * decomp.h - reading a file that may be compressed, chosen by its name:
 * ".gz" (zlib), ".xz" and ".lzma" (liblzma), ".zst" (libzstd), ".lz4"
 * (liblz4 frames), anything else read as is.  apt keeps its package lists
 * in any of these forms.
 *
 * Output is delivered in chunks to a callback, so a 50 MB list never has
 * to sit in memory whole; the total decompressed size is capped (a
 * decompression bomb stops at the cap with MM_ERR_TOOBIG).
 */
#ifndef MM_DECOMP_H
#define MM_DECOMP_H

#include <stddef.h>

/* Receives the next chunk of decompressed bytes; returns 0 to go on, or
 * non-zero to stop (that value is returned by mm_decomp_file). */
typedef int (*mm_decomp_fn)(const char *data, size_t len, void *arg);

/* Streams the decompressed contents of path to fn.  Returns 0,
 * MM_ERR_NOTFOUND, MM_ERR_IO, MM_ERR_PARSE (corrupt compressed data; *err
 * says what and where, free() it), MM_ERR_TOOBIG (more than cap bytes
 * out), MM_ERR_NOMEM, or fn's non-zero value. */
int mm_decomp_file(const char *path, size_t cap, mm_decomp_fn fn, void *arg, char **err);

/* Returns 1 if the name ends in an extension mm_decomp_file decompresses
 * or has none of the known ones (plain), 0 for extensions it does not know
 * (".bz2", ".diff"...). */
int mm_decomp_supported(const char *path);

#endif
