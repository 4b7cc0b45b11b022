/*
 * main.c - mamori-load: simulate many osquery agents against mamori-server
 * on loopback and report what the coordinator sustained.
 *
 *   mamori-load --url https://127.0.0.1:PORT --ca CA.pem --enroll-secret-file F
 *               [--agents N] [--connections C] [--threads T] [--duration S]
 *               [--requests R] [--interval S] [--mix SPEC] [--server-pid PID] [--json]
 *
 * The main thread parses options, starts the workers (worker.c), runs the
 * phases (enroll everyone, then check in for --duration), samples the
 * coordinator's /proc entries while they run, and prints the report.  Exit
 * status: 0 when every request succeeded, 1 when any failed (or a phase
 * did not finish), 2 for bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "error.h"
#include "fileio.h"
#include "load.h"
#include "strutil.h"

#define SAMPLE_US 200000 /* /proc sampling period */
#define POLL_US   20000  /* main thread's phase checks */

static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: mamori-load --url https://127.0.0.1:PORT --ca FILE --enroll-secret-file FILE\n"
	    "                   [options]\n"
	    "Simulates osquery agents against mamori-server on loopback: every agent enrolls,\n"
	    "then the agents check in over shared TLS keep-alive connections.\n"
	    "\n"
	    "  --agents N              simulated agents (default 100)\n"
	    "  --connections C         keep-alive connections shared by the agents\n"
	    "                          (default min(N, 256))\n"
	    "  --threads T             generator threads, one epoll loop each (default 2)\n"
	    "  --duration S            length of the check-in phase (default 10s)\n"
	    "  --requests R            stop after R check-ins (default: no cap)\n"
	    "  --interval S            each agent's check-in period; 0 = as fast as possible,\n"
	    "                          each connection sending its next request when the\n"
	    "                          previous response arrives (default 0)\n"
	    "  --mix SPEC              what a check-in is: \"read\" (distributed/read only) or\n"
	    "                          config=N,log=N,lines=N: every Nth check-in of an agent a\n"
	    "                          /config, else every Nth a /log with `lines` result lines,\n"
	    "                          else a /distributed/read (default config=10,log=4,lines=3)\n"
	    "  --mamori-seq            send \"mamori_seq\" with /log (Mamori agents; osquery does "
	    "not)\n"
	    "  --host-prefix P         host identifiers are P000000, P000001, ... (default load-)\n"
	    "  --timeout S             per request, and per connect + handshake (default 10s)\n"
	    "  --enroll-timeout S      cap on the whole enroll phase (default 120s)\n"
	    "  --enroll-concurrency E  connections enrolling at once (default min(C, 64))\n"
	    "  --server-pid PID        sample the coordinator's RSS and CPU from /proc/PID\n"
	    "  --json                  print the summary as one JSON object\n"
	    "  --mode longpoll         one TLS connection per agent holding a long-poll\n"
	    "                          distributed/read (\"mamori_wait\"); each live query\n"
	    "                          received is answered with one row {\"x\": \"1\"}\n"
	    "  --wait S                mamori_wait of each long-poll read (default 60s)\n"
	    "  --run-queries N         with --mode longpoll: start N live queries on all hosts,\n"
	    "                          one after another, and time each until done\n"
	    "  --admin-token-file F    operator token for --run-queries\n"
	    "  --sql SQL               the live query (default SELECT 1 AS x)\n"
	    "Durations take a unit (250ms, 20s, 2m) or are seconds.  Only loopback addresses\n"
	    "are accepted.  Exit status: 0 no errors, 1 errors, 2 bad usage.\n");
}

/* ---- option parsing ---------------------------------------------------------- */

static int parse_int(const char *what, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	if (mm_parse_i64(s, out) != 0 || *out < lo || *out > hi) {
		fprintf(stderr, "mamori-load: %s: expected a number in [%lld, %lld], got \"%s\"\n",
		        what, (long long)lo, (long long)hi, s);
		return MM_ERR_USAGE;
	}
	return 0;
}

static int parse_dur(const char *what, const char *s, int64_t lo_ms, int64_t *ms)
{
	if (mm_parse_duration_ms(s, ms) != 0 || *ms < lo_ms || *ms > 7 * 24 * 3600 * 1000LL) {
		fprintf(stderr, "mamori-load: %s: bad duration \"%s\"\n", what, s);
		return MM_ERR_USAGE;
	}
	return 0;
}

