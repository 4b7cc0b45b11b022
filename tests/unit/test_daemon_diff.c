/*
 * test_daemon_diff.c - the daemon's differential results and queue
 * (agent/daemon_diff.c, agent/daemon_state.c): exact result lines for
 * added/removed/counter/epoch, multiset semantics for duplicate rows,
 * snapshots, state kept across a restart, the bounded queue dropping the
 * oldest lines and reporting how many, batches and acknowledgements.
 *
 * The daemon's sources are compiled into this program (unit tests link the
 * engine library only).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "../../agent/daemon_diff.c"
#include "../../agent/daemon_log.c"
#include "../../agent/daemon_state.c"

#define T0 1462228052 /* Mon May  2 22:27:32 2016 UTC */

static char tmpdir[256];

/* A fresh state DB in a new temporary directory. */
static struct mm_state *fresh_state(int64_t max_rows, int64_t max_bytes)
{
	struct mm_state *st = NULL;
	char *err = NULL;

	snprintf(tmpdir, sizeof(tmpdir), "%s/mamori-test-diff.XXXXXX",
	         getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	if (mm_state_open(tmpdir, max_rows, max_bytes, &st, &err) != 0) {
		fprintf(stderr, "mm_state_open: %s\n", err);
		exit(1);
	}
	return st;
}

static void cleanup_state(struct mm_state *st)
{
	char p[512];

	mm_state_close(st);
	snprintf(p, sizeof(p), "%s/mamori-state.db", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/mamori-state.db-wal", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/mamori-state.db-shm", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/mamori-state.lock", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL) {
		fprintf(stderr, "bad test JSON: %s: %s\n", text, e.text);
		exit(1);
	}
	return j;
}

/* Records one run of query "pack/p/q" with the given rows at time t;
 * returns the number of lines queued (-1 on error). */
static long record(struct mm_state *st, const char *query, const char *rows, int snapshot,
                   int removed, int64_t t)
{
	struct mm_record_opts o = {0};
	json_t *r = J(rows);
	char *err = NULL;
	size_t n = 0;
	int rc;

	o.name = "pack/p/q";
	o.query = query;
	o.snapshot = snapshot;
	o.removed = removed;
	o.host_identifier = "web01";
	o.unix_time = t;
	rc = mm_record_results(st, &o, r, &n, &err);
	json_decref(r);
	if (rc != 0) {
		fprintf(stderr, "mm_record_results: %s\n", err);
		free(err);
		return -1;
	}
	return (long)n;
}

/* Takes every queued line (as one string, lines joined by '\n') and
 * acknowledges them. */
static char *drain(struct mm_state *st)
{
	struct mm_batch b;
	struct mm_buf out;
	char *err = NULL;

	mm_buf_init(&out, 1 << 20);
	mm_batch_init(&b);
	for (;;) {
		json_t *arr;
		struct mm_buf wrap;
		size_t i;

		if (mm_state_queue_batch(st, 1000, MM_LOG_BATCH_BYTES, &b, &err) != 0 || b.n == 0)
			break;
		/* Split the batch back into lines through JSON. */
		mm_buf_init(&wrap, 1 << 22);
		mm_buf_addf(&wrap, "[%s]", mm_buf_str(&b.data));
		arr = J(mm_buf_str(&wrap));
		mm_buf_free(&wrap);
		for (i = 0; i < json_array_size(arr); i++) {
			char *s =
			    json_dumps(json_array_get(arr, i), JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (out.len > 0)
				mm_buf_addc(&out, '\n');
			mm_buf_adds(&out, s);
			free(s);
		}
		json_decref(arr);
		mm_state_queue_ack(st, b.last_seq, &err);
	}
	mm_batch_free(&b);
	free(err);
	return mm_buf_take(&out);
}

#define HEAD(epoch, counter)                                                                       \
	"{\"name\":\"pack/p/q\",\"hostIdentifier\":\"web01\",\"calendarTime\":\"Mon May  2 "       \
	"22:27:32 2016 UTC\",\"unixTime\":1462228052,\"epoch\":" #epoch ",\"counter\":" #counter   \
	",\"numerics\":false,\"decorations\":{},"

#define CHECK_DRAIN(st, want)                                                                      \
	do {                                                                                       \
		char *got_ = drain(st);                                                            \
		ASSERT_STR_EQ(got_, want);                                                         \
		free(got_);                                                                        \
	} while (0)

TEST(quiet)
{
	mm_dlog_set_level(MM_DLOG_ERROR); /* the queue-full warnings are expected */
}

TEST(calendar_time)
{
	char buf[64];

	mm_calendar_time(T0, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "Mon May  2 22:27:32 2016 UTC");
	mm_calendar_time(1700000000, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "Tue Nov 14 22:13:20 2023 UTC");
}

TEST(first_run_all_added_counter_0)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);

