/*
 * test_daemon_dist.c - distributed queries (agent/daemon_dist.c): the
 * /distributed/write bodies for a /distributed/read reply, with discovery,
 * errors, the row cap and the split of large answers, on the web01 fixture.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "../../agent/daemon_diff.c"
#include "../../agent/daemon_dist.c"
#include "../../agent/daemon_log.c"
#include "../../agent/daemon_state.c"

static struct mm_engine *engine(void)
{
	struct mm_engine_opts o = {0};
	struct mm_engine *e = NULL;
	char *err = NULL, src[4096], root[4200], *p;
	int i;

	/* The sources' root from this file's path (ctest runs unit tests in the
	 * build tree): strip "tests/unit/test_daemon_dist.c". */
	snprintf(src, sizeof(src), "%s", __FILE__);
	for (i = 0; i < 3 && (p = strrchr(src, '/')) != NULL; i++)
		*p = '\0';
	snprintf(root, sizeof(root), "%s/tests/fixtures/web01", i < 3 ? "." : src);
	o.root = root;
	if (mm_engine_new(&o, &e, &err) != 0) {
		fprintf(stderr, "engine: %s\n", err);
		exit(1);
	}
	return e;
}

static json_t *answer(struct mm_engine *e, const char *read)
{
	json_t *r = json_loads(read, 0, NULL), *w = NULL;

	if (r == NULL || mm_dist_answer(e, r, &w) != 0) {
		fprintf(stderr, "mm_dist_answer failed on %s\n", read);
		exit(1);
	}
	json_decref(r);
	return w;
}

static char *dump_no_stats(json_t *w)
{
	size_t i;
	json_t *a;

	json_array_foreach(w, i, a) json_object_del(a, "stats");
	return json_dumps(w, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

TEST(quiet)
{
	mm_dlog_set_level(MM_DLOG_ERROR);
}

TEST(answers_statuses_messages_discovery)
{
	struct mm_engine *e = engine();
	json_t *w =
	    answer(e, "{\"queries\": {"
	              "  \"a\": \"SELECT username, shell FROM users WHERE uid = 1000\","
	              "  \"b\": \"SELECT * FROM nope\","
	              "  \"c\": \"SELECT 1 AS x\","
	              "  \"d\": \"SELECT 2 AS y\","
	              "  \"e\": 42},"
	              " \"discovery\": {\"c\": \"SELECT 1 WHERE 0\", \"d\": \"SELECT 1\"}}");
	json_t *stats;
	char *s;

	ASSERT_INT_EQ(json_array_size(w), 1);
	stats = json_object_get(json_array_get(w, 0), "stats");
	ASSERT_INT_EQ(json_object_size(stats), 4);
	ASSERT_TRUE(json_is_integer(json_object_get(json_object_get(stats, "a"), "wall_time_ms")));
	s = dump_no_stats(w);
	ASSERT_STR_EQ(s, "[{\"queries\":{\"a\":[{\"username\":\"deploy\",\"shell\":\"/bin/bash\"}],"
	                 "\"b\":[],\"d\":[{\"y\":\"2\"}],\"e\":[]},"
	                 "\"statuses\":{\"a\":0,\"b\":1,\"d\":0,\"e\":1},"
	                 "\"messages\":{\"a\":\"\",\"b\":\"no such table: nope\",\"d\":\"\","
	                 "\"e\":\"the query is not a string\"}}]");
	free(s);
	json_decref(w);
	mm_engine_free(e);
}

TEST(nothing_asked)
{
	struct mm_engine *e = engine();
	json_t *w = answer(e, "{\"queries\": {}, \"discovery\": {}}");

	ASSERT_INT_EQ(json_array_size(w), 0);
	json_decref(w);
	w = answer(e, "{}");
	ASSERT_INT_EQ(json_array_size(w), 0);
	json_decref(w);
	/* Every query skipped by discovery: no write at all. */
	w = answer(
	    e,
	    "{\"queries\": {\"a\": \"SELECT 1\"}, \"discovery\": {\"a\": \"SELECT 1 WHERE 0\"}}");
	ASSERT_INT_EQ(json_array_size(w), 0);
	json_decref(w);
	mm_engine_free(e);
}

TEST(row_cap_is_an_error)
{
	struct mm_engine *e = engine();
	json_t *w =
	    answer(e, "{\"queries\": {\"big\": \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	              "SELECT x + 1 FROM c WHERE x < 10001) SELECT x FROM c\","
	              " \"ok\": \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	              "SELECT x + 1 FROM c WHERE x < 10000) SELECT x FROM c\"}}");
	json_t *a = json_array_get(w, 0);

	ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(a, "statuses"), "big")),
	              1);
	ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(a, "messages"), "big")),
	              "more than 10000 rows");
	ASSERT_INT_EQ(json_array_size(json_object_get(json_object_get(a, "queries"), "big")), 0);
	ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(a, "statuses"), "ok")), 0);
	ASSERT_INT_EQ(json_array_size(json_object_get(json_object_get(a, "queries"), "ok")), 10000);
	json_decref(w);
	mm_engine_free(e);
}

TEST(large_answers_split_across_writes)
{
	struct mm_engine *e = engine();
	/* Three answers of 1.5 MB: two fit in 4 MiB, the third goes in a second
	 * body, with q4: 4.4 MB of hex is over the cap of one answer, an error. */
	json_t *w = answer(e, "{\"queries\": {\"q1\": \"SELECT hex(zeroblob(750000)) AS h\","
	                      " \"q2\": \"SELECT hex(zeroblob(750000)) AS h\","
	                      " \"q3\": \"SELECT hex(zeroblob(750000)) AS h\","
	                      " \"q4\": \"SELECT hex(zeroblob(2200000)) AS h\"}}");
	size_t i;

	ASSERT_INT_EQ(json_array_size(w), 2);
	ASSERT_INT_EQ(json_object_size(json_object_get(json_array_get(w, 0), "queries")), 2);
	ASSERT_INT_EQ(json_object_size(json_object_get(json_array_get(w, 1), "queries")), 2);
	ASSERT_STR_EQ(json_string_value(
	                  json_object_get(json_object_get(json_array_get(w, 1), "messages"), "q4")),
	              "results larger than 4194304 bytes");
	for (i = 0; i < json_array_size(w); i++)
		ASSERT_TRUE(json_dumpb(json_array_get(w, i), NULL, 0, JSON_COMPACT) <
		            MM_DIST_MAX_BYTES);
	json_decref(w);
	mm_engine_free(e);
}

UNIT_MAIN(T(quiet), T(answers_statuses_messages_discovery), T(nothing_asked),
          T(row_cap_is_an_error), T(large_answers_split_across_writes))
