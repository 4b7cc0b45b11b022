/*
 * pack.c - query packs: the YAML and osquery .conf parsers, validation
 * against the engine, and the JSON form (see pack.h and docs/packs.md).
 *
 * Both parsers reduce every option value to a `struct val` (null, a plain
 * or quoted string, an integer, a boolean, or something else) and hand it
 * to one set of option setters, so the two formats accept exactly the same
 * values and say the same things about bad ones.  Only the location
 * differs: YAML nodes carry their line; jansson keeps none, so for a .conf
 * file the line of a key path is found by re-scanning the text (which
 * jansson has already accepted) when an error needs it.
 */
#include "pack.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "buf.h"
#include "engine.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"

#define MSG_CAP 4096 /* bytes of one error message */

/* ---- values and option setters ------------------------------------------ */

enum vkind {
	V_NULL,  /* YAML ~, null or nothing; JSON null */
	V_PLAIN, /* YAML plain scalar: may be read as a string, number or boolean */
	V_STR,   /* YAML quoted or block scalar; JSON string */
	V_INT,   /* JSON integer */
	V_BOOL,  /* JSON true/false */
	V_OTHER, /* a list, a mapping, a fraction: s says which */
};

struct val {
	enum vkind kind;
	const char *s; /* V_PLAIN, V_STR: the text (NUL-terminated); V_OTHER: "a list", ... */
	size_t len;    /* length of s for V_PLAIN and V_STR (may hold NUL bytes) */
	int64_t i;     /* V_INT */
	int b;         /* V_BOOL */
};

struct pctx {
	const char *file;  /* for messages; NULL for mm_pack_from_json */
	const char *pname; /* mm_pack_from_json: the pack name for messages */
	size_t budget;     /* bytes of strings still allowed (YAML aliases repeat text) */
	char *err;         /* the first error, malloc'ed */
	yaml_document_t *doc;
	const char *text; /* .conf: the cleaned text jansson parsed, to find lines */
	size_t len;
};

/* Records the first error: "FILE:LINE: msg", "FILE: msg" (line <= 0) or
 * "pack NAME: msg" (no file).  Returns code. */
