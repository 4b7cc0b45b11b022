-- lua-policies/password-max-days.lua - new passwords expire within 365 days
-- (login_defs PASS_MAX_DAYS; the last line of a key wins, as in shadow-utils).

local LIMIT = 365

local function check()
  local rows = query("SELECT key, value FROM login_defs WHERE key = ?", "PASS_MAX_DAYS")
  if #rows == 0 then
    local f = query("SELECT path FROM file WHERE path = ?", "/etc/login.defs")
    if #f == 0 then
      return not_applicable("/etc/login.defs does not exist")
    end
    return fail("PASS_MAX_DAYS is not set in /etc/login.defs, so passwords never expire: set PASS_MAX_DAYS 365 or less")
  end
  local r = rows[#rows]
  local v = tonumber(r.value)
  local twice = #rows > 1 and (" (the last of " .. #rows .. " PASS_MAX_DAYS lines)") or ""
  if v == nil or v < 0 or v > LIMIT then
    return fail("PASS_MAX_DAYS is " .. r.value .. " in /etc/login.defs" .. twice
      .. ": set it to 365 or less (and chage --maxdays for existing users)", rows)
  end
  return pass("PASS_MAX_DAYS is " .. r.value .. " in /etc/login.defs" .. twice)
end

return {
  id = "password-max-days",
  title = "Passwords expire within 365 days",
  description = "PASS_MAX_DAYS in /etc/login.defs is 365 or less, so accounts created from now on get a maximum password age.",
  severity = "low",
  rationale = "A password that never expires stays useful to whoever learned it for as long as the account lives. login.defs sets the maximum age that useradd gives new accounts.",
  remediation = "Set `PASS_MAX_DAYS 365` (or less) in /etc/login.defs, and apply it to existing accounts with `chage --maxdays 365 USER`.",
  remediation_script = "sed -i -E 's/^[[:space:]]*PASS_MAX_DAYS[[:space:]].*/PASS_MAX_DAYS\\t365/' /etc/login.defs && (grep -qE '^[[:space:]]*PASS_MAX_DAYS[[:space:]]' /etc/login.defs || echo 'PASS_MAX_DAYS\t365' >> /etc/login.defs)",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.4.1.1 (Ensure password expiration is configured)" },
  tags = { "accounts", "passwords", "aging", "cis" },
  platform = "linux",
  interval = 3600,
  check = check,
}
