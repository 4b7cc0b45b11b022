/*
 * daemon.h - `mamori daemon`: the agent's long-running mode, an osquery-style
 * client of the coordinator's TLS remote API (docs/api.md, docs/agent.md).
 *
 * Modules (one file each, all single-threaded; the daemon runs one loop):
 *   daemon_log.c     timestamped logging to stderr, --log-level
 *   daemon_config.c  the YAML config file (server, TLS, state, intervals, queue)
 *   daemon_state.c   the state DB: node key, per-query last results, the
 *                    persistent queue of result/status lines
 *   daemon_diff.c    result sets, osquery's differential algorithm, event
 *                    and status line formats, queue bounds
 *   daemon_dist.c    distributed (live) queries: what to answer a read
 *   daemon_http.c    the libcurl client (TLS 1.2+, pinned CA, caps, timeouts)
 *   daemon_sched.c   the schedule from the coordinator's config (packs,
 *                    discovery, platform, shard, splay) and query runs
 *   daemon_policy.c  the compliance policies of the coordinator's config
 *                    (mamori.policies): loading, evaluating, verdict
 *                    caps, verdict reports
 *   cmd_daemon.c     the verb: enroll, config refresh, scheduler, log
 *                    sender, distributed queries, signals
 */
#ifndef MM_DAEMON_H
#define MM_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

struct mm_engine;

/* ---- logging (daemon_log.c) ---------------------------------------------- */

enum mm_dlog_level { MM_DLOG_ERROR, MM_DLOG_WARN, MM_DLOG_INFO, MM_DLOG_DEBUG };

/* Parses "error", "warn"/"warning", "info", "debug".  Returns 0 or MM_ERR_USAGE. */
int mm_dlog_parse_level(const char *s, int *level);
/* Messages above this level are not printed (default MM_DLOG_INFO). */
void mm_dlog_set_level(int level);
int mm_dlog_enabled(int level);
/* Prints "2024-05-02T22:27:32Z mamori: LEVEL: message\n" to stderr.  Never pass
 * secrets (node key, enroll secret). */
void mm_dlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- configuration (daemon_config.c) -------------------------------------- */

enum mm_hostid_kind { MM_HOSTID_HOSTNAME, MM_HOSTID_UUID, MM_HOSTID_SPECIFIED };

struct mm_daemon_config {
	char *path;    /* the config file, as given */
	char *server;  /* "https://host:port", no trailing '/' */
	char *ca_file; /* PEM CA bundle: the only trust anchor */
	int ca_file_line;
	char *enroll_secret_file;
	int enroll_secret_file_line;
	int host_identifier;             /* enum mm_hostid_kind */
	char *identifier;                /* with MM_HOSTID_SPECIFIED */
	char *state_dir;                 /* created 0700 */
	char *root;                      /* table root, "/" by default */
	int64_t config_refresh_ms;       /* default 60 s */
	int64_t distributed_interval_ms; /* default 10 s */
	int64_t long_poll_ms;            /* a distributed read waits up to this for work
	                                  * (mamori_wait); default 30 s, < 0 = off */
	int64_t log_flush_ms;            /* default 5 s */
	int64_t policy_override_ms;      /* > 0: no policy runs less often; 0 = off */
	int64_t policy_full_report_ms;   /* full verdict report; default 60 min */
	int splay_percent;               /* 0..100, default 10 */
	int64_t queue_max_rows;          /* >= 2, default 100000 */
	int64_t queue_max_bytes;         /* >= 64 KiB, default 64 MiB */
	int64_t connect_timeout_ms;      /* default 10 s */
	int64_t request_timeout_ms;      /* default 60 s */
	int64_t time_limit_ms;           /* per statement: 0 = engine default, < 0 = none */
	int64_t heap_limit;              /* bytes: 0 = engine default, < 0 = none */
	int lr_enabled;                  /* live_response.enabled (default 0) */
	char *lr_login;                  /* live_response.login ("root") */
	int lr_port;                     /* live_response.port (22) */
};

/* Parses a config document.  filename is used in messages and basedir
 * (may be NULL: paths stay as written) makes relative paths absolute.
 * Unknown keys are errors.  Returns 0, or MM_ERR_PARSE / MM_ERR_NOMEM with
 * *err (malloc'ed) = "FILE:LINE: key: what".  *out: mm_daemon_config_free(). */
