/*
 * login_defs.c - login_defs (Mamori's; osquery has no such table): the
 * settings of /etc/login.defs (login.defs(5)), the shadow suite's defaults
 * for password aging (PASS_MAX_DAYS), UID ranges, UMASK, ENCRYPT_METHOD...
 *
 * Lines are read as the shadow suite's getdef.c reads them: blank lines and
 * lines starting with '#' are skipped; a line is a KEY, white space, and a
 * value; leading double quotes of the value are dropped and it ends at the
 * next double quote.  A key with no value (ignored by the shadow suite) or
 * a key with characters other than letters, digits and '_' is skipped with
 * a warning.  A key given twice gives two rows (the last one wins for the
 * shadow suite).
 */
#include <stdlib.h>
#include <string.h>

#include "confread.h"
#include "strutil.h"
#include "table.h"

enum { C_KEY, C_VALUE };

static const struct mm_column cols[] = {
	{ "key", MM_TEXT, MM_COL_INDEX, "Setting name, e.g. PASS_MAX_DAYS" },
	{ "value", MM_TEXT, 0, "Setting value as written, without quotes" },
	{ NULL },
};

#define LOGIN_DEFS "/etc/login.defs"

static int is_key(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return n > 0;
}

static int do_line(struct mm_ctx *ctx, int lineno, char *line, size_t n)
{
	char *key, *val;
	size_t kl;
	int r;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (strlen(line) != n || !mm_is_text(line, n)) {
		mm_warn(ctx, "%s:%d: control characters in line", LOGIN_DEFS, lineno);
		return 0;
	}
	key = mm_trim(line);
	if (key[0] == '\0' || key[0] == '#')
		return 0;
	kl = strcspn(key, " \t");
	if (key[kl] == '\0') {
		mm_warn(ctx, "%s:%d: setting without a value", LOGIN_DEFS, lineno);
		return 0;
	}
	if (!is_key(key, kl)) {
		mm_warn(ctx, "%s:%d: bad setting name", LOGIN_DEFS, lineno);
		return 0;
	}
	key[kl] = '\0';
	val = key + kl + 1;
	val += strspn(val, " \t\"");
	val[strcspn(val, "\"")] = '\0';
	if (!mm_eq_allows(ctx, C_KEY, key))
		return 0;
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_KEY, key);
	mm_set_text(ctx, C_VALUE, val);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	char *data = NULL, *line;
	size_t len = 0, pos = 0, n;
	int r, lineno = 0;

	r = mm_read(ctx, LOGIN_DEFS, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: cannot read: %s", LOGIN_DEFS, mm_strerror(r));
		return 0;
	}
	while ((line = mm_conf_line(data, len, &pos, &n)) != NULL)
		if ((r = do_line(ctx, ++lineno, line, n)) != 0)
			goto out;
	r = 0;
out:
	free(data);
	return r;
}

const struct mm_table mm_table_login_defs = {
	.name = "login_defs",
	.description = "Settings of /etc/login.defs: the shadow suite's defaults for password "
		       "aging, user and group id ranges, UMASK, password hashing and more.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT key, value FROM login_defs "
		   "WHERE key IN ('PASS_MAX_DAYS', 'PASS_MIN_DAYS', 'ENCRYPT_METHOD', 'UMASK');",
	.notes = "Mamori's own table (osquery has none). Values are text as written; compare "
		 "numbers with CAST(value AS INTEGER).",
};
