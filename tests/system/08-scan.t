#!/bin/sh
# A port scan finds nothing of warren's: nmap's TCP scan of all 65535 ports
# of the node's address finds no port that warrend opened, and nmap's UDP
# probes of the front door (empty, random and nmap's own service payloads)
# get no answer, so nmap can only say "open|filtered".  An authorized
# client keeps working all the while.
#
# Runs in a private network namespace (unshare --net), with a second one,
# "the outside", joined to it by a veth pair: the node is 10.88.0.1, the
# client 10.88.0.2 and the scanner 10.88.0.3, both outside.  It scans only
# the addresses it made.  The front door is on UDP 500 (IKE's port, free in
# the test's own namespace), so that nmap also sends its IKE payloads.
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/lib.sh"
needs nmap nsenter
plan 30
NODE=10.88.0.1; CLIENT=10.88.0.2; SCANNER=10.88.0.3
outside $NODE/24 $CLIENT $SCANNER

GLO=16384; GHI=17407
make_keys
UDP=500; ECHO=$(free_port); DECOY=$(free_port); CLOSED=$(free_port)
start_echo "$ECHO"
# A plain TCP listener on the node's address: the scan must find it (so a
# scan that finds nothing is not a broken scan).
bg perl -MSocket -e '
	socket(my $l, PF_INET, SOCK_STREAM, 0) or die "decoy: $!\n";
	setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1);
	bind($l, sockaddr_in($ARGV[1], inet_aton($ARGV[0]))) or die "decoy: $!\n";
	listen($l, 128) or die "decoy: $!\n";
	$| = 1;
	while (1) {
		my $peer = accept(my $c, $l) or next;
		my ($port, $ip) = sockaddr_in($peer);
		print "accepted ", inet_ntoa($ip), ":$port\n";
		close $c;
	}' $NODE "$DECOY" > "$T/decoy.log"
wait_port "$DECOY"
LISTEN=$NODE GRANT_TIMEOUT=5 server_conf "$T/server.conf" "$UDP" $GLO $GHI echo=127.0.0.1:$ECHO
CLIENT_LOG= NODE_HOST=$NODE TIMEOUT=5 client_conf "$T/client.conf" "$UDP"
check "warrend starts on $NODE" start_warrend "$T/server.conf"
W=$WARREND_WORKER   # the worker holds the grants

# listeners: the TCP ports warrend listens on now, one per line.
listeners() {
	ss -Hltnp | grep "pid=$W," | awk '{ n = split($4, a, ":"); print a[n] }'
}
# nmap_ports FILE STATE: the ports that nmap's grepable output FILE gives
# in STATE (open, closed, filtered, open|filtered), one per line.
nmap_ports() {
	grep 'Ports:' "$1" | sed 's/.*Ports: //; s/\tIgnored.*//' | tr ',' '\n' |
	    awk -F/ -v s="$2" '{ gsub(/^ +/, "", $1) } $2 == s { print $1 }'
}
# round_trip I: one echo round trip from the outside; 0 if it echoed.
round_trip() {
	out=$(echo "scan $1" | timeout 20 nsenter -t "$PEER_PID" -n "$BIN/warren" connect \
	    -c "$T/client.conf" echo 2>> "$T/client.log" | cat)
	[ "$out" = "scan $1" ]
}

is "$(listeners)" "" "idle warrend holds no TCP listener"
check "the client in the outside namespace gets an echo round trip" round_trip 0
like "$(cat "$T/warrend.log")" "event=carrier_up peer=$CLIENT:" "its carrier came from $CLIENT"

