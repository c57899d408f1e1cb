/* judge: findings in interned sets — sharing, copy on change, the
 * OWL_FINDINGS_MAX replacement rule, reference counts back to zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "judge/fset.h"
#include "judge/judge.h"

static void test_shared_sets(void **state)
{
	(void)state;
	struct owl_record r[3];
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) {
		judge_add(&r[i], "exe-unpackaged", OWL_SEV_LOW, "no installed package owns %s", "/opt/x");
		judge_add(&r[i], "recent-binary", OWL_SEV_LOW, "changed at %d", 5);
	}
	/* same story, one set */
	assert_ptr_equal(r[0].findings, r[1].findings);
	assert_ptr_equal(r[1].findings, r[2].findings);
	assert_int_equal(r[0].nfindings, 2);
	assert_int_equal(fset_count(), 1);
	/* a change copies: the others keep theirs */
	judge_add(&r[2], "high-volume", OWL_SEV_MEDIUM, "250 connections");
	assert_ptr_not_equal(r[2].findings, r[0].findings);
	assert_int_equal(r[0].nfindings, 2);
	assert_int_equal(r[2].nfindings, 3);
	assert_int_equal(r[2].severity, OWL_SEV_MEDIUM);
	assert_string_equal(r[2].findings[2].reason, "250 connections");
	assert_int_equal(fset_count(), 2);
	judge_set_severity(&r[2], 2, OWL_SEV_INFO);
	assert_int_equal(r[2].findings[2].severity, OWL_SEV_INFO);
	judge_verdict(&r[2]);
	assert_int_equal(r[2].severity, OWL_SEV_LOW);
	/* sharing takes a reference */
	struct owl_record w;
	memset(&w, 0, sizeof(w));
	judge_share_findings(&w, &r[0]);
	assert_ptr_equal(w.findings, r[0].findings);
	judge_free_findings(r, 3);
	assert_int_equal(fset_count(), 1);
	assert_string_equal(w.findings[0].reason, "no installed package owns /opt/x");
	judge_free_findings(&w, 1);
	assert_int_equal(fset_count(), 0);
	assert_null(w.findings);
}

static void test_full_replaces_least_severe(void **state)
{
	(void)state;
	struct owl_record r;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < OWL_FINDINGS_MAX; i++)
		judge_add(&r, "port-unusual", i == 3 ? OWL_SEV_INFO : OWL_SEV_LOW, "n%d", i);
	assert_int_equal(r.nfindings, OWL_FINDINGS_MAX);
	judge_add(&r, "port-unusual", OWL_SEV_INFO, "ignored");
	assert_int_equal(r.nfindings, OWL_FINDINGS_MAX);
	assert_string_equal(r.findings[3].reason, "n3");
	judge_add(&r, "preload", OWL_SEV_HIGH, "LD_PRELOAD");
	assert_string_equal(r.findings[3].reason, "LD_PRELOAD");
	assert_int_equal(r.severity, OWL_SEV_HIGH);
	assert_true(judge_has(&r, "preload"));
	judge_free_findings(&r, 1);
	assert_int_equal(fset_count(), 0);
}

