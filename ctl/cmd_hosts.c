/*
 * cmd_hosts.c - `mamorictl hosts list|show|revoke`: enrolled hosts
 * (GET/DELETE /api/v1/hosts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

#define HOSTS_PAGE 10000 /* the server's largest page */

static const struct ctl_col host_cols[] = {
	{ "id", NULL, 0 },
	{ "hostname", NULL, 0 },
	{ "os_name", "os", 0 },
	{ "os_version", NULL, 0 },
	{ "agent", NULL, 0 },
	{ "agent_version", NULL, 0 },
	{ "address", NULL, 0 },
	{ "last_seen", NULL, CTL_COL_TIME },
	{ "status", NULL, 0 },
	{ NULL, NULL, 0 },
};

int ctl_cmd_hosts_list(struct ctl *c, int argc, char **argv)
{
	const char *status = NULL;
	const struct ctl_opt opts[] = {
		{ "--status", &status },
		{ NULL },
	};
	struct mm_buf path;
	json_t *hosts = NULL;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	if (status != NULL && strcmp(status, "online") != 0 && strcmp(status, "offline") != 0 &&
	    strcmp(status, "revoked") != 0 && strcmp(status, "all") != 0)
		return ctl_usage_error(c, "--status: expected online, offline, revoked or all, "
					  "not '%s'",
				       status);
	hosts = json_array();
	mm_buf_init(&path, 4096);
	if (mm_buf_adds(&path, "/api/v1/hosts") != 0 ||
	    ctl_path_query(&path, "status", status) != 0) {
		r = ctl_fail("argument too long");
		goto out;
	}
	if ((r = ctl_get_paged(c, mm_buf_str(&path), "hosts", INT64_MAX, HOSTS_PAGE, hosts)) != 0)
		goto out;
	ctl_print_list(hosts, host_cols, c->format, stdout);
	r = CTL_EXIT_OK;
out:
	json_decref(hosts);
	mm_buf_free(&path);
	return r;
}

int ctl_cmd_hosts_show(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = { { NULL } };
	static const char *const time_keys[] = { "enrolled_at", "last_seen", "revoked_at", NULL };
	char *path;
	json_t *resp = NULL, *host;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 1)
		return ctl_usage_error(c, npos == 0 ? "which host? give its ID or name"
						    : "expected one host");
	if ((path = ctl_object_path("/api/v1/hosts", argv[0], "host name")) == NULL)
		return CTL_EXIT_FAIL;
	if ((r = ctl_call(c, "GET", path, NULL, &resp)) != 0)
		goto out;
	r = CTL_EXIT_FAIL;
	if ((host = ctl_expect(resp, "host", JSON_OBJECT)) == NULL)
		goto out;
	ctl_print_object(host, time_keys, c->format, stdout);
	r = CTL_EXIT_OK;
out:
	json_decref(resp);
	free(path);
	return r;
}

int ctl_cmd_hosts_revoke(struct ctl *c, int argc, char **argv)
{
	return ctl_delete_verb(c, argc, argv, "/api/v1/hosts", "host", "ID", "revoked");
}
