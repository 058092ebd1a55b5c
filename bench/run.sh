#!/bin/sh
# warren benchmarks: warren against a plain relay, stunnel4 (TLS 1.3),
# spiped and ssh -L, side by side in one run on loopback.
#
# Every setup is the same chain on 127.0.0.1:
#   load generator -> client-side agent -> server-side gateway -> backend
# and gets identical traffic:
#   bulk     bench/source pushes BENCH_MB MiB through one connection into
#            bench/backend's sink; MiB/s from the first byte written to the
#            sink's confirmation that it has all of them.  BENCH_REPS runs,
#            interleaved across setups; the median is reported.
#   duplex   the same connection both ways at once: bench/source -d sends
#            BENCH_MB MiB upstream while bench/backend sends BENCH_MB MiB
#            of its own downstream; MiB/s of both directions together, from
#            the first byte written to the backend's confirmation, which it
#            sends once it has sent its own and received every upstream
#            byte.  Run right after each bulk run, same repetitions.
#   sessions bench/connrate, BENCH_CONC threads for BENCH_SECONDS: connect,
#            write 1 byte, wait for bench/backend's echo, close.  Sessions/s
#            and latency (connect() start to echoed byte) p50/p99, each the
#            median over BENCH_SESSION_REPS interleaved runs.
#
# Environment (defaults in brackets):
#   BENCH_MB [2048]  BENCH_REPS [3]  BENCH_SECONDS [10]  BENCH_CONC [8]
#   BENCH_SESSION_REPS [3]  runs of BENCH_SECONDS per setup, interleaved
#   BENCH_SETUPS ["plain stunnel spiped ssh warren"]
#   BENCH_DUPLEX [1]    0: no duplex runs
#   BENCH_WARREN_OLD    a directory with another build's warren and warrend:
#                       adds the setup warren_old, "warren (before)", run
#                       interleaved with the others (appended to the default
#                       BENCH_SETUPS; name it in BENCH_SETUPS otherwise), and
#                       the new/old ratios.  The two builds need not be wire
#                       compatible: each setup uses both binaries of its own.
#   BENCH_BUDGET [300]  seconds after which no new bulk run starts
#   BENCH_LIMIT [570]   seconds after which no new session run starts
#                       (a run that went over is marked in the results)
#   BENCH_PLOTS [1]     0: don't write docs/bench-*.png
#   BENCH_DOC [0]       1: also replace the results block of
#                       docs/BENCHMARKS.md (between its bench: markers)
#   BENCH_STUNNEL_AUTH [mutual]  none: stunnel verifies no certificate
#   BENCH_OUT [build/bench]  where the helpers, results and plot data go
#   KEEP=1              keep the temporary directory (configs and logs)
#
# Output: a table on stdout (also markdown, ready to paste into
# docs/BENCHMARKS.md), build/bench/results.txt (raw lines + tables),
# build/bench/{throughput,sessions}.dat, docs/bench-{throughput,sessions}.png.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
BIN=${BIN:-$TOP/bin}
MB=${BENCH_MB:-2048}
REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECONDS:-10}
SREPS=${BENCH_SESSION_REPS:-3}
CONC=${BENCH_CONC:-8}
SETUPS=${BENCH_SETUPS:-plain stunnel spiped ssh warren}
OLDBIN=${BENCH_WARREN_OLD:-}
[ -n "$OLDBIN" ] && [ -z "${BENCH_SETUPS:-}" ] && SETUPS="$SETUPS warren_old"
DUPLEX=${BENCH_DUPLEX:-1}
BUDGET=${BENCH_BUDGET:-300}
LIMIT=${BENCH_LIMIT:-570}
PLOTS=${BENCH_PLOTS:-1}
STUNNEL_AUTH=${BENCH_STUNNEL_AUTH:-mutual}
OUT=${BENCH_OUT:-$TOP/build/bench}
GRANTS=10000-14999          # warren's one-shot carrier ports (below the
GRANTS_OLD=15000-19999      # ephemeral range, so no clash with clients)
START=$(date +%s)
CMDLINE="sh bench/run.sh"
for v in BENCH_MB BENCH_REPS BENCH_SECONDS BENCH_SESSION_REPS BENCH_CONC \
    BENCH_SETUPS BENCH_STUNNEL_AUTH BENCH_BUDGET BENCH_LIMIT BENCH_DUPLEX \
    BENCH_WARREN_OLD; do
	eval "[ -n \"\${$v:-}\" ] && CMDLINE=\"$v='\$$v' \$CMDLINE\""
