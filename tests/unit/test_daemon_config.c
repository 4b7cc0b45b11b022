/*
 * test_daemon_config.c - the daemon's YAML config (agent/daemon_config.c):
 * defaults, every key, relative paths, and the exact "FILE:LINE: key: what"
 * messages of bad files.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "../../agent/daemon_config.c"
#include "../../agent/daemon_log.c"

static struct mm_daemon_config *parse_ok(const char *text)
{
	struct mm_daemon_config *c = NULL;
	char *err = NULL;

	if (mm_daemon_config_parse(text, strlen(text), "agent.yaml", "/etc/mamori", &c, &err) !=
	    0) {
		fprintf(stderr, "unexpected error: %s\n", err);
		free(err);
		return NULL;
	}
	return c;
}

/* Returns the error message for text (malloc'ed), or "(ok)". */
static char *parse_err(const char *text)
{
	struct mm_daemon_config *c = NULL;
	char *err = NULL;

	if (mm_daemon_config_parse(text, strlen(text), "agent.yaml", "/etc/mamori", &c, &err) ==
	    0) {
		mm_daemon_config_free(c);
		return strdup("(ok)");
	}
	if (c != NULL)
		fprintf(stderr, "config returned on error\n");
	return err;
}

#define ERR_EQ(text, want)                                                                         \
	do {                                                                                       \
		char *e_ = parse_err(text);                                                        \
		ASSERT_STR_EQ(e_, want);                                                           \
		free(e_);                                                                          \
	} while (0)

#define MIN "server: https://coord.example:8443\nca_file: ca.pem\nenroll_secret_file: secret\n"

TEST(defaults)
{
	struct mm_daemon_config *c = parse_ok("server: https://127.0.0.1:8443//\n"
	                                      "ca_file: ca.pem\n"
	                                      "enroll_secret_file: /srv/secret\n");

	ASSERT_TRUE(c != NULL);
	if (c == NULL)
		return;
	ASSERT_STR_EQ(c->path, "agent.yaml");
	ASSERT_STR_EQ(c->server, "https://127.0.0.1:8443");
	ASSERT_STR_EQ(c->ca_file, "/etc/mamori/ca.pem");
	ASSERT_INT_EQ(c->ca_file_line, 2);
	ASSERT_STR_EQ(c->enroll_secret_file, "/srv/secret");
	ASSERT_INT_EQ(c->enroll_secret_file_line, 3);
	ASSERT_INT_EQ(c->host_identifier, MM_HOSTID_HOSTNAME);
	ASSERT_TRUE(c->identifier == NULL);
	ASSERT_STR_EQ(c->state_dir, "/var/lib/mamori");
	ASSERT_STR_EQ(c->root, "/");
	ASSERT_INT_EQ(c->config_refresh_ms, 60000);
	ASSERT_INT_EQ(c->distributed_interval_ms, 10000);
	ASSERT_INT_EQ(c->log_flush_ms, 5000);
	ASSERT_INT_EQ(c->splay_percent, 10);
	ASSERT_INT_EQ(c->queue_max_rows, 100000);
	ASSERT_INT_EQ(c->queue_max_bytes, 64 << 20);
	ASSERT_INT_EQ(c->connect_timeout_ms, 10000);
	ASSERT_INT_EQ(c->request_timeout_ms, 60000);
	ASSERT_INT_EQ(c->time_limit_ms, 0);
	ASSERT_INT_EQ(c->heap_limit, 0);
	mm_daemon_config_free(c);
}

