/*
 * opapi.h - helpers shared by the operator API handlers (server/api_*.c)
 * and the authorization layer (server/auth.c).
 *
 * Reads run on the loop thread through the store's reader connection and
 * reply at once.  Changes run as store jobs on the writer thread; the
 * request is kept until the job's transaction has committed and the reply
 * is sent from the done callback on the loop thread.  The op_job below
 * carries what every such change needs: the server, the kept request, a
 * copy of the caller (for the audit record written in the same job) and a
 * way for the job to refuse with a precise status (404, 409, ...).
 */
#ifndef MM_OPAPI_H
#define MM_OPAPI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "server.h"

/* Caps of the operator API. */
#define OP_LIST_LIMIT_DEFAULT 1000   /* rows per page (results, audit) */
#define OP_LIST_LIMIT_MAX 10000
#define OP_REPLY_CAP (32u << 20)     /* bytes of one list reply; a page may hold fewer rows */
#define OP_NAME_MAX 64               /* token and pack names */

/* ---- the caller, copied so it outlives the request ----------------------- */
struct op_actor {
	struct mm_actor a;          /* a.name / a.address point at the copies below */
	char *name;
	char *address;
};
/* Copies src (NULL = the system) into dst.  Returns 0 or MM_ERR_NOMEM. */
int op_actor_copy(struct op_actor *dst, const struct mm_actor *src);
void op_actor_clear(struct op_actor *a);

/* ---- changes as store jobs ----------------------------------------------- */
struct op_job;
/* Replies on success (loop thread, after commit). */
typedef void (*op_job_ok_fn)(struct op_job *j);
/* Frees the whole job (it embeds struct op_job first). */
typedef void (*op_job_free_fn)(struct op_job *j);

struct op_job {
	struct mm_server *srv;
	struct mm_http_req *req;
	struct op_actor actor;
	int fail_status;            /* set by the job fn when it refuses: 404, 409, 422 */
	char fail_msg[200];         /* the error text for that refusal */
	char fail_detail[200];      /* its detail, "" = null */
	op_job_ok_fn ok;
	op_job_free_fn free;
};

/* Fills the common part.  Returns 0 or MM_ERR_NOMEM. */
int op_job_init(struct op_job *j, struct mm_server *srv, struct mm_http_req *req,
		const struct mm_actor *actor, op_job_ok_fn ok, op_job_free_fn free_fn);
/* Keeps the request and queues fn(db, j).  When the job's transaction has
 * committed, j->ok replies; when it failed, an error is sent (j->fail_status
 * and messages if the job set them, else 500/503).  Either way the request
 * is released and j->free(j) runs.  When the queue is full the reply is
 * 503 and j is freed at once.  The caller must not touch j afterwards. */
void op_job_submit(struct op_job *j, mm_store_job_fn fn);
/* For job fns: records a refusal and returns code (e.g. MM_ERR_NOTFOUND). */
int op_job_refuse(struct op_job *j, int status, int code, const char *msg, const char *detail);

/* ---- SQL helpers --------------------------------------------------------- */
/* Sets *err (sqlite3_mprintf) to db's message and returns MM_ERR_SQL. */
int op_sqlerr(sqlite3 *db, char **err);
/* Column i of the current row as JSON: null, an integer, a real, or the
 * text as a string.  A new reference. */
json_t *op_col_json(sqlite3_stmt *st, int i);
/* Replies 500 with db's last message. */
void op_reply_db_error(struct mm_http_req *req, sqlite3 *db);

/* Replies {"KEY": [rows], "next_after": ID|null} from a statement whose
 * column 0 is the row id and column 1 a JSON object as text.  The statement
 * should yield limit + 1 rows when there are more: next_after is the last
 * id sent when more rows remain (past limit, or past the reply cap), else
 * null.  paged 0: no next_after member, every row is sent
 * (limit is ignored) and a list over the reply cap is a 500.  Finalizes st. */
void op_reply_list(struct mm_http_req *req, const char *key, sqlite3_stmt *st, int64_t limit,
		   int paged);

/* ---- request parameters ---------------------------------------------------- */
/* Reads an integer query parameter in [min, max]; absent -> def.  Returns 0,
 * or -1 after replying 400 naming the parameter. */
int op_param_i64(struct mm_http_req *req, const char *name, int64_t min, int64_t max,
		 int64_t def, int64_t *out);
/* 1 when s is a decimal id without sign or leading junk (1..2^63-1). */
int op_is_id(const char *s, int64_t *id);
/* Checks a name (tokens, packs): 1..OP_NAME_MAX of [A-Za-z0-9_.-], not
 * starting with '.' or '-'.  Returns 1 when fine. */
int op_name_ok(const char *s);
/* A string member of an object, or NULL when absent or not a string. */
const char *op_json_str(const json_t *o, const char *key);

/* ---- authorization (server/auth.c) ------------------------------------------ */
/* Drops every cached token so the next request re-reads the tokens table
 * (called when a token is revoked, before and after the commit). */
void mm_auth_forget(void);
/* The last time (Unix s) this process saw the token used and has not yet
 * written to the store, or 0. */
int64_t mm_auth_last_used(int64_t token_id);

#endif
