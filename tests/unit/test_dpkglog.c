/* The package-log parsers (dpkg.log, apt history.log), the duration
 * parser, and the change collector over a copied log tree (plain and
 * gzip-rotated). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "core/util.h"
#include "timeline/changes.h"
#include "timeline/dpkglog.h"
#include "timeline/timeline.h"

struct line_case {
	const char *line;
	int rc;
	int action;
	const char *pkg, *arch, *old_ver, *new_ver;
};

static const struct line_case lines[] = {
	/* recorded from /var/log/dpkg.log on Debian 12 */
	{"2025-06-24 14:36:25 upgrade libsystemd0:amd64 252.36-1~deb12u1 252.38-1~deb12u1", 0, DPKG_UPGRADE,
	 "libsystemd0", "amd64", "252.36-1~deb12u1", "252.38-1~deb12u1"},
	{"2025-06-24 14:36:29 install perl-modules-5.36:all <none> 5.36.0-7+deb12u2", 0, DPKG_INSTALL,
	 "perl-modules-5.36", "all", "", "5.36.0-7+deb12u2"},
	{"2026-12-04 17:50:01 remove sl:amd64 5.02-1+b1 <none>", 0, DPKG_REMOVE, "sl", "amd64", "5.02-1+b1", ""},
	{"2026-12-04 17:50:02 purge sl:amd64 5.02-1+b1 <none>", 0, DPKG_PURGE, "sl", "amd64", "5.02-1+b1", ""},
	{"2012-01-01 00:00:00 install oldpkg <none> 1.0", 0, DPKG_INSTALL, "oldpkg", "", "", "1.0"},
	{"2025-06-24 14:36:25 install x:amd64 <none> 1.0\n", 0, DPKG_INSTALL, "x", "amd64", "", "1.0"},
	/* other kinds of line */
	{"2025-06-24 14:36:25 status half-configured libsystemd0:amd64 252.36-1~deb12u1", -ENOENT, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 startup archives unpack", -ENOENT, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 configure libudev1:amd64 252.38-1~deb12u1 <none>", -ENOENT, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 trigproc libc-bin:amd64 2.36-9+deb12u10 <none>", -ENOENT, 0, 0, 0, 0, 0},
	/* malformed */
	{"", -EINVAL, 0, 0, 0, 0, 0},
	{"garbage", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-13-24 14:36:25 install x <none> 1", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 25:36:25 install x <none> 1", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 install", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 install x:amd64", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 install x:amd64 <none>", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 install x:amd64 <none> 1.0 extra", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 install :amd64 <none> 1.0", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 install x: <none> 1.0", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24 14:36:25 install x\x1b[2J <none> 1.0", -EINVAL, 0, 0, 0, 0, 0},
	{"2025-06-24T14:36:25 install x <none> 1.0", -EINVAL, 0, 0, 0, 0, 0},
	{"1969-12-31 23:59:59 install x <none> 1.0", -EINVAL, 0, 0, 0, 0, 0},
};

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const struct line_case *c = &lines[i];
		struct dpkg_event ev;
		memset(&ev, 0x5a, sizeof(ev));
		int rc = dpkglog_parse_line(c->line, strlen(c->line), &ev);
		if (rc != c->rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, c->line, rc, c->rc);
		if (rc != 0) {
			/* untouched on failure */
			assert_int_equal(((unsigned char *)&ev)[0], 0x5a);
			continue;
		}
		assert_int_equal(ev.action, c->action);
		assert_string_equal(ev.pkg, c->pkg);
		assert_string_equal(ev.arch, c->arch);
		assert_string_equal(ev.old_ver, c->old_ver);
		assert_string_equal(ev.new_ver, c->new_ver);
	}
}

