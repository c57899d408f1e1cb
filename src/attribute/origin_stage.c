#include "attribute/origin_stage.h"
#include "attribute/procinfo.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/hashmap.h"
#include "core/util.h"
#include "judge/judge.h"
#include "verify/verify.h"

/* a file written within this much after the package's unpack is the unpack */
#define PKG_SLACK_NS (600ull * 1000000000ull)

/* The system's changes are collected once a minute at most: `owl watch`
 * runs this stage for every new (program, endpoint) pair. */
#define CHANGES_TTL_NS (60ull * 1000000000ull)

struct changes_share {
	struct changes c;
	uint64_t since_ns, made_ns;
	unsigned refs;
	int err;
};

static struct changes_share *shared;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

static void share_put_locked(struct changes_share *s)
{
	if (s && --s->refs == 0) {
		changes_free(&s->c);
		free(s);
	}
}

/* A reference to a change list covering [since, now], or NULL on ENOMEM. */
static struct changes_share *share_get(uint64_t since, uint64_t now)
{
	pthread_mutex_lock(&shared_lock);
	struct changes_share *s = shared;
	if (s && s->since_ns <= since && now >= s->made_ns && now - s->made_ns < CHANGES_TTL_NS) {
		s->refs++;
		pthread_mutex_unlock(&shared_lock);
		return s;
	}
	s = calloc(1, sizeof(*s));
	if (s) {
		struct changes_opts co = {.root = NULL, .since_ns = since, .until_ns = 0};
		s->err = changes_collect(&co, &s->c);
		s->since_ns = since;
		s->made_ns = now;
		s->refs = 2; /* the caller's and the cache's */
		share_put_locked(shared);
		shared = s;
	}
	pthread_mutex_unlock(&shared_lock);
	return s;
}

static void share_put(struct changes_share *s)
{
	pthread_mutex_lock(&shared_lock);
	share_put_locked(s);
	pthread_mutex_unlock(&shared_lock);
}

/* ---- the change list, read on a thread while the scan collects ---- */

struct origin_prefetch {
	pthread_t th;
	uint64_t since, now;
};

static void *prefetch_main(void *arg)
{
	struct origin_prefetch *p = arg;
	share_put(share_get(p->since, p->now)); /* it stays in the cache */
	return NULL;
}

