#!/bin/sh
# bench/store: put and take latency of the session store, LMDB against the
# in-memory store (bench/store.c).  One process, one operation at a time.
#
# Environment (defaults in brackets):
#   STORE_OPS [10000]  operations of each kind per backend
#   STORE_SIZE [256]   bytes per value
#   STORE_DIR          where the LMDB environment goes [a new directory
#                      under $TMPDIR or /tmp, removed afterwards]
#   BENCH_OUT [build/bench]
# Needs `make` first (build/cc/libwarren.a).
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
OPS=${STORE_OPS:-10000}
SIZE=${STORE_SIZE:-256}
OUT=${BENCH_OUT:-$TOP/build/bench}
LIB=$TOP/build/cc/libwarren.a
mkdir -p "$OUT"
if [ ! -f "$LIB" ]; then
	echo "bench/store: $LIB is missing: run make first" >&2
	exit 1
fi
${CC:-cc} -O2 -Wall -pthread -D_GNU_SOURCE -Isrc -o "$OUT/store" \
    bench/store.c "$LIB" \
    $(pkg-config --libs libcrypto lmdb 2>/dev/null || echo -lcrypto -llmdb) ||
    exit 1
TMP=""
if [ -z "${STORE_DIR:-}" ]; then
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/warren-store-bench.XXXXXX") || exit 1
	trap 'rm -rf "$TMP"' EXIT INT TERM
	STORE_DIR=$TMP/store
fi
echo "# store latency: $OPS ops of each kind, $SIZE-byte values;" \
    "LMDB on $(df -P "${STORE_DIR%/*}" | awk 'NR == 2 { print $1 }')," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/store" "lmdb:$STORE_DIR" "$OPS" "$SIZE" || exit 1
"$OUT/store" memory "$OPS" "$SIZE" || exit 1
