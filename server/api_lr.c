/*
 * api_lr.c - Live Response: audited remote shells over SSH for remediation
 * (docs/live-response.md, docs/api.md).
 *
 *   POST   /api/v1/mamori/hostkeys             agent: its sshd's host keys (pinned)
 *   POST   /api/v1/lr/sessions                 {"host"}: open a session
 *   GET    /api/v1/lr/sessions                 the live sessions (a responder: its own)
 *   GET    /api/v1/lr/sessions/ID              one session (live, or from the store)
 *   DELETE /api/v1/lr/sessions/ID              close it (its owner, or an admin)
 *   POST   /api/v1/lr/sessions/ID/commands     {"command", "args", "data", "mode"}
 *   POST   /api/v1/lr/sessions/ID/shell        start the interactive shell
 *   GET    /api/v1/lr/sessions/ID/shell        its output as Server-Sent Events
 *   POST   /api/v1/lr/sessions/ID/shell/input  {"data": base64} or {"text"}
 *   DELETE /api/v1/lr/sessions/ID/shell        end it
 *   GET    /api/v1/lr/sessions/ID/audit        the session's transcript (replay)
 *
 * Roles: admin and responder only.  Commands, shells and input belong to
 * the responder who opened the session; an admin may also list, show,
 * watch, replay and close any session.
 *
 * The SSH work happens in one worker thread per session (lr.c), which also
 * writes every record; this file keeps the live sessions on the loop
 * thread, turns requests into operations, relays the worker's events into
 * replies and streams, and closes sessions that are idle past
 * idle_timeout or older than max_duration.  Refusals that happen here
 * (unknown host, Live Response off, too many sessions, busy, bad command)
 * go to the audit log through mm_audit_log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "campaign.h"
#include "error.h"
#include "hosts.h"
#include "lr.h"
#include "lrcert.h"
#include "opapi.h"
#include "server.h"
#include "strutil.h"

#define LR_ROLES      (MM_ROLE_ADMIN | MM_ROLE_RESPONDER)
#define TICK_MS       1000
#define RING_MAX      (1u << 20) /* shell output kept for streams that join late */
#define MAX_STREAMS   4          /* per session */
#define MAX_HOST_KEYS 16
#define LOGIN_MAX     32

enum { S_CONNECTING, S_OPEN, S_CLOSING };
enum { P_NONE, P_OPEN, P_COMMAND, P_SHELL };

struct lr_sess {
	struct lr_sess *next;
	char id[MM_LR_ID_LEN + 1];
	int64_t host_id;
	char *host, *address, *login, *key_id, *cwd;
	int port;
	struct op_actor owner;
	int state;
	int64_t opened_at; /* Unix s */
	int64_t last_ms;   /* last activity (loop clock) */
	int64_t started_ms;
	char host_key[MM_SSH_FP_LEN + 72];
	struct mm_lr_worker *w;
	struct mm_http_req *req;        /* waiting for OPENED or a RESULT */
	int pending;                    /* P_*: what req waits for */
	struct mm_http_req *closers[4]; /* DELETE requests waiting for CLOSED */
	int busy;                       /* an operation (or the shell) runs */
	int shell;                      /* the shell runs */
	int shell_ended;                /* the last shell ended: exit event for late streams */
	json_t *shell_end;              /* its summary */
	struct mm_buf ring;             /* the last RING_MAX bytes of shell output */
	uint64_t ring_off;              /* stream offset of ring.data[0] */
	uint64_t shell_total;
	struct mm_http_req *streams[MAX_STREAMS];
	int commands;
	struct sql_run *sql; /* `sql` waiting for the host's answer */
};

static struct {
	struct mm_server *srv;
	EVP_PKEY *ca, *user_key;
	struct lr_sess *sessions;
	size_t nsessions;
	int stopping;
	int timer;
} lr;

/* ---- helpers ----------------------------------------------------------------------- */

static void refuse(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor,
                   const char *action, const char *target, int status, const char *msg,
                   const char *detail, json_t *extra)
{
	json_t *d = extra != NULL ? extra : json_object();

	json_object_set_new(d, "reason", json_string(msg));
	if (detail != NULL)
		json_object_set_new(d, "detail", json_string(detail));
	mm_audit_log(srv, actor, NULL, action, target, d, status);
	mm_http_reply_error(req, status, msg, detail);
}

static const char *role_name(int role)
{
	const char *n = mm_role_name(role);

	return n != NULL ? n : "";
}

static json_t *sess_json(const struct lr_sess *s)
{
	const struct mm_server_config *c = &lr.srv->cfg;
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(s->id));
	json_object_set_new(o, "host_id", json_integer(s->host_id));
	json_object_set_new(o, "host", json_string(s->host));
	json_object_set_new(o, "address", json_string(s->address));
	json_object_set_new(o, "port", json_integer(s->port));
	json_object_set_new(o, "login", json_string(s->login));
	json_object_set_new(o, "operator", json_string(s->owner.a.name));
	json_object_set_new(o, "role", json_string(role_name(s->owner.a.role)));
	json_object_set_new(o, "state",
	                    json_string(s->state == S_CONNECTING ? "connecting"
	                                : s->state == S_OPEN     ? "open"
	                                                         : "closing"));
	json_object_set_new(o, "opened_at", json_integer(s->opened_at));
	json_object_set_new(o, "last_activity", json_integer(s->last_ms / 1000));
	json_object_set_new(o, "cwd", s->cwd != NULL ? json_string(s->cwd) : json_null());
	json_object_set_new(o, "host_key",
	                    s->host_key[0] != '\0' ? json_string(s->host_key) : json_null());
	json_object_set_new(o, "key_id", json_string(s->key_id));
	json_object_set_new(o, "busy", json_boolean(s->busy));
	json_object_set_new(o, "shell", json_boolean(s->shell));
	json_object_set_new(o, "commands", json_integer(s->commands));
	json_object_set_new(o, "idle_timeout", json_integer(c->lr.idle_timeout_s));
	json_object_set_new(o, "max_duration", json_integer(c->lr.max_duration_s));
	json_object_set_new(o, "command_timeout", json_integer(c->lr.command_timeout_s));
	json_object_set_new(o, "output_cap", json_integer(c->lr.output_cap));
	json_object_set_new(o, "put_max", json_integer(c->lr.put_max));
	return o;
}

struct sql_run;
static void sql_run_free(struct sql_run *r);
static uint64_t sql_run_token(const struct sql_run *r);

static void sess_free(struct lr_sess *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->sql != NULL) {
		mm_live_run_forget(sql_run_token(s->sql));
		sql_run_free(s->sql);
	}
	mm_lr_worker_free(s->w);
	free(s->host);
	free(s->address);
	free(s->login);
	free(s->key_id);
	free(s->cwd);
	op_actor_clear(&s->owner);
	json_decref(s->shell_end);
	mm_buf_free(&s->ring);
	for (i = 0; i < MAX_STREAMS; i++)
		if (s->streams[i] != NULL) {
			mm_http_stream_end(s->streams[i]);
			mm_http_release(s->streams[i]);
		}
	free(s);
}

static void sess_unlink(struct lr_sess *s)
{
	struct lr_sess **pp;

	for (pp = &lr.sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			lr.nsessions--;
			return;
		}
}

static struct lr_sess *sess_find(const char *id)
{
	struct lr_sess *s;

