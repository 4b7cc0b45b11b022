/*
 * iptsave.h - parser for iptables-save / ip6tables-save output (the files
 * iptables-persistent restores at boot: /etc/iptables/rules.v4, rules.v6).
 * Pure: takes a buffer, returns chains and rules in osquery's `iptables`
 * terms; no engine needed (fuzzable).
 *
 *     *filter                       table
 *     :INPUT DROP [0:0]             built-in chain, policy, counters
 *     :web - [0:0]                  user-defined chain (no policy)
 *     [12:720] -A INPUT -i lo -j ACCEPT   rule, optional counters
 *     COMMIT                        end of table
 *
 * Rule options understood: [!] -p, [!] -s, [!] -d, [!] -i, [!] -o, -m
 * (match "yes"), --sport/--dport of the tcp/udp matches, -j/-g, -c; -N and
 * -P lines as iptables-restore accepts them.  Other options are kept only in
 * the rule text.  Bad lines are reported through warn and skipped.
 */
#ifndef MM_IPTSAVE_H
#define MM_IPTSAVE_H

#include <stddef.h>
#include <stdint.h>

/* Per-rule fields, in osquery's column names. */
enum mm_ipt_field {
	MM_IPT_TARGET,
	MM_IPT_PROTOCOL, /* decimal protocol number, "!" in front when negated */
	MM_IPT_SRC_PORT, /* "lo:hi" for a tcp/udp match, "" otherwise */
	MM_IPT_DST_PORT,
	MM_IPT_SRC_IP,   /* "0.0.0.0" ("::") when any; "!" in front when negated */
	MM_IPT_SRC_MASK,
	MM_IPT_INIFACE,  /* "all" when any */
	MM_IPT_INIFACE_MASK, /* hex bytes of the kernel's mask, "" when any */
	MM_IPT_DST_IP,
	MM_IPT_DST_MASK,
	MM_IPT_OUTIFACE,
	MM_IPT_OUTIFACE_MASK,
	MM_IPT_MATCH,    /* "yes" when the rule has -m matches, else "no" */
	MM_IPT_NFIELDS
};

struct mm_ipt_rule {
	char *f[MM_IPT_NFIELDS]; /* malloc'ed strings */
	char *text;              /* the line after "-A", as written */
	int64_t packets, bytes;  /* from "[p:b]" or -c, else 0 */
	int line;
};

struct mm_ipt_chain {
	char *table;  /* "filter", "nat", ... */
	char *name;
	char *policy; /* "ACCEPT"/"DROP" for built-in chains, "" for user-defined */
	int64_t packets, bytes;
	int line;
	struct mm_ipt_rule *rules;
	size_t nrules, arules;
};

struct mm_ipt_set {
	struct mm_ipt_chain *chains; /* in file order */
	size_t nchains, achains;
};

/* Called for each skipped line: line number and what is wrong. */
typedef void (*mm_ipt_warn_fn)(void *arg, int line, const char *msg);

/* Limits: more chains or rules than these is reported once and ignored. */
#define MM_IPT_MAX_CHAINS 10000
#define MM_IPT_MAX_RULES 200000

/* Parses data (len bytes, NUL-terminated at data[len]); v6 selects IPv6
 * address forms.  On success *out is a new set (mm_ipt_free()).  Returns 0
 * or MM_ERR_NOMEM. */
int mm_ipt_parse(const char *data, size_t len, int v6, mm_ipt_warn_fn warn, void *arg,
		 struct mm_ipt_set **out);
void mm_ipt_free(struct mm_ipt_set *s);

#endif
