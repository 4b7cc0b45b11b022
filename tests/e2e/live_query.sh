#!/bin/sh
# live_query.sh - live queries end to end on loopback: a coordinator, three
# `mamori daemon` agents holding long polls on the web01, mail01 and
# legacy01 fixture roots, and one enrolled host that is offline.  A query
# reaches every online host in well under a second with each host's own
# rows; an error on one host is reported for that host only; the offline
# host is counted, not waited for; manual and dynamic labels pick their
# hosts; a stream that drops resumes with Last-Event-ID without losing or
# repeating an event (mamorictl and raw SSE); a host that takes the query
# but never answers times out; results are served from the store after the
# query ends and after a restart; runs are audited.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_live.sh"

live_server || finish

# ---- the offline host: enrolled once, then silent ------------------------------
live_agent old01 web01
sleep 1
live_stop old01
live_agent web01 web01
live_agent mail01 mail01
live_agent legacy01 legacy01
wait_hosts 4 20

# old01 is offline once its check-in interval (10 s) and margin (1 s) pass.
end=$(($(date +%s) + 25))
while :; do
	got=$(ctl --format csv hosts --status offline 2>&1 | cut -d, -f2 | tail -n +2 | tr '\n' ' ')
	[ "$got" = "web01.example.com " ] && break
	[ "$(date +%s)" -ge "$end" ] && break
	sleep 0.5
done
assert_eq "old01 (hostname web01.example.com) is offline" "web01.example.com " "$got"
assert_eq "three hosts online" "3" "$(ctl --format csv hosts --status online | tail -n +2 | wc -l)"

# ---- a query reaches every online host, each with its own rows -------------------
SQL="SELECT s.hostname, o.name, o.major, (SELECT count(*) FROM users) AS users
 FROM system_info s, os_version o"
t0=$(now_ms)
ctl --format jsonl query --all "$SQL" >"$TMP/q1.out" 2>"$TMP/q1.err"
st=$?
t1=$(now_ms)
assert_eq "query --all: exit 0" "0" "$st"
assert_eq "one line per online host" "3" "$(wc -l <"$TMP/q1.out")"
for h in web01 mail01 legacy01; do
	want=$("$MAMORI" query --root "$TMP/root-$h" --format json "$SQL" 2>/dev/null | jq -c .)
	case $h in
	web01) name=web01.example.com ;;
	legacy01) name=legacy01.corp.local ;;
	*) name=$h ;; # no hostname in its root: the host identifier
	esac
	assert_eq "rows of $h" "$want" \
		"$(jq -c --arg h "$name" 'select(.host == $h) | .rows' "$TMP/q1.out")"
done
assert_contains "summary" \
	"3 of 3 online hosts answered (3 ok, 0 with errors), 0 timed out, 1 offline" \
	"$(cat "$TMP/q1.err")"
assert_contains "offline host named" "mamorictl: offline: web01.example.com" \
	"$(cat "$TMP/q1.err")"
Q1=$(api GET '/api/v1/queries?limit=1000' >/dev/null && jq '.queries[-1].id' "$TMP/resp")
api GET "/api/v1/queries/$Q1" >/dev/null
elapsed=$(jq '.query.progress.elapsed_ms' "$TMP/resp")
echo "live query to 3 agents: last answer after $elapsed ms; mamorictl run $((t1 - t0)) ms"
assert_eq "every answer within 1 s of the start" "1" "$([ "$elapsed" -lt 1000 ] && echo 1)"
assert_eq "mamorictl done within 3 s" "1" "$([ $((t1 - t0)) -lt 3000 ] && echo 1)"
assert_eq "stored status" "done|3|1|3|0|0" \
	"$(jq -r '.query | [.status, .progress.online, .progress.offline, .progress.ok,
	   .progress.errors, .progress.timed_out] | join("|")' "$TMP/resp")"
assert_eq "host statuses" "legacy01.corp.local:ok mail01:ok web01.example.com:offline web01.example.com:ok" \
	"$(jq -r '[.query.hosts[] | "\(.host):\(.status)"] | sort | join(" ")' "$TMP/resp")"

