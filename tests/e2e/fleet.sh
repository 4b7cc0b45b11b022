#!/bin/sh
# fleet.sh - a coordinator and three agent daemons with different fixture
# roots and host identifiers, driven with mamorictl:
#   - a pack applied with `mamorictl packs apply` reaches all three; each
#     host's results arrive and `mamorictl results --host` returns exactly the
#     rows `mamori query --root` gives for that root;
#   - a change in one fixture shows up as added / removed lines with counters
#     1 and 2, for that host only;
#   - faults: with the coordinator down, one run queues 20,000 added lines;
#     the coordinator is restarted and killed with SIGKILL while it ingests
#     them (repeated with growing delays until a kill lands mid-ingest),
#     then restarted for good: every line is stored exactly once;
#   - an agent killed with SIGKILL while lines are queued loses nothing and
#     duplicates nothing after its restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
: "${MAMORICTL:?MAMORICTL must point at mamorictl}"

server_start || finish
PORT=${SERVER_URL##*:}
export MAMORICTL_CONFIG="$TMP/mamorictl.yaml"
printf '%s\n' "$ADMIN_TOKEN" >"$TMP/token"
# ctest's MAMORI_SERVER is the server binary; mamorictl would take it for its URL.
ctl() { env -u MAMORI_SERVER "$MAMORICTL" "$@"; }
assert_status "mamorictl login" 0 ctl login --server "$SERVER_URL" --ca "$SERVER_CA" \
	--token-file "$TMP/token"

cat >"$TMP/fleet.yaml" <<'EOF'
name: fleet
description: what the fleet test schedules
queries:
  users:
    query: SELECT uid, username, shell FROM users
    interval: 1
  os:
    query: SELECT name, version FROM os_version
    interval: 2
    snapshot: true
EOF
assert_status "packs apply" 0 ctl packs apply -f "$TMP/fleet.yaml"

HOSTS="web01 legacy01 desk-xrdp-open"
# agent_conf NAME: a root copy, a state dir and a config for agent NAME.
agent_conf() {
	rm -rf "$TMP/$1"
	mkdir -p "$TMP/$1"
	cp -R "$FIXTURES/$1" "$TMP/$1/root"
	cat >"$TMP/$1/agent.yaml" <<EOF
server: https://127.0.0.1:$PORT
ca_file: $SERVER_CA
enroll_secret_file: $SERVER_DIR/enroll_secret
host_identifier: specified
identifier: agent-$1
state_dir: $TMP/$1/state
root: $TMP/$1/root
intervals:
  config_refresh: 1s
  distributed_interval: 1s
  log_flush: 200ms
  splay_percent: 0
queue:
  max_rows: 100000
timeouts:
  connect: 2s
  request: 10s
EOF
}
# agent_run NAME: starts agent NAME's daemon; its pid goes to $TMP/NAME/pid.
agent_run() {
	"$MAMORI" daemon --config "$TMP/$1/agent.yaml" --log-level info \
		>>"$TMP/$1/agent.log" 2>&1 &
	echo $! >"$TMP/$1/pid"
}
agents_stop() {
	for h in $HOSTS; do
		[ -f "$TMP/$h/pid" ] && kill -TERM "$(cat "$TMP/$h/pid")" 2>/dev/null
	done
	for h in $HOSTS; do
		[ -f "$TMP/$h/pid" ] || continue
		i=0
		while kill -0 "$(cat "$TMP/$h/pid")" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$(cat "$TMP/$h/pid")" 2>/dev/null
		rm -f "$TMP/$h/pid"
	done
}
add_cleanup agents_stop
db() { sqlite3 -batch "$SERVER_DIR/mamori.db" "$1"; }
# wait_for WHAT WANT SECS CMD...: runs CMD until it prints WANT, at most SECS.
wait_for() {
	wf_what=$1 wf_want=$2 wf_end=$(($(date +%s) + $3))
	shift 3
	while :; do
		wf_got=$("$@" 2>&1)
		[ "$wf_got" = "$wf_want" ] && break
		[ "$(date +%s)" -ge "$wf_end" ] && break
		sleep 0.2
	done
	assert_eq "$wf_what" "$wf_want" "$wf_got"
}
users_csv() { # NAME: the users rows of that root, sorted, as mamorictl prints them
	"$MAMORI" query --root "$TMP/$1/root" --format csv \
		"SELECT uid, username, shell FROM users" 2>/dev/null | tail -n +2 | sort
}

for h in $HOSTS; do
	agent_conf "$h"
	agent_run "$h"
done

# ---- three hosts enroll, get the pack, their results arrive --------------------
wait_for "three hosts with first users results" 3 30 \
	db "SELECT count(DISTINCT host_id) FROM results WHERE name = 'pack/fleet/users'"
wait_for "three hosts with os snapshots" 3 30 \
	db "SELECT count(DISTINCT host_id) FROM results WHERE name = 'pack/fleet/os'"
hosts_out=$(ctl hosts --format jsonl | jq -r .host_identifier | sort | tr '\n' ' ')
assert_eq "mamorictl hosts lists the three" "agent-desk-xrdp-open agent-legacy01 agent-web01 " \
	"$hosts_out"
for h in $HOSTS; do
	want=$(users_csv "$h")
	got=$(ctl results --pack fleet --query users --host "agent-$h" --format jsonl |
		jq -r 'select(.counter == 0) | [.columns.uid, .columns.username, .columns.shell] | @csv' |
		tr -d '"' | sort)
	assert_eq "results of agent-$h equal mamori query --root" "$want" "$got"
	os=$(ctl results --pack fleet --query os --host "agent-$h" --format jsonl | head -1 |
		jq -r '.columns | if type == "array" then .[0].name else .name end')
	assert_eq "os snapshot of agent-$h" \
		"$("$MAMORI" query --root "$TMP/$h/root" --format csv 'SELECT name FROM os_version' | tail -1)" \
		"$os"
done

# ---- a change in one fixture: added (counter 1), then removed (counter 2) -------
printf 'newbie:x:3001:3001::/home/newbie:/bin/bash\n' >>"$TMP/web01/root/etc/passwd"
wait_for "added line for newbie" "added|1" 20 \
	db "SELECT action || '|' || counter FROM results WHERE json_extract(columns, '$.username') = 'newbie'"
grep -v '^newbie:' "$TMP/web01/root/etc/passwd" >"$TMP/p" && cp "$TMP/p" "$TMP/web01/root/etc/passwd"
wait_for "removed line for newbie" "added|1 removed|2" 20 \
	db "SELECT group_concat(action || '|' || counter, ' ') FROM (SELECT action, counter FROM results WHERE json_extract(columns, '$.username') = 'newbie' ORDER BY id)"
got=$(ctl results --pack fleet --query users --host agent-legacy01 --format jsonl | jq -r 'select(.counter > 0) | .columns.username')
assert_eq "the other hosts saw no change" "" "$got"
got=$(ctl results --pack fleet --query users --host agent-web01 --format jsonl |
	jq -r 'select(.counter > 0) | "\(.action) \(.counter) \(.columns.username)"' | tr '\n' ' ')
assert_eq "mamorictl results shows the change with its counters" "added 1 newbie removed 2 newbie " "$got"

# ---- faults: coordinator down, 20,000 lines queued, SIGKILL mid-ingest ----------
N=20000
server_stop
awk -v n=$N 'BEGIN { for (i = 1; i <= n; i++) printf "bulk%05d:x:%d:%d::/home/b:/bin/sh\n", i, 10000 + i, 10000 + i }' \
	>>"$TMP/web01/root/etc/passwd"
# Only the bulk lines: the os snapshot keeps queueing a line every 2 s too.
queued() { sqlite3 -batch "$TMP/web01/state/mamori-state.db" "SELECT count(*) FROM queue WHERE type = 0 AND line LIKE '%\"bulk%'" 2>/dev/null; }
wait_for "web01 queued $N lines while the coordinator is down" $N 120 queued
bulk() { db "SELECT count(*) || ' ' || count(DISTINCT json_extract(columns, '$.username')) FROM results WHERE json_extract(columns, '$.username') LIKE 'bulk%'"; }
# The agent has been backing off for a while: restart it (its queue is on
# disk, so this is also an agent restart that must lose nothing), start the
# coordinator, and kill the coordinator with SIGKILL as soon as the first
# batch is committed: the lines come in batches of 1,000, so the kill lands
# while the rest are being sent.
kill -TERM "$(cat "$TMP/web01/pid")"
i=0
while kill -0 "$(cat "$TMP/web01/pid")" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
server_start --port "$PORT" || finish
agent_run web01
i=0
while [ "$(db "SELECT count(*) FROM results WHERE json_extract(columns, '$.username') LIKE 'bulk%'")" = 0 ] &&
	[ $i -lt 3000 ]; do
	sleep 0.02
	i=$((i + 1))
done
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
set -- $(bulk)
if [ "$1" -gt 0 ] && [ "$1" -lt $N ]; then pass; else
	fail "the SIGKILL did not land mid-ingest (stored at the kill: $1 of $N)"
fi
echo "fleet: SIGKILL landed with $1 of $N lines stored"
server_start --port "$PORT" || finish
wait_for "every queued line stored exactly once after SIGKILL" "$N $N" 120 bulk
wait_for "web01's queue drained" 0 60 queued
# Nothing else was duplicated either: (host, name, time, counter, row) is unique.
dups=$(db "SELECT count(*) FROM (SELECT host_id, name, unix_time, action, counter, columns, count(*) c FROM results GROUP BY 1, 2, 3, 4, 5, 6 HAVING c > 1)")
assert_eq "no duplicated result line in the store" "0" "$dups"

# ---- an agent killed with SIGKILL while lines are queued loses nothing ----------
server_stop
printf 'late1:x:4001:4001::/home/l:/bin/sh\nlate2:x:4002:4002::/home/l:/bin/sh\n' \
	>>"$TMP/legacy01/root/etc/passwd"
lq() { sqlite3 -batch "$TMP/legacy01/state/mamori-state.db" "SELECT count(*) FROM queue WHERE type = 0 AND line LIKE '%\"late%'" 2>/dev/null; }
wait_for "legacy01 queued its change" 2 20 lq
kill -KILL "$(cat "$TMP/legacy01/pid")"
sleep 0.2
agent_run legacy01
server_start --port "$PORT" || finish
late() { db "SELECT count(*) FROM results WHERE json_extract(columns, '$.username') LIKE 'late%'"; }
wait_for "both lines queued before the agent's SIGKILL arrive once" 2 60 late
sleep 2 # a few more runs: the restarted agent must not resend them
assert_eq "still exactly once after more runs" 2 "$(late)"

agents_stop
finish
