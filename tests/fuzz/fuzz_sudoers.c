/*
 * fuzz_sudoers.c - the sudoers entry splitter (tables/sudoers_parse.c): any
 * bytes as a sudoers file; must never crash, leak or read out of bounds,
 * and every entry it reports must have a non-empty header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sudoers_parse.h"

static int on_entry(void *arg, const struct mm_sudoers_entry *e)
{
	size_t *n = arg;

	if (e->header == NULL || e->header[0] == '\0' || e->details == NULL || e->line < 1)
		abort();
	*n += strlen(e->header) + strlen(e->details);
	return 0;
}

static void on_warn(void *arg, int line, const char *why)
{
	if (line < 1 || why == NULL || why[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	/* Exact-size copy so ASan catches any read past the end. */
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	(void)mm_sudoers_parse(buf, size, on_entry, on_warn, &n);
	free(buf);
	return 0;
}
