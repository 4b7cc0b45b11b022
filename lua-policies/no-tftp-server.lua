-- lua-policies/no-tftp-server.lua - no TFTP server is installed or listening
-- (deb_packages, systemd_units, listening_ports).

local PACKAGES = { "tftpd-hpa", "tftpd", "atftpd" }
local UNITS = { "tftpd-hpa.service", "atftpd.service", "tftp.socket" }
local PORTS = {
  { port = 69, protocol = 17, what = "tftp" },
}
local OK_REASON = "no TFTP server package, unit or listener on udp/69"

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
  check = function() return service_absent_check(PACKAGES, UNITS, PORTS, OK_REASON) end,
}
