/*
 * config.c - reads the coordinator's YAML configuration (config.h) with
 * libyaml's document API: the whole file is loaded, then every key is
 * checked against the table below, so a typo is an error naming its line
 * instead of a setting silently ignored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "config.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"

#define CONFIG_FILE_MAX (1u << 20)

enum kind { K_STR, K_PATH, K_OPTPATH, K_LISTEN, K_BOOL, K_SIZE, K_DURATION_S, K_INT,
            K_DURATION_POS /* >= 1 s */, K_OPTSTR /* null = unset */ };

struct ctx {
	const char *file;
	const char *dir; /* the file's directory, for relative paths; "" = cwd */
	char **err;
	yaml_document_t *doc;
	struct mm_server_config *cfg;
	int tls_enabled;
	int tls_line;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (asprintf(c->err, "%s:%lu: %s%s%s", c->file,
	             n != NULL ? (unsigned long)n->start_mark.line + 1 : 1UL,
	             key != NULL ? key : "", key != NULL ? ": " : "", what) < 0)
		*c->err = NULL;
	return MM_ERR_PARSE;
}

static const char *scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A path from the file, relative to the file's directory. */
static char *resolve(const struct ctx *c, const char *p)
{
	char *out = NULL;

	if (p[0] == '/' || c->dir[0] == '\0')
		return strdup(p);
	if (asprintf(&out, "%s/%s", c->dir, p) < 0)
		return NULL;
	return out;
}

static int set_str(char **dst, char *v)
{
	if (v == NULL)
		return MM_ERR_NOMEM;
	free(*dst);
	*dst = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no",
	                                                                       "off"};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return MM_ERR_PARSE;
}

static int is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s != NULL && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

/* Stores one scalar setting. */
static int set_value(struct ctx *c, const char *key, enum kind kind, void *dst,
                     const yaml_node_t *v)
{
	struct mm_server_config *cfg = c->cfg;
	const char *s = scalar(v);
	int64_t n;
	int b;

	if (s == NULL)
		return fail(c, v, key, "expected a single value");
	switch (kind) {
	case K_OPTSTR:
		if (is_null(v)) {
			free(*(char **)dst);
			*(char **)dst = NULL;
			return 0;
		}
		/* fall through */
	case K_STR: return set_str(dst, strdup(s));
	case K_OPTPATH:
		if (is_null(v)) {
			free(*(char **)dst);
			*(char **)dst = NULL;
			return 0;
		}
		/* fall through */
	case K_PATH:
		if (s[0] == '\0')
			return fail(c, v, key, "empty path");
		return set_str(dst, resolve(c, s));
	case K_LISTEN: {
		char *addr = NULL;
		int port = 0, r = mm_config_parse_listen(s, &addr, &port);

		if (r == MM_ERR_PARSE)
			return fail(c, v, key, "'%s' is not ADDRESS:PORT (e.g. 127.0.0.1:8443)", s);
		if (r != 0)
			return r;
		free(cfg->listen_address);
		cfg->listen_address = addr;
		cfg->port = port;
		return 0;
	}
	case K_BOOL:
		if (parse_bool(s, &b) != 0)
			return fail(c, v, key, "'%s' is not true or false", s);
		*(int *)dst = b;
		return 0;
	case K_SIZE:
		if (mm_parse_size(s, &n) != 0 || n < 1024 || n > ((int64_t)1 << 30))
			return fail(c, v, key, "'%s' is not a size from 1KiB to 1GiB (e.g. 8MiB)",
			            s);
		*(int64_t *)dst = n;
		return 0;
	case K_DURATION_S:
	case K_DURATION_POS:
		if (dst == &cfg->live.retention_s) {
			/* Results may be kept for days: up to a year. */
			if (mm_parse_duration_ms(s, &n) != 0 || n < 1000 ||
			    n > (int64_t)366 * 86400 * 1000)
				return fail(c, v, key,
				            "'%s' is not a duration from 1s to 366 days (e.g. 24h)", s);
			*(int *)dst = (int)(n / 1000);
			return 0;
		}
		if (mm_parse_duration_ms(s, &n) != 0 || n > (int64_t)86400 * 1000)
			return fail(c, v, key, "'%s' is not a duration up to 24h (e.g. 60s, 5m)",
			            s);
		if (kind == K_DURATION_POS && n < 1000)
			return fail(c, v, key, "'%s': must be at least 1s", s);
		if (dst == &cfg->timeout_s && n < 1000)
			return fail(c, v, key, "'%s': the timeout must be at least 1s", s);
		*(int *)dst = (int)(n / 1000);
		return 0;
	case K_INT:
		if (mm_parse_i64(s, &n) != 0 || n < 1 || n > 100000000)
			return fail(c, v, key, "'%s' is not a whole number from 1 to 100000000", s);
		if (dst == &cfg->store_queue_max || dst == &cfg->live.max_rows ||
		    dst == &cfg->live.retention_rows)
			*(int64_t *)dst = n;
		else
			*(int *)dst = (int)n;
		return 0;
	}
	return MM_ERR_INTERNAL;
}

