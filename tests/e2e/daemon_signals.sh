#!/bin/sh
# daemon_signals.sh - SIGHUP reloads the config file (a bad one is logged
# and the old one kept); SIGINT, like SIGTERM, stops the daemon with exit 0;
# a second daemon on the same state directory is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_daemon.sh"

server_start || finish
agent_setup
apply_pack hyg 'name: hyg
queries:
  users:
    query: SELECT uid, username FROM users
    interval: 1'
agent_start
wait_db "first results" "24" 20 "SELECT count(*) FROM results"

# One daemon per state directory.
assert_status "second daemon" 1 "$MAMORI" daemon --config "$TMP/agent.yaml" --once
assert_contains "second daemon message" "mamori-state.lock: in use by another mamori daemon" \
	"$(cat "$TMP/err")"

# A broken config: logged, the daemon goes on with the old one.
cp "$TMP/agent.yaml" "$TMP/agent.good"
printf 'intervals:\n  log_flush: sometimes\n' >>"$TMP/agent.yaml"
kill -HUP "$AGENT_PID"
i=0
while ! grep -q "keeping the current config" "$AGENT_LOG" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
assert_contains "bad reload logged" "agent.yaml:14: intervals: duplicate key; keeping the current config" "$(cat "$AGENT_LOG")"
assert_eq "still running" "0" "$(kill -0 "$AGENT_PID" 2>/dev/null; echo $?)"
add_user u1 2001
wait_db "still working" "1" 20 \
	"SELECT count(*) FROM results WHERE json_extract(columns, '\$.username') = 'u1'"

# A good config: reloaded (another table root).
cp "$TMP/agent.good" "$TMP/agent.yaml"
rm -rf "$TMP/root2"
cp -R "$TMP/root" "$TMP/root2"
add_user u2 2002 # into $TMP/root: no longer read after the reload
printf 'u9:x:2009:2009::/home/u9:/bin/sh\n' >>"$TMP/root2/etc/passwd"
sed -i "s|^root: .*|root: $TMP/root2|" "$TMP/agent.yaml"
kill -HUP "$AGENT_PID"
wait_db "the new root is read" "1" 20 \
	"SELECT count(*) FROM results WHERE json_extract(columns, '\$.username') = 'u9'"
assert_contains "reload logged" "config reloaded" "$(cat "$AGENT_LOG")"

# SIGINT stops it, exit 0.
t0=$(now_ms)
kill -INT "$AGENT_PID"
wait "$AGENT_PID"
status=$?
AGENT_PID=""
assert_eq "SIGINT exit status" "0" "$status"
assert_eq "stopped within 2 s" "1" "$([ $(($(now_ms) - t0)) -lt 2000 ] && echo 1)"
assert_contains "SIGINT logged" "SIGINT: stopping" "$(cat "$AGENT_LOG")"

no_sanitizer "agent log" "$AGENT_LOG"

finish
