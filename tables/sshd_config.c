/*
 * sshd_config.c - the `sshd_config` table (Mamori's own; osquery has none):
 * the effective OpenSSH server settings, read from /etc/ssh/sshd_config
 * under the root prefix, following Include the way sshd 9.2 does, with the
 * compiled-in defaults of security-relevant keywords filled in.
 *
 * The parsing rules (first value wins, accumulating keywords, Match blocks,
 * aliases) live in sshd_config_parse.c; this file reads the files and
 * resolves Include:
 *   - relative patterns are taken relative to /etc/ssh (as sshd does);
 *   - wildcards ('*', '?', '[') are expanded in the last path component
 *     only, over regular files, in name order (as glob(3) sorts them);
 *     a wildcard in a directory component is reported and skipped;
 *   - a pattern that matches nothing is fine (sshd says nothing either);
 *   - a file that is already being read (an include loop) is skipped with a
 *     warning, and nesting deeper than 16 levels (sshd's own limit) too;
 *   - an included file starts in its includer's Match context, and a Match
 *     inside it ends with the file.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confread.h"
#include "sshd_config_parse.h"
#include "table.h"

enum { C_KEYWORD, C_VALUE, C_SOURCE_FILE, C_LINE, C_MATCH_BLOCK, C_IS_DEFAULT };

static const struct mm_column cols[] = {
    {"keyword", MM_TEXT, MM_COL_INDEX,
     "Keyword, in sshd_config(5)'s spelling (an alias is reported as the keyword it sets)"},
    {"value", MM_TEXT, 0, "Arguments as sshd splits them, joined by single blanks"},
    {"source_file", MM_TEXT, 0, "File the line is in (NULL for a default)"},
    {"line", MM_INTEGER, 0, "Line number in source_file (NULL for a default)"},
    {"match_block", MM_TEXT, 0,
     "Criteria of the Match block the setting is in, '' for a global setting"},
    {"is_default", MM_INTEGER, 0,
     "1 when the keyword is not set and the value is OpenSSH 9.2's default"},
    {NULL},
};

#define SSHD_CONFIG "/etc/ssh/sshd_config"
#define SSHD_DIR    "/etc/ssh"
#define MAX_FILES   256                   /* files read per scan, includes counted */
#define MAX_BYTES   (64u * 1024u * 1024u) /* bytes read per scan */

struct load {
	struct mm_ctx *ctx;
	struct mm_sshd_conf *conf;
	const char *stack[MM_SSHD_MAX_DEPTH + 1]; /* files being read, outermost first */
	int depth;                                /* entries used in stack */
	int files;                                /* files read so far */
	size_t bytes;                             /* bytes read so far */
	int full;                                 /* MM_SSHD_MAX_ENTRIES reached (warned once) */
	struct mm_sshd_cb cb;
};

static const char *cur_file(const struct load *ld)
{
	return ld->stack[ld->depth - 1];
}

static void on_warn(void *arg, int line, const char *why)
{
	struct load *ld = arg;

	mm_warn(ld->ctx, "%s:%d: %s", cur_file(ld), line, why);
}

static int on_setting(void *arg, const struct mm_sshd_line *l)
{
	struct load *ld = arg;
	int dup = 0, r;

	r = mm_sshd_conf_add(ld->conf, l, cur_file(ld), &dup);
	if (r == MM_ERR_TOOBIG) {
		if (!ld->full)
			mm_warn(ld->ctx, "%s:%d: more than %u settings, the rest are ignored",
			        cur_file(ld), l->line, MM_SSHD_MAX_ENTRIES);
		ld->full = 1;
		return 0;
	}
	if (r < 0)
		return r;
	if (dup)
		mm_warn(ld->ctx, "%s:%d: Subsystem '%.64s' is already defined, skipped",
		        cur_file(ld), l->line, l->args);
	return 0;
}

/* Reads and parses host file path with the given starting Match context.
 * Returns 0, MM_ERR_NOTFOUND (no such file, nothing said), or a fatal
 * error (no memory, limits). */
static int load_file(struct load *ld, const char *path, const char *match)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	if (++ld->files > MAX_FILES) {
		mm_warn(ld->ctx, "%s: more than %d files included, skipped", path, MAX_FILES);
		return 0;
	}
	r = mm_read(ld->ctx, path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return r;
	if (r != 0) {
		mm_warn(ld->ctx, "%s: %s", path, mm_strerror(r));
		return 0;
	}
	if (ld->bytes + len > MAX_BYTES) {
		mm_warn(ld->ctx, "%s: more than %u bytes of configuration, skipped", path,
		        MAX_BYTES);
		free(data);
		return 0;
	}
	ld->bytes += len;
	ld->stack[ld->depth++] = path;
	r = mm_sshd_parse(data, len, match, &ld->cb, ld);
	ld->depth--;
	free(data);
	return r;
}

/* Includes one file named by an Include line l of the current file. */
static int include_one(struct load *ld, const struct mm_sshd_line *l, const char *path)
{
	int i, r;

	if ((r = mm_check(ld->ctx)) != 0)
		return r;
	for (i = 0; i < ld->depth; i++) {
		if (strcmp(ld->stack[i], path) == 0) {
			mm_warn(ld->ctx, "%s:%d: Include loop: %s is already being read, skipped",
			        cur_file(ld), l->line, path);
			return 0;
		}
	}
	if (ld->depth >= MM_SSHD_MAX_DEPTH + 1) {
		mm_warn(ld->ctx, "%s:%d: Include nested more than %d levels deep, skipped %s",
		        cur_file(ld), l->line, MM_SSHD_MAX_DEPTH, path);
		return 0;
	}
	r = load_file(ld, path, l->match);
	return r == MM_ERR_NOTFOUND ? 0 : r;
}

