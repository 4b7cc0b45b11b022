/*
 * kernel_info.c - osquery's `kernel_info` table: the running kernel's release
 * and boot command line, read through the root prefix.
 *
 *   version    /proc/sys/kernel/osrelease (what uname -r prints), else the
 *              third word of /proc/version ("Linux version 6.1.0-13-amd64 ...")
 *   path       the BOOT_IMAGE= value of /proc/cmdline (set by GRUB)
 *   device     the root= value (a device, UUID=..., PARTUUID=...)
 *   arguments  the other words of the command line, joined by single spaces
 *
 * As osquery, BOOT_IMAGE= and root= are taken out of `arguments`; the row is
 * always produced, with NULLs for what cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strutil.h"
#include "sysparse.h"
#include "table.h"

enum { C_VERSION, C_ARGUMENTS, C_PATH, C_DEVICE };

static const struct mm_column cols[] = {
	{ "version", MM_TEXT, 0, "Kernel release, as uname -r prints it" },
	{ "arguments", MM_TEXT, 0, "Kernel command line without BOOT_IMAGE= and root=" },
	{ "path", MM_TEXT, 0, "Kernel image the boot loader loaded (BOOT_IMAGE=)" },
	{ "device", MM_TEXT, 0, "Root device from the command line (root=)" },
	{ NULL },
};

/* The kernel release into out ("" when unknown). */
static void kernel_release(struct mm_ctx *ctx, char *out, size_t outsz)
{
	char *data = NULL, *s, *p, *w;
	size_t len;
	int i;

	out[0] = '\0';
	if (mm_read(ctx, "/proc/sys/kernel/osrelease", 4096, &data, &len) == 0) {
		s = mm_trim(data);
		if (mm_is_text(s, strlen(s)))
			snprintf(out, outsz, "%s", s);
		free(data);
		if (out[0] != '\0')
			return;
	}
	data = NULL;
	if (mm_read(ctx, "/proc/version", 65536, &data, &len) != 0)
		return;
	/* "Linux version RELEASE (builder) ...": the third word, if the second
	 * is "version". */
	p = data;
	for (i = 0; i < 3 && (w = mm_cmdline_next(&p)) != NULL; i++) {
		if (i == 1 && strcmp(w, "version") != 0)
			break;
		if (i == 2 && mm_is_text(w, strlen(w)))
			snprintf(out, outsz, "%s", w);
	}
	free(data);
}

static int gen(struct mm_ctx *ctx)
{
	struct mm_buf args;
	char *data = NULL, *p, *w, *path = NULL, *device = NULL;
	char release[256];
	size_t len;
	int r, have_cmdline = 0;

	mm_buf_init(&args, MM_READ_CAP);
	kernel_release(ctx, release, sizeof(release));
	r = mm_read(ctx, "/proc/cmdline", MM_READ_CAP, &data, &len);
	if (r == 0) {
		have_cmdline = 1;
		p = data;
		while ((w = mm_cmdline_next(&p)) != NULL) {
			if (mm_startswith(w, "BOOT_IMAGE=")) {
				path = w + 11;
			} else if (mm_startswith(w, "root=")) {
				device = w + 5;
			} else {
				if (args.len > 0 && (r = mm_buf_addc(&args, ' ')) != 0)
					goto out;
				if ((r = mm_buf_adds(&args, w)) != 0)
					goto out;
			}
		}
	} else if (r != MM_ERR_NOTFOUND) {
		mm_warn(ctx, "/proc/cmdline: %s", mm_strerror(r));
	}

	if ((r = mm_row_begin(ctx)) != 0)
		goto out;
	mm_set_text(ctx, C_VERSION, release[0] != '\0' ? release : NULL);
	mm_set_text(ctx, C_ARGUMENTS, have_cmdline ? mm_buf_str(&args) : NULL);
	mm_set_text(ctx, C_PATH, path);
	mm_set_text(ctx, C_DEVICE, device);
	r = mm_row_end(ctx);
out:
	mm_buf_free(&args);
	free(data);
	return r;
}

const struct mm_table mm_table_kernel_info = {
	.name = "kernel_info",
	.description = "The running kernel: release, boot image, root device and command line.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT version, path, device, arguments FROM kernel_info;",
	.notes = "version is /proc/sys/kernel/osrelease (uname -r), else parsed from "
		 "/proc/version. The command line is split at white space outside double quotes; "
		 "BOOT_IMAGE= gives path and root= gives device, and both are left out of "
		 "arguments, as osquery does.",
};
