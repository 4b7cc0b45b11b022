/*
 * remote_desktop.c - Mamori's `remote_desktop` table: the remote-desktop
 * (RDP and VNC) servers of a Linux host and how exposed each one is.
 * osquery has no such table.
 *
 * It is composed from other tables through mm_subquery() (deb_packages,
 * systemd_units, processes, listening_ports, users) plus the servers' own
 * configuration files, read through the root prefix:
 *
 *   evidence    source
 *   package     deb_packages: the server's package is installed
 *   unit        systemd_units: a unit file exists (its unit_file_state
 *               gives `enabled`)
 *   initscript  /etc/init.d/<name>; enabled when /etc/rc[2-5].d/S??<name>
 *               exists (used only when no systemd unit file decides)
 *   config      /etc/xrdp/xrdp.ini, /etc/xrdp/sesman.ini (TigerVNC's files
 *               come with the viewer too, so they prove nothing alone)
 *   process     processes: a process with the server's name (the kernel
 *               keeps 15 bytes of it: "gnome-remote-de")
 *   socket      listening_ports: a TCP socket held by one of those
 *               processes, or, when the holder is unknown (pid -1), on a
 *               well-known port: 3389 rdp, 3350 sesman, 5900-5999 vnc
 *
 * One row per service found; per-user servers (VNC servers, GNOME Remote
 * Desktop, krfb, freerdp-shadow) get one row per user running them, or one
 * row with user NULL when only installed.  An unclaimed socket on a
 * well-known port gives a row for service 'unknown'.
 *
 * exposed / exposure_source:
 *   socket   listening sockets were found: 1 if any is not on loopback
 *   cmdline  no socket; the running server's arguments decide (-localhost,
 *            -interface, /bind-address)
 *   config   no socket; the configuration decides (xrdp port=, sesman
 *            ListenAddress, TigerVNC $localhost / localhost with Debian's
 *            default of localhost-only)
 *   NULL     nothing says
 */
#include <ctype.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "rdpconf.h"
#include "strutil.h"
#include "table.h"

enum {
	C_SERVICE,
	C_PROTOCOL,
	C_USER,
	C_PACKAGE,
	C_PACKAGE_VERSION,
	C_INSTALLED,
	C_UNIT,
	C_ENABLED,
	C_RUNNING,
	C_PID,
	C_LISTEN_ADDRESSES,
	C_EXPOSED,
	C_EXPOSURE_SOURCE,
	C_CONFIG_FILE,
	C_PORT,
	C_BIND_ADDRESS,
	C_SECURITY_LAYER,
	C_CRYPT_LEVEL,
	C_SSL_PROTOCOLS,
	C_CERTIFICATE,
	C_KEY_FILE,
	C_ALLOW_ROOT_LOGIN,
	C_VNC_LOCALHOST_ONLY,
	C_EVIDENCE
};

static const struct mm_column cols[] = {
    {"service", MM_TEXT, MM_COL_INDEX,
     "xrdp, xrdp-sesman, tigervnc, x11vnc, vino, gnome-remote-desktop, krfb, freerdp-shadow, "
     "or unknown (a listener on a well-known port whose process is not known)"},
    {"protocol", MM_TEXT, 0, "rdp or vnc (xrdp-sesman is part of xrdp: rdp)"},
    {"user", MM_TEXT, 0,
     "Per-user servers: the user running it (uid when not in passwd); NULL for system services "
     "and when none runs"},
    {"package", MM_TEXT, 0, "Debian package of the server as dpkg knows it, NULL if unknown"},
    {"package_version", MM_TEXT, 0, "Its version, NULL if unknown"},
    {"installed", MM_INTEGER, 0, "1 if the package is installed (not just its config files)"},
    {"unit", MM_TEXT, 0, "systemd unit file or SysV init script found (xrdp.service)"},
    {"enabled", MM_INTEGER, 0,
     "1 enabled at boot, 0 disabled or masked, NULL unknown (no unit, static unit)"},
    {"running", MM_INTEGER, 0, "1 if a process of the server runs"},
    {"pid", MM_BIGINT, 0, "Lowest pid of its processes, NULL when not running"},
    {"listen_addresses", MM_TEXT, 0,
     "TCP sockets it listens on: '0.0.0.0:3389,[::]:3389'; NULL when none found"},
    {"exposed", MM_INTEGER, 0,
     "1 if reachable beyond loopback, 0 loopback only, NULL unknown (see exposure_source)"},
    {"exposure_source", MM_TEXT, 0,
     "What decided exposed: socket (listening sockets), cmdline (server arguments), config "
     "(configuration files); NULL when nothing did"},
    {"config_file", MM_TEXT, 0,
     "Configuration file read: xrdp.ini, sesman.ini, or the TigerVNC file that set localhost"},
    {"port", MM_INTEGER, 0,
     "Configured TCP port (xrdp port=, sesman ListenPort, -rfbport or 5900+display, /port:)"},
    {"bind_address", MM_TEXT, 0,
     "Configured address: 0.0.0.0 all interfaces, :: all IPv6, unix socket path, vsock cid; "
     "the first endpoint when xrdp lists several"},
    {"security_layer", MM_TEXT, 0, "xrdp.ini security_layer (rdp, tls, negotiate); NULL unset"},
    {"crypt_level", MM_TEXT, 0, "xrdp.ini crypt_level (none, low, medium, high, fips)"},
    {"ssl_protocols", MM_TEXT, 0, "xrdp.ini ssl_protocols (TLSv1.2, TLSv1.3)"},
    {"certificate", MM_TEXT, 0, "xrdp.ini certificate ('' means xrdp's /etc/xrdp/cert.pem)"},
    {"key_file", MM_TEXT, 0, "xrdp.ini key_file ('' means xrdp's /etc/xrdp/key.pem)"},
    {"allow_root_login", MM_INTEGER, 0,
     "xrdp and xrdp-sesman: sesman.ini [Security] AllowRootLogin (absent: 0, xrdp's default)"},
    {"vnc_localhost_only", MM_INTEGER, 0,
     "VNC: 1 if it accepts only loopback connections (-localhost, TigerVNC localhost)"},
    {"evidence", MM_TEXT, 0,
     "What was found, comma-separated: package,unit,initscript,config,process,socket"},
    {NULL},
};

