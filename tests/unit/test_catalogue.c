/* The common-cause catalogue: parser (good entries, every kind of error,
 * file:line, the rest still loading) and matching.  The shipped files in
 * data/catalogue/ must load without a single error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/addr.h"
#include "judge/catalogue.h"

static const char good[] =
	"# comment\n"
	"\n"
	"[chrony]\n"
	"category = time sync\n"
	"description = NTP\n"
	"executables = /usr/sbin/chronyd\n"
	"packages = chrony\n"
	"ports = udp/123 tcp/4460\n"
	"\n"
	"[apt]\n"
	"category = update-agent\n"
	"executables = /usr/lib/apt/methods/*\n"
	"ports = tcp/80 tcp/443,any/53\n"
	"scopes = public private\n"
	"domains = *.debian.org deb.example.org\n";

static void test_parse_good(void **s)
{
	struct catalogue c;
	cat_init(&c);
	assert_int_equal(cat_parse(&c, "good.conf", good, sizeof(good) - 1, false), 2);
	assert_int_equal(c.nerrors, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.e[0].name, "chrony");
	assert_int_equal(c.e[0].category, CAT_TIME_SYNC);
	assert_string_equal(c.e[0].file, "good.conf:3");
	assert_int_equal(c.e[0].nports, 2);
	assert_int_equal(c.e[0].ports[0].transport, 2);
	assert_int_equal(c.e[0].ports[1].lo, 4460);
	assert_int_equal(c.e[1].category, CAT_UPDATE_AGENT);
	assert_int_equal(c.e[1].nports, 3);
	assert_int_equal(c.e[1].ports[2].transport, 0);
	assert_int_equal(c.e[1].scopes, (1u << CAT_SCOPE_PUBLIC) | (1u << CAT_SCOPE_PRIVATE));
	assert_int_equal(c.e[1].ndomains, 2);
	cat_free(&c);
}

struct bad_case {
	const char *text;
	const char *error;  /* expected substring of the one error */
	int entries;        /* entries that still load */
};

#define OK_ENTRY "[ok]\ncategory = DNS\nexecutables = /x\nports = udp/53\n"

static const struct bad_case bad[] = {
	{"[a]\ncategory = nonsense\nexecutables = /x\nports = tcp/1\n" OK_ENTRY, "f:2: [a] category: unknown category", 1},
	{"[a]\ncategory = DNS\nexecutables = relative\nports = tcp/1\n" OK_ENTRY, "f:3: [a] executables: an executable must be an absolute path", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\nports = tcp/70000\n" OK_ENTRY, "f:4: [a] ports: a port is", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\nports = sctp/1\n" OK_ENTRY, "f:4: [a] ports:", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\nports = tcp/9-1\n" OK_ENTRY, "f:4: [a] ports:", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\n" OK_ENTRY, "f:1: entry [a] dropped: no ports", 1},
	{"[a]\ncategory = DNS\nports = tcp/1\n" OK_ENTRY, "f:1: entry [a] dropped: neither executables nor packages", 1},
	{"[a]\nexecutables = /x\nports = tcp/1\n" OK_ENTRY, "f:1: entry [a] dropped: no category", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\nports = tcp/1\ncolour = blue\n" OK_ENTRY, "f:5: [a] colour: unknown key", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\nports = tcp/1\njust words\n" OK_ENTRY, "f:5: expected key = value", 1},
	{"[a b]\ncategory = DNS\nexecutables = /x\nports = tcp/1\n" OK_ENTRY, "f:1: bad entry name", 1},
	{"[a\ncategory = DNS\n" OK_ENTRY, "f:1: malformed section header", 1},
	{"[]\n" OK_ENTRY, "f:1: malformed section header", 1},
	{"category = DNS\n" OK_ENTRY, "f:1: a line outside any [entry]", 1},
	{"[a]\ncategory = DNS\ncategory = DNS\nexecutables = /x\nports = tcp/1\n" OK_ENTRY, "f:3: [a] category: category given twice", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\nports = tcp/1\nscopes = galaxy\n" OK_ENTRY, "f:5: [a] scopes: unknown scope", 1},
	{"[a]\ncategory = DNS\nexecutables = \nports = tcp/1\n" OK_ENTRY, "f:3: [a] executables: empty list", 1},
	{"[a]\ncategory = DNS\ndescription = bell\x07\nexecutables = /x\nports = tcp/1\n" OK_ENTRY, "f:3: [a] description: control", 1},
	{OK_ENTRY OK_ENTRY, "f:5: entry [ok] dropped: defined twice (first in f:1)", 1},
	{"[a]\ncategory = DNS\nexecutables = /x\nports = tcp/1\n" OK_ENTRY "[z]\nports = tcp/1", "f:9: entry [z] dropped: no category", 2},
};

static void test_parse_errors(void **s)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct catalogue c;
		cat_init(&c);
		int rc = cat_parse(&c, "f", bad[i].text, strlen(bad[i].text), false);
		if (rc != bad[i].entries || c.nerrors != 1 || !strstr(c.errors[0], bad[i].error)) {
			print_error("case %zu: rc %d, %zu errors, first: %s\n", i, rc, c.nerrors,
				    c.nerrors ? c.errors[0] : "-");
			fail();
		}
		/* the entry that survived is whole */
		assert_string_equal(c.e[c.n - 1].name, "ok");
		assert_int_equal(c.e[c.n - 1].nports, 1);
		cat_free(&c);
	}
}

