/*
 * policy.c - the Lua policy runtime and evaluation of SQL policies; see
 * policy.h and docs/policies.md.
 *
 * Every load and every evaluation gets its own lua_State (lua_newstate with
 * our allocator), so nothing a policy does survives it.  The sandbox:
 *
 *   memory        sb_alloc refuses growth past the cap; Lua turns that into
 *                 a memory error after an emergency collection.
 *   instructions  a count hook every HOOK_STEP instructions adds to a
 *                 counter and raises once the budget (or the wall clock
 *                 deadline) is spent.  Once killed, the hook raises again
 *                 every HOOK_STEP instructions and pcall/xpcall re-raise, so
 *                 a policy cannot catch its way past a limit.
 *   library       base (without dofile, loadfile, print to stdout, warn;
 *                 load only for text; collectgarbage only "count";
 *                 setmetatable without __gc, as finalizers run with hooks
 *                 off and would escape the budget), string
 *                 (without dump), table, math, utf8.  Reading a removed
 *                 global (io, os, require, ...) raises a clear error.
 *
 * Lua raises errors with longjmp, so all Lua work that can raise runs in a
 * protected C function (sb_main), and whatever C memory it allocates is
 * stored in the sandbox struct at once, where the caller frees it either way.
 * SQLite statements live in a userdata whose __gc finalizes them.
 */
#include "policy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "buf.h"
#include "error.h"
#include "fileio.h"
#include "strutil.h"

#define HOOK_STEP 1000     /* instructions between hook calls */
#define JSON_MAX_DEPTH 16  /* nesting of fail()'s rows converted to JSON */
#define JSON_MAX_NODES 200000
#define ERR_CAP 65536      /* longest error message we build */
#define STMT_META "mamori.stmt"

enum kill { KILL_NONE, KILL_BUDGET, KILL_TIME, KILL_MEM };

/* What sb_main was doing when it raised (decides how errors read). */
enum stage { ST_SETUP, ST_SYNTAX, ST_RUN, ST_META, ST_CHECK, ST_VERDICT };

/* One sandbox: the allocator's state and everything sb_main hands back. */
struct sb {
	size_t used, cap;        /* bytes held by Lua / the most it may hold */
	uint64_t executed, budget; /* instructions run / allowed */
	int64_t deadline_ns;     /* CLOCK_MONOTONIC; 0 = none */
	int64_t time_limit_ms;
	enum kill killed;
	enum stage stage;
	int eval;                /* 0: loading (metadata), 1: evaluating */
	int in_check;            /* query() may run */
	int nomem;               /* a C allocation failed */
	struct mm_engine *engine;
	const char *src;         /* the chunk */
	size_t srclen;
	const char *chunkname;   /* "@<base name>" */
	const char *expect_id;   /* base name without .lua */
	char bad_field[64];      /* field a metadata error is about ("" = none) */
	struct mm_policy *meta;  /* loading: filled in by sb_main */
};

static const char *const sev_names[] = { "critical", "high", "medium", "low", "info" };
static const char *const verdict_names[] = { "pass", "fail", "not_applicable", "error" };
static const char *const platforms[] = { "debian", "ubuntu", "linux" };
/* Globals that a policy might reach for and must hear are not there. */
static const char *const forbidden[] = { "io",	     "os",	 "package", "require", "debug",
					 "dofile",   "loadfile", "coroutine", NULL };

/* ---- small helpers ------------------------------------------------------ */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* malloc'ed printf; NULL on out-of-memory. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	struct mm_buf b;
	va_list ap;

	mm_buf_init(&b, ERR_CAP);
	va_start(ap, f);
	if (mm_buf_vaddf(&b, f, ap) != 0 && b.len == 0) {
		va_end(ap);
		mm_buf_free(&b);
		return NULL;
	}
	va_end(ap);
	return mm_buf_take(&b);
}

static struct sb *SB(lua_State *L)
{
	return *(struct sb **)lua_getextraspace(L);
}

const char *mm_severity_name(enum mm_severity s)
{
	return (unsigned)s < 5 ? sev_names[s] : "?";
}

int mm_severity_parse(const char *name, enum mm_severity *s)
{
	int i;

	for (i = 0; i < 5; i++)
		if (strcmp(name, sev_names[i]) == 0) {
			*s = (enum mm_severity)i;
			return 0;
		}
	return MM_ERR_PARSE;
}

