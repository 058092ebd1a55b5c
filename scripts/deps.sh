#!/bin/sh
# Install the Debian packages that warren needs, by need, but only those
# that are missing: quiet and quick when all are there.  Needs root (or
# sudo) the first time.
#
#   sh scripts/deps.sh [TIER]...
#
#   build   (make deps)   compile and run warren and warrend
#   demo    (make demo)   build + what examples/demo.sh runs
#   check   (make check, unit, fuzz, soak)
#                         build + the unit tests, fuzzers and system tests
#   bench   (make bench)  build + the peers the benchmarks compare with
#
# Each tier is one named list below.  To add a package, put it in the list
# of the tier that needs it with a comment saying who needs it; a package
# only the tests need never goes into BUILD_PKGS.  DEPS_DRY_RUN=1 only
# prints what is missing.
set -e

# Compile and run: the compiler, pkg-config and the libraries warren links
# (Makefile PKGS); libsystemd-dev: warrend's sd_notify readiness (issue 10
# item 3, branch pkg).
BUILD_PKGS="build-essential pkg-config libssl-dev libuv1-dev liblmdb-dev
libinih-dev libsystemd-dev"

# examples/demo.sh: socat (the echo service, the local client), iproute2
# (ss: which ports are open), perl (scripts/udp-delay.pl).  nmap is shown
# only if it is installed.
DEMO_PKGS="socat iproute2 perl"

# Tests.  Unit tests: libcmocka-dev; make vectors: libjansson-dev; make fuzz
# and make CC=clang: clang, libclang-rt-14-dev (libFuzzer), llvm
# (llvm-symbolizer for sanitizer reports).  System tests (tests/system):
# socat (echo services), openssh-server and openssh-client (03-ssh.t,
# 17-restart.t), nmap (08-scan.t), iproute2 (ss, ip, tc), procps (ps),
# perl (UDP probes and relays), openssl (SHA-256 of transfers), faketime
# (09-door.t, clock skew).  jq parses warren status --json (19-status.t;
# promtool is used only if present: its package would start a Prometheus
# server).  The service and the package (issue 10 items 3 and 9): systemd
# (systemd-analyze verify of the unit), systemd-container (systemd-nspawn,
# 21-systemd.t), debootstrap (the clean Debian 12 root of 22-deb.t),
# lintian and dpkg-dev (make deb and its checks); python3 (21-systemd.t's
# sd_notify listener).
CHECK_PKGS="libcmocka-dev libjansson-dev clang llvm libclang-rt-14-dev
socat openssh-server openssh-client nmap iproute2 procps perl openssl
faketime jq systemd systemd-container debootstrap lintian dpkg-dev python3"

# Benchmarks (bench/): the peers warren is compared with (stunnel4, spiped,
# ssh, socat), iproute2 (tc netem for a slow path), gnuplot-nox (the
# figures in docs/), redis-server and redis-tools (redis-benchmark -c 50
# through warren and direct, bench/redis.sh).
BENCH_PKGS="stunnel4 spiped openssh-server openssh-client socat iproute2
procps perl openssl gnuplot-nox redis-server redis-tools"

PKGS=$BUILD_PKGS
[ $# -gt 0 ] || set -- build
for tier in "$@"; do
	case $tier in
	build) ;;
	demo) PKGS="$PKGS $DEMO_PKGS" ;;
	check) PKGS="$PKGS $CHECK_PKGS" ;;
	bench) PKGS="$PKGS $BENCH_PKGS" ;;
	*) echo "deps: unknown tier '$tier' (build, demo, check, bench)" >&2
	   exit 2 ;;
	esac
done

missing=""
for p in $PKGS; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -n "${DEPS_DRY_RUN:-}" ]; then
	echo "deps: missing:$missing"
	exit 0
fi
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
