#!/bin/sh
# lr_refusals.sh - what Live Response refuses, against real OpenSSH sshds on
# 127.0.0.1: an sshd with another host key on the same port is refused
# before authentication (both fingerprints named); observers and operators
# cannot open sessions; an expired certificate is rejected by sshd while a
# fresh one is accepted; an idle session is closed; a command past its
# timeout is stopped (its process group killed) and reported; an unknown
# host, a host without Live Response, an sshd that is not running, an
# oversize put and a put into a missing directory give clear errors and
# leave nothing on the host; output past output_cap is cut but hashed whole;
# a host has one session at a time, max_sessions caps them all and
# max_duration closes a busy session; sql with an agent that does not poll
# times out; bad settings stop both programs; a
# coordinator with Live Response off refuses; the plain-key fallback works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_lr.sh"

lr_setup "idle_timeout: 3s" "command_timeout: 2s" "put_max: 1KiB" "output_cap: 1KiB" || finish
host_fp=$(fp_of "$TMP/hostkey.pub")
# The host by id: a second agent below has the same host name.
open_body='{"host":"1"}'

# Bad settings stop the programs with FILE:LINE: key: what (exit 2).
printf 'server: https://127.0.0.1:1\nca_file: %s\nenroll_secret_file: %s\nlive_response:\n  enabled: maybe\n' \
	"$SERVER_CA" "$SERVER_DIR/enroll_secret" >"$TMP/bad-agent.yaml"
assert_status "agent: bad live_response.enabled" 2 "$MAMORI" daemon --config "$TMP/bad-agent.yaml" --once
assert_contains "agent message" "bad-agent.yaml:5: live_response.enabled: expected true or false" \
	"$(cat "$TMP/err")"
sed 's/  enabled: maybe/  port: 70000/' "$TMP/bad-agent.yaml" >"$TMP/bad-agent2.yaml"
assert_status "agent: bad live_response.port" 2 "$MAMORI" daemon --config "$TMP/bad-agent2.yaml" --once
assert_contains "agent port message" "live_response.port: must be between 1 and 65535" "$(cat "$TMP/err")"
printf 'database: x.db\nenroll_secret_file: s\ntls:\n  enabled: false\nlive_response:\n  enabled: true\n' \
	>"$TMP/bad-server.yaml"
assert_status "server: enabled without a CA" 2 "$MAMORI_SERVER" run --config "$TMP/bad-server.yaml"
assert_contains "server message" "bad-server.yaml:1: live_response.ca_key: required while live_response.enabled is true" \
	"$(cat "$TMP/err")"
printf '  ca_key: k\n  idle_timeout: 0s\n' >>"$TMP/bad-server.yaml"
assert_status "server: zero idle timeout" 2 "$MAMORI_SERVER" run --config "$TMP/bad-server.yaml"
assert_contains "server idle message" "bad-server.yaml:8: live_response.idle_timeout: '0s': must be at least 1s" \
	"$(cat "$TMP/err")"

# Roles: observer and operator may not open sessions (403, audited).
code=$(api_as "$OBSERVER" POST /api/v1/lr/sessions "$open_body")
assert_eq "observer refused" "403|role not allowed" "$code|$(jq -r .error "$TMP/resp")"
code=$(api_as "$OPERATOR" POST /api/v1/lr/sessions "$open_body")
assert_eq "operator refused" "403|role not allowed" "$code|$(jq -r .error "$TMP/resp")"
assert_status "observer via mamorictl" 1 ctl_as "$OBSERVER" lr 1 -- pwd
assert_contains "observer message" "role not allowed" "$(cat "$TMP/err")"
assert_eq "refusals audited" "obs1 observer 403
op1 operator 403" \
	"$(db "SELECT actor || ' ' || role || ' ' || status FROM audit WHERE action = 'auth.denied'
		AND target = 'POST /api/v1/lr/sessions' ORDER BY id LIMIT 2")"

# Unknown host.
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions '{"host":"nosuchhost"}')
assert_eq "unknown host" "404|no such host" "$code|$(jq -r .error "$TMP/resp")"
assert_eq "unknown host audited" "resp1|nosuchhost|404|unknown host" \
	"$(db "SELECT actor, target, status, json_extract(detail, '\$.reason') FROM audit
		WHERE action = 'lr.session.open' AND status = 404")"

