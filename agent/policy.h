/*
 * policy.h - compliance policies: loading them and turning them into
 * verdicts (docs/policies.md describes the format for policy authors).
 *
 * Two kinds of policy exist.  A Lua policy is one Lua 5.4 file returning a
 * table of metadata plus a check() function; it runs in a sandbox that is
 * rebuilt for every load and every evaluation (a fresh lua_State with only
 * the safe standard library, a memory cap, an instruction budget and a wall
 * clock limit) and reaches the host only through query(), which runs a
 * parameterized read-only SELECT on the agent's engine.  A SQL policy comes
 * from a YAML file in Fleet's format: one query that passes when it returns
 * at least one row.
 *
 * Loading validates everything that can be validated without the host
 * (syntax, metadata); problems are load errors naming the file and, where
 * known, the line.  Evaluating never fails for reasons inside the policy:
 * a check that raises, returns garbage or hits a limit yields an `error`
 * verdict with the message.
 */
#ifndef MM_POLICY_H
#define MM_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define MM_POLICY_MEM_CAP ((size_t)32 << 20)  /* bytes of Lua heap per sandbox */
#define MM_POLICY_INSTRUCTIONS 50000000ull     /* Lua VM instructions per sandbox */
#define MM_POLICY_TIME_LIMIT_MS 10000          /* wall clock per sandbox */
#define MM_POLICY_FILE_CAP ((size_t)1 << 20)   /* largest policy file read */

/* Ordered as reports sort them: most severe first. */
enum mm_severity { MM_SEV_CRITICAL, MM_SEV_HIGH, MM_SEV_MEDIUM, MM_SEV_LOW, MM_SEV_INFO };

enum mm_verdict_code { MM_VERDICT_PASS, MM_VERDICT_FAIL, MM_VERDICT_NA, MM_VERDICT_ERROR };

enum mm_policy_kind { MM_POLICY_LUA, MM_POLICY_SQL };

/* Limits of one sandbox; a zero field means the default above. */
struct mm_policy_limits {
	size_t mem_cap;        /* bytes the Lua allocator may hold at once */
	uint64_t instructions; /* VM instructions (counted in steps of 1000) */
	int64_t time_limit_ms; /* wall clock for the whole evaluation; <0 = none */
};

/* One loaded policy.  Strings are malloc'ed and NUL-terminated; optional
 * ones are NULL when absent. */
struct mm_policy {
	enum mm_policy_kind kind;
	char *path;               /* file it was loaded from */
	char *id;                 /* Lua: the file name without .lua; SQL: slug of the name */
	char *title;
	char *description;
	char *rationale;
	char *remediation;        /* YAML: Fleet's `resolution` */
	char *remediation_script;
	char *platform;           /* debian | ubuntu | linux (Lua); Fleet's platform list (SQL) */
	enum mm_severity severity; /* YAML: critical when `critical: true`, else medium */
	char **references;        /* nreferences strings */
	size_t nreferences;
	char **tags;
	size_t ntags;
	int64_t interval;         /* seconds; 0 when not given */
	char *source;             /* Lua: the chunk text (source_len bytes) */
	size_t source_len;
	char *sql;                /* SQL: the query */
};

/* A growable list of policies; owns its members. */
struct mm_policy_list {
	struct mm_policy **v;
	size_t n, alloc;
};

/* The outcome of one evaluation.  Owns copies of everything, so it outlives
 * the policy. */
struct mm_verdict {
	char *id;
	char *title;
	char *path;
	enum mm_severity severity;
	enum mm_verdict_code verdict;
	char *reason;          /* never NULL ("" when the policy gave none) */
	char *rows_json;       /* JSON text of the rows fail() was given, or NULL */
	char **references;
	size_t nreferences;
	char *remediation;     /* may be NULL */
	int64_t duration_us;   /* wall clock of the evaluation */
};

/* Loads the policies of one file and appends them to list: a .lua file
 * gives one, a .yaml/.yml file one or more.  Returns 0, or MM_ERR_PARSE
 * (syntax, bad metadata: *err is "PATH:LINE: what is wrong", or "PATH: ..."
 * when no line applies), MM_ERR_NOTFOUND/MM_ERR_IO/MM_ERR_TOOBIG (reading),
 * MM_ERR_USAGE (not a .lua/.yaml/.yml file) or MM_ERR_NOMEM.  *err is
 * malloc'ed (free()); on error nothing is appended. */
int mm_policy_load_file(const char *path, const struct mm_policy_limits *lim,
			struct mm_policy_list *list, char **err);

/* Loads a Lua policy from a buffer; path names it in messages and gives the
 * expected id (its base name without .lua).  Same returns as above. */
int mm_policy_load_lua(const char *path, const char *buf, size_t len,
		       const struct mm_policy_limits *lim, struct mm_policy_list *list, char **err);

/* Parses YAML SQL-only policies (Fleet's format, see docs/policies.md) from
 * a buffer.  Pure: no engine, no files.  Same returns as above. */
int mm_policy_parse_yaml(const char *path, const char *buf, size_t len,
			 struct mm_policy_list *list, char **err);

/* Evaluates one policy on the engine's host.  Returns 0 with *out set (the
 * caller frees it with mm_verdict_free), whatever the verdict; MM_ERR_NOMEM
 * only when not even an error verdict can be built. */
int mm_policy_eval(const struct mm_policy *p, struct mm_engine *e,
		   const struct mm_policy_limits *lim, struct mm_verdict **out);

void mm_policy_free(struct mm_policy *p);
/* Appends p (the list takes it over).  Returns 0 or MM_ERR_NOMEM (p is then
 * still the caller's). */
int mm_policy_list_add(struct mm_policy_list *list, struct mm_policy *p);
/* Frees the members and empties the list. */
void mm_policy_list_free(struct mm_policy_list *list);
void mm_verdict_free(struct mm_verdict *v);

/* Serialises a verdict as one compact JSON object (id, title, severity,
 * verdict, reason, rows, references, remediation, path, duration_ms).
 * Returns malloc'ed text or NULL on out-of-memory. */
char *mm_verdict_to_json(const struct mm_verdict *v);

/* Lua helpers loaded into every sandbox before the policy (policy_lib.c). */
extern const char mm_policy_lib[];

const char *mm_severity_name(enum mm_severity s);
/* Returns 0 and *s, or MM_ERR_PARSE for a name outside the five levels. */
int mm_severity_parse(const char *name, enum mm_severity *s);
const char *mm_verdict_name(enum mm_verdict_code v);

#endif
