/*
 * sudoers.c - osquery's sudoers: the entries of /etc/sudoers and of the
 * files it includes, one row per Defaults line, alias, user rule or include
 * directive (split by sudoers_parse.c).
 *
 * Includes are followed as sudo follows them: a relative path is taken
 * from the directory of the including file; an includedir reads the
 * directory's files in name order, skipping names that end in '~' or
 * contain a '.' (editor backups, .dpkg-old files, README).  The include row
 * comes before the rows of the included file.  Nesting is bounded
 * (MAX_DEPTH, sudo allows 128) and so is the number of files read per query
 * (MAX_FILES); a file that includes itself, directly or through others, is
 * reported as a loop and not read again.  sudo's "%h" (host name) escape in
 * include paths is not expanded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confread.h"
#include "sudoers_parse.h"
#include "table.h"

enum { C_SOURCE, C_HEADER, C_RULE_DETAILS };

static const struct mm_column cols[] = {
	{ "source", MM_TEXT, 0, "File the entry was read from" },
	{ "header", MM_TEXT, 0,
	  "First word of the entry: Defaults, an alias type, a user or %group, or an include "
	  "directive (@include, @includedir, #include, #includedir)" },
	{ "rule_details", MM_TEXT, 0,
	  "Rest of the entry, continuation lines joined and comments removed; for an include, "
	  "the file or directory" },
	{ NULL },
};

#define SUDOERS "/etc/sudoers"
#define MAX_DEPTH 16          /* nested include levels below /etc/sudoers */
#define MAX_FILES 256         /* files read per query */
#define FILE_CAP (1u << 20)   /* bytes per sudoers file */

struct walk {
	struct mm_ctx *ctx;
	const char *stack[MAX_DEPTH + 1]; /* files being read, outermost first */
	int depth;                        /* entries used in stack */
	int files;                        /* files read so far */
};

static int read_file(struct walk *w, const char *path, int line);

/* Per-file parse state for the callbacks. */
struct one {
	struct walk *w;
	const char *path; /* the file being parsed */
};

static void on_warn(void *arg, int line, const char *why)
{
	struct one *o = arg;

	mm_warn(o->w->ctx, "%s:%d: %s", o->path, line, why);
}

static int skip_name(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '.') != NULL || (n > 0 && name[n - 1] == '~');
}

/* Resolves an include target against the including file's directory. */
static int resolve(const char *from, const char *target, char *out, size_t outsz)
{
	const char *slash;
	int k;

	if (target[0] == '/')
		k = snprintf(out, outsz, "%s", target);
	else {
		slash = strrchr(from, '/');
		k = snprintf(out, outsz, "%.*s/%s", slash != NULL ? (int)(slash - from) : 0, from,
			     target);
	}
	if (k < 0 || (size_t)k >= outsz)
		return -1;
	while (k > 1 && out[k - 1] == '/')
		out[--k] = '\0'; /* "/etc/sudoers.d/" lists as "/etc/sudoers.d" */
	return 0;
}

#define PATH_BUF 4096 /* longest include path, and directory + name */

/* Emits the row of one entry, then follows it if it is an include.  The
 * path buffers are on the heap: this recurses once per nesting level. */