	ASSERT_INT_EQ(record(st, "SELECT a FROM t", "[{\"a\":\"1\"},{\"a\":\"2\"}]", 0, 1, T0), 2);
	CHECK_DRAIN(st, HEAD(0, 0) "\"columns\":{\"a\":\"1\"},\"action\":\"added\"}\n" HEAD(
	                    0, 0) "\"columns\":{\"a\":\"2\"},\"action\":\"added\"}");
	cleanup_state(st);
}

TEST(unchanged_run_queues_nothing_then_diff_counter_1)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);
	const char *q = "SELECT a, b FROM t";

	ASSERT_INT_EQ(
	    record(st, q, "[{\"a\":\"1\",\"b\":\"x\"},{\"a\":\"2\",\"b\":\"y\"}]", 0, 1, T0), 2);
	free(drain(st));
	/* Same rows in another order, keys in another order: no change. */
	ASSERT_INT_EQ(
	    record(st, q, "[{\"b\":\"y\",\"a\":\"2\"},{\"a\":\"1\",\"b\":\"x\"}]", 0, 1, T0), 0);
	CHECK_DRAIN(st, "");
	/* One row changed: removed first, then added, counter 1. */
	ASSERT_INT_EQ(
	    record(st, q, "[{\"a\":\"1\",\"b\":\"x\"},{\"a\":\"2\",\"b\":\"z\"}]", 0, 1, T0), 2);
	/* The removed row is the stored one (as the last run gave it). */
	CHECK_DRAIN(
	    st, HEAD(0, 1) "\"columns\":{\"b\":\"y\",\"a\":\"2\"},\"action\":\"removed\"}\n" HEAD(
	            0, 1) "\"columns\":{\"a\":\"2\",\"b\":\"z\"},\"action\":\"added\"}");
	/* Another change: counter 2; no change: still 2 afterwards. */
	ASSERT_INT_EQ(record(st, q, "[{\"a\":\"1\",\"b\":\"x\"}]", 0, 1, T0), 1);
	CHECK_DRAIN(st, HEAD(0, 2) "\"columns\":{\"a\":\"2\",\"b\":\"z\"},\"action\":\"removed\"}");
	ASSERT_INT_EQ(record(st, q, "[{\"a\":\"1\",\"b\":\"x\"}]", 0, 1, T0), 0);
	ASSERT_INT_EQ(record(st, q, "[]", 0, 1, T0), 1);
	CHECK_DRAIN(st, HEAD(0, 3) "\"columns\":{\"a\":\"1\",\"b\":\"x\"},\"action\":\"removed\"}");
	cleanup_state(st);
}

TEST(removed_false_suppresses_removed_lines)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);

	record(st, "q", "[{\"a\":\"1\"}]", 0, 0, T0);
	free(drain(st));
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"2\"}]", 0, 0, T0), 1);
	CHECK_DRAIN(st, HEAD(0, 1) "\"columns\":{\"a\":\"2\"},\"action\":\"added\"}");
	/* Only a removal: nothing is sent, but the state (and counter) moved. */
	ASSERT_INT_EQ(record(st, "q", "[]", 0, 0, T0), 0);
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"3\"}]", 0, 0, T0), 1);
	CHECK_DRAIN(st, HEAD(0, 3) "\"columns\":{\"a\":\"3\"},\"action\":\"added\"}");
	cleanup_state(st);
}

