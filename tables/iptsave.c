/*
 * iptsave.c - iptables-save format parser; see iptsave.h.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "iptsave.h"
#include "strutil.h"

#define MAX_ARGS 256 /* words on one rule line */
#define IFNAMSIZ_ 16 /* the kernel's interface name size */

struct parser {
	struct mm_ipt_set *set;
	mm_ipt_warn_fn warn;
	void *arg;
	int v6;
	int line;
	char *table;     /* current table, NULL outside *table ... COMMIT */
	int table_line;
	int full_warned; /* limit reached (warned once) */
};

static void warnf(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->warn != NULL)
		p->warn(p->arg, p->line, msg);
}

static void rule_free(struct mm_ipt_rule *r)
{
	int i;

	for (i = 0; i < MM_IPT_NFIELDS; i++)
		free(r->f[i]);
	free(r->text);
}

void mm_ipt_free(struct mm_ipt_set *s)
{
	size_t i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nchains; i++) {
		for (j = 0; j < s->chains[i].nrules; j++)
			rule_free(&s->chains[i].rules[j]);
		free(s->chains[i].rules);
		free(s->chains[i].table);
		free(s->chains[i].name);
		free(s->chains[i].policy);
	}
	free(s->chains);
	free(s);
}

/* Splits s in place into words, honouring "double" and 'single' quotes and
 * backslash escapes inside double quotes, as iptables-restore does.  Returns
 * the word count, or -1 for an unterminated quote or too many words. */
static int split_args(char *s, char **argv, int max)
{
	int n = 0;
	char *w;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return n;
		if (n == max)
			return -1;
		argv[n++] = w = s;
		while (*s != '\0' && *s != ' ' && *s != '\t') {
			if (*s == '"' || *s == '\'') {
				char q = *s++;
				while (*s != '\0' && *s != q) {
					if (q == '"' && *s == '\\' && s[1] != '\0')
						s++;
					*w++ = *s++;
				}
				if (*s == '\0')
					return -1;
				s++;
			} else {
				*w++ = *s++;
			}
		}
		if (*s != '\0')
			s++;
		*w = '\0';
	}
}

/* Finds the chain table/name, or NULL. */
static struct mm_ipt_chain *find_chain(struct mm_ipt_set *s, const char *table, const char *name)
{
	size_t i;

	/* Saved files hold tens of chains: searching from the end finds the
	 * current table's chains first. */
	for (i = s->nchains; i-- > 0;)
		if (strcmp(s->chains[i].name, name) == 0 && strcmp(s->chains[i].table, table) == 0)
			return &s->chains[i];
	return NULL;
}

static int add_chain(struct parser *p, const char *name, const char *policy, int64_t pk, int64_t by)
{
	struct mm_ipt_set *s = p->set;
	struct mm_ipt_chain *c;

	if (find_chain(s, p->table, name) != NULL) {
		warnf(p, "chain '%s' declared twice", name);
		return 0;
	}
	if (s->nchains >= MM_IPT_MAX_CHAINS) {
		if (!p->full_warned)
			warnf(p, "more than %d chains, rest ignored", MM_IPT_MAX_CHAINS);
		p->full_warned = 1;
		return 0;
	}
	if (s->nchains == s->achains) {
		size_t na = s->achains ? s->achains * 2 : 8;
		c = realloc(s->chains, na * sizeof(*c));
		if (c == NULL)
			return MM_ERR_NOMEM;
		s->chains = c;
		s->achains = na;
	}
	c = &s->chains[s->nchains];
	memset(c, 0, sizeof(*c));
	c->table = strdup(p->table);
	c->name = strdup(name);
	c->policy = strdup(policy);
	c->packets = pk;
	c->bytes = by;
	c->line = p->line;
	s->nchains++;
	if (c->table == NULL || c->name == NULL || c->policy == NULL)
		return MM_ERR_NOMEM;
	return 0;
}

/* Parses "[p:b]" into packets and bytes.  Returns 0 or MM_ERR_PARSE. */
static int parse_counters(const char *s, int64_t *pk, int64_t *by)
{
	char tmp[64], *colon;
	size_t n = strlen(s);

	if (n < 5 || n >= sizeof(tmp) || s[0] != '[' || s[n - 1] != ']')
		return MM_ERR_PARSE;
	memcpy(tmp, s + 1, n - 2);
	tmp[n - 2] = '\0';
	if ((colon = strchr(tmp, ':')) == NULL)
		return MM_ERR_PARSE;
	*colon = '\0';
	if (mm_parse_i64(tmp, pk) != 0 || mm_parse_i64(colon + 1, by) != 0 || *pk < 0 || *by < 0)
		return MM_ERR_PARSE;
	return 0;
}

