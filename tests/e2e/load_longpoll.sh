#!/bin/sh
# load_longpoll.sh - mamori-load --mode longpoll against a real coordinator
# on loopback: 20 simulated agents each park a distributed read on its own
# connection, the driver starts 3 live queries on all hosts and every one
# ends with the 20 hosts answered (one row each); the coordinator holds
# exactly those rows.  Then the usage refusal: --run-queries without
# --mode longpoll (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
: "${MM_LOAD:?MM_LOAD must point at the mamori-load binary}"

server_init || finish
printf 'live:\n  long_poll: 20s\n' >>"$SERVER_CONFIG"
server_start || finish
(umask 077 && printf '%s\n' "$ADMIN_TOKEN" >"$TMP/token")

"$MM_LOAD" --url "$SERVER_URL" --ca "$SERVER_CA" --enroll-secret-file "$SERVER_DIR/enroll_secret" \
	--agents 20 --mode longpoll --run-queries 3 --admin-token-file "$TMP/token" \
	--duration 60 --server-pid "$SERVER_PID" --host-prefix lp- --json \
	>"$TMP/lp.json" 2>"$TMP/lp.err"
rc=$?
assert_eq "mamori-load exit status (stderr: $(head -c 500 "$TMP/lp.err"))" 0 "$rc"
j() { jq -r "$1" "$TMP/lp.json"; }
assert_eq "mode" longpoll "$(j .mode)"
assert_eq "one connection per agent" 20 "$(j .connections)"
assert_eq "errors" 0 "$(j .errors.total)"
assert_eq "queries done with every agent answered" 3 "$(j .live.done_all)"
assert_eq "online hosts per query" "20 20" "$(j '"\(.live.online_min) \(.live.online_max)"')"
assert_eq "reads that carried a query" 60 "$(j .queries_seen)"
assert_eq "timings ordered" true \
	"$(j '.live.p50_ms > 0 and .live.p50_ms <= .live.p95_ms and .live.p95_ms <= .live.max_ms')"
assert_eq "coordinator sampled" true \
	"$(j '.live.server_rss_kb > 0 and .live.server_cpu_percent >= 0')"

# The coordinator saw the same: the last query, done, 20 rows of x = 1.
code=$(srv_get "/api/v1/queries?limit=10" -H "Authorization: Bearer $ADMIN_TOKEN")
assert_eq "GET /api/v1/queries" 200 "$code"
assert_eq "three live queries, all done" "done done done" \
	"$(jq -r '[.queries[].status] | join(" ")' "$TMP/resp")"
assert_eq "each answered by the 20 hosts with one row" "20/20/20 20/20/20 20/20/20" \
	"$(jq -r '[.queries[].progress | "\(.ok)/\(.online)/\(.rows)"] | join(" ")' "$TMP/resp")"

"$MM_LOAD" --url "$SERVER_URL" --ca "$SERVER_CA" --enroll-secret-file "$SERVER_DIR/enroll_secret" \
	--agents 2 --run-queries 1 --admin-token-file "$TMP/token" >"$TMP/bad.out" 2>"$TMP/bad.err"
assert_eq "--run-queries without --mode longpoll: exit status" 2 "$?"
assert_contains "--run-queries without --mode longpoll: message" "needs --mode longpoll" \
	"$(cat "$TMP/bad.err")"
finish
