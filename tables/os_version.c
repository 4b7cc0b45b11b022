/*
 * os_version.c - osquery's `os_version` table: one row naming the
 * distribution, from os-release(5) under the root prefix (/etc/os-release,
 * else /usr/lib/os-release), parsed by sysparse.c.
 *
 * Like osquery: name = NAME, version = VERSION, build = BUILD_ID, platform =
 * ID, platform_like = ID_LIKE, codename = VERSION_CODENAME (or another
 * *_CODENAME key such as UBUNTU_CODENAME when that one is missing),
 * major/minor/patch = the dot-separated parts of VERSION_ID (0 when absent),
 * and with no os-release at all a row named 'Unknown' on platform 'posix'.
 *
 * One deliberate difference: Debian's os-release carries only the major
 * version ("12"), so osquery reports 12.0 for every point release.  When ID
 * is debian and /etc/debian_version holds a numeric "12.2" with the same
 * major, minor (and patch, for the old three-part releases) come from it:
 * a hygiene audit wants to know which point release a host is on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "sysparse.h"
#include "table.h"

enum { C_NAME, C_VERSION, C_MAJOR, C_MINOR, C_PATCH, C_BUILD, C_PLATFORM, C_PLATFORM_LIKE,
       C_CODENAME, C_ARCH, C_PID_WITH_NAMESPACE, C_MOUNT_NAMESPACE_ID };

static const struct mm_column cols[] = {
	{ "name", MM_TEXT, 0, "Distribution name (os-release NAME)" },
	{ "version", MM_TEXT, 0, "Version for display, e.g. '12 (bookworm)' (os-release VERSION)" },
	{ "major", MM_INTEGER, 0, "Major release number" },
	{ "minor", MM_INTEGER, 0, "Minor release number (Debian: the point release)" },
	{ "patch", MM_INTEGER, 0, "Patch release number, 0 when there is none" },
	{ "build", MM_TEXT, 0, "Build identifier (os-release BUILD_ID), usually NULL" },
	{ "platform", MM_TEXT, 0, "Distribution id, e.g. 'debian' or 'ubuntu' (os-release ID)" },
	{ "platform_like", MM_TEXT, 0, "Related distribution ids (os-release ID_LIKE)" },
	{ "codename", MM_TEXT, 0, "Release code name, e.g. 'bookworm'" },
	{ "arch", MM_TEXT, 0, "Machine architecture as uname -m prints it, e.g. 'x86_64'" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ "mount_namespace_id", MM_TEXT, MM_COL_HIDDEN, "Unused on Mamori (always '')" },
	{ NULL },
};

struct osr {
	struct mm_ctx *ctx;
	const char *path;    /* for warnings */
	const char *name, *version, *version_id, *build, *id, *id_like;
	const char *codename;   /* VERSION_CODENAME */
	const char *x_codename; /* any other *CODENAME key */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct osr *o = arg;

	mm_warn(o->ctx, "%s:%d: %s", o->path, line, why);
}

/* Keeps the value of each key osquery uses; a later assignment wins, as in
 * the shell. */
static int on_kv(void *arg, int line, const char *key, const char *value)
{
	struct osr *o = arg;

	(void)line;
	if (strcmp(key, "NAME") == 0)
		o->name = value;
	else if (strcmp(key, "VERSION") == 0)
		o->version = value;
	else if (strcmp(key, "VERSION_ID") == 0)
		o->version_id = value;
	else if (strcmp(key, "BUILD_ID") == 0)
		o->build = value;
	else if (strcmp(key, "ID") == 0)
		o->id = value;
	else if (strcmp(key, "ID_LIKE") == 0)
		o->id_like = value;
	else if (strcmp(key, "VERSION_CODENAME") == 0)
		o->codename = value;
	else if (strstr(key, "CODENAME") != NULL)
		o->x_codename = value;
	return 0;
}

/* Splits "12.2.1" into up to three numbers (the leading digits of each
 * part; 0 where a part is missing or not numeric).  Returns the number of
 * parts that started with a digit. */
