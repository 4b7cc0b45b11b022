/*
 * patch_status.c - one row summing up a host's patch level: pending and
 * pending security updates (as apt_upgradable counts them), when the
 * package lists were last refreshed, whether unattended-upgrades is
 * installed and switched on, and whether a reboot is needed — from
 * /run/reboot-required and, independently, from the running kernel against
 * the newest installed linux-image package.  osquery has no such table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apt.h"
#include "dpkgver.h"
#include "strutil.h"
#include "table.h"

enum { C_PENDING, C_PENDING_SEC, C_LISTS_UPDATED, C_LISTS_AGE, C_UU_INSTALLED,
       C_PERIODIC_UPDATE, C_PERIODIC_UU, C_UU_ENABLED, C_REBOOT_FILE, C_REBOOT_PKGS,
       C_RUNNING_KERNEL, C_NEWEST_KERNEL, C_KERNEL_REBOOT, C_REBOOT };

static const struct mm_column cols[] = {
	{ "pending_updates", MM_INTEGER, 0, "Installed packages with a newer candidate" },
	{ "pending_security_updates", MM_INTEGER, 0, "Of those, candidates from a security pocket" },
	{ "lists_updated", MM_BIGINT, 0,
	  "UNIX time of the newest Release file under /var/lib/apt/lists (last apt update); "
	  "0 when none" },
	{ "lists_age_seconds", MM_BIGINT, 0, "Seconds since lists_updated (NULL when never)" },
	{ "unattended_upgrades_installed", MM_INTEGER, 0, "1 if unattended-upgrades is installed" },
	{ "periodic_update_package_lists", MM_TEXT, 0, "APT::Periodic::Update-Package-Lists" },
	{ "periodic_unattended_upgrade", MM_TEXT, 0, "APT::Periodic::Unattended-Upgrade" },
	{ "unattended_upgrades_enabled", MM_INTEGER, 0,
	  "1 if unattended-upgrades is installed and both APT::Periodic settings are on "
	  "(non-zero)" },
	{ "reboot_required_file", MM_INTEGER, 0, "1 if /run/reboot-required exists" },
	{ "reboot_required_packages", MM_TEXT, 0, "Packages listed in /run/reboot-required.pkgs" },
	{ "running_kernel", MM_TEXT, 0, "Running kernel release (/proc/sys/kernel/osrelease)" },
	{ "newest_installed_kernel", MM_TEXT, 0,
	  "Release of the newest installed linux-image-* package (NULL when none)" },
	{ "kernel_reboot_required", MM_INTEGER, 0,
	  "1 if the running kernel is not the newest installed one; NULL when no linux-image "
	  "package is installed (containers) or the running kernel is unknown" },
	{ "reboot_required", MM_INTEGER, 0, "1 if either reason says a reboot is needed" },
	{ NULL },
};

static int on(const char *v)
{
	return v != NULL && *v != '\0' && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0 &&
	       strcasecmp(v, "no") != 0;
}

static int exists(struct mm_ctx *ctx, const char *path)
{
	char full[4096];
	struct stat st;

	return mm_rpath(ctx, path, full, sizeof(full)) == 0 && stat(full, &st) == 0;
}

static char *read_trim(struct mm_ctx *ctx, const char *path)
{
	char *data = NULL, *t;
	size_t len;

	if (mm_read(ctx, path, 65536, &data, &len) != 0)
		return NULL;
	t = mm_trim(data);
	memmove(data, t, strlen(t) + 1);
	return data;
}

static int gen(struct mm_ctx *ctx)
{
	int want_lists = mm_col_used(ctx, C_PENDING) || mm_col_used(ctx, C_PENDING_SEC);
	struct apt_model *m = NULL;
	int i, r, pending = 0, security = 0, reboot_file;
	const char *newest = NULL, *newest_ver = NULL, *uu;
	char *running = NULL, *pkgs = NULL, rel[256];
	int64_t updated;

	if ((r = apt_model_load(ctx, want_lists, &m)) != 0)
		return r;
	for (i = 0; i < apt_npkgs(m); i++) {
		struct apt_pkg *p = apt_pkg_at(m, i);
		const struct apt_version *c;
		if (want_lists && (c = apt_candidate(p)) != NULL) {
			pending++;
			security += c->security;
		}
		/* linux-image-<release>, not the linux-image-amd64 meta package
		 * nor -dbg packages. */
		if (mm_startswith(p->name, "linux-image-") && isdigit((unsigned char)p->name[12]) &&
		    !mm_endswith(p->name, "-dbg") &&
		    (newest_ver == NULL || mm_dpkg_vercmp(p->installed, newest_ver) > 0)) {
			newest = p->name + 12;
			newest_ver = p->installed;
		}
	}
	rel[0] = '\0';
	if (newest != NULL) {
		snprintf(rel, sizeof(rel), "%s", newest);
		if (mm_endswith(rel, "-unsigned"))
			rel[strlen(rel) - 9] = '\0';
	}
	running = read_trim(ctx, "/proc/sys/kernel/osrelease");
	pkgs = read_trim(ctx, "/run/reboot-required.pkgs");
	if (pkgs == NULL)
		pkgs = read_trim(ctx, "/var/run/reboot-required.pkgs");
	if (pkgs != NULL)
		for (char *p = pkgs; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
	reboot_file = exists(ctx, "/run/reboot-required") || exists(ctx, "/var/run/reboot-required");
	updated = apt_lists_mtime(m);
	uu = apt_installed_version(m, "unattended-upgrades");
	if ((r = mm_row_begin(ctx)) != 0)
		goto out;
	if (want_lists) {
		mm_set_int(ctx, C_PENDING, pending);
		mm_set_int(ctx, C_PENDING_SEC, security);
	}
	mm_set_int(ctx, C_LISTS_UPDATED, updated);
	if (updated > 0)
		mm_set_int(ctx, C_LISTS_AGE, (int64_t)time(NULL) - updated);
	mm_set_int(ctx, C_UU_INSTALLED, uu != NULL);
	mm_set_text(ctx, C_PERIODIC_UPDATE, apt_config(m, "APT::Periodic::Update-Package-Lists"));
	mm_set_text(ctx, C_PERIODIC_UU, apt_config(m, "APT::Periodic::Unattended-Upgrade"));
	mm_set_int(ctx, C_UU_ENABLED,
		   uu != NULL && on(apt_config(m, "APT::Periodic::Update-Package-Lists")) &&
			   on(apt_config(m, "APT::Periodic::Unattended-Upgrade")));
	mm_set_int(ctx, C_REBOOT_FILE, reboot_file);
	mm_set_text(ctx, C_REBOOT_PKGS, pkgs != NULL ? pkgs : "");
	mm_set_text(ctx, C_RUNNING_KERNEL, running);
	if (newest != NULL && running != NULL) {
		int kr = strcmp(running, rel) != 0;
		mm_set_text(ctx, C_NEWEST_KERNEL, rel);
		mm_set_int(ctx, C_KERNEL_REBOOT, kr);
		mm_set_int(ctx, C_REBOOT, reboot_file || kr);
	} else if (newest != NULL) {
		/* The running kernel is unknown (no /proc in an image). */
		mm_set_text(ctx, C_NEWEST_KERNEL, rel);
		mm_set_int(ctx, C_REBOOT, reboot_file);
	} else {
		mm_set_int(ctx, C_REBOOT, reboot_file);
	}
	r = mm_row_end(ctx);
out:
	free(running);
	free(pkgs);
	apt_model_free(m);
	return r;
}

const struct mm_table mm_table_patch_status = {
	.name = "patch_status",
	.description = "The host's patch level in one row: pending and pending security updates, "
		       "age of the package lists, unattended-upgrades, and whether a reboot is "
		       "required (the reboot-required flag file, and the running kernel against "
		       "the newest installed linux-image package).",
	.columns = cols,
	.generate = gen,
	.example = "SELECT pending_security_updates, lists_age_seconds / 86400 AS lists_age_days, "
		   "unattended_upgrades_enabled, reboot_required FROM patch_status;",
};