TEST(duplicate_rows_are_a_multiset)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);

	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"A\"}]", 0, 1, T0), 1);
	free(drain(st));
	/* One A before, three now: two more A added. */
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"A\"},{\"a\":\"A\"},{\"a\":\"A\"}]", 0, 1, T0), 2);
	CHECK_DRAIN(st, HEAD(0, 1) "\"columns\":{\"a\":\"A\"},\"action\":\"added\"}\n" HEAD(
	                    0, 1) "\"columns\":{\"a\":\"A\"},\"action\":\"added\"}");
	/* A A A -> A B B: two A removed, two B added. */
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"A\"},{\"a\":\"B\"},{\"a\":\"B\"}]", 0, 1, T0), 4);
	CHECK_DRAIN(
	    st,
	    HEAD(0, 2) "\"columns\":{\"a\":\"A\"},\"action\":\"removed\"}\n" HEAD(
	        0, 2) "\"columns\":{\"a\":\"A\"},\"action\":\"removed\"}\n" HEAD(0,
	                                                                         2) "\"columns\":{"
	                                                                            "\"a\":\"B\"},"
	                                                                            "\"action\":"
	                                                                            "\"added\"}"
	                                                                            "\n" HEAD(
	                                                                                0, 2) "\"co"
	                                                                                      "lumn"
	                                                                                      "s\":"
	                                                                                      "{\"a"
	                                                                                      "\":"
	                                                                                      "\"B"
	                                                                                      "\"},"
	                                                                                      "\"ac"
	                                                                                      "tion"
	                                                                                      "\":"
	                                                                                      "\"ad"
	                                                                                      "ded"
	                                                                                      "\""
	                                                                                      "}");
	/* Same multiset, another order: nothing. */
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"B\"},{\"a\":\"A\"},{\"a\":\"B\"}]", 0, 1, T0), 0);
	cleanup_state(st);
}

TEST(diff_rows_direct)
{
	json_t *old = J("[{\"x\":\"1\"},{\"x\":\"2\"},{\"x\":\"2\"},{\"x\":\"3\"}]");
	json_t *cur = J("[{\"x\":\"4\"},{\"x\":\"2\"},{\"x\":\"1\"},{\"x\":\"4\"}]");
	json_t *a = NULL, *r = NULL;
	char *sa, *sr;

	ASSERT_INT_EQ(mm_diff_rows(old, cur, &a, &r), 0);
	sa = json_dumps(a, JSON_COMPACT);
	sr = json_dumps(r, JSON_COMPACT);
	ASSERT_STR_EQ(sa, "[{\"x\":\"4\"},{\"x\":\"4\"}]");
	ASSERT_STR_EQ(sr, "[{\"x\":\"2\"},{\"x\":\"3\"}]");
	free(sa);
	free(sr);
	json_decref(a);
	json_decref(r);
	/* Nothing before: everything is added. */
	ASSERT_INT_EQ(mm_diff_rows(NULL, cur, &a, &r), 0);
	ASSERT_INT_EQ(json_array_size(a), 4);
	ASSERT_INT_EQ(json_array_size(r), 0);
	json_decref(a);
	json_decref(r);
	json_decref(old);
	json_decref(cur);
}

TEST(changed_query_text_starts_a_new_epoch)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);

	record(st, "SELECT 1", "[{\"a\":\"1\"}]", 0, 1, T0);
	record(st, "SELECT 1", "[{\"a\":\"2\"}]", 0, 1, T0);
	free(drain(st));
	/* New text, same rows: a full result again, epoch 1, counter 0. */
	ASSERT_INT_EQ(record(st, "SELECT 2", "[{\"a\":\"2\"}]", 0, 1, T0), 1);
	CHECK_DRAIN(st, HEAD(1, 0) "\"columns\":{\"a\":\"2\"},\"action\":\"added\"}");
	ASSERT_INT_EQ(record(st, "SELECT 2", "[{\"a\":\"3\"}]", 0, 1, T0), 2);
	CHECK_DRAIN(st, HEAD(1, 1) "\"columns\":{\"a\":\"2\"},\"action\":\"removed\"}\n" HEAD(
	                    1, 1) "\"columns\":{\"a\":\"3\"},\"action\":\"added\"}");
	cleanup_state(st);
}

TEST(unscheduled_query_is_forgotten_new_epoch)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);
	char *keep[] = {"pack/p/other"}, *err = NULL;

	record(st, "q", "[{\"a\":\"1\"}]", 0, 1, T0);
	free(drain(st));
	ASSERT_INT_EQ(mm_state_begin(st, &err), 0);
	ASSERT_INT_EQ(mm_state_query_retain(st, keep, 1, &err), 0);
	ASSERT_INT_EQ(mm_state_commit(st, &err), 0);
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"1\"}]", 0, 1, T0), 1);
	CHECK_DRAIN(st, HEAD(1, 0) "\"columns\":{\"a\":\"1\"},\"action\":\"added\"}");
	/* A retained query keeps its state. */
	keep[0] = "pack/p/q";
	ASSERT_INT_EQ(mm_state_begin(st, &err), 0);
	ASSERT_INT_EQ(mm_state_query_retain(st, keep, 1, &err), 0);
	ASSERT_INT_EQ(mm_state_commit(st, &err), 0);
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"1\"}]", 0, 1, T0), 0);
	cleanup_state(st);
}