/* Protocol names iptables-save writes (it prints names from its own table). */
static int proto_number(const char *s)
{
	static const struct { const char *name; int num; } t[] = {
		{ "all", 0 }, { "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 },
		{ "ipv6", 41 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "icmpv6", 58 },
		{ "ipv6-icmp", 58 }, { "ospf", 89 }, { "vrrp", 112 }, { "sctp", 132 },
		{ "udplite", 136 }, { "mh", 135 },
	};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0)
			return t[i].num;
	if (mm_parse_i64(s, &v) == 0 && v >= 0 && v <= 255)
		return (int)v;
	return -1;
}

/* Writes address and mask for "-s ADDR[/MASK]" into ip/mask.  Returns 0 or
 * MM_ERR_PARSE. */
static int parse_addr(int v6, const char *arg, char *ip, char *mask, size_t sz)
{
	unsigned char a[16], m[16];
	char tmp[128], *slash;
	int af = v6 ? AF_INET6 : AF_INET, bytes = v6 ? 16 : 4, i;
	int64_t bits;

	if (strlen(arg) >= sizeof(tmp))
		return MM_ERR_PARSE;
	snprintf(tmp, sizeof(tmp), "%s", arg);
	slash = strchr(tmp, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(af, tmp, a) != 1)
		return MM_ERR_PARSE;
	if (slash == NULL) {
		memset(m, 0xff, (size_t)bytes);
	} else if (inet_pton(af, slash, m) != 1) {
		if (mm_parse_i64(slash, &bits) != 0 || bits < 0 || bits > bytes * 8)
			return MM_ERR_PARSE;
		memset(m, 0, sizeof(m));
		for (i = 0; i < bits; i++)
			m[i / 8] |= (unsigned char)(0x80u >> (i % 8));
	}
	for (i = 0; i < bytes; i++)
		a[i] &= m[i];
	if (inet_ntop(af, a, ip, (socklen_t)sz) == NULL || inet_ntop(af, m, mask, (socklen_t)sz) == NULL)
		return MM_ERR_PARSE;
	return 0;
}

/* The kernel's interface mask for name as hex bytes ("eth0" matches 5 bytes
 * exactly: FFFFFFFFFF; "eth+" matches the 3-byte prefix: FFFFFF). */
static void iface_mask(const char *name, char *out, size_t sz)
{
	size_t n = strlen(name), k, i;

	if (n > IFNAMSIZ_ - 1)
		n = IFNAMSIZ_ - 1;
	k = n > 0 && name[n - 1] == '+' ? n - 1 : n + 1;
	for (i = 0; i < k && 2 * i + 2 < sz; i++)
		memcpy(out + 2 * i, "FF", 2);
	out[2 * i] = '\0';
}

/* Normalises a --dport value "22", "1000:2000", "1024:", ":1023" into
 * "lo:hi".  Returns 0 or MM_ERR_PARSE. */
static int port_range(const char *s, char *out, size_t sz)
{
	char tmp[32], *colon;
	int64_t lo = 0, hi = 65535;

	if (strlen(s) >= sizeof(tmp))
		return MM_ERR_PARSE;
	snprintf(tmp, sizeof(tmp), "%s", s);
	colon = strchr(tmp, ':');
	if (colon != NULL)
		*colon = '\0';
	if (tmp[0] != '\0' && mm_parse_i64(tmp, &lo) != 0)
		return MM_ERR_PARSE;
	if (colon == NULL)
		hi = lo;
	else if (colon[1] != '\0' && mm_parse_i64(colon + 1, &hi) != 0)
		return MM_ERR_PARSE;
	if (lo < 0 || hi > 65535 || lo > hi)
		return MM_ERR_PARSE;
	{
		int k = snprintf(out, sz, "%lld:%lld", (long long)lo, (long long)hi);
		if (k < 0 || (size_t)k >= sz)
			return MM_ERR_TOOBIG;
	}
	return 0;
}

