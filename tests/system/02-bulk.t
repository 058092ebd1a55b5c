#!/bin/sh
# 1 GiB of random data through warren forward in each direction, with equal
# SHA-256 on both ends, and half-close in both directions.
. "$(dirname "$0")/lib.sh"
plan 17
SIZE=${BULK_SIZE:-1G}
make_keys
UDP=$(free_port); SINK=$(free_port); SRC=$(free_port); WC=$(free_port)
GREET=$(free_port); FWD_UP=$(free_port); FWD_DOWN=$(free_port)
FWD_WC=$(free_port); FWD_GREET=$(free_port)

# The data: pseudo-random (AES-CTR keystream under a random key), once.
openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" \
    -iv "$(openssl rand -hex 16)" < /dev/zero 2>/dev/null |
    head -c "$SIZE" > "$T/data"
WANT=$(sha "$T/data")
BYTES=$(stat -c %s "$T/data")
diag "data: $BYTES bytes, sha256 $WANT"

# Backends.  The sink hashes what it receives; the source sends the file.
bg socat -b 262144 -u TCP-LISTEN:"$SINK",bind=127.0.0.1,reuseaddr \
    SYSTEM:"openssl dgst -sha256 -r > $T/sink.tmp && mv $T/sink.tmp $T/sink.sum"
bg socat -b 262144 -U TCP-LISTEN:"$SRC",bind=127.0.0.1,reuseaddr \
    OPEN:"$T/data",rdonly
# wc: replies with the byte count only after the client's EOF.
bg socat -t 30 TCP-LISTEN:"$WC",bind=127.0.0.1,reuseaddr,fork SYSTEM:'wc -c'
# greet: sends a line and shuts its write side at once, then keeps
# reading and records what arrives after its EOF.
cat > "$T/halfclose.pl" <<'EOS'
# halfclose.pl server PORT FILE: accept one connection, send a line, shut
#   the write side, then save to FILE all that arrives until EOF.
# halfclose.pl client PORT FILE: connect, save to FILE all that arrives
#   until EOF, only then send a line and shut the write side.
use strict; use IO::Socket::IP; use Socket qw(SHUT_WR);
my ($mode, $port, $file) = @ARGV;
alarm 60;
my $s;
if ($mode eq 'server') {
	my $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port,
	    Listen => 1, ReuseAddr => 1) or die "listen: $!";
	open(my $r, '>', "$file.ready"); print $r "ready\n"; close($r);
	$s = $l->accept or die "accept: $!";
	print $s "hello then EOF\n"; shutdown($s, SHUT_WR);
} else {
	$s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port)
	    or die "connect: $!";
}
open(my $f, '>', $file) or die "$file: $!";
my $buf;
while (sysread($s, $buf, 65536)) { print $f $buf; }
close($f);
if ($mode eq 'client') {
	print $s "sent after EOF\n"; shutdown($s, SHUT_WR);
	while (sysread($s, $buf, 65536)) { }
}
exit 0;
EOS
bg perl "$T/halfclose.pl" server "$GREET" "$T/greet.got"
GREET_PID=$LASTPID
wait_for "$T/greet.got.ready" ready 10
for p in $SINK $SRC $WC; do wait_port "$p"; done

server_conf "$T/server.conf" "$UDP" 31000 31999 sink=127.0.0.1:$SINK \
    source=127.0.0.1:$SRC wc=127.0.0.1:$WC greet=127.0.0.1:$GREET
client_conf "$T/client.conf" "$UDP"
check "warrend starts" start_warrend "$T/server.conf"
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD_UP sink 2> "$T/fwd-up.log"
UP_PID=$LASTPID
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD_DOWN source 2> "$T/fwd-down.log"
DOWN_PID=$LASTPID
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD_WC wc 2> "$T/fwd-wc.log"
bg "$BIN/warren" forward -c "$T/client.conf" 127.0.0.1:$FWD_GREET greet 2> "$T/fwd-greet.log"
for p in $FWD_UP $FWD_DOWN $FWD_WC $FWD_GREET; do wait_port "$p"; done

