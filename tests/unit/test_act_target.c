/* act/target: what the user names as a containment target. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "act/target.h"
#include "core/addr.h"

struct hp_case {
	const char *in;
	int ok;
	const char *ip;
	uint16_t port;
};

static const struct hp_case hp_cases[] = {
	{"192.0.2.1", 1, "192.0.2.1", 0},
	{"192.0.2.1:80", 1, "192.0.2.1", 80},
	{"2001:db8::1", 1, "2001:db8::1", 0},
	{"[2001:db8::1]:443", 1, "2001:db8::1", 443},
	{"[2001:db8::1]", 1, "2001:db8::1", 0},
	{"::ffff:192.0.2.9", 1, "192.0.2.9", 0},          /* v4-mapped becomes IPv4 */
	{"192.0.2.1:0", 0, NULL, 0},
	{"192.0.2.1:65536", 0, NULL, 0},
	{"192.0.2.1:+80", 0, NULL, 0},
	{"192.0.2.1:", 0, NULL, 0},
	{"[2001:db8::1]80", 0, NULL, 0},
	{"[2001:db8::1", 0, NULL, 0},
	{"example.org:80", 0, NULL, 0},
	{"", 0, NULL, 0},
	{"192.0.2.256", 0, NULL, 0},
};

static void test_hostport(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hp_cases) / sizeof(hp_cases[0]); i++) {
		const struct hp_case *c = &hp_cases[i];
		struct owl_addr a = {0};
		uint16_t port = 7;
		int r = target_parse_hostport(c->in, &a, &port);
		if (!c->ok) {
			assert_int_equal(r, -EINVAL);
			assert_int_equal(port, 7); /* untouched */
			continue;
		}
		assert_int_equal(r, 0);
		char buf[OWL_ADDRSTR_MAX];
		assert_string_equal(owl_addr_str(&a, buf), c->ip);
		assert_int_equal(port, c->port);
	}
}

struct cidr_case {
	const char *in;
	int ok;
	const char *ip;
	unsigned prefix;
};

static const struct cidr_case cidr_cases[] = {
	{"192.0.2.0/25", 1, "192.0.2.0", 25},
	{"192.0.2.128/25", 1, "192.0.2.128", 25},
	{"192.0.2.7", 1, "192.0.2.7", 32},
	{"2001:db8:8::/48", 1, "2001:db8:8::", 48},
	{"2001:db8::1", 1, "2001:db8::1", 128},
	{"0.0.0.0/0", 1, "0.0.0.0", 0},
	{"192.0.2.1/24", 0, NULL, 0},      /* host bits set */
	{"192.0.2.0/33", 0, NULL, 0},
	{"2001:db8::/129", 0, NULL, 0},
	{"192.0.2.0/", 0, NULL, 0},
	{"192.0.2.0/-1", 0, NULL, 0},
	{"::ffff:192.0.2.0/120", 0, NULL, 0},
	{"/24", 0, NULL, 0},
};

static void test_cidr(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		const struct cidr_case *c = &cidr_cases[i];
		struct owl_addr a = {0};
		uint8_t len = 99;
		int r = target_parse_cidr(c->in, &a, &len);
		if (!c->ok) {
			assert_int_equal(r, -EINVAL);
			assert_int_equal(len, 99);
			continue;
		}
		assert_int_equal(r, 0);
		char buf[OWL_ADDRSTR_MAX];
		assert_string_equal(owl_addr_str(&a, buf), c->ip);
		assert_int_equal(len, c->prefix);
	}
}

static void test_duration(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int r;
		uint64_t s;
		const char *text;
	} cases[] = {
		{"90", 0, 90, "1m30s"}, {"90s", 0, 90, "1m30s"}, {"15m", 0, 900, "15m"},
		{"2h", 0, 7200, "2h"},  {"7d", 0, 604800, "7d"}, {"365d", 0, 31536000, "365d"},
		{"366d", -ERANGE, 0, NULL}, {"0s", -ERANGE, 0, NULL}, {"", -EINVAL, 0, NULL},
		{"h", -EINVAL, 0, NULL}, {"1w", -EINVAL, 0, NULL}, {"-5m", -EINVAL, 0, NULL},
		{"99999999999999999999", -EINVAL, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t s = 12345;
		int r = target_parse_duration(cases[i].in, &s);
		if (cases[i].r == -EINVAL)
			assert_true(r == -EINVAL || r == -ERANGE);
		else
			assert_int_equal(r, cases[i].r);
		if (r < 0) {
			assert_int_equal(s, 12345);
			continue;
		}
		assert_int_equal(s, cases[i].s);
		char buf[32];
		target_format_duration(s, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
	char buf[32];
	target_format_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	target_format_duration(90061, buf, sizeof(buf));
	assert_string_equal(buf, "1d1h1m1s");
}

static void test_transport(void **state)
{
	(void)state;
	assert_int_equal(target_parse_transport("tcp"), OWL_TP_TCP);
	assert_int_equal(target_parse_transport("udp"), OWL_TP_UDP);
	assert_int_equal(target_parse_transport("TCP"), -EINVAL);
	assert_int_equal(target_parse_transport("raw"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_transport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