	for (s = lr.sessions; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* The live session ID for actor: admins may use any when any_admin is set,
 * responders only theirs.  Replies 404 / 403 and returns NULL otherwise. */
static struct lr_sess *sess_for(struct mm_http_req *req, const struct mm_actor *actor,
                                const char *id, int any_admin)
{
	struct lr_sess *s = sess_find(id);
	char d[160];

	if (s == NULL) {
		mm_http_reply_error(req, 404, "no such live session", id);
		return NULL;
	}
	if (s->owner.a.token_id != actor->token_id &&
	    !(any_admin && actor->role == MM_ROLE_ADMIN)) {
		snprintf(d, sizeof(d), "session %s belongs to %s", s->id, s->owner.a.name);
		mm_http_reply_error(req, 403, "not your session", d);
		return NULL;
	}
	return s;
}

/* ---- streams of the shell's output --------------------------------------------- */

static void stream_closed(struct mm_http_req *r, void *arg)
{
	struct lr_sess *s = arg;
	size_t i;

	for (i = 0; i < MAX_STREAMS; i++)
		if (s->streams[i] == r) {
			s->streams[i] = NULL;
			mm_http_release(r);
			return;
		}
}

/* Sends bytes [off, off + len) as one "output" event. */
static int stream_output(struct mm_http_req *r, const unsigned char *p, size_t len, uint64_t off)
{
	char *enc = mm_b64_encode(p, len), head[64];
	int rc;

	if (enc == NULL)
		return MM_ERR_NOMEM;
	snprintf(head, sizeof(head),
	         "id: %llu\nevent: output\ndata: ", (unsigned long long)(off + len));
	rc = mm_http_stream_send(r, head, strlen(head));
	if (rc == 0)
		rc = mm_http_stream_send(r, enc, strlen(enc));
	if (rc == 0)
		rc = mm_http_stream_send(r, "\n\n", 2);
	free(enc);
	return rc;
}

static void stream_exit(struct mm_http_req *r, const json_t *end)
{
	char *t = json_dumps(end, JSON_COMPACT);

	mm_http_stream_send(r, "event: exit\ndata: ", 18);
	if (t != NULL)
		mm_http_stream_send(r, t, strlen(t));
	mm_http_stream_send(r, "\n\n", 2);
	free(t);
	mm_http_stream_end(r);
}

static void streams_end(struct lr_sess *s, const json_t *end)
{
	size_t i;

	for (i = 0; i < MAX_STREAMS; i++)
		if (s->streams[i] != NULL) {
			if (end != NULL)
				stream_exit(s->streams[i], end);
			else
				mm_http_stream_end(s->streams[i]);
			mm_http_release(s->streams[i]);
			s->streams[i] = NULL;
		}
}

static void ring_add(struct lr_sess *s, const unsigned char *p, size_t n)
{
	if (n >= RING_MAX) {
		p += n - RING_MAX;
		s->ring_off += s->ring.len + (n - RING_MAX);
		n = RING_MAX;
		mm_buf_reset(&s->ring);
	} else if (s->ring.len + n > RING_MAX) {
		size_t drop = s->ring.len + n - RING_MAX;

		memmove(s->ring.data, s->ring.data + drop, s->ring.len - drop);
		s->ring.len -= drop;
		s->ring_off += drop;
	}
	mm_buf_add(&s->ring, p, n);
}

/* ---- the worker's events ------------------------------------------------------------ */

static void reply_pending(struct lr_sess *s, int status, json_t *body)
{
	if (s->req == NULL) {
		json_decref(body);
		return;
	}
	mm_http_reply_json(s->req, status, body);
	mm_http_release(s->req);
	s->req = NULL;
	s->pending = P_NONE;
}

static void on_event(struct mm_lr_event *ev)
{
	struct lr_sess *s = ev->owner;
	int64_t now = lr.srv != NULL ? mm_http_now_ms(lr.srv->http) : 0;
	size_t i;

	switch (ev->kind) {
	case MM_LR_EV_OPENED:
		if (s->state == S_CONNECTING)
			s->state = S_OPEN;
		free(s->cwd);
		s->cwd = ev->cwd;
		ev->cwd = NULL;
		snprintf(s->host_key, sizeof(s->host_key), "%s", ev->host_key);
		s->last_ms = now;
		s->started_ms = now;
		reply_pending(s, 200, json_pack("{s:o}", "session", sess_json(s)));
		break;
	case MM_LR_EV_RESULT:
		s->last_ms = now;
		if (ev->cwd != NULL) {
			free(s->cwd);
			s->cwd = ev->cwd;
			ev->cwd = NULL;
		}
		if (s->pending == P_SHELL && ev->status == 200) {
			s->shell = 1; /* busy until SHELL_END */
			s->shell_ended = 0;
			json_decref(s->shell_end);
			s->shell_end = NULL;
			mm_buf_reset(&s->ring);
			s->ring_off = 0;
			s->shell_total = 0;
		} else {
			s->busy = 0;
		}
		s->commands++;
		reply_pending(s, ev->status, ev->body);
		ev->body = NULL;
		break;
	case MM_LR_EV_SHELL_DATA:
		s->last_ms = now;
		ring_add(s, ev->data, ev->len);
		s->shell_total = ev->offset + ev->len;
		for (i = 0; i < MAX_STREAMS; i++)
			if (s->streams[i] != NULL &&
			    stream_output(s->streams[i], ev->data, ev->len, ev->offset) != 0) {
				mm_http_release(s->streams[i]);
				s->streams[i] = NULL;
			}
		break;
	case MM_LR_EV_SHELL_END:
		s->last_ms = now;
		s->shell = 0;
		s->busy = 0;
		s->shell_ended = 1;
		json_decref(s->shell_end);
		s->shell_end = ev->body;
		ev->body = NULL;
		streams_end(s, s->shell_end);
		break;
	case MM_LR_EV_CLOSED:
		if (ev->opened)
			reply_pending(s, 503,
			              json_pack("{s:s, s:s}", "error", "the session was closed",
			                        "detail", ev->reason));
		else
			reply_pending(s, ev->status, ev->body);
		ev->body = NULL;
		for (i = 0; i < sizeof(s->closers) / sizeof(s->closers[0]); i++)
			if (s->closers[i] != NULL) {
				mm_http_reply_json(
				    s->closers[i], 200,
				    json_pack("{s:s, s:s}", "closed", s->id, "reason", ev->reason));
				mm_http_release(s->closers[i]);
				s->closers[i] = NULL;
			}
		streams_end(s, s->shell_end);
		sess_unlink(s);
		sess_free(s);
		break;
	}
	mm_lr_event_free(ev);
}

/* Asks a session to close (the worker records it and posts CLOSED). */
static void sess_close(struct lr_sess *s, const char *reason)
{
	s->state = S_CLOSING;
	mm_lr_worker_close(s->w, reason);
}

/* Idle and maximum-duration limits. */
static void tick(void *arg)
{
	const struct mm_lr_config *c;
	struct lr_sess *s;
	char why[96];
	int64_t now;

	(void)arg;
	if (lr.srv == NULL || lr.stopping)
		return;
	c = &lr.srv->cfg.lr;
	now = mm_http_now_ms(lr.srv->http);
	for (s = lr.sessions; s != NULL; s = s->next) {
		if (s->state != S_OPEN)
			continue;
		if (now - s->started_ms >= (int64_t)c->max_duration_s * 1000) {
			snprintf(why, sizeof(why), "maximum duration reached (%d s)",
			         c->max_duration_s);
			sess_close(s, why);
		} else if ((!s->busy || s->shell) &&
		           now - s->last_ms >= (int64_t)c->idle_timeout_s * 1000) {
			snprintf(why, sizeof(why), "idle timeout (%d s without activity)",
			         c->idle_timeout_s);
			sess_close(s, why);
		}
	}
}

int mm_lr_start(struct mm_server *srv, char **err)
{
	*err = NULL;
	lr.srv = srv;
	lr.stopping = 0;
	if (srv->cfg.lr.enabled) {
		if (mm_lr_global_init() != 0) {
			*err = strdup("libssh2 did not initialise");
			return MM_ERR_INTERNAL;
		}
		if (srv->cfg.lr.user_key != NULL) {
			char *e = NULL;
			int r = mm_lrcert_ca_load(srv->cfg.lr.user_key, &lr.user_key, &e);

			if (r != 0) {
				if (asprintf(err, "live_response.user_key: %s", e) < 0)
					*err = NULL;
				free(e);
				return r;
			}
		} else {
			int r = mm_lrcert_ca_load(srv->cfg.lr.ca_key, &lr.ca, err);

			if (r != 0) {
				char *e = *err;

				if (asprintf(err,
				             "live_response.ca_key: %s (mamori-server lr-setup "
				             "makes one)",
				             e) < 0)
					*err = NULL;
				free(e);
				return r;
			}
		}
	}
	if (!lr.timer) {
		mm_http_every(srv->http, TICK_MS, tick, NULL);
		lr.timer = 1;
	}
	return 0;
}

void mm_lr_stop(struct mm_server *srv)
{
	struct lr_sess *s;

	(void)srv;
	lr.stopping = 1;
	for (s = lr.sessions; s != NULL; s = s->next)
		mm_lr_worker_close(s->w, "the coordinator is stopping");
	/* Each worker records its end and posts CLOSED, delivered when the
	 * HTTP layer is freed; the sessions are freed then. */
	for (s = lr.sessions; s != NULL; s = s->next) {
		mm_lr_worker_free(s->w);
		s->w = NULL;
	}
	EVP_PKEY_free(lr.ca);
	EVP_PKEY_free(lr.user_key);
	lr.ca = lr.user_key = NULL;
	lr.timer = 0;
}

/* ---- agent: host keys ---------------------------------------------------------------- */

struct hk_job {
	struct mm_server *srv;
	struct mm_http_req *req;
	int64_t host_id;
	char *identifier;
	int enabled, port;
	char login[LOGIN_MAX + 1];
	char *keys;  /* JSON array text */
	json_t *fps; /* fingerprints, for the audit record */
	int64_t now;
};

static void hk_free(struct hk_job *j)
{
	if (j == NULL)
		return;
	free(j->identifier);
	free(j->keys);
	json_decref(j->fps);
	free(j);
}

static int hk_run(sqlite3 *db, void *arg, char **err)
{
	struct hk_job *j = arg;
	sqlite3_stmt *st;
	int changed = 1, rc;
	json_t *d;

	if ((st = mm_store_stmt(db,
	                        "SELECT enabled, port, login, keys FROM lr_hostkeys"
	                        " WHERE host_id = ?1",
	                        err)) == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_int64(st, 1, j->host_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *l = (const char *)sqlite3_column_text(st, 2);
		const char *k = (const char *)sqlite3_column_text(st, 3);

		changed = sqlite3_column_int(st, 0) != j->enabled ||
		          sqlite3_column_int(st, 1) != j->port || l == NULL ||
		          strcmp(l, j->login) != 0 || k == NULL || strcmp(k, j->keys) != 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return op_sqlerr(db, err);
	if ((st = mm_store_stmt(db,
	                        "INSERT OR REPLACE INTO lr_hostkeys(host_id, enabled, port,"
	                        " login, keys, reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                        err)) == NULL)
		return MM_ERR_SQL;
	sqlite3_bind_int64(st, 1, j->host_id);
	sqlite3_bind_int(st, 2, j->enabled);
	sqlite3_bind_int(st, 3, j->port);
	sqlite3_bind_text(st, 4, j->login, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, j->keys, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, j->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return op_sqlerr(db, err);
	if (!changed)
		return 0;
	d = json_pack("{s:I, s:b, s:i, s:s, s:O}", "host_id", (json_int_t)j->host_id, "enabled",
	              j->enabled, "port", j->port, "login", j->login, "host_keys", j->fps);
	rc = mm_audit_insert(db, NULL, "lr.hostkeys", j->identifier, d, 200);
	json_decref(d);
	return rc;
}

static void hk_done(void *arg, int rc, const char *err)
{
	struct hk_job *j = arg;

	if (rc != 0)
		mm_http_reply_error(j->req, 503, "store unavailable", err);
	else
		mm_http_reply(j->req, 200, "application/json", "{}", 2);
	mm_http_release(j->req);
	hk_free(j);
}

/* "1"/"true"/true/1 -> 1, "0"/"false"/false/0 -> 0, else -1. */
static int json_flag(const json_t *v)
{
	const char *s = json_string_value(v);

	if (json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1))
		return 1;
	if (json_is_false(v) || (json_is_integer(v) && json_integer_value(v) == 0))
		return 0;
	if (s != NULL && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0))
		return 1;
	if (s != NULL && (strcmp(s, "0") == 0 || strcmp(s, "false") == 0))
		return 0;
	return -1;
}

/* A port as a JSON number or string, or -1. */
static int json_port(const json_t *v)
{
	int64_t p = -1;

	if (json_is_integer(v))
		p = json_integer_value(v);
	else if (json_is_string(v) && mm_parse_i64(json_string_value(v), &p) != 0)
		p = -1;
	return p >= 1 && p <= 65535 ? (int)p : -1;
}

static int login_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > LOGIN_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* Checks a live_response object (agent report or enroll host_details).
 * Fills enabled, port, login, keys (new JSON array of "TYPE BASE64"
 * lines) and fps.  Returns NULL when fine, else what is wrong. */
static const char *lr_info_check(const json_t *o, int *enabled, int *port, char *login,
                                 json_t **keys, json_t **fps)
{
	const json_t *v, *k;
	const char *l;
	size_t i;

	*keys = NULL;
	*fps = NULL;
	if (!json_is_object(o))
		return "live_response must be an object";
	if ((*enabled = json_flag(json_object_get(o, "enabled"))) < 0)
		return "live_response.enabled must be true or false";
	v = json_object_get(o, "port");
	*port = v != NULL ? json_port(v) : 22;
	if (*port < 0)
		return "live_response.port must be a port number";
	l = json_string_value(json_object_get(o, "login"));
	if (l != NULL && !login_ok(l))
		return "live_response.login must be a user name";
	snprintf(login, LOGIN_MAX + 1, "%s", l != NULL ? l : "");
	v = json_object_get(o, "host_keys");
	if (v != NULL && !json_is_array(v))
		return "live_response.host_keys must be an array";
	if (json_array_size(v) > MAX_HOST_KEYS)
		return "live_response.host_keys: at most 16 keys";
	*keys = json_array();
	*fps = json_array();
	json_array_foreach(v, i, k)
	{
		const char *line = json_string_value(k);
		unsigned char *blob = NULL;
		char type[64], fp[MM_SSH_FP_LEN + 1], *norm = NULL;
		size_t blen = 0;

		if (line == NULL || strlen(line) > MM_SSH_KEY_LINE_MAX ||
		    mm_ssh_pubkey_parse(line, type, &blob, &blen) != 0) {
			json_decref(*keys);
			json_decref(*fps);
			*keys = *fps = NULL;
			return "live_response.host_keys: not an OpenSSH public key line";
		}
		mm_ssh_fingerprint(blob, blen, fp);
		/* Stored as TYPE BASE64 without the comment. */
		norm = mm_b64_encode(blob, blen);
		if (norm != NULL) {
			char *t = NULL;

			if (asprintf(&t, "%s %s", type, norm) >= 0) {
				json_array_append_new(*keys, json_string(t));
				free(t);
			}
			free(norm);
		}
		json_array_append_new(*fps, json_sprintf("%s %s", type, fp));
		free(blob);
	}
	return NULL;
}

static void h_hostkeys(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	struct mm_host *host;
	struct hk_job *j = NULL;
	json_t *body, *keys = NULL, *fps = NULL;
	const char *why;
	char login[LOGIN_MAX + 1];
	int enabled = 0, port = 22;

	(void)actor;
	if ((body = mm_http_json_body(req, 1)) == NULL)
		return;
	if ((host = mm_hosts_auth(srv, req, body)) == NULL)
		goto out;
	if ((why = lr_info_check(json_object_get(body, "live_response"), &enabled, &port, login,
	                         &keys, &fps)) != NULL) {
		mm_http_reply_error(req, 400, why, NULL);
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->identifier = strdup(host->host_identifier)) == NULL ||
	    (j->keys = json_dumps(keys, JSON_COMPACT)) == NULL) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	j->srv = srv;
	j->req = req;
	j->host_id = host->id;
	j->enabled = enabled;
	j->port = port;
	snprintf(j->login, sizeof(j->login), "%s", login);
	j->fps = fps;
	fps = NULL;
	j->now = mm_http_now_ms(srv->http) / 1000;
	mm_http_keep(req, NULL, NULL);
	if (mm_store_submit(srv->store, hk_run, hk_done, j) != 0) {
		mm_http_reply_error(req, 503, "store queue full", "retry later");
		mm_http_release(req);
		goto out;
	}
	j = NULL;
out:
	hk_free(j);
	json_decref(keys);
	json_decref(fps);
	json_decref(body);
}

/* ---- opening a session ------------------------------------------------------------- */

/* What the coordinator knows to reach a host. */
struct target {
	char *host; /* hostname (or identifier) */
	char *address;
	int enabled, port;
	char login[LOGIN_MAX + 1];
	json_t *keys; /* array of lines */
};

static void target_clear(struct target *t)
{
	free(t->host);
	free(t->address);
	json_decref(t->keys);
	memset(t, 0, sizeof(*t));
}

/* Reads the host's name, address and reported Live Response settings: the
 * latest /hostkeys report, else what it sent at enrollment.  Returns 0, or
 * -1 after replying 500. */
static int target_load(struct mm_server *srv, struct mm_http_req *req, int64_t id, struct target *t)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	struct mm_host *h;
	const char *name, *addr;
	int r = -1;

	memset(t, 0, sizeof(*t));
	if (sqlite3_prepare_v2(db,
	                       "SELECT h.hostname, h.host_identifier, h.address,"
	                       " json_extract(h.details, '$.mamori_live_response'), k.enabled,"
	                       " k.port, k.login, k.keys FROM hosts h LEFT JOIN lr_hostkeys k"
	                       " ON k.host_id = h.id WHERE h.id = ?1",
	                       -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		op_reply_db_error(req, db);
		goto out;
	}
	name = (const char *)sqlite3_column_text(st, 0);
	if (name == NULL || name[0] == '\0')
		name = (const char *)sqlite3_column_text(st, 1);
	t->host = strdup(name != NULL ? name : "?");
	h = mm_hosts_by_id(srv->hosts, id);
	addr = h != NULL && h->address[0] != '\0' ? h->address
	                                          : (const char *)sqlite3_column_text(st, 2);
	t->address = strdup(addr != NULL ? addr : "");
	if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
		const char *l = (const char *)sqlite3_column_text(st, 6);

		t->enabled = sqlite3_column_int(st, 4);
		t->port = sqlite3_column_int(st, 5);
		snprintf(t->login, sizeof(t->login), "%s", l != NULL ? l : "");
		t->keys = json_loads((const char *)sqlite3_column_text(st, 7), 0, NULL);
	} else if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		json_t *o = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL), *fps;

		if (lr_info_check(o, &t->enabled, &t->port, t->login, &t->keys, &fps) != NULL)
			t->enabled = 0;
		json_decref(fps);
		json_decref(o);
	}
	if (t->host == NULL || t->address == NULL) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	if (r != 0)
		target_clear(t);
	return r;
}

/* A key id: the session, the operator and the host, printable ASCII only. */
static char *make_key_id(const char *sid, const char *op, const char *host)
{
	char *k = NULL, *p;

	if (asprintf(&k, "mamori-lr session=%s operator=%s host=%.128s", sid, op, host) < 0)
		return NULL;
	for (p = k; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 && *p != ' ')
			*p = '?';
		else if ((unsigned char)*p > 0x7e)
			*p = '?';
	return k;
}

static void h_open(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	const struct mm_lr_config *c = &srv->cfg.lr;
	struct mm_lr_params p;
	struct target t;
	struct lr_sess *s = NULL, *o;
	const char **lines = NULL;
	const char *hname;
	json_t *body;
	char *err = NULL, msg[200], det[200];
	int64_t id;
	size_t i;

	memset(&t, 0, sizeof(t));
	if ((body = mm_http_json_body(req, 0)) == NULL)
		return;
	hname = op_json_str(body, "host");
	if (hname == NULL || hname[0] == '\0') {
		mm_http_reply_error(req, 400, "host is required", "{\"host\": ID or name}");
		goto out;
	}
	if (!c->enabled) {
		refuse(srv, req, actor, "lr.session.open", hname, 403,
		       "Live Response is switched off on this coordinator",
		       "live_response.enabled is false in the coordinator's configuration", NULL);
		goto out;
	}
	if ((id = mm_compliance_resolve_host(srv, req, hname)) <= 0) {
		mm_audit_log(
		    srv, actor, NULL, "lr.session.open", hname,
		    json_pack("{s:s}", "reason", id == 0 ? "unknown host" : "ambiguous host name"),
		    id == 0 ? 404 : 409);
		goto out;
	}
	if (target_load(srv, req, id, &t) != 0)
		goto out;
	if (!t.enabled || json_array_size(t.keys) == 0) {
		snprintf(msg, sizeof(msg), "Live Response is not enabled on %s", t.host);
		refuse(srv, req, actor, "lr.session.open", t.host, 409, msg,
		       t.enabled ? "its agent reported no SSH host key"
		                 : "set live_response.enabled: true in its agent's configuration",
		       json_pack("{s:I}", "host_id", (json_int_t)id));
		goto out;
	}
	if (t.address[0] == '\0') {
		refuse(srv, req, actor, "lr.session.open", t.host, 409,
		       "no address known for the host", "the host has not checked in", NULL);
		goto out;
	}
	for (o = lr.sessions; o != NULL; o = o->next)
		if (o->host_id == id) {
			snprintf(msg, sizeof(msg), "%s already has a Live Response session",
			         t.host);
			snprintf(det, sizeof(det), "session %s, opened by %s", o->id,
			         o->owner.a.name);
			refuse(srv, req, actor, "lr.session.open", t.host, 409, msg, det, NULL);
			goto out;
		}
	if (lr.nsessions >= (size_t)c->max_sessions) {
		snprintf(det, sizeof(det), "max_sessions is %d", c->max_sessions);
		refuse(srv, req, actor, "lr.session.open", t.host, 429,
		       "too many Live Response sessions", det, NULL);
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || op_actor_copy(&s->owner, actor) != 0 ||
	    mm_random_hex(s->id, MM_LR_ID_LEN / 2) != 0) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	s->host_id = id;
	s->host = t.host;
	s->address = t.address;
	t.host = t.address = NULL;
	s->port = t.port;
	s->login = strdup(t.login[0] != '\0' ? t.login : c->login);
	s->key_id = make_key_id(s->id, actor->name, s->host);
	s->opened_at = mm_http_now_ms(srv->http) / 1000;
	s->last_ms = s->started_ms = mm_http_now_ms(srv->http);
	mm_buf_init(&s->ring, RING_MAX);
	if (s->login == NULL || s->key_id == NULL ||
	    (lines = calloc(json_array_size(t.keys) + 1, sizeof(*lines))) == NULL) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	for (i = 0; i < json_array_size(t.keys); i++)
		lines[i] = json_string_value(json_array_get(t.keys, i));
	memset(&p, 0, sizeof(p));
	p.session_id = s->id;
	p.host_id = id;
	p.host = s->host;
	p.address = s->address;
	p.port = s->port;
	p.login = s->login;
	p.host_keys = lines;
	p.nhost_keys = json_array_size(t.keys);
	p.ca = lr.ca;
	p.user_key = lr.user_key;
	p.key_id = s->key_id;
	p.source_address = c->source_address;
	p.cert_validity_s = c->cert_validity_s;
	p.connect_timeout_s = c->connect_timeout_s;
	p.command_timeout_s = c->command_timeout_s;
	p.output_cap = (size_t)c->output_cap;
	p.put_max = (size_t)c->put_max;
	p.token_id = actor->token_id;
	p.actor = actor->name;
	p.role = actor->role;
	p.actor_address = actor->address;
	if (mm_lr_worker_start(&p, srv->http, srv->store, on_event, s, &s->w, &err) != 0) {
		mm_http_reply_error(req, 503, "cannot start the session", err);
		goto out;
	}
	s->next = lr.sessions;
	lr.sessions = s;
	lr.nsessions++;
	s->req = req;
	s->pending = P_OPEN;
	mm_http_keep(req, NULL, NULL);
	s = NULL;
out:
	free(err);
	free(lines);
	sess_free(s);
	target_clear(&t);
	json_decref(body);
}

/* ---- the live sessions ---------------------------------------------------------------- */

static void h_list(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	json_t *a = json_array();
	struct lr_sess *s;

	(void)srv;
	for (s = lr.sessions; s != NULL; s = s->next)
		if (actor->role == MM_ROLE_ADMIN || s->owner.a.token_id == actor->token_id)
			json_array_append_new(a, sess_json(s));
	mm_http_reply_json(req, 200, json_pack("{s:o}", "sessions", a));
}

/* Splits "ID/what" into id (copied into out) and what ("" when none). */
static const char *split_rest(struct mm_http_req *req, char *id, size_t idsz)
{
	const char *rest = mm_http_path_rest(req), *slash = strchr(rest, '/');
	size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);

	if (n >= idsz)
		n = idsz - 1;
	memcpy(id, rest, n);
	id[n] = '\0';
	return slash != NULL ? slash + 1 : "";
}

/* A closed session's row as JSON, or NULL (not found; replied). */
static json_t *stored_session(struct mm_server *srv, struct mm_http_req *req, const char *id)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int rc;

