-- lua-policies/sysctl-no-ip-forward.lua - IP forwarding is disabled (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "net.ipv4.ip_forward", default = "0" },
  { name = "net.ipv6.conf.all.forwarding", default = "0" },
}
local WANT = "0" -- in messages
local SET = "0" -- value a fix writes
local function OK(v)
  return tonumber(v) == 0
end

return {
  id = "sysctl-no-ip-forward",
  title = "IP forwarding is disabled",
  description = "net.ipv4.ip_forward and net.ipv6.conf.all.forwarding are 0: the host does not route packets between interfaces.",
  severity = "medium",
  rationale = "A host that is not a router but forwards packets can be used to reach networks its firewall placement assumes are unreachable.",
  remediation = "Set `net.ipv4.ip_forward = 0` and `net.ipv6.conf.all.forwarding = 0` in /etc/sysctl.d/60-cis.conf (and remove any other file setting them to 1), then run `sysctl --system`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure ip forwarding is disabled" },
  tags = { "sysctl", "network", "cis" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