done
[ "$CMDLINE" = "sh bench/run.sh" ] && CMDLINE="make bench"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$OUT" || exit 1
umask 077
T=$(mktemp -d /tmp/warren-bench.XXXXXX) || exit 1
PIDS=""                     # every daemon started, for cleanup
SETPIDS=""                  # those of the setup being started
MPID=""                     # the load generator running now
. "$(dirname "$0")/lib.sh"

cleanup() {
	trap - EXIT INT TERM
	for p in $MPID $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $MPID $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ "${KEEP:-}" = 1 ]; then
		echo "bench: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() { echo "bench: $*" >&2; }
elapsed() { echo $(( $(date +%s) - START )); }

# bg LOGNAME COMMAND...: run in the background, stderr to $T/LOGNAME.log.
bg() {
	_log=$1; shift
	"$@" > "$T/$_log.out" 2> "$T/$_log.log" &
	PIDS="$PIDS $!"
	SETPIDS="$SETPIDS $!"
	LASTPID=$!
}

# cpu PID...: CPU time in clock ticks (user + system, plus that of reaped
# children) used so far by these processes and all their descendants:
# socat's forked children, sshd's per-connection processes, threads.
cpu() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" '
	{
		s = $0; sub(/^[^(]*\(.*\) /, "", s); split(s, f, " ")
		pp[$1] = f[2]; t[$1] = f[12] + f[13] + f[14] + f[15]
	}
	END {
		n = split(roots, r, " "); for (i = 1; i <= n; i++) root[r[i]] = 1
		for (p in t)
			for (q = p; q > 1; q = pp[q])
				if (q in root) { sum += t[p]; break }
		print sum + 0
	}'
}
HZ=$(getconf CLK_TCK)

# measure COMMAND...: run a load generator in the background and wait for
# it, so that a signal reaches the cleanup trap at once; its stdout goes
# to $T/m.out, its stderr to $T/m.err; returns its exit status.
measure() {
	"$@" > "$T/m.out" 2> "$T/m.err" &
	MPID=$!
	wait $MPID
	_rc=$?
	MPID=""
	return $_rc
}



# ---------------------------------------------------------------- helpers
for h in backend source connrate; do
	${CC:-cc} -O2 -Wall -pthread -o "$OUT/$h" "bench/$h.c" || exit 1
done
if [ ! -x "$BIN/warrend" ] || [ ! -x "$BIN/warren" ]; then
	say "bin/warrend and bin/warren are missing: run make first"
	exit 1
fi
case " $SETUPS " in *" warren_old "*)
	if [ -z "$OLDBIN" ] || [ ! -x "$OLDBIN/warrend" ] ||
	    [ ! -x "$OLDBIN/warren" ]; then
		say "warren_old needs BENCH_WARREN_OLD=DIR with warren and warrend"
		exit 2
	fi ;;
esac
# A sanitizer build (make SANITIZE=1 relinks bin/) runs several times slower.
WBUILD=""
if ldd "$BIN/warrend" "$BIN/warren" $OLDBIN${OLDBIN:+/warrend} 2>/dev/null |
    grep -q 'lib[at]san\|libubsan'
then
	WBUILD=" (SANITIZER BUILD)"
	say "bin/ holds a sanitizer build (SANITIZE=1): its figures mean little;"
	say "run plain make first (make bench does) unless that is the point"
fi

case $LOAD0 in 0.[0-4]*) ;; *)
	say "the machine is busy (load average $LOAD0): expect noisy figures" ;;
esac

port BACKEND
bg backend "$OUT/backend" "$BACKEND"
wait_port "$BACKEND" || { say "backend did not start"; exit 1; }

# ------------------------------------------------------------ the setups
# start_NAME sets PORT_NAME (the local entrance) and returns 0 when ready.

# socat's buffer is warren's largest record (512 KiB), so the plain relay
# is the same two user-space hops with the same syscall sizes, minus the
# cipher.
LABEL_plain="plain relay (socat x2)"
start_plain() {
	port PORT_plain; port _mid
	bg socat-server socat -b 524288 \
	    TCP-LISTEN:$_mid,bind=127.0.0.1,reuseaddr,fork,backlog=1024 \
	    TCP:127.0.0.1:$BACKEND
	bg socat-client socat -b 524288 \
	    TCP-LISTEN:$PORT_plain,bind=127.0.0.1,reuseaddr,fork,backlog=1024 \
	    TCP:127.0.0.1:$_mid
	wait_port $_mid && wait_port $PORT_plain
}

