#!/bin/sh
# server_ops_api.sh - the coordinator's operator REST API end to end, over
# TLS verified against its CA: tokens and roles (every refusal in the audit
# log), packs (apply, refuse a bad query with nothing stored, .conf packs,
# delete, agents get them in their config), results posted through the
# agent API and read back with filters and paging, hosts (list, show,
# revoke -> node_invalid), status, and bad requests after which the server
# still answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"

command -v sqlite3 >/dev/null || { fail "sqlite3 is needed"; finish; }

server_init || finish
sed -i -e 's/^max_body: .*/max_body: 64KiB/' "$SERVER_CONFIG"
server_start || finish
DB=$SERVER_DIR/mamori.db

sql() { sqlite3 -batch "$DB" "$@"; }
jqr() { jq -r "$1" "$TMP/resp"; }

# api TOKEN METHOD PATH [JSON]: one operator request; prints the status,
# the body is in $TMP/resp.  An empty TOKEN sends no Authorization header.
api() {
	a_tok=$1 a_m=$2 a_p=$3
	a_body=${4-}
	set -- -sS --cacert "$SERVER_CA" --max-time 20 -o "$TMP/resp" -w '%{http_code}' -X "$a_m"
	if [ -n "$a_tok" ]; then
		set -- "$@" -H "Authorization: Bearer $a_tok"
	fi
	if [ -n "$a_body" ]; then
		set -- "$@" -H 'Content-Type: application/json' --data-binary "$a_body"
	fi
	curl "$@" "$SERVER_URL$a_p"
}
apij() { api "$@"; }

# wait_audit FILTER N: waits (at most 5 s) until GET /api/v1/audit?FILTER
# returns at least N rows (refusals are written by a job of their own).
wait_audit() {
	w_i=0
	while [ $w_i -lt 50 ]; do
		api "$ADMIN_TOKEN" GET "/api/v1/audit?$1" >/dev/null
		[ "$(jq '.audit | length' "$TMP/resp")" -ge "$2" ] && return 0
		sleep 0.1
		w_i=$((w_i + 1))
	done
	return 1
}

# ---- who am I, and refusals without a valid token ----------------------------------------------
code=$(api "$ADMIN_TOKEN" GET /api/v1/me)
assert_eq "me as admin" "200|admin|admin|1" "$code|$(jqr '[.name, .role, .token_id] | join("|")')"
code=$(api "" GET /api/v1/me)
assert_eq "no token" "401|missing token" "$code|$(jqr .error)"
code=$(api "mmt_0000000000000000000000000000000000000000000000000000000000000000" GET /api/v1/hosts)
assert_eq "unknown token" "401|unknown or revoked token" "$code|$(jqr .error)"
# (Its refusal is the first one again: same address, route and reason, so
# the audit log does not get it twice.)
code=$(curl -sS --cacert "$SERVER_CA" -o "$TMP/resp" -w '%{http_code}' \
	-H "Authorization: NodeKey abc" "$SERVER_URL/api/v1/me")
assert_eq "node key on the operator API" "401|missing token" "$code|$(jqr .error)"

# ---- tokens --------------------------------------------------------------------------------------
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "obs", "role": "observer"}')
assert_eq "create observer" "200|obs|observer" "$code|$(jqr '[.name, .role] | join("|")')"
OBS=$(jqr .token)
OBS_ID=$(jqr .id)
assert_eq "token shape" 1 "$(printf %s "$OBS" | grep -c '^mmt_[0-9a-f]\{64\}$')"
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "ops", "role": "operator"}')
assert_eq "create operator" 200 "$code"
OPS=$(jqr .token)
OPS_ID=$(jqr .id)
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "reader", "role": "observer"}')
READER=$(jqr .token)
assert_eq "token stored as its hash only" \
	"$(printf %s "$OBS" | sha256sum | cut -d' ' -f1)" "$(sql "SELECT hash FROM tokens WHERE id = $OBS_ID")"
assert_eq "token value nowhere in the db" 0 \
	"$(cat "$DB" "$DB-wal" 2>/dev/null | grep -c "$OBS")"
