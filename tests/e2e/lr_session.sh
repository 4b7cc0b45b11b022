#!/bin/sh
# lr_session.sh - Live Response end to end against a real OpenSSH sshd on
# 127.0.0.1 (its own host key, TrustedUserCAKeys = the coordinator's SSH
# user CA, internal sftp): the agent enrolls and reports the host key, which
# the coordinator pins; a responder runs exec, ps, kill (on a process this
# test started), put then get (SHA-256 checked), an interactive shell and
# the prompt; the audit log holds every step under the responder's name,
# the transcript replays; an admin lists and terminates a session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lr.sh"

lr_setup || finish
host_fp=$(fp_of "$TMP/hostkey.pub")

# The agent reported the key and the coordinator pinned it (and audited it).
assert_eq "pinned key" "1|1|$SSHD_PORT|root|$(cut -d' ' -f1,2 "$TMP/hostkey.pub")" \
	"$(db "SELECT host_id, enabled, port, login, json_extract(keys, '\$[0]') FROM lr_hostkeys")"
assert_eq "hostkeys audited" "system|web01.example.com|ecdsa-sha2-nistp256 $host_fp" \
	"$(db "SELECT actor, target, json_extract(detail, '\$.host_keys[0]') FROM audit
		WHERE action = 'lr.hostkeys'")"
assert_eq "enroll details" "1" \
	"$(db "SELECT json_extract(details, '\$.mamori_live_response.enabled') FROM hosts")"
# A second run with nothing changed reports nothing new.
agent_once
assert_eq "no second report" "1" "$(db "SELECT count(*) FROM audit WHERE action = 'lr.hostkeys'")"

# exec: stdout, stderr and the exit status come back.
ctl_as "$RESPONDER" lr "$HOST" -- exec 'id -u; echo to-stderr >&2; exit 3' \
	>"$TMP/exec.out" 2>"$TMP/exec.err"
assert_eq "exec status" "3" "$?"
assert_eq "exec stdout" "0" "$(cat "$TMP/exec.out")"
assert_eq "exec stderr" "to-stderr" "$(cat "$TMP/exec.err")"

# ps shows a process this test started; kill stops it.
sh -c 'exec sleep 3217' &
victim=$!
ctl_as "$RESPONDER" lr "$HOST" -- ps >"$TMP/ps.out"
assert_eq "ps status" "0" "$?"
assert_contains "ps lists the victim" "sleep 3217" "$(awk -v p="$victim" '$1 == p' "$TMP/ps.out")"
assert_status "kill" 0 ctl_as "$RESPONDER" lr "$HOST" -- kill "$victim"
wait "$victim"
assert_eq "victim got SIGTERM" "143" "$?"
assert_status "kill of a bad pid is refused" 1 ctl_as "$RESPONDER" lr "$HOST" -- kill 12abc
assert_contains "bad pid message" "'12abc' is not a process id" "$(cat "$TMP/err")"

# put, then get back: both hashes are checked.
head -c 50000 /dev/urandom >"$TMP/payload.bin"
sum=$(sha256sum "$TMP/payload.bin" | cut -d' ' -f1)
remote=$TMP/remote-dir/payload.bin
mkdir -p "$TMP/remote-dir"
ctl_as "$RESPONDER" lr "$HOST" -- put "$TMP/payload.bin" "$remote" >"$TMP/put.out"
assert_eq "put status" "0" "$?"
assert_eq "put line" "$TMP/payload.bin -> $remote (50000 bytes, sha256 $sum)" "$(cat "$TMP/put.out")"
assert_eq "written on the host" "$sum" "$(sha256sum "$remote" | cut -d' ' -f1)"
assert_eq "no temporary file left" "payload.bin" "$(ls -A "$TMP/remote-dir")"
(cd "$TMP" && ctl_as "$RESPONDER" lr "$HOST" -- get "$remote" back.bin) >"$TMP/get.out"
assert_eq "get status" "0" "$?"
assert_eq "get line" "$remote -> back.bin (50000 bytes, sha256 $sum)" "$(cat "$TMP/get.out")"
assert_eq "got the same bytes" "$sum" "$(sha256sum "$TMP/back.bin" | cut -d' ' -f1)"

