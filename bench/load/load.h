/*
 * load.h - mamori-load, the simulated-agent load generator: what its files
 * share.
 *
 * mamori-load plays N osquery agents against a coordinator on loopback.  The
 * agents share C TLS keep-alive connections spread over T threads (one epoll
 * loop each): connection k belongs to thread k % T and carries agents k,
 * k + C, k + 2C, ...  A run has two phases: every agent enrolls (its node key
 * comes back), then each connection checks its agents in, round robin, for
 * --duration seconds: closed loop (next request as soon as the response
 * arrives) with --interval 0, else each agent every --interval seconds.
 *
 *   main.c    options, phases, the report
 *   worker.c  one thread: epoll, connections (TCP + OpenSSL), timers
 *   reqs.c    request bodies (osquery's shapes) and response checks
 *   http1.c   the HTTP/1.1 response parser (Content-Length, chunked, close)
 *   stats.c   latency histogram, /proc sampling of the coordinator
 */
#ifndef MM_LOAD_H
#define MM_LOAD_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "buf.h"

/* ---- limits --------------------------------------------------------------- */
#define LD_KEY_MAX     128               /* longest node key accepted from the server */
#define LD_MAX_HEADER  (16 * 1024)       /* response header block cap */
#define LD_MAX_BODY    (4 * 1024 * 1024) /* response body cap (a big config) */
#define LD_MAX_AGENTS  200000
#define LD_MAX_CONNS   60000
#define LD_MAX_THREADS 64

/* ---- error kinds (the report counts each) ---------------------------------- */
enum ld_err {
	LD_E_CONNECT,      /* TCP connect failed */
	LD_E_TLS,          /* handshake (certificate) or TLS record error */
	LD_E_CLOSED,       /* the server closed the connection mid-request */
	LD_E_HTTP,         /* malformed HTTP response, or over a cap */
	LD_E_STATUS,       /* HTTP status not 2xx */
	LD_E_BODY,         /* body not a JSON object, or enroll without a node key */
	LD_E_NODE_INVALID, /* "node_invalid": true */
	LD_E_TIMEOUT,      /* no complete response within --timeout */
	LD_E_COUNT
};
extern const char *const ld_err_names[LD_E_COUNT];

/* ---- request kinds ------------------------------------------------------- */
enum ld_req {
	LD_R_ENROLL,
	LD_R_READ,   /* /distributed/read */
	LD_R_CONFIG, /* /config */
	LD_R_LOG,    /* /log with result lines */
	LD_R_WRITE,  /* /distributed/write: the answers to a live query (--mode longpoll) */
	LD_R_COUNT
};
extern const char *const ld_req_names[LD_R_COUNT];

/* ---- options --------------------------------------------------------------- */
struct ld_opts {
	char host[64];     /* loopback address as text, for Host: and cert checks */
	char hostport[80]; /* Host: header value ("127.0.0.1:8443", "[::1]:8443") */
	int port;
	struct sockaddr_storage addr; /* where to connect */
	socklen_t addrlen;
	const char *ca_file;
	const char *secret_file;
	const char *host_prefix; /* host identifiers are PREFIX000001 ... */
	int agents, connections, threads;
	int enroll_concurrency;      /* connections enrolling at once */
	int64_t duration_ms;         /* check-in phase length */
	int64_t interval_ms;         /* per-agent check-in period, 0 = closed loop */
	int64_t timeout_ms;          /* per request (and per connect + handshake) */
	int64_t enroll_timeout_ms;   /* whole enroll phase */
	int64_t max_requests;        /* cap on check-ins, 0 = none */
	int config_every, log_every; /* 0 = never */
	int log_lines;               /* result lines per /log */
	int mamori_seq;              /* send "mamori_seq" with /log (Mamori agents do) */
	int64_t seq_base;            /* first mamori_seq: wall-clock us at start, so
	                              * re-enrolled hosts of an earlier run never look
	                              * like duplicates */
	pid_t server_pid;            /* 0 = no sampling */
	int longpoll;                /* --mode longpoll: one connection per agent, reads
	                              * carry "mamori_wait", live queries get answered */
	int64_t wait_s;              /* "mamori_wait" of each long-poll read */
	int run_queries;             /* live queries the driver starts (live.c) */
	const char *admin_token_file;
	const char *query_sql;
	int json;
	int verbose;
};

