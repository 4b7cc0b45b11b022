/*
 * lr.c - Live Response's SSH worker (contract in lr.h) and its command set.
 *
 * One thread per session runs everything SSH: connect, host key check,
 * certificate, authentication, then operations one at a time.  libssh2 is
 * used in non-blocking mode (design brief, section 4): a call that returns
 * LIBSSH2_ERROR_EAGAIN is repeated after poll() says the socket is ready in
 * the directions libssh2_session_block_directions() names; stdout and
 * stderr are both read before EOF is tested; cleanup calls get a deadline.
 * poll() also watches a pipe the loop thread writes to when it hands over
 * an operation, shell input or a close request.
 *
 * Commands run on an exec channel as
 *     echo $$; exec /bin/sh -c 'LINE' </dev/null
 * sshd starts the login shell as a session leader, so the first line of
 * stdout is the process group of the command: when the command passes
 * command_timeout (or the session is closed under it) the worker opens a
 * second channel and sends SIGTERM, then SIGKILL a second later, to that
 * group, and reports the command as stopped.  Interactive shells run on a
 * PTY channel; sshd hangs the PTY up when the channel closes.
 *
 * Files: `get` reads over SFTP (regular files up to put_max); `put` writes
 * a temporary file next to the target over SFTP (O_EXCL, the mode asked)
 * and renames it over the target with `mv -f` only once every byte is
 * written, so a failed transfer leaves the target as it was (the
 * temporary file is removed).  SHA-256 is computed over the bytes moved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "http.h"
#include "lr.h"
#include "lrcert.h"
#include "server.h"
#include "store.h"
#include "strutil.h"

#define IO_SLICE_MS     1000  /* longest single poll() */
#define CLEANUP_MS      3000  /* each cleanup step (channel close, disconnect) */
#define KILL_MS         5000  /* the channel that stops a timed-out command */
#define OPEN_CHANNEL_MS 10000 /* opening a channel or SFTP */
#define SHELL_FLUSH_MS  250   /* shell transcript written at least this often */
#define SHELL_SEG_MAX   (64u << 10)
#define READ_CHUNK      32768
#define ARG_AUDIT_MAX   1024        /* bytes of each argument in the audit record */
#define LINE_MAX_BYTES  (64u << 10) /* a command line */
#define SKEW_S          60          /* certificates are valid from a minute ago */

/* wait_io results, and two pseudo error codes below libssh2's own */
enum { IO_READY = 0, IO_TIMEOUT = 1, IO_ABORT = 2 };
#define E_TIMEOUT (-1000)
#define E_ABORT   (-1001)

struct mm_lr_worker {
	/* set before the thread starts, read-only afterwards */
	struct mm_http_server *http;
	struct mm_store *store;
	mm_lr_event_fn fn;
	void *owner;
	char id[MM_LR_ID_LEN + 1];
	int64_t host_id;
	char *host, *address, *login, *key_id, *source_address, *actor, *actor_address;
	char **keys;
	size_t nkeys;
	int port, role;
	int64_t token_id;
	EVP_PKEY *ca, *user_key;
	int cert_validity_s, connect_timeout_s, command_timeout_s;
	size_t output_cap, put_max;
	pthread_t th;
	int started;
	int wake[2];
	/* shared with the loop thread, under mu */
	pthread_mutex_t mu;
	struct mm_lr_op *op; /* handed over, not yet taken */
	int running;         /* an operation runs */
	int shell_on;        /* a shell runs: input is accepted */
	struct mm_buf input; /* shell input not yet taken */
	int shell_close;
	int close_req;
	char close_reason[160];
	/* the worker thread's own */
	LIBSSH2_SESSION *ssh;
	int sock;
	int lost; /* the connection failed: the session ends */
	char lost_msg[256];
	int64_t opened_ms;
	int commands;
	char host_key[MM_SSH_FP_LEN + 72];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = MM_ERR_INTERNAL;

static void global_init_once(void)
{
	init_rc = libssh2_init(0) == 0 ? 0 : MM_ERR_INTERNAL;
}

int mm_lr_global_init(void)
{
	pthread_once(&init_once, global_init_once);
	return init_rc;
}

/* ---- the command set ------------------------------------------------------------ */

int mm_lr_shquote(struct mm_buf *b, const char *s)
{
	int r;

	if ((r = mm_buf_addc(b, '\'')) != 0)
		return r;
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			r = mm_buf_adds(b, "'\\''");
		else
			r = mm_buf_addc(b, *s);
		if (r != 0)
			return r;
	}
	return mm_buf_addc(b, '\'');
}

char *mm_lr_path_join(const char *cwd, const char *path)
{
	char *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s%s%s", cwd, cwd[0] != '\0' && cwd[strlen(cwd) - 1] == '/' ? "" : "/",
	             path) < 0)
		return NULL;
	return out;
}

void mm_lr_op_free(struct mm_lr_op *op)
{
	if (op == NULL)
		return;
	free(op->command);
	json_decref(op->args);
	free(op->line);
	free(op->path);
	if (op->data != NULL) {
		OPENSSL_cleanse(op->data, op->len);
		free(op->data);
	}
	free(op);
}

static int build_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int build_err(char **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return MM_ERR_USAGE;
}

/* 1 when s is 1..10 letters or digits (a signal name or number). */
static int signal_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 10)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

int mm_lr_op_build(const char *command, const json_t *args, const char *cwd, size_t cat_cap,
                   const unsigned char *data, size_t len, int mode, struct mm_lr_op **out,
                   char **err)
{
	const char *a[64];
	struct mm_lr_op *op = NULL;
	struct mm_buf b;
	size_t n = 0, i;
	int64_t pid;
	int r = MM_ERR_NOMEM;

	*out = NULL;
	*err = NULL;
	mm_buf_init(&b, LINE_MAX_BYTES);
	if (args != NULL && !json_is_array(args))
		return build_err(err, "args must be an array of strings");
	if (json_array_size(args) > sizeof(a) / sizeof(a[0]))
		return build_err(err, "at most %zu arguments", sizeof(a) / sizeof(a[0]));
	for (i = 0; i < json_array_size(args); i++) {
		const json_t *v = json_array_get(args, i);

		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return build_err(err, "args[%zu] must be a string without NUL bytes", i);
		a[n++] = json_string_value(v);
	}
	if ((op = calloc(1, sizeof(*op))) == NULL || (op->command = strdup(command)) == NULL)
		goto fail;
	op->args = args != NULL ? json_deep_copy(args) : json_array();
	if (op->args == NULL)
		goto fail;
	op->kind = MM_LR_OP_EXEC;
	/* Every command line starts in the session's directory. */
	if (mm_buf_adds(&b, "cd -- ") != 0 || mm_lr_shquote(&b, cwd) != 0 ||
	    mm_buf_adds(&b, " && ") != 0)
		goto fail;
	if (strcmp(command, "ps") == 0) {
		if (n != 0) {
			r = build_err(err, "ps takes no arguments");
			goto fail;
		}
		r = mm_buf_adds(&b, "ps -eww -o pid,ppid,user,stat,etime,args");
	} else if (strcmp(command, "kill") == 0) {
		const char *sig = NULL, *p;

		if (n == 2 && a[0][0] == '-' && signal_ok(a[0] + 1)) {
			sig = a[0] + 1;
			p = a[1];
		} else if (n == 1) {
			p = a[0];
		} else {
			r = build_err(err, "usage: kill [-SIGNAL] PID");
			goto fail;
		}
		if (mm_parse_i64(p, &pid) != 0 || pid < 1 || p[0] == '+' || p[0] == '-') {
			r = build_err(err, "kill: '%s' is not a process id", p);
			goto fail;
		}
		r = mm_buf_addf(&b, "kill%s%s %lld", sig != NULL ? " -" : "",
		                sig != NULL ? sig : "", (long long)pid);
	} else if (strcmp(command, "ls") == 0 || strcmp(command, "dir") == 0) {
		if (n > 1) {
			r = build_err(err, "usage: %s [PATH]", command);
			goto fail;
		}
		if ((r = mm_buf_adds(&b, "ls -la -- ")) == 0)
			r = mm_lr_shquote(&b, n == 1 ? a[0] : ".");
	} else if (strcmp(command, "cd") == 0) {
		if (n != 1 || a[0][0] == '\0') {
			r = build_err(err, "usage: cd PATH");
			goto fail;
		}
		op->is_cd = 1;
		if ((r = mm_buf_adds(&b, "cd -- ")) == 0 && (r = mm_lr_shquote(&b, a[0])) == 0)
			r = mm_buf_adds(&b, " && pwd");
	} else if (strcmp(command, "pwd") == 0) {
		if (n != 0) {
			r = build_err(err, "pwd takes no arguments");
			goto fail;
		}
		r = mm_buf_adds(&b, "pwd");
	} else if (strcmp(command, "cat") == 0) {
		if (n != 1 || a[0][0] == '\0') {
			r = build_err(err, "usage: cat FILE");
			goto fail;
		}
		/* One byte past the cap tells that the file was longer. */
		if ((r = mm_buf_addf(&b, "head -c %zu -- ", cat_cap + 1)) == 0)
			r = mm_lr_shquote(&b, a[0]);
	} else if (strcmp(command, "exec") == 0) {
		if (n == 0) {
			r = build_err(err, "usage: exec COMMAND [ARGS...]");
			goto fail;
		}
		for (i = 0, r = 0; i < n && r == 0; i++)
			if ((i > 0 && (r = mm_buf_addc(&b, ' ')) != 0) ||
			    (r = mm_buf_adds(&b, a[i])) != 0)
				break;
	} else if (strcmp(command, "get") == 0 || strcmp(command, "put") == 0) {
		int put = command[0] == 'p';

		if (n != 1 || a[0][0] == '\0') {
			r = build_err(err, put ? "usage: put REMOTE (with the file's bytes as data)"
			                       : "usage: get REMOTE");
			goto fail;
		}
		op->kind = put ? MM_LR_OP_PUT : MM_LR_OP_GET;
		if ((op->path = mm_lr_path_join(cwd, a[0])) == NULL)
			goto fail;
		if (put) {
			if ((op->data = malloc(len > 0 ? len : 1)) == NULL)
				goto fail;
			if (len > 0)
				memcpy(op->data, data, len);
			op->len = len;
			op->mode = mode;
		}
		r = 0;
	} else if (strcmp(command, "shell") == 0) {
		if (n != 0) {
			r = build_err(err, "shell takes no arguments");
			goto fail;
		}
		op->kind = MM_LR_OP_SHELL;
		mm_buf_reset(&b);
		if ((r = mm_buf_adds(&b, "cd -- ")) == 0 && (r = mm_lr_shquote(&b, cwd)) == 0)
			r = mm_buf_adds(&b, " 2>/dev/null; exec \"${SHELL:-/bin/sh}\" -l");
		op->cols = 80;
		op->rows = 24;
	} else if (strcmp(command, "sql") == 0) {
		/* server/api_lr.c runs it as a live query; it never goes over SSH. */
		r = build_err(err, "sql: runs as a live query on the coordinator, not over SSH");
		goto fail;
	} else {
		r = build_err(err,
		              "unknown command '%s' (ps, kill, ls, dir, cd, pwd, cat, get, put, "
		              "exec, shell)",
		              command);
		goto fail;
	}
	if (r == MM_ERR_TOOBIG) {
		r = build_err(err, "the command line is longer than %u bytes", LINE_MAX_BYTES);
		goto fail;
	}
	if (r != 0)
		goto fail;
	if (op->kind == MM_LR_OP_EXEC || op->kind == MM_LR_OP_SHELL) {
		if ((op->line = mm_buf_take(&b)) == NULL) {
			r = MM_ERR_NOMEM;
			goto fail;
		}
	}
	mm_buf_free(&b);
	*out = op;
	return 0;
fail:
	if (r == MM_ERR_NOMEM && *err == NULL)
		*err = strdup("out of memory");
	mm_buf_free(&b);
	mm_lr_op_free(op);
	return r;
}

