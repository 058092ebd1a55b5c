#!/bin/sh
# No client can exhaust a node: a key's max_sessions and the node's global
# session cap (sized from its descriptor limit) answer BUSY while the node
# keeps serving others and its control socket; one wire answer for a
# service that does not exist and one this key may not use; the control
# socket closes idle connections and caps how many it holds; an empty
# datagram is counted as malformed.
. "$(dirname "$0")/lib.sh"
plan 37
make_keys other
ECHO=$(free_port); UDP=$(free_port); UDP2=$(free_port)
start_echo "$ECHO"

# caps_conf FILE UDPPORT CONTROL MAX_SESSIONS_OF_client
caps_conf() {
	cat > "$1" <<EOF
[server]
private_key = $T/server.key
listen = 127.0.0.1:$2
grant_ports = 36000-36999
grant_timeout = 5
keepalive = 5
log_level = debug
control = $3
pending_per_ip = 64
[service echo]
connect = 127.0.0.1:$ECHO
[service secret]
connect = 127.0.0.1:$ECHO
[client client]
public_key = $(cat "$T/client.pub")
services = echo
max_sessions = $4
[client other]
public_key = $(cat "$T/other.pub")
services = echo, secret
EOF
}
caps_conf "$T/server.conf" "$UDP" "$T/ctl.sock" 3
client_conf "$T/client.conf" "$UDP"
client_conf "$T/other.conf" "$UDP" other
check "warrend starts" start_warrend "$T/server.conf"

# --check warns when grant_ports overlaps the kernel's ephemeral ports.
# (cat: a shell's read takes a byte at a time, which this file does not
# give past its first)
set -- $(cat /proc/sys/net/ipv4/ip_local_port_range); elo=$1; ehi=$2
overlaps() { [ "$1" -le "$ehi" ] && [ "$elo" -le "$2" ]; }
n=$(grep -n '^grant_ports' "$T/server.conf" | cut -d: -f1)
out=$("$BIN/warrend" -c "$T/server.conf" --check 2>&1)
if overlaps 36000 36999; then
	like "$out" "level=warn event=config msg=\"$T/server.conf:$n: grant_ports = 36000-36999 overlaps the kernel's ephemeral ports $elo-$ehi" \
	    "--check warns, with file:line, that grant_ports overlaps $elo-$ehi"
else
	printf '%s\n' "$out" > "$T/ports.check"
	check "--check: 36000-36999 is outside $elo-$ehi: no warning" \
	    sh -c "! grep -q overlaps '$T/ports.check'"
fi
grep -v '^grant_ports' "$T/server.conf" > "$T/default.conf"
out=$("$BIN/warrend" -c "$T/default.conf" --check 2>&1)
if overlaps 61000 63999; then
	like "$out" "msg=\"$T/default.conf: the default grant_ports 61000-63999 overlaps" \
	    "--check warns, naming the file, that the default range overlaps $elo-$ehi"
else
	printf '%s\n' "$out" > "$T/default.check"
	check "--check: the default 61000-63999 is outside $elo-$ehi: ok, no warning" \
	    sh -c "grep -q 'default.conf: ok' '$T/default.check' && ! grep -q overlaps '$T/default.check'"
fi