static int perr(struct pctx *c, long line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(struct pctx *c, long line, int code, const char *fmt, ...)
{
	struct mm_buf b;
	va_list ap;

	if (c->err != NULL)
		return code;
	mm_buf_init(&b, MSG_CAP);
	if (c->file == NULL)
		mm_buf_addf(&b, "pack %s: ", c->pname != NULL ? c->pname : "?");
	else if (line > 0)
		mm_buf_addf(&b, "%s:%ld: ", c->file, line);
	else
		mm_buf_addf(&b, "%s: ", c->file);
	va_start(ap, fmt);
	mm_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	c->err = mm_buf_take(&b);
	return code;
}

/* User text fit for a one-line message: at most 40 bytes, anything but
 * printable ASCII shown as '?', "..." when cut. */
static const char *show(const char *s, size_t n, char *buf, size_t bufsz)
{
	size_t i, o = 0, max = bufsz > 44 ? 40 : bufsz - 4;

	for (i = 0; i < n && o < max; i++)
		buf[o++] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	if (i < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static const char *kind_name(const struct val *v)
{
	switch (v->kind) {
	case V_NULL: return "nothing";
	case V_INT: return "a number";
	case V_BOOL: return v->b ? "true" : "false";
	case V_PLAIN:
	case V_STR: return "a string";
	default: return v->s;
	}
}

/* Names of packs and queries: [A-Za-z0-9_.-]+, at most MM_PACK_MAX_NAME. */
static int valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MM_PACK_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Copies n bytes into *out, charging the string budget. */
static int take(struct pctx *c, const char *s, size_t n, char **out, char *msg, size_t msz)
{
	if (n > c->budget) {
		snprintf(msg, msz, "the pack's strings add up to more than %u bytes",
		         MM_PACK_MAX_TEXT);
		return MM_ERR_TOOBIG;
	}
	if ((*out = malloc(n + 1)) == NULL) {
		snprintf(msg, msz, "out of memory");
		return MM_ERR_NOMEM;
	}
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	c->budget -= n;
	return 0;
}

/* A string option; null leaves *out NULL. */
static int set_str(struct pctx *c, const struct val *v, char **out, char *msg, size_t msz)
{
	*out = NULL;
	switch (v->kind) {
	case V_NULL: return 0;
	case V_PLAIN:
	case V_STR:
		if (memchr(v->s, '\0', v->len) != NULL) {
			snprintf(msg, msz, "contains a NUL byte");
			return MM_ERR_PARSE;
		}
		return take(c, v->s, v->len, out, msg, msz);
	default: snprintf(msg, msz, "expected a string, got %s", kind_name(v)); return MM_ERR_PARSE;
	}
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* An SQL statement: a non-empty string, trimmed, at most MM_PACK_MAX_SQL.
 * what names it in "empty query" / "empty statement". */
static int set_sql(struct pctx *c, const struct val *v, const char *what, char **out, char *msg,
                   size_t msz)
{
	const char *s;
	size_t n;

	*out = NULL;
	if (v->kind != V_NULL && v->kind != V_PLAIN && v->kind != V_STR) {
		snprintf(msg, msz, "expected an SQL string, got %s", kind_name(v));
		return MM_ERR_PARSE;
	}
	s = v->kind == V_NULL ? "" : v->s;
	n = v->kind == V_NULL ? 0 : v->len;
	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n == 0) {
		snprintf(msg, msz, "empty %s", what);
		return MM_ERR_PARSE;
	}
	if (n > MM_PACK_MAX_SQL) {
		snprintf(msg, msz, "longer than %u bytes", MM_PACK_MAX_SQL);
		return MM_ERR_TOOBIG;
	}
	if (memchr(s, '\0', n) != NULL) {
		snprintf(msg, msz, "contains a NUL byte");
		return MM_ERR_PARSE;
	}
	return take(c, s, n, out, msg, msz);
}

/* A boolean: JSON true/false, or an unquoted YAML true/false/yes/no/on/off. */
static int set_bool(const struct val *v, int *out, char *msg, size_t msz)
{
	static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no",
	                                                                       "off"};
	char sb[48];
	size_t i;

	if (v->kind == V_BOOL) {
		*out = v->b;
		return 0;
	}
	if (v->kind == V_PLAIN)
		for (i = 0; i < 3; i++) {
			if (strcasecmp(v->s, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcasecmp(v->s, no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	if (v->kind == V_PLAIN || v->kind == V_STR)
		snprintf(msg, msz, "expected true or false, got '%s'",
		         show(v->s, v->len, sb, sizeof(sb)));
	else
		snprintf(msg, msz, "expected true or false, got %s", kind_name(v));
	return MM_ERR_PARSE;
}

/* An integer in lo..hi: a JSON integer, or a string of decimal digits
 * (quoted or not: osquery accepts "interval": "3600"). */
static int set_int(const struct val *v, int64_t lo, int64_t hi, const char *unit, int64_t *out,
                   char *msg, size_t msz)
{
	char sb[48];
	int64_t x;

	switch (v->kind) {
	case V_INT: x = v->i; break;
	case V_PLAIN:
	case V_STR:
		if (memchr(v->s, '\0', v->len) != NULL || mm_parse_i64(v->s, &x) != 0) {
			snprintf(msg, msz, "not a number ('%s')",
			         show(v->s, v->len, sb, sizeof(sb)));
			return MM_ERR_PARSE;
		}
		break;
	default: snprintf(msg, msz, "not a number (got %s)", kind_name(v)); return MM_ERR_PARSE;
	}
	if (x < lo || x > hi) {
		snprintf(msg, msz, "must be between %lld and %lld%s, got %lld", (long long)lo,
		         (long long)hi, unit, (long long)x);
		return MM_ERR_PARSE;
	}
	*out = x;
	return 0;
}

/* Pack-level keys, in the order messages list them. */
enum { P_NAME, P_DESCRIPTION, P_PLATFORM, P_VERSION, P_SHARD, P_DISCOVERY, P_QUERIES, P_N };
static const char *const popts[P_N] = {"name",  "description", "platform", "version",
                                       "shard", "discovery",   "queries"};
#define POPTS_LIST "name, description, platform, version, shard, discovery, queries"

/* Query options. */
enum {
	O_QUERY,
	O_INTERVAL,
	O_SNAPSHOT,
	O_REMOVED,
	O_DESCRIPTION,
	O_PLATFORM,
	O_VERSION,
	O_SHARD,
	O_VALUE,
	O_N
};
static const char *const qopts[O_N] = {"query",    "interval", "snapshot", "removed", "description",
                                       "platform", "version",  "shard",    "value"};
#define QOPTS_LIST                                                                                 \
	"query, interval, snapshot, removed, description, platform, version, shard, value"

static int lookup(const char *const *names, int n, const char *key, size_t keylen)
{
	int i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == keylen && memcmp(names[i], key, keylen) == 0)
			return i;
	return -1;
}

/* Sets a pack-level option other than discovery and queries. */
static int set_popt(struct pctx *c, struct mm_pack *p, int opt, const struct val *v, char *msg,
                    size_t msz)
{
	char sb[48];
	int64_t x;
	int r;

	switch (opt) {
	case P_NAME:
		if ((r = set_str(c, v, &p->name, msg, msz)) != 0)
			return r;
		if (p->name == NULL) {
			snprintf(msg, msz, "missing (every pack needs a name)");
			return MM_ERR_PARSE;
		}
		if (!valid_name(p->name, strlen(p->name))) {
			snprintf(msg, msz,
			         "invalid pack name '%s' (letters, digits, '_', '.', '-')",
			         show(p->name, strlen(p->name), sb, sizeof(sb)));
			return MM_ERR_PARSE;
		}
		return 0;
	case P_DESCRIPTION: return set_str(c, v, &p->description, msg, msz);
	case P_PLATFORM: return set_str(c, v, &p->platform, msg, msz);
	case P_VERSION: return set_str(c, v, &p->version, msg, msz);
	case P_SHARD:
		if ((r = set_int(v, 0, 100, "", &x, msg, msz)) != 0)
			return r;
		p->shard = (int)x;
		return 0;
	default: snprintf(msg, msz, "internal error"); return MM_ERR_INTERNAL;
	}
}

static int set_qopt(struct pctx *c, struct mm_pack_query *q, int opt, const struct val *v,
                    char *msg, size_t msz)
{
	int64_t x;
	int r;

	switch (opt) {
	case O_QUERY: return set_sql(c, v, "query", &q->query, msg, msz);
	case O_INTERVAL:
		return set_int(v, 1, MM_PACK_MAX_INTERVAL, " seconds", &q->interval, msg, msz);
	case O_SNAPSHOT: return set_bool(v, &q->snapshot, msg, msz);
	case O_REMOVED: return set_bool(v, &q->removed, msg, msz);
	case O_DESCRIPTION: return set_str(c, v, &q->description, msg, msz);
	case O_PLATFORM: return set_str(c, v, &q->platform, msg, msz);
	case O_VERSION: return set_str(c, v, &q->version, msg, msz);
	case O_SHARD:
		if ((r = set_int(v, 0, 100, "", &x, msg, msz)) != 0)
			return r;
		q->shard = (int)x;
		return 0;
	case O_VALUE: return set_str(c, v, &q->value, msg, msz);
	default: snprintf(msg, msz, "internal error"); return MM_ERR_INTERNAL;
	}
}

/* The next query slot, with its defaults; name already validated. */
static int new_query(struct pctx *c, struct mm_pack *p, const char *name, size_t n,
                     struct mm_pack_query **q, char *msg, size_t msz)
{
	struct mm_pack_query *nq = &p->queries[p->nqueries];

	memset(nq, 0, sizeof(*nq));
	nq->removed = 1;
	p->nqueries++;
	*q = nq;
	return take(c, name, n, &nq->name, msg, msz);
}

static int query_exists(const struct mm_pack *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < p->nqueries; i++)
		if (p->queries[i].name != NULL && strlen(p->queries[i].name) == n &&
		    memcmp(p->queries[i].name, name, n) == 0)
			return 1;
	return 0;
}

/* ---- YAML ---------------------------------------------------------------- */

static yaml_node_t *ynode(struct pctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static long yline(const yaml_node_t *n)
{
	return n != NULL ? (long)n->start_mark.line + 1 : 0;
}

static void yval(const yaml_node_t *n, struct val *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = V_OTHER;
	if (n == NULL) {
		v->kind = V_NULL;
		return;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		v->s = (const char *)n->data.scalar.value;
		v->len = n->data.scalar.length;
		v->kind = V_STR;
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			v->kind = V_PLAIN;
			if (v->len == 0 || strcmp(v->s, "~") == 0 || strcmp(v->s, "null") == 0 ||
			    strcmp(v->s, "Null") == 0 || strcmp(v->s, "NULL") == 0)
				v->kind = V_NULL;
		}
		break;
	case YAML_SEQUENCE_NODE: v->s = "a list"; break;
	case YAML_MAPPING_NODE: v->s = "a mapping"; break;
	default: v->s = "nothing"; break;
	}
}

static int y_discovery(struct pctx *c, yaml_node_t *n, struct mm_pack *p)
{
	yaml_node_item_t *it;
	char msg[256];
	struct val v;
	size_t count;
	int r;

	yval(n, &v);
	if (v.kind == V_NULL)
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, yline(n), MM_ERR_PARSE,
		            "discovery: expected a list of SQL statements, got %s", kind_name(&v));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > MM_PACK_MAX_DISCOVERY)
		return perr(c, yline(n), MM_ERR_TOOBIG, "discovery: more than %d statements",
		            MM_PACK_MAX_DISCOVERY);
	if (count == 0)
		return 0;
	if ((p->discovery = calloc(count, sizeof(*p->discovery))) == NULL)
		return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = ynode(c, *it);
		yval(item, &v);
		if ((r = set_sql(c, &v, "statement", &p->discovery[p->ndiscovery], msg,
		                 sizeof(msg))) != 0)
			return perr(c, yline(item != NULL ? item : n), r, "discovery[%zu]: %s",
			            p->ndiscovery, msg);
		p->ndiscovery++;
	}
	return 0;
}

/* One query's options mapping m; k is the node of its name. */
static int y_query(struct pctx *c, yaml_node_t *k, yaml_node_t *m, struct mm_pack_query *q)
{
	yaml_node_pair_t *pr;
	unsigned seen = 0;
	char msg[256], sb[48];
	struct val v;
	int r, opt;

	yval(m, &v);
	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return perr(
		    c, yline(m != NULL ? m : k), MM_ERR_PARSE,
		    "queries.%s: expected a mapping of options (query, interval, ...), got %s",
		    q->name, kind_name(&v));
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = ynode(c, pr->key), *vn = ynode(c, pr->value);
		const char *key;
		size_t klen;

		if (kn == NULL || kn->type != YAML_SCALAR_NODE)
			return perr(c, yline(kn != NULL ? kn : m), MM_ERR_PARSE,
			            "queries.%s: option names must be strings", q->name);
		key = (const char *)kn->data.scalar.value;
		klen = kn->data.scalar.length;
		if ((opt = lookup(qopts, O_N, key, klen)) < 0)
			return perr(c, yline(kn), MM_ERR_PARSE,
			            "queries.%s.%s: unknown option (" QOPTS_LIST ")", q->name,
			            show(key, klen, sb, sizeof(sb)));
		if (seen & (1u << opt))
			return perr(c, yline(kn), MM_ERR_PARSE, "queries.%s.%s: duplicate key",
			            q->name, qopts[opt]);
		seen |= 1u << opt;
		yval(vn, &v);
		if ((r = set_qopt(c, q, opt, &v, msg, sizeof(msg))) != 0)
			return perr(c, yline(kn), r, "queries.%s.%s: %s", q->name, qopts[opt], msg);
	}
	if (q->query == NULL)
		return perr(c, yline(k), MM_ERR_PARSE, "queries.%s.query: missing", q->name);
	if (!(seen & (1u << O_INTERVAL)))
		return perr(c, yline(k), MM_ERR_PARSE, "queries.%s.interval: missing", q->name);
	return 0;
}

