#include "render/report_origin.h"

#include <stdio.h>
#include <string.h>

#include "attribute/origin.h"
#include "attribute/origin_stage.h"
#include "core/addr.h"
#include "core/util.h"
#include "store/stage.h"
#include "timeline/changes.h"

#define CHANGES_IN_JSON 5 /* per record; owl changes and owl explain list them all */

static void time_field(struct jsonw *w, const char *key, uint64_t ns)
{
	char t[40];
	if (!ns)
		return;
	owl_format_time(ns, t, sizeof(t));
	jsonw_str(w, key, t);
}

static void hop_fields(struct jsonw *w, const struct anc_proc *h)
{
	char t[24];
	jsonw_u64(w, "pid", (uint64_t)h->pid);
	jsonw_str(w, "name", h->comm);
	if (h->exe[0])
		jsonw_str(w, "executable", h->exe);
	time_field(w, "start", h->start_ns);
	if (h->have_uid) {
		jsonw_obj_open(w, "user");
		snprintf(t, sizeof(t), "%u", h->uid);
		jsonw_str(w, "id", t);
		if (h->user[0])
			jsonw_str(w, "name", h->user);
		jsonw_obj_close(w);
	}
}

void report_origin_parent(struct jsonw *w, const struct owl_proc *p)
{
	const struct origin_info *oi = p->origin;
	if (!oi || !oi->nchain)
		return;
	const struct anc_proc *h = oi->chain[0];
	/* pid (the current ppid) was written by the caller; a recorded parent
	 * of a reparented process is in owl.ancestry only */
	if (h->pid != p->ppid)
		return;
	jsonw_str(w, "name", h->comm);
	if (h->exe[0])
		jsonw_str(w, "executable", h->exe);
	time_field(w, "start", h->start_ns);
	if (h->args0[0]) {
		jsonw_arr_open(w, "args");
		jsonw_str(w, NULL, h->args0);
		jsonw_arr_close(w);
	}
}

void report_origin_head(struct jsonw *w, const struct owl_proc *p)
{
	if (!p || !p->origin)
		return;
	const struct origin_info *oi = p->origin;
	char t[48];

	jsonw_str(w, "origin", origin_kind_name(oi->kind));
	jsonw_str(w, "origin_evidence", oi->evidence);
	if (oi->trigger[0])
		jsonw_str(w, "trigger", oi->trigger);
	if (oi->kind == ORIGIN_USER) {
		jsonw_obj_open(w, "session");
		if (oi->has_user) {
			jsonw_obj_open(w, "user");
			snprintf(t, sizeof(t), "%u", oi->uid);
			jsonw_str(w, "id", t);
			if (oi->user[0])
				jsonw_str(w, "name", oi->user);
			jsonw_obj_close(w);
		}
		if (oi->sessionid != UINT32_MAX)
			jsonw_u64(w, "audit_id", oi->sessionid);
		if (oi->tty[0])
			jsonw_str(w, "tty", oi->tty);
		if (oi->session_unit[0])
			jsonw_str(w, "unit", oi->session_unit);
		if (oi->nsshd)
			jsonw_u64(w, "sshd_pid", (uint64_t)oi->sshd_pids[0]);
		if (oi->has_ssh_peer) {
			char ip[OWL_ADDRSTR_MAX];
			jsonw_obj_open(w, "client");
			jsonw_str(w, "ip", owl_addr_str(&oi->ssh_peer, ip));
			jsonw_u64(w, "port", oi->ssh_peer_port);
			jsonw_obj_close(w);
		}
		jsonw_obj_close(w);
	}

	jsonw_arr_open(w, "ancestry");
	for (size_t i = 0; i < oi->nchain; i++) {
		const struct anc_proc *h = oi->chain[i];
		jsonw_obj_open(w, NULL);
		hop_fields(w, h);
		if (h->exited)
			jsonw_bool(w, "exited", true);
		if (h->reparented)
			jsonw_bool(w, "reparented", true);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
	if (oi->chain_truncated)
		jsonw_bool(w, "ancestry_truncated", true);
}

void report_timeline_head(struct jsonw *w, const struct owl_proc *p)
{
	const struct proc_timeline *tl = &p->origin->timeline;
	time_field(w, "process_start", tl->start_ns);
	if (tl->exe_stat_ok) {
		jsonw_obj_open(w, "executable");
		time_field(w, "mtime", tl->exe_mtime_ns);
		time_field(w, "ctime", tl->exe_ctime_ns);
		time_field(w, "created", tl->exe_btime_ns);
		jsonw_obj_close(w);
	}
	if (tl->package[0]) {
		jsonw_obj_open(w, "package");
		jsonw_str(w, "name", tl->package);
		time_field(w, "installed", tl->package_installed_ns);
		if (tl->package_time_source)
			jsonw_str(w, "installed_source", tl->package_time_source);
		jsonw_obj_close(w);
	}
}

void report_timeline_first_seen(struct jsonw *w, const struct owl_record *rec)
{
	/* the store's first sighting of this (process identity, destination) */
	const struct baseline_match *bm = rec->baseline;
	if (bm && bm->entry && bm->entry->first_seen > 0) {
		time_field(w, "connection_first_seen", (uint64_t)bm->entry->first_seen * 1000000000ull);
		jsonw_str(w, "connection_first_seen_source", 
			  bm->entry->kind == BASELINE_LEARNED ? "baseline learned" : "baseline allowed");
	} else {
		jsonw_str(w, "connection_first_seen", "not recorded");
	}
}

void report_timeline_tail(struct jsonw *w, const struct scan_result *s, const struct owl_proc *p)
{
	const struct proc_timeline *tl = &p->origin->timeline;
	const struct origin_ctx *c = s->origin;
	if (c && c->have_changes && tl->start_ns) {
		size_t a, b;
		changes_range(&c->changes, tl->start_ns, c->window_ns, &a, &b);
		jsonw_u64(w, "changes_before_start", b - a);
		jsonw_arr_open(w, "changes");
		/* the most recent ones before the start */
		size_t from = b - a > CHANGES_IN_JSON ? b - CHANGES_IN_JSON : a;
		for (size_t i = from; i < b; i++) {
			const struct sys_change *ch = &c->changes.v[i];
			jsonw_obj_open(w, NULL);
			time_field(w, "time", ch->time_ns);
			jsonw_str(w, "kind", change_kind_name(ch->kind));
			jsonw_str(w, "subject", ch->subject);
			if (ch->detail[0])
				jsonw_str(w, "detail", ch->detail);
			jsonw_obj_close(w);
		}
		jsonw_arr_close(w);
	}
}

void report_origin_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec)
{
	const struct owl_proc *p = rec->proc;
	if (!p || !p->origin)
		return;
	report_origin_head(w, p);
	jsonw_obj_open(w, "timeline");
	report_timeline_head(w, p);
	report_timeline_first_seen(w, rec);
	report_timeline_tail(w, s, p);
	jsonw_obj_close(w);
}
