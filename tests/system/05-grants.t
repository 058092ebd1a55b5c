#!/bin/sh
# Grants: a granted port ignores other addresses while the real client
# still gets through; an unused grant expires and its port closes; warrend
# never holds a TCP listener other than a live grant.
#
# Runs in a private network namespace (unshare --net), so that the tc rule
# that holds the client's SYNs back affects nothing outside this test.
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/lib.sh"
plan 35
ip link set lo up || { echo "Bail out! cannot bring lo up in the namespace"; exit 1; }

# Grant ports 16384-17407: one u32 mask (0xfc00), below the ephemeral range.
GLO=16384; GHI=17407; GT=6
make_keys
UDP=$(free_port); ECHO=$(free_port)
start_echo "$ECHO"
GRANT_TIMEOUT=$GT server_conf "$T/server.conf" "$UDP" $GLO $GHI echo=127.0.0.1:$ECHO
TIMEOUT=5 client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"
W=$WARREND_WORKER   # the worker holds the grants

# listeners: the TCP ports warrend listens on now, one per line.
listeners() {
	ss -Hltnp | grep "pid=$W," | awk '{ n = split($4, a, ":"); print a[n] }'
}
is "$(listeners)" "" "idle warrend holds no TCP listener"
like "$(ss -Hlunp)" "127.0.0.1:$UDP .*pid=$W," "warrend listens on its UDP front door"

# block / unblock: drop TCP from 127.0.0.1 to the grant ports (the real
# client's SYNs) in this namespace; 127.0.0.2 is not matched.
block() { tc_hold "$GLO"; }
unblock() { tc_release; }
at_exit unblock

