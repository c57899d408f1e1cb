/* The origin rules and the unexpected-parent rule, over parent chains
 * written as tables (each hop as /proc would show it on a Debian host). */
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

#include "attribute/origin.h"
#include "attribute/origin_stage.h"
#include "core/util.h"

#define NONE UINT32_MAX
#define PTS(n) ((136 << 8) | (n)) /* tty_nr of /dev/pts/n, n < 256 */

struct hop {
	int pid;
	const char *comm, *exe, *args0;
	int tty_nr;
	uint32_t loginuid, sessionid, uid;
	const char *unit, *container;
	bool user_session;
	uint64_t pidns;
};

#define MAXH 8
struct origin_case {
	const char *name;
	struct hop h[MAXH]; /* h[0] = the process, then its parent, ... (pid 0 ends) */
	int kind;
	const char *evidence_has;
	const char *tty, *trigger, *unit;
	uint32_t uid;               /* expected session uid, NONE = no user */
	int nsshd;
};

#define INIT {1, "systemd", "/usr/lib/systemd/systemd", "/sbin/init", 0, NONE, NONE, 0, "init.scope", "", false, 1}
#define SSHD {700, "sshd", "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D [listener]", 0, NONE, NONE, 0, "ssh.service", "", false, 1}
#define SSHD_PRIV {4000, "sshd", "/usr/sbin/sshd", "sshd: alice [priv]", 0, 1000, 3, 0, "session-3.scope", "", true, 1}
#define SSHD_USER {4010, "sshd", "/usr/sbin/sshd", "sshd: alice@pts/0", 0, 1000, 3, 1000, "session-3.scope", "", true, 1}
#define CROND {600, "cron", "/usr/sbin/cron", "/usr/sbin/cron", 0, NONE, NONE, 0, "cron.service", "", false, 1}
#define CRONCHILD {5000, "cron", "/usr/sbin/cron", "/usr/sbin/CRON", 0, 1000, 9, 0, "cron.service", "", false, 1}