LABEL_stunnel="stunnel (TLS 1.3)"
[ "$STUNNEL_AUTH" = mutual ] || LABEL_stunnel="stunnel (TLS 1.3, no verify)"
start_stunnel() {
	port PORT_stunnel; port _mid
	# Self-signed ECDSA P-256 certificates for both ends.  By default each
	# end verifies the other's (mutual TLS), as warren, spiped and ssh all
	# authenticate both ends; BENCH_STUNNEL_AUTH=none leaves verification
	# off, as stunnel's own defaults do.
	for side in client server; do
		openssl req -x509 -newkey ec \
		    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		    -subj "/CN=bench-$side" -keyout "$T/tls-$side.key" \
		    -out "$T/tls-$side.crt" 2> "$T/openssl.log" || return 1
	done
	for side in client server; do
		other=server
		[ $side = server ] && other=client
		{
			echo "foreground = yes"
			echo "syslog = no"
			echo "debug = warning"
			echo "pid = $T/stunnel-$side.pid"
			echo "[bench]"
			echo "sslVersionMin = TLSv1.3"
			echo "ciphersuites = TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
			if [ $side = client ]; then
				echo "client = yes"
				echo "accept = 127.0.0.1:$PORT_stunnel"
				echo "connect = 127.0.0.1:$_mid"
			else
				echo "accept = 127.0.0.1:$_mid"
				echo "connect = 127.0.0.1:$BACKEND"
			fi
			if [ $side = server ] || [ "$STUNNEL_AUTH" = mutual ]; then
				echo "cert = $T/tls-$side.crt"
				echo "key = $T/tls-$side.key"
			fi
			if [ "$STUNNEL_AUTH" = mutual ]; then
				echo "verifyPeer = yes"
				echo "CAfile = $T/tls-$other.crt"
			fi
		} > "$T/stunnel-$side.conf"
	done
	bg stunnel-server stunnel "$T/stunnel-server.conf"
	bg stunnel-client stunnel "$T/stunnel-client.conf"
	wait_port $_mid && wait_port $PORT_stunnel
}

LABEL_spiped="spiped"
start_spiped() {
	port PORT_spiped; port _mid
	dd if=/dev/urandom of="$T/spiped.key" bs=32 count=1 2>/dev/null ||
	    return 1
	bg spiped-server spiped -F -d -n 0 -s "[127.0.0.1]:$_mid" \
	    -t "[127.0.0.1]:$BACKEND" -k "$T/spiped.key"
	bg spiped-client spiped -F -e -n 0 -s "[127.0.0.1]:$PORT_spiped" \
	    -t "[127.0.0.1]:$_mid" -k "$T/spiped.key"
	wait_port $_mid && wait_port $PORT_spiped
}

LABEL_ssh="ssh -L (multiplexed)"
start_ssh() {
	port PORT_ssh; port _mid
	mkdir -p /run/sshd 2>/dev/null
	ssh-keygen -q -t ed25519 -N "" -f "$T/ssh_host_key" || return 1
	ssh-keygen -q -t ed25519 -N "" -f "$T/id_ed25519" || return 1
	cp "$T/id_ed25519.pub" "$T/authorized_keys"
	cat > "$T/sshd_config" <<-EOF
	Port $_mid
	ListenAddress 127.0.0.1
	HostKey $T/ssh_host_key
	PidFile $T/sshd.pid
	AuthorizedKeysFile $T/authorized_keys
	PermitRootLogin yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	UsePAM no
	StrictModes no
	AllowTcpForwarding yes
	Ciphers aes256-gcm@openssh.com
	Compression no
	MaxStartups 100
	MaxSessions 100
	LogLevel ERROR
	EOF
	bg sshd /usr/sbin/sshd -D -e -f "$T/sshd_config"
	wait_port $_mid || return 1
	bg ssh ssh -N -F /dev/null -i "$T/id_ed25519" -p $_mid \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile="$T/known_hosts" \
	    -o BatchMode=yes -o ExitOnForwardFailure=yes -o LogLevel=ERROR \
	    -o Ciphers=aes256-gcm@openssh.com -o Compression=no \
	    -L "127.0.0.1:$PORT_ssh:127.0.0.1:$BACKEND" "$(id -un)@127.0.0.1"
	wait_port $PORT_ssh
}

