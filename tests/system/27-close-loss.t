#!/bin/sh
# A session that the node ends while both directions are busy, over a slow
# path: the client gets the node's reason and gives up at once.  The node ends it with a CLOSE record queued behind
# what it sent; had it closed the carrier then, the client's next bytes
# would meet a closed socket, whose reset throws away that queue, CLOSE
# included, and the client would try to resume a session that is gone.
# So the node's carrier lingers after a CLOSE (docs/PROTOCOL.md 7.8): shut
# for writing, it reads and drops until the client closes.
#
# In a network namespace of its own, with the client in a second one
# behind a veth pair, both ends shaped to 40 Mbit/s (tbf).  The
# backend writes zeros and drops what it reads; the client sends zeros.
# warrend is stopped with SIGTERM mid-transfer.
. "$(dirname "$0")/netns.sh"
: "${TEST_TIMEOUT:=120}"
. "$(dirname "$0")/lib.sh"
needs nsenter tc
plan 8
NODE=10.89.0.1; A=10.89.0.2
outside $NODE/24 $A
SHAPE="tbf rate 40mbit burst 32kbit latency 50ms"
tc qdisc add dev wdoor0 root $SHAPE && in_peer tc qdisc add dev wpeer0 root $SHAPE ||
    { echo "Bail out! cannot shape the veth pair with tbf"; exit 1; }

make_keys
UDP=$(free_port); SRC=$(free_port)
# The backend: zeros out, whatever comes in dropped.
bg socat TCP-LISTEN:"$SRC",bind=127.0.0.1,reuseaddr,fork \
    SYSTEM:'cat > /dev/null & exec cat /dev/zero'
wait_port "$SRC"
LISTEN=$NODE server_conf "$T/server.conf" "$UDP" 16384 17407 src=127.0.0.1:$SRC
NODE_HOST=$NODE client_conf "$T/client.conf" "$UDP"
# If the CLOSE is lost, the client resumes in vain: bound that.
sed -i '/^\[client\]/a resume_timeout = 20' "$T/client.conf"
check "warrend starts" start_warrend "$T/server.conf"

# The client: zeros in, what arrives counted.
{ in_peer sh -c "cat /dev/zero | timeout -k 5 60 '$BIN/warren' connect \
    -c '$T/client.conf' src 2> '$T/agent.log'; echo \$? > '$T/agent.rc'" |
    wc -c > "$T/got.tmp"; mv "$T/got.tmp" "$T/got"; } &
PIDS="$PIDS $!"
check "the session is up" wait_for "$T/warrend.log" "event=carrier_up peer=$A:" 10
sleep 2
t0=$(now_ms)
kill -TERM "$WARREND_PID"
check "warrend stops within 15 s" wait_exit "$WARREND_PID" 15
check "the client exits within 10 s of the stop" wait_for "$T/got" . 10
diag "the client exited $(ms_since "$t0") ms after SIGTERM: $(cat "$T/agent.log")"
check "the client exits non-zero" [ "$(cat "$T/agent.rc" 2>/dev/null)" != 0 ]
like "$(cat "$T/agent.log")" 'level=error .*node shutting down' \
    "the client's line gives the node's reason"
is "$(count "$T/agent.log" 'event=carrier_lost')" 0 \
    "the client saw no broken carrier (it did not try to resume)"
got=$(cat "$T/got" 2>/dev/null | tr -d ' ')
diag "the client got $got bytes"
check "the client got data before the end" positive "$got"
