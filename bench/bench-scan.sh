#!/bin/bash
# Scan benchmark (issue 2): time `owl scan --all --json` against ss and lsof
# on the same load, in the same run.
#
# usage: bench/bench-scan.sh [N P [RUNS]]   (default: 50000 200 5; run as root)
# e.g.   bench/bench-scan.sh 100000 500 3
#
# Load: N established loopback TCP connections over P processes (both ends
# held by the worker, so 2N sockets + P listeners).  Prints the median wall
# time, peak RSS and ratios against `ss -tanp` and `ss -tan`.
set -u
cd "$(dirname "$0")/.."
N=${1:-50000}
P=${2:-200}
RUNS=${3:-5}
OWL=${OWL:-build/owl}
out=bench/out
mkdir -p "$out"
[ -x "$OWL" ] || { echo "build owl first (ninja -C build)" >&2; exit 2; }
cc -O2 -o "$out/loadgen" bench/loadgen.c || exit 2

ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true
"$out/loadgen" "$N" "$P" >"$out/loadgen.log" 2>&1 &
lg=$!
trap 'kill $lg 2>/dev/null; wait $lg 2>/dev/null' EXIT
for _ in $(seq 600); do
	grep -q ready "$out/loadgen.log" && break
	kill -0 $lg 2>/dev/null || { cat "$out/loadgen.log"; exit 1; }
	sleep 0.2
done
grep -q ready "$out/loadgen.log" || { echo "load generator did not come up" >&2; exit 1; }
echo "load: $(cat "$out/loadgen.log"); sockets now: $(ss -tan | wc -l)"

# measure NAME RUNS CMD...: median wall seconds and max peak RSS (KiB)
measure() {
	local name=$1 runs=$2
	shift 2
	local times=() rss=0
	for _ in $(seq "$runs"); do
		local t0=$EPOCHREALTIME
		/usr/bin/time -f '%M' -o "$out/time" "$@" >/dev/null 2>"$out/err" || true
		local t1=$EPOCHREALTIME
		m=$(tail -1 "$out/time")
		t=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')
		times+=("$t")
		[ "$m" -gt "$rss" ] && rss=$m
	done
	local med
	med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "$name $med $rss"
}

results=$(mktemp)
# one run first, not counted: the load generator was just rebuilt, and a
# first run verifies it cold (hashing, the dpkg index) — bench/bench-verify.sh
# measures that case; this one measures a scan of a machine owl has seen
# (verify keeps a digest only for a file changed more than 2 s before it
# was hashed — the racy-entry rule — so the warm-up waits for that)
while [ $(( $(date +%s) - $(stat -c %Z "$out/loadgen") )) -lt 3 ]; do sleep 0.5; done
"$OWL" scan --all --json >/dev/null 2>&1
measure "owl-scan-all-json" "$RUNS" "$OWL" scan --all --json >>"$results"
measure "owl-scan-all-json-1thread" "$RUNS" "$OWL" scan --all --json --threads 1 >>"$results"
measure "owl-scan-default-table" "$RUNS" "$OWL" scan >>"$results"
measure "ss-tan" "$RUNS" ss -tan >>"$results"
measure "ss-tanp" "$(( RUNS < 3 ? RUNS : 3 ))" ss -tanp >>"$results"
measure "lsof-nP-iTCP" 1 lsof -nP -iTCP >>"$results"

tanp=$(awk '$1 == "ss-tanp" {print $2}' "$results")
tan=$(awk '$1 == "ss-tan" {print $2}' "$results")
printf '\n%-28s %10s %12s %12s %12s\n' "command (N=$N, P=$P)" "median s" "x ss -tanp" "x ss -tan" "peak RSS MB"
while read -r name med rss; do
	awk -v n="$name" -v m="$med" -v a="$tanp" -v b="$tan" -v r="$rss" 'BEGIN {
		printf "%-28s %10.3f %12.3f %12.2f %12.1f\n", n, m, (a > 0 ? m / a : 0), (b > 0 ? m / b : 0), r / 1024 }'
done <"$results"
owl=$(awk '$1 == "owl-scan-all-json" {print $2, $3}' "$results")
read -r om orss <<<"$owl"
echo
awk -v m="$om" -v a="$tanp" -v b="$tan" -v r="$orss" 'BEGIN {
	printf "targets: owl <= 0.15 x ss -tanp: %s (%.3f); <= 3 x ss -tan: %s (%.2f); peak RSS <= 40 MB: %s (%.1f MB)\n",
		(m <= 0.15 * a ? "met" : "MISSED"), m / a, (m <= 3 * b ? "met" : "MISSED"), m / b,
		(r / 1024 <= 40 ? "met" : "MISSED"), r / 1024 }'
awk -v a="$tanp" -v b="$tan" 'BEGIN {
	if (0.15 * a < b)
		printf "note: 0.15 x this run'"'"'s ss -tanp (%.3f s) is below ss -tan alone (%.3f s): no tool that also maps sockets to processes can meet it in this run (the issue assumed ss -tanp of about 4 s at 50k)\n", 0.15 * a, b }'
rm -f "$results"
# where owl's time and memory go (one more run, with --verbose)
echo
"$OWL" scan --all --json -v 2>&1 >/dev/null | grep -E '^owl: (time|peak RSS|[0-9]+ sockets)' | sed 's/^owl: /owl -v: /'

