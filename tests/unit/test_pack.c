/*
 * test_pack.c - unit tests for agent/pack.c: the YAML and .conf parsers
 * (values, defaults, exact error messages with line numbers), osquery's
 * comment and continuation handling, the caps, the JSON form and its round
 * trip, validation against the engine, and platform matching.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "engine.h"
#include "error.h"
#include "pack.h"
#include "unit.h"

/* Parses text; returns the code and leaves the message in *err. */
static int parse(const char *text, const char *format, const char *file, const char *name,
                 struct mm_pack **p, char **err)
{
	return mm_pack_parse(text, strlen(text), format, file, name, p, err);
}

/* Expects text to fail with code and exactly msg. */
static void expect_error(const char *text, const char *file, const char *name, int code,
                         const char *msg)
{
	struct mm_pack *p = NULL;
	char *err = NULL;
	int r = parse(text, NULL, file, name, &p, &err);

	ASSERT_INT_EQ(r, code);
	ASSERT_STR_EQ(err, msg);
	ASSERT_TRUE(p == NULL);
	free(err);
	mm_pack_free(p);
}

static const char good_yaml[] = "# a comment\n"
                                "name: web.checks-1\n"
                                "description: Web server checks\n"
                                "platform: linux\n"
                                "discovery:\n"
                                "  - SELECT 1 FROM deb_packages WHERE name = 'nginx'\n"
                                "queries:\n"
                                "  ports:\n"
                                "    query: |\n"
                                "      SELECT port\n"
                                "      FROM listening_ports\n"
                                "    interval: \"300\"\n"
                                "    snapshot: yes\n"
                                "    removed: false\n"
                                "    description: Listening ports\n"
                                "    shard: 25\n"
                                "  users:\n"
                                "    query: SELECT username FROM users\n"
                                "    interval: 3600\n"
                                "    platform: posix\n"
                                "    version: 5.0.0\n"
                                "    value: Know who can log in\n";

TEST(yaml_good)
{
	struct mm_pack *p = NULL;
	char *err = NULL;

	ASSERT_INT_EQ(parse(good_yaml, NULL, "x.yaml", NULL, &p, &err), 0);
	ASSERT_STR_EQ(err, NULL);
	if (p == NULL)
		return;
	ASSERT_STR_EQ(p->name, "web.checks-1");
	ASSERT_STR_EQ(p->description, "Web server checks");
	ASSERT_STR_EQ(p->platform, "linux");
	ASSERT_INT_EQ(p->ndiscovery, 1);
	ASSERT_STR_EQ(p->discovery[0], "SELECT 1 FROM deb_packages WHERE name = 'nginx'");
	ASSERT_INT_EQ(p->nqueries, 2);
	ASSERT_STR_EQ(p->queries[0].name, "ports");
	ASSERT_STR_EQ(p->queries[0].query, "SELECT port\nFROM listening_ports"); /* trimmed */
	ASSERT_INT_EQ(p->queries[0].interval, 300);
	ASSERT_INT_EQ(p->queries[0].snapshot, 1);
	ASSERT_INT_EQ(p->queries[0].removed, 0);
	ASSERT_INT_EQ(p->queries[0].shard, 25);
	ASSERT_STR_EQ(p->queries[0].description, "Listening ports");
	ASSERT_STR_EQ(p->queries[0].platform, NULL);
	ASSERT_STR_EQ(p->queries[1].name, "users");
	ASSERT_INT_EQ(p->queries[1].interval, 3600);
	ASSERT_INT_EQ(p->queries[1].snapshot, 0); /* defaults */
	ASSERT_INT_EQ(p->queries[1].removed, 1);
	ASSERT_INT_EQ(p->queries[1].shard, 0);
	ASSERT_STR_EQ(p->queries[1].platform, "posix");
	ASSERT_STR_EQ(p->queries[1].version, "5.0.0");
	ASSERT_STR_EQ(p->queries[1].value, "Know who can log in");
	ASSERT_STR_EQ(p->queries[1].description, NULL);
	mm_pack_free(p);
}

