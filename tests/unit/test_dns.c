/* The DNS response parser and the name memory behind destination.domain. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/addr.h"
#include "trace/dns.h"

/* svc.owlw.test A → 203.0.113.80, as tests/integration/watch_helper.py
 * answers it (recorded with a python3 socket client). */
static const uint8_t resp_a[] = {
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x03, 's', 'v', 'c', 0x04, 'o', 'w', 'l', 'w', 0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01, 0x00, 0x01,
	0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 203, 0, 113, 80,
};

/* WWW.Example.COM CNAME edge.example.net, edge.example.net AAAA 2001:db8::1
 * and A 192.0.2.7: both addresses carry the name that was asked for. */
static const uint8_t resp_cname[] = {
	0xab, 0xcd, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	/* 12 */ 0x03, 'W', 'W', 'W', 0x07, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'C', 'O', 'M', 0x00,
	0x00, 0x01, 0x00, 0x01,
	/* 33: answer 1, CNAME */ 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x12,
	/* 45 */ 0x04, 'e', 'd', 'g', 'e', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'n', 'e', 't', 0x00,
	/* 63: answer 2, AAAA */ 0xc0, 45, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	/* answer 3, A */ 0xc0, 45, 0x00, 0x01, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, 0x00, 0x04, 192, 0, 2, 7,
};

static void test_parse_a(void **state)
{
	struct dns_answer a[4];
	size_t n = 99;
	char ip[OWL_ADDRSTR_MAX];
	assert_int_equal(dns_parse_response(resp_a, sizeof(resp_a), a, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].name, "svc.owlw.test");
	assert_string_equal(owl_addr_str(&a[0].addr, ip), "203.0.113.80");
	assert_int_equal(a[0].ttl, 300);
}

static void test_parse_cname_chain(void **state)
{
	struct dns_answer a[4];
	size_t n = 0;
	char ip[OWL_ADDRSTR_MAX];
	assert_int_equal(dns_parse_response(resp_cname, sizeof(resp_cname), a, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].name, "www.example.com");
	assert_string_equal(owl_addr_str(&a[0].addr, ip), "2001:db8::1");
	assert_string_equal(a[1].name, "www.example.com");
	assert_string_equal(owl_addr_str(&a[1].addr, ip), "192.0.2.7");
	assert_int_equal(a[1].ttl, 0); /* top bit set: 0 (RFC 2181) */
	/* max bounds what is returned, not what is parsed */
	assert_int_equal(dns_parse_response(resp_cname, sizeof(resp_cname), a, 1, &n), 0);
	assert_int_equal(n, 1);
}

struct bad_case {
	const char *what;
	size_t off;     /* byte to change */
	uint8_t val;
	size_t len;     /* length to parse (0 = all) */
};

static const struct bad_case bad[] = {
	{"a query, not a response", 2, 0x01, 0},
	{"not a standard query (opcode 2)", 2, 0x91, 0},
	{"no question", 5, 0x00, 0},
	{"header cut", 0, 0x12, 11},
	{"question name cut", 0, 0x12, 20},
	{"answer cut in rdata", 0, 0x12, sizeof(resp_a) - 1},
	{"answer count beyond the message", 7, 0x02, 0},
	{"pointer to itself", 32, 31, 0},
	{"pointer forward", 32, 40, 0},
	{"label type 0x40", 12, 0x43, 0},
	{"label longer than the message", 12, 0x3f, 0},
};

static void test_rejects(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t m[sizeof(resp_a)];
		struct dns_answer a[4];
		size_t n = 77;
		memcpy(m, resp_a, sizeof(m));
		m[bad[i].off] = bad[i].val;
		size_t len = bad[i].len ? bad[i].len : sizeof(m);
		if (dns_parse_response(m, len, a, 4, &n) != -EINVAL)
			fail_msg("accepted: %s", bad[i].what);
		assert_int_equal(n, 77); /* untouched on failure */
	}
	assert_int_equal(dns_parse_response(NULL, 0, NULL, 0, NULL), -EINVAL);
}

static void test_name_too_long(void **state)
{
	/* 5 labels of 63 bytes: 319 characters, over the 253 a name may have */
	uint8_t m[12 + 5 * 64 + 1 + 4];
	struct dns_answer a[1];
	size_t n;
	memset(m, 0, sizeof(m));
	m[2] = 0x81;
	m[5] = 1;
	size_t off = 12;
	for (int l = 0; l < 5; l++) {
		m[off++] = 63;
		memset(m + off, 'a', 63);
		off += 63;
	}
	m[off++] = 0;
	m[off + 1] = 1;
	m[off + 3] = 1;
	assert_int_equal(dns_parse_response(m, sizeof(m), a, 1, &n), -EINVAL);
}

static void test_error_answer_has_no_addresses(void **state)
{
	uint8_t m[sizeof(resp_a)];
	memcpy(m, resp_a, sizeof(m));
	m[3] = 0x83; /* NXDOMAIN */
	m[7] = 0;    /* no answers */
	struct dns_answer a[2];
	size_t n = 5;
	assert_int_equal(dns_parse_response(m, 31, a, 2, &n), 0);
	assert_int_equal(n, 0);
}

static void test_cache(void **state)
{
	struct dns_cache *c;
	struct dns_answer a;
	uint64_t sec = 1000000000ULL, t0 = 1000 * sec;
	assert_int_equal(dns_cache_new(64, &c), 0);
	memset(&a, 0, sizeof(a));
	strcpy(a.name, "svc.owlw.test");
	owl_addr_parse("203.0.113.80", &a.addr);
	a.ttl = 5;
	dns_cache_put(c, 100, 4026531840ULL, &a, t0, 120, 3600);
	/* the process that asked */
	assert_string_equal(dns_cache_get(c, 100, 4026531840ULL, &a.addr, t0 + sec), "svc.owlw.test");
	/* another process of the same namespace: the namespace's latest answer */
	assert_string_equal(dns_cache_get(c, 200, 4026531840ULL, &a.addr, t0 + sec), "svc.owlw.test");
	/* another namespace: nothing */
	assert_null(dns_cache_get(c, 200, 4026532000ULL, &a.addr, t0 + sec));
	/* TTL 5 s is raised to the 120 s minimum, then it expires */
	assert_non_null(dns_cache_get(c, 100, 4026531840ULL, &a.addr, t0 + 119 * sec));
	assert_null(dns_cache_get(c, 100, 4026531840ULL, &a.addr, t0 + 121 * sec));
	/* a later answer for the same address wins */
	strcpy(a.name, "other.owlw.test");
	dns_cache_put(c, 100, 4026531840ULL, &a, t0 + 200 * sec, 120, 3600);
	assert_string_equal(dns_cache_get(c, 100, 4026531840ULL, &a.addr, t0 + 201 * sec), "other.owlw.test");
	dns_cache_free(c);
	dns_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_a),
		cmocka_unit_test(test_parse_cname_chain),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_error_answer_has_no_addresses),
		cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
