/*
 * apt_config.c - APT's configuration as apt would read it: apt.conf.d
 * files in name order, then /etc/apt/apt.conf; a later setting wins.
 * Keys are flattened ("APT::Periodic::Unattended-Upgrade").
 */
#include "apt.h"
#include "table.h"

enum { C_KEY, C_VALUE, C_SOURCE };

static const struct mm_column cols[] = {
	{ "key", MM_TEXT, 0, "Option name, scopes joined by ::" },
	{ "value", MM_TEXT, 0, "Its value (list items joined by spaces)" },
	{ "source", MM_TEXT, 0, "File of the setting in effect" },
	{ NULL },
};

static int gen(struct mm_ctx *ctx)
{
	struct apt_model *m = NULL;
	int i, r;

	if ((r = apt_model_load(ctx, 0, &m)) != 0)
		return r;
	for (i = 0; i < apt_nconfig(m) && r == 0; i++) {
		const char *k, *v, *f;
		apt_config_at(m, i, &k, &v, &f);
		if ((r = mm_row_begin(ctx)) != 0)
			break;
		mm_set_text(ctx, C_KEY, k);
		mm_set_text(ctx, C_VALUE, v);
		mm_set_text(ctx, C_SOURCE, f);
		r = mm_row_end(ctx);
	}
	apt_model_free(m);
	return r;
}

const struct mm_table mm_table_apt_config = {
	.name = "apt_config",
	.description = "APT configuration settings in effect (apt.conf.d and apt.conf).",
	.columns = cols,
	.generate = gen,
	.example = "SELECT key, value FROM apt_config WHERE key LIKE 'APT::Periodic::%';",
};
