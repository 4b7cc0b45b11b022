-- lua-policies/sysctl-rp-filter.lua - Strict reverse path filtering is enabled (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "net.ipv4.conf.all.rp_filter", default = "0" },
  { name = "net.ipv4.conf.default.rp_filter", default = "0" },
}
local WANT = "1" -- in messages
local SET = "1" -- value a fix writes
local function OK(v)
  return tonumber(v) == 1
end

return {
  id = "sysctl-rp-filter",
  title = "Strict reverse path filtering is enabled",
  description = "net.ipv4.conf.all.rp_filter and net.ipv4.conf.default.rp_filter are 1 (strict mode).",
  severity = "medium",
  rationale = "Strict reverse path filtering drops packets whose source address could not be answered over the interface they came in on, which defeats most address spoofing.",
  remediation = "Set `net.ipv4.conf.all.rp_filter = 1` and `net.ipv4.conf.default.rp_filter = 1` in /etc/sysctl.d/60-cis.conf (systemd's /usr/lib/sysctl.d/50-default.conf sets 2, loose mode), then run `sysctl --system`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure reverse path filtering is enabled" },
  tags = { "sysctl", "network", "cis" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
