-- lua-policies/xrdp-no-root-login.lua - xrdp's session manager refuses
-- root (remote_desktop.allow_root_login, from sesman.ini AllowRootLogin).

local function check()
  local rows = query("SELECT service, package, package_version, installed, running, config_file,"
    .. " allow_root_login FROM remote_desktop WHERE service IN ('xrdp', 'xrdp-sesman')")
  if #rows == 0 then
    return not_applicable("xrdp is not installed")
  end
  local bad = {}
  for _, r in ipairs(rows) do
    if r.allow_root_login == 1 then bad[#bad + 1] = r end
  end
  if #bad > 0 then
    return fail("AllowRootLogin=true in /etc/xrdp/sesman.ini: root may open a desktop session over RDP; set AllowRootLogin=false", bad)
  end
  for _, r in ipairs(rows) do
    if r.allow_root_login == nil then
      return pass("xrdp is installed and AllowRootLogin is not set in /etc/xrdp/sesman.ini (root refused)")
    end
  end
  return pass("AllowRootLogin=false in /etc/xrdp/sesman.ini")
end

return {
  id = "xrdp-no-root-login",
  title = "xrdp does not allow root to log in",
  description = "When xrdp is installed, /etc/xrdp/sesman.ini has AllowRootLogin=false (or no AllowRootLogin line, which refuses root).",
  severity = "high",
  rationale = "A root desktop session over RDP is a root login from the network with only a password, with no record of which administrator it was; Debian's packaged sesman.ini allows it.",
  remediation = "Set `AllowRootLogin=false` in the [Security] section of /etc/xrdp/sesman.ini and `systemctl restart xrdp-sesman`.",
  remediation_script = "sed -i -E 's/^AllowRootLogin=.*/AllowRootLogin=false/I' /etc/xrdp/sesman.ini && systemctl restart xrdp-sesman",
  references = { "sesman.ini(5) (xrdp): AllowRootLogin; no CIS Debian 12 item" },
  tags = { "remote-desktop", "rdp", "xrdp", "authentication" },
  platform = "debian",
  interval = 3600,
  check = check,
}