static int set_field(struct mm_ipt_rule *r, int f, const char *neg, const char *v)
{
	size_t n = strlen(neg) + strlen(v) + 1;

	free(r->f[f]);
	if ((r->f[f] = malloc(n)) == NULL)
		return MM_ERR_NOMEM;
	snprintf(r->f[f], n, "%s%s", neg, v);
	return 0;
}

/* Fills r from the words of a rule (after the chain name).  Returns 0,
 * MM_ERR_PARSE (message in err), MM_ERR_NOMEM. */
static int parse_rule(struct parser *p, char **av, int ac, struct mm_ipt_rule *r, char *err, size_t esz)
{
	char ip[64], mask[64], buf[64], srcp[32] = "", dstp[32] = "";
	const char *any = p->v6 ? "::" : "0.0.0.0";
	int i, neg = 0, tcpudp = 0, matches = 0, k, rc = 0;

	if ((rc = set_field(r, MM_IPT_PROTOCOL, "", "0")) != 0)
		return rc;
	for (k = 0; k < 2; k++) {
		if ((rc = set_field(r, k ? MM_IPT_DST_IP : MM_IPT_SRC_IP, "", any)) != 0 ||
		    (rc = set_field(r, k ? MM_IPT_DST_MASK : MM_IPT_SRC_MASK, "", any)) != 0 ||
		    (rc = set_field(r, k ? MM_IPT_OUTIFACE : MM_IPT_INIFACE, "", "all")) != 0 ||
		    (rc = set_field(r, k ? MM_IPT_OUTIFACE_MASK : MM_IPT_INIFACE_MASK, "", "")) != 0)
			return rc;
	}
	for (i = 0; i < ac && rc == 0; i++) {
		const char *o = av[i], *v = i + 1 < ac ? av[i + 1] : NULL;
		const char *ng = neg ? "!" : "";

		if (strcmp(o, "!") == 0) {
			neg = 1;
			continue;
		}
		if (strcmp(o, "-p") == 0 || strcmp(o, "--protocol") == 0) {
			int pn = v != NULL ? proto_number(v) : -1;
			if (pn < 0) {
				snprintf(err, esz, "unknown protocol '%s'", v != NULL ? v : "");
				return MM_ERR_PARSE;
			}
			snprintf(buf, sizeof(buf), "%d", pn);
			rc = set_field(r, MM_IPT_PROTOCOL, ng, buf);
			i++;
		} else if (strcmp(o, "-s") == 0 || strcmp(o, "--source") == 0 || strcmp(o, "-d") == 0 ||
			   strcmp(o, "--destination") == 0) {
			int dst = o[1] == 'd' || o[2] == 'd';
			if (v == NULL || parse_addr(p->v6, v, ip, mask, sizeof(ip)) != 0) {
				snprintf(err, esz, "bad address '%s'", v != NULL ? v : "");
				return MM_ERR_PARSE;
			}
			if ((rc = set_field(r, dst ? MM_IPT_DST_IP : MM_IPT_SRC_IP, ng, ip)) == 0)
				rc = set_field(r, dst ? MM_IPT_DST_MASK : MM_IPT_SRC_MASK, "", mask);
			i++;
		} else if (strcmp(o, "-i") == 0 || strcmp(o, "--in-interface") == 0 ||
			   strcmp(o, "-o") == 0 || strcmp(o, "--out-interface") == 0) {
			int out = o[1] == 'o' || o[2] == 'o';
			if (v == NULL || v[0] == '\0' || strlen(v) >= IFNAMSIZ_) {
				snprintf(err, esz, "bad interface '%s'", v != NULL ? v : "");
				return MM_ERR_PARSE;
			}
			iface_mask(v, buf, sizeof(buf));
			if ((rc = set_field(r, out ? MM_IPT_OUTIFACE : MM_IPT_INIFACE, ng, v)) == 0)
				rc = set_field(r, out ? MM_IPT_OUTIFACE_MASK : MM_IPT_INIFACE_MASK, "", buf);
			i++;
		} else if (strcmp(o, "-m") == 0 || strcmp(o, "--match") == 0) {
			if (v == NULL) {
				snprintf(err, esz, "-m without a match name");
				return MM_ERR_PARSE;
			}
			matches = 1;
			tcpudp = strcmp(v, "tcp") == 0 || strcmp(v, "udp") == 0;
			i++;
		} else if (tcpudp && (strcmp(o, "--dport") == 0 || strcmp(o, "--destination-port") == 0 ||
				      strcmp(o, "--sport") == 0 || strcmp(o, "--source-port") == 0)) {
			int dst = o[2] == 'd'; /* --dport, --destination-port */
			if (v == NULL || port_range(v, dst ? dstp : srcp, sizeof(srcp)) != 0) {
				snprintf(err, esz, "bad port '%s'", v != NULL ? v : "");
				return MM_ERR_PARSE;
			}
			i++;
		} else if (strcmp(o, "-j") == 0 || strcmp(o, "--jump") == 0 || strcmp(o, "-g") == 0 ||
			   strcmp(o, "--goto") == 0) {
			if (v == NULL) {
				snprintf(err, esz, "%s without a target", o);
				return MM_ERR_PARSE;
			}
			rc = set_field(r, MM_IPT_TARGET, "", v);
			i++; /* the target's own options follow and are skipped as unknown */
		} else if (strcmp(o, "-c") == 0 || strcmp(o, "--set-counters") == 0) {
			if (i + 2 >= ac || mm_parse_i64(av[i + 1], &r->packets) != 0 ||
			    mm_parse_i64(av[i + 2], &r->bytes) != 0) {
				snprintf(err, esz, "-c needs packets and bytes");
				return MM_ERR_PARSE;
			}
			i += 2;
		}
		/* anything else is an option of a match; kept in the text only */
		neg = 0;
	}
	if (rc != 0)
		return rc;
	if (matches && tcpudp) {
		/* a tcp/udp match covers every port it does not restrict */
		if (srcp[0] == '\0')
			snprintf(srcp, sizeof(srcp), "0:65535");
		if (dstp[0] == '\0')
			snprintf(dstp, sizeof(dstp), "0:65535");
	}
	if ((rc = set_field(r, MM_IPT_SRC_PORT, "", srcp)) != 0 ||
	    (rc = set_field(r, MM_IPT_DST_PORT, "", dstp)) != 0 ||
	    (rc = set_field(r, MM_IPT_MATCH, "", matches ? "yes" : "no")) != 0)
		return rc;
	if (r->f[MM_IPT_TARGET] == NULL)
		rc = set_field(r, MM_IPT_TARGET, "", "");
	return rc;
}

