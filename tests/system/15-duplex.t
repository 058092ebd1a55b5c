#!/bin/sh
# Both directions at once, as real programs make traffic: the two
# directions of a session never wait on each other.
#  (a) direction independence: the application writes 100 MiB upstream and
#      reads nothing meanwhile, while the backend sends 100 MiB downstream;
#      the upload completes bit-exact, then the application reads the
#      download, bit-exact too (plain TCP passes this);
#  (b) the demo's pattern, repeated: bidirectional 200 MiB echo transfers
#      with a client that blocks in large writes (socat -b 262144), each
#      bit-exact and none stalled;
#  (c) a stall is never silent: a backend that reads nothing for longer
#      than stall_timeout makes warrend log one "stall" line naming the
#      side, "warren status" counts it, and it ends when bytes move again.
. "$(dirname "$0")/lib.sh"
# Sanitizer builds are several times slower: fewer repeats there.
if ldd "$BIN/warrend" | grep -q libasan; then RUNS=${DUPLEX_RUNS:-4}; else
	RUNS=${DUPLEX_RUNS:-20}; fi
MB=${DUPLEX_MB:-200}
plan $((10 + RUNS))
make_keys
UDP=$(free_port); DUP=$(free_port); ECHO=$(free_port); SLOW=$(free_port)
FWD=$(free_port); FWD_ECHO=$(free_port); FWD_SLOW=$(free_port)

# A program that writes everything before it reads anything (the client),
# and one that writes and reads at once (the backend).
cat > "$T/duplex.pl" <<'EOS'
# duplex.pl client PORT SEND_FILE RECV_SHA_FILE: connect; write all of
#   SEND_FILE with blocking writes, reading nothing; shut the write side,
#   write "sent" to RECV_SHA_FILE.sent; only then read to EOF and write the
#   SHA-256 of what came to RECV_SHA_FILE.
# duplex.pl server PORT SEND_FILE RECV_SHA_FILE: accept one connection;
#   send SEND_FILE and read at the same time (select); write the SHA-256
#   of what came to RECV_SHA_FILE when the peer's EOF arrives.
use strict; use IO::Socket::IP; use IO::Select; use Digest::SHA;
use Socket qw(SHUT_WR);
my ($mode, $port, $send, $out) = @ARGV;
alarm 240;
open(my $in, '<', $send) or die "$send: $!";
binmode $in;
my $sha = Digest::SHA->new(256);
my $buf;
sub done { open(my $f, '>', $_[0]) or die; print $f $_[1], "\n"; close $f; }
if ($mode eq 'client') {
	my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port)
	    or die "connect: $!";
	while (my $n = sysread($in, $buf, 1 << 20)) {
		my $off = 0;
		while ($off < $n) {
			my $w = syswrite($s, $buf, $n - $off, $off);
			die "write: $!" unless defined $w;
			$off += $w;
		}
	}
	shutdown($s, SHUT_WR);
	done("$out.sent", "sent");
	while (sysread($s, $buf, 1 << 20)) { $sha->add($buf); }
	done($out, $sha->hexdigest);
	exit 0;
}
my $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port,
    Listen => 1, ReuseAddr => 1) or die "listen: $!";
done("$out.ready", "ready");
my $s = $l->accept or die "accept: $!";
$s->blocking(0);
my ($pending, $eof_in, $eof_out) = ('', 0, 0);
while (!$eof_in || !$eof_out) {
	my $rs = IO::Select->new; my $ws = IO::Select->new;
	$rs->add($s) unless $eof_in;
	$ws->add($s) unless $eof_out;
	my ($r, $w) = IO::Select->select($rs, $ws, undef);
	if ($r && @$r) {
		my $n = sysread($s, $buf, 1 << 20);
		if (defined $n && $n == 0) { $eof_in = 1; done($out, $sha->hexdigest); }
		elsif (defined $n) { $sha->add($buf); }
	}
	if ($w && @$w) {
		if ($pending eq '') {
			my $n = sysread($in, $pending, 1 << 20);
			if (!$n) { shutdown($s, SHUT_WR); $eof_out = 1; next; }
		}
		my $k = syswrite($s, $pending);
		substr($pending, 0, $k) = '' if defined $k;
	}
}
exit 0;
EOS