TEST(empty_first_result_then_rows_counter_1)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);

	ASSERT_INT_EQ(record(st, "q", "[]", 0, 1, T0), 0);
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"1\"}]", 0, 1, T0), 1);
	CHECK_DRAIN(st, HEAD(0, 1) "\"columns\":{\"a\":\"1\"},\"action\":\"added\"}");
	cleanup_state(st);
}

TEST(snapshot_one_line_counter_0)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);

	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"1\"},{\"a\":\"2\"}]", 1, 1, T0), 1);
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"1\"},{\"a\":\"2\"}]", 1, 1, T0), 1);
	ASSERT_INT_EQ(record(st, "q", "[]", 1, 1, T0), 1);
	CHECK_DRAIN(
	    st, HEAD(0, 0) "\"snapshot\":[{\"a\":\"1\"},{\"a\":\"2\"}],\"action\":\"snapshot\"}"
	                   "\n" HEAD(0, 0) "\"snapshot\":[{\"a\":\"1\"},{\"a\":\"2\"}],\"action\":"
	                                   "\"snapshot\"}\n" HEAD(
	                                       0, 0) "\"snapshot\":[],\"action\":\"snapshot\"}");
	/* Snapshot -> differential: a new epoch, full result. */
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"1\"}]", 0, 1, T0), 1);
	CHECK_DRAIN(st, HEAD(1, 0) "\"columns\":{\"a\":\"1\"},\"action\":\"added\"}");
	cleanup_state(st);
}

TEST(state_survives_restart)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);
	char *err = NULL;

	record(st, "q", "[{\"a\":\"1\"}]", 0, 1, T0);
	record(st, "q", "[{\"a\":\"2\"}]", 0, 1, T0);
	mm_state_close(st);
	st = NULL;
	ASSERT_INT_EQ(mm_state_open(tmpdir, 1000, 1 << 20, &st, &err), 0);
	/* The queued lines are still there, and nothing is resent. */
	CHECK_DRAIN(
	    st,
	    HEAD(0, 0) "\"columns\":{\"a\":\"1\"},\"action\":\"added\"}\n" HEAD(
	        0, 1) "\"columns\":{\"a\":\"1\"},\"action\":\"removed\"}\n" HEAD(0,
	                                                                         1) "\"columns\":{"
	                                                                            "\"a\":\"2\"},"
	                                                                            "\"action\":"
	                                                                            "\"added\"}");
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"2\"}]", 0, 1, T0), 0);
	ASSERT_INT_EQ(record(st, "q", "[{\"a\":\"3\"}]", 0, 1, T0), 2);
	CHECK_DRAIN(st, HEAD(0, 2) "\"columns\":{\"a\":\"2\"},\"action\":\"removed\"}\n" HEAD(
	                    0, 2) "\"columns\":{\"a\":\"3\"},\"action\":\"added\"}");
	cleanup_state(st);
}

TEST(one_daemon_per_state_dir)
{
	struct mm_state *st = fresh_state(1000, 1 << 20), *st2 = NULL;
	char *err = NULL, want[512];

	ASSERT_INT_EQ(mm_state_open(tmpdir, 1000, 1 << 20, &st2, &err), MM_ERR_DENIED);
	ASSERT_TRUE(st2 == NULL);
	snprintf(want, sizeof(want), "%s/mamori-state.lock: in use by another mamori daemon",
	         tmpdir);
	ASSERT_STR_EQ(err, want);
	free(err);
	cleanup_state(st);
}

TEST(file_modes)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);
	struct stat sb;
	char p[512];

	ASSERT_INT_EQ(stat(tmpdir, &sb), 0);
	ASSERT_INT_EQ(sb.st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/mamori-state.db", tmpdir);
	ASSERT_INT_EQ(stat(p, &sb), 0);
	ASSERT_INT_EQ(sb.st_mode & 0777, 0600);
	cleanup_state(st);
}

