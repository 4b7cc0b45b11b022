/*
 * daemon_config.c - the daemon's YAML config file (docs/agent.md):
 *
 *   server: https://coordinator.example:8443
 *   ca_file: ca.pem                  # the only CA trusted for the server
 *   enroll_secret_file: enroll.secret
 *   host_identifier: hostname        # hostname | uuid | specified
 *   identifier: web01                # with `specified`
 *   state_dir: /var/lib/mamori
 *   root: /                          # table root
 *   intervals: {config_refresh: 60s, distributed_interval: 10s, log_flush: 5s,
 *               long_poll: 30s,     # distributed reads wait for work (0 = off)
 *               splay_percent: 10, policy_full_report: 60m,
 *               policy_override: 30s}   # tests: run every policy this often
 *   queue: {max_rows: 100000, max_bytes: 64M}
 *   timeouts: {connect: 10s, request: 60s}
 *   limits: {time: 10s, memory: 256M}
 *   live_response: {enabled: false, login: root, port: 22}   # docs/live-response.md
 *
 * libyaml builds the document tree; the walk has a fixed depth (two
 * levels), so aliases cannot make it loop.  Unknown and duplicate keys are
 * errors; every error names the file, the line and the key path.
 */
#include "daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "error.h"
#include "fileio.h"
#include "strutil.h"

#define CONFIG_MAX_BYTES (1 << 20)

struct cctx {
	yaml_document_t *doc;
	const char *file;
	const char *basedir;
	struct mm_daemon_config *c;
	char *err;
};

