#!/bin/sh
# Sessions outlive their carrier (issue 9): when a carrier dies, the agent
# resumes the session over the front door (RESUME, a new grant, a new
# carrier) and both ends send again exactly what the other lacks; the
# programs at both ends see nothing but a pause.
#  (a) RST: 64 MiB both ways through `warren forward` to an echo service
#      while `ss -K` kills the carrier 5 times at random moments (either
#      end's socket): bit-exact, socat sees no error, forward keeps
#      running, `resumed` lines, warrend counts resumes;
#  (b) link cut: the client in another network namespace, 100 MiB through
#      `warren connect` with its link down for 5 s mid-transfer: both ends
#      notice within a bound (dead_busy = 2 with bytes unacknowledged, for
#      the node three keepalives if it had none), the agent resumes,
#      bit-exact;
#  (c) roaming: mid-transfer the client gets address B and loses A; the
#      session resumes from B (warrend's session_resumed names B),
#      bit-exact;
#  (d) bad RESUMEs: a RESUME captured by a relay and replayed after it
#      worked, the same with one byte changed, a forged one (right header,
#      valid mac1, random contents) and random bytes get no answer, are
#      counted (resume_drops) and logged (resume_drop), and leave the live
#      session alone; a RESUME for a session that ended gets no answer;
#  (e) linger: a session whose client cannot reach the node for longer
#      than linger (3 s) ends on the node with a clear line and its backend
#      connection closed; the agent (resume_timeout = 5) gives up with one
#      resume_failed line and the local program sees EOF;
#  (f) a backend reset while the session is detached: the node keeps the
#      CLOSE, the agent resumes when the link is back and ends at once
#      with the backend's error (not after resume_timeout), non-zero.
#
# Runs in a private network namespace (unshare --net) with a second one,
# "the outside", joined by a veth pair: the node is 10.88.0.1, the client
# of (b), (c) and (e) starts as 10.88.0.2 and roams to 10.88.0.5.
# RESUME_KEYS=0 leaves the resume keys (linger, dead_busy, resume_timeout)
# out of the configs, to try this test's machinery on a build without them
# (where every resume check must fail, and nothing may hang).
. "$(dirname "$0")/netns.sh"
: "${TEST_TIMEOUT:=480}"
. "$(dirname "$0")/lib.sh"
needs nsenter
plan 69
NODE=10.88.0.1; A=10.88.0.2; B=10.88.0.5
outside $NODE/24 $A
# Deleting the primary address A must keep B (a secondary in the same
# subnet) for the roaming part.
in_peer sh -c 'echo 1 > /proc/sys/net/ipv4/conf/wpeer0/promote_secondaries' ||
    { echo "Bail out! cannot set promote_secondaries in the outside namespace"; exit 1; }

GLO=16384; GHI=17407       # the main node's grant ports (a-d)
GLO2=17408; GHI2=18431     # the linger node's (e)
make_keys
UDP=$(free_port); UDP2=$(free_port); ECHO=$(free_port); HOLD=$(free_port)
RESETTER=$(free_port)
FWD=$(free_port); FWD_D=$(free_port); RELAY=$(free_port)
CTL=$T/ctl.sock; CTL2=$T/ctl2.sock
RK=${RESUME_KEYS:-1}

# --- helpers ---

