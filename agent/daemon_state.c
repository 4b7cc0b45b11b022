/*
 * daemon_state.c - the daemon's state DB (STATE_DIR/mamori-state.db, WAL,
 * mode 0600): settings (node key, next sequence number, cached config), the
 * last result set of every scheduled query, and the queue of result and
 * status lines waiting for the coordinator.
 *
 * Schema:
 *   kv(key, value)                       node_key, next_seq, config
 *   queries(name, query, epoch, counter, results, last_run)
 *                                        results: JSON array, NULL = none
 *   queue(seq, type, line, size, dropped)
 *                                        seq: per-host, increasing, never
 *                                        reused (kv next_seq, which a new DB
 *                                        starts at the time in microseconds);
 *                                        type 0 result,
 *                                        1 status; dropped: count carried by a
 *                                        queue-full report line
 *
 *   verdicts(policy, hash, verdict, reason, rows, evaluated_at, gen, sent)
 *                                        the latest verdict per policy of
 *                                        the config; hash: of the policy
 *                                        source it came from; gen: change
 *                                        number (max + 1 at each change);
 *                                        sent: 1 once the coordinator
 *                                        acknowledged a report carrying it
 *
 * The queue is always a contiguous range of seq: lines are appended at the
 * end and removed only from the front (acknowledged, or dropped when full).
 * Row and byte totals are kept in memory (recounted at open and after a
 * rollback) so bounds checks cost nothing per line.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "error.h"
#include "strutil.h"

struct mm_state {
	sqlite3 *db;
	int64_t max_rows, max_bytes;
	int64_t rows, bytes; /* queue totals */
	int64_t next_seq;    /* next queue sequence number */
	int seq_dirty;       /* next_seq changed in this transaction */
	int in_txn;
	sqlite3_stmt *ins; /* INSERT INTO queue, prepared on first use */
	int lock_fd;       /* STATE_DIR/mamori-state.lock, flock'ed */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS queries("
    "  name TEXT PRIMARY KEY,"
    "  query TEXT NOT NULL,"
    "  epoch INTEGER NOT NULL,"
    "  counter INTEGER NOT NULL,"
    "  results TEXT,"
    "  last_run INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS queue("
    "  seq INTEGER PRIMARY KEY,"
    "  type INTEGER NOT NULL,"
    "  line TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  dropped INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS verdicts("
    "  policy TEXT PRIMARY KEY,"
    "  hash TEXT NOT NULL,"
    "  verdict TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  rows TEXT,"
    "  evaluated_at INTEGER NOT NULL,"
    "  gen INTEGER NOT NULL,"
    "  sent INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

static int sqlerr(sqlite3 *db, const char *what, char **err)
{
	struct mm_buf b;

	mm_buf_init(&b, 4096);
	mm_buf_addf(&b, "state DB: %s: %s", what,
	            db != NULL ? sqlite3_errmsg(db) : "out of memory");
	free(*err);
	*err = mm_buf_take(&b);
	return MM_ERR_SQL;
}

static int exec(struct mm_state *st, const char *sql, char **err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sqlerr(st->db, sql, err);
	return 0;
}

static int prepare(struct mm_state *st, const char *sql, sqlite3_stmt **s, char **err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return sqlerr(st->db, "prepare", err);
	return 0;
}

/* Reloads the queue totals and next_seq from the database. */
static int load_counters(struct mm_state *st, char **err)
{
	sqlite3_stmt *s = NULL;
	int r = MM_ERR_SQL;
	int64_t maxseq = 0;
	char *v = NULL;

	if ((r = prepare(st, "SELECT count(*), total(size), ifnull(max(seq), 0) FROM queue", &s,
	                 err)) != 0)
		return r;
	if (sqlite3_step(s) != SQLITE_ROW) {
		r = sqlerr(st->db, "count queue", err);
		goto out;
	}
	st->rows = sqlite3_column_int64(s, 0);
	st->bytes = (int64_t)sqlite3_column_double(s, 1);
	maxseq = sqlite3_column_int64(s, 2);
	if ((r = mm_state_kv_get(st, "next_seq", &v, err)) != 0)
		goto out;
	st->seq_dirty = 0;
	if (v == NULL || mm_parse_i64(v, &st->next_seq) != 0 || st->next_seq < 1) {
		/* A new state DB (first start, or the old one was lost): the
		 * coordinator may still know this host, with the numbers it got
		 * before, and skips numbers it has seen.  Starting at the time in
		 * microseconds stays above them unless the host sent more than a
		 * million lines per second on average. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		st->next_seq = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		if (st->next_seq < 1)
			st->next_seq = 1;
		st->seq_dirty = 1;
	}
	/* Never hand out a number that is already queued (or was, before a lost
	 * kv write). */
	if (st->next_seq <= maxseq) {
		st->next_seq = maxseq + 1;
		st->seq_dirty = 1;
	}
	r = 0;
out:
	free(v);
	sqlite3_finalize(s);
	return r;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int make_dirs(const char *dir, char **err)
{
	char path[4096];
	size_t i, n = strlen(dir);
	struct mm_buf b;

	if (n == 0 || n >= sizeof(path))
		goto bad;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			goto bad;
		if (i < n)
			path[i] = '/';
	}
	return 0;
bad:
	mm_buf_init(&b, 8192);
	mm_buf_addf(&b, "state_dir '%s': %s", dir,
	            n == 0 || n >= sizeof(path) ? "bad path" : strerror(errno));
	*err = mm_buf_take(&b);
	return MM_ERR_IO;
}

int mm_state_open(const char *dir, int64_t max_rows, int64_t max_bytes, struct mm_state **out,
                  char **err)
{
	struct mm_state *st = NULL;
	struct mm_buf b;
	struct stat sb;
	char *path = NULL;
	int r = MM_ERR_NOMEM, fd;

	*out = NULL;
	*err = NULL;
	if ((r = make_dirs(dir, err)) != 0)
		return r;
	/* The directory holds the node key: only its owner may enter it. */
	if (stat(dir, &sb) == 0 && (sb.st_mode & 077) != 0 && sb.st_uid == geteuid())
		(void)chmod(dir, 0700);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MM_ERR_NOMEM;
	st->lock_fd = -1;
	/* One daemon per state directory: a second one would run every query
	 * twice (its lines would still arrive once, by sequence number). */
	mm_buf_init(&b, 8192);
	if (mm_buf_addf(&b, "%s/mamori-state.lock", dir) != 0 || (path = mm_buf_take(&b)) == NULL) {
		*err = strdup("state_dir: path too long");
		r = MM_ERR_IO;
		goto out;
	}
	if ((st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = st->lock_fd >= 0 && errno == EWOULDBLOCK;
		mm_buf_init(&b, 8192);
		mm_buf_addf(&b, "%s: %s", path,
		            busy ? "in use by another mamori daemon" : strerror(errno));
		*err = mm_buf_take(&b);
		r = busy ? MM_ERR_DENIED : MM_ERR_IO;
		goto out;
	}
	free(path);
	path = NULL;
	mm_buf_init(&b, 8192);
	if (mm_buf_addf(&b, "%s/mamori-state.db", dir) != 0 || (path = mm_buf_take(&b)) == NULL) {
		*err = strdup("state_dir: path too long");
		r = MM_ERR_IO;
		goto out;
	}
	/* Create the file 0600 ourselves; SQLite gives the -wal and -shm files
	 * the database file's mode. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		mm_buf_init(&b, 8192);
		mm_buf_addf(&b, "%s: %s", path, strerror(errno));
		*err = mm_buf_take(&b);
		r = MM_ERR_IO;
		goto out;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0)
		(void)fchmod(fd, 0600);
	close(fd);
	st->max_rows = max_rows;
	st->max_bytes = max_bytes;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = sqlerr(st->db, path, err);
		goto out;
	}
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	if ((r = exec(st, "PRAGMA journal_mode=WAL", err)) != 0 ||
	    (r = exec(st, "PRAGMA synchronous=NORMAL", err)) != 0 ||
	    (r = exec(st, schema, err)) != 0 || (r = load_counters(st, err)) != 0)
		goto out;
	if (st->seq_dirty) {
		char v[32];
		snprintf(v, sizeof(v), "%lld", (long long)st->next_seq);
		if ((r = mm_state_kv_set(st, "next_seq", v, err)) != 0)
			goto out;
		st->seq_dirty = 0;
	}
	*out = st;
	st = NULL;
	r = 0;
out:
	free(path);
	mm_state_close(st);
	return r;
}

void mm_state_close(struct mm_state *st)
{
	if (st == NULL)
		return;
	if (st->in_txn)
		mm_state_rollback(st);
	sqlite3_finalize(st->ins);
	sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the flock */
	free(st);
}

void mm_state_set_bounds(struct mm_state *st, int64_t max_rows, int64_t max_bytes)
{
	st->max_rows = max_rows;
	st->max_bytes = max_bytes;
}

int mm_state_begin(struct mm_state *st, char **err)
{
	int r;

	if (st->in_txn)
		return 0;
	if ((r = exec(st, "BEGIN IMMEDIATE", err)) != 0)
		return r;
	st->in_txn = 1;
	return 0;
}

int mm_state_commit(struct mm_state *st, char **err)
{
	char v[32];
	int r;

	if (!st->in_txn)
		return 0;
	if (st->seq_dirty) {
		snprintf(v, sizeof(v), "%lld", (long long)st->next_seq);
		if ((r = mm_state_kv_set(st, "next_seq", v, err)) != 0) {
			mm_state_rollback(st);
			return r;
		}
	}
	if ((r = exec(st, "COMMIT", err)) != 0) {
		mm_state_rollback(st);
		return r;
	}
	st->in_txn = 0;
	st->seq_dirty = 0;
	return 0;
}

void mm_state_rollback(struct mm_state *st)
{
	char *err = NULL;

	if (!st->in_txn)
		return;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_txn = 0;
	if (load_counters(st, &err) != 0) {
		mm_dlog(MM_DLOG_ERROR, "%s", err);
		free(err);
	}
}

int mm_state_kv_get(struct mm_state *st, const char *key, char **val, char **err)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	*val = NULL;
	if ((r = prepare(st, "SELECT value FROM kv WHERE key = ?", &s, err)) != 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		if ((*val = strdup(v != NULL ? v : "")) == NULL)
			r = MM_ERR_NOMEM;
	} else if (rc != SQLITE_DONE) {
		r = sqlerr(st->db, "read setting", err);
	}
	sqlite3_finalize(s);
	return r;
}

int mm_state_kv_set(struct mm_state *st, const char *key, const char *val, char **err)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = prepare(st,
	                 val != NULL ? "INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)"
	                             : "DELETE FROM kv WHERE key = ?",
	                 &s, err)) != 0)
		return r;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (val != NULL)
		sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqlerr(st->db, "write setting", err);
	sqlite3_finalize(s);
	return r;
}