# The table format: a host column, rows as they arrive (sorted here).
ctl query --hosts web01,legacy01 "SELECT s.hostname, o.major FROM system_info s, os_version o" \
	>"$TMP/q2.out" 2>"$TMP/q2.err"
assert_eq "table: exit 0" "0" "$?"
# (the widths depend on which host answers first)
assert_eq "table header" "host hostname major" "$(head -1 "$TMP/q2.out" | tr -s ' ')"
assert_eq "table rows" "legacy01.corp.local legacy01.corp.local 10
web01.example.com web01.example.com 12" "$(tail -n +2 "$TMP/q2.out" | tr -s ' ' | sort)"
assert_eq "two spaces at least between cells" "0" \
	"$(grep -c '[^ ] [^ ]' "$TMP/q2.out")"

# ---- an error on one host only -------------------------------------------------------
# legacy01's hostname makes the query fail there at run time (malformed JSON).
ESQL="SELECT s.hostname, json_extract(CASE WHEN s.hostname LIKE 'legacy%'
 THEN 'not json' ELSE '{\"a\":\"ok\"}' END, '\$.a') AS a FROM system_info s"
ctl --format csv query --all "$ESQL" >"$TMP/e.out" 2>"$TMP/e.err"
assert_eq "an error: exit 1" "1" "$?"
assert_eq "rows of the others" "host,hostname,a
mail01,,ok
web01.example.com,web01.example.com,ok" "$(head -1 "$TMP/e.out"; tail -n +2 "$TMP/e.out" | sort)"
assert_contains "the error names the host" "mamorictl: legacy01.corp.local: error: malformed JSON" \
	"$(cat "$TMP/e.err")"
assert_eq "one error line" "1" "$(grep -c ': error: ' "$TMP/e.err")"
assert_contains "summary counts the error" "(2 ok, 1 with errors)" "$(cat "$TMP/e.err")"

# ---- labels ------------------------------------------------------------------------------
cat >"$TMP/labels.yaml" <<'EOF'
name: mail
description: the mail servers
hosts: [mail01]
---
labels:
  - name: buster
    description: hosts still on Debian 10
    query: SELECT 1 FROM os_version WHERE major = 10
  - name: gone
    hosts: [old01]
EOF
assert_status "labels apply" 0 ctl labels apply -f "$TMP/labels.yaml"
assert_eq "labels apply output" "name    kind     change
mail    manual   created
buster  dynamic  created
gone    manual   created" "$(cat "$TMP/out")"
# A key given twice is refused at its line, and no label of the file is applied.
cat >"$TMP/dup.yaml" <<'EOF'
name: dup-first
hosts: [web01]
---
name: dup
hosts: [mail01]
hosts: [web01]
EOF
assert_status "labels apply, a duplicate key: exit 1" 1 ctl labels apply -f "$TMP/dup.yaml"
assert_eq "labels apply, a duplicate key: the message" \
	"mamorictl: $TMP/dup.yaml:6: hosts: duplicate key" "$(cat "$TMP/err")"
assert_eq "labels apply, a duplicate key: nothing applied" "name buster gone mail " \
	"$(ctl --format csv labels list | cut -d, -f1 | tr '\n' ' ')"
# The dynamic label: every agent evaluates it at once (parked reads are woken).
end=$(($(date +%s) + 15))
while :; do
	got=$(ctl --format csv labels list | cut -d, -f1-3 | tr '\n' ' ')
	[ "$got" = "name,kind,members buster,dynamic,1 gone,manual,1 mail,manual,1 " ] && break
	[ "$(date +%s)" -ge "$end" ] && break
	sleep 0.2
done
assert_eq "labels and members" "name,kind,members buster,dynamic,1 gone,manual,1 mail,manual,1 " \
	"$got"
assert_eq "buster's member" "legacy01" \
	"$(ctl --format json labels show buster | jq -r '.members[].host_identifier')"
ctl --format jsonl query --labels buster,mail "SELECT 1 AS one" >"$TMP/l.out" 2>"$TMP/l.err"
assert_eq "label query: exit 0" "0" "$?"
assert_eq "label query hosts" "legacy01.corp.local mail01" \
	"$(jq -r .host "$TMP/l.out" | sort | tr '\n' ' ' | sed 's/ $//')"
