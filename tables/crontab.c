/*
 * crontab.c - osquery's crontab: the jobs of the system crontab
 * (/etc/crontab), of the files in /etc/cron.d and of the users' crontabs
 * (files in /var/spool/cron/crontabs on Debian, /var/spool/cron on Red Hat).
 *
 * A job line is five time fields and a command, or an @event (@reboot,
 * @daily, ...) and a command.  System crontabs have a user field before the
 * command; as osquery does, it stays at the start of `command` (osquery
 * has no user column); user crontabs have none, their file name is the
 * user.  Environment lines (MAILTO=root, PATH = ...) and comments are no
 * jobs and are skipped silently; other lines cron would reject (a bad time
 * field, no command, an unknown @event, control bytes) are skipped with a
 * warning.  Files in /etc/cron.d are read only when cron itself reads
 * them: names of letters, digits, '-' and '_' (no .dpkg-old, no README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confread.h"
#include "strutil.h"
#include "table.h"

enum { C_EVENT, C_MINUTE, C_HOUR, C_DAY_OF_MONTH, C_MONTH, C_DAY_OF_WEEK, C_COMMAND, C_PATH,
       C_PID_WITH_NAMESPACE };

static const struct mm_column cols[] = {
	{ "event", MM_TEXT, 0, "The @event of the job (@reboot, @daily, ...), empty otherwise" },
	{ "minute", MM_TEXT, 0, "Minute field (0-59, *, lists, ranges, steps)" },
	{ "hour", MM_TEXT, 0, "Hour field (0-23)" },
	{ "day_of_month", MM_TEXT, 0, "Day of the month field (1-31)" },
	{ "month", MM_TEXT, 0, "Month field (1-12 or jan-dec)" },
	{ "day_of_week", MM_TEXT, 0, "Day of the week field (0-7 or sun-sat)" },
	{ "command", MM_TEXT, 0,
	  "The command as written; in system crontabs it starts with the user field" },
	{ "path", MM_TEXT, MM_COL_INDEX, "Crontab file the job was read from" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN,
	  "osquery's container namespace pid; always 0 (host files only)" },
	{ NULL },
};

static const char *const events[] = { "@reboot", "@yearly", "@annually", "@monthly",
				      "@weekly", "@daily",  "@midnight", "@hourly" };

/* The five time fields: name, highest number allowed, whether names
 * (jan, mon) are allowed. */
static const struct {
	const char *name;
	int max, letters;
} tfields[5] = {
	{ "minute", 59, 0 }, { "hour", 23, 0 }, { "day of month", 31, 0 },
	{ "month", 12, 1 },  { "day of week", 7, 1 },
};

static const char months[] = "jan feb mar apr may jun jul aug sep oct nov dec";
static const char days[] = "sun mon tue wed thu fri sat";

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Returns 1 if s (length n) is one of the three-letter names in list
 * (any case), as cron accepts them. */
static int is_name(const char *s, size_t n, const char *list)
{
	size_t i;

	if (n != 3)
		return 0;
	for (; *list != '\0'; list += list[3] != '\0' ? 4 : 3) {
		for (i = 0; i < 3; i++)
			if ((s[i] | 0x20) != list[i])
				break;
		if (i == 3)
			return 1;
	}
	return 0;
}

/* Returns 1 if time field s (length n) looks like one cron accepts: digits,
 * '*', ',', '-', '/', three-letter names where allowed (jan, mon), and no
 * number above the field's maximum (except step values after '/'). */
static int good_time_field(const char *s, size_t n, int which)
{
	size_t i = 0;
	long v;
	int step = 0;

	while (i < n) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			v = 0;
			while (i < n && s[i] >= '0' && s[i] <= '9') {
				if (v < 100000)
					v = v * 10 + (s[i] - '0');
				i++;
			}
			if (!step && v > tfields[which].max)
				return 0;
			continue;
		}
		if (c == '/')
			step = 1;
		else if (c == ',')
			step = 0;
		else if (is_alpha(c) && tfields[which].letters) {
			size_t k = 0;
			while (i + k < n && is_alpha(s[i + k]))
				k++;
			if (!is_name(s + i, k, which == 3 ? months : days))
				return 0;
			i += k;
			continue;
		} else if (c != '*' && c != '-')
			return 0;
		i++;
	}
	return n > 0;
}

/* Returns 1 for an environment line: NAME, optional blanks, '='. */
static int is_env(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	while ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
	       (s[i] >= '0' && s[i] <= '9') || s[i] == '_')
		i++;
	i += strspn(s + i, " \t");
	return s[i] == '=';
}

/* Splits off the next blank-separated word of *s: returns its start and
 * length, and leaves *s at the following word. */
static const char *word(const char **s, size_t *n)
{
	const char *w = *s + strspn(*s, " \t");

	*n = strcspn(w, " \t");
	*s = w + *n + strspn(w + *n, " \t");
	return w;
}

/* Parses one line; emits a row or warns.  system: the file has a user
 * field. */
