/*
 * processes.c - osquery's `processes` table from /proc/<pid>/{stat,status,
 * cmdline,exe,cwd,root,cgroup,io} under the root prefix.
 *
 * Speed matters here (it is benchmarked against ps), so each process costs
 * only the files the query's columns need: `SELECT pid, parent, name` reads
 * /proc/<pid>/stat alone.  Files are read relative to one /proc directory
 * descriptor into stack buffers; only a long cmdline goes to the heap.
 *
 *   column group                              file read
 *   pid parent name state pgroup nice threads  stat (always: it proves the
 *   user_time system_time start_time              process exists and is sane)
 *   uid gid euid egid suid sgid                status
 *   resident_size total_size                   status
 *   cmdline                                    cmdline
 *   path on_disk / cwd / root                  exe / cwd / root (link text)
 *   cgroup_path                                cgroup
 *   disk_bytes_read disk_bytes_written         io (owner or root only)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "procfs.h"
#include "strutil.h"
#include "table.h"

enum { C_PID, C_NAME, C_PATH, C_CMDLINE, C_STATE, C_CWD, C_ROOT, C_UID, C_GID, C_EUID, C_EGID,
       C_SUID, C_SGID, C_ON_DISK, C_WIRED_SIZE, C_RESIDENT_SIZE, C_TOTAL_SIZE, C_USER_TIME,
       C_SYSTEM_TIME, C_DISK_BYTES_READ, C_DISK_BYTES_WRITTEN, C_START_TIME, C_PARENT,
       C_PGROUP, C_THREADS, C_NICE, C_CGROUP_PATH };

static const struct mm_column cols[] = {
	{ "pid", MM_BIGINT, MM_COL_INDEX, "Process (or thread) ID" },
	{ "name", MM_TEXT, 0, "The process name (the kernel's comm, at most 15 bytes)" },
	{ "path", MM_TEXT, 0, "Path to the executed binary ('' when unreadable, kernel threads)" },
	{ "cmdline", MM_TEXT, 0, "Complete argv, joined with spaces" },
	{ "state", MM_TEXT, 0, "Process state letter (R, S, D, Z, T, I, ...)" },
	{ "cwd", MM_TEXT, 0, "Process current working directory" },
	{ "root", MM_TEXT, 0, "Process virtual root directory" },
	{ "uid", MM_BIGINT, 0, "Real user ID" },
	{ "gid", MM_BIGINT, 0, "Real group ID" },
	{ "euid", MM_BIGINT, 0, "Effective user ID" },
	{ "egid", MM_BIGINT, 0, "Effective group ID" },
	{ "suid", MM_BIGINT, 0, "Saved user ID" },
	{ "sgid", MM_BIGINT, 0, "Saved group ID" },
	{ "on_disk", MM_INTEGER, 0, "The binary exists on disk: 1 yes, 0 no, -1 unknown" },
	{ "wired_size", MM_BIGINT, 0, "Bytes of unpageable memory (always 0 on Linux)" },
	{ "resident_size", MM_BIGINT, 0, "Bytes of resident memory (VmRSS)" },
	{ "total_size", MM_BIGINT, 0, "Total virtual memory size in bytes (VmSize)" },
	{ "user_time", MM_BIGINT, 0, "CPU time in milliseconds spent in user space" },
	{ "system_time", MM_BIGINT, 0, "CPU time in milliseconds spent in kernel space" },
	{ "disk_bytes_read", MM_BIGINT, 0, "Bytes read from storage (NULL: io unreadable)" },
	{ "disk_bytes_written", MM_BIGINT, 0, "Bytes written to storage, less cancelled writes" },
	{ "start_time", MM_BIGINT, 0, "Process start in seconds since the Epoch, -1 when unknown" },
	{ "parent", MM_BIGINT, 0, "Parent process ID" },
	{ "pgroup", MM_BIGINT, 0, "Process group ID" },
	{ "threads", MM_INTEGER, 0, "Number of threads" },
	{ "nice", MM_INTEGER, 0, "Nice level (-20 to 19)" },
	{ "cgroup_path", MM_TEXT, 0, "Control group path (first line of /proc/<pid>/cgroup)" },
	{ NULL },
};

#define CMDLINE_CAP (1024u * 1024u) /* longer argv is cut here, with a warning */

/* What one query needs; set once before the walk. */
struct scan {
	struct mm_ctx *ctx;
	int procfd;
	int need_status, need_cmdline, need_exe, need_cwd, need_root, need_cgroup, need_io;
	int64_t btime;     /* -1 when unknown */
	int64_t hz;        /* clock ticks per second */
};

/* Fields of /proc/<pid>/stat after the command name; proc(5) numbering. */
struct pstat {
	char comm[64];
	char state[8];
	int64_t ppid, pgrp, utime, stime, nice, threads, starttime;
};

