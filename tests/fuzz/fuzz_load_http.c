/*
 * fuzz_load_http.c - mamori-load's HTTP/1.1 response parser
 * (bench/load/http1.c) on arbitrary bytes, fed the way a socket delivers
 * them: in two pieces split where the first input byte says, then with EOF.
 * Checks that a finished response's body lies inside what was received (or
 * in the decoded-chunks buffer) and respects the caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/load/http1.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ld_http h;
	const char *buf;
	size_t len, split;
	int r;

	if (size < 1)
		return 0;
	split = data[0];
	buf = (const char *)data + 1;
	len = size - 1;
	if (split > len)
		split = len;
	ld_http_init(&h);
	r = ld_http_parse(&h, buf, split, 0);
	if (r == LD_HTTP_MORE)
		r = ld_http_parse(&h, buf, len, 0);
	if (r == LD_HTTP_MORE)
		r = ld_http_parse(&h, buf, len, 1);
	if (r == LD_HTTP_MORE)
		abort(); /* at EOF every response is either done or malformed */
	if (r == LD_HTTP_DONE) {
		int inside = h.body_ptr >= buf && h.body_ptr + h.body_len <= buf + len;
		int decoded =
		    h.chunked && h.body_ptr == mm_buf_str(&h.body) && h.body_len == h.body.len;
		if (!(inside || decoded) || h.body_len > LD_MAX_BODY || h.status < 200 ||
		    h.status > 999)
			abort();
	}
	ld_http_free(&h);
	return 0;
}