# wait_no_grants: wait until warrend holds no listener (grants used or expired).
wait_no_grants() {
	n=$(( (GT + 3) * 10 ))
	while [ $n -gt 0 ]; do
		[ -z "$(listeners)" ] && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# grant_ports: every port that warrend announced with grant_open so far.
grant_ports() { sed -n 's/.*event=grant_open port=\([0-9]*\).*/\1/p' "$T/warrend.log"; }
# log_ms PATTERN: the time (ms) of the first warrend log line matching.
log_ms() {
	t=$(grep -m1 -- "$1" "$T/warrend.log" | cut -d' ' -f1)
	[ -n "$t" ] && date -d "$t" +%s%3N
}

# (a) A live grant ignores another loopback address; the real client, whose
# SYNs were held back meanwhile, still gets through on the same grant.
check "tc can hold back the client's SYNs" block
bg sh -c "printf 'through the same grant\n' | '$BIN/warren' connect -c '$T/client.conf' echo 2> '$T/a.err' | cat > '$T/a.out'"
A=$LASTPID
wait_for "$T/warrend.log" "event=grant_open" 5
P=$(grant_ports | head -n 1)
diag "grant port: $P"
check "the grant port is inside grant_ports" between "${P:-0}" $GLO $GHI
like "$(listeners)" "^$P\$" "warrend listens on the granted port"
t0=$(now_ms)
timeout 10 socat -u TCP:127.0.0.1:$P,bind=127.0.0.2,connect-timeout=2 - \
    > "$T/probe.out" 2> "$T/probe.err"
rc=$?
diag "probe from 127.0.0.2: exit $rc after $(( $(now_ms) - t0 )) ms: $(cat "$T/probe.err")"
check "a connection from 127.0.0.2 to the grant fails" [ "$rc" -ne 0 ]
is "$(cat "$T/probe.out")" "" "and gets no data"
is "$(count "$T/warrend.log" "event=carrier_up")" 0 "warrend started no carrier for it"
like "$(listeners)" "^$P\$" "the probe did not consume the grant"
unblock
check "the real client finishes" wait_exit "$A" 15
is "$(cat "$T/a.out")" "through the same grant" "the real client got through after the probe"
like "$(cat "$T/warrend.log")" "event=carrier_up peer=127.0.0.1:[0-9]* port=$P " \
    "its carrier used the grant that was probed"
is "$(grant_ports | wc -l)" 1 "one session took one grant (no extra INITs while the carrier connects)"
is "$(count "$T/warrend.log" "event=carrier_rejected")" 0 "no carrier was rejected"
check "no carrier from 127.0.0.2" sh -c "! grep -q 'peer=127.0.0.2' '$T/warrend.log'"

# (a2) The node answered, so a carrier that is slow to connect is not "no
# answer": with a dial timeout (1 s) shorter than the SYN hold-up (~3 s)
# the client still uses its grant, valid for grant_timeout ($GT s).
TIMEOUT=1 client_conf "$T/client1.conf" "$UDP"
wait_no_grants
block
bg sh -c "printf 'slow carrier\n' | '$BIN/warren' connect -c '$T/client1.conf' echo 2> '$T/a2.err' | cat > '$T/a2.out'"
A2=$LASTPID
sleep 2
unblock
check "slow carrier: the client finishes" wait_exit "$A2" 15
is "$(cat "$T/a2.out")" "slow carrier" "slow carrier: the session still got through on its grant"
check "slow carrier: the client did not report no_answer" \
    sh -c "! grep -q 'event=no_answer' '$T/a2.err'"

# (b) A grant that nobody uses expires and its port closes.
wait_no_grants
n0=$(grant_ports | wc -l)
block
bg sh -c "echo unused | '$BIN/warren' connect -c '$T/client.conf' echo 2> '$T/b.err' | cat > /dev/null" 2>/dev/null
B=$LASTPID
wait_count "$T/warrend.log" "event=grant_open" $((n0 + 1)) 5
stop "$B"
unblock
Q=$(grant_ports | sed -n "$((n0 + 1))p")
diag "unused grant port: $Q"
like "$(listeners)" "^$Q\$" "warrend listens on the unused grant's port"
check "warrend logs grant_expired for it" \
    wait_for "$T/warrend.log" "event=grant_expired port=$Q " $((GT + 3))
check "its port is closed" wait_noport "$Q" 2
open_ms=$(log_ms "event=grant_open port=$Q ")
exp_ms=$(log_ms "event=grant_expired port=$Q ")
diag "grant_open to grant_expired: $(( ${exp_ms:-0} - ${open_ms:-0} )) ms (grant_timeout $GT s)"
check "it expired after grant_timeout, not before (within 1 s)" \
    between "$(( ${exp_ms:-0} - ${open_ms:-0} ))" $((GT * 1000 - 50)) $((GT * 1000 + 1000))
timeout 5 socat -u TCP:127.0.0.1:$Q,connect-timeout=2 - > /dev/null 2> "$T/late.err"
like "$(cat "$T/late.err")" "refused" "a late connection to it is refused"
wait_no_grants
is "$(listeners)" "" "after all grants expired warrend holds no TCP listener"

# (b2) A grant carries one carrier: one from the client's own address that
# fails to prove itself closes the grant (the node's records on it used the
# session's nonces, which a second carrier would use again).  The probe
# comes from 127.0.0.1 too, from a port that tc lets through.
n0=$(grant_ports | wc -l)
PROBE=$(free_port)
tc_hold "$GLO" "" "$PROBE"
bg sh -c "echo once | '$BIN/warren' connect -c '$T/client.conf' echo > '$T/b2.out' 2> '$T/b2.err'"
B2=$LASTPID
wait_count "$T/warrend.log" "event=grant_open" $((n0 + 1)) 5
R=$(grant_ports | sed -n "$((n0 + 1))p")
printf '\377\377\377\377 not a record' |
    timeout 5 socat -u - TCP:127.0.0.1:$R,bind=127.0.0.1:$PROBE 2> "$T/b2probe.err"
check "a carrier from the client's address that fails to prove is rejected" \
    wait_for "$T/warrend.log" "event=carrier_rejected src=127.0.0.1:$PROBE port=$R " 5
check "and its grant closes with it" wait_noport "$R" 2
unblock
check "b2: the real client finishes" wait_exit "$B2" 15
like "$(cat "$T/b2.err")" "event=carrier_failed" \
    "the real client's carrier then fails (its grant is gone) with a clear error"
wait_no_grants

# (c) While warrend serves sessions, every TCP listener it holds is a live
# grant: sample ss -ltnp during a loop of sessions, some of them long.
n1=$(grant_ports | wc -l)
FWD=$(free_port)
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD echo 2> "$T/forward.log"
wait_port "$FWD"
bg sh -c "while :; do ss -Hltnp; echo --; sleep 0.02; done > '$T/ss.samples'" 2>/dev/null
S=$LASTPID
HOLD=""
for i in 1 2 3; do   # sessions that stay up during the sampling
	bg sh -c "(echo hold$i; sleep 6) | timeout 20 socat -t 10 - TCP:127.0.0.1:$FWD > '$T/hold$i.out'"
	HOLD="$HOLD $LASTPID"
done
fails=0
for i in $(seq 1 30); do
	out=$(echo "session $i" | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2>> "$T/loop.err" | cat)
	[ "$out" = "session $i" ] || fails=$((fails + 1))
	if [ $((i % 10)) = 0 ]; then   # and bursts of parallel ones
		burst=""
		for j in 1 2 3 4 5; do
			echo burst | timeout 20 socat -t 10 - TCP:127.0.0.1:$FWD > /dev/null &
			burst="$burst $!"
		done
		for j in $burst; do wait "$j"; done
	fi
done
is "$fails" 0 "30 sessions in a row all echoed"
# On a loaded machine ss samples slowly: go on making sessions (up to 30 s)
# until it has looked at least 50 times, so that the checks below saw enough.
n=0
while [ "$(grep -c -- '^--' "$T/ss.samples")" -lt 50 ] && [ $n -lt 300 ]; do
	echo more | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo > /dev/null 2>> "$T/loop.err"
	n=$((n + 1))
done
for h in $HOLD; do wait_exit "$h" 20; done
stop "$S"
is "$(cat "$T"/hold*.out | tr '\n' ' ')" "hold1 hold2 hold3 " "the long sessions echoed"
grep "pid=$W," "$T/ss.samples" | awk '{ n = split($4, a, ":"); print a[n] }' |
    sort -un > "$T/seen"
grant_ports | sort -un > "$T/granted"
nsamples=$(grep -c -- '^--' "$T/ss.samples")
diag "$nsamples samples; warrend listeners seen: $(tr '\n' ' ' < "$T/seen")"
check "ss was sampled at least 50 times" [ "$nsamples" -ge 50 ]
is "$(awk -v lo=$GLO -v hi=$GHI '$1 < lo || $1 > hi' "$T/seen" | tr '\n' ' ')" "" \
    "every warrend TCP listener seen was inside grant_ports"
is "$(comm -23 "$T/seen" "$T/granted" | tr '\n' ' ')" "" \
    "every warrend TCP listener seen had been announced by grant_open"
n2=$(grant_ports | wc -l)
diag "$((n2 - n1)) grants during the loop, $(grep -c . "$T/seen") of them seen live"
is "$(listeners)" "" "afterwards warrend holds no TCP listener"
