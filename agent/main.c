/*
 * main.c - `mamori`, the agent: the verb table and shared option parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "strutil.h"
#include "version.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct mm_verb verbs[] = {
	{ "query", "[--format table|json|jsonl|csv|line] [--root DIR] [limits] SQL",
	  "run one SQL statement and print its rows", mm_cmd_query },
	{ "shell", "[--root DIR] [limits]", "interactive SQL shell", mm_cmd_shell },
	{ "check", "[--format table|json|jsonl] [--root DIR] [limits] PATH...",
	  "evaluate policies (.lua/.yaml files or directories of them)", mm_cmd_check },
	{ "pack",
	  "run [--format table|json|jsonl|csv] [--root DIR] [--query NAME] FILE | check PATH...",
	  "run a query pack once, or parse and validate packs", mm_cmd_pack },
	{ "daemon", "--config FILE [--once] [--log-level L]",
	  "run as the coordinator's agent (enroll, scheduled packs, results)", mm_cmd_daemon },
	{ "tables", "", "list the tables", mm_cmd_tables },
	{ "schema", "[--json] [TABLE]", "show table columns", mm_cmd_schema },
	{ "docs", "", "print docs/tables.md (generated from the table descriptors)", mm_cmd_docs },
	{ "version", "", "print the version", cmd_version },
	{ "help", "", "this help", cmd_help },
	{ NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	int i;

	fprintf(f, "usage: mamori VERB [ARGS]\n\nverbs:\n");
	for (i = 0; verbs[i].name != NULL; i++)
		fprintf(f, "  %-8s %s\n           %s\n", verbs[i].name, verbs[i].usage,
			verbs[i].summary);
	fprintf(f, "\nlimits (query, shell, check):\n"
		   "  --time-limit D     stop a statement or policy after D (default %ds; e.g. 500ms, 30s, 0 = none)\n"
		   "  --memory-limit S   heap limit for the process (default %lldM; e.g. 64M, 0 = none)\n"
		   "  --root DIR         read host state under DIR instead of / (a mounted image, a fixture)\n",
		MM_DEFAULT_TIME_LIMIT_MS / 1000, (long long)(MM_DEFAULT_HEAP_LIMIT >> 20));
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("mamori %s\n", MM_VERSION);
	return MM_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return MM_EXIT_OK;
}

int mm_parse_engine_arg(int argc, char **argv, int *i, struct mm_engine_args *a)
{
	const char *opt = argv[*i], *val;
	int64_t v;

	if (strcmp(opt, "--root") != 0 && strcmp(opt, "--time-limit") != 0 &&
	    strcmp(opt, "--memory-limit") != 0 && strcmp(opt, "--format") != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "mamori: %s needs a value\n", opt);
		return -1;
	}
	val = argv[++*i];
	if (strcmp(opt, "--root") == 0) {
		a->root = val;
	} else if (strcmp(opt, "--format") == 0) {
		if (mm_format_parse(val, &a->format) != 0) {
			fprintf(stderr, "mamori: unknown format '%s' (table, json, jsonl, csv, line)\n",
				val);
			return -1;
		}
		a->format_set = 1;
	} else if (strcmp(opt, "--time-limit") == 0) {
		if (mm_parse_duration_ms(val, &v) != 0) {
			fprintf(stderr, "mamori: --time-limit: bad duration '%s' (e.g. 500ms, 10s)\n",
				val);
			return -1;
		}
		a->time_limit_ms = v == 0 ? -1 : v;
	} else {
		if (mm_parse_size(val, &v) != 0) {
			fprintf(stderr, "mamori: --memory-limit: bad size '%s' (e.g. 64M, 1G)\n", val);
			return -1;
		}
		a->heap_limit = v == 0 ? -1 : v;
	}
	return 1;
}

struct mm_engine *mm_open_engine(const struct mm_engine_args *a, int shell)
{
	struct mm_engine_opts o = { 0 };
	struct mm_engine *e = NULL;
	char *err = NULL;

	o.root = a->root;
	o.time_limit_ms = a->time_limit_ms;
	o.heap_limit = a->heap_limit;
	o.shell = shell;
	if (mm_engine_new(&o, &e, &err) != 0) {
		fprintf(stderr, "mamori: %s\n", err != NULL ? err : "cannot open the SQL engine");
		sqlite3_free(err);
		return NULL;
	}
	return e;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		usage(stderr);
		return MM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return MM_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	for (i = 0; verbs[i].name != NULL; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "mamori: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return MM_EXIT_USAGE;
}
