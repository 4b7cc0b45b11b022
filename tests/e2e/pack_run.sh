#!/bin/sh
# pack_run.sh - `mamori pack run` and `mamori pack check` on fixture hosts:
# exact rows of the test packs in tests/packs (YAML and osquery .conf) in
# every format, osquery snapshot lines, the discovery and platform "does not
# apply" paths, a query failing at run time, bad packs refused with exit 2
# and their message, and every shipped pack (packs/) validating and running.
. "$(dirname "$0")/lib.sh"
: "${SRCDIR:?}"
PACKS="$SRCDIR/tests/packs"
WEB="$FIXTURES/web01"
command -v jq >/dev/null 2>&1 || { echo "pack_run: jq is needed" >&2; exit 1; }

# ---- a small YAML pack on web01, every format ---------------------------
assert_status "small.yaml on web01" 0 "$MAMORI" pack run --root "$WEB" "$PACKS/small.yaml"
assert_eq "small.yaml table output" "-- pack/small/login_users (3 rows)
+------+----------+-----------+
| uid  | username | shell     |
+------+----------+-----------+
| 0    | root     | /bin/bash |
| 1000 | deploy   | /bin/bash |
| 1001 | alice    | /bin/zsh  |
+------+----------+-----------+
-- pack/small/os (1 row)
+------------------+-------+----------+
| name             | major | codename |
+------------------+-------+----------+
| Debian GNU/Linux | 12    | bookworm |
+------------------+-------+----------+
-- pack/small/darwin_only skipped: platform 'darwin'" "$(cat "$TMP/out")"
assert_eq "small.yaml no stderr" "" "$(cat "$TMP/err")"

assert_status "small.yaml csv" 0 "$MAMORI" pack run --root "$WEB" --format csv "$PACKS/small.yaml"
assert_eq "small.yaml csv output" "-- pack/small/login_users (3 rows)
uid,username,shell
0,root,/bin/bash
1000,deploy,/bin/bash
1001,alice,/bin/zsh
-- pack/small/os (1 row)
name,major,codename
Debian GNU/Linux,12,bookworm
-- pack/small/darwin_only skipped: platform 'darwin'" "$(cat "$TMP/out")"

assert_status "--query os json" 0 "$MAMORI" pack run --root "$WEB" --format json --query os \
	"$PACKS/small.yaml"
assert_eq "--query os json output" '-- pack/small/os (1 row)
[
  {"name":"Debian GNU/Linux","major":"12","codename":"bookworm"}
]' "$(cat "$TMP/out")"

# jsonl: one osquery snapshot event per query, values as strings, nothing else on stdout.
assert_status "small.yaml jsonl" 0 "$MAMORI" pack run --root "$WEB" --format jsonl "$PACKS/small.yaml"
assert_eq "jsonl lines" 2 "$(wc -l <"$TMP/out" | tr -d ' ')"
assert_eq "jsonl events" '{"name":"pack/small/login_users","hostIdentifier":"web01.example.com","epoch":0,"counter":0,"numerics":false,"decorations":{},"snapshot":[{"uid":"0","username":"root","shell":"/bin/bash"},{"uid":"1000","username":"deploy","shell":"/bin/bash"},{"uid":"1001","username":"alice","shell":"/bin/zsh"}],"action":"snapshot"}
{"name":"pack/small/os","hostIdentifier":"web01.example.com","epoch":0,"counter":0,"numerics":false,"decorations":{},"snapshot":[{"name":"Debian GNU/Linux","major":"12","codename":"bookworm"}],"action":"snapshot"}' \
	"$(jq -c 'del(.calendarTime, .unixTime)' "$TMP/out")"
assert_eq "jsonl key order" "name hostIdentifier calendarTime unixTime epoch counter numerics decorations snapshot action" \
	"$(head -n 1 "$TMP/out" | jq -r 'keys_unsorted | join(" ")')"
now=$(date +%s)
ut=$(head -n 1 "$TMP/out" | jq -r '.unixTime')
if [ "$ut" -le "$now" ] && [ "$ut" -ge $((now - 60)) ]; then pass; else
	fail "jsonl unixTime: expected about $now, got $ut"
fi
cal=$(head -n 1 "$TMP/out" | jq -r '.calendarTime')
assert_eq "jsonl calendarTime is unixTime" "$(date -u -d "@$ut" '+%a %b %e %H:%M:%S %Y UTC')" "$cal"
assert_eq "jsonl: notes on stderr" "-- pack/small/darwin_only skipped: platform 'darwin'" "$(cat "$TMP/err")"

