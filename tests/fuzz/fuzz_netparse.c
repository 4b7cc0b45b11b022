/*
 * fuzz_netparse.c - the /proc/net parsers of netparse.c on arbitrary bytes:
 * each parser gets its own NUL-terminated copy (they modify the buffer), then
 * the IPv4 address placement runs on what the route and trie parsers found,
 * and every record is formatted.  Checks memory safety and that parsed
 * values stay in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netparse.h"

static void no_warn(void *arg, int line, const char *why)
{
	(void)arg;
	(void)line;
	(void)why;
}

static char *copy(const uint8_t *data, size_t size)
{
	char *b = malloc(size + 1);

	if (b != NULL) {
		memcpy(b, data, size);
		b[size] = '\0';
	}
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_route4 *rt = NULL;
	struct mm_route6 *rt6 = NULL;
	struct mm_inet6 *in6 = NULL;
	struct mm_fib4 *fib = NULL;
	struct mm_netdev *dev = NULL;
	struct mm_addr4 *la = NULL;
	size_t nrt = 0, nrt6 = 0, nin6 = 0, nfib = 0, ndev = 0, nla = 0, i;
	char *b, txt[64];
	uint8_t m6[16];

	if ((b = copy(data, size)) != NULL) {
		mm_np_route4(b, size, &rt, &nrt, no_warn, NULL);
		free(b);
	}
	if ((b = copy(data, size)) != NULL) {
		mm_np_route6(b, size, &rt6, &nrt6, no_warn, NULL);
		free(b);
	}
	if ((b = copy(data, size)) != NULL) {
		mm_np_inet6(b, size, &in6, &nin6, no_warn, NULL);
		free(b);
	}
	if ((b = copy(data, size)) != NULL) {
		mm_np_fib4(b, size, &fib, &nfib, no_warn, NULL);
		free(b);
	}
	if ((b = copy(data, size)) != NULL) {
		mm_np_netdev(b, size, &dev, &ndev, no_warn, NULL);
		free(b);
	}
	mm_np_local4(fib, nfib, rt, nrt, &la, &nla);
	for (i = 0; i < nrt; i++) {
		if (rt[i].plen > 32 || rt[i].iface[0] == '\0')
			abort();
		mm_np_fmt4(rt[i].dest, txt, sizeof(txt));
		(void)mm_np_iface4(rt, nrt, rt[i].gateway);
	}
	for (i = 0; i < nrt6; i++) {
		if (rt6[i].dest_plen > 128)
			abort();
		mm_np_fmt6(rt6[i].dest, txt, sizeof(txt));
		mm_np_mask6(rt6[i].dest_plen, m6);
	}
	for (i = 0; i < nin6; i++)
		if (in6[i].plen > 128)
			abort();
	for (i = 0; i < nla; i++) {
		if (la[i].plen > 32)
			abort();
		mm_np_fmt4(mm_np_mask4(la[i].plen), txt, sizeof(txt));
	}
	free(rt);
	free(rt6);
	free(in6);
	free(fib);
	free(dev);
	free(la);
	return 0;
}