# A host whose agent does not enable Live Response.
cat >"$TMP/agent2.yaml" <<EOF
server: $SERVER_URL
ca_file: $SERVER_CA
enroll_secret_file: $SERVER_DIR/enroll_secret
state_dir: $TMP/state2
root: $TMP/root
host_identifier: specified
identifier: plain01
EOF
"$MAMORI" daemon --config "$TMP/agent2.yaml" --once >"$TMP/agent2.log" 2>&1
assert_eq "plain agent enrolls" "0" "$?"
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions '{"host":"plain01"}')
assert_eq "not enabled" "409|Live Response is not enabled on web01.example.com" \
	"$code|$(jq -r .error "$TMP/resp")"
assert_contains "not enabled detail" "live_response.enabled: true" "$(jq -r .detail "$TMP/resp")"

# A command past command_timeout is stopped: the reply says so, its
# process group is gone, the record says timed_out.
start=$(date +%s)
ctl_as "$RESPONDER" lr 1 -- exec 'echo started; sleep 3219; echo never' \
	>"$TMP/slow.out" 2>"$TMP/slow.err"
assert_eq "timed out status" "1" "$?"
took=$(($(date +%s) - start))
[ "$took" -lt 15 ] && pass || fail "the timeout took $took s"
assert_eq "partial output kept" "started" "$(cat "$TMP/slow.out")"
assert_contains "timeout reported" "exec: stopped after 2 s (command_timeout)" "$(cat "$TMP/slow.err")"
sleep 1
assert_eq "process killed" "" "$(pgrep -f 'sleep 3219')"
assert_eq "timeout recorded" "1|" \
	"$(db "SELECT json_extract(detail, '\$.timed_out'), json_extract(detail, '\$.exit_status')
		FROM audit WHERE action = 'lr.command' ORDER BY id DESC LIMIT 1")"

# Output past output_cap (1 KiB) is cut; the sizes and hashes cover all of it.
ctl_as "$RESPONDER" lr 1 -- exec "head -c 5000 /dev/zero | tr '\\0' a" >"$TMP/big.out" 2>"$TMP/big.err"
assert_eq "capped exec status" "0" "$?"
assert_eq "kept bytes" "1024" "$(wc -c <"$TMP/big.out")"
assert_contains "cap reported" "output cut at output_cap (stdout 5000 bytes sha256 $(head -c 5000 /dev/zero | tr '\0' a | sha256sum | cut -d' ' -f1)" \
	"$(cat "$TMP/big.err")"

# An idle session is closed after idle_timeout (3 s).
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "$open_body")
assert_eq "open" "200" "$code"
sid=$(jq -r .session.id "$TMP/resp")
i=0
while [ $i -lt 100 ]; do
	[ "$(db "SELECT state FROM lr_sessions WHERE id = '$sid'")" = closed ] && break
	sleep 0.1
	i=$((i + 1))
done
assert_eq "idle session closed" "closed|idle timeout (3 s without activity)" \
	"$(db "SELECT state, close_reason FROM lr_sessions WHERE id = '$sid'")"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" '{"command":"pwd"}')
assert_eq "closed session refuses commands" "404" "$code"