void mm_query_state_clear(struct mm_query_state *qs)
{
	free(qs->query);
	json_decref(qs->results);
	memset(qs, 0, sizeof(*qs));
}

int mm_state_query_get(struct mm_state *st, const char *name, struct mm_query_state *qs, char **err)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	memset(qs, 0, sizeof(*qs));
	if ((r = prepare(st,
	                 "SELECT query, epoch, counter, results, last_run FROM queries "
	                 "WHERE name = ?",
	                 &s, err)) != 0)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *q = (const char *)sqlite3_column_text(s, 0);
		qs->exists = 1;
		qs->epoch = sqlite3_column_int64(s, 1);
		qs->counter = sqlite3_column_int64(s, 2);
		qs->last_run = sqlite3_column_int64(s, 4);
		if ((qs->query = strdup(q != NULL ? q : "")) == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
			json_error_t je;
			qs->results = json_loadb((const char *)sqlite3_column_blob(s, 3),
			                         (size_t)sqlite3_column_bytes(s, 3), 0, &je);
			/* A damaged result set only costs a new epoch. */
			if (qs->results != NULL && !json_is_array(qs->results)) {
				json_decref(qs->results);
				qs->results = NULL;
			}
		}
	} else if (rc != SQLITE_DONE) {
		r = sqlerr(st->db, "read query state", err);
	}
