/* The baseline stage's rules on one record: documented / new-destination /
 * known-agent, identity before trust (an integrity finding holds a match
 * back), and which findings a benign match lowers.  Records are the plain
 * structs the pipeline passes; the catalogue is parsed from text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/util.h"
#include "judge/judge.h"
#include "store/stage.h"
#include "trace/watch.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"

static const char cat_text[] = "[ssh]\ncategory = remote access\nexecutables = /usr/bin/ssh\nports = tcp/22\n";

struct rcase {
	const char *what;
	const char *exe;
	uint16_t port;
	const char *digest;
	bool verified;
	const char *pre_id;     /* a finding already on the record, or NULL */
	int pre_sev;
	bool with_baseline;
	/* expectations */
	int status;
	const char *ids;        /* finding ids after, sorted, space separated */
	int severity;           /* verdict after */
	const char *reason_of;  /* id whose reason is checked */
	const char *reason;
};

static const struct rcase cases[] = {
	{"allowed pair", "/usr/bin/curl", 443, D1, false, NULL, 0, true, BM_DOCUMENTED, "documented", OWL_SEV_INFO,
	 "documented", "CHG-1 backups (alice)"},
	{"other port: new", "/usr/bin/curl", 444, D1, false, NULL, 0, true, BM_NEW, "new-destination", OWL_SEV_LOW,
	 "new-destination", "/usr/bin/curl to 203.0.113.9 port 444/tcp is not in the baseline"},
	{"other image at the path: new", "/usr/bin/curl", 443, D2, false, NULL, 0, true, BM_NEW, "new-destination",
	 OWL_SEV_LOW, NULL, NULL},
	{"unreadable image: new, said so", "/usr/bin/curl", 443, "", false, NULL, 0, true, BM_NEW, "new-destination",
	 OWL_SEV_LOW, "new-destination", "/usr/bin/curl to 203.0.113.9 port 443/tcp is not in the baseline (running image unreadable)"},
	{"no baseline: nothing", "/usr/bin/curl", 444, D1, false, NULL, 0, false, BM_NO_BASELINE, "", OWL_SEV_NONE, NULL, NULL},
	{"documented lowers port-unusual", "/usr/bin/curl", 443, D1, false, "port-unusual", OWL_SEV_MEDIUM, true,
	 BM_DOCUMENTED, "documented port-unusual", OWL_SEV_INFO, NULL, NULL},
	{"documented keeps exe-unpackaged", "/usr/bin/curl", 443, D1, false, "exe-unpackaged", OWL_SEV_LOW, true,
	 BM_DOCUMENTED, "documented exe-unpackaged", OWL_SEV_LOW, NULL, NULL},
	{"integrity holds the allowance back", "/usr/bin/curl", 443, D1, false, "preload", OWL_SEV_HIGH, true,
	 BM_HELD_BACK, "preload", OWL_SEV_HIGH, NULL, NULL},
	{"exe-modified holds it back too", "/usr/bin/curl", 443, D1, false, "exe-modified", OWL_SEV_CRITICAL, true,
	 BM_HELD_BACK, "exe-modified", OWL_SEV_CRITICAL, NULL, NULL},
	{"verified ssh: known-agent", "/usr/bin/ssh", 22, D2, true, NULL, 0, false, BM_NO_BASELINE, "known-agent",
	 OWL_SEV_INFO, "known-agent", "ssh (remote access)"},
	{"verified ssh with a baseline: new, lowered", "/usr/bin/ssh", 22, D2, true, NULL, 0, true, BM_NEW,
	 "known-agent new-destination", OWL_SEV_INFO, NULL, NULL},
	{"unverified ssh: no known-agent", "/usr/bin/ssh", 22, D2, false, NULL, 0, false, BM_NO_BASELINE, "",
	 OWL_SEV_NONE, NULL, NULL},
	{"verified ssh, other port: no known-agent", "/usr/bin/ssh", 2022, D2, true, NULL, 0, false, BM_NO_BASELINE, "",
	 OWL_SEV_NONE, NULL, NULL},
	{"verified ssh, name-mismatch: no known-agent", "/usr/bin/ssh", 22, D2, true, "name-mismatch", OWL_SEV_HIGH,
	 false, BM_NO_BASELINE, "name-mismatch", OWL_SEV_HIGH, NULL, NULL},
	{"ioc-match: no known-agent, nothing lowered", "/usr/bin/ssh", 22, D2, true, "ioc-match", OWL_SEV_HIGH,
	 false, BM_NO_BASELINE, "ioc-match", OWL_SEV_HIGH, NULL, NULL},
};