int mm_daemon_config_parse(const char *text, size_t len, const char *filename, const char *basedir,
                           struct mm_daemon_config **out, char **err);
/* Reads (capped at 1 MiB) and parses path; relative paths in it are relative
 * to the file's directory.  Also checks that ca_file and enroll_secret_file
 * can be read.  Errors as for mm_daemon_config_parse. */
int mm_daemon_config_load(const char *path, struct mm_daemon_config **out, char **err);
void mm_daemon_config_free(struct mm_daemon_config *c);

/* ---- state DB and queue (daemon_state.c) ----------------------------------- */

/* Queue line types (also the log_type sent to /log). */
enum mm_line_type { MM_LINE_RESULT = 0, MM_LINE_STATUS = 1 };

struct mm_state;

/* Opens dir/mamori-state.db (WAL), creating dir (0700) and the file (0600).
 * The queue is bounded by max_rows / max_bytes (see mm_queue_push).
 * Returns 0 or MM_ERR_IO / MM_ERR_SQL with *err (malloc'ed). */
int mm_state_open(const char *dir, int64_t max_rows, int64_t max_bytes, struct mm_state **out,
                  char **err);
void mm_state_close(struct mm_state *st);
/* Changes the queue bounds (config reload). */
void mm_state_set_bounds(struct mm_state *st, int64_t max_rows, int64_t max_bytes);

/* Transactions (BEGIN IMMEDIATE ... COMMIT).  Every change below must run
 * inside one; rollback restores the in-memory counters.  Return 0 or
 * MM_ERR_SQL with *err (malloc'ed). */
int mm_state_begin(struct mm_state *st, char **err);
int mm_state_commit(struct mm_state *st, char **err);
void mm_state_rollback(struct mm_state *st);

/* Key/value settings.  get: *val malloc'ed or NULL when absent (returns 0).
 * set: val NULL deletes.  The node key lives under "node_key"; the cached
 * coordinator config under "config". */
int mm_state_kv_get(struct mm_state *st, const char *key, char **val, char **err);
int mm_state_kv_set(struct mm_state *st, const char *key, const char *val, char **err);

/* The last state of one scheduled query. */
struct mm_query_state {
	int exists;  /* 0: never seen (other fields zero) */
	char *query; /* the SQL text its results came from */
	int64_t epoch;
	int64_t counter;
	json_t *results;  /* array of row objects; NULL: no usable previous result */
	int64_t last_run; /* Unix seconds, 0 = never */
};
int mm_state_query_get(struct mm_state *st, const char *name, struct mm_query_state *qs,
                       char **err);
/* Writes the state (results may be NULL). */
int mm_state_query_put(struct mm_state *st, const char *name, const struct mm_query_state *qs,
                       char **err);
void mm_query_state_clear(struct mm_query_state *qs);
/* Forgets the last results of every query whose name is not in names[0..n)
 * (their next run starts a new epoch); epochs are kept. */
int mm_state_query_retain(struct mm_state *st, char *const *names, size_t n, char **err);

/* Appends one line to the queue with the next sequence number.  dropped is
 * the count a queue-full report line carries (0 for other lines). */
int mm_state_enqueue(struct mm_state *st, int type, const char *line, size_t len, int64_t dropped,
                     char **err);
/* Deletes the oldest lines until rows + reserve_rows <= max_rows and
 * bytes + reserve_bytes <= max_bytes.  Adds to the counters: result lines
 * dropped, status lines dropped (other than reports), and the counts
 * carried by dropped report lines. */
int mm_state_trim(struct mm_state *st, int64_t reserve_rows, int64_t reserve_bytes,
                  int64_t *dropped_results, int64_t *dropped_status, int64_t *carried, char **err);
/* Whether the queue is over its bounds. */
int mm_state_over_bounds(const struct mm_state *st);
void mm_state_queue_stats(const struct mm_state *st, int64_t *rows, int64_t *bytes);

/* A batch for /log: the oldest queued lines, consecutive sequence numbers,
 * one type. */
