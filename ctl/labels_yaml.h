/*
 * labels_yaml.h - the label file reader of `mamorictl labels apply`
 * (ctl/cmd_labels.c): YAML text in memory to the JSON array that goes in
 * the body of POST /api/v1/labels.  Kept apart from the verb so that
 * tests/fuzz/fuzz_labels_yaml.c can call it on arbitrary bytes.
 *
 * A label file is YAML: one label (a mapping with name, description, and
 * either query, for a dynamic label, or hosts, for a manual one), a list of
 * them, or a mapping whose `labels` key holds the list; several documents
 * (---) may follow each other.  Every scalar becomes a JSON string; the
 * coordinator checks names, types and targets (docs/live-queries.md).  A
 * key given twice in one mapping is an error, never "last one wins".
 */
#ifndef MM_CTL_LABELS_YAML_H
#define MM_CTL_LABELS_YAML_H

#include <stddef.h>

#include <jansson.h>

#define CTL_LABELS_DEPTH_MAX 16         /* nesting of YAML collections */
#define CTL_LABELS_NODES_MAX (1u << 20) /* JSON values made from one file, aliases expanded */

/* Parses the label file named file (used in messages only) whose text is
 * the len bytes at text (no NUL needed).
 * On success returns 0 with *labels a new JSON array of the file's labels
 * in order (each an object with no keys but name, description, query and
 * hosts; it may be empty when the file says `labels: []`) and *err NULL.
 * Else returns MM_ERR_PARSE with *labels NULL and *err a malloc'ed message
 * "FILE:LINE: what" (the line of the node concerned, e.g. "FILE:LINE:
 * KEY: duplicate key" at the second of two equal keys of one mapping, KEY
 * cut to 40 bytes with anything but printable ASCII shown as '?'; only
 * "FILE: no label in it" for a file without any document, and "FILE: out
 * of memory" with MM_ERR_NOMEM when the parser cannot be set up).  Never
 * both, never neither.  Bounds: CTL_LABELS_DEPTH_MAX, CTL_LABELS_NODES_MAX
 * (an alias cannot blow the file up); the caller caps len. */
int ctl_labels_parse(const char *file, const char *text, size_t len, json_t **labels, char **err);

#endif
