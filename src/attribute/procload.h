/* procinfo_load for many processes, on threads (the owners of a scan). */
#ifndef OWL_PROCLOAD_H
#define OWL_PROCLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

/* procinfo_load(proc_root, pids[i], &procs[i]) for every i, split over up
 * to `threads` threads (1..8; fewer for few processes).  A process that is
 * gone is marked so by procinfo_load, as in a single-threaded loop. */
void procload_many(const char *proc_root, const uint32_t *pids, size_t n, struct owl_proc *procs, int threads);
/* The same with procinfo_load_ex's flags. */
void procload_many_ex(const char *proc_root, const uint32_t *pids, size_t n, unsigned flags, struct owl_proc *procs,
		      int threads);

#endif
