/*
 * cmd_policies.c - `mamorictl policies apply|list|show|delete`
 * (/api/v1/policies) and `mamorictl compliance` (/api/v1/compliance).
 *
 * `policies apply` sends every file in ONE request: the coordinator compiles
 * each Lua policy, checks its metadata and prepares its queries, and stores
 * them all in one transaction, or none.  A directory contributes its *.lua,
 * *.yaml and *.yml files (not hidden ones, not sub-directories), sorted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"
#include "util.h"

#define MAX_FILE_ARGS 64
#define MAX_POLICY_FILES 1000
#define POLICY_FILE_CAP (1u << 20) /* as agent/policy.h's MM_POLICY_FILE_CAP */
#define POLICY_TOTAL_CAP (32u << 20)

static const char *const policy_exts[] = { ".lua", ".yaml", ".yml", NULL };

/* {"filename": base name, "source": text}.  Returns 0 or an exit code. */
static int policy_entry(const char *path, size_t *total, json_t *arr)
{
	const char *base = strrchr(path, '/');
	json_t *src;
	int r;

	base = base != NULL ? base + 1 : path;
	if ((r = ctl_read_upload(path, POLICY_FILE_CAP, total, POLICY_TOTAL_CAP, "policy",
				 &src)) != 0)
		return r;
	json_array_append_new(arr, json_pack("{s:s,s:o}", "filename", base, "source", src));
	return 0;
}

int ctl_cmd_policies_apply(struct ctl *c, int argc, char **argv)
{
	const char *args[MAX_FILE_ARGS];
	int nargs = 0;
	const struct ctl_opt opts[] = {
		{ "-f", NULL, NULL, args, &nargs, MAX_FILE_ARGS },
		{ "--file", NULL, NULL, args, &nargs, MAX_FILE_ARGS },
		{ NULL },
	};
	static const struct ctl_col cols[] = {
		{ "policy", NULL, 0 }, { "kind", NULL, 0 }, { "filename", NULL, 0 },
		{ "created", NULL, 0 }, { NULL, NULL, 0 },
	};
	char **files = NULL;
	int nfiles = 0, npos, i, r = CTL_EXIT_FAIL;
	json_t *body = NULL, *arr, *resp = NULL, *applied;
	size_t total = 0;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s' (files go after -f)", argv[0]);
	if (nargs == 0)
		return ctl_usage_error(c, "which policies? give -f FILE or -f DIR");
	for (i = 0; i < nargs; i++)
		if ((r = ctl_collect_files(c, args[i], policy_exts, MAX_POLICY_FILES, &files,
					   &nfiles)) != 0)
			goto out;
	body = json_object();
	arr = json_array();
	json_object_set_new(body, "policies", arr);
	for (i = 0; i < nfiles; i++)
		if ((r = policy_entry(files[i], &total, arr)) != 0)
			goto out;
	if ((r = ctl_call(c, "POST", "/api/v1/policies", body, &resp)) != 0)
		goto out;
	r = CTL_EXIT_FAIL;
	if ((applied = ctl_expect(resp, "applied", JSON_ARRAY)) != NULL) {
		ctl_print_list(applied, cols, c->format, stdout);
		r = CTL_EXIT_OK;
	}
out:
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	json_decref(body);
	json_decref(resp);
	return r;
}

int ctl_cmd_policies_list(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "policy", NULL, 0 }, { "severity", NULL, 0 }, { "kind", NULL, 0 },
		{ "interval", NULL, 0 }, { "updated_at", NULL, CTL_COL_TIME },
		{ "title", NULL, 0 }, { NULL, NULL, 0 },
	};

	return ctl_list_verb(c, argc, argv, "/api/v1/policies", "policies", cols);
}

int ctl_cmd_policies_show(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = { { NULL } };
	static const char *const time_keys[] = { "created_at", "updated_at", NULL };
	json_t *resp = NULL, *p;
	char *path;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 1)
		return ctl_usage_error(c, "which policy? give its id");
	if ((path = ctl_object_path("/api/v1/policies", argv[0], "policy id")) == NULL)
		return CTL_EXIT_FAIL;
	if ((r = ctl_call(c, "GET", path, NULL, &resp)) == 0) {
		r = CTL_EXIT_FAIL;
		if ((p = ctl_expect(resp, "policy", JSON_OBJECT)) != NULL) {
			if (c->format == CTL_FMT_TABLE)
				json_object_del(p, "source"); /* --format json has it */
			ctl_print_object(p, time_keys, c->format, stdout);
			r = CTL_EXIT_OK;
		}
	}
	json_decref(resp);
	free(path);
	return r;
}