/* ---- small helpers ----------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* Bytes as a JSON string: invalid UTF-8 bytes become U+FFFD.  New reference. */
static json_t *text_json(const void *data, size_t n)
{
	const unsigned char *p = data;
	struct mm_buf b;
	json_t *j;
	size_t i = 0, k;

	mm_buf_init(&b, n * 3 + 16);
	while (i < n) {
		if ((k = utf8_seq(p + i, n - i)) == 0) {
			mm_buf_adds(&b, "\xef\xbf\xbd");
			i++;
		} else {
			mm_buf_add(&b, p + i, k);
			i += k;
		}
	}
	j = json_stringn(b.data != NULL ? b.data : "", b.len);
	mm_buf_free(&b);
	return j != NULL ? j : json_string("");
}

/* A string cut to max bytes (on a UTF-8 boundary) with a marker. */
static json_t *capped_json(const char *s, size_t max)
{
	size_t n = strlen(s);
	json_t *j;
	char *c;

	if (n <= max)
		return json_string(s);
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	if (asprintf(&c, "%.*s...[%zu bytes]", (int)max, s, n) < 0)
		return json_string("");
	j = json_string(c);
	free(c);
	return j;
}

static json_t *capped_args(const json_t *args)
{
	json_t *o = json_array(), *v;
	size_t i;

	json_array_foreach(args, i, v)
	    json_array_append_new(o, capped_json(json_string_value(v), ARG_AUDIT_MAX));
	return o;
}

/* A running SHA-256 and a kept prefix of a byte stream. */
struct ostream {
	struct mm_buf kept;
	size_t cap;
	uint64_t total;
	EVP_MD_CTX *md;
};

static int os_init(struct ostream *s, size_t cap)
{
	mm_buf_init(&s->kept, cap > 0 ? cap : 1);
	s->cap = cap;
	s->total = 0;
	s->md = EVP_MD_CTX_new();
	return s->md != NULL && EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) == 1 ? 0
	                                                                          : MM_ERR_NOMEM;
}

static void os_add(struct ostream *s, const void *p, size_t n)
{
	size_t k;

	if (n == 0)
		return;
	EVP_DigestUpdate(s->md, p, n);
	s->total += n;
	if (s->kept.len < s->cap) {
		k = s->cap - s->kept.len < n ? s->cap - s->kept.len : n;
		mm_buf_add(&s->kept, p, k);
	}
}

static void os_hex(struct ostream *s, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(s->md, md, &n);
	to_hex(md, 32, hex);
	EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
}

static void os_free(struct ostream *s)
{
	mm_buf_free(&s->kept);
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

static void sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char md[32];

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	to_hex(md, 32, hex);
}

/* ---- loop communication ----------------------------------------------------------- */

static void wake(struct mm_lr_worker *w)
{
	char c = 1;
	ssize_t n = write(w->wake[1], &c, 1);

	(void)n; /* EAGAIN: a wake-up is pending anyway */
}

static void drain(struct mm_lr_worker *w)
{
	char buf[64];

	while (read(w->wake[0], buf, sizeof(buf)) > 0)
		;
}

static int close_requested(struct mm_lr_worker *w)
{
	int v;

	pthread_mutex_lock(&w->mu);
	v = w->close_req;
	pthread_mutex_unlock(&w->mu);
	return v;
}

static void deliver(void *arg)
{
	struct mm_lr_event *ev = arg;

	ev->fn(ev);
}

/* Posts ev to the loop thread (which frees it).  After the CLOSED event
 * the worker must not touch w again. */
static void post(struct mm_lr_worker *w, struct mm_lr_event *ev)
{
	int i;

	ev->owner = w->owner;
	ev->fn = w->fn;
	for (i = 0; i < 200; i++) {
		if (mm_http_call(w->http, deliver, ev) == 0)
			return;
		usleep(10000);
	}
	fprintf(stderr, "mamori-server: Live Response session %s: event lost (out of memory)\n",
	        w->id);
	mm_lr_event_free(ev);
}

static struct mm_lr_event *ev_new(int kind)
{
	struct mm_lr_event *ev = calloc(1, sizeof(*ev));

	if (ev != NULL)
		ev->kind = kind;
	return ev;
}

void mm_lr_event_free(struct mm_lr_event *ev)
{
	if (ev == NULL)
		return;
	json_decref(ev->body);
	free(ev->cwd);
	free(ev->data);
	free(ev);
}

/* ---- records -------------------------------------------------------------------- */

enum { SESS_NONE, SESS_OPEN, SESS_REFUSED, SESS_CLOSE };

struct seg {
	const char *kind; /* lr_events kind */
	json_t *detail;   /* may be NULL */
	const void *data; /* may be NULL */
	size_t len;
};

struct rec {
	struct mm_lr_worker *w;
	int64_t now;
	struct seg *segs;
	size_t nsegs;
	const char *action; /* audit action, NULL = none */
	json_t *audit;      /* its detail */
	int status;
	int sess;           /* SESS_* */
	const char *reason; /* SESS_REFUSED, SESS_CLOSE */
};

