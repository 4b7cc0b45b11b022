-- lua-policies/no-pending-security-updates.lua - every package with a
-- candidate from a security archive is upgraded (patch_status,
-- apt_upgradable.security).

local function check()
  -- lists_updated alone does not read the package lists; the one query on
  -- apt_upgradable below does, once (it is the expensive part).
  local st = query("SELECT lists_updated FROM patch_status")[1]
  if st == nil or st.lists_updated == nil or st.lists_updated == 0 then
    return not_applicable("no APT package lists under /var/lib/apt/lists: pending updates cannot be known until `apt update` runs (see apt-lists-fresh)")
  end
  local all = query("SELECT name, arch, installed_version, candidate_version, archive, origin, security"
    .. " FROM apt_upgradable ORDER BY name")
  local rows, others = {}, 0
  for _, r in ipairs(all) do
    if r.security == 1 then
      rows[#rows + 1] = { name = r.name, arch = r.arch, installed_version = r.installed_version,
        candidate_version = r.candidate_version, archive = r.archive, origin = r.origin }
    else
      others = others + 1
    end
  end
  if #rows > 0 then
    local list = {}
    for _, r in ipairs(rows) do
      list[#list + 1] = r.name .. " " .. r.installed_version .. " -> " .. r.candidate_version
    end
    return fail(#rows .. " security update" .. (#rows == 1 and "" or "s") .. " pending: "
      .. table.concat(list, ", ") .. ": run apt update && apt upgrade", rows)
  end
  return pass("no security update pending (" .. others .. " other update"
    .. (others == 1 and "" or "s") .. " pending)")
end

return {
  id = "no-pending-security-updates",
  title = "No security updates are pending",
  description = "No installed package has a newer candidate version from a security archive (Debian's bookworm-security or another origin's security suite) in the package lists.",
  severity = "critical",
  rationale = "Security updates fix vulnerabilities that are public from the day they are released; every day they stay uninstalled is a day a published exploit works on this host.",
  remediation = "Run `apt update && apt upgrade` (or `unattended-upgrade -d` for security updates only), then reboot or restart the services the upgrade names (`needrestart`).",
  remediation_script = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y upgrade",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 1.2.2.1 (Ensure updates, patches, and additional security software are installed)" },
  tags = { "patching", "apt", "vulnerabilities", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