	if (sqlite3_prepare_v2(
	        db,
	        "SELECT json_object('id', id, 'host_id', host_id, 'host', host,"
	        " 'address', address, 'port', port, 'login', login, 'operator', actor,"
	        " 'role', role, 'token_id', token_id, 'state', state, 'opened_at',"
	        " opened_at, 'closed_at', closed_at, 'close_reason', close_reason,"
	        " 'key_id', key_id, 'host_key', host_key, 'commands', commands)"
	        " FROM lr_sessions WHERE id = ?1",
	        -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		o = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	if (rc == SQLITE_DONE)
		mm_http_reply_error(req, 404, "no such session", id);
	else if (rc != SQLITE_ROW || o == NULL)
		op_reply_db_error(req, db);
	sqlite3_finalize(st);
	return o;
}

/* The transcript: GET .../ID/audit?after=N&limit=M. */
static void h_replay(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor,
                     const char *id)
{
	sqlite3 *db = mm_store_reader(srv->store);
	sqlite3_stmt *st = NULL;
	json_t *sess, *events = NULL;
	int64_t after, limit, last = 0, n = 0;
	size_t bytes = 0;
	int rc, more = 0;

	if ((sess = stored_session(srv, req, id)) == NULL)
		return;
	if (actor->role != MM_ROLE_ADMIN &&
	    json_integer_value(json_object_get(sess, "token_id")) != actor->token_id) {
		mm_http_reply_error(req, 403, "not your session",
		                    "only an admin may replay another responder's session");
		goto out;
	}
	if (op_param_i64(req, "after", 0, INT64_MAX, 0, &after) != 0 ||
	    op_param_i64(req, "limit", 1, OP_LIST_LIMIT_MAX, OP_LIST_LIMIT_DEFAULT, &limit) != 0)
		goto out;
	if (sqlite3_prepare_v2(
	        db,
	        "SELECT id, time, kind, detail, data FROM lr_events WHERE session = ?1"
	        " AND id > ?2 ORDER BY id LIMIT ?3",
	        -1, &st, NULL) != SQLITE_OK) {
		op_reply_db_error(req, db);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, limit + 1);
	events = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *data = sqlite3_column_blob(st, 4);
		int dlen = sqlite3_column_bytes(st, 4);
		json_t *e;
		char *enc = NULL;

		if (n == limit || bytes > OP_REPLY_CAP / 2) {
			more = 1;
			break;
		}
		e = json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		              "time", (json_int_t)sqlite3_column_int64(st, 1), "kind",
		              (const char *)sqlite3_column_text(st, 2), "detail",
		              json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL));
		if (e == NULL)
			continue;
		if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
		    (enc = mm_b64_encode(data != NULL ? data : "", (size_t)dlen)) != NULL) {
			json_object_set_new(e, "data", json_string(enc));
			bytes += strlen(enc);
			free(enc);
		} else {
			json_object_set_new(e, "data", json_null());
		}
		bytes += 256;
		last = sqlite3_column_int64(st, 0);
		json_array_append_new(events, e);
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		op_reply_db_error(req, db);
		goto out;
	}
	json_object_del(sess, "token_id");
	mm_http_reply_json(req, 200,
	                   json_pack("{s:O, s:O, s:o}", "session", sess, "events", events,
	                             "next_after", more ? json_integer(last) : json_null()));
