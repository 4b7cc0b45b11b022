#!/bin/sh
# policy_sandbox.sh - `mamori check` and the Lua policy sandbox: what a
# policy cannot reach (io, os, require, dofile, bytecode, finalizers), the
# limits that stop it (instruction budget, memory cap, time limit, also when
# it tries to pcall its way past them), how its errors and garbage become
# `error` verdicts, metadata validation (exit 2 naming file, line and
# field), query() binding without SQL injection, YAML (Fleet) policies,
# sorting, formats and exit codes.
. "$(dirname "$0")/lib.sh"
W="$FIXTURES/web01"
L="$FIXTURES/legacy01"
SAMPLE="$SRCDIR/tests/policies/sample"
P="$TMP/p"
mkdir -p "$P"

# jget JSON KEY: one field of a JSON object (through SQLite's json_extract,
# so the test needs nothing but mamori).  JSON null prints as NULL.
jget() {
	esc=$(printf '%s' "$1" | sed "s/'/''/g")
	"$MAMORI" query --format pipe "SELECT json_extract('$esc', '\$.$2')"
}

# policy ID [SEVERITY] < BODY: writes $P/ID.lua whose check() is BODY.
policy() {
	{
		printf 'return {\n  id = "%s",\n  title = "Test %s",\n  severity = "%s",\n' \
			"$1" "$1" "${2:-low}"
		printf '  check = function()\n'
		cat
		printf '\n  end,\n}\n'
	} >"$P/$1.lua"
}

# verdict ID VERDICT REASON_SUBSTRING [ROOT]: checks one policy.
verdict() {
	out=$("$MAMORI" check --root "${4:-$W}" --format jsonl "$P/$1.lua" 2>"$TMP/err")
	assert_eq "$1: verdict" "$2" "$(jget "$out" verdict)"
	assert_contains "$1: reason" "$3" "$(jget "$out" reason)"
}

# ---- what the sandbox leaves out -------------------------------------------
for lib in io os require dofile loadfile package debug coroutine; do
	echo "local x = $lib; return pass('reached $lib')" | policy "no-$lib"
	verdict "no-$lib" error "'$lib' is not available in the policy sandbox"
done
echo 'return io.open("/etc/passwd")' | policy no-io-open
verdict no-io-open error "no-io-open.lua:6: 'io' is not available"
echo 'return pass(tostring(rawget(_G, "os")) .. " " .. tostring(string.dump))' | policy rawget-os
verdict rawget-os pass "nil nil"
printf '%s\n' 'local f = assert(load("\27LuaT\0", "x", "b")); return pass("loaded")' | policy load-binary
verdict load-binary error 'only text chunks (mode "t") may be loaded'
printf '%s\n' 'local f = assert(load("\27LuaT\0\25\147\13\10\26\10")); return pass("loaded")' |
	policy load-bytecode
verdict load-bytecode error "attempt to load a binary chunk"
echo 'local f = load("return 1 + ..."); return pass("text load: " .. f(41))' | policy load-text
verdict load-text pass "text load: 42"
echo 'collectgarbage("stop"); return pass("stopped")' | policy gc-stop
verdict gc-stop error 'collectgarbage: only "count" is allowed'
echo 'return pass("kb " .. tostring(collectgarbage("count") > 0))' | policy gc-count
verdict gc-count pass "kb true"
echo 'setmetatable({}, {__gc = function() while true do end end}); return pass("set")' | policy gc-finalizer
verdict gc-finalizer error "__gc finalizers are not allowed"
echo 'print("to stderr"); return pass("printed")' | policy print
out=$("$MAMORI" check --format jsonl "$P/print.lua" 2>"$TMP/err")
assert_eq "print: stdout keeps one verdict line" 1 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')"
assert_contains "print: goes to stderr" "policy: to stderr" "$(cat "$TMP/err")"

