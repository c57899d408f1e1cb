/* libFuzzer: verify's /proc/PID/maps, environ and ld.so.preload parsers. */
#include <stddef.h>
#include <stdint.h>

#include "verify/vproc.h"

static int cb(void *ud, const struct vproc_map *m)
{
	size_t *sum = ud;
	for (size_t i = 0; i < m->path_len; i++)
		*sum += (unsigned char)m->path[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0, l;
	unsigned bad;
	(void)vproc_parse_maps((const char *)data, size, cb, &sum, &bad);
	const char *v = vproc_environ_get((const char *)data, size, "LD_PRELOAD", &l);
	for (size_t i = 0; v && i < l; i++)
		sum += (unsigned char)v[i];
	char first[256];
	(void)vproc_preload_file_entries((const char *)data, size, first, sizeof(first));
	return 0;
}