struct setting {
	const char *key; /* dotted path */
	enum kind kind;
	size_t off; /* into struct mm_server_config, or SIZE_MAX for tls.enabled */
};

#define CFG(f) offsetof(struct mm_server_config, f)
static const struct setting settings[] = {
    {"listen", K_LISTEN, 0},
    {"tls.enabled", K_BOOL, (size_t)-1},
    {"tls.cert", K_PATH, CFG(tls_cert)},
    {"tls.key", K_PATH, CFG(tls_key)},
    {"database", K_PATH, CFG(database)},
    {"results_log", K_OPTPATH, CFG(results_log)},
    {"enroll_secret_file", K_PATH, CFG(enroll_secret_file)},
    {"max_body", K_SIZE, CFG(max_body)},
    {"timeout", K_DURATION_S, CFG(timeout_s)},
    {"online_margin", K_DURATION_S, CFG(online_margin_s)},
    {"enroll_rate_per_min", K_INT, CFG(enroll_rate_per_min)},
    {"store_queue_max", K_INT, CFG(store_queue_max)},
    {"live_response.enabled", K_BOOL, CFG(lr.enabled)},
    {"live_response.ca_key", K_PATH, CFG(lr.ca_key)},
    {"live_response.user_key", K_OPTPATH, CFG(lr.user_key)},
    {"live_response.login", K_STR, CFG(lr.login)},
    {"live_response.source_address", K_OPTSTR, CFG(lr.source_address)},
    {"live_response.idle_timeout", K_DURATION_POS, CFG(lr.idle_timeout_s)},
    {"live_response.max_duration", K_DURATION_POS, CFG(lr.max_duration_s)},
    {"live_response.max_sessions", K_INT, CFG(lr.max_sessions)},
    {"live_response.command_timeout", K_DURATION_POS, CFG(lr.command_timeout_s)},
    {"live_response.connect_timeout", K_DURATION_POS, CFG(lr.connect_timeout_s)},
    {"live_response.cert_validity", K_DURATION_POS, CFG(lr.cert_validity_s)},
    {"live_response.output_cap", K_SIZE, CFG(lr.output_cap)},
    {"live_response.put_max", K_SIZE, CFG(lr.put_max)},
    {"live.long_poll", K_DURATION_S, CFG(live.long_poll_s)},
    {"live.label_interval", K_DURATION_POS, CFG(live.label_interval_s)},
    {"live.retention", K_DURATION_POS, CFG(live.retention_s)},
    {"live.max_rows", K_INT, CFG(live.max_rows)},
    {"live.retention_rows", K_INT, CFG(live.retention_rows)},
};
#undef CFG

/* Walks a mapping; prefix is "" at the top, "tls." inside tls. */
static int walk(struct ctx *c, const yaml_node_t *map, const char *prefix)
{
	const yaml_node_pair_t *p, *q;
	char key[128];
	size_t i;
	int r;

	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, prefix[0] ? (strcmp(prefix, "tls.") == 0    ? "tls"
		                                 : strcmp(prefix, "live.") == 0 ? "live"
		                                                                : "live_response")
		                               : NULL,
		            "expected a mapping of settings");
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const char *ks = scalar(k);

		if (ks == NULL)
			return fail(c, k, NULL, "keys must be plain words");
		snprintf(key, sizeof(key), "%s%s", prefix, ks);
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			const char *prev = scalar(yaml_document_get_node(c->doc, q->key));

			if (prev != NULL && strcmp(prev, ks) == 0)
				return fail(c, k, key, "duplicate key");
		}
		if (prefix[0] == '\0' && strcmp(ks, "tls") == 0) {
			c->tls_line = (int)k->start_mark.line + 1;
			if ((r = walk(c, v, "tls.")) != 0)
				return r;
			continue;
		}
		if (prefix[0] == '\0' && strcmp(ks, "live_response") == 0) {
			if ((r = walk(c, v, "live_response.")) != 0)
				return r;
			continue;
		}
		if (prefix[0] == '\0' && strcmp(ks, "live") == 0) {
			if ((r = walk(c, v, "live.")) != 0)
				return r;
			continue;
		}
		for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
			if (strcmp(settings[i].key, key) == 0)
				break;
		if (i == sizeof(settings) / sizeof(settings[0]))
			return fail(c, k, key, "unknown setting");
		r = set_value(c, key, settings[i].kind,
		              settings[i].off == (size_t)-1 ? (void *)&c->tls_enabled
		                                            : (char *)c->cfg + settings[i].off,
		              v);
		if (r != 0)
			return r;
	}
	return 0;
}

void mm_config_defaults(struct mm_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 8443;
	cfg->max_body = 8 << 20;
	cfg->timeout_s = 60;
	cfg->online_margin_s = 60;
	cfg->enroll_rate_per_min = 30;
	cfg->store_queue_max = 10000;
	cfg->lr.idle_timeout_s = 900;
	cfg->lr.max_duration_s = 3600;
	cfg->lr.max_sessions = 10;
	cfg->lr.command_timeout_s = 60;
	cfg->lr.connect_timeout_s = 10;
	cfg->lr.cert_validity_s = 300;
	cfg->lr.output_cap = 1 << 20;
	cfg->lr.put_max = 4 << 20;
	cfg->live.long_poll_s = 30;
	cfg->live.label_interval_s = 300;
	cfg->live.retention_s = 86400;
	cfg->live.max_rows = 100000;
	cfg->live.retention_rows = 1000000;
}

