/*
 * labels_yaml.c - label files (YAML) to the JSON labels of POST
 * /api/v1/labels (labels_yaml.h).  libyaml loads each document; the tree
 * becomes JSON (every scalar a string); then the labels are picked out and
 * their keys checked.  Messages point at the line of the node concerned.
 */
#include <string.h>

#include <yaml.h>

#include "error.h"
#include "labels_yaml.h"
#include "util.h"

#define KEY_SHOWN 40 /* bytes of a key quoted in a message */

/* What to_json found wrong, and where. */
struct fault {
	const char *why;
	size_t line;             /* 1-based */
	char key[KEY_SHOWN + 4]; /* the key concerned, "" = none (shown as "KEY: why") */
};

static size_t line_of(const yaml_node_t *n)
{
	return n != NULL ? n->start_mark.line + 1 : 0;
}

/* Copies key into f->key fit for a one-line message: at most KEY_SHOWN
 * bytes, anything but printable ASCII as '?', "..." when cut. */
static void fault_key(struct fault *f, const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i < KEY_SHOWN; i++)
		f->key[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	if (key[i] != '\0') {
		memcpy(f->key + i, "...", 3);
		i += 3;
	}
	f->key[i] = '\0';
}

/* A YAML node as JSON: every scalar a string.  *budget counts down the
 * values made (an alias is expanded each time it is used, so a small file
 * could otherwise stand for billions of them).  NULL with *f set when the
 * tree is deeper than CTL_LABELS_DEPTH_MAX, larger than the budget, a key
 * is not a scalar, or a mapping has a key twice (compared as JSON keys are
 * made: as C strings, cut at a NUL). */
static json_t *to_json(yaml_document_t *doc, yaml_node_t *n, int depth, size_t *budget,
                       struct fault *f)
{
	json_t *j = NULL, *v;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;

	if (n == NULL || depth > CTL_LABELS_DEPTH_MAX) {
		f->why = "nested too deeply";
		if (n != NULL)
			f->line = line_of(n);
		return NULL;
	}
	if (*budget == 0) {
		f->why = "too large once its aliases are expanded";
		f->line = line_of(n);
		return NULL;
	}
	(*budget)--;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if ((j = json_stringn((const char *)n->data.scalar.value, n->data.scalar.length)) ==
		    NULL) {
			f->why = "malformed YAML";
			f->line = line_of(n);
		}
		return j;
	case YAML_SEQUENCE_NODE:
		j = json_array();
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			if ((v = to_json(doc, yaml_document_get_node(doc, *it), depth + 1, budget,
			                 f)) == NULL) {
				json_decref(j);
				return NULL;
			}
			json_array_append_new(j, v);
		}
		return j;
	case YAML_MAPPING_NODE:
		j = json_object();
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);

			if (k == NULL || k->type != YAML_SCALAR_NODE) {
				f->why = "keys must be plain words";
				f->line = k != NULL ? line_of(k) : line_of(n);
				json_decref(j);
				return NULL;
			}
			/* JSON keeps one value per key: a second one is refused, not
			 * "last one wins". */
			if (json_object_get(j, (const char *)k->data.scalar.value) != NULL) {
				f->why = "duplicate key";
				f->line = line_of(k);
				fault_key(f, (const char *)k->data.scalar.value);
				json_decref(j);
				return NULL;
			}
			if ((v = to_json(doc, yaml_document_get_node(doc, p->value), depth + 1,
			                 budget, f)) == NULL) {
				json_decref(j);
				return NULL;
			}
			/* A key holding a NUL is cut there. */
			json_object_set_new(j, (const char *)k->data.scalar.value, v);
		}
		return j;
	default:
		f->why = "unexpected YAML node";
		f->line = line_of(n);
		return NULL;
	}
}

/* The key node of mapping n whose text (as a C string, as JSON keys are
 * made) is key: the last one when asked for the value that JSON kept, the
 * first one for where the key first appears.  NULL when there is none. */
static yaml_node_t *key_node(yaml_document_t *doc, yaml_node_t *n, const char *key, int last,
                             yaml_node_t **value)
{
	yaml_node_pair_t *p;
	yaml_node_t *found = NULL;

	if (value != NULL)
		*value = NULL;
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k == NULL || k->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)k->data.scalar.value, key) != 0)
			continue;
		found = k;
		if (value != NULL)
			*value = yaml_document_get_node(doc, p->value);
		if (!last)
			break;
	}
	return found;
}

