/*
 * fuzz_deb822.c - the deb822 stanza parser on arbitrary bytes, with small
 * caps so that the cap paths are reached too.  Checks memory safety and the
 * parser's promises: every field has a name, a NUL-terminated value of the
 * stated length, and line numbers that never go backwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deb822.h"

static void on_error(void *arg, int line, const char *msg)
{
	int *last = arg;

	if (line < 1 || msg == NULL || msg[0] == '\0')
		abort();
	*last = line;
}

static void run(const uint8_t *data, size_t size, const struct mm_deb822_opts *base)
{
	struct mm_deb822_opts o = *base;
	struct mm_deb822 *p = NULL;
	const struct mm_deb822_stanza *st;
	int last_err = 0, last_line = 0, r;
	size_t i;

	o.on_error = on_error;
	o.arg = &last_err;
	if (mm_deb822_new((const char *)data, size, &o, &p) != 0)
		return;
	while ((r = mm_deb822_next(p, &st)) > 0) {
		if (st->nfields == 0 || st->line <= last_line || st->last_line < st->line)
			abort();
		last_line = st->last_line;
		for (i = 0; i < st->nfields; i++) {
			const struct mm_deb822_field *f = &st->fields[i];
			if (f->name[0] == '\0' || strlen(f->value) != f->value_len ||
			    f->line < st->line || f->line > st->last_line)
				abort();
			if (mm_deb822_find(st, f->name) == NULL)
				abort();
		}
	}
	if (r < 0 && r != -2) /* only MM_ERR_NOMEM may end it early */
		abort();
	mm_deb822_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_deb822_opts o = { 0 };

	run(data, size, &o);
	o.flags = MM_DEB822_COMMENTS;
	o.max_value = 16;
	o.max_fields = 4;
	o.max_stanza = 64;
	run(data, size, &o);
	return 0;
}