code=$(api "$OBS" GET /api/v1/me)
assert_eq "me as observer" "200|obs|observer|$OBS_ID" "$code|$(jqr '[.name, .role, .token_id] | join("|")')"

code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "x", "role": "root"}')
assert_eq "bad role" "422|invalid role" "$code|$(jqr .error)"
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "a b/c", "role": "observer"}')
assert_eq "bad token name" "422|invalid token name" "$code|$(jqr .error)"
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"role": "observer"}')
assert_eq "missing token name" 422 "$code"
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "obs", "role": "admin"}')
assert_eq "duplicate token name" "409|token name in use" "$code|$(jqr .error)"

code=$(api "$ADMIN_TOKEN" GET /api/v1/tokens)
assert_eq "token list" "200|admin:admin:1 obs:observer:1 ops:operator:0 reader:observer:0" \
	"$code|$(jqr '[.tokens[] | "\(.name):\(.role):\(if .last_used == null then 0 else 1 end)"] | join(" ")')"
assert_eq "created_by" "admin" "$(jqr '.tokens[1].created_by')"

# ---- role checks on every mutating endpoint (and admin reads) -----------------------------------
check_refused() { # WHAT TOKEN METHOD PATH [JSON] -> 403
	if [ $# -gt 4 ]; then code=$(apij "$2" "$3" "$4" "$5"); else code=$(api "$2" "$3" "$4"); fi
	assert_eq "$1" "403|role not allowed" "$code|$(jqr .error)"
}
PACK_BODY='{"packs": [{"filename": "t.yaml", "source": "name: t\nqueries:\n  q:\n    query: SELECT 1\n    interval: 60\n"}]}'
check_refused "observer POST packs" "$OBS" POST /api/v1/packs "$PACK_BODY"
check_refused "observer DELETE packs" "$OBS" DELETE /api/v1/packs/t
check_refused "observer POST tokens" "$OBS" POST /api/v1/tokens '{"name": "e", "role": "admin"}'
check_refused "observer DELETE hosts" "$OBS" DELETE /api/v1/hosts/1
check_refused "observer GET audit" "$OBS" GET /api/v1/audit
check_refused "operator POST tokens" "$OPS" POST /api/v1/tokens '{"name": "e", "role": "admin"}'
check_refused "operator GET tokens" "$OPS" GET /api/v1/tokens
check_refused "operator DELETE tokens" "$OPS" DELETE "/api/v1/tokens/$OBS_ID"
check_refused "operator DELETE hosts" "$OPS" DELETE /api/v1/hosts/1
check_refused "operator GET audit" "$OPS" GET /api/v1/audit
assert_contains "403 names the allowed roles" "allowed: admin, operator" \
	"$(check_refused x "$OBS" POST /api/v1/packs "$PACK_BODY"; jqr .detail)"

wait_audit "action=auth.denied" 12 || fail "refusals not in the audit log in time"
assert_eq "refusals in the audit log" "anonymous||GET /api/v1/me|401|missing token
anonymous||GET /api/v1/hosts|401|unknown or revoked token
obs|observer|POST /api/v1/packs|403|role not allowed
obs|observer|DELETE /api/v1/packs/t|403|role not allowed
obs|observer|POST /api/v1/tokens|403|role not allowed
obs|observer|DELETE /api/v1/hosts/1|403|role not allowed
obs|observer|GET /api/v1/audit|403|role not allowed
ops|operator|POST /api/v1/tokens|403|role not allowed
ops|operator|GET /api/v1/tokens|403|role not allowed
ops|operator|DELETE /api/v1/tokens/$OBS_ID|403|role not allowed
ops|operator|DELETE /api/v1/hosts/1|403|role not allowed
ops|operator|GET /api/v1/audit|403|role not allowed" \
	"$(jq -r '.audit[] | [.actor, .role, .target, .status, .detail.reason] | map(tostring) | join("|")' "$TMP/resp")"
assert_eq "refusal address" "127.0.0.1" "$(jqr '.audit[0].address')"

# A flood of identical refusals is written once (the rest are counted).
i=0
while [ $i -lt 30 ]; do
	api "mmt_flood" GET /api/v1/status >/dev/null
	i=$((i + 1))
done
sleep 0.3
api "$ADMIN_TOKEN" GET "/api/v1/audit?action=auth.*" >/dev/null
assert_eq "flood written once" 1 \
	"$(jq '[.audit[] | select(.target == "GET /api/v1/status")] | length' "$TMP/resp")"

# ---- revoking tokens -------------------------------------------------------------------------------
code=$(api "$ADMIN_TOKEN" DELETE "/api/v1/tokens/$OBS_ID")
assert_eq "revoke observer" "200|$OBS_ID" "$code|$(jqr .revoked)"
code=$(api "$OBS" GET /api/v1/me)
assert_eq "revoked token" "401|unknown or revoked token" "$code|$(jqr .error)"
code=$(api "$ADMIN_TOKEN" DELETE "/api/v1/tokens/$OBS_ID")
assert_eq "revoke twice" 409 "$code"
code=$(api "$ADMIN_TOKEN" DELETE /api/v1/tokens/999)
assert_eq "revoke unknown" 404 "$code"
code=$(api "$ADMIN_TOKEN" DELETE /api/v1/tokens/abc)
assert_eq "revoke non-numeric" 404 "$code"
code=$(api "$ADMIN_TOKEN" DELETE /api/v1/tokens/1)
assert_eq "last admin kept" "409|cannot revoke the last admin token" "$code|$(jqr .error)"
code=$(api "$ADMIN_TOKEN" GET /api/v1/tokens)
assert_eq "revoked_at listed" "true|null" \
	"$(jqr "[(.tokens[] | select(.id == $OBS_ID) | .revoked_at != null), (.tokens[0].revoked_at)] | map(tostring) | join(\"|\")")"
assert_eq "last_used of a used token" "true" "$(jqr '.tokens[] | select(.name == "ops") | .last_used > 0')"
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "obs", "role": "observer"}')
assert_eq "name free again after revoke" 200 "$code"
code=$(api "$ADMIN_TOKEN" GET "/api/v1/audit?action=token.*")
assert_eq "token changes audited" "token.create|obs|admin token.create|ops|admin token.create|reader|admin token.revoke|obs|admin token.create|obs|admin" \
	"$(jqr '[.audit[] | "\(.action)|\(.target)|\(.actor)"] | join(" ")')"
