#!/bin/sh
# server_agent_api.sh - the agent API (osquery's TLS remote API) end to end:
# requests shaped as osquery 5 sends them, over TLS verified against the
# coordinator's CA; responses, rows in the database and lines in the
# results file; then bad input, after each of which the server still
# answers and the stored rows are unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"

command -v sqlite3 >/dev/null || { fail "sqlite3 is needed"; finish; }

server_init || finish
# Small caps so the limits are cheap to reach.
sed -i -e 's/^max_body: .*/max_body: 64KiB/' -e 's/^enroll_rate_per_min: .*/enroll_rate_per_min: 3/' \
	"$SERVER_CONFIG"
server_start || finish
DB=$SERVER_DIR/mamori.db
RESULTS=$SERVER_DIR/results.log

sql() { sqlite3 -batch "$DB" "$@"; }
jqr() { jq -r "$1" "$TMP/resp"; }

host_details='{
  "os_version": {"_id": "", "build": "", "codename": "bookworm", "major": "12", "minor": "0",
    "name": "Debian GNU/Linux", "patch": "0", "platform": "debian", "platform_like": "",
    "version": "12 (bookworm)"},
  "osquery_info": {"build_distro": "centos7", "build_platform": "linux", "config_hash": "",
    "config_valid": "0", "extensions": "active", "instance_id": "b4f9f0a1-0000-4000-8000-000000000001",
    "pid": "4242", "platform_mask": "9", "start_time": "1700000000",
    "uuid": "4C4C4544-0042-3010-8052-B4C04F4E4A32", "version": "5.12.1", "watcher": "-1"},
  "system_info": {"computer_name": "web01", "cpu_brand": "QEMU Virtual CPU", "cpu_logical_cores": "2",
    "cpu_physical_cores": "2", "cpu_subtype": "", "cpu_type": "x86_64", "hardware_model": "",
    "hardware_serial": "", "hardware_vendor": "QEMU", "hardware_version": "pc-i440fx-7.2",
    "hostname": "web01.example.com", "local_hostname": "web01", "physical_memory": "2084347904",
    "uuid": "4C4C4544-0042-3010-8052-B4C04F4E4A32"},
  "platform_info": {"address": "0xe8000", "date": "04/01/2014", "extra": "", "revision": "0.0",
    "size": "131072", "vendor": "SeaBIOS", "version": "1.16.2-debian-1.16.2-1"}
}'

enroll_body() { # SECRET IDENTIFIER
	printf '{"enroll_secret": "%s", "host_identifier": "%s", "platform_type": "9", "host_details": %s}' \
		"$1" "$2" "$host_details"
}

# ---- enroll ---------------------------------------------------------------------------------
code=$(srv_post /api/v1/osquery/enroll "$(enroll_body "$ENROLL_SECRET" web01.example.com)")
assert_eq "enroll status" 200 "$code"
NODE_KEY=$(jqr .node_key)
assert_eq "enroll node_invalid" false "$(jqr .node_invalid)"
assert_eq "node key shape" 64 "$(printf %s "$NODE_KEY" | tr -cd 0-9a-f | wc -c)"
HOST_ID=$(jqr .mamori.host_id)
assert_eq "host id" 1 "$HOST_ID"
assert_eq "host row" "web01.example.com|web01.example.com|4C4C4544-0042-3010-8052-B4C04F4E4A32|Debian GNU/Linux|12 (bookworm)|debian|osquery|5.12.1|127.0.0.1" \
	"$(sql "SELECT host_identifier, hostname, uuid, os_name, os_version, platform, agent, agent_version, address FROM hosts WHERE id = $HOST_ID")"
assert_eq "node key stored hashed" "$(printf %s "$NODE_KEY" | sha256sum | cut -d' ' -f1)" \
	"$(sql "SELECT node_key_hash FROM hosts WHERE id = $HOST_ID")"
assert_eq "no plain key in the db" 0 "$(sql "SELECT count(*) FROM hosts WHERE details LIKE '%$NODE_KEY%'")"
assert_eq "enroll audited" "host.enroll|web01.example.com" \
	"$(sql "SELECT action, target FROM audit WHERE action = 'host.enroll'")"