static int y_queries(struct pctx *c, yaml_node_t *n, struct mm_pack *p)
{
	yaml_node_pair_t *pr;
	struct mm_pack_query *q;
	char msg[256], sb[48];
	struct val v;
	size_t count;
	int r;

	yval(n, &v);
	if (v.kind == V_NULL)
		return perr(c, yline(n), MM_ERR_PARSE,
		            "queries: empty (a pack needs at least one query)");
	if (n->type != YAML_MAPPING_NODE)
		return perr(c, yline(n), MM_ERR_PARSE,
		            "queries: expected a mapping of query names to options, got %s",
		            kind_name(&v));
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (count == 0)
		return perr(c, yline(n), MM_ERR_PARSE,
		            "queries: empty (a pack needs at least one query)");
	if (count > MM_PACK_MAX_QUERIES)
		return perr(c, yline(n), MM_ERR_TOOBIG, "queries: more than %d queries",
		            MM_PACK_MAX_QUERIES);
	if ((p->queries = calloc(count, sizeof(*p->queries))) == NULL)
		return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = ynode(c, pr->key), *vn = ynode(c, pr->value);
		const char *key;
		size_t klen;

		if (kn == NULL || kn->type != YAML_SCALAR_NODE)
			return perr(c, yline(kn != NULL ? kn : n), MM_ERR_PARSE,
			            "queries: query names must be strings");
		key = (const char *)kn->data.scalar.value;
		klen = kn->data.scalar.length;
		if (!valid_name(key, klen))
			return perr(
			    c, yline(kn), MM_ERR_PARSE,
			    "queries: invalid query name '%s' (letters, digits, '_', '.', '-')",
			    show(key, klen, sb, sizeof(sb)));
		if (query_exists(p, key, klen))
			return perr(c, yline(kn), MM_ERR_PARSE, "queries.%s: duplicate query name",
			            key);
		if ((r = new_query(c, p, key, klen, &q, msg, sizeof(msg))) != 0)
			return perr(c, yline(kn), r, "queries.%s: %s", key, msg);
		if ((r = y_query(c, kn, vn, q)) != 0)
			return r;
	}
	return 0;
}

