#!/bin/sh
# live_query_limits.sh - live queries at the edges: a runaway query is
# stopped on the agent by its time limit and reported, as are a query over
# the row cap and one over the memory limit, and the agent answers the next
# query; bad input (empty SQL, SQL that does not prepare, a write, two
# statements, an unknown host or label) is refused before any host is
# asked; only admin and operator may run live queries (observer refused and
# audited); long polls answer within milliseconds (20 runs measured); an
# agent holding a long poll stops on SIGTERM and reloads on SIGHUP at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_live.sh"

live_server || finish
live_agent web01 web01 "  memory: 64M"
live_agent legacy01 legacy01
wait_hosts 2 20
sleep 1

# ---- the agent's limits ----------------------------------------------------------------
RUNAWAY="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
 WHERE x < 1000000000000) SELECT count(*) AS n FROM c"
t0=$(now_ms)
ctl --format jsonl query --hosts web01 "$RUNAWAY" >"$TMP/run.out" 2>"$TMP/run.err"
st=$?
t1=$(now_ms)
assert_eq "runaway: exit 1" "1" "$st"
assert_eq "runaway: no rows" "" "$(cat "$TMP/run.out")"
assert_contains "runaway: stopped by the time limit" \
	"mamorictl: web01.example.com: error: query stopped: time limit of 1000 ms reached" \
	"$(cat "$TMP/run.err")"
assert_eq "runaway: reported in about a second" "1" \
	"$([ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -lt 4000 ] && echo 1)"
assert_eq "the agent is still running" "0" "$(kill -0 "$AGENT_PID_web01"; echo $?)"
ctl --format jsonl query --hosts web01 "SELECT 42 AS answer" >"$TMP/next.out" 2>"$TMP/next.err"
assert_eq "the next query: exit 0" "0" "$?"
assert_eq "the next query's answer" '{"host":"web01.example.com","rows":[{"answer":"42"}]}' \
	"$(cat "$TMP/next.out")"

ctl --format jsonl query --hosts web01 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
 SELECT x + 1 FROM c WHERE x < 20000) SELECT x FROM c" >"$TMP/rows.out" 2>"$TMP/rows.err"
assert_eq "over the row cap: exit 1" "1" "$?"
assert_contains "over the row cap: the reason" "web01.example.com: error: more than 10000 rows" \
	"$(cat "$TMP/rows.err")"
# 100 MB at once, over the agent's 64 MiB (limits.memory above).
ctl --format jsonl query --hosts web01 "SELECT length(randomblob(100000000)) AS n" \
	>"$TMP/mem.out" 2>"$TMP/mem.err"
assert_eq "over the memory limit: exit 1" "1" "$?"
assert_contains "over the memory limit: the reason" "web01.example.com: error: query stopped: memory limit" \
	"$(cat "$TMP/mem.err")"
ctl --format jsonl query --all "SELECT 7 AS seven" >"$TMP/next2.out" 2>"$TMP/next2.err"
assert_eq "both agents answer after the limits" "0|2" "$?|$(grep -c '"seven":"7"' "$TMP/next2.out")"

# ---- bad input: refused before any host is asked ------------------------------------------
api GET '/api/v1/queries?limit=1000' >/dev/null
n0=$(jq '.queries | length' "$TMP/resp")
d0="$(dist_count web01) $(dist_count legacy01)"
refused() {
	ctl --format jsonl query "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
	echo "$?|$(cat "$TMP/bad.out")|$(cat "$TMP/bad.err")"
}
assert_eq "empty SQL" "1||mamorictl: empty SQL: give one SELECT statement" "$(refused --all "  ")"
assert_eq "only a comment" "1||mamorictl: empty SQL: give one SELECT statement" \
	"$(refused --all "/* nothing */")"
assert_eq "SQL that does not prepare" \
	"1||mamorictl: the query does not prepare: no such column: nope" \
	"$(refused --all "SELECT nope FROM users")"
assert_eq "unknown table" "1||mamorictl: the query does not prepare: no such table: nosuch" \
	"$(refused --all "SELECT * FROM nosuch")"
assert_contains "a write" \
	"1||mamorictl: only read-only statements (SELECT) can run as live queries: " \
	"$(refused --all "DELETE FROM users")"
assert_contains "an ATTACH" \
	"1||mamorictl: only read-only statements (SELECT) can run as live queries: " \
	"$(refused --all "ATTACH '/tmp/x.db' AS x")"
assert_eq "two statements" \
	"1||mamorictl: more than one statement: a live query is exactly one SQL statement" \
	"$(refused --all "SELECT 1; SELECT 2")"
assert_eq "unknown host" "1||mamorictl: no such host: nosuch" \
	"$(refused --hosts web01,nosuch "SELECT 1")"
assert_eq "unknown label" "1||mamorictl: no such label: nosuch" \
	"$(refused --labels nosuch "SELECT 1")"
assert_eq "a table that needs a constraint" \
	"1||mamorictl: the query does not prepare: table file needs a constraint on path or directory (for example WHERE path = '...')" \
	"$(refused --all "SELECT * FROM file")"