# put over put_max (1 KiB): refused before anything reaches the host.
mkdir -p "$TMP/target"
head -c 2048 /dev/urandom >"$TMP/big.bin"
assert_status "oversize put (mamorictl)" 1 ctl_as "$RESPONDER" lr 1 -- put "$TMP/big.bin" "$TMP/target/big.bin"
assert_contains "oversize message" "larger than the coordinator's put_max (1024 bytes)" "$(cat "$TMP/err")"
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "$open_body")
sid=$(jq -r .session.id "$TMP/resp")
code=$(api_as "$ADMIN_TOKEN" POST /api/v1/lr/sessions "$open_body")
assert_eq "one session per host" "409|web01.example.com already has a Live Response session|session $sid, opened by resp1" \
	"$code|$(jq -r .error "$TMP/resp")|$(jq -r .detail "$TMP/resp")"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" \
	"{\"command\":\"put\",\"args\":[\"$TMP/target/big.bin\"],\"data\":\"$(base64 -w0 "$TMP/big.bin")\"}")
assert_eq "oversize put (REST)" "413|the file is too large" "$code|$(jq -r .error "$TMP/resp")"
assert_contains "oversize detail" "2048 bytes, put_max is 1024 bytes; nothing was written" \
	"$(jq -r .detail "$TMP/resp")"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" \
	"{\"command\":\"put\",\"args\":[\"$TMP/missing/x.txt\"],\"data\":\"aGVsbG8K\"}")
assert_eq "put into a missing directory" "422|put $TMP/missing/x.txt: no such file or directory" \
	"$code|$(jq -r .error "$TMP/resp")"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" \
	"{\"command\":\"get\",\"args\":[\"$TMP/target/nothere\"]}")
assert_eq "get of a missing file" "422|get $TMP/target/nothere: no such file or directory" \
	"$code|$(jq -r .error "$TMP/resp")"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" '{"command":"sql","args":["select 1"]}')
# The agent ran once and does not poll: the live query times out after
# command_timeout (2 s) with exit status 1.
assert_eq "sql, agent not polling" "200|1|true" \
	"$code|$(jq -r '[.exit_status, .timed_out] | join("|")' "$TMP/resp")"
assert_contains "sql timeout message" "did not poll within the timeout (2000 ms)" \
	"$(jq -r .stderr "$TMP/resp")"
code=$(api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" '{"command":"reboot"}')
assert_eq "unknown command" "422" "$code"
assert_eq "nothing written on the host" "" "$(ls -A "$TMP/target")"
assert_eq "oversize put audited" "413|2048" \
	"$(db "SELECT status, json_extract(detail, '\$.size') FROM audit WHERE action = 'lr.file.put'
		AND status = 413")"
code=$(api_as "$RESPONDER" DELETE "/api/v1/lr/sessions/$sid")
assert_eq "close" "200" "$code"

# max_sessions (coordinator-wide) and max_duration: a coordinator with
# max_sessions: 1 and max_duration: 2s.  A second host with Live Response
# (same sshd) takes the second session.
sed "s/^identifier: plain01/identifier: lr02/; s#^state_dir: .*#state_dir: $TMP/state3#" \
	"$TMP/agent2.yaml" >"$TMP/agent3.yaml"
printf 'live_response:\n  enabled: true\n  login: root\n  port: %s\n' "$SSHD_PORT" \
	>>"$TMP/agent3.yaml"
"$MAMORI" daemon --config "$TMP/agent3.yaml" --once >"$TMP/agent3.log" 2>&1
assert_eq "second Live Response agent enrolls" "0" "$?"
server_stop
cp "$SERVER_CONFIG" "$TMP/server-config.saved"
printf '  max_sessions: 1\n  max_duration: 2s\n' >>"$SERVER_CONFIG"
server_start || finish
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "$open_body")
assert_eq "first session under the cap" "200" "$code"
sid=$(jq -r .session.id "$TMP/resp")
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions '{"host":"lr02"}')
assert_eq "max_sessions reached" "429|too many Live Response sessions|max_sessions is 1" \
	"$code|$(jq -r .error "$TMP/resp")|$(jq -r .detail "$TMP/resp")"
