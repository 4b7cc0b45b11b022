/*
 * fuzz_policy_yaml.c - the YAML (Fleet) policy parser on arbitrary bytes.
 * Checks memory safety and the parser's promises: on success every policy
 * has an id of [a-z0-9-] without '-' at the ends, a title and a query; on
 * failure an error message naming the file and nothing appended.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_policy_list list = { NULL, 0, 0 };
	char *err = NULL;
	size_t i, j;
	int r;

	r = mm_policy_parse_yaml("fuzz.yml", (const char *)data, size, &list, &err);
	if (r != 0) {
		if (list.n != 0 || err == NULL || strncmp(err, "fuzz.yml", 8) != 0)
			abort();
	} else {
		if (list.n == 0 || err != NULL)
			abort();
		for (i = 0; i < list.n; i++) {
			const struct mm_policy *p = list.v[i];
			size_t n = strlen(p->id);
			if (p->kind != MM_POLICY_SQL || p->title == NULL || p->sql == NULL || n == 0 ||
			    p->id[0] == '-' || p->id[n - 1] == '-')
				abort();
			for (j = 0; j < n; j++)
				if (!((p->id[j] >= 'a' && p->id[j] <= 'z') ||
				      (p->id[j] >= '0' && p->id[j] <= '9') || p->id[j] == '-'))
					abort();
		}
	}
	free(err);
	mm_policy_list_free(&list);
	return 0;
}