/* Queues n result lines {"i": k} for k in [from, from + n) in one push. */
static void push_results(struct mm_state *st, int from, int n)
{
	char **lines = calloc((size_t)n, sizeof(char *)), *err = NULL;
	int i;

	for (i = 0; i < n; i++) {
		char b[32];
		snprintf(b, sizeof(b), "{\"i\":%d}", from + i);
		lines[i] = strdup(b);
	}
	ASSERT_INT_EQ(mm_state_begin(st, &err), 0);
	ASSERT_INT_EQ(mm_queue_push(st, "web01", T0, MM_LINE_RESULT, lines, (size_t)n, &err), 0);
	ASSERT_INT_EQ(mm_state_commit(st, &err), 0);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

#define REPORT(n)                                                                                  \
	"{\"hostIdentifier\":\"web01\",\"calendarTime\":\"Mon May  2 22:27:32 2016 UTC\","         \
	"\"unixTime\":\"1462228052\",\"severity\":\"1\",\"filename\":\"daemon_diff.c\",\"line\":"  \
	"\""                                                                                       \
	"LINE\",\"message\":\"dropped " #n " result lines: queue full\",\"version\":\"" MM_VERSION \
	"\",\"decorations\":{}}"

/* The drained text with the report's source line number replaced by LINE. */
static char *drain_noline(struct mm_state *st)
{
	char *s = drain(st), *p = s;

	while ((p = strstr(p, "\"line\":\"")) != NULL) {
		char *q = p + 8, *e = strchr(q, '"');
		if (e == NULL)
			break;
		memmove(q + 4, e, strlen(e) + 1);
		memcpy(q, "LINE", 4);
		p = q;
	}
	return s;
}

TEST(queue_drops_oldest_and_reports)
{
	struct mm_state *st = fresh_state(5, 1 << 20);
	int64_t rows, bytes;
	struct mm_batch b;
	char *err = NULL, *got;
	int64_t base = st->next_seq; /* a new DB starts at the time in microseconds */

	push_results(st, 1, 10);
	mm_state_queue_stats(st, &rows, &bytes);
	ASSERT_INT_EQ(rows, 5);
	/* The newest four results stay, plus the report of the six dropped.
	 * Results and the status report go in separate batches. */
	mm_batch_init(&b);
	ASSERT_INT_EQ(mm_state_queue_batch(st, 1000, MM_LOG_BATCH_BYTES, &b, &err), 0);
	ASSERT_INT_EQ(b.type, MM_LINE_RESULT);
	ASSERT_INT_EQ(b.first_seq, base + 6);
	ASSERT_INT_EQ(b.last_seq, base + 9);
	ASSERT_INT_EQ(b.n, 4);
	ASSERT_STR_EQ(mm_buf_str(&b.data), "{\"i\":7},{\"i\":8},{\"i\":9},{\"i\":10}");
	mm_batch_free(&b);

	/* Overflow again and again: when a report goes, its count is carried
	 * into the new one.  [7 8 9 10 R6] + 11 -> [9 10 R6 11 R2]
	 * + 12 -> [R6 11 R2 12 R2] + 13 -> [R2 12 R2 13 R7]. */
	push_results(st, 11, 1);
	push_results(st, 12, 1);
	push_results(st, 13, 1);
	got = drain_noline(st);
	ASSERT_STR_EQ(got, REPORT(2) "\n{\"i\":12}\n" REPORT(2) "\n{\"i\":13}\n" REPORT(7));
	free(got);
	cleanup_state(st);
}

TEST(queue_byte_bound)
{
	struct mm_state *st = fresh_state(1000, 65536);
	int64_t rows, bytes;
	char **lines = calloc(20, sizeof(char *)), *err = NULL;
	int i;

	for (i = 0; i < 20; i++) {
		lines[i] = malloc(10001);
		memset(lines[i], 'x', 10000);
		lines[i][0] = '"';
		lines[i][9999] = '"';
		lines[i][10000] = '\0';
	}
	ASSERT_INT_EQ(mm_state_begin(st, &err), 0);
	ASSERT_INT_EQ(mm_queue_push(st, "web01", T0, MM_LINE_RESULT, lines, 20, &err), 0);
	ASSERT_INT_EQ(mm_state_commit(st, &err), 0);
	mm_state_queue_stats(st, &rows, &bytes);
	/* 64 KiB less the report's reserve holds six 10000-byte lines. */
	ASSERT_INT_EQ(rows, 7);
	ASSERT_TRUE(bytes <= 65536);
	for (i = 0; i < 20; i++)
		free(lines[i]);
	free(lines);
	cleanup_state(st);
}

TEST(batches_split_by_type_and_size_seq_persists)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);
	struct mm_batch b;
	char *err = NULL, *l1 = "{\"r\":1}", *l2 = "{\"s\":1}";
	int64_t rows, bytes, base = st->next_seq;

	mm_batch_init(&b);
	push_results(st, 1, 3);
	ASSERT_INT_EQ(mm_state_begin(st, &err), 0);
	ASSERT_INT_EQ(mm_queue_push(st, "web01", T0, MM_LINE_STATUS, &l2, 1, &err), 0);
	ASSERT_INT_EQ(mm_queue_push(st, "web01", T0, MM_LINE_RESULT, &l1, 1, &err), 0);
	ASSERT_INT_EQ(mm_state_commit(st, &err), 0);
	ASSERT_INT_EQ(mm_state_queue_batch(st, 2, MM_LOG_BATCH_BYTES, &b, &err), 0);
	ASSERT_INT_EQ(b.n, 2);
	ASSERT_INT_EQ(b.first_seq, base);
	ASSERT_INT_EQ(mm_state_queue_ack(st, b.last_seq, &err), 0);
	ASSERT_INT_EQ(mm_state_queue_batch(st, 1000, MM_LOG_BATCH_BYTES, &b, &err), 0);
	ASSERT_INT_EQ(b.n, 1);
	ASSERT_INT_EQ(b.first_seq, base + 2);
	ASSERT_INT_EQ(mm_state_queue_ack(st, b.last_seq, &err), 0);
	ASSERT_INT_EQ(mm_state_queue_batch(st, 1000, MM_LOG_BATCH_BYTES, &b, &err), 0);
	ASSERT_INT_EQ(b.type, MM_LINE_STATUS);
	ASSERT_INT_EQ(b.n, 1);
	ASSERT_INT_EQ(b.first_seq, base + 3);
	ASSERT_STR_EQ(mm_buf_str(&b.data), "{\"s\":1}");
	/* Not acknowledged: the same batch again. */
	ASSERT_INT_EQ(mm_state_queue_batch(st, 1000, MM_LOG_BATCH_BYTES, &b, &err), 0);
	ASSERT_INT_EQ(b.first_seq, base + 3);
	ASSERT_INT_EQ(mm_state_queue_ack(st, base + 4, &err), 0);
	mm_state_queue_stats(st, &rows, &bytes);
	ASSERT_INT_EQ(rows, 0);
	ASSERT_INT_EQ(bytes, 0);
	/* The sequence goes on after a restart with an empty queue. */
	mm_state_close(st);
	st = NULL;
	ASSERT_INT_EQ(mm_state_open(tmpdir, 1000, 1 << 20, &st, &err), 0);
	push_results(st, 1, 1);
	ASSERT_INT_EQ(mm_state_queue_batch(st, 1000, MM_LOG_BATCH_BYTES, &b, &err), 0);
	ASSERT_INT_EQ(b.first_seq, base + 5);
	mm_batch_free(&b);
	cleanup_state(st);
}

