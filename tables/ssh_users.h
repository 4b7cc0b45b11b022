/*
 * ssh_users.h - what the per-user SSH tables (ssh_configs, authorized_keys,
 * user_ssh_keys) share: the walk over local accounts' home directories, and
 * the pure authorized_keys line parser (sshd(8) AUTHORIZED_KEYS FILE FORMAT).
 */
#ifndef MM_SSH_USERS_H
#define MM_SSH_USERS_H

#include <stdint.h>

#include "table.h"

/* Called once per distinct (uid, home directory) of /etc/passwd (read
 * through the root prefix; malformed lines are left to the users table to
 * report).  Accounts whose home is not an absolute path are skipped, and so
 * are uids that the query's equality constraints on column uid_col rule out.
 * Returns 0 to go on, non-zero to stop (returned by mm_ssh_users). */
typedef int (*mm_ssh_user_fn)(struct mm_ctx *ctx, int64_t uid, const char *home, void *arg);

/* Walks the accounts in uid order (then home).  Returns 0, the callback's
 * non-zero value, MM_ERR_NOMEM or MM_ERR_LIMIT. */
int mm_ssh_users(struct mm_ctx *ctx, int uid_col, mm_ssh_user_fn fn, void *arg);

/* One authorized_keys entry; the strings point into the parsed line. */
struct mm_authkey {
	const char *options;   /* raw option list ("" when none) */
	const char *algorithm; /* key type, e.g. "ssh-ed25519" */
	const char *key;       /* base64 blob */
	const char *comment;   /* rest of the line, trimmed ("" when none) */
};

/* Parses one line in place (the line is NUL-terminated, without newline).
 * Options may hold double-quoted values with blanks, commas and \" inside.
 * Returns 1 and fills k for a key, 0 for a blank or comment line, -1 for a
 * malformed line with a short reason in *why (static text). */
int mm_authkey_parse(char *line, struct mm_authkey *k, const char **why);

#endif
