/* /proc/PID/stat and status parsing.  The stat files under
 * tests/fixtures/proc were recorded from real processes that renamed
 * themselves (prctl PR_SET_NAME) to hostile names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "attribute/fdmap.h"
#include "attribute/procinfo.h"
#include "core/util.h"

struct stat_case {
	const char *file;
	const char *comm;
	int ppid;
};

static const struct stat_case cases[] = {
	{"stat-plain", "sshd", 8112},
	{"stat-paren", "a) R 1 2 (x", 8112},
	{"stat-newline", "evil\nname", 8112},
	{"stat-space", "my prog", 8112},
	{"stat-esc", "\x1b[2Jx", 8112},
};

static void test_recorded(void **s)
{
	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[128], buf[2048];
		snprintf(path, sizeof(path), "tests/fixtures/proc/%s", cases[i].file);
		ssize_t n = owl_read_file(path, buf, sizeof(buf));
		assert_true(n > 0);
		struct proc_stat st;
		assert_int_equal(procinfo_parse_stat(buf, (size_t)n, &st), 0);
		assert_string_equal(st.comm, cases[i].comm);
		assert_int_equal(st.ppid, cases[i].ppid);
		assert_int_equal(st.state, 'R');
		assert_true(st.starttime > 0);
	}
	/* env_start/env_end (fields 50, 51): this very process's, and none
	 * from a line that stops after starttime */
	char buf[2048];
	ssize_t n = owl_read_file("/proc/self/stat", buf, sizeof(buf));
	assert_true(n > 0);
	struct proc_stat st;
	assert_int_equal(procinfo_parse_stat(buf, (size_t)n, &st), 0);
	extern char **environ;
	assert_true(st.env_start > 0 && st.env_end > st.env_start);
	assert_true((uintptr_t)environ[0] >= st.env_start && (uintptr_t)environ[0] < st.env_end);
	static const char shortl[] = "123 (name) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5";
	assert_int_equal(procinfo_parse_stat(shortl, sizeof(shortl) - 1, &st), 0);
	assert_int_equal(st.env_start, 0);
	assert_int_equal(st.env_end, 0);
}

static void test_bad_stat(void **s)
{
	(void)s;
	static const char *const bad[] = {
		"",
		"123",
		"123 (name",
		"123 name) R 1",
		"123 (name) R",                           /* truncated */
		"123 (name) RR 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5",  /* state too long */
		"123 (name) R x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5",   /* ppid not a number */
		"123 (name) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proc_stat st = {.ppid = 4242};
		assert_true(procinfo_parse_stat(bad[i], strlen(bad[i]), &st) < 0);
		assert_int_equal(st.ppid, 4242); /* untouched on failure */
	}
}

static void test_status(void **s)
{
	(void)s;
	char buf[8192];
	ssize_t n = owl_read_file("tests/fixtures/proc/status-sample", buf, sizeof(buf));
	assert_true(n > 0);
	uint32_t uid = 1, euid = 1, gid = 1;
	assert_int_equal(procinfo_parse_status(buf, (size_t)n, &uid, &euid, &gid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(euid, 0);
	assert_int_equal(gid, 0);
	const char *mixed = "Name:\tx\nUid:\t1000\t1001\t1000\t1000\nGid:\t50\t50\t50\t50\n";
	assert_int_equal(procinfo_parse_status(mixed, strlen(mixed), &uid, &euid, &gid), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(euid, 1001);
	assert_int_equal(gid, 50);
	const char *nouid = "Name:\tx\nGid:\t50\t50\t50\t50\n";
	assert_true(procinfo_parse_status(nouid, strlen(nouid), &uid, &euid, &gid) < 0);
	const char *huge = "Uid:\t99999999999\t1\t1\t1\nGid:\t1\t1\t1\t1\n";
	assert_true(procinfo_parse_status(huge, strlen(huge), &uid, &euid, &gid) < 0);
}

static void test_self(void **s)
{
	(void)s;
	struct owl_proc p;
	assert_int_equal(procinfo_load("/proc", getpid(), &p), 0);
	assert_false(p.gone);
	assert_int_equal(p.pid, getpid());
	assert_int_equal(p.ppid, getppid());
	assert_true(p.exe[0] == '/');
	assert_true(p.argc >= 1);
	assert_true(p.start_time_ns > 0);
	assert_true(p.netns_ino > 0);
	size_t n;
	const char *a0 = procinfo_arg(&p, 0, &n);
	assert_non_null(a0);
	assert_true(n > 0);
	assert_null(procinfo_arg(&p, p.argc, &n));
}

/* A real process whose command line is exactly `total` bytes (NULs
 * included): sleep 30 000...0 */
static pid_t spawn_cmdline(size_t total, char *zeros)
{
	size_t k = total - strlen("sleep") - 1 - strlen("30") - 1 - 1;
	memset(zeros, '0', k);
	zeros[k] = '\0';
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", zeros, (char *)NULL);
		_exit(127);
	}
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	for (int i = 0; i < 500; i++) { /* until the exec is done */
		ssize_t n = owl_read_file(path, buf, sizeof(buf));
		if (n == (ssize_t)total)
			break;
		usleep(2000);
	}
	return pid;
}

static void test_cmdline_edge(void **s)
{
	(void)s;
	static char zeros[OWL_ARGS_MAX + 16];
	const size_t sizes[] = {OWL_ARGS_MAX - 1, OWL_ARGS_MAX, OWL_ARGS_MAX + 1};
	for (size_t i = 0; i < 3; i++) {
		pid_t pid = spawn_cmdline(sizes[i], zeros);
		assert_true(pid > 0);
		static struct owl_proc p;
		assert_int_equal(procinfo_load("/proc", pid, &p), 0);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* 4095 bytes fit the 4096-byte buffer with its NUL: whole */
		assert_int_equal(p.args_truncated, sizes[i] > OWL_ARGS_MAX - 1);
		assert_int_equal(p.argc, 3);
		size_t n;
		assert_string_equal(procinfo_arg(&p, 0, &n), "sleep");
		assert_true(p.args_len <= OWL_ARGS_MAX - 1);
	}
}

static void test_gone(void **s)
{
	(void)s;
	struct owl_proc p;
	/* pid_max is at most 4194304: this pid cannot exist */
	int r = procinfo_load("/proc", 0x7ffffff0, &p);
	assert_true(r < 0);
	assert_true(p.gone);
}

static void test_socket_link(void **s)
{
	(void)s;
	assert_int_equal(fdmap_parse_socket_link("socket:[12345]", 14), 12345);
	assert_int_equal(fdmap_parse_socket_link("socket:[]", 9), 0);
	assert_int_equal(fdmap_parse_socket_link("pipe:[12345]", 12), 0);
	assert_int_equal(fdmap_parse_socket_link("socket:[12a45]", 14), 0);
	assert_int_equal(fdmap_parse_socket_link("socket:[99999999999999999999999]", 32), 0);
	assert_int_equal(fdmap_parse_socket_link("/tmp/socket:[1]", 15), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded), cmocka_unit_test(test_bad_stat),
		cmocka_unit_test(test_status),   cmocka_unit_test(test_self),
		cmocka_unit_test(test_gone),     cmocka_unit_test(test_cmdline_edge),     cmocka_unit_test(test_socket_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