/*
 * Parses /proc/<pid>/stat: "pid (comm) state ppid pgrp ...".  comm may hold
 * blanks and ')' itself, so it runs from the first '(' to the LAST ')'.
 * Returns 0 or MM_ERR_PARSE with *why set.
 */
static int parse_stat(char *buf, struct pstat *ps, const char **why)
{
	char *open = strchr(buf, '('), *close = strrchr(buf, ')'), *f[24];
	size_t n;
	int nf;

	if (open == NULL || close == NULL || close < open) {
		*why = "no '(command)' field";
		return MM_ERR_PARSE;
	}
	n = (size_t)(close - open - 1);
	if (n >= sizeof(ps->comm))
		n = sizeof(ps->comm) - 1;
	memcpy(ps->comm, open + 1, n);
	ps->comm[n] = '\0';
	/* After ") ": field 3 (state) is f[0], ..., field 22 (starttime) is f[19]. */
	nf = mm_split_ws(close + 1, " \n", f, 24);
	if (nf < 20) {
		*why = "too few fields after the command name";
		return MM_ERR_PARSE;
	}
	if (strlen(f[0]) >= sizeof(ps->state) || mm_parse_i64(f[1], &ps->ppid) != 0 ||
	    mm_parse_i64(f[2], &ps->pgrp) != 0 || mm_parse_i64(f[11], &ps->utime) != 0 ||
	    mm_parse_i64(f[12], &ps->stime) != 0 || mm_parse_i64(f[16], &ps->nice) != 0 ||
	    mm_parse_i64(f[17], &ps->threads) != 0 || mm_parse_i64(f[19], &ps->starttime) != 0) {
		*why = "malformed number";
		return MM_ERR_PARSE;
	}
	memcpy(ps->state, f[0], strlen(f[0]) + 1);
	return 0;
}

/* Sets columns from "Key:\tvalue" lines of /proc/<pid>/status.  A status
 * longer than the buffer (a huge Groups: line) is parsed as far as it goes:
 * the wanted keys all come before Groups. */
static void set_status(struct mm_ctx *ctx, char *buf, size_t len)
{
	size_t pos = 0;
	char *line, *f[5];
	int64_t v;

	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		char *val = strchr(line, ':');
		if (val == NULL)
			continue;
		*val++ = '\0';
		if (strcmp(line, "Uid") == 0 || strcmp(line, "Gid") == 0) {
			int u = line[0] == 'U';
			if (mm_split_ws(val, " \t", f, 5) == 4 && mm_parse_i64(f[0], &v) == 0) {
				mm_set_int(ctx, u ? C_UID : C_GID, v);
				if (mm_parse_i64(f[1], &v) == 0)
					mm_set_int(ctx, u ? C_EUID : C_EGID, v);
				if (mm_parse_i64(f[2], &v) == 0)
					mm_set_int(ctx, u ? C_SUID : C_SGID, v);
			}
		} else if (strcmp(line, "VmRSS") == 0 || strcmp(line, "VmSize") == 0) {
			if (mm_split_ws(val, " \t", f, 3) == 2 && strcmp(f[1], "kB") == 0 &&
			    mm_parse_i64(f[0], &v) == 0)
				mm_set_int(ctx, line[2] == 'R' ? C_RESIDENT_SIZE : C_TOTAL_SIZE,
					   v * 1024);
		}
	}
}

/* Sets disk_bytes_* from /proc/<pid>/io (readable by the owner and root). */
static void set_io(struct mm_ctx *ctx, char *buf, size_t len)
{
	size_t pos = 0;
	char *line;
	int64_t rd = -1, wr = -1, cw = 0, v;

	while ((line = mm_next_line(buf, len, &pos)) != NULL) {
		char *val = strchr(line, ':');
		if (val == NULL || mm_parse_i64(mm_trim(val + 1), &v) != 0)
			continue;
		*val = '\0';
		if (strcmp(line, "read_bytes") == 0)
			rd = v;
		else if (strcmp(line, "write_bytes") == 0)
			wr = v;
		else if (strcmp(line, "cancelled_write_bytes") == 0)
			cw = v;
	}
	if (rd >= 0)
		mm_set_int(ctx, C_DISK_BYTES_READ, rd);
	if (wr >= 0)
		mm_set_int(ctx, C_DISK_BYTES_WRITTEN, wr - cw);
}

/* cmdline: NUL-separated argv joined by spaces, blanks trimmed at both ends
 * (as osquery).  Short ones fit in buf; long ones are read to the heap. */
