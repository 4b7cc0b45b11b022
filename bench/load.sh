#!/bin/sh
# load.sh - how many osquery-style check-ins per second mamori-server
# sustains on this machine: a fresh coordinator on loopback, driven by
# bench/mamori-load with 1,000 and then 10,000 simulated agents, one table
# of the figures.  Builds nothing.
#
#   sh bench/load.sh [BUILD_DIR] [SECONDS]
#
# BUILD_DIR defaults to build-release, else build (configure it with
# -DCMAKE_BUILD_TYPE=Release for figures worth quoting).  SECONDS is the
# check-in phase per run (default 20).  Environment: AGENTS (default
# "1000 10000"), LOAD_ARGS (extra mamori-load options, e.g. "--mix read" or
# "--interval 10s").  Target: >= 10,000 check-ins per second, no errors.
# Exit status: 0 when every run had no errors, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init load "${1:-}"
SECS=${2:-20}
AGENTS=${AGENTS:-"1000 10000"}
LOAD_ARGS=${LOAD_ARGS:-}

bench_server_init "$TMP/srv"
bench_server_run "$TMP/srv/mamori-server.yaml" "$TMP/srv"

echo "mamori-server ($BTYPE build in $B) at $URL, pid $PID; $(nproc) cores; ${SECS} s per run"
echo "mamori-load ${LOAD_ARGS:-(default mix: config every 10th, log every 4th, else distributed/read; closed loop)}"
status=0
for n in $AGENTS; do
	# shellcheck disable=SC2086
	if ! "$LOAD" --url "$URL" --ca "$TMP/srv/ca.pem" \
		--enroll-secret-file "$TMP/srv/enroll_secret" --agents "$n" --duration "$SECS" \
		--server-pid "$PID" --host-prefix "load$n-" --json $LOAD_ARGS \
		>"$TMP/run-$n.json" 2>"$TMP/run-$n.err"; then
		status=1
	fi
	if [ ! -s "$TMP/run-$n.json" ]; then
		echo "load.sh: mamori-load with $n agents produced no report:" >&2
		cat "$TMP/run-$n.err" >&2
		exit 1
	fi
	if [ -s "$TMP/run-$n.err" ]; then
		echo "--- mamori-load $n agents, stderr:"
		head -n 10 "$TMP/run-$n.err"
	fi
	kill -0 "$PID" 2>/dev/null || { echo "load.sh: the coordinator died:" >&2;
		tail -n 20 "$TMP/srv.server.log" >&2; exit 1; }
done

# CPU columns: percent of one core over the check-in phase; other_cpu% is
# everything else on the machine (it competes with the coordinator).
printf '\n%7s %5s %9s %11s %8s %8s %8s %8s %7s %8s %8s %8s %10s\n' agents conns enroll_s \
	check-ins/s p50_ms p90_ms p99_ms max_ms errors srv_MiB srv_cpu% gen_cpu% other_cpu%
for n in $AGENTS; do
	jq -r '[.agents, .connections, .enroll.seconds, .checkins_per_second,
		.latency_ms.p50, .latency_ms.p90, .latency_ms.p99, .latency_ms.max,
		.errors.total, ((.server.peak_rss_kb // 0) / 1024), (.server.cpu_percent // -1),
		.generator_cpu_percent,
		((.machine_cpu_percent // -1) - (.server.cpu_percent // 0) - .generator_cpu_percent)]
		| @tsv' "$TMP/run-$n.json" |
	awk -F'\t' '{ printf "%7d %5d %9.2f %11.0f %8.2f %8.2f %8.2f %8.2f %7d %8.1f %8.1f %8.1f %10.1f\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }'
done
echo
for n in $AGENTS; do
	jq -r --arg n "$n" 'if .errors.total == 0 and .aborted == false
		then (if .checkins_per_second >= 10000
			then "\($n) agents: \(.checkins_per_second | floor) check-ins/s, no errors: meets the 10,000/s target"
			else "\($n) agents: \(.checkins_per_second | floor) check-ins/s, no errors: BELOW the 10,000/s target" end)
		else "\($n) agents: \(.errors.total) errors \(.errors | del(.total) | to_entries | map(select(.value > 0)) | map("\(.key) \(.value)") | join(", "))\(if .aborted then "; aborted: \(.aborted_why)" else "" end)" end' \
		"$TMP/run-$n.json"
done
exit $status
