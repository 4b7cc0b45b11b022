/*
 * suid_bin.c - osquery's suid_bin: regular files with the set-user-id or
 * set-group-id bit under the directories osquery searches (/bin, /sbin,
 * /usr/bin, /usr/sbin, /usr/local/bin, /usr/local/sbin, /tmp), walked
 * recursively through the root prefix.
 *
 * Symbolic links are never followed: a linked file is not reported (its
 * target is, where it lies), a linked directory is not entered, and a
 * search directory that is itself a link (/bin -> usr/bin on merged-/usr
 * systems) is skipped so each file is reported once, under its real path.
 * The walk is bounded (MAX_DEPTH levels, MAX_ENTRIES entries) and checks the
 * query's time limit.  Owners are named from the root's /etc/passwd and
 * /etc/group (first entry of an id wins, as NSS does); an id with no name
 * is shown as the number, as osquery does.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passwd.h"
#include "table.h"

enum { C_PATH, C_USERNAME, C_GROUPNAME, C_PERMISSIONS, C_PID_WITH_NAMESPACE };

static const struct mm_column cols[] = {
	{ "path", MM_TEXT, 0, "Path of the binary" },
	{ "username", MM_TEXT, 0, "Owner's user name (the uid when it has no name)" },
	{ "groupname", MM_TEXT, 0, "Owning group's name (the gid when it has no name)" },
	{ "permissions", MM_TEXT, 0, "'S' set-user-id, 'G' set-group-id, 'SG' both" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN,
	  "osquery's container namespace pid; always 0 (host files only)" },
	{ NULL },
};

static const char *const search_dirs[] = { "/bin",           "/sbin",           "/usr/bin",
					   "/usr/sbin",      "/usr/local/bin", "/usr/local/sbin",
					   "/tmp" };

#define MAX_DEPTH 16       /* directory levels below a search directory */
#define MAX_ENTRIES 500000 /* directory entries looked at per query */
#define ID_FILE_CAP (4u << 20)

/* id -> name, in file order (first wins on lookup). */
struct idname {
	int64_t id;
	const char *name; /* points into the file buffer */
};

struct names {
	char *buf;          /* file contents the names point into */
	struct idname *v;   /* entries */
	size_t n, alloc;    /* used, allocated */
};

struct walk {
	struct mm_ctx *ctx;
	struct names users, groups;
	size_t entries; /* entries seen (MAX_ENTRIES bound) */
	int stopped;    /* the entry bound was hit and reported */
};

static int add_name(struct names *t, int64_t id, const char *name)
{
	struct idname *nv;

	if (t->n == t->alloc) {
		size_t na = t->alloc ? t->alloc * 2 : 64;
		if ((nv = realloc(t->v, na * sizeof(*nv))) == NULL)
			return MM_ERR_NOMEM;
		t->v = nv;
		t->alloc = na;
	}
	t->v[t->n].id = id;
	t->v[t->n].name = name;
	t->n++;
	return 0;
}

static int on_passwd(void *arg, int line, const struct mm_passwd *pw)
{
	return add_name(arg, pw->uid, pw->name);
}

static int on_group(void *arg, int line, const struct mm_group *gr)
{
	return add_name(arg, gr->gid, gr->name);
}

/* Loads a passwd or group file; a missing or bad file leaves the table
 * empty (ids are then shown as numbers; the users/groups tables warn). */
static int load_names(struct mm_ctx *ctx, const char *path, int group, struct names *t)
{
	size_t len = 0;
	int r;

	r = mm_read(ctx, path, ID_FILE_CAP, &t->buf, &len);
	if (r != 0)
		return r == MM_ERR_NOMEM ? r : 0;
	if (group)
		return mm_group_parse(t->buf, len, on_group, NULL, t);
	return mm_passwd_parse(t->buf, len, on_passwd, NULL, t);
}

static void free_names(struct names *t)
{
	free(t->buf);
	free(t->v);
}

static const char *lookup(const struct names *t, int64_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return t->v[i].name;
	return NULL;
}

