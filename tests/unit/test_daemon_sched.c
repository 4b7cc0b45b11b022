/*
 * test_daemon_sched.c - the daemon's schedule (agent/daemon_sched.c): the
 * coordinator's osquery-shaped config turned into scheduled queries (names
 * with pack_delimiter, intervals, snapshot/removed, platform, shard,
 * discovery), osquery's machine shard and the deterministic splay.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "../../agent/daemon_log.c"
#include "../../agent/daemon_sched.c"

static struct mm_schedule *sched(const char *text)
{
	struct mm_schedule *s = NULL;
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	char *err = NULL;

	if (j == NULL) {
		fprintf(stderr, "bad test JSON: %s\n", je.text);
		return NULL;
	}
	if (mm_schedule_from_json(j, "web01.example.com", &s, &err) != 0) {
		fprintf(stderr, "mm_schedule_from_json: %s\n", err);
		free(err);
	}
	json_decref(j);
	return s;
}

TEST(quiet)
{
	mm_dlog_set_level(MM_DLOG_ERROR);
}

TEST(packs_and_schedule)
{
	struct mm_schedule *s = sched(
	    "{\"options\": {\"pack_delimiter\": \"/\"},"
	    " \"schedule\": {\"uptime\": {\"query\": \"SELECT * FROM uptime\", \"interval\": 30}},"
	    " \"packs\": {\"web\": {\"platform\": \"linux\", \"discovery\": [\"SELECT 1\", "
	    "\"SELECT 2\"],"
	    "   \"queries\": {"
	    "     \"ports\": {\"query\": \"SELECT * FROM listening_ports\", \"interval\": \"60\","
	    "                \"snapshot\": true, \"removed\": false},"
	    "     \"users\": {\"query\": \"SELECT * FROM users\"},"
	    "     \"mac\": {\"query\": \"SELECT 1\", \"platform\": \"darwin\"},"
	    "     \"both\": {\"query\": \"SELECT 2\", \"platform\": \"darwin,linux\"},"
	    "     \"noquery\": {\"interval\": 10},"
	    "     \"zero\": {\"query\": \"SELECT 3\", \"interval\": 0},"
	    "     \"toolong\": {\"query\": \"SELECT 3\", \"interval\": 604801},"
	    "     \"flags\": {\"query\": \"SELECT 4\", \"snapshot\": \"true\", \"removed\": 0}}},"
	    "  \"winpack\": {\"platform\": \"windows\", \"queries\": {\"q\": {\"query\": \"SELECT "
	    "1\"}}},"
	    "  \"filepack\": \"/etc/osquery/packs/x.conf\"}}");

	ASSERT_TRUE(s != NULL);
	if (s == NULL)
		return;
	ASSERT_STR_EQ(s->delimiter, "/");
	ASSERT_INT_EQ(s->pack_refresh_ms, 3600000);
	ASSERT_INT_EQ(s->nqueries, 5);
	ASSERT_INT_EQ(s->npacks, 1);
	ASSERT_STR_EQ(s->packs[0].name, "web");
	ASSERT_INT_EQ(s->packs[0].ndiscovery, 2);
	ASSERT_STR_EQ(s->packs[0].discovery[1], "SELECT 2");
	ASSERT_STR_EQ(s->queries[0].name, "uptime");
	ASSERT_INT_EQ(s->queries[0].interval, 30);
	ASSERT_INT_EQ(s->queries[0].pack, -1);
	ASSERT_INT_EQ(s->queries[0].snapshot, 0);
	ASSERT_INT_EQ(s->queries[0].removed, 1);
	ASSERT_STR_EQ(s->queries[1].name, "pack/web/ports");
	ASSERT_STR_EQ(s->queries[1].query, "SELECT * FROM listening_ports");
	ASSERT_INT_EQ(s->queries[1].interval, 60);
	ASSERT_INT_EQ(s->queries[1].snapshot, 1);
	ASSERT_INT_EQ(s->queries[1].removed, 0);
	ASSERT_INT_EQ(s->queries[1].pack, 0);
	ASSERT_STR_EQ(s->queries[2].name, "pack/web/users");
	ASSERT_INT_EQ(s->queries[2].interval, 3600);
	ASSERT_STR_EQ(s->queries[3].name, "pack/web/both");
	ASSERT_STR_EQ(s->queries[4].name, "pack/web/flags");
	ASSERT_INT_EQ(s->queries[4].snapshot, 1);
	ASSERT_INT_EQ(s->queries[4].removed, 0);
	mm_schedule_free(s);
}

TEST(delimiter_default_and_custom)
{
	struct mm_schedule *s =
	    sched("{\"packs\": {\"p\": {\"queries\": {\"q\": {\"query\": \"SELECT 1\"}}}}}");

	ASSERT_TRUE(s != NULL && s->nqueries == 1);
	if (s != NULL && s->nqueries == 1)
		ASSERT_STR_EQ(s->queries[0].name, "pack/p/q");
	mm_schedule_free(s);
	s = sched("{\"options\": {\"pack_delimiter\": \"_\", \"pack_refresh_interval\": 60},"
	          " \"packs\": {\"p\": {\"queries\": {\"q\": {\"query\": \"SELECT 1\"}}}}}");
	ASSERT_TRUE(s != NULL && s->nqueries == 1);
	if (s != NULL && s->nqueries == 1) {
		ASSERT_STR_EQ(s->queries[0].name, "pack_p_q");
		ASSERT_INT_EQ(s->pack_refresh_ms, 60000);
	}
	mm_schedule_free(s);
}

TEST(shards)
{
	/* web01.example.com: SHA-1 starts 0x20, so its shard is 32 * 100 / 255 = 12. */
	struct mm_schedule *s;

	ASSERT_INT_EQ(mm_machine_shard("web01.example.com"), 12);
	ASSERT_INT_EQ(mm_machine_shard("b"), 91);
	s = sched("{\"schedule\": {"
	          " \"in12\": {\"query\": \"SELECT 1\", \"shard\": 12},"
	          " \"in50\": {\"query\": \"SELECT 1\", \"shard\": \"50\"},"
	          " \"out10\": {\"query\": \"SELECT 1\", \"shard\": 10},"
	          " \"all0\": {\"query\": \"SELECT 1\", \"shard\": 0}},"
	          " \"packs\": {\"small\": {\"shard\": 5, \"queries\": {\"q\": {\"query\": "
	          "\"SELECT 1\"}}}}}");
	ASSERT_TRUE(s != NULL);
	if (s == NULL)
		return;
	ASSERT_INT_EQ(s->nqueries, 3);
	ASSERT_INT_EQ(s->npacks, 0);
	ASSERT_STR_EQ(s->queries[0].name, "in12");
	ASSERT_STR_EQ(s->queries[1].name, "in50");
	ASSERT_STR_EQ(s->queries[2].name, "all0");
	mm_schedule_free(s);
}

