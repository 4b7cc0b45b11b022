-- lua-policies/firewall-default-deny-input.lua - incoming traffic is dropped
-- unless a rule accepts it (nftables_chains, iptables).

return {
  id = "firewall-default-deny-input",
  title = "The firewall drops incoming traffic by default",
  description = "An nftables base chain on the input hook (family inet or ip) has policy drop, "
    .. "or the saved iptables rules give the filter table's INPUT chain policy DROP. The running "
    .. "nftables ruleset is used when it can be read, else /etc/nftables.conf.",
  severity = "high",
  rationale = "With a default-accept input policy every service that listens, including ones "
    .. "started by mistake, is reachable from the network; default deny exposes only what "
    .. "a rule explicitly allows.",
  remediation = "In /etc/nftables.conf give the input chain `policy drop;` after rules that accept "
    .. "loopback, established/related traffic and the services the host offers, then "
    .. "`systemctl enable --now nftables`. With iptables-persistent, set `:INPUT DROP` in "
    .. "/etc/iptables/rules.v4.",
  references = {
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure nftables default deny firewall policy",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure iptables default deny firewall policy",
  },
  tags = { "firewall", "network", "nftables", "iptables", "cis" },
  platform = "linux",
  interval = 3600,
  check = function()
    local chains = query("SELECT family, table_name, chain, hook, policy, rules, source, readable,"
      .. " error, location FROM nftables_chains")
    -- Prefer the running ruleset; fall back to the boot configuration when
    -- the kernel's cannot be read (not root, or a root prefix).
    local running, config, unreadable = {}, {}, nil
    for _, c in ipairs(chains) do
      if c.readable == 0 then
        unreadable = c.error
      elseif c.source == "running" then
        running[#running + 1] = c
      else
        config[#config + 1] = c
      end
    end
    local use, where = running, "running nftables ruleset"
    if #running == 0 then use, where = config, "/etc/nftables.conf" end
    -- "where" for messages: the file and line of a configured chain.
    local function at(c)
      if c.location and c.location ~= "" then return c.location end
      return where
    end
    local inputs = {}
    for _, c in ipairs(use) do
      if c.hook == "input" and (c.family == "inet" or c.family == "ip") then
        if c.policy == "drop" then
          return pass("nftables chain " .. c.family .. " " .. c.table_name .. " " .. c.chain
            .. " (" .. at(c) .. ") hooks input with policy drop")
        end
        inputs[#inputs + 1] = c
      end
    end
    local ipt = query("SELECT filter_name, chain, policy, source FROM iptables"
      .. " WHERE filter_name = 'filter' AND chain = 'INPUT' AND policy <> ''"
      .. " GROUP BY source, chain, policy")
    for _, r in ipairs(ipt) do
      if r.policy == "DROP" and r.source:find("rules.v4", 1, true) then
        return pass("iptables INPUT policy is DROP (" .. r.source .. ")")
      end
    end
    local problems, offending = {}, {}
    for _, c in ipairs(inputs) do
      problems[#problems + 1] = "nftables input chain " .. c.family .. " " .. c.table_name .. " "
        .. c.chain .. " has policy " .. (c.policy or "accept") .. " (" .. at(c) .. ")"
      offending[#offending + 1] = c
    end
    for _, r in ipairs(ipt) do
      problems[#problems + 1] = "iptables " .. r.chain .. " policy is " .. r.policy .. " (" .. r.source .. ")"
      offending[#offending + 1] = r
    end
    if #problems == 0 then
      local msg = "no nftables input chain and no saved iptables INPUT policy"
      if unreadable and unreadable ~= "" then msg = msg .. " (running ruleset unreadable: " .. unreadable .. ")" end
      return fail(msg .. ": configure a default-drop input chain in /etc/nftables.conf and enable nftables.service")
    end
    return fail(table.concat(problems, "; ")
      .. ": set `policy drop;` on the input chain after accepting loopback, established traffic and served ports",
      offending)
  end,
}
