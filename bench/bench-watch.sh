#!/bin/bash
# bench/bench-watch.sh — what watching costs: owl watch (eBPF, enrichment
# on, NDJSON out) against a bare bpftrace one-liner on sock:inet_sock_set_state
# and against polling `ss -tanp` every 100 ms, under short-lived loopback
# connections (connect + close) from threads and from freshly forked
# processes, at rising rates.  Run as root, on demand (not in CI):
#
#   sudo bench/bench-watch.sh            # D=5 s per run, RATES="1000 20000 0" (0 = max),
#                                        # REPEAT=3 rounds, medians printed
#   D=10 MODES=threads RATES="1000 0" sudo bench/bench-watch.sh
#
# Per run it measures, apart from each other:
#   captured %     connections the observer reported / connections made
#                  (owl: connection-established events for the benchmark's
#                  port; bpftrace: ESTABLISHED transitions on it; ss: distinct
#                  client ports seen)
#   observer CPU   utime+stime of the observer process (for the ss loop, of
#                  the loop and the ss processes it ran), % of one core
#   workload       the generator's own CPU (its process and forked children)
#                  and its rate; slowdown = CPU per connection against the
#                  same run with no observer (fixed rates), or the drop of
#                  the achieved rate (max rate)
#   lost           owl's own count of events it could not take (kernel side)
set -u
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-watch: run as root" >&2; exit 2; }
OWL=${OWL:-build/owl}
D=${D:-5}
RATES=${RATES:-"1000 20000 0"}
MODES=${MODES:-"threads fork"}
WORKERS=${WORKERS:-4}
OBSERVERS=${OBSERVERS:-"none owl bpftrace ss"}
REPEAT=${REPEAT:-3}
out=bench/out/watch
mkdir -p "$out"
cc -O2 -pthread -o "$out/connstorm" bench/connstorm.c || exit 2
[ -x "$OWL" ] || { echo "bench-watch: build owl first ($OWL)" >&2; exit 2; }
command -v bpftrace >/dev/null || OBSERVERS=${OBSERVERS/bpftrace/}
HZ=$(getconf CLK_TCK)

# bpftrace attaches through tracefs, owl does not (tp_btf).  bpftrace gets a
# tracefs mount of its own in a private mount namespace: nothing changes for
# the rest of the machine, and no one else's umount can pull it away.
OBS=""
cleanup() {
	[ -n "$OBS" ] && kill "$OBS" 2>/dev/null
}
trap cleanup EXIT

ticks() { # utime+stime(+children waited for) of a pid
	awk '{print $14+$15+$16+$17}' "/proc/$1/stat" 2>/dev/null || echo 0
}
kv() { # key line
	sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"
}

port=41000
start_observer() { # name port
	local name=$1 p=$2
	rm -f "$out/count" "$out/obs.err"
	case $name in
	none) OBS="" ;;
	owl)
		"$OWL" watch --json 2>"$out/obs.err" > >(grep -F '"action":"connection-established"' |
			grep -cF "\"destination\":{\"ip\":\"127.0.0.1\",\"port\":$p}" >"$out/count") &
		OBS=$!
		for _ in $(seq 100); do grep -q "owl: watching" "$out/obs.err" 2>/dev/null && break; sleep 0.1; done
		;;
	bpftrace)
		unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; exec bpftrace -e "tracepoint:sock:inet_sock_set_state /args->protocol == 6/ { printf(\"%d %d %d\\n\", pid, args->dport, args->newstate); }"' \
			2>"$out/obs.err" > >(awk -v p="$p" '$2 == p && $3 == 1 {n++} END {print n + 0}' >"$out/count") &
		OBS=$!
		sleep 3 # compiling and attaching
		;;
	ss)
		(while :; do ss -tanp state established "( dport = :$p )"; sleep 0.1; done) 2>/dev/null \
			> >(awk '$4 ~ /^127\./ {seen[$4] = 1} END {print length(seen)}' >"$out/count") &
		OBS=$!
		;;
	esac
	sleep 1
}

