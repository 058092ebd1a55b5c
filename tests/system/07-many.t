#!/bin/sh
# warren forward serves many concurrent local connections, each its own
# session: 50 parallel clients each echo a distinct 100 KB file.
. "$(dirname "$0")/lib.sh"
N=${MANY:-50}
plan 10
make_keys
UDP=$(free_port); ECHO=$(free_port); FWD=$(free_port)
start_echo "$ECHO"
GRANT_TIMEOUT=10 server_conf "$T/server.conf" "$UDP" 31000 31999 echo=127.0.0.1:$ECHO
TIMEOUT=30 client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD echo 2> "$T/forward.log"
FPID=$LASTPID
wait_port "$FWD"

# Distinct inputs: 100 KB of a keystream each, under a different key.
openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" \
    -iv "$(openssl rand -hex 16)" < /dev/zero 2>/dev/null |
    head -c $((N * 102400)) > "$T/all"
split -a 3 -d -b 102400 "$T/all" "$T/in."

t0=$(now_ms)
pids=""
for f in "$T"/in.*; do
	i=${f##*.}
	# The client holds its write side open until all is echoed back
	# (-t 30), so each session is alive at the same time as the others.
	timeout 60 socat -t 30 -T 60 - TCP:127.0.0.1:$FWD < "$f" > "$T/out.$i" 2> "$T/client.$i.err" &
	pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
diag "$N clients done in $(( $(now_ms) - t0 )) ms"
is "$fails" 0 "all $N clients exited 0"
bad=0
for f in "$T"/in.*; do
	i=${f##*.}
	cmp -s "$f" "$T/out.$i" || { bad=$((bad + 1)); diag "client $i: $(stat -c %s "$T/out.$i") bytes back, differ"; }
done
is "$bad" 0 "every client got back exactly its own 100 KB"
is "$(ls "$T"/in.* | wc -l)" "$N" "there were $N distinct inputs"
is "$(for f in "$T"/in.*; do sha "$f"; done | sort -u | wc -l)" "$N" "all $N inputs differ"
wait_count "$T/warrend.log" "event=session_end" "$N" 10
is "$(count "$T/warrend.log" 'event=carrier_up')" "$N" "warrend logged $N carrier_up"
is "$(count "$T/warrend.log" 'event=session_end.*end=done.*bytes_in=102400 bytes_out=102400')" "$N" \
    "warrend ended $N sessions cleanly, 100 KB each way"
# A client may retry an INIT while 50 dials share 2 cores, and the node then
# grants again (superseding the first grant): the number of grants can
# exceed N, but every connection rides on exactly one carrier.
g=$(count "$T/warrend.log" 'event=session_granted')
diag "$g grants for $N connections"
check "warrend granted at least one session per local connection" [ "$g" -ge "$N" ]
peak=$(awk '/event=carrier_up/ { n++; if (n > m) m = n } /event=session_end/ { n-- } END { print m + 0 }' "$T/warrend.log")
diag "at most $peak sessions were up at once"
check "sessions ran concurrently (at least 5 at once)" [ "$peak" -ge 5 ]
check "warren forward is still serving" alive "$FPID"
