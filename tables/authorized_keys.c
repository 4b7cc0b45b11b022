/*
 * authorized_keys.c - osquery's `authorized_keys` table: the keys in each
 * local account's ~/.ssh/authorized_keys and ~/.ssh/authorized_keys2 (the
 * two files sshd 9.2 reads by default), one row per key, with sshd's option
 * list (quoted values may hold commas and blanks) split off the front.
 * Accounts come from /etc/passwd under the root prefix (ssh_users.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_users.h"
#include "table.h"

enum { C_UID, C_ALGORITHM, C_KEY, C_OPTIONS, C_COMMENT, C_KEY_FILE, C_PID_WITH_NAMESPACE };

static const struct mm_column cols[] = {
    {"uid", MM_BIGINT, MM_COL_INDEX, "Uid of the account whose home holds the file"},
    {"algorithm", MM_TEXT, 0, "Key type, e.g. ssh-ed25519, ecdsa-sha2-nistp256"},
    {"key", MM_TEXT, 0, "The public key, base64 as written"},
    {"options", MM_TEXT, 0,
     "Option list in front of the key (from=, command=, no-pty...), '' if none"},
    {"comment", MM_TEXT, 0, "Text after the key, '' if none"},
    {"key_file", MM_TEXT, MM_COL_INDEX, "Path of the authorized_keys file"},
    {"pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)"},
    {NULL},
};

static const char *const key_files[] = {".ssh/authorized_keys", ".ssh/authorized_keys2"};

static int scan_file(struct mm_ctx *ctx, int64_t uid, const char *path)
{
	struct mm_authkey k;
	const char *why;
	char *data = NULL, *line, *nl;
	size_t len = 0, pos = 0;
	int lineno = 0, r;

	r = mm_read(ctx, path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: %s", path, mm_strerror(r));
		return 0;
	}
	while (pos < len) {
		line = data + pos;
		nl = memchr(line, '\n', len - pos);
		if (nl != NULL)
			*nl = '\0';
		pos = nl != NULL ? (size_t)(nl - data) + 1 : len;
		lineno++;
		if (strlen(line) != (size_t)((nl != NULL ? nl : data + len) - line)) {
			mm_warn(ctx, "%s:%d: NUL byte in line, skipped", path, lineno);
			continue;
		}
		r = mm_authkey_parse(line, &k, &why);
		if (r == 0)
			continue;
		if (r < 0) {
			mm_warn(ctx, "%s:%d: %s, skipped", path, lineno, why);
			continue;
		}
		if ((r = mm_row_begin(ctx)) != 0)
			goto out;
		mm_set_int(ctx, C_UID, uid);
		mm_set_text(ctx, C_ALGORITHM, k.algorithm);
		mm_set_text(ctx, C_KEY, k.key);
		mm_set_text(ctx, C_OPTIONS, k.options);
		mm_set_text(ctx, C_COMMENT, k.comment);
		mm_set_text(ctx, C_KEY_FILE, path);
		mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
		if ((r = mm_row_end(ctx)) != 0)
			goto out;
	}
	r = 0;
out:
	free(data);
	return r;
}

static int on_user(struct mm_ctx *ctx, int64_t uid, const char *home, void *arg)
{
	char path[4096];
	size_t i;
	int k, r;

	(void)arg;
	for (i = 0; i < sizeof(key_files) / sizeof(key_files[0]); i++) {
		k = snprintf(path, sizeof(path), "%s%s%s", home,
		             home[strlen(home) - 1] == '/' ? "" : "/", key_files[i]);
		if (k < 0 || (size_t)k >= sizeof(path) || !mm_eq_allows(ctx, C_KEY_FILE, path))
			continue;
		if ((r = scan_file(ctx, uid, path)) != 0)
			return r;
	}
	return 0;
}

static int gen(struct mm_ctx *ctx)
{
	return mm_ssh_users(ctx, C_UID, on_user, NULL);
}

const struct mm_table mm_table_authorized_keys = {
    .name = "authorized_keys",
    .description = "Public keys allowed to log in as each local account: one row per key in "
                   "~/.ssh/authorized_keys and ~/.ssh/authorized_keys2.",
    .columns = cols,
    .generate = gen,
    .example = "SELECT u.username, k.algorithm, k.options, k.comment FROM users u JOIN "
               "authorized_keys k USING (uid) WHERE k.options NOT LIKE '%from=%';",
    .notes = "Homes come from /etc/passwd under the root prefix; accounts sharing a uid and "
             "home are read once. AuthorizedKeysFile settings other than the default are not "
             "followed. Malformed lines (unknown key type, unterminated quote, key not base64) "
             "are skipped with a warning naming file and line.",
};
