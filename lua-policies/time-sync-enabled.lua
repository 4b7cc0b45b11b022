-- lua-policies/time-sync-enabled.lua - one time synchronization daemon is
-- installed and enabled (deb_packages, systemd_units).

-- Each daemon: its package(s) and the unit that runs it.
local DAEMONS = {
  { name = "chrony", packages = { "chrony" }, unit = "chrony.service" },
  { name = "systemd-timesyncd", packages = { "systemd-timesyncd" }, unit = "systemd-timesyncd.service" },
  { name = "ntp", packages = { "ntp" }, unit = "ntp.service" },
  { name = "ntpsec", packages = { "ntpsec" }, unit = "ntpsec.service" },
}

local function installed(status)
  local state = (status or ""):match("(%S+)%s*$") or ""
  return state ~= "config-files" and state ~= "not-installed"
end

return {
  id = "time-sync-enabled",
  title = "Time is synchronized by one enabled daemon",
  description = "chrony, systemd-timesyncd or ntp (ntpsec) is installed and its systemd unit is "
    .. "enabled (or active), and no second synchronization daemon is enabled beside it.",
  severity = "medium",
  rationale = "Log correlation, Kerberos, TLS certificate checks and TOTP all depend on a correct "
    .. "clock; two daemons adjusting the same clock fight each other.",
  remediation = "Install and enable one daemon: `apt install chrony && systemctl enable --now chrony` "
    .. "(or `systemctl enable --now systemd-timesyncd`), and disable any other.",
  remediation_script = "apt-get install -y chrony && systemctl enable --now chrony.service",
  references = {
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure time synchronization is in use",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure a single time synchronization daemon is in use",
  },
  tags = { "time", "services", "cis" },
  platform = "debian",
  interval = 3600,
  check = function()
    local pkgs = {}
    for _, r in ipairs(query("SELECT name, version, status FROM deb_packages WHERE name IN (?, ?, ?, ?)",
        "chrony", "systemd-timesyncd", "ntp", "ntpsec")) do
      if installed(r.status) then pkgs[r.name] = r end
    end
    local units = {}
    for _, r in ipairs(query("SELECT id, load_state, active_state, unit_file_state, live_state_known"
        .. " FROM systemd_units WHERE id IN (?, ?, ?, ?)",
        "chrony.service", "systemd-timesyncd.service", "ntp.service", "ntpsec.service")) do
      units[r.id] = r
    end
    local enabled, idle, offending = {}, {}, {}
    for _, d in ipairs(DAEMONS) do
      local pkg
      for _, p in ipairs(d.packages) do pkg = pkg or pkgs[p] end
      local u = units[d.unit]
      -- Debian 12's ntp is a transitional package whose ntp.service is an
      -- alias of ntpsec.service: count that daemon once, under ntpsec.
      if u and u.unit_file_state == "alias" then pkg = nil end
      if pkg and u and (u.unit_file_state == "enabled" or u.unit_file_state == "enabled-runtime"
          or u.active_state == "active") then
        enabled[#enabled + 1] = d.name .. " (" .. pkg.name .. " " .. pkg.version .. ", " .. d.unit
          .. " " .. (u.active_state == "active" and "active" or u.unit_file_state) .. ")"
        offending[#offending + 1] = u
      elseif pkg then
        idle[#idle + 1] = pkg.name .. " is installed but " .. d.unit .. " is "
          .. (u and (u.unit_file_state ~= "" and u.unit_file_state or u.load_state) or "missing")
        if u then offending[#offending + 1] = u end
      end
    end
    if #enabled == 1 then
      return pass("time is synchronized by " .. enabled[1])
    end
    if #enabled > 1 then
      return fail("more than one time daemon is enabled: " .. table.concat(enabled, "; ")
        .. ": keep one and `systemctl disable --now` the others", offending)
    end
    if #idle > 0 then
      return fail(table.concat(idle, "; ") .. ": systemctl enable --now the unit", offending)
    end
    return fail("no time synchronization daemon (chrony, systemd-timesyncd, ntp) is installed: "
      .. "apt install chrony")
  end,
}
