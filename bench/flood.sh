#!/bin/sh
# bench/flood: warren's front door under a flood (issue 3), on loopback.
#
# Starts bench/backend (echo), warrend (with a control socket) and
# `warren forward` in a private temporary directory, then:
#   1. captures one legitimate INIT the way an on-path attacker would
#      (bench/flood -C, a UDP relay between `warren connect` and warrend);
#   2. baseline: legitimate sessions through `warren forward` for
#      FLOOD_BASE_SECONDS with no flood;
#   3. flood: bench/flood sends junk, bad-mac1 INITs, valid-mac1 INITs from
#      unauthorized and from unknown keys and replays of the captured INIT,
#      from FLOOD_SOURCES addresses in 127.1.0.0/16, for FLOOD_SECONDS,
#      while the same legitimate load runs through `warren forward`;
#   4. recovery: legitimate sessions for 3 s after the flood.
# It reports packets sent, legitimate sessions attempted and succeeded,
# their p50/p99 with and without the flood, warrend's CPU per flood packet,
# its RSS before/after, its drop counters (`warren status`, where the build
# has it), and PASS/FAIL against the issue's targets.
#
# Legitimate load (FLOOD_LEGIT):
#   paced     [default] bench/flood -L: FLOOD_LEGIT_RATE sessions/s (10) on
#             a fixed schedule, from 127.0.0.1 with one client key
#   connrate  bench/connrate with FLOOD_LEGIT_CONC threads (2) back to back,
#             as fast as they go (about 1500/s here from one address and key: far
#             above the per-source handshake rate a node allows under load)
#
# Environment (defaults in brackets):
#   FLOOD_SECONDS [30]  FLOOD_BASE_SECONDS [10]  FLOOD_RATE [0 = flat out]
#   FLOOD_KINDS [junk,badmac,attacker,unknown,replay]  (also: cookie)
#   FLOOD_SOURCES [256]  FLOOD_LEGIT [paced]  FLOOD_LEGIT_RATE [10]
#   FLOOD_LEGIT_CONC [2]  FLOOD_LOG_LEVEL [warrend's default]
#   FLOOD_SERVER_CONF  extra [server] lines for warrend, ';'-separated,
#                      e.g. "load_threshold = 0" (always under load)
#   FLOOD_STRICT [0]  1: exit 3 when a target is missed
#   BENCH_OUT [build/bench]  KEEP=1 keeps the temporary directory
# Needs `make` first (bin/ and build/cc/libwarren.a).  Binds and sends to
# 127.0.0.0/8 only; kills everything it started on exit.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
BIN=${BIN:-$TOP/bin}
OUT=${BENCH_OUT:-$TOP/build/bench}
LIB=${FLOOD_LIB:-$TOP/build/cc/libwarren.a}
SECS=${FLOOD_SECONDS:-30}
BASE=${FLOOD_BASE_SECONDS:-10}
RATE=${FLOOD_RATE:-0}
KINDS=${FLOOD_KINDS:-junk,badmac,attacker,unknown,replay}
SOURCES=${FLOOD_SOURCES:-256}
LEGIT=${FLOOD_LEGIT:-paced}
LRATE=${FLOOD_LEGIT_RATE:-10}
LCONC=${FLOOD_LEGIT_CONC:-2}
LOGLEVEL=${FLOOD_LOG_LEVEL:-}
SERVER_CONF=${FLOOD_SERVER_CONF:-}
GRANTS=10000-19999
HZ=$(getconf CLK_TCK)
START=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
CMDLINE="sh bench/flood.sh"
for v in FLOOD_SECONDS FLOOD_BASE_SECONDS FLOOD_RATE FLOOD_KINDS \
    FLOOD_SOURCES FLOOD_LEGIT FLOOD_LEGIT_RATE FLOOD_LEGIT_CONC \
    FLOOD_LOG_LEVEL FLOOD_SERVER_CONF; do
	eval "[ -n \"\${$v:-}\" ] && CMDLINE=\"$v='\$$v' \$CMDLINE\""
done

case $LEGIT in paced|connrate) ;; *)
	echo "flood: FLOOD_LEGIT must be paced or connrate" >&2; exit 2 ;;
