#!/bin/sh
# A slow path to the front door: the handshake learns the round trip.
# A retry is a fresh INIT that supersedes the one in flight, so a client
# that retried faster than the round trip would never see an answer.  The
# client recognises an answer to an earlier INIT, learns the round trip
# from it, and gives the INIT in flight time enough; later sessions of the
# same warren forward wait that long from the start (one INIT, one grant).
# The delays come from a UDP relay (udp_delay in lib.sh) on loopback.
. "$(dirname "$0")/lib.sh"
plan 10
make_keys
UDP=$(free_port); ECHO=$(free_port); SLOW=$(free_port); FWD=$(free_port)
start_echo "$ECHO"
server_conf "$T/server.conf" "$UDP" 33000 33999 echo=127.0.0.1:$ECHO
client_conf "$T/client.conf" "$SLOW"     # the default timeout: 5 s
check "warrend starts" start_warrend "$T/server.conf"
grants() { count "$T/warrend.log" "event=grant_open"; }

# 300 ms each way: a 600 ms round trip, six times the first retry's wait.
udp_delay "$SLOW" "$UDP" 300
out=$(echo hi | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2> "$T/connect.err")
is "$out" "hi" "600 ms round trip: warren connect gets through"

bg "$BIN/warren" forward -c "$T/client.conf" "127.0.0.1:$FWD" echo 2> "$T/forward.log"
wait_port "$FWD"
for i in 1 2 3; do
	g0=$(grants)
	out=$(echo "session $i" | timeout 20 socat -t 10 - TCP:127.0.0.1:$FWD)
	is "$out" "session $i" "600 ms round trip: warren forward session $i gets through"
	eval "G$i=$(( $(grants) - g0 ))"
done
diag "grants per forward session: $G1 $G2 $G3"
is "$G2 $G3" "1 1" "later sessions wait for the learned round trip: one INIT, one grant each"

# 1 s each way: a 2 s round trip, longer than the retry wait ever grows
# (2 s), answered within the default 5 s timeout.
stop "$RELAY_PID"
udp_delay "$SLOW" "$UDP" 1000
out=$(echo hi | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2> "$T/connect2.err")
is "$out" "hi" "2 s round trip: warren connect gets through within its 5 s timeout"
is "$(grep -c 'level=\(warn\|error\)' "$T/connect2.err")" 0 "2 s round trip: no warning or error"

# Two nodes: the slow one first, then one that is down (nothing listens).
# Each node keeps its own socket for the whole dial, so the slow node's
# answer still arrives after the client has tried the other one.  A dial
# starts at a node picked at random (warren(1), SESSION SET-UP): the client
# is run until a dial starts at the slow node (each does so by an even
# chance; 12 tries), and that dial is the one measured.  The dead node's
# ICMP port unreachable takes it out of the dial's turns, and the slow
# node's retries keep the schedule they had.
stop "$RELAY_PID"
udp_delay "$SLOW" "$UDP" 300
DEAD=$(free_port)
sed -e "s|^nodes = .*|nodes = 127.0.0.1:$SLOW, 127.0.0.1:$DEAD|" \
    -e "s|^log_level = .*|log_level = debug|" "$T/client.conf" > "$T/two.conf"
n=""; out=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	g0=$(grants)
	out=$(echo hi | timeout 20 "$BIN/warren" connect -c "$T/two.conf" echo 2> "$T/two.err")
	first=$(sed -n 's/.*event=init_sent peer=\([^ ]*\).*/\1/p' "$T/two.err" | head -n 1)
	if [ "$first" = "127.0.0.1:$SLOW" ]; then
		n=$(( $(grants) - g0 ))
		break
	fi
done
is "$out" "hi" "slow node and dead node: warren connect gets through"
diag "slow node and dead node: a dial that started at the slow node (try $i): ${n:-none} grants"
check "slow node and dead node: its first or second INIT to the slow node is answered in time (at most 2 grants)" \
    [ "${n:-99}" -le 2 ]
