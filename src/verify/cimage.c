#include "verify/cimage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/model.h"
#include "core/util.h"

/* ---- small helpers */

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	return s && *s ? s : NULL;
}

static void put(char *dst, size_t sz, const char *s)
{
	if (s && !dst[0])
		owl_strlcpy(dst, s, sz);
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return n > 0;
}

/* "sha256:<hex>" stays; a bare 64-hex id gets the prefix */
static void put_id(char *dst, size_t sz, const char *s)
{
	if (!s || dst[0])
		return;
	if (strlen(s) == 64 && all_hex(s, 64))
		snprintf(dst, sz, "sha256:%s", s);
	else
		owl_strlcpy(dst, s, sz);
}

void cimage_split_ref(const char *ref, char *name, size_t namesz, char *tag, size_t tagsz, char *digest,
		      size_t digestsz)
{
	name[0] = tag[0] = digest[0] = '\0';
	size_t n = strlen(ref);
	const char *at = memchr(ref, '@', n);
	if (at) {
		owl_strlcpy(digest, at + 1, digestsz);
		n = (size_t)(at - ref);
	}
	/* the tag is after the last ':' that follows the last '/' (host:port/…) */
	const char *colon = NULL;
	for (size_t i = 0; i < n; i++) {
		if (ref[i] == '/')
			colon = NULL;
		else if (ref[i] == ':')
			colon = ref + i;
	}
	if (colon) {
		owl_strncpy0(tag, tagsz, colon + 1, (size_t)(ref + n - colon - 1));
		n = (size_t)(colon - ref);
	}
	owl_strncpy0(name, namesz, ref, n);
}

static void set_image(struct cimage_info *ci, const char *ref)
{
	if (!ref || ci->image[0])
		return;
	owl_strlcpy(ci->image, ref, sizeof(ci->image));
	char digest[CIMAGE_DIGEST_MAX];
	cimage_split_ref(ci->image, ci->image_name, sizeof(ci->image_name), ci->image_tag, sizeof(ci->image_tag),
			 digest, sizeof(digest));
	put(ci->image_digest, sizeof(ci->image_digest), digest[0] ? digest : NULL);
}

static json_t *load(const char *buf, size_t len, size_t flags)
{
	json_error_t err;
	/* jansson rejects \u0000 in strings unless JSON_ALLOW_NUL: names stay C strings */
	return json_loadb(buf, len, flags, &err);
}

/* ---- parsers */

int cimage_parse_docker(const char *buf, size_t len, struct cimage_info *ci)
{
	json_t *root = load(buf, len, 0);
	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	const json_t *cfg = json_object_get(root, "Config");
	const json_t *labels = json_is_object(cfg) ? json_object_get(cfg, "Labels") : NULL;
	const char *name = jstr(root, "Name");
	while (name && *name == '/')
		name++;
	set_image(ci, jstr(cfg, "Image"));
	put_id(ci->image_id, sizeof(ci->image_id), jstr(root, "Image"));
	/* kubernetes through dockershim names the container in labels */
	put(ci->name, sizeof(ci->name), jstr(labels, "io.kubernetes.container.name"));
	put(ci->name, sizeof(ci->name), name && *name ? name : NULL);
	put(ci->pod_name, sizeof(ci->pod_name), jstr(labels, "io.kubernetes.pod.name"));
	put(ci->pod_namespace, sizeof(ci->pod_namespace), jstr(labels, "io.kubernetes.pod.namespace"));
	ci->found = true;
	json_decref(root);
	return 0;
}

/* An image reference or id from an annotation: "sha256:…"/hex is an id,
 * "name@sha256:…" carries a digest, anything else is a name. */
static void set_ref_or_id(struct cimage_info *ci, const char *s)
{
	if (!s)
		return;
	if (strncmp(s, "sha256:", 7) == 0 || (strlen(s) == 64 && all_hex(s, 64)))
		put_id(ci->image_id, sizeof(ci->image_id), s);
	else if (strchr(s, '@') && !ci->image[0])
		set_image(ci, s);
	else if (strchr(s, '@')) {
		char n[8], t[8], d[CIMAGE_DIGEST_MAX];
		char tmp[CIMAGE_REF_MAX];
		owl_strlcpy(tmp, s, sizeof(tmp));
		cimage_split_ref(tmp, n, sizeof(n), t, sizeof(t), d, sizeof(d));
		put(ci->image_digest, sizeof(ci->image_digest), d[0] ? d : NULL);
	}
}

