#include "trace/watch.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "attribute/ancestry.h"
#include "attribute/origin_stage.h"
#include "attribute/procinfo.h"
#include "attribute/users.h"
#include "collect/netns.h"
#include "core/addr.h"
#include "core/util.h"
#include "judge/judge.h"
#include "pipeline/stages.h"
#include "store/stage.h"
#include "trace/beacon.h"
#include "trace/dns.h"

#define PSETS 1024        /* processes: sets by tgid ... */
#define PWAYS 4           /* ... of 4 entries, least recently used goes first */
#define PCACHE (PSETS * PWAYS)
#define ECACHE 1024       /* enrichments, direct-mapped by (program, endpoint) */
#define FSETS 4096        /* (program, endpoint) statistics: sets ... */
#define FWAYS 4           /* ... of 4, the least recently seen goes first */
#define FAIL_KEEP 64
#define PENDING 4096      /* connects in SYN-SENT, held until an outcome or the hold time */

static const char *const action_names[WATCH__ACTIONS] = {
	[WATCH_ATTEMPTED] = "connection-attempted",
	[WATCH_ESTABLISHED] = "connection-established",
	[WATCH_FAILED] = "connection-failed",
	[WATCH_CLOSED] = "connection-closed",
	[WATCH_ACCEPTED] = "connection-accepted",
	[WATCH_UDP_SENT] = "udp-sent",
};

const char *watch_action_name(int a)
{
	return a >= 0 && a < WATCH__ACTIONS ? action_names[a] : "connection-observed";
}

void watch_params_default(struct watch_params *p)
{
	p->repeat_window_s = 60;
	p->repeat_low = 5;
	p->repeat_medium = 20;
	p->volume_window_s = 10;
	p->volume_rate = 100;
	p->dns_min_ttl_s = 120;
	p->dns_max_ttl_s = 3600;
	p->enrich_ttl_s = 300;
	p->enrich_per_s = 2;
	p->enrich_burst = 16;
	p->attempt_hold_ms = 1000;
}

struct pslot {
	uint32_t tgid;
	uint64_t used;       /* use clock, for eviction */
	uint64_t start_ns;   /* boot clock, from the kernel */
	bool loaded;         /* /proc was read (or found gone) */
	bool exited;
	uint64_t ident;      /* hash of (exe, argv, uid), 0 = not computed since p changed */
	pid_t exec_ppid;     /* the parent at exec, before any reparenting (0 = unknown) */
	struct owl_proc p;
};

struct eslot {
	uint64_t key;
	uint64_t made_ns;
	struct trace_info ti;  /* what the stages see of the event (the domain asked for) */
	struct scan_result s;
};

struct flow {
	uint64_t key;
	uint64_t seen_ns;
	uint64_t fail_ts[FAIL_KEEP];
	uint32_t nfail, fhead;
	struct beacon_ring beacon;
	uint64_t vol_start_ns;
	uint32_t vol_count;
};

struct watch {
	struct watch_opts o;
	const char *proc_root;
	uint64_t boot_ns;
	uint64_t ns_per_tick;
	struct pslot *procs[PCACHE];
	uint64_t use_clock;
	struct eslot *enr[ECACHE];
	struct flow *flows;
	struct dns_cache *dns;
	double tokens;               /* stage runs allowed now */
	uint64_t tokens_ns;
	struct eslot bare;           /* for events whose enrichment waits: no stage findings */
	struct owl_record bare_rec;
	struct owl_ev_conn *pending; /* [PENDING], sock 0 = free */
	size_t npending;
	struct owl_netns *ns;
	size_t nns;
	uint64_t ns_refresh_ns;
	struct watch_stats st;
};

