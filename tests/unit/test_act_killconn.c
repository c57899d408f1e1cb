/* act/killconn: which sockets a selection picks (the destroy itself is
 * tested for real in tests/integration/contain.bats). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "act/killconn.h"
#include "core/addr.h"

static struct owl_record rec(int tp, int state, const char *l, uint16_t lp, const char *r, uint16_t rp,
			     uint32_t *pids, uint32_t npids)
{
	struct owl_record x;
	memset(&x, 0, sizeof(x));
	x.conn.transport = (uint8_t)tp;
	x.conn.state = (uint8_t)state;
	owl_addr_parse(l, &x.conn.laddr);
	owl_addr_parse(r, &x.conn.raddr);
	x.conn.lport = lp;
	x.conn.rport = rp;
	x.pids = pids;
	x.npids = npids;
	return x;
}

static void test_match(void **state)
{
	(void)state;
	uint32_t p100[] = {100}, p200[] = {150, 200};
	struct owl_record est = rec(OWL_TP_TCP, OWL_TCP_ESTABLISHED, "192.0.2.146", 40000, "192.0.2.130", 80, p100, 1);
	struct owl_record est2 = rec(OWL_TP_TCP, OWL_TCP_ESTABLISHED, "192.0.2.146", 40001, "192.0.2.130", 443, p200, 2);
	struct owl_record lis = rec(OWL_TP_TCP, OWL_TCP_LISTEN, "0.0.0.0", 22, "0.0.0.0", 0, p100, 1);
	struct owl_record tw = rec(OWL_TP_TCP, OWL_TCP_TIME_WAIT, "192.0.2.146", 40002, "192.0.2.130", 80, NULL, 0);
	struct owl_record udpc = rec(OWL_TP_UDP, OWL_TCP_ESTABLISHED, "192.0.2.146", 5353, "192.0.2.130", 53, p100, 1);
	struct owl_record udpu = rec(OWL_TP_UDP, OWL_TCP_CLOSE, "0.0.0.0", 5353, "0.0.0.0", 0, p100, 1);
	struct owl_record syn = rec(OWL_TP_TCP, OWL_TCP_SYN_SENT, "2001:db8:8::1", 40003, "2001:db8:8::2", 80, p100, 1);

	struct killconn_sel none = {.transport = -1};
	assert_true(killconn_sel_empty(&none));
	assert_false(killconn_match(&none, &est));

	struct killconn_sel bypid = {.pid = 100, .transport = -1};
	assert_true(killconn_match(&bypid, &est));
	assert_false(killconn_match(&bypid, &est2));
	assert_false(killconn_match(&bypid, &lis));   /* listening: not a connection */
	assert_false(killconn_match(&bypid, &tw));    /* time-wait: no process */
	assert_true(killconn_match(&bypid, &udpc));
	assert_false(killconn_match(&bypid, &udpu));  /* unconnected UDP */
	assert_true(killconn_match(&bypid, &syn));

	struct killconn_sel pid200 = {.pid = 200, .transport = -1};
	assert_true(killconn_match(&pid200, &est2));  /* any holder of a shared socket */

	struct killconn_sel dst = {.has_dst = true, .transport = -1};
	owl_addr_parse("192.0.2.130", &dst.dst);
	assert_true(killconn_match(&dst, &est));
	assert_true(killconn_match(&dst, &est2));
	assert_true(killconn_match(&dst, &udpc));
	dst.dport = 443;
	assert_false(killconn_match(&dst, &est));
	assert_true(killconn_match(&dst, &est2));
	dst.dport = 0;
	dst.transport = OWL_TP_TCP;
	assert_false(killconn_match(&dst, &udpc));

	struct killconn_sel tuple = {.has_dst = true, .has_src = true, .dport = 80, .sport = 40000, .transport = -1};
	owl_addr_parse("192.0.2.130", &tuple.dst);
	owl_addr_parse("192.0.2.146", &tuple.src);
	assert_true(killconn_match(&tuple, &est));
	assert_false(killconn_match(&tuple, &est2));
	assert_false(killconn_match(&tuple, &tw));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
