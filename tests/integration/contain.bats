#!/usr/bin/env bats
# owl contain (issue 8): kill-conn, block/unblock/list, freeze/thaw, history,
# and the dry-run of each.  Namespaces and interfaces owla-*, addresses in
# 192.0.2.128/25 and 2001:db8:8::/48 only.
#
# Topology (made here, removed in teardown):
#   netns owla-c 192.0.2.146 ── owla-c1 192.0.2.145 [host, forwarding on these
#   two interfaces only] 192.0.2.129 owla-d1 ── 192.0.2.130 netns owla-d
# so owla-c reaches owla-d through the host's forward hook, like a
# container, and the host reaches owla-d through its output hook.

load helpers

ACT="$BATS_TEST_DIRNAME/../helpers/actprog.py"
D4=192.0.2.130
D6=2001:db8:8::2

setup() {
	require_root
	command -v nft >/dev/null || skip "nft not installed"
	tmp=$(mktemp -d /tmp/owla-contain.XXXXXX)
	db=$tmp/owl.db
	netns_add owla-c
	netns_add owla-d
	ip link del owla-c1 2>/dev/null || true
	ip link del owla-d1 2>/dev/null || true
	ip link add owla-d1 type veth peer name owla-d0 netns owla-d
	ip link add owla-c1 type veth peer name owla-c0 netns owla-c
	ip addr add 192.0.2.129/28 dev owla-d1
	ip addr add 2001:db8:8::1/64 dev owla-d1 nodad
	ip addr add 192.0.2.145/28 dev owla-c1
	ip link set owla-d1 up
	ip link set owla-c1 up
	ip -n owla-d addr add $D4/28 dev owla-d0
	ip -n owla-d addr add $D6/64 dev owla-d0 nodad
	ip -n owla-d link set owla-d0 up
	ip -n owla-d route add default via 192.0.2.129
	ip -n owla-c addr add 192.0.2.146/28 dev owla-c0
	ip -n owla-c link set owla-c0 up
	ip -n owla-c route add default via 192.0.2.145
	# forwarding on the two test interfaces only (the host's global setting is untouched)
	sysctl -qw net.ipv4.conf.owla-c1.forwarding=1 net.ipv4.conf.owla-d1.forwarding=1
}