assert_eq "cap refusal audited" "resp1|429|too many Live Response sessions" \
	"$(db "SELECT actor, status, json_extract(detail, '\$.reason') FROM audit
		WHERE action = 'lr.session.open' AND status = 429")"
# Kept busy (no idle close): max_duration closes it all the same.
i=0
while [ $i -lt 100 ]; do
	[ "$(db "SELECT state FROM lr_sessions WHERE id = '$sid'")" = closed ] && break
	api_as "$RESPONDER" POST "/api/v1/lr/sessions/$sid/commands" '{"command":"pwd"}' >/dev/null
	sleep 0.1
	i=$((i + 1))
done
assert_eq "max_duration closes the session" "closed|maximum duration reached (2 s)" \
	"$(db "SELECT state, close_reason FROM lr_sessions WHERE id = '$sid'")"
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions '{"host":"lr02"}')
assert_eq "a slot is free again" "200" "$code"
sid=$(jq -r .session.id "$TMP/resp")
code=$(api_as "$RESPONDER" DELETE "/api/v1/lr/sessions/$sid")
assert_eq "close lr02" "200" "$code"
server_stop
cp "$TMP/server-config.saved" "$SERVER_CONFIG"
server_start || finish

# An sshd with another host key on the same port: refused before
# authentication, both fingerprints named.
port=$SSHD_PORT
sshd_stop
ssh-keygen -q -t ecdsa -N '' -f "$TMP/otherkey" </dev/null
other_fp=$(fp_of "$TMP/otherkey.pub")
sshd_start "$TMP/otherkey" "$port" || finish
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "$open_body")
assert_eq "impostor refused" "502" "$code"
assert_eq "mismatch message" "host key mismatch: web01.example.com (127.0.0.1 port $port) presented ecdsa-sha2-nistp256 $other_fp, which is not a key its agent reported; refused before authentication" \
	"$(jq -r .error "$TMP/resp")"
assert_eq "mismatch detail" "presented ecdsa-sha2-nistp256 $other_fp; reported: ecdsa-sha2-nistp256 $host_fp" \
	"$(jq -r .detail "$TMP/resp")"
sleep 0.3
assert_eq "no authentication attempted" "0" \
	"$(grep -c -i 'userauth\|Accepted\|Failed\|Certificate' "$SSHD_LOG")"
assert_eq "refusal recorded" "refused|host key mismatch" \
	"$(db "SELECT state, substr(close_reason, 1, 17) FROM lr_sessions WHERE state = 'refused'")"
assert_eq "refusal audited" "resp1|502|ecdsa-sha2-nistp256 $other_fp" \
	"$(db "SELECT actor, status, json_extract(detail, '\$.host_key') FROM audit
		WHERE action = 'lr.session.open' AND status = 502")"
sshd_stop

# sshd not running.
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "$open_body")
assert_eq "sshd down" "502|cannot reach the SSH server of web01.example.com" \
	"$code|$(jq -r .error "$TMP/resp")"
assert_eq "sshd down detail" "127.0.0.1 port $port: Connection refused" "$(jq -r .detail "$TMP/resp")"

# Certificates: sshd accepts a fresh one from the CA and rejects one whose
# validity is over.
sshd_start "$TMP/hostkey" "$port" || finish
ssh-keygen -q -t ecdsa -N '' -f "$TMP/userkey" </dev/null
"$MAMORI_SERVER" lr-cert --config "$SERVER_CONFIG" --public-key "$TMP/userkey.pub" --login root \
	--source-address 127.0.0.1/32 >"$TMP/userkey-cert.pub"
assert_eq "lr-cert" "0" "$?"
assert_contains "certificate fields" "Principals: 
                root" "$(ssh-keygen -L -f "$TMP/userkey-cert.pub")"
sshopts="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5"
# shellcheck disable=SC2086
out=$(ssh $sshopts -i "$TMP/userkey" -o CertificateFile="$TMP/userkey-cert.pub" -p "$port" \
	root@127.0.0.1 'echo cert-ok' 2>/dev/null)
