/* libFuzzer: the Tor geoip line parser, and the in-place binary search
 * over a whole file of fuzzed lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "endpoint/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t lo[16], hi[16];
	char cc[3];
	bool v6 = size && (data[0] & 1);
	int rc = geo_tor_parse_line((const char *)data, size, v6, lo, hi, cc);
	if (rc == 1 && (memcmp(lo, hi, 16) > 0 || strlen(cc) != 2))
		abort();
	/* the input as Tor's geoip and geoip6 files (files cost: only for
	 * inputs that end in a newline) */
	if (!size || data[size - 1] != '\n')
		return 0;
	char dir[] = "/tmp/owl-fuzz-geo.XXXXXX";
	if (!mkdtemp(dir))
		return 0;
	char p4[64], p6[64];
	snprintf(p4, sizeof(p4), "%s/geoip", dir);
	snprintf(p6, sizeof(p6), "%s/geoip6", dir);
	FILE *f4 = fopen(p4, "w"), *f6 = fopen(p6, "w");
	if (f4 && f6) {
		fwrite(data, 1, size, f4);
		fwrite(data, 1, size, f6);
	}
	if (f4)
		fclose(f4);
	if (f6)
		fclose(f6);
	struct geo g;
	size_t bad;
	if (geo_open(&g, NULL, 0, dir, &bad) == 0) {
		struct owl_addr a;
		struct geo_info gi;
		owl_addr_parse("198.51.100.7", &a);
		geo_lookup(&g, &a, &gi);
		owl_addr_parse("2001:db8:4::2", &a);
		geo_lookup(&g, &a, &gi);
		if (rc == 1) {
			owl_addr_set(&a, v6 ? 10 : 2, lo);
			geo_lookup(&g, &a, &gi);
		}
		geo_close(&g);
	}
	unlink(p4);
	unlink(p6);
	rmdir(dir);
	return 0;
}
