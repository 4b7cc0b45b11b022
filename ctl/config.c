/*
 * config.c - reading and writing mamorictl's YAML settings file (config.h)
 * with libyaml: the document API to read (line numbers for errors), the
 * event emitter to write (it quotes whatever needs quoting).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "fileio.h"
#include "util.h"

#define CONFIG_CAP (64u << 10)

char *ctl_config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");

	if (x != NULL && x[0] == '/')
		return xasprintf("%s/mamori/mamorictl.yaml", x);
	if (h != NULL && h[0] != '\0')
		return xasprintf("%s/.config/mamori/mamorictl.yaml", h);
	return NULL;
}

static void wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void ctl_config_clear(struct ctl_config *cfg)
{
	free(cfg->server);
	free(cfg->ca);
	wipe_free(cfg->token);
	memset(cfg, 0, sizeof(*cfg));
}

/* Copies a value for key k of the config into cfg; errors on unknown and
 * repeated keys. */
static int set_key(struct ctl_config *cfg, const char *path, const yaml_node_t *kn,
		   const yaml_node_t *vn, char **err)
{
	const char *k = (const char *)kn->data.scalar.value;
	char **slot;

	if (strcmp(k, "server") == 0)
		slot = &cfg->server;
	else if (strcmp(k, "ca") == 0)
		slot = &cfg->ca;
	else if (strcmp(k, "token") == 0)
		slot = &cfg->token;
	else {
		*err = xasprintf("%s:%zu: unknown key '%s' (known: server, ca, token)", path,
				 kn->start_mark.line + 1, k);
		return MM_ERR_PARSE;
	}
	if (*slot != NULL) {
		*err = xasprintf("%s:%zu: '%s' given twice", path, kn->start_mark.line + 1, k);
		return MM_ERR_PARSE;
	}
	if (vn->type != YAML_SCALAR_NODE) {
		*err = xasprintf("%s:%zu: %s: expected a string", path, vn->start_mark.line + 1, k);
		return MM_ERR_PARSE;
	}
	if (vn->data.scalar.length != strlen((const char *)vn->data.scalar.value)) {
		*err = xasprintf("%s:%zu: %s: NUL byte in value", path, vn->start_mark.line + 1, k);
		return MM_ERR_PARSE;
	}
	/* An empty value (or ~) leaves the setting unset. */
	if (vn->data.scalar.length == 0 ||
	    (vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	     strcmp((const char *)vn->data.scalar.value, "~") == 0))
		return 0;
	*slot = xstrdup((const char *)vn->data.scalar.value);
	return 0;
}

