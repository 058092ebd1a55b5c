#!/bin/sh
# bench/resume: what it costs to resume a session whose carrier was lost
# (issue 9), on loopback inside a network namespace of its own (root and
# unshare --net; skipped otherwise), so that killing carriers by port and
# the tc rule of the link cut touch nothing but this bench.
#
#   outage   bench/resume ping: a program sends an 8-byte message every
#            2 ms through `warren forward` to bench/backend's echo and
#            times each echo.  RESUME_KILLS times, 200-500 ms apart, the
#            carrier is reset (SOCK_DESTROY, what `ss -K` does: an RST
#            to warrend, an error at the agent's next read); the outage is
#            from the kill to the first echo after the resume.
#   worker   the same, RESUME_WORKER_KILLS times, but a kill is kill -9 of
#            warrend's worker (the pid of its newest event=started line):
#            the carrier dies with the worker, the keeper hands the
#            sessions to its spare worker, and the agent resumes on it.
#            The keeper restarts at most 20 workers at once (then one
#            every 3 s, keeper.c BURST), so every 20 kills run on a fresh
#            warrend and agent; the percentiles are over all of a run's.
#   cut      the same, RESUME_CUTS times for each dead_busy in
#            RESUME_DEAD_BUSY, but the carrier's packets are dropped (tc on
#            the namespace's lo, both ways) until the echo is back: nobody
#            sees an RST, the agent notices the silence (dead_busy, checked
#            once a second) and resumes on a new carrier.
#   rate     bench/resume burst: RESUME_M connections opened at once
#            through one `warren forward` (M full handshakes), one byte
#            echoed on each; then every carrier killed at once and one
#            byte echoed on each again (M resumes).  Rates, latencies and
#            the CPU time warrend and the agent spent on each.  For
#            reference, bench/connrate's rate of new sessions (BENCH_CONC
#            threads, one session after another, RESUME_CONNRATE_SECONDS).
#   steady   bench/resume cycle: the same, without a cold start or a
#            thundering herd: RESUME_STEADY_M sessions opened and warmed
#            up, then RESUME_STEADY_ROUNDS rounds that close and reopen all
#            of them (handshakes, each with the end of a session, as a node
#            under churn does), then as many rounds that kill all their
#            carriers and echo a byte on each (resumes).  Rates and CPU
#            time per operation of each phase.
#   memory   VmRSS of warrend and of the agent with 0 and RESUME_IDLE idle
#            sessions (bench/resume hold), and with RESUME_BUSY sessions
#            moving bulk data (bench/source) at full speed; KiB per
#            session.  Each point starts from fresh processes.
# Everything runs RESUME_REPS times (default 2) in fresh processes.
#
# Environment (defaults in brackets):
#   RESUME_KILLS [50]  RESUME_WORKER_KILLS [40]  RESUME_CUTS [5]  RESUME_DEAD_BUSY ["1 3"]
#   RESUME_M ["100 500"]  RESUME_IDLE ["100 500"]  RESUME_BUSY ["1 8"]
#   RESUME_REPS [2]  RESUME_PARTS ["outage worker cut rate steady memory"]
#   RESUME_CONNRATE_SECONDS [5]  BENCH_CONC [8]
#   RESUME_STEADY_M ["100"]  RESUME_STEADY_ROUNDS [10]
#   BENCH_OUT [build/bench]  KEEP=1 keeps the temporary directory.
#   RESUME_PERF=DIR: the rate part records warrend's worker with
#   `perf record -g` during each burst, into DIR/rate-R-M-{handshake,resume}.data
#   (and DIR/steady-R-M-{handshake,resume,end}.data for the steady part).
# Needs `make` first.  Output: a markdown block on stdout and in
# build/bench/resume.txt, raw lines after it.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
if [ -z "${WARREN_BENCH_NETNS:-}" ]; then
	if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
		WARREN_BENCH_NETNS=1 exec unshare --net sh "$0" "$@"
	fi
	echo "resume: skipped: needs root and network namespaces (unshare --net)" >&2
	exit 0
fi
ip link set lo up || exit 1

