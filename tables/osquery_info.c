/*
 * osquery_info.c - osquery's own-agent table, answered by Mamori so that
 * queries and dashboards written for osquery find an agent here.  The
 * version is Mamori's; build_distro names it so a reader is never misled.
 */
#include <sqlite3.h>
#include <unistd.h>

#include "common.h"
#include "table.h"
#include "version.h"

enum { C_PID, C_UUID, C_INSTANCE_ID, C_VERSION, C_CONFIG_HASH, C_CONFIG_VALID, C_EXTENSIONS,
       C_BUILD_PLATFORM, C_BUILD_DISTRO, C_START_TIME, C_WATCHER, C_PLATFORM_MASK };

static const struct mm_column cols[] = {
	{ "pid", MM_INTEGER, 0, "Process (or thread/handle) ID" },
	{ "uuid", MM_TEXT, 0, "Unique ID provided by the system" },
	{ "instance_id", MM_TEXT, 0, "Unique, long-lived ID per instance of the agent" },
	{ "version", MM_TEXT, 0, "Agent version (Mamori's)" },
	{ "config_hash", MM_TEXT, 0, "Hash of the working configuration state" },
	{ "config_valid", MM_INTEGER, 0, "1 if the config was loaded and is valid, else 0" },
	{ "extensions", MM_TEXT, 0, "Extension manager state: 'inactive' (no extensions)" },
	{ "build_platform", MM_TEXT, 0, "Platform the agent was built for" },
	{ "build_distro", MM_TEXT, 0, "Agent build distribution: 'mamori'" },
	{ "start_time", MM_INTEGER, 0, "UNIX time in seconds when the process started" },
	{ "watcher", MM_INTEGER, 0, "Process id of the watchdog, -1 when there is none" },
	{ "platform_mask", MM_INTEGER, 0, "The osquery platform bitmask (9 = posix|linux)" },
	{ NULL },
};

static int gen(struct mm_ctx *ctx)
{
	char uuid[37];
	int r;

	if (mm_host_uuid(ctx, uuid) != 0)
		uuid[0] = '\0';
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_int(ctx, C_PID, (int64_t)getpid());
	mm_set_text(ctx, C_UUID, uuid);
	mm_set_text(ctx, C_INSTANCE_ID, uuid);
	mm_set_text(ctx, C_VERSION, MM_VERSION);
	mm_set_text(ctx, C_CONFIG_HASH, "");
	mm_set_int(ctx, C_CONFIG_VALID, 0);
	mm_set_text(ctx, C_EXTENSIONS, "inactive");
	mm_set_text(ctx, C_BUILD_PLATFORM, "linux");
	mm_set_text(ctx, C_BUILD_DISTRO, "mamori");
	mm_set_int(ctx, C_START_TIME, mm_process_start_time());
	mm_set_int(ctx, C_WATCHER, -1);
	mm_set_int(ctx, C_PLATFORM_MASK, 9);
	return mm_row_end(ctx);
}

const struct mm_table mm_table_osquery_info = {
	.name = "osquery_info",
	.description = "Information about the running agent, in osquery's shape so that queries "
		       "written for osquery find Mamori. See also mamori_info.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT version, build_distro, start_time FROM osquery_info;",
};