/* https://HOST[:PORT][/] where HOST is 127.x.y.z, [::1] or localhost. */
static int parse_url(struct ld_opts *o, const char *url)
{
	const char *p, *hs, *he;
	char host[64], port[16];
	int64_t pn = 443;

	if (!mm_startswith(url, "https://")) {
		fprintf(stderr, "mamori-load: --url must start with https://\n");
		return MM_ERR_USAGE;
	}
	p = url + 8;
	if (*p == '[') {
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL)
			goto bad;
		p = he + 1;
	} else {
		hs = p;
		he = p + strcspn(p, ":/");
		p = he;
	}
	if ((size_t)(he - hs) == 0 || (size_t)(he - hs) >= sizeof(host))
		goto bad;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	if (*p == ':') {
		size_t n = strcspn(p + 1, "/");
		if (n == 0 || n >= sizeof(port))
			goto bad;
		memcpy(port, p + 1, n);
		port[n] = '\0';
		if (mm_parse_i64(port, &pn) != 0 || pn < 1 || pn > 65535)
			goto bad;
		p += 1 + n;
	}
	if (strcmp(p, "") != 0 && strcmp(p, "/") != 0)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");

	memset(&o->addr, 0, sizeof(o->addr));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&o->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&o->addr;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			goto not_loopback;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pn);
		o->addrlen = sizeof(*s4);
		snprintf(o->hostport, sizeof(o->hostport), "%s:%d", host, (int)pn);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			goto not_loopback;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pn);
		o->addrlen = sizeof(*s6);
		snprintf(o->hostport, sizeof(o->hostport), "[%s]:%d", host, (int)pn);
	} else {
		goto not_loopback;
	}
	snprintf(o->host, sizeof(o->host), "%s", host);
	o->port = (int)pn;
	return 0;
bad:
	fprintf(stderr, "mamori-load: cannot parse --url \"%s\"\n", url);
	return MM_ERR_USAGE;
not_loopback:
	fprintf(stderr,
	        "mamori-load: refusing %s: only loopback addresses (127.0.0.0/8, ::1, localhost)\n",
	        host);
	return MM_ERR_USAGE;
}

/* config=N,log=N,lines=N or "read". */
static int parse_mix(struct ld_opts *o, const char *spec)
{
	char copy[128], *f[8];
	int n;

	if (strcmp(spec, "read") == 0) {
		o->config_every = o->log_every = 0;
		return 0;
	}
	if (strlen(spec) >= sizeof(copy))
		goto bad;
	snprintf(copy, sizeof(copy), "%s", spec);
	n = mm_split_char(copy, ',', f, 8);
	for (int i = 0; i < n; i++) {
		char *eq = strchr(f[i], '=');
		int64_t v;
		if (eq == NULL)
			goto bad;
		*eq = '\0';
		if (strcmp(f[i], "config") == 0 &&
		    parse_int("--mix config", eq + 1, 0, 1000000, &v) == 0)
			o->config_every = (int)v;
		else if (strcmp(f[i], "log") == 0 &&
		         parse_int("--mix log", eq + 1, 0, 1000000, &v) == 0)
			o->log_every = (int)v;
		else if (strcmp(f[i], "lines") == 0 &&
		         parse_int("--mix lines", eq + 1, 1, 1000, &v) == 0)
			o->log_lines = (int)v;
		else
			goto bad;
	}
	return 0;
bad:
	fprintf(stderr,
	        "mamori-load: --mix: expected \"read\" or config=N,log=N,lines=N, got \"%s\"\n",
	        spec);
	return MM_ERR_USAGE;
}

static int prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_' || p[i] == '.'))
			return 0;
	return 1;
}

enum {
	OPT_URL = 256,
	OPT_CA,
	OPT_SECRET,
	OPT_AGENTS,
	OPT_CONNS,
	OPT_THREADS,
	OPT_DURATION,
	OPT_REQUESTS,
	OPT_INTERVAL,
	OPT_MIX,
	OPT_SEQ,
	OPT_PREFIX,
	OPT_TIMEOUT,
	OPT_ENROLL_TIMEOUT,
	OPT_ENROLL_CONC,
	OPT_PID,
	OPT_JSON,
	OPT_HELP,
	OPT_MODE,
	OPT_WAIT,
	OPT_RUNQ,
	OPT_TOKEN,
	OPT_SQL,
};

