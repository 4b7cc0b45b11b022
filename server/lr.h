/*
 * lr.h - Live Response's SSH side: one worker thread per session, the
 * coordinator being the SSH client (libssh2) of the host's own sshd.
 *
 * A worker connects, checks the host key the server presents against the
 * keys the host's agent reported (before any authentication: a mismatch
 * ends the attempt with both fingerprints named), authenticates with a
 * fresh certificate (lrcert.h) or the configured plain key, then runs one
 * operation at a time for the loop thread (server/api_lr.c): a command on
 * an exec channel, a file transfer over SFTP, or an interactive PTY shell.
 *
 * Every step is recorded by the worker itself, synchronously
 * (mm_store_run) before the loop hears of it: the session row, the audit
 * record (actions lr.session.open, lr.command, lr.file.put, lr.file.get,
 * lr.shell.start, lr.shell.end, lr.session.close) and the transcript
 * (lr_events: kept output, shell bytes).  So a reply never reaches an
 * operator before its audit record is committed, and a coordinator that
 * stops joins its workers before the store closes: nothing is lost.
 *
 * Threads: the worker owns its libssh2 session and socket (non-blocking;
 * on EAGAIN it polls the socket in the directions libssh2 asks for, and a
 * wake-up pipe).  The loop talks to it only through the functions below
 * (mutex + pipe); the worker talks to the loop only through events posted
 * with mm_http_call, in order, the last one being MM_LR_EV_CLOSED.
 * mm_lr_global_init() (libssh2_init) must run once before any worker.
 */
#ifndef MM_LR_H
#define MM_LR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "lrcert.h"

struct mm_http_server;
struct mm_store;
struct mm_lr_worker;

#define MM_LR_ID_LEN        16          /* session id: hex characters */
#define MM_LR_SHELL_LOG_MAX (64u << 20) /* shell bytes kept in the transcript */
#define MM_LR_INPUT_MAX     (1u << 20)  /* shell input waiting to be written */

/* Calls libssh2_init once.  Returns 0 or MM_ERR_INTERNAL. */
int mm_lr_global_init(void);

/* ---- the REST side (server/api_lr.c) ------------------------------------ */
struct mm_server;
/* Loads the SSH user CA (or user key) when live_response is enabled and
 * starts the idle / maximum-duration timer.  Call after mm_api_mount().
 * Returns 0 or MM_ERR_* with *err (malloc'ed). */
int mm_lr_start(struct mm_server *srv, char **err);
/* Closes every session, waits for the workers (each bounded by the
 * cleanup deadlines) and frees the keys.  Call after the loop stopped and
 * before the store closes, so the close records are written. */
void mm_lr_stop(struct mm_server *srv);
/* `mamori-server lr-setup` and `lr-cert` (server/lrsetup.c): argv[0] is the
 * verb.  Return the exit code. */
int mm_lr_cmd_setup(int argc, char **argv);
int mm_lr_cmd_cert(int argc, char **argv);

/* What a worker needs.  Strings are copied; ca and user_key get a reference. */
struct mm_lr_params {
	const char *session_id; /* MM_LR_ID_LEN hex characters */
	int64_t host_id;
	const char *host;    /* the host's name, for audit targets and messages */
	const char *address; /* where its sshd listens: an IP address */
	int port;
	const char *login;
	const char *const *host_keys; /* pinned OpenSSH public key lines */
	size_t nhost_keys;
	EVP_PKEY *ca;               /* signs the session certificate, or NULL ... */
	EVP_PKEY *user_key;         /* ... to log in with this plain key instead */
	const char *key_id;         /* the certificate's key id */
	const char *source_address; /* certificate source-address; NULL = the socket's */
	int cert_validity_s;
	int connect_timeout_s;
	int command_timeout_s;
	size_t output_cap; /* bytes of each output stream kept */
	size_t put_max;    /* bytes of one file transfer */
	/* the operator, for the records */
	int64_t token_id;
	const char *actor;
	int role; /* MM_ROLE_* */
	const char *actor_address;
};

/* ---- operations --------------------------------------------------------- */

enum mm_lr_op_kind { MM_LR_OP_EXEC, MM_LR_OP_GET, MM_LR_OP_PUT, MM_LR_OP_SHELL };

/* One operation, built by mm_lr_op_build() from the command set. */
struct mm_lr_op {
	int kind;
	char *command;       /* the command as the operator named it: "exec", "ps", ... */
	json_t *args;        /* its arguments as given (array of strings), for the record */
	char *line;          /* EXEC, SHELL: what the host's shell runs */
	char *path;          /* GET, PUT: the remote path, absolute */
	unsigned char *data; /* PUT: the bytes */
	size_t len;
	int mode;       /* PUT: file mode of a new file */
	int is_cd;      /* EXEC: on success stdout is the new directory */
	int cols, rows; /* SHELL */
};
void mm_lr_op_free(struct mm_lr_op *op);

