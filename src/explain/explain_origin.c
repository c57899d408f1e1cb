#include "explain/explain_origin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attribute/origin.h"
#include "attribute/origin_stage.h"
#include "core/addr.h"
#include "core/util.h"
#include "store/stage.h"
#include "timeline/changes.h"

#define CHANGES_SHOWN 25

/* The origin of the target process: the scan's, or computed now (a process
 * without sockets is not among the scan's owners).  *owned is set when the
 * caller must free the result. */
static const struct origin_info *get_info(const struct explain_ctx *x, struct origin_info **owned)
{
	*owned = NULL;
	if (x->tgt.kind != EXPLAIN_PID || !x->proc)
		return NULL;
	if (x->proc->origin)
		return x->proc->origin;
	if (!x->r || !x->r->origin)
		return NULL;
	if (origin_compute(x->r->origin, x->proc_root, x->r, x->proc, owned) < 0)
		return NULL;
	return *owned;
}

static void fmt_time(uint64_t ns, char *buf, size_t sz)
{
	owl_format_time(ns, buf, sz);
}

static void hop_text(struct explain_out *o, int depth, pid_t pid, const char *comm, const char *exe,
		     const char *user, uint64_t start, const char *note)
{
	char line[OWL_PATH_MAX + 512], t[40] = "";
	if (start)
		fmt_time(start, t, sizeof(t));
	snprintf(line, sizeof(line), "%*s%s%d %s%s%s%s%s%s%s%s%s%s", depth * 3, "", depth ? "└─ " : "", (int)pid,
		 comm, exe[0] && strcmp(exe, comm) ? " (" : "", exe[0] && strcmp(exe, comm) ? exe : "",
		 exe[0] && strcmp(exe, comm) ? ")" : "", user[0] ? ", user " : "", user, t[0] ? ", started " : "", t,
		 note ? "  " : "", note ? note : "");
	exo_strings_item(o, line);
}

bool explain_origin_ancestry(const struct explain_ctx *x, struct explain_out *o)
{
	struct origin_info *owned;
	const struct origin_info *oi = get_info(x, &owned);
	if (!oi)
		return false;
	const struct owl_proc *p = x->proc;
	exo_section(o, "ancestry", "HOW IT CAME TO RUN (parent chain)");
	if (o->json) {
		exo_list(o, "parents", NULL);
		for (size_t i = 0; i < oi->nchain; i++) {
			const struct anc_proc *h = oi->chain[i];
			char t[40];
			exo_item(o);
			exo_u64(o, "pid", "pid", (uint64_t)h->pid);
			exo_str(o, "name", "name", h->comm);
			if (h->exe[0])
				exo_str(o, "executable", "executable", h->exe);
			if (h->user[0])
				exo_str(o, "user", "user", h->user);
			if (h->start_ns) {
				fmt_time(h->start_ns, t, sizeof(t));
				exo_str(o, "start", "started", t);
			}
			if (h->unit[0])
				exo_str(o, "unit", "unit", h->unit);
			if (h->exited)
				exo_str(o, "state", "state", "exited (as a tracer recorded it)");
			exo_item_end(o);
		}
		exo_list_end(o);
	} else {
		exo_list(o, "tree", NULL);
		if (oi->chain_truncated)
			exo_text(o, "... (more than %d ancestors)", ANC_MAX_HOPS);
		int depth = 0;
		for (size_t i = oi->nchain; i > 0; i--) {
			const struct anc_proc *h = oi->chain[i - 1];
			hop_text(o, depth++, h->pid, h->comm, h->exe, h->user, h->start_ns,
				 h->exited ? "[exited; as recorded]" : h->reparented ? "[its child was reparented]" : NULL);
		}
		hop_text(o, depth, p->pid, p->comm, p->exe, p->user, p->start_time_ns, "<- this process");
		exo_list_end(o);
	}
	exo_section_end(o);
	origin_info_free(owned);
	return true;
}

void explain_origin_section(const struct explain_ctx *x, struct explain_out *o)
{
	struct origin_info *owned;
	const struct origin_info *oi = get_info(x, &owned);
	if (!oi)
		return;
	exo_section(o, "origin", "USER-DRIVEN OR AUTOMATED?");
	exo_str(o, "origin", "origin", origin_kind_name(oi->kind));
	exo_str(o, "evidence", "because", oi->evidence);
	if (oi->trigger[0])
		exo_str(o, "trigger", "scheduled by", oi->trigger);
	if (oi->unit[0])
		exo_str(o, "unit", "unit", oi->unit);
	if (oi->container_id[0])
		exo_str(o, "container", "container", oi->container_id);
	if (oi->has_user) {
		if (oi->user[0])
			exo_fmt(o, "user", "user", "%s (uid %u)", oi->user, oi->uid);
		else
			exo_fmt(o, "user", "user", "uid %u", oi->uid);
	}
	if (oi->tty[0])
		exo_str(o, "tty", "terminal", oi->tty);
	if (oi->sessionid != UINT32_MAX)
		exo_u64(o, "audit_session", "audit session", oi->sessionid);
	if (oi->session_unit[0])
		exo_str(o, "session_unit", "session", oi->session_unit);
	if (oi->nsshd)
		exo_u64(o, "sshd_pid", "ssh session (sshd pid)", (uint64_t)oi->sshd_pids[0]);
	if (oi->has_ssh_peer) {
		char ip[OWL_ADDRSTR_MAX];
		owl_addr_str(&oi->ssh_peer, ip);
		exo_fmt(o, "ssh_client", "ssh client", oi->ssh_peer.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
			oi->ssh_peer_port);
	} else if (oi->nsshd) {
		exo_str(o, "ssh_client", "ssh client", "unknown (the session's connection was not among the sockets seen)");
	}
	if (oi->unexpected_sev != OWL_SEV_NONE)
		exo_str(o, "unexpected_parent", "unexpected parent", oi->unexpected_reason);
	exo_section_end(o);
	origin_info_free(owned);
}