ctl --format jsonl query --labels gone --hosts mail01 "SELECT 1 AS one" >"$TMP/g.out" 2>"$TMP/g.err"
assert_eq "a label of an offline host and a host: exit 0" "0" "$?"
assert_contains "union: mail01 answered, old01 offline" \
	"1 of 1 online hosts answered (1 ok, 0 with errors), 0 timed out, 1 offline" \
	"$(cat "$TMP/g.err")"
ctl --format jsonl query --labels gone "SELECT 1 AS one" >"$TMP/g2.out" 2>"$TMP/g2.err"
assert_eq "no online target: done at once, exit 0" "0|0" "$?|$(wc -l <"$TMP/g2.out")"
assert_contains "no online target: counted offline" "0 of 0 online hosts answered" \
	"$(cat "$TMP/g2.err")"

# ---- a stream that drops resumes without gaps or duplicates -------------------------------
# mamorictl drops its stream after every event (a test knob) and resumes
# from the last event id each time.
MAMORICTL_STREAM_DROP_AFTER=1 ctl --format jsonl query --all "$SQL" >"$TMP/r.out" 2>"$TMP/r.err"
assert_eq "resumed run: exit 0" "0" "$?"
assert_eq "resumed run: the same rows, once each" "$(sort "$TMP/q1.out")" "$(sort "$TMP/r.out")"

# A host that takes the query and never answers keeps the query running:
# read its stream half-way, then resume with Last-Event-ID.
NK=$(curl -sS --cacert "$SERVER_CA" -H 'Content-Type: application/json' -d \
	"{\"enroll_secret\":\"$ENROLL_SECRET\",\"host_identifier\":\"slow01\",\"platform_type\":\"9\",
	  \"host_details\":{\"system_info\":{\"hostname\":\"slow01\",\"uuid\":\"u-slow\"}}}" \
	"$SERVER_URL/api/v1/osquery/enroll" | jq -r .node_key)
assert_eq "slow01 enrolled" "64" "${#NK}"
code=$(api POST /api/v1/queries/run '{"sql":"SELECT 1 AS one","all":true,"timeout_ms":4000}')
assert_eq "run with slow01: old01 offline, slow01 online" "200|5|4|1" \
	"$code|$(jq -r '[.targeted, .online, .offline] | join("|")' "$TMP/resp")"
QS=$(jq .id "$TMP/resp")
curl -sS --cacert "$SERVER_CA" -o "$TMP/slow-read" -H 'Content-Type: application/json' \
	-d "{\"node_key\":\"$NK\"}" "$SERVER_URL/api/v1/osquery/distributed/read"
assert_eq "slow01 gets the query" "SELECT 1 AS one" \
	"$(jq -r ".queries.mamori_live_$QS" "$TMP/slow-read")"
assert_eq "an osquery agent is told to accelerate" "1" \
	"$(jq '.accelerate > 0' "$TMP/slow-read" | sed 's/true/1/')"
sleep 1
curl -sS -N --cacert "$SERVER_CA" --max-time 1 -H "Authorization: Bearer $ADMIN_TOKEN" \
	"$SERVER_URL/api/v1/queries/$QS/stream" >"$TMP/s1" 2>/dev/null
assert_eq "first connection: progress and three results" "1 2 3 4" \
	"$(sed -n 's/^id: //p' "$TMP/s1" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "first connection: events" "progress result result result" \
	"$(sed -n 's/^event: //p' "$TMP/s1" | tr '\n' ' ' | sed 's/ $//')"
curl -sS -N --cacert "$SERVER_CA" --max-time 10 -H "Authorization: Bearer $ADMIN_TOKEN" \
	-H "Last-Event-ID: 4" "$SERVER_URL/api/v1/queries/$QS/stream" >"$TMP/s2"
