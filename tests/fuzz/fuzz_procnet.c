/* libFuzzer: every /proc/net parser on arbitrary bytes.  The first byte
 * picks the file kind. */
#include <stddef.h>
#include <stdint.h>

#include "collect/procnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cb(const struct owl_conn *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum sockdiag_kind k = (enum sockdiag_kind)(data[0] % SOCKDIAG__MAX);
	int n = 0;
	unsigned bad = 0;
	procnet_parse_buffer(k, (const char *)data + 1, size - 1, cb, &n, &bad);
	return 0;
}
