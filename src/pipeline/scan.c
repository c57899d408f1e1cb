#include "pipeline/scan.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "attribute/origin_stage.h"
#include "attribute/cgroup.h"
#include "attribute/procinfo.h"
#include "attribute/procload.h"
#include "core/addr.h"
#include "core/hashmap.h"
#include "endpoint/endpoint.h"
#include "judge/judge.h"
#include "pipeline/stages.h"
#include "store/stage.h"
#include "verify/verify.h"

static int cmp_pid(const void *a, const void *b)
{
	const struct owl_proc *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

struct owl_proc *scan_find_proc(const struct scan_result *r, pid_t pid)
{
	struct owl_proc key = {.pid = pid};
	return bsearch(&key, r->procs, r->nprocs, sizeof(*r->procs), cmp_pid);
}

bool scan_proc_index(const struct scan_result *r, const struct owl_proc *p, size_t *ret)
{
	/* compared as integers: p may point anywhere (watch's own processes) */
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)r->procs;
	if (!p || a < b || (a - b) / sizeof(*p) >= r->nprocs)
		return false;
	*ret = (a - b) / sizeof(*p);
	return true;
}

void scan_give_proc_findings(struct scan_result *r, const struct owl_record *tmpl)
{
	struct judge_memo *memo = judge_memo_new(); /* NULL: merged without one */
	for (size_t i = 0; i < r->nrecs; i++) {
		size_t pi;
		if (scan_proc_index(r, r->recs[i].proc, &pi))
			judge_add_all_memo(memo, &r->recs[i], &tmpl[pi]);
	}
	judge_memo_free(memo);
}

const struct owl_netns *scan_find_netns(const struct scan_result *r, uint64_t ino)
{
	for (size_t i = 0; i < r->col.nns; i++)
		if (r->col.ns[i].ino == ino)
			return &r->col.ns[i];
	return NULL;
}

