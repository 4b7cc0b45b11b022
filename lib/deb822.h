/*
 * deb822.h - a parser for Debian's control-file syntax (deb822): the format
 * of /var/lib/dpkg/status, apt's Packages lists, InRelease and .sources
 * files.  A file is a list of stanzas separated by blank lines; a stanza is
 * a list of "Name: value" fields; a line starting with a space or a tab
 * continues the previous field's value.
 *
 * The parser is pure (a buffer in, stanzas out) and forgiving: a damaged
 * line (binary junk, NUL bytes, invalid UTF-8, no colon, a continuation with
 * no field before it) is reported through the on_error callback with its
 * line number and dropped, and parsing goes on, so one bad record never
 * hides the stanzas after it.  Every size is capped.
 *
 *     struct mm_deb822 *p = NULL;
 *     const struct mm_deb822_stanza *st;
 *     if ((r = mm_deb822_new(buf, len, &opts, &p)) != 0) goto out;
 *     while ((r = mm_deb822_next(p, &st)) > 0)
 *             use(mm_deb822_get(st, "Package"));
 *     mm_deb822_free(p);
 *
 * Value folding: a field's value is the text after the colon on its first
 * line and the text of each continuation line without its first white-space
 * character, each with trailing white space removed, joined with '\n'; an
 * empty first line is left out (so "Conffiles:\n /etc/a 1f\n" gives
 * "/etc/a 1f").  Multi-line fields keep their line structure that way
 * (Description's " ." marker becomes "."); callers that want a one-line
 * value (Depends split over lines) treat '\n' as a space.
 */
#ifndef MM_DEB822_H
#define MM_DEB822_H

#include <stddef.h>

/* Flags for mm_deb822_opts.flags. */
#define MM_DEB822_COMMENTS 0x01 /* lines starting with '#' are comments (.sources, control) */

/* Default caps (used when a cap in the options is 0). */
#define MM_DEB822_MAX_VALUE (1u << 20)   /* bytes of one folded value */
#define MM_DEB822_MAX_FIELDS 256u        /* fields in one stanza */
#define MM_DEB822_MAX_STANZA (4u << 20)  /* bytes of one stanza's names and values */
#define MM_DEB822_MAX_NAME 128u          /* bytes of one field name */

struct mm_deb822_opts {
	unsigned flags;     /* MM_DEB822_* */
	size_t max_value;   /* cap on one field's folded value; 0 = MM_DEB822_MAX_VALUE */
	size_t max_fields;  /* cap on fields per stanza; 0 = MM_DEB822_MAX_FIELDS */
	size_t max_stanza;  /* cap on a stanza's stored text; 0 = MM_DEB822_MAX_STANZA */
	/* Called once per problem, with the 1-based line and a short message
	 * ("binary data (byte 0x00)"); may be NULL.  Messages never contain
	 * bytes from the input other than validated printable field names. */
	void (*on_error)(void *arg, int line, const char *msg);
	void *arg;          /* handed to on_error */
};

struct mm_deb822_field {
	const char *name;  /* NUL-terminated, as written (names compare case-insensitively) */
	const char *value; /* NUL-terminated folded value (see above) */
	size_t value_len;  /* strlen(value) */
	int line;          /* line of the field's first line */
};

struct mm_deb822_stanza {
	const struct mm_deb822_field *fields; /* in file order */
	size_t nfields;                       /* >= 1 */
	int line;                             /* first line of the stanza */
	int last_line;                        /* last line of the stanza */
	int nerrors;                          /* problems reported inside it (lines dropped) */
};

struct mm_deb822; /* opaque parser state */

/* Starts parsing buf[0..len) (need not be NUL-terminated; may hold NULs).
 * The buffer must outlive the parser.  o may be NULL for defaults.
 * Returns 0 or MM_ERR_NOMEM; *out is NULL on failure. */
int mm_deb822_new(const char *buf, size_t len, const struct mm_deb822_opts *o,
		  struct mm_deb822 **out);
/* Parses the next stanza with at least one good field.  Returns 1 and sets
 * *st (valid until the next call or mm_deb822_free), 0 at the end of the
 * input, or MM_ERR_NOMEM.  Problems met on the way go to on_error first. */
int mm_deb822_next(struct mm_deb822 *p, const struct mm_deb822_stanza **st);
/* Total problems reported so far. */
int mm_deb822_errors(const struct mm_deb822 *p);
/* Frees the parser; NULL is fine. */
void mm_deb822_free(struct mm_deb822 *p);

/* Returns the field called name (case-insensitive) or NULL. */
const struct mm_deb822_field *mm_deb822_find(const struct mm_deb822_stanza *st, const char *name);
/* Returns the value of the field called name, or NULL when absent. */
const char *mm_deb822_get(const struct mm_deb822_stanza *st, const char *name);

#endif
