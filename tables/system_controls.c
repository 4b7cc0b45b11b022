/*
 * system_controls.c - osquery's `system_controls` table on Linux: every
 * kernel parameter under /proc/sys with its current value, and the value the
 * boot-time configuration sets, so a policy can compare the two.
 *
 * Current values: a bounded walk of /proc/sys (sorted names, at most
 * MAX_DEPTH levels and MAX_KEYS keys); a file that cannot be read (write-only
 * controls such as net.ipv4.route.flush, EACCES, EIO) gives current_value
 * NULL, silently, as sysctl -a skips it.  `name = ...` reads just that file;
 * `subsystem = ...` walks just that subtree.
 *
 * Configured values, in systemd-sysctl's order:
 *   1. *.conf files of /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
 *      /usr/lib/sysctl.d, /lib/sysctl.d merged by name (an earlier directory
 *      masks the same name later; a link to /dev/null masks), applied in
 *      name order;
 *   2. /etc/sysctl.conf last (procps' sysctl --system does so; on Debian
 *      it is also linked as /etc/sysctl.d/99-sysctl.conf).
 * A later assignment of a key wins.  Line syntax: "key = value", '#' or ';'
 * comments, keys written with '.' or '/' separators (the first separator
 * decides, so "net.ipv4.conf.eth0/100.rp_filter" names interface eth0.100),
 * a leading '-' means "ignore errors".  A key with a glob ('*', '?', '[')
 * sets every matching existing control that has no explicit assignment;
 * "-key" without a value only exempts the key from globs.  Keys configured
 * but absent from /proc/sys still get a row (current_value NULL), so a
 * policy sees settings that would fail at boot.
 *
 * Columns past osquery's: config_source, the file:line of the winning
 * assignment.  osquery's Darwin-only field_name column is not present
 * (osquery does not have it on Linux either).
 */
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "dropin.h"
#include "strutil.h"
#include "table.h"

enum { C_NAME, C_OID, C_SUBSYSTEM, C_CURRENT_VALUE, C_CONFIG_VALUE, C_TYPE, C_CONFIG_SOURCE };

static const struct mm_column cols[] = {
	{ "name", MM_TEXT, MM_COL_INDEX, "Full control name with '.' separators (net.ipv4.ip_forward)" },
	{ "oid", MM_TEXT, MM_COL_HIDDEN, "Numeric MIB; Linux has none, always NULL" },
	{ "subsystem", MM_TEXT, MM_COL_INDEX, "First part of the name: kernel, net, vm, fs, dev, ..." },
	{ "current_value", MM_TEXT, 0, "Value now in /proc/sys (NULL when unreadable or absent)" },
	{ "config_value", MM_TEXT, 0, "Value the sysctl.d files and /etc/sysctl.conf set at boot (NULL when none)" },
	{ "type", MM_TEXT, 0, "Data type: always 'string' on Linux" },
	{ "config_source", MM_TEXT, 0, "file:line of the assignment that sets config_value" },
	{ NULL },
};

#define MAX_DEPTH 10      /* /proc/sys is at most 6 levels deep today */
#define MAX_KEYS 200000   /* a host with thousands of interfaces has ~100k */
#define VALUE_CAP 65536u  /* the largest controls are a few KiB */
#define CONF_MAX 100000   /* assignments across all configuration files */

static const char *const conf_dirs[] = {
	"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d",
};

struct assign {
	char *key;   /* slash form, relative to /proc/sys: "net/ipv4/ip_forward" */
	char *value; /* NULL: "-key" exemption from globs */
	char *src;   /* "file:line" */
	size_t seq;  /* order of appearance: a later one wins */
	int used;    /* a row was produced for it */
};

struct conf {
	struct assign *exact; /* sorted by key after load, one per key */
	size_t nexact, aexact;
	struct assign *glob;  /* in order of appearance */
	size_t nglob, aglob;
	size_t seq;
};

static void conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nexact; i++) {
		free(c->exact[i].key);
		free(c->exact[i].value);
		free(c->exact[i].src);
	}
	for (i = 0; i < c->nglob; i++) {
		free(c->glob[i].key);
		free(c->glob[i].value);
		free(c->glob[i].src);
	}
	free(c->exact);
	free(c->glob);
}

/* Rewrites a key as written in a file or a query (dots or slashes) into the
 * slash form in out.  Returns 0, or MM_ERR_PARSE for an empty key, a key
 * with white space or control bytes, or a "." / ".." component. */
