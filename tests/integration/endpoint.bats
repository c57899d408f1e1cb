#!/usr/bin/env bats
# The endpoint stage, the verdict and `owl explain`, against real sockets in
# two network namespaces this test makes: owle-c (client, 198.51.100.1,
# 2001:db8:4::1) and owle-s (server, 198.51.100.2/.3, 2001:db8:4::2, and
# 169.254.169.254 as a metadata service).  Traffic stays between them.
#
# Needs root, ip, nft, python3 (Debian's /usr/bin/python3), curl, jq, and for
# the GeoIP test libmaxmind-db-writer-perl: MaxMind's data cannot be
# downloaded here, so the test writes its own small MMDB with MaxMind's own
# writer (MaxMind::DB::Writer) — the one mock-like part, and a real MMDB.

NSC=owle-c
NSS=owle-s
PY=/usr/bin/python3
HELPER="$BATS_TEST_DIRNAME/endpoint-helper.py"

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	: "${OWL:?set OWL to the owl binary}"
	T=$(mktemp -d /tmp/owle-test.XXXXXX)
	PIDS=()
	cleanup_net
	ip netns add $NSC
	ip netns add $NSS
	ip link add owle-c0 netns $NSC type veth peer name owle-s0 netns $NSS
	ip -n $NSC link set lo up
	ip -n $NSS link set lo up
	ip -n $NSC addr add 198.51.100.1/24 dev owle-c0
	ip -n $NSS addr add 198.51.100.2/24 dev owle-s0
	ip -n $NSS addr add 198.51.100.3/24 dev owle-s0
	ip -n $NSS addr add 169.254.169.254/32 dev owle-s0
	ip -n $NSC addr add 2001:db8:4::1/64 dev owle-c0 nodad
	ip -n $NSS addr add 2001:db8:4::2/64 dev owle-s0 nodad
	ip -n $NSC link set owle-c0 up
	ip -n $NSS link set owle-s0 up
	ip -n $NSC route add 169.254.169.254/32 dev owle-c0
	ip -n $NSS route add 198.51.100.0/24 dev owle-s0 2>/dev/null || true
}

cleanup_net() {
	ip netns del $NSC 2>/dev/null || true
	ip netns del $NSS 2>/dev/null || true
	rm -rf /etc/netns/$NSC
}

teardown() {
	# PIDS are this shell's own children: jobs it can still wait for
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	cleanup_net
	[ -n "${T:-}" ] && rm -rf "$T"
}

# start NS NAME MODE ARGS...: run the helper in a namespace, wait until ready
start() {
	local ns=$1 name=$2
	shift 2
	READY_FILE="$T/$name.ready" ip netns exec "$ns" $PY "$HELPER" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$name=$!"
	for _ in $(seq 100); do
		[ -e "$T/$name.ready" ] && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/$name.log" >&2
	return 1
}

# the records of one pid from an NDJSON file (jq 1.6's -e looks at the last
# input only, so select first, test after)
pick() { # file pid
	jq -c "select(.process.pid == $2)" "$1"
}

# owl scan as JSON, only the records of one pid
scan_pid() { # pid args...
	local pid=$1
	shift
	"$OWL" scan --all --json --intel-dir '' "$@" >"$T/scan.json" 2>"$T/scan.err" || true
	jq -c "select(.process.pid == $pid)" "$T/scan.json"
}

