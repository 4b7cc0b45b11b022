# lib.sh - shared helpers for the end-to-end scripts in tests/e2e.
# Sourced by each script; ctest sets MAMORI (the agent binary), FIXTURES
# (tests/fixtures), SRCDIR (the source tree) and BUILDDIR.
set -u
: "${MAMORI:?MAMORI must point at the mamori binary}"
: "${FIXTURES:?}"
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mamori-$TEST_NAME.XXXXXX")
FAILS=0
PASSES=0
cleanup_hooks=""
on_exit() { for h in $cleanup_hooks; do $h || true; done; rm -rf "$TMP"; }
trap on_exit EXIT
add_cleanup() { cleanup_hooks="$cleanup_hooks $1"; }

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { PASSES=$((PASSES + 1)); }

# assert_eq WHAT EXPECTED GOT
assert_eq() {
	if [ "$2" = "$3" ]; then pass; else
		fail "$1: expected [$2], got [$3]"
	fi
}
# assert_contains WHAT NEEDLE HAYSTACK
assert_contains() {
	case "$3" in *"$2"*) pass ;; *) fail "$1: expected to contain [$2], got [$3]" ;; esac
}
# assert_status WHAT EXPECTED_CODE CMD...
assert_status() {
	what=$1; want=$2; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"; got=$?
	if [ "$got" = "$want" ]; then pass; else
		fail "$what: expected exit $want, got $got (stderr: $(head -c 500 "$TMP/err"))"
	fi
}
# q SQL: run a query on the live host in pipe format
q() { "$MAMORI" query --format pipe "$@"; }

finish() {
	echo "$TEST_NAME: $PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
	exit $?
}
