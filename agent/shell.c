/*
 * shell.c - `mamori shell`: the interactive SQL shell.
 *
 * Line editing and history come from libedit (its readline interface) when
 * stdin is a terminal; otherwise lines are read plainly so scripts can pipe
 * statements in.  A statement may span lines: input accumulates until
 * sqlite3_complete() says it is whole.  Dot commands are recognised only at
 * the start of a statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "buf.h"
#include "cli.h"
#include "strutil.h"

#define SHELL_STMT_CAP (4u << 20) /* longest statement accepted */

struct shell {
	struct mm_engine *e;
	enum mm_format fmt;
	int timer;
	int tty;
	char *histfile;
};

static const char *const help_text =
	".help               this text\n"
	".tables [PATTERN]   list tables (optionally those containing PATTERN)\n"
	".schema [TABLE]     show a table's columns (all tables without TABLE)\n"
	".mode MODE          output: table, json, jsonl, csv, line\n"
	".timer on|off       print the time each statement takes\n"
	".quit, .exit        leave the shell\n"
	"SQL statements end with ';' and may span several lines.\n";

static char *read_line(struct shell *sh, const char *prompt)
{
	if (sh->tty)
		return readline(prompt);
	{
		char *line = NULL;
		size_t n = 0;
		ssize_t got = getline(&line, &n, stdin);
		if (got < 0) {
			free(line);
			return NULL;
		}
		if (got > 0 && line[got - 1] == '\n')
			line[got - 1] = '\0';
		return line;
	}
}

static void show_schema(const struct mm_table *t)
{
	int i;

	printf("CREATE TABLE %s(", t->name);
	for (i = 0; t->columns[i].name != NULL; i++)
		printf("%s`%s` %s%s", i ? ", " : "", t->columns[i].name,
		       t->columns[i].type == MM_TEXT      ? "TEXT"
		       : t->columns[i].type == MM_INTEGER ? "INTEGER"
		       : t->columns[i].type == MM_BIGINT  ? "BIGINT"
							  : "DOUBLE",
		       (t->columns[i].flags & MM_COL_HIDDEN) ? " HIDDEN" : "");
	printf(");\n");
}

