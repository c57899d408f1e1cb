/* libFuzzer: containment targets as typed by a user or a script
 * (act/target: IP[:PORT], CIDR, duration). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "act/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct owl_addr a;
	uint16_t port;
	uint8_t len;
	uint64_t secs;
	target_parse_hostport(s, &a, &port);
	if (target_parse_cidr(s, &a, &len) == 0 && len > (a.family == 2 ? 32 : 128))
		__builtin_trap();
	if (target_parse_duration(s, &secs) == 0) {
		char buf[32];
		if (secs == 0 || secs > 365ull * 86400)
			__builtin_trap();
		target_format_duration(secs, buf, sizeof(buf));
	}
	target_parse_transport(s);
	free(s);
	return 0;
}