static int y_pack(struct pctx *c, yaml_node_t *root, struct mm_pack *p)
{
	yaml_node_pair_t *pr;
	unsigned seen = 0;
	char msg[256], sb[48];
	struct val v;
	int r, opt;

	yval(root, &v);
	if (root->type != YAML_MAPPING_NODE)
		return perr(c, yline(root), MM_ERR_PARSE,
		            "expected a mapping with name and queries, got %s", kind_name(&v));
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = ynode(c, pr->key), *vn = ynode(c, pr->value);
		const char *key;
		size_t klen;

		if (kn == NULL || kn->type != YAML_SCALAR_NODE)
			return perr(c, yline(kn != NULL ? kn : root), MM_ERR_PARSE,
			            "keys must be strings");
		key = (const char *)kn->data.scalar.value;
		klen = kn->data.scalar.length;
		if ((opt = lookup(popts, P_N, key, klen)) < 0)
			return perr(c, yline(kn), MM_ERR_PARSE, "%s: unknown key (" POPTS_LIST ")",
			            show(key, klen, sb, sizeof(sb)));
		if (seen & (1u << opt))
			return perr(c, yline(kn), MM_ERR_PARSE, "%s: duplicate key", popts[opt]);
		seen |= 1u << opt;
		if (opt == P_DISCOVERY) {
			if ((r = y_discovery(c, vn, p)) != 0)
				return r;
		} else if (opt == P_QUERIES) {
			if ((r = y_queries(c, vn, p)) != 0)
				return r;
		} else {
			yval(vn, &v);
			if ((r = set_popt(c, p, opt, &v, msg, sizeof(msg))) != 0)
				return perr(c, yline(kn), r, "%s: %s", popts[opt], msg);
		}
	}
	if (p->name == NULL)
		return perr(c, yline(root), MM_ERR_PARSE,
		            "name: missing (every pack needs a name)");
	if (!(seen & (1u << P_QUERIES)))
		return perr(c, yline(root), MM_ERR_PARSE,
		            "queries: missing (a pack needs at least one query)");
	return 0;
}

static int yaml_syntax_error(struct pctx *c, yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR)
		return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	if (parser->context != NULL)
		return perr(c, (long)parser->problem_mark.line + 1, MM_ERR_PARSE,
		            "%s (%s, line %lu)",
		            parser->problem != NULL ? parser->problem : "bad YAML", parser->context,
		            (unsigned long)parser->context_mark.line + 1);
	return perr(c, (long)parser->problem_mark.line + 1, MM_ERR_PARSE, "%s",
	            parser->problem != NULL ? parser->problem : "bad YAML");
}

/* Exactly one YAML document holding one pack. */
static int yaml_parse(struct pctx *c, const char *text, size_t len, struct mm_pack *p)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int r, have_doc = 0;

	if (!yaml_parser_initialize(&parser))
		return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = yaml_syntax_error(c, &parser);
		goto out;
	}
	have_doc = 1;
	c->doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		r = perr(c, 0, MM_ERR_PARSE,
		         "empty pack (expected a mapping with name and queries)");
		goto out;
	}
	if ((r = y_pack(c, root, p)) != 0)
		goto out;
	yaml_document_delete(&doc);
	have_doc = 0;
	c->doc = NULL;
	if (!yaml_parser_load(&parser, &doc)) {
		r = yaml_syntax_error(c, &parser);
		goto out;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&doc)) != NULL) {
		r = perr(c, yline(root), MM_ERR_PARSE,
		         "more than one YAML document (one pack per file)");
		goto out;
	}
	r = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	c->doc = NULL;
	yaml_parser_delete(&parser);
	return r;
}

/* ---- osquery JSON (.conf) ----------------------------------------------- */

/* osquery's relaxed JSON: `\`-newline joins lines, then whole lines whose
 * first non-blank characters are `#` or `//` are dropped.  Line numbers are
 * kept, so jansson's and our messages point into the original file: a
 * joined line is followed by the newlines it swallowed and a dropped line
 * leaves its newline.  The result is never longer than the input; it is
 * malloc'ed with a NUL after it. */
