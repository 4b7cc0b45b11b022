/*
 * utmpfile.h - a pure parser for utmp/wtmp files (/run/utmp, /var/log/wtmp),
 * shared by the logged_in_users and last tables and fuzzed by
 * tests/fuzz/fuzz_utmp.c.
 *
 * The files are arrays of glibc's struct utmp (<utmp.h>): fixed 384-byte
 * records in the host's byte order.  They are parsed from a buffer rather
 * than with getutent(), which reads the live host's file and ignores the
 * root prefix.  A partial record at the end (a file cut while written, or
 * truncated) is not parsed; the parser reports how many bytes were left.
 */
#ifndef MM_UTMPFILE_H
#define MM_UTMPFILE_H

#include <stddef.h>
#include <stdint.h>

#define MM_UTMP_RECORD 384u /* sizeof(struct utmp) on glibc, checked in utmpfile.c */

/* ut_type values (utmp.h). */
enum {
	MM_UT_EMPTY = 0,
	MM_UT_RUN_LVL = 1,
	MM_UT_BOOT_TIME = 2,
	MM_UT_NEW_TIME = 3,
	MM_UT_OLD_TIME = 4,
	MM_UT_INIT_PROCESS = 5,
	MM_UT_LOGIN_PROCESS = 6,
	MM_UT_USER_PROCESS = 7,
	MM_UT_DEAD_PROCESS = 8,
	MM_UT_ACCOUNTING = 9,
};

struct mm_utmp {
	int type;       /* ut_type */
	int64_t pid;    /* ut_pid */
	char line[33];  /* ut_line (tty without "/dev/"), NUL-terminated */
	char id[5];     /* ut_id */
	char user[33];  /* ut_user */
	char host[257]; /* ut_host */
	int64_t time;   /* ut_tv.tv_sec, read as unsigned 32-bit (valid to 2106) */
	int64_t usec;   /* ut_tv.tv_usec */
};

/* Called once per whole record (index from 0).  Return 0 to go on; any
 * other value stops the parse and is returned by it. */
typedef int (*mm_utmp_fn)(void *arg, size_t index, const struct mm_utmp *u);

/* Parses len bytes of buf as utmp records.  Text fields are cut at their
 * first NUL and control bytes in them are replaced by '?'.  *trailing (may
 * be NULL) receives the number of bytes after the last whole record (0 for
 * a well-formed file).  Returns 0 or the first non-zero value of fn. */
int mm_utmp_parse(const void *buf, size_t len, mm_utmp_fn fn, void *arg, size_t *trailing);

struct mm_ctx;

/* Streams host file path (through the root prefix) record by record into
 * fn, without holding the whole file in memory.  A partial trailing record
 * is skipped with a warning naming the file and its size.  Returns 0,
 * MM_ERR_NOTFOUND (no such file: no warning), MM_ERR_IO (with a warning),
 * MM_ERR_LIMIT (query time limit), or fn's non-zero value.  (The one
 * function here that needs the engine; the fuzzer uses mm_utmp_parse.) */
int mm_utmp_scan(struct mm_ctx *ctx, const char *path, mm_utmp_fn fn, void *arg);

/* osquery's type names: logged_in_users uses "user", "dead", ... and last
 * uses "user-process", "dead-process", ...  Both return "unknown" (users)
 * or "" (last) for a value outside the table. */
const char *mm_utmp_type_short(int type);
const char *mm_utmp_type_long(int type);

#endif
