#!/bin/sh
# Reload (warrend(8), SIGNALS): SIGHUP re-reads the config while a bulk
# transfer runs through a session, which stays bit-exact; the reload adds
# a client (it connects), removes another (its live session ends with the
# reason, and it can no longer connect) and lowers a client's max_sessions
# (in effect at once).  A config with a syntax error changes nothing and
# is reported with file:line, on SIGHUP and to "warren reload"; a setting
# that needs a restart is reported and keeps its running value; the spare
# worker is replaced, so that a worker that dies hands over to one that
# runs the new config; another user cannot reload (SO_PEERCRED).
. "$(dirname "$0")/lib.sh"
plan 39
make_keys bob carol
ECHO=$(free_port); BULK=$(free_port); UDP=$(free_port); UDP2=$(free_port)
SIZE=${RELOAD_SIZE:-40M}
RATE=${RELOAD_RATE:-4194304}          # bytes/s of the paced transfer
CTL=$T/ctl.sock

# reload_conf FILE UDPPORT CLIENT_MAX_SESSIONS LINGER CLIENTS...: the
# node's config, with a [client] section for each name in CLIENTS.
reload_conf() {
	f=$1; port=$2; max=$3; linger=$4; shift 4
	{
		cat <<EOF
[server]
private_key = $T/server.key
listen = 127.0.0.1:$port
grant_ports = 37000-37999
grant_timeout = 5
keepalive = 5
log_level = debug
store = lmdb:$T/store
control = $CTL
linger = $linger
[service echo]
connect = 127.0.0.1:$ECHO
[service bulk]
connect = 127.0.0.1:$BULK
EOF
		for c in "$@"; do
			echo "[client $c]"
			echo "public_key = $(cat "$T/$c.pub")"
			echo "services = echo, bulk"
			[ "$c" = client ] && echo "max_sessions = $max"
		done
	} > "$f"
}
mkdir -p "$T/store"
reload_conf "$T/server.conf" "$UDP" 8 600 client bob
client_conf "$T/client.conf" "$UDP"
client_conf "$T/bob.conf" "$UDP" bob
client_conf "$T/carol.conf" "$UDP" carol

# Backends: echo; bulk echoes one connection and keeps what it received.
start_echo "$ECHO"
bg socat -b 65536 -t 30 TCP-LISTEN:"$BULK",bind=127.0.0.1,reuseaddr \
    SYSTEM:"tee $T/backend.got"
wait_port "$BULK"
check "warrend starts" start_warrend "$T/server.conf"

# once CONF: one short session to echo; its output and status in OUT, RC.
once() {
	OUT=$(echo hi | timeout 20 "$BIN/warren" connect -c "$1" echo 2> "$T/once.err"); RC=$?
}
# wait_counter NAME VALUE [SECONDS]: until status shows NAME = VALUE.
wait_counter() {
	_n=$(( ${3:-15} * 10 ))
	while [ $_n -gt 0 ]; do
		status_of "$CTL" && [ "$(counter "$1")" = "$2" ] && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}
# hup: SIGHUP to the keeper (as systemd's ExecReload does), then wait for
# the worker's verdict (the Nth event=reload or reload_failed line).
NRELOAD=0
hup() {
	NRELOAD=$((NRELOAD + 1))
	kill -HUP "$WARREND_PID" &&
	wait_count "$T/warrend.log" "event=reload\(_failed\)\? " "$NRELOAD" 10
}

once "$T/carol.conf"
check "before the reload carol is not a client" [ "$RC" -ne 0 ]

# bob holds a session open (its stdin stays open).
bg sh -c "sleep 120 | exec '$BIN/warren' connect -c '$T/bob.conf' echo > /dev/null 2> '$T/bob.err'"
check "bob's session is up" wait_counter sessions_live 1

# The bulk transfer: $SIZE bytes paced at $RATE bytes/s, echoed back.
openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" \
    -iv "$(openssl rand -hex 16)" < /dev/zero 2>/dev/null |
    head -c "$SIZE" > "$T/data"
WANT=$(sha "$T/data")
cat > "$T/pace.pl" <<'EOS'
# pace.pl FILE RATE: copy FILE to stdout at RATE bytes/s, in 64 KiB writes.
use strict; use Time::HiRes qw(time sleep);
my ($file, $rate) = @ARGV;
open(my $f, '<:raw', $file) or die "$file: $!";
binmode(STDOUT);
my ($t0, $sent, $buf) = (time, 0);
while (my $n = sysread($f, $buf, 65536)) {
	my $off = 0;
	while ($off < $n) {
		my $w = syswrite(STDOUT, $buf, $n - $off, $off);
		die "write: $!" unless defined $w;
		$off += $w;
	}
	$sent += $n;
	my $ahead = $sent / $rate - (time - $t0);
	sleep($ahead) if $ahead > 0;
}
EOS
bg sh -c "perl '$T/pace.pl' '$T/data' $RATE |
    '$BIN/warren' connect -c '$T/client.conf' bulk > '$T/bulk.out' 2> '$T/bulk.err';
    echo \$? > '$T/bulk.rc'"
check "the bulk session is up next to bob's" wait_counter sessions_live 2
n=30
while [ $n -gt 0 ] && [ "$(stat -c %s "$T/bulk.out" 2>/dev/null || echo 0)" -lt 1000000 ]; do
	sleep 0.1; n=$((n - 1))
done
check "bytes are flowing through the bulk session" \
    [ "$(stat -c %s "$T/bulk.out")" -ge 1000000 ]

