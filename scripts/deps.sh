#!/bin/sh
# Install the Debian packages that warren builds, tests and benches with,
# but only those that are missing.  Needs root (or sudo) the first time.
set -e
PKGS="build-essential pkg-config clang llvm libclang-rt-14-dev libssl-dev
libuv1-dev liblmdb-dev libhiredis-dev libinih-dev libcmocka-dev libjansson-dev
redis-server stunnel4 spiped openssh-server openssh-client socat nmap iproute2
procps psmisc gnuplot-nox xxd perl faketime"
# warren status (issue 10, items 4 and 5): jq parses `warren status --json`
# in tests/system/19-status.t (a test need); redis-tools has the
# redis-benchmark of bench/redis.sh (a bench need, with redis-server above).
# promtool (package prometheus) is used by 19-status.t only if present: the
# package would also install and start a Prometheus server.
STATUS_PKGS="jq redis-tools"
PKGS="$PKGS $STATUS_PKGS"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
