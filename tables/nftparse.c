/*
 * nftparse.c - nftables ruleset model and the `nft -f` configuration parser;
 * see nftparse.h for the syntax understood and the bounds.
 *
 * Structure: a lexer per open file (a stack of include frames, each frame
 * reading the files one include statement expanded to, in order), a token
 * buffer holding one statement, and a three-level block context (top,
 * table, chain) plus a skip counter for blocks that are not modelled (sets,
 * maps, malformed headers).  Nothing recurses: braces are counted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "nftparse.h"
#include "strutil.h"

/* ---- the model ----------------------------------------------------------- */

struct mm_nft_ruleset *mm_nft_ruleset_new(void)
{
	return calloc(1, sizeof(struct mm_nft_ruleset));
}

static void chain_clear_rules(struct mm_nft_ruleset *rs, struct mm_nft_chain *c)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		free(c->rules[i].text);
	rs->total_rules -= c->nrules;
	c->nrules = 0;
}

void mm_nft_ruleset_free(struct mm_nft_ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nchains; i++) {
		struct mm_nft_chain *c = &rs->chains[i];
		chain_clear_rules(rs, c);
		free(c->rules);
		free(c->family);
		free(c->table);
		free(c->name);
		free(c->type);
		free(c->hook);
		free(c->policy);
	}
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	free(rs->chains);
	free(rs);
}

int mm_nft_set_str(char **field, const char *v)
{
	char *n = NULL;

	if (v != NULL && (n = strdup(v)) == NULL)
		return MM_ERR_NOMEM;
	free(*field);
	*field = n;
	return 0;
}

struct mm_nft_chain *mm_nft_chain_add(struct mm_nft_ruleset *rs, const char *family,
				      const char *table, const char *name)
{
	struct mm_nft_chain *c;

	if (rs->nchains >= MM_NFT_MAX_CHAINS)
		return NULL;
	if (rs->nchains == rs->achains) {
		size_t na = rs->achains ? rs->achains * 2 : 8;
		if ((c = realloc(rs->chains, na * sizeof(*c))) == NULL)
			return NULL;
		rs->chains = c;
		rs->achains = na;
	}
	c = &rs->chains[rs->nchains];
	memset(c, 0, sizeof(*c));
	if ((c->family = strdup(family)) == NULL || (c->table = strdup(table)) == NULL ||
	    (c->name = strdup(name)) == NULL) {
		free(c->family);
		free(c->table);
		return NULL;
	}
	rs->nchains++;
	return c;
}

struct mm_nft_chain *mm_nft_chain_find(struct mm_nft_ruleset *rs, const char *family,
				       const char *table, const char *name)
{
	size_t i;

	/* Rulesets hold tens of chains (bounded by MM_NFT_MAX_CHAINS); the
	 * most recent chains are the likely ones. */
	for (i = rs->nchains; i-- > 0;) {
		struct mm_nft_chain *c = &rs->chains[i];
		if (!c->deleted && strcmp(c->name, name) == 0 && strcmp(c->table, table) == 0 &&
		    strcmp(c->family, family) == 0)
			return c;
	}
	return NULL;
}

int mm_nft_rule_add(struct mm_nft_ruleset *rs, struct mm_nft_chain *c, char *text, int64_t handle,
		    size_t file, int line, int front)
{
	struct mm_nft_rule *nr;

	if (rs->total_rules >= MM_NFT_MAX_RULES) {
		free(text);
		return MM_ERR_LIMIT;
	}
	if (c->nrules == c->arules) {
		size_t na = c->arules ? c->arules * 2 : 8;
		if ((nr = realloc(c->rules, na * sizeof(*nr))) == NULL) {
			free(text);
			return MM_ERR_NOMEM;
		}
		c->rules = nr;
		c->arules = na;
	}
	if (front) {
		memmove(c->rules + 1, c->rules, c->nrules * sizeof(*c->rules));
		nr = &c->rules[0];
	} else {
		nr = &c->rules[c->nrules];
	}
	nr->text = text;
	nr->handle = handle;
	nr->file = file;
	nr->line = line;
	c->nrules++;
	rs->total_rules++;
	return 0;
}

