#!/bin/sh
# tables.sh - whole-process time of `mamori query` next to the native tool
# that shows the same data, in one run, as ratios (< 1: Mamori is faster),
# plus Mamori's startup time and peak RSS.
#
#   sh bench/tables.sh [BUILD_DIR] [RUNS]
#
# BUILD_DIR defaults to build/release (made by scripts/demo.sh).
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/release}
N=${2:-30}
if [ ! -x "$B/mamori" ] || [ ! -x "$B/bench/timecmd" ]; then
	cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$B" -j2 >/dev/null
fi
M="$B/mamori"
T="$B/bench/timecmd"

row() { # label, mamori SQL, native command...
	label=$1; sql=$2; shift 2
	set -- "$@"
	mm=$("$T" "$N" "$M" query --format csv "$sql")
	nat=$("$T" "$N" "$@")
	echo "$label|$mm|$nat|$*" | awk -F'|' '{
		split($2, m, " "); split($3, n, " ");
		printf "%-16s mamori %7.2f ms %6d KiB | %-26s %7.2f ms %6d KiB | ratio %.2f\n",
			$1, m[1], m[3], substr($4, 1, 26), n[1], n[3], m[1] / n[1] }'
}

echo "median of $N runs each, whole process, on $(hostname) ($(nproc) cores)"
row processes "SELECT pid, parent, uid, name, state, cmdline FROM processes" \
	ps -eo pid,ppid,uid,comm,state,args
row listening_ports "SELECT port, protocol, family, address FROM listening_ports" \
	ss -tuln
row listening+pids "SELECT pid, port, protocol, family, address FROM listening_ports" \
	ss -tulpn
row deb_packages "SELECT name, version, arch FROM deb_packages" \
	dpkg-query -W
if command -v apt >/dev/null 2>&1; then
	A=$(( N < 10 ? N : 10 ))
	mm=$("$T" "$A" "$M" query --format csv "SELECT name, candidate_version FROM apt_upgradable")
	ap=$("$T" "$A" apt list --upgradable)
	echo "$mm|$ap|$("$M" query --format csv 'SELECT count(*) FROM apt_upgradable' | tail -1)" | awk -F'|' '{
		split($1, m, " "); split($2, a, " ");
		printf "apt_upgradable   mamori %7.2f ms %6d KiB | apt list --upgradable      %7.2f ms %6d KiB | ratio %.2f (%s packages; target <= 0.20)\n",
			m[1], m[3], a[1], a[3], m[1] / a[1], $3 }'
fi
set -- $("$T" "$N" "$M" query "SELECT 1")
printf "startup          mamori query 'SELECT 1': %.2f ms, peak RSS %d KiB\n" "$1" "$3"
set -- $("$T" "$N" "$M" query "SELECT * FROM processes")
printf "peak RSS         mamori query 'SELECT * FROM processes': %d KiB (%.1f MiB; target < 10 MiB)\n" \
	"$3" "$(echo "$3" | awk '{print $1/1024}')"
