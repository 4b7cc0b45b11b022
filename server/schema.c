/*
 * schema.c - the coordinator store's schema, as an ordered list of
 * migrations.  Migration N (1-based) brings PRAGMA user_version from N-1 to
 * N; each runs in one transaction.  Never edit a migration that has shipped:
 * append a new one.
 *
 * Times are Unix seconds (INTEGER).  Secrets (node keys, API tokens) are
 * stored only as SHA-256 hashes (hex): they are 256-bit random values, so a
 * plain hash is enough and lookups stay indexed.
 */
#include "store.h"

const char *const mm_schema_migrations[] = {
	/* 1: hosts, packs, results, status logs, tokens, audit log */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
	"CREATE TABLE hosts("
	"  id INTEGER PRIMARY KEY,"
	"  node_key_hash TEXT UNIQUE,"        /* NULL when revoked */
	"  host_identifier TEXT NOT NULL,"
	"  hostname TEXT NOT NULL DEFAULT '',"
	"  uuid TEXT NOT NULL DEFAULT '',"
	"  os_name TEXT NOT NULL DEFAULT '',"
	"  os_version TEXT NOT NULL DEFAULT '',"
	"  platform TEXT NOT NULL DEFAULT '',"
	"  agent TEXT NOT NULL DEFAULT '',"    /* 'mamori' or 'osquery' */
	"  agent_version TEXT NOT NULL DEFAULT '',"
	"  address TEXT NOT NULL DEFAULT '',"  /* last peer address */
	"  details TEXT NOT NULL DEFAULT '{}',"/* enroll host_details, JSON */
	"  enrolled_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  checkin_interval INTEGER NOT NULL DEFAULT 10," /* seconds, for online/offline */
	"  log_seq INTEGER NOT NULL DEFAULT 0,"/* highest mamori_seq ingested (exactly-once) */
	"  revoked_at INTEGER);"
	"CREATE INDEX hosts_identifier ON hosts(host_identifier);"
	"CREATE INDEX hosts_hostname ON hosts(hostname);"
	"CREATE TABLE packs("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  platform TEXT NOT NULL DEFAULT '',"
	"  body TEXT NOT NULL,"                /* osquery pack JSON (queries, discovery, ...) */
	"  source TEXT NOT NULL DEFAULT '',"   /* the file as applied */
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  updated_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE results("
	"  id INTEGER PRIMARY KEY,"
	"  host_id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"                /* scheduled name: pack/P/Q */
	"  pack TEXT NOT NULL DEFAULT '',"
	"  query TEXT NOT NULL DEFAULT '',"
	"  action TEXT NOT NULL,"              /* added, removed, snapshot */
	"  epoch INTEGER NOT NULL DEFAULT 0,"
	"  counter INTEGER NOT NULL DEFAULT 0,"
	"  unix_time INTEGER NOT NULL,"
	"  columns TEXT NOT NULL,"             /* JSON object, or array of rows for a snapshot */
	"  received_at INTEGER NOT NULL);"
	"CREATE INDEX results_pq ON results(pack, query, host_id, id);"
	"CREATE INDEX results_host ON results(host_id, id);"
	"CREATE TABLE status_logs("
	"  id INTEGER PRIMARY KEY,"
	"  host_id INTEGER NOT NULL,"
	"  severity INTEGER NOT NULL DEFAULT 0,"
	"  filename TEXT NOT NULL DEFAULT '',"
	"  line INTEGER NOT NULL DEFAULT 0,"
	"  message TEXT NOT NULL DEFAULT '',"
	"  unix_time INTEGER NOT NULL);"
	"CREATE INDEX status_host ON status_logs(host_id, id);"
	"CREATE TABLE tokens("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('admin','operator','observer','responder')),"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL DEFAULT '',"
	"  last_used INTEGER,"
	"  revoked_at INTEGER);"
	"CREATE TABLE audit("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"               /* token name, or 'system' */
	"  role TEXT NOT NULL DEFAULT '',"
	"  action TEXT NOT NULL,"              /* e.g. pack.apply, token.create, auth.denied */
	"  target TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '{}'," /* JSON */
	"  address TEXT NOT NULL DEFAULT '',"
	"  status INTEGER NOT NULL DEFAULT 200);",

	/* 2: policies and fleet compliance.  verdicts holds the latest verdict
	 * per (host, policy); policy_counts is kept equal to
	 *   SELECT policy, verdict, count(*) FROM verdicts GROUP BY 1, 2
	 * by every writer (never recounted), so the fleet summary reads one
	 * row per policy whatever the number of hosts. */
	"CREATE TABLE policies("
	"  id INTEGER PRIMARY KEY,"
	"  policy TEXT NOT NULL UNIQUE,"       /* the policy's id */
	"  title TEXT NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  severity INTEGER NOT NULL,"         /* enum mm_severity: 0 critical .. 4 info */
	"  kind TEXT NOT NULL,"                /* 'lua' or 'sql' */
	"  platform TEXT NOT NULL DEFAULT '',"
	"  interval INTEGER NOT NULL DEFAULT 3600,"
	"  remediation TEXT NOT NULL DEFAULT '',"
	"  meta TEXT NOT NULL DEFAULT '{}',"   /* rationale, references, tags, remediation_script */
	"  filename TEXT NOT NULL,"
	"  source TEXT NOT NULL,"              /* the file as applied (Lua or YAML text) */
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  updated_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE verdicts("
	"  host_id INTEGER NOT NULL,"
	"  policy TEXT NOT NULL,"
	"  verdict TEXT NOT NULL CHECK (verdict IN ('pass','fail','not_applicable','error')),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  rows TEXT,"                         /* JSON rows of a fail, or NULL */
	"  evaluated_at INTEGER NOT NULL,"
	"  changed_at INTEGER NOT NULL,"
	"  PRIMARY KEY (host_id, policy)) WITHOUT ROWID;"
	"CREATE INDEX verdicts_policy ON verdicts(policy, verdict);"
	"CREATE TABLE verdict_history("
	"  id INTEGER PRIMARY KEY,"
	"  host_id INTEGER NOT NULL,"
	"  policy TEXT NOT NULL,"
	"  old_verdict TEXT,"                  /* NULL for the first verdict */
	"  new_verdict TEXT NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  time INTEGER NOT NULL);"
	"CREATE INDEX verdict_history_hp ON verdict_history(host_id, policy, id);"
	"CREATE TABLE policy_counts("
	"  policy TEXT PRIMARY KEY,"
	"  pass INTEGER NOT NULL DEFAULT 0,"
	"  fail INTEGER NOT NULL DEFAULT 0,"
	"  not_applicable INTEGER NOT NULL DEFAULT 0,"
	"  error INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",

	/* 3: Live Response (server/api_lr.c).  lr_hostkeys holds what each
	 * host's agent last reported (POST /api/v1/mamori/hostkeys): the SSH
	 * host keys the coordinator pins.  lr_sessions has one row per session
	 * (refused attempts included, state 'refused'); lr_events is a
	 * session's transcript, in order: commands with their kept output,
	 * file transfers, the byte stream of interactive shells. */
	"CREATE TABLE lr_hostkeys("
	"  host_id INTEGER PRIMARY KEY,"
	"  enabled INTEGER NOT NULL,"
	"  port INTEGER NOT NULL DEFAULT 22,"
	"  login TEXT NOT NULL DEFAULT '',"
	"  keys TEXT NOT NULL DEFAULT '[]',"    /* JSON array of "TYPE BASE64" lines */
	"  reported_at INTEGER NOT NULL);"
	"CREATE TABLE lr_sessions("
	"  id TEXT PRIMARY KEY,"
	"  host_id INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  address TEXT NOT NULL DEFAULT '',"
	"  port INTEGER NOT NULL DEFAULT 0,"
	"  login TEXT NOT NULL DEFAULT '',"
	"  actor TEXT NOT NULL,"
	"  role TEXT NOT NULL DEFAULT '',"
	"  token_id INTEGER NOT NULL DEFAULT 0,"
	"  actor_address TEXT NOT NULL DEFAULT '',"
	"  key_id TEXT NOT NULL DEFAULT '',"
	"  host_key TEXT NOT NULL DEFAULT '',"  /* fingerprint of the key presented */
	"  state TEXT NOT NULL,"               /* open, closed, refused */
	"  opened_at INTEGER NOT NULL,"
	"  closed_at INTEGER,"
	"  close_reason TEXT NOT NULL DEFAULT '',"
	"  commands INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX lr_sessions_host ON lr_sessions(host_id, opened_at);"
	"CREATE TABLE lr_events("
	"  id INTEGER PRIMARY KEY,"
	"  session TEXT NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"                /* open, command, put, get, shell.start, ... */
	"  detail TEXT NOT NULL DEFAULT '{}',"  /* JSON */
	"  data BLOB);"                        /* kept output or shell bytes, or NULL */
	"CREATE INDEX lr_events_session ON lr_events(session, id);",

	/* 4: live queries (campaigns) and labels (server/campaign.c,
	 * api_queries.c, api_labels.c).  campaign_hosts has one row per
	 * target, written 'pending' or 'offline' when the query starts and
	 * updated when the host answers or times out; seq is the host's event
	 * number in the query's SSE stream (0 = none), so a stream replayed
	 * from the store has the ids the live one had.  label_members holds
	 * manual members as applied and dynamic members as last reported. */
	"CREATE TABLE labels("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  kind TEXT NOT NULL CHECK (kind IN ('manual','dynamic')),"
	"  query TEXT NOT NULL DEFAULT '',"    /* dynamic: SQL, a host is a member when it returns rows */
	"  hosts TEXT NOT NULL DEFAULT '[]',"  /* manual: the host names as applied (JSON) */
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  updated_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE label_members("
	"  label_id INTEGER NOT NULL,"
	"  host_id INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (label_id, host_id)) WITHOUT ROWID;"
	"CREATE INDEX label_members_host ON label_members(host_id);"
	"CREATE TABLE campaigns("
	"  id INTEGER PRIMARY KEY,"
	"  sql TEXT NOT NULL,"
	"  targets TEXT NOT NULL DEFAULT '{}',"/* as requested: {all, hosts, labels} (JSON) */
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL DEFAULT '',"
	"  timeout_ms INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('running','done')),"
	"  finished_at INTEGER,"
	"  duration_ms INTEGER NOT NULL DEFAULT 0,"
	"  done_seq INTEGER NOT NULL DEFAULT 0,"/* the id of the stream's done event */
	"  targeted INTEGER NOT NULL DEFAULT 0,"
	"  online INTEGER NOT NULL DEFAULT 0,"
	"  ok INTEGER NOT NULL DEFAULT 0,"
	"  errors INTEGER NOT NULL DEFAULT 0,"
	"  timed_out INTEGER NOT NULL DEFAULT 0,"
	"  rows INTEGER NOT NULL DEFAULT 0);"  /* result rows kept */
	"CREATE TABLE campaign_hosts("
	"  id INTEGER PRIMARY KEY,"
	"  campaign_id INTEGER NOT NULL,"
	"  host_id INTEGER NOT NULL,"
	"  host TEXT NOT NULL DEFAULT '',"
	"  status TEXT NOT NULL CHECK (status IN ('pending','ok','error','timeout','offline')),"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  message TEXT NOT NULL DEFAULT '',"
	"  row_count INTEGER NOT NULL DEFAULT 0,"/* rows the host returned */
	"  rows_kept INTEGER NOT NULL DEFAULT 0,"/* of them, kept (max_rows) */
	"  results TEXT,"                      /* JSON array of the rows kept */
	"  stats TEXT,"                        /* the agent's stats (JSON) */
	"  elapsed_ms INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (campaign_id, host_id));"
	"CREATE INDEX campaign_hosts_seq ON campaign_hosts(campaign_id, seq);",
};
const int mm_schema_nmigrations = sizeof(mm_schema_migrations) / sizeof(mm_schema_migrations[0]);
