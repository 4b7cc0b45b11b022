/*
 * cli.h - the `mamori` command line: one descriptor per verb, listed in
 * agent/main.c's verbs[] (as tmux's cmd_table[]).  Each verb lives in
 * agent/cmd_<verb>.c.
 */
#ifndef MM_CLI_H
#define MM_CLI_H

#include <stdint.h>

#include "engine.h"
#include "output.h"

/* Exit codes of every verb. */
#define MM_EXIT_OK 0
#define MM_EXIT_FAIL 1  /* the operation failed (bad SQL, a limit, a failing check) */
#define MM_EXIT_USAGE 2 /* bad arguments */

struct mm_verb {
	const char *name;
	const char *usage;   /* one line: arguments */
	const char *summary; /* one line: what it does */
	int (*run)(int argc, char **argv); /* argv[0] is the verb */
};

/* Options shared by the verbs that open an engine. */
struct mm_engine_args {
	const char *root;
	int64_t time_limit_ms;
	int64_t heap_limit;
	enum mm_format format;
	int format_set;
};

/* Parses --root DIR, --time-limit D, --memory-limit S, --format F at
 * argv[*i] (advancing *i).  Returns 1 if it consumed an option, 0 if argv[*i]
 * is not one of them, -1 on a usage error (already printed). */
int mm_parse_engine_arg(int argc, char **argv, int *i, struct mm_engine_args *a);
/* Opens an engine from parsed args; prints the error and returns NULL on
 * failure. */
struct mm_engine *mm_open_engine(const struct mm_engine_args *a, int shell);

int mm_cmd_query(int argc, char **argv);
int mm_cmd_shell(int argc, char **argv);
int mm_cmd_tables(int argc, char **argv);
int mm_cmd_schema(int argc, char **argv);
int mm_cmd_docs(int argc, char **argv);
int mm_cmd_check(int argc, char **argv);
int mm_cmd_daemon(int argc, char **argv);
int mm_cmd_pack(int argc, char **argv);

#endif