out:
	sqlite3_finalize(s);
	if (r != 0)
		mm_query_state_clear(qs);
	return r;
}

int mm_state_query_put(struct mm_state *st, const char *name, const struct mm_query_state *qs,
                       char **err)
{
	sqlite3_stmt *s = NULL;
	char *json = NULL;
	int r;

	if (qs->results != NULL &&
	    (json = json_dumps(qs->results, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		return MM_ERR_NOMEM;
	if ((r = prepare(st,
	                 "INSERT OR REPLACE INTO queries(name, query, epoch, counter, results, "
	                 "last_run) VALUES (?, ?, ?, ?, ?, ?)",
	                 &s, err)) != 0)
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, qs->query != NULL ? qs->query : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, qs->epoch);
	sqlite3_bind_int64(s, 4, qs->counter);
	if (json != NULL)
		sqlite3_bind_text(s, 5, json, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int64(s, 6, qs->last_run);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqlerr(st->db, "write query state", err);
out:
	sqlite3_finalize(s);
	free(json);
	return r;
}

int mm_state_query_retain(struct mm_state *st, char *const *names, size_t n, char **err)
{
	sqlite3_stmt *s = NULL;
	int r;
	size_t i;

	/* A temporary table of the names keeps this one statement whatever n is. */
	if ((r = exec(st,
	              "CREATE TEMP TABLE IF NOT EXISTS keep(name TEXT PRIMARY KEY);"
	              "DELETE FROM keep;",
	              err)) != 0)
		return r;
	if ((r = prepare(st, "INSERT OR IGNORE INTO keep(name) VALUES (?)", &s, err)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(s, 1, names[i], -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			r = sqlerr(st->db, "retain", err);
			goto out;
		}
		sqlite3_reset(s);
	}
	r = exec(st,
	         "UPDATE queries SET results = NULL WHERE results IS NOT NULL AND "
	         "name NOT IN (SELECT name FROM keep); DELETE FROM keep;",
	         err);
out:
	sqlite3_finalize(s);
	return r;
}

int mm_state_enqueue(struct mm_state *st, int type, const char *line, size_t len, int64_t dropped,
                     char **err)
{
	sqlite3_stmt *s;
	int r;

	/* Prepared once: a first full result may queue thousands of lines. */
	if (st->ins == NULL &&
	    (r = prepare(st,
	                 "INSERT INTO queue(seq, type, line, size, dropped) VALUES (?, ?, ?, ?, ?)",
	                 &st->ins, err)) != 0)
		return r;
	s = st->ins;
	sqlite3_bind_int64(s, 1, st->next_seq);
	sqlite3_bind_int(s, 2, type);
	sqlite3_bind_text(s, 3, line, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)len);
	sqlite3_bind_int64(s, 5, dropped);
	if (sqlite3_step(s) != SQLITE_DONE) {
		r = sqlerr(st->db, "queue a line", err);
	} else {
		st->next_seq++;
		st->seq_dirty = 1;
		st->rows++;
		st->bytes += (int64_t)len;
		r = 0;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int mm_state_over_bounds(const struct mm_state *st)
{
	return st->rows > st->max_rows || st->bytes > st->max_bytes;
}

void mm_state_queue_stats(const struct mm_state *st, int64_t *rows, int64_t *bytes)
{
	*rows = st->rows;
	*bytes = st->bytes;
}

int mm_state_trim(struct mm_state *st, int64_t reserve_rows, int64_t reserve_bytes,
                  int64_t *dropped_results, int64_t *dropped_status, int64_t *carried, char **err)
{
	sqlite3_stmt *s = NULL, *d = NULL;
	int64_t rows = st->rows, bytes = st->bytes, last = -1;
	int r, rc;

	if ((r = prepare(st, "SELECT seq, type, size, dropped FROM queue ORDER BY seq", &s, err)) !=
	    0)
		return r;
	while ((rows + reserve_rows > st->max_rows || bytes + reserve_bytes > st->max_bytes) &&
	       (rc = sqlite3_step(s)) == SQLITE_ROW) {
		last = sqlite3_column_int64(s, 0);
		if (sqlite3_column_int64(s, 3) > 0)
			*carried += sqlite3_column_int64(s, 3); /* a report: its count lives on */
		else if (sqlite3_column_int(s, 1) == MM_LINE_RESULT)
			(*dropped_results)++;
		else
			(*dropped_status)++;
		rows--;
		bytes -= sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	if (last < 0)
		return 0;
	if ((r = prepare(st, "DELETE FROM queue WHERE seq <= ?", &d, err)) != 0)
		return r;
	sqlite3_bind_int64(d, 1, last);
	if (sqlite3_step(d) != SQLITE_DONE) {
		r = sqlerr(st->db, "drop queued lines", err);
	} else {
		st->rows = rows;
		st->bytes = bytes;
	}
	sqlite3_finalize(d);
	return r;
}

void mm_batch_init(struct mm_batch *b)
{
	memset(b, 0, sizeof(*b));
	mm_buf_init(&b->data, MM_LOG_BATCH_BYTES + 4096);
}

void mm_batch_free(struct mm_batch *b)
{
	mm_buf_free(&b->data);
	b->n = 0;
}

int mm_state_queue_batch(struct mm_state *st, size_t max_lines, size_t max_bytes,
                         struct mm_batch *b, char **err)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	mm_buf_reset(&b->data);
	b->n = 0;
	b->first_seq = b->last_seq = 0;
	if ((r = prepare(st, "SELECT seq, type, line, size FROM queue ORDER BY seq LIMIT ?", &s,
	                 err)) != 0)
		return r;
	sqlite3_bind_int64(s, 1, (int64_t)max_lines);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0);
		int type = sqlite3_column_int(s, 1);
		const char *line = (const char *)sqlite3_column_text(s, 2);
		size_t len = (size_t)sqlite3_column_bytes(s, 2);

		if (b->n > 0 && (type != b->type || seq != b->last_seq + 1 ||
		                 b->data.len + len + 1 > max_bytes))
			break;
		if (b->n == 0) {
			b->type = type;
			b->first_seq = seq;
		} else if ((r = mm_buf_addc(&b->data, ',')) != 0) {
			break;
		}
		if ((r = mm_buf_add(&b->data, line != NULL ? line : "{}",
		                    line != NULL ? len : 2)) != 0)
			break;
		b->last_seq = seq;
		b->n++;
	}
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlerr(st->db, "read the queue", err);
	sqlite3_finalize(s);
	if (r == MM_ERR_TOOBIG && b->n > 0)
		r = 0; /* send what fits; the rest goes in the next batch */
	return r;
}

int mm_state_queue_ack(struct mm_state *st, int64_t last_seq, char **err)
{
	sqlite3_stmt *s = NULL;
	int64_t n = 0, bytes = 0;
	int r;

	if ((r = mm_state_begin(st, err)) != 0)
		return r;
	/* Count what goes (a rowid range: only the batch is read). */
	if ((r = prepare(st, "SELECT count(*), total(size) FROM queue WHERE seq <= ?", &s, err)) !=
	    0)
		goto out;
	sqlite3_bind_int64(s, 1, last_seq);
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
		bytes = (int64_t)sqlite3_column_double(s, 1);
	}
	sqlite3_finalize(s);
	if ((r = prepare(st, "DELETE FROM queue WHERE seq <= ?", &s, err)) != 0)
		goto out;
	sqlite3_bind_int64(s, 1, last_seq);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqlerr(st->db, "delete acknowledged lines", err);
	sqlite3_finalize(s);
out:
	if (r == 0 && (r = mm_state_commit(st, err)) == 0) {
		st->rows -= n;
		st->bytes -= bytes;
	} else if (r != 0) {
		mm_state_rollback(st);
	}
	return r;
}

/* ---- verdicts ---------------------------------------------------------------- */

void mm_vrec_clear(struct mm_vrec *v)
{
	free(v->policy);
	free(v->reason);
	free(v->rows);
	memset(v, 0, sizeof(*v));
}

/* Opens a transaction unless one is; *own says whether to close it. */
static int own_begin(struct mm_state *st, int *own, char **err)
{
	*own = !st->in_txn;
	return *own ? mm_state_begin(st, err) : 0;
}

/* Ends what own_begin opened: commit when r == 0, else roll back. */
static int own_end(struct mm_state *st, int own, int r, char **err)
{
	if (!own)
		return r;
	if (r == 0)
		return mm_state_commit(st, err);
	mm_state_rollback(st);
	return r;
}

static int same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int mm_state_verdict_put(struct mm_state *st, const struct mm_vrec *v, const char *hash,
                         int *changed, char **err)
{
	sqlite3_stmt *s = NULL;
	int r, rc, own = 0, differs = 1;

	if (changed != NULL)
		*changed = 0;
	if ((r = own_begin(st, &own, err)) != 0)
		return r;
	if ((r = prepare(st, "SELECT verdict, reason, rows FROM verdicts WHERE policy = ?", &s,
	                 err)) != 0)
		goto out;
	sqlite3_bind_text(s, 1, v->policy, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		differs = !same_text((const char *)sqlite3_column_text(s, 0), v->verdict) ||
		          !same_text((const char *)sqlite3_column_text(s, 1), v->reason) ||
		          !same_text((const char *)sqlite3_column_text(s, 2), v->rows);
	} else if (rc != SQLITE_DONE) {
		r = sqlerr(st->db, "read a verdict", err);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (differs)
		r = prepare(st,
		            "INSERT OR REPLACE INTO verdicts(policy, hash, verdict, reason, rows,"
		            " evaluated_at, gen, sent) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		            " (SELECT ifnull(max(gen), 0) + 1 FROM verdicts), 0)",
		            &s, err);
	else
		r = prepare(st,
		            "UPDATE verdicts SET hash = ?2, evaluated_at = ?6 WHERE policy = ?1",
		            &s, err);
	if (r != 0)
		goto out;
	sqlite3_bind_text(s, 1, v->policy, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hash != NULL ? hash : "", -1, SQLITE_STATIC);
	if (differs) {
		sqlite3_bind_text(s, 3, v->verdict, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, v->reason != NULL ? v->reason : "", -1, SQLITE_STATIC);
		if (v->rows != NULL)
			sqlite3_bind_text(s, 5, v->rows, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 5);
	}
	sqlite3_bind_int64(s, 6, v->evaluated_at);
	if (sqlite3_step(s) != SQLITE_DONE) {
		r = sqlerr(st->db, "store a verdict", err);
		goto out;
	}
	if (changed != NULL)
		*changed = differs;
out:
	sqlite3_finalize(s);
	r = own_end(st, own, r, err);
	if (r != 0 && changed != NULL)
		*changed = 0;
	return r;
}

int mm_state_verdict_last(struct mm_state *st, const char *policy, int64_t *evaluated_at,
                          char *hash, char **err)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	*evaluated_at = 0;
	hash[0] = '\0';
	if ((r = prepare(st, "SELECT evaluated_at, hash FROM verdicts WHERE policy = ?", &s,
	                 err)) != 0)
		return r;
	sqlite3_bind_text(s, 1, policy, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 1);
		*evaluated_at = sqlite3_column_int64(s, 0);
		snprintf(hash, 65, "%s", h != NULL ? h : "");
	} else if (rc != SQLITE_DONE) {
		r = sqlerr(st->db, "read a verdict", err);
	}
	sqlite3_finalize(s);
	return r;
}