/* ---- the catalog of servers ------------------------------------------------ */

enum {
	S_XRDP,
	S_SESMAN,
	S_TIGERVNC,
	S_X11VNC,
	S_VINO,
	S_GRD,
	S_KRFB,
	S_SHADOW,
	S_UNK_RDP,
	S_UNK_VNC,
	NSVC
};

struct svc_def {
	const char *name;     /* service column */
	const char *protocol; /* rdp | vnc */
	int per_user;         /* rows per user running it */
	const char *pkgs[3];  /* Debian packages, preferred first */
	const char *comms[5]; /* process names (full; compared on the kernel's 15 bytes) */
	const char *units[2]; /* systemd units */
	const char *sysv;     /* /etc/init.d script, or NULL */
	const char *config;   /* configuration file that proves an install, or NULL */
};

static const struct svc_def svcs[NSVC] = {
    [S_XRDP] =
        {"xrdp", "rdp", 0, {"xrdp"}, {"xrdp"}, {"xrdp.service"}, "xrdp", "/etc/xrdp/xrdp.ini"},
    /* Debian's /etc/init.d/xrdp starts sesman as well. */
    [S_SESMAN] = {"xrdp-sesman",
                  "rdp",
                  0,
                  {"xrdp"},
                  {"xrdp-sesman"},
                  {"xrdp-sesman.service"},
                  "xrdp",
                  "/etc/xrdp/sesman.ini"},
    [S_TIGERVNC] = {"tigervnc",
                    "vnc",
                    1,
                    {"tigervnc-standalone-server", "tigervnc-scraping-server"},
                    {"Xtigervnc", "Xvnc", "x0vncserver", "x0tigervncserver"}},
    [S_X11VNC] = {"x11vnc", "vnc", 1, {"x11vnc"}, {"x11vnc"}, {"x11vnc.service"}},
    [S_VINO] = {"vino", "vnc", 1, {"vino"}, {"vino-server"}},
    [S_GRD] = {"gnome-remote-desktop",
               "rdp",
               1,
               {"gnome-remote-desktop"},
               {"gnome-remote-desktop-daemon"},
               {"gnome-remote-desktop.service"}},
    [S_KRFB] = {"krfb", "vnc", 1, {"krfb"}, {"krfb"}},
    [S_SHADOW] = {"freerdp-shadow",
                  "rdp",
                  1,
                  {"freerdp2-shadow-x11", "freerdp3-shadow-x11"},
                  {"freerdp-shadow-cli"}},
    [S_UNK_RDP] = {"unknown", "rdp", 0},
    [S_UNK_VNC] = {"unknown", "vnc", 0},
};

#define TIGERVNC_DEFAULTS  "/etc/tigervnc/vncserver-config-defaults"
#define TIGERVNC_MANDATORY "/etc/tigervnc/vncserver-config-mandatory"
#define MAX_PROCS          1024 /* remote-desktop processes tracked; more are ignored with a warning */
#define MAX_ROWS           256
#define SQL_CAP            (64u * 1024u)
#define LISTEN_CAP         4096u /* listen_addresses text per row */

/* Host-wide state of one service. */
struct svc_state {
	char *pkg, *ver;  /* dpkg's package and version (best candidate), or NULL */
	int installed;    /* package state is installed */
	char *unit;       /* unit or init script name found */
	int unit_file;    /* a systemd unit file exists */
	int enabled;      /* 1/0, -1 unknown */
	int initscript;   /* /etc/init.d/<sysv> exists */
	int config_found; /* the config file was read */
	int port;         /* configured port, -1 unknown */
	char *bind;       /* configured address */
	int cfg_exposed;  /* from the configuration: 1/0, -1 unknown */
	char *security_layer, *crypt_level, *ssl_protocols, *certificate, *key_file;
	int allow_root; /* -1 unknown */
};

struct row {
	int svc;
	int64_t uid;          /* per-user rows: owner of the processes; -1 host row */
	char *user, *home;    /* from users; NULL until looked up */
	int64_t pid;          /* lowest pid, -1 when not running */
	struct mm_buf listen; /* "addr:port,..." */
	int nsock, sock_exposed;
	struct mm_rd_cmdline cmd; /* parsed from the lowest pid's command line */
	int have_cmd;
	int vnc_local;       /* -1 unknown */
	int vnc_src_cmdline; /* vnc_local came from the command line */
	char *vnc_file;      /* TigerVNC file that decided vnc_local */
};

struct proc {
	int64_t pid, uid;
	int svc;
	int row; /* index into rows, -1 until assigned */
};

