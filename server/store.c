/*
 * store.c - the coordinator's SQLite store: WAL, migrations, one writer
 * thread with group commit, one reader connection for the loop thread.
 *
 * The writer thread takes every job waiting (up to GROUP_MAX) and runs them
 * in one transaction:
 *
 *     BEGIN IMMEDIATE
 *       SAVEPOINT job; fn(job 1); RELEASE job        (or ROLLBACK TO + RELEASE
 *       SAVEPOINT job; fn(job 2); RELEASE job         when fn fails: that job
 *       ...                                           alone is undone)
 *     precommit hook (flush the results file)
 *     COMMIT
 *
 * then hands the whole group's done callbacks to the loop thread with one
 * mm_http_call().  One fsync-free commit (WAL, synchronous=NORMAL) for many
 * jobs is what lets log ingest keep up with thousands of agents: a commit
 * survives a crash of the process; a power cut may lose the last commits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http.h"
#include "store.h"

#define GROUP_MAX         1000 /* jobs per transaction: bounds commit latency */
#define QUEUE_MAX_DEFAULT 10000
#define BUSY_TIMEOUT_MS   5000

struct job {
	struct job *next;
	mm_store_job_fn fn;
	mm_store_done_fn done;
	void *arg;
	int rc;
	char *err; /* sqlite3_mprintf'ed */
	int sync;  /* mm_store_run: the caller waits on done_cv */
	int finished;
};

struct cached_stmt {
	const char *sql; /* key: the literal's address */
	sqlite3_stmt *st;
};

struct mm_store {
	sqlite3 *wdb; /* writer connection (writer thread only) */
	sqlite3 *rdb; /* reader connection (loop thread) */
	struct mm_http_server *http;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* jobs arrived / stopping */
	pthread_cond_t done_cv; /* a synchronous job finished */
	struct job *head, *tail;
	uint64_t qlen, qmax;
	int stopping;
	uint64_t jobs, commits; /* under mu */
	int (*precommit)(void *arg, char **err);
	void *precommit_arg;
	sqlite3_stmt *st_begin, *st_commit, *st_rollback, *st_sp, *st_release, *st_undo;
	struct cached_stmt *cache; /* writer thread only */
	size_t ncache, acache;
};

/* The store whose writer thread this is (for mm_store_stmt). */
static __thread struct mm_store *tl_store;

static char *fmt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_err(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Runs one of the control statements; returns the sqlite3_step code. */
static int step_ctl(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc;
}

static int exec_pragmas(sqlite3 *db, int writer, char **err)
{
	char *emsg = NULL;
	const char *sql = writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                           " PRAGMA foreign_keys=ON;"
	                         : "PRAGMA foreign_keys=ON; PRAGMA query_only=1;";

	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(db, sql, NULL, NULL, &emsg) != SQLITE_OK) {
		*err = fmt_err("%s", emsg != NULL ? emsg : sqlite3_errmsg(db));
		sqlite3_free(emsg);
		return MM_ERR_SQL;
	}
	return 0;
}

/* Applies the migrations past PRAGMA user_version, each in its own
 * transaction together with the new user_version. */
static int migrate(sqlite3 *db, const char *path, char **err)
{
	sqlite3_stmt *st = NULL;
	char *emsg = NULL, sql[64];
	int v = 0, i;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		*err = fmt_err("%s: %s", path, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return MM_ERR_SQL;
	}
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v > mm_schema_nmigrations) {
		*err = fmt_err("%s: schema version %d is newer than this program's (%d)", path, v,
		               mm_schema_nmigrations);
		return MM_ERR_USAGE;
	}
	for (i = v; i < mm_schema_nmigrations; i++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", i + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &emsg) != SQLITE_OK ||
		    sqlite3_exec(db, mm_schema_migrations[i], NULL, NULL, &emsg) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, &emsg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &emsg) != SQLITE_OK) {
			*err = fmt_err("%s: migration %d: %s", path, i + 1,
			               emsg != NULL ? emsg : sqlite3_errmsg(db));
			sqlite3_free(emsg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return MM_ERR_SQL;
		}
	}
	return 0;
}

static void job_fail(struct job *j, int rc, const char *msg)
{
	j->rc = rc;
	if (j->err == NULL)
		j->err = sqlite3_mprintf("%s", msg);
}

