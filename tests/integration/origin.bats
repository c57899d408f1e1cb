#!/usr/bin/env bats
# How a connection came about (issue 7): ancestry, origin, unexpected-parent,
# the timeline, owl changes and recent-binary.
# Namespaces owlo-*, addresses 192.0.2.64/27 and 2001:db8:7::/48.

load helpers
bats_require_minimum_version 1.5.0

CG=/sys/fs/cgroup/systemd
PKG=netcat-traditional

setup() {
	require_root
	netns_add owlo-c
	netns_add owlo-s
	veth_pair owlo-c owlo-c0 192.0.2.65/27 owlo-s owlo-s0 192.0.2.66/27 2001:db8:7::1/64 2001:db8:7::2/64
	out=$(mktemp)
	tmpd=$(mktemp -d /tmp/owlo.XXXXXX)
	cg_made=()
	pkg_installed=0
}

teardown() {
	local d p
	# processes moved into a test cgroup go back to the root first
	for d in "${cg_made[@]}"; do
		if [ -f "$d/cgroup.procs" ]; then
			while read -r p; do echo "$p" >"$CG/cgroup.procs" 2>/dev/null || true; done <"$d/cgroup.procs"
		fi
	done
	cleanup_all
	for ((i = ${#cg_made[@]} - 1; i >= 0; i--)); do rmdir "${cg_made[$i]}" 2>/dev/null || true; done
	if [ "$pkg_installed" = 1 ]; then
		apt-get -o DPkg::Lock::Timeout=300 purge -y -qq "$PKG" >/dev/null 2>&1 || true
	fi
	rm -f /etc/cron.d/owlo-test
	rm -rf "$tmpd" "$out"
}

# the NDJSON record of the connection to HOST:PORT
record_to() {
	"$OWL" scan --json --fail-on critical >"$out"
	jq -c "select(.destination.ip == \"$1\" and .destination.port == $2 and .network.direction == \"egress\")" "$out" | head -1
}

@test "a process on a pseudo-terminal is user, with that tty and its user" {
	sockprog owlo-s tcp-listen 192.0.2.66 8001
	# script(1) gives the shell a pty; the client inherits it as controlling tty
	script -qfc "exec ip netns exec owlo-c $PY $HELPERS/sockprog.py tcp-connect 192.0.2.66 8001" /dev/null >"$tmpd/pty.out" 2>&1 &
	_owl_pids+=("$!")
	for _ in $(seq 100); do grep -q '^ready' "$tmpd/pty.out" && break; sleep 0.05; done
	pid=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$tmpd/pty.out" | head -1)
	[ -n "$pid" ]
	_owl_pids+=("$pid")
	tty=$(readlink "/proc/$pid/fd/0")
	[[ "$tty" == /dev/pts/* ]]
	sleep 0.2
	rec=$(record_to 192.0.2.66 8001)
	[ -n "$rec" ]
	[ "$(jq -r .process.pid <<<"$rec")" = "$pid" ]
	[ "$(jq -r .owl.origin <<<"$rec")" = user ]
	[ "$(jq -r .owl.session.tty <<<"$rec")" = "${tty#/dev/}" ]
	[ "$(jq -r .owl.session.user.name <<<"$rec")" = root ]
	[[ "$(jq -r .owl.origin_evidence <<<"$rec")" == "controlling terminal ${tty#/dev/}" ]]
	# ancestry: parent first, each hop as /proc says, up to pid 1
	ppid=$(awk '{print $4}' "/proc/$pid/stat")
	[ "$(jq -r '.owl.ancestry[0].pid' <<<"$rec")" = "$ppid" ]
	[ "$(jq -r '.process.parent.pid' <<<"$rec")" = "$ppid" ]
	[ "$(jq -r '.process.parent.executable' <<<"$rec")" = "$(readlink /proc/$ppid/exe)" ]
	[ "$(jq -r '.process.parent.name' <<<"$rec")" = "$(cat /proc/$ppid/comm)" ]
	[ "$(jq -r '.owl.ancestry[-1].pid' <<<"$rec")" = 1 ]
	[ "$(jq -r '[.owl.ancestry[] | select(.name == "script")] | length' <<<"$rec")" = 1 ]
	# no web-shell finding for an ordinary shell
	[ "$(jq -r '[.owl.findings[] | select(.id == "unexpected-parent")] | length' <<<"$rec")" = 0 ]
	# explain: the tree, the origin with its session
	run "$OWL" explain "$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"HOW IT CAME TO RUN (parent chain)"* ]]
	[[ "$output" == *"└─ $pid python3 (/usr/bin/python3"*"<- this process"* ]]
	[[ "$output" == *"origin: user"* ]]
	[[ "$output" == *"terminal: ${tty#/dev/}"* ]]
	run --separate-stderr "$OWL" explain "$pid" --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .origin.origin <<<"$output")" = user ]
	[ "$(jq -r .origin.tty <<<"$output")" = "${tty#/dev/}" ]
	[ "$(jq -r '.ancestry.parents[0].pid' <<<"$output")" = "$ppid" ]
}

@test "a command run over ssh is user, with the ssh client's address" {
	# sshd from Debian's package, unpacked (not installed) into the test dir;
	# its privsep user exists only in a private mount namespace
	(cd "$tmpd" && apt-get download openssh-server >/dev/null 2>&1) || skip "cannot download openssh-server"
	dpkg-deb -x "$tmpd"/openssh-server_*.deb "$tmpd/root"
	sshd="$tmpd/root/usr/sbin/sshd"
	ssh-keygen -q -t ed25519 -f "$tmpd/hostkey" -N ''
	ssh-keygen -q -t ed25519 -f "$tmpd/id" -N ''
	cp "$tmpd/id.pub" "$tmpd/authorized_keys"
	{ cat /etc/passwd; echo 'sshd:x:65534:65534:owl test privsep:/run/sshd:/usr/sbin/nologin'; } >"$tmpd/passwd"
	ip netns exec owlo-s unshare -m sh -c "mount --bind $tmpd/passwd /etc/passwd && mount -t tmpfs tmpfs /run &&
		mkdir -m 0755 /run/sshd && exec $sshd -D -e -f /dev/null -o ListenAddress=192.0.2.66 -o Port=2222 \
		-o HostKey=$tmpd/hostkey -o AuthorizedKeysFile=$tmpd/authorized_keys -o StrictModes=no -o PidFile=none" \
		>"$tmpd/sshd.log" 2>&1 &
	_owl_pids+=("$!")
	for _ in $(seq 100); do grep -q 'Server listening' "$tmpd/sshd.log" && break; sleep 0.05; done
	grep -q 'Server listening' "$tmpd/sshd.log"
	sockprog owlo-c tcp-listen 192.0.2.65 9002
	ip netns exec owlo-c ssh -i "$tmpd/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o BatchMode=yes -p 2222 root@192.0.2.66 \
		'exec 3<>/dev/tcp/192.0.2.65/9002; echo ready $$; sleep 300 3>&-' >"$tmpd/ssh.out" 2>/dev/null &
	_owl_pids+=("$!")
	for _ in $(seq 100); do grep -q '^ready' "$tmpd/ssh.out" && break; sleep 0.05; done
	remote=$(sed -n 's/^ready //p' "$tmpd/ssh.out")
	[ -n "$remote" ]
	_owl_pids+=("$remote")
	sleep 0.2
	"$OWL" scan --all --json --fail-on critical >"$out"
	# the remote shell's own socket (a closing one from an earlier run may linger)
	rec=$(jq -c --argjson pid "$remote" 'select(.destination.ip == "192.0.2.65" and .destination.port == 9002 and .network.direction == "egress" and .process.pid == $pid)' "$out")
	[ -n "$rec" ]
	echo "$rec" | jq -c '{p: .process, o: .owl.origin, e: .owl.origin_evidence, s: .owl.session, a: .owl.ancestry}' >&2
	[ "$(jq -r .owl.origin <<<"$rec")" = user ]
	[[ "$(jq -r .owl.origin_evidence <<<"$rec")" == "ssh session: ancestor pid "*" is 'sshd: root@notty'" ]]
	[ "$(jq -r .owl.session.user.name <<<"$rec")" = root ]
	# the client's end of the ssh connection, as the client side sees it
	cport=$(jq -r 'select(.destination.ip == "192.0.2.66" and .destination.port == 2222 and .network.direction == "egress") | .source.port' "$out")
	[ -n "$cport" ]
	[ "$(jq -r .owl.session.client.ip <<<"$rec")" = 192.0.2.65 ]
	[ "$(jq -r .owl.session.client.port <<<"$rec")" = "$cport" ]
	# sshd -> shell is the ordinary case: no finding
	[ "$(jq -r '[.owl.findings[] | select(.id == "unexpected-parent")] | length' <<<"$rec")" = 0 ]
}

@test "a process in a service's cgroup (name=systemd hierarchy) is service" {
	[ -d "$CG" ] || skip "no name=systemd cgroup hierarchy mounted"
	grep -q ':name=systemd:' /proc/self/cgroup || skip "no name=systemd line in /proc/self/cgroup"
	if [ ! -d "$CG/system.slice" ]; then mkdir "$CG/system.slice"; cg_made+=("$CG/system.slice"); fi
	mkdir "$CG/system.slice/owlo-test.service"
	cg_made+=("$CG/system.slice/owlo-test.service")
	sockprog owlo-s tcp-listen 192.0.2.66 8002
	# as systemd starts a service: its own session, no tty, reparented to init
	setsid -f ip netns exec owlo-c "$PY" "$HELPERS/sockprog.py" tcp-connect 192.0.2.66 8002 >"$tmpd/svc.out" 2>&1 </dev/null
	for _ in $(seq 100); do grep -q '^ready' "$tmpd/svc.out" && break; sleep 0.05; done
	pid=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$tmpd/svc.out")
	[ -n "$pid" ]
	_owl_pids+=("$pid")
	echo "$pid" >"$CG/system.slice/owlo-test.service/cgroup.procs"
	grep -q ':name=systemd:/system.slice/owlo-test.service$' "/proc/$pid/cgroup"
	rec=$(record_to 192.0.2.66 8002)
	[ -n "$rec" ]
	[ "$(jq -r .owl.unit <<<"$rec")" = owlo-test.service ]
	[ "$(jq -r .owl.origin <<<"$rec")" = service ]
	[ "$(jq -r .owl.origin_evidence <<<"$rec")" = "systemd unit owlo-test.service" ]
	[ "$(jq -r '.owl.session // "none"' <<<"$rec")" = none ]
}

@test "a job started by cron is scheduled" {
	# cron is not installed here: a stand-in whose comm is "cron" (as
	# Debian's cron forks a child named cron for each job) runs the job's sh
	sockprog owlo-s tcp-listen 192.0.2.66 8006
	ip netns exec owlo-c "$PY" -c '
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(15, b"cron", 0, 0, 0)
p = subprocess.Popen(["/bin/sh", "-c", "'"$PY"' '"$HELPERS"'/sockprog.py tcp-connect 192.0.2.66 8006; true"])
time.sleep(300)' >"$tmpd/cron.out" 2>&1 &
	_owl_pids+=("$!")
	for _ in $(seq 100); do grep -q '^ready' "$tmpd/cron.out" && break; sleep 0.05; done
	pid=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$tmpd/cron.out")
	[ -n "$pid" ]
	_owl_pids+=("$pid")
	rec=$(record_to 192.0.2.66 8006)
	[ -n "$rec" ]
	[ "$(jq -r .process.pid <<<"$rec")" = "$pid" ]
	[ "$(jq -r .owl.origin <<<"$rec")" = scheduled ]
	[ "$(jq -r .owl.trigger <<<"$rec")" = cron ]
	[[ "$(jq -r .owl.origin_evidence <<<"$rec")" == "started by cron (pid "* ]]
	[ "$(jq -r '.owl.ancestry[0].name' <<<"$rec")" = sh ]
	[ "$(jq -r '.owl.ancestry[1].name' <<<"$rec")" = cron ]
	# cron -> sh is an ordinary case
	[ "$(jq -r '[.owl.findings[] | select(.id == "unexpected-parent")] | length' <<<"$rec")" = 0 ]
}

@test "a shell spawned by a web server that connects out is unexpected-parent" {
	sockprog owlo-c tcp-listen 192.0.2.65 9001
	start_bg ip netns exec owlo-s "$PY" "$HELPERS/owlo_websrv.py" 192.0.2.66 8080 "$tmpd/shell.pid"
	websrv=$bg_pid
	ip netns exec owlo-c curl -sf "http://192.0.2.66:8080/run?h=192.0.2.65&p=9001" >/dev/null
	for _ in $(seq 100); do [ -s "$tmpd/shell.pid" ] && break; sleep 0.05; done
	shell=$(cat "$tmpd/shell.pid")
	_owl_pids+=("$shell")
	sleep 0.2
	# stdout only: a warning on stderr (a process exiting mid-scan) is not JSON
	status=0
	"$OWL" scan --json --fail-on medium >"$out" || status=$?
	# medium (a listener not known by name): exit 1 at --fail-on medium
	[ "$status" -eq 1 ]
	rec=$(jq -c 'select(.destination.ip == "192.0.2.65" and .destination.port == 9001 and .network.direction == "egress")' "$out")
	[ -n "$rec" ]
	[ "$(jq -r .process.pid <<<"$rec")" = "$shell" ]
	[ "$(jq -r .process.name <<<"$rec")" = bash ]
	f=$(jq -c '.owl.findings[] | select(.id == "unexpected-parent")' <<<"$rec")
	[ -n "$f" ]
	[ "$(jq -r .severity <<<"$f")" = medium ]
	[[ "$(jq -r .reason <<<"$f")" == *"descends from a process listening on TCP, python3 (pid $websrv)"* ]]
	[ "$(jq -r .owl.severity <<<"$rec")" = medium ]
	[ "$(jq -r .event.kind <<<"$rec")" = alert ]
	# the chain: bash <- sh <- the web server
	[ "$(jq -r '.owl.ancestry[0].name' <<<"$rec")" = sh ]
	[ "$(jq -r '.owl.ancestry[1].pid' <<<"$rec")" = "$websrv" ]
	# the web server's own listening socket carries no such finding
	[ "$(jq -c "select(.process.pid == $websrv) | .owl.findings[] | select(.id == \"unexpected-parent\")" "$out" | wc -l)" -eq 0 ]
}

@test "a package installed by the test shows in owl changes and precedes a process it starts" {
	if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q "install ok installed"; then
		skip "$PKG is already installed (the test installs and removes it itself)"
	fi
	before=$(date +%s)
	pkg_installed=1
	apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$PKG" >/dev/null 2>&1 ||
		skip "apt-get could not install $PKG (no archive reachable?)"
	run --separate-stderr "$OWL" changes --since 10m --json
	[ "$status" -eq 0 ]
	echo "$output" >"$out"
	inst=$(jq -c "select(.owl.change.kind == \"package-install\" and .package.name == \"$PKG\")" "$out" | tail -1)
	[ -n "$inst" ]
	t=$(date -d "$(jq -r '."@timestamp"' <<<"$inst")" +%s)
	[ "$t" -ge "$((before - 1))" ]
	# the apt run with its command line
	[ "$(jq -c "select(.owl.change.kind == \"apt-run\" and (.owl.change.subject | contains(\"$PKG\")))" "$out" | wc -l)" -ge 1 ]
	run "$OWL" changes --since 10m
	[ "$status" -eq 0 ]
	[[ "$output" == *"package-install     $PKG"* ]]

	# a process from the package, started after it
	sockprog owlo-s tcp-listen 192.0.2.66 8003
	ip netns exec owlo-c /bin/nc.traditional -q -1 192.0.2.66 8003 </dev/zero >/dev/null 2>&1 &
	nc=$!
	_owl_pids+=("$nc")
	sleep 0.5
	rec=$(record_to 192.0.2.66 8003)
	[ -n "$rec" ]
	[ "$(jq -r .process.executable <<<"$rec")" = /usr/bin/nc.traditional ]
	[ "$(jq -c ".owl.timeline.changes[] | select(.kind == \"package-install\" and .subject == \"$PKG\")" <<<"$rec" | wc -l)" -ge 1 ]
	start=$(date -d "$(jq -r .owl.timeline.process_start <<<"$rec")" +%s)
	[ "$start" -ge "$t" ]
	[ "$(jq -r .owl.timeline.changes_before_start <<<"$rec")" -ge 1 ]
	# explain lists the install among the changes before the start
	run --separate-stderr "$OWL" explain "$nc" --json
	[ "$status" -eq 0 ]
	[ "$(jq -c ".changes_before_start.list[] | select(.kind == \"package-install\" and .subject == \"$PKG\")" <<<"$output" | wc -l)" -ge 1 ]

	# the package that owns it, and when it was installed
	[ "$(jq -r '.package.name' <<<"$rec")" = "$PKG" ]
	[ "$(jq -r .owl.timeline.package.name <<<"$rec")" = "$PKG" ]
	inst_tl=$(date -d "$(jq -r .owl.timeline.package.installed <<<"$rec")" +%s)
	[ "$inst_tl" -ge "$((t - 1))" ]
	[ "$(jq -r '[.owl.findings[] | select(.id == "recent-binary")] | length' <<<"$rec")" = 0 ]
	# the executable changed after the install: recent-binary
	kill "$nc" 2>/dev/null || true
	wait "$nc" 2>/dev/null || true
	touch -d '+1 hour' /usr/bin/nc.traditional
	ip netns exec owlo-c /usr/bin/nc.traditional -q -1 192.0.2.66 8003 </dev/zero >/dev/null 2>&1 &
	nc=$!
	_owl_pids+=("$nc")
	sleep 0.5
	record_to 192.0.2.66 8003 >/dev/null
	rec=$(jq -c "select(.process.pid == $nc and .destination.port == 8003)" "$out")
	[ -n "$rec" ]
	f=$(jq -c '.owl.findings[] | select(.id == "recent-binary")' <<<"$rec")
	[ -n "$f" ]
	[[ "$(jq -r .reason <<<"$f")" == *"after package $PKG was installed"* ]]

	# and its removal is a change too
	kill "$nc" 2>/dev/null || true
	wait "$nc" 2>/dev/null || true
	apt-get -o DPkg::Lock::Timeout=300 purge -y -qq "$PKG" >/dev/null 2>&1
	pkg_installed=0
	run --separate-stderr "$OWL" changes --since 10m --json
	[ "$status" -eq 0 ]
	[ "$(jq -c "select((.owl.change.kind == \"package-remove\" or .owl.change.kind == \"package-purge\") and .package.name == \"$PKG\")" <<<"$output" | wc -l)" -ge 1 ]
}

@test "a binary dropped in /tmp and run is recent-binary" {
	sockprog owlo-s tcp-listen 192.0.2.66 8004
	cp /usr/bin/nc.openbsd "$tmpd/owlo-dropper"
	ip netns exec owlo-c "$tmpd/owlo-dropper" 192.0.2.66 8004 </dev/zero >/dev/null 2>&1 &
	_owl_pids+=("$!")
	sleep 0.5
	rec=$(record_to 192.0.2.66 8004)
	[ -n "$rec" ]
	[ "$(jq -r .process.executable <<<"$rec")" = "$tmpd/owlo-dropper" ]
	f=$(jq -c '.owl.findings[] | select(.id == "recent-binary")' <<<"$rec")
	[ -n "$f" ]
	[ "$(jq -r .severity <<<"$f")" = low ]
	[[ "$(jq -r .reason <<<"$f")" == *"created or changed at"* ]]
	# owl changes lists it as an executable in a writable place
	run --separate-stderr "$OWL" changes --since 1h --json
	[ "$status" -eq 0 ]
	[ "$(jq -c "select(.owl.change.kind == \"writable-executable\" and .file.path == \"$tmpd/owlo-dropper\")" <<<"$output" | wc -l)" -eq 1 ]
	# an old copy is not recent
	touch -d '30 days ago' "$tmpd/owlo-dropper"
	run --separate-stderr "$OWL" changes --since 1h --json
	# ctime still says now: touch cannot hide the change from owl changes
	[ "$(jq -c "select(.file.path == \"$tmpd/owlo-dropper\") | .owl.change.time_source" <<<"$output")" = '"ctime"' ]
}

@test "a packaged program run normally carries neither finding" {
	sockprog owlo-s tcp-listen 192.0.2.66 8005
	sockprog owlo-c tcp-connect 192.0.2.66 8005
	sleep 0.2
	rec=$(record_to 192.0.2.66 8005)
	[ -n "$rec" ]
	[ "$(jq -r '[.owl.findings[] | select(.id == "unexpected-parent" or .id == "recent-binary")] | length' <<<"$rec")" = 0 ]
	[ "$(jq -r .owl.timeline.connection_first_seen <<<"$rec")" = "not recorded" ]
	[ "$(jq -r '.owl.ancestry | length' <<<"$rec")" -ge 1 ]
}

@test "owl changes: a new cron file, --since, bad usage" {
	printf '# owl test\n* * * * * root true\n' >/etc/cron.d/owlo-test
	run "$OWL" changes --since 5m
	[ "$status" -eq 0 ]
	[[ "$output" == *"cron                /etc/cron.d/owlo-test"* ]]
	run --separate-stderr "$OWL" changes --since 5m --json
	[ "$status" -eq 0 ]
	jq -e . <<<"$output" >/dev/null
	[ "$(jq -c 'select(.file.path == "/etc/cron.d/owlo-test")' <<<"$output" | wc -l)" -eq 1 ]
	run "$OWL" changes --since 1s
	[ "$status" -eq 0 ]
	run "$OWL" changes --since yesterday
	[ "$status" -eq 2 ]
	[[ "$output" == *"--since"* ]]
	run "$OWL" changes extra
	[ "$status" -eq 2 ]
}
