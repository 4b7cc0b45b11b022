/*
 * cmd_tokens.c - `mamorictl tokens list|create|revoke`: API tokens
 * (/api/v1/tokens, admin only).
 *
 * `tokens create` is the one place a token is printed: the server shows it
 * once.  In table format the token alone goes to stdout (so
 * TOKEN=$(mamorictl tokens create ...) works) and a note to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "strutil.h"
#include "util.h"

int ctl_cmd_tokens_list(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_col cols[] = {
		{ "id", NULL, 0 },
		{ "name", NULL, 0 },
		{ "role", NULL, 0 },
		{ "created_at", NULL, CTL_COL_TIME },
		{ "created_by", NULL, 0 },
		{ "last_used", NULL, CTL_COL_TIME },
		{ "revoked_at", NULL, CTL_COL_TIME },
		{ NULL, NULL, 0 },
	};

	return ctl_list_verb(c, argc, argv, "/api/v1/tokens", "tokens", cols);
}

int ctl_cmd_tokens_create(struct ctl *c, int argc, char **argv)
{
	const char *name = NULL, *role = NULL;
	const struct ctl_opt opts[] = {
		{ "--name", &name },
		{ "--role", &role },
		{ NULL },
	};
	json_t *body = NULL, *resp = NULL, *tok;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	if (name == NULL || role == NULL || name[0] == '\0')
		return ctl_usage_error(c, "give --name NAME and --role ROLE");
	if (strcmp(role, "admin") != 0 && strcmp(role, "operator") != 0 &&
	    strcmp(role, "observer") != 0 && strcmp(role, "responder") != 0)
		return ctl_usage_error(c, "--role: expected admin, operator, observer or "
					  "responder, not '%s'",
				       role);
	body = json_pack("{s:s, s:s}", "name", name, "role", role);
	if (body == NULL) {
		r = ctl_fail("--name is not UTF-8 text");
		goto out;
	}
	if ((r = ctl_call(c, "POST", "/api/v1/tokens", body, &resp)) != 0)
		goto out;
	r = CTL_EXIT_FAIL;
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL) {
		ctl_print_object(resp, NULL, c->format, stdout);
	} else {
		if ((tok = ctl_expect(resp, "token", JSON_STRING)) == NULL)
			goto out;
		if (c->format == CTL_FMT_CSV) {
			static const struct ctl_col cols[] = {
				{ "id", NULL, 0 },   { "name", NULL, 0 },  { "role", NULL, 0 },
				{ "token", NULL, 0 }, { NULL, NULL, 0 },
			};
			json_t *one = json_pack("[O]", resp);

			ctl_print_list(one, cols, c->format, stdout);
			json_decref(one);
		} else {
			printf("%s\n", json_string_value(tok));
			fprintf(stderr,
				"mamorictl: created token %lld '%s' (role %s); it is shown only "
				"this once\n",
				(long long)json_integer_value(json_object_get(resp, "id")), name,
				role);
		}
	}
	r = CTL_EXIT_OK;
out:
	json_decref(body);
	json_decref(resp);
	return r;
}

int ctl_cmd_tokens_revoke(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = { { NULL } };
	char *path, *done;
	int64_t id;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 1)
		return ctl_usage_error(c, npos == 0 ? "which token? give its ID" : "expected one ID");
	if (mm_parse_i64(argv[0], &id) != 0 || id < 1)
		return ctl_usage_error(c, "expected a token ID (a number), not '%s'", argv[0]);
	path = xasprintf("/api/v1/tokens/%lld", (long long)id);
	done = xasprintf("revoked token %lld", (long long)id);
	r = ctl_change(c, "DELETE", path, NULL, done);
	free(path);
	free(done);
	return r;
}
