/*
 * kernel_module_rules.c - Mamori's `kernel_module_rules` table: the
 * directives of the modprobe configuration (modprobe.d(5)), one row each,
 * with two per-module verdicts so that CIS checks such as "cramfs, freevxfs,
 * hfs, hfsplus, jffs2, udf and usb-storage cannot be loaded" are one query.
 *
 * Files: *.conf in /etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d,
 * /usr/lib/modprobe.d, /lib/modprobe.d, merged by name (an earlier directory
 * masks the same name later; a link to /dev/null masks) and read in name
 * order, as kmod does.  Lines: '#' comments, a trailing '\' continues a line,
 * directives
 *     alias WILDCARD MODULE     blacklist MODULE      options MODULE OPTS...
 *     install MODULE COMMAND... remove MODULE COMMAND... softdep MODULE pre:... post:...
 * Module names are normalised as kmod does ('-' becomes '_': usb-storage is
 * usb_storage), so they join with kernel_modules.name.
 *
 * Verdicts, the same on every row of a module:
 *   blacklisted  1 when some `blacklist MODULE` line exists: udev and alias
 *                lookups will not load it, but `modprobe MODULE` still does;
 *   disabled     1 when the module's install command (the first `install`
 *                line for it, which is the one modprobe runs) starts with
 *                /bin/false, /bin/true, /usr/bin/false, /usr/bin/true, false
 *                or true: every modprobe of it runs that command instead of
 *                loading it, so it "cannot be loaded" (insmod with a path
 *                still can; that needs root and is out of scope).
 * The kernel command line's modprobe.blacklist= is not read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dropin.h"
#include "strutil.h"
#include "table.h"

enum { C_MODULE, C_RULE, C_VALUE, C_DISABLED, C_BLACKLISTED, C_SOURCE_FILE, C_LINE };

static const struct mm_column cols[] = {
	{ "module", MM_TEXT, MM_COL_INDEX, "Module name with '-' written '_' (alias: the alias name)" },
	{ "rule", MM_TEXT, 0, "Directive: blacklist, install, alias, options, softdep or remove" },
	{ "value", MM_TEXT, 0, "Rest of the line: command (install, remove), options, alias target, softdep list; NULL for blacklist" },
	{ "disabled", MM_INTEGER, 0, "1 when the module's install command is /bin/false or /bin/true (or /usr/bin/..., false, true): modprobe cannot load it" },
	{ "blacklisted", MM_INTEGER, 0, "1 when a blacklist line names the module (no loading by alias; modprobe NAME still loads)" },
	{ "source_file", MM_TEXT, 0, "Configuration file holding the directive" },
	{ "line", MM_INTEGER, 0, "Line number of the directive in source_file" },
	{ NULL },
};

static const char *const conf_dirs[] = {
	"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d",
	"/lib/modprobe.d",
};

#define RULES_MAX 100000 /* directives across all files */
#define LINE_CAP 65536u  /* a logical line, continuations joined */

struct rule {
	char *module;     /* normalised name */
	const char *kind; /* static directive name */
	char *value;      /* NULL for blacklist */
	size_t file;      /* index into the file list */
	int line;
	int disabled, blacklisted;
};

struct rules {
	struct rule *v;
	size_t n, alloc;
};

static void rules_free(struct rules *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].module);
		free(rs->v[i].value);
	}
	free(rs->v);
}

/* kmod's normalisation: '-' becomes '_' except inside [...] patterns. */
static void underscores(char *s)
{
	int in_brackets = 0;

	for (; *s != '\0'; s++) {
		if (*s == '[')
			in_brackets = 1;
		else if (*s == ']')
			in_brackets = 0;
		else if (*s == '-' && !in_brackets)
			*s = '_';
	}
}

static const char *const directives[] = { "alias", "blacklist", "install", "options", "remove", "softdep" };

/* Parses one logical line (continuations joined) of path into rs.  Returns
 * 0 or MM_ERR_NOMEM; bad lines are warned about and skipped. */