# ---- limits ------------------------------------------------------------------
echo 'while true do end' | policy loop
verdict loop error "instruction budget exhausted (50000000 instructions)"
echo 'while true do pcall(function() while true do end end) end' | policy loop-pcall
verdict loop-pcall error "instruction budget exhausted"
echo 'while true do xpcall(function() while true do end end, function(m) return m end) end' |
	policy loop-xpcall
verdict loop-xpcall error "instruction budget exhausted"
echo 'local t = {}; for i = 1, 1e9 do t[i] = string.rep("x", 64) .. i end' | policy memory-bomb
verdict memory-bomb error "memory limit of 32 MiB exceeded"
echo 'local s = string.rep("x", 1e9); return pass("got " .. #s)' | policy memory-rep
verdict memory-rep error "memory limit of 32 MiB exceeded"
echo 'while true do pcall(string.rep, "x", 1e9) end' | policy memory-pcall
verdict memory-pcall error "memory limit of 32 MiB exceeded"
# A string.rep under the cap is fine: the cap is per policy, not per call.
echo 'return pass("len " .. #string.rep("x", 8 * 1024 * 1024))' | policy memory-ok
verdict memory-ok pass "len 8388608"
echo 'local n = 0; while true do n = n + 1 end' | policy slow
out=$("$MAMORI" check --time-limit 50ms --format jsonl "$P/slow.lua")
assert_eq "time limit: verdict" error "$(jget "$out" verdict)"
assert_contains "time limit: reason" "time limit of 50 ms reached" "$(jget "$out" reason)"
# One runaway policy does not stop the next one.
policy fine <<'EOF'
return pass("after the loop")
EOF
"$MAMORI" check --format jsonl "$P/loop.lua" "$P/fine.lua" >"$TMP/two"
assert_eq "runaway then fine" "fine pass
loop error" "$(while read -r l; do echo "$(jget "$l" id) $(jget "$l" verdict)"; done <"$TMP/two")"

# ---- errors and garbage -------------------------------------------------------
echo 'error("sshd_config is unreadable")' | policy raises
verdict raises error "raises.lua:6: sshd_config is unreadable"
echo 'error({code = 1})' | policy raises-table
verdict raises-table error "error object is a table value"
echo 'return 42' | policy garbage
verdict garbage error "check() returned number, not a verdict"
echo 'return {verdict = "maybe"}' | policy garbage-table
verdict garbage-table error "not a verdict"
echo 'return {verdict = "pass", reason = {}}' | policy garbage-reason
verdict garbage-reason error "reason is table, not a string"
echo 'return fail("x", "not rows")' | policy garbage-rows
verdict garbage-rows error "bad argument #2 to 'fail'"
echo 'return' | policy returns-nothing
verdict returns-nothing error "check() returned nil"
echo 'return {verdict = "pass", reason = "hand-made"}' | policy handmade
verdict handmade pass "hand-made"
echo 'return not_applicable("no such service")' | policy na
verdict na not_applicable "no such service"

# ---- query() -----------------------------------------------------------------
# The parameter holds quotes and SQL: bound, it is only ever a value.
policy bind <<'EOF'
local evil = "x' OR '1'='1"
local r = query("SELECT ? AS echo, (SELECT count(*) FROM users WHERE username = ?) AS n", evil, evil)
local n2 = query("SELECT count(*) AS n FROM users WHERE username = ?", "root")[1].n
return fail("echo=" .. r[1].echo .. " n=" .. r[1].n .. " root=" .. n2, r)
EOF
out=$("$MAMORI" check --root "$W" --format jsonl "$P/bind.lua")
assert_eq "bind: reason" "echo=x' OR '1'='1 n=0 root=1" "$(jget "$out" reason)"
assert_eq "bind: rows" "[{\"echo\":\"x' OR '1'='1\",\"n\":0}]" "$(jget "$out" rows)"
policy types <<'EOF'
local r = query("SELECT NULL AS a, 7 AS b, 2.5 AS c, 'txt' AS d, ? AS e, ? AS f, ? AS g", true, 1.5, nil)[1]
return pass(table.concat({tostring(r.a), math.type(r.b), math.type(r.c), r.d,
                          tostring(r.e), tostring(r.f), tostring(r.g)}, " "))