static void test_reason_bounded(void **state)
{
	(void)state;
	struct owl_record r;
	char big[1000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memset(&r, 0, sizeof(r));
	judge_add(&r, "exe-unpackaged", OWL_SEV_LOW, "%s", big);
	assert_int_equal(strlen(r.findings[0].reason), OWL_REASON_MAX - 1);
	judge_free_findings(&r, 1);
}

static void test_memo(void **state)
{
	(void)state;
	struct owl_record tmpl[2], r[8], plain[8];
	memset(tmpl, 0, sizeof(tmpl));
	memset(r, 0, sizeof(r));
	memset(plain, 0, sizeof(plain));
	judge_add(&tmpl[0], "recent-binary", OWL_SEV_LOW, "changed");
	judge_add(&tmpl[1], "unexpected-parent", OWL_SEV_MEDIUM, "parent is nc");
	struct judge_memo *m = judge_memo_new();
	assert_non_null(m);
	for (int i = 0; i < 8; i++) {
		/* two kinds of starting sets, two templates */
		judge_add(&r[i], "exe-unpackaged", OWL_SEV_LOW, "no package owns /opt/%d", i % 2);
		judge_add(&plain[i], "exe-unpackaged", OWL_SEV_LOW, "no package owns /opt/%d", i % 2);
		judge_add_all_memo(m, &r[i], &tmpl[i % 4 < 2 ? 0 : 1]);
		judge_add_all(&plain[i], &tmpl[i % 4 < 2 ? 0 : 1]);
	}
	for (int i = 0; i < 8; i++) {
		assert_ptr_equal(r[i].findings, plain[i].findings); /* interned: the same set */
		assert_int_equal(r[i].nfindings, 2);
		assert_int_equal(r[i].severity, plain[i].severity);
	}
	assert_int_equal(r[2].severity, OWL_SEV_MEDIUM);
	/* an empty template changes nothing; an empty record shares */
	struct owl_record empty, fresh;
	memset(&empty, 0, sizeof(empty));
	memset(&fresh, 0, sizeof(fresh));
	judge_add_all_memo(m, &r[0], &empty);
	assert_int_equal(r[0].nfindings, 2);
	judge_add_all_memo(m, &fresh, &tmpl[1]);
	assert_ptr_equal(fresh.findings, tmpl[1].findings);
	assert_int_equal(fresh.severity, OWL_SEV_MEDIUM);
	judge_memo_free(m);
	judge_free_findings(r, 8);
	judge_free_findings(plain, 8);
	judge_free_findings(tmpl, 2);
	judge_free_findings(&fresh, 1);
	assert_int_equal(fset_count(), 0);
}

/* the order the report promises: severity down, owners by (comm, pid),
 * namespace, transport, IPv4 before IPv6, peer address, ports, inode */
static int ref_cmp(const struct owl_record *x, const struct owl_record *y)
{
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if (!!x->proc != !!y->proc)
		return x->proc ? -1 : 1;
	if (x->proc && y->proc) {
		int c = strcmp(x->proc->comm, y->proc->comm);
		if (c)
			return c;
		if (x->proc->pid != y->proc->pid)
			return x->proc->pid < y->proc->pid ? -1 : 1;
	}
	if (x->conn.netns_ino != y->conn.netns_ino)
		return x->conn.netns_ino < y->conn.netns_ino ? -1 : 1;
	if (x->conn.transport != y->conn.transport)
		return x->conn.transport < y->conn.transport ? -1 : 1;
	if (x->conn.raddr.family != y->conn.raddr.family)
		return x->conn.raddr.family == 2 ? -1 : 1;
	int c = memcmp(x->conn.raddr.bytes, y->conn.raddr.bytes, 16);
	if (c)
		return c;
	if (x->conn.rport != y->conn.rport)
		return x->conn.rport < y->conn.rport ? -1 : 1;
	if (x->conn.lport != y->conn.lport)
		return x->conn.lport < y->conn.lport ? -1 : 1;
	return (x->conn.inode > y->conn.inode) - (x->conn.inode < y->conn.inode);
}

static void test_sort_order(void **state)
{
	(void)state;
	static struct owl_proc procs[6];
	const char *comms[] = {"sshd", "curl", "curl", "a", "zz", "curl"};
	for (int i = 0; i < 6; i++) {
		memset(&procs[i], 0, sizeof(procs[i]));
		strcpy(procs[i].comm, comms[i]);
		procs[i].pid = 1000 - i * 7;
	}
	enum { N = 5000 };
	static struct owl_record r[N];
	unsigned seed = 12345;
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < N; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			seed = seed * 1103515245 + 12345;
			unsigned v = seed >> 8;
			r[i].severity = (uint8_t)(v % 3);
			r[i].proc = v % 7 == 6 ? NULL : &procs[v % 7 % 6];
			r[i].conn.netns_ino = 4026531840ull + (v >> 3) % 3;
			r[i].conn.transport = (uint8_t)((v >> 5) % 2);
			bool v6 = (v >> 7) % 3 == 0;
			r[i].conn.raddr.family = v6 ? 10 : 2;
			/* few distinct addresses, some IPv6 ones sharing the first 4 bytes */
			r[i].conn.raddr.bytes[0] = (uint8_t)((v >> 9) % 2 ? 192 : 10);
			r[i].conn.raddr.bytes[3] = (uint8_t)((v >> 11) % 4);
			if (v6)
				r[i].conn.raddr.bytes[15] = (uint8_t)((v >> 13) % 3);
			r[i].conn.rport = (uint16_t)((v >> 15) % 5);
			r[i].conn.lport = (uint16_t)((v >> 18) % 4);
			r[i].conn.inode = seed % 1000;
		}
		judge_sort(r, N);
		for (size_t i = 1; i < N; i++)
			assert_true(ref_cmp(&r[i - 1], &r[i]) <= 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_sets),
		cmocka_unit_test(test_full_replaces_least_severe),
		cmocka_unit_test(test_reason_bounded),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_sort_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
