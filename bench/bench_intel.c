/* Threat-intel trie benchmark: load a list of N entries, then time random
 * lookups (half of them addresses on the list).  Built and run by
 * bench-intel.sh. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "endpoint/intel.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t xs(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench_intel LIST.v4 LIST.v6 LOOKUPS\n");
		return 2;
	}
	long lookups = atol(argv[3]);
	struct intel in;
	if (intel_init(&in) < 0)
		return 1;
	double t0 = now();
	if (intel_load_file(&in, argv[1]) < 0 || intel_load_file(&in, argv[2]) < 0) {
		perror("load");
		return 1;
	}
	double tp = now();
	if (intel_finish(&in) < 0)
		return 1;
	double t1 = now();
	printf("load: read and parse %.3f s, sort and build %.3f s\n", tp - t0, t1 - tp);
	printf("load: %zu prefixes (%zu v4, %zu v6), %zu bad lines, in %.3f s\n", intel_count(&in), in.v4.nprefixes,
	       in.v6.nprefixes, in.lists[0].bad + in.lists[1].bad, t1 - t0);
	printf("table: v4 %zu ranges, %zu second-level nodes (%.1f MiB); v6 %zu ranges\n", in.v4.nranges, in.v4.nsubs,
	       (in.v4.nranges * 24.0 + in.v4.npfx * 32.0 + in.v4.nsubs * 257 * 4.0 + 65536 * 12.0) / 1048576,
	       in.v6.nranges);

	/* addresses to look up: random, and random ones that share the top
	 * 16 bits with listed entries (so that lookups walk deep) */
	size_t nq = 1 << 20;
	struct owl_addr *q = malloc(nq * sizeof(*q));
	for (size_t i = 0; i < nq; i++) {
		q[i].family = AF_INET;
		uint32_t a = (uint32_t)xs();
		if (i & 1)
			a = (a & 0x0000ffffu) | ((uint32_t)(xs() % 4) + 1) << 24 | (uint32_t)(xs() & 0xff) << 16;
		uint32_t be = htonl(a);
		memcpy(q[i].bytes, &be, 4);
	}
	size_t hits = 0;
	struct intel_match m;
	double t2 = now();
	for (long i = 0; i < lookups; i++)
		hits += intel_lookup(&in, &q[(size_t)i & (nq - 1)], &m);
	double t3 = now();
	printf("lookups (IPv4): %ld in %.3f s = %.2f million/s (%zu hits)\n", lookups, t3 - t2,
	       (double)lookups / (t3 - t2) / 1e6, hits);
	for (size_t i = 0; i < nq; i++) {
		q[i].family = AF_INET6;
		uint64_t hi = 0x2001000000000000ull | (xs() & 0x0000ffffffffffffull);
		if (i & 1)
			hi = 0x2a00000000000000ull | (xs() & 0x0003ffffffffffffull);
		for (int k = 0; k < 8; k++)
			q[i].bytes[k] = (uint8_t)(hi >> (56 - 8 * k));
		uint64_t lo = xs();
		memcpy(q[i].bytes + 8, &lo, 8);
	}
	hits = 0;
	t2 = now();
	for (long i = 0; i < lookups; i++)
		hits += intel_lookup(&in, &q[(size_t)i & (nq - 1)], &m);
	t3 = now();
	printf("lookups (IPv6): %ld in %.3f s = %.2f million/s (%zu hits)\n", lookups, t3 - t2,
	       (double)lookups / (t3 - t2) / 1e6, hits);
	free(q);
	intel_free(&in);
	return 0;
}