TEST(yaml_errors)
{
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} cases[] = {
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 5m\n", MM_ERR_PARSE,
	     "p.yaml:5: queries.a.interval: not a number ('5m')"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 0\n", MM_ERR_PARSE,
	     "p.yaml:5: queries.a.interval: must be between 1 and 604800 seconds, got 0"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 604801\n", MM_ERR_PARSE,
	     "p.yaml:5: queries.a.interval: must be between 1 and 604800 seconds, got 604801"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 60\n    intervall: 60\n",
	     MM_ERR_PARSE,
	     "p.yaml:6: queries.a.intervall: unknown option (query, interval, snapshot, removed, "
	     "description, platform, version, shard, value)"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 60\n    interval: 70\n",
	     MM_ERR_PARSE, "p.yaml:6: queries.a.interval: duplicate key"},
	    {"name: x\nqueries:\n  a:\n    query: \"  \"\n    interval: 60\n", MM_ERR_PARSE,
	     "p.yaml:4: queries.a.query: empty query"},
	    {"name: x\nqueries:\n  a:\n    query:\n    interval: 60\n", MM_ERR_PARSE,
	     "p.yaml:4: queries.a.query: empty query"},
	    {"name: x\nqueries:\n  a:\n    interval: 60\n", MM_ERR_PARSE,
	     "p.yaml:3: queries.a.query: missing"},
	    {"name: x\nqueries:\n\n  a:\n    query: SELECT 1\n", MM_ERR_PARSE,
	     "p.yaml:4: queries.a.interval: missing"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 60\n    snapshot: "
	     "maybe\n",
	     MM_ERR_PARSE, "p.yaml:6: queries.a.snapshot: expected true or false, got 'maybe'"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 60\n    removed: "
	     "\"no\"\n",
	     MM_ERR_PARSE, "p.yaml:6: queries.a.removed: expected true or false, got 'no'"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 60\n    shard: 101\n",
	     MM_ERR_PARSE, "p.yaml:6: queries.a.shard: must be between 0 and 100, got 101"},
	    {"name: x\nqueries:\n  a:\n    query: [1]\n    interval: 60\n", MM_ERR_PARSE,
	     "p.yaml:4: queries.a.query: expected an SQL string, got a list"},
	    {"name: x\nqueries:\n  a:\n    query: SELECT 1\n    interval: 60\n    description: {a: "
	     "1}\n",
	     MM_ERR_PARSE, "p.yaml:6: queries.a.description: expected a string, got a mapping"},
	    {"name: x\nqueries:\n  a: SELECT 1\n", MM_ERR_PARSE,
	     "p.yaml:3: queries.a: expected a mapping of options (query, interval, ...), got a "
	     "string"},
	    {"name: x\nqueries:\n  bad name:\n    query: SELECT 1\n", MM_ERR_PARSE,
	     "p.yaml:3: queries: invalid query name 'bad name' (letters, digits, '_', '.', '-')"},
	    {"name: x\nqueries:\n  a: {query: SELECT 1, interval: 1}\n  a: {query: SELECT 2}\n",
	     MM_ERR_PARSE, "p.yaml:4: queries.a: duplicate query name"},
	    {"name: x\nqueries: [a, b]\n", MM_ERR_PARSE,
	     "p.yaml:2: queries: expected a mapping of query names to options, got a list"},
	    {"name: x\nqueries: {}\n", MM_ERR_PARSE,
	     "p.yaml:2: queries: empty (a pack needs at least one query)"},
	    {"name: x\nqueries:\n", MM_ERR_PARSE,
	     "p.yaml:2: queries: empty (a pack needs at least one query)"},
	    {"name: x\ndescription: d\n", MM_ERR_PARSE,
	     "p.yaml:1: queries: missing (a pack needs at least one query)"},
	    {"description: d\nqueries:\n  a: {query: SELECT 1, interval: 1}\n", MM_ERR_PARSE,
	     "p.yaml:1: name: missing (every pack needs a name)"},
	    {"name: a b\n", MM_ERR_PARSE,
	     "p.yaml:1: name: invalid pack name 'a b' (letters, digits, '_', '.', '-')"},
	    {"name: x\nname: y\n", MM_ERR_PARSE, "p.yaml:2: name: duplicate key"},
	    {"name: x\nquery: SELECT 1\n", MM_ERR_PARSE,
	     "p.yaml:2: query: unknown key (name, description, platform, version, shard, "
	     "discovery, queries)"},
	    {"name: x\ndiscovery: SELECT 1\n", MM_ERR_PARSE,
	     "p.yaml:2: discovery: expected a list of SQL statements, got a string"},
	    {"name: x\ndiscovery:\n  - SELECT 1\n  - ''\n", MM_ERR_PARSE,
	     "p.yaml:4: discovery[1]: empty statement"},
	    {"- name: x\n", MM_ERR_PARSE,
	     "p.yaml:1: expected a mapping with name and queries, got a list"},
	    {"", MM_ERR_PARSE, "p.yaml: empty pack (expected a mapping with name and queries)"},
	    {"name: x\n  bad: indent\n", MM_ERR_PARSE,
	     "p.yaml:2: mapping values are not allowed in this context"},
	    {"name: x\nqueries:\n  a: {query: SELECT 1, interval: 1}\n---\nname: y\n", MM_ERR_PARSE,
	     "p.yaml:5: more than one YAML document (one pack per file)"},
	    {"name: x\nqueries:\n  a:\n    query: \"SELECT 1\\0\"\n    interval: 1\n", MM_ERR_PARSE,
	     "p.yaml:4: queries.a.query: contains a NUL byte"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mm_pack *p = NULL;
		char *err = NULL;
		int r = parse(cases[i].text, NULL, "p.yaml", NULL, &p, &err);
		if (r != cases[i].code || err == NULL || strcmp(err, cases[i].msg) != 0) {
			fprintf(stderr, "case %zu: expected %d \"%s\", got %d \"%s\"\n", i,
			        cases[i].code, cases[i].msg, r, err != NULL ? err : "(null)");
			ASSERT_TRUE(0);
		}
		ASSERT_TRUE(p == NULL);
		free(err);
		mm_pack_free(p);
	}
}

