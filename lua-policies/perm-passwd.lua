-- lua-policies/perm-passwd.lua - /etc/passwd is 0644 or stricter and owned by root:root (file, users, groups).

local PATH = "/etc/passwd"
local MAX_MODE = 0x1a4 -- 0644
local GROUPS = { "root" }

-- Mode bits beyond MAX_MODE (including setuid/setgid/sticky) are too open;
-- the owner must be uid 0 and the group gid 0 or one of GROUPS by name (as the
-- root's /etc/group names it).
local function check_perm()
  local rows = query("SELECT f.path, f.uid, f.gid, f.mode, f.type,"
    .. " (SELECT username FROM users WHERE uid = f.uid LIMIT 1) AS owner,"
    .. " (SELECT groupname FROM groups WHERE gid = f.gid LIMIT 1) AS grp"
    .. " FROM file f WHERE f.path = ?", PATH)
  if #rows == 0 then return not_applicable(PATH .. " does not exist") end
  local r = rows[1]
  local owner = (r.owner or "?") .. "(" .. r.uid .. ")"
  local grp = (r.grp or "?") .. "(" .. r.gid .. ")"
  local mode = tonumber(r.mode, 8)
  local problems = {}
  if mode == nil then
    problems[#problems + 1] = "mode " .. tostring(r.mode) .. " cannot be read"
  elseif mode & ~MAX_MODE & 4095 ~= 0 then
    problems[#problems + 1] = string.format("mode is %04o, want %04o or stricter (extra bits %04o): chmod %04o %s",
      mode, MAX_MODE, mode & ~MAX_MODE & 4095, mode & MAX_MODE, PATH)
  end
  if r.uid ~= 0 then
    problems[#problems + 1] = "owner is " .. owner .. ", want root: chown root " .. PATH
  end
  local gid_ok = r.gid == 0
  for _, g in ipairs(GROUPS) do
    if r.grp == g then gid_ok = true end
  end
  if not gid_ok then
    problems[#problems + 1] = "group is " .. grp .. ", want " .. table.concat(GROUPS, " or ")
      .. ": chgrp " .. GROUPS[1] .. " " .. PATH
  end
  if #problems > 0 then
    return fail(PATH .. ": " .. table.concat(problems, "; "), rows)
  end
  return pass(PATH .. " is " .. r.mode .. " " .. owner .. ":" .. grp)
end

return {
  id = "perm-passwd",
  title = "/etc/passwd is 0644 or stricter and owned by root:root",
  description = "/etc/passwd has no permission bits beyond 0644, its owner is root (uid 0) and its group is root.",
  severity = "medium",
  rationale = "Anyone who can write /etc/passwd can give an account uid 0 or a new shell and take over the host.",
  remediation = "Run `chown root:root /etc/passwd && chmod u-x,go-wx /etc/passwd`.",
  remediation_script = "chown root:root /etc/passwd && chmod u-x,go-wx /etc/passwd",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0: Ensure permissions on /etc/passwd are configured" },
  tags = { "files", "permissions", "cis" },
  platform = "linux",
  interval = 3600,
  check = check_perm,
}