static int has_wild(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return 1;
	return 0;
}

/* Expands one Include pattern (see the file comment) and includes the files. */
static int include_pattern(struct load *ld, const struct mm_sshd_line *l, const char *pat)
{
	char path[4096], file[4096 + 256];
	char **names = NULL;
	size_t n = 0, i;
	const char *base;
	int k, r = 0;

	k = pat[0] == '/' ? snprintf(path, sizeof(path), "%s", pat)
	                  : snprintf(path, sizeof(path), "%s/%s", SSHD_DIR, pat);
	if (k < 0 || (size_t)k >= sizeof(path)) {
		mm_warn(ld->ctx, "%s:%d: Include path too long, skipped", cur_file(ld), l->line);
		return 0;
	}
	base = strrchr(path, '/') + 1;
	if (has_wild(path, (size_t)(base - path))) {
		mm_warn(ld->ctx, "%s:%d: Include wildcard in a directory name is not supported: %s",
		        cur_file(ld), l->line, path);
		return 0;
	}
	if (!has_wild(base, strlen(base)))
		return include_one(ld, l, path);
	path[base - path - 1] = '\0'; /* path is now the directory */
	r = mm_conf_list_dir(ld->ctx, path[0] != '\0' ? path : "/", NULL, &names, &n);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ld->ctx, "%s:%d: Include %s: %s", cur_file(ld), l->line, path,
		        mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	for (i = 0; i < n && r == 0; i++) {
		if (fnmatch(base, names[i], 0) != 0)
			continue;
		k = snprintf(file, sizeof(file), "%s/%s", path, names[i]);
		if (k < 0 || (size_t)k >= sizeof(file))
			continue;
		r = include_one(ld, l, file);
	}
	mm_conf_names_free(names, n);
	return r;
}

static int on_include(void *arg, const struct mm_sshd_line *l)
{
	struct load *ld = arg;
	const char *a = l->args;
	size_t i;
	int r;

	for (i = 0; i < l->nargs; i++, a += strlen(a) + 1)
		if ((r = include_pattern(ld, l, a)) != 0)
			return r;
	return 0;
}

static int gen(struct mm_ctx *ctx)
{
	struct load ld = {.ctx = ctx};
	const struct mm_sshd_entry *e;
	size_t i;
	int r;

	ld.cb.setting = on_setting;
	ld.cb.include = on_include;
	ld.cb.warn = on_warn;
	if ((ld.conf = mm_sshd_conf_new()) == NULL)
		return MM_ERR_NOMEM;
	r = load_file(&ld, SSHD_CONFIG, "");
	if (r == MM_ERR_NOTFOUND) {
		r = 0; /* no OpenSSH server here: no rows */
		goto out;
	}
	if (r != 0 || (r = mm_sshd_conf_add_defaults(ld.conf)) != 0)
		goto out;
	for (i = 0; i < mm_sshd_conf_count(ld.conf); i++) {
		e = mm_sshd_conf_get(ld.conf, i);
		if (!mm_eq_allows(ctx, C_KEYWORD, e->keyword))
			continue;
		if ((r = mm_row_begin(ctx)) != 0)
			goto out;
		mm_set_text(ctx, C_KEYWORD, e->keyword);
		mm_set_text(ctx, C_VALUE, e->value);
		mm_set_text(ctx, C_SOURCE_FILE, e->file);
		if (!e->is_default)
			mm_set_int(ctx, C_LINE, e->line);
		mm_set_text(ctx, C_MATCH_BLOCK, e->match);
		mm_set_int(ctx, C_IS_DEFAULT, e->is_default);
		if ((r = mm_row_end(ctx)) != 0)
			goto out;
	}
	r = 0;
out:
	if (r == MM_ERR_NOMEM)
		mm_error(ctx, "sshd_config: out of memory");
	mm_sshd_conf_free(ld.conf);
	return r;
}

const struct mm_table mm_table_sshd_config = {
    .name = "sshd_config",
    .description =
        "Effective OpenSSH server settings: one row per keyword of /etc/ssh/sshd_config "
        "and the files it Includes, with the first value winning as in sshd, one row per "
        "line for keywords sshd accumulates (Port, ListenAddress, HostKey, AcceptEnv, "
        "Subsystem, AllowUsers, ...), Match blocks as separate rows, and OpenSSH 9.2's "
        "defaults for security-relevant keywords that are not set.",
    .columns = cols,
    .generate = gen,
    .example = "SELECT keyword, value, is_default FROM sshd_config WHERE match_block = '' AND "
               "keyword IN ('PermitRootLogin', 'PasswordAuthentication', "
               "'PermitEmptyPasswords');",
    .notes = "Mamori's own table (osquery has none). Settings inside a Match block never "
             "replace the global row: they are rows of their own with match_block set. "
             "Unknown keywords, global-only keywords inside Match, lines over 64 KiB, "
             "include loops and deprecated keywords are reported as warnings with file and "
             "line. Defaults are the compiled-in ones of OpenSSH 9.2 on Debian 12 (so "
             "UsePAM and X11Forwarding default to no; Debian's shipped file sets them).",
};
