#!/bin/sh
# policies.sh - a whole-host compliance audit by Mamori next to OpenSCAP and
# Lynis, in one run: whole-process wall time and peak RSS of
#
#   mamori check lua-policies/                  (43 policies, this host)
#   oscap xccdf eval --profile standard          (SSG's standard profile)
#   oscap oval eval ssg-debianNN-oval.xml        (every OVAL definition SSG ships)
#   lynis audit system --quick
#
# Debian 12's ssg-debian ships content up to Debian 11 only; on a Debian 12
# host the XCCDF profile's rules are mostly "notapplicable" (the platform
# check fails), so the OVAL run, which evaluates every check regardless of
# platform, is the figure that measures OpenSCAP's real work.  Both are
# printed.  Ratios below 1: Mamori is faster / smaller.
#
#   sh bench/policies.sh [BUILD_DIR] [RUNS]
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/release}
N=${2:-5}
if [ ! -x "$B/mamori" ] || [ ! -x "$B/bench/timecmd" ]; then
	cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$B" -j2 >/dev/null
fi
for p in openscap-scanner ssg-debian lynis; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		echo "policies.sh: installing $p" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" \
			>/dev/null
	fi
done
T="$B/bench/timecmd"
SSG=/usr/share/xml/scap/ssg/content
DS=$(ls "$SSG"/ssg-debian*-ds.xml | sort -V | tail -1)
OVAL=$(ls "$SSG"/ssg-debian*-oval.xml | grep -v cpe | sort -V | tail -1)
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

nrules=$(oscap info --profile xccdf_org.ssgproject.content_profile_standard "$DS" 2>/dev/null |
	grep -c 'Rule' || true)
npol=$(ls lua-policies/*.lua | wc -l)
echo "whole process, median of $N runs (lynis: 1 run), $(hostname), $(nproc) cores"
echo "Mamori: $npol policies; OpenSCAP: $(basename "$DS"), standard profile; Lynis $(lynis --version 2>/dev/null)"
mm=$("$T" -a "$N" "$B/mamori" check --format json lua-policies/)
# mamori check exits 1 when a policy fails; timecmd still reports.
xc=$("$T" -a "$N" oscap xccdf eval --profile xccdf_org.ssgproject.content_profile_standard \
	--results "$TMPD/x.xml" "$DS")
ov=$("$T" -a "$N" oscap oval eval --results "$TMPD/o.xml" "$OVAL")
ly=$("$T" -a 1 lynis audit system --quick --no-colors --logfile "$TMPD/l.log" \
	--report-file "$TMPD/l.dat")
printf '%s\n' "mamori check|$mm" "oscap xccdf standard|$xc" "oscap oval (all checks)|$ov" \
	"lynis --quick|$ly" | awk -F'|' '
	{ split($2, v, " "); name[NR] = $1; ms[NR] = v[1]; kb[NR] = v[3] }
	END {
		printf "%-26s %10s %10s %12s %12s\n", "tool", "ms", "RSS KiB", "time ratio", "RSS ratio"
		for (i = 1; i <= NR; i++)
			printf "%-26s %10.1f %10d %12s %12s\n", name[i], ms[i], kb[i],
				i == 1 ? "" : sprintf("%.4f", ms[1] / ms[i]),
				i == 1 ? "" : sprintf("%.3f", kb[1] / kb[i])
	}'