@test "endpoint: intel-listed destination, exact address and CIDR, with bad lines reported file:line" {
	start $NSS srv serve 198.51.100.2 443
	start $NSS srv3 serve 198.51.100.3 443
	start $NSC cli hold 198.51.100.2 443 1
	start $NSC cli3 hold 198.51.100.3 443 1
	printf '# test list\n198.51.100.2\nthis is not an address\n' >"$T/exact.list"
	mkdir "$T/intel.d"
	printf '198.51.100.0/25 # a CIDR\n2001:db8:4::/48\n999.1.1.1\n' >"$T/intel.d/cidr.list"
	printf '198.51.100.3\n' >"$T/intel.d/ignored.txt"
	run "$OWL" scan --json --intel "$T/exact.list" --intel-dir "$T/intel.d"
	[ "$status" -eq 1 ]   # a high finding: --fail-on high
	echo "$output" | grep -q 'exact.list:3: not an address or CIDR, ignored: this is not an address'
	echo "$output" | grep -q 'cidr.list:3: not an address or CIDR, ignored: 999.1.1.1'
	"$OWL" scan --json --intel "$T/exact.list" --intel-dir "$T/intel.d" 2>/dev/null >"$T/s.json" || true
	r=$(jq -c "select(.process.pid == $PID_cli)" "$T/s.json")
	[ "$(echo "$r" | jq -r '.owl.severity')" = high ]
	[ "$(echo "$r" | jq -r '.event.kind')" = alert ]
	echo "$r" | jq -e '.owl.findings[] | select(.id == "ioc-match" and .severity == "high")
		| select(.reason | contains("exact.list") and contains("entry 198.51.100.2"))'
	echo "$r" | jq -e '.owl.endpoint.intel.list == "exact.list" and .owl.endpoint.scope == "documentation"'
	# the longest match wins: 198.51.100.2 is on both lists, the /32 is more specific
	r3=$(jq -c "select(.process.pid == $PID_cli3)" "$T/s.json")
	echo "$r3" | jq -e '.owl.findings[] | select(.id == "ioc-match") | select(.reason | contains("cidr.list") and contains("entry 198.51.100.0/25"))'
	# not listed without the lists
	r=$(scan_pid $PID_cli)
	echo "$r" | jq -e '[.owl.findings[] | select(.id == "ioc-match")] | length == 0'
	# an unreadable --intel file is exit 2 with a message
	run "$OWL" scan --intel "$T/missing.list"
	[ "$status" -eq 2 ]
	echo "$output" | grep -q "cannot read threat-intel list $T/missing.list: No such file"
}

@test "endpoint: IPv6 connection with scope, CIDR intel and table view" {
	start $NSS srv6 serve 2001:db8:4::2 443
	start $NSC cli6 hold 2001:db8:4::2 443 1
	printf '2001:db8:4::/48\n' >"$T/v6.list"
	r=$(scan_pid $PID_cli6 --intel "$T/v6.list")
	echo "$r" | jq -e '.network.type == "ipv6" and .destination.ip == "2001:db8:4::2" and .destination.port == 443'
	echo "$r" | jq -e '.owl.endpoint.scope == "documentation" and .owl.endpoint.port.service == "https"'
	echo "$r" | jq -e '.owl.findings[] | select(.id == "ioc-match") | select(.reason | contains("entry 2001:db8:4::/48"))'
	# the table: verdict first, the reason under the row, the scope next to the address
	COLUMNS=200 "$OWL" scan --intel "$T/v6.list" --intel-dir '' >"$T/table" 2>&1 || true
	grep -E "^high .*\[2001:db8:4::2\]:443 +documentation https .*$PID_cli6/python3" "$T/table"
	grep -A1 "$PID_cli6/python3" "$T/table" | grep -q 'ioc-match: 2001:db8:4::2 is on threat-intel list v6.list'
}