# ---- an osquery .conf pack (comments, continuations) --------------------
assert_status "sshd.conf on web01" 0 "$MAMORI" pack run --root "$WEB" --format csv "$PACKS/sshd.conf"
assert_eq "sshd.conf output" "-- pack/sshd/auth_settings (3 rows)
keyword,value,is_default
MaxAuthTries,3,0
PasswordAuthentication,no,0
PermitRootLogin,no,0
-- pack/sshd/listeners (2 rows)
port,address
22,0.0.0.0
22,::" "$(cat "$TMP/out")"

# ---- discovery says no, platform says no: exit 0, nothing run ------------
assert_status "sshd.conf on mail01" 0 "$MAMORI" pack run --root "$FIXTURES/mail01" "$PACKS/sshd.conf"
assert_eq "discovery false" "-- pack sshd does not apply to this host: discovery[0] returned no rows" \
	"$(cat "$TMP/out")"
assert_status "sshd.conf on mail01 jsonl" 0 "$MAMORI" pack run --root "$FIXTURES/mail01" \
	--format jsonl "$PACKS/sshd.conf"
assert_eq "discovery false jsonl: stdout" "" "$(cat "$TMP/out")"
assert_eq "discovery false jsonl: stderr" \
	"-- pack sshd does not apply to this host: discovery[0] returned no rows" "$(cat "$TMP/err")"
assert_status "darwin.yaml" 0 "$MAMORI" pack run --root "$WEB" "$PACKS/darwin.yaml"
assert_eq "platform false" "-- pack darwin-only does not apply to this host: platform 'darwin'" \
	"$(cat "$TMP/out")"

# ---- a query failing at run time: reported, the others run, exit 1 -------
assert_status "runtime-fail.yaml" 1 "$MAMORI" pack run --root "$WEB" --format csv \
	"$PACKS/runtime-fail.yaml"
assert_eq "runtime-fail stdout" "-- pack/runtime-fail/first (1 row)
one
1
-- pack/runtime-fail/third (1 row)
three
3" "$(cat "$TMP/out")"
assert_eq "runtime-fail stderr" "mamori pack: pack/runtime-fail/overflow: integer overflow" \
	"$(cat "$TMP/err")"

# ---- bad packs and bad usage: exit 2 with the reason ---------------------
assert_status "unknown option" 2 "$MAMORI" pack run --root "$WEB" "$PACKS/bad/unknown-option.yaml"
assert_eq "unknown option message" "mamori pack: $PACKS/bad/unknown-option.yaml:7: queries.users.snapshop: unknown option (query, interval, snapshot, removed, description, platform, version, shard, value)" \
	"$(cat "$TMP/err")"
assert_eq "unknown option: nothing run" "" "$(cat "$TMP/out")"
assert_status "bad interval" 2 "$MAMORI" pack run --root "$WEB" "$PACKS/bad/bad-interval.conf"
assert_eq "bad interval message" \
	"mamori pack: $PACKS/bad/bad-interval.conf:8: queries.users.interval: not a number ('hourly')" \
	"$(cat "$TMP/err")"
assert_status "bad sql" 2 "$MAMORI" pack run --root "$WEB" "$PACKS/bad/bad-sql.yaml"
assert_eq "bad sql message" \
	"mamori pack: $PACKS/bad/bad-sql.yaml: pack bad-sql, query missing_table: no such table: startup_items" \
	"$(cat "$TMP/err")"
assert_eq "bad sql: nothing run" "" "$(cat "$TMP/out")"
assert_status "bad json" 2 "$MAMORI" pack run "$PACKS/bad/syntax.conf"
assert_eq "bad json message" \
	"mamori pack: $PACKS/bad/syntax.conf:4:3: string or '}' expected near '}'" "$(cat "$TMP/err")"
assert_status "missing file" 2 "$MAMORI" pack run "$TMP/nosuch.yaml"
assert_eq "missing file message" "mamori pack: $TMP/nosuch.yaml: no such file" "$(cat "$TMP/err")"
assert_status "unknown --query" 2 "$MAMORI" pack run --query nosuch "$PACKS/small.yaml"
assert_eq "unknown --query message" "mamori pack: pack small has no query 'nosuch'" "$(cat "$TMP/err")"
assert_status "no file" 2 "$MAMORI" pack run
assert_status "format line" 2 "$MAMORI" pack run --format line "$PACKS/small.yaml"
assert_status "two files" 2 "$MAMORI" pack run "$PACKS/small.yaml" "$PACKS/sshd.conf"
assert_status "unknown subcommand" 2 "$MAMORI" pack frobnicate
assert_status "pack --help" 0 "$MAMORI" pack --help
assert_contains "pack --help text" "mamori pack check" "$(cat "$TMP/out")"

