#!/bin/sh
# warrend as a systemd service (dist/warrend.service, README "Running it as
# a service"):
#  (a) the unit, as "make install" writes it, passes systemd-analyze verify
#      with no complaint at all;
#  (b) sd_notify without systemd: a datagram socket set as NOTIFY_SOCKET
#      gets, from the keeper (the main pid), READY=1 once the worker
#      serves, RELOADING=1 then READY=1 around SIGHUP, a STATUS= line when
#      a spare takes over from a killed worker, STOPPING=1 on SIGTERM;
#      when stderr is the journal's stream (JOURNAL_STREAM) each line has
#      its level's priority prefix;
#  (c) under a real systemd: a Debian 12 container (systemd-nspawn --boot,
#      root made by debootstrap, cached in $DEBROOT) with the .deb of
#      "make deb" installed runs the unit: active, as the user warren with
#      no capability, a session through it from the host, a reload,
#      the journal's priorities, a clean stop.  Skipped, saying why, if
#      the container cannot be made or cannot boot here.
. "$(dirname "$0")/lib.sh"
plan 33
TEST_TIMEOUT=${TEST_TIMEOUT:-600}

# --- (a) systemd-analyze verify ---------------------------------------
V=$T/inst
if command -v systemd-analyze > /dev/null; then
	make -s -C "$TOP" install PREFIX="$V/usr" UNITDIR="$V/unit" \
	    SYSCONFDIR="$V/etc" SYSUSERSDIR="$V/sysusers" \
	    TMPFILESDIR="$V/tmpfiles" > "$T/install.log" 2>&1
	check "make install writes the unit, its configs and man pages" \
	    test -f "$V/unit/warrend.service" -a -f "$V/etc/warren/warrend.conf" \
	    -a -f "$V/usr/share/man/man8/warrend.8"
	# PID 1 here may not be systemd: verify reads the unit file alone.
	MANPATH="$V/usr/share/man" systemd-analyze verify \
	    "$V/unit/warrend.service" > "$T/verify.log" 2>&1
	is "$?:$(cat "$T/verify.log")" "0:" \
	    "systemd-analyze verify: no error and no warning"
	# A wrong value is a warning that the check above would catch.
	sed 's/^ProtectSystem=strict/ProtectSystem=sometimes/' \
	    "$V/unit/warrend.service" > "$T/bad.service"
	MANPATH="$V/usr/share/man" systemd-analyze verify "$T/bad.service" \
	    > "$T/verify-bad.log" 2>&1
	check "systemd-analyze verify complains of a bad line (the check can fail)" \
	    grep -q 'protect system' "$T/verify-bad.log"
else
	for i in 1 2 3; do ok "# SKIP no systemd-analyze (make deps)"; done
fi

# --- (b) sd_notify and the journal's priorities, without systemd -------
make_keys
ECHO=$(free_port); UDP=$(free_port)
start_echo "$ECHO"
server_conf "$T/server.conf" "$UDP" 37000 37499 echo=127.0.0.1:"$ECHO"
sed -i 's/^log_level = debug$/log_level = info/' "$T/server.conf"
client_conf "$T/client.conf" "$UDP"

# The service manager's end: one line per datagram, "pid=SENDER fields".
bg python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a")
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = 0
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    out.write("pid=%d %s\n" % (pid, msg.decode().replace("\n", " ")))
    out.flush()
' "$T/notify.sock" "$T/notify.log"
n=50; while [ $n -gt 0 ] && [ ! -S "$T/notify.sock" ]; do sleep 0.1; n=$((n - 1)); done
touch "$T/warrend.log"
export NOTIFY_SOCKET="$T/notify.sock"
export JOURNAL_STREAM="$(stat -c '%d:%i' "$T/warrend.log")"
check "warrend starts with NOTIFY_SOCKET and JOURNAL_STREAM set" \
    start_warrend "$T/server.conf"
unset NOTIFY_SOCKET JOURNAL_STREAM
wait_for "$T/notify.log" "READY=1" 10
# The worker logs "started" before it tells the keeper, which then sends
# READY=1: so by READY=1 the front door is open.
like "$(grep READY=1 "$T/notify.log" | head -n 1)" \
    "^pid=$WARREND_PID READY=1 STATUS=serving: worker pid $WARREND_WORKER" \
    "READY=1 from the keeper (the main pid), naming the serving worker"
check "by READY=1 the worker had logged event=started" \
    grep -q "event=started" "$T/warrend.log"
OUT=$(echo ready | timeout 20 "$BIN/warren" connect -c "$T/client.conf" echo 2> "$T/once.err")
is "$OUT" "ready" "a session right after READY=1"
like "$(head -n 1 "$T/warrend.log")" '^<6>[0-9-]*T[0-9:.]*Z warrend level=info event=' \
    "journal stream: an info line starts with <6>, then the usual text"
