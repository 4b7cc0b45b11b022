-- lua-policies/ssh-no-x11-forwarding.lua - SSH does not forward X11
-- (sshd_config: the global row plus any Match block that overrides it).

local function check()
  return sshd_no_check("X11Forwarding", "set it to no")
end

return {
  id = "ssh-no-x11-forwarding",
  title = "SSH does not allow X11 forwarding",
  description = "X11Forwarding is no globally and in every Match block.",
  severity = "low",
  rationale = "A forwarded X11 display lets code on the server reach the client's X server: read keystrokes, take screenshots and inject input. Servers rarely need it.",
  remediation = "Set `X11Forwarding no` in /etc/ssh/sshd_config (Debian's shipped file sets yes) and in every Match block, then `sshd -t && systemctl reload ssh`. `DisableForwarding yes` turns off X11, agent and TCP forwarding at once.",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)X11Forwarding[[:space:]].*/\1X11Forwarding no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*X11Forwarding[[:space:]]' $f || sed -i '1i X11Forwarding no' $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.8 (Ensure sshd DisableForwarding is enabled)" },
  tags = { "ssh", "forwarding", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
