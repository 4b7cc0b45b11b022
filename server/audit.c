/*
 * audit.c - the audit log: who did what to which object, from where, with
 * which outcome.
 *
 * A change and its audit record commit together: handlers call
 * mm_audit_insert() inside the store job that makes the change.  Refusals
 * and other events with no change of their own go through mm_audit_log(),
 * which queues a job of its own.
 *
 * Secrets never reach the table: callers do not pass them, and as a second
 * line of defence any member of the detail object whose key names a secret
 * (token, secret, node_key, password, key material) is replaced by
 * "[redacted]" before it is stored.  Targets are cut at AUDIT_TARGET_MAX
 * bytes and a detail larger than AUDIT_DETAIL_MAX is replaced by
 * {"truncated": true}, so one record stays small.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "server.h"
#include "strutil.h"

#define AUDIT_TARGET_MAX 256
#define AUDIT_DETAIL_MAX 8192

/* Member names whose values are never stored. */
static int secret_key(const char *k)
{
	static const char *const words[] = { "token", "secret", "node_key", "password",
					     "private", "passphrase", NULL };
	size_t i;

	for (i = 0; words[i] != NULL; i++)
		if (strstr(k, words[i]) != NULL)
			return 1;
	return 0;
}

/* 1 when j holds a member named like a secret (at any depth) with a string value. */
static int has_secret(const json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > 16)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v) {
			if (secret_key(k) && json_is_string(v))
				return 1;
			if (has_secret(v, depth + 1))
				return 1;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (has_secret(v, depth + 1))
				return 1;
	}
	return 0;
}

static void redact(json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > 16)
		return;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (secret_key(k) && json_is_string(v))
				json_object_set_new(j, k, json_string("[redacted]"));
			else
				redact(v, depth + 1);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			redact(v, depth + 1);
	}
}

/* The detail as stored: compact JSON text (malloc'ed), "{}" for NULL. */
static char *detail_text(const json_t *detail)
{
	json_t *copy = NULL;
	char *s;

	if (detail == NULL)
		return strdup("{}");
	if (has_secret(detail, 0)) {
		if ((copy = json_deep_copy(detail)) == NULL)
			return NULL;
		redact(copy, 0);
		detail = copy;
	}
	s = json_dumps(detail, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(copy);
	if (s != NULL && strlen(s) > AUDIT_DETAIL_MAX) {
		free(s);
		s = strdup("{\"truncated\":true}");
	}
	return s;
}

/* Inserts one row.  All strings may be NULL (stored as ""). */
static int insert_row(sqlite3 *db, int64_t when, const char *actor, const char *role,
		      const char *action, const char *target, const char *detail,
		      const char *address, int status)
{
	static const char sql[] = "INSERT INTO audit(time, actor, role, action, target, detail,"
				  " address, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	sqlite3_stmt *st = NULL;
	size_t tlen = target != NULL ? strlen(target) : 0;
	int r = MM_ERR_SQL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (tlen > AUDIT_TARGET_MAX) {
		/* Cut on a UTF-8 boundary. */
		tlen = AUDIT_TARGET_MAX;
		while (tlen > 0 && ((unsigned char)target[tlen] & 0xc0) == 0x80)
			tlen--;
	}
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_text(st, 2, actor != NULL ? actor : "system", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role != NULL ? role : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action != NULL ? action : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, target != NULL ? target : "", (int)tlen, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, detail != NULL ? detail : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, address != NULL ? address : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, status);
	if (sqlite3_step(st) == SQLITE_DONE)
		r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int mm_audit_insert(sqlite3 *db, const struct mm_actor *actor, const char *action,
		    const char *target, const json_t *detail, int status)
{
	char *d = detail_text(detail);
	int r;

	if (d == NULL)
		return MM_ERR_NOMEM;
	r = insert_row(db, mm_now(), actor != NULL ? actor->name : "system",
		       actor != NULL ? mm_role_name(actor->role) : "", action, target, d,
		       actor != NULL ? actor->address : "", status);
	free(d);
	return r;
}

/* A record queued on its own (mm_audit_log). */
struct audit_job {
	int64_t when;
	char *actor, *role, *action, *target, *detail, *address;
	int status;
};

static void audit_job_free(struct audit_job *a)
{
	if (a == NULL)
		return;
	free(a->actor);
	free(a->role);
	free(a->action);
	free(a->target);
	free(a->detail);
	free(a->address);
	free(a);
}

static int audit_job_run(sqlite3 *db, void *arg, char **err)
{
	struct audit_job *a = arg;

	if (insert_row(db, a->when, a->actor, a->role, a->action, a->target, a->detail,
		       a->address, a->status) != 0) {
		*err = sqlite3_mprintf("audit: %s", sqlite3_errmsg(db));
		return MM_ERR_SQL;
	}
	return 0;
}

static void audit_job_done(void *arg, int rc, const char *err)
{
	struct audit_job *a = arg;

	if (rc != 0)
		fprintf(stderr, "mamori-server: audit record %s %s lost: %s\n", a->action,
			a->target, err != NULL ? err : mm_strerror(rc));
	audit_job_free(a);
}

void mm_audit_log(struct mm_server *srv, const struct mm_actor *actor, const char *address,
		  const char *action, const char *target, json_t *detail, int status)
{
	struct audit_job *a = calloc(1, sizeof(*a));
	const char *who, *role;

	if (actor != NULL)
		who = actor->name;
	else
		who = address != NULL && *address != '\0' ? "anonymous" : "system";
	if (address == NULL && actor != NULL)
		address = actor->address;
	if (a == NULL)
		goto fail;
	a->when = mm_now();
	a->status = status;
	a->actor = mm_strdup0(who != NULL ? who : "system");
	role = actor != NULL ? mm_role_name(actor->role) : NULL;
	a->role = mm_strdup0(role != NULL ? role : "");
	a->action = mm_strdup0(action != NULL ? action : "");
	a->target = mm_strdup0(target != NULL ? target : "");
	a->address = mm_strdup0(address != NULL ? address : "");
	a->detail = detail_text(detail);
	if (a->actor == NULL || a->role == NULL || a->action == NULL || a->target == NULL ||
	    a->address == NULL || a->detail == NULL)
		goto fail;
	if (mm_store_submit(srv->store, audit_job_run, audit_job_done, a) != 0)
		goto fail;
	json_decref(detail);
	return;
fail:
	fprintf(stderr, "mamori-server: audit record %s %s dropped (queue full or no memory)\n",
		action != NULL ? action : "", target != NULL ? target : "");
	audit_job_free(a);
	json_decref(detail);
}
