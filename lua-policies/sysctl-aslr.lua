-- lua-policies/sysctl-aslr.lua - Address space layout randomization is fully enabled (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "kernel.randomize_va_space", default = "2" },
}
local WANT = "2" -- in messages
local SET = "2" -- value a fix writes
local function OK(v)
  return v == "2"
end

return {
  id = "sysctl-aslr",
  title = "Address space layout randomization is fully enabled",
  description = "kernel.randomize_va_space is 2: stack, mmap, VDSO and heap (brk) addresses are randomized.",
  severity = "high",
  rationale = "With ASLR off or partial (1 leaves the heap in place), memory-corruption exploits can rely on fixed addresses.",
  remediation = "Set `kernel.randomize_va_space = 2` in /etc/sysctl.d/60-cis.conf and run `sysctl --system`.",
  remediation_script = "printf 'kernel.randomize_va_space = 2\\n' >> /etc/sysctl.d/60-cis.conf && sysctl --system",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure address space layout randomization is enabled" },
  tags = { "sysctl", "kernel", "cis" },
  platform = "linux",
  interval = 3600,
  check = function() return sysctl_check(KEYS, OK, WANT, SET) end,
}
