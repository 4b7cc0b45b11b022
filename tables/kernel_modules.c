/*
 * kernel_modules.c - osquery's `kernel_modules` table: the loaded modules
 * as /proc/modules lists them, one line each:
 *
 *     name size refcount used_by state address
 *     nf_tables 339968 3 nft_ct,nft_chain_nat, Live 0xffffffffc0a5e000
 *
 * used_by loses its trailing comma ("-" when none), as osquery shows it.
 * Addresses read 0x0000000000000000 without CAP_SYSLOG (kptr_restrict).
 * A kernel without module support has no /proc/modules: no rows.
 */
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "table.h"

enum { C_NAME, C_SIZE, C_USED_BY, C_STATUS, C_ADDRESS };

static const struct mm_column cols[] = {
	{ "name", MM_TEXT, 0, "Module name (underscores, as the kernel names it)" },
	{ "size", MM_BIGINT, 0, "Size of the module's memory image in bytes" },
	{ "used_by", MM_TEXT, 0, "Modules that depend on this one, comma separated ('-' when none)" },
	{ "status", MM_TEXT, 0, "Module state: Live, Loading or Unloading" },
	{ "address", MM_TEXT, 0, "Load address (zero when the reader may not see kernel addresses)" },
	{ NULL },
};

static int gen(struct mm_ctx *ctx)
{
	char *data = NULL, *line, *f[8];
	size_t len, pos = 0, ul;
	int64_t size;
	int r, lineno = 0, nf;

	if ((r = mm_read(ctx, "/proc/modules", MM_READ_CAP, &data, &len)) != 0) {
		if (r != MM_ERR_NOTFOUND)
			mm_warn(ctx, "/proc/modules: cannot read: %s", mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	r = 0;
	while (r == 0 && (line = mm_next_line(data, len, &pos)) != NULL) {
		lineno++;
		if (mm_trim(line)[0] == '\0')
			continue;
		nf = mm_split_ws(line, " \t", f, 8);
		if (nf < 6 || mm_parse_i64(f[1], &size) != 0 || size < 0 ||
		    !mm_is_text(f[0], strlen(f[0]))) {
			mm_warn(ctx, "/proc/modules:%d: expected 'name size refs used_by state address'",
				lineno);
			continue;
		}
		if ((r = mm_row_begin(ctx)) != 0)
			break;
		mm_set_text(ctx, C_NAME, f[0]);
		mm_set_int(ctx, C_SIZE, size);
		ul = strlen(f[3]);
		mm_set_textn(ctx, C_USED_BY, f[3], ul > 1 && f[3][ul - 1] == ',' ? ul - 1 : ul);
		mm_set_text(ctx, C_STATUS, f[4]);
		mm_set_text(ctx, C_ADDRESS, f[5]);
		r = mm_row_end(ctx);
	}
	free(data);
	return r;
}

const struct mm_table mm_table_kernel_modules = {
	.name = "kernel_modules",
	.description = "Kernel modules loaded now, from /proc/modules: size, the modules using "
		       "each one, state and load address. See kernel_module_rules for the modules "
		       "modprobe is told not to load.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT name, size, used_by FROM kernel_modules\n"
		   "WHERE name IN ('cramfs', 'freevxfs', 'hfs', 'hfsplus', 'jffs2', 'udf', 'usb_storage');",
};
