/*
 * fuzz_pack.c - the pack parsers (YAML, and osquery .conf with its comment
 * and continuation handling) on arbitrary bytes; each input goes through
 * both.  Checks memory safety and the parser's promises: on failure an
 * error naming the file and no pack; on success a pack whose names are
 * [A-Za-z0-9_.-]+, with 1..MM_PACK_MAX_QUERIES queries that each have SQL
 * and an interval in range, and whose JSON form reads back to the same
 * JSON (mm_pack_from_json(mm_pack_to_json(p))).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int good_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= MM_PACK_MAX_NAME &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static void check(const char *text, size_t size, const char *format, const char *file)
{
	struct mm_pack *p = NULL, *p2 = NULL;
	json_t *j = NULL, *j2 = NULL;
	char *err = NULL;
	size_t i;

	if (mm_pack_parse(text, size, format, file, "fuzz", &p, &err) != 0) {
		if (p != NULL || err == NULL || strncmp(err, file, strlen(file)) != 0)
			abort();
		free(err);
		return;
	}
	if (p == NULL || err != NULL || !good_name(p->name) || p->nqueries == 0 ||
	    p->nqueries > MM_PACK_MAX_QUERIES || p->ndiscovery > MM_PACK_MAX_DISCOVERY ||
	    p->shard < 0 || p->shard > 100)
		abort();
	for (i = 0; i < p->ndiscovery; i++)
		if (p->discovery[i] == NULL || p->discovery[i][0] == '\0' ||
		    strlen(p->discovery[i]) > MM_PACK_MAX_SQL)
			abort();
	for (i = 0; i < p->nqueries; i++) {
		const struct mm_pack_query *q = &p->queries[i];
		if (!good_name(q->name) || q->query == NULL || q->query[0] == '\0' ||
		    strlen(q->query) > MM_PACK_MAX_SQL || q->interval < 1 ||
		    q->interval > MM_PACK_MAX_INTERVAL || q->shard < 0 || q->shard > 100 ||
		    (q->snapshot != 0 && q->snapshot != 1) || (q->removed != 0 && q->removed != 1))
			abort();
	}
	if ((j = mm_pack_to_json(p)) == NULL)
		abort();
	if (mm_pack_from_json(j, p->name, &p2, &err) != 0)
		abort();
	if ((j2 = mm_pack_to_json(p2)) == NULL || !json_equal(j, j2))
		abort();
	json_decref(j);
	json_decref(j2);
	mm_pack_free(p);
	mm_pack_free(p2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check((const char *)data, size, "yaml", "fuzz.yaml");
	check((const char *)data, size, "conf", "fuzz.conf");
	return 0;
}
