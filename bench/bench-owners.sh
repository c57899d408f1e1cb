#!/bin/bash
# Owner-map benchmark (issue 2): the "attribute" phase of `owl scan --all
# --json` with each backend of --owners (BPF task_file iterator, /proc/PID/fd
# walk), and the whole scan's wall time, on the same load in the same run.
#
# usage: bench/bench-owners.sh [N P [RUNS]]   (default: 50000 200 3; run as root)
#        NOLOAD=1 bench/bench-owners.sh   measures the load already running
#
# Load: bench/loadgen.c, N established loopback TCP connections over P
# processes (both ends held, so 2N sockets).  Prints medians: wall time,
# attribute phase, and the backend's own figures (BPF: program load, then
# the iteration; proc: the walk), and peak RSS.
set -u
cd "$(dirname "$0")/.."
N=${1:-50000}
P=${2:-200}
RUNS=${3:-3}
OWL=${OWL:-build/owl}
out=bench/out
mkdir -p "$out"
[ -x "$OWL" ] || { echo "build owl first (ninja -C build)" >&2; exit 2; }
cc -O2 -o "$out/loadgen" bench/loadgen.c || exit 2

if [ -z "${NOLOAD:-}" ]; then
	ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true
	"$out/loadgen" "$N" "$P" >"$out/loadgen-owners.log" 2>&1 &
	lg=$!
	trap 'kill $lg 2>/dev/null; wait $lg 2>/dev/null' EXIT
	for _ in $(seq 600); do
		grep -q ready "$out/loadgen-owners.log" && break
		kill -0 $lg 2>/dev/null || { cat "$out/loadgen-owners.log"; exit 1; }
		sleep 0.2
	done
	grep -q ready "$out/loadgen-owners.log" || { echo "load generator did not come up" >&2; exit 1; }
	echo "load: $(cat "$out/loadgen-owners.log")"
fi
echo "TCP sockets now: $(ss -tan | wc -l); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

printf '\n%-8s %10s %14s %10s %10s %12s\n' "owners" "scan s" "attribute ms" "load ms" "walk ms" "peak RSS MB"
for backend in proc bpf; do
	: >"$out/owners-$backend"
	for _ in $(seq "$RUNS"); do
		t0=$EPOCHREALTIME
		/usr/bin/time -f '%M' -o "$out/owners-time" "$OWL" scan --all --json -v --owners "$backend" \
			>/dev/null 2>"$out/owners-err" || true
		t1=$EPOCHREALTIME
		rss=$(tail -1 "$out/owners-time")
		attr=$(sed -n 's/.*attribute \([0-9.]*\) ms.*/\1/p' "$out/owners-err")
		load=$(sed -n 's/.*owners: BPF task_file iterator (load \([0-9.]*\) ms.*/\1/p' "$out/owners-err")
		walk=$(sed -n -e 's/.*owners: BPF.*walk \([0-9.]*\) ms.*/\1/p' -e 's|.*owners: /proc/PID/fd walk (\([0-9.]*\) ms.*|\1|p' "$out/owners-err")
		if [ "$backend" = bpf ] && [ -z "$load" ]; then
			grep 'owners:' "$out/owners-err" >&2
			echo "the BPF iterator did not serve" >&2
			exit 1
		fi
		echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}') ${attr:-0} ${load:-0} ${walk:-0} $rss" >>"$out/owners-$backend"
	done
	printf '%-8s %10.3f %14.1f %10.1f %10.1f %12.1f\n' "$backend" \
		"$(cut -d' ' -f1 "$out/owners-$backend" | median)" "$(cut -d' ' -f2 "$out/owners-$backend" | median)" \
		"$(cut -d' ' -f3 "$out/owners-$backend" | median)" "$(cut -d' ' -f4 "$out/owners-$backend" | median)" \
		"$(cut -d' ' -f5 "$out/owners-$backend" | sort -n | tail -1 | awk '{print $1 / 1024}')"
done

# the same load through ss, for the issue's ratios (owl <= 3 x ss -tan, <= 0.15 x ss -tanp)
for cmd in "ss -tan" "ss -tanp"; do
	: >"$out/owners-ss"
	for _ in $(seq "$RUNS"); do
		t0=$EPOCHREALTIME
		$cmd >/dev/null 2>&1
		t1=$EPOCHREALTIME
		awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", b - a}' >>"$out/owners-ss"
	done
	printf '%-8s %10.3f\n' "${cmd// /}" "$(median <"$out/owners-ss")"
done

# the owner map alone, each backend (min/median of 2 x RUNS + 1 runs)
build=$(dirname "$OWL")
if [ -f "$build/libowl.a" ]; then
	cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$out/bench_owners" bench/bench_owners.c "$build/libowl.a" \
		$(pkg-config --libs libbpf) -lpthread -lm && "$out/bench_owners" $((2 * RUNS + 1)) 2
fi
