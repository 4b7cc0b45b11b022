-- lua-policies/password-min-days.lua - a password must be kept at least a
-- day before it can be changed again (login_defs PASS_MIN_DAYS; the last
-- line of a key wins, as in shadow-utils).

local function check()
  local rows = query("SELECT key, value FROM login_defs WHERE key = ?", "PASS_MIN_DAYS")
  if #rows == 0 then
    local f = query("SELECT path FROM file WHERE path = ?", "/etc/login.defs")
    if #f == 0 then
      return not_applicable("/etc/login.defs does not exist")
    end
    return fail("PASS_MIN_DAYS is not set in /etc/login.defs (default 0): set PASS_MIN_DAYS 1 or more")
  end
  local r = rows[#rows]
  local v = tonumber(r.value)
  local twice = #rows > 1 and (" (the last of " .. #rows .. " PASS_MIN_DAYS lines)") or ""
  if v == nil or v < 1 then
    return fail("PASS_MIN_DAYS is " .. r.value .. " in /etc/login.defs" .. twice
      .. ": set it to 1 or more (and chage --mindays 1 for existing users)", rows)
  end
  return pass("PASS_MIN_DAYS is " .. r.value .. " in /etc/login.defs" .. twice)
end

return {
  id = "password-min-days",
  title = "Passwords are kept at least one day",
  description = "PASS_MIN_DAYS in /etc/login.defs is 1 or more, so a user cannot change a password several times in a row to get back to an old one.",
  severity = "low",
  rationale = "Without a minimum age, password history is useless: a user can cycle through changes in a minute and reuse the compromised password.",
  remediation = "Set `PASS_MIN_DAYS 1` in /etc/login.defs, and apply it to existing accounts with `chage --mindays 1 USER`.",
  remediation_script = "sed -i -E 's/^[[:space:]]*PASS_MIN_DAYS[[:space:]].*/PASS_MIN_DAYS\\t1/' /etc/login.defs && (grep -qE '^[[:space:]]*PASS_MIN_DAYS[[:space:]]' /etc/login.defs || echo 'PASS_MIN_DAYS\t1' >> /etc/login.defs)",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.4.1.2 (Ensure minimum password days is configured)" },
  tags = { "accounts", "passwords", "aging", "cis" },
  platform = "linux",
  interval = 3600,
  check = check,
}
