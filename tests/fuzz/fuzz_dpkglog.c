/* libFuzzer target for the package-log parsers: each input is split into
 * lines and fed to dpkglog_parse_line() and apthist_feed(), and whole to
 * dpkglog_parse_time(). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "timeline/dpkglog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	struct apthist st;
	apthist_init(&st);
	uint64_t t;
	dpkglog_parse_time(s, size, &t);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		struct dpkg_event ev;
		if (dpkglog_parse_line(s, n, &ev) == 0) {
			/* every field is terminated and bounded */
			if (strlen(ev.pkg) >= sizeof(ev.pkg) || strlen(ev.new_ver) >= sizeof(ev.new_ver))
				__builtin_trap();
		}
		struct apt_txn tx;
		if (apthist_feed(&st, s, n, &tx) == 1 && strlen(tx.cmdline) >= sizeof(tx.cmdline))
			__builtin_trap();
		s += n + 1;
	}
	return 0;
}