static char *conf_clean(const char *text, size_t len, size_t *outlen)
{
	char *o = malloc(len + 1);
	size_t on = 0, i = 0, ls, k, joined;

	if (o == NULL)
		return NULL;
	while (i < len) {
		ls = on;
		joined = 0;
		while (i < len && text[i] != '\n') {
			if (text[i] == '\\' && i + 1 < len && text[i + 1] == '\n') {
				i += 2;
				joined++;
				continue;
			}
			if (text[i] == '\\' && i + 2 < len && text[i + 1] == '\r' &&
			    text[i + 2] == '\n') {
				i += 3;
				joined++;
				continue;
			}
			o[on++] = text[i++];
		}
		for (k = ls; k < on && (o[k] == ' ' || o[k] == '\t' || o[k] == '\r'); k++)
			;
		if (k < on && (o[k] == '#' || (o[k] == '/' && k + 1 < on && o[k + 1] == '/')))
			on = ls;
		for (; joined > 0; joined--)
			o[on++] = '\n';
		if (i < len) {
			o[on++] = '\n';
			i++;
		}
	}
	o[on] = '\0';
	*outlen = on;
	return o;
}

/* One step of a key path: an object key, or an array index (key NULL). */
struct jpath {
	const char *key;
	long index;
};

/* Index of the closing quote of the string opening at s[i]. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i;
}

/* The line of the deepest prefix of path found in the .conf text (valid
 * JSON: jansson accepted it), 0 when there is no text or no match.  Depth
 * 1 is inside the top-level object; only the first levels are tracked, as
 * paths are at most 3 long. */
static long jline(const struct pctx *c, const struct jpath *path, int npath)
{
	enum { MAXD = 8 };
	char isarr[MAXD] = {0}, expect[MAXD] = {0};
	long idx[MAXD] = {0}, line = 1, best = 0;
	const char *s = c->text;
	size_t n = c->len, i, e;
	int depth = 0, matched = 0;

	if (s == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '\n') {
			line++;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == ':')
			continue;
		if (ch == ',') {
			if (depth > 0 && depth < MAXD)
				expect[depth] = 1;
			continue;
		}
		if (ch == '}' || ch == ']') {
			if (matched >= depth)
				matched = depth > 0 ? depth - 1 : 0;
			if (depth > 0)
				depth--;
			continue;
		}
		if (ch == '"' && depth > 0 && depth < MAXD && !isarr[depth] && expect[depth]) {
			e = skip_string(s, n, i); /* a key */
			expect[depth] = 0;
			if (matched >= depth)
				matched = depth - 1;
			if (matched == depth - 1 && matched < npath && path[matched].key != NULL &&
			    strlen(path[matched].key) == e - i - 1 &&
			    memcmp(path[matched].key, s + i + 1, e - i - 1) == 0) {
				matched = depth;
				best = line;
				if (matched == npath)
					return best;
			}
			i = e;
			continue;
		}
		if (depth > 0 && depth < MAXD && isarr[depth] && expect[depth]) {
			expect[depth] = 0; /* an array element starts */
			idx[depth]++;
			if (matched >= depth)
				matched = depth - 1;
			if (matched == depth - 1 && matched < npath && path[matched].key == NULL &&
			    path[matched].index == idx[depth]) {
				matched = depth;
				best = line;
				if (matched == npath)
					return best;
			}
		}
		if (ch == '{' || ch == '[') {
			depth++;
			if (depth < MAXD) {
				isarr[depth] = ch == '[';
				expect[depth] = 1;
				idx[depth] = -1;
			}
			continue;
		}
		if (ch == '"') {
			i = skip_string(s, n, i);
			continue;
		}
		while (i + 1 < n && strchr(",]}: \t\r\n", s[i + 1]) == NULL)
			i++;
	}
	return best;
}

static long jline1(const struct pctx *c, const char *k1)
{
	struct jpath p[1] = {{k1, 0}};
	return jline(c, p, 1);
}

static long jline2(const struct pctx *c, const char *k1, const char *k2, long index)
{
	struct jpath p[2] = {{k1, 0}, {k2, index}};
	return jline(c, p, 2);
}

static long jline3(const struct pctx *c, const char *k1, const char *k2, const char *k3)
{
	struct jpath p[3] = {{k1, 0}, {k2, 0}, {k3, 0}};
	return jline(c, p, 3);
}

static void jval(const json_t *j, struct val *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = V_OTHER;
	switch (json_typeof(j)) {
	case JSON_STRING:
		v->kind = V_STR;
		v->s = json_string_value(j);
		v->len = json_string_length(j);
		break;
	case JSON_INTEGER:
		v->kind = V_INT;
		v->i = (int64_t)json_integer_value(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v->kind = V_BOOL;
		v->b = json_is_true(j);
		break;
	case JSON_NULL: v->kind = V_NULL; break;
	case JSON_REAL: v->s = "a fractional number"; break;
	case JSON_ARRAY: v->s = "a list"; break;
	default: v->s = "an object"; break;
	}
}

static int j_discovery(struct pctx *c, const json_t *a, struct mm_pack *p)
{
	char msg[256];
	struct val v;
	size_t i, count;
	int r;

	jval(a, &v);
	if (v.kind == V_NULL)
		return 0;
	if (!json_is_array(a))
		return perr(c, jline1(c, "discovery"), MM_ERR_PARSE,
		            "discovery: expected a list of SQL statements, got %s", kind_name(&v));
	count = json_array_size(a);
	if (count > MM_PACK_MAX_DISCOVERY)
		return perr(c, jline1(c, "discovery"), MM_ERR_TOOBIG,
		            "discovery: more than %d statements", MM_PACK_MAX_DISCOVERY);
	if (count == 0)
		return 0;
	if ((p->discovery = calloc(count, sizeof(*p->discovery))) == NULL)
		return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		jval(json_array_get(a, i), &v);
		if ((r = set_sql(c, &v, "statement", &p->discovery[i], msg, sizeof(msg))) != 0)
			return perr(c, jline2(c, "discovery", NULL, (long)i), r,
			            "discovery[%zu]: %s", i, msg);
		p->ndiscovery++;
	}
	return 0;
}