check "journal stream: every line has a priority prefix" \
    sh -c "! grep -v '^<[3467]>' '$T/warrend.log' | grep -q ."
touch "$T/err.log"
JOURNAL_STREAM="$(stat -c '%d:%i' "$T/err.log")" \
    "$BIN/warrend" -c "$T/nonexistent.conf" 2> "$T/err.log"
like "$(cat "$T/err.log")" '^<3>.* level=error ' "journal stream: an error line starts with <3>"
"$BIN/warrend" -c "$T/nonexistent.conf" 2> "$T/err2.log"
like "$(cat "$T/err2.log")" '^[0-9].* level=error ' "stderr not the journal's: no prefix"

kill -HUP "$WARREND_PID"
wait_count "$T/notify.log" "READY=1" 2 10
awk '/RELOADING=1/ { r = NR } /READY=1/ && r && NR > r { ok = 1 }
    END { exit !ok }' "$T/notify.log"
check "SIGHUP: RELOADING=1 then READY=1" test $? = 0
like "$(grep RELOADING=1 "$T/notify.log")" \
    "^pid=$WARREND_PID RELOADING=1 MONOTONIC_USEC=[0-9][0-9]* " \
    "RELOADING=1 from the keeper, with MONOTONIC_USEC"
check "warrend still runs after SIGHUP" alive "$WARREND_PID"

kill -9 "$WARREND_WORKER"
wait_for "$T/notify.log" "exited; a spare takes over" 10
like "$(cat "$T/notify.log")" \
    "^pid=$WARREND_PID STATUS=worker pid $WARREND_WORKER exited; a spare takes over" \
    "a killed worker: STATUS= says a spare takes over"
# The new worker's own STATUS= line (not READY=1's first one): it can
# take seconds under ASan on a loaded machine.
new=
for i in $(seq 100); do
	new=$(sed -n 's/^pid=[0-9]* STATUS=serving: worker pid \([0-9]*\),.*/\1/p' \
	    "$T/notify.log" | tail -n 1)
	[ -n "$new" ] && break
	sleep 0.2
done
check "then STATUS= names the new worker ($new)" \
    test -n "$new" -a "$new" != "$WARREND_WORKER"
check "no second READY=1 for a worker's replacement" \
    test "$(count "$T/notify.log" 'READY=1')" = 2
kill -TERM "$WARREND_PID"
wait_exit "$WARREND_PID" 20
like "$(cat "$T/notify.log")" "^pid=$WARREND_PID STOPPING=1" "SIGTERM: STOPPING=1"

# --- (c) under systemd, in a Debian 12 container -----------------------
skip_c() {
	diag "$1"
	while [ "$NTEST" -lt "$PLANNED" ]; do ok "# SKIP $1"; done
	exit 0
}
[ "$(id -u)" = 0 ] || skip_c "needs root (debootstrap, systemd-nspawn)"
command -v systemd-nspawn > /dev/null || skip_c "no systemd-nspawn (make deps)"
sh "$TOP/tests/system/debroot.sh" "$DEBROOT/bookworm" systemd \
    > "$T/debroot.log" 2>&1
case $? in
0) ;;
3) skip_c "debootstrap cannot reach the Debian mirror: $(tail -n 1 "$T/debroot.log")" ;;
*) not_ok "the cached Debian 12 root with systemd"; sed 's/^/# /' "$T/debroot.log"
   skip_c "no Debian 12 root" ;;
esac
deb=$(sh "$TOP/scripts/mkdeb.sh" 2> "$T/mkdeb.log" | tail -n 1)
check "make deb builds the package" test -f "$deb"
R=$DEBROOT/run-21.$$
at_exit "rm -rf '$R'"
cp -a "$DEBROOT/bookworm-systemd" "$R"
cp "$deb" "$R/tmp/warren.deb"
cp /etc/resolv.conf "$R/etc/resolv.conf"
DEBIAN_FRONTEND=noninteractive unshare -m sh -c 'mount -t proc proc "$0/proc" &&
    exec chroot "$0" apt-get -q install -y /tmp/warren.deb' "$R" \
    > "$T/apt.log" 2>&1
rc=$?
if [ $rc != 0 ] && grep -qE 'Temporary failure resolving|Could not resolve|Failed to fetch' "$T/apt.log"; then
	skip_c "apt in the container cannot reach the Debian mirror"
fi
is "$rc" 0 "apt-get install ./warren.deb in the container"

# The node: its key from the package, a service on the host's loopback
# (the container shares the host's network), this test's client.
SERVER_PUB=$(cat "$R/etc/warren/server.pub")
CUDP=$(free_port)
sed -i -e "s/^listen = .*/listen = 127.0.0.1:$CUDP/" \
    -e "s/^grant_ports = .*/grant_ports = 37500-37999/" \
    "$R/etc/warren/warrend.conf"
