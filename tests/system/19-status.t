#!/bin/sh
# warren status as an administrator uses it: the live view (version,
# uptime, each session with its client and bytes), --json (parsed by jq),
# --prometheus (checked by promtool when it is installed, and always by a
# strict parser here), -c WARREND_CONF; control_group lets a member that
# is not root read the status and the kernel refuses anyone else; the log
# names the public key of an unknown client; a 50-connection burst goes
# through the default limits without a limit warning, and a burst over a
# small pending_per_ip is one summary line a second, not a line each; an
# agent stopped by SIGHUP after its service ended (an ssh logout) ends the
# session as a normal end.
. "$(dirname "$0")/lib.sh"
plan 44
make_keys stranger
ECHO=$(free_port); UDP=$(free_port); UDP2=$(free_port); BYE=$(free_port)
FWD=$(free_port); FWD2=$(free_port)
start_echo "$ECHO"
# A service that says one line and closes (as sshd at logout).
bg socat TCP-LISTEN:"$BYE",bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo bye'
wait_port "$BYE"

# A group, a member (by a supplementary group) and a non-member, made for
# this test and removed at its end.
G=wst$$g; MEMBER=wst$$m; OTHER=wst$$o
at_exit "userdel '$MEMBER' 2>/dev/null; userdel '$OTHER' 2>/dev/null; groupdel '$G' 2>/dev/null"
groupadd "$G" && useradd -M -N -s /usr/sbin/nologin -G "$G" "$MEMBER" &&
    useradd -M -N -s /usr/sbin/nologin "$OTHER" ||
    { echo "Bail out! cannot make a test group and users"; exit 1; }
# The socket's directory must be reachable by them: $T is 0700.
chmod 711 "$T" && mkdir -m 755 "$T/run"
CTL=$T/run/ctl.sock

# status_conf FILE UDPPORT [EXTRA LINES...]
status_conf() {
	f=$1; port=$2; shift 2
	{
		echo "[server]"
		echo "private_key = $T/server.key"
		echo "listen = 127.0.0.1:$port"
		echo "grant_ports = 38000-38999"
		echo "store = memory"
		echo "log_level = info"
		for l in "$@"; do echo "$l"; done
		echo "[service echo]"
		echo "connect = 127.0.0.1:$ECHO"
		echo "[service bye]"
		echo "connect = 127.0.0.1:$BYE"
		echo "[client client]"
		echo "public_key = $(cat "$T/client.pub")"
		echo "services = echo, bye"
	} > "$f"
}
status_conf "$T/server.conf" "$UDP" "control = $CTL" "control_group = $G"
TIMEOUT=20 client_conf "$T/client.conf" "$UDP"
client_conf "$T/stranger.conf" "$UDP" stranger
check "warrend starts with control_group = $G" start_warrend "$T/server.conf"
is "$(stat -c '%a %G' "$CTL")" "660 $G" "the control socket is mode 660, group $G"

# A session that stays open, having moved a line each way.
mkfifo "$T/in"
bg sh -c "exec '$BIN/warren' connect -c '$T/client.conf' echo < '$T/in' > '$T/held.out' 2> '$T/held.err'"
HELD=$LASTPID
exec 7> "$T/in"
printf 'hello status\n' >&7
check "the held session echoes" wait_for "$T/held.out" "hello status" 10

# The live view.
check "warren status -s exits 0" status_of "$CTL"
out=$(cat "$T/status.out")
like "$out" "^  version: warrend [0-9]" "status: the version"
like "$out" "^  uptime: [0-9]" "status: the uptime"
like "$out" "^  in-flight grants: [0-9]" "status: the grants in flight"
like "$out" "^session: [0-9a-f]\{8\}" "status: the session"
like "$out" "^  client: client\$" "status: the session's client"
like "$out" "^  transfer: 13 B received, 13 B sent\$" "status: the session's bytes each way"
is "$(counter sessions_live)" 1 "status: the counters stay 'name value' lines"

# -c reads the control path from warrend's config; --json parses.
timeout 10 "$BIN/warren" status -c "$T/server.conf" --json > "$T/st.json" 2> "$T/st.err"
is "$?" 0 "warren status -c CONF --json exits 0"
check "--json: jq parses it" jq -e . "$T/st.json"
is "$(jq -r '[.version != null, .gauges.uptime_s >= 0, .gauges.grants_live >= 0,
    .counters.sessions >= 1, .client_sessions.client == 1] | all' "$T/st.json")" \
    true "--json: version, uptime, grants in flight, counters, client_sessions"
is "$(jq -r '.sessions[] | select(.client == "client" and .service == "echo") |
    [.bytes_in, .bytes_out, .carriers, .state, (.idle_s >= 0), (.age_s >= 0),
    (.peer | test("^127\\.0\\.0\\.1:[0-9]+$"))] | map(tostring) | join(" ")' \
    "$T/st.json")" "13 13 1 attached true true true" \
    "--json: the session, its bytes each way, carriers, state, idle, age, peer"