const char *mm_verdict_name(enum mm_verdict_code v)
{
	return (unsigned)v < 4 ? verdict_names[v] : "?";
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void mm_policy_free(struct mm_policy *p)
{
	if (p == NULL)
		return;
	free(p->path);
	free(p->id);
	free(p->title);
	free(p->description);
	free(p->rationale);
	free(p->remediation);
	free(p->remediation_script);
	free(p->platform);
	free_strv(p->references, p->nreferences);
	free_strv(p->tags, p->ntags);
	free(p->source);
	free(p->sql);
	free(p);
}

int mm_policy_list_add(struct mm_policy_list *list, struct mm_policy *p)
{
	if (list->n == list->alloc) {
		size_t want = list->alloc ? list->alloc * 2 : 16;
		struct mm_policy **nv = realloc(list->v, want * sizeof(*nv));
		if (nv == NULL)
			return MM_ERR_NOMEM;
		list->v = nv;
		list->alloc = want;
	}
	list->v[list->n++] = p;
	return 0;
}

void mm_policy_list_free(struct mm_policy_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		mm_policy_free(list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = list->alloc = 0;
}

void mm_verdict_free(struct mm_verdict *v)
{
	if (v == NULL)
		return;
	free(v->id);
	free(v->title);
	free(v->path);
	free(v->reason);
	free(v->rows_json);
	free_strv(v->references, v->nreferences);
	free(v->remediation);
	free(v);
}

/* ---- the sandbox's C side ----------------------------------------------- */

/* The Lua allocator: realloc with a cap on the total held.  Shrinking and
 * freeing always succeed; growth past the cap returns NULL, which Lua turns
 * into a memory error after trying an emergency collection. */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sb *s = ud;
	void *p;

	if (ptr == NULL)
		osize = 0; /* osize then encodes the object type */
	if (nsize == 0) {
		free(ptr);
		s->used -= osize;
		return NULL;
	}
	if (nsize > osize && s->used + (nsize - osize) > s->cap)
		return NULL;
	if ((p = realloc(ptr, nsize)) == NULL)
		return NULL;
	s->used = s->used - osize + nsize;
	return p;
}

static char *kill_message(const struct sb *s)
{
	switch (s->killed) {
	case KILL_BUDGET:
		return fmt("instruction budget exhausted (%llu instructions)",
			   (unsigned long long)s->budget);
	case KILL_TIME:
		return fmt("time limit of %lld ms reached", (long long)s->time_limit_ms);
	case KILL_MEM:
		if (s->cap % ((size_t)1 << 20) == 0)
			return fmt("memory limit of %zu MiB exceeded", s->cap >> 20);
		return fmt("memory limit of %zu bytes exceeded", s->cap);
	default:
		return fmt("stopped");
	}
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
	struct sb *s = SB(L);

	(void)ar;
	s->executed += HOOK_STEP;
	if (s->killed == KILL_NONE) {
		if (s->executed > s->budget)
			s->killed = KILL_BUDGET;
		else if (s->deadline_ns != 0 && now_ns() > s->deadline_ns)
			s->killed = KILL_TIME;
	}
	if (s->killed != KILL_NONE)
		luaL_error(L, s->killed == KILL_BUDGET ? "instruction budget exhausted"
			      : s->killed == KILL_TIME ? "time limit reached"
						       : "memory limit exceeded");
}

/* After a protected call inside the sandbox: a limit that was hit, or a
 * memory error (which only our cap produces), is not the policy's to
 * catch, so the error goes on up.  Returns only when the call may be
 * reported to the policy. */
static void sb_rethrow_limits(lua_State *L, int status)
{
	struct sb *s = SB(L);

	if (status == LUA_ERRMEM && s->killed == KILL_NONE)
		s->killed = KILL_MEM;
	if (s->killed != KILL_NONE)
		lua_error(L);
}

/* pcall(f, ...) that lets limits through. */
static int sb_pcall(lua_State *L)
{
	int status;

	luaL_checkany(L, 1);
	status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	if (status != LUA_OK) {
		sb_rethrow_limits(L, status);
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	return lua_gettop(L);
}

/* xpcall(f, msgh, ...) that lets limits through. */
static int sb_xpcall(lua_State *L)
{
	int n = lua_gettop(L), status;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 1); /* f, msgh, args..., f */
	lua_copy(L, 2, 1);   /* msgh, msgh, args..., f */
	lua_replace(L, 2);   /* msgh, f, args... */
	status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
	if (status != LUA_OK) {
		sb_rethrow_limits(L, status);
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushboolean(L, 1);
	lua_replace(L, 1); /* true replaces msgh */
	return lua_gettop(L);
}

/* load() for text chunks only. */
static int sb_load(lua_State *L)
{
	int hasenv = lua_gettop(L) >= 4;
	const char *mode = luaL_optstring(L, 3, "t");

	if (strcmp(mode, "t") != 0)
		return luaL_error(L, "load: only text chunks (mode \"t\") may be loaded in a policy");
	lua_settop(L, 4);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushliteral(L, "t");
	if (hasenv)
		lua_pushvalue(L, 4);
	lua_call(L, hasenv ? 4 : 3, LUA_MULTRET);
	return lua_gettop(L) - 4;
}

/* setmetatable() that refuses finalizers: Lua runs __gc with hooks off, so
 * a finalizer would escape the instruction budget.  Lua only honours a
 * __gc present (raw) when the metatable is set, so checking here is enough. */
static int sb_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "setmetatable: __gc finalizers are not allowed in a "
					     "policy");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int sb_collectgarbage(lua_State *L)
{
	const char *opt = luaL_optstring(L, 1, "collect");

	if (strcmp(opt, "count") != 0)
		return luaL_error(L, "collectgarbage: only \"count\" is allowed in a policy");
	lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) +
				  (lua_Number)lua_gc(L, LUA_GCCOUNTB, 0) / 1024);
	return 1;
}

/* print() goes to stderr so it cannot corrupt the report. */
static int sb_print(lua_State *L)
{
	int i, n = lua_gettop(L);

	fputs("policy: ", stderr);
	for (i = 1; i <= n; i++) {
		size_t len;
		const char *s = luaL_tolstring(L, i, &len);
		if (i > 1)
			fputc('\t', stderr);
		fwrite(s, 1, len, stderr);
		lua_pop(L, 1);
	}
	fputc('\n', stderr);
	return 0;
}

/* _G's __index: a clear error for the libraries that were left out. */
static int sb_missing_global(lua_State *L)
{
	const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
	int i;

	for (i = 0; k != NULL && forbidden[i] != NULL; i++)
		if (strcmp(k, forbidden[i]) == 0)
			return luaL_error(L, "'%s' is not available in the policy sandbox", k);
	return 0;
}

