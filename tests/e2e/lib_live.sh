# lib_live.sh - helpers for the live query tests (tests/e2e/live_query*.sh).
# Source after lib.sh; it sources lib_server.sh itself.
#
#   live_server [YAML-LINES]   a coordinator with online_margin 1s and the
#                              live section (or the lines given), started
#   live_agent NAME FIXTURE [YAML-LINES]
#                              `mamori daemon` on a copy of tests/fixtures/FIXTURE
#                              ($TMP/root-NAME) as host identifier NAME, long
#                              polls on, query time limit 1 s; its pid in
#                              AGENT_PID_NAME, log $TMP/agent-NAME.log; stopped
#                              at exit
#   live_stop NAME             SIGTERM to that agent, waits (at most 10 s)
#   ctl ARGS...                mamorictl as admin against the server
#   wait_hosts N SECS          waits until N hosts are enrolled
#   dist_count NAME            distributed queries that agent has run so far
#   api METHOD PATH [BODY]     one operator request as admin: the HTTP status;
#                              the body in $TMP/resp
: "${MAMORICTL:?MAMORICTL must point at the mamorictl binary}"
: "${MAMORI_SERVER:?MAMORI_SERVER must point at the mamori-server binary}"

# ctest's MAMORI_SERVER (the binary) is also mamorictl's server variable:
# keep it as an unexported shell variable for lib_server.sh only.
live_srv_bin=$MAMORI_SERVER
unset MAMORI_SERVER MAMORI_CA MAMORI_TOKEN MAMORICTL_CONFIG XDG_CONFIG_HOME MAMORICTL_PAGE_SIZE \
	MAMORICTL_STREAM_DROP_AFTER
MAMORI_SERVER=$live_srv_bin
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh" # now_ms, no_sanitizer
HOME=$TMP/home
export HOME
mkdir -p "$HOME"
live_agents=""

live_server() {
	server_init || return 1
	sed -i 's/^online_margin: .*/online_margin: 1s/' "$SERVER_CONFIG"
	if [ $# -eq 0 ]; then
		printf 'live:\n  long_poll: 20s\n  label_interval: 1s\n' >>"$SERVER_CONFIG"
	else
		for l in "$@"; do printf '%s\n' "$l" >>"$SERVER_CONFIG"; done
	fi
	server_start
}

live_agent() {
	la_name=$1
	la_fix=$2
	shift 2
	rm -rf "$TMP/root-$la_name"
	cp -R "$FIXTURES/$la_fix" "$TMP/root-$la_name"
	cat >"$TMP/agent-$la_name.yaml" <<EOF
server: $SERVER_URL
ca_file: $SERVER_CA
enroll_secret_file: $SERVER_DIR/enroll_secret
host_identifier: specified
identifier: $la_name
state_dir: $TMP/state-$la_name
root: $TMP/root-$la_name
intervals:
  config_refresh: 60s
  distributed_interval: 2s
  log_flush: 200ms
  splay_percent: 0
timeouts:
  connect: 2s
  request: 5s
limits:
  time: 1s
EOF
	for l in "$@"; do printf '%s\n' "$l" >>"$TMP/agent-$la_name.yaml"; done
	"$MAMORI" daemon --config "$TMP/agent-$la_name.yaml" --log-level debug \
		>>"$TMP/agent-$la_name.log" 2>&1 &
	eval "AGENT_PID_$la_name=\$!"
	live_agents="$live_agents $la_name"
}

live_stop() {
	eval "ls_pid=\${AGENT_PID_$1:-}"
	[ -n "$ls_pid" ] || return 0
	kill -TERM "$ls_pid" 2>/dev/null
	ls_i=0
	while kill -0 "$ls_pid" 2>/dev/null && [ $ls_i -lt 200 ]; do
		sleep 0.05
		ls_i=$((ls_i + 1))
	done
	if kill -0 "$ls_pid" 2>/dev/null; then
		kill -KILL "$ls_pid" 2>/dev/null
		fail "agent $1 did not stop within 10 s of SIGTERM"
	fi
	wait "$ls_pid" 2>/dev/null
	eval "AGENT_PID_$1="
	return 0
}

live_stop_all() {
	for a in $live_agents; do live_stop "$a"; done
	return 0
}
add_cleanup live_stop_all

ctl() {
	MAMORI_TOKEN=$ADMIN_TOKEN "$MAMORICTL" --server "$SERVER_URL" --ca "$SERVER_CA" "$@"
}

api() {
	if [ $# -ge 3 ]; then
		curl -sS --cacert "$SERVER_CA" --max-time 20 -o "$TMP/resp" -w '%{http_code}' \
			-X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" \
			-H 'Content-Type: application/json' --data-binary "$3" "$SERVER_URL$2"
	else
		curl -sS --cacert "$SERVER_CA" --max-time 20 -o "$TMP/resp" -w '%{http_code}' \
			-X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" "$SERVER_URL$2"
	fi
}

wait_hosts() {
	wh_end=$(($(date +%s) + $2))
	while :; do
		wh_n=$(sqlite3 -batch "$SERVER_DIR/mamori.db" \
			"SELECT count(*) FROM hosts WHERE revoked_at IS NULL" 2>/dev/null)
		[ "$wh_n" = "$1" ] && break
		[ "$(date +%s)" -ge "$wh_end" ] && break
		sleep 0.1
	done
	assert_eq "hosts enrolled" "$1" "$wh_n"
}

dist_count() {
	grep -c 'distributed query mamori_live_' "$TMP/agent-$1.log" 2>/dev/null || true
}
