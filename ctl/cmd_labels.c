/*
 * cmd_labels.c - `mamorictl labels apply|list|show|delete` (/api/v1/labels):
 * named sets of hosts that live queries target (docs/live-queries.md).
 *
 * A label file is YAML: one label (a mapping with name, description, and
 * either query, for a dynamic label, or hosts, for a manual one), a list of
 * them, or a mapping whose `labels` key holds the list; several documents
 * (---) may follow each other.  Every label of every file goes in ONE
 * request, so the coordinator checks them all and stores all or none.
 * The file format and its reader are in labels_yaml.h.
 *
 *     name: debian10
 *     description: hosts still on buster
 *     query: SELECT 1 FROM os_version WHERE major = 10
 *     ---
 *     name: mail
 *     hosts: [mail01, mail02]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "error.h"
#include "fileio.h"
#include "labels_yaml.h"
#include "util.h"

#define LABEL_FILES_MAX 64
#define LABEL_FILE_CAP  (4u << 20)

/* Reads the labels of one file into out.  Returns 0 or an exit code (the
 * problem printed). */
static int read_file(const char *path, json_t *out)
{
	json_t *labels = NULL;
	char *data = NULL, *err = NULL;
	size_t len = 0;
	int r;

	if ((r = mm_read_file(path, LABEL_FILE_CAP, &data, &len)) != 0)
		return ctl_fail("cannot read %s: %s", path,
		                r == MM_ERR_TOOBIG ? "over 4 MiB" : strerror(errno));
	if (ctl_labels_parse(path, data, len, &labels, &err) != 0) {
		r = ctl_fail("%s", err);
	} else {
		json_array_extend(out, labels);
		r = 0;
	}
	json_decref(labels);
	free(err);
	free(data);
	return r;
}

int ctl_cmd_labels_apply(struct ctl *c, int argc, char **argv)
{
	const char *files[LABEL_FILES_MAX];
	int nfiles = 0;
	const struct ctl_opt opts[] = {
	    {"-f", NULL, NULL, files, &nfiles, LABEL_FILES_MAX},
	    {"--file", NULL, NULL, files, &nfiles, LABEL_FILES_MAX},
	    {NULL},
	};
	json_t *labels = json_array(), *body = NULL, *resp = NULL, *applied, *a;
	struct ctl_grid *g = NULL;
	int npos, i, r;
	size_t k;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0) {
		r = CTL_EXIT_USAGE;
		goto out;
	}
	if (npos != 0) {
		r = ctl_usage_error(c, "unexpected argument '%s' (files go after -f)", argv[0]);
		goto out;
	}
	if (nfiles == 0) {
		r = ctl_usage_error(c, "which labels? give -f FILE");
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		if ((r = read_file(files[i], labels)) != 0)
			goto out;
	body = json_pack("{s:O}", "labels", labels);
	if ((r = ctl_call(c, "POST", "/api/v1/labels", body, &resp)) != 0)
		goto out;
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL) {
		ctl_print_object(resp, NULL, c->format, stdout);
		r = CTL_EXIT_OK;
		goto out;
	}
	r = CTL_EXIT_FAIL;
	if ((applied = ctl_expect(resp, "applied", JSON_ARRAY)) == NULL)
		goto out;
	g = ctl_grid_new();
	ctl_grid_add_col(g, "name");
	ctl_grid_add_col(g, "kind");
	ctl_grid_add_col(g, "change");
	json_array_foreach(applied, k, a)
	{
		ctl_grid_row(g);
		ctl_grid_setj(g, 0, json_object_get(a, "name"), 0, 1);
		ctl_grid_setj(g, 1, json_object_get(a, "kind"), 0, 1);
		ctl_grid_set(g, 2,
		             json_is_true(json_object_get(a, "created")) ? "created" : "updated");
	}
	ctl_grid_print(g, c->format, stdout);
	r = CTL_EXIT_OK;
out:
	ctl_grid_free(g);
	json_decref(labels);
	json_decref(body);
	json_decref(resp);
	return r;
}

static const struct ctl_col label_cols[] = {
    {"name", NULL, 0},
    {"kind", NULL, 0},
    {"members", NULL, 0},
    {"description", NULL, 0},
    {"updated_at", NULL, CTL_COL_TIME},
    {NULL, NULL, 0},
};

int ctl_cmd_labels_list(struct ctl *c, int argc, char **argv)
{
	return ctl_list_verb(c, argc, argv, "/api/v1/labels", "labels", label_cols);
}

static const struct ctl_col member_cols[] = {
    {"id", NULL, 0},     {"host_identifier", NULL, 0},  {"hostname", NULL, 0},
    {"status", NULL, 0}, {"since", NULL, CTL_COL_TIME}, {NULL, NULL, 0},
};

int ctl_cmd_labels_show(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {{NULL}};
	static const char *const time_keys[] = {"created_at", "updated_at", NULL};
	char *path;
	json_t *resp = NULL, *label, *members, *head = NULL;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 1)
		return ctl_usage_error(c, npos == 0 ? "which label? give its name"
		                                    : "expected one label");
	if ((path = ctl_object_path("/api/v1/labels", argv[0], "label name")) == NULL)
		return CTL_EXIT_FAIL;
	if ((r = ctl_call(c, "GET", path, NULL, &resp)) != 0)
		goto out;
	r = CTL_EXIT_FAIL;
	if ((label = ctl_expect(resp, "label", JSON_OBJECT)) == NULL ||
	    (members = ctl_expect(label, "members", JSON_ARRAY)) == NULL)
		goto out;
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL) {
		ctl_print_object(label, time_keys, c->format, stdout);
	} else {
		/* The label as key/value lines, then its members as a table. */
		head = json_deep_copy(label);
		json_object_del(head, "members");
		json_object_set_new(head, "hosts", json_string(""));
		if (json_array_size(json_object_get(label, "hosts")) > 0) {
			char *h = json_dumps(json_object_get(label, "hosts"), JSON_COMPACT);

			json_object_set_new(head, "hosts", json_string(h != NULL ? h : ""));
			free(h);
		} else {
			json_object_del(head, "hosts");
		}
		ctl_print_object(head, time_keys, c->format, stdout);
		printf("\n");
		ctl_print_list(members, member_cols, c->format, stdout);
	}
	r = CTL_EXIT_OK;
out:
	json_decref(head);
	json_decref(resp);
	free(path);
	return r;
}

int ctl_cmd_labels_delete(struct ctl *c, int argc, char **argv)
{
	return ctl_delete_verb(c, argc, argv, "/api/v1/labels", "label", "name", "deleted");
}
