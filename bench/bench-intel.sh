#!/bin/bash
# Threat-intel trie: load 1,000,000 entries (target <= 1 s) and look up
# addresses (target >= 5 million a second).  Run on demand:
#   bench/bench-intel.sh [BUILD_DIR]        (default: build)
# Prints the measured figures.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ -f "$build/libowl.a" ] || { echo "bench-intel: build first (meson setup $build && ninja -C $build)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$work/bench_intel" bench/bench_intel.c "$build/libowl.a" \
	$(pkg-config --libs libmnl libmaxminddb) -lpthread
# 1,000,000 lines, shaped like real lists: 90% single addresses, 10% CIDR
# (/8../31), plus comments and a few bad lines; 50,000 IPv6 entries.
python3 - "$work" <<'PY'
import random, sys
random.seed(7)
w = sys.argv[1]
with open(w + "/v4.list", "w") as f:
    f.write("# generated: 1,000,000 entries\n")
    for i in range(1000000):
        a = random.getrandbits(32)
        if i % 2:  # dense in a few /8s, as blocklists are
            a = (random.randint(1, 4) << 24) | (random.getrandbits(8) << 16) | random.getrandbits(16)
        if i % 10 == 0:
            l = random.randint(8, 31)
            a &= (0xffffffff << (32 - l)) & 0xffffffff
            f.write("%d.%d.%d.%d/%d\n" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, l))
        else:
            f.write("%d.%d.%d.%d\n" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255))
        if i % 100000 == 0:
            f.write("not-an-address\n")
with open(w + "/v6.list", "w") as f:
    for i in range(50000):
        hi = (0x2a00 << 48) | random.getrandbits(50)
        f.write("%x:%x:%x:%x::/%d\n" % (hi >> 48, (hi >> 32) & 0xffff, (hi >> 16) & 0xffff, hi & 0xffff,
                                        random.choice([32, 48, 56, 64])))
PY
echo "bench-intel: $(nproc) CPUs, $(uname -r)"
"$work/bench_intel" "$work/v4.list" "$work/v6.list" 20000000
