/* The parent chain of a process, up to pid 1, read once per process per run.
 *
 * An ancestry cache loads each ancestor from /proc the first time it is
 * asked for and keeps it for the run, so two connections of one shell's
 * children cost one read of the shell.  Processes that have exited keep what
 * a caller saw of them (`owl watch` records every exec): ancestry_add_known()
 * hands such a record in, and the chain then goes through it where the
 * kernel has already reparented the child to init or a subreaper. */
#ifndef OWL_ANCESTRY_H
#define OWL_ANCESTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/model.h"

#define ANC_MAX_HOPS 48   /* deeper chains are cut (and marked truncated) */

/* What owl keeps of one process for its descendants' ancestry. */
struct anc_proc {
	pid_t pid, ppid;
	uint32_t uid;
	bool have_uid;
	uint64_t start_ns;          /* wall clock, 0 if unknown */
	int tty_nr;
	uint32_t loginuid;          /* UINT32_MAX = unset */
	uint32_t sessionid;         /* UINT32_MAX = unset */
	uint64_t pidns_ino;
	char comm[OWL_COMM_MAX];
	char exe[OWL_PATH_MAX];     /* "" when unreadable */
	char args0[256];            /* argv[0] (sshd writes "sshd: user@pts/0" here) */
	char user[OWL_USER_MAX];
	char unit[OWL_UNIT_MAX];    /* systemd unit from the cgroup */
	char container_id[OWL_CONTAINER_MAX];
	bool user_session;          /* cgroup under user-N.slice / session-N.scope */
	bool exited;                /* from a caller's record, no longer in /proc */
	bool reparented;            /* the chain follows a recorded parent, not the current ppid */
};

struct ancestry;

/* A cache reading processes under proc_root ("/proc").  Returns 0 or -ENOMEM. */
int ancestry_new(const char *proc_root, struct ancestry **ret);
void ancestry_free(struct ancestry *a);

/* Fill an anc_proc from an already loaded owl_proc. */
void ancestry_from_proc(const struct owl_proc *p, struct anc_proc *ret);

/* Tell the cache about a process that may have exited, as a tracer saw it
 * (pid, ppid, start_ns, comm, exe, uid at exec).  When /proc no longer has
 * that pid (or has a newer process under it), the chain uses this record;
 * when the live process with the same start time has been reparented to
 * pid 1 (or another ancestor), the chain follows the recorded ppid.
 * Returns 0 or -ENOMEM. */
int ancestry_add_known(struct ancestry *a, const struct anc_proc *known);

/* Put an already loaded live process into the cache (a no-op when the pid
 * is cached) and return the cache's copy, or NULL on ENOMEM. */
const struct anc_proc *ancestry_seed(struct ancestry *a, const struct anc_proc *h);

/* A source of records of exited processes, asked on a miss: fill *ret for
 * pid and return 0, or return -ENOENT.  `owl watch` answers from its exec
 * records.  The answer is cached for the life of the cache. */
typedef int (*ancestry_lookup_fn)(pid_t pid, struct anc_proc *ret, void *ud);
void ancestry_set_lookup(struct ancestry *a, ancestry_lookup_fn fn, void *ud);

/* The process pid as the cache knows it (loading it on first use), or NULL
 * when it is gone and no record of it was given.  The pointer lives as long
 * as the cache. */
const struct anc_proc *ancestry_get(struct ancestry *a, pid_t pid);

/* The chain above p: parent first, up to and including pid 1 (or the last
 * process that could be read).  chain[] receives pointers owned by the
 * cache.  Stops at loops, at ANC_MAX_HOPS (*ret_truncated set) and at a
 * parent that started after its child (pid reuse).  Returns the number of
 * hops (0 for pid 1 or an orphan whose parent is gone). */
size_t ancestry_chain(struct ancestry *a, const struct anc_proc *p, const struct anc_proc **chain, size_t max,
		      bool *ret_truncated);

#endif
