/*
 * test_daemon_policy.c - the daemon's policies and verdict bookkeeping
 * (agent/daemon_policy.c, the verdicts table of agent/daemon_state.c):
 * changed vs unchanged verdicts, reports of changes in change order and
 * their acknowledgement, full reports (with their size budget), removal of
 * policies that left the config, the caps on rows and reasons, the policy
 * set built from a config (Lua, Fleet YAML with several policies, load
 * errors, unchanged policies kept across refreshes) and evaluation on the
 * legacy01 fixture.
 *
 * The daemon's sources are compiled into this program (unit tests link the
 * engine library only).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "../../agent/daemon_config.c"
#include "../../agent/daemon_log.c"
#include "../../agent/daemon_policy.c"
#include "../../agent/daemon_state.c"

static char tmpdir[256];

static struct mm_state *fresh_state(void)
{
	struct mm_state *st = NULL;
	char *err = NULL;

	snprintf(tmpdir, sizeof(tmpdir), "%s/mamori-test-policy.XXXXXX",
	         getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	if (mm_state_open(tmpdir, 1000, 1 << 20, &st, &err) != 0) {
		fprintf(stderr, "mm_state_open: %s\n", err);
		exit(1);
	}
	return st;
}

static void cleanup_state(struct mm_state *st)
{
	static const char *const files[] = {"mamori-state.db", "mamori-state.db-wal",
	                                    "mamori-state.db-shm", "mamori-state.lock"};
	char p[512];
	size_t i;

	mm_state_close(st);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

/* Stores a verdict; returns *changed, or -1 on error. */
static int put(struct mm_state *st, const char *policy, const char *verdict, const char *reason,
               const char *rows, int64_t at)
{
	struct mm_vrec v = {0};
	char *err = NULL;
	int changed = -1;

	v.policy = (char *)policy;
	v.verdict = verdict;
	v.reason = (char *)reason;
	v.rows = (char *)rows;
	v.evaluated_at = at;
	if (mm_state_verdict_put(st, &v, "h1", &changed, &err) != 0) {
		fprintf(stderr, "put: %s\n", err);
		free(err);
		return -1;
	}
	return changed;
}

/* The report as compact JSON (malloc'ed); *gen gets its last change number. */
static char *report(struct mm_state *st, int full, size_t max_n, size_t max_bytes, int64_t *gen)
{
	json_t *a = NULL;
	char *err = NULL, *s;
	int64_t g = 0;

	if (mm_state_verdicts_report(st, full, max_n, max_bytes, &a, &g, &err) != 0) {
		fprintf(stderr, "report: %s\n", err);
		exit(1);
	}
	if (gen != NULL)
		*gen = g;
	s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(a);
	return s;
}

/* Policy ids of a report, space separated (malloc'ed). */
static char *report_ids(struct mm_state *st, int full, size_t max_n, int64_t *gen)
{
	json_t *a = NULL, *o;
	char *err = NULL;
	struct mm_buf b;
	size_t i;
	int64_t g = 0;

	if (mm_state_verdicts_report(st, full, max_n, 1 << 20, &a, &g, &err) != 0) {
		fprintf(stderr, "report: %s\n", err);
		exit(1);
	}
	if (gen != NULL)
		*gen = g;
	mm_buf_init(&b, 1 << 16);
	mm_buf_adds(&b, "");
	json_array_foreach(a, i, o)
	{
		if (i > 0)
			mm_buf_addc(&b, ' ');
		mm_buf_adds(&b, json_string_value(json_object_get(o, "policy")));
	}
	json_decref(a);
	return mm_buf_take(&b);
}

static int64_t unsent(struct mm_state *st)
{
	int64_t total = 0, u = -1;
	char *err = NULL;

	if (mm_state_verdicts_count(st, &total, &u, &err) != 0) {
		fprintf(stderr, "count: %s\n", err);
		exit(1);
	}
	return u;
}

