#!/bin/sh
# daemon_enroll.sh - `mamori daemon --once` against a real coordinator: an
# agent on a copy of the web01 fixture enrolls, gets a pack, and its results
# arrive with the right host; a changed fixture gives added/removed lines with
# counters 1 and 2; an unchanged one sends nothing; bad configs exit 2 with
# FILE:LINE: key: what; a foreign CA and a wrong enroll secret fail (exit 1).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"

server_start || finish
agent_setup
apply_pack web 'name: web
queries:
  users:
    query: SELECT uid, username, shell FROM users
    interval: 60
  os:
    query: SELECT name, version FROM os_version
    interval: 60
    snapshot: true'

nusers=$("$MAMORI" query --format pipe --root "$TMP/root" "SELECT count(*) FROM users")
assert_eq "fixture users" "24" "$nusers"

# First run: enroll, config, every row added (epoch 0, counter 0), a snapshot.
agent_once
assert_eq "first --once exit status" "0" "$AGENT_STATUS"
[ "$AGENT_STATUS" = 0 ] || cat "$TMP/agent-once.log" >&2
assert_eq "host row" "1|web01.example.com|web01.example.com|mamori|0.1.0|Debian GNU/Linux|12 (bookworm)" \
	"$(db "SELECT id, host_identifier, hostname, agent, agent_version, os_name, os_version FROM hosts")"
assert_eq "enroll details" "mamori|web01.example.com|4c2b9a8f-1e7d-4a6b-9c3e-5f7a1b2d4e6f|debian" \
	"$(db "SELECT json_extract(details, '\$.osquery_info.extensions'),
		json_extract(details, '\$.system_info.hostname'), json_extract(details, '\$.system_info.uuid'),
		json_extract(details, '\$.os_version.platform') FROM hosts")"
assert_eq "first results" "pack/web/users|web|users|added|0|0|24" \
	"$(db "SELECT name, pack, query, action, epoch, counter, count(*) FROM results
		WHERE host_id = 1 AND name = 'pack/web/users' GROUP BY 1, 2, 3, 4, 5, 6")"
assert_eq "deploy's row" '{"uid":"1000","username":"deploy","shell":"/bin/bash"}' \
	"$(db "SELECT columns FROM results WHERE columns LIKE '%deploy%'")"
assert_eq "snapshot" 'snapshot|0|[{"name":"Debian GNU/Linux","version":"12 (bookworm)"}]' \
	"$(db "SELECT action, counter, columns FROM results WHERE name = 'pack/web/os'")"
assert_eq "coordinator's sequence" "$(agent_last_seq)" "$(db "SELECT log_seq FROM hosts WHERE id = 1")"
assert_contains "results file" '"hostIdentifier":"web01.example.com"' \
	"$(head -n 1 "$SERVER_DIR/results.log")"
assert_eq "state DB mode" "600" "$(stat -c %a "$TMP/state/mamori-state.db")"
assert_eq "state dir mode" "700" "$(stat -c %a "$TMP/state")"
node_key=$(sqlite3 "$TMP/state/mamori-state.db" "SELECT value FROM kv WHERE key = 'node_key'")
assert_eq "node key kept" "1" "$([ -n "$node_key" ] && echo 1)"
if grep -qF "$node_key" "$TMP/agent-once.log" "$SERVER_LOG"; then
	fail "the node key appears in a log"
fi

# A user appears: one added line, counter 1.  Then one goes: removed, counter 2.
add_user carol 1002
agent_once
assert_eq "second --once exit status" "0" "$AGENT_STATUS"
assert_eq "added line" 'added|0|1|{"uid":"1002","username":"carol","shell":"/bin/sh"}' \
	"$(db "SELECT action, epoch, counter, columns FROM results WHERE counter = 1")"
grep -v '^alice:' "$TMP/root/etc/passwd" >"$TMP/passwd" && cp "$TMP/passwd" "$TMP/root/etc/passwd"
agent_once
assert_eq "removed line" 'removed|0|2|{"uid":"1001","username":"alice","shell":"/bin/zsh"}' \
	"$(db "SELECT action, epoch, counter, columns FROM results WHERE counter = 2")"

# Nothing changed: only the snapshot is sent.
before=$(db "SELECT count(*) FROM results WHERE name = 'pack/web/users'")
agent_once
assert_eq "unchanged --once exit status" "0" "$AGENT_STATUS"
assert_eq "nothing resent" "$before" "$(db "SELECT count(*) FROM results WHERE name = 'pack/web/users'")"
assert_eq "one host" "1" "$(db "SELECT count(*) FROM hosts")"

# A changed query text starts a new epoch with a full result (deploy,
# carol, nobody).
apply_pack web 'name: web
queries:
  users:
    query: SELECT uid, username FROM users WHERE uid >= 1000
    interval: 60'
agent_once
assert_eq "new epoch" "1|0|3" \
	"$(db "SELECT epoch, counter, count(*) FROM results WHERE epoch = 1 GROUP BY 1, 2")"