struct state {
	struct mm_ctx *ctx;
	struct svc_state s[NSVC];
	struct row rows[MAX_ROWS];
	int nrows;
	struct proc procs[MAX_PROCS];
	int nprocs, procs_warned;
	int want[NSVC]; /* service allowed by the query's service constraint; only rows
	                 * are skipped: which service an unclaimed socket goes to
	                 * depends on the others, so all are worked out */
	/* config file being parsed (for the INI callbacks) */
	const char *cur_path;
	int cur_svc;
	char *port_spec, *address;
	int port_line;
	char *sesman_listen_addr, *sesman_listen_port, *sesman_root;
	int sesman_root_line;
};

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Replaces *dst with a copy of s (NULL stays NULL).  Returns 0 or MM_ERR_NOMEM. */
static int set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s != NULL && (c = strdup(s)) == NULL)
		return MM_ERR_NOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Returns the row for (svc, uid), creating it; NULL when the row cap is hit
 * (after a warning). */
static struct row *get_row(struct state *st, int svc, int64_t uid)
{
	struct row *r;
	int i;

	for (i = 0; i < st->nrows; i++)
		if (st->rows[i].svc == svc && st->rows[i].uid == uid)
			return &st->rows[i];
	if (st->nrows == MAX_ROWS) {
		mm_warn(st->ctx, "more than %d remote-desktop services; the rest are not listed",
		        MAX_ROWS);
		return NULL;
	}
	r = &st->rows[st->nrows++];
	memset(r, 0, sizeof(*r));
	r->svc = svc;
	r->uid = uid;
	r->pid = -1;
	r->vnc_local = -1;
	mm_buf_init(&r->listen, LISTEN_CAP);
	return r;
}

/* ---- packages, units, init scripts ----------------------------------------- */

static int on_package(void *arg, sqlite3_stmt *q)
{
	struct state *st = arg;
	const char *name = col_text(q, 0), *ver = col_text(q, 1), *status = col_text(q, 2);
	int i, j, inst, r;

	if (name == NULL || status == NULL || mm_endswith(status, " not-installed"))
		return 0;
	inst = mm_endswith(status, " installed");
	for (i = 0; i < NSVC; i++) {
		struct svc_state *s = &st->s[i];
		for (j = 0; j < 3 && svcs[i].pkgs[j] != NULL; j++) {
			if (strcmp(svcs[i].pkgs[j], name) != 0)
				continue;
			/* Keep the first installed candidate, else the first known. */
			if (s->pkg != NULL && (s->installed || !inst))
				continue;
			if ((r = set_str(&s->pkg, name)) != 0 || (r = set_str(&s->ver, ver)) != 0)
				return r;
			s->installed = inst;
		}
	}
	return 0;
}

static int on_unit(void *arg, sqlite3_stmt *q)
{
	struct state *st = arg;
	const char *id = col_text(q, 0), *ufs = col_text(q, 1);
	int i, j, r;

	if (id == NULL || ufs == NULL)
		return 0; /* only referenced from a wants link: no unit file */
	for (i = 0; i < NSVC; i++)
		for (j = 0; j < 2 && svcs[i].units[j] != NULL; j++) {
			struct svc_state *s = &st->s[i];
			if (strcmp(svcs[i].units[j], id) != 0 || s->unit_file)
				continue;
			if ((r = set_str(&s->unit, id)) != 0)
				return r;
			s->unit_file = 1;
			if (strcmp(ufs, "enabled") == 0)
				s->enabled = 1;
			else if (strcmp(ufs, "disabled") == 0 || strcmp(ufs, "masked") == 0)
				s->enabled = 0;
		}
	return 0;
}

/* Returns 1 if some /etc/rc[2-5].d holds a start link S<NN><name>. */
static int sysv_enabled(struct mm_ctx *ctx, const char *name)
{
	char dir[32], full[4096];
	struct dirent *de;
	DIR *d;
	int lvl, found = 0, seen;

	for (lvl = 2; lvl <= 5 && !found; lvl++) {
		snprintf(dir, sizeof(dir), "/etc/rc%d.d", lvl);
		if (mm_rpath(ctx, dir, full, sizeof(full)) != 0 || (d = opendir(full)) == NULL)
			continue;
		seen = 0;
		while (!found && (de = readdir(d)) != NULL && ++seen <= 10000) {
			const char *n = de->d_name;
			found = n[0] == 'S' && isdigit((unsigned char)n[1]) &&
			        isdigit((unsigned char)n[2]) && strcmp(n + 3, name) == 0;
		}
		closedir(d);
	}
	return found;
}

static int host_exists(struct mm_ctx *ctx, const char *path)
{
	char full[4096];
	struct stat sb;

	return mm_rpath(ctx, path, full, sizeof(full)) == 0 && stat(full, &sb) == 0 &&
	       S_ISREG(sb.st_mode);
}

static void find_initscripts(struct state *st)
{
	char path[128];
	int i, on = -1;

	for (i = 0; i < NSVC; i++) {
		struct svc_state *s = &st->s[i];
		if (svcs[i].sysv == NULL)
			continue;
		snprintf(path, sizeof(path), "/etc/init.d/%s", svcs[i].sysv);
		if (!host_exists(st->ctx, path))
			continue;
		s->initscript = 1;
		if (s->unit_file)
			continue; /* systemd runs the native unit, not the script */
		if (s->unit == NULL && (s->unit = strdup(svcs[i].sysv)) == NULL)
			continue;
		if (on < 0)
			on = sysv_enabled(st->ctx, svcs[i].sysv); /* xrdp and sesman share it */
		s->enabled = on;
	}
}

/* ---- xrdp.ini and sesman.ini --------------------------------------------------- */

static void ini_warn(void *arg, int line, const char *why)
{
	struct state *st = arg;

	mm_warn(st->ctx, "%s:%d: %s", st->cur_path, line, why);
}