@test "endpoint: a namespace answering as 169.254.169.254 (metadata-service)" {
	start $NSS meta serve 169.254.169.254 80
	start $NSC cli hold 169.254.169.254 80 1
	r=$(scan_pid $PID_cli)
	echo "$r" | jq -e '.owl.endpoint.scope == "metadata"'
	echo "$r" | jq -e ".owl.findings[] | select(.id == \"metadata-service\" and .severity == \"medium\")
		| select(.reason | contains(\"pid $PID_cli (python3)\") and contains(\"169.254.169.254:80\"))"
	[ "$(echo "$r" | jq -r .event.kind)" = alert ]
	run "$OWL" scan --intel-dir '' --fail-on medium
	[ "$status" -eq 1 ]
}

@test "endpoint: one process with 300 connections to one endpoint (high-volume), counted in one pass" {
	start $NSS srv listen 198.51.100.2 8080
	start $NSC cli hold 198.51.100.2 8080 300
	scan_pid $PID_cli >"$T/r.json"
	[ "$(wc -l <"$T/r.json")" -eq 300 ]
	[ "$(jq -c 'select(.owl.findings[] | .id == "high-volume" and .severity == "medium")' "$T/r.json" | wc -l)" -eq 300 ]
	[ "$(jq -c 'select(.owl.endpoint.group.connections == 300)' "$T/r.json" | wc -l)" -eq 300 ]
	head -1 "$T/r.json" | jq -e '.owl.findings[] | select(.id == "high-volume") | select(.reason | contains("300 concurrent connections") and contains("threshold 100"))'
	# the table folds the 300 identical stories into one row and a count
	"$OWL" scan --netns $NSC --intel-dir '' >"$T/t.txt" || true
	[ "$(grep -c 'high-volume' "$T/t.txt")" -eq 1 ]
	grep -q 'and 299 more sockets like the one above' "$T/t.txt"
	# the threshold is configurable
	r=$(scan_pid $PID_cli --limit high-volume=301 | head -1)
	echo "$r" | jq -e '[.owl.findings[] | select(.id == "high-volume")] | length == 0'
	run "$OWL" scan --limit high-volume=abc
	[ "$status" -eq 2 ]
}

@test "endpoint: uploading several MiB to a slow receiver (large-upload, source.bytes)" {
	start $NSS srv serve 198.51.100.2 873 slow
	start $NSC up upload 198.51.100.2 873 67108864
	ok=
	for _ in $(seq 40); do
		r=$(scan_pid $PID_up --limit large-upload=4M)
		if echo "$r" | jq -e '.owl.findings[] | select(.id == "large-upload")' >/dev/null 2>&1; then ok=1; break; fi
		sleep 0.5
	done
	[ -n "$ok" ]
	echo "$r" | jq -e '.owl.findings[] | select(.id == "large-upload" and .severity == "medium") | select(.reason | contains("MiB to 198.51.100.2:873"))'
	echo "$r" | jq -e '.source.bytes >= 4194304 and .destination.bytes < 1024'
	echo "$r" | jq -e '.owl.endpoint.bytes_sent >= 4194304 and .owl.endpoint.port.service == "rsync"'
}

@test "endpoint: SYNs dropped by nftables leave attempts in SYN-SENT (repeated-attempts)" {
	ip netns exec $NSS nft -f - <<-'NFT'
	table inet owle {
		chain input {
			type filter hook input priority 0; policy accept;
			tcp dport 9999 drop
		}
	}
	NFT
	start $NSC att attempts 198.51.100.2 9999 4
	sleep 1.5   # the first SYN retransmission comes after 1 s
	r=$(scan_pid $PID_att)
	[ "$(echo "$r" | jq -r .owl.state | sort -u)" = SYN-SENT ]
	echo "$r" | jq -e '.owl.findings[] | select(.id == "repeated-attempts" and .severity == "medium")
		| select(.reason | contains("4 unanswered connection attempts"))' >/dev/null
	echo "$r" | head -1 | jq -e '.owl.socket.retransmits >= 1'
	# one attempt alone is low, named by its retransmitted SYN
	start $NSC one attempts 198.51.100.3 9999 1
	ip netns exec $NSS nft add rule inet owle input ip daddr 198.51.100.3 tcp dport 9999 drop
	sleep 1.5
	r=$(scan_pid $PID_one)
	echo "$r" | jq -e '.owl.findings[] | select(.id == "repeated-attempts" and .severity == "low")
		| select(.reason | contains("SYN sent"))'
}

@test "endpoint: a packet socket with a BPF filter and a raw IP socket (raw-socket)" {
	start $NSC pkt packet owle-c0
	start $NSC raw rawip
	r=$(scan_pid $PID_pkt)
	echo "$r" | jq -e '.network.transport == "packet"'
	echo "$r" | jq -e '.owl.findings[] | select(.id == "raw-socket" and .severity == "medium")
		| select(.reason | contains("packet socket (ip, raw frames)") and contains("9-instruction BPF filter attached"))'
	r=$(scan_pid $PID_raw)
	echo "$r" | jq -e '.owl.findings[] | select(.id == "raw-socket") | select(.reason | contains("raw IPv4 socket for IP protocol icmp"))'
	# medium findings show in the default view even without a remote end
	"$OWL" scan --json --intel-dir '' >"$T/d.json" 2>/dev/null || true
	pick "$T/d.json" $PID_pkt | jq -e '.network.transport == "packet"'
}

@test "endpoint: control — a packaged client (curl) on a common port gets nothing above low" {
	mkdir "$T/www"
	head -c 20000000 /dev/zero >"$T/www/big"
	start $NSS http http "$T/www" 198.51.100.2 80
	ip netns exec $NSC curl -s --limit-rate 100k -o /dev/null http://198.51.100.2/big &
	PIDS+=($!)
	curl_pid=$!
	ok=
	for _ in $(seq 50); do
		r=$(scan_pid $curl_pid)
		[ -n "$r" ] && ok=1 && break
		sleep 0.1
	done
	[ -n "$ok" ]
	echo "$r" | jq -e '.process.executable == "/usr/bin/curl" and .destination.port == 80'
	echo "$r" | jq -e '.owl.endpoint.port.class == "common"'
	echo "$r" | jq -e '.owl.severity == "info" or .owl.severity == "low"'
	echo "$r" | jq -e '.event.kind == "event"'
	run "$OWL" scan --intel-dir '' --netns $NSC --fail-on medium
	[ "$status" -eq 0 ]
}

@test "endpoint: GeoIP and ASN from an MMDB file (written with MaxMind's writer)" {
	perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || skip "libmaxmind-db-writer-perl not installed"
	perl -MMaxMind::DB::Writer::Tree -e '
	my %t = (country => "map", iso_code => "utf8_string", city => "map", names => "map", en => "utf8_string",
		 autonomous_system_number => "uint32", autonomous_system_organization => "utf8_string");
	my $w = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24, database_type => "GeoIP2-City",
		languages => ["en"], description => {en => "owl test"}, map_key_type_callback => sub { $t{$_[0]} },
		alias_ipv6_to_ipv4 => 1, remove_reserved_networks => 0);
	$w->insert_network("198.51.100.0/24", {country => {iso_code => "NL"}, city => {names => {en => "Amsterdam"}},
		autonomous_system_number => 64500, autonomous_system_organization => "Owl Test Net"});
	$w->insert_network("2001:db8:4::/48", {country => {iso_code => "IS"}, autonomous_system_number => 64501});
	open my $fh, ">:raw", $ARGV[0] or die; $w->write_tree($fh); close $fh;' "$T/test.mmdb"
	start $NSS srv serve 198.51.100.2 443
	start $NSS srv6 serve 2001:db8:4::2 443
	start $NSC cli hold 198.51.100.2 443 1
	start $NSC cli6 hold 2001:db8:4::2 443 1
	r=$(scan_pid $PID_cli --geoip "$T/test.mmdb")
	echo "$r" | jq -e '.destination.geo.country_iso_code == "NL" and .destination.geo.city_name == "Amsterdam"'
	echo "$r" | jq -e '.destination.as.number == 64500 and .destination.as.organization.name == "Owl Test Net"'
	echo "$r" | jq -e '.owl.endpoint.geo_source == "mmdb"'
	r=$(scan_pid $PID_cli6 --geoip "$T/test.mmdb")
	echo "$r" | jq -e '.destination.geo.country_iso_code == "IS" and .destination.as.number == 64501'
	# no MMDB: documentation addresses are in no country of Tor's geoip either
	r=$(scan_pid $PID_cli)
	echo "$r" | jq -e '.destination.geo == null'
	run "$OWL" scan --geoip /etc/services
	[ "$status" -eq 2 ]
	echo "$output" | grep -q 'GeoIP database /etc/services: not a readable MMDB database'
}

@test "endpoint: --resolve answers from the hosts file and never waits on a dead resolver" {
	start $NSS srv serve 198.51.100.2 443
	start $NSS srv3 serve 198.51.100.3 443
	start $NSC cli hold 198.51.100.2 443 1
	start $NSC cli3 hold 198.51.100.3 443 1
	# ip netns exec bind-mounts these over /etc for owl: a hosts entry for
	# .2, and a resolver at an address nothing answers on for .3
	mkdir -p /etc/netns/$NSC
	printf '127.0.0.1 localhost\n198.51.100.2 c2.owl.test\n' >/etc/netns/$NSC/hosts
	printf 'nameserver 198.51.100.9\noptions timeout:5 attempts:3\n' >/etc/netns/$NSC/resolv.conf
	start0=$(date +%s%N)
	# --netns: only this namespace's addresses (other tests' may be many)
	ip netns exec $NSC "$OWL" scan --all --json --netns $NSC --intel-dir '' --resolve --limit resolve-ms=1500 \
		>"$T/s.json" 2>"$T/s.err" || true
	elapsed=$(( ($(date +%s%N) - start0) / 1000000 ))
	echo "elapsed ${elapsed} ms" >&2
	[ "$elapsed" -lt 4000 ]
	pick "$T/s.json" $PID_cli | jq -e '.destination.domain == "c2.owl.test"'
	pick "$T/s.json" $PID_cli3 | jq -e '.destination.domain == null'
	grep -q 'reverse DNS: .* (time budget reached' "$T/s.err"
	# without --resolve: no lookups, no domain
	ip netns exec $NSC "$OWL" scan --all --json --intel-dir '' >"$T/n.json" 2>/dev/null || true
	pick "$T/n.json" $PID_cli | jq -e '.destination.domain == null'
}

@test "explain: a process, its endpoint, --json, and the clear errors" {
	start $NSS srv serve 198.51.100.2 4444
	start $NSC cli hold 198.51.100.2 4444 2
	printf '198.51.100.2\n' >"$T/bad.list"
	run "$OWL" explain $PID_cli --intel "$T/bad.list" --intel-dir ''
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '^SUMMARY'
	echo "$output" | grep -q 'verdict: high'
	echo "$output" | grep -q "command line: $PY $HELPER hold 198.51.100.2 4444 2"
	echo "$output" | grep -q '^HOW IT CAME TO RUN'
	# the verify stage's answer, when this build has it
	if "$OWL" scan --help | grep -q -- --no-verify; then
		echo "$output" | grep -q 'package: python3.11-minimal'
		echo "$output" | grep -q "running image vs the package's record: ok"
	fi
	echo "$output" | grep -q 'network namespace: owle-c'
	echo "$output" | grep -q 'ioc-match: 198.51.100.2 is on threat-intel list bad.list'
	echo "$output" | grep -q 'port-unusual: remote port 4444 is known for abuse'
	echo "$output" | grep -q '(on 2 sockets)'
	echo "$output" | grep -q "owl explain $PID_cli --json > owl-explain-$PID_cli-"
	echo "$output" | grep -q 'owl explain 198.51.100.2$'
	# only commands this build has
	for c in $(echo "$output" | sed -n 's/^ *owl \([a-z]*\) .*/\1/p' | sort -u); do
		"$OWL" "$c" --help >/dev/null
	done
	run "$OWL" explain $PID_cli --json --intel "$T/bad.list" --intel-dir ''
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.summary.severity == "high" and .summary.event_kind == "alert" and .summary.connections == 2'
	echo "$output" | jq -e ".process.pid == $PID_cli and .process.name == \"python3\""
	echo "$output" | jq -e '.connections.list | length == 2'
	echo "$output" | jq -e '.findings.list[] | select(.id == "ioc-match" and .sockets == 2)'
	echo "$output" | jq -e '.next_steps.list[] | select(.command | startswith("owl scan --all --json"))'
	echo "$output" | jq -e '.ancestry.parents | length >= 1'
	# the endpoint: who talks to it
	run "$OWL" explain 198.51.100.2:4444 --intel "$T/bad.list" --intel-dir ''
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '^THE REMOTE END'
	echo "$output" | grep -q 'scope: documentation'
	echo "$output" | grep -q "owl explain $PID_cli\$"
	run "$OWL" explain 198.51.100.2 --json --intel-dir ''
	echo "$output" | jq -e ".processes.list[0].pid == $PID_cli"
	# the suggested baseline command works as printed: pasted, it documents
	# the connection (the note replaced, the store a test one)
	run "$OWL" explain $PID_cli --json --intel-dir ''
	cmd=$(echo "$output" | jq -r '.next_steps.list[] | select(.command | startswith("owl baseline allow")) | .command')
	[[ "$cmd" == *"--exe '"*"--dest 198.51.100.2 --port 4444 --transport tcp"* ]]
	cmd=${cmd/owl /\"\$OWL\" }
	cmd=${cmd/WHY THIS IS LEGITIMATE/pasted from explain}
	eval "$cmd --db $T/explain.db"
	run "$OWL" scan --netns $NSC --json --db "$T/explain.db" --intel-dir ''
	echo "$output" | jq -e 'select(.destination.port == 4444) | .owl.findings[] | select(.id == "documented" and .reason == "pasted from explain")'
	# errors: exit 2 and a message
	run "$OWL" explain 4000000
	[ "$status" -eq 2 ]
	echo "$output" | grep -q 'no process with pid 4000000'
	run "$OWL" explain 203.0.113.77:80
	[ "$status" -eq 2 ]
	echo "$output" | grep -q 'no connection to 203.0.113.77:80'
	run "$OWL" explain not-a-target
	[ "$status" -eq 2 ]
	run "$OWL" explain
	[ "$status" -eq 2 ]
}
