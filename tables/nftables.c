/*
 * nftables.c - Mamori's `nftables_chains` and `nftables_rules` tables: the
 * nftables firewall, running and configured.
 *
 * Two sources, told apart by the source column:
 *   'running'                    the kernel's ruleset, dumped over netlink
 *                                (libnftnl + libmnl) - only when the root is
 *                                "/", since a fixture tree or a mounted image
 *                                has no kernel;
 *   'config:/etc/nftables.conf'  the ruleset nftables.service loads at boot,
 *                                parsed from the file and its includes
 *                                (nftparse.c), under any root.
 * When the running ruleset cannot be read, nftables_chains says so in one
 * row with readable = 0 and error saying why ('not root', 'no netlink
 * permission', 'nft not loaded', ...); the query never fails for it.
 *
 * Running rules are shown in libnftnl's expression notation
 * ("[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] ..."), not
 * nft's syntax: turning expressions back into nft syntax is nft's own
 * (large) job.  Config rules are shown as written.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "buf.h"
#include "confread.h"
#include "nftparse.h"
#include "strutil.h"
#include "table.h"

#define CONF_PATH "/etc/nftables.conf"
#define CONF_SOURCE "config:" CONF_PATH
#define FILE_CAP (4u * 1024u * 1024u) /* one configuration file */
#define GLOB_MAX 256                  /* files one include may name */
#define DUMP_TRIES 3                  /* a dump interrupted by a ruleset change is retried */

/* ---- running ruleset (netlink) ------------------------------------------ */

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_INET: return "inet";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	default: return "unknown";
	}
}

static const char *hook_name(uint32_t family, uint32_t hook)
{
	static const char *const inet[] = { "prerouting", "input", "forward", "output", "postrouting",
					    "ingress" };
	static const char *const arp[] = { "input", "output", "forward" };
	static const char *const netdev[] = { "ingress", "egress" };

	if (family == NFPROTO_ARP)
		return hook < 3 ? arp[hook] : "unknown";
	if (family == NFPROTO_NETDEV)
		return hook < 2 ? netdev[hook] : "unknown";
	return hook < 6 ? inet[hook] : "unknown";
}

struct live {
	struct mm_ctx *ctx;
	struct mm_nft_ruleset *rs;
	int err; /* MM_ERR_NOMEM met in a callback */
};

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct live *l = data;
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct mm_nft_chain *c;
	uint32_t fam;
	const char *table, *name;

	if (nc == NULL) {
		l->err = MM_ERR_NOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_nlmsg_parse(nlh, nc) < 0)
		goto out; /* a message we cannot parse: skipped */
	fam = nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY);
	table = nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE);
	name = nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME);
	if (table == NULL || name == NULL)
		goto out;
	if ((c = mm_nft_chain_add(l->rs, family_name(fam), table, name)) == NULL) {
		if (l->rs->nchains < MM_NFT_MAX_CHAINS)
			l->err = MM_ERR_NOMEM;
		goto out;
	}
	if (nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM)) {
		const char *type = nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE);
		uint32_t pol = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY)
				       ? nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY)
				       : NF_ACCEPT;
		if (mm_nft_set_str(&c->type, type != NULL ? type : "filter") != 0 ||
		    mm_nft_set_str(&c->hook, hook_name(fam, nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM))) != 0 ||
		    mm_nft_set_str(&c->policy, pol == NF_DROP ? "drop" : "accept") != 0)
			l->err = MM_ERR_NOMEM;
		c->prio = (int32_t)nftnl_chain_get_u32(nc, NFTNL_CHAIN_PRIO);
		c->has_prio = 1;
	}
out:
	nftnl_chain_free(nc);
	return l->err != 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* The rule's expressions as "[ name args ] [ ... ]", malloc'ed; NULL with
 * *toobig set when longer than MM_NFT_RULE_CAP. */
