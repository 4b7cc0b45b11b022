/*
 * common.c - helpers shared by several tables; see common.h.
 */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strutil.h"

int mm_host_uuid(struct mm_ctx *ctx, char out[37])
{
	char *data = NULL, *s;
	size_t len, i, n = 0;
	char hex[33];

	out[0] = '\0';
	if (mm_read(ctx, "/sys/class/dmi/id/product_uuid", 4096, &data, &len) == 0) {
		s = mm_trim(data);
		if (strlen(s) == 36) {
			for (i = 0; i < 36; i++)
				out[i] = (char)tolower((unsigned char)s[i]);
			out[36] = '\0';
			free(data);
			return 0;
		}
		free(data);
		data = NULL;
	}
	if (mm_read(ctx, "/etc/machine-id", 4096, &data, &len) != 0)
		return MM_ERR_NOTFOUND;
	s = mm_trim(data);
	for (i = 0; s[i] != '\0' && n < 32; i++)
		if (isxdigit((unsigned char)s[i]))
			hex[n++] = (char)tolower((unsigned char)s[i]);
	free(data);
	if (n != 32)
		return MM_ERR_NOTFOUND;
	hex[32] = '\0';
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
	return 0;
}

static int64_t start_time;

__attribute__((constructor)) static void record_start(void)
{
	start_time = (int64_t)time(NULL);
}

int64_t mm_process_start_time(void)
{
	return start_time;
}