uint64_t watch_wall_ns(const struct watch *w, uint64_t boot_ns)
{
	return w->boot_ns + boot_ns;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* ---- processes ---- */

static bool same_start(const struct watch *w, const struct owl_proc *p, uint64_t start_ns)
{
	uint64_t ticks = start_ns / w->ns_per_tick;
	return p->start_ticks == ticks || p->start_ticks + 1 == ticks || p->start_ticks == ticks + 1;
}

static void proc_from_task(struct watch *w, struct owl_proc *p, const struct owl_ev_task *t)
{
	memset(p, 0, sizeof(*p));
	p->pid = (pid_t)t->tgid;
	p->ppid = (pid_t)t->ppid;
	p->uid = p->euid = t->uid;
	p->have_status = true;
	p->loginuid = UINT32_MAX;
	p->sessionid = UINT32_MAX;
	owl_strncpy0(p->comm, sizeof(p->comm), t->comm, strnlen(t->comm, sizeof(t->comm)));
	p->start_ticks = t->start_ns / w->ns_per_tick;
	p->start_time_ns = w->boot_ns + t->start_ns;
	users_name(t->uid, p->user, sizeof(p->user));
	p->gone = true;
}

/* The cached entry of tgid, or NULL. */
static struct pslot *pslot_find(struct watch *w, uint32_t tgid)
{
	struct pslot **set = &w->procs[(tgid % PSETS) * PWAYS];
	for (int i = 0; i < PWAYS; i++)
		if (set[i] && set[i]->tgid == tgid) {
			set[i]->used = ++w->use_clock;
			return set[i];
		}
	return NULL;
}

/* An entry for tgid: its own, else an empty one, else the one of an exited
 * process, else the least recently used.  NULL on ENOMEM. */
static struct pslot *pslot_take(struct watch *w, uint32_t tgid)
{
	struct pslot **set = &w->procs[(tgid % PSETS) * PWAYS];
	int pick = -1;
	for (int i = 0; i < PWAYS; i++) {
		if (set[i] && set[i]->tgid == tgid) {
			pick = i;
			break;
		}
		if (!set[i]) {
			if (pick < 0 || set[pick])
				pick = i;
			continue;
		}
		if (pick < 0 || (set[pick] && (set[i]->exited > set[pick]->exited ||
					       (set[i]->exited == set[pick]->exited && set[i]->used < set[pick]->used))))
			pick = i;
	}
	if (!set[pick] && !(set[pick] = calloc(1, sizeof(*set[pick]))))
		return NULL;
	set[pick]->used = ++w->use_clock;
	return set[pick];
}

/* The process behind a record: cached, else /proc, else what the kernel and
 * the exec record told (a process that is already gone). */
static struct owl_proc *proc_get(struct watch *w, const struct owl_ev_task *t)
{
	if (!t->tgid)
		return NULL;
	struct pslot *s = pslot_find(w, t->tgid);
	if (s && s->start_ns / w->ns_per_tick == t->start_ns / w->ns_per_tick) {
		if (!s->loaded && !s->exited) {
			/* an exec record filled it: /proc, while it lives, knows more */
			struct owl_proc tmp;
			s->loaded = true;
			if (procinfo_load(w->proc_root, (pid_t)t->tgid, &tmp) == 0 && !tmp.gone &&
			    same_start(w, &tmp, t->start_ns)) {
				/* an exiting process (zombie) has no exe or argv any
				 * more: keep what its exec record said */
				if (!tmp.exe[0])
					memcpy(tmp.exe, s->p.exe, sizeof(tmp.exe));
				if (!tmp.argc && s->p.argc) {
					memcpy(tmp.args, s->p.args, s->p.args_len);
					tmp.args_len = s->p.args_len;
					tmp.argc = s->p.argc;
					tmp.args_truncated = s->p.args_truncated;
				}
				s->p = tmp;
				s->ident = 0;
			}
		}
		return &s->p;
	}
	if (!s && !(s = pslot_take(w, t->tgid)))
		return NULL;
	s->tgid = t->tgid;
	s->start_ns = t->start_ns;
	s->loaded = true;
	s->exited = false;
	s->ident = 0;
	s->exec_ppid = 0;
	if (procinfo_load(w->proc_root, (pid_t)t->tgid, &s->p) == 0 && !s->p.gone &&
	    same_start(w, &s->p, t->start_ns) && (s->p.exe[0] || !s->p.exe_unreadable || s->p.argc))
		return &s->p;
	proc_from_task(w, &s->p, t);
	/* gone already: a child that did not exec runs its parent's program */
	struct pslot *par = t->ppid != t->tgid ? pslot_find(w, t->ppid) : NULL;
	if (par) {
		memcpy(s->p.exe, par->p.exe, sizeof(s->p.exe));
		memcpy(s->p.args, par->p.args, par->p.args_len);
		s->p.args_len = par->p.args_len;
		s->p.argc = par->p.argc;
		s->p.args_truncated = par->p.args_truncated;
		memcpy(s->p.cgroup_path, par->p.cgroup_path, sizeof(s->p.cgroup_path));
		s->p.cg = par->p.cg;
	}
	return &s->p;
}

/* The origin stage asks here for a process /proc no longer has: what the
 * exec record (or the first event) told of it, so a short-lived parent
 * still appears in its children's ancestry. */
static int history_lookup(pid_t pid, struct anc_proc *ret, void *ud)
{
	struct watch *w = ud;
	struct pslot *s = pid > 0 ? pslot_find(w, (uint32_t)pid) : NULL;
	if (!s || s->p.pid != pid)
		return -ENOENT;
	ancestry_from_proc(&s->p, ret);
	ret->start_ns = watch_wall_ns(w, s->start_ns);
	/* the parent it had at exec: a reparented child leads back to it */
	if (s->exec_ppid > 0)
		ret->ppid = s->exec_ppid;
	ret->exited = true;
	return 0;
}

static void on_exec(struct watch *w, const struct owl_ev_exec *e)
{
	const struct owl_ev_task *t = &e->h.task;
	struct pslot *s = pslot_take(w, t->tgid);
	if (!s)
		return;
	s->tgid = t->tgid;
	s->start_ns = t->start_ns;
	s->loaded = false; /* read /proc at the first connection, if it still lives */
	s->exited = false;
	s->ident = 0;
	proc_from_task(w, &s->p, t);
	s->exec_ppid = (pid_t)t->ppid;
	size_t pl = OWL_MIN((size_t)e->path_len, sizeof(e->path));
	char path[OWL_EXEC_PATH_LEN + 1];
	owl_strncpy0(path, sizeof(path), e->path, pl);
	/* the kernel's exe is the resolved path; resolve it while the file is there */
	char real[PATH_MAX];
	if (path[0] == '/' && realpath(path, real))
		owl_strlcpy(s->p.exe, real, sizeof(s->p.exe));
	else
		owl_strlcpy(s->p.exe, path, sizeof(s->p.exe));
	size_t al = OWL_MIN((size_t)e->args_len, sizeof(e->args));
	al = OWL_MIN(al, sizeof(s->p.args));
	memcpy(s->p.args, e->args, al);
	while (al && s->p.args[al - 1] == '\0')
		al--;
	s->p.args_len = al;
	s->p.args_truncated = e->args_full > e->args_len;
	s->p.argc = al || e->args_full ? 1 : 0;
	for (size_t i = 0; i < al; i++)
		if (s->p.args[i] == '\0' && s->p.argc < OWL_ARGC_MAX)
			s->p.argc++;
	w->st.execs++;
}

static void on_exit_ev(struct watch *w, const struct owl_ev_exit *e)
{
	struct pslot *s = pslot_find(w, e->h.task.tgid);
	if (s) {
		s->exited = true;
		s->p.gone = true;
	}
	w->st.exits++;
}

/* ---- DNS ---- */

static void on_dns(struct watch *w, const struct owl_ev_dns *e)
{
	struct dns_answer ans[DNS_ANSWERS_MAX];
	size_t n = 0;
	const uint8_t *m = e->data;
	size_t len = OWL_MIN((size_t)e->len, sizeof(e->data));
	int rc = dns_parse_response(m, len, ans, DNS_ANSWERS_MAX, &n);
	/* TCP: a read may hold the 2-byte length prefix before the message */
	if (rc < 0 && e->proto == IPPROTO_TCP && len > 2)
		rc = dns_parse_response(m + 2, len - 2, ans, DNS_ANSWERS_MAX, &n);
	if (rc < 0)
		return;
	uint64_t now = watch_wall_ns(w, e->h.ts_ns);
	for (size_t i = 0; i < n; i++)
		dns_cache_put(w->dns, e->h.task.tgid, e->netns, &ans[i], now, w->o.params.dns_min_ttl_s,
			      w->o.params.dns_max_ttl_s);
	w->st.dns_answers += n;
}

/* ---- namespaces ---- */

static const struct owl_netns *ns_find(struct watch *w, uint64_t ino, uint64_t now)
{
	for (size_t i = 0; i < w->nns; i++)
		if (w->ns[i].ino == ino)
			return &w->ns[i];
	/* a namespace made since the last look: look again, at most once a second */
	if (now - w->ns_refresh_ns < 1000000000ULL)
		return NULL;
	w->ns_refresh_ns = now;
	struct owl_netns *ns;
	size_t n;
	if (netns_list(w->proc_root, "/run/netns", &ns, &n) < 0)
		return NULL;
	free(w->ns);
	w->ns = ns;
	w->nns = n;
	for (size_t i = 0; i < w->nns; i++)
		if (w->ns[i].ino == ino)
			return &w->ns[i];
	return NULL;
}

/* ---- enrichment: the scan's stages over a one-record scan ---- */

static int run_stages(struct watch *w, struct scan_result *s)
{
	for (const struct scan_stage *st = scan_stages; st->name; st++) {
		int rc = st->run(w->o.scan, s);
		if (rc < 0) {
			s->failed_stage = st->name;
			w->st.stage_errors++;
			return rc;
		}
	}
	return 0;
}

/* The identity of the program a cached process runs, computed once. */
static uint64_t proc_ident(struct owl_proc *p)
{
	struct pslot *s = (struct pslot *)((char *)p - offsetof(struct pslot, p));
	if (!s->ident) {
		uint64_t k = 1469598103934665603ULL;
		k = fnv(k, p->exe[0] ? p->exe : p->comm, strlen(p->exe[0] ? p->exe : p->comm));
		k = fnv(k, p->args, p->args_len);
		k = fnv(k, &p->uid, sizeof(p->uid));
		s->ident = k ? k : 1;
	}
	return s->ident;
}

static struct eslot *enrich(struct watch *w, const struct owl_conn *c, struct owl_proc *p,
			    const struct trace_info *ti, uint64_t now)
{
	uint64_t k = 1469598103934665603ULL;
	/* the name the program asked for is part of the destination (a
	 * baseline may allow a domain, not an address) */
	k = fnv(k, ti->domain, strnlen(ti->domain, sizeof(ti->domain)));
	if (p) {
		uint64_t id = proc_ident(p);
		k = fnv(k, &id, sizeof(id));
	}
	k = fnv(k, &c->netns_ino, sizeof(c->netns_ino));
	k = fnv(k, &c->transport, 1);
	k = fnv(k, &c->direction, 1);
	k = fnv(k, &c->raddr, sizeof(c->raddr));
	/* the service port: the remote one going out, the local one coming in
	 * (the peer's ephemeral port would make every accept a miss) */
	uint16_t svc = c->direction == OWL_DIR_INGRESS ? c->lport : c->rport;
	k = fnv(k, &svc, sizeof(svc));
	k = k ? k : 1;
	struct eslot **sp = &w->enr[k % ECACHE];
	struct eslot *e = *sp;
	if (e && e->key == k && now - e->made_ns < (uint64_t)w->o.params.enrich_ttl_s * 1000000000ULL)
		return e;
	/* a stage run costs (verify loads the package index each time): at
	 * most enrich_per_s a second; meanwhile a stale result for the same
	 * pair, or none */
	if (now > w->tokens_ns) {
		w->tokens += (double)(now - w->tokens_ns) / 1e9 * w->o.params.enrich_per_s;
		w->tokens_ns = now;
	}
	if (w->tokens > w->o.params.enrich_burst)
		w->tokens = w->o.params.enrich_burst;
	if (w->tokens < 1.0) {
		w->st.enrich_deferred++;
		if (e && e->key == k)
			return e;
		struct scan_result *b = &w->bare.s;
		const struct owl_netns *ns = ns_find(w, c->netns_ino, now);
		b->col.ns = (struct owl_netns *)ns;
		b->col.nns = ns ? 1 : 0;
		b->recs = &w->bare_rec;
		b->nrecs = b->ntotal = 1;
		b->nprocs = 0;
		return &w->bare;
	}
	w->tokens -= 1.0;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL;
		*sp = e;
	} else {
		scan_result_free(&e->s);
	}
	e->key = k;
	e->made_ns = now;
	struct scan_result *s = &e->s;
	memset(s, 0, sizeof(*s));
	s->time_ns = now;
	s->is_root = geteuid() == 0;
	s->col.self_ns = netns_self_ino();
	s->col.ns = calloc(1, sizeof(*s->col.ns));
	s->col.ns_err = calloc(1, sizeof(*s->col.ns_err));
	s->recs = calloc(1, sizeof(*s->recs));
	s->procs = calloc(1, sizeof(*s->procs));
	s->pidpool = calloc(1, sizeof(*s->pidpool));
	if (!s->col.ns || !s->col.ns_err || !s->recs || !s->procs || !s->pidpool) {
		scan_result_free(s);
		free(e);
		*sp = NULL;
		return NULL;
	}
	const struct owl_netns *ns = ns_find(w, c->netns_ino, now);
	if (ns) {
		s->col.ns[0] = *ns;
		s->col.nns = 1;
	}
	s->recs[0].conn = *c;
	e->ti = *ti;
	s->recs[0].trace = &e->ti;
	if (p) {
		s->procs[0] = *p;
		s->procs[0].verify = NULL;
		s->procs[0].origin = NULL;
		s->nprocs = 1;
		s->pidpool[0] = (uint32_t)p->pid;
		s->recs[0].pids = s->pidpool;
		s->recs[0].npids = 1;
		s->recs[0].proc = &s->procs[0];
	}
	s->nrecs = s->ntotal = 1;
	w->st.enrich_runs++;
	run_stages(w, s); /* a failing stage leaves what the others found */
	judge_records(s->recs, 1);
	return e;
}