BIN=${BIN:-$TOP/bin}
OUT=${BENCH_OUT:-$TOP/build/bench}
KILLS=${RESUME_KILLS:-50}
WKILLS=${RESUME_WORKER_KILLS:-40}
CUTS=${RESUME_CUTS:-5}
DEADS=${RESUME_DEAD_BUSY:-1 3}
MS=${RESUME_M:-100 500}
IDLE=${RESUME_IDLE:-100 500}
BUSY=${RESUME_BUSY:-1 8}
REPS=${RESUME_REPS:-2}
PARTS=${RESUME_PARTS:-outage worker cut rate steady memory}
CSECS=${RESUME_CONNRATE_SECONDS:-5}
SMS=${RESUME_STEADY_M:-100}
SROUNDS=${RESUME_STEADY_ROUNDS:-10}
CONC=${BENCH_CONC:-8}
PERFDIR=${RESUME_PERF:-}
GLO=10000 GHI=14999          # grant ports: the carriers are the agent's
                             # TCP connections to these
START=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$OUT" || exit 1
umask 077
T=$(mktemp -d /tmp/warren-resume.XXXXXX) || exit 1
PIDS=""
. "$TOP/bench/lib.sh"

say() { echo "resume: $*" >&2; }
cleanup() {
	trap - EXIT INT TERM HUP
	tc qdisc del dev lo root 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ "${KEEP:-}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for h in backend source connrate resume; do
	${CC:-cc} -O2 -Wall -pthread -o "$OUT/$h" "bench/$h.c" || exit 1
done
if [ ! -x "$BIN/warrend" ] || [ ! -x "$BIN/warren" ]; then
	say "bin/warrend and bin/warren are missing: run make first"
	exit 1
fi
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
for k in server client; do
	"$BIN/warren" genkey > "$T/$k.key" &&
	"$BIN/warren" pubkey < "$T/$k.key" > "$T/$k.pub" || exit 1
done
port BACKEND
"$OUT/backend" "$BACKEND" 2> "$T/backend.log" & PIDS="$PIDS $!"
wait_port "$BACKEND" || { say "backend did not start"; exit 1; }

# start TAG DEAD_BUSY LOG_LEVEL: a warrend and a `warren forward` to it,
# logs $T/TAG-*.log, its own LMDB store (not the default /var/lib/warren,
# which other warrends on this host may use); sets FWD (the local port), WPID, APID, CTL.  The
# door's caps are raised so that a burst of M sessions from one address
# and one key is limited by the work, not by a cap: no pending-grant cap,
# no per-key rate, never "under load" (queue 4096, threshold 4096).
start() {
	port FWD; port UDP
	CTL=$T/$1.ctl
	cat > "$T/$1-warrend.conf" <<-EOF
	[server]
	private_key = $T/server.key
	listen = 127.0.0.1:$UDP
	grant_ports = $GLO-$GHI
	control = $CTL
	store = lmdb:$T/store-$1
	log_level = $3
	dead_busy = $2
	max_grants = 65535
	max_sessions = 100000
	pending_per_ip = 65535
	pending_per_ip_port = 65535
	client_rate = 1000000
	load_threshold = 4096
	[service echo]
	connect = 127.0.0.1:$BACKEND
	[client bench]
	public_key = $(cat "$T/client.pub")
	services = echo
	EOF
	cat > "$T/$1-warren.conf" <<-EOF
	[client]
	private_key = $T/client.key
	log_level = $3
	dead_busy = $2
	timeout = 30
	[cluster c]
	public_key = $(cat "$T/server.pub")
	nodes = 127.0.0.1:$UDP
	EOF
	"$BIN/warrend" -c "$T/$1-warrend.conf" 2> "$T/$1-warrend.log" &
	WPID=$!; PIDS="$PIDS $WPID"
	wait_port "$UDP" udp || { say "$1: warrend did not start"; return 1; }
	"$BIN/warren" forward -c "$T/$1-warren.conf" "127.0.0.1:$FWD" echo \
	    2> "$T/$1-warren.log" &
	APID=$!; PIDS="$PIDS $APID"
	wait_port "$FWD" || { say "$1: warren forward did not start"; return 1; }
}
# stop PID...: TERM, then KILL what is left after 2 s.
stop() {
	for p in "$@"; do kill "$p" 2>/dev/null; done
	_n=20
	while [ $_n -gt 0 ]; do
		_alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && _alive=1; done
		[ $_alive = 0 ] && break
		sleep 0.1; _n=$((_n - 1))
	done
	for p in "$@"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	return 0
}
# rss PID: VmRSS in KiB of PID and of its children (for warrend: the
# keeper, the worker and the spare worker).
rss() {
	for _p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$_p/status" 2>/dev/null
	done | awk '{ s += $1 } END { printf "%.0f", s }'
}
# cpu_ns PID: time on a CPU of all PID's threads and its children's so far,
# in nanoseconds: warrend is a keeper whose children, a worker and a spare,
# do the work (a worker that died meanwhile is not counted).
cpu_ns() {
	for _p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		cat /proc/"$_p"/task/*/schedstat 2>/dev/null
	done | awk '{ s += $1 } END { printf "%.0f", s }'
}
counter() { "$BIN/warren" status -s "$CTL" 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }'; }
# wait_line FILE PATTERN SECONDS
wait_line() {
	_n=$(( $3 * 10 ))
	while [ $_n -gt 0 ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

RAW=$T/raw
: > "$RAW"
r=1
while [ "$r" -le "$REPS" ]; do
# ------------------------------------------------------------ outage
case " $PARTS " in *" outage "*)
	start out$r 3 info || exit 1
	if timeout 120 "$OUT/resume" ping "$FWD" $GLO $GHI "$KILLS" \
	    > "$T/out$r.txt" 2> "$T/out$r.err"; then
		l=$(tail -n 1 "$T/out$r.txt")
		sed -n "s/^kill /kill reset $r /p" "$T/out$r.txt" >> "$RAW"
		echo "outage reset $r $l resumed_log=$(grep -c 'event=resumed' "$T/out$r-warren.log") load=$(cut -d' ' -f1 /proc/loadavg)" >> "$RAW"
		say "outage (reset) #$r: $l"
	else
		echo "outage reset $r failed" >> "$RAW"
		say "outage (reset) #$r FAILED: $(tail -n 2 "$T/out$r.err")"
	fi
	stop $APID $WPID ;;
esac
# ------------------------------------------------------------ worker
case " $PARTS " in *" worker "*)
	left=$WKILLS b=1 ok=1 res=0 st=0 mis=0
	: > "$T/wk$r.ms"
	while [ "$left" -gt 0 ]; do
		n=$left; [ "$n" -gt 20 ] && n=20
		start wk$r-$b 3 info || exit 1
		if RESUME_KILL_WORKER="$T/wk$r-$b-warrend.log" timeout 120 \
		    "$OUT/resume" ping "$FWD" $GLO $GHI "$n" \
		    > "$T/wk$r-$b.txt" 2> "$T/wk$r-$b.err"; then
			sed -n "s/^kill /kill worker $r /p" "$T/wk$r-$b.txt" >> "$RAW"
			sed -n 's/^kill .*outage_ms=\([^ ]*\) gap_ms=\([^ ]*\)/\1 \2/p' \
			    "$T/wk$r-$b.txt" >> "$T/wk$r.ms"
			l=$(tail -n 1 "$T/wk$r-$b.txt")
			mis=$((mis + $(kv "$l" misordered)))
			res=$((res + $(grep -c 'event=resumed' "$T/wk$r-$b-warren.log")))
			st=$((st + $(grep -c 'event=started' "$T/wk$r-$b-warrend.log") - 1))
		else
			ok=0
			say "worker kill #$r.$b FAILED: $(tail -n 2 "$T/wk$r-$b.err")"
		fi
		stop $APID $WPID
		left=$((left - n)); b=$((b + 1))
	done
	if [ $ok = 1 ] && [ -s "$T/wk$r.ms" ]; then
		# percentiles as resume.c's: the value at index floor(p/100 n)
		pc='{ v[NR] = $1 } END { i = int(p / 100 * NR) + 1; if (i > NR) i = NR; printf "%.2f", v[i] }'
		o50=$(cut -d' ' -f1 "$T/wk$r.ms" | sort -n | awk -v p=50 "$pc")
		o99=$(cut -d' ' -f1 "$T/wk$r.ms" | sort -n | awk -v p=99 "$pc")
		omax=$(cut -d' ' -f1 "$T/wk$r.ms" | sort -n | awk -v p=100 "$pc")
		g50=$(cut -d' ' -f2 "$T/wk$r.ms" | sort -n | awk -v p=50 "$pc")
		l="kills=$(wc -l < "$T/wk$r.ms") misordered=$mis outage_p50_ms=$o50 outage_p99_ms=$o99 outage_max_ms=$omax gap_p50_ms=$g50"
		echo "outage worker $r $l resumed_log=$res workers_started=$st load=$(cut -d' ' -f1 /proc/loadavg)" >> "$RAW"
		say "outage (kill -9 worker) #$r: $l resumed_log=$res workers_started=$st"
	elif [ "$WKILLS" -gt 0 ]; then
		echo "outage worker $r failed" >> "$RAW"
	fi ;;
esac
# ------------------------------------------------------------ cut
case " $PARTS " in *" cut "*)
	for d in $DEADS; do
		start cut$r-$d "$d" info || exit 1
		# Drop the carrier's TCP both ways: htb sends everything to
		# class 1:1 but the carrier's packets, which go to 1:2, a queue
		# of length 0.
		RESUME_CUT='tc qdisc add dev lo root handle 1: htb default 1 &&
		    tc class add dev lo parent 1: classid 1:1 htb rate 10gbit &&
		    tc class add dev lo parent 1: classid 1:2 htb rate 10gbit &&
		    tc qdisc add dev lo parent 1:2 handle 2: pfifo limit 0 &&
		    tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip protocol 6 0xff match ip dport $CARRIER_PORT 0xffff classid 1:2 &&
		    tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip protocol 6 0xff match ip sport $CARRIER_PORT 0xffff classid 1:2' \
		RESUME_UNCUT='tc qdisc del dev lo root' \
		    timeout $((CUTS * (d + 10) + 30)) "$OUT/resume" ping "$FWD" \
		    $GLO $GHI "$CUTS" > "$T/cut$r-$d.txt" 2> "$T/cut$r-$d.err"
		rc=$?
		tc qdisc del dev lo root 2>/dev/null
		if [ $rc = 0 ]; then
			l=$(tail -n 1 "$T/cut$r-$d.txt")
			sed -n "s/^kill /kill cut$d $r /p" "$T/cut$r-$d.txt" >> "$RAW"
			echo "outage cut$d $r $l resumed_log=$(grep -c 'event=resumed' "$T/cut$r-$d-warren.log") load=$(cut -d' ' -f1 /proc/loadavg)" >> "$RAW"
			say "outage (cut, dead_busy $d) #$r: $l"
		else
			echo "outage cut$d $r failed" >> "$RAW"
			say "outage (cut, dead_busy $d) #$r FAILED: $(grep -v Warning "$T/cut$r-$d.err" | tail -n 2)"
		fi
		stop $APID $WPID
	done ;;
esac
# ------------------------------------------------------------ rate
# perf_on WHAT / perf_off: with RESUME_PERF, record warrend (the keeper and
# its workers) meanwhile.
PERFPID=
perf_on() {
	[ -n "$PERFDIR" ] || return 0
	mkdir -p "$PERFDIR"
	perf record -q -g -F 2999 -p "$(echo $WPID \
	    $(cat /proc/"$WPID"/task/*/children 2>/dev/null) | tr ' ' ,)" \
	    -o "$PERFDIR/$1.data" 2> /dev/null &
	PERFPID=$!
	sleep 0.5   # perf attaches
}
perf_off() {
	[ -n "$PERFPID" ] || return 0
	kill -INT "$PERFPID" 2> /dev/null
	wait "$PERFPID" 2> /dev/null
	PERFPID=
}
case " $PARTS " in *" rate "*)
	for m in $MS; do
	start rate$r-$m 3 warn || exit 1
	perf_on rate-$r-$m-handshake
	w0=$(cpu_ns $WPID); a0=$(cpu_ns $APID); p0=$(counter rx_packets)
	"$OUT/resume" burst "$FWD" $GLO $GHI "$m" > "$T/rate$r-$m.txt" \
	    2> "$T/rate$r-$m.err" &
	HP=$!; PIDS="$PIDS $HP"
	if wait_line "$T/rate$r-$m.txt" '^handshake' 120; then
		w1=$(cpu_ns $WPID); a1=$(cpu_ns $APID); p1=$(counter rx_packets)
		c0=$(counter resumes)
		perf_off
		sleep 1  # let the grants close and the loop settle
		perf_on rate-$r-$m-resume
		w2=$(cpu_ns $WPID); a2=$(cpu_ns $APID); p2=$(counter rx_packets)
		kill -USR1 $HP
		if wait_line "$T/rate$r-$m.txt" '^resume' 120; then
			w3=$(cpu_ns $WPID); a3=$(cpu_ns $APID)
			perf_off
			p3=$(counter rx_packets); c1=$(counter resumes)
			h=$(grep '^handshake' "$T/rate$r-$m.txt")
			s=$(grep '^resume' "$T/rate$r-$m.txt")
			echo "rate handshake $r $h warrend_cpu_ms=$(( (w1 - w0) / 1000000 )) agent_cpu_ms=$(( (a1 - a0) / 1000000 )) door_packets=$((p1 - p0))" >> "$RAW"
			echo "rate resume $r $s warrend_cpu_ms=$(( (w3 - w2) / 1000000 )) agent_cpu_ms=$(( (a3 - a2) / 1000000 )) door_packets=$((p3 - p2)) resumes_counted=$((c1 - c0)) resume_drops=$(counter resume_drops) load=$(cut -d' ' -f1 /proc/loadavg)" >> "$RAW"
			say "rate #$r: $h"
			say "rate #$r: $s"
		else
			echo "rate resume $r failed sessions=$m" >> "$RAW"
			say "rate #$r: resumes FAILED: $(tail -n 2 "$T/rate$r-$m.err")"
		fi
	else
		echo "rate handshake $r failed sessions=$m" >> "$RAW"
		say "rate #$r: handshakes FAILED: $(tail -n 2 "$T/rate$r-$m.err")"
	fi
	perf_off
	stop $HP $APID $WPID
	done
	# For reference, new sessions one after the other on CONC threads,
	# as bench/run.sh measures them: no burst, no retries.
	start crate$r 3 warn || exit 1
	w0=$(cpu_ns $WPID); a0=$(cpu_ns $APID); p0=$(counter rx_packets)
	if l=$(timeout 60 "$OUT/connrate" "$FWD" "$CSECS" "$CONC" 2> "$T/crate$r.err"); then
		w1=$(cpu_ns $WPID); a1=$(cpu_ns $APID); p1=$(counter rx_packets)
		n=$(kv "$l" sessions)
		echo "connrate $r $l conc=$CONC warrend_cpu_ms_per=$(echo "$w0 $w1 $n" | awk '{ printf "%.3f", ($2 - $1) / 1e6 / $3 }') agent_cpu_ms_per=$(echo "$a0 $a1 $n" | awk '{ printf "%.3f", ($2 - $1) / 1e6 / $3 }') door_packets_per=$(echo "$p0 $p1 $n" | awk '{ printf "%.2f", ($2 - $1) / $3 }') load=$(cut -d' ' -f1 /proc/loadavg)" >> "$RAW"
		say "connrate #$r: $(tail -n 1 "$RAW")"
	else
		echo "connrate $r failed" >> "$RAW"
	fi
	stop $APID $WPID ;;