static void ack(struct mm_state *st, int64_t gen)
{
	char *err = NULL;

	if (mm_state_verdicts_ack(st, gen, &err) != 0) {
		fprintf(stderr, "ack: %s\n", err);
		exit(1);
	}
}

TEST(quiet)
{
	mm_dlog_set_level(MM_DLOG_ERROR);
}

TEST(changed_and_unchanged)
{
	struct mm_state *st = fresh_state();
	char *s, hash[65], *err = NULL;
	int64_t gen = 0, at = 0;

	ASSERT_INT_EQ(put(st, "b-pol", "pass", "fine", NULL, 100), 1);
	ASSERT_INT_EQ(put(st, "a-pol", "fail", "bad", "[{\"k\":\"v\"}]", 100), 1);
	ASSERT_INT_EQ(unsent(st), 2);
	/* Changes in change order, not by id. */
	s = report(st, 0, 1000, 1 << 20, &gen);
	ASSERT_STR_EQ(
	    s, "[{\"policy\":\"b-pol\",\"verdict\":\"pass\",\"reason\":\"fine\",\"rows\":null,"
	       "\"evaluated_at\":100},{\"policy\":\"a-pol\",\"verdict\":\"fail\",\"reason\":"
	       "\"bad\",\"rows\":[{\"k\":\"v\"}],\"evaluated_at\":100}]");
	free(s);
	ASSERT_INT_EQ(gen, 2);
	ack(st, gen);
	ASSERT_INT_EQ(unsent(st), 0);
	s = report(st, 0, 1000, 1 << 20, &gen);
	ASSERT_STR_EQ(s, "[]");
	free(s);

	/* Same verdict, reason and rows: unchanged, still sent; the evaluation
	 * time moves. */
	ASSERT_INT_EQ(put(st, "a-pol", "fail", "bad", "[{\"k\":\"v\"}]", 200), 0);
	ASSERT_INT_EQ(put(st, "b-pol", "pass", "fine", NULL, 200), 0);
	ASSERT_INT_EQ(unsent(st), 0);
	ASSERT_INT_EQ(mm_state_verdict_last(st, "a-pol", &at, hash, &err), 0);
	ASSERT_INT_EQ(at, 200);
	ASSERT_STR_EQ(hash, "h1");
	ASSERT_INT_EQ(mm_state_verdict_last(st, "nope", &at, hash, &err), 0);
	ASSERT_INT_EQ(at, 0);
	ASSERT_STR_EQ(hash, "");

	/* Any of verdict, reason, rows differing is a change. */
	ASSERT_INT_EQ(put(st, "a-pol", "pass", "bad", "[{\"k\":\"v\"}]", 300), 1);
	ASSERT_INT_EQ(put(st, "b-pol", "pass", "fine now", NULL, 300), 1);
	s = report_ids(st, 0, 1000, &gen);
	ASSERT_STR_EQ(s, "a-pol b-pol");
	free(s);
	ack(st, gen);
	ASSERT_INT_EQ(put(st, "a-pol", "pass", "bad", "[{\"k\":\"w\"}]", 400), 1);
	ASSERT_INT_EQ(put(st, "a-pol", "pass", "bad", NULL, 400), 1);
	ASSERT_INT_EQ(unsent(st), 1);

	/* A full report: every verdict, by id, sent or not. */
	s = report(st, 1, 1000, 1 << 20, &gen);
	ASSERT_STR_EQ(
	    s, "[{\"policy\":\"a-pol\",\"verdict\":\"pass\",\"reason\":\"bad\",\"rows\":null,"
	       "\"evaluated_at\":400},{\"policy\":\"b-pol\",\"verdict\":\"pass\",\"reason\":"
	       "\"fine now\",\"rows\":null,\"evaluated_at\":300}]");
	free(s);
	ack(st, gen);
	ASSERT_INT_EQ(unsent(st), 0);
	cleanup_state(st);
}

