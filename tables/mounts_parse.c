/*
 * mounts_parse.c - parser for /proc/mounts lines; see mounts_parse.h.
 */
#include <string.h>

#include "mounts_parse.h"
#include "strutil.h"

#define MAXF 7 /* one more than a full line, to notice extra fields */

static int is_octal(char c)
{
	return c >= '0' && c <= '7';
}

void mm_mounts_unescape(char *s)
{
	char *w = s;

	while (*s != '\0') {
		if (s[0] == '\\' && is_octal(s[1]) && is_octal(s[2]) && is_octal(s[3])) {
			int v = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');
			if (v != 0 && v <= 255) {
				*w++ = (char)v;
				s += 4;
				continue;
			}
		}
		*w++ = *s++;
	}
	*w = '\0';
}

int mm_mounts_parse_line(char *line, struct mm_mount *m, int *nfields)
{
	char *f[MAXF];
	int n;

	*nfields = 0;
	memset(m, 0, sizeof(*m));
	line += strspn(line, " \t");
	if (*line == '\0' || *line == '#')
		return 0;
	n = mm_split_ws(line, " \t\r", f, MAXF);
	*nfields = n;
	if (n < 4 || n > 6)
		return -1;
	mm_mounts_unescape(f[0]);
	mm_mounts_unescape(f[1]);
	mm_mounts_unescape(f[2]);
	mm_mounts_unescape(f[3]);
	m->device = f[0];
	m->path = f[1];
	m->type = f[2];
	m->options = f[3];
	return 1;
}
