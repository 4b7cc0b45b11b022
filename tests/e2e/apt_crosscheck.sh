#!/bin/sh
# apt_crosscheck.sh - apt_upgradable against real apt, package for package:
#  1. on the mail01 fixture (apt pointed at the fixture root with -o Dir=...),
#  2. on this machine: `apt list --upgradable`, and the security updates
#     against the "-security" Inst lines of `apt-get -s dist-upgrade`
#     (dist-upgrade, unlike upgrade, keeps nothing back).
# Skips (passes with a note) where apt is not installed.
. "$(dirname "$0")/lib.sh"
if ! command -v apt >/dev/null 2>&1; then
	echo "apt not installed: nothing to compare"
	finish
fi

# apt's "name/archive version arch [upgradable from: old]" -> "name version"
apt_names() { grep 'upgradable from' | sed 's|/[^ ]* | |' | awk '{print $1, $2}' | sort; }

R="$FIXTURES/mail01"
apt list --upgradable -o Dir="$R" -o Dir::Cache="$TMP/cache" -o Dir::Log="$TMP" \
	-o Dir::State::status="$R/var/lib/dpkg/status" -o Debug::NoLocking=1 \
	-o APT::Architecture=amd64 2>/dev/null | apt_names >"$TMP/apt.fixture"
"$MAMORI" query --root "$R" --format csv \
	"SELECT name || ' ' || candidate_version FROM apt_upgradable" | tail -n +2 | sort >"$TMP/mm.fixture"
if [ -s "$TMP/apt.fixture" ] && cmp -s "$TMP/apt.fixture" "$TMP/mm.fixture"; then pass; else
	fail "mail01: apt_upgradable differs from apt: $(diff "$TMP/apt.fixture" "$TMP/mm.fixture" | head -20)"
fi

# This machine, when it has package lists at all.
if ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
	apt list --upgradable 2>/dev/null | apt_names >"$TMP/apt.live"
	"$MAMORI" query --format csv "SELECT name || ' ' || candidate_version FROM apt_upgradable" |
		tail -n +2 | sort >"$TMP/mm.live"
	if cmp -s "$TMP/apt.live" "$TMP/mm.live"; then pass; else
		fail "live: apt_upgradable differs from apt list --upgradable: $(diff "$TMP/apt.live" "$TMP/mm.live" | head -20)"
	fi
	apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>/dev/null |
		awk '/^Inst / && /\[/ && /-security/ {print $2}' | sort >"$TMP/apt.sec"
	"$MAMORI" query --format csv "SELECT name FROM apt_upgradable WHERE security = 1" |
		tail -n +2 | sort >"$TMP/mm.sec"
	if cmp -s "$TMP/apt.sec" "$TMP/mm.sec"; then pass; else
		fail "live: security updates differ from apt-get -s: $(diff "$TMP/apt.sec" "$TMP/mm.sec" | head -20)"
	fi
	n_apt=$(apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null | grep '^Inst' | grep -c -- '-security' || true)
	echo "live: $(wc -l <"$TMP/mm.live") pending, $(wc -l <"$TMP/mm.sec") security (apt-get -s upgrade shows $n_apt -security lines)"
	got=$("$MAMORI" query --format csv "SELECT pending_updates || ' ' || pending_security_updates FROM patch_status" | tail -1)
	assert_eq "patch_status counts" "$(wc -l <"$TMP/mm.live" | tr -d ' ') $(wc -l <"$TMP/mm.sec" | tr -d ' ')" "$got"
fi
finish