TEST(batches_in_change_order)
{
	struct mm_state *st = fresh_state();
	int64_t gen1 = 0, gen2 = 0;
	char *s;

	put(st, "c", "pass", "", NULL, 1);
	put(st, "a", "pass", "", NULL, 1);
	put(st, "b", "pass", "", NULL, 1);
	s = report_ids(st, 0, 2, &gen1);
	ASSERT_STR_EQ(s, "c a");
	free(s);
	/* A change while the report is out is not acknowledged by it. */
	put(st, "c", "fail", "", NULL, 2);
	ack(st, gen1);
	s = report_ids(st, 0, 2, &gen2);
	ASSERT_STR_EQ(s, "b c");
	free(s);
	ASSERT_TRUE(gen2 > gen1);
	ack(st, gen2);
	ASSERT_INT_EQ(unsent(st), 0);
	cleanup_state(st);
}

TEST(batch_byte_limit)
{
	struct mm_state *st = fresh_state();
	char big[3000];
	json_t *a = NULL;
	char *err = NULL;
	int64_t gen = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(st, "p1", "fail", big, NULL, 1);
	put(st, "p2", "fail", big, NULL, 1);
	put(st, "p3", "fail", big, NULL, 1);
	/* Changes: the first always, then as many as fit. */
	ASSERT_INT_EQ(mm_state_verdicts_report(st, 0, 1000, 100, &a, &gen, &err), 0);
	ASSERT_INT_EQ(json_array_size(a), 1);
	json_decref(a);
	ASSERT_INT_EQ(mm_state_verdicts_report(st, 0, 1000, 6500, &a, &gen, &err), 0);
	ASSERT_INT_EQ(json_array_size(a), 2);
	json_decref(a);
	cleanup_state(st);
}

TEST(full_report_budget)
{
	struct mm_state *st = fresh_state();
	struct mm_buf rows;
	json_t *a = NULL;
	char *err = NULL;
	int64_t gen = 0;
	int i;

	mm_buf_init(&rows, 1 << 20);
	mm_buf_addc(&rows, '[');
	for (i = 0; i < 50; i++)
		mm_buf_addf(&rows, "%s{\"n\":\"%0100d\"}", i ? "," : "", i);
	mm_buf_addc(&rows, ']');
	put(st, "p1", "fail", "r", mm_buf_str(&rows), 1);
	put(st, "p2", "fail", "r", mm_buf_str(&rows), 1);
	put(st, "p3", "fail", "r", mm_buf_str(&rows), 1);
	/* Everything goes, but past the budget rows become a marker. */
	ASSERT_INT_EQ(mm_state_verdicts_report(st, 1, 1, 12000, &a, &gen, &err), 0);
	ASSERT_INT_EQ(json_array_size(a), 3);
	ASSERT_INT_EQ(gen, 3);
	ASSERT_INT_EQ(json_array_size(json_object_get(json_array_get(a, 0), "rows")), 50);
	ASSERT_INT_EQ(json_array_size(json_object_get(json_array_get(a, 1), "rows")), 50);
	ASSERT_STR_EQ(json_string_value(json_object_get(
	                  json_array_get(json_object_get(json_array_get(a, 2), "rows"), 0),
	                  "mamori_truncated")),
	              "rows left out: full report too large");
	json_decref(a);
	mm_buf_free(&rows);
	cleanup_state(st);
}

