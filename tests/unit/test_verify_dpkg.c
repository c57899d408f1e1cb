/* verify's dpkg parsers and index, on a database recorded from a real
 * Debian 12 system (tests/fixtures/dpkg-root, see its README). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "verify/dpkg.h"
#include "verify/vroot.h"

#define ROOT "tests/fixtures/dpkg-root"

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	assert_int_equal(vroot_read(AT_FDCWD, path, 1 << 24, &buf, len), 0);
	return buf;
}

static int count_md5(void *ud, const char *path, size_t len, const uint8_t md5[16])
{
	(void)path; (void)len; (void)md5;
	(*(int *)ud)++;
	return 0;
}

static int count_path(void *ud, const char *path, size_t len)
{
	(void)path; (void)len;
	(*(int *)ud)++;
	return 0;
}

static void test_md5sums_real(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/var/lib/dpkg/info/netcat-openbsd.md5sums", &len);
	int n = 0;
	unsigned bad = 99;
	assert_int_equal(dpkg_parse_md5sums(b, len, count_md5, &n, &bad), 19);
	assert_int_equal(n, 19);
	assert_int_equal(bad, 0);
	free(b);
}

struct md5_case {
	const char *in;
	int entries;
	unsigned bad;
};

static const struct md5_case md5_cases[] = {
	{"", 0, 0},
	{"\n\n", 0, 0},
	{"df7cc8eb1609ad04adc345dabb41a7b7  bin/nc.openbsd\n", 1, 0},
	{"df7cc8eb1609ad04adc345dabb41a7b7  bin/nc.openbsd", 1, 0},                /* no final newline */
	{"df7cc8eb1609ad04adc345dabb41a7b7 *bin/nc.openbsd\n", 1, 0},              /* md5sum -b */
	{"DF7CC8EB1609AD04ADC345DABB41A7B7  bin/x\n", 1, 0},                       /* upper-case hex */
	{"df7cc8eb1609ad04adc345dabb41a7b  bin/nc.openbsd\n", 0, 1},               /* 31 hex */
	{"zf7cc8eb1609ad04adc345dabb41a7b7  bin/nc.openbsd\n", 0, 1},              /* not hex */
	{"df7cc8eb1609ad04adc345dabb41a7b7\n", 0, 1},                              /* no path */
	{"df7cc8eb1609ad04adc345dabb41a7b7  \n", 0, 1},                            /* empty path */
	{"df7cc8eb1609ad04adc345dabb41a7b7  usr/share/doc/with space\n", 1, 0},    /* spaces in paths */
	{"df7cc8eb1609ad04adc345dabb41a7b7--bin/x\nbad\n", 0, 2},
};

static void test_md5sums_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(md5_cases) / sizeof(md5_cases[0]); i++) {
		int n = 0;
		unsigned bad = 99;
		int r = dpkg_parse_md5sums(md5_cases[i].in, strlen(md5_cases[i].in), count_md5, &n, &bad);
		if (r != md5_cases[i].entries || bad != md5_cases[i].bad)
			fail_msg("case %zu: %d entries, %u bad", i, r, bad);
	}
}

static void test_list(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/var/lib/dpkg/info/netcat-openbsd.list", &len);
	int n = 0;
	unsigned bad = 99;
	assert_int_equal(dpkg_parse_list(b, len, count_path, &n, &bad), 30);
	assert_int_equal(bad, 0);
	free(b);
	static const char junk[] = "/.\n\nrelative/path\n/bin/ok\n/bin/a\0b\n";
	n = 0;
	assert_int_equal(dpkg_parse_list(junk, sizeof(junk) - 1, count_path, &n, &bad), 2);
	assert_int_equal(bad, 2);
}

struct div_seen {
	int n;
	char last_pkg[64];
};

static int div_cb(void *ud, const char *from, size_t fl, const char *to, size_t tl, const char *pkg, size_t pl)
{
	struct div_seen *s = ud;
	(void)from; (void)fl; (void)to; (void)tl;
	s->n++;
	snprintf(s->last_pkg, sizeof(s->last_pkg), "%.*s", (int)pl, pkg);
	return 0;
}

