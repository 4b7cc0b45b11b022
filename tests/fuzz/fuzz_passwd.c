/*
 * fuzz_passwd.c - the /etc/passwd and /etc/group parsers (tables/passwd.c):
 * the same input is parsed as both files, and every member list is walked.
 * Must never crash, leak or read out of bounds; records must hold their
 * invariants (non-empty names, ids in range).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"

static int on_user(void *arg, int line, const struct mm_passwd *pw)
{
	(void)arg;
	if (line <= 0 || pw->name[0] == '\0' || pw->uid < 0 || pw->uid > MM_ID_MAX ||
	    pw->gid < 0 || pw->gid > MM_ID_MAX || pw->shell == NULL || pw->dir == NULL)
		abort();
	return 0;
}

static int on_group(void *arg, int line, const struct mm_group *gr)
{
	struct mm_idset *seen = arg;
	const char *list = gr->members, *name;
	size_t len;

	if (line <= 0 || gr->name[0] == '\0' || gr->gid < 0 || gr->gid > MM_ID_MAX)
		abort();
	while (mm_group_next_member(&list, &name, &len))
		if (len == 0 || memchr(name, ',', len) != NULL)
			abort();
	return mm_idset_add(seen, gr->gid) < 0 ? -1 : 0;
}

static void on_warn(void *arg, int line, const char *why)
{
	(void)arg;
	if (line <= 0 || why == NULL || why[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_idset seen = { 0 };
	char *buf = malloc(size + 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	(void)mm_passwd_parse(buf, size, on_user, on_warn, NULL);
	memcpy(buf, data, size); /* the parsers write NULs into the buffer */
	buf[size] = '\0';
	(void)mm_group_parse(buf, size, on_group, on_warn, &seen);
	mm_idset_free(&seen);
	free(buf);
	return 0;
}
