#!/bin/sh
# compliance.sh - policy verdicts from `mamori daemon` to the coordinator's
# compliance views.  The shipped baseline (lua-policies/) and a Fleet YAML
# file holding two SQL policies and a Lua policy whose check raises (an
# error verdict everywhere) are applied with mamorictl; three agents
# (`--once`) on copies of the web01, legacy01 and pol-cis-hardened fixtures
# report their verdicts, and the fleet summary must equal, policy by policy,
# the counts `mamori check` gives on the same three trees.  Then the legacy01
# agent runs as a daemon with a 2 s policy interval: fixing PermitRootLogin
# in its sshd_config moves ssh-no-root-login by one host from fail to pass
# within 20 s, the history records the transition, `compliance --host` shows
# the host's failing policies with their remediation and `compliance
# --policy` the failing hosts with their reasons; a deleted policy's verdict
# leaves the agent and a full report follows; revoking the host makes the
# agent enroll again and its full report restores the host's verdicts.
# SIGTERM stops the daemon.
. "$(dirname "$0")/lib.sh"
: "${MAMORICTL:?MAMORICTL must point at the mamorictl binary}"
: "${SRCDIR:?}"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"

HOSTS="web01 legacy01 pol-cis-hardened"

# ctest's MAMORI_SERVER is the server binary (lib_server.sh needs it), but
# mamorictl reads MAMORI_SERVER as its URL: mamorictl gets its settings in
# its own environment only.
ctl() {
	env MAMORI_SERVER="$SERVER_URL" MAMORI_CA="$SERVER_CA" MAMORI_TOKEN="$ADMIN_TOKEN" \
		MAMORICTL_CONFIG="$TMP/no-mamorictl.yaml" "$MAMORICTL" "$@"
}

# agent_conf HOST: $TMP/agent-HOST.yaml for the copy of the fixture HOST.
agent_conf() {
	cat >"$TMP/agent-$1.yaml" <<EOF
server: $SERVER_URL
ca_file: $SERVER_CA
enroll_secret_file: $SERVER_DIR/enroll_secret
host_identifier: specified
identifier: agent-$1
state_dir: $TMP/state-$1
root: $TMP/root-$1
intervals:
  config_refresh: 1s
  distributed_interval: 1s
  log_flush: 200ms
  splay_percent: 0
  policy_override: 2s
timeouts:
  connect: 2s
  request: 5s
EOF
}

# check HOST: `mamori check` on the copy of HOST into $TMP/check-HOST.jsonl.
check() {
	"$MAMORI" check --root "$TMP/root-$1" --format jsonl "$SRCDIR/lua-policies" \
		"$TMP/fleet.yaml" "$TMP/always-raises.lua" >"$TMP/check-$1.jsonl" 2>/dev/null
	[ "$?" -le 1 ] || fail "mamori check on $1 did not run"
}

# Per policy: "id pass fail not_applicable error", from the checks...
expected_counts() {
	cat "$TMP"/check-*.jsonl | jq -s -r 'group_by(.id)[] | [.[0].id,
		([.[] | select(.verdict == "pass")] | length),
		([.[] | select(.verdict == "fail")] | length),
		([.[] | select(.verdict == "not_applicable")] | length),
		([.[] | select(.verdict == "error")] | length)] | @tsv'
}
# ... and from the coordinator's summary.
actual_counts() {
	ctl compliance --format json |
		jq -r 'sort_by(.policy)[] | [.policy, .pass, .fail, .not_applicable, .error] | @tsv'
}

agent_db() { sqlite3 -batch "$TMP/state-legacy01/mamori-state.db" "$1"; }

server_start || finish

cat >"$TMP/fleet.yaml" <<'EOF'
policies:
  - name: User deploy exists
    query: SELECT 1 FROM users WHERE username = 'deploy'
    resolution: Create the deploy account (adduser deploy).
  - name: Root has a shell
    query: SELECT 1 FROM users WHERE uid = '0' AND shell LIKE '%sh'