assert_eq "fresh certificate accepted" "cert-ok" "$out"
"$MAMORI_SERVER" lr-cert --config "$SERVER_CONFIG" --public-key "$TMP/userkey.pub" --login root \
	--valid-from -10m --valid-for 5m >"$TMP/userkey-cert.pub"
# shellcheck disable=SC2086
out=$(ssh $sshopts -i "$TMP/userkey" -o CertificateFile="$TMP/userkey-cert.pub" -p "$port" \
	root@127.0.0.1 'echo cert-ok' 2>&1)
assert_contains "expired certificate rejected" "Permission denied" "$out"
assert_contains "sshd says expired" "Certificate invalid: expired" "$(cat "$SSHD_LOG")"
# A certificate for another login is refused too.
"$MAMORI_SERVER" lr-cert --config "$SERVER_CONFIG" --public-key "$TMP/userkey.pub" \
	--login nobody >"$TMP/userkey-cert.pub"
# shellcheck disable=SC2086
out=$(ssh $sshopts -i "$TMP/userkey" -o CertificateFile="$TMP/userkey-cert.pub" -p "$port" \
	root@127.0.0.1 'echo cert-ok' 2>&1)
assert_contains "wrong principal rejected" "Permission denied" "$out"
# The coordinator's own session works again on the right key.
assert_status "session after restart of sshd" 0 ctl_as "$RESPONDER" lr 1 -- pwd
# An sshd that does not trust the CA: authentication fails, clearly.
sshd_stop
ssh-keygen -q -t ecdsa -N '' -f "$TMP/foreignca" </dev/null
SSHD_CA=$TMP/foreignca.pub sshd_start "$TMP/hostkey" "$port" || finish
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "$open_body")
assert_eq "untrusted CA" "502|web01.example.com refused the session certificate for root" \
	"$code|$(jq -r .error "$TMP/resp")"
assert_contains "untrusted CA detail" "TrustedUserCAKeys" "$(jq -r .detail "$TMP/resp")"

# Live Response switched off on the coordinator.
server_stop
sed -i 's/^  enabled: true/  enabled: false/' "$SERVER_CONFIG"
server_start || finish
code=$(api_as "$RESPONDER" POST /api/v1/lr/sessions "$open_body")
assert_eq "switched off" "403|Live Response is switched off on this coordinator" \
	"$code|$(jq -r .error "$TMP/resp")"
server_stop

# The documented fallback: a plain key in authorized_keys, no certificate.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$SERVER_DIR/lr_user.key" 2>/dev/null
chmod 600 "$SERVER_DIR/lr_user.key"
sed -i 's/^  enabled: false/  enabled: true/' "$SERVER_CONFIG"
printf '  user_key: lr_user.key\n' >>"$SERVER_CONFIG"
"$MAMORI_SERVER" lr-setup --config "$SERVER_CONFIG" --pubkey >"$TMP/authorized_keys"
assert_contains "plain key line" "ecdsa-sha2-nistp256 AAAA" "$(cat "$TMP/authorized_keys")"
assert_contains "plain key setup text" "restrict,pty ecdsa-sha2-nistp256" \
	"$("$MAMORI_SERVER" lr-setup --config "$SERVER_CONFIG")"
sshd_stop
SSHD_AUTHKEYS=$TMP/authorized_keys sshd_start "$TMP/hostkey" "$port" || finish
server_start || finish
out=$(ctl_as "$RESPONDER" lr 1 -- exec 'echo via-key')
assert_eq "session with the plain key" "via-key" "$out"
assert_eq "recorded as key auth" "key" \
	"$(db "SELECT json_extract(detail, '\$.auth') FROM audit WHERE action = 'lr.session.open'
		AND status = 200 ORDER BY id DESC LIMIT 1")"
server_stop
no_sanitizer "coordinator" "$SERVER_LOG"
finish
