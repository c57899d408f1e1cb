/* The owner map alone, each backend K times (min and median, ms):
 * fdmap_build_bpf (load, walk) and fdmap_build (the /proc walk, T threads).
 * Built and run by bench/bench-owners.sh against a live load; every socket
 * inode is wanted (want = NULL), as many as owl scan --all would ask for. */
#include <stdio.h>
#include <stdlib.h>

#include "attribute/fdmap.h"
#include "core/util.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void report(const char *name, uint64_t *v, int k)
{
	qsort(v, (size_t)k, sizeof(*v), cmp_u64);
	printf("  %-22s min %7.1f ms  median %7.1f ms\n", name, (double)v[0] / 1e6, (double)v[k / 2] / 1e6);
}

int main(int argc, char **argv)
{
	int k = argc > 1 ? atoi(argv[1]) : 5, threads = argc > 2 ? atoi(argv[2]) : 2;
	if (k < 1 || k > 1000)
		k = 5;
	uint64_t *load = calloc((size_t)k, 8), *walk = calloc((size_t)k, 8), *bt = calloc((size_t)k, 8),
		 *proc = calloc((size_t)k, 8), *rd = calloc((size_t)k, 8);
	size_t nown[2] = {0, 0};
	unsigned seen[2] = {0, 0};
	if (!load || !walk || !bt || !proc || !rd)
		return 1;
	for (int i = 0; i < k; i++) {
		struct fdmap m;
		struct fdmap_how how = {0};
		const char *step = NULL;
		if (fdmap_bpf_usable("/proc", &step) < 0) {
			fprintf(stderr, "bench_owners: the BPF iterator cannot run: %s\n", step);
			return 1;
		}
		uint64_t t0 = owl_mono_ns();
		int rc = fdmap_build_bpf(&m, NULL, &how);
		bt[i] = owl_mono_ns() - t0;
		if (rc < 0) {
			fprintf(stderr, "bench_owners: bpf: %s: %d %s\n", how.bpf_step, rc, how.bpf_msg);
			return 1;
		}
		load[i] = how.load_ns;
		walk[i] = how.walk_ns;
		rd[i] = how.read_ns;
		nown[0] = m.nowners;
		seen[0] = m.pids_seen;
		fdmap_free(&m);
		t0 = owl_mono_ns();
		rc = fdmap_build(&m, "/proc", NULL, threads);
		proc[i] = owl_mono_ns() - t0;
		if (rc < 0)
			return 1;
		nown[1] = m.nowners;
		seen[1] = m.pids_seen;
		fdmap_free(&m);
	}
	printf("owner map, %d runs (bpf: %zu owners, %u processes; proc: %zu owners, %u processes)\n", k, nown[0],
	       seen[0], nown[1], seen[1]);
	report("bpf load", load, k);
	report("bpf walk", walk, k);
	report("  of which read()", rd, k);
	report("bpf total", bt, k);
	char name[32];
	snprintf(name, sizeof(name), "proc walk, %d threads", threads);
	report(name, proc, k);
	return 0;
}
