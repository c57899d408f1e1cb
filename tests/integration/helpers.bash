# Shared helpers for owl's integration tests (bats).  Run as root.
#
# Every namespace, interface and process a test makes is named after the
# test file's TAG and recorded, and teardown removes exactly those.
# Traffic goes only to loopback or to documentation addresses inside the
# namespaces made here.

: "${OWL:=$BATS_TEST_DIRNAME/../../build/owl}"
HELPERS="$BATS_TEST_DIRNAME/../helpers"
PY=/usr/bin/python3

_owl_pids=()
_owl_netns=()
_owl_links=()

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

# netns_add NAME: create a namespace with loopback up, removed in teardown
netns_add() {
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	_owl_netns+=("$1")
	ip -n "$1" link set lo up
}

# veth_pair NS_A IF_A ADDR_A NS_B IF_B ADDR_B [ADDR6_A ADDR6_B]
veth_pair() {
	# a pair left in this namespace by an interrupted run would block the name
	ip link del "$2" 2>/dev/null || true
	ip link del "$5" 2>/dev/null || true
	_owl_links+=("$2" "$5")
	ip link add "$2" type veth peer name "$5"
	ip link set "$2" netns "$1"
	ip link set "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	if [ -n "${7:-}" ]; then
		ip -n "$1" addr add "$7" dev "$2" nodad
		ip -n "$4" addr add "$8" dev "$5" nodad
	fi
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# start_bg [ip netns exec NS] CMD...: start a process that prints "ready PID..."
# and holds sockets; sets $bg_pid and $bg_pids (all pids it reported).
start_bg() {
	local out
	out=$(mktemp)
	"$@" >"$out" 2>&1 &
	local pid=$!
	_owl_pids+=("$pid")
	for _ in $(seq 100); do
		grep -q '^ready' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q '^ready' "$out"; then
		cat "$out" >&2
		rm -f "$out"
		return 1
	fi
	bg_pids=$(sed -n 's/^ready //p' "$out")
	# the reported pid is the program's own (ip netns exec replaces itself)
	bg_pid=${bg_pids%% *}
	for p in $bg_pids; do _owl_pids+=("$p"); done
	rm -f "$out"
}

sockprog() { # [NS] MODE ARGS...: start_bg sockprog.py, in NS when the first arg is a namespace
	if ip netns list | awk '{print $1}' | grep -qx -- "$1"; then
		local ns=$1
		shift
		start_bg ip netns exec "$ns" "$PY" "$HELPERS/sockprog.py" "$@"
	else
		start_bg "$PY" "$HELPERS/sockprog.py" "$@"
	fi
}

# Every process a test starts inherits this mark; cleanup ends a pid only
# while it still carries it, so a pid that exited and was reused by
# somebody else's process is never signalled.
export OWL_TEST_MARK="owltest-$$-$RANDOM$RANDOM"

ours() { # PID: is this pid still a process this test started?
	{ tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qx "OWL_TEST_MARK=$OWL_TEST_MARK"
}

signal_ours() { # SIG PID...
	local sig=$1 p
	shift
	for p in "$@"; do
		ours "$p" && kill "-$sig" "$p" 2>/dev/null || true
	done
}

cleanup_all() {
	signal_ours TERM "${_owl_pids[@]}"
	sleep 0.1
	signal_ours KILL "${_owl_pids[@]}"
	local ns
	for ns in "${_owl_netns[@]}"; do
		# everything still running inside a namespace this test made is the
		# test's (sessions started through a test's sshd carry no mark)
		ip netns pids "$ns" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	local l
	for l in "${_owl_links[@]}"; do
		ip link del "$l" 2>/dev/null || true
	done
	_owl_pids=()
	_owl_netns=()
	_owl_links=()
}

# jq_count FILTER FILE: number of NDJSON records in FILE matching FILTER
jq_count() {
	jq -c "select($1)" "$2" | wc -l
}