/* ---- findings over time ---- */

static struct flow *flow_get(struct watch *w, const struct owl_conn *c, const struct owl_proc *p, uint64_t now_ns)
{
	uint64_t k = 14695981039346656037ULL;
	if (p) {
		const char *id = p->exe[0] ? p->exe : p->comm;
		k = fnv(k, id, strlen(id));
		k = fnv(k, &p->uid, sizeof(p->uid));
	}
	k = fnv(k, &c->netns_ino, sizeof(c->netns_ino));
	k = fnv(k, &c->transport, 1);
	k = fnv(k, &c->raddr, sizeof(c->raddr));
	k = fnv(k, &c->rport, sizeof(c->rport));
	k = k ? k : 1;
	struct flow *set = &w->flows[(k % FSETS) * FWAYS], *f = NULL;
	for (int i = 0; i < FWAYS && !f; i++)
		if (set[i].key == k)
			f = &set[i];
	if (!f) {
		f = &set[0];
		for (int i = 1; i < FWAYS; i++)
			if (set[i].seen_ns < f->seen_ns)
				f = &set[i];
		memset(f, 0, sizeof(*f));
		f->key = k;
	}
	f->seen_ns = now_ns;
	return f;
}

static void endpoint_text(const struct owl_conn *c, char *buf, size_t n)
{
	char ip[OWL_ADDRSTR_MAX];
	owl_addr_str(&c->raddr, ip);
	snprintf(buf, n, c->raddr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, c->rport);
}

