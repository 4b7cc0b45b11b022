/*
 * sqltest.c - SQL in, rows out: runs the cases of a .test file against the
 * engine on fixture trees and compares the rows exactly (as SQLite's
 * do_execsql_test).  Format of a .test file:
 *
 *     # comment
 *     @root HOST            fixture tree tests/fixtures/HOST for the next cases
 *                           ("@root /" reads the live host)
 *     @limits time=500ms memory=32M   limits for the next cases
 *     @shell on|off         shell-mode authorizer for the next cases
 *     @query                the SQL follows, up to the next @ line
 *     @warning TEXT         a warning containing TEXT must be reported
 *                           (any warning not listed fails the case)
 *     @expect               the rows follow, one per line, values joined by
 *                           '|', NULL as NULL, up to @end
 *     @error TEXT           the query must fail with a message containing TEXT
 *     @end                  ends a case
 *
 * A failing case prints what it expected and what it got.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "output.h"
#include "strutil.h"

#define MAXW 64

struct warns {
	char *msg[MAXW];
	int n;
};

static void on_warn(void *arg, const char *table, const char *msg)
{
	struct warns *w = arg;

	if (w->n < MAXW) {
		size_t n = strlen(table) + strlen(msg) + 3;
		w->msg[w->n] = malloc(n);
		if (w->msg[w->n] != NULL)
			snprintf(w->msg[w->n++], n, "%s: %s", table, msg);
	}
}

struct tcase {
	int line;
	struct mm_buf sql, expect;
	char *error;               /* expected error substring, or NULL */
	char *warning[MAXW];       /* expected warning substrings */
	int nwarn;
	int have_expect;
};

struct settings {
	char root[4096];
	int64_t time_ms, heap;
	int shell;
};

static int run_case(const char *file, const struct settings *s, struct tcase *c)
{
	struct mm_engine_opts o = { 0 };
	struct mm_engine *e = NULL;
	struct warns w = { { 0 }, 0 };
	char *err = NULL, *got = NULL;
	size_t gotlen = 0;
	const char *tail;
	FILE *mem;
	int fail = 0, r = 0, i, j;

	o.root = s->root;
	o.time_limit_ms = s->time_ms;
	o.heap_limit = s->heap;
	o.shell = s->shell;
	o.warn = on_warn;
	o.warn_arg = &w;
	if (mm_engine_new(&o, &e, &err) != 0) {
		fprintf(stderr, "%s:%d: cannot open engine: %s\n", file, c->line, err);
		sqlite3_free(err);
		return 1;
	}
	mem = open_memstream(&got, &gotlen);
	for (tail = mm_buf_str(&c->sql); tail != NULL && *tail != '\0';) {
		sqlite3_stmt *st = NULL;
		if ((r = mm_engine_prepare(e, tail, &st, &tail, &err)) != 0)
			break;
		if (st == NULL)
			break;
		r = mm_output_stmt(e, st, MM_FMT_PIPE, mem, NULL, &err);
		sqlite3_finalize(st);
		if (r != 0)
			break;
	}
	fclose(mem);
	if (c->error != NULL) {
		if (r == 0) {
			fprintf(stderr, "%s:%d: FAIL: expected an error containing '%s', got rows:\n%s",
				file, c->line, c->error, got);
			fail = 1;
		} else if (err == NULL || strstr(err, c->error) == NULL) {
			fprintf(stderr, "%s:%d: FAIL: expected an error containing '%s', got '%s'\n",
				file, c->line, c->error, err ? err : "(none)");
			fail = 1;
		}
	} else if (r != 0) {
		fprintf(stderr, "%s:%d: FAIL: query failed: %s\n", file, c->line, err);
		fail = 1;
	} else if (strcmp(got, mm_buf_str(&c->expect)) != 0) {
		fprintf(stderr, "%s:%d: FAIL: rows differ\n--- expected\n%s--- got\n%s---\n", file,
			c->line, mm_buf_str(&c->expect), got);
		fail = 1;
	}
	for (i = 0; i < c->nwarn; i++) {
		int found = 0;
		for (j = 0; j < w.n; j++)
			if (strstr(w.msg[j], c->warning[i]) != NULL)
				found = 1;
		if (!found) {
			fprintf(stderr, "%s:%d: FAIL: expected a warning containing '%s'\n", file,
				c->line, c->warning[i]);
			fail = 1;
		}
	}
	for (j = 0; j < w.n; j++) {
		int listed = 0;
		for (i = 0; i < c->nwarn; i++)
			if (strstr(w.msg[j], c->warning[i]) != NULL)
				listed = 1;
		if (!listed) {
			fprintf(stderr, "%s:%d: FAIL: unexpected warning: %s\n", file, c->line,
				w.msg[j]);
			fail = 1;
		}
		free(w.msg[j]);
	}
	sqlite3_free(err);
	free(got);
	mm_engine_free(e);
	return fail;
}