int ctl_cmd_policies_delete(struct ctl *c, int argc, char **argv)
{
	return ctl_delete_verb(c, argc, argv, "/api/v1/policies", "policy", "id", "deleted");
}

int ctl_cmd_compliance(struct ctl *c, int argc, char **argv)
{
	const char *policy = NULL, *host = NULL, *verdict = NULL;
	const struct ctl_opt opts[] = {
		{ "--policy", &policy }, { "--host", &host }, { "--verdict", &verdict }, { NULL },
	};
	static const struct ctl_col summary_cols[] = {
		{ "policy", NULL, 0 }, { "severity", NULL, 0 }, { "pass", NULL, 0 },
		{ "fail", NULL, 0 }, { "not_applicable", "na", 0 }, { "error", NULL, 0 },
		{ "percent", "pass%", 0 }, { "title", NULL, 0 }, { NULL, NULL, 0 },
	};
	static const struct ctl_col policy_cols[] = {
		{ "host_id", NULL, 0 }, { "hostname", NULL, 0 }, { "verdict", NULL, 0 },
		{ "changed_at", "since", CTL_COL_TIME }, { "reason", NULL, 0 }, { NULL, NULL, 0 },
	};
	static const struct ctl_col host_cols[] = {
		{ "policy", NULL, 0 }, { "severity", NULL, 0 }, { "verdict", NULL, 0 },
		{ "reason", NULL, 0 }, { "remediation", NULL, 0 }, { NULL, NULL, 0 },
	};
	struct mm_buf q;
	json_t *resp = NULL, *list;
	const char *key;
	const struct ctl_col *cols;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	if (policy != NULL && host != NULL)
		return ctl_usage_error(c, "give --policy or --host, not both");
	if (verdict != NULL && policy == NULL && host == NULL)
		return ctl_usage_error(c, "--verdict goes with --policy or --host");
	mm_buf_init(&q, 8192);
	if (mm_buf_adds(&q, "/api/v1/compliance") != 0 || ctl_path_query(&q, "policy", policy) != 0 ||
	    ctl_path_query(&q, "host", host) != 0 || ctl_path_query(&q, "verdict", verdict) != 0) {
		mm_buf_free(&q);
		return ctl_fail("arguments too long");
	}
	r = ctl_call(c, "GET", mm_buf_str(&q), NULL, &resp);
	mm_buf_free(&q);
	if (r != 0)
		return r;
	key = policy != NULL ? "hosts" : "policies";
	cols = policy != NULL ? policy_cols : host != NULL ? host_cols : summary_cols;
	r = CTL_EXIT_FAIL;
	if ((list = ctl_expect(resp, key, JSON_ARRAY)) != NULL) {
		ctl_print_list(list, cols, c->format, stdout);
		r = CTL_EXIT_OK;
	}
	json_decref(resp);
	return r;
}

int ctl_cmd_compliance_history(struct ctl *c, int argc, char **argv)
{
	const char *policy = NULL, *host = NULL, *limit = NULL;
	const struct ctl_opt opts[] = {
		{ "--policy", &policy }, { "--host", &host }, { "--limit", &limit }, { NULL },
	};
	static const struct ctl_col cols[] = {
		{ "time", NULL, CTL_COL_TIME }, { "hostname", NULL, 0 }, { "policy", NULL, 0 },
		{ "old_verdict", "from", 0 }, { "new_verdict", "to", 0 }, { "reason", NULL, 0 },
		{ NULL, NULL, 0 },
	};
	struct mm_buf q;
	json_t *resp = NULL, *list;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	mm_buf_init(&q, 8192);
	if (mm_buf_adds(&q, "/api/v1/compliance/history") != 0 ||
	    ctl_path_query(&q, "policy", policy) != 0 || ctl_path_query(&q, "host", host) != 0 ||
	    ctl_path_query(&q, "limit", limit) != 0) {
		mm_buf_free(&q);
		return ctl_fail("arguments too long");
	}
	r = ctl_call(c, "GET", mm_buf_str(&q), NULL, &resp);
	mm_buf_free(&q);
	if (r != 0)
		return r;
	r = CTL_EXIT_FAIL;
	if ((list = ctl_expect(resp, "history", JSON_ARRAY)) != NULL) {
		ctl_print_list(list, cols, c->format, stdout);
		r = CTL_EXIT_OK;
	}
	json_decref(resp);
	return r;
}
