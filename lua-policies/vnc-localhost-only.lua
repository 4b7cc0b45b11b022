-- lua-policies/vnc-localhost-only.lua - every VNC server accepts loopback
-- connections only (remote_desktop: vnc_localhost_only, exposed).

local function check()
  local rows = query("SELECT service, protocol, user, pid, running, listen_addresses, exposed,"
    .. " exposure_source, config_file, port, vnc_localhost_only FROM remote_desktop"
    .. " WHERE protocol = 'vnc'")
  if #rows == 0 then
    return not_applicable("no VNC server is installed, running or listening")
  end
  local bad, msgs = {}, {}
  for _, r in ipairs(rows) do
    if r.exposed == 1 or r.vnc_localhost_only == 0 then
      bad[#bad + 1] = r
      local who = (r.service == "unknown" and "an unidentified process" or r.service)
        .. (r.user and (" of " .. r.user) or "") .. (r.pid and (" (pid " .. r.pid .. ")") or "")
      if r.listen_addresses then
        msgs[#msgs + 1] = who .. " listens on " .. r.listen_addresses
      else
        msgs[#msgs + 1] = who .. " is not limited to localhost"
      end
      if r.config_file then
        msgs[#msgs] = msgs[#msgs] .. " (localhost setting from " .. r.config_file .. ")"
      end
    end
  end
  if #bad > 0 then
    return fail(table.concat(msgs, "; ") .. ": start it with -localhost (TigerVNC: $localhost = \"yes\"; / localhost) and use an SSH tunnel", bad)
  end
  local names = {}
  for _, r in ipairs(rows) do
    names[#names + 1] = r.service .. (r.user and (" of " .. r.user) or "")
  end
  return pass("VNC accepts loopback connections only: " .. table.concat(names, ", "))
end

return {
  id = "vnc-localhost-only",
  title = "VNC servers accept local connections only",
  description = "Every VNC server (TigerVNC, x11vnc, vino, krfb, or an unidentified listener on 5900-5999) listens on loopback only, as TigerVNC's -localhost or x11vnc's -localhost make it.",
  severity = "high",
  rationale = "VNC's own authentication is a password of at most 8 characters and most servers do not encrypt the session; a VNC port open to the network hands the desktop to whoever guesses it. Reach VNC through an SSH tunnel instead.",
  remediation = "For TigerVNC set `$localhost = \"yes\";` in /etc/tigervnc/vncserver-config-defaults (and remove `localhost=no` from users' ~/.vnc/config); for x11vnc add -localhost to its command line; restart the servers and connect with `ssh -L 5901:127.0.0.1:5901 host`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 2.1 (Configure Server Services; no dedicated VNC item)" },
  tags = { "remote-desktop", "vnc", "network-exposure" },
  platform = "debian",
  interval = 3600,
  check = check,
}