/* ---- latency histogram (stats.c) -------------------------------------------
 * Microseconds in log buckets with 32 linear sub-buckets per power of two
 * (about 3% resolution, like HdrHistogram with 2 significant bits less). */
#define LD_HIST_BUCKETS 1216
struct ld_hist {
	uint64_t count;
	uint64_t max; /* exact */
	uint64_t sum;
	uint64_t b[LD_HIST_BUCKETS];
};
void ld_hist_add(struct ld_hist *h, uint64_t us);
void ld_hist_merge(struct ld_hist *into, const struct ld_hist *h);
/* The value at quantile q (0..1): the upper edge of the bucket holding it,
 * never above the maximum.  0 when empty. */
uint64_t ld_hist_quantile(const struct ld_hist *h, double q);

/* ---- coordinator sampling (stats.c) ---------------------------------------- */
struct ld_proc_sample {
	int ok;          /* 1 when /proc/PID could be read */
	uint64_t ticks;  /* utime + stime, clock ticks */
	uint64_t rss_kb; /* VmRSS */
	uint64_t hwm_kb; /* VmHWM (peak since the process started) */
};
/* Reads /proc/PID/stat and /proc/PID/status.  Returns 0 or MM_ERR_*. */
int ld_proc_sample(pid_t pid, struct ld_proc_sample *s);
/* Busy clock ticks of the whole machine, all cores (/proc/stat: user, nice,
 * system, irq, softirq, steal).  Returns 0 or MM_ERR_*. */
int ld_machine_busy(uint64_t *ticks);

/* ---- agents, connections, threads ----------------------------------------- */
struct ld_agent {
	char key[LD_KEY_MAX + 1]; /* node key, "" until enrolled (or after node_invalid) */
	uint32_t checkins;        /* check-ins sent, decides the request kind */
	uint32_t logs;            /* /log requests sent (the lines' counter) */
	uint64_t seq;             /* mamori_seq of the next result line */
	char *answer;             /* --mode longpoll: the "queries", "statuses" and "messages"
	                           * members of the pending /distributed/write, or NULL */
};

/* Phases, set by the main thread. */
enum ld_phase { LD_P_ENROLL, LD_P_CHECKIN, LD_P_STOP };

/* Shared by every thread. */
struct ld_run {
	const struct ld_opts *o;
	SSL_CTX *ctx;
	char *secret_json; /* the enroll secret as a JSON string literal (wiped) */
	struct ld_agent *agents;
	atomic_int phase;
	atomic_int enrolled_threads; /* threads done with the enroll phase */
	atomic_int finished_threads;
	atomic_llong tickets;     /* check-ins handed out (for --requests) */
	atomic_int messages;      /* error messages printed (capped) */
	atomic_llong lp_reads;    /* --mode longpoll: long polls sent (reads and answers) */
	atomic_llong lp_writes;   /* --mode longpoll: answers sent */
	int64_t checkin_start_us; /* set before phase becomes CHECKIN */
	int64_t checkin_deadline_us;
};

/* What each thread counts; merged by main for the report. */
struct ld_counts {
	uint64_t ok[LD_R_COUNT];   /* check-in phase: completed without error, by kind */
	uint64_t sent[LD_R_COUNT]; /* check-in phase: sent, by kind */
	uint64_t enroll_ok;        /* enroll phase */
	uint64_t enroll_errors;
	uint64_t errors[LD_E_COUNT]; /* both phases */
	uint64_t reenrolls;          /* enrolls during the check-in phase */
	uint64_t queries_seen;       /* distributed reads that returned queries */
	uint64_t reconnects;
	int64_t last_done_us; /* last check-in completion */
	struct ld_hist lat;   /* check-in phase, every kind */
	struct ld_hist enroll_lat;
};

struct ld_thread {
	struct ld_run *run;
	int id;
	pthread_t tid;
	int conn_first; /* connections conn_first, +T, +2T, ... */
	struct ld_counts counts;
	void *priv; /* worker.c's state */
};

/* Runs one worker thread (pthread entry; arg is struct ld_thread *). */
void *ld_worker_main(void *arg);

