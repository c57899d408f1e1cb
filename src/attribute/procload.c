#include "attribute/procload.h"

#include <pthread.h>
#include <stdbool.h>

#include "attribute/procinfo.h"

#define MAX_THREADS 8
#define MIN_PER_THREAD 32 /* a thread costs more than reading a few processes */

struct part {
	const char *proc_root;
	const uint32_t *pids;
	struct owl_proc *procs;
	size_t from, n, step;
	unsigned flags;
};

static void *load_part(void *arg)
{
	struct part *p = arg;
	for (size_t i = p->from; i < p->n; i += p->step)
		procinfo_load_ex(p->proc_root, (pid_t)p->pids[i], p->flags, &p->procs[i]);
	return NULL;
}

void procload_many(const char *proc_root, const uint32_t *pids, size_t n, struct owl_proc *procs, int threads)
{
	procload_many_ex(proc_root, pids, n, 0, procs, threads);
}

void procload_many_ex(const char *proc_root, const uint32_t *pids, size_t n, unsigned flags, struct owl_proc *procs,
		      int threads)
{
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if ((size_t)threads > n / MIN_PER_THREAD)
		threads = (int)(n / MIN_PER_THREAD);
	if (threads < 1)
		threads = 1;
	(void)procinfo_boot_ns(); /* its cache is filled once, before the threads */
	struct part parts[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	bool started[MAX_THREADS] = {false};
	/* interleaved: neighbouring pids (one program's workers) spread out */
	for (int t = 0; t < threads; t++)
		parts[t] = (struct part){proc_root, pids, procs, (size_t)t, n, (size_t)threads, flags};
	for (int t = 1; t < threads; t++)
		started[t] = pthread_create(&tid[t], NULL, load_part, &parts[t]) == 0;
	load_part(&parts[0]);
	for (int t = 1; t < threads; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			load_part(&parts[t]);
	}
}
