/*
 * cmd_lr.c - `mamorictl lr`: Live Response, audited remote shells on a
 * host through the coordinator (docs/live-response.md).
 *
 *   mamorictl lr HOST               a session with a prompt: the commands
 *                                   below, line editing and history
 *   mamorictl lr HOST -- CMD ARGS   one command; exits with its status
 *   mamorictl lr --list             the live sessions (admin: all of them)
 *   mamorictl lr --close ID         close (an admin: terminate) a session
 *   mamorictl audit --session ID    replay a session's transcript
 *
 * Commands: ps, kill [-SIG] PID, ls|dir [PATH], cd PATH, pwd, cat FILE,
 * get REMOTE [LOCAL], put LOCAL REMOTE, exec CMD..., sql QUERY, shell,
 * help, exit.  The coordinator runs them (POST .../commands) and records
 * each.  `shell` streams the PTY's output (Server-Sent Events, read by a
 * second thread with its own libcurl handle and sse.h) while this thread sends what
 * is typed (raw mode when stdin is a terminal; at the end of a non-tty
 * stdin a ^D is sent).
 *
 * Exit status of a one-shot command: the remote exit status (exec, ps, ls,
 * ...), 0 or 1 for the others, 1 when the coordinator refused or the
 * command was stopped (command_timeout), 2 for usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <editline/readline.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ctl.h"
#include "error.h"
#include "fileio.h"
#include "sse.h"
#include "strutil.h"
#include "util.h"
#include "version.h"

#define LINE_MAX_WORDS 64
/* One event of the shell's stream: the coordinator's largest is its replay of
 * up to 1 MiB of output, base64.  The reader also holds an unfinished line
 * and the rest of one libcurl write (16 KiB). */
#define SSE_DATA_MAX  (8u << 20)
#define SSE_IN_MAX    (SSE_DATA_MAX + (64u << 10))
#define LR_TIMEOUT_MS (3600 * 1000) /* the coordinator bounds every step itself */
#define REPLAY_PAGE   1000

struct lr {
	struct ctl *c;
	char id[40];
	char *host;
	char *cwd;
	int64_t put_max;
};

static const char lr_help[] =
    "commands (run on the host by the coordinator, each one recorded):\n"
    "  ps                     processes\n"
    "  kill [-SIGNAL] PID     signal a process (TERM by default)\n"
    "  ls|dir [PATH]          list a directory\n"
    "  cd PATH, pwd           change / show the session's directory\n"
    "  cat FILE               show a file (up to output_cap bytes)\n"
    "  get REMOTE [LOCAL]     copy a file from the host (SFTP, SHA-256 checked)\n"
    "  put LOCAL REMOTE       copy a file to the host (written whole or not at all)\n"
    "  exec COMMAND...        run a shell command line: stdout, stderr, exit status\n"
    "  sql QUERY              query the host's agent tables (a live query)\n"
    "  shell                  an interactive shell (exit it to come back)\n"
    "  help, exit\n";

/* ---- small helpers -------------------------------------------------------------------- */

static char *b64_encode(const void *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Decodes base64 (padding required).  Returns 0 or -1. */
static int b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	size_t pad = 0;
	int len;

	*out = NULL;
	if (n % 4 != 0 || n > (1u << 30))
		return -1;
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	*out = xmalloc(n / 4 * 3 + 1);
	if (n == 0) {
		*outlen = 0;
		return 0;
	}
	len = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*outlen = (size_t)len - pad;
	return 0;
}

static void sha256_hex(const void *p, size_t n, char hex[65])
{
	static const char d[] = "0123456789abcdef";
	unsigned char md[32];
	int i;

	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = d[md[i] >> 4];
		hex[2 * i + 1] = d[md[i] & 15];
	}
	hex[64] = '\0';
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* Splits a line into words: blanks separate, '...' and "..." quote,
 * backslash escapes outside single quotes.  Returns the count, -1 on an
 * unterminated quote.  The words point into a copy kept in *buf. */
static int split_words(const char *line, char **words, int max, char **buf)
{
	char *o = xmalloc(strlen(line) + 1), *w = NULL;
	const char *p = line;
	int n = 0;
	char q = 0;

	*buf = o;
	for (; *p != '\0'; p++) {
		if (q == 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
			if (w != NULL) {
				*o++ = '\0';
				w = NULL;
			}
			continue;
		}
		if (w == NULL) {
			if (n == max)
				return -1;
			w = o;
			words[n++] = w;
		}
		if (q == 0 && (*p == '\'' || *p == '"')) {
			q = *p;
		} else if (q != 0 && *p == q) {
			q = 0;
		} else if (*p == '\\' && q != '\'' && p[1] != '\0') {
			*o++ = *++p;
		} else {
			*o++ = *p;
		}
	}
	if (w != NULL)
		*o = '\0';
	return q != 0 ? -1 : n;
}

