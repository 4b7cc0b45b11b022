#!/bin/sh
# deps.sh - installs the Debian 12 packages Mamori builds and tests with,
# only those that are missing.  Safe to run again; needs root (or sudo) only
# when something is missing.
set -eu
PKGS="cmake make gcc clang pkg-config libsqlite3-dev libssl-dev libjansson-dev libedit-dev
      libyaml-dev liblua5.4-dev libcurl4-openssl-dev libssh2-1-dev libevent-dev libjemalloc-dev
      zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libclang-rt-14-dev iproute2 procps
      libnftnl-dev libmnl-dev nftables curl jq openssl sqlite3 openssh-server"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# Packages with services (openssh-server) must not start them: the tests start
# their own sshd on 127.0.0.1.  Debian's policy-rc.d hook says so for the
# length of the install when the machine has none of its own.
hook=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	hook=1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || st=$?
[ -n "$hook" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit "${st:-0}"
