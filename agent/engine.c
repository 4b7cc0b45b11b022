/*
 * engine.c - opens the in-memory database, registers the tables and SQL
 * functions, and enforces containment: authorizer, time limit, heap limit.
 *
 * Authorizer decisions (action code -> verdict):
 *
 *   SELECT, READ, FUNCTION, RECURSIVE     allow (load_extension: deny)
 *   PRAGMA                                allow only names in safe_pragmas[]
 *   TRANSACTION, SAVEPOINT                allow (harmless on :memory:)
 *   CREATE/DROP TEMP TABLE/VIEW/INDEX/TRIGGER,
 *   INSERT/UPDATE/DELETE on "temp"        allow in shell mode only
 *   ATTACH, DETACH, anything else         deny, with a message naming it
 *
 * VACUUM and other statements that write files never reach an allowed
 * action: mm_engine_prepare() also refuses any statement that is not
 * sqlite3_stmt_readonly() outside shell mode.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mm_engine {
	sqlite3 *db;
	char *root;
	int64_t time_limit_ms;  /* <= 0: none */
	int64_t heap_limit;     /* <= 0: none */
	int shell;
	int declaring;          /* inside sqlite3_declare_vtab */
	int64_t deadline_ns;    /* monotonic; 0 = not armed */
	int expired;            /* the time limit fired for the current statement */
	char *denied;           /* why the authorizer refused, for the error text */
	char *hint;             /* why a table refused every plan (mm_engine_set_hint) */
	unsigned warnings;
	void (*warn)(void *, const char *, const char *);
	void *warn_arg;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *const safe_pragmas[] = {
	"table_info", "table_xinfo", "table_list", "function_list", "module_list",
	"pragma_list", "collation_list", "compile_options", "database_list", "index_list",
	"index_info", "foreign_key_list", NULL,
};

static void deny(struct mm_engine *e, const char *fmt, const char *arg)
{
	sqlite3_free(e->denied);
	e->denied = sqlite3_mprintf(fmt, arg != NULL ? arg : "");
}

static int is_temp(const char *db)
{
	return db != NULL && strcmp(db, "temp") == 0;
}

static int authorizer(void *arg, int action, const char *a1, const char *a2, const char *dbname,
		      const char *trigger)
{
	struct mm_engine *e = arg;
	int i;

	(void)trigger;
	if (e->declaring)
		return SQLITE_OK; /* our own CREATE TABLE for a virtual table */
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		if (a2 != NULL && sqlite3_stricmp(a2, "load_extension") == 0) {
			deny(e, "not allowed: load_extension() (extension loading is disabled)%s", "");
			return SQLITE_DENY;
		}
		return SQLITE_OK;
	case SQLITE_PRAGMA:
		for (i = 0; safe_pragmas[i] != NULL; i++)
			if (a1 != NULL && sqlite3_stricmp(a1, safe_pragmas[i]) == 0)
				return SQLITE_OK;
		deny(e, "not allowed: PRAGMA %s (only read-only schema PRAGMAs are allowed)", a1);
		return SQLITE_DENY;
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		return SQLITE_OK;
	case SQLITE_ATTACH:
		deny(e, "not allowed: ATTACH %s (the agent opens no database files)", a1);
		return SQLITE_DENY;
	case SQLITE_DETACH:
		deny(e, "not allowed: DETACH%s", "");
		return SQLITE_DENY;
	case SQLITE_CREATE_TEMP_TABLE:
	case SQLITE_CREATE_TEMP_VIEW:
	case SQLITE_CREATE_TEMP_INDEX:
	case SQLITE_CREATE_TEMP_TRIGGER:
	case SQLITE_DROP_TEMP_TABLE:
	case SQLITE_DROP_TEMP_VIEW:
	case SQLITE_DROP_TEMP_INDEX:
	case SQLITE_DROP_TEMP_TRIGGER:
		if (e->shell)
			return SQLITE_OK;
		deny(e, "not allowed: %s (temporary tables and views only in the shell)",
		     "CREATE/DROP TEMP");
		return SQLITE_DENY;
	case SQLITE_INSERT:
	case SQLITE_UPDATE:
	case SQLITE_DELETE:
		/* SQLite's own bookkeeping of the schema tables: the DDL that
		 * causes it was already judged by its own action code, and
		 * SQLITE_DBCONFIG_DEFENSIVE keeps users from writing them. */
		if (a1 != NULL && (strcmp(a1, "sqlite_master") == 0 ||
				   strcmp(a1, "sqlite_temp_master") == 0))
			return SQLITE_OK;
		if (e->shell && is_temp(dbname))
			return SQLITE_OK;
		deny(e, "not allowed: writing to %s (tables are read-only; only temporary tables "
			"in the shell may be written)", a1);
		return SQLITE_DENY;
	default:
		break;
	}
	deny(e, "not allowed: this statement (only SELECT is allowed%s)",
	     e->shell ? ", plus temporary tables and views" : "");
	return SQLITE_DENY;
}

static int progress(void *arg)
{
	struct mm_engine *e = arg;

	if (e->deadline_ns != 0 && now_ns() > e->deadline_ns) {
		e->expired = 1;
		return 1;
	}
	return 0;
}

