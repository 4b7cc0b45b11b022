/*
 * main.c - `mamorictl`, the operator CLI over the coordinator's REST API:
 * the verb table (help is generated from it), global options, settings
 * (flags > environment > config file) and the option parser the verbs use.
 *
 * Global options may stand anywhere on the command line; they are taken out
 * before the verb is looked up, and the verb sees only its own arguments.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "error.h"
#include "strutil.h"
#include "util.h"
#include "version.h"

static int cmd_version(struct ctl *c, int argc, char **argv);
static int cmd_help(struct ctl *c, int argc, char **argv);

static const struct ctl_verb verbs[] = {
	{ "login", NULL, 0, "--server URL [--ca FILE] [--token-file FILE]",
	  "check a token (--token-file, MAMORI_TOKEN or stdin) with the server and save server, "
	  "CA and token in the config file (mode 0600)",
	  ctl_cmd_login },
	{ "status", NULL, 0, "", "the coordinator's version, uptime, hosts and store queue, "
				 "and who you are",
	  ctl_cmd_status },
	{ "hosts", "list", 1, "[--status online|offline|revoked|all]",
	  "list enrolled hosts (revoked ones only with revoked or all)",
	  ctl_cmd_hosts_list },
	{ "hosts", "show", 0, "ID|NAME", "one host with its enrollment details",
	  ctl_cmd_hosts_show },
	{ "hosts", "revoke", 0, "ID", "revoke a host: its node key stops working (admin)",
	  ctl_cmd_hosts_revoke },
	{ "packs", "apply", 0, "-f FILE|DIR [-f ...]",
	  "create or replace packs from .yaml/.yml/.conf files (a directory: every such file in "
	  "it); all or nothing",
	  ctl_cmd_packs_apply },
	{ "packs", "list", 1, "", "list packs", ctl_cmd_packs_list },
	{ "packs", "show", 0, "NAME", "one pack and its queries", ctl_cmd_packs_show },
	{ "packs", "delete", 0, "NAME", "delete a pack", ctl_cmd_packs_delete },
	{ "policies", "apply", 0, "-f FILE|DIR [-f ...]",
	  "create or replace policies from .lua/.yaml/.yml files (a directory: every such file in "
	  "it); validated, all or nothing",
	  ctl_cmd_policies_apply },
	{ "policies", "list", 1, "", "list policies, most severe first", ctl_cmd_policies_list },
	{ "policies", "show", 0, "ID", "one policy with its metadata", ctl_cmd_policies_show },
	{ "policies", "delete", 0, "ID", "delete a policy and its verdicts",
	  ctl_cmd_policies_delete },
	{ "compliance", "summary", 1, "[--policy ID | --host H] [--verdict V]",
	  "fleet compliance: counts per policy (most severe, most failing first); with --policy "
	  "its failing hosts and reasons; with --host its failing policies with remediation; V is "
	  "fail (fail and error, the default), pass, not_applicable, error or all",
	  ctl_cmd_compliance },
	{ "compliance", "history", 0, "[--host H] [--policy ID] [--limit N]",
	  "verdict changes, newest first", ctl_cmd_compliance_history },
	{ "query", NULL, 0, "[--all] [--hosts H,...] [--labels L,...] [--timeout D] SQL",
	  "a live query: the rows of every online target as they arrive, with a host column; "
	  "progress on a terminal, a summary at the end; exit 1 when a host failed or timed "
	  "out (D defaults to 30s)",
	  ctl_cmd_query },
	{ "labels", "apply", 0, "-f FILE [-f ...]",
	  "create or replace labels from YAML files (name, description, and query or hosts)",
	  ctl_cmd_labels_apply },
	{ "labels", "list", 1, "", "list labels with their number of members",
	  ctl_cmd_labels_list },
	{ "labels", "show", 0, "NAME", "one label and its member hosts", ctl_cmd_labels_show },
	{ "labels", "delete", 0, "NAME", "delete a label", ctl_cmd_labels_delete },
	{ "results", NULL, 0,
	  "--pack P --query Q [--host H] [--since T] [--limit N]",
	  "scheduled query results, oldest first; T is unix seconds, RFC 3339 or a duration "
	  "ago (30m, 2h, 7d); N defaults to 1000",
	  ctl_cmd_results },
	{ "tokens", "list", 1, "", "list API tokens (admin)", ctl_cmd_tokens_list },
	{ "tokens", "create", 0, "--name NAME --role admin|operator|observer|responder",
	  "create an API token and print it (shown only once)", ctl_cmd_tokens_create },
	{ "tokens", "revoke", 0, "ID", "revoke an API token", ctl_cmd_tokens_revoke },
	{ "audit", NULL, 0, "[--actor NAME] [--action A] [--limit N] | --session ID",
	  "the audit log, oldest first (admin); N defaults to 1000; --session replays a Live "
	  "Response session",
	  ctl_cmd_audit },
	{ "lr", NULL, 0, "HOST [-- COMMAND ARGS...] | --list | --close ID",
	  "Live Response: a recorded session on HOST over SSH with a prompt (help lists the "
	  "commands), or one command whose exit status is returned; --list the live sessions, "
	  "--close one (responder or admin)",
	  ctl_cmd_lr },
	{ "version", NULL, 0, "", "print mamorictl's version", cmd_version },
	{ "help", NULL, 0, "[VERB]", "this help, or one verb's", cmd_help },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};

/* Global options, valid anywhere on the line. */
enum gopt { G_SERVER, G_CA, G_TOKEN, G_CONFIG, G_FORMAT, G_TIMEOUT, G_HELP };
static const struct {
	const char *name;
	int has_value;
	enum gopt id;
} gopts[] = {
	{ "--server", 1, G_SERVER }, { "--ca", 1, G_CA },	   { "--token", 1, G_TOKEN },
	{ "--config", 1, G_CONFIG }, { "--format", 1, G_FORMAT }, { "--timeout", 1, G_TIMEOUT },
	{ "--help", 0, G_HELP },     { "-h", 0, G_HELP },
};

