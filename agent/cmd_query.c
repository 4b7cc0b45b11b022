/*
 * cmd_query.c - `mamori query SQL`: one-shot queries.  Every statement in
 * SQL runs in turn; the first failure prints SQLite's (or the engine's)
 * message and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int mm_cmd_query(int argc, char **argv)
{
	struct mm_engine_args a = { .format = MM_FMT_TABLE };
	struct mm_engine *e;
	const char *sql = NULL, *tail;
	int i, r, rc = MM_EXIT_OK;

	for (i = 1; i < argc; i++) {
		if ((r = mm_parse_engine_arg(argc, argv, &i, &a)) < 0)
			return MM_EXIT_USAGE;
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			sql = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "mamori query: unknown option '%s'\n", argv[i]);
			return MM_EXIT_USAGE;
		} else if (sql == NULL) {
			sql = argv[i];
		} else {
			fprintf(stderr, "mamori query: give the SQL as one argument (quote it)\n");
			return MM_EXIT_USAGE;
		}
	}
	if (sql == NULL) {
		fprintf(stderr, "usage: mamori query [--format F] [--root DIR] SQL\n");
		return MM_EXIT_USAGE;
	}
	if ((e = mm_open_engine(&a, 0)) == NULL)
		return MM_EXIT_FAIL;
	for (tail = sql; tail != NULL && *tail != '\0';) {
		sqlite3_stmt *st = NULL;
		char *err = NULL;

		if (mm_engine_prepare(e, tail, &st, &tail, &err) != 0) {
			fprintf(stderr, "Error: %s\n", err);
			sqlite3_free(err);
			rc = MM_EXIT_FAIL;
			break;
		}
		if (st == NULL)
			break;
		r = mm_output_stmt(e, st, a.format, stdout, NULL, &err);
		sqlite3_finalize(st);
		if (r != 0) {
			fflush(stdout);
			fprintf(stderr, "Error: %s\n", err);
			sqlite3_free(err);
			rc = MM_EXIT_FAIL;
			break;
		}
	}
	mm_engine_free(e);
	if (fflush(stdout) != 0)
		rc = MM_EXIT_FAIL;
	return rc;
}
