/* `owl contain freeze|thaw`: stop a process, or its whole cgroup, without
 * killing it, so it can be examined and later resumed.
 *
 * Methods, best first:
 *  - cgroup v2 freezer (cgroup.freeze) — whole cgroup only: owl does not
 *    move a process to another v2 cgroup, because that would change its
 *    memory/cpu/io accounting and limits too;
 *  - cgroup v1 freezer controller (freezer.state) — for the whole cgroup,
 *    or for one process by moving it into owl's own freezer cgroup
 *    FREEZER/owl/pid-N (the v1 freezer hierarchy is separate, so nothing
 *    but freezing changes) and back on thaw;
 *  - SIGSTOP / SIGCONT — when no freezer is usable.  Weaker: the process's
 *    parent is told (waitpid WUNTRACED) and anyone allowed to signal it
 *    can resume it with SIGCONT.
 * A frozen task is stopped in the kernel without being told; its sockets
 * stay open (peers see silence, not a close) and it cannot be killed out of
 * the freeze by itself. */
#ifndef OWL_ACT_FREEZE_H
#define OWL_ACT_FREEZE_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/model.h"

enum freeze_method {
	FREEZE_AUTO = 0,
	FREEZE_CGROUP_V2,
	FREEZE_CGROUP_V1,
	FREEZE_SIGNAL,
};

/* What freeze or thaw will do, worked out before doing anything. */
struct freeze_plan {
	pid_t pid;
	uint64_t start_ticks;          /* identity of pid when planned */
	bool whole_cgroup;
	int method;                    /* enum freeze_method */
	char cgroup[OWL_PATH_MAX];     /* the cgroup path (in its hierarchy) acted on */
	char dir[OWL_PATH_MAX];        /* its directory under the mount */
	char orig[OWL_PATH_MAX];       /* v1 single process: its freezer cgroup before (thaw returns it) */
	bool move;                     /* v1 single process: move pid into / out of dir */
};

const char *freeze_method_name(int method); /* "cgroup-v2", "cgroup-v1", "signal" */

/* Plan to freeze pid (whole_cgroup: its cgroup).  force picks a method
 * (FREEZE_AUTO = best available).  Returns 0, -ESRCH (no such process),
 * -EINVAL (whole_cgroup and the process sits in a root cgroup: that would
 * freeze the host), -EPERM (a kernel thread), -EOPNOTSUPP (the forced
 * method is unavailable). */
int freeze_plan_freeze(const char *proc_root, pid_t pid, bool whole_cgroup, int force, struct freeze_plan *ret);

/* Plan to thaw what freeze_plan_freeze()+freeze_apply() froze, found from the
 * live state (owl's freezer cgroup, cgroup.freeze, freezer.state, or a
 * stopped task).  Returns 0, -ESRCH, or -EALREADY when it is not frozen. */
int freeze_plan_thaw(const char *proc_root, pid_t pid, bool whole_cgroup, struct freeze_plan *ret);

/* Carry out a plan.  freeze waits (up to 2 s) until the kernel reports the
 * cgroup frozen or the task stopped.  Returns 0, -ESRCH (process gone, or
 * its pid reused), -ETIMEDOUT (not frozen in time; left freezing), -errno. */
int freeze_apply(const struct freeze_plan *p);
int thaw_apply(const struct freeze_plan *p);

/* Is pid frozen now, and how?  Returns the method (> 0) or 0 when running,
 * -ESRCH when gone; *ret_cgroup gets the frozen cgroup (or "" for a signal). */
int freeze_state(const char *proc_root, pid_t pid, char *ret_cgroup, size_t cgsz);

#endif
