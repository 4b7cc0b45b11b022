-- lua-policies/no-empty-passwords.lua - no account in /etc/shadow has an
-- empty password field (shadow.password_status = 'empty').

local function check()
  local all = query("SELECT count(*) AS n FROM shadow")[1].n
  if all == 0 then
    return not_applicable("no /etc/shadow entries (missing, or not readable by the agent)")
  end
  local rows = query("SELECT username, password_status, last_change FROM shadow"
    .. " WHERE password_status = 'empty' ORDER BY username")
  if #rows > 0 then
    local names = {}
    for _, r in ipairs(rows) do names[#names + 1] = r.username end
    return fail("empty password in /etc/shadow for " .. table.concat(names, ", ")
      .. ": lock the account (passwd -l NAME) or set a password", rows)
  end
  return pass("all " .. all .. " accounts in /etc/shadow have a password hash or are locked")
end

return {
  id = "no-empty-passwords",
  title = "No account has an empty password",
  description = "Every /etc/shadow entry has a password hash or a lock marker (! or *); none has an empty password field.",
  severity = "critical",
  rationale = "An account with an empty password can be logged into by anyone who knows its name, through any service that accepts passwords (console, su, and SSH when PermitEmptyPasswords is on).",
  remediation = "Lock each account listed (`passwd -l NAME`) or give it a password (`passwd NAME`).",
  remediation_script = "awk -F: '($2 == \"\") { print $1 }' /etc/shadow | xargs -r -n1 passwd -l",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 7.2.2 (Ensure /etc/shadow password fields are not empty)" },
  tags = { "accounts", "passwords", "cis" },
  platform = "linux",
  interval = 3600,
  check = check,
}