static int rec_run(sqlite3 *db, void *arg, char **err)
{
	static const char ins_ev[] = "INSERT INTO lr_events(session, time, kind, detail, data)"
	                             " VALUES (?1, ?2, ?3, ?4, ?5)";
	static const char ins_sess[] =
	    "INSERT INTO lr_sessions(id, host_id, host, address, port, login, actor, role,"
	    " token_id, actor_address, key_id, host_key, state, opened_at, closed_at,"
	    " close_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	    " ?15, ?16)";
	static const char upd_sess[] = "UPDATE lr_sessions SET state = 'closed', closed_at = ?2,"
	                               " close_reason = ?3, commands = ?4 WHERE id = ?1";
	struct rec *r = arg;
	struct mm_lr_worker *w = r->w;
	struct mm_actor a = {w->token_id, w->actor, w->role, w->actor_address};
	sqlite3_stmt *st;
	char *text;
	size_t i;
	int rc;

	for (i = 0; i < r->nsegs; i++) {
		if ((st = mm_store_stmt(db, ins_ev, err)) == NULL)
			return MM_ERR_SQL;
		text = r->segs[i].detail != NULL ? json_dumps(r->segs[i].detail, JSON_COMPACT)
		                                 : strdup("{}");
		if (text == NULL)
			return MM_ERR_NOMEM;
		sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r->now);
		sqlite3_bind_text(st, 3, r->segs[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, text, -1, free);
		if (r->segs[i].data != NULL)
			sqlite3_bind_blob(st, 5, r->segs[i].data, (int)r->segs[i].len,
			                  SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_clear_bindings(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto sqlfail;
	}
	if (r->sess == SESS_OPEN || r->sess == SESS_REFUSED) {
		const char *role = mm_role_name(w->role);

		if ((st = mm_store_stmt(db, ins_sess, err)) == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, w->host_id);
		sqlite3_bind_text(st, 3, w->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, w->address, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, w->port);
		sqlite3_bind_text(st, 6, w->login, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, w->actor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, role != NULL ? role : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, w->token_id);
		sqlite3_bind_text(st, 10, w->actor_address, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, w->key_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, w->host_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, r->sess == SESS_OPEN ? "open" : "refused", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_int64(st, 14, r->now);
		if (r->sess == SESS_REFUSED) {
			sqlite3_bind_int64(st, 15, r->now);
			sqlite3_bind_text(st, 16, r->reason != NULL ? r->reason : "", -1,
			                  SQLITE_STATIC);
		} else {
			sqlite3_bind_text(st, 16, "", -1, SQLITE_STATIC);
		}
		rc = sqlite3_step(st);
		sqlite3_clear_bindings(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto sqlfail;
	} else if (r->sess == SESS_CLOSE) {
		if ((st = mm_store_stmt(db, upd_sess, err)) == NULL)
			return MM_ERR_SQL;
		sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r->now);
		sqlite3_bind_text(st, 3, r->reason != NULL ? r->reason : "", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, w->commands);
		rc = sqlite3_step(st);
		sqlite3_clear_bindings(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto sqlfail;
	}
	if (r->action != NULL &&
	    (rc = mm_audit_insert(db, &a, r->action, w->host, r->audit, r->status)) != 0) {
		*err = sqlite3_mprintf("audit: %s", sqlite3_errmsg(db));
		return rc;
	}
	return 0;
sqlfail:
	*err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
	return MM_ERR_SQL;
}

/* Writes r in one transaction and waits for the commit. */
static void record(struct mm_lr_worker *w, struct rec *r)
{
	char *err = NULL;
	int rc;

	r->w = w;
	r->now = mm_now();
	if ((rc = mm_store_run(w->store, rec_run, r, &err)) != 0)
		fprintf(stderr, "mamori-server: Live Response session %s: record %s lost: %s\n",
		        w->id, r->action != NULL ? r->action : "(transcript)",
		        err != NULL ? err : mm_strerror(rc));
	free(err);
}

/* The fields every audit detail of this session carries. */
static json_t *audit_base(struct mm_lr_worker *w)
{
	return json_pack("{s:s, s:s, s:s}", "session", w->id, "key_id", w->key_id, "host", w->host);
}

/* ---- the connection ----------------------------------------------------------------- */

/* Waits until the socket is ready in the directions libssh2 is blocked on,
 * the wake-up pipe fires, or a slice passes.  deadline 0 = none.  Returns
 * IO_READY, IO_TIMEOUT past the deadline, or IO_ABORT when abortable and the
 * session is being closed. */
static int wait_io(struct mm_lr_worker *w, int64_t deadline, int abortable)
{
	struct pollfd p[2];
	int dirs, ms = IO_SLICE_MS;
	int64_t now = now_ms();

	if (abortable && close_requested(w))
		return IO_ABORT;
	if (deadline > 0) {
		if (now >= deadline)
			return IO_TIMEOUT;
		if (deadline - now < ms)
			ms = (int)(deadline - now);
	}
	dirs = w->ssh != NULL ? libssh2_session_block_directions(w->ssh) : 0;
	p[0].fd = w->sock;
	p[0].events = 0;
	if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		p[0].events |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p[0].events |= POLLOUT;
	if (p[0].events == 0)
		p[0].events = POLLIN;
	p[1].fd = w->wake[0];
	p[1].events = POLLIN;
	if (poll(p, 2, ms) > 0 && (p[1].revents & POLLIN))
		drain(w);
	if (abortable && close_requested(w))
		return IO_ABORT;
	return IO_READY;
}

/* Repeats call while it says EAGAIN; rc gets its result, or E_TIMEOUT /
 * E_ABORT. */
#define RETRY(w, deadline, abortable, call, rc)                                                    \
	do {                                                                                       \
		while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN) {                                  \
			int wr_ = wait_io((w), (deadline), (abortable));                           \
			if (wr_ != IO_READY) {                                                     \
				(rc) = wr_ == IO_TIMEOUT ? E_TIMEOUT : E_ABORT;                    \
				break;                                                             \
			}                                                                          \
		}                                                                                  \
	} while (0)

/* libssh2's last error message. */
static const char *ssh_msg(struct mm_lr_worker *w)
{
	char *m = NULL;

	if (w->ssh == NULL)
		return "no session";
	libssh2_session_last_error(w->ssh, &m, NULL, 0);
	return m != NULL && m[0] != '\0' ? m : "unknown error";
}

/* Marks the connection as failed. */
static void lost(struct mm_lr_worker *w, const char *what)
{
	if (!w->lost)
		snprintf(w->lost_msg, sizeof(w->lost_msg), "%s: %s", what, ssh_msg(w));
	w->lost = 1;
}

/* Opens a session channel.  NULL with *rc E_TIMEOUT / E_ABORT or a libssh2 error. */
static LIBSSH2_CHANNEL *open_channel(struct mm_lr_worker *w, int64_t deadline, int abortable,
                                     int *rc)
{
	LIBSSH2_CHANNEL *ch;
	int wr;

	*rc = 0;
	while ((ch = libssh2_channel_open_session(w->ssh)) == NULL) {
		if (libssh2_session_last_errno(w->ssh) != LIBSSH2_ERROR_EAGAIN) {
			*rc = libssh2_session_last_errno(w->ssh);
			return NULL;
		}
		if ((wr = wait_io(w, deadline, abortable)) != IO_READY) {
			*rc = wr == IO_TIMEOUT ? E_TIMEOUT : E_ABORT;
			return NULL;
		}
	}
	return ch;
}

/* Closes and frees a channel within CLEANUP_MS for each step.  *exit_status
 * (may be NULL) gets the exit status (-1 unknown) and signal[32] (may be
 * NULL) the name of the signal that ended the command, or "". */
static void close_channel(struct mm_lr_worker *w, LIBSSH2_CHANNEL *ch, int *exit_status,
                          char *signal)
{
	char *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (exit_status != NULL)
		*exit_status = -1;
	if (signal != NULL)
		signal[0] = '\0';
	if (ch == NULL)
		return;
	RETRY(w, now_ms() + CLEANUP_MS, 0, libssh2_channel_close(ch), rc);
	if (rc == 0)
		RETRY(w, now_ms() + CLEANUP_MS, 0, libssh2_channel_wait_closed(ch), rc);
	if (rc == 0 && exit_status != NULL) {
		*exit_status = libssh2_channel_get_exit_status(ch);
		if (libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL) ==
		        0 &&
		    sig != NULL) {
			if (signal != NULL)
				snprintf(signal, 32, "%.*s", (int)siglen, sig);
			*exit_status = -1;
		}
		if (sig != NULL)
			libssh2_free(w->ssh, sig);
	}
	RETRY(w, now_ms() + CLEANUP_MS, 0, libssh2_channel_free(ch), rc);
	/* Not freed in time: libssh2_session_free() takes it. */
}

/* TCP connection to address:port within deadline.  Returns 0, or -1 with msg. */
static int tcp_connect(struct mm_lr_worker *w, int64_t deadline, char *msg, size_t msz)
{
	struct addrinfo hints, *ai = NULL, *a;
	char port[16];
	int fd = -1, rc, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", w->port);
	if ((rc = getaddrinfo(w->address, port, &hints, &ai)) != 0) {
		snprintf(msg, msz, "%s: %s", w->address, gai_strerror(rc));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		struct pollfd p[2];
		socklen_t el = sizeof(e);
		int64_t left;

		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS) {
			e = errno;
			close(fd);
			fd = -1;
			continue;
		} /* Wait for the connection, or for a close request (shutdown). */
		p[0].fd = fd;
		p[0].events = POLLOUT;
		p[1].fd = w->wake[0];
		p[1].events = POLLIN;
		for (;;) {
			p[0].revents = p[1].revents = 0;
			left = deadline - now_ms();
			if (left <= 0 || close_requested(w) || poll(p, 2, (int)left) < 0) {
				e = close_requested(w) ? ECANCELED : ETIMEDOUT;
				break;
			}
			if (p[1].revents & POLLIN)
				drain(w);
			if (p[0].revents != 0)
				break;
		}
		if (p[0].revents == 0) {
			close(fd);
			fd = -1;
			if (e == ECANCELED)
				break;
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		snprintf(msg, msz, "%s port %d: %s", w->address, w->port,
		         e == ETIMEDOUT   ? "connection timed out"
		         : e == ECANCELED ? "the session was closed while connecting"
		                          : strerror(e));
		return -1;
	}
	w->sock = fd;
	return 0;
}

/* "ADDR/32" (or /128) of the local end of the socket, for source-address. */
static int local_cidr(struct mm_lr_worker *w, char *out, size_t outsz)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];

	if (getsockname(w->sock, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
		snprintf(out, outsz, "%s/32", ip);
	} else if (ss.ss_family == AF_INET6) {
		struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			inet_ntop(AF_INET, (const unsigned char *)a6 + 12, ip, sizeof(ip));
			snprintf(out, outsz, "%s/32", ip);
		} else {
			inet_ntop(AF_INET6, a6, ip, sizeof(ip));
			snprintf(out, outsz, "%s/128", ip);
		}
	} else {
		return -1;
	}
	return 0;
}

/* The host key algorithms libssh2 may accept: those of the pinned keys.
 * Returns the number of keys usable. */
static int hostkey_prefs(struct mm_lr_worker *w, char *out, size_t outsz)
{
	static const char *const types[] = {"ssh-ed25519", "ecdsa-sha2-nistp256",
	                                    "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"};
	size_t i, k, len = 0;
	int usable = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int have = 0;

		for (k = 0; k < w->nkeys; k++) {
			size_t tl = strlen(types[i]);

			if (strncmp(w->keys[k], types[i], tl) == 0 && w->keys[k][tl] == ' ') {
				have = 1;
				usable++;
			}
		}
		if (have && len + strlen(types[i]) + 2 < outsz)
			len += (size_t)snprintf(out + len, outsz - len, "%s%s", len > 0 ? "," : "",
			                        types[i]);
	}
	return usable;
}

/* Compares the key the server presented with the pinned ones.  Returns 0
 * on a match, else -1 with msg naming both sides. */