EOF
# A check that raises: an error verdict on every host, and nothing else stops.
cat >"$TMP/always-raises.lua" <<'EOF'
return {
  id = "always-raises", title = "A policy whose check raises", severity = "low",
  check = function() error("boom") end,
}
EOF
nlua=$(ls "$SRCDIR"/lua-policies/*.lua | wc -l)
npol=$((nlua + 3))
assert_status "policies apply" 0 ctl policies apply -f "$SRCDIR/lua-policies" -f "$TMP/fleet.yaml" \
	-f "$TMP/always-raises.lua" --format json
assert_eq "policies applied" "$npol" "$(jq length "$TMP/out")"

# ---- three agents, --once ------------------------------------------------------
for h in $HOSTS; do
	cp -R "$FIXTURES/$h" "$TMP/root-$h"
	agent_conf "$h"
	"$MAMORI" daemon --config "$TMP/agent-$h.yaml" --once --log-level debug \
		>"$TMP/once-$h.log" 2>&1
	st=$?
	assert_eq "--once on $h" "0" "$st"
	[ "$st" = 0 ] || tail -n 20 "$TMP/once-$h.log" >&2
	assert_contains "--once on $h reports every verdict" \
		"--once: $npol policy verdicts acknowledged" "$(cat "$TMP/once-$h.log")"
	check "$h"
done
assert_eq "every verdict acknowledged" "$npol|$npol" \
	"$(agent_db "SELECT count(*), sum(sent) FROM verdicts")"

expected_counts >"$TMP/expected-1"
assert_eq "policies checked" "$npol" "$(wc -l <"$TMP/expected-1")"
actual_counts >"$TMP/actual-1"
assert_eq "fleet summary = mamori check on the three hosts" "$(cat "$TMP/expected-1")" \
	"$(cat "$TMP/actual-1")"
assert_eq "three verdicts per policy" "0" \
	"$(ctl compliance --format json | jq '[.[] | select(.hosts != 3)] | length')"
assert_eq "summary as csv" "policy,severity,pass,fail,na,error,pass%,title" \
	"$(ctl compliance --format csv | head -n 1)"
assert_eq "the extra policies by id" "always-raises	0	0	0	3
root-has-a-shell	2	1	0	0
user-deploy-exists	1	2	0	0" "$(grep -e '^always-raises' -e '^root-has-a-shell' -e '^user-deploy' "$TMP/actual-1")"
assert_contains "the error verdict's reason" "boom" \
	"$(ctl compliance --policy always-raises --format json | jq -r '.[0].reason')"

# ---- one agent as a daemon: a fix shows up within 20 s -------------------------
R=$TMP/root-legacy01
cp "$TMP/agent-legacy01.yaml" "$TMP/agent.yaml"
agent_start
before=$(grep '^ssh-no-root-login	' "$TMP/actual-1")
assert_eq "ssh-no-root-login before" "ssh-no-root-login	1	1	1	0" "$before"

# The fix: line 20 of legacy01's sshd_config (the file keeps its mode).
sed 's/^PermitRootLogin yes$/PermitRootLogin no/' "$R/etc/ssh/sshd_config" >"$TMP/sshd_config"
cat "$TMP/sshd_config" >"$R/etc/ssh/sshd_config"
check legacy01
expected_counts >"$TMP/expected-2"
assert_eq "the fix moves ssh-no-root-login only" "$(grep -v '^ssh-no-root-login	' "$TMP/expected-1")" \
	"$(grep -v '^ssh-no-root-login	' "$TMP/expected-2")"
assert_eq "ssh-no-root-login expected after" "ssh-no-root-login	2	0	1	0" \
	"$(grep '^ssh-no-root-login	' "$TMP/expected-2")"
t0=$(date +%s)
while :; do
	actual_counts >"$TMP/actual-2"
	cmp -s "$TMP/expected-2" "$TMP/actual-2" && break
	[ $(($(date +%s) - t0)) -ge 20 ] && break
	sleep 0.3
done
assert_eq "fleet summary after the fix (within 20 s)" "$(cat "$TMP/expected-2")" \
	"$(cat "$TMP/actual-2")"

reason=$(jq -r 'select(.id == "ssh-no-root-login") | .reason' "$TMP/check-legacy01.jsonl")
assert_eq "reason after the fix" "PermitRootLogin is no (set in /etc/ssh/sshd_config:20)" "$reason"
assert_eq "history: fail -> pass" "fail	pass	$reason" \
	"$(ctl compliance history --host agent-legacy01 --policy ssh-no-root-login --format json |
		jq -r '.[0] | [.old_verdict, .new_verdict, .reason] | @tsv')"
assert_eq "history: two changes for the host and policy" "2" \
	"$(ctl compliance history --host agent-legacy01 --policy ssh-no-root-login --format json |
		jq length)"
assert_eq "history as a table" "1" \
	"$(ctl compliance history --host agent-legacy01 | grep -c 'ssh-no-root-login *fail *pass')"

# The host's failing policies, with remediation, as `mamori check` says.
jq -r 'select(.verdict == "fail" or .verdict == "error") |
	[.id, .verdict, .reason, .remediation // ""] | @tsv' "$TMP/check-legacy01.jsonl" |
	sort >"$TMP/host-expected"
ctl compliance --host agent-legacy01 --format json |
	jq -r '.[] | [.policy, .verdict, .reason, .remediation // ""] | @tsv' | sort >"$TMP/host-actual"
assert_eq "compliance --host: failing policies" "$(cat "$TMP/host-expected")" \
	"$(cat "$TMP/host-actual")"
assert_eq "compliance --host: every failing baseline policy has a remediation" "0" \
	"$(awk -F '\t' '$4 == "" && $1 != "always-raises"' "$TMP/host-actual" | wc -l)"
case "$(cat "$TMP/host-actual")" in
*ssh-no-root-login*) fail "ssh-no-root-login still failing on legacy01" ;;
*) pass ;;
esac
assert_contains "compliance --host table" "remediation" \
	"$(ctl compliance --host agent-legacy01 | head -n 1)"

# One policy's failing hosts, with their reasons.
p=sysctl-no-icmp-redirects
for h in $HOSTS; do
	jq -r --arg h "agent-$h" --arg p "$p" \
		'select(.id == $p and (.verdict == "fail" or .verdict == "error")) |
		[$h, .verdict, .reason] | @tsv' "$TMP/check-$h.jsonl"
done | sort >"$TMP/policy-expected"
assert_eq "$p fails on two hosts" "2" "$(wc -l <"$TMP/policy-expected")"
assert_eq "compliance --policy: failing hosts" "$(cat "$TMP/policy-expected")" \
	"$(ctl compliance --policy "$p" --format json |
		jq -r '.[] | [.host_identifier, .verdict, .reason] | @tsv' | sort)"

# ---- a policy leaves the config -------------------------------------------------
assert_status "policies delete" 0 ctl policies delete user-deploy-exists
t0=$(date +%s)
while :; do
	grep -q "sent $((npol - 1)) verdicts (full report)" "$AGENT_LOG" && break
	[ $(($(date +%s) - t0)) -ge 20 ] && break
	sleep 0.2
done
assert_contains "the agent deletes the verdict" \
	"policies: 1 verdicts of policies no longer in the config deleted" "$(cat "$AGENT_LOG")"
assert_contains "then sends a full report" "sent $((npol - 1)) verdicts (full report)" \
	"$(cat "$AGENT_LOG")"
assert_eq "the agent's verdicts" "$((npol - 1))|0" \
	"$(agent_db "SELECT count(*), count(*) FILTER (WHERE policy = 'user-deploy-exists')
		FROM verdicts")"

# ---- re-enrollment: a full report restores the host's verdicts -------------------
hid=$(ctl hosts list --format json | jq -r '.[] | select(.host_identifier == "agent-legacy01") | .id')
assert_status "revoke legacy01" 0 ctl hosts revoke "$hid"
grep -v '^user-deploy-exists	' "$TMP/expected-2" >"$TMP/expected-3"
t0=$(date +%s)
while :; do
	actual_counts >"$TMP/actual-3"
	cmp -s "$TMP/expected-3" "$TMP/actual-3" && break
	[ $(($(date +%s) - t0)) -ge 20 ] && break
	sleep 0.3
done
assert_eq "fleet summary after re-enrollment (within 20 s)" "$(cat "$TMP/expected-3")" \
	"$(cat "$TMP/actual-3")"
assert_contains "the agent enrolled again" "node key rejected" "$(cat "$AGENT_LOG")"

agent_stop
assert_eq "daemon exit status after SIGTERM" "0" "$AGENT_STATUS"
assert_eq "the daemon never failed a policy" "" \
	"$(grep -e 'does not load' -e 'cannot store' "$AGENT_LOG")"
no_sanitizer "agent logs" "$AGENT_LOG" "$TMP"/once-*.log
finish
