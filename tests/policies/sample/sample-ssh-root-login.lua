-- A sample policy for the runtime's own tests (tests/e2e/policy_sandbox.sh);
-- the shipped baseline lives in lua-policies/.
return {
  id = "sample-ssh-root-login",
  title = "Sample: SSH does not permit root login",
  description = "Root may not log in over SSH with any method.",
  severity = "high",
  rationale = "Direct root logins leave no trace of who acted.",
  remediation = "Set `PermitRootLogin no` in /etc/ssh/sshd_config and reload sshd.",
  references = { "CIS Debian Linux 12 Benchmark v1.1.0 5.1.20" },
  tags = { "ssh", "sample" },
  platform = "debian",
  interval = 3600,
  check = function()
    local rows = query("SELECT value FROM sshd_config WHERE keyword = ? AND match_block = ''",
                       "PermitRootLogin")
    if #rows == 0 then return not_applicable("no sshd_config") end
    if rows[1].value == "no" then return pass("PermitRootLogin is no") end
    return fail("PermitRootLogin is " .. rows[1].value, rows)
  end,
}
