#!/bin/sh
# policies_perms.sh - the file permission policies (lua-policies/perm-*.lua)
# on a tiny /etc built here, because git keeps neither owners nor modes other
# than 0644/0755: the files are chmod'ed and chown'ed in $TMP/root, then
# `mamori check --root` gives the verdicts.  Cases: all five files as the
# CIS Debian 12 Benchmark wants them (pass), modes too open (fail naming the
# mode and the extra bits), wrong owner and group (fail naming them from the
# root's /etc/passwd and /etc/group), a set-user-id bit, a missing file
# (not_applicable).  Owners need root: run as another user, only the mode
# cases are checked.
. "$(dirname "$0")/lib.sh"
R="$TMP/root"
POL="$SRCDIR/lua-policies"
mkdir -p "$R/etc"
cat >"$R/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
deploy:x:1000:1000:Deploy,,,:/home/deploy:/bin/bash
EOT
cat >"$R/etc/group" <<'EOT'
root:x:0:
adm:x:4:deploy
shadow:x:42:
deploy:x:1000:
EOT
printf 'root:*:19700:0:99999:7:::\ndeploy:!:19700:0:99999:7:::\n' >"$R/etc/shadow"
printf 'root:*::\nshadow:*::\nadm:*::deploy\n' >"$R/etc/gshadow"
printf 'SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n' >"$R/etc/crontab"

# check ID: prints "verdict|reason" of one policy on $R.
check() {
	"$MAMORI" check --root "$R" --format jsonl "$POL/$1.lua" 2>"$TMP/err" |
		sed -n 's/.*"verdict":"\([a-z_]*\)".*"reason":"\([^"]*\)".*/\1|\2/p;
		        s/.*"reason":"\([^"]*\)".*"verdict":"\([a-z_]*\)".*/\2|\1/p' | head -1
}
# expect ID VERDICT REASON-SUBSTRING
expect() {
	got=$(check "$1")
	assert_contains "$1 verdict" "$2|" "$got"
	assert_contains "$1 reason" "$3" "$got"
}

root=0
[ "$(id -u)" = 0 ] && root=1
if [ $root = 1 ]; then
	chown 0:0 "$R/etc/passwd" "$R/etc/group" "$R/etc/crontab"
	chown 0:42 "$R/etc/shadow" "$R/etc/gshadow"
fi

# As the benchmark wants them.
chmod 0644 "$R/etc/passwd" "$R/etc/group"
chmod 0640 "$R/etc/shadow"
chmod 0640 "$R/etc/gshadow"
chmod 0600 "$R/etc/crontab"
if [ $root = 1 ]; then
	expect perm-passwd pass "/etc/passwd is 0644 root(0):root(0)"
	expect perm-group pass "/etc/group is 0644 root(0):root(0)"
	expect perm-shadow pass "/etc/shadow is 0640 root(0):shadow(42)"
	expect perm-gshadow pass "/etc/gshadow is 0640 root(0):shadow(42)"
	expect perm-crontab pass "/etc/crontab is 0600 root(0):root(0)"
	# Stricter is fine, and root:root is accepted for shadow.
	chmod 0000 "$R/etc/shadow"
	chown 0:0 "$R/etc/shadow"
	expect perm-shadow pass "/etc/shadow is 0000 root(0):root(0)"
	chown 0:42 "$R/etc/shadow"
fi

# Modes too open.
chmod 0666 "$R/etc/passwd"
chmod 0664 "$R/etc/group"
chmod 0644 "$R/etc/shadow"
chmod 0660 "$R/etc/gshadow"
chmod 0644 "$R/etc/crontab"
expect perm-passwd fail "mode is 0666, want 0644 or stricter (extra bits 0022): chmod 0644 /etc/passwd"
expect perm-group fail "mode is 0664, want 0644 or stricter (extra bits 0020)"
expect perm-shadow fail "mode is 0644, want 0640 or stricter (extra bits 0004): chmod 0640 /etc/shadow"
expect perm-gshadow fail "mode is 0660, want 0640 or stricter (extra bits 0020)"
expect perm-crontab fail "mode is 0644, want 0600 or stricter (extra bits 0044)"
chmod 4600 "$R/etc/crontab"
expect perm-crontab fail "mode is 4600, want 0600 or stricter (extra bits 4000)"

# Wrong owner and group, with right modes.
if [ $root = 1 ]; then
	chmod 0644 "$R/etc/passwd" "$R/etc/group"
	chmod 0640 "$R/etc/shadow" "$R/etc/gshadow"
	chmod 0600 "$R/etc/crontab"
	chown 1000:0 "$R/etc/passwd"
	expect perm-passwd fail "owner is deploy(1000), want root: chown root /etc/passwd"
	chown 0:1000 "$R/etc/group"
	expect perm-group fail "group is deploy(1000), want root"
	chown 0:4 "$R/etc/shadow"
	expect perm-shadow fail "group is adm(4), want shadow or root: chgrp shadow /etc/shadow"
	chown 1000:42 "$R/etc/gshadow"
	expect perm-gshadow fail "owner is deploy(1000), want root"
	chown 0:12345 "$R/etc/crontab"
	expect perm-crontab fail "group is ?(12345), want root"
	# The failing rows come with the verdict.
	got=$("$MAMORI" check --root "$R" --format jsonl "$POL/perm-shadow.lua" 2>/dev/null)
	assert_contains "perm-shadow rows" '"gid":4' "$got"
fi

# A file that is not there: nothing to judge.
rm "$R/etc/gshadow"
expect perm-gshadow not_applicable "/etc/gshadow does not exist"
finish