static void time_findings(struct watch *w, struct owl_record *rec, const struct trace_info *ti, uint64_t start_ns,
			  uint64_t now_ns)
{
	const struct watch_params *pp = &w->o.params;
	if (rec->conn.direction != OWL_DIR_EGRESS)
		return;
	/* an attempt is counted once, at its outcome */
	if (ti->action != WATCH_FAILED && ti->action != WATCH_ESTABLISHED && ti->action != WATCH_UDP_SENT)
		return;
	struct flow *f = flow_get(w, &rec->conn, rec->proc, now_ns);
	char ep[OWL_ADDRSTR_MAX + 16];
	endpoint_text(&rec->conn, ep, sizeof(ep));

	if (ti->action == WATCH_FAILED) {
		f->fail_ts[f->fhead] = now_ns;
		f->fhead = (f->fhead + 1) % FAIL_KEEP;
		if (f->nfail < FAIL_KEEP)
			f->nfail++;
		uint64_t win = (uint64_t)pp->repeat_window_s * 1000000000ULL;
		uint32_t n = 0;
		for (uint32_t i = 0; i < f->nfail; i++)
			if (now_ns - f->fail_ts[i] <= win)
				n++;
		if (n >= pp->repeat_low)
			judge_add(rec, "repeated-attempts", n >= pp->repeat_medium ? OWL_SEV_MEDIUM : OWL_SEV_LOW,
				  "%u%s failed connection attempts to %s in the last %u s", n,
				  n >= FAIL_KEEP ? "+" : "", ep, pp->repeat_window_s);
	}

	/* volume: attempts per fixed window */
	uint64_t vwin = (uint64_t)pp->volume_window_s * 1000000000ULL;
	if (now_ns - f->vol_start_ns > vwin) {
		f->vol_start_ns = now_ns;
		f->vol_count = 0;
	}
	f->vol_count++;
	if (pp->volume_rate && f->vol_count >= (uint64_t)pp->volume_rate * pp->volume_window_s)
		judge_add(rec, "high-volume", OWL_SEV_LOW, "%u connections to %s within %u s (at least %u/s)",
			  f->vol_count, ep, pp->volume_window_s, pp->volume_rate);

	/* beaconing: regularity of the connection starts */
	beacon_ring_push(&f->beacon, start_ns);
	uint64_t ts[BEACON_KEEP];
	size_t n = beacon_ring_times(&f->beacon, ts);
	struct beacon_score bs;
	/* a period of a second or more cannot have a beat 10x shorter: skip
	 * the scoring (a sort) for bursts */
	bool burst = n >= 2 && ts[n - 1] - ts[n - 2] < (uint64_t)(BEACON_MIN_PERIOD_S * 1e8);
	if (!burst && n >= BEACON_MIN_CONNS && beacon_score(ts, n, &bs) == 0 && bs.beaconing)
		judge_add(rec, "beaconing", OWL_SEV_MEDIUM,
			  "connects to %s every %.1f s (score %.2f: skew %.2f, dispersion %.2f, count %.2f, duration %.2f; %u connections over %.0f s)",
			  ep, bs.period_s, bs.score, bs.skew, bs.madm, bs.count, bs.duration, bs.conns, bs.span_s);
}

