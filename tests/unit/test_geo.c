/* GeoIP: the Tor geoip line parser, and lookups against the real Tor geoip
 * files from Debian's tor-geoipdb (skipped when it is not installed).  MMDB
 * files are exercised by the integration test, which writes one with
 * MaxMind's own writer (libmaxmind-db-writer-perl). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "core/addr.h"
#include "endpoint/geo.h"

static void test_parse(void **state)
{
	(void)state;
	uint8_t lo[16], hi[16];
	char cc[3];
	assert_int_equal(geo_tor_parse_line("16777216,16777471,AU", 20, false, lo, hi, cc), 1);
	assert_string_equal(cc, "AU");
	assert_int_equal(lo[0], 1);
	assert_int_equal(hi[3], 255);
	const char *l6 = "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP";
	assert_int_equal(geo_tor_parse_line(l6, strlen(l6), true, lo, hi, cc), 1);
	assert_string_equal(cc, "JP");
	assert_int_equal(geo_tor_parse_line("# comment", 9, false, lo, hi, cc), 0);
	assert_int_equal(geo_tor_parse_line("", 0, false, lo, hi, cc), 0);
	static const char *bad[] = {"1,2", "1,2,A", "1,2,au", "2,1,AU", "x,2,AU", "1,99999999999,AU", "1,,AU",
				    "1,2,AUS"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(geo_tor_parse_line(bad[i], strlen(bad[i]), false, lo, hi, cc), -EINVAL);
}

/* Every 997th data line of the real file: its first, last and middle
 * address must come back with its country. */
static void check_file(const struct geo *g, const char *path, bool v6)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[256];
	size_t n = 0, checked = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");
		uint8_t lo[16], hi[16];
		char cc[3];
		if (geo_tor_parse_line(line, len, v6, lo, hi, cc) != 1 || n++ % 997)
			continue;
		const uint8_t *probe[2] = {lo, hi};
		for (int k = 0; k < 2; k++) {
			struct owl_addr a;
			owl_addr_set(&a, v6 ? AF_INET6 : AF_INET, probe[k]);
			if (a.family != (v6 ? AF_INET6 : AF_INET))
				continue; /* a v4-mapped row in geoip6 */
			struct geo_info gi;
			bool found = geo_lookup(g, &a, &gi);
			if (cc[0] == '?') {
				assert_false(found && strcmp(gi.country, "??") == 0);
				continue;
			}
			if (!found || strcmp(gi.country, cc) != 0)
				fail_msg("%s: line %zu (%.*s): got %s", path, n, (int)len, line, found ? gi.country : "none");
			assert_string_equal(gi.source, "tor-geoip");
			checked++;
		}
	}
	fclose(f);
	assert_true(checked > 100);
}

static void test_tor_files(void **state)
{
	(void)state;
	if (access(GEO_TOR_DIR "/geoip", R_OK) != 0 || access(GEO_TOR_DIR "/geoip6", R_OK) != 0)
		skip();
	struct geo g;
	size_t bad;
	assert_int_equal(geo_open(&g, NULL, 0, NULL, &bad), 0);
	assert_true(geo_available(&g));
	check_file(&g, GEO_TOR_DIR "/geoip", false);
	check_file(&g, GEO_TOR_DIR "/geoip6", true);
	/* documentation addresses are in no country */
	struct owl_addr a;
	struct geo_info gi;
	owl_addr_parse("198.51.100.7", &a);
	assert_false(geo_lookup(&g, &a, &gi));
	geo_close(&g);
}

static void test_open_errors(void **state)
{
	(void)state;
	struct geo g;
	size_t bad = 99;
	const char *missing[] = {"/nonexistent.mmdb"};
	assert_int_equal(geo_open(&g, missing, 1, "", &bad), -ENOENT);
	assert_int_equal(bad, 0);
	const char *notdb[] = {"/etc/services"};
	assert_int_equal(geo_open(&g, notdb, 1, "", &bad), -EINVAL);
	assert_int_equal(geo_open(&g, NULL, 0, "", &bad), 0);
	assert_false(geo_available(&g));
	geo_close(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_tor_files),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