static void ids_of(const struct owl_record *rec, char *buf, size_t n)
{
	const char *ids[OWL_FINDINGS_MAX];
	uint32_t k = rec->nfindings;
	for (uint32_t i = 0; i < k; i++)
		ids[i] = rec->findings[i].id;
	for (uint32_t i = 1; i < k; i++)
		for (uint32_t j = i; j > 0 && strcmp(ids[j - 1], ids[j]) > 0; j--) {
			const char *t = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	buf[0] = '\0';
	for (uint32_t i = 0; i < k; i++) {
		if (i)
			strncat(buf, " ", n - strlen(buf) - 1);
		strncat(buf, ids[i], n - strlen(buf) - 1);
	}
}

static void test_rules(void **s)
{
	static struct baseline_entry e;
	memset(&e, 0, sizeof(e));
	e.kind = BASELINE_ALLOWED;
	strcpy(e.exe, "/usr/bin/curl");
	strcpy(e.digest, D1);
	assert_int_equal(baseline_parse_dest("203.0.113.0/24", &e), 0);
	e.port_lo = e.port_hi = 443;
	strcpy(e.note, "CHG-1 backups (alice)");
	strcpy(e.host, "h");
	struct baseline_set with, without;
	memset(&with, 0, sizeof(with));
	memset(&without, 0, sizeof(without));
	assert_int_equal(baseline_set_add(&with, &e), 0);
	assert_int_equal(baseline_index(&with), 0);
	struct catalogue cat;
	cat_init(&cat);
	assert_int_equal(cat_parse(&cat, "t", cat_text, sizeof(cat_text) - 1, false), 1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		static struct owl_proc p;
		struct owl_record rec;
		struct baseline_match m;
		memset(&p, 0, sizeof(p));
		memset(&rec, 0, sizeof(rec));
		memset(&m, 0, sizeof(m));
		p.pid = 42;
		strcpy(p.comm, "x");
		strcpy(p.exe, c->exe);
		rec.proc = &p;
		rec.conn.transport = OWL_TP_TCP;
		rec.conn.direction = OWL_DIR_EGRESS;
		assert_int_equal(owl_addr_parse("203.0.113.9", &rec.conn.raddr), 0);
		rec.conn.rport = c->port;
		assert_true(baseline_candidate(&rec));
		static struct bm_identity id;
		memset(&id, 0, sizeof(id));
		m.id = &id;
		strcpy(id.digest, c->digest);
		id.verified = c->verified;
		if (c->verified)
			strcpy(id.package, "openssh-client");
		if (c->pre_id)
			judge_add(&rec, c->pre_id, (enum owl_severity)c->pre_sev, "pre");
		/* a port-unusual finding rides along in the lowering cases */
		if (c->pre_id && strcmp(c->pre_id, "ioc-match") == 0)
			judge_add(&rec, "port-unusual", OWL_SEV_MEDIUM, "pre");
		baseline_judge_record(c->with_baseline ? &with : &without, &cat, &rec, &m);
		judge_verdict(&rec);
		char ids[256];
		ids_of(&rec, ids, sizeof(ids));
		const char *want_ids = c->ids;
		char alt[256];
		if (c->pre_id && strcmp(c->pre_id, "ioc-match") == 0) {
			snprintf(alt, sizeof(alt), "ioc-match port-unusual");
			want_ids = alt;
		}
		bool ok = m.status == c->status && strcmp(ids, want_ids) == 0 && rec.severity == c->severity;
		if (ok && c->reason_of) {
			const char *r = NULL;
			for (uint32_t k = 0; k < rec.nfindings; k++)
				if (strcmp(rec.findings[k].id, c->reason_of) == 0)
					r = rec.findings[k].reason;
			ok = r && strncmp(r, c->reason, strlen(c->reason)) == 0;
		}
		if (!ok) {
			print_error("case %zu (%s): status %d ids '%s' severity %d\n", i, c->what, m.status, ids, rec.severity);
			fail();
		}
		/* an integrity finding never loses its severity */
		for (uint32_t k = 0; k < rec.nfindings; k++)
			if (c->pre_id && strcmp(rec.findings[k].id, c->pre_id) == 0 && strcmp(c->pre_id, "port-unusual") != 0)
				assert_int_equal(rec.findings[k].severity, c->pre_sev);
		judge_free_findings(&rec, 1);
	}
	cat_free(&cat);
	baseline_set_free(&with);
}

/* A domain allowance matches when a live event knows the name the process
 * resolved (owl_record.trace), and only then. */
static void test_domain(void **s)
{
	static struct baseline_entry e;
	memset(&e, 0, sizeof(e));
	e.kind = BASELINE_ALLOWED;
	strcpy(e.exe, "/usr/bin/curl");
	strcpy(e.digest, D1);
	assert_int_equal(baseline_parse_dest("*.example.com", &e), 0);
	e.port_lo = e.port_hi = 443;
	strcpy(e.note, "api calls");
	strcpy(e.host, "h");
	struct baseline_set set;
	memset(&set, 0, sizeof(set));
	assert_int_equal(baseline_set_add(&set, &e), 0);
	struct catalogue cat;
	cat_init(&cat);
	static const char *const names[] = {"api.example.com", "example.com.evil.net", NULL};
	static const int want[] = {BM_DOCUMENTED, BM_NEW, BM_NEW};
	for (int i = 0; i < 3; i++) {
		static struct owl_proc p;
		struct owl_record rec;
		struct baseline_match m;
		struct trace_info ti;
		memset(&p, 0, sizeof(p));
		memset(&rec, 0, sizeof(rec));
		memset(&m, 0, sizeof(m));
		memset(&ti, 0, sizeof(ti));
		strcpy(p.exe, "/usr/bin/curl");
		rec.proc = &p;
		rec.conn.transport = OWL_TP_TCP;
		rec.conn.direction = OWL_DIR_EGRESS;
		rec.conn.rport = 443;
		assert_int_equal(owl_addr_parse("198.51.100.20", &rec.conn.raddr), 0);
		if (names[i]) {
			strcpy(ti.domain, names[i]);
			rec.trace = &ti;
		}
		static struct bm_identity id;
		memset(&id, 0, sizeof(id));
		m.id = &id;
		strcpy(id.digest, D1);
		baseline_judge_record(&set, &cat, &rec, &m);
		assert_int_equal(m.status, want[i]);
		judge_free_findings(&rec, 1);
	}
	cat_free(&cat);
	baseline_set_free(&set);
}

/* watch adds findings after the stage: settle applies the rule again */
static void test_settle(void **s)
{
	for (int documented = 0; documented < 2; documented++)
		for (int integrity = 0; integrity < 2; integrity++) {
			struct owl_record rec;
			struct baseline_match m;
			memset(&rec, 0, sizeof(rec));
			memset(&m, 0, sizeof(m));
			m.status = documented ? BM_DOCUMENTED : BM_NEW;
			rec.baseline = &m;
			judge_add(&rec, "beaconing", OWL_SEV_MEDIUM, "every 60 s");
			if (integrity)
				judge_add(&rec, "preload", OWL_SEV_HIGH, "LD_PRELOAD");
			baseline_settle(&rec);
			judge_verdict(&rec);
			int want = integrity ? OWL_SEV_HIGH : documented ? OWL_SEV_INFO : OWL_SEV_MEDIUM;
			assert_int_equal(rec.severity, want);
			assert_int_equal(rec.findings[0].severity, documented && !integrity ? OWL_SEV_INFO : OWL_SEV_MEDIUM);
			judge_free_findings(&rec, 1);
		}
}

static void test_candidates(void **s)
{
	static struct owl_proc p;
	struct owl_record rec;
	memset(&rec, 0, sizeof(rec));
	rec.proc = &p;
	rec.conn.transport = OWL_TP_TCP;
	rec.conn.direction = OWL_DIR_EGRESS;
	rec.conn.rport = 443;
	assert_int_equal(owl_addr_parse("198.51.100.1", &rec.conn.raddr), 0);
	assert_true(baseline_candidate(&rec));
	rec.conn.direction = OWL_DIR_INGRESS;
	assert_false(baseline_candidate(&rec));
	rec.conn.direction = OWL_DIR_EGRESS;
	assert_int_equal(owl_addr_parse("127.0.0.1", &rec.conn.raddr), 0);
	assert_false(baseline_candidate(&rec)); /* loopback */
	assert_int_equal(owl_addr_parse("2001:db8::1", &rec.conn.raddr), 0);
	assert_true(baseline_candidate(&rec));
	rec.conn.rport = 0;
	assert_false(baseline_candidate(&rec)); /* unconnected */
	rec.conn.rport = 53;
	rec.conn.transport = OWL_TP_RAW;
	assert_false(baseline_candidate(&rec));
	rec.conn.transport = OWL_TP_UDP;
	assert_true(baseline_candidate(&rec));
	p.gone = true;
	assert_false(baseline_candidate(&rec)); /* vanished: nothing to identify */
	rec.proc = NULL;
	assert_false(baseline_candidate(&rec));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_candidates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