static int check_host_key(struct mm_lr_worker *w, char *msg, size_t msz, char *detail, size_t dsz)
{
	const unsigned char *hk, *tp;
	char fp[MM_SSH_FP_LEN + 1], type[64], ptype[64];
	size_t hklen = 0, k, len = 0, tl;
	int hktype = 0;

	hk = (const unsigned char *)libssh2_session_hostkey(w->ssh, &hklen, &hktype);
	if (hk == NULL || hklen < 4) {
		snprintf(msg, msz, "%s presented no host key", w->host);
		return -1;
	}
	mm_ssh_fingerprint(hk, hklen, fp);
	tl = (size_t)hk[0] << 24 | (size_t)hk[1] << 16 | (size_t)hk[2] << 8 | hk[3];
	tp = hk + 4;
	snprintf(type, sizeof(type), "%.*s", tl < hklen - 4 && tl < 63 ? (int)tl : 0,
	         (const char *)tp);
	snprintf(w->host_key, sizeof(w->host_key), "%s %s", type, fp);
	for (k = 0; k < w->nkeys; k++) {
		unsigned char *blob = NULL;
		size_t blen = 0;
		int same;

		if (mm_ssh_pubkey_parse(w->keys[k], ptype, &blob, &blen) != 0)
			continue;
		same = blen == hklen && memcmp(blob, hk, hklen) == 0;
		free(blob);
		if (same)
			return 0;
	}
	snprintf(msg, msz,
	         "host key mismatch: %s (%s port %d) presented %s %s, which is not a key its "
	         "agent reported; refused before authentication",
	         w->host, w->address, w->port, type, fp);
	len = (size_t)snprintf(detail, dsz, "presented %s %s; reported:", type, fp);
	for (k = 0; k < w->nkeys && len < dsz; k++) {
		unsigned char *blob = NULL;
		size_t blen = 0;

		if (mm_ssh_pubkey_parse(w->keys[k], ptype, &blob, &blen) != 0)
			continue;
		mm_ssh_fingerprint(blob, blen, fp);
		free(blob);
		len += (size_t)snprintf(detail + len, dsz - len, " %s %s", ptype, fp);
	}
	return -1;
}

/* The private key of key in PEM (secure memory copy), malloc'ed. */
static char *key_pem(EVP_PKEY *key, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data, *out = NULL;
	long n;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(bio);
	return out;
}

/* Authenticates as the login with a fresh certificate or the plain key. */
static int authenticate(struct mm_lr_worker *w, int64_t deadline, char *msg, size_t msz,
                        char *detail, size_t dsz)
{
	struct mm_lrcert cert;
	char cidr[INET6_ADDRSTRLEN + 8], *err = NULL, *pub = NULL, *pem = NULL;
	const char *pubkey, *privkey;
	size_t pemlen = 0;
	uint64_t serial = 0;
	int64_t now = mm_now();
	int rc;

	memset(&cert, 0, sizeof(cert));
	if (w->user_key != NULL) {
		pub = mm_ssh_pubkey_line(w->user_key, NULL);
		pem = key_pem(w->user_key, &pemlen);
		if (pub == NULL || pem == NULL) {
			snprintf(msg, msz, "cannot use live_response.user_key");
			rc = -1;
			goto out;
		}
		pubkey = pub;
		privkey = pem;
	} else {
		struct mm_lrcert_req req;

		if (w->source_address == NULL && local_cidr(w, cidr, sizeof(cidr)) != 0) {
			snprintf(msg, msz, "cannot find the local address of the connection");
			rc = -1;
			goto out;
		}
		RAND_bytes((unsigned char *)&serial, sizeof(serial));
		memset(&req, 0, sizeof(req));
		req.key_id = w->key_id;
		req.principal = w->login;
		req.source_address = w->source_address != NULL ? w->source_address : cidr;
		req.valid_after = now - SKEW_S;
		req.valid_before = now + w->cert_validity_s;
		req.serial = serial;
		req.permit_pty = 1;
		if (mm_lrcert_issue(w->ca, &req, &cert, &err) != 0) {
			snprintf(msg, msz, "cannot make the session certificate: %s",
			         err != NULL ? err : "?");
			rc = -1;
			goto out;
		}
		pubkey = cert.cert_line;
		privkey = cert.key_pem;
		pemlen = cert.key_pem_len;
	}
	RETRY(w, deadline, 1,
	      libssh2_userauth_publickey_frommemory(w->ssh, w->login, strlen(w->login), pubkey,
	                                            strlen(pubkey), privkey, pemlen, NULL),
	      rc);
	if (rc != 0) {
		if (rc == E_TIMEOUT)
			snprintf(msg, msz, "%s port %d: authentication timed out", w->address,
			         w->port);
		else if (rc == E_ABORT)
			snprintf(msg, msz, "the session was closed while connecting");
		else if (w->user_key != NULL)
			snprintf(msg, msz, "%s refused the coordinator's key for %s", w->host,
			         w->login);
		else
			snprintf(msg, msz, "%s refused the session certificate for %s", w->host,
			         w->login);
		snprintf(detail, dsz,
		         "%s; check that its sshd trusts the Mamori SSH CA (TrustedUserCAKeys, "
		         "see mamori-server lr-setup), allows %s to log in, and that both clocks "
		         "are right",
		         rc == E_TIMEOUT || rc == E_ABORT ? "no answer" : ssh_msg(w), w->login);
		rc = -1;
	}
out:
	mm_lrcert_clear(&cert);
	free(pub);
	if (pem != NULL) {
		OPENSSL_cleanse(pem, pemlen);
		free(pem);
	}
	free(err);
	return rc;
}

struct exec_res {
	int exit_status; /* -1 unknown */
	char signal[32];
	int timed_out, aborted;
	int64_t pid; /* the command's process group, 0 unknown */
	int64_t duration_ms;
	struct ostream out, err;
};

static int exec_run(struct mm_lr_worker *w, const char *line, int64_t timeout_ms, int abortable,
                    size_t cap, int may_kill, struct exec_res *res);

/* Stops a command's process group: TERM, then KILL a second later. */
static void kill_group(struct mm_lr_worker *w, int64_t pid)
{
	struct exec_res kr;
	char line[160];

	if (pid <= 1)
		return;
	snprintf(line, sizeof(line),
	         "kill -TERM -%lld 2>/dev/null; sleep 1; kill -KILL -%lld 2>/dev/null; exit 0",
	         (long long)pid, (long long)pid);
	exec_run(w, line, KILL_MS, 0, 4096, 0, &kr);
	os_free(&kr.out);
	os_free(&kr.err);
}

/* Runs line on an exec channel (see the file comment).  Returns 0 when the
 * command ran (whatever its outcome: res says), MM_ERR_IO when the
 * connection failed (w->lost set), MM_ERR_NOMEM.  res is always to be
 * freed with os_free on out and err. */
static int exec_run(struct mm_lr_worker *w, const char *line, int64_t timeout_ms, int abortable,
                    size_t cap, int may_kill, struct exec_res *res)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct mm_buf full;
	char buf[READ_CHUNK], pl[24];
	size_t pn = 0;
	int64_t start = now_ms(), deadline = start + timeout_ms;
	int pid_done = 0, rc, r = 0;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	if (os_init(&res->out, cap) != 0 || os_init(&res->err, cap) != 0)
		return MM_ERR_NOMEM;
	mm_buf_init(&full, LINE_MAX_BYTES * 5 + 256);
	if (mm_buf_adds(&full, "echo $$; exec /bin/sh -c ") != 0 ||
	    mm_lr_shquote(&full, line) != 0 || mm_buf_adds(&full, " </dev/null") != 0) {
		mm_buf_free(&full);
		return MM_ERR_NOMEM;
	}
	if ((ch = open_channel(w, deadline, abortable, &rc)) == NULL) {
		if (rc == E_TIMEOUT)
			res->timed_out = 1;
		else if (rc == E_ABORT)
			res->aborted = 1;
		else {
			lost(w, "opening a channel");
			r = MM_ERR_IO;
		}
		goto out;
	}
	RETRY(w, deadline, abortable, libssh2_channel_exec(ch, full.data), rc);
	if (rc == E_TIMEOUT || rc == E_ABORT) {
		res->timed_out = rc == E_TIMEOUT;
		res->aborted = rc == E_ABORT;
		goto out;
	}
	if (rc != 0) {
		lost(w, "starting a command");
		r = MM_ERR_IO;
		goto out;
	}
	for (;;) {
		int progress = 0;

		n = libssh2_channel_read(ch, buf, sizeof(buf));
		if (n > 0) {
			size_t i = 0;

			progress = 1;
			/* The first line is the process group (echo $$). */
			while (!pid_done && i < (size_t)n) {
				char c = buf[i++];

				if (c == '\n') {
					pl[pn] = '\0';
					if (mm_parse_i64(pl, &res->pid) != 0)
						res->pid = 0;
					pid_done = 1;
				} else if (pn + 1 < sizeof(pl)) {
					pl[pn++] = c;
				} else {
					pid_done = 1; /* not a pid: keep it as output */
					os_add(&res->out, pl, pn);
					os_add(&res->out, &c, 1);
				}
			}
			os_add(&res->out, buf + i, (size_t)n - i);
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			lost(w, "reading a command's output");
			r = MM_ERR_IO;
			goto out;
		}
		n = libssh2_channel_read_stderr(ch, buf, sizeof(buf));
		if (n > 0) {
			progress = 1;
			os_add(&res->err, buf, (size_t)n);
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			lost(w, "reading a command's errors");
			r = MM_ERR_IO;
			goto out;
		}
		if (progress)
			continue;
		if (libssh2_channel_eof(ch))
			break;
		rc = wait_io(w, deadline, abortable);
		if (rc == IO_TIMEOUT) {
			res->timed_out = 1;
			break;
		}
		if (rc == IO_ABORT) {
			res->aborted = 1;
			break;
		}
	}
out:
	if ((res->timed_out || res->aborted) && may_kill && !w->lost)
		kill_group(w, res->pid);
	if (!w->lost)
		close_channel(w, ch, &res->exit_status, res->signal);
	if (res->timed_out || res->aborted)
		res->exit_status = -1;
	res->duration_ms = now_ms() - start;
	mm_buf_free(&full);
	return r;
}

/* Tears the SSH session and the socket down, each step within CLEANUP_MS. */
static void teardown(struct mm_lr_worker *w)
{
	if (w->ssh != NULL) {
		/* Blocking with a timeout: every cleanup call is bounded. */
		libssh2_session_set_timeout(w->ssh, CLEANUP_MS);
		libssh2_session_set_blocking(w->ssh, 1);
		if (!w->lost)
			libssh2_session_disconnect(w->ssh, "Live Response session closed");
		libssh2_session_free(w->ssh);
		w->ssh = NULL;
	}
	if (w->sock >= 0) {
		close(w->sock);
		w->sock = -1;
	}
}

