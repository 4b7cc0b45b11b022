#!/bin/sh
# policies_tmproot.sh - part A's policies whose verdict depends on what git
# cannot store, checked on copies of fixture hosts changed here:
#   ssh-config-permissions  modes and owners of /etc/ssh/sshd_config and its
#                           drop-ins (git keeps only 0644/0755 and no owner);
#   apt-lists-fresh         the age of the APT lists is their files' mtime,
#                           which a checkout resets to now;
#   no-reboot-pending       /run/reboot-required (a tmpfs file, not kept in
#                           fixtures).
# Owners need root: run as another user, the owner cases are skipped and the
# "all good" case expects the fail that names the non-root owner.
. "$(dirname "$0")/lib.sh"
POL="$SRCDIR/lua-policies"

# run ROOT ID: the jsonl line of one policy's verdict on ROOT.
run() {
	"$MAMORI" check --root "$1" --format jsonl "$POL/$2.lua" 2>"$TMP/err"
}
# expect ROOT ID VERDICT REASON-SUBSTRING (as it appears in the JSON text)
expect() {
	got=$(run "$1" "$2")
	assert_contains "$2 verdict" "\"verdict\":\"$3\"" "$got"
	assert_contains "$2 reason" "$4" "$got"
}

root=0
[ "$(id -u)" = 0 ] && root=1

# ---- ssh-config-permissions -------------------------------------------------
S="$TMP/ssh"
mkdir -p "$S/etc/ssh/sshd_config.d"
cp "$FIXTURES/web01/etc/ssh/sshd_config" "$S/etc/ssh/"
cp "$FIXTURES/web01/etc/ssh/sshd_config.d/50-hardening.conf" "$S/etc/ssh/sshd_config.d/"
printf '# not a .conf file: sshd does not read it\n' >"$S/etc/ssh/sshd_config.d/README"
chmod 0600 "$S/etc/ssh/sshd_config" "$S/etc/ssh/sshd_config.d/50-hardening.conf"
if [ $root = 1 ]; then
	chown 0:0 "$S/etc/ssh/sshd_config" "$S/etc/ssh/sshd_config.d/50-hardening.conf"
	expect "$S" ssh-config-permissions pass \
		"2 sshd configuration files are root:root with mode 0600 or stricter"
	chmod 0400 "$S/etc/ssh/sshd_config"
	expect "$S" ssh-config-permissions pass "root:root"
	chmod 0600 "$S/etc/ssh/sshd_config"
	chown 1000:0 "$S/etc/ssh/sshd_config.d/50-hardening.conf"
	expect "$S" ssh-config-permissions fail \
		"/etc/ssh/sshd_config.d/50-hardening.conf is owned by uid 1000 (want root"
	chown 0:4 "$S/etc/ssh/sshd_config.d/50-hardening.conf"
	expect "$S" ssh-config-permissions fail \
		"/etc/ssh/sshd_config.d/50-hardening.conf has group gid 4 (want root"
	got=$(run "$S" ssh-config-permissions)
	assert_contains "ssh-config-permissions rows" '"gid":4' "$got"
	chown 0:0 "$S/etc/ssh/sshd_config.d/50-hardening.conf"
else
	expect "$S" ssh-config-permissions fail "is owned by uid $(id -u) (want root"
fi
chmod 0644 "$S/etc/ssh/sshd_config"
expect "$S" ssh-config-permissions fail \
	"/etc/ssh/sshd_config is mode 0644 (want 0600 or stricter: chmod u-x,go-rwx /etc/ssh/sshd_config)"
chmod 0700 "$S/etc/ssh/sshd_config"
expect "$S" ssh-config-permissions fail "/etc/ssh/sshd_config is mode 0700"
chmod 0640 "$S/etc/ssh/sshd_config.d/50-hardening.conf"
expect "$S" ssh-config-permissions fail "50-hardening.conf is mode 0640"
rm -r "$S/etc/ssh"
expect "$S" ssh-config-permissions not_applicable "/etc/ssh/sshd_config does not exist"

# ---- apt-lists-fresh, no-reboot-pending -----------------------------------
A="$TMP/apt"
cp -R "$FIXTURES/pol-patched" "$A"
touch "$A"/var/lib/apt/lists/*
expect "$A" apt-lists-fresh pass "refreshed 0 minutes ago"
touch -d "10 days ago" "$A"/var/lib/apt/lists/*
expect "$A" apt-lists-fresh fail "APT's package lists are 10 days old (more than 7 days)"
touch -d "3 days ago" "$A"/var/lib/apt/lists/*
expect "$A" apt-lists-fresh pass "refreshed 3 days ago"
expect "$A" no-reboot-pending pass "the running kernel 6.1.0-21-amd64 is the newest installed"
mkdir -p "$A/run"
printf '*** System restart required ***\n' >"$A/run/reboot-required"
printf 'libc6\nlibssl3\n' >"$A/run/reboot-required.pkgs"
expect "$A" no-reboot-pending fail "a reboot is pending: /run/reboot-required exists (for libc6"
rm -r "$A/var/lib/apt/lists"
expect "$A" apt-lists-fresh fail "never downloaded"
expect "$A" no-pending-security-updates not_applicable "no APT package lists"
finish
