-- lua-policies/ssh-no-empty-passwords.lua - SSH never accepts an empty password
-- (sshd_config: the global row plus any Match block that overrides it).

local function check()
  return sshd_no_check("PermitEmptyPasswords", "set it to no")
end

return {
  id = "ssh-no-empty-passwords",
  title = "SSH does not permit empty passwords",
  description = "PermitEmptyPasswords is no globally and in every Match block, so an account with an empty password cannot log in over SSH.",
  severity = "critical",
  rationale = "With PermitEmptyPasswords yes, any account whose password field is empty can be logged into from the network by typing only its name.",
  remediation = "Set `PermitEmptyPasswords no` in /etc/ssh/sshd_config (and in every Match block), then `sshd -t && systemctl reload ssh`; also lock or set passwords for accounts with empty ones (see no-empty-passwords).",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)PermitEmptyPasswords[[:space:]].*/\1PermitEmptyPasswords no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*PermitEmptyPasswords[[:space:]]' $f || sed -i '1i PermitEmptyPasswords no' $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.19 (Ensure sshd PermitEmptyPasswords is disabled)" },
  tags = { "ssh", "authentication", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
