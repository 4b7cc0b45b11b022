#!/bin/sh
# compliance.sh - the fleet compliance summary with 100,000 hosts x 50
# policies in the coordinator's embedded store: time of
#   GET /api/v1/compliance                 (the summary: counts per policy)
#   GET /api/v1/compliance?policy=ID       (first 1000 failing hosts of one policy)
# over one keep-alive TLS connection (median and max of RUNS requests), next
# to the recount a periodic-recount design does (GROUP BY over all 5,000,000
# verdicts, timed in the sqlite3 shell on the same file): Mamori keeps the
# counts current as verdicts arrive, so the summary never recounts.
#
#   sh bench/compliance.sh [BUILD_DIR] [HOSTS] [POLICIES] [RUNS]
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/release}
H=${2:-100000}
P=${3:-50}
N=${4:-50}
if [ ! -x "$B/mamori-server" ]; then
	cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$B" -j2 --target mamori-server >/dev/null
fi
D=$(mktemp -d)
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$D"' EXIT
"$B/mamori-server" init "$D/srv" >"$D/init.out"
TOKEN=$(grep -o 'mmt_[0-9a-f]*' "$D/init.out" | head -1)

echo "filling the store: $H hosts x $P policies..." >&2
t0=$(date +%s)
sqlite3 "$D/srv/mamori.db" <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $H)
INSERT INTO hosts(id, node_key_hash, host_identifier, hostname, enrolled_at, last_seen)
SELECT i, lower(hex(randomblob(32))), printf('host-%06d', i), printf('host-%06d', i), 0, 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $P)
INSERT INTO policies(policy, title, severity, kind, filename, source, created_at, updated_at)
SELECT printf('policy-%02d', i), printf('Policy %d', i), i % 5, 'sql', 'p.yaml', '', 0, 0 FROM n;
-- about 1 in 7 hosts fails a policy, 1 in 50 is not applicable, 1 in 500 errors
INSERT INTO verdicts(host_id, policy, verdict, reason, evaluated_at, changed_at)
SELECT h.id, p.policy,
       CASE WHEN (h.id * 7 + p.id) % 500 = 0 THEN 'error'
            WHEN (h.id + p.id) % 50 = 0 THEN 'not_applicable'
            WHEN (h.id * 13 + p.id * 3) % 7 = 0 THEN 'fail' ELSE 'pass' END,
       '', 0, 0
FROM hosts h, policies p;
INSERT INTO policy_counts(policy, pass, fail, not_applicable, error)
SELECT policy, sum(verdict = 'pass'), sum(verdict = 'fail'), sum(verdict = 'not_applicable'),
       sum(verdict = 'error') FROM verdicts GROUP BY policy;
COMMIT;
SQL
echo "filled in $(( $(date +%s) - t0 )) s" >&2

"$B/mamori-server" run --config "$D/srv/mamori-server.yaml" --port 0 2>"$D/server.log" &
SPID=$!
i=0
while ! grep -q 'listening on' "$D/server.log" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
URL=$(grep -o 'https://[^ ]*' "$D/server.log" | head -1)
if [ -z "$URL" ]; then
	echo "compliance.sh: the coordinator did not start:" >&2
	cat "$D/server.log" >&2
	exit 1
fi
echo "coordinator started with $H hosts in $((i / 10)).$((i % 10)) s" >&2

timeit() { # label url: N requests on one connection, median and max in ms
	label=$1; url=$2
	args=""
	j=0
	while [ $j -lt "$N" ]; do args="$args -o /dev/null $url"; j=$((j + 1)); done
	# shellcheck disable=SC2086
	curl -s --cacert "$D/srv/ca.pem" -H "Authorization: Bearer $TOKEN" \
		-w '%{time_total} %{time_pretransfer}\n' $args |
		awk '{ printf "%.3f\n", ($1 - $2) * 1000 }' | sort -n |
		awk -v label="$label" '{ t[NR] = $1 } END {
			printf "%-40s median %8.2f ms   max %8.2f ms   (%d requests)\n",
			label, t[int((NR + 1) / 2)], t[NR], NR }'
}
echo "$H hosts x $P policies = $((H * P)) verdicts; $(nproc) cores"
timeit "GET /api/v1/compliance (summary)" "$URL/api/v1/compliance"
timeit "GET /api/v1/compliance?policy=policy-01" "$URL/api/v1/compliance?policy=policy-01"
timeit "GET /api/v1/compliance?host=host-004242" "$URL/api/v1/compliance?host=host-004242"
curl -s --cacert "$D/srv/ca.pem" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/compliance" |
	jq -r '.policies[0:3][] | "  \(.policy) \(.severity) pass \(.pass) fail \(.fail) na \(.not_applicable) error \(.error) \(.percent)%"'
t0=$(date +%s%N)
sqlite3 "$D/srv/mamori.db" "SELECT policy, verdict, count(*) FROM verdicts GROUP BY 1, 2" >/dev/null
t1=$(date +%s%N)
echo "recount over every verdict (what a periodic recount costs): $(( (t1 - t0) / 1000000 )) ms"