cat >> "$R/etc/warren/warrend.conf" <<EOF
[service echo]
connect = 127.0.0.1:$ECHO
[client client]
public_key = $(cat "$T/client.pub")
services = echo
EOF
SERVER_PUB=$SERVER_PUB client_conf "$T/cclient.conf" "$CUDP"

# What runs in the container once it has booted: the unit's life, with
# its state written to /out for this test to read.
mkdir -p "$T/out"
cat > "$R/usr/local/sbin/warren-probe" <<'EOF'
#!/bin/sh
o=/out
echo booted > $o/booted
show() { systemctl show -p ActiveState -p SubState -p Result -p MainPID \
    -p StatusText warrend > "$o/$1"; }
systemctl start warrend; echo "$?" > $o/start
show show1
pid=$(systemctl show -p MainPID --value warrend)
cat /proc/"$pid"/status > $o/proc-status
id -u warren > $o/uid
warren status -s /run/warren/warrend.sock > $o/wstatus 2>&1; echo "$?" >> $o/wstatus
touch $o/ready
n=0; while [ ! -e $o/go ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
systemctl reload warrend; echo "$?" > $o/reload
sleep 1
show show2
systemctl stop warrend; echo "$?" > $o/stop
show show3
journalctl -u warrend -o json --no-pager > $o/journal 2>&1
touch $o/done
systemctl poweroff
EOF
chmod 755 "$R/usr/local/sbin/warren-probe"
cat > "$R/etc/systemd/system/warren-probe.service" <<'EOF'
[Unit]
Description=21-systemd.t: run warrend.service and report
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/warren-probe
[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/warren-probe.service \
    "$R/etc/systemd/system/multi-user.target.wants/warren-probe.service"
# nspawn's containers lack CAP_NET_ADMIN unless given it: given, so that
# the unit's empty bounding set is what takes it away.
bg systemd-nspawn --register=no --keep-unit -q -D "$R" \
    --capability=CAP_NET_ADMIN --bind="$T/out:/out" --boot > "$T/nspawn.log" 2>&1
NSPAWN_PID=$LASTPID
n=0
while [ $n -lt 900 ] && [ ! -e "$T/out/ready" ] && alive "$NSPAWN_PID"; do
	sleep 0.1; n=$((n + 1))
done
[ -e "$T/out/booted" ] || { tail -n 20 "$T/nspawn.log" | sed 's/^/# /';
    skip_c "systemd-nspawn could not boot the container here"; }
is "$(cat "$T/out/start" 2>/dev/null)" 0 "systemctl start warrend"
like "$(cat "$T/out/show1")" "^ActiveState=active" "the unit is active"
like "$(cat "$T/out/show1")" "^StatusText=serving: worker pid [0-9]" \
    "its status line (STATUS=) names the serving worker"
uid=$(cat "$T/out/uid")
like "$(grep '^Uid:' "$T/out/proc-status")" "^Uid:	$uid	$uid	$uid	$uid" \
    "the keeper runs as the user warren (uid $uid)"
like "$(grep '^CapEff:' "$T/out/proc-status")" "^CapEff:	0000000000000000$" \
    "no effective capability"
like "$(grep '^CapBnd:' "$T/out/proc-status")" "^CapBnd:	0000000000000000$" \
    "an empty bounding set"
like "$(tail -n 1 "$T/out/wstatus")" "^0$" \
    "warren status on /run/warren/warrend.sock (RuntimeDirectory=)"
OUT=$(echo through-systemd | timeout 20 "$BIN/warren" connect -c "$T/cclient.conf" echo 2> "$T/cclient.err")
is "$OUT" "through-systemd" "a session from the host through warrend under systemd"
touch "$T/out/go"
wait_exit "$NSPAWN_PID" 120
is "$(cat "$T/out/reload" 2>/dev/null)" 0 "systemctl reload warrend"
like "$(cat "$T/out/show2" 2>/dev/null)" "^ActiveState=active" "active after the reload"
like "$(cat "$T/out/show3" 2>/dev/null)" "^Result=success" "systemctl stop: a clean stop"
# The journal: priorities from the prefix, and the text without it.
jq -r 'select(.MESSAGE | test("event=started ")) | .PRIORITY' \
    "$T/out/journal" > "$T/prio" 2>&1
is "$(sort -u "$T/prio")" 6 "the journal has event=started at priority 6 (info)"
jq -r 'select(.MESSAGE | test("level=")) | .MESSAGE' "$T/out/journal" \
    > "$T/messages" 2>&1
check "the journal has warrend's lines, none with a <N> prefix left" \
    sh -c "grep -q 'level=info event=keeper' '$T/messages' &&
    ! grep -q '^<' '$T/messages'"
