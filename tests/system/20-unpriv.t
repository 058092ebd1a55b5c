#!/bin/sh
# warrend as an unprivileged user (warrend(8), CAPABILITIES): with no
# capability at all and the default kind of settings (ports from 1024 up)
# it serves sessions bit-exact, says once at start what it does without,
# and a grant still accepts only its client's address; with CAP_NET_ADMIN
# it keeps the kernel's socket filter, and with CAP_BPF it shares one
# eBPF filter among all grants; a setting that needs a capability
# it lacks (listen on port 500 without CAP_NET_BIND_SERVICE), or a control
# directory it cannot write, stops it at once with one line that names
# what is missing, and --check says the same; key-file ownership rules
# hold for a non-root daemon.
#
# Runs in a private network namespace (unshare --net): the tc rule that
# holds back the client's SYNs affects nothing outside this test.  Makes a
# temporary system user, deleted at exit.
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/lib.sh"
plan 69
ip link set lo up || { echo "Bail out! cannot bring lo up in the namespace"; exit 1; }
for c in useradd userdel setpriv; do
	command -v "$c" > /dev/null || { echo "Bail out! $c is missing"; exit 1; }
done

# The user: made here, deleted at exit even on failure.
WU=wrn-t$$
at_exit "userdel '$WU' 2>/dev/null"
useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$WU" ||
    { echo "Bail out! cannot create user $WU"; exit 1; }
WUID=$(id -u "$WU"); WGID=$(id -g "$WU")
diag "temporary user $WU uid=$WUID gid=$WGID"

# Its files: $T/u (mode 700, the user's) holds the key, store and socket.
chmod 711 "$T"
make_keys
U=$T/u
mkdir -m 700 "$U" && cp "$T/server.key" "$U/server.key" &&
    chown -R "$WU:$WU" "$U" && chmod 600 "$U/server.key" ||
    { echo "Bail out! cannot set up $U"; exit 1; }

GLO=16384; GHI=17407; GT=6
ECHO=$(free_port); UDP=$(free_port)
start_echo "$ECHO"
CTL=$U/ctl.sock

# conf FILE LISTENPORT [CONTROL] [KEY]: the user's server config.
conf() {
	cat > "$1" <<EOF
[server]
private_key = ${4:-$U/server.key}
listen = 127.0.0.1:$2
grant_ports = $GLO-$GHI
grant_timeout = $GT
keepalive = 5
store = lmdb:$U/store
control = ${3:-$CTL}
log_level = debug
[service echo]
connect = 127.0.0.1:$ECHO
[client client]
public_key = $(cat "$T/client.pub")
services = echo
EOF
	chmod 644 "$1"
}
mkdir -m 700 "$U/store" && chown "$WU:$WU" "$U/store"
conf "$T/server.conf" "$UDP"

