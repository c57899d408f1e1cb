/* act/actlog: the containment history in a real SQLite store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "act/actlog.h"

struct seen {
	int n;
	struct act_entry last;
	char change[256];
};

static int cb(const struct act_entry *e, void *arg)
{
	struct seen *s = arg;
	s->n++;
	s->last = *e;
	snprintf(s->change, sizeof(s->change), "%s", e->change);
	s->last.change = s->change;
	return 0;
}

static void test_record_and_list(void **state)
{
	(void)state;
	char dir[] = "/tmp/owl-test-actlog.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/owl.db", dir);
	struct store *s;
	assert_int_equal(store_open(path, STORE_CREATE, &s), 0);

	struct act_entry e;
	memset(&e, 0, sizeof(e));
	e.at_ms = 1796400000123ull;
	snprintf(e.action, sizeof(e.action), "block");
	snprintf(e.target, sizeof(e.target), "192.0.2.130 tcp port 80");
	e.change = "add element inet owl svc4 { 192.0.2.130 . tcp . 80 }\n";
	snprintf(e.result, sizeof(e.result), "ok");
	e.ok = true;
	snprintf(e.dest, sizeof(e.dest), "192.0.2.130");
	e.expires = 1796403600;
	actlog_who(&e.who);
	snprintf(e.who.sudo_user, sizeof(e.who.sudo_user), "alice\x1b[31m");
	snprintf(e.host, sizeof(e.host), "h1");
	int64_t id1 = actlog_record(s, &e);
	assert_true(id1 > 0);

	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "freeze");
	e.pid = 4242;
	e.change = "kill -STOP 4242";
	snprintf(e.result, sizeof(e.result), "failed: No such process");
	e.who.loginuid = UINT32_MAX;
	snprintf(e.host, sizeof(e.host), "h1");
	int64_t id2 = actlog_record(s, &e);
	assert_int_equal(id2, id1 + 1);

	/* an action the table does not know is refused */
	snprintf(e.action, sizeof(e.action), "reboot");
	assert_true(actlog_record(s, &e) < 0);

	struct seen all = {0};
	assert_int_equal(actlog_each(s, 0, NULL, cb, &all), 2);
	assert_string_equal(all.last.action, "freeze");
	assert_int_equal(all.last.pid, 4242);
	assert_false(all.last.ok);
	assert_int_equal(all.last.who.loginuid, UINT32_MAX);

	struct seen bydest = {0};
	assert_int_equal(actlog_each(s, 0, "192.0.2.130", cb, &bydest), 1);
	assert_int_equal(bydest.last.id, id1);
	assert_int_equal(bydest.last.at_ms, 1796400000123ull);
	assert_int_equal(bydest.last.expires, 1796403600);
	assert_string_equal(bydest.last.who.sudo_user, "alice\x1b[31m"); /* stored raw, escaped when shown */
	assert_string_equal(bydest.change, "add element inet owl svc4 { 192.0.2.130 . tcp . 80 }\n");

	struct seen bypid = {0};
	assert_int_equal(actlog_each(s, 4242, NULL, cb, &bypid), 1);
	struct seen nopid = {0};
	assert_int_equal(actlog_each(s, 77, NULL, cb, &nopid), 0);

	store_close(s);
	/* and it survives reopening */
	assert_int_equal(store_open(path, 0, &s), 0);
	struct seen again = {0};
	assert_int_equal(actlog_each(s, 0, NULL, cb, &again), 2);
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_and_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