/* ---- query() -------------------------------------------------------------- */

struct stmt_guard {
	sqlite3_stmt *st;
	char *err; /* sqlite3_malloc'ed message waiting to be raised */
};

static int stmt_gc(lua_State *L)
{
	struct stmt_guard *g = luaL_checkudata(L, 1, STMT_META);

	sqlite3_finalize(g->st);
	g->st = NULL;
	sqlite3_free(g->err);
	g->err = NULL;
	return 0;
}

static int stmt_raise(lua_State *L, struct stmt_guard *g)
{
	lua_pushfstring(L, "query: %s", g->err != NULL ? g->err : "failed");
	sqlite3_free(g->err);
	g->err = NULL;
	luaL_where(L, 1);
	lua_insert(L, -2);
	lua_concat(L, 2);
	return lua_error(L);
}

/* query(sql, ...): one read-only statement with `?` placeholders bound from
 * the extra arguments.  Returns an array of rows keyed by column name. */
static int sb_query(lua_State *L)
{
	struct sb *s = SB(L);
	const char *sql = luaL_checkstring(L, 1), *tail = NULL;
	int nargs = lua_gettop(L) - 1, i, ncols, rc, r;
	struct stmt_guard *g;
	lua_Integer nrows = 0;

	if (!s->in_check || s->engine == NULL)
		return luaL_error(L, "query: only available while check() runs");
	g = lua_newuserdatauv(L, sizeof(*g), 0);
	g->st = NULL;
	g->err = NULL;
	luaL_setmetatable(L, STMT_META);
	if ((r = mm_engine_prepare(s->engine, sql, &g->st, &tail, &g->err)) != 0)
		return stmt_raise(L, g);
	if (g->st == NULL)
		return luaL_error(L, "query: empty SQL");
	while (tail != NULL && (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r' ||
				*tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0')
		return luaL_error(L, "query: one statement per call");
	if (sqlite3_bind_parameter_count(g->st) != nargs)
		return luaL_error(L, "query: the SQL has %d placeholder(s) but %d value(s) were given",
				  sqlite3_bind_parameter_count(g->st), nargs);
	for (i = 1; i <= nargs; i++) {
		int idx = i + 1;
		switch (lua_type(L, idx)) {
		case LUA_TNIL:
			rc = sqlite3_bind_null(g->st, i);
			break;
		case LUA_TBOOLEAN:
			rc = sqlite3_bind_int(g->st, i, lua_toboolean(L, idx));
			break;
		case LUA_TNUMBER:
			if (lua_isinteger(L, idx))
				rc = sqlite3_bind_int64(g->st, i, lua_tointeger(L, idx));
			else
				rc = sqlite3_bind_double(g->st, i, lua_tonumber(L, idx));
			break;
		case LUA_TSTRING: {
			size_t len;
			const char *v = lua_tolstring(L, idx, &len);
			rc = sqlite3_bind_text64(g->st, i, v, len, SQLITE_TRANSIENT, SQLITE_UTF8);
			break;
		}
		default:
			return luaL_error(L, "query: value %d is a %s; only strings, numbers, "
					     "booleans and nil can be bound",
					  i, luaL_typename(L, idx));
		}
		if (rc != SQLITE_OK)
			return luaL_error(L, "query: cannot bind value %d: %s", i,
					  sqlite3_errstr(rc));
	}
	ncols = sqlite3_column_count(g->st);
	lua_newtable(L);
	while ((rc = sqlite3_step(g->st)) == SQLITE_ROW) {
		lua_createtable(L, 0, ncols);
		for (i = 0; i < ncols; i++) {
			switch (sqlite3_column_type(g->st, i)) {
			case SQLITE_NULL:
				continue;
			case SQLITE_INTEGER:
				lua_pushinteger(L, sqlite3_column_int64(g->st, i));
				break;
			case SQLITE_FLOAT:
				lua_pushnumber(L, sqlite3_column_double(g->st, i));
				break;
			default: {
				const void *b = sqlite3_column_blob(g->st, i);
				int n = sqlite3_column_bytes(g->st, i);
				lua_pushlstring(L, b != NULL ? b : "", (size_t)n);
			}
			}
			lua_setfield(L, -2, sqlite3_column_name(g->st, i));
		}
		lua_rawseti(L, -2, ++nrows);
	}
	if (rc != SQLITE_DONE) {
		g->err = mm_engine_errmsg(s->engine);
		return stmt_raise(L, g);
	}
	sqlite3_finalize(g->st);
	g->st = NULL;
	return 1;
}

/* ---- verdict constructors ------------------------------------------------- */

static int make_verdict(lua_State *L, const char *verdict, int with_rows)
{
	if (!lua_isnoneornil(L, 1))
		luaL_checkstring(L, 1);
	if (with_rows && !lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, verdict);
	lua_setfield(L, -2, "verdict");
	if (!lua_isnoneornil(L, 1)) {
		lua_pushvalue(L, 1);
		lua_setfield(L, -2, "reason");
	}
	if (with_rows && !lua_isnoneornil(L, 2)) {
		lua_pushvalue(L, 2);
		lua_setfield(L, -2, "rows");
	}
	return 1;
}

static int sb_pass(lua_State *L)
{
	return make_verdict(L, "pass", 0);
}

static int sb_fail(lua_State *L)
{
	return make_verdict(L, "fail", 1);
}

static int sb_not_applicable(lua_State *L)
{
	return make_verdict(L, "not_applicable", 0);
}

/* ---- building the sandbox ------------------------------------------------- */

static void set_global_nil(lua_State *L, const char *name)
{
	lua_pushnil(L);
	lua_setglobal(L, name);
}

/* Opens the safe libraries and installs the policy globals. */
static void sb_setup(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{ LUA_GNAME, luaopen_base },	     { LUA_STRLIBNAME, luaopen_string },
		{ LUA_TABLIBNAME, luaopen_table },   { LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 },   { NULL, NULL },
	};
	static const luaL_Reg globals[] = {
		{ "pcall", sb_pcall },
		{ "xpcall", sb_xpcall },
		{ "collectgarbage", sb_collectgarbage },
		{ "print", sb_print },
		{ "query", sb_query },
		{ "pass", sb_pass },
		{ "fail", sb_fail },
		{ "not_applicable", sb_not_applicable },
		{ NULL, NULL },
	};
	const luaL_Reg *l;

	for (l = libs; l->name != NULL; l++) {
		luaL_requiref(L, l->name, l->func, 1);
		lua_pop(L, 1);
	}
	set_global_nil(L, "dofile");
	set_global_nil(L, "loadfile");
	set_global_nil(L, "warn");
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	lua_getglobal(L, "load");
	lua_pushcclosure(L, sb_load, 1);
	lua_setglobal(L, "load");
	lua_getglobal(L, "setmetatable");
	lua_pushcclosure(L, sb_setmetatable, 1);
	lua_setglobal(L, "setmetatable");
	lua_pushglobaltable(L);
	luaL_setfuncs(L, globals, 0);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, sb_missing_global);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	lua_pop(L, 1);
	luaL_newmetatable(L, STMT_META);
	lua_pushcfunction(L, stmt_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
}

/* ---- metadata ---------------------------------------------------------- */

enum ftype { F_STRING, F_LIST, F_INTEGER, F_FUNCTION };

static const struct field {
	const char *name;
	enum ftype type;
	int required;
	size_t off; /* of the char * / char ** in struct mm_policy; 0 = special */
} fields[] = {
	{ "id", F_STRING, 1, 0 },
	{ "title", F_STRING, 1, offsetof(struct mm_policy, title) },
	{ "description", F_STRING, 0, offsetof(struct mm_policy, description) },
	{ "severity", F_STRING, 1, 0 },
	{ "rationale", F_STRING, 0, offsetof(struct mm_policy, rationale) },
	{ "remediation", F_STRING, 0, offsetof(struct mm_policy, remediation) },
	{ "remediation_script", F_STRING, 0, offsetof(struct mm_policy, remediation_script) },
	{ "references", F_LIST, 0, 0 },
	{ "tags", F_LIST, 0, 0 },
	{ "platform", F_STRING, 0, 0 },
	{ "interval", F_INTEGER, 0, 0 },
	{ "check", F_FUNCTION, 1, 0 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const ftype_names[] = { "a string", "a list of strings", "an integer",
					   "a function" };

/* Raises a metadata error about field; the caller adds file and line. */
static int meta_error(lua_State *L, const char *field, const char *f, ...)
{
	struct sb *s = SB(L);
	va_list ap;

	snprintf(s->bad_field, sizeof(s->bad_field), "%s", field);
	va_start(ap, f);
	lua_pushvfstring(L, f, ap);
	va_end(ap);
	return lua_error(L);
}

static char *sb_strdup(lua_State *L, const char *v)
{
	char *c = strdup(v);

	if (c == NULL) {
		SB(L)->nomem = 1;
		luaL_error(L, "out of memory");
	}
	return c;
}

/* Copies the list at the top of the stack into *vp and *np (stored as they
 * grow, so a raise leaks nothing). */
static void copy_list(lua_State *L, const char *name, char ***vp, size_t *np)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1), i, count = 0;

	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		count++;
		lua_pop(L, 1);
	}
	if (count != n)
		meta_error(L, name, "field '%s' must be a list of strings (a table with keys 1..n)",
			   name);
	if (n == 0)
		return;
	if ((*vp = calloc((size_t)n, sizeof(char *))) == NULL) {
		SB(L)->nomem = 1;
		luaL_error(L, "out of memory");
	}
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
			meta_error(L, name, "field '%s' must be a list of strings (item %d is %s)",
				   name, (int)i, luaL_typename(L, -1));
		(*vp)[i - 1] = sb_strdup(L, lua_tostring(L, -1));
		*np = (size_t)i;
		lua_pop(L, 1);
	}
}

