/*
 * iptables.c - osquery's `iptables` table, answered from the saved rule
 * files that iptables-persistent restores at boot (/etc/iptables/rules.v4
 * and rules.v6, iptables-save format; parser in iptsave.c), under any root.
 *
 * Rows follow osquery's shape: for each chain, one row per rule carrying the
 * chain's policy, then one row for the chain itself (target, protocol and
 * the other rule columns NULL) with the policy counters.  Rule rows carry the
 * rule's own counters when the file has them (iptables-save -c), else 0.
 *
 * The running legacy ruleset (getsockopt IPT_SO_GET_ENTRIES) is not read:
 * on Debian 12 the iptables command drives nftables (iptables-nft), whose
 * running rules nftables_chains / nftables_rules show.  Columns past
 * osquery's: source ('saved:/etc/iptables/rules.v4') and rule (the line as
 * written).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iptsave.h"
#include "table.h"

enum { C_FILTER_NAME, C_CHAIN, C_POLICY, C_TARGET, C_PROTOCOL, C_SRC_PORT, C_DST_PORT, C_SRC_IP,
       C_SRC_MASK, C_INIFACE, C_INIFACE_MASK, C_DST_IP, C_DST_MASK, C_OUTIFACE, C_OUTIFACE_MASK,
       C_MATCH, C_PACKETS, C_BYTES, C_SOURCE, C_RULE };

static const struct mm_column cols[] = {
	{ "filter_name", MM_TEXT, MM_COL_INDEX, "Table: filter, nat, mangle, raw or security" },
	{ "chain", MM_TEXT, 0, "Chain name (INPUT, FORWARD, OUTPUT, ... or user-defined)" },
	{ "policy", MM_TEXT, 0, "Policy of the chain (ACCEPT, DROP); '' for user-defined chains" },
	{ "target", MM_TEXT, 0, "Target of the rule (ACCEPT, DROP, REJECT, a chain); NULL on the chain's own row" },
	{ "protocol", MM_INTEGER, 0, "Protocol number (0 = any; '!' in front when negated)" },
	{ "src_port", MM_TEXT, 0, "Source ports 'lo:hi' of a tcp/udp match, '' otherwise" },
	{ "dst_port", MM_TEXT, 0, "Destination ports 'lo:hi' of a tcp/udp match, '' otherwise" },
	{ "src_ip", MM_TEXT, 0, "Source address (0.0.0.0 or :: = any)" },
	{ "src_mask", MM_TEXT, 0, "Source address mask" },
	{ "iniface", MM_TEXT, 0, "Input interface ('all' = any)" },
	{ "iniface_mask", MM_TEXT, 0, "Input interface mask as hex bytes ('' = any)" },
	{ "dst_ip", MM_TEXT, 0, "Destination address (0.0.0.0 or :: = any)" },
	{ "dst_mask", MM_TEXT, 0, "Destination address mask" },
	{ "outiface", MM_TEXT, 0, "Output interface ('all' = any)" },
	{ "outiface_mask", MM_TEXT, 0, "Output interface mask as hex bytes ('' = any)" },
	{ "match", MM_TEXT, 0, "'yes' when the rule uses -m matches, else 'no'" },
	{ "packets", MM_BIGINT, 0, "Packets counted (saved counters; 0 when not saved)" },
	{ "bytes", MM_BIGINT, 0, "Bytes counted (saved counters; 0 when not saved)" },
	{ "source", MM_TEXT, 0, "Where the rules come from: 'saved:/etc/iptables/rules.v4' or '...rules.v6'" },
	{ "rule", MM_TEXT, 0, "The rule line as written in the file; NULL on chain rows" },
	{ NULL },
};

static const int field_col[MM_IPT_NFIELDS] = {
	[MM_IPT_TARGET] = C_TARGET,         [MM_IPT_PROTOCOL] = C_PROTOCOL,
	[MM_IPT_SRC_PORT] = C_SRC_PORT,     [MM_IPT_DST_PORT] = C_DST_PORT,
	[MM_IPT_SRC_IP] = C_SRC_IP,         [MM_IPT_SRC_MASK] = C_SRC_MASK,
	[MM_IPT_INIFACE] = C_INIFACE,       [MM_IPT_INIFACE_MASK] = C_INIFACE_MASK,
	[MM_IPT_DST_IP] = C_DST_IP,         [MM_IPT_DST_MASK] = C_DST_MASK,
	[MM_IPT_OUTIFACE] = C_OUTIFACE,     [MM_IPT_OUTIFACE_MASK] = C_OUTIFACE_MASK,
	[MM_IPT_MATCH] = C_MATCH,
};

struct warn_arg {
	struct mm_ctx *ctx;
	const char *path;
};

static void on_warn(void *arg, int line, const char *msg)
{
	struct warn_arg *w = arg;

	mm_warn(w->ctx, "%s:%d: %s", w->path, line, msg);
}

static void chain_cols(struct mm_ctx *ctx, const struct mm_ipt_chain *c, const char *source)
{
	mm_set_text(ctx, C_FILTER_NAME, c->table);
	mm_set_text(ctx, C_CHAIN, c->name);
	mm_set_text(ctx, C_POLICY, c->policy);
	mm_set_text(ctx, C_SOURCE, source);
}

/* Rows of one saved file. */
static int gen_file(struct mm_ctx *ctx, const char *path, int v6)
{
	struct warn_arg wa = { ctx, path };
	struct mm_ipt_set *set = NULL;
	char *data = NULL, source[256];
	size_t len, i, j;
	int r, f;

	if ((r = mm_read(ctx, path, MM_READ_CAP, &data, &len)) != 0) {
		if (r != MM_ERR_NOTFOUND)
			mm_warn(ctx, "%s: cannot read: %s", path, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	if ((r = mm_ipt_parse(data, len, v6, on_warn, &wa, &set)) != 0)
		goto out;
	snprintf(source, sizeof(source), "saved:%s", path);
	for (i = 0; i < set->nchains && r == 0; i++) {
		const struct mm_ipt_chain *c = &set->chains[i];

		if (!mm_eq_allows(ctx, C_FILTER_NAME, c->table))
			continue;
		for (j = 0; j < c->nrules && r == 0; j++) {
			const struct mm_ipt_rule *x = &c->rules[j];

			if ((r = mm_row_begin(ctx)) != 0)
				break;
			chain_cols(ctx, c, source);
			for (f = 0; f < MM_IPT_NFIELDS; f++)
				mm_set_text(ctx, field_col[f], x->f[f]);
			mm_set_int(ctx, C_PACKETS, x->packets);
			mm_set_int(ctx, C_BYTES, x->bytes);
			mm_set_text(ctx, C_RULE, x->text);
			r = mm_row_end(ctx);
		}
		if (r != 0 || (r = mm_row_begin(ctx)) != 0)
			break;
		chain_cols(ctx, c, source);
		mm_set_int(ctx, C_PACKETS, c->packets);
		mm_set_int(ctx, C_BYTES, c->bytes);
		r = mm_row_end(ctx);
	}
out:
	mm_ipt_free(set);
	free(data);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	int r;

	if ((r = gen_file(ctx, "/etc/iptables/rules.v4", 0)) != 0)
		return r;
	return gen_file(ctx, "/etc/iptables/rules.v6", 1);
}

const struct mm_table mm_table_iptables = {
	.name = "iptables",
	.description = "iptables rules as saved for boot (/etc/iptables/rules.v4 and rules.v6, "
		       "the iptables-persistent files), in osquery's shape: one row per rule and "
		       "one per chain with its policy. The source column says which file.",
	.columns = cols,
	.generate = gen,
	.example = "-- Is there a default-deny input policy? (one row per saved file that has one)\n"
		   "SELECT source FROM iptables\n"
		   "WHERE filter_name = 'filter' AND chain = 'INPUT' AND policy = 'DROP'\n"
		   "  AND target IS NULL;",
	.notes = "The running legacy (getsockopt) ruleset is not read; on Debian 12 iptables "
		 "is iptables-nft, so running rules appear in nftables_chains and nftables_rules. "
		 "Chain rows have target NULL, which is how the example picks the chain's own row.",
};