/* Handles one "-A CHAIN ..." / "-I" / "-N" / "-P" line (counters already
 * taken off).  Returns 0 or MM_ERR_NOMEM; bad lines are warned about. */
static int command(struct parser *p, char *line, int64_t pk, int64_t by)
{
	char *av[MAX_ARGS], *text, err[160] = "";
	struct mm_ipt_rule r;
	struct mm_ipt_chain *c;
	int ac, rc;

	memset(&r, 0, sizeof(r));
	if ((text = strdup(line)) == NULL)
		return MM_ERR_NOMEM;
	ac = split_args(line, av, MAX_ARGS);
	if (ac < 0) {
		warnf(p, "unterminated quote or too many words");
		free(text);
		return 0;
	}
	if (ac < 2) {
		warnf(p, "'%s' needs a chain name", av[0]);
		free(text);
		return 0;
	}
	if (strcmp(av[0], "-N") == 0 || strcmp(av[0], "--new-chain") == 0) {
		free(text);
		return add_chain(p, av[1], "", 0, 0);
	}
	c = find_chain(p->set, p->table, av[1]);
	if (c == NULL) {
		warnf(p, "chain '%s' not declared in table '%s'", av[1], p->table);
		free(text);
		return 0;
	}
	if (strcmp(av[0], "-P") == 0 || strcmp(av[0], "--policy") == 0) {
		free(text);
		if (ac < 3 || c->policy[0] == '\0') {
			warnf(p, "-P needs a built-in chain and a policy");
			return 0;
		}
		free(c->policy);
		return (c->policy = strdup(av[2])) != NULL ? 0 : MM_ERR_NOMEM;
	}
	if (strcmp(av[0], "-A") != 0 && strcmp(av[0], "--append") != 0 && strcmp(av[0], "-I") != 0 &&
	    strcmp(av[0], "--insert") != 0) {
		warnf(p, "unsupported command '%s'", av[0]);
		free(text);
		return 0;
	}
	r.packets = pk;
	r.bytes = by;
	r.line = p->line;
	r.text = text;
	rc = parse_rule(p, av + 2, ac - 2, &r, err, sizeof(err));
	if (rc == MM_ERR_PARSE) {
		warnf(p, "%s", err);
		rule_free(&r);
		return 0;
	}
	if (rc == 0 && c->nrules + 1 > MM_IPT_MAX_RULES) {
		if (!p->full_warned)
			warnf(p, "more than %d rules in a chain, rest ignored", MM_IPT_MAX_RULES);
		p->full_warned = 1;
		rule_free(&r);
		return 0;
	}
	if (rc == 0 && c->nrules == c->arules) {
		size_t na = c->arules ? c->arules * 2 : 8;
		struct mm_ipt_rule *nr = realloc(c->rules, na * sizeof(*nr));
		if (nr == NULL) {
			rc = MM_ERR_NOMEM;
		} else {
			c->rules = nr;
			c->arules = na;
		}
	}
	if (rc != 0) {
		rule_free(&r);
		return rc;
	}
	c->rules[c->nrules++] = r;
	return 0;
}

