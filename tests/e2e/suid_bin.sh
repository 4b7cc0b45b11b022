#!/bin/sh
# suid_bin.sh - the suid_bin table on a fixture tree built here, because git
# does not keep set-user-id bits: files are copied into $TMP/root and
# chmod'ed u+s / g+s, then `mamori query --root` lists them.  Checks: the
# searched directories (osquery's, /tmp included, /usr/lib not), recursion,
# 'S'/'G'/'SG', symlinks neither followed nor reported, a linked search
# directory (/bin -> usr/bin) skipped, owner names from the root's
# /etc/passwd and /etc/group, and numbers when the ids have no name.
. "$(dirname "$0")/lib.sh"
R="$TMP/root"
uid=$(id -u)
gid=$(id -g)
mkdir -p "$R/etc" "$R/usr/bin" "$R/usr/sbin" "$R/usr/local/bin" "$R/usr/lib/openssh" \
	"$R/tmp/.x/deep" "$R/usr/bin/sub"
printf 'owner:x:%s:%s::/:/bin/sh\n' "$uid" "$gid" >"$R/etc/passwd"
printf 'staff:x:%s:\n' "$gid" >"$R/etc/group"
for f in usr/bin/passwd usr/bin/chage usr/bin/sub/both usr/bin/plain usr/sbin/pppd \
	usr/local/bin/lockbox usr/lib/openssh/ssh-keysign tmp/.x/deep/evil; do
	printf '#!/bin/sh\nexit 0\n' >"$R/$f"
done
chmod 0755 "$R"/usr/bin/plain
chmod 4755 "$R"/usr/bin/passwd "$R"/usr/sbin/pppd "$R"/usr/lib/openssh/ssh-keysign "$R"/tmp/.x/deep/evil
chmod 2755 "$R"/usr/bin/chage "$R"/usr/local/bin/lockbox
chmod 6755 "$R"/usr/bin/sub/both
chmod 2775 "$R"/usr/bin/sub # a setgid directory is no binary
ln -s usr/bin "$R/bin"                        # merged /usr: reported once, under /usr/bin
ln -s ../bin/passwd "$R/usr/sbin/passwd-link" # a link to a suid file is not reported
ln -s ../../tmp/.x "$R/usr/local/bin/x"       # a linked directory is not entered

got=$("$MAMORI" query --root "$R" --format pipe \
	"SELECT path, username, groupname, permissions FROM suid_bin ORDER BY path" 2>"$TMP/err")
assert_eq "suid_bin rows" "/tmp/.x/deep/evil|owner|staff|S
/usr/bin/chage|owner|staff|G
/usr/bin/passwd|owner|staff|S
/usr/bin/sub/both|owner|staff|SG
/usr/local/bin/lockbox|owner|staff|G
/usr/sbin/pppd|owner|staff|S" "$got"
assert_eq "no warnings" "" "$(cat "$TMP/err")"

# Without passwd/group entries the ids are shown as numbers (as osquery).
rm "$R/etc/passwd" "$R/etc/group"
got=$("$MAMORI" query --root "$R" --format pipe \
	"SELECT username, groupname FROM suid_bin WHERE path = '/usr/bin/passwd'")
assert_eq "numeric owner" "$uid|$gid" "$got"

# The hidden osquery column exists and is 0; SELECT * does not show it.
got=$("$MAMORI" query --root "$R" --format pipe \
	"SELECT DISTINCT pid_with_namespace FROM suid_bin")
assert_eq "pid_with_namespace" "0" "$got"
got=$("$MAMORI" query --root "$R" --format csv "SELECT * FROM suid_bin LIMIT 1" | head -1)
assert_eq "visible columns" "path,username,groupname,permissions" "$got"

# The fixture hosts hold no set-id files (git drops the bits): no rows.
got=$("$MAMORI" query --root "$FIXTURES/web01" --format pipe "SELECT count(*) FROM suid_bin")
assert_eq "web01 has none" "0" "$got"
finish