/* What follows the first word of line (leading blanks skipped). */
static const char *rest_of_line(const char *line)
{
	const char *p = line + strspn(line, " \t");

	p += strcspn(p, " \t");
	return p + strspn(p, " \t");
}

/* ---- the session ------------------------------------------------------------------- */

static int lr_path(struct lr *s, const char *tail, struct mm_buf *p)
{
	mm_buf_init(p, 4096);
	if (mm_buf_adds(p, "/api/v1/lr/sessions") != 0 || ctl_path_segment(p, s->id) != 0 ||
	    (tail != NULL && mm_buf_adds(p, tail) != 0))
		return -1;
	return 0;
}

static int lr_open(struct ctl *c, const char *host, struct lr *s)
{
	json_t *body = json_pack("{s:s}", "host", host), *resp = NULL, *sess;
	int r;

	memset(s, 0, sizeof(*s));
	s->c = c;
	r = ctl_call(c, "POST", "/api/v1/lr/sessions", body, &resp);
	json_decref(body);
	if (r != 0)
		return r;
	if ((sess = ctl_expect(resp, "session", JSON_OBJECT)) == NULL) {
		json_decref(resp);
		return CTL_EXIT_FAIL;
	}
	snprintf(s->id, sizeof(s->id), "%s", jstr(sess, "id"));
	s->host = xstrdup(jstr(sess, "host"));
	s->cwd = xstrdup(jstr(sess, "cwd"));
	s->put_max = json_integer_value(json_object_get(sess, "put_max"));
	json_decref(resp);
	return 0;
}

static void lr_close(struct lr *s)
{
	struct mm_buf p;
	json_t *resp = NULL;
	char *err = NULL;

	if (s->id[0] != '\0' && lr_path(s, NULL, &p) == 0 &&
	    ctl_client_request(s->c->client, "DELETE", mm_buf_str(&p), NULL, &resp, &err) != 0 &&
	    ctl_client_status(s->c->client) != 404)
		fprintf(stderr, "mamorictl: closing session %s: %s\n", s->id, err);
	mm_buf_free(&p);
	json_decref(resp);
	free(err);
	free(s->host);
	free(s->cwd);
	s->host = s->cwd = NULL;
	s->id[0] = '\0';
}

/* POSTs one command; *resp gets the answer.  Returns 0 or an exit code. */
static int lr_command(struct lr *s, const char *cmd, json_t *args, const void *data, size_t len,
                      json_t **resp)
{
	json_t *body = json_pack("{s:s, s:o}", "command", cmd, "args", args);
	struct mm_buf p;
	int r;

	if (data != NULL) {
		char *enc = b64_encode(data, len);

		json_object_set_new(body, "data", json_string(enc));
		OPENSSL_cleanse(enc, strlen(enc));
		free(enc);
	}
	if (lr_path(s, "/commands", &p) != 0) {
		json_decref(body);
		return ctl_fail("session id too long");
	}
	r = ctl_call(s->c, "POST", mm_buf_str(&p), body, resp);
	mm_buf_free(&p);
	json_decref(body);
	return r;
}

/* Prints the outcome of an exec-like command; returns its exit code. */
static int show_output(const char *cmd, const json_t *resp)
{
	const char *out = jstr(resp, "stdout"), *err = jstr(resp, "stderr");
	const json_t *st = json_object_get(resp, "exit_status");

	fwrite(out, 1, strlen(out), stdout);
	fflush(stdout);
	fwrite(err, 1, strlen(err), stderr);
	if (json_is_true(json_object_get(resp, "truncated")))
		fprintf(stderr,
		        "mamorictl: %s: output cut at output_cap (stdout %lld bytes sha256 %s, "
		        "stderr %lld bytes sha256 %s)\n",
		        cmd, (long long)json_integer_value(json_object_get(resp, "stdout_bytes")),
		        jstr(resp, "stdout_sha256"),
		        (long long)json_integer_value(json_object_get(resp, "stderr_bytes")),
		        jstr(resp, "stderr_sha256"));
	if (json_object_get(resp, "error") != NULL) {
		fprintf(stderr, "mamorictl: %s: %s\n", cmd, jstr(resp, "error"));
		return CTL_EXIT_FAIL;
	}
	if (json_is_string(json_object_get(resp, "signal"))) {
		fprintf(stderr, "mamorictl: %s: ended by signal %s\n", cmd, jstr(resp, "signal"));
		return CTL_EXIT_FAIL;
	}
	return json_is_integer(st) ? (int)(json_integer_value(st) & 0xff) : CTL_EXIT_FAIL;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : p;
}