static void test_long_line_and_nul(void **s)
{
	static char buf[CAT_LINE_MAX + 200];
	struct catalogue c;
	size_t n = (size_t)snprintf(buf, sizeof(buf), "[a]\ncategory = DNS\ndescription = ");
	memset(buf + n, 'x', CAT_LINE_MAX);
	n += CAT_LINE_MAX;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n" OK_ENTRY);
	cat_init(&c);
	assert_int_equal(cat_parse(&c, "f", buf, n, false), 1);
	assert_int_equal(c.nerrors, 1);
	assert_non_null(strstr(c.errors[0], "f:3: line longer than"));
	cat_free(&c);
	static const char nul[] = "[a]\ncategory = DNS\x00\nexecutables = /x\nports = tcp/1\n" OK_ENTRY;
	cat_init(&c);
	assert_int_equal(cat_parse(&c, "f", nul, sizeof(nul) - 1, false), 1);
	assert_non_null(strstr(c.errors[0], "f:2: NUL byte"));
	cat_free(&c);
}

static void test_replace(void **s)
{
	static const char local[] = "[chrony]\ncategory = time sync\npackages = chrony\nports = udp/123 udp/1123\n";
	struct catalogue c;
	cat_init(&c);
	assert_int_equal(cat_parse(&c, "shipped", good, sizeof(good) - 1, false), 2);
	assert_int_equal(cat_parse(&c, "local", local, sizeof(local) - 1, true), 1);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.nerrors, 0);
	assert_string_equal(c.e[0].file, "local:1");
	assert_int_equal(c.e[0].nexes, 0);
	assert_int_equal(c.e[0].ports[1].lo, 1123);
	cat_free(&c);
}

static struct owl_addr A(const char *s)
{
	struct owl_addr a;
	assert_int_equal(owl_addr_parse(s, &a), 0);
	return a;
}

static void test_scope(void **s)
{
	static const struct {
		const char *ip;
		int scope;
	} t[] = {
		{"127.0.0.1", CAT_SCOPE_LOOPBACK},      {"10.1.2.3", CAT_SCOPE_PRIVATE},
		{"172.16.0.1", CAT_SCOPE_PRIVATE},       {"172.32.0.1", CAT_SCOPE_PUBLIC},
		{"192.168.1.1", CAT_SCOPE_PRIVATE},      {"100.64.0.1", CAT_SCOPE_CGNAT},
		{"100.128.0.1", CAT_SCOPE_PUBLIC},       {"169.254.169.254", CAT_SCOPE_METADATA},
		{"169.254.1.1", CAT_SCOPE_LINK_LOCAL},   {"224.0.0.251", CAT_SCOPE_MULTICAST},
		{"203.0.113.130", CAT_SCOPE_DOCUMENTATION}, {"8.8.8.8", CAT_SCOPE_PUBLIC},
		{"0.0.0.1", CAT_SCOPE_OTHER},            {"::1", CAT_SCOPE_LOOPBACK},
		{"fd00:ec2::254", CAT_SCOPE_METADATA},   {"fe80::1", CAT_SCOPE_LINK_LOCAL},
		{"fd12::1", CAT_SCOPE_PRIVATE},          {"ff02::fb", CAT_SCOPE_MULTICAST},
		{"2001:db8:6::2", CAT_SCOPE_DOCUMENTATION}, {"2a00:1450::1", CAT_SCOPE_PUBLIC},
		{"::ffff:10.0.0.1", CAT_SCOPE_PRIVATE},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct owl_addr a = A(t[i].ip);
		if ((int)cat_scope_of(&a) != t[i].scope) {
			print_error("%s: scope %s, want %s\n", t[i].ip, cat_scope_name(cat_scope_of(&a)),
				    cat_scope_name(t[i].scope));
			fail();
		}
	}
}

