# Shared helpers for warren's system tests: TAP output, a private temporary
# directory, keys and configs, and processes that are always cleaned up.
# Every address used is on loopback (127.0.0.0/8, ::1).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
# Sanitizer builds (make SANITIZE=1): report everything, on stderr.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
BIN=${BIN:-$TOP/bin}
T=$(mktemp -d /tmp/warren-test.XXXXXX)
PIDS=""
NTEST=0
NFAIL=0

# descendants PID: the pids of PID's children, grandchildren, ...
descendants() {
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"; descendants "$c"
	done
}

# stop PID...: TERM each process and everything it started, then KILL.
stop() {
	all=""
	for p in "$@"; do all="$all $(descendants "$p") $p"; done
	for p in $all; do kill "$p" 2>/dev/null; done
	n=20
	while [ $n -gt 0 ]; do
		alive=""
		for p in $all; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && break
		sleep 0.1; n=$((n - 1))
	done
	for p in $all; do kill -9 "$p" 2>/dev/null; done
	return 0
}

# Hooks that cleanup runs first (e.g. removing tc rules): at_exit 'CMD'.
AT_EXIT=""
at_exit() { AT_EXIT="$1; $AT_EXIT"; }

# tc_hold PORT [syn|""] [SPORT]: inside the test's own network namespace, hold back
# TCP from 127.0.0.1 to ports PORT..PORT+1023 (PORT a multiple of 1024);
# with "syn" only the SYNs, so established connections keep flowing; TCP
# from source port SPORT (if given) still passes.
# tc_release lets everything through again (a test registers it with
# at_exit).
tc_hold() {
	_syn=""
	[ "${2:-}" = syn ] && _syn="match u8 0x02 0x12 at 33"
	{
		tc qdisc add dev lo root handle 1: htb default 1 &&
		tc class add dev lo parent 1: classid 1:1 htb rate 10gbit &&
		tc class add dev lo parent 1: classid 1:2 htb rate 10gbit &&
		tc qdisc add dev lo parent 1:2 handle 2: pfifo limit 0 &&
		{ [ -z "${3:-}" ] || tc filter add dev lo parent 1: protocol ip \
		    prio 1 u32 match ip protocol 6 0xff \
		    match ip sport "$3" 0xffff classid 1:1; } &&
		tc filter add dev lo parent 1: protocol ip prio 2 u32 \
		    match ip protocol 6 0xff match ip src 127.0.0.1/32 \
		    match ip dport "$1" 0xfc00 $_syn classid 1:2
	} 2>/dev/null
}
tc_release() { tc qdisc del dev lo root 2>/dev/null; return 0; }

