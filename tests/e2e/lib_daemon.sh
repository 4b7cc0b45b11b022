# lib_daemon.sh - helpers for the `mamori daemon` end-to-end tests.  Source
# after lib.sh and lib_server.sh.
#
#   agent_setup [YAML-LINES]   copies the web01 fixture to $TMP/root and writes
#                              $TMP/agent.yaml for $SERVER_URL (fast intervals,
#                              no splay) plus the extra YAML lines given
#   agent_once [ARGS]          mamori daemon --once; its exit status in
#                              AGENT_STATUS, output in $TMP/agent-once.log
#   agent_start [ARGS]         the daemon in the background: AGENT_PID,
#                              AGENT_LOG; stopped at exit
#   agent_stop                 SIGTERM, waits at most 10 s (then SIGKILL and
#                              a failure); AGENT_STATUS, AGENT_STOP_MS
#   apply_pack NAME YAML       POST /api/v1/packs (a YAML pack)
#   db SQL                     runs SQL on the coordinator's database
#   wait_db WHAT WANT SECS SQL polls SQL until it prints WANT (at most SECS
#                              seconds), then asserts
#   wait_queue WHAT N          waits (at most 15 s) until the agent's queue
#                              holds N result lines, then asserts
#   agent_last_seq             the sequence number of the agent's last queued line
#   no_sanitizer WHAT FILE...  fails when a file holds a sanitizer report (the
#                              expected exit status 1 would hide one)
#   add_user NAME UID          appends a user to $TMP/root/etc/passwd


AGENT_PID=""
AGENT_STATUS=""
agent_cleanup_added=""

agent_setup() {
	rm -rf "$TMP/root"
	cp -R "$FIXTURES/web01" "$TMP/root"
	cat >"$TMP/agent.yaml" <<EOF
server: $SERVER_URL
ca_file: $SERVER_CA
enroll_secret_file: $SERVER_DIR/enroll_secret
state_dir: $TMP/state
root: $TMP/root
intervals:
  config_refresh: 1s
  distributed_interval: 1s
  log_flush: 200ms
  splay_percent: 0
timeouts:
  connect: 2s
  request: 5s
EOF
	for l in "$@"; do
		printf '%s\n' "$l" >>"$TMP/agent.yaml"
	done
}

agent_once() {
	"$MAMORI" daemon --config "$TMP/agent.yaml" --once --log-level debug "$@" \
		>"$TMP/agent-once.log" 2>&1
	AGENT_STATUS=$?
}

agent_start() {
	AGENT_LOG=$TMP/agent.log
	"$MAMORI" daemon --config "$TMP/agent.yaml" --log-level debug "$@" >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	if [ -z "$agent_cleanup_added" ]; then
		add_cleanup agent_stop
		agent_cleanup_added=1
	fi
}

# Milliseconds since the epoch (GNU date).
now_ms() { date +%s%3N; }

agent_stop() {
	[ -n "${AGENT_PID:-}" ] || return 0
	ag_t0=$(now_ms)
	kill -TERM "$AGENT_PID" 2>/dev/null
	ag_i=0
	while kill -0 "$AGENT_PID" 2>/dev/null && [ $ag_i -lt 200 ]; do
		sleep 0.05
		ag_i=$((ag_i + 1))
	done
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -KILL "$AGENT_PID" 2>/dev/null
		fail "mamori daemon did not stop within 10 s of SIGTERM"
	fi
	wait "$AGENT_PID" 2>/dev/null
	AGENT_STATUS=$?
	AGENT_STOP_MS=$(($(now_ms) - ag_t0))
	AGENT_PID=""
	return 0
}

apply_pack() {
	ap_src=$(printf '%s' "$2" | jq -Rs .)
	ap_code=$(srv_post /api/v1/packs \
		"{\"packs\":[{\"format\":\"yaml\",\"filename\":\"$1.yaml\",\"source\":$ap_src}]}" \
		-H "Authorization: Bearer $ADMIN_TOKEN")
	assert_eq "apply pack $1" "200" "$ap_code"
}

db() { sqlite3 -batch "$SERVER_DIR/mamori.db" "$1"; }

wait_db() {
	wd_what=$1
	wd_want=$2
	wd_end=$(($(date +%s) + $3))
	while :; do
		wd_got=$(db "$4" 2>&1)
		[ "$wd_got" = "$wd_want" ] && break
		[ "$(date +%s)" -ge "$wd_end" ] && break
		sleep 0.2
	done
	assert_eq "$wd_what" "$wd_want" "$wd_got"
}

wait_queue() {
	wq_end=$(($(date +%s) + 15))
	while :; do
		wq_got=$(sqlite3 -batch "$TMP/state/mamori-state.db" \
			"SELECT count(*) FROM queue WHERE type = 0" 2>&1)
		[ "$wq_got" = "$2" ] && break
		[ "$(date +%s)" -ge "$wq_end" ] && break
		sleep 0.1
	done
	assert_eq "$1" "$2" "$wq_got"
}

agent_last_seq() {
	sqlite3 -batch "$TMP/state/mamori-state.db" "SELECT value - 1 FROM kv WHERE key = 'next_seq'"
}

no_sanitizer() {
	ns_what=$1
	shift
	if grep -q 'Sanitizer\|runtime error:' "$@" 2>/dev/null; then
		fail "$ns_what: sanitizer report: $(grep -h -m 3 'Sanitizer\|runtime error:' "$@")"
	else
		pass
	fi
}

add_user() {
	printf '%s:x:%s:%s::/home/%s:/bin/sh\n' "$1" "$2" "$2" "$1" >>"$TMP/root/etc/passwd"
}
