/*
 * fuzz_mounts.c - the /proc/mounts line parser (tables/mounts_parse.c):
 * each input line is parsed as the table does.  Must never crash or read
 * out of bounds; decoding escapes never lengthens a field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mounts_parse.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *line;
	size_t pos = 0, n;
	struct mm_mount m;
	int nf, r;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	while ((line = mm_next_line(buf, size, &pos)) != NULL) {
		n = strlen(line);
		r = mm_mounts_parse_line(line, &m, &nf);
		if (r == 1 && (strlen(m.device) > n || strlen(m.path) > n || strlen(m.type) > n ||
			       strlen(m.options) > n || m.device[0] == '\0' || nf < 4 || nf > 6))
			abort();
		if (r == -1 && (nf >= 4 && nf <= 6))
			abort();
	}
	free(buf);
	return 0;
}
