/*
 * fuzz_rdpconf.c - the remote-desktop config parsers (tables/rdpconf.c):
 * the input is parsed as an INI file, as TigerVNC's perl-style and
 * ~/.vnc/config files, and each line as an xrdp port= value and as a
 * command line.  Must never crash, leak or read out of bounds; results must
 * hold their invariants (ports in range, NUL-terminated addresses).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdpconf.h"

static int on_key(void *arg, int line, const char *section, const char *key, const char *value)
{
	struct mm_rd_listen l[MM_RD_LISTEN_MAX];
	struct mm_rd_cmdline c;
	const char *why;
	int n, i;

	(void)arg;
	if (line <= 0 || section == NULL || key[0] == '\0' || value == NULL)
		abort();
	(void)mm_rd_listen_parse(value, l, &n, &why);
	if (n < 0 || n > MM_RD_LISTEN_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (strlen(l[i].addr) >= sizeof(l[i].addr) ||
		    (l[i].kind != MM_RD_UNIX && (l[i].port < 1 || l[i].port > 65535)))
			abort();
	(void)mm_rd_is_loopback(value);
	mm_rd_cmdline_parse(value, &c);
	if (c.port > 65535 || c.display > 99 || strlen(c.bind) >= sizeof(c.bind))
		abort();
	return 0;
}

static void on_warn(void *arg, int line, const char *why)
{
	(void)arg;
	if (line <= 0 || why == NULL || why[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	int line, v;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	v = mm_rd_perl_localhost(buf, size, &line);
	if (v < -1 || v > 1 || line < 0)
		abort();
	v = mm_rd_vnc_localhost(buf, size, &line);
	if (v < -1 || v > 1 || line < 0)
		abort();
	(void)mm_ini_parse(buf, size, on_key, on_warn, NULL);
	free(buf);
	return 0;
}
