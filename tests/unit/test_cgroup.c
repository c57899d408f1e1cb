/* cgroup path → unit / container.  The paths follow the layouts each
 * runtime creates (systemd and cgroupfs drivers); this machine runs no
 * container engine, so they are written out here rather than recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "attribute/cgroup.h"

#define ID64 "4f1c2a9e8d7b6c5a4f1c2a9e8d7b6c5a4f1c2a9e8d7b6c5a4f1c2a9e8d7b6c5a"

struct cg_case {
	const char *path;
	const char *unit;
	const char *container;
	int runtime;
	const char *pod;
	int user_session;
};

static const struct cg_case cases[] = {
	{"/system.slice/nginx.service", "nginx.service", "", OWL_CT_NONE, "", 0},
	{"/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service", "", OWL_CT_NONE, "", 0},
	{"/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "", OWL_CT_NONE, "", 1},
	{"/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", "foo.service", "", OWL_CT_NONE, "", 1},
	{"/docker/" ID64, "", ID64, OWL_CT_DOCKER, "", 0},
	{"/system.slice/docker-" ID64 ".scope", "", ID64, OWL_CT_DOCKER, "", 0},
	{"/system.slice/containerd.service/default/" ID64, "containerd.service", ID64, OWL_CT_CONTAINERD, "", 0},
	{"/default/" ID64, "", ID64, OWL_CT_CONTAINERD, "", 0},
	{"/machine.slice/libpod-" ID64 ".scope", "", ID64, OWL_CT_PODMAN, "", 0},
	{"/machine.slice/libpod-" ID64 ".scope/container", "", ID64, OWL_CT_PODMAN, "", 0},
	{"/libpod_parent/libpod-" ID64, "", ID64, OWL_CT_PODMAN, "", 0},
	{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID64 ".scope", "user@1000.service", ID64,
	 OWL_CT_PODMAN, "", 1},
	{"/system.slice/crio-" ID64 ".scope", "", ID64, OWL_CT_CRIO, "", 0},
	{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/"
	 "cri-containerd-" ID64 ".scope",
	 "", ID64, OWL_CT_KUBERNETES, "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", 0},
	{"/kubepods/besteffort/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/" ID64, "", ID64, OWL_CT_KUBERNETES,
	 "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", 0},
	{"/kubepods.slice/kubepods-pod1a2b.slice/crio-" ID64 ".scope", "", ID64, OWL_CT_KUBERNETES, "1a2b", 0},
	{"/lxc.payload.web1", "", "web1", OWL_CT_LXC, "", 0},
	{"/lxc/web2", "", "web2", OWL_CT_LXC, "", 0},
	{"/", "", "", OWL_CT_NONE, "", 0},
	{"", "", "", OWL_CT_NONE, "", 0},
	{"//////", "", "", OWL_CT_NONE, "", 0},
	{"/docker/notanid", "", "", OWL_CT_NONE, "", 0},
	{"/system.slice/docker-xyz.scope", "docker-xyz.scope", "", OWL_CT_NONE, "", 0},
};

static void test_paths(void **s)
{
	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct owl_cgroup_info ci;
		cgroup_parse_path(cases[i].path, &ci);
		assert_string_equal(ci.unit, cases[i].unit);
		assert_string_equal(ci.container_id, cases[i].container);
		assert_int_equal(ci.runtime, cases[i].runtime);
		assert_string_equal(ci.pod_uid, cases[i].pod);
		assert_int_equal(ci.user_session, cases[i].user_session);
	}
}

static void test_pick(void **s)
{
	(void)s;
	char out[256];
	const char *v2 = "0::/system.slice/ssh.service\n";
	assert_int_equal(cgroup_pick_path(v2, strlen(v2), out, sizeof(out)), 0);
	assert_string_equal(out, "/system.slice/ssh.service");
	/* hybrid: name=systemd holds the unit while 0:: is the root */
	const char *hybrid = "12:memory:/system.slice/ssh.service\n1:name=systemd:/system.slice/ssh.service\n0::/\n";
	assert_int_equal(cgroup_pick_path(hybrid, strlen(hybrid), out, sizeof(out)), 0);
	assert_string_equal(out, "/system.slice/ssh.service");
	/* this sandbox: only the memory controller has a path */
	const char *sandbox = "9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n";
	assert_int_equal(cgroup_pick_path(sandbox, strlen(sandbox), out, sizeof(out)), 0);
	assert_string_equal(out, "/process_api/abc");
	assert_true(cgroup_pick_path("", 0, out, sizeof(out)) < 0);
	assert_true(cgroup_pick_path("garbage", 7, out, sizeof(out)) < 0);
	/* bounded output */
	char small[8];
	const char *longp = "0::/a/very/long/path/indeed\n";
	assert_int_equal(cgroup_pick_path(longp, strlen(longp), small, sizeof(small)), 0);
	assert_int_equal(strlen(small), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_pick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