static int cerr(struct cctx *x, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int cerr(struct cctx *x, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	struct mm_buf b;
	va_list ap;

	mm_buf_init(&b, 4096);
	mm_buf_addf(&b, "%s:%lu: %s: ", x->file,
	            n != NULL ? (unsigned long)n->start_mark.line + 1 : 1ul, key);
	va_start(ap, fmt);
	mm_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(x->err);
	x->err = mm_buf_take(&b);
	return x->err != NULL ? MM_ERR_PARSE : MM_ERR_NOMEM;
}

/* The scalar's text, or NULL when n is not a scalar. */
static const char *scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A string value: a non-empty scalar without control characters. */
static int get_str(struct cctx *x, yaml_node_t *n, const char *key, char **out)
{
	const char *v = scalar(n);
	size_t i;

	if (v == NULL)
		return cerr(x, n, key, "expected a string");
	if (v[0] == '\0')
		return cerr(x, n, key, "must not be empty");
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return cerr(x, n, key, "control character in value");
	free(*out);
	if ((*out = strdup(v)) == NULL)
		return MM_ERR_NOMEM;
	return 0;
}

/* A path: relative paths are made relative to the config file's directory. */
static int get_path(struct cctx *x, yaml_node_t *n, const char *key, char **out)
{
	char *p = NULL;
	struct mm_buf b;
	int r;

	if ((r = get_str(x, n, key, &p)) != 0)
		return r;
	if (p[0] == '/' || x->basedir == NULL) {
		free(*out);
		*out = p;
		return 0;
	}
	mm_buf_init(&b, 8192);
	if (mm_buf_adds(&b, x->basedir) != 0 ||
	    (!mm_endswith(x->basedir, "/") && mm_buf_addc(&b, '/') != 0) ||
	    mm_buf_adds(&b, p) != 0) {
		free(p);
		mm_buf_free(&b);
		return cerr(x, n, key, "path too long");
	}
	free(p);
	free(*out);
	if ((*out = mm_buf_take(&b)) == NULL)
		return MM_ERR_NOMEM;
	return 0;
}

/* strtod (under mm_parse_*) also reads "nan", "inf" and hex: only accept a
 * decimal number with an optional unit. */
static int numeric_start(const char *v)
{
	return v != NULL && v[0] >= '0' && v[0] <= '9' &&
	       !(v[0] == '0' && (v[1] == 'x' || v[1] == 'X'));
}

/* A duration ("5s", "500ms", "2m", or a bare number of seconds) > 0; with
 * zero_ok, "0" gives -1 (none). */
static int get_duration(struct cctx *x, yaml_node_t *n, const char *key, int zero_ok, int64_t *ms)
{
	const char *v = scalar(n);
	int64_t t;

	if (!numeric_start(v) || mm_parse_duration_ms(v, &t) != 0)
		return cerr(x, n, key, "bad duration '%s' (e.g. 500ms, 5s, 2m)",
		            v != NULL ? v : "");
	if (t == 0 && zero_ok) {
		*ms = -1;
		return 0;
	}
	if (t <= 0)
		return cerr(x, n, key, "must be more than 0");
	if (t > 7ll * 24 * 3600 * 1000)
		return cerr(x, n, key, "more than 7 days");
	*ms = t;
	return 0;
}

static int get_size(struct cctx *x, yaml_node_t *n, const char *key, int64_t *bytes)
{
	const char *v = scalar(n);

	if (!numeric_start(v) || mm_parse_size(v, bytes) != 0)
		return cerr(x, n, key, "bad size '%s' (e.g. 64M, 512k)", v != NULL ? v : "");
	return 0;
}

static int get_int(struct cctx *x, yaml_node_t *n, const char *key, int64_t min, int64_t max,
                   int64_t *out)
{
	const char *v = scalar(n);
	int64_t i;

	if (v == NULL || mm_parse_i64(v, &i) != 0)
		return cerr(x, n, key, "expected an integer, got '%s'", v != NULL ? v : "");
	if (i < min || i > max)
		return cerr(x, n, key, "must be between %lld and %lld", (long long)min,
		            (long long)max);
	*out = i;
	return 0;
}

/* Rejects duplicate keys and non-scalar keys of mapping m. */
static int check_keys(struct cctx *x, yaml_node_t *m, const char *prefix)
{
	yaml_node_pair_t *p, *q;
	char key[128];

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
		const char *k = scalar(kn);

		if (k == NULL)
			return cerr(x, kn, prefix[0] ? prefix : "(top)", "keys must be strings");
		for (q = m->data.mapping.pairs.start; q < p; q++) {
			const char *k2 = scalar(yaml_document_get_node(x->doc, q->key));
			if (k2 != NULL && strcmp(k, k2) == 0) {
				snprintf(key, sizeof(key), "%s%s%.64s", prefix,
				         prefix[0] ? "." : "", k);
				return cerr(x, kn, key, "duplicate key");
			}
		}
	}
	return 0;
}

