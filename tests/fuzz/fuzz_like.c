/*
 * fuzz_like.c - the file table's LIKE component matcher: input is
 * "pattern\0name"; must never crash, loop or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fswalk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	const char *pat, *name;
	size_t plen;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	pat = buf;
	plen = strlen(pat);
	name = plen < size ? buf + plen + 1 : buf + size + 1;
	(void)mm_like_component(pat, name);
	free(buf);
	return 0;
}