TEST(removal)
{
	struct mm_state *st = fresh_state();
	char *ids[] = {"b", "zz"}, *err = NULL, *s;
	int64_t removed = -1, gen = 0;

	put(st, "a", "pass", "", NULL, 1);
	put(st, "b", "fail", "", NULL, 1);
	put(st, "c", "error", "", NULL, 1);
	ASSERT_INT_EQ(mm_state_verdicts_retain(st, ids, 2, &removed, &err), 0);
	ASSERT_INT_EQ(removed, 2);
	s = report_ids(st, 1, 1000, &gen);
	ASSERT_STR_EQ(s, "b");
	free(s);
	ASSERT_INT_EQ(mm_state_verdicts_retain(st, ids, 2, &removed, &err), 0);
	ASSERT_INT_EQ(removed, 0);
	ASSERT_INT_EQ(mm_state_verdicts_retain(st, NULL, 0, &removed, &err), 0);
	ASSERT_INT_EQ(removed, 1);
	s = report(st, 1, 1000, 1 << 20, &gen);
	ASSERT_STR_EQ(s, "[]");
	free(s);
	cleanup_state(st);
}

TEST(survives_restart)
{
	struct mm_state *st = fresh_state();
	char *err = NULL, *s;
	int64_t gen = 0;

	put(st, "a", "pass", "", NULL, 1);
	put(st, "b", "fail", "", NULL, 1);
	s = report_ids(st, 0, 1, &gen);
	ack(st, gen);
	free(s);
	mm_state_close(st);
	st = NULL;
	ASSERT_INT_EQ(mm_state_open(tmpdir, 1000, 1 << 20, &st, &err), 0);
	ASSERT_INT_EQ(unsent(st), 1);
	s = report_ids(st, 0, 1000, &gen);
	ASSERT_STR_EQ(s, "b");
	free(s);
	/* A new change after the restart comes after the old ones. */
	put(st, "a", "fail", "", NULL, 2);
	s = report_ids(st, 0, 1000, &gen);
	ASSERT_STR_EQ(s, "b a");
	free(s);
	cleanup_state(st);
}

TEST(rows_cap)
{
	struct mm_buf b;
	char *out = NULL, big[2000];
	json_t *j;
	int i;

	ASSERT_INT_EQ(mm_verdict_rows_cap(NULL, &out), 0);
	ASSERT_TRUE(out == NULL);
	ASSERT_INT_EQ(mm_verdict_rows_cap("not json", &out), 0);
	ASSERT_TRUE(out == NULL);
	ASSERT_INT_EQ(mm_verdict_rows_cap("{\"a\":1}", &out), 0);
	ASSERT_STR_EQ(out, "[{\"a\":1}]");
	free(out);
	ASSERT_INT_EQ(mm_verdict_rows_cap("[]", &out), 0);
	ASSERT_STR_EQ(out, "[]");
	free(out);
	ASSERT_INT_EQ(mm_verdict_rows_cap("[{\"b\":\"x\",\"a\":2}]", &out), 0);
	ASSERT_STR_EQ(out, "[{\"b\":\"x\",\"a\":2}]");
	free(out);

	/* 250 rows: 100 kept, then the marker. */
	mm_buf_init(&b, 1 << 20);
	mm_buf_addc(&b, '[');
	for (i = 0; i < 250; i++)
		mm_buf_addf(&b, "%s{\"i\":%d}", i ? "," : "", i);
	mm_buf_addc(&b, ']');
	ASSERT_INT_EQ(mm_verdict_rows_cap(mm_buf_str(&b), &out), 0);
	j = json_loads(out, 0, NULL);
	ASSERT_INT_EQ(json_array_size(j), 101);
	ASSERT_INT_EQ(json_integer_value(json_object_get(json_array_get(j, 99), "i")), 99);
	ASSERT_STR_EQ(
	    json_string_value(json_object_get(json_array_get(j, 100), "mamori_truncated")),
	    "100 of 250 rows sent");
	json_decref(j);
	free(out);

	/* 50 rows of ~2 KB: the 64 KiB cap keeps 32 (each row is 2007 bytes
	 * plus a separator). */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mm_buf_reset(&b);
	mm_buf_addc(&b, '[');
	for (i = 0; i < 50; i++)
		mm_buf_addf(&b, "%s{\"v\":\"%s\"}", i ? "," : "", big);
	mm_buf_addc(&b, ']');
	ASSERT_INT_EQ(mm_verdict_rows_cap(mm_buf_str(&b), &out), 0);
	j = json_loads(out, 0, NULL);
	ASSERT_INT_EQ(json_array_size(j), 33);
	ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 32), "mamori_truncated")),
	              "32 of 50 rows sent");
	ASSERT_TRUE(strlen(out) <= MM_VERDICT_MAX_ROWS_BYTES + 100);
	json_decref(j);
	free(out);
	mm_buf_free(&b);
}

