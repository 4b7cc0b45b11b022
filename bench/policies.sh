#!/bin/sh
# policies.sh - a whole-host compliance audit by Mamori next to OpenSCAP and
# Lynis, in one run: whole-process wall time and peak RSS of
#
#   mamori check lua-policies/                  (43 policies, this host)
#   oscap xccdf eval --profile standard          (SSG's standard profile)
#   oscap oval eval ssg-debianNN-oval.xml        (every OVAL definition SSG ships)
#   lynis audit system --quick
#
# Debian 12's ssg-debian ships content up to Debian 11 only.  Run as is on a
# Debian 12 host, every rule of the profile is "notapplicable" (its platform
# check reads /etc/debian_version for 11.x) and OpenSCAP checks nothing.  So
# the script runs the profile from a copy of the data stream whose Debian 11
# platform test also accepts 12.x: the standard profile then evaluates its
# rules for real (18 of 44 here; the rest need packages this host lacks).
# The OVAL run evaluates every definition SSG ships, whatever the profile.
# Ratios below 1: Mamori is faster / smaller.
#
#   sh bench/policies.sh [BUILD_DIR] [RUNS]
#   QUICK=1 sh bench/policies.sh ...   (skips the OVAL run and Lynis: minutes)
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
DS0=$(ls "$SSG"/ssg-debian*-ds.xml | grep -v -- -1.2 | sort -V | tail -1)
OVAL=$(ls "$SSG"/ssg-debian*-oval.xml | grep -v cpe | sort -V | tail -1)
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
DS="$TMPD/ds.xml"
sed 's/\^11\.\[0-9\]+\$/^1[12].[0-9]+$/g' "$DS0" >"$DS"

nrules=$(oscap info --profile xccdf_org.ssgproject.content_profile_standard "$DS" 2>/dev/null |
	grep -c 'Rule' || true)
npol=$(ls lua-policies/*.lua | wc -l)
echo "whole process, median of $N runs (OVAL and Lynis: 1 run), $(hostname), $(nproc) cores"
echo "Mamori: $npol policies; OpenSCAP: $(basename "$DS0") (Debian 12 accepted), standard profile; Lynis $(lynis --version 2>/dev/null)"
mm=$("$T" -a "$N" "$B/mamori" check --format json lua-policies/)
# mamori check exits 1 when a policy fails; timecmd still reports.
xc=$("$T" -a "$N" oscap xccdf eval --profile xccdf_org.ssgproject.content_profile_standard \
	--results "$TMPD/x.xml" "$DS")
results=$(grep -o '<result>[a-z]*</result>' "$TMPD/x.xml" | sed 's/<[^>]*>//g' | sort | uniq -c |
	awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
echo "OpenSCAP rule results: $results"
ov="0 0 0"
ly="0 0 0"
if [ -z "${QUICK:-}" ]; then
	ov=$("$T" -a 1 oscap oval eval --results "$TMPD/o.xml" "$OVAL")
	ly=$("$T" -a 1 lynis audit system --quick --no-colors --logfile "$TMPD/l.log" \
		--report-file "$TMPD/l.dat")
fi
printf '%s\n' "mamori check|$mm" "oscap xccdf standard|$xc" "oscap oval (all checks)|$ov" \
	"lynis --quick|$ly" | awk -F'|' '
	{ split($2, v, " "); name[NR] = $1; ms[NR] = v[1]; kb[NR] = v[3] }
	END {
		printf "%-26s %10s %10s %12s %12s\n", "tool", "ms", "RSS KiB", "time ratio", "RSS ratio"
		for (i = 1; i <= NR; i++)
			if (ms[i] > 0)
				printf "%-26s %10.1f %10d %12s %12s\n", name[i], ms[i], kb[i],
					i == 1 ? "" : sprintf("%.4f", ms[1] / ms[i]),
					i == 1 ? "" : sprintf("%.3f", kb[1] / kb[i])
	}'