int mm_nft_prio_name(const char *family, const char *name, int64_t *out)
{
	static const struct { const char *name; int64_t v; } inet[] = {
		{ "raw", -300 }, { "mangle", -150 }, { "dstnat", -100 },
		{ "filter", 0 }, { "security", 50 }, { "srcnat", 100 },
	}, bridge[] = {
		{ "dstnat", -300 }, { "filter", -200 }, { "out", 100 }, { "srcnat", 300 },
	};
	size_t i;

	if (strcmp(family, "bridge") == 0) {
		for (i = 0; i < sizeof(bridge) / sizeof(bridge[0]); i++)
			if (strcmp(name, bridge[i].name) == 0) {
				*out = bridge[i].v;
				return 0;
			}
		return MM_ERR_NOTFOUND;
	}
	for (i = 0; i < sizeof(inet) / sizeof(inet[0]); i++)
		if (strcmp(name, inet[i].name) == 0) {
			*out = inet[i].v;
			return 0;
		}
	return MM_ERR_NOTFOUND;
}

void mm_nft_srcs_free(struct mm_nft_src *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].data);
	}
	free(v);
}

/* ---- lexer --------------------------------------------------------------- */

enum tkind { T_EOF, T_NL, T_SEMI, T_LBRACE, T_RBRACE, T_WORD, T_STRING };

struct tok {
	enum tkind kind;
	const char *s; /* WORD/STRING text (not NUL-terminated), STRING without quotes */
	size_t n;
	int line;
};

/* One include statement's files, read in order. */
struct frame {
	struct mm_nft_src *src;
	size_t nsrc, cur; /* cur: the file being read */
	size_t pos;
	int line;
	size_t file;      /* index of src[cur] in the ruleset's files */
	int ctl_warned;   /* a control byte was reported for this file */
	size_t inc_file;  /* the include statement that opened the frame: file */
	int inc_line;     /* ... and line */
};

#define MAX_TOKS 4096

enum level { L_TOP, L_TABLE, L_CHAIN };

struct parser {
	const struct mm_nft_io *io;
	struct mm_nft_ruleset *rs;
	struct frame stack[MM_NFT_MAX_INCLUDE_DEPTH + 1];
	int depth;            /* frames in use */
	struct tok toks[MAX_TOKS];
	int ntok;
	int nest;             /* braces open inside the current statement */
	int overflow;         /* the statement had more than MAX_TOKS tokens */
	enum level level;
	char family[16];      /* of the open table block */
	char table[256];
	struct mm_nft_chain *chain; /* open chain block */
	int chain_from_top;   /* "add chain ... {" : closing returns to the top */
	size_t block_file;    /* where the open block started: file */
	int block_line;       /* ... and line */
	int skip;             /* depth of an ignored block */
	int limit_warned;
};

static const char *cur_path(const struct parser *p)
{
	const struct frame *f = &p->stack[p->depth - 1];

	return p->rs->files[f->file];
}

