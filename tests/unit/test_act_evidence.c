/* act/evidence: the /proc/PID/maps line parser (lines recorded from this
 * machine's /proc, plus hostile ones), and the default bundle name.  The
 * bundle itself is tested for real in tests/integration/evidence.bats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "act/evidence.h"

static void test_maps(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		int ok;
		uint64_t start, end, offset, inode;
		unsigned maj, min;
		const char *perms, *path;
	} cases[] = {
		{"5579eb60d000-5579eb60f000 r--p 00000000 fe:00 247498                     /usr/bin/head", 1,
		 0x5579eb60d000, 0x5579eb60f000, 0, 247498, 0xfe, 0, "r--p", "/usr/bin/head"},
		{"7f1c2a000000-7f1c2a022000 r-xp 00002000 08:01 1234 /tmp/a b (deleted)", 1, 0x7f1c2a000000,
		 0x7f1c2a022000, 0x2000, 1234, 8, 1, "r-xp", "/tmp/a b (deleted)"},
		{"7ffd6b9e7000-7ffd6ba08000 rw-p 00000000 00:00 0                          [stack]", 1, 0x7ffd6b9e7000,
		 0x7ffd6ba08000, 0, 0, 0, 0, "rw-p", "[stack]"},
		{"7f00-7f10 rw-s 00000000 00:01 4321 /memfd:x (deleted)", 1, 0x7f00, 0x7f10, 0, 4321, 0, 1, "rw-s",
		 "/memfd:x (deleted)"},
		{"55d0f7a5b000-55d0f7a7c000 rw-p 00000000 00:00 0", 1, 0x55d0f7a5b000, 0x55d0f7a7c000, 0, 0, 0, 0,
		 "rw-p", ""},
		{"", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
		{"zz-10 r--p 0 00:00 0", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
		{"20-10 r--p 0 00:00 0", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},       /* end before start */
		{"10-20 r--pp 0 00:00 0", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
		{"10-20 r--p 0 0000 0", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
		{"10-20 r--p 0 00:00", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
		{"10-20 r--p 0 00:00 x /a", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
		{"10-20 r--p 0 fffffff:00 1 /a", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
		{"10-20000000000000000 r--p 0 00:00 1 /a", 0, 0, 0, 0, 0, 0, 0, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct maps_entry e;
		memset(&e, 0xa5, sizeof(e));
		int r = evidence_parse_maps_line(cases[i].line, strlen(cases[i].line), &e);
		if (!cases[i].ok) {
			assert_int_equal(r, -EINVAL);
			assert_int_equal(e.start, 0xa5a5a5a5a5a5a5a5ull); /* untouched */
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(e.start, cases[i].start);
		assert_int_equal(e.end, cases[i].end);
		assert_int_equal(e.offset, cases[i].offset);
		assert_int_equal(e.inode, cases[i].inode);
		assert_int_equal(e.dev_major, cases[i].maj);
		assert_int_equal(e.dev_minor, cases[i].min);
		assert_string_equal(e.perms, cases[i].perms);
		assert_int_equal(e.path_len, strlen(cases[i].path));
		assert_memory_equal(e.path, cases[i].path, e.path_len);
		assert_int_equal(cases[i].line[e.range_len], ' ');
	}
}

static void test_default_name(void **state)
{
	(void)state;
	char buf[128];
	evidence_default_name(1234, 1796400000ull * 1000000000ull, buf, sizeof(buf));
	assert_string_equal(buf, "owl-evidence-1234-20261204T160000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_default_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
