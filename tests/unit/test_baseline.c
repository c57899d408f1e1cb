/* Baseline entries: destination and port parsing, validation, and the
 * matching rules (identity before trust), table-driven; plus upsert and
 * load against a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/util.h"
#include "store/baseline.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"

static void test_parse_dest(void **s)
{
	static const struct {
		const char *in;
		int rc, type;
		const char *canon;
		int prefix;
	} t[] = {
		{"", 0, BL_DEST_ANY, "", 0},
		{"*", 0, BL_DEST_ANY, "", 0},
		{"203.0.113.7", 0, BL_DEST_CIDR, "203.0.113.7", 32},
		{"203.0.113.7/26", 0, BL_DEST_CIDR, "203.0.113.0/26", 26},
		{"2001:db8:6::2/48", 0, BL_DEST_CIDR, "2001:db8:6::/48", 48},
		{"2001:DB8::1", 0, BL_DEST_CIDR, "2001:db8::1", 128},
		{"::ffff:10.1.2.3", 0, BL_DEST_CIDR, "10.1.2.3", 32},
		{"10.0.0.0/0", 0, BL_DEST_CIDR, "0.0.0.0/0", 0},
		{"Deb.Debian.ORG.", 0, BL_DEST_DOMAIN, "deb.debian.org", 0},
		{"*.example.com", 0, BL_DEST_DOMAIN, "*.example.com", 0},
		{"10.0.0.0/33", -EINVAL, 0, NULL, 0},
		{"10.0.0.0/", -EINVAL, 0, NULL, 0},
		{"10.0.0.0/x", -EINVAL, 0, NULL, 0},
		{"example.com/24", -EINVAL, 0, NULL, 0},
		{"exa mple.com", -EINVAL, 0, NULL, 0},
		{"-bad.com", -EINVAL, 0, NULL, 0},
		{"a..b", -EINVAL, 0, NULL, 0},
		{"1234", -EINVAL, 0, NULL, 0}, /* no letter: not a domain, not an address */
		{"*.", -EINVAL, 0, NULL, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct baseline_entry e;
		memset(&e, 0, sizeof(e));
		int rc = baseline_parse_dest(t[i].in, &e);
		if (rc != t[i].rc || (rc == 0 && (e.dest_type != t[i].type || strcmp(e.dest, t[i].canon) != 0 ||
						  (t[i].type == BL_DEST_CIDR && e.prefix != t[i].prefix)))) {
			print_error("case %zu '%s': rc %d type %d dest '%s' prefix %u\n", i, t[i].in, rc, e.dest_type, e.dest,
				    e.prefix);
			fail();
		}
	}
}

static void test_parse_ports(void **s)
{
	static const struct {
		const char *in;
		int rc;
		uint16_t lo, hi;
	} t[] = {
		{"", 0, 0, 65535},     {"*", 0, 0, 65535},     {"443", 0, 443, 443}, {"8080-8090", 0, 8080, 8090},
		{"0", 0, 0, 0},        {"65535", 0, 65535, 65535}, {"65536", -EINVAL, 0, 0}, {"9-1", -EINVAL, 0, 0},
		{"-1", -EINVAL, 0, 0}, {"1-", -EINVAL, 0, 0},  {"x", -EINVAL, 0, 0},  {"1 2", -EINVAL, 0, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint16_t lo = 7, hi = 7;
		int rc = baseline_parse_ports(t[i].in, &lo, &hi);
		assert_int_equal(rc, t[i].rc);
		if (rc == 0) {
			assert_int_equal(lo, t[i].lo);
			assert_int_equal(hi, t[i].hi);
		} else {
			assert_int_equal(lo, 7); /* untouched on failure */
		}
	}
}

/* an entry from a compact description */
static struct baseline_entry *mk(int kind, const char *exe, const char *pkg, const char *digest, const char *user,
				 const char *unit, const char *dest, const char *ports, const char *tp, const char *note)
{
	static struct baseline_entry e;
	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)kind;
	owl_strlcpy(e.exe, exe, sizeof(e.exe));
	owl_strlcpy(e.package, pkg, sizeof(e.package));
	owl_strlcpy(e.digest, digest, sizeof(e.digest));
	owl_strlcpy(e.user, user, sizeof(e.user));
	owl_strlcpy(e.unit, unit, sizeof(e.unit));
	owl_strlcpy(e.transport, tp, sizeof(e.transport));
	owl_strlcpy(e.note, note, sizeof(e.note));
	owl_strlcpy(e.host, "h", sizeof(e.host));
	assert_int_equal(baseline_parse_dest(dest, &e), 0);
	assert_int_equal(baseline_parse_ports(ports, &e.port_lo, &e.port_hi), 0);
	e.first_seen = e.last_seen = 1;
	e.count = 1;
	return &e;
}