TEST(utf8_cut_and_clean)
{
	char s1[] = "ab\xc3\xa9", s2[] = "ab\xc3\xa9", s3[] = "abc", *c;

	mm_utf8_cut(s1, 3); /* would split the é */
	ASSERT_STR_EQ(s1, "ab");
	mm_utf8_cut(s2, 4);
	ASSERT_STR_EQ(s2, "ab\xc3\xa9");
	mm_utf8_cut(s3, 0);
	ASSERT_STR_EQ(s3, "");
	c = utf8_clean("ok\xff\xc3(\xe2\x82\xac");
	ASSERT_STR_EQ(c, "ok\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac");
	free(c);
}

/* ---- the policy set ----------------------------------------------------------- */

static const char lua_ok[] =
    "return {\n"
    "  id = 'root-login', title = 'root may not log in', severity = 'high',\n"
    "  remediation = 'Set PermitRootLogin no.',\n"
    "  check = function()\n"
    "    local rows = query(\"SELECT keyword, value, line FROM sshd_config\"\n"
    "      .. \" WHERE keyword = 'PermitRootLogin' AND match_block = ''\")\n"
    "    if #rows == 0 then return not_applicable('no sshd_config') end\n"
    "    if rows[1].value == 'no' then return pass('PermitRootLogin is no') end\n"
    "    return fail('PermitRootLogin is ' .. rows[1].value, rows)\n"
    "  end,\n"
    "}\n";

static const char lua_bad[] = "return {\n  id = 'broken', title = 'x',\n  severity = 'high',\n"
                              "  check = function() return pass('') end\n  oops\n}\n";

static const char fleet_yaml[] = "policies:\n"
                                 "  - name: Has passwd\n"
                                 "    query: SELECT 1 FROM users LIMIT 1\n"
                                 "  - name: Has user nobody-here\n"
                                 "    query: SELECT 1 FROM users WHERE username = 'nobody-here'\n";

/* A config's mamori.policies array. */
static json_t *config_list(const char *lua_src)
{
	return json_pack(
	    "[{s:s,s:s,s:s,s:s,s:i}, {s:s,s:s,s:s,s:s,s:i},"
	    " {s:s,s:s,s:s,s:s}, {s:s,s:s,s:s,s:s}, {s:s,s:s,s:s,s:s},"
	    " {s:s,s:s,s:s}, {s:s,s:s}, {s:s,s:s,s:s,s:s}, i]",
	    "policy", "root-login", "kind", "lua", "filename", "root-login.lua", "source", lua_src,
	    "interval", 60,
	    /* */
	    "policy", "broken", "kind", "lua", "filename", "broken.lua", "source", lua_bad,
	    "interval", 0,
	    /* two policies of one YAML file */
	    "policy", "has-passwd", "kind", "sql", "filename", "fleet.yaml", "source", fleet_yaml,
	    /* */
	    "policy", "has-user-nobody-here", "kind", "sql", "filename", "fleet.yaml", "source",
	    fleet_yaml,
	    /* not in the file */
	    "policy", "not-there", "kind", "sql", "filename", "fleet.yaml", "source", fleet_yaml,
	    /* no source */
	    "policy", "nosrc", "kind", "lua", "filename", "nosrc.lua",
	    /* no id: skipped */
	    "kind", "lua", "source", lua_src,
	    /* a duplicate: skipped */
	    "policy", "root-login", "kind", "perl", "filename", "x.pl", "source", "1;",
	    /* not an object: skipped */
	    5);
}

