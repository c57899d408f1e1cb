/* verify/cimage: container image and name from the runtimes' state files
 * (tests/fixtures/runtime-root, see its README: podman's files recorded,
 * docker/containerd/cri-o's written in their formats). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/model.h"
#include "verify/cimage.h"
#include "verify/vroot.h"

#define ROOT "tests/fixtures/runtime-root"
#define DOCKER_ID "4c01db0b339c9b6c5d7b2e0f3fcb7a2d8e9d1f0a6b5c4d3e2f1a0b9c8d7e6f50"
#define CRI_ID "7e1a0f3c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define CRIO_ID "b3f2e1d0c9b8a7968574635241302f1e0d1c2b3a49586776859a4b3c2d1e0f9a"
#define PODMAN_ID "97a7adedb07333f0089ba1c151017f2b2d728504077384e4e2475cdfae53ff8f"
#define PODMAN_IMG "25952373903ef8e82b1677282d7f434807d5430b6598fec0a10f18f3975f129c"
#define LINK_FILE_ID "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0"
#define LINK_DIR_ID "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"

struct ref_case {
	const char *ref, *name, *tag, *digest;
};

static const struct ref_case ref_cases[] = {
	{"nginx", "nginx", "", ""},
	{"nginx:1.25", "nginx", "1.25", ""},
	{"docker.io/library/nginx:1.25", "docker.io/library/nginx", "1.25", ""},
	{"registry.example:5000/team/app", "registry.example:5000/team/app", "", ""},
	{"registry.example:5000/team/app:v2", "registry.example:5000/team/app", "v2", ""},
	{"nginx@sha256:4c0f", "nginx", "", "sha256:4c0f"},
	{"host:5000/a/b:t@sha256:ab", "host:5000/a/b", "t", "sha256:ab"},
	{"", "", "", ""},
	{":", "", "", ""},
	{"@", "", "", ""},
};

static void test_split_ref(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ref_cases) / sizeof(ref_cases[0]); i++) {
		const struct ref_case *c = &ref_cases[i];
		char n[64], t[16], d[32];
		cimage_split_ref(c->ref, n, sizeof(n), t, sizeof(t), d, sizeof(d));
		assert_string_equal(n, c->name);
		assert_string_equal(t, c->tag);
		assert_string_equal(d, c->digest);
	}
	/* cut to size, never past it */
	char n[8], t[4], d[4];
	cimage_split_ref("averyveryverylongname:averylongtag@sha256:0123456789", n, sizeof(n), t, sizeof(t), d,
			 sizeof(d));
	assert_string_equal(n, "averyve");
	assert_string_equal(t, "ave");
	assert_string_equal(d, "sha");
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	assert_int_equal(vroot_read(AT_FDCWD, path, 1 << 24, &buf, len), 0);
	return buf;
}

static void test_docker(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/var/lib/docker/containers/" DOCKER_ID "/config.v2.json", &len);
	struct cimage_info ci = {0};
	assert_int_equal(cimage_parse_docker(b, len, &ci), 0);
	assert_true(ci.found);
	assert_string_equal(ci.name, "web");
	assert_string_equal(ci.image, "nginx:1.25");
	assert_string_equal(ci.image_name, "nginx");
	assert_string_equal(ci.image_tag, "1.25");
	assert_string_equal(ci.image_id, "sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6");
	assert_string_equal(ci.image_digest, "");
	free(b);
}

static void test_containerd_cri(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" CRI_ID "/config.json", &len);
	struct cimage_info ci = {0};
	assert_int_equal(cimage_parse_oci(b, len, &ci), 0);
	assert_string_equal(ci.name, "coredns");
	assert_string_equal(ci.image_name, "registry.k8s.io/coredns/coredns");
	assert_string_equal(ci.image_tag, "v1.10.1");
	assert_string_equal(ci.pod_name, "coredns-5d78c9869d-x7k2p");
	assert_string_equal(ci.pod_namespace, "kube-system");
	free(b);
}

static void test_crio(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/var/lib/containers/storage/overlay-containers/" CRIO_ID "/userdata/config.json", &len);
	struct cimage_info ci = {0};
	assert_int_equal(cimage_parse_oci(b, len, &ci), 0);
	assert_string_equal(ci.name, "nginx");
	assert_string_equal(ci.image, "docker.io/library/nginx:1.25");
	assert_string_equal(ci.image_digest,
			    "sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac");
	assert_string_equal(ci.pod_name, "nginx-pod");
	assert_string_equal(ci.pod_namespace, "shop");
	free(b);
}

