/* How a process came to run: user-driven (which user, which session),
 * a service, a scheduled job, a container, or unknown — with the evidence
 * that decided it; and the `unexpected-parent` rule (the web-shell pattern).
 *
 * The rules are pure functions over a process and its parent chain (see
 * ancestry.h), so they are tested without a live system.  The scan stage
 * (origin_stage.c) fills struct origin_info for every owner process. */
#ifndef OWL_ORIGIN_H
#define OWL_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attribute/ancestry.h"
#include "core/model.h"
#include "timeline/timeline.h"

enum origin_kind {
	ORIGIN_UNKNOWN = 0,
	ORIGIN_USER,
	ORIGIN_SERVICE,
	ORIGIN_SCHEDULED,
	ORIGIN_CONTAINER,
};

#define ORIGIN_EVIDENCE_MAX 320
#define ORIGIN_SSHD_MAX 4

struct origin_info {
	uint8_t kind;                         /* enum origin_kind */
	char evidence[ORIGIN_EVIDENCE_MAX];   /* one line: what decided it (untrusted text inside) */
	pid_t decided_by;                     /* the process (self or ancestor) that decided it, 0 = none */

	/* user-driven: which user and which session */
	bool has_user;
	uint32_t uid;                         /* login uid when set, else the session process's uid */
	char user[OWL_USER_MAX];
	uint32_t sessionid;                   /* audit session, UINT32_MAX = none */
	char tty[32];                         /* "pts/3", "tty1", "" */
	char session_unit[OWL_UNIT_MAX];      /* session-N.scope, "" */
	pid_t sshd_pids[ORIGIN_SSHD_MAX];     /* sshd processes of the session, nearest first */
	size_t nsshd;
	bool has_ssh_peer;                    /* the sshd session's remote end (filled by the stage) */
	struct owl_addr ssh_peer;
	uint16_t ssh_peer_port;

	/* service / scheduled */
	char unit[OWL_UNIT_MAX];              /* the systemd unit, "" */
	char trigger[OWL_UNIT_MAX];           /* scheduled by: "cron", "atd", "anacron", "foo.timer" */

	/* container */
	char container_id[OWL_CONTAINER_MAX];

	/* ancestry: parent first; pointers owned by the stage's ancestry cache */
	const struct anc_proc *chain[ANC_MAX_HOPS];
	size_t nchain;
	bool chain_truncated;

	/* unexpected-parent: OWL_SEV_NONE when the rule did not fire */
	uint8_t unexpected_sev;
	char unexpected_reason[OWL_REASON_MAX];

	/* timeline of the process and its executable */
	struct proc_timeline timeline;
};

/* Where the rules look for systemd timer units ("" or "/" = this system). */
struct origin_env {
	const char *root;
};

/* Classify self (whose chain, parent first, is chain[0..n)).  Fills the
 * origin fields of *ret (kind, evidence, user, session, unit, trigger,
 * container); leaves chain, timeline and unexpected-* alone. */
void origin_classify(const struct anc_proc *self, const struct anc_proc *const *chain, size_t n,
		     const struct origin_env *env, struct origin_info *ret);

/* Does the process hold a listening TCP socket?  Supplied by the caller
 * (the scan knows every socket's owners); may be NULL. */
typedef bool (*origin_listens_fn)(pid_t pid, void *ud);

/* The unexpected-parent rule.
 *  1. web shell: self, or a process between self and the service, is a
 *     shell, interpreter or network tool, and an ancestor below the first
 *     session boundary (sshd, login, cron, atd, a container boundary, pid 1)
 *     is a network-facing service: known by name (web servers, PHP-FPM,
 *     application servers, databases, mail servers) or seen holding a
 *     listening TCP socket.  By name: high for shells and network tools,
 *     medium for interpreters; by socket only: one level lower.
 *  2. a parent that should never spawn another program (databases, caches,
 *     DNS and time daemons) has a child running a different executable:
 *     medium (high when the child is a shell or network tool).
 * sshd, login, cron and systemd spawning shells are never flagged.
 * Returns the severity (OWL_SEV_NONE when it does not fire) and writes the
 * reason into reason[reasonsz]. */
enum owl_severity origin_unexpected_parent(const struct anc_proc *self, const struct anc_proc *const *chain,
					   size_t n, origin_listens_fn listens, void *ud, char *reason,
					   size_t reasonsz);

/* Program classes (by executable base name, else comm). */
bool origin_is_shell(const struct anc_proc *p);
bool origin_is_interpreter(const struct anc_proc *p);
bool origin_is_network_tool(const struct anc_proc *p);
bool origin_is_net_service(const struct anc_proc *p);

/* "user", "service", "scheduled", "container", "unknown" */
const char *origin_kind_name(int kind);

/* Name of a controlling tty from /proc/PID/stat's tty_nr: "pts/3", "tty1",
 * "ttyS0", or "tty(MAJ:MIN)".  "" for 0. */
void origin_tty_name(int tty_nr, char *buf, size_t bufsz);

/* Free an origin_info (NULL is fine). */
void origin_info_free(struct origin_info *oi);

#endif
