#!/bin/sh
# live_users.sh - the users table on the live host: root is there with uid
# 0, and the username:uid list equals the one read from /etc/passwd
# directly (well-formed lines, in file order); each account agrees with
# getent passwd.  groups is checked the same way against /etc/group.
. "$(dirname "$0")/lib.sh"

got=$(q "SELECT uid FROM users WHERE username = 'root'")
assert_contains "root has uid 0" "0" "$got"
got=$(q "SELECT count(*) FROM users WHERE uid = 0 AND username = 'root'")
assert_eq "root found through the uid push-down" "1" "$got"

# The passwd lines the table should list: 7 fields, a name, numeric ids.
awk -F: 'NF == 7 && $1 != "" && $1 !~ /^[#+-]/ && $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ {
	print $1 ":" $3 }' /etc/passwd >"$TMP/want"
q "SELECT username || ':' || uid FROM users" >"$TMP/got" 2>"$TMP/warn"
assert_eq "users = /etc/passwd" "$(cat "$TMP/want")" "$(cat "$TMP/got")"
assert_eq "no warnings on this host's passwd" "" "$(cat "$TMP/warn")"

# getent agrees for every account from /etc/passwd (NSS may add more from
# elsewhere; those are not in the table by design).
n=0
while IFS=: read -r name uid; do
	g=$(getent passwd "$name" | cut -d: -f3)
	[ -n "$g" ] || continue # shadowed by an NSS source that lacks it
	n=$((n + 1))
	if [ "$g" != "$uid" ]; then
		fail "getent passwd $name: uid $g, table says $uid"
	fi
done <"$TMP/got"
if [ "$n" -gt 0 ]; then pass; else fail "getent found none of the accounts"; fi

# Home and shell of root as getent reports them.
want=$(getent passwd root | cut -d: -f6,7)
got=$(q "SELECT directory || ':' || shell FROM users WHERE uid = 0 LIMIT 1")
assert_eq "root's home and shell" "$want" "$got"

# groups: first line of each gid, as the table keeps.
awk -F: 'NF == 4 && $1 != "" && $1 !~ /^[#+-]/ && $3 ~ /^[0-9]+$/ && !seen[$3]++ {
	print $1 ":" $3 }' /etc/group >"$TMP/gwant"
got=$(q "SELECT groupname || ':' || gid FROM groups")
assert_eq "groups = /etc/group" "$(cat "$TMP/gwant")" "$got"

# user_groups: root's primary group is listed first for uid 0.
got=$(q "SELECT gid FROM user_groups WHERE uid = 0 LIMIT 1")
assert_eq "root's primary group" "$(getent passwd root | cut -d: -f4)" "$got"

finish