static struct mm_dpolicy *find(struct mm_dpolicies *s, const char *id)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return &s->v[i];
	return NULL;
}

TEST(policy_set)
{
	struct mm_policy_limits lim = {0};
	struct mm_dpolicies *s = NULL, *s2 = NULL, *s3 = NULL;
	struct mm_dpolicy *dp;
	struct mm_policy *kept;
	json_t *list = config_list(lua_ok), *list2;

	ASSERT_INT_EQ(mm_dpolicies_update(list, NULL, &lim, &s), 0);
	ASSERT_INT_EQ(s->n, 6);
	dp = find(s, "root-login");
	ASSERT_TRUE(dp != NULL && dp->p != NULL && dp->load_err == NULL && dp->fresh);
	ASSERT_INT_EQ(dp->interval, 60);
	ASSERT_INT_EQ(strlen(dp->hash), 64);
	dp = find(s, "broken");
	ASSERT_TRUE(dp != NULL && dp->p == NULL && dp->load_err != NULL);
	ASSERT_INT_EQ(dp->interval, MM_DPOLICY_INTERVAL);
	ASSERT_TRUE(dp->load_err != NULL && strncmp(dp->load_err, "broken.lua:5:", 13) == 0);
	dp = find(s, "has-passwd");
	ASSERT_TRUE(dp != NULL && dp->p != NULL);
	ASSERT_STR_EQ(dp->p != NULL ? dp->p->sql : NULL, "SELECT 1 FROM users LIMIT 1");
	dp = find(s, "has-user-nobody-here");
	ASSERT_TRUE(dp != NULL && dp->p != NULL);
	dp = find(s, "not-there");
	ASSERT_STR_EQ(dp != NULL ? dp->load_err : NULL,
	              "fleet.yaml: no policy with id 'not-there' in the file");
	dp = find(s, "nosrc");
	ASSERT_STR_EQ(dp != NULL ? dp->load_err : NULL,
	              "nosrc.lua: no source in the coordinator's config");

	/* The same config again: everything kept, nothing reloaded. */
	kept = find(s, "root-login")->p;
	find(s, "root-login")->due_ms = 12345;
	ASSERT_INT_EQ(mm_dpolicies_update(list, s, &lim, &s2), 0);
	ASSERT_INT_EQ(s2->n, 6);
	dp = find(s2, "root-login");
	ASSERT_TRUE(dp->p == kept && !dp->fresh);
	ASSERT_INT_EQ(dp->due_ms, 12345);
	ASSERT_TRUE(find(s, "root-login")->p == NULL); /* taken over */
	ASSERT_TRUE(find(s2, "broken")->load_err != NULL && !find(s2, "broken")->fresh);

	/* A changed source is loaded again; the others stay. */
	list2 = json_deep_copy(list);
	json_object_set_new(json_array_get(list2, 0), "source",
	                    json_string("return { id = 'root-login', title = 't', severity = 'low',"
	                                " check = function() return pass('ok') end }"));
	json_array_remove(list2, 2);
	ASSERT_INT_EQ(mm_dpolicies_update(list2, s2, &lim, &s3), 0);
	ASSERT_INT_EQ(s3->n, 5);
	dp = find(s3, "root-login");
	ASSERT_TRUE(dp->p != NULL && dp->p != kept && dp->fresh);
	ASSERT_TRUE(strcmp(dp->hash, find(s2, "root-login")->hash) != 0);
	ASSERT_TRUE(!find(s3, "has-user-nobody-here")->fresh);
	ASSERT_TRUE(find(s3, "has-passwd") == NULL);

	mm_dpolicies_free(s);
	mm_dpolicies_free(s2);
	mm_dpolicies_free(s3);
	json_decref(list);
	json_decref(list2);

	/* No policies key, or not an array: an empty set. */
	ASSERT_INT_EQ(mm_dpolicies_update(NULL, NULL, &lim, &s), 0);
	ASSERT_INT_EQ(s->n, 0);
	mm_dpolicies_free(s);
}

