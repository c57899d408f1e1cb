#!/bin/bash
# What verification costs a scan (issue 3).
#
# Holds COUNT (default 200) distinct packaged executables, each owning a TCP
# connection to a loopback listener (bench/hold-exec.py: the children are
# stopped by ptrace right after exec, so each one IS that program and holds
# the socket), then times `owl scan --all --json`:
#   - without verification (--no-verify),
#   - cold: verification with an empty digest cache (every image hashed,
#     the dpkg database indexed),
#   - warm: verification with the cache the previous run wrote.
# Each figure is the median of RUNS runs (default 11).  Targets: cold
# adds <= 50 %, warm <= 10 % to the --no-verify time.
#
# usage: sudo OWL=build/owl bench/bench-verify.sh [COUNT] [RUNS]
set -eu
cd "$(dirname "$0")/.."
OWL=${OWL:-build/owl}
COUNT=${1:-200}
RUNS=${2:-11}
[ "$(id -u)" = 0 ] || { echo "bench-verify: run as root" >&2; exit 2; }
[ -x "$OWL" ] || { echo "bench-verify: no owl binary at $OWL (set OWL=)" >&2; exit 2; }

work=$(mktemp -d /tmp/owlv-bench.XXXXXX)
mkdir -m 700 "$work/cache"
cache=$work/cache/digests
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/python3 bench/hold-exec.py "$COUNT" >"$work/ready" &
holder=$!
for _ in $(seq 600); do
	[ -s "$work/ready" ] && break
	sleep 0.1
done
read -r _ port n bytes <"$work/ready"
echo "bench-verify: $n packaged executables ($((bytes / 1048576)) MiB) hold connections to 127.0.0.1:$port"

# what hashing costs: md5 and sha256 of every image once, one stream per
# file with OpenSSL (sha256 uses SHA-NI where the CPU has it), one core each
files=$(for p in $(pgrep -P "$holder"); do readlink "/proc/$p/exe"; done | sort -u)
# shellcheck disable=SC2086
cat $files >/dev/null
floor_one() { # DIGEST -> ms of CPU
	local best=999999 t0 t1 i
	for i in 1 2 3; do
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		openssl dgst "-$1" $files >/dev/null
		t1=$(date +%s%N)
		[ $(((t1 - t0) / 1000)) -lt "$best" ] && best=$(((t1 - t0) / 1000))
	done
	echo "$best"
}
fm=$(floor_one md5); fs=$(floor_one sha256); ncpu=$(nproc)
awk -v m="$fm" -v s="$fs" -v b="$bytes" -v n="$ncpu" 'BEGIN {
	printf "bench-verify: one stream per file (openssl dgst): md5 %.1f ms (%.0f MB/s) + sha256 %.1f ms (%.0f MB/s) = %.1f ms of CPU; over %d CPUs at best %.1f ms of wall\n",
		m / 1000, b / m, s / 1000, b / s, (m + s) / 1000, n, (m + s) / 1000 / n }'
# and owl's own hashing of the same files alone (src/verify/digest_batch.c:
# md5 in SIMD lanes, small files' sha256 too): the floor of a cold run
build=$(dirname "$OWL")
if [ -f "$build/libowl.a" ] && cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$work/bench_digest" bench/bench_digest.c \
	"$build/libowl.a" -lcrypto -lpthread 2>"$work/cc.err"; then
	# shellcheck disable=SC2086
	printf '%s\n' $files | "$work/bench_digest" "$ncpu" 5
else
	echo "bench-verify: no $build/libowl.a: owl's own hashing not measured" >&2
fi

# one run: "wall_us cpu_us verify_us total_scan_us" (wall and cpu = user +
# sys of owl and its threads, from bench/runtime.py, in microseconds;
# verify = owl's own --verbose figure for the verify stage; total_scan =
# collect + attribute + every stage + judge, as -v prints them:
# "owl: time: collect A ms, attribute B ms, stages C ms (verify V, endpoint …), judge J ms")
one() {
	local wc st
	wc=$(/usr/bin/python3 bench/runtime.py "$work/err" "$@" -v)
	st=$(sed -n 's/^owl: time: collect \([0-9.]*\) ms, attribute \([0-9.]*\) ms, stages \([0-9.]*\) ms (verify \([0-9.]*\),.*judge \([0-9.]*\) ms$/\4 \1 \2 \3 \5/p' "$work/err" |
		awk '{printf "%d %d", $1 * 1000, ($2 + $3 + $4 + $5) * 1000}')
	echo "$wc ${st:-0 0}"
}

