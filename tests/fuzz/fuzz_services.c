/* libFuzzer: the services(5) line parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ports_entry e;
	if (ports_parse_services_line((const char *)data, size, &e) == 1) {
		if (e.port == 0 || strlen(e.name) >= PORTS_NAME_MAX || (e.proto != 't' && e.proto != 'u'))
			abort();
	}
	return 0;
}
