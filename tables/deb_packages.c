/*
 * deb_packages.c - osquery's `deb_packages`: the packages dpkg knows, read
 * from <admindir>/status (default /var/lib/dpkg) with the deb822 parser in
 * lib/deb822.h, once per scan and without libdpkg.
 *
 * Which packages: every stanza whose Status is not "not-installed", as
 * osquery does (it drops only PKG_STAT_NOTINSTALLED), so packages removed
 * with their configuration left ("deinstall ok config-files"), half-installed
 * and unpacked ones are listed too; filter on status to get only installed
 * ones.  Damaged stanzas (no Package, no or a bad Status, no Version) are
 * skipped with a warning naming the file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deb822.h"
#include "strutil.h"
#include "table.h"

enum { C_NAME, C_VERSION, C_SOURCE, C_SIZE, C_ARCH, C_REVISION, C_STATUS, C_MAINTAINER,
       C_SECTION, C_PRIORITY, C_ADMINDIR, C_PID_WITH_NAMESPACE, C_MOUNT_NAMESPACE_ID,
       C_SOURCE_VERSION };

static const struct mm_column cols[] = {
	{ "name", MM_TEXT, MM_COL_INDEX, "Package name" },
	{ "version", MM_TEXT, 0, "Package version, with the epoch when it is not 0" },
	{ "source", MM_TEXT, 0,
	  "Source package name: the Source field without its '(version)', or the package name "
	  "when there is no Source field" },
	{ "size", MM_BIGINT, 0, "Installed-Size as dpkg records it (KiB, as osquery reports it)" },
	{ "arch", MM_TEXT, 0, "Package architecture (amd64, all, ...)" },
	{ "revision", MM_TEXT, 0, "Debian revision: the version after its last '-' ('' if native)" },
	{ "status", MM_TEXT, 0, "dpkg status: want, error flag and state ('install ok installed')" },
	{ "maintainer", MM_TEXT, 0, "Package maintainer" },
	{ "section", MM_TEXT, 0, "Package section" },
	{ "priority", MM_TEXT, 0, "Package priority ('unknown' when the stanza has none)" },
	{ "admindir", MM_TEXT, MM_COL_INDEX,
	  "dpkg admin directory read (default /var/lib/dpkg; '=' reads another one)" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ "mount_namespace_id", MM_TEXT, MM_COL_HIDDEN, "Unused on Mamori (always '')" },
	{ "source_version", MM_TEXT, MM_COL_HIDDEN,
	  "Mamori: source package version, from Source's '(version)' or else the package "
	  "version (what security trackers match on)" },
	{ NULL },
};

#define DEFAULT_ADMINDIR "/var/lib/dpkg"
#define STATUS_CAP (128u * 1024u * 1024u) /* a large server's status is ~10 MiB */

/* The names dpkg writes in the three words of Status (lib/dpkg's tables). */
static const char *const wants[] = { "unknown", "install", "hold", "deinstall", "purge", NULL };
static const char *const eflags[] = { "ok", "reinstreq", NULL };
static const char *const states[] = { "not-installed", "config-files", "half-installed",
				      "unpacked", "half-configured", "triggers-awaited",
				      "triggers-pending", "installed", NULL };
static const char *const priorities[] = { "required", "important", "standard", "optional",
					  "extra", NULL };

struct scan {
	struct mm_ctx *ctx;
	const char *path; /* host path of the status file, for messages */
};

static void on_parse_error(void *arg, int line, const char *msg)
{
	struct scan *s = arg;

	mm_warn(s->ctx, "%s:%d: %s", s->path, line, msg);
}

/* Returns the index of the n-byte word w in list, or -1. */
static int lookup(const char *const *list, const char *w, size_t n)
{
	int i;

	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && strncmp(list[i], w, n) == 0)
			return i;
	return -1;
}

/* Splits a Status value into its three words, checked against dpkg's names.
 * Returns the state index, or -1 when the value is malformed. */
static int parse_status(const char *v, char *out, size_t outsz)
{
	const char *w[3];
	size_t wl[3];
	int i, st = -1;

	for (i = 0; i < 3; i++) {
		while (*v == ' ' || *v == '\t')
			v++;
		w[i] = v;
		while (*v != '\0' && *v != ' ' && *v != '\t' && *v != '\n')
			v++;
		wl[i] = (size_t)(v - w[i]);
		if (wl[i] == 0)
			return -1;
	}
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v != '\0' || lookup(wants, w[0], wl[0]) < 0 || lookup(eflags, w[1], wl[1]) < 0 ||
	    (st = lookup(states, w[2], wl[2])) < 0)
		return -1;
	snprintf(out, outsz, "%.*s %.*s %.*s", (int)wl[0], w[0], (int)wl[1], w[1], (int)wl[2],
		 w[2]);
	return st;
}

