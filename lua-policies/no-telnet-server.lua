-- lua-policies/no-telnet-server.lua - no telnet server is installed or listening
-- (deb_packages, systemd_units, listening_ports).

local PACKAGES = { "telnetd", "inetutils-telnetd", "telnetd-ssl" }
local UNITS = { "telnet.socket", "inetutils-telnetd.socket" }
local PORTS = {
  { port = 23, protocol = 6, what = "telnet" },
}
local OK_REASON = "no telnet server package, unit or listener on tcp/23"

local function placeholders(n)
  local m = {}
  for i = 1, n do m[i] = "?" end
  return table.concat(m, ", ")
end

-- Fails on each installed package, enabled or active unit and listener.  A
-- package counts as installed unless dpkg's state (the third word of its
-- status) is config-files or not-installed: half-installed and unpacked
-- packages have their files on disk.
local function check_service()
  local problems, offending = {}, {}
  if #PACKAGES > 0 then
    for _, r in ipairs(query("SELECT name, version, status FROM deb_packages WHERE name IN ("
        .. placeholders(#PACKAGES) .. ")", table.unpack(PACKAGES))) do
      local state = (r.status or ""):match("(%S+)%s*$") or ""
      if state ~= "config-files" and state ~= "not-installed" then
        problems[#problems + 1] = "package " .. r.name .. " " .. r.version .. " is installed ("
          .. r.status .. "): apt purge " .. r.name
        offending[#offending + 1] = r
      end
    end
  end
  if #UNITS > 0 then
    for _, r in ipairs(query("SELECT id, load_state, active_state, unit_file_state, fragment_path"
        .. " FROM systemd_units WHERE id IN (" .. placeholders(#UNITS) .. ")", table.unpack(UNITS))) do
      if r.active_state == "active" or r.unit_file_state == "enabled"
          or r.unit_file_state == "enabled-runtime" then
        problems[#problems + 1] = "unit " .. r.id .. " is " .. (r.active_state == "active" and "active"
          or r.unit_file_state) .. ": systemctl disable --now " .. r.id
        offending[#offending + 1] = r
      end
    end
  end
  for _, p in ipairs(PORTS) do
    for _, r in ipairs(query("SELECT l.pid, l.port, l.protocol, l.address, p.name AS process"
        .. " FROM listening_ports l LEFT JOIN processes p ON p.pid = l.pid"
        .. " WHERE l.port = ? AND l.protocol = ? AND l.family IN (2, 10)", p.port, p.protocol)) do
      local who = r.process and r.process ~= "" and (r.process .. " (pid " .. r.pid .. ")")
        or "an unknown process"
      problems[#problems + 1] = who .. " listens on " .. (p.protocol == 6 and "tcp" or "udp") .. " "
        .. r.address .. ":" .. r.port .. " (" .. p.what .. ")"
      offending[#offending + 1] = r
    end
  end
  if #problems > 0 then
    return fail(table.concat(problems, "; "), offending)
  end
  return pass(OK_REASON)
end

return {
  id = "no-telnet-server",
  title = "No telnet server is installed or listening",
  description = "No telnet server package (telnetd, inetutils-telnetd, telnetd-ssl) is installed, no telnet socket unit is enabled and nothing listens on TCP port 23.",
  severity = "high",
  rationale = "Telnet sends passwords and whole sessions in clear text; anyone on the path can read or hijack them. SSH replaces it.",
  remediation = "Remove the telnet server (`apt purge telnetd inetutils-telnetd telnetd-ssl`), remove its line from /etc/inetd.conf if an inetd serves it, and use SSH.",
  remediation_script = "apt-get purge -y telnetd inetutils-telnetd telnetd-ssl",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure telnet server services are not in use" },
  tags = { "services", "telnet", "cleartext", "cis" },
  platform = "debian",
  interval = 3600,
  check = check_service,
}