EOF
verdict types pass "nil integer float txt 1 1.5 nil"
echo 'return pass(#query("SELECT 1 WHERE ?", false) .. " rows")' | policy no-rows
verdict no-rows pass "0 rows"
echo 'query("SELECT ?, ?", 1)' | policy bind-count
verdict bind-count error "query: the SQL has 2 placeholder(s) but 1 value(s) were given"
echo 'query("SELECT ?", {})' | policy bind-table
verdict bind-table error "value 1 is a table"
echo 'query("SELEC 1")' | policy bad-sql
verdict bad-sql error 'bad-sql.lua:6: query: near "SELEC": syntax error'
echo 'query("SELECT * FROM no_such_table")' | policy no-table
verdict no-table error "no such table: no_such_table"
echo 'query("CREATE TABLE t(a)")' | policy write
verdict write error "query: not allowed"
echo 'query("SELECT 1; SELECT 2")' | policy two-statements
verdict two-statements error "query: one statement per call"
# Errors in query() can be caught like any Lua error.
echo 'local ok, e = pcall(query, "SELEC 1"); return pass(tostring(ok) .. ": " .. e)' | policy catch
verdict catch pass "false: query: near"

# ---- the sample policies, pass and fail on the fixture hosts -----------------
out=$("$MAMORI" check --root "$W" --format jsonl "$SAMPLE/sample-ssh-root-login.lua")
assert_eq "sample on web01" "pass" "$(jget "$out" verdict)"
assert_eq "sample references" '["CIS Debian Linux 12 Benchmark v1.1.0 5.1.20"]' "$(jget "$out" references)"
assert_contains "sample remediation" "PermitRootLogin no" "$(jget "$out" remediation)"
out=$("$MAMORI" check --root "$L" --format jsonl "$SAMPLE/sample-ssh-root-login.lua" 2>/dev/null)
assert_eq "sample on legacy01" "fail PermitRootLogin is yes" "$(jget "$out" verdict) $(jget "$out" reason)"
assert_eq "sample rows" '[{"value":"yes"}]' "$(jget "$out" rows)"

# ---- YAML (Fleet) ------------------------------------------------------------
"$MAMORI" check --root "$W" --format jsonl "$SAMPLE/sample-fleet.yml" >"$TMP/y" 2>/dev/null
assert_eq "fleet on web01" "sample-ssh-root-login-disabled critical pass
sample-macos-only medium not_applicable" \
	"$(while read -r l; do echo "$(jget "$l" id) $(jget "$l" severity) $(jget "$l" verdict)"; done <"$TMP/y")"
assert_status "fleet on web01 exits 0" 0 "$MAMORI" check --root "$W" "$SAMPLE/sample-fleet.yml"
"$MAMORI" check --root "$L" --format jsonl "$SAMPLE/sample-fleet.yml" >"$TMP/y" 2>/dev/null
assert_eq "fleet on legacy01" "fail the query returned no rows" \
	"$(l=$(head -1 "$TMP/y"); echo "$(jget "$l" verdict) $(jget "$l" reason)")"
assert_status "fleet on legacy01 exits 1" 1 "$MAMORI" check --root "$L" "$SAMPLE/sample-fleet.yml"
cat >"$P/list.yaml" <<'EOF'
policies:
  - name: Hosts file present
    query: SELECT 1 FROM etc_hosts LIMIT 1
    resolution: Restore /etc/hosts.
  - name: Bad query
    query: SELECT FROM
EOF
"$MAMORI" check --root "$W" --format jsonl "$P/list.yaml" >"$TMP/y"
assert_eq "policies: list" "bad-query error
hosts-file-present pass" \
	"$(while read -r l; do echo "$(jget "$l" id) $(jget "$l" verdict)"; done <"$TMP/y")"
