#!/bin/sh
# An echo service round trip through warren forward and warren connect.
. "$(dirname "$0")/lib.sh"
plan 4
make_keys
UDP=$(free_port); ECHO=$(free_port); FWD=$(free_port)
start_echo "$ECHO"
server_conf "$T/server.conf" "$UDP" 31000 31999 echo=127.0.0.1:$ECHO
client_conf "$T/client.conf" "$UDP"
check "warrend --check accepts the config" "$BIN/warrend" -c "$T/server.conf" --check
check "warrend starts" start_warrend "$T/server.conf"
out=$(printf 'hello warren\n' | "$BIN/warren" connect -c "$T/client.conf" echo 2> "$T/connect.log")
check "warren connect: echo round trip" [ "$out" = "hello warren" ]
bg "$BIN/warren" forward -c "$T/client.conf" "127.0.0.1:$FWD" echo 2> "$T/forward.log"
wait_port "$FWD"
out=$(printf 'through forward\n' | socat -t 5 - TCP:127.0.0.1:$FWD)
check "warren forward: echo round trip" [ "$out" = "through forward" ]