static int do_line(struct mm_ctx *ctx, const char *path, int system, int lineno, char *line,
		   size_t n)
{
	const char *s, *w[5], *cmd, *ev = NULL, *rest = NULL;
	size_t wl[5], evl = 0, ul = 0;
	int i, r;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (strlen(line) != n || !mm_is_text(line, n)) {
		mm_warn(ctx, "%s:%d: control characters in line", path, lineno);
		return 0;
	}
	s = mm_trim(line);
	if (s[0] == '\0' || s[0] == '#' || is_env(s))
		return 0;
	if (s[0] == '@') {
		ev = word(&s, &evl);
		for (i = 0; i < (int)(sizeof(events) / sizeof(events[0])); i++)
			if (strlen(events[i]) == evl && memcmp(events[i], ev, evl) == 0)
				break;
		if (i == (int)(sizeof(events) / sizeof(events[0]))) {
			mm_warn(ctx, "%s:%d: unknown @event", path, lineno);
			return 0;
		}
	} else {
		for (i = 0; i < 5; i++) {
			w[i] = word(&s, &wl[i]);
			if (wl[i] == 0) {
				mm_warn(ctx, "%s:%d: expected 5 time fields and a command", path,
					lineno);
				return 0;
			}
			if (!good_time_field(w[i], wl[i], i)) {
				mm_warn(ctx, "%s:%d: bad %s field", path, lineno, tfields[i].name);
				return 0;
			}
		}
	}
	cmd = s;
	if (cmd[0] == '\0') {
		mm_warn(ctx, "%s:%d: no command", path, lineno);
		return 0;
	}
	if (system) {
		ul = strcspn(cmd, " \t");
		if (cmd[ul] == '\0') {
			mm_warn(ctx, "%s:%d: no command after the user field", path, lineno);
			return 0;
		}
		rest = cmd + ul + strspn(cmd + ul, " \t");
	}
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	if (ev != NULL) {
		mm_set_textn(ctx, C_EVENT, ev, evl);
		for (i = 0; i < 5; i++)
			mm_set_text(ctx, C_MINUTE + i, "");
	} else {
		mm_set_text(ctx, C_EVENT, "");
		for (i = 0; i < 5; i++)
			mm_set_textn(ctx, C_MINUTE + i, w[i], wl[i]);
	}
	if (system) /* "user<tabs>command" -> "user command", the command as written */
		mm_set_textf(ctx, C_COMMAND, "%.*s %s", (int)ul, cmd, rest);
	else
		mm_set_text(ctx, C_COMMAND, cmd);
	mm_set_text(ctx, C_PATH, path);
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	return mm_row_end(ctx);
}

static int do_file(struct mm_ctx *ctx, const char *path, int system)
{
	char *data = NULL, *line;
	size_t len = 0, pos = 0, n;
	int r, lineno = 0;

	if (!mm_eq_allows(ctx, C_PATH, path))
		return 0;
	r = mm_read(ctx, path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: cannot read: %s", path, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	while ((line = mm_conf_line(data, len, &pos, &n)) != NULL)
		if ((r = do_line(ctx, path, system, ++lineno, line, n)) != 0)
			goto out;
	r = 0;
out:
	free(data);
	return r;
}

/* cron reads /etc/cron.d files whose names are letters, digits, '-', '_'. */
static int skip_crond(const char *name)
{
	return name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] !=
	       '\0';
}

/* Spool files are named after users; skip editor leftovers. */
static int skip_spool(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && name[n - 1] == '~';
}

static int do_dir(struct mm_ctx *ctx, const char *dir, int system, int (*skip)(const char *))
{
	char **names = NULL, path[4096 + 256];
	size_t n = 0, i;
	int r, k;

	r = mm_conf_list_dir(ctx, dir, skip, &names, &n);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(ctx, "%s: cannot list: %s", dir, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	for (i = 0; i < n; i++) {
		k = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (k < 0 || (size_t)k >= sizeof(path))
			continue;
		if ((r = do_file(ctx, path, system)) != 0)
			break;
	}
	mm_conf_names_free(names, n);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	int r;

	if ((r = do_file(ctx, "/etc/crontab", 1)) != 0)
		return r;
	if ((r = do_dir(ctx, "/etc/cron.d", 1, skip_crond)) != 0)
		return r;
	if ((r = do_dir(ctx, "/var/spool/cron/crontabs", 0, skip_spool)) != 0)
		return r;
	return do_dir(ctx, "/var/spool/cron", 0, skip_spool);
}

const struct mm_table mm_table_crontab = {
	.name = "crontab",
	.description = "Scheduled jobs of cron: the system crontab (/etc/crontab), /etc/cron.d and "
		       "the users' crontabs (/var/spool/cron/crontabs, /var/spool/cron).",
	.columns = cols,
	.generate = gen,
	.example = "SELECT path, event, minute, hour, command FROM crontab "
		   "WHERE path LIKE '/var/spool/cron/%';",
	.notes = "In system crontabs (/etc/crontab, /etc/cron.d) the command starts with the user "
		 "the job runs as, as in osquery; a user crontab's owner is its file name. The time "
		 "fields are empty for @event jobs. The scripts run by run-parts from "
		 "/etc/cron.daily and friends are not listed.",
};