static void silent(void *arg, const char *table, const char *msg)
{
	(void)arg;
	(void)table;
	(void)msg;
}

static struct mm_engine *engine(const char *host)
{
	struct mm_engine_opts o = {0};
	struct mm_engine *e = NULL;
	char *err = NULL, src[4096], root[4300], *p;
	int i;

	/* The sources' root from this file's path (ctest runs unit tests in the
	 * build tree): strip "tests/unit/test_daemon_policy.c". */
	snprintf(src, sizeof(src), "%s", __FILE__);
	for (i = 0; i < 3 && (p = strrchr(src, '/')) != NULL; i++)
		*p = '\0';
	snprintf(root, sizeof(root), "%s/tests/fixtures/%s", i < 3 ? "." : src, host);
	o.root = root;
	o.warn = silent;
	if (mm_engine_new(&o, &e, &err) != 0) {
		fprintf(stderr, "engine: %s\n", err);
		exit(1);
	}
	return e;
}

TEST(evaluate)
{
	struct mm_policy_limits lim = {0};
	struct mm_dpolicies *s = NULL;
	struct mm_engine *e;
	struct mm_state *st = fresh_state();
	struct mm_vrec v;
	json_t *list = config_list(lua_ok), *rows;
	char *err = NULL;
	int changed = -1;

	e = engine("legacy01");
	ASSERT_INT_EQ(mm_dpolicies_update(list, NULL, &lim, &s), 0);

	ASSERT_INT_EQ(mm_dpolicy_eval(find(s, "root-login"), e, &lim, 1000, &v), 0);
	ASSERT_STR_EQ(v.policy, "root-login");
	ASSERT_STR_EQ(v.verdict, "fail");
	ASSERT_STR_EQ(v.reason, "PermitRootLogin is yes");
	rows = json_loads(v.rows != NULL ? v.rows : "null", JSON_DECODE_ANY, NULL);
	ASSERT_INT_EQ(json_array_size(rows), 1);
	ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(rows, 0), "value")), "yes");
	ASSERT_INT_EQ(json_integer_value(json_object_get(json_array_get(rows, 0), "line")), 20);
	json_decref(rows);
	ASSERT_INT_EQ(v.evaluated_at, 1000);
	ASSERT_INT_EQ(mm_state_verdict_put(st, &v, find(s, "root-login")->hash, &changed, &err), 0);
	ASSERT_INT_EQ(changed, 1);
	mm_vrec_clear(&v);

	/* The same evaluation again: unchanged. */
	ASSERT_INT_EQ(mm_dpolicy_eval(find(s, "root-login"), e, &lim, 1001, &v), 0);
	ASSERT_INT_EQ(mm_state_verdict_put(st, &v, find(s, "root-login")->hash, &changed, &err), 0);
	ASSERT_INT_EQ(changed, 0);
	mm_vrec_clear(&v);

	/* A policy that does not load: an error verdict naming the error. */
	ASSERT_INT_EQ(mm_dpolicy_eval(find(s, "broken"), e, &lim, 1000, &v), 0);
	ASSERT_STR_EQ(v.verdict, "error");
	ASSERT_TRUE(strncmp(v.reason, "the policy does not load: broken.lua:5:", 39) == 0);
	ASSERT_TRUE(v.rows == NULL);
	mm_vrec_clear(&v);
	ASSERT_INT_EQ(mm_dpolicy_eval(find(s, "not-there"), e, &lim, 1000, &v), 0);
	ASSERT_STR_EQ(v.reason, "the policy does not load: fleet.yaml: no policy with id "
	                        "'not-there' in the file");
	mm_vrec_clear(&v);

	/* Fleet SQL policies from one file. */
	ASSERT_INT_EQ(mm_dpolicy_eval(find(s, "has-passwd"), e, &lim, 1000, &v), 0);
	ASSERT_STR_EQ(v.verdict, "pass");
	ASSERT_STR_EQ(v.reason, "the query returned a row");
	mm_vrec_clear(&v);
	ASSERT_INT_EQ(mm_dpolicy_eval(find(s, "has-user-nobody-here"), e, &lim, 1000, &v), 0);
	ASSERT_STR_EQ(v.verdict, "fail");
	mm_vrec_clear(&v);

	mm_dpolicies_free(s);
	json_decref(list);
	mm_engine_free(e);
	cleanup_state(st);
}

