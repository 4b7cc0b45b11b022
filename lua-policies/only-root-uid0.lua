-- lua-policies/only-root-uid0.lua - root is the only account with uid 0
-- (users).

local function check()
  local all = query("SELECT count(*) AS n FROM users")[1].n
  if all == 0 then
    return not_applicable("no accounts found (/etc/passwd is missing or empty)")
  end
  local rows = query("SELECT uid, gid, username, directory, shell FROM users WHERE uid = 0")
  local bad, names = {}, {}
  for _, r in ipairs(rows) do
    if r.username ~= "root" then
      bad[#bad + 1] = r
      names[#names + 1] = r.username .. " (shell " .. (r.shell ~= "" and r.shell or "none") .. ")"
    end
  end
  if #bad > 0 then
    return fail("uid 0 is also given to " .. table.concat(names, ", ")
      .. ": remove the account (userdel) or give it its own uid (usermod -u)", bad)
  end
  if #rows == 0 then
    return pass("no account has uid 0 in /etc/passwd (not even root)")
  end
  return pass("root is the only uid 0 account")
end

return {
  id = "only-root-uid0",
  title = "root is the only account with uid 0",
  description = "No account in /etc/passwd other than root has user id 0.",
  severity = "critical",
  rationale = "Any account with uid 0 is root under another name: it bypasses every permission check, its logins are logged under a different name, and a second uid 0 account is a classic backdoor.",
  remediation = "Find out who created the extra account and why; then remove it (`userdel -f NAME`) or give it an ordinary uid (`usermod -u UID NAME`).",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.4.2.1 (Ensure root is the only UID 0 account)" },
  tags = { "accounts", "privilege", "backdoor", "cis" },
  platform = "linux",
  interval = 3600,
  check = check,
}
