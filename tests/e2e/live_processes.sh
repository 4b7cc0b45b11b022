#!/bin/sh
# live_processes.sh - the processes table on the live host: this script's
# own shell ($$) is there with the right parent and name, pid push-down
# (= and IN) returns exactly the pids asked for, and the start time is sane.
. "$(dirname "$0")/lib.sh"

me=$$
parent=$(awk '{ sub(/^.*\) /, ""); print $2 }' /proc/$me/stat)
comm=$(cat /proc/$me/comm)

got=$(q "SELECT pid, parent, name FROM processes WHERE pid = $me")
assert_eq "own shell by pid" "$me|$parent|$comm" "$got"

# The whole table has it too (no push-down), along with PID 1.
got=$(q "SELECT count(*) FROM processes WHERE pid + 0 IN (1, $me)")
assert_eq "full scan finds pid 1 and this shell" "2" "$got"

# IN push-down: exactly the listed processes, nothing else; a pid that does
# not exist gives no row and no error.
got=$(q "SELECT pid FROM processes WHERE pid IN (1, $me, 999999999) ORDER BY pid")
assert_eq "IN push-down" "1
$me" "$got"

# Columns read from status/cmdline/links are filled for our own process.
got=$(q "SELECT uid = $(id -u), euid = $(id -u), cmdline <> '', path <> '', on_disk, cwd = '$(pwd -P)' FROM processes WHERE pid = $me")
assert_eq "own uid, cmdline, path, on_disk, cwd" "1|1|1|1|1|1" "$got"

# start_time is seconds since the Epoch, between boot and now.
now=$(date +%s)
btime=$(awk '/^btime / { print $2 }' /proc/stat)
got=$(q "SELECT start_time >= $btime AND start_time <= $now + 1 FROM processes WHERE pid = $me")
assert_eq "start_time between boot and now" "1" "$got"

# The count matches the numeric entries of /proc (processes come and go:
# allow a little slack).
n_proc=$(ls /proc | grep -c '^[0-9][0-9]*$')
n_mm=$(q "SELECT count(*) FROM processes")
diff=$((n_mm - n_proc))
if [ "${diff#-}" -le 5 ]; then pass; else fail "process count: /proc has $n_proc, table has $n_mm"; fi
finish