struct mm_batch {
	int type; /* enum mm_line_type */
	int64_t first_seq;
	int64_t last_seq;
	size_t n;           /* lines */
	struct mm_buf data; /* the lines joined with ',' (a JSON array body) */
};
void mm_batch_init(struct mm_batch *b);
void mm_batch_free(struct mm_batch *b);
/* Fills b with up to max_lines lines and max_bytes bytes (always at least one
 * line when the queue is not empty).  b->n == 0 when the queue is empty. */
int mm_state_queue_batch(struct mm_state *st, size_t max_lines, size_t max_bytes,
                         struct mm_batch *b, char **err);
/* Deletes every line with seq <= last_seq (acknowledged); its own transaction. */
int mm_state_queue_ack(struct mm_state *st, int64_t last_seq, char **err);

/* Policy verdicts (table verdicts): the latest verdict of each policy in the
 * coordinator's config and whether the coordinator has it.  A verdict that
 * differs from the stored one (verdict, reason or rows) gets the next change
 * number ("gen") and is unsent until acknowledged. */
struct mm_vrec {
	char *policy;         /* the coordinator's policy id */
	const char *verdict;  /* static: "pass" | "fail" | "not_applicable" | "error" */
	char *reason;         /* never NULL */
	char *rows;           /* JSON array text, or NULL */
	int64_t evaluated_at; /* Unix seconds */
};
void mm_vrec_clear(struct mm_vrec *v);

/* Stores the verdict of v->policy with hash (what it was evaluated from:
 * mm_dpolicy.hash).  *changed (may be NULL) = 1 when there was no verdict or
 * the verdict, reason or rows differ: the row is then unsent with a new
 * change number.  Otherwise only evaluated_at and hash move and the sent
 * mark stays.  Runs in its own transaction unless one is open. */
int mm_state_verdict_put(struct mm_state *st, const struct mm_vrec *v, const char *hash,
                         int *changed, char **err);
/* When the stored verdict of policy was evaluated (0 when none) and from
 * what (hash, "" when none; hash has room for 65 bytes). */
int mm_state_verdict_last(struct mm_state *st, const char *policy, int64_t *evaluated_at,
                          char *hash, char **err);
/* Deletes the verdicts of every policy not in ids[0..n); *removed (may be
 * NULL) gets how many went.  Its own transaction unless one is open. */
int mm_state_verdicts_retain(struct mm_state *st, char *const *ids, size_t n, int64_t *removed,
                             char **err);
/* Verdicts stored and, of them, unsent. */
int mm_state_verdicts_count(struct mm_state *st, int64_t *total, int64_t *unsent, char **err);
/* A report for /api/v1/mamori/verdicts: *out gets a JSON array of
 * {"policy", "verdict", "reason", "rows", "evaluated_at"} and *last_gen the
 * change number to acknowledge it with.  full: every verdict, by policy id;
 * when they add up to more than max_bytes, the rows of the verdicts past
 * that budget are replaced by a truncation marker (a full report must be
 * one request).  Otherwise: the unsent verdicts in change order, at most
 * max_n of them and (after the first) max_bytes.  An empty report is an
 * empty array.  Returns 0 or MM_ERR_SQL / MM_ERR_NOMEM. */
int mm_state_verdicts_report(struct mm_state *st, int full, size_t max_n, size_t max_bytes,
                             json_t **out, int64_t *last_gen, char **err);
/* Marks every verdict with a change number <= last_gen sent (the
 * coordinator acknowledged the report that carried them). */
int mm_state_verdicts_ack(struct mm_state *st, int64_t last_gen, char **err);

/* ---- results, lines, the differential (daemon_diff.c) ---------------------- */

#define MM_DIST_MAX_ROWS   10000
#define MM_DIST_MAX_BYTES  (4 << 20)
#define MM_SCHED_MAX_BYTES (32 << 20) /* a scheduled query's result set */
#define MM_LOG_BATCH_LINES 1000
#define MM_LOG_BATCH_BYTES (4 << 20)

/* Steps stmt to the end and returns its rows as a JSON array of objects,
 * column order kept, every value a string (NULL -> "", invalid UTF-8
 * replaced).  Stops with MM_ERR_LIMIT when more than max_rows rows or
 * max_bytes bytes (values and names) would be returned; other failures
 * return the engine's code.  *err (malloc'ed) says why. */