static int parse_line(struct mm_ctx *ctx, struct rules *rs, size_t file, const char *path, int lineno,
		      char *s)
{
	struct rule r = { NULL, NULL, NULL, file, lineno, 0, 0 };
	char *cmd, *mod, *rest, *p;
	size_t i;

	s = mm_trim(s);
	if (s[0] == '\0' || s[0] == '#')
		return 0;
	if (!mm_is_text(s, strlen(s))) {
		mm_warn(ctx, "%s:%d: binary data", path, lineno);
		return 0;
	}
	cmd = s;
	p = cmd + strcspn(cmd, " \t");
	if (*p != '\0')
		*p++ = '\0';
	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (strcmp(cmd, directives[i]) == 0)
			r.kind = directives[i];
	if (r.kind == NULL) {
		mm_warn(ctx, "%s:%d: unknown directive '%s'", path, lineno, cmd);
		return 0;
	}
	mod = p + strspn(p, " \t");
	p = mod + strcspn(mod, " \t");
	if (*p != '\0')
		*p++ = '\0';
	rest = mm_trim(p);
	if (mod[0] == '\0' || (strcmp(r.kind, "blacklist") != 0 && rest[0] == '\0' &&
			       strcmp(r.kind, "options") != 0)) {
		mm_warn(ctx, "%s:%d: '%s' needs %s", path, lineno, r.kind,
			strcmp(r.kind, "blacklist") == 0 ? "a module name" : "a module name and a value");
		return 0;
	}
	if (rs->n >= RULES_MAX) {
		mm_warn(ctx, "%s:%d: more than %d directives, rest ignored", path, lineno, RULES_MAX);
		return 0;
	}
	if (strcmp(r.kind, "alias") == 0) {
		p = rest + strcspn(rest, " \t");
		if (*mm_trim(p) != '\0') {
			mm_warn(ctx, "%s:%d: alias takes a name and one module", path, lineno);
			return 0;
		}
		*p = '\0';
		underscores(rest);
	}
	underscores(mod);
	if ((r.module = strdup(mod)) == NULL)
		return MM_ERR_NOMEM;
	if (strcmp(r.kind, "blacklist") != 0 && (r.value = strdup(rest)) == NULL) {
		free(r.module);
		return MM_ERR_NOMEM;
	}
	if (rs->n == rs->alloc) {
		size_t na = rs->alloc ? rs->alloc * 2 : 32;
		struct rule *nv = realloc(rs->v, na * sizeof(*nv));
		if (nv == NULL) {
			free(r.module);
			free(r.value);
			return MM_ERR_NOMEM;
		}
		rs->v = nv;
		rs->alloc = na;
	}
	rs->v[rs->n++] = r;
	return 0;
}

