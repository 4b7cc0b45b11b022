#!/bin/sh
# demo.sh - the README's main job, on this machine, from nothing:
#   1. installs the Debian packages it needs (when missing) and builds;
#   2. creates a coordinator with its embedded SQLite store (mamori-server
#      init: CA, ECDSA server certificate, enroll secret, admin token) and
#      starts it on 127.0.0.1;
#   3. logs mamorictl in, applies the shipped query packs (packs/) and the
#      baseline policies (lua-policies/);
#   4. runs the agent daemon once against it: it enrolls this host, fetches
#      its config, runs every scheduled query and policy, and delivers the
#      results and verdicts;
#   5. shows, with mamorictl, the enrolled host, real query results and the
#      compliance report; then stops the coordinator.
# Everything lives in build/demo (kept, so you can look at it afterwards).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
sh scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" \
	--target mamori mamori-server mamorictl >/dev/null
B="$ROOT/build/release"
D="$ROOT/build/demo"
rm -rf "$D"
mkdir -p "$D"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$B/||g; s|$D/||g"; "$@"; }

step "1. A coordinator with its embedded store"
"$B/mamori-server" init "$D/server" >"$D/init.out"
sed -n '1,3p' "$D/init.out" | sed 's/mmt_[0-9a-f]*/mmt_…(hidden)/'
"$B/mamori-server" run --config "$D/server/mamori-server.yaml" --port 0 2>"$D/server.log" &
SPID=$!
trap 'kill "$SPID" 2>/dev/null || true' EXIT INT TERM
i=0
while ! grep -q 'listening on' "$D/server.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$SPID" 2>/dev/null; then
		echo "demo: the coordinator did not start:" >&2
		cat "$D/server.log" >&2
		exit 1
	fi
	sleep 0.1
done
URL=$(grep -o 'https://[^ ]*' "$D/server.log" | head -1)
grep 'listening on' "$D/server.log"

step "2. The operator logs in and applies packs and policies"
export MAMORICTL_CONFIG="$D/mamorictl.yaml"
unset MAMORI_SERVER MAMORI_CA MAMORI_TOKEN 2>/dev/null || true
grep -o 'mmt_[0-9a-f]*' "$D/init.out" | head -1 >"$D/admin.token"
chmod 600 "$D/admin.token"
run "$B/mamorictl" login --server "$URL" --ca "$D/server/ca.pem" --token-file "$D/admin.token"
run "$B/mamorictl" packs apply -f "$ROOT/packs"
"$B/mamorictl" policies apply -f "$ROOT/lua-policies" >"$D/policies.out"
printf '$ mamorictl policies apply -f lua-policies\n%s policies applied\n' \
	"$(($(wc -l <"$D/policies.out") - 1))"

step "3. The agent on this host enrolls and runs its schedule once"
cat >"$D/agent.yaml" <<EOF
server: $URL
ca_file: $D/server/ca.pem
enroll_secret_file: $D/server/enroll_secret
host_identifier: hostname
state_dir: $D/agent-state
EOF
run "$B/mamori" daemon --config "$D/agent.yaml" --once --log-level warn

step "4. What the coordinator knows"
run "$B/mamorictl" hosts
HOST=$("$B/mamorictl" hosts --format csv | awk -F, 'NR == 2 { print $2 }')
run "$B/mamorictl" results --pack it-hygiene --query exposed_listening_ports --limit 10
run "$B/mamorictl" results --pack it-hygiene --query patch_status
run "$B/mamorictl" results --pack inventory --query os_version

step "5. Compliance of the fleet (one host here), most severe and most failing first"
run "$B/mamorictl" compliance
printf '\n'
run "$B/mamorictl" compliance --host "$HOST"

printf '\nThe coordinator stops now; everything is in %s.\n' "$D"
printf 'Run it again: %s run --config %s\n' "$B/mamori-server" "$D/server/mamori-server.yaml"
printf 'Query this host directly: %s shell\n' "$B/mamori"
