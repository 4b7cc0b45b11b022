/*
 * fuzz_iptables.c - the iptables-save parser (tables/iptsave.c), as IPv4
 * and as IPv6.  Must never crash or leak; every rule it returns has all of
 * osquery's fields set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iptsave.h"

static void warn(void *arg, int line, const char *msg)
{
	if (msg == NULL || line < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_ipt_set *set = NULL;
	char *buf = malloc(size + 1);
	size_t i, j;
	int v6, f;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (v6 = 0; v6 < 2; v6++) {
		if (mm_ipt_parse(buf, size, v6, warn, NULL, &set) != 0)
			continue;
		for (i = 0; i < set->nchains; i++)
			for (j = 0; j < set->chains[i].nrules; j++)
				for (f = 0; f < MM_IPT_NFIELDS; f++)
					if (set->chains[i].rules[j].f[f] == NULL)
						abort();
		mm_ipt_free(set);
		set = NULL;
	}
	free(buf);
	return 0;
}