/* Handles one trimmed, non-empty line. */
static int parse_line(struct parser *p, char *s)
{
	char *f[4], *name, *policy;
	int64_t pk = 0, by = 0;
	int nf;

	if (s[0] == '*') {
		if (p->table != NULL)
			warnf(p, "table '%s' (line %d) has no COMMIT", p->table, p->table_line);
		free(p->table);
		p->table = NULL;
		if (s[1] == '\0' || strpbrk(s + 1, " \t") != NULL) {
			warnf(p, "bad table line");
			return 0;
		}
		p->table_line = p->line;
		return (p->table = strdup(s + 1)) != NULL ? 0 : MM_ERR_NOMEM;
	}
	if (strcmp(s, "COMMIT") == 0) {
		if (p->table == NULL)
			warnf(p, "COMMIT outside a table");
		free(p->table);
		p->table = NULL;
		return 0;
	}
	if (p->table == NULL) {
		warnf(p, "not in a table (expected '*filter' or similar)");
		return 0;
	}
	if (s[0] == ':') {
		nf = mm_split_ws(s + 1, " \t", f, 4);
		if (nf < 2 || nf > 3 || (nf == 3 && parse_counters(f[2], &pk, &by) != 0)) {
			warnf(p, "expected ':CHAIN POLICY [packets:bytes]'");
			return 0;
		}
		name = f[0];
		policy = strcmp(f[1], "-") == 0 ? "" : f[1];
		return add_chain(p, name, policy, pk, by);
	}
	if (s[0] == '[') {
		char *sp = s + strcspn(s, " \t");
		if (*sp == '\0') {
			warnf(p, "counters without a command");
			return 0;
		}
		*sp++ = '\0';
		if (parse_counters(s, &pk, &by) != 0) {
			warnf(p, "bad counters '%s'", s);
			return 0;
		}
		s = mm_trim(sp);
	}
	if (s[0] != '-') {
		warnf(p, "not an iptables-save line");
		return 0;
	}
	return command(p, s, pk, by);
}

int mm_ipt_parse(const char *data, size_t len, int v6, mm_ipt_warn_fn warn, void *arg,
		 struct mm_ipt_set **out)
{
	struct parser p = { NULL, warn, arg, v6, 0, NULL, 0, 0 };
	char *copy = NULL, *line, *s;
	size_t pos = 0;
	int r = MM_ERR_NOMEM;

	*out = NULL;
	if ((p.set = calloc(1, sizeof(*p.set))) == NULL || (copy = malloc(len + 1)) == NULL)
		goto out;
	memcpy(copy, data, len);
	copy[len] = '\0';
	r = 0;
	while (r == 0 && pos < len) {
		char *nl = memchr(copy + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (copy + pos)) : len - pos;

		line = copy + pos;
		line[n] = '\0';
		pos += n + 1;
		p.line++;
		if (memchr(line, '\0', n) != NULL) {
			/* a NUL inside the line: the rest would be silently lost */
			warnf(&p, "binary data");
			continue;
		}
		s = mm_trim(line);
		if (s[0] == '\0' || s[0] == '#')
			continue;
		if (!mm_is_text(s, strlen(s))) {
			warnf(&p, "binary data");
			continue;
		}
		r = parse_line(&p, s);
	}
	if (r == 0 && p.table != NULL) {
		p.line = p.table_line;
		warnf(&p, "table '%s' has no COMMIT: iptables-restore would reject it", p.table);
	}
	if (r == 0) {
		*out = p.set;
		p.set = NULL;
	}
out:
	free(p.table);
	free(copy);
	mm_ipt_free(p.set);
	return r;
}
