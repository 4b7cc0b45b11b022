-- lua-policies/unattended-upgrades-enabled.lua - unattended-upgrades is
-- installed and APT's periodic job runs it (patch_status).

local function check()
  local st = query("SELECT unattended_upgrades_installed, periodic_update_package_lists,"
    .. " periodic_unattended_upgrade, unattended_upgrades_enabled FROM patch_status")[1]
  if st == nil then
    return not_applicable("no APT state on this host")
  end
  if st.unattended_upgrades_installed ~= 1 then
    return fail("the unattended-upgrades package is not installed: apt install unattended-upgrades", { st })
  end
  if st.unattended_upgrades_enabled == 1 then
    return pass("unattended-upgrades is installed and APT::Periodic::Update-Package-Lists is \""
      .. st.periodic_update_package_lists .. "\", APT::Periodic::Unattended-Upgrade is \""
      .. st.periodic_unattended_upgrade .. "\"")
  end
  local off = {}
  for _, k in ipairs({ { "Update-Package-Lists", st.periodic_update_package_lists },
                       { "Unattended-Upgrade", st.periodic_unattended_upgrade } }) do
    local v = k[2]
    if v == nil or v == "" or v == "0" or v:lower() == "false" or v:lower() == "no" then
      off[#off + 1] = "APT::Periodic::" .. k[1] .. " is "
        .. (v == nil and "not set" or ("\"" .. v .. "\""))
    end
  end
  if #off == 0 then
    off[1] = "APT's periodic settings do not switch it on"
  end
  return fail("unattended-upgrades is installed but disabled: " .. table.concat(off, ", ")
    .. " (set both to \"1\" in /etc/apt/apt.conf.d/20auto-upgrades)", { st })
end

return {
  id = "unattended-upgrades-enabled",
  title = "Security updates are installed automatically",
  description = "The unattended-upgrades package is installed and both APT::Periodic::Update-Package-Lists and APT::Periodic::Unattended-Upgrade are on, so apt-daily-upgrade.timer installs security updates every day.",
  severity = "medium",
  rationale = "Hosts patched by hand fall behind: most are months behind on security updates. Debian's unattended-upgrades installs security updates daily with little risk of breakage.",
  remediation = "apt install unattended-upgrades && dpkg-reconfigure -plow unattended-upgrades (writes APT::Periodic::Update-Package-Lists \"1\"; and APT::Periodic::Unattended-Upgrade \"1\"; to /etc/apt/apt.conf.d/20auto-upgrades).",
  remediation_script = "DEBIAN_FRONTEND=noninteractive apt-get install -y unattended-upgrades && printf 'APT::Periodic::Update-Package-Lists \"1\";\\nAPT::Periodic::Unattended-Upgrade \"1\";\\n' > /etc/apt/apt.conf.d/20auto-upgrades",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 1.2.2.1 (Ensure updates, patches, and additional security software are installed)" },
  tags = { "patching", "apt", "automation" },
  platform = "debian",
  interval = 3600,
  check = check,
}