assert_eq "resumed: exactly the missing events" "5 6" \
	"$(sed -n 's/^id: //p' "$TMP/s2" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "resumed: slow01 timed out, then done" "error done" \
	"$(sed -n 's/^event: //p' "$TMP/s2" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the timeout event" "slow01|timeout|no answer within the timeout (4000 ms)|3|1" \
	"$(sed -n 's/^data: //p' "$TMP/s2" | head -1 |
	   jq -r '[.host, .status, .error, .progress.ok, .progress.timed_out] | join("|")')"
# A late answer is not taken.
curl -sS --cacert "$SERVER_CA" -o /dev/null -H 'Content-Type: application/json' -d \
	"{\"node_key\":\"$NK\",\"queries\":{\"mamori_live_$QS\":[{\"one\":\"1\"}]},\"statuses\":{\"mamori_live_$QS\":0}}" \
	"$SERVER_URL/api/v1/osquery/distributed/write"
# Finished: the whole stream comes from the store, same ids and events.
curl -sS -N --cacert "$SERVER_CA" --max-time 10 -H "Authorization: Bearer $ADMIN_TOKEN" \
	"$SERVER_URL/api/v1/queries/$QS/stream" | grep -v '^:' | grep -v '^$' >"$TMP/s3"
assert_eq "replay from the store" "$(cat "$TMP/s1" "$TMP/s2" | grep -v '^:' | grep -v '^$')" \
	"$(cat "$TMP/s3")"
curl -sS -N --cacert "$SERVER_CA" --max-time 10 -H "Authorization: Bearer $ADMIN_TOKEN" \
	"$SERVER_URL/api/v1/queries/$QS/stream?after=5" >"$TMP/s4"
assert_eq "?after=5" "6" "$(sed -n 's/^id: //p' "$TMP/s4")"
assert_eq "stored: slow01 timed out" "timeout" \
	"$(sqlite3 "$SERVER_DIR/mamori.db" "SELECT h.status FROM campaign_hosts h
	   WHERE campaign_id = $QS AND host = 'slow01'")"
SLOW=$(sqlite3 "$SERVER_DIR/mamori.db" "SELECT id FROM hosts WHERE host_identifier = 'slow01'")
assert_eq "revoke slow01" "200" "$(api DELETE "/api/v1/hosts/$SLOW")"

# ---- an answer that carries mamori_wait is held like a read ---------------------------------
# The three daemons answer one query after another with one request each:
# every answer carries mamori_wait and is held until the next query.  The
# dynamic label goes first: it would wake held requests every second.
assert_status "delete the dynamic label" 0 ctl labels delete buster
sleep 1.5
api GET /api/v1/status >/dev/null
hw0=$(jq .live.held_writes "$TMP/resp")
for i in 1 2 3; do
	ctl --format jsonl query --all "SELECT $i AS n" >"$TMP/seq$i.out" 2>/dev/null
	assert_eq "back-to-back query $i: three answers" "3" "$(wc -l <"$TMP/seq$i.out")"
done
api GET /api/v1/status >/dev/null
assert_eq "the daemons' answers were held as long polls" "1" \
	"$(jq --argjson a "$hw0" '.live.held_writes - $a >= 3' "$TMP/resp" | sed 's/true/1/')"
assert_eq "status: no live query running" "0" "$(jq .live.running "$TMP/resp")"

# The same by hand: park01 sends an (empty) answer with mamori_wait; it is
# held, and a query for park01 is the reply to it.
PK=$(curl -sS --cacert "$SERVER_CA" -H 'Content-Type: application/json' -d \
	"{\"enroll_secret\":\"$ENROLL_SECRET\",\"host_identifier\":\"park01\",\"platform_type\":\"9\",
	  \"host_details\":{\"system_info\":{\"hostname\":\"park01\",\"uuid\":\"u-park\"}}}" \
	"$SERVER_URL/api/v1/osquery/enroll" | jq -r .node_key)
assert_eq "park01 enrolled" "64" "${#PK}"
code=$(curl -sS --cacert "$SERVER_CA" -o "$TMP/bad-wait" -w '%{http_code}' \
	-H 'Content-Type: application/json' \
	-d "{\"node_key\":\"$PK\",\"queries\":{},\"mamori_wait\":\"x\"}" \
	"$SERVER_URL/api/v1/osquery/distributed/write")
assert_eq "an answer with a bad mamori_wait: 400" "400|mamori_wait must be a number of seconds" \
	"$code|$(jq -r .error "$TMP/bad-wait")"
t0=$(now_ms)
curl -sS --cacert "$SERVER_CA" --max-time 15 -o "$TMP/held" -H 'Content-Type: application/json' \
	-d "{\"node_key\":\"$PK\",\"queries\":{},\"statuses\":{},\"mamori_wait\":10}" \
	"$SERVER_URL/api/v1/osquery/distributed/write" &
held_pid=$!
sleep 1
api GET /api/v1/status >/dev/null
assert_eq "the answer is held" "1" "$(jq '.live.held >= 4' "$TMP/resp" | sed 's/true/1/')"
code=$(api POST /api/v1/queries/run '{"sql":"SELECT 7 AS seven","hosts":["park01"],"timeout_ms":5000}')
QP=$(jq .id "$TMP/resp")
wait "$held_pid"
t1=$(now_ms)
assert_eq "the held answer is replied with the query" "200|SELECT 7 AS seven|20" \
	"$code|$(jq -r ".queries.mamori_live_$QP" "$TMP/held")|$(jq -r .mamori_wait "$TMP/held")"
assert_eq "at once, not after the 10 s wait" "1" "$([ $((t1 - t0)) -lt 5000 ] && echo 1)"
# Its answer, again with mamori_wait: stored, then held for the 1 s asked.
t0=$(now_ms)
curl -sS --cacert "$SERVER_CA" --max-time 15 -o "$TMP/held2" -H 'Content-Type: application/json' \
	-d "{\"node_key\":\"$PK\",\"queries\":{\"mamori_live_$QP\":[{\"seven\":\"7\"}]},\"statuses\":{\"mamori_live_$QP\":0},\"mamori_wait\":1}" \
	"$SERVER_URL/api/v1/osquery/distributed/write"
t1=$(now_ms)
assert_eq "held for the wait asked, then an empty read reply" "{}|20|1" \
	"$(jq -c '.queries' "$TMP/held2")|$(jq .mamori_wait "$TMP/held2")|$([ $((t1 - t0)) -ge 900 ] && echo 1)"
api GET "/api/v1/queries/$QP" >/dev/null
assert_eq "park01's answer is stored" "done|ok|[{\"seven\":\"7\"}]" \
	"$(jq -r '.query.status' "$TMP/resp")|$(jq -r '.query.hosts[0].status' "$TMP/resp")|$(jq -c '.query.hosts[0].rows' "$TMP/resp")"
PARK=$(sqlite3 "$SERVER_DIR/mamori.db" "SELECT id FROM hosts WHERE host_identifier = 'park01'")
assert_eq "revoke park01" "200" "$(api DELETE "/api/v1/hosts/$PARK")"

# ---- audit ------------------------------------------------------------------------------------
assert_eq "runs audited with SQL and targets" "1" \
	"$(ctl --format json audit --action query.run | jq --arg s "$SQL" --arg t "$Q1" \
	   '[.[] | select(.target == $t and .detail.sql == $s and .detail.targets.all == true
	     and .detail.online == 3 and .detail.offline == 1 and .status == 200)] | length')"

# ---- after a restart the results come from the store ----------------------------------------
api GET "/api/v1/queries/$Q1" >/dev/null
cp "$TMP/resp" "$TMP/before"
t_stop=$(date +%s)
live_stop_all
server_stop
# last_seen is written back only when 60 s stale, and for every host at exit.
assert_eq "web01's last_seen stored at exit" "1" \
	"$(sqlite3 "$SERVER_DIR/mamori.db" "SELECT last_seen >= $t_stop - 7 FROM hosts
	   WHERE host_identifier = 'web01'")"
server_start || finish
api GET "/api/v1/queries/$Q1" >/dev/null
assert_eq "status after a restart" "$(jq -S . "$TMP/before")" "$(jq -S . "$TMP/resp")"
ctl --format json query 2>/dev/null >/dev/null
assert_eq "usage: no targets is exit 2" "2" "$?"
no_sanitizer "server log" "$SERVER_LOG"
finish