# (rnd, pace, lines, since, wait_since, positive, size, ms_since: lib.sh)
# kill_carrier [SIDE]: ss -K the established TCP connections between an
# agent and the main node's grant ports, from the agent's end (SIDE
# dport), warrend's (sport) or either at random; prints how many sockets
# it destroyed.
kill_carrier() {
	_side=${1:-$(shuf -n 1 -e dport sport)}
	ss -HK -tn state established "( $_side >= :$GLO and $_side <= :$GHI )" 2>/dev/null |
	    grep -c .
}
# forge_resume OUT [IN]: a RESUME-shaped datagram with a valid mac1 for
# the node's key and a zero mac2 (docs/PROTOCOL.md 4.3, 14.2), so that it
# passes the cheap checks: with IN (a captured RESUME), IN with one byte
# of its Noise message changed; without, the right header and random
# contents.  OUT is empty if IN cannot be read.
forge_resume() {
	perl -MDigest::SHA=sha256,hmac_sha256 -MMIME::Base64 -e '
		my ($pubf, $in) = @ARGV;
		open(my $f, "<", $pubf) or die "forge: $pubf: $!\n";
		my $k = sha256("mac1----" . decode_base64(scalar <$f>));
		my $p;
		if (defined $in) {
			open(my $g, "<:raw", $in) or die "forge: $in: $!\n";
			local $/; $p = <$g>;
			die "forge: $in: not 184 bytes\n" unless length($p) == 184;
			$p = substr($p, 0, 152);
			substr($p, 100, 1) ^= "\x01";
		} else {
			$p = pack("CCn", 4, 1, 0) .
			    join("", map { chr(int(rand(256))) } 1 .. 148);
		}
		binmode STDOUT;
		print $p, substr(hmac_sha256($p, $k), 0, 16), "\0" x 16;' \
	    "$T/server.pub" ${2:+"$2"} > "$1" 2>> "$T/forge.err"
}
# probe FILE SRC MS: udp_probe of the main node (errors to probe.err);
# with its size first: "SIZE ANSWERED" ("184 0": a RESUME-sized datagram
# got no answer).
probe() { echo "$(size "$1") $(udp_probe "$1" 127.0.0.1 "$UDP" "$2" "$3" 2>> "$T/probe.err")"; }
# status_line SOCK NAME: the value of NAME in `warren status -s SOCK`.
status_line() { status_of "$1"; counter "$2"; }

# --- the node, the services, the data ---

# echo: both ways at once.  hold: echoes one connection, and when it ends
# (EOF or an error) writes "closed" to $T/hold.closed.
start_echo "$ECHO"
bg perl -MIO::Socket::INET -e '
	$SIG{PIPE} = "IGNORE"; alarm 300;
	my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	    Listen => 5, ReuseAddr => 1) or die "hold: $!\n";
	my $c = $l->accept; my $b; my $ok = 1;
	while ($ok) {
		my $k = sysread($c, $b, 65536);
		last unless $k;
		my $off = 0;
		while ($off < $k) {
			my $w = syswrite($c, $b, $k - $off, $off);
			if (!defined $w) { $ok = 0; last }
			$off += $w;
		}
	}
	open(my $f, ">", $ARGV[1]); print $f "closed\n"; close $f;' "$HOLD" "$T/hold.closed"
wait_port "$HOLD"
# resetter: echoes one connection until $T/f.reset exists, then resets it
# (SO_LINGER 0) and writes "reset" to $T/f.done.
bg perl -MIO::Socket::INET -MIO::Select -MSocket -e '
	$SIG{PIPE} = "IGNORE"; alarm 300;
	my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	    Listen => 5, ReuseAddr => 1) or die "resetter: $!\n";
	my $c = $l->accept; my $s = IO::Select->new($c); my $b;
	until (-e $ARGV[1]) {
		next unless $s->can_read(0.1);
		my $k = sysread($c, $b, 65536);
		last unless $k;
		syswrite($c, $b, $k);
	}
	setsockopt($c, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0));
	close $c;
	open(my $f, ">", $ARGV[2]); print $f "reset\n"; close $f;' \
    "$RESETTER" "$T/f.reset" "$T/f.done"
wait_port "$RESETTER"

# srv_conf FILE UDP GLO GHI CTL KEY=VALUE...: a node on 127.0.0.1 and
# $NODE with a control socket and extra [server] keys.
srv_conf() {
	f=$1; port=$2; lo=$3; hi=$4; ctl=$5; shift 5
	server_conf "$f" "$port" "$lo" "$hi" echo=127.0.0.1:$ECHO hold=127.0.0.1:$HOLD \
	    resetter=127.0.0.1:$RESETTER
	{
		echo "control = $ctl"
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} > "$T/extra"
	sed -i "s|^listen = .*|listen = 127.0.0.1:$port, $NODE:$port|; /^\[server\]/r $T/extra" "$f"
}
# cli_conf FILE NODEHOST:PORT KEY=VALUE...: the client's file, info level.
cli_conf() {
	f=$1; hp=$2; shift 2
	NODE_HOST=${hp%:*} client_conf "$f" "${hp##*:}"
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done > "$T/extra"
	sed -i "/^\[client\]/r $T/extra" "$f"
}
if [ "$RK" = 1 ]; then
	SRV_KEYS="dead_busy=2"; SRV2_KEYS="dead_busy=2 linger=3"
	CLI_KEYS="dead_busy=2 resume_timeout=60"; CLI2_KEYS="dead_busy=2 resume_timeout=5"
