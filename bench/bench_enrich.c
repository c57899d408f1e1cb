/* What one watch enrichment costs in the verify stage: a one-record,
 * one-process scan_result (as src/trace/watch.c builds it) put through
 * verify_stage_run() RUNS times, each with a fresh scan_result that stays
 * alive until the end (watch keeps each enrichment's result, and with it
 * its verify context, while it caches it), timing each run.  The first run pays whatever a process pays once; the
 * median of the others is what every later enrichment pays.
 *
 * usage: bench_enrich PID [RUNS]   (bench/bench-enrich.sh builds and runs it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model.h"
#include "attribute/procinfo.h"
#include "pipeline/scan.h"
#include "verify/verify.h"
#include "judge/judge.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_enrich PID [RUNS]\n");
		return 2;
	}
	pid_t pid = (pid_t)strtol(argv[1], NULL, 10);
	int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 20;
	if (runs < 2 || runs > 10000)
		runs = 20;
	static struct owl_proc proto;
	if (procinfo_load("/proc", pid, &proto) < 0) {
		fprintf(stderr, "bench_enrich: pid %d: gone\n", (int)pid);
		return 1;
	}
	struct scan_opts o;
	memset(&o, 0, sizeof(o));
	o.proc_root = "/proc";
	double *t = calloc((size_t)runs, sizeof(*t));
	struct scan_result **keep = calloc((size_t)runs, sizeof(*keep));
	if (!t || !keep)
		return 1;
	for (int i = 0; i < runs; i++) {
		struct scan_result *s = calloc(1, sizeof(*s));
		struct owl_record *rec = calloc(1, sizeof(*rec));
		struct owl_proc *p = calloc(1, sizeof(*p));
		uint32_t *pids = calloc(1, sizeof(*pids));
		if (!s || !rec || !p || !pids)
			return 1;
		*p = proto;
		pids[0] = (uint32_t)pid;
		rec->proc = p;
		rec->pids = pids;
		rec->npids = 1;
		s->recs = rec;
		s->nrecs = s->ntotal = 1;
		s->procs = p;
		s->nprocs = 1;
		s->pidpool = pids;
		double t0 = now_ms();
		int rc = verify_stage_run(&o, s);
		double t1 = now_ms();
		const char *state = p->verify ? verify_state_name(p->verify->state) : "-";
		if (i == 0)
			printf("bench_enrich: pid %d (%s): verify state %s%s%s\n", (int)pid, p->exe, state,
			       p->verify && p->verify->note[0] ? ": " : "", p->verify ? p->verify->note : "");
		t[i] = t1 - t0;
		if (rc < 0) {
			fprintf(stderr, "bench_enrich: verify stage: %s\n", strerror(-rc));
			return 1;
		}
		keep[i] = s;
	}
	for (int i = 0; i < runs; i++) {
		struct scan_result *s = keep[i];
		verify_ctx_free(s->verify);
		judge_free_findings(s->recs, 1);
		free(s->pidpool);
		free(s->procs);
		free(s->recs);
		free(s);
	}
	free(keep);
	double first = t[0];
	qsort(t + 1, (size_t)runs - 1, sizeof(*t), cmpd);
	printf("bench_enrich: verify stage of one enrichment: first %.2f ms, then median %.2f ms (min %.2f, max %.2f) over %d runs\n",
	       first, t[1 + (runs - 1) / 2], t[1], t[runs - 1], runs - 1);
	free(t);
	return 0;
}