/* Connects, checks the host key, authenticates and finds the home
 * directory.  Returns 0, or -1 with *status, msg and detail. */
static int session_open(struct mm_lr_worker *w, int *status, char *msg, size_t msz, char *detail,
                        size_t dsz, char **cwd)
{
	char prefs[160];
	struct exec_res res;
	int64_t deadline = now_ms() + (int64_t)w->connect_timeout_s * 1000;
	int rc;

	*status = 502;
	detail[0] = '\0';
	if (hostkey_prefs(w, prefs, sizeof(prefs)) == 0) {
		*status = 409;
		snprintf(msg, msz, "none of the host keys %s reported can be used", w->host);
		snprintf(detail, dsz, "libssh2 checks ssh-ed25519 and ecdsa-sha2-nistp* host keys");
		return -1;
	}
	if (tcp_connect(w, deadline, detail, dsz) != 0) {
		snprintf(msg, msz, "cannot reach the SSH server of %s", w->host);
		return -1;
	}
	if ((w->ssh = libssh2_session_init_ex(NULL, NULL, NULL, w)) == NULL) {
		*status = 500;
		snprintf(msg, msz, "cannot make an SSH session");
		return -1;
	}
	libssh2_session_set_blocking(w->ssh, 0);
	if (libssh2_session_method_pref(w->ssh, LIBSSH2_METHOD_HOSTKEY, prefs) != 0) {
		*status = 409;
		snprintf(msg, msz, "libssh2 supports none of the host key types %s reported (%s)",
		         w->host, prefs);
		return -1;
	}
	RETRY(w, deadline, 1, libssh2_session_handshake(w->ssh, w->sock), rc);
	if (rc != 0) {
		snprintf(msg, msz, "SSH handshake with %s failed", w->host);
		snprintf(detail, dsz, "%s port %d: %s", w->address, w->port,
		         rc == E_TIMEOUT ? "timed out"
		         : rc == E_ABORT ? "closed while connecting"
		                         : ssh_msg(w));
		return -1;
	}
	if (check_host_key(w, msg, msz, detail, dsz) != 0)
		return -1;
	if (authenticate(w, deadline, msg, msz, detail, dsz) != 0)
		return -1;
	w->opened_ms = now_ms();
	/* The login's home directory is where commands start. */
	rc = exec_run(w, "pwd", OPEN_CHANNEL_MS, 1, 4096, 0, &res);
	if (rc == 0 && res.exit_status == 0 && res.out.kept.len > 0) {
		size_t n = strcspn(res.out.kept.data, "\n");

		*cwd = strndup(res.out.kept.data, n);
	}
	os_free(&res.out);
	os_free(&res.err);
	if (w->lost) {
		snprintf(msg, msz, "the SSH connection to %s failed", w->host);
		snprintf(detail, dsz, "%s", w->lost_msg);
		return -1;
	}
	if (*cwd == NULL)
		*cwd = strdup("/");
	return 0;
}

/* ---- operations --------------------------------------------------------------------- */

/* Adds the common parts to a result body and an audit detail. */
static void op_fields(json_t *o, const struct mm_lr_op *op, int capped)
{
	json_object_set_new(o, "command", json_string(op->command));
	json_object_set_new(o, "args", capped ? capped_args(op->args) : json_deep_copy(op->args));
}

static json_t *error_body(const char *msg, const char *detail)
{
	return json_pack("{s:s, s:s?}", "error", msg, "detail",
	                 detail != NULL && detail[0] != '\0' ? detail : NULL);
}

/* Posts a RESULT. */
static void post_result(struct mm_lr_worker *w, int status, json_t *body, const char *cwd)
{
	struct mm_lr_event *ev = ev_new(MM_LR_EV_RESULT);

	if (ev == NULL) {
		json_decref(body);
		return;
	}
	ev->status = status;
	ev->body = body;
	if (cwd != NULL)
		ev->cwd = strdup(cwd);
	post(w, ev);
}

static void run_exec(struct mm_lr_worker *w, struct mm_lr_op *op)
{
	struct exec_res res;
	struct seg sg;
	struct rec rc;
	json_t *body = NULL, *audit = NULL, *ev = NULL;
	char ohex[65], ehex[65], tmsg[96], *newcwd = NULL;
	int r, status = 200;

	r = exec_run(w, op->line, (int64_t)w->command_timeout_s * 1000, 1, w->output_cap, 1, &res);
	os_hex(&res.out, ohex);
	os_hex(&res.err, ehex);
	audit = audit_base(w);
	op_fields(audit, op, 1);
	ev = json_object();
	op_fields(ev, op, 0);
	if (r != 0) {
		status = r == MM_ERR_IO ? 502 : 500;
		body = error_body(r == MM_ERR_IO ? "the SSH connection to the host was lost"
		                                 : "out of memory",
		                  w->lost_msg);
		json_object_set_new(audit, "error", json_string(w->lost_msg));
		json_object_set_new(ev, "error", json_string(w->lost_msg));
	} else {
		json_t *fields = json_object();

		json_object_set_new(fields, "exit_status",
		                    res.exit_status >= 0 ? json_integer(res.exit_status)
		                                         : json_null());
		json_object_set_new(fields, "signal",
		                    res.signal[0] != '\0' ? json_string(res.signal) : json_null());
		json_object_set_new(fields, "timed_out", json_boolean(res.timed_out));
		json_object_set_new(fields, "duration_ms", json_integer(res.duration_ms));
		json_object_set_new(fields, "stdout_bytes",
		                    json_integer((json_int_t)res.out.total));
		json_object_set_new(fields, "stdout_sha256", json_string(ohex));
		json_object_set_new(fields, "stderr_bytes",
		                    json_integer((json_int_t)res.err.total));
		json_object_set_new(fields, "stderr_sha256", json_string(ehex));
		json_object_set_new(fields, "truncated",
		                    json_boolean(res.out.total > res.out.kept.len ||
		                                 res.err.total > res.err.kept.len));
		if (res.timed_out) {
			snprintf(tmsg, sizeof(tmsg), "stopped after %d s (command_timeout)%s",
			         w->command_timeout_s,
			         res.pid > 1 ? "" : "; process group unknown");
			json_object_set_new(fields, "error", json_string(tmsg));
		} else if (res.aborted) {
			json_object_set_new(fields, "error",
			                    json_string("stopped: the session was closed"));
			status = 503;
		}
		json_object_update(audit, fields);
		json_object_update(ev, fields);
		json_object_set_new(ev, "stdout", text_json(res.out.kept.data, res.out.kept.len));
		json_object_set_new(ev, "stderr", text_json(res.err.kept.data, res.err.kept.len));
		body = json_deep_copy(ev);
		if (op->is_cd) {
			if (res.exit_status == 0 && res.out.kept.len > 0) {
				newcwd =
				    strndup(res.out.kept.data, strcspn(res.out.kept.data, "\n"));
				json_object_set_new(body, "cwd", json_string(newcwd));
				json_object_set_new(audit, "cwd", json_string(newcwd));
			} else if (!res.timed_out && !res.aborted) {
				char *e = res.err.kept.len > 0
				              ? strndup(res.err.kept.data,
				                        strcspn(res.err.kept.data, "\n"))
				              : NULL;

				json_decref(body);
				body = error_body("cd failed", e);
				status = 422;
				free(e);
			}
		}
		json_decref(fields);
	}
	w->commands++;
	memset(&rc, 0, sizeof(rc));
	sg = (struct seg){"command", ev, NULL, 0};
	rc.segs = &sg;
	rc.nsegs = 1;
	rc.action = "lr.command";
	rc.audit = audit;
	rc.status = status;
	record(w, &rc);
	post_result(w, status, body, newcwd);
	json_decref(audit);
	json_decref(ev);
	free(newcwd);
	os_free(&res.out);
	os_free(&res.err);
}

/* SFTP's error for a failed call, in words. */
static const char *sftp_err(LIBSSH2_SFTP *sftp)
{
	switch (libssh2_sftp_last_error(sftp)) {
	case LIBSSH2_FX_NO_SUCH_FILE: return "no such file or directory";
	case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
	case LIBSSH2_FX_NO_SUCH_PATH: return "no such path";
	case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "file exists";
	case LIBSSH2_FX_WRITE_PROTECT: return "read-only file system";
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
	case LIBSSH2_FX_QUOTA_EXCEEDED: return "no space left";
	case LIBSSH2_FX_NOT_A_DIRECTORY: return "not a directory";
	case LIBSSH2_FX_INVALID_FILENAME: return "invalid file name";
	default: return "the SFTP server failed";
	}
}

/* Starts SFTP.  NULL with *rc set (E_TIMEOUT / E_ABORT / libssh2 error). */
static LIBSSH2_SFTP *sftp_start(struct mm_lr_worker *w, int64_t deadline, int *rc)
{
	LIBSSH2_SFTP *s;
	int wr;

	*rc = 0;
	while ((s = libssh2_sftp_init(w->ssh)) == NULL) {
		if (libssh2_session_last_errno(w->ssh) != LIBSSH2_ERROR_EAGAIN) {
			*rc = libssh2_session_last_errno(w->ssh);
			return NULL;
		}
		if ((wr = wait_io(w, deadline, 1)) != IO_READY) {
			*rc = wr == IO_TIMEOUT ? E_TIMEOUT : E_ABORT;
			return NULL;
		}
	}
	return s;
}

static LIBSSH2_SFTP_HANDLE *sftp_open(struct mm_lr_worker *w, LIBSSH2_SFTP *s, const char *path,
                                      unsigned long flags, long mode, int64_t deadline, int *rc)
{
	LIBSSH2_SFTP_HANDLE *h;
	int wr;

	*rc = 0;
	while ((h = libssh2_sftp_open_ex(s, path, (unsigned int)strlen(path), flags, mode,
	                                 LIBSSH2_SFTP_OPENFILE)) == NULL) {
		if (libssh2_session_last_errno(w->ssh) != LIBSSH2_ERROR_EAGAIN) {
			*rc = libssh2_session_last_errno(w->ssh);
			return NULL;
		}
		if ((wr = wait_io(w, deadline, 1)) != IO_READY) {
			*rc = wr == IO_TIMEOUT ? E_TIMEOUT : E_ABORT;
			return NULL;
		}
	}
	return h;
}

