-- lua-policies/sysctl-dmesg-restrict.lua - Kernel log is readable by root only (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "kernel.dmesg_restrict", default = nil },
}
local WANT = "1" -- in messages
local SET = "1" -- value a fix writes
local function OK(v)
  return tonumber(v) == 1
end

return {
  id = "sysctl-dmesg-restrict",
  title = "Kernel log is readable by root only",
  description = "kernel.dmesg_restrict is 1: unprivileged users cannot read the kernel ring buffer with dmesg.",
  severity = "low",
  rationale = "The kernel log leaks kernel addresses, hardware details and other users' activity that help local privilege escalation.",
  remediation = "Set `kernel.dmesg_restrict = 1` in /etc/sysctl.d/60-cis.conf and run `sysctl --system`.",
  remediation_script = "printf 'kernel.dmesg_restrict = 1\\n' >> /etc/sysctl.d/60-cis.conf && sysctl --system",
  references = { "Kernel Self Protection Project: recommended settings (kernel.dmesg_restrict = 1)" },
  tags = { "sysctl", "kernel" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