# start_warren_build TAG BINDIR GRANTS: warrend and warren forward from
# BINDIR, their files and logs named TAG-*; sets PORT_TAG, PID_TAG_warrend
# and PID_TAG_warren.
start_warren_build() {
	_tag=$1 _bin=$2 _grants=$3
	port _port; port _udp
	eval "PORT_$_tag=$_port"
	for k in server client; do
		"$_bin/warren" genkey > "$T/$_tag-$k.key" &&
		"$_bin/warren" pubkey < "$T/$_tag-$k.key" > "$T/$_tag-$k.pub" ||
		    return 1
	done
	cat > "$T/$_tag-warrend.conf" <<-EOF
	[server]
	private_key = $T/$_tag-server.key
	listen = 127.0.0.1:$_udp
	grant_ports = $_grants
	log_level = warn
	[service bench]
	connect = 127.0.0.1:$BACKEND
	[client bench]
	public_key = $(cat "$T/$_tag-client.pub")
	services = bench
	EOF
	cat > "$T/$_tag-warren.conf" <<-EOF
	[client]
	private_key = $T/$_tag-client.key
	log_level = warn
	[cluster bench]
	public_key = $(cat "$T/$_tag-server.pub")
	nodes = 127.0.0.1:$_udp
	EOF
	bg $_tag-warrend "$_bin/warrend" -c "$T/$_tag-warrend.conf"
	eval "PID_${_tag}_warrend=$LASTPID"
	wait_port $_udp udp || return 1
	bg $_tag-warren "$_bin/warren" forward -c "$T/$_tag-warren.conf" \
	    "127.0.0.1:$_port" bench
	eval "PID_${_tag}_warren=$LASTPID"
	wait_port $_port
}

LABEL_warren="warren"
start_warren() { start_warren_build warren "$BIN" $GRANTS; }

# The other build gets its own grant ports, so that the two never meet.
LABEL_warren_old="warren (before)"
start_warren_old() { start_warren_build warren_old "$OLDBIN" $GRANTS_OLD; }

ACTIVE=""
for s in $SETUPS; do
	case $s in plain|stunnel|spiped|ssh|warren|warren_old) ;; *)
		say "unknown setup $s (plain stunnel spiped ssh warren warren_old)"
		exit 2 ;;
	esac
	SETPIDS=""
	if start_$s && "$OUT/source" "$(eval echo \$PORT_$s)" 1 10 \
	    > /dev/null 2> "$T/smoke-$s.log" &&
	    { [ "$DUPLEX" != 1 ] || "$OUT/source" -d "$(eval echo \$PORT_$s)" \
	    1 10 > /dev/null 2>> "$T/smoke-$s.log"; }; then
		ACTIVE="$ACTIVE $s"
		eval "ROOTS_$s=\"\$SETPIDS\""
	else
		say "$s: setup failed, left out (logs: KEEP=1 sh bench/run.sh)"
		cat "$T/smoke-$s.log" "$T/$s"*.log 2>/dev/null | tail -n 5 >&2
	fi
done
[ -n "$ACTIVE" ] || { say "no setup works"; exit 1; }

label() { eval echo "\$LABEL_$1"; }
roots() { eval echo "\$ROOTS_$1"; }
entrance() { eval echo "\$PORT_$1"; }

RAW="$T/raw"
: > "$RAW"

# ------------------------------------------------------------ bulk
# bulk_run KIND SETUP REP: one bulk (one-way) or duplex run, its raw line.
bulk_run() {
	_k=$1 _s=$2 _r=$3
	if [ "$(elapsed)" -ge "$BUDGET" ]; then
		say "$_k $_s #$_r: skipped, time budget of ${BUDGET}s spent"
		echo "skipped $_k $_s $_r" >> "$RAW"
		return
	fi
	_flag="" _mb=$MB
	[ "$_k" = duplex ] && _flag=-d _mb=$((2 * MB))
	c0=$(cpu $(roots $_s))
	if measure timeout 120 "$OUT/source" $_flag "$(entrance $_s)" "$MB" 30
	then
		line=$(cat "$T/m.out")
		c1=$(cpu $(roots $_s))
		line="$line cpu_s_per_gib=$(echo "$c0 $c1 $HZ $_mb" |
		    awk '{ printf "%.2f", ($2 - $1) / $3 / ($4 / 1024) }')"
		echo "$_k $_s $_r $line" >> "$RAW"
		say "$_k $_s #$_r: $line"
	else
		echo "$_k $_s $_r failed" >> "$RAW"
		say "$_k $_s #$_r: FAILED: $(tail -n 1 "$T/m.err")"
	fi
}

