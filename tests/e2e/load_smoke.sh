#!/bin/sh
# load_smoke.sh - mamori-load (bench/load) against a real coordinator on
# loopback: 50 agents enroll and check in with the default mix for a fixed
# number of check-ins; no errors, a non-zero rate, and the coordinator holds
# the 50 hosts and exactly the result lines the generator says it posted.
# Then the refusals: a wrong enroll secret (exit 1, node_invalid counted) and
# a non-loopback URL (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
: "${MM_LOAD:?MM_LOAD must point at the mamori-load binary}"

server_start || finish

"$MM_LOAD" --url "$SERVER_URL" --ca "$SERVER_CA" --enroll-secret-file "$SERVER_DIR/enroll_secret" \
	--agents 50 --requests 2000 --duration 20 --server-pid "$SERVER_PID" --json \
	>"$TMP/load.json" 2>"$TMP/load.err"
rc=$?
assert_eq "mamori-load exit status (stderr: $(head -c 500 "$TMP/load.err"))" 0 "$rc"
j() { jq -r "$1" "$TMP/load.json"; }
assert_eq "agents enrolled" 50 "$(j .enroll.enrolled)"
assert_eq "errors" 0 "$(j .errors.total)"
assert_eq "check-ins (capped by --requests)" 2000 "$(j .checkins)"
assert_eq "check-ins answered ok" 2000 "$(j .checkins_ok)"
assert_eq "rate above zero" true "$(j '.checkins_per_second > 0')"
assert_eq "every kind of check-in sent" true \
	"$(j '.by_kind.read > 0 and .by_kind.config > 0 and .by_kind.log > 0 and .by_kind.enroll == 0')"
assert_eq "latency percentiles ordered" true \
	"$(j '.latency_ms.p50 > 0 and .latency_ms.p50 <= .latency_ms.p99 and .latency_ms.p99 <= .latency_ms.max')"
assert_eq "coordinator sampled" true "$(j '.server.peak_rss_kb > 0 and .server.cpu_percent >= 0')"

# The coordinator saw the same thing.
code=$(srv_get "/api/v1/hosts" -H "Authorization: Bearer $ADMIN_TOKEN")
assert_eq "GET /api/v1/hosts" 200 "$code"
assert_eq "hosts enrolled by mamori-load" 50 \
	"$(jq '[.hosts[] | select(.host_identifier | startswith("load-"))] | length' "$TMP/resp")"
logs=$(j .by_kind.log)
code=$(srv_get "/api/v1/results?pack=load&limit=10000" -H "Authorization: Bearer $ADMIN_TOKEN")
assert_eq "GET /api/v1/results" 200 "$code"
assert_eq "result lines stored (3 per /log)" "$((logs * 3))" "$(jq '.results | length' "$TMP/resp")"
assert_eq "result line shape" "processes added" \
	"$(jq -r '.results[0] | "\(.query) \(.action)"' "$TMP/resp")"

# A wrong secret: every enroll gets node_invalid, nothing else is tried.
printf 'not-the-secret\n' >"$TMP/bad_secret"
"$MM_LOAD" --url "$SERVER_URL" --ca "$SERVER_CA" --enroll-secret-file "$TMP/bad_secret" \
	--agents 3 --duration 2 --host-prefix bad- --json >"$TMP/bad.json" 2>"$TMP/bad.err"
assert_eq "wrong secret: exit status" 1 "$?"
assert_eq "wrong secret: node_invalid errors" 3 "$(jq .errors.node_invalid "$TMP/bad.json")"
assert_eq "wrong secret: aborted" "no agent enrolled" "$(jq -r .aborted_why "$TMP/bad.json")"

# Only loopback.
assert_status "non-loopback URL refused" 2 "$MM_LOAD" --url https://192.0.2.1:8443 \
	--ca "$SERVER_CA" --enroll-secret-file "$SERVER_DIR/enroll_secret"
assert_contains "refusal names the address" "refusing 192.0.2.1" "$(cat "$TMP/err")"

finish
