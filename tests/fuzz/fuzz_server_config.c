/*
 * fuzz_server_config.c - the coordinator's YAML config parser
 * (server/config.c) on arbitrary bytes.  Checks memory safety and the
 * parser's promises: on failure a message "FILE:LINE: ..." and nothing left
 * to free; on success the required paths set (relative ones under the
 * file's directory), TLS files both set or both unset, every number in its
 * documented range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/config.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int under_base(const char *p)
{
	return p == NULL || p[0] == '/';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_server_config c;
	char *err = NULL;
	int r;

	r = mm_config_parse((const char *)data, size, "/etc/mm/fuzz.yaml", &c, &err);
	if (r != 0) {
		if (err == NULL || strncmp(err, "/etc/mm/fuzz.yaml:", 18) != 0 ||
		    c.database != NULL || c.listen_address != NULL || c.tls_cert != NULL)
			abort();
		free(err);
		return 0;
	}
	if (err != NULL || c.database == NULL || c.enroll_secret_file == NULL ||
	    c.listen_address == NULL || (c.tls_cert == NULL) != (c.tls_key == NULL) ||
	    !under_base(c.database) || !under_base(c.enroll_secret_file) ||
	    !under_base(c.tls_cert) || !under_base(c.tls_key) || !under_base(c.results_log) ||
	    c.port < 0 || c.port > 65535 || c.max_body < 1024 || c.max_body > (1 << 30) ||
	    c.timeout_s < 1 || c.online_margin_s < 0 || c.enroll_rate_per_min < 1 ||
	    c.store_queue_max < 1)
		abort();
	mm_config_free(&c);
	return 0;
}
