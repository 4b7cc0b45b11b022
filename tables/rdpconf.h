/*
 * rdpconf.h - pure parsers for remote-desktop configuration, used by the
 * remote_desktop table and fuzzed by tests/fuzz/fuzz_rdpconf.c.  No engine
 * here: each takes a buffer or string and returns parsed values.
 *
 *   mm_ini_parse           xrdp.ini / sesman.ini ([Section] and key=value)
 *   mm_rd_listen_parse     xrdp's [Globals] port= value ("3389",
 *                          "tcp://127.0.0.1:3389", "tcp6://[::1]:3389", ...)
 *   mm_rd_perl_localhost   TigerVNC's perl-style vncserver-config-defaults /
 *                          -mandatory (`$localhost = "no";`)
 *   mm_rd_vnc_localhost    a user's ~/.vnc/config (`localhost`, `localhost=no`)
 *   mm_rd_cmdline_parse    a VNC/RDP server's command line (-localhost,
 *                          -rfbport, -interface, -listen, :N, /port:N)
 */
#ifndef MM_RDPCONF_H
#define MM_RDPCONF_H

#include <stddef.h>

#define MM_INI_LINE_MAX 4096 /* longest INI line accepted, in bytes */

/* Called for each key=value line; section is "" before the first [header].
 * Strings are trimmed, point into the caller's buffer and live as long as it.
 * Return 0 to go on; any other value stops the parse and is returned. */
typedef int (*mm_ini_fn)(void *arg, int line, const char *section, const char *key,
                         const char *value);
/* Called for each rejected line (1-based) with a short reason. */
typedef void (*mm_ini_warn_fn)(void *arg, int line, const char *why);

/*
 * Parses an INI file as xrdp reads it: blank lines and lines starting with
 * ';' or '#' are skipped; "[name]" opens a section; other lines must be
 * key=value (the first '=' splits; key not empty).  Lines with control bytes
 * or NUL, longer than MM_INI_LINE_MAX, unterminated headers or without '='
 * go to warn (may be NULL) and are skipped.  buf holds len bytes followed by
 * a NUL and is modified in place.  Returns 0 or fn's first non-zero value.
 */
int mm_ini_parse(char *buf, size_t len, mm_ini_fn fn, mm_ini_warn_fn warn, void *arg);

/* One listening endpoint from xrdp's port= value. */
enum mm_rd_kind {
	MM_RD_ANY = 1, /* a bare port number: all interfaces (addr "0.0.0.0") */
	MM_RD_TCP4,    /* tcp://ADDR:PORT ("" -> 0.0.0.0, "." -> 127.0.0.1) */
	MM_RD_TCP6,    /* tcp6://ADDR:PORT ("" -> ::, "." -> ::1; [..] or {..}) */
	MM_RD_VSOCK,   /* vsock://CID:PORT (not reachable over IP) */
	MM_RD_UNIX,    /* unix://PATH (port -1) */
};

struct mm_rd_listen {
	enum mm_rd_kind kind;
	char addr[128]; /* address (no brackets), vsock cid or unix path */
	int port;       /* 1..65535, or -1 for unix sockets */
};

#define MM_RD_LISTEN_MAX 8 /* most endpoints one port= value may list */

/*
 * Parses xrdp's port= value: up to MM_RD_LISTEN_MAX endpoints separated by
 * white space.  Fills out[0..*n).  Returns 0, or MM_ERR_PARSE with *why set
 * to a static reason (nothing is stored for the bad entry; *n holds the
 * good ones before it).
 */
int mm_rd_listen_parse(const char *spec, struct mm_rd_listen *out, int *n, const char **why);

/* Returns 1 if addr is a loopback address (127.0.0.0/8, ::1,
 * ::ffff:127.x.y.z, "localhost"), else 0. */
int mm_rd_is_loopback(const char *addr);

/* Returns 1 for true/yes/on/1, 0 for false/no/off/0 (any case), -1 else. */
int mm_rd_bool(const char *s, size_t n);

/*
 * Returns the value of the last `$localhost = "yes"|"no";` assignment in a
 * perl-style TigerVNC config (1 localhost only, 0 not), or -1 when none is
 * there; *line gets its 1-based line (0 when none).  Comments ('#') are
 * skipped; buf (len bytes) is only read.
 */
int mm_rd_perl_localhost(const char *buf, size_t len, int *line);

/* Same for a ~/.vnc/config file (`localhost`, `localhost=no`, '#' comments):
 * 1, 0 or -1 when the option is not set. */
int mm_rd_vnc_localhost(const char *buf, size_t len, int *line);

/* What a server's command line says about where it listens. */
struct mm_rd_cmdline {
	int localhost;  /* -localhost[=bool]: 1/0, -1 when absent */
	int port;       /* -rfbport N, -rfbport=N, /port:N; -1 when absent */
	int display;    /* X display ":N" (Xvnc), -1 when absent */
	char bind[128]; /* -interface ADDR, -listen ADDR, /bind-address:ADDR; "" if absent */
};

/* Parses a command line whose arguments are joined by spaces (as the
 * processes table gives it).  Never fails; unknown arguments are ignored. */
void mm_rd_cmdline_parse(const char *cmdline, struct mm_rd_cmdline *o);

#endif
