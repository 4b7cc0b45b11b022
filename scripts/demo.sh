#!/bin/sh
# demo.sh - the README's main job: builds Mamori and audits this host in SQL.
# Installs the Debian packages it needs when they are missing.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
M=build/release/mamori

show() {
	printf '\n== %s\n$ mamori query "%s"\n' "$1" "$2"
	"$M" query "$2"
}

printf 'Mamori %s: an audit of this host in SQL (%s tables)\n' \
	"$("$M" query --format csv 'SELECT version FROM mamori_info' | tail -1)" \
	"$("$M" tables | wc -l)"
show "The host" \
	"SELECT s.hostname, o.name AS os, o.version, k.version AS kernel, u.days AS uptime_days FROM system_info s, os_version o, kernel_info k, uptime u"
show "Listening ports and the processes behind them" \
	"SELECT l.protocol, l.address, l.port, l.pid, p.name, p.cmdline FROM listening_ports l LEFT JOIN processes p USING (pid) ORDER BY l.port"
show "Users who can log in (a real shell)" \
	"SELECT username, uid, gid, directory, shell FROM users WHERE shell NOT LIKE '%nologin' AND shell NOT LIKE '%/false' AND shell <> '' ORDER BY uid"
show "Accounts with uid 0 (only root expected)" \
	"SELECT username, shell FROM users WHERE uid = 0"
show "Installed packages" \
	"SELECT count(*) AS packages, sum(size) / 1024 AS installed_mib FROM deb_packages WHERE status LIKE '% installed'"
show "The ten largest packages" \
	"SELECT name, version, arch, size FROM deb_packages ORDER BY size DESC LIMIT 10"
show "Patch level (computed from apt's lists; apt is not run)" \
	"SELECT pending_updates, pending_security_updates, lists_age_seconds / 3600 AS lists_age_hours, unattended_upgrades_enabled, reboot_required FROM patch_status"
show "Pending security updates by source package" \
	"SELECT source, group_concat(name, ' ') AS packages, max(candidate_version) AS fixed_in FROM apt_upgradable WHERE security = 1 GROUP BY source ORDER BY source LIMIT 15"
show "Remote desktop services (xrdp, VNC, ...) and their exposure" \
	"SELECT service, installed, running, listen_addresses, exposed FROM remote_desktop"
show "SSH server settings that matter" \
	"SELECT keyword, value, is_default FROM sshd_config WHERE match_block = '' AND keyword IN ('PermitRootLogin', 'PasswordAuthentication', 'PermitEmptyPasswords', 'MaxAuthTries', 'X11Forwarding')"
show "Security-relevant files" \
	"SELECT path, mode, uid, gid FROM file WHERE path IN ('/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/sudoers', '/etc/ssh/sshd_config')"
printf '\nTry it yourself: %s shell\n' "$M"