/* Validates the policy table at stack index t and, when loading, copies its
 * metadata into s->meta. */
static void check_meta(lua_State *L, int t)
{
	struct sb *s = SB(L);
	struct mm_policy *m = s->meta;
	size_t i;

	/* Unknown fields are typos until proven otherwise. */
	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			meta_error(L, "", "the policy table has a %s key; fields are named",
				   luaL_typename(L, -1));
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(lua_tostring(L, -1), fields[i].name) == 0)
				break;
		if (i == NFIELDS)
			meta_error(L, lua_tostring(L, -1), "unknown field '%s'", lua_tostring(L, -1));
	}
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		int ty;

		lua_pushstring(L, f->name);
		ty = lua_rawget(L, t);
		if (ty == LUA_TNIL) {
			if (f->required)
				meta_error(L, f->name, "field '%s' is missing", f->name);
			lua_pop(L, 1);
			continue;
		}
		if ((f->type == F_STRING && ty != LUA_TSTRING) ||
		    (f->type == F_LIST && ty != LUA_TTABLE) ||
		    (f->type == F_INTEGER && !lua_isinteger(L, -1)) ||
		    (f->type == F_FUNCTION && ty != LUA_TFUNCTION))
			meta_error(L, f->name, "field '%s' must be %s (got %s)", f->name,
				   ftype_names[f->type], luaL_typename(L, -1));
		if (f->type == F_STRING && f->required && lua_rawlen(L, -1) == 0)
			meta_error(L, f->name, "field '%s' is empty", f->name);
		if (strcmp(f->name, "id") == 0 && strcmp(lua_tostring(L, -1), s->expect_id) != 0)
			meta_error(L, f->name,
				   "field 'id' is '%s' but the file is named %s.lua (they must match)",
				   lua_tostring(L, -1), s->expect_id);
		if (strcmp(f->name, "severity") == 0 &&
		    mm_severity_parse(lua_tostring(L, -1), &m->severity) != 0)
			meta_error(L, f->name,
				   "field 'severity' is '%s'; it must be one of critical, high, "
				   "medium, low, info",
				   lua_tostring(L, -1));
		if (strcmp(f->name, "platform") == 0) {
			size_t k;
			for (k = 0; k < 3; k++)
				if (strcmp(lua_tostring(L, -1), platforms[k]) == 0)
					break;
			if (k == 3)
				meta_error(L, f->name,
					   "field 'platform' is '%s'; it must be one of debian, "
					   "ubuntu, linux",
					   lua_tostring(L, -1));
			m->platform = sb_strdup(L, lua_tostring(L, -1));
		}
		if (strcmp(f->name, "interval") == 0) {
			if (lua_tointeger(L, -1) <= 0)
				meta_error(L, f->name, "field 'interval' must be a positive number "
						       "of seconds");
			m->interval = lua_tointeger(L, -1);
		}
		if (f->type == F_STRING && f->off != 0)
			*(char **)((char *)m + f->off) = sb_strdup(L, lua_tostring(L, -1));
		if (strcmp(f->name, "id") == 0)
			m->id = sb_strdup(L, lua_tostring(L, -1));
		if (strcmp(f->name, "references") == 0)
			copy_list(L, f->name, &m->references, &m->nreferences);
		if (strcmp(f->name, "tags") == 0)
			copy_list(L, f->name, &m->tags, &m->ntags);
		lua_pop(L, 1);
	}
}

