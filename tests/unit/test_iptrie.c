/* The prefix trie: /0, /32, /128, overlapping prefixes, prefixes shorter
 * and longer than the 16-bit bucket, duplicates; and a cross-check of
 * longest-prefix match against a plain linear scan on random data. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "endpoint/iptrie.h"

static struct iptrie_key k4(const char *s)
{
	uint8_t b[4];
	assert_int_equal(inet_pton(AF_INET, s, b), 1);
	return iptrie_key_from(b, 32);
}

static struct iptrie_key k6(const char *s)
{
	uint8_t b[16];
	assert_int_equal(inet_pton(AF_INET6, s, b), 1);
	return iptrie_key_from(b, 128);
}

static unsigned ndups;
static uint32_t last_dup;
static void count_dup(void *arg, uint32_t val)
{
	(void)arg;
	ndups++;
	last_dup = val;
}

/* value of the longest match, or -1 */
static long look4(const struct iptrie *t, const char *s, unsigned *plen)
{
	struct iptrie_match m;
	if (!iptrie_lookup(t, k4(s), &m))
		return -1;
	if (plen)
		*plen = m.plen;
	return m.val;
}

static long look6(const struct iptrie *t, const char *s)
{
	struct iptrie_match m;
	return iptrie_lookup(t, k6(s), &m) ? (long)m.val : -1;
}

static void test_v4_overlap(void **state)
{
	(void)state;
	struct iptrie t;
	assert_int_equal(iptrie_init(&t, 32), 0);
	assert_int_equal(look4(&t, "1.2.3.4", NULL), -1);
	/* inserted in an order that forces splits and re-parenting */
	assert_int_equal(iptrie_insert(&t, k4("198.51.100.7"), 32, 1), 0);
	assert_int_equal(iptrie_insert(&t, k4("198.51.100.0"), 24, 2), 0);
	assert_int_equal(iptrie_insert(&t, k4("198.51.0.0"), 16, 3), 0);
	assert_int_equal(iptrie_insert(&t, k4("198.0.0.0"), 8, 4), 0);
	assert_int_equal(iptrie_insert(&t, k4("198.51.100.128"), 25, 5), 0);
	assert_int_equal(iptrie_insert(&t, k4("198.51.100.6"), 31, 6), 0);
	assert_int_equal(iptrie_insert(&t, k4("198.51.100.99"), 24, 7), 0); /* host bits cleared: a dup */
	ndups = 0;
	assert_int_equal(iptrie_build(&t, count_dup, NULL), 0);
	assert_int_equal(ndups, 1);
	assert_int_equal(last_dup, 7);
	unsigned pl = 0;
	assert_int_equal(look4(&t, "198.51.100.7", &pl), 1);
	assert_int_equal(pl, 32);
	assert_int_equal(look4(&t, "198.51.100.6", &pl), 6);
	assert_int_equal(pl, 31);
	assert_int_equal(look4(&t, "198.51.100.8", &pl), 2);
	assert_int_equal(look4(&t, "198.51.100.200", &pl), 5);
	assert_int_equal(look4(&t, "198.51.101.1", &pl), 3);
	assert_int_equal(look4(&t, "198.52.0.1", &pl), 4);
	assert_int_equal(pl, 8);
	assert_int_equal(look4(&t, "199.0.0.1", NULL), -1);
	assert_int_equal(t.nprefixes, 6);
	assert_int_equal(look4(&t, "0.0.0.0", NULL), -1);
	assert_int_equal(look4(&t, "255.255.255.255", NULL), -1);
	/* /0 catches everything else */
	assert_int_equal(iptrie_insert(&t, k4("0.0.0.0"), 0, 9), 0);
	assert_int_equal(look4(&t, "199.0.0.1", &pl), -1); /* not before the next build */
	assert_int_equal(iptrie_build(&t, count_dup, NULL), 0);
	assert_int_equal(look4(&t, "199.0.0.1", &pl), 9);
	assert_int_equal(pl, 0);
	assert_int_equal(look4(&t, "255.255.255.255", NULL), 9);
	assert_int_equal(look4(&t, "198.51.100.7", NULL), 1);
	assert_int_equal(iptrie_insert(&t, k4("0.0.0.0"), 0, 10), 0);
	ndups = 0;
	assert_int_equal(iptrie_build(&t, count_dup, NULL), 0);
	assert_int_equal(ndups, 1);
	assert_int_equal(look4(&t, "199.0.0.1", NULL), 9); /* the first copy wins */
	assert_int_equal(iptrie_insert(&t, k4("1.2.3.4"), 33, 1), -EINVAL);
	assert_int_equal(iptrie_insert(&t, k4("1.2.3.4"), 32, IPTRIE_NONE), -EINVAL);
	iptrie_free(&t);
	iptrie_free(&t); /* twice is fine */
}