teardown() {
	# thaw anything a failed test left frozen, so its processes can be killed
	for d in /sys/fs/cgroup/freezer/owl/pid-*; do
		[ -d "$d" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
	done
	[ -n "${cg2:-}" ] && [ -d "$cg2" ] && echo 0 >"$cg2/cgroup.freeze"
	for p in "${_owl_pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
	cleanup_all
	for d in /sys/fs/cgroup/freezer/owl/pid-*; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	[ -n "${cg2:-}" ] && [ -d "$cg2" ] && rmdir "$cg2" 2>/dev/null
	rmdir /sys/fs/cgroup/freezer/owl 2>/dev/null || true
	rm -f /run/owl/freeze/*.orig 2>/dev/null
	ip link del owla-c1 2>/dev/null || true
	ip link del owla-d1 2>/dev/null || true
	nft delete table inet owl 2>/dev/null || true
	nft delete table inet owla_other 2>/dev/null || true
	rm -rf "$tmp"
}

act() { # [NS] MODE ARGS...
	if [ "$1" = owla-c ] || [ "$1" = owla-d ]; then
		local ns=$1
		shift
		start_bg ip netns exec "$ns" "$PY" "$ACT" "$@"
	else
		start_bg "$PY" "$ACT" "$@"
	fi
}

try_from() { # NS|host HOST PORT → prints connected / failed: ...
	if [ "$1" = host ]; then
		"$PY" "$ACT" try "$2" "$3"
	else
		ip netns exec "$1" "$PY" "$ACT" try "$2" "$3"
	fi
}

wait_grep() { # PATTERN FILE: up to 3 s
	for _ in $(seq 60); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# the ruleset of every table but owl's, without counters
others() {
	nft -s list ruleset | awk '/^table /{skip = ($0 ~ /^table inet owl \{/)} !skip'
}

@test "kill-conn: dry-run changes nothing; --yes resets exactly the chosen connection" {
	act owla-d server $D4 9200 "$tmp/server.log"
	act owla-c two-conns $D4 9200
	set -- $bg_pids
	cli=$1 p1=$2 p2=$3
	wait_grep "open $p2" "$tmp/server.log"

	run "$OWL" contain kill-conn --src 192.0.2.146:$p1 --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would destroy 1 connection with sock_diag SOCK_DESTROY"* ]]
	[[ "$output" == *"tcp 192.0.2.146:$p1 -> $D4:9200 ESTAB, pid $cli/python3, netns owla-c"* ]]
	[[ "$output" == *"nothing was changed; run again with --yes"* ]]
	sleep 0.3
	! grep -q "reset\|eof" "$tmp/server.log"
	[ ! -e "$db" ]

	run "$OWL" contain kill-conn --src 192.0.2.146:$p1 --yes --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"destroyed: tcp 192.0.2.146:$p1 -> $D4:9200"* ]]
	wait_grep "reset $p1" "$tmp/server.log"
	sleep 0.3
	# only that one: the other connection is still open on both ends
	! grep -q "$p2" <(grep -v "open $p2" "$tmp/server.log")
	ip netns exec owla-c ss -Htn state established "( sport = :$p2 )" | grep -q "$D4:9200"
	! ip netns exec owla-c ss -Htn state established "( sport = :$p1 )" | grep -q .

	# recorded
	run "$OWL" contain history --db "$db" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.event.action' <<<"$output")" = kill-conn ]
	[ "$(jq -r '.event.outcome' <<<"$output")" = success ]
	[ "$(jq -r '.owl.containment.pid' <<<"$output")" = "$cli" ]
	[[ "$(jq -r '.owl.containment.change' <<<"$output")" == "SOCK_DESTROY tcp cookie "*" in netns $(stat -L -c %i /run/netns/owla-c)" ]]
	[ "$(jq -r '.user.id' <<<"$output")" = 0 ]
}

@test "kill-conn by pid ends all of its connections; nothing matching exits 1" {
	act owla-d server $D4 9201 "$tmp/server.log"
	act owla-c two-conns $D4 9201
	set -- $bg_pids
	cli=$1 p1=$2 p2=$3
	wait_grep "open $p2" "$tmp/server.log"
	# dry-run with the positional forms explain suggests
	run "$OWL" contain kill-conn "$cli"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would destroy 2 connections"* ]]
	run "$OWL" contain kill-conn $D4:9201
	[ "$status" -eq 0 ]
	[[ "$output" == *"would destroy 2 connections"* ]]
	run "$OWL" contain kill-conn --pid "$cli" --yes --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"destroying 2 connections"* ]]
	wait_grep "reset $p1" "$tmp/server.log"
	wait_grep "reset $p2" "$tmp/server.log"
	run "$OWL" contain kill-conn --dst $D4:9201 --yes --db "$db"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no connection matches"* ]]
	run "$OWL" contain kill-conn --yes --db "$db"
	[ "$status" -eq 2 ]
}

@test "freeze refuses pid 1, kernel threads and unknown pids" {
	run "$OWL" contain freeze 1 --yes --db "$db"
	[ "$status" -eq 2 ]
	run "$OWL" contain freeze 2 --yes --db "$db"
	[ "$status" -eq 2 ]
	[[ "$output" == *"kernel thread"* ]]
	run "$OWL" contain freeze 4194000 --yes --db "$db"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no process"* ]]
	[ ! -e "$db" ]
}

@test "kill-conn over IPv6, from a dual-stack socket talking IPv4, and of a connected UDP socket" {
	act owla-d server $D6 9202 "$tmp/server6.log"
	act two-conns $D6 9202
	set -- $bg_pids
	p1=$2 p2=$3
	wait_grep "open $p2" "$tmp/server6.log"
	run "$OWL" contain kill-conn --dst "[$D6]:9202" --src "[2001:db8:8::1]:$p1" --yes --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"destroyed: tcp [2001:db8:8::1]:$p1 -> [$D6]:9202"* ]]
	wait_grep "reset $p1" "$tmp/server6.log"
	! grep -q "reset $p2" "$tmp/server6.log"

	act owla-d server $D4 9203 "$tmp/server4.log"
	act two-conns $D4 9203 mapped
	set -- $bg_pids
	p1=$2 p2=$3
	wait_grep "open $p2" "$tmp/server4.log"
	run "$OWL" contain kill-conn --src 192.0.2.129:$p2 --yes --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_grep "reset $p2" "$tmp/server4.log"
	! grep -q "reset $p1" "$tmp/server4.log"

	act owla-c udp-conn $D4 9204
	set -- $bg_pids
	u=$2
	ip netns exec owla-c ss -Hun "( sport = :$u )" | grep -q "$D4:9204"
	run "$OWL" contain kill-conn --dst $D4:9204 --transport udp --yes --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"destroyed: udp 192.0.2.146:$u -> $D4:9204"* ]]
	! ip netns exec owla-c ss -Hun "( sport = :$u )" | grep -q "$D4:9204"
}

@test "block: dry-run shows the nft script and changes nothing" {
	before=$(nft -s list ruleset)
	run "$OWL" contain block $D4 --for 10m --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would block $D4 (every protocol and port), for 10m"* ]]
	[[ "$output" == *"add element inet owl dst4 { $D4 timeout 600s }"* ]]
	[[ "$output" == *"add rule inet owl forward ip daddr @dst4 counter reject with icmpx type admin-prohibited"* ]]
	[[ "$output" == *"nothing was changed"* ]]
	[ "$(nft -s list ruleset)" = "$before" ]
	[ ! -e "$db" ]
	run "$OWL" contain unblock $D4 --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would unblock $D4"*"delete element inet owl dst4 { $D4 }"* ]]
	[ "$(nft -s list ruleset)" = "$before" ]
}

@test "block stops new connections from the host and from another namespace; unblock restores; no other table changes" {
	act owla-d server $D4 9300 "$tmp/server.log"
	act owla-d server $D6 9300 "$tmp/server6.log"
	# another table, owned by nobody but this test, must come out untouched
	nft -f - <<-'EOF'
	table inet owla_other {
		chain c {
			ip daddr 192.0.2.250 counter accept
		}
	}
	EOF
	[ "$(try_from host $D4 9300)" = connected ]
	[ "$(try_from owla-c $D4 9300)" = connected ]
	[ "$(try_from host $D6 9300)" = connected ]
	# a connection held from before the block, for explain to talk about
	act two-conns $D4 9300
	before=$(others)

	run "$OWL" contain block $D4 --for 1h --yes --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"blocked $D4"* ]]
	[[ "$output" == *"table inet owl {"* ]]
	run "$OWL" contain block 2001:db8:8::/64 --transport tcp --port 9300 --yes --db "$db"
	[ "$status" -eq 0 ]

	[[ "$(try_from host $D4 9300)" == failed* ]]
	[[ "$(try_from owla-c $D4 9300)" == failed* ]]
	[[ "$(try_from host $D6 9300)" == failed* ]]
	[ "$(others)" = "$before" ]

	run "$OWL" contain list --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ $D4\ +any\ +any\ +in\ (59m|1h) ]]
	[[ "$output" =~ 2001:db8:8::/64\ +tcp\ +9300\ +never ]]
	# what explain shows for a destination
	run "$OWL" contain list --dst $D4
	[[ "$output" == "blocked: $D4 by owl's nftables table inet owl, expires in "* ]]
	run "$OWL" contain list --dst $D6
	[ "$output" = "blocked: 2001:db8:8::/64 tcp port 9300 by owl's nftables table inet owl, until 'owl contain unblock'" ]
	run "$OWL" contain list --dst 192.0.2.131
	[ "$output" = "no active containment for that destination" ]
	# and explain shows the block of the destination
	run "$OWL" explain $D4
	echo "$output"
	[[ "$output" == *"CONTAINMENT (owl contain)"*"blocked destinations (nftables table inet owl)"*"$D4"*"expires in"* ]]
	run "$OWL" explain $D4 --json
	[ "$(jq -r '.containment.blocks[0].destination' <<<"$output")" = "$D4" ]

	run "$OWL" contain unblock $D4 --yes --db "$db"
	[ "$status" -eq 0 ]
	[ "$(try_from host $D4 9300)" = connected ]
	[ "$(try_from owla-c $D4 9300)" = connected ]
	[[ "$(try_from host $D6 9300)" == failed* ]]
	run "$OWL" contain unblock 2001:db8:8::/64 --transport tcp --port 9300 --yes --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"owl's table inet owl was removed"* ]]
	[ "$(try_from host $D6 9300)" = connected ]
	! nft list table inet owl 2>/dev/null
	[ "$(others)" = "$before" ]

	run "$OWL" contain unblock $D4 --yes --db "$db"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such block"* ]]

	run "$OWL" contain history --db "$db" --json
	[ "$(jq -r '.event.action' <<<"$output" | tr '\n' ' ')" = "block block unblock unblock unblock " ]
	[ "$(jq -r '.event.outcome' <<<"$output" | tr '\n' ' ')" = "success success success success failure " ]
	[ "$(jq -r 'select(.owl.containment.id == 1) | .owl.containment.destination' <<<"$output")" = $D4 ]
	[ -n "$(jq -r 'select(.owl.containment.id == 1) | .owl.containment.expires' <<<"$output")" ]
}

@test "block refuses loopback, /0 and host bits; bad durations" {
	run "$OWL" contain block 127.0.0.1 --yes --db "$db"
	[ "$status" -eq 2 ]
	run "$OWL" contain block 0.0.0.0/0 --yes --db "$db"
	[ "$status" -eq 2 ]
	run "$OWL" contain block 192.0.2.131/28 --yes --db "$db"
	[ "$status" -eq 2 ]
	run "$OWL" contain block $D4 --for 0s --db "$db"
	[ "$status" -eq 2 ]
	! nft list table inet owl 2>/dev/null
}

hits() { grep -c '^hit' "$tmp/beacon.log" 2>/dev/null || echo 0; }

@test "freeze stops a beacon's check-ins and thaw resumes them (cgroup v1 freezer, one process)" {
	[ -d /sys/fs/cgroup/freezer ] || skip "no cgroup v1 freezer on this host"
	act owla-d server $D4 9400 "$tmp/beacon.log"
	act owla-c beacon $D4 9400 50
	b=$bg_pid
	wait_grep hit "$tmp/beacon.log"

	run "$OWL" contain freeze "$b" --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would freeze pid $b/python3 with the cgroup-v1 method"* ]]
	[[ "$output" == *"create /sys/fs/cgroup/freezer/owl/pid-$b"* ]]
	[ ! -d /sys/fs/cgroup/freezer/owl/pid-$b ]

	run "$OWL" contain freeze "$b" --yes --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat /sys/fs/cgroup/freezer/owl/pid-$b/freezer.state)" = FROZEN ]
	sleep 0.3
	n1=$(hits)
	sleep 1
	n2=$(hits)
	[ "$n1" -eq "$n2" ]

	run "$OWL" contain list --db "$db"
	[[ "$output" == *"pid $b/python3: cgroup-v1 /owl/pid-$b"* ]]
	run "$OWL" contain list --pid "$b"
	[ "$output" = "frozen: pid $b, by the cgroup-v1 freezer, cgroup /owl/pid-$b ('owl contain thaw' resumes it)" ]
	run "$OWL" explain "$b" --json
	[ "$(jq -r '.containment.frozen' <<<"$output")" = cgroup-v1 ]
	[ "$(jq -r '.containment.frozen_cgroup' <<<"$output")" = "/owl/pid-$b" ]

	run "$OWL" contain thaw "$b" --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would thaw"* ]]
	[ "$(cat /sys/fs/cgroup/freezer/owl/pid-$b/freezer.state)" = FROZEN ]

	run "$OWL" contain thaw "$b" --yes --db "$db"
	[ "$status" -eq 0 ]
	sleep 1
	n3=$(hits)
	[ "$n3" -gt "$n2" ]
	# back where it was, owl's cgroup gone
	grep -q ':freezer:/$' /proc/$b/cgroup
	[ ! -d /sys/fs/cgroup/freezer/owl/pid-$b ]
	run "$OWL" contain thaw "$b" --yes --db "$db"
	[ "$status" -eq 1 ]
	run "$OWL" contain history --db "$db" --json
	[ "$(jq -r '.event.action' <<<"$output" | tr '\n' ' ')" = "freeze thaw " ]
}

@test "freeze --cgroup uses the cgroup v2 freezer; --method signal uses SIGSTOP" {
	act owla-d server $D4 9401 "$tmp/beacon.log"
	act owla-c beacon $D4 9401 50
	b=$bg_pid
	wait_grep hit "$tmp/beacon.log"
	run "$OWL" contain freeze "$b" --cgroup --yes --db "$db"
	[ "$status" -eq 2 ]
	[[ "$output" == *"root cgroup"* ]]

	cg2=/sys/fs/cgroup/unified/owla-beacon-$b
	mkdir "$cg2"
	echo "$b" >"$cg2/cgroup.procs"
	run "$OWL" contain freeze "$b" --cgroup --yes --db "$db"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cgroup /owla-beacon-$b of pid $b/python3 with the cgroup-v2 method"* ]]
	grep -q 'frozen 1' "$cg2/cgroup.events"
	sleep 0.3
	n1=$(hits); sleep 1; n2=$(hits)
	[ "$n1" -eq "$n2" ]
	run "$OWL" contain thaw "$b" --cgroup --yes --db "$db"
	[ "$status" -eq 0 ]
	sleep 1
	[ "$(hits)" -gt "$n2" ]

	run "$OWL" contain freeze "$b" --method signal --yes --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"kill -STOP $b"* ]]
	[ "$(awk '{print $3}' /proc/$b/stat)" = T ]
	sleep 0.3
	n1=$(hits); sleep 1; n2=$(hits)
	[ "$n1" -eq "$n2" ]
	run "$OWL" contain thaw "$b" --yes --db "$db"
	[ "$status" -eq 0 ]
	sleep 1
	[ "$(hits)" -gt "$n2" ]
}

@test "history records who, and explains an empty store" {
	run "$OWL" contain history --db "$db"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no containment actions recorded"* ]]
	SUDO_USER=alice run "$OWL" contain block 192.0.2.240 --yes --db "$db"
	[ "$status" -eq 0 ]
	run "$OWL" contain history --db "$db"
	[[ "$output" == *"block by uid 0 (root) via sudo from alice"* ]]
	[[ "$output" == *"add element inet owl dst4 { 192.0.2.240 }"* ]]
	run "$OWL" contain history --db "$db" --json
	[ "$(jq -r .owl.containment.sudo_user <<<"$output")" = alice ]
}

@test "an action is refused, unchanged, when it cannot be recorded" {
	mkdir "$tmp/ro" && echo "not a database" >"$tmp/ro/owl.db"
	run "$OWL" contain block 192.0.2.241 --yes --db "$tmp/ro/owl.db"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nothing was changed"* ]]
	! nft list table inet owl 2>/dev/null
}