int cimage_parse_oci(const char *buf, size_t len, struct cimage_info *ci)
{
	json_t *root = load(buf, len, 0);
	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	const json_t *a = json_object_get(root, "annotations");
	/* containerd's CRI plugin */
	set_image(ci, jstr(a, "io.kubernetes.cri.image-name"));
	put(ci->name, sizeof(ci->name), jstr(a, "io.kubernetes.cri.container-name"));
	put(ci->pod_name, sizeof(ci->pod_name), jstr(a, "io.kubernetes.cri.sandbox-name"));
	put(ci->pod_namespace, sizeof(ci->pod_namespace), jstr(a, "io.kubernetes.cri.sandbox-namespace"));
	/* cri-o */
	set_image(ci, jstr(a, "io.kubernetes.cri-o.ImageName"));
	set_ref_or_id(ci, jstr(a, "io.kubernetes.cri-o.ImageRef"));
	put(ci->name, sizeof(ci->name), jstr(a, "io.kubernetes.container.name"));
	put(ci->pod_name, sizeof(ci->pod_name), jstr(a, "io.kubernetes.pod.name"));
	put(ci->pod_namespace, sizeof(ci->pod_namespace), jstr(a, "io.kubernetes.pod.namespace"));
	/* a CRI sandbox (pause) container: its name is the pod's */
	const char *type = jstr(a, "io.kubernetes.cri.container-type");
	if (type && strcmp(type, "sandbox") == 0)
		put(ci->name, sizeof(ci->name), ci->pod_name[0] ? ci->pod_name : NULL);
	ci->found = true;
	json_decref(root);
	return 0;
}

static const json_t *find_by_id(const json_t *arr, const char *id)
{
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e) {
		const char *eid = jstr(e, "id");
		if (eid && strcmp(eid, id) == 0)
			return e;
	}
	return NULL;
}

static const char *first_name(const json_t *e)
{
	const json_t *names = json_object_get(e, "names");
	const json_t *n0 = json_is_array(names) ? json_array_get(names, 0) : NULL;
	const char *s = json_is_string(n0) ? json_string_value(n0) : NULL;
	return s && *s ? s : NULL;
}

int cimage_parse_containers(const char *buf, size_t len, const char *id, struct cimage_info *ci,
			    char *ret_image_id, size_t idsz)
{
	json_t *root = load(buf, len, 0);
	if (!json_is_array(root)) {
		json_decref(root);
		return -EINVAL;
	}
	const json_t *e = find_by_id(root, id);
	if (!e) {
		json_decref(root);
		return -ENOENT;
	}
	/* metadata is JSON inside a string: {"image-name", "image-id", "name", "pod-name", …} */
	const char *md = jstr(e, "metadata");
	json_t *meta = md ? load(md, strlen(md), 0) : NULL;
	set_image(ci, jstr(meta, "image-name"));
	put(ci->name, sizeof(ci->name), jstr(meta, "name"));
	put(ci->name, sizeof(ci->name), first_name(e));
	put(ci->pod_name, sizeof(ci->pod_name), jstr(meta, "pod-name"));
	const char *img = jstr(e, "image");
	if (!img)
		img = jstr(meta, "image-id");
	put_id(ci->image_id, sizeof(ci->image_id), img);
	if (img && ret_image_id)
		owl_strlcpy(ret_image_id, img, idsz);
	ci->found = true;
	json_decref(meta);
	json_decref(root);
	return 0;
}

int cimage_parse_images(const char *buf, size_t len, const char *image_id, struct cimage_info *ci)
{
	json_t *root = load(buf, len, 0);
	if (!json_is_array(root)) {
		json_decref(root);
		return -EINVAL;
	}
	const char *bare = strncmp(image_id, "sha256:", 7) == 0 ? image_id + 7 : image_id;
	const json_t *e = find_by_id(root, bare);
	if (!e) {
		json_decref(root);
		return -ENOENT;
	}
	set_image(ci, first_name(e));
	put(ci->image_digest, sizeof(ci->image_digest), jstr(e, "digest"));
	put_id(ci->image_id, sizeof(ci->image_id), bare);
	json_decref(root);
	return 0;
}