static int j_query(struct pctx *c, const json_t *o, struct mm_pack_query *q)
{
	const char *key;
	json_t *jv;
	char msg[256], sb[48];
	struct val v;
	int r, opt;

	jval(o, &v);
	if (!json_is_object(o))
		return perr(
		    c, jline2(c, "queries", q->name, 0), MM_ERR_PARSE,
		    "queries.%s: expected an object of options (query, interval, ...), got %s",
		    q->name, kind_name(&v));
	json_object_foreach((json_t *)o, key, jv)
	{
		size_t klen = strlen(key);
		if ((opt = lookup(qopts, O_N, key, klen)) < 0)
			return perr(c, jline3(c, "queries", q->name, key), MM_ERR_PARSE,
			            "queries.%s.%s: unknown option (" QOPTS_LIST ")", q->name,
			            show(key, klen, sb, sizeof(sb)));
		jval(jv, &v);
		if ((r = set_qopt(c, q, opt, &v, msg, sizeof(msg))) != 0)
			return perr(c, jline3(c, "queries", q->name, key), r, "queries.%s.%s: %s",
			            q->name, qopts[opt], msg);
	}
	if (q->query == NULL)
		return perr(c, jline2(c, "queries", q->name, 0), MM_ERR_PARSE,
		            "queries.%s.query: missing", q->name);
	if (json_object_get(o, "interval") == NULL)
		return perr(c, jline2(c, "queries", q->name, 0), MM_ERR_PARSE,
		            "queries.%s.interval: missing", q->name);
	return 0;
}

static int j_queries(struct pctx *c, const json_t *o, struct mm_pack *p)
{
	struct mm_pack_query *q;
	const char *key;
	json_t *jv;
	char msg[256], sb[48];
	struct val v;
	size_t count;
	int r;

	jval(o, &v);
	if (v.kind == V_NULL)
		return perr(c, jline1(c, "queries"), MM_ERR_PARSE,
		            "queries: empty (a pack needs at least one query)");
	if (!json_is_object(o))
		return perr(c, jline1(c, "queries"), MM_ERR_PARSE,
		            "queries: expected an object of query names to options, got %s",
		            kind_name(&v));
	count = json_object_size(o);
	if (count == 0)
		return perr(c, jline1(c, "queries"), MM_ERR_PARSE,
		            "queries: empty (a pack needs at least one query)");
	if (count > MM_PACK_MAX_QUERIES)
		return perr(c, jline1(c, "queries"), MM_ERR_TOOBIG, "queries: more than %d queries",
		            MM_PACK_MAX_QUERIES);
	if ((p->queries = calloc(count, sizeof(*p->queries))) == NULL)
		return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	json_object_foreach((json_t *)o, key, jv)
	{
		size_t klen = strlen(key);
		if (!valid_name(key, klen))
			return perr(
			    c, jline2(c, "queries", key, 0), MM_ERR_PARSE,
			    "queries: invalid query name '%s' (letters, digits, '_', '.', '-')",
			    show(key, klen, sb, sizeof(sb)));
		if ((r = new_query(c, p, key, klen, &q, msg, sizeof(msg))) != 0)
			return perr(c, jline2(c, "queries", key, 0), r, "queries.%s: %s", key, msg);
		if ((r = j_query(c, jv, q)) != 0)
			return r;
	}
	return 0;
}

/* Line of the first non-blank character of the .conf text (the top-level
 * value), 0 without text. */
static long first_line(const struct pctx *c)
{
	size_t i;
	long line = 1;

	if (c->text == NULL)
		return 0;
	for (i = 0; i < c->len && is_space(c->text[i]); i++)
		if (c->text[i] == '\n')
			line++;
	return line;
}

/* A pack as a JSON object (a .conf file or the stored form).  name: the
 * caller's name for it, NULL to take the object's "name". */
static int j_pack(struct pctx *c, const json_t *root, const char *name, struct mm_pack *p)
{
	const char *key;
	json_t *jv;
	char msg[256], sb[48];
	struct val v;
	int r, opt, have_queries = 0;

	jval(root, &v);
	if (!json_is_object(root))
		return perr(c, first_line(c), MM_ERR_PARSE,
		            "expected a JSON object with \"queries\", got %s", kind_name(&v));
	json_object_foreach((json_t *)root, key, jv)
	{
		size_t klen = strlen(key);
		if ((opt = lookup(popts, P_N, key, klen)) < 0)
			return perr(c, jline1(c, key), MM_ERR_PARSE,
			            "%s: unknown key (" POPTS_LIST ")",
			            show(key, klen, sb, sizeof(sb)));
		if (opt == P_DISCOVERY) {
			if ((r = j_discovery(c, jv, p)) != 0)
				return r;
		} else if (opt == P_QUERIES) {
			have_queries = 1;
			if ((r = j_queries(c, jv, p)) != 0)
				return r;
		} else {
			jval(jv, &v);
			if ((r = set_popt(c, p, opt, &v, msg, sizeof(msg))) != 0)
				return perr(c, jline1(c, key), r, "%s: %s", popts[opt], msg);
		}
	}
	if (name != NULL) {
		if (!valid_name(name, strlen(name)))
			return perr(c, 0, MM_ERR_PARSE,
			            "invalid pack name '%s' (letters, digits, '_', '.', '-')",
			            show(name, strlen(name), sb, sizeof(sb)));
		if (p->name != NULL && strcmp(p->name, name) != 0)
			return perr(c, jline1(c, "name"), MM_ERR_PARSE,
			            "name: '%s' is not the pack's name '%s'", p->name, name);
		if (p->name == NULL && (p->name = strdup(name)) == NULL)
			return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	}
	if (p->name == NULL)
		return perr(c, 0, MM_ERR_PARSE, "the pack has no name (name it after its file)");
	if (!have_queries)
		return perr(c, first_line(c), MM_ERR_PARSE,
		            "queries: missing (a pack needs at least one query)");
	return 0;
}