static int on_xrdp_key(void *arg, int line, const char *section, const char *key, const char *value)
{
	struct state *st = arg;
	struct svc_state *s = &st->s[S_XRDP];

	if (strcasecmp(section, "Globals") != 0)
		return 0;
	if (strcasecmp(key, "port") == 0) {
		st->port_line = line;
		return set_str(&st->port_spec, value);
	}
	if (strcasecmp(key, "address") == 0)
		return set_str(&st->address, value);
	if (strcasecmp(key, "security_layer") == 0)
		return set_str(&s->security_layer, value);
	if (strcasecmp(key, "crypt_level") == 0)
		return set_str(&s->crypt_level, value);
	if (strcasecmp(key, "ssl_protocols") == 0)
		return set_str(&s->ssl_protocols, value);
	if (strcasecmp(key, "certificate") == 0)
		return set_str(&s->certificate, value);
	if (strcasecmp(key, "key_file") == 0)
		return set_str(&s->key_file, value);
	return 0;
}

static int on_sesman_key(void *arg, int line, const char *section, const char *key,
                         const char *value)
{
	struct state *st = arg;

	if (strcasecmp(section, "Globals") == 0 && strcasecmp(key, "ListenAddress") == 0)
		return set_str(&st->sesman_listen_addr, value);
	if (strcasecmp(section, "Globals") == 0 && strcasecmp(key, "ListenPort") == 0)
		return set_str(&st->sesman_listen_port, value);
	if (strcasecmp(section, "Security") == 0 && strcasecmp(key, "AllowRootLogin") == 0) {
		st->sesman_root_line = line;
		return set_str(&st->sesman_root, value);
	}
	return 0;
}

/* Reads and parses one INI file; returns 0 (missing file: nothing found),
 * or MM_ERR_NOMEM. */
static int read_ini(struct state *st, int svc, mm_ini_fn fn)
{
	const char *path = svcs[svc].config;
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = mm_read(st->ctx, path, MM_READ_CAP, &buf, &len);
	if (r == MM_ERR_NOTFOUND)
		return 0;
	if (r != 0) {
		mm_warn(st->ctx, "%s: cannot read: %s", path, mm_strerror(r));
		return r == MM_ERR_NOMEM ? r : 0;
	}
	st->s[svc].config_found = 1;
	st->cur_path = path;
	r = mm_ini_parse(buf, len, fn, ini_warn, st);
	free(buf);
	return r;
}

/* Derives xrdp's port / bind / exposure from port= (default 3389). */
static int xrdp_listen(struct state *st)
{
	struct svc_state *s = &st->s[S_XRDP];
	struct mm_rd_listen l[MM_RD_LISTEN_MAX];
	const char *why;
	int n, i;

	if (mm_rd_listen_parse(st->port_spec ? st->port_spec : "3389", l, &n, &why) != 0) {
		mm_warn(st->ctx, "%s:%d: port: %s", svcs[S_XRDP].config, st->port_line, why);
		if (n == 0)
			return 0;
	}
	/* Old xrdp: address= gives the address of a bare port. */
	for (i = 0; i < n; i++)
		if (l[i].kind == MM_RD_ANY && st->address != NULL && st->address[0] != '\0' &&
		    strlen(st->address) < sizeof(l[i].addr))
			memcpy(l[i].addr, st->address, strlen(st->address) + 1);
	s->port = l[0].port;
	if (l[0].kind == MM_RD_VSOCK) {
		char tmp[160];
		snprintf(tmp, sizeof(tmp), "vsock:%s", l[0].addr);
		if (set_str(&s->bind, tmp) != 0)
			return MM_ERR_NOMEM;
	} else if (set_str(&s->bind, l[0].addr) != 0) {
		return MM_ERR_NOMEM;
	}
	s->cfg_exposed = 0;
	for (i = 0; i < n; i++)
		if (l[i].kind != MM_RD_VSOCK && l[i].kind != MM_RD_UNIX &&
		    !mm_rd_is_loopback(l[i].addr))
			s->cfg_exposed = 1;
	return 0;
}

static int sesman_listen(struct state *st)
{
	struct svc_state *s = &st->s[S_SESMAN];
	const char *addr = st->sesman_listen_addr ? st->sesman_listen_addr : "127.0.0.1";
	const char *port = st->sesman_listen_port ? st->sesman_listen_port : "3350";
	int64_t v;
	int b;

	if (mm_parse_i64(port, &v) == 0 && v >= 1 && v <= 65535) {
		s->port = (int)v;
		if (set_str(&s->bind, addr[0] ? addr : "0.0.0.0") != 0)
			return MM_ERR_NOMEM;
		s->cfg_exposed = !mm_rd_is_loopback(s->bind);
	} else {
		/* xrdp 0.10: a unix socket name under /run/xrdp */
		if (set_str(&s->bind, port) != 0)
			return MM_ERR_NOMEM;
		s->cfg_exposed = 0;
	}
	s->allow_root = 0;
	if (st->sesman_root != NULL) {
		if ((b = mm_rd_bool(st->sesman_root, strlen(st->sesman_root))) < 0)
			mm_warn(st->ctx, "%s:%d: AllowRootLogin: not a boolean: '%s'",
			        svcs[S_SESMAN].config, st->sesman_root_line, st->sesman_root);
		s->allow_root = b == 1;
	}
	return 0;
}

/* ---- processes, users, command lines ----------------------------------------- */

/* Returns the service whose process is called comm (the kernel's 15-byte
 * name), or -1. */
static int svc_of_comm(const char *comm)
{
	size_t n = strlen(comm);
	int i, j;

	for (i = 0; i < NSVC; i++)
		for (j = 0; j < 5 && svcs[i].comms[j] != NULL; j++) {
			const char *c = svcs[i].comms[j];
			if (strcmp(c, comm) == 0 || (n == 15 && strncmp(c, comm, 15) == 0))
				return i;
		}
	return -1;
}

