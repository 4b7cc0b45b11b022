/*
 * output.h - printing query results: table (osqueryi's pretty grid), json
 * (an array of objects with string values, as `osqueryi --json`), jsonl (one
 * object per line), csv (RFC 4180 with a header), line (column = value
 * blocks) and pipe (values joined by '|', no header; used by the tests).
 */
#ifndef MM_OUTPUT_H
#define MM_OUTPUT_H

#include <stdio.h>

#include "engine.h"

enum mm_format { MM_FMT_TABLE, MM_FMT_JSON, MM_FMT_JSONL, MM_FMT_CSV, MM_FMT_LINE, MM_FMT_PIPE };

/* Parses a format name.  Returns 0 or MM_ERR_USAGE. */
int mm_format_parse(const char *s, enum mm_format *f);
/* Steps stmt to the end, printing rows to out in format f.  Returns 0, or
 * the engine's error code with *err set (sqlite3_free) when a step fails;
 * rows printed before the failure stay printed (table mode prints nothing).
 * *nrows (may be NULL) gets the number of rows. */
int mm_output_stmt(struct mm_engine *e, sqlite3_stmt *stmt, enum mm_format f, FILE *out,
		   long *nrows, char **err);

#endif