printf 'name: broken\nquery: [SELECT 1\n' >"$P/broken.yml"
assert_status "bad YAML exits 2" 2 "$MAMORI" check "$P/broken.yml"
assert_contains "bad YAML names file and line" "$P/broken.yml:3:" "$(cat "$TMP/err")"
printf 'name: no query here\n' >"$P/noquery.yml"
assert_status "YAML without query exits 2" 2 "$MAMORI" check "$P/noquery.yml"
assert_contains "YAML without query" "noquery.yml:1: policy 'no query here' has no query" "$(cat "$TMP/err")"
rm -f "$P/list.yaml" "$P/broken.yml" "$P/noquery.yml"

# ---- metadata and load errors: exit 2, file, line, field ----------------------
M="$TMP/meta"
mkdir -p "$M"
# meta NAME CONTENT EXPECTED_MESSAGE
meta() {
	printf '%s\n' "$2" >"$M/$1.lua"
	assert_status "$1 exits 2" 2 "$MAMORI" check "$M/$1.lua"
	assert_contains "$1 message" "$3" "$(cat "$TMP/err")"
	rm -f "$M/$1.lua"
}
meta no-sev 'return {
  id = "no-sev",
  title = "x",
  check = function() return pass() end,
}' "$M/no-sev.lua: field 'severity' is missing"
meta bad-sev 'return {
  id = "bad-sev",
  title = "x",
  severity = "urgent",
  check = function() return pass() end,
}' "$M/bad-sev.lua:4: field 'severity' is 'urgent'; it must be one of critical, high, medium, low, info"
meta no-check 'return { id = "no-check", title = "x", severity = "low" }' \
	"$M/no-check.lua: field 'check' is missing"
meta no-title 'return { id = "no-title", severity = "low", check = function() end }' \
	"field 'title' is missing"
meta wrong-id 'return {
  id = "something-else",
  title = "x", severity = "low", check = function() end }' \
	"$M/wrong-id.lua:2: field 'id' is 'something-else' but the file is named wrong-id.lua"
meta typo 'return {
  id = "typo", title = "x", severity = "low", check = function() end,
  remediaton = "fix it",
}' "$M/typo.lua:3: unknown field 'remediaton'"
meta bad-refs 'return { id = "bad-refs", title = "x", severity = "low", check = function() end,
  references = { "CIS 1.1", 2 } }' "field 'references' must be a list of strings (item 2 is number)"
meta bad-platform 'return { id = "bad-platform", title = "x", severity = "low", check = function() end,
  platform = "windows" }' "field 'platform' is 'windows'"
meta bad-interval 'return { id = "bad-interval", title = "x", severity = "low", check = function() end,
  interval = "hourly" }' "field 'interval' must be an integer (got string)"