static void test_time_is_local(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	uint64_t ns;
	assert_int_equal(dpkglog_parse_time("2025-06-24 14:36:25", 19, &ns), 0);
	assert_int_equal(ns / 1000000000ull, 1750775785ull);
	/* apt writes two spaces */
	assert_int_equal(dpkglog_parse_time("2025-06-24  14:36:25", 20, &ns), 0);
	assert_int_equal(ns / 1000000000ull, 1750775785ull);
	setenv("TZ", "Europe/Berlin", 1); /* CEST, UTC+2 in June */
	tzset();
	assert_int_equal(dpkglog_parse_time("2025-06-24 14:36:25", 19, &ns), 0);
	assert_int_equal(ns / 1000000000ull, 1750775785ull - 7200);
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_fixture_file(void **state)
{
	(void)state;
	FILE *f = fopen("tests/fixtures/dpkg/dpkg.log", "r");
	assert_non_null(f);
	char line[1024];
	int counts[5] = {0}, other = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		struct dpkg_event ev;
		int rc = dpkglog_parse_line(line, strlen(line), &ev);
		if (rc == 0)
			counts[ev.action]++;
		else if (rc == -ENOENT)
			other++;
		else
			bad++;
	}
	fclose(f);
	assert_int_equal(counts[DPKG_INSTALL], 4);
	assert_int_equal(counts[DPKG_UPGRADE], 2);
	assert_int_equal(counts[DPKG_REMOVE], 5);
	assert_int_equal(bad, 0);
	assert_int_equal(other, 45 - 11);
}

static void test_apt_history(void **state)
{
	(void)state;
	static const char *const block[] = {
		"Start-Date: 2026-12-04  17:40:12",
		"Commandline: apt-get install -y sl",
		"Requested-By: alice (1000)",
		"Install: sl:amd64 (5.02-1+b1), libfoo:amd64 (1.0, automatic)",
		"Upgrade: libudev1:amd64 (252.36-1~deb12u1, 252.38-1~deb12u1)",
		"Remove: cowsay:amd64 (3.03+dfsg2-8)",
		"End-Date: 2026-12-04  17:40:18",
		"",
		"Start-Date: not a date",
		"Commandline: ignored",
		"End-Date: 2026-12-04  17:40:18",
	};
	struct apthist st;
	apthist_init(&st);
	struct apt_txn t;
	int done = 0, invalid = 0;
	for (size_t i = 0; i < sizeof(block) / sizeof(block[0]); i++) {
		int rc = apthist_feed(&st, block[i], strlen(block[i]), &t);
		if (rc == 1) {
			done++;
			assert_string_equal(t.cmdline, "apt-get install -y sl");
			assert_string_equal(t.requested_by, "alice (1000)");
			assert_int_equal(t.ninstall, 2);
			assert_int_equal(t.nupgrade, 1);
			assert_int_equal(t.nremove, 1);
		} else if (rc < 0) {
			invalid++;
		}
	}
	assert_int_equal(done, 1);
	assert_int_equal(invalid, 1);
}

static void test_duration(void **state)
{
	(void)state;
	uint64_t ns;
	assert_int_equal(changes_parse_duration("90s", &ns), 0);
	assert_int_equal(ns, 90ull * 1000000000ull);
	assert_int_equal(changes_parse_duration("30m", &ns), 0);
	assert_int_equal(ns, 1800ull * 1000000000ull);
	assert_int_equal(changes_parse_duration("7d", &ns), 0);
	assert_int_equal(ns, 7ull * 86400 * 1000000000ull);
	assert_int_equal(changes_parse_duration("2w", &ns), 0);
	assert_int_equal(changes_parse_duration("3600", &ns), 0);
	assert_int_equal(ns, 3600ull * 1000000000ull);
	assert_int_not_equal(changes_parse_duration("", &ns), 0);
	assert_int_not_equal(changes_parse_duration("d", &ns), 0);
	assert_int_not_equal(changes_parse_duration("0s", &ns), 0);
	assert_int_not_equal(changes_parse_duration("-5m", &ns), 0);
	assert_int_not_equal(changes_parse_duration("5y", &ns), 0);
	assert_int_not_equal(changes_parse_duration("99999999999999999d", &ns), 0);
}

/* A copied log tree: a plain dpkg.log, a gzip-rotated one and a history
 * log under a temporary root. */
