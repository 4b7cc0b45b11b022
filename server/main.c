/*
 * main.c - `mamori-server`, the coordinator: `init` makes a ready-to-run
 * directory (CA, server certificate, enroll secret, config, database with
 * one admin token), `run` serves the agent and operator APIs.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage or configuration error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "error.h"
#include "fileio.h"
#include "hosts.h"
#include "lr.h"
#include "lrcert.h"
#include "server.h"
#include "strutil.h"
#include "tlsgen.h"
#include "version.h"

#define EXIT_USAGE      2
#define NAMES_MAX       32
#define SECRET_FILE_MAX 4096
#define CA_DAYS         3650
#define SERVER_DAYS     730

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: mamori-server VERB [ARGS]\n"
	        "\n"
	        "verbs:\n"
	        "  init DIR [--name DNS-OR-IP]... [--listen ADDR:PORT] [--force]\n"
	        "           create DIR (mode 0700) with a CA, a server certificate for the names\n"
	        "           (default: localhost, 127.0.0.1 and this host's name), an enroll\n"
	        "           secret, mamori-server.yaml and a database holding one admin token,\n"
	        "           which is printed once; --force reuses a non-empty DIR, replacing\n"
	        "           its files and database\n"
	        "  run --config FILE [--port N]\n"
	        "           serve the agent and operator APIs; --port overrides the config's\n"
	        "           port (0 picks a free one); SIGTERM or SIGINT stop it cleanly\n"
	        "  lr-setup --config FILE [--pubkey]\n"
	        "           print what hosts need for Live Response (the SSH user CA to trust,\n"
	        "           sshd and agent settings), making the CA key if it is missing;\n"
	        "           --pubkey prints only the CA public key\n"
	        "  lr-cert --config FILE --public-key FILE --login NAME [--valid-from -1m]\n"
	        "          [--valid-for 5m] [--source-address CIDR] [--key-id TEXT]\n"
	        "           sign an ECDSA public key with the SSH user CA (checking a host by\n"
	        "           hand); prints the certificate line\n"
	        "  version  print the version\n"
	        "  help     this help\n");
}

/* ---- init -------------------------------------------------------------------------- */

static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0) {
		fprintf(stderr, "mamori-server: out of memory\n");
		exit(1);
	}
	return p;
}

/* 0 when dir is absent or empty, 1 when it holds something, -1 on error. */
static int dir_state(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int any = 0;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			any = 1;
			break;
		}
	closedir(d);
	return any;
}

