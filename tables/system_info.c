/*
 * system_info.c - osquery's `system_info` table: one row identifying the
 * machine: host names, UUID, CPU, memory and the DMI hardware strings, all
 * read through the root prefix:
 *
 *   hostname        /proc/sys/kernel/hostname, else /etc/hostname; made fully
 *                   qualified from /etc/hosts when a line lists the name with a
 *                   dotted canonical name first ("127.0.1.1 web01.example.com
 *                   web01"), as the resolver's files backend would
 *   CPU             /proc/cpuinfo (sysparse.c); cpu_type is the architecture
 *   memory          MemTotal of /proc/meminfo
 *   hardware/board  /sys/class/dmi/id/{sys_vendor,product_*,board_*}
 *
 * osquery asks DNS for the FQDN, uname() for cpu_type, sysconf() for memory
 * and parses the raw SMBIOS tables; the files used here hold the same values
 * and work on a mounted image too.  Unknown text values are NULL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "strutil.h"
#include "sysparse.h"
#include "table.h"

enum { C_HOSTNAME, C_UUID, C_CPU_TYPE, C_CPU_SUBTYPE, C_CPU_BRAND, C_CPU_PHYSICAL_CORES,
       C_CPU_LOGICAL_CORES, C_CPU_SOCKETS, C_CPU_MICROCODE, C_PHYSICAL_MEMORY, C_HW_VENDOR,
       C_HW_MODEL, C_HW_VERSION, C_HW_SERIAL, C_BOARD_VENDOR, C_BOARD_MODEL, C_BOARD_VERSION,
       C_BOARD_SERIAL, C_COMPUTER_NAME, C_LOCAL_HOSTNAME, C_EMULATED_CPU_TYPE };

static const struct mm_column cols[] = {
	{ "hostname", MM_TEXT, 0, "Host name, fully qualified when /etc/hosts gives a domain" },
	{ "uuid", MM_TEXT, 0, "Host UUID: DMI product_uuid, else /etc/machine-id" },
	{ "cpu_type", MM_TEXT, 0, "CPU architecture, e.g. 'x86_64'" },
	{ "cpu_subtype", MM_TEXT, 0, "CPU model number from /proc/cpuinfo ('0' if none)" },
	{ "cpu_brand", MM_TEXT, 0, "CPU brand string, vendor and model" },
	{ "cpu_physical_cores", MM_INTEGER, 0, "Physical CPU cores" },
	{ "cpu_logical_cores", MM_INTEGER, 0, "Logical CPUs (hardware threads) online" },
	{ "cpu_sockets", MM_INTEGER, 0, "CPU sockets (packages), NULL when unknown" },
	{ "cpu_microcode", MM_TEXT, 0, "Microcode revision" },
	{ "physical_memory", MM_BIGINT, 0, "Memory in bytes (MemTotal), -1 when unknown" },
	{ "hardware_vendor", MM_TEXT, 0, "System vendor (DMI)" },
	{ "hardware_model", MM_TEXT, 0, "System product name (DMI)" },
	{ "hardware_version", MM_TEXT, 0, "System product version (DMI)" },
	{ "hardware_serial", MM_TEXT, 0, "System serial number (DMI; readable by root only)" },
	{ "board_vendor", MM_TEXT, 0, "Board vendor (DMI)" },
	{ "board_model", MM_TEXT, 0, "Board name (DMI)" },
	{ "board_version", MM_TEXT, 0, "Board version (DMI)" },
	{ "board_serial", MM_TEXT, 0, "Board serial number (DMI; readable by root only)" },
	{ "computer_name", MM_TEXT, 0, "The kernel's host name (short)" },
	{ "local_hostname", MM_TEXT, 0, "Same as hostname" },
	{ "emulated_cpu_type", MM_TEXT, 0, "Emulated CPU type (macOS Rosetta): NULL on Linux" },
	{ NULL },
};

/* DMI file per column, in column order from C_HW_VENDOR. */
static const char *const dmi_files[] = {
	"/sys/class/dmi/id/sys_vendor",	   "/sys/class/dmi/id/product_name",
	"/sys/class/dmi/id/product_version", "/sys/class/dmi/id/product_serial",
	"/sys/class/dmi/id/board_vendor",    "/sys/class/dmi/id/board_name",
	"/sys/class/dmi/id/board_version",   "/sys/class/dmi/id/board_serial",
};

/* Reads a one-line file under the root into out (trimmed); "" when missing,
 * unreadable or not text. */
static void read_line(struct mm_ctx *ctx, const char *path, char *out, size_t outsz)
{
	char *data = NULL, *s, *nl;
	size_t len;

	out[0] = '\0';
	if (mm_read(ctx, path, 65536, &data, &len) != 0)
		return;
	if ((nl = strchr(data, '\n')) != NULL)
		*nl = '\0';
	s = mm_trim(data);
	if (mm_is_text(s, strlen(s)))
		snprintf(out, outsz, "%s", s);
	free(data);
}

/* The canonical name /etc/hosts gives host, when it is host + "." + domain;
 * else host itself.  Writes into out. */