static void test_podman_recorded(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/var/lib/containers/storage/overlay-containers/containers.json", &len);
	struct cimage_info ci = {0};
	char img[CIMAGE_DIGEST_MAX] = "";
	assert_int_equal(cimage_parse_containers(b, len, "nope", &ci, img, sizeof(img)), -ENOENT);
	assert_false(ci.found);
	assert_int_equal(cimage_parse_containers(b, len, PODMAN_ID, &ci, img, sizeof(img)), 0);
	assert_string_equal(img, PODMAN_IMG);
	assert_string_equal(ci.name, "web-1");
	assert_string_equal(ci.image, "localhost/owlim-busybox:1.0");
	free(b);
	b = slurp(ROOT "/var/lib/containers/storage/overlay-images/images.json", &len);
	assert_int_equal(cimage_parse_images(b, len, img, &ci), 0);
	/* the container's own image-name wins over the image's first name */
	assert_string_equal(ci.image, "localhost/owlim-busybox:1.0");
	assert_string_equal(ci.image_digest, "sha256:b89fdce22aaafd1a6177348724012c2c3af9ac3f984dc2bfd664dcae1b1f7f0b");
	assert_string_equal(ci.image_id, "sha256:" PODMAN_IMG);
	struct cimage_info c2 = {0};
	assert_int_equal(cimage_parse_images(b, len, "sha256:" PODMAN_IMG, &c2), 0);
	assert_string_equal(c2.image, "localhost/owlim-busybox:1.0");
	free(b);
}

struct bad_case {
	const char *json;
	int docker_rc, oci_rc, containers_rc;
};

/* hostile or broken input: never a crash, never a half-read string */
static const struct bad_case bad_cases[] = {
	{"", -EINVAL, -EINVAL, -EINVAL},
	{"null", -EINVAL, -EINVAL, -EINVAL},
	{"[1,2", -EINVAL, -EINVAL, -EINVAL},
	{"{\"Config\":{\"Image\":\"a\\u0000b\"}}", -EINVAL, -EINVAL, -EINVAL},
	{"{\"Config\":[],\"Image\":5,\"Name\":{}}", 0, 0, -EINVAL},
	{"{\"annotations\":[\"io.kubernetes.cri.image-name\"]}", 0, 0, -EINVAL},
	{"[{\"id\":\"x\",\"names\":{},\"metadata\":\"{not json\"}]", -EINVAL, -EINVAL, 0},
	{"[{\"id\":7},{\"id\":\"x\",\"metadata\":[],\"image\":[]}]", -EINVAL, -EINVAL, 0},
	{"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", -EINVAL, -EINVAL, -ENOENT},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct cimage_info ci = {0};
		size_t n = strlen(c->json);
		assert_int_equal(cimage_parse_docker(c->json, n, &ci), c->docker_rc);
		assert_string_equal(ci.image, "");
		memset(&ci, 0, sizeof(ci));
		assert_int_equal(cimage_parse_oci(c->json, n, &ci), c->oci_rc);
		assert_string_equal(ci.image, "");
		memset(&ci, 0, sizeof(ci));
		char img[8] = "";
		assert_int_equal(cimage_parse_containers(c->json, n, "x", &ci, img, sizeof(img)), c->containers_rc);
		assert_string_equal(img, "");
	}
}

static void test_hostile_strings(void **state)
{
	(void)state;
	/* control characters are kept raw (escaped at render); length is cut */
	struct cimage_info ci = {0};
	const char *j = "{\"Config\":{\"Image\":\"evil\\u001b[2J\\r\\nfake:1\"},\"Name\":\"/x\\u0007y\"}";
	assert_int_equal(cimage_parse_docker(j, strlen(j), &ci), 0);
	assert_string_equal(ci.image, "evil\x1b[2J\r\nfake:1");
	assert_string_equal(ci.name, "x\ay");
	size_t big = 100000;
	char *b = malloc(big + 64);
	assert_non_null(b);
	int k = snprintf(b, 64, "{\"Config\":{\"Image\":\"");
	memset(b + k, 'a', big);
	strcpy(b + k + big, "\"}}");
	memset(&ci, 0, sizeof(ci));
	assert_int_equal(cimage_parse_docker(b, strlen(b), &ci), 0);
	assert_int_equal(strlen(ci.image), sizeof(ci.image) - 1);
	assert_int_equal(strlen(ci.image_name), sizeof(ci.image_name) - 1);
	free(b);
}

struct look_case {
	int rt;
	const char *id;
	bool found;
	const char *source, *name, *image, *pod;
};