static int do_get(struct lr *s, const char *remote, const char *local)
{
	json_t *resp = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	char hex[65], *tmp = NULL;
	const char *enc;
	int r, fd = -1;

	if (local == NULL)
		local = base_name(remote);
	if ((r = lr_command(s, "get", json_pack("[s]", remote), NULL, 0, &resp)) != 0)
		return r;
	r = CTL_EXIT_FAIL;
	enc = jstr(resp, "data");
	if (b64_decode(enc, strlen(enc), &data, &len) != 0) {
		ctl_fail("get: the coordinator's answer holds no file");
		goto out;
	}
	sha256_hex(data, len, hex);
	if (strcmp(hex, jstr(resp, "sha256")) != 0) {
		ctl_fail("get: SHA-256 mismatch: the coordinator read %s, %s arrived",
		         jstr(resp, "sha256"), hex);
		goto out;
	}
	tmp = xasprintf("%s.mamori-get", local);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    (len > 0 && write(fd, data, len) != (ssize_t)len) || close(fd) != 0) {
		if (fd >= 0)
			close(fd);
		ctl_fail("get: %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, local) != 0) {
		ctl_fail("get: %s: %s", local, strerror(errno));
		unlink(tmp);
		goto out;
	}
	printf("%s -> %s (%zu bytes, sha256 %s)\n", jstr(resp, "path"), local, len, hex);
	r = CTL_EXIT_OK;
out:
	free(tmp);
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	json_decref(resp);
	return r;
}

static int do_put(struct lr *s, const char *local, const char *remote)
{
	json_t *resp = NULL;
	char *data = NULL, hex[65];
	size_t len = 0;
	int r;

	r = mm_read_file(local, s->put_max > 0 ? (size_t)s->put_max : (64u << 20), &data, &len);
	if (r == MM_ERR_TOOBIG)
		return ctl_fail("put: %s is larger than the coordinator's put_max (%lld bytes)",
		                local, (long long)s->put_max);
	if (r != 0)
		return ctl_fail("put: %s: %s", local, strerror(errno));
	sha256_hex(data, len, hex);
	r = lr_command(s, "put", json_pack("[s]", remote), data, len, &resp);
	if (r == 0) {
		if (strcmp(hex, jstr(resp, "sha256")) != 0) {
			r = ctl_fail("put: SHA-256 mismatch: sent %s, the coordinator wrote %s",
			             hex, jstr(resp, "sha256"));
		} else {
			printf("%s -> %s (%zu bytes, sha256 %s)\n", local, jstr(resp, "path"), len,
			       hex);
		}
	}
	OPENSSL_cleanse(data, len);
	free(data);
	json_decref(resp);
	return r;
}

/* ---- the interactive shell ----------------------------------------------------------- */

struct stream {
	CURL *h;
	struct curl_slist *hdrs;
	struct ctl_sse sse; /* the event stream reader (sse.h) */
	int exited;         /* an exit event came */
	int exit_status;    /* its exit_status, -1 when it had none */
	int failed;         /* the reader's MM_ERR_* that stopped the transfer, 0 = none */
	int stop;           /* atomic: abort the transfer */
	int done;           /* atomic: the transfer ended */
	CURLcode rc;
	char errbuf[CURL_ERROR_SIZE];
};

/* The SSE reader's callback (sse.h), on the stream thread.  The coordinator
 * sends (server/api_lr.c) "output" events, the PTY's bytes in base64, which
 * go to stdout as they are, and at the end one "exit" event, the shell's
 * end as a JSON object with exit_status.  Other events are ignored.
 * Returns 0. */
static int on_event(void *arg, const struct ctl_sse_event *ev)
{
	struct stream *st = arg;

	if (strcmp(ev->name, "output") == 0) {
		unsigned char *p = NULL;
		size_t n = 0;

		if (b64_decode(ev->data, ev->len, &p, &n) == 0) {
			size_t off = 0;

			while (off < n) {
				ssize_t w = write(STDOUT_FILENO, p + off, n - off);

				if (w <= 0)
					break;
				off += (size_t)w;
			}
		}
		free(p);
	} else if (strcmp(ev->name, "exit") == 0) {
		json_t *j = json_loadb(ev->data, ev->len, 0, NULL);
		json_t *e = json_object_get(j, "exit_status");

		st->exited = 1;
		st->exit_status = json_is_integer(e) ? (int)json_integer_value(e) : -1;
		json_decref(j);
	}
	return 0;
}

