/* libFuzzer: verify's dpkg md5sums parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "verify/dpkg.h"

static int cb(void *ud, const char *path, size_t len, const uint8_t md5[16])
{
	/* touch every byte handed out: ASan checks the bounds */
	size_t *sum = ud;
	for (size_t i = 0; i < len; i++)
		*sum += (unsigned char)path[i];
	*sum += md5[0] + md5[15];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0;
	unsigned bad;
	(void)dpkg_parse_md5sums((const char *)data, size, cb, &sum, &bad);
	char out[DPKG_PATH_MAX + 8];
	if (size && data[0] == '/')
		(void)dpkg_canon_path((const char *)data, size, true, out, sizeof(out));
	return 0;
}
