/*
 * sysparse.h - parsers for the files that describe the system itself, used
 * by os_version, system_info and kernel_info and by the fuzzers:
 *
 *   os-release(5)    KEY=value lines with shell quoting
 *   /proc/cpuinfo    counted and summarised (cores, sockets, brand)
 *   /proc/cmdline    split into words as the kernel does (double quotes)
 *
 * The parsers are pure (a buffer in, results out).  mm_host_arch() at the end
 * is the one helper that reads through a table's root prefix.
 */
#ifndef MM_SYSPARSE_H
#define MM_SYSPARSE_H

#include <stddef.h>

#include "table.h"

/* Reports a skipped line: why says what is wrong. */
typedef void (*mm_sp_warn_fn)(void *arg, int line, const char *why);

/* Called for each well-formed assignment: key and the unquoted value (both
 * NUL-terminated, inside the caller's buffer).  Returns 0 to go on. */
typedef int (*mm_sp_kv_fn)(void *arg, int line, const char *key, const char *value);

/* Parses os-release(5) text: blank lines and '#' comments are skipped; each
 * other line must be KEY=VALUE with KEY in [A-Za-z_][A-Za-z0-9_]* and VALUE a
 * shell word: unquoted characters, '...' (literal), "..." (where \ escapes
 * " \ $ and `), and \x outside quotes, concatenated; a '#' after white space
 * starts a comment.  A line that breaks these rules (no '=', a bad key, an
 * unterminated quote, unquoted white space inside the value) is reported and
 * skipped.  A trailing CR is ignored.  buf is modified in place.  Returns 0 or
 * the callback's non-zero value. */
int mm_osrelease_parse(char *buf, size_t len, mm_sp_kv_fn fn, mm_sp_warn_fn warn, void *arg);

struct mm_cpuinfo {
	int logical;         /* "processor" stanzas */
	int physical;        /* distinct (physical id, core id) pairs; else cpu cores x
				sockets; else logical */
	int sockets;         /* distinct "physical id" values, 0 when the file has none */
	char brand[128];     /* first "model name" (x86) or "Model"/"Hardware" (ARM), trimmed */
	char model[32];      /* first "model" value (the CPU subtype), "" if none */
	char microcode[32];  /* first "microcode" value, "" if none */
	char vendor[32];     /* first "vendor_id", "" if none */
	int has_lm;          /* the x86 flags list "lm" (long mode: a 64-bit CPU) */
	int arm_arch;        /* "CPU architecture" value (ARM), 0 if none */
};

/* Summarises /proc/cpuinfo.  buf is modified in place.  At most
 * MM_CPUINFO_MAX_CPUS stanzas are counted for cores (more are counted as
 * logical CPUs only).  Returns 0 or MM_ERR_NOMEM. */
#define MM_CPUINFO_MAX_CPUS 8192
int mm_cpuinfo_parse(char *buf, size_t len, struct mm_cpuinfo *ci);

/* Returns the next word of a kernel command line and advances *p past it,
 * or NULL at the end.  Words are split at white space outside double quotes;
 * the quotes stay in the word, as /proc/cmdline shows them.  Modifies the
 * string (NUL after each word). */
char *mm_cmdline_next(char **p);

/* The machine architecture as uname -m says it ("x86_64"): from
 * /proc/sys/kernel/arch under the root, else guessed from /proc/cpuinfo
 * (x86 with "lm": x86_64, other x86: i686, ARM "CPU architecture: 8":
 * aarch64, 7: armv7l).  out is set to "" when unknown.  Returns 0. */
int mm_host_arch(struct mm_ctx *ctx, char *out, size_t outsz);

#endif
