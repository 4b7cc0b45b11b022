/*
 * utmpfile.c - utmp/wtmp record parser; see utmpfile.h.  Records are copied into
 * glibc's own struct utmp, so the layout is exactly the one the C library
 * (and login, sshd, systemd) writes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utmp.h>

#include "table.h"
#include "utmpfile.h"

#define CHUNK_RECORDS 256 /* records read per fread() in mm_utmp_scan */

_Static_assert(sizeof(struct utmp) == MM_UTMP_RECORD, "struct utmp is not 384 bytes");

/* Copies a fixed-size, maybe unterminated text field into out (outsz >
 * n), replacing control bytes so a corrupt record cannot inject them into
 * output. */
static void copy_field(char *out, size_t outsz, const char *in, size_t n)
{
	size_t i, k = strnlen(in, n);

	if (k >= outsz)
		k = outsz - 1;
	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[k] = '\0';
}

int mm_utmp_parse(const void *buf, size_t len, mm_utmp_fn fn, void *arg, size_t *trailing)
{
	const unsigned char *p = buf;
	struct mm_utmp u;
	struct utmp raw;
	size_t i, n = len / MM_UTMP_RECORD;
	int r;

	if (trailing != NULL)
		*trailing = len % MM_UTMP_RECORD;
	for (i = 0; i < n; i++) {
		memcpy(&raw, p + i * MM_UTMP_RECORD, sizeof(raw));
		memset(&u, 0, sizeof(u));
		u.type = raw.ut_type;
		u.pid = raw.ut_pid;
		copy_field(u.line, sizeof(u.line), raw.ut_line, sizeof(raw.ut_line));
		copy_field(u.id, sizeof(u.id), raw.ut_id, sizeof(raw.ut_id));
		copy_field(u.user, sizeof(u.user), raw.ut_user, sizeof(raw.ut_user));
		copy_field(u.host, sizeof(u.host), raw.ut_host, sizeof(raw.ut_host));
		u.time = (int64_t)(uint32_t)raw.ut_tv.tv_sec;
		u.usec = (int64_t)raw.ut_tv.tv_usec;
		if ((r = fn(arg, i, &u)) != 0)
			return r;
	}
	return 0;
}

/* State carried across chunks so that fn sees a running record index. */
struct scan {
	mm_utmp_fn fn;
	void *arg;
	size_t base; /* index of the first record of the current chunk */
};

static int scan_cb(void *arg, size_t index, const struct mm_utmp *u)
{
	struct scan *s = arg;

	return s->fn(s->arg, s->base + index, u);
}

int mm_utmp_scan(struct mm_ctx *ctx, const char *path, mm_utmp_fn fn, void *arg)
{
	const size_t chunksz = CHUNK_RECORDS * MM_UTMP_RECORD;
	unsigned char *chunk = NULL;
	struct scan s = { fn, arg, 0 };
	char full[4096];
	size_t got, trailing = 0, total = 0;
	FILE *f = NULL;
	int r = MM_ERR_INTERNAL;

	if (mm_rpath(ctx, path, full, sizeof(full)) != 0)
		return MM_ERR_TOOBIG;
	if ((f = fopen(full, "rb")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return MM_ERR_NOTFOUND;
		mm_warn(ctx, "%s: cannot open: %s", path, strerror(errno));
		return MM_ERR_IO;
	}
	if ((chunk = malloc(chunksz)) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		/* fread() fills the chunk unless the file ends (or fails). */
		got = fread(chunk, 1, chunksz, f);
		total += got;
		if ((r = mm_utmp_parse(chunk, got, scan_cb, &s, &trailing)) != 0)
			goto out;
		s.base += got / MM_UTMP_RECORD;
		if (got < chunksz)
			break;
		if ((r = mm_check(ctx)) != 0)
			goto out;
	}
	if (ferror(f)) {
		mm_warn(ctx, "%s: read error", path);
		r = MM_ERR_IO;
		goto out;
	}
	if (trailing != 0)
		mm_warn(ctx,
			"%s: %llu bytes is not a whole number of %u-byte records; "
			"skipped the last %llu bytes",
			path, (unsigned long long)total, MM_UTMP_RECORD,
			(unsigned long long)trailing);
	r = 0;
out:
	free(chunk);
	fclose(f);
	return r;
}

/* ut_type -> names.  short: osquery's logged_in_users.type; long: osquery's
 * last.type_name.
 *   0 EMPTY          empty        empty
 *   1 RUN_LVL        runlevel     run-level
 *   2 BOOT_TIME      boot_time    boot-time
 *   3 NEW_TIME       new_time     new-time
 *   4 OLD_TIME       old_time     old-time
 *   5 INIT_PROCESS   init         init-process
 *   6 LOGIN_PROCESS  login        login-process
 *   7 USER_PROCESS   user         user-process
 *   8 DEAD_PROCESS   dead         dead-process
 *   9 ACCOUNTING     accounting   (none)
 */
static const char *const short_names[] = { "empty",    "runlevel", "boot_time", "new_time",
					   "old_time", "init",     "login",     "user",
					   "dead",     "accounting" };
static const char *const long_names[] = { "empty",        "run-level",     "boot-time",
					  "new-time",     "old-time",      "init-process",
					  "login-process", "user-process", "dead-process" };

const char *mm_utmp_type_short(int type)
{
	if (type < 0 || (size_t)type >= sizeof(short_names) / sizeof(short_names[0]))
		return "unknown";
	return short_names[type];
}

const char *mm_utmp_type_long(int type)
{
	if (type < 0 || (size_t)type >= sizeof(long_names) / sizeof(long_names[0]))
		return "";
	return long_names[type];
}