static void test_match(void **s)
{
	struct catalogue c;
	cat_init(&c);
	assert_int_equal(cat_parse(&c, "good", good, sizeof(good) - 1, false), 2);
	static const struct {
		const char *exe, *pkg, *tp;
		uint16_t port;
		int scope;
		const char *domain;
		const char *want; /* entry name or NULL */
	} t[] = {
		{"/usr/sbin/chronyd", "", "udp", 123, CAT_SCOPE_PUBLIC, NULL, "chrony"},
		{"/opt/other", "chrony", "udp", 123, CAT_SCOPE_PUBLIC, NULL, "chrony"},   /* by package */
		{"/usr/sbin/chronyd", "", "tcp", 123, CAT_SCOPE_PUBLIC, NULL, NULL},      /* transport */
		{"/usr/sbin/chronyd", "", "udp", 124, CAT_SCOPE_PUBLIC, NULL, NULL},      /* port */
		{"/usr/sbin/chronyd-evil", "", "udp", 123, CAT_SCOPE_PUBLIC, NULL, NULL}, /* exact path */
		{"/usr/lib/apt/methods/https", "", "tcp", 443, CAT_SCOPE_PUBLIC, NULL, "apt"},
		{"/usr/lib/apt/methods/https", "", "udp", 53, CAT_SCOPE_PRIVATE, NULL, "apt"},   /* any/53 */
		{"/usr/lib/apt/methods/x/y", "", "tcp", 443, CAT_SCOPE_PUBLIC, NULL, NULL},      /* glob stops at / */
		{"/usr/lib/apt/methods/https", "", "tcp", 443, CAT_SCOPE_METADATA, NULL, NULL},  /* scope */
		{"/usr/lib/apt/methods/https", "", "tcp", 443, CAT_SCOPE_PUBLIC, "deb.debian.org", "apt"},
		{"/usr/lib/apt/methods/https", "", "tcp", 443, CAT_SCOPE_PUBLIC, "SECURITY.Debian.org.", "apt"},
		{"/usr/lib/apt/methods/https", "", "tcp", 443, CAT_SCOPE_PUBLIC, "debian.org.evil.com", NULL},
		{"/usr/lib/apt/methods/https", "", "tcp", 443, CAT_SCOPE_PUBLIC, "deb.example.org", "apt"},
		{"", "", "udp", 123, CAT_SCOPE_PUBLIC, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct cat_entry *e = cat_match(&c, t[i].exe, t[i].pkg, t[i].tp, t[i].port, t[i].scope, t[i].domain);
		if ((e == NULL) != (t[i].want == NULL) || (e && strcmp(e->name, t[i].want) != 0)) {
			print_error("case %zu: got %s, want %s\n", i, e ? e->name : "none", t[i].want ? t[i].want : "none");
			fail();
		}
	}
	cat_free(&c);
}

static void test_shipped_files_load(void **s)
{
	struct catalogue c;
	cat_init(&c);
	int n = cat_load_dir(&c, "data/catalogue", false);
	for (size_t i = 0; i < c.nerrors; i++)
		print_error("%s\n", c.errors[i]);
	assert_int_equal(c.nerrors, 0);
	assert_true(n >= 30);
	static const char *const required[] = {
		"apt", "unattended-upgrades", "packagekit", "snapd", "systemd-timesyncd", "chrony", "ntpsec",
		"systemd-resolved", "dnsmasq", "unbound", "cloud-init", "amazon-ssm-agent", "aws-guest-agents",
		"google-guest-agent", "azure-guest-agent", "datadog-agent", "telegraf", "zabbix-agent", "fluent-bit",
		"filebeat", "elastic-agent", "wazuh-agent", "osquery", "containerd", "dockerd", "podman", "sshd", "ssh",
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		bool found = false;
		for (size_t k = 0; k < c.n; k++)
			found |= strcmp(c.e[k].name, required[i]) == 0;
		if (!found) {
			print_error("no entry %s\n", required[i]);
			fail();
		}
	}
	/* the ssh client to a port-22 server anywhere */
	struct owl_addr a = A("198.51.100.7");
	const struct cat_entry *e = cat_match(&c, "/usr/bin/ssh", "openssh-client", "tcp", 22, cat_scope_of(&a), NULL);
	assert_non_null(e);
	assert_string_equal(e->name, "ssh");
	cat_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),  cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_long_line_and_nul), cmocka_unit_test(test_replace),
		cmocka_unit_test(test_scope),       cmocka_unit_test(test_match),
		cmocka_unit_test(test_shipped_files_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