static void test_diversions(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/var/lib/dpkg/diversions", &len);
	struct div_seen s = {0};
	unsigned bad = 99;
	assert_int_equal(dpkg_parse_diversions(b, len, div_cb, &s, &bad), 8);
	assert_int_equal(bad, 0);
	free(b);
	static const struct {
		const char *in;
		int n;
		unsigned bad;
	} cases[] = {
		{"/a\n/b\npkg\n", 1, 0},
		{"/a\n/b\n:\n", 1, 0},                 /* local diversion */
		{"/a\n/b\n", 0, 1},                    /* partial triple */
		{"/a\n/b\npkg\n/c\n", 1, 1},
		{"a\n/b\npkg\n", 0, 1},                /* not absolute */
		{"/a\n\npkg\n", 0, 1},
		{"", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		int r = dpkg_parse_diversions(cases[i].in, strlen(cases[i].in), div_cb, &s, &bad);
		if (r != cases[i].n || bad != cases[i].bad)
			fail_msg("diversions case %zu: %d, %u bad", i, r, bad);
	}
}

struct st_seen {
	int n, conf;
	char bash_version[64];
};

static int st_cb(void *ud, const struct dpkg_stanza *s)
{
	struct st_seen *x = ud;
	x->n++;
	if (s->conffiles && s->conffiles_len)
		x->conf++;
	if (s->package_len == 4 && memcmp(s->package, "bash", 4) == 0)
		snprintf(x->bash_version, sizeof(x->bash_version), "%.*s", (int)s->version_len, s->version);
	return 0;
}

static void test_status(void **state)
{
	(void)state;
	size_t len;
	char *b = slurp(ROOT "/var/lib/dpkg/status", &len);
	struct st_seen s = {0};
	assert_int_equal(dpkg_parse_status(b, len, st_cb, &s, NULL), 5);
	assert_int_equal(s.conf, 2); /* bash and postgresql-common have conffiles */
	assert_string_equal(s.bash_version, "5.2.15-2+b8");
	free(b);
	static const char odd[] = "Package: a\r\nVersion: 1\r\n\r\nVersion: no-package\n\nPackage: b\n";
	memset(&s, 0, sizeof(s));
	unsigned bad = 0;
	assert_int_equal(dpkg_parse_status(odd, sizeof(odd) - 1, st_cb, &s, &bad), 2);
	assert_int_equal(bad, 1);
}

static void test_canon(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool merge;
		const char *out;
	} cases[] = {
		{"/bin/nc.openbsd", true, "/usr/bin/nc.openbsd"},
		{"/bin/nc.openbsd", false, "/bin/nc.openbsd"},
		{"/sbin/x", true, "/usr/sbin/x"},
		{"/lib/x86_64-linux-gnu/libc.so.6", true, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		{"/lib64/ld-linux-x86-64.so.2", true, "/usr/lib64/ld-linux-x86-64.so.2"},
		{"/libexec/x", true, "/libexec/x"},          /* not a merged dir */
		{"/binary", true, "/binary"},
		{"/bin", true, "/usr/bin"},
		{"//usr///bin/./nc", true, "/usr/bin/nc"},
		{"/", true, "/"},
		{"/usr/bin/", true, "/usr/bin"},
		{"/.", true, "/"},
		{"/usr/.", false, "/usr"},
		{"/usr/./bin", false, "/usr/bin"},
		{"/usr/.hidden", false, "/usr/.hidden"},
		{"/usr/..", false, "/usr/.."},
		{"/a/b.", false, "/a/b."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];
		int r = dpkg_canon_path(cases[i].in, strlen(cases[i].in), cases[i].merge, out, sizeof(out));
		assert_true(r > 0);
		assert_string_equal(out, cases[i].out);
	}
	char small[8];
	assert_int_equal(dpkg_canon_path("/bin/nc.openbsd", 15, true, small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(dpkg_canon_path("rel", 3, true, small, sizeof(small)), -EINVAL);
}

struct look_case {
	const char *path;
	const char *pkg;       /* NULL: -ENOENT */
	const char *md5;       /* NULL: no md5 record */
	const char *diverted_by;
	const char *recorded;
};

static const struct look_case look[] = {
	{"/usr/bin/nc.openbsd", "netcat-openbsd", "df7cc8eb1609ad04adc345dabb41a7b7", "", "/usr/bin/nc.openbsd"},
	{"/bin/nc.openbsd", "netcat-openbsd", "df7cc8eb1609ad04adc345dabb41a7b7", "", "/usr/bin/nc.openbsd"},
	/* postgresql-common diverts libpq-dev's pg_config to pg_config.libpq-dev */
	{"/usr/bin/pg_config", "postgresql-common", "51671503dc655e6b0c209893404354bf", "postgresql-common", "/usr/bin/pg_config"},
	{"/usr/bin/pg_config.libpq-dev", "libpq-dev", "fc44e4e3d2057bcbe0a408fa6c669935", "postgresql-common", "/usr/bin/pg_config"},
	{"/etc/bash.bashrc", "bash", "89269e1298235f1b12b4c16e4065ad0d", "", "/etc/bash.bashrc"},     /* conffile */
	{"/usr/bin/rbash", "bash", NULL, "", "/usr/bin/rbash"},       /* a symlink: only in .list */
	{"/usr/bin/no-such-program", NULL, NULL, NULL, NULL},
	{"/usr/bin/nc.openbsd.copy", NULL, NULL, NULL, NULL},
};

static void test_db(void **state)
{
	(void)state;
	int root = open(ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	struct dpkg_db *db;
	assert_int_equal(dpkg_db_open(root, &db), 0);
	assert_true(dpkg_db_usrmerge(db));
	for (size_t i = 0; i < sizeof(look) / sizeof(look[0]); i++) {
		uint32_t pk;
		bool has = false;
		uint8_t md5[16];
		char rec[DPKG_PATH_MAX], div[128];
		int r = dpkg_db_lookup(db, look[i].path, &pk, &has, md5, rec, div);
		if (!look[i].pkg) {
			if (r != -ENOENT)
				fail_msg("%s: expected ENOENT, got %d", look[i].path, r);
			continue;
		}
		if (r != 0)
			fail_msg("%s: %d", look[i].path, r);
		struct dpkg_pkginfo pi;
		assert_int_equal(dpkg_db_pkg(db, pk, &pi), 0);
		assert_string_equal(pi.name, look[i].pkg);
		assert_int_equal(has, look[i].md5 != NULL);
		if (look[i].md5) {
			uint8_t want[16];
			assert_int_equal(dpkg_parse_md5hex(look[i].md5, 32, want), 0);
			assert_memory_equal(md5, want, 16);
			assert_true(dpkg_db_md5_matches(db, look[i].path, want));
		}
		assert_string_equal(div, look[i].diverted_by);
		assert_string_equal(rec, look[i].recorded);
	}
	uint32_t pk;
	bool has;
	uint8_t md5[16];
	assert_int_equal(dpkg_db_lookup(db, "/usr/bin/nc.openbsd", &pk, &has, md5, NULL, NULL), 0);
	struct dpkg_pkginfo pi;
	assert_int_equal(dpkg_db_pkg(db, pk, &pi), 0);
	assert_string_equal(pi.version, "1.219-1");
	assert_string_equal(pi.arch, "amd64");
	assert_true(pi.installed_ns > 0);
	uint8_t zero[16] = {0};
	assert_false(dpkg_db_md5_matches(db, "/usr/bin/nc.openbsd", zero));
	dpkg_db_free(db);
	/* no database under this root */
	int empty = open("tests/fixtures", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(dpkg_db_open(empty, &db), -ENOENT);
	close(empty);
	close(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5sums_real), cmocka_unit_test(test_md5sums_cases),
		cmocka_unit_test(test_list),         cmocka_unit_test(test_diversions),
		cmocka_unit_test(test_status),       cmocka_unit_test(test_canon),
		cmocka_unit_test(test_db),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
