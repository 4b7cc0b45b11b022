/*
 * campaign.h - live queries: campaigns (one SQL statement run once on a set
 * of hosts, results streamed to operators), the distributed reads agents
 * park on the coordinator while they wait for work (long polls), and the
 * dynamic labels agents evaluate.  docs/live-queries.md tells the story;
 * this header is the contract between the pieces:
 *
 *   campaign.c     campaigns in memory while they run (per-host state,
 *                  answers, the ordered events of the SSE stream, streams
 *                  attached), their rows in the store, timeouts, the stream
 *                  and status replies (also replayed from the store once a
 *                  campaign is finished), retention, the periodic tick
 *   longpoll.c     distributed read and write for agents: parked reads
 *                  indexed by host id with a deadline heap, what a read gets
 *                  (pending campaign queries, due label queries), answers
 *                  routed to campaigns and label memberships, the dynamic
 *                  label cache
 *   api_queries.c  /api/v1/queries: run (validation, targets), list, show,
 *                  stream
 *   api_labels.c   /api/v1/labels
 *   api_osquery.c  the distributed read/write routes call mm_live_read and
 *                  mm_live_write
 *
 * Everything runs on the loop thread; store work goes through jobs.  The
 * state is per process and created on first use (the first agent read or
 * operator request), which also starts the tick and the retention job.
 *
 * Event ids of a campaign's stream (SSE "id:"): 1 is the first `progress`
 * event (targets, offline hosts), 2.. one `result` or `error` event per
 * host that answered or timed out, in the order they happened, and the
 * last one the `done` event.  A host's event id is stored with its answer,
 * so a stream replayed from the store has the same ids.
 */
#ifndef MM_CAMPAIGN_H
#define MM_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "buf.h"
#include "hosts.h"
#include "server.h"

#define MM_LIVE_QUERY_PREFIX       "mamori_live_"  /* + campaign id: the distributed query id */
#define MM_LIVE_LABEL_PREFIX       "mamori_label_" /* + label id */
#define MM_LIVE_SQL_MAX            (64 << 10)      /* bytes of a live or label query */
#define MM_LIVE_TIMEOUT_DEFAULT_MS 30000           /* a campaign's default timeout */
#define MM_LIVE_TIMEOUT_MAX_MS     (3600 * 1000)
#define MM_LIVE_RUNNING_MAX        16         /* campaigns running at once */
#define MM_LIVE_STREAMS_MAX        256        /* SSE streams open at once */
#define MM_LIVE_CAMPAIGN_BYTES     (64 << 20) /* result text kept per campaign */
#define MM_LIVE_HEARTBEAT_MS       15000      /* SSE comment on quiet streams */
#define MM_LIVE_TICK_MS            100        /* deadlines are checked this often */

/* ---- state ------------------------------------------------------------- */
/* Creates the state on first use: loads the dynamic labels, starts the
 * tick (parked reads, campaign deadlines, heartbeats) and the retention
 * job, and closes campaigns a previous run left running.  Returns 0 or
 * MM_ERR_NOMEM. */
int mm_live_init(struct mm_server *srv);

/* ---- validation ---------------------------------------------------------- */
/* Checks a live or label query before any host is asked: not empty, at
 * most MM_LIVE_SQL_MAX bytes, exactly one statement, prepares against the
 * agent's table schemas, read-only.  Returns 0, or the HTTP status to
 * refuse with (400 empty or too long, 422 otherwise) with *msg (static) and
 * *detail (malloc'ed, may be NULL: SQLite's message, the statement). */
int mm_live_check_sql(const char *sql, const char **msg, char **detail);

/* A host is online when its read is parked now, or it was seen within its
 * check-in interval plus online_margin.  Revoked and unknown hosts are not. */
int mm_live_host_online(struct mm_server *srv, int64_t host_id);

/* ---- campaigns (api_queries.c) ------------------------------------------- */
struct mm_live_target {
	int64_t id;
	char *name; /* hostname, or the host identifier when it is empty */
	int online; /* at the start: offline hosts are not asked */
};

