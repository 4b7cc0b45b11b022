# lib_lr.sh - Live Response end-to-end helpers: a throwaway OpenSSH sshd on
# 127.0.0.1, a coordinator whose SSH user CA it trusts, and an agent that
# reports the sshd's host key.  Source after lib.sh, lib_server.sh and
# lib_daemon.sh.  Needs root (sshd, login root) and /usr/sbin/sshd
# (scripts/deps.sh installs openssh-server; the system sshd is not used).
#
#   sshd_start HOSTKEY [PORT] [-o OPT ...]
#                      starts sshd -D on 127.0.0.1 with that host key,
#                      TrustedUserCAKeys=$SSHD_CA ($TMP/lr_ca.pub when
#                      unset; sshd keeps the first -o given), the internal sftp
#                      subsystem and the authorized keys $SSHD_AUTHKEYS (none when
#                      unset); on PORT, or on a free
#                      port (tried at random, bounded); sets SSHD_PORT,
#                      SSHD_PID, SSHD_LOG; killed at exit
#   sshd_stop          stops the last one started
#   lr_setup [CONFIG-LINES...]
#                      server_init; the lines are added under live_response:
#                      in the coordinator's config; the CA public key in
#                      $TMP/lr_ca.pub; a host key $TMP/hostkey; sshd_start;
#                      server_start; an agent with live_response enabled for
#                      that port enrolls once (HOST = its host name); tokens
#                      RESPONDER, OBSERVER, OPERATOR (names resp1, obs1, op1)
#   ctl_as TOKEN ARGS...   mamorictl against the test coordinator
#   api_as TOKEN METHOD PATH [JSON]
#                      one operator request; prints the status, body in $TMP/resp
#   fp_of FILE         the SHA256:... fingerprint of an OpenSSH public key file

SSHD_PIDS=""
SSHD_PID=""
sshd_cleanup_added=""

if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ]; then
	echo "FAIL: Live Response tests need root and /usr/sbin/sshd (sh scripts/deps.sh)" >&2
	exit 1
fi

sshd_kill_all() {
	for p in $SSHD_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SSHD_PIDS=""
	return 0
}

sshd_start() {
	ss_key=$1
	shift
	ss_want=""
	case "${1:-}" in [0-9]*) ss_want=$1; shift ;; esac
	install -d -m 0755 /run/sshd
	if [ -z "$sshd_cleanup_added" ]; then
		add_cleanup sshd_kill_all
		sshd_cleanup_added=1
	fi
	ss_try=0
	while [ $ss_try -lt 20 ]; do
		ss_try=$((ss_try + 1))
		if [ -n "$ss_want" ]; then
			SSHD_PORT=$ss_want
		else
			SSHD_PORT=$(($(od -An -N2 -tu2 /dev/urandom) % 25000 + 30000))
		fi
		SSHD_LOG=$TMP/sshd-$SSHD_PORT-$ss_try.log
		/usr/sbin/sshd -D -e -f /dev/null -p "$SSHD_PORT" -h "$ss_key" \
			-o ListenAddress=127.0.0.1 -o AuthorizedKeysFile="${SSHD_AUTHKEYS:-none}" -o UsePAM=no \
			-o StrictModes=no -o PidFile=none -o 'Subsystem=sftp internal-sftp' \
			-o TrustedUserCAKeys="${SSHD_CA:-$TMP/lr_ca.pub}" -o LogLevel=VERBOSE "$@" \
			>"$SSHD_LOG" 2>&1 &
		SSHD_PID=$!
		ss_i=0
		while [ $ss_i -lt 100 ]; do
			grep -q 'Server listening' "$SSHD_LOG" && break
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.05
			ss_i=$((ss_i + 1))
		done
		if grep -q 'Server listening' "$SSHD_LOG"; then
			SSHD_PIDS="$SSHD_PIDS $SSHD_PID"
			return 0
		fi
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
		# A port someone else holds: try another (or wait for ours to free).
		[ -n "$ss_want" ] && sleep 0.2
	done
	fail "sshd did not start: $(cat "$SSHD_LOG")"
	return 1
}

sshd_stop() {
	[ -n "$SSHD_PID" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PIDS=$(printf '%s\n' $SSHD_PIDS | grep -vx "$SSHD_PID" | tr '\n' ' ')
	SSHD_PID=""
	return 0
}

fp_of() { ssh-keygen -l -f "$1" | cut -d' ' -f2; }

ctl_as() {
	ca_tok=$1
	shift
	MAMORI_SERVER=$SERVER_URL MAMORI_CA=$SERVER_CA MAMORI_TOKEN=$ca_tok \
		MAMORICTL_CONFIG=$TMP/no-ctl-config.yaml "$MAMORICTL" "$@"
}

api_as() {
	aa_tok=$1
	aa_method=$2
	aa_path=$3
	if [ $# -ge 4 ]; then
		curl -sS --cacert "$SERVER_CA" --max-time 60 -o "$TMP/resp" -w '%{http_code}' \
			-X "$aa_method" -H "Authorization: Bearer $aa_tok" \
			-H 'Content-Type: application/json' --data-binary "$4" "$SERVER_URL$aa_path"
	else
		curl -sS --cacert "$SERVER_CA" --max-time 60 -o "$TMP/resp" -w '%{http_code}' \
			-X "$aa_method" -H "Authorization: Bearer $aa_tok" "$SERVER_URL$aa_path"
	fi
}

# Makes a token: new_token NAME ROLE -> prints it.
new_token() {
	api_as "$ADMIN_TOKEN" POST /api/v1/tokens "{\"name\":\"$1\",\"role\":\"$2\"}" >/dev/null
	jq -r .token "$TMP/resp"
}

lr_setup() {
	server_init || return 1
	# The init config ends with the live_response section: add to it.
	for l in "$@"; do
		printf '  %s\n' "$l" >>"$SERVER_CONFIG"
	done
	"$MAMORI_SERVER" lr-setup --config "$SERVER_CONFIG" --pubkey >"$TMP/lr_ca.pub" ||
		{ fail "lr-setup --pubkey"; return 1; }
	ssh-keygen -q -t ecdsa -N '' -C lr-test-host -f "$TMP/hostkey" </dev/null ||
		{ fail "ssh-keygen"; return 1; }
	sshd_start "$TMP/hostkey" || return 1
	server_start || return 1
	agent_setup "live_response:" "  enabled: true" "  login: root" "  port: $SSHD_PORT"
	mkdir -p "$TMP/root/etc/ssh"
	cp "$TMP/hostkey.pub" "$TMP/root/etc/ssh/ssh_host_ecdsa_key.pub"
	agent_once
	if [ "$AGENT_STATUS" != 0 ]; then
		fail "agent --once: $(cat "$TMP/agent-once.log")"
		return 1
	fi
	HOST=web01.example.com
	RESPONDER=$(new_token resp1 responder)
	OBSERVER=$(new_token obs1 observer)
	OPERATOR=$(new_token op1 operator)
	export HOST RESPONDER OBSERVER OPERATOR
}
