# lib.sh - what bench/load.sh and bench/live.sh share (sourced, POSIX sh):
# finding the build, a temporary directory removed at exit, and a fresh
# mamori-server on loopback.
#
#   bench_init NAME [BUILD_DIR]   sets B, SERVER, LOAD, BTYPE and TMP (removed
#                                 at exit unless KEEP is set), checks the two
#                                 binaries and jq (exit 2 when missing) and
#                                 raises ulimit -n to the hard limit
#   bench_server_init DIR         mamori-server init DIR (output in DIR.init.log)
#   bench_server_run CONF DIR     mamori-server run on port 0 (stderr in
#                                 DIR.server.log); sets PID and URL, exit 1
#                                 when it does not listen within 10 s
#   bench_server_stop             stops it
# BUILD_DIR defaults to build-release, else build.

bench_init() {
	BENCH=$1
	B=${2:-}
	if [ -z "$B" ]; then
		for d in build-release build; do
			if [ -x "$d/mamori-server" ]; then B=$d; break; fi
		done
	fi
	SERVER=${B:-build}/mamori-server
	LOAD=${B:-build}/bench/mamori-load
	for f in "$SERVER" "$LOAD"; do
		if [ ! -x "$f" ]; then
			echo "$BENCH: $f is not built (cmake --build BUILD --target mamori-server mamori-load)" >&2
			exit 2
		fi
	done
	command -v jq >/dev/null 2>&1 || { echo "$BENCH: needs jq" >&2; exit 2; }
	BTYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$B/CMakeCache.txt" 2>/dev/null || true)
	# Every connection is a descriptor on both sides.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 16384 2>/dev/null || true
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/mamori-$BENCH.XXXXXX")
	PID=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	bench_server_stop
	[ -n "${KEEP:-}" ] || rm -rf "$TMP"
}

bench_server_init() {
	"$SERVER" init "$1" >"$1.init.log" 2>&1 || {
		echo "$BENCH: mamori-server init failed:" >&2; cat "$1.init.log" >&2; exit 1; }
}

bench_server_run() {
	: >"$2.server.log"
	"$SERVER" run --config "$1" --port 0 2>>"$2.server.log" &
	PID=$!
	URL=""
	bsr_i=0
	while [ $bsr_i -lt 100 ]; do # 10 s
		URL=$(sed -n 's/.*listening on \(https:\/\/[^ ]*\).*/\1/p' "$2.server.log" | head -n 1)
		[ -n "$URL" ] && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
		bsr_i=$((bsr_i + 1))
	done
	if [ -z "$URL" ]; then
		echo "$BENCH: the coordinator did not start:" >&2
		cat "$2.server.log" >&2
		exit 1
	fi
}

bench_server_stop() {
	if [ -n "${PID:-}" ]; then
		kill "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	PID=""
}