int mm_rows_from_stmt(struct mm_engine *e, void *stmt, size_t max_rows, size_t max_bytes,
                      json_t **rows, char **err);
/* Runs sql (one statement) on the engine: as above. */
int mm_run_query(struct mm_engine *e, const char *sql, size_t max_rows, size_t max_bytes,
                 json_t **rows, char **err);

/* osquery's set difference with multiset semantics: a row present k times
 * before and m times now is added m-k times (when m > k) or removed k-m
 * times.  *added: rows of cur not matched, in cur's order; *removed: rows of
 * old not matched, in old's order.  Returns 0 or MM_ERR_NOMEM. */
int mm_diff_rows(json_t *old, json_t *cur, json_t **added, json_t **removed);

/* "Mon May  2 22:27:32 2016 UTC" into out (>= 32 bytes). */
void mm_calendar_time(int64_t unix_time, char *out, size_t outsz);

/* Common fields of the lines of one query run. */
struct mm_line_meta {
	const char *name; /* scheduled name */
	const char *host_identifier;
	int64_t unix_time;
	int64_t epoch;
	int64_t counter;
	json_t *decorations; /* object or NULL (= {}) */
};
/* One event line {"name", "hostIdentifier", "calendarTime", "unixTime",
 * "epoch", "counter", "numerics": false, "decorations", "columns", "action"}
 * as compact JSON (malloc'ed), or NULL on out-of-memory. */
char *mm_event_line(const struct mm_line_meta *m, json_t *row, const char *action);
/* One snapshot line {..., "snapshot": [rows], "action": "snapshot"}. */
char *mm_snapshot_line(const struct mm_line_meta *m, json_t *rows);
/* A status line as osquery's TLS logger sends it: {"hostIdentifier",
 * "calendarTime", "unixTime", "severity" (0 info, 1 warning, 2 error),
 * "filename", "line", "message", "version", "decorations"}. */
char *mm_status_line(const char *host_identifier, int64_t unix_time, int severity,
                     const char *filename, int line, const char *message);

/* Appends lines to the queue inside the caller's transaction, then keeps the
 * bounds: when full the oldest lines go and one status line "dropped N result
 * lines: queue full" (N counting every result line dropped since the last
 * such report still queued) is added.  A line longer than MM_LOG_BATCH_BYTES
 * is dropped the same way.  Returns 0 or MM_ERR_*. */
int mm_queue_push(struct mm_state *st, const char *host_identifier, int64_t now, int type,
                  char **lines, size_t nlines, char **err);
/* Queues one status line in its own transaction. */
int mm_queue_status(struct mm_state *st, const char *host_identifier, int severity,
                    const char *filename, int line, const char *message);

/* Options of one scheduled query that the differential needs. */
struct mm_record_opts {
	const char *name;  /* scheduled name */
	const char *query; /* its SQL text (a change resets the state) */
	int snapshot;
	int removed; /* emit "removed" lines */
	const char *host_identifier;
	int64_t unix_time;   /* of the run */
	json_t *decorations; /* may be NULL */
};
/* Records one run of a scheduled query, as osquery does, in ONE transaction:
 * reads the query's last state; a new query, a changed query text or a
 * forgotten result starts a new epoch (epoch + 1, 0 for a new query) with
 * counter 0 and every row "added"; otherwise the differential against the
 * last result gives "removed" then "added" lines and, when anything changed,
 * counter + 1.  Snapshot queries queue one "snapshot" line (counter 0).  The
 * new state and the lines commit together.  *nlines (may be NULL) gets the
 * number of lines queued.  Returns 0 or MM_ERR_* with *err (malloc'ed). */
int mm_record_results(struct mm_state *st, const struct mm_record_opts *o, json_t *rows,
                      size_t *nlines, char **err);

/* ---- distributed queries (daemon_dist.c) ------------------------------------ */

#define MM_DIST_MAX_QUERIES 100 /* run per /distributed/read */

/* Runs the queries of a /distributed/read reply on the engine.  *writes gets
 * a JSON array of /distributed/write bodies (without node_key): {"queries",
 * "statuses", "messages", "stats"}; usually one, several when the answers
 * together pass MM_DIST_MAX_BYTES, none when nothing was asked or every
 * query was skipped by its discovery query.  Returns 0 or MM_ERR_NOMEM. */