/* Builds the operation for `command args...` run in directory cwd.
 * Commands: ps; kill [-SIGNAL] PID; ls|dir [PATH]; cd PATH; pwd; cat FILE
 * (at most cat_cap bytes); get REMOTE; put REMOTE (data, len: the file,
 * copied; mode); exec CMD...; shell.  `sql` (run by server/api_lr.c as a
 * live query, never over SSH) and unknown commands are refused.  Returns 0, or MM_ERR_USAGE / MM_ERR_NOMEM with *err (malloc'ed,
 * for a 400/422 reply naming the problem). */
int mm_lr_op_build(const char *command, const json_t *args, const char *cwd, size_t cat_cap,
                   const unsigned char *data, size_t len, int mode, struct mm_lr_op **out,
                   char **err);
/* Appends s single-quoted for sh ('it'\''s').  Returns 0 or MM_ERR_*. */
int mm_lr_shquote(struct mm_buf *b, const char *s);
/* Joins a path to a directory ("x" in "/a" is "/a/x"; "/x" stays). malloc'ed. */
char *mm_lr_path_join(const char *cwd, const char *path);

/* ---- events, delivered on the loop thread -------------------------------- */

enum mm_lr_ev_kind {
	MM_LR_EV_OPENED,     /* authenticated: host_key, cwd set */
	MM_LR_EV_RESULT,     /* an operation finished: status, body */
	MM_LR_EV_SHELL_DATA, /* output of the shell: data, len, offset */
	MM_LR_EV_SHELL_END,  /* the shell ended: exit_status, body */
	MM_LR_EV_CLOSED,     /* the last event: status/body when opening failed */
};

struct mm_lr_event {
	int kind;
	void *owner;
	int status;   /* RESULT, CLOSED: the HTTP status to answer with */
	json_t *body; /* RESULT, SHELL_END: the reply; CLOSED: {"error", "detail"} when
	                 opening failed, else NULL */
	char *cwd;    /* OPENED: home directory; RESULT: the directory after a cd */
	char host_key[MM_SSH_FP_LEN + 72]; /* OPENED: "TYPE SHA256:..." */
	unsigned char *data;               /* SHELL_DATA */
	size_t len;
	uint64_t offset;                    /* SHELL_DATA: bytes of output before this chunk */
	int opened;                         /* CLOSED: 1 when the session had opened */
	char reason[160];                   /* CLOSED: why it ended */
	void (*fn)(struct mm_lr_event *ev); /* internal: who receives it */
};
void mm_lr_event_free(struct mm_lr_event *ev);

typedef void (*mm_lr_event_fn)(struct mm_lr_event *ev);

/* Starts a worker: it connects at once and posts OPENED or (failure)
 * CLOSED, then waits for operations.  Events go to fn on http's loop with
 * ev->owner = owner; fn owns ev.  Returns 0 or MM_ERR_* with *err. */
int mm_lr_worker_start(const struct mm_lr_params *p, struct mm_http_server *http,
                       struct mm_store *store, mm_lr_event_fn fn, void *owner,
                       struct mm_lr_worker **out, char **err);
/* Hands an operation to the worker (it takes op).  One at a time: returns
 * MM_ERR_LIMIT when one is running, 0 when taken.  A SHELL operation runs
 * until the shell ends or mm_lr_worker_shell_close(). */
int mm_lr_worker_submit(struct mm_lr_worker *w, struct mm_lr_op *op);
/* Queues input for the shell.  Returns 0, MM_ERR_NOTFOUND when no shell
 * runs, MM_ERR_TOOBIG when more than MM_LR_INPUT_MAX bytes wait. */
int mm_lr_worker_shell_input(struct mm_lr_worker *w, const void *data, size_t len);
/* Ends the shell (as if it exited). */
void mm_lr_worker_shell_close(struct mm_lr_worker *w);
/* Asks the worker to end the session (stopping any running command and
 * killing its processes); the first reason given is recorded.  CLOSED
 * follows. */
void mm_lr_worker_close(struct mm_lr_worker *w, const char *reason);
/* Waits for the thread to end (after CLOSED, or after close at shutdown)
 * and frees the worker.  NULL is fine. */
void mm_lr_worker_free(struct mm_lr_worker *w);

#endif
