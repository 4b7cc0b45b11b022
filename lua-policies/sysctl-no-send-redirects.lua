-- lua-policies/sysctl-no-send-redirects.lua - Packet redirect sending is disabled (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "net.ipv4.conf.all.send_redirects", default = "1" },
  { name = "net.ipv4.conf.default.send_redirects", default = "1" },
}
local WANT = "0" -- in messages
local SET = "0" -- value a fix writes
local function OK(v)
  return tonumber(v) == 0
end

return {
  id = "sysctl-no-send-redirects",
  title = "Packet redirect sending is disabled",
  description = "net.ipv4.conf.all.send_redirects and net.ipv4.conf.default.send_redirects are 0.",
  severity = "medium",
  rationale = "Only routers need to send ICMP redirects; a compromised host could use them to misroute other hosts' traffic.",
  remediation = "Set `net.ipv4.conf.all.send_redirects = 0` and `net.ipv4.conf.default.send_redirects = 0` in /etc/sysctl.d/60-cis.conf, then run `sysctl --system`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure packet redirect sending is disabled" },
  tags = { "sysctl", "network", "cis" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
