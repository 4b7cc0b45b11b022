#!/bin/sh
# daemon_queue.sh - a tiny queue (max_rows 5) drops the oldest lines and
# reports how many in a status line the coordinator stores; a line the
# coordinator refuses as malformed is isolated and dropped (reported) instead
# of blocking the lines behind it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"

server_start || finish
agent_setup "queue:" "  max_rows: 5"
apply_pack hyg 'name: hyg
queries:
  users:
    query: SELECT uid, username FROM users
    interval: 60'

# 24 rows, 5 places: the newest 4 results stay, with one report line.
agent_once
assert_eq "--once exit status" "0" "$AGENT_STATUS"
assert_eq "the newest results" "sshd
_chrony
deploy
alice" "$(db "SELECT json_extract(columns, '\$.username') FROM results ORDER BY id")"
assert_eq "the report" "1|daemon_diff.c|dropped 20 result lines: queue full" \
	"$(db "SELECT severity, filename, message FROM status_logs")"
assert_contains "the agent says so too" "dropped 20 result lines: queue full" \
	"$(cat "$TMP/agent-once.log")"
assert_eq "dropped numbers are skipped, not reused" "$(agent_last_seq)" \
	"$(db "SELECT log_seq FROM hosts")"
# A malformed line among good ones (written into the state DB by hand): the
# batches shrink until it is alone, it is dropped, the others arrive.
state=$TMP/state/mamori-state.db
n=$(sqlite3 "$state" "SELECT value FROM kv WHERE key = 'next_seq'")
good='{"name":"pack/hyg/users","hostIdentifier":"web01.example.com","unixTime":1,"epoch":0,"counter":9,"numerics":false,"decorations":{},"columns":{"username":"gKEY"},"action":"added"}'
sqlite3 "$state" "INSERT INTO queue(seq, type, line, size) VALUES
	($n, 0, '$(echo "$good" | sed s/KEY/1/)', 100),
	($((n + 1)), 0, '{\"name\":\"pack/hyg/users\"}', 25),
	($((n + 2)), 0, '$(echo "$good" | sed s/KEY/2/)', 100),
	($((n + 3)), 0, '$(echo "$good" | sed s/KEY/3/)', 100);
	UPDATE kv SET value = $((n + 4)) WHERE key = 'next_seq'"
agent_once
assert_eq "--once with a bad line: exit status" "0" "$AGENT_STATUS"
assert_eq "the good lines" "g1
g2
g3" "$(db "SELECT json_extract(columns, '\$.username') FROM results WHERE counter = 9 ORDER BY id")"
assert_eq "the bad one reported" "dropped 1 result lines: refused by the coordinator" \
	"$(db "SELECT message FROM status_logs ORDER BY id DESC LIMIT 1")"
assert_contains "the agent says which" "the coordinator refuses line $((n + 1)) (HTTP 400): dropped" \
	"$(cat "$TMP/agent-once.log")"
assert_eq "queue empty" "0" "$(sqlite3 "$state" "SELECT count(*) FROM queue")"

finish