median() { # column
	awk -v c="$1" '{print $c}' | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

# check that every holder is verified ok (the bench measures the real work)
okc=$(OWL_DIGEST_CACHE="$cache" "$OWL" scan --all --json 2>/dev/null |
	jq -r --argjson p "$port" 'select(.destination.port == $p) | .owl.verify.state' | grep -c '^ok$' || true)
echo "bench-verify: $okc of $n connections verified ok"
socks=$("$OWL" scan --all --json --no-verify 2>/dev/null | wc -l)
echo "bench-verify: $socks sockets on the host in all"

# Every run goes through env(1), so that both sides pay its exec alike.
# Two rounds, each interleaved with --no-verify runs so that the load of a
# shared machine hits both sides alike: cold against --no-verify, then warm
# against --no-verify.  Warm runs are not put right after cold ones: a cold
# run has just pushed 95 MiB through the CPU's caches, which is no part of
# what a warm scan costs.
: >"$work/base"; : >"$work/cold"; : >"$work/base2"; : >"$work/warm"
for _ in $(seq "$RUNS"); do
	one env OWL_DIGEST_CACHE="$cache" "$OWL" scan --all --json --no-verify >>"$work/base"
	rm -f "$cache" "$cache.key"
	one env OWL_DIGEST_CACHE="$cache" "$OWL" scan --all --json >>"$work/cold"
done
for _ in $(seq "$RUNS"); do
	one env OWL_DIGEST_CACHE="$cache" "$OWL" scan --all --json --no-verify >>"$work/base2"
	one env OWL_DIGEST_CACHE="$cache" "$OWL" scan --all --json >>"$work/warm"
done

bw=$(median 1 <"$work/base"); bc=$(median 2 <"$work/base"); bt=$(median 4 <"$work/base")
b2w=$(median 1 <"$work/base2"); b2c=$(median 2 <"$work/base2"); b2t=$(median 4 <"$work/base2")
cw=$(median 1 <"$work/cold"); cc=$(median 2 <"$work/cold"); cs=$(median 3 <"$work/cold")
ww=$(median 1 <"$work/warm"); wc=$(median 2 <"$work/warm"); ws=$(median 3 <"$work/warm")
awk -v bw="$bw" -v bc="$bc" -v cw="$cw" -v cc="$cc" -v ww="$ww" -v wc="$wc" -v runs="$RUNS" \
	-v b2w="$b2w" -v b2c="$b2c" -v bt="$bt" -v b2t="$b2t" -v cs="$cs" -v ws="$ws" 'BEGIN {
	printf "owl scan --all --json, medians of %d runs, each side interleaved with its --no-verify runs\n", runs
	printf "(wall clock; CPU = user+sys of owl and its threads):\n"
	printf "  --no-verify     wall %7.1f ms   CPU %7.1f ms\n", bw, bc
	printf "  verify, cold    wall %7.1f ms   CPU %7.1f ms   wall +%.1f ms = +%.0f%% (target +50%%)\n", cw, cc, cw - bw, (cw - bw) * 100 / bw
	printf "  --no-verify     wall %7.1f ms   CPU %7.1f ms\n", b2w, b2c
	printf "  verify, warm    wall %7.1f ms   CPU %7.1f ms   wall +%.1f ms = +%.0f%% (target +10%%)\n", ww, wc, ww - b2w, (ww - b2w) * 100 / b2w
	printf "owl -v: the scan itself (collect+attribute+stages+judge, --no-verify) %.1f / %.1f ms; the verify stage: cold %.1f ms (+%.0f%%), warm %.1f ms (+%.0f%%)\n", bt, b2t, cs, cs * 100 / bt, ws, ws * 100 / b2t
}'

