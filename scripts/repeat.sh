#!/bin/sh
# repeat.sh N [TEST...]: run the system tests (default: all of
# tests/system/*.t) N times in a row with prove, and print one line per run
# and a summary: how many runs passed, and which test files failed in the
# others.  Exits non-zero if any run failed.  Logs go to build/repeat/.
set -u
N=${1:?usage: repeat.sh N [TEST...]}
shift
cd "$(dirname "$0")/.." || exit 1
[ $# -gt 0 ] || set -- tests/system/*.t
mkdir -p build/repeat
pass=0
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	log=build/repeat/run-$i.log
	t0=$(date +%s)
	if prove "$@" > "$log" 2>&1; then
		pass=$((pass + 1))
		echo "repeat: run $i of $N passed ($(( $(date +%s) - t0 )) s)"
	else
		echo "repeat: run $i of $N FAILED ($(( $(date +%s) - t0 )) s):" \
		    "$(grep -E '^tests/.*(Wstat|Failed)' "$log" | cut -d' ' -f1 | sort -u | tr '\n' ' ')"
	fi
done
echo "repeat: $pass of $N runs passed ($*)"
[ "$pass" -eq "$N" ]
