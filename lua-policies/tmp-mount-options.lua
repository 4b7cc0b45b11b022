-- lua-policies/tmp-mount-options.lua - /tmp is its own mount with nodev,
-- nosuid and noexec (mounts).

local WANT = { "nodev", "nosuid", "noexec" }

return {
  id = "tmp-mount-options",
  title = "/tmp is a separate mount with nodev, nosuid and noexec",
  description = "/tmp is mounted on its own (tmpfs or a partition), and its mount options include "
    .. "nodev, nosuid and noexec.",
  severity = "medium",
  rationale = "/tmp is writable by every user: without these options an attacker can drop and run "
    .. "binaries there, create set-user-id programs or device nodes, and filling it fills /.",
  remediation = "Mount /tmp as tmpfs with the options: `systemctl enable tmp.mount` after copying "
    .. "/usr/share/systemd/tmp.mount to /etc/systemd/system/ and setting "
    .. "`Options=mode=1777,strictatime,nosuid,nodev,noexec,size=50%` there (or an /etc/fstab line "
    .. "`tmpfs /tmp tmpfs defaults,rw,nosuid,nodev,noexec,relatime,size=2G 0 0`), then "
    .. "`mount -o remount /tmp`.",
  references = {
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure /tmp is a separate partition",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure nodev option set on /tmp partition",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure nosuid option set on /tmp partition",
    "CIS Debian Linux 12 Benchmark v1.1.0: Ensure noexec option set on /tmp partition",
  },
  tags = { "mounts", "filesystem", "cis" },
  platform = "linux",
  interval = 3600,
  check = function()
    local rows = query("SELECT device, path, type, flags FROM mounts WHERE path = ?", "/tmp")
    if #rows == 0 then
      return fail("/tmp is not a separate mount (it lives on /): mount a tmpfs or partition "
        .. "on /tmp with nodev,nosuid,noexec")
    end
    -- When several file systems are stacked on /tmp, the last one mounted
    -- (listed last) is the one in use.
    local r = rows[#rows]
    local have = {}
    for opt in (r.flags or ""):gmatch("[^,]+") do have[opt] = true end
    local missing = {}
    for _, o in ipairs(WANT) do
      if not have[o] then missing[#missing + 1] = o end
    end
    if #missing > 0 then
      return fail("/tmp (" .. r.type .. ", device " .. r.device .. ") is mounted " .. (r.flags or "")
        .. ", missing " .. table.concat(missing, ",") .. ": add them to its fstab line or "
        .. "tmp.mount Options= and `mount -o remount /tmp`", { r })
    end
    return pass("/tmp (" .. r.type .. ", device " .. r.device .. ") is mounted with nodev,nosuid,noexec")
  end,
}
