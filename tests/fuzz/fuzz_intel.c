/* libFuzzer: the threat-intel list parser, line by line and as a whole file
 * through the loader and the trie build. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint/intel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct owl_addr a;
	unsigned plen;
	int rc = intel_parse_line((const char *)data, size, &a, &plen);
	if (rc == 1 && plen > 128)
		abort();
	/* the whole input as a list file, through the loader and the table build
	 * (the build costs a 65,536-entry first level: only for inputs that end
	 * in a newline, so that the line parser above still runs fast) */
	if (!size || data[size - 1] != '\n')
		return 0;
	char path[] = "/tmp/owl-fuzz-intel.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	struct intel in;
	if (intel_init(&in) == 0) {
		if (intel_load_file(&in, path) == 0 && intel_finish(&in) == 0) {
			struct intel_match m;
			char buf[INTEL_ENTRY_MAX];
			if (rc == 1 && !intel_lookup(&in, &a, &m))
				abort(); /* the first line's entry must be found */
			if (rc == 1)
				intel_entry_str(&m, buf);
		}
		intel_free(&in);
	}
	unlink(path);
	return 0;
}
