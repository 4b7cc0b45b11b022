-- lua-policies/ssh-no-x11-forwarding.lua - SSH does not forward X11
-- (sshd_config: the global row plus any Match block that overrides it).

local KEYWORD = "X11Forwarding"

-- Where a sshd_config row comes from, for reasons.
local function origin(r)
  if r.is_default == 1 then
    return "OpenSSH default: not set in /etc/ssh/sshd_config"
  end
  return "set in " .. r.source_file .. ":" .. r.line
end

local function scope(r)
  if r.match_block ~= nil and r.match_block ~= "" then
    return " in Match " .. r.match_block
  end
  return ""
end

local function ok(v)
  return v:lower() == "no"
end

local function check()
  local any = query("SELECT count(*) AS n FROM sshd_config")
  if any[1].n == 0 then
    return not_applicable("no OpenSSH server configuration (/etc/ssh/sshd_config is missing)")
  end
  local rows = query("SELECT keyword, value, source_file, line, match_block, is_default"
    .. " FROM sshd_config WHERE keyword = ?", KEYWORD)
  local bad, global = {}, nil
  for _, r in ipairs(rows) do
    if not ok(r.value) then
      bad[#bad + 1] = r
    elseif r.match_block == "" then
      global = r
    end
  end
  if #bad > 0 then
    local msgs = {}
    for _, r in ipairs(bad) do
      msgs[#msgs + 1] = KEYWORD .. " is " .. r.value .. scope(r) .. " (" .. origin(r) .. ")"
    end
    return fail(table.concat(msgs, "; ") .. ": set it to no", bad)
  end
  if global == nil then
    return pass(KEYWORD .. " is not set and sshd's default is no")
  end
  return pass(KEYWORD .. " is " .. global.value .. " (" .. origin(global) .. ")"
    .. (#rows > 1 and (", and in " .. (#rows - 1) .. " Match block(s)") or ""))
end

return {
  id = "ssh-no-x11-forwarding",
  title = "SSH does not allow X11 forwarding",
  description = "X11Forwarding is no globally and in every Match block.",
  severity = "low",
  rationale = "A forwarded X11 display lets code on the server reach the client's X server: read keystrokes, take screenshots and inject input. Servers rarely need it.",
  remediation = "Set `X11Forwarding no` in /etc/ssh/sshd_config (Debian's shipped file sets yes) and in every Match block, then `sshd -t && systemctl reload ssh`. `DisableForwarding yes` turns off X11, agent and TCP forwarding at once.",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)X11Forwarding[[:space:]].*/\1X11Forwarding no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*X11Forwarding[[:space:]]' $f || sed -i '1i X11Forwarding no' $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.8 (Ensure sshd DisableForwarding is enabled)" },
  tags = { "ssh", "forwarding", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
