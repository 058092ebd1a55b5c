#!/bin/sh
# Soak (issue 9, Proof): a 1 GiB bidirectional transfer through
# "warren forward" survives 20 carrier kills at random moments, bit-exact
# both ways.  The two directions carry different data: the client sends
# 1 GiB up while the backend sends another 1 GiB down, each paced
# (scripts/pace.pl, SOAK_RATE MiB/s, default 32, so that the transfer
# lasts while the kills happen) and each hashed where it is sent and where
# it arrives.  The kills are of three kinds, shuffled: ss -K of the
# carrier's socket at the agent's end, ss -K at warrend's end, and kill -9
# of warrend's worker (the keeper starts the next one).  Each kill waits
# until the session has a carrier again, then for a random 200-1000 ms.
#
# Long, so it runs only with SOAK=1 (make soak); otherwise it is skipped.
# Runs in a private network namespace (unshare --net), so that ss -K can
# touch nothing else.  SOAK_MIB (default 1024) sets the size of each
# direction, SOAK_KILLS (default 20) the number of kills.
if [ "${SOAK:-}" != 1 ]; then
	echo "1..0 # SKIP a soak test (1 GiB each way, 20 kills, ~1 min): runs with SOAK=1 (make soak)"
	exit 0
fi
. "$(dirname "$0")/netns.sh"
: "${TEST_TIMEOUT:=420}"
. "$(dirname "$0")/lib.sh"
plan 15
ip link set lo up || { echo "Bail out! cannot bring lo up in the namespace"; exit 1; }

MiB=1048576
SIZE=$(( ${SOAK_MIB:-1024} * MiB ))
RATE=$(( ${SOAK_RATE:-32} * MiB ))
KILLS=${SOAK_KILLS:-20}
GLO=16384; GHI=17407
make_keys
UDP=$(free_port); DUP=$(free_port); FWD=$(free_port)

# gen: an endless pseudo-random stream (a fresh key each time).
gen() { openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" \
    -iv "$(openssl rand -hex 16)" < /dev/zero 2>/dev/null; }

# The backend: for its one connection, sends SIZE bytes down (paced; the
# SHA-256 of what it sent to $T/down.sent) while it hashes what comes up
# into $T/up.got; it ends when both are done.
cat > "$T/backend.sh" <<EOF
openssl enc -aes-128-ctr -nosalt -K \$(openssl rand -hex 16) \\
    -iv \$(openssl rand -hex 16) < /dev/zero 2>/dev/null | head -c $SIZE |
    perl "$TOP/scripts/pace.pl" $RATE "$T/down.sent" "$T/down.prog" &
openssl dgst -sha256 -r | cut -d' ' -f1 > "$T/up.got.tmp"
mv "$T/up.got.tmp" "$T/up.got"
wait
EOF
bg socat -t 300 TCP-LISTEN:$DUP,bind=127.0.0.1,reuseaddr SYSTEM:"sh $T/backend.sh"
wait_port "$DUP"

server_conf "$T/server.conf" "$UDP" $GLO $GHI duplex=127.0.0.1:$DUP
client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"
K=$WARREND_PID
bg "$BIN/warren" forward -c "$T/client.conf" "127.0.0.1:$FWD" duplex 2> "$T/agent.log"
FPID=$LASTPID
wait_port "$FWD"

# The client: SIZE bytes up (SHA-256 of what it sent to $T/up.sent), and
# the hash of what comes down to $T/down.got; socat's exit to $T/xfer.rc.
xfer() {
	{ gen | head -c "$SIZE" | pace "$RATE" "$T/up.sent" "$T/up.prog" |
	    timeout -k 5 400 socat -b 262144 -t 300 - TCP:127.0.0.1:$FWD 2> "$T/socat.err"
	    echo $? > "$T/xfer.rc"; } | sha - > "$T/down.got.tmp"
	mv "$T/down.got.tmp" "$T/down.got"
	echo done > "$T/xfer.done"
}
# prog FILE: a progress count (0 before the first).
prog() { cat "$1" 2>/dev/null || echo 0; }
# mid: both directions are under way (something sent, not all of it).
mid() {
	_u=$(prog "$T/up.prog"); _d=$(prog "$T/down.prog")
	[ ! -e "$T/xfer.done" ] && [ "$_u" -gt 0 ] && [ "$_u" -lt "$SIZE" ] &&
	    [ "$_d" -gt 0 ] && [ "$_d" -lt "$SIZE" ]
}
# kill_carrier SIDE: ss -K the established carrier at the agent's end
# (dport) or warrend's (sport); prints how many sockets it destroyed.
kill_carrier() {
	ss -HK -tn state established "( $1 >= :$GLO and $1 <= :$GHI )" 2>/dev/null |
	    grep -c .
}

# The kinds of the kills, shuffled: a third each (the rest at random).
kinds=""
i=0
while [ $i -lt "$KILLS" ]; do
	case $((i % 3)) in 0) kinds="$kinds worker";; 1) kinds="$kinds agent";;
	    2) kinds="$kinds node";; esac
	i=$((i + 1))