cleanup() {
	rc=$?
	trap - EXIT
	[ -n "$AT_EXIT" ] && eval "$AT_EXIT"
	stop $PIDS
	stop "$WATCHDOG_PID"
	# Sanitizer reports (SANITIZE=1 builds) in any output fail the test
	# file (non-zero exit; the report is shown as TAP diagnostics).
	for f in $(find "$T" -maxdepth 1 -type f -size -20M 2>/dev/null); do
		grep -aqE 'ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: .*Sanitizer' "$f" || continue
		echo "# sanitizer report in $f:"
		grep -aE -A40 'ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: .*Sanitizer' "$f" |
		    head -n 60 | sed 's/^/#   /'
		rc=1; NFAIL=$((NFAIL + 1))
	done
	if [ -n "${PLANNED:-}" ]; then
		rc=0
		if [ "$NTEST" -ne "$PLANNED" ]; then
			echo "# planned $PLANNED tests but ran $NTEST"
			rc=1
		fi
		[ "$NFAIL" -gt 0 ] && rc=1
	fi
	if [ "$NFAIL" -gt 0 ] || [ "${KEEP:-}" = 1 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f (last 30 lines)"
			tail -n 30 "$f" | sed 's/^/# /'
		done
	fi
	[ "${KEEP:-}" = 1 ] || rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

plan() { PLANNED=$1; echo "1..$1"; }

# A watchdog: after TEST_TIMEOUT seconds (default 300) it ends whatever the
# test is waiting for and then the test itself, whose cleanup still runs.
TOPPID=$$
(
	trap 'exit 0' TERM
	n=0
	while [ $n -lt "${TEST_TIMEOUT:-300}" ]; do
		sleep 1
		kill -0 "$TOPPID" 2>/dev/null || exit 0   # the test is gone
		n=$((n + 1))
	done
	echo "# watchdog: $0 ran over ${TEST_TIMEOUT:-300} s; stopping it"
	self=$(exec sh -c 'echo $PPID')
	kill -TERM "$TOPPID"
	for p in $(descendants "$TOPPID"); do
		[ "$p" = "$self" ] || kill "$p" 2>/dev/null
	done
) 2>/dev/null &
WATCHDOG_PID=$!

ok() { NTEST=$((NTEST + 1)); echo "ok $NTEST - $1"; }
not_ok() { NTEST=$((NTEST + 1)); NFAIL=$((NFAIL + 1)); echo "not ok $NTEST - $1"; }
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
diag() { echo "# $*"; }
bg() { "$@" & PIDS="$PIDS $!"; LASTPID=$!; }

# A free TCP/UDP port in [lo, hi] (default 20000-29999), not in use now.
free_port() {
	lo=${1:-20000}; hi=${2:-29999}
	while :; do
		p=$(shuf -i "$lo-$hi" -n 1)
		ss -Hlntu "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# wait_for FILE PATTERN [SECONDS]: wait until FILE has a line matching.
wait_for() {
	n=$(( ${3:-10} * 10 ))
	while [ $n -gt 0 ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# wait_port PORT [SECONDS]: wait until something listens on TCP PORT.
wait_port() {
	n=$(( ${2:-10} * 10 ))
	while [ $n -gt 0 ]; do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# wait_udp PORT [SECONDS]: wait until something listens on UDP PORT.
wait_udp() {
	n=$(( ${2:-10} * 10 ))
	while [ $n -gt 0 ]; do
		ss -Hlnu "sport = :$1" | grep -q . && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# wait_noport PORT [SECONDS]: wait until nothing listens on TCP PORT.
wait_noport() {
	n=$(( ${2:-10} * 10 ))
	while [ $n -gt 0 ]; do
		ss -Hltn "sport = :$1" | grep -q . || return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# wait_count FILE PATTERN COUNT [SECONDS]: wait until FILE has COUNT
# lines matching PATTERN.
wait_count() {
	n=$(( ${4:-10} * 10 ))
	while [ $n -gt 0 ]; do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# wait_exit PID [SECONDS]: wait until process PID (a child) has exited.
wait_exit() {
	n=$(( ${2:-10} * 10 ))
	while [ $n -gt 0 ]; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# count FILE PATTERN: how many lines of FILE match PATTERN (0 if none).
count() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# is GOT WANT DESCRIPTION: an equality test that shows both on failure.
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else
		not_ok "$3"; diag "got:  '$1'"; diag "want: '$2'"; fi
}

# like TEXT PATTERN DESCRIPTION: TEXT has a line matching grep PATTERN.
like() {
	if printf '%s\n' "$1" | grep -q -- "$2"; then ok "$3"; else
		not_ok "$3"; diag "no match for '$2' in:"
		printf '%s\n' "$1" | sed 's/^/#   /'; fi
}

# alive PID: process PID is still running.
alive() { kill -0 "$1" 2>/dev/null; }

# between N LO HI: LO <= N <= HI (integers).
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# now_ms: milliseconds since the epoch.
now_ms() { date +%s%3N; }

# sha FILE: the SHA-256 of FILE (or of stdin when FILE is -), hex only.
sha() {
	if [ "${1:--}" = - ]; then openssl dgst -sha256 -r; else
		openssl dgst -sha256 -r "$1"; fi | cut -d' ' -f1
}

# keys: server.key/.pub and client.key/.pub in $T.
make_keys() {
	for k in server client "$@"; do
		"$BIN/warren" genkey > "$T/$k.key" &&
		"$BIN/warren" pubkey < "$T/$k.key" > "$T/$k.pub" || return 1
	done
}

# server_conf FILE UDPPORT GRANT_LO GRANT_HI SERVICE=HOST:PORT... (client is "client")
server_conf() {
	f=$1; port=$2; glo=$3; ghi=$4; shift 4
	{
		echo "[server]"
		echo "private_key = $T/server.key"
		echo "listen = ${LISTEN:-127.0.0.1}:$port"
		echo "grant_ports = $glo-$ghi"
		echo "grant_timeout = ${GRANT_TIMEOUT:-5}"
		echo "keepalive = ${KEEPALIVE:-5}"
		echo "store = ${STORE:-lmdb:$T/store}"
		echo "log_level = debug"
		names=""
		for s in "$@"; do
			echo "[service ${s%%=*}]"
			echo "connect = ${s#*=}"
			names="$names${names:+, }${s%%=*}"
		done
		echo "[client client]"
		echo "public_key = $(cat "$T/client.pub")"
		echo "services = ${SERVICES:-$names}"
	} > "$f"
}

# client_conf FILE UDPPORT [KEYNAME]
# (TIMEOUT, SERVER_PUB, NODE_HOST and CLIENT_LOG, empty for the default
# level, change the defaults)
client_conf() {
	{
		echo "[client]"
		echo "private_key = $T/${3:-client}.key"
		echo "timeout = ${TIMEOUT:-5}"
		[ -n "${CLIENT_LOG-info}" ] && echo "log_level = ${CLIENT_LOG-info}"
		echo "[cluster test]"
		echo "public_key = ${SERVER_PUB:-$(cat "$T/server.pub")}"
		echo "nodes = ${NODE_HOST:-127.0.0.1}:$2"
	} > "$1"
}

# start_warrend CONF: run warrend in the background, wait until it listens.
# WARREND_PID is the keeper, WARREND_WORKER the worker that holds the
# grants and carriers (warrend(8), PROCESSES).
start_warrend() {
	bg "$BIN/warrend" -c "$1" 2> "$T/warrend.log"
	WARREND_PID=$LASTPID
	wait_for "$T/warrend.log" "event=started" 10 &&
	WARREND_WORKER=$(sed -n 's/.*event=started .* pid=\([0-9]*\).*/\1/p' \
	    "$T/warrend.log" | tail -n 1)
}

# start_echo PORT: a TCP echo service on 127.0.0.1:PORT.
start_echo() {
	# -t 30: after the client's EOF, wait for cat's output even when busy
	bg socat -t 30 TCP-LISTEN:"$1",bind=127.0.0.1,reuseaddr,fork,backlog=128 EXEC:cat
	wait_port "$1"
}

# --- helpers for the front-door tests (08-scan.t, 09-door.t) ---

# peer_ns ADDR/LEN PEERADDR [EXTRA_PEERADDR...]: make a second network
# namespace ("the outside"), joined to the test's own namespace by a veth
# pair: ADDR/LEN on this side (wdoor0), PEERADDR (and the extras) on the
# other (wpeer0).  Only for a test that runs in a namespace it created
# (unshare --net): it touches no other interface.  Sets PEER_PID, the pid
# of the process that holds the namespace (in_peer runs commands there).
peer_ns() {
	_a=$1; _len=${1#*/}; shift
	bg unshare --net sleep 100000
	PEER_PID=$LASTPID
	_n=50
	while [ $_n -gt 0 ] && [ "$(readlink /proc/$PEER_PID/ns/net 2>/dev/null)" = \
	    "$(readlink /proc/$$/ns/net)" ]; do sleep 0.1; _n=$((_n - 1)); done
	ip link add wdoor0 type veth peer name wpeer0 &&
	ip link set wpeer0 netns "$PEER_PID" &&
	ip addr add "$_a" dev wdoor0 && ip link set wdoor0 up &&
	in_peer ip link set lo up && in_peer ip link set wpeer0 up || return 1
	for _p in "$@"; do in_peer ip addr add "$_p/$_len" dev wpeer0 || return 1; done
	# Wait until both ends of the link are up.
	_n=50
	while [ $_n -gt 0 ]; do
		ip -o link show wdoor0 | grep -q LOWER_UP &&
		    in_peer ip -o link show wpeer0 | grep -q LOWER_UP && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

# outside NODE/LEN ADDR...: for a test in a namespace of its own
# (netns.sh): lo up, and the outside namespace of peer_ns, whose processes
# are killed when the test ends (peer_sweep).  Bails out if it cannot.
outside() {
	ip link set lo up ||
	    { echo "Bail out! cannot bring lo up in the namespace"; exit 1; }
	peer_ns "$@" ||
	    { echo "Bail out! cannot make the outside namespace and its veth pair"; exit 1; }
	peer_sweep
}

# needs COMMAND...: skip the whole test unless every COMMAND is installed.
needs() {
	for _c in "$@"; do
		command -v "$_c" > /dev/null && continue
		echo "1..0 # SKIP needs $* (make deps)"
		exit 0
	done
}

# in_peer COMMAND...: run COMMAND in the peer namespace of peer_ns.
in_peer() { nsenter -t "$PEER_PID" -n "$@"; }

# status_of SOCKET: `warren status -s SOCKET` into $T/status.out; 0 if it
# worked.  counter NAME: one counter of the last status_of (empty if none).
status_of() { timeout 10 "$BIN/warren" status -s "$1" > "$T/status.out" 2> "$T/status.err"; }
counter() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "" }' "$T/status.out"; }

# udp_probe FILE HOST PORT [SRC] [WAIT_MS]: send FILE's bytes as one UDP
# datagram to HOST:PORT (IPv4), from SRC (an address, any port, or
# ADDR:PORT; default 127.0.0.1),
# and print how many bytes came back within WAIT_MS (default 1000): 0 if
# nothing did.
udp_probe() {
	perl -MIO::Socket::INET -MIO::Select -e '
		my ($file, $host, $port, $src, $ms) = @ARGV;
		open(my $f, "<:raw", $file) or die "udp_probe: $file: $!\n";
		local $/; my $pkt = <$f>;
		my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => $src,
		    PeerAddr => $host, PeerPort => $port)
		    or die "udp_probe: socket: $!\n";
		$s->send($pkt) or die "udp_probe: send: $!\n";
		my $sel = IO::Select->new($s); my $got = 0;
		if ($sel->can_read($ms / 1000)) {
			my $buf; $got = length($buf) if defined $s->recv($buf, 65536);
		}
		print "$got\n";' "$1" "$2" "$3" "${4:-127.0.0.1}" "${5:-1000}"
}

# udp_relay PORT NODEPORT CAPTURE [UPPORT]: a front-door relay on
# 127.0.0.1:PORT to 127.0.0.1:NODEPORT that also acts as a NAT: every
# client's packets leave from ONE socket (127.0.0.1:UPPORT, default any
# port) and the node's answers go back to the client whose sender index
# they carry.  The first client datagram is saved to the file CAPTURE,
# and the first 16 to CAPTURE.1, CAPTURE.2, ...
# Sets RELAY_PID.
udp_relay() {
	bg perl -MIO::Socket::INET -MIO::Select -e '
		my ($port, $nport, $cap, $up) = @ARGV;
		my $down = IO::Socket::INET->new(Proto => "udp",
		    LocalAddr => "127.0.0.1", LocalPort => $port) or die "relay: $!\n";
		my $u = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1",
		    LocalPort => $up, PeerAddr => "127.0.0.1", PeerPort => $nport)
		    or die "relay: $!\n";
		my (%who, $saved);
		my $sel = IO::Select->new($down, $u);
		while (1) {
			for my $s ($sel->can_read) {
				my $buf;
				if ($s == $down) {
					my $from = recv($down, $buf, 65536, 0) or next;
					if ($saved < 16 && open(my $f, ">:raw", "$cap.tmp")) {
						print $f $buf; close $f; $saved++;
						link("$cap.tmp", "$cap.$saved");
						rename("$cap.tmp", $cap) if $saved == 1;
						unlink("$cap.tmp");
					}
					$who{substr($buf, 4, 4)} = $from if length($buf) >= 8;
					send($u, $buf, 0);
				} else {
					defined recv($u, $buf, 65536, 0) or next;
					next if length($buf) < 12;
					my $t = ord($buf);
					my $rcv = $t == 2 ? substr($buf, 8, 4) : substr($buf, 4, 4);
					send($down, $buf, 0, $who{$rcv}) if $who{$rcv};
				}
			}
		}' "$1" "$2" "$3" "${4:-0}"
	RELAY_PID=$LASTPID
	wait_udp "$1"
}

# udp_delay PORT NODEPORT MS: a slow path to the front door
# (scripts/udp-delay.pl): every datagram, both ways, held MS milliseconds.
# Sets RELAY_PID.
udp_delay() {
	bg perl "$TOP/scripts/udp-delay.pl" "$1" "$2" "$3"
	RELAY_PID=$LASTPID
	wait_udp "$1"
}

# todo_is GOT WANT DESCRIPTION REASON: like is, for a known gap (TAP TODO):
# a failure is shown but does not fail the test file.
todo_is() {
	NTEST=$((NTEST + 1))
	if [ "$1" = "$2" ]; then echo "ok $NTEST - $3 # TODO $4"; else
		echo "not ok $NTEST - $3 # TODO $4"; diag "got:  '$1'"; diag "want: '$2'"; fi
}

# --- helpers for the resume tests (16-resume.t, 24-ssh-failover.t, ...) ---

# rnd N: N pseudo-random bytes (fast).
rnd() { openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" \
    -iv "$(openssl rand -hex 16)" < /dev/zero 2>/dev/null | head -c "$1"; }

# pace RATE [SHAFILE [PROGRESS]]: copy stdin to stdout at RATE bytes a
# second at most (scripts/pace.pl; SHAFILE gets the SHA-256 of what it
# wrote, PROGRESS how many bytes so far).
pace() { perl "$TOP/scripts/pace.pl" "$@"; }

# peer_sweep: for a test that made an outside namespace with peer_ns:
# when the test ends, whatever still runs there is killed (a warren
# connect whose parents the watchdog ended first).
peer_sweep() {
	PEER_NETNS=$(readlink /proc/$PEER_PID/ns/net)
	at_exit _peer_sweep
}
_peer_sweep() {
	[ -n "$PEER_NETNS" ] && [ "$PEER_NETNS" != "$(readlink /proc/$$/ns/net)" ] || return 0
	perl -e 'my $ns = shift;
		for my $d (glob "/proc/[0-9]*") {
			my $l = readlink("$d/ns/net");
			kill 9, substr($d, 6) if defined $l && $l eq $ns;
		}' "$PEER_NETNS"
	return 0
}

# sshd_setup PORT: a throwaway sshd's keys and config in $T (host key
# $T/hostkey, the user's key $T/id, $T/sshd_config listening on
# 127.0.0.1:PORT, this user only, public keys only); fails if ssh-keygen
# does or sshd rejects the config.  start_sshd: run it in the background
# and wait until it listens (its log: $T/sshd.log).
SSHD=${SSHD:-/usr/sbin/sshd}
sshd_setup() {
	SSHD_PORT=$1
	ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" &&
	ssh-keygen -q -t ed25519 -N '' -f "$T/id" &&
	cp "$T/id.pub" "$T/authorized_keys" && chmod 600 "$T/authorized_keys" ||
	    return 1
	mkdir -p /run/sshd   # sshd's privilege separation directory
	cat > "$T/sshd_config" <<EOS
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $(id -un)
MaxStartups 100
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOS
	"$SSHD" -t -f "$T/sshd_config"
}
start_sshd() {
	bg "$SSHD" -D -f "$T/sshd_config" -E "$T/sshd.log"
	SSHD_PID=$LASTPID
	wait_port "$SSHD_PORT"
}

# wssh CONF ARGS...: ssh (never touching ~/.ssh) to the throwaway sshd
# through "warren connect -c CONF ssh" as its ProxyCommand, bounded by
# SSH_TIMEOUT seconds (default 60); with SSH_NS set to a pid (PEER_PID),
# ssh and its ProxyCommand run in that process's network namespace.
wssh() {
	_conf=$1; shift
	timeout "${SSH_TIMEOUT:-60}" ${SSH_NS:+nsenter -t "$SSH_NS" -n} \
	    ssh -F /dev/null -o BatchMode=yes \
	    -o ProxyCommand="$BIN/warren connect -c $_conf ssh" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o LogLevel=ERROR -o ConnectTimeout=30 -i "$T/id" \
	    "$(id -un)@warren-test" "$@"
}

# lines FILE: how many lines FILE has now.  since FILE FROM: its lines
# after the first FROM.  wait_since FILE FROM PATTERN [SECONDS [DONE]]:
# wait until one of those matches, or (the optional DONE) until the file
# DONE exists: the transfer it waits on is over, so what had to happen
# during it has happened or never will.
lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }
since() { tail -n "+$(( $2 + 1 ))" "$1" 2>/dev/null; }
wait_since() {
	n=$(( ${4:-10} * 10 ))
	while [ $n -gt 0 ]; do
		since "$1" "$2" | grep -q -- "$3" && return 0
		if [ -n "${5:-}" ] && [ -e "$5" ]; then
			since "$1" "$2" | grep -q -- "$3"
			return
		fi
		sleep 0.1; n=$((n - 1))
	done
	return 1
}
# positive N: N is a number above 0.
positive() { case $1 in ''|*[!0-9]*) return 1;; esac; [ "$1" -gt 0 ]; }
# size FILE: FILE's length in bytes (0 if it does not exist).
size() { if [ -f "$1" ]; then wc -c < "$1" | tr -d ' '; else echo 0; fi; }
# ms_since T0: milliseconds since now_ms gave T0.
ms_since() { echo $(( $(now_ms) - $1 )); }
# sleep_ms LO HI: sleep a random time between LO and HI milliseconds.
sleep_ms() { sleep "$(awk -v ms="$(shuf -i "$1-$2" -n 1)" 'BEGIN { printf "%.3f", ms / 1000 }')"; }

# worker: the pid of warrend's worker now (the newest "started" line of
# $T/warrend.log names it).
worker() { grep 'event=started' "$T/warrend.log" | tail -n 1 |
    sed 's/.* pid=\([0-9]*\).*/\1/'; }
# kill_worker: kill -9 the worker, wait (5 s at most) for the next one's
# "started" line, and append the time from the kill to that line's
# timestamp, in ms, to $T/restart.ms.  Fails if no new worker started.
kill_worker() {
	_s0=$(count "$T/warrend.log" 'event=started')
	_w=$(worker)
	_t0=$(now_ms)
	kill -9 "$_w" || return 1
	_n=500
	while [ "$(count "$T/warrend.log" 'event=started')" -le "$_s0" ]; do
		_n=$((_n - 1)); [ $_n -gt 0 ] || return 1
		sleep 0.01
	done
	_t1=$(date -d "$(grep 'event=started' "$T/warrend.log" | tail -n 1 |
	    cut -d' ' -f1)" +%s%3N)
	echo $((_t1 - _t0)) >> "$T/restart.ms"
}

# The cached Debian 12 roots of 21-systemd.t and 22-deb.t (debroot.sh):
# outside the tree, so that make clean (CI's sanitize and clang stages)
# does not make them again.
DEBROOT=${DEBROOT:-/var/cache/warren-tests/debroot}
