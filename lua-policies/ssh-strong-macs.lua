-- lua-policies/ssh-strong-macs.lua - sshd offers no weak MACs (MD5,
-- RIPEMD-160, truncated SHA-1, 64-bit UMAC, plain HMAC-SHA1)
-- (sshd_config: MACs, or OpenSSH's default list when it is not set).

local KEYWORD = "MACs"

-- OpenSSH 9.2's default list: what +, - and ^ lists are applied to.  It
-- includes umac-64 and hmac-sha1, so an unset MACs fails.
local DEFAULT = { "umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
  "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com",
  "umac-64@openssh.com", "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1" }

-- Weak: anything MD5 or RIPEMD-160, SHA-1 truncated to 96 bits, 64-bit UMAC
-- tags (CIS lists both umac-64 forms), and plain (encrypt-and-MAC)
-- hmac-sha1.  hmac-sha1-etm@openssh.com is tolerated.
local function weak(name)
  local n = name:lower()
  return n:find("md5", 1, true) ~= nil or n:find("ripemd160", 1, true) ~= nil
    or n:find("sha1-96", 1, true) ~= nil or n:find("umac-64", 1, true) ~= nil
    or n == "hmac-sha1"
end

local function check()
  local rows = query("SELECT keyword, value, source_file, line, match_block, is_default"
    .. " FROM sshd_config WHERE keyword = ? AND match_block = ''", KEYWORD)
  if #rows == 0 then
    local any = query("SELECT count(*) AS n FROM sshd_config")
    if any[1].n == 0 then
      return not_applicable("no OpenSSH server configuration (/etc/ssh/sshd_config is missing)")
    end
    rows = { { keyword = KEYWORD, value = table.concat(DEFAULT, ","), is_default = 1 } }
  end
  local r = rows[1]
  local where = r.is_default == 1 and "OpenSSH default: MACs is not set in /etc/ssh/sshd_config"
    or ("set in " .. r.source_file .. ":" .. r.line)
  local bad = {}
  for _, m in ipairs(sshd_effective_list(r.value, DEFAULT)) do
    if weak(m) then bad[#bad + 1] = m end
  end
  if #bad > 0 then
    return fail("MACs allows weak " .. table.concat(bad, ", ") .. " (" .. where
      .. "): set MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
      .. "umac-128-etm@openssh.com,hmac-sha2-512,hmac-sha2-256", rows)
  end
  return pass("MACs has no weak MAC: " .. r.value .. " (" .. where .. ")")
end

return {
  id = "ssh-strong-macs",
  title = "SSH offers only strong MACs",
  description = "The MACs sshd ends up with (after applying +, - and ^ to OpenSSH's default list) contain no MD5 or RIPEMD-160 MAC, no SHA-1 truncated to 96 bits, no 64-bit UMAC and no plain hmac-sha1.",
  severity = "medium",
  rationale = "A MAC protects each SSH packet against tampering. MD5 and RIPEMD-160 are broken or deprecated, 64-bit tags are short enough to forge by collision over a long session, and encrypt-and-MAC SHA-1 is the weakest remaining construction. OpenSSH's own default still offers umac-64 and hmac-sha1 for old clients.",
  remediation = "Set `MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-512,hmac-sha2-256` in /etc/ssh/sshd_config, then `sshd -t && systemctl reload ssh`.",
  remediation_script = [==[f=/etc/ssh/sshd_config; v='hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-512,hmac-sha2-256'; sed -i -E "s/^([[:space:]]*)MACs[[:space:]].*/\1MACs $v/I" $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*MACs[[:space:]]' $f || sed -i "1i MACs $v" $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.15 (Ensure sshd MACs are configured)" },
  tags = { "ssh", "crypto", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