_what="bulk"
[ "$DUPLEX" = 1 ] && _what="bulk, then duplex,"
say "$_what $MB MiB x $REPS through each of:$ACTIVE"
r=1
while [ $r -le "$REPS" ]; do
	for s in $ACTIVE; do
		bulk_run bulk $s $r
		[ "$DUPLEX" = 1 ] && bulk_run duplex $s $r
	done
	r=$((r + 1))
done

# ------------------------------------------------------------ sessions
say "sessions: $CONC concurrent for ${SECS}s x $SREPS through each of:$ACTIVE"
r=1
while [ $r -le "$SREPS" ]; do
	for s in $ACTIVE; do
		if [ $(( $(elapsed) + SECS + 5 )) -gt "$LIMIT" ]; then
			say "sessions $s #$r: skipped, time limit of ${LIMIT}s"
			echo "skipped sessions $s $r" >> "$RAW"
			continue
		fi
		c0=$(cpu $(roots $s))
		measure timeout $((SECS + 60)) "$OUT/connrate" "$(entrance $s)" \
		    "$SECS" "$CONC"
		line=$(cat "$T/m.out")
		if [ -n "$line" ]; then
			c1=$(cpu $(roots $s))
			line="$line cpu_ms_per_session=$(echo "$c0 $c1 $HZ $line" |
			    awk '{ split($4, a, "="); printf "%.3f", a[2] ? ($2 - $1) / $3 * 1000 / a[2] : 0 }')"
			echo "sessions $s $r $line" >> "$RAW"
			say "sessions $s #$r: $line"
		else
			echo "sessions $s $r failed" >> "$RAW"
			say "sessions $s #$r: FAILED"
		fi
		[ -s "$T/m.err" ] && say "sessions $s #$r: $(tail -n 1 "$T/m.err")"
		sleep 1 # let one setup's connection churn settle
	done
	r=$((r + 1))
done

# Is warren still alive after all that?
for w in warren warren_old; do
	case " $ACTIVE " in *" $w "*) ;; *) continue ;; esac
	for n in warrend warren; do
		eval _pid=\$PID_${w}_$n
		_n=$n
		[ $w = warren_old ] && _n="$n (before)"
		if ! kill -0 "$_pid" 2>/dev/null; then
			echo "note $_n died during the run" >> "$RAW"
			say "$_n DIED during the run; last log lines:"
			tail -n 5 "$T/$w-$n.log" >&2
		elif [ -s "$T/$w-$n.log" ]; then
			_c=$(wc -l < "$T/$w-$n.log")
			echo "note $_n logged $_c lines at warn or above" >> "$RAW"
			say "$_n logged $_c lines at warn or above, e.g.:"
			sort "$T/$w-$n.log" | sed 's/ts=[^ ]* //' | uniq -c |
			    sort -rn | head -n 3 >&2
		fi
	done
done

# ------------------------------------------------------------ report
# Medians, ratios and targets, from the raw lines.
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
MACHINE="$(nproc) CPUs, $cpu, Linux $(uname -r)"
VERSIONS="$(stunnel -version 2>&1 | sed -n 's/^\(stunnel [0-9.]*\) .*/\1/p' | head -n 1), \
$(spiped -v 2>&1), $(ssh -V 2>&1 | cut -d, -f1), \
$(openssl version | cut -d' ' -f1-2), $(socat -V | sed -n 's/^socat version \([^ ]*\).*/socat \1/p'), \
$("$BIN/warren" --version 2>&1 | head -n 1)$WBUILD"
case " $SETUPS " in *" warren_old "*)
	VERSIONS="$VERSIONS; warren (before): $("$OLDBIN/warren" --version 2>&1 |
	    head -n 1) from $OLDBIN" ;;
esac
COMMIT=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src cmd 2>/dev/null || echo "+uncommitted")

awk -v labels="$(for s in $SETUPS; do printf '%s=%s;' "$s" "$(label $s)"; done)" \
    -v setups="$SETUPS" -v mb="$MB" -v reps="$REPS" -v secs="$SECS" \
    -v conc="$CONC" -v tpdat="$OUT/throughput.dat" -v duplex="$DUPLEX" \
    -v ssdat="$OUT/sessions.dat" -v mdout="$T/table.md" '
