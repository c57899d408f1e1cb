/* libFuzzer: the sock_diag stream parser on arbitrary bytes.  The first
 * byte picks the dump kind. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/sockdiag.h"

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
	/* netlink buffers are 4-byte aligned in real life */
	void *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	int n = 0;
	sockdiag_parse_stream(k, buf, size - 1, cb, &n);
	free(buf);
	return 0;
}