static void case_reset(struct tcase *c)
{
	int i;

	mm_buf_free(&c->sql);
	mm_buf_free(&c->expect);
	free(c->error);
	c->error = NULL;
	for (i = 0; i < c->nwarn; i++)
		free(c->warning[i]);
	c->nwarn = 0;
	c->have_expect = 0;
}

int main(int argc, char **argv)
{
	const char *fixtures = NULL, *file = NULL;
	struct settings s = { "/", 0, 0, 0 };
	struct tcase c;
	char *data = NULL, *line;
	size_t len, pos = 0;
	FILE *f;
	int i, lineno = 0, mode = 0, failed = 0, passed = 0;
	/* mode: 0 outside a case, 1 reading SQL, 2 reading expected rows */

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc)
			fixtures = argv[++i];
		else
			file = argv[i];
	}
	if (file == NULL || fixtures == NULL) {
		fprintf(stderr, "usage: sqltest --fixtures DIR FILE.test\n");
		return 2;
	}
	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		return 2;
	}
	{
		struct mm_buf b;
		char chunk[4096];
		size_t n;
		mm_buf_init(&b, 64u << 20);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (mm_buf_add(&b, chunk, n) != 0)
				return 2;
		fclose(f);
		len = b.len;
		data = mm_buf_take(&b);
	}
	memset(&c, 0, sizeof(c));
	mm_buf_init(&c.sql, 1u << 20);
	mm_buf_init(&c.expect, 16u << 20);
	while ((line = mm_next_line(data, len, &pos)) != NULL) {
		lineno++;
		if (line[0] != '@') {
			if (mode == 1)
				mm_buf_addf(&c.sql, "%s\n", line);
			else if (mode == 2)
				mm_buf_addf(&c.expect, "%s\n", line);
			else if (line[0] != '#' && mm_trim(line)[0] != '\0') {
				fprintf(stderr, "%s:%d: text outside a case\n", file, lineno);
				return 2;
			}
			continue;
		}
		if (mm_startswith(line, "@root ")) {
			const char *r = mm_trim(line + 6);
			if (strcmp(r, "/") == 0)
				snprintf(s.root, sizeof(s.root), "/");
			else
				snprintf(s.root, sizeof(s.root), "%s/%s", fixtures, r);
		} else if (mm_startswith(line, "@limits")) {
			char *fl[4];
			int n = mm_split_ws(line + 7, " \t", fl, 4), k;
			s.time_ms = 0;
			s.heap = 0;
			for (k = 0; k < n; k++) {
				if (mm_startswith(fl[k], "time="))
					mm_parse_duration_ms(fl[k] + 5, &s.time_ms);
				else if (mm_startswith(fl[k], "memory="))
					mm_parse_size(fl[k] + 7, &s.heap);
			}
		} else if (mm_startswith(line, "@shell")) {
			s.shell = strstr(line, "on") != NULL;
		} else if (strcmp(mm_trim(line), "@query") == 0) {
			case_reset(&c);
			c.line = lineno;
			mode = 1;
		} else if (mm_startswith(line, "@warning ")) {
			if (c.nwarn < MAXW)
				c.warning[c.nwarn++] = strdup(mm_trim(line + 9));
			if (mode == 2)
				mode = 0;
		} else if (strcmp(mm_trim(line), "@expect") == 0) {
			c.have_expect = 1;
			mode = 2;
		} else if (mm_startswith(line, "@error ")) {
			c.error = strdup(mm_trim(line + 7));
			mode = 0;
		} else if (strcmp(mm_trim(line), "@end") == 0) {
			if (c.line == 0 || (!c.have_expect && c.error == NULL)) {
				fprintf(stderr, "%s:%d: @end without @query and @expect/@error\n", file,
					lineno);
				return 2;
			}
			if (run_case(file, &s, &c) != 0)
				failed++;
			else
				passed++;
			case_reset(&c);
			c.line = 0;
			mode = 0;
		} else {
			fprintf(stderr, "%s:%d: unknown directive: %s\n", file, lineno, line);
			return 2;
		}
	}
	if (mode != 0 || c.line != 0) {
		fprintf(stderr, "%s: last case has no @end\n", file);
		return 2;
	}
	case_reset(&c);
	free(data);
	printf("%s: %d passed, %d failed\n", file, passed, failed);
	if (passed + failed == 0) {
		fprintf(stderr, "%s: no cases\n", file);
		return 2;
	}
	return failed ? 1 : 0;
}
