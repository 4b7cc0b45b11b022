#!/bin/sh
# ctl.sh - `mamorictl` against a real coordinator on 127.0.0.1: login writes
# a 0600 config that later verbs use; hosts after enrolling two hosts through
# the agent API (curl); packs apply (file, directory, a bad pack that applies
# nothing), list, show, delete; results with filters in every format; tokens
# create/list/revoke and an observer refused; audit; usage errors (exit 2);
# a wrong CA, a silent server and a stopped server (exit 1).
. "$(dirname "$0")/lib.sh"
: "${MAMORICTL:?MAMORICTL must point at the mamorictl binary}"
: "${MAMORI_SERVER:?MAMORI_SERVER must point at the mamori-server binary}"
CTL=$MAMORICTL

# ctest's MAMORI_SERVER (the binary, for lib_server.sh) is also mamorictl's
# server URL variable: keep it as a shell variable only, not exported.  The
# settings then come only from what this script gives.
srv_bin=$MAMORI_SERVER
unset MAMORI_SERVER MAMORI_CA MAMORI_TOKEN MAMORICTL_CONFIG XDG_CONFIG_HOME MAMORICTL_PAGE_SIZE
MAMORI_SERVER=$srv_bin
. "$(dirname "$0")/lib_server.sh"
HOME=$TMP/home
export HOME
mkdir -p "$HOME"
CFG=$HOME/.config/mamori/mamorictl.yaml
TIME_RE='[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'

server_start || finish

# ---- login -------------------------------------------------------------------
printf 'mmt_%064d\n' 7 >"$TMP/bad.token"
assert_status "login with an unknown token exits 1" 1 \
	"$CTL" login --server "$SERVER_URL" --ca "$SERVER_CA" --token-file "$TMP/bad.token"
assert_eq "unknown token message" "mamorictl: unknown or revoked token" "$(cat "$TMP/err")"
assert_eq "nothing written after a refused login" "no" "$([ -e "$CFG" ] && echo yes || echo no)"

printf '%s\n' "$ADMIN_TOKEN" >"$TMP/admin.token"
assert_status "login with the token on stdin" 0 \
	"$CTL" login --server "$SERVER_URL/" --ca "$SERVER_CA" <"$TMP/admin.token"
assert_eq "login says who" \
	"logged in to $SERVER_URL as admin (role admin); settings saved in $CFG" "$(cat "$TMP/out")"
assert_eq "config mode" "600" "$(stat -c %a "$CFG")"
assert_eq "config dir mode" "700 700" \
	"$(stat -c %a "$HOME/.config/mamori") $(stat -c %a "$HOME/.config")"
assert_eq "config content" "# mamorictl settings, written by \`mamorictl login\`.
server: \"$SERVER_URL\"
ca: \"$SERVER_CA\"
token: \"$ADMIN_TOKEN\"" "$(cat "$CFG")"
case "$(cat "$TMP/out" "$TMP/err")" in
*"$ADMIN_TOKEN"*) fail "login printed the token" ;;
*) pass ;;
esac

# Later verbs work from the config file alone.
assert_status "status from the config" 0 "$CTL" status
assert_eq "status head" "server            $SERVER_URL
user              admin
role              admin
version           0.1.0" "$(head -n 4 "$TMP/out")"
assert_eq "status: live queries" "live.running      0" "$(grep '^live.running' "$TMP/out")"
got=$("$CTL" status --format json | jq -r '[.version, .hosts] | @tsv')
assert_eq "status json" "0.1.0	0" "$got"

# Flags and the environment come before the config file.
assert_status "MAMORI_TOKEN beats the config" 1 env MAMORI_TOKEN=mmt_nope "$CTL" status
assert_eq "MAMORI_TOKEN used" "mamorictl: unknown or revoked token" "$(cat "$TMP/err")"
assert_status "--token beats MAMORI_TOKEN" 0 \
	env MAMORI_TOKEN=mmt_nope "$CTL" --token "$ADMIN_TOKEN" status