# --- The reload: carol in, bob out, client's max_sessions 8 -> 1, linger ---
reload_conf "$T/server.conf" "$UDP" 1 300 client carol
check "SIGHUP: warrend reloads" hup
line=$(grep "event=reload " "$T/warrend.log" | tail -n 1)
diag "$line"
like "$line" "clients_added=carol .*clients_removed=bob .*clients_changed=client" \
    "the reload line names the client added, removed and changed"
like "$line" "limits=\"linger=600->300\"" "... and the limit changed"
like "$line" "sessions_ended=1 " "... and the one session it ended"
once "$T/client.conf"
check "client's second session is refused: max_sessions is now 1" [ "$RC" -ne 0 ]
like "$(cat "$T/warrend.log")" "event=busy .*client=client cap=max_sessions limit=1 held=1" \
    "warrend logs the new max_sessions in effect"
check "the bulk transfer was still running then" [ ! -e "$T/bulk.rc" ]
check "the keeper replaced the spare worker" \
    wait_for "$T/warrend.log" "event=spare_replaced" 10
check "bob's agent sees its live session end" \
    wait_for "$T/bob.err" "event=session_end" 10
like "$(cat "$T/warrend.log")" "event=session_end .*reason=\"client bob removed by reload\"" \
    "warrend logs bob's session end with the reason"
like "$(cat "$T/bob.err")" "client bob removed by reload" \
    "bob's agent is told the reason"
once "$T/bob.conf"
check "bob can no longer connect" [ "$RC" -ne 0 ]
like "$(cat "$T/warrend.log")" "event=unknown_client" "warrend calls bob's key unknown"
once "$T/carol.conf"
is "$OUT $RC" "hi 0" "carol, added by the reload, connects"

# --- A config with a syntax error changes nothing ---
cp "$T/server.conf" "$T/good.conf"
reload_conf "$T/server.conf" "$UDP" 8 600 client bob carol
echo "this is not ini" >> "$T/server.conf"
bad=$(wc -l < "$T/server.conf")
check "SIGHUP with a bad config: warrend answers" hup
like "$(cat "$T/warrend.log")" "level=error event=config msg=\"$T/server.conf:$bad: " \
    "the error names file:line"
like "$(grep "event=reload_failed" "$T/warrend.log")" "not reloaded: the running config stays" \
    "warrend logs that the running config stays"
out=$(timeout 10 "$BIN/warren" reload -s "$CTL" 2>&1); rc=$?
check "warren reload with the bad config: non-zero exit" [ "$rc" -ne 0 ]
like "$out" "^error $T/server.conf: not reloaded" "warren reload says it was not reloaded"
like "$out" "$T/server.conf:$bad: " "... and names file:line"
once "$T/bob.conf"
check "bob is still refused (the bad config named him)" [ "$RC" -ne 0 ]
once "$T/carol.conf"
is "$OUT $RC" "hi 0" "carol still connects"
cp "$T/good.conf" "$T/server.conf"

# --- The transfer that ran through all this is bit-exact ---
check "the bulk transfer finishes" wait_for "$T/bulk.rc" . 60
is "$(cat "$T/bulk.rc")" 0 "warren connect exits 0"
is "$(sha "$T/backend.got")" "$WANT" "the backend received every byte, in order (sha256)"
is "$(sha "$T/bulk.out")" "$WANT" "the client received every byte back, in order (sha256)"

# --- A worker that dies hands over to a spare that runs the new config ---
old=$(sed -n 's/.*event=started .* pid=\([0-9]*\).*/\1/p' "$T/warrend.log" | tail -n 1)
kill -9 "$old"
check "the spare takes over" wait_count "$T/warrend.log" "event=started" 2 15
once "$T/carol.conf"
is "$OUT $RC" "hi 0" "the new worker knows carol (the reloaded config)"

# --- warren reload, and a setting that needs a restart ---
reload_conf "$T/server.conf" "$UDP2" 1 300 client carol
out=$(timeout 10 "$BIN/warren" reload -s "$CTL" 2>&1); rc=$?
diag "$out"
is "$rc" 0 "warren reload: exit 0"
like "$out" "^ok reloaded .*restart_needed=\"listen\"" \
    "warren reload reports that listen needs a restart"
like "$(cat "$T/warrend.log")" "event=reload_restart_needed settings=\"listen\"" \
    "so does the log"
once "$T/carol.conf"
is "$OUT $RC" "hi 0" "the node still listens where it did"

# --- Only root and warrend's own user may reload ---
# (the socket is warrend's alone, mode 600; opened up here so that the
# check that matters, SO_PEERCRED, is the one that answers)
if [ "$(id -u)" = 0 ]; then
	chmod 711 "$T"; chmod 666 "$CTL"
	n0=$(count "$T/warrend.log" "event=reload ")
	out=$(timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$BIN/warren" reload -s "$CTL" 2>&1); rc=$?
	like "$out" "^error permission denied: reload is for root and warrend's user" \
	    "another user's warren reload is refused"
	check "... with a non-zero exit, logged, and nothing reloaded" \
	    sh -c "[ $rc -ne 0 ] && grep -q 'event=control_denied uid=65534 .*cmd=reload' '$T/warrend.log' && [ \$(grep -c 'event=reload ' '$T/warrend.log') -eq $n0 ]"
else
	ok "# SKIP another user's reload: needs root to switch users"
	ok "# SKIP another user's reload: needs root to switch users"
fi