out:
	sqlite3_finalize(st);
	json_decref(events);
	json_decref(sess);
}

/* GET /api/v1/lr/sessions/ID[/shell|/audit] */
static void h_get(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	char id[MM_LR_ID_LEN + 8];
	const char *what = split_rest(req, id, sizeof(id));
	struct lr_sess *s;

	if (strcmp(what, "audit") == 0) {
		h_replay(srv, req, actor, id);
		return;
	}
	if (strcmp(what, "shell") == 0) {
		const char *from_s = mm_http_header(req, "Last-Event-ID");
		int64_t from = 0;
		size_t i, slot;

		if ((s = sess_for(req, actor, id, 1)) == NULL)
			return;
		if (from_s == NULL)
			from_s = mm_http_query(req, "from");
		if (from_s != NULL && (mm_parse_i64(from_s, &from) != 0 || from < 0)) {
			mm_http_reply_error(req, 400, "from must be a byte offset", from_s);
			return;
		}
		if (!s->shell && !s->shell_ended) {
			mm_http_reply_error(req, 409, "no shell in this session",
			                    "start one with POST .../shell");
			return;
		}
		for (slot = 0; slot < MAX_STREAMS && s->streams[slot] != NULL; slot++)
			;
		if (slot == MAX_STREAMS && s->shell) {
			mm_http_reply_error(req, 429, "too many streams on this session", NULL);
			return;
		}
		mm_http_keep(req, stream_closed, s);
		mm_http_set_header(req, "Cache-Control", "no-store");
		mm_http_stream_begin(req, 200, "text/event-stream");
		/* What the stream missed, as far as the ring still holds it. */
		if ((uint64_t)from < s->ring_off)
			from = (int64_t)s->ring_off;
		i = (size_t)((uint64_t)from - s->ring_off);
		if (i < s->ring.len)
			stream_output(req, (const unsigned char *)s->ring.data + i, s->ring.len - i,
			              (uint64_t)from);
		if (!s->shell) {
			stream_exit(req, s->shell_end);
			mm_http_release(req);
			return;
		}
		s->streams[slot] = req;
		return;
	}
	if (what[0] != '\0') {
		mm_http_reply_error(req, 404, "not found", mm_http_path(req));
		return;
	}
	if ((s = sess_find(id)) != NULL) {
		if ((s = sess_for(req, actor, id, 1)) == NULL)
			return;
		mm_http_reply_json(req, 200, json_pack("{s:o}", "session", sess_json(s)));
		return;
	} else {
		json_t *o = stored_session(srv, req, id);

		if (o == NULL)
			return;
		if (actor->role != MM_ROLE_ADMIN &&
		    json_integer_value(json_object_get(o, "token_id")) != actor->token_id) {
			mm_http_reply_error(req, 403, "not your session", NULL);
			json_decref(o);
			return;
		}
		json_object_del(o, "token_id");
		mm_http_reply_json(req, 200, json_pack("{s:o}", "session", o));
	}
}

