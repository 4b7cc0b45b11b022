# lib_server.sh - starts a throwaway coordinator for end-to-end tests.
# Source it after lib.sh.  ctest sets MAMORI_SERVER (the binary).
#
#   server_init [INIT-ARGS...]   mamori-server init into $TMP/server; sets
#                                SERVER_DIR, SERVER_CONFIG, SERVER_CA,
#                                ADMIN_TOKEN, ENROLL_SECRET
#   server_start [RUN-ARGS...]   (server_init first if not done) runs it with
#                                --port 0, waits (at most 10 s) for the
#                                "listening on" line; sets SERVER_URL,
#                                SERVER_PID, SERVER_LOG; stopped at exit
#   server_stop                  SIGTERM, waits (at most 10 s), then SIGKILL;
#                                SERVER_STATUS gets its exit status
#   srv_post PATH JSON [CURL-ARGS...]
#   srv_get PATH [CURL-ARGS...]  one request (TLS verified against SERVER_CA);
#                                prints the HTTP status, the body is in $TMP/resp
: "${MAMORI_SERVER:?MAMORI_SERVER must point at the mamori-server binary}"

SERVER_PID=""
SERVER_STATUS=""
server_cleanup_added=""

server_init() {
	SERVER_DIR=$TMP/server
	if ! "$MAMORI_SERVER" init "$SERVER_DIR" "$@" >"$TMP/server-init.out" 2>&1; then
		fail "mamori-server init: $(cat "$TMP/server-init.out")"
		return 1
	fi
	SERVER_CONFIG=$SERVER_DIR/mamori-server.yaml
	SERVER_CA=$SERVER_DIR/ca.pem
	ADMIN_TOKEN=$(sed -n 's/^ *\(mmt_[0-9a-f]\{64\}\)$/\1/p' "$TMP/server-init.out")
	ENROLL_SECRET=$(cat "$SERVER_DIR/enroll_secret")
	export SERVER_DIR SERVER_CONFIG SERVER_CA ADMIN_TOKEN ENROLL_SECRET
}

server_start() {
	if [ -z "${SERVER_DIR:-}" ]; then
		server_init || return 1
	fi
	SERVER_LOG=$TMP/server.log
	touch "$SERVER_LOG"
	srv_from=$(($(wc -l <"$SERVER_LOG") + 1))
	"$MAMORI_SERVER" run --config "$SERVER_CONFIG" --port 0 "$@" >>"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	if [ -z "$server_cleanup_added" ]; then
		add_cleanup server_stop
		server_cleanup_added=1
	fi
	srv_i=0
	SERVER_URL=""
	while [ $srv_i -lt 200 ]; do
		SERVER_URL=$(tail -n +"$srv_from" "$SERVER_LOG" |
			sed -n 's/.*listening on \(https\{0,1\}:\/\/[^ ]*\).*/\1/p')
		[ -n "$SERVER_URL" ] && break
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			fail "mamori-server exited at start: $(cat "$SERVER_LOG")"
			SERVER_PID=""
			return 1
		fi
		sleep 0.05
		srv_i=$((srv_i + 1))
	done
	if [ -z "$SERVER_URL" ]; then
		fail "mamori-server did not start within 10 s: $(cat "$SERVER_LOG")"
		return 1
	fi
	export SERVER_URL SERVER_PID SERVER_LOG
}

server_stop() {
	[ -n "${SERVER_PID:-}" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	srv_i=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [ $srv_i -lt 200 ]; do
		sleep 0.05
		srv_i=$((srv_i + 1))
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		fail "mamori-server did not stop within 10 s of SIGTERM"
	fi
	wait "$SERVER_PID" 2>/dev/null
	SERVER_STATUS=$?
	SERVER_PID=""
	return 0
}

srv_post() {
	srv_path=$1
	srv_body=$2
	shift 2
	curl -sS --cacert "$SERVER_CA" --max-time 20 -o "$TMP/resp" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "$srv_body" "$@" \
		"$SERVER_URL$srv_path"
}

srv_get() {
	srv_path=$1
	shift
	curl -sS --cacert "$SERVER_CA" --max-time 20 -o "$TMP/resp" -w '%{http_code}' "$@" \
		"$SERVER_URL$srv_path"
}
