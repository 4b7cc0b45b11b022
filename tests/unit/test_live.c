/*
 * test_live.c - live queries' small pieces: the checks a live or label
 * query passes before any host is asked (empty, one read-only statement
 * that prepares against the agent's tables), and the coordinator's `live`
 * settings (defaults, values, errors naming the line and key).
 */
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "config.h"
#include "error.h"
#include "unit.h"

/* The check's verdict as "STATUS|MSG|DETAIL" ("0||" when accepted). */
static char *check(const char *sql)
{
	static char out[600];
	const char *msg = NULL;
	char *detail = NULL;
	int st = mm_live_check_sql(sql, &msg, &detail);

	snprintf(out, sizeof(out), "%d|%s|%s", st, msg != NULL ? msg : "",
	         detail != NULL ? detail : "");
	free(detail);
	return out;
}

TEST(accepts_one_select)
{
	ASSERT_STR_EQ(check("SELECT uid, username FROM users"), "0||");
	ASSERT_STR_EQ(check("  SELECT 1;  -- done\n"), "0||");
	ASSERT_STR_EQ(check("WITH x(a) AS (SELECT 1) SELECT a FROM x"), "0||");
	ASSERT_STR_EQ(check("SELECT * FROM file WHERE path = '/etc/passwd'"), "0||");
	ASSERT_STR_EQ(check("/* a comment */ SELECT name FROM processes /* and another */"), "0||");
}

TEST(refuses_empty)
{
	ASSERT_STR_EQ(check(""), "400|empty SQL|give one SELECT statement");
	ASSERT_STR_EQ(check(" \n\t "), "400|empty SQL|give one SELECT statement");
	ASSERT_STR_EQ(check("-- only a comment"), "400|empty SQL|give one SELECT statement");
	ASSERT_STR_EQ(check("/* only */ ;"), "400|empty SQL|give one SELECT statement");
	ASSERT_STR_EQ(check(NULL), "400|empty SQL|give one SELECT statement");
}

TEST(refuses_what_does_not_prepare)
{
	ASSERT_STR_EQ(check("SELECT nope FROM users"),
	              "422|the query does not prepare|no such column: nope");
	ASSERT_STR_EQ(check("SELECT * FROM nosuch"),
	              "422|the query does not prepare|no such table: nosuch");
	ASSERT_STR_EQ(check("SELEC 1"),
	              "422|the query does not prepare|near \"SELEC\": syntax error");
	ASSERT_STR_EQ(check("SELECT * FROM file"),
	              "422|the query does not prepare|table file needs a constraint on path or "
	              "directory (for example WHERE path = '...')");
}

TEST(refuses_writes)
{
	static const char *const sql[] = {
	    "DELETE FROM users", "INSERT INTO users(uid) VALUES(1)",
	    "CREATE TABLE t(a)", "ATTACH '/tmp/x.db' AS x",
	    "DROP TABLE users",  "BEGIN",
	};
	size_t i;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		const char *got = check(sql[i]);
		const char *want =
		    "422|only read-only statements (SELECT) can run as live queries|";

		if (strncmp(got, want, strlen(want)) != 0) {
			fprintf(stderr, "%s: expected [%s...], got [%s]\n", sql[i], want, got);
			unit_failed_ = 1;
		}
	}
}

TEST(refuses_two_statements)
{
	ASSERT_STR_EQ(check("SELECT 1; SELECT 2"),
	              "422|more than one statement|a live query is exactly one SQL statement");
	ASSERT_STR_EQ(check("SELECT 1; DELETE FROM users"),
	              "422|more than one statement|a live query is exactly one SQL statement");
}

TEST(refuses_long_sql)
{
	size_t n = MM_LIVE_SQL_MAX + 10;
	char *s = malloc(n + 1);

	memset(s, ' ', n);
	memcpy(s, "SELECT 1", 8);
	s[n] = '\0';
	ASSERT_STR_EQ(check(s), "400|SQL too long|at most 65536 bytes");
	free(s);
}

static const char base[] = "database: x.db\nenroll_secret_file: s\ntls:\n  enabled: false\n";

/* Parses base + extra; returns 0 or the error (in err). */
static int parse(const char *extra, struct mm_server_config *cfg, char **err)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", base, extra);
	return mm_config_parse(text, strlen(text), "/etc/mamori/m.yaml", cfg, err);
}

TEST(config_live_defaults)
{
	struct mm_server_config cfg;
	char *err = NULL;

	ASSERT_INT_EQ(parse("", &cfg, &err), 0);
	ASSERT_INT_EQ(cfg.live.long_poll_s, 30);
	ASSERT_INT_EQ(cfg.live.label_interval_s, 300);
	ASSERT_INT_EQ(cfg.live.retention_s, 86400);
	ASSERT_INT_EQ(cfg.live.max_rows, 100000);
	ASSERT_INT_EQ(cfg.live.retention_rows, 1000000);
	mm_config_free(&cfg);
}

TEST(config_live_values)
{
	struct mm_server_config cfg;
	char *err = NULL;

	ASSERT_INT_EQ(
	    parse("live:\n  long_poll: 0\n  label_interval: 10s\n  retention: 30d\n", &cfg, &err),
	    MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "/etc/mamori/m.yaml:8: live.retention: '30d' is not a duration from 1s "
	                   "to 366 days (e.g. 24h)");
	free(err);
	err = NULL;
	ASSERT_INT_EQ(parse("live:\n  long_poll: 0\n  label_interval: 10s\n  retention: 720h\n"
	                    "  max_rows: 500\n  retention_rows: 7000000\n",
	                    &cfg, &err),
	              0);
	ASSERT_INT_EQ(cfg.live.long_poll_s, 0);
	ASSERT_INT_EQ(cfg.live.label_interval_s, 10);
	ASSERT_INT_EQ(cfg.live.retention_s, 720 * 3600);
	ASSERT_INT_EQ(cfg.live.max_rows, 500);
	ASSERT_INT_EQ(cfg.live.retention_rows, 7000000);
	mm_config_free(&cfg);
}

TEST(config_live_errors)
{
	struct mm_server_config cfg;
	char *err = NULL;

	ASSERT_INT_EQ(parse("live:\n  long_pol: 30s\n", &cfg, &err), MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "/etc/mamori/m.yaml:6: live.long_pol: unknown setting");
	free(err);
	err = NULL;
	ASSERT_INT_EQ(parse("live:\n  label_interval: 0\n", &cfg, &err), MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "/etc/mamori/m.yaml:6: live.label_interval: '0': must be at least 1s");
	free(err);
	err = NULL;
	ASSERT_INT_EQ(parse("live:\n  max_rows: 0\n", &cfg, &err), MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "/etc/mamori/m.yaml:6: live.max_rows: '0' is not a whole number from 1 "
	                   "to 100000000");
	free(err);
	err = NULL;
	ASSERT_INT_EQ(parse("live: 5\n", &cfg, &err), MM_ERR_PARSE);
	ASSERT_STR_EQ(err, "/etc/mamori/m.yaml:5: live: expected a mapping of settings");
	free(err);
}

UNIT_MAIN(T(accepts_one_select), T(refuses_empty), T(refuses_what_does_not_prepare),
          T(refuses_writes), T(refuses_two_statements), T(refuses_long_sql),
          T(config_live_defaults), T(config_live_values), T(config_live_errors))