esac
[ "$SECS" -ge 5 ] 2>/dev/null || { echo "flood: FLOOD_SECONDS >= 5" >&2; exit 2; }

mkdir -p "$OUT" || exit 1
umask 077
T=$(mktemp -d /tmp/warren-flood.XXXXXX) || exit 1
PIDS=""

# descendants PID: its children, grandchildren, ...
descendants() {
	for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$_c"; descendants "$_c"
	done
}

cleanup() {
	trap - EXIT INT TERM HUP
	_all=""
	for p in $PIDS; do _all="$_all $(descendants "$p") $p"; done
	for p in $_all; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $_all; do kill -9 "$p" 2>/dev/null; done
	if [ "${KEEP:-}" = 1 ]; then
		echo "flood: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() { echo "flood: $*" >&2; }
# bg LOGNAME COMMAND...: in the background, stdout to $T/LOGNAME.out,
# stderr to $T/LOGNAME.log; its pid in LASTPID.
bg() {
	_log=$1; shift
	"$@" > "$T/$_log.out" 2> "$T/$_log.log" &
	LASTPID=$!
	PIDS="$PIDS $LASTPID"
}

. "$(dirname "$0")/lib.sh"

cpu() { # cpu PID: user + system clock ticks so far
	awk '{ s = $0; sub(/^[^(]*\(.*\) /, "", s); split(s, f, " ");
	    print f[12] + f[13] }' "/proc/$1/stat" 2>/dev/null || echo 0
}
vm() { # vm PID VmRSS|VmHWM: kB
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null ||
	    echo 0
}
sockdrops() { # sockdrops PORT: datagrams the kernel dropped at that UDP socket
	awk -v p="$(printf '%04X' "$1")" '
	    NR > 1 { split($2, a, ":"); if (a[2] == p) d += $NF } END { print d + 0 }' \
	    /proc/net/udp
}
bufdrops() { # bufdrops: datagrams this host dropped at full UDP socket buffers
	awk '$1 == "Udp:" { if (!c) { for (i = 2; i <= NF; i++)
	    if ($i == "RcvbufErrors") c = i } else print $c }' /proc/net/snmp
}
sockq() { # sockq PORT: bytes waiting in that UDP socket's receive queue
	_h=$(awk -v p="$(printf '%04X' "$1")" '
	    NR > 1 { split($2, a, ":"); split($5, q, ":"); if (a[2] == p)
	        print q[2] }' /proc/net/udp 2>/dev/null | head -n 1)
	echo $((0x${_h:-0}))
}
rcvbuf() { # rcvbuf PORT: the receive buffer size of that UDP socket
	ss -Hlunm "sport = :$1" 2>/dev/null |
	    sed -n 's/.*skmem:(r[0-9]*,rb\([0-9]*\),.*/\1/p' | head -n 1
}
kv() { # kv KEY LINE...: the value of KEY=value in a key=value line
	_k=$1; shift
	echo "$*" | tr ' ' '\n' | sed -n "s/^$_k=//p" | head -n 1
}
STATUS=0
status() { # status FILE: warren status into FILE, if this build has it
	if "$BIN/warren" status -s "$T/ctl" > "$1" 2> "$T/status.err" &&
	    grep -q '^rx_packets ' "$1"; then
		STATUS=1
		return 0
	fi
	: > "$1"
	return 1
}
counter() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# ---------------------------------------------------------------- build
if [ ! -x "$BIN/warrend" ] || [ ! -x "$BIN/warren" ] || [ ! -f "$LIB" ]; then
	say "bin/warrend, bin/warren or $LIB is missing: run make first"
	exit 1
fi
for f in src/*.c src/*.h cmd/*/*.c; do
	if [ "$f" -nt "$LIB" ] || [ "$f" -nt "$BIN/warrend" ]; then
		say "note: $f is newer than the build; run make for current figures"
		break
	fi
done
for h in backend connrate; do
	${CC:-cc} -O2 -Wall -pthread -o "$OUT/$h" "bench/$h.c" || exit 1
done
${CC:-cc} -O2 -Wall -pthread -D_GNU_SOURCE -Isrc -o "$OUT/flood" \
    bench/flood.c "$LIB" -lcrypto -luv -linih -lpthread || exit 1
if ldd "$BIN/warrend" 2>/dev/null | grep -q 'lib[at]san\|libubsan'; then
	say "bin/ holds a sanitizer build: its figures mean little"
fi
case $LOAD0 in 0.[0-4]*) ;; *)
	say "the machine is busy (load average $LOAD0): expect noisy figures" ;;
