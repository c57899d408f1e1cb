#!/bin/bash
# Origin benchmark (issue 7): what the origin stage adds to a scan, and what
# `owl changes` costs on this machine.
#
# usage: bench/bench-origin.sh [N P [RUNS]]   (default: 2000 1000 5; run as root)
#
# Load: N loopback TCP connections over P processes (bench/loadgen.c), so the
# stage classifies P owner processes and reads their ancestors.  Prints the
# median of `owl scan --verbose --no-verify`'s "stages" time (endpoint, origin,
# baseline without --db: origin dominates), the whole scan, and `owl changes`.
set -u
cd "$(dirname "$0")/.."
N=${1:-2000}
P=${2:-1000}
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
echo "load: $(cat "$out/loadgen.log")"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

stages=() total=()
for _ in $(seq "$RUNS"); do
	t0=$EPOCHREALTIME
	"$OWL" scan --all --json --verbose --no-verify 2>"$out/verbose" >/dev/null
	t1=$EPOCHREALTIME
	total+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')")
	stages+=("$(sed -n 's/.*stages \([0-9.]*\) ms.*/\1/p' "$out/verbose")")
done
procs=$(sed -n 's/.* \([0-9]*\) own sockets.*/\1/p' "$out/verbose")
st=$(printf '%s\n' "${stages[@]}" | median)
tt=$(printf '%s\n' "${total[@]}" | median)
echo "scan --all --json: median ${tt} ms; stages (endpoint + origin + baseline, --no-verify): median ${st} ms for $P owner processes" \
	"($(awk -v s="$st" -v p="$P" 'BEGIN {printf "%.1f", s * 1000 / p}') us per process)"

for since in 7d 400d; do
	ts=()
	for _ in $(seq "$RUNS"); do
		t0=$EPOCHREALTIME
		n=$("$OWL" changes --since "$since" 2>/dev/null | wc -l)
		t1=$EPOCHREALTIME
		ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')")
	done
	echo "changes --since $since: $n changes, median $(printf '%s\n' "${ts[@]}" | median) ms"
done
: "$procs"