esac
# ------------------------------------------------------------ steady
# phase TAG LINE: 1 s after the last, start the helper's next phase
# (SIGUSR1) and wait for its LINE, perf recording it; B_W B_A B_P are
# warrend's and the agent's CPU and warrend's front-door packets before,
# E_W E_A E_P after.
phase() {
	sleep 1
	perf_on steady-$r-$m-$1
	B_W=$(cpu_ns $WPID); B_A=$(cpu_ns $APID); B_P=$(counter rx_packets)
	kill -USR1 $HP
	wait_line "$T/steady$r-$m.txt" "^$2" 300 || { perf_off; return 1; }
	E_W=$(cpu_ns $WPID); E_A=$(cpu_ns $APID); E_P=$(counter rx_packets)
	perf_off
}
# Handshakes against resumes in steady state: the same M sessions, warmed
# up, then ROUNDS rounds of closing and reopening all of them, then ROUNDS
# rounds of killing all their carriers, then the M sessions ended; CPU per
# operation of each phase.
case " $PARTS " in *" steady "*)
	for m in $SMS; do
	start steady$r-$m 3 warn || exit 1
	"$OUT/resume" cycle "$FWD" $GLO $GHI "$m" "$SROUNDS" \
	    > "$T/steady$r-$m.txt" 2> "$T/steady$r-$m.err" &
	HP=$!; PIDS="$PIDS $HP"
	ok=0
	if wait_line "$T/steady$r-$m.txt" '^warm' 120 &&
	    phase handshake handshakes; then
		w0=$B_W a0=$B_A p0=$B_P w1=$E_W a1=$E_A p1=$E_P
		if phase resume resumes; then
			w2=$B_W a2=$B_A p2=$B_P w3=$E_W a3=$E_A p3=$E_P
			phase end ends && ok=1
			e0=$B_W e1=$E_W
		fi
	fi
	if [ $ok = 1 ]; then
		n=$((m * SROUNDS))
		per() { echo "$1 $2 ${3:-$n}" | awk '{ printf "%.3f", ($2 - $1) / 1e6 / $3 }'; }
		pkt() { echo "$1 $2 $n" | awk '{ printf "%.2f", ($2 - $1) / $3 }'; }
		h=$(grep '^handshakes' "$T/steady$r-$m.txt")
		s=$(grep '^resumes' "$T/steady$r-$m.txt")
		echo "steady $r sessions_at_once=$m rounds=$SROUNDS hs_rate=$(kv "$h" rate) res_rate=$(kv "$s" rate) killed=$(kv "$s" killed) hs_warrend_ms=$(per $w0 $w1) res_warrend_ms=$(per $w2 $w3) hs_agent_ms=$(per $a0 $a1) res_agent_ms=$(per $a2 $a3) end_warrend_ms=$(per $e0 $e1 $m) hs_packets=$(pkt $p0 $p1) res_packets=$(pkt $p2 $p3) load=$(cut -d' ' -f1 /proc/loadavg)" >> "$RAW"
		say "steady #$r: $(tail -n 1 "$RAW")"
	else
		echo "steady $r failed sessions_at_once=$m" >> "$RAW"
		say "steady #$r: FAILED: $(tail -n 2 "$T/steady$r-$m.err")"
	fi
	stop $HP $APID $WPID
	done ;;
