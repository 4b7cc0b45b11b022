/*
 * store.h - the coordinator's embedded store: one SQLite database in WAL
 * mode, schema migrations, and a single writer thread.
 *
 * Threads and connections (one SQLite connection per thread):
 *   - the writer thread owns the write connection.  Work reaches it as jobs
 *     through a queue; it takes every job waiting, runs them in ONE
 *     transaction (group commit), each inside its own SAVEPOINT so a failing
 *     job rolls back alone, commits, and then delivers each job's result to
 *     the loop thread through mm_http_call() (done callback).  A results
 *     line is acknowledged to an agent only from that callback, i.e. after
 *     the commit.
 *   - the loop thread reads through mm_store_reader() (WAL: readers never
 *     block the writer).  Reads are short; long scans page with LIMIT.
 *
 * Schema: server/schema.c holds the migrations, applied in order at open;
 * PRAGMA user_version records the last applied.  See schema.c for tables.
 */
#ifndef MM_STORE_H
#define MM_STORE_H

#include <stdint.h>

#include <sqlite3.h>

struct mm_store;
struct mm_http_server;

/* A job run on the writer thread inside the group transaction (its own
 * SAVEPOINT).  Returns 0 or MM_ERR_*; on error the savepoint is rolled back
 * and *err (sqlite3_mprintf'ed, may stay NULL) is passed to done. */
typedef int (*mm_store_job_fn)(sqlite3 *db, void *arg, char **err);
/* Runs on the loop thread after the transaction holding the job committed
 * (rc 0) or failed (rc < 0, err set or NULL; err is freed after done). */
typedef void (*mm_store_done_fn)(void *arg, int rc, const char *err);

/* Opens (creating) the database at path, sets WAL, synchronous=NORMAL,
 * busy_timeout, foreign_keys, applies migrations, starts the writer thread.
 * http may be NULL (tools, tests): done callbacks then run on the writer
 * thread.  Returns 0 or MM_ERR_* with *err (malloc'ed). */
int mm_store_open(const char *path, struct mm_http_server *http, struct mm_store **out,
		  char **err);
/* Drains the queue (every queued job runs and commits), stops the writer,
 * closes both connections.  NULL is fine.  Done callbacks still queued on
 * the loop may run after this (at shutdown, from mm_http_server_free):
 * the owner sets its pointer to NULL, and submit/run/reader/stats accept a
 * NULL store (MM_ERR_LIMIT, NULL, zeros). */
void mm_store_close(struct mm_store *s);
/* Queues a job.  Safe from any thread.  done may be NULL.  Returns 0 or
 * MM_ERR_NOMEM / MM_ERR_LIMIT when the queue is over its cap (caller replies
 * 503 so the agent retries later; nothing is lost). */
int mm_store_submit(struct mm_store *s, mm_store_job_fn fn, mm_store_done_fn done, void *arg);
/* The loop thread's read connection. */
sqlite3 *mm_store_reader(struct mm_store *s);
/* Runs fn synchronously on the writer thread and waits (startup, admin
 * tools: `mamori-server init`).  Never call it from a job.  Returns the
 * job's result; *err (malloc'ed, or NULL) gets the job's message. */
int mm_store_run(struct mm_store *s, mm_store_job_fn fn, void *arg, char **err);

/* Caps the queue at max jobs (default 10000, set before serving).
 * Jobs from mm_store_run are not refused. */
void mm_store_set_queue_max(struct mm_store *s, uint64_t max);
/* Sets a hook run on the writer thread just before each COMMIT (e.g. to
 * flush the results file, so lines acknowledged after the commit are in
 * the file).  A non-zero return rolls the whole group back: every job in
 * it fails with the hook's *err (sqlite3_mprintf'ed, may stay NULL). */
void mm_store_set_precommit(struct mm_store *s, int (*fn)(void *arg, char **err), void *arg);
/* For job functions: a prepared statement on the writer connection, cached
 * for the store's lifetime and keyed by the address of sql (pass a string
 * literal).  It comes back reset with its bindings cleared; never finalize
 * it.  Returns NULL with *err (sqlite3_mprintf'ed) when it does not
 * prepare or when called outside a job. */
sqlite3_stmt *mm_store_stmt(sqlite3 *db, const char *sql, char **err);

/* Statistics for /api/v1/status and benchmarks. */
struct mm_store_stats {
	uint64_t jobs;        /* jobs run */
	uint64_t commits;     /* transactions committed */
	uint64_t queue_len;   /* jobs waiting now */
};
void mm_store_stats(struct mm_store *s, struct mm_store_stats *st);

/* Migrations (server/schema.c). */
extern const char *const mm_schema_migrations[];
extern const int mm_schema_nmigrations;

#endif