function kv(s, k,   n, i, a, b) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) if (split(a[i], b, "=") == 2 && b[1] == k) return b[2]
	return ""
}
function median(s,   n, a, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (n == 0) return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "n/a" : sprintf("%.2fx", a / b) }
function num(x, f) { return x == "" ? "n/a" : sprintf(f, x) }
function dat(x) { return x == "" ? "?" : x }
# runsof(KIND, SETUP): "3 ok (lo-hi)", with failures, or "not run".
function runsof(k, s,   key) {
	key = k SUBSEP s
	if (runs[key]) return sprintf("%d ok%s (%.0f-%.0f)", runs[key],
	    failed[key] ? sprintf(", %d failed", failed[key]) : "", lo[key], hi[key])
	return failed[key] ? failed[key] " failed" : "not run"
}
BEGIN {
	n = split(labels, L, ";")
	for (i = 1; i <= n; i++) { split(L[i], kvp, "="); name[kvp[1]] = kvp[2] }
	ns = split(setups, S, " ")
}
($1 == "bulk" || $1 == "duplex") && $4 != "failed" { key = $1 SUBSEP $2
	v = kv($0, "mibps"); tp[key] = tp[key] " " v
	cg[key] = cg[key] " " kv($0, "cpu_s_per_gib")
	if (!(key in lo) || v + 0 < lo[key]) lo[key] = v + 0
	if (!(key in hi) || v + 0 > hi[key]) hi[key] = v + 0
	runs[key]++ }
($1 == "bulk" || $1 == "duplex") && $4 == "failed" { failed[$1 SUBSEP $2]++ }
$1 == "sessions" && $4 != "failed" { rates[$2] = rates[$2] " " kv($0, "rate")
	p50s[$2] = p50s[$2] " " kv($0, "p50_ms"); p99s[$2] = p99s[$2] " " kv($0, "p99_ms")
	cs[$2] = cs[$2] " " kv($0, "cpu_ms_per_session")
	serr[$2] += kv($0, "errors"); scount[$2] += kv($0, "sessions"); sruns[$2]++ }