esac
# ------------------------------------------------------------ memory
case " $PARTS " in *" memory "*)
	for n in 0 $IDLE; do
		start mem$r-$n 3 warn || exit 1
		if [ "$n" -gt 0 ]; then
			"$OUT/resume" hold "$FWD" "$n" > "$T/mem$r-$n.txt" \
			    2> "$T/mem$r-$n.err" &
			HP=$!; PIDS="$PIDS $HP"
			wait_line "$T/mem$r-$n.txt" '^handshake' 120 ||
			    { say "memory: $n sessions did not open"; HP=""; }
		else
			HP=""
		fi
		sleep 1
		echo "memory idle $r sessions=$n warrend_kib=$(rss $WPID) agent_kib=$(rss $APID)" >> "$RAW"
		say "memory: $(tail -n 1 "$RAW")"
		perf_off
	stop $HP $APID $WPID
	done
	for k in $BUSY; do
		start busy$r-$k 3 warn || exit 1
		w0=$(rss $WPID); a0=$(rss $APID)
		SPS=""
		i=0
		while [ $i -lt "$k" ]; do
			timeout 60 "$OUT/source" "$FWD" 1000000 30 > /dev/null \
			    2>> "$T/busy$r-$k.err" &
			SPS="$SPS $!"; PIDS="$PIDS $!"
			i=$((i + 1))
		done
		sleep 2
		# the largest of 10 samples over 2 s
		wm=0 am=0 i=0
		while [ $i -lt 10 ]; do
			x=$(rss $WPID); [ "${x:-0}" -gt $wm ] && wm=$x
			x=$(rss $APID); [ "${x:-0}" -gt $am ] && am=$x
			sleep 0.2; i=$((i + 1))
		done
		echo "memory busy $r sessions=$k warrend_kib=$wm agent_kib=$am warrend_kib_before=$w0 agent_kib_before=$a0" >> "$RAW"
		say "memory: $(tail -n 1 "$RAW")"
		stop $SPS $APID $WPID
	done ;;
