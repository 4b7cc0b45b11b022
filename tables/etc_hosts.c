/*
 * etc_hosts.c - osquery's `etc_hosts` table: the static host name map in
 * /etc/hosts under the root prefix, one row per mapping line.
 *
 * A '#' starts a comment anywhere on a line (the resolver's rule; osquery
 * only honours it at the start of a word).  The first word is the address,
 * the rest are the host names, joined by single spaces.  A line whose
 * address is not an IPv4 or IPv6 address (an optional %zone allowed) is
 * ignored by the resolver, so it is skipped here with a warning.  A line
 * with an address but no names is kept with hostnames ''.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strutil.h"
#include "table.h"

enum { C_ADDRESS, C_HOSTNAMES, C_PID_WITH_NAMESPACE };

static const struct mm_column cols[] = {
	{ "address", MM_TEXT, 0, "IP address" },
	{ "hostnames", MM_TEXT, 0, "Host names for the address, separated by single spaces" },
	{ "pid_with_namespace", MM_INTEGER, MM_COL_HIDDEN, "Unused on Mamori (always 0)" },
	{ NULL },
};

#define MAXW 256 /* words per line kept; the resolver has no use for more */

/* Returns 1 if s is an IPv4 or IPv6 address, allowing "%zone" on IPv6. */
static int is_address(const char *s)
{
	unsigned char bin[16];
	char tmp[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(s, '%');
	size_t n = pct != NULL ? (size_t)(pct - s) : strlen(s);

	if (inet_pton(AF_INET, s, bin) == 1)
		return 1;
	if (n >= sizeof(tmp) || (pct != NULL && pct[1] == '\0'))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, bin) == 1;
}

static int gen(struct mm_ctx *ctx)
{
	const char *path = "/etc/hosts";
	char *data = NULL, *line, *w[MAXW];
	size_t len = 0, pos = 0, ll;
	struct mm_buf names;
	int r, lineno = 0, n, i;

	mm_buf_init(&names, 64u * 1024u);
	r = mm_read(ctx, path, MM_READ_CAP, &data, &len);
	if (r == MM_ERR_NOTFOUND) {
		r = 0;
		goto out;
	}
	if (r != 0) {
		mm_warn(ctx, "%s: %s", path, mm_strerror(r));
		r = 0;
		goto out;
	}
	while ((line = mm_next_line(data, len, &pos)) != NULL) {
		char *hash = strchr(line, '#');

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		ll = strlen(line);
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0'; /* CRLF file */
		if (!mm_is_text(line, ll)) {
			mm_warn(ctx, "%s:%d: control characters in line", path, lineno);
			continue;
		}
		if ((n = mm_split_ws(line, " \t\r", w, MAXW)) == 0)
			continue;
		if (!is_address(w[0])) {
			mm_warn(ctx, "%s:%d: not an IP address: '%.40s'", path, lineno, w[0]);
			continue;
		}
		if (n == MAXW)
			mm_warn(ctx, "%s:%d: more than %d host names, the rest ignored", path, lineno,
				MAXW - 1);
		mm_buf_reset(&names);
		for (i = 1; i < n; i++)
			if ((i > 1 && (r = mm_buf_addc(&names, ' ')) != 0) ||
			    (r = mm_buf_adds(&names, w[i])) != 0)
				break;
		if (r != 0) {
			mm_warn(ctx, "%s:%d: line too long", path, lineno);
			r = 0;
			continue;
		}
		if ((r = mm_row_begin(ctx)) != 0)
			goto out;
		mm_set_text(ctx, C_ADDRESS, w[0]);
		mm_set_text(ctx, C_HOSTNAMES, mm_buf_str(&names));
		mm_set_int(ctx, C_PID_WITH_NAMESPACE, 0);
		if ((r = mm_row_end(ctx)) != 0)
			goto out;
	}
	r = 0;
out:
	mm_buf_free(&names);
	free(data);
	return r;
}

const struct mm_table mm_table_etc_hosts = {
	.name = "etc_hosts",
	.description = "Static host name mappings from /etc/hosts, one row per line.",
	.columns = cols,
	.generate = gen,
	.example = "SELECT address, hostnames FROM etc_hosts WHERE address NOT IN "
		   "('127.0.0.1', '127.0.1.1', '::1');",
	.notes = "Comments ('#' to the end of the line) are stripped. Lines whose first word "
		 "is not an IP address are skipped with a warning naming file and line.",
};
