-- lua-policies/sysctl-syncookies.lua - TCP SYN cookies are enabled (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "net.ipv4.tcp_syncookies", default = "1" },
}
local WANT = "1" -- in messages
local SET = "1" -- value a fix writes
local function OK(v)
  return tonumber(v) == 1
end

return {
  id = "sysctl-syncookies",
  title = "TCP SYN cookies are enabled",
  description = "net.ipv4.tcp_syncookies is 1: the kernel answers with SYN cookies when the SYN backlog fills up.",
  severity = "medium",
  rationale = "Without SYN cookies a SYN flood fills the half-open connection queue and legitimate clients cannot connect.",
  remediation = "Set `net.ipv4.tcp_syncookies = 1` in /etc/sysctl.d/60-cis.conf and run `sysctl --system`.",
  remediation_script = "printf 'net.ipv4.tcp_syncookies = 1\\n' >> /etc/sysctl.d/60-cis.conf && sysctl --system",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure tcp syn cookies is enabled" },
  tags = { "sysctl", "network", "cis" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
