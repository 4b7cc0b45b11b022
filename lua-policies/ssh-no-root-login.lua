-- lua-policies/ssh-no-root-login.lua - root may not log in over SSH
-- (sshd_config: the global row plus any Match block that overrides it).

local KEYWORD = "PermitRootLogin"

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
  id = "ssh-no-root-login",
  title = "SSH does not permit root login",
  description = "PermitRootLogin is no globally and in every Match block, so root cannot log in over SSH with a password, a key or a forced command.",
  severity = "high",
  rationale = "Direct root logins leave no trace of which administrator acted and give an attacker who guesses or steals one credential the whole host. Administrators should log in as themselves and use sudo.",
  remediation = "Set `PermitRootLogin no` in /etc/ssh/sshd_config (before any Match block) and remove other PermitRootLogin lines from it and from /etc/ssh/sshd_config.d/*.conf, then `sshd -t && systemctl reload ssh`.",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)PermitRootLogin[[:space:]].*/\1PermitRootLogin no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*PermitRootLogin[[:space:]]' $f || sed -i '1i PermitRootLogin no' $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.20 (Ensure sshd PermitRootLogin is disabled)" },
  tags = { "ssh", "authentication", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