# client -> server
t0=$(now_ms)
timeout 120 socat -b 262144 -u OPEN:"$T/data",rdonly TCP:127.0.0.1:$FWD_UP
rc=$?
wait_for "$T/sink.sum" . 60
t1=$(now_ms)
is "$rc" 0 "upload: the client sent everything and exited 0"
diag "upload: $(( BYTES * 1000 / 1048576 / ((t1 - t0) + 1) )) MiB/s ($((t1 - t0)) ms)"
got=$(cut -d' ' -f1 "$T/sink.sum" 2>/dev/null)
is "$got" "$WANT" "upload: SHA-256 at the backend equals the source's"

# server -> client
t0=$(now_ms)
got=$(timeout 120 socat -b 262144 -u TCP:127.0.0.1:$FWD_DOWN - | sha -)
t1=$(now_ms)
diag "download: $(( BYTES * 1000 / 1048576 / ((t1 - t0) + 1) )) MiB/s ($((t1 - t0)) ms)"
is "$got" "$WANT" "download: SHA-256 at the client equals the backend's"

wait_count "$T/warrend.log" "event=session_end.*service=sink" 1 10
like "$(grep 'event=session_end.*service=sink' "$T/warrend.log")" \
    "bytes_in=$BYTES " "warrend counted $BYTES bytes in for the upload"
wait_count "$T/warrend.log" "event=session_end.*service=source" 1 10
like "$(grep 'event=session_end.*service=source' "$T/warrend.log")" \
    "bytes_out=$BYTES " "warrend counted $BYTES bytes out for the download"

# Half-close, client first: the backend answers only after our EOF.
out=$(printf 'twelve bytes' | timeout 30 socat -t 20 - TCP:127.0.0.1:$FWD_WC)
is "$(echo $out)" 12 "half-close: the backend saw our EOF and its reply came back"
head -c 5000000 "$T/data" > "$T/5m"
out=$(timeout 30 socat -t 20 - TCP:127.0.0.1:$FWD_WC < "$T/5m")
is "$(echo $out)" 5000000 "half-close after 5 MB: reply after EOF"

# warren connect as a plain filter: stdin and stdout regular files.
rm -f "$T/wc.out"
timeout 30 "$BIN/warren" connect -c "$T/client.conf" wc < "$T/5m" > "$T/wc.out" 2> "$T/connect-files.log"
rc=$?
is "$rc $(cat "$T/wc.out" 2>/dev/null)" "0 5000000" \
    "warren connect with stdin and stdout redirected to regular files"

# Half-close, server first: the backend shuts its write side at once; the
# client reads to EOF and only then sends, and the backend still gets it.
rm -f "$T/client.got"
timeout 30 perl "$T/halfclose.pl" client "$FWD_GREET" "$T/client.got"
rc=$?
is "$rc" 0 "reverse half-close: client exited 0"
is "$(cat "$T/client.got" 2>/dev/null)" "hello then EOF" \
    "reverse half-close: the client got the backend's data and EOF"
wait_exit "$GREET_PID" 10  # it has written all it got
is "$(cat "$T/greet.got" 2>/dev/null)" "sent after EOF" \
    "reverse half-close: the backend got the client's data sent after its EOF"

is "$(count "$T/warrend.log" 'event=session_end')" "$(count "$T/warrend.log" 'event=carrier_up')" \
    "every carrier warrend started has ended"
is "$(count "$T/warrend.log" 'level=error')" 0 "warrend logged no error"
check "warrend is still running" alive "$WARREND_PID"

# Buffering is bounded: after 2 GiB went through, warrend's and the
# agents' peak memory stays small (not under ASan, whose quarantine holds
# freed memory on purpose).
hwm() { awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$1/status" 2>/dev/null; }
if ldd "$BIN/warrend" | grep -q libasan; then
	ok "# SKIP peak memory under ASan"
	ok "# SKIP peak memory under ASan"
else
	m=$(hwm "$WARREND_WORKER"); diag "warrend (worker) peak RSS: ${m:-?} MiB"
	check "warrend peak RSS under 64 MiB" [ "${m:-999}" -lt 64 ]
	m=$(hwm "$UP_PID"); m2=$(hwm "$DOWN_PID")
	diag "warren forward peak RSS: ${m:-?} MiB (upload), ${m2:-?} MiB (download)"
	check "warren forward peak RSS under 64 MiB" \
	    [ "$(( ${m:-999} < 64 && ${m2:-999} < 64 ))" = 1 ]
fi