/* ---- records ---- */

static void conn_from_event(struct owl_conn *c, const struct owl_ev_conn *e)
{
	memset(c, 0, sizeof(*c));
	c->netns_ino = e->netns;
	c->cgroup_id = e->h.task.cgroup_id;
	owl_addr_set(&c->laddr, e->family, e->saddr);
	owl_addr_set(&c->raddr, e->family, e->daddr);
	c->lport = e->sport;
	c->rport = e->dport;
	c->transport = e->proto == IPPROTO_UDP ? OWL_TP_UDP : OWL_TP_TCP;
	c->family = (uint8_t)e->family;
	c->source = e->flags & OWL_F_POLLED ? OWL_SRC_DIAG : OWL_SRC_EBPF;
	c->has_uid = e->h.task.tgid != 0;
	c->uid = e->h.task.uid;
	c->direction = e->flags & OWL_F_ACCEPTED ? OWL_DIR_INGRESS : OWL_DIR_EGRESS;
}

static void count_findings(struct watch *w, const struct owl_record *rec)
{
	for (uint32_t i = 0; i < rec->nfindings; i++) {
		const char *id = rec->findings[i].id;
		size_t k;
		for (k = 0; k < w->st.nfindings; k++)
			if (strcmp(w->st.finding_id[k], id) == 0)
				break;
		if (k == w->st.nfindings) {
			if (k == WATCH_FINDING_IDS)
				continue;
			w->st.finding_id[w->st.nfindings++] = id;
		}
		w->st.finding_events[k]++;
	}
	if (rec->severity >= OWL_SEV_MEDIUM)
		w->st.alerts++;
}