esac
r=$((r + 1))
done

# ------------------------------------------------------------ report
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
{
echo "Measured $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src cmd 2>/dev/null || echo "+uncommitted"), with \`sh bench/resume.sh\` ($REPS runs of each)."
echo
echo "- machine: $(nproc) CPUs, $cpu, Linux $(uname -r)"
echo "- load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; the run took $(( $(date +%s) - START )) s"
echo
awk -v reps="$REPS" -v idles="0 $IDLE" -v busys="$BUSY" '
function kv(s, k,   n, i, a, b) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) if (split(a[i], b, "=") == 2 && b[1] == k) return b[2]
	return ""
}
$1 == "outage" && $4 != "failed" {
	what = $2 == "reset" ? "carrier reset (RST)" : $2 == "worker" ? "kill -9 of the worker" : "link cut, dead_busy = " substr($2, 4) " s"
	o = o sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", what, $3,
	    kv($0, "kills"), kv($0, "outage_p50_ms"), kv($0, "outage_p99_ms"),
	    kv($0, "outage_max_ms"), kv($0, "gap_p50_ms"), kv($0, "misordered"), kv($0, "load"))
}
$1 == "outage" && $4 == "failed" { o = o sprintf("| %s | %s | failed | | | | | | |\n", $2, $3) }
$1 == "rate" && $2 == "handshake" && $4 != "failed" {
	hs = kv($0, "rate"); hsl = kv($0, "lat_p50_ms") " / " kv($0, "lat_max_ms")
	hw = kv($0, "warrend_cpu_ms"); ha = kv($0, "agent_cpu_ms"); hp = kv($0, "door_packets") }