static void vwarn(struct parser *p, const char *path, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void vwarn(struct parser *p, const char *path, int line, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (p->io->warn != NULL)
		p->io->warn(p->io->arg, path, line, msg);
}

/* Warns about line of the file being read. */
static void warnf(struct parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warnf(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(p, cur_path(p), line, fmt, ap);
	va_end(ap);
}

/* Warns about line of the file with index file. */
static void warn_in(struct parser *p, size_t file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void warn_in(struct parser *p, size_t file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(p, p->rs->files[file], line, fmt, ap);
	va_end(ap);
}

/* Records path in the ruleset's file list; returns its index or -1. */
static long intern_file(struct mm_nft_ruleset *rs, const char *path)
{
	char **nf;

	if (rs->nfiles == rs->afiles) {
		size_t na = rs->afiles ? rs->afiles * 2 : 4;
		if ((nf = realloc(rs->files, na * sizeof(*nf))) == NULL)
			return -1;
		rs->files = nf;
		rs->afiles = na;
	}
	if ((rs->files[rs->nfiles] = strdup(path)) == NULL)
		return -1;
	return (long)rs->nfiles++;
}

static int is_word_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != ';' && c != '{' && c != '}' && c != '"' && c != '#';
}

/* Reads the next token of the current file. */
static void next_tok(struct parser *p, struct tok *t)
{
	struct frame *f = &p->stack[p->depth - 1];
	const struct mm_nft_src *s = &f->src[f->cur];
	const char *d = s->data;
	size_t len = s->len;

	memset(t, 0, sizeof(*t));
	for (;;) {
		unsigned char c;

		t->line = f->line;
		if (f->pos >= len) {
			t->kind = T_EOF;
			return;
		}
		c = (unsigned char)d[f->pos];
		if (c == ' ' || c == '\t' || c == '\r') {
			f->pos++;
		} else if (c == '\\' && f->pos + 1 < len && (d[f->pos + 1] == '\n' ||
			   (d[f->pos + 1] == '\r' && f->pos + 2 < len && d[f->pos + 2] == '\n'))) {
			f->pos += d[f->pos + 1] == '\n' ? 2 : 3; /* continued line */
			f->line++;
		} else if (c == '#') {
			while (f->pos < len && d[f->pos] != '\n')
				f->pos++;
		} else if (c == '\n') {
			f->pos++;
			f->line++;
			t->kind = T_NL;
			return;
		} else if (c == ';' || c == '{' || c == '}') {
			f->pos++;
			t->kind = c == ';' ? T_SEMI : c == '{' ? T_LBRACE : T_RBRACE;
			return;
		} else if (c == '"') {
			const char *end;
			size_t start = ++f->pos;

			end = memchr(d + start, '"', len - start);
			t->kind = T_STRING;
			t->s = d + start;
			if (end == NULL || memchr(d + start, '\n', (size_t)(end - (d + start))) != NULL) {
				warnf(p, f->line, "unterminated string");
				while (f->pos < len && d[f->pos] != '\n')
					f->pos++;
				t->n = f->pos - start;
			} else {
				t->n = (size_t)(end - (d + start));
				f->pos = (size_t)(end - d) + 1;
			}
			return;
		} else if (c < ' ' || c == 0x7f) {
			if (!f->ctl_warned)
				warnf(p, f->line, "control character 0x%02x", c);
			f->ctl_warned = 1;
			f->pos++;
		} else {
			size_t start = f->pos;

			while (f->pos < len && is_word_char((unsigned char)d[f->pos]))
				f->pos++;
			t->kind = T_WORD;
			t->s = d + start;
			t->n = f->pos - start;
			return;
		}
	}
}

/* ---- statements ---------------------------------------------------------- */

static int tok_is(const struct tok *t, const char *w)
{
	size_t n = strlen(w);

	return (t->kind == T_WORD || t->kind == T_STRING) && t->n == n && memcmp(t->s, w, n) == 0;
}

/* Copies token i's text into out (truncated names are refused). */
static int tok_str(const struct parser *p, int i, char *out, size_t sz)
{
	const struct tok *t = &p->toks[i];

	if (i >= p->ntok || (t->kind != T_WORD && t->kind != T_STRING) || t->n == 0 || t->n >= sz)
		return MM_ERR_PARSE;
	memcpy(out, t->s, t->n);
	out[t->n] = '\0';
	if (memchr(out, '\0', t->n) != NULL)
		return MM_ERR_PARSE;
	return 0;
}

static int is_family(const struct tok *t)
{
	static const char *const fam[] = { "ip", "ip6", "inet", "arp", "bridge", "netdev" };
	size_t i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		if (tok_is(t, fam[i]))
			return 1;
	return 0;
}

/* Reads "[FAMILY] NAME..." at token i: family (default ip) and up to two
 * names.  Returns the index after the names, or -1. */
static int names(struct parser *p, int i, char *fam, char *a, char *b)
{
	snprintf(fam, 16, "ip");
	if (i < p->ntok && is_family(&p->toks[i]) && p->ntok > i + 1 + (b != NULL))
		tok_str(p, i++, fam, 16);
	if (tok_str(p, i++, a, 256) != 0)
		return -1;
	if (b != NULL && tok_str(p, i++, b, 256) != 0)
		return -1;
	return i;
}

/* Joins tokens [from, ntok) into rule text (malloc'ed in *out). */
static int join(struct parser *p, int from, char **out)
{
	struct mm_buf b;
	int i, r = 0;

	*out = NULL;
	mm_buf_init(&b, MM_NFT_RULE_CAP);
	for (i = from; i < p->ntok && r == 0; i++) {
		const struct tok *t = &p->toks[i];

		if (i > from)
			r = mm_buf_addc(&b, ' ');
		if (r != 0)
			break;
		switch (t->kind) {
		case T_STRING:
			if ((r = mm_buf_addc(&b, '"')) == 0 && (r = mm_buf_add(&b, t->s, t->n)) == 0)
				r = mm_buf_addc(&b, '"');
			break;
		case T_LBRACE: r = mm_buf_addc(&b, '{'); break;
		case T_RBRACE: r = mm_buf_addc(&b, '}'); break;
		case T_SEMI: r = mm_buf_addc(&b, ';'); break;
		default: r = mm_buf_add(&b, t->s, t->n); break;
		}
	}
	if (r == 0 && (*out = mm_buf_take(&b)) == NULL)
		r = MM_ERR_NOMEM;
	mm_buf_free(&b);
	return r;
}

static int add_rule(struct parser *p, struct mm_nft_chain *c, int from, int front)
{
	struct frame *f = &p->stack[p->depth - 1];
	char *text;
	int r;

	if (from >= p->ntok) {
		warnf(p, p->toks[0].line, "empty rule");
		return 0;
	}
	r = join(p, from, &text);
	if (r == MM_ERR_TOOBIG) {
		warnf(p, p->toks[0].line, "rule longer than %d bytes, skipped", MM_NFT_RULE_CAP);
		return 0;
	}
	if (r != 0)
		return r;
	r = mm_nft_rule_add(p->rs, c, text, -1, f->file, p->toks[0].line, front);
	if (r == MM_ERR_LIMIT) {
		if (!p->limit_warned)
			warnf(p, p->toks[0].line, "more than %d rules, rest ignored", MM_NFT_MAX_RULES);
		p->limit_warned = 1;
		return 0;
	}
	return r;
}

/* Finds or creates chain fam/table/name (config position: current line). */
static int get_chain(struct parser *p, const char *fam, const char *table, const char *name,
		     struct mm_nft_chain **out)
{
	struct mm_nft_chain *c = mm_nft_chain_find(p->rs, fam, table, name);

	*out = NULL;
	if (c == NULL) {
		if (p->rs->nchains >= MM_NFT_MAX_CHAINS) {
			if (!p->limit_warned)
				warnf(p, p->toks[0].line, "more than %d chains, rest ignored",
				      MM_NFT_MAX_CHAINS);
			p->limit_warned = 1;
			return 0;
		}
		if ((c = mm_nft_chain_add(p->rs, fam, table, name)) == NULL)
			return MM_ERR_NOMEM;
		c->file = p->stack[p->depth - 1].file;
		c->line = p->toks[0].line;
	}
	*out = c;
	return 0;
}

/* "type T hook H [device D] priority P" inside a chain block. */
static int chain_spec(struct parser *p)
{
	struct mm_nft_chain *c = p->chain;
	char type[64], hook[64], pr[64];
	int line = p->toks[0].line, i, r;
	int64_t base = 0, off = 0, v;
	char *sign;

	if (p->ntok < 6 || tok_str(p, 1, type, sizeof(type)) != 0 || !tok_is(&p->toks[2], "hook") ||
	    tok_str(p, 3, hook, sizeof(hook)) != 0) {
		warnf(p, line, "expected 'type TYPE hook HOOK priority PRIORITY'");
		return 0;
	}
	for (i = 4; i < p->ntok && !tok_is(&p->toks[i], "priority"); i++)
		; /* device "eth0" / devices = { ... } */
	if (i + 1 >= p->ntok) {
		warnf(p, line, "chain type without a priority");
		return 0;
	}
	if (strcmp(type, "filter") != 0 && strcmp(type, "nat") != 0 && strcmp(type, "route") != 0) {
		warnf(p, line, "unknown chain type '%s'", type);
		return 0;
	}
	if (c == NULL)
		return 0;
	if ((r = mm_nft_set_str(&c->type, type)) != 0 || (r = mm_nft_set_str(&c->hook, hook)) != 0)
		return r;
	if (c->policy == NULL && (r = mm_nft_set_str(&c->policy, "accept")) != 0)
		return r; /* a base chain's default */
	c->has_prio = 0;
	/* PRIORITY: N | NAME | NAME + N | NAME - N (possibly written without spaces) */
	if (tok_str(p, i + 1, pr, sizeof(pr)) != 0)
		goto bad;
	if (pr[0] == '$')
		return 0; /* a variable: unknown here */
	if (mm_parse_i64(pr, &v) == 0) {
		if (i + 2 != p->ntok)
			goto bad;
		c->prio = v;
		c->has_prio = 1;
		return 0;
	}
	sign = strpbrk(pr, "+-");
	if (sign != NULL) {
		if (mm_parse_i64(sign + 1, &off) != 0 || i + 2 != p->ntok)
			goto bad;
		if (*sign == '-')
			off = -off;
		*sign = '\0';
	} else if (i + 2 < p->ntok) {
		char num[32];
		if (i + 4 != p->ntok || !(tok_is(&p->toks[i + 2], "+") || tok_is(&p->toks[i + 2], "-")) ||
		    tok_str(p, i + 3, num, sizeof(num)) != 0 || mm_parse_i64(num, &off) != 0)
			goto bad;
		if (tok_is(&p->toks[i + 2], "-"))
			off = -off;
	}
	if (mm_nft_prio_name(c->family, pr, &base) != 0)
		goto bad;
	c->prio = base + off;
	c->has_prio = 1;
	return 0;
bad:
	warnf(p, line, "bad chain priority");
	return 0;
}

static int chain_stmt(struct parser *p)
{
	const struct tok *t = &p->toks[0];
	char pol[32];

	if (tok_is(t, "type"))
		return chain_spec(p);
	if (tok_is(t, "policy")) {
		if (p->ntok != 2 || tok_str(p, 1, pol, sizeof(pol)) != 0 ||
		    (strcmp(pol, "accept") != 0 && strcmp(pol, "drop") != 0 && pol[0] != '$')) {
			warnf(p, t->line, "policy must be accept or drop");
			return 0;
		}
		if (p->chain == NULL || pol[0] == '$')
			return 0;
		return mm_nft_set_str(&p->chain->policy, pol);
	}
	if (tok_is(t, "comment") || tok_is(t, "devices") || tok_is(t, "device") || tok_is(t, "flags"))
		return 0;
	if (p->chain == NULL)
		return 0;
	return add_rule(p, p->chain, 0, 0);
}

static int table_stmt(struct parser *p)
{
	static const char *const objects[] = { "set", "map", "flowtable", "counter", "quota", "ct",
					       "limit", "secmark", "synproxy", "flags", "comment" };
	size_t i;

	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		if (tok_is(&p->toks[0], objects[i]))
			return 0; /* not modelled */
	warnf(p, p->toks[0].line, "unexpected '%.*s' in a table block", (int)p->toks[0].n, p->toks[0].s);
	return 0;
}

/* Deletes or flushes the chains of fam/table (name NULL: all of them). */
static void drop_chains(struct parser *p, const char *fam, const char *table, const char *name,
			int flush_only)
{
	size_t i;

	for (i = 0; i < p->rs->nchains; i++) {
		struct mm_nft_chain *c = &p->rs->chains[i];
		if (c->deleted || (fam != NULL && (strcmp(c->family, fam) != 0 || strcmp(c->table, table) != 0)) ||
		    (name != NULL && strcmp(c->name, name) != 0))
			continue;
		chain_clear_rules(p->rs, c);
		if (!flush_only)
			c->deleted = 1;
	}
}

static int top_stmt(struct parser *p)
{
	static const char *const ignored[] = { "list", "reset", "rename", "replace", "monitor",
					       "describe", "export", "import" };
	char fam[16], a[256], b[256];
	const struct tok *t = &p->toks[0];
	struct mm_nft_chain *c;
	int i, r, del, front;
	size_t k;

	for (k = 0; k < sizeof(ignored) / sizeof(ignored[0]); k++)
		if (tok_is(t, ignored[k]))
			return 0;
	if (tok_is(t, "table")) {
		if (names(p, 1, fam, a, NULL) != p->ntok)
			warnf(p, t->line, "expected 'table [FAMILY] NAME'");
		return 0;
	}
	del = tok_is(t, "delete") || tok_is(t, "destroy");
	if (tok_is(t, "flush") || del) {
		if (p->ntok == 2 && tok_is(&p->toks[1], "ruleset")) {
			drop_chains(p, NULL, NULL, NULL, 0);
			return 0;
		}
		if (p->ntok >= 2 && tok_is(&p->toks[1], "table")) {
			if (names(p, 2, fam, a, NULL) != p->ntok)
				warnf(p, t->line, "expected '%.*s table [FAMILY] NAME'", (int)t->n, t->s);
			else
				drop_chains(p, fam, a, NULL, !del);
			return 0;
		}
		if (p->ntok >= 2 && tok_is(&p->toks[1], "chain")) {
			if (names(p, 2, fam, a, b) != p->ntok)
				warnf(p, t->line, "expected '%.*s chain [FAMILY] TABLE CHAIN'", (int)t->n, t->s);
			else
				drop_chains(p, fam, a, b, !del);
			return 0;
		}
		return 0; /* delete rule/set/element ...: not modelled */
	}
	if (!(tok_is(t, "add") || tok_is(t, "create") || tok_is(t, "insert"))) {
		warnf(p, t->line, "unknown command '%.*s'", (int)t->n, t->s);
		return 0;
	}
	if (p->ntok < 2) {
		warnf(p, t->line, "'%.*s' needs an object", (int)t->n, t->s);
		return 0;
	}
	front = tok_is(t, "insert");
	if (tok_is(&p->toks[1], "table")) {
		if (names(p, 2, fam, a, NULL) != p->ntok)
			warnf(p, t->line, "expected 'add table [FAMILY] NAME'");
		return 0;
	}
	if (tok_is(&p->toks[1], "chain")) {
		if (names(p, 2, fam, a, b) != p->ntok) {
			warnf(p, t->line, "expected 'add chain [FAMILY] TABLE CHAIN'");
			return 0;
		}
		return get_chain(p, fam, a, b, &c);
	}
	if (tok_is(&p->toks[1], "rule")) {
		/* the family is optional: a rule needs at least TABLE CHAIN and one word */
		snprintf(fam, sizeof(fam), "ip");
		i = 2;
		if (p->ntok > 5 && is_family(&p->toks[2]))
			tok_str(p, i++, fam, sizeof(fam));
		if (tok_str(p, i, a, sizeof(a)) != 0 || tok_str(p, i + 1, b, sizeof(b)) != 0) {
			warnf(p, t->line, "expected 'add rule [FAMILY] TABLE CHAIN RULE'");
			return 0;
		}
		i += 2;
		if (i + 1 < p->ntok && (tok_is(&p->toks[i], "position") || tok_is(&p->toks[i], "handle") ||
					tok_is(&p->toks[i], "index")))
			i += 2; /* placement relative to a handle: kept at the end/front */
		if ((c = mm_nft_chain_find(p->rs, fam, a, b)) == NULL) {
			warnf(p, t->line, "no chain '%s' in table %s %s", b, fam, a);
			return 0;
		}
		if ((r = add_rule(p, c, i, front)) != 0)
			return r;
		return 0;
	}
	return 0; /* add set/map/element/counter/...: not modelled */
}

static int open_next(struct parser *p);

/* Handles "include SPEC": opens a frame for the files it names. */
static int include_stmt(struct parser *p)
{
	struct frame *f;
	struct mm_nft_src *src = NULL;
	char spec[1024];
	size_t n = 0;
	int line = p->toks[0].line, r;

	if (p->ntok != 2 || tok_str(p, 1, spec, sizeof(spec)) != 0) {
		warnf(p, line, "expected 'include \"FILE\"'");
		return 0;
	}
	if (p->depth > MM_NFT_MAX_INCLUDE_DEPTH) {
		warnf(p, line, "includes nested more than %d deep, '%s' skipped", MM_NFT_MAX_INCLUDE_DEPTH,
		      spec);
		return 0;
	}
	if (p->io->include == NULL)
		return 0;
	r = p->io->include(p->io->arg, spec, &src, &n);
	if (r == MM_ERR_NOMEM)
		return r;
	if (r != 0) {
		warnf(p, line, "include '%s': %s", spec, mm_strerror(r));
		return 0;
	}
	if (n == 0) {
		mm_nft_srcs_free(src, n);
		return 0;
	}
	f = &p->stack[p->depth];
	memset(f, 0, sizeof(*f));
	f->src = src;
	f->nsrc = n;
	f->cur = (size_t)-1; /* open_next() advances to the first file */
	f->inc_file = p->stack[p->depth - 1].file;
	f->inc_line = line;
	p->depth++;
	return open_next(p);
}

/* Dispatches the collected statement and clears it. */
static int finish(struct parser *p)
{
	int r = 0;

	if (p->ntok == 0 && !p->overflow)
		return 0;
	if (p->overflow)
		warnf(p, p->ntok > 0 ? p->toks[0].line : 0, "statement of more than %d words, skipped",
		      MAX_TOKS);
	else if (tok_is(&p->toks[0], "include"))
		r = include_stmt(p);
	else if (tok_is(&p->toks[0], "define") || tok_is(&p->toks[0], "redefine") ||
		 tok_is(&p->toks[0], "undefine"))
		r = 0;
	else if (p->toks[0].kind != T_WORD && p->toks[0].kind != T_STRING)
		warnf(p, p->toks[0].line, "unexpected '%c'", p->toks[0].kind == T_LBRACE ? '{' : '}');
	else if (p->level == L_CHAIN)
		r = chain_stmt(p);
	else if (p->level == L_TABLE)
		r = table_stmt(p);
	else
		r = top_stmt(p);
	p->ntok = 0;
	p->nest = 0;
	p->overflow = 0;
	return r;
}

/* Is the statement so far the header of a table or chain block? */
static int is_opener(const struct parser *p)
{
	const struct tok *t = &p->toks[0];

	if (p->ntok == 0)
		return 0;
	if (p->level == L_TOP)
		return tok_is(t, "table") ||
		       ((tok_is(t, "add") || tok_is(t, "create")) && p->ntok > 1 &&
			(tok_is(&p->toks[1], "table") || tok_is(&p->toks[1], "chain")));
	if (p->level == L_TABLE)
		return tok_is(t, "chain");
	return 0;
}

/* Enters the block whose header is the current statement. */
static int open_block(struct parser *p)
{
	char fam[16], a[256], b[256];
	int line = p->toks[0].line, r = 0;

	if (p->level == L_TOP && tok_is(&p->toks[0], "table")) {
		if (names(p, 1, fam, a, NULL) != p->ntok)
			goto bad;
	} else if (p->level == L_TOP && tok_is(&p->toks[1], "table")) {
		if (names(p, 2, fam, a, NULL) != p->ntok)
			goto bad;
	} else if (p->level == L_TOP) { /* add chain [FAMILY] TABLE CHAIN { */
		if (names(p, 2, fam, a, b) != p->ntok)
			goto bad;
		r = get_chain(p, fam, a, b, &p->chain);
		p->level = L_CHAIN;
		p->chain_from_top = 1;
		p->block_file = p->stack[p->depth - 1].file;
		p->block_line = line;
		goto out;
	} else { /* chain NAME { inside a table */
		if (p->ntok != 2 || tok_str(p, 1, b, sizeof(b)) != 0)
			goto bad;
		r = get_chain(p, p->family, p->table, b, &p->chain);
		p->level = L_CHAIN;
		p->chain_from_top = 0;
		p->block_file = p->stack[p->depth - 1].file;
		p->block_line = line;
		goto out;
	}
	snprintf(p->family, sizeof(p->family), "%s", fam);
	snprintf(p->table, sizeof(p->table), "%s", a);
	p->level = L_TABLE;
	p->block_file = p->stack[p->depth - 1].file;
	p->block_line = line;
	goto out;
bad:
	warnf(p, line, "bad block header '%.*s ...', block skipped", (int)p->toks[0].n, p->toks[0].s);
	p->skip = 1;
	p->block_file = p->stack[p->depth - 1].file;
	p->block_line = line;
out:
	p->ntok = 0;
	p->nest = 0;
	return r;
}

static void close_block(struct parser *p, int line)
{
	if (p->level == L_CHAIN) {
		p->level = p->chain_from_top ? L_TOP : L_TABLE;
		p->chain = NULL;
	} else if (p->level == L_TABLE) {
		p->level = L_TOP;
	} else {
		warnf(p, line, "unexpected '}'");
	}
}

/* Moves the top frame to its next file, popping finished frames and
 * skipping include loops.  Returns 0, or MM_ERR_NOMEM. */
static int open_next(struct parser *p)
{
	while (p->depth > 1) {
		struct frame *f = &p->stack[p->depth - 1];
		int loop = 0, d;
		long idx;

		f->cur++;
		if (f->cur >= f->nsrc) {
			mm_nft_srcs_free(f->src, f->nsrc);
			f->src = NULL;
			p->depth--;
			continue;
		}
		for (d = 0; d < p->depth - 1 && !loop; d++) {
			const struct frame *o = &p->stack[d];
			loop = strcmp(o->src[o->cur].path, f->src[f->cur].path) == 0;
		}
		if (loop) {
			warn_in(p, f->inc_file, f->inc_line, "include loop: '%s' is already being read",
				f->src[f->cur].path);
			continue;
		}
		if (p->rs->nfiles >= MM_NFT_MAX_FILES) {
			warn_in(p, f->inc_file, f->inc_line, "more than %d files, '%s' skipped",
				MM_NFT_MAX_FILES, f->src[f->cur].path);
			continue;
		}
		if ((idx = intern_file(p->rs, f->src[f->cur].path)) < 0)
			return MM_ERR_NOMEM;
		f->file = (size_t)idx;
		f->pos = 0;
		f->line = 1;
		f->ctl_warned = 0;
		return 0;
	}
	return 0;
}

int mm_nft_parse(const char *path, const char *data, size_t len, const struct mm_nft_io *io,
		 struct mm_nft_ruleset **out)
{
	struct parser *p = NULL;
	struct mm_nft_src *top = NULL;
	struct tok t;
	int r = MM_ERR_NOMEM, d;
	long idx;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->rs = mm_nft_ruleset_new()) == NULL ||
	    (top = calloc(1, sizeof(*top))) == NULL)
		goto out;
	if ((top->path = strdup(path)) == NULL || (top->data = malloc(len + 1)) == NULL)
		goto out;
	memcpy(top->data, data, len);
	top->data[len] = '\0';
	top->len = len;
	if ((idx = intern_file(p->rs, path)) < 0)
		goto out;
	p->io = io;
	p->stack[0].src = top;
	p->stack[0].nsrc = 1;
	p->stack[0].line = 1;
	p->stack[0].file = (size_t)idx;
	top = NULL;
	p->depth = 1;
	r = 0;
	while (r == 0) {
		next_tok(p, &t);
		if (p->skip > 0) { /* inside an ignored block: count braces only */
			if (t.kind == T_LBRACE)
				p->skip++;
			else if (t.kind == T_RBRACE)
				p->skip--;
			else if (t.kind == T_EOF && p->depth > 1)
				r = open_next(p);
			else if (t.kind == T_EOF)
				break;
			continue;
		}
		switch (t.kind) {
		case T_EOF:
			if (p->nest > 0) {
				warnf(p, p->toks[0].line, "missing '}' in statement");
				p->ntok = 0;
				p->nest = 0;
			}
			if ((r = finish(p)) != 0)
				break;
			if (p->depth == 1)
				goto done;
			r = open_next(p);
			break;
		case T_NL:
		case T_SEMI:
			if (p->nest > 0) {
				if (t.kind == T_SEMI && p->ntok < MAX_TOKS)
					p->toks[p->ntok++] = t;
			} else {
				r = finish(p);
			}
			break;
		case T_LBRACE:
			if (p->nest == 0 && is_opener(p)) {
				r = open_block(p);
				break;
			}
			if (p->nest < 1000)
				p->nest++;
			goto append;
		case T_RBRACE:
			if (p->nest > 0) {
				p->nest--;
				goto append;
			}
			if ((r = finish(p)) == 0)
				close_block(p, t.line);
			break;
		default:
append:
			if (p->ntok < MAX_TOKS)
				p->toks[p->ntok++] = t;
			else
				p->overflow = 1;
			break;
		}
	}
done:
	if (r == 0 && (p->level != L_TOP || p->skip > 0))
		warn_in(p, p->block_file, p->block_line,
			"block not closed: missing '}' before the end of the file");
	if (r == 0) {
		*out = p->rs;
		p->rs = NULL;
	}
out:
	if (p != NULL) {
		for (d = 0; d < p->depth; d++)
			mm_nft_srcs_free(p->stack[d].src, p->stack[d].nsrc);
		mm_nft_ruleset_free(p->rs);
		free(p);
	}
	mm_nft_srcs_free(top, 1);
	return r;
}
