#!/bin/sh
# live_kernel.sh - kernel and firewall tables on the live host:
# system_controls agrees with uname -r and /proc/sys directly;
# nftables_chains either lists the running chains or says in one row
# (readable = 0, error set) why it cannot, and never fails the query; when
# nft and unshare are available as root, a ruleset loaded in a private
# network namespace is read back over netlink.
. "$(dirname "$0")/lib.sh"

got=$(q "SELECT current_value FROM system_controls WHERE name = 'kernel.osrelease'")
assert_eq "kernel.osrelease = uname -r" "$(uname -r)" "$got"
got=$(q "SELECT current_value FROM system_controls WHERE name = 'net.ipv4.ip_forward'")
assert_eq "net.ipv4.ip_forward = /proc/sys" "$(cat /proc/sys/net/ipv4/ip_forward)" "$got"
# The full walk finds the same value as the push-down.
got=$(q "SELECT current_value FROM system_controls WHERE subsystem = 'kernel' AND name LIKE 'kernel.osrelease'")
assert_eq "walk agrees with push-down" "$(uname -r)" "$got"
n=$(q "SELECT count(*) FROM system_controls")
if [ "$n" -gt 100 ]; then pass; else fail "system_controls: only $n controls on the live host"; fi

# nftables_chains: the query succeeds whatever the privileges.
assert_status "nftables_chains never fails" 0 "$MAMORI" query --format pipe \
	"SELECT readable, error FROM nftables_chains WHERE source = 'running'"
bad=$(grep -c '^0|$' "$TMP/out")
assert_eq "an unreadable ruleset always says why" "0" "$bad"
if [ "$(id -u)" -ne 0 ]; then
	assert_contains "non-root is told" "0|not root" "$(cat "$TMP/out")"
fi

# A known ruleset in a private network namespace, read over netlink.
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 &&
	unshare -n true 2>/dev/null; then
	cat >"$TMP/rs.nft" <<'NFT'
table inet mmtest {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		tcp dport 22 accept
	}
	chain helper {
		counter
	}
}
NFT
	got=$(unshare -n sh -c "nft -f '$TMP/rs.nft' && '$MAMORI' query --format pipe \
		\"SELECT family, table_name, chain, type, hook, priority, policy, rules, readable
		  FROM nftables_chains WHERE source = 'running' AND table_name = 'mmtest'\"")
	assert_eq "running chains from netlink" "inet|mmtest|input|filter|input|0|drop|2|1
inet|mmtest|helper|NULL|NULL|NULL|NULL|1|1" "$got"
	got=$(unshare -n sh -c "nft -f '$TMP/rs.nft' && '$MAMORI' query --format pipe \
		\"SELECT chain, position, handle > 0, rule LIKE '%[ immediate reg 0 accept ]%'
		  FROM nftables_rules WHERE source = 'running' AND table_name = 'mmtest'\"")
	assert_eq "running rules from netlink" "input|1|1|1
input|2|1|1
helper|1|1|0" "$got"
	# Without CAP_NET_ADMIN the chain table explains itself.
	if command -v setpriv >/dev/null 2>&1; then
		got=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$MAMORI" query --format pipe \
			"SELECT readable, error FROM nftables_chains WHERE source = 'running'" 2>/dev/null)
		assert_contains "unprivileged: readable = 0 with a reason" "0|not root" "$got"
	fi
else
	echo "live_kernel: nft/unshare not usable here; netlink read-back skipped"
fi

finish