static const char good_conf[] =
    "// osquery-style pack\n"                            /* 1 */
    "  # an indented comment { not JSON\n"               /* 2 */
    "{\n"                                                /* 3 */
    "  \"platform\": \"linux\",\n"                       /* 4 */
    "  \"version\": \"1.4.5\",\n"                        /* 5 */
    "  \"queries\": {\n"                                 /* 6 */
    "    \"users\": {\n"                                 /* 7 */
    "      \"query\": \"SELECT uid \\\n"                 /* 8 */
    "        FROM users\",\n"                            /* 9 */
    "      // interval as a string, as osquery allows\n" /* 10 */
    "      \"interval\": \"60\",\n"                      /* 11 */
    "      \"value\": \"who exists\"\n"                  /* 12 */
    "    },\n"                                           /* 13 */
    "    \"time\": {\"query\": \"SELECT unix_time FROM time\", \"interval\": 10, "
    "\"snapshot\": true, \"removed\": false}\n" /* 14 */
    "  }\n"                                     /* 15 */
    "}\n";                                      /* 16 */

TEST(conf_good)
{
	struct mm_pack *p = NULL;
	char *err = NULL;

	ASSERT_INT_EQ(parse(good_conf, NULL, "dir/users.conf", "users", &p, &err), 0);
	ASSERT_STR_EQ(err, NULL);
	if (p == NULL)
		return;
	ASSERT_STR_EQ(p->name, "users");
	ASSERT_STR_EQ(p->platform, "linux");
	ASSERT_STR_EQ(p->version, "1.4.5");
	ASSERT_INT_EQ(p->nqueries, 2);
	ASSERT_STR_EQ(p->queries[0].name, "users");
	/* the continuation joins the lines; the next line's blanks stay */
	ASSERT_STR_EQ(p->queries[0].query, "SELECT uid         FROM users");
	ASSERT_INT_EQ(p->queries[0].interval, 60);
	ASSERT_STR_EQ(p->queries[0].value, "who exists");
	ASSERT_STR_EQ(p->queries[1].name, "time");
	ASSERT_INT_EQ(p->queries[1].interval, 10);
	ASSERT_INT_EQ(p->queries[1].snapshot, 1);
	ASSERT_INT_EQ(p->queries[1].removed, 0);
	mm_pack_free(p);
}

