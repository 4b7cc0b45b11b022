/*
 * test_ops.c - the operator API's small pieces: role names, name and id
 * checks, and audit records as stored (redaction of secrets, caps, the
 * system actor), on a real store in a temporary directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opapi.h"
#include "server.h"
#include "store.h"
#include "unit.h"

TEST(roles)
{
	ASSERT_INT_EQ(mm_role_parse("admin"), MM_ROLE_ADMIN);
	ASSERT_INT_EQ(mm_role_parse("operator"), MM_ROLE_OPERATOR);
	ASSERT_INT_EQ(mm_role_parse("observer"), MM_ROLE_OBSERVER);
	ASSERT_INT_EQ(mm_role_parse("responder"), MM_ROLE_RESPONDER);
	ASSERT_INT_EQ(mm_role_parse("Admin"), 0);
	ASSERT_INT_EQ(mm_role_parse(""), 0);
	ASSERT_INT_EQ(mm_role_parse(NULL), 0);
	ASSERT_STR_EQ(mm_role_name(MM_ROLE_OPERATOR), "operator");
	ASSERT_STR_EQ(mm_role_name(MM_ROLE_ADMIN | MM_ROLE_OPERATOR), NULL);
	ASSERT_STR_EQ(mm_role_name(0), NULL);
}

TEST(names_and_ids)
{
	int64_t id = 0;

	ASSERT_INT_EQ(op_name_ok("ci-bot_2.prod"), 1);
	ASSERT_INT_EQ(op_name_ok(""), 0);
	ASSERT_INT_EQ(op_name_ok(".hidden"), 0);
	ASSERT_INT_EQ(op_name_ok("-opt"), 0);
	ASSERT_INT_EQ(op_name_ok("a b"), 0);
	ASSERT_INT_EQ(op_name_ok("a/b"), 0);
	ASSERT_INT_EQ(op_name_ok("0123456789012345678901234567890123456789012345678901234567890123"), 1);
	ASSERT_INT_EQ(op_name_ok("01234567890123456789012345678901234567890123456789012345678901234"), 0);
	ASSERT_INT_EQ(op_is_id("42", &id), 1);
	ASSERT_INT_EQ(id, 42);
	ASSERT_INT_EQ(op_is_id("9223372036854775807", &id), 1);
	ASSERT_INT_EQ(op_is_id("9223372036854775808", NULL), 0);
	ASSERT_INT_EQ(op_is_id("0", NULL), 0);
	ASSERT_INT_EQ(op_is_id("042", NULL), 0);
	ASSERT_INT_EQ(op_is_id("-1", NULL), 0);
	ASSERT_INT_EQ(op_is_id("+1", NULL), 0);
	ASSERT_INT_EQ(op_is_id("1a", NULL), 0);
	ASSERT_INT_EQ(op_is_id("", NULL), 0);
	ASSERT_INT_EQ(op_is_id(NULL, NULL), 0);
}

struct insert_args {
	const struct mm_actor *actor;
	const char *action, *target;
	json_t *detail;
	int status;
};

static int insert_job(sqlite3 *db, void *arg, char **err)
{
	struct insert_args *a = arg;

	return mm_audit_insert(db, a->actor, a->action, a->target, a->detail, a->status);
}

/* The stored rows as "actor|role|action|target|detail|address|status" lines. */
static char *dump(struct mm_store *s)
{
	sqlite3_stmt *st = NULL;
	static char out[8192];
	size_t len = 0;

	out[0] = '\0';
	if (sqlite3_prepare_v2(mm_store_reader(s),
			       "SELECT actor || '|' || role || '|' || action || '|' || target || '|' ||"
			       " detail || '|' || address || '|' || status FROM audit ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return out;
	while (sqlite3_step(st) == SQLITE_ROW && len < sizeof(out))
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s\n",
					(const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

TEST(audit_records)
{
	char dir[] = "/tmp/mamori-test-ops.XXXXXX", path[128], *err = NULL, target[400];
	struct mm_store *s = NULL;
	struct mm_actor who = { 7, "ci", MM_ROLE_OPERATOR, "10.0.0.9" };
	struct insert_args a;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	ASSERT_INT_EQ(mm_store_open(path, NULL, &s, &err), 0);
	if (s == NULL) {
		fprintf(stderr, "store: %s\n", err != NULL ? err : "?");
		free(err);
		return;
	}
	/* A plain change. */
	a = (struct insert_args){ &who, "pack.apply", "web", json_pack("{s:i}", "queries", 2), 200 };
	ASSERT_INT_EQ(mm_store_run(s, insert_job, &a, &err), 0);
	json_decref(a.detail);
	/* Secrets in a detail are stored redacted, at any depth; other members stay. */
	a = (struct insert_args){ NULL, "token.create", "x",
				  json_pack("{s:s, s:i, s:{s:s, s:[{s:s}]}}", "token", "mmt_abc",
					    "token_id", 3, "inner", "enroll_secret", "s3cret",
					    "list", "node_key", "k"),
				  200 };
	ASSERT_INT_EQ(mm_store_run(s, insert_job, &a, &err), 0);
	ASSERT_STR_EQ(json_string_value(json_object_get(a.detail, "token")), "mmt_abc");
	json_decref(a.detail);
	/* A long target is cut; no detail is {}. */
	memset(target, 'a', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	a = (struct insert_args){ &who, "host.revoke", target, NULL, 409 };
	ASSERT_INT_EQ(mm_store_run(s, insert_job, &a, &err), 0);
	/* A detail too large to keep. */
	a.detail = json_object();
	for (int i = 0; i < 400; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		json_object_set_new(a.detail, k, json_string("0123456789012345678901234567890"));
	}
	a.target = "big";
	ASSERT_INT_EQ(mm_store_run(s, insert_job, &a, &err), 0);
	json_decref(a.detail);

	target[256] = '\0'; /* what is kept: AUDIT_TARGET_MAX bytes */
	{
		char want[2048];

		snprintf(want, sizeof(want),
			 "ci|operator|pack.apply|web|{\"queries\":2}|10.0.0.9|200\n"
			 "system||token.create|x|{\"token\":\"[redacted]\",\"token_id\":3,"
			 "\"inner\":{\"enroll_secret\":\"[redacted]\",\"list\":[{\"node_key\":"
			 "\"[redacted]\"}]}}||200\n"
			 "ci|operator|host.revoke|%s|{}|10.0.0.9|409\n"
			 "ci|operator|host.revoke|big|{\"truncated\":true}|10.0.0.9|409\n",
			 target);
		ASSERT_STR_EQ(dump(s), want);
	}
	mm_store_close(s);
	for (const char *const *ext = (const char *const[]){ "", "-wal", "-shm", NULL }; *ext != NULL;
	     ext++) {
		snprintf(path, sizeof(path), "%s/t.db%s", dir, *ext);
		unlink(path);
	}
	ASSERT_INT_EQ(rmdir(dir), 0);
}

UNIT_MAIN(T(roles), T(names_and_ids), T(audit_records))