esac

# ---------------------------------------------------------------- setup
port BACKEND; port UDP; port FWD; port CAP
for k in server client; do
	"$BIN/warren" genkey > "$T/$k.key" &&
	"$BIN/warren" pubkey < "$T/$k.key" > "$T/$k.pub" || exit 1
done
write_server() {
	{
		echo "[server]"
		echo "private_key = $T/server.key"
		echo "listen = 127.0.0.1:$UDP"
		echo "grant_ports = $GRANTS"
		[ "$1" = control ] && echo "control = $T/ctl"
		[ -n "$LOGLEVEL" ] && echo "log_level = $LOGLEVEL"
		[ -n "$SERVER_CONF" ] && echo "$SERVER_CONF" | tr ';' '\n' |
		    sed 's/^ *//'
		echo "[service bench]"
		echo "connect = 127.0.0.1:$BACKEND"
		echo "[client bench]"
		echo "public_key = $(cat "$T/client.pub")"
		echo "services = bench"
	} > "$T/warrend.conf"
}
write_server control
if ! "$BIN/warrend" -c "$T/warrend.conf" --check > /dev/null 2>&1; then
	say "this warrend does not take control = (yet): running without it"
	write_server none
	"$BIN/warrend" -c "$T/warrend.conf" --check >&2 || exit 1
fi
for dst in "$UDP:warren" "$CAP:capture"; do
	cat > "$T/${dst#*:}.conf" <<-EOF
	[client]
	private_key = $T/client.key
	log_level = warn
	[cluster bench]
	public_key = $(cat "$T/server.pub")
	nodes = 127.0.0.1:${dst%%:*}
	EOF
done

bg backend "$OUT/backend" "$BACKEND"
wait_port "$BACKEND" || { say "backend did not start"; exit 1; }
bg warrend "$BIN/warrend" -c "$T/warrend.conf"
WPID=$LASTPID
wait_port "$UDP" udp || { say "warrend did not start"; cat "$T/warrend.log" >&2; exit 1; }
bg forward "$BIN/warren" forward -c "$T/warren.conf" "127.0.0.1:$FWD" bench
wait_port "$FWD" || { say "warren forward did not start"; exit 1; }
if ! timeout 20 "$OUT/connrate" "$FWD" 1 1 > "$T/smoke.out" 2>&1 ||
    [ "$(kv sessions $(cat "$T/smoke.out"))" = 0 ]; then
	say "no session gets through warren forward:"; cat "$T/smoke.out" >&2
	tail -n 5 "$T/warrend.log" "$T/forward.log" >&2
	exit 1
fi

# legit_start SECONDS OUTFILE: start the legitimate load in the background
# (its pid in LPID); legit_end OUTFILE: wait for it and leave one
# key=value line (with attempted=) in OUTFILE; legit: both.
legit_start() {
	if [ "$LEGIT" = paced ]; then
		timeout $(($1 + 30)) "$OUT/flood" -L "$FWD" -r "$LRATE" -c 64 \
		    -t "$1" > "$2" 2> "$2.err" &
	else
		timeout $(($1 + 30)) "$OUT/connrate" "$FWD" "$1" "$LCONC" \
		    > "$2" 2> "$2.err" &
	fi
	LPID=$!
	PIDS="$PIDS $LPID"
}
legit_end() {
	wait "$LPID"
	_l=$(cat "$1")
	if [ "$LEGIT" = connrate ] && [ -n "$_l" ]; then
		echo "attempted=$(( $(kv sessions $_l) + $(kv errors $_l) )) $_l" > "$1"
	fi
	return 0
}
legit() { legit_start "$1" "$2"; legit_end "$2"; }

