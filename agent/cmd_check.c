/*
 * cmd_check.c - `mamori check PATH...`: loads policies (Lua files, Fleet
 * YAML files, or directories of them), evaluates each on the host (or on
 * --root DIR) and prints one verdict per policy, most severe first, then by
 * id.  Exit 0 when every verdict is pass or not_applicable, 1 when any is
 * fail or error, 2 on usage errors and on policies that do not load (all
 * load errors are printed before anything runs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "fileio.h"
#include "policy.h"
#include "strutil.h"

#define MAX_DIR_ENTRIES 10000

/* Loads one path (a file, or every policy file directly in a directory, in
 * name order).  Prints each load error; returns the number of them. */
static int load_path(const char *path, const struct mm_policy_limits *lim,
		     struct mm_policy_list *list)
{
	static const char *const exts[] = {".lua", ".yaml", ".yml", NULL};
	struct stat st;
	char **names = NULL, *err = NULL;
	size_t n = 0, i;
	int bad = 0, r;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		if (mm_policy_load_file(path, lim, list, &err) != 0) {
			fprintf(stderr, "mamori check: %s\n", err != NULL ? err : path);
			bad = 1;
		}
		free(err);
		return bad;
	}
	r = mm_dir_files(path, exts, MAX_DIR_ENTRIES, &names, &n);
	if (r == MM_ERR_IO) {
		fprintf(stderr, "mamori check: %s: cannot open the directory\n", path);
		return 1;
	}
	if (r == MM_ERR_LIMIT)
		fprintf(stderr, "mamori check: %s: more than %d policy files\n", path,
			MAX_DIR_ENTRIES);
	else if (r == MM_ERR_NOMEM)
		fprintf(stderr, "mamori check: %s: out of memory\n", path);
	else if (n == 0)
		fprintf(stderr, "mamori check: %s: no policy files (.lua, .yaml, .yml)\n", path);
	if (r != 0 || n == 0)
		bad++;
	for (i = 0; i < n; i++) {
		if (mm_policy_load_file(names[i], lim, list, &err) != 0) {
			fprintf(stderr, "mamori check: %s\n", err != NULL ? err : names[i]);
			bad++;
		}
		free(err);
		err = NULL;
	}
	mm_dir_files_free(names, n);
	return bad;
}

static int cmp_policy_id(const void *a, const void *b)
{
	const struct mm_policy *x = *(const struct mm_policy *const *)a;
	const struct mm_policy *y = *(const struct mm_policy *const *)b;

	return strcmp(x->id, y->id);
}

static int cmp_verdict(const void *a, const void *b)
{
	const struct mm_verdict *x = *(const struct mm_verdict *const *)a;
	const struct mm_verdict *y = *(const struct mm_verdict *const *)b;

	if (x->severity != y->severity)
		return (int)x->severity - (int)y->severity;
	return strcmp(x->id, y->id);
}

/* Display width of UTF-8 text: code points, not bytes. */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void rule(FILE *out, const size_t *w, int ncols)
{
	int i;
	size_t j;

	for (i = 0; i < ncols; i++) {
		fputc('+', out);
		for (j = 0; j < w[i] + 2; j++)
			fputc('-', out);
	}
	fputs("+\n", out);
}

/* One cell, with control characters shown as spaces to keep one line. */
static void cell(FILE *out, const char *s, size_t w)
{
	size_t n = width(s);

	fputs("| ", out);
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
	for (; n < w; n++)
		fputc(' ', out);
	fputc(' ', out);
}

static void print_table(FILE *out, struct mm_verdict **v, size_t n)
{
	static const char *const heads[] = { "id", "severity", "verdict", "title", "reason" };
	size_t w[5], i, counts[4] = { 0 };
	int c;

	for (c = 0; c < 5; c++)
		w[c] = width(heads[c]);
	for (i = 0; i < n; i++) {
		const char *cols[5] = { v[i]->id, mm_severity_name(v[i]->severity),
					mm_verdict_name(v[i]->verdict), v[i]->title, v[i]->reason };
		for (c = 0; c < 5; c++)
			if (width(cols[c]) > w[c])
				w[c] = width(cols[c]);
		counts[v[i]->verdict]++;
	}
	rule(out, w, 5);
	for (c = 0; c < 5; c++)
		cell(out, heads[c], w[c]);
	fputs("|\n", out);
	rule(out, w, 5);
	for (i = 0; i < n; i++) {
		const char *cols[5] = { v[i]->id, mm_severity_name(v[i]->severity),
					mm_verdict_name(v[i]->verdict), v[i]->title, v[i]->reason };
		for (c = 0; c < 5; c++)
			cell(out, cols[c], w[c]);
		fputs("|\n", out);
	}
	if (n > 0)
		rule(out, w, 5);
	fprintf(out, "%zu %s: %zu pass, %zu fail, %zu error, %zu not applicable\n", n,
		n == 1 ? "policy" : "policies", counts[MM_VERDICT_PASS], counts[MM_VERDICT_FAIL],
		counts[MM_VERDICT_ERROR], counts[MM_VERDICT_NA]);
}

