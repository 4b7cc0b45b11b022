-- lua-policies/ssh-no-root-login.lua - root may not log in over SSH
-- (sshd_config: the global row plus any Match block that overrides it).

local function check()
  return sshd_no_check("PermitRootLogin", "set it to no")
end

return {
  id = "ssh-no-root-login",
  title = "SSH does not permit root login",
  description = "PermitRootLogin is no globally and in every Match block, so root cannot log in over SSH with a password, a key or a forced command.",
  severity = "high",
  rationale = "Direct root logins leave no trace of which administrator acted and give an attacker who guesses or steals one credential the whole host. Administrators should log in as themselves and use sudo.",
  remediation = "Set `PermitRootLogin no` in /etc/ssh/sshd_config (before any Match block) and remove other PermitRootLogin lines from it and from /etc/ssh/sshd_config.d/*.conf, then `sshd -t && systemctl reload ssh`.",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)PermitRootLogin[[:space:]].*/\1PermitRootLogin no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*PermitRootLogin[[:space:]]' $f || sed -i '1i PermitRootLogin no' $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.20 (Ensure sshd PermitRootLogin is disabled)" },
  tags = { "ssh", "authentication", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
