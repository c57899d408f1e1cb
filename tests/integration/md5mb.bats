#!/usr/bin/env bats
# A cold scan's hashing (src/verify/digest_batch.c: md5 and sha256 of the
# running images in SIMD lanes) gives the same digests on every path —
# one stream per image (OWL_MD5MB=off), scalar lanes, AVX2, AVX-512 — and
# they are the digests of the running images (md5sum, sha256sum of
# /proc/PID/exe), verified ok against dpkg's records.
#
# 40 distinct packaged executables hold a TCP connection each to a loopback
# listener (bench/hold-exec.py: stopped by ptrace right after exec, killed
# with the holder).  Traffic only to 127.0.0.1.

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	: "${OWL:?set OWL to the owl binary}"
	W=$(mktemp -d /tmp/owlv-md5mb.XXXXXX)
	hold 40 "$W/ready"
	HOLDER=$HELD
	read -r _ PORT N _ <"$W/ready"
	[ "$N" -ge 20 ]
}

# hold COUNT FILE: start bench/hold-exec.py COUNT (its pid in HELD), wait
# until it wrote "ready PORT N BYTES" to FILE
hold() {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/../../bench/hold-exec.py" "$1" >"$2" &
	HELD=$!
	for _ in $(seq 300); do
		[ -s "$2" ] && break
		sleep 0.1
	done
}

teardown() {
	# SIGTERM: the holder kills its stopped children, then itself
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	[ -n "${HOLDER2:-}" ] && kill "$HOLDER2" 2>/dev/null && wait "$HOLDER2" 2>/dev/null
	[ -n "${W:-}" ] && rm -rf "$W"
	true
}

# "pid md5 sha256 state" of the holder's children, sorted
scan_digests() {
	OWL_MD5MB="$1" OWL_DIGEST_CACHE= "$OWL" scan --all --json |
		jq -r --argjson p "$PORT" 'select(.destination.port == $p) |
			"\(.process.pid) \(.process.hash.md5) \(.process.hash.sha256) \(.owl.verify.state)"' | sort -u
}

@test "cold scan: the same digests on every hashing path, those of the running images, all verified ok" {
	for p in $(pgrep -P "$HOLDER"); do
		echo "$p $(md5sum <"/proc/$p/exe" | cut -d' ' -f1) $(sha256sum <"/proc/$p/exe" | cut -d' ' -f1) ok"
	done | sort -u >"$W/want"
	[ "$(wc -l <"$W/want")" -eq "$N" ]
	paths="off scalar"
	grep -qw avx2 /proc/cpuinfo && paths="$paths avx2"
	grep -qw avx512f /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && paths="$paths avx512"
	for m in $paths; do
		scan_digests "$m" >"$W/got-$m"
		diff -u "$W/want" "$W/got-$m" || { echo "OWL_MD5MB=$m differs" >&2; false; }
	done
	# and the default path (the best this CPU runs)
	scan_digests "" >"$W/got-default"
	diff -u "$W/want" "$W/got-default"
}

@test "cold scan in lanes writes the digest cache; the warm scan reuses every digest" {
	mkdir -m 700 "$W/cache"
	OWL_DIGEST_CACHE="$W/cache/digests" "$OWL" scan --all --json >"$W/cold.json"
	[ -s "$W/cache/digests" ]
	OWL_DIGEST_CACHE="$W/cache/digests" "$OWL" scan --all --json >"$W/warm.json"
	cold=$(jq -r --argjson p "$PORT" 'select(.destination.port == $p) | .owl.verify.digest_cached' "$W/cold.json" | sort | uniq -c)
	warm=$(jq -r --argjson p "$PORT" 'select(.destination.port == $p) | .owl.verify.digest_cached' "$W/warm.json" | sort | uniq -c)
	echo "cold: $cold; warm: $warm"
	[ "$(echo "$cold" | awk '{print $2}')" = false ]
	[ "$(echo "$warm" | awk '{print $1, $2}')" = "$N true" ]
	diff <(jq -r --argjson p "$PORT" 'select(.destination.port == $p) | "\(.process.pid) \(.process.hash.sha256)"' "$W/cold.json" | sort) \
		<(jq -r --argjson p "$PORT" 'select(.destination.port == $p) | "\(.process.pid) \(.process.hash.sha256)"' "$W/warm.json" | sort)
}

@test "many processes (the verify_info array on huge pages): every one verified ok, cold and warm" {
	# 150 more holders: with the 40 above, over 2 MiB of verify_info, which
	# the stage maps 2 MiB-aligned for transparent huge pages.  No verify
	# finding (other stages may judge these odd, ptrace-stopped children).
	hold 150 "$W/ready2"
	HOLDER2=$HELD
	read -r _ PORT2 N2 _ <"$W/ready2"
	mkdir -m 700 "$W/cache"
	for run in cold warm; do
		OWL_DIGEST_CACHE="$W/cache/digests" "$OWL" scan --all --json >"$W/$run.json"
		jq -r --argjson p "$PORT" --argjson q "$PORT2" \
			'select(.destination.port == $p or .destination.port == $q) |
			"\(.process.pid) \(.owl.verify.state) \(.owl.verify.digest_cached) \([.owl.findings[].id |
				select(test("^(exe-|name-mismatch|preload|reverse-shell|unit-unpackaged)"))] | join(","))"' \
			"$W/$run.json" | sort -u >"$W/$run.txt"
	done
	echo "N=$N N2=$N2"; awk '{print $2, $3, $4}' "$W/cold.txt" | sort | uniq -c; awk '{print $2, $3, $4}' "$W/warm.txt" | sort | uniq -c
	[ "$(wc -l <"$W/cold.txt")" -eq $((N + N2)) ]
	[ "$(awk '$2 == "ok" && $3 == "false" && $4 == ""' "$W/cold.txt" | wc -l)" -eq $((N + N2)) ]
	[ "$(awk '$2 == "ok" && $3 == "true" && $4 == ""' "$W/warm.txt" | wc -l)" -eq $((N + N2)) ]
}