END {
	for (i = 1; i <= ns; i++) {
		s = S[i]
		med[s] = median(tp["bulk" SUBSEP s]); cpug[s] = median(cg["bulk" SUBSEP s])
		dmed[s] = median(tp["duplex" SUBSEP s]); dcpug[s] = median(cg["duplex" SUBSEP s])
		cpus[s] = median(cs[s])
		rate[s] = median(rates[s]); p50[s] = median(p50s[s]); p99[s] = median(p99s[s])
	}
	md = "| setup | bulk MiB/s (median) | bulk runs (min-max) | CPU s/GiB |"
	sep = "|---|--:|--:|--:|"
	if (duplex == 1) {
		md = md " duplex MiB/s, both ways (median) | duplex runs (min-max) | duplex CPU s/GiB | duplex/bulk |"
		sep = sep "--:|--:|--:|--:|"
	}
	md = md " sessions/s (median) | p50 ms | p99 ms | CPU ms/session | failed sessions |\n"
	md = md sep "--:|--:|--:|--:|--:|\n"
	printf "" > tpdat; printf "" > ssdat
	for (i = 1; i <= ns; i++) {
		s = S[i]
		md = md sprintf("| %s | %s | %s | %s |", name[s], num(med[s], "%.0f"),
		    runsof("bulk", s), num(cpug[s], "%.2f"))
		if (duplex == 1)
			md = md sprintf(" %s | %s | %s | %s |", num(dmed[s], "%.0f"),
			    runsof("duplex", s), num(dcpug[s], "%.2f"), ratio(dmed[s], med[s]))
		md = md sprintf(" %s | %s | %s | %s | %s |\n", num(rate[s], "%.0f"),
		    num(p50[s], "%.2f"), num(p99[s], "%.2f"), num(cpus[s], "%.3f"),
		    rate[s] == "" ? "n/a" : serr[s] + 0 " of " scount[s] + serr[s])
		c = s == "warren" ? 2 : s == "warren_old" ? 3 : 1
		if (med[s] != "" || dmed[s] != "")
			printf "\"%s\" %s %s %s %d %s %s %s %d\n", name[s], dat(med[s]),
			    dat(lo["bulk" SUBSEP s]), dat(hi["bulk" SUBSEP s]), c, dat(dmed[s]),
			    dat(lo["duplex" SUBSEP s]), dat(hi["duplex" SUBSEP s]), c + 3 >> tpdat
		if (rate[s] != "") printf "\"%s\" %s %s %s %d\n", name[s], rate[s], p50[s], p99[s], c >> ssdat
	}
	w = "warren"
	md = md "\n| warren vs | bulk throughput |"
	sep = "|---|--:|"
	if (duplex == 1) { md = md " duplex throughput |"; sep = sep "--:|" }
	md = md " session rate | p50 latency (warren/other) | p99 latency (warren/other) | CPU per GiB (warren/other) |"
	sep = sep "--:|--:|--:|--:|"
	if (duplex == 1) { md = md " CPU per GiB, duplex (warren/other) |"; sep = sep "--:|" }
	md = md " CPU per session (warren/other) |\n" sep "--:|\n"
	for (i = 1; i <= ns; i++) {
		s = S[i]; if (s == w) continue
		md = md sprintf("| %s | %s |", name[s], ratio(med[w], med[s]))
		if (duplex == 1) md = md sprintf(" %s |", ratio(dmed[w], dmed[s]))
		md = md sprintf(" %s | %s | %s | %s |", ratio(rate[w], rate[s]),
		    ratio(p50[w], p50[s]), ratio(p99[w], p99[s]), ratio(cpug[w], cpug[s]))
		if (duplex == 1) md = md sprintf(" %s |", ratio(dcpug[w], dcpug[s]))
		md = md sprintf(" %s |\n", ratio(cpus[w], cpus[s]))
	}
	md = md "\nTargets (issue 2):\n\n"
	md = md target("bulk throughput >= 1.5x stunnel", med[w], med["stunnel"], 1.5)
	md = md target("bulk throughput >= 5x spiped", med[w], med["spiped"], 5)
	md = md target("session rate >= 3x stunnel", rate[w], rate["stunnel"], 3)
	if (p99[w] == "" || p99["stunnel"] == "") md = md "- p99 latency below stunnel'\''s: not measured\n"
	else md = md sprintf("- p99 latency below stunnel'\''s: %.2f ms vs %.2f ms: **%s**\n",
	    p99[w], p99["stunnel"], p99[w] + 0 < p99["stunnel"] + 0 ? "met" : "NOT met")
	if (name["warren_old"] != "") {
		md = md "\nTarget (issue 8), warren against warren (before) in this run:\n\n"
		md = md target("bulk throughput >= 0.95x before", med[w], med["warren_old"], 0.95)
		if (duplex == 1)
			md = md target("duplex throughput >= 0.95x before", dmed[w], dmed["warren_old"], 0.95)
	}
	printf "%s", md > mdout
}
function target(what, a, b, k) {
	if (a == "" || b == "") return "- " what ": not measured\n"
	return sprintf("- %s: %.2fx: **%s**\n", what, a / b, a / b >= k ? "met" : "NOT met")
}' "$RAW"

STAMP="$(date -u +%Y-%m-%dT%H:%MZ), commit $COMMIT"
{
	echo "Measured $STAMP, with \`$CMDLINE\`."
	echo
	echo "- machine: $MACHINE"
	echo "- versions: $VERSIONS"
	_dx=""
	[ "$DUPLEX" = 1 ] && _dx=" (duplex: $MB MiB each way at once, after each bulk run)"
	echo "- bulk: $MB MiB x $REPS per setup$_dx; sessions: $CONC concurrent clients, ${SECS} s x $SREPS per setup; stunnel certificates verified: $STUNNEL_AUTH"
	echo "- load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; the run took $(elapsed) s"
	echo
	cat "$T/table.md"
} > "$T/block.md"
{
	cat "$T/block.md"
	echo
	echo "raw:"
	cat "$RAW"
} > "$OUT/results.txt"
echo
cat "$T/block.md"
echo
echo "raw results: $OUT/results.txt"

# BENCH_DOC=1: put the block above between the markers of docs/BENCHMARKS.md.
DOC=$TOP/docs/BENCHMARKS.md
if [ "${BENCH_DOC:-0}" = 1 ]; then
	if grep -q '^<!-- bench:begin -->' "$DOC" 2>/dev/null &&
	    grep -q '^<!-- bench:end -->' "$DOC"; then
		awk -v block="$T/block.md" '
		/^<!-- bench:end -->/ { skip = 0 }
		!skip { print }
		/^<!-- bench:begin -->/ {
			while ((getline l < block) > 0) print l
			skip = 1
		}' "$DOC" > "$T/doc.md" && cat "$T/doc.md" > "$DOC" &&
		    say "updated the results in $DOC"
	else
		say "no <!-- bench:begin --> / <!-- bench:end --> markers in $DOC"
	fi