static int conf_parse(struct pctx *c, const char *text, size_t len, const char *name,
                      struct mm_pack *p)
{
	json_error_t je;
	json_t *root = NULL;
	char *clean;
	size_t clen;
	int r;

	if ((clean = conf_clean(text, len, &clen)) == NULL)
		return perr(c, 0, MM_ERR_NOMEM, "out of memory");
	c->text = clean;
	c->len = clen;
	if ((root = json_loadb(clean, clen, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		if (je.line > 0 && je.column > 0) {
			/* FILE:LINE:COLUMN, as compilers say it */
			struct mm_buf b;
			mm_buf_init(&b, MSG_CAP);
			mm_buf_addf(&b, "%s:%d:%d: %s", c->file, je.line, je.column, je.text);
			c->err = mm_buf_take(&b);
			r = MM_ERR_PARSE;
		} else if (je.line > 0)
			r = perr(c, je.line, MM_ERR_PARSE, "%s", je.text);
		else
			r = perr(c, 0, MM_ERR_PARSE, "%s", je.text);
		goto out;
	}
	r = j_pack(c, root, name, p);
out:
	json_decref(root);
	free(clean);
	c->text = NULL;
	c->len = 0;
	return r;
}

/* ---- public API ----------------------------------------------------------- */

void mm_pack_free(struct mm_pack *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nqueries; i++) {
		struct mm_pack_query *q = &p->queries[i];
		free(q->name);
		free(q->query);
		free(q->description);
		free(q->platform);
		free(q->version);
		free(q->value);
	}
	free(p->queries);
	for (i = 0; i < p->ndiscovery; i++)
		free(p->discovery[i]);
	free(p->discovery);
	free(p->name);
	free(p->description);
	free(p->platform);
	free(p->version);
	free(p);
}

/* 1 for YAML, 0 for JSON: by the format argument, else the extension,
 * else the first non-blank byte.  -1 for an unknown format name. */
static int is_yaml(const char *format, const char *filename, const char *text, size_t len)
{
	size_t i;

	if (format != NULL) {
		if (strcmp(format, "yaml") == 0 || strcmp(format, "yml") == 0)
			return 1;
		if (strcmp(format, "conf") == 0 || strcmp(format, "json") == 0)
			return 0;
		return -1;
	}
	if (filename != NULL) {
		if (mm_endswith(filename, ".yaml") || mm_endswith(filename, ".yml"))
			return 1;
		if (mm_endswith(filename, ".conf") || mm_endswith(filename, ".json"))
			return 0;
	}
	for (i = 0; i < len && is_space(text[i]); i++)
		;
	return !(i < len && text[i] == '{');
}

int mm_pack_parse(const char *text, size_t len, const char *format, const char *filename,
                  const char *name, struct mm_pack **out, char **err)
{
	struct pctx c = {0};
	struct mm_pack *p = NULL;
	int r, yaml;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	c.file = filename != NULL ? filename : "<pack>";
	c.budget = MM_PACK_MAX_TEXT;
	if (text == NULL) { /* libyaml asserts on a NULL input */
		text = "";
		len = 0;
	}
	if (len > MM_PACK_MAX_TEXT) {
		r = perr(&c, 0, MM_ERR_TOOBIG, "larger than %u bytes", MM_PACK_MAX_TEXT);
		goto out;
	}
	if ((yaml = is_yaml(format, filename, text, len)) < 0) {
		r = perr(&c, 0, MM_ERR_PARSE, "unknown pack format '%s' (yaml or conf)", format);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = perr(&c, 0, MM_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = yaml ? yaml_parse(&c, text, len, p) : conf_parse(&c, text, len, name, p);
	if (r == 0) {
		*out = p;
		p = NULL;
	}
out:
	mm_pack_free(p);
	if (r != 0 && err != NULL)
		*err = c.err != NULL ? c.err : strdup(mm_strerror(r));
	else
		free(c.err);
	return r;
}

int mm_pack_load(const char *path, struct mm_pack **out, char **err)
{
	char *data = NULL, *name = NULL;
	const char *base;
	size_t len, n;
	struct mm_buf b;
	int r;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	mm_buf_init(&b, MSG_CAP);
	r = mm_read_file(path, MM_PACK_MAX_TEXT, &data, &len);
	if (r == MM_ERR_TOOBIG)
		mm_buf_addf(&b, "%s: larger than %u bytes", path, MM_PACK_MAX_TEXT);
	else if (r == MM_ERR_NOTFOUND)
		mm_buf_addf(&b, "%s: no such file", path);
	else if (r != 0)
		mm_buf_addf(&b, "%s: cannot read the file (%s)", path, mm_strerror(r));
	if (r != 0)
		goto out;
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	n = strlen(base);
	if (mm_endswith(base, ".conf") || mm_endswith(base, ".json"))
		n -= 5;
	if ((name = strndup(base, n)) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	r = mm_pack_parse(data, len, NULL, path, name, out, err);
out:
	if (r != 0 && err != NULL && *err == NULL)
		*err = b.len > 0 ? mm_buf_take(&b) : strdup(mm_strerror(r));
	mm_buf_free(&b);
	free(data);
	free(name);
	return r;
}

/* Checks one statement of pack P; what names it in messages. */
static int check_sql(struct mm_engine *e, const char *pack, const char *what, const char *sql,
                     char **err)
{
	sqlite3_stmt *st = NULL, *st2 = NULL;
	const char *tail = NULL;
	char *m = NULL;
	struct mm_buf b;
	int r;

	mm_buf_init(&b, MSG_CAP);
	if ((r = mm_engine_prepare(e, sql, &st, &tail, &m)) != 0) {
		mm_buf_addf(&b, "pack %s, query %s: %s", pack, what,
		            m != NULL ? m : mm_strerror(r));
		goto out;
	}
	if (st == NULL) {
		r = MM_ERR_SQL;
		mm_buf_addf(&b, "pack %s, query %s: no SQL statement (only comments)", pack, what);
		goto out;
	}
	if (tail != NULL && *tail != '\0') {
		sqlite3_free(m);
		m = NULL;
		if (mm_engine_prepare(e, tail, &st2, NULL, &m) != 0 || st2 != NULL) {
			r = MM_ERR_SQL;
			mm_buf_addf(
			    &b, "pack %s, query %s: more than one SQL statement (one per query)",
			    pack, what);
			goto out;
		}
	}
	r = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(st2);
	sqlite3_free(m);
	if (r != 0 && err != NULL)
		*err = mm_buf_take(&b);
	mm_buf_free(&b);
	return r;
}

int mm_pack_validate(const struct mm_pack *p, struct mm_engine *e, char **err)
{
	char what[32];
	size_t i;
	int r;

	if (err != NULL)
		*err = NULL;
	for (i = 0; i < p->ndiscovery; i++) {
		snprintf(what, sizeof(what), "discovery[%zu]", i);
		if ((r = check_sql(e, p->name, what, p->discovery[i], err)) != 0)
			return r;
	}
	for (i = 0; i < p->nqueries; i++)
		if ((r = check_sql(e, p->name, p->queries[i].name, p->queries[i].query, err)) != 0)
			return r;
	return 0;
}

int mm_pack_platform_ok(const char *platform)
{
	static const char *const ours[] = {"linux", "posix", "all", "any"};
	const char *s = platform, *end;
	size_t n, i;
	int any = 0;

	if (s == NULL)
		return 1;
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		for (end = s; *end != '\0' && *end != ',' && *end != ' ' && *end != '\t'; end++)
			;
		n = (size_t)(end - s);
		if (n == 0)
			break;
		any = 1;
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			if (strlen(ours[i]) == n && strncasecmp(s, ours[i], n) == 0)
				return 1;
		s = end;
	}
	return !any;
}

/* Adds key: value to o when value is set; consumes value.  Returns 0 or -1. */
static int jset(json_t *o, const char *key, json_t *value)
{
	return value != NULL ? json_object_set_new(o, key, value) : -1;
}

static int jset_str(json_t *o, const char *key, const char *s)
{
	return s != NULL ? jset(o, key, json_string(s)) : 0;
}

json_t *mm_pack_to_json(const struct mm_pack *p)
{
	json_t *o = json_object(), *qs = json_object(), *d = NULL;
	size_t i;

	if (o == NULL || qs == NULL)
		goto fail;
	if (jset_str(o, "description", p->description) != 0 ||
	    jset_str(o, "platform", p->platform) != 0 || jset_str(o, "version", p->version) != 0 ||
	    (p->shard != 0 && jset(o, "shard", json_integer(p->shard)) != 0))
		goto fail;
	if (p->ndiscovery > 0) {
		if ((d = json_array()) == NULL)
			goto fail;
		for (i = 0; i < p->ndiscovery; i++)
			if (json_array_append_new(d, json_string(p->discovery[i])) != 0)
				goto fail;
		if (json_object_set_new(o, "discovery", d) != 0) {
			d = NULL;
			goto fail;
		}
		d = NULL;
	}
	for (i = 0; i < p->nqueries; i++) {
		const struct mm_pack_query *q = &p->queries[i];
		json_t *jq = json_object();

		if (jq == NULL || json_object_set_new(qs, q->name, jq) != 0)
			goto fail;
		if (jset(jq, "query", json_string(q->query)) != 0 ||
		    jset(jq, "interval", json_integer(q->interval)) != 0 ||
		    jset(jq, "snapshot", json_boolean(q->snapshot)) != 0 ||
		    jset(jq, "removed", json_boolean(q->removed)) != 0 ||
		    jset_str(jq, "description", q->description) != 0 ||
		    jset_str(jq, "platform", q->platform) != 0 ||
		    jset_str(jq, "version", q->version) != 0 ||
		    (q->shard != 0 && jset(jq, "shard", json_integer(q->shard)) != 0) ||
		    jset_str(jq, "value", q->value) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "queries", qs) != 0) {
		qs = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(d);
	json_decref(qs);
	json_decref(o);
	return NULL;
}

int mm_pack_from_json(const json_t *j, const char *name, struct mm_pack **out, char **err)
{
	struct pctx c = {0};
	struct mm_pack *p = NULL;
	const json_t *jn;
	int r;

	*out = NULL;
	if (err != NULL)
		*err = NULL;
	c.budget = MM_PACK_MAX_TEXT;
	c.pname = name;
	if (c.pname == NULL && (jn = json_object_get(j, "name")) != NULL && json_is_string(jn))
		c.pname = json_string_value(jn);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = perr(&c, 0, MM_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = j_pack(&c, j, name, p)) == 0) {
		*out = p;
		p = NULL;
	}
out:
	mm_pack_free(p);
	if (r != 0 && err != NULL)
		*err = c.err != NULL ? c.err : strdup(mm_strerror(r));
	else
		free(c.err);
	return r;
}
