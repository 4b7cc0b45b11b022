/*
 * test_store.c - unit tests for server/store.c: migrations (and their
 * idempotence on reopen), group commit, a failing job rolled back alone
 * inside its group, the precommit hook, the queue cap, draining on close,
 * mm_store_run and the statement cache.  No HTTP server: done callbacks
 * run on the writer thread (http == NULL).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "store.h"
#include "unit.h"

static char dir[64];

static void make_dir(void)
{
	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/mm-test-store.XXXXXX");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
	}
}

/* A fresh database path for one test. */
static const char *db_path(const char *name)
{
	static char p[128];
	char side[160];

	make_dir();
	snprintf(p, sizeof(p), "%s/%s.db", dir, name);
	unlink(p);
	snprintf(side, sizeof(side), "%s-wal", p);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", p);
	unlink(side);
	return p;
}

static struct mm_store *open_store(const char *path)
{
	struct mm_store *s = NULL;
	char *err = NULL;

	if (mm_store_open(path, NULL, &s, &err) != 0) {
		fprintf(stderr, "mm_store_open(%s): %s\n", path, err ? err : "?");
		free(err);
		return NULL;
	}
	return s;
}

/* One value of a single-value query on a fresh read connection. */
static long long query_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		fprintf(stderr, "query_int(%s): %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* ---- a gate that holds the writer thread inside a job ------------------------- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_entered;

static int gate_job(sqlite3 *db, void *arg, char **err)
{
	(void)db;
	(void)arg;
	(void)err;
	pthread_mutex_lock(&gate_mu);
	gate_entered = 1;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return 0;
}

/* Queues gate_job and waits until the writer is inside it. */
static void gate_close(struct mm_store *s)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = 0;
	gate_entered = 0;
	pthread_mutex_unlock(&gate_mu);
	mm_store_submit(s, gate_job, NULL, NULL);
	pthread_mutex_lock(&gate_mu);
	while (!gate_entered)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void gate_release(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = 1;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* ---- jobs -------------------------------------------------------------------- */

struct put {
	char key[32];
	int fail; /* return an error after the insert */
	int rc;   /* from done */
	char err[128];
	int done;
};

static int put_job(sqlite3 *db, void *arg, char **err)
{
	static const char sql[] = "INSERT INTO meta(key, value) VALUES(?1, 'v')";
	struct put *p = arg;
	sqlite3_stmt *st = mm_store_stmt(db, sql, err);

	if (st == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_text(st, 1, p->key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
		return MM_ERR_SQL;
	}
	if (p->fail) {
		*err = sqlite3_mprintf("job %s refused", p->key);
		return MM_ERR_CONSTRAINT;
	}
	return 0;
}

static void put_done(void *arg, int rc, const char *err)
{
	struct put *p = arg;

	p->rc = rc;
	snprintf(p->err, sizeof(p->err), "%s", err != NULL ? err : "");
	p->done = 1;
}

TEST(migrations_and_reopen)
{
	const char *path = db_path("migrate");
	struct mm_store *s;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	mm_store_close(s);
	ASSERT_INT_EQ(query_int(path, "PRAGMA user_version"), mm_schema_nmigrations);
	ASSERT_INT_EQ(query_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	/* Reopening applies nothing twice (a second CREATE TABLE would fail). */
	ASSERT_TRUE((s = open_store(path)) != NULL);
	mm_store_close(s);
	ASSERT_INT_EQ(query_int(path, "PRAGMA user_version"), mm_schema_nmigrations);
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'hosts'"),
	              1);
}

TEST(newer_schema_refused)
{
	const char *path = db_path("newer");
	struct mm_store *s = NULL;
	sqlite3 *db = NULL;
	char *err = NULL, sql[64];

	sqlite3_open(path, &db);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", mm_schema_nmigrations + 1);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	ASSERT_INT_EQ(mm_store_open(path, NULL, &s, &err), MM_ERR_USAGE);
	ASSERT_TRUE(s == NULL);
	ASSERT_TRUE(err != NULL && strstr(err, "newer") != NULL);
	free(err);
}

TEST(group_commit_and_savepoints)
{
	const char *path = db_path("group");
	struct mm_store_stats st;
	struct mm_store *s;
	struct put p[50];
	int i;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	if (s == NULL)
		return;
	gate_close(s);
	memset(p, 0, sizeof(p));
	for (i = 0; i < 50; i++) {
		snprintf(p[i].key, sizeof(p[i].key), "k%02d", i);
		p[i].fail = i == 17 || i == 33;
		ASSERT_INT_EQ(mm_store_submit(s, put_job, put_done, &p[i]), 0);
	}
	mm_store_stats(s, &st);
	ASSERT_INT_EQ(st.queue_len, 50);
	gate_release();
	mm_store_close(s); /* drains */
	for (i = 0; i < 50; i++) {
		ASSERT_INT_EQ(p[i].done, 1);
		ASSERT_INT_EQ(p[i].rc, p[i].fail ? MM_ERR_CONSTRAINT : 0);
	}
	ASSERT_STR_EQ(p[17].err, "job k17 refused");
	ASSERT_STR_EQ(p[16].err, "");
	/* The failing jobs' rows are gone, their neighbours' are there. */
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM meta"), 48);
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM meta WHERE key IN ('k17', 'k33')"), 0);
	ASSERT_INT_EQ(
	    query_int(path, "SELECT count(*) FROM meta WHERE key IN ('k16', 'k18', 'k49')"), 3);
}

TEST(one_commit_for_a_group)
{
	const char *path = db_path("commits");
	struct mm_store_stats st;
	struct mm_store *s;
	struct put p[20];
	char *err = NULL;
	int i;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	if (s == NULL)
		return;
	gate_close(s);
	memset(p, 0, sizeof(p));
	for (i = 0; i < 20; i++) {
		snprintf(p[i].key, sizeof(p[i].key), "c%d", i);
		mm_store_submit(s, put_job, put_done, &p[i]);
	}
	gate_release();
	/* A synchronous job queued behind them returns after they ran. */
	{
		struct put last = {"sync", 0, 0, "", 0};

		ASSERT_INT_EQ(mm_store_run(s, put_job, &last, &err), 0);
		ASSERT_TRUE(err == NULL);
	}
	mm_store_stats(s, &st);
	ASSERT_INT_EQ(st.jobs, 22);
	/* gate + the 20 (one group) + the synchronous one: at most 3. */
	ASSERT_TRUE(st.commits >= 2 && st.commits <= 3);
	ASSERT_INT_EQ(st.queue_len, 0);
	mm_store_close(s);
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM meta"), 21);
}

TEST(run_reports_errors)
{
	const char *path = db_path("run");
	struct mm_store *s;
	struct put p = {"dup", 0, 0, "", 0};
	char *err = NULL;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	if (s == NULL)
		return;
	ASSERT_INT_EQ(mm_store_run(s, put_job, &p, &err), 0);
	/* The same key again violates the primary key. */
	ASSERT_INT_EQ(mm_store_run(s, put_job, &p, &err), MM_ERR_SQL);
	ASSERT_TRUE(err != NULL && strstr(err, "UNIQUE constraint failed") != NULL);
	free(err);
	mm_store_close(s);
}

static int hook_calls, hook_fail;

static int hook(void *arg, char **err)
{
	(void)arg;
	hook_calls++;
	if (hook_fail) {
		*err = sqlite3_mprintf("disk full (test)");
		return MM_ERR_IO;
	}
	return 0;
}

TEST(precommit_hook)
{
	const char *path = db_path("hook");
	struct mm_store *s;
	struct put a = {"a", 0, 0, "", 0}, b = {"b", 0, 0, "", 0};
	char *err = NULL;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	if (s == NULL)
		return;
	mm_store_set_precommit(s, hook, NULL);
	hook_calls = 0;
	hook_fail = 0;
	ASSERT_INT_EQ(mm_store_run(s, put_job, &a, &err), 0);
	ASSERT_INT_EQ(hook_calls, 1);
	hook_fail = 1;
	ASSERT_INT_EQ(mm_store_run(s, put_job, &b, &err), MM_ERR_SQL);
	ASSERT_STR_EQ(err, "disk full (test)");
	free(err);
	mm_store_close(s);
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM meta WHERE key = 'a'"), 1);
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM meta WHERE key = 'b'"), 0);
}

TEST(queue_cap)
{
	const char *path = db_path("cap");
	struct mm_store *s;
	struct put p[6];
	int i;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	if (s == NULL)
		return;
	mm_store_set_queue_max(s, 5);
	gate_close(s);
	memset(p, 0, sizeof(p));
	for (i = 0; i < 6; i++)
		snprintf(p[i].key, sizeof(p[i].key), "q%d", i);
	for (i = 0; i < 5; i++)
		ASSERT_INT_EQ(mm_store_submit(s, put_job, put_done, &p[i]), 0);
	ASSERT_INT_EQ(mm_store_submit(s, put_job, put_done, &p[5]), MM_ERR_LIMIT);
	gate_release();
	mm_store_close(s);
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM meta"), 5);
	ASSERT_INT_EQ(p[5].done, 0);
}

TEST(drain_on_close)
{
	const char *path = db_path("drain");
	struct mm_store *s;
	struct put *p = calloc(500, sizeof(*p));
	int i, ok = 1;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	if (s == NULL || p == NULL)
		return;
	for (i = 0; i < 500; i++) {
		snprintf(p[i].key, sizeof(p[i].key), "d%d", i);
		if (mm_store_submit(s, put_job, put_done, &p[i]) != 0)
			ok = 0;
	}
	ASSERT_INT_EQ(ok, 1);
	mm_store_close(s);
	for (i = 0; i < 500; i++)
		if (!p[i].done || p[i].rc != 0)
			ok = 0;
	ASSERT_INT_EQ(ok, 1);
	ASSERT_INT_EQ(query_int(path, "SELECT count(*) FROM meta"), 500);
	free(p);
}

TEST(stmt_outside_a_job)
{
	const char *path = db_path("stmt");
	struct mm_store *s;
	char *err = NULL;

	ASSERT_TRUE((s = open_store(path)) != NULL);
	if (s == NULL)
		return;
	ASSERT_TRUE(mm_store_stmt(mm_store_reader(s), "SELECT 1", &err) == NULL);
	ASSERT_STR_EQ(err, "mm_store_stmt called outside a store job");
	sqlite3_free(err);
	/* The reader cannot write. */
	ASSERT_INT_EQ(
	    sqlite3_exec(mm_store_reader(s), "INSERT INTO meta VALUES('x', 'y')", NULL, NULL, NULL),
	    SQLITE_READONLY);
	mm_store_close(s);
}

static void cleanup(void)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

static void register_cleanup(void)
{
	atexit(cleanup);
}

TEST(setup)
{
	register_cleanup();
}

UNIT_MAIN(T(setup), T(migrations_and_reopen), T(newer_schema_refused),
          T(group_commit_and_savepoints), T(one_commit_for_a_group), T(run_reports_errors),
          T(precommit_hook), T(queue_cap), T(drain_on_close), T(stmt_outside_a_job))
