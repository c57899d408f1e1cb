/* Port rules: services(5) parsing, the common set, the abuse list. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "endpoint/endpoint.h"
#include "endpoint/ports.h"

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		int rc;
		const char *name;
		unsigned port;
		char proto;
	} cases[] = {
		{"https		443/tcp				# http protocol over TLS/SSL", 1, "https", 443, 't'},
		{"domain		53/udp", 1, "domain", 53, 'u'},
		{"ircd		6667/tcp			# Internet Relay Chat", 1, "ircd", 6667, 't'},
		{"sgmp		153/sctp", 0, NULL, 0, 0},
		{"# comment", 0, NULL, 0, 0},
		{"", 0, NULL, 0, 0},
		{"noport", -1, NULL, 0, 0},
		{"bad 0/tcp", -1, NULL, 0, 0},
		{"bad 65536/tcp", -1, NULL, 0, 0},
		{"bad 80/icmp", -1, NULL, 0, 0},
		{"bad 80", -1, NULL, 0, 0},
		{"averyveryveryverylongservicename 80/tcp", -1, NULL, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ports_entry e;
		int rc = ports_parse_services_line(cases[i].line, strlen(cases[i].line), &e);
		if ((cases[i].rc < 0 && rc >= 0) || (cases[i].rc >= 0 && rc != cases[i].rc))
			fail_msg("'%s': rc %d, expected %d", cases[i].line, rc, cases[i].rc);
		if (rc == 1) {
			assert_string_equal(e.name, cases[i].name);
			assert_int_equal(e.port, cases[i].port);
			assert_int_equal(e.proto, cases[i].proto);
		}
	}
}

static void test_classify(void **state)
{
	(void)state;
	struct ports p;
	/* the system's own services file (netbase), as owl reads it */
	assert_int_equal(ports_load(&p, "/etc/services"), 0);
	assert_true(p.nsvc > 100);
	static const struct {
		bool tcp;
		uint16_t port;
		enum port_class cls;
	} cases[] = {
		{true, 443, PORT_COMMON},   {true, 22, PORT_COMMON},     {false, 53, PORT_COMMON},
		{false, 123, PORT_COMMON},  {true, 5432, PORT_COMMON},   {true, 6443, PORT_COMMON}, /* owl's own list */
		{true, 9200, PORT_COMMON},  {true, 4444, PORT_ABUSE},    {true, 4445, PORT_ABUSE},
		{true, 1337, PORT_ABUSE},   {true, 31337, PORT_ABUSE},   {true, 6667, PORT_ABUSE},  /* ircd in services */
		{true, 6697, PORT_ABUSE},   {true, 9001, PORT_ABUSE},    {true, 9050, PORT_ABUSE},
		{true, 3333, PORT_ABUSE},   {true, 14444, PORT_ABUSE},   {true, 23, PORT_ABUSE},
		{true, 40123, PORT_UNCOMMON}, {true, 12347, PORT_UNCOMMON}, {false, 65535, PORT_UNCOMMON},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name, *why;
		enum port_class c = ports_classify(&p, cases[i].tcp, cases[i].port, &name, &why);
		if (c != cases[i].cls)
			fail_msg("port %u/%s: class %d, expected %d", cases[i].port, cases[i].tcp ? "tcp" : "udp", c,
				 cases[i].cls);
		if (c == PORT_ABUSE)
			assert_non_null(why);
		if (c == PORT_COMMON)
			assert_non_null(name);
	}
	const char *name, *why;
	ports_classify(&p, true, 443, &name, &why);
	assert_string_equal(name, "https");
	ports_free(&p);
	/* without /etc/services owl's own list still knows the usual ports */
	assert_int_equal(ports_load(&p, "/nonexistent/services"), 0);
	assert_int_equal(ports_classify(&p, true, 443, &name, &why), PORT_COMMON);
	assert_int_equal(ports_classify(&p, true, 4444, &name, &why), PORT_ABUSE);
	ports_free(&p);
}

static void test_limits(void **state)
{
	(void)state;
	struct endpoint_limits l;
	endpoint_limits_default(&l);
	assert_int_equal(l.high_volume, 100);
	assert_int_equal(l.large_upload, 8u << 20);
	assert_int_equal(endpoint_limit_set(&l, "high-volume=250"), 0);
	assert_int_equal(l.high_volume, 250);
	assert_int_equal(endpoint_limit_set(&l, "large-upload=2M"), 0);
	assert_int_equal(l.large_upload, 2u << 20);
	assert_int_equal(endpoint_limit_set(&l, "large-upload=512k"), 0);
	assert_int_equal(l.large_upload, 512u << 10);
	assert_int_equal(endpoint_limit_set(&l, "attempts=5"), 0);
	assert_int_equal(l.attempts, 5);
	assert_int_equal(endpoint_limit_set(&l, "nosuch=1"), -ENOENT);
	assert_int_equal(endpoint_limit_set(&l, "attempts=0"), -EINVAL);
	assert_int_equal(endpoint_limit_set(&l, "attempts=x"), -EINVAL);
	assert_int_equal(endpoint_limit_set(&l, "attempts"), -EINVAL);
	assert_int_equal(endpoint_limit_set(&l, "large-upload=M"), -EINVAL);
	assert_int_equal(l.attempts, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