static void sftp_stop(struct mm_lr_worker *w, LIBSSH2_SFTP *s, LIBSSH2_SFTP_HANDLE *h)
{
	int rc;

	if (h != NULL)
		RETRY(w, now_ms() + CLEANUP_MS, 0, libssh2_sftp_close_handle(h), rc);
	if (s != NULL)
		RETRY(w, now_ms() + CLEANUP_MS, 0, libssh2_sftp_shutdown(s), rc);
}

/* Words for a failed transfer step; sets lost when the connection failed. */
static const char *xfer_err(struct mm_lr_worker *w, LIBSSH2_SFTP *s, int rc, const char *what)
{
	if (rc == E_TIMEOUT)
		return "timed out (command_timeout)";
	if (rc == E_ABORT)
		return "the session was closed";
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && s != NULL)
		return sftp_err(s);
	lost(w, what);
	return "the SSH connection to the host was lost";
}

/* Records and posts the outcome of a transfer. */
static void xfer_done(struct mm_lr_worker *w, struct mm_lr_op *op, int status, const char *error,
                      size_t size, const char *hex, const unsigned char *data)
{
	json_t *audit = audit_base(w), *ev = json_object(), *body;
	const char *action = op->kind == MM_LR_OP_PUT ? "lr.file.put" : "lr.file.get";
	struct seg sg;
	struct rec rc;

	op_fields(audit, op, 1);
	op_fields(ev, op, 0);
	json_object_set_new(audit, "path", json_string(op->path));
	json_object_set_new(ev, "path", json_string(op->path));
	if (error == NULL) {
		json_object_set_new(audit, "size", json_integer((json_int_t)size));
		json_object_set_new(audit, "sha256", json_string(hex));
		json_object_set_new(ev, "size", json_integer((json_int_t)size));
		json_object_set_new(ev, "sha256", json_string(hex));
		body = json_deep_copy(ev);
		if (data != NULL) {
			char *b64 = malloc(4 * ((size + 2) / 3) + 1);

			if (b64 != NULL) {
				EVP_EncodeBlock((unsigned char *)b64, data, (int)size);
				json_object_set_new(body, "data", json_string(b64));
				free(b64);
			} else {
				json_decref(body);
				body = error_body("out of memory", NULL);
				status = 500;
			}
		}
	} else {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s %s: %s", op->command, op->path, error);
		json_object_set_new(audit, "error", json_string(error));
		json_object_set_new(ev, "error", json_string(error));
		body = error_body(msg, NULL);
	}
	w->commands++;
	memset(&rc, 0, sizeof(rc));
	sg = (struct seg){op->kind == MM_LR_OP_PUT ? "put" : "get", ev, NULL, 0};
	rc.segs = &sg;
	rc.nsegs = 1;
	rc.action = action;
	rc.audit = audit;
	rc.status = status;
	record(w, &rc);
	post_result(w, status, body, NULL);
	json_decref(audit);
	json_decref(ev);
}