/* ---- the protected main ----------------------------------------------- */

/* Runs inside lua_pcall: builds the sandbox, loads and runs the chunk,
 * validates the policy table; when evaluating, calls check() and checks
 * that it returned a verdict, which is left on the stack. */
static int sb_main(lua_State *L)
{
	struct sb *s = SB(L);
	int t;

	s->stage = ST_SETUP;
	sb_setup(L);
	/* The shared helpers run before the hook is set: they only define
	 * functions, and their calls count against the policy's budget. */
	if (luaL_loadbufferx(L, mm_policy_lib, strlen(mm_policy_lib), "=mamori-policy-lib",
			     "t") != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, 0);
	s->stage = ST_SYNTAX;
	if (luaL_loadbufferx(L, s->src, s->srclen, s->chunkname, "t") != LUA_OK)
		return lua_error(L);
	s->stage = ST_RUN;
	lua_sethook(L, sb_hook, LUA_MASKCOUNT, HOOK_STEP);
	lua_call(L, 0, 1);
	s->stage = ST_META;
	if (!lua_istable(L, -1))
		return meta_error(L, "", "the file must return the policy table (it returned %s)",
				  luaL_typename(L, -1));
	t = lua_gettop(L);
	if (!s->eval) {
		check_meta(L, t);
		return 0;
	}
	s->stage = ST_CHECK;
	lua_pushliteral(L, "check");
	if (lua_rawget(L, t) != LUA_TFUNCTION)
		return luaL_error(L, "the policy has no check function");
	s->in_check = 1;
	lua_call(L, 0, 1);
	s->in_check = 0;
	s->stage = ST_VERDICT;
	if (lua_type(L, -1) == LUA_TTABLE) {
		const char *v;
		lua_pushliteral(L, "verdict");
		lua_rawget(L, -2);
		v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
		if (strcmp(v, "pass") == 0 || strcmp(v, "fail") == 0 ||
		    strcmp(v, "not_applicable") == 0) {
			lua_pop(L, 1);
			lua_pushliteral(L, "reason");
			t = lua_rawget(L, -2);
			if (t != LUA_TNIL && t != LUA_TSTRING)
				return luaL_error(L, "check() returned a verdict whose reason is "
						     "%s, not a string",
						  luaL_typename(L, -1));
			lua_pop(L, 1);
			lua_pushliteral(L, "rows");
			t = lua_rawget(L, -2);
			if (t != LUA_TNIL && t != LUA_TTABLE)
				return luaL_error(L, "check() returned a verdict whose rows are "
						     "%s, not a table",
						  luaL_typename(L, -1));
			lua_pop(L, 1);
			return 1;
		}
		lua_pop(L, 1);
	}
	return luaL_error(L, "check() returned %s, not a verdict (return pass(...), fail(...) "
			     "or not_applicable(...))",
			  lua_type(L, -1) == LUA_TTABLE ? "a table without a valid verdict field"
							: luaL_typename(L, -1));
}

/* Describes the error object at the top of the stack without running Lua
 * code or raising.  Returns malloc'ed text. */