#define L BASELINE_LEARNED
#define A BASELINE_ALLOWED

static void test_match_rules(void **s)
{
	/* the process: /usr/bin/curl, image D1, package curl, verified or not */
	static const struct {
		const char *what;
		int kind;
		const char *exe, *pkg, *digest, *user, *unit, *dest, *ports, *tp;
		bool verified;      /* does verify vouch for the package? */
		const char *id_digest;
		const char *domain;
		bool want;
	} t[] = {
		{"learned, same everything", L, "/usr/bin/curl", "", D1, "root", "x.service", "203.0.113.9", "443", "tcp", false, D1, NULL, true},
		{"learned, other digest", L, "/usr/bin/curl", "", D2, "root", "x.service", "203.0.113.9", "443", "tcp", false, D1, NULL, false},
		{"learned, digest unknown", L, "/usr/bin/curl", "", D1, "root", "x.service", "203.0.113.9", "443", "tcp", false, "", NULL, false},
		{"learned, other user", L, "/usr/bin/curl", "", D1, "www-data", "x.service", "203.0.113.9", "443", "tcp", false, D1, NULL, false},
		{"learned, other unit", L, "/usr/bin/curl", "", D1, "root", "y.service", "203.0.113.9", "443", "tcp", false, D1, NULL, false},
		{"learned, other port", L, "/usr/bin/curl", "", D1, "root", "x.service", "203.0.113.9", "80", "tcp", false, D1, NULL, false},
		{"learned, other transport", L, "/usr/bin/curl", "", D1, "root", "x.service", "203.0.113.9", "443", "udp", false, D1, NULL, false},
		{"learned, other address", L, "/usr/bin/curl", "", D1, "root", "x.service", "203.0.113.10", "443", "tcp", false, D1, NULL, false},
		{"learned /24 aggregation", L, "/usr/bin/curl", "", D1, "root", "x.service", "203.0.113.0/24", "443", "tcp", false, D1, NULL, true},
		{"learned, other exe", L, "/usr/bin/wget", "", D1, "root", "x.service", "203.0.113.9", "443", "tcp", false, D1, NULL, false},
		{"allowed by path+digest, any user/unit", A, "/usr/bin/curl", "", D1, "", "", "203.0.113.0/24", "400-500", "", false, D1, NULL, true},
		{"allowed by path, digest differs", A, "/usr/bin/curl", "", D2, "", "", "", "", "", false, D1, NULL, false},
		{"allowed by path, no digest pinned, unverified", A, "/usr/bin/curl", "", "", "", "", "", "", "", false, D1, NULL, false},
		{"allowed by package, verified", A, "", "curl", "", "", "", "203.0.113.9", "443", "tcp", true, D1, NULL, true},
		{"allowed by package, not verified", A, "", "curl", "", "", "", "203.0.113.9", "443", "tcp", false, D1, NULL, false},
		{"allowed by other package", A, "", "wget", "", "", "", "", "", "", true, D1, NULL, false},
		{"allowed, user restricts", A, "/usr/bin/curl", "", D1, "backup", "", "", "", "", false, D1, NULL, false},
		{"allowed, port range excludes", A, "/usr/bin/curl", "", D1, "", "", "", "1-442", "", false, D1, NULL, false},
		{"allowed, transport restricts", A, "/usr/bin/curl", "", D1, "", "", "", "", "udp", false, D1, NULL, false},
		{"allowed, v6 CIDR vs v4 addr", A, "/usr/bin/curl", "", D1, "", "", "2001:db8::/32", "", "", false, D1, NULL, false},
		{"allowed, domain known and matching", A, "/usr/bin/curl", "", D1, "", "", "*.example.com", "", "", false, D1, "api.example.com", true},
		{"allowed, domain unknown", A, "/usr/bin/curl", "", D1, "", "", "*.example.com", "", "", false, D1, NULL, false},
		{"allowed, domain other", A, "/usr/bin/curl", "", D1, "", "", "*.example.com", "", "", false, D1, "example.com.evil.net", false},
		{"allowed, bare domain vs subdomain", A, "/usr/bin/curl", "", D1, "", "", "example.com", "", "", false, D1, "api.example.com", false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct baseline_entry *e = mk(t[i].kind, t[i].exe, t[i].pkg, t[i].digest, t[i].user, t[i].unit, t[i].dest,
					      t[i].ports, t[i].tp, t[i].kind == A ? "n" : "");
		struct baseline_identity id = {
			.exe = "/usr/bin/curl", .package = "curl", .package_verified = t[i].verified,
			.digest = t[i].id_digest, .user = "root", .unit = "x.service", .container = "",
		};
		struct baseline_dest d = {.port = 443, .transport = "tcp", .domain = t[i].domain};
		assert_int_equal(owl_addr_parse("203.0.113.9", &d.addr), 0);
		struct baseline_rule r;
		baseline_rule_view(e, &r);
		if (baseline_rule_matches(&r, &id, &d) != t[i].want) {
			print_error("case %zu (%s): got %d\n", i, t[i].what, !t[i].want);
			fail();
		}
	}
}

static void test_best_match(void **s)
{
	struct baseline_set set;
	memset(&set, 0, sizeof(set));
	assert_int_equal(baseline_set_add(&set, mk(L, "/usr/bin/curl", "", D1, "root", "", "203.0.113.9", "443", "tcp", "")), 0);
	assert_int_equal(baseline_set_add(&set, mk(A, "/usr/bin/curl", "", D1, "", "", "203.0.113.0/24", "", "", "wide")), 0);
	assert_int_equal(baseline_set_add(&set, mk(A, "/usr/bin/curl", "", D1, "", "", "203.0.113.0/28", "443", "", "narrow")), 0);
	struct baseline_identity id = {.exe = "/usr/bin/curl", .package = "", .digest = D1, .user = "root", .unit = "", .container = ""};
	struct baseline_dest d = {.port = 443, .transport = "tcp"};
	assert_int_equal(owl_addr_parse("203.0.113.9", &d.addr), 0);
	for (int indexed = 0; indexed < 2; indexed++) {
		if (indexed)
			assert_int_equal(baseline_index(&set), 0);
		const struct baseline_rule *m = baseline_match(&set, &id, &d);
		assert_non_null(m);
		assert_string_equal(m->note, "narrow"); /* allowed before learned, then the most specific */
	}
	set.n = 1;
	set.indexed = false;
	assert_ptr_equal(baseline_match(&set, &id, &d), &set.e[0]);
	d.port = 80;
	assert_null(baseline_match(&set, &id, &d));
	set.n = 3;
	baseline_set_free(&set);
}

/* The index finds exactly what a linear search finds. */
static void test_index_agrees(void **s)
{
	static const char *const exes[] = {"/usr/bin/a", "/usr/bin/b", "/usr/bin/c", ""};
	static const char *const dests[] = {"203.0.113.9", "203.0.113.0/24", "", "2001:db8::1"};
	struct baseline_set lin, idx;
	memset(&lin, 0, sizeof(lin));
	memset(&idx, 0, sizeof(idx));
	for (int i = 0; i < 64; i++) {
		const char *exe = exes[(i * 7) % 4];
		struct baseline_entry *e = mk(i % 3 ? L : A, exe, exe[0] ? "" : "pkg", exe[0] ? D1 : "", "root", "",
					      dests[i % 4], i % 5 ? "443" : "", "tcp", i % 3 ? "" : "n");
		e->id = i + 1;
		assert_int_equal(baseline_set_add(&lin, e), 0);
		assert_int_equal(baseline_set_add(&idx, e), 0);
	}
	assert_int_equal(baseline_index(&idx), 0);
	for (int k = 0; k < 4 * 4 * 2; k++) {
		struct baseline_identity id = {.exe = exes[k % 4], .package = "pkg", .package_verified = k & 16,
					       .digest = D1, .user = "root", .unit = "", .container = ""};
		struct baseline_dest d = {.port = (uint16_t)(k & 1 ? 443 : 80), .transport = "tcp"};
		assert_int_equal(owl_addr_parse(k & 2 ? "203.0.113.9" : "2001:db8::1", &d.addr), 0);
		const struct baseline_rule *a = baseline_match(&lin, &id, &d), *b = baseline_match(&idx, &id, &d);
		assert_int_equal(a ? a->id : 0, b ? b->id : 0);
	}
	baseline_set_free(&lin);
	baseline_set_free(&idx);
}

static void test_validate(void **s)
{
	const char *why = NULL;
	struct baseline_entry *e = mk(A, "/usr/bin/curl", "", D1, "", "", "", "", "", "");
	assert_int_equal(baseline_validate(e, &why), -EINVAL);
	assert_non_null(strstr(why, "note"));
	e = mk(A, "", "", "", "", "", "", "", "", "n");
	assert_int_equal(baseline_validate(e, &why), -EINVAL);
	assert_non_null(strstr(why, "program"));
	e = mk(A, "curl", "", "", "", "", "", "", "", "n");
	assert_int_equal(baseline_validate(e, &why), -EINVAL);
	e = mk(A, "/usr/bin/curl", "", "ABC", "", "", "", "", "", "n");
	assert_int_equal(baseline_validate(e, &why), -EINVAL);
	assert_non_null(strstr(why, "digest"));
	e = mk(L, "/usr/bin/curl", "", "", "", "", "", "", "tcp", "");
	assert_int_equal(baseline_validate(e, &why), -EINVAL);
	e = mk(L, "/usr/bin/curl", "", D1, "", "", "", "", "sctp", "");
	assert_int_equal(baseline_validate(e, &why), -EINVAL);
	e = mk(L, "/usr/bin/curl", "", D1, "", "", "", "", "tcp", "");
	assert_int_equal(baseline_validate(e, &why), 0);
}

static void test_upsert_load(void **s)
{
	char dir[] = "/tmp/owl-test-baseline-XXXXXX", path[64], cmd[96];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/owl.db", dir);
	struct store *st = NULL;
	assert_int_equal(store_open(path, STORE_CREATE, &st), 0);
	int64_t id1 = 0, id2 = 0;
	struct baseline_entry *e = mk(L, "/usr/bin/curl", "", D1, "root", "", "203.0.113.9", "443", "tcp", "");
	e->count = 3;
	assert_int_equal(store_tx_begin(st), 0);
	assert_int_equal(baseline_upsert(st, e, BASELINE_ADD, &id1), 0);
	e->count = 2;
	e->last_seen = 50;
	assert_int_equal(baseline_upsert(st, e, BASELINE_ADD, &id2), 0);
	assert_int_equal(id1, id2);
	e->count = 4;
	assert_int_equal(baseline_upsert(st, e, BASELINE_MAX, NULL), 0);
	e = mk(A, "", "curl", "", "", "", "*.example.com", "443", "", "ticket 7");
	assert_int_equal(baseline_upsert(st, e, BASELINE_MAX, &id2), 0);
	assert_int_not_equal(id1, id2);
	e = mk(A, "", "", "", "", "", "", "", "", "no program");
	assert_int_equal(baseline_upsert(st, e, BASELINE_MAX, NULL), -EINVAL);
	assert_int_equal(store_tx_commit(st), 0);
	struct baseline_set set;
	assert_int_equal(baseline_load(st, &set), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.e[0].count, 5); /* 3 + 2, then max(5, 4) */
	assert_int_equal(set.e[0].last_seen, 50);
	assert_int_equal(set.e[0].dest_type, BL_DEST_CIDR);
	assert_int_equal(set.e[1].kind, BASELINE_ALLOWED);
	assert_string_equal(set.e[1].note, "ticket 7");
	assert_int_equal(set.e[1].dest_type, BL_DEST_DOMAIN);
	baseline_set_free(&set);
	int64_t n = 0;
	assert_int_equal(baseline_forget(st, 0, BASELINE_LEARNED, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(baseline_count(st, &n), 0);
	assert_int_equal(n, 1);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_dest),  cmocka_unit_test(test_parse_ports), cmocka_unit_test(test_match_rules),
		cmocka_unit_test(test_best_match),  cmocka_unit_test(test_validate), cmocka_unit_test(test_index_agrees),    cmocka_unit_test(test_upsert_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