# as_user CAPS COMMAND...: exec COMMAND as $WU with the capabilities CAPS
# (setpriv's list, e.g. +net_admin; "" for none) in its ambient set, so
# that it keeps the pid.  Only in a subshell: $(...) or bg.
as_user() {
	_caps=$1; shift
	if [ -n "$_caps" ]; then
		exec setpriv --reuid="$WUID" --regid="$WGID" --init-groups \
		    --inh-caps="$_caps" --ambient-caps="$_caps" "$@"
	fi
	exec setpriv --reuid="$WUID" --regid="$WGID" --init-groups "$@"
}
# capeff PID: the effective capability set of PID (hex).
capeff() { awk '$1 == "CapEff:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
owner() { ps -o uid= -p "$1" 2>/dev/null | tr -d ' '; }

head -c 3000000 /dev/urandom > "$T/in.bin"
IN_SHA=$(sha "$T/in.bin")
client_conf "$T/client.conf" "$UDP"

# grant_ports: every port warrend announced with grant_open in LOG so far.
grant_ports() { sed -n 's/.*event=grant_open port=\([0-9]*\).*/\1/p' "$1"; }

# serve NAME CAPS CAPHEX: warrend as $WU with CAPS; a bit-exact session;
# a grant probed from 127.0.0.2 while the client's SYNs are held back.
serve() {
	name=$1; caps=$2; want=$3; log=$T/$name.log
	bg as_user "$caps" "$BIN/warrend" -c "$T/server.conf" 2> "$log"
	WARREND_PID=$LASTPID
	check "$name: warrend starts as $WU" wait_for "$log" "event=started" 10
	W=$(sed -n 's/.*event=started .* pid=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	is "$(owner "$WARREND_PID") $(owner "${W:-0}")" "$WUID $WUID" \
	    "$name: its keeper and its worker run as uid $WUID"
	is "$(capeff "$WARREND_PID") $(capeff "${W:-0}")" "$want $want" \
	    "$name: they hold exactly the capabilities given (CapEff $want)"
	like "$(cat "$log")" "level=info event=privileges uid=$WUID .*ok=1" \
	    "$name: one line says what it may do"
	diag "$name: $(grep -o 'event=privileges uid=.*' "$log")"
	FILTER=$(sed -n 's/.*event=privileges uid=.* grant_filter=\([a-z]*\).*/\1/p' "$log")

	# A real session, 3 MB each way, bit-exact.
	timeout 60 "$BIN/warren" connect -c "$T/client.conf" echo < "$T/in.bin" \
	    > "$T/$name.out" 2> "$T/$name.err"
	rc=$?
	is "$rc $(sha "$T/$name.out")" "0 $IN_SHA" \
	    "$name: a 3 MB session through warrend as $WU is bit-exact"

	# A grant accepts only its client: 127.0.0.2 is turned away while
	# the client's SYNs are held back, and the client then gets through.
	n0=$(grant_ports "$log" | wc -l)
	tc_hold "$GLO" || diag "tc_hold failed"
	bg sh -c "printf 'after the probe\n' | '$BIN/warren' connect -c '$T/client.conf' echo 2> '$T/$name.a.err' > '$T/$name.a.out'"
	A=$LASTPID
	wait_count "$log" "event=grant_open" $((n0 + 1)) 5
	P=$(grant_ports "$log" | sed -n "$((n0 + 1))p")
	timeout 10 socat -u TCP:127.0.0.1:${P:-1},bind=127.0.0.2,connect-timeout=2 - \
	    > "$T/$name.probe.out" 2> "$T/$name.probe.err"
	rc=$?
	diag "$name: probe from 127.0.0.2 to grant port ${P:-?}: exit $rc: $(cat "$T/$name.probe.err")"
	# Without the kernel filter the connection is made, then reset by
	# warrend (socat sees the reset or, if it comes first, an end).
	if [ "$FILTER" = accept ]; then
		check "$name: warrend ends a connection from 127.0.0.2 at once" [ "$rc" -ne 124 ]
	else
		check "$name: a connection from 127.0.0.2 to the grant fails" [ "$rc" -ne 0 ]
	fi
	is "$(cat "$T/$name.probe.out")" "" "$name: and gets no data"
	if [ "$FILTER" = accept ]; then
		check "$name: grant_filter=accept: warrend reset it after accept (grant_probe src=127.0.0.2)" \
		    wait_for "$log" "event=grant_probe src=127.0.0.2:[0-9]* port=$P" 5
	else
		check "$name: grant_filter=kernel: the kernel filter dropped it (no grant_probe logged)" \
		    sh -c "! grep -q 'event=grant_probe' '$log'"
	fi
	tc_release
	check "$name: the real client finishes" wait_exit "$A" 15
	is "$(cat "$T/$name.a.out")" "after the probe" "$name: the real client got through after the probe"
	like "$(cat "$log")" "event=carrier_up peer=127.0.0.1:[0-9]* port=$P " \
	    "$name: its carrier used the grant that was probed"
	check "$name: no carrier from 127.0.0.2" sh -c "! grep -q 'peer=127.0.0.2' '$log'"
	if status_of "$CTL" && [ "$FILTER" = accept ]; then
		check "$name: the control socket (made by $WU) answers; grant_probes counts the probe" \
		    [ "$(counter grant_probes)" -ge 1 ]
	else
		check "$name: the control socket (made by $WU) answers" status_of "$CTL"
	fi
	stop "$WARREND_PID"
	check "$name: warrend stops and removes its control socket" [ ! -e "$CTL" ]
}
at_exit tc_release

# --- (a) No capability at all ---
out=$(as_user "" "$BIN/warrend" -c "$T/server.conf" --check 2>&1); rc=$?
is "$rc" 0 "no capability: --check as $WU passes"
like "$out" "server.conf: ok" "no capability: --check says ok"
serve nocaps "" 0000000000000000
if [ "$FILTER" = accept ]; then
	like "$(cat "$T/nocaps.log")" "level=warn event=privileges need=CAP_NET_ADMIN what=grant_filter msg=\"grant ports get no socket filter (SO_ATTACH_FILTER on a TCP socket: " \
	    "no capability: the kernel refused the grant filter: one warning names CAP_NET_ADMIN"
else
	ok "no capability: this kernel lets $WU attach the grant filter (no warning needed)"
fi
is "$(count "$T/nocaps.log" 'event=grant_failed')" 0 "no capability: no grant failed"

# --- (b) CAP_NET_ADMIN, as the unit may grant it ---
# cap_net_admin is bit 12: 0x1000.
serve netadmin +net_admin 0000000000001000
is "$FILTER" kernel "net_admin: grants keep the kernel's socket filter"
like "$(cat "$T/netadmin.log")" "event=privileges uid=$WUID grant_filter=kernel .*rcvbuf=forced" \
    "net_admin: receive buffers are forced past net.core.rmem_max"
check "net_admin: no warning about privileges" \
    sh -c "! grep -q 'level=warn event=privileges' '$T/netadmin.log'"

# --- (b2) CAP_BPF: every grant shares one eBPF filter (grant_bpf.h) ---
# cap_bpf is bit 39: 0x8000000000.
serve bpf +bpf 0000008000000000
is "$FILTER" shared "bpf: grants share one eBPF source filter"

# --- (c) listen on port 500: CAP_NET_BIND_SERVICE ---
# (ip_unprivileged_port_start is per network namespace: 1024 in this new one)
is "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" 1024 \
    "this namespace reserves ports below 1024"
conf "$T/low.conf" 500
out=$(as_user "" "$BIN/warrend" -c "$T/low.conf" --check 2>&1); rc=$?
check "port 500 without CAP_NET_BIND_SERVICE: --check fails" [ "$rc" -ne 0 ]
like "$out" "level=error event=privileges need=CAP_NET_BIND_SERVICE msg=\"$T/low.conf: listen = 127.0.0.1:500: cannot bind UDP port 500 (Permission denied): ports below 1024 .* need CAP_NET_BIND_SERVICE" \
    "port 500: --check names the listen address and CAP_NET_BIND_SERVICE"
t0=$(now_ms)
(as_user "" "$BIN/warrend" -c "$T/low.conf") > /dev/null 2> "$T/low.log" &
LOW=$!; PIDS="$PIDS $LOW"
check "port 500 without CAP_NET_BIND_SERVICE: warrend exits at once" wait_exit "$LOW" 5
wait "$LOW"; rc=$?
diag "it exited with $rc after $(( $(now_ms) - t0 )) ms"
check "with a non-zero status" [ "$rc" -ne 0 ]
is "$(count "$T/low.log" 'level=error')" 1 "port 500: one error line"
like "$(cat "$T/low.log")" "level=error event=privileges need=CAP_NET_BIND_SERVICE msg=.*listen = 127.0.0.1:500" \
    "port 500: it names CAP_NET_BIND_SERVICE and the listen address"
check "port 500: it started nothing (no worker, no started line)" \
    sh -c "! grep -q 'event=worker_start\|event=started' '$T/low.log'"
client_conf "$T/low-client.conf" 500
bg as_user +net_bind_service "$BIN/warrend" -c "$T/low.conf" 2> "$T/low2.log"
check "port 500 with CAP_NET_BIND_SERVICE: warrend starts as $WU" \
    wait_for "$T/low2.log" "event=started" 10
OUT=$(echo "low port" | timeout 20 "$BIN/warren" connect -c "$T/low-client.conf" echo 2> "$T/low2.err")
is "$OUT" "low port" "port 500 with CAP_NET_BIND_SERVICE: a session works"
stop "$LASTPID"

# --- (d) a control directory the user cannot write ---
mkdir -m 755 "$T/rootdir"
conf "$T/ctl.conf" "$UDP" "$T/rootdir/ctl.sock"
out=$(as_user "" "$BIN/warrend" -c "$T/ctl.conf" --check 2>&1); rc=$?
check "unwritable control directory: --check fails" [ "$rc" -ne 0 ]
n=$(grep -n '^control' "$T/ctl.conf" | cut -d: -f1)
like "$out" "level=error event=privileges msg=\"$T/ctl.conf:$n: control = $T/rootdir/ctl.sock: uid $WUID cannot create the socket in $T/rootdir: Permission denied" \
    "unwritable control directory: --check names file:line, the directory and the uid"
(as_user "" "$BIN/warrend" -c "$T/ctl.conf") > /dev/null 2> "$T/ctl.log" &
CP=$!; PIDS="$PIDS $CP"
check "unwritable control directory: warrend exits at once" wait_exit "$CP" 5
check "without starting a worker" sh -c "! grep -q 'event=worker_start' '$T/ctl.log'"

# --- (e) key files for a non-root daemon (src/keyfile.c) ---
# keycheck NAME OWNER MODE: --check as $WU with the key owned by OWNER.
keycheck() {
	cp "$U/server.key" "$T/$1.key" && chown "$2" "$T/$1.key" && chmod "$3" "$T/$1.key"
	conf "$T/$1.conf" "$UDP" "" "$T/$1.key"
	KOUT=$(as_user "" "$BIN/warrend" -c "$T/$1.conf" --check 2>&1); KRC=$?
}
keycheck rootkey root 600
check "a key only root may read: refused" [ "$KRC" -ne 0 ]
like "$KOUT" "private_key $T/rootkey.key: cannot be opened: Permission denied" \
    "a key only root may read: the message names the file and the reason"
keycheck nobodykey nobody 644     # readable: the owner check decides
like "$KOUT" "private_key $T/nobodykey.key: is owned by nobody; it must be owned by $WU, who runs this, or by root (chown $WU $T/nobodykey.key)" \
    "a key owned by another user: refused, naming both users and the fix"
keycheck openkey "$WU" 640
like "$KOUT" "private_key $T/openkey.key: permissions 0640 are too open" \
    "the user's own key with mode 640: refused as too open"
keycheck ownkey "$WU" 400
is "$KRC" 0 "the user's own key with mode 400: accepted"