TEST(new_db_sequence_starts_at_the_time)
{
	struct timespec ts;
	struct mm_state *st;
	int64_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	st = fresh_state(1000, 1 << 20);
	/* Above any number an earlier install of this host could have used. */
	ASSERT_TRUE(st->next_seq >= t && st->next_seq < t + 10000000);
	cleanup_state(st);
}

TEST(rollback_restores_counters)
{
	struct mm_state *st = fresh_state(1000, 1 << 20);
	char *err = NULL, *l = "{\"x\":1}";
	int64_t rows, bytes;
	struct mm_batch b;
	int64_t base = st->next_seq;

	ASSERT_INT_EQ(mm_state_begin(st, &err), 0);
	ASSERT_INT_EQ(mm_queue_push(st, "web01", T0, MM_LINE_RESULT, &l, 1, &err), 0);
	mm_state_rollback(st);
	mm_state_queue_stats(st, &rows, &bytes);
	ASSERT_INT_EQ(rows, 0);
	ASSERT_INT_EQ(bytes, 0);
	push_results(st, 1, 1);
	mm_batch_init(&b);
	ASSERT_INT_EQ(mm_state_queue_batch(st, 1000, MM_LOG_BATCH_BYTES, &b, &err), 0);
	ASSERT_INT_EQ(b.first_seq, base);
	mm_batch_free(&b);
	cleanup_state(st);
}

