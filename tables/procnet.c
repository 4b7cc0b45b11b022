/*
 * procnet.c - parsers for the socket tables under /proc/net; see procnet.h.
 *
 * Lines are read as (pointer, length) pairs and never written to, so the
 * fuzz harness can hand over arbitrary bytes.  Every field is checked for
 * its exact shape (hex width, decimal inode) before it is used: a truncated
 * or garbled line is refused as a whole rather than half-decoded.
 */
#include "procnet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "error.h"

const struct mm_procnet_file mm_procnet_files[] = {
	{ "icmp", MM_PN_INET, AF_INET, IPPROTO_ICMP },
	{ "icmp6", MM_PN_INET, AF_INET6, IPPROTO_ICMP },
	{ "tcp", MM_PN_INET, AF_INET, IPPROTO_TCP },
	{ "tcp6", MM_PN_INET, AF_INET6, IPPROTO_TCP },
	{ "udp", MM_PN_INET, AF_INET, IPPROTO_UDP },
	{ "udp6", MM_PN_INET, AF_INET6, IPPROTO_UDP },
	{ "udplite", MM_PN_INET, AF_INET, IPPROTO_UDPLITE },
	{ "udplite6", MM_PN_INET, AF_INET6, IPPROTO_UDPLITE },
	{ "raw", MM_PN_INET, AF_INET, IPPROTO_RAW },
	{ "raw6", MM_PN_INET, AF_INET6, IPPROTO_RAW },
	{ "unix", MM_PN_UNIX, AF_UNIX, 0 },
	{ "packet", MM_PN_PACKET, AF_PACKET, 0 },
};
const size_t mm_procnet_nfiles = sizeof(mm_procnet_files) / sizeof(mm_procnet_files[0]);

/*
 * Kernel TCP states (include/net/tcp_states.h) as osquery names them:
 *
 *   1 ESTABLISHED  2 SYN_SENT   3 SYN_RECV   4 FIN_WAIT1  5 FIN_WAIT2
 *   6 TIME_WAIT    7 CLOSED     8 CLOSE_WAIT 9 LAST_ACK  10 LISTEN
 *  11 CLOSING      anything else (0, 12 NEW_SYN_RECV, ...) UNKNOWN
 */
static const char *const tcp_states[] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSED", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};

const char *mm_procnet_tcp_state(unsigned code)
{
	if (code >= sizeof(tcp_states) / sizeof(tcp_states[0]))
		return "UNKNOWN";
	return tcp_states[code];
}

/* A field: bytes [p, p + n) of the line. */
struct field {
	const char *p;
	size_t n;
};

/* Splits line at runs of blanks into at most max fields; returns the count.
 * *rest (when given) is where the text after the last stored field starts. */
static int split(const char *line, size_t len, struct field *f, int max, const char **rest)
{
	size_t i = 0;
	int n = 0;

	while (n < max) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len)
			break;
		f[n].p = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		f[n].n = (size_t)(line + i - f[n].p);
		n++;
	}
	if (rest != NULL)
		*rest = line + i;
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses exactly n (1..8) hex digits into *v.  Returns 0 or MM_ERR_PARSE. */
static int hexn(const char *s, size_t n, uint32_t *v)
{
	uint32_t x = 0;
	size_t i;

	if (n == 0 || n > 8)
		return MM_ERR_PARSE;
	for (i = 0; i < n; i++) {
		int d = hexval(s[i]);
		if (d < 0)
			return MM_ERR_PARSE;
		x = (x << 4) | (uint32_t)d;
	}
	*v = x;
	return 0;
}

/* Parses a whole field of hex digits of any width up to 8. */
static int hexf(const struct field *f, uint32_t *v)
{
	return hexn(f->p, f->n, v);
}