static int split_version(const char *s, int64_t v[3])
{
	int i = 0, good = 0;

	v[0] = v[1] = v[2] = 0;
	while (s != NULL && *s != '\0' && i < 3) {
		if (*s >= '0' && *s <= '9') {
			good++;
			while (*s >= '0' && *s <= '9') {
				if (v[i] < 100000000)
					v[i] = v[i] * 10 + (*s - '0');
				s++;
			}
		}
		while (*s != '\0' && *s != '.')
			s++;
		if (*s == '.')
			s++;
		i++;
	}
	return good;
}

/* Debian's point release from /etc/debian_version ("12.2"), applied only
 * when it is all digits and dots and its major matches os-release's. */
static void debian_point(struct mm_ctx *ctx, int64_t v[3])
{
	char *data = NULL, *s, *p;
	size_t len;
	int64_t d[3];

	if (mm_read(ctx, "/etc/debian_version", 4096, &data, &len) != 0)
		return;
	s = mm_trim(data);
	for (p = s; *p != '\0' && ((*p >= '0' && *p <= '9') || *p == '.'); p++)
		;
	if (*s != '\0' && *p == '\0' && split_version(s, d) >= 2 && d[0] == v[0]) {
		v[1] = d[1];
		v[2] = d[2];
	}
	free(data);
}

static int gen(struct mm_ctx *ctx)
{
	struct osr o = { ctx, "/etc/os-release" };
	char *data = NULL;
	char arch[64];
	size_t len = 0;
	int64_t v[3] = { 0, 0, 0 };
	int r;

	r = mm_read(ctx, o.path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND) {
		o.path = "/usr/lib/os-release";
		r = mm_read(ctx, o.path, MM_READ_CAP, &data, &len);
	}
	if (r == 0)
		mm_osrelease_parse(data, len, on_kv, on_warn, &o);
	else if (r != MM_ERR_NOTFOUND)
		mm_warn(ctx, "%s: %s", o.path, mm_strerror(r));

	split_version(o.version_id, v);
	if (o.id != NULL && strcmp(o.id, "debian") == 0 && o.version_id != NULL)
		debian_point(ctx, v);
	mm_host_arch(ctx, arch, sizeof(arch));

	if ((r = mm_row_begin(ctx)) != 0)
		goto out;
	mm_set_text(ctx, C_NAME, o.name != NULL ? o.name : "Unknown");
	mm_set_text(ctx, C_VERSION, o.version);
	mm_set_int(ctx, C_MAJOR, v[0]);
	mm_set_int(ctx, C_MINOR, v[1]);
	mm_set_int(ctx, C_PATCH, v[2]);
	mm_set_text(ctx, C_BUILD, o.build);
	mm_set_text(ctx, C_PLATFORM, o.id != NULL ? o.id : "posix");
	mm_set_text(ctx, C_PLATFORM_LIKE, o.id_like);
	mm_set_text(ctx, C_CODENAME, o.codename != NULL ? o.codename : o.x_codename);
	mm_set_text(ctx, C_ARCH, arch[0] != '\0' ? arch : NULL);
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	mm_set_text(ctx, C_MOUNT_NAMESPACE_ID, "");
	r = mm_row_end(ctx);
out:
	free(data);
	return r;
}

const struct mm_table mm_table_os_version = {
	.name = "os_version",
	.description = "One row naming the operating system: distribution, version numbers, code "
		       "name and architecture, from os-release.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT name, version, major, minor, codename, arch FROM os_version;",
	.notes = "Read from /etc/os-release (else /usr/lib/os-release) under the root prefix; "
		 "malformed lines are skipped with a warning. major/minor/patch split VERSION_ID. "
		 "Unlike osquery, on Debian the point release is taken from /etc/debian_version "
		 "when it is numeric and agrees with VERSION_ID (os-release says only '12', "
		 "debian_version '12.2'), so minor is 2 rather than 0. arch comes from "
		 "/proc/sys/kernel/arch, else is inferred from /proc/cpuinfo.",
};