int mm_state_verdicts_retain(struct mm_state *st, char *const *ids, size_t n, int64_t *removed,
                             char **err)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int r, own = 0;

	if (removed != NULL)
		*removed = 0;
	if ((r = own_begin(st, &own, err)) != 0)
		return r;
	/* As mm_state_query_retain: one statement whatever n is. */
	if ((r = exec(st,
	              "CREATE TEMP TABLE IF NOT EXISTS keep_policy(id TEXT PRIMARY KEY);"
	              "DELETE FROM keep_policy;",
	              err)) != 0)
		goto out;
	if ((r = prepare(st, "INSERT OR IGNORE INTO keep_policy(id) VALUES (?)", &s, err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			r = sqlerr(st->db, "retain verdicts", err);
			goto out;
		}
		sqlite3_reset(s);
	}
	if ((r = exec(st, "DELETE FROM verdicts WHERE policy NOT IN (SELECT id FROM keep_policy)",
	              err)) != 0)
		goto out;
	if (removed != NULL)
		*removed = sqlite3_changes(st->db);
	r = exec(st, "DELETE FROM keep_policy", err);
out:
	sqlite3_finalize(s);
	return own_end(st, own, r, err);
}

int mm_state_verdicts_count(struct mm_state *st, int64_t *total, int64_t *unsent, char **err)
{
	sqlite3_stmt *s = NULL;
	int r;

	*total = *unsent = 0;
	if ((r = prepare(st, "SELECT count(*), total(sent = 0) FROM verdicts", &s, err)) != 0)
		return r;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*total = sqlite3_column_int64(s, 0);
		*unsent = (int64_t)sqlite3_column_double(s, 1);
	} else {
		r = sqlerr(st->db, "count verdicts", err);
	}
	sqlite3_finalize(s);
	return r;
}

