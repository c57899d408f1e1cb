/* libFuzzer target for the DNS response parser (src/trace/dns.c): any bytes
 * a process can receive from port 53 go through it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a[DNS_ANSWERS_MAX];
	size_t n = 0;
	if (dns_parse_response(data, size, a, DNS_ANSWERS_MAX, &n) == 0) {
		/* every name is terminated and bounded */
		for (size_t i = 0; i < n; i++)
			if (strnlen(a[i].name, sizeof(a[i].name)) >= sizeof(a[i].name))
				__builtin_trap();
	}
	return 0;
}