else
	SRV_KEYS=""; SRV2_KEYS=""; CLI_KEYS=""; CLI2_KEYS=""
fi
srv_conf "$T/server.conf" "$UDP" $GLO $GHI "$CTL" $SRV_KEYS
srv_conf "$T/linger.conf" "$UDP2" $GLO2 $GHI2 "$CTL2" $SRV2_KEYS
cli_conf "$T/lo.conf" "127.0.0.1:$UDP" $CLI_KEYS
cli_conf "$T/relay.conf" "127.0.0.1:$RELAY" $CLI_KEYS
cli_conf "$T/out.conf" "$NODE:$UDP" $CLI_KEYS
cli_conf "$T/out-linger.conf" "$NODE:$UDP2" $CLI2_KEYS

if ! "$BIN/warrend" -c "$T/server.conf" --check > "$T/check.out" 2>&1; then
	echo "Bail out! warrend rejects the config (linger, dead_busy?): $(head -n 1 "$T/check.out")"
	exit 1
fi
check "warrend starts" start_warrend "$T/server.conf"
W=$WARREND_PID

rnd 100M > "$T/data100"
head -c 64M "$T/data100" > "$T/data64"
SHA100=$(sha "$T/data100"); SHA64=$(sha "$T/data64")
MiB=1048576

# ---------------------------------------------------------------------
# (a) RST: ss -K of the carrier, 5 times at random moments, while 64 MiB
# go both ways through warren forward (paced to 16 MiB/s, so that the
# transfer lasts ~4 s).
bg "$BIN/warren" forward -c "$T/lo.conf" "127.0.0.1:$FWD" echo 2> "$T/a-agent.log"
FPID=$LASTPID
wait_port "$FWD"
xfer_a() {
	{ pace $((16 * MiB)) < "$T/data64" |
	    timeout -k 5 90 socat -b 262144 -t 30 - TCP:127.0.0.1:$FWD 2> "$T/a-socat.err"
	    echo $? > "$T/a.rc"; } | sha - > "$T/a.sha.tmp"
	mv "$T/a.sha.tmp" "$T/a.sha"
}
# killer N: N kills, 100-600 ms apart, while the transfer runs; a line
# "kill I SIDE DESTROYED" for each.
killer() {
	_i=0
	while [ $_i -lt "$1" ] && [ ! -e "$T/a.sha" ]; do
		sleep "$(awk -v ms="$(shuf -i 100-600 -n 1)" 'BEGIN { printf "%.3f", ms / 1000 }')"
		[ -e "$T/a.sha" ] && break
		_i=$((_i + 1))
		_s=$(shuf -n 1 -e dport sport)
		echo "kill $_i $_s $(kill_carrier "$_s")"
	done > "$T/kills"
}
W0=$(lines "$T/warrend.log")
bg xfer_a
XA=$LASTPID
wait_since "$T/warrend.log" "$W0" "event=carrier_up .*service=echo" 10
killer 5
wait_for "$T/a.sha" . 100
diag "(a) kills (index, side, sockets destroyed): $(tr '\n' ';' < "$T/kills")"
hits=$(awk '$4 > 0' "$T/kills" | grep -c .)
check "(a) the ss -K loop destroyed a carrier at least once ($hits of $(grep -c . "$T/kills"))" \
    positive "$hits"
is "$(cat "$T/a.sha" 2>/dev/null)" "$SHA64" "(a) 64 MiB echoed through the carrier kills, bit-exact"
is "$(cat "$T/a.rc" 2>/dev/null)" 0 "(a) socat saw no error (exit 0)"
check "(a) warren forward is still running" alive "$FPID"
check "(a) the agent logged event=carrier_lost with a reason" \
    grep -q 'level=info .*event=carrier_lost local=[^ ]* .*reason="' "$T/a-agent.log"