# While nmap runs: a loop of client sessions ("ok MS" or "fail MS" per
# session, with the time it ended) and a sampler of warrend's listeners.
rm -f "$T/loop.stop"
bg sh -c "i=1; while [ ! -e '$T/loop.stop' ]; do
	if out=\$(echo \"loop \$i\" | timeout 20 nsenter -t $PEER_PID -n '$BIN/warren' connect \
	    -c '$T/client.conf' echo 2>> '$T/loop.err') && [ \"\$out\" = \"loop \$i\" ]; then
		echo \"ok \$(date +%s%3N)\"; else echo \"fail \$(date +%s%3N)\"; fi
	i=\$((i + 1)); done > '$T/loop.out'"
LOOP=$LASTPID
bg sh -c "while :; do ss -Hltnp; echo --; sleep 0.02; done > '$T/ss.samples'" 2>/dev/null
SAMPLER=$LASTPID
wait_for "$T/loop.out" "^ok" 10

# (1) TCP connect scan of every port of the node's address, from the
# outside (from $SCANNER, not from the client's address).
tA=$(now_ms); t0=$tA
timeout 200 nsenter -t "$PEER_PID" -n nmap -n -Pn -sT -p- -T5 --max-retries 1 \
    --host-timeout 180s -S $SCANNER -e wpeer0 -oG "$T/tcp.gnmap" $NODE \
    > "$T/nmap-tcp.log" 2>&1
rc=$?
t1=$(now_ms)
diag "nmap -sT -p-: exit $rc in $((t1 - t0)) ms: $(grep 'Ports:' "$T/tcp.gnmap" | sed 's/.*Ports: //')"
is "$rc" 0 "nmap -sT -p- $NODE finished"
check "it scanned the host (not timed out)" grep -q 'Ignored State: closed (65534)' "$T/tcp.gnmap"
is "$(nmap_ports "$T/tcp.gnmap" open | tr '\n' ' ')" "$DECOY " \
    "it found the decoy listener open and nothing else"
like "$(cat "$T/decoy.log")" "^accepted $SCANNER:" \
    "the scan came from $SCANNER (seen by the decoy listener)"
check "and not from the client's address" \
    sh -c "! grep -q 'accepted $CLIENT:' '$T/decoy.log'"
found_w=""
for p in $(nmap_ports "$T/tcp.gnmap" open) $(nmap_ports "$T/tcp.gnmap" filtered); do
	ss -Hltnp "sport = :$p" | grep -q "pid=$W," && found_w="$found_w $p"
done
is "$found_w" "" "no port that nmap found open or filtered belongs to warrend (ss -ltnp)"

# (2) The same with a SYN scan (raw packets, never a full connection).
t0=$(now_ms)
timeout 200 nsenter -t "$PEER_PID" -n nmap -n -Pn -sS -p- -T5 --max-retries 1 \
    --host-timeout 180s -S $SCANNER -e wpeer0 -oG "$T/syn.gnmap" $NODE \
    > "$T/nmap-syn.log" 2>&1
rc=$?
t2=$(now_ms)
diag "nmap -sS -p-: exit $rc in $((t2 - t0)) ms: $(grep 'Ports:' "$T/syn.gnmap" | sed 's/.*Ports: //')"
is "$rc" 0 "nmap -sS -p- $NODE finished"
is "$(nmap_ports "$T/syn.gnmap" open | tr '\n' ' ')" "$DECOY " \
    "the SYN scan found the decoy listener open and nothing else"

# (3) UDP probes of the front door, with a closed port beside it as the
# control: nmap must be able to say "closed" there.
n_rx0=$(count "$T/warrend.log" "event=drop .*src=$SCANNER:")
timeout 60 nsenter -t "$PEER_PID" -n nmap -n -Pn -sU -p "$UDP,$CLOSED" --max-retries 2 \
    --host-timeout 50s -S $SCANNER -e wpeer0 -oG "$T/udp.gnmap" $NODE \
    > "$T/nmap-udp.log" 2>&1
diag "nmap -sU: $(grep 'Ports:' "$T/udp.gnmap" | sed 's/.*Ports: //')"
is "$(nmap_ports "$T/udp.gnmap" closed)" "$CLOSED" "nmap -sU: the control port is closed"
is "$(nmap_ports "$T/udp.gnmap" 'open|filtered')" "$UDP" "nmap -sU: the front door is open|filtered"
is "$(nmap_ports "$T/udp.gnmap" open)" "" "nmap -sU: the front door is not open"

# Random payloads, of the INIT's size and of other sizes.
for len in 176 1 64 1400; do
	timeout 60 nsenter -t "$PEER_PID" -n nmap -n -Pn -sU -p "$UDP" --data-length $len \
	    --max-retries 1 --host-timeout 50s -S $SCANNER -e wpeer0 \
	    -oG "$T/udp$len.gnmap" $NODE > "$T/nmap-udp$len.log" 2>&1
	printf '%s:%s ' $len "$(nmap_ports "$T/udp$len.gnmap" 'open|filtered')"
done > "$T/udp-random"
diag "nmap -sU --data-length: $(cat "$T/udp-random")"
is "$(cat "$T/udp-random")" "176:$UDP 1:$UDP 64:$UDP 1400:$UDP " \
    "nmap -sU with random payloads (176, 1, 64, 1400 bytes): open|filtered each time"

# nmap's service probes for this port and the rarest ones (-sV; the front
# door is on 500, IKE's port, so nmap also sends its IKE probes).
t0=$(now_ms)
timeout 100 nsenter -t "$PEER_PID" -n nmap -n -Pn -sU -sV --version-intensity 2 -p "$UDP" \
    --max-retries 1 --host-timeout 80s -S $SCANNER -e wpeer0 \
    -oG "$T/udpv.gnmap" $NODE > "$T/nmap-udpv.log" 2>&1
diag "nmap -sU -sV ($(( $(now_ms) - t0 )) ms): $(grep 'Ports:' "$T/udpv.gnmap" | sed 's/.*Ports: //')"
is "$(nmap_ports "$T/udpv.gnmap" 'open|filtered')" "$UDP" \
    "nmap -sU -sV: the front door stays open|filtered"
check "nmap identified no service there" \
    sh -c "! grep -q 'Ports: $UDP/open/' '$T/udpv.gnmap'"

# Every UDP payload nmap has (nmap-payloads, the -sU payloads of all
# ports, and every UDP probe of nmap-service-probes), sent to the front
# door from the scanner: not one reply.
cat > "$T/payloads.pl" <<'PERL'
use strict; use IO::Socket::INET; use IO::Select;
my ($host, $port, $src, $dir) = @ARGV;
sub unesc { my $s = shift;
	$s =~ s/\\(x[0-9A-Fa-f]{2}|.)/my $e = $1;
	    $e =~ m{^x} ? chr(hex(substr($e, 1))) : $e eq "0" ? "\0" :
	    $e eq "n" ? "\n" : $e eq "r" ? "\r" : $e eq "t" ? "\t" :
	    $e eq "a" ? "\a" : $e eq "f" ? "\f" : $e eq "v" ? "\x0b" : $e/ges;
	return $s; }
my @pkts;
open(my $f, "<", "$dir/nmap-payloads") or die "nmap-payloads: $!\n";
my $text = do { local $/; <$f> }; close $f;
my $cur;
while ($text =~ /\G\s*(?:#[^\n]*|"((?:[^"\\]|\\.)*)"|(\S+))/gc) {
	if (defined $1) { $cur .= unesc($1); next }
	next unless defined $2;
	if ($2 eq "udp") { push @pkts, $cur if defined $cur; $cur = ""; }
}
push @pkts, $cur if defined $cur;
my $np = @pkts;
open($f, "<", "$dir/nmap-service-probes") or die "nmap-service-probes: $!\n";
while (<$f>) { push @pkts, unesc($1) if /^Probe UDP \S+ q\|(.*)\|/; }
my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => $src) or die "socket: $!\n";
my $to = sockaddr_in($port, inet_aton($host));
my $sent = 0;
for my $p (@pkts) { $sent++ if defined send($s, $p, 0, $to); select(undef, undef, undef, 0.002); }
my $sel = IO::Select->new($s); my $replies = 0; my $end = time + 2;
while ((my $left = $end - time) > 0) {
	last unless $sel->can_read($left);
	my $b; $replies++ if defined recv($s, $b, 65536, 0);
}
printf "payloads %d probes %d sent %d replies %d\n", $np, @pkts - $np, $sent, $replies;
PERL
res=$(in_peer perl "$T/payloads.pl" $NODE "$UDP" $SCANNER /usr/share/nmap 2>&1)
diag "nmap's payloads: $res"
like "$res" "payloads [1-9][0-9]* probes [1-9][0-9]* sent [1-9][0-9]* replies 0\$" \
    "nmap's UDP payloads and probes, each sent to the front door: no reply"
n_rx1=$(count "$T/warrend.log" "event=drop .*src=$SCANNER:")
diag "warrend logged $((n_rx1 - n_rx0)) dropped packets from the scanner"
check "the probes reached warrend and it dropped them (event=drop src=$SCANNER)" \
    [ $((n_rx1 - n_rx0)) -ge 3 ]
is "$(count "$T/warrend.log" "event=session_granted src=$SCANNER")" 0 \
    "no probe got a grant"

# The client loop during all of it.
touch "$T/loop.stop"
check "the client loop stops" wait_exit "$LOOP" 30
stop "$SAMPLER"
n_ok=$(count "$T/loop.out" "^ok"); n_fail=$(count "$T/loop.out" "^fail")
during=$(awk -v a="$tA" -v b="$t2" '$1 == "ok" && $2 > a && $2 <= b' "$T/loop.out" | wc -l)
diag "client sessions: $n_ok ok, $n_fail failed, $during ok during the TCP scans"
is "$n_fail" 0 "every client session during the scans echoed"
[ "$n_fail" = 0 ] || diag "client errors: $(sort "$T/loop.err" | uniq -c | sort -rn | head -n 5)"
check "at least 10 client sessions ran during the scans" [ "$n_ok" -ge 10 ]
check "client sessions completed while the TCP scans ran" [ "$during" -ge 1 ]

# warrend's own view: the only TCP listeners it ever held were grants.
grep "pid=$W," "$T/ss.samples" | awk '{ n = split($4, a, ":"); print a[n] }' |
    sort -un > "$T/seen"
sed -n 's/.*event=grant_open port=\([0-9]*\).*/\1/p' "$T/warrend.log" | sort -un > "$T/granted"
diag "$(grep -c -- '^--' "$T/ss.samples") ss samples; warrend listeners seen: $(tr '\n' ' ' < "$T/seen")"
is "$(comm -23 "$T/seen" "$T/granted" | tr '\n' ' ')" "" \
    "every warrend TCP listener seen during the scans was a grant"
is "$(grep -v "src=$CLIENT:" "$T/warrend.log" | grep -c 'event=grant_open')" 0 \
    "every grant was for the client's address"
is "$(count "$T/warrend.log" 'event=carrier_rejected')" 0 "no carrier was rejected"
check "warrend is still running" alive "$W"
n=60
while [ $n -gt 0 ] && [ -n "$(listeners)" ]; do sleep 0.1; n=$((n - 1)); done
is "$(listeners)" "" "afterwards warrend holds no TCP listener"