/* DELETE /api/v1/lr/sessions/ID[/shell] */
static void h_delete(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	char id[MM_LR_ID_LEN + 8], why[160];
	const char *what = split_rest(req, id, sizeof(id));
	struct lr_sess *s;
	size_t i;

	(void)srv;
	if (strcmp(what, "shell") == 0) {
		if ((s = sess_for(req, actor, id, 0)) == NULL)
			return;
		if (!s->shell) {
			mm_http_reply_error(req, 409, "no shell runs in this session", NULL);
			return;
		}
		mm_lr_worker_shell_close(s->w);
		mm_http_reply_json(req, 200, json_pack("{s:s}", "closing", "shell"));
		return;
	}
	if (what[0] != '\0') {
		mm_http_reply_error(req, 404, "not found", mm_http_path(req));
		return;
	}
	if ((s = sess_for(req, actor, id, 1)) == NULL)
		return;
	for (i = 0; i < sizeof(s->closers) / sizeof(s->closers[0]); i++)
		if (s->closers[i] == NULL)
			break;
	if (s->owner.a.token_id == actor->token_id)
		snprintf(why, sizeof(why), "closed by %s", actor->name);
	else
		snprintf(why, sizeof(why), "terminated by %s (%s)", actor->name,
		         role_name(actor->role));
	sess_close(s, why);
	if (i == sizeof(s->closers) / sizeof(s->closers[0])) {
		mm_http_reply_json(req, 200, json_pack("{s:s}", "closing", s->id));
		return;
	}
	s->closers[i] = req;
	mm_http_keep(req, NULL, NULL);
}