# hold NAME CONF: a session that stays open (its stdin stays open) until
# it is stopped; its stderr goes to $T/NAME.err.  Sets HOLD_PID.
hold() {
	bg sh -c "sleep 120 | exec '$BIN/warren' connect -c '$2' echo > /dev/null 2> '$T/$1.err'"
	HOLD_PID=$LASTPID
}
# once CONF [SERVICE]: one short session; prints what came back, exit status
# in RC, stderr in $T/once.err.
once() {
	OUT=$(echo hi | timeout 20 "$BIN/warren" connect -c "$1" "${2:-echo}" 2> "$T/once.err"); RC=$?
}
# wait_counter SOCKET NAME VALUE [SECONDS]: until status shows NAME = VALUE.
wait_counter() {
	_n=$(( ${4:-15} * 10 ))
	while [ $_n -gt 0 ]; do
		status_of "$1" && [ "$(counter "$2")" = "$3" ] && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

# --- A key's max_sessions ---
hold h1 "$T/client.conf"; H1=$HOLD_PID
hold h2 "$T/client.conf"
hold h3 "$T/client.conf"
check "three sessions of client are up (its max_sessions)" \
    wait_counter "$T/ctl.sock" sessions_live 3
like "$(cat "$T/status.out")" "^client_sessions:client 3\$" \
    "warren status shows the sessions client holds"
once "$T/client.conf"
check "a fourth session of client: non-zero exit" [ "$RC" -ne 0 ]
like "$(cat "$T/once.err")" "level=error event=busy .*service=echo.*busy" \
    "a fourth session of client: the client reports BUSY"
like "$(cat "$T/warrend.log")" "level=warn event=busy src=127.0.0.1:[0-9]* client=client cap=max_sessions limit=3" \
    "warrend logged event=busy naming the client and cap=max_sessions"
once "$T/other.conf"
is "$OUT $RC" "hi 0" "another key still gets a session meanwhile"
check "the control socket still answers" status_of "$T/ctl.sock"
check "busy_max_sessions counts the refusal" \
    [ "$(counter busy_max_sessions)" -ge 1 ]
check "sessions_held: client's three (other's has ended)" \
    wait_counter "$T/ctl.sock" sessions_held 3
# A session that ends gives its place back.
stop "$H1"
check "an ended session is no longer held" \
    wait_counter "$T/ctl.sock" sessions_held 2
once "$T/client.conf"
is "$OUT $RC" "hi 0" "client gets a session again once one of its three ended"

# --- One wire answer for "no such service" and "not allowed" ---
once "$T/client.conf" secret
denied=$(sed 's/^[^ ]* //; s/secret/SVC/g' "$T/once.err"); rc1=$RC
once "$T/client.conf" nosuch
nosuch=$(sed 's/^[^ ]* //; s/nosuch/SVC/g' "$T/once.err"); rc2=$RC
check "both fail" [ "$rc1" -ne 0 -a "$rc2" -ne 0 ]
like "$denied" "event=service_denied .*service SVC does not exist or this client key may not use it" \
    "the client's message covers both cases"
is "$nosuch" "$denied" "the client sees the same answer for both (but the name)"
like "$(cat "$T/warrend.log")" "level=warn event=denied src=127.0.0.1:[0-9]* client=client service=secret" \
    "warrend's log says denied for the service that exists"
like "$(cat "$T/warrend.log")" "level=warn event=no_service src=127.0.0.1:[0-9]* client=client service=\"nosuch\"" \
    "warrend's log says no_service for the one that does not"

# --- The control socket: idle deadline and cap ---
ms=$(perl -MIO::Socket::UNIX -MTime::HiRes=time -e '
	alarm 30;
	my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n";
	my $t = time; sysread($s, my $b, 1); printf "%d\n", (time - $t) * 1000;' "$T/ctl.sock")
diag "an idle control connection was closed after ${ms:-?} ms"
check "an idle control connection is closed after about 5 s" between "${ms:-0}" 4000 8000
perl -MIO::Socket::UNIX -MIO::Select -e '
	alarm 30;
	my @s;
	for (1 .. 20) {
		push @s, IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n";
	}
	sleep 1;
	my ($closed, $open) = (0, 0);
	for my $s (@s) {
		my $eof = IO::Select->new($s)->can_read(0) && !sysread($s, my $b, 1);
		$eof ? $closed++ : $open++;
	}
	print "$closed $open\n";' "$T/ctl.sock" > "$T/ctlcap.out"
read closed open < "$T/ctlcap.out"
diag "of 20 idle control connections, $closed were closed at once, $open kept"
check "past the cap, control connections are closed at once (>= 4 of 20)" \
    [ "${closed:-0}" -ge 4 ]
check "at most 16 control connections are held" [ "${open:-99}" -le 16 ]
like "$(cat "$T/warrend.log")" "event=control_refused max=16" \
    "warrend logged control_refused"
check "the control socket answers again once they are closed" \
    status_of "$T/ctl.sock"
check "control_refused counts them" [ "$(counter control_refused)" -ge 4 ]

# --- A zero-length datagram is malformed ---
status_of "$T/ctl.sock"; m0=$(counter drop_malformed)
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(Proto => "udp", PeerAddr => "127.0.0.1",
	    PeerPort => $ARGV[0]) or die "socket: $!\n";
	defined(send($s, "", 0)) or die "send: $!\n";' "$UDP"
check "an empty datagram is logged as malformed" \
    wait_for "$T/warrend.log" "event=drop reason=malformed src=127.0.0.1:[0-9]* len=0" 5
status_of "$T/ctl.sock"; m1=$(counter drop_malformed)
check "drop_malformed counts it ($m0 -> $m1)" [ "${m1:-0}" -gt "${m0:-0}" ]
check "warrend is still running" alive "$WARREND_PID"

# --- The global cap, from the descriptor limit (soft 40, hard 80) ---
caps_conf "$T/server2.conf" "$UDP2" "$T/ctl2.sock" 1000
client_conf "$T/client2.conf" "$UDP2"
client_conf "$T/other2.conf" "$UDP2" other
bg prlimit --nofile=40:80 "$BIN/warrend" -c "$T/server2.conf" 2> "$T/warrend2.log"
W2=$LASTPID
check "warrend starts under prlimit --nofile=40:80" \
    wait_for "$T/warrend2.log" "event=started" 10
status_of "$T/ctl2.sock"
is "$(counter fd_limit)" 80 "warrend raised its soft descriptor limit to the hard one"
cap=$(counter sessions_cap)
diag "sessions_cap under a limit of 80 descriptors: ${cap:-?}"
check "sessions_cap leaves room for a few sessions (1..39)" between "${cap:-0}" 1 39
hpids=""
i=0
while [ "$i" -lt $(( ${cap:-0} + 4 )) ]; do
	hold g$i "$T/client2.conf"; hpids="$hpids $HOLD_PID"
	i=$((i + 1)); sleep 0.05
done
wait_counter "$T/ctl2.sock" sessions_live "$cap" 20
is "$(counter sessions_held)" "$cap" "the node holds exactly sessions_cap sessions, no more"
nbusy=$(grep -l "event=busy" "$T"/g*.err 2>/dev/null | wc -l)
check "the sessions past the cap got BUSY ($nbusy clients)" [ "$nbusy" -ge 1 ]
like "$(cat "$T/warrend2.log")" "level=warn event=busy src=127.0.0.1:[0-9]* client=client cap=global limit=$cap" \
    "warrend logged event=busy cap=global"
check "no descriptor ran out (no 'too many open files')" \
    sh -c "! grep -qi 'too many open files' '$T/warrend2.log'"
check "the control socket still answers at the cap" status_of "$T/ctl2.sock"
stop $hpids
check "the sessions' places are given back when they end" \
    wait_counter "$T/ctl2.sock" sessions_held 0
