#!/bin/sh
# Install the Debian packages that warren builds, tests and benches with,
# but only those that are missing.  Needs root (or sudo) the first time.
set -e
PKGS="build-essential pkg-config clang llvm libclang-rt-14-dev libssl-dev
libuv1-dev liblmdb-dev libhiredis-dev libinih-dev libcmocka-dev libjansson-dev
redis-server stunnel4 spiped openssh-server openssh-client socat nmap iproute2
procps psmisc gnuplot-nox xxd perl faketime"
# Service and package (items 3 and 9 of issue 10).  Build: libsystemd-dev,
# warrend's sd_notify readiness.  Tests and make deb: systemd
# (systemd-analyze verify of the unit), debootstrap (the clean Debian 12
# root 22-deb.t installs the .deb into), lintian (checks the .deb),
# dpkg-dev (dpkg-buildflags, dpkg-shlibdeps for make deb),
# systemd-container (systemd-nspawn: 21-systemd.t boots a container),
# python3 (21-systemd.t's sd_notify listener), jq (21-systemd.t reads the
# container's journal as JSON).
SERVICE_PKGS="libsystemd-dev systemd systemd-container debootstrap lintian
dpkg-dev python3 jq"
PKGS="$PKGS $SERVICE_PKGS"
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