void mm_config_free(struct mm_server_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->listen_address);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->database);
	free(cfg->results_log);
	free(cfg->enroll_secret_file);
	free(cfg->lr.ca_key);
	free(cfg->lr.user_key);
	free(cfg->lr.login);
	free(cfg->lr.source_address);
	mm_config_defaults(cfg);
}

int mm_config_parse_listen(const char *s, char **addr, int *port)
{
	const char *colon, *host, *hend;
	int64_t p;

	*addr = NULL;
	if (s[0] == '[') {
		if ((hend = strchr(s, ']')) == NULL || hend[1] != ':')
			return MM_ERR_PARSE;
		host = s + 1;
		colon = hend + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return MM_ERR_PARSE;
		host = s;
		hend = colon;
	}
	if (hend == host || mm_parse_i64(colon + 1, &p) != 0 || p < 0 || p > 65535)
		return MM_ERR_PARSE;
	if ((*addr = strndup(host, (size_t)(hend - host))) == NULL)
		return MM_ERR_NOMEM;
	*port = (int)p;
	return 0;
}

int mm_config_parse(const char *text, size_t len, const char *path, struct mm_server_config *cfg,
                    char **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	const yaml_node_t *root;
	struct ctx c;
	char *dir = NULL, *slash;
	int r = MM_ERR_NOMEM, have_parser = 0, have_doc = 0;

	*err = NULL;
	mm_config_defaults(cfg);
	memset(&c, 0, sizeof(c));
	c.file = path;
	c.err = err;
	c.cfg = cfg;
	c.tls_enabled = 1;
	if ((dir = strdup(path)) == NULL)
		goto out;
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		dir[0] = '\0';
	c.dir = dir;
	if (!yaml_parser_initialize(&parser))
		goto out;
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		if (asprintf(err, "%s:%lu: %s%s%s", path,
		             (unsigned long)parser.problem_mark.line + 1,
		             parser.problem != NULL ? parser.problem : "malformed YAML",
		             parser.context != NULL ? " " : "",
		             parser.context != NULL ? parser.context : "") < 0)
			*err = NULL;
		r = MM_ERR_PARSE;
		goto out;
	}
	have_doc = 1;
	c.doc = &doc;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		r = fail(&c, NULL, NULL,
		         "empty configuration (database and enroll_secret_file"
		         " are required)");
		goto out;
	}
	if ((r = walk(&c, root, "")) != 0)
		goto out;
	r = MM_ERR_PARSE;
	if (cfg->database == NULL) {
		fail(&c, root, "database", "required");
		goto out;
	}
	if (cfg->enroll_secret_file == NULL) {
		fail(&c, root, "enroll_secret_file", "required");
		goto out;
	}
	if (c.tls_enabled && (cfg->tls_cert == NULL || cfg->tls_key == NULL)) {
		if (asprintf(err, "%s:%d: %s: required while tls.enabled is true", path,
		             c.tls_line > 0 ? c.tls_line : 1,
		             cfg->tls_cert == NULL ? "tls.cert" : "tls.key") < 0)
			*err = NULL;
		goto out;
	}
	if (cfg->lr.enabled && cfg->lr.ca_key == NULL && cfg->lr.user_key == NULL) {
		fail(&c, root, "live_response.ca_key",
		     "required while live_response.enabled is true (mamori-server lr-setup makes one)");
		goto out;
	}
	if (!c.tls_enabled) {
		free(cfg->tls_cert);
		free(cfg->tls_key);
		cfg->tls_cert = cfg->tls_key = NULL;
	}
	r = MM_ERR_NOMEM;
	if (cfg->listen_address == NULL && (cfg->listen_address = strdup("127.0.0.1")) == NULL)
		goto out;
	if (cfg->lr.login == NULL && (cfg->lr.login = strdup("root")) == NULL)
		goto out;
	r = 0;
out:
	if (r != 0) {
		mm_config_free(cfg);
		if (*err == NULL && asprintf(err, "%s: %s", path, mm_strerror(r)) < 0)
			*err = NULL;
	}
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	free(dir);
	return r;
}

int mm_config_load(const char *path, struct mm_server_config *cfg, char **err)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*err = NULL;
	mm_config_defaults(cfg);
	if ((r = mm_read_file(path, CONFIG_FILE_MAX, &text, &len)) != 0) {
		if (asprintf(err, "%s: %s", path,
		             r == MM_ERR_TOOBIG ? "larger than 1 MiB" : strerror(errno)) < 0)
			*err = NULL;
		return r;
	}
	r = mm_config_parse(text, len, path, cfg, err);
	free(text);
	return r;
}