int ctl_config_read(const char *path, struct ctl_config *cfg, char **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *kn, *vn;
	yaml_node_pair_t *p;
	int have_parser = 0, have_doc = 0, r;
	char *text = NULL;
	size_t len = 0;
	struct stat st;

	memset(cfg, 0, sizeof(*cfg));
	*err = NULL;
	r = mm_read_file(path, CONFIG_CAP, &text, &len);
	if (r == MM_ERR_NOTFOUND)
		return r;
	if (r != 0) {
		*err = r == MM_ERR_TOOBIG
			       ? xasprintf("%s: over %u KiB", path, CONFIG_CAP >> 10)
			       : xasprintf("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	r = MM_ERR_PARSE;
	if (!yaml_parser_initialize(&parser)) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		*err = xasprintf("%s:%zu: %s", path, parser.problem_mark.line + 1,
				 parser.problem != NULL ? parser.problem : "malformed YAML");
		goto out;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		r = 0; /* an empty file */
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		*err = xasprintf("%s:%zu: expected a mapping of server, ca, token", path,
				 root->start_mark.line + 1);
		goto out;
	}
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		kn = yaml_document_get_node(&doc, p->key);
		vn = yaml_document_get_node(&doc, p->value);
		if (kn == NULL || vn == NULL || kn->type != YAML_SCALAR_NODE) {
			*err = xasprintf("%s: keys must be strings", path);
			goto out;
		}
		if ((r = set_key(cfg, path, kn, vn, err)) != 0)
			goto out;
	}
	if (cfg->token != NULL && stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		fprintf(stderr,
			"mamorictl: warning: %s holds a token and may be read by others "
			"(chmod 600 %s)\n",
			path, path);
	r = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	if (r != 0) {
		ctl_config_clear(cfg);
		if (*err == NULL)
			*err = xasprintf("%s: %s", path, mm_strerror(r));
	}
	return r;
}

/* libyaml output handler: appends to an mm_buf.  Returns 1 on success. */
static int emit_to_buf(void *data, unsigned char *p, size_t n)
{
	return mm_buf_add(data, p, n) == 0;
}

/* Emits one event; returns 0 or -1 (the emitter's error stays in e). */
static int emit(yaml_emitter_t *e, yaml_event_t *ev, int ok)
{
	if (!ok)
		return -1;
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int emit_pair(yaml_emitter_t *e, const char *k, const char *v)
{
	yaml_event_t ev;

	if (v == NULL)
		return 0;
	if (emit(e, &ev,
		 yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)k, -1, 1, 1,
					      YAML_PLAIN_SCALAR_STYLE)) != 0)
		return -1;
	return emit(e, &ev,
		    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)v, -1, 1, 1,
						 YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

/* The file's text into b. */
static int render(const struct ctl_config *cfg, struct mm_buf *b, char **err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int r = -1;

	if (!yaml_emitter_initialize(&e))
		return MM_ERR_NOMEM;
	yaml_emitter_set_output(&e, emit_to_buf, b);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	if (mm_buf_adds(b, "# mamorictl settings, written by `mamorictl login`.\n") != 0)
		goto out;
	if (emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING)) != 0 ||
	    emit(&e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1)) != 0 ||
	    emit(&e, &ev,
		 yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						     YAML_BLOCK_MAPPING_STYLE)) != 0 ||
	    emit_pair(&e, "server", cfg->server) != 0 || emit_pair(&e, "ca", cfg->ca) != 0 ||
	    emit_pair(&e, "token", cfg->token) != 0 ||
	    emit(&e, &ev, yaml_mapping_end_event_initialize(&ev)) != 0 ||
	    emit(&e, &ev, yaml_document_end_event_initialize(&ev, 1)) != 0 ||
	    emit(&e, &ev, yaml_stream_end_event_initialize(&ev)) != 0 || !yaml_emitter_flush(&e))
		goto out;
	r = 0;
out:
	if (r != 0)
		*err = xasprintf("cannot render the settings: %s",
				 e.problem != NULL ? e.problem : "out of memory");
	yaml_emitter_delete(&e);
	return r != 0 ? MM_ERR_INTERNAL : 0;
}

/* mkdir -p of path's parent directory, new directories mode 0700. */
static int make_parents(const char *path, char **err)
{
	char *dir = xstrdup(path), *p;
	int r = 0;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			*err = xasprintf("cannot create directory %s: %s", dir, strerror(errno));
			r = MM_ERR_IO;
			break;
		}
		*p = '/';
	}
	free(dir);
	return r;
}

int ctl_config_write(const char *path, const struct ctl_config *cfg, char **err)
{
	struct mm_buf b;
	char *tmp = NULL;
	int fd = -1, r;
	size_t off = 0;
	ssize_t n;

	*err = NULL;
	mm_buf_init(&b, CONFIG_CAP);
	if ((r = render(cfg, &b, err)) != 0)
		goto out;
	if ((r = make_parents(path, err)) != 0)
		goto out;
	r = MM_ERR_IO;
	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		*err = xasprintf("cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) != 0) {
		*err = xasprintf("cannot chmod %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < b.len) {
		n = write(fd, b.data + off, b.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err = xasprintf("cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		*err = xasprintf("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		*err = xasprintf("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.alloc);
	mm_buf_free(&b);
	return r;
}