assert_eq "no token value in the audit log" 0 "$(sql "SELECT count(*) FROM audit WHERE detail LIKE '%mmt_%' OR target LIKE '%mmt_%'")"

# ---- packs ------------------------------------------------------------------------------------------
WEB_YAML='# web.yaml
name: web
description: Web server exposure
platform: linux
queries:
  ports:
    query: SELECT port, protocol FROM listening_ports
    interval: 60
  users:
    query: SELECT username FROM users
    interval: "300"
    snapshot: true
'
EXTRA_CONF='{
  // an osquery pack file
  "queries": {
    "kernel": {"query": "SELECT version FROM kernel_info", "interval": "3600"}
  }
}'
body=$(jq -n --arg web "$WEB_YAML" --arg extra "$EXTRA_CONF" \
	'{packs: [{format: "yaml", filename: "web.yaml", source: $web}, {format: "conf", filename: "packs/extra.conf", source: $extra}]}')
code=$(apij "$OPS" POST /api/v1/packs "$body")
assert_eq "apply packs" "200|web:2:true extra:1:true" \
	"$code|$(jqr '[.applied[] | "\(.name):\(.queries):\(.created)"] | join(" ")')"
code=$(api "$READER" GET /api/v1/packs)
assert_eq "pack list" "200|extra::1:ops web:linux:2:ops" \
	"$code|$(jqr '[.packs[] | "\(.name):\(.platform):\(.queries):\(.updated_by)"] | join(" ")')"