# ---------------------------------------------------------------- capture
CAPTURED=0
bg capture "$OUT/flood" -C "$CAP" -o "$T/init.bin" -t 10 "127.0.0.1:$UDP"
CAPPID=$LASTPID
wait_port "$CAP" udp
printf e | timeout 10 "$BIN/warren" connect -c "$T/capture.conf" bench \
    > "$T/capture-session.out" 2> "$T/capture-session.log"
wait "$CAPPID" 2>/dev/null
if [ -s "$T/init.bin" ]; then
	CAPTURED=1
	say "captured a legitimate INIT ($(wc -c < "$T/init.bin") bytes; its own session $(
	    [ "$(cat "$T/capture-session.out")" = e ] && echo succeeded || echo FAILED))"
else
	say "could not capture an INIT: flooding without replays"
	KINDS=$(echo "$KINDS" | sed 's/,*replay//; s/^,//')
fi

# ---------------------------------------------------------------- baseline
say "baseline: $LEGIT legitimate sessions for ${BASE}s, no flood"
c0=$(cpu "$WPID")
legit "$BASE" "$T/base.out"
c1=$(cpu "$WPID")
BASELINE=$(cat "$T/base.out")
say "baseline: $BASELINE"
[ -n "$BASELINE" ] || { say "baseline failed: $(cat "$T/base.out.err")"; exit 1; }
CPU_SESSION_US=$(echo "$c0 $c1 $HZ $(kv sessions $BASELINE)" |
    awk '{ printf "%.0f", $4 ? ($2 - $1) / $3 * 1e6 / $4 : 0 }')
sleep 1

# ---------------------------------------------------------------- flood
status "$T/status0.txt"
CPU0=$(cpu "$WPID"); RSS0=$(vm "$WPID" VmRSS); HWM0=$(vm "$WPID" VmHWM)
DROPS0=$(sockdrops "$UDP"); BUF0=$(bufdrops); LOG0=$(wc -c < "$T/warrend.log")
LOGL0=$(wc -l < "$T/warrend.log")
[ "$CAPTURED" = 1 ] && REPLAY="-R $T/init.bin" || REPLAY=""
say "flood: $KINDS from $SOURCES sources for ${SECS}s$( [ "$RATE" -gt 0 ] 2>/dev/null &&
    echo " at $RATE packets/s" || echo ", as fast as possible"); legitimate load: $LEGIT"
bg flood timeout $((SECS + 60)) "$OUT/flood" -t "$SECS" -r "$RATE" \
    -k "$KINDS" -n "$SOURCES" -K "$T/server.pub" $REPLAY "127.0.0.1:$UDP"
FPID=$LASTPID
_n=600
while [ $_n -gt 0 ] && ! grep -q flooding "$T/flood.log" 2>/dev/null; do
	kill -0 "$FPID" 2>/dev/null || break
	sleep 0.1; _n=$((_n - 1))
done
grep -q flooding "$T/flood.log" || { say "the flooder did not start:"; cat "$T/flood.log" >&2; exit 1; }
sleep 1
legit_start $((SECS - 2)) "$T/during.out"
PEAK=$RSS0
QPEAK=0
RCVBUF=$(rcvbuf "$UDP")
DEAD=""
while kill -0 "$FPID" 2>/dev/null; do
	sleep 1
	if ! kill -0 "$WPID" 2>/dev/null; then
		DEAD="warrend died during the flood"
		break
	fi
	_r=$(vm "$WPID" VmRSS)
	[ "${_r:-0}" -gt "$PEAK" ] && PEAK=$_r
	_q=$(sockq "$UDP")
	[ "${_q:-0}" -gt "$QPEAK" ] && QPEAK=$_q
	if [ "$STATUS" = 1 ] && status "$T/sample.txt"; then
		echo "$(counter under_load "$T/sample.txt") $(counter handshake_queue "$T/sample.txt") $(counter cookies_sent "$T/sample.txt")" >> "$T/samples.txt"
	fi
