-- lua-policies/ssh-max-auth-tries.lua - SSH allows at most 4 authentication attempts per connection
-- (sshd_config: the global row plus any Match block that overrides it).

local KEYWORD = "MaxAuthTries"

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

-- At most 4 attempts; anything that is not a whole number is treated as bad.
local function ok(v)
  local n = tonumber(v)
  return n ~= nil and n == math.floor(n) and n >= 1 and n <= 4
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
    return fail(table.concat(msgs, "; ") .. ": set it to 4 or less", bad)
  end
  if global == nil then
    return pass(KEYWORD .. " is not set and sshd's default is 4 or less")
  end
  return pass(KEYWORD .. " is " .. global.value .. " (" .. origin(global) .. ")"
    .. (#rows > 1 and (", and in " .. (#rows - 1) .. " Match block(s)") or ""))
end

return {
  id = "ssh-max-auth-tries",
  title = "SSH allows at most 4 authentication attempts",
  description = "MaxAuthTries is 4 or less globally and in every Match block (OpenSSH's default is 6).",
  severity = "medium",
  rationale = "Each connection may try MaxAuthTries passwords or keys before sshd drops it; a low limit slows brute-force attacks and makes them show up sooner in the logs (failures past half the limit are logged).",
  remediation = "Set `MaxAuthTries 4` (or lower) in /etc/ssh/sshd_config, then `sshd -t && systemctl reload ssh`.",
  remediation_script = [==[f=/etc/ssh/sshd_config; sed -i -E 's/^([[:space:]]*)MaxAuthTries[[:space:]].*/\1MaxAuthTries 4/I' $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*MaxAuthTries[[:space:]]' $f || sed -i '1i MaxAuthTries 4' $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.16 (Ensure sshd MaxAuthTries is configured)" },
  tags = { "ssh", "authentication", "brute-force", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