/* ---- commands and the shell ------------------------------------------------------------- */

/* Decodes "data" (base64) of a request.  Returns 0 (data may stay NULL),
 * or -1 after replying. */
static int body_data(struct mm_http_req *req, const json_t *body, unsigned char **data, size_t *len)
{
	const json_t *v = json_object_get(body, "data");
	const char *text = op_json_str(body, "text");

	*data = NULL;
	*len = 0;
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    mm_b64_decode(json_string_value(v), json_string_length(v), data, len) != 0) {
			mm_http_reply_error(req, 400, "data must be base64", NULL);
			return -1;
		}
	} else if (text != NULL) {
		if ((*data = (unsigned char *)strdup(text)) == NULL) {
			mm_http_reply_error(req, 503, "out of memory", NULL);
			return -1;
		}
		*len = strlen(text);
	}
	return 0;
}

/* ---- sql: a live query on the session's host (loop thread) ------------------------------ */

/* One `sql` command: from the request to its audit record and reply. */
struct sql_run {
	struct mm_server *srv;
	char id[MM_LR_ID_LEN + 1];
	char *host;           /* the audit target */
	char *key_id;
	struct op_actor owner; /* the session's operator, for lr.command */
	char *query;
	uint64_t token;
	int64_t start_ms;
	size_t cap;            /* output_cap */
	/* the outcome */
	json_t *ev;    /* transcript detail (with stdout, stderr) */
	json_t *audit; /* audit detail */
	json_t *body;  /* the reply */
};

static uint64_t sql_run_token(const struct sql_run *r)
{
	return r->token;
}

static void sql_run_free(struct sql_run *r)
{
	if (r == NULL)
		return;
	free(r->host);
	free(r->key_id);
	op_actor_clear(&r->owner);
	free(r->query);
	json_decref(r->ev);
	json_decref(r->audit);
	json_decref(r->body);
	free(r);
}