TEST(conf_errors)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
	    /* lines stay the file's own after dropped comments and joined lines */
	    {"# c\n// c\n{\"queries\": {\"a\": {\"query\": \"SELECT \\\n1\",\n"
	     "\"interval\": \"x\"}}}\n",
	     "q.conf:5: queries.a.interval: not a number ('x')"},
	    {"{\n \"queries\": {\n  \"a\": {\"query\": \"SELECT 1\", \"interval\": 1,\n"
	     "   \"oops\": 1}}}\n",
	     "q.conf:4: queries.a.oops: unknown option (query, interval, snapshot, removed, "
	     "description, platform, version, shard, value)"},
	    {"{\n \"queries\": {\n  \"a\": {\"query\": \"SELECT 1\", \"interval\": 1,\n"
	     "   \"interval\": 2}}}\n",
	     "q.conf:4:13: duplicate object key near '\"interval\"'"},
	    {"{\n \"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 1}},\n"
	     " \"discovery\": [\"SELECT 1\",\n   5]\n}\n",
	     "q.conf:4: discovery[1]: expected an SQL string, got a number"},
	    {"{\"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 1.5}}}",
	     "q.conf:1: queries.a.interval: not a number (got a fractional number)"},
	    {"{\"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 1, \"snapshot\": "
	     "\"true\"}}}",
	     "q.conf:1: queries.a.snapshot: expected true or false, got 'true'"},
	    {"{\"queries\": {\"a\": {\"query\": \"\", \"interval\": 1}}}",
	     "q.conf:1: queries.a.query: empty query"},
	    {"{\n\"queries\": {\n\"a\": {\"interval\": 1}}}", "q.conf:3: queries.a.query: missing"},
	    {"{\"queries\": {\"a b\": {}}}",
	     "q.conf:1: queries: invalid query name 'a b' (letters, digits, '_', '.', '-')"},
	    {"{\"queries\": {}}", "q.conf:1: queries: empty (a pack needs at least one query)"},
	    {"\n{\"platform\": \"linux\"}",
	     "q.conf:2: queries: missing (a pack needs at least one query)"},
	    {"{\"name\": \"other\", \"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": "
	     "1}}}",
	     "q.conf:1: name: 'other' is not the pack's name 'q'"},
	    {"{\"pack\": 1}",
	     "q.conf:1: pack: unknown key (name, description, platform, version, shard, "
	     "discovery, queries)"},
	    {"[1]", "q.conf:1: expected a JSON object with \"queries\", got a list"},
	    {"{\"queries\": {\n", "q.conf:2: string or '}' expected near end of file"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mm_pack *p = NULL;
		char *err = NULL;
		int r = parse(cases[i].text, NULL, "q.conf", "q", &p, &err);
		if (r != MM_ERR_PARSE || err == NULL || strcmp(err, cases[i].msg) != 0) {
			fprintf(stderr, "case %zu: expected \"%s\", got %d \"%s\"\n", i,
			        cases[i].msg, r, err != NULL ? err : "(null)");
			ASSERT_TRUE(0);
		}
		ASSERT_TRUE(p == NULL);
		free(err);
		mm_pack_free(p);
	}
	/* a .conf pack needs a name from somewhere */
	{
		struct mm_pack *p = NULL;
		char *err = NULL;
		ASSERT_INT_EQ(
		    parse("{\"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 1}}}",
		          "conf", NULL, NULL, &p, &err),
		    MM_ERR_PARSE);
		ASSERT_STR_EQ(err, "<pack>: the pack has no name (name it after its file)");
		free(err);
	}
	/* and a name that is one */
	expect_error("{\"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 1}}}",
	             "my pack.conf", "my pack", MM_ERR_PARSE,
	             "my pack.conf: invalid pack name 'my pack' (letters, digits, '_', '.', '-')");
}

