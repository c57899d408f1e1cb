/* cimage — the image (and name) of a container, as its runtime recorded it.
 *
 * The cgroup path gives a runtime and a container id (src/attribute/cgroup.c);
 * the runtime's own state files say which image the container was made
 * from.  Read-only, bounded, and only below each runtime's directory:
 *
 *   docker      /var/lib/docker/containers/<id>/config.v2.json
 *                 Config.Image, Image (image id), Name, Config.Labels (k8s)
 *   podman      /var/lib/containers/storage/<driver>-containers/containers.json
 *                 {id, names, image, metadata:"{image-name, name}"} and
 *               /var/lib/containers/storage/<driver>-images/images.json
 *                 {id, names, digest} for the image id
 *   cri-o       /var/lib/containers/storage/<driver>-containers/<id>/userdata/config.json
 *                 annotations io.kubernetes.cri-o.ImageName, ImageRef, …
 *   containerd  /run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/config.json
 *   (CRI)         annotations io.kubernetes.cri.image-name, container-name, …
 *   lxc         the name in the cgroup path is the container's name; no image
 *
 * Everything sits under a prefix (OWL_RUNTIME_ROOT, "/" by default) so tests
 * can lay out a runtime's state.  The runtime's base directory (e.g.
 * /var/lib/docker) is opened as the host configured it — root may have
 * linked it to another disk — but nothing below it follows a symlink
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).  Files must be regular
 * and at most CIMAGE_FILE_MAX bytes; strings are cut to their field's size
 * and kept raw (escaped at render, like everything else).
 *
 * A runtime that does not expose an image (plain containerd without CRI,
 * lxc) gives no image: fields stay "".
 */
#ifndef OWL_VERIFY_CIMAGE_H
#define OWL_VERIFY_CIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CIMAGE_FILE_MAX ((size_t)32 << 20) /* containers.json of a busy host */
#define CIMAGE_REF_MAX 512
#define CIMAGE_NAME_MAX 256
#define CIMAGE_TAG_MAX 128
#define CIMAGE_DIGEST_MAX 80 /* "sha256:" + 64 hex, or sha512 cut */

struct cimage_info {
	bool found;                        /* the runtime's state had this container */
	char source[64];                   /* "docker", "podman", "cri-o", "containerd", "lxc" (who told) */
	char name[CIMAGE_NAME_MAX];        /* container name ("" if none) */
	char image[CIMAGE_REF_MAX];        /* the reference as the runtime has it: "nginx:1.25" */
	char image_name[CIMAGE_REF_MAX];   /* without tag and digest: "nginx" */
	char image_tag[CIMAGE_TAG_MAX];    /* "1.25" ("" if none) */
	char image_digest[CIMAGE_DIGEST_MAX]; /* repository digest "sha256:…" ("" if unknown) */
	char image_id[CIMAGE_DIGEST_MAX];  /* the runtime's local image id "sha256:…" ("" if unknown) */
	char pod_name[CIMAGE_NAME_MAX];    /* kubernetes pod name ("" if none) */
	char pod_namespace[CIMAGE_NAME_MAX];
};

/* ---- parsers: pure, for the lookups below, unit tests and fuzzing.  Each
 * takes a buffer of JSON (not necessarily NUL-terminated), fills what it
 * finds into *ret (not cleared first, so lookups can combine sources) and
 * returns 0, -EINVAL (not JSON / not the expected shape), -ENOENT (the
 * container or image is not in it), -ENOMEM. */

/* docker's config.v2.json. */
int cimage_parse_docker(const char *buf, size_t len, struct cimage_info *ret);
/* An OCI runtime spec (config.json) with CRI annotations (containerd CRI, cri-o). */
int cimage_parse_oci(const char *buf, size_t len, struct cimage_info *ret);
/* containers/storage containers.json: the entry with this id; *ret_image_id
 * gets its image id (≤ CIMAGE_DIGEST_MAX) for cimage_parse_images(). */
int cimage_parse_containers(const char *buf, size_t len, const char *id, struct cimage_info *ret,
			    char *ret_image_id, size_t idsz);
/* containers/storage images.json: names and digest of image `image_id`. */
int cimage_parse_images(const char *buf, size_t len, const char *image_id, struct cimage_info *ret);

/* Split an image reference "host:5000/ns/app:1.2@sha256:ab…" into name
 * ("host:5000/ns/app"), tag ("1.2") and digest ("sha256:ab…").  Never fails;
 * parts are cut to their sizes. */
void cimage_split_ref(const char *ref, char *name, size_t namesz, char *tag, size_t tagsz, char *digest,
		      size_t digestsz);

/* ---- lookups with a per-id cache (thread-safe) */

struct cimage_ctx;

/* root: prefix of every runtime path (NULL or "" = "/").  Returns 0, -ENOMEM. */
int cimage_ctx_new(const char *root, struct cimage_ctx **ret);
void cimage_ctx_free(struct cimage_ctx *c); /* accepts NULL */
/* Was c made for this root (NULL/"" = "/")? */
bool cimage_ctx_root_is(const struct cimage_ctx *c, const char *root);

/* What the runtime `rt` (enum owl_container_rt) recorded about container
 * `id`.  Answers, found or not, are cached by (runtime, id); a "not found"
 * is asked again after CIMAGE_MISS_TTL_NS (a long watch sees containers
 * being created).  Returns 0 (ret->found says whether anything was found),
 * -EINVAL for an id that cannot be a file name. */
#define CIMAGE_MISS_TTL_NS (10ull * 1000000000ull)
int cimage_lookup(struct cimage_ctx *c, int rt, const char *id, struct cimage_info *ret);

#endif