/* The fields of one stanza this table reads (NULL when absent). */
struct pkg {
	const char *package, *status, *version, *arch, *source, *size, *maintainer, *section,
		*priority;
};

static void pick(const struct mm_deb822_stanza *st, struct pkg *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < st->nfields; i++) {
		const char *n = st->fields[i].name, *v = st->fields[i].value;
		const char **slot = NULL;

		switch (n[0] | 0x20) { /* first letter, lower case: one strcasecmp per field */
		case 'p':
			if (strcasecmp(n, "Package") == 0)
				slot = &p->package;
			else if (strcasecmp(n, "Priority") == 0)
				slot = &p->priority;
			break;
		case 's':
			if (strcasecmp(n, "Status") == 0)
				slot = &p->status;
			else if (strcasecmp(n, "Source") == 0)
				slot = &p->source;
			else if (strcasecmp(n, "Section") == 0)
				slot = &p->section;
			break;
		case 'v':
			if (strcasecmp(n, "Version") == 0)
				slot = &p->version;
			break;
		case 'a':
			if (strcasecmp(n, "Architecture") == 0)
				slot = &p->arch;
			break;
		case 'i':
			if (strcasecmp(n, "Installed-Size") == 0)
				slot = &p->size;
			break;
		case 'm':
			if (strcasecmp(n, "Maintainer") == 0)
				slot = &p->maintainer;
			break;
		}
		if (slot != NULL)
			*slot = v;
	}
}

/* Emits one package.  v is the version as written. */
static int emit(struct mm_ctx *ctx, const struct pkg *p, const char *status, const char *admindir)
{
	const char *v = p->version, *colon, *dash, *up, *src = p->source, *sv = NULL;
	size_t srclen, svlen = 0;
	int64_t size;
	int r, i;

	/* "0:1.2" is shown as "1.2", as dpkg-query and osquery show it. */
	colon = strchr(v, ':');
	if (colon != NULL && colon > v && strspn(v, "0") == (size_t)(colon - v))
		v = colon + 1;
	up = (colon = strchr(v, ':')) != NULL ? colon + 1 : v;
	dash = strrchr(up, '-');

	/* Source: "name" or "name (version)". */
	if (src != NULL && *src != '\0') {
		srclen = strcspn(src, " \t\n(");
		if ((sv = strchr(src, '(')) != NULL) {
			sv++;
			sv += strspn(sv, " \t");
			svlen = strcspn(sv, ") \t\n");
		}
	} else {
		src = p->package;
		srclen = strlen(src);
	}
	if (sv == NULL) {
		sv = v;
		svlen = strlen(v);
	}

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_NAME, p->package);
	mm_set_text(ctx, C_VERSION, v);
	mm_set_textn(ctx, C_SOURCE, src, srclen);
	if (p->size != NULL && mm_parse_i64(p->size, &size) == 0)
		mm_set_int(ctx, C_SIZE, size);
	mm_set_text(ctx, C_ARCH, p->arch != NULL ? p->arch : "");
	mm_set_text(ctx, C_REVISION, dash != NULL ? dash + 1 : "");
	mm_set_text(ctx, C_STATUS, status);
	mm_set_text(ctx, C_MAINTAINER, p->maintainer != NULL ? p->maintainer : "");
	mm_set_text(ctx, C_SECTION, p->section != NULL ? p->section : "");
	if (p->priority == NULL || *p->priority == '\0') {
		mm_set_text(ctx, C_PRIORITY, "unknown");
	} else {
		/* dpkg reads the known names case-insensitively and shows them in
		 * lower case; anything else as written. */
		for (i = 0; priorities[i] != NULL; i++)
			if (strcasecmp(p->priority, priorities[i]) == 0)
				break;
		mm_set_text(ctx, C_PRIORITY, priorities[i] != NULL ? priorities[i] : p->priority);
	}
	mm_set_text(ctx, C_ADMINDIR, admindir);
	mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
	mm_set_text(ctx, C_MOUNT_NAMESPACE_ID, "");
	mm_set_textn(ctx, C_SOURCE_VERSION, sv, svlen);
	return mm_row_end(ctx);
}

