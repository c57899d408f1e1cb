#!/usr/bin/env bats
# verify, container images (issue 3: "for containerised processes, name the
# image where the runtime exposes it").  Run as root:
#   OWL=$PWD/build/owl bats tests/integration/cimage.bats
#
# podman: a REAL container.  This machine's pid 1 is not systemd and its
# cgroups are v1 with a v2 hierarchy beside them ("hybrid"): crun refuses
# hybrid mode, so the test runs podman with runc and the cgroupfs manager,
# its own storage (vfs driver, no overlay mounts) and its own run/tmp
# directories under the test's directory, and --network host.  The image is
# imported from a busybox-static rootfs made by the test (no registry).  The
# container's `nc` holds a connection to the test's listener on 127.0.0.1.
# podman rlimits: this sandbox has no CAP_SYS_RESOURCE and podman lowers its
# own RLIMIT_NPROC to 32768, so the container asks for exactly that.
#
# docker, cri-o, containerd (kubernetes), lxc cannot run here (no daemon
# of theirs, no registry): those cases are a MOCK of the runtime's on-disk
# state, written by the test under OWL_RUNTIME_ROOT in the runtime's own
# format, and a real process holding a real connection, moved into a cgroup
# whose path is the one that runtime gives its containers (name=systemd
# hierarchy, as verify.bats does for units).

load verify_helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -x "$OWL" ] || skip "OWL not set"
	vt_setup
	RT=$VT/rt
	mkdir -p "$RT"
	export OWL_RUNTIME_ROOT=$RT
	CID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
}