done
kinds=$(shuf -e $kinds | tr '\n' ' ')

W0=$(lines "$T/warrend.log")
: > "$T/restart.ms"
t0=$(now_ms)
bg xfer
XPID=$LASTPID
wait_since "$T/warrend.log" "$W0" "event=carrier_up .*service=duplex" 30
n=100
while [ $n -gt 0 ] && ! mid; do sleep 0.1; n=$((n - 1)); done
kills=0; late=""; failed=0; from=$W0
: > "$T/kills"
for kind in $kinds; do
	# The session has a carrier again (after the last kill).
	[ $kills -eq 0 ] ||
	    wait_since "$T/warrend.log" "$from" "event=session_resumed .*service=duplex" 30 \
	    "$T/xfer.done" || { late=1; break; }
	sleep_ms 200 1000
	mid || { late=1; break; }
	from=$(lines "$T/warrend.log")
	u=$(( $(prog "$T/up.prog") / MiB )); d=$(( $(prog "$T/down.prog") / MiB ))
	# ss -K finds no carrier while a resume is under way: try again.
	r=0; try=0
	while [ "$r" = 0 ] && [ $try -lt 30 ] && mid; do
		case $kind in
		worker) if kill_worker; then r=1; else break; fi;;
		agent) r=$(kill_carrier dport);;
		node) r=$(kill_carrier sport);;
		esac
		[ "$r" = 0 ] && { sleep 0.1; try=$((try + 1)); }
	done
	if [ "$r" -gt 0 ]; then
		kills=$((kills + 1))
		echo "$kills $kind up=$u down=$d" >> "$T/kills"
	else
		failed=$((failed + 1))
		echo "- $kind up=$u down=$d (nothing killed)" >> "$T/kills"
		break
	fi
done
diag "kills (index, kind, MiB sent up and down then): $(tr '\n' ';' < "$T/kills")"
wait_for "$T/xfer.done" . 400
diag "the transfer took $(ms_since "$t0") ms"
check "$KILLS kills mid-transfer (got $kills${late:+; the transfer ended first})" \
    [ "$kills" -ge "$KILLS" ]
for k in worker agent node; do
	check "kills of the $k kind: $(grep -c " $k " "$T/kills")" grep -q "^[0-9]* $k " "$T/kills"
done
is "$(cat "$T/xfer.rc" 2>/dev/null)" 0 "socat saw no error (exit 0)"
is "$(cat "$T/up.got" 2>/dev/null)" "$(cat "$T/up.sent" 2>/dev/null)" \
    "up: the backend got what the client sent, bit-exact ($(( SIZE / MiB )) MiB)"
is "$(cat "$T/down.got" 2>/dev/null)" "$(cat "$T/down.sent" 2>/dev/null)" \
    "down: the client got what the backend sent, bit-exact ($(( SIZE / MiB )) MiB)"
is "$(prog "$T/up.prog")/$(prog "$T/down.prog")" "$SIZE/$SIZE" "both ends sent all $SIZE bytes"
check "warren forward is still running" alive "$FPID"
check "the keeper ($K) is the same process, still running" alive "$K"
is "$(count "$T/warrend.log" 'event=adopt_failed')" 0 "no adoption failed"
resumed=$(count "$T/warrend.log" 'event=session_resumed .*service=duplex')
diag "warrend: $resumed session_resumed; the agent: $(count "$T/agent.log" 'event=resumed ') resumed"
check "warrend resumed the session after the kills" [ "$resumed" -ge "$kills" ]
is "$(count "$T/agent.log" 'level=error')" 0 "the agent logged no error"
is "$(count "$T/warrend.log" 'level=error')" 0 "warrend logged no error"
