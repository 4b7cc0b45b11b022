/*
 * systemd_units.c - osquery's `systemd_units`, answered from the unit files
 * on disk rather than from a running systemd.
 *
 * osquery asks systemd over D-Bus (ListUnits).  Mamori never runs programs
 * and does not speak D-Bus, and it must also describe images mounted under
 * a root, so it reads the unit search path instead, in systemd's order of
 * precedence: /etc/systemd/system, /run/systemd/system,
 * /usr/local/lib/systemd/system, /lib/systemd/system, /usr/lib/systemd/system
 * (the first file of a name wins; a directory reached twice, as /lib and
 * /usr/lib on merged-/usr systems, is read once).  What files say is given:
 * description, User=, the fragment path, masking (a link to /dev/null or an
 * empty file), aliases (a link under another name) and enablement (links in
 * *.wants/ and *.requires/ under /etc or /run).  What only a running systemd
 * knows is not invented: active_state and sub_state are 'unknown',
 * following and the job columns are NULL, and live_state_known is 0.
 *
 * Unit state encoding, per row:
 *   load_state       loaded     the unit file was read
 *                    masked     the file is a link to /dev/null or empty
 *                    not-found  only referenced (a wants/requires link) or a
 *                               dangling link: no unit file by that name
 *                    error      the file holds binary data
 *   unit_file_state  masked | alias (a link named differently from its
 *                    target) | enabled (named in a wants/requires directory
 *                    under /etc or /run) | static (no [Install] section) |
 *                    disabled (has one, not enabled) | bad (unreadable) |
 *                    NULL (no unit file)
 */
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "strutil.h"
#include "table.h"

enum { C_ID, C_DESCRIPTION, C_LOAD_STATE, C_ACTIVE_STATE, C_SUB_STATE, C_FOLLOWING,
       C_OBJECT_PATH, C_JOB_ID, C_JOB_TYPE, C_JOB_PATH, C_FRAGMENT_PATH, C_USER, C_SOURCE_PATH,
       C_UNIT_FILE_STATE, C_LIVE_STATE_KNOWN };

static const struct mm_column cols[] = {
	{ "id", MM_TEXT, MM_COL_INDEX, "Unit name (ssh.service)" },
	{ "description", MM_TEXT, 0, "Description= from the unit's [Unit] section" },
	{ "load_state", MM_TEXT, 0, "loaded, masked, not-found or error (from the unit files)" },
	{ "active_state", MM_TEXT, 0, "Activation state; 'unknown' unless live_state_known" },
	{ "sub_state", MM_TEXT, 0, "Type-specific activation state; 'unknown' unless live_state_known" },
	{ "following", MM_TEXT, 0, "Unit this one follows in state; NULL unless live_state_known" },
	{ "object_path", MM_TEXT, 0, "systemd's D-Bus object path for the unit" },
	{ "job_id", MM_BIGINT, 0, "Id of the queued job; NULL unless live_state_known" },
	{ "job_type", MM_TEXT, 0, "Type of the queued job; NULL unless live_state_known" },
	{ "job_path", MM_TEXT, 0, "D-Bus object path of the queued job; NULL unless live_state_known" },
	{ "fragment_path", MM_TEXT, 0, "Unit file the unit is read from (links followed)" },
	{ "user", MM_TEXT, 0, "User= from a service's [Service] section, '' when unset" },
	{ "source_path", MM_TEXT, 0, "File a generated unit came from; '' (generators not read)" },
	{ "unit_file_state", MM_TEXT, 0,
	  "Mamori: enabled, disabled, static, masked, alias or bad; NULL with no unit file" },
	{ "live_state_known", MM_INTEGER, 0,
	  "Mamori: 1 if the live columns come from a running systemd, 0 when unknown (always 0: "
	  "unit files only)" },
	{ NULL },
};

/* The unit search path, highest precedence first; the first two enable. */
static const char *const unit_dirs[] = { "/etc/systemd/system", "/run/systemd/system",
					 "/usr/local/lib/systemd/system", "/lib/systemd/system",
					 "/usr/lib/systemd/system" };
