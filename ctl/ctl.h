/*
 * ctl.h - what the pieces of `mamorictl`, the operator CLI, share: the run's
 * global state (settings, output format, the HTTP client), the verb
 * descriptor listed in ctl/main.c's verbs[] (as tmux's cmd_table[]), a small
 * option parser for the verbs, and the verb entry points.
 *
 * Each verb family lives in ctl/cmd_<family>.c.  A verb gets its arguments
 * with the global options (--server, --ca, --token, --config, --format,
 * --timeout) already taken out, so they may stand anywhere on the command
 * line.  Verbs return an exit code (CTL_EXIT_*) and print their own errors
 * as "mamorictl: MESSAGE" on stderr.
 */
#ifndef MM_CTL_H
#define MM_CTL_H

#include <stdint.h>

#include <jansson.h>

#include "client.h"
#include "output.h"

/* Exit codes of every verb. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1  /* the operation failed: HTTP error, no connection, TLS, bad file */
#define CTL_EXIT_USAGE 2 /* unknown verb or option, missing or malformed argument */

#define CTL_PROG "mamorictl"

/* Settings as resolved from flags > environment > config file. */
struct ctl_settings {
	char *server;      /* https://host:port, no trailing '/'; NULL when unset */
	char *ca;          /* CA file (absolute when it came from the config file), or NULL */
	char *token;       /* API token; wiped when freed; NULL when unset */
	char *config_path; /* the config file in effect (may not exist) */
};

/* The state of one run. */
struct ctl {
	/* Global options as given (NULL when absent). */
	const char *opt_server, *opt_ca, *opt_token, *opt_config;
	enum ctl_format format;   /* --format, table by default */
	int format_set;           /* 1 when --format was given */
	int64_t timeout_ms;       /* total time per request (--timeout), default 60 s */
	int timeout_set;          /* 1 when --timeout was given (query: the query's timeout) */
	const char *verb;         /* "hosts list", for messages */
	struct ctl_settings set;  /* filled by ctl_settings_resolve() */
	struct ctl_client *client; /* opened by ctl_connect() */
};

/* One verb.  `NAME` alone (or followed by options) runs the family's entry
 * with is_default set; `NAME SUB ...` runs the entry whose sub matches. */
struct ctl_verb {
	const char *name;    /* "hosts" */
	const char *sub;     /* "list", or NULL when the verb has no sub-verbs */
	int is_default;      /* 1: run when no sub-verb is given */
	const char *usage;   /* arguments, one line */
	const char *summary; /* what it does, one line */
	int (*run)(struct ctl *c, int argc, char **argv); /* argv: the arguments after the verb */
};

/* ---- option parsing for verbs --------------------------------------------- */
/* One option a verb accepts.  "--name VALUE" and "--name=VALUE" are both
 * accepted for options with a value. */
struct ctl_opt {
	const char *name;   /* "--status", "-f" */
	const char **value; /* where the value goes (the last one wins), or NULL for a flag */
	int *flag;          /* set to 1 when a flag is present (value == NULL) */
	const char **many;  /* repeatable option: values are appended here ... */
	int *nmany;         /* ... counting in *nmany ... */
	int maxmany;        /* ... up to maxmany */
};

/* Parses argv (the arguments after the verb) against opts (terminated by an
 * entry with name NULL).  Positional arguments are moved to the front of argv
 * in order and counted in *npos.  "--" ends the options.  On a usage error
 * (unknown option, missing value, too many) prints it and returns -1; else 0. */
int ctl_parse_opts(struct ctl *c, int argc, char **argv, const struct ctl_opt *opts,
		   int *npos);