code=$(api POST /api/v1/queries/run '{"sql":"SELECT 1","all":true,"timeout_ms":10}')
assert_eq "a timeout out of range" "400 bad timeout_ms" "$code $(jq -r .error "$TMP/resp")"
code=$(api POST /api/v1/queries/run '{"sql":"SELECT 1"}')
assert_eq "no targets" "400 no targets" "$code $(jq -r .error "$TMP/resp")"
code=$(api POST /api/v1/queries/run '{"sql":"SELECT 1","hosts":"web01"}')
assert_eq "malformed targets" "400 malformed targets" "$code $(jq -r .error "$TMP/resp")"
assert_status "usage: no SQL" 2 ctl query --all
assert_status "usage: no targets" 2 ctl query "SELECT 1"
sleep 0.5
api GET '/api/v1/queries?limit=1000' >/dev/null
assert_eq "no live query was created" "$n0" "$(jq '.queries | length' "$TMP/resp")"
assert_eq "no host was asked anything" "$d0" "$(dist_count web01) $(dist_count legacy01)"
assert_eq "refusals audited" "1" \
	"$(ctl --format json audit --action query.run | jq '[.[] | select(.status == 422 and
	   .detail.sql == "SELECT nope FROM users" and
	   .detail.detail == "no such column: nope")] | length')"

# ---- roles: admin and operator only -----------------------------------------------------
code=$(api POST /api/v1/tokens '{"name":"watcher","role":"observer"}')
OBS=$(jq -r .token "$TMP/resp")
code=$(api POST /api/v1/tokens '{"name":"ops","role":"operator"}')
OPS=$(jq -r .token "$TMP/resp")
MAMORI_TOKEN=$OBS "$MAMORICTL" --server "$SERVER_URL" --ca "$SERVER_CA" query --all \
	"SELECT 1 AS one" >"$TMP/obs.out" 2>"$TMP/obs.err"
assert_eq "observer: exit 1" "1" "$?"
assert_contains "observer: refused" "mamorictl: role not allowed: role observer may not POST /api/v1/queries/run" \
	"$(cat "$TMP/obs.err")"
assert_eq "observer refusal audited" "1" \
	"$(ctl --format json audit --action auth.denied | jq '[.[] | select(.actor == "watcher"
	   and .target == "POST /api/v1/queries/run" and .status == 403)] | length')"
MAMORI_TOKEN=$OPS "$MAMORICTL" --server "$SERVER_URL" --ca "$SERVER_CA" --format jsonl query \
	--all "SELECT 1 AS one" >"$TMP/ops.out" 2>"$TMP/ops.err"
assert_eq "operator: exit 0, two hosts" "0|2" "$?|$(wc -l <"$TMP/ops.out")"
assert_eq "the operator's run is audited as ops" "1" \
	"$(ctl --format json audit --action query.run --actor ops | jq 'length')"
MAMORI_TOKEN=$OBS "$MAMORICTL" --server "$SERVER_URL" --ca "$SERVER_CA" --format json \
	labels list >/dev/null 2>&1
assert_eq "observer may read labels" "0" "$?"

# ---- latency: 20 runs on two agents holding long polls --------------------------------------
i=0
: >"$TMP/lat"
while [ $i -lt 20 ]; do
	code=$(api POST /api/v1/queries/run '{"sql":"SELECT 1 AS one","all":true}')
	id=$(jq .id "$TMP/resp")
	curl -sS -N --cacert "$SERVER_CA" --max-time 10 -H "Authorization: Bearer $ADMIN_TOKEN" \
		"$SERVER_URL/api/v1/queries/$id/stream" | sed -n 's/^data: //p' | tail -1 |
		jq .progress.elapsed_ms >>"$TMP/lat"
	i=$((i + 1))
done
p50=$(sort -n "$TMP/lat" | sed -n 10p)
max=$(sort -n "$TMP/lat" | tail -1)
echo "live query, 2 agents, 20 runs: p50 $p50 ms, max $max ms (start to last answer)"
assert_eq "20 runs measured" "20" "$(grep -c '^[0-9]' "$TMP/lat")"
assert_eq "every run answered within 1 s" "1" "$([ "$max" -lt 1000 ] && echo 1)"

# ---- an agent in a long poll: SIGHUP and SIGTERM at once ----------------------------------
sleep 2
t0=$(now_ms)
kill -HUP "$AGENT_PID_legacy01"
end=$(($(date +%s) + 10))
while ! grep -q 'config reloaded' "$TMP/agent-legacy01.log" && [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.05
done
t1=$(now_ms)
assert_eq "SIGHUP during a long poll: reloaded within 2 s" "1" \
	"$([ $((t1 - t0)) -lt 2000 ] && grep -q 'config reloaded' "$TMP/agent-legacy01.log" && echo 1)"
ctl --format jsonl query --hosts legacy01 "SELECT 1 AS one" >"$TMP/hup.out" 2>&1
assert_eq "answers after the reload" "0" "$?"
sleep 2
t0=$(now_ms)
live_stop web01
t1=$(now_ms)
echo "SIGTERM during a long poll: stopped in $((t1 - t0)) ms"
assert_eq "SIGTERM during a long poll: stopped within 2 s" "1" \
	"$([ $((t1 - t0)) -lt 2000 ] && echo 1)"
assert_eq "the agents held long polls" "1" \
	"$([ "$(grep -c 'long poll of ' "$TMP/agent-web01.log")" -gt 0 ] && echo 1)"
no_sanitizer "agent logs" "$TMP"/agent-*.log
no_sanitizer "server log" "$SERVER_LOG"
finish
