/*
 * sshd_config_parse.h - a pure parser for OpenSSH's server configuration
 * (sshd_config(5), OpenSSH 9.2 as shipped by Debian 12) and the "effective
 * settings" model the sshd_config table reports.  No engine here: the table
 * (tables/sshd_config.c) reads files and follows Include; this module turns
 * one buffer into lines and decides which settings win.  Fuzzed by
 * tests/fuzz/fuzz_sshd_config.c.
 *
 * What sshd does, and what is modelled:
 *   - a line is `Keyword args...` or `Keyword=args`; keywords are matched
 *     case-insensitively and reported with their canonical spelling; aliases
 *     (ChallengeResponseAuthentication, HostDSAKey, KeepAlive,
 *     PubkeyAcceptedKeyTypes, ...) are reported under the keyword they set;
 *   - arguments are split as sshd's argv_split() does: blanks separate, "..."
 *     and '...' group, a backslash escapes a quote, a blank or a backslash,
 *     and an unquoted '#' starting an argument ends the line;
 *   - the first value of a keyword wins (sshd ignores later ones), except
 *     for keywords sshd accumulates (Port, ListenAddress, HostKey,
 *     HostCertificate, AcceptEnv, Subsystem, Allow/Deny Users/Groups), which
 *     give one entry per line (a second Subsystem of the same name is
 *     rejected, as sshd does);
 *   - `Match` starts a conditional block that lasts until the next Match or
 *     the end of the file holding it; its settings never replace the global
 *     value, they are entries of their own tagged with the Match criteria
 *     (first one wins within the same criteria);
 *   - deprecated keywords are ignored with a warning, unknown keywords and
 *     global-only keywords inside a Match block are skipped with a warning
 *     (sshd would refuse to start);
 *   - lines longer than MM_SSHD_LINE_MAX or holding NUL bytes are skipped.
 */
#ifndef MM_SSHD_CONFIG_PARSE_H
#define MM_SSHD_CONFIG_PARSE_H

#include <stddef.h>

#define MM_SSHD_LINE_MAX    65536u  /* longest line accepted, in bytes */
#define MM_SSHD_MAX_ENTRIES 100000u /* most entries an effective config holds */
#define MM_SSHD_MAX_DEPTH   16      /* Include nesting sshd allows (SERVCONF_MAX_DEPTH) */

/* Keyword flags. */
#define MM_SSHD_KW_GLOBAL     0x01 /* not allowed inside a Match block */
#define MM_SSHD_KW_MULTI      0x02 /* sshd accumulates: one entry per line */
#define MM_SSHD_KW_DEPRECATED 0x04 /* accepted but ignored by sshd 9.2 */
#define MM_SSHD_KW_INCLUDE    0x08 /* the Include directive */
#define MM_SSHD_KW_MATCH      0x10 /* the Match directive */

struct mm_sshd_kw {
	const char *name;  /* spelling as written in sshd_config(5) */
	const char *canon; /* keyword it sets (itself unless an alias) */
	unsigned flags;    /* MM_SSHD_KW_* */
	const char *dflt;  /* OpenSSH 9.2 default reported when unset, or NULL */
};

/* Looks up a keyword case-insensitively.  Returns NULL when unknown. */
const struct mm_sshd_kw *mm_sshd_keyword(const char *name);

/* One parsed line, handed to the callbacks; everything points into the
 * caller's buffer and is only valid during the call. */
struct mm_sshd_line {
	int line;                    /* 1-based line number */
	const struct mm_sshd_kw *kw; /* the keyword (kw->canon is what to report) */
	const char *args;            /* arguments, each NUL-terminated, back to back */
	size_t nargs;                /* number of arguments (>= 1) */
	const char *match;           /* Match criteria in force, "" when global */
};

struct mm_sshd_cb {
	/* A setting (neither Include nor Match).  Return 0 to go on; another
	 * value stops the parse and is returned by it. */
	int (*setting)(void *arg, const struct mm_sshd_line *l);
	/* An Include line: the caller reads each pattern's files and parses
	 * them with l->match as their starting Match context.  May be NULL. */
	int (*include)(void *arg, const struct mm_sshd_line *l);
	/* A skipped line and why ("unknown keyword 'Foo'").  May be NULL. */
	void (*warn)(void *arg, int line, const char *why);
};

/* Parses one file's contents.  buf holds len bytes followed by a NUL (as
 * mm_read() returns) and is modified in place; it must stay valid while the
 * include callback parses other files.  match is the Match context the file
 * starts in ("" at top level; an included file inherits its includer's).
 * Returns 0 or the first non-zero callback value. */
int mm_sshd_parse(char *buf, size_t len, const char *match, const struct mm_sshd_cb *cb, void *arg);

/* Joins a NUL-separated argument list (args/nargs of a mm_sshd_line) with
 * single blanks into a new malloc'ed string.  Returns NULL on no memory. */
char *mm_sshd_join(const char *args, size_t nargs);

/* ---- the effective configuration --------------------------------------- */

struct mm_sshd_entry {
	const char *keyword; /* canonical keyword */
	char *value;         /* arguments joined by blanks */
	char *file;          /* file it came from, NULL for a default */
	int line;            /* line in that file, 0 for a default */
	char *match;         /* Match criteria, "" when global */
	int is_default;      /* 1 when filled in from OpenSSH's defaults */
};

struct mm_sshd_conf; /* opaque: entries in file order plus a first-wins index */

struct mm_sshd_conf *mm_sshd_conf_new(void);
void mm_sshd_conf_free(struct mm_sshd_conf *c);

/* Records a setting from file (copied).  Returns 1 when kept, 0 when an
 * earlier value wins (sshd ignores this one), MM_ERR_NOMEM, or
 * MM_ERR_TOOBIG past MM_SSHD_MAX_ENTRIES.  *dup is set to 1 when the line
 * was dropped because it repeats a Subsystem name (sshd's fatal error),
 * which the caller reports. */
int mm_sshd_conf_add(struct mm_sshd_conf *c, const struct mm_sshd_line *l, const char *file,
                     int *dup);
/* Adds the OpenSSH 9.2 default of every keyword that has one and is not set
 * globally, flagged is_default.  Returns 0, MM_ERR_NOMEM or MM_ERR_TOOBIG. */
int mm_sshd_conf_add_defaults(struct mm_sshd_conf *c);

size_t mm_sshd_conf_count(const struct mm_sshd_conf *c);
const struct mm_sshd_entry *mm_sshd_conf_get(const struct mm_sshd_conf *c, size_t i);

#endif