/* Writes text to path with the given mode (replacing the file). */
static int write_private(const char *path, const char *text, mode_t mode)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)) < 0 ||
	    fchmod(fd, mode) != 0) {
		fprintf(stderr, "mamori-server: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	ok = fputs(text, f) != EOF;
	if (fclose(f) != 0 || !ok) {
		fprintf(stderr, "mamori-server: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct token_job {
	char hash[65];
	int64_t now;
};

static int insert_admin(sqlite3 *db, void *arg, char **err)
{
	struct token_job *t = arg;
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
	                       "INSERT INTO tokens(name, role, hash, created_at, created_by)"
	                       " VALUES('admin', 'admin', ?1, ?2, 'mamori-server init')",
	                       -1, &s, NULL) != SQLITE_OK) {
		*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
		return MM_ERR_SQL;
	}
	sqlite3_bind_text(s, 1, t->hash, 64, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, t->now);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : MM_ERR_SQL;
}

/* Makes the database with the schema and the admin token. */
static int init_db(const char *path, const char *token, char **err)
{
	static const char *const sidecars[] = {"", "-wal", "-shm", "-journal"};
	struct mm_store *store = NULL;
	struct token_job t;
	char side[4096];
	size_t i;
	int r;

	for (i = 0; i < sizeof(sidecars) / sizeof(sidecars[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", path, sidecars[i]);
		if (unlink(side) != 0 && errno != ENOENT) {
			if (asprintf(err, "%s: %s", side, strerror(errno)) < 0)
				*err = NULL;
			return MM_ERR_IO;
		}
	}
	if ((r = mm_store_open(path, NULL, &store, err)) != 0)
		return r;
	mm_sha256_hex(token, strlen(token), t.hash);
	t.now = mm_now();
	r = mm_store_run(store, insert_admin, &t, err);
	mm_store_close(store);
	if (r == 0 && chmod(path, 0600) != 0) {
		if (asprintf(err, "%s: %s", path, strerror(errno)) < 0)
			*err = NULL;
		r = MM_ERR_IO;
	}
	return r;
}

static int cmd_init(int argc, char **argv)
{
	const char *dir = NULL, *names[NAMES_MAX], *listen = "127.0.0.1:8443";
	char host[256], secret[65], token[4 + 64 + 1], *err = NULL, *yaml = NULL, *abs = NULL;
	char *ca = NULL, *cakey = NULL, *crt = NULL, *key = NULL, *sec = NULL, *db = NULL,
	     *cfg = NULL, *laddr = NULL, *lrkey = NULL;
	size_t nnames = 0;
	int i, force = 0, lport, rc = 1, st;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0) {
			force = 1;
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			if (nnames == NAMES_MAX) {
				fprintf(stderr, "mamori-server: at most %d names\n", NAMES_MAX);
				return EXIT_USAGE;
			}
			names[nnames++] = argv[++i];
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen = argv[++i];
		} else if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr, "mamori-server: init: unexpected '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "mamori-server: init needs a directory\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (mm_config_parse_listen(listen, &laddr, &lport) != 0) {
		fprintf(stderr, "mamori-server: --listen '%s' is not ADDRESS:PORT\n", listen);
		return EXIT_USAGE;
	}
	if (nnames == 0) {
		names[nnames++] = "localhost";
		names[nnames++] = "127.0.0.1";
		if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0' &&
		    strcmp(host, "localhost") != 0)
			names[nnames++] = host;
	}
	if ((st = dir_state(dir)) < 0) {
		fprintf(stderr, "mamori-server: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if (st == 1 && !force) {
		fprintf(stderr,
		        "mamori-server: %s is not empty (use --force to replace its files)\n", dir);
		goto out;
	}
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || chmod(dir, 0700) != 0) {
		fprintf(stderr, "mamori-server: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	ca = path_in(dir, "ca.pem");
	cakey = path_in(dir, "ca.key");
	crt = path_in(dir, "server.pem");
	key = path_in(dir, "server.key");
	sec = path_in(dir, "enroll_secret");
	db = path_in(dir, "mamori.db");
	cfg = path_in(dir, "mamori-server.yaml");
	lrkey = path_in(dir, "lr_ca.key");
	if (mm_tls_make_ca(ca, cakey, "Mamori CA", CA_DAYS, &err) != 0 ||
	    mm_tls_make_server(ca, cakey, crt, key, names, nnames, SERVER_DAYS, &err) != 0 ||
	    mm_lrcert_ca_create(lrkey, 1, &err) != 0) {
		fprintf(stderr, "mamori-server: %s\n", err != NULL ? err : "TLS setup failed");
		goto out;
	}
	if (mm_random_hex(secret, 32) != 0 || mm_random_hex(token + 4, 32) != 0) {
		fprintf(stderr, "mamori-server: no randomness\n");
		goto out;
	}
	memcpy(token, "mmt_", 4);
	{
		char line[80];

		snprintf(line, sizeof(line), "%s\n", secret);
		if (write_private(sec, line, 0600) != 0)
			goto out;
		OPENSSL_cleanse(line, sizeof(line));
	}
	if (init_db(db, token, &err) != 0) {
		fprintf(stderr, "mamori-server: %s\n", err != NULL ? err : "database setup failed");
		goto out;
	}
	if (asprintf(&yaml,
	             "# mamori-server configuration (made by mamori-server init).\n"
	             "# Relative paths are relative to this file's directory.\n"
	             "listen: %s\n"
	             "tls:\n"
	             "  cert: server.pem\n"
	             "  key: server.key\n"
	             "database: mamori.db\n"
	             "results_log: results.log\n"
	             "enroll_secret_file: enroll_secret\n"
	             "max_body: 8MiB\n"
	             "timeout: 60s\n"
	             "online_margin: 60s\n"
	             "enroll_rate_per_min: 30\n"
	             "store_queue_max: 10000\n"
	             "live_response:                  # docs/live-response.md\n"
	             "  enabled: true\n"
	             "  ca_key: lr_ca.key              # SSH user CA: mamori-server lr-setup\n",
	             listen) < 0 ||
	    write_private(cfg, yaml, 0600) != 0)
		goto out;
	abs = realpath(dir, NULL);
	printf("Created %s\n"
	       "\n"
	       "Admin token (shown only now; store it safely):\n"
	       "  %s\n"
	       "\n"
	       "Next steps:\n"
	       "  run the coordinator:   mamori-server run --config %s/mamori-server.yaml\n"
	       "  log in as operator:    mamorictl login --server https://%s%s%s:%d"
	       " --ca %s/ca.pem\n"
	       "                         (it asks for the token; or MAMORI_TOKEN=TOKEN)\n"
	       "  enroll agents with:    the CA file %s/ca.pem and the secret in %s/enroll_secret\n"
	       "                         (osquery: --tls_server_certs=ca.pem"
	       " --enroll_secret_path=enroll_secret\n"
	       "                          --enroll_tls_endpoint=/api/v1/osquery/enroll ...)\n"
	       "  Live Response hosts:   mamori-server lr-setup --config %s/mamori-server.yaml\n"
	       "                         prints what each host's sshd and agent need\n",
	       abs != NULL ? abs : dir, token, abs != NULL ? abs : dir,
	       strchr(laddr, ':') != NULL ? "[" : "", laddr, strchr(laddr, ':') != NULL ? "]" : "",
	       lport, abs != NULL ? abs : dir, abs != NULL ? abs : dir, abs != NULL ? abs : dir,
	       abs != NULL ? abs : dir);
	fflush(stdout);
	rc = 0;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(token, sizeof(token));
	free(err);
	free(yaml);
	free(abs);
	free(ca);
	free(cakey);
	free(crt);
	free(key);
	free(sec);
	free(db);
	free(cfg);
	free(laddr);
	free(lrkey);
	return rc;
}

/* ---- run ---------------------------------------------------------------------------- */

static struct mm_http_server *g_http;

static void on_signal(int sig)
{
	(void)sig;
	if (g_http != NULL)
		mm_http_stop(g_http);
}

/* The store's precommit hook: result lines written by this group's jobs
 * reach the file before the COMMIT, hence before any agent is told "ok". */
static int flush_results(void *arg, char **err)
{
	FILE *f = arg;

	if (fflush(f) != 0 || ferror(f)) {
		*err = sqlite3_mprintf("results file: %s", strerror(errno));
		clearerr(f);
		return MM_ERR_IO;
	}
	return 0;
}

static int load_secret(struct mm_server *srv, char **err)
{
	struct stat sb;
	char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = mm_read_file(srv->cfg.enroll_secret_file, SECRET_FILE_MAX, &data, &len)) != 0) {
		if (asprintf(err, "%s: %s", srv->cfg.enroll_secret_file,
		             r == MM_ERR_TOOBIG ? "larger than 4 KiB" : strerror(errno)) < 0)
			*err = NULL;
		return r;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' ' ||
	                   data[len - 1] == '\t'))
		data[--len] = '\0';
	if (len == 0) {
		free(data);
		if (asprintf(err, "%s: the enroll secret is empty", srv->cfg.enroll_secret_file) <
		    0)
			*err = NULL;
		return MM_ERR_PARSE;
	}
	if (stat(srv->cfg.enroll_secret_file, &sb) == 0 && (sb.st_mode & 077) != 0)
		fprintf(stderr, "mamori-server: warning: %s is readable by other users\n",
		        srv->cfg.enroll_secret_file);
	srv->enroll_secret = data;
	srv->enroll_secret_len = len;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct mm_server srv;
	struct mm_http_config hc;
	struct sigaction sa;
	const char *config = NULL;
	char *err = NULL;
	int64_t port = -1;
	int i, rc = 1;

	memset(&srv, 0, sizeof(srv));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			if (mm_parse_i64(argv[++i], &port) != 0 || port < 0 || port > 65535) {
				fprintf(stderr, "mamori-server: --port '%s' is not a port\n",
				        argv[i]);
				return EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "mamori-server: run: unexpected '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (config == NULL) {
		fprintf(stderr, "mamori-server: run needs --config FILE\n");
		return EXIT_USAGE;
	}
	if (mm_config_load(config, &srv.cfg, &err) != 0) {
		fprintf(stderr, "mamori-server: %s\n", err != NULL ? err : "bad configuration");
		free(err);
		return EXIT_USAGE;
	}
	if (port >= 0)
		srv.cfg.port = (int)port;
	if (load_secret(&srv, &err) != 0)
		goto fail;
	memset(&hc, 0, sizeof(hc));
	hc.address = srv.cfg.listen_address;
	hc.port = srv.cfg.port;
	hc.cert_file = srv.cfg.tls_cert;
	hc.key_file = srv.cfg.tls_key;
	hc.max_body_size = (size_t)srv.cfg.max_body;
	hc.timeout_s = srv.cfg.timeout_s;
	if (mm_http_server_new(&hc, &srv.http, &err) != 0 ||
	    mm_store_open(srv.cfg.database, srv.http, &srv.store, &err) != 0)
		goto fail;
	mm_store_set_queue_max(srv.store, (uint64_t)srv.cfg.store_queue_max);
	if (srv.cfg.results_log != NULL) {
		/* Results can be sensitive: a new file is readable by the owner only. */
		int fd = open(srv.cfg.results_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0 || (srv.results_log = fdopen(fd, "a")) == NULL) {
			if (fd >= 0)
				close(fd);
			if (asprintf(&err, "%s: %s", srv.cfg.results_log, strerror(errno)) < 0)
				err = NULL;
			goto fail;
		}
		mm_store_set_precommit(srv.store, flush_results, srv.results_log);
	}
	if (mm_hosts_new(&srv.hosts) != 0 ||
	    mm_hosts_load(srv.hosts, mm_store_reader(srv.store), &err) != 0)
		goto fail;
	srv.started_at = mm_now();
	srv.config_gen = 1;
	if (mm_api_mount(&srv) != 0 || mm_hosts_start_flush(&srv) != 0) {
		err = strdup("cannot mount the API");
		goto fail;
	}
	if (mm_lr_start(&srv, &err) != 0)
		goto fail;
	g_http = srv.http;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "mamori-server %s: listening on %s://%s%s%s:%d (%zu hosts)\n", MM_VERSION,
	        srv.cfg.tls_cert != NULL ? "https" : "http",
	        strchr(srv.cfg.listen_address, ':') != NULL ? "[" : "", srv.cfg.listen_address,
	        strchr(srv.cfg.listen_address, ':') != NULL ? "]" : "", mm_http_port(srv.http),
	        mm_hosts_count(srv.hosts));
	mm_http_run(srv.http);
	{
		struct mm_store_stats st;

		mm_store_stats(srv.store, &st);
		fprintf(stderr,
		        "mamori-server: stopping (store: %llu jobs in %llu commits, %llu"
		        " queued)\n",
		        (unsigned long long)st.jobs, (unsigned long long)st.commits,
		        (unsigned long long)st.queue_len);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "mamori-server: %s\n", err != NULL ? err : "cannot start");
	rc = 1;
out:
	/* Live Response sessions end and are recorded while the store is open. */
	mm_lr_stop(&srv);
	/* Last check-ins, then every queued job commits before exit. */
	if (srv.store != NULL && srv.hosts != NULL)
		mm_hosts_flush_all(&srv);
	mm_store_close(srv.store);
	srv.store = NULL; /* done callbacks still run in mm_http_server_free */
	g_http = NULL;
	mm_http_server_free(srv.http);
	if (srv.results_log != NULL)
		fclose(srv.results_log);
	mm_hosts_free(srv.hosts);
	if (srv.enroll_secret != NULL)
		OPENSSL_cleanse(srv.enroll_secret, srv.enroll_secret_len);
	free(srv.enroll_secret);
	mm_config_free(&srv.cfg);
	free(err);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "lr-setup") == 0)
		return mm_lr_cmd_setup(argc - 1, argv + 1);
	if (strcmp(argv[1], "lr-cert") == 0)
		return mm_lr_cmd_cert(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mamori-server %s\n", MM_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "mamori-server: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
