/*
 * common.h - helpers shared by several tables (host identity, start time).
 * Everything reads through the ctx's root prefix.
 */
#ifndef MM_TABLES_COMMON_H
#define MM_TABLES_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

/* The host's UUID: /sys/class/dmi/id/product_uuid when readable, else
 * /etc/machine-id shaped as 8-4-4-4-12 (lower case), else "".  out must
 * hold 37 bytes.  Returns 0, or MM_ERR_NOTFOUND when neither source exists. */
int mm_host_uuid(struct mm_ctx *ctx, char out[37]);
/* Unix time the process started (for osquery_info/mamori_info.start_time). */
int64_t mm_process_start_time(void);

#endif