/* Prints "mamorictl: VERB: " + message on stderr and returns CTL_EXIT_USAGE. */
int ctl_usage_error(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "mamorictl: " + message on stderr and returns CTL_EXIT_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "mamorictl: ERR" for a message from a lower layer, frees it, and
 * returns CTL_EXIT_FAIL (or CTL_EXIT_USAGE when code is MM_ERR_USAGE). */
int ctl_fail_err(int code, char *err);

/* ---- settings and connection ---------------------------------------------- */
/* Resolves server, CA, token and the config path (flags > environment
 * MAMORI_SERVER/MAMORI_CA/MAMORI_TOKEN > config file) into c->set.  The
 * config file (--config, MAMORICTL_CONFIG, else $XDG_CONFIG_HOME or
 * ~/.config /mamori/mamorictl.yaml) is read only when a setting is still
 * missing; a missing file is not an error.  need_token: also require a
 * token.  Returns 0, or prints the problem and returns an exit code. */
int ctl_settings_resolve(struct ctl *c, int need_token);
/* Resolves the settings (with a token) and opens c->client.  Returns 0 or an
 * exit code (the problem printed). */
int ctl_connect(struct ctl *c);
/* Runs one request on c->client (see ctl_client_request); on failure prints
 * the error and returns CTL_EXIT_FAIL, else 0 with *resp set. */
int ctl_call(struct ctl *c, const char *method, const char *path, const json_t *body,
	     json_t **resp);
/* GETs path (which may carry a query string) page by page: each request
 * adds limit=(at most page_max) and after=the previous page's next_after;
 * the members of the array key of each answer are appended to all, at most
 * limit in total.  Stops when next_after is null or absent, or makes no
 * progress.  Returns 0 or an exit code (the problem printed). */
int ctl_get_paged(struct ctl *c, const char *path, const char *key, int64_t limit,
		  int64_t page_max, json_t *all);
/* The member key of a server answer when it has JSON type t; else prints
 * "unexpected answer" and returns NULL (borrowed reference). */
json_t *ctl_expect(const json_t *resp, const char *key, json_type t);
/* Runs a write request and prints its outcome: json/jsonl formats print the
 * answer, table/csv print the line `done` ("deleted pack x").  Returns an
 * exit code. */
int ctl_change(struct ctl *c, const char *method, const char *path, const json_t *body,
	       const char *done);
/* Appends to *files (count in *nfiles, at most max in all) the file path,
 * or, for a directory, its regular files whose names end in one of exts
 * (NULL-terminated; hidden files and sub-directories skipped), sorted by
 * name.  Returns 0 or an exit code (the problem printed). */
int ctl_collect_files(struct ctl *c, const char *path, const char *const *exts, int max,
		      char ***files, int *nfiles);
/* Reads the text file path (at most cap bytes) for an upload into *src, a
 * JSON string; *total adds its size and must stay within total_cap
 * ("the WHAT files add up to more than N MiB").  A NUL byte or text that
 * is not UTF-8 is refused.  Returns 0 or an exit code (the problem
 * printed). */
int ctl_read_upload(const char *path, size_t cap, size_t *total, size_t total_cap,
		    const char *what, json_t **src);
/* The whole of a "list" verb: no options, GET path, print the array under
 * key with cols.  Returns an exit code. */
int ctl_list_verb(struct ctl *c, int argc, char **argv, const char *path, const char *key,
		  const struct ctl_col *cols);
/* collection + "/" + name escaped ("/api/v1/packs/x"), malloc'ed; NULL when
 * too long, having printed "WHAT too long" ("pack name too long"). */
char *ctl_object_path(const char *collection, const char *name, const char *what);
/* The whole of a "delete one object" verb (`labels delete NAME`): DELETE
 * collection/NAME, printing "PAST WHAT NAME" ("deleted label x").  give
 * names what identifies one ("name", "ID") in the usage message.  Returns
 * an exit code. */
int ctl_delete_verb(struct ctl *c, int argc, char **argv, const char *collection,
		    const char *what, const char *give, const char *past);
/* Frees what c holds (the token is wiped). */
void ctl_free(struct ctl *c);

/* ---- verbs ---------------------------------------------------------------- */
int ctl_cmd_login(struct ctl *c, int argc, char **argv);
int ctl_cmd_status(struct ctl *c, int argc, char **argv);
int ctl_cmd_hosts_list(struct ctl *c, int argc, char **argv);
int ctl_cmd_hosts_show(struct ctl *c, int argc, char **argv);
int ctl_cmd_hosts_revoke(struct ctl *c, int argc, char **argv);
int ctl_cmd_packs_apply(struct ctl *c, int argc, char **argv);
int ctl_cmd_packs_list(struct ctl *c, int argc, char **argv);
int ctl_cmd_packs_show(struct ctl *c, int argc, char **argv);
int ctl_cmd_packs_delete(struct ctl *c, int argc, char **argv);
int ctl_cmd_results(struct ctl *c, int argc, char **argv);
int ctl_cmd_tokens_list(struct ctl *c, int argc, char **argv);
int ctl_cmd_tokens_create(struct ctl *c, int argc, char **argv);
int ctl_cmd_tokens_revoke(struct ctl *c, int argc, char **argv);
int ctl_cmd_audit(struct ctl *c, int argc, char **argv);
int ctl_cmd_policies_apply(struct ctl *c, int argc, char **argv);
int ctl_cmd_policies_list(struct ctl *c, int argc, char **argv);
int ctl_cmd_policies_show(struct ctl *c, int argc, char **argv);
int ctl_cmd_policies_delete(struct ctl *c, int argc, char **argv);
int ctl_cmd_compliance(struct ctl *c, int argc, char **argv);
int ctl_cmd_compliance_history(struct ctl *c, int argc, char **argv);
int ctl_cmd_query(struct ctl *c, int argc, char **argv);
int ctl_cmd_labels_apply(struct ctl *c, int argc, char **argv);
int ctl_cmd_labels_list(struct ctl *c, int argc, char **argv);
int ctl_cmd_labels_show(struct ctl *c, int argc, char **argv);
int ctl_cmd_labels_delete(struct ctl *c, int argc, char **argv);
int ctl_cmd_lr(struct ctl *c, int argc, char **argv);
/* Prints a Live Response session's transcript (`mamorictl audit --session ID`). */
int ctl_lr_replay(struct ctl *c, const char *id);

#endif
