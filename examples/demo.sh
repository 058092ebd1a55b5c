#!/bin/sh
# make demo: warren's main job, end to end, on loopback, narrated.
# Everything lives in a temporary directory that is removed at the end.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
D=$(mktemp -d /tmp/warren-demo.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
# runsh 'CMD | CMD': show a pipeline as it would be typed, and run it.
runsh() { printf '$ %s\n' "$1" >&2; sh -c "$1"; }
pick_port() {
	while :; do
		p=$(shuf -i "$1-$2" -n 1)
		ss -Hlntu "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
wait_port() {
	i=0
	while ! ss -Hltn "sport = :$1" | grep -q .; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "port $1 never opened"; exit 1; }
		sleep 0.1
	done
}

UDP=$(pick_port 17000 17999)
ECHO=$(pick_port 18000 18999)
FWD=$(pick_port 19000 19999)
SLOW=$(pick_port 16000 16999)
# Grant ports above the kernel's ephemeral range (32768-60999), as by
# default: step 10 resets connections by port, and warrend's own
# connection to the backend must not be among them.
GLO=62000; GHI=62999

say "1. Keys: one X25519 key pair for the server, one for the client (base64, WireGuard style)"
cd "$D"
for k in server client; do
	echo "\$ warren genkey > $k.key; warren pubkey < $k.key > $k.pub"
	"$BIN/warren" genkey > $k.key
	"$BIN/warren" pubkey < $k.key > $k.pub
done
ls -l "$D"/*.key | sed 's/^/   /'
echo "   (private keys are mode 600: warrend and warren refuse keys that others can read)"

say "2. A private service to protect: a TCP echo server on 127.0.0.1:$ECHO"
socat TCP-LISTEN:$ECHO,bind=127.0.0.1,reuseaddr,fork EXEC:cat & PIDS="$PIDS $!"
wait_port "$ECHO"

say "3. The server's config: a UDP front door, a grant port range, the service, the client"
cat > server.conf <<CONF
[server]
private_key = server.key
listen = 127.0.0.1:$UDP
grant_ports = $GLO-$GHI
grant_timeout = 10
control = $D/control.sock
store = lmdb:$D/store

[service echo]
connect = 127.0.0.1:$ECHO

[client laptop]
public_key = $(cat client.pub)
services = echo
CONF
sed 's/^/   /' server.conf
run "$BIN/warrend" -c server.conf --check

say "4. Start warrend. It opens only a UDP socket: no TCP port at all"
"$BIN/warrend" -c server.conf 2> warrend.log & WPID=$!; PIDS="$PIDS $WPID"
sleep 0.3
echo "   sockets of warrend (pid $WPID):"
ss -Hlntup | grep "pid=$WPID," | sed 's/^/   /' || true
n=$(ss -Hltnp | grep -c "pid=$WPID," || true)
echo "   TCP listeners of warrend: $n"
if command -v nmap >/dev/null 2>&1; then
	echo "   nmap, TCP scan of the whole grant range $GLO-$GHI on 127.0.0.1:"
	nmap -n -Pn -sT -p "$GLO-$GHI" 127.0.0.1 2>/dev/null | grep -E "open|closed|filtered|Not shown" | sed 's/^/     /'
	echo "   nmap, UDP probe of the front door (it answers nothing unauthenticated):"
	nmap -n -Pn -sU -p "$UDP" 127.0.0.1 2>/dev/null | grep -E "^$UDP/udp" | sed 's/^/     /'
fi

say "5. The client's config: its key, the cluster's public key and nodes"
cat > client.conf <<CONF
[client]
private_key = client.key

[cluster demo]
public_key = $(cat server.pub)
nodes = 127.0.0.1:$UDP
CONF
sed 's/^/   /' client.conf

say "6. warren forward gives any program a local port; each connection is its own session"
"$BIN/warren" forward -c client.conf 127.0.0.1:$FWD echo 2> forward.log & PIDS="$PIDS $!"
wait_port "$FWD"
runsh "echo 'hello through warren' | socat -t 5 - TCP:127.0.0.1:$FWD"
echo "   What warrend logged for it (one UDP handshake, a one-shot grant, a carrier):"
grep -E "event=(grant_open|session_granted|carrier_up|session_end)" warrend.log | sed 's/^/   /'
echo "   The grant port closed as soon as the carrier proved the session keys:"
n=$(ss -Hltnp | grep -c "pid=$WPID," || true)
echo "   TCP listeners of warrend now: $n"

say "7. A grant caught in the act: over a slow path the one-shot port is open for a moment"
echo "   A relay that holds each UDP datagram for 0.5 s (scripts/udp-delay.pl) stands in"
echo "   for a long network path. While warrend's answer travels back, its grant waits:"
perl "$TOP/scripts/udp-delay.pl" "$SLOW" "$UDP" 500 & PIDS="$PIDS $!"
sleep 0.3
sed "s/^nodes = .*/nodes = 127.0.0.1:$SLOW/" client.conf > slow.conf
echo 'hello over a slow path' | "$BIN/warren" connect -c slow.conf echo > slow.out 2> slow.log & CPID=$!
i=0
until ss -Hltnp | grep -q "pid=$WPID,"; do
	i=$((i + 1)); [ $i -lt 100 ] || break
	sleep 0.02
done
ss -Hltnp | grep "pid=$WPID," | awk '{ print "   TCP listener of warrend now: " $4 " (only the granted client address may connect)" }'
wait "$CPID" || true
echo "   The client connected to it and got: $(cat slow.out)"
n=$(ss -Hltnp | grep -c "pid=$WPID," || true)
echo "   TCP listeners of warrend now: $n"

say "8. warren connect uses stdin/stdout (an ssh ProxyCommand works the same way)"
runsh "echo 'hello from stdin' | $BIN/warren connect -c client.conf echo"

say "9. Bulk data: 200 MiB through the tunnel and back, checked with SHA-256"
head -c $((200 * 1024 * 1024)) /dev/urandom > data
in=$(sha256sum < data | cut -c1-16)
start=$(date +%s.%N)
out=$(socat -b 262144 -t 10 TCP:127.0.0.1:$FWD - < data | sha256sum | cut -c1-16)
end=$(date +%s.%N)
echo "   sent $in...  received $out...  in $(awk "BEGIN { printf \"%.2f\", $end - $start }") s (both directions at once)"
[ "$in" = "$out" ] && echo "   identical." || { echo "   MISMATCH"; exit 1; }

say "10. The session outlives its TCP connection and warrend's worker: while 200 MiB go both ways, the carrier is reset 3 times (ss -K), then the worker is killed (kill -9)"
echo "   (the sender is paced to 64 MiB/s, so that all of it happens mid-transfer)"
KILLED=$D/killed
(
	sleep 0.3
	for i in 1 2 3; do
		echo "\$ ss -K 'sport >= :$GLO' 'sport <= :$GHI'   # reset the carrier"
		ss -K "sport >= :$GLO" "sport <= :$GHI" > /dev/null 2>&1 || true
		sleep 0.4
	done
	# The worker holds the carrier; the keeper (pid $WPID) holds the
	# backend socket and starts the next worker.
	w=$(sed -n 's/.*event=started .* pid=\([0-9]*\).*/\1/p' warrend.log | tail -n 1)
	echo "\$ kill -9 $w   # warrend's worker, which holds the carrier"
	kill -9 "$w" 2>/dev/null && echo "$w" > "$KILLED"
) &
killer=$!
out=$(perl "$TOP/scripts/pace.pl" $((64 * 1024 * 1024)) < data |
    timeout 120 socat -b 262144 -t 10 - TCP:127.0.0.1:$FWD | sha256sum | cut -c1-16)
wait $killer
echo "   sent $in...  received $out...  (the program saw no error)"
[ "$in" = "$out" ] && echo "   identical: nothing lost, nothing twice." || { echo "   MISMATCH"; exit 1; }
[ -s "$KILLED" ] || { echo "   the worker was not killed"; exit 1; }
echo "   warrend's log: the resets, then the keeper's restart of the worker and the resume on the new one:"
grep -E "event=(carrier_lost|session_resumed|worker_exit|worker_adopt|session_adopted|started)" warrend.log |
    tail -n 12 | sed 's/^/   warrend: /'
grep -q "event=worker_exit pid=$(cat "$KILLED") signal=9" warrend.log &&
    grep -A 40 "event=worker_exit pid=$(cat "$KILLED") signal=9" warrend.log | grep -q "event=session_resumed" ||
    { echo "   no resume after the kill in warrend's log"; exit 1; }

say "11. Someone without a key gets nothing: a stranger's client is met with silence"
"$BIN/warren" genkey > stranger.key
sed "s/client.key/stranger.key/; s/^private_key.*/&\ntimeout = 2/" client.conf > stranger.conf
runsh "echo hi | $BIN/warren connect -c stranger.conf echo" || true
grep -E "event=unknown_client" warrend.log | tail -n 1 | sed 's/^/   warrend: /'

say "12. warrend's counters, from its control socket (every drop reason and limit; zeros left out)"
run "$BIN/warren" status -s "$D/control.sock" | awk '$2 != 0 { print "   " $0 }'

say "Done. warrend stops, the temporary directory $D is removed."