static char *rule_text(struct nftnl_rule *nr, int *toobig, int *nomem)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	struct mm_buf b;
	char one[1024];
	char *out = NULL;
	int r = 0;

	mm_buf_init(&b, MM_NFT_RULE_CAP);
	if ((it = nftnl_expr_iter_create(nr)) == NULL) {
		*nomem = 1;
		return NULL;
	}
	while (r == 0 && (e = nftnl_expr_iter_next(it)) != NULL) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (nftnl_expr_snprintf(one, sizeof(one), e, NFTNL_OUTPUT_DEFAULT, 0) < 0)
			one[0] = '\0';
		mm_trim(one); /* libnftnl ends most expressions with a space */
		r = mm_buf_addf(&b, "%s[ %s %s ]", b.len > 0 ? " " : "", name != NULL ? name : "?", one);
	}
	nftnl_expr_iter_destroy(it);
	if (r == MM_ERR_TOOBIG)
		*toobig = 1;
	else if (r != 0 || (out = mm_buf_take(&b)) == NULL)
		*nomem = 1;
	mm_buf_free(&b);
	return out;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct live *l = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct mm_nft_chain *c;
	const char *table, *chain;
	char *text;
	int toobig = 0, nomem = 0, r;

	if (nr == NULL) {
		l->err = MM_ERR_NOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0)
		goto out;
	table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	if (table == NULL || chain == NULL)
		goto out;
	c = mm_nft_chain_find(l->rs, family_name(nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY)), table, chain);
	if (c == NULL)
		goto out; /* chain created after the chain dump */
	text = rule_text(nr, &toobig, &nomem);
	if (nomem) {
		l->err = MM_ERR_NOMEM;
		goto out;
	}
	if (toobig)
		mm_warn(l->ctx, "running ruleset: %s %s %s: rule handle %llu longer than %d bytes",
			c->family, table, chain,
			(unsigned long long)nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE), MM_NFT_RULE_CAP);
	r = mm_nft_rule_add(l->rs, c, text, (int64_t)nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE), 0, 0, 0);
	if (r == MM_ERR_NOMEM)
		l->err = r;
out:
	nftnl_rule_free(nr);
	return l->err != 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Why the kernel refused, for the error column. */
static void explain(int e, char *err, size_t sz)
{
	if (e == EPERM || e == EACCES)
		snprintf(err, sz, "%s",
			 geteuid() != 0 ? "not root (reading the ruleset needs CAP_NET_ADMIN)"
					: "no netlink permission (CAP_NET_ADMIN missing)");
	else if (e == EPROTONOSUPPORT || e == EAFNOSUPPORT || e == ENOENT || e == EOPNOTSUPP)
		snprintf(err, sz, "nft not loaded (the kernel has no nf_tables: %s)", strerror(e));
	else if (e == EAGAIN || e == EWOULDBLOCK)
		snprintf(err, sz, "netlink dump timed out");
	else
		snprintf(err, sz, "netlink: %s", strerror(e));
}

/* Runs one dump request of type msg and feeds the replies to cb.  Returns
 * 0, MM_ERR_NOMEM, or MM_ERR_IO with the reason in err. */
static int dump(struct mnl_socket *nl, int msg, mnl_cb_t cb, struct live *l, char *err, size_t esz)
{
	char *buf = NULL;
	size_t bsz = 32768; /* replies of a dump fit a page or two each */
	struct nlmsghdr *nlh;
	uint32_t seq, portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret = MNL_CB_OK, r = MM_ERR_IO;

	if ((buf = malloc(bsz)) == NULL)
		return MM_ERR_NOMEM;
	seq = (uint32_t)time(NULL) ^ (uint32_t)msg;
	if (msg == NFT_MSG_GETCHAIN)
		nlh = nftnl_chain_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
	else
		nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		explain(errno, err, esz);
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, bsz)) > 0) {
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, l);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (l->err != 0) {
		r = l->err;
		goto out;
	}
	if (n < 0 || ret < 0) {
		explain(errno, err, esz);
		r = errno == EINTR ? MM_ERR_LIMIT : MM_ERR_IO; /* EINTR: dump interrupted, retried */
		goto out;
	}
	r = 0;
out:
	free(buf);
	return r;
}

/* Reads the running ruleset into *out.  Returns 0, MM_ERR_NOMEM, or
 * MM_ERR_IO with the reason for the error column in err. */
static int load_running(struct mm_ctx *ctx, struct mm_nft_ruleset **out, char *err, size_t esz)
{
	struct timeval tv = { 2, 0 }; /* never hang a query on the kernel */
	struct mnl_socket *nl = NULL;
	struct live l = { ctx, NULL, 0 };
	int r = MM_ERR_IO, tries;

	*out = NULL;
	for (tries = 0; tries < DUMP_TRIES; tries++) {
		mm_nft_ruleset_free(l.rs);
		if ((l.rs = mm_nft_ruleset_new()) == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		if (nl != NULL)
			mnl_socket_close(nl);
		if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL) {
			explain(errno, err, esz);
			r = MM_ERR_IO;
			goto out;
		}
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			explain(errno, err, esz);
			r = MM_ERR_IO;
			goto out;
		}
		r = dump(nl, NFT_MSG_GETCHAIN, chain_cb, &l, err, esz);
		if (r == 0)
			r = dump(nl, NFT_MSG_GETRULE, rule_cb, &l, err, esz);
		if (r != MM_ERR_LIMIT)
			break;
	}
	if (r == MM_ERR_LIMIT)
		r = MM_ERR_IO; /* interrupted every time: err says so */
	if (r == 0) {
		*out = l.rs;
		l.rs = NULL;
	}
