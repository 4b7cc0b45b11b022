/*
 * lrsetup.c - the Live Response verbs of `mamori-server`:
 *
 *   lr-setup --config FILE [--pubkey]
 *       prints what a host needs to trust the coordinator's SSH user CA
 *       (the CA public key, the sshd_config lines, the agent's config
 *       section), making the CA key first when the configured file does not
 *       exist yet (coordinators set up before Live Response existed);
 *       --pubkey prints only the CA public key line.
 *   lr-cert --config FILE --public-key FILE --login NAME [--valid-from D]
 *           [--valid-for D] [--source-address CIDR] [--key-id TEXT]
 *       signs an ECDSA P-256 public key with the CA, printing the
 *       certificate line: to check a host's setup by hand with ssh(1), or to
 *       log in with a certificate when the coordinator cannot reach the
 *       host.  --valid-from is relative to now ("-1m", the default; "+0"),
 *       --valid-for a duration (default 5m).
 *
 * Exit codes as every verb: 0 ok, 1 failure, 2 usage or configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "config.h"
#include "error.h"
#include "fileio.h"
#include "lr.h"
#include "lrcert.h"
#include "server.h"
#include "strutil.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* The CA file of a config: live_response.ca_key, else lr_ca.key beside it. */
static char *ca_path(const struct mm_server_config *cfg, const char *config)
{
	const char *slash = strrchr(config, '/');
	char *p = NULL;

	if (cfg->lr.ca_key != NULL)
		return strdup(cfg->lr.ca_key);
	if (asprintf(&p, "%.*s%slr_ca.key", slash != NULL ? (int)(slash - config) : 0, config,
	             slash != NULL ? "/" : "") < 0)
		return NULL;
	return p;
}

static int load_config(const char *verb, const char *config, struct mm_server_config *cfg)
{
	char *err = NULL;

	if (config == NULL) {
		fprintf(stderr, "mamori-server: %s needs --config FILE\n", verb);
		return EXIT_USAGE;
	}
	if (mm_config_load(config, cfg, &err) != 0) {
		fprintf(stderr, "mamori-server: %s\n", err != NULL ? err : "bad configuration");
		free(err);
		return EXIT_USAGE;
	}
	return 0;
}