assert_status "--config names another file" 2 "$CTL" --config "$TMP/none.yaml" status
assert_eq "no settings message" \
	"mamorictl: no server: give --server URL, set MAMORI_SERVER, or run 'mamorictl login' (config file: $TMP/none.yaml)" \
	"$(cat "$TMP/err")"
printf 'server: "%s"\nca: ca.pem\ntoken: "%s"\n' "$SERVER_URL" "$ADMIN_TOKEN" \
	>"$SERVER_DIR/rel.yaml"
chmod 600 "$SERVER_DIR/rel.yaml"
assert_status "a relative ca is relative to the config file" 0 \
	env MAMORICTL_CONFIG="$SERVER_DIR/rel.yaml" "$CTL" status
printf 'server: x\nsevrer: y\n' >"$TMP/typo.yaml"
assert_status "unknown config key exits 1" 1 "$CTL" --config "$TMP/typo.yaml" status
assert_eq "unknown config key message" \
	"mamorictl: $TMP/typo.yaml:2: unknown key 'sevrer' (known: server, ca, token)" \
	"$(cat "$TMP/err")"

# ---- two hosts enroll through the agent API and send results ------------------
enroll() { # IDENTIFIER HOSTNAME -> node key
	jq -n --arg s "$ENROLL_SECRET" --arg id "$1" --arg hn "$2" '{
		enroll_secret: $s, host_identifier: $id, platform_type: "9",
		host_details: {
			os_version: {name: "Debian GNU/Linux", version: "12 (bookworm)",
				major: "12", platform: "debian"},
			osquery_info: {version: "5.12.1"},
			system_info: {hostname: $hn, uuid: $id},
			platform_info: {vendor: "test"}}}' >"$TMP/enroll.json"
	curl -sS --cacert "$SERVER_CA" --max-time 20 -H 'Content-Type: application/json' \
		--data-binary @"$TMP/enroll.json" "$SERVER_URL/api/v1/osquery/enroll" |
		jq -r .node_key
}
post_log() { # NODE_KEY FILE-WITH-A-JSON-ARRAY-OF-LINES
	jq -n --arg k "$1" --slurpfile d "$2" '{node_key: $k, log_type: "result", data: $d[0]}' \
		>"$TMP/log.json"
	curl -sS --cacert "$SERVER_CA" --max-time 20 -H 'Content-Type: application/json' \
		--data-binary @"$TMP/log.json" "$SERVER_URL/api/v1/osquery/log"
}
KEY1=$(enroll 4c4c4544-0001 web01)
KEY2=$(enroll 4c4c4544-0002 db01)
assert_eq "enrolled" "64 64" "${#KEY1} ${#KEY2}"