/* Starts the campaign whose rows (mm_live_campaign_insert) have just been
 * committed, submitting the job for its target rows when the insert left
 * them out: from now on the targets' reads get
 * its query, parked reads of online targets are answered at once.  t[] is
 * sorted by id without duplicates; its names are copied.  A campaign
 * without online targets is done at once.  targets is the JSON text of the
 * request's targets.  Returns 0 or MM_ERR_NOMEM. */
int mm_live_campaign_start(struct mm_server *srv, int64_t id, const char *sql,
                           const char *created_by, const char *targets, int64_t created_at,
                           int64_t timeout_ms, const struct mm_live_target *t, size_t n);
/* In a store job: inserts the campaign row ('running') and the query.run
 * audit record of actor, as POST /api/v1/queries/run does, and, for up to
 * 256 targets, their campaign_hosts rows ('pending' for online targets,
 * 'offline' for the others); the rows of more targets are written by a
 * job of their own that mm_live_campaign_start submits.
 * targets is the JSON text of the targets as requested.  *id gets the new
 * campaign's id.  Returns 0 or MM_ERR_* with *err (sqlite3_mprintf'ed). */
int mm_live_campaign_insert(sqlite3 *db, const struct mm_actor *actor, const char *sql,
                            const char *targets, int64_t created_at, int64_t timeout_ms,
                            const struct mm_live_target *t, size_t n, int64_t *id, char **err);

/* ---- one host, in process (Live Response's `sql`) -------------------------- */
/* Called once on the loop thread when the host answered, failed or timed
 * out: rc 0 with result the rows (a JSON array of row objects, borrowed),
 * or rc < 0 with result a JSON string saying why (borrowed): MM_ERR_SQL
 * the query failed on the host, MM_ERR_LIMIT no answer within the timeout,
 * MM_ERR_NOTFOUND the host is offline, another the coordinator failed. */
typedef void (*mm_live_one_fn)(void *arg, int rc, json_t *result);

/* Runs sql once on host host_id as a campaign audited as query.run by
 * actor: the SQL is checked as for POST /api/v1/queries/run
 * (mm_live_check_sql), the running cap applies, the host must exist and
 * not be revoked; then the campaign's rows and audit record are committed
 * and the campaign starts (an offline host is recorded as offline and
 * reported at once through done).  timeout_ms is clamped to
 * 1000..MM_LIVE_TIMEOUT_MAX_MS.  *token gets a handle for
 * mm_live_run_forget.  Returns 0 (done will be called, never from inside
 * this call), or MM_ERR_USAGE (a refusal, audited) / MM_ERR_NOTFOUND /
 * MM_ERR_LIMIT / MM_ERR_NOMEM with *err (malloc'ed: the message, with
 * SQLite's message after ": " for bad SQL); done is then never called. */
int mm_live_run_one(struct mm_server *srv, const struct mm_actor *actor, const char *sql,
                    int64_t host_id, int64_t timeout_ms, mm_live_one_fn done, void *arg,
                    uint64_t *token, char **err);
/* The caller of mm_live_run_one goes away: done will not be called for
 * token (the campaign itself runs on to its end).  0 or unknown is fine. */
void mm_live_run_forget(uint64_t token);

/* Campaigns running now (the cap is MM_LIVE_RUNNING_MAX). */
size_t mm_live_running(void);
/* GET /api/v1/queries/ID: {"query": {...}} from memory while the campaign
 * is in memory, else from the store (404 when unknown). */
void mm_live_campaign_show(struct mm_server *srv, struct mm_http_req *req, int64_t id);
/* GET /api/v1/queries/ID/stream: the SSE stream from event after + 1 (a
 * finished campaign is replayed from the store and the stream ends). */
void mm_live_campaign_stream(struct mm_server *srv, struct mm_http_req *req, int64_t id,
                             int64_t after);
/* For the list: fills the live counts of a campaign in memory.  Returns 1
 * when it is in memory (*obj gets "status", "counts", "elapsed_ms"). */
int mm_live_campaign_summary(int64_t id, json_t *obj);

