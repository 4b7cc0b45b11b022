/*
 * mounts.c - osquery's `mounts` table: mounted file systems from
 * /proc/mounts under the root prefix (lines parsed by mounts_parse.c).
 *
 * `flags` holds the mount options exactly as the kernel lists them
 * ("rw,nosuid,nodev,noexec,relatime"), so a hardening check is a LIKE:
 *     SELECT path FROM mounts WHERE path = '/tmp' AND flags NOT LIKE '%noexec%';
 *
 * Size columns come from statvfs(2) on the mount point, which only means
 * something on the live host: under any other root prefix they are NULL
 * (unknown), as they are when statvfs fails or for autofs mounts (stat'ing
 * those would trigger the automounter).  statvfs is skipped entirely when
 * the query reads none of those columns.  Values are full 64-bit counts
 * (osquery truncates them to 32 bits).
 *
 * device_alias is the device with symbolic links resolved (realpath) when
 * the device is an absolute path on the live host; otherwise the device.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "mounts_parse.h"
#include "strutil.h"
#include "table.h"

enum { C_DEVICE, C_DEVICE_ALIAS, C_PATH, C_TYPE, C_BLOCKS_SIZE, C_BLOCKS, C_BLOCKS_FREE,
       C_BLOCKS_AVAILABLE, C_INODES, C_INODES_FREE, C_FLAGS };

static const struct mm_column cols[] = {
	{ "device", MM_TEXT, 0, "Mounted device or source ('/dev/vda1', 'tmpfs', 'proc')" },
	{ "device_alias", MM_TEXT, 0,
	  "Device with symlinks resolved (live host, absolute device paths); else the device" },
	{ "path", MM_TEXT, 0, "Mount point (octal escapes such as \\040 decoded)" },
	{ "type", MM_TEXT, 0, "File system type" },
	{ "blocks_size", MM_BIGINT, 0, "Block size in bytes (statvfs f_bsize); NULL off the live host" },
	{ "blocks", MM_BIGINT, 0, "Size of the file system in blocks; NULL off the live host" },
	{ "blocks_free", MM_BIGINT, 0, "Free blocks; NULL off the live host" },
	{ "blocks_available", MM_BIGINT, 0,
	  "Blocks free for unprivileged users; NULL off the live host" },
	{ "inodes", MM_BIGINT, 0, "Total inodes; NULL off the live host" },
	{ "inodes_free", MM_BIGINT, 0, "Free inodes; NULL off the live host" },
	{ "flags", MM_TEXT, 0, "Mount options as the kernel lists them (rw,nosuid,nodev,...)" },
	{ NULL },
};

/* Returns 1 if the query reads any statvfs column. */
static int wants_stats(struct mm_ctx *ctx)
{
	int c;

	for (c = C_BLOCKS_SIZE; c <= C_INODES_FREE; c++)
		if (mm_col_used(ctx, c))
			return 1;
	return 0;
}

static int emit(struct mm_ctx *ctx, const struct mm_mount *m, int live, int stats)
{
	char real[PATH_MAX];
	struct statvfs sv;
	int r;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_DEVICE, m->device);
	if (live && m->device[0] == '/' && mm_col_used(ctx, C_DEVICE_ALIAS) &&
	    realpath(m->device, real) != NULL)
		mm_set_text(ctx, C_DEVICE_ALIAS, real);
	else
		mm_set_text(ctx, C_DEVICE_ALIAS, m->device);
	mm_set_text(ctx, C_PATH, m->path);
	mm_set_text(ctx, C_TYPE, m->type);
	if (live && stats && strcmp(m->type, "autofs") != 0 && statvfs(m->path, &sv) == 0) {
		mm_set_int(ctx, C_BLOCKS_SIZE, (int64_t)sv.f_bsize);
		mm_set_int(ctx, C_BLOCKS, (int64_t)sv.f_blocks);
		mm_set_int(ctx, C_BLOCKS_FREE, (int64_t)sv.f_bfree);
		mm_set_int(ctx, C_BLOCKS_AVAILABLE, (int64_t)sv.f_bavail);
		mm_set_int(ctx, C_INODES, (int64_t)sv.f_files);
		mm_set_int(ctx, C_INODES_FREE, (int64_t)sv.f_ffree);
	}
	mm_set_text(ctx, C_FLAGS, m->options);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	const char *path = "/proc/mounts";
	char *data = NULL, *line;
	size_t len = 0, pos = 0;
	int live = strcmp(mm_root(ctx), "/") == 0, stats = wants_stats(ctx);
	int r, lineno = 0, nf;

	r = mm_read(ctx, path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: %s", path, mm_strerror(r));
		return 0;
	}
	while ((line = mm_next_line(data, len, &pos)) != NULL) {
		struct mm_mount m;

		lineno++;
		if (!mm_is_text(line, strlen(line))) {
			mm_warn(ctx, "%s:%d: control characters in line", path, lineno);
			continue;
		}
		switch (mm_mounts_parse_line(line, &m, &nf)) {
		case 0:
			continue;
		case 1:
			break;
		default:
			mm_warn(ctx, "%s:%d: expected 6 fields, got %d%s", path, lineno, nf,
				nf > 6 ? " or more" : "");
			continue;
		}
		if ((r = emit(ctx, &m, live, stats)) != 0)
			goto out;
		if ((r = mm_check(ctx)) != 0)
			goto out;
	}
	r = 0;
out:
	free(data);
	return r;
}

const struct mm_table mm_table_mounts = {
	.name = "mounts",
	.description = "Mounted file systems, from /proc/mounts: device, mount point, type, "
		       "options and (on the live host) sizes.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT path, flags FROM mounts WHERE path IN ('/tmp', '/dev/shm') "
		   "AND flags NOT LIKE '%noexec%';",
	.notes = "flags holds the mount options string, so `flags LIKE '%nodev%'` tests an "
		 "option. The size columns (blocks_size ... inodes_free) come from statvfs on "
		 "the mount point and are NULL unless the root prefix is \"/\" (also NULL for "
		 "autofs mounts and when statvfs fails). On the live host a hung network "
		 "mount can make statvfs slow; queries that do not read the size columns "
		 "never call it.",
};
