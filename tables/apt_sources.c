/*
 * apt_sources.c - osquery's `apt_sources`: the configured APT repositories,
 * from one-line .list files and deb822 .sources files, with what their
 * Release file says.  Unlike osquery, a source whose Release file is
 * missing (never fetched) is listed too, with those columns NULL: for an
 * audit, a repository apt cannot read is worth seeing.  Mamori's columns
 * follow osquery's.
 */
#include <stdio.h>
#include <string.h>

#include "apt.h"
#include "table.h"

enum { C_NAME, C_SOURCE, C_BASE_URI, C_RELEASE, C_VERSION, C_MAINTAINER, C_COMPONENTS,
       C_ARCHITECTURES, C_PID_WITH_NAMESPACE, C_TYPE, C_SUITE, C_ENTRY_COMPONENTS,
       C_ENTRY_ARCHITECTURES, C_SIGNED_BY, C_ENABLED, C_LINE, C_LABEL, C_ORIGIN, C_RELEASE_FILE };

static const struct mm_column cols[] = {
	{ "name", MM_TEXT, 0, "Repository name: host/path and suite" },
	{ "source", MM_TEXT, 0, "Sources file the entry is in" },
	{ "base_uri", MM_TEXT, 0, "Repository base URI" },
	{ "release", MM_TEXT, 0, "Codename from the Release file" },
	{ "version", MM_TEXT, 0, "Version from the Release file" },
	{ "maintainer", MM_TEXT, 0, "Origin from the Release file" },
	{ "components", MM_TEXT, 0, "Components the Release file lists" },
	{ "architectures", MM_TEXT, 0, "Architectures the Release file lists" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ "type", MM_TEXT, 0, "deb or deb-src" },
	{ "suite", MM_TEXT, 0, "Suite as configured (or a flat repository path)" },
	{ "entry_components", MM_TEXT, 0, "Components as configured in the entry" },
	{ "entry_architectures", MM_TEXT, 0, "arch= / Architectures: option of the entry" },
	{ "signed_by", MM_TEXT, 0, "signed-by= / Signed-By: option ('' when unset)" },
	{ "enabled", MM_INTEGER, 0, "0 when the entry says Enabled: no" },
	{ "line", MM_INTEGER, 0, "Line of the entry (or of its stanza) in the file" },
	{ "label", MM_TEXT, 0, "Label from the Release file" },
	{ "origin", MM_TEXT, 0, "Origin from the Release file" },
	{ "release_file", MM_TEXT, 0, "Release/InRelease file read (NULL when none: never fetched)" },
	{ NULL },
};

static int gen(struct mm_ctx *ctx)
{
	struct apt_model *m = NULL;
	int i, r;

	if ((r = apt_model_load(ctx, 0, &m)) != 0)
		return r;
	for (i = 0; i < apt_nsources(m) && r == 0; i++) {
		const struct apt_source *s = apt_source_at(m, i);
		const struct apt_release *rel = apt_source_release(m, i);
		const char *host = strstr(s->uri, "://");
		if ((r = mm_row_begin(ctx)) != 0)
			break;
		mm_set_textf(ctx, C_NAME, "%s %s", host != NULL ? host + 3 : s->uri, s->suite);
		mm_set_text(ctx, C_SOURCE, s->file);
		mm_set_text(ctx, C_BASE_URI, s->uri);
		mm_set_text(ctx, C_RELEASE, rel->codename);
		mm_set_text(ctx, C_VERSION, rel->version);
		mm_set_text(ctx, C_MAINTAINER, rel->origin);
		mm_set_text(ctx, C_COMPONENTS, rel->components);
		mm_set_text(ctx, C_ARCHITECTURES, rel->architectures);
		mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
		mm_set_text(ctx, C_TYPE, s->type);
		mm_set_text(ctx, C_SUITE, s->suite);
		mm_set_text(ctx, C_ENTRY_COMPONENTS, s->components);
		mm_set_text(ctx, C_ENTRY_ARCHITECTURES, s->arch);
		mm_set_text(ctx, C_SIGNED_BY, s->signed_by);
		mm_set_int(ctx, C_ENABLED, s->enabled);
		mm_set_int(ctx, C_LINE, s->line);
		mm_set_text(ctx, C_LABEL, rel->label);
		mm_set_text(ctx, C_ORIGIN, rel->origin);
		mm_set_text(ctx, C_RELEASE_FILE, rel->path);
		r = mm_row_end(ctx);
	}
	apt_model_free(m);
	return r;
}

const struct mm_table mm_table_apt_sources = {
	.name = "apt_sources",
	.description = "Configured APT repositories from /etc/apt/sources.list, sources.list.d "
		       "(.list and deb822 .sources files), with the fields of each suite's "
		       "Release file. osquery's columns first, then Mamori's.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT name, release, signed_by FROM apt_sources WHERE type = 'deb' AND "
		   "(signed_by = '' OR base_uri LIKE 'http://%');",
};
