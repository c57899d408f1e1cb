/* render: a report written through the per-process cache is byte for byte
 * the report written without it (commas, nesting, records without an
 * owner, shared and distinct finding sets, hostile strings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "judge/judge.h"
#include "render/report.h"

static void fill_proc(struct owl_proc *p, pid_t pid, const char *comm, const char *exe)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = 1;
	strcpy(p->comm, comm);
	strcpy(p->exe, exe);
	memcpy(p->args, "a\0b\x1b[31m\0", 10);
	p->args_len = 10;
	p->argc = 2;
	p->have_status = true;
	p->uid = 1000;
	strcpy(p->user, "u");
	strcpy(p->cg.unit, "x.service");
	strcpy(p->cgroup_path, "/system.slice/x.service");
	p->start_time_ns = 1700000000000000000ull;
}

static void test_cached_equals_uncached(void **state)
{
	(void)state;
	static struct scan_result s;
	static struct owl_proc procs[2];
	struct owl_record recs[6];
	uint32_t pids[6];
	memset(&s, 0, sizeof(s));
	memset(recs, 0, sizeof(recs));
	fill_proc(&procs[0], 100, "curl", "/usr/bin/curl");
	fill_proc(&procs[1], 200, "evil\xff\u202e", "/tmp/x (deleted)");
	procs[1].cg.container_id[0] = 'c';
	s.procs = procs;
	s.nprocs = 2;
	s.time_ns = 1700000000000000000ull;
	for (int i = 0; i < 6; i++) {
		struct owl_conn *c = &recs[i].conn;
		c->transport = OWL_TP_TCP;
		c->family = 2;
		c->state = OWL_TCP_ESTABLISHED;
		c->direction = OWL_DIR_EGRESS;
		c->inode = 1000 + (uint64_t)i;
		owl_addr_parse("127.0.0.1", &c->laddr);
		owl_addr_parse(i & 1 ? "192.0.2.7" : "198.51.100.9", &c->raddr);
		c->lport = (uint16_t)(40000 + i);
		c->rport = 443;
		if (i < 5) {
			recs[i].proc = &procs[i % 2];
			pids[i] = (uint32_t)procs[i % 2].pid;
			recs[i].pids = &pids[i];
			recs[i].npids = 1;
		}
		if (i % 2)
			judge_add(&recs[i], "exe-deleted", OWL_SEV_HIGH, "runs from %s", procs[1].exe);
		if (i == 3)
			judge_add(&recs[i], "port-unusual", OWL_SEV_LOW, "port \"%d\"", i);
	}
	s.recs = recs;
	s.nrecs = 6;

	struct owl_buf a, b;
	owl_buf_init(&a);
	owl_buf_init(&b);
	struct report_cache *cache = report_cache_new();
	assert_non_null(cache);
	/* twice over: the second round is served from the cache */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < s.nrecs; i++) {
			report_json_line(&a, &s, &s.recs[i]);
			report_json_line_cached(&b, &s, &s.recs[i], cache);
		}
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* and it is the kind of JSON a consumer expects */
	assert_non_null(strstr(a.data, "\"process\":{\"pid\":100,"));
	assert_null(strstr(a.data, ",,"));
	assert_null(strstr(a.data, "{,"));
	report_cache_free(cache);
	owl_buf_free(&a);
	owl_buf_free(&b);
	judge_free_findings(recs, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cached_equals_uncached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
