/*
 * output.c - table, json, jsonl and csv rendering for mamorictl (output.h).
 *
 * Table cells are measured in characters (UTF-8 lead bytes), not bytes, so
 * non-ASCII host names still line up; control characters are escaped in
 * table format only, csv keeps values byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

struct grid_row {
	char **cells; /* NULL cells are null */
	int n;        /* cells allocated */
};

struct ctl_grid {
	char **names;          /* column names */
	int ncols;
	struct grid_row *rows;
	size_t nrows, arows;
};

int ctl_format_parse(const char *s, enum ctl_format *f)
{
	static const struct {
		const char *name;
		enum ctl_format f;
	} names[] = {
		{ "table", CTL_FMT_TABLE },
		{ "json", CTL_FMT_JSON },
		{ "jsonl", CTL_FMT_JSONL },
		{ "csv", CTL_FMT_CSV },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*f = names[i].f;
			return 0;
		}
	return -1;
}

struct ctl_grid *ctl_grid_new(void)
{
	return xcalloc(1, sizeof(struct ctl_grid));
}

void ctl_grid_free(struct ctl_grid *g)
{
	size_t i;
	int c;

	if (g == NULL)
		return;
	for (i = 0; i < g->nrows; i++) {
		for (c = 0; c < g->rows[i].n; c++)
			free(g->rows[i].cells[c]);
		free(g->rows[i].cells);
	}
	for (c = 0; c < g->ncols; c++)
		free(g->names[c]);
	free(g->names);
	free(g->rows);
	free(g);
}

int ctl_grid_add_col(struct ctl_grid *g, const char *name)
{
	g->names = xreallocarray(g->names, (size_t)g->ncols + 1, sizeof(char *));
	g->names[g->ncols] = xstrdup(name);
	return g->ncols++;
}

int ctl_grid_col(struct ctl_grid *g, const char *name)
{
	int c;

	for (c = 0; c < g->ncols; c++)
		if (strcmp(g->names[c], name) == 0)
			return c;
	return ctl_grid_add_col(g, name);
}

void ctl_grid_row(struct ctl_grid *g)
{
	if (g->nrows == g->arows) {
		g->arows = g->arows != 0 ? g->arows * 2 : 16;
		g->rows = xreallocarray(g->rows, g->arows, sizeof(*g->rows));
	}
	g->rows[g->nrows].cells = NULL;
	g->rows[g->nrows].n = 0;
	g->nrows++;
}

void ctl_grid_set(struct ctl_grid *g, int col, const char *value)
{
	struct grid_row *r;
	int i;

	if (g->nrows == 0 || col < 0 || col >= g->ncols)
		return;
	r = &g->rows[g->nrows - 1];
	if (col >= r->n) {
		r->cells = xreallocarray(r->cells, (size_t)g->ncols, sizeof(char *));
		for (i = r->n; i < g->ncols; i++)
			r->cells[i] = NULL;
		r->n = g->ncols;
	}
	free(r->cells[col]);
	r->cells[col] = value != NULL ? xstrdup(value) : NULL;
}

char *ctl_json_text(const json_t *v, unsigned flags, int fmt_table)
{
	char tbuf[64];
	char *s;

	if (v == NULL || json_is_null(v))
		return NULL;
	if ((flags & CTL_COL_COUNT) && (json_is_object(v) || json_is_array(v)))
		return xasprintf("%zu", json_is_object(v) ? json_object_size(v) : json_array_size(v));
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v)) {
		if ((flags & CTL_COL_TIME) && fmt_table) {
			ctl_time_str((int64_t)json_integer_value(v), tbuf, sizeof(tbuf));
			return xstrdup(tbuf);
		}
		return xasprintf("%lld", (long long)json_integer_value(v));
	}
	if (json_is_true(v))
		return xstrdup("true");
	if (json_is_false(v))
		return xstrdup("false");
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return xstrdup("?");
	return s;
}