static void run_get(struct mm_lr_worker *w, struct mm_lr_op *op)
{
	LIBSSH2_SFTP *s = NULL;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES at;
	struct mm_buf data;
	int64_t deadline = now_ms() + (int64_t)w->command_timeout_s * 1000;
	const char *error = NULL;
	char hex[65], big[96];
	int rc, status = 422;
	ssize_t n;

	mm_buf_init(&data, w->put_max);
	if ((s = sftp_start(w, deadline, &rc)) == NULL) {
		error = xfer_err(w, NULL, rc, "starting SFTP");
		goto out;
	}
	if ((h = sftp_open(w, s, op->path, LIBSSH2_FXF_READ, 0, deadline, &rc)) == NULL) {
		error = xfer_err(w, s, rc, "opening a file");
		goto out;
	}
	RETRY(w, deadline, 1, libssh2_sftp_fstat_ex(h, &at, 0), rc);
	if (rc != 0) {
		error = xfer_err(w, s, rc, "reading a file's attributes");
		goto out;
	}
	if ((at.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && !LIBSSH2_SFTP_S_ISREG(at.permissions)) {
		error = "not a regular file";
		goto out;
	}
	if ((at.flags & LIBSSH2_SFTP_ATTR_SIZE) && at.filesize > w->put_max) {
		snprintf(big, sizeof(big), "%llu bytes, over put_max (%zu bytes)",
		         (unsigned long long)at.filesize, w->put_max);
		error = big;
		status = 413;
		goto out;
	}
	for (;;) {
		char buf[READ_CHUNK];
		int wr;

		n = libssh2_sftp_read(h, buf, sizeof(buf));
		if (n == LIBSSH2_ERROR_EAGAIN) {
			if ((wr = wait_io(w, deadline, 1)) != IO_READY) {
				error = xfer_err(w, s, wr == IO_TIMEOUT ? E_TIMEOUT : E_ABORT, "");
				goto out;
			}
			continue;
		}
		if (n < 0) {
			error = xfer_err(w, s, (int)n, "reading a file");
			goto out;
		}
		if (n == 0)
			break;
		if (mm_buf_add(&data, buf, (size_t)n) != 0) {
			snprintf(big, sizeof(big), "larger than put_max (%zu bytes)", w->put_max);
			error = big;
			status = 413;
			goto out;
		}
	}
	sha256_hex(data.data != NULL ? data.data : "", data.len, hex);
	status = 200;
out:
	if (w->lost)
		status = 502;
	if (!w->lost)
		sftp_stop(w, s, h);
	xfer_done(w, op, status, error, data.len, hex, (const unsigned char *)data.data);
	mm_buf_free(&data);
}

static void run_put(struct mm_lr_worker *w, struct mm_lr_op *op)
{
	LIBSSH2_SFTP *s = NULL;
	LIBSSH2_SFTP_HANDLE *h = NULL;
	struct mm_buf mv;
	struct exec_res res;
	int64_t deadline = now_ms() + (int64_t)w->command_timeout_s * 1000;
	const char *error = NULL, *slash = strrchr(op->path, '/');
	char hex[65], rnd[17], *tmp = NULL, big[96], mverr[300];
	size_t off = 0;
	int rc, status = 422, created = 0;

	mm_buf_init(&mv, LINE_MAX_BYTES);
	sha256_hex(op->data, op->len, hex);
	if (op->len > w->put_max) {
		snprintf(big, sizeof(big), "%zu bytes, over put_max (%zu bytes)", op->len,
		         w->put_max);
		error = big;
		status = 413;
		goto out;
	}
	if (slash == NULL || slash[1] == '\0') {
		error = "the target must be a file name, not a directory";
		goto out;
	}
	if (mm_random_hex(rnd, 8) != 0 ||
	    asprintf(&tmp, "%.*s/.%s.mamori-%s", (int)(slash - op->path), op->path, slash + 1,
	             rnd) < 0) {
		tmp = NULL;
		error = "out of memory";
		status = 500;
		goto out;
	}
	if ((s = sftp_start(w, deadline, &rc)) == NULL) {
		error = xfer_err(w, NULL, rc, "starting SFTP");
		goto out;
	}
	h = sftp_open(w, s, tmp, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, op->mode,
	              deadline, &rc);
	if (h == NULL) {
		error = xfer_err(w, s, rc, "creating a file");
		goto out;
	}
	created = 1;
	while (off < op->len) {
		ssize_t n = libssh2_sftp_write(h, (const char *)op->data + off, op->len - off);
		int wr;

		if (n == LIBSSH2_ERROR_EAGAIN) {
			if ((wr = wait_io(w, deadline, 1)) != IO_READY) {
				error = xfer_err(w, s, wr == IO_TIMEOUT ? E_TIMEOUT : E_ABORT, "");
				goto out;
			}
			continue;
		}
		if (n < 0) {
			error = xfer_err(w, s, (int)n, "writing a file");
			goto out;
		}
		off += (size_t)n;
	}
	RETRY(w, deadline, 1, libssh2_sftp_close_handle(h), rc);
	h = NULL;
	if (rc != 0) {
		error = xfer_err(w, s, rc, "closing a file");
		goto out;
	}
	/* Every byte is there: now replace the target in one rename. */
	if (mm_buf_adds(&mv, "mv -f -- ") != 0 || mm_lr_shquote(&mv, tmp) != 0 ||
	    mm_buf_addc(&mv, ' ') != 0 || mm_lr_shquote(&mv, op->path) != 0) {
		error = "out of memory";
		status = 500;
		goto out;
	}
	rc = exec_run(w, mv.data, (int64_t)w->command_timeout_s * 1000, 1, 4096, 1, &res);
	if (rc == 0 && res.exit_status == 0) {
		created = 0; /* renamed: nothing to clean up */
		status = 200;
	} else if (rc == 0) {
		snprintf(mverr, sizeof(mverr), "cannot move the file into place: %.*s",
		         (int)strcspn(res.err.kept.len > 0 ? res.err.kept.data : "mv failed", "\n"),
		         res.err.kept.len > 0 ? res.err.kept.data : "mv failed");
		error = mverr;
	} else {
		error = "the SSH connection to the host was lost";
	}
	os_free(&res.out);
	os_free(&res.err);
out:
	if (!w->lost) {
		sftp_stop(w, NULL, h);
		h = NULL;
		if (created && s != NULL) /* nothing half-written stays behind */
			RETRY(w, now_ms() + CLEANUP_MS, 0,
			      libssh2_sftp_unlink_ex(s, tmp, (unsigned int)strlen(tmp)), rc);
		sftp_stop(w, s, NULL);
	}
	if (w->lost)
		status = 502;
	xfer_done(w, op, status, error, op->len, hex, NULL);
	free(tmp);
	mm_buf_free(&mv);
}

/* ---- the interactive shell ------------------------------------------------------ */

/* Shell bytes not yet written to the transcript: segments in order. */
struct shlog {
	struct mm_buf seg[32];
	int dir[32]; /* 0 output, 1 input */
	size_t n;
	size_t pending;   /* bytes in the segments */
	uint64_t stored;  /* bytes written to the transcript so far */
	int64_t first_ms; /* when the oldest pending byte came */
};

static void shlog_flush(struct mm_lr_worker *w, struct shlog *l)
{
	struct seg sg[32];
	struct rec rc;
	size_t i;

	if (l->n == 0)
		return;
	for (i = 0; i < l->n; i++)
		sg[i] = (struct seg){l->dir[i] ? "shell.input" : "shell.output", NULL,
		                     l->seg[i].data, l->seg[i].len};
	memset(&rc, 0, sizeof(rc));
	rc.segs = sg;
	rc.nsegs = l->n;
	record(w, &rc);
	for (i = 0; i < l->n; i++)
		mm_buf_free(&l->seg[i]);
	l->n = 0;
	l->pending = 0;
}

static void shlog_add(struct mm_lr_worker *w, struct shlog *l, int dir, const void *p, size_t n)
{
	if (l->stored >= MM_LR_SHELL_LOG_MAX)
		return; /* past the cap: counted and hashed only */
	if (n > MM_LR_SHELL_LOG_MAX - l->stored)
		n = (size_t)(MM_LR_SHELL_LOG_MAX - l->stored);
	if (l->n == 0 || l->dir[l->n - 1] != dir || l->seg[l->n - 1].len + n > SHELL_SEG_MAX) {
		if (l->n == sizeof(l->seg) / sizeof(l->seg[0]))
			shlog_flush(w, l);
		mm_buf_init(&l->seg[l->n], SHELL_SEG_MAX > n ? SHELL_SEG_MAX : n);
		l->dir[l->n++] = dir;
	}
	if (l->pending == 0)
		l->first_ms = now_ms();
	mm_buf_add(&l->seg[l->n - 1], p, n);
	l->pending += n;
	l->stored += n;
	if (l->pending >= SHELL_SEG_MAX)
		shlog_flush(w, l);
}

static void run_shell(struct mm_lr_worker *w, struct mm_lr_op *op)
{
	LIBSSH2_CHANNEL *ch = NULL;
	struct shlog log;
	struct ostream out, in;
	struct mm_buf pend;
	struct rec rc;
	json_t *audit, *body;
	char ohex[65], ihex[65], sig[32], reason[64] = "the shell exited";
	size_t poff = 0;
	int64_t start = now_ms(), deadline = start + OPEN_CHANNEL_MS;
	int r, exit_status = -1, status = 200, started = 0;

	memset(&log, 0, sizeof(log));
	mm_buf_init(&pend, MM_LR_INPUT_MAX);
	os_init(&out, 0);
	os_init(&in, 0);
	if ((ch = open_channel(w, deadline, 1, &r)) == NULL) {
		if (r != E_TIMEOUT && r != E_ABORT)
			lost(w, "opening a channel");
		goto fail;
	}
	RETRY(w, deadline, 1,
	      libssh2_channel_request_pty_ex(ch, "xterm", 5, NULL, 0, op->cols, op->rows, 0, 0), r);
	if (r == 0)
		RETRY(w, deadline, 1, libssh2_channel_exec(ch, op->line), r);
	if (r != 0) {
		if (r != E_TIMEOUT && r != E_ABORT)
			lost(w, "starting the shell");
		goto fail;
	}
	started = 1;
	pthread_mutex_lock(&w->mu);
	w->shell_on = 1;
	w->shell_close = 0;
	mm_buf_reset(&w->input);
	pthread_mutex_unlock(&w->mu);
	audit = audit_base(w);
	json_object_set_new(audit, "cols", json_integer(op->cols));
	json_object_set_new(audit, "rows", json_integer(op->rows));
	memset(&rc, 0, sizeof(rc));
	{
		struct seg sg = {"shell.start", audit, NULL, 0};

		rc.segs = &sg;
		rc.nsegs = 1;
		rc.action = "lr.shell.start";
		rc.audit = audit;
		rc.status = 200;
		record(w, &rc);
	}
	json_decref(audit);
	post_result(w, 200, json_pack("{s:s, s:s}", "command", "shell", "shell", "started"), NULL);
	for (;;) {
		char buf[READ_CHUNK];
		int progress = 0, closing, k;
		ssize_t n;

		for (k = 0; k < 2; k++) {
			n = k == 0 ? libssh2_channel_read(ch, buf, sizeof(buf))
			           : libssh2_channel_read_stderr(ch, buf, sizeof(buf));
			if (n > 0) {
				struct mm_lr_event *ev = ev_new(MM_LR_EV_SHELL_DATA);

				progress = 1;
				if (ev != NULL && (ev->data = malloc((size_t)n)) != NULL) {
					memcpy(ev->data, buf, (size_t)n);
					ev->len = (size_t)n;
					ev->offset = out.total;
					post(w, ev);
				} else {
					mm_lr_event_free(ev);
				}
				os_add(&out, buf, (size_t)n);
				shlog_add(w, &log, 0, buf, (size_t)n);
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				lost(w, "reading the shell");
				goto end;
			}
		}
		pthread_mutex_lock(&w->mu);
		if (poff == pend.len && w->input.len > 0) {
			struct mm_buf t = pend;

			pend = w->input; /* take what waits, give back an empty buffer */
			w->input = t;
			mm_buf_reset(&w->input);
			poff = 0;
		}
		closing = w->close_req ? 2 : w->shell_close ? 1 : 0;
		pthread_mutex_unlock(&w->mu);
		if (poff < pend.len) {
			n = libssh2_channel_write(ch, pend.data + poff, pend.len - poff);
			if (n > 0) {
				progress = 1;
				os_add(&in, pend.data + poff, (size_t)n);
				shlog_add(w, &log, 1, pend.data + poff, (size_t)n);
				poff += (size_t)n;
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				lost(w, "writing to the shell");
				goto end;
			}
		}
		if (closing) {
			snprintf(reason, sizeof(reason), "%s",
			         closing == 2 ? "the session was closed"
			                      : "closed by the operator");
			break;
		}
		if (log.pending > 0 && now_ms() - log.first_ms >= SHELL_FLUSH_MS)
			shlog_flush(w, &log);
		if (progress)
			continue;
		if (libssh2_channel_eof(ch))
			break;
		wait_io(w, 0, 0);
	}
end:
	if (!w->lost)
		close_channel(w, ch, &exit_status, sig);
	ch = NULL;
	goto done;
fail:
	status = w->lost ? 502 : 503;
	snprintf(reason, sizeof(reason), "%s",
	         w->lost ? "the SSH connection was lost" : "the shell did not start");
	if (ch != NULL && !w->lost)
		close_channel(w, ch, NULL, NULL);
done:
	pthread_mutex_lock(&w->mu);
	w->shell_on = 0;
	mm_buf_reset(&w->input);
	pthread_mutex_unlock(&w->mu);
	shlog_flush(w, &log);
	os_hex(&out, ohex);
	os_hex(&in, ihex);
	w->commands++;
	audit = audit_base(w);
	json_object_set_new(audit, "exit_status",
	                    exit_status >= 0 ? json_integer(exit_status) : json_null());
	json_object_set_new(audit, "output_bytes", json_integer((json_int_t)out.total));
	json_object_set_new(audit, "output_sha256", json_string(ohex));
	json_object_set_new(audit, "input_bytes", json_integer((json_int_t)in.total));
	json_object_set_new(audit, "input_sha256", json_string(ihex));
	json_object_set_new(audit, "kept_bytes", json_integer((json_int_t)log.stored));
	json_object_set_new(audit, "duration_ms", json_integer(now_ms() - start));
	json_object_set_new(audit, "reason", json_string(w->lost ? w->lost_msg : reason));
	memset(&rc, 0, sizeof(rc));
	{
		struct seg sg = {started ? "shell.end" : "shell.failed", audit, NULL, 0};

		rc.segs = &sg;
		rc.nsegs = 1;
		rc.action = started ? "lr.shell.end" : "lr.shell.start";
		rc.audit = audit;
		rc.status = started ? 200 : status;
		record(w, &rc);
	}
	if (started) {
		struct mm_lr_event *ev = ev_new(MM_LR_EV_SHELL_END);

		body = json_deep_copy(audit);
		if (ev != NULL) {
			ev->status = 200;
			ev->body = body;
			post(w, ev);
		} else {
			json_decref(body);
		}
	} else {
		post_result(w, status,
		            error_body("the shell did not start", w->lost ? w->lost_msg : NULL),
		            NULL);
	}
	json_decref(audit);
	os_free(&out);
	os_free(&in);
	mm_buf_free(&pend);
}

/* ---- the thread ---------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct mm_lr_worker *w = arg;
	struct mm_lr_event *ev;
	struct mm_lr_op *op;
	struct rec rc;
	struct seg sg;
	json_t *audit, *detail;
	char msg[512], det[1024], reason[160];
	char *cwd = NULL;
	int status = 502;

	msg[0] = det[0] = '\0';
	if (session_open(w, &status, msg, sizeof(msg), det, sizeof(det), &cwd) != 0) {
		teardown(w);
		audit = audit_base(w);
		json_object_set_new(audit, "address", json_string(w->address));
		json_object_set_new(audit, "port", json_integer(w->port));
		json_object_set_new(audit, "login", json_string(w->login));
		json_object_set_new(audit, "error", json_string(msg));
		if (det[0] != '\0')
			json_object_set_new(audit, "detail", json_string(det));
		if (w->host_key[0] != '\0')
			json_object_set_new(audit, "host_key", json_string(w->host_key));
		memset(&rc, 0, sizeof(rc));
		sg = (struct seg){"refused", audit, NULL, 0};
		rc.segs = &sg;
		rc.nsegs = 1;
		rc.action = "lr.session.open";
		rc.audit = audit;
		rc.status = status;
		rc.sess = SESS_REFUSED;
		rc.reason = msg;
		record(w, &rc);
		json_decref(audit);
		if ((ev = ev_new(MM_LR_EV_CLOSED)) != NULL) {
			ev->status = status;
			ev->body = error_body(msg, det);
			snprintf(ev->reason, sizeof(ev->reason), "%.*s", (int)sizeof(ev->reason) - 1, msg); /* a summary; the audit row has it whole */
			post(w, ev);
		}
		free(cwd);
		return NULL;
	}
	audit = audit_base(w);
	json_object_set_new(audit, "address", json_string(w->address));
	json_object_set_new(audit, "port", json_integer(w->port));
	json_object_set_new(audit, "login", json_string(w->login));
	json_object_set_new(audit, "host_key", json_string(w->host_key));
	json_object_set_new(audit, "auth",
	                    json_string(w->user_key != NULL ? "key" : "certificate"));
	detail = json_deep_copy(audit);
	json_object_set_new(detail, "cwd", json_string(cwd));
	memset(&rc, 0, sizeof(rc));
	sg = (struct seg){"open", detail, NULL, 0};
	rc.segs = &sg;
	rc.nsegs = 1;
	rc.action = "lr.session.open";
	rc.audit = audit;
	rc.status = 200;
	rc.sess = SESS_OPEN;
	record(w, &rc);
	json_decref(audit);
	json_decref(detail);
	if ((ev = ev_new(MM_LR_EV_OPENED)) != NULL) {
		ev->cwd = cwd;
		cwd = NULL;
		snprintf(ev->host_key, sizeof(ev->host_key), "%s", w->host_key);
		post(w, ev);
	}
	free(cwd);
	for (;;) {
		struct pollfd p;

		pthread_mutex_lock(&w->mu);
		if (w->close_req) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		op = w->op;
		w->op = NULL;
		w->running = op != NULL;
		pthread_mutex_unlock(&w->mu);
		if (op == NULL) {
			p.fd = w->wake[0];
			p.events = POLLIN;
			if (poll(&p, 1, IO_SLICE_MS) > 0)
				drain(w);
			continue;
		}
		switch (op->kind) {
		case MM_LR_OP_EXEC: run_exec(w, op); break;
		case MM_LR_OP_GET: run_get(w, op); break;
		case MM_LR_OP_PUT: run_put(w, op); break;
		case MM_LR_OP_SHELL: run_shell(w, op); break;
		}
		mm_lr_op_free(op);
		pthread_mutex_lock(&w->mu);
		w->running = 0;
		pthread_mutex_unlock(&w->mu);
		if (w->lost) {
			pthread_mutex_lock(&w->mu);
			if (!w->close_req) {
				w->close_req = 1;
				snprintf(w->close_reason, sizeof(w->close_reason),
				         "the SSH connection was lost (%.120s)", w->lost_msg);
			}
			pthread_mutex_unlock(&w->mu);
		}
	}
	teardown(w);
	pthread_mutex_lock(&w->mu);
	snprintf(reason, sizeof(reason), "%s",
	         w->close_reason[0] != '\0' ? w->close_reason : "closed");
	op = w->op; /* handed over but never run */
	w->op = NULL;
	pthread_mutex_unlock(&w->mu);
	mm_lr_op_free(op);
	audit = audit_base(w);
	json_object_set_new(audit, "reason", json_string(reason));
	json_object_set_new(audit, "commands", json_integer(w->commands));
	json_object_set_new(audit, "duration_s", json_integer((now_ms() - w->opened_ms) / 1000));
	memset(&rc, 0, sizeof(rc));
	sg = (struct seg){"close", audit, NULL, 0};
	rc.segs = &sg;
	rc.nsegs = 1;
	rc.action = "lr.session.close";
	rc.audit = audit;
	rc.status = 200;
	rc.sess = SESS_CLOSE;
	rc.reason = reason;
	record(w, &rc);
	json_decref(audit);
	if ((ev = ev_new(MM_LR_EV_CLOSED)) != NULL) {
		ev->opened = 1;
		ev->status = 200;
		snprintf(ev->reason, sizeof(ev->reason), "%s", reason);
		post(w, ev); /* the last touch of w */
	}
	return NULL;
}

