/*
 * cmd_audit.c - `mamorictl audit`: the coordinator's audit log
 * (GET /api/v1/audit, admin only), oldest first, paged through next_after
 * up to --limit.  --action may end in '*' to match a prefix ("pack.*").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "strutil.h"
#include "util.h"

#define PAGE_MAX 10000
#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 1000000

int ctl_cmd_audit(struct ctl *c, int argc, char **argv)
{
	const char *actor = NULL, *action = NULL, *limit_s = NULL, *session = NULL;
	const struct ctl_opt opts[] = {
		{ "--actor", &actor },
		{ "--action", &action },
		{ "--limit", &limit_s },
		{ "--session", &session },
		{ NULL },
	};
	static const struct ctl_col cols[] = {
		{ "id", NULL, 0 },
		{ "time", NULL, CTL_COL_TIME },
		{ "actor", NULL, 0 },
		{ "role", NULL, 0 },
		{ "action", NULL, 0 },
		{ "target", NULL, 0 },
		{ "status", NULL, 0 },
		{ "address", NULL, 0 },
		{ "detail", NULL, 0 },
		{ NULL, NULL, 0 },
	};
	int64_t limit = LIMIT_DEFAULT;
	json_t *all = json_array();
	struct mm_buf path;
	int npos, r = CTL_EXIT_FAIL;

	mm_buf_init(&path, 16384);
	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0) {
		r = CTL_EXIT_USAGE;
		goto out;
	}
	if (npos != 0) {
		r = ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
		goto out;
	}
	if (session != NULL) { /* a Live Response session's transcript (cmd_lr.c) */
		r = actor != NULL || action != NULL || limit_s != NULL
			    ? ctl_usage_error(c, "--session takes no other option")
			    : ctl_lr_replay(c, session);
		goto out;
	}
	if (limit_s != NULL &&
	    (mm_parse_i64(limit_s, &limit) != 0 || limit < 1 || limit > LIMIT_MAX)) {
		r = ctl_usage_error(c, "--limit: expected a number from 1 to %d, not '%s'",
				    LIMIT_MAX, limit_s);
		goto out;
	}
	if (mm_buf_adds(&path, "/api/v1/audit") != 0 ||
	    ctl_path_query(&path, "actor", actor) != 0 ||
	    ctl_path_query(&path, "action", action) != 0) {
		r = ctl_fail("arguments too long");
		goto out;
	}
	if ((r = ctl_get_paged(c, mm_buf_str(&path), "audit", limit, PAGE_MAX, all)) != 0)
		goto out;
	ctl_print_list(all, cols, c->format, stdout);
	r = CTL_EXIT_OK;
out:
	json_decref(all);
	mm_buf_free(&path);
	return r;
}