static int parse_opts(int argc, char **argv, struct ld_opts *o)
{
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, OPT_URL},
	    {"ca", required_argument, NULL, OPT_CA},
	    {"enroll-secret-file", required_argument, NULL, OPT_SECRET},
	    {"agents", required_argument, NULL, OPT_AGENTS},
	    {"connections", required_argument, NULL, OPT_CONNS},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"requests", required_argument, NULL, OPT_REQUESTS},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"mix", required_argument, NULL, OPT_MIX},
	    {"mamori-seq", no_argument, NULL, OPT_SEQ},
	    {"host-prefix", required_argument, NULL, OPT_PREFIX},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"enroll-timeout", required_argument, NULL, OPT_ENROLL_TIMEOUT},
	    {"enroll-concurrency", required_argument, NULL, OPT_ENROLL_CONC},
	    {"server-pid", required_argument, NULL, OPT_PID},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"mode", required_argument, NULL, OPT_MODE},
	    {"wait", required_argument, NULL, OPT_WAIT},
	    {"run-queries", required_argument, NULL, OPT_RUNQ},
	    {"admin-token-file", required_argument, NULL, OPT_TOKEN},
	    {"sql", required_argument, NULL, OPT_SQL},
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL;
	int64_t v, conns = -1, econc = -1, wait_ms = 60000;
	int dur_set = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->agents = 100;
	o->threads = 2;
	o->duration_ms = 10000;
	o->timeout_ms = 10000;
	o->enroll_timeout_ms = 120000;
	o->config_every = 10;
	o->log_every = 4;
	o->log_lines = 3;
	o->host_prefix = "load-";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case OPT_URL: url = optarg; break;
		case OPT_CA: o->ca_file = optarg; break;
		case OPT_SECRET: o->secret_file = optarg; break;
		case OPT_AGENTS:
			r = parse_int("--agents", optarg, 1, LD_MAX_AGENTS, &v);
			o->agents = (int)v;
			break;
		case OPT_CONNS:
			r = parse_int("--connections", optarg, 1, LD_MAX_CONNS, &conns);
			break;
		case OPT_THREADS:
			r = parse_int("--threads", optarg, 1, LD_MAX_THREADS, &v);
			o->threads = (int)v;
			break;
		case OPT_DURATION:
			r = parse_dur("--duration", optarg, 1, &o->duration_ms);
			dur_set = 1;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "longpoll") == 0) {
				o->longpoll = 1;
			} else if (strcmp(optarg, "checkin") != 0) {
				fprintf(stderr, "mamori-load: --mode: checkin or longpoll\n");
				r = MM_ERR_USAGE;
			}
			break;
		case OPT_WAIT: r = parse_dur("--wait", optarg, 1000, &wait_ms); break;
		case OPT_RUNQ:
			r = parse_int("--run-queries", optarg, 1, 10000, &v);
			o->run_queries = (int)v;
			break;
		case OPT_TOKEN: o->admin_token_file = optarg; break;
		case OPT_SQL: o->query_sql = optarg; break;
		case OPT_REQUESTS:
			r = parse_int("--requests", optarg, 1, INT64_MAX / 2, &o->max_requests);
			break;
		case OPT_INTERVAL: r = parse_dur("--interval", optarg, 0, &o->interval_ms); break;
		case OPT_MIX: r = parse_mix(o, optarg); break;
		case OPT_SEQ: o->mamori_seq = 1; break;
		case OPT_PREFIX:
			if (!prefix_ok(optarg)) {
				fprintf(stderr,
				        "mamori-load: --host-prefix: 1-32 of [A-Za-z0-9._-]\n");
				r = MM_ERR_USAGE;
			}
			o->host_prefix = optarg;
			break;
		case OPT_TIMEOUT: r = parse_dur("--timeout", optarg, 1, &o->timeout_ms); break;
		case OPT_ENROLL_TIMEOUT:
			r = parse_dur("--enroll-timeout", optarg, 1, &o->enroll_timeout_ms);
			break;
		case OPT_ENROLL_CONC:
			r = parse_int("--enroll-concurrency", optarg, 1, LD_MAX_CONNS, &econc);
			break;
		case OPT_PID:
			r = parse_int("--server-pid", optarg, 1, INT32_MAX, &v);
			o->server_pid = (pid_t)v;
			break;
		case OPT_JSON: o->json = 1; break;
		case OPT_HELP: usage(stdout); exit(0);
		default: usage(stderr); return MM_ERR_USAGE;
		}
		if (r != 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "mamori-load: unexpected argument \"%s\"\n", argv[optind]);
		return MM_ERR_USAGE;
	}
	if (url == NULL || o->ca_file == NULL || o->secret_file == NULL) {
		fprintf(stderr, "mamori-load: --url, --ca and --enroll-secret-file are required\n");
		usage(stderr);
		return MM_ERR_USAGE;
	}
	if (parse_url(o, url) != 0)
		return MM_ERR_USAGE;
	o->wait_s = wait_ms / 1000;
	if (o->query_sql == NULL)
		o->query_sql = "SELECT 1 AS x";
	if (o->run_queries > 0 && (!o->longpoll || o->admin_token_file == NULL)) {
		fprintf(stderr, "mamori-load: --run-queries needs --mode longpoll and "
		                "--admin-token-file\n");
		return MM_ERR_USAGE;
	}
	if (o->longpoll) {
		/* One connection per agent: a parked read holds its connection. */
		if (o->agents > LD_MAX_CONNS) {
			fprintf(stderr, "mamori-load: --mode longpoll: at most %d agents\n",
			        LD_MAX_CONNS);
			return MM_ERR_USAGE;
		}
		conns = o->agents;
		o->interval_ms = 0;
		if (!dur_set)
			o->duration_ms = 300000; /* a cap: the driver ends the run */
	}
	o->connections = conns > 0 ? (int)conns : (o->agents < 256 ? o->agents : 256);
	if (o->connections > o->agents)
		o->connections = o->agents; /* a connection with no agent has nothing to do */
	if (o->threads > o->connections)
		o->threads = o->connections;
	o->enroll_concurrency = econc > 0 ? (int)econc : 64;
	if (o->enroll_concurrency > o->connections)
		o->enroll_concurrency = o->connections;
	if (o->enroll_concurrency < o->threads)
		o->enroll_concurrency =
		    o->threads; /* every thread needs one enrolling connection */
	struct timeval tv;
	gettimeofday(&tv, NULL);
	o->seq_base = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	return 0;
}

