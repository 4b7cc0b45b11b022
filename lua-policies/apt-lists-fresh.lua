-- lua-policies/apt-lists-fresh.lua - APT's package lists were refreshed in
-- the last 7 days (patch_status.lists_age_seconds), so pending-update checks
-- see current security fixes.

local MAX_AGE = 7 * 86400

local function age(s)
  if s < 3600 then return (s // 60) .. " minutes" end
  if s < 86400 then return (s // 3600) .. " hours" end
  return (s // 86400) .. " days"
end

local function check()
  local st = query("SELECT lists_updated, lists_age_seconds FROM patch_status")[1]
  if st == nil or st.lists_age_seconds == nil then
    return fail("APT's package lists were never downloaded (no Release files under /var/lib/apt/lists): run apt update",
      st and { st } or nil)
  end
  if st.lists_age_seconds > MAX_AGE then
    return fail("APT's package lists are " .. age(st.lists_age_seconds)
      .. " old (more than 7 days): run apt update and enable APT::Periodic::Update-Package-Lists", { st })
  end
  if st.lists_age_seconds < 0 then
    return pass("APT's package lists are newer than the clock (lists_updated " .. st.lists_updated .. ")")
  end
  return pass("APT's package lists were refreshed " .. age(st.lists_age_seconds) .. " ago")
end

return {
  id = "apt-lists-fresh",
  title = "APT package lists are less than 7 days old",
  description = "The newest Release file under /var/lib/apt/lists (the last successful `apt update`) is less than 7 days old.",
  severity = "medium",
  rationale = "APT only knows about security updates that were published before its lists were last downloaded; with stale lists both apt and the no-pending-security-updates check report a vulnerable host as up to date.",
  remediation = "Run `apt update`, and let it run daily: `APT::Periodic::Update-Package-Lists \"1\";` in /etc/apt/apt.conf.d/20auto-upgrades (apt-daily.timer does the rest).",
  remediation_script = "apt-get update",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 1.2.2.1 (Ensure updates, patches, and additional security software are installed)" },
  tags = { "patching", "apt", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
