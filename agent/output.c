/*
 * output.c - result formats; see output.h.
 *
 * Values print as text; SQL NULL prints as "" (osquery has no NULLs and its
 * JSON is all strings) except in pipe and line modes, where it prints NULL
 * so tests can tell the two apart.
 */
#include "output.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int mm_format_parse(const char *s, enum mm_format *f)
{
	static const struct {
		const char *name;
		enum mm_format f;
	} names[] = {
		{ "table", MM_FMT_TABLE }, { "json", MM_FMT_JSON }, { "jsonl", MM_FMT_JSONL },
		{ "csv", MM_FMT_CSV },     { "line", MM_FMT_LINE }, { "pipe", MM_FMT_PIPE },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*f = names[i].f;
			return 0;
		}
	return MM_ERR_USAGE;
}

static const char *val(sqlite3_stmt *st, int i, const char *null_as)
{
	const unsigned char *t;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return null_as;
	t = sqlite3_column_text(st, i);
	return t != NULL ? (const char *)t : null_as;
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

static void csv_field(FILE *out, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void json_row(FILE *out, sqlite3_stmt *st, int ncols)
{
	json_t *o = json_object();
	char *s;
	int i;

	for (i = 0; i < ncols; i++) {
		const char *v = val(st, i, "");
		json_t *js = json_stringn_nocheck(v, strlen(v));
		json_object_set_new_nocheck(o, sqlite3_column_name(st, i), js);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (s != NULL)
		fputs(s, out);
	free(s);
	json_decref(o);
}

struct grid {
	char **cells; /* nrows * ncols, sqlite3_malloc'ed */
	size_t nrows, arows;
};

static void grid_free(struct grid *g, int ncols)
{
	size_t i;

	for (i = 0; i < g->nrows * (size_t)ncols; i++)
		sqlite3_free(g->cells[i]);
	sqlite3_free(g->cells);
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

static void cell(FILE *out, const char *s, size_t w)
{
	size_t n = width(s);

	fputs("| ", out);
	fputs(s, out);
	for (; n < w; n++)
		fputc(' ', out);
	fputc(' ', out);
}

static void print_grid(FILE *out, sqlite3_stmt *st, struct grid *g, int ncols)
{
	size_t *w = calloc((size_t)ncols, sizeof(size_t)), r;
	int i;

	if (w == NULL)
		return;
	for (i = 0; i < ncols; i++)
		w[i] = width(sqlite3_column_name(st, i));
	for (r = 0; r < g->nrows; r++)
		for (i = 0; i < ncols; i++) {
			size_t n = width(g->cells[r * (size_t)ncols + (size_t)i]);
			if (n > w[i])
				w[i] = n;
		}
	rule(out, w, ncols);
	for (i = 0; i < ncols; i++)
		cell(out, sqlite3_column_name(st, i), w[i]);
	fputs("|\n", out);
	rule(out, w, ncols);
	for (r = 0; r < g->nrows; r++) {
		for (i = 0; i < ncols; i++)
			cell(out, g->cells[r * (size_t)ncols + (size_t)i], w[i]);
		fputs("|\n", out);
	}
	if (g->nrows > 0)
		rule(out, w, ncols);
	free(w);
}

int mm_output_stmt(struct mm_engine *e, sqlite3_stmt *st, enum mm_format f, FILE *out,
		   long *nrows, char **err)
{
	int ncols = sqlite3_column_count(st), i, rc;
	struct grid g = { NULL, 0, 0 };
	long n = 0;
	int r = 0;

	*err = NULL;
	if (nrows != NULL)
		*nrows = 0;
	if (f == MM_FMT_CSV && ncols > 0) {
		for (i = 0; i < ncols; i++) {
			if (i)
				fputc(',', out);
			csv_field(out, sqlite3_column_name(st, i));
		}
		fputc('\n', out);
	}
	if (f == MM_FMT_JSON)
		fputs("[\n", out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		switch (f) {
		case MM_FMT_TABLE:
			if (g.nrows == g.arows) {
				size_t want = g.arows ? g.arows * 2 : 64;
				char **nc = sqlite3_realloc64(g.cells,
							      want * (size_t)ncols * sizeof(char *));
				if (nc == NULL) {
					rc = SQLITE_NOMEM;
					goto done;
				}
				g.cells = nc;
				g.arows = want;
			}
			for (i = 0; i < ncols; i++) {
				char *c = sqlite3_mprintf("%s", val(st, i, ""));
				/* Keep the grid one line per row. */
				for (char *p = c; p != NULL && *p != '\0'; p++)
					if (*p == '\n' || *p == '\r' || *p == '\t')
						*p = ' ';
				g.cells[g.nrows * (size_t)ncols + (size_t)i] = c;
			}
			g.nrows++;
			break;
		case MM_FMT_JSON:
			fputs(n ? ",\n  " : "  ", out);
			json_row(out, st, ncols);
			break;
		case MM_FMT_JSONL:
			json_row(out, st, ncols);
			fputc('\n', out);
			break;
		case MM_FMT_CSV:
			for (i = 0; i < ncols; i++) {
				if (i)
					fputc(',', out);
				csv_field(out, val(st, i, ""));
			}
			fputc('\n', out);
			break;
		case MM_FMT_LINE: {
			size_t w = 0;
			for (i = 0; i < ncols; i++)
				if (width(sqlite3_column_name(st, i)) > w)
					w = width(sqlite3_column_name(st, i));
			if (n)
				fputc('\n', out);
			for (i = 0; i < ncols; i++)
				fprintf(out, "%*s = %s\n", (int)w, sqlite3_column_name(st, i),
					val(st, i, "NULL"));
			break;
		}
		case MM_FMT_PIPE:
			for (i = 0; i < ncols; i++) {
				if (i)
					fputc('|', out);
				fputs(val(st, i, "NULL"), out);
			}
			fputc('\n', out);
			break;
		}
		n++;
	}
done:
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_NOMEM && g.cells == NULL && f == MM_FMT_TABLE && n > 0)
			*err = sqlite3_mprintf("out of memory");
		else
			*err = mm_engine_errmsg(e);
		r = rc == SQLITE_NOMEM ? MM_ERR_LIMIT : mm_engine_errcode(e);
	}
	if (f == MM_FMT_JSON)
		fputs(n ? "\n]\n" : "]\n", out);
	if (f == MM_FMT_TABLE && r == 0 && ncols > 0)
		print_grid(out, st, &g, ncols);
	grid_free(&g, ncols);
	if (nrows != NULL)
		*nrows = n;
	return r;
}