/* Parses a decimal inode (1..20 digits, no overflow). */
static int decf(const struct field *f, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (f->n == 0 || f->n > 20)
		return MM_ERR_PARSE;
	for (i = 0; i < f->n; i++) {
		unsigned d = (unsigned)(f->p[i] - '0');
		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return MM_ERR_PARSE;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/*
 * Decodes "ADDR:PORT" as the kernel prints it: ADDR is 8 hex digits (one
 * 32-bit word) for IPv4 or 32 (four words) for IPv6, each word in host byte
 * order; PORT is 4 hex digits, a plain number.  Writes the address text with
 * inet_ntop.  Returns 0 or MM_ERR_PARSE.
 */
static int addrport(const struct field *f, int family, char out[MM_PN_ADDRLEN], int *port)
{
	size_t alen = family == AF_INET ? 8 : 32, i;
	uint32_t w[4], p;
	unsigned char bytes[16];

	if (f->n != alen + 5 || f->p[alen] != ':')
		return MM_ERR_PARSE;
	for (i = 0; i < alen / 8; i++)
		if (hexn(f->p + i * 8, 8, &w[i]) != 0)
			return MM_ERR_PARSE;
	if (hexn(f->p + alen + 1, 4, &p) != 0)
		return MM_ERR_PARSE;
	memcpy(bytes, w, alen / 2); /* host-order words: the bytes as the kernel holds them */
	if (inet_ntop(family, bytes, out, MM_PN_ADDRLEN) == NULL)
		return MM_ERR_PARSE;
	*port = (int)p;
	return 0;
}

/* "   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000
 *  0 0 15797 ..." - fields 1, 2, 3 and 9 are used, 10 are needed. */
static int parse_inet(const struct mm_procnet_file *fl, const char *line, size_t len,
		      struct mm_procnet_sock *s, const char **why)
{
	struct field f[10];
	uint32_t st;

	if (split(line, len, f, 10, NULL) < 10)
		return *why = "too few fields", MM_ERR_PARSE;
	if (f[0].n < 2 || f[0].p[f[0].n - 1] != ':')
		return *why = "bad slot number", MM_ERR_PARSE;
	if (addrport(&f[1], fl->family, s->local_address, &s->local_port) != 0)
		return *why = "bad local address", MM_ERR_PARSE;
	if (addrport(&f[2], fl->family, s->remote_address, &s->remote_port) != 0)
		return *why = "bad remote address", MM_ERR_PARSE;
	if (f[3].n != 2 || hexf(&f[3], &st) != 0)
		return *why = "bad state", MM_ERR_PARSE;
	if (decf(&f[9], &s->inode) != 0)
		return *why = "bad inode", MM_ERR_PARSE;
	if (fl->protocol == IPPROTO_TCP) {
		s->tcp_state = (int)st;
		s->state = mm_procnet_tcp_state(st);
	}
	return 0;
}

/* "0000000000000000: 00000002 00000000 00010000 0001 01 16935 /run/x.sock"
 * - the path is the rest of the line after the inode (it may hold blanks;
 * abstract names start with '@'); fields 2 and 6 are used. */
static int parse_unix(const char *line, size_t len, struct mm_procnet_sock *s, const char **why)
{
	struct field f[7];
	const char *rest, *end = line + len;
	uint32_t v;

	if (split(line, len, f, 7, &rest) < 7)
		return *why = "too few fields", MM_ERR_PARSE;
	if (f[0].n < 2 || f[0].p[f[0].n - 1] != ':')
		return *why = "bad socket address", MM_ERR_PARSE;
	if (hexf(&f[1], &v) != 0 || hexf(&f[3], &v) != 0 || hexf(&f[4], &v) != 0 ||
	    hexf(&f[5], &v) != 0 || hexf(&f[2], &v) != 0)
		return *why = "bad hex field", MM_ERR_PARSE;
	s->protocol = (int)v; /* the last one checked: field 2 */
	if (decf(&f[6], &s->inode) != 0)
		return *why = "bad inode", MM_ERR_PARSE;
	while (rest < end && (*rest == ' ' || *rest == '\t'))
		rest++;
	while (end > rest && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	s->path = rest;
	s->path_len = (size_t)(end - rest);
	return 0;
}

/* "ffff8f0c4a1e4000 3 3 0003 2 1 0 0 17432" - the protocol (field 3, an
 * ethertype in hex) and the inode (field 8). */
static int parse_packet(const char *line, size_t len, struct mm_procnet_sock *s, const char **why)
{
	struct field f[9];
	uint32_t v;

	if (split(line, len, f, 9, NULL) < 9)
		return *why = "too few fields", MM_ERR_PARSE;
	if (f[3].n != 4 || hexf(&f[3], &v) != 0)
		return *why = "bad protocol", MM_ERR_PARSE;
	s->protocol = (int)v;
	s->state = "NONE";
	if (decf(&f[8], &s->inode) != 0)
		return *why = "bad inode", MM_ERR_PARSE;
	return 0;
}

int mm_procnet_parse_line(const struct mm_procnet_file *f, const char *line, size_t len,
			  struct mm_procnet_sock *out, const char **why)
{
	*why = "unknown file format";
	memset(out, 0, sizeof(*out));
	out->family = f->family;
	out->protocol = f->protocol;
	out->state = "";
	out->path = "";
	switch (f->format) {
	case MM_PN_INET:
		return parse_inet(f, line, len, out, why);
	case MM_PN_UNIX:
		return parse_unix(line, len, out, why);
	case MM_PN_PACKET:
		return parse_packet(line, len, out, why);
	}
	return MM_ERR_PARSE;
}

/* Header lines start "  sl  local_address" (inet), "Num       RefCount"
 * (unix) or "sk       RefCnt" (packet). */
static int is_header(const struct mm_procnet_file *f, const char *line, size_t len)
{
	struct field w[1];
	const char *want = f->format == MM_PN_INET ? "sl" : f->format == MM_PN_UNIX ? "Num" : "sk";

	if (split(line, len, w, 1, NULL) != 1)
		return 0;
	return w[0].n == strlen(want) && memcmp(w[0].p, want, w[0].n) == 0;
}

int mm_procnet_parse(const struct mm_procnet_file *f, const char *buf, size_t len,
		     mm_procnet_cb cb, void *arg)
{
	struct mm_procnet_sock s;
	const char *why = NULL;
	size_t pos = 0;
	int lineno = 0, r;

	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

		pos += n + (nl != NULL ? 1 : 0);
		lineno++;
		if (lineno == 1) {
			if (is_header(f, line, n))
				continue;
			if ((r = cb(arg, lineno, NULL, "missing header line")) != 0)
				return r;
			continue;
		}
		if (n == 0)
			continue;
		if (mm_procnet_parse_line(f, line, n, &s, &why) != 0)
			r = cb(arg, lineno, NULL, why);
		else
			r = cb(arg, lineno, &s, NULL);
		if (r != 0)
			return r;
	}
	return 0;
}
