/* The owner map: the BPF iterator's records (fdmap_from_records) give the
 * map the /proc walk gives (fdmap_build).  The records are written here as
 * the kernel program writes them (bpf/owl_fditer.h); the live iterator is
 * compared with the /proc walk in tests/integration/owners.bats.  The fake
 * proc root holds real symlinks "socket:[N]", which is what readlink
 * returns for /proc/PID/fd/N. */
#include <errno.h>
#include <linux/types.h>
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

#include "attribute/bpf/owl_fditer.h"
#include "attribute/fdmap.h"

#define R(t, f, i) {.tgid = (t), .fd = (f), .ino = (i)}
#define MARK(t) {.tgid = (t), .fd = -1, .ino = 0}

struct rec_case {
	const char *name;
	struct owl_fditer_rec recs[16];
	size_t nrecs;
	uint64_t want[4];       /* 0-terminated; none = every inode */
	/* expected: "ino=pid:fd,pid:fd" for each inode, in this order */
	const char *owners[6];
	uint64_t absent[3];     /* inodes that must not be in the map */
	unsigned pids_seen;
};

static const struct rec_case cases[] = {
	{"one process, one socket", {MARK(10), R(10, 3, 500)}, 2, {0}, {"500=10:3"}, {0}, 1},
	{"shared by fork, pid order", {MARK(10), R(10, 3, 500), MARK(11), R(11, 3, 500)}, 4, {0},
	 {"500=10:3,11:3"}, {0}, 2},
	{"lowest fd per pid", {MARK(10), R(10, 9, 500), R(10, 4, 500), R(10, 7, 500)}, 4, {0}, {"500=10:4"}, {0}, 1},
	/* a thread with its own file table comes later under its tgid: the
	 * first socket is in both tables, listed once */
	{"private file table of a thread", {MARK(10), R(10, 3, 500), MARK(20), R(20, 3, 600), MARK(10), R(10, 3, 500),
	  R(10, 5, 700)}, 7, {0}, {"500=10:3", "600=20:3", "700=10:5"}, {0}, 2},
	{"out of order: a new head", {R(30, 5, 500), R(10, 8, 500), R(10, 2, 500)}, 3, {0}, {"500=10:2,30:5"}, {0}, 0},
	{"out of order: into the middle", {R(10, 1, 500), R(30, 1, 500), R(20, 6, 500), R(20, 4, 500), R(40, 1, 500)},
	 5, {0}, {"500=10:1,20:4,30:1,40:1"}, {0}, 0},
	{"out of order: tail then middle duplicate", {R(10, 1, 500), R(30, 9, 500), R(20, 6, 500), R(30, 2, 500)},
	 4, {0}, {"500=10:1,20:6,30:2"}, {0}, 0},
	{"want filters", {MARK(10), R(10, 3, 500), R(10, 4, 501), R(10, 5, 502)}, 4, {501, 502, 0},
	 {"501=10:4", "502=10:5"}, {500}, 1},
	{"inode 0 and tgid 0 are skipped", {R(0, 3, 500), R(10, 3, 0), R(10, 4, 501)}, 3, {0}, {"501=10:4"}, {500, 0},
	 0},
	{"markers alone count processes", {MARK(1), MARK(2), MARK(2), MARK(3)}, 4, {0}, {NULL}, {0}, 3},
};

static void expect_owners(const struct fdmap *m, const char *spec)
{
	unsigned long long ino;
	char list[256];
	assert_int_equal(sscanf(spec, "%llu=%255s", &ino, list), 2);
	uint32_t j;
	assert_true(owl_u64map_get(&m->head, ino, &j));
	char got[256] = "";
	size_t n = 0;
	for (size_t steps = 0; j != UINT32_MAX && steps <= m->nowners; steps++, j = m->owners[j].next)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%u:%d", n ? "," : "", m->owners[j].pid,
				      m->owners[j].fd);
	assert_string_equal(got, list);
}

static void test_records(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct rec_case *k = &cases[c];
		struct owl_u64map want;
		bool use_want = k->want[0] != 0;
		if (use_want) {
			assert_int_equal(owl_u64map_init(&want, 4), 0);
			for (size_t i = 0; k->want[i]; i++)
				assert_int_equal(owl_u64map_put(&want, k->want[i], 0), 0);
		}
		struct fdmap m;
		print_message("case: %s\n", k->name);
		assert_int_equal(fdmap_from_records(&m, k->recs, k->nrecs * sizeof(k->recs[0]), use_want ? &want : NULL),
				 0);
		size_t nino = 0;
		for (size_t i = 0; i < 6 && k->owners[i]; i++, nino++)
			expect_owners(&m, k->owners[i]);
		assert_int_equal(m.head.n, nino);
		for (size_t i = 0; i < 3 && k->absent[i]; i++) {
			uint32_t j;
			assert_false(owl_u64map_get(&m.head, k->absent[i], &j));
		}
		assert_int_equal(m.pids_seen, k->pids_seen);
		assert_int_equal(m.pids_denied, 0);
		fdmap_free(&m);
		if (use_want)
			owl_u64map_free(&want);
	}
}