# Result lines shaped like osquery's (event format; columns sorted, values strings).
cat >"$TMP/web01.json" <<'EOF'
[
 {"name": "pack/hygiene/ports", "hostIdentifier": "4c4c4544-0001",
  "calendarTime": "Tue Nov 14 22:13:20 2023 UTC", "unixTime": 1700000000, "epoch": 0,
  "counter": 0, "numerics": false, "decorations": {"host_uuid": "4c4c4544-0001"},
  "columns": {"address": "0.0.0.0", "name": "sshd", "port": "22"}, "action": "added"},
 {"name": "pack/hygiene/ports", "hostIdentifier": "4c4c4544-0001",
  "calendarTime": "Tue Nov 14 22:13:20 2023 UTC", "unixTime": 1700000000, "epoch": 0,
  "counter": 0, "numerics": false, "decorations": {"host_uuid": "4c4c4544-0001"},
  "columns": {"address": "::", "name": "nginx: \"web\", main", "port": "80"}, "action": "added"},
 {"name": "pack/hygiene/ports", "hostIdentifier": "4c4c4544-0001",
  "calendarTime": "Tue Nov 14 23:13:20 2023 UTC", "unixTime": 1700003600, "epoch": 0,
  "counter": 1, "numerics": false, "decorations": {"host_uuid": "4c4c4544-0001"},
  "columns": {"address": "::", "name": "nginx: \"web\", main", "port": "80"},
  "action": "removed"},
 {"name": "pack/other/uptime", "hostIdentifier": "4c4c4544-0001",
  "calendarTime": "Tue Nov 14 22:13:20 2023 UTC", "unixTime": 1700000000, "epoch": 0,
  "counter": 0, "numerics": false, "decorations": {},
  "columns": {"seconds": "12"}, "action": "added"}
]
EOF
cat >"$TMP/db01.json" <<'EOF'
[
 {"name": "pack/hygiene/ports", "hostIdentifier": "4c4c4544-0002",
  "calendarTime": "Tue Nov 14 22:30:00 2023 UTC", "unixTime": 1700001000, "epoch": 0,
  "counter": 0, "numerics": false, "decorations": {},
  "columns": {"address": "127.0.0.1", "name": "postgres", "port": "5432"}, "action": "added"},
 {"name": "pack/hygiene/users", "hostIdentifier": "4c4c4544-0002",
  "calendarTime": "Tue Nov 14 22:30:00 2023 UTC", "unixTime": 1700001000, "epoch": 0,
  "counter": 0, "numerics": false, "decorations": {}, "action": "snapshot",
  "snapshot": [{"shell": "/bin/bash", "username": "root"},
               {"shell": "/usr/sbin/nologin", "username": "line\nbreak"}]}
]
EOF
assert_eq "web01 log accepted" "{}" "$(post_log "$KEY1" "$TMP/web01.json")"
assert_eq "db01 log accepted" "{}" "$(post_log "$KEY2" "$TMP/db01.json")"

# ---- hosts ------------------------------------------------------------------------
got=$("$CTL" hosts --format csv | cut -d, -f1-7,9)
assert_eq "hosts csv" "id,hostname,os,os_version,agent,agent_version,address,status
1,web01,Debian GNU/Linux,12 (bookworm),osquery,5.12.1,127.0.0.1,online
2,db01,Debian GNU/Linux,12 (bookworm),osquery,5.12.1,127.0.0.1,online" "$got"
got=$("$CTL" hosts list --status online | sed "s/$TIME_RE/YYYY-MM-DDThh:mm:ssZ/")
assert_eq "hosts table" "id  hostname  os                os_version     agent    agent_version  address    last_seen             status
1   web01     Debian GNU/Linux  12 (bookworm)  osquery  5.12.1         127.0.0.1  YYYY-MM-DDThh:mm:ssZ  online
2   db01      Debian GNU/Linux  12 (bookworm)  osquery  5.12.1         127.0.0.1  YYYY-MM-DDThh:mm:ssZ  online" "$got"
got=$("$CTL" hosts --status offline)
assert_eq "no offline hosts: the header only" \
	"id  hostname  os  os_version  agent  agent_version  address  last_seen  status" "$got"
got=$("$CTL" --format jsonl hosts | jq -r '.hostname')
assert_eq "hosts jsonl" "web01
db01" "$got"
got=$("$CTL" hosts show db01 | grep -E '^(id|hostname|host_identifier|details\.system_info\.uuid|details\.platform_info\.vendor) ')
assert_eq "hosts show" "id                            2
host_identifier               4c4c4544-0002
hostname                      db01
details.system_info.uuid      4c4c4544-0002
details.platform_info.vendor  test" "$got"
got=$("$CTL" hosts show 1 --format json | jq -r '.host_identifier')
assert_eq "hosts show json" "4c4c4544-0001" "$got"
assert_status "hosts show unknown" 1 "$CTL" hosts show nosuchhost
assert_eq "hosts show unknown message" "mamorictl: no such host: nosuchhost" "$(cat "$TMP/err")"
assert_status "hosts list --status bogus" 2 "$CTL" hosts list --status bogus