static int on_process(void *arg, sqlite3_stmt *q)
{
	struct state *st = arg;
	const char *name = col_text(q, 1);
	struct proc *p;
	int svc;

	if (name == NULL || (svc = svc_of_comm(name)) < 0)
		return 0;
	if (st->nprocs == MAX_PROCS) {
		if (!st->procs_warned++)
			mm_warn(st->ctx,
			        "more than %d remote-desktop processes; the rest are ignored",
			        MAX_PROCS);
		return 0;
	}
	p = &st->procs[st->nprocs++];
	p->pid = sqlite3_column_int64(q, 0);
	p->uid = sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2);
	p->svc = svc;
	p->row = -1;
	return 0;
}

/* Gives every process a row (per user for per-user servers). */
static void rows_from_procs(struct state *st)
{
	int i;

	for (i = 0; i < st->nprocs; i++) {
		struct proc *p = &st->procs[i];
		struct row *r = get_row(st, p->svc, svcs[p->svc].per_user ? p->uid : -1);
		if (r == NULL)
			continue;
		p->row = (int)(r - st->rows);
		if (r->pid < 0 || p->pid < r->pid)
			r->pid = p->pid;
	}
}

/* Appends "?,?,..." of values to sql (IN list). */
static int add_in_list(struct mm_buf *sql, const int64_t *v, int n)
{
	int i, r = 0;

	for (i = 0; i < n && r == 0; i++)
		r = mm_buf_addf(sql, "%s%lld", i ? "," : "", (long long)v[i]);
	if (r == 0)
		r = mm_buf_adds(sql, ");");
	return r;
}

static int on_user(void *arg, sqlite3_stmt *q)
{
	struct state *st = arg;
	int64_t uid = sqlite3_column_int64(q, 0);
	int i, r;

	for (i = 0; i < st->nrows; i++)
		if (st->rows[i].uid == uid && st->rows[i].user == NULL) {
			if ((r = set_str(&st->rows[i].user, col_text(q, 1))) != 0 ||
			    (r = set_str(&st->rows[i].home, col_text(q, 2))) != 0)
				return r;
		}
	return 0;
}

static int on_cmdline(void *arg, sqlite3_stmt *q)
{
	struct state *st = arg;
	int64_t pid = sqlite3_column_int64(q, 0);
	const char *cmd = col_text(q, 1);
	int i;

	for (i = 0; i < st->nrows; i++)
		if (st->rows[i].pid == pid && cmd != NULL) {
			mm_rd_cmdline_parse(cmd, &st->rows[i].cmd);
			st->rows[i].have_cmd = 1;
		}
	return 0;
}

/* Looks up user names (and homes) of per-user rows, and the command lines
 * of running servers whose arguments matter. */
static int users_and_cmdlines(struct state *st)
{
	int64_t uids[MAX_ROWS], pids[MAX_ROWS];
	struct mm_buf sql;
	int i, nu = 0, np = 0, r = 0;

	mm_buf_init(&sql, SQL_CAP);
	for (i = 0; i < st->nrows; i++) {
		const struct row *w = &st->rows[i];
		if (w->uid >= 0)
			uids[nu++] = w->uid;
		if (w->pid > 0 &&
		    (w->svc == S_TIGERVNC || w->svc == S_X11VNC || w->svc == S_SHADOW))
			pids[np++] = w->pid;
	}
	if (nu > 0) {
		if ((r = mm_buf_adds(
		         &sql, "SELECT uid, username, directory FROM users WHERE uid IN (")) != 0 ||
		    (r = add_in_list(&sql, uids, nu)) != 0 ||
		    (r = mm_subquery(st->ctx, mm_buf_str(&sql), on_user, st)) != 0)
			goto out;
	}
	if (np > 0) {
		mm_buf_reset(&sql);
		if ((r = mm_buf_adds(&sql, "SELECT pid, cmdline FROM processes WHERE pid IN (")) !=
		        0 ||
		    (r = add_in_list(&sql, pids, np)) != 0 ||
		    (r = mm_subquery(st->ctx, mm_buf_str(&sql), on_cmdline, st)) != 0)
			goto out;
	}
	r = 0;
out:
	mm_buf_free(&sql);
	return r;
}

/* ---- sockets ------------------------------------------------------------------ */

/* Service a socket on a well-known port belongs to when its holder is not
 * known: the first service of that protocol with other evidence, else
 * 'unknown'.  Returns -1 for ports that are not well known (and for 3350
 * without sesman). */
static int svc_of_port(struct state *st, int port)
{
	static const int rdp[] = {S_XRDP, S_GRD, S_SHADOW},
	                 vnc[] = {S_TIGERVNC, S_X11VNC, S_VINO, S_KRFB};
	int i, j;

	if (port == 3350) {
		for (j = 0; j < st->nrows; j++)
			if (st->rows[j].svc == S_SESMAN)
				return S_SESMAN;
		return -1;
	}
	if (port == 3389) {
		for (i = 0; i < 3; i++)
			for (j = 0; j < st->nrows; j++)
				if (st->rows[j].svc == rdp[i])
					return rdp[i];
		return S_UNK_RDP;
	}
	if (port >= 5900 && port <= 5999) {
		for (i = 0; i < 4; i++)
			for (j = 0; j < st->nrows; j++)
				if (st->rows[j].svc == vnc[i])
					return vnc[i];
		return S_UNK_VNC;
	}
	return -1;
}

