-- lua-policies/ssh-config-permissions.lua - /etc/ssh/sshd_config and the
-- drop-ins in /etc/ssh/sshd_config.d are owned by root and readable by root
-- only (file table: mode, uid, gid).

local function describe(r)
  local problems = {}
  local mode = tonumber(r.mode, 8)
  if mode == nil then
    problems[#problems + 1] = "has an unreadable mode '" .. tostring(r.mode) .. "'"
  elseif mode & 127 ~= 0 then -- 0177: owner execute, any group or other bit
    problems[#problems + 1] = string.format("is mode %04o (want 0600 or stricter: chmod u-x,go-rwx %s)",
      mode & 4095, r.path)
  end
  if r.uid ~= 0 then
    problems[#problems + 1] = "is owned by uid " .. tostring(r.uid) .. " (want root: chown root " .. r.path .. ")"
  end
  if r.gid ~= 0 then
    problems[#problems + 1] = "has group gid " .. tostring(r.gid) .. " (want root: chgrp root " .. r.path .. ")"
  end
  if #problems == 0 then return nil end
  return r.path .. " " .. table.concat(problems, ", ")
end

local function check()
  local files = query("SELECT path, uid, gid, mode, type FROM file WHERE path = ?",
    "/etc/ssh/sshd_config")
  if #files == 0 then
    return not_applicable("/etc/ssh/sshd_config does not exist")
  end
  for _, r in ipairs(query("SELECT path, uid, gid, mode, type FROM file WHERE directory = ?"
      .. " AND filename LIKE '%.conf' AND type = 'regular' ORDER BY path",
      "/etc/ssh/sshd_config.d")) do
    files[#files + 1] = r
  end
  local msgs, bad = {}, {}
  for _, r in ipairs(files) do
    local m = describe(r)
    if m ~= nil then
      msgs[#msgs + 1] = m
      bad[#bad + 1] = r
    end
  end
  if #bad > 0 then
    return fail(table.concat(msgs, "; "), bad)
  end
  return pass(#files == 1 and "/etc/ssh/sshd_config is root:root, mode " .. files[1].mode
    or (#files .. " sshd configuration files are root:root with mode 0600 or stricter"))
end

return {
  id = "ssh-config-permissions",
  title = "sshd configuration files are owned by root and private",
  description = "/etc/ssh/sshd_config and every /etc/ssh/sshd_config.d/*.conf are owned by root:root with mode 0600 or stricter.",
  severity = "medium",
  rationale = "Whoever can write sshd's configuration decides who may log in as whom; whoever can read it learns the allowed users, forced commands and trusted CAs, which helps plan an attack.",
  remediation = "chown root:root /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf && chmod 0600 /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf",
  remediation_script = "chown root:root /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf 2>/dev/null; chmod u-x,go-rwx /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf 2>/dev/null; true",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.1 (Ensure permissions on /etc/ssh/sshd_config are configured)" },
  tags = { "ssh", "file-permissions", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