TEST(rows_from_engine)
{
	struct mm_engine_opts o = {0};
	struct mm_engine *e = NULL;
	json_t *rows = NULL;
	char *err = NULL, *s;

	ASSERT_INT_EQ(mm_engine_new(&o, &e, &err), 0);
	ASSERT_INT_EQ(mm_run_query(e, "SELECT 1 AS a, NULL AS b, 'x' AS c, 2.5 AS d", 10, 1 << 20,
	                           &rows, &err),
	              0);
	s = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ASSERT_STR_EQ(s, "[{\"a\":\"1\",\"b\":\"\",\"c\":\"x\",\"d\":\"2.5\"}]");
	free(s);
	json_decref(rows);
	/* Bytes that are not UTF-8 are replaced. */
	ASSERT_INT_EQ(
	    mm_run_query(e, "SELECT CAST(x'ff41' AS TEXT) AS v", 10, 1 << 20, &rows, &err), 0);
	s = json_dumps(rows, JSON_COMPACT | JSON_ENSURE_ASCII);
	ASSERT_STR_EQ(s, "[{\"v\":\"\\uFFFDA\"}]");
	free(s);
	json_decref(rows);
	/* The row cap. */
	ASSERT_INT_EQ(mm_run_query(e,
	                           "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
	                           "WHERE x < 20) SELECT x FROM c",
	                           10, 1 << 20, &rows, &err),
	              MM_ERR_LIMIT);
	ASSERT_STR_EQ(err, "more than 10 rows");
	free(err);
	err = NULL;
	/* The byte cap. */
	ASSERT_INT_EQ(mm_run_query(e, "SELECT zeroblob(2000) AS z", 10, 1000, &rows, &err),
	              MM_ERR_LIMIT);
	ASSERT_STR_EQ(err, "results larger than 1000 bytes");
	free(err);
	err = NULL;
	/* SQL errors and several statements. */
	ASSERT_INT_EQ(mm_run_query(e, "SELECT * FROM no_such_table", 10, 1000, &rows, &err) != 0,
	              1);
	ASSERT_TRUE(err != NULL && strstr(err, "no_such_table") != NULL);
	free(err);
	err = NULL;
	ASSERT_INT_EQ(mm_run_query(e, "SELECT 1; SELECT 2", 10, 1000, &rows, &err), MM_ERR_SQL);
	ASSERT_STR_EQ(err, "more than one statement");
	free(err);
	err = NULL;
	ASSERT_INT_EQ(mm_run_query(e, "SELECT 1;  ", 10, 1000, &rows, &err), 0);
	json_decref(rows);
	mm_engine_free(e);
}

TEST(status_line_shape)
{
	char *s = mm_status_line("web01", T0, 2, "x.c", 12, "boom \"quoted\"");

	ASSERT_STR_EQ(
	    s, "{\"hostIdentifier\":\"web01\",\"calendarTime\":\"Mon May  2 22:27:32 2016 "
	       "UTC\",\"unixTime\":\"1462228052\",\"severity\":\"2\",\"filename\":\"x.c\","
	       "\"line\":\"12\",\"message\":\"boom \\\"quoted\\\"\",\"version\":\"" MM_VERSION
	       "\",\"decorations\":{}}");
	free(s);
}

UNIT_MAIN(T(quiet), T(calendar_time), T(first_run_all_added_counter_0),
          T(unchanged_run_queues_nothing_then_diff_counter_1),
          T(removed_false_suppresses_removed_lines), T(duplicate_rows_are_a_multiset),
          T(diff_rows_direct), T(changed_query_text_starts_a_new_epoch),
          T(unscheduled_query_is_forgotten_new_epoch), T(empty_first_result_then_rows_counter_1),
          T(snapshot_one_line_counter_0), T(state_survives_restart), T(one_daemon_per_state_dir),
          T(file_modes), T(queue_drops_oldest_and_reports), T(queue_byte_bound),
          T(batches_split_by_type_and_size_seq_persists), T(new_db_sequence_starts_at_the_time),
          T(rollback_restores_counters), T(rows_from_engine), T(status_line_shape))