/* intervals: / queue: / timeouts: / limits: */
static int section(struct cctx *x, const char *name, yaml_node_t *m)
{
	struct mm_daemon_config *c = x->c;
	yaml_node_pair_t *p;
	char key[160];
	int r;

	if (m->type != YAML_MAPPING_NODE)
		return cerr(x, m, name, "expected a mapping");
	if ((r = check_keys(x, m, name)) != 0)
		return r;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(x->doc, p->key));
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		int64_t i = 0;

		snprintf(key, sizeof(key), "%s.%.64s", name, k);
		if (strcmp(name, "intervals") == 0 && strcmp(k, "config_refresh") == 0)
			r = get_duration(x, v, key, 0, &c->config_refresh_ms);
		else if (strcmp(name, "intervals") == 0 && strcmp(k, "distributed_interval") == 0)
			r = get_duration(x, v, key, 0, &c->distributed_interval_ms);
		else if (strcmp(name, "intervals") == 0 && strcmp(k, "long_poll") == 0)
			r = get_duration(x, v, key, 1, &c->long_poll_ms);
		else if (strcmp(name, "intervals") == 0 && strcmp(k, "log_flush") == 0)
			r = get_duration(x, v, key, 0, &c->log_flush_ms);
		else if (strcmp(name, "intervals") == 0 && strcmp(k, "policy_override") == 0)
			r = get_duration(x, v, key, 1, &c->policy_override_ms);
		else if (strcmp(name, "intervals") == 0 && strcmp(k, "policy_full_report") == 0)
			r = get_duration(x, v, key, 0, &c->policy_full_report_ms);
		else if (strcmp(name, "intervals") == 0 && strcmp(k, "splay_percent") == 0) {
			if ((r = get_int(x, v, key, 0, 100, &i)) == 0)
				c->splay_percent = (int)i;
		} else if (strcmp(name, "queue") == 0 && strcmp(k, "max_rows") == 0)
			r = get_int(x, v, key, 2, 100000000, &c->queue_max_rows);
		else if (strcmp(name, "queue") == 0 && strcmp(k, "max_bytes") == 0) {
			if ((r = get_size(x, v, key, &c->queue_max_bytes)) == 0 &&
			    (c->queue_max_bytes < 65536 || c->queue_max_bytes > (16ll << 30)))
				r = cerr(x, v, key, "must be between 64k and 16G");
		} else if (strcmp(name, "timeouts") == 0 && strcmp(k, "connect") == 0)
			r = get_duration(x, v, key, 0, &c->connect_timeout_ms);
		else if (strcmp(name, "timeouts") == 0 && strcmp(k, "request") == 0)
			r = get_duration(x, v, key, 0, &c->request_timeout_ms);
		else if (strcmp(name, "limits") == 0 && strcmp(k, "time") == 0)
			r = get_duration(x, v, key, 1, &c->time_limit_ms);
		else if (strcmp(name, "limits") == 0 && strcmp(k, "memory") == 0) {
			if ((r = get_size(x, v, key, &c->heap_limit)) == 0) {
				if (c->heap_limit == 0)
					c->heap_limit = -1;
				else if (c->heap_limit < (8 << 20))
					r = cerr(x, v, key, "less than 8M");
			}
		} else if (strcmp(name, "live_response") == 0 && strcmp(k, "enabled") == 0) {
			const char *b = scalar(v);
			if (b != NULL && (strcmp(b, "true") == 0 || strcmp(b, "yes") == 0))
				c->lr_enabled = 1;
			else if (b != NULL && (strcmp(b, "false") == 0 || strcmp(b, "no") == 0))
				c->lr_enabled = 0;
			else
				r = cerr(x, v, key, "expected true or false");
		} else if (strcmp(name, "live_response") == 0 && strcmp(k, "login") == 0) {
			if ((r = get_str(x, v, key, &c->lr_login)) == 0 &&
			    (strlen(c->lr_login) > 32 ||
			     strspn(c->lr_login,
			            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			            "0123456789_.-") != strlen(c->lr_login) ||
			     c->lr_login[0] == '-'))
				r = cerr(x, v, key, "not a user name");
		} else if (strcmp(name, "live_response") == 0 && strcmp(k, "port") == 0) {
			if ((r = get_int(x, v, key, 1, 65535, &i)) == 0)
				c->lr_port = (int)i;
		} else
			r = cerr(x, yaml_document_get_node(x->doc, p->key), key, "unknown key");
		if (r != 0)
			return r;
	}
	return 0;
}

static int check_server(struct cctx *x, yaml_node_t *n)
{
	char *s = x->c->server;
	size_t len;

	if (!mm_startswith(s, "https://"))
		return cerr(x, n, "server", "must be an https:// URL, got '%s'", s);
	len = strlen(s);
	while (len > 8 && s[len - 1] == '/')
		s[--len] = '\0';
	if (len <= 8 || s[8] == '/')
		return cerr(x, n, "server", "no host in '%s'", s);
	if (strpbrk(s, " \"<>\\^`{|}?#") != NULL)
		return cerr(x, n, "server",
		            "unexpected character in '%s' (give scheme://host:port)", s);
	return 0;
}

