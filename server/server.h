/*
 * server.h - what the coordinator's modules share: the running server's
 * state, the API descriptor every endpoint family exports, the caller
 * (actor) of an operator request, and the audit log.
 *
 * Adding an endpoint family is one file and one line: server/api_NAME.c
 * exports `const struct mm_api mm_api_NAME` and server/apis.def lists it.
 * server/auth.c mounts every route: for operator routes it checks the
 * bearer token and the route's roles before the handler runs, and writes
 * refusals to the audit log; agent routes (roles == MM_ROLE_AGENT)
 * authenticate with the node key inside the handler.
 */
#ifndef MM_SERVER_H
#define MM_SERVER_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "error.h"
#include "http.h"
#include "store.h"

/* Roles as bits, so a route lists who may call it. */
enum mm_role {
	MM_ROLE_AGENT = 0,          /* agent API: node-key auth in the handler */
	MM_ROLE_ADMIN = 1 << 0,
	MM_ROLE_OPERATOR = 1 << 1,  /* packs, queries, policies */
	MM_ROLE_OBSERVER = 1 << 2,  /* read-only */
	MM_ROLE_RESPONDER = 1 << 3, /* Live Response sessions */
};
#define MM_ROLES_READ (MM_ROLE_ADMIN | MM_ROLE_OPERATOR | MM_ROLE_OBSERVER | MM_ROLE_RESPONDER)
#define MM_ROLES_WRITE (MM_ROLE_ADMIN | MM_ROLE_OPERATOR)

/* Role name <-> bit ("admin" ...); 0 / NULL when unknown. */
int mm_role_parse(const char *name);
const char *mm_role_name(int role);

/* Parsed `mamori-server run --config FILE` (server/config.c). */
struct mm_server_config {
	char *listen_address;       /* "127.0.0.1" */
	int port;                   /* 8443 */
	char *tls_cert, *tls_key;   /* PEM files; both NULL only with tls: false */
	char *database;             /* SQLite file */
	char *results_log;          /* JSON-lines results file for SIEM, NULL = none */
	char *enroll_secret_file;   /* file holding the enroll secret */
	int64_t max_body;           /* bytes */
	int timeout_s;
	int online_margin_s;        /* online = seen within checkin interval + margin */
	int enroll_rate_per_min;    /* bad-secret enroll attempts allowed per address */
	int64_t store_queue_max;    /* jobs */
	struct mm_lr_config {       /* live_response: (server/api_lr.c, docs/live-response.md) */
		int enabled;            /* 0: every session is refused */
		char *ca_key;           /* the SSH user CA (ECDSA P-256 PEM) */
		char *user_key;         /* fallback: a plain key in authorized_keys, NULL = certs */
		char *login;            /* login when the host reports none ("root") */
		char *source_address;   /* certificate source-address, NULL = the connection's */
		int idle_timeout_s;     /* a session without activity is closed (900) */
		int max_duration_s;     /* a session is closed after this (3600) */
		int max_sessions;       /* open at once on the coordinator (10) */
		int command_timeout_s;  /* a command is stopped after this (60) */
		int connect_timeout_s;  /* TCP connect + SSH handshake + auth (10) */
		int cert_validity_s;    /* session certificates (300) */
		int64_t output_cap;     /* bytes of a command's output kept (1 MiB) */
		int64_t put_max;        /* bytes of one file transfer (4 MiB) */
	} lr;
	struct mm_live_config {     /* live: live queries (server/campaign.c, docs/live-queries.md) */
		int long_poll_s;        /* longest a distributed read is parked (30), 0 = never */
		int label_interval_s;   /* dynamic labels re-evaluated on each host (300) */
		int retention_s;        /* finished live queries kept (24 h) */
		int64_t max_rows;       /* result rows kept per live query (100000) */
		int64_t retention_rows; /* result rows kept over all live queries (1000000) */
	} live;
};

/* The caller of an operator request. */
struct mm_actor {
	int64_t token_id;
	const char *name;           /* token name */
	int role;                   /* one MM_ROLE_* bit */
	const char *address;        /* peer address */
};

struct mm_hosts;                /* in-memory host index (server/hosts.c) */

/* The running coordinator (one per process). */
struct mm_server {
	struct mm_server_config cfg;
	struct mm_http_server *http;
	struct mm_store *store;
	struct mm_hosts *hosts;
	char *enroll_secret;        /* wiped at exit */
	size_t enroll_secret_len;
	uint64_t config_gen;        /* bumped whenever packs (later policies) change */
	FILE *results_log;          /* appended by the writer thread after commit */
	int64_t started_at;
};

/* One route of an API family. */
struct mm_route {
	const char *method;         /* "GET", "POST", "DELETE", NULL = any */
	const char *path;           /* as mm_http_route: exact, or prefix ending in '*' */
	int roles;                  /* MM_ROLE_* bits allowed, or MM_ROLE_AGENT */
	void (*fn)(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor);
};
struct mm_api {
	const char *name;
	const struct mm_route *routes; /* terminated by { NULL, NULL } (path NULL) */
};

#define MM_API(n) extern const struct mm_api mm_api_##n;
#include "apis.def"
#undef MM_API
extern const struct mm_api *const mm_apis[];

/* Mounts every route of mm_apis[] on srv->http (server/auth.c).  Returns 0. */
int mm_api_mount(struct mm_server *srv);

/* ---- audit log (server/audit.c) ----------------------------------------- */
/* Inserts one audit record; for use inside a store job, so a change and its
 * audit record commit together.  detail may be NULL (stored as {}). */
int mm_audit_insert(sqlite3 *db, const struct mm_actor *actor, const char *action,
		    const char *target, const json_t *detail, int status);
/* Queues an audit record on its own (refusals, failed attempts).  detail
 * is stolen.  actor may be NULL for unauthenticated callers (address given). */
void mm_audit_log(struct mm_server *srv, const struct mm_actor *actor, const char *address,
		  const char *action, const char *target, json_t *detail, int status);

/* ---- hosts (server/api_hosts.c) ------------------------------------------ */
/* Resolves NAME (id, host identifier or hostname) to a host id through the
 * reader db.  Returns the id, or 0 after replying (404 unknown, 409 several
 * live hosts share the name, 500), the status then in *status when not NULL.
 * *live gets 1 when that host is not revoked (a live host is preferred over
 * revoked ones of the same name). */
int64_t mm_host_resolve(struct mm_http_req *req, sqlite3 *db, const char *name, int *live,
			int *status);

/* ---- compliance (server/api_compliance.c) -------------------------------- */
/* mm_host_resolve for a live (not revoked) host.  Returns the id; 0 when
 * unknown or revoked (replied 404), -1 when ambiguous or on a store error
 * (replied 409 / 500). */
int64_t mm_compliance_resolve_host(struct mm_server *srv, struct mm_http_req *req, const char *h);
/* Inside a store job: forgets a host's verdicts and takes them out of the
 * per-policy counts (a revoked or deleted host no longer counts). */
int mm_compliance_forget_host(sqlite3 *db, int64_t host_id);

/* ---- small helpers (server/util.c) --------------------------------------- */
/* Fills buf with n random bytes as 2n hex characters + NUL.  Returns 0 or MM_ERR_INTERNAL. */
int mm_random_hex(char *buf, size_t n);
/* SHA-256 of s as 64 hex characters + NUL into out[65]. */
void mm_sha256_hex(const void *s, size_t len, char out[65]);
/* Constant-time comparison of two byte strings (lengths may differ). */
int mm_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Current Unix time in seconds. */
int64_t mm_now(void);

#endif
