-- lua-policies/sysctl-kptr-restrict.lua - Kernel pointers are hidden from unprivileged users (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "kernel.kptr_restrict", default = "0" },
}
local WANT = "1 or 2" -- in messages
local SET = "2" -- value a fix writes
local function OK(v)
  local n = tonumber(v)
  return n ~= nil and n >= 1
end

return {
  id = "sysctl-kptr-restrict",
  title = "Kernel pointers are hidden from unprivileged users",
  description = "kernel.kptr_restrict is 1 or 2: kernel addresses printed with %pK (/proc/kallsyms, /proc/modules) read as zeros for unprivileged users.",
  severity = "low",
  rationale = "Knowing where kernel code and data live defeats kernel address space layout randomization, a step in most kernel exploits.",
  remediation = "Set `kernel.kptr_restrict = 2` (or 1) in /etc/sysctl.d/60-cis.conf and run `sysctl --system`.",
  remediation_script = "printf 'kernel.kptr_restrict = 2\\n' >> /etc/sysctl.d/60-cis.conf && sysctl --system",
  references = { "Kernel Self Protection Project: recommended settings (kernel.kptr_restrict = 2)" },
  tags = { "sysctl", "kernel" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
