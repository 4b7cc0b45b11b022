-- lua-policies/ssh-no-password-auth.lua - SSH accepts keys only, no passwords
-- (sshd_config: the global row plus any Match block that overrides it).

local KEYWORD = "PasswordAuthentication"

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
    return fail(table.concat(msgs, "; ") .. ": set it to no and use keys", bad)
  end
  if global == nil then
    return pass(KEYWORD .. " is not set and sshd's default is no")
  end
  return pass(KEYWORD .. " is " .. global.value .. " (" .. origin(global) .. ")"
    .. (#rows > 1 and (", and in " .. (#rows - 1) .. " Match block(s)") or ""))
end

return {
  id = "ssh-no-password-auth",
  title = "SSH does not accept password authentication",
  description = "PasswordAuthentication is no globally and in every Match block, so SSH logins need a key (or another configured method), never a password alone.",
  severity = "medium",
  rationale = "Passwords can be guessed, sprayed and phished; an SSH server reachable from the network that accepts them is brute-forced continuously. Public keys cannot be guessed and are not sent to the server.",
  remediation = "Give every SSH user an authorized key, then set `PasswordAuthentication no` in /etc/ssh/sshd_config (and in any Match block that turns it back on), then `sshd -t && systemctl reload ssh`.",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)PasswordAuthentication[[:space:]].*/\1PasswordAuthentication no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*PasswordAuthentication[[:space:]]' $f || sed -i '1i PasswordAuthentication no' $f; sshd -t && systemctl reload ssh]==],
  references = { "sshd_config(5): PasswordAuthentication; no CIS Debian 12 item (CIS 5.1 Configure SSH Server does not require it)" },
  tags = { "ssh", "authentication" },
  platform = "debian",
  interval = 3600,
  check = check,
}
