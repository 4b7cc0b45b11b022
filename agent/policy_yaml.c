/*
 * policy_yaml.c - SQL-only policies in Fleet's YAML format (see policy.h
 * and docs/policies.md).  Accepted shapes, in one or more YAML documents:
 *
 *   name: ... / query: ...                    one policy
 *   policies: [ {name, query, ...}, ... ]     a list under `policies:`
 *   apiVersion: v1 / kind: policy / spec: {name, query, ...}
 *   - <any of the two mappings above>         a top-level list
 *                                             (`fleetctl get policies --yaml`)
 *
 * A policy's fields are Fleet's: name and query (required), description,
 * resolution, platform, critical; other keys (team, ...) are ignored.  The
 * id is the name made into a slug; severity is critical when `critical` is
 * true, else medium.  libyaml builds the document tree; aliases share nodes
 * and we only walk a fixed depth, so alias bombs cost nothing.
 */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "buf.h"
#include "error.h"

struct yctx {
	yaml_document_t *doc;
	const char *path;
	struct mm_policy_list *out; /* this file's policies, moved to the caller's list at the end */
	char *err;
};

static int yerr(struct yctx *c, const yaml_node_t *n, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static int yerr(struct yctx *c, const yaml_node_t *n, const char *f, ...)
{
	struct mm_buf b;
	va_list ap;

	mm_buf_init(&b, 4096);
	if (n != NULL)
		mm_buf_addf(&b, "%s:%lu: ", c->path, (unsigned long)n->start_mark.line + 1);
	else
		mm_buf_addf(&b, "%s: ", c->path);
	va_start(ap, f);
	mm_buf_vaddf(&b, f, ap);
	va_end(ap);
	c->err = mm_buf_take(&b);
	return MM_ERR_PARSE;
}

static const char *scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *map_get(struct yctx *c, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(c->doc, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(c->doc, p->value);
	}
	return NULL;
}

/* An optional string field: NULL when absent; an error when not a scalar. */
static int opt_str(struct yctx *c, yaml_node_t *m, const char *key, char **out)
{
	yaml_node_t *n = map_get(c, m, key);
	const char *v;

	*out = NULL;
	if (n == NULL)
		return 0;
	if ((v = scalar(n)) == NULL)
		return yerr(c, n, "'%s' must be a string", key);
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || v[0] == '\0'))
		return 0;
	if ((*out = strdup(v)) == NULL)
		return MM_ERR_NOMEM;
	return 0;
}

/* The name as an id: lower-case letters and digits, runs of anything else
 * as one '-', none at the ends. */
static char *slug(const char *name)
{
	size_t n = strlen(name), i, o = 0;
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	for (i = 0; i < n && o < 96; i++) {
		char ch = name[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			s[o++] = ch;
		else if (o > 0 && s[o - 1] != '-')
			s[o++] = '-';
	}
	while (o > 0 && s[o - 1] == '-')
		o--;
	s[o] = '\0';
	return s;
}

/* One policy mapping (Fleet's spec). */
static int add_policy(struct yctx *c, yaml_node_t *m)
{
	struct mm_policy *p = NULL;
	yaml_node_t *crit;
	int r;

	if (m->type != YAML_MAPPING_NODE)
		return yerr(c, m, "a policy must be a mapping with at least name and query");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return MM_ERR_NOMEM;
	p->kind = MM_POLICY_SQL;
	p->severity = MM_SEV_MEDIUM;
	if ((r = opt_str(c, m, "name", &p->title)) != 0 ||
	    (r = opt_str(c, m, "query", &p->sql)) != 0 ||
	    (r = opt_str(c, m, "description", &p->description)) != 0 ||
	    (r = opt_str(c, m, "resolution", &p->remediation)) != 0 ||
	    (r = opt_str(c, m, "platform", &p->platform)) != 0)
		goto out;
	r = MM_ERR_PARSE;
	if (p->title == NULL) {
		yerr(c, m, "the policy has no name");
		goto out;
	}
	if (p->sql == NULL) {
		yerr(c, m, "policy '%s' has no query", p->title);
		goto out;
	}
	if ((crit = map_get(c, m, "critical")) != NULL) {
		const char *v = scalar(crit);
		if (v == NULL) {
			yerr(c, crit, "'critical' must be true or false");
			goto out;
		}
		if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
		    strcasecmp(v, "on") == 0)
			p->severity = MM_SEV_CRITICAL;
		else if (strcasecmp(v, "false") != 0 && strcasecmp(v, "no") != 0 &&
			 strcasecmp(v, "off") != 0) {
			yerr(c, crit, "'critical' must be true or false (got '%s')", v);
			goto out;
		}
	}
	r = MM_ERR_NOMEM;
	if ((p->id = slug(p->title)) == NULL || (p->path = strdup(c->path)) == NULL)
		goto out;
	if (p->id[0] == '\0') {
		r = yerr(c, m, "policy name '%s' has no letters or digits to make an id of",
			 p->title);
		goto out;
	}
	if ((r = mm_policy_list_add(c->out, p)) != 0)
		goto out;
	p = NULL;
	r = 0;
out:
	mm_policy_free(p);
	return r;
}

