#!/bin/sh
# live_deb_packages.sh - deb_packages on this machine agrees with dpkg
# itself: the sorted name/arch/version lists of the packages dpkg-query
# reports in state "installed" (second letter of db:Status-Abbrev 'i') and
# the rows of deb_packages whose status ends in " installed" are the same,
# package for package.  Skipped (passes) where there is no dpkg-query.
. "$(dirname "$0")/lib.sh"

if ! command -v dpkg-query >/dev/null 2>&1 || [ ! -r /var/lib/dpkg/status ]; then
	echo "$TEST_NAME: no dpkg on this host, skipped"
	finish
fi

dpkg-query -W -f '${Package}\t${Architecture}\t${Version}\t${db:Status-Abbrev}\n' |
	awk -F '\t' 'substr($4, 2, 1) == "i" { print $1 "\t" $2 "\t" $3 }' |
	LC_ALL=C sort >"$TMP/dpkg"
q "SELECT name, arch, version FROM deb_packages WHERE status LIKE '% installed'" \
	>"$TMP/raw" 2>"$TMP/err"
assert_eq "mamori exit status" 0 $?
tr '|' '\t' <"$TMP/raw" | LC_ALL=C sort >"$TMP/mamori"

n=$(wc -l <"$TMP/dpkg")
if [ "$n" -eq 0 ]; then
	fail "dpkg-query listed no installed package"
fi
if cmp -s "$TMP/dpkg" "$TMP/mamori"; then
	pass
else
	fail "deb_packages differs from dpkg-query ('<' only dpkg-query, '>' only mamori):
$(diff "$TMP/dpkg" "$TMP/mamori" | grep '^[<>]' | head -50)"
fi
# The live database is well formed: no warnings expected.
assert_eq "warnings on the live host" "" "$(grep -i 'deb_packages' "$TMP/err" | head -5)"

# Push-down: one package by name gives that package alone.
first=$(head -1 "$TMP/dpkg" | cut -f1)
got=$(q "SELECT DISTINCT name FROM deb_packages WHERE name = '$first'")
assert_eq "name = '$first'" "$first" "$got"
echo "$TEST_NAME: compared $n installed packages"
finish