static void print_json(FILE *out, struct mm_verdict **v, size_t n, int lines)
{
	size_t i;

	if (!lines)
		fputs("[\n", out);
	for (i = 0; i < n; i++) {
		char *s = mm_verdict_to_json(v[i]);
		if (!lines)
			fputs(i ? ",\n  " : "  ", out);
		fputs(s != NULL ? s : "{}", out);
		if (lines)
			fputc('\n', out);
		free(s);
	}
	if (!lines)
		fputs(n ? "\n]\n" : "]\n", out);
}

int mm_cmd_check(int argc, char **argv)
{
	struct mm_engine_args a = { .format = MM_FMT_TABLE };
	struct mm_policy_list list = { NULL, 0, 0 };
	struct mm_policy_limits lim = { 0 };
	struct mm_policy **byid = NULL;
	struct mm_verdict **verdicts = NULL;
	struct mm_engine *e = NULL;
	const char **paths = NULL;
	size_t npaths = 0, i, nv = 0;
	int ai, r, bad = 0, rc = MM_EXIT_USAGE;

	if ((paths = calloc((size_t)argc, sizeof(*paths))) == NULL)
		goto out;
	for (ai = 1; ai < argc; ai++) {
		if ((r = mm_parse_engine_arg(argc, argv, &ai, &a)) < 0)
			goto out;
		if (r > 0)
			continue;
		if (strcmp(argv[ai], "--") == 0) {
			for (ai++; ai < argc; ai++)
				paths[npaths++] = argv[ai];
		} else if (argv[ai][0] == '-' && argv[ai][1] != '\0') {
			fprintf(stderr, "mamori check: unknown option '%s'\n", argv[ai]);
			goto out;
		} else {
			paths[npaths++] = argv[ai];
		}
	}
	if (a.format != MM_FMT_TABLE && a.format != MM_FMT_JSON && a.format != MM_FMT_JSONL) {
		fprintf(stderr, "mamori check: --format must be table, json or jsonl\n");
		goto out;
	}
	if (npaths == 0) {
		fprintf(stderr, "usage: mamori check [--format table|json|jsonl] [--root DIR] "
				"[--time-limit D] PATH...\n");
		goto out;
	}
	lim.time_limit_ms = a.time_limit_ms;
	for (i = 0; i < npaths; i++)
		bad += load_path(paths[i], &lim, &list);
	if (bad == 0 && list.n > 1) {
		if ((byid = malloc(list.n * sizeof(*byid))) == NULL)
			goto out;
		memcpy(byid, list.v, list.n * sizeof(*byid));
		qsort(byid, list.n, sizeof(*byid), cmp_policy_id);
		for (i = 1; i < list.n; i++)
			if (strcmp(byid[i - 1]->id, byid[i]->id) == 0) {
				fprintf(stderr, "mamori check: duplicate policy id '%s' (%s and %s)\n",
					byid[i]->id, byid[i - 1]->path, byid[i]->path);
				bad++;
			}
	}
	if (bad > 0)
		goto out;
	rc = MM_EXIT_FAIL;
	if ((e = mm_open_engine(&a, 0)) == NULL)
		goto out;
	if ((verdicts = calloc(list.n + 1, sizeof(*verdicts))) == NULL)
		goto out;
	for (i = 0; i < list.n; i++) {
		if (mm_policy_eval(list.v[i], e, &lim, &verdicts[nv]) != 0) {
			fprintf(stderr, "mamori check: out of memory\n");
			goto out;
		}
		nv++;
	}
	qsort(verdicts, nv, sizeof(*verdicts), cmp_verdict);
	if (a.format == MM_FMT_TABLE)
		print_table(stdout, verdicts, nv);
	else
		print_json(stdout, verdicts, nv, a.format == MM_FMT_JSONL);
	rc = MM_EXIT_OK;
	for (i = 0; i < nv; i++)
		if (verdicts[i]->verdict == MM_VERDICT_FAIL || verdicts[i]->verdict == MM_VERDICT_ERROR)
			rc = MM_EXIT_FAIL;
	if (fflush(stdout) != 0)
		rc = MM_EXIT_FAIL;
out:
	for (i = 0; i < nv; i++)
		mm_verdict_free(verdicts[i]);
	free(verdicts);
	free(byid);
	mm_engine_free(e);
	mm_policy_list_free(&list);
	free(paths);
	return rc;
}