/* ---- reading the runtimes' files */

/* A file below dir_fd, no symlink on the way, regular, bounded. */
static int read_below(int dir_fd, const char *rel, char **ret_buf, size_t *ret_len)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long lfd = syscall(SYS_openat2, dir_fd, rel, &how, sizeof(how));
	if (lfd < 0)
		return -errno;
	int fd = (int)lfd;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > CIMAGE_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* the file may grow while read: take what fits in its size at open */
	while (len + 1 < cap) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

static int open_base(const char *root, const char *path)
{
	char p[OWL_PATH_MAX];
	if (snprintf(p, sizeof(p), "%s%s", strcmp(root, "/") == 0 ? "" : root, path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static bool id_ok(const char *id)
{
	size_t n = strlen(id);
	if (!n || n >= OWL_CONTAINER_MAX || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-' ||
		      ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

typedef int (*parse_fn)(const char *, size_t, struct cimage_info *);

static int read_parse(int dir_fd, const char *rel, parse_fn fn, struct cimage_info *ci)
{
	char *buf;
	size_t len;
	int rc = read_below(dir_fd, rel, &buf, &len);
	if (rc < 0)
		return rc;
	rc = fn(buf, len, ci);
	free(buf);
	return rc;
}

static const char *const storage_drivers[] = {"overlay", "vfs", "btrfs", "zfs"};

static int look_docker(const char *root, const char *id, struct cimage_info *ci)
{
	int d = open_base(root, "/var/lib/docker/containers");
	if (d < 0)
		return d;
	char rel[OWL_CONTAINER_MAX + 32];
	snprintf(rel, sizeof(rel), "%s/config.v2.json", id);
	int rc = read_parse(d, rel, cimage_parse_docker, ci);
	close(d);
	if (rc == 0)
		owl_strlcpy(ci->source, "docker", sizeof(ci->source));
	return rc;
}

/* podman and cri-o share containers/storage */
static int look_storage(const char *root, const char *id, bool oci, struct cimage_info *ci, const char *source)
{
	int d = open_base(root, "/var/lib/containers/storage");
	if (d < 0)
		return d;
	int rc = -ENOENT;
	char rel[OWL_CONTAINER_MAX + 64];
	for (size_t k = 0; k < OWL_ARRAY_SIZE(storage_drivers) && !ci->found; k++) {
		const char *drv = storage_drivers[k];
		if (oci) {
			snprintf(rel, sizeof(rel), "%s-containers/%s/userdata/config.json", drv, id);
			(void)read_parse(d, rel, cimage_parse_oci, ci);
		}
		char *buf;
		size_t len;
		snprintf(rel, sizeof(rel), "%s-containers/containers.json", drv);
		if (read_below(d, rel, &buf, &len) < 0)
			continue;
		char image_id[CIMAGE_DIGEST_MAX] = "";
		bool had = ci->found;
		rc = cimage_parse_containers(buf, len, id, ci, image_id, sizeof(image_id));
		free(buf);
		if (rc < 0 && !had)
			continue;
		if (image_id[0]) {
			snprintf(rel, sizeof(rel), "%s-images/images.json", drv);
			if (read_below(d, rel, &buf, &len) == 0) {
				(void)cimage_parse_images(buf, len, image_id, ci);
				free(buf);
			}
		}
	}
	close(d);
	if (!ci->found)
		return -ENOENT;
	owl_strlcpy(ci->source, source, sizeof(ci->source));
	return 0;
}

#define CONTAINERD_NS_MAX 64

static int look_containerd(const char *root, const char *id, struct cimage_info *ci)
{
	int d = open_base(root, "/run/containerd/io.containerd.runtime.v2.task");
	if (d < 0)
		return d;
	int dd = openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dd >= 0 ? fdopendir(dd) : NULL;
	if (!dir) {
		if (dd >= 0)
			close(dd);
		close(d);
		return -ENOENT;
	}
	int rc = -ENOENT;
	struct dirent *de;
	int seen = 0;
	char rel[OWL_PATH_MAX];
	/* namespaces: default, moby (docker), k8s.io (CRI), … */
	while ((de = readdir(dir)) && seen++ < CONTAINERD_NS_MAX) {
		if (de->d_name[0] == '.' || !id_ok(de->d_name))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s/config.json", de->d_name, id);
		if (read_parse(d, rel, cimage_parse_oci, ci) == 0) {
			snprintf(ci->source, sizeof(ci->source), "containerd");
			rc = 0;
			break;
		}
	}
	closedir(dir);
	close(d);
	return rc;
}

/* ---- the context and its cache */

#define CIMAGE_CACHE_MAX 4096

struct centry {
	uint8_t rt;
	char id[OWL_CONTAINER_MAX];
	uint64_t t_ns;
	struct cimage_info info;
};

struct cimage_ctx {
	pthread_mutex_t mu;
	char root[OWL_PATH_MAX];
	struct centry *e;
	size_t n, cap;
};

int cimage_ctx_new(const char *root, struct cimage_ctx **ret)
{
	struct cimage_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->mu, NULL);
	owl_strlcpy(c->root, root && *root ? root : "/", sizeof(c->root));
	*ret = c;
	return 0;
}

bool cimage_ctx_root_is(const struct cimage_ctx *c, const char *root)
{
	return strcmp(c->root, root && *root ? root : "/") == 0;
}

void cimage_ctx_free(struct cimage_ctx *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->e);
	free(c);
}

static void look(const char *root, int rt, const char *id, struct cimage_info *ci)
{
	switch (rt) {
	case OWL_CT_LXC:
		/* the cgroup names the container; lxc keeps no image */
		owl_strlcpy(ci->name, id, sizeof(ci->name));
		owl_strlcpy(ci->source, "lxc", sizeof(ci->source));
		ci->found = true;
		return;
	case OWL_CT_DOCKER:
		(void)look_docker(root, id, ci);
		return;
	case OWL_CT_PODMAN:
		(void)look_storage(root, id, false, ci, "podman");
		return;
	case OWL_CT_CRIO:
		(void)look_storage(root, id, true, ci, "cri-o");
		return;
	case OWL_CT_CONTAINERD:
		(void)look_containerd(root, id, ci);
		return;
	case OWL_CT_KUBERNETES:
		if (look_containerd(root, id, ci) == 0 || look_storage(root, id, true, ci, "cri-o") == 0)
			return;
		(void)look_docker(root, id, ci);
		return;
	default:
		if (look_docker(root, id, ci) == 0 || look_storage(root, id, false, ci, "podman") == 0)
			return;
		(void)look_containerd(root, id, ci);
		return;
	}
}

int cimage_lookup(struct cimage_ctx *c, int rt, const char *id, struct cimage_info *ret)
{
	if (rt != OWL_CT_LXC && !id_ok(id))
		return -EINVAL;
	if (strlen(id) >= OWL_CONTAINER_MAX)
		return -EINVAL;
	uint64_t now = owl_now_ns();
	pthread_mutex_lock(&c->mu);
	struct centry *hit = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].rt == rt && strcmp(c->e[i].id, id) == 0) {
			hit = &c->e[i];
			break;
		}
	if (hit && (hit->info.found || now - hit->t_ns < CIMAGE_MISS_TTL_NS)) {
		*ret = hit->info;
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	struct cimage_info ci;
	memset(&ci, 0, sizeof(ci));
	look(c->root, rt, id, &ci);
	if (!hit) {
		if (c->n == CIMAGE_CACHE_MAX)
			c->n = 0; /* a host with more containers than this: start over */
		if (c->n == c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 16;
			struct centry *ne = realloc(c->e, nc * sizeof(*ne));
			if (ne) {
				c->e = ne;
				c->cap = nc;
			}
		}
		if (c->n < c->cap)
			hit = &c->e[c->n++];
	}
	if (hit) {
		hit->rt = (uint8_t)rt;
		owl_strlcpy(hit->id, id, sizeof(hit->id));
		hit->t_ns = now;
		hit->info = ci;
	}
	pthread_mutex_unlock(&c->mu);
	*ret = ci;
	return 0;
}
