/*
 * table.h - the contract between a table and the SQL engine.
 *
 * A table is one C file in tables/ that exports one descriptor:
 *
 *     static const struct mm_column cols[] = {
 *         { "pid",  MM_BIGINT, MM_COL_INDEX, "Process id" },
 *         { "name", MM_TEXT,   0,            "Process name" },
 *         { NULL }
 *     };
 *     const struct mm_table mm_table_processes = {
 *         .name = "processes", .description = "...", .columns = cols,
 *         .generate = gen_processes, .example = "SELECT pid, name FROM processes;",
 *     };
 *
 * and one line in tables/tables.def.  The engine (agent/vtab.c) turns every
 * descriptor into an eponymous read-only virtual table, pushes equality and
 * IN constraints on MM_COL_INDEX / MM_COL_REQUIRED columns (and LIKE on
 * MM_COL_LIKE columns) down to the generator, and converts types.  SQLite
 * still re-checks every constraint on the rows produced, so a generator may
 * yield more rows than asked for (never fewer).
 *
 * The generator only produces rows.  It reads host state through the root
 * prefix (mm_read(), mm_rpath()): never open("/proc/...") directly, so tests
 * run on fixture trees and users can audit a mounted image.  Bad records are
 * skipped with mm_warn() naming the file and line; a generator fails (returns
 * non-zero) only when it cannot go on at all, after mm_error().
 *
 * Memory for rows comes from SQLite's allocator, so the engine's heap limit
 * bounds tables too: mm_row_end() returning non-zero means stop and return it.
 */
#ifndef MM_TABLE_H
#define MM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum mm_type {
	MM_TEXT = 1,
	MM_INTEGER, /* 32-bit range in osquery's schemas; stored as int64 */
	MM_BIGINT,
	MM_DOUBLE,
};

/* Column flags. */
#define MM_COL_REQUIRED 0x01 /* the query must constrain one of the table's required columns */
#define MM_COL_INDEX 0x02    /* = and IN constraints are handed to the generator */
#define MM_COL_HIDDEN 0x04   /* not part of SELECT * */
#define MM_COL_LIKE 0x08     /* LIKE constraints are handed to the generator as well */

struct mm_column {
	const char *name;        /* osquery's column name where osquery has the table */
	enum mm_type type;       /* declared SQL type */
	unsigned flags;          /* MM_COL_* */
	const char *description; /* one line for docs/tables.md */
};

struct mm_ctx; /* per-scan context: root, constraints, row sink (opaque) */

struct mm_table {
	const char *name;              /* SQL name */
	const char *description;       /* one paragraph for the docs */
	const struct mm_column *columns; /* terminated by an entry with name NULL */
	int (*generate)(struct mm_ctx *ctx); /* 0 or a negative MM_ERR_* after mm_error() */
	const char *example;           /* an example query for the docs */
	const char *notes;             /* optional extra docs text (NULL when none) */
};

/* ---- where to read ------------------------------------------------------ */

/* The root prefix ("/" by default). */
const char *mm_root(const struct mm_ctx *ctx);
/* Writes root + path into out (path is absolute, e.g. "/proc/net/tcp").
 * Returns 0 or MM_ERR_TOOBIG. */
int mm_rpath(const struct mm_ctx *ctx, const char *path, char *out, size_t outsz);
/* Reads root + path whole (see lib/fileio.h for the return codes).  The
 * buffer is NUL-terminated, malloc'ed, owned by the caller (free()). */
int mm_read(const struct mm_ctx *ctx, const char *path, size_t cap, char **data, size_t *len);
/* Default cap for configuration and /proc files: 16 MiB. */
#define MM_READ_CAP (16u * 1024u * 1024u)

/* ---- diagnostics -------------------------------------------------------- */

/* Reports a skipped record or unreadable input; printf-style.  Say what and
 * where: "/etc/passwd:7: expected 7 fields, got 3". */
void mm_warn(struct mm_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the error message returned to the user when the generator fails. */
void mm_error(struct mm_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns MM_ERR_LIMIT once the query's time limit has passed, else 0.  Call
 * it in long loops (directory walks) and return the value when non-zero. */
int mm_check(struct mm_ctx *ctx);

/* ---- constraints -------------------------------------------------------- */

/* Number of values given by `col = v` / `col IN (...)` constraints on column
 * index col, or -1 when the column is not constrained that way (generate
 * everything).  Values are text (numbers are given in decimal). */
int mm_eq_count(const struct mm_ctx *ctx, int col);
const char *mm_eq_value(const struct mm_ctx *ctx, int col, int i);
/* Returns 1 if value v is among the equality values of col, or if col is
 * unconstrained.  Handy as a cheap pre-filter. */
int mm_eq_allows(const struct mm_ctx *ctx, int col, const char *v);
/* Same for LIKE patterns on MM_COL_LIKE columns. */
int mm_like_count(const struct mm_ctx *ctx, int col);
const char *mm_like_value(const struct mm_ctx *ctx, int col, int i);
/* Returns 1 if the query reads column col (lets a table skip costly work). */
int mm_col_used(const struct mm_ctx *ctx, int col);

/* ---- composing tables ---------------------------------------------------- */

/* Runs a read-only SELECT on the same engine (other tables, same root and
 * limits) and calls row() for each result row with the statement positioned
 * on it (read columns with sqlite3_column_*; include <sqlite3.h>).  For
 * tables that combine others, e.g. remote_desktop from listening_ports,
 * processes and deb_packages.  A table must not query itself.  Returns 0,
 * row()'s non-zero value, or MM_ERR_SQL / MM_ERR_LIMIT after mm_error(). */
struct sqlite3_stmt;
int mm_subquery(struct mm_ctx *ctx, const char *sql,
		int (*row)(void *arg, struct sqlite3_stmt *st), void *arg);

/* ---- rows --------------------------------------------------------------- */

/* Starts a new row; every column starts as NULL. */
int mm_row_begin(struct mm_ctx *ctx);
/* Set column col of the current row.  Text is copied; NULL text means SQL
 * NULL.  Returns nothing: an allocation failure is remembered and reported
 * by mm_row_end(). */
void mm_set_text(struct mm_ctx *ctx, int col, const char *s);
void mm_set_textn(struct mm_ctx *ctx, int col, const char *s, size_t n);
void mm_set_textf(struct mm_ctx *ctx, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mm_set_int(struct mm_ctx *ctx, int col, int64_t v);
void mm_set_double(struct mm_ctx *ctx, int col, double v);
/* Finishes the row.  Returns 0, or MM_ERR_NOMEM / MM_ERR_LIMIT: stop
 * generating and return that value. */
int mm_row_end(struct mm_ctx *ctx);

#endif