#define NDIRS (int)(sizeof(unit_dirs) / sizeof(unit_dirs[0]))
#define ENABLING_DIRS 2

static const char *const suffixes[] = { ".service", ".socket", ".target", ".timer", ".path",
					".mount", ".automount", ".swap", ".slice", ".scope",
					".device", NULL };

#define MAX_ENTS 65536         /* unit files and links in all directories */
#define UNIT_CAP (1u << 20)    /* bytes of one unit file */
#define MAX_HOPS 8             /* symbolic links followed from one name */
#define MAX_LINE_WARN 3        /* warnings about bad lines per unit file */

enum kind { K_FILE = 0, K_REF = 1 }; /* a unit file (or link) / a wants-requires link */

struct ent {
	char *name;   /* unit name */
	char *path;   /* host path of the file or link */
	char *target; /* K_REF: the link's target as written, for messages */
	int kind;     /* enum kind */
	int dir;      /* index in unit_dirs */
};

struct ents {
	struct ent *v;
	size_t n, alloc;
	int full; /* MAX_ENTS reached (reported once) */
};

static void ents_free(struct ents *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].path);
		free(e->v[i].target);
	}
	free(e->v);
}

/* Returns 1 if name is a unit name of a known type. */
static int unit_name_ok(const char *name)
{
	size_t n = strlen(name), i;
	const char *dot = strrchr(name, '.');

	if (n < 3 || n > 255 || dot == NULL || dot == name)
		return 0;
	for (i = 0; suffixes[i] != NULL; i++)
		if (strcmp(dot, suffixes[i]) == 0)
			break;
	if (suffixes[i] == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == ':' || c == '_' || c == '.' || c == '-' || c == '@' || c == '\\'))
			return 0;
	}
	return 1;
}

/* "getty@.service": a template, never a unit by itself. */
static int is_template(const char *name)
{
	const char *at = strchr(name, '@');

	return at != NULL && at[1] == '.';
}

/* Writes the template of an instance ("getty@tty1.service" ->
 * "getty@.service").  Returns 0, or -1 when name is no instance. */
static int template_of(const char *name, char *out, size_t outsz)
{
	const char *at = strchr(name, '@'), *dot = strrchr(name, '.');

	if (at == NULL || dot == NULL || dot <= at + 1)
		return -1;
	snprintf(out, outsz, "%.*s%s", (int)(at - name + 1), name, dot);
	return 0;
}

static int ents_add(struct mm_ctx *ctx, struct ents *e, const char *name, const char *path,
		    const char *target, int kind, int dir)
{
	struct ent *x;

	if (e->n >= MAX_ENTS) {
		if (!e->full)
			mm_warn(ctx, "more than %d unit files and links: the rest is skipped",
				MAX_ENTS);
		e->full = 1;
		return 0;
	}
	if (e->n == e->alloc) {
		size_t na = e->alloc ? e->alloc * 2 : 256;
		struct ent *v = realloc(e->v, na * sizeof(*v));
		if (v == NULL)
			return MM_ERR_NOMEM;
		e->v = v;
		e->alloc = na;
	}
	x = &e->v[e->n];
	x->name = strdup(name);
	x->path = strdup(path);
	x->target = target != NULL ? strdup(target) : NULL;
	x->kind = kind;
	x->dir = dir;
	if (x->name == NULL || x->path == NULL || (target != NULL && x->target == NULL)) {
		free(x->name);
		free(x->path);
		free(x->target);
		return MM_ERR_NOMEM;
	}
	e->n++;
	return 0;
}

/* Type of a directory entry without following links. */
static int entry_type(const struct dirent *d, const char *full)
{
	struct stat st;

	if (d->d_type != DT_UNKNOWN)
		return d->d_type;
	if (lstat(full, &st) != 0)
		return DT_UNKNOWN;
	if (S_ISLNK(st.st_mode))
		return DT_LNK;
	if (S_ISDIR(st.st_mode))
		return DT_DIR;
	if (S_ISREG(st.st_mode))
		return DT_REG;
	return DT_UNKNOWN;
}

