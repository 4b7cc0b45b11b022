/*
 * groups.c - osquery's `groups` table: local groups from /etc/group under
 * the root prefix (parsed by passwd.c).
 *
 * As in osquery (and getgrgid()), the first line with a given gid wins:
 * later lines reusing that gid are not listed.  Like `users`, the file is
 * read directly rather than through NSS.
 */
#include <stdio.h>
#include <stdlib.h>

#include "passwd.h"
#include "table.h"

enum { C_GID, C_GID_SIGNED, C_GROUPNAME, C_PID_WITH_NAMESPACE };

static const struct mm_column cols[] = {
	{ "gid", MM_BIGINT, MM_COL_INDEX, "Group ID (unsigned)" },
	{ "gid_signed", MM_BIGINT, 0, "Group ID as a signed 32-bit value" },
	{ "groupname", MM_TEXT, 0, "Group name" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ NULL },
};

struct scan {
	struct mm_ctx *ctx;
	const char *path;    /* for warnings */
	struct mm_idset seen; /* gids already listed */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct scan *s = arg;

	mm_warn(s->ctx, "%s:%d: %s", s->path, line, why);
}

static int on_group(void *arg, int line, const struct mm_group *gr)
{
	struct scan *s = arg;
	struct mm_ctx *ctx = s->ctx;
	char gid[24];
	int r;

	(void)line;
	if ((r = mm_idset_add(&s->seen, gr->gid)) <= 0)
		return r; /* 0: gid already listed; <0: out of memory */
	if (mm_eq_count(ctx, C_GID) >= 0) {
		snprintf(gid, sizeof(gid), "%lld", (long long)gr->gid);
		if (!mm_eq_allows(ctx, C_GID, gid))
			return 0;
	}
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_int(ctx, C_GID, gr->gid);
	mm_set_int(ctx, C_GID_SIGNED, (int32_t)(uint32_t)gr->gid);
	mm_set_text(ctx, C_GROUPNAME, gr->name);
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	struct scan s = { ctx, "/etc/group", { 0 } };
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
	r = mm_group_parse(data, len, on_group, on_warn, &s);
	mm_idset_free(&s.seen);
	free(data);
	return r;
}

const struct mm_table mm_table_groups = {
	.name = "groups",
	.description = "Local groups, from /etc/group.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT gid, groupname FROM groups WHERE gid < 1000 ORDER BY gid;",
	.notes = "Read from /etc/group under the root prefix, not through NSS. When several "
		 "lines share a gid only the first is listed, as osquery does. Malformed "
		 "lines are skipped with a warning naming file and line.",
};
