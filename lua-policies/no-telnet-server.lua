-- lua-policies/no-telnet-server.lua - no telnet server is installed or listening
-- (deb_packages, systemd_units, listening_ports).

local PACKAGES = { "telnetd", "inetutils-telnetd", "telnetd-ssl" }
local UNITS = { "telnet.socket", "inetutils-telnetd.socket" }
local PORTS = {
  { port = 23, protocol = 6, what = "telnet" },
}
local OK_REASON = "no telnet server package, unit or listener on tcp/23"

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
  check = function() return service_absent_check(PACKAGES, UNITS, PORTS, OK_REASON) end,
}