int mm_engine_new(const struct mm_engine_opts *opts, struct mm_engine **out, char **err)
{
	struct mm_engine *e = NULL;
	int r = MM_ERR_INTERNAL;

	*out = NULL;
	*err = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return MM_ERR_NOMEM;
	e->root = strdup(opts->root != NULL && opts->root[0] != '\0' ? opts->root : "/");
	if (e->root == NULL) {
		r = MM_ERR_NOMEM;
		goto out;
	}
	e->time_limit_ms = opts->time_limit_ms == 0 ? MM_DEFAULT_TIME_LIMIT_MS : opts->time_limit_ms;
	e->heap_limit = opts->heap_limit == 0 ? MM_DEFAULT_HEAP_LIMIT : opts->heap_limit;
	e->shell = opts->shell;
	e->warn = opts->warn;
	e->warn_arg = opts->warn_arg;
	if (sqlite3_open_v2(":memory:", &e->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		*err = sqlite3_mprintf("cannot open SQL engine: %s", sqlite3_errmsg(e->db));
		r = MM_ERR_SQL;
		goto out;
	}
	sqlite3_db_config(e->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_db_config(e->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(e->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_limit(e->db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_exec(e->db, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
	if ((r = mm_vtab_register(e->db, e)) != 0 || (r = mm_functions_register(e->db)) != 0) {
		*err = sqlite3_mprintf("cannot register tables and functions: %s",
				       sqlite3_errmsg(e->db));
		goto out;
	}
	if (e->heap_limit > 0)
		sqlite3_hard_heap_limit64(e->heap_limit);
	sqlite3_progress_handler(e->db, 1000, progress, e);
	sqlite3_set_authorizer(e->db, authorizer, e);
	*out = e;
	e = NULL;
	r = 0;
out:
	mm_engine_free(e);
	return r;
}

void mm_engine_free(struct mm_engine *e)
{
	if (e == NULL)
		return;
	sqlite3_close_v2(e->db);
	free(e->root);
	sqlite3_free(e->denied);
	sqlite3_free(e->hint);
	free(e);
}

sqlite3 *mm_engine_db(struct mm_engine *e)
{
	return e->db;
}

void mm_engine_arm(struct mm_engine *e)
{
	e->expired = 0;
	e->deadline_ns = e->time_limit_ms > 0 ? now_ns() + e->time_limit_ms * 1000000 : 0;
}

int mm_engine_prepare(struct mm_engine *e, const char *sql, sqlite3_stmt **stmt,
		      const char **tail, char **err)
{
	int rc;

	*stmt = NULL;
	*err = NULL;
	sqlite3_free(e->denied);
	e->denied = NULL;
	sqlite3_free(e->hint);
	e->hint = NULL;
	mm_engine_arm(e);
	rc = sqlite3_prepare_v2(e->db, sql, -1, stmt, tail);
	if (rc != SQLITE_OK) {
		*err = mm_engine_errmsg(e);
		return mm_engine_errcode(e);
	}
	if (*stmt != NULL && !e->shell && !sqlite3_stmt_readonly(*stmt)) {
		sqlite3_finalize(*stmt);
		*stmt = NULL;
		*err = sqlite3_mprintf("not allowed: only read-only statements (SELECT) may run");
		return MM_ERR_DENIED;
	}
	return 0;
}

char *mm_engine_errmsg(struct mm_engine *e)
{
	int rc = sqlite3_errcode(e->db);

	if (rc == SQLITE_INTERRUPT && e->expired)
		return sqlite3_mprintf("query stopped: time limit of %lld ms reached",
				       (long long)e->time_limit_ms);
	if (rc == SQLITE_NOMEM && e->heap_limit > 0)
		return sqlite3_mprintf("query stopped: memory limit of %lld bytes reached",
				       (long long)e->heap_limit);
	if (e->denied != NULL && (rc == SQLITE_AUTH || rc == SQLITE_ERROR))
		return sqlite3_mprintf("%s", e->denied);
	if (e->hint != NULL && strcmp(sqlite3_errmsg(e->db), "no query solution") == 0)
		return sqlite3_mprintf("%s", e->hint);
	return sqlite3_mprintf("%s", sqlite3_errmsg(e->db));
}

int mm_engine_errcode(struct mm_engine *e)
{
	int rc = sqlite3_errcode(e->db);

	if ((rc == SQLITE_INTERRUPT && e->expired) || rc == SQLITE_NOMEM)
		return MM_ERR_LIMIT;
	if (rc == SQLITE_AUTH || (rc == SQLITE_ERROR && e->denied != NULL))
		return MM_ERR_DENIED;
	return MM_ERR_SQL;
}

unsigned mm_engine_warnings(const struct mm_engine *e)
{
	return e->warnings;
}

const char *mm_engine_root(const struct mm_engine *e)
{
	return e->root;
}

int mm_engine_expired(struct mm_engine *e)
{
	if (e->expired)
		return 1;
	return progress(e);
}

void mm_engine_warn(struct mm_engine *e, const char *table, const char *msg)
{
	e->warnings++;
	if (e->warn != NULL)
		e->warn(e->warn_arg, table, msg);
	else
		fprintf(stderr, "mamori: warning: %s: %s\n", table, msg);
}

void mm_engine_set_hint(struct mm_engine *e, char *msg)
{
	sqlite3_free(e->hint);
	e->hint = msg;
}

void mm_engine_declaring(struct mm_engine *e, int on)
{
	e->declaring = on;
}
