/*
 * daemon_lr.c - the agent's part of Live Response (docs/live-response.md).
 *
 * The coordinator is the SSH client of this host's own sshd and pins the
 * host keys the agent reports, so no key is ever trusted on first use.
 * The agent reads them under its root from etc/ssh/ssh_host_*_key.pub,
 * sends them in the enroll host_details ("mamori_live_response") and to
 * POST /api/v1/mamori/hostkeys whenever they, the settings or the node key
 * change.  Live Response is off unless the config says
 * live_response: {enabled: true}.
 *
 * The state DB key "lr_reported" holds the SHA-256 of the node key and of
 * the last report the coordinator acknowledged, so a restart sends
 * nothing new, a re-enrollment or a changed key file sends again, and
 * switching Live Response off is reported once.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "daemon.h"
#include "error.h"
#include "fileio.h"

#define KEY_FILE_MAX 16384
#define MAX_KEYS     16
#define CHECK_MS     10000

static int64_t next_check_ms;
static long last_warned_status = -1;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "TYPE BASE64" from the first line of a .pub file (the comment dropped),
 * or NULL when it does not look like a key. */
static char *key_line(const char *text)
{
	size_t t = strcspn(text, " \t\r\n"), sp, k;
	char *out;

	if (t == 0 || t > 64 || (text[t] != ' ' && text[t] != '\t'))
		return NULL;
	sp = t + strspn(text + t, " \t");
	k = strspn(text + sp, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
	if (k < 16)
		return NULL;
	if ((out = malloc(t + 1 + k + 1)) == NULL)
		return NULL;
	memcpy(out, text, t);
	out[t] = ' ';
	memcpy(out + t + 1, text + sp, k);
	out[t + 1 + k] = '\0';
	return out;
}

/* The host key lines under root, sorted by file name. */
static json_t *host_keys(const char *root)
{
	char dir[4096], path[4352], *names[64];
	json_t *keys = json_array();
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s%setc/ssh", root,
	         root[0] != '\0' && root[strlen(root) - 1] == '/' ? "" : "/");
	if (keys == NULL || (d = opendir(dir)) == NULL)
		return keys;
	while ((de = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0])) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, "ssh_host_", 9) == 0 && len > 17 &&
		    strcmp(de->d_name + len - 8, "_key.pub") == 0 &&
		    (names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		char *text = NULL, *line;
		size_t len = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (json_array_size(keys) < MAX_KEYS &&
		    mm_read_file(path, KEY_FILE_MAX, &text, &len) == 0) {
			if ((line = key_line(text)) != NULL)
				json_array_append_new(keys, json_string(line));
			else
				mm_dlog(MM_DLOG_WARN, "live response: %s: not an SSH public key",
				        path);
			free(line);
		}
		free(text);
		free(names[i]);
	}
	return keys;
}

json_t *mm_lr_agent_info(const struct mm_daemon_config *cfg)
{
	char port[16];

	if (!cfg->lr_enabled)
		return NULL;
	snprintf(port, sizeof(port), "%d", cfg->lr_port);
	return json_pack("{s:s, s:s, s:s, s:o}", "enabled", "1", "port", port, "login",
	                 cfg->lr_login != NULL ? cfg->lr_login : "root", "host_keys",
	                 host_keys(cfg->root));
}

/* SHA-256 (hex) of the node key and the report text. */
static void report_hash(const char *node_key, const char *text, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int i;

	memset(md, 0, sizeof(md));
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
		EVP_DigestUpdate(c, node_key, strlen(node_key));
		EVP_DigestUpdate(c, "\n", 1);
		EVP_DigestUpdate(c, text, strlen(text));
		EVP_DigestFinal_ex(c, md, NULL);
	}
	EVP_MD_CTX_free(c);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

int mm_lr_agent_step(const struct mm_daemon_config *cfg, struct mm_state *st, struct mm_httpc *http,
                     const char *node_key, int64_t now_ms, int force)
{
	json_t *info = NULL, *body = NULL, *resp = NULL;
	char *text = NULL, *prev = NULL, *err = NULL, hash[65];
	long status = 0;
	int r = -1;

	if (node_key == NULL || (!force && now_ms < next_check_ms))
		return 0;
	next_check_ms = now_ms + CHECK_MS;
	if (mm_state_kv_get(st, "lr_reported", &prev, &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "live response: %s", err);
		goto out;
	}
	info = mm_lr_agent_info(cfg);
	if (info == NULL) {
		if (prev == NULL) { /* off, and the coordinator knows */
			r = 0;
			goto out;
		}
		info = json_pack("{s:s}", "enabled", "0");
	}
	if (info == NULL || (text = json_dumps(info, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	report_hash(node_key, text, hash);
	if (prev != NULL && strcmp(prev, hash) == 0) {
		r = 0;
		goto out;
	}
	free(text);
	text = NULL;
	if ((body = json_pack("{s:s, s:O}", "node_key", node_key, "live_response", info)) == NULL ||
	    (text = json_dumps(body, JSON_COMPACT)) == NULL)
		goto out;
	if (mm_httpc_post(http, "/api/v1/mamori/hostkeys", text, strlen(text), 0, &status, &resp,
	                  &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "live response: host keys not reported: %s", err);
		goto out;
	}
	if (status != 200) {
		const char *e = json_string_value(json_object_get(resp, "error"));

		if (status != last_warned_status)
			mm_dlog(MM_DLOG_WARN, "live response: host keys refused (HTTP %ld): %s",
			        status, e != NULL ? e : "no reason given");
		last_warned_status = status;
		goto out;
	}
	last_warned_status = -1;
	free(err);
	err = NULL;
	if (mm_state_kv_set(st, "lr_reported", cfg->lr_enabled ? hash : NULL, &err) != 0) {
		mm_dlog(MM_DLOG_WARN, "live response: %s", err);
		goto out;
	}
	mm_dlog(MM_DLOG_INFO, "live response: %s reported to the coordinator (%zu host keys)",
	        cfg->lr_enabled ? "enabled and host keys" : "disabled",
	        json_array_size(json_object_get(info, "host_keys")));
	r = 0;
out:
	if (body != NULL && text != NULL)
		OPENSSL_cleanse(text, strlen(text)); /* holds the node key */
	free(text);
	free(prev);
	free(err);
	json_decref(info);
	json_decref(body);
	json_decref(resp);
	return r;
}
