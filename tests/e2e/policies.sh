#!/bin/sh
# policies.sh - the shipped baseline (lua-policies/*.lua) against the
# fixture hosts, as listed in tests/policies/expect.txt (format in its
# header): each line's verdict and reason, every policy covered by at least
# one pass and one fail line, and the whole directory loading as one set.
. "$(dirname "$0")/lib.sh"
: "${SRCDIR:?}"
EXPECT="$SRCDIR/tests/policies/expect.txt"
POL="$SRCDIR/lua-policies"

# jget JSON KEY: one field of a JSON object, through SQLite's json_extract.
jget() {
	esc=$(printf '%s' "$1" | sed "s/'/''/g")
	"$MAMORI" query --format pipe "SELECT json_extract('$esc', '\$.$2')" </dev/null
}

n=0
while IFS= read -r line || [ -n "$line" ]; do
	n=$((n + 1))
	case "$line" in '' | '#'*) continue ;; esac
	# shellcheck disable=SC2086 # split the line into fields on purpose
	set -f
	set -- $line
	set +f
	if [ $# -lt 3 ]; then
		fail "expect.txt:$n: need <policy-id> <fixture-host> <verdict> [reason]: [$line]"
		continue
	fi
	id=$1 host=$2 want=$3
	reason=$(printf '%s\n' "$line" | sed -E 's/^[[:space:]]*[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]*//')
	case "$want" in pass | fail | not_applicable | error) ;; *)
		fail "expect.txt:$n: verdict must be pass, fail, not_applicable or error, got [$want]"
		continue ;;
	esac
	if [ ! -f "$POL/$id.lua" ]; then
		fail "expect.txt:$n: no policy lua-policies/$id.lua"
		continue
	fi
	if [ ! -d "$FIXTURES/$host" ]; then
		fail "expect.txt:$n: no fixture host tests/fixtures/$host"
		continue
	fi
	out=$("$MAMORI" check --root "$FIXTURES/$host" --format jsonl "$POL/$id.lua" 2>"$TMP/err" </dev/null)
	rc=$?
	if [ "$rc" = 2 ]; then
		fail "$id on $host (expect.txt:$n): does not load: $(cat "$TMP/err")"
		continue
	fi
	got=$(jget "$out" verdict)
	got_reason=$(jget "$out" reason)
	ok=1
	[ "$got" = "$want" ] || ok=0
	case "$got_reason" in *"$reason"*) ;; *) ok=0 ;; esac
	case "$want:$rc" in pass:0 | not_applicable:0 | fail:1 | error:1) ;; *) ok=0 ;; esac
	if [ "$ok" = 1 ]; then pass; else
		fail "$id on $host (expect.txt:$n): expected $want, reason containing [$reason]; got $got (exit $rc), reason [$got_reason]"
	fi
done <"$EXPECT"

# Coverage: every policy has a pass line and a fail line.
count=0
for f in "$POL"/*.lua; do
	[ -f "$f" ] || continue
	count=$((count + 1))
	id=$(basename "$f" .lua)
	for v in pass fail; do
		# A "#   ID (e2e) VERDICT ..." comment line names a case that needs
		# modes, owners or times git cannot keep: policies_perms.sh and
		# policies_tmproot.sh assert those on a tree they build in $TMP.
		if grep -Eq "^[[:space:]]*$id[[:space:]]+[^[:space:]]+[[:space:]]+$v([[:space:]]|\$)" "$EXPECT" ||
			grep -Eq "^#[[:space:]]+$id[[:space:]]+\(e2e\)[[:space:]]+$v([[:space:]]|\$)" "$EXPECT"; then
			pass
		else
			fail "lua-policies/$id.lua has no '$v' line in tests/policies/expect.txt"
		fi
	done
done

# The directory loads as one set: no load errors, no duplicate ids.
if [ "$count" -gt 0 ]; then
	"$MAMORI" check --root "$FIXTURES/web01" --format jsonl "$POL" >"$TMP/all" 2>"$TMP/err" </dev/null
	rc=$?
	if [ "$rc" = 2 ]; then fail "lua-policies/ does not load: $(cat "$TMP/err")"; else pass; fi
	assert_eq "one verdict per policy" "$count" "$(wc -l <"$TMP/all" | tr -d ' ')"
else
	echo "policies: no lua-policies/*.lua yet"
fi
finish
