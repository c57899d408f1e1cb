/* libFuzzer: verify's dpkg status parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "verify/dpkg.h"

static void touch(size_t *sum, const char *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		*sum += (unsigned char)s[i];
}

static int cb(void *ud, const struct dpkg_stanza *s)
{
	size_t *sum = ud;
	touch(sum, s->package, s->package_len);
	touch(sum, s->arch, s->arch_len);
	touch(sum, s->version, s->version_len);
	touch(sum, s->status, s->status_len);
	touch(sum, s->conffiles, s->conffiles_len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0;
	unsigned bad;
	(void)dpkg_parse_status((const char *)data, size, cb, &sum, &bad);
	return 0;
}