struct tl_item {
	uint64_t t;
	const char *key;
	char what[512];
};

static int cmp_item(const void *a, const void *b)
{
	const struct tl_item *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

void explain_origin_timeline(const struct explain_ctx *x, struct explain_out *o)
{
	struct origin_info *owned;
	const struct origin_info *oi = get_info(x, &owned);
	if (!oi)
		return;
	const struct proc_timeline *tl = &oi->timeline;
	struct tl_item it[8];
	size_t n = 0;
#define ADD(T, K, ...)                                                          \
	do {                                                                    \
		it[n].t = (T);                                                  \
		it[n].key = (K);                                                \
		snprintf(it[n].what, sizeof(it[n].what), __VA_ARGS__);         \
		n++;                                                            \
	} while (0)
	if (tl->exe_stat_ok) {
		if (tl->exe_btime_ns)
			ADD(tl->exe_btime_ns, "executable_created", "executable created");
		ADD(tl->exe_mtime_ns, "executable_mtime", "executable last written (mtime)");
		ADD(tl->exe_ctime_ns, "executable_ctime", "executable's inode last changed (ctime)");
	}
	if (tl->package[0] && tl->package_installed_ns)
		ADD(tl->package_installed_ns, "package_installed", "package %s installed or upgraded (%s)", tl->package,
		    tl->package_time_source ? tl->package_time_source : "?");
	if (tl->start_ns)
		ADD(tl->start_ns, "process_start", "process started");
	/* the store's first sighting of each connection of the process */
	size_t seen = 0;
	for (size_t i = 0; i < x->nrecs && n < OWL_ARRAY_SIZE(it); i++) {
		const struct baseline_match *bm = x->recs[i]->baseline;
		if (bm && bm->entry && bm->entry->first_seen > 0) {
			ADD((uint64_t)bm->entry->first_seen * 1000000000ull, "connection_first_seen",
			    "owl first saw this process talk to %s (baseline)", bm->entry->dest[0] ? bm->entry->dest : "any destination");
			seen++;
		}
	}
#undef ADD
	qsort(it, n, sizeof(it[0]), cmp_item);
	exo_section(o, "timeline", "TIMELINE");
	exo_list(o, "events", NULL);
	for (size_t i = 0; i < n; i++) {
		char t[40];
		fmt_time(it[i].t, t, sizeof(t));
		exo_item(o);
		if (o->json) {
			exo_str(o, "time", "time", t);
			exo_str(o, "event", "event", it[i].key);
			exo_str(o, "what", "what", it[i].what);
		} else {
			exo_fmt(o, NULL, NULL, "%s  %s", t, it[i].what);
		}
		exo_item_end(o);
	}
	exo_list_end(o);
	if (tl->package_known && !tl->package[0])
		exo_str(o, "package", "package", "none owns the executable");
	else if (!tl->package_known)
		exo_str(o, "package", "package", "not looked up (no verify stage in this build, or no package database)");
	if (!seen)
		exo_str(o, "connection_first_seen", "connections first seen", "not recorded (no baseline entry in the store)");
	exo_section_end(o);
	origin_info_free(owned);
}

void explain_origin_changes(const struct explain_ctx *x, struct explain_out *o)
{
	struct origin_info *owned;
	const struct origin_info *oi = get_info(x, &owned);
	const struct origin_ctx *c = x->r ? x->r->origin : NULL;
	if (!oi || !c)
		return;
	const struct proc_timeline *tl = &oi->timeline;
	char title[96];
	snprintf(title, sizeof(title), "WHAT CHANGED ON THE SYSTEM IN THE %llu DAYS BEFORE IT STARTED",
		 (unsigned long long)(c->window_ns / (86400ull * 1000000000ull)));
	exo_section(o, "changes_before_start", title);
	if (!c->have_changes) {
		exo_fmt(o, "status", NULL, "not collected: %s", strerror(-c->changes_err));
	} else if (!tl->start_ns) {
		exo_str(o, "status", NULL, "the process's start time is unknown");
	} else {
		size_t a, b;
		changes_range(&c->changes, tl->start_ns, c->window_ns, &a, &b);
		exo_u64(o, "count", "changes", b - a);
		if (b - a > CHANGES_SHOWN) {
			exo_fmt(o, "shown", NULL, "the latest %d (owl changes lists them all)", CHANGES_SHOWN);
			a = b - CHANGES_SHOWN;
		}
		exo_list(o, "list", NULL);
		for (size_t i = a; i < b; i++) {
			const struct sys_change *ch = &c->changes.v[i];
			char t[40];
			fmt_time(ch->time_ns, t, sizeof(t));
			exo_item(o);
			if (o->json) {
				exo_str(o, "time", "time", t);
				exo_str(o, "kind", "kind", change_kind_name(ch->kind));
				exo_str(o, "subject", "subject", ch->subject);
				if (ch->detail[0])
					exo_str(o, "detail", "detail", ch->detail);
			} else {
				exo_fmt(o, NULL, NULL, "%s  %-19s %s%s%s%s", t, change_kind_name(ch->kind), ch->subject,
					ch->detail[0] ? "  (" : "", ch->detail, ch->detail[0] ? ")" : "");
			}
			exo_item_end(o);
		}
		exo_list_end(o);
	}
	exo_section_end(o);
	origin_info_free(owned);
}
