/*
 * fuzz_daemon_config.c - the daemon's YAML config parser
 * (agent/daemon_config.c) on arbitrary bytes.  Checks memory safety and the
 * parser's promises: on failure no config and a message starting with the
 * file name; on success an https server URL without a trailing '/', every
 * path absolute (basedir given), the bounds of every number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/daemon_config.c"
#include "../../agent/daemon_log.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_daemon_config *c = NULL;
	char *err = NULL;
	size_t n;
	int r;

	r = mm_daemon_config_parse((const char *)data, size, "fuzz.yaml", "/base", &c, &err);
	if (r != 0) {
		if (c != NULL || err == NULL || strncmp(err, "fuzz.yaml:", 10) != 0)
			abort();
		free(err);
		return 0;
	}
	if (c == NULL || err != NULL || strncmp(c->server, "https://", 8) != 0)
		abort();
	n = strlen(c->server);
	if (n <= 8 || c->server[n - 1] == '/')
		abort();
	if (c->ca_file[0] != '/' || c->enroll_secret_file[0] != '/' || c->state_dir[0] != '/' ||
	    c->root[0] != '/')
		abort();
	if (c->queue_max_rows < 2 || c->queue_max_bytes < 65536 || c->splay_percent < 0 ||
	    c->splay_percent > 100 || c->config_refresh_ms <= 0 || c->log_flush_ms <= 0 ||
	    c->distributed_interval_ms <= 0 || c->connect_timeout_ms <= 0 ||
	    c->request_timeout_ms <= 0)
		abort();
	if ((c->host_identifier == MM_HOSTID_SPECIFIED) != (c->identifier != NULL))
		abort();
	mm_daemon_config_free(c);
	return 0;
}
