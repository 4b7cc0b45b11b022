#!/bin/sh
# live.sh - how fast a live query reaches every agent holding a long poll:
# a fresh coordinator on loopback for each run, bench/mamori-load --mode longpoll with
# 1,000 and then 10,000 simulated agents (one TLS connection each, parked on
# /distributed/read), and for each run QUERIES live queries started one
# after another on all hosts, each timed from POST /api/v1/queries/run until
# the coordinator lists it done with every online host answered.  One table.
# Builds nothing.
#
#   sh bench/live.sh [BUILD_DIR] [QUERIES]
#
# BUILD_DIR defaults to build-release, else build (configure it with
# -DCMAKE_BUILD_TYPE=Release).  QUERIES per run defaults to 20.
# Environment: AGENTS (default "1000 10000"), LOAD_ARGS (extra mamori-load
# options, e.g. "--threads 1"), LD_TRACE=1 (mamori-load prints each query's
# POST, all-answers-sent and done times), KEEP=1 (keep the temporary
# directory with the coordinators' logs).  Target: p95 under 1 s at 10,000
# agents.
# Exit status: 0 when every query of every run finished with every agent
# answered and no request failed, 1 otherwise, 2 when something is missing.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init live "${1:-}"
QUERIES=${2:-20}
AGENTS=${AGENTS:-"1000 10000"}
LOAD_ARGS=${LOAD_ARGS:-}

# One connection per agent: 10,000 descriptors on each side, plus slack.
max=0
for n in $AGENTS; do [ "$n" -gt "$max" ] && max=$n; done
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((max + 200)) ]; then
	echo "live.sh: $max agents need $((max + 200)) descriptors; ulimit -Hn is $(ulimit -Hn)" >&2
	exit 2
fi

# A fresh coordinator per run: the hosts of an earlier run would still count
# as online (seen within their interval plus online_margin) and every query
# would wait for them until its timeout.
start_server() { # $1: directory
	bench_server_init "$1"
	(umask 077 && sed -n 's/^ *\(mmt_[0-9a-f]\{64\}\)$/\1/p' "$1.init.log" >"$1.token")
	[ -s "$1.token" ] || { echo "live.sh: no admin token in the init output" >&2; exit 1; }
	CONF=$1/mamori-server.yaml
	# Reads are parked up to 30 s (the default, written out so the run says it).
	if grep -q '^live:' "$CONF"; then
		grep -q 'long_poll:' "$CONF" || { echo "live.sh: cannot set live.long_poll" >&2; exit 1; }
	else
		printf 'live:\n  long_poll: 30s\n' >>"$CONF"
	fi
	bench_server_run "$CONF" "$1"
}

echo "mamori-server ($BTYPE build in $B), a fresh one per run; $(nproc) cores; $QUERIES live queries per run"
status=0
for n in $AGENTS; do
	start_server "$TMP/srv$n"
	echo "$n agents: coordinator at $URL, pid $PID"
	# shellcheck disable=SC2086
	if ! "$LOAD" --url "$URL" --ca "$TMP/srv$n/ca.pem" \
		--enroll-secret-file "$TMP/srv$n/enroll_secret" --agents "$n" --mode longpoll \
		--run-queries "$QUERIES" --admin-token-file "$TMP/srv$n.token" --duration 10m \
		--server-pid "$PID" --host-prefix "live$n-" --json $LOAD_ARGS \
		>"$TMP/run-$n.json" 2>"$TMP/run-$n.err"; then
		status=1
	fi
	if [ ! -s "$TMP/run-$n.json" ]; then
		echo "live.sh: mamori-load with $n agents produced no report:" >&2
		cat "$TMP/run-$n.err" >&2
		exit 1
	fi
	if [ -s "$TMP/run-$n.err" ]; then
		echo "--- mamori-load $n agents, stderr:"
		head -n 10 "$TMP/run-$n.err"
	fi
	kill -0 "$PID" 2>/dev/null || { echo "live.sh: the coordinator died:" >&2;
		tail -n 20 "$TMP/srv$n.server.log" >&2; exit 1; }
	bench_server_stop
done

# time: POST /queries/run to "done" (all online hosts answered), as the
# operator sees it; srv_p50: the coordinator's own elapsed_ms.  CPU: percent
# of one core over the queries; RSS after them (VmHWM: peak since start).
printf '\n%7s %7s %6s %8s %8s %8s %8s %9s %7s %8s %8s %8s\n' agents queries all_ok \
	p50_ms p95_ms max_ms srv_p50 enroll_s errors srv_MiB hwm_MiB srv_cpu%
for n in $AGENTS; do
	jq -r '[.agents, .live.queries, .live.done_all, .live.p50_ms, .live.p95_ms,
		.live.max_ms, .live.server_p50_ms, .enroll.seconds, .errors.total,
		(.live.server_rss_kb / 1024), (.live.server_hwm_kb / 1024),
		.live.server_cpu_percent] | @tsv' "$TMP/run-$n.json" |
	awk -F'\t' '{ printf "%7d %7d %6d %8.1f %8.1f %8.1f %8.0f %9.2f %7d %8.1f %8.1f %8.1f\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }'
done
echo
for n in $AGENTS; do
	jq -r --arg n "$n" 'if .live.failed != null then "\($n) agents: FAILED: \(.live.failed)"
		elif .live.done_all < .live.queries then "\($n) agents: only \(.live.done_all) of \(.live.queries) queries reached every agent"
		elif .live.p95_ms < 1000 then "\($n) agents: p95 \(.live.p95_ms) ms: meets the 1 s target"
		else "\($n) agents: p95 \(.live.p95_ms) ms: ABOVE the 1 s target" end' \
		"$TMP/run-$n.json"
done
exit $status