/* The format comes from the argument, the extension, else the text. */
TEST(format_guess)
{
	struct mm_pack *p = NULL;
	char *err = NULL;

	ASSERT_INT_EQ(parse("{\"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 1}}}",
	                    NULL, "stdin", "n", &p, &err),
	              0);
	ASSERT_STR_EQ(p != NULL ? p->name : NULL, "n");
	mm_pack_free(p);
	p = NULL;
	ASSERT_INT_EQ(parse("name: y\nqueries: {a: {query: SELECT 1, interval: 1}}\n", "yaml",
	                    "x.conf", NULL, &p, &err),
	              0);
	ASSERT_STR_EQ(p != NULL ? p->name : NULL, "y");
	mm_pack_free(p);
	p = NULL;
	ASSERT_INT_EQ(parse("name: y\n", "toml", "x", NULL, &p, &err), MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "x: unknown pack format 'toml' (yaml or conf)");
	free(err);
}

TEST(caps)
{
	struct mm_buf b;
	struct mm_pack *p = NULL;
	char *err = NULL, *big;
	int i;

	/* 1001 queries */
	mm_buf_init(&b, 1 << 20);
	mm_buf_adds(&b, "name: x\nqueries:\n");
	for (i = 0; i < MM_PACK_MAX_QUERIES + 1; i++)
		mm_buf_addf(&b, "  q%d: {query: SELECT 1, interval: 1}\n", i);
	ASSERT_INT_EQ(mm_pack_parse(b.data, b.len, "yaml", "c.yaml", NULL, &p, &err),
	              MM_ERR_TOOBIG);
	ASSERT_STR_EQ(err, "c.yaml:3: queries: more than 1000 queries");
	free(err);
	mm_buf_free(&b);

	/* a query over 64 KiB */
	mm_buf_init(&b, 1 << 20);
	mm_buf_adds(&b, "name: x\nqueries:\n  a:\n    interval: 1\n    query: SELECT '");
	for (i = 0; i < (int)MM_PACK_MAX_SQL; i++)
		mm_buf_addc(&b, 'x');
	mm_buf_adds(&b, "'\n");
	ASSERT_INT_EQ(mm_pack_parse(b.data, b.len, "yaml", "c.yaml", NULL, &p, &err),
	              MM_ERR_TOOBIG);
	ASSERT_STR_EQ(err, "c.yaml:5: queries.a.query: longer than 65536 bytes");
	free(err);
	mm_buf_free(&b);

	/* aliases that repeat 60 KB of text 100 times: over the 4 MiB string budget */
	mm_buf_init(&b, 1 << 20);
	mm_buf_adds(&b, "name: x\ndescription: &d '");
	for (i = 0; i < 60000; i++)
		mm_buf_addc(&b, 'y');
	mm_buf_adds(&b, "'\nqueries:\n");
	for (i = 0; i < 100; i++)
		mm_buf_addf(&b, "  q%d: {query: SELECT 1, interval: 1, description: *d}\n", i);
	ASSERT_INT_EQ(mm_pack_parse(b.data, b.len, "yaml", "c.yaml", NULL, &p, &err),
	              MM_ERR_TOOBIG);
	ASSERT_STR_EQ(err, "c.yaml:72: queries.q68.description: the pack's strings add up to "
	                   "more than 4194304 bytes");
	free(err);
	mm_buf_free(&b);

	/* more than 4 MiB of text */
	big = malloc(MM_PACK_MAX_TEXT + 1);
	if (big != NULL) {
		memset(big, ' ', MM_PACK_MAX_TEXT + 1);
		ASSERT_INT_EQ(
		    mm_pack_parse(big, MM_PACK_MAX_TEXT + 1, NULL, "big.yaml", NULL, &p, &err),
		    MM_ERR_TOOBIG);
		ASSERT_STR_EQ(err, "big.yaml: larger than 4194304 bytes");
		free(err);
		free(big);
	}
	ASSERT_TRUE(p == NULL);
}

/* to_json: osquery's shape, absent fields left out; from_json(to_json(p))
 * gives the same pack back. */