# ---- packs ------------------------------------------------------------------------
mkdir -p "$TMP/packs" "$TMP/bad"
cat >"$TMP/packs/hygiene.yaml" <<'EOF'
name: hygiene
description: Basic hygiene
queries:
  ports:
    query: SELECT address, port, pid FROM listening_ports
    interval: 300
  users:
    query: SELECT username, shell FROM users
    interval: 3600
    snapshot: true
EOF
cat >"$TMP/packs/extra.conf" <<'EOF'
{
  // osquery's JSON pack format; the pack is named after the file
  "queries": {
    "kernel": {"query": "SELECT version FROM kernel_info", "interval": "600"}
  }
}
EOF
echo "not a pack" >"$TMP/packs/README.md"
assert_status "packs apply FILE" 0 "$CTL" packs apply -f "$TMP/packs/hygiene.yaml"
assert_eq "packs apply FILE output" "pack     queries  result
hygiene  2        created" "$(cat "$TMP/out")"
assert_status "packs apply DIR" 0 "$CTL" packs apply -f "$TMP/packs"
assert_eq "packs apply DIR output (sorted, README.md skipped)" "pack     queries  result
extra    1        created
hygiene  2        updated" "$(cat "$TMP/out")"

# A typo'd column in one file: exit 1, the server's message, nothing applied.
cp "$TMP/packs/hygiene.yaml" "$TMP/bad/a.yaml"
sed -i 's/^name: hygiene/name: alpha/' "$TMP/bad/a.yaml"
cat >"$TMP/bad/b.yaml" <<'EOF'
name: beta
queries:
  ports:
    query: SELECT adress FROM listening_ports
    interval: 60
EOF
assert_status "a bad pack exits 1" 1 "$CTL" packs apply -f "$TMP/bad"
assert_contains "bad pack message" \
	"mamorictl: invalid pack, nothing applied: $TMP/bad/b.yaml" "$(cat "$TMP/err")"
assert_contains "bad pack names the column" "no such column: adress" "$(cat "$TMP/err")"
got=$("$CTL" --format json packs list | jq -r '.[].name' | sort)
assert_eq "nothing applied" "extra
hygiene" "$got"
got=$("$CTL" packs list --format csv | cut -d, -f1-3,5)
assert_eq "packs list csv" "name,queries,platform,updated_by
extra,1,,admin
hygiene,2,,admin" "$got"
got=$("$CTL" packs show hygiene --format csv)
assert_eq "packs show csv" "name,interval,snapshot,removed,platform,description,query
ports,300,false,true,,,\"SELECT address, port, pid FROM listening_ports\"
users,3600,true,true,,,\"SELECT username, shell FROM users\"" "$got"
got=$("$CTL" packs show extra | sed -n '/^name  *interval/,$p')
assert_eq "packs show table" "name    interval  snapshot  removed  platform  description  query
kernel  600       false     true     -         -            SELECT version FROM kernel_info" "$got"
assert_status "packs delete" 0 "$CTL" packs delete extra
assert_eq "packs delete output" "deleted pack extra" "$(cat "$TMP/out")"
assert_status "packs delete again" 1 "$CTL" packs delete extra
assert_eq "packs delete again message" "mamorictl: no such pack" "$(cat "$TMP/err")"
assert_eq "packs list after delete" "hygiene" "$("$CTL" --format jsonl packs | jq -r .name)"
assert_status "packs apply with no -f" 2 "$CTL" packs apply
assert_status "packs apply of a .txt" 2 "$CTL" packs apply -f "$TMP/packs/README.md"