static int walk(struct cctx *x, yaml_node_t *root)
{
	struct mm_daemon_config *c = x->c;
	yaml_node_t *server_n = NULL, *ident_n = NULL, *hostid_n = NULL;
	yaml_node_pair_t *p;
	int r;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return cerr(x, root, "(top)", "expected a mapping of settings");
	if ((r = check_keys(x, root, "")) != 0)
		return r;
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *k = scalar(kn);

		if (strcmp(k, "server") == 0) {
			server_n = v;
			r = get_str(x, v, k, &c->server);
		} else if (strcmp(k, "ca_file") == 0) {
			c->ca_file_line = (int)v->start_mark.line + 1;
			r = get_path(x, v, k, &c->ca_file);
		} else if (strcmp(k, "enroll_secret_file") == 0) {
			c->enroll_secret_file_line = (int)v->start_mark.line + 1;
			r = get_path(x, v, k, &c->enroll_secret_file);
		} else if (strcmp(k, "host_identifier") == 0) {
			const char *s = scalar(v);
			hostid_n = v;
			if (s != NULL && strcmp(s, "hostname") == 0)
				c->host_identifier = MM_HOSTID_HOSTNAME;
			else if (s != NULL && strcmp(s, "uuid") == 0)
				c->host_identifier = MM_HOSTID_UUID;
			else if (s != NULL && strcmp(s, "specified") == 0)
				c->host_identifier = MM_HOSTID_SPECIFIED;
			else
				r = cerr(x, v, k, "expected hostname, uuid or specified, got '%s'",
				         s != NULL ? s : "");
		} else if (strcmp(k, "identifier") == 0) {
			ident_n = v;
			r = get_str(x, v, k, &c->identifier);
			if (r == 0 && strlen(c->identifier) > 255)
				r = cerr(x, v, k, "longer than 255 bytes");
		} else if (strcmp(k, "state_dir") == 0) {
			r = get_path(x, v, k, &c->state_dir);
		} else if (strcmp(k, "root") == 0) {
			r = get_path(x, v, k, &c->root);
		} else if (strcmp(k, "intervals") == 0 || strcmp(k, "queue") == 0 ||
		           strcmp(k, "timeouts") == 0 || strcmp(k, "limits") == 0 ||
		           strcmp(k, "live_response") == 0) {
			r = section(x, k, v);
		} else {
			char key[80];
			snprintf(key, sizeof(key), "%.64s", k);
			r = cerr(x, kn, key, "unknown key");
		}
		if (r != 0)
			return r;
	}
	if (c->server == NULL)
		return cerr(x, root, "server", "required (the coordinator's https:// URL)");
	if ((r = check_server(x, server_n)) != 0)
		return r;
	if (c->ca_file == NULL)
		return cerr(x, root, "ca_file",
		            "required (the CA that signed the server's certificate)");
	if (c->enroll_secret_file == NULL)
		return cerr(x, root, "enroll_secret_file", "required");
	if (c->host_identifier == MM_HOSTID_SPECIFIED && c->identifier == NULL)
		return cerr(x, hostid_n, "identifier", "required with host_identifier: specified");
	if (c->host_identifier != MM_HOSTID_SPECIFIED && c->identifier != NULL)
		return cerr(x, ident_n, "identifier", "only used with host_identifier: specified");
	return 0;
}

int mm_daemon_config_parse(const char *text, size_t len, const char *filename, const char *basedir,
                           struct mm_daemon_config **out, char **err)
{
	struct mm_daemon_config *c = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	struct cctx x = {0};
	int r = MM_ERR_NOMEM, have_doc = 0;

	*out = NULL;
	*err = NULL;
	x.file = filename;
	x.basedir = basedir;
	if (!yaml_parser_initialize(&parser))
		return MM_ERR_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->config_refresh_ms = 60000;
	c->distributed_interval_ms = 10000;
	c->long_poll_ms = 30000;
	c->log_flush_ms = 5000;
	c->policy_full_report_ms = 60 * 60 * 1000;
	c->splay_percent = 10;
	c->queue_max_rows = 100000;
	c->queue_max_bytes = 64ll << 20;
	c->connect_timeout_ms = 10000;
	c->request_timeout_ms = 60000;
	c->lr_port = 22;
	if ((c->path = strdup(filename)) == NULL)
		goto out;
	x.c = c;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		struct mm_buf b;