static int on_socket(void *arg, sqlite3_stmt *q)
{
	struct state *st = arg;
	int64_t pid = sqlite3_column_int64(q, 0);
	int port = sqlite3_column_int(q, 1), fam = sqlite3_column_int(q, 2);
	const char *addr = col_text(q, 3);
	struct row *w = NULL;
	char ep[80];
	int i, svc;

	if (addr == NULL)
		return 0;
	if (pid > 0) {
		for (i = 0; i < st->nprocs && w == NULL; i++)
			if (st->procs[i].pid == pid && st->procs[i].row >= 0)
				w = &st->rows[st->procs[i].row];
	} else if ((svc = svc_of_port(st, port)) >= 0) {
		/* the first row of that service (the host row, or the first user's) */
		for (i = 0; i < st->nrows && w == NULL; i++)
			if (st->rows[i].svc == svc)
				w = &st->rows[i];
		if (w == NULL)
			w = get_row(st, svc, -1);
	}
	if (w == NULL)
		return 0;
	snprintf(ep, sizeof(ep), fam == 10 ? "[%s]:%d" : "%s:%d", addr, port);
	/* A socket seen twice (a holder in two namespaces) is listed once. */
	{
		const char *l = mm_buf_str(&w->listen), *f = l;
		size_t n = strlen(ep);
		while ((f = strstr(f, ep)) != NULL) {
			if ((f == l || f[-1] == ',') && (f[n] == '\0' || f[n] == ','))
				return 0;
			f += n;
		}
	}
	if ((w->nsock && mm_buf_addc(&w->listen, ',') != 0) || mm_buf_adds(&w->listen, ep) != 0) {
		mm_warn(st->ctx, "listen_addresses of %s too long; shortened", svcs[w->svc].name);
		return 0;
	}
	w->nsock++;
	if (!mm_rd_is_loopback(addr))
		w->sock_exposed = 1;
	return 0;
}

/* ---- TigerVNC localhost ---------------------------------------------------------- */

/* Reads the perl-style file at path: sets *v when it assigns $localhost and
 * remembers the file in *file. */
static int tigervnc_perl(struct mm_ctx *ctx, const char *path, int *v, char **file)
{
	char *buf = NULL;
	size_t len = 0;
	int line, b, r;

	if ((r = mm_read(ctx, path, MM_READ_CAP, &buf, &len)) != 0)
		return r == MM_ERR_NOMEM ? r : 0;
	if ((b = mm_rd_perl_localhost(buf, len, &line)) >= 0) {
		*v = b;
		r = set_str(file, path);
	}
	free(buf);
	return r;
}

/* Sets vnc_local of a TigerVNC row from its command line when it runs, else
 * from the configuration in vncserver's order: Debian's default (localhost
 * only), vncserver-config-defaults, the user's ~/.vnc/config, then
 * vncserver-config-mandatory.  vnc_file is the file that decides the
 * configured value either way (what the next start will use). */
static int tigervnc_localhost(struct state *st, struct row *w, int def, const char *def_file,
                              int mand, const char *mand_file)
{
	char path[4096], *buf = NULL;
	size_t len = 0;
	int line, b, cfg = 1, r = 0;

	if (def >= 0) {
		cfg = def;
		if ((r = set_str(&w->vnc_file, def_file)) != 0)
			return r;
	}
	if (w->home != NULL && w->home[0] == '/' &&
	    snprintf(path, sizeof(path), "%s/.vnc/config", w->home) < (int)sizeof(path)) {
		r = mm_read(st->ctx, path, MM_READ_CAP, &buf, &len);
		if (r == 0 && (b = mm_rd_vnc_localhost(buf, len, &line)) >= 0) {
			cfg = b;
			if ((r = set_str(&w->vnc_file, path)) != 0)
				goto out;
		}
		r = r == MM_ERR_NOMEM ? r : 0;
	}
	if (mand >= 0) {
		cfg = mand;
		r = set_str(&w->vnc_file, mand_file);
	}
	w->vnc_local = cfg;
	if (w->have_cmd) {
		/* Xvnc listens everywhere unless -localhost or -interface say otherwise. */
		w->vnc_local = w->cmd.localhost == 1 ||
		               (w->cmd.bind[0] != '\0' && mm_rd_is_loopback(w->cmd.bind));
		w->vnc_src_cmdline = 1;
	}
out:
	free(buf);
	return r;
}

static int vnc_config(struct state *st)
{
	char *def_file = NULL, *mand_file = NULL;
	int def = -1, mand = -1, i, r = 0, any = 0;

	for (i = 0; i < st->nrows; i++)
		any |= st->rows[i].svc == S_TIGERVNC;
	/* TigerVNC's system files are read once, and only when it has rows. */
	if (any && ((r = tigervnc_perl(st->ctx, TIGERVNC_DEFAULTS, &def, &def_file)) != 0 ||
	            (r = tigervnc_perl(st->ctx, TIGERVNC_MANDATORY, &mand, &mand_file)) != 0))
		goto out;
	for (i = 0; i < st->nrows && r == 0; i++) {
		struct row *w = &st->rows[i];
		if (w->svc == S_TIGERVNC) {
			r = tigervnc_localhost(st, w, def, def_file, mand, mand_file);
			if (r == 0 && w->vnc_file == NULL &&
			    host_exists(st->ctx, TIGERVNC_DEFAULTS))
				r = set_str(&w->vnc_file, TIGERVNC_DEFAULTS);
		} else if (w->svc == S_X11VNC && w->have_cmd) {
			w->vnc_local = w->cmd.localhost == 1 ||
			               (w->cmd.bind[0] != '\0' && mm_rd_is_loopback(w->cmd.bind));
			w->vnc_src_cmdline = 1;
		}
	}
out:
	free(def_file);
	free(mand_file);
	return r;
}