/* Runs a group of jobs in one transaction (see the file comment). */
static void run_group(struct mm_store *s, struct job *group, size_t n)
{
	sqlite3 *db = s->wdb;
	struct job *j, *first = group;
	char *herr = NULL;
	size_t i;
	int in_tx = 0;

	for (j = group; j != NULL; j = j->next) {
		if (!in_tx) {
			if (step_ctl(s->st_begin) != SQLITE_DONE) {
				job_fail(j, MM_ERR_SQL, sqlite3_errmsg(db));
				continue;
			}
			in_tx = 1;
			first = j;
		}
		j->err = NULL;
		if (step_ctl(s->st_sp) != SQLITE_DONE) {
			job_fail(j, MM_ERR_SQL, sqlite3_errmsg(db));
			continue;
		}
		j->rc = j->fn(db, j->arg, &j->err);
		if (j->rc > 0)
			j->rc = MM_ERR_INTERNAL;
		for (i = 0; i < s->ncache; i++)
			sqlite3_reset(s->cache[i].st);
		if (sqlite3_get_autocommit(db)) {
			/* An error (disk full, I/O) ended the whole transaction:
			 * the jobs before this one in it are undone too. */
			struct job *k;

			for (k = first; k != j; k = k->next)
				if (k->rc == 0)
					job_fail(k, MM_ERR_SQL,
					         "transaction rolled back by a later error");
			if (j->rc == 0)
				job_fail(j, MM_ERR_SQL, sqlite3_errmsg(db));
			in_tx = 0;
			continue;
		}
		if (j->rc != 0)
			step_ctl(s->st_undo);
		step_ctl(s->st_release);
	}
	if (in_tx) {
		int hr = 0;

		if (s->precommit != NULL)
			hr = s->precommit(s->precommit_arg, &herr);
		if (hr != 0 || step_ctl(s->st_commit) != SQLITE_DONE) {
			const char *msg = hr != 0 ? (herr != NULL ? herr : "precommit hook failed")
			                          : sqlite3_errmsg(db);

			for (j = first; j != NULL; j = j->next)
				if (j->rc == 0)
					job_fail(j, MM_ERR_SQL, msg);
			if (!sqlite3_get_autocommit(db))
				step_ctl(s->st_rollback);
		} else {
			pthread_mutex_lock(&s->mu);
			s->commits++;
			pthread_mutex_unlock(&s->mu);
		}
		sqlite3_free(herr);
	}
	pthread_mutex_lock(&s->mu);
	s->jobs += n;
	pthread_mutex_unlock(&s->mu);
}

static void free_job(struct job *j)
{
	sqlite3_free(j->err);
	free(j);
}

/* Loop thread: runs the done callbacks of one group, in order. */
static void deliver_on_loop(void *arg)
{
	struct job *j = arg, *next;

	for (; j != NULL; j = next) {
		next = j->next;
		j->done(j->arg, j->rc, j->err);
		free_job(j);
	}
}

/* Hands each finished job to whoever waits for it. */
static void deliver(struct mm_store *s, struct job *group)
{
	struct job *j, *next, *loop_head = NULL, **loop_tail = &loop_head;

	for (j = group; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		if (j->sync) {
			pthread_mutex_lock(&s->mu);
			j->finished = 1;
			pthread_cond_broadcast(&s->done_cv);
			pthread_mutex_unlock(&s->mu);
		} else if (j->done == NULL) {
			free_job(j);
		} else if (s->http == NULL) {
			j->done(j->arg, j->rc, j->err);
			free_job(j);
		} else {
			*loop_tail = j;
			loop_tail = &j->next;
		}
	}
	if (loop_head != NULL && mm_http_call(s->http, deliver_on_loop, loop_head) != 0) {
		/* Out of memory for one list node: the requests waiting for
		 * these callbacks could never be answered. */
		fprintf(stderr, "mamori-server: out of memory delivering store results\n");
		abort();
	}
}

static void *writer_main(void *arg)
{
	struct mm_store *s = arg;
	struct job *group, *j;
	size_t n;

	tl_store = s;
	pthread_setname_np(pthread_self(), "mm-store");
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->head == NULL)
			break;
		group = s->head;
		for (n = 1, j = group; j->next != NULL && n < GROUP_MAX; j = j->next)
			n++;
		s->head = j->next;
		if (s->head == NULL)
			s->tail = NULL;
		j->next = NULL;
		s->qlen -= n;
		pthread_mutex_unlock(&s->mu);
		run_group(s, group, n);
		deliver(s, group);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	tl_store = NULL;
	return NULL;
}

static int prepare_ctl(struct mm_store *s, char **err)
{
	static const struct {
		size_t off;
		const char *sql;
	} ctl[] = {
	    {offsetof(struct mm_store, st_begin), "BEGIN IMMEDIATE"},
	    {offsetof(struct mm_store, st_commit), "COMMIT"},
	    {offsetof(struct mm_store, st_rollback), "ROLLBACK"},
	    {offsetof(struct mm_store, st_sp), "SAVEPOINT job"},
	    {offsetof(struct mm_store, st_release), "RELEASE job"},
	    {offsetof(struct mm_store, st_undo), "ROLLBACK TO job"},
	};
	size_t i;

	for (i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		sqlite3_stmt **st = (sqlite3_stmt **)((char *)s + ctl[i].off);

		if (sqlite3_prepare_v3(s->wdb, ctl[i].sql, -1, SQLITE_PREPARE_PERSISTENT, st,
		                       NULL) != SQLITE_OK) {
			*err = fmt_err("%s: %s", ctl[i].sql, sqlite3_errmsg(s->wdb));
			return MM_ERR_SQL;
		}
	}
	return 0;
}