void ctl_grid_setj(struct ctl_grid *g, int col, const json_t *v, unsigned flags, int fmt_table)
{
	char *s = ctl_json_text(v, flags, fmt_table);

	ctl_grid_set(g, col, s);
	free(s);
}

/* ---- table format ------------------------------------------------------- */

/* A copy of s with control characters escaped for a terminal; null as "-". */
static char *table_text(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n, i, o = 0;
	char *e;

	if (s == NULL)
		return xstrdup("-");
	n = strlen(s);
	e = xmalloc(n * 4 + 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n') {
			e[o++] = '\\';
			e[o++] = 'n';
		} else if (ch == '\t') {
			e[o++] = '\\';
			e[o++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			e[o++] = '\\';
			e[o++] = 'x';
			e[o++] = hex[ch >> 4];
			e[o++] = hex[ch & 15];
		} else {
			e[o++] = (char)ch;
		}
	}
	e[o] = '\0';
	return e;
}

/* Characters shown for UTF-8 text: bytes that are not continuation bytes. */
#define TABLE_CELL_MAX 80 /* characters shown of a cell that is not the last */

static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Cuts s (malloc'ed, valid UTF-8) to max characters, the last one "…", so
 * one long value (a reason listing 75 packages) does not push every other
 * column off the screen.  json, jsonl and csv always give the whole text. */
static char *table_cut(char *s, size_t max)
{
	size_t w = 0, i;

	if (s == NULL || text_width(s) <= max)
		return s;
	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++w == max) {
			char *t = xasprintf("%.*s\u2026", (int)i, s);
			free(s);
			return t;
		}
	}
	return s;
}

/* Prints one line of cells padded to widths, two spaces apart, the last
 * cell unpadded (no trailing blanks). */
static void table_line(char **cells, const size_t *width, int n, FILE *out)
{
	int c;
	size_t pad;

	for (c = 0; c < n; c++) {
		fputs(cells[c], out);
		if (c + 1 < n) {
			for (pad = text_width(cells[c]); pad < width[c] + 2; pad++)
				fputc(' ', out);
		}
	}
	fputc('\n', out);
}

static void grid_print_table(const struct ctl_grid *g, FILE *out)
{
	size_t *width = xcalloc((size_t)g->ncols, sizeof(size_t));
	char ***text = xcalloc(g->nrows, sizeof(char **));
	size_t i, w;
	int c;

	for (c = 0; c < g->ncols; c++)
		width[c] = text_width(g->names[c]);
	for (i = 0; i < g->nrows; i++) {
		text[i] = xcalloc((size_t)g->ncols, sizeof(char *));
		for (c = 0; c < g->ncols; c++) {
			text[i][c] = table_text(c < g->rows[i].n ? g->rows[i].cells[c] : NULL);
			if (c + 1 < g->ncols) /* the last column may run on */
				text[i][c] = table_cut(text[i][c], TABLE_CELL_MAX);
			if ((w = text_width(text[i][c])) > width[c])
				width[c] = w;
		}
	}
	table_line(g->names, width, g->ncols, out);
	for (i = 0; i < g->nrows; i++) {
		table_line(text[i], width, g->ncols, out);
		for (c = 0; c < g->ncols; c++)
			free(text[i][c]);
		free(text[i]);
	}
	free(text);
	free(width);
}

/* ---- csv format ------------------------------------------------------------ */

static void csv_field(const char *s, FILE *out)
{
	if (s == NULL)
		return;
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

static void grid_print_csv(const struct ctl_grid *g, FILE *out)
{
	size_t i;
	int c;

	for (c = 0; c < g->ncols; c++) {
		if (c > 0)
			fputc(',', out);
		csv_field(g->names[c], out);
	}
	fputc('\n', out);
	for (i = 0; i < g->nrows; i++) {
		for (c = 0; c < g->ncols; c++) {
			if (c > 0)
				fputc(',', out);
			csv_field(c < g->rows[i].n ? g->rows[i].cells[c] : NULL, out);
		}
		fputc('\n', out);
	}
}

void ctl_grid_print(const struct ctl_grid *g, enum ctl_format f, FILE *out)
{
	if (f == CTL_FMT_CSV)
		grid_print_csv(g, out);
	else
		grid_print_table(g, out);
}

/* ---- JSON ------------------------------------------------------------------- */

static void json_line(const json_t *v, FILE *out)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	fputs(s != NULL ? s : "null", out);
	free(s);
}