static const struct origin_case cases[] = {
	{"interactive shell on a pty",
	 {{4100, "curl", "/usr/bin/curl", "curl", PTS(0), 1000, 3, 1000, "session-3.scope", "", true, 1},
	  {4011, "bash", "/usr/bin/bash", "-bash", PTS(0), 1000, 3, 1000, "session-3.scope", "", true, 1},
	  SSHD_USER, SSHD_PRIV, SSHD, INIT},
	 ORIGIN_USER, "controlling terminal pts/0", "pts/0", "", "", 1000, 3},
	{"ssh command without a pty",
	 {{4200, "python3", "/usr/bin/python3.11", "python3", 0, 1000, 3, 1000, "session-3.scope", "", true, 1},
	  {4011, "bash", "/usr/bin/bash", "bash", 0, 1000, 3, 1000, "session-3.scope", "", true, 1},
	  SSHD_USER, SSHD_PRIV, SSHD, INIT},
	 ORIGIN_USER, "ssh session", "", "", "", 1000, 3},
	{"cron job",
	 {{5100, "curl", "/usr/bin/curl", "curl", 0, 1000, 9, 1000, "cron.service", "", false, 1},
	  {5001, "sh", "/usr/bin/dash", "/bin/sh", 0, 1000, 9, 1000, "cron.service", "", false, 1},
	  CRONCHILD, CROND, INIT},
	 ORIGIN_SCHEDULED, "started by cron", "", "cron", "", 1000, 0},
	{"cron job whose shell exited (reparented)",
	 {{5100, "curl", "/usr/bin/curl", "curl", 0, 1000, 9, 1000, "cron.service", "", false, 1}, INIT},
	 ORIGIN_SCHEDULED, "scheduler's unit cron.service", "", "cron", "cron.service", NONE, 0},
	{"service",
	 {{800, "nginx", "/usr/sbin/nginx", "nginx: worker process", 0, NONE, NONE, 33, "nginx.service", "", false, 1},
	  {799, "nginx", "/usr/sbin/nginx", "nginx: master process", 0, NONE, NONE, 0, "nginx.service", "", false, 1},
	  INIT},
	 ORIGIN_SERVICE, "systemd unit nginx.service", "", "", "nginx.service", NONE, 0},
	{"docker container",
	 {{9000, "sh", "/bin/sh", "sh", 0, NONE, NONE, 0, "", "4b7e2d1f0a9c8b7e6d5c4b3a29180716f5e4d3c2b1a09f8e7d6c5b4a39281706", false, 77},
	  {8990, "containerd-shim", "/usr/bin/containerd-shim-runc-v2", "containerd-shim-runc-v2", 0, NONE, NONE, 0, "containerd.service", "", false, 1},
	  INIT},
	 ORIGIN_CONTAINER, "cgroup names container 4b7e2d1f0a9c", "", "", "", NONE, 0},
	{"container child without a container cgroup (shim ancestor)",
	 {{9000, "sh", "/bin/sh", "sh", 0, NONE, NONE, 0, "", "", false, 77},
	  {8990, "containerd-shim", "/usr/bin/containerd-shim-runc-v2", "containerd-shim-runc-v2", 0, NONE, NONE, 0, "containerd.service", "", false, 1},
	  INIT},
	 ORIGIN_CONTAINER, "container runtime", "", "", "", NONE, 0},
	{"daemon started by hand, detached",
	 {{6000, "miner", "/tmp/.x/miner", "miner", 0, 1000, 12, 1000, "", "", false, 1}, INIT},
	 ORIGIN_USER, "login uid 1000 set (audit session 12)", "", "", "", 1000, 0},
	{"runit service",
	 {{300, "tor", "/usr/bin/tor", "tor", 0, NONE, NONE, 0, "", "", false, 1},
	  {290, "runsv", "/usr/bin/runsv", "runsv tor", 0, NONE, NONE, 0, "", "", false, 1},
	  {280, "runsvdir", "/usr/bin/runsvdir", "runsvdir", 0, NONE, NONE, 0, "", "", false, 1}, INIT},
	 ORIGIN_SERVICE, "supervised by runsv", "", "", "runsv tor", NONE, 0},
	{"login session scope without a session process",
	 {{4300, "wget", "/usr/bin/wget", "wget", 0, NONE, NONE, 1000, "session-7.scope", "", true, 1}, INIT},
	 ORIGIN_USER, "login session session-7.scope", "", "", "", 1000, 0},
	{"console login",
	 {{4400, "nc", "/usr/bin/nc.openbsd", "nc", 0, 0, 1, 0, "", "", false, 1},
	  {4390, "bash", "/usr/bin/bash", "-bash", 0, 0, 1, 0, "", "", false, 1},
	  {4380, "login", "/usr/bin/login", "/bin/login -p --", 0, 0, 1, 0, "", "", false, 1}, INIT},
	 ORIGIN_USER, "login session", "", "", "", 0, 0},
	{"init itself", {INIT}, ORIGIN_SERVICE, "the init process (pid 1)", "", "", "", NONE, 0},
	{"nothing known",
	 {{7000, "thing", "/opt/thing", "thing", 0, NONE, NONE, 0, "", "", false, 1},
	  {6990, "starter", "/opt/starter", "starter", 0, NONE, NONE, 0, "", "", false, 1}, INIT},
	 ORIGIN_UNKNOWN, "no terminal, session, unit or scheduler among 2 ancestors", "", "", "", NONE, 0},
};

static void load(const struct hop *src, struct anc_proc *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->pid = src->pid;
	dst->uid = src->uid;
	dst->have_uid = true;
	dst->start_ns = 1000;
	dst->tty_nr = src->tty_nr;
	dst->loginuid = src->loginuid;
	dst->sessionid = src->sessionid;
	dst->pidns_ino = src->pidns;
	owl_strlcpy(dst->comm, src->comm, sizeof(dst->comm));
	owl_strlcpy(dst->exe, src->exe ? src->exe : "", sizeof(dst->exe));
	owl_strlcpy(dst->args0, src->args0 ? src->args0 : "", sizeof(dst->args0));
	owl_strlcpy(dst->unit, src->unit ? src->unit : "", sizeof(dst->unit));
	owl_strlcpy(dst->container_id, src->container ? src->container : "", sizeof(dst->container_id));
	dst->user_session = src->user_session;
}