out:
	if (nl != NULL)
		mnl_socket_close(nl);
	mm_nft_ruleset_free(l.rs);
	return r;
}

/* ---- configured ruleset --------------------------------------------------- */

struct conf_arg {
	struct mm_ctx *ctx;
};

static void conf_warn(void *arg, const char *path, int line, const char *msg)
{
	struct conf_arg *a = arg;

	mm_warn(a->ctx, "%s:%d: %s", path, line, msg);
}

static int has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Reads host file path into src[*n] (skipped with a warning when too big). */
static int read_src(struct mm_ctx *ctx, const char *path, struct mm_nft_src *src, size_t *n)
{
	char *data = NULL;
	size_t len;
	int r;

	r = mm_read(ctx, path, FILE_CAP, &data, &len);
	if (r == MM_ERR_NOMEM || r == MM_ERR_NOTFOUND)
		return r;
	if (r != 0) {
		mm_warn(ctx, "%s: cannot read: %s", path, mm_strerror(r));
		return 0;
	}
	if ((src[*n].path = strdup(path)) == NULL) {
		free(data);
		return MM_ERR_NOMEM;
	}
	src[*n].data = data;
	src[*n].len = len;
	(*n)++;
	return 0;
}

/* The include callback: "FILE" (relative names are searched in /etc, nft's
 * default include path), "DIR" (all its files) or "DIR/GLOB". */
static int conf_include(void *arg, const char *spec, struct mm_nft_src **files, size_t *nfiles)
{
	struct conf_arg *a = arg;
	struct mm_nft_src *src = NULL;
	char path[4096], full[4200], dir[4096], *slash;
	struct stat st;
	const char *pat = NULL;
	char **names = NULL;
	size_t nn = 0, n = 0, i;
	int r, k;

	*files = NULL;
	*nfiles = 0;
	if (spec[0] == '\0')
		return MM_ERR_NOTFOUND;
	k = snprintf(path, sizeof(path), "%s%s", spec[0] == '/' ? "" : "/etc/",
		     mm_startswith(spec, "./") ? spec + 2 : spec);
	if (k < 0 || (size_t)k >= sizeof(path))
		return MM_ERR_TOOBIG;
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash > path ? (int)(slash - path) : 1, path);
	if (has_glob(path)) {
		if (has_glob(dir))
			return MM_ERR_NOTFOUND; /* globs only in the last component */
		pat = slash + 1;
	} else if (mm_rpath(a->ctx, path, full, sizeof(full)) == 0 && stat(full, &st) == 0 &&
		   S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path); /* a directory: all its files */
		pat = "*";
	}
	if ((src = calloc(GLOB_MAX, sizeof(*src))) == NULL)
		return MM_ERR_NOMEM;
	if (pat == NULL) {
		r = read_src(a->ctx, path, src, &n);
		goto out;
	}
	r = mm_conf_list_dir(a->ctx, dir, NULL, &names, &nn);
	if (r == MM_ERR_NOTFOUND) {
		r = 0; /* a glob in a missing directory matches nothing */
		goto out;
	}
	if (r != 0)
		goto out;
	for (i = 0; i < nn && r == 0; i++) {
		if (fnmatch(pat, names[i], FNM_PERIOD) != 0)
			continue;
		if (n == GLOB_MAX) {
			mm_warn(a->ctx, "%s: include '%s' names more than %d files", CONF_PATH, spec, GLOB_MAX);
			break;
		}
		k = snprintf(path, sizeof(path), "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", names[i]);
		if (k < 0 || (size_t)k >= sizeof(path))
			continue;
		r = read_src(a->ctx, path, src, &n);
		if (r == MM_ERR_NOTFOUND)
			r = 0;
	}
out:
	mm_conf_names_free(names, nn);
	if (r != 0) {
		mm_nft_srcs_free(src, n);
		return r;
	}
	*files = src;
	*nfiles = n;
	return 0;
}

/* Parses /etc/nftables.conf under the root.  *out stays NULL when the file
 * does not exist. */
