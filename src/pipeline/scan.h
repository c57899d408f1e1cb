/* The scan pipeline: collect → attribute → judge, as plain structs.
 * Later stages (verify, endpoint, store) plug into scan_run(). */
#ifndef OWL_SCAN_H
#define OWL_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "attribute/fdmap.h"
#include "collect/collect.h"
#include "core/model.h"

struct scan_opts {
	struct collect_opts collect;
	const char *proc_root;   /* "/proc" */
	int threads;             /* for the /proc/PID/fd walk; 0 = number of CPUs (max 4) */
	bool all;                /* keep every socket (else the default view) */
};

struct scan_result {
	struct collect_result col;
	struct owl_record *recs;     /* sorted, most suspicious first */
	size_t nrecs;                /* records shown */
	size_t ntotal;               /* sockets found before the view filter */
	struct owl_proc *procs;      /* every owner process, sorted by pid */
	size_t nprocs;
	uint32_t *pidpool;           /* storage behind recs[].pids */
	unsigned pids_seen, pids_denied;
	unsigned procs_gone;         /* owners that exited mid-scan */
	bool is_root;                /* had what it needs to see everything */
	uint64_t time_ns;            /* when the scan started */
};

/* Run a scan.  Returns 0, or -errno when nothing could be collected at all
 * (e.g. -ENOENT for a --netns that names no namespace). */
int scan_run(const struct scan_opts *o, struct scan_result *ret);
void scan_result_free(struct scan_result *r);

/* The process with this pid among r->procs, or NULL. */
struct owl_proc *scan_find_proc(const struct scan_result *r, pid_t pid);

/* The namespace record for an inode, or NULL. */
const struct owl_netns *scan_find_netns(const struct scan_result *r, uint64_t ino);

#endif