static void fqdn(struct mm_ctx *ctx, const char *host, char *out, size_t outsz)
{
	char *data = NULL, *line, *hash, *f[64];
	size_t len, pos = 0, hl = strlen(host);
	int nf, i, found = 0;

	snprintf(out, outsz, "%s", host);
	if (hl == 0 || strchr(host, '.') != NULL)
		return;
	if (mm_read(ctx, "/etc/hosts", MM_READ_CAP, &data, &len) != 0)
		return;
	while (!found && (line = mm_next_line(data, len, &pos)) != NULL) {
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		nf = mm_split_ws(line, " \t\r", f, 64);
		for (i = 2; i < nf && !found; i++)
			if (strcmp(f[i], host) == 0 && strncmp(f[1], host, hl) == 0 &&
			    f[1][hl] == '.' && f[1][hl + 1] != '\0') {
				snprintf(out, outsz, "%s", f[1]);
				found = 1;
			}
	}
	free(data);
}

/* MemTotal from /proc/meminfo in bytes, or -1. */
static int64_t mem_total(struct mm_ctx *ctx)
{
	char *data = NULL, *line, *f[4];
	size_t len, pos = 0;
	int64_t kb, v = -1;

	if (mm_read(ctx, "/proc/meminfo", MM_READ_CAP, &data, &len) != 0)
		return -1;
	while ((line = mm_next_line(data, len, &pos)) != NULL) {
		if (!mm_startswith(line, "MemTotal:"))
			continue;
		if (mm_split_ws(line + 9, " \t\r", f, 4) >= 1 && mm_parse_i64(f[0], &kb) == 0 &&
		    kb >= 0 && kb < INT64_MAX / 1024)
			v = kb * 1024;
		break;
	}
	free(data);
	return v;
}

static int gen(struct mm_ctx *ctx)
{
	struct mm_cpuinfo ci;
	char host[256], full[512], uuid[37], arch[64], dmi[256];
	char *data = NULL;
	size_t len, i;
	int64_t mem;
	int r, have_ci = 0;

	read_line(ctx, "/proc/sys/kernel/hostname", host, sizeof(host));
	if (host[0] == '\0')
		read_line(ctx, "/etc/hostname", host, sizeof(host));
	fqdn(ctx, host, full, sizeof(full));
	if (mm_host_uuid(ctx, uuid) != 0)
		uuid[0] = '\0';
	mm_host_arch(ctx, arch, sizeof(arch));
	memset(&ci, 0, sizeof(ci));
	if (mm_read(ctx, "/proc/cpuinfo", MM_READ_CAP, &data, &len) == 0) {
		if ((r = mm_cpuinfo_parse(data, len, &ci)) != 0)
			goto out;
		have_ci = 1;
	}
	mem = mem_total(ctx);

	if ((r = mm_row_begin(ctx)) != 0)
		goto out;
	mm_set_text(ctx, C_HOSTNAME, host[0] != '\0' ? full : NULL);
	mm_set_text(ctx, C_UUID, uuid);
	mm_set_text(ctx, C_CPU_TYPE, arch[0] != '\0' ? arch : NULL);
	mm_set_text(ctx, C_CPU_SUBTYPE, ci.model[0] != '\0' ? ci.model : "0");
	mm_set_text(ctx, C_CPU_BRAND, ci.brand[0] != '\0' ? ci.brand : NULL);
	if (have_ci && ci.logical > 0) {
		mm_set_int(ctx, C_CPU_PHYSICAL_CORES, ci.physical);
		mm_set_int(ctx, C_CPU_LOGICAL_CORES, ci.logical);
	} else {
		mm_set_int(ctx, C_CPU_PHYSICAL_CORES, -1);
		mm_set_int(ctx, C_CPU_LOGICAL_CORES, -1);
	}
	if (ci.sockets > 0)
		mm_set_int(ctx, C_CPU_SOCKETS, ci.sockets);
	mm_set_text(ctx, C_CPU_MICROCODE, ci.microcode[0] != '\0' ? ci.microcode : NULL);
	mm_set_int(ctx, C_PHYSICAL_MEMORY, mem);
	for (i = 0; i < sizeof(dmi_files) / sizeof(dmi_files[0]); i++) {
		if (!mm_col_used(ctx, C_HW_VENDOR + (int)i))
			continue;
		read_line(ctx, dmi_files[i], dmi, sizeof(dmi));
		mm_set_text(ctx, C_HW_VENDOR + (int)i, dmi[0] != '\0' ? dmi : NULL);
	}
	mm_set_text(ctx, C_COMPUTER_NAME, host[0] != '\0' ? host : NULL);
	mm_set_text(ctx, C_LOCAL_HOSTNAME, host[0] != '\0' ? full : NULL);
	r = mm_row_end(ctx);
out:
	free(data);
	return r;
}

const struct mm_table mm_table_system_info = {
	.name = "system_info",
	.description = "One row identifying the machine: host name, UUID, CPU, memory and the "
		       "hardware vendor, model and serial numbers.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT hostname, cpu_brand, cpu_logical_cores, physical_memory, "
		   "hardware_vendor, hardware_model FROM system_info;",
	.notes = "Everything is read through the root prefix: the host name from "
		 "/proc/sys/kernel/hostname (else /etc/hostname), qualified from /etc/hosts only "
		 "(no DNS query, unlike osquery); CPU counts from /proc/cpuinfo (physical cores are "
		 "distinct physical id/core id pairs); memory from MemTotal; hardware from "
		 "/sys/class/dmi/id (serial numbers need root). Missing values are NULL.",
};