$1 == "rate" && $4 == "failed" {
	rt = rt sprintf("| %s | %s | %s | | | | | | | | | |\n", $3, kv($0, "sessions"), $2 == "handshake" ? "failed" : sprintf("%.0f", hs)) }
$1 == "rate" && $2 == "resume" && $4 != "failed" { m = kv($0, "sessions"); rs = kv($0, "rate")
	rt = rt sprintf("| %s | %d | %.0f | %.0f | **%.2fx** | %.3f / %.3f | %.3f / %.3f | %.2f / %.2f | %s | %s | %s / %s | %s |\n",
	    $3, m, hs, rs, rs / hs, hw / m, kv($0, "warrend_cpu_ms") / m,
	    ha / m, kv($0, "agent_cpu_ms") / m, hp / m, kv($0, "door_packets") / m,
	    hsl, kv($0, "lat_p50_ms") " / " kv($0, "lat_max_ms"),
	    kv($0, "killed"), kv($0, "resumes_counted"), kv($0, "load")) }
$1 == "connrate" && $3 != "failed" {
	cr = cr sprintf("| %s | %s | %.0f | %s | %s | %s | %s / %s | %s |\n", $2, kv($0, "conc"), kv($0, "rate"),
	    kv($0, "warrend_cpu_ms_per"), kv($0, "agent_cpu_ms_per"), kv($0, "door_packets_per"),
	    kv($0, "p50_ms"), kv($0, "p99_ms"), kv($0, "load")) }
