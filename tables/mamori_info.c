/*
 * mamori_info.c - the agent describing itself: version, engine, root.
 */
#include <sqlite3.h>
#include <unistd.h>

#include "common.h"
#include "engine.h"
#include "table.h"
#include "version.h"

enum { C_VERSION, C_PID, C_ROOT, C_SQLITE_VERSION, C_TABLES, C_START_TIME, C_UUID };

static const struct mm_column cols[] = {
	{ "version", MM_TEXT, 0, "Mamori version" },
	{ "pid", MM_INTEGER, 0, "Process id of the agent" },
	{ "root", MM_TEXT, 0, "Root prefix the tables read from ('/' for the live host)" },
	{ "sqlite_version", MM_TEXT, 0, "SQLite library version in use" },
	{ "tables", MM_INTEGER, 0, "Number of tables the agent provides" },
	{ "start_time", MM_INTEGER, 0, "UNIX time in seconds when the process started" },
	{ "uuid", MM_TEXT, 0, "Host UUID as read under the root" },
	{ NULL },
};

static int gen(struct mm_ctx *ctx)
{
	char uuid[37];
	int n = 0, r;

	while (mm_tables[n] != NULL)
		n++;
	if (mm_host_uuid(ctx, uuid) != 0)
		uuid[0] = '\0';
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_VERSION, MM_VERSION);
	mm_set_int(ctx, C_PID, (int64_t)getpid());
	mm_set_text(ctx, C_ROOT, mm_root(ctx));
	mm_set_text(ctx, C_SQLITE_VERSION, sqlite3_libversion());
	mm_set_int(ctx, C_TABLES, n);
	mm_set_int(ctx, C_START_TIME, mm_process_start_time());
	mm_set_text(ctx, C_UUID, uuid);
	return mm_row_end(ctx);
}

const struct mm_table mm_table_mamori_info = {
	.name = "mamori_info",
	.description = "The Mamori agent itself: version, SQLite version, the root prefix the "
		       "tables read through, and how many tables it has.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT version, root, tables FROM mamori_info;",
};