# ---- results ----------------------------------------------------------------------
R="results --pack hygiene --query ports"
got=$("$CTL" $R)
assert_eq "results table" \
'host   name                action   counter  unix_time   address    columns.name        port
web01  pack/hygiene/ports  added    0        1700000000  0.0.0.0    sshd                22
web01  pack/hygiene/ports  added    0        1700000000  ::         nginx: "web", main  80
web01  pack/hygiene/ports  removed  1        1700003600  ::         nginx: "web", main  80
db01   pack/hygiene/ports  added    0        1700001000  127.0.0.1  postgres            5432' "$got"
got=$("$CTL" $R --format csv)
assert_eq "results csv" \
'host,name,action,counter,unix_time,address,columns.name,port
web01,pack/hygiene/ports,added,0,1700000000,0.0.0.0,sshd,22
web01,pack/hygiene/ports,added,0,1700000000,::,"nginx: ""web"", main",80
web01,pack/hygiene/ports,removed,1,1700003600,::,"nginx: ""web"", main",80
db01,pack/hygiene/ports,added,0,1700001000,127.0.0.1,postgres,5432' "$got"
got=$("$CTL" $R --host db01 --format json)
assert_eq "results json, --host" '[
  {"id":5,"host_id":2,"host":"db01","name":"pack/hygiene/ports","pack":"hygiene","query":"ports","action":"added","epoch":0,"counter":0,"unix_time":1700001000,"columns":{"address":"127.0.0.1","name":"postgres","port":"5432"}}
]' "$got"
got=$("$CTL" $R --host 4c4c4544-0001 --since 1700003000 --format jsonl)
assert_eq "results jsonl, --since unix" '{"id":3,"host_id":1,"host":"web01","name":"pack/hygiene/ports","pack":"hygiene","query":"ports","action":"removed","epoch":0,"counter":1,"unix_time":1700003600,"columns":{"address":"::","name":"nginx: \"web\", main","port":"80"}}' "$got"
got=$("$CTL" $R --since 2023-11-14T23:30:00+01:00 --format csv | cut -d, -f1,3,5)
assert_eq "results --since RFC 3339 with offset" "host,action,unix_time
web01,removed,1700003600
db01,added,1700001000" "$got"
got=$("$CTL" $R --since 1h)
assert_eq "results --since 1h: nothing that recent" \
	"host  name  action  counter  unix_time" "$got"
got=$("$CTL" $R --limit 2 --format jsonl | jq -r .columns.name)
assert_eq "results --limit" 'sshd
nginx: "web", main' "$got"
got=$(MAMORICTL_PAGE_SIZE=1 "$CTL" $R --limit 3 --format jsonl | jq -r .id | tr '\n' ' ')
assert_eq "results paged one by one" "1 2 3 " "$got"
got=$(MAMORICTL_PAGE_SIZE=3 "$CTL" $R --format jsonl | jq -r .id | tr '\n' ' ')
assert_eq "results paged by three" "1 2 3 5 " "$got"
got=$("$CTL" results --pack hygiene --query users --format csv)
assert_eq "snapshot results: a line per row" 'host,name,action,counter,unix_time,shell,username
db01,pack/hygiene/users,snapshot,0,1700001000,/bin/bash,root
db01,pack/hygiene/users,snapshot,0,1700001000,/usr/sbin/nologin,"line
break"' "$got"
got=$("$CTL" results --pack hygiene --query users)
assert_eq "snapshot results table escapes controls" \
'host  name                action    counter  unix_time   shell              username
db01  pack/hygiene/users  snapshot  0        1700001000  /bin/bash          root
db01  pack/hygiene/users  snapshot  0        1700001000  /usr/sbin/nologin  line\nbreak' "$got"
got=$("$CTL" results --pack other --query uptime --format csv)
assert_eq "results of another pack" "host,name,action,counter,unix_time,seconds
web01,pack/other/uptime,added,0,1700000000,12" "$got"
assert_status "results --host unknown" 1 "$CTL" $R --host nosuchhost
assert_eq "results --host unknown message" "mamorictl: no such host: nosuchhost" \
	"$(cat "$TMP/err")"

# ---- tokens -------------------------------------------------------------------------
assert_status "tokens create" 0 "$CTL" tokens create --name viewer --role observer
OBS=$(cat "$TMP/out")
assert_eq "tokens create prints the token" "mmt_ 68" "$(printf %.4s "$OBS") ${#OBS}"
assert_eq "tokens create note" \
	"mamorictl: created token 2 'viewer' (role observer); it is shown only this once" \
	"$(cat "$TMP/err")"