stop_observer() {
	[ -z "$OBS" ] && return
	kill -INT "$OBS" 2>/dev/null
	[ "$1" = ss ] && kill "$OBS" 2>/dev/null
	wait "$OBS" 2>/dev/null
	OBS=""
	for _ in $(seq 100); do [ -s "$out/count" ] && break; sleep 0.1; done
}

raw="$out/raw.txt"
: >"$raw"
for rep in $(seq "$REPEAT"); do
	for mode in $MODES; do
		for rate in $RATES; do
			# observers in a different order each round: the machine's other
			# load drifts, this spreads it over all of them
			obs_list=$(echo $OBSERVERS | tr ' ' '\n' | awk -v r="$rep" '{a[NR] = $0} END {for (i = 0; i < NR; i++) print a[(i + r - 1) % NR + 1]}')
			for obs in $obs_list; do
				port=$((port + 1))
				# a port no one listens on (other work shares this machine)
				while [ -n "$(ss -Htln "sport = :$port")" ]; do port=$((port + 1)); done
				start_observer "$obs" "$port"
				t0=0
				[ -n "$OBS" ] && t0=$(ticks "$OBS")
				res=$("$out/connstorm" -m "$mode" -r "$rate" -d "$D" -p "$port" -t "$WORKERS")
				t1=0
				[ -n "$OBS" ] && t1=$(ticks "$OBS")
				sleep 0.5
				stop_observer "$obs"
				made=$(kv made "$res")
				if [ -z "$made" ]; then
					echo "bench-watch: $mode/$rate/$obs: the generator failed, run left out" >&2
					continue
				fi
				count=$(cat "$out/count" 2>/dev/null || echo 0)
				[ "$obs" = none ] && count=$made
				lost=0
				[ "$obs" = owl ] && lost=$(sed -n 's/.*events ([^)]*), \([0-9]*\) lost.*/\1/p' "$out/obs.err")
				echo "$mode $rate $obs $(kv rate "$res") $(awk -v c="$count" -v m="$made" 'BEGIN {printf "%.2f", m ? 100 * c / m : 0}') $(awk -v t=$((t1 - t0)) -v hz="$HZ" -v s="$(kv seconds "$res")" 'BEGIN {printf "%.1f", 100 * t / hz / s}') $(kv cpu_per_conn_us "$res") ${lost:-0}" >>"$raw"
			done
		done
	done
done

# medians over the rounds; slowdown against the median run without observer
# (fixed rates: workload CPU per connection; max rate: achieved rate)
echo "bench-watch: D=${D}s per run, ${REPEAT} rounds, medians; raw runs in $raw"
awk '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1 " " $2 " " $3
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	rate[k] = rate[k] " " $4; capt[k] = capt[k] " " $5; cpu[k] = cpu[k] " " $6; cpc[k] = cpc[k] " " $7; lost[k] = lost[k] " " $8
}
END {
	printf "%-8s %-6s %-9s %9s %9s %8s %10s %9s %9s\n", "mode", "rate", "observer", "conn/s", "capt%", "obsCPU%", "work-us/c", "slowdown", "lost"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, f, " ")
		b = f[1] " " f[2] " none"
		if (f[3] == "none") slow = "-"
		else if (f[2] == 0) slow = sprintf("%.1f%%", 100 * (1 - median(rate[k]) / median(rate[b])))
		else slow = sprintf("%.1f%%", 100 * (median(cpc[k]) / median(cpc[b]) - 1))
		printf "%-8s %-6s %-9s %9.0f %9s %8s %10.2f %9s %9s\n", f[1], (f[2] == 0 ? "max" : f[2]), f[3], median(rate[k]),
			(f[3] == "none" ? "-" : sprintf("%.2f", median(capt[k]))), (f[3] == "none" ? "-" : sprintf("%.1f", median(cpu[k]))),
			median(cpc[k]), slow, (f[3] == "owl" ? median(lost[k]) : "-")
	}
}' "$raw"
