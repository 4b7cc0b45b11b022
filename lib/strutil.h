/*
 * strutil.h - small string helpers used by parsers all over the project.
 *
 * None of these allocate unless their name says so.  They exist so that
 * parsers never reach for strtok/atoi/sprintf (see STYLE.md).
 */
#ifndef MM_STRUTIL_H
#define MM_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Trims ASCII white space from both ends in place; returns s advanced. */
char *mm_trim(char *s);
/* Returns 1 if s starts with prefix. */
int mm_startswith(const char *s, const char *prefix);
/* Returns 1 if s ends with suffix. */
int mm_endswith(const char *s, const char *suffix);
/* Parses a whole decimal (base 10, optional sign) integer.  Returns 0 or
 * MM_ERR_PARSE when s is empty, has junk, or overflows. */
int mm_parse_i64(const char *s, int64_t *out);
/* Same for an unsigned value in the given base (10 or 16). */
int mm_parse_u64(const char *s, int base, uint64_t *out);
/* Splits s in place at runs of the separator characters in seps, storing at
 * most max field pointers.  Leading and trailing separators make no empty
 * fields.  Returns the number of fields stored. */
int mm_split_ws(char *s, const char *seps, char **fields, int max);
/* Splits s in place at every occurrence of sep (empty fields kept), storing
 * at most max pointers; the last field holds the rest.  Returns the count. */
int mm_split_char(char *s, char sep, char **fields, int max);
/* Returns the next line of a buffer: *pos is advanced past the newline; the
 * line is NUL-terminated in place (the buffer is modified).  Returns NULL at
 * the end. */
char *mm_next_line(char *buf, size_t len, size_t *pos);
/* Returns 1 if every byte of s is printable ASCII/UTF-8 text (no controls
 * other than tab). */
int mm_is_text(const char *s, size_t n);
/* Parses a duration: "250ms", "10s", "5m", "2h", or a bare number of
 * seconds.  Returns 0 or MM_ERR_PARSE. */
int mm_parse_duration_ms(const char *s, int64_t *ms);
/* Parses a size: "512", "64k", "256M", "1G" (powers of 1024; a trailing
 * "B"/"iB" is accepted).  Returns 0 or MM_ERR_PARSE. */
int mm_parse_size(const char *s, int64_t *bytes);
/* strdup that returns NULL on NULL input. */
char *mm_strdup0(const char *s);

#endif
