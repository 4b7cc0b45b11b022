/*
 * shadow.c - osquery's shadow: password state and aging of the local
 * accounts from /etc/shadow (shadow(5)), read through the root prefix.
 *
 * The password hash itself never leaves this file: not in a column, not in
 * a warning, and the buffer that held the file is wiped before it is freed.
 * What is shown is derived from the password field:
 *
 *   field            password_status  hash_alg
 *   ""               empty            NULL   anyone may log in without a password
 *   "!!"             not_set          NULL   (Red Hat) a password was never set
 *   "!" "!*" "!..."  locked           algorithm of what follows the '!'s, if a hash
 *   "*" "*..."       locked           NULL   no password login (system accounts)
 *   "$id$..."        active           from the id, below ("unknown" + a warning)
 *   13 chars [./0-9A-Za-z]  active    des
 *   "_" + 19 chars   active           bsdi-des
 *   anything else    locked           NULL   no crypt() output can equal it
 *
 *   $id$  1 md5, 2a/2b/2x/2y bcrypt, 3 nthash, 5 sha256, 6 sha512, 7 scrypt,
 *         y yescrypt, gy gost-yescrypt, sha1 sha1, md5 sunmd5
 *
 * Numeric aging fields are -1 when empty, as osquery (getspent()) reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confread.h"
#include "strutil.h"
#include "table.h"

enum { C_PASSWORD_STATUS, C_HASH_ALG, C_LAST_CHANGE, C_MIN, C_MAX, C_WARNING, C_INACTIVE,
       C_EXPIRE, C_FLAG, C_USERNAME };

static const struct mm_column cols[] = {
	{ "password_status", MM_TEXT, 0, "Password state: active, empty, locked or not_set" },
	{ "hash_alg", MM_TEXT, 0,
	  "Hash algorithm of the stored (or locked) password: yescrypt, sha512, sha256, md5, "
	  "bcrypt, ...; NULL when there is no hash" },
	{ "last_change", MM_BIGINT, 0, "Day of the last password change, in days since 1970-01-01 "
				       "(0: change forced at next login; -1: unset)" },
	{ "min", MM_BIGINT, 0, "Minimum days between password changes (-1: unset)" },
	{ "max", MM_BIGINT, 0, "Maximum days a password stays valid (-1: unset)" },
	{ "warning", MM_BIGINT, 0, "Days of warning before the password expires (-1: unset)" },
	{ "inactive", MM_BIGINT, 0,
	  "Days after expiry during which the old password is still accepted (-1: unset)" },
	{ "expire", MM_BIGINT, 0, "Day the account expires, in days since 1970-01-01 (-1: never)" },
	{ "flag", MM_BIGINT, 0, "Reserved field (-1 when empty)" },
	{ "username", MM_TEXT, MM_COL_INDEX, "Login name" },
	{ NULL },
};

#define SHADOW "/etc/shadow"
#define NFIELDS 9

/* Hash ids of the "$id$" form and their names (see the table above). */
static const struct {
	const char *id, *name;
} algs[] = {
	{ "1", "md5" },     { "2a", "bcrypt" }, { "2b", "bcrypt" },  { "2x", "bcrypt" },
	{ "2y", "bcrypt" }, { "3", "nthash" },  { "5", "sha256" },   { "6", "sha512" },
	{ "7", "scrypt" },  { "y", "yescrypt" }, { "gy", "gost-yescrypt" }, { "sha1", "sha1" },
	{ "md5", "sunmd5" },
};

static int is_b64(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '/';
}

static int all_b64(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_b64(s[i]))
			return 0;
	return 1;
}

/* Names the algorithm of hash h.  Returns a static name, "unknown" for a
 * "$id$" hash with an id not in the table (the id, when it is short and
 * plain, is copied to idout for the warning; it is not secret), or NULL
 * when h is not a hash at all. */
static const char *hash_name(const char *h, char *idout, size_t idsz)
{
	size_t n = strlen(h), k, i;

	idout[0] = '\0';
	if (h[0] == '$') {
		/* The id runs to the next '$' or ',' (SunMD5's "$md5,rounds=N$"). */
		k = strcspn(h + 1, "$,");
		if (h[1 + k] == '\0')
			return NULL; /* "$abc" with no closing '$' is no crypt() format */
		for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
			if (strlen(algs[i].id) == k && memcmp(algs[i].id, h + 1, k) == 0)
				return algs[i].name;
		if (k > 0 && k < idsz && k <= 8) {
			for (i = 0; i < k; i++) {
				char c = h[1 + i];
				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
					break;
			}
			if (i == k) {
				memcpy(idout, h + 1, k);
				idout[k] = '\0';
			}
		}
		return "unknown";
	}
	if (n == 13 && all_b64(h, n))
		return "des";
	if (n == 20 && h[0] == '_' && all_b64(h + 1, n - 1))
		return "bsdi-des";
	return NULL;
}

