/*
 * fuzz_nftables.c - the nftables configuration parser (tables/nftparse.c).
 * The input is the top file; every include statement includes the input
 * again under the name written, so includes nest, loop and fan out, and the
 * parser's bounds (depth, file count, rules) are exercised.  Must never
 * crash, leak or run unbounded; the model it returns must be consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "nftparse.h"

struct input {
	const uint8_t *data;
	size_t size;
};

static int include(void *arg, const char *spec, struct mm_nft_src **files, size_t *n)
{
	struct input *in = arg;
	struct mm_nft_src *s;

	*files = NULL;
	*n = 0;
	if (spec[0] == 'm') /* some names are missing, as on a real host */
		return MM_ERR_NOTFOUND;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MM_ERR_NOMEM;
	s->path = strdup(spec);
	s->data = malloc(in->size + 1);
	if (s->path == NULL || s->data == NULL) {
		mm_nft_srcs_free(s, 1);
		return MM_ERR_NOMEM;
	}
	memcpy(s->data, in->data, in->size);
	s->data[in->size] = '\0';
	s->len = in->size;
	*files = s;
	*n = 1;
	return 0;
}

static void warn(void *arg, const char *path, int line, const char *msg)
{
	if (path == NULL || msg == NULL || line < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct mm_nft_io io = { include, warn, &in };
	struct mm_nft_ruleset *rs = NULL;
	size_t i, j, total = 0;

	if (mm_nft_parse("/etc/nftables.conf", (const char *)data, size, &io, &rs) != 0)
		return 0;
	if (rs->nchains > MM_NFT_MAX_CHAINS || rs->nfiles > MM_NFT_MAX_FILES || rs->nfiles == 0)
		abort();
	for (i = 0; i < rs->nchains; i++) {
		const struct mm_nft_chain *c = &rs->chains[i];
		if (c->family == NULL || c->table == NULL || c->name == NULL || c->file >= rs->nfiles)
			abort();
		if (c->policy != NULL && strcmp(c->policy, "accept") != 0 && strcmp(c->policy, "drop") != 0)
			abort();
		for (j = 0; j < c->nrules; j++)
			if (c->rules[j].text == NULL || strlen(c->rules[j].text) > MM_NFT_RULE_CAP ||
			    c->rules[j].file >= rs->nfiles)
				abort();
		total += c->nrules;
	}
	if (total != rs->total_rules || total > MM_NFT_MAX_RULES)
		abort();
	mm_nft_ruleset_free(rs);
	return 0;
}
