/* /proc/net parsers against files recorded by tests/fixtures/make-fixtures.py
 * (see that script for the sockets it opened) and hostile lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "collect/procnet.h"
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

static void load(enum sockdiag_kind kind, struct bag *b)
{
	memset(b, 0, sizeof(*b));
	int r = procnet_read("tests/fixtures/procnet", kind, collect_cb, b);
	assert_true(r >= 0);
	assert_int_equal(r, b->n);
}

static const struct owl_conn *find_port(const struct bag *b, uint16_t lport, uint8_t state)
{
	for (int i = 0; i < b->n; i++)
		if (b->c[i].lport == lport && (state == 0 || b->c[i].state == state))
			return &b->c[i];
	return NULL;
}

static void test_tcp4(void **s)
{
	(void)s;
	struct bag b;
	char ip[OWL_ADDRSTR_MAX];
	load(SOCKDIAG_TCP4, &b);
	assert_int_equal(b.n, 3);
	const struct owl_conn *l = find_port(&b, 40001, OWL_TCP_LISTEN);
	assert_non_null(l);
	assert_string_equal(owl_addr_str(&l->laddr, ip), "127.0.0.1");
	assert_int_equal(l->transport, OWL_TP_TCP);
	assert_int_equal(l->family, AF_INET);
	assert_true(l->inode > 0);
	int estab = 0;
	for (int i = 0; i < b.n; i++)
		if (b.c[i].state == OWL_TCP_ESTABLISHED) {
			estab++;
			assert_true(b.c[i].lport == 40001 || b.c[i].rport == 40001);
		}
	assert_int_equal(estab, 2);
}

static void test_tcp6(void **s)
{
	(void)s;
	struct bag b;
	char ip[OWL_ADDRSTR_MAX];
	load(SOCKDIAG_TCP6, &b);
	const struct owl_conn *l = find_port(&b, 40002, OWL_TCP_LISTEN);
	assert_non_null(l);
	assert_int_equal(l->family, AF_INET6);
	assert_string_equal(owl_addr_str(&l->laddr, ip), "::1");
}

static void test_udp(void **s)
{
	(void)s;
	struct bag b;
	char ip[OWL_ADDRSTR_MAX];
	load(SOCKDIAG_UDP4, &b);
	const struct owl_conn *u = find_port(&b, 40003, 0);
	assert_non_null(u);
	assert_int_equal(u->state, OWL_TCP_ESTABLISHED); /* connected UDP */
	assert_int_equal(u->rport, 40004);
	assert_string_equal(owl_addr_str(&u->raddr, ip), "127.0.0.1");
	load(SOCKDIAG_UDP6, &b);
	u = find_port(&b, 40005, 0);
	assert_non_null(u);
	assert_int_equal(u->state, OWL_TCP_CLOSE);
	assert_int_equal(u->family, AF_INET6);
}

static void test_raw(void **s)
{
	(void)s;
	struct bag b;
	load(SOCKDIAG_RAW4, &b);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.c[0].transport, OWL_TP_RAW);
	assert_int_equal(b.c[0].protocol, 1);
	load(SOCKDIAG_RAW6, &b);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.c[0].protocol, 58);
}

static void test_packet(void **s)
{
	(void)s;
	struct bag b;
	load(SOCKDIAG_PACKET, &b);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.c[0].transport, OWL_TP_PACKET);
	assert_int_equal(b.c[0].protocol, 0x0003);
	assert_int_equal(b.c[0].pkt_type, SOCK_RAW);
	assert_int_equal(b.c[1].protocol, 0x0800);
	assert_int_equal(b.c[1].pkt_type, SOCK_DGRAM);
}

struct line_case {
	enum sockdiag_kind kind;
	const char *line;
	int want; /* 0 parsed, 1 header, -1 rejected */
};

static const struct line_case lines[] = {
	{SOCKDIAG_TCP4, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 1},
	{SOCKDIAG_TCP4, "   0: 0100007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9253 1 0 100 0 0 10 0", 0},
	{SOCKDIAG_TCP4, "", -1},
	{SOCKDIAG_TCP4, "garbage", -1},
	{SOCKDIAG_TCP4, "   0: 0100007G:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9253", -1},  /* bad hex */
	{SOCKDIAG_TCP4, "   0: 0100007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000 99999999999 0 9253", -1}, /* uid overflow */
	{SOCKDIAG_TCP4, "   0: 0100007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 99999999999999999999999", -1},
	{SOCKDIAG_TCP4, "   0: 0100007F:9C41 00000000:0000 0A", -1}, /* truncated */
	{SOCKDIAG_TCP6, "   0: 0100007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1", -1}, /* v4 in tcp6 */
	{SOCKDIAG_TCP4, "   0: 0100007F:9C41 00000000:0000 1FF 00000000:00000000 00:00000000 00000000 0 0 1", -1}, /* state > 255 */
	{SOCKDIAG_PACKET, "sk               RefCnt Type Proto  Iface R Rmem   User   Inode", 1},
	{SOCKDIAG_PACKET, "000000001ed11e5b 3      3    0003   0     1 0      0      8472", 0},
	{SOCKDIAG_PACKET, "000000001ed11e5b 3      3    10003   0     1 0      0      8472", -1}, /* proto > 16 bits */
	{SOCKDIAG_PACKET, "000000001ed11e5b 3 3", -1},
};

static void test_lines(void **s)
{
	(void)s;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct owl_conn c;
		int r = procnet_parse_line(lines[i].kind, lines[i].line, strlen(lines[i].line), &c);
		if (lines[i].want < 0)
			assert_true(r < 0);
		else
			assert_int_equal(r, lines[i].want);
	}
}

static void test_v4mapped(void **s)
{
	(void)s;
	/* ::ffff:127.0.0.1 port 80 in a tcp6 line shows as IPv4 */
	const char *l = "   0: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:A000 01 "
			"00000000:00000000 00:00000000 00000000 0 0 77";
	struct owl_conn c;
	char ip[OWL_ADDRSTR_MAX];
	assert_int_equal(procnet_parse_line(SOCKDIAG_TCP6, l, strlen(l), &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_string_equal(owl_addr_str(&c.laddr, ip), "127.0.0.1");
	assert_int_equal(c.lport, 80);
}

static void test_buffer_counts_bad(void **s)
{
	(void)s;
	const char *buf = "  sl  local\n   0: 0100007F:9C41 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\nbad\n";
	struct bag b = {0};
	unsigned bad = 0;
	int n = procnet_parse_buffer(SOCKDIAG_TCP4, buf, strlen(buf), collect_cb, &b, &bad);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),   cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_udp),    cmocka_unit_test(test_raw),
		cmocka_unit_test(test_packet), cmocka_unit_test(test_lines),
		cmocka_unit_test(test_v4mapped), cmocka_unit_test(test_buffer_counts_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