api "$READER" GET /api/v1/packs >/dev/null
cp "$TMP/resp" "$TMP/packs_before"
code=$(api "$READER" GET /api/v1/packs/web)
assert_eq "pack show" "200|web|Web server exposure|SELECT port, protocol FROM listening_ports|300|true" \
	"$code|$(jqr '[.pack.name, .pack.description, .pack.queries.ports.query, .pack.queries.users.interval, .pack.queries.users.snapshot] | map(tostring) | join("|")')"
assert_eq "pack source kept" "$(printf %s "$WEB_YAML" | jq -Rs .)" "$(jq .pack.source "$TMP/resp")"
code=$(api "$READER" GET /api/v1/packs/nosuch)
assert_eq "unknown pack" 404 "$code"

# A typo'd column refuses the whole request, naming file, pack, query and SQLite's message.
BAD_YAML=$(printf 'name: bad\nqueries:\n  ports:\n    query: SELECT prot FROM listening_ports\n    interval: 60\n')
NEW_YAML=$(printf 'name: fresh\nqueries:\n  one:\n    query: SELECT 1\n    interval: 60\n')
body=$(jq -n --arg bad "$BAD_YAML" --arg new "$NEW_YAML" \
	'{packs: [{filename: "fresh.yaml", source: $new}, {filename: "bad.yaml", source: $bad}]}')
code=$(apij "$OPS" POST /api/v1/packs "$body")
assert_eq "bad pack refused" "422|invalid pack, nothing applied" "$code|$(jqr .error)"
assert_eq "bad pack message" "bad.yaml: pack bad, query ports: no such column: prot" "$(jqr .detail)"
api "$READER" GET /api/v1/packs >/dev/null
assert_eq "nothing stored" "$(cat "$TMP/packs_before")" "$(cat "$TMP/resp")"
body=$(jq -n '{packs: [{filename: "p.yaml", source: "name: p\nqueries:\n  q:\n    query: SELECT 1\n    intervall: 60\n"}]}')
code=$(apij "$OPS" POST /api/v1/packs "$body")
assert_eq "pack parse error" 422 "$code"
assert_contains "parse error names the file" "p.yaml:" "$(jqr .detail)"
body=$(jq -n --arg web "$WEB_YAML" '{packs: [{filename: "a.yaml", source: $web}, {filename: "b.yaml", source: $web}]}')
code=$(apij "$OPS" POST /api/v1/packs "$body")
assert_eq "same pack twice" "422|b.yaml: pack web given twice" "$code|$(jqr .detail)"
code=$(apij "$OPS" POST /api/v1/packs '{"packs": []}')
assert_eq "no packs" 400 "$code"
code=$(apij "$OPS" POST /api/v1/packs '{"packs": [{"filename": "x.yaml"}]}')
assert_eq "pack without source" 422 "$code"
code=$(apij "$OPS" POST /api/v1/packs '{"packs": [{"format": "toml", "source": "x"}]}')
assert_eq "unknown pack format" 422 "$code"
body=$(jq -n --arg web "$WEB_YAML" '{packs: [{filename: "web.yaml", source: $web}]}')
code=$(apij "$OPS" POST /api/v1/packs "$body")
assert_eq "re-apply replaces" "200|false" "$code|$(jqr '.applied[0].created')"
code=$(api "$OPS" DELETE /api/v1/packs/extra)
assert_eq "delete pack" "200|extra" "$code|$(jqr .deleted)"
code=$(api "$OPS" DELETE /api/v1/packs/extra)
assert_eq "delete pack twice" 404 "$code"
code=$(api "$ADMIN_TOKEN" GET "/api/v1/audit?action=pack.*")
assert_eq "pack changes audited" "pack.apply|web|ops|200 pack.apply|extra|ops|200 pack.apply||ops|422 pack.apply||ops|422 pack.apply||ops|422 pack.apply||ops|422 pack.apply||ops|422 pack.apply|web|ops|200 pack.delete|extra|ops|200" \
	"$(jqr '[.audit[] | "\(.action)|\(.target)|\(.actor)|\(.status)"] | join(" ")')"