/* ---- answers (longpoll.c -> campaign.c) ------------------------------------ */
struct mm_live_answer;

/* Appends to queries (the members of a JSON object, comma-separated, as
 * text; empty or not) "mamori_live_ID": SQL for each running campaign that
 * has host_id pending, and marks the host asked (a campaign's query reaches
 * each host once).  *accelerate_s (may be NULL) gets the seconds left of
 * the running campaigns that target the host (0 = none).  Returns the
 * number of queries added. */
size_t mm_live_work_for(struct mm_server *srv, int64_t host_id, struct mm_buf *queries,
                        int64_t *accelerate_s);
/* "qid":"sql" as JSON text (a member of the queries object of a read's
 * reply), malloc'ed; NULL when out of memory. */
char *mm_live_query_pair(const char *qid, const char *sql);
/* Takes the answer of host_id to campaign cid when the host was asked and
 * has not answered yet: its event id is taken now, the rows are capped
 * (max_rows, MM_LIVE_CAMPAIGN_BYTES) and copied.  ok: the agent's status;
 * message: its error (may be NULL); rows: array of row objects (borrowed,
 * may be NULL); stats: object or NULL.  Returns NULL when the answer is not
 * wanted (unknown or finished campaign, host not asked or already
 * answered) or memory ran out. */
struct mm_live_answer *mm_live_answer_new(struct mm_server *srv, int64_t cid, int64_t host_id,
                                          int ok, const char *message, const json_t *rows,
                                          const json_t *stats);
/* In a store job (writer thread): writes the answer to campaign_hosts. */
int mm_live_answer_store(sqlite3 *db, const struct mm_live_answer *a, char **err);
/* After the job (loop thread): rc 0 publishes the answer (event, counts,
 * maybe the end of the campaign); otherwise the host is reported as an
 * error naming the store failure.  Frees a. */
void mm_live_answer_done(struct mm_server *srv, struct mm_live_answer *a, int rc, const char *err);
void mm_live_answer_free(struct mm_live_answer *a);

/* ---- long polls and labels (longpoll.c) ------------------------------------ */
/* POST /api/v1/osquery/distributed/read of host h (body parsed, an object):
 * replies at once with what is pending for the host, or parks the read
 * when the body asks for it with "mamori_wait": SECONDS and nothing is
 * pending (see docs/api.md). */
void mm_live_read(struct mm_server *srv, struct mm_http_req *req, struct mm_host *h,
                  const json_t *body);
/* POST /api/v1/osquery/distributed/write of host h (body checked: queries,
 * statuses, messages and stats are objects when present): stores answers
 * to live queries and label queries, replies {} after the commit; a write
 * that carries "mamori_wait" is then answered as a read with it would be
 * (work at once, or held until there is some), so a Mamori agent answering
 * one live query after another needs one request per query. */
void mm_live_write(struct mm_server *srv, struct mm_http_req *req, struct mm_host *h,
                   const json_t *body);
/* Answers the parked reads of these hosts now with their work. */
void mm_live_wake(struct mm_server *srv, const int64_t *host_ids, size_t n);
/* 1 when the host has a read parked. */
int mm_live_parked(int64_t host_id);
/* Reads parked now. */
size_t mm_live_parked_count(void);
/* Distributed requests since the start: reads, writes, and the writes that
 * carried mamori_wait (answered as reads, see mm_live_write). */
struct mm_live_counters {
	uint64_t reads, writes, held_writes;
};
void mm_live_counters(struct mm_live_counters *out);
/* Reloads the dynamic labels from the store (after a change committed):
 * every host gets the new set at its next read, parked reads at once. */
void mm_live_labels_changed(struct mm_server *srv);
/* The tick's part for parked reads: answers those whose deadline (or
 * label evaluation) has come. */
void mm_live_poll_tick(struct mm_server *srv, int64_t now_ms);
/* Loads the dynamic labels (at init).  Returns 0 or MM_ERR_*. */
int mm_live_labels_load(struct mm_server *srv);

#endif