/* ---- the loop's side -------------------------------------------------------------- */

static char *dup0(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void worker_free_fields(struct mm_lr_worker *w)
{
	size_t i;

	free(w->host);
	free(w->address);
	free(w->login);
	free(w->key_id);
	free(w->source_address);
	free(w->actor);
	free(w->actor_address);
	for (i = 0; i < w->nkeys; i++)
		free(w->keys[i]);
	free(w->keys);
	EVP_PKEY_free(w->ca);
	EVP_PKEY_free(w->user_key);
	mm_lr_op_free(w->op);
	mm_buf_free(&w->input);
	if (w->wake[0] >= 0)
		close(w->wake[0]);
	if (w->wake[1] >= 0)
		close(w->wake[1]);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int mm_lr_worker_start(const struct mm_lr_params *p, struct mm_http_server *http,
                       struct mm_store *store, mm_lr_event_fn fn, void *owner,
                       struct mm_lr_worker **out, char **err)
{
	struct mm_lr_worker *w;
	pthread_attr_t attr;
	size_t i;

	*out = NULL;
	*err = NULL;
	if (mm_lr_global_init() != 0) {
		*err = strdup("libssh2 did not initialise");
		return MM_ERR_INTERNAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return MM_ERR_NOMEM;
	w->wake[0] = w->wake[1] = -1;
	w->sock = -1;
	pthread_mutex_init(&w->mu, NULL);
	mm_buf_init(&w->input, MM_LR_INPUT_MAX);
	w->http = http;
	w->store = store;
	w->fn = fn;
	w->owner = owner;
	snprintf(w->id, sizeof(w->id), "%s", p->session_id);
	w->host_id = p->host_id;
	w->port = p->port;
	w->role = p->role;
	w->token_id = p->token_id;
	w->cert_validity_s = p->cert_validity_s;
	w->connect_timeout_s = p->connect_timeout_s;
	w->command_timeout_s = p->command_timeout_s;
	w->output_cap = p->output_cap;
	w->put_max = p->put_max;
	w->host = dup0(p->host);
	w->address = dup0(p->address);
	w->login = dup0(p->login);
	w->key_id = dup0(p->key_id);
	w->actor = dup0(p->actor);
	w->actor_address = dup0(p->actor_address != NULL ? p->actor_address : "");
	w->source_address = dup0(p->source_address);
	if (p->ca != NULL && EVP_PKEY_up_ref(p->ca) == 1)
		w->ca = p->ca;
	if (p->user_key != NULL && EVP_PKEY_up_ref(p->user_key) == 1)
		w->user_key = p->user_key;
	if ((w->keys = calloc(p->nhost_keys + 1, sizeof(char *))) != NULL)
		for (i = 0; i < p->nhost_keys; i++)
			if ((w->keys[w->nkeys] = strdup(p->host_keys[i])) != NULL)
				w->nkeys++;
	if (w->host == NULL || w->address == NULL || w->login == NULL || w->key_id == NULL ||
	    w->actor == NULL || w->actor_address == NULL || w->keys == NULL ||
	    w->nkeys != p->nhost_keys || (p->source_address != NULL && w->source_address == NULL) ||
	    (w->ca == NULL && w->user_key == NULL)) {
		worker_free_fields(w);
		*err = strdup("out of memory");
		return MM_ERR_NOMEM;
	}
	if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		w->wake[0] = w->wake[1] = -1;
		worker_free_fields(w);
		*err = strdup("cannot make a pipe");
		return MM_ERR_IO;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 1u << 20);
	if (pthread_create(&w->th, &attr, worker_main, w) != 0) {
		pthread_attr_destroy(&attr);
		worker_free_fields(w);
		*err = strdup("cannot start a thread");
		return MM_ERR_INTERNAL;
	}
	pthread_attr_destroy(&attr);
	w->started = 1;
	*out = w;
	return 0;
}

int mm_lr_worker_submit(struct mm_lr_worker *w, struct mm_lr_op *op)
{
	int r = 0;

	/* Not `running`: the worker posts an operation's result before it
	 * clears that flag, so the next command (sent the moment the result
	 * arrives) would find it still set.  The one-deep slot is enough: the
	 * API lets a session have one command at a time (its busy flag). */
	pthread_mutex_lock(&w->mu);
	if (w->op != NULL || w->close_req)
		r = MM_ERR_LIMIT;
	else
		w->op = op;
	pthread_mutex_unlock(&w->mu);
	if (r == 0)
		wake(w);
	return r;
}

int mm_lr_worker_shell_input(struct mm_lr_worker *w, const void *data, size_t len)
{
	int r;

	pthread_mutex_lock(&w->mu);
	if (!w->shell_on || w->shell_close)
		r = MM_ERR_NOTFOUND;
	else if (len > MM_LR_INPUT_MAX - w->input.len)
		r = MM_ERR_TOOBIG;
	else
		r = mm_buf_add(&w->input, data, len);
	pthread_mutex_unlock(&w->mu);
	if (r == 0)
		wake(w);
	return r;
}

void mm_lr_worker_shell_close(struct mm_lr_worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->shell_close = 1;
	pthread_mutex_unlock(&w->mu);
	wake(w);
}

void mm_lr_worker_close(struct mm_lr_worker *w, const char *reason)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	if (!w->close_req) {
		w->close_req = 1;
		snprintf(w->close_reason, sizeof(w->close_reason), "%s",
		         reason != NULL ? reason : "closed");
	}
	pthread_mutex_unlock(&w->mu);
	wake(w);
}

void mm_lr_worker_free(struct mm_lr_worker *w)
{
	if (w == NULL)
		return;
	if (w->started)
		pthread_join(w->th, NULL);
	worker_free_fields(w);
}
