-- lua-policies/sysctl-no-icmp-redirects.lua - ICMP redirects are not accepted (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "net.ipv4.conf.all.accept_redirects", default = "1" },
  { name = "net.ipv4.conf.default.accept_redirects", default = "1" },
  { name = "net.ipv6.conf.all.accept_redirects", default = "1" },
  { name = "net.ipv6.conf.default.accept_redirects", default = "1" },
}
local WANT = "0" -- in messages
local SET = "0" -- value a fix writes
local function OK(v)
  return tonumber(v) == 0
end

return {
  id = "sysctl-no-icmp-redirects",
  title = "ICMP redirects are not accepted",
  description = "accept_redirects is 0 for all and default interfaces, IPv4 and (when present) IPv6.",
  severity = "medium",
  rationale = "Forged ICMP redirects let an attacker on the local network rewrite the host's routing table and intercept its traffic.",
  remediation = "Set `net.ipv4.conf.all.accept_redirects = 0`, `net.ipv4.conf.default.accept_redirects = 0`, `net.ipv6.conf.all.accept_redirects = 0` and `net.ipv6.conf.default.accept_redirects = 0` in /etc/sysctl.d/60-cis.conf, then run `sysctl --system`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure icmp redirects are not accepted" },
  tags = { "sysctl", "network", "cis" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
