/* libFuzzer: /proc/PID/cgroup picking and cgroup path parsing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096];
	struct owl_cgroup_info ci;
	if (cgroup_pick_path((const char *)data, size, path, sizeof(path)) == 0)
		cgroup_parse_path(path, &ci);
	/* and the raw bytes as a path */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	cgroup_parse_path(s, &ci);
	free(s);
	return 0;
}
