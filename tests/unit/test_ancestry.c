/* The ancestry cache over a copied /proc tree (stat files as the kernel
 * writes them) plus a tracer's records of processes that have exited. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "attribute/ancestry.h"
#include "attribute/procinfo.h"
#include "core/util.h"

static char root[64];

static uint64_t start_ns(uint64_t ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	return procinfo_boot_ns() + ticks * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
}

/* /proc/PID/stat with comm, ppid and starttime (ticks) */
static void fake(int pid, const char *comm, int ppid, uint64_t ticks)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%d", root, pid);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%d/stat", root, pid);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%d (%s) S %d %d %d 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 %llu 1000 100\n", pid, comm, ppid,
		pid, pid, (unsigned long long)ticks);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/owl-test-anc-XXXXXX");
	assert_non_null(mkdtemp(root));
	fake(1, "init", 0, 1);
	fake(100, "sshd", 1, 50);
	fake(200, "bash", 100, 60);
	fake(300, "miner", 1, 80);     /* its parent 250 exited: reparented to 1 */
	fake(400, "child", 500, 90);   /* pid 500 was reused by a younger process */
	fake(500, "young", 1, 200);
	fake(600, "loop", 601, 100);   /* a corrupt tree: 600 <-> 601 */
	fake(601, "loop", 600, 100);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static struct anc_proc *known(int pid, const char *comm, int ppid, uint64_t ticks)
{
	struct anc_proc *k = calloc(1, sizeof(*k));
	k->pid = pid;
	k->ppid = ppid;
	k->start_ns = start_ns(ticks);
	k->loginuid = k->sessionid = UINT32_MAX;
	owl_strlcpy(k->comm, comm, sizeof(k->comm));
	return k;
}

static void test_chain(void **state)
{
	(void)state;
	struct ancestry *a;
	assert_int_equal(ancestry_new(root, &a), 0);
	const struct anc_proc *chain[ANC_MAX_HOPS];
	bool trunc;

	const struct anc_proc *bash = ancestry_get(a, 200);
	assert_non_null(bash);
	assert_string_equal(bash->comm, "bash");
	assert_int_equal(bash->start_ns, start_ns(60));
	size_t n = ancestry_chain(a, bash, chain, ANC_MAX_HOPS, &trunc);
	assert_int_equal(n, 2);
	assert_int_equal(chain[0]->pid, 100);
	assert_int_equal(chain[1]->pid, 1);
	assert_false(trunc);
	/* cached: the same pointer the second time */
	assert_ptr_equal(ancestry_get(a, 100), chain[0]);

	/* cut short */
	n = ancestry_chain(a, bash, chain, 1, &trunc);
	assert_int_equal(n, 1);
	assert_true(trunc);

	/* a reused parent pid ends the chain */
	n = ancestry_chain(a, ancestry_get(a, 400), chain, ANC_MAX_HOPS, &trunc);
	assert_int_equal(n, 0);

	/* a loop ends it too */
	n = ancestry_chain(a, ancestry_get(a, 600), chain, ANC_MAX_HOPS, &trunc);
	assert_int_equal(n, 1);

	/* gone, never recorded */
	assert_null(ancestry_get(a, 250));
	ancestry_free(a);
}

static void test_known_dead(void **state)
{
	(void)state;
	struct ancestry *a;
	assert_int_equal(ancestry_new(root, &a), 0);
	/* what a tracer saw: 250 (a shell, now exited) started 300 */
	struct anc_proc *k250 = known(250, "sh", 100, 70);
	struct anc_proc *k300 = known(300, "miner", 250, 80);
	struct anc_proc *k500 = known(500, "old", 1, 85); /* the original 500, before the pid was reused */
	assert_int_equal(ancestry_add_known(a, k250), 0);
	assert_int_equal(ancestry_add_known(a, k300), 0);
	assert_int_equal(ancestry_add_known(a, k500), 0);

	const struct anc_proc *chain[ANC_MAX_HOPS];
	bool trunc;
	const struct anc_proc *miner = ancestry_get(a, 300);
	assert_non_null(miner);
	assert_false(miner->exited); /* the live one */
	size_t n = ancestry_chain(a, miner, chain, ANC_MAX_HOPS, &trunc);
	assert_int_equal(n, 3);
	assert_int_equal(chain[0]->pid, 250);
	assert_true(chain[0]->exited);
	assert_string_equal(chain[0]->comm, "sh");
	assert_int_equal(chain[1]->pid, 100);
	assert_int_equal(chain[2]->pid, 1);
	assert_true(miner->reparented);

	/* the reused pid: the record of the original parent is used */
	n = ancestry_chain(a, ancestry_get(a, 400), chain, ANC_MAX_HOPS, &trunc);
	assert_int_equal(n, 2);
	assert_string_equal(chain[0]->comm, "old");
	assert_true(chain[0]->exited);
	assert_int_equal(chain[1]->pid, 1);

	assert_int_equal(ancestry_add_known(a, &(struct anc_proc){.pid = 0}), -EINVAL);
	free(k250);
	free(k300);
	free(k500);
	ancestry_free(a);
}

/* a tracer's exec records, asked on a miss */
static int lookups;
static int tracer_lookup(pid_t pid, struct anc_proc *ret, void *ud)
{
	(void)ud;
	lookups++;
	if (pid == 250) {
		ret->pid = 250;
		ret->ppid = 100;
		ret->start_ns = start_ns(70);
		owl_strlcpy(ret->comm, "sh", sizeof(ret->comm));
		return 0;
	}
	if (pid == 300) {
		ret->pid = 300;
		ret->ppid = 250;
		ret->start_ns = start_ns(80);
		owl_strlcpy(ret->comm, "miner", sizeof(ret->comm));
		return 0;
	}
	return -ENOENT;
}

static void test_lookup(void **state)
{
	(void)state;
	struct ancestry *a;
	assert_int_equal(ancestry_new(root, &a), 0);
	ancestry_set_lookup(a, tracer_lookup, NULL);
	const struct anc_proc *chain[ANC_MAX_HOPS];
	bool trunc;
	const struct anc_proc *miner = ancestry_get(a, 300);
	size_t n = ancestry_chain(a, miner, chain, ANC_MAX_HOPS, &trunc);
	assert_int_equal(n, 3);
	assert_int_equal(chain[0]->pid, 250);
	assert_true(chain[0]->exited);
	assert_true(miner->reparented);
	/* answers are cached, misses too */
	int before = lookups;
	n = ancestry_chain(a, miner, chain, ANC_MAX_HOPS, &trunc);
	assert_int_equal(n, 3);
	assert_null(ancestry_get(a, 777));
	assert_null(ancestry_get(a, 777));
	assert_int_equal(lookups, before + 1);
	ancestry_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_known_dead),
		cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
