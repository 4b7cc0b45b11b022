/*
 * users.c - osquery's `users` table: local accounts from /etc/passwd under
 * the root prefix (parsed by passwd.c).
 *
 * Unlike osquery, which asks NSS (so LDAP/SSSD accounts may show up on the
 * live host), Mamori reads the passwd file itself: the table shows what is
 * on disk, the same way for the live host and for a mounted image.  Every
 * line is a row, so a second uid 0 account shows up both in a full scan and
 * for `WHERE uid = 0` (osquery's getpwuid() path returns only the first).
 */
#include <stdio.h>
#include <stdlib.h>

#include "passwd.h"
#include "table.h"

enum { C_UID, C_GID, C_UID_SIGNED, C_GID_SIGNED, C_USERNAME, C_DESCRIPTION, C_DIRECTORY,
       C_SHELL, C_UUID, C_PID_WITH_NAMESPACE };

static const struct mm_column cols[] = {
	{ "uid", MM_BIGINT, MM_COL_INDEX, "User ID" },
	{ "gid", MM_BIGINT, 0, "Primary group ID (unsigned)" },
	{ "uid_signed", MM_BIGINT, 0, "User ID as a signed 32-bit value (4294967294 is -2)" },
	{ "gid_signed", MM_BIGINT, 0, "Primary group ID as a signed 32-bit value" },
	{ "username", MM_TEXT, MM_COL_INDEX, "Login name" },
	{ "description", MM_TEXT, 0, "GECOS field (full name, comments), may be empty" },
	{ "directory", MM_TEXT, 0, "Home directory" },
	{ "shell", MM_TEXT, 0, "Login shell; empty means /bin/sh" },
	{ "uuid", MM_TEXT, 0, "Apple UUID or Windows SID: always empty on Linux" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ NULL },
};

struct scan {
	struct mm_ctx *ctx;
	const char *path; /* for warnings */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct scan *s = arg;

	mm_warn(s->ctx, "%s:%d: %s", s->path, line, why);
}

/* Emits one account, unless the query's uid/username equality constraints
 * rule it out (SQLite re-checks anyway; this only saves rows). */
static int on_user(void *arg, int line, const struct mm_passwd *pw)
{
	struct scan *s = arg;
	struct mm_ctx *ctx = s->ctx;
	char uid[24];
	int r;

	(void)line;
	if (mm_eq_count(ctx, C_UID) >= 0) {
		snprintf(uid, sizeof(uid), "%lld", (long long)pw->uid);
		if (!mm_eq_allows(ctx, C_UID, uid))
			return 0;
	}
	if (!mm_eq_allows(ctx, C_USERNAME, pw->name))
		return 0;
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_int(ctx, C_UID, pw->uid);
	mm_set_int(ctx, C_GID, pw->gid);
	mm_set_int(ctx, C_UID_SIGNED, (int32_t)(uint32_t)pw->uid);
	mm_set_int(ctx, C_GID_SIGNED, (int32_t)(uint32_t)pw->gid);
	mm_set_text(ctx, C_USERNAME, pw->name);
	mm_set_text(ctx, C_DESCRIPTION, pw->gecos);
	mm_set_text(ctx, C_DIRECTORY, pw->dir);
	mm_set_text(ctx, C_SHELL, pw->shell);
	mm_set_text(ctx, C_UUID, "");
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	struct scan s = { ctx, "/etc/passwd" };
	char *data = NULL;
	size_t len = 0;
	int r;

	r = mm_read(ctx, s.path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: %s", s.path, mm_strerror(r));
		return 0;
	}
	r = mm_passwd_parse(data, len, on_user, on_warn, &s);
	free(data);
	return r;
}

const struct mm_table mm_table_users = {
	.name = "users",
	.description = "Local user accounts, one row per line of /etc/passwd.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT uid, username, shell FROM users WHERE uid = 0 OR shell LIKE '%sh';",
	.notes = "Read from /etc/passwd under the root prefix, not through NSS: directory "
		 "accounts (LDAP, SSSD) are not listed. Every line is a row, so duplicate uids "
		 "(a second uid 0 account) all appear. Malformed lines are skipped with a "
		 "warning naming file and line.",
};