TEST(platforms)
{
	ASSERT_INT_EQ(mm_platform_matches(NULL), 1);
	ASSERT_INT_EQ(mm_platform_matches(""), 1);
	ASSERT_INT_EQ(mm_platform_matches("linux"), 1);
	ASSERT_INT_EQ(mm_platform_matches("posix"), 1);
	ASSERT_INT_EQ(mm_platform_matches("all"), 1);
	ASSERT_INT_EQ(mm_platform_matches("darwin, linux"), 1);
	ASSERT_INT_EQ(mm_platform_matches("darwin"), 0);
	ASSERT_INT_EQ(mm_platform_matches("windows,darwin"), 0);
	ASSERT_INT_EQ(mm_platform_matches("linuxish"), 0);
}

TEST(splay)
{
	/* SHA-256("pack/p/q\0web01"), first 8 bytes, mod (span + 1). */
	ASSERT_INT_EQ(mm_splay_ms("pack/p/q", "web01", 60, 10), 5565);
	ASSERT_INT_EQ(mm_splay_ms("pack/p/q", "web01", 3600, 10), 262610);
	ASSERT_INT_EQ(mm_splay_ms("pack/p/q", "web01", 60, 0), 0);
	ASSERT_TRUE(mm_splay_ms("pack/p/r", "web01", 60, 10) <= 6000);
	ASSERT_TRUE(mm_splay_ms("pack/p/q", "web02", 60, 100) <= 60000);
}

TEST(not_an_object)
{
	struct mm_schedule *s = NULL;
	json_t *j = json_array();
	char *err = NULL;

	ASSERT_INT_EQ(mm_schedule_from_json(j, "h", &s, &err), MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "the config is not a JSON object");
	ASSERT_TRUE(s == NULL);
	free(err);
	json_decref(j);
	/* An empty config is an empty schedule. */
	j = json_object();
	ASSERT_INT_EQ(mm_schedule_from_json(j, "h", &s, &err), 0);
	ASSERT_TRUE(s != NULL && s->nqueries == 0 && s->npacks == 0);
	mm_schedule_free(s);
	json_decref(j);
}

UNIT_MAIN(T(quiet), T(packs_and_schedule), T(delimiter_default_and_custom), T(shards), T(platforms),
          T(splay), T(not_an_object))
