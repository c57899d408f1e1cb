#include "cli/explain_origin.h"

#include <string.h>
#include <sys/socket.h>

#include "attribute/origin.h"
#include "attribute/origin_stage.h"
#include "core/addr.h"
#include "core/buf.h"
#include "core/util.h"
#include "render/escape.h"
#include "store/stage.h"
#include "timeline/changes.h"

static void esc(FILE *out, const char *s)
{
	struct owl_buf b;
	owl_buf_init(&b);
	owl_escape(&b, s, strlen(s), OWL_ESC_TEXT);
	fputs(owl_buf_str(&b), out);
	owl_buf_free(&b);
}

static void when(FILE *out, uint64_t ns)
{
	char t[40];
	owl_format_time(ns, t, sizeof(t));
	fputs(t, out);
}

static void hop_line(FILE *out, int depth, pid_t pid, const char *comm, const char *exe, const char *user,
		     uint32_t uid, bool have_uid, uint64_t start, const char *note)
{
	fprintf(out, "  %*s%s", depth * 3, "", depth ? "└─ " : "");
	fprintf(out, "%d ", (int)pid);
	esc(out, comm);
	if (exe[0] && strcmp(exe, comm) != 0) {
		fputs(" (", out);
		esc(out, exe);
		fputc(')', out);
	}
	if (user[0]) {
		fputs(" user ", out);
		esc(out, user);
	} else if (have_uid) {
		fprintf(out, " uid %u", uid);
	}
	if (start) {
		fputs(", started ", out);
		when(out, start);
	}
	if (note)
		fprintf(out, "  %s", note);
	fputc('\n', out);
}

void explain_ancestry(FILE *out, const struct owl_proc *p)
{
	const struct origin_info *oi = p->origin;
	if (!oi)
		return;
	fputs("ancestry:\n", out);
	int depth = 0;
	if (oi->chain_truncated)
		fprintf(out, "  ... (more than %d ancestors)\n", ANC_MAX_HOPS);
	for (size_t i = oi->nchain; i > 0; i--) {
		const struct anc_proc *h = oi->chain[i - 1];
		const char *note = h->exited ? "[exited; as recorded]" : h->reparented ? "[its child was reparented]" : NULL;
		hop_line(out, depth++, h->pid, h->comm, h->exe, h->user, h->uid, h->have_uid, h->start_ns, note);
	}
	hop_line(out, depth, p->pid, p->comm, p->exe, p->user, p->uid, p->have_status, p->start_time_ns,
		 "<- this process");
}

void explain_origin(FILE *out, const struct owl_proc *p)
{
	const struct origin_info *oi = p->origin;
	if (!oi)
		return;
	fprintf(out, "origin: %s — ", origin_kind_name(oi->kind));
	esc(out, oi->evidence);
	fputc('\n', out);
	if (oi->trigger[0]) {
		fputs("  scheduled by ", out);
		esc(out, oi->trigger);
		fputc('\n', out);
	}
	if (oi->unit[0] && oi->kind != ORIGIN_USER) {
		fputs("  unit ", out);
		esc(out, oi->unit);
		fputc('\n', out);
	}
	if (oi->container_id[0]) {
		fputs("  container ", out);
		esc(out, oi->container_id);
		fputc('\n', out);
	}
	if (oi->kind != ORIGIN_USER)
		return;
	fputs("  user ", out);
	if (oi->has_user) {
		if (oi->user[0])
			esc(out, oi->user);
		fprintf(out, " (uid %u)", oi->uid);
	} else {
		fputs("unknown", out);
	}
	if (oi->tty[0])
		fprintf(out, ", terminal %s", oi->tty);
	if (oi->sessionid != UINT32_MAX)
		fprintf(out, ", audit session %u", oi->sessionid);
	if (oi->session_unit[0]) {
		fputs(", ", out);
		esc(out, oi->session_unit);
	}
	if (oi->nsshd) {
		fprintf(out, ", ssh session (sshd pid %d", (int)oi->sshd_pids[0]);
		if (oi->has_ssh_peer) {
			char ip[OWL_ADDRSTR_MAX];
			owl_addr_str(&oi->ssh_peer, ip);
			fprintf(out, oi->ssh_peer.family == AF_INET6 ? " from [%s]:%u" : " from %s:%u", ip, oi->ssh_peer_port);
		}
		fputc(')', out);
	}
	fputc('\n', out);
}

