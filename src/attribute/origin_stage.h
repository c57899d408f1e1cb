/* The "origin" stage of a scan: ancestry, origin, timeline and the
 * unexpected-parent / recent-binary findings for every owner process. */
#ifndef OWL_ORIGIN_STAGE_H
#define OWL_ORIGIN_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "attribute/ancestry.h"
#include "attribute/origin.h"
#include "pipeline/scan.h"
#include "timeline/changes.h"

#define ORIGIN_WINDOW_NS (7ull * 86400 * 1000000000ull) /* "recent", and what precedes a start */
#define ORIGIN_CHANGES_MAX_AGE_NS (400ull * 86400 * 1000000000ull)

/* Lives in scan_result.origin; owns every owl_proc.origin of the scan. */
struct changes_share;

struct origin_ctx {
	struct ancestry *anc;
	struct origin_info *infos;     /* one per scan_result.procs[i] */
	size_t ninfos;
	struct changes changes;        /* system changes from the oldest start - window to the scan
					* (a view of a list shared between runs for a minute: do not free) */
	struct changes_share *share;
	bool have_changes;
	int changes_err;               /* -errno when they could not be collected */
	uint64_t window_ns;
	uint64_t now_ns;
};

/* Processes that exited but were seen by a tracer: every scan's ancestry
 * cache asks fn (see ancestry_lookup_fn) for a pid /proc no longer has,
 * and for the recorded parent of a live process that was reparented.
 * `owl watch` registers a lookup in its exec records.  NULL = none. */
void origin_set_history(ancestry_lookup_fn fn, void *ud);

/* The stage (scan_stages[]): never fails for a missing log or a vanished
 * process; -ENOMEM only. */
int origin_stage(const struct scan_opts *o, struct scan_result *r);

/* The same on an existing context (for callers that fill the ancestry
 * cache themselves): fills r->procs[i].origin and adds findings. */
int origin_run(struct origin_ctx *c, const char *proc_root, struct scan_result *r);

/* The same for one process that is not among r->procs (explain of a pid
 * that holds no socket): *ret is new, free it with origin_info_free().
 * Returns 0 or -ENOMEM. */
int origin_compute(struct origin_ctx *c, const char *proc_root, const struct scan_result *r,
		   const struct owl_proc *p, struct origin_info **ret);

/* Read the host's change list on a thread (a scan starts it before
 * collecting; the origin stage then finds it ready).  NULL when not
 * worth it (a fake proc root) or not possible; join frees it. */
struct origin_prefetch;
struct origin_prefetch *origin_prefetch_start(const char *proc_root, uint64_t now_ns);
void origin_prefetch_join(struct origin_prefetch *p);

int origin_ctx_new(const char *proc_root, struct origin_ctx **ret);
void origin_ctx_free(struct origin_ctx *c);

/* recent-binary: the executable changed after its package installed it, or
 * an unpackaged one (or any in a world-writable place) was created or
 * changed within window_ns of now.  Returns true and a reason. */
bool origin_recent_binary(const struct proc_timeline *tl, uint64_t now_ns, uint64_t window_ns, char *reason,
			  size_t reasonsz);

#endif