static long peak_kb(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static int load_owner_procs(struct scan_result *r, const struct fdmap *m, const char *proc_root, unsigned flags,
			    int threads)
{
	/* distinct pids among owners */
	uint32_t *pids = malloc((m->nowners ? m->nowners : 1) * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	struct owl_u64map seen;
	if (owl_u64map_init(&seen, m->nowners / 4 + 16) < 0) {
		free(pids);
		return -ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < m->nowners; i++) {
		uint32_t dummy;
		uint64_t k = (uint64_t)m->owners[i].pid + 1;
		if (owl_u64map_get(&seen, k, &dummy))
			continue;
		if (owl_u64map_put(&seen, k, 0) < 0) {
			free(pids);
			owl_u64map_free(&seen);
			return -ENOMEM;
		}
		pids[n++] = m->owners[i].pid;
	}
	owl_u64map_free(&seen);
	r->procs = calloc(n ? n : 1, sizeof(*r->procs));
	if (!r->procs) {
		free(pids);
		return -ENOMEM;
	}
	procload_many_ex(proc_root, pids, n, flags, r->procs, threads);
	for (size_t i = 0; i < n; i++)
		if (r->procs[i].gone)
			r->procs_gone++;
	r->nprocs = n;
	free(pids);
	qsort(r->procs, r->nprocs, sizeof(*r->procs), cmp_pid);
	return 0;
}

/* A namespace known only as "pid N" is more useful named after the
 * container or unit that pid runs in. */
static void name_namespaces(struct scan_result *r, const char *proc_root)
{
	for (size_t i = 0; i < r->col.nns; i++) {
		struct owl_netns *ns = &r->col.ns[i];
		long long pid;
		char path[128], buf[4096], cg[OWL_PATH_MAX];
		if (ns->is_host || strncmp(ns->name, "pid ", 4) != 0 ||
		    owl_strtonum(ns->name + 4, 1, 0x7fffffff, &pid) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%lld/cgroup", proc_root, pid);
		ssize_t n = owl_read_file(path, buf, sizeof(buf));
		if (n <= 0 || cgroup_pick_path(buf, (size_t)n, cg, sizeof(cg)) < 0)
			continue;
		struct owl_cgroup_info ci;
		cgroup_parse_path(cg, &ci);
		if (ci.container_id[0])
			snprintf(ns->name, sizeof(ns->name), "%s:%.12s (pid %lld)",
				 ci.runtime ? cgroup_runtime_name(ci.runtime) : "container", ci.container_id, pid);
		else if (ci.unit[0])
			snprintf(ns->name, sizeof(ns->name), "%.200s (pid %lld)", ci.unit, pid);
	}
}

static int scan_run_here(const struct scan_opts *o, struct scan_result *r);

int scan_run(const struct scan_opts *o, struct scan_result *r)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = owl_now_ns();
	/* the origin stage's change list is read while the sockets are */
	struct origin_prefetch *op = origin_prefetch_start(o->proc_root ? o->proc_root : "/proc", r->time_ns);
	int rc = scan_run_here(o, r);
	origin_prefetch_join(op);
	return rc;
}

static int scan_run_here(const struct scan_opts *o, struct scan_result *r)
{
	const char *proc_root = o->proc_root ? o->proc_root : "/proc";
	int rc;
	r->is_root = geteuid() == 0;
	verify_stage_prestart(o); /* a cold run's package index overlaps collection */

	uint64_t t0 = owl_mono_ns();
	/* the owner map's BPF iterator loads on a thread while we collect */
	struct fdmap_pre *pre = fdmap_prepare(proc_root, o->owners);
	struct collect_opts co = o->collect;
	co.elsize = sizeof(struct owl_record); /* records are built in place */
	rc = collect_sockets(&co, &r->col);
	if (rc < 0) {
		fdmap_prepare_drop(pre);
		return rc;
	}
	/* the records take over the collected elements */
	r->recs = r->col.conns.data;
	size_t nconn = r->col.conns.len;
	r->col.conns.data = NULL;
	r->col.conns.len = r->col.conns.cap = 0;
	r->nalloc = nconn;
	r->ntotal = nconn;
	rc = collect_set_directions(r->recs, nconn, sizeof(struct owl_record));
	if (rc < 0) {
		fdmap_prepare_drop(pre);
		return rc;
	}
	name_namespaces(r, proc_root);

	uint64_t t1 = owl_mono_ns();
	r->t_collect = t1 - t0;
	r->kb_collect = peak_kb();
	verify_stage_preload(o); /* while the owner iterator may still load */
	/* socket inode → owners, only for inodes we found */
	struct owl_u64map want;
	rc = owl_u64map_init(&want, nconn + 16);
	if (rc < 0) {
		fdmap_prepare_drop(pre);
		return rc;
	}
	for (size_t i = 0; i < nconn; i++)
		if (r->recs[i].conn.inode && owl_u64map_put(&want, r->recs[i].conn.inode, (uint32_t)i) < 0) {
			owl_u64map_free(&want);
			fdmap_prepare_drop(pre);
			return -ENOMEM;
		}
	int threads = o->threads;
	if (threads <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 4 ? 4 : c < 1 ? 1 : (int)c;
	}
	struct fdmap m;
	rc = fdmap_build_any(&m, proc_root, &want, threads, o->owners, pre, &r->owners_how);
	owl_u64map_free(&want);
	if (rc < 0)
		return rc;
	r->pids_seen = m.pids_seen;
	r->pids_denied = m.pids_denied;

	rc = load_owner_procs(r, &m, proc_root, o->no_verify ? 0 : PROCINFO_F_VERIFY, threads);
	if (rc < 0)
		goto out;

	r->pidpool = malloc((m.nowners ? m.nowners : 1) * sizeof(*r->pidpool));
	if (!r->pidpool) {
		rc = -ENOMEM;
		goto out;
	}
	size_t used = 0;
	for (size_t i = 0; i < nconn; i++) {
		struct owl_record *rec = &r->recs[i];
		uint32_t j;
		if (!rec->conn.inode || !owl_u64map_get(&m.head, rec->conn.inode, &j))
			continue;
		rec->pids = r->pidpool + used;
		for (; j != UINT32_MAX && used < m.nowners; j = m.owners[j].next) {
			r->pidpool[used++] = m.owners[j].pid;
			rec->npids++;
		}
		/* the named owner: the lowest pid still alive (owners come sorted) */
		for (uint32_t k = 0; k < rec->npids && !rec->proc; k++) {
			struct owl_proc *p = scan_find_proc(r, (pid_t)rec->pids[k]);
			if (p && !p->gone)
				rec->proc = p;
		}
		if (!rec->proc && rec->npids)
			rec->proc = scan_find_proc(r, (pid_t)rec->pids[0]);
	}
	r->nrecs = nconn;
	/* the owner map is done with: give its memory back before the stages */
	fdmap_free(&m);
	memset(&m, 0, sizeof(m));

	uint64_t t2 = owl_mono_ns();
	r->t_attribute = t2 - t1;
	r->kb_attribute = peak_kb();
	for (const struct scan_stage *st = scan_stages; st->name; st++) {
		uint64_t ts = owl_mono_ns();
		rc = st->run(o, r);
		if (st - scan_stages < (ptrdiff_t)OWL_ARRAY_SIZE(r->t_stage))
			r->t_stage[st - scan_stages] = owl_mono_ns() - ts;
		if (rc < 0) {
			r->failed_stage = st->name;
			goto out;
		}
	}
	uint64_t t3 = owl_mono_ns();
	r->t_stages = t3 - t2;
	r->kb_stages = peak_kb();
	judge_records(r->recs, r->nrecs);
	r->nrecs = judge_filter_view(r->recs, r->nrecs, o->all);
	judge_sort(r->recs, r->nrecs);
	r->t_judge = owl_mono_ns() - t3;
out:
	fdmap_free(&m);
	return rc;
}

void scan_result_free(struct scan_result *r)
{
	if (!r)
		return;
	verify_ctx_free(r->verify);
	collect_result_free(&r->col);
	origin_ctx_free(r->origin);
	if (r->recs)
		judge_free_findings(r->recs, r->nrecs);
	free(r->recs);
	free(r->procs);
	free(r->pidpool);
	store_ctx_free(r->store);
	endpoint_ctx_free(r->endpoint);
	memset(r, 0, sizeof(*r));
}