check "(a) the agent logged event=resumed (node, carrier number)" \
    grep -q 'level=info .*event=resumed local=[^ ]* .*node=[^ ]*:[0-9][0-9]* .*carrier=[1-9]' "$T/a-agent.log"
diag "(a) agent: $(count "$T/a-agent.log" 'event=carrier_lost') carrier_lost, $(count "$T/a-agent.log" 'event=resumed ') resumed"
is "$(count "$T/a-agent.log" 'level=error')" 0 "(a) the agent logged no error"
check "(a) warrend logged event=session_resumed" \
    grep -q "event=session_resumed peer=127.0.0.1:[0-9]* .*service=echo .*carrier=[1-9]" "$T/warrend.log"
check "(a) warrend logged event=carrier_lost with a reason" \
    grep -q 'event=carrier_lost peer=[^ ]* .*service=echo .*reason="' "$T/warrend.log"
check "(a) warrend counts resumes > 0" positive "$(status_line "$CTL" resumes)"
# The session has ended (socat closed): nothing is left detached.
n=50
while [ $n -gt 0 ] && [ "$(status_line "$CTL" sessions_detached)" != 0 ]; do
	sleep 0.1; n=$((n - 1)); done
is "$(status_line "$CTL" sessions_detached)" 0 "(a) afterwards: sessions_detached 0"
out=$(echo after | timeout 20 socat -t 5 - TCP:127.0.0.1:$FWD 2>/dev/null)
is "$out" after "(a) the same warren forward serves a new session"
stop "$XA"

# ---------------------------------------------------------------------
# (b) The link cut for 5 s: 100 MiB both ways through warren connect in
# the outside namespace (paced to 16 MiB/s).
# xfer_out NAME FILE RATE SERVICE CONF: FILE through `warren connect` in
# the outside namespace: $T/NAME.sha (when done), NAME.rc, NAME-agent.log.
xfer_out() {
	{ pace "$3" < "$2" |
	    timeout -k 5 90 nsenter -t "$PEER_PID" -n "$BIN/warren" connect -c "$5" "$4" \
	    2> "$T/$1-agent.log"
	    echo $? > "$T/$1.rc"; } | sha - > "$T/$1.sha.tmp"
	mv "$T/$1.sha.tmp" "$T/$1.sha"
}
W0=$(lines "$T/warrend.log")
bg xfer_out b "$T/data100" $((16 * MiB)) echo "$T/out.conf"
XB=$LASTPID
check "(b) the client's carrier comes from $A" \
    wait_since "$T/warrend.log" "$W0" "event=carrier_up peer=$A:.*service=echo" 10
sleep 1.5
W1=$(lines "$T/warrend.log")
t0=$(now_ms)
in_peer ip link set wpeer0 down
check "(b) the agent logs carrier_lost (with a reason) within 10 s of the cut" \
    wait_since "$T/b-agent.log" 0 'level=info .*event=carrier_lost local=[^ ]* .*reason="' 10 "$T/b.sha"
ta=$(ms_since "$t0")
# The node's bound depends on what it had in flight at the cut: dead_busy
# (2 s) if the client had not acknowledged all it sent, else three
# keepalives (15 s).  At 64 KiB every 4 ms it is usually the first; on a
# loaded machine the client can have acknowledged everything just before.
if wait_since "$T/warrend.log" "$W1" "event=carrier_lost peer=$A:.*service=echo .*reason=\"" 20 "$T/b.sha"; then
	ok "(b) warrend logs carrier_lost (with a reason) within 20 s of the cut"
else
	not_ok "(b) warrend logs carrier_lost (with a reason) within 20 s of the cut"
	# On stderr, so that prove shows it: what the node did instead.
	echo "16-resume.t (b): warrend's log since the cut:" >&2
	since "$T/warrend.log" "$W1" | tail -n 30 >&2
	echo "16-resume.t (b): warren status:" >&2
	"$BIN/warren" status -s "$CTL" >&2 2>&1
