-- lua-policies/sysctl-no-source-route.lua - Source-routed packets are not accepted (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "net.ipv4.conf.all.accept_source_route", default = "0" },
  { name = "net.ipv4.conf.default.accept_source_route", default = "1" },
  { name = "net.ipv6.conf.all.accept_source_route", default = "0" },
  { name = "net.ipv6.conf.default.accept_source_route", default = "0" },
}
local WANT = "0" -- in messages
local SET = "0" -- value a fix writes
local function OK(v)
  return tonumber(v) == 0
end

return {
  id = "sysctl-no-source-route",
  title = "Source-routed packets are not accepted",
  description = "accept_source_route is 0 for all and default interfaces, IPv4 and (when present) IPv6.",
  severity = "medium",
  rationale = "Source routing lets a sender choose the path of its packets, which can be used to reach internal addresses through this host.",
  remediation = "Set `net.ipv4.conf.all.accept_source_route = 0`, `net.ipv4.conf.default.accept_source_route = 0`, `net.ipv6.conf.all.accept_source_route = 0` and `net.ipv6.conf.default.accept_source_route = 0` in /etc/sysctl.d/60-cis.conf, then run `sysctl --system`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure source routed packets are not accepted" },
  tags = { "sysctl", "network", "cis" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