static void set_cmdline(struct scan *s, int64_t pid, char *buf, size_t bufsz)
{
	char rel[64], full[4096];
	char *data = NULL, *p;
	size_t len, i;
	ssize_t n;
	int trunc = 0;

	snprintf(rel, sizeof(rel), "%lld/cmdline", (long long)pid);
	n = mm_proc_read(s->procfd, rel, buf, bufsz);
	if (n == MM_ERR_TOOBIG) {
		snprintf(rel, sizeof(rel), "/proc/%lld/cmdline", (long long)pid);
		if (mm_rpath(s->ctx, rel, full, sizeof(full)) != 0 ||
		    mm_read_file_trunc(full, CMDLINE_CAP, &data, &len, &trunc) != 0) {
			mm_set_text(s->ctx, C_CMDLINE, "");
			return;
		}
		if (trunc)
			mm_warn(s->ctx, "%s:1: longer than %u bytes, cut there", rel, CMDLINE_CAP);
		p = data;
	} else if (n >= 0) {
		p = buf;
		len = (size_t)n;
	} else {
		mm_set_text(s->ctx, C_CMDLINE, "");
		return;
	}
	for (i = 0; i < len; i++)
		if (p[i] == '\0')
			p[i] = ' ';
	p[len] = '\0';
	mm_set_text(s->ctx, C_CMDLINE, mm_trim(p));
	free(data);
}

/* First line of /proc/<pid>/cgroup, after its second ':' ("0::/system.slice/x"). */
static void set_cgroup(struct mm_ctx *ctx, char *buf)
{
	char *nl = strchr(buf, '\n'), *c1, *c2;

	if (nl != NULL)
		*nl = '\0';
	c1 = strchr(buf, ':');
	c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
	mm_set_text(ctx, C_CGROUP_PATH, c2 != NULL ? c2 + 1 : "");
}

/*
 * on_disk for the binary path (osquery's rule): -1 when the path is unknown,
 * 1 when it exists, 0 when not.  A " (deleted)" suffix the kernel adds to a
 * replaced binary is removed from path when no file of that name exists.
 * Under a root prefix the path is looked up inside the root (lstat: a link
 * there is not followed out of it).
 */
static int on_disk(struct scan *s, char *path)
{
	static const char del[] = " (deleted)";
	char full[4096];
	struct stat st;
	size_t n = strlen(path), dn = sizeof(del) - 1;
	int live = strcmp(mm_root(s->ctx), "/") == 0, exists;

	if (n == 0)
		return -1;
	if (mm_rpath(s->ctx, path, full, sizeof(full)) != 0)
		return -1;
	exists = (live ? stat(full, &st) : lstat(full, &st)) == 0;
	if (exists)
		return 1;
	if (n > dn && strcmp(path + n - dn, del) == 0)
		path[n - dn] = '\0';
	return 0;
}

/* Reads link rel of pid into buf and sets column col ("" when unreadable). */
static void set_link(struct scan *s, int64_t pid, const char *what, int col, char *buf,
		     size_t bufsz)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "%lld/%s", (long long)pid, what);
	if (mm_proc_readlink(s->procfd, rel, buf, bufsz) < 0)
		buf[0] = '\0';
	if (col >= 0)
		mm_set_text(s->ctx, col, buf);
}

/* One row for pid, or none when it has gone or its stat is unreadable. */
static int one(struct scan *s, int64_t pid)
{
	struct mm_ctx *ctx = s->ctx;
	char rel[64], buf[8192], path[4096];
	struct pstat ps;
	const char *why = NULL;
	ssize_t n;
	int r;

	snprintf(rel, sizeof(rel), "%lld/stat", (long long)pid);
	n = mm_proc_read(s->procfd, rel, buf, 2048);
	if (n == MM_ERR_NOTFOUND)
		return 0; /* exited since listed, or never was (pid = N) */
	if (n < 0) {
		mm_warn(ctx, "/proc/%s:1: %s", rel, n == MM_ERR_TOOBIG ? "too long" : "unreadable");
		return 0;
	}
	if (parse_stat(buf, &ps, &why) != 0) {
		mm_warn(ctx, "/proc/%s:1: %s", rel, why);
		return 0;
	}
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_int(ctx, C_PID, pid);
	mm_set_text(ctx, C_NAME, ps.comm);
	mm_set_text(ctx, C_STATE, ps.state);
	mm_set_int(ctx, C_PARENT, ps.ppid);
	mm_set_int(ctx, C_PGROUP, ps.pgrp);
	mm_set_int(ctx, C_NICE, ps.nice);
	mm_set_int(ctx, C_THREADS, ps.threads);
	mm_set_int(ctx, C_USER_TIME, ps.utime * 1000 / s->hz);
	mm_set_int(ctx, C_SYSTEM_TIME, ps.stime * 1000 / s->hz);
	mm_set_int(ctx, C_START_TIME, s->btime >= 0 ? s->btime + ps.starttime / s->hz : -1);
	mm_set_int(ctx, C_WIRED_SIZE, 0);
	if (s->need_status) {
		snprintf(rel, sizeof(rel), "%lld/status", (long long)pid);
		n = mm_proc_read(s->procfd, rel, buf, sizeof(buf));
		if (n >= 0 || n == MM_ERR_TOOBIG)
			set_status(ctx, buf, strlen(buf));
	}
	if (s->need_cmdline)
		set_cmdline(s, pid, buf, sizeof(buf));
	if (s->need_exe) {
		set_link(s, pid, "exe", -1, path, sizeof(path));
		mm_set_int(ctx, C_ON_DISK, on_disk(s, path));
		mm_set_text(ctx, C_PATH, path);
	}
	if (s->need_cwd)
		set_link(s, pid, "cwd", C_CWD, path, sizeof(path));
	if (s->need_root)
		set_link(s, pid, "root", C_ROOT, path, sizeof(path));
	if (s->need_cgroup) {
		snprintf(rel, sizeof(rel), "%lld/cgroup", (long long)pid);
		n = mm_proc_read(s->procfd, rel, buf, sizeof(buf));
		if (n >= 0 || n == MM_ERR_TOOBIG)
			set_cgroup(ctx, buf);
	}
	if (s->need_io) {
		snprintf(rel, sizeof(rel), "%lld/io", (long long)pid);
		n = mm_proc_read(s->procfd, rel, buf, sizeof(buf));
		if (n >= 0)
			set_io(ctx, buf, (size_t)n);
	}
	return mm_row_end(ctx);
}