/* libcurl's write callback: the stream's bytes to the reader.  An event
 * over the caps (or no memory) stops the transfer with st->failed set. */
static size_t sse_write(char *p, size_t size, size_t n, void *arg)
{
	struct stream *st = arg;
	int r;

	if ((r = ctl_sse_feed(&st->sse, p, size * n, on_event, st)) != 0) {
		st->failed = r;
		return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
	}
	return size * n;
}

static int sse_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct stream *st = arg;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return __atomic_load_n(&st->stop, __ATOMIC_ACQUIRE) ? 1 : 0;
}

static void *stream_main(void *arg)
{
	struct stream *st = arg;

	st->rc = curl_easy_perform(st->h);
	__atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int stream_setup(struct lr *s, struct stream *st)
{
	struct ctl_settings *set = &s->c->set;
	struct mm_buf p;
	char *url, *auth;
	CURLcode e = CURLE_OK;

	memset(st, 0, sizeof(*st));
	ctl_sse_init(&st->sse, SSE_IN_MAX, SSE_DATA_MAX);
	if (lr_path(s, "/shell?from=0", &p) != 0 || (st->h = curl_easy_init()) == NULL) {
		mm_buf_free(&p);
		return -1;
	}
	url = xasprintf("%s%s", set->server, mm_buf_str(&p));
	mm_buf_free(&p);
	auth = xasprintf("Authorization: Bearer %s", set->token);
	st->hdrs = curl_slist_append(NULL, auth);
	st->hdrs = curl_slist_append(st->hdrs, "Accept: text/event-stream");
	OPENSSL_cleanse(auth, strlen(auth));
	free(auth);
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (e == CURLE_OK)                                                                 \
			e = curl_easy_setopt(st->h, opt, val);                                     \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (set->ca != NULL) {
		SET(CURLOPT_CAINFO, set->ca);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	SET(CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, st->errbuf);
	SET(CURLOPT_WRITEFUNCTION, sse_write);
	SET(CURLOPT_WRITEDATA, st);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, sse_progress);
	SET(CURLOPT_XFERINFODATA, st);
	SET(CURLOPT_FAILONERROR, 1L);
	SET(CURLOPT_USERAGENT, "mamorictl/" MM_VERSION);
	SET(CURLOPT_HTTPHEADER, st->hdrs);
#undef SET
	free(url);
	return e == CURLE_OK ? 0 : -1;
}

static void stream_free(struct stream *st)
{
	if (st->h != NULL)
		curl_easy_cleanup(st->h);
	curl_slist_free_all(st->hdrs);
	ctl_sse_free(&st->sse);
}

/* Sends shell input.  Returns 0 or -1 (printed). */
static int shell_input(struct lr *s, const void *p, size_t n)
{
	char *enc = b64_encode(p, n);
	json_t *body = json_pack("{s:s}", "data", enc), *resp = NULL;
	struct mm_buf path;
	int r = -1;

	if (lr_path(s, "/shell/input", &path) == 0 &&
	    ctl_call(s->c, "POST", mm_buf_str(&path), body, &resp) == 0)
		r = 0;
	mm_buf_free(&path);
	json_decref(body);
	json_decref(resp);
	OPENSSL_cleanse(enc, strlen(enc));
	free(enc);
	return r;
}

/* Asks the coordinator to end the session's shell (its answer, even an
 * error for a shell already gone, is not shown). */
static void shell_end(struct lr *s)
{
	struct mm_buf d;
	json_t *x = NULL;
	char *err = NULL;

	if (lr_path(s, "/shell", &d) == 0)
		ctl_client_request(s->c->client, "DELETE", mm_buf_str(&d), NULL, &x, &err);
	mm_buf_free(&d);
	json_decref(x);
	free(err);
}

static int do_shell(struct lr *s)
{
	struct termios saved, raw;
	struct winsize ws;
	struct stream st;
	struct mm_buf path;
	pthread_t th;
	json_t *body, *resp = NULL;
	int tty = isatty(STDIN_FILENO), in_open = 1, r = CTL_EXIT_FAIL, started = 0;

	memset(&ws, 0, sizeof(ws));
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
		ws.ws_col = 80;
		ws.ws_row = 24;
	}
	body = json_pack("{s:i, s:i}", "cols", (int)ws.ws_col, "rows", (int)ws.ws_row);
	if (lr_path(s, "/shell", &path) != 0 ||
	    ctl_call(s->c, "POST", mm_buf_str(&path), body, &resp) != 0) {
		mm_buf_free(&path);
		json_decref(body);
		return CTL_EXIT_FAIL;
	}
	mm_buf_free(&path);
	json_decref(body);
	json_decref(resp);
	if (stream_setup(s, &st) != 0 || pthread_create(&th, NULL, stream_main, &st) != 0) {
		stream_free(&st);
		return ctl_fail("shell: cannot start the output stream");
	}
	started = 1;
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw); /* the remote PTY already sends \r\n */
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	} else {
		tty = 0;
	}
	while (!__atomic_load_n(&st.done, __ATOMIC_ACQUIRE)) {
		struct pollfd p = {STDIN_FILENO, POLLIN, 0};
		char buf[4096];
		ssize_t n;

		if (!in_open || poll(&p, 1, 200) <= 0) {
			if (!in_open)
				usleep(100000);
			continue;
		}
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n > 0) {
			if (shell_input(s, buf, (size_t)n) != 0)
				break;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			/* The end of stdin: ^D at the shell's prompt. */
			in_open = 0;
			if (shell_input(s, "\004", 1) != 0)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (started) {
		/* We stopped reading first: end the shell, then the stream. */
		if (!__atomic_load_n(&st.done, __ATOMIC_ACQUIRE))
			shell_end(s);
		pthread_join(th, NULL);
		/* The stream we refused: its output can no longer be shown. */
		if (st.failed != 0 && !st.exited)
			shell_end(s);
	}
	if (st.exited) {
		r = st.exit_status >= 0 ? st.exit_status & 0xff : CTL_EXIT_FAIL;
	} else if (st.failed == MM_ERR_TOOBIG) {
		ctl_fail("shell: the output stream ended: an event over %u MiB (mamorictl's cap); "
		         "ending the shell",
		         SSE_DATA_MAX >> 20);
	} else if (st.failed != 0) {
		ctl_fail("shell: the output stream ended: %s; ending the shell",
		         mm_strerror(st.failed));
	} else if (st.rc == CURLE_OK && st.errbuf[0] == '\0') {
		ctl_fail("shell: the coordinator ended the output stream without the shell's exit"
		         " status (the session may have been closed or the coordinator stopped)");
	} else {
		ctl_fail("shell: the output stream ended: %s",
		         st.errbuf[0] != '\0' ? st.errbuf : curl_easy_strerror(st.rc));
	}
	stream_free(&st);
	return r;
}

