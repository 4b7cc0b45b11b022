-- lua-policies/sysctl-no-ip-forward.lua - IP forwarding is disabled (system_controls).

-- Controls checked, with the kernel's built-in default for a host whose
-- /proc/sys is not available and whose configuration does not set them.
local KEYS = {
  { name = "net.ipv4.ip_forward", default = "0" },
  { name = "net.ipv6.conf.all.forwarding", default = "0" },
}
local WANT = "0" -- in messages
local SET = "0" -- value a fix writes
local function OK(v)
  return tonumber(v) == 0
end

-- Effective value of each control: the running value from /proc/sys when there
-- is one (current_value), else the value the sysctl.d files and /etc/sysctl.conf
-- set at boot (config_value), else the kernel's built-in default.  A running
-- value that is right while the boot configuration sets a wrong one fails too:
-- the next reboot would undo it.  IPv6 controls are skipped on a host without
-- IPv6 (net.ipv6.conf.all.disable_ipv6 = 1, or /proc/sys/net has no ipv6 tree).
local function ipv6_present()
  local d = query("SELECT current_value FROM system_controls WHERE name = ?",
    "net.ipv6.conf.all.disable_ipv6")
  if #d > 0 and d[1].current_value == "1" then return false end
  local c = query("SELECT count(*) AS n, sum(name LIKE 'net.ipv6.%') AS v6 FROM system_controls"
    .. " WHERE subsystem = 'net' AND current_value IS NOT NULL")
  if (c[1].n or 0) == 0 then return true end -- no /proc/sys (an image): assume IPv6
  return (c[1].v6 or 0) > 0
end

local function check_sysctls()
  local names, marks = {}, {}
  for i, k in ipairs(KEYS) do names[i], marks[i] = k.name, "?" end
  local rows = query("SELECT name, current_value, config_value, config_source FROM system_controls"
    .. " WHERE name IN (" .. table.concat(marks, ", ") .. ")", table.unpack(names))
  local by = {}
  for _, r in ipairs(rows) do by[r.name] = r end
  local v6 = nil
  local good, bad, offending = {}, {}, {}
  for _, k in ipairs(KEYS) do
    local skip = false
    if k.name:find("^net%.ipv6%.") then
      if v6 == nil then v6 = ipv6_present() end
      skip = not v6
    end
    if not skip then
      local r = by[k.name]
      local v, how
      if r and r.current_value ~= nil then
        v, how = r.current_value, "running value"
      elseif r and r.config_value ~= nil then
        v, how = r.config_value, "config_value from " .. (r.config_source or "?") .. ", no running value"
      else
        v, how = k.default, "not set; kernel default"
      end
      -- Where to fix it: the file that sets the wrong value at boot, else a new line.
      -- Vendor files (/usr/lib, /lib, /run) are overridden from /etc, not edited.
      local line = "`" .. k.name .. " = " .. SET .. "`"
      local fix = "add " .. line .. " to /etc/sysctl.d/60-cis.conf"
      if r and r.config_value ~= nil then
        local src = r.config_source or "?"
        if OK(r.config_value) then
          fix = "the boot configuration (" .. src .. ") is right: apply it with `sysctl --system`"
        elseif src:find("^/etc/") then
          fix = "change " .. src .. " and run `sysctl --system`"
        else
          fix = "override " .. src .. " with " .. line .. " in a file of /etc/sysctl.d that sorts"
            .. " after it, and run `sysctl --system`"
        end
      elseif how == "running value" then
        fix = fix .. " and run `sysctl --system`"
      end
      if v == nil then
        bad[#bad + 1] = k.name .. " has no running value and is not configured: " .. fix
        offending[#offending + 1] = r or { name = k.name }
      elseif not OK(v) then
        bad[#bad + 1] = k.name .. " = " .. v .. " (" .. how .. "): " .. fix
        offending[#offending + 1] = r or { name = k.name, current_value = v }
      elseif how == "running value" and r.config_value ~= nil and not OK(r.config_value) then
        bad[#bad + 1] = k.name .. " = " .. v .. " now, but " .. (r.config_source or "?")
          .. " sets " .. r.config_value .. " at boot: change that line"
        offending[#offending + 1] = r
      else
        good[#good + 1] = k.name .. " = " .. v .. " (" .. how .. ")"
      end
    end
  end
  if #bad > 0 then
    return fail(table.concat(bad, "; ") .. " (want " .. WANT .. ")", offending)
  end
  return pass(table.concat(good, "; "))
end

return {
  id = "sysctl-no-ip-forward",
  title = "IP forwarding is disabled",
  description = "net.ipv4.ip_forward and net.ipv6.conf.all.forwarding are 0: the host does not route packets between interfaces.",
  severity = "medium",
  rationale = "A host that is not a router but forwards packets can be used to reach networks its firewall placement assumes are unreachable.",
  remediation = "Set `net.ipv4.ip_forward = 0` and `net.ipv6.conf.all.forwarding = 0` in /etc/sysctl.d/60-cis.conf (and remove any other file setting them to 1), then run `sysctl --system`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure ip forwarding is disabled" },
  tags = { "sysctl", "network", "cis" },
  platform = "linux",
  interval = 3600,
  check = check_sysctls,
}
