/* libFuzzer: /proc/PID/stat, /proc/PID/status and socket-link parsers. */
#include <stddef.h>
#include <stdint.h>

#include "attribute/fdmap.h"
#include "attribute/procinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_stat st;
	uint32_t a, b, c;
	procinfo_parse_stat((const char *)data, size, &st);
	procinfo_parse_status((const char *)data, size, &a, &b, &c);
	fdmap_parse_socket_link((const char *)data, size);
	return 0;
}