static int normalize(const char *key, char *out, size_t outsz)
{
	size_t n, i, o = 0, comp = 0;
	const char *sep;
	int swap;

	while (key[0] == '/' || key[0] == '.') /* "/net/ipv4/..." */
		key++;
	n = strlen(key);
	sep = strpbrk(key, "./");
	swap = sep != NULL && *sep == '.';
	if (n == 0 || n >= outsz)
		return MM_ERR_PARSE;
	for (i = 0; i < n; i++) {
		char c = key[i];

		if ((unsigned char)c <= ' ' || c == 0x7f)
			return MM_ERR_PARSE;
		if (swap && (c == '.' || c == '/'))
			c = c == '.' ? '/' : '.';
		if (c == '/') {
			if (comp == 0)
				continue; /* "a//b" is "a/b" */
			if ((comp == 1 && out[o - 1] == '.') ||
			    (comp == 2 && out[o - 1] == '.' && out[o - 2] == '.'))
				return MM_ERR_PARSE;
			comp = 0;
		} else {
			comp++;
		}
		out[o++] = c;
	}
	while (o > 0 && out[o - 1] == '/')
		o--;
	if (o == 0 || (comp == 1 && out[o - 1] == '.') ||
	    (comp == 2 && out[o - 1] == '.' && out[o - 2] == '.'))
		return MM_ERR_PARSE;
	out[o] = '\0';
	return 0;
}

/* The display name of slash-form key: '/' and '.' swapped. */
static void display_name(const char *key, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < outsz; i++)
		out[i] = key[i] == '/' ? '.' : key[i] == '.' ? '/' : key[i];
	out[i] = '\0';
}

static int push(struct assign **v, size_t *n, size_t *alloc, struct assign a)
{
	struct assign *nv;

	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 64;
		if ((nv = realloc(*v, na * sizeof(**v))) == NULL)
			return MM_ERR_NOMEM;
		*v = nv;
		*alloc = na;
	}
	(*v)[(*n)++] = a;
	return 0;
}

/* Parses one configuration file (host path `path`, contents read from host
 * path `target`) into c.  Bad lines are skipped with a warning. */