static int on_entry(void *arg, const struct mm_sudoers_entry *e)
{
	struct one *o = arg;
	struct walk *w = o->w;
	char *target = NULL, *file = NULL, **names = NULL;
	size_t n = 0, i;
	int r, k;

	if ((r = mm_row_begin(w->ctx)) != 0)
		return r;
	mm_set_text(w->ctx, C_SOURCE, o->path);
	mm_set_text(w->ctx, C_HEADER, e->header);
	mm_set_text(w->ctx, C_RULE_DETAILS, e->details);
	if ((r = mm_row_end(w->ctx)) != 0 || e->kind == MM_SUDOERS_RULE)
		return r;
	if ((target = malloc(PATH_BUF)) == NULL || (file = malloc(PATH_BUF)) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	if (resolve(o->path, e->details, target, PATH_BUF) != 0) {
		mm_warn(w->ctx, "%s:%d: include path too long", o->path, e->line);
		goto out;
	}
	if (e->kind == MM_SUDOERS_INCLUDE) {
		if ((r = read_file(w, target, e->line)) == MM_ERR_NOTFOUND) {
			mm_warn(w->ctx, "%s:%d: included file %s does not exist", o->path, e->line,
				target);
			r = 0;
		}
		goto out;
	}
	r = mm_conf_list_dir(w->ctx, target, skip_name, &names, &n);
	if (r == MM_ERR_NOTFOUND) {
		r = 0; /* sudo ignores a missing includedir too */
		goto out;
	}
	if (r != 0) {
		mm_warn(w->ctx, "%s:%d: cannot list %s: %s", o->path, e->line, target,
			mm_strerror(r));
		if (r != MM_ERR_NOMEM)
			r = 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		k = snprintf(file, PATH_BUF, "%s/%s", target, names[i]);
		if (k < 0 || (size_t)k >= PATH_BUF)
			continue;
		if ((r = read_file(w, file, e->line)) == MM_ERR_NOTFOUND)
			r = 0; /* removed while we listed */
		if (r != 0)
			break;
	}
out:
	mm_conf_names_free(names, n);
	free(target);
	free(file);
	return r;
}

/* Reads one sudoers file and emits its entries, recursing into includes;
 * line is the line of the include directive in the file on top of the
 * stack (for warnings).  Returns 0, MM_ERR_NOTFOUND (nothing read, no
 * warning), or an error that ends the scan (MM_ERR_NOMEM, MM_ERR_LIMIT). */
static int read_file(struct walk *w, const char *path, int line)
{
	struct one o = { w, path };
	char *data = NULL;
	size_t len = 0;
	int i, r;

	if ((r = mm_check(w->ctx)) != 0)
		return r;
	for (i = 0; i < w->depth; i++) {
		if (strcmp(w->stack[i], path) == 0) {
			mm_warn(w->ctx, "%s:%d: include loop: %s is already being read",
				w->stack[w->depth - 1], line, path);
			return 0;
		}
	}
	if (w->depth > MAX_DEPTH) {
		mm_warn(w->ctx, "%s:%d: includes nested deeper than %d levels, %s not read",
			w->stack[w->depth - 1], line, MAX_DEPTH, path);
		return 0;
	}
	if (w->files >= MAX_FILES) {
		if (w->files++ == MAX_FILES)
			mm_warn(w->ctx, "more than %d sudoers files included, stopped at %s",
				MAX_FILES, path);
		return 0;
	}
	r = mm_read(w->ctx, path, FILE_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND)
		return r;
	if (r != 0) {
		mm_warn(w->ctx, "%s: cannot read: %s", path, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	w->files++;
	w->stack[w->depth++] = path;
	r = mm_sudoers_parse(data, len, on_entry, on_warn, &o);
	w->depth--;
	free(data);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	struct walk w = { .ctx = ctx };
	int r = read_file(&w, SUDOERS, 0);

	return r == MM_ERR_NOTFOUND ? 0 : r;
}

const struct mm_table mm_table_sudoers = {
	.name = "sudoers",
	.description = "Entries of /etc/sudoers and the files it includes (@include, @includedir, "
		       "#include, #includedir): Defaults, aliases and the rules saying who may run "
		       "what as whom through sudo.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT source, header, rule_details FROM sudoers "
		   "WHERE rule_details LIKE '%NOPASSWD%';",
	.notes = "Files in an included directory are skipped when their name ends in '~' or "
		 "contains a '.', as sudo does. Include loops and nesting deeper than 16 levels "
		 "are reported as warnings. Entries sudo would reject (no '=' in a user rule, "
		 "control characters) are skipped with a warning. Reading sudoers needs root.",
};
