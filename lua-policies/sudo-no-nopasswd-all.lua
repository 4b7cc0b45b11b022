-- lua-policies/sudo-no-nopasswd-all.lua - no sudoers rule lets anyone run
-- every command without a password, and authentication is not switched off
-- globally (sudoers: user rules, Cmnd_Alias lines, Defaults).

-- Tags such as NOPASSWD: carry over to the following commands of the same
-- rule until another tag changes them (sudoers(5)), so the rule is read
-- command by command after its host list ("ALL=").  Run-as lists "(...)"
-- are dropped first since they contain commas too.  A command is "all"
-- when it is ALL or a Cmnd_Alias that contains ALL.
local function nopasswd_all(details, alias_all)
  local eq = details:find("=", 1, true)
  if eq == nil then return false end
  local rest = details:sub(eq + 1):gsub("%b()", "")
  local nopw = false
  for entry in (rest .. ","):gmatch("([^,]*),") do
    local e = entry:gsub("^%s+", "")
    while true do
      local tag, after = e:match("^(%u[%u_]*):%s*(.*)$")
      if tag == nil then break end
      if tag == "NOPASSWD" then nopw = true elseif tag == "PASSWD" then nopw = false end
      e = after
    end
    e = e:gsub("%s+$", "")
    if nopw and (e == "ALL" or alias_all[e]) then return true end
  end
  return false
end

local function who(header)
  if header == "ALL" then return "every user" end
  if header:sub(1, 1) == "%" then return "members of group " .. header:sub(2) end
  return header
end

local function check()
  local rows = query("SELECT source, header, rule_details FROM sudoers")
  if #rows == 0 then
    return not_applicable("no /etc/sudoers (sudo is not installed)")
  end
  local alias_all = {}
  for _, r in ipairs(rows) do
    if r.header == "Cmnd_Alias" or r.header == "Cmd_Alias" then
      -- Cmnd_Alias NAME = cmd, cmd : NAME2 = ...
      for name, cmds in (r.rule_details .. ":"):gmatch("%s*([%u%d_]+)%s*=%s*([^:]*):") do
        for c in (cmds .. ","):gmatch("%s*([^,]-)%s*,") do
          if c == "ALL" then alias_all[name] = true end
        end
      end
    end
  end
  local bad, msgs, rules = {}, {}, 0
  for _, r in ipairs(rows) do
    local h = r.header
    if h:match("^Defaults") then
      if r.rule_details:match("!%s*authenticate") then
        bad[#bad + 1] = r
        msgs[#msgs + 1] = r.source .. ": `" .. h .. " " .. r.rule_details
          .. "` turns off password prompts for every matching rule"
      end
    elseif not h:match("_Alias$") and not h:match("^[@#]include") then
      rules = rules + 1
      if nopasswd_all(r.rule_details, alias_all) then
        bad[#bad + 1] = r
        msgs[#msgs + 1] = r.source .. ": rule `" .. h .. " " .. r.rule_details .. "` lets "
          .. who(h) .. " run any command as root without a password"
      end
    end
  end
  if #bad > 0 then
    return fail(table.concat(msgs, "; ") .. ": remove NOPASSWD or limit the rule to the commands needed (visudo)", bad)
  end
  return pass("no sudoers rule grants ALL commands without a password (" .. rules .. " user rule"
    .. (rules == 1 and "" or "s") .. " checked)")
end

return {
  id = "sudo-no-nopasswd-all",
  title = "sudo never grants all commands without a password",
  description = "No sudoers user rule (in /etc/sudoers or the files it includes) gives ALL commands, directly or through a Cmnd_Alias, with the NOPASSWD tag, and no Defaults line sets !authenticate.",
  severity = "high",
  rationale = "NOPASSWD: ALL makes the account equivalent to root for anyone who gets a shell as it: a stolen session, a compromised service or a malicious package runs anything as root without knowing a password. Limited NOPASSWD rules for a few commands are tolerated.",
  remediation = "With visudo, remove NOPASSWD from rules that grant ALL (e.g. turn `ALL ALL=(ALL) NOPASSWD: ALL` into `%sudo ALL=(ALL:ALL) ALL`), or limit NOPASSWD rules to the specific commands an automation needs; remove `Defaults !authenticate`.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.2.4 (Ensure users must provide password for privilege escalation)", "CIS Debian Linux 12 Benchmark v1.1.0 5.2.5 (Ensure re-authentication for privilege escalation is not disabled globally)" },
  tags = { "sudo", "privilege", "cis" },
  platform = "linux",
  interval = 3600,
  check = check,
}
