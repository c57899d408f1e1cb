/* act/tar: ustar headers, and an archive read back with zlib. */
#include <fcntl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "act/tar.h"

static unsigned checksum(const unsigned char *h)
{
	unsigned s = 0;
	for (int i = 0; i < TAR_BLOCK; i++)
		s += (i >= 148 && i < 156) ? ' ' : h[i];
	return s;
}

static void test_header(void **state)
{
	(void)state;
	unsigned char h[TAR_BLOCK];
	assert_int_equal(tar_header(h, "owl-evidence-1/manifest.json", 1234, 0600, 1796400000, '0'), 0);
	assert_string_equal((char *)h, "owl-evidence-1/manifest.json");
	assert_string_equal((char *)h + 100, "0000600");
	assert_string_equal((char *)h + 124, "00000002322"); /* 1234 in octal */
	assert_int_equal(h[156], '0');
	assert_memory_equal(h + 257, "ustar\0" "00", 8);
	assert_int_equal(strtoul((char *)h + 148, NULL, 8), checksum(h));

	char longname[TAR_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(tar_header(h, longname, 0, 0600, 0, '0'), -ENAMETOOLONG);
	longname[TAR_NAME_MAX] = '\0';
	assert_int_equal(tar_header(h, longname, 0, 0600, 0, '0'), 0);
	assert_int_equal(tar_header(h, "", 0, 0600, 0, '0'), -EINVAL);
	assert_int_equal(tar_header(h, "a/../b", 0, 0600, 0, '0'), -EINVAL);
	assert_int_equal(tar_header(h, "/etc/passwd", 0, 0600, 0, '0'), -EINVAL);
	assert_int_equal(tar_header(h, "big", 1ull << 33, 0600, 0, '0'), -ERANGE);
}

static void test_roundtrip(void **state)
{
	(void)state;
	char dir[] = "/tmp/owl-test-tar.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char src[64], out[64];
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(out, sizeof(out), "%s/t.tar.gz", dir);
	int fd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello evidence\n", 15), 15);
	lseek(fd, 0, SEEK_SET);
	struct tarw *t;
	assert_int_equal(tarw_open(out, &t), 0);
	assert_int_equal(tarw_open(out, &t) , -EEXIST); /* never overwrites */
	assert_int_equal(tarw_add_dir(t, "b", 0700, 0), 0);
	assert_int_equal(tarw_add_file(t, "b/f", fd, 15, 0600, 0), 0);
	/* a file that shrank: padded, reported */
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(tarw_add_file(t, "b/g", fd, 20, 0600, 0), -EIO);
	assert_int_equal(tarw_close(t), 0);
	close(fd);

	gzFile gz = gzopen(out, "rb");
	assert_non_null(gz);
	static unsigned char buf[8 * TAR_BLOCK];
	int n = gzread(gz, buf, sizeof(buf));
	gzclose(gz);
	/* dir header, file header + 1 data block, file header + 1 block, 2 end blocks */
	assert_int_equal(n, 7 * TAR_BLOCK);
	assert_string_equal((char *)buf, "b/");
	assert_int_equal(buf[156], '5');
	assert_string_equal((char *)buf + TAR_BLOCK, "b/f");
	assert_memory_equal(buf + 2 * TAR_BLOCK, "hello evidence\n", 15);
	assert_int_equal(buf[2 * TAR_BLOCK + 15], 0);
	assert_string_equal((char *)buf + 3 * TAR_BLOCK, "b/g");
	for (int i = 5 * TAR_BLOCK; i < 7 * TAR_BLOCK; i++)
		assert_int_equal(buf[i], 0);
	unlink(src);
	unlink(out);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
