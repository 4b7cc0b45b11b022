/*
 * fuzz_sshd_config.c - the sshd_config parser and effective-settings model
 * (tables/sshd_config_parse.c), plus the authorized_keys line parser
 * (tables/ssh_users.c) on the same input.  Include lines re-parse the input
 * one level down (as an included file would be), then defaults are added.
 * Must never crash, leak or read out of bounds; entries must hold their
 * invariants (canonical keyword, non-NULL strings).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshd_config_parse.h"
#include "ssh_users.h"

struct state {
	struct mm_sshd_conf *conf;
	const uint8_t *data;
	size_t size;
	int depth;
	struct mm_sshd_cb cb;
};

static int on_setting(void *arg, const struct mm_sshd_line *l)
{
	struct state *s = arg;
	int dup = 0, r;

	if (l->line <= 0 || l->nargs == 0 || l->match == NULL || l->kw == NULL ||
	    mm_sshd_keyword(l->kw->canon) == NULL)
		abort();
	r = mm_sshd_conf_add(s->conf, l, "/etc/ssh/sshd_config", &dup);
	return r < 0 ? r : 0;
}

static int on_include(void *arg, const struct mm_sshd_line *l)
{
	struct state *s = arg;
	char *buf;
	int r;

	if (s->depth >= 2)
		return 0;
	if ((buf = malloc(s->size + 1)) == NULL)
		return 0;
	memcpy(buf, s->data, s->size);
	buf[s->size] = '\0';
	s->depth++;
	r = mm_sshd_parse(buf, s->size, l->match, &s->cb, s);
	s->depth--;
	free(buf);
	return r;
}

static void on_warn(void *arg, int line, const char *why)
{
	(void)arg;
	if (line <= 0 || why == NULL || why[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = {.data = data, .size = size};
	const struct mm_sshd_entry *e;
	struct mm_authkey k;
	const char *why;
	char *buf, *line, *nl;
	size_t i, pos = 0;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	if ((s.conf = mm_sshd_conf_new()) == NULL) {
		free(buf);
		return 0;
	}
	s.cb.setting = on_setting;
	s.cb.include = on_include;
	s.cb.warn = on_warn;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (mm_sshd_parse(buf, size, "", &s.cb, &s) == 0)
		(void)mm_sshd_conf_add_defaults(s.conf);
	for (i = 0; i < mm_sshd_conf_count(s.conf); i++) {
		e = mm_sshd_conf_get(s.conf, i);
		if (e->keyword == NULL || e->value == NULL || e->match == NULL ||
		    (e->file == NULL) != (e->is_default != 0))
			abort();
	}
	mm_sshd_conf_free(s.conf);

	memcpy(buf, data, size); /* the parser writes into the buffer */
	buf[size] = '\0';
	while (pos < size) {
		line = buf + pos;
		nl = memchr(line, '\n', size - pos);
		if (nl != NULL)
			*nl = '\0';
		pos = nl != NULL ? (size_t)(nl - buf) + 1 : size;
		if (mm_authkey_parse(line, &k, &why) > 0 &&
		    (k.options == NULL || k.algorithm == NULL || k.key == NULL ||
		     k.comment == NULL))
			abort();
	}
	free(buf);
	return 0;
}
