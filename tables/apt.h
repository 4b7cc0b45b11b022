/*
 * apt.h - a read-only model of APT's state under the root prefix, enough to
 * compute what `apt list --upgradable` shows without running apt:
 *
 *   sources     /etc/apt/sources.list, sources.list.d/NAME.list (one-line
 *               format) and NAME.sources (deb822), with options
 *   releases    the InRelease/Release file of each configured suite under
 *               /var/lib/apt/lists (Origin, Label, Suite, Codename, ...)
 *   lists       each suite's Packages lists, plain or .gz/.xz/.zst/.lz4
 *   pins        /etc/apt/preferences and preferences.d/NAME (Package, Pin:
 *               release/origin/version, Pin-Priority)
 *   config      apt.conf and apt.conf.d/NAME (for APT::Periodic and
 *               APT::Architecture)
 *   installed   /var/lib/dpkg/status
 *
 * Candidate selection follows apt's policy: every available version gets
 * the highest priority among the files that carry it (500 by default, 1 for
 * NotAutomatic, 100 for NotAutomatic with ButAutomaticUpgrades, 100 for the
 * installed version's dpkg status, pins override); the candidate is the
 * version with the highest priority, the higher version winning ties; a
 * version older than the installed one is chosen only with a priority of
 * at least 1000.
 */
#ifndef MM_TABLES_APT_H
#define MM_TABLES_APT_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

struct apt_source {
	char *file;        /* host path of the sources file */
	int line;          /* line (one-line format) or stanza start (deb822) */
	char *type;        /* "deb" or "deb-src" */
	char *uri;         /* base URI without trailing '/' */
	char *suite;       /* suite, or a flat-repository path ending in '/' */
	char *components;  /* space-separated */
	char *arch;        /* arch= / Architectures: option ("" when unset) */
	char *signed_by;   /* signed-by= / Signed-By: option ("" when unset) */
	int enabled;       /* 0 for Enabled: no */
	char *list_prefix; /* file-name prefix of its files under /var/lib/apt/lists */
};

struct apt_release {
	char *path;        /* host path of the InRelease/Release file, NULL if none */
	char *origin, *label, *suite, *codename, *version, *components, *architectures;
	char *date;
	int not_automatic, but_automatic_upgrades;
	char *site;        /* host part of the source URI */
};

struct apt_version {
	char *version;
	int priority;          /* highest pin priority among its files */
	int security;          /* 1 if any file carrying it is a security pocket */
	int rel;               /* index of the release giving the best priority (-1: dpkg status) */
	char *component;       /* component of that file */
};

struct apt_pkg {
	char *name, *arch;         /* installed package and its architecture */
	char *installed;           /* installed version */
	char *source;              /* source package name */
	struct apt_version *avail; /* versions seen in the lists */
	int navail, aavail;
};

struct apt_model;

/* Builds the model.  Malformed input is reported with mm_warn() and skipped.
 * With want_lists 0 the Packages lists are not read (sources, releases,
 * config and dpkg status only).  Returns 0 or MM_ERR_NOMEM/MM_ERR_LIMIT. */
int apt_model_load(struct mm_ctx *ctx, int want_lists, struct apt_model **out);
void apt_model_free(struct apt_model *m);

/* Accessors (the model owns everything returned). */
int apt_nsources(const struct apt_model *m);
const struct apt_source *apt_source_at(const struct apt_model *m, int i);
/* The release of source i (never NULL; fields NULL when no Release file). */
const struct apt_release *apt_source_release(const struct apt_model *m, int i);
int apt_npkgs(const struct apt_model *m);
struct apt_pkg *apt_pkg_at(struct apt_model *m, int i);
const struct apt_release *apt_release_at(const struct apt_model *m, int rel);
/* The candidate of an installed package (NULL when no list carries it and
 * the installed version is the candidate). */
const struct apt_version *apt_candidate(const struct apt_pkg *p);
/* The newest modification time among the release files (0 when none). */
int64_t apt_lists_mtime(const struct apt_model *m);
/* An APT configuration value ("APT::Periodic::Unattended-Upgrade"); NULL
 * when unset.  Keys compare case-insensitively. */
const char *apt_config(const struct apt_model *m, const char *key);
int apt_nconfig(const struct apt_model *m);
void apt_config_at(const struct apt_model *m, int i, const char **key, const char **value,
		   const char **file);
/* dpkg status of any package (installed or not), for patch summaries:
 * returns the version when installed ("install ok installed"), else NULL. */
const char *apt_installed_version(const struct apt_model *m, const char *name);

/* Parses one sources.list line (exposed for fuzzing).  Returns 1 and fills s
 * (caller frees with apt_source_clear) for a deb/deb-src entry, 0 for a
 * blank or comment line, MM_ERR_PARSE with *why set for a malformed one. */
int apt_parse_source_line(const char *line, struct apt_source *s, const char **why);
void apt_source_clear(struct apt_source *s);
/* Computes apt's list-file prefix for uri + suite into out. */
int apt_list_prefix(const char *uri, const char *suite, char *out, size_t outsz);

#endif
