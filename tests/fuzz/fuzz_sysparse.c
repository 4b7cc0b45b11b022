/*
 * fuzz_sysparse.c - the os-release, /proc/cpuinfo and command-line parsers
 * of sysparse.c on arbitrary bytes (each on its own NUL-terminated copy).
 * Checks memory safety and that an unquoted value never grows past its line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sysparse.h"

static void no_warn(void *arg, int line, const char *why)
{
	(void)arg;
	(void)line;
	(void)why;
}

static int on_kv(void *arg, int line, const char *key, const char *value)
{
	size_t size = *(size_t *)arg;

	if (line <= 0 || key[0] == '\0' || strlen(key) + strlen(value) > size)
		abort();
	return 0;
}

static char *copy(const uint8_t *data, size_t size)
{
	char *b = malloc(size + 1);

	if (b != NULL) {
		memcpy(b, data, size);
		b[size] = '\0';
	}
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_cpuinfo ci;
	char *b, *p;

	if ((b = copy(data, size)) != NULL) {
		mm_osrelease_parse(b, size, on_kv, no_warn, &size);
		free(b);
	}
	if ((b = copy(data, size)) != NULL) {
		if (mm_cpuinfo_parse(b, size, &ci) == 0 &&
		    (ci.physical < 0 || ci.sockets < 0 || ci.logical < 0 ||
		     ci.brand[sizeof(ci.brand) - 1] != '\0'))
			abort();
		free(b);
	}
	if ((b = copy(data, size)) != NULL) {
		p = b;
		while (mm_cmdline_next(&p) != NULL)
			;
		free(b);
	}
	return 0;
}