TEST(every_key)
{
	struct mm_daemon_config *c = parse_ok("# agent\n"
	                                      "server: \"https://coord.example:8443\"\n"
	                                      "ca_file: tls/ca.pem\n"
	                                      "enroll_secret_file: secret\n"
	                                      "host_identifier: specified\n"
	                                      "identifier: web01-prod\n"
	                                      "state_dir: state\n"
	                                      "root: /mnt/image\n"
	                                      "intervals:\n"
	                                      "  config_refresh: 2m\n"
	                                      "  distributed_interval: 500ms\n"
	                                      "  log_flush: 3\n"
	                                      "  splay_percent: 0\n"
	                                      "queue: {max_rows: 5, max_bytes: 1M}\n"
	                                      "timeouts:\n"
	                                      "  connect: 2s\n"
	                                      "  request: 30s\n"
	                                      "limits:\n"
	                                      "  time: 0\n"
	                                      "  memory: 64M\n");

	ASSERT_TRUE(c != NULL);
	if (c == NULL)
		return;
	ASSERT_STR_EQ(c->server, "https://coord.example:8443");
	ASSERT_STR_EQ(c->ca_file, "/etc/mamori/tls/ca.pem");
	ASSERT_STR_EQ(c->enroll_secret_file, "/etc/mamori/secret");
	ASSERT_INT_EQ(c->host_identifier, MM_HOSTID_SPECIFIED);
	ASSERT_STR_EQ(c->identifier, "web01-prod");
	ASSERT_STR_EQ(c->state_dir, "/etc/mamori/state");
	ASSERT_STR_EQ(c->root, "/mnt/image");
	ASSERT_INT_EQ(c->config_refresh_ms, 120000);
	ASSERT_INT_EQ(c->distributed_interval_ms, 500);
	ASSERT_INT_EQ(c->log_flush_ms, 3000);
	ASSERT_INT_EQ(c->splay_percent, 0);
	ASSERT_INT_EQ(c->queue_max_rows, 5);
	ASSERT_INT_EQ(c->queue_max_bytes, 1 << 20);
	ASSERT_INT_EQ(c->connect_timeout_ms, 2000);
	ASSERT_INT_EQ(c->request_timeout_ms, 30000);
	ASSERT_INT_EQ(c->time_limit_ms, -1);
	ASSERT_INT_EQ(c->heap_limit, 64 << 20);
	mm_daemon_config_free(c);
}

TEST(uuid_identifier)
{
	struct mm_daemon_config *c = parse_ok(MIN "host_identifier: uuid\n");

	ASSERT_TRUE(c != NULL && c->host_identifier == MM_HOSTID_UUID);
	mm_daemon_config_free(c);
}

