/*
 * sudoers_parse.h - a pure parser for sudoers(5) files, used by the sudoers
 * table and fuzzed by tests/fuzz/fuzz_sudoers.c.  No engine and no file
 * access here: the caller reads the files and follows the include
 * directives the parser reports.
 *
 * The parser does not implement sudo's grammar; like osquery it cuts each
 * entry into its first word (the "header": "Defaults", "root", "%sudo",
 * "Cmnd_Alias", "@includedir", ...) and the rest ("rule details").  Rules:
 *   - a line ending in '\' continues on the next line; the pieces are
 *     joined with one space;
 *   - '#' starts a comment, except in "#include"/"#includedir" and in
 *     "#<digits>" (a numeric uid, as sudo reads it); inside a line a '#'
 *     starts a comment when it begins a word outside double quotes;
 *   - "@include"/"#include" PATH and "@includedir"/"#includedir" DIR are
 *     reported as include entries (surrounding double quotes removed);
 *   - an entry that is not an include, not "Defaults..." and has no '=' is
 *     no rule sudo would accept: it is reported through warn and skipped,
 *     as are lines with control bytes and entries longer than
 *     MM_SUDOERS_LINE_MAX.
 */
#ifndef MM_SUDOERS_PARSE_H
#define MM_SUDOERS_PARSE_H

#include <stddef.h>

#define MM_SUDOERS_LINE_MAX 65536u /* longest entry, continuations included */

enum mm_sudoers_kind {
	MM_SUDOERS_RULE = 0,   /* Defaults, alias or user specification */
	MM_SUDOERS_INCLUDE,    /* @include / #include: details is a file */
	MM_SUDOERS_INCLUDEDIR, /* @includedir / #includedir: details is a directory */
};

struct mm_sudoers_entry {
	int line;                  /* 1-based line where the entry starts */
	enum mm_sudoers_kind kind; /* see above */
	const char *header;        /* first word, never empty */
	const char *details;       /* the rest, trimmed, comment removed; may be "" */
};

/* Called once per entry; the strings are valid only during the call.
 * Return 0 to go on; any other value stops the parse and is returned. */
typedef int (*mm_sudoers_fn)(void *arg, const struct mm_sudoers_entry *e);
/* Called for each skipped entry with its first line and a short reason. */
typedef void (*mm_sudoers_warn_fn)(void *arg, int line, const char *why);

/* Parses len bytes of buf (need not be NUL-terminated; not modified).
 * Returns 0, the first non-zero value of fn, or MM_ERR_NOMEM.  warn may be
 * NULL. */
int mm_sudoers_parse(const char *buf, size_t len, mm_sudoers_fn fn, mm_sudoers_warn_fn warn,
		     void *arg);

#endif
