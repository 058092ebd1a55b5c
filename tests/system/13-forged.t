#!/bin/sh
# A forged RESP does not end the dial.  Anyone on the path who knows the
# client's public key can make a RESP with a valid mac1 and the INIT's
# index (both in the clear); only Noise message 2 tells it from the node's.
# An attacker relay (scripts/udp-forge.pl) answers every INIT with such a
# forgery at once and passes the node's real answer on 100 ms later: the
# client ignores the forgery and the session works, bit-exact.  With the
# node's answers dropped, the client gets forgeries only: it reports the
# key mismatch at its timeout, not at the first forgery.  A real key
# mismatch (a pre-shared key that differs) is reported the same way.
. "$(dirname "$0")/lib.sh"
plan 20
make_keys
UDP=$(free_port); ECHO=$(free_port); FORGE=$(free_port); FWD=$(free_port)
start_echo "$ECHO"
server_conf "$T/server.conf" "$UDP" 35000 35999 echo=127.0.0.1:$ECHO
export TIMEOUT=2
client_conf "$T/client.conf" "$FORGE"
check "warrend starts" start_warrend "$T/server.conf"
head -c 1048576 /dev/urandom > "$T/data"
WANT=$(sha "$T/data")

# forge MODE: (re)start the forging relay, its log in $T/forge.log.
FORGE_PID=""
forge() {
	[ -n "$FORGE_PID" ] && stop "$FORGE_PID"
	bg perl "$TOP/scripts/udp-forge.pl" "$FORGE" "$UDP" "$T/client.pub" \
	    100 $1 > "$T/forge.log"
	FORGE_PID=$LASTPID
	wait_udp "$FORGE"
}

# run NAME CONF: warren connect to echo with $T/data on stdin; sets RC
# (its exit status), NERR (its error lines), MS (elapsed) and GOT (the
# sha of what came back).
run() {
	t0=$(now_ms)
	timeout 20 "$BIN/warren" connect -c "$2" echo < "$T/data" \
	    > "$T/$1.out" 2> "$T/$1.err"
	RC=$?
	MS=$(( $(now_ms) - t0 ))
	GOT=$(sha "$T/$1.out")
	NERR=$(count "$T/$1.err" 'level=error')
	diag "$1: exit $RC after $MS ms: $(cat "$T/$1.err")"
}

# A forgery before each real answer.
forge ""
run connect "$T/client.conf"
is "$GOT" "$WANT" "forged RESP first: warren connect gets through, 1 MiB bit-exact"
is "$RC $NERR" "0 0" "forged RESP first: warren connect exits 0 and reports no error"
check "forged RESP first: the relay sent forgeries" grep -q forged "$T/forge.log"
like "$(cat "$T/connect.err")" "level=warn event=bad_answer .*count=" \
    "forged RESP first: warren says it ignored answers that did not authenticate"

bg "$BIN/warren" forward -c "$T/client.conf" "127.0.0.1:$FWD" echo 2> "$T/forward.log"
FWD_PID=$LASTPID
wait_port "$FWD"
for i in 1 2 3; do
	got=$(timeout 20 socat -t 10 - TCP:127.0.0.1:$FWD < "$T/data" | sha -)
	is "$got" "$WANT" "forged RESP first: warren forward session $i, 1 MiB bit-exact"
done
check "forged RESP first: warren forward is still running" alive "$FWD_PID"
is "$(count "$T/forward.log" 'level=error')" 0 "forged RESP first: warren forward logged no error"
stop "$FWD_PID"
n=$(count "$T/forge.log" forged)
diag "forgeries sent in all: $n"
check "forged RESP first: the relay sent a forgery for each session's INITs (at least 4)" \
    [ "$n" -ge 4 ]

# Forgeries only: the node's answers are dropped.
forge only
run only "$T/client.conf"
like "$(cat "$T/only.err")" "level=error event=key_mismatch .*did not authenticate" \
    "forgeries only: warren reports a key mismatch"
is "$NERR" 1 "forgeries only: one error line"
check "forgeries only: not at the first forgery but at the timeout (2 s, took $MS ms)" \
    between "$MS" 1800 5000
check "forgeries only: the relay sent forgeries" grep -q forged "$T/forge.log"
check "forgeries only: warren exits non-zero (not killed)" between "$RC" 1 123
stop "$FORGE_PID"; FORGE_PID=""

# A real key mismatch: the client's pre-shared key is not the node's.
"$BIN/warren" genkey > "$T/wrong.psk"; chmod 600 "$T/wrong.psk"
client_conf "$T/psk.conf" "$UDP"
echo "preshared_key = $T/wrong.psk" >> "$T/psk.conf"
run psk "$T/psk.conf"
like "$(cat "$T/psk.err")" "level=error event=key_mismatch .*preshared_key of cluster test in $T/psk.conf" \
    "pre-shared key mismatch: warren names the cluster and the file"
is "$NERR" 1 "pre-shared key mismatch: one error line"
check "pre-shared key mismatch: warren exits non-zero (not killed)" between "$RC" 1 123
check "pre-shared key mismatch: reported at the timeout (2 s, took $MS ms)" \
    between "$MS" 1800 5000