static void verb_title(const struct ctl_verb *v, char *out, size_t outsz)
{
	if (v->sub == NULL)
		snprintf(out, outsz, "%s", v->name);
	else if (v->is_default)
		snprintf(out, outsz, "%s [%s]", v->name, v->sub);
	else
		snprintf(out, outsz, "%s %s", v->name, v->sub);
}

static void usage_verb(const struct ctl_verb *v, FILE *f)
{
	char title[64];

	verb_title(v, title, sizeof(title));
	fprintf(f, "  %s%s%s\n      %s\n", title, v->usage[0] != '\0' ? " " : "", v->usage,
		v->summary);
}

/* Prints the help; name selects one verb family (NULL = all). */
static int usage(FILE *f, const char *name)
{
	int i, found = 0;

	if (name != NULL) {
		for (i = 0; verbs[i].name != NULL; i++)
			if (strcmp(verbs[i].name, name) == 0) {
				if (!found)
					fprintf(f, "usage: mamorictl [OPTIONS] %s ...\n\n", name);
				usage_verb(&verbs[i], f);
				found = 1;
			}
		if (found)
			return 0;
		fprintf(f, "mamorictl: unknown verb '%s'\n", name);
		return -1;
	}
	fprintf(f, "usage: mamorictl [OPTIONS] VERB [ARGS]\n\nverbs:\n");
	for (i = 0; verbs[i].name != NULL; i++)
		usage_verb(&verbs[i], f);
	fprintf(f,
		"\noptions (anywhere on the line):\n"
		"  --server URL     the coordinator, https://HOST:PORT\n"
		"  --ca FILE        PEM CA certificate(s) to verify the server with (default: the "
		"system store)\n"
		"  --token TOKEN    API token (prefer MAMORI_TOKEN or the config file: arguments "
		"are visible in ps)\n"
		"  --config FILE    settings file (default $XDG_CONFIG_HOME/mamori/mamorictl.yaml "
		"or ~/.config/mamori/mamorictl.yaml)\n"
		"  --format F       table (default), json, jsonl or csv\n"
		"  --timeout D      time allowed for each request (default 60s; e.g. 500ms, 2m)\n"
		"\nsettings: flags, then MAMORI_SERVER, MAMORI_CA, MAMORI_TOKEN, then the config "
		"file (MAMORICTL_CONFIG names another).\n"
		"exit status: 0 ok, 1 the operation failed, 2 usage error.\n");
	return 0;
}