# A query that fails at run time: an error status line, the others still run.
apply_pack broken 'name: broken
queries:
  overflow:
    query: SELECT abs(-9223372036854775807 - 1) AS x
    interval: 60'
agent_once
assert_eq "failing query: exit status" "0" "$AGENT_STATUS"
assert_eq "failing query: status line" \
	"2|Error executing scheduled query pack/broken/overflow: integer overflow" \
	"$(db "SELECT severity, message FROM status_logs")"
code=$(srv_post /api/v1/packs/broken '' -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN")
assert_eq "delete pack" "200" "$code"

# Discovery gates a pack: every discovery query must return a row.
apply_pack gated 'name: gated
discovery:
  - SELECT 1 FROM users WHERE username = '"'"'deploy'"'"'
  - SELECT 1 FROM users WHERE username = '"'"'nginx'"'"'
queries:
  g:
    query: SELECT 1 AS one
    interval: 60'
apply_pack open 'name: open
discovery:
  - SELECT 1 FROM users WHERE username = '"'"'deploy'"'"'
queries:
  o:
    query: SELECT 1 AS one
    interval: 60'
agent_once
assert_eq "discovery: exit status" "0" "$AGENT_STATUS"
assert_eq "discovery gates packs" "pack/open/o" \
	"$(db "SELECT name FROM results WHERE name IN ('pack/open/o', 'pack/gated/g')")"

# A reinstall (the state DB is lost): the coordinator keeps the host row and
# its sequence; the new numbers are above it, so nothing is skipped.
rm -rf "$TMP/state"
last=$(db "SELECT max(id) FROM results")
agent_once
assert_eq "after reinstall: exit status" "0" "$AGENT_STATUS"
assert_eq "after reinstall: same host" "1" "$(db "SELECT count(*) FROM hosts")"
assert_eq "after reinstall: the full result is stored (users, open)" "4|0|0" \
	"$(db "SELECT count(*), max(epoch), max(counter) FROM results WHERE id > $last")"
assert_eq "after reinstall: sequence" "$(agent_last_seq)" "$(db "SELECT log_seq FROM hosts")"

# Config errors: exit 2, FILE:LINE: key: what.
printf 'server: http://127.0.0.1:1\nca_file: x\nenroll_secret_file: y\n' >"$TMP/bad.yaml"
assert_status "http URL" 2 "$MAMORI" daemon --config "$TMP/bad.yaml" --once
assert_eq "http URL message" \
	"mamori daemon: $TMP/bad.yaml:1: server: must be an https:// URL, got 'http://127.0.0.1:1'" \
	"$(cat "$TMP/err")"
cp "$TMP/agent.yaml" "$TMP/bad.yaml"
printf 'queue:\n  max_rows: many\n' >>"$TMP/bad.yaml"
assert_status "bad max_rows" 2 "$MAMORI" daemon --config "$TMP/bad.yaml" --once
assert_contains "bad max_rows message" \
	"bad.yaml:$(grep -n 'max_rows' "$TMP/bad.yaml" | cut -d: -f1): queue.max_rows: expected an integer, got 'many'" \
	"$(cat "$TMP/err")"
sed 's|^ca_file: .*|ca_file: missing.pem|' "$TMP/agent.yaml" >"$TMP/bad.yaml"
assert_status "missing CA file" 2 "$MAMORI" daemon --config "$TMP/bad.yaml" --once
assert_contains "missing CA file message" "bad.yaml:2: ca_file: cannot read '$TMP/missing.pem'" \
	"$(cat "$TMP/err")"
assert_status "no --config" 2 "$MAMORI" daemon --once

# Another CA (a second coordinator's) is not trusted: TLS fails, exit 1.
"$MAMORI_SERVER" init "$TMP/other" >/dev/null 2>&1
sed "s|^ca_file: .*|ca_file: $TMP/other/ca.pem|; s|^state_dir: .*|state_dir: $TMP/state2|" \
	"$TMP/agent.yaml" >"$TMP/other.yaml"
assert_status "foreign CA" 1 "$MAMORI" daemon --config "$TMP/other.yaml" --once
assert_contains "foreign CA message" "SSL certificate" "$(cat "$TMP/err")"
no_sanitizer "foreign CA" "$TMP/err"

# A wrong enroll secret: refused, exit 1, no host added.
printf 'not-the-secret\n' >"$TMP/wrong-secret"
sed "s|^enroll_secret_file: .*|enroll_secret_file: $TMP/wrong-secret|; s|^state_dir: .*|state_dir: $TMP/state3|" \
	"$TMP/agent.yaml" >"$TMP/wrong.yaml"
assert_status "wrong secret" 1 "$MAMORI" daemon --config "$TMP/wrong.yaml" --once
assert_contains "wrong secret message" "enroll refused (HTTP 401): invalid enroll secret" \
	"$(cat "$TMP/err")"
no_sanitizer "wrong secret" "$TMP/err"
assert_eq "still one host" "1" "$(db "SELECT count(*) FROM hosts")"

finish