int mm_dist_answer(struct mm_engine *e, json_t *read, json_t **writes);

/* ---- HTTP client (daemon_http.c) -------------------------------------------- */

struct mm_httpc;

/* Creates a client for cfg->server with cfg's CA file and timeouts.  Returns
 * 0 or MM_ERR_* with *err.  Call curl_global_init() first. */
int mm_httpc_new(const struct mm_daemon_config *cfg, struct mm_httpc **out, char **err);
void mm_httpc_free(struct mm_httpc *c);
/* When set (1), a transfer aborts as soon as SIGTERM or SIGINT is pending;
 * 2: also SIGHUP (a long poll, which may wait for many seconds). */
void mm_httpc_set_interruptible(struct mm_httpc *c, int on);
/* POSTs a JSON body to server + path.  Returns 0 when an HTTP response
 * arrived: *status is its code and *resp the body parsed as JSON (NULL when
 * it is not JSON; *err then says why).  Returns MM_ERR_IO (no response:
 * connect, TLS, timeout), MM_ERR_TOOBIG (response over 16 MiB) with *err.
 * timeout_ms 0 = the configured request timeout.  The body is not logged. */
int mm_httpc_post(struct mm_httpc *c, const char *path, const char *body, size_t len,
                  int64_t timeout_ms, long *status, json_t **resp, char **err);

/* ---- the schedule (daemon_sched.c) ------------------------------------------ */

struct mm_sched_pack {
	char *name;
	char **discovery;
	size_t ndiscovery;
	int active;         /* discovery verdict */
	int64_t checked_ms; /* when discovery last ran (monotonic), 0 = never */
};

struct mm_sched_query {
	char *name; /* scheduled name: QUERY or pack<d>PACK<d>QUERY */
	char *query;
	int64_t interval; /* seconds, 1..604800 */
	int snapshot;
	int removed;
	int pack;       /* index into packs, -1 for the top-level schedule */
	int64_t due_ms; /* monotonic time of the next run */
};

struct mm_schedule {
	struct mm_sched_query *queries;
	size_t nqueries;
	struct mm_sched_pack *packs;
	size_t npacks;
	char *delimiter;         /* pack_delimiter, "/" by default */
	int64_t pack_refresh_ms; /* discovery cache lifetime */
};

/* Builds a schedule from the coordinator's config document (osquery's shape:
 * options, schedule, packs).  Entries that cannot run here (another
 * platform, outside the shard, no query, bad interval) are skipped with a
 * warning through mm_dlog.  hostname feeds osquery's machine shard.  Returns
 * 0, or MM_ERR_PARSE with *err when the document is not an object. */
int mm_schedule_from_json(json_t *config, const char *hostname, struct mm_schedule **out,
                          char **err);
void mm_schedule_free(struct mm_schedule *s);
/* osquery's machine shard of a hostname: first byte of SHA-1 * 100 / 255. */
int mm_machine_shard(const char *hostname);
/* Splay in ms for a query: deterministic in (name, host identifier), in
 * [0, interval * percent / 100]. */
int64_t mm_splay_ms(const char *name, const char *host_identifier, int64_t interval_s, int percent);
/* Whether an osquery platform string ("linux,darwin", "posix", "all", ...)
 * includes this agent. */
int mm_platform_matches(const char *platform);

/* ---- policies (daemon_policy.c) --------------------------------------------- */

struct mm_policy;
struct mm_policy_limits;

#define MM_DPOLICY_MAX            10000      /* policies taken from one config */
#define MM_DPOLICY_INTERVAL       3600       /* seconds, when the config gives none */
#define MM_VERDICT_MAX_ROWS       100        /* rows of a verdict kept and sent */
#define MM_VERDICT_MAX_ROWS_BYTES (64 << 10) /* and their JSON text */
#define MM_VERDICT_MAX_REASON     4096       /* bytes of a reason */
#define MM_VERDICT_BATCH          1000       /* verdicts per report of changes */
#define MM_VERDICT_BATCH_BYTES    (1 << 20)  /* and bytes */
#define MM_VERDICT_FULL_BYTES     (4 << 20)  /* a full report's rows budget */