fi
diag "(b) carrier_lost after the cut: agent $ta ms, warrend $(ms_since "$t0") ms"
left=$(( 5000 - $(ms_since "$t0") )); [ $left -gt 0 ] && sleep "$(awk -v ms=$left 'BEGIN { printf "%.3f", ms / 1000 }')"
in_peer ip link set wpeer0 up
t1=$(now_ms)
if wait_since "$T/b-agent.log" 0 'event=resumed ' 30 "$T/b.sha"; then
	ok "(b) the agent resumes after the link is back (within 30 s)"
	diag "(b) resumed $(ms_since "$t1") ms after the link came back"
else
	not_ok "(b) the agent resumes after the link is back (within 30 s)"
fi
wait_for "$T/b.sha" . 100
is "$(cat "$T/b.sha" 2>/dev/null)" "$SHA100" "(b) 100 MiB through a 5 s link cut, bit-exact"
is "$(cat "$T/b.rc" 2>/dev/null)" 0 "(b) warren connect exits 0"
check "(b) warrend logged session_resumed from $A" \
    sh -c "tail -n +$((W1 + 1)) '$T/warrend.log' | grep -q 'event=session_resumed peer=$A:[0-9]* service=echo carrier=[1-9]'"
is "$(count "$T/b-agent.log" 'level=error')" 0 "(b) the agent logged no error"
stop "$XB"

# ---------------------------------------------------------------------
# (c) Roaming: the client gets B and loses A mid-transfer.
W0=$(lines "$T/warrend.log")
bg xfer_out c "$T/data64" $((16 * MiB)) echo "$T/out.conf"
XC=$LASTPID
check "(c) the client's carrier comes from $A" \
    wait_since "$T/warrend.log" "$W0" "event=carrier_up peer=$A:.*service=echo" 10
sleep 1.5
in_peer ip addr add $B/24 dev wpeer0
in_peer ip addr del $A/24 dev wpeer0
like "$(in_peer ip -4 -o addr show dev wpeer0)" "inet $B/" "(c) the client now has $B"
check "(c) the client no longer has $A" sh -c "! nsenter -t $PEER_PID -n ip -4 -o addr show dev wpeer0 | grep -q 'inet $A/'"
check "(c) the agent resumes (within 30 s)" wait_since "$T/c-agent.log" 0 'event=resumed ' 30 "$T/c.sha"
wait_for "$T/c.sha" . 100
is "$(cat "$T/c.sha" 2>/dev/null)" "$SHA64" "(c) 64 MiB across an address change, bit-exact"
is "$(cat "$T/c.rc" 2>/dev/null)" 0 "(c) warren connect exits 0"
check "(c) warrend's session_resumed names the new address $B" \
    sh -c "tail -n +$((W0 + 1)) '$T/warrend.log' | grep -q 'event=session_resumed peer=$B:[0-9]* service=echo carrier=[1-9]'"
check "(c) the agent logged carrier_lost" grep -q 'event=carrier_lost ' "$T/c-agent.log"
is "$(count "$T/c-agent.log" 'level=error')" 0 "(c) the agent logged no error"
stop "$XC"

# ---------------------------------------------------------------------
# (d) Bad RESUMEs.  A relay in front of the node records every RESUME.
bg perl "$TOP/scripts/udp-capture.pl" "$RELAY" "$UDP" "$T/resume" 4 > "$T/capture.out"
CAP=$LASTPID
wait_udp "$RELAY"
bg "$BIN/warren" forward -c "$T/relay.conf" "127.0.0.1:$FWD_D" echo 2> "$T/d-agent.log"
FPID_D=$LASTPID
wait_port "$FWD_D"
xfer_d() {
	{ pace $((4 * MiB)) < "$T/data64" | head -c $((32 * MiB)) |
	    timeout -k 5 90 socat -b 262144 -t 30 - TCP:127.0.0.1:$FWD_D 2> "$T/d-socat.err"
	    echo $? > "$T/d.rc"; } | sha - > "$T/d.sha.tmp"
	mv "$T/d.sha.tmp" "$T/d.sha"
}
SHA32=$(head -c $((32 * MiB)) "$T/data64" | sha -)
W0=$(lines "$T/warrend.log")
bg xfer_d
XD=$LASTPID
wait_since "$T/warrend.log" "$W0" "event=carrier_up .*service=echo" 10
sleep 1
n=30; hit=0
while [ $n -gt 0 ] && [ "$hit" = 0 ]; do hit=$(kill_carrier dport); sleep 0.1; n=$((n - 1)); done
check "(d) the carrier through the relay was killed" positive "$hit"
check "(d) the agent resumes through the relay" wait_since "$T/d-agent.log" 0 'event=resumed ' 10 "$T/d.sha"
is "$(size "$T/resume.1")" 184 "(d) the relay captured a RESUME (184 bytes)"
is "$(od -An -tu1 -N2 "$T/resume.1" 2>/dev/null | tr -s ' ')" " 4 1" "(d) ... type 4, version 1"
W1=$(lines "$T/warrend.log")
D0=$(status_line "$CTL" resume_drops)
forge_resume "$T/tampered.bin" "$T/resume.1"
forge_resume "$T/forged.bin"
head -c 184 /dev/urandom > "$T/junk.bin"
is "$(probe "$T/resume.1" 127.0.0.9 2000)" "184 0" \
    "(d) the used RESUME replayed from another address: no answer in 2 s"