# ---- agents: enroll, get the packs, send results ----------------------------------------------------
enroll() { # IDENTIFIER HOSTNAME
	srv_post /api/v1/osquery/enroll "$(printf '{"enroll_secret": "%s", "host_identifier": "%s", "platform_type": "9", "host_details": {"system_info": {"hostname": "%s", "uuid": "%s-uuid"}, "os_version": {"name": "Debian GNU/Linux", "version": "12 (bookworm)", "platform": "debian"}, "osquery_info": {"version": "5.12.1"}}}' \
		"$ENROLL_SECRET" "$1" "$2" "$1")"
}
code=$(enroll web01 web01.example.com)
assert_eq "enroll web01" 200 "$code"
WEB_KEY=$(jqr .node_key)
WEB_ID=$(jqr .mamori.host_id)
code=$(enroll db01 db01.example.com)
DB_KEY=$(jqr .node_key)
DB_ID=$(jqr .mamori.host_id)
code=$(srv_post /api/v1/osquery/config "{\"node_key\": \"$WEB_KEY\"}")
assert_eq "config carries the applied pack" "200|web|SELECT port, protocol FROM listening_ports" \
	"$code|$(jqr '[.packs | keys[]] | join(",")')|$(jqr '.packs.web.queries.ports.query')"

line() { # NAME UNIXTIME COUNTER ACTION COLUMNS
	printf '{"name": "%s", "hostIdentifier": "h", "calendarTime": "Tue Nov 14 22:13:20 2023 UTC", "unixTime": %s, "epoch": 0, "counter": %s, "numerics": false, "decorations": {}, "columns": %s, "action": "%s"}' \
		"$1" "$2" "$3" "$5" "$4"
}
data="$(line pack/web/ports 1700000000 0 added '{"port": "22", "protocol": "6"}'),
$(line pack/web/ports 1700000100 1 added '{"port": "80", "protocol": "6"}'),
$(line pack/web/ports 1700000200 2 removed '{"port": "22", "protocol": "6"}'),
{\"name\": \"pack/web/users\", \"hostIdentifier\": \"h\", \"unixTime\": 1700000300, \"epoch\": 0, \"counter\": 0, \"snapshot\": [{\"username\": \"root\"}, {\"username\": \"www-data\"}], \"action\": \"snapshot\"}"
code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$WEB_KEY\", \"log_type\": \"result\", \"data\": [$data]}")
assert_eq "log web01" 200 "$code"
code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$DB_KEY\", \"log_type\": \"result\", \"data\": [$(line pack/web/ports 1700000050 0 added '{"port": "5432", "protocol": "6"}')]}")
assert_eq "log db01" 200 "$code"

rows() { jqr '[.results[] | "\(.host):\(.action):\(.columns.port)"] | join(" ")'; }
code=$(api "$READER" GET "/api/v1/results?pack=web&query=ports&host=web01")
assert_eq "results by pack, query, host" \
	"200|web01.example.com:added:22 web01.example.com:added:80 web01.example.com:removed:22|null" \
	"$code|$(rows)|$(jqr .next_after)"
assert_eq "result row" "$WEB_ID|pack/web/ports|web|ports|0|0|1700000000|object" \
	"$(jqr '.results[0] | [.host_id, .name, .pack, .query, .epoch, .counter, .unix_time, (.columns | type)] | map(tostring) | join("|")')"
code=$(api "$READER" GET "/api/v1/results?pack=web&query=ports&host=$WEB_ID")
assert_eq "results by host id" "200|3" "$code|$(jqr '.results | length')"
code=$(api "$READER" GET "/api/v1/results?host=db01.example.com")
assert_eq "results by hostname" "200|db01.example.com:added:5432" "$code|$(rows)"
code=$(api "$READER" GET "/api/v1/results?pack=web&query=ports")
assert_eq "results of every host" 4 "$(jqr '.results | length')"
code=$(api "$READER" GET "/api/v1/results?pack=web&query=ports&since=1700000100")
assert_eq "results since" "web01.example.com:added:80 web01.example.com:removed:22" "$(rows)"
code=$(api "$READER" GET "/api/v1/results?pack=web&query=users")
assert_eq "snapshot columns are rows" "200|snapshot|root,www-data" \
	"$code|$(jqr '.results[0].action')|$(jqr '[.results[0].columns[].username] | join(",")')"