/* {"policy", "verdict", "reason", "rows", "evaluated_at"} from a row of
 * (policy, verdict, reason, rows, evaluated_at); rows_marker replaces the
 * rows when not NULL.  NULL on out-of-memory. */
static json_t *verdict_json(sqlite3_stmt *s, const char *rows_marker)
{
	const char *rows = (const char *)sqlite3_column_text(s, 3);
	json_t *o, *jr = NULL;

	if (rows_marker != NULL && rows != NULL)
		jr = json_loads(rows_marker, 0, NULL);
	else if (rows != NULL)
		jr = json_loadb(rows, (size_t)sqlite3_column_bytes(s, 3), 0, NULL);
	if (jr == NULL || !json_is_array(jr)) {
		json_decref(jr);
		jr = json_null();
	}
	o = json_pack("{s:s, s:s, s:s, s:o, s:I}", "policy",
	              (const char *)sqlite3_column_text(s, 0), "verdict",
	              (const char *)sqlite3_column_text(s, 1), "reason",
	              (const char *)sqlite3_column_text(s, 2), "rows", jr, "evaluated_at",
	              (json_int_t)sqlite3_column_int64(s, 4));
	return o;
}

int mm_state_verdicts_report(struct mm_state *st, int full, size_t max_n, size_t max_bytes,
                             json_t **out, int64_t *last_gen, char **err)
{
	static const char marker[] = "[{\"mamori_truncated\":\"rows left out: full report too "
	                             "large\"}]";
	sqlite3_stmt *s = NULL;
	json_t *a = NULL;
	size_t bytes = 0;
	int r, rc;

	*out = NULL;
	*last_gen = 0;
	if ((r = prepare(st,
	                 full ? "SELECT policy, verdict, reason, rows, evaluated_at, gen"
	                        " FROM verdicts ORDER BY policy"
	                      : "SELECT policy, verdict, reason, rows, evaluated_at, gen"
	                        " FROM verdicts WHERE sent = 0 ORDER BY gen",
	                 &s, err)) != 0)
		return r;
	if ((a = json_array()) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		size_t size = (size_t)sqlite3_column_bytes(s, 0) +
		              (size_t)sqlite3_column_bytes(s, 2) +
		              (size_t)sqlite3_column_bytes(s, 3) + 100;
		const char *rm = NULL;
		json_t *o;
		int64_t gen = sqlite3_column_int64(s, 5);

		if (!full && json_array_size(a) > 0 &&
		    (json_array_size(a) >= max_n || bytes + size > max_bytes))
			break;
		if (full && bytes + size > max_bytes) {
			rm = marker;
			size = (size_t)sqlite3_column_bytes(s, 0) +
			       (size_t)sqlite3_column_bytes(s, 2) + sizeof(marker) + 100;
		}
		if ((o = verdict_json(s, rm)) == NULL || json_array_append_new(a, o) != 0) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		bytes += size;
		if (gen > *last_gen)
			*last_gen = gen;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = sqlerr(st->db, "read verdicts", err);
		goto out;
	}
	*out = a;
	a = NULL;
out:
	json_decref(a);
	sqlite3_finalize(s);
	return r;
}

int mm_state_verdicts_ack(struct mm_state *st, int64_t last_gen, char **err)
{
	sqlite3_stmt *s = NULL;
	int r, own = 0;

	if ((r = own_begin(st, &own, err)) != 0)
		return r;
	if ((r = prepare(st, "UPDATE verdicts SET sent = 1 WHERE sent = 0 AND gen <= ?", &s,
	                 err)) != 0)
		goto out;
	sqlite3_bind_int64(s, 1, last_gen);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqlerr(st->db, "mark verdicts sent", err);
out:
	sqlite3_finalize(s);
	return own_end(st, own, r, err);
}
