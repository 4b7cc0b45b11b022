/*
 * pack.h - query packs: named sets of scheduled queries.
 *
 * Two input formats become one in-memory form:
 *   - YAML packs (docs/packs.md): name, description, platform, version,
 *     shard, discovery (list of SQL), queries (map name -> {query,
 *     interval, snapshot, removed, description, platform, version, shard,
 *     value}).
 *   - osquery's JSON pack files (.conf): {"platform", "version", "shard",
 *     "discovery": [...], "queries": {name: {...}}}, with `\`-newline
 *     continuations joined and whole lines whose first non-blank
 *     characters are `#` or `//` dropped (as osquery accepts them; joins
 *     first, then comments).  The pack's name comes from the caller (the
 *     file name without .conf); an optional "name" key must agree with it.
 * `interval` may be a number or a quoted number.  Unknown keys, duplicate
 * keys, wrong types and empty queries are errors (a typo must not silently
 * drop an option).  Errors name the file, line and key path
 * ("packs/x.yaml:12: queries.ports.interval: not a number ('5m')").
 *
 * Limits: MM_PACK_MAX_TEXT bytes of text (also the total of all strings
 * once YAML aliases are expanded), MM_PACK_MAX_QUERIES queries,
 * MM_PACK_MAX_SQL bytes per statement, MM_PACK_MAX_DISCOVERY discovery
 * statements, names of at most MM_PACK_MAX_NAME bytes of [A-Za-z0-9_.-].
 *
 * Used by the coordinator (`packs apply`: parse, validate, store the JSON
 * form) and by the agent (`mamori pack run`, `mamori pack check`).
 */
#ifndef MM_PACK_H
#define MM_PACK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define MM_PACK_MAX_TEXT      (4u << 20)  /* bytes of pack text */
#define MM_PACK_MAX_QUERIES   1000        /* queries per pack */
#define MM_PACK_MAX_SQL       (64u << 10) /* bytes per query or discovery statement */
#define MM_PACK_MAX_DISCOVERY 64          /* discovery statements per pack */
#define MM_PACK_MAX_NAME      255         /* bytes of a pack or query name */
#define MM_PACK_MAX_INTERVAL  604800      /* seconds (one week) */

struct mm_engine;

struct mm_pack_query {
	char *name;        /* [A-Za-z0-9_.-]+ */
	char *query;       /* one SQL statement, trimmed, never empty */
	int64_t interval;  /* seconds, 1..MM_PACK_MAX_INTERVAL (required) */
	int snapshot;      /* 1 = snapshot results, 0 = differential (default) */
	int removed;       /* report removed rows (default 1) */
	char *description; /* may be NULL */
	char *platform;    /* may be NULL */
	char *version;     /* minimum agent version, may be NULL */
	int shard;         /* 0 = all hosts, 1..100 = percentage */
	char *value;       /* osquery's "value": why the query is useful; may be NULL */
};

struct mm_pack {
	char *name;
	char *description; /* may be NULL */
	char *platform;    /* may be NULL */
	char **discovery;  /* ndiscovery SQL statements */
	size_t ndiscovery;
	struct mm_pack_query *queries; /* in file order */
	size_t nqueries;
	char *version; /* pack-level minimum version, may be NULL */
	int shard;     /* pack-level shard, 0 = all hosts */
};

/* Parses a pack from text.  format is "yaml" or "conf" (osquery JSON);
 * NULL guesses from the file name's extension (.yaml/.yml, .conf/.json),
 * else from the text (a first non-blank '{' means JSON).  name: the pack
 * name for .conf files (required there unless the JSON has a "name"; for
 * YAML it is ignored: YAML packs carry their own `name`).  filename is
 * used in messages (NULL: "<pack>").  Returns 0 with *out (free with
 * mm_pack_free), or MM_ERR_PARSE/MM_ERR_NOMEM/MM_ERR_TOOBIG with *err
 * (malloc'ed, free()) naming file, line and key path. */
int mm_pack_parse(const char *text, size_t len, const char *format, const char *filename,
                  const char *name, struct mm_pack **out, char **err);
/* Reads and parses a file (capped at MM_PACK_MAX_TEXT); a .conf/.json
 * pack is named after the file (base name without the extension).
 * Returns as mm_pack_parse, or MM_ERR_NOTFOUND/MM_ERR_IO. */
int mm_pack_load(const char *path, struct mm_pack **out, char **err);
void mm_pack_free(struct mm_pack *p);

/* Prepares every discovery statement and query against the engine's
 * tables (nothing is run) and checks that each is exactly one statement.
 * Returns 0, or MM_ERR_SQL/MM_ERR_DENIED with *err (malloc'ed, free()) =
 * "pack P, query Q: <SQLite message>" (discovery statements are named
 * "discovery[N]", from 0). */
int mm_pack_validate(const struct mm_pack *p, struct mm_engine *e, char **err);

/* 1 if a platform string ("linux", "posix,darwin", ...) includes this
 * agent (linux, posix, all, any, or NULL/empty), else 0. */
int mm_pack_platform_ok(const char *platform);

/* The pack in osquery's config shape: {"description", "platform",
 * "version", "shard", "discovery":[...], "queries": {name: {"query",
 * "interval" (integer), "snapshot", "removed" (booleans), "description",
 * "platform", "version", "shard", "value"}}}; NULL strings, empty
 * discovery and shard 0 are left out.  No "name": the caller keys packs
 * by name.  Returns a new reference or NULL on out-of-memory. */
json_t *mm_pack_to_json(const struct mm_pack *p);
/* The reverse, for packs read back from the store (same validation as
 * the .conf parser; messages start "pack NAME: ").  name is required
 * unless j has a "name".  Returns 0 with *out, or MM_ERR_PARSE/
 * MM_ERR_TOOBIG/MM_ERR_NOMEM with *err (malloc'ed, free()). */
int mm_pack_from_json(const json_t *j, const char *name, struct mm_pack **out, char **err);

#endif
