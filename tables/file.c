/*
 * file.c - osquery's `file` table: metadata of the paths a query names
 * (path =, path LIKE with '%' and a final '%%', directory =), read under the
 * root prefix.  See fswalk.h for the pattern rules and bounds.
 *
 * Under a root other than "/", symbolic links are not followed (a link in an
 * image points into the image, not at this host): such a row describes the
 * link itself.  On the live host, attributes describe the target (stat) and
 * `symlink` says whether the path itself is a link (lstat), as in osquery.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fswalk.h"
#include "table.h"

enum { C_PATH, C_DIRECTORY, C_FILENAME, C_INODE, C_UID, C_GID, C_MODE, C_DEVICE, C_SIZE,
       C_BLOCK_SIZE, C_ATIME, C_MTIME, C_CTIME, C_BTIME, C_HARD_LINKS, C_SYMLINK, C_TYPE,
       C_PID_WITH_NAMESPACE, C_MOUNT_NAMESPACE_ID };

static const struct mm_column cols[] = {
	{ "path", MM_TEXT, MM_COL_REQUIRED | MM_COL_INDEX | MM_COL_LIKE,
	  "Absolute path; '=' or LIKE ('%' one level, final '%%' recursive)" },
	{ "directory", MM_TEXT, MM_COL_REQUIRED | MM_COL_INDEX, "Directory of the file(s)" },
	{ "filename", MM_TEXT, 0, "Name portion of the path" },
	{ "inode", MM_BIGINT, 0, "Filesystem inode number" },
	{ "uid", MM_BIGINT, 0, "Owning user ID" },
	{ "gid", MM_BIGINT, 0, "Owning group ID" },
	{ "mode", MM_TEXT, 0, "Permission bits, four octal digits (e.g. 0644)" },
	{ "device", MM_BIGINT, 0, "Device ID for character and block special files" },
	{ "size", MM_BIGINT, 0, "Size in bytes" },
	{ "block_size", MM_INTEGER, 0, "Block size of the filesystem" },
	{ "atime", MM_BIGINT, 0, "Last access time (UNIX seconds)" },
	{ "mtime", MM_BIGINT, 0, "Last modification time (UNIX seconds)" },
	{ "ctime", MM_BIGINT, 0, "Last status change time (UNIX seconds)" },
	{ "btime", MM_BIGINT, 0, "Birth time (UNIX seconds), 0 when the filesystem has none" },
	{ "hard_links", MM_INTEGER, 0, "Number of hard links" },
	{ "symlink", MM_INTEGER, 0, "1 if the path is a symbolic link, else 0" },
	{ "type", MM_TEXT, 0,
	  "regular, directory, symlink, character, block, fifo, socket or unknown" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ "mount_namespace_id", MM_TEXT, MM_COL_HIDDEN, "Unused on Mamori (always '')" },
	{ NULL },
};

static const char *type_of(mode_t m)
{
	if (S_ISREG(m)) return "regular";
	if (S_ISDIR(m)) return "directory";
	if (S_ISLNK(m)) return "symlink";
	if (S_ISCHR(m)) return "character";
	if (S_ISBLK(m)) return "block";
	if (S_ISFIFO(m)) return "fifo";
	if (S_ISSOCK(m)) return "socket";
	return "unknown";
}

static int one(struct mm_ctx *ctx, const char *path, const char *dir, const char *full, void *arg)
{
	struct stat lst, st;
	struct statx sx;
	const char *slash = strrchr(path, '/');
	int live = strcmp(mm_root(ctx), "/") == 0, r;
	int64_t btime = 0;

	(void)arg;
	if (lstat(full, &lst) != 0)
		return 0; /* vanished since listed */
	st = lst;
	if (live && S_ISLNK(lst.st_mode) && stat(full, &st) != 0)
		st = lst; /* dangling link: describe the link */
	if (mm_col_used(ctx, C_BTIME) &&
	    statx(-1, full, (live ? 0 : AT_SYMLINK_NOFOLLOW), STATX_BTIME, &sx) == 0 &&
	    (sx.stx_mask & STATX_BTIME))
		btime = sx.stx_btime.tv_sec;
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_PATH, path);
	mm_set_text(ctx, C_DIRECTORY, dir);
	mm_set_text(ctx, C_FILENAME, slash != NULL ? slash + 1 : path);
	mm_set_int(ctx, C_INODE, (int64_t)st.st_ino);
	mm_set_int(ctx, C_UID, (int64_t)st.st_uid);
	mm_set_int(ctx, C_GID, (int64_t)st.st_gid);
	mm_set_textf(ctx, C_MODE, "%04o", (unsigned)(st.st_mode & 07777));
	mm_set_int(ctx, C_DEVICE,
		   (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) ? (int64_t)st.st_rdev : 0);
	mm_set_int(ctx, C_SIZE, (int64_t)st.st_size);
	mm_set_int(ctx, C_BLOCK_SIZE, (int64_t)st.st_blksize);
	mm_set_int(ctx, C_ATIME, (int64_t)st.st_atime);
	mm_set_int(ctx, C_MTIME, (int64_t)st.st_mtime);
	mm_set_int(ctx, C_CTIME, (int64_t)st.st_ctime);
	mm_set_int(ctx, C_BTIME, btime);
	mm_set_int(ctx, C_HARD_LINKS, (int64_t)st.st_nlink);
	mm_set_int(ctx, C_SYMLINK, S_ISLNK(lst.st_mode) ? 1 : 0);
	mm_set_text(ctx, C_TYPE, type_of(st.st_mode));
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	mm_set_text(ctx, C_MOUNT_NAMESPACE_ID, "");
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	return mm_fswalk(ctx, C_PATH, C_DIRECTORY, one, NULL);
}

const struct mm_table mm_table_file = {
	.name = "file",
	.description = "Filesystem metadata for the paths a query names. Needs a constraint on "
		       "path ('=' or LIKE) or directory ('=').",
	.columns = cols,
	.generate = gen,
	.example = "SELECT path, mode, uid, gid FROM file WHERE path IN "
		   "('/etc/passwd', '/etc/shadow', '/etc/ssh/sshd_config');",
	.notes = "`path LIKE '/etc/%.conf'` matches one level ('%' never crosses '/'); a final "
		 "`%%` component (`/etc/ssh/%%`) matches everything below, up to 16 levels and "
		 "100,000 paths per query (a warning says when a bound stopped the walk). Under "
		 "`--root`, symbolic links are described, not followed.",
};