code=$(api "$READER" GET "/api/v1/results?pack=web&query=ports&host=web01&limit=2")
assert_eq "first page" "2|$(jqr '.results[1].id')" "$(jqr '.results | length')|$(jqr .next_after)"
after=$(jqr .next_after)
code=$(api "$READER" GET "/api/v1/results?pack=web&query=ports&host=web01&limit=2&after=$after")
assert_eq "second page" "web01.example.com:removed:22|null" "$(rows)|$(jqr .next_after)"
code=$(api "$READER" GET "/api/v1/results?host=nosuch")
assert_eq "results of an unknown host" 404 "$code"
code=$(api "$READER" GET "/api/v1/results?limit=0")
assert_eq "limit 0" 400 "$code"
code=$(api "$READER" GET "/api/v1/results?limit=10001")
assert_eq "limit over the cap" 400 "$code"
code=$(api "$READER" GET "/api/v1/results?since=yesterday")
assert_eq "since not a number" "400|since must be an integer from 0 to 9223372036854775807" \
	"$code|$(jqr .detail)"

# ---- hosts -----------------------------------------------------------------------------------------
code=$(api "$READER" GET /api/v1/hosts)
assert_eq "host list" "200|$WEB_ID:web01:web01.example.com:online $DB_ID:db01:db01.example.com:online|null" \
	"$code|$(jqr '[.hosts[] | "\(.id):\(.host_identifier):\(.hostname):\(.status)"] | join(" ")')|$(jqr .next_after)"
assert_eq "host fields" "web01-uuid|Debian GNU/Linux|12 (bookworm)|debian|osquery|5.12.1|127.0.0.1|true" \
	"$(jqr '.hosts[0] | [.uuid, .os_name, .os_version, .platform, .agent, .agent_version, .address, (.last_seen >= .enrolled_at)] | map(tostring) | join("|")')"
code=$(api "$READER" GET "/api/v1/hosts?status=offline")
assert_eq "no host offline" "200|0" "$code|$(jqr '.hosts | length')"
code=$(api "$READER" GET "/api/v1/hosts?status=sleeping")
assert_eq "bad status filter" 400 "$code"
code=$(api "$READER" GET "/api/v1/hosts?limit=1")
assert_eq "host page" "1|$WEB_ID" "$(jqr '.hosts | length')|$(jqr .next_after)"
for h in "$WEB_ID" web01 web01.example.com; do
	code=$(api "$READER" GET "/api/v1/hosts/$h")
	assert_eq "show host $h" "200|$WEB_ID|web01|online|web01-uuid|null" \
		"$code|$(jqr '.host | [.id, .host_identifier, .status, .details.system_info.uuid, .revoked_at] | map(tostring) | join("|")')"
done
code=$(api "$READER" GET /api/v1/hosts/nosuch)
assert_eq "show unknown host" 404 "$code"
code=$(api "$READER" GET /api/v1/status)
assert_eq "status" "200|0.1.0|2|2|0" \
	"$code|$(jqr '[.version, .hosts, .online, .store.queue] | map(tostring) | join("|")')"