static void sha256_text(const char *p, size_t n, char hex[65])
{
	unsigned char md[32];
	size_t i;

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The kept part of an output: at most cap bytes, cut after a whole line
 * when a line end fits (rows and messages stay whole). */
static json_t *kept_text(const char *p, size_t n, size_t cap)
{
	size_t k = n, i;
	json_t *j;

	if (n > cap) {
		for (k = cap; k > 0 && p[k - 1] != '\n'; k--)
			;
		if (k == 0)
			k = cap;
	}
	/* A cut inside a UTF-8 sequence: drop its first bytes. */
	for (i = 0; i < 4 && k >= i; i++)
		if ((j = json_stringn(p, k - i)) != NULL)
			return j;
	return json_string("");
}

/* Fills r->ev, r->audit and r->body from the outcome: out (JSON lines of
 * the rows) and errtext (the error, "" when none). */
static int sql_outcome(struct sql_run *r, int64_t now, int exit_status, int timed_out,
                       int64_t nrows, const char *out, size_t outlen, const char *errtext)
{
	size_t errlen = strlen(errtext);
	char ohex[65], ehex[65];
	json_t *f;

	sha256_text(out, outlen, ohex);
	sha256_text(errtext, errlen, ehex);
	f = json_pack("{s:s, s:[s], s:i, s:n, s:b, s:I, s:I, s:I, s:s, s:I, s:s, s:b}", "command",
	              "sql", "args", r->query, "exit_status", exit_status, "signal", "timed_out",
	              timed_out, "duration_ms", (json_int_t)(now - r->start_ms), "rows",
	              (json_int_t)nrows, "stdout_bytes", (json_int_t)outlen, "stdout_sha256", ohex,
	              "stderr_bytes", (json_int_t)errlen, "stderr_sha256", ehex, "truncated",
	              outlen > r->cap || errlen > r->cap);
	if (f == NULL)
		return MM_ERR_NOMEM;
	r->audit = json_pack("{s:s, s:s, s:s}", "session", r->id, "key_id", r->key_id, "host",
	                     r->host);
	r->ev = json_deep_copy(f);
	if (r->audit == NULL || r->ev == NULL) {
		json_decref(f);
		return MM_ERR_NOMEM;
	}
	json_object_update(r->audit, f);
	json_decref(f);
	json_object_set_new(r->ev, "stdout", kept_text(out, outlen, r->cap));
	json_object_set_new(r->ev, "stderr", kept_text(errtext, errlen, r->cap));
	r->body = json_deep_copy(r->ev);
	return r->body != NULL ? 0 : MM_ERR_NOMEM;
}

/* Store job: the transcript event and the lr.command audit record. */
static int sql_record_run(sqlite3 *db, void *arg, char **err)
{
	struct sql_run *r = arg;
	sqlite3_stmt *st;
	char *text;
	int rc;

	if ((st = mm_store_stmt(db,
	                        "INSERT INTO lr_events(session, time, kind, detail)"
	                        " VALUES (?1, ?2, 'command', ?3)",
	                        err)) == NULL)
		return MM_ERR_SQL;
	if ((text = json_dumps(r->ev, JSON_COMPACT)) == NULL)
		return MM_ERR_NOMEM;
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, mm_now());
	sqlite3_bind_text(st, 3, text, -1, free);
	rc = sqlite3_step(st);
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return op_sqlerr(db, err);
	rc = mm_audit_insert(db, &r->owner.a, "lr.command", r->host, r->audit, 200);
	if (rc != 0 && *err == NULL)
		*err = sqlite3_mprintf("audit: %s", mm_strerror(rc));
	return rc;
}

/* After the record committed (or failed): the reply. */
static void sql_record_done(void *arg, int rc, const char *err)
{
	struct sql_run *r = arg;
	struct lr_sess *s = sess_find(r->id);

	if (s != NULL && s->pending == P_COMMAND && s->busy && s->sql == NULL) {
		s->busy = 0;
		s->commands++;
		s->last_ms = mm_http_now_ms(r->srv->http);
		if (rc == 0) {
			reply_pending(s, 200, r->body);
			r->body = NULL;
		} else {
			reply_pending(s, 500,
			              json_pack("{s:s, s:s?}", "error",
			                        "the command's audit record was not written", "detail",
			                        err));
		}
	} else if (rc != 0) {
		fprintf(stderr, "mamori-server: lr %s: sql: audit record: %s\n", r->id,
		        err != NULL ? err : mm_strerror(rc));
	}
	sql_run_free(r);
}

/* Records the outcome of r (taken from its session) and replies after the
 * commit. */
static void sql_finish(struct sql_run *r, int exit_status, int timed_out, int64_t nrows,
                       const char *out, size_t outlen, const char *errtext)
{
	struct lr_sess *s = sess_find(r->id);
	int64_t now = mm_http_now_ms(r->srv->http);

	if (s != NULL && s->sql == r)
		s->sql = NULL;
	if (sql_outcome(r, now, exit_status, timed_out, nrows, out, outlen, errtext) != 0 ||
	    mm_store_submit(r->srv->store, sql_record_run, sql_record_done, r) != 0) {
		if (s != NULL && s->pending == P_COMMAND) {
			s->busy = 0;
			reply_pending(s, 503,
			              json_pack("{s:s, s:s}", "error", "out of memory or busy",
			                        "detail", "the sql command was not recorded"));
		}
		sql_run_free(r);
	}
}

/* mm_live_run_one's report. */
static void sql_answered(void *arg, int rc, json_t *result)
{
	struct sql_run *r = arg;
	struct mm_buf out;
	json_t *row;
	size_t i;
	char *line, msg[600];
	int bad = 0;

	r->token = 0;
	if (rc != 0) {
		const char *m = json_string_value(result);

		snprintf(msg, sizeof(msg), "%s\n", m != NULL ? m : "the query failed");
		sql_finish(r, 1, rc == MM_ERR_LIMIT, 0, "", 0, msg);
		return;
	}
	mm_buf_init(&out, MM_LIVE_CAMPAIGN_BYTES);
	json_array_foreach(result, i, row)
	{
		if ((line = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
		    mm_buf_adds(&out, line) != 0 || mm_buf_addc(&out, '\n') != 0)
			bad = 1;
		free(line);
		if (bad)
			break;
	}
	if (bad)
		sql_finish(r, 1, 0, 0, "", 0, "out of memory formatting the rows\n");
	else
		sql_finish(r, 0, 0, (int64_t)json_array_size(result),
		           out.data != NULL ? (const char *)out.data : "", out.len, "");
	mm_buf_free(&out);
}

/* `sql QUERY`: runs the query on the session's host through a live query.
 * The reply comes after the host answered and the record committed. */
static void h_sql(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor,
                  struct lr_sess *s, const json_t *args)
{
	const struct mm_lr_config *c = &srv->cfg.lr;
	struct sql_run *r = NULL;
	struct mm_buf q;
	const json_t *v;
	char *err = NULL, msg[1024];
	size_t i;
	int rc;

	mm_buf_init(&q, MM_LIVE_SQL_MAX + 1);
	json_array_foreach(args, i, v)
	{
		if (!json_is_string(v) || (i > 0 && mm_buf_addc(&q, ' ') != 0) ||
		    mm_buf_adds(&q, json_string_value(v)) != 0)
			break;
	}
	if (!json_is_array(args) || i < json_array_size(args)) {
		json_t *d = json_pack("{s:s, s:s}", "session", s->id, "command", "sql");

		refuse(srv, req, actor, "lr.command", s->host, 422,
		       "usage: sql QUERY (one SQL statement, at most 65536 bytes)", NULL, d);
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL || (r->host = strdup(s->host)) == NULL ||
	    (r->key_id = strdup(s->key_id != NULL ? s->key_id : "")) == NULL ||
	    op_actor_copy(&r->owner, &s->owner.a) != 0 ||
	    (r->query = strdup(q.data != NULL ? (const char *)q.data : "")) == NULL) {
		mm_http_reply_error(req, 503, "out of memory", NULL);
		goto out;
	}
	r->srv = srv;
	snprintf(r->id, sizeof(r->id), "%s", s->id);
	r->cap = (size_t)c->output_cap;
	r->start_ms = mm_http_now_ms(srv->http);
	s->busy = 1;
	s->last_ms = r->start_ms;
	s->req = req;
	s->pending = P_COMMAND;
	mm_http_keep(req, NULL, NULL);
	if (!mm_live_host_online(srv, s->host_id)) {
		snprintf(msg, sizeof(msg),
		         "the host's agent is offline: it is not polling the coordinator "
		         "(sql needs `mamori daemon` running on %.100s)\n",
		         s->host);
		sql_finish(r, 1, 0, 0, "", 0, msg);
		r = NULL;
		goto out;
	}
	s->sql = r;
	rc = mm_live_run_one(srv, actor, r->query, s->host_id, (int64_t)c->command_timeout_s * 1000,
	                     sql_answered, r, &r->token, &err);
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "%.1000s\n", err != NULL ? err : mm_strerror(rc));
		sql_finish(r, 1, 0, 0, "", 0, msg);
	}
	r = NULL;
