/*
 * fuzz_utmp.c - the utmp/wtmp record parser (tables/utmpfile.c): any bytes
 * as a utmp file; must never crash or read out of bounds, and the text
 * fields it returns must be terminated and free of control bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utmpfile.h"

static int check_text(const char *s, size_t max)
{
	size_t i, n = strnlen(s, max);

	if (n == max)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	return 0;
}

static int on_record(void *arg, size_t index, const struct mm_utmp *u)
{
	if (check_text(u->line, sizeof(u->line)) || check_text(u->user, sizeof(u->user)) ||
	    check_text(u->host, sizeof(u->host)) || check_text(u->id, sizeof(u->id)))
		abort();
	if (u->time < 0 || u->time > 4294967295LL)
		abort();
	(void)mm_utmp_type_short(u->type);
	(void)mm_utmp_type_long(u->type);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t trailing = 0;
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	(void)mm_utmp_parse(buf, size, on_record, NULL, &trailing);
	if (trailing != size % MM_UTMP_RECORD)
		abort();
	free(buf);
	return 0;
}