int mm_lr_cmd_setup(int argc, char **argv)
{
	struct mm_server_config cfg;
	const char *config = NULL;
	EVP_PKEY *key = NULL;
	char *path = NULL, *err = NULL, *line = NULL;
	struct stat sb;
	int i, only_pub = 0, rc = EXIT_FAIL, plain;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strcmp(argv[i], "--pubkey") == 0) {
			only_pub = 1;
		} else {
			fprintf(stderr, "mamori-server: lr-setup: unexpected '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if ((rc = load_config("lr-setup", config, &cfg)) != 0)
		return rc;
	rc = EXIT_FAIL;
	plain = cfg.lr.user_key != NULL;
	if (plain) {
		path = strdup(cfg.lr.user_key);
	} else if ((path = ca_path(&cfg, config)) != NULL && stat(path, &sb) != 0 &&
	           errno == ENOENT) {
		if (mm_lrcert_ca_create(path, 0, &err) != 0) {
			fprintf(stderr, "mamori-server: %s\n", err);
			goto out;
		}
		fprintf(stderr, "mamori-server: created the SSH user CA %s\n", path);
		if (cfg.lr.ca_key == NULL)
			fprintf(stderr,
			        "mamori-server: add to %s:\n  live_response:\n    enabled: true\n"
			        "    ca_key: lr_ca.key\n",
			        config);
	}
	if (path == NULL || mm_lrcert_ca_load(path, &key, &err) != 0) {
		fprintf(stderr, "mamori-server: %s\n", err != NULL ? err : "out of memory");
		goto out;
	}
	if ((line = mm_ssh_pubkey_line(key, plain ? "mamori-lr" : "mamori-lr-ca")) == NULL) {
		fprintf(stderr, "mamori-server: %s: not an ECDSA P-256 key\n", path);
		goto out;
	}
	if (!cfg.lr.enabled && !only_pub)
		fprintf(stderr,
		        "mamori-server: note: live_response.enabled is false in %s: sessions are "
		        "refused until it is true\n",
		        config);
	if (only_pub) {
		printf("%s\n", line);
	} else if (plain) {
		printf("# Mamori Live Response: host setup (plain key; see docs/live-response.md)\n"
		       "#\n"
		       "# 1. On each host, append this line to ~%s/.ssh/authorized_keys\n"
		       "#    (from=\"...\" should name the coordinator's address):\n"
		       "restrict,pty %s\n"
		       "#\n"
		       "# 2. Enable Live Response in the agent's configuration (mamori daemon):\n"
		       "live_response:\n"
		       "  enabled: true\n"
		       "  login: %s\n"
		       "  port: 22\n",
		       cfg.lr.login, line, cfg.lr.login);
	} else {
		printf("# Mamori Live Response: host setup (see docs/live-response.md)\n"
		       "#\n"
		       "# 1. On each host, as root, install the coordinator's SSH user CA:\n"
		       "cat > /etc/ssh/mamori_lr_ca.pub <<'EOF'\n"
		       "%s\n"
		       "EOF\n"
		       "#\n"
		       "# 2. Trust it: these lines in /etc/ssh/sshd_config.d/mamori-lr.conf,\n"
		       "#    then `sshd -t && systemctl reload ssh`:\n"
		       "TrustedUserCAKeys /etc/ssh/mamori_lr_ca.pub\n"
		       "%s"
		       "#\n"
		       "# 3. Enable Live Response in the agent's configuration (mamori daemon):\n"
		       "live_response:\n"
		       "  enabled: true\n"
		       "  login: %s\n"
		       "  port: 22\n",
		       line,
		       strcmp(cfg.lr.login, "root") == 0 ? "PermitRootLogin prohibit-password\n"
		                                         : "",
		       cfg.lr.login);
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	free(line);
	free(path);
	free(err);
	mm_config_free(&cfg);
	return rc;
}

/* "-10m", "+0", "30s" (a plain duration is in the future). */
static int parse_offset(const char *s, int64_t *secs)
{
	int64_t ms;
	int neg = s[0] == '-';

	if (s[0] == '-' || s[0] == '+')
		s++;
	if (mm_parse_duration_ms(s, &ms) != 0)
		return -1;
	*secs = (neg ? -ms : ms) / 1000;
	return 0;
}

int mm_lr_cmd_cert(int argc, char **argv)
{
	struct mm_server_config cfg;
	struct mm_lrcert_req req;
	struct mm_lrcert cert;
	const char *config = NULL, *pubfile = NULL, *login = NULL, *from = "-1m", *len = "5m",
	           *source = NULL, *key_id = "mamori-lr manual";
	EVP_PKEY *ca = NULL;
	char *path = NULL, *err = NULL, *text = NULL;
	size_t tlen = 0;
	int64_t off = 0, dur = 0, now = mm_now();
	int i, rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&cert, 0, sizeof(cert));
	for (i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (strcmp(argv[i], "--config") == 0)
			dst = &config;
		else if (strcmp(argv[i], "--public-key") == 0)
			dst = &pubfile;
		else if (strcmp(argv[i], "--login") == 0)
			dst = &login;
		else if (strcmp(argv[i], "--valid-from") == 0)
			dst = &from;
		else if (strcmp(argv[i], "--valid-for") == 0)
			dst = &len;
		else if (strcmp(argv[i], "--source-address") == 0)
			dst = &source;
		else if (strcmp(argv[i], "--key-id") == 0)
			dst = &key_id;
		if (dst == NULL || i + 1 >= argc) {
			fprintf(stderr, "mamori-server: lr-cert: unexpected '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
		*dst = argv[++i];
	}
	if (pubfile == NULL || login == NULL) {
		fprintf(stderr,
		        "mamori-server: lr-cert needs --public-key FILE and --login NAME\n");
		return EXIT_USAGE;
	}
	if (parse_offset(from, &off) != 0 || parse_offset(len, &dur) != 0 || dur <= 0) {
		fprintf(stderr, "mamori-server: lr-cert: bad --valid-from or --valid-for\n");
		return EXIT_USAGE;
	}
	if ((rc = load_config("lr-cert", config, &cfg)) != 0)
		return rc;
	rc = EXIT_FAIL;
	if ((path = ca_path(&cfg, config)) == NULL || mm_lrcert_ca_load(path, &ca, &err) != 0) {
		fprintf(stderr, "mamori-server: %s\n", err != NULL ? err : "out of memory");
		goto out;
	}
	if (mm_read_file(pubfile, MM_SSH_KEY_LINE_MAX, &text, &tlen) != 0) {
		fprintf(stderr, "mamori-server: %s: %s\n", pubfile, strerror(errno));
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.key_id = key_id;
	req.principal = login;
	req.source_address = source;
	req.valid_after = now + off;
	req.valid_before = now + off + dur;
	req.serial = (uint64_t)now;
	req.permit_pty = 1;
	if (mm_lrcert_sign_line(ca, text, &req, &cert, &err) != 0) {
		fprintf(stderr, "mamori-server: %s: %s\n", pubfile, err != NULL ? err : "?");
		goto out;
	}
	printf("%s\n", cert.cert_line);
	rc = 0;
out:
	mm_lrcert_clear(&cert);
	EVP_PKEY_free(ca);
	free(text);
	free(path);
	free(err);
	mm_config_free(&cfg);
	return rc;
}