static int emit(struct walk *w, const char *path, const struct stat *st)
{
	struct mm_ctx *ctx = w->ctx;
	const char *u = lookup(&w->users, st->st_uid), *g = lookup(&w->groups, st->st_gid);
	int r;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_PATH, path);
	if (u != NULL)
		mm_set_text(ctx, C_USERNAME, u);
	else
		mm_set_textf(ctx, C_USERNAME, "%lu", (unsigned long)st->st_uid);
	if (g != NULL)
		mm_set_text(ctx, C_GROUPNAME, g);
	else
		mm_set_textf(ctx, C_GROUPNAME, "%lu", (unsigned long)st->st_gid);
	mm_set_text(ctx, C_PERMISSIONS,
		    (st->st_mode & S_ISUID) ? ((st->st_mode & S_ISGID) ? "SG" : "S") : "G");
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	return mm_row_end(ctx);
}

/* Walks the open directory fd (host path `path`, of length plen in a
 * buffer of PATH_MAX) and closes it.  Returns 0 or an error that ends the
 * query. */
static int walk_dir(struct walk *w, int fd, char *path, size_t plen, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	size_t nl;
	int r = 0, sub;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++w->entries > MAX_ENTRIES) {
			if (!w->stopped)
				mm_warn(w->ctx, "more than %d directory entries, walk stopped at %s",
					MAX_ENTRIES, path);
			w->stopped = 1;
			break;
		}
		if ((w->entries & 1023) == 0 && (r = mm_check(w->ctx)) != 0)
			break;
		if (de->d_type == DT_LNK || (de->d_type != DT_UNKNOWN && de->d_type != DT_REG &&
					     de->d_type != DT_DIR))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		nl = strlen(de->d_name);
		if (plen + 1 + nl >= PATH_MAX)
			continue;
		path[plen] = '/';
		memcpy(path + plen + 1, de->d_name, nl + 1);
		if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) != 0) {
			r = emit(w, path, &st);
		} else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			sub = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				r = walk_dir(w, sub, path, plen + 1 + nl, depth + 1);
		}
		path[plen] = '\0';
		if (r != 0 || w->stopped)
			break;
	}
	closedir(d);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	struct walk w = { .ctx = ctx };
	char full[4096], path[PATH_MAX];
	struct stat st;
	size_t i;
	int r = 0, fd;

	if (mm_col_used(ctx, C_USERNAME) &&
	    (r = load_names(ctx, "/etc/passwd", 0, &w.users)) != 0)
		goto out;
	if (mm_col_used(ctx, C_GROUPNAME) &&
	    (r = load_names(ctx, "/etc/group", 1, &w.groups)) != 0)
		goto out;
	for (i = 0; i < sizeof(search_dirs) / sizeof(search_dirs[0]) && !w.stopped; i++) {
		if (mm_rpath(ctx, search_dirs[i], full, sizeof(full)) != 0)
			continue;
		if (lstat(full, &st) != 0 || !S_ISDIR(st.st_mode))
			continue; /* missing, or a link such as /bin -> usr/bin */
		fd = open(full, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		snprintf(path, sizeof(path), "%s", search_dirs[i]);
		if ((r = walk_dir(&w, fd, path, strlen(path), 0)) != 0)
			goto out;
	}
	r = 0;
out:
	free_names(&w.users);
	free_names(&w.groups);
	return r;
}

const struct mm_table mm_table_suid_bin = {
	.name = "suid_bin",
	.description = "Set-user-id and set-group-id programs in the usual binary directories "
		       "(/bin, /sbin, /usr/bin, /usr/sbin, /usr/local/bin, /usr/local/sbin) and /tmp, "
		       "with their owners.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT path, username, permissions FROM suid_bin WHERE username = 'root';",
	.notes = "The directories are osquery's; /usr/lib and /usr/libexec (ssh-keysign, "
		 "dbus-daemon-launch-helper) are not searched. Symbolic links are not followed, and "
		 "a search directory that is a link (/bin on merged-/usr systems) is skipped, so each "
		 "file appears once under its real path.",
};
