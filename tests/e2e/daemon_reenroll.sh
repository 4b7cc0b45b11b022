#!/bin/sh
# daemon_reenroll.sh - a revoked node key makes the daemon enroll again
# (node_invalid) without losing queued lines; they arrive once, under the new
# host record.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"

server_start || finish
agent_setup
apply_pack hyg 'name: hyg
queries:
  users:
    query: SELECT uid, username FROM users
    interval: 1'
agent_start
wait_db "first results" "1|24" 20 "SELECT host_id, count(*) FROM results GROUP BY host_id"

# Revoke the host: its key stops working at once.
code=$(srv_post /api/v1/hosts/1 '' -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN")
assert_eq "revoke" "200" "$code"
add_user u1 2001
wait_db "enrolled again" "1|web01.example.com|0
2|web01.example.com|1" 20 \
	"SELECT id, host_identifier, node_key_hash IS NOT NULL FROM hosts ORDER BY id"
wait_db "the line arrives once, for the new host" "2|added|1" 20 \
	"SELECT host_id, action, counter FROM results WHERE json_extract(columns, '\$.username') = 'u1'"
add_user u2 2002
wait_db "and the next one" "2|added|2" 20 \
	"SELECT host_id, action, counter FROM results WHERE json_extract(columns, '\$.username') = 'u2'"
assert_eq "no duplicates" "26" "$(db "SELECT count(*) FROM results")"
assert_contains "re-enrollment logged" "node key rejected: unknown or revoked node key; enrolling again" \
	"$(cat "$AGENT_LOG")"
assert_eq "new key stored" "1" \
	"$(sqlite3 "$TMP/state/mamori-state.db" "SELECT count(*) FROM kv WHERE key = 'node_key'")"

# Revoked (in the database, while the coordinator is down) with a line
# waiting in the queue: it is delivered after enrolling again.
server_stop
add_user u3 2003
wait_queue "queued while down" 1
db "UPDATE hosts SET node_key_hash = NULL, revoked_at = 1 WHERE id = 2"
server_start --port "${SERVER_URL##*:}" || finish
wait_db "queued line delivered after the second enrollment" "3|added|3" 40 \
	"SELECT host_id, action, counter FROM results WHERE json_extract(columns, '\$.username') = 'u3'"
agent_stop
assert_eq "SIGTERM exit status" "0" "$AGENT_STATUS"

no_sanitizer "agent log" "$AGENT_LOG"

finish
