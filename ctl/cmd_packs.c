/*
 * cmd_packs.c - `mamorictl packs apply|list|show|delete` (/api/v1/packs).
 *
 * `packs apply` sends every file in ONE request, so the coordinator
 * validates them all and stores them in one transaction: one bad query and
 * nothing changes.  A directory contributes its *.yaml, *.yml and *.conf
 * files (not hidden ones, not sub-directories) sorted by name.  The format
 * follows the extension; a .conf (osquery JSON) pack is named after its file
 * without the extension, a YAML pack carries its own name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"
#include "util.h"

#define MAX_FILE_ARGS 64
#define MAX_PACK_FILES 1000
#define PACK_FILE_CAP (4u << 20)   /* as agent/pack.h */
#define PACK_TOTAL_CAP (64u << 20)

/* The pack format for a file name: "yaml", "conf", or NULL. */
static const char *pack_format(const char *name)
{
	if (mm_endswith(name, ".yaml") || mm_endswith(name, ".yml"))
		return "yaml";
	if (mm_endswith(name, ".conf") || mm_endswith(name, ".json"))
		return "conf";
	return NULL;
}

/* What a directory contributes (a single file may also be .json). */
static const char *const pack_dir_exts[] = { ".yaml", ".yml", ".conf", NULL };

/* One element of the request: {"format", "filename", "name" (conf), "source"}.
 * *total counts the bytes read.  Returns 0 or an exit code. */
static int pack_entry(const char *path, size_t *total, json_t *packs)
{
	const char *fmt = pack_format(path), *base = strrchr(path, '/');
	char *name;
	json_t *e, *src;
	int r;

	base = base != NULL ? base + 1 : path;
	if ((r = ctl_read_upload(path, PACK_FILE_CAP, total, PACK_TOTAL_CAP, "pack", &src)) != 0)
		return r;
	e = json_object();
	json_object_set_new(e, "format", json_string(fmt));
	json_object_set_new(e, "filename", json_string(path));
	if (strcmp(fmt, "conf") == 0) {
		name = xasprintf("%.*s", (int)(strrchr(base, '.') - base), base);
		json_object_set_new(e, "name", json_string(name));
		free(name);
	}
	json_object_set_new(e, "source", src);
	json_array_append_new(packs, e);
	return 0;
}

int ctl_cmd_packs_apply(struct ctl *c, int argc, char **argv)
{
	const char *args[MAX_FILE_ARGS];
	int nargs = 0;
	const struct ctl_opt opts[] = {
		{ "-f", NULL, NULL, args, &nargs, MAX_FILE_ARGS },
		{ "--file", NULL, NULL, args, &nargs, MAX_FILE_ARGS },
		{ NULL },
	};
	char **files = NULL;
	int nfiles = 0, npos, i, r = CTL_EXIT_FAIL;
	json_t *body = NULL, *packs, *resp = NULL, *applied;
	struct ctl_grid *g = NULL;
	struct stat st;
	size_t total = 0, k;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s' (files go after -f)", argv[0]);
	if (nargs == 0)
		return ctl_usage_error(c, "which packs? give -f FILE or -f DIR");
	for (i = 0; i < nargs; i++) {
		if (stat(args[i], &st) != 0) {
			r = ctl_fail("cannot read %s: %s", args[i], strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if ((r = ctl_collect_files(c, args[i], pack_dir_exts, MAX_PACK_FILES, &files,
						   &nfiles)) != 0)
				goto out;
			continue;
		}
		if (pack_format(args[i]) == NULL) {
			r = ctl_usage_error(c, "%s: cannot tell the pack format; name it .yaml, .yml "
					       "or .conf",
					    args[i]);
			goto out;
		}
		if (nfiles >= MAX_PACK_FILES) {
			r = ctl_fail("more than %d pack files", MAX_PACK_FILES);
			goto out;
		}
		files = xreallocarray(files, (size_t)nfiles + 1, sizeof(char *));
		files[nfiles++] = xstrdup(args[i]);
	}
	body = json_object();
	packs = json_array();
	json_object_set_new(body, "packs", packs);
	for (i = 0; i < nfiles; i++)
		if ((r = pack_entry(files[i], &total, packs)) != 0)
			goto out;
	if ((r = ctl_call(c, "POST", "/api/v1/packs", body, &resp)) != 0)
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
	ctl_grid_add_col(g, "pack");
	ctl_grid_add_col(g, "queries");
	ctl_grid_add_col(g, "result");
	for (k = 0; k < json_array_size(applied); k++) {
		const json_t *a = json_array_get(applied, k);
		const json_t *created = json_object_get(a, "created");

		ctl_grid_row(g);
		ctl_grid_setj(g, 0, json_object_get(a, "name"), 0, 1);
		ctl_grid_setj(g, 1, json_object_get(a, "queries"), CTL_COL_COUNT, 1);
		ctl_grid_set(g, 2, json_is_boolean(created) ? (json_is_true(created) ? "created"
										       : "updated")
							    : NULL);
	}
	ctl_grid_print(g, c->format, stdout);
	r = CTL_EXIT_OK;
out:
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	json_decref(body);
	json_decref(resp);
	ctl_grid_free(g);
	return r;
}

int ctl_cmd_packs_list(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "name", NULL, 0 },
		{ "queries", NULL, CTL_COL_COUNT },
		{ "platform", NULL, 0 },
		{ "updated_at", NULL, CTL_COL_TIME },
		{ "updated_by", NULL, 0 },
		{ "description", NULL, 0 },
		{ NULL, NULL, 0 },
	};

	return ctl_list_verb(c, argc, argv, "/api/v1/packs", "packs", cols);
}

