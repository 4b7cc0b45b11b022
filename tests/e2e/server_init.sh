#!/bin/sh
# server_init.sh - `mamori-server init` (layout, modes, certificates, the
# admin token), refusing a non-empty directory, `run` refusing bad
# configurations with FILE:LINE messages, and the small verbs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"

command -v sqlite3 >/dev/null || { fail "sqlite3 is needed"; finish; }
S=$MAMORI_SERVER
mode() { stat -c %a "$1"; }

# ---- init ----------------------------------------------------------------------------------
D=$TMP/srv
assert_status "init" 0 "$S" init "$D"
out=$(cat "$TMP/out")
token=$(printf '%s\n' "$out" | sed -n 's/^ *\(mmt_[0-9a-f]\{64\}\)$/\1/p')
assert_eq "token printed once" 1 "$(printf '%s\n' "$out" | grep -c 'mmt_[0-9a-f]\{64\}')"
assert_contains "next steps: run" "mamori-server run --config $D/mamori-server.yaml" "$out"
assert_contains "next steps: CA" "$D/ca.pem" "$out"
assert_eq "layout" "ca.key ca.pem enroll_secret lr_ca.key mamori-server.yaml mamori.db server.key server.pem" \
	"$(ls "$D" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "dir mode" 700 "$(mode "$D")"
for f in ca.key server.key enroll_secret lr_ca.key mamori-server.yaml mamori.db; do
	assert_eq "$f mode" 600 "$(mode "$D/$f")"
done
assert_eq "ca.pem mode" 644 "$(mode "$D/ca.pem")"
assert_eq "server.pem mode" 644 "$(mode "$D/server.pem")"
assert_eq "enroll secret" 64 "$(tr -cd 0-9a-f <"$D/enroll_secret" | wc -c)"
assert_eq "one admin token, hashed" "1|admin|admin|$(printf %s "$token" | sha256sum | cut -d' ' -f1)" \
	"$(sqlite3 "$D/mamori.db" 'SELECT count(*), name, role, hash FROM tokens')"