static int cmd_version(struct ctl *c, int argc, char **argv)
{
	int npos;
	static const struct ctl_opt opts[] = { { NULL } };

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0 || npos != 0)
		return npos != 0 ? ctl_usage_error(c, "takes no arguments") : CTL_EXIT_USAGE;
	printf("mamorictl %s\n", MM_VERSION);
	return CTL_EXIT_OK;
}

static int cmd_help(struct ctl *c, int argc, char **argv)
{
	int npos;
	static const struct ctl_opt opts[] = { { NULL } };

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos > 1)
		return ctl_usage_error(c, "expected at most one verb");
	if (usage(stdout, npos == 1 ? argv[0] : NULL) != 0)
		return CTL_EXIT_USAGE;
	return CTL_EXIT_OK;
}

int ctl_usage_error(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mamorictl: %s: ", c->verb != NULL ? c->verb : "usage");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'mamorictl help%s%.*s')\n", c->verb != NULL ? " " : "",
		c->verb != NULL ? (int)strcspn(c->verb, " ") : 0, c->verb != NULL ? c->verb : "");
	return CTL_EXIT_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mamorictl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_FAIL;
}

int ctl_fail_err(int code, char *err)
{
	fprintf(stderr, "mamorictl: %s\n", err != NULL ? err : mm_strerror(code));
	free(err);
	return code == MM_ERR_USAGE ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
}

int ctl_parse_opts(struct ctl *c, int argc, char **argv, const struct ctl_opt *opts,
		   int *npos)
{
	int i, k, n = 0, only_pos = 0;
	size_t len;
	const char *a, *val;

	*npos = 0;
	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			argv[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		for (k = 0; opts[k].name != NULL; k++) {
			len = strlen(opts[k].name);
			if (strncmp(a, opts[k].name, len) == 0 && (a[len] == '\0' || a[len] == '='))
				break;
		}
		if (opts[k].name == NULL) {
			ctl_usage_error(c, "unknown option '%s'", a);
			return -1;
		}
		len = strlen(opts[k].name);
		if (opts[k].value == NULL && opts[k].many == NULL) {
			if (a[len] == '=') {
				ctl_usage_error(c, "%s takes no value", opts[k].name);
				return -1;
			}
			if (opts[k].flag != NULL)
				*opts[k].flag = 1;
			continue;
		}
		if (a[len] == '=') {
			val = a + len + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			ctl_usage_error(c, "%s needs a value", opts[k].name);
			return -1;
		}
		if (opts[k].many != NULL) {
			if (*opts[k].nmany >= opts[k].maxmany) {
				ctl_usage_error(c, "%s given more than %d times", opts[k].name,
						opts[k].maxmany);
				return -1;
			}
			opts[k].many[(*opts[k].nmany)++] = val;
		} else {
			*opts[k].value = val;
		}
	}
	*npos = n;
	return 0;
}

/* ---- settings ------------------------------------------------------------------ */

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A CA path from the config file, relative to the file's directory. */
static char *config_relative(const char *config_path, const char *p)
{
	const char *slash = strrchr(config_path, '/');

	if (p[0] == '/' || slash == NULL)
		return xstrdup(p);
	return xasprintf("%.*s/%s", (int)(slash - config_path), config_path, p);
}