got=$("$CTL" tokens create --name ci --role operator --format json | jq -r '[.id, .name, .role, (.token | length)] | @tsv')
assert_eq "tokens create json" "3	ci	operator	68" "$got"
got=$("$CTL" tokens --format csv | cut -d, -f1-3,5)
assert_eq "tokens list" "id,name,role,created_by
1,admin,admin,mamori-server init
2,viewer,observer,admin
3,ci,operator,admin" "$got"
assert_status "observer may read" 0 env MAMORI_TOKEN="$OBS" "$CTL" hosts
assert_status "observer may not apply packs" 1 \
	env MAMORI_TOKEN="$OBS" "$CTL" packs apply -f "$TMP/packs/extra.conf"
assert_eq "observer refusal message" \
	"mamorictl: role not allowed: role observer may not POST /api/v1/packs; allowed: admin, operator" \
	"$(cat "$TMP/err")"
assert_eq "refused pack not applied" "hygiene" "$("$CTL" --format jsonl packs | jq -r .name)"
assert_status "tokens revoke" 0 "$CTL" tokens revoke 2
assert_eq "tokens revoke output" "revoked token 2" "$(cat "$TMP/out")"
assert_status "revoked token refused" 1 env MAMORI_TOKEN="$OBS" "$CTL" hosts
assert_eq "revoked token message" "mamorictl: unknown or revoked token" "$(cat "$TMP/err")"
got=$("$CTL" --format json tokens | jq -r '.[] | "\(.id) \(.revoked_at != null)"')
assert_eq "revoked_at set" "1 false
2 true
3 false" "$got"
assert_status "tokens revoke not a number" 2 "$CTL" tokens revoke abc
assert_status "tokens create without a role" 2 "$CTL" tokens create --name x
assert_status "tokens create with a bad role" 2 "$CTL" tokens create --name x --role root

# ---- audit ----------------------------------------------------------------------------
got=$("$CTL" audit --format json | jq -r '.[] | "\(.actor) \(.action) \(.target) \(.status)"')
assert_eq "audit" "anonymous auth.denied GET /api/v1/me 401
anonymous auth.denied GET /api/v1/status 401
system host.enroll 4c4c4544-0001 200
system host.enroll 4c4c4544-0002 200
admin pack.apply hygiene 200
admin pack.apply extra 200
admin pack.apply hygiene 200
admin pack.apply  422
admin pack.delete extra 200
admin token.create viewer 200
admin token.create ci 200
viewer auth.denied POST /api/v1/packs 403
admin token.revoke viewer 200
anonymous auth.denied GET /api/v1/hosts 401" "$got"
got=$("$CTL" audit --action 'token.*' --format csv | cut -d, -f3,5,6)
assert_eq "audit --action prefix" "actor,action,target
admin,token.create,viewer
admin,token.create,ci
admin,token.revoke,viewer" "$got"
DENY_ID=$("$CTL" audit --actor viewer --format json | jq -r '.[0].id')
DENY_DETAIL=$("$CTL" audit --actor viewer --format json | jq -c '.[0].detail')
got=$("$CTL" audit --actor viewer | sed "s/$TIME_RE/YYYY-MM-DDThh:mm:ssZ/")
assert_eq "audit table" "id  time                  actor   role      action       target              status  address    detail
$(printf '%-3s' "$DENY_ID") YYYY-MM-DDThh:mm:ssZ  viewer  observer  auth.denied  POST /api/v1/packs  403     127.0.0.1  $DENY_DETAIL" "$got"
got=$(MAMORICTL_PAGE_SIZE=2 "$CTL" audit --action 'pack.*' --limit 3 --format jsonl |
	jq -r .target | tr '\n' ' ')
assert_eq "audit paged, --limit" "hygiene extra hygiene " "$got"