$1 == "steady" && $3 != "failed" {
	st = st sprintf("| %s | %s x %s | %.0f | %.0f | **%.2fx** | %s / %s | **%.2fx** | %s | %s / %s | %.2fx | %s / %s | %s |\n", $2,
	    kv($0, "sessions_at_once"), kv($0, "rounds"), kv($0, "hs_rate"), kv($0, "res_rate"),
	    kv($0, "res_rate") / kv($0, "hs_rate"), kv($0, "hs_warrend_ms"), kv($0, "res_warrend_ms"),
	    kv($0, "hs_warrend_ms") / kv($0, "res_warrend_ms"), kv($0, "end_warrend_ms"),
	    kv($0, "hs_agent_ms"), kv($0, "res_agent_ms"),
	    kv($0, "hs_agent_ms") / kv($0, "res_agent_ms"), kv($0, "hs_packets"), kv($0, "res_packets"), kv($0, "load")) }
$1 == "steady" && $3 == "failed" { st = st sprintf("| %s | %s | failed | | | | | | | | | |\n", $2, kv($0, "sessions_at_once")) }
$1 == "memory" && $2 == "idle" { n = kv($0, "sessions")
	if (n == 0) { w0[$3] = kv($0, "warrend_kib"); a0[$3] = kv($0, "agent_kib") }
	iw[$3, n] = kv($0, "warrend_kib"); ia[$3, n] = kv($0, "agent_kib"); idle[n] = 1; mr[$3] = 1 }
