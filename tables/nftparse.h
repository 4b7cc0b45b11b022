/*
 * nftparse.h - the nftables ruleset model shared by nftables_chains and
 * nftables_rules, and a parser for the configured ruleset (the `nft -f`
 * syntax of /etc/nftables.conf).  The parser is pure: files come in as
 * buffers and includes are loaded through a callback, so the fuzzer and the
 * tests drive it without an engine.
 *
 * Syntax understood (a subset of nft(8), enough for boot configurations):
 *     flush ruleset
 *     include "/etc/nftables.d/X.nft"          the callback expands it (globs too)
 *     define NAME = VALUE                       ignored ($NAME kept in text)
 *     table [FAMILY] NAME { ... }               blocks may be reopened
 *         chain NAME {
 *             type filter hook input priority 0; policy drop;
 *             RULE ...                          one per line or ';'
 *         }
 *         set/map/flowtable/counter/... NAME { ... }   skipped
 *     add|create table|chain ... [{ ... }]
 *     add|insert rule [FAMILY] TABLE CHAIN RULE...
 *     delete|destroy table|chain ..., flush table|chain ...
 * '#' starts a comment, a trailing '\' joins lines, "strings" are kept
 * quoted in rule text, braces inside a rule ({ 22, 80 }) nest.  Anything
 * else is reported through the warn callback with file and line and
 * skipped; the parse never fails on bad input, only on out-of-memory.
 *
 * Bounds: MM_NFT_MAX_INCLUDE_DEPTH nested includes, MM_NFT_MAX_FILES files,
 * MM_NFT_MAX_CHAINS chains, MM_NFT_MAX_RULES rules, MM_NFT_RULE_CAP bytes
 * of rule text; an include of a file already being read is a loop, reported
 * and skipped.
 */
#ifndef MM_NFTPARSE_H
#define MM_NFTPARSE_H

#include <stddef.h>
#include <stdint.h>

#define MM_NFT_MAX_INCLUDE_DEPTH 16
#define MM_NFT_MAX_FILES 256
#define MM_NFT_MAX_CHAINS 4096
#define MM_NFT_MAX_RULES 100000
#define MM_NFT_RULE_CAP 8192

struct mm_nft_rule {
	char *text;     /* rule as written (config) or libnftnl's expression list (running) */
	int64_t handle; /* kernel handle (running), -1 for config */
	size_t file;    /* index into the ruleset's files (config) */
	int line;       /* line in that file (config), 0 for running */
};

struct mm_nft_chain {
	char *family, *table, *name;
	char *type, *hook;  /* NULL for a regular (non-base) chain */
	int has_prio;       /* prio is known */
	int64_t prio;
	char *policy;       /* "accept"/"drop" for base chains, NULL for regular ones */
	size_t file;        /* where declared (config) */
	int line;
	int deleted;        /* removed by flush ruleset / delete: not shown */
	struct mm_nft_rule *rules;
	size_t nrules, arules;
};

struct mm_nft_ruleset {
	struct mm_nft_chain *chains; /* in order of creation */
	size_t nchains, achains;
	char **files;                /* paths of the files read, [0] the top file */
	size_t nfiles, afiles;
	size_t total_rules;
};

/* A file handed to the parser by the include callback. */
struct mm_nft_src {
	char *path; /* host path, malloc'ed */
	char *data; /* contents, malloc'ed, NUL-terminated at data[len] */
	size_t len;
};

struct mm_nft_io {
	/* Expands an include argument (as written) into the files to read, in
	 * order.  Returns 0 (a glob may match nothing: *n = 0),
	 * MM_ERR_NOTFOUND, MM_ERR_TOOBIG or MM_ERR_NOMEM (stops the parse). */
	int (*include)(void *arg, const char *spec, struct mm_nft_src **files, size_t *n);
	/* Reports a skipped statement. */
	void (*warn)(void *arg, const char *path, int line, const char *msg);
	void *arg;
};

void mm_nft_srcs_free(struct mm_nft_src *v, size_t n);

/* Parses the configuration file path (contents data, len bytes).  On
 * success *out is a new ruleset (mm_nft_ruleset_free()).  Returns 0 or
 * MM_ERR_NOMEM. */
int mm_nft_parse(const char *path, const char *data, size_t len, const struct mm_nft_io *io,
		 struct mm_nft_ruleset **out);

/* ---- building a ruleset (the parser, and the netlink reader) ------------ */

struct mm_nft_ruleset *mm_nft_ruleset_new(void);
void mm_nft_ruleset_free(struct mm_nft_ruleset *rs);
/* Appends a chain (strings copied; type/hook/policy may be NULL).  Returns
 * the new chain, or NULL on out-of-memory or past MM_NFT_MAX_CHAINS. */
struct mm_nft_chain *mm_nft_chain_add(struct mm_nft_ruleset *rs, const char *family,
				      const char *table, const char *name);
/* The live chain family/table/name, or NULL. */
struct mm_nft_chain *mm_nft_chain_find(struct mm_nft_ruleset *rs, const char *family,
				       const char *table, const char *name);
/* Sets a string field of a chain (copied; NULL clears).  Returns 0 or
 * MM_ERR_NOMEM. */
int mm_nft_set_str(char **field, const char *v);
/* Appends (or with front = 1, prepends) a rule taking ownership of text.
 * Returns 0, MM_ERR_NOMEM or MM_ERR_LIMIT (text freed in every case on
 * failure). */
int mm_nft_rule_add(struct mm_nft_ruleset *rs, struct mm_nft_chain *c, char *text, int64_t handle,
		    size_t file, int line, int front);

/* The number of a named chain priority ("filter", "srcnat", ...) for a
 * family, written to *out.  Returns 0 or MM_ERR_NOTFOUND. */
int mm_nft_prio_name(const char *family, const char *name, int64_t *out);

#endif
