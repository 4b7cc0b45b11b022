-- lua-policies/usb-storage-disabled.lua - the usb-storage driver cannot be
-- loaded and is not loaded (kernel_module_rules, kernel_modules).

return {
  id = "usb-storage-disabled",
  title = "USB mass storage is disabled",
  description = "usb-storage has an `install usb-storage /bin/false` (or /bin/true) rule in "
    .. "modprobe.d, so plugging in a USB disk does not load its driver, and the driver is not loaded now.",
  severity = "medium",
  rationale = "USB drives are a common way to carry data off a host and to bring malware onto it; "
    .. "a server has no need for them.",
  remediation = "Add `install usb-storage /bin/false` and `blacklist usb-storage` to "
    .. "/etc/modprobe.d/cis.conf, then unload the driver with `modprobe -r usb-storage`.",
  remediation_script = "printf 'install usb-storage /bin/false\\nblacklist usb-storage\\n' "
    .. ">> /etc/modprobe.d/cis.conf && modprobe -r usb-storage",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure usb-storage kernel module is not available" },
  tags = { "kernel", "modules", "usb", "cis" },
  platform = "linux",
  interval = 3600,
  check = function()
    -- kernel_module_rules writes module names with '_' (as kmod does).
    local rules = query("SELECT module, rule, value, disabled, source_file, line FROM kernel_module_rules"
      .. " WHERE module = ?", "usb_storage")
    local loaded = query("SELECT name, used_by, status FROM kernel_modules WHERE name = ?", "usb_storage")
    local disabled = false
    for _, r in ipairs(rules) do
      if r.disabled == 1 then disabled = true end
    end
    local problems = {}
    if not disabled then
      if #rules > 0 then
        problems[#problems + 1] = "usb-storage has modprobe rules but no `install usb-storage /bin/false` ("
          .. rules[1].source_file .. ":" .. rules[1].line .. ")"
      else
        problems[#problems + 1] = "no modprobe.d rule disables usb-storage"
      end
    end
    if #loaded > 0 then
      problems[#problems + 1] = "usb_storage is loaded now (`modprobe -r usb-storage`)"
    end
    if #problems > 0 then
      local offending = {}
      for _, r in ipairs(rules) do offending[#offending + 1] = r end
      for _, r in ipairs(loaded) do offending[#offending + 1] = r end
      return fail(table.concat(problems, "; ")
        .. ": add `install usb-storage /bin/false` to /etc/modprobe.d/cis.conf", offending)
    end
    return pass("usb-storage is disabled in modprobe.d and not loaded")
  end,
}