static char *error_text(lua_State *L, const struct sb *s, int status)
{
	if (s->killed != KILL_NONE || status == LUA_ERRMEM) {
		struct sb tmp = *s;
		if (tmp.killed == KILL_NONE)
			tmp.killed = KILL_MEM;
		return kill_message(&tmp);
	}
	if (lua_type(L, -1) == LUA_TSTRING)
		return fmt("%s", lua_tostring(L, -1));
	if (lua_type(L, -1) == LUA_TNUMBER)
		return fmt("%.14g", (double)lua_tonumberx(L, -1, NULL));
	return fmt("error object is a %s value", luaL_typename(L, -1));
}

/* Fills a sandbox from limits and a policy source. */
static void sb_init(struct sb *s, const struct mm_policy_limits *lim, const char *src, size_t len,
		    const char *chunkname)
{
	memset(s, 0, sizeof(*s));
	s->cap = lim != NULL && lim->mem_cap != 0 ? lim->mem_cap : MM_POLICY_MEM_CAP;
	s->budget = lim != NULL && lim->instructions != 0 ? lim->instructions
							  : MM_POLICY_INSTRUCTIONS;
	s->time_limit_ms = lim != NULL && lim->time_limit_ms != 0 ? lim->time_limit_ms
								  : MM_POLICY_TIME_LIMIT_MS;
	if (s->time_limit_ms > 0)
		s->deadline_ns = now_ns() + s->time_limit_ms * 1000000;
	s->src = src;
	s->srclen = len;
	s->chunkname = chunkname;
}

/* Creates the state and runs sb_main.  Returns the lua_State (NULL when it
 * cannot be created) with the pcall status in *status and sb_main's result
 * or the error object on top. */
static lua_State *sb_run(struct sb *s, int *status)
{
	lua_State *L = lua_newstate(sb_alloc, s);

	if (L == NULL) {
		*status = LUA_ERRMEM;
		return NULL;
	}
	*(struct sb **)lua_getextraspace(L) = s;
	lua_pushcfunction(L, sb_main);
	*status = lua_pcall(L, 0, 1, 0);
	lua_sethook(L, NULL, 0, 0);
	return L;
}

/* Policies cannot install finalizers (sb_setmetatable), so closing runs
 * only ours. */
static void sb_close(lua_State *L)
{
	if (L != NULL)
		lua_close(L);
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b != NULL ? b + 1 : path;
}

/* Line of the first `name =` at the start of a line of src, or 0. */
static int field_line(const char *src, size_t len, const char *name)
{
	size_t i = 0, nl = strlen(name);
	int line = 1;

	if (nl == 0)
		return 0;
	while (i < len) {
		size_t j = i;
		while (j < len && (src[j] == ' ' || src[j] == '\t'))
			j++;
		if (j + nl < len && memcmp(src + j, name, nl) == 0) {
			size_t k = j + nl;
			while (k < len && (src[k] == ' ' || src[k] == '\t'))
				k++;
			if (k < len && src[k] == '=' && (k + 1 >= len || src[k + 1] != '='))
				return line;
		}
		while (i < len && src[i] != '\n')
			i++;
		i++;
		line++;
	}
	return 0;
}

/* Rewrites a Lua message "base.lua:12: msg" to "path:12: msg"; anything
 * else becomes "path: msg". */
static char *with_path(const char *path, const char *msg)
{
	const char *b = base_name(path);
	size_t bl = strlen(b);

	if (strncmp(msg, b, bl) == 0 && msg[bl] == ':')
		return fmt("%s%s", path, msg + bl);
	return fmt("%s: %s", path, msg);
}

int mm_policy_load_lua(const char *path, const char *buf, size_t len,
		       const struct mm_policy_limits *lim, struct mm_policy_list *list, char **err)
{
	struct mm_policy *p = NULL;
	struct sb s;
	lua_State *L = NULL;
	char *chunkname = NULL, *expect = NULL, *msg = NULL;
	const char *b = base_name(path);
	int status, r = MM_ERR_NOMEM;

	*err = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->path = strdup(path)) == NULL ||
	    (chunkname = fmt("@%s", b)) == NULL || (expect = strdup(b)) == NULL)
		goto out;
	if (mm_endswith(expect, ".lua"))
		expect[strlen(expect) - 4] = '\0';
	p->kind = MM_POLICY_LUA;
	p->severity = MM_SEV_INFO;
	sb_init(&s, lim, buf, len, chunkname);
	s.expect_id = expect;
	s.meta = p;
	if ((L = sb_run(&s, &status)) == NULL)
		goto out;
	if (status != LUA_OK) {
		r = s.nomem ? MM_ERR_NOMEM : MM_ERR_PARSE;
		if ((msg = error_text(L, &s, status)) == NULL)
			goto out;
		if (s.killed != KILL_NONE || status == LUA_ERRMEM) {
			*err = fmt("%s: while loading: %s", path, msg);
		} else if (s.stage == ST_META) {
			int line = field_line(buf, len, s.bad_field);
			*err = line > 0 ? fmt("%s:%d: %s", path, line, msg) : fmt("%s: %s", path, msg);
		} else {
			*err = with_path(path, msg);
		}
		goto out;
	}
	if ((p->source = malloc(len + 1)) == NULL)
		goto out;
	memcpy(p->source, buf, len);
	p->source[len] = '\0';
	p->source_len = len;
	if ((r = mm_policy_list_add(list, p)) != 0)
		goto out;
	p = NULL;
	r = 0;