		mm_buf_init(&b, 4096);
		mm_buf_addf(&b, "%s:%lu: yaml: %s%s%s", filename,
		            (unsigned long)parser.problem_mark.line + 1,
		            parser.problem != NULL ? parser.problem : "syntax error",
		            parser.context != NULL ? " " : "",
		            parser.context != NULL ? parser.context : "");
		x.err = mm_buf_take(&b);
		r = x.err != NULL ? MM_ERR_PARSE : MM_ERR_NOMEM;
		goto out;
	}
	have_doc = 1;
	x.doc = &doc;
	if ((r = walk(&x, yaml_document_get_root_node(&doc))) != 0)
		goto out;
	if (c->state_dir == NULL && (c->state_dir = strdup("/var/lib/mamori")) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	if (c->root == NULL && (c->root = strdup("/")) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	if (c->lr_login == NULL && (c->lr_login = strdup("root")) == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	mm_daemon_config_free(c);
	if (r != 0) {
		if (x.err == NULL && r == MM_ERR_NOMEM)
			x.err = strdup("out of memory");
		*err = x.err;
	}
	return r;
}

/* The file must be readable by us now: a typo should stop the daemon at
 * start, not at the first enrollment. */
static int check_readable(const struct mm_daemon_config *c, const char *key, const char *path,
                          int line, char **err)
{
	FILE *f = fopen(path, "r");
	struct mm_buf b;

	if (f != NULL) {
		fclose(f);
		return 0;
	}
	mm_buf_init(&b, 8192);
	mm_buf_addf(&b, "%s:%d: %s: cannot read '%s': %s", c->path, line, key, path,
	            strerror(errno));
	*err = mm_buf_take(&b);
	return MM_ERR_IO;
}

int mm_daemon_config_load(const char *path, struct mm_daemon_config **out, char **err)
{
	char *text = NULL, *dir = NULL, *slash, cwd[4096];
	size_t len = 0;
	int r;

	*out = NULL;
	*err = NULL;
	if ((r = mm_read_file(path, CONFIG_MAX_BYTES, &text, &len)) != 0) {
		struct mm_buf b;
		mm_buf_init(&b, 8192);
		if (r == MM_ERR_TOOBIG)
			mm_buf_addf(&b, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
		else
			mm_buf_addf(&b, "%s: %s", path,
			            r == MM_ERR_NOMEM ? "out of memory" : strerror(errno));
		*err = mm_buf_take(&b);
		return r;
	}
	/* The directory of the config file, absolute. */
	if (path[0] == '/') {
		dir = strdup(path);
	} else if (getcwd(cwd, sizeof(cwd)) != NULL) {
		struct mm_buf b;
		mm_buf_init(&b, 8192);
		mm_buf_addf(&b, "%s/%s", cwd, path);
		dir = mm_buf_take(&b);
	}
	if (dir == NULL) {
		free(text);
		*err = strdup("cannot find the current directory");
		return MM_ERR_IO;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	r = mm_daemon_config_parse(text, len, path, dir, out, err);
	free(text);
	free(dir);
	if (r != 0)
		return r;
	if ((r = check_readable(*out, "ca_file", (*out)->ca_file, (*out)->ca_file_line, err)) !=
	        0 ||
	    (r = check_readable(*out, "enroll_secret_file", (*out)->enroll_secret_file,
	                        (*out)->enroll_secret_file_line, err)) != 0) {
		mm_daemon_config_free(*out);
		*out = NULL;
		return r;
	}
	return 0;
}

void mm_daemon_config_free(struct mm_daemon_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->server);
	free(c->ca_file);
	free(c->enroll_secret_file);
	free(c->identifier);
	free(c->state_dir);
	free(c->root);
	free(c->lr_login);
	free(c);
}
