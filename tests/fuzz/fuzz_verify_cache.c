/* libFuzzer: the digest cache file parser (a file owl reads back, so it must
 * survive anything), and the name rule on arbitrary comm/argv bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "verify/digest.h"
#include "verify/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = {7};
	struct digest_cache *c;
	if (digest_cache_new(NULL, &c) == 0) {
		(void)digest_cache_parse(c, data, size, key);
		digest_cache_free(c);
	}
	/* comm (NUL-terminated, ≤ 63 bytes) | argv0 | exe, split at the first two 0xff */
	char comm[64] = "", exe[256] = "/usr/bin/x";
	const uint8_t *a = memchr(data, 0xff, size);
	size_t cl = a ? (size_t)(a - data) : size;
	if (cl > 63)
		cl = 63;
	memcpy(comm, data, cl);
	comm[strnlen(comm, cl)] = '\0';
	const char *argv0 = a ? (const char *)a + 1 : NULL;
	size_t al = a ? size - (size_t)(a - data) - 1 : 0;
	const uint8_t *b = argv0 ? memchr(argv0, 0xff, al) : NULL;
	if (b) {
		size_t el = size - (size_t)(b - data) - 1;
		if (el > sizeof(exe) - 1)
			el = sizeof(exe) - 1;
		memcpy(exe, b + 1, el);
		exe[strnlen(exe, el)] = '\0';
		al = (size_t)((const char *)b - argv0);
	}
	struct vrule_proc p = {.comm = comm, .argv0 = argv0, .argv0_len = al, .exe = exe};
	char reason[256];
	(void)vrule_name_mismatch(&p, NULL, reason, sizeof(reason));
	return 0;
}
