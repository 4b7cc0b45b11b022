-- lua-policies/ssh-strong-ciphers.lua - sshd offers no weak ciphers (CBC
-- modes, 3DES, RC4/arcfour, Blowfish, CAST) (sshd_config: Ciphers, or
-- OpenSSH's default list when it is not set).

local KEYWORD = "Ciphers"

-- OpenSSH 9.2's default list: what +, - and ^ lists are applied to.
local DEFAULT = { "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
  "aes128-gcm@openssh.com", "aes256-gcm@openssh.com" }

local WEAK = { "cbc", "3des", "arcfour", "blowfish", "cast128", "rijndael" }

local function weak(name)
  local n = name:lower()
  for _, w in ipairs(WEAK) do
    if n:find(w, 1, true) then return true end
  end
  return false
end

local function check()
  local rows = query("SELECT keyword, value, source_file, line, match_block, is_default"
    .. " FROM sshd_config WHERE keyword = ? AND match_block = ''", KEYWORD)
  if #rows == 0 then
    local any = query("SELECT count(*) AS n FROM sshd_config")
    if any[1].n == 0 then
      return not_applicable("no OpenSSH server configuration (/etc/ssh/sshd_config is missing)")
    end
    return pass("Ciphers is not set: OpenSSH 9.2's default list has no weak cipher")
  end
  local r = rows[1]
  local where = r.is_default == 1 and "OpenSSH default: not set in /etc/ssh/sshd_config"
    or ("set in " .. r.source_file .. ":" .. r.line)
  local bad = {}
  for _, c in ipairs(sshd_effective_list(r.value, DEFAULT)) do
    if weak(c) then bad[#bad + 1] = c end
  end
  if #bad > 0 then
    return fail("Ciphers allows weak " .. table.concat(bad, ", ") .. " (" .. where
      .. "): remove them, e.g. Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
      .. "aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr", rows)
  end
  return pass("Ciphers has no weak cipher: " .. r.value .. " (" .. where .. ")")
end

return {
  id = "ssh-strong-ciphers",
  title = "SSH offers only strong ciphers",
  description = "The Ciphers sshd ends up with (after applying +, - and ^ to OpenSSH's default list) contain no CBC-mode cipher, no 3DES, RC4 (arcfour), Blowfish or CAST128.",
  severity = "medium",
  rationale = "CBC modes in SSH are open to plaintext-recovery attacks, 3DES and Blowfish have 64-bit blocks (Sweet32) and RC4 is broken. A server that offers them lets a downgraded or misconfigured client use them.",
  remediation = "Set `Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr` in /etc/ssh/sshd_config (or remove the Ciphers line to get OpenSSH's default), then `sshd -t && systemctl reload ssh`.",
  remediation_script = [==[f=/etc/ssh/sshd_config; v='chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr'; sed -i -E "s/^([[:space:]]*)Ciphers[[:space:]].*/\1Ciphers $v/I" $f /etc/ssh/sshd_config.d/*.conf 2>/dev/null; grep -qiE '^[[:space:]]*Ciphers[[:space:]]' $f || sed -i "1i Ciphers $v" $f; sshd -t && systemctl reload ssh]==],
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.6 (Ensure sshd Ciphers are configured)" },
  tags = { "ssh", "crypto", "cis" },
  platform = "debian",
  interval = 3600,
  check = check,
}