$1 == "memory" && $2 == "busy" { n = kv($0, "sessions")
	bw[$3, n] = kv($0, "warrend_kib"); ba[$3, n] = kv($0, "agent_kib")
	bw0[$3, n] = kv($0, "warrend_kib_before"); ba0[$3, n] = kv($0, "agent_kib_before"); busy[n] = 1; mr[$3] = 1 }
function per(x, x0, n) { return (n > 0 && x != "" && x0 != "") ? sprintf("%.0f", (x - x0) / n) : "" }
END {
	if (o != "") {
		print "| outage | run | kills | kill to first byte p50 ms | p99 ms | max ms | gap in echoes p50 ms | misordered | load |"
		print "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
		printf "%s\n", o
	}
	ni = split(idles, I, " "); nb = split(busys, B, " ")
	if (rt != "") {
		print "| run | sessions at once | handshakes/s | resumes/s | resume/handshake | warrend CPU ms per handshake / per resume | agent CPU ms per handshake / per resume | front-door packets per handshake / per resume | latency p50 / max ms, handshakes | latency p50 / max ms, resumes | carriers killed / resumes counted | load |"
		print "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
		printf "%s\n", rt
	}
	if (cr != "") {
		print "| run | connrate threads | sessions/s | warrend CPU ms per session | agent CPU ms per session | front-door packets per session | latency p50 / p99 ms | load |"
		print "|--:|--:|--:|--:|--:|--:|--:|--:|"
		printf "%s\n", cr
	}
	if (st != "") {
		print "| run | sessions x rounds | handshakes/s | resumes/s | resume/handshake | warrend CPU ms per handshake (with an end) / per resume | ratio | of which an end | agent CPU ms per handshake / per resume | ratio | front-door packets per handshake / per resume | load |"
		print "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
		printf "%s\n", st
	}
	for (r = 1; r <= reps; r++) {
		if (!(r in mr)) continue
		if (!u) {
			print "| run | sessions | warrend VmRSS KiB | agent VmRSS KiB | warrend KiB per session | agent KiB per session |"
			print "|--:|---|--:|--:|--:|--:|"
			u = 1
		}
		for (i = 1; i <= ni; i++) if ((r, I[i]) in iw) {
			n = I[i]
			printf "| %s | %d idle | %s | %s | %s | %s |\n", r, n, iw[r, n], ia[r, n],
			    per(iw[r, n], w0[r], n), per(ia[r, n], a0[r], n)
		}
		for (i = 1; i <= nb; i++) if ((r, B[i]) in bw) {
			n = B[i]
			printf "| %s | %d busy (bulk) | %s | %s | %s | %s |\n", r, n, bw[r, n], ba[r, n],
			    per(bw[r, n], bw0[r, n], n), per(ba[r, n], ba0[r, n], n)
		}
	}
}' "$RAW"
} > "$T/block.md"
{ cat "$T/block.md"; echo; echo "raw:"; cat "$RAW"; } > "$OUT/resume.txt"
echo
cat "$T/block.md"
echo "raw results: $OUT/resume.txt"