/* One policy of the coordinator's config (mamori.policies[]). */
struct mm_dpolicy {
	char *id;            /* "policy": verdicts are reported under it */
	char *kind;          /* "lua" | "sql" as given ("" when missing) */
	char *filename;      /* names it in messages */
	char hash[65];       /* SHA-256 (hex) of kind, filename and source */
	int64_t interval;    /* seconds, 1..604800 */
	struct mm_policy *p; /* the loaded policy, or NULL: load_err says why */
	char *load_err;      /* reported as an error verdict at each run */
	int fresh;           /* new or changed in the last mm_dpolicies_update */
	int64_t due_ms;      /* monotonic time of the next run (the caller's) */
};

struct mm_dpolicies {
	struct mm_dpolicy *v;
	size_t n;
};

/* Builds the policy set of a config's mamori.policies array (NULL or not an
 * array: an empty set).  An entry with the same id and hash as one of old
 * (may be NULL) takes over its loaded policy and due_ms (old loses them;
 * fresh = 0); the others are loaded now (fresh = 1): kind "lua" with
 * mm_policy_load_lua(filename, source), kind "sql" by parsing the YAML
 * source with mm_policy_parse_yaml and taking the policy whose id is the
 * entry's.  A load failure is kept in load_err, not an error.  Entries
 * without a usable "policy" id, duplicates and entries past MM_DPOLICY_MAX
 * are skipped with a warning.  Returns 0 or MM_ERR_NOMEM. */
int mm_dpolicies_update(json_t *list, struct mm_dpolicies *old, const struct mm_policy_limits *lim,
                        struct mm_dpolicies **out);
void mm_dpolicies_free(struct mm_dpolicies *s);

/* Evaluates one policy on the engine (a policy that did not load gives an
 * `error` verdict naming the load error) and fills *out with the verdict as
 * stored and sent: the reason capped at MM_VERDICT_MAX_REASON bytes, the
 * rows capped by mm_verdict_rows_cap, evaluated_at = now (Unix seconds).
 * Returns 0 or MM_ERR_NOMEM (*out then empty). */
int mm_dpolicy_eval(const struct mm_dpolicy *dp, struct mm_engine *e,
                    const struct mm_policy_limits *lim, int64_t now, struct mm_vrec *out);

/* Caps the rows of a verdict (JSON text): an array keeps its first rows up
 * to MM_VERDICT_MAX_ROWS rows and MM_VERDICT_MAX_ROWS_BYTES bytes, then one
 * {"mamori_truncated": "N of M rows sent"} row when any was left out; any
 * other JSON value becomes a one-element array.  *out: malloc'ed JSON text,
 * or NULL when rows is NULL or not JSON.  Returns 0 or MM_ERR_NOMEM. */
int mm_verdict_rows_cap(const char *rows, char **out);

/* Cuts s (malloc'ed, NUL-terminated) to at most max bytes without splitting
 * a UTF-8 sequence. */
void mm_utf8_cut(char *s, size_t max);

/* The body of a verdict report: {"full": bool, "verdicts": [...]} (no
 * node_key; the caller adds it).  Returns malloc'ed text or NULL (no
 * memory). */
char *mm_verdicts_body(int full, json_t *verdicts, size_t *len);

/* ---- Live Response (daemon_lr.c) ------------------------------------------ */

/* What the coordinator needs to reach this host's sshd, when
 * live_response.enabled: {"enabled": "1", "port": "22", "login": "root",
 * "host_keys": ["TYPE BASE64", ...]} with the keys read under the root from
 * etc/ssh/ssh_host_*_key.pub.  NULL when Live Response is off (or no
 * memory).  Goes into the enroll host_details as "mamori_live_response". */
json_t *mm_lr_agent_info(const struct mm_daemon_config *cfg);
/* Reports that object to POST /api/v1/mamori/hostkeys when it (or the node
 * key) changed since the last report the coordinator acknowledged (kept in
 * the state DB), and {"enabled": false} once after Live Response was
 * switched off.  Looks at most every 10 s unless force.  Returns 0 when
 * nothing was due or the report was acknowledged, -1 when it failed
 * (logged; tried again later). */
int mm_lr_agent_step(const struct mm_daemon_config *cfg, struct mm_state *st,
                     struct mm_httpc *http, const char *node_key, int64_t now_ms, int force);

#endif