static void on_conn(struct watch *w, const struct owl_ev_conn *e, watch_emit_cb emit, void *ud)
{
	struct trace_info ti;
	memset(&ti, 0, sizeof(ti));
	uint64_t now = watch_wall_ns(w, e->h.ts_ns);
	ti.time_ns = now;
	struct owl_conn c;
	conn_from_event(&c, e);
	switch (e->h.type) {
	case OWL_EV_CONNECT:
		ti.action = e->result == OWL_CONN_ESTABLISHED ? WATCH_ESTABLISHED :
			    e->result == OWL_CONN_PENDING ? WATCH_ATTEMPTED : WATCH_FAILED;
		c.state = e->result == OWL_CONN_ESTABLISHED ? OWL_TCP_ESTABLISHED :
			  e->result == OWL_CONN_PENDING ? OWL_TCP_SYN_SENT : OWL_TCP_CLOSE;
		ti.result = e->result;
		ti.err = e->err;
		/* the poll backend does not know when an attempt started */
		ti.has_duration = e->result != OWL_CONN_PENDING && (e->flags & OWL_F_CONNECT_SEEN) && e->start_ns &&
				  e->h.ts_ns >= e->start_ns;
		break;
	case OWL_EV_ACCEPT:
		ti.action = WATCH_ACCEPTED;
		c.state = OWL_TCP_ESTABLISHED;
		break;
	case OWL_EV_CLOSE:
		ti.action = WATCH_CLOSED;
		c.state = OWL_TCP_CLOSE;
		ti.has_duration = e->start_ns && e->h.ts_ns >= e->start_ns;
		ti.has_bytes = true;
		ti.bytes_sent = e->bytes_sent;
		ti.bytes_received = e->bytes_received;
		break;
	case OWL_EV_UDP:
		ti.action = WATCH_UDP_SENT;
		c.state = e->flags & OWL_F_CONNECT_SEEN ? OWL_TCP_ESTABLISHED : OWL_TCP_CLOSE;
		break;
	default:
		return;
	}
	if (ti.has_duration)
		ti.duration_ns = e->h.ts_ns - e->start_ns;

	struct owl_proc *p = proc_get(w, &e->h.task);
	if (p && c.direction == OWL_DIR_EGRESS) {
		const char *d = dns_cache_get(w->dns, e->h.task.tgid, e->netns, &c.raddr, now);
		if (d)
			owl_strlcpy(ti.domain, d, sizeof(ti.domain));
	}
	struct eslot *es = enrich(w, &c, p, &ti, now);
	if (!es)
		return;
	struct scan_result *s = &es->s;
	const struct owl_record *base = &s->recs[0];

	struct owl_record rec;
	memset(&rec, 0, sizeof(rec));
	rec.conn = c;
	judge_share_findings(&rec, base); /* dropped after emit */
	rec.endpoint = base->endpoint;
	rec.baseline = base->baseline;
	rec.trace = &ti;
	uint32_t pid = p ? (uint32_t)p->pid : 0;
	if (p) {
		rec.proc = p;
		rec.pids = &pid;
		rec.npids = 1;
		/* the stages' per-program facts, borrowed for this record */
		if (s->nprocs) {
			p->verify = s->procs[0].verify;
			p->origin = s->procs[0].origin;
		}
	}
	time_findings(w, &rec, &ti, e->start_ns ? watch_wall_ns(w, e->start_ns) : now, now);
	/* a documented / known-agent pair: the baseline's rule for the findings
	 * added after its stage ran */
	baseline_settle(&rec);
	judge_verdict(&rec);
	w->st.events[ti.action]++;
	count_findings(w, &rec);
	s->time_ns = now;
	emit(s, &rec, ud);
	judge_free_findings(&rec, 1);
	if (p) {
		p->verify = NULL;
		p->origin = NULL;
	}
}

