-- lua-policies/fs-modules-disabled.lua - uncommon filesystem modules cannot be
-- loaded and are not loaded (kernel_module_rules, kernel_modules).

local MODULES = { "cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf" }

return {
  id = "fs-modules-disabled",
  title = "Uncommon filesystem kernel modules are disabled",
  description = "cramfs, freevxfs, hfs, hfsplus, jffs2 and udf each have an `install MODULE /bin/false` "
    .. "(or /bin/true) rule in modprobe.d, so modprobe cannot load them, and none of them is loaded now.",
  severity = "low",
  rationale = "Every filesystem driver the kernel will load on demand (for example when a USB stick "
    .. "or disk image is mounted) is attack surface; drivers for filesystems the host never uses "
    .. "have had exploitable parsing bugs.",
  remediation = "For each module listed, add `install MODULE /bin/false` and `blacklist MODULE` to "
    .. "/etc/modprobe.d/cis.conf, and unload it with `modprobe -r MODULE` if it is loaded.",
  remediation_script = "for m in cramfs freevxfs hfs hfsplus jffs2 udf; do "
    .. "printf 'install %s /bin/false\\nblacklist %s\\n' \"$m\" \"$m\" >> /etc/modprobe.d/cis.conf; "
    .. "modprobe -r \"$m\" 2>/dev/null; done",
  references = {
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure cramfs kernel module is not available",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure freevxfs kernel module is not available",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure hfs kernel module is not available",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure hfsplus kernel module is not available",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure jffs2 kernel module is not available",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure udf kernel module is not available",
  },
  tags = { "kernel", "modules", "filesystem", "cis" },
  platform = "linux",
  interval = 3600,
  check = function()
    local marks = {}
    for i = 1, #MODULES do marks[i] = "?" end
    local list = table.concat(marks, ", ")
    local disabled, loaded = {}, {}
    for _, r in ipairs(query("SELECT DISTINCT module FROM kernel_module_rules WHERE disabled = 1"
        .. " AND module IN (" .. list .. ")", table.unpack(MODULES))) do
      disabled[r.module] = true
    end
    for _, r in ipairs(query("SELECT name FROM kernel_modules WHERE name IN (" .. list .. ")",
        table.unpack(MODULES))) do
      loaded[r.name] = true
    end
    local problems, offending = {}, {}
    for _, m in ipairs(MODULES) do
      local what = {}
      if not disabled[m] then what[#what + 1] = "has no `install " .. m .. " /bin/false` rule" end
      if loaded[m] then what[#what + 1] = "is loaded now" end
      if #what > 0 then
        problems[#problems + 1] = m .. " " .. table.concat(what, " and ")
        offending[#offending + 1] = { module = m, disabled = disabled[m] and 1 or 0,
                                      loaded = loaded[m] and 1 or 0 }
      end
    end
    if #problems > 0 then
      return fail(table.concat(problems, "; ")
        .. ": add `install MODULE /bin/false` to /etc/modprobe.d/cis.conf and `modprobe -r` loaded ones",
        offending)
    end
    return pass(table.concat(MODULES, ", ") .. " are disabled in modprobe.d and none is loaded")
  end,
}