fi

# ------------------------------------------------------------ plots
if [ "$PLOTS" = 1 ] && command -v gnuplot > /dev/null; then
	if [ -s "$OUT/throughput.dat" ]; then
		# One-way bars in full colour, duplex (both ways) beside them
		# in a lighter shade of the same colour; warren orange, the
		# build before it blue, the others grey.
		_title="Single-stream bulk throughput"
		_x=0 _bw=0.6
		if [ "$DUPLEX" = 1 ]; then
			_title="$_title: one way (dark) and both ways at once (light: the two directions together)"
			_x='($0-0.2)' _bw=0.4
		fi
		_plot="\"$OUT/throughput.dat\" using $_x:2:5:xtic(1) with boxes lc variable, \"\" using $_x:2:3:4 with yerrorbars lc rgb \"black\" pt 7 ps 0.3, \"\" using $_x:4:(sprintf(\"%.0f\", \$2)) with labels offset 0,0.8"
		[ "$DUPLEX" = 1 ] && _plot="$_plot"', "" using ($0+0.2):6:9 with boxes lc variable, "" using ($0+0.2):6:7:8 with yerrorbars lc rgb "black" pt 7 ps 0.3, "" using ($0+0.2):8:(sprintf("%.0f", $6)) with labels offset 0,0.8'
		gnuplot <<-EOF || say "gnuplot failed (throughput)"
		set terminal pngcairo size 1000,540 font "sans,10"
		set output "$TOP/docs/bench-throughput.png"
		set title "$_title\nloopback, $MB MiB x $REPS (median, bar = min..max); $MACHINE\nload average at start $LOAD0; $STAMP"
		set ylabel "MiB/s"
		set yrange [0:*]
		set grid ytics
		set datafile missing "?"
		set style fill solid 0.85 border -1
		set boxwidth $_bw
		set xtics nomirror
		unset key
		set linetype 1 lc rgb "#8899aa"
		set linetype 2 lc rgb "#cc5522"
		set linetype 3 lc rgb "#3366aa"
		set linetype 4 lc rgb "#c4ccd5"
		set linetype 5 lc rgb "#eeaa88"
		set linetype 6 lc rgb "#99b3dd"
		plot $_plot
		EOF
	fi
	if [ -s "$OUT/sessions.dat" ]; then
		gnuplot <<-EOF || say "gnuplot failed (sessions)"
		set terminal pngcairo size 1100,520 font "sans,10"
		set output "$TOP/docs/bench-sessions.png"
		set multiplot layout 1,2 title "New sessions through each tunnel, loopback, $CONC concurrent clients for ${SECS}s (connect, 1 byte echoed, close)\n$MACHINE\nload average at start $LOAD0; $STAMP"
		set grid ytics
		set style fill solid 0.85 border -1
		set xtics nomirror rotate by -20
		set linetype 1 lc rgb "#8899aa"
		set linetype 2 lc rgb "#cc5522"
		set linetype 3 lc rgb "#3366aa"
		set title "sessions per second"
		set yrange [0:*]
		set boxwidth 0.6
		unset key
		plot "$OUT/sessions.dat" using 0:2:5:xtic(1) with boxes lc variable, \
		     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,0.8
		set title "latency, connect() to echoed byte (ms, log scale)"
		stats "$OUT/sessions.dat" using 3 nooutput
		set logscale y
		set yrange [STATS_min / 2:*]
		set key top left
		set boxwidth 0.35
		plot "$OUT/sessions.dat" using (\$0-0.18):3:xtic(1) with boxes lc rgb "#6699cc" title "p50", \
		     "" using (\$0+0.18):4 with boxes lc rgb "#cc5522" title "p99", \
		     "" using (\$0-0.18):3:(sprintf("%.2f", \$3)) with labels offset 0,0.7 notitle, \
		     "" using (\$0+0.18):4:(sprintf("%.2f", \$4)) with labels offset 0,0.7 notitle
		unset multiplot
		EOF
	fi
	say "plots: docs/bench-throughput.png docs/bench-sessions.png"
fi