static int gen(struct mm_ctx *ctx)
{
	struct scan s = { .ctx = ctx, .procfd = -1 };
	struct mm_pidlist pl = { NULL, 0, 0 };
	size_t i;
	long hz = sysconf(_SC_CLK_TCK);
	int r;

	s.hz = hz > 0 ? hz : 100;
	s.need_status = mm_col_used(ctx, C_UID) || mm_col_used(ctx, C_GID) ||
			mm_col_used(ctx, C_EUID) || mm_col_used(ctx, C_EGID) ||
			mm_col_used(ctx, C_SUID) || mm_col_used(ctx, C_SGID) ||
			mm_col_used(ctx, C_RESIDENT_SIZE) || mm_col_used(ctx, C_TOTAL_SIZE);
	s.need_cmdline = mm_col_used(ctx, C_CMDLINE);
	s.need_exe = mm_col_used(ctx, C_PATH) || mm_col_used(ctx, C_ON_DISK);
	s.need_cwd = mm_col_used(ctx, C_CWD);
	s.need_root = mm_col_used(ctx, C_ROOT);
	s.need_cgroup = mm_col_used(ctx, C_CGROUP_PATH);
	s.need_io = mm_col_used(ctx, C_DISK_BYTES_READ) || mm_col_used(ctx, C_DISK_BYTES_WRITTEN);
	s.btime = mm_col_used(ctx, C_START_TIME) ? mm_proc_btime(ctx) : -1;
	if ((s.procfd = mm_proc_open(ctx)) < 0) {
		r = s.procfd == MM_ERR_NOTFOUND ? 0 : s.procfd;
		if (r != 0)
			mm_error(ctx, "cannot open %s/proc: %s", mm_root(ctx), mm_strerror(r));
		s.procfd = -1;
		goto out;
	}
	if ((r = mm_proc_pids(ctx, C_PID, 0, &pl)) != 0) {
		if (r != MM_ERR_LIMIT)
			mm_error(ctx, "listing processes: %s", mm_strerror(r));
		goto out;
	}
	for (i = 0; i < pl.n; i++) {
		if ((r = one(&s, pl.pid[i])) != 0 || (r = mm_check(ctx)) != 0)
			goto out;
	}
	r = 0;
out:
	if (s.procfd >= 0)
		close(s.procfd);
	mm_pidlist_free(&pl);
	return r;
}

const struct mm_table mm_table_processes = {
	.name = "processes",
	.description = "All running processes on the host, from /proc.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT pid, parent, uid, name, cmdline FROM processes WHERE on_disk = 0;",
	.notes = "`pid = N` and `pid IN (...)` read only those processes. Only the /proc files "
		 "the selected columns need are read. `name` is the kernel's command name from "
		 "/proc/<pid>/stat; `resident_size` and `total_size` are bytes (kB x 1024; "
		 "osquery multiplies by 1000); `start_time` is /proc/stat's btime plus the "
		 "start tick over the clock rate; `wired_size` is always 0; the disk_bytes "
		 "columns are NULL when /proc/<pid>/io is not readable (other users' "
		 "processes unless root). Under `--root`, links (exe, cwd, root) are read as "
		 "text and `on_disk` looks the binary up inside the root.",
};
