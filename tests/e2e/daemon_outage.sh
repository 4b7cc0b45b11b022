#!/bin/sh
# daemon_outage.sh - the daemon keeps running queries while the coordinator
# is down, queues the lines, and delivers every one exactly once when it is
# back; a restart resends nothing; SIGTERM exits 0 promptly, also while the
# daemon waits out a backoff.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"

server_start || finish
port=${SERVER_URL##*:}
agent_setup
apply_pack hyg 'name: hyg
queries:
  users:
    query: SELECT uid, username FROM users
    interval: 1'
agent_start
wait_db "first results" "24" 20 "SELECT count(*) FROM results WHERE counter = 0"

# The coordinator goes away; three changes happen, one per query run.
server_stop
add_user u1 2001
wait_queue "queued: u1" 1
add_user u2 2002
wait_queue "queued: u2" 2
grep -v '^alice:' "$TMP/root/etc/passwd" >"$TMP/passwd" && cp "$TMP/passwd" "$TMP/root/etc/passwd"
wait_queue "queued: alice" 3
assert_contains "backing off" "next attempt in" "$(cat "$AGENT_LOG")"

# Back on the same port: every line arrives once, in order.
server_start --port "$port" || finish
wait_db "lines after the outage" \
	"1|added|u1
2|added|u2
3|removed|alice" 40 \
	"SELECT counter, action, json_extract(columns, '\$.username') FROM results WHERE counter > 0
	 ORDER BY id"
assert_eq "no duplicates" "27|27" \
	"$(db "SELECT count(*), count(DISTINCT counter || action || columns) FROM results")"
assert_eq "queue empty" "0" "$(sqlite3 "$TMP/state/mamori-state.db" "SELECT count(*) FROM queue")"
assert_eq "coordinator's sequence" \
	"$(($(sqlite3 "$TMP/state/mamori-state.db" "SELECT value FROM kv WHERE key = 'next_seq'") - 1))" \
	"$(db "SELECT log_seq FROM hosts")"

# SIGTERM: exit 0, promptly.
agent_stop
assert_eq "SIGTERM exit status" "0" "$AGENT_STATUS"
assert_eq "stopped within 2 s" "1" "$([ "$AGENT_STOP_MS" -lt 2000 ] && echo 1)"
assert_contains "stop logged" "SIGTERM: stopping" "$(cat "$AGENT_LOG")"

# A restart keeps the last results: nothing is sent again.
agent_start
sleep 3
assert_eq "nothing resent after a restart" "27" "$(db "SELECT count(*) FROM results")"
agent_stop
assert_eq "second SIGTERM exit status" "0" "$AGENT_STATUS"

# SIGTERM while the coordinator is down and the daemon backs off.
server_stop
add_user u3 2003
agent_start
sleep 3
agent_stop
assert_eq "SIGTERM during backoff: exit status" "0" "$AGENT_STATUS"
assert_eq "SIGTERM during backoff: within 2 s" "1" "$([ "$AGENT_STOP_MS" -lt 2000 ] && echo 1)"
wait_queue "the line waits in the queue" 1
server_start --port "$port" || finish
agent_start
wait_db "delivered after restarts" "1" 20 \
	"SELECT count(*) FROM results WHERE json_extract(columns, '\$.username') = 'u3'"
agent_stop

no_sanitizer "agent log" "$AGENT_LOG"

finish
