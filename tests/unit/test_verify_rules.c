/* verify's name rules (name-mismatch and kin), /proc parsers and unit
 * names: table-driven, one row per real-world process shape. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "verify/rules.h"
#include "verify/unit.h"
#include "verify/vproc.h"

/* The resolver: a tiny file system of "name → executable" links and a set
 * of packaged paths, standing in for PATH lookup (tested for real in
 * tests/integration/verify.bats). */
static const char *const links[][2] = {
	{"python3", "/usr/bin/python3.11"},
	{"awk", "/usr/bin/mawk"},
	{"/usr/sbin/sshd", "/usr/sbin/sshd"},
	{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"},
	{"/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"},
	{"nc", "/usr/bin/nc.openbsd"},
	{"postmaster", "/usr/lib/postgresql/15/bin/postgres"},
};
static const char *const packaged_paths[] = {"/usr/sbin/cron-helper", "/usr/lib/cron/cron"};

static bool resolves(void *ud, const char *name, const char *exe)
{
	(void)ud;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (strcmp(links[i][0], name) == 0 && strcmp(links[i][1], exe) == 0)
			return true;
	return false;
}

static bool packaged(void *ud, const char *path)
{
	(void)ud;
	for (size_t i = 0; i < sizeof(packaged_paths) / sizeof(packaged_paths[0]); i++)
		if (strcmp(packaged_paths[i], path) == 0)
			return true;
	return false;
}

struct name_case {
	const char *comm, *argv0, *argv1, *exe;
	bool fires;
	const char *reason_has;
};

static const struct name_case name_cases[] = {
	/* legitimate: what servers show every day */
	{"sshd", "sshd: alice@pts/0", NULL, "/usr/sbin/sshd", false, NULL},
	{"sshd", "sshd: alice [priv]", NULL, "/usr/sbin/sshd", false, NULL},
	{"sshd", "/usr/sbin/sshd", "-D", "/usr/sbin/sshd", false, NULL},
	{"postgres", "postgres: checkpointer", NULL, "/usr/lib/postgresql/15/bin/postgres", false, NULL},
	{"postgres", "postgres: 15/main: alice db 127.0.0.1(5555) idle", NULL, "/usr/lib/postgresql/15/bin/postgres", false, NULL},
	{"postgres", "/usr/lib/postgresql/15/bin/postgres", "-D", "/usr/lib/postgresql/15/bin/postgres", false, NULL},
	{"postmaster", "postmaster", NULL, "/usr/lib/postgresql/15/bin/postgres", false, NULL}, /* via a link */
	{"nginx", "nginx: master process /usr/sbin/nginx", NULL, "/usr/sbin/nginx", false, NULL},
	{"nginx", "nginx: worker process", NULL, "/usr/sbin/nginx", false, NULL},
	{"php-fpm8.2", "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)", NULL, "/usr/sbin/php-fpm8.2", false, NULL},
	{"php-fpm8.2", "php-fpm: pool www", NULL, "/usr/sbin/php-fpm8.2", false, NULL},
	{"(sd-pam)", "(sd-pam)", NULL, "/usr/lib/systemd/systemd", false, NULL},
	{"systemd", "/lib/systemd/systemd", "--user", "/usr/lib/systemd/systemd", false, NULL},
	{"systemd-journal", "/lib/systemd/systemd-journald", NULL, "/usr/lib/systemd/systemd-journald", false, NULL},
	{"python3", "python3", "app.py", "/usr/bin/python3.11", false, NULL},
	{"app.py", "/usr/bin/python3", "/srv/app.py", "/usr/bin/python3.11", false, NULL},
	{"java", "/usr/bin/java", "-jar", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", false, NULL},
	{"chrome", "/opt/google/chrome/chrome --type=zygote", NULL, "/opt/google/chrome/chrome", false, NULL},
	{"electron", "/usr/lib/slack/slack --type=zygote --no-zygote-sandbox", NULL, "/usr/lib/slack/slack", false, NULL},
	{"awk", "awk", NULL, "/usr/bin/mawk", false, NULL},
	{"bash", "-bash", NULL, "/usr/bin/bash", false, NULL},
	{"nc", "nc", "127.0.0.1", "/usr/bin/nc.openbsd", false, NULL},
	{"cron", "/usr/bin/python3", "/usr/lib/cron/cron", "/usr/bin/python3.11", false, NULL}, /* packaged script */
	{"kworker/0:1", NULL, NULL, "", false, NULL},                 /* a real kernel thread: no exe */
	/* masquerading */
	{"[kworker/0:2]", "[kworker/0:2]", NULL, "/usr/bin/python3.11", true, "kernel thread"},
	{"python3", "[kworker/0:2]", NULL, "/usr/bin/python3.11", true, "kernel thread"},
	{"kworker/0:2", "x", NULL, "/tmp/x", true, "kernel thread"},
	{"ksoftirqd/3", "ksoftirqd/3", NULL, "/dev/shm/k", true, "kernel thread"},
	{"sshd", "sshd", NULL, "/usr/bin/python3.11", true, "'sshd'"},
	{"python3", "sshd: root@pts/0", NULL, "/usr/bin/python3.11", true, "argv[0] claims to be 'sshd'"},
	{"sshd", "python3", NULL, "/usr/bin/python3.11", true, "process name 'sshd'"},
	{"systemd-resolve", "/lib/systemd/systemd-resolved", NULL, "/tmp/.x/resolved", true, "systemd-resolved"},
	{"cron", "/usr/sbin/cron", "-f", "/var/tmp/cron", true, "argv[0] says /usr/sbin/cron"},
	{"cron", "/usr/bin/python3", "/tmp/cron", "/usr/bin/python3.11", true, "'cron'"}, /* unpackaged script */
	{"dbus-daemon", "dbus-daemon", NULL, "/usr/bin/perl", true, "dbus-daemon"},
};

static void test_name_rule(void **state)
{
	(void)state;
	struct vrule_env env = {.resolves_to = resolves, .packaged = packaged};
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		struct vrule_proc p = {.comm = c->comm, .exe = c->exe, .argv0 = c->argv0, .argv1 = c->argv1};
		p.argv0_len = c->argv0 ? strlen(c->argv0) : 0;
		p.argv1_len = c->argv1 ? strlen(c->argv1) : 0;
		char reason[256] = "";
		bool f = vrule_name_mismatch(&p, &env, reason, sizeof(reason));
		if (f != c->fires)
			fail_msg("case %zu (comm '%s', argv0 '%s', exe '%s'): fired=%d reason '%s'", i, c->comm,
				 c->argv0 ? c->argv0 : "", c->exe, f, reason);
		if (c->reason_has && !strstr(reason, c->reason_has))
			fail_msg("case %zu: reason '%s' lacks '%s'", i, reason, c->reason_has);
	}
}

static void test_claimed(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"sshd: alice@pts/0", "sshd"}, {"/usr/sbin/sshd", "sshd"}, {"-bash", "bash"},
		{"nginx: worker process", "nginx"}, {"(sd-pam)", "(sd-pam)"}, {"", ""}, {"/", ""},
		{"python3 app.py", "python3"}, {"/a/b/", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		vrule_claimed_name(cases[i][0], strlen(cases[i][0]), out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
}

static void test_kinds(void **state)
{
	(void)state;
	static const char *const shells[] = {"bash", "sh", "dash", "zsh", "ksh", "python3", "python3.11", "perl",
					     "ruby", "php8.2", "lua5.4", "node", "busybox"};
	static const char *const not_shells[] = {"nc", "curl", "sshd", "python-config", "bashbug", "perldoc"};
	static const char *const tools[] = {"nc", "ncat", "socat", "nmap", "nc.openbsd", "nc.traditional", "netcat"};
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (!vrule_is_shell(shells[i]))
			fail_msg("%s is a shell/interpreter", shells[i]);
	for (size_t i = 0; i < sizeof(not_shells) / sizeof(not_shells[0]); i++)
		if (vrule_is_shell(not_shells[i]))
			fail_msg("%s is not a shell", not_shells[i]);
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		assert_true(vrule_is_network_tool(tools[i]));
	assert_false(vrule_is_network_tool("curl"));
	assert_non_null(vrule_writable_prefix("/tmp/x"));
	assert_non_null(vrule_writable_prefix("/dev/shm/.a/b"));
	assert_non_null(vrule_writable_prefix("/run/user/1000/x"));
	assert_null(vrule_writable_prefix("/tmpfoo/x"));
	assert_null(vrule_writable_prefix("/usr/bin/tmp"));
	assert_true(vrule_kthread_like("[anything]", 10));
	assert_false(vrule_kthread_like("kworkerd", 8));
	assert_false(vrule_kthread_like("xfsdump", 7));
}

static int map_cb(void *ud, const struct vproc_map *m)
{
	char *out = ud;
	char line[300];
	snprintf(line, sizeof(line), "%.*s%s%s;", (int)m->path_len, m->path, m->exec ? " x" : "", m->deleted ? " d" : "");
	strncat(out, line, 1023 - strlen(out));
	return 0;
}

static void test_maps(void **state)
{
	(void)state;
	/* lines recorded from /proc/PID/maps of a real process, plus junk */
	static const char maps[] =
		"55d0c7a00000-55d0c7a28000 r--p 00000000 08:01 1574155                    /usr/bin/python3.11\n"
		"55d0c7a28000-55d0c7d2e000 r-xp 00028000 08:01 1574155                    /usr/bin/python3.11\n"
		"7f3b2c000000-7f3b2c021000 rw-p 00000000 00:00 0 \n"
		"7f3b30a00000-7f3b30a28000 r-xp 00028000 08:01 1577044                    /tmp/libowlv.so (deleted)\n"
		"7f3b30c00000-7f3b30c01000 r-xp 00000000 00:01 2048                       /memfd:ffi (deleted)\n"
		"7ffd8d5e1000-7ffd8d602000 rw-p 00000000 00:00 0                          [stack]\n"
		"garbage line\n"
		"7f3b30d00000-7f3b30d01000 r-xp 00000000 08:01 99                         /usr/lib/with space.so\n";
	char out[1024] = "";
	unsigned bad = 0;
	int n = vproc_parse_maps(maps, sizeof(maps) - 1, map_cb, out, &bad);
	assert_int_equal(n, 5);
	assert_int_equal(bad, 1);
	assert_string_equal(out, "/usr/bin/python3.11;/usr/bin/python3.11 x;/tmp/libowlv.so x d;/memfd:ffi x d;"
				 "/usr/lib/with space.so x;");
}

/* only the executable mappings, as the query reports them */
static int exec_cb(void *ud, const struct vproc_map *m)
{
	return m->exec ? map_cb(ud, m) : 0;
}

/* q: what the query reported; t: room for what the text says */
static void query_matches_text(int fd, int n, char *q, char *t, const char *plain, const char *odd)
{
	assert_true(n >= 3); /* the test binary, libc, and the two files */
	char want[128];
	snprintf(want, sizeof(want), "%s x d;", plain);
	assert_non_null(strstr(q, want));
	snprintf(want, sizeof(want), "%s x;", odd);
	assert_non_null(strstr(q, want));

	/* the text says the same of every other executable mapping */
	static char buf[1 << 20];
	ssize_t len = 0, r;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += r;
	assert_true(vproc_parse_maps(buf, (size_t)len, exec_cb, t, NULL) >= 3);
	char *o = strstr(q, odd);
	memmove(o, o + strlen(odd) + 3, strlen(o + strlen(odd) + 3) + 1); /* drop "odd x;" */
	o = strstr(t, "/tmp/owl-map\\012q.");
	assert_non_null(o);
	char *e = strchr(o, ';');
	memmove(o, e + 1, strlen(e + 1) + 1);
	assert_string_equal(q, t);
}

/* The PROCMAP_QUERY ioctl against the text, on this very process: a real
 * kernel, a real deleted executable mapping (a file mapped PROT_EXEC and
 * then unlinked), and a name holding a newline, which the text escapes
 * ("\012") and the ioctl returns as it is. */
static void test_maps_query(void **state)
{
	(void)state;
	char plain[] = "/tmp/owl-mapq.XXXXXX", odd[] = "/tmp/owl-map\nq.XXXXXX";
	odd[12] = '\n';
	int f1 = mkstemp(plain), f2 = mkstemp(odd);
	assert_true(f1 >= 0 && f2 >= 0);
	assert_int_equal(write(f1, "x", 1), 1);
	assert_int_equal(write(f2, "y", 1), 1);
	void *m1 = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, f1, 0);
	void *m2 = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, f2, 0);
	if (m1 == MAP_FAILED || m2 == MAP_FAILED) {
		/* /tmp mounted noexec: nothing to compare */
		unlink(plain);
		unlink(odd);
		skip();
	}
	close(f1);
	close(f2);
	unlink(plain);

	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	char *q = calloc(1, 1024), *t = calloc(1, 1024);
	assert_non_null(q);
	assert_non_null(t);
	int n = vproc_query_maps(fd, exec_cb, q);
	bool old_kernel = n == -ENOTTY || n == -EINVAL; /* before 6.11: owl reads the text (covered above) */
	if (!old_kernel)
		query_matches_text(fd, n, q, t, plain, odd);

	close(fd);
	munmap(m1, 4096);
	munmap(m2, 4096);
	unlink(odd);
	free(q);
	free(t);
	if (old_kernel)
		skip();
}