# ---- pack check ------------------------------------------------------------
assert_status "check test packs" 0 "$MAMORI" pack check "$PACKS"
assert_eq "check test packs output" "$PACKS/darwin.yaml: ok (pack darwin-only, 1 query, 0 discovery)
$PACKS/runtime-fail.yaml: ok (pack runtime-fail, 3 queries, 0 discovery)
$PACKS/small.yaml: ok (pack small, 3 queries, 1 discovery)
$PACKS/sshd.conf: ok (pack sshd, 2 queries, 1 discovery)" "$(cat "$TMP/out")"
assert_status "check bad packs" 1 "$MAMORI" pack check "$PACKS/bad"
assert_eq "check bad packs: one line each" 4 "$(wc -l <"$TMP/err" | tr -d ' ')"
assert_status "check a bad and a good file" 1 "$MAMORI" pack check "$PACKS/small.yaml" \
	"$PACKS/bad/bad-sql.yaml"
assert_eq "check: good one still listed" "$PACKS/small.yaml: ok (pack small, 3 queries, 1 discovery)" \
	"$(cat "$TMP/out")"
cp "$PACKS/small.yaml" "$TMP/copy.yaml"
assert_status "check duplicate names" 1 "$MAMORI" pack check "$PACKS/small.yaml" "$TMP/copy.yaml"
assert_eq "check duplicate names message" \
	"mamori pack check: $TMP/copy.yaml: pack name 'small' is also used by $PACKS/small.yaml" \
	"$(cat "$TMP/err")"
assert_status "check no paths" 2 "$MAMORI" pack check
mkdir "$TMP/empty"
assert_status "check empty dir" 1 "$MAMORI" pack check "$TMP/empty"

# ---- the shipped packs: they validate, and run cleanly on fixture hosts ---
assert_status "check shipped packs" 0 "$MAMORI" pack check "$SRCDIR/packs"
assert_eq "shipped packs" "$SRCDIR/packs/incident-response.yaml
$SRCDIR/packs/inventory.yaml
$SRCDIR/packs/it-hygiene.yaml" "$(sed 's/: ok (.*//' "$TMP/out")"
for f in "$SRCDIR"/packs/*.yaml; do
	name=$(basename "$f" .yaml)
	want=$(grep -c '^    query:' "$f")
	for host in web01 legacy01 pol-cis-neglected desk-xrdp-open; do
		"$MAMORI" pack run --root "$FIXTURES/$host" --format jsonl "$f" >"$TMP/run.out" 2>"$TMP/run.err"
		assert_eq "$name on $host: exit" 0 "$?"
		if grep -q '^mamori pack' "$TMP/run.err"; then
			fail "$name on $host: $(grep '^mamori pack' "$TMP/run.err" | head -n 3)"
		else pass; fi
		assert_eq "$name on $host: one line per query" "$want" "$(wc -l <"$TMP/run.out" | tr -d ' ')"
		bad=$(jq -r "select(.action != \"snapshot\" or (.name | startswith(\"pack/$name/\") | not)) | .name" \
			"$TMP/run.out" 2>&1)
		assert_eq "$name on $host: snapshot lines" "" "$bad"
	done
done
# Findings the shipped packs must report on the fixture hosts.
"$MAMORI" pack run --root "$FIXTURES/desk-xrdp-open" --format csv --query remote_desktop_exposure \
	"$SRCDIR/packs/it-hygiene.yaml" >"$TMP/out" 2>/dev/null
assert_contains "it-hygiene: exposed xrdp" "xrdp,rdp,,1,\"0.0.0.0:3389,[::]:3389\",1,socket,1" \
	"$(cat "$TMP/out")"
"$MAMORI" pack run --root "$WEB" --format csv --query sudo_nopasswd \
	"$SRCDIR/packs/it-hygiene.yaml" >"$TMP/out" 2>/dev/null
assert_eq "it-hygiene: NOPASSWD rule" "-- pack/it-hygiene/sudo_nopasswd (1 row)
source,header,rule_details
/etc/sudoers.d/deploy,deploy,ALL=(root) NOPASSWD: WEB_SERVICE" "$(cat "$TMP/out")"
"$MAMORI" pack run --root "$FIXTURES/legacy01" --format csv --query processes_from_tmp \
	"$SRCDIR/packs/incident-response.yaml" >"$TMP/out" 2>/dev/null
assert_eq "incident-response: process from /tmp" "-- pack/incident-response/processes_from_tmp (1 row)
pid,parent,uid,name,path,cmdline,cwd
777,1,1002,evil) (x y,/tmp/.x/evil,./evil) (x y,/tmp/.x" "$(cat "$TMP/out")"

finish
