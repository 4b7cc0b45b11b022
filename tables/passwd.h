/*
 * passwd.h - pure parsers for /etc/passwd and /etc/group (passwd(5),
 * group(5)), shared by the users, groups and user_groups tables and fuzzed
 * by tests/fuzz/fuzz_passwd.c.  No engine here: a parser takes a buffer,
 * calls back once per good record and once per bad line with a reason.
 *
 * Rules, close to what glibc's "files" NSS module accepts:
 *   - blank lines and lines starting with '#' are skipped silently;
 *   - a passwd line has exactly 7 ':'-separated fields, a group line 4;
 *   - the name is not empty and does not start with '+' or '-' (NIS compat
 *     entries, which Mamori does not expand);
 *   - uid and gid are plain decimal numbers in 0..4294967295 (uid_t);
 *   - a line longer than the per-file limit below, or holding control
 *     bytes, is rejected whole;
 *   - an empty shell is kept (it means /bin/sh to login(1)), as are empty
 *     GECOS and home fields.
 */
#ifndef MM_PASSWD_H
#define MM_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#define MM_PASSWD_LINE_MAX 4096u /* longest passwd line accepted, in bytes */
#define MM_GROUP_LINE_MAX 65536u /* group lines list members and may be long */
#define MM_ID_MAX 4294967295LL   /* largest uid/gid (32-bit uid_t) */

struct mm_passwd {
	const char *name;   /* login name, never empty */
	const char *passwd; /* password field ("x" when shadowed) */
	int64_t uid;        /* 0..MM_ID_MAX */
	int64_t gid;        /* primary group, 0..MM_ID_MAX */
	const char *gecos;  /* comment / full name, may be "" */
	const char *dir;    /* home directory, may be "" */
	const char *shell;  /* login shell, may be "" */
};

struct mm_group {
	const char *name;    /* group name, never empty */
	const char *passwd;  /* password field */
	int64_t gid;         /* 0..MM_ID_MAX */
	const char *members; /* raw comma-separated member list, may be "" */
};

/* Called for each good record; the strings point into the caller's buffer
 * and stay valid as long as it does.  Return 0 to go on; any other value
 * stops the parse and is returned by it. */
typedef int (*mm_passwd_fn)(void *arg, int line, const struct mm_passwd *pw);
typedef int (*mm_group_fn)(void *arg, int line, const struct mm_group *gr);
/* Called for each rejected line (1-based) with a short reason such as
 * "expected 7 fields, got 3"; why is only valid during the call. */
typedef void (*mm_parse_warn_fn)(void *arg, int line, const char *why);

/* Parses a whole passwd file.  buf holds len bytes followed by a NUL (as
 * mm_read() returns); it is modified in place.  Returns 0 or the first
 * non-zero value returned by fn.  warn may be NULL. */
int mm_passwd_parse(char *buf, size_t len, mm_passwd_fn fn, mm_parse_warn_fn warn, void *arg);
/* Same for a group file. */
int mm_group_parse(char *buf, size_t len, mm_group_fn fn, mm_parse_warn_fn warn, void *arg);

/* Iterates a member list: finds the next non-empty name in *list (names
 * are separated by ','), stores where it starts in *name and its length in
 * *len, advances *list past it and returns 1; returns 0 at the end. */
int mm_group_next_member(const char **list, const char **name, size_t *len);

/* A set of uids or gids (open addressing), for "first record of an id
 * wins" the way NSS lookups behave.  Zero-initialise; free with
 * mm_idset_free(). */
struct mm_idset {
	int64_t *slot; /* cap entries, -1 when empty */
	size_t n;      /* ids stored */
	size_t cap;    /* slots allocated, a power of two (0 before the first add) */
};

/* Adds id (0..MM_ID_MAX).  Returns 1 if it was new, 0 if it was already
 * there, MM_ERR_NOMEM. */
int mm_idset_add(struct mm_idset *s, int64_t id);
void mm_idset_free(struct mm_idset *s);

#endif