# A Mamori agent says so in osquery_info.extensions.
mamori_details=$(printf %s "$host_details" | sed 's/"extensions": "active"/"extensions": "mamori"/;
	s/4C4C4544-0042-3010-8052-B4C04F4E4A32/11111111-2222-3333-4444-555555555555/g')
code=$(srv_post /api/v1/osquery/enroll "$(printf '{"enroll_secret": "%s", "host_identifier": "db01", "platform_type": "9", "host_details": %s}' "$ENROLL_SECRET" "$mamori_details")")
assert_eq "mamori enroll" 200 "$code"
DB_KEY=$(jqr .node_key)
DB_ID=$(jqr .mamori.host_id)
assert_eq "mamori agent" "2|mamori" "$(sql "SELECT id, agent FROM hosts WHERE host_identifier = 'db01'")"

# ---- config ---------------------------------------------------------------------------------
code=$(srv_post /api/v1/osquery/config "{\"node_key\": \"$NODE_KEY\"}")
assert_eq "config status" 200 "$code"
assert_eq "config options" '10|60|/|{}|{}|1' \
	"$(jq -r '[.options.distributed_interval, .options.config_refresh, .options.pack_delimiter, (.schedule|tojson), (.packs|tojson), .mamori.host_id] | join("|")' "$TMP/resp")"
# A pack in the store shows up in the config once config_gen moves (on restart here).
sql "INSERT INTO packs(name, body, created_at, updated_at) VALUES('web', '{\"queries\": {\"ports\": {\"query\": \"SELECT * FROM listening_ports\", \"interval\": 60}}}', 1, 1)"
server_stop
server_start || finish
code=$(srv_post /api/v1/osquery/config "{\"node_key\": \"$NODE_KEY\"}")
assert_eq "config with pack" '200|SELECT * FROM listening_ports|60|1' \
	"$code|$(jq -r '[.packs.web.queries.ports.query, .packs.web.queries.ports.interval, .mamori.host_id] | join("|")' "$TMP/resp")"
assert_eq "host index reloaded" 1 "$(grep -c '(2 hosts)' "$SERVER_LOG")"

# ---- distributed ----------------------------------------------------------------------------
code=$(srv_post /api/v1/osquery/distributed/read "{\"node_key\": \"$NODE_KEY\"}")
assert_eq "distributed read" '200 {"queries":{},"discovery":{}}' "$code $(cat "$TMP/resp")"
code=$(srv_post /api/v1/osquery/distributed/write "{\"node_key\": \"$NODE_KEY\", \"queries\": {\"q1\": [{\"port\": \"22\"}]}, \"statuses\": {\"q1\": 0}, \"messages\": {\"q1\": \"\"}, \"stats\": {\"q1\": {\"wall_time_ms\": 3, \"user_time\": 1, \"system_time\": 0, \"memory\": 0}}}")
assert_eq "distributed write" '200 {}' "$code $(cat "$TMP/resp")"
# The node key may come in the header instead (newer osquery).
code=$(srv_post /api/v1/osquery/distributed/read '{}' -H "Authorization: NodeKey $NODE_KEY")
assert_eq "node key in Authorization" 200 "$code"

# ---- log: results ---------------------------------------------------------------------------
results_body=$(cat <<EOF
{"node_key": "$NODE_KEY", "log_type": "result", "data": [
 {"name": "pack/web/ports", "hostIdentifier": "web01", "calendarTime": "Mon Nov 27 21:00:00 2023 UTC",
  "unixTime": 1701118800, "epoch": 0, "counter": 0, "numerics": false,
  "decorations": {"host_uuid": "4C4C4544-0042-3010-8052-B4C04F4E4A32", "hostname": "web01"},
  "columns": {"address": "0.0.0.0", "port": "22", "protocol": "6"}, "action": "added"},
 {"name": "pack/web/ports", "hostIdentifier": "web01", "calendarTime": "Mon Nov 27 21:01:00 2023 UTC",
  "unixTime": 1701118860, "epoch": 0, "counter": 1, "numerics": false, "decorations": {},
  "columns": {"address": "0.0.0.0", "port": "80", "protocol": "6"}, "action": "removed"},
 {"name": "pack_base_users", "hostIdentifier": "web01", "calendarTime": "Mon Nov 27 21:02:00 2023 UTC",
  "unixTime": 1701118920, "epoch": 0, "counter": 0, "numerics": false, "decorations": {},
  "snapshot": [{"uid": "0", "username": "root"}, {"uid": "1000", "username": "ann"}], "action": "snapshot"},
 {"name": "adhoc", "hostIdentifier": "web01", "calendarTime": "Mon Nov 27 21:03:00 2023 UTC",
  "unixTime": "1701118980", "epoch": "0", "counter": "2", "numerics": false,
  "diffResults": {"added": [{"k": "a"}, {"k": "b"}], "removed": [{"k": "c"}]}}
]}
EOF
)
code=$(srv_post /api/v1/osquery/log "$results_body")
assert_eq "log results" '200 {}' "$code $(cat "$TMP/resp")"
assert_eq "result rows" "$HOST_ID|pack/web/ports|web|ports|added|0|1701118800|{\"address\":\"0.0.0.0\",\"port\":\"22\",\"protocol\":\"6\"}
$HOST_ID|pack/web/ports|web|ports|removed|1|1701118860|{\"address\":\"0.0.0.0\",\"port\":\"80\",\"protocol\":\"6\"}
$HOST_ID|pack_base_users|base|users|snapshot|0|1701118920|[{\"uid\":\"0\",\"username\":\"root\"},{\"uid\":\"1000\",\"username\":\"ann\"}]
$HOST_ID|adhoc||adhoc|added|2|1701118980|{\"k\":\"a\"}
$HOST_ID|adhoc||adhoc|added|2|1701118980|{\"k\":\"b\"}
$HOST_ID|adhoc||adhoc|removed|2|1701118980|{\"k\":\"c\"}" \
	"$(sql "SELECT host_id, name, pack, query, action, counter, unix_time, columns FROM results ORDER BY id")"
# The results file: event format, one line per row of the batch format, the
# host's own identifier whatever the line said.
assert_eq "results file lines" 6 "$(wc -l <"$RESULTS")"
assert_eq "results file mode" 600 "$(stat -c %a "$RESULTS")"
assert_eq "results file hosts" "web01.example.com" "$(jq -r .hostIdentifier "$RESULTS" | sort -u)"
assert_eq "results file actions" "added removed snapshot added added removed" \
	"$(jq -r .action "$RESULTS" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "results file batch row" '{"k":"c"}' "$(jq -c 'select(.name == "adhoc" and .action == "removed") | .columns' "$RESULTS")"

# ---- log: status ----------------------------------------------------------------------------
status_body=$(cat <<EOF
{"node_key": "$NODE_KEY", "log_type": "status", "data": [
 {"hostIdentifier": "web01.example.com", "calendarTime": "Mon Nov 27 21:00:00 2023 UTC",
  "unixTime": "1701118800", "severity": "0", "filename": "scheduler.cpp", "line": "83",
  "message": "Executing scheduled query pack/web/ports: SELECT * FROM listening_ports",
  "version": "5.12.1", "decorations": {"hostname": "web01"}},
 {"hostIdentifier": "web01.example.com", "calendarTime": "Mon Nov 27 21:00:01 2023 UTC",
  "unixTime": 1701118801, "severity": 2, "filename": "tls.cpp", "line": 255,
  "message": "TLS/HTTPS POST request failed", "version": "5.12.1", "decorations": {}}
]}
EOF
)
code=$(srv_post /api/v1/osquery/log "$status_body")
assert_eq "log status" '200 {}' "$code $(cat "$TMP/resp")"
assert_eq "status rows" "$HOST_ID|0|scheduler.cpp|83|1701118800|Executing scheduled query pack/web/ports: SELECT * FROM listening_ports
$HOST_ID|2|tls.cpp|255|1701118801|TLS/HTTPS POST request failed" \
	"$(sql "SELECT host_id, severity, filename, line, unix_time, message FROM status_logs ORDER BY id")"
assert_eq "status lines stay out of the results file" 6 "$(wc -l <"$RESULTS")"

# ---- exactly-once with mamori_seq -----------------------------------------------------------
line() { # NAME PORT
	printf '{"name": "%s", "hostIdentifier": "db01", "calendarTime": "Mon Nov 27 21:00:00 2023 UTC", "unixTime": 1701118800, "epoch": 0, "counter": 1, "numerics": false, "decorations": {}, "columns": {"port": "%s"}, "action": "added"}' "$1" "$2"
}
seq_body() { # SEQ LINES...
	s=$1
	shift
	printf '{"node_key": "%s", "log_type": "result", "mamori_seq": %s, "data": [%s]}' "$DB_KEY" "$s" "$(echo "$@" | sed 's/} {/}, {/g')"
}
db_rows() { sql "SELECT group_concat(json_extract(columns, '$.port'), ',') FROM (SELECT columns FROM results WHERE host_id = $DB_ID ORDER BY id)"; }
code=$(srv_post /api/v1/osquery/log "$(seq_body 1 "$(line pack/db/p 1)" "$(line pack/db/p 2)")")
assert_eq "seq 1-2" "200|1,2|2" "$code|$(db_rows)|$(sql "SELECT log_seq FROM hosts WHERE id = $DB_ID")"
code=$(srv_post /api/v1/osquery/log "$(seq_body 1 "$(line pack/db/p 1)" "$(line pack/db/p 2)")")
assert_eq "seq 1-2 again (lost ack)" "200|1,2|2" "$code|$(db_rows)|$(sql "SELECT log_seq FROM hosts WHERE id = $DB_ID")"
code=$(srv_post /api/v1/osquery/log "$(seq_body 2 "$(line pack/db/p 2)" "$(line pack/db/p 3)")")
assert_eq "seq 2-3 overlapping" "200|1,2,3|3" "$code|$(db_rows)|$(sql "SELECT log_seq FROM hosts WHERE id = $DB_ID")"
assert_eq "file lines of db01" 3 "$(grep -c '"hostIdentifier":"db01"' "$RESULTS")"

# ---- re-enroll ------------------------------------------------------------------------------
code=$(srv_post /api/v1/osquery/enroll "$(enroll_body "$ENROLL_SECRET" web01.example.com)")
NEW_KEY=$(jqr .node_key)
assert_eq "re-enroll keeps the row" "200|$HOST_ID|2" "$code|$(jqr .mamori.host_id)|$(sql 'SELECT count(*) FROM hosts')"
code=$(srv_post /api/v1/osquery/config "{\"node_key\": \"$NODE_KEY\"}")
assert_eq "old key dropped" '401|true' "$code|$(jqr .node_invalid)"
NODE_KEY=$NEW_KEY
code=$(srv_post /api/v1/osquery/config "{\"node_key\": \"$NODE_KEY\"}")
assert_eq "new key works" 200 "$code"

# ---- bad input: refused, nothing stored, still serving ----------------------------------------
RES0=$(sql "SELECT count(*) FROM results")
STA0=$(sql "SELECT count(*) FROM status_logs")
HOSTS0=$(sql "SELECT count(*) FROM hosts")
# The results file grew by the 3 db01 lines: compare against that.
intact() { # WHAT
	assert_eq "$1: rows unchanged" "$RES0|$STA0|$HOSTS0|9" \
		"$(sql "SELECT (SELECT count(*) FROM results), (SELECT count(*) FROM status_logs), (SELECT count(*) FROM hosts)")|$(wc -l <"$RESULTS")"
	c=$(srv_post /api/v1/osquery/distributed/read "{\"node_key\": \"$NODE_KEY\"}")
	assert_eq "$1: still serving" 200 "$c"
}
intact "before"

code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$NODE_KEY\", \"log_type\": \"result\", \"data\": [")
assert_eq "malformed JSON" "400|malformed JSON" "$code|$(jqr .error)"
assert_contains "malformed JSON detail" "line 1" "$(jqr .detail)"
intact "malformed JSON"

head -c 70000 /dev/zero | tr '\0' 'x' >"$TMP/big"
code=$(curl -sS --cacert "$SERVER_CA" -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @"$TMP/big" "$SERVER_URL/api/v1/osquery/log")
assert_eq "body over the cap" 413 "$code"
intact "body over the cap"

code=$(curl -sS --cacert "$SERVER_CA" -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: text/plain' \
	--data-binary "{\"node_key\": \"$NODE_KEY\", \"log_type\": \"result\", \"data\": [$(line pack/db/p 7)]}" \
	"$SERVER_URL/api/v1/osquery/log")
assert_eq "text/plain on log" "415|Content-Type must be application/json" "$code|$(jqr .error)"
intact "text/plain"

code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"0000\", \"log_type\": \"result\", \"data\": [$(line pack/db/p 9)]}")
assert_eq "unknown node key" '401|true' "$code|$(jqr .node_invalid)"
code=$(srv_post /api/v1/osquery/config '{}')
assert_eq "no node key" '401|true' "$code|$(jqr .node_invalid)"
code=$(srv_post /api/v1/osquery/config '{"node_key": 12}')
assert_eq "node key not a string" 400 "$code"
intact "unknown node key"

code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$NODE_KEY\", \"log_type\": \"result\", \"data\": [$(line pack/web/p 1), {\"name\": \"pack/web/p\", \"unixTime\": 1, \"action\": \"added\"}]}")
assert_eq "line without columns" "400|malformed log line|data[1]: columns: expected an object" "$code|$(jqr .error)|$(jqr .detail)"
code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$NODE_KEY\", \"log_type\": \"result\", \"data\": [{\"name\": \"x\", \"unixTime\": \"soon\", \"columns\": {}, \"action\": \"added\"}]}")
assert_eq "unixTime not a number" "400|data[0]: unixTime: expected a number" "$code|$(jqr .detail)"
code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$NODE_KEY\", \"log_type\": \"status\", \"data\": [{\"severity\": \"0\", \"filename\": \"x.cpp\", \"message\": \"m\"}]}")
assert_eq "status line without line" "400|data[0]: line: expected a number" "$code|$(jqr .detail)"
code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$NODE_KEY\", \"log_type\": \"debug\", \"data\": []}")
assert_eq "unknown log_type" 400 "$code"
code=$(srv_post /api/v1/osquery/log "{\"node_key\": \"$NODE_KEY\", \"log_type\": \"result\", \"data\": {}}")
assert_eq "data not an array" 400 "$code"
code=$(srv_post /api/v1/osquery/log "[1, 2]")
assert_eq "body not an object" 400 "$code"
code=$(srv_post /api/v1/osquery/distributed/write "{\"node_key\": \"$NODE_KEY\", \"queries\": []}")
assert_eq "distributed write queries not an object" 400 "$code"
code=$(srv_post /api/v1/osquery/enroll '{"enroll_secret": 5, "host_identifier": "x"}')
assert_eq "enroll secret not a string" 400 "$code"
code=$(srv_get /api/v1/osquery/config)
assert_eq "GET on an agent endpoint" "405|method not allowed" "$code|$(jqr .error)"
intact "invalid lines"

# Plain HTTP on the TLS port gets no HTTP answer at all.
plain=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://${SERVER_URL#https://}/api/v1/osquery/config" \
	-H 'Content-Type: application/json' -d '{}')
assert_eq "plain HTTP on the TLS port" 000 "$plain"
intact "plain HTTP"

# Wrong enroll secrets: 401 up to enroll_rate_per_min (3) from one address, then
# 429, even with the right secret, until the minute is over.
for i in 1 2 3; do
	code=$(srv_post /api/v1/osquery/enroll "$(enroll_body wrong-secret evil$i)")
	assert_eq "wrong secret $i" '401|true' "$code|$(jqr .node_invalid)"
done
code=$(srv_post /api/v1/osquery/enroll "$(enroll_body wrong-secret evil4)")
assert_eq "wrong secret past the limit" '429|true' "$code|$(jqr .node_invalid)"
code=$(srv_post /api/v1/osquery/enroll "$(enroll_body "$ENROLL_SECRET" evil5)")
assert_eq "right secret while limited" 429 "$code"
# Refusals are audited by jobs of their own: give them a moment to commit.
n=0
while [ "$(sql "SELECT count(*) FROM audit WHERE action = 'enroll.denied'")" != 3 ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
assert_eq "refusals audited" 3 "$(sql "SELECT count(*) FROM audit WHERE action = 'enroll.denied' AND status = 401")"
intact "wrong secrets"

# ---- clean stop -------------------------------------------------------------------------------
server_stop
assert_eq "exit status after SIGTERM" 0 "$SERVER_STATUS"
assert_contains "stop logged" "stopping" "$(cat "$SERVER_LOG")"
assert_eq "database consistent" ok "$(sql 'PRAGMA integrity_check')"
finish