static struct owl_ev_conn *pending_slot(struct watch *w, uint64_t sock)
{
	uint64_t h = sock * 0x9e3779b97f4a7c15ULL;
	return &w->pending[(h >> 32) % PENDING];
}

void watch_feed(struct watch *w, const struct owl_ev_hdr *ev, watch_emit_cb emit, void *ud)
{
	w->st.records++;
	if (ev->type == OWL_EV_ATTEMPT && ev->size >= sizeof(struct owl_ev_conn)) {
		const struct owl_ev_conn *e = (const struct owl_ev_conn *)ev;
		struct owl_ev_conn *slot = pending_slot(w, e->sock);
		if (slot->sock && slot->sock != e->sock) {
			/* the slot is taken: show the older attempt now */
			struct owl_ev_conn old = *slot;
			slot->sock = 0;
			w->npending--;
			on_conn(w, &old, emit, ud);
		}
		if (!slot->sock)
			w->npending++;
		*slot = *e;
		return;
	}
	if (ev->type == OWL_EV_CONNECT && ev->size >= sizeof(struct owl_ev_conn)) {
		struct owl_ev_conn *slot = pending_slot(w, ((const struct owl_ev_conn *)ev)->sock);
		if (slot->sock == ((const struct owl_ev_conn *)ev)->sock) {
			slot->sock = 0; /* the outcome came in time: its line says it all */
			w->npending--;
		}
	}
	switch (ev->type) {
	case OWL_EV_CONNECT:
	case OWL_EV_ACCEPT:
	case OWL_EV_CLOSE:
	case OWL_EV_UDP:
		if (ev->size >= sizeof(struct owl_ev_conn))
			on_conn(w, (const struct owl_ev_conn *)ev, emit, ud);
		break;
	case OWL_EV_DNS:
		if (ev->size >= sizeof(struct owl_ev_dns))
			on_dns(w, (const struct owl_ev_dns *)ev);
		break;
	case OWL_EV_EXEC:
		if (ev->size >= sizeof(struct owl_ev_exec))
			on_exec(w, (const struct owl_ev_exec *)ev);
		break;
	case OWL_EV_EXIT:
		if (ev->size >= sizeof(struct owl_ev_exit))
			on_exit_ev(w, (const struct owl_ev_exit *)ev);
		break;
	default:
		break;
	}
}

