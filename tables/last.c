/*
 * last.c - osquery's last: login and logout records of the wtmp log
 * (/var/log/wtmp), read as glibc's struct utmp records through the root
 * prefix (see utmpfile.h).  Only USER_PROCESS (7, a login) and DEAD_PROCESS
 * (8, a logout) records are shown, as osquery does.
 */
#include "table.h"
#include "utmpfile.h"

enum { C_USERNAME, C_TTY, C_PID, C_TYPE, C_TYPE_NAME, C_TIME, C_HOST };

static const struct mm_column cols[] = {
	{ "username", MM_TEXT, 0, "Login name (empty on most logout records)" },
	{ "tty", MM_TEXT, 0, "Terminal line, without /dev/" },
	{ "pid", MM_INTEGER, 0, "Process id of the login session" },
	{ "type", MM_INTEGER, 0, "Record type (ut_type): 7 for a login, 8 for a logout" },
	{ "type_name", MM_TEXT, 0, "Record type as a word: user-process or dead-process" },
	{ "time", MM_INTEGER, 0, "UNIX time in seconds of the record" },
	{ "host", MM_TEXT, 0, "Remote host name or address, empty for local logins" },
	{ NULL },
};

static int on_record(void *arg, size_t index, const struct mm_utmp *u)
{
	struct mm_ctx *ctx = arg;
	int r;

	if (u->type != MM_UT_USER_PROCESS && u->type != MM_UT_DEAD_PROCESS)
		return 0;
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_USERNAME, u->user);
	mm_set_text(ctx, C_TTY, u->line);
	mm_set_int(ctx, C_PID, u->pid);
	mm_set_int(ctx, C_TYPE, u->type);
	mm_set_text(ctx, C_TYPE_NAME, mm_utmp_type_long(u->type));
	mm_set_int(ctx, C_TIME, u->time);
	mm_set_text(ctx, C_HOST, u->host);
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	int r = mm_utmp_scan(ctx, "/var/log/wtmp", on_record, ctx);

	if (r == MM_ERR_NOTFOUND || r == MM_ERR_IO)
		return 0;
	return r;
}

const struct mm_table mm_table_last = {
	.name = "last",
	.description = "Logins and logouts recorded in the wtmp log (/var/log/wtmp), oldest first, "
		       "as the last(1) command reads them.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT username, tty, host, datetime(time, 'unixepoch') AS at FROM last "
		   "WHERE type_name = 'user-process' ORDER BY time DESC LIMIT 10;",
	.notes = "Only login (type 7) and logout (type 8) records are listed, as osquery does; "
		 "reboots and run-level changes are not. Rotated logs (wtmp.1) are not read.",
};