/* Returns 1 to quit, 0 otherwise. */
static int dot_command(struct shell *sh, char *line)
{
	char *f[3];
	int n = mm_split_ws(line, " \t", f, 3), i;

	if (n == 0)
		return 0;
	if (strcmp(f[0], ".quit") == 0 || strcmp(f[0], ".exit") == 0 || strcmp(f[0], ".q") == 0)
		return 1;
	if (strcmp(f[0], ".help") == 0) {
		fputs(help_text, stdout);
	} else if (strcmp(f[0], ".tables") == 0) {
		for (i = 0; mm_tables[i] != NULL; i++)
			if (n < 2 || strstr(mm_tables[i]->name, f[1]) != NULL)
				printf("  => %s\n", mm_tables[i]->name);
	} else if (strcmp(f[0], ".schema") == 0) {
		if (n >= 2) {
			const struct mm_table *t = mm_table_find(f[1]);
			if (t == NULL)
				fprintf(stderr, "Error: no such table: %s\n", f[1]);
			else
				show_schema(t);
		} else {
			for (i = 0; mm_tables[i] != NULL; i++)
				show_schema(mm_tables[i]);
		}
	} else if (strcmp(f[0], ".mode") == 0) {
		if (n < 2 || mm_format_parse(f[1], &sh->fmt) != 0)
			fprintf(stderr, "Error: .mode takes table, json, jsonl, csv or line\n");
	} else if (strcmp(f[0], ".timer") == 0) {
		if (n >= 2 && strcmp(f[1], "on") == 0)
			sh->timer = 1;
		else if (n >= 2 && strcmp(f[1], "off") == 0)
			sh->timer = 0;
		else
			fprintf(stderr, "Error: .timer takes on or off\n");
	} else {
		fprintf(stderr, "Error: unknown command '%s'; .help lists them\n", f[0]);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_sql(struct shell *sh, const char *sql)
{
	const char *tail = sql;
	double t0 = now_s();

	while (tail != NULL && *tail != '\0') {
		sqlite3_stmt *st = NULL;
		char *err = NULL;

		if (mm_engine_prepare(sh->e, tail, &st, &tail, &err) != 0) {
			fprintf(stderr, "Error: %s\n", err);
			sqlite3_free(err);
			return;
		}
		if (st == NULL)
			break;
		if (mm_output_stmt(sh->e, st, sh->fmt, stdout, NULL, &err) != 0) {
			fflush(stdout);
			fprintf(stderr, "Error: %s\n", err);
			sqlite3_free(err);
			sqlite3_finalize(st);
			return;
		}
		sqlite3_finalize(st);
	}
	if (sh->timer)
		printf("Run Time: %.3f s\n", now_s() - t0);
	fflush(stdout);
}

int mm_cmd_shell(int argc, char **argv)
{
	struct mm_engine_args a = { .format = MM_FMT_TABLE };
	struct shell sh = { 0 };
	struct mm_buf stmt;
	const char *home;
	char *line;
	int i, r;

	for (i = 1; i < argc; i++) {
		if ((r = mm_parse_engine_arg(argc, argv, &i, &a)) < 0)
			return MM_EXIT_USAGE;
		if (r == 0) {
			fprintf(stderr, "usage: mamori shell [--root DIR] [--format F] [limits]\n");
			return MM_EXIT_USAGE;
		}
	}
	if ((sh.e = mm_open_engine(&a, 1)) == NULL)
		return MM_EXIT_FAIL;
	sh.fmt = a.format;
	sh.tty = isatty(STDIN_FILENO);
	if (sh.tty) {
		using_history();
		stifle_history(2000);
		home = getenv("HOME");
		if (home != NULL && *home != '\0') {
			size_t n = strlen(home) + 32;
			if ((sh.histfile = malloc(n)) != NULL) {
				snprintf(sh.histfile, n, "%s/.mamori_history", home);
				read_history(sh.histfile);
			}
		}
		printf("mamori shell: the host as SQL. Type .help for commands, .quit to leave.\n");
	}
	mm_buf_init(&stmt, SHELL_STMT_CAP);
	for (;;) {
		line = read_line(&sh, stmt.len == 0 ? "mamori> " : "    ...> ");
		if (line == NULL)
			break;
		if (stmt.len == 0) {
			char *t = mm_trim(line);
			if (*t == '\0') {
				free(line);
				continue;
			}
			if (*t == '.') {
				if (sh.tty)
					add_history(t);
				r = dot_command(&sh, t);
				free(line);
				if (r)
					break;
				continue;
			}
		}
		if (mm_buf_adds(&stmt, line) != 0 || mm_buf_addc(&stmt, '\n') != 0) {
			fprintf(stderr, "Error: statement longer than %u bytes, discarded\n",
				SHELL_STMT_CAP);
			mm_buf_reset(&stmt);
			free(line);
			continue;
		}
		free(line);
		if (sqlite3_complete(mm_buf_str(&stmt))) {
			char *s = mm_buf_take(&stmt);
			if (s == NULL)
				break;
			if (sh.tty) {
				char *h = strdup(s);
				if (h != NULL) {
					size_t n = strlen(h);
					while (n > 0 && h[n - 1] == '\n')
						h[--n] = '\0';
					add_history(h);
					free(h);
				}
			}
			run_sql(&sh, s);
			free(s);
		}
	}
	if (stmt.len > 0 && mm_trim(stmt.data)[0] != '\0')
		run_sql(&sh, mm_buf_str(&stmt));
	mm_buf_free(&stmt);
	if (sh.tty && sh.histfile != NULL)
		write_history(sh.histfile);
	free(sh.histfile);
	mm_engine_free(sh.e);
	return MM_EXIT_OK;
}