/* 1 when the token can go into an HTTP header as is. */
static int token_ok(const char *t)
{
	for (; *t != '\0'; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	return 1;
}

int ctl_settings_resolve(struct ctl *c, int need_token)
{
	struct ctl_config cfg = { 0 };
	const char *server, *ca, *token, *token_src = "--token", *server_src = "--server";
	char *err = NULL;
	size_t n;
	int r;

	/* Resolving again starts afresh (nothing leaks). */
	free(c->set.server);
	free(c->set.ca);
	if (c->set.token != NULL) {
		OPENSSL_cleanse(c->set.token, strlen(c->set.token));
		free(c->set.token);
	}
	c->set.server = c->set.ca = c->set.token = NULL;
	if (c->set.config_path == NULL) {
		if (c->opt_config != NULL)
			c->set.config_path = xstrdup(c->opt_config);
		else if (env("MAMORICTL_CONFIG") != NULL)
			c->set.config_path = xstrdup(env("MAMORICTL_CONFIG"));
		else
			c->set.config_path = ctl_config_default_path();
	}
	server = c->opt_server;
	if (server == NULL && (server = env("MAMORI_SERVER")) != NULL)
		server_src = "MAMORI_SERVER";
	if ((ca = c->opt_ca) == NULL)
		ca = env("MAMORI_CA");
	token = c->opt_token;
	if (token == NULL && (token = env("MAMORI_TOKEN")) != NULL)
		token_src = "MAMORI_TOKEN";
	if ((server == NULL || ca == NULL || (need_token && token == NULL)) &&
	    c->set.config_path != NULL) {
		r = ctl_config_read(c->set.config_path, &cfg, &err);
		if (r != 0 && r != MM_ERR_NOTFOUND)
			return ctl_fail_err(r, err);
	}
	if (server == NULL && cfg.server != NULL) {
		server = cfg.server;
		server_src = c->set.config_path;
	}
	if (token == NULL && cfg.token != NULL) {
		token = cfg.token;
		token_src = c->set.config_path;
	}
	r = CTL_EXIT_USAGE;
	if (server == NULL) {
		ctl_fail("no server: give --server URL, set MAMORI_SERVER, or run 'mamorictl "
			 "login' (config file: %s)",
			 c->set.config_path != NULL ? c->set.config_path : "none, HOME is not set");
		goto out;
	}
	if (ctl_check_server_url(server, &err) != 0) {
		ctl_fail("%s (from %s)", err, server_src);
		free(err);
		goto out;
	}
	if (need_token && token == NULL) {
		ctl_fail("no API token: give --token, set MAMORI_TOKEN, or run 'mamorictl login' "
			 "(config file: %s)",
			 c->set.config_path != NULL ? c->set.config_path : "none, HOME is not set");
		goto out;
	}
	if (token != NULL && !token_ok(token)) {
		ctl_fail("the token from %s contains blanks or control characters", token_src);
		goto out;
	}
	c->set.server = xstrdup(server);
	n = strlen(c->set.server);
	while (n > 0 && c->set.server[n - 1] == '/')
		c->set.server[--n] = '\0';
	if (ca != NULL)
		c->set.ca = xstrdup(ca);
	else if (cfg.ca != NULL)
		c->set.ca = config_relative(c->set.config_path, cfg.ca);
	if (token != NULL)
		c->set.token = xstrdup(token);
	r = 0;
out:
	ctl_config_clear(&cfg);
	return r;
}

int ctl_connect(struct ctl *c)
{
	struct ctl_client_opts o = { 0 };
	char *err = NULL;
	int r;

	if (c->client != NULL)
		return 0;
	if ((r = ctl_settings_resolve(c, 1)) != 0)
		return r;
	o.server = c->set.server;
	o.ca = c->set.ca;
	o.token = c->set.token;
	o.timeout_ms = c->timeout_ms;
	if ((r = ctl_client_new(&o, &c->client, &err)) != 0)
		return ctl_fail_err(r, err);
	return 0;
}

int ctl_call(struct ctl *c, const char *method, const char *path, const json_t *body,
	     json_t **resp)
{
	char *err = NULL;
	int r;

	*resp = NULL;
	if ((r = ctl_connect(c)) != 0)
		return r;
	if ((r = ctl_client_request(c->client, method, path, body, resp, &err)) != 0)
		return ctl_fail_err(r == MM_ERR_USAGE ? MM_ERR_INTERNAL : r, err);
	return 0;
}

json_t *ctl_expect(const json_t *resp, const char *key, json_type t)
{
	json_t *v = json_is_object(resp) ? json_object_get(resp, key) : NULL;

	if (v == NULL || json_typeof(v) != t) {
		ctl_fail("unexpected answer from the server: no '%s' %s", key,
			 t == JSON_ARRAY ? "list" : t == JSON_OBJECT ? "object" : "value");
		return NULL;
	}
	return v;
}

int ctl_get_paged(struct ctl *c, const char *path, const char *key, int64_t limit,
		  int64_t page_max, json_t *all)
{
	int64_t remaining, page, last = -1;
	json_t *resp = NULL, *items, *na;
	char num[32], after[32];
	struct mm_buf p;
	size_t n, i;
	int r = 0;

	/* MAMORICTL_PAGE_SIZE makes pages smaller, so tests can cover paging. */
	if (env("MAMORICTL_PAGE_SIZE") != NULL &&
	    (mm_parse_i64(env("MAMORICTL_PAGE_SIZE"), &page) != 0 || page < 1 || page > page_max))
		return ctl_usage_error(c, "MAMORICTL_PAGE_SIZE: expected 1 to %lld",
				       (long long)page_max);
	if (env("MAMORICTL_PAGE_SIZE") != NULL)
		page_max = page;
	mm_buf_init(&p, 64u << 10);
	/* Bounded: each round adds at least one item or ends the loop. */
	for (remaining = limit; remaining > 0;) {
		page = remaining < page_max ? remaining : page_max;
		snprintf(num, sizeof(num), "%lld", (long long)page);
		snprintf(after, sizeof(after), "%lld", (long long)last);
		mm_buf_reset(&p);
		if (mm_buf_adds(&p, path) != 0 ||
		    ctl_path_query(&p, "after", last >= 0 ? after : NULL) != 0 ||
		    ctl_path_query(&p, "limit", num) != 0) {
			r = ctl_fail("arguments too long");
			break;
		}
		json_decref(resp);
		resp = NULL;
		if ((r = ctl_call(c, "GET", mm_buf_str(&p), NULL, &resp)) != 0)
			break;
		if ((items = ctl_expect(resp, key, JSON_ARRAY)) == NULL) {
			r = CTL_EXIT_FAIL;
			break;
		}
		n = json_array_size(items);
		if ((int64_t)n > remaining) /* a server ignoring limit: keep ours */
			n = (size_t)remaining;
		for (i = 0; i < n; i++)
			json_array_append(all, json_array_get(items, i));
		remaining -= (int64_t)n;
		na = json_object_get(resp, "next_after");
		if (n == 0 || !json_is_integer(na) || json_integer_value(na) <= last)
			break;
		last = json_integer_value(na);
	}
	json_decref(resp);
	mm_buf_free(&p);
	return r;
}

int ctl_change(struct ctl *c, const char *method, const char *path, const json_t *body,
	       const char *done)
{
	json_t *resp = NULL;
	int r;

	if ((r = ctl_call(c, method, path, body, &resp)) != 0)
		return r;
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL)
		ctl_print_object(resp, NULL, c->format, stdout);
	else
		printf("%s\n", done);
	json_decref(resp);
	return CTL_EXIT_OK;
}