/* Reads one file (contents at host path target) into rs. */
static int load_file(struct mm_ctx *ctx, struct rules *rs, size_t file, const char *path,
		     const char *target)
{
	char *data = NULL, *line;
	struct mm_buf lb;
	size_t len, pos = 0, n;
	int r, lineno = 0, start = 0;

	mm_buf_init(&lb, LINE_CAP);
	if ((r = mm_read(ctx, target, MM_READ_CAP, &data, &len)) != 0) {
		if (r != MM_ERR_NOTFOUND)
			mm_warn(ctx, "%s: cannot read: %s", path, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	r = 0;
	while (r == 0 && (line = mm_next_line(data, len, &pos)) != NULL) {
		lineno++;
		if (lb.len == 0)
			start = lineno;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (n > 0 && line[n - 1] == '\\') { /* continued on the next line */
			if ((r = mm_buf_add(&lb, line, n - 1)) == 0)
				r = mm_buf_addc(&lb, ' ');
		} else if ((r = mm_buf_add(&lb, line, n)) == 0) {
			r = parse_line(ctx, rs, file, path, start, lb.data != NULL ? lb.data : (char *)"");
			mm_buf_reset(&lb);
		}
		if (r == MM_ERR_TOOBIG) {
			mm_warn(ctx, "%s:%d: line longer than %u bytes", path, start, LINE_CAP);
			mm_buf_reset(&lb);
			r = 0;
		}
	}
	if (r == 0 && lb.len > 0)
		r = parse_line(ctx, rs, file, path, start, lb.data);
	free(data);
	mm_buf_free(&lb);
	return r;
}

static int cmp_idx(const void *a, const void *b, void *arg)
{
	const struct rule *v = arg;

	return strcmp(v[*(const size_t *)a].module, v[*(const size_t *)b].module);
}

/* Returns 1 if an install command refuses the load (see the file header). */
static int refuses(const char *cmd)
{
	static const char *const no[] = { "/bin/false", "/bin/true", "/usr/bin/false",
					  "/usr/bin/true", "false", "true" };
	size_t n = strcspn(cmd, " \t;"), i;

	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strlen(no[i]) == n && strncmp(cmd, no[i], n) == 0)
			return 1;
	return 0;
}

/* Sets the per-module verdicts: rules grouped by module through a sorted
 * index, so the work is O(n log n) however many modules there are. */
static int verdicts(struct rules *rs)
{
	size_t *idx, i, j, k;
	int dis, bl;

	if (rs->n == 0)
		return 0;
	if ((idx = malloc(rs->n * sizeof(*idx))) == NULL)
		return MM_ERR_NOMEM;
	for (i = 0; i < rs->n; i++)
		idx[i] = i;
	/* qsort_r is not stable: the first install is found by index below. */
	qsort_r(idx, rs->n, sizeof(*idx), cmp_idx, rs->v);
	for (i = 0; i < rs->n; i = j) {
		size_t first_install = (size_t)-1;

		dis = bl = 0;
		for (j = i; j < rs->n && strcmp(rs->v[idx[j]].module, rs->v[idx[i]].module) == 0; j++) {
			const struct rule *r = &rs->v[idx[j]];
			if (strcmp(r->kind, "blacklist") == 0)
				bl = 1;
			if (strcmp(r->kind, "install") == 0 && idx[j] < first_install)
				first_install = idx[j];
		}
		if (first_install != (size_t)-1)
			dis = refuses(rs->v[first_install].value);
		for (k = i; k < j; k++) {
			rs->v[idx[k]].disabled = dis;
			rs->v[idx[k]].blacklisted = bl;
		}
	}
	free(idx);
	return 0;
}

static int gen(struct mm_ctx *ctx)
{
	struct mm_dropin *list = NULL;
	struct rules rs = { NULL, 0, 0 };
	size_t n = 0, i;
	int r;

	r = mm_dropin_list(ctx, conf_dirs, sizeof(conf_dirs) / sizeof(conf_dirs[0]), ".conf", &list, &n);
	if (r != 0) {
		mm_warn(ctx, "modprobe.d: cannot list: %s", mm_strerror(r));
		if (r == MM_ERR_NOMEM)
			goto out;
	}
	for (i = 0; i < n; i++)
		if (!list[i].masked && (r = load_file(ctx, &rs, i, list[i].path, list[i].target)) != 0)
			goto out;
	if ((r = verdicts(&rs)) != 0)
		goto out;
	for (i = 0; i < rs.n && r == 0; i++) {
		const struct rule *x = &rs.v[i];

		if (!mm_eq_allows(ctx, C_MODULE, x->module))
			continue;
		if ((r = mm_row_begin(ctx)) != 0)
			break;
		mm_set_text(ctx, C_MODULE, x->module);
		mm_set_text(ctx, C_RULE, x->kind);
		mm_set_text(ctx, C_VALUE, x->value);
		mm_set_int(ctx, C_DISABLED, x->disabled);
		mm_set_int(ctx, C_BLACKLISTED, x->blacklisted);
		mm_set_text(ctx, C_SOURCE_FILE, list[x->file].path);
		mm_set_int(ctx, C_LINE, x->line);
		r = mm_row_end(ctx);
	}
out:
	rules_free(&rs);
	mm_dropin_free(list, n);
	return r;
}

const struct mm_table mm_table_kernel_module_rules = {
	.name = "kernel_module_rules",
	.description = "The modprobe configuration (modprobe.d): one row per blacklist, install, "
		       "alias, options, softdep or remove directive, with whether the module is "
		       "blacklisted and whether modprobe can load it at all (disabled: its install "
		       "command is /bin/false or /bin/true). Answers checks such as \"cramfs, "
		       "freevxfs, hfs, hfsplus, jffs2, udf and usb-storage are disabled\".",
	.columns = cols,
	.generate = gen,
	.example = "SELECT m.name FROM (SELECT 'cramfs' AS name UNION SELECT 'freevxfs'\n"
		   "  UNION SELECT 'hfs' UNION SELECT 'hfsplus' UNION SELECT 'jffs2'\n"
		   "  UNION SELECT 'udf' UNION SELECT 'usb_storage') m\n"
		   "WHERE NOT EXISTS (SELECT 1 FROM kernel_module_rules r\n"
		   "                  WHERE r.module = m.name AND r.disabled = 1);",
	.notes = "Module names use '_' where the file may say '-' (usb-storage is usb_storage), "
		 "as kmod and /proc/modules do. The example lists the CIS modules that are not "
		 "disabled: no rows means all pass.",
};