static int load_file(struct mm_ctx *ctx, struct conf *c, const char *path, const char *target)
{
	char *data = NULL, *line, *eq, *key, *val, norm[1024], src[4200];
	size_t len, pos = 0;
	int r, lineno = 0, excl;

	if ((r = mm_read(ctx, target, MM_READ_CAP, &data, &len)) != 0) {
		if (r == MM_ERR_NOTFOUND)
			return 0; /* a dangling link: nothing to apply */
		mm_warn(ctx, "%s: cannot read: %s", path, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	while ((line = mm_next_line(data, len, &pos)) != NULL) {
		struct assign a = { NULL, NULL, NULL, 0, 0 };

		lineno++;
		line = mm_trim(line);
		if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
			continue;
		if (!mm_is_text(line, strlen(line))) {
			mm_warn(ctx, "%s:%d: binary data", path, lineno);
			continue;
		}
		eq = strchr(line, '=');
		excl = eq == NULL && line[0] == '-';
		if (eq == NULL && !excl) {
			mm_warn(ctx, "%s:%d: not an assignment (key = value)", path, lineno);
			continue;
		}
		if (eq != NULL)
			*eq = '\0';
		key = mm_trim(line);
		if (key[0] == '-')
			key = mm_trim(key + 1);
		val = eq != NULL ? mm_trim(eq + 1) : NULL;
		if (normalize(key, norm, sizeof(norm)) != 0) {
			mm_warn(ctx, "%s:%d: invalid key '%s'", path, lineno, key);
			continue;
		}
		if (c->nexact + c->nglob >= CONF_MAX) {
			mm_warn(ctx, "%s:%d: more than %d assignments, rest ignored", path, lineno, CONF_MAX);
			break;
		}
		snprintf(src, sizeof(src), "%s:%d", path, lineno);
		a.seq = c->seq++;
		if ((a.key = strdup(norm)) == NULL || (a.src = strdup(src)) == NULL ||
		    (val != NULL && (a.value = strdup(val)) == NULL)) {
			r = MM_ERR_NOMEM;
			goto fail;
		}
		if (strpbrk(norm, "*?[") != NULL && !excl)
			r = push(&c->glob, &c->nglob, &c->aglob, a);
		else
			r = push(&c->exact, &c->nexact, &c->aexact, a);
		if (r != 0)
			goto fail;
		continue;
fail:
		free(a.key);
		free(a.src);
		free(a.value);
		break;
	}
	free(data);
	return r == MM_ERR_NOMEM ? r : 0;
}

static int cmp_key_seq(const void *pa, const void *pb)
{
	const struct assign *a = pa, *b = pb;
	int k = strcmp(a->key, b->key);

	if (k != 0)
		return k;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Loads every configuration file and keeps, per exact key, the last
 * assignment (sorted by key for bsearch). */
static int load_conf(struct mm_ctx *ctx, struct conf *c)
{
	struct mm_dropin *list = NULL;
	size_t n = 0, i, o;
	int r;

	r = mm_dropin_list(ctx, conf_dirs, sizeof(conf_dirs) / sizeof(conf_dirs[0]), ".conf", &list, &n);
	if (r != 0) {
		mm_warn(ctx, "sysctl.d: cannot list: %s", mm_strerror(r));
		if (r == MM_ERR_NOMEM)
			return r;
	}
	for (i = 0; i < n; i++)
		if (!list[i].masked && (r = load_file(ctx, c, list[i].path, list[i].target)) != 0)
			goto out;
	if ((r = load_file(ctx, c, "/etc/sysctl.conf", "/etc/sysctl.conf")) != 0)
		goto out;
	if (c->nexact > 1) {
		qsort(c->exact, c->nexact, sizeof(*c->exact), cmp_key_seq);
		for (i = 0, o = 0; i < c->nexact; i++) {
			if (o > 0 && strcmp(c->exact[o - 1].key, c->exact[i].key) == 0) {
				/* the later one wins: drop the earlier */
				free(c->exact[o - 1].key);
				free(c->exact[o - 1].value);
				free(c->exact[o - 1].src);
				o--;
			}
			c->exact[o++] = c->exact[i];
		}
		c->nexact = o;
	}
	r = 0;
out:
	mm_dropin_free(list, n);
	return r;
}

static int cmp_key(const void *k, const void *pb)
{
	return strcmp(k, ((const struct assign *)pb)->key);
}

/* The assignment that configures slash-form key, or NULL. */
static struct assign *lookup(struct conf *c, const char *key)
{
	struct assign *a = NULL;
	size_t i;

	if (c->nexact > 0)
		a = bsearch(key, c->exact, c->nexact, sizeof(*c->exact), cmp_key);
	if (a != NULL)
		return a; /* explicit (or exempted) keys are never set by a glob */
	for (i = c->nglob; i-- > 0;)
		if (fnmatch(c->glob[i].key, key, FNM_PATHNAME) == 0)
			return &c->glob[i];
	return NULL;
}

/* Produces the row of slash-form key; present says whether the control
 * exists under /proc/sys (else current_value is NULL). */
static int emit(struct mm_ctx *ctx, struct conf *c, const char *key, int present)
{
	char name[1024], path[1100], *data = NULL, *slash;
	struct assign *a = lookup(c, key);
	size_t len;
	int r;

	display_name(key, name, sizeof(name));
	if (!mm_eq_allows(ctx, C_NAME, name))
		return 0;
	if (a != NULL && a->value != NULL)
		a->used = 1;
	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_NAME, name);
	slash = strchr(key, '/');
	mm_set_textn(ctx, C_SUBSYSTEM, key, slash != NULL ? (size_t)(slash - key) : strlen(key));
	if (present && mm_col_used(ctx, C_CURRENT_VALUE)) {
		snprintf(path, sizeof(path), "/proc/sys/%s", key);
		if (mm_read(ctx, path, VALUE_CAP, &data, &len) == 0 && strlen(data) == len) {
			char *v = mm_trim(data);
			/* multi-line values (fs.binfmt_misc entries) keep their newlines */
			if (mm_is_text(v, strlen(v)) || strchr(v, '\n') != NULL)
				mm_set_text(ctx, C_CURRENT_VALUE, v);
		}
		free(data);
	}
	if (a != NULL && a->value != NULL) {
		mm_set_text(ctx, C_CONFIG_VALUE, a->value);
		mm_set_text(ctx, C_CONFIG_SOURCE, a->src);
	}
	mm_set_text(ctx, C_TYPE, "string");
	return mm_row_end(ctx);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
	struct conf *conf;
	size_t keys; /* keys seen so far, against MAX_KEYS */
	int stopped; /* the bound was hit (warned once) */
};

/* Walks the /proc/sys directory of slash-form rel ("" for the top) and
 * produces a row per control, names sorted at each level. */
static int walk_dir(struct mm_ctx *ctx, struct walk *w, const char *rel, int depth)
{
	char full[4096], sub[1024], file[4096 + 258];
	char **names = NULL, **nn;
	size_t n = 0, alloc = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int r = 0, isdir, k;

	if ((r = mm_check(ctx)) != 0)
		return r;
	snprintf(sub, sizeof(sub), "/proc/sys/%s", rel);
	if (mm_rpath(ctx, sub, full, sizeof(full)) != 0 || (d = opendir(full)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (w->keys + n >= MAX_KEYS) {
			if (!w->stopped)
				mm_warn(ctx, "/proc/sys: more than %d entries, walk stopped", MAX_KEYS);
			w->stopped = 1;
			break;
		}
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 32;
			if ((nn = realloc(names, alloc * sizeof(*names))) == NULL) {
				r = MM_ERR_NOMEM;
				goto out;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = MM_ERR_NOMEM;
			goto out;
		}
		n++;
	}
	closedir(d);
	d = NULL;
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && r == 0; i++) {
		k = snprintf(file, sizeof(file), "%s/%s", full, names[i]);
		if (k < 0 || (size_t)k >= sizeof(file) || lstat(file, &st) != 0)
			continue;
		isdir = S_ISDIR(st.st_mode);
		if (!isdir && !S_ISREG(st.st_mode))
			continue; /* links and others are not controls */
		k = snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] != '\0' ? "/" : "", names[i]);
		if (k < 0 || (size_t)k >= sizeof(sub))
			continue;
		if (isdir) {
			if (depth + 1 < MAX_DEPTH)
				r = walk_dir(ctx, w, sub, depth + 1);
		} else {
			w->keys++;
			r = emit(ctx, w->conf, sub, 1);
		}
	}
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* Rows for the names a `name = ...` constraint asks for. */
static int gen_names(struct mm_ctx *ctx, struct conf *c, int cnt)
{
	char key[1024], sub[1100], full[4096];
	struct assign *a;
	struct stat st;
	int i, r;

	for (i = 0; i < cnt; i++) {
		if (normalize(mm_eq_value(ctx, C_NAME, i), key, sizeof(key)) != 0)
			continue;
		snprintf(sub, sizeof(sub), "/proc/sys/%s", key);
		if (mm_rpath(ctx, sub, full, sizeof(full)) == 0 && lstat(full, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			if ((r = emit(ctx, c, key, 1)) != 0)
				return r;
			continue;
		}
		a = c->nexact > 0 ? bsearch(key, c->exact, c->nexact, sizeof(*c->exact), cmp_key) : NULL;
		if (a != NULL && a->value != NULL && (r = emit(ctx, c, key, 0)) != 0)
			return r;
	}
	return 0;
}

static int gen(struct mm_ctx *ctx)
{
	struct conf c = { 0 };
	struct walk w = { &c, 0, 0 };
	int r, n, i;
	size_t j;

	if ((r = load_conf(ctx, &c)) != 0)
		goto out;
	if ((n = mm_eq_count(ctx, C_NAME)) >= 0) {
		r = gen_names(ctx, &c, n);
		goto out;
	}
	if ((n = mm_eq_count(ctx, C_SUBSYSTEM)) >= 0) {
		for (i = 0; i < n && r == 0; i++) {
			const char *s = mm_eq_value(ctx, C_SUBSYSTEM, i);
			if (s[0] != '\0' && s[0] != '.' && strpbrk(s, "./") == NULL)
				r = walk_dir(ctx, &w, s, 1);
		}
	} else {
		r = walk_dir(ctx, &w, "", 0);
	}
	/* Configured keys the walk did not meet (SQLite filters by subsystem). */
	for (j = 0; j < c.nexact && r == 0; j++)
		if (!c.exact[j].used && c.exact[j].value != NULL && !w.stopped)
			r = emit(ctx, &c, c.exact[j].key, 0);
out:
	conf_free(&c);
	return r;
}

const struct mm_table mm_table_system_controls = {
	.name = "system_controls",
	.description = "Kernel parameters (sysctl): the current value of every control under "
		       "/proc/sys and the value the boot configuration sets (the sysctl.d "
		       "directories in systemd-sysctl's order, then /etc/sysctl.conf), with the "
		       "file and line that sets it. Controls that are configured but missing from "
		       "/proc/sys are listed with current_value NULL.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT name, current_value, config_value, config_source FROM system_controls\n"
		   "WHERE name IN ('net.ipv4.ip_forward', 'kernel.randomize_va_space',\n"
		   "               'kernel.kptr_restrict');",
	.notes = "Reading `name = '...'` opens just that file. Values are the file's text with "
		 "surrounding white space removed (some controls separate numbers with tabs). "
		 "Keys are normalised as systemd does: `net/ipv4/ip_forward` and "
		 "`net.ipv4.ip_forward` are the same key, and a literal dot in a component "
		 "(interface eth0.100) is shown as '/': `net.ipv4.conf.eth0/100.rp_filter`.",
};