/* Item i of sequence n, or n itself when there is no such item. */
static yaml_node_t *seq_item(yaml_document_t *doc, yaml_node_t *n, size_t i)
{
	yaml_node_t *it = NULL;

	if (n->type == YAML_SEQUENCE_NODE &&
	    i < (size_t)(n->data.sequence.items.top - n->data.sequence.items.start))
		it = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
	return it != NULL ? it : n;
}

/* Checks one label l (made from YAML node n) of file and appends it to out.
 * Returns 0, or MM_ERR_PARSE with *err. */
static int add_label(const char *file, yaml_document_t *doc, yaml_node_t *n, json_t *l, json_t *out,
                     char **err)
{
	static const char *const keys[] = {"name", "description", "query", "hosts", NULL};
	const char *k, *name;
	json_t *v;
	size_t i;

	if (!json_is_object(l)) {
		*err = xasprintf("%s:%zu: a label is a mapping with name, and query or hosts", file,
		                 line_of(n));
		return MM_ERR_PARSE;
	}
	name = json_string_value(json_object_get(l, "name"));
	json_object_foreach(l, k, v)
	{
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL) {
			yaml_node_t *kn = key_node(doc, n, k, 0, NULL);

			*err = xasprintf("%s:%zu: label %s: unknown key '%s' (name, description, "
			                 "query, hosts)",
			                 file, kn != NULL ? line_of(kn) : line_of(n),
			                 name != NULL ? name : "?", k);
			return MM_ERR_PARSE;
		}
	}
	json_array_append(out, l);
	return 0;
}

/* The labels of one loaded document (root not NULL) into out.  Returns 0,
 * or MM_ERR_PARSE with *err. */
static int document_labels(const char *file, yaml_document_t *doc, yaml_node_t *root,
                           size_t *budget, json_t *out, char **err)
{
	struct fault f = {NULL, line_of(root), ""};
	json_t *j, *list;
	yaml_node_t *ln = root;
	size_t i;
	int r = 0;

	if ((j = to_json(doc, root, 0, budget, &f)) == NULL) {
		*err =
		    xasprintf("%s:%zu: %s%s%s", file, f.line, f.key, f.key[0] != '\0' ? ": " : "",
		              f.why != NULL ? f.why : "malformed YAML");
		return MM_ERR_PARSE;
	}
	list = j;
	if (json_is_object(j) && json_object_get(j, "labels") != NULL) {
		list = json_object_get(j, "labels");
		key_node(doc, root, "labels", 1, &ln);
		if (ln == NULL)
			ln = root;
	}
	if (json_is_array(list)) {
		/* ln is the sequence list was made from, item for item. */
		for (i = 0; r == 0 && i < json_array_size(list); i++)
			r = add_label(file, doc, seq_item(doc, ln, i), json_array_get(list, i), out,
			              err);
	} else if (json_is_object(list) && json_object_size(list) > 0 && list == j) {
		r = add_label(file, doc, root, list, out, err);
	} else {
		*err = xasprintf("%s:%zu: expected a label, a list of labels or labels: [...]",
		                 file, line_of(ln));
		r = MM_ERR_PARSE;
	}
	json_decref(j);
	return r;
}

int ctl_labels_parse(const char *file, const char *text, size_t len, json_t **labels, char **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *out = NULL;
	size_t ndocs = 0, budget = CTL_LABELS_NODES_MAX;
	int r = MM_ERR_NOMEM, done = 0, parser_set = 0;

	*labels = NULL;
	*err = NULL;
	if (yaml_parser_initialize(&parser))
		parser_set = 1;
	if (!parser_set || (out = json_array()) == NULL) {
		*err = xasprintf("%s: out of memory", file);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	r = 0;
	/* Bounded by the text: each round consumes a document. */
	while (r == 0 && !done) {
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			*err = xasprintf(
			    "%s:%lu: %s", file, (unsigned long)parser.problem_mark.line + 1,
			    parser.problem != NULL ? parser.problem : "malformed YAML");
			r = MM_ERR_PARSE;
			break;
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			done = 1;
		} else {
			ndocs++;
			r = document_labels(file, &doc, root, &budget, out, err);
		}
		yaml_document_delete(&doc);
	}
	if (r == 0 && ndocs == 0) {
		*err = xasprintf("%s: no label in it", file);
		r = MM_ERR_PARSE;
	}
	if (r == 0) {
		*labels = out;
		out = NULL;
	}
out:
	if (parser_set)
		yaml_parser_delete(&parser);
	json_decref(out);
	return r;
}
