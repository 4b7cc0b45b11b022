/*
 * logged_in_users.c - osquery's logged_in_users: the records of the utmp
 * file (/run/utmp, or /var/run/utmp on older layouts), read as glibc's
 * struct utmp records through the root prefix (see utmpfile.h) rather than with
 * getutxent(), which only knows the live host.
 *
 * As osquery does, every record is shown except those of pid 1, with the
 * record type as a word (see the table in utmpfile.c); the interesting rows are
 * type = 'user'.
 */
#include "table.h"
#include "utmpfile.h"

enum { C_TYPE, C_USER, C_TTY, C_HOST, C_TIME, C_PID };

static const struct mm_column cols[] = {
	{ "type", MM_TEXT, 0,
	  "Record type: user, login, dead, init, boot_time, runlevel, new_time, old_time, "
	  "accounting, empty or unknown" },
	{ "user", MM_TEXT, 0, "User login name" },
	{ "tty", MM_TEXT, 0, "Terminal line, without /dev/ (pts/0, tty1)" },
	{ "host", MM_TEXT, 0, "Remote host name or address for a network login, else empty" },
	{ "time", MM_BIGINT, 0, "UNIX time in seconds when the record was written" },
	{ "pid", MM_INTEGER, 0, "Process id of the login session" },
	{ NULL },
};

static int on_record(void *arg, size_t index, const struct mm_utmp *u)
{
	struct mm_ctx *ctx = arg;
	int r;

	if (u->pid == 1)
		return 0;
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_TYPE, mm_utmp_type_short(u->type));
	mm_set_text(ctx, C_USER, u->user);
	mm_set_text(ctx, C_TTY, u->line);
	mm_set_text(ctx, C_HOST, u->host);
	mm_set_int(ctx, C_TIME, u->time);
	mm_set_int(ctx, C_PID, u->pid);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	int r = mm_utmp_scan(ctx, "/run/utmp", on_record, ctx);

	if (r == MM_ERR_NOTFOUND)
		r = mm_utmp_scan(ctx, "/var/run/utmp", on_record, ctx);
	if (r == MM_ERR_NOTFOUND || r == MM_ERR_IO)
		return 0; /* no utmp: nobody is recorded as logged in */
	return r;
}

const struct mm_table mm_table_logged_in_users = {
	.name = "logged_in_users",
	.description = "Login sessions recorded in utmp (/run/utmp, else /var/run/utmp): who is "
		       "logged in, on which terminal, from where and since when.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT user, tty, host, datetime(time, 'unixepoch') AS since FROM logged_in_users "
		   "WHERE type = 'user';",
	.notes = "Records of pid 1 are left out, as osquery does. Other record types (boot_time, "
		 "runlevel, login, dead) are listed too; filter on type = 'user' for sessions.",
};