/* Reads <admindir>/status and emits its packages.  Returns 0 or an error
 * from mm_row_end (stop); unreadable files are warnings. */
static int scan_admindir(struct mm_ctx *ctx, const char *admindir)
{
	struct mm_deb822_opts o = { 0 };
	struct mm_deb822 *p = NULL;
	const struct mm_deb822_stanza *st;
	struct scan s = { ctx, NULL };
	char path[4096], status[64];
	char *data = NULL;
	size_t len = 0, dl = strlen(admindir);
	struct pkg pk;
	int r, state;

	if (admindir[0] != '/' || strstr(admindir, "/../") != NULL ||
	    (dl >= 3 && strcmp(admindir + dl - 3, "/..") == 0) || dl > 1024) {
		mm_warn(ctx, "admindir '%.100s' is not a plain absolute path: skipped", admindir);
		return 0;
	}
	snprintf(path, sizeof(path), "%.*s/status",
		 (int)(dl > 1 && admindir[dl - 1] == '/' ? dl - 1 : dl), admindir);
	s.path = path;
	r = mm_read(ctx, path, STATUS_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND) { /* no dpkg here: no rows */
		r = 0;
		goto out;
	}
	if (r != 0) {
		mm_warn(ctx, "%s: %s", path, mm_strerror(r));
		r = 0;
		goto out;
	}
	o.on_error = on_parse_error;
	o.arg = &s;
	if ((r = mm_deb822_new(data, len, &o, &p)) != 0)
		goto out;
	while ((r = mm_deb822_next(p, &st)) > 0) {
		pick(st, &pk);
		if (pk.package == NULL || *pk.package == '\0') {
			mm_warn(ctx, "%s:%d: stanza has no Package field: skipped", path, st->line);
			continue;
		}
		if (pk.status == NULL) {
			mm_warn(ctx, "%s:%d: package %.100s has no Status field: skipped", path,
				st->line, pk.package);
			continue;
		}
		if ((state = parse_status(pk.status, status, sizeof(status))) < 0) {
			mm_warn(ctx, "%s:%d: package %.100s: bad Status '%.60s': skipped", path,
				mm_deb822_find(st, "Status")->line, pk.package, pk.status);
			continue;
		}
		if (state == 0) /* not-installed: dpkg only remembers it */
			continue;
		if (pk.version == NULL || *pk.version == '\0') {
			mm_warn(ctx, "%s:%d: package %.100s has no Version field: skipped", path,
				st->line, pk.package);
			continue;
		}
		if (!mm_eq_allows(ctx, C_NAME, pk.package))
			continue;
		if ((r = emit(ctx, &pk, status, admindir)) != 0)
			goto out;
	}
out:
	mm_deb822_free(p);
	free(data);
	return r < 0 ? r : 0;
}

static int gen(struct mm_ctx *ctx)
{
	int n = mm_eq_count(ctx, C_ADMINDIR), i, r;

	if (n < 0)
		return scan_admindir(ctx, DEFAULT_ADMINDIR);
	for (i = 0; i < n; i++)
		if ((r = scan_admindir(ctx, mm_eq_value(ctx, C_ADMINDIR, i))) != 0)
			return r;
	return 0;
}

const struct mm_table mm_table_deb_packages = {
	.name = "deb_packages",
	.description = "Debian packages known to dpkg, from its status database.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT name, version, source, arch FROM deb_packages "
		   "WHERE status = 'install ok installed';",
	.notes = "Read from <admindir>/status (default /var/lib/dpkg/status) under the root "
		 "prefix; `admindir = '...'` reads another dpkg database. As in osquery, every "
		 "package whose state is not 'not-installed' is listed: removed packages whose "
		 "configuration files remain ('deinstall ok config-files') and half-installed ones "
		 "appear too, so filter on status for what is really installed. Where Mamori "
		 "differs: `source` is the source package name alone (osquery shows the raw Source "
		 "field, '(version)' included, and '' when the field is absent; here an absent "
		 "Source means the package is its own source, so the package name is given), which "
		 "is what vulnerability feeds are keyed by; the hidden `source_version` gives the "
		 "source version to match with it. `size` is Installed-Size in KiB, as osquery "
		 "reports it despite its column description. Stanzas with no Package, no or an "
		 "unknown Status, or no Version, and damaged lines, are skipped with a warning "
		 "naming the line.",
};