/* ---- rows ------------------------------------------------------------------------ */

static int has_host_evidence(const struct state *st, int i)
{
	const struct svc_state *s = &st->s[i];

	return s->installed || s->unit_file || s->initscript || (s->config_found && svcs[i].config);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	const char *ux = x->user ? x->user : "", *uy = y->user ? y->user : "";

	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	if ((x->uid < 0) != (y->uid < 0))
		return x->uid < 0 ? -1 : 1;
	if (strcmp(ux, uy) != 0)
		return strcmp(ux, uy);
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void set_opt_int(struct mm_ctx *ctx, int col, int v)
{
	if (v >= 0)
		mm_set_int(ctx, col, v);
}

static int emit(struct state *st, struct row *w)
{
	struct mm_ctx *ctx = st->ctx;
	const struct svc_def *d = &svcs[w->svc];
	const struct svc_state *s = &st->s[w->svc];
	struct mm_buf ev;
	int r, port = s->port;
	const char *bind = s->bind;

	if ((r = mm_row_begin(ctx)) != 0)
		return r;
	mm_set_text(ctx, C_SERVICE, d->name);
	mm_set_text(ctx, C_PROTOCOL, d->protocol);
	if (w->user != NULL)
		mm_set_text(ctx, C_USER, w->user);
	else if (w->uid >= 0)
		mm_set_textf(ctx, C_USER, "%lld", (long long)w->uid);
	mm_set_text(ctx, C_PACKAGE, s->pkg);
	mm_set_text(ctx, C_PACKAGE_VERSION, s->ver);
	mm_set_int(ctx, C_INSTALLED, s->installed);
	mm_set_text(ctx, C_UNIT, s->unit);
	set_opt_int(ctx, C_ENABLED, s->enabled);
	mm_set_int(ctx, C_RUNNING, w->pid > 0);
	if (w->pid > 0)
		mm_set_int(ctx, C_PID, w->pid);
	if (w->nsock > 0)
		mm_set_text(ctx, C_LISTEN_ADDRESSES, mm_buf_str(&w->listen));

	if (w->have_cmd) {
		if (w->cmd.port > 0)
			port = w->cmd.port;
		else if (w->svc == S_TIGERVNC && w->cmd.display >= 0)
			port = 5900 + w->cmd.display;
		else if (w->svc == S_SHADOW)
			port = 3389;
		if (w->cmd.bind[0] != '\0')
			bind = w->cmd.bind;
	}
	if (w->nsock > 0) {
		mm_set_int(ctx, C_EXPOSED, w->sock_exposed);
		mm_set_text(ctx, C_EXPOSURE_SOURCE, "socket");
	} else if (w->vnc_local >= 0) {
		mm_set_int(ctx, C_EXPOSED, !w->vnc_local);
		mm_set_text(ctx, C_EXPOSURE_SOURCE, w->vnc_src_cmdline ? "cmdline" : "config");
	} else if (w->have_cmd && w->cmd.bind[0] != '\0') {
		mm_set_int(ctx, C_EXPOSED, !mm_rd_is_loopback(w->cmd.bind));
		mm_set_text(ctx, C_EXPOSURE_SOURCE, "cmdline");
	} else if (s->cfg_exposed >= 0) {
		mm_set_int(ctx, C_EXPOSED, s->cfg_exposed);
		mm_set_text(ctx, C_EXPOSURE_SOURCE, "config");
	}
	if (w->svc == S_TIGERVNC)
		mm_set_text(ctx, C_CONFIG_FILE, w->vnc_file);
	else if (s->config_found)
		mm_set_text(ctx, C_CONFIG_FILE, d->config);
	set_opt_int(ctx, C_PORT, port);
	mm_set_text(ctx, C_BIND_ADDRESS, bind);
	mm_set_text(ctx, C_SECURITY_LAYER, s->security_layer);
	mm_set_text(ctx, C_CRYPT_LEVEL, s->crypt_level);
	mm_set_text(ctx, C_SSL_PROTOCOLS, s->ssl_protocols);
	mm_set_text(ctx, C_CERTIFICATE, s->certificate);
	mm_set_text(ctx, C_KEY_FILE, s->key_file);
	if (w->svc == S_XRDP || w->svc == S_SESMAN)
		set_opt_int(ctx, C_ALLOW_ROOT_LOGIN, st->s[S_SESMAN].allow_root);
	set_opt_int(ctx, C_VNC_LOCALHOST_ONLY, w->vnc_local);

	mm_buf_init(&ev, 256);
	if (s->installed)
		mm_buf_adds(&ev, ",package");
	if (s->unit_file)
		mm_buf_adds(&ev, ",unit");
	if (s->initscript)
		mm_buf_adds(&ev, ",initscript");
	if (s->config_found && d->config != NULL)
		mm_buf_adds(&ev, ",config");
	if (w->pid > 0)
		mm_buf_adds(&ev, ",process");
	if (w->nsock > 0)
		mm_buf_adds(&ev, ",socket");
	mm_set_text(ctx, C_EVIDENCE, ev.len ? mm_buf_str(&ev) + 1 : "");
	mm_buf_free(&ev);
	return mm_row_end(ctx);
}

/* IN lists of the catalog's packages and units, built once per scan. */
static int catalog_sql(struct mm_buf *sql, const char *head, int pkgs)
{
	int i, j, n = 0, r;

	if ((r = mm_buf_adds(sql, head)) != 0)
		return r;
	for (i = 0; i < NSVC; i++) {
		const char *const *v = pkgs ? svcs[i].pkgs : svcs[i].units;
		int max = pkgs ? 3 : 2;
		for (j = 0; j < max && v[j] != NULL; j++)
			if ((r = mm_buf_addf(sql, "%s'%s'", n++ ? "," : "", v[j])) != 0)
				return r;
	}
	return mm_buf_adds(sql, ");");
}

static void state_free(struct state *st)
{
	int i;

	for (i = 0; i < NSVC; i++) {
		struct svc_state *s = &st->s[i];
		free(s->pkg);
		free(s->ver);
		free(s->unit);
		free(s->bind);
		free(s->security_layer);
		free(s->crypt_level);
		free(s->ssl_protocols);
		free(s->certificate);
		free(s->key_file);
	}
	for (i = 0; i < st->nrows; i++) {
		free(st->rows[i].user);
		free(st->rows[i].home);
		free(st->rows[i].vnc_file);
		mm_buf_free(&st->rows[i].listen);
	}
	free(st->port_spec);
	free(st->address);
	free(st->sesman_listen_addr);
	free(st->sesman_listen_port);
	free(st->sesman_root);
	free(st);
}

static int gen(struct mm_ctx *ctx)
{
	struct state *st;
	struct mm_buf sql;
	int i, r = MM_ERR_NOMEM, any = 0;

	mm_buf_init(&sql, SQL_CAP);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto out;
	st->ctx = ctx;
	for (i = 0; i < NSVC; i++) {
		st->s[i].enabled = st->s[i].port = st->s[i].cfg_exposed = st->s[i].allow_root = -1;
		st->want[i] = mm_eq_allows(ctx, C_SERVICE, svcs[i].name);
		any |= st->want[i];
	}
	if (!any) {
		r = 0;
		goto out;
	}

	if ((r = catalog_sql(&sql, "SELECT name, version, status FROM deb_packages WHERE name IN (",
	                     1)) != 0 ||
	    (r = mm_subquery(ctx, mm_buf_str(&sql), on_package, st)) != 0)
		goto out;
	mm_buf_reset(&sql);
	if ((r = catalog_sql(&sql, "SELECT id, unit_file_state FROM systemd_units WHERE id IN (",
	                     0)) != 0 ||
	    (r = mm_subquery(ctx, mm_buf_str(&sql), on_unit, st)) != 0)
		goto out;
	find_initscripts(st);
	if ((r = read_ini(st, S_XRDP, on_xrdp_key)) != 0 ||
	    (r = read_ini(st, S_SESMAN, on_sesman_key)) != 0)
		goto out;
	if (st->s[S_XRDP].config_found && (r = xrdp_listen(st)) != 0)
		goto out;
	if (st->s[S_SESMAN].config_found && (r = sesman_listen(st)) != 0)
		goto out;

	if ((r = mm_subquery(ctx, "SELECT pid, name, uid FROM processes;", on_process, st)) != 0)
		goto out;
	rows_from_procs(st);
	for (i = 0; i < NSVC; i++) {
		int j, has = 0;
		for (j = 0; j < st->nrows; j++)
			has |= st->rows[j].svc == i;
		if (!has && has_host_evidence(st, i))
			get_row(st, i, -1);
	}
	if ((r = mm_subquery(ctx,
	                     "SELECT pid, port, family, address FROM listening_ports "
	                     "WHERE protocol = 6 AND family IN (2, 10);",
	                     on_socket, st)) != 0)
		goto out;
	if ((r = users_and_cmdlines(st)) != 0 || (r = vnc_config(st)) != 0)
		goto out;

	qsort(st->rows, (size_t)st->nrows, sizeof(st->rows[0]), cmp_rows);
	for (i = 0; i < st->nrows; i++)
		if (st->want[st->rows[i].svc] && (r = emit(st, &st->rows[i])) != 0)
			goto out;
	r = 0;
out:
	if (r == MM_ERR_NOMEM)
		mm_error(ctx, "remote_desktop: out of memory");
	if (st != NULL)
		state_free(st);
	mm_buf_free(&sql);
	return r;
}

const struct mm_table mm_table_remote_desktop = {
    .name = "remote_desktop",
    .description =
        "Remote-desktop servers (RDP and VNC) found on the host, with how far each is "
        "exposed. One row per service found by any evidence: its Debian package, a systemd "
        "unit or SysV init script, its configuration file (xrdp), a running process, or a "
        "listening socket; per-user servers (VNC servers, GNOME Remote Desktop, krfb, "
        "freerdp-shadow) get one row per user running them. Covers xrdp and xrdp-sesman, "
        "TigerVNC (Xtigervnc/Xvnc), x11vnc, vino, gnome-remote-desktop, krfb and "
        "freerdp-shadow. `exposed` says whether the server is reachable beyond loopback, "
        "from its listening sockets when it runs, else from its command line or "
        "configuration (`exposure_source`). xrdp's TLS settings and sesman's "
        "AllowRootLogin are read from /etc/xrdp. Built on deb_packages, systemd_units, "
        "processes, listening_ports and users. Mamori only: osquery has no such table.",
    .columns = cols,
    .generate = gen,
    .example = "SELECT service, user, listen_addresses, exposure_source FROM remote_desktop "
               "WHERE exposed = 1;",
    .notes = "Reading another user's /proc/<pid>/fd needs root: without it the holder of a "
             "socket is unknown and sockets on 3389, 3350 and 5900-5999 are assigned by port "
             "(service 'unknown' when no server of that protocol was found otherwise).",
};