struct tl_item {
	uint64_t t;
	char what[400];
};

static int cmp_item(const void *a, const void *b)
{
	const struct tl_item *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

void explain_timeline(FILE *out, const struct scan_result *s, const struct owl_record *rec)
{
	const struct owl_proc *p = rec->proc;
	if (!p || !p->origin)
		return;
	const struct proc_timeline *tl = &p->origin->timeline;
	struct tl_item it[6];
	size_t n = 0;
	char pkg[300];
	fputs("timeline:\n", out);
	if (tl->exe_stat_ok && tl->exe_btime_ns) {
		it[n].t = tl->exe_btime_ns;
		snprintf(it[n++].what, sizeof(it[0].what), "executable created");
	}
	if (tl->exe_stat_ok) {
		it[n].t = tl->exe_mtime_ns;
		snprintf(it[n++].what, sizeof(it[0].what), "executable last written (mtime)");
		it[n].t = tl->exe_ctime_ns;
		snprintf(it[n++].what, sizeof(it[0].what), "executable inode last changed (ctime)");
	}
	if (tl->package[0] && tl->package_installed_ns) {
		owl_escape_to(pkg, sizeof(pkg), tl->package, strlen(tl->package), OWL_ESC_TEXT);
		it[n].t = tl->package_installed_ns;
		snprintf(it[n++].what, sizeof(it[0].what), "package %s installed or upgraded (%s)", pkg,
			 tl->package_time_source ? tl->package_time_source : "?");
	}
	if (tl->start_ns) {
		it[n].t = tl->start_ns;
		snprintf(it[n++].what, sizeof(it[0].what), "process started");
	}
	const struct baseline_match *bm = rec->baseline;
	bool seen = bm && bm->entry && bm->entry->first_seen > 0;
	if (seen) {
		it[n].t = (uint64_t)bm->entry->first_seen * 1000000000ull;
		snprintf(it[n++].what, sizeof(it[0].what), "owl first saw this process talk to this destination (baseline)");
	}
	qsort(it, n, sizeof(it[0]), cmp_item);
	for (size_t i = 0; i < n; i++) {
		fputs("  ", out);
		when(out, it[i].t);
		fprintf(out, "  %s\n", it[i].what);
	}
	if (tl->package_known && !tl->package[0])
		fputs("  (no package owns the executable)\n", out);
	else if (!tl->package_known)
		fputs("  (owning package: not looked up)\n", out);
	if (!seen)
		fputs("  connection first seen: not recorded\n", out);
	(void)s;
}

void explain_changes(FILE *out, const struct scan_result *s, const struct owl_proc *p, size_t max)
{
	const struct origin_ctx *c = s->origin;
	if (!p->origin || !c)
		return;
	const struct proc_timeline *tl = &p->origin->timeline;
	fprintf(out, "changes in the %llu days before it started:\n",
		(unsigned long long)(c->window_ns / (86400ull * 1000000000ull)));
	if (!c->have_changes) {
		fprintf(out, "  (could not be collected: %s)\n", strerror(-c->changes_err));
		return;
	}
	if (!tl->start_ns) {
		fputs("  (start time unknown)\n", out);
		return;
	}
	size_t a, b;
	changes_range(&c->changes, tl->start_ns, c->window_ns, &a, &b);
	if (a == b) {
		fputs("  none found\n", out);
		return;
	}
	if (max && b - a > max) {
		fprintf(out, "  ... %zu earlier (owl changes lists them all)\n", b - a - max);
		a = b - max;
	}
	for (size_t i = a; i < b; i++) {
		const struct sys_change *ch = &c->changes.v[i];
		fputs("  ", out);
		when(out, ch->time_ns);
		fprintf(out, "  %-19s ", change_kind_name(ch->kind));
		esc(out, ch->subject);
		if (ch->detail[0]) {
			fputs("  (", out);
			esc(out, ch->detail);
			fputc(')', out);
		}
		fputc('\n', out);
	}
}