is "$(probe "$T/resume.1" 127.0.0.1 2000)" "184 0" \
    "(d) the used RESUME replayed from the relay's address: no answer in 2 s"
is "$(probe "$T/tampered.bin" 127.0.0.9 2000)" "184 0" \
    "(d) the captured RESUME with one Noise byte changed (mac1 remade): no answer"
is "$(probe "$T/forged.bin" 127.0.0.9 2000)" "184 0" \
    "(d) a forged RESUME (type 4, version 1, valid mac1, random body): no answer"
is "$(probe "$T/junk.bin" 127.0.0.9 1000)" "184 0" "(d) 184 random bytes: no answer"
D1=$(status_line "$CTL" resume_drops)
diag "(d) resume_drops: '$D0' before, '$D1' after"
check "(d) warrend counts the dropped RESUMEs (resume_drops moved)" \
    positive "$(( ${D1:-0} - ${D0:-0} ))"
check "(d) warrend logs resume_drop with a reason, naming the source" \
    sh -c "tail -n +$((W1 + 1)) '$T/warrend.log' | grep -q 'event=resume_drop reason=[^ ]* .*src=127.0.0.9'"
wait_for "$T/d.sha" . 100
is "$(cat "$T/d.sha" 2>/dev/null)" "$SHA32" "(d) the live session's 32 MiB arrived bit-exact"
is "$(cat "$T/d.rc" 2>/dev/null)" 0 "(d) socat saw no error"
is "$(since "$T/warrend.log" "$W1" | grep -c 'event=carrier_lost ')" 0 \
    "(d) the bad RESUMEs did not disturb the live carrier"
check "(d) the session ended cleanly (end=done)" \
    wait_since "$T/warrend.log" "$W0" 'event=session_end .*service=echo .*end=done' 10
# The newest RESUME of the session, now that the session is gone.
last=$(ls "$T"/resume.[0-9]* 2>/dev/null | sed 's/.*\.//' | sort -n | tail -n 1)
D2=$(status_line "$CTL" resume_drops)
is "$(probe "$T/resume.${last:-1}" 127.0.0.9 2000)" "184 0" \
    "(d) a RESUME for a session that ended: no answer"
D3=$(status_line "$CTL" resume_drops)
check "(d) ... and it is counted" positive "$(( ${D3:-0} - ${D2:-0} ))"
is "$(count "$T/d-agent.log" 'level=error')" 0 "(d) the agent logged no error"
stop "$XD" "$FPID_D" "$CAP"

