#!/bin/sh
# Stalls that are not failures, and stops that must not hang:
#  (a) a backend that does not read for several keepalive periods: the
#      session waits (backpressure) and nothing is lost;
#  (b) a local application that does not read: the same, the other way;
#  (c) warren connect closes its output when the service closes, while its
#      input is still open: a pipe reader sees EOF, and so does a socket
#      that is both input and output (inetd / socat EXEC style);
#  (d) a backend that never answers the connect: the client gets a backend
#      error after 10 s, and warrend stops at once on SIGTERM meanwhile;
#  (e) warren forward (SIGTERM) or connect (SIGHUP) stopped while a session
#      is still being set up (a slow front-door path): the dial is given up
#      at once and the agent exits.
. "$(dirname "$0")/lib.sh"
plan 15
make_keys
UDP=$(free_port); SINK=$(free_port); SRC=$(free_port); HOLE=$(free_port)
FWD=$(free_port); SLOW=$(free_port); BYE=$(free_port)
MB=8
# Keepalive 1 s: a carrier silent for 3 s is dead.
KEEPALIVE=1 server_conf "$T/server.conf" "$UDP" 34000 34999 \
    sink=127.0.0.1:$SINK src=127.0.0.1:$SRC hole=127.0.0.1:$HOLE bye=127.0.0.1:$BYE
sed -i "s|^\[server\]\$|[server]\ncontrol = $T/ctl.sock|" "$T/server.conf"
client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"

# sink: accept one connection, read nothing for 5 s, then count to EOF.
bg perl -MIO::Socket::INET -e '
	my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	    Listen => 5, ReuseAddr => 1) or die "sink: $!\n";
	my $c = $l->accept; sleep 5; my ($n, $b) = (0);
	while (my $k = sysread($c, $b, 65536)) { $n += $k }
	open(my $f, ">", $ARGV[1]); print $f "$n\n"; close $f;' "$SINK" "$T/sink.count"
# src: send MB MiB to each connection, then close.
bg socat TCP-LISTEN:$SRC,bind=127.0.0.1,reuseaddr,fork \
    SYSTEM:"head -c $((MB * 1048576)) /dev/zero"
# bye: say bye and close.
bg socat TCP-LISTEN:$BYE,bind=127.0.0.1,reuseaddr,fork SYSTEM:"echo bye"
wait_port "$SINK"; wait_port "$SRC"; wait_port "$BYE"

# (a) Through warren connect: MB MiB into a backend that reads nothing for 5 s.
head -c $((MB * 1048576)) /dev/zero > "$T/in"
timeout 30 "$BIN/warren" connect -c "$T/client.conf" sink < "$T/in" > /dev/null 2> "$T/a-agent.log"
rc=$?
wait_for "$T/sink.count" . 10
is "$(cat "$T/sink.count") $rc" "$((MB * 1048576)) 0" \
    "(a) a backend that reads nothing for 5 s (keepalive 1 s) gets every byte"
is "$(count "$T/warrend.log" carrier_dead)" 0 "(a) warrend did not take the stall for a dead carrier"

# (b) Through warren forward: an application that reads nothing for 5 s.
bg "$BIN/warren" forward -c "$T/client.conf" "127.0.0.1:$FWD" src 2> "$T/forward.log"
FPID=$LASTPID
wait_port "$FWD"
n=$(perl -MIO::Socket::INET -e '
	my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0])
	    or die "app: $!\n";
	sleep 5; my ($n, $b) = (0);
	while (my $k = sysread($c, $b, 65536)) { $n += $k }
	print "$n\n";' "$FWD")
is "$n" "$((MB * 1048576))" "(b) an application that reads nothing for 5 s gets every byte"
is "$(count "$T/forward.log" carrier_dead)" 0 "(b) warren forward did not take the stall for a dead carrier"
stop "$FPID"

# (c) The service closes; warren connect's input stays open (sleep 6).
out=$(sleep 6 | "$BIN/warren" connect -c "$T/client.conf" bye 2> "$T/c.err" |
    timeout 4 sh -c 'cat; echo EOF')
is "$(echo $out)" "bye EOF" "(c) a pipe reading warren connect sees EOF when the service closes"
out=$(sleep 6 | timeout 4 socat - EXEC:"$BIN/warren connect -c $T/client.conf bye" 2> "$T/c2.err"
    echo "rc=$?")
is "$(echo $out)" "bye rc=0" "(c) a socket that is warren connect's input and output sees EOF too"

# (d) A backend whose accept queue is full: its connects hang.
bg perl -MSocket -MIO::Socket::INET -e '
	socket(my $l, PF_INET, SOCK_STREAM, 0) or die "hole: $!\n";
	setsockopt($l, SOL_SOCKET, SO_REUSEADDR, 1);
	bind($l, pack_sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die "hole: $!\n";
	listen($l, 0) or die "hole: $!\n";
	my @fill = map { IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $ARGV[0], Blocking => 0) } 1 .. 3;
	sleep 120;' "$HOLE"
wait_port "$HOLE"
t0=$(now_ms)
echo x | timeout 30 "$BIN/warren" connect -c "$T/client.conf" hole > /dev/null 2> "$T/d.err"
rc=$?
ms=$(( $(now_ms) - t0 ))
diag "(d) hole: exit $rc after $ms ms: $(cat "$T/d.err")"
check "(d) a backend that never answers: warren connect fails" [ "$rc" -ne 0 ]
like "$(cat "$T/d.err")" "backend 127.0.0.1:$HOLE: connection timed out" \
    "(d) ... with the backend's timeout in its error"
like "$(cat "$T/warrend.log")" "event=backend_error service=hole .*err=\"connection timed out\"" \
    "(d) warrend logs the backend error"
echo x | timeout 30 "$BIN/warren" connect -c "$T/client.conf" hole > /dev/null 2>&1 &
CPID=$!
wait_count "$T/warrend.log" "event=carrier_up.*service=hole" 2 10
kill -TERM "$WARREND_PID"
check "(d) warrend stops within 3 s on SIGTERM while a backend connect hangs" \
    wait_exit "$WARREND_PID" 3
wait "$CPID" 2>/dev/null

# (e) A slow front-door path; stop warren forward while the session is
# still being set up.  (The first warrend's log stays for a failure's dump.)
mv "$T/warrend.log" "$T/warrend-a-d.log"
check "warrend starts again" start_warrend "$T/server.conf"
udp_delay "$SLOW" "$UDP" 1000
client_conf "$T/slow.conf" "$SLOW"
FWD2=$(free_port)
bg "$BIN/warren" forward -c "$T/slow.conf" "127.0.0.1:$FWD2" bye 2> "$T/forward2.log"
FPID=$LASTPID
wait_port "$FWD2"
(sleep 8 | socat - TCP:127.0.0.1:$FWD2 > /dev/null 2>&1) &
sleep 0.5
kill -TERM "$FPID"
check "(e) warren forward exits within 3 s of SIGTERM with a session being set up" \
    wait_exit "$FPID" 3
is "$(count "$T/forward2.log" session_up)" 0 "(e) the late session was not started"
# The same for warren connect and SIGHUP (what ssh sends its ProxyCommand).
(sleep 8 | "$BIN/warren" connect -c "$T/slow.conf" bye > /dev/null 2> "$T/e2.err") &
sleep 0.5
CPID=$(pgrep -f "connect -c $T/slow.conf" | head -n 1)
kill -HUP "$CPID"
check "(e) warren connect exits within 3 s of SIGHUP while it sets its session up" \
    wait_exit "$CPID" 3
