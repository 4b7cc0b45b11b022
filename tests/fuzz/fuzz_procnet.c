/*
 * fuzz_procnet.c - the /proc/net socket table parsers (procnet.h) on
 * arbitrary bytes.  The first input byte picks the file format (tcp, tcp6,
 * udp, unix, packet, ...), the rest is the file.  Checks memory safety and
 * the parser's promises: line numbers rise, a malformed line comes with a
 * reason, ports fit in 16 bits, addresses are NUL-terminated text, a unix
 * path lies inside the input, and every record has the file's family.
 * The input is copied to a buffer of its exact size so ASan sees any read
 * past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procnet.h"

struct check {
	const struct mm_procnet_file *f;
	const char *buf;
	size_t len;
	int last;
	unsigned long records;
};

static int on_sock(void *arg, int lineno, const struct mm_procnet_sock *s, const char *why)
{
	struct check *c = arg;

	if (lineno <= c->last)
		abort();
	c->last = lineno;
	if (s == NULL) {
		if (why == NULL || why[0] == '\0')
			abort();
		return 0;
	}
	if (s->family != c->f->family || s->state == NULL || s->path == NULL)
		abort();
	if (s->local_port < 0 || s->local_port > 65535 || s->remote_port < 0 ||
	    s->remote_port > 65535)
		abort();
	if (memchr(s->local_address, '\0', sizeof(s->local_address)) == NULL ||
	    memchr(s->remote_address, '\0', sizeof(s->remote_address)) == NULL)
		abort();
	if (s->path_len > 0 && (s->path < c->buf || s->path + s->path_len > c->buf + c->len))
		abort();
	c->records++;
	/* Stop early now and then to exercise the callback's stop path. */
	return c->records == 1000 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check c = { 0 };
	char *copy;
	int r;

	if (size < 1)
		return 0;
	c.f = &mm_procnet_files[data[0] % mm_procnet_nfiles];
	c.len = size - 1;
	if ((copy = malloc(c.len ? c.len : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, c.len);
	c.buf = copy;
	r = mm_procnet_parse(c.f, copy, c.len, on_sock, &c);
	if (r != 0 && r != 1)
		abort();
	free(copy);
	return 0;
}