int mm_store_open(const char *path, struct mm_http_server *http, struct mm_store **out, char **err)
{
	struct mm_store *s;
	int r = MM_ERR_NOMEM;

	*out = NULL;
	*err = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	s->http = http;
	s->qmax = QUEUE_MAX_DEFAULT;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->done_cv, NULL);
	r = MM_ERR_SQL;
	if (sqlite3_open_v2(path, &s->wdb,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		*err = fmt_err("%s: %s", path,
		               s->wdb != NULL ? sqlite3_errmsg(s->wdb) : "cannot open");
		goto out;
	}
	sqlite3_extended_result_codes(s->wdb, 1);
	if ((r = exec_pragmas(s->wdb, 1, err)) != 0 || (r = migrate(s->wdb, path, err)) != 0 ||
	    (r = prepare_ctl(s, err)) != 0)
		goto out;
	r = MM_ERR_SQL;
	if (sqlite3_open_v2(path, &s->rdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		*err = fmt_err("%s: %s", path,
		               s->rdb != NULL ? sqlite3_errmsg(s->rdb) : "cannot open");
		goto out;
	}
	if ((r = exec_pragmas(s->rdb, 0, err)) != 0)
		goto out;
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		*err = fmt_err("cannot start the store's writer thread: %s", strerror(errno));
		r = MM_ERR_INTERNAL;
		goto out;
	}
	s->started = 1;
	*out = s;
	s = NULL;
	r = 0;
out:
	mm_store_close(s);
	return r;
}

void mm_store_close(struct mm_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	for (i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	free(s->cache);
	sqlite3_finalize(s->st_begin);
	sqlite3_finalize(s->st_commit);
	sqlite3_finalize(s->st_rollback);
	sqlite3_finalize(s->st_sp);
	sqlite3_finalize(s->st_release);
	sqlite3_finalize(s->st_undo);
	sqlite3_close(s->rdb);
	sqlite3_close(s->wdb);
	pthread_cond_destroy(&s->done_cv);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* Appends j to the queue; the caller holds mu. */
static void enqueue_locked(struct mm_store *s, struct job *j)
{
	if (s->tail != NULL)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->qlen++;
	pthread_cond_signal(&s->cv);
}

int mm_store_submit(struct mm_store *s, mm_store_job_fn fn, mm_store_done_fn done, void *arg)
{
	struct job *j;

	if (s == NULL)
		return MM_ERR_LIMIT; /* closed (shutdown) */
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return MM_ERR_NOMEM;
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&s->mu);
	if (s->stopping || s->qlen >= s->qmax) {
		pthread_mutex_unlock(&s->mu);
		free(j);
		return MM_ERR_LIMIT;
	}
	enqueue_locked(s, j);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int mm_store_run(struct mm_store *s, mm_store_job_fn fn, void *arg, char **err)
{
	struct job j;
	int rc;

	*err = NULL;
	if (s == NULL)
		return MM_ERR_LIMIT;
	memset(&j, 0, sizeof(j));
	j.fn = fn;
	j.arg = arg;
	j.sync = 1;
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return MM_ERR_LIMIT;
	}
	enqueue_locked(s, &j);
	while (!j.finished)
		pthread_cond_wait(&s->done_cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	rc = j.rc;
	if (j.err != NULL) {
		*err = strdup(j.err);
		sqlite3_free(j.err);
	}
	return rc;
}

sqlite3 *mm_store_reader(struct mm_store *s)
{
	return s != NULL ? s->rdb : NULL;
}

void mm_store_set_queue_max(struct mm_store *s, uint64_t max)
{
	pthread_mutex_lock(&s->mu);
	s->qmax = max > 0 ? max : QUEUE_MAX_DEFAULT;
	pthread_mutex_unlock(&s->mu);
}

void mm_store_set_precommit(struct mm_store *s, int (*fn)(void *arg, char **err), void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->precommit = fn;
	s->precommit_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

sqlite3_stmt *mm_store_stmt(sqlite3 *db, const char *sql, char **err)
{
	struct mm_store *s = tl_store;
	struct cached_stmt *c;
	sqlite3_stmt *st = NULL;
	size_t i;

	if (s == NULL || s->wdb != db) {
		*err = sqlite3_mprintf("mm_store_stmt called outside a store job");
		return NULL;
	}
	for (i = 0; i < s->ncache; i++) {
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].st);
			sqlite3_clear_bindings(s->cache[i].st);
			return s->cache[i].st;
		}
	}
	if (s->ncache == s->acache) {
		size_t na = s->acache ? 2 * s->acache : 32;

		if ((c = realloc(s->cache, na * sizeof(*c))) == NULL) {
			*err = sqlite3_mprintf("out of memory");
			return NULL;
		}
		s->cache = c;
		s->acache = na;
	}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache].st = st;
	s->ncache++;
	return st;
}

void mm_store_stats(struct mm_store *s, struct mm_store_stats *st)
{
	if (s == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&s->mu);
	st->jobs = s->jobs;
	st->commits = s->commits;
	st->queue_len = s->qlen;
	pthread_mutex_unlock(&s->mu);
}