teardown() {
	if [ -n "${PODMAN_ARGS:-}" ]; then
		podman "${PODMAN_ARGS[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
		podman "${PODMAN_ARGS[@]}" rmi -f -a >/dev/null 2>&1 || true
		local d
		for d in /sys/fs/cgroup/*/"$PODMAN_CG" /sys/fs/cgroup/unified/"$PODMAN_CG"; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	fi
	vt_teardown
}

connect_py() {
	echo "import socket, time; s = socket.create_connection(('127.0.0.1', $PORT)); time.sleep(60)"
}

# A python3 holding a connection, moved into cgroup $1 (name=systemd hierarchy).
in_cgroup() {
	vt_bg $PY -c "$(connect_py)"
	vt_cgroup "$BGPID" "$1"
}

@test "podman: a real container's image, name and image id" {
	command -v podman >/dev/null || skip "podman not installed (scripts/install-deps.sh)"
	command -v runc >/dev/null || skip "runc not installed (scripts/install-deps.sh)"
	[ -x /bin/busybox ] || skip "busybox-static not installed"
	PODMAN_CG="owlim_parent_$$"
	PODMAN_ARGS=(--root "$RT/var/lib/containers/storage" --runroot "$VT/run" --tmpdir "$VT/tmp"
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime runc)
	mkdir -p "$VT/rootfs/bin"
	cp /bin/busybox "$VT/rootfs/bin/"
	tar -C "$VT/rootfs" -cf "$VT/rootfs.tar" .
	podman "${PODMAN_ARGS[@]}" import "$VT/rootfs.tar" localhost/owlim-busybox:1.0 >/dev/null
	run podman "${PODMAN_ARGS[@]}" run -d --network host --cgroup-parent "/$PODMAN_CG" \
		--ulimit nofile=$(ulimit -n):$(ulimit -Hn) --ulimit nproc=32768:32768 \
		--name owlim-web localhost/owlim-busybox:1.0 /bin/busybox nc 127.0.0.1 "$PORT"
	[ "$status" -eq 0 ] || { echo "$output" >&2; false; }
	id=${lines[-1]}
	pid=$(podman "${PODMAN_ARGS[@]}" inspect owlim-web --format '{{.State.Pid}}')
	image_id=$(podman "${PODMAN_ARGS[@]}" inspect owlim-web --format '{{.Image}}')
	[ "$pid" -gt 0 ]
	grep -q "libpod-$id" "/proc/$pid/cgroup"
	vt_record "$pid"
	[ "$(vt_field .container.id)" = "$id" ]
	[ "$(vt_field .container.runtime)" = podman ]
	[ "$(vt_field .container.name)" = owlim-web ]
	[ "$(vt_field .container.image.name)" = localhost/owlim-busybox ]
	[ "$(vt_field '.container.image.tag[0]')" = 1.0 ]
	[ "$(vt_field .owl.container.image_reference)" = localhost/owlim-busybox:1.0 ]
	[ "$(vt_field .owl.container.image_id)" = "sha256:$image_id" ]
	[ "$(vt_field .owl.container.source)" = podman ]
	[[ "$(vt_field '.container.image.hash.all[0]')" == sha256:* ]]
	# the table and explain name the image too
	"$OWL" scan --all | grep -F "127.0.0.1:$PORT" | grep -q "podman:${id:0:12} localhost/owlim-busybox:1.0"
	# without the runtime's state (the host's default storage has no such
	# container) owl says nothing about an image
	REC=$(OWL_RUNTIME_ROOT=/nonexistent "$OWL" scan --all --json | jq -c --argjson pid "$pid" \
		'select(.process.pid == $pid)' | head -1)
	[ "$(vt_field .container.id)" = "$id" ]
	[ "$(vt_field .container.image)" = null ]
	[ "$(vt_field .owl.container)" = null ]
}

@test "docker (mock state): Config.Image, Name, image id; table shows the image" {
	d=$RT/var/lib/docker/containers/$CID
	mkdir -p "$d"
	printf '{"ID":"%s","Config":{"Image":"registry.example:5000/shop/api:2.4","Labels":{}},"Image":"sha256:%s","Name":"/shop-api","Driver":"overlay2"}' \
		"$CID" "$(printf '%064d' 7)" >"$d/config.v2.json"
	in_cgroup "owlim.slice/docker-$CID.scope"
	vt_record "$BGPID"
	[ "$(vt_field .container.runtime)" = docker ]
	[ "$(vt_field .container.name)" = shop-api ]
	[ "$(vt_field .container.image.name)" = registry.example:5000/shop/api ]
	[ "$(vt_field '.container.image.tag[0]')" = 2.4 ]
	[ "$(vt_field .owl.container.image_id)" = "sha256:$(printf '%064d' 7)" ]
	"$OWL" scan --all | grep -F "127.0.0.1:$PORT" | grep -q "docker:${CID:0:12} registry.example:5000/shop/api:2.4"
	run "$OWL" explain "$BGPID"
	[[ "$output" == *"registry.example:5000/shop/api:2.4"* ]]
}

@test "kubernetes on containerd (mock state): CRI annotations name image, container and pod" {
	d=$RT/run/containerd/io.containerd.runtime.v2.task/k8s.io/$CID
	mkdir -p "$d"
	cat >"$d/config.json" <<-EOF
	{"ociVersion":"1.1.0","annotations":{"io.kubernetes.cri.container-name":"coredns",
	 "io.kubernetes.cri.container-type":"container",
	 "io.kubernetes.cri.image-name":"registry.k8s.io/coredns/coredns:v1.10.1",
	 "io.kubernetes.cri.sandbox-name":"coredns-owlim","io.kubernetes.cri.sandbox-namespace":"kube-system"}}
	EOF
	in_cgroup "owlim.slice/kubepods-burstable-pod0a1b2c3d_1111_2222_3333_444455556666.slice/cri-containerd-$CID.scope"
	vt_record "$BGPID"
	[ "$(vt_field .container.runtime)" = kubernetes ]
	[ "$(vt_field .container.name)" = coredns ]
	[ "$(vt_field .container.image.name)" = registry.k8s.io/coredns/coredns ]
	[ "$(vt_field .orchestrator.resource.name)" = coredns-owlim ]
	[ "$(vt_field .orchestrator.namespace)" = kube-system ]
	[ "$(vt_field .orchestrator.resource.id)" = 0a1b2c3d-1111-2222-3333-444455556666 ]
	[ "$(vt_field .owl.container.source)" = containerd ]
}

@test "cri-o (mock state): ImageName and the repository digest from ImageRef" {
	d=$RT/var/lib/containers/storage/overlay-containers/$CID/userdata
	mkdir -p "$d"
	cat >"$d/config.json" <<-EOF
	{"annotations":{"io.kubernetes.cri-o.ImageName":"docker.io/library/nginx:1.25",
	 "io.kubernetes.cri-o.ImageRef":"docker.io/library/nginx@sha256:$(printf '%064d' 9)",
	 "io.kubernetes.container.name":"nginx","io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"shop"}}
	EOF
	in_cgroup "owlim.slice/crio-$CID.scope"
	vt_record "$BGPID"
	[ "$(vt_field .container.runtime)" = cri-o ]
	[ "$(vt_field .container.image.name)" = docker.io/library/nginx ]
	[ "$(vt_field '.container.image.hash.all[0]')" = "sha256:$(printf '%064d' 9)" ]
	[ "$(vt_field .container.name)" = nginx ]
}

@test "lxc: the cgroup's name is the container's name, and no image is claimed" {
	in_cgroup "owlim.slice/lxc.payload.owlim-box"
	vt_record "$BGPID"
	[ "$(vt_field .container.runtime)" = lxc ]
	[ "$(vt_field .container.name)" = owlim-box ]
	[ "$(vt_field .container.image)" = null ]
}

@test "no runtime state: container id only, no image; a symlinked state file is not followed" {
	in_cgroup "owlim.slice/docker-$CID.scope"
	vt_record "$BGPID"
	[ "$(vt_field .container.id)" = "$CID" ]
	[ "$(vt_field .container.image)" = null ]
	[ "$(vt_field .container.name)" = null ]
	# the container's directory is a link to a file the runtime did not write
	mkdir -p "$VT/elsewhere" "$RT/var/lib/docker/containers"
	echo '{"Config":{"Image":"evil:1"},"Name":"/evil"}' >"$VT/elsewhere/config.v2.json"
	ln -s "$VT/elsewhere" "$RT/var/lib/docker/containers/$CID"
	vt_record "$BGPID"
	[ "$(vt_field .container.image)" = null ]
	[ "$(vt_field .container.name)" = null ]
}

@test "hostile image name: control characters are escaped in JSON and table" {
	d=$RT/var/lib/docker/containers/$CID
	mkdir -p "$d"
	printf '{"Config":{"Image":"ok:1\\u001b[2J\\nFAKE LINE"},"Name":"/x\\u0007"}' >"$d/config.v2.json"
	in_cgroup "owlim.slice/docker-$CID.scope"
	vt_record "$BGPID"
	# jq decodes the JSON escapes: the raw bytes are there, escaped on the wire
	[ "$(vt_field .container.image.name)" = "$(printf 'ok')" ]
	[[ "$(vt_field .owl.container.image_reference)" == *"FAKE LINE" ]]
	out=$("$OWL" scan --all)
	line=$(grep -F "127.0.0.1:$PORT" <<<"$out" | grep "docker:")
	[[ "$line" == *"FAKE LINE"* ]] # on the same line: the newline was escaped
	[ "$(grep -c $'\e' <<<"$out")" = 0 ]
}

@test "watch: a live connection from a container carries its image (docker, mock state)" {
	d=$RT/var/lib/docker/containers/$CID
	mkdir -p "$d"
	printf '{"Config":{"Image":"owlim/beacon:3"},"Image":"sha256:%s","Name":"/beacon"}' "$(printf '%064d' 3)" \
		>"$d/config.v2.json"
	"$OWL" watch --json --output "$VT/watch.json" 2>"$VT/watch.err" &
	wpid=$!
	echo "$wpid" >>"$VT/pids"
	for _ in $(seq 100); do
		grep -q "owl: watching" "$VT/watch.err" && break
		sleep 0.1
	done
	grep -q "owl: watching" "$VT/watch.err" || { cat "$VT/watch.err" >&2; false; }
	# moved into the container's cgroup before it connects
	vt_bg $PY -c "import socket, time; time.sleep(1.5); s = socket.create_connection(('127.0.0.1', $PORT)); time.sleep(30)"
	vt_cgroup "$BGPID" "owlim.slice/docker-$CID.scope"
	for _ in $(seq 60); do
		[ -s "$VT/watch.json" ] && jq -e --argjson pid "$BGPID" 'select(.process.pid == $pid)' "$VT/watch.json" \
			>/dev/null 2>&1 && break
		sleep 0.25
	done
	kill -INT "$wpid"
	wait "$wpid" || true
	REC=$(jq -c --argjson pid "$BGPID" 'select(.process.pid == $pid)' "$VT/watch.json" | head -1)
	[ -n "$REC" ]
	[ "$(vt_field .container.id)" = "$CID" ]
	[ "$(vt_field .container.name)" = beacon ]
	[ "$(vt_field .container.image.name)" = owlim/beacon ]
	[ "$(vt_field '.container.image.tag[0]')" = 3 ]
}