# --prometheus: the text format 0.0.4.
timeout 10 "$BIN/warren" status -s "$CTL" --prometheus > "$T/st.prom" 2> "$T/st.err"
is "$?" 0 "warren status --prometheus exits 0"
# A strict reader of the text format: HELP and TYPE once per family and
# before its samples, valid names and labels, counters named _total,
# every sample of the family last typed, numeric values.
check "--prometheus: a strict parser accepts it" perl -e '
	my (%typed, %helped, $fam, $n);
	my $name = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
	my $lab = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/;
	while (<>) {
		chomp;
		if (/^# HELP ($name) (.*)$/) { die "HELP twice: $1\n" if $helped{$1}++; next }
		if (/^# TYPE ($name) (counter|gauge|untyped)$/) {
			my ($f, $t) = ($1, $2);
			die "TYPE twice: $f\n" if $typed{$f}++;
			die "counter not _total: $f\n" if $t eq "counter" && $f !~ /_total$/;
			die "TYPE before HELP: $f\n" unless $helped{$f};
			$fam = $f; next;
		}
		/^($name)(\{$lab(?:,$lab)*\})? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$/
		    or die "bad line: $_\n";
		my $m = $1;
		die "sample $m not of family $fam\n" unless defined $fam && $m eq $fam;
		die "not warren_: $m\n" unless $m =~ /^warren_/;
		$n++;
	}
	die "no samples\n" unless $n > 20;
' "$T/st.prom"
if command -v promtool > /dev/null; then
	check "--prometheus: promtool check metrics accepts it" \
	    sh -c "promtool check metrics < '$T/st.prom'"
else
	ok "--prometheus: promtool check metrics # SKIP promtool is not installed"
fi
prom=$(cat "$T/st.prom")
like "$prom" '^warren_sessions_total [1-9]' "--prometheus: warren_sessions_total"
like "$prom" '^warren_info{version="[0-9]' "--prometheus: warren_info with the version"
like "$prom" '^warren_sessions_current{client="client",service="echo",state="attached"} 1$' \
    "--prometheus: live sessions by client, service and state"

# The timer that writes it for node_exporter (warren(1), STATUS FORMATS).
if command -v systemd-analyze > /dev/null; then
	check "dist/warren-metrics.service and .timer pass systemd-analyze verify" \
	    systemd-analyze verify --man=no "$TOP/dist/warren-metrics.service" \
	    "$TOP/dist/warren-metrics.timer"
else
	ok "dist/warren-metrics.*: systemd-analyze verify # SKIP no systemd-analyze"
fi

# control_group: a member that is not root reads it; anyone else is refused.
runuser -u "$MEMBER" -- timeout 10 "$BIN/warren" status -s "$CTL" > "$T/member.out" 2> "$T/member.err"
is "$?" 0 "a member of control_group (not root) runs warren status"
like "$(cat "$T/member.out")" "^  client: client\$" "the member sees the live session"
runuser -u "$OTHER" -- timeout 10 "$BIN/warren" status -s "$CTL" > "$T/other.out" 2> "$T/other.err"
is "$?" 1 "a non-member is refused"
like "$(cat "$T/other.err")" "Permission denied" "the non-member is told why: $(head -c 160 "$T/other.err")"
# warrend checks the caller itself too (SO_PEERCRED, SO_PEERGROUPS), not
# only the socket's mode: open the mode to everyone for a moment.
chmod 666 "$CTL"
runuser -u "$OTHER" -- timeout 10 "$BIN/warren" status -s "$CTL" > "$T/other2.out" 2> "$T/other2.err"
rc=$?
chmod 660 "$CTL"
is "$rc" 1 "a non-member that can reach the socket is still refused by warrend"
like "$(cat "$T/other2.err")" "error permission denied: status is for root, warrend's user and control_group" \
    "... with warrend's reason"
check "warrend logs control_denied with the caller's uid" wait_for "$T/warrend.log" \
    "event=control_denied uid=$(id -u "$OTHER") pid=[0-9]* cmd=status" 5

exec 7>&-
check "the held session ends when its input ends" wait_exit "$HELD" 10

# The log names the key an unknown client offered.
echo hi | timeout 10 "$BIN/warren" connect -c "$T/stranger.conf" echo > /dev/null 2>&1
check "unknown_client carries the offered public key" wait_for "$T/warrend.log" \
    "event=unknown_client src=127\.0\.0\.1:[0-9]* key=$(sed 's/[+/]/./g' "$T/stranger.pub")" 5

# An agent stopped by SIGHUP after its service ended: a normal end.
mkfifo "$T/in2"
bg sh -c "exec '$BIN/warren' connect -c '$T/client.conf' bye < '$T/in2' > '$T/bye.out' 2> '$T/bye.err'"
BYEPID=$LASTPID
exec 8> "$T/in2"
check "the service says bye and closes" wait_for "$T/bye.out" "^bye" 10
sleep 0.3
kill -HUP "$BYEPID"
check "the agent exits on SIGHUP" wait_exit "$BYEPID" 5
exec 8>&-
check "the node logs the end as a normal end" wait_for "$T/warrend.log" \
    'event=session_end .*service=bye end=done .*reason="finished"' 5
check "and not as a CLOSE" sh -c "! grep -q 'service=bye end=closed' '$T/warrend.log'"

# burst PORT N OUT: N connections at once to 127.0.0.1:PORT, each sends
# its number and reads it back; writes the ones that came back to OUT.
burst() {
	timeout 60 perl -MIO::Socket::INET -e '
		my ($port, $n) = @ARGV;
		my @s = map { IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $port) or die "connect: $!\n" } 1 .. $n;
		print { $s[$_] } "line $_\n" for 0 .. $n - 1;
		for (0 .. $n - 1) { my $l = readline($s[$_]); print $l if defined $l }
	' "$1" "$2" > "$3" 2> "$3.err"
}