# The interactive shell: input streams in, output streams out, exit status.
printf 'echo shell-$((6*7))\nexit 5\n' | ctl_as "$RESPONDER" lr "$HOST" -- shell >"$TMP/shell.out"
assert_eq "shell exit status" "5" "$?"
assert_contains "shell ran the command" "shell-42" "$(cat "$TMP/shell.out")"

# The prompt: commands read line by line, cd is remembered.
printf 'cd %s\npwd\ncat payload.bin.txt\nls\nexit\n' "$TMP/remote-dir" >"$TMP/prompt.in"
echo hello >"$TMP/remote-dir/payload.bin.txt"
ctl_as "$RESPONDER" lr "$HOST" <"$TMP/prompt.in" >"$TMP/prompt.out" 2>&1
assert_eq "prompt status" "0" "$?"
assert_eq "prompt: pwd after cd" "$TMP/remote-dir" "$(sed -n 1p "$TMP/prompt.out")"
assert_eq "prompt: cat" "hello" "$(sed -n 2p "$TMP/prompt.out")"
assert_contains "prompt: ls" "payload.bin.txt" "$(cat "$TMP/prompt.out")"

# The audit log: every step, under the responder, with the session and key id.
audit=$(db "SELECT action || ' ' || actor || ' ' || role || ' ' || status FROM audit
	WHERE action LIKE 'lr.%' AND action != 'lr.hostkeys' ORDER BY id")
o="lr.session.open resp1 responder 200"
c="lr.session.close resp1 responder 200"
cmd="lr.command resp1 responder 200"
assert_eq "audit trail" "$o
$cmd
$c
$o
$cmd
$c
$o
$cmd
$c
$o
lr.command resp1 responder 422
$c
$o
lr.file.put resp1 responder 200
$c
$o
lr.file.get resp1 responder 200
$c
$o
lr.shell.start resp1 responder 200
lr.shell.end resp1 responder 200
$c
$o
$cmd
$cmd
$cmd
$cmd
$c" "$audit"
exec_sid=$(db "SELECT json_extract(detail, '\$.session') FROM audit WHERE action = 'lr.command'
	AND json_extract(detail, '\$.command') = 'exec' LIMIT 1")
assert_eq "exec record" "exec|[\"id -u; echo to-stderr >&2; exit 3\"]|3|2|10|mamori-lr session=$exec_sid operator=resp1 host=web01.example.com" \
	"$(db "SELECT json_extract(detail, '\$.command'), json_extract(detail, '\$.args'),
		json_extract(detail, '\$.exit_status'), json_extract(detail, '\$.stdout_bytes'),
		json_extract(detail, '\$.stderr_bytes'), json_extract(detail, '\$.key_id')
		FROM audit WHERE action = 'lr.command' AND json_extract(detail, '\$.session') = '$exec_sid'")"
assert_eq "exec stdout hash" "$(printf '0\n' | sha256sum | cut -d' ' -f1)" \
	"$(db "SELECT json_extract(detail, '\$.stdout_sha256') FROM audit WHERE action = 'lr.command'
		AND json_extract(detail, '\$.session') = '$exec_sid'")"
assert_eq "kill record" '["'"$victim"'"]|0' \
	"$(db "SELECT json_extract(detail, '\$.args'), json_extract(detail, '\$.exit_status')
		FROM audit WHERE json_extract(detail, '\$.command') = 'kill' AND status = 200")"
assert_eq "refused kill recorded" "lr.command|422" \
	"$(db "SELECT action, status FROM audit WHERE json_extract(detail, '\$.command') = 'kill'
		AND status != 200")"
assert_eq "put record" "$remote|50000|$sum" \
	"$(db "SELECT json_extract(detail, '\$.path'), json_extract(detail, '\$.size'),
		json_extract(detail, '\$.sha256') FROM audit WHERE action = 'lr.file.put'")"
assert_eq "get record" "$remote|50000|$sum" \
	"$(db "SELECT json_extract(detail, '\$.path'), json_extract(detail, '\$.size'),
		json_extract(detail, '\$.sha256') FROM audit WHERE action = 'lr.file.get'")"
assert_eq "shell record" "5" \
	"$(db "SELECT json_extract(detail, '\$.exit_status') FROM audit WHERE action = 'lr.shell.end'")"
assert_eq "host key in the open record" "ecdsa-sha2-nistp256 $host_fp|certificate|root|$SSHD_PORT" \
	"$(db "SELECT DISTINCT json_extract(detail, '\$.host_key'), json_extract(detail, '\$.auth'),
		json_extract(detail, '\$.login'), json_extract(detail, '\$.port') FROM audit
		WHERE action = 'lr.session.open' AND status = 200")"
# sshd saw our certificate with that key id.
assert_contains "sshd accepted the certificate" "ID mamori-lr session=$exec_sid operator=resp1" \
	"$(grep 'Accepted publickey' "$SSHD_LOG")"

# The shell's bytes are in the transcript, and the replay shows them.
shell_sid=$(db "SELECT json_extract(detail, '\$.session') FROM audit WHERE action = 'lr.shell.end'")
assert_contains "shell bytes stored" "shell-42" \
	"$(db "SELECT group_concat(CAST(data AS TEXT), '') FROM lr_events
		WHERE session = '$shell_sid' AND kind = 'shell.output'")"
ctl_as "$ADMIN_TOKEN" audit --session "$shell_sid" >"$TMP/replay.out"
assert_eq "replay status" "0" "$?"
assert_contains "replay header" "operator resp1 (responder)" "$(cat "$TMP/replay.out")"
assert_contains "replay shell" "shell-42" "$(cat "$TMP/replay.out")"
assert_contains "replay end" "shell ended: the shell exited, exit 5" "$(cat "$TMP/replay.out")"
ctl_as "$RESPONDER" audit --session "$exec_sid" >"$TMP/replay2.out"
assert_contains "responder replays its own session" '$ exec id -u; echo to-stderr >&2; exit 3' \
	"$(cat "$TMP/replay2.out")"
assert_contains "replay exit" "[exit 3," "$(cat "$TMP/replay2.out")"
# Another responder may not replay it.
other=$(new_token resp2 responder)
assert_status "other responder cannot replay" 1 ctl_as "$other" audit --session "$exec_sid"
assert_contains "other responder message" "not your session" "$(cat "$TMP/err")"

# An admin lists the live sessions and terminates one.
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "{\"host\":\"$HOST\"}")
assert_eq "open by REST" "200" "$code"
sid=$(jq -r .session.id "$TMP/resp")
assert_eq "session fields" "open|resp1|responder|/root|root|ecdsa-sha2-nistp256 $host_fp" \
	"$(jq -r '.session | [.state, .operator, .role, .cwd, .login, .host_key] | join("|")' "$TMP/resp")"
code=$(api_as "$OBSERVER" GET /api/v1/lr/sessions)
assert_eq "observer cannot list" "403" "$code"
code=$(api_as "$other" POST "/api/v1/lr/sessions/$sid/commands" '{"command":"pwd"}')
assert_eq "another responder cannot use it" "403" "$code"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" '{"command":"pwd"}')
assert_eq "the owner can" "200|/root" "$code|$(jq -r .stdout "$TMP/resp" | head -n 1)"
ctl_as "$ADMIN_TOKEN" lr --list --format csv >"$TMP/list.out"
assert_contains "admin lists it" "$sid,web01.example.com,resp1,responder,open" "$(cat "$TMP/list.out")"
ctl_as "$ADMIN_TOKEN" lr --close "$sid" >"$TMP/close.out"
assert_eq "admin terminates it" "closed session $sid" "$(cat "$TMP/close.out")"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" '{"command":"pwd"}')
assert_eq "terminated session is gone" "404" "$code"
assert_eq "termination recorded" "closed|terminated by admin (admin)|1" \
	"$(db "SELECT state, close_reason, commands FROM lr_sessions WHERE id = '$sid'")"
code=$(api_as "$RESPONDER" GET "/api/v1/lr/sessions/$sid")
assert_eq "closed session shown" "200|closed" "$code|$(jq -r .session.state "$TMP/resp")"

# sql: a live query on the host's agent tables.  It needs the agent polling:
# `mamori daemon` runs in the background meanwhile (it polls every second).
agent_start
ctl_as "$RESPONDER" lr "$HOST" -- sql "SELECT name FROM os_version" >"$TMP/sql.out" 2>"$TMP/sql.err"
assert_eq "sql status" "0" "$?"
assert_eq "sql rows" '{"name":"Debian GNU/Linux"}' "$(cat "$TMP/sql.out")"
ctl_as "$RESPONDER" lr "$HOST" -- sql "SELECT nosuch FROM os_version" >"$TMP/sql2.out" \
	2>"$TMP/sql2.err"
assert_eq "bad sql status" "1" "$?"
assert_eq "bad sql: no rows" "" "$(cat "$TMP/sql2.out")"
assert_contains "bad sql: SQLite's message" "no such column: nosuch" "$(cat "$TMP/sql2.err")"
agent_stop
sql_sum=$(printf '{"name":"Debian GNU/Linux"}\n' | sha256sum | cut -d' ' -f1)
assert_eq "sql audited" "lr.command|resp1|200|[\"SELECT name FROM os_version\"]|0|1|28|$sql_sum" \
	"$(db "SELECT action, actor, status, json_extract(detail, '\$.args'),
		json_extract(detail, '\$.exit_status'), json_extract(detail, '\$.rows'),
		json_extract(detail, '\$.stdout_bytes'), json_extract(detail, '\$.stdout_sha256')
		FROM audit WHERE json_extract(detail, '\$.command') = 'sql'
		AND json_extract(detail, '\$.exit_status') = 0")"
assert_eq "bad sql audited" "1|1" \
	"$(db "SELECT count(*), json_extract(detail, '\$.exit_status') FROM audit
		WHERE json_extract(detail, '\$.command') = 'sql'
		AND json_extract(detail, '\$.stderr_bytes') > 0
		AND json_extract(detail, '\$.args') LIKE '%nosuch%'")"
assert_eq "sql ran as a live query by the responder" "SELECT name FROM os_version|resp1|ok" \
	"$(db "SELECT c.sql, c.created_by, h.status FROM campaigns c
		JOIN campaign_hosts h ON h.campaign_id = c.id")"
assert_contains "sql transcript" '{"name":"Debian GNU/Linux"}' \
	"$(db "SELECT json_extract(detail, '\$.stdout') FROM lr_events
		WHERE kind = 'command' AND json_extract(detail, '\$.command') = 'sql'")"

# The host keys change on disk: the next agent run reports the new one.
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey2" </dev/null
cp "$TMP/hostkey2.pub" "$TMP/root/etc/ssh/ssh_host_ed25519_key.pub"
agent_once
assert_eq "re-reported" "2|2" \
	"$(db "SELECT count(*), (SELECT json_array_length(keys) FROM lr_hostkeys) FROM audit
		WHERE action = 'lr.hostkeys'")"

# SIGTERM with a session open: it is closed and recorded before exit.
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "{\"host\":\"$HOST\"}")
sid=$(jq -r .session.id "$TMP/resp")
server_stop
assert_eq "coordinator exit" "0" "$SERVER_STATUS"
assert_eq "closed at shutdown" "closed|the coordinator is stopping" \
	"$(db "SELECT state, close_reason FROM lr_sessions WHERE id = '$sid'")"
no_sanitizer "coordinator" "$SERVER_LOG"
finish
