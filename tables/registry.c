/*
 * registry.c - the one list of every table, built from tables.def.
 */
#include <stddef.h>

#include "table.h"

#define MM_TABLE(n) extern const struct mm_table mm_table_##n;
#include "tables.def"
#undef MM_TABLE

const struct mm_table *const mm_tables[] = {
#define MM_TABLE(n) &mm_table_##n,
#include "tables.def"
#undef MM_TABLE
	NULL,
};