/* the case's hops as anc_procs: self in *ret_self, the chain in chain[] */
static size_t build(const struct hop *h, struct anc_proc *store, const struct anc_proc **chain)
{
	size_t n = 0;
	for (size_t i = 0; i < MAXH && h[i].pid; i++) {
		load(&h[i], &store[i]);
		if (i > 0)
			store[i - 1].ppid = h[i].pid;
		n = i + 1;
	}
	for (size_t i = 1; i < n; i++)
		chain[i - 1] = &store[i];
	return n - 1;
}

static void test_origin_cases(void **state)
{
	(void)state;
	struct origin_env env = {.root = "/nonexistent-owl-root"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct origin_case *c = &cases[i];
		struct anc_proc *store = calloc(MAXH, sizeof(*store));
		const struct anc_proc *chain[MAXH];
		size_t n = build(c->h, store, chain);
		struct origin_info *oi = calloc(1, sizeof(*oi));
		origin_classify(&store[0], chain, n, &env, oi);
		if (oi->kind != c->kind)
			fail_msg("%s: kind %s (%s), want %s", c->name, origin_kind_name(oi->kind), oi->evidence,
				 origin_kind_name(c->kind));
		if (!strstr(oi->evidence, c->evidence_has))
			fail_msg("%s: evidence '%s' lacks '%s'", c->name, oi->evidence, c->evidence_has);
		assert_string_equal(oi->tty, c->tty);
		assert_string_equal(oi->trigger, c->trigger);
		assert_string_equal(oi->unit, c->unit);
		if (c->uid == NONE) {
			assert_false(oi->has_user);
		} else {
			if (!oi->has_user || oi->uid != c->uid)
				fail_msg("%s: user %d/%u, want %u", c->name, oi->has_user, oi->uid, c->uid);
		}
		assert_int_equal(oi->nsshd, c->nsshd);
		free(oi);
		free(store);
	}
}

