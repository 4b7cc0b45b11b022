/*
 * ssh_configs.c - osquery's `ssh_configs` table: the OpenSSH client
 * settings of /etc/ssh/ssh_config (uid 0) and of each local account's
 * ~/.ssh/config, one row per option line, tagged with the Host or Match
 * block it sits in.  As osquery does, lines are trimmed and lower-cased
 * (block and option alike) and comments and blank lines are skipped; lines
 * before the first Host/Match have block ''.  Include lines are reported as
 * options, not followed (osquery does the same).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_users.h"
#include "strutil.h"
#include "table.h"

enum { C_UID, C_BLOCK, C_OPTION, C_SSH_CONFIG_FILE };

static const struct mm_column cols[] = {
    {"uid", MM_BIGINT, MM_COL_INDEX, "Owner of the file: the account's uid, 0 for the system file"},
    {"block", MM_TEXT, 0,
     "The Host or Match line the option is under (lower-cased), '' before any"},
    {"option", MM_TEXT, MM_COL_INDEX, "The option line, trimmed and lower-cased"},
    {"ssh_config_file", MM_TEXT, MM_COL_INDEX, "Path of the ssh_config file"},
    {NULL},
};

#define LINE_MAX_BYTES 65536u /* longer lines are skipped with a warning */

/* 1 if line (lower-cased) starts with keyword kw followed by a blank or '='. */
static int starts_block(const char *line, const char *kw)
{
	size_t n = strlen(kw);

	return strncmp(line, kw, n) == 0 && (line[n] == ' ' || line[n] == '\t' || line[n] == '=');
}

static int scan_file(struct mm_ctx *ctx, int64_t uid, const char *path)
{
	char *data = NULL, *line, *nl, *block = "", *p;
	size_t len = 0, pos = 0, n;
	int lineno = 0, r;

	if (!mm_eq_allows(ctx, C_SSH_CONFIG_FILE, path))
		return 0;
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
		n = nl != NULL ? (size_t)(nl - line) : len - pos;
		line[n] = '\0';
		pos += n + 1;
		lineno++;
		if (n > LINE_MAX_BYTES) {
			mm_warn(ctx, "%s:%d: line longer than %u bytes, skipped", path, lineno,
			        LINE_MAX_BYTES);
			continue;
		}
		if (strlen(line) != n) {
			mm_warn(ctx, "%s:%d: NUL byte in line, skipped", path, lineno);
			continue;
		}
		for (p = line; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		line = mm_trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (starts_block(line, "host") || starts_block(line, "match")) {
			block = line;
			continue;
		}
		if (!mm_eq_allows(ctx, C_OPTION, line))
			continue;
		if ((r = mm_row_begin(ctx)) != 0)
			goto out;
		mm_set_int(ctx, C_UID, uid);
		mm_set_text(ctx, C_BLOCK, block);
		mm_set_text(ctx, C_OPTION, line);
		mm_set_text(ctx, C_SSH_CONFIG_FILE, path);
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
	int k;

	(void)arg;
	k = snprintf(path, sizeof(path), "%s%s.ssh/config", home,
	             home[strlen(home) - 1] == '/' ? "" : "/");
	if (k < 0 || (size_t)k >= sizeof(path))
		return 0;
	return scan_file(ctx, uid, path);
}

static int gen(struct mm_ctx *ctx)
{
	int r;

	if ((r = mm_ssh_users(ctx, C_UID, on_user, NULL)) != 0)
		return r;
	if (!mm_eq_allows(ctx, C_UID, "0"))
		return 0;
	return scan_file(ctx, 0, "/etc/ssh/ssh_config");
}

const struct mm_table mm_table_ssh_configs = {
    .name = "ssh_configs",
    .description = "OpenSSH client settings, one row per option line of /etc/ssh/ssh_config "
                   "(uid 0) and of each account's ~/.ssh/config, with the Host or Match block "
                   "it belongs to.",
    .columns = cols,
    .generate = gen,
    .example = "SELECT uid, block, option, ssh_config_file FROM ssh_configs WHERE option LIKE "
               "'stricthostkeychecking%' OR option LIKE 'forwardagent yes';",
    .notes = "As in osquery, lines are lower-cased and trimmed, so compare in lower case. "
             "Include lines are listed but not followed. Homes come from /etc/passwd under the "
             "root prefix; accounts sharing a uid and home are read once.",
};
