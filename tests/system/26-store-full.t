#!/bin/sh
# The session store fails under a running warrend (issue 9: "a full or
# broken store is logged once, new sessions keep working, and resume says
# why it cannot").  warrend's LMDB store lives on a 1 MiB tmpfs mounted
# in a mount namespace of its own, which the test fills once warrend runs:
#  (a) new sessions keep working, bit-exact, and the failure is one log
#      line naming the store and the error (the worker does not crash: a
#      write map over a full disk was a SIGBUS);
#  (b) kill -9 of the worker while a session runs: the new worker cannot
#      adopt it (its state never reached the store) and says so, naming
#      the session; the agent gives up after resume_timeout with its one
#      line and closes the program's connection; the new worker serves new
#      sessions.
. "$(dirname "$0")/lib.sh"
plan 10
make_keys
UDP=$(free_port); ECHO=$(free_port); FWD=$(free_port)
start_echo "$ECHO"
mkdir -m 0700 "$T/small"
STORE="lmdb:$T/small/store" server_conf "$T/server.conf" "$UDP" 39000 39999 \
    echo=127.0.0.1:$ECHO
client_conf "$T/client.conf" "$UDP"
sed -i 's/^\[cluster/resume_timeout = 3\n[cluster/' "$T/client.conf"
# unshare -m execs: the keeper keeps the pid bg gave.
bg unshare -m --propagation private sh -c "mount -t tmpfs -o size=1m,mode=0700 tmpfs '$T/small' &&
    exec '$BIN/warrend' -c '$T/server.conf'" 2> "$T/warrend.log"
WARREND_PID=$LASTPID
wait_for "$T/warrend.log" "event=started" 10
W0=$(worker)
# Fill what the environment left of the disk (no put has run yet).
nsenter -t "$WARREND_PID" -m sh -c "cat /dev/zero > '$T/small/fill'" 2>/dev/null
free=$(nsenter -t "$WARREND_PID" -m df -k --output=avail "$T/small" | tail -n 1 | tr -d ' ')
check "warrend runs with its store on a full disk (avail ${free} KiB)" \
    sh -c "[ -n '$W0' ] && [ '$free' = 0 ]"

# (a)
rnd 300000 > "$T/data"
good=0
for i in 1 2 3 4 5; do
	timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo < "$T/data" \
	    > "$T/out.$i" 2> "$T/connect.$i.err"
	[ "$(sha "$T/out.$i")" = "$(sha "$T/data")" ] && good=$((good + 1))
done
is "$good" 5 "(a) 5 sessions on a full store: each bit-exact"
is "$(count "$T/warrend.log" 'level=error event=store ')" 1 \
    "(a) the store's failure is one log line"
like "$(cat "$T/warrend.log")" 'level=error event=store op=put err="store full"' \
    "(a) it names the operation and the error"
is "$(worker)" "$W0" "(a) the worker did not die"

# (b)
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD echo 2> "$T/fwd.log"
wait_port "$FWD"
( cat "$T/data"; sleep 30 ) | timeout 40 socat -t 5 - TCP:127.0.0.1:$FWD \
    > "$T/held.out" 2>/dev/null &
X=$!
wait_for "$T/warrend.log" "event=carrier_up" 10
sleep 1
s0=$(count "$T/warrend.log" 'event=started')
kill -9 "$(worker)"
wait_count "$T/warrend.log" 'event=started' $((s0 + 1)) 5
like "$(cat "$T/warrend.log")" 'level=warn event=adopt_failed session=[0-9a-f]* reason="no state in the store"' \
    "(b) the new worker says why it cannot adopt the session"
check "(b) the agent gives up after resume_timeout and closes the program's connection" \
    wait_exit "$X" 20
like "$(cat "$T/fwd.log")" 'level=error event=resume_failed .*could not be resumed within 3 s' \
    "(b) with one line saying so"
OUT=$(echo hi | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2>/dev/null)
is "$OUT" "hi" "(b) the new worker serves new sessions"
is "$(count "$T/warrend.log" 'level=error event=store ')" 2 \
    "(b) one store line for each worker that met the full store"