static void test_timer_makes_scheduled(void **state)
{
	(void)state;
	char root[] = "/tmp/owl-test-origin-XXXXXX";
	assert_non_null(mkdtemp(root));
	char p[512];
	const char *dirs[] = {"/etc", "/etc/systemd", "/etc/systemd/system"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof(p), "%s/etc/systemd/system/backup.timer", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("[Timer]\nOnCalendar=daily\n", f);
	fclose(f);
	struct hop h[MAXH] = {{3000, "rsync", "/usr/bin/rsync", "rsync", 0, NONE, NONE, 0, "backup.service", "", false, 1}, INIT};
	struct anc_proc *store = calloc(MAXH, sizeof(*store));
	const struct anc_proc *chain[MAXH];
	size_t n = build(h, store, chain);
	struct origin_info *oi = calloc(1, sizeof(*oi));
	struct origin_env env = {.root = root};
	origin_classify(&store[0], chain, n, &env, oi);
	assert_int_equal(oi->kind, ORIGIN_SCHEDULED);
	assert_string_equal(oi->trigger, "backup.timer");
	/* without the timer it is a plain service */
	unlink(p);
	origin_classify(&store[0], chain, n, &env, oi);
	assert_int_equal(oi->kind, ORIGIN_SERVICE);
	free(oi);
	free(store);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

struct up_case {
	const char *name;
	struct hop h[MAXH];
	int listening_pid;          /* a pid the scan saw listening on TCP, 0 = none */
	int sev;
	const char *reason_has;
};

#define NGINX_W {800, "nginx", "/usr/sbin/nginx", "nginx: worker process", 0, NONE, NONE, 33, "nginx.service", "", false, 1}
#define NGINX_M {799, "nginx", "/usr/sbin/nginx", "nginx: master process", 0, NONE, NONE, 0, "nginx.service", "", false, 1}
#define FPM {810, "php-fpm8.2", "/usr/sbin/php-fpm8.2", "php-fpm: pool www", 0, NONE, NONE, 33, "php8.2-fpm.service", "", false, 1}

static const struct up_case up_cases[] = {
	{"web shell: nginx -> sh", {{900, "sh", "/usr/bin/dash", "sh", 0, NONE, NONE, 33, "nginx.service", "", false, 1}, NGINX_W, NGINX_M, INIT},
	 0, OWL_SEV_HIGH, "shell sh (pid 900) descends from network-facing service nginx (pid 800)"},
	{"web shell: php-fpm -> sh -> curl", {{901, "curl", "/usr/bin/curl", "curl", 0, NONE, NONE, 33, "", "", false, 1},
	  {900, "sh", "/usr/bin/dash", "sh", 0, NONE, NONE, 33, "", "", false, 1}, FPM, INIT},
	 0, OWL_SEV_HIGH, "which started this process"},
	{"interpreter under php-fpm", {{902, "python3", "/usr/bin/python3.11", "python3", 0, NONE, NONE, 33, "", "", false, 1}, FPM, INIT},
	 0, OWL_SEV_MEDIUM, "interpreter python3"},
	{"shell under an unnamed listener", {{903, "sh", "/usr/bin/dash", "sh", 0, NONE, NONE, 0, "", "", false, 1},
	  {880, "python3", "/usr/bin/python3.11", "python3 -m http.server", 0, NONE, NONE, 0, "", "", false, 1}, INIT},
	 880, OWL_SEV_MEDIUM, "a process listening on TCP"},
	{"same, but nothing listens", {{903, "sh", "/usr/bin/dash", "sh", 0, NONE, NONE, 0, "", "", false, 1},
	  {880, "python3", "/usr/bin/python3.11", "python3 -m http.server", 0, NONE, NONE, 0, "", "", false, 1}, INIT},
	 0, OWL_SEV_NONE, ""},
	{"unknown program under redis", {{904, "x", "/tmp/x", "x", 0, NONE, NONE, 0, "", "", false, 1},
	  {850, "redis-server", "/usr/bin/redis-server", "redis-server", 0, NONE, NONE, 0, "redis-server.service", "", false, 1}, INIT},
	 0, OWL_SEV_MEDIUM, "should not run other programs"},
	{"postgres backend is postgres", {{905, "postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres: main", 0, NONE, NONE, 0, "", "", false, 1},
	  {860, "postgres", "/usr/lib/postgresql/15/bin/postgres", "postgres", 0, NONE, NONE, 0, "", "", false, 1}, INIT},
	 0, OWL_SEV_NONE, ""},
	{"nginx worker itself", {NGINX_W, NGINX_M, INIT}, 799, OWL_SEV_NONE, ""},
	{"sshd -> bash", {{4011, "bash", "/usr/bin/bash", "-bash", PTS(0), 1000, 3, 1000, "", "", true, 1}, SSHD_USER, SSHD_PRIV, SSHD, INIT},
	 700, OWL_SEV_NONE, ""},
	{"cron -> sh", {{5001, "sh", "/usr/bin/dash", "/bin/sh", 0, 1000, 9, 1000, "cron.service", "", false, 1}, CRONCHILD, CROND, INIT},
	 0, OWL_SEV_NONE, ""},
	{"systemd -> service", {{820, "bash", "/usr/bin/bash", "/usr/local/bin/job.sh", 0, NONE, NONE, 0, "job.service", "", false, 1}, INIT},
	 1, OWL_SEV_NONE, ""},
	{"admin shell that started nginx by hand is above it, not below",
	 {{806, "nginx", "/usr/sbin/nginx", "nginx", 0, 0, 3, 0, "", "", false, 1},
	  {4011, "bash", "/usr/bin/bash", "-bash", PTS(0), 0, 3, 0, "", "", false, 1}, SSHD_USER, SSHD, INIT},
	 0, OWL_SEV_NONE, ""},
	{"container boundary stops the walk",
	 {{9000, "sh", "/bin/sh", "sh", 0, NONE, NONE, 0, "", "c0ffee", false, 77},
	  {8999, "tini", "/sbin/tini", "tini", 0, NONE, NONE, 0, "", "c0ffee", false, 77},
	  {8990, "dockerd", "/usr/bin/dockerd", "dockerd", 0, NONE, NONE, 0, "docker.service", "", false, 1}, INIT},
	 8990, OWL_SEV_NONE, ""},
};

static bool listens_one(pid_t pid, void *ud)
{
	return pid == *(int *)ud;
}

static void test_unexpected_parent(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(up_cases) / sizeof(up_cases[0]); i++) {
		const struct up_case *c = &up_cases[i];
		struct anc_proc *store = calloc(MAXH, sizeof(*store));
		const struct anc_proc *chain[MAXH];
		size_t n = build(c->h, store, chain);
		char reason[OWL_REASON_MAX];
		int lp = c->listening_pid;
		enum owl_severity sev =
			origin_unexpected_parent(&store[0], chain, n, listens_one, &lp, reason, sizeof(reason));
		if ((int)sev != c->sev)
			fail_msg("%s: severity %d (%s), want %d", c->name, sev, reason, c->sev);
		if (!strstr(reason, c->reason_has))
			fail_msg("%s: reason '%s' lacks '%s'", c->name, reason, c->reason_has);
		free(store);
	}
}

static void test_tty_names(void **state)
{
	(void)state;
	char b[32];
	origin_tty_name(PTS(3), b, sizeof(b));
	assert_string_equal(b, "pts/3");
	origin_tty_name((136 << 8) | (1 << 20), b, sizeof(b)); /* minor 256 */
	assert_string_equal(b, "pts/256");
	origin_tty_name((4 << 8) | 1, b, sizeof(b));
	assert_string_equal(b, "tty1");
	origin_tty_name((4 << 8) | 64, b, sizeof(b));
	assert_string_equal(b, "ttyS0");
	origin_tty_name(0, b, sizeof(b));
	assert_string_equal(b, "");
}

static void test_recent_binary(void **state)
{
	(void)state;
	const uint64_t S = 1000000000ull, DAY = 86400 * S, now = 1800000000ull * S;
	char r[OWL_REASON_MAX];
	struct proc_timeline tl;
	/* packaged, unchanged since install */
	memset(&tl, 0, sizeof(tl));
	tl.exe_stat_ok = true;
	tl.exe_mtime_ns = now - 400 * DAY;
	tl.exe_ctime_ns = now - 30 * DAY;
	owl_strlcpy(tl.package, "curl", sizeof(tl.package));
	tl.package_known = true;
	tl.package_installed_ns = now - 30 * DAY + 5 * S;
	assert_false(origin_recent_binary(&tl, now, 7 * DAY, r, sizeof(r)));
	/* rewritten a day after the install */
	tl.exe_ctime_ns = now - 29 * DAY;
	assert_true(origin_recent_binary(&tl, now, 7 * DAY, r, sizeof(r)));
	assert_non_null(strstr(r, "after package curl was installed"));
	/* unpackaged, new */
	memset(&tl, 0, sizeof(tl));
	tl.exe_stat_ok = true;
	tl.package_known = true;
	tl.exe_mtime_ns = tl.exe_ctime_ns = now - 2 * DAY;
	assert_true(origin_recent_binary(&tl, now, 7 * DAY, r, sizeof(r)));
	assert_non_null(strstr(r, "unpackaged"));
	/* unpackaged, old */
	tl.exe_mtime_ns = tl.exe_ctime_ns = now - 20 * DAY;
	assert_false(origin_recent_binary(&tl, now, 7 * DAY, r, sizeof(r)));
	/* ownership unknown and not in a writable place: no claim */
	memset(&tl, 0, sizeof(tl));
	tl.exe_stat_ok = true;
	tl.exe_mtime_ns = tl.exe_ctime_ns = now - DAY;
	assert_false(origin_recent_binary(&tl, now, 7 * DAY, r, sizeof(r)));
	tl.exe_writable_location = true;
	assert_true(origin_recent_binary(&tl, now, 7 * DAY, r, sizeof(r)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_cases),
		cmocka_unit_test(test_timer_makes_scheduled),
		cmocka_unit_test(test_unexpected_parent),
		cmocka_unit_test(test_tty_names),
		cmocka_unit_test(test_recent_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
