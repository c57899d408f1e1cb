/* libFuzzer: /proc/PID/maps lines (act/evidence). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "act/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct maps_entry e;
		if (evidence_parse_maps_line(p, len, &e) == 0) {
			/* the path and range must lie inside the line */
			if (e.path < p || e.path + e.path_len > p + len || e.range_len > len)
				__builtin_trap();
		}
		p += len + 1;
	}
	return 0;
}