/* ---- requests (reqs.c) ------------------------------------------------------ */
/* Time strings for result lines, refreshed once per second by the caller. */
struct ld_clock {
	int64_t unix_s;
	char calendar[40]; /* "Mon May  2 22:27:32 2016 UTC" */
};
void ld_clock_update(struct ld_clock *c);

/* Appends one complete HTTP request of the given kind for agent a (index ai)
 * to w; scratch is a work buffer for the body.  Returns 0 or MM_ERR_TOOBIG. */
int ld_build_request(const struct ld_run *run, int ai, struct ld_agent *a, enum ld_req kind,
                     const struct ld_clock *clk, struct mm_buf *scratch, struct mm_buf *w);

/* Checks a complete response to a request of the given kind.  Returns -1
 * when fine, else the enum ld_err to count; an enroll stores the node key in
 * a; node_invalid clears a's key.  *queries is set when a distributed read
 * returned queries. */
int ld_check_response(enum ld_req kind, int status, const char *body, size_t len,
                      struct ld_agent *a, int *queries, char *why, size_t whysz);
/* The same; with answer set, a distributed read that returned queries also
 * leaves in a->answer the write that answers each of them with one row
 * {"x": "1"} (--mode longpoll). */
int ld_check_response_answer(enum ld_req kind, int status, const char *body, size_t len,
                             struct ld_agent *a, int answer, int *queries, char *why, size_t whysz);

/* ---- the live-query driver (live.c) ------------------------------------------
 * Runs in the main thread while the long-poll agents are parked: starts
 * o->run_queries live queries one after another (POST /api/v1/queries/run,
 * all hosts) and times each until the coordinator reports it done. */
struct ld_live_report {
	int queries, done_all; /* queries started; done with every online host answered */
	int online_min, online_max;
	double p50_ms, p95_ms, max_ms, min_ms; /* start to done, as the operator sees it */
	double srv_p50_ms, srv_p95_ms;         /* the coordinator's own elapsed_ms */
	double park_s;                         /* time until every agent was parked */
	uint64_t rss_kb, hwm_kb;               /* coordinator after the queries */
	double server_cpu;                     /* over the queries, percent of one core, -1 */
	const char *why;                       /* set when the driver gave up */
};
/* Returns 0 when every query finished with all online hosts answered. */
int ld_live_run(struct ld_run *run, int64_t agents, int64_t deadline_us,
                volatile sig_atomic_t *interrupted, struct ld_live_report *rep);

/* ---- HTTP/1.1 response parser (http1.c) -------------------------------------
 * Incremental: call ld_http_parse() with everything received so far for the
 * current response (the same buffer, grown); it resumes where it stopped. */
struct ld_http {
	size_t base;    /* start of the current response (after 1xx ones) */
	size_t scan;    /* where the search for the header end resumes */
	size_t hdr_end; /* offset just past the blank line, 0 = not yet */
	int status;
	int keep_alive; /* 1 = the connection may carry the next request */
	int chunked;
	int until_close;        /* body runs to EOF */
	int64_t content_length; /* -1 = not given */
	size_t cpos;            /* chunked: next unread raw offset */
	int64_t cleft;          /* chunked: bytes left in this chunk, -1 = expect a size line */
	int ctrailer;           /* chunked: reading trailers after the last chunk */
	struct mm_buf body;     /* chunked: decoded body */
	const char *body_ptr;   /* result: the body (valid until the buffer changes) */
	size_t body_len;
};
enum { LD_HTTP_DONE = 0, LD_HTTP_MORE = 1 };
void ld_http_init(struct ld_http *h);
void ld_http_reset(struct ld_http *h);
void ld_http_free(struct ld_http *h);
/* Parses buf[0..len) (eof: the peer closed).  Returns LD_HTTP_DONE with
 * status, keep_alive and body_ptr/body_len set; LD_HTTP_MORE to wait for
 * more bytes; MM_ERR_PARSE (malformed, or bytes past the end of the
 * response) or MM_ERR_TOOBIG (over LD_MAX_HEADER / LD_MAX_BODY). */
int ld_http_parse(struct ld_http *h, const char *buf, size_t len, int eof);

/* ---- time ---------------------------------------------------------------- */
/* Monotonic microseconds. */
int64_t ld_now_us(void);

#endif
