# Shared helpers for warren's system tests: TAP output, a private temporary
# directory, keys and configs, and processes that are always cleaned up.
# Every address used is on loopback (127.0.0.0/8, ::1).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$TOP/bin}
T=$(mktemp -d /tmp/warren-test.XXXXXX)
PIDS=""
NTEST=0
NFAIL=0

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.1
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ "$NFAIL" -gt 0 ] || [ "${KEEP:-}" = 1 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f (last 30 lines)"
			tail -n 30 "$f" | sed 's/^/# /'
		done
	fi
	[ "${KEEP:-}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

plan() { echo "1..$1"; }
ok() { NTEST=$((NTEST + 1)); echo "ok $NTEST - $1"; }
not_ok() { NTEST=$((NTEST + 1)); NFAIL=$((NFAIL + 1)); echo "not ok $NTEST - $1"; }
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
diag() { echo "# $*"; }
bg() { "$@" & PIDS="$PIDS $!"; LASTPID=$!; }

# A free TCP/UDP port in [lo, hi] (default 20000-29999), not in use now.
free_port() {
	lo=${1:-20000}; hi=${2:-29999}
	while :; do
		p=$(shuf -i "$lo-$hi" -n 1)
		ss -Hlntu "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# wait_for FILE PATTERN [SECONDS]: wait until FILE has a line matching.
wait_for() {
	n=$(( ${3:-10} * 10 ))
	while [ $n -gt 0 ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# wait_port PORT: wait until something listens on TCP PORT.
wait_port() {
	n=100
	while [ $n -gt 0 ]; do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# keys: server.key/.pub and client.key/.pub in $T.
make_keys() {
	for k in server client "$@"; do
		"$BIN/warren" genkey > "$T/$k.key" &&
		"$BIN/warren" pubkey < "$T/$k.key" > "$T/$k.pub" || return 1
	done
}

# server_conf FILE UDPPORT GRANT_LO GRANT_HI SERVICE=HOST:PORT... (client is "client")
server_conf() {
	f=$1; port=$2; glo=$3; ghi=$4; shift 4
	{
		echo "[server]"
		echo "private_key = $T/server.key"
		echo "listen = ${LISTEN:-127.0.0.1}:$port"
		echo "grant_ports = $glo-$ghi"
		echo "grant_timeout = ${GRANT_TIMEOUT:-5}"
		echo "keepalive = ${KEEPALIVE:-5}"
		echo "log_level = debug"
		names=""
		for s in "$@"; do
			echo "[service ${s%%=*}]"
			echo "connect = ${s#*=}"
			names="$names${names:+, }${s%%=*}"
		done
		echo "[client client]"
		echo "public_key = $(cat "$T/client.pub")"
		echo "services = ${SERVICES:-$names}"
	} > "$f"
}

# client_conf FILE UDPPORT [KEYNAME]
client_conf() {
	{
		echo "[client]"
		echo "private_key = $T/${3:-client}.key"
		echo "timeout = ${TIMEOUT:-5}"
		echo "log_level = info"
		echo "[cluster test]"
		echo "public_key = ${SERVER_PUB:-$(cat "$T/server.pub")}"
		echo "nodes = ${NODE_HOST:-127.0.0.1}:$2"
	} > "$1"
}

# start_warrend CONF: run warrend in the background, wait until it listens.
start_warrend() {
	bg "$BIN/warrend" -c "$1" 2> "$T/warrend.log"
	WARREND_PID=$LASTPID
	wait_for "$T/warrend.log" "event=started" 10
}

# start_echo PORT: a TCP echo service on 127.0.0.1:PORT.
start_echo() {
	bg socat TCP-LISTEN:"$1",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_port "$1"
}