static void test_environ(void **state)
{
	(void)state;
	static const char env[] = "HOME=/root\0LD_PRELOADX=no\0LD_PRELOAD=/tmp/x.so\0PATH=/bin";
	size_t l;
	const char *v = vproc_environ_get(env, sizeof(env) - 1, "LD_PRELOAD", &l);
	assert_non_null(v);
	assert_int_equal(l, 9);
	assert_memory_equal(v, "/tmp/x.so", 9);
	assert_null(vproc_environ_get(env, sizeof(env) - 1, "LD_LIBRARY_PATH", &l));
	assert_null(vproc_environ_get("LD_PRELOAD", 10, "LD_PRELOAD", &l)); /* no '=' */
	char first[64];
	assert_false(vproc_preload_file_entries("# only a comment\n\n  \n", 20, first, sizeof(first)));
	assert_true(vproc_preload_file_entries("# c\n /lib/evil.so:/x.so\n", 24, first, sizeof(first)));
	assert_string_equal(first, "/lib/evil.so");
}

static void test_units(void **state)
{
	(void)state;
	static const char *const pkg_units[] = {"ssh.service", "cron.service", "dbus.service", "rsyslog.service",
						"e2scrub@.service", "postgresql@.service"};
	size_t n = sizeof(pkg_units) / sizeof(pkg_units[0]);
	static const struct {
		const char *unit;
		const char *imitates; /* substring, NULL = imitates nothing */
	} cases[] = {
		{"systemd-networkd-helper.service", "systemd"},
		{"dbus-broker-x.service", "D-Bus"},
		{"crond.service", "cron.service"},
		{"rsyslogd.service", "rsyslog.service"},
		{"rsylsog.service", "rsyslog.service"},        /* transposition */
		{"postgresq1@main.service", "postgresql@.service"},
		{"myapp.service", NULL},
		{"ssh.service", NULL},                          /* the same name: an override, not an imitation */
		{"backup-nightly.service", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256] = "";
		bool im = vunit_imitates(cases[i].unit, pkg_units, n, out, sizeof(out));
		if (im != (cases[i].imitates != NULL) || (im && !strstr(out, cases[i].imitates)))
			fail_msg("%s: imitates=%d '%s'", cases[i].unit, im, out);
	}
	assert_int_equal(vunit_distance("cron", "crond", 2), 1);
	assert_int_equal(vunit_distance("abc", "acb", 2), 1);
	assert_int_equal(vunit_distance("abc", "xyzabc", 2), 3);
	assert_true(vunit_name_ok("foo@bar.service"));
	assert_false(vunit_name_ok("../x.service"));
	assert_false(vunit_name_ok(".service"));
	assert_false(vunit_name_ok("noext"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_rule), cmocka_unit_test(test_claimed), cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_maps),      cmocka_unit_test(test_environ), cmocka_unit_test(test_units),
		cmocka_unit_test(test_maps_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
