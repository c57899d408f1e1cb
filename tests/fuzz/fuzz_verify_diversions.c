/* libFuzzer: verify's dpkg diversions parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "verify/dpkg.h"

static int cb(void *ud, const char *from, size_t fl, const char *to, size_t tl, const char *pkg, size_t pl)
{
	size_t *sum = ud;
	for (size_t i = 0; i < fl; i++)
		*sum += (unsigned char)from[i];
	for (size_t i = 0; i < tl; i++)
		*sum += (unsigned char)to[i];
	for (size_t i = 0; i < pl; i++)
		*sum += (unsigned char)pkg[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0;
	unsigned bad;
	(void)dpkg_parse_diversions((const char *)data, size, cb, &sum, &bad);
	return 0;
}