# 50 connections at once through the default limits.
bg "$BIN/warren" forward -c "$T/client.conf" "127.0.0.1:$FWD" echo
FPID=$LASTPID
wait_port "$FWD"
burst "$FWD" 50 "$T/burst.out"
is "$(grep -c '^line [0-9]*$' "$T/burst.out")" 50 "50 connections at once: every one echoes"
status_of "$CTL"
is "$(counter drop_pending_ip)" 0 "the default pending_per_ip refused none of them"
is "$(count "$T/warrend.log" 'event=limit')" 0 "no limit line in the log"
stop "$FPID"

# The node's uptime is the keeper's: a new worker (SIGUSR2) restarts only
# worker_uptime_s.
timeout 10 "$BIN/warren" status -s "$CTL" --json > "$T/before.json"
kill -USR2 "$WARREND_PID"
check "SIGUSR2: a new worker serves" wait_count "$T/warrend.log" "event=started" 2 10
timeout 10 "$BIN/warren" status -s "$CTL" --json > "$T/after.json"
is "$(jq -n --slurpfile a "$T/before.json" --slurpfile b "$T/after.json" \
    '$a[0].gauges.started_unix == $b[0].gauges.started_unix and
    $b[0].gauges.uptime_s >= $a[0].gauges.uptime_s and
    $b[0].gauges.worker_uptime_s < $b[0].gauges.uptime_s')" true \
    "after SIGUSR2: the same started_unix, uptime_s goes on, worker_uptime_s restarted ($(jq -c '.gauges | [.started_unix, .uptime_s, .worker_uptime_s]' "$T/before.json" "$T/after.json" | tr '\n' ' '))"

# The same burst over pending_per_ip = 1: one summary line a second.
stop "$WARREND_PID"
status_conf "$T/small.conf" "$UDP2" "pending_per_ip = 1" "pending_per_ip_port = 1"
client_conf "$T/client2.conf" "$UDP2"
mv "$T/warrend.log" "$T/warrend1.log"
check "warrend starts with pending_per_ip = 1" start_warrend "$T/small.conf"
bg "$BIN/warren" forward -c "$T/client2.conf" "127.0.0.1:$FWD2" echo
wait_port "$FWD2"
burst "$FWD2" 50 "$T/burst2.out"
diag "over pending_per_ip = 1: $(grep -c '^line' "$T/burst2.out") of 50 echoed"
check "the burst tripped pending_per_ip" wait_for "$T/warrend.log" \
    "event=limit .*limit=pending_per_ip" 5
sleep 1.2   # the last second's summary
grep 'event=limit' "$T/warrend.log" > "$T/limits"
diag "limit lines: $(grep -c . "$T/limits"); the first: $(head -n 1 "$T/limits")"
is "$(grep -vc 'event=limit src=127\.0\.0\.1:[0-9]* limit=pending_per_ip\(_port\)\? cap=1 count=[1-9][0-9]* ' "$T/limits")" 0 \
    "every limit line is a summary with its source, cap and count"
# One line a second for each cap (twice that allowed, for a late tick):
# a line per refused connection would be many more.
check "at most about one limit line a second for each cap" perl -e '
	use Time::Local;
	my %t;
	while (<>) {
		/^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z.* limit=(\S+)/ or next;
		push @{$t{$8}}, timegm($6, $5, $4, $3, $2 - 1, $1) * 1000 + $7;
	}
	for my $k (keys %t) {
		my @v = sort { $a <=> $b } @{$t{$k}};
		my $allowed = ($v[-1] - $v[0]) / 500 + 1;
		die "$k: " . @v . " lines in " . ($v[-1] - $v[0]) . " ms\n"
		    if @v > $allowed;
	}
' "$T/limits"