meta syntax 'return {
  id = "syntax",
  title = "x"
  severity = "low",
}' "$M/syntax.lua:4: '}' expected (to close '{' at line 1) near 'severity'"
meta not-a-table 'return "policy"' "$M/not-a-table.lua: the file must return the policy table"
meta top-error 'local cfg = nil
return cfg.x' "$M/top-error.lua:2: attempt to index a nil value"
meta top-query 'local r = query("SELECT 1")
return {}' "query: only available while check() runs"
meta top-loop 'while true do end' "while loading: instruction budget exhausted"
printf '\033LuaT\000\031\223\r\n\032\n' >"$M/bytecode.lua"
assert_status "bytecode file exits 2" 2 "$MAMORI" check "$M/bytecode.lua"
assert_contains "bytecode file refused" "attempt to load a binary chunk" "$(cat "$TMP/err")"
rm -f "$M/bytecode.lua"
# Every load error is reported, and nothing runs.
printf 'return {}\n' >"$M/a.lua"
printf 'return 1\n' >"$M/b.lua"
assert_status "two bad files exit 2" 2 "$MAMORI" check "$M" "$P/fine.lua"
assert_eq "both reported, no verdicts" "2 0" \
	"$(grep -c 'mamori check:' "$TMP/err") $(wc -c <"$TMP/out" | tr -d ' ')"

# ---- usage, exit codes, directories, sorting, formats -------------------------
assert_status "no path exits 2" 2 "$MAMORI" check
assert_status "csv refused" 2 "$MAMORI" check --format csv "$P/fine.lua"
assert_status "unknown option exits 2" 2 "$MAMORI" check --frob "$P/fine.lua"
assert_status "missing file exits 2" 2 "$MAMORI" check "$P/nope.lua"
assert_contains "missing file message" "nope.lua: no such file" "$(cat "$TMP/err")"
assert_status "not a policy file exits 2" 2 "$MAMORI" check "$SRCDIR/README.md"
mkdir -p "$TMP/empty"
assert_status "empty directory exits 2" 2 "$MAMORI" check "$TMP/empty"
assert_contains "empty directory message" "no policy files" "$(cat "$TMP/err")"
assert_status "pass exits 0" 0 "$MAMORI" check "$P/fine.lua"
assert_status "not_applicable counts as pass" 0 "$MAMORI" check "$P/fine.lua" "$P/na.lua"
assert_status "a fail exits 1" 1 "$MAMORI" check "$P/fine.lua" "$P/bind.lua"
assert_status "an error exits 1" 1 "$MAMORI" check "$P/fine.lua" "$P/raises.lua"
cp "$P/fine.lua" "$M/fine.lua"
assert_status "duplicate id exits 2" 2 "$MAMORI" check "$P/fine.lua" "$M/fine.lua"
assert_contains "duplicate id message" "duplicate policy id 'fine'" "$(cat "$TMP/err")"
rm -rf "$M"

S="$TMP/sorted"
mkdir -p "$S"
for x in "b-low low" "a-info info" "c-crit critical" "a-high high" "b-high high"; do
	set -- $x
	echo "return pass('ok $1')" | policy "$1" "$2"
	mv "$P/$1.lua" "$S/"
done
echo "not a policy" >"$S/README.txt"
"$MAMORI" check --format jsonl "$S" >"$TMP/s"
assert_eq "sorted by severity then id" "c-crit a-high b-high b-low a-info" \
	"$(while read -r l; do printf '%s ' "$(jget "$l" id)"; done <"$TMP/s" | sed 's/ $//')"
got=$("$MAMORI" check "$S/a-high.lua" "$P/na.lua" "$P/raises.lua")
assert_eq "table format" '+--------+----------+----------------+-------------+-----------------------------------------+
| id     | severity | verdict        | title       | reason                                  |
+--------+----------+----------------+-------------+-----------------------------------------+
| a-high | high     | pass           | Test a-high | ok a-high                               |
| na     | low      | not_applicable | Test na     | no such service                         |
| raises | low      | error          | Test raises | raises.lua:6: sshd_config is unreadable |
+--------+----------+----------------+-------------+-----------------------------------------+
3 policies: 1 pass, 0 fail, 1 error, 1 not applicable' "$got"
got=$("$MAMORI" check --format json "$S/a-high.lua" "$S/a-info.lua" | sed 's/"duration_ms":[0-9.e-]*/"duration_ms":T/')
assert_eq "json format" '[
  {"id":"a-high","title":"Test a-high","severity":"high","verdict":"pass","reason":"ok a-high","rows":null,"references":[],"remediation":null,"path":"'"$S"'/a-high.lua","duration_ms":T},
  {"id":"a-info","title":"Test a-info","severity":"info","verdict":"pass","reason":"ok a-info","rows":null,"references":[],"remediation":null,"path":"'"$S"'/a-info.lua","duration_ms":T}
]' "$got"
finish