static void write_gz(const char *path, const char *text)
{
	gzFile g = gzopen(path, "wb");
	assert_non_null(g);
	assert_int_equal(gzputs(g, text), (int)strlen(text));
	assert_int_equal(gzclose(g), Z_OK);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_collect_tree(void **state)
{
	(void)state;
	char root[] = "/tmp/owl-test-changes-XXXXXX";
	assert_non_null(mkdtemp(root));
	char p[512];
	snprintf(p, sizeof(p), "%s/var", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/var/log", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/var/log/apt", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/var/log/dpkg.log", root);
	write_file(p, "2026-12-04 17:50:01 install sl:amd64 <none> 5.02-1+b1\n"
		      "2026-12-04 17:50:01 status installed sl:amd64 5.02-1+b1\n");
	snprintf(p, sizeof(p), "%s/var/log/dpkg.log.2.gz", root);
	write_gz(p, "2026-11-01 10:00:00 upgrade libc6:amd64 2.36-9 2.36-9+deb12u10\n"
		    "this line is junk\n"
		    "2026-11-02 10:00:00 remove cowsay:all 3.03 <none>\n");
	snprintf(p, sizeof(p), "%s/var/log/apt/history.log.1.gz", root);
	write_gz(p, "Start-Date: 2026-11-01  09:59:59\nCommandline: apt-get upgrade\nUpgrade: libc6:amd64 (2.36-9, "
		    "2.36-9+deb12u10)\nEnd-Date: 2026-11-01  10:00:05\n");

	setenv("TZ", "UTC", 1);
	tzset();
	struct changes_opts o = {.root = root, .since_ns = 0};
	struct changes ch;
	assert_int_equal(changes_collect(&o, &ch), 0);
	assert_int_equal(ch.n, 4);
	/* oldest first */
	assert_int_equal(ch.v[0].kind, CHANGE_APT_RUN);
	assert_string_equal(ch.v[0].subject, "apt-get upgrade");
	assert_int_equal(ch.v[1].kind, CHANGE_PKG_UPGRADE);
	assert_string_equal(ch.v[1].subject, "libc6");
	assert_int_equal(ch.v[2].kind, CHANGE_PKG_REMOVE);
	assert_int_equal(ch.v[3].kind, CHANGE_PKG_INSTALL);
	assert_string_equal(ch.v[3].subject, "sl");

	size_t a, b;
	uint64_t t;
	assert_int_equal(dpkglog_parse_time("2026-12-04 18:00:00", 19, &t), 0);
	changes_range(&ch, t, 3600ull * 1000000000ull, &a, &b);
	assert_int_equal(b - a, 1);
	assert_string_equal(ch.v[a].subject, "sl");

	/* a package's install time: the log's last install/upgrade ... */
	uint64_t it;
	const char *src;
	assert_int_equal(timeline_package_time(&ch, root, "sl:amd64", &it, &src), 0);
	assert_int_equal(dpkglog_parse_time("2026-12-04 17:50:01", 19, &t), 0);
	assert_int_equal(it, t);
	assert_string_equal(src, "dpkg.log");
	/* ... else the mtime of its file list */
	snprintf(p, sizeof(p), "%s/var/lib", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/var/lib/dpkg", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/info", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/info/curl.list", root);
	write_file(p, "/usr/bin/curl\n");
	assert_int_equal(timeline_package_time(&ch, root, "curl", &it, &src), 0);
	assert_string_equal(src, "dpkg info .list mtime");
	assert_int_equal(timeline_package_time(&ch, root, "nosuchpkg", &it, &src), -ENOENT);
	changes_free(&ch);

	/* world-writable places */
	assert_true(timeline_writable_location("/tmp/x"));
	assert_true(timeline_writable_location("/dev/shm/.a/b"));
	assert_true(timeline_writable_location("/run/user/1000/x"));
	assert_false(timeline_writable_location("/usr/bin/curl"));

	/* the window drops what came before it */
	assert_int_equal(dpkglog_parse_time("2026-11-15 00:00:00", 19, &o.since_ns), 0);
	assert_int_equal(changes_collect(&o, &ch), 0);
	assert_int_equal(ch.n, 1);
	changes_free(&ch);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_time_is_local),
		cmocka_unit_test(test_fixture_file),
		cmocka_unit_test(test_apt_history),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_collect_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