assert_eq "no plain token stored" 0 "$(grep -c "${token#mmt_}" "$D/mamori.db")"
assert_eq "schema applied" 1 "$(sqlite3 "$D/mamori.db" "SELECT count(*) FROM sqlite_master WHERE name = 'results'")"

# Certificates: P-256 CA, server certificate it signed, with SANs and serverAuth.
assert_contains "CA key" "ASN1 OID: prime256v1" "$(openssl pkey -in "$D/ca.key" -noout -text 2>&1)"
assert_contains "server key" "ASN1 OID: prime256v1" "$(openssl pkey -in "$D/server.key" -noout -text 2>&1)"
assert_eq "chain" "$D/server.pem: OK" "$(openssl verify -CAfile "$D/ca.pem" "$D/server.pem" 2>&1)"
ca_text=$(openssl x509 -in "$D/ca.pem" -noout -text)
assert_contains "CA is a CA" "CA:TRUE" "$ca_text"
crt_text=$(openssl x509 -in "$D/server.pem" -noout -text)
assert_contains "serverAuth" "TLS Web Server Authentication" "$crt_text"
assert_contains "default SANs" "DNS:localhost, IP Address:127.0.0.1, DNS:$(hostname)" "$crt_text"
assert_contains "CA lifetime" "$(date -u -d '+3650 days' '+%b %e') " \
	"$(openssl x509 -in "$D/ca.pem" -noout -enddate | sed 's/notAfter=//')"

# The config it wrote runs as is.
SERVER_DIR=$D SERVER_CONFIG=$D/mamori-server.yaml SERVER_CA=$D/ca.pem
server_start || finish
code=$(srv_get /api/v1/nothing)
assert_eq "serving with the generated certificate" 404 "$code"
server_stop
assert_eq "clean stop" 0 "$SERVER_STATUS"

# ---- names, listen, refusing a non-empty directory ---------------------------------------------
assert_status "init refuses a non-empty dir" 1 "$S" init "$D"
assert_contains "refusal says why" "is not empty" "$(cat "$TMP/err")"
assert_eq "nothing replaced" "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" \
	"$(sqlite3 "$D/mamori.db" 'SELECT hash FROM tokens')"
assert_status "init --force" 0 "$S" init "$D" --force --name coord.example.com --name 10.1.2.3 \
	--name ::1 --listen 0.0.0.0:9443
token2=$(sed -n 's/^ *\(mmt_[0-9a-f]\{64\}\)$/\1/p' "$TMP/out")
assert_eq "new database, one new token" "1|$(printf %s "$token2" | sha256sum | cut -d' ' -f1)" \
	"$(sqlite3 "$D/mamori.db" 'SELECT count(*), hash FROM tokens')"
assert_contains "given SANs only" "DNS:coord.example.com, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1" \
	"$(openssl x509 -in "$D/server.pem" -noout -ext subjectAltName)"
assert_eq "CN is the first name" "subject=O = Mamori, CN = coord.example.com" \
	"$(openssl x509 -in "$D/server.pem" -noout -subject)"
assert_eq "listen written" "listen: 0.0.0.0:9443" "$(grep '^listen:' "$D/mamori-server.yaml")"
assert_eq "modes after --force" "700 600 600" "$(mode "$D") $(mode "$D/server.key") $(mode "$D/mamori.db")"
assert_status "bad SAN" 1 "$S" init "$TMP/bad" --name 'bad name!'
assert_contains "bad SAN message" "'bad name!' is neither a DNS name nor an IP address" "$(cat "$TMP/err")"
assert_status "bad --listen" 2 "$S" init "$TMP/bad2" --listen nowhere
assert_status "init without dir" 2 "$S" init

# ---- configuration errors ------------------------------------------------------------------------
C=$TMP/cfg
mkdir -p "$C"
cp "$D/server.pem" "$D/server.key" "$D/enroll_secret" "$C/"
base='listen: 127.0.0.1:0
tls:
  cert: server.pem
  key: server.key
database: mamori.db
enroll_secret_file: enroll_secret'
bad_config() { # WHAT EXPECTED-MESSAGE YAML
	printf '%s\n' "$3" >"$C/c.yaml"
	assert_status "$1: exit 2" 2 "$S" run --config "$C/c.yaml"
	assert_eq "$1: message" "mamori-server: $C/c.yaml:$2" "$(head -n 1 "$TMP/err")"
}
bad_config "unknown key" "7: colour: unknown setting" "$base
colour: blue"
bad_config "unknown nested key" "4: tls.colour: unknown setting" 'listen: 127.0.0.1:0
tls:
  cert: server.pem
  colour: red
database: mamori.db'
bad_config "bad size" "7: max_body: 'lots' is not a size from 1KiB to 1GiB (e.g. 8MiB)" "$base
max_body: lots"
bad_config "bad duration" "8: timeout: '10 parsecs' is not a duration up to 24h (e.g. 60s, 5m)" "$base
max_body: 1MiB
timeout: 10 parsecs"
bad_config "bad listen" "1: listen: 'localhost' is not ADDRESS:PORT (e.g. 127.0.0.1:8443)" "listen: localhost
database: x.db"
bad_config "bad bool" "2: tls.enabled: 'maybe' is not true or false" 'tls:
  enabled: maybe'
bad_config "bad number" "7: enroll_rate_per_min: '-3' is not a whole number from 1 to 100000000" "$base
enroll_rate_per_min: -3"
bad_config "duplicate key" "7: database: duplicate key" "$base
database: other.db"
bad_config "missing cert" "2: tls.key: required while tls.enabled is true" 'database: mamori.db
tls:
  cert: server.pem
enroll_secret_file: enroll_secret'
bad_config "missing database" "1: database: required" 'enroll_secret_file: enroll_secret
tls:
  enabled: false'
bad_config "malformed YAML" "3: mapping values are not allowed in this context" 'database: a
tls:
  cert: a: b'
bad_config "not a mapping" "1: expected a mapping of settings" '- a
- b'

# Valid config, but a missing certificate or secret: exit 1, the file named.
printf '%s\n' "$base" | sed 's/cert: server.pem/cert: nothere.pem/' >"$C/c.yaml"
assert_status "missing certificate file" 1 "$S" run --config "$C/c.yaml"
assert_contains "missing certificate named" "$C/nothere.pem: cannot use the certificate" "$(cat "$TMP/err")"
printf '%s\n' "$base" | sed 's/enroll_secret_file: enroll_secret/enroll_secret_file: nosecret/' >"$C/c.yaml"
assert_status "missing secret file" 1 "$S" run --config "$C/c.yaml"
assert_contains "missing secret named" "$C/nosecret" "$(cat "$TMP/err")"

# tls.enabled: false serves plain HTTP (behind a TLS proxy).
printf 'listen: 127.0.0.1:0\ntls:\n  enabled: false\ndatabase: plain.db\nenroll_secret_file: enroll_secret\n' >"$C/plain.yaml"
SERVER_DIR=$C SERVER_CONFIG=$C/plain.yaml
server_start || finish
assert_contains "plain HTTP url" "http://127.0.0.1:" "$SERVER_URL"
assert_eq "plain HTTP answers" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$SERVER_URL/x")"
server_stop
assert_eq "database created next to the config" 1 "$(sqlite3 "$C/plain.db" 'PRAGMA user_version' | grep -c .)"

# ---- small verbs ------------------------------------------------------------------------------------
assert_status "version" 0 "$S" version
assert_eq "version text" "mamori-server $(sed -n 's/^project(mamori VERSION \([0-9.]*\).*/\1/p' "$SRCDIR/CMakeLists.txt")" "$(cat "$TMP/out")"
assert_status "help" 0 "$S" help
assert_contains "help lists init" "init DIR" "$(cat "$TMP/out")"
assert_status "unknown verb" 2 "$S" frobnicate
assert_status "no verb" 2 "$S"
assert_status "run without --config" 2 "$S" run
assert_status "run with a bad --port" 2 "$S" run --config "$C/plain.yaml" --port 70000
finish