done
wait "$FPID"
legit_end "$T/during.out"
CPU1=$(cpu "$WPID"); RSS1=$(vm "$WPID" VmRSS); HWM1=$(vm "$WPID" VmHWM)
DROPS1=$(sockdrops "$UDP"); BUF1=$(bufdrops); LOG1=$(wc -c < "$T/warrend.log")
LOGL1=$(wc -l < "$T/warrend.log")
status "$T/status1.txt"
FLOOD=$(grep '^flood: ' "$T/flood.out")
DURING=$(cat "$T/during.out")
[ -n "$FLOOD" ] || { say "the flooder failed:"; cat "$T/flood.log" >&2; }
[ -n "$DURING" ] || say "the legitimate load failed: $(cat "$T/during.out.err")"
sleep 1
legit 3 "$T/after.out"
AFTER=$(cat "$T/after.out")
sleep 2
RSS2=$(vm "$WPID" VmRSS)
kill -0 "$WPID" 2>/dev/null || DEAD=${DEAD:-"warrend died after the flood"}

# ---------------------------------------------------------------- report
SENT=$(kv sent $FLOOD); FRATE=$(kv rate $FLOOD); FSECS=$(kv seconds $FLOOD)
KDROPS=$((DROPS1 - DROPS0))
FULL=$((BUF1 - BUF0)); [ "$FULL" -le "$KDROPS" ] || FULL=$KDROPS
FILTERED=$((KDROPS - FULL))
RX=$(( ${SENT:-0} - KDROPS ))
if [ "$STATUS" = 1 ] && [ -s "$T/status1.txt" ] && [ -s "$T/status0.txt" ]; then
	RX=$(( $(counter rx_packets "$T/status1.txt") - $(counter rx_packets "$T/status0.txt") ))
fi
LS=$(kv sessions $DURING); LA=$(kv attempted $DURING)
cpu_s=$(echo "$CPU0 $CPU1 $HZ" | awk '{ printf "%.2f", ($2 - $1) / $3 }')
REPORT="$T/report.txt"
{
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src cmd 2>/dev/null || echo "+uncommitted")
echo "Measured $(date -u +%Y-%m-%dT%H:%MZ), commit $COMMIT, with \`$CMDLINE\`."
echo "Machine: $(nproc) CPUs, $cpu; load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end."
echo "warren status counters: $([ "$STATUS" = 1 ] && echo "read from $T/ctl" || echo "not available in this build")."
echo
echo "Flood ($KINDS, $SOURCES sources in 127.1.0.0/16, ${SECS} s):"
sed 's/^/    /' "$T/flood.out" | grep -v '^    flood: '
pct() { echo "$1 ${SENT:-0}" | awk '{ printf "%.1f", $2 ? 100 * $1 / $2 : 0 }'; }
echo "    warrend read $RX of them; the kernel dropped $KDROPS: $FILTERED ($(pct "$FILTERED")%) in warrend's under-load socket filter (not an INIT), $FULL ($(pct "$FULL")%) at its full socket buffer"
echo "    warrend's socket receive queue: at most $((QPEAK / 1024)) KiB waiting (1 s samples), of a $(( ${RCVBUF:-0} / 1024 )) KiB buffer"
echo
echo "Legitimate sessions ($LEGIT$([ "$LEGIT" = paced ] && echo ", $LRATE/s" || echo ", $LCONC threads back to back"), through warren forward):"
echo "    baseline, no flood: $BASELINE"
echo "    during the flood:   $DURING"
echo "    after the flood:    $AFTER"
echo
echo "warrend during the flood:"
echo "    CPU: $cpu_s s in ${FSECS:-?} s of flood ($(echo "$cpu_s ${FSECS:-1}" | awk '{ printf "%.0f", 100 * $1 / $2 }')% of one core)"
echo "    CPU per legitimate session at baseline: $CPU_SESSION_US us"
echo "    RSS: $RSS0 kB before, $PEAK kB peak (1 s samples), $RSS1 kB after, $RSS2 kB 3 s later; VmHWM $HWM0 -> $HWM1 kB"
echo "    log: $((LOGL1 - LOGL0)) lines, $((LOG1 - LOG0)) bytes on stderr during the flood"
[ -n "$DEAD" ] && echo "    !!! $DEAD; last log lines:" && tail -n 5 "$T/warrend.log" | sed 's/^/    /'
if [ "$STATUS" = 1 ]; then
	echo "    counters that moved (warren status, during the flood):"
	awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d) printf "        %s %+d (now %s)\n", $1, d, $2 }' \
	    "$T/status0.txt" "$T/status1.txt"
	[ -s "$T/samples.txt" ] && awk '{ n++; if ($1 + 0) u++; if ($2 + 0 > q) q = $2 + 0 }
	    END { printf "    1 s samples: under_load in %d of %d, handshake_queue at most %d\n", u, n, q }' "$T/samples.txt"
