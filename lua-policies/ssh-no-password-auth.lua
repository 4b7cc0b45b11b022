-- lua-policies/ssh-no-password-auth.lua - SSH accepts keys only, no passwords
-- (sshd_config: the global row plus any Match block that overrides it).

local function check()
  return sshd_no_check("PasswordAuthentication", "set it to no and use keys")
end

return {
  id = "ssh-no-password-auth",
  title = "SSH does not accept password authentication",
  description = "PasswordAuthentication is no globally and in every Match block, so SSH logins need a key (or another configured method), never a password alone.",
  severity = "medium",
  rationale = "Passwords can be guessed, sprayed and phished; an SSH server reachable from the network that accepts them is brute-forced continuously. Public keys cannot be guessed and are not sent to the server.",
  remediation = "Give every SSH user an authorized key, then set `PasswordAuthentication no` in /etc/ssh/sshd_config (and in any Match block that turns it back on), then `sshd -t && systemctl reload ssh`.",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)PasswordAuthentication[[:space:]].*/\1PasswordAuthentication no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*PasswordAuthentication[[:space:]]' $f || sed -i '1i PasswordAuthentication no' $f; sshd -t && systemctl reload ssh]==],
  references = { "sshd_config(5): PasswordAuthentication; no CIS Debian 12 item (CIS 5.1 Configure SSH Server does not require it)" },
  tags = { "ssh", "authentication" },
  platform = "debian",
  interval = 3600,
  check = check,
}