/* ---- set-up -------------------------------------------------------------------- */

/* Raises RLIMIT_NOFILE so every connection gets a descriptor. */
static int raise_fd_limit(int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return MM_ERR_IO;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need) {
			fprintf(stderr,
			        "mamori-load: %d connections need %d file descriptors; the hard "
			        "limit is "
			        "%llu (ulimit -Hn)\n",
			        need - 64, need, (unsigned long long)rl.rlim_max);
			return MM_ERR_LIMIT;
		}
		rl.rlim_cur = (rlim_t)need;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return MM_ERR_IO;
	}
	return 0;
}

/* Reads the enroll secret and stores it as a JSON string literal in
 * run->secret_json; the file's bytes are wiped. */
static int load_secret(struct ld_run *run, const char *path)
{
	char *data = NULL, *s;
	size_t len = 0;
	struct mm_buf b;
	int r;

	mm_buf_init(&b, 64 * 1024);
	if ((r = mm_read_file(path, 4096, &data, &len)) != 0) {
		fprintf(stderr, "mamori-load: cannot read the enroll secret %s: %s\n", path,
		        r == MM_ERR_IO ? strerror(errno) : mm_strerror(r));
		goto out;
	}
	s = mm_trim(data);
	if (*s == '\0') {
		fprintf(stderr, "mamori-load: %s: the enroll secret is empty\n", path);
		r = MM_ERR_PARSE;
		goto out;
	}
	r = mm_buf_addc(&b, '"');
	for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			r = mm_buf_addf(&b, "\\%c", *p);
		else if (*p < 0x20)
			r = mm_buf_addf(&b, "\\u%04x", *p);
		else
			r = mm_buf_addc(&b, (char)*p);
	}
	if (r == 0)
		r = mm_buf_addc(&b, '"');
	if (r == 0) {
		run->secret_json = mm_buf_take(&b);
		if (run->secret_json == NULL)
			r = MM_ERR_NOMEM;
	}
out:
	if (data != NULL)
		OPENSSL_cleanse(data, len);
	free(data);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.alloc);
	mm_buf_free(&b);
	return r;
}