code=$(api "$ADMIN_TOKEN" DELETE /api/v1/hosts/web01)
assert_eq "revoke host" "200|$WEB_ID" "$code|$(jqr .revoked)"
code=$(srv_post /api/v1/osquery/config "{\"node_key\": \"$WEB_KEY\"}")
assert_eq "revoked node key" "401|true" "$code|$(jqr .node_invalid)"
code=$(srv_post /api/v1/osquery/config "{\"node_key\": \"$DB_KEY\"}")
assert_eq "other host unaffected" 200 "$code"
assert_eq "revoked in the db" "|1" "$(sql "SELECT node_key_hash, revoked_at > 0 FROM hosts WHERE id = $WEB_ID")"
code=$(api "$ADMIN_TOKEN" DELETE "/api/v1/hosts/$WEB_ID")
assert_eq "revoke host twice" 409 "$code"
code=$(api "$READER" GET /api/v1/hosts)
assert_eq "revoked host not listed" "db01" "$(jqr '[.hosts[].host_identifier] | join(" ")')"
code=$(api "$READER" GET "/api/v1/hosts?status=revoked")
assert_eq "revoked hosts" "web01:revoked" "$(jqr '[.hosts[] | "\(.host_identifier):\(.status)"] | join(" ")')"
code=$(api "$READER" GET /api/v1/hosts/web01)
assert_eq "show revoked host" "200|revoked|true" "$code|$(jqr '.host.status')|$(jqr '.host.revoked_at > 0')"
code=$(api "$READER" GET "/api/v1/results?host=web01&query=ports")
assert_eq "results of a revoked host stay" 3 "$(jqr '.results | length')"
code=$(api "$READER" GET /api/v1/status)
assert_eq "status after revoke" "1|1" "$(jqr '[.hosts, .online] | map(tostring) | join("|")')"
code=$(api "$ADMIN_TOKEN" GET "/api/v1/audit?action=host.revoke")
assert_eq "host revoke audited" "host.revoke|web01|admin|$WEB_ID" \
	"$(jqr '.audit[] | [.action, .target, .actor, .detail.id] | map(tostring) | join("|")')"

# ---- audit listing --------------------------------------------------------------------------------
code=$(api "$ADMIN_TOKEN" GET "/api/v1/audit?actor=ops&limit=2")
assert_eq "audit page" "200|2|ops,ops" "$code|$(jqr '.audit | length')|$(jqr '[.audit[].actor] | join(",")')"
after=$(jqr .next_after)
code=$(api "$ADMIN_TOKEN" GET "/api/v1/audit?actor=ops&after=$after&limit=10000")
assert_eq "audit next page starts after" "true" "$(jqr "[.audit[].id > $after] | all")"
code=$(api "$ADMIN_TOKEN" GET "/api/v1/audit?limit=99999")
assert_eq "audit limit cap" 400 "$code"

# ---- bad requests -----------------------------------------------------------------------------------
code=$(apij "$ADMIN_TOKEN" POST /api/v1/tokens '{"name": "x", ')
assert_eq "malformed JSON" 400 "$code"
code=$(curl -sS --cacert "$SERVER_CA" -o "$TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
	-H 'Content-Type: text/plain' --data-binary '{"name": "x", "role": "observer"}' "$SERVER_URL/api/v1/tokens")
assert_eq "wrong content type" 415 "$code"
code=$(curl -sS --cacert "$SERVER_CA" -o "$TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
	--data-binary '{"name": "x", "role": "observer"}' -H 'Content-Type:' "$SERVER_URL/api/v1/tokens")
assert_eq "no content type" 415 "$code"
head -c 100000 /dev/zero | tr '\0' 'a' >"$TMP/big"
code=$(curl -sS --cacert "$SERVER_CA" -o "$TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $OPS" \
	-H 'Content-Type: application/json' --data-binary "@$TMP/big" "$SERVER_URL/api/v1/packs")
assert_eq "body too big" 413 "$code"
code=$(apij "$OPS" POST /api/v1/packs '[1, 2]')
assert_eq "body not an object" 400 "$code"
code=$(api "$ADMIN_TOKEN" PUT /api/v1/tokens)
assert_eq "wrong method" 405 "$code"
code=$(api "$ADMIN_TOKEN" GET /api/v1/nosuch)
assert_eq "unknown path" 404 "$code"
code=$(api "$ADMIN_TOKEN" GET /api/v1/me)
assert_eq "still serving" "200|admin" "$code|$(jqr .name)"
assert_eq "no enroll secret in the audit log" 0 \
	"$(sql "SELECT count(*) FROM audit WHERE instr(detail, '$ENROLL_SECRET') > 0")"

server_stop
assert_eq "clean stop" 0 "$SERVER_STATUS"
finish