static void test_v4_short_then_long(void **state)
{
	(void)state;
	struct iptrie t;
	assert_int_equal(iptrie_init(&t, 32), 0);
	/* short prefixes: the longer short one wins in the buckets both cover */
	assert_int_equal(iptrie_insert(&t, k4("10.0.0.0"), 8, 1), 0);
	assert_int_equal(iptrie_insert(&t, k4("10.0.0.0"), 12, 2), 0);
	assert_int_equal(iptrie_insert(&t, k4("10.0.0.0"), 9, 3), 0); /* after the /12: must not override it */
	assert_int_equal(iptrie_build(&t, NULL, NULL), 0);
	assert_int_equal(look4(&t, "10.1.2.3", NULL), 2);
	assert_int_equal(look4(&t, "10.16.0.1", NULL), 3);
	assert_int_equal(look4(&t, "10.200.0.1", NULL), 1);
	/* a long prefix in a bucket a short one covers */
	assert_int_equal(iptrie_insert(&t, k4("10.1.2.0"), 24, 4), 0);
	assert_int_equal(iptrie_build(&t, NULL, NULL), 0);
	assert_int_equal(look4(&t, "10.1.2.3", NULL), 4);
	assert_int_equal(look4(&t, "10.1.3.3", NULL), 2);
	iptrie_free(&t);
}

static void test_v6(void **state)
{
	(void)state;
	struct iptrie t;
	assert_int_equal(iptrie_init(&t, 128), 0);
	assert_int_equal(iptrie_insert(&t, k6("2001:db8:4::2"), 128, 1), 0);
	assert_int_equal(iptrie_insert(&t, k6("2001:db8:4::"), 48, 2), 0);
	assert_int_equal(iptrie_insert(&t, k6("2001:db8::"), 32, 3), 0);
	assert_int_equal(iptrie_insert(&t, k6("2001:db8:4:0:8000::"), 65, 4), 0); /* crosses the 64-bit word */
	assert_int_equal(iptrie_insert(&t, k6("2000::"), 3, 5), 0);
	assert_int_equal(iptrie_build(&t, NULL, NULL), 0);
	assert_int_equal(look6(&t, "2001:db8:4::2"), 1);
	assert_int_equal(look6(&t, "2001:db8:4::3"), 2);
	assert_int_equal(look6(&t, "2001:db8:4:0:8000::1"), 4);
	assert_int_equal(look6(&t, "2001:db8:4:0:7fff::1"), 2);
	assert_int_equal(look6(&t, "2001:db8:5::1"), 3);
	assert_int_equal(look6(&t, "2a00::1"), 5);
	assert_int_equal(look6(&t, "fe80::1"), -1);
	assert_int_equal(iptrie_insert(&t, k6("::"), 0, 6), 0);
	assert_int_equal(iptrie_insert(&t, k6("2001:db8:4::2"), 128, 9), 0);
	ndups = 0;
	assert_int_equal(iptrie_build(&t, count_dup, NULL), 0);
	assert_int_equal(ndups, 1);
	assert_int_equal(look6(&t, "2001:db8:4::2"), 1);
	assert_int_equal(look6(&t, "fe80::1"), 6);
	assert_int_equal(iptrie_insert(&t, k6("::1"), 129, 9), -EINVAL);
	/* key round trip */
	uint8_t b[16], c[16];
	inet_pton(AF_INET6, "2001:db8:4:0:8000::1", b);
	iptrie_key_bytes(iptrie_key_from(b, 128), 128, c);
	assert_memory_equal(b, c, 16);
	iptrie_free(&t);
}

/* Random prefixes against a linear longest-prefix scan. */
static void test_random_vs_linear(void **state)
{
	(void)state;
	enum { N = 3000, Q = 20000 };
	struct pfx { uint32_t a; unsigned len; uint32_t val; } *p = calloc(N, sizeof(*p));
	size_t np = 0;
	struct iptrie t;
	assert_int_equal(iptrie_init(&t, 32), 0);
	srand(42);
	for (size_t i = 0; i < N; i++) {
		/* cluster addresses so that prefixes overlap a lot */
		uint32_t a = (uint32_t)(0xc6330000u | ((unsigned)rand() & 0xffff));
		if (i % 7 == 0)
			a = (uint32_t)rand() << 1;
		unsigned len = (unsigned)rand() % 33;
		uint32_t mask = len ? ~0u << (32 - len) : 0;
		a &= mask;
		uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
		assert_int_equal(iptrie_insert(&t, iptrie_key_from(b, 32), len, (uint32_t)i), 0);
		bool dup = false;
		for (size_t j = 0; j < np && !dup; j++)
			dup = p[j].a == a && p[j].len == len;
		if (!dup)
			p[np++] = (struct pfx){a, len, (uint32_t)i};
	}
	assert_int_equal(iptrie_build(&t, NULL, NULL), 0);
	assert_int_equal(t.nprefixes, np);
	for (size_t q = 0; q < Q; q++) {
		uint32_t a = q % 2 ? (uint32_t)(0xc6330000u | ((unsigned)rand() & 0xffff)) : (uint32_t)rand() << 1;
		long want = -1;
		int best = -1;
		for (size_t i = 0; i < np; i++) {
			uint32_t mask = p[i].len ? ~0u << (32 - p[i].len) : 0;
			if ((a & mask) == p[i].a && (int)p[i].len > best) {
				best = (int)p[i].len;
				want = p[i].val;
			}
		}
		uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
		struct iptrie_match m;
		long got = iptrie_lookup(&t, iptrie_key_from(b, 32), &m) ? (long)m.val : -1;
		assert_int_equal(got, want);
	}
	iptrie_free(&t);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_overlap),
		cmocka_unit_test(test_v4_short_then_long),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_random_vs_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
