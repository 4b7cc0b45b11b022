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
  check = function() return service_absent_check(PACKAGES, UNITS, PORTS, OK_REASON) end,
}
