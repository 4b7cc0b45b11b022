#!/bin/sh
# live_listening_ports.sh - listening_ports and process_open_sockets on the
# live host: a helper (tests/helpers/listen_tcp.c) listens on 127.0.0.1 on a
# kernel-chosen port; the tables must show that socket with the helper's
# pid and the fd that `ss -p`-style matching finds, with and without pid
# push-down, and must not show it once the helper is gone.
. "$(dirname "$0")/lib.sh"
: "${LISTEN_TCP:?LISTEN_TCP must point at the listen_tcp helper}"

"$LISTEN_TCP" >"$TMP/port" &
helper=$!
stop_helper() { kill "$helper" 2>/dev/null; wait "$helper" 2>/dev/null; }
add_cleanup stop_helper
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat "$TMP/port")
[ -n "$port" ] || { fail "listen_tcp printed no port"; finish; }
fd=$(for f in /proc/$helper/fd/*; do
	case $(readlink "$f") in socket:*) basename "$f" ;; esac
done)
inode=$(readlink /proc/$helper/fd/$fd | tr -dc 0-9)

got=$(q "SELECT pid, port, protocol, family, address, fd, socket FROM listening_ports WHERE port = $port")
assert_eq "listening_ports row" "$helper|$port|6|2|127.0.0.1|$fd|$inode" "$got"

# pid push-down: only the helper's sockets; IN with this shell (no socket).
got=$(q "SELECT pid, port FROM listening_ports WHERE pid = $helper")
assert_eq "listening_ports pid =" "$helper|$port" "$got"
got=$(q "SELECT pid, port FROM listening_ports WHERE pid IN ($$, $helper)")
assert_eq "listening_ports pid IN" "$helper|$port" "$got"

got=$(q "SELECT pid, fd, socket, family, protocol, local_address, local_port, remote_address, remote_port, state FROM process_open_sockets WHERE pid = $helper")
assert_eq "process_open_sockets row" "$helper|$fd|$inode|2|6|127.0.0.1|$port|0.0.0.0|0|LISTEN" "$got"

# net_namespace is our own network namespace's inode.
ns=$(readlink /proc/self/ns/net | tr -dc 0-9)
got=$(q "SELECT net_namespace FROM listening_ports WHERE port = $port")
assert_eq "net_namespace" "$ns" "$got"

# Without pid or fd in the query no descriptor is read: same socket.
got=$(q "SELECT address, socket FROM listening_ports WHERE port = $port")
assert_eq "no owner lookup" "127.0.0.1|$inode" "$got"

stop_helper
got=$(q "SELECT count(*) FROM listening_ports WHERE port = $port")
assert_eq "gone after the helper exits" "0" "$got"
finish
