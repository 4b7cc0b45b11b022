-- lua-policies/ssh-no-empty-passwords.lua - SSH never accepts an empty password
-- (sshd_config: the global row plus any Match block that overrides it).

local KEYWORD = "PermitEmptyPasswords"

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
  id = "ssh-no-empty-passwords",
  title = "SSH does not permit empty passwords",
  description = "PermitEmptyPasswords is no globally and in every Match block, so an account with an empty password cannot log in over SSH.",
  severity = "critical",
  rationale = "With PermitEmptyPasswords yes, any account whose password field is empty can be logged into from the network by typing only its name.",
  remediation = "Set `PermitEmptyPasswords no` in /etc/ssh/sshd_config (and in every Match block), then `sshd -t && systemctl reload ssh`; also lock or set passwords for accounts with empty ones (see no-empty-passwords).",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)PermitEmptyPasswords[[:space:]].*/\1PermitEmptyPasswords no/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*PermitEmptyPasswords[[:space:]]' $f || sed -i '1i PermitEmptyPasswords no' $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.19 (Ensure sshd PermitEmptyPasswords is disabled)" },
  tags = { "ssh", "authentication", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
