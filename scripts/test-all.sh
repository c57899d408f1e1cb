#!/bin/bash
# The whole test suite, as CI runs it:
#   1. warning-free builds with gcc and clang (-Wall -Wextra -Werror)
#   2. unit tests (cmocka) and integration tests (bats, as root) on the gcc build
#   3. the same again on an ASan + UBSan build
#   4. every libFuzzer target for a short time (FUZZ_SECONDS, default 15)
# Prints "test-all: N passed, N failed" at the end; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
passed=0
failed=0
failures=()

step() { printf '\n=== %s\n' "$*"; }
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }

build() { # dir cc extra-meson-args...
	local dir=$1 cc=$2
	shift 2
	if [ ! -d "$dir" ]; then
		CC=$cc meson setup "$dir" -Dwerror=true -Dtests=enabled "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" 2>&1 | grep -v '^\[' ; return "${PIPESTATUS[0]}"
}

# counts "ok"/"not ok" lines of TAP
run_bats() { # label owl-binary
	local label=$1 owl=$2 out
	out=$(mktemp)
	OWL="$top/$owl" bats --tap tests/integration 2>&1 | tee "$out"
	local p f
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("$label: $f integration tests")
	grep -q '^1\.\.' "$out" || bad "$label: bats did not run"
	rm -f "$out"
}

run_unit() { # label builddir
	local label=$1 dir=$2 out p f
	out=$(mktemp)
	meson test -C "$dir" --suite unit --print-errorlogs 2>&1 | tee "$out"
	p=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$out" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	[ "${f:-0}" -eq 0 ] || failures+=("$label: $f unit tests")
	[ -n "$p" ] || bad "$label: unit tests did not run"
	rm -f "$out"
}

if [ "$(id -u)" != 0 ]; then
	echo "test-all: the integration tests need root (network namespaces, other users' processes): sudo $0" >&2
	exit 2
fi

step "build with gcc"
if build build-gcc gcc; then ok; else bad "gcc build"; fi
step "build with clang"
if build build-clang clang; then ok; else bad "clang build"; fi

if [ -x build-gcc/owl ]; then
	step "unit tests (gcc)"
	run_unit gcc build-gcc
	step "integration tests (gcc)"
	run_bats gcc build-gcc/owl
fi

step "build with ASan + UBSan (clang)"
if build build-asan clang -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug; then
	ok
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	step "unit tests (ASan + UBSan)"
	run_unit asan build-asan
	step "integration tests (ASan + UBSan)"
	run_bats asan build-asan/owl
	unset ASAN_OPTIONS UBSAN_OPTIONS
else
	bad "asan build"
fi

step "fuzz targets (${FUZZ_SECONDS}s each)"
if build build-fuzz clang -Dfuzz=true -Dtests=disabled -Dbuildtype=debug; then
	for f in build-fuzz/tests/fuzz/fuzz_*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		name=$(basename "$f")
		corpus="tests/fuzz/corpus/${name#fuzz_}"
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
		if "$f" -max_total_time="$FUZZ_SECONDS" -max_len=8192 -timeout=10 "$work" >"$work.log" 2>&1; then
			echo "$name: $(grep -o 'Done [0-9]* runs' "$work.log" | tail -1)"
			ok
		else
			tail -40 "$work.log"
			bad "fuzz $name"
		fi
		rm -rf "$work" "$work.log"
	done
else
	bad "fuzz build"
fi

echo
if [ "$failed" -gt 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "test-all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
