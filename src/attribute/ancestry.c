#include "attribute/ancestry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/procinfo.h"
#include "core/hashmap.h"
#include "core/util.h"

/* start times from /proc are in clock ticks (10 ms); a tracer's may differ
 * by its own rounding */
#define START_SLACK_NS 50000000ull
#define GONE UINT32_MAX

struct ancestry {
	char proc_root[256];
	struct anc_proc **items;     /* each allocated alone: pointers stay valid */
	size_t n, cap;
	struct owl_u64map live;      /* pid+1 → index, or GONE */
	struct owl_u64map known;     /* pid+1 → index of a caller's record, or GONE */
	ancestry_lookup_fn lookup;
	void *lookup_ud;
	struct anc_proc *scratch;
};

void ancestry_set_lookup(struct ancestry *a, ancestry_lookup_fn fn, void *ud)
{
	a->lookup = fn;
	a->lookup_ud = ud;
}

int ancestry_new(const char *proc_root, struct ancestry **ret)
{
	struct ancestry *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	owl_strlcpy(a->proc_root, proc_root ? proc_root : "/proc", sizeof(a->proc_root));
	if (owl_u64map_init(&a->live, 256) < 0 || owl_u64map_init(&a->known, 16) < 0) {
		owl_u64map_free(&a->live);
		free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void ancestry_free(struct ancestry *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->items[i]);
	free(a->scratch);
	free(a->items);
	owl_u64map_free(&a->live);
	owl_u64map_free(&a->known);
	free(a);
}

void ancestry_from_proc(const struct owl_proc *p, struct anc_proc *h)
{
	memset(h, 0, sizeof(*h));
	h->pid = p->pid;
	h->ppid = p->ppid;
	h->uid = p->uid;
	h->have_uid = p->have_status;
	h->start_ns = p->start_time_ns;
	h->tty_nr = p->tty_nr;
	h->loginuid = p->loginuid;
	h->sessionid = p->sessionid;
	h->pidns_ino = p->pidns_ino;
	owl_strlcpy(h->comm, p->comm, sizeof(h->comm));
	owl_strlcpy(h->exe, p->exe, sizeof(h->exe));
	size_t n;
	const char *a0 = procinfo_arg(p, 0, &n);
	if (a0)
		owl_strncpy0(h->args0, sizeof(h->args0), a0, n);
	owl_strlcpy(h->user, p->user, sizeof(h->user));
	owl_strlcpy(h->unit, p->cg.unit, sizeof(h->unit));
	owl_strlcpy(h->container_id, p->cg.container_id, sizeof(h->container_id));
	h->user_session = p->cg.user_session;
	h->exited = p->gone;
}

static int push(struct ancestry *a, const struct anc_proc *h, uint32_t *ret_idx)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		struct anc_proc **ni = realloc(a->items, nc * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		a->items = ni;
		a->cap = nc;
	}
	struct anc_proc *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = *h;
	a->items[a->n] = c;
	*ret_idx = (uint32_t)a->n++;
	return 0;
}

int ancestry_add_known(struct ancestry *a, const struct anc_proc *known)
{
	if (known->pid <= 0)
		return -EINVAL;
	uint32_t idx;
	int rc = push(a, known, &idx);
	if (rc < 0)
		return rc;
	a->items[idx]->exited = true;
	return owl_u64map_put(&a->known, (uint64_t)known->pid + 1, idx);
}

static const struct anc_proc *known_get(struct ancestry *a, pid_t pid)
{
	uint32_t idx;
	if (pid <= 0)
		return NULL;
	if (owl_u64map_get(&a->known, (uint64_t)pid + 1, &idx))
		return idx == GONE ? NULL : a->items[idx];
	if (!a->lookup)
		return NULL;
	if (!a->scratch && !(a->scratch = malloc(sizeof(*a->scratch))))
		return NULL;
	memset(a->scratch, 0, sizeof(*a->scratch));
	a->scratch->loginuid = a->scratch->sessionid = UINT32_MAX;
	if (a->lookup(pid, a->scratch, a->lookup_ud) == 0 && a->scratch->pid == pid && ancestry_add_known(a, a->scratch) == 0 &&
	    owl_u64map_get(&a->known, (uint64_t)pid + 1, &idx))
		return a->items[idx];
	owl_u64map_put(&a->known, (uint64_t)pid + 1, GONE);
	return NULL;
}

