/*
 * output.h - how mamorictl prints what the coordinator returns.
 *
 * Four formats (--format):
 *   table  aligned columns under a header line, two spaces apart, for people:
 *          unix times shown as RFC 3339 UTC, null as "-", control characters
 *          escaped (\n, \t, \xHH);
 *   json   the server's objects as one JSON array, one object per line
 *          ("[", "  {...},", "]"), as `mamori query --format json`;
 *   jsonl  one compact JSON object per line;
 *   csv    RFC 4180: a header line, fields quoted when they hold a comma,
 *          quote, CR or LF, quotes doubled; null is an empty field; times raw.
 * Lists go through a grid (table and csv) or print the JSON as is (json,
 * jsonl).  A single object (`show`) prints as "key  value" lines in table
 * format, with nested objects flattened to dotted keys.
 */
#ifndef MM_CTL_OUTPUT_H
#define MM_CTL_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

enum ctl_format { CTL_FMT_TABLE, CTL_FMT_JSON, CTL_FMT_JSONL, CTL_FMT_CSV };

/* Parses a format name.  Returns 0 or -1 when unknown. */
int ctl_format_parse(const char *s, enum ctl_format *f);

/* ---- grids: rows of text cells for table and csv ------------------------- */
struct ctl_grid;

struct ctl_grid *ctl_grid_new(void);
void ctl_grid_free(struct ctl_grid *g);
/* The index of the column named name, appended as a new column when the
 * grid has none by that name. */
int ctl_grid_col(struct ctl_grid *g, const char *name);
/* Like ctl_grid_col but always appends (for fixed column lists). */
int ctl_grid_add_col(struct ctl_grid *g, const char *name);
/* Starts a new row; its cells are null until set. */
void ctl_grid_row(struct ctl_grid *g);
/* Sets a cell of the current row (copied); NULL means null. */
void ctl_grid_set(struct ctl_grid *g, int col, const char *value);
/* Sets a cell from a JSON value (see ctl_json_text). */
void ctl_grid_setj(struct ctl_grid *g, int col, const json_t *v, unsigned flags, int fmt_table);
/* Prints the grid in table or csv format (json formats: table). */
void ctl_grid_print(const struct ctl_grid *g, enum ctl_format f, FILE *out);

/* Flags for showing a JSON value as text. */
#define CTL_COL_TIME 1u  /* unix seconds: RFC 3339 UTC in table format */
#define CTL_COL_COUNT 2u /* an object or array: its number of members */

/* A JSON value as malloc'ed text: strings as they are, numbers in decimal,
 * true/false, objects and arrays as compact JSON; NULL for null or absent.
 * CTL_COL_TIME applies only when fmt_table is 1. */
char *ctl_json_text(const json_t *v, unsigned flags, int fmt_table);

/* ---- whole answers --------------------------------------------------------- */
/* One column of a list: the object's key, the header (NULL = the key) and
 * CTL_COL_* flags.  Lists of columns end with key NULL. */
struct ctl_col {
	const char *key;
	const char *header;
	unsigned flags;
};

/* Prints an array of objects: json/jsonl as they are, table/csv with the
 * given columns. */
void ctl_print_list(const json_t *arr, const struct ctl_col *cols, enum ctl_format f,
		    FILE *out);
/* Prints an array of JSON values in json (array, one per line) or jsonl. */
void ctl_print_json_array(const json_t *arr, enum ctl_format f, FILE *out);
/* Prints one object: json indented, jsonl one line, table as aligned
 * "key  value" lines (nested objects flattened, keys listed in time_keys
 * shown as times), csv as a header line and one row. */
void ctl_print_object(const json_t *obj, const char *const *time_keys, enum ctl_format f,
		      FILE *out);

#endif
