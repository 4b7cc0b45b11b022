#!/bin/sh
# cli.sh - the `mamori` command line: formats, exit codes, shell dot
# commands and multi-line statements, tables/schema, and that
# docs/tables.md is what `mamori docs` generates.
. "$(dirname "$0")/lib.sh"
W="$FIXTURES/web01"
Q="SELECT path, size FROM file WHERE path IN ('/srv/www/html/index.html', '/srv/www/html/assets/app.js') ORDER BY path"

# JSON as osqueryi --json prints it: an array of objects, values as strings.
got=$("$MAMORI" query --root "$W" --format json "$Q")
assert_eq "json" '[
  {"path":"/srv/www/html/assets/app.js","size":"22"},
  {"path":"/srv/www/html/index.html","size":"54"}
]' "$got"
got=$("$MAMORI" query --root "$W" --format json "SELECT 1 WHERE 0")
assert_eq "json, no rows" '[
]' "$got"
got=$("$MAMORI" query --root "$W" --format jsonl "$Q")
assert_eq "jsonl" '{"path":"/srv/www/html/assets/app.js","size":"22"}
{"path":"/srv/www/html/index.html","size":"54"}' "$got"
got=$("$MAMORI" query --format csv "SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z")
assert_eq "csv quoting" 'x,y,z
"a,b","say ""hi""",' "$got"
got=$("$MAMORI" query --root "$W" --format line "$Q LIMIT 1")
assert_eq "line" 'path = /srv/www/html/assets/app.js
size = 22' "$got"
got=$("$MAMORI" query --root "$W" "$Q")
assert_eq "table" '+-----------------------------+------+
| path                        | size |
+-----------------------------+------+
| /srv/www/html/assets/app.js | 22   |
| /srv/www/html/index.html    | 54   |
+-----------------------------+------+' "$got"

# Exit codes and messages: bad SQL 1 with SQLite's message, usage 2.
assert_status "bad SQL exits 1" 1 "$MAMORI" query "SELEC 1"
assert_contains "bad SQL message" 'near "SELEC": syntax error' "$(cat "$TMP/err")"
assert_status "refused statement exits 1" 1 "$MAMORI" query "ATTACH '/tmp/x.db' AS x"
assert_contains "refusal message" "not allowed: ATTACH" "$(cat "$TMP/err")"
assert_status "missing SQL exits 2" 2 "$MAMORI" query
assert_status "unknown format exits 2" 2 "$MAMORI" query --format xml "SELECT 1"
assert_status "bad time limit exits 2" 2 "$MAMORI" query --time-limit soon "SELECT 1"
assert_status "unknown verb exits 2" 2 "$MAMORI" frobnicate
assert_status "time limit exits 1" 1 "$MAMORI" query --time-limit 200ms \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"
assert_contains "time limit message" "time limit of 200 ms reached" "$(cat "$TMP/err")"

# tables / schema
"$MAMORI" tables >"$TMP/tables"
assert_contains "tables lists file" "file" "$(cat "$TMP/tables")"
assert_contains "tables lists osquery_info" "osquery_info" "$(cat "$TMP/tables")"
got=$("$MAMORI" schema hash)
assert_eq "schema hash" 'CREATE TABLE hash(`path` TEXT REQUIRED INDEX, `directory` TEXT REQUIRED INDEX, `md5` TEXT, `sha1` TEXT, `sha256` TEXT);' "$got"
"$MAMORI" schema --json file >"$TMP/schema.json"
assert_contains "schema --json" '"name": "pid_with_namespace"' "$(cat "$TMP/schema.json")"
assert_status "schema of unknown table exits 1" 1 "$MAMORI" schema nope

# The shell: dot commands, modes, multi-line statements, errors that do
# not end the session.
got=$(printf '%s\n' '.mode pipe' '.mode json' "SELECT path" "  FROM file" \
	"  WHERE path = '/srv/www/html/index.html';" 'SELEC 1;' '.mode csv' 'SELECT 7 AS n;' \
	'.tables hash' '.schema uptime_nope' '.quit' 'SELECT 99;' |
	"$MAMORI" shell --root "$W" 2>"$TMP/shell.err")
assert_eq "shell output" '[
  {"path":"/srv/www/html/index.html"}
]
n
7
  => hash' "$got"
assert_contains "shell reports bad SQL and goes on" 'near "SELEC": syntax error' "$(cat "$TMP/shell.err")"
assert_contains "shell reports unknown table" 'no such table: uptime_nope' "$(cat "$TMP/shell.err")"
got=$(printf '.timer on\nSELECT 1;\n' | "$MAMORI" shell)
assert_contains "shell timer" "Run Time:" "$got"
got=$(printf '.help\n' | "$MAMORI" shell)
assert_contains "shell help" ".schema [TABLE]" "$got"

# On a terminal the shell uses libedit: a prompt, and history kept in
# ~/.mamori_history.  `script` gives it a pseudo-terminal.
if command -v script >/dev/null 2>&1; then
	mkdir -p "$TMP/home"
	(sleep 0.5; printf 'SELECT 40 + 2 AS answer;\n'; sleep 0.5; printf '.quit\n') |
		HOME="$TMP/home" timeout 20 script -qfec "$MAMORI shell --root $W" /dev/null >"$TMP/tty.out" 2>&1
	got=$(tr -d '\r' <"$TMP/tty.out")
	assert_contains "tty shell banner" "mamori shell: the host as SQL" "$got"
	assert_contains "tty shell prompt" "mamori> SELECT 40 + 2 AS answer;" "$got"
	assert_contains "tty shell answer" "| 42     |" "$got"
	assert_contains "history file" 'SELECT\04040' "$(cat "$TMP/home/.mamori_history" 2>/dev/null)"
fi

# docs/tables.md is generated from the descriptors and must be current.
if [ -n "${SRCDIR:-}" ] && [ -f "$SRCDIR/docs/tables.md" ]; then
	"$MAMORI" docs >"$TMP/tables.md"
	if cmp -s "$TMP/tables.md" "$SRCDIR/docs/tables.md"; then pass; else
		fail "docs/tables.md is stale: run 'cmake --build build --target docs' (diff: $(diff "$SRCDIR/docs/tables.md" "$TMP/tables.md" | head -5))"
	fi
else
	fail "docs/tables.md missing"
fi
finish