# ---------------------------------------------------------------------
# (e) Linger: a node with linger = 3; the client (resume_timeout = 5)
# cannot reach it for longer.
bg "$BIN/warrend" -c "$T/linger.conf" 2> "$T/warrend-linger.log"
W2=$LASTPID
check "(e) warrend (linger = 3) starts" wait_for "$T/warrend-linger.log" "event=started" 10
xfer_e() {
	pace $MiB < /dev/zero |
	    { nsenter -t "$PEER_PID" -n "$BIN/warren" connect -c "$T/out-linger.conf" hold \
	    2> "$T/e-agent.log"; echo $? > "$T/e.rc"; } | wc -c > "$T/e.count.tmp"
	mv "$T/e.count.tmp" "$T/e.count"
}
bg xfer_e
XE=$LASTPID
check "(e) the session is up" wait_for "$T/warrend-linger.log" "event=carrier_up peer=[^ ]* .*service=hold" 10
sleep 1
t0=$(now_ms)
in_peer ip link set wpeer0 down
check "(e) warrend notices the dead carrier" \
    wait_for "$T/warrend-linger.log" "event=carrier_lost peer=[^ ]* .*service=hold" 10
check "(e) warren status: the session is detached (sessions_detached >= 1)" \
    positive "$(status_line "$CTL2" sessions_detached)"
check "(e) warrend ends the session after linger, within 15 s of the cut" \
    wait_for "$T/warrend-linger.log" 'event=session_end .*reason="no carrier for [0-9]* s (linger)"' 15
diag "(e) session_end $(ms_since "$t0") ms after the cut"
check "(e) ... and closes its backend connection" wait_for "$T/hold.closed" closed 10
is "$(status_line "$CTL2" sessions_detached)" 0 "(e) then sessions_detached 0"
# The node is reachable again: the agent's RESUMEs now get silence.
in_peer ip link set wpeer0 up
check "(e) the agent gives up and closes its output (the reader sees EOF) within 30 s of the cut" \
    wait_for "$T/e.count" . 30
diag "(e) the agent's output closed $(ms_since "$t0") ms after the cut"
is "$(grep -c 'level=error .*event=resume_failed' "$T/e-agent.log")" 1 \
    "(e) the agent logged one level=error event=resume_failed line"
is "$(count "$T/e-agent.log" 'event=resumed ')" 0 "(e) the agent never resumed the ended session"
check "(e) warren connect exits non-zero" sh -c "[ -s '$T/e.rc' ] && [ \"\$(cat '$T/e.rc')\" != 0 ]"
diag "(e) warren connect exit $(cat "$T/e.rc" 2>/dev/null); node resume_drops $(status_line "$CTL2" resume_drops)"
stop "$XE" "$W2"

# ---------------------------------------------------------------------
# (f) The backend resets while the session is detached: the client hears
# why when it resumes, instead of silence until resume_timeout (60 s).
xfer_f() {
	pace 65536 < /dev/zero |
	    { nsenter -t "$PEER_PID" -n "$BIN/warren" connect -c "$T/out.conf" resetter \
	    2> "$T/f-agent.log"; echo $? > "$T/f.rc"; } > /dev/null
}
bg xfer_f
XF=$LASTPID
check "(f) the session is up" wait_for "$T/warrend.log" "event=carrier_up peer=[^ ]* .*service=resetter" 10
sleep 1
in_peer ip link set wpeer0 down
check "(f) warrend notices the dead carrier" \
    wait_for "$T/warrend.log" "event=carrier_lost peer=[^ ]* service=resetter" 15
touch "$T/f.reset"
check "(f) the backend resets its connection" wait_for "$T/f.done" reset 10
check "(f) warrend says the session ends when its client resumes" \
    wait_for "$T/warrend.log" "level=warn event=backend_error service=resetter .*the session ends when its client resumes" 10
t0=$(now_ms)
in_peer ip link set wpeer0 up
check "(f) the agent resumes and exits within 30 s of the link's return" wait_for "$T/f.rc" . 30
diag "(f) the agent exited $(ms_since "$t0") ms after the link came back, status $(cat "$T/f.rc" 2>/dev/null)"
check "(f) ... with a non-zero status" sh -c "[ -s '$T/f.rc' ] && [ \"\$(cat '$T/f.rc')\" != 0 ]"
check "(f) ... and a line naming the backend's reset" \
    grep -q 'level=error .*reset' "$T/f-agent.log"
stop "$XF"

is "$(count "$T/warrend.log" 'level=error')" 0 "warrend logged no error"
is "$(count "$T/warrend.log" 'event=worker_exit')" 0 \
    "warrend's worker never exited (nothing here kills it)"
check "warrend is still running" alive "$W"