int ctl_cmd_packs_show(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = { { NULL } };
	static const char *const time_keys[] = { "created_at", "updated_at", NULL };
	static const struct {
		const char *key;
		unsigned flags;
	} qcols[] = {
		{ "interval", 0 }, { "snapshot", 0 }, { "removed", 0 }, { "platform", 0 },
		{ "description", 0 }, { "query", 0 },
	};
	json_t *resp = NULL, *pack, *head = NULL, *queries, *q;
	struct ctl_grid *g = NULL;
	char *path = NULL;
	const char *qname;
	int npos, r;
	size_t k;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 1)
		return ctl_usage_error(c, npos == 0 ? "which pack? give its name" : "expected one pack");
	if ((path = ctl_object_path("/api/v1/packs", argv[0], "pack name")) == NULL)
		return CTL_EXIT_FAIL;
	if ((r = ctl_call(c, "GET", path, NULL, &resp)) != 0)
		goto out;
	r = CTL_EXIT_FAIL;
	if ((pack = ctl_expect(resp, "pack", JSON_OBJECT)) == NULL)
		goto out;
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL) {
		ctl_print_object(pack, NULL, c->format, stdout);
		r = CTL_EXIT_OK;
		goto out;
	}
	/* table: the pack's fields, a blank line, its queries; csv: the queries. */
	queries = json_object_get(pack, "queries");
	if (c->format == CTL_FMT_TABLE) {
		head = json_deep_copy(pack);
		json_object_del(head, "queries");
		json_object_del(head, "source"); /* the file as applied: --format json has it */
		ctl_print_object(head, time_keys, c->format, stdout);
		fputc('\n', stdout);
	}
	g = ctl_grid_new();
	ctl_grid_add_col(g, "name");
	for (k = 0; k < sizeof(qcols) / sizeof(qcols[0]); k++)
		ctl_grid_add_col(g, qcols[k].key);
	if (json_is_object(queries)) {
		json_object_foreach(queries, qname, q) {
			ctl_grid_row(g);
			ctl_grid_set(g, 0, qname);
			for (k = 0; k < sizeof(qcols) / sizeof(qcols[0]); k++)
				ctl_grid_setj(g, (int)k + 1, json_object_get(q, qcols[k].key),
					      qcols[k].flags, c->format == CTL_FMT_TABLE);
		}
	}
	ctl_grid_print(g, c->format, stdout);
	r = CTL_EXIT_OK;
out:
	ctl_grid_free(g);
	json_decref(head);
	json_decref(resp);
	free(path);
	return r;
}

int ctl_cmd_packs_delete(struct ctl *c, int argc, char **argv)
{
	return ctl_delete_verb(c, argc, argv, "/api/v1/packs", "pack", "name", "deleted");
}