/* Lists the links in one *.wants / *.requires directory as references. */
static int list_refs(struct mm_ctx *ctx, struct ents *e, const char *hostdir, int dir)
{
	char full[4096], host[4096], target[4096];
	struct dirent *d;
	DIR *dh;
	ssize_t tl;
	int r = 0;

	if (mm_rpath(ctx, hostdir, full, sizeof(full)) != 0 || (dh = opendir(full)) == NULL)
		return 0;
	while ((d = readdir(dh)) != NULL) {
		if (d->d_name[0] == '.' || !unit_name_ok(d->d_name))
			continue;
		if (snprintf(host, sizeof(host), "%s/%s", hostdir, d->d_name) >= (int)sizeof(host) ||
		    mm_rpath(ctx, host, full, sizeof(full)) != 0)
			continue;
		tl = readlink(full, target, sizeof(target) - 1);
		target[tl > 0 ? tl : 0] = '\0';
		if ((r = ents_add(ctx, e, d->d_name, host, target, K_REF, dir)) != 0)
			break;
	}
	closedir(dh);
	return r;
}

/* Lists one unit directory: unit files and links, and the links in its
 * *.wants / *.requires subdirectories. */
static int list_dir(struct mm_ctx *ctx, struct ents *e, int dir)
{
	char full[4096], host[4096];
	struct dirent *d;
	DIR *dh;
	int r = 0, t;

	if (mm_rpath(ctx, unit_dirs[dir], full, sizeof(full)) != 0 || (dh = opendir(full)) == NULL)
		return 0;
	while (r == 0 && (d = readdir(dh)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (snprintf(host, sizeof(host), "%s/%s", unit_dirs[dir], d->d_name) >=
			    (int)sizeof(host) ||
		    mm_rpath(ctx, host, full, sizeof(full)) != 0)
			continue;
		t = entry_type(d, full);
		if (t == DT_DIR) {
			if (mm_endswith(d->d_name, ".wants") || mm_endswith(d->d_name, ".requires"))
				r = list_refs(ctx, e, host, dir);
			continue; /* drop-in (.d) and other directories are not read */
		}
		if ((t == DT_REG || t == DT_LNK) && unit_name_ok(d->d_name))
			r = ents_add(ctx, e, d->d_name, host, NULL, K_FILE, dir);
		if (r == 0)
			r = mm_check(ctx);
	}
	closedir(dh);
	return r;
}

/* Order: name, then unit files before references, then directory order. */
static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return x->dir - y->dir;
}

/* Returns the highest-precedence unit file called name, or NULL. */
static const struct ent *find_file(const struct ents *e, const char *name)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) { /* first entry with that name */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(e->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->n && strcmp(e->v[lo].name, name) == 0 && e->v[lo].kind == K_FILE)
		return &e->v[lo];
	return NULL;
}

/* Joins a link's directory and a relative target into a host path, with
 * "." and ".." resolved lexically and never above "/" (so a link can not
 * lead out of the root).  Returns 0 or MM_ERR_TOOBIG. */
