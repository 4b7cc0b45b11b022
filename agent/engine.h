/*
 * engine.h - the agent's SQL engine: an in-memory SQLite database in which
 * every table of tables/tables.def is an eponymous read-only virtual table.
 *
 * The engine owns the containment rules: the authorizer (SELECT and reads
 * only; temporary tables and views in shell mode; a short list of PRAGMAs;
 * no ATTACH, no extension loading, no writes to files), a time limit per
 * statement (progress handler) and a process-wide heap limit
 * (sqlite3_hard_heap_limit64), which also bounds the rows tables produce.
 */
#ifndef MM_ENGINE_H
#define MM_ENGINE_H

#include <stdint.h>

#include <sqlite3.h>

#include "table.h"

#define MM_DEFAULT_TIME_LIMIT_MS 10000        /* per statement */
#define MM_DEFAULT_HEAP_LIMIT (256ll << 20)   /* bytes, whole process */

struct mm_engine_opts {
	const char *root;     /* root prefix, "/" when NULL */
	int64_t time_limit_ms; /* 0 = default, <0 = none */
	int64_t heap_limit;    /* 0 = default, <0 = none */
	int shell;             /* 1: allow temp tables and views (interactive use) */
	/* Called for every mm_warn() of a table; NULL prints to stderr. */
	void (*warn)(void *arg, const char *table, const char *msg);
	void *warn_arg;
};

struct mm_engine;

/* Opens an engine.  Returns 0 or an MM_ERR_* with *err set (free with
 * sqlite3_free).  *out is owned by the caller: mm_engine_free(). */
int mm_engine_new(const struct mm_engine_opts *opts, struct mm_engine **out, char **err);
void mm_engine_free(struct mm_engine *e);
/* The underlying connection (owned by the engine). */
sqlite3 *mm_engine_db(struct mm_engine *e);
/* Starts the clock for the next statement; call before each sqlite3_step
 * loop (mm_engine_prepare does it). */
void mm_engine_arm(struct mm_engine *e);
/* Prepares one statement, arming the time limit.  *tail (may be NULL) gets
 * the rest of sql.  On failure returns MM_ERR_SQL/MM_ERR_DENIED with *err
 * set (sqlite3_free).  An all-whitespace/comment sql gives *stmt NULL, 0. */
int mm_engine_prepare(struct mm_engine *e, const char *sql, sqlite3_stmt **stmt,
		      const char **tail, char **err);
/* Describes why the last step failed, rewriting SQLite's generic
 * "interrupted"/"out of memory" into which limit was hit.  Returns a
 * sqlite3_mprintf'ed string. */
char *mm_engine_errmsg(struct mm_engine *e);
/* Returns the MM_ERR_* code matching the last failure (MM_ERR_LIMIT for a
 * limit, MM_ERR_DENIED for the authorizer, else MM_ERR_SQL). */
int mm_engine_errcode(struct mm_engine *e);
/* Number of warnings tables reported since the engine was opened. */
unsigned mm_engine_warnings(const struct mm_engine *e);

/* Registry access (tables/registry.c). */
extern const struct mm_table *const mm_tables[];
/* Finds a table by name; NULL when unknown. */
const struct mm_table *mm_table_find(const char *name);
/* Number of columns of a table. */
int mm_table_ncols(const struct mm_table *t);

/* Internal: registers the virtual tables / SQL functions (vtab.c, functions.c). */
int mm_vtab_register(sqlite3 *db, struct mm_engine *e);
int mm_functions_register(sqlite3 *db);

/* Internal: accessors the vtab glue needs. */
const char *mm_engine_root(const struct mm_engine *e);
int mm_engine_expired(struct mm_engine *e);
void mm_engine_warn(struct mm_engine *e, const char *table, const char *msg);
/* Internal: a table refused a plan for lack of a required constraint; msg
 * (sqlite3_malloc'ed, taken over) replaces SQLite's "no query solution"
 * should no plan work. */
void mm_engine_set_hint(struct mm_engine *e, char *msg);
/* Internal: the vtab glue declares a schema (the authorizer lets it by). */
void mm_engine_declaring(struct mm_engine *e, int on);

#endif