fi
echo
} > "$REPORT"
# Targets.
awk -v la="${LA:-0}" -v ls="${LS:-0}" -v p99="$(kv p99_ms $DURING)" \
    -v bp99="$(kv p99_ms $BASELINE)" -v bp50="$(kv p50_ms $BASELINE)" \
    -v p50="$(kv p50_ms $DURING)" -v rss0="$RSS0" -v rss1="$RSS1" \
    -v peak="$PEAK" -v c0="$CPU0" -v c1="$CPU1" -v hz="$HZ" -v sent="${SENT:-0}" \
    -v rx="$RX" -v csess="$CPU_SESSION_US" -v dead="$DEAD" -v frate="${FRATE:-0}" -v mbps="$(kv mbps $FLOOD)" '
function verdict(ok) { if (!ok) fail++; return ok ? "PASS" : "FAIL" }
BEGIN {
	cpu = (c1 - c0) / hz
	net = cpu - ls * csess / 1e6; if (net < 0) net = 0
	grow = (peak > rss1 ? peak : rss1) - rss0
	printf "Targets (issue 3), flood of %.0f packets/s (%s Mb/s):\n", frate, mbps
	succ = la ? 100 * ls / la : 0
	printf "  %s  legitimate sessions succeed >= 99%%: %d of %d (%.2f%%)\n",
	    verdict(la > 0 && succ >= 99), ls, la, succ
	printf "  %s  legitimate p99 connect latency < 100 ms: %s ms under flood (p50 %s ms; baseline p50 %s ms, p99 %s ms)\n",
	    verdict(p99 != "" && p99 + 0 < 100 && ls > 0), (p99 == "" ? "n/a" : p99), p50, bp50, bp99
	printf "  %s  warrend RSS growth < 10 MiB: %+.1f MiB (%d kB before, %d kB peak or after)\n",
	    verdict(grow < 10240), grow / 1024, rss0, (peak > rss1 ? peak : rss1)
	printf "  %s  warrend CPU per dropped packet < 2 us: %.2f us per packet warrend read (%d read; %.2f s of CPU less %.2f s for the legitimate sessions); %.2f us per packet sent\n",
	    verdict(rx > 0 && net * 1e6 / rx < 2), (rx > 0 ? net * 1e6 / rx : 0), rx, cpu, cpu - net, (sent > 0 ? cpu * 1e6 / sent : 0)
	if (dead != "") { printf "  FAIL  %s\n", dead; fail++ }
	printf "  overall: %s\n", fail ? "FAIL (" fail " of the targets missed)" : "PASS"
	exit fail ? 3 : 0
}' >> "$REPORT"
TRC=$?
{
	echo
	echo "Note: flooder, warrend, warren forward, the legitimate load and the"
	echo "echo backend share this machine's $(nproc) cores; the flood rate above is what"
	echo "the flooder reached while competing with warrend for CPU."
} >> "$REPORT"
echo
cat "$REPORT"
cp "$REPORT" "$OUT/flood-results.txt"
{ echo; echo "raw:"; echo "flood $FLOOD"; echo "baseline $BASELINE";
  echo "during $DURING"; echo "after $AFTER"; } >> "$OUT/flood-results.txt"
echo "(also in $OUT/flood-results.txt; $(( $(date +%s) - START )) s)"
[ "${FLOOD_STRICT:-0}" = 1 ] && exit $TRC
exit 0
