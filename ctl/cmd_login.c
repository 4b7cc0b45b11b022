/*
 * cmd_login.c - `mamorictl login` and `mamorictl status`.
 *
 * login checks a token against GET /api/v1/me before saving it, so a typo
 * never replaces working settings.  The token comes from --token-file, else
 * --token, else MAMORI_TOKEN, else standard input (prompted without echo on
 * a terminal), never from the config file being replaced.  The CA path is
 * saved absolute so the settings work from any directory.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"
#include "util.h"

#define TOKEN_CAP 4096

static void wipe_free(char *s, size_t n)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, n);
	free(s);
}

/* Reads a token from stdin (one line, at most TOKEN_CAP bytes), without echo
 * when stdin is a terminal.  Returns a malloc'ed, trimmed string or NULL
 * (message printed). */
static char *token_from_stdin(void)
{
	struct termios old, quiet;
	char *buf = xcalloc(1, TOKEN_CAP + 2), *t;
	int tty = isatty(0), echo_off = 0;
	size_t n = 0;
	int ch;

	if (tty) {
		fputs("API token: ", stderr);
		fflush(stderr);
		if (tcgetattr(0, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(0, TCSAFLUSH, &quiet) == 0;
		}
	}
	while ((ch = getchar()) != EOF && ch != '\n' && n <= TOKEN_CAP)
		buf[n++] = (char)ch;
	if (echo_off) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n > TOKEN_CAP) {
		ctl_fail("the token on standard input is over %d bytes", TOKEN_CAP);
		wipe_free(buf, TOKEN_CAP + 2);
		return NULL;
	}
	t = xstrdup(mm_trim(buf));
	wipe_free(buf, TOKEN_CAP + 2);
	if (t[0] == '\0') {
		ctl_fail("no token: give --token-file FILE, set MAMORI_TOKEN, or type it on "
			 "standard input");
		free(t);
		return NULL;
	}
	return t;
}

/* Reads a token file (whitespace around the token ignored).  Returns a
 * malloc'ed string or NULL (message printed). */
static char *token_from_file(const char *path)
{
	char *data = NULL, *t;
	size_t len = 0;
	int r;

	if ((r = mm_read_file(path, TOKEN_CAP, &data, &len)) != 0) {
		ctl_fail("cannot read the token file %s: %s", path,
			 r == MM_ERR_TOOBIG ? "over 4 KiB" : strerror(errno));
		return NULL;
	}
	t = xstrdup(mm_trim(data));
	wipe_free(data, len);
	if (t[0] == '\0') {
		ctl_fail("the token file %s is empty", path);
		free(t);
		return NULL;
	}
	return t;
}

/* A string member of an object, or "?" when absent. */
static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "?";
}

int ctl_cmd_login(struct ctl *c, int argc, char **argv)
{
	const char *token_file = NULL;
	const struct ctl_opt opts[] = {
		{ "--token-file", &token_file },
		{ NULL },
	};
	struct ctl_config cfg = { 0 };
	char *token = NULL, *err = NULL, abs_ca[PATH_MAX];
	json_t *me = NULL;
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	if ((r = ctl_settings_resolve(c, 0)) != 0)
		return r;
	if (c->set.config_path == NULL)
		return ctl_usage_error(c, "no config file: give --config FILE (HOME is not set)");
	if (token_file != NULL)
		token = token_from_file(token_file);
	else if (c->opt_token != NULL)
		token = xstrdup(c->opt_token);
	else if (getenv("MAMORI_TOKEN") != NULL && getenv("MAMORI_TOKEN")[0] != '\0')
		token = xstrdup(getenv("MAMORI_TOKEN"));
	else
		token = token_from_stdin();
	r = CTL_EXIT_FAIL;
	if (token == NULL)
		goto out;
	if (c->set.ca != NULL) {
		if (realpath(c->set.ca, abs_ca) == NULL) {
			ctl_fail("cannot use the CA file %s: %s", c->set.ca, strerror(errno));
			goto out;
		}
		free(c->set.ca);
		c->set.ca = xstrdup(abs_ca);
	}
	if (c->set.token != NULL) {
		OPENSSL_cleanse(c->set.token, strlen(c->set.token));
		free(c->set.token);
	}
	c->set.token = xstrdup(token);
	/* The client for these settings; ctl_call() then uses it as it is. */
	{
		struct ctl_client_opts o = { 0 };

		o.server = c->set.server;
		o.ca = c->set.ca;
		o.token = c->set.token;
		o.timeout_ms = c->timeout_ms;
		if ((r = ctl_client_new(&o, &c->client, &err)) != 0) {
			r = ctl_fail_err(r, err);
			goto out;
		}
	}
	if ((r = ctl_call(c, "GET", "/api/v1/me", NULL, &me)) != 0)
		goto out;
	cfg.server = c->set.server;
	cfg.ca = c->set.ca;
	cfg.token = token;
	r = ctl_config_write(c->set.config_path, &cfg, &err);
	if (r != 0) {
		r = ctl_fail_err(r, err);
		goto out;
	}
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL)
		ctl_print_object(me, NULL, c->format, stdout);
	else
		printf("logged in to %s as %s (role %s); settings saved in %s\n", c->set.server,
		       jstr(me, "name"), jstr(me, "role"), c->set.config_path);
	r = CTL_EXIT_OK;
out:
	json_decref(me);
	if (token != NULL)
		wipe_free(token, strlen(token));
	return r;
}

int ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_opt opts[] = { { NULL } };
	static const char *const time_keys[] = { NULL };
	json_t *st = NULL, *me = NULL, *view = NULL;
	char span[64];
	int npos, r;

	if (ctl_parse_opts(c, argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (npos != 0)
		return ctl_usage_error(c, "unexpected argument '%s'", argv[0]);
	if ((r = ctl_call(c, "GET", "/api/v1/status", NULL, &st)) != 0)
		goto out;
	if (c->format == CTL_FMT_JSON || c->format == CTL_FMT_JSONL) {
		ctl_print_object(st, NULL, c->format, stdout);
		goto out;
	}
	if ((r = ctl_call(c, "GET", "/api/v1/me", NULL, &me)) != 0)
		goto out;
	/* For people: who and where first, then the server's fields. */
	view = json_object();
	json_object_set_new(view, "server", json_string(c->set.server));
	json_object_set(view, "user", json_object_get(me, "name"));
	json_object_set(view, "role", json_object_get(me, "role"));
	json_object_update(view, st);
	if (c->format == CTL_FMT_TABLE && json_is_integer(json_object_get(st, "uptime"))) {
		ctl_span_str((int64_t)json_integer_value(json_object_get(st, "uptime")), span,
			     sizeof(span));
		json_object_set_new(view, "uptime", json_string(span));
	}
	ctl_print_object(view, time_keys, c->format, stdout);
out:
	json_decref(st);
	json_decref(me);
	json_decref(view);
	return r;
}
