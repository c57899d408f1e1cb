/* libFuzzer: verify's dpkg list parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "verify/dpkg.h"

static int cb(void *ud, const char *path, size_t len)
{
	size_t *sum = ud;
	for (size_t i = 0; i < len; i++)
		*sum += (unsigned char)path[i];
	char out[64];
	(void)dpkg_canon_path(path, len, true, out, sizeof(out));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0;
	unsigned bad;
	(void)dpkg_parse_list((const char *)data, size, cb, &sum, &bad);
	return 0;
}
