#!/bin/sh
# The echo round trip over IPv6: warrend on [::1], the client's node
# [::1]:PORT, the backend on ::1, and warren forward listening on [::1].
. "$(dirname "$0")/lib.sh"
plan 15
if ! ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
	echo "Bail out! ::1 is not configured on lo"; exit 1
fi
make_keys
UDP=$(free_port); ECHO=$(free_port); FWD=$(free_port)
bg socat -t 30 TCP6-LISTEN:"$ECHO",bind='[::1]',reuseaddr,fork EXEC:cat
wait_port "$ECHO"
LISTEN='[::1]' server_conf "$T/server.conf" "$UDP" 31000 31999 "echo=[::1]:$ECHO"
NODE_HOST='[::1]' client_conf "$T/client.conf" "$UDP"
check "warrend --check accepts [::1] addresses" "$BIN/warrend" -c "$T/server.conf" --check
check "warrend starts" start_warrend "$T/server.conf"
like "$(ss -Hlunp)" "\[::1\]:$UDP .*pid=$WARREND_PID," "warrend listens on UDP [::1]:$UDP"
check "and not on IPv4" sh -c "! ss -Hlunp4 | grep -q 'pid=$WARREND_PID,'"

out=$(printf 'hello over v6\n' | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2> "$T/connect.log" | cat)
is "$out" "hello over v6" "warren connect: echo round trip over ::1"
like "$(cat "$T/warrend.log")" "event=grant_open port=[0-9]* src=\[::1\]:[0-9]" \
    "the grant is for the client's IPv6 address"
like "$(cat "$T/warrend.log")" "event=carrier_up peer=\[::1\]:[0-9]* port=" \
    "the carrier came from [::1]"

bg "$BIN/warren" forward -c "$T/client.conf" "[::1]:$FWD" echo 2> "$T/forward.log"
wait_port "$FWD"
out=$(printf 'through forward over v6\n' | timeout 20 socat -t 5 - TCP6:'[::1]':$FWD)
is "$out" "through forward over v6" "warren forward on [::1]: echo round trip"
head -c 3000000 /dev/urandom > "$T/data"
got=$(timeout 30 socat -t 10 - TCP6:'[::1]':$FWD < "$T/data" | sha -)
is "$got" "$(sha "$T/data")" "3 MB echoed over IPv6 with equal SHA-256"
wait_count "$T/warrend.log" "event=session_end" 3 10
is "$(count "$T/warrend.log" 'event=session_end.*end=done')" 3 "3 sessions ended cleanly"
is "$(count "$T/warrend.log" 'level=error')" 0 "warrend logged no error"

# An IPv4 client cannot reach a node that listens on [::1] only: nothing
# listens on 127.0.0.1's port, so the kernel refuses the handshake (ICMP
# port unreachable) and the client says so at once (warren(1), SESSION
# SET-UP).
TIMEOUT=1 client_conf "$T/v4.conf" "$UDP"
echo hi | timeout 10 "$BIN/warren" connect -c "$T/v4.conf" echo 2> "$T/v4.err" | cat > /dev/null
like "$(cat "$T/v4.err")" "event=refused cluster=test peer=127.0.0.1:$UDP" "an IPv4 client is refused by the [::1] node's host (ICMP)"

# Under load the front door's socket filter checks each datagram from its
# UDP header on, for IPv6 as for IPv4: a client still gets in over ::1.
stop "$WARREND_PID"
mv "$T/warrend.log" "$T/warrend-calm.log"
sed 's/^\[server\]$/[server]\nload_threshold = 0/' "$T/server.conf" > "$T/load.conf"
check "warrend restarts, always under load" start_warrend "$T/load.conf"
check "its socket filter goes on" wait_for "$T/warrend.log" "event=door_filter on=1" 5
out=$(printf 'v6 under load\n' | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2> "$T/load.err" | cat)
is "$out" "v6 under load" "warren connect over ::1 gets in through the filter"
