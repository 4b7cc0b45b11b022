-- lua-policies/rdp-not-exposed.lua - no RDP service (xrdp, its session
-- manager, GNOME Remote Desktop, an unknown listener on 3389, ...) is
-- reachable from the network (remote_desktop.exposed).

local function check()
  local rows = query("SELECT service, protocol, user, pid, listen_addresses, exposed, exposure_source,"
    .. " config_file, port, bind_address FROM remote_desktop WHERE protocol = 'rdp'")
  local bad, msgs = {}, {}
  for _, r in ipairs(rows) do
    if r.exposed == 1 then
      bad[#bad + 1] = r
      local who = (r.service == "unknown" and "an unidentified process" or r.service)
        .. (r.user and (" of " .. r.user) or "") .. (r.pid and (" (pid " .. r.pid .. ")") or "")
      if r.exposure_source == "socket" then
        msgs[#msgs + 1] = who .. " listens on " .. (r.listen_addresses or "?")
      elseif r.exposure_source == "config" then
        msgs[#msgs + 1] = who .. " is configured to listen on "
          .. (r.bind_address or "all addresses") .. " port " .. tostring(r.port or "?")
          .. " in " .. (r.config_file or "its configuration") .. " (not running now)"
      else
        msgs[#msgs + 1] = who .. " accepts connections from the network ("
          .. tostring(r.exposure_source) .. ")"
      end
    end
  end
  if #bad > 0 then
    return fail(table.concat(msgs, "; ") .. ": bind it to 127.0.0.1 and reach it through an SSH tunnel or VPN, or remove it", bad)
  end
  if #rows == 0 then
    return pass("no RDP server is installed, running or listening")
  end
  local names = {}
  for _, r in ipairs(rows) do names[#names + 1] = r.service end
  return pass("RDP services are local only or not listening: " .. table.concat(names, ", "))
end

return {
  id = "rdp-not-exposed",
  title = "No RDP service is reachable from the network",
  description = "No RDP server (xrdp, xrdp-sesman, GNOME Remote Desktop, freerdp-shadow, or an unidentified listener on port 3389) listens on a non-loopback address or is configured to.",
  severity = "high",
  rationale = "RDP endpoints are among the most scanned and brute-forced services on the Internet, and xrdp's password logins go straight to PAM. Remote desktops should be reached through an SSH tunnel or a VPN, with the server bound to loopback.",
  remediation = "In /etc/xrdp/xrdp.ini set `port=tcp://127.0.0.1:3389` and in /etc/xrdp/sesman.ini `ListenAddress=127.0.0.1`, then `systemctl restart xrdp xrdp-sesman`; connect with `ssh -L 3389:127.0.0.1:3389 host`. Remove remote-desktop packages that are not used (`apt purge xrdp`).",
  remediation_script = "sed -i -E 's|^port=.*|port=tcp://127.0.0.1:3389|' /etc/xrdp/xrdp.ini && sed -i -E 's|^ListenAddress=.*|ListenAddress=127.0.0.1|' /etc/xrdp/sesman.ini && systemctl restart xrdp-sesman xrdp",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 2.1 (Configure Server Services: ensure services not required are not in use; no dedicated RDP item)" },
  tags = { "remote-desktop", "rdp", "network-exposure" },
  platform = "debian",
  interval = 3600,
  check = check,
}
