#!/bin/sh
# live_system.sh - the system and network tables on this machine (root /),
# checked against the usual commands: os_version against os-release,
# kernel_info against uname -r, system_info against hostname and nproc,
# interface_addresses (getifaddrs) for loopback, uptime against the clock,
# and the file-based interface_addresses path (any root other than /)
# against the getifaddrs() one.
. "$(dirname "$0")/lib.sh"

# os_version: this is a Debian 12 machine.
assert_eq "os_version platform/major" "debian|12" \
	"$(q "SELECT platform, major FROM os_version")"
. /etc/os-release
assert_eq "os_version codename" "$VERSION_CODENAME" "$(q "SELECT codename FROM os_version")"
assert_eq "os_version arch" "$(uname -m)" "$(q "SELECT arch FROM os_version")"

# kernel_info / system_info against uname, hostname, nproc.
assert_eq "kernel_info.version" "$(uname -r)" "$(q "SELECT version FROM kernel_info")"
got=$(q "SELECT hostname FROM system_info")
if [ "$got" = "$(hostname)" ] || [ "$got" = "$(hostname -f 2>/dev/null)" ]; then pass; else
	fail "system_info.hostname: expected [$(hostname)] (or hostname -f), got [$got]"
fi
assert_eq "system_info.computer_name" "$(hostname)" "$(q "SELECT computer_name FROM system_info")"
assert_eq "system_info.cpu_type" "$(uname -m)" "$(q "SELECT cpu_type FROM system_info")"
assert_eq "system_info.cpu_logical_cores" "$(nproc --all)" \
	"$(q "SELECT cpu_logical_cores FROM system_info")"
mem=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
assert_eq "system_info.physical_memory" "$mem" "$(q "SELECT physical_memory FROM system_info")"

# interface_addresses: loopback's IPv4 address, on lo, with its /8 mask.
assert_eq "127.0.0.1 on lo" "lo|255.0.0.0" \
	"$(q "SELECT interface, mask FROM interface_addresses WHERE address = '127.0.0.1'")"
# interface_details lists lo as a loopback interface (ARPHRD_LOOPBACK 772,
# IFF_LOOPBACK 0x8).
assert_eq "interface_details lo" "772|1" \
	"$(q "SELECT type, (flags & 8) != 0 FROM interface_details WHERE interface = 'lo'")"

# uptime: positive and close to /proc/uptime.
up=$(q "SELECT total_seconds FROM uptime")
if [ "${up:-0}" -gt 0 ] 2>/dev/null; then pass; else fail "uptime: expected > 0, got [$up]"; fi
sys=$(cut -d. -f1 /proc/uptime)
if [ $((sys - up)) -le 5 ] && [ $((sys - up)) -ge -5 ]; then pass; else
	fail "uptime: expected about $sys, got $up"
fi

# time: unix_time is now.
now=$(date +%s)
t=$(q "SELECT unix_time FROM time")
if [ $((t - now)) -le 5 ] && [ $((t - now)) -ge -5 ]; then pass; else
	fail "time.unix_time: expected about $now, got $t"
fi

# The file-based path (root "/." reads the same files but is not "/")
# finds the same addresses as getifaddrs() on this machine.
Q="SELECT interface, address, mask, broadcast, point_to_point FROM interface_addresses ORDER BY 1, 2"
assert_eq "interface_addresses: files agree with getifaddrs()" "$(q "$Q")" \
	"$("$MAMORI" query --root /. --format pipe "$Q")"

# routes: the default IPv4 route agrees with /proc/net/route's.
gw=$(awk 'NR > 1 && $2 == "00000000" && $8 == "00000000" { print $1; exit }' /proc/net/route)
if [ -n "$gw" ]; then
	assert_eq "routes: default route interface" "$gw" \
		"$(q "SELECT interface FROM routes WHERE destination = '0.0.0.0' AND netmask = 0 LIMIT 1")"
fi
finish