static const struct look_case look_cases[] = {
	{OWL_CT_DOCKER, DOCKER_ID, true, "docker", "web", "nginx:1.25", ""},
	{OWL_CT_PODMAN, PODMAN_ID, true, "podman", "web-1", "localhost/owlim-busybox:1.0", ""},
	{OWL_CT_CRIO, CRIO_ID, true, "cri-o", "nginx", "docker.io/library/nginx:1.25", "nginx-pod"},
	{OWL_CT_CONTAINERD, CRI_ID, true, "containerd", "coredns", "registry.k8s.io/coredns/coredns:v1.10.1",
	 "coredns-5d78c9869d-x7k2p"},
	/* kubernetes: the cgroup does not say which runtime; each is asked */
	{OWL_CT_KUBERNETES, CRI_ID, true, "containerd", "coredns", "registry.k8s.io/coredns/coredns:v1.10.1",
	 "coredns-5d78c9869d-x7k2p"},
	{OWL_CT_KUBERNETES, CRIO_ID, true, "cri-o", "nginx", "docker.io/library/nginx:1.25", "nginx-pod"},
	{OWL_CT_OTHER, DOCKER_ID, true, "docker", "web", "nginx:1.25", ""},
	{OWL_CT_LXC, "build-box", true, "lxc", "build-box", "", ""},
	/* the wrong runtime, or an id no runtime has: nothing */
	{OWL_CT_DOCKER, PODMAN_ID, false, "", "", "", ""},
	{OWL_CT_PODMAN, "0000000000000000000000000000000000000000000000000000000000000000", false, "", "", "", ""},
	/* symlinks below the runtime's directory are not followed */
	{OWL_CT_DOCKER, LINK_FILE_ID, false, "", "", "", ""},
	{OWL_CT_DOCKER, LINK_DIR_ID, false, "", "", "", ""},
};

static void test_lookup(void **state)
{
	(void)state;
	struct cimage_ctx *c;
	assert_int_equal(cimage_ctx_new(ROOT, &c), 0);
	assert_true(cimage_ctx_root_is(c, ROOT));
	assert_false(cimage_ctx_root_is(c, "/"));
	assert_false(cimage_ctx_root_is(c, NULL));
	for (int round = 0; round < 2; round++) /* the second round comes from the cache */
		for (size_t i = 0; i < sizeof(look_cases) / sizeof(look_cases[0]); i++) {
			const struct look_case *lc = &look_cases[i];
			struct cimage_info ci;
			assert_int_equal(cimage_lookup(c, lc->rt, lc->id, &ci), 0);
			assert_int_equal(ci.found, lc->found);
			assert_string_equal(ci.source, lc->source);
			assert_string_equal(ci.name, lc->name);
			assert_string_equal(ci.image, lc->image);
			assert_string_equal(ci.pod_name, lc->pod);
		}
	struct cimage_info ci;
	assert_int_equal(cimage_lookup(c, OWL_CT_DOCKER, "../../../etc", &ci), -EINVAL);
	assert_int_equal(cimage_lookup(c, OWL_CT_DOCKER, "..", &ci), -EINVAL);
	assert_int_equal(cimage_lookup(c, OWL_CT_DOCKER, "", &ci), -EINVAL);
	cimage_ctx_free(c);
	cimage_ctx_free(NULL);
}

/* a huge state file (sparse) and one that is not a regular file are skipped */
static void test_huge_and_fifo(void **state)
{
	(void)state;
	char root[] = "/tmp/owl-cimage-XXXXXX";
	assert_non_null(mkdtemp(root));
	char p[256];
	const char *id1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *id2 = "2222222222222222222222222222222222222222222222222222222222222222";
	snprintf(p, sizeof(p), "mkdir -p %s/var/lib/docker/containers/%s %s/var/lib/docker/containers/%s", root, id1,
		 root, id2);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/var/lib/docker/containers/%s/config.v2.json", root, id1);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	const char *head = "{\"Config\":{\"Image\":\"huge:1\"}}";
	assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	assert_int_equal(ftruncate(fd, (off_t)CIMAGE_FILE_MAX + 1), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/var/lib/docker/containers/%s/config.v2.json", root, id2);
	assert_int_equal(mkfifo(p, 0600), 0);

	struct cimage_ctx *c;
	assert_int_equal(cimage_ctx_new(root, &c), 0);
	struct cimage_info ci;
	assert_int_equal(cimage_lookup(c, OWL_CT_DOCKER, id1, &ci), 0);
	assert_false(ci.found);
	assert_int_equal(cimage_lookup(c, OWL_CT_DOCKER, id2, &ci), 0);
	assert_false(ci.found);
	cimage_ctx_free(c);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_ref),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_containerd_cri),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_podman_recorded),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_huge_and_fifo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
