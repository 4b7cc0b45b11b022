/*
 * apt_upgradable.c - pending updates: one row per installed package whose
 * APT candidate is newer than the installed version, as `apt list
 * --upgradable` shows, computed from the package lists without running apt
 * (see apt.h for the policy).  osquery has no such table.
 */
#include <stdio.h>
#include <string.h>

#include "apt.h"
#include "table.h"

enum { C_NAME, C_ARCH, C_INSTALLED, C_CANDIDATE, C_SOURCE, C_SECURITY, C_ORIGIN, C_LABEL,
       C_ARCHIVE, C_CODENAME, C_COMPONENT, C_SITE, C_PRIORITY };

static const struct mm_column cols[] = {
	{ "name", MM_TEXT, MM_COL_INDEX, "Installed package" },
	{ "arch", MM_TEXT, 0, "Its architecture" },
	{ "installed_version", MM_TEXT, 0, "Version installed now" },
	{ "candidate_version", MM_TEXT, 0, "Version apt would install (the candidate)" },
	{ "source", MM_TEXT, 0, "Source package (what security advisories name)" },
	{ "security", MM_INTEGER, 0,
	  "1 if the candidate comes from a security pocket (Label Debian-Security, or a suite "
	  "or codename ending in -security)" },
	{ "origin", MM_TEXT, 0, "Origin of the candidate's release" },
	{ "label", MM_TEXT, 0, "Label of the candidate's release" },
	{ "archive", MM_TEXT, 0, "Suite (archive) of the candidate's release, e.g. stable-security" },
	{ "codename", MM_TEXT, 0, "Codename of the candidate's release, e.g. bookworm-security" },
	{ "component", MM_TEXT, 0, "Component, e.g. main" },
	{ "site", MM_TEXT, 0, "Host serving the candidate" },
	{ "pin_priority", MM_INTEGER, 0, "APT pin priority of the candidate" },
	{ NULL },
};

static int gen(struct mm_ctx *ctx)
{
	struct apt_model *m = NULL;
	int i, r;

	if ((r = apt_model_load(ctx, 1, &m)) != 0) {
		if (r == MM_ERR_LIMIT)
			return r;
		mm_error(ctx, "cannot read the APT state: %s", mm_strerror(r));
		return r;
	}
	for (i = 0; i < apt_npkgs(m) && r == 0; i++) {
		struct apt_pkg *p = apt_pkg_at(m, i);
		const struct apt_version *c;
		const struct apt_release *rel;
		if (!mm_eq_allows(ctx, C_NAME, p->name))
			continue;
		if ((c = apt_candidate(p)) == NULL)
			continue;
		rel = apt_release_at(m, c->rel);
		if ((r = mm_row_begin(ctx)) != 0)
			break;
		mm_set_text(ctx, C_NAME, p->name);
		mm_set_text(ctx, C_ARCH, p->arch);
		mm_set_text(ctx, C_INSTALLED, p->installed);
		mm_set_text(ctx, C_CANDIDATE, c->version);
		mm_set_text(ctx, C_SOURCE, p->source);
		mm_set_int(ctx, C_SECURITY, c->security);
		if (rel != NULL) {
			mm_set_text(ctx, C_ORIGIN, rel->origin);
			mm_set_text(ctx, C_LABEL, rel->label);
			mm_set_text(ctx, C_ARCHIVE, rel->suite);
			mm_set_text(ctx, C_CODENAME, rel->codename);
			mm_set_text(ctx, C_SITE, rel->site);
		}
		mm_set_text(ctx, C_COMPONENT, c->component);
		mm_set_int(ctx, C_PRIORITY, c->priority);
		r = mm_row_end(ctx);
	}
	apt_model_free(m);
	return r;
}

const struct mm_table mm_table_apt_upgradable = {
	.name = "apt_upgradable",
	.description = "Pending updates: each installed package whose APT candidate is newer "
		       "than the installed version, with where the candidate comes from and "
		       "whether it is a security update. Computed from /var/lib/apt/lists "
		       "(plain, .gz, .xz, .zst or .lz4), the sources, /etc/apt/preferences "
		       "pins and /var/lib/dpkg/status, as `apt list --upgradable` would; apt is "
		       "never run.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT name, installed_version, candidate_version, source FROM apt_upgradable "
		   "WHERE security = 1 ORDER BY source;",
	.notes = "Candidate selection follows apt's policy: each available version gets the "
		 "highest pin priority among the package files carrying it (500 by default, 990 "
		 "for APT::Default-Release, 1 for a NotAutomatic release, 100 with "
		 "ButAutomaticUpgrades, 100 for the installed version; `Package:`/`Pin:`/"
		 "`Pin-Priority:` records in /etc/apt/preferences and preferences.d override, "
		 "specific records before `Package: *` ones, the first match winning), the "
		 "highest priority wins and the higher version breaks ties; an older version is "
		 "chosen only with priority >= 1000 (and then is not listed, as apt does not list "
		 "downgrades as upgradable). Package lists whose sources are no longer configured "
		 "are ignored, as apt ignores them.",
};
