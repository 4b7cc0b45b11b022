/*
 * fuzz_dpkgver.c - dpkg version comparison on arbitrary bytes: input is
 * "a\0b".  Checks antisymmetry (cmp(a,b) == -cmp(b,a) in sign) as well as
 * memory safety.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpkgver.h"

static int sgn(int v) { return (v > 0) - (v < 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t alen = nul != NULL ? (size_t)(nul - (const char *)data) : size;
	const char *a = (const char *)data, *b = nul != NULL ? nul + 1 : "";
	size_t blen = nul != NULL ? size - alen - 1 : 0;

	if (sgn(mm_dpkg_vercmp_n(a, alen, b, blen)) != -sgn(mm_dpkg_vercmp_n(b, blen, a, alen)))
		abort();
	(void)mm_dpkg_version_valid("1.0");
	return 0;
}
