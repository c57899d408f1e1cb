/* verify: the host's package index is kept across contexts (owl watch makes
 * one per enrichment) and rebuilt when dpkg changed the database.  Runs
 * against the host's real dpkg database; the "dpkg changed it" case swaps
 * /var/lib/dpkg/status for a copy in a private mount namespace of this
 * test only (the host's file is not touched).  Needs root for that part. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <cmocka.h>

#include "attribute/procinfo.h"
#include "judge/judge.h"
#include "pipeline/scan.h"
#include "verify/verify_int.h"

/* a file every Debian host's dpkg owns */
#define OWNED "/usr/bin/dpkg"

static void owner(unsigned expect_builds)
{
	struct verify_opts o = {.cache_path = ""};
	struct verify_ctx *c;
	assert_int_equal(verify_ctx_new(&o, &c), 0);
	struct verify_pkg pkg;
	assert_int_equal(verify_path_owner(c, OWNED, &pkg), 0);
	assert_string_equal(pkg.name, "dpkg");
	assert_int_equal(verify_host_index_builds(), expect_builds);
	verify_ctx_free(c);
}

/* first in this program: nothing is kept yet */
static void test_prestart(void **state)
{
	(void)state;
	if (access("/var/lib/dpkg/status", R_OK) != 0)
		skip();
	struct scan_opts o;
	memset(&o, 0, sizeof(o));
	setenv("OWL_DIGEST_CACHE", "", 1); /* no cache file: a cold run */
	o.no_verify = true;
	verify_stage_prestart(&o);
	owner(1); /* --no-verify started nothing: the context built it */
	/* a cold scan starts the index before the stage; the stage takes it */
	verify_stage_prestart(&o);
	assert_int_equal(verify_host_index_builds(), 1);
	o.no_verify = false;
	struct verify_opts vo = {.cache_path = ""};
	struct verify_ctx *c;
	assert_int_equal(verify_ctx_new(&vo, &c), 0); /* holds nothing yet */
	verify_stage_prestart(&o);                    /* the kept one is current: no build */
	struct verify_pkg pkg;
	assert_int_equal(verify_path_owner(c, OWNED, &pkg), 0);
	assert_int_equal(verify_host_index_builds(), 1);
	/* while c holds the index, a prestart builds another for the next context */
	verify_stage_prestart(&o);
	owner(2);
	verify_ctx_free(c);
}

static void test_kept(void **state)
{
	(void)state;
	if (access("/var/lib/dpkg/status", R_OK) != 0)
		skip();
	unsigned b = verify_host_index_builds();
	owner(b ? b : 1); /* borrowed from an earlier test's context, or built */
	b = verify_host_index_builds() - 1;
	owner(b + 1); /* borrowed */
	owner(b + 1);

	/* two contexts at once: the second builds its own */
	struct verify_opts o = {.cache_path = ""};
	struct verify_ctx *c1, *c2;
	struct verify_pkg pkg;
	assert_int_equal(verify_ctx_new(&o, &c1), 0);
	assert_int_equal(verify_ctx_new(&o, &c2), 0);
	assert_int_equal(verify_path_owner(c1, OWNED, &pkg), 0);
	assert_int_equal(verify_path_owner(c2, OWNED, &pkg), 0);
	assert_int_equal(verify_host_index_builds(), b + 2);
	verify_ctx_free(c1);
	verify_ctx_free(c2);
	owner(b + 2); /* one of them was kept */
}

/* as owl watch does: one context per enrichment, each kept alive (its
 * result is cached) while the next ones run */
static void test_watch_pattern(void **state)
{
	(void)state;
	if (access("/var/lib/dpkg/status", R_OK) != 0)
		skip();
	static struct owl_proc procs[4];
	struct scan_result *res[4];
	struct owl_record recs[4];
	uint32_t pids[4];
	struct scan_opts o;
	memset(&o, 0, sizeof(o));
	memset(recs, 0, sizeof(recs));
	o.proc_root = "/proc";
	setenv("OWL_DIGEST_CACHE", "", 1); /* no cache file: every run needs the index */
	unsigned b = verify_host_index_builds();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(procinfo_load("/proc", getpid(), &procs[i]), 0);
		res[i] = calloc(1, sizeof(*res[i]));
		assert_non_null(res[i]);
		pids[i] = (uint32_t)getpid();
		recs[i].proc = &procs[i];
		recs[i].pids = &pids[i];
		recs[i].npids = 1;
		res[i]->recs = &recs[i];
		res[i]->nrecs = res[i]->ntotal = 1;
		res[i]->procs = &procs[i];
		res[i]->nprocs = 1;
		res[i]->pidpool = &pids[i];
		assert_int_equal(verify_stage_run(&o, res[i]), 0);
		assert_non_null(procs[i].verify);
		/* this test program is in no package: the database was consulted */
		assert_int_equal(procs[i].verify->owner, VERIFY_OWNER_NONE);
	}
	/* at most one index built for all four (none when an earlier test kept one) */
	assert_true(verify_host_index_builds() <= b + 1);
	for (int i = 0; i < 4; i++) {
		verify_ctx_free(res[i]->verify);
		judge_free_findings(&recs[i], 1);
		free(res[i]);
	}
}

static void test_rebuilt_when_dpkg_changed(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/var/lib/dpkg/status", R_OK) != 0)
		skip();
	owner(verify_host_index_builds() == 0 ? 1 : verify_host_index_builds());
	unsigned b = verify_host_index_builds();
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		skip();
	char tmp[] = "/tmp/owl-kept-XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "cp /var/lib/dpkg/status %s", tmp);
	assert_int_equal(system(cmd), 0);
	/* same content, another inode: what a dpkg run's rename looks like */
	assert_int_equal(mount(tmp, "/var/lib/dpkg/status", NULL, MS_BIND, NULL), 0);
	owner(b + 1);
	owner(b + 1);
	assert_int_equal(umount("/var/lib/dpkg/status"), 0);
	owner(b + 2); /* back to the original: a change again */
	unlink(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prestart),
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_watch_pattern),
		cmocka_unit_test(test_rebuilt_when_dpkg_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