got=$("$CTL" tokens create --name nightly --role observer --format csv | cut -c1-23)
assert_eq "tokens create csv" 'id,name,role,token
4,nightly,observer,mmt_' "$got"
assert_status "a token name the server refuses" 1 "$CTL" tokens create --name 'a b' --role observer
assert_contains "refused token name" "mamorictl: invalid token name: " "$(cat "$TMP/err")"

# ---- hosts revoke -------------------------------------------------------------------------
assert_status "hosts revoke" 0 "$CTL" hosts revoke 2
assert_eq "hosts revoke output" "revoked host 2" "$(cat "$TMP/out")"
assert_eq "revoked node key" "true" "$(post_log "$KEY2" "$TMP/db01.json" | jq -r .node_invalid)"
assert_eq "hosts after revoke" "web01" "$("$CTL" --format jsonl hosts | jq -r .hostname)"
assert_eq "hosts --status revoked" "db01" \
	"$("$CTL" --format jsonl hosts --status revoked | jq -r .hostname)"

# ---- usage errors: exit 2 ---------------------------------------------------------------------
assert_status "no verb" 2 "$CTL"
assert_status "unknown verb" 2 "$CTL" frobnicate
assert_eq "unknown verb message" "mamorictl: unknown verb 'frobnicate'" "$(head -n 1 "$TMP/err")"
assert_status "unknown sub-verb" 2 "$CTL" packs frob
assert_status "unknown option" 2 "$CTL" hosts --bogus
assert_eq "unknown option message" \
	"mamorictl: hosts list: unknown option '--bogus' (see 'mamorictl help hosts')" \
	"$(cat "$TMP/err")"
assert_status "option without its value" 2 "$CTL" results --pack
assert_status "results without --query" 2 "$CTL" results --pack hygiene
assert_status "bad --since" 2 "$CTL" $R --since yesterday
assert_status "bad --limit" 2 "$CTL" $R --limit 0
assert_status "bad --format" 2 "$CTL" --format xml hosts
assert_status "bad --timeout" 2 "$CTL" --timeout soon hosts
assert_status "hosts show without a host" 2 "$CTL" hosts show
assert_status "http:// refused" 2 "$CTL" --server "http://127.0.0.1:1" hosts
assert_status "help" 0 "$CTL" help
assert_contains "help lists verbs" "  results --pack P --query Q" "$(cat "$TMP/out")"
assert_status "verb --help" 0 "$CTL" tokens create --help
assert_eq "version" "mamorictl 0.1.0" "$("$CTL" version)"

# ---- transport failures: exit 1 with the URL named ----------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other \
	-keyout "$TMP/other.key" -out "$TMP/other.pem" 2>/dev/null
assert_status "wrong CA exits 1" 1 "$CTL" --ca "$TMP/other.pem" hosts
assert_contains "wrong CA message" \
	"mamorictl: TLS verification of $SERVER_URL failed: SSL certificate problem" \
	"$(cat "$TMP/err")"
assert_status "missing CA file exits 1" 1 "$CTL" --ca "$TMP/nope.pem" hosts
assert_contains "missing CA file message" "mamorictl: cannot use the CA file $TMP/nope.pem" \
	"$(cat "$TMP/err")"
# A listener that never answers: the timeout, not a hang.
"$LISTEN_TCP" >"$TMP/port" &
LPID=$!
kill_listener() { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }
add_cleanup kill_listener
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
assert_status "silent server times out" 1 \
	"$CTL" --server "https://127.0.0.1:$(cat "$TMP/port")" --timeout 500ms hosts
assert_contains "timeout message" \
	"mamorictl: no answer from https://127.0.0.1:$(cat "$TMP/port") in time (--timeout)" \
	"$(cat "$TMP/err")"
kill_listener
server_stop
assert_status "stopped server exits 1" 1 "$CTL" hosts
assert_eq "stopped server message" \
	"mamorictl: cannot connect to $SERVER_URL: Connection refused (is mamori-server running?)" \
	"$(cat "$TMP/err")"

finish
