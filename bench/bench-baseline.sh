#!/bin/bash
# Baseline benchmark (issue 6): what the baseline stage adds to `owl scan`,
# and how import and learn scale.
#
# usage: bench/bench-baseline.sh [CONNS [RUNS]]   (default: 2000 5; run as root)
#
# Load: CONNS established TCP connections from one process in namespace
# owls-bench-a to a listener in owls-bench-b (203.0.113.177-191), all of
# them baseline candidates.  For stores of E = 0, 1000, 10000, 100000
# entries (synthetic learned entries of 100 programs, imported, plus the
# real pairs learned once) it prints the import time, the learn time and
# the median wall time of `owl scan --json --db` (documented: every record
# matches an entry).  "no store" is the scan without any database.
set -u
cd "$(dirname "$0")/.."
CONNS=${1:-2000}
RUNS=${2:-5}
OWL=${OWL:-build/owl}
export OWL_CATALOGUE_DIR=$PWD/data/catalogue
[ -x "$OWL" ] || { echo "build owl first (ninja -C build)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	exec 2>/dev/null
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	ip netns del owls-bench-a 2>/dev/null
	ip netns del owls-bench-b 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add owls-bench-a
ip netns add owls-bench-b
ip link add owls-bench-a0 type veth peer name owls-bench-b0
ip link set owls-bench-a0 netns owls-bench-a
ip link set owls-bench-b0 netns owls-bench-b
ip -n owls-bench-a addr add 203.0.113.177/26 dev owls-bench-a0
ip -n owls-bench-b addr add 203.0.113.178/26 dev owls-bench-b0
ip -n owls-bench-a link set owls-bench-a0 up
ip -n owls-bench-b link set owls-bench-b0 up
ip -n owls-bench-a link set lo up
ip -n owls-bench-b link set lo up
# the server never accepts: connections complete in the listen queues
ip netns exec owls-bench-b /usr/bin/python3 - <<'PY' >"$tmp/srv.log" 2>&1 &
import socket, time
socks = []
for port in range(9000, 9004):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("203.0.113.178", port)); s.listen(4096); socks.append(s)
print("ready", flush=True)
time.sleep(100000)
PY
pids+=($!)
sleep 0.5
ip netns exec owls-bench-a /usr/bin/python3 - "$CONNS" <<'PY' >"$tmp/cli.log" 2>&1 &
import resource, socket, sys, time
n = int(sys.argv[1]); held = []
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
for i in range(n):
    held.append(socket.create_connection(("203.0.113.178", 9000 + i % 4)))
print("ready", len(held), flush=True)
time.sleep(100000)
PY
pids+=($!)
for _ in $(seq 300); do grep -q ready "$tmp/cli.log" && break; sleep 0.1; done
grep -q ready "$tmp/cli.log" || { cat "$tmp/cli.log" "$tmp/srv.log"; exit 1; }
echo "load: $(cat "$tmp/cli.log") connections from one process; sockets now: $(ss -tanH | wc -l)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall() { # CMD...: seconds (peak RSS in KiB goes to $tmp/rss)
	local t0=$EPOCHREALTIME
	/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>"$tmp/err" || { [ $? -le 1 ] || { cat "$tmp/err" >&2; }; }
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.4f\n", b - a}'
}
scan_median() { # DB
	for _ in $(seq "$RUNS"); do
		if [ -n "$1" ]; then wall "$OWL" scan --json --db "$1"; else wall "$OWL" scan --json; fi
	done | median
}

printf '%-10s %10s %10s %12s %12s %12s\n' entries import_s learn_s scan_s per_record_us scan_rss_kib
base=$(scan_median "")
printf '%-10s %10s %10s %12s %12s %12s\n' "no store" - - "$base" - "$(tail -1 "$tmp/rss")"
digest=$(printf '%064d' 0)
for E in 0 1000 10000 100000; do
	db=$tmp/e$E.db
	awk -v n="$E" -v d="$digest" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"kind\":\"learned\",\"executable\":\"/usr/bin/prog%d\",\"sha256\":\"%s\",\"user\":\"root\",\"destination\":\"198.51.%d.%d\",\"ports\":\"%d\",\"transport\":\"tcp\",\"host\":\"bench\",\"first_seen\":1,\"last_seen\":1,\"count\":1}\n", i % 100, d, int(i / 256) % 256, i % 256, 1000 + int(i / 65536)
	}' >"$tmp/e.jsonl"
	: >"$db"
	imp=$( [ "$E" -gt 0 ] && wall "$OWL" baseline import --db "$db" "$tmp/e.jsonl" || echo -)
	lrn=$(wall "$OWL" baseline learn --db "$db")
	s=$(scan_median "$db")
	per=$(awk -v s="$s" -v b="$base" -v n="$CONNS" 'BEGIN {printf "%.1f", (s - b) * 1e6 / n}')
	printf '%-10s %10s %10s %12s %12s %12s\n' "$E" "$imp" "$lrn" "$s" "$per" "$(tail -1 "$tmp/rss")"
done
documented=$("$OWL" scan --json --db "$tmp/e0.db" | grep -c '"id":"documented"')
echo "records documented in the last scan of the E=0 store: $documented (of $CONNS)"