static int join_norm(const char *linkpath, const char *target, char *out, size_t outsz)
{
	char tmp[8192];
	size_t o = 0, i = 0, n, dl;
	const char *slash = strrchr(linkpath, '/');

	dl = slash != NULL ? (size_t)(slash - linkpath) : 0;
	if (target[0] == '/')
		n = (size_t)snprintf(tmp, sizeof(tmp), "%s", target);
	else
		n = (size_t)snprintf(tmp, sizeof(tmp), "%.*s/%s", (int)dl, linkpath, target);
	if (n >= sizeof(tmp))
		return MM_ERR_TOOBIG;
	while (i < n) {
		size_t s, len;
		while (i < n && tmp[i] == '/')
			i++;
		s = i;
		while (i < n && tmp[i] != '/')
			i++;
		len = i - s;
		if (len == 0 || (len == 1 && tmp[s] == '.'))
			continue;
		if (len == 2 && tmp[s] == '.' && tmp[s + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* drop the slash too */
			continue;
		}
		if (o + 1 + len + 1 > outsz)
			return MM_ERR_TOOBIG;
		out[o++] = '/';
		memcpy(out + o, tmp + s, len);
		o += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

enum { R_FILE, R_MASKED, R_DANGLING };

/* Follows links from host path p under the root.  Returns R_FILE with the
 * regular file's host path in out, R_MASKED (a link to /dev/null, or an
 * empty file), or R_DANGLING (missing target, a loop, too many hops, not a
 * regular file). */
static int resolve(struct mm_ctx *ctx, const char *p, char *out, size_t outsz)
{
	char cur[4096], full[4096], t[4096];
	struct stat st;
	ssize_t tl;
	int hop;

	snprintf(cur, sizeof(cur), "%s", p);
	for (hop = 0; hop <= MAX_HOPS; hop++) {
		if (strcmp(cur, "/dev/null") == 0)
			return R_MASKED;
		if (mm_rpath(ctx, cur, full, sizeof(full)) != 0 || lstat(full, &st) != 0)
			return R_DANGLING;
		if (S_ISREG(st.st_mode)) {
			snprintf(out, outsz, "%s", cur);
			return st.st_size == 0 ? R_MASKED : R_FILE;
		}
		if (!S_ISLNK(st.st_mode) || (tl = readlink(full, t, sizeof(t) - 1)) <= 0)
			return R_DANGLING;
		t[tl] = '\0';
		if (join_norm(cur, t, full, sizeof(full)) != 0)
			return R_DANGLING;
		snprintf(cur, sizeof(cur), "%s", full);
	}
	return R_DANGLING;
}

/* What a unit file says. */
struct info {
	char *description; /* Description= (last one wins), NULL when unset */
	char *user;        /* User= in [Service] */
	int has_install;   /* [Install] names a WantedBy/RequiredBy/UpheldBy/Alias/Also */
	int binary;        /* the file holds binary data */
};

static void info_free(struct info *in)
{
	free(in->description);
	free(in->user);
	memset(in, 0, sizeof(*in));
}

static int set_str(char **slot, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return MM_ERR_NOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

enum { S_NONE, S_UNIT, S_SERVICE, S_INSTALL, S_OTHER };

/* Handles one logical line (continuations joined) of a unit file. */
static int unit_line(struct mm_ctx *ctx, const char *path, int line, char *s, int *section,
		     int *nwarn, struct info *in)
{
	char *eq, *k, *v;

	s = mm_trim(s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		size_t n = strlen(s);
		if (n < 3 || s[n - 1] != ']') {
			if ((*nwarn)++ < MAX_LINE_WARN)
				mm_warn(ctx, "%s:%d: bad section header: ignored", path, line);
			*section = S_OTHER;
			return 0;
		}
		s[n - 1] = '\0';
		s++;
		*section = strcmp(s, "Unit") == 0      ? S_UNIT
			   : strcmp(s, "Service") == 0 ? S_SERVICE
			   : strcmp(s, "Install") == 0 ? S_INSTALL
						       : S_OTHER;
		return 0;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		if ((*nwarn)++ < MAX_LINE_WARN)
			mm_warn(ctx, "%s:%d: not a 'key=value' line: ignored", path, line);
		return 0;
	}
	if (*section == S_NONE) {
		if ((*nwarn)++ < MAX_LINE_WARN)
			mm_warn(ctx, "%s:%d: assignment outside of a section: ignored", path, line);
		return 0;
	}
	*eq = '\0';
	k = mm_trim(s);
	v = mm_trim(eq + 1);
	if (*section == S_UNIT && strcmp(k, "Description") == 0)
		return set_str(&in->description, v);
	if (*section == S_SERVICE && strcmp(k, "User") == 0)
		return set_str(&in->user, v);
	if (*section == S_INSTALL && *v != '\0' &&
	    (strcmp(k, "WantedBy") == 0 || strcmp(k, "RequiredBy") == 0 ||
	     strcmp(k, "UpheldBy") == 0 || strcmp(k, "Alias") == 0 || strcmp(k, "Also") == 0))
		in->has_install = 1;
	return 0;
}

/* Reads and parses the unit file at host path.  Bad lines are warnings;
 * binary data sets in->binary.  Returns 0 or MM_ERR_NOMEM. */
static int parse_unit(struct mm_ctx *ctx, const char *path, struct info *in)
{
	struct mm_buf logical;
	char *data = NULL, *l;
	size_t len = 0, pos = 0, n;
	int r, line = 0, first = 0, section = S_NONE, nwarn = 0;

	mm_buf_init(&logical, 64 * 1024);
	if ((r = mm_read(ctx, path, UNIT_CAP, &data, &len)) != 0) {
		mm_warn(ctx, "%s: %s", path, mm_strerror(r));
		in->binary = 1;
		r = r == MM_ERR_NOMEM ? r : 0;
		goto out;
	}
	while (pos < len) {
		char *nl;

		l = data + pos;
		nl = memchr(l, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - l) : len - pos;
		pos += n + (nl != NULL);
		l[n] = '\0'; /* the newline, or the NUL mm_read puts after the data */
		line++;
		if (n > 0 && l[n - 1] == '\r')
			l[--n] = '\0'; /* CRLF */
		if (memchr(l, '\0', n) != NULL || !mm_is_text(l, n)) {
			mm_warn(ctx, "%s:%d: binary data: not a unit file", path, line);
			in->binary = 1;
			break;
		}
		if (logical.len == 0)
			first = line;
		if (n > 0 && l[n - 1] == '\\') { /* continued on the next line */
			l[n - 1] = ' ';
			if ((r = mm_buf_adds(&logical, l)) == 0)
				continue;
		} else {
			r = mm_buf_adds(&logical, l);
		}
		if (r == MM_ERR_TOOBIG) {
			if (nwarn++ < MAX_LINE_WARN)
				mm_warn(ctx, "%s:%d: line longer than 64 KiB: ignored", path, first);
			mm_buf_reset(&logical);
			continue;
		}
		if (r != 0)
			goto out;
		if (logical.data != NULL &&
		    (r = unit_line(ctx, path, first, logical.data, &section, &nwarn, in)) != 0)
			goto out;
		mm_buf_reset(&logical);
	}
	if (logical.len > 0 && !in->binary)
		r = unit_line(ctx, path, first, logical.data, &section, &nwarn, in);
out:
	mm_buf_free(&logical);
	free(data);
	return r;
}

/* Appends s to b with the unescaping of systemd's %I/%P: '-' is '/', and
 * "\xHH" is the byte HH.  Returns 0 or the buffer's error. */
static int add_unescaped(struct mm_buf *b, const char *s, size_t n)
{
	size_t i;
	uint64_t v;
	char hx[3];
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		if (s[i] == '-') {
			r = mm_buf_addc(b, '/');
			continue;
		}
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x') {
			hx[0] = s[i + 2];
			hx[1] = s[i + 3];
			hx[2] = '\0';
			if (mm_parse_u64(hx, 16, &v) == 0 && v >= 0x20 && v < 0x7f) {
				r = mm_buf_addc(b, (char)v);
				i += 3;
				continue;
			}
		}
		r = mm_buf_addc(b, s[i]);
	}
	return r;
}

/* Expands the unit specifiers a Description may use (%n %N %p %P %i %I
 * %%) for unit name into b; others are left as written.  Returns 0, or
 * MM_ERR_TOOBIG / MM_ERR_NOMEM from the buffer. */
static int expand(const char *desc, const char *name, struct mm_buf *b)
{
	const char *at = strchr(name, '@'), *dot = strrchr(name, '.'), *p;
	size_t plen = at != NULL ? (size_t)(at - name) : (size_t)(dot - name);
	const char *inst = at != NULL ? at + 1 : "";
	size_t ilen = at != NULL ? (size_t)(dot - at - 1) : 0;
	int r = 0;

	mm_buf_reset(b);
	for (p = desc; *p != '\0' && r == 0; p++) {
		if (*p != '%' || p[1] == '\0') {
			r = mm_buf_addc(b, *p);
			continue;
		}
		switch (*++p) {
		case 'n': r = mm_buf_adds(b, name); break;
		case 'N': r = mm_buf_add(b, name, (size_t)(dot - name)); break;
		case 'p': r = mm_buf_add(b, name, plen); break;
		case 'P': r = add_unescaped(b, name, plen); break;
		case 'i': r = mm_buf_add(b, inst, ilen); break;
		case 'I': r = add_unescaped(b, inst, ilen); break;
		case '%': r = mm_buf_addc(b, '%'); break;
		default:
			if ((r = mm_buf_addc(b, '%')) == 0)
				r = mm_buf_addc(b, *p);
		}
	}
	return r;
}

/* systemd's D-Bus path for a unit: every byte that is not a letter or a
 * digit (or a leading digit) becomes _xx in lower-case hex. */
static void object_path(const char *id, struct mm_buf *b)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;

	mm_buf_reset(b);
	mm_buf_adds(b, "/org/freedesktop/systemd1/unit/");
	for (p = (const unsigned char *)id; *p != '\0'; p++) {
		int alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9');
		if (alnum && !(p == (const unsigned char *)id && *p >= '0' && *p <= '9')) {
			mm_buf_addc(b, (char)*p);
		} else {
			mm_buf_addc(b, '_');
			mm_buf_addc(b, hex[*p >> 4]);
			mm_buf_addc(b, hex[*p & 15]);
		}
	}
}

/* Emits the row of the unit whose entries are e->v[i..j). */
static int one_unit(struct mm_ctx *ctx, const struct ents *e, size_t i, size_t j,
		    struct mm_buf *ob, int parse)
{
	const struct ent *file = e->v[i].kind == K_FILE ? &e->v[i] : NULL, *src = file;
	const char *name = e->v[i].name, *load, *ufs = NULL;
	char frag[4096] = "", tmpl[300];
	struct info in = { 0 };
	int res = R_DANGLING, enabled = 0, alias = 0, r;
	size_t k;

	for (k = i; k < j; k++)
		if (e->v[k].kind == K_REF && e->v[k].dir < ENABLING_DIRS)
			enabled = 1;
	if (src == NULL && template_of(name, tmpl, sizeof(tmpl)) == 0)
		src = find_file(e, tmpl); /* an instance is read from its template */
	if (src != NULL) {
		res = resolve(ctx, src->path, frag, sizeof(frag));
		if (res == R_MASKED)
			snprintf(frag, sizeof(frag), "%s", src->path);
		if (res == R_FILE && src == file) {
			const char *base = strrchr(frag, '/');
			alias = base != NULL && strcmp(base + 1, name) != 0;
		}
		if (res == R_DANGLING)
			mm_warn(ctx, "%s: dangling link: no unit file behind it", src->path);
	} else {
		for (k = i; k < j; k++)
			mm_warn(ctx, "%s: dangling link to %s: no unit %s", e->v[k].path,
				e->v[k].target != NULL ? e->v[k].target : "?", name);
	}
	if (res == R_FILE && parse && (r = parse_unit(ctx, frag, &in)) != 0)
		goto out;

	if (res == R_MASKED) {
		load = "masked";
		ufs = "masked";
	} else if (res == R_DANGLING) {
		load = "not-found";
		frag[0] = '\0';
	} else if (in.binary) {
		load = "error";
		ufs = "bad";
	} else {
		load = "loaded";
		ufs = alias ? "alias" : enabled ? "enabled" : in.has_install ? "disabled" : "static";
	}
	if ((r = mm_row_begin(ctx)) != 0)
		goto out;
	mm_set_text(ctx, C_ID, name);
	if (in.description != NULL) {
		/* Specifiers expanded, as systemd shows it; past the cap, as written. */
		if (expand(in.description, name, ob) == 0)
			mm_set_text(ctx, C_DESCRIPTION, mm_buf_str(ob));
		else
			mm_set_text(ctx, C_DESCRIPTION, in.description);
	} else {
		mm_set_text(ctx, C_DESCRIPTION, "");
	}
	mm_set_text(ctx, C_LOAD_STATE, load);
	mm_set_text(ctx, C_ACTIVE_STATE, "unknown");
	mm_set_text(ctx, C_SUB_STATE, "unknown");
	object_path(name, ob);
	mm_set_text(ctx, C_OBJECT_PATH, mm_buf_str(ob));
	mm_set_text(ctx, C_FRAGMENT_PATH, frag);
	mm_set_text(ctx, C_USER,
		    in.user != NULL && mm_endswith(name, ".service") ? in.user : "");
	mm_set_text(ctx, C_SOURCE_PATH, "");
	if (parse)
		mm_set_text(ctx, C_UNIT_FILE_STATE, ufs);
	mm_set_int(ctx, C_LIVE_STATE_KNOWN, 0);
	r = mm_row_end(ctx);
out:
	info_free(&in);
	return r;
}

static int gen(struct mm_ctx *ctx)
{
	struct ents e = { 0 };
	struct mm_buf ob;
	struct stat st, seen[NDIRS];
	char full[4096];
	size_t i, j;
	int r = 0, d, k, nseen = 0, dup;
	/* Unit files are read only for the columns that need them. */
	int parse = mm_col_used(ctx, C_DESCRIPTION) || mm_col_used(ctx, C_USER) ||
		    mm_col_used(ctx, C_LOAD_STATE) || mm_col_used(ctx, C_UNIT_FILE_STATE);

	mm_buf_init(&ob, 128 * 1024); /* object paths and descriptions */
	for (d = 0; d < NDIRS && r == 0; d++) {
		if (mm_rpath(ctx, unit_dirs[d], full, sizeof(full)) != 0 || stat(full, &st) != 0)
			continue;
		for (k = 0, dup = 0; k < nseen; k++)
			dup |= seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino;
		if (dup)
			continue; /* /lib and /usr/lib on merged-/usr systems */
		seen[nseen++] = st;
		r = list_dir(ctx, &e, d);
	}
	if (r != 0)
		goto out;
	if (e.n > 0)
		qsort(e.v, e.n, sizeof(e.v[0]), ent_cmp);
	for (i = 0; i < e.n; i = j) {
		for (j = i + 1; j < e.n && strcmp(e.v[j].name, e.v[i].name) == 0; j++)
			;
		if (is_template(e.v[i].name) || !mm_eq_allows(ctx, C_ID, e.v[i].name))
			continue;
		if ((r = one_unit(ctx, &e, i, j, &ob, parse)) != 0)
			goto out;
		if ((r = mm_check(ctx)) != 0)
			goto out;
	}
out:
	mm_buf_free(&ob);
	ents_free(&e);
	return r;
}

const struct mm_table mm_table_systemd_units = {
	.name = "systemd_units",
	.description = "systemd units, from the unit files on disk.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT id, description, unit_file_state FROM systemd_units "
		   "WHERE id LIKE '%.service' AND unit_file_state = 'enabled';",
	.notes = "osquery lists the units a running systemd has loaded (over D-Bus); Mamori "
		 "reads the unit files instead (it runs no programs and speaks no D-Bus), so the "
		 "table also works on images under a root and on hosts where systemd is not PID 1. "
		 "Units are the files and links in /etc/systemd/system, /run/systemd/system, "
		 "/usr/local/lib/systemd/system, /lib/systemd/system and /usr/lib/systemd/system "
		 "(first of a name wins), plus the instances and names referenced from *.wants/ and "
		 "*.requires/ directories; templates (name@.service) are not rows, and an instance is read from its template "
		 "with the specifiers of Description= (%i %I %n %N %p %P) expanded. The live "
		 "columns are never guessed: active_state and sub_state are 'unknown', following, "
		 "job_id, job_type and job_path are NULL, and live_state_known is 0 on every row "
		 "(a later reader of systemd's D-Bus API may fill them in and set it to 1). "
		 "load_state is derived from the files: loaded, masked (link to /dev/null or empty "
		 "file), not-found (a dangling link, reported as a warning) or error (binary "
		 "data). Extra Mamori columns, after osquery's: unit_file_state (enabled = named "
		 "in a wants/requires directory under /etc or /run; disabled = has an [Install] "
		 "section but is not; static = no [Install] section; masked; alias = a link with "
		 "another unit's name; bad = unreadable; NULL = no unit file) and "
		 "live_state_known. Drop-in directories (name.d/*.conf) and generator output are "
		 "not read, so a Description= or User= set only there is missed.",
};