void ctl_print_json_array(const json_t *arr, enum ctl_format f, FILE *out)
{
	size_t i, n = json_array_size(arr);

	if (f == CTL_FMT_JSON)
		fputs("[\n", out);
	for (i = 0; i < n; i++) {
		if (f == CTL_FMT_JSON)
			fputs("  ", out);
		json_line(json_array_get(arr, i), out);
		if (f == CTL_FMT_JSON && i + 1 < n)
			fputc(',', out);
		fputc('\n', out);
	}
	if (f == CTL_FMT_JSON)
		fputs("]\n", out);
}

void ctl_print_list(const json_t *arr, const struct ctl_col *cols, enum ctl_format f,
		    FILE *out)
{
	struct ctl_grid *g;
	size_t i;
	int c;

	if (f == CTL_FMT_JSON || f == CTL_FMT_JSONL) {
		ctl_print_json_array(arr, f, out);
		return;
	}
	g = ctl_grid_new();
	for (c = 0; cols[c].key != NULL; c++)
		ctl_grid_add_col(g, cols[c].header != NULL ? cols[c].header : cols[c].key);
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *o = json_array_get(arr, i);

		ctl_grid_row(g);
		for (c = 0; cols[c].key != NULL; c++)
			ctl_grid_setj(g, c, json_object_get(o, cols[c].key), cols[c].flags,
				      f == CTL_FMT_TABLE);
	}
	ctl_grid_print(g, f, out);
	ctl_grid_free(g);
}

/* Flattens obj into key/value columns of one grid row: nested objects
 * become dotted keys, arrays stay compact JSON. */
static void flatten(struct ctl_grid *g, const char *prefix, const json_t *obj,
		    const char *const *time_keys, int fmt_table)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, k, v) {
		char *key = prefix != NULL ? xasprintf("%s.%s", prefix, k) : xstrdup(k);
		unsigned flags = 0;

		if (json_is_object(v) && json_object_size(v) > 0) {
			flatten(g, key, v, time_keys, fmt_table);
			free(key);
			continue;
		}
		for (i = 0; time_keys != NULL && time_keys[i] != NULL; i++)
			if (strcmp(time_keys[i], key) == 0)
				flags = CTL_COL_TIME;
		ctl_grid_setj(g, ctl_grid_add_col(g, key), v, flags, fmt_table);
		free(key);
	}
}

void ctl_print_object(const json_t *obj, const char *const *time_keys, enum ctl_format f,
		      FILE *out)
{
	struct ctl_grid *g;
	size_t w = 0, pad;
	char *t;
	int c;

	if (f == CTL_FMT_JSON || f == CTL_FMT_JSONL) {
		char *s = json_dumps(obj, f == CTL_FMT_JSON ? JSON_INDENT(2) : JSON_COMPACT);

		fprintf(out, "%s\n", s != NULL ? s : "null");
		free(s);
		return;
	}
	g = ctl_grid_new();
	ctl_grid_row(g);
	flatten(g, NULL, obj, time_keys, f == CTL_FMT_TABLE);
	if (f == CTL_FMT_CSV) {
		grid_print_csv(g, out);
		ctl_grid_free(g);
		return;
	}
	for (c = 0; c < g->ncols; c++)
		if (text_width(g->names[c]) > w)
			w = text_width(g->names[c]);
	for (c = 0; c < g->ncols; c++) {
		fputs(g->names[c], out);
		for (pad = text_width(g->names[c]); pad < w + 2; pad++)
			fputc(' ', out);
		t = table_text(c < g->rows[0].n ? g->rows[0].cells[c] : NULL);
		fprintf(out, "%s\n", t);
		free(t);
	}
	ctl_grid_free(g);
}
