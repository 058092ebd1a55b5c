#!/bin/sh
# bench/redis: redis-benchmark with 50 parallel clients (-c 50), straight
# to a redis-server on loopback and through `warren forward` and warrend
# with their DEFAULT limits (issue 10: a normal parallel client must get
# through without queueing or limit warnings).  Each of REDIS_TESTS is run
# REDIS_REPS times each way, alternating; the median of the requests per
# second and of the p50 latency is reported, with the ratio, the CPU time
# warrend's worker and the agent spent per 100k requests, and how many
# limit lines warrend logged (it must be 0).
#
# Environment (defaults in brackets):
#   REDIS_REQUESTS [200000]  REDIS_CLIENTS [50]  REDIS_TESTS ["set,get"]
#   REDIS_PIPELINE ["1 16"]  REDIS_REPS [3]  BENCH_OUT [build/bench]
#   KEEP=1 keeps the temporary directory.
# Needs `make` first, redis-server and redis-benchmark (make deps).  Only
# 127.0.0.1 is used.  Output: a markdown block on stdout and in
# build/bench/redis.txt.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
BIN=${BIN:-$TOP/bin}
OUT=${BENCH_OUT:-$TOP/build/bench}
N=${REDIS_REQUESTS:-200000}
C=${REDIS_CLIENTS:-50}
TESTS=${REDIS_TESTS:-set,get}
PIPES=${REDIS_PIPELINE:-1 16}
REPS=${REDIS_REPS:-3}
mkdir -p "$OUT" || exit 1
umask 077
T=$(mktemp -d /tmp/warren-redis.XXXXXX) || exit 1
PIDS=""
. "$TOP/bench/lib.sh"

say() { echo "redis: $*" >&2; }
cleanup() {
	trap - EXIT INT TERM HUP
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ "${KEEP:-}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for p in redis-server redis-benchmark; do
	command -v $p > /dev/null || { say "$p is missing: make deps"; exit 1; }
done
if [ ! -x "$BIN/warrend" ] || [ ! -x "$BIN/warren" ]; then
	say "bin/warrend and bin/warren are missing: run make first"
	exit 1
fi
for k in server client; do
	"$BIN/warren" genkey > "$T/$k.key" &&
	"$BIN/warren" pubkey < "$T/$k.key" > "$T/$k.pub" || exit 1
done
port REDIS; port UDP; port FWD
redis-server --bind 127.0.0.1 --port "$REDIS" --save '' --appendonly no \
    --daemonize no --loglevel warning > "$T/redis.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$REDIS" || { say "redis-server did not start"; exit 1; }

# The defaults of warren.conf(5): no limit is raised.
cat > "$T/warrend.conf" <<EOF
[server]
private_key = $T/server.key
listen = 127.0.0.1:$UDP
grant_ports = 10000-14999
store = memory
control = $T/ctl.sock
[service redis]
connect = 127.0.0.1:$REDIS
[client bench]
public_key = $(cat "$T/client.pub")
services = redis
EOF
cat > "$T/warren.conf" <<EOF
[client]
private_key = $T/client.key
[cluster c]
public_key = $(cat "$T/server.pub")
nodes = 127.0.0.1:$UDP
EOF
"$BIN/warrend" -c "$T/warrend.conf" 2> "$T/warrend.log" &
PIDS="$PIDS $!"
wait_port "$UDP" udp || { say "warrend did not start"; exit 1; }
WORKER=$(sed -n 's/.*event=started .* pid=\([0-9]*\).*/\1/p' "$T/warrend.log" |
    tail -n 1)
"$BIN/warren" forward -c "$T/warren.conf" "127.0.0.1:$FWD" redis \
    2> "$T/warren.log" &
APID=$!; PIDS="$PIDS $APID"
wait_port "$FWD" || { say "warren forward did not start"; exit 1; }

# cpu PID: its user+system time so far, in clock ticks.
cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

# run WHERE PORT PIPE REP: one redis-benchmark; its CSV into $T/WHERE-PIPE-REP.csv
run() {
	timeout 600 redis-benchmark -h 127.0.0.1 -p "$2" -c "$C" -n "$N" \
	    -P "$3" -t "$TESTS" --csv > "$T/$1-$3-$4.csv" 2> "$T/$1-$3-$4.err" ||
	    say "redis-benchmark $1 -P $3 failed: $(tail -n 1 "$T/$1-$3-$4.err")"
}

say "redis-benchmark -c $C -n $N -t $TESTS -P \"$PIPES\", $REPS runs each way"
for pipe in $PIPES; do
	w0=$(cpu "$WORKER"); a0=$(cpu "$APID")
	for rep in $(seq "$REPS"); do
		run direct "$REDIS" "$pipe" "$rep"
		run warren "$FWD" "$pipe" "$rep"
	done
	w1=$(cpu "$WORKER"); a1=$(cpu "$APID")
	echo "$pipe $((w1 - w0)) $((a1 - a0))" >> "$T/cpu"
done

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0;
    else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# col WHERE PIPE TEST FIELD: FIELD (2 rps, 5 p50) of TEST over the runs
col() {
	cat "$T/$1-$2"-*.csv 2>/dev/null | tr -d '"' |
	    awk -F, -v t="$3" -v f="$4" '$1 == t { print $f }' | median
}

LIMITS=$(grep -c 'event=limit' "$T/warrend.log")
DROPS=$("$BIN/warren" status -s "$T/ctl.sock" 2>/dev/null |
    awk '$1 == "drop_pending_ip" { print $2 }')
{
	echo "### redis-benchmark -c $C through warren ($(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null))"
	echo
	echo "\`redis-benchmark -h 127.0.0.1 -p PORT -c $C -n $N -P P -t $TESTS --csv\`,"
	echo "median of $REPS runs each way; warrend and the agent with default limits."
	echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs."
	echo
	echo "| test | -P | direct req/s | warren req/s | warren/direct | direct p50 ms | warren p50 ms | added p50 ms |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for pipe in $PIPES; do
		for t in $(echo "$TESTS" | tr a-z, A-Z' '); do
			d=$(col direct "$pipe" "$t" 2); w=$(col warren "$pipe" "$t" 2)
			dl=$(col direct "$pipe" "$t" 5); wl=$(col warren "$pipe" "$t" 5)
			awk -v t="$t" -v p="$pipe" -v d="$d" -v w="$w" -v dl="$dl" -v wl="$wl" \
			    'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f | %.3f | %.3f | %.3f |\n",
			    t, p, d, w, (d > 0 ? w / d : 0), dl, wl, wl - dl }'
		done
	done
	echo
	echo "CPU time of the warren runs (all tests and runs of one -P), per 100k requests:"
	echo
	echo "| -P | warrend worker ms | agent ms |"
	echo "| ---: | ---: | ---: |"
	ntests=$(echo "$TESTS" | tr ',' '\n' | grep -c .)
	# Both directions ran in the window; only the warren runs touch warrend.
	while read -r pipe w a; do
		awk -v p="$pipe" -v w="$w" -v a="$a" -v hz="$HZ" -v n="$N" \
		    -v k="$((REPS * ntests))" 'BEGIN { r = n * k / 100000;
		    printf "| %s | %.0f | %.0f |\n", p, w * 1000 / hz / r, a * 1000 / hz / r }'
	done < "$T/cpu"
	echo
	echo "warrend logged $LIMITS limit line(s); drop_pending_ip $DROPS."
} | tee "$OUT/redis.txt"
[ "$LIMITS" = 0 ]