out:
	sql_run_free(r);
	mm_buf_free(&q);
	free(err);
}

static void h_command(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor,
                      struct lr_sess *s, json_t *body, int shell)
{
	const struct mm_lr_config *c = &srv->cfg.lr;
	const char *command = shell ? "shell" : op_json_str(body, "command");
	const json_t *args = json_object_get(body, "args"), *mv = json_object_get(body, "mode");
	struct mm_lr_op *op = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	char *err = NULL, det[160];
	int64_t mode = 0644;
	json_t *d;

	if (command == NULL || command[0] == '\0') {
		mm_http_reply_error(req, 400, "command is required",
		                    "{\"command\": NAME, \"args\": [...]}");
		return;
	}
	if (s->state != S_OPEN) {
		mm_http_reply_error(req, 409, "the session is not open", s->id);
		return;
	}
	if (s->busy) {
		mm_http_reply_error(req, 409,
		                    s->shell ? "the shell runs in this session"
		                             : "a command runs in this session",
		                    "one operation at a time");
		return;
	}
	if (!shell && strcmp(command, "shell") == 0) {
		mm_http_reply_error(req, 400, "use POST /api/v1/lr/sessions/ID/shell for the shell",
		                    NULL);
		return;
	}
	if (strcmp(command, "sql") == 0) {
		h_sql(srv, req, actor, s, args);
		return;
	}
	if (json_is_string(mv)) {
		if (mm_parse_u64(json_string_value(mv), 8, (uint64_t *)&mode) != 0)
			mode = -1;
	} else if (json_is_integer(mv)) {
		mode = json_integer_value(mv);
	}
	if (mode < 0 || mode > 07777) {
		mm_http_reply_error(req, 400, "mode must be an octal file mode", NULL);
		return;
	}
	if (body_data(req, body, &data, &len) != 0)
		return;
	if (strcmp(command, "put") == 0 && len > (size_t)c->put_max) {
		snprintf(det, sizeof(det), "%zu bytes, put_max is %lld bytes; nothing was written",
		         len, (long long)c->put_max);
		d = json_pack("{s:s, s:s, s:O?, s:I}", "session", s->id, "command", "put", "args",
		              args, "size", (json_int_t)len);
		refuse(srv, req, actor, "lr.file.put", s->host, 413, "the file is too large", det,
		       d);
		goto out;
	}
	if (mm_lr_op_build(command, args, s->cwd != NULL ? s->cwd : "/", (size_t)c->output_cap,
	                   data, len, (int)mode, &op, &err) != 0) {
		d = json_pack("{s:s, s:s, s:O?}", "session", s->id, "command", command, "args",
		              json_is_array(args) ? args : NULL);
		refuse(srv, req, actor, "lr.command", s->host, 422,
		       err != NULL ? err : "bad command", NULL, d);
		goto out;
	}
	if (shell) {
		json_int_t cols = json_integer_value(json_object_get(body, "cols"));
		json_int_t rows = json_integer_value(json_object_get(body, "rows"));

		if (cols >= 10 && cols <= 1000)
			op->cols = (int)cols;
		if (rows >= 2 && rows <= 1000)
			op->rows = (int)rows;
	}
	if (mm_lr_worker_submit(s->w, op) != 0) {
		mm_http_reply_error(req, 409, "the session is busy or closing", NULL);
		goto out;
	}
	op = NULL;
	s->busy = 1;
	s->last_ms = mm_http_now_ms(srv->http);
	s->req = req;
	s->pending = shell ? P_SHELL : P_COMMAND;
	mm_http_keep(req, NULL, NULL);
out:
	mm_lr_op_free(op);
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	free(err);
}

/* POST /api/v1/lr/sessions/ID/{commands,shell,shell/input} */
static void h_post(struct mm_server *srv, struct mm_http_req *req, const struct mm_actor *actor)
{
	char id[MM_LR_ID_LEN + 8];
	const char *what = split_rest(req, id, sizeof(id));
	struct lr_sess *s;
	json_t *body;

	if (strcmp(what, "commands") != 0 && strcmp(what, "shell") != 0 &&
	    strcmp(what, "shell/input") != 0) {
		mm_http_reply_error(req, 404, "not found", mm_http_path(req));
		return;
	}
	if ((body = mm_http_json_body(req, 0)) == NULL)
		return;
	if (!json_is_object(body)) {
		mm_http_reply_error(req, 400, "the body must be a JSON object", NULL);
		goto out;
	}
	if ((s = sess_for(req, actor, id, 0)) == NULL)
		goto out;
	if (strcmp(what, "shell/input") == 0) {
		unsigned char *data = NULL;
		size_t len = 0;
		int r;

		if (body_data(req, body, &data, &len) != 0)
			goto out;
		r = s->shell ? mm_lr_worker_shell_input(s->w, data, len) : MM_ERR_NOTFOUND;
		if (data != NULL) {
			OPENSSL_cleanse(data, len);
			free(data);
		}
		if (r == MM_ERR_NOTFOUND)
			mm_http_reply_error(req, 409, "no shell runs in this session", NULL);
		else if (r == MM_ERR_TOOBIG)
			mm_http_reply_error(req, 429, "too much input waiting", "retry shortly");
		else if (r != 0)
			mm_http_reply_error(req, 503, "out of memory", NULL);
		else {
			s->last_ms = mm_http_now_ms(srv->http);
			mm_http_reply_json(req, 200,
			                   json_pack("{s:I}", "accepted", (json_int_t)len));
		}
		goto out;
	}
	h_command(srv, req, actor, s, body, strcmp(what, "shell") == 0);
out:
	json_decref(body);
}

static const struct mm_route routes[] = {
    {"POST", "/api/v1/mamori/hostkeys", MM_ROLE_AGENT, h_hostkeys},
    {"POST", "/api/v1/lr/sessions", LR_ROLES, h_open},
    {"GET", "/api/v1/lr/sessions", LR_ROLES, h_list},
    {"GET", "/api/v1/lr/sessions/*", LR_ROLES, h_get},
    {"POST", "/api/v1/lr/sessions/*", LR_ROLES, h_post},
    {"DELETE", "/api/v1/lr/sessions/*", LR_ROLES, h_delete},
    {NULL, NULL, 0, NULL},
};

const struct mm_api mm_api_lr = {"lr", routes};
