-- lua-policies/no-nis.lua - nIS is not installed
-- (deb_packages, systemd_units, listening_ports).

local PACKAGES = { "nis", "ypserv", "ypbind-mt" }
local UNITS = { "ypserv.service", "ypbind.service", "yppasswdd.service", "ypxfrd.service", "nis.service" }
local PORTS = {
}
local OK_REASON = "no NIS package and no enabled ypserv/ypbind unit"

return {
  id = "no-nis",
  title = "NIS is not installed",
  description = "No NIS server or client package (nis, ypserv, ypbind-mt) is installed and the ypserv/ypbind/yppasswdd units are not enabled.",
  severity = "medium",
  rationale = "NIS hands out password hashes and account data without encryption or real authentication; any host on the network can ask for them.",
  remediation = "Remove NIS (`apt purge nis ypserv ypbind-mt`) and move accounts to LDAP with TLS, SSSD or local files.",
  remediation_script = "apt-get purge -y nis ypserv ypbind-mt",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure nis server services are not in use", "CIS Debian Linux 12 Benchmark v1.1.0: Ensure nis client is not installed" },
  tags = { "services", "nis", "cis" },
  platform = "debian",
  interval = 3600,
  check = function() return service_absent_check(PACKAGES, UNITS, PORTS, OK_REASON) end,
}
