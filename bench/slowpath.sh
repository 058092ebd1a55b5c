#!/bin/sh
# bench/slowpath: session set-up over a slow path to the front door.
#
# For each one-way delay in SLOW_DELAYS (ms), scripts/udp-delay.pl holds
# every front-door datagram that long, both ways, between `warren forward`
# and warrend (the TCP carrier is not delayed).  SLOW_SESSIONS sessions
# then go one after the other through the same `warren forward`: each
# connects, echoes one line and closes.  For each delay the report gives
# the first session's set-up time and grants (the client has to learn the
# round trip) and the later sessions' median time and grants (it knows
# it).  The floor is one front-door round trip, twice the delay.
#
# Environment: SLOW_DELAYS ["0 50 150 300 1000"]  SLOW_SESSIONS [4]
#   BENCH_OUT [build/bench]  KEEP=1 keeps the temporary directory.
# Needs `make` first.  Binds and sends to 127.0.0.1 only; kills everything
# it started on exit.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. "$TOP/bench/lib.sh"
BIN=${BIN:-$TOP/bin}
OUT=${BENCH_OUT:-$TOP/build/bench}
DELAYS=${SLOW_DELAYS:-0 50 150 300 1000}
N=${SLOW_SESSIONS:-4}
mkdir -p "$OUT" || exit 1
umask 077
T=$(mktemp -d /tmp/warren-slowpath.XXXXXX) || exit 1
PIDS=""
cleanup() {
	trap - EXIT INT TERM HUP
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	if [ "${KEEP:-}" = 1 ]; then echo "slowpath: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
say() { echo "slowpath: $*" >&2; }
now_ms() { date +%s%3N; }

for k in server client; do
	"$BIN/warren" genkey > "$T/$k.key" && "$BIN/warren" pubkey < "$T/$k.key" > "$T/$k.pub" ||
	    { say "bin/warren is missing: run make first"; exit 1; }
done
port UDP; port ECHO
socat TCP-LISTEN:$ECHO,bind=127.0.0.1,reuseaddr,fork EXEC:cat & PIDS="$PIDS $!"
cat > "$T/server.conf" <<CONF
[server]
private_key = $T/server.key
listen = 127.0.0.1:$UDP
grant_ports = 30000-30999
[service echo]
connect = 127.0.0.1:$ECHO
[client c]
public_key = $(cat "$T/client.pub")
services = echo
CONF
"$BIN/warrend" -c "$T/server.conf" 2> "$T/warrend.log" & PIDS="$PIDS $!"
wait_port "$ECHO" && wait_port "$UDP" udp || { say "warrend or the echo service did not start"; exit 1; }
grants() { grep -c 'event=grant_open' "$T/warrend.log"; }

RES="$OUT/slowpath.txt"
{
echo "Measured $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), with \`sh bench/slowpath.sh\`."
echo
echo "| one-way delay | round trip (floor) | first session ms | its grants | later sessions ms (median of $((N - 1))) | their grants each |"
echo "|--:|--:|--:|--:|--:|--:|"
} > "$RES"
for d in $DELAYS; do
	port SLOW; port FWD
	perl "$TOP/scripts/udp-delay.pl" "$SLOW" "$UDP" "$d" & RELAY=$!
	cat > "$T/client.conf" <<CONF
[client]
private_key = $T/client.key
timeout = 20
[cluster x]
public_key = $(cat "$T/server.pub")
nodes = 127.0.0.1:$SLOW
CONF
	"$BIN/warren" forward -c "$T/client.conf" "127.0.0.1:$FWD" echo 2> "$T/forward.log" & FPID=$!
	PIDS="$PIDS $RELAY $FPID"
	wait_port "$SLOW" udp && wait_port "$FWD" || { say "relay or forward did not start"; exit 1; }
	times=""; gl=""
	i=1
	while [ $i -le "$N" ]; do
		g0=$(grants); t0=$(now_ms)
		out=$(echo "s$i" | timeout 30 socat -t 20 - TCP:127.0.0.1:$FWD)
		ms=$(( $(now_ms) - t0 )); g=$(( $(grants) - g0 ))
		[ "$out" = "s$i" ] || { say "delay $d ms: session $i failed"; ms=-1; }
		if [ $i -eq 1 ]; then first=$ms; fg=$g; else times="$times $ms"; gl="$gl $g"; fi
		i=$((i + 1))
	done
	kill "$RELAY" "$FPID" 2>/dev/null; wait "$RELAY" "$FPID" 2>/dev/null
	med=$(echo $times | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	echo "| $d ms | $((2 * d)) ms | $first | $fg | $med | $(echo $gl | tr ' ' '\n' | sort -u | paste -sd/) |" >> "$RES"
	say "delay $d ms: first $first ms ($fg grants), later$times ms"
done
cat "$RES"
