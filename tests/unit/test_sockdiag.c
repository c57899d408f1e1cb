/* sock_diag parsing against netlink dumps recorded from a live kernel by
 * tests/fixtures/make-fixtures.py (OWL_DIAG_RECORD), and damaged copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "collect/sockdiag.h"
#include "core/addr.h"
#include "core/util.h"

#define MAXC 64
struct bag {
	struct owl_conn c[MAXC];
	int n;
};

static int collect_cb(const struct owl_conn *c, void *arg)
{
	struct bag *b = arg;
	if (b->n < MAXC)
		b->c[b->n++] = *c;
	return 0;
}

static size_t slurp(const char *kind, char *buf, size_t sz)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/fixtures/sockdiag/dump.%s", kind);
	ssize_t n = owl_read_file(path, buf, sz);
	assert_true(n > 0);
	return (size_t)n;
}

static int parse(enum sockdiag_kind k, struct bag *b)
{
	static char buf[65536];
	memset(b, 0, sizeof(*b));
	size_t n = slurp(sockdiag_kind_name(k), buf, sizeof(buf));
	return sockdiag_parse_stream(k, buf, n, collect_cb, b);
}

static void test_tcp4(void **s)
{
	(void)s;
	struct bag b;
	char ip[OWL_ADDRSTR_MAX];
	assert_int_equal(parse(SOCKDIAG_TCP4, &b), 3);
	int listen = 0, estab = 0;
	for (int i = 0; i < b.n; i++) {
		const struct owl_conn *c = &b.c[i];
		assert_int_equal(c->transport, OWL_TP_TCP);
		assert_int_equal(c->source, OWL_SRC_DIAG);
		assert_true(c->inode > 0);
		assert_true(c->cookie > 0);
		assert_true(c->has_tcpinfo);
		assert_string_equal(owl_addr_str(&c->laddr, ip), "127.0.0.1");
		if (c->state == OWL_TCP_LISTEN) {
			listen++;
			assert_int_equal(c->lport, 40001);
		} else if (c->state == OWL_TCP_ESTABLISHED) {
			estab++;
			assert_true(c->lport == 40001 || c->rport == 40001);
		}
	}
	assert_int_equal(listen, 1);
	assert_int_equal(estab, 2);
}

static void test_tcp6_udp(void **s)
{
	(void)s;
	struct bag b;
	char ip[OWL_ADDRSTR_MAX];
	assert_int_equal(parse(SOCKDIAG_TCP6, &b), 1);
	assert_int_equal(b.c[0].family, AF_INET6);
	assert_string_equal(owl_addr_str(&b.c[0].laddr, ip), "::1");
	assert_int_equal(b.c[0].lport, 40002);

	assert_int_equal(parse(SOCKDIAG_UDP4, &b), 1);
	assert_int_equal(b.c[0].state, OWL_TCP_ESTABLISHED);
	assert_int_equal(b.c[0].rport, 40004);
	assert_int_equal(parse(SOCKDIAG_UDP6, &b), 1);
	assert_int_equal(b.c[0].state, OWL_TCP_CLOSE);
	assert_int_equal(b.c[0].lport, 40005);
}

static void test_raw_missing(void **s)
{
	(void)s;
	struct bag b;
	/* this kernel has no raw_diag: the recorded answer is an error */
	int r = parse(SOCKDIAG_RAW4, &b);
	assert_true(r < 0);
	assert_int_equal(b.n, 0);
}

static void test_packet_filter(void **s)
{
	(void)s;
	struct bag b;
	assert_int_equal(parse(SOCKDIAG_PACKET, &b), 2);
	const struct owl_conn *all = NULL, *ip = NULL;
	for (int i = 0; i < b.n; i++) {
		if (b.c[i].protocol == 0x0003)
			all = &b.c[i];
		if (b.c[i].protocol == 0x0800)
			ip = &b.c[i];
	}
	assert_non_null(all);
	assert_non_null(ip);
	assert_true(all->has_filter);
	assert_int_equal(all->filter_len, 1);
	assert_int_equal(all->pkt_type, SOCK_RAW);
	assert_false(ip->has_filter);
	assert_int_equal(ip->pkt_type, SOCK_DGRAM);
	assert_true(all->has_uid);
	assert_int_equal(all->uid, 0);
}

/* Every truncation and every single-byte corruption of a real dump parses
 * without crashing and never yields more sockets than the dump holds. */
static void test_damaged(void **s)
{
	(void)s;
	static char buf[65536], copy[65536];
	size_t n = slurp("tcp4", buf, sizeof(buf));
	for (size_t cut = 0; cut < n; cut++) {
		struct bag b = {0};
		memcpy(copy, buf, cut);
		int r = sockdiag_parse_stream(SOCKDIAG_TCP4, copy, cut, collect_cb, &b);
		assert_true(r <= 3);
	}
	for (size_t i = 0; i < n; i++) {
		struct bag b = {0};
		memcpy(copy, buf, n);
		copy[i] ^= 0xff;
		int r = sockdiag_parse_stream(SOCKDIAG_TCP4, copy, n, collect_cb, &b);
		assert_true(r <= 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6_udp),
		cmocka_unit_test(test_raw_missing),
		cmocka_unit_test(test_packet_filter),
		cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