/* ---- one command -------------------------------------------------------------------- */

/* Runs words[0..n) (line: the text they came from, for exec and sql).
 * Returns an exit code. */
static int lr_run(struct lr *s, int n, char **words, const char *line)
{
	const char *cmd = words[0];
	json_t *resp = NULL, *args;
	int i, r;

	if (strcmp(cmd, "help") == 0) {
		fputs(lr_help, stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(cmd, "shell") == 0) {
		if (n != 1) {
			fprintf(stderr, "mamorictl: usage: shell\n");
			return CTL_EXIT_USAGE;
		}
		return do_shell(s);
	}
	if (strcmp(cmd, "get") == 0) {
		if (n < 2 || n > 3) {
			fprintf(stderr, "mamorictl: usage: get REMOTE [LOCAL]\n");
			return CTL_EXIT_USAGE;
		}
		return do_get(s, words[1], n == 3 ? words[2] : NULL);
	}
	if (strcmp(cmd, "put") == 0) {
		if (n != 3) {
			fprintf(stderr, "mamorictl: usage: put LOCAL REMOTE\n");
			return CTL_EXIT_USAGE;
		}
		return do_put(s, words[1], words[2]);
	}
	args = json_array();
	if (strcmp(cmd, "exec") == 0 || strcmp(cmd, "sql") == 0) {
		if (n < 2) {
			json_decref(args);
			fprintf(stderr, "mamorictl: usage: %s %s\n", cmd,
			        cmd[0] == 'e' ? "COMMAND..." : "QUERY");
			return CTL_EXIT_USAGE;
		}
		json_array_append_new(args, json_string(line));
	} else {
		for (i = 1; i < n; i++)
			json_array_append_new(args, json_string(words[i]));
	}
	if ((r = lr_command(s, cmd, args, NULL, 0, &resp)) != 0)
		return r;
	if (strcmp(cmd, "cd") == 0) {
		free(s->cwd);
		s->cwd = xstrdup(jstr(resp, "cwd"));
		r = CTL_EXIT_OK;
	} else {
		r = show_output(cmd, resp);
	}
	json_decref(resp);
	return r;
}

/* The prompt loop.  Returns the exit code of the last command. */
static int lr_prompt(struct lr *s)
{
	int tty = isatty(STDIN_FILENO), r = CTL_EXIT_OK;
	char *line = NULL, *prompt = NULL;
	size_t cap = 0;

	if (tty) {
		using_history();
		stifle_history(1000);
		printf("Live Response session %s on %s (help for the commands; every command "
		       "is recorded)\n",
		       s->id, s->host);
	}
	for (;;) {
		char *words[LINE_MAX_WORDS], *buf = NULL;
		int n;

		free(prompt);
		prompt = xasprintf("%s:%s> ", s->host, s->cwd);
		if (tty) {
			free(line);
			if ((line = readline(prompt)) == NULL) {
				putchar('\n');
				break;
			}
			if (line[strspn(line, " \t")] != '\0')
				add_history(line);
		} else if (getline(&line, &cap, stdin) < 0) {
			break;
		}
		n = split_words(line, words, LINE_MAX_WORDS, &buf);
		if (n < 0) {
			fprintf(stderr, "mamorictl: unterminated quote or too many words\n");
			r = CTL_EXIT_USAGE;
		} else if (n > 0 &&
		           (strcmp(words[0], "exit") == 0 || strcmp(words[0], "quit") == 0)) {
			free(buf);
			break;
		} else if (n > 0) {
			line[strcspn(line, "\r\n")] = '\0';
			r = lr_run(s, n, words, rest_of_line(line));
		}
		free(buf);
		fflush(stdout);
	}
	free(prompt);
	free(line);
	return r;
}

/* ---- the verbs --------------------------------------------------------------------- */

static int lr_list(struct ctl *c)
{
	static const struct ctl_col cols[] = {
	    {"id", NULL, 0},
	    {"host", NULL, 0},
	    {"operator", NULL, 0},
	    {"role", NULL, 0},
	    {"state", NULL, 0},
	    {"login", NULL, 0},
	    {"opened_at", "opened", CTL_COL_TIME},
	    {"last_activity", NULL, CTL_COL_TIME},
	    {"commands", NULL, 0},
	    {"cwd", NULL, 0},
	    {NULL, NULL, 0},
	};
	json_t *resp = NULL, *a;
	int r;

	if ((r = ctl_call(c, "GET", "/api/v1/lr/sessions", NULL, &resp)) != 0)
		return r;
	if ((a = ctl_expect(resp, "sessions", JSON_ARRAY)) != NULL)
		ctl_print_list(a, cols, c->format, stdout);
	json_decref(resp);
	return a != NULL ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int ctl_cmd_lr(struct ctl *c, int argc, char **argv)
{
	const char *close_id = NULL;
	int list = 0, npos, i, dashdash = -1, r;
	const struct ctl_opt opts[] = {
	    {"--list", NULL, &list},
	    {"--close", &close_id},
	    {NULL},
	};
	struct lr s;

	memset(&s, 0, sizeof(s));
	/* A closed pipe (`lr HOST -- ps | head`) must not stop us before the
	 * session is closed. */
	signal(SIGPIPE, SIG_IGN);
	/* Everything after "--" is the command, even words that look like options. */
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	if (ctl_parse_opts(c, dashdash >= 0 ? dashdash : argc, argv, opts, &npos) != 0)
		return CTL_EXIT_USAGE;
	if (c->timeout_ms < LR_TIMEOUT_MS)
		c->timeout_ms = LR_TIMEOUT_MS;
	if (list || close_id != NULL) {
		if (npos != 0 || dashdash >= 0 || (list && close_id != NULL))
			return ctl_usage_error(c, "--list and --close ID take no other arguments");
		if (list)
			return lr_list(c);
		s.c = c;
		snprintf(s.id, sizeof(s.id), "%s", close_id);
		{
			struct mm_buf p;
			char done[96];

			if (lr_path(&s, NULL, &p) != 0)
				return ctl_usage_error(c, "bad session id");
			snprintf(done, sizeof(done), "closed session %.40s", close_id);
			r = ctl_change(c, "DELETE", mm_buf_str(&p), NULL, done);
			mm_buf_free(&p);
			return r;
		}
	}
	if (npos != 1)
		return ctl_usage_error(c, npos == 0 ? "which host?" : "expected one host");
	if (dashdash >= 0 && dashdash + 1 >= argc)
		return ctl_usage_error(c, "no command after --");
	if ((r = lr_open(c, argv[0], &s)) != 0)
		return r;
	if (dashdash >= 0) {
		int n = argc - dashdash - 1;
		char **words = argv + dashdash + 1;
		struct mm_buf line;

		/* exec and sql take the rest as one command line. */
		mm_buf_init(&line, 1u << 20);
		for (i = 1, r = 0; i < n && r == 0; i++)
			if ((i > 1 && (r = mm_buf_addc(&line, ' ')) != 0) ||
			    (r = mm_buf_adds(&line, words[i])) != 0)
				break;
		if (r != 0)
			r = ctl_usage_error(c, "the command is too long");
		else
			r = lr_run(&s, n, words, mm_buf_str(&line));
		mm_buf_free(&line);
	} else {
		r = lr_prompt(&s);
	}
	lr_close(&s);
	return r;
}

/* ---- replay: mamorictl audit --session ID ------------------------------------------------ */

static void print_time(int64_t t)
{
	char buf[40];

	ctl_time_str(t, buf, sizeof(buf));
	printf("[%s] ", buf);
}

static void print_args(const json_t *args)
{
	const json_t *v;
	size_t i;

	json_array_foreach(args, i, v)
	    printf(" %s", json_string_value(v) != NULL ? json_string_value(v) : "");
}

static void replay_event(const json_t *e)
{
	const char *kind = jstr(e, "kind"), *data = jstr(e, "data");
	const json_t *d = json_object_get(e, "detail");
	unsigned char *bytes = NULL;
	size_t n = 0;

	if (strcmp(kind, "shell.output") == 0) {
		if (b64_decode(data, strlen(data), &bytes, &n) == 0)
			fwrite(bytes, 1, n, stdout);
		free(bytes);
		return;
	}
	if (strcmp(kind, "shell.input") == 0)
		return; /* the terminal's echo of it is in the output */
	print_time(json_integer_value(json_object_get(e, "time")));
	if (strcmp(kind, "open") == 0) {
		printf("opened: %s@%s port %lld, %s, directory %s\n", jstr(d, "login"),
		       jstr(d, "address"),
		       (long long)json_integer_value(json_object_get(d, "port")),
		       jstr(d, "host_key"), jstr(d, "cwd"));
	} else if (strcmp(kind, "refused") == 0) {
		printf("refused: %s%s%s\n", jstr(d, "error"),
		       json_is_string(json_object_get(d, "detail")) ? ": " : "", jstr(d, "detail"));
	} else if (strcmp(kind, "command") == 0) {
		const json_t *st = json_object_get(d, "exit_status");
		char code[48];

		if (json_is_integer(st))
			snprintf(code, sizeof(code), "%lld", (long long)json_integer_value(st));
		else
			snprintf(code, sizeof(code), "by signal %s", jstr(d, "signal"));
		printf("$ %s", jstr(d, "command"));
		print_args(json_object_get(d, "args"));
		putchar('\n');
		fputs(jstr(d, "stdout"), stdout);
		fputs(jstr(d, "stderr"), stdout);
		if (json_object_get(d, "error") != NULL)
			printf("[%s]\n", jstr(d, "error"));
		else
			printf(
			    "[exit %s, %lld ms, stdout %lld bytes sha256 %s, stderr %lld bytes]\n",
			    code, (long long)json_integer_value(json_object_get(d, "duration_ms")),
			    (long long)json_integer_value(json_object_get(d, "stdout_bytes")),
			    jstr(d, "stdout_sha256"),
			    (long long)json_integer_value(json_object_get(d, "stderr_bytes")));
	} else if (strcmp(kind, "get") == 0 || strcmp(kind, "put") == 0) {
		printf("$ %s %s: ", kind, jstr(d, "path"));
		if (json_object_get(d, "error") != NULL)
			printf("failed: %s\n", jstr(d, "error"));
		else
			printf("%lld bytes, sha256 %s\n",
			       (long long)json_integer_value(json_object_get(d, "size")),
			       jstr(d, "sha256"));
	} else if (strcmp(kind, "shell.start") == 0) {
		printf("shell started (%lldx%lld)\n",
		       (long long)json_integer_value(json_object_get(d, "cols")),
		       (long long)json_integer_value(json_object_get(d, "rows")));
	} else if (strcmp(kind, "shell.end") == 0 || strcmp(kind, "shell.failed") == 0) {
		const json_t *st = json_object_get(d, "exit_status");

		printf("\nshell ended: %s, exit %s%lld, output %lld bytes sha256 %s, input %lld "
		       "bytes\n",
		       jstr(d, "reason"), json_is_integer(st) ? "" : "unknown",
		       json_is_integer(st) ? (long long)json_integer_value(st) : 0LL,
		       (long long)json_integer_value(json_object_get(d, "output_bytes")),
		       jstr(d, "output_sha256"),
		       (long long)json_integer_value(json_object_get(d, "input_bytes")));
	} else if (strcmp(kind, "close") == 0) {
		printf("closed: %s (%lld commands, %lld s)\n", jstr(d, "reason"),
		       (long long)json_integer_value(json_object_get(d, "commands")),
		       (long long)json_integer_value(json_object_get(d, "duration_s")));
	} else {
		char *t = json_dumps(d, JSON_COMPACT);

		printf("%s %s\n", kind, t != NULL ? t : "");
		free(t);
	}
}

int ctl_lr_replay(struct ctl *c, const char *id)
{
	json_t *resp = NULL, *events, *sess, *e, *all = json_array();
	struct mm_buf p;
	char after[32], t1[40], t2[40];
	int64_t last = 0;
	size_t i;
	int r = CTL_EXIT_FAIL, first = 1;

	mm_buf_init(&p, 4096);
	/* Bounded: every page moves `after` forward or ends the loop. */
	for (;;) {
		snprintf(after, sizeof(after), "%lld", (long long)last);
		mm_buf_reset(&p);
		if (mm_buf_adds(&p, "/api/v1/lr/sessions") != 0 || ctl_path_segment(&p, id) != 0 ||
		    mm_buf_adds(&p, "/audit") != 0 || ctl_path_query(&p, "after", after) != 0 ||
		    ctl_path_query(&p, "limit", "1000") != 0) {
			r = ctl_fail("session id too long");
			goto out;
		}
		json_decref(resp);
		resp = NULL;
		if ((r = ctl_call(c, "GET", mm_buf_str(&p), NULL, &resp)) != 0)
			goto out;
		if ((events = ctl_expect(resp, "events", JSON_ARRAY)) == NULL ||
		    (sess = ctl_expect(resp, "session", JSON_OBJECT)) == NULL) {
			r = CTL_EXIT_FAIL;
			goto out;
		}
		if (first && c->format == CTL_FMT_TABLE) {
			ctl_time_str(json_integer_value(json_object_get(sess, "opened_at")), t1,
			             sizeof(t1));
			if (json_is_integer(json_object_get(sess, "closed_at")))
				ctl_time_str(json_integer_value(json_object_get(sess, "closed_at")),
				             t2, sizeof(t2));
			else
				snprintf(t2, sizeof(t2), "-");
			printf("session %s on %s (%s port %lld, login %s): %s\n"
			       "operator %s (%s), key id \"%s\"\n"
			       "opened %s, closed %s: %s\n\n",
			       jstr(sess, "id"), jstr(sess, "host"), jstr(sess, "address"),
			       (long long)json_integer_value(json_object_get(sess, "port")),
			       jstr(sess, "login"), jstr(sess, "state"), jstr(sess, "operator"),
			       jstr(sess, "role"), jstr(sess, "key_id"), t1, t2,
			       jstr(sess, "close_reason"));
		}
		first = 0;
		json_array_foreach(events, i, e)
		{
			if (c->format == CTL_FMT_TABLE)
				replay_event(e);
			else
				json_array_append(all, e);
		}
		if (!json_is_integer(json_object_get(resp, "next_after")) ||
		    json_integer_value(json_object_get(resp, "next_after")) <= last)
			break;
		last = json_integer_value(json_object_get(resp, "next_after"));
	}
	if (c->format != CTL_FMT_TABLE) {
		static const struct ctl_col cols[] = {
		    {"id", NULL, 0},   {"time", NULL, CTL_COL_TIME},
		    {"kind", NULL, 0}, {"detail", NULL, 0},
		    {"data", NULL, 0}, {NULL, NULL, 0},
		};
		ctl_print_list(all, cols, c->format, stdout);
	}
	r = CTL_EXIT_OK;
out:
	json_decref(all);
	json_decref(resp);
	mm_buf_free(&p);
	return r;
}
