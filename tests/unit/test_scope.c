/* The address scope table: every special-purpose block, both families,
 * and the boundaries around the small ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/addr.h"
#include "endpoint/scope.h"

static const struct {
	const char *addr;
	const char *scope;
} cases[] = {
	{"0.0.0.0", "unspecified"},
	{"127.0.0.1", "loopback"},
	{"127.255.255.254", "loopback"},
	{"10.0.0.1", "private"},
	{"172.15.255.255", "public"},
	{"172.16.0.1", "private"},
	{"172.31.255.255", "private"},
	{"172.32.0.0", "public"},
	{"192.168.1.1", "private"},
	{"100.63.255.255", "public"},
	{"100.64.0.1", "cgnat"},
	{"100.127.255.255", "cgnat"},
	{"100.128.0.0", "public"},
	{"100.100.100.200", "metadata"},
	{"169.254.169.254", "metadata"},
	{"169.254.169.253", "link-local"},
	{"169.254.170.2", "metadata"},
	{"169.254.1.1", "link-local"},
	{"224.0.0.251", "multicast"},
	{"239.255.255.250", "multicast"},
	{"255.255.255.255", "broadcast"},
	{"240.0.0.1", "reserved"},
	{"192.0.2.1", "documentation"},
	{"198.51.100.7", "documentation"},
	{"203.0.113.200", "documentation"},
	{"203.0.114.1", "public"},
	{"198.18.0.1", "benchmarking"},
	{"198.19.255.255", "benchmarking"},
	{"198.20.0.0", "public"},
	{"192.0.0.9", "reserved"},
	{"8.8.8.8", "public"},
	{"1.1.1.1", "public"},
	{"::", "unspecified"},
	{"::1", "loopback"},
	{"::2", "reserved"},
	{"::ffff:10.1.2.3", "private"},          /* v4-mapped: judged as IPv4 */
	{"::ffff:169.254.169.254", "metadata"},
	{"fd00:ec2::254", "metadata"},
	{"fd00:ec2::253", "private"},
	{"fc00::1", "private"},
	{"fdff:ffff::1", "private"},
	{"fe80::1", "link-local"},
	{"febf:ffff::1", "link-local"},
	{"fec0::1", "reserved"},
	{"ff02::1", "multicast"},
	{"2001:db8::1", "documentation"},
	{"2001:db8:4::2", "documentation"},
	{"2001:db9::1", "public"},
	{"3fff::1", "documentation"},
	{"3fff:1000::1", "public"},
	{"2001:2::1", "benchmarking"},
	{"2001:2:1::1", "public"},
	{"64:ff9b::8.8.8.8", "nat64"},
	{"100::1", "reserved"},
	{"2a00:1450:4001::1", "public"},
	{"2606:4700::1111", "public"},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct owl_addr a;
		assert_int_equal(owl_addr_parse(cases[i].addr, &a), 0);
		const char *got = ep_scope_name(ep_scope_of(&a));
		if (strcmp(got, cases[i].scope) != 0)
			fail_msg("%s: scope %s, expected %s", cases[i].addr, got, cases[i].scope);
	}
}

static void test_local(void **state)
{
	(void)state;
	assert_true(ep_scope_is_local(EP_SCOPE_LOOPBACK));
	assert_true(ep_scope_is_local(EP_SCOPE_LINK_LOCAL));
	assert_false(ep_scope_is_local(EP_SCOPE_PUBLIC));
	assert_false(ep_scope_is_local(EP_SCOPE_METADATA));
	struct owl_addr none = {0};
	assert_int_equal(ep_scope_of(&none), EP_SCOPE_UNSPECIFIED);
	for (int s = 0; s < EP_SCOPE__MAX; s++)
		assert_non_null(ep_scope_name((enum ep_scope)s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_local),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