void watch_tick(struct watch *w, uint64_t now_boot_ns, watch_emit_cb emit, void *ud)
{
	uint64_t hold = (uint64_t)w->o.params.attempt_hold_ms * 1000000ULL;
	for (size_t i = 0; i < PENDING && w->npending; i++) {
		struct owl_ev_conn *e = &w->pending[i];
		if (!e->sock || (now_boot_ns && e->h.ts_ns + hold > now_boot_ns))
			continue;
		struct owl_ev_conn ev = *e;
		e->sock = 0;
		w->npending--;
		ev.h.type = OWL_EV_CONNECT; /* result OWL_CONN_PENDING: connection-attempted */
		on_conn(w, &ev, emit, ud);
	}
}

void watch_get_stats(const struct watch *w, struct watch_stats *ret)
{
	*ret = w->st;
}

int watch_new(const struct watch_opts *o, struct watch **ret, const char **ret_failed_stage)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->o = *o;
	w->proc_root = o->proc_root ? o->proc_root : "/proc";
	w->boot_ns = procinfo_boot_ns();
	long hz = sysconf(_SC_CLK_TCK);
	w->ns_per_tick = 1000000000ULL / (uint64_t)(hz > 0 ? hz : 100);
	w->flows = calloc(FSETS * FWAYS, sizeof(*w->flows));
	w->pending = calloc(PENDING, sizeof(*w->pending));
	w->tokens = o->params.enrich_burst;
	w->tokens_ns = owl_now_ns();
	w->bare.s.is_root = geteuid() == 0;
	int rc = w->flows && w->pending ? dns_cache_new(4096, &w->dns) : -ENOMEM;
	if (rc < 0) {
		watch_free(w);
		return rc;
	}
	if (netns_list(w->proc_root, "/run/netns", &w->ns, &w->nns) < 0) {
		w->ns = NULL;
		w->nns = 0;
	}
	/* the stages once, on nothing: options they cannot honour fail now */
	struct scan_result s;
	memset(&s, 0, sizeof(s));
	s.time_ns = owl_now_ns();
	s.is_root = geteuid() == 0;
	rc = run_stages(w, &s);
	if (rc < 0 && ret_failed_stage)
		*ret_failed_stage = s.failed_stage;
	scan_result_free(&s);
	w->st.stage_errors = 0;
	if (rc < 0) {
		watch_free(w);
		return rc;
	}
	origin_set_history(history_lookup, w);
	*ret = w;
	return 0;
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	origin_set_history(NULL, NULL);
	for (size_t i = 0; i < PCACHE; i++)
		free(w->procs[i]);
	for (size_t i = 0; i < ECACHE; i++) {
		if (w->enr[i]) {
			scan_result_free(&w->enr[i]->s);
			free(w->enr[i]);
		}
	}
	free(w->flows);
	free(w->pending);
	dns_cache_free(w->dns);
	free(w->ns);
	free(w);
}
