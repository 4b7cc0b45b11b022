-- lua-policies/no-tftp-server.lua - no TFTP server is installed or listening
-- (deb_packages, systemd_units, listening_ports).

local PACKAGES = { "tftpd-hpa", "tftpd", "atftpd" }
local UNITS = { "tftpd-hpa.service", "atftpd.service", "tftp.socket" }
local PORTS = {
  { port = 69, protocol = 17, what = "tftp" },
}
local OK_REASON = "no TFTP server package, unit or listener on udp/69"

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
  id = "no-tftp-server",
  title = "No TFTP server is installed or listening",
  description = "No TFTP server package (tftpd-hpa, tftpd, atftpd) is installed, no TFTP unit is enabled and nothing listens on UDP port 69.",
  severity = "high",
  rationale = "TFTP has no authentication: anyone who can reach UDP port 69 can read (and often write) the files it serves.",
  remediation = "Remove the TFTP server (`apt purge tftpd-hpa tftpd atftpd`) and its /etc/inetd.conf line; serve boot images only from a dedicated, firewalled host.",
  remediation_script = "apt-get purge -y tftpd-hpa tftpd atftpd",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure tftp server services are not in use" },
  tags = { "services", "tftp", "cleartext", "cis" },
  platform = "debian",
  interval = 3600,
  check = check_service,
}