/* Parses an aging field: "" is -1, else a decimal number (glibc accepts a
 * sign).  Returns 0 or -1. */
static int parse_days(const char *s, int64_t *out)
{
	if (s[0] == '\0') {
		*out = -1;
		return 0;
	}
	return mm_parse_i64(s, out) == 0 ? 0 : -1;
}

static const char *const field_names[NFIELDS] = { "name",     "password", "last_change",
						  "min",      "max",      "warning",
						  "inactive", "expire",   "flag" };

/* Emits the row of one shadow line, or warns and skips it.  line is
 * modified (split in place). */
static int do_line(struct mm_ctx *ctx, int lineno, char *line, size_t n)
{
	char *f[NFIELDS + 1], id[16];
	const char *pw, *status, *alg;
	int64_t v[NFIELDS];
	int nf, i, r;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (strlen(line) != n || !mm_is_text(line, n)) {
		mm_warn(ctx, "%s:%d: control characters in line", SHADOW, lineno);
		return 0;
	}
	if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
		return 0;
	nf = mm_split_char(line, ':', f, NFIELDS + 1);
	if (nf != NFIELDS) {
		mm_warn(ctx, "%s:%d: expected %d fields, got %d%s", SHADOW, lineno, NFIELDS,
			nf, nf > NFIELDS ? " or more" : "");
		return 0;
	}
	if (f[0][0] == '\0') {
		mm_warn(ctx, "%s:%d: empty user name", SHADOW, lineno);
		return 0;
	}
	for (i = 2; i < NFIELDS; i++) {
		if (parse_days(f[i], &v[i]) != 0) {
			mm_warn(ctx, "%s:%d: user %s: %s field is not a number", SHADOW, lineno,
				f[0], field_names[i]);
			return 0;
		}
	}
	if (!mm_eq_allows(ctx, C_USERNAME, f[0]))
		return 0;

	pw = f[1];
	alg = NULL;
	if (pw[0] == '\0') {
		status = "empty";
	} else if (strcmp(pw, "!!") == 0) {
		status = "not_set";
	} else if (pw[0] == '!') {
		status = "locked";
		alg = hash_name(pw + strspn(pw, "!"), id, sizeof(id));
	} else if (pw[0] == '*') {
		status = "locked";
	} else if ((alg = hash_name(pw, id, sizeof(id))) != NULL) {
		status = "active";
	} else {
		status = "locked";
	}
	if (alg != NULL && strcmp(alg, "unknown") == 0) {
		if (id[0] != '\0')
			mm_warn(ctx, "%s:%d: user %s: unknown password hash id '$%s$'", SHADOW,
				lineno, f[0], id);
		else
			mm_warn(ctx, "%s:%d: user %s: unknown password hash id", SHADOW, lineno,
				f[0]);
	}

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_PASSWORD_STATUS, status);
	mm_set_text(ctx, C_HASH_ALG, alg);
	for (i = 2; i < NFIELDS; i++)
		mm_set_int(ctx, C_LAST_CHANGE + (i - 2), v[i]);
	mm_set_text(ctx, C_USERNAME, f[0]);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	char *data = NULL, *line;
	size_t len = 0, pos = 0, n;
	int r, lineno = 0;

	r = mm_read(ctx, SHADOW, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: cannot read: %s", SHADOW, mm_strerror(r));
		return 0;
	}
	while ((line = mm_conf_line(data, len, &pos, &n)) != NULL) {
		if ((r = do_line(ctx, ++lineno, line, n)) != 0)
			goto out;
	}
	r = 0;
out:
	mm_conf_wipe(data, len);
	free(data);
	return r;
}

const struct mm_table mm_table_shadow = {
	.name = "shadow",
	.description = "Password state and password aging of local accounts, from /etc/shadow. "
		       "The password hashes themselves are never shown: only whether a password is "
		       "set, empty or locked, and which algorithm hashed it.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT username, password_status, hash_alg, max FROM shadow "
		   "WHERE password_status IN ('active', 'empty');",
	.notes = "password_status: 'empty' (no password needed), 'not_set' (\"!!\"), 'locked' "
		 "(\"!\" or \"*\" prefix, or a field no password can match), 'active' (a hash). "
		 "hash_alg names the $id$ prefix (y yescrypt, 6 sha512, 5 sha256, 1 md5, 2b bcrypt, "
		 "gy gost-yescrypt, 7 scrypt; DES hashes are 'des'); a locked account keeps the "
		 "algorithm of the hash behind its '!'. osquery shows the raw id instead ('6'). "
		 "Reading /etc/shadow needs root.",
};