/* Parses a config with the given intervals: section; NULL on error (*err). */
static struct mm_daemon_config *config(const char *intervals, char **err)
{
	struct mm_daemon_config *c = NULL;
	char text[1024];

	snprintf(text, sizeof(text),
	         "server: https://h:1\nca_file: /ca.pem\nenroll_secret_file: /s\n%s", intervals);
	*err = NULL;
	if (mm_daemon_config_parse(text, strlen(text), "a.yaml", NULL, &c, err) != 0)
		return NULL;
	return c;
}

TEST(config_keys)
{
	struct mm_daemon_config *c;
	char *err = NULL;

	c = config("", &err);
	ASSERT_TRUE(c != NULL);
	ASSERT_INT_EQ(c != NULL ? c->policy_override_ms : -9, 0);
	ASSERT_INT_EQ(c != NULL ? c->policy_full_report_ms : -9, 3600000);
	mm_daemon_config_free(c);
	c = config("intervals:\n  policy_override: 2s\n  policy_full_report: 5m\n", &err);
	ASSERT_INT_EQ(c != NULL ? c->policy_override_ms : -9, 2000);
	ASSERT_INT_EQ(c != NULL ? c->policy_full_report_ms : -9, 300000);
	mm_daemon_config_free(c);
	c = config("intervals:\n  policy_override: 0\n", &err);
	ASSERT_INT_EQ(c != NULL ? c->policy_override_ms : -9, -1); /* off */
	mm_daemon_config_free(c);
	c = config("intervals:\n  policy_full_report: 0\n", &err);
	ASSERT_TRUE(c == NULL);
	ASSERT_STR_EQ(err, "a.yaml:5: intervals.policy_full_report: must be more than 0");
	free(err);
	c = config("intervals:\n  policy_override: soon\n", &err);
	ASSERT_TRUE(c == NULL);
	ASSERT_STR_EQ(err, "a.yaml:5: intervals.policy_override: bad duration 'soon' (e.g. 500ms, "
	                   "5s, 2m)");
	free(err);
}

TEST(report_body)
{
	json_t *a = json_pack("[{s:s,s:s,s:s,s:n,s:i}]", "policy", "p", "verdict", "pass", "reason",
	                      "r", "rows", "evaluated_at", 7);
	size_t len = 0;
	char *s = mm_verdicts_body(1, a, &len);

	ASSERT_STR_EQ(s, "{\"full\":true,\"verdicts\":[{\"policy\":\"p\",\"verdict\":\"pass\","
	                 "\"reason\":\"r\",\"rows\":null,\"evaluated_at\":7}]}");
	ASSERT_INT_EQ(len, s != NULL ? strlen(s) : 0);
	free(s);
	s = mm_verdicts_body(0, a, &len);
	ASSERT_TRUE(s != NULL && strncmp(s, "{\"full\":false,", 14) == 0);
	free(s);
	json_decref(a);
}

UNIT_MAIN(T(quiet), T(changed_and_unchanged), T(batches_in_change_order), T(batch_byte_limit),
          T(full_report_budget), T(removal), T(survives_restart), T(rows_cap),
          T(utf8_cut_and_clean), T(policy_set), T(evaluate), T(config_keys), T(report_body))