void ctl_free(struct ctl *c)
{
	ctl_client_free(c->client);
	c->client = NULL;
	free(c->set.server);
	free(c->set.ca);
	if (c->set.token != NULL) {
		OPENSSL_cleanse(c->set.token, strlen(c->set.token));
		free(c->set.token);
	}
	free(c->set.config_path);
	memset(&c->set, 0, sizeof(c->set));
}

/* ---- main ------------------------------------------------------------------ */

/* Takes the global options out of argv into c; the rest go to rest[]
 * (counted in *nrest).  *help is set by --help/-h.  Returns 0 or an exit
 * code (the problem printed). */
static int global_opts(struct ctl *c, int argc, char **argv, char **rest, int *nrest, int *help)
{
	int i, n = 0, only_pos = 0;
	size_t k, len;
	const char *a, *val;
	int64_t ms;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (only_pos || a[0] != '-') {
			rest[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			rest[n++] = argv[i]; /* the verb's parser sees it too */
			continue;
		}
		for (k = 0; k < sizeof(gopts) / sizeof(gopts[0]); k++) {
			len = strlen(gopts[k].name);
			if (strncmp(a, gopts[k].name, len) == 0 &&
			    (a[len] == '\0' || (gopts[k].has_value && a[len] == '=')))
				break;
		}
		if (k == sizeof(gopts) / sizeof(gopts[0])) {
			rest[n++] = argv[i];
			continue;
		}
		if (!gopts[k].has_value) {
			*help = 1;
			continue;
		}
		if (a[len] == '=') {
			val = a + len + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return ctl_usage_error(c, "%s needs a value", gopts[k].name);
		}
		switch (gopts[k].id) {
		case G_SERVER: c->opt_server = val; break;
		case G_CA: c->opt_ca = val; break;
		case G_TOKEN: c->opt_token = val; break;
		case G_CONFIG: c->opt_config = val; break;
		case G_FORMAT:
			if (ctl_format_parse(val, &c->format) != 0)
				return ctl_usage_error(c, "unknown format '%s' (table, json, jsonl, "
							  "csv)",
						       val);
			c->format_set = 1;
			break;
		case G_TIMEOUT:
			if (mm_parse_duration_ms(val, &ms) != 0 || ms <= 0 || ms > 86400000)
				return ctl_usage_error(c, "--timeout: bad duration '%s' (e.g. 30s, "
							  "500ms, 2m)",
						       val);
			c->timeout_ms = ms;
			c->timeout_set = 1;
			break;
		case G_HELP: break;
		}
	}
	*nrest = n;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	char **rest = xcalloc((size_t)argc + 1, sizeof(char *));
	const struct ctl_verb *v = NULL;
	int nrest = 0, help = 0, r, i, skip = 1, has_subs = 0;
	char title[64];

	c.format = CTL_FMT_TABLE;
	c.timeout_ms = 60000;
	if ((r = global_opts(&c, argc, argv, rest, &nrest, &help)) != 0)
		goto out;
	if (nrest == 0) {
		if (help) {
			usage(stdout, NULL);
			r = CTL_EXIT_OK;
		} else {
			usage(stderr, NULL);
			r = CTL_EXIT_USAGE;
		}
		goto out;
	}
	if (strcmp(rest[0], "--version") == 0 && nrest == 1) {
		r = cmd_version(&c, 0, rest + 1);
		goto out;
	}
	for (i = 0; verbs[i].name != NULL; i++) {
		if (strcmp(verbs[i].name, rest[0]) != 0)
			continue;
		if (verbs[i].sub == NULL) {
			v = &verbs[i];
			break;
		}
		has_subs = 1;
		if (nrest > 1 && strcmp(verbs[i].sub, rest[1]) == 0) {
			v = &verbs[i];
			skip = 2;
			break;
		}
		if (verbs[i].is_default && (nrest == 1 || rest[1][0] == '-'))
			v = &verbs[i];
	}
	if (v == NULL) {
		c.verb = NULL;
		if (has_subs)
			fprintf(stderr, "mamorictl: %s: unknown sub-command '%s'\n", rest[0],
				rest[1]);
		else
			fprintf(stderr, "mamorictl: unknown verb '%s'\n", rest[0]);
		usage(stderr, has_subs ? rest[0] : NULL);
		r = CTL_EXIT_USAGE;
		goto out;
	}
	verb_title(v, title, sizeof(title));
	if (v->sub != NULL)
		snprintf(title, sizeof(title), "%s %s", v->name, v->sub);
	c.verb = title;
	if (help) {
		if (v->sub != NULL && skip == 1) /* `hosts --help`: the whole family */
			usage(stdout, v->name);
		else
			printf("usage: mamorictl [OPTIONS] %s %s\n    %s\n", title, v->usage,
			       v->summary);
		r = CTL_EXIT_OK;
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = v->run(&c, nrest - skip, rest + skip);
	ctl_free(&c); /* before curl_global_cleanup: it holds a curl handle */
	curl_global_cleanup();
out:
	fflush(stdout);
	if (ferror(stdout) && r == CTL_EXIT_OK) {
		fprintf(stderr, "mamorictl: cannot write the output\n");
		r = CTL_EXIT_FAIL;
	}
	ctl_free(&c);
	free(rest);
	return r;
}