/* A mapping that is either a Fleet spec document or a bare policy. */
static int add_mapping(struct yctx *c, yaml_node_t *m)
{
	yaml_node_t *kind = map_get(c, m, "kind"), *spec;

	if (kind == NULL && map_get(c, m, "apiVersion") == NULL)
		return add_policy(c, m);
	if (scalar(kind) == NULL || strcmp(scalar(kind), "policy") != 0)
		return yerr(c, kind != NULL ? kind : m, "kind is '%s', expected 'policy'",
			    scalar(kind) != NULL ? scalar(kind) : "(none)");
	if ((spec = map_get(c, m, "spec")) == NULL || spec->type != YAML_MAPPING_NODE)
		return yerr(c, spec != NULL ? spec : m, "a policy document needs a spec mapping");
	return add_policy(c, spec);
}

static int add_list(struct yctx *c, yaml_node_t *seq)
{
	yaml_node_item_t *it;
	int r;

	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(c->doc, *it);
		if (n == NULL || n->type != YAML_MAPPING_NODE)
			return yerr(c, n != NULL ? n : seq, "a list item must be a policy mapping");
		if ((r = add_mapping(c, n)) != 0)
			return r;
	}
	return 0;
}

static int add_document(struct yctx *c, yaml_node_t *root)
{
	yaml_node_t *list;

	switch (root->type) {
	case YAML_SCALAR_NODE:
		if (root->data.scalar.length == 0)
			return 0; /* an empty document */
		return yerr(c, root, "expected a policy mapping or a list of policies");
	case YAML_SEQUENCE_NODE:
		return add_list(c, root);
	case YAML_MAPPING_NODE:
		if ((list = map_get(c, root, "policies")) == NULL)
			return add_mapping(c, root);
		if (list->type != YAML_SEQUENCE_NODE)
			return yerr(c, list, "'policies' must be a list");
		return add_list(c, list);
	default:
		return yerr(c, root, "expected a policy mapping or a list of policies");
	}
}

int mm_policy_parse_yaml(const char *path, const char *buf, size_t len,
			 struct mm_policy_list *list, char **err)
{
	struct mm_policy_list mine = { NULL, 0, 0 };
	struct yctx c = { NULL, path, &mine, NULL };
	yaml_parser_t parser;
	yaml_document_t doc;
	size_t i;
	int r = MM_ERR_NOMEM;

	*err = NULL;
	if (!yaml_parser_initialize(&parser)) {
		*err = strdup("out of memory");
		return MM_ERR_NOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_node_t *root;
		if (!yaml_parser_load(&parser, &doc)) {
			struct mm_buf b;
			mm_buf_init(&b, 4096);
			mm_buf_addf(&b, "%s:%lu: %s", path,
				    (unsigned long)parser.problem_mark.line + 1,
				    parser.problem != NULL ? parser.problem : "bad YAML");
			if (parser.context != NULL)
				mm_buf_addf(&b, " (%s, line %lu)", parser.context,
					    (unsigned long)parser.context_mark.line + 1);
			c.err = mm_buf_take(&b);
			r = parser.error == YAML_MEMORY_ERROR ? MM_ERR_NOMEM : MM_ERR_PARSE;
			goto out;
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		c.doc = &doc;
		r = add_document(&c, root);
		yaml_document_delete(&doc);
		if (r != 0)
			goto out;
	}
	if (mine.n == 0) {
		r = MM_ERR_PARSE;
		c.err = NULL;
		{
			struct mm_buf b;
			mm_buf_init(&b, 4096);
			mm_buf_addf(&b, "%s: no policies found (expected name and query)", path);
			c.err = mm_buf_take(&b);
		}
		goto out;
	}
	for (i = 0; i < mine.n; i++) {
		if ((r = mm_policy_list_add(list, mine.v[i])) != 0) {
			/* Take back what was moved so the caller's list is as before. */
			list->n -= i;
			goto out;
		}
	}
	free(mine.v);
	mine.v = NULL;
	mine.n = 0;
	r = 0;
out:
	yaml_parser_delete(&parser);
	mm_policy_list_free(&mine);
	if (r != 0)
		*err = c.err != NULL ? c.err : strdup("out of memory");
	else
		free(c.err);
	return r;
}
