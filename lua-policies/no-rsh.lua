-- lua-policies/no-rsh.lua - no rsh, rlogin or rexec service or client is installed
-- (deb_packages, systemd_units, listening_ports).

local PACKAGES = { "rsh-server", "rsh-redone-server", "rsh-client", "rsh-redone-client" }
local UNITS = { "rsh.socket", "rlogin.socket", "rexec.socket" }
local PORTS = {
  { port = 512, protocol = 6, what = "rexec" },
  { port = 513, protocol = 6, what = "rlogin" },
  { port = 514, protocol = 6, what = "rsh" },
}
local OK_REASON = "no rsh/rlogin/rexec package, unit or listener on tcp/512-514"

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
  id = "no-rsh",
  title = "No rsh, rlogin or rexec service or client is installed",
  description = "The Berkeley r-commands (rsh-server, rsh-redone-server, rsh-client, rsh-redone-client) are not installed, their units are not enabled and nothing listens on TCP ports 512-514.",
  severity = "high",
  rationale = "rsh, rlogin and rexec authenticate by source address or send passwords in clear text; their presence lets one compromised host reach others without credentials.",
  remediation = "Remove the packages (`apt purge rsh-server rsh-redone-server rsh-client rsh-redone-client`) and any rsh/rlogin/rexec lines in /etc/inetd.conf; use SSH instead.",
  remediation_script = "apt-get purge -y rsh-server rsh-redone-server rsh-client rsh-redone-client",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure rsh client is not installed" },
  tags = { "services", "rsh", "cleartext", "cis" },
  platform = "debian",
  interval = 3600,
  check = check_service,
}