# The data: pseudo-random, 100 MiB each way for (a), MB MiB for (b).
rnd() { openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" \
    -iv "$(openssl rand -hex 16)" < /dev/zero 2>/dev/null | head -c "$1"; }
rnd 100M > "$T/up"; rnd 100M > "$T/down"; rnd "${MB}M" > "$T/data"
UP=$(sha "$T/up"); DOWN=$(sha "$T/down"); WANT=$(sha "$T/data")

bg perl "$T/duplex.pl" server "$DUP" "$T/down" "$T/server.sha"
start_echo "$ECHO"
# slow: accepts one connection and reads nothing for 6 s, then counts.
bg perl -MIO::Socket::INET -e '
	my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	    Listen => 5, ReuseAddr => 1) or die "slow: $!\n";
	my $c = $l->accept; sleep 6; my ($n, $b) = (0);
	while (my $k = sysread($c, $b, 65536)) { $n += $k }
	open(my $f, ">", $ARGV[1]); print $f "$n\n"; close $f;' "$SLOW" "$T/slow.count"
wait_for "$T/server.sha.ready" ready 10; wait_port "$SLOW"

server_conf "$T/server.conf" "$UDP" 35000 35999 dup=127.0.0.1:$DUP \
    echo=127.0.0.1:$ECHO slow=127.0.0.1:$SLOW
sed -i "s|^\[server\]\$|[server]\ncontrol = $T/ctl.sock\nstall_timeout = 2|" \
    "$T/server.conf"
client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD dup 2> "$T/fwd.log"
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD_ECHO echo 2> "$T/fwd-echo.log"
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD_SLOW slow 2> "$T/fwd-slow.log"
wait_port "$FWD"; wait_port "$FWD_ECHO"; wait_port "$FWD_SLOW"

# (a) The client writes 100 MiB and reads nothing until it has; the
# backend sends 100 MiB meanwhile.
timeout 180 perl "$T/duplex.pl" client "$FWD" "$T/up" "$T/client.sha"
rc=$?
is "$(cat "$T/client.sha.sent" 2>/dev/null)" sent \
    "(a) the upload completed while the download waited unread"
wait_for "$T/server.sha" . 30
is "$(cat "$T/server.sha" 2>/dev/null)" "$UP" "(a) the upload is bit-exact at the backend"
is "$rc $(cat "$T/client.sha" 2>/dev/null)" "0 $DOWN" \
    "(a) then the download is bit-exact at the application"

# (b) The demo's pattern: the client blocks in 256 KiB writes while the
# echo comes back.
stalled=0
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	t0=$(now_ms)
	got=$(timeout 120 socat -b 262144 -t 10 TCP:127.0.0.1:$FWD_ECHO - < "$T/data" | sha -)
	t1=$(now_ms)
	is "$got" "$WANT" "(b) echo $i of $RUNS: $MB MiB both ways at once, bit-exact ($((t1 - t0)) ms)"
done
is "$(count "$T/warrend.log" 'event=stall ')" 0 "(b) no session stalled"

# (c) 8 MiB into a backend that reads nothing for 6 s, stall_timeout 2 s.
head -c 8388608 /dev/zero > "$T/8m"
timeout 60 socat -u OPEN:"$T/8m" TCP:127.0.0.1:$FWD_SLOW &
SOCAT=$!
wait_for "$T/warrend.log" "event=stall .*side=backend" 5
like "$(grep 'event=stall ' "$T/warrend.log")" "side=backend waiting_bytes=[1-9]" \
    "(c) warrend logged a stall naming the backend as the side not reading"
status_of "$T/ctl.sock"
like "$(cat "$T/status.out")" "^sessions_stalled 1$" "(c) warren status counts the stalled session"
wait "$SOCAT"
wait_for "$T/slow.count" . 20
is "$(cat "$T/slow.count" 2>/dev/null)" 8388608 "(c) after the stall every byte arrived"
wait_for "$T/warrend.log" "event=stall_end" 10
is "$(count "$T/warrend.log" 'event=stall ')" 1 "(c) one stall line for one stall"
is "$(count "$T/warrend.log" 'level=error')" 0 "warrend logged no error"