static const struct anc_proc *live_get(struct ancestry *a, pid_t pid)
{
	uint32_t idx;
	if (pid <= 0)
		return NULL;
	if (owl_u64map_get(&a->live, (uint64_t)pid + 1, &idx))
		return idx == GONE ? NULL : a->items[idx];
	struct owl_proc *p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	const struct anc_proc *res = NULL;
	if (procinfo_load(a->proc_root, pid, p) == 0 && !p->gone) {
		struct anc_proc h;
		ancestry_from_proc(p, &h);
		if (push(a, &h, &idx) == 0 && owl_u64map_put(&a->live, (uint64_t)pid + 1, idx) == 0)
			res = a->items[idx];
	} else {
		owl_u64map_put(&a->live, (uint64_t)pid + 1, GONE);
	}
	free(p);
	return res;
}

const struct anc_proc *ancestry_seed(struct ancestry *a, const struct anc_proc *h)
{
	uint32_t idx;
	if (h->pid <= 0)
		return NULL;
	if (owl_u64map_get(&a->live, (uint64_t)h->pid + 1, &idx) && idx != GONE)
		return a->items[idx];
	if (push(a, h, &idx) < 0 || owl_u64map_put(&a->live, (uint64_t)h->pid + 1, idx) < 0)
		return NULL;
	return a->items[idx];
}

const struct anc_proc *ancestry_get(struct ancestry *a, pid_t pid)
{
	const struct anc_proc *h = live_get(a, pid);
	return h ? h : known_get(a, pid);
}

static bool same_start(uint64_t x, uint64_t y)
{
	return x && y && (x > y ? x - y : y - x) <= START_SLACK_NS;
}

/* True when parent can be the parent of child: it started no later. */
static bool plausible_parent(const struct anc_proc *parent, const struct anc_proc *child)
{
	if (!parent->start_ns || !child->start_ns)
		return true;
	return parent->start_ns <= child->start_ns + START_SLACK_NS;
}

size_t ancestry_chain(struct ancestry *a, const struct anc_proc *p, const struct anc_proc **chain, size_t max,
		      bool *ret_truncated)
{
	size_t n = 0;
	bool trunc = false;
	const struct anc_proc *cur = p;
	while (cur->pid != 1 && cur->ppid > 0) {
		pid_t ppid = cur->ppid;
		/* a recorded parent for this very process (same start) that
		 * differs from the current one: the child was reparented */
		const struct anc_proc *k = known_get(a, cur->pid);
		if (k && k != cur && !cur->exited && same_start(k->start_ns, cur->start_ns) && k->ppid > 0 &&
		    k->ppid != ppid) {
			ppid = k->ppid;
			((struct anc_proc *)cur)->reparented = true;
		}
		const struct anc_proc *par = live_get(a, ppid);
		if (!par || !plausible_parent(par, cur)) {
			/* gone, or the pid now names a younger process */
			const struct anc_proc *kp = known_get(a, ppid);
			par = kp && plausible_parent(kp, cur) ? kp : NULL;
		}
		if (!par)
			break;
		bool loop = par == p;
		for (size_t i = 0; i < n && !loop; i++)
			loop = chain[i] == par;
		if (loop)
			break;
		if (n == max) {
			trunc = true;
			break;
		}
		chain[n++] = par;
		cur = par;
	}
	if (ret_truncated)
		*ret_truncated = trunc;
	return n;
}