out:
	if (r == MM_ERR_NOMEM && *err == NULL)
		*err = fmt("%s: out of memory", path);
	sb_close(L);
	mm_policy_free(p);
	free(chunkname);
	free(expect);
	free(msg);
	return r;
}

int mm_policy_load_file(const char *path, const struct mm_policy_limits *lim,
			struct mm_policy_list *list, char **err)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	*err = NULL;
	if (!mm_endswith(path, ".lua") && !mm_endswith(path, ".yaml") &&
	    !mm_endswith(path, ".yml")) {
		*err = fmt("%s: not a policy file (expected .lua, .yaml or .yml)", path);
		return MM_ERR_USAGE;
	}
	r = mm_read_file(path, MM_POLICY_FILE_CAP, &buf, &len);
	if (r == MM_ERR_TOOBIG)
		*err = fmt("%s: larger than %zu KiB", path, MM_POLICY_FILE_CAP >> 10);
	else if (r == MM_ERR_NOTFOUND)
		*err = fmt("%s: no such file", path);
	else if (r != 0)
		*err = fmt("%s: cannot read: %s", path, mm_strerror(r));
	if (r != 0)
		return r;
	if (mm_endswith(path, ".lua"))
		r = mm_policy_load_lua(path, buf, len, lim, list, err);
	else
		r = mm_policy_parse_yaml(path, buf, len, list, err);
	free(buf);
	return r;
}

/* ---- evaluation --------------------------------------------------------- */

/* A JSON string of text that may not be UTF-8: invalid bytes become '?'.
 * NULL only on out-of-memory. */
static json_t *json_text(const char *v, size_t len)
{
	json_t *j = json_stringn(v, len);
	char *c;
	size_t i;

	if (j != NULL || (c = malloc(len + 1)) == NULL)
		return j;
	for (i = 0; i < len; i++)
		c[i] = (unsigned char)v[i] < 0x80 && v[i] != '\0' ? v[i] : '?';
	j = json_stringn(c, len);
	free(c);
	return j;
}

/* Converts the Lua value at idx to JSON without raising or running Lua code
 * (raw access only).  Tables with keys 1..n (or none) become arrays, others
 * objects; functions and the like become null. */
static json_t *to_json(lua_State *L, int idx, int depth, size_t *nodes)
{
	idx = lua_absindex(L, idx);
	if (++*nodes > JSON_MAX_NODES)
		return json_null();
	switch (lua_type(L, idx)) {
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointegerx(L, idx, NULL));
		if (!isfinite(lua_tonumberx(L, idx, NULL)))
			return json_null();
		return json_real(lua_tonumberx(L, idx, NULL));
	case LUA_TSTRING: {
		size_t len;
		const char *v = lua_tolstring(L, idx, &len);
		return json_text(v, len);
	}
	case LUA_TTABLE: {
		lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0, i;
		json_t *j;
		if (depth >= JSON_MAX_DEPTH || !lua_checkstack(L, 4))
			return json_null();
		lua_pushnil(L);
		while (lua_next(L, idx) != 0) {
			count++;
			lua_pop(L, 1);
		}
		if (count == n) {
			if ((j = json_array()) == NULL)
				return NULL;
			for (i = 1; i <= n; i++) {
				lua_rawgeti(L, idx, i);
				json_array_append_new(j, to_json(L, -1, depth + 1, nodes));
				lua_pop(L, 1);
			}
			return j;
		}
		if ((j = json_object()) == NULL)
			return NULL;
		lua_pushnil(L);
		while (lua_next(L, idx) != 0) {
			char key[64];
			const char *k = key;
			if (lua_type(L, -2) == LUA_TSTRING)
				k = lua_tostring(L, -2);
			else if (lua_isinteger(L, -2))
				snprintf(key, sizeof(key), "%lld", (long long)lua_tointegerx(L, -2, NULL));
			else if (lua_type(L, -2) == LUA_TNUMBER)
				snprintf(key, sizeof(key), "%.14g", (double)lua_tonumberx(L, -2, NULL));
			else
				snprintf(key, sizeof(key), "(%s)", luaL_typename(L, -2));
			json_object_set_new(j, k, to_json(L, -1, depth + 1, nodes));
			lua_pop(L, 1);
		}
		return j;
	}
	default:
		return json_null();
	}
}

/* A verdict with the policy's identity and no outcome yet. */
static struct mm_verdict *verdict_new(const struct mm_policy *p)
{
	struct mm_verdict *v = calloc(1, sizeof(*v));
	size_t i;

	if (v == NULL)
		return NULL;
	v->severity = p->severity;
	v->verdict = MM_VERDICT_ERROR;
	if ((v->id = strdup(p->id)) == NULL || (v->title = strdup(p->title)) == NULL ||
	    (v->path = strdup(p->path)) == NULL ||
	    (p->remediation != NULL && (v->remediation = strdup(p->remediation)) == NULL))
		goto fail;
	if (p->nreferences > 0) {
		if ((v->references = calloc(p->nreferences, sizeof(char *))) == NULL)
			goto fail;
		for (i = 0; i < p->nreferences; i++, v->nreferences++)
			if ((v->references[i] = strdup(p->references[i])) == NULL)
				goto fail;
	}
	return v;
fail:
	mm_verdict_free(v);
	return NULL;
}

