#!/bin/bash
# What the verify stage costs one `owl watch` enrichment (issue 3, item 3:
# watch used to index the dpkg database on every stage run).  A packaged
# python3 holds a loopback connection; bench_enrich puts a one-record scan
# of it through verify_stage_run() RUNS times, as watch's enrich() does
# (each result, and its verify context, stays alive until the end, as watch
# keeps it while cached), with the digest cache (a) in a file of its own
# and (b) off (OWL_DIGEST_CACHE=: the image is hashed every time).
#
# usage: sudo bench/bench-enrich.sh [RUNS]      (BUILD=build)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-30}
build=${BUILD:-build}
[ -f "$build/libowl.a" ] || { echo "bench-enrich: build owl first ($build)" >&2; exit 2; }
work=$(mktemp -d /tmp/owlv-benchenrich.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$work/bench_enrich" bench/bench_enrich.c "$build/libowl.a" \
	$(pkg-config --libs libmnl libbpf sqlite3 jansson libcrypto zlib libmaxminddb) -lpthread -lm
/usr/bin/python3 -c '
import socket, os, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); a = s.accept()
print(os.getpid(), flush=True); time.sleep(600)' >"$work/pid" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/pid" ] && break; sleep 0.1; done
pid=$(cat "$work/pid")
mkdir -m 700 "$work/cache"
echo "== digest cache in a file (warm after the first run)"
OWL_DIGEST_CACHE="$work/cache/digests" "$work/bench_enrich" "$pid" "$RUNS"
echo "== no digest cache file (OWL_DIGEST_CACHE=)"
OWL_DIGEST_CACHE= "$work/bench_enrich" "$pid" "$RUNS"
