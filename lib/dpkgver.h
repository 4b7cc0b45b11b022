/*
 * dpkgver.h - Debian version comparison, exactly as dpkg orders versions.
 *
 * A version is [epoch:]upstream[-revision].  Epochs compare as numbers; the
 * upstream and revision parts compare by dpkg's rule: alternating runs of
 * non-digits (compared character by character, '~' before everything, even
 * the end of the string, letters before other characters) and digits
 * (compared as numbers).
 */
#ifndef MM_DPKGVER_H
#define MM_DPKGVER_H

#include <stddef.h>

/* Compares two version strings of given lengths.  Returns <0, 0 or >0.
 * Malformed versions (a non-numeric epoch) are still ordered, never an
 * error: the epoch is then taken as 0 and the whole text as upstream. */
int mm_dpkg_vercmp_n(const char *a, size_t alen, const char *b, size_t blen);
/* Same for NUL-terminated strings. */
int mm_dpkg_vercmp(const char *a, const char *b);
/* Returns 0 if v is a syntactically valid Debian version, MM_ERR_PARSE else. */
int mm_dpkg_version_valid(const char *v);

#endif
