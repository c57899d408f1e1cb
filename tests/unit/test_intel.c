/* Threat-intel list parsing and loading: plain lists, FireHOL .netset, both
 * Tor exit-list formats, bad lines with their line numbers, directories. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/addr.h"
#include "endpoint/intel.h"

static const struct {
	const char *line;
	int rc;              /* 1 entry, 0 nothing, -1 bad */
	const char *addr;    /* expected address (text) */
	unsigned plen;
} cases[] = {
	{"198.51.100.7", 1, "198.51.100.7", 32},
	{"  198.51.100.0/24  ", 1, "198.51.100.0", 24},
	{"198.51.100.9/24", 1, "198.51.100.9", 24},       /* host bits: cleared by the trie */
	{"0.0.0.0/0", 1, "0.0.0.0", 0},
	{"2001:db8:4::2", 1, "2001:db8:4::2", 128},
	{"2001:db8:4::/48", 1, "2001:db8:4::", 48},
	{"::/0", 1, "::", 0},
	{"::ffff:198.51.100.0/120", 1, "198.51.100.0", 24}, /* v4-mapped prefix = IPv4 */
	{"198.51.100.7 # a comment", 1, "198.51.100.7", 32},
	{"1.10.16.0/20 ; SBL256894", 1, "1.10.16.0", 20},  /* Spamhaus DROP style */
	{"198.51.100.7\r", 1, "198.51.100.7", 32},         /* CRLF files */
	{"ExitAddress 198.51.100.8 2024-05-01 10:11:12", 1, "198.51.100.8", 32},
	{"ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E", 0, NULL, 0},
	{"Published 2024-05-01 09:00:00", 0, NULL, 0},
	{"LastStatus 2024-05-01 10:00:00", 0, NULL, 0},
	{"", 0, NULL, 0},
	{"   \t ", 0, NULL, 0},
	{"# FireHOL header: firehol_level1", 0, NULL, 0},
	{";", 0, NULL, 0},
	{"198.51.100.7/33", -1, NULL, 0},
	{"2001:db8::/129", -1, NULL, 0},
	{"198.51.100.7/-1", -1, NULL, 0},
	{"198.51.100.7/", -1, NULL, 0},
	{"198.51.100", -1, NULL, 0},
	{"198.51.100.256", -1, NULL, 0},
	{"example.com", -1, NULL, 0},
	{"198.51.100.7 198.51.100.8", -1, NULL, 0},
	{"198.51.100.7,", -1, NULL, 0},
	{"ExitAddress", -1, NULL, 0},
	{"ExitAddress nonsense", -1, NULL, 0},
	{"1.2.3.4/24/8", -1, NULL, 0},
	{"01.2.3.4", -1, NULL, 0},
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct owl_addr a;
		unsigned plen = 999;
		int rc = intel_parse_line(cases[i].line, strlen(cases[i].line), &a, &plen);
		int want = cases[i].rc;
		if ((want < 0 && rc >= 0) || (want >= 0 && rc != want))
			fail_msg("'%s': rc %d, expected %d", cases[i].line, rc, want);
		if (want == 1) {
			char s[OWL_ADDRSTR_MAX];
			assert_string_equal(owl_addr_str(&a, s), cases[i].addr);
			assert_int_equal(plen, cases[i].plen);
		}
	}
	/* an embedded NUL is a bad line, not a truncated address */
	struct owl_addr a;
	unsigned plen;
	assert_true(intel_parse_line("198.51.100.7\0x", 14, &a, &plen) < 0);
}

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/owl-test-intel.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load(void **state)
{
	(void)state;
	write_file("a.list", "# plain\n198.51.100.7\nnot-an-ip\n198.51.100.0/24\n\n2001:db8:4::/48\n198.51.100.7\n"
			     "garbage line here\n203.0.113.1"); /* no final newline */
	char big[INTEL_LINE_MAX + 50];
	memset(big, '1', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	char text[sizeof(big) + 64];
	snprintf(text, sizeof(text), "192.0.2.1\n%s192.0.2.2\n", big);
	write_file("b.netset", text);
	struct intel in;
	assert_int_equal(intel_init(&in), 0);
	char p[256];
	snprintf(p, sizeof(p), "%s/a.list", tmpdir);
	assert_int_equal(intel_load_file(&in, p), 0);
	snprintf(p, sizeof(p), "%s/b.netset", tmpdir);
	assert_int_equal(intel_load_file(&in, p), 0);
	assert_int_equal(intel_finish(&in), 0);
	assert_int_equal(in.nlists, 2);
	const struct intel_list *l = &in.lists[0];
	assert_int_equal(l->entries, 4);
	assert_int_equal(l->dups, 1);
	assert_int_equal(l->bad, 2);
	assert_int_equal(l->first_bad[0].line, 3);
	assert_string_equal(l->first_bad[0].text, "not-an-ip");
	assert_int_equal(l->first_bad[1].line, 8);
	l = &in.lists[1];
	assert_int_equal(l->entries, 2);
	assert_int_equal(l->bad, 1);              /* the overlong line */
	assert_int_equal(l->first_bad[0].line, 2);
	assert_string_equal(l->name, "b.netset");

	struct owl_addr a;
	struct intel_match m;
	char ebuf[INTEL_ENTRY_MAX];
	owl_addr_parse("198.51.100.7", &a);
	assert_true(intel_lookup(&in, &a, &m));
	assert_string_equal(intel_entry_str(&m, ebuf), "198.51.100.7");
	assert_string_equal(m.list->name, "a.list");
	owl_addr_parse("198.51.100.99", &a);
	assert_true(intel_lookup(&in, &a, &m));
	assert_string_equal(intel_entry_str(&m, ebuf), "198.51.100.0/24");
	owl_addr_parse("2001:db8:4::2", &a);
	assert_true(intel_lookup(&in, &a, &m));
	assert_string_equal(intel_entry_str(&m, ebuf), "2001:db8:4::/48");
	owl_addr_parse("192.0.2.2", &a);
	assert_true(intel_lookup(&in, &a, &m));
	assert_string_equal(m.list->name, "b.netset");
	owl_addr_parse("203.0.113.1", &a);
	assert_true(intel_lookup(&in, &a, &m));
	owl_addr_parse("203.0.113.2", &a);
	assert_false(intel_lookup(&in, &a, &m));
	assert_int_equal(intel_count(&in), 6);

	/* a missing file is an error, and leaves a record of it */
	snprintf(p, sizeof(p), "%s/missing.list", tmpdir);
	assert_int_equal(intel_load_file(&in, p), -ENOENT);
	intel_free(&in);
}

static void test_dir(void **state)
{
	(void)state;
	char d[256];
	snprintf(d, sizeof(d), "%s/intel.d", tmpdir);
	assert_int_equal(mkdir(d, 0700), 0);
	write_file("intel.d/b.list", "198.51.100.2\n");
	write_file("intel.d/a.list", "198.51.100.1\n");
	write_file("intel.d/ignored.txt", "198.51.100.3\n");
	write_file("intel.d/.hidden.list", "198.51.100.4\n");
	struct intel in;
	assert_int_equal(intel_init(&in), 0);
	assert_int_equal(intel_load_dir(&in, d), 0);
	assert_int_equal(intel_finish(&in), 0);
	assert_int_equal(in.nlists, 2);
	assert_string_equal(in.lists[0].name, "a.list");   /* name order */
	assert_string_equal(in.lists[1].name, "b.list");
	struct owl_addr a;
	struct intel_match m;
	owl_addr_parse("198.51.100.3", &a);
	assert_false(intel_lookup(&in, &a, &m));
	/* a missing directory is no error */
	assert_int_equal(intel_load_dir(&in, "/nonexistent/owl/intel.d"), 0);
	intel_free(&in);
}

/* An endless source (/dev/zero, a FIFO nobody closes) must end in an
 * error, not a scan that never finishes. */
static void test_endless(void **state)
{
	(void)state;
	struct intel in;
	assert_int_equal(intel_init(&in), 0);
	assert_int_equal(intel_load_file(&in, "/dev/zero"), -EFBIG);
	intel_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_endless),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