static int load_config(struct mm_ctx *ctx, struct mm_nft_ruleset **out)
{
	struct conf_arg a = { ctx };
	struct mm_nft_io io = { conf_include, conf_warn, &a };
	char *data = NULL;
	size_t len;
	int r;

	*out = NULL;
	r = mm_read(ctx, CONF_PATH, FILE_CAP, &data, &len);
	if (r != 0) {
		if (r != MM_ERR_NOTFOUND)
			mm_warn(ctx, "%s: cannot read: %s", CONF_PATH, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	r = mm_nft_parse(CONF_PATH, data, len, &io, out);
	free(data);
	return r;
}

/* ---- the two tables ------------------------------------------------------- */

enum { CC_FAMILY, CC_TABLE, CC_CHAIN, CC_TYPE, CC_HOOK, CC_PRIORITY, CC_POLICY, CC_RULES, CC_SOURCE,
       CC_READABLE, CC_ERROR, CC_LOCATION };

static const struct mm_column chain_cols[] = {
	{ "family", MM_TEXT, 0, "Address family: ip, ip6, inet, arp, bridge or netdev" },
	{ "table_name", MM_TEXT, 0, "Table holding the chain" },
	{ "chain", MM_TEXT, 0, "Chain name" },
	{ "type", MM_TEXT, 0, "Base chain type: filter, nat or route (NULL for a regular chain)" },
	{ "hook", MM_TEXT, 0, "Hook of a base chain: input, forward, output, prerouting, ... (NULL for a regular chain)" },
	{ "priority", MM_INTEGER, 0, "Hook priority as a number (filter = 0; NULL when not known)" },
	{ "policy", MM_TEXT, 0, "Base chain policy: accept or drop (NULL for a regular chain)" },
	{ "rules", MM_INTEGER, 0, "Number of rules in the chain" },
	{ "source", MM_TEXT, MM_COL_INDEX, "'running' (the kernel's ruleset) or 'config:/etc/nftables.conf'" },
	{ "readable", MM_INTEGER, 0, "1, or 0 on the row saying the running ruleset could not be read" },
	{ "error", MM_TEXT, 0, "Why the running ruleset could not be read ('not root', 'no netlink permission', 'nft not loaded', ...)" },
	{ "location", MM_TEXT, 0, "file:line where a configured chain is declared (NULL when running)" },
	{ NULL },
};

enum { RC_FAMILY, RC_TABLE, RC_CHAIN, RC_HANDLE, RC_POSITION, RC_RULE, RC_SOURCE, RC_LOCATION };

static const struct mm_column rule_cols[] = {
	{ "family", MM_TEXT, 0, "Address family: ip, ip6, inet, arp, bridge or netdev" },
	{ "table_name", MM_TEXT, 0, "Table holding the rule's chain" },
	{ "chain", MM_TEXT, 0, "Chain holding the rule" },
	{ "handle", MM_BIGINT, 0, "Kernel handle of a running rule (NULL for configured rules)" },
	{ "position", MM_INTEGER, 0, "Position of the rule in its chain, from 1 (evaluation order)" },
	{ "rule", MM_TEXT, 0, "Rule text: as written (config), or libnftnl's expression list (running)" },
	{ "source", MM_TEXT, MM_COL_INDEX, "'running' or 'config:/etc/nftables.conf'" },
	{ "location", MM_TEXT, 0, "file:line of a configured rule (NULL when running)" },
	{ NULL },
};

static int is_live(struct mm_ctx *ctx)
{
	const char *root = mm_root(ctx);

	return root[0] == '\0' || strcmp(root, "/") == 0;
}

static int emit_chains(struct mm_ctx *ctx, const struct mm_nft_ruleset *rs, const char *source)
{
	size_t i;
	int r = 0;

	for (i = 0; i < rs->nchains && r == 0; i++) {
		const struct mm_nft_chain *c = &rs->chains[i];

		if (c->deleted)
			continue;
		if ((r = mm_row_begin(ctx)) != 0)
			break;
		mm_set_text(ctx, CC_FAMILY, c->family);
		mm_set_text(ctx, CC_TABLE, c->table);
		mm_set_text(ctx, CC_CHAIN, c->name);
		mm_set_text(ctx, CC_TYPE, c->type);
		mm_set_text(ctx, CC_HOOK, c->hook);
		if (c->has_prio)
			mm_set_int(ctx, CC_PRIORITY, c->prio);
		mm_set_text(ctx, CC_POLICY, c->policy);
		mm_set_int(ctx, CC_RULES, (int64_t)c->nrules);
		mm_set_text(ctx, CC_SOURCE, source);
		mm_set_int(ctx, CC_READABLE, 1);
		if (strcmp(source, "running") != 0)
			mm_set_textf(ctx, CC_LOCATION, "%s:%d", rs->files[c->file], c->line);
		r = mm_row_end(ctx);
	}
	return r;
}

static int emit_rules(struct mm_ctx *ctx, const struct mm_nft_ruleset *rs, const char *source)
{
	size_t i, j;
	int r = 0;

	for (i = 0; i < rs->nchains && r == 0; i++) {
		const struct mm_nft_chain *c = &rs->chains[i];

		if (c->deleted)
			continue;
		for (j = 0; j < c->nrules && r == 0; j++) {
			const struct mm_nft_rule *x = &c->rules[j];

			if ((r = mm_row_begin(ctx)) != 0)
				break;
			mm_set_text(ctx, RC_FAMILY, c->family);
			mm_set_text(ctx, RC_TABLE, c->table);
			mm_set_text(ctx, RC_CHAIN, c->name);
			if (x->handle >= 0)
				mm_set_int(ctx, RC_HANDLE, x->handle);
			mm_set_int(ctx, RC_POSITION, (int64_t)j + 1);
			mm_set_text(ctx, RC_RULE, x->text);
			mm_set_text(ctx, RC_SOURCE, source);
			if (x->handle < 0)
				mm_set_textf(ctx, RC_LOCATION, "%s:%d", rs->files[x->file], x->line);
			r = mm_row_end(ctx);
		}
	}
	return r;
}

/* Shared generator: rules = 0 for nftables_chains, 1 for nftables_rules. */
static int gen_both(struct mm_ctx *ctx, int rules, int source_col)
{
	struct mm_nft_ruleset *rs = NULL;
	char err[256] = "";
	int r = 0;

	if (is_live(ctx) && mm_eq_allows(ctx, source_col, "running")) {
		r = load_running(ctx, &rs, err, sizeof(err));
		if (r == MM_ERR_NOMEM)
			goto out;
		if (r == 0) {
			r = rules ? emit_rules(ctx, rs, "running") : emit_chains(ctx, rs, "running");
		} else if (!rules) {
			if ((r = mm_row_begin(ctx)) != 0)
				goto out;
			mm_set_text(ctx, CC_SOURCE, "running");
			mm_set_int(ctx, CC_READABLE, 0);
			mm_set_text(ctx, CC_ERROR, err);
			r = mm_row_end(ctx);
		} else {
			r = 0; /* nftables_chains explains; no rules to show */
		}
		mm_nft_ruleset_free(rs);
		rs = NULL;
		if (r != 0)
			goto out;
	}
	if (mm_eq_allows(ctx, source_col, CONF_SOURCE)) {
		if ((r = load_config(ctx, &rs)) != 0 || rs == NULL)
			goto out;
		r = rules ? emit_rules(ctx, rs, CONF_SOURCE) : emit_chains(ctx, rs, CONF_SOURCE);
	}
out:
	mm_nft_ruleset_free(rs);
	return r;
}

static int gen_chains(struct mm_ctx *ctx)
{
	return gen_both(ctx, 0, CC_SOURCE);
}

static int gen_rules(struct mm_ctx *ctx)
{
	return gen_both(ctx, 1, RC_SOURCE);
}

const struct mm_table mm_table_nftables_chains = {
	.name = "nftables_chains",
	.description = "nftables chains with their hook, priority, policy and rule count, from the "
		       "running ruleset (read over netlink, live host only) and from the ruleset "
		       "configured for boot (/etc/nftables.conf and its includes). When the running "
		       "ruleset cannot be read, one row with readable = 0 says why.",
	.columns = chain_cols,
	.generate = gen_chains,
	.example = "-- Is there a default-deny input policy? (no rows: there is none)\n"
		   "SELECT family, table_name, chain, source FROM nftables_chains\n"
		   "WHERE type = 'filter' AND hook = 'input' AND policy = 'drop';",
	.notes = "On a live host add `AND source = 'running'` to judge what the kernel enforces "
		 "now, or `source LIKE 'config:%'` for what the next boot loads. Under --root only "
		 "the configuration is read. Running priorities are numbers; named priorities in "
		 "the configuration (filter, srcnat, ...) are converted to numbers the way nft does.",
};

const struct mm_table mm_table_nftables_rules = {
	.name = "nftables_rules",
	.description = "nftables rules, one row per rule in evaluation order, from the running "
		       "ruleset (netlink, live host only) and from /etc/nftables.conf and its "
		       "includes (as written, with file:line).",
	.columns = rule_cols,
	.generate = gen_rules,
	.example = "SELECT chain, position, rule, location FROM nftables_rules\n"
		   "WHERE source = 'config:/etc/nftables.conf' AND chain = 'input';",
	.notes = "Running rules are shown in libnftnl's expression notation, e.g. "
		 "`[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] ...`, not in nft "
		 "syntax. Rules of a ruleset that cannot be read are absent: nftables_chains "
		 "tells why.",
};