TEST(json_round_trip)
{
	struct mm_pack *p = NULL, *p2 = NULL;
	json_t *j = NULL, *j2 = NULL;
	char *err = NULL, *s = NULL;

	ASSERT_INT_EQ(parse(good_yaml, NULL, "x.yaml", NULL, &p, &err), 0);
	if (p == NULL)
		return;
	j = mm_pack_to_json(p);
	ASSERT_TRUE(j != NULL);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ASSERT_STR_EQ(s, "{\"description\":\"Web server checks\",\"platform\":\"linux\","
	                 "\"discovery\":[\"SELECT 1 FROM deb_packages WHERE name = 'nginx'\"],"
	                 "\"queries\":{\"ports\":{\"query\":\"SELECT port\\nFROM listening_ports\","
	                 "\"interval\":300,\"snapshot\":true,\"removed\":false,"
	                 "\"description\":\"Listening ports\",\"shard\":25},"
	                 "\"users\":{\"query\":\"SELECT username FROM users\",\"interval\":3600,"
	                 "\"snapshot\":false,\"removed\":true,\"platform\":\"posix\","
	                 "\"version\":\"5.0.0\",\"value\":\"Know who can log in\"}}}");
	free(s);
	ASSERT_INT_EQ(mm_pack_from_json(j, p->name, &p2, &err), 0);
	ASSERT_STR_EQ(err, NULL);
	if (p2 != NULL) {
		ASSERT_STR_EQ(p2->name, "web.checks-1");
		ASSERT_INT_EQ(p2->nqueries, 2);
		ASSERT_INT_EQ(p2->queries[0].snapshot, 1);
		ASSERT_INT_EQ(p2->queries[0].removed, 0);
		j2 = mm_pack_to_json(p2);
		ASSERT_TRUE(json_equal(j, j2));
	}
	/* the name may also come from the object (as GET /api/v1/packs/NAME shows it) */
	json_object_set_new(j, "name", json_string("web.checks-1"));
	mm_pack_free(p2);
	p2 = NULL;
	ASSERT_INT_EQ(mm_pack_from_json(j, NULL, &p2, &err), 0);
	ASSERT_STR_EQ(p2 != NULL ? p2->name : NULL, "web.checks-1");
	mm_pack_free(p2);
	p2 = NULL;
	/* the same validation as .conf files */
	json_object_set_new(json_object_get(json_object_get(j, "queries"), "users"), "interval",
	                    json_string("soon"));
	ASSERT_INT_EQ(mm_pack_from_json(j, "web.checks-1", &p2, &err), MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "pack web.checks-1: queries.users.interval: not a number ('soon')");
	ASSERT_TRUE(p2 == NULL);
	free(err);
	json_decref(j);
	json_decref(j2);
	mm_pack_free(p);
}

TEST(minimal_json)
{
	struct mm_pack *p = NULL;
	char *err = NULL, *s;
	json_t *j;

	ASSERT_INT_EQ(parse("name: m\nqueries: {a: {query: SELECT 1, interval: 1}}\n", NULL,
	                    "m.yaml", NULL, &p, &err),
	              0);
	if (p == NULL)
		return;
	j = mm_pack_to_json(p);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ASSERT_STR_EQ(s, "{\"queries\":{\"a\":{\"query\":\"SELECT 1\",\"interval\":1,"
	                 "\"snapshot\":false,\"removed\":true}}}");
	free(s);
	json_decref(j);
	mm_pack_free(p);
}

