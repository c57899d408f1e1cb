/* libFuzzer: the container runtimes' JSON readers (verify/cimage) on
 * arbitrary bytes: docker config.v2.json, OCI config.json annotations,
 * containers/storage containers.json and images.json. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "verify/cimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	struct cimage_info ci;
	memset(&ci, 0, sizeof(ci));
	(void)cimage_parse_docker(b, size, &ci);
	(void)cimage_parse_oci(b, size, &ci);
	char img[CIMAGE_DIGEST_MAX] = "";
	(void)cimage_parse_containers(b, size, "x", &ci, img, sizeof(img));
	(void)cimage_parse_images(b, size, img[0] ? img : "x", &ci);
	/* every field stays a bounded C string */
	size_t sum = strlen(ci.name) + strlen(ci.image) + strlen(ci.image_name) + strlen(ci.image_tag) +
		     strlen(ci.image_digest) + strlen(ci.image_id) + strlen(ci.pod_name) + strlen(ci.pod_namespace);
	if (sum > sizeof(ci))
		__builtin_trap();
	char n[64], t[16], d[16];
	if (size < 1024) {
		char ref[1024];
		memcpy(ref, b, size);
		ref[size] = '\0';
		cimage_split_ref(ref, n, sizeof(n), t, sizeof(t), d, sizeof(d));
	}
	return 0;
}