static void eval_lua(const struct mm_policy *p, struct mm_engine *e,
		     const struct mm_policy_limits *lim, struct mm_verdict *v)
{
	struct sb s;
	lua_State *L = NULL;
	char *chunkname = fmt("@%s", base_name(p->path));
	int status;

	if (chunkname == NULL)
		return;
	sb_init(&s, lim, p->source, p->source_len, chunkname);
	s.eval = 1;
	s.engine = e;
	if ((L = sb_run(&s, &status)) == NULL) {
		v->reason = fmt("cannot create the Lua sandbox");
		goto out;
	}
	if (status != LUA_OK) {
		v->reason = error_text(L, &s, status);
		goto out;
	}
	lua_pushliteral(L, "verdict");
	lua_rawget(L, -2);
	v->verdict = strcmp(lua_tostring(L, -1), "pass") == 0	       ? MM_VERDICT_PASS
		     : strcmp(lua_tostring(L, -1), "fail") == 0 ? MM_VERDICT_FAIL
								: MM_VERDICT_NA;
	lua_pop(L, 1);
	lua_pushliteral(L, "reason");
	if (lua_rawget(L, -2) == LUA_TSTRING)
		v->reason = fmt("%s", lua_tostring(L, -1));
	else
		v->reason = fmt("%s", "");
	lua_pop(L, 1);
	lua_pushliteral(L, "rows");
	if (lua_rawget(L, -2) == LUA_TTABLE) {
		size_t nodes = 0;
		json_t *j = to_json(L, -1, 0, &nodes);
		if (j != NULL)
			v->rows_json = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
							     JSON_REAL_PRECISION(15));
		json_decref(j);
	}
	lua_pop(L, 1);
out:
	sb_close(L);
	free(chunkname);
}

/* Fleet's platform: empty or a comma-separated list that names linux. */
static int platform_is_linux(const char *platform)
{
	char buf[256], *f[16];
	int i, n;

	if (platform == NULL || platform[0] == '\0')
		return 1;
	snprintf(buf, sizeof(buf), "%s", platform);
	n = mm_split_char(buf, ',', f, 16);
	for (i = 0; i < n; i++)
		if (strcmp(mm_trim(f[i]), "linux") == 0)
			return 1;
	return 0;
}

static void eval_sql(const struct mm_policy *p, struct mm_engine *e, struct mm_verdict *v)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	char *err = NULL;
	int rc;

	if (!platform_is_linux(p->platform)) {
		v->verdict = MM_VERDICT_NA;
		v->reason = fmt("the policy is for %s", p->platform);
		return;
	}
	if (mm_engine_prepare(e, p->sql, &st, &tail, &err) != 0) {
		v->reason = fmt("%s", err);
		goto out;
	}
	if (st == NULL) {
		v->reason = fmt("the query is empty");
		goto out;
	}
	while (tail != NULL && (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r' ||
				*tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0') {
		v->reason = fmt("the query has more than one statement");
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v->verdict = MM_VERDICT_PASS;
		v->reason = fmt("the query returned a row");
	} else if (rc == SQLITE_DONE) {
		v->verdict = MM_VERDICT_FAIL;
		v->reason = fmt("the query returned no rows");
	} else {
		char *m = mm_engine_errmsg(e);
		v->reason = fmt("%s", m != NULL ? m : "query failed");
		sqlite3_free(m);
	}
out:
	sqlite3_finalize(st);
	sqlite3_free(err);
}

int mm_policy_eval(const struct mm_policy *p, struct mm_engine *e,
		   const struct mm_policy_limits *lim, struct mm_verdict **out)
{
	struct mm_verdict *v;
	int64_t t0 = now_ns();

	*out = NULL;
	if ((v = verdict_new(p)) == NULL)
		return MM_ERR_NOMEM;
	if (p->kind == MM_POLICY_LUA)
		eval_lua(p, e, lim, v);
	else
		eval_sql(p, e, v);
	if (v->reason == NULL) {
		v->verdict = MM_VERDICT_ERROR;
		if ((v->reason = fmt("out of memory")) == NULL) {
			mm_verdict_free(v);
			return MM_ERR_NOMEM;
		}
	}
	v->duration_us = (now_ns() - t0) / 1000;
	*out = v;
	return 0;
}

char *mm_verdict_to_json(const struct mm_verdict *v)
{
	json_t *o = json_object(), *refs = json_array(), *rows = NULL;
	char *s = NULL;
	size_t i;

	if (o == NULL || refs == NULL)
		goto out;
	if (v->rows_json != NULL)
		rows = json_loads(v->rows_json, 0, NULL);
	for (i = 0; i < v->nreferences; i++)
		json_array_append_new(refs, json_text(v->references[i], strlen(v->references[i])));
	json_object_set_new(o, "id", json_text(v->id, strlen(v->id)));
	json_object_set_new(o, "title", json_text(v->title, strlen(v->title)));
	json_object_set_new(o, "severity", json_string(mm_severity_name(v->severity)));
	json_object_set_new(o, "verdict", json_string(mm_verdict_name(v->verdict)));
	json_object_set_new(o, "reason", json_text(v->reason, strlen(v->reason)));
	json_object_set_new(o, "rows", rows != NULL ? rows : json_null());
	json_object_set(o, "references", refs);
	json_object_set_new(o, "remediation",
			    v->remediation != NULL ? json_text(v->remediation, strlen(v->remediation))
						   : json_null());
	json_object_set_new(o, "path", json_text(v->path, strlen(v->path)));
	json_object_set_new(o, "duration_ms", json_real((double)v->duration_us / 1000.0));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
out:
	json_decref(refs);
	json_decref(o);
	return s;
}
