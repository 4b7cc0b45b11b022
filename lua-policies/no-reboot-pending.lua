-- lua-policies/no-reboot-pending.lua - no installed update is waiting for a
-- reboot: no /run/reboot-required, and the running kernel is the newest
-- installed one (patch_status).

local function check()
  local st = query("SELECT reboot_required_file, reboot_required_packages, running_kernel,"
    .. " newest_installed_kernel, kernel_reboot_required, reboot_required FROM patch_status")[1]
  if st == nil then
    return not_applicable("no patch state on this host")
  end
  local why = {}
  if st.kernel_reboot_required == 1 then
    why[#why + 1] = "the running kernel is " .. st.running_kernel .. " but "
      .. st.newest_installed_kernel .. " is installed"
  end
  if st.reboot_required_file == 1 then
    local pk = st.reboot_required_packages
    why[#why + 1] = "/run/reboot-required exists"
      .. ((pk ~= nil and pk ~= "") and (" (for " .. pk .. ")") or "")
  end
  if #why > 0 then
    return fail("a reboot is pending: " .. table.concat(why, "; ")
      .. ": reboot to load the patched code", { st })
  end
  if st.kernel_reboot_required == nil then
    return pass("no /run/reboot-required (no installed linux-image package or running kernel unknown)")
  end
  return pass("no /run/reboot-required and the running kernel " .. st.running_kernel
    .. " is the newest installed")
end

return {
  id = "no-reboot-pending",
  title = "No reboot is pending after updates",
  description = "/run/reboot-required does not exist and the running kernel is the newest installed linux-image package.",
  severity = "high",
  rationale = "An installed kernel or libc update protects nothing until the host reboots: the vulnerable code keeps running in memory while package inventories report it patched.",
  remediation = "Reboot the host in its next maintenance window (`systemctl reboot`), or set `Unattended-Upgrade::Automatic-Reboot \"true\";` with a reboot time in /etc/apt/apt.conf.d/50unattended-upgrades.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 1.2.2.1 (Ensure updates, patches, and additional security software are installed)" },
  tags = { "patching", "kernel", "reboot" },
  platform = "debian",
  interval = 3600,
  check = check,
}