static void test_partial_record(void **state)
{
	(void)state;
	struct owl_fditer_rec r[2] = {R(10, 3, 500), R(11, 3, 600)};
	struct fdmap m;
	/* a record and a half: the half is ignored */
	assert_int_equal(fdmap_from_records(&m, r, sizeof(r[0]) + 7, NULL), 0);
	assert_int_equal(m.nowners, 1);
	fdmap_free(&m);
	assert_int_equal(fdmap_from_records(&m, r, 0, NULL), 0);
	assert_int_equal(m.nowners, 0);
	fdmap_free(&m);
}

/* Both backends on the same holdings: 40 processes, sockets shared in
 * patterns, the records in a scrambled order with duplicates. */
static void test_same_as_proc_walk(void **state)
{
	(void)state;
	char root[] = "/tmp/owl-test-fdmap-XXXXXX";
	assert_non_null(mkdtemp(root));
	struct owl_fditer_rec recs[2048];
	size_t n = 0;
	char path[512];
	for (uint32_t pid = 100; pid < 140; pid++) {
		snprintf(path, sizeof(path), "%s/%u", root, pid);
		assert_int_equal(mkdir(path, 0755), 0);
		snprintf(path, sizeof(path), "%s/%u/fd", root, pid);
		assert_int_equal(mkdir(path, 0755), 0);
		for (int fd = 3; fd < 20; fd++) {
			uint64_t ino = 1000 + (pid * 7 + (uint32_t)fd * 13) % 97; /* collisions: shared sockets */
			char link[64];
			snprintf(path, sizeof(path), "%s/%u/fd/%d", root, pid, fd);
			if (fd % 5 == 0)
				snprintf(link, sizeof(link), "/dev/null"); /* not a socket */
			else
				snprintf(link, sizeof(link), "socket:[%llu]", (unsigned long long)ino);
			assert_int_equal(symlink(link, path), 0);
			if (fd % 5)
				recs[n++] = (struct owl_fditer_rec){.tgid = pid, .fd = fd, .ino = ino};
		}
	}
	/* scramble deterministically, then repeat a third of them (threads
	 * with their own table) */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (i * 2654435761u) % (i + 1);
		struct owl_fditer_rec t = recs[i];
		recs[i] = recs[j];
		recs[j] = t;
	}
	size_t base = n;
	for (size_t i = 0; i < base; i += 3)
		recs[n++] = recs[i];

	struct owl_u64map want;
	assert_int_equal(owl_u64map_init(&want, 64), 0);
	for (uint64_t ino = 1000; ino < 1097; ino += 2)
		assert_int_equal(owl_u64map_put(&want, ino, 0), 0);
	for (int w = 0; w < 2; w++) {
		struct fdmap a, b;
		assert_int_equal(fdmap_build(&a, root, w ? &want : NULL, 2), 0);
		assert_int_equal(fdmap_from_records(&b, recs, n * sizeof(recs[0]), w ? &want : NULL), 0);
		assert_int_equal(a.nowners, b.nowners);
		assert_int_equal(a.head.n, b.head.n);
		for (uint64_t ino = 1000; ino < 1097; ino++) {
			uint32_t ja, jb;
			bool ha = owl_u64map_get(&a.head, ino, &ja), hb = owl_u64map_get(&b.head, ino, &jb);
			assert_int_equal(ha, hb);
			if (!ha)
				continue;
			for (;;) {
				assert_int_equal(ja == UINT32_MAX, jb == UINT32_MAX);
				if (ja == UINT32_MAX)
					break;
				assert_int_equal(a.owners[ja].pid, b.owners[jb].pid);
				assert_int_equal(a.owners[ja].fd, b.owners[jb].fd);
				ja = a.owners[ja].next;
				jb = b.owners[jb].next;
			}
		}
		fdmap_free(&a);
		fdmap_free(&b);
	}
	owl_u64map_free(&want);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

static void test_usable(void **state)
{
	(void)state;
	const char *step = NULL;
	/* a fake proc root is walked, never iterated */
	assert_int_equal(fdmap_bpf_usable("/tmp/fakeproc", &step), -ENOTSUP);
	assert_string_equal(step, "not the real /proc");
	struct fdmap m;
	struct fdmap_how how;
	assert_int_equal(fdmap_build_any(&m, "/nonexistent-proc-root", NULL, 1, FDMAP_BPF, NULL, &how), -ENOTSUP);
	assert_int_equal(how.bpf_err, -ENOTSUP);
	/* auto falls back to the walk (which then fails on the missing root) */
	assert_true(fdmap_build_any(&m, "/nonexistent-proc-root", NULL, 1, FDMAP_AUTO, NULL, &how) < 0);
	assert_int_equal(how.used, FDMAP_PROC);
	assert_string_equal(how.bpf_step, "not the real /proc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_partial_record),
		cmocka_unit_test(test_same_as_proc_walk),
		cmocka_unit_test(test_usable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
