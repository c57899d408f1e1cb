/* owl's own hashing of a cold scan's images, alone (bench-verify.sh):
 * md5 + sha256 of the files named on stdin (one path a line) with
 * digest_batch(), best of RUNS, for one stream per file (as before the
 * multi-buffer hashes) and for the lanes this CPU runs.
 *   bench_digest THREADS RUNS < files */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "verify/digest_batch.h"

#define FILES_MAX 4096

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static struct digest_job jobs[FILES_MAX];

static void run(size_t n, int threads, int runs, enum md5mb_impl impl, int sha_lanes, const char *what)
{
	double best = 1e9, bestcpu = 0;
	for (int r = 0; r < runs; r++) {
		double t = now_ms(), c = cpu_ms();
		digest_batch(jobs, n, threads, impl, sha_lanes);
		t = now_ms() - t;
		c = cpu_ms() - c;
		if (t < best) {
			best = t;
			bestcpu = c;
		}
		for (size_t i = 0; i < n; i++)
			if (jobs[i].rc != 0) {
				fprintf(stderr, "bench_digest: a file could not be hashed (%d)\n", jobs[i].rc);
				exit(1);
			}
	}
	printf("  %-50s wall %6.1f ms   CPU %6.1f ms\n", what, best, bestcpu);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_digest THREADS RUNS < files\n");
		return 2;
	}
	int threads = atoi(argv[1]), runs = atoi(argv[2]);
	size_t n = 0;
	char line[4096];
	while (n < FILES_MAX && fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		int fd = open(line, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0) {
			perror(line);
			return 1;
		}
		jobs[n++] = (struct digest_job){.fd = fd, .size = (uint64_t)st.st_size};
	}
	char what[128];
	printf("owl's hashing alone (digest_batch, %zu files, %d threads, best of %d):\n", n, threads, runs);
	run(n, threads, runs, MD5MB_NONE, 0, "one stream per file (OWL_MD5MB=off)");
	enum md5mb_impl best = md5mb_pick();
	for (int i = MD5MB_AVX2; i <= MD5MB_AVX512; i++) {
		if (!md5mb_supported((enum md5mb_impl)i))
			continue;
		snprintf(what, sizeof(what), "md5 in %s lanes, sha256 by OpenSSL", md5mb_impl_name((enum md5mb_impl)i));
		run(n, threads, runs, (enum md5mb_impl)i, 0, what);
		if (digest_batch_sha_lanes((enum md5mb_impl)i)) {
			snprintf(what, sizeof(what), "md5 and sha256 in %s lanes%s",
				 md5mb_impl_name((enum md5mb_impl)i), (enum md5mb_impl)i == best ? " (owl)" : "");
			run(n, threads, runs, (enum md5mb_impl)i, 1, what);
		}
	}
	return 0;
}