TEST(validate)
{
	struct mm_engine_opts o = {0};
	struct mm_engine *e = NULL;
	struct mm_pack *p = NULL;
	char *err = NULL;

	ASSERT_INT_EQ(mm_engine_new(&o, &e, &err), 0);
	if (e == NULL)
		return;
	ASSERT_INT_EQ(parse(good_yaml, NULL, "x.yaml", NULL, &p, &err), 0);
	ASSERT_INT_EQ(mm_pack_validate(p, e, &err), 0);
	ASSERT_STR_EQ(err, NULL);
	mm_pack_free(p);

	ASSERT_INT_EQ(parse("name: v\nqueries:\n  ok: {query: SELECT 1, interval: 1}\n"
	                    "  bad: {query: SELECT nope FROM users, interval: 1}\n",
	                    NULL, "v.yaml", NULL, &p, &err),
	              0);
	ASSERT_INT_EQ(mm_pack_validate(p, e, &err), MM_ERR_SQL);
	ASSERT_STR_EQ(err, "pack v, query bad: no such column: nope");
	free(err);
	mm_pack_free(p);

	ASSERT_INT_EQ(parse("name: v\ndiscovery: [SELECT 1, SELECT * FROM nosuch]\n"
	                    "queries: {a: {query: SELECT 1, interval: 1}}\n",
	                    NULL, "v.yaml", NULL, &p, &err),
	              0);
	ASSERT_INT_EQ(mm_pack_validate(p, e, &err), MM_ERR_SQL);
	ASSERT_STR_EQ(err, "pack v, query discovery[1]: no such table: nosuch");
	free(err);
	mm_pack_free(p);

	ASSERT_INT_EQ(parse("name: v\nqueries: {a: {query: 'SELECT 1; SELECT 2', interval: 1}}\n",
	                    NULL, "v.yaml", NULL, &p, &err),
	              0);
	ASSERT_INT_EQ(mm_pack_validate(p, e, &err), MM_ERR_SQL);
	ASSERT_STR_EQ(err, "pack v, query a: more than one SQL statement (one per query)");
	free(err);
	mm_pack_free(p);

	ASSERT_INT_EQ(parse("name: v\nqueries: {a: {query: 'SELECT 1; -- done', interval: 1}}\n",
	                    NULL, "v.yaml", NULL, &p, &err),
	              0);
	ASSERT_INT_EQ(mm_pack_validate(p, e, &err), 0);
	mm_pack_free(p);

	ASSERT_INT_EQ(parse("name: v\nqueries: {a: {query: '-- nothing', interval: 1}}\n", NULL,
	                    "v.yaml", NULL, &p, &err),
	              0);
	ASSERT_INT_EQ(mm_pack_validate(p, e, &err), MM_ERR_SQL);
	ASSERT_STR_EQ(err, "pack v, query a: no SQL statement (only comments)");
	free(err);
	mm_pack_free(p);

	ASSERT_INT_EQ(parse("name: v\nqueries: {a: {query: DELETE FROM users, interval: 1}}\n",
	                    NULL, "v.yaml", NULL, &p, &err),
	              0);
	ASSERT_TRUE(mm_pack_validate(p, e, &err) != 0);
	ASSERT_TRUE(err != NULL && strncmp(err, "pack v, query a: ", 17) == 0);
	free(err);
	mm_pack_free(p);
	mm_engine_free(e);
}

TEST(load_file)
{
	char dir[] = "/tmp/test_pack.XXXXXX", path[64];
	struct mm_pack *p = NULL;
	char *err = NULL;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		ASSERT_TRUE(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/ir-linux.conf", dir);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("{\"queries\": {\"a\": {\"query\": \"SELECT 1\", \"interval\": 1}}}\n", f);
		fclose(f);
	}
	ASSERT_INT_EQ(mm_pack_load(path, &p, &err), 0);
	ASSERT_STR_EQ(p != NULL ? p->name : NULL, "ir-linux"); /* named after its file */
	mm_pack_free(p);
	p = NULL;
	unlink(path);
	ASSERT_INT_EQ(mm_pack_load(path, &p, &err), MM_ERR_NOTFOUND);
	{
		char want[96];
		snprintf(want, sizeof(want), "%s: no such file", path);
		ASSERT_STR_EQ(err, want);
	}
	free(err);
	rmdir(dir);
}

TEST(platforms)
{
	ASSERT_INT_EQ(mm_pack_platform_ok(NULL), 1);
	ASSERT_INT_EQ(mm_pack_platform_ok(""), 1);
	ASSERT_INT_EQ(mm_pack_platform_ok("linux"), 1);
	ASSERT_INT_EQ(mm_pack_platform_ok("darwin, Linux"), 1);
	ASSERT_INT_EQ(mm_pack_platform_ok("posix"), 1);
	ASSERT_INT_EQ(mm_pack_platform_ok("all"), 1);
	ASSERT_INT_EQ(mm_pack_platform_ok("darwin"), 0);
	ASSERT_INT_EQ(mm_pack_platform_ok("windows,darwin"), 0);
	ASSERT_INT_EQ(mm_pack_platform_ok("linuxish"), 0);
}

UNIT_MAIN(T(yaml_good), T(yaml_errors), T(conf_good), T(conf_errors), T(format_guess), T(caps),
          T(json_round_trip), T(minimal_json), T(validate), T(load_file), T(platforms))
