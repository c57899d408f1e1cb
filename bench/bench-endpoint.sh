#!/bin/bash
# The endpoint stage at scale, run on demand:
#   bench/bench-endpoint.sh [BUILD_DIR]
# 1. the stage alone on 5,000 / 50,000 / 500,000 synthetic connections
#    (linear: the per-(process, endpoint) grouping is one hash pass);
# 2. a real `owl scan` with 50,000 connections (processes of 16,000 each,
#    one endpoint each) in network namespaces made here (owle-b*, 198.51.100.0/24),
#    against `ss -tanp` in the same namespace.  Needs root.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ -x "$build/owl" ] || { echo "bench-endpoint: build first" >&2; exit 2; }
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ip netns del owle-bc 2>/dev/null || true
	ip netns del owle-bs 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$work/bench_endpoint" bench/bench_endpoint.c "$build/libowl.a" \
	$(pkg-config --libs libmnl libmaxminddb) -lpthread
echo "bench-endpoint: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/bench_endpoint"

[ "$(id -u)" = 0 ] || { echo "bench-endpoint: the real-socket part needs root" >&2; exit 0; }
N=${N:-50000}
ip netns add owle-bc
ip netns add owle-bs
ip link add owle-bc0 netns owle-bc type veth peer name owle-bs0 netns owle-bs
ip -n owle-bc addr add 198.51.100.101/24 dev owle-bc0
ip -n owle-bs addr add 198.51.100.102/24 dev owle-bs0
for ns in owle-bc owle-bs; do ip -n $ns link set lo up; done
ip -n owle-bc link set owle-bc0 up
ip -n owle-bs link set owle-bs0 up
ip netns exec owle-bc sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
# RLIMIT_NOFILE may be capped (20,000 here): spread over processes of
# at most 16,000 connections, each to its own endpoint
cat >"$work/srv.py" <<'PY'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.102", int(sys.argv[1]))); s.listen(4096)
open(sys.argv[2], "w").close()
keep = []
while True:
    keep.append(s.accept()[0])
PY
cat >"$work/cli.py" <<'PY'
import socket, sys, time
n = int(sys.argv[1]); keep = []
for i in range(n):
    keep.append(socket.create_connection(("198.51.100.102", int(sys.argv[2]))))
open(sys.argv[3], "w").close()
time.sleep(3600)
PY
per=16000
k=$(( (N + per - 1) / per ))
for i in $(seq 1 $k); do
	ip netns exec owle-bs /usr/bin/python3 "$work/srv.py" $((9000 + i)) "$work/srv$i.ready" &
	pids+=($!)
done
for i in $(seq 1 $k); do while [ ! -e "$work/srv$i.ready" ]; do sleep 0.1; done; done
for i in $(seq 1 $k); do
	n=$(( i < k ? per : N - per * (k - 1) ))
	ip netns exec owle-bc /usr/bin/python3 "$work/cli.py" $n $((9000 + i)) "$work/cli$i.ready" &
	pids+=($!)
done
for i in $(seq 1 $k); do while [ ! -e "$work/cli$i.ready" ]; do sleep 0.2; done; done
t() { local s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; echo $(( ($(date +%s%N) - s) / 1000000 )); }
echo "real sockets: $N connections from $k processes, one endpoint each (plus their $N server ends)"
echo "  owl scan --all --json --netns owle-bc:        $(t "$build/owl" scan --all --json --netns owle-bc) ms"
echo "  owl scan --all --json (every namespace):      $(t "$build/owl" scan --all --json) ms"
echo "  ss -tanp in owle-bc (for comparison):         $(t ip netns exec owle-bc ss -tanp) ms"
"$build/owl" scan --json --netns owle-bc 2>/dev/null | head -1 | jq -c '[.owl.endpoint.group.connections, .owl.findings[].id]'