struct origin_prefetch *origin_prefetch_start(const char *proc_root, uint64_t now_ns)
{
	/* the change list is the host's own: only for a scan of the real /proc */
	if (!proc_root || strcmp(proc_root, "/proc") != 0 || !now_ns)
		return NULL;
	uint64_t boot = procinfo_boot_ns();
	if (!boot || boot > now_ns)
		return NULL;
	struct origin_prefetch *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	/* no process started before boot: this window covers what origin_run
	 * will ask for, whatever the owners are */
	p->since = boot > ORIGIN_WINDOW_NS ? boot - ORIGIN_WINDOW_NS : 0;
	if (now_ns > ORIGIN_CHANGES_MAX_AGE_NS && p->since < now_ns - ORIGIN_CHANGES_MAX_AGE_NS)
		p->since = now_ns - ORIGIN_CHANGES_MAX_AGE_NS;
	p->now = now_ns;
	if (pthread_create(&p->th, NULL, prefetch_main, p) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

void origin_prefetch_join(struct origin_prefetch *p)
{
	if (!p)
		return;
	pthread_join(p->th, NULL);
	free(p);
}

static ancestry_lookup_fn history_fn;
static void *history_ud;

void origin_set_history(ancestry_lookup_fn fn, void *ud)
{
	history_fn = fn;
	history_ud = ud;
}

int origin_ctx_new(const char *proc_root, struct origin_ctx **ret)
{
	struct origin_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int rc = ancestry_new(proc_root, &c->anc);
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->window_ns = ORIGIN_WINDOW_NS;
	*ret = c;
	return 0;
}

void origin_ctx_free(struct origin_ctx *c)
{
	if (!c)
		return;
	ancestry_free(c->anc);
	free(c->infos);
	share_put(c->share);
	free(c);
}

static void fmt_time(uint64_t ns, char *buf, size_t sz)
{
	owl_format_time(ns, buf, sz);
}

bool origin_recent_binary(const struct proc_timeline *tl, uint64_t now_ns, uint64_t window_ns, char *reason,
			  size_t reasonsz)
{
	if (!tl->exe_stat_ok)
		return false;
	uint64_t changed = timeline_changed_ns(tl);
	char a[40], b[40];
	if (tl->package[0] && tl->package_installed_ns) {
		if (changed > tl->package_installed_ns + PKG_SLACK_NS) {
			fmt_time(changed, a, sizeof(a));
			fmt_time(tl->package_installed_ns, b, sizeof(b));
			snprintf(reason, reasonsz, "executable changed at %s, after package %s was installed at %s", a,
				 tl->package, b);
			return true;
		}
		return false;
	}
	bool unpackaged = (tl->package_known && !tl->package[0]) || tl->exe_writable_location;
	if (unpackaged && changed + window_ns >= now_ns) {
		fmt_time(changed, a, sizeof(a));
		snprintf(reason, reasonsz, "%s executable created or changed at %s, within the last %llu days",
			 tl->exe_writable_location ? "world-writable-location" : "unpackaged", a,
			 (unsigned long long)(window_ns / (86400ull * 1000000000ull)));
		return true;
	}
	return false;
}

struct listen_set {
	struct owl_u64map pids;
};

static bool listens(pid_t pid, void *ud)
{
	struct listen_set *ls = ud;
	uint32_t v;
	return owl_u64map_get(&ls->pids, (uint64_t)pid + 1, &v);
}

/* pid → index of a TCP connection it holds that came in (sshd's session) */
static int build_maps(const struct scan_result *r, struct listen_set *ls, struct owl_u64map *ingress)
{
	if (owl_u64map_init(&ls->pids, 64) < 0 || owl_u64map_init(ingress, 64) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct owl_record *rec = &r->recs[i];
		if (rec->conn.transport != OWL_TP_TCP)
			continue;
		bool listen = rec->conn.state == OWL_TCP_LISTEN;
		bool in = rec->conn.direction == OWL_DIR_INGRESS && rec->conn.state == OWL_TCP_ESTABLISHED;
		for (uint32_t k = 0; k < rec->npids; k++) {
			uint64_t key = (uint64_t)rec->pids[k] + 1;
			uint32_t dummy;
			if (listen && owl_u64map_put(&ls->pids, key, 0) < 0)
				return -ENOMEM;
			if (in && !owl_u64map_get(ingress, key, &dummy) && owl_u64map_put(ingress, key, (uint32_t)i) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static uint64_t oldest_start(const struct scan_result *r)
{
	uint64_t t = r->time_ns ? r->time_ns : owl_now_ns();
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].start_time_ns && r->procs[i].start_time_ns < t)
			t = r->procs[i].start_time_ns;
	return t;
}

/* ancestry, origin, session, unexpected-parent and timeline of one process */
static void fill_one(struct origin_ctx *c, const char *proc_root, const struct scan_result *r,
		     const struct owl_proc *p, struct origin_info *oi, struct anc_proc *self, struct listen_set *ls,
		     const struct owl_u64map *ingress)
{
	struct origin_env env = {.root = NULL};
	ancestry_from_proc(p, self);
	/* the chain reads the cache's copy, so reparenting notes stick */
	const struct anc_proc *cached = p->gone ? NULL : ancestry_seed(c->anc, self);
	const struct anc_proc *me = cached && cached->start_ns == self->start_ns ? cached : self;
	oi->nchain = ancestry_chain(c->anc, me, oi->chain, ANC_MAX_HOPS, &oi->chain_truncated);
	origin_classify(me, oi->chain, oi->nchain, &env, oi);
	oi->unexpected_sev = (uint8_t)origin_unexpected_parent(me, oi->chain, oi->nchain, listens, ls,
							       oi->unexpected_reason, sizeof(oi->unexpected_reason));
	/* the ssh client's address: the session's sshd holds the socket */
	for (size_t k = 0; k < oi->nsshd && !oi->has_ssh_peer; k++) {
		uint32_t idx;
		if (owl_u64map_get(ingress, (uint64_t)oi->sshd_pids[k] + 1, &idx)) {
			oi->has_ssh_peer = true;
			oi->ssh_peer = r->recs[idx].conn.raddr;
			oi->ssh_peer_port = r->recs[idx].conn.rport;
		}
	}
	struct proc_timeline *tl = &oi->timeline;
	tl->start_ns = p->start_time_ns;
	timeline_exe(proc_root, p->pid, p->exe, tl);
	/* the owning package, from the verify stage (which runs first) */
	const struct verify_info *vi = p->verify;
	if (vi && vi->owner == VERIFY_OWNER_PACKAGE) {
		tl->package_known = true;
		owl_strlcpy(tl->package, vi->pkg.name, sizeof(tl->package));
		owl_strlcpy(tl->package_version, vi->pkg.version, sizeof(tl->package_version));
		/* the log's last install/upgrade, else the file list's mtime —
		 * which verify read already (no stat of the .list files again) */
		const struct changes *ch = c->have_changes ? &c->changes : NULL;
		if (vi->pkg.installed_ns) {
			if (timeline_package_logged(ch, tl->package, &tl->package_installed_ns) == 0) {
				tl->package_time_source = "dpkg.log";
			} else {
				tl->package_installed_ns = vi->pkg.installed_ns;
				tl->package_time_source = "dpkg info .list mtime";
			}
		} else {
			(void)timeline_package_time(ch, NULL, tl->package, &tl->package_installed_ns,
						    &tl->package_time_source);
		}
	} else if (vi && vi->owner == VERIFY_OWNER_NONE) {
		tl->package_known = true;
	}
}

int origin_run(struct origin_ctx *c, const char *proc_root, struct scan_result *r)
{
	c->now_ns = r->time_ns ? r->time_ns : owl_now_ns();
	free(c->infos);
	c->infos = calloc(r->nprocs ? r->nprocs : 1, sizeof(*c->infos));
	if (!c->infos)
		return -ENOMEM;
	c->ninfos = r->nprocs;

	/* the system's changes, far enough back to precede every process */
	if (!c->have_changes) {
		uint64_t since = oldest_start(r);
		since = since > c->window_ns ? since - c->window_ns : 0;
		if (c->now_ns > ORIGIN_CHANGES_MAX_AGE_NS && since < c->now_ns - ORIGIN_CHANGES_MAX_AGE_NS)
			since = c->now_ns - ORIGIN_CHANGES_MAX_AGE_NS;
		c->share = share_get(since, c->now_ns);
		if (!c->share)
			return -ENOMEM;
		c->changes_err = c->share->err;
		if (c->changes_err == -ENOMEM)
			return -ENOMEM;
		if (c->changes_err == 0)
			c->changes = c->share->c;
		c->have_changes = c->changes_err == 0;
	}

	struct listen_set ls;
	struct owl_u64map ingress;
	memset(&ls, 0, sizeof(ls));
	memset(&ingress, 0, sizeof(ingress));
	int rc = build_maps(r, &ls, &ingress);
	if (rc < 0)
		goto out;

	struct anc_proc *self = malloc(sizeof(*self));
	if (!self) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		fill_one(c, proc_root, r, &r->procs[i], &c->infos[i], self, &ls, &ingress);
		r->procs[i].origin = &c->infos[i];
	}
	free(self);

	/* unexpected-parent and recent-binary are facts of the process: judged
	 * once per process, given to each of its sockets */
	struct owl_record *tmpl = calloc(r->nprocs ? r->nprocs : 1, sizeof(*tmpl));
	if (!tmpl) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct origin_info *oi = &c->infos[i];
		char reason[OWL_REASON_MAX];
		if (oi->unexpected_sev != OWL_SEV_NONE)
			judge_add(&tmpl[i], "unexpected-parent", (enum owl_severity)oi->unexpected_sev, "%s",
				  oi->unexpected_reason);
		if (origin_recent_binary(&oi->timeline, c->now_ns, c->window_ns, reason, sizeof(reason)))
			judge_add(&tmpl[i], "recent-binary", OWL_SEV_LOW, "%s", reason);
	}
	scan_give_proc_findings(r, tmpl);
	judge_free_findings(tmpl, r->nprocs);
	free(tmpl);
out:
	owl_u64map_free(&ls.pids);
	owl_u64map_free(&ingress);
	return rc;
}

int origin_compute(struct origin_ctx *c, const char *proc_root, const struct scan_result *r,
		   const struct owl_proc *p, struct origin_info **ret)
{
	struct origin_info *oi = calloc(1, sizeof(*oi));
	struct anc_proc *self = malloc(sizeof(*self));
	struct listen_set ls;
	struct owl_u64map ingress;
	memset(&ls, 0, sizeof(ls));
	memset(&ingress, 0, sizeof(ingress));
	int rc = -ENOMEM;
	if (oi && self && build_maps(r, &ls, &ingress) == 0) {
		fill_one(c, proc_root ? proc_root : "/proc", r, p, oi, self, &ls, &ingress);
		*ret = oi;
		oi = NULL;
		rc = 0;
	}
	owl_u64map_free(&ls.pids);
	owl_u64map_free(&ingress);
	free(self);
	free(oi);
	return rc;
}

int origin_stage(const struct scan_opts *o, struct scan_result *r)
{
	const char *proc_root = o->proc_root ? o->proc_root : "/proc";
	struct origin_ctx *c;
	int rc = origin_ctx_new(proc_root, &c);
	if (rc < 0)
		return rc;
	if (history_fn)
		ancestry_set_lookup(c->anc, history_fn, history_ud);
	r->origin = c;
	return origin_run(c, proc_root, r);
}