TEST(errors_name_file_line_key)
{
	ERR_EQ("", "agent.yaml:1: (top): expected a mapping of settings");
	ERR_EQ("- a\n- b\n", "agent.yaml:1: (top): expected a mapping of settings");
	ERR_EQ("ca_file: x\nenroll_secret_file: y\n",
	       "agent.yaml:1: server: required (the coordinator's https:// URL)");
	ERR_EQ("server: http://coord:8080\nca_file: x\nenroll_secret_file: y\n",
	       "agent.yaml:1: server: must be an https:// URL, got 'http://coord:8080'");
	ERR_EQ("server: https:///x\nca_file: x\nenroll_secret_file: y\n",
	       "agent.yaml:1: server: no host in 'https:///x'");
	ERR_EQ("server: https://coord:1/api?x=1\nca_file: x\nenroll_secret_file: y\n",
	       "agent.yaml:1: server: unexpected character in 'https://coord:1/api?x=1' "
	       "(give scheme://host:port)");
	ERR_EQ("server: https://coord\nenroll_secret_file: y\n",
	       "agent.yaml:1: ca_file: required (the CA that signed the server's certificate)");
	ERR_EQ("server: https://coord\nca_file: x\n", "agent.yaml:1: enroll_secret_file: required");
	ERR_EQ(MIN "sever: https://x\n", "agent.yaml:4: sever: unknown key");
	ERR_EQ(MIN "queue:\n  max_rows: 10\n  max_row: 10\n",
	       "agent.yaml:6: queue.max_row: unknown key");
	ERR_EQ(MIN "queue:\n  max_rows: 1\n",
	       "agent.yaml:5: queue.max_rows: must be between 2 and 100000000");
	ERR_EQ(MIN "queue:\n  max_rows: ten\n",
	       "agent.yaml:5: queue.max_rows: expected an integer, got 'ten'");
	ERR_EQ(MIN "queue:\n  max_bytes: 1k\n",
	       "agent.yaml:5: queue.max_bytes: must be between 64k and 16G");
	ERR_EQ(MIN "queue:\n  max_bytes: lots\n",
	       "agent.yaml:5: queue.max_bytes: bad size 'lots' (e.g. 64M, 512k)");
	ERR_EQ(MIN "intervals:\n  log_flush: soon\n",
	       "agent.yaml:5: intervals.log_flush: bad duration 'soon' (e.g. 500ms, 5s, 2m)");
	ERR_EQ(MIN "intervals:\n  log_flush: nan\n",
	       "agent.yaml:5: intervals.log_flush: bad duration 'nan' (e.g. 500ms, 5s, 2m)");
	ERR_EQ(MIN "intervals:\n  config_refresh: 0\n",
	       "agent.yaml:5: intervals.config_refresh: must be more than 0");
	ERR_EQ(MIN "intervals:\n  config_refresh: 8d\n",
	       "agent.yaml:5: intervals.config_refresh: bad duration '8d' (e.g. 500ms, 5s, 2m)");
	ERR_EQ(MIN "intervals:\n  splay_percent: 101\n",
	       "agent.yaml:5: intervals.splay_percent: must be between 0 and 100");
	ERR_EQ(MIN "intervals: 5s\n", "agent.yaml:4: intervals: expected a mapping");
	ERR_EQ(MIN "limits:\n  memory: 1M\n", "agent.yaml:5: limits.memory: less than 8M");
	ERR_EQ(MIN "host_identifier: fqdn\n",
	       "agent.yaml:4: host_identifier: expected hostname, uuid or specified, got 'fqdn'");
	ERR_EQ(MIN "host_identifier: specified\n",
	       "agent.yaml:4: identifier: required with host_identifier: specified");
	ERR_EQ(MIN "identifier: web01\n",
	       "agent.yaml:4: identifier: only used with host_identifier: specified");
	ERR_EQ(MIN "root: [a, b]\n", "agent.yaml:4: root: expected a string");
	ERR_EQ(MIN "root: \"\"\n", "agent.yaml:4: root: must not be empty");
	ERR_EQ(MIN "state_dir: \"a\\tb\"\n", "agent.yaml:4: state_dir: control character in value");
	ERR_EQ(MIN "ca_file: other.pem\n", "agent.yaml:4: ca_file: duplicate key");
	ERR_EQ(MIN "? [a]\n: b\n", "agent.yaml:4: (top): keys must be strings");
	ERR_EQ(MIN "queue: {max_rows: 5\n",
	       "agent.yaml:5: yaml: did not find expected ',' or '}' while parsing a flow mapping");
	ERR_EQ(MIN "  bad: indent\n",
	       "agent.yaml:4: yaml: mapping values are not allowed in this context");
}

TEST(load_checks_files)
{
	struct mm_daemon_config *c = NULL;
	char dir[] = "/tmp/mamori-test-config.XXXXXX", path[256], ca[256], *err = NULL;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/agent.yaml", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	f = fopen(path, "w");
	fputs("server: https://127.0.0.1:1\nca_file: ca.pem\nenroll_secret_file: secret\n", f);
	fclose(f);
	ASSERT_INT_EQ(mm_daemon_config_load(path, &c, &err), MM_ERR_IO);
	{
		char want[1024];
		snprintf(want, sizeof(want),
		         "%s:2: ca_file: cannot read '%s': No such file or directory", path, ca);
		ASSERT_STR_EQ(err, want);
	}
	free(err);
	err = NULL;
	f = fopen(ca, "w");
	fclose(f);
	snprintf(ca, sizeof(ca), "%s/secret", dir);
	f = fopen(ca, "w");
	fclose(f);
	ASSERT_INT_EQ(mm_daemon_config_load(path, &c, &err), 0);
	if (c != NULL) {
		snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
		ASSERT_STR_EQ(c->ca_file, ca);
		snprintf(ca, sizeof(ca), "%s/secret", dir);
		ASSERT_STR_EQ(c->enroll_secret_file, ca);
	}
	mm_daemon_config_free(c);
	unlink(path);
	unlink(ca);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	unlink(ca);
	rmdir(dir);
}

UNIT_MAIN(T(defaults), T(every_key), T(uuid_identifier), T(errors_name_file_line_key),
          T(load_checks_files))