static SSL_CTX *make_ctx(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* One read(2) per record instead of header + body: the generator must be
	 * cheap.  Safe with level-triggered epoll because a connection reads until
	 * WANT_READ, except after a complete response, when nothing else is due. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		fprintf(stderr, "mamori-load: cannot load the CA %s: %s\n", ca_file, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- the run ---------------------------------------------------------------------- */

struct sampler {
	pid_t pid;
	int ok; /* the last sample worked */
	uint64_t peak_rss_kb;
	uint64_t hwm_kb;
	int64_t next_us;
};

static void sample(struct sampler *s, int64_t now, struct ld_proc_sample *out)
{
	struct ld_proc_sample ps;

	if (s->pid == 0 || (out == NULL && now < s->next_us))
		return;
	s->next_us = now + SAMPLE_US;
	if (ld_proc_sample(s->pid, &ps) != 0) {
		s->ok = 0;
		if (out != NULL)
			memset(out, 0, sizeof(*out));
		return;
	}
	s->ok = 1;
	if (ps.rss_kb > s->peak_rss_kb)
		s->peak_rss_kb = ps.rss_kb;
	if (ps.hwm_kb > s->hwm_kb)
		s->hwm_kb = ps.hwm_kb;
	if (out != NULL)
		*out = ps;
}

static void nap(void)
{
	struct timespec ts = {0, POLL_US * 1000};

	nanosleep(&ts, NULL);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

struct report {
	int aborted; /* a phase was cut short */
	const char *why;
	int64_t enrolled; /* agents holding a key after the enroll phase */
	double enroll_s, checkin_s;
	struct ld_counts sum;
	uint64_t checkins, checkins_ok, errors;
	double rate;
	double server_cpu; /* percent of one core, -1 unknown */
	double gen_cpu;
	double machine_cpu; /* whole machine, percent of one core, -1 unknown */
	struct sampler smp;
	struct ld_live_report live; /* --run-queries */
	int live_failed;
};

static void print_text(const struct ld_opts *o, const struct report *rp)
{
	const struct ld_counts *s = &rp->sum;

	printf("mamori-load: %d agents, %d connections, %d threads, https://%s\n", o->agents,
	       o->connections, o->threads, o->hostport);
	if (o->longpoll)
		printf(
		    "  mode: long poll (one connection per agent, mamori_wait %lld), live queries "
		    "answered with one row (latency below: parked reads included)",
		    (long long)o->wait_s);
	else if (o->config_every == 0 && o->log_every == 0)
		printf("  mix: distributed/read only");
	else
		printf("  mix: config every %d, log every %d (%d lines), else distributed/read",
		       o->config_every, o->log_every, o->log_lines);
	if (o->interval_ms > 0)
		printf("; each agent every %.3f s\n", o->interval_ms / 1000.0);
	else
		printf("; closed loop\n");
	printf("enroll:     %lld/%d agents in %.2f s (%.0f/s), latency p50 %.2f ms, p99 %.2f ms, "
	       "max %.2f ms\n",
	       (long long)rp->enrolled, o->agents, rp->enroll_s,
	       rp->enroll_s > 0 ? (double)s->enroll_ok / rp->enroll_s : 0.0,
	       ms(ld_hist_quantile(&s->enroll_lat, 0.5)),
	       ms(ld_hist_quantile(&s->enroll_lat, 0.99)), ms(s->enroll_lat.max));
	printf("check-in:   %.2f s, %" PRIu64 " check-ins (read %" PRIu64 ", config %" PRIu64
	       ", log %" PRIu64 ", re-enroll %" PRIu64 "), %" PRIu64 " ok\n",
	       rp->checkin_s, rp->checkins, s->sent[LD_R_READ], s->sent[LD_R_CONFIG],
	       s->sent[LD_R_LOG], s->sent[LD_R_ENROLL], rp->checkins_ok);
	printf("rate:       %.0f check-ins/s\n", rp->rate);
	printf("latency:    p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       ms(ld_hist_quantile(&s->lat, 0.5)), ms(ld_hist_quantile(&s->lat, 0.9)),
	       ms(ld_hist_quantile(&s->lat, 0.99)), ms(s->lat.max));
	printf("errors:     %" PRIu64 " (", rp->errors);
	for (int i = 0; i < LD_E_COUNT; i++)
		printf("%s%s %" PRIu64, i ? ", " : "", ld_err_names[i], s->errors[i]);
	printf(")%s%s\n", rp->aborted ? "; ABORTED: " : "", rp->aborted ? rp->why : "");
	if (o->server_pid > 0) {
		if (rp->server_cpu >= 0)
			printf("server:     pid %d, peak RSS %.1f MiB (VmHWM %.1f MiB), mean CPU "
			       "%.1f%% "
			       "of one core\n",
			       (int)o->server_pid, rp->smp.peak_rss_kb / 1024.0,
			       rp->smp.hwm_kb / 1024.0, rp->server_cpu);
		else
			printf("server:     pid %d: peak RSS %.1f MiB, CPU not measured (%s)\n",
			       (int)o->server_pid, rp->smp.peak_rss_kb / 1024.0,
			       rp->aborted ? "no check-in phase" : "/proc unreadable");
	}
	printf("generator:  mean CPU %.1f%% of one core\n", rp->gen_cpu);
	if (o->run_queries > 0) {
		const struct ld_live_report *l = &rp->live;
		printf("live:       %d/%d queries done with every online host answered (online "
		       "%d..%d), "
		       "agents parked after %.2f s%s%s\n",
		       l->done_all, o->run_queries, l->online_min, l->online_max, l->park_s,
		       l->why != NULL ? "; FAILED: " : "", l->why != NULL ? l->why : "");
		printf(
		    "            start to done: p50 %.1f ms, p95 %.1f ms, min %.1f ms, max %.1f ms "
		    "(coordinator's elapsed_ms p50 %.0f, p95 %.0f)\n",
		    l->p50_ms, l->p95_ms, l->min_ms, l->max_ms, l->srv_p50_ms, l->srv_p95_ms);
		if (o->server_pid > 0)
			printf(
			    "            coordinator during the queries: CPU %.1f%% of one core, "
			    "RSS %.1f MiB, VmHWM %.1f MiB\n",
			    l->server_cpu, l->rss_kb / 1024.0, l->hwm_kb / 1024.0);
	}
	if (rp->machine_cpu >= 0)
		printf("machine:    %.1f%% of one core busy in all (%ld cores), %.1f%% by other "
		       "processes\n",
		       rp->machine_cpu, sysconf(_SC_NPROCESSORS_ONLN),
		       rp->machine_cpu - rp->gen_cpu - (rp->server_cpu > 0 ? rp->server_cpu : 0));
}

static int print_json(const struct ld_opts *o, const struct report *rp)
{
	const struct ld_counts *s = &rp->sum;
	json_t *errs = json_object(), *j;
	int r;

	for (int i = 0; i < LD_E_COUNT; i++)
		json_object_set_new(errs, ld_err_names[i], json_integer((json_int_t)s->errors[i]));
	json_object_set_new(errs, "total", json_integer((json_int_t)rp->errors));
	j = json_pack(
	    "{s:i, s:i, s:i, s:f, s:f, s:{s:i, s:i, s:i, s:s}, s:b, s:s?,"
	    " s:{s:I, s:I, s:f, s:f, s:f, s:f},"
	    " s:f, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:f,"
	    " s:{s:f, s:f, s:f, s:f, s:f}, s:o, s:I, s:I, s:f}",
	    "agents", o->agents, "connections", o->connections, "threads", o->threads, "duration_s",
	    o->duration_ms / 1000.0, "interval_s", o->interval_ms / 1000.0, "mix", "config_every",
	    o->config_every, "log_every", o->log_every, "log_lines", o->log_lines, "seq",
	    o->mamori_seq ? "mamori_seq" : "none", "aborted", rp->aborted, "aborted_why",
	    rp->aborted ? rp->why : NULL, "enroll", "agents", (json_int_t)o->agents, "enrolled",
	    (json_int_t)rp->enrolled, "seconds", rp->enroll_s, "per_second",
	    rp->enroll_s > 0 ? (double)s->enroll_ok / rp->enroll_s : 0.0, "p50_ms",
	    ms(ld_hist_quantile(&s->enroll_lat, 0.5)), "p99_ms",
	    ms(ld_hist_quantile(&s->enroll_lat, 0.99)), "checkin_seconds", rp->checkin_s,
	    "checkins", (json_int_t)rp->checkins, "checkins_ok", (json_int_t)rp->checkins_ok,
	    "by_kind", "read", (json_int_t)s->sent[LD_R_READ], "config",
	    (json_int_t)s->sent[LD_R_CONFIG], "log", (json_int_t)s->sent[LD_R_LOG], "enroll",
	    (json_int_t)s->sent[LD_R_ENROLL], "checkins_per_second", rp->rate, "latency_ms", "p50",
	    ms(ld_hist_quantile(&s->lat, 0.5)), "p90", ms(ld_hist_quantile(&s->lat, 0.9)), "p99",
	    ms(ld_hist_quantile(&s->lat, 0.99)), "max", ms(s->lat.max), "mean",
	    s->lat.count ? ms(s->lat.sum / s->lat.count) : 0.0, "errors", errs, "reconnects",
	    (json_int_t)s->reconnects, "queries_seen", (json_int_t)s->queries_seen,
	    "generator_cpu_percent", rp->gen_cpu);
	if (j == NULL)
		return MM_ERR_NOMEM;
	json_object_set_new(j, "machine_cpu_percent",
	                    rp->machine_cpu >= 0 ? json_real(rp->machine_cpu) : json_null());
	json_object_set_new(j, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	if (o->server_pid > 0) {
		json_t *srv =
		    rp->server_cpu >= 0
		        ? json_pack("{s:i, s:I, s:I, s:f}", "pid", (int)o->server_pid,
		                    "peak_rss_kb", (json_int_t)rp->smp.peak_rss_kb, "hwm_kb",
		                    (json_int_t)rp->smp.hwm_kb, "cpu_percent", rp->server_cpu)
		        : json_pack("{s:i, s:n}", "pid", (int)o->server_pid, "error");
		json_object_set_new(j, "server", srv);
	}
	json_object_set_new(j, "mode", json_string(o->longpoll ? "longpoll" : "checkin"));
	if (o->run_queries > 0) {
		const struct ld_live_report *l = &rp->live;
		json_object_set_new(
		    j, "live",
		    json_pack(
		        "{s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:f, "
		        "s:s?}",
		        "queries", o->run_queries, "done_all", l->done_all, "online_min",
		        l->online_min, "online_max", l->online_max, "park_s", l->park_s, "p50_ms",
		        l->p50_ms, "p95_ms", l->p95_ms, "min_ms", l->min_ms, "max_ms", l->max_ms,
		        "server_p50_ms", l->srv_p50_ms, "server_p95_ms", l->srv_p95_ms,
		        "server_rss_kb", (json_int_t)l->rss_kb, "server_hwm_kb",
		        (json_int_t)l->hwm_kb, "server_cpu_percent", l->server_cpu, "failed",
		        l->why));
	}
	r = json_dumpf(j, stdout, JSON_COMPACT) == 0 ? 0 : MM_ERR_IO;
	putchar('\n');
	json_decref(j);
	return r;
}

int main(int argc, char **argv)
{
	struct ld_opts o;
	struct ld_run run;
	struct ld_thread *th = NULL;
	struct report rp;
	struct ld_proc_sample s0 = {0}, s1;
	int started = 0, rc = 2;
	int64_t t0, t1, t2, tw, now;
	double g0 = cpu_s();
	uint64_t m0 = 0, m1 = 0;
	int m0_ok = 0;

	memset(&run, 0, sizeof(run));
	memset(&rp, 0, sizeof(rp));
	if (parse_opts(argc, argv, &o) != 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (raise_fd_limit(o.connections + 64) != 0)
		goto out;
	rp.smp.pid = o.server_pid;
	if (o.server_pid > 0 && ld_proc_sample(o.server_pid, &s0) != 0) {
		fprintf(stderr, "mamori-load: cannot read /proc/%d\n", (int)o.server_pid);
		goto out;
	}
	rc = 1;
	run.o = &o;
	if (load_secret(&run, o.secret_file) != 0)
		goto out;
	if ((run.ctx = make_ctx(o.ca_file)) == NULL)
		goto out;
	run.agents = calloc((size_t)o.agents, sizeof(*run.agents));
	th = calloc((size_t)o.threads, sizeof(*th));
	if (run.agents == NULL || th == NULL) {
		fprintf(stderr, "mamori-load: out of memory\n");
		goto out;
	}
	atomic_init(&run.phase, LD_P_ENROLL);

	/* Phase 1: connect and enroll. */
	t0 = tw = ld_now_us();
	for (int i = 0; i < o.threads; i++) {
		th[i].run = &run;
		th[i].id = i;
		th[i].conn_first = i;
		if (pthread_create(&th[i].tid, NULL, ld_worker_main, &th[i]) != 0) {
			fprintf(stderr, "mamori-load: cannot start thread %d\n", i);
			atomic_store(&run.phase, LD_P_STOP);
			break;
		}
		started++;
	}
	while (atomic_load(&run.enrolled_threads) < started) {
		now = ld_now_us();
		sample(&rp.smp, now, NULL);
		if (g_interrupted || atomic_load(&run.phase) == LD_P_STOP ||
		    now - t0 > o.enroll_timeout_ms * 1000) {
			rp.aborted = 1;
			rp.why = g_interrupted ? "interrupted during the enroll phase"
			                       : "the enroll phase did not finish in time";
			atomic_store(&run.phase, LD_P_STOP);
			break;
		}
		nap();
	}
	t1 = ld_now_us();
	rp.enroll_s = (double)(t1 - t0) / 1e6;
	/* The workers are idle now (or stopping: then count after the join). */
	for (int i = 0; !rp.aborted && i < o.agents; i++)
		rp.enrolled += run.agents[i].key[0] != '\0';
	if (!rp.aborted && rp.enrolled == 0) {
		rp.aborted = 1;
		rp.why = "no agent enrolled";
		atomic_store(&run.phase, LD_P_STOP);
	}

	/* Phase 2: check-ins. */
	if (!rp.aborted) {
		sample(&rp.smp, t1, &s0);
		g0 = cpu_s();
		m0_ok = ld_machine_busy(&m0) == 0;
		tw = t1; /* CPU figures cover the check-in phase */
		run.checkin_start_us = t1;
		run.checkin_deadline_us = t1 + o.duration_ms * 1000;
		atomic_store(&run.phase, LD_P_CHECKIN);
		int64_t hard = run.checkin_deadline_us + o.timeout_ms * 1000 + 2000000;
		if (o.longpoll) {
			if (o.run_queries > 0) {
				if (ld_live_run(&run, rp.enrolled, run.checkin_deadline_us,
				                &g_interrupted, &rp.live) != 0)
					rp.live_failed = 1;
			} else {
				while (!g_interrupted && ld_now_us() < run.checkin_deadline_us)
					nap();
			}
			sample(&rp.smp, ld_now_us(), NULL);
			atomic_store(&run.phase, LD_P_STOP); /* parked reads are dropped */
		}
		while (atomic_load(&run.finished_threads) < started) {
			now = ld_now_us();
			sample(&rp.smp, now, NULL);
			if (g_interrupted || now > hard) {
				rp.aborted = 1;
				rp.why = g_interrupted ? "interrupted"
				                       : "in-flight requests never ended";
				atomic_store(&run.phase, LD_P_STOP);
				break;
			}
			nap();
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
	t2 = ld_now_us();
	if (tw != t1) /* no check-in phase: the workers wrote keys until the join */
		for (int i = 0; i < o.agents; i++)
			rp.enrolled += run.agents[i].key[0] != '\0';
	memset(&s1, 0, sizeof(s1));
	sample(&rp.smp, t2, &s1);

	/* The report. */
	int64_t last = 0;
	for (int i = 0; i < started; i++) {
		const struct ld_counts *c = &th[i].counts;
		for (int k = 0; k < LD_R_COUNT; k++) {
			rp.sum.ok[k] += c->ok[k];
			rp.sum.sent[k] += c->sent[k];
		}
		for (int e = 0; e < LD_E_COUNT; e++)
			rp.sum.errors[e] += c->errors[e];
		rp.sum.enroll_ok += c->enroll_ok;
		rp.sum.enroll_errors += c->enroll_errors;
		rp.sum.reenrolls += c->reenrolls;
		rp.sum.queries_seen += c->queries_seen;
		rp.sum.reconnects += c->reconnects;
		if (c->last_done_us > last)
			last = c->last_done_us;
		ld_hist_merge(&rp.sum.lat, &c->lat);
		ld_hist_merge(&rp.sum.enroll_lat, &c->enroll_lat);
	}
	for (int k = 0; k < LD_R_COUNT; k++) {
		rp.checkins += rp.sum.sent[k];
		rp.checkins_ok += rp.sum.ok[k];
	}
	for (int e = 0; e < LD_E_COUNT; e++)
		rp.errors += rp.sum.errors[e];
	if (tw != t1)
		rp.checkin_s = 0; /* no check-in phase */
	else
		rp.checkin_s = last > t1 ? (double)(last - t1) / 1e6 : (double)(t2 - t1) / 1e6;
	rp.rate = rp.checkin_s > 0 ? (double)rp.checkins_ok / rp.checkin_s : 0.0;
	rp.gen_cpu = t2 > tw ? (cpu_s() - g0) / ((double)(t2 - tw) / 1e6) * 100.0 : 0.0;
	rp.machine_cpu = -1;
	if (m0_ok && ld_machine_busy(&m1) == 0 && tw == t1 && t2 > t1)
		rp.machine_cpu = (double)(m1 - m0) / (double)sysconf(_SC_CLK_TCK) /
		                 ((double)(t2 - t1) / 1e6) * 100.0;
	rp.server_cpu = -1;
	if (o.server_pid > 0 && tw == t1 && s0.ok && s1.ok && t2 > t1)
		rp.server_cpu = (double)(s1.ticks - s0.ticks) / (double)sysconf(_SC_CLK_TCK) /
		                ((double)(t2 - t1) / 1e6) * 100.0;
	if (o.json)
		print_json(&o, &rp);
	else
		print_text(&o, &rp);
	fflush(stdout);
	rc = (rp.aborted || rp.errors > 0 || rp.enrolled < o.agents || rp.live_failed) ? 1 : 0;
out:
	if (run.agents != NULL) {
		for (int i = 0; i < o.agents; i++)
			free(run.agents[i].answer);
		OPENSSL_cleanse(run.agents, (size_t)o.agents * sizeof(*run.agents));
		free(run.agents);
	}
	if (run.secret_json != NULL) {
		OPENSSL_cleanse(run.secret_json, strlen(run.secret_json));
		free(run.secret_json);
	}
	free(th);
	SSL_CTX_free(run.ctx);
	return rc;
}
