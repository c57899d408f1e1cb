#include "judge/judge.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/hashmap.h"
#include "core/util.h"
#include "judge/fset.h"

static const char *const sev_names[] = {
	[OWL_SEV_NONE] = "info", [OWL_SEV_INFO] = "info", [OWL_SEV_LOW] = "low",
	[OWL_SEV_MEDIUM] = "medium", [OWL_SEV_HIGH] = "high", [OWL_SEV_CRITICAL] = "critical",
};

const char *judge_severity_name(enum owl_severity s)
{
	return (unsigned)s <= OWL_SEV_CRITICAL ? sev_names[s] : "info";
}

int judge_severity_parse(const char *s)
{
	for (int i = OWL_SEV_INFO; i <= OWL_SEV_CRITICAL; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -EINVAL;
}

/* The most severe of rec's findings (OWL_SEV_NONE without any). */
static uint8_t max_severity(const struct owl_record *rec)
{
	uint8_t s = OWL_SEV_NONE;
	for (uint32_t i = 0; i < rec->nfindings; i++)
		if (rec->findings[i].severity > s)
			s = rec->findings[i].severity;
	return s;
}

/* Swap rec's set for the interned copy of f[0..n), whose first same_upto
 * findings are rec's unchanged. */
static void set_findings(struct owl_record *rec, const struct owl_finding *f, uint32_t n, uint32_t same_upto)
{
	const struct owl_finding *nf = fset_intern_from(rec->findings, same_upto, f, n);
	if (n && !nf)
		return; /* out of memory: the record keeps what it had */
	fset_unref(rec->findings);
	rec->findings = nf;
	rec->nfindings = nf ? n : 0;
}

void judge_add(struct owl_record *rec, const char *id, enum owl_severity sev, const char *fmt, ...)
{
	struct owl_finding tmp[OWL_FINDINGS_MAX];
	uint32_t n = OWL_MIN(rec->nfindings, (uint32_t)OWL_FINDINGS_MAX), at = n;
	if (sev > rec->severity)
		rec->severity = (uint8_t)sev; /* the verdict counts it even if it is not kept */
	if (n == OWL_FINDINGS_MAX) {
		/* full: a more severe finding replaces the least severe one */
		uint32_t lo = 0;
		for (uint32_t i = 1; i < n; i++)
			if (rec->findings[i].severity < rec->findings[lo].severity)
				lo = i;
		if (rec->findings[lo].severity >= sev)
			return;
		at = lo;
	}
	if (n)
		memcpy(tmp, rec->findings, n * sizeof(tmp[0]));
	struct owl_finding *f = &tmp[at];
	f->id = id;
	f->severity = (uint8_t)sev;
	va_list ap;
	va_start(ap, fmt);
	if (strcmp(fmt, "%s") == 0) /* a reason worked out once per process: no printf machinery */
		owl_strlcpy(f->reason, va_arg(ap, const char *), sizeof(f->reason));
	else
		vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	set_findings(rec, tmp, at == n ? n + 1 : n, at);
}

void judge_set_severity(struct owl_record *rec, uint32_t i, enum owl_severity sev)
{
	if (i >= rec->nfindings || rec->findings[i].severity == sev)
		return;
	struct owl_finding tmp[OWL_FINDINGS_MAX];
	uint32_t n = OWL_MIN(rec->nfindings, (uint32_t)OWL_FINDINGS_MAX);
	memcpy(tmp, rec->findings, n * sizeof(tmp[0]));
	tmp[i].severity = (uint8_t)sev;
	set_findings(rec, tmp, n, i);
}

void judge_share_findings(struct owl_record *dst, const struct owl_record *src)
{
	fset_ref(src->findings);
	fset_unref(dst->findings);
	dst->findings = src->findings;
	dst->nfindings = src->nfindings;
}

void judge_add_all(struct owl_record *dst, const struct owl_record *src)
{
	if (!src->nfindings)
		return;
	if (!dst->nfindings) {
		judge_share_findings(dst, src);
		dst->severity = OWL_MAX(dst->severity, max_severity(src));
		return;
	}
	for (uint32_t i = 0; i < src->nfindings; i++) {
		const struct owl_finding *f = &src->findings[i];
		judge_add(dst, f->id, (enum owl_severity)f->severity, "%s", f->reason);
	}
}

/* ---- judge_add_all with a memo: (dst's set, src's set) -> the result */

#define MEMO_SLOTS 512

struct judge_memo {
	struct {
		const struct owl_finding *from, *add, *to; /* a reference held on each */
		uint16_t n;
	} e[MEMO_SLOTS];
};

struct judge_memo *judge_memo_new(void)
{
	return calloc(1, sizeof(struct judge_memo));
}

static void memo_drop(struct judge_memo *m, size_t i)
{
	fset_unref(m->e[i].from);
	fset_unref(m->e[i].add);
	fset_unref(m->e[i].to);
	memset(&m->e[i], 0, sizeof(m->e[i]));
}

void judge_memo_free(struct judge_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		memo_drop(m, i);
	free(m);
}

void judge_add_all_memo(struct judge_memo *m, struct owl_record *dst, const struct owl_record *src)
{
	if (!m || !src->nfindings || !dst->nfindings) {
		judge_add_all(dst, src); /* nothing to add, or a plain share */
		return;
	}
	uint64_t h = ((uint64_t)(uintptr_t)dst->findings * 0x9e3779b97f4a7c15ULL) ^
		     ((uint64_t)(uintptr_t)src->findings * 0xc2b2ae3d27d4eb4fULL);
	size_t i = (size_t)(h >> 40) % MEMO_SLOTS;
	uint8_t sev = OWL_MAX(dst->severity, max_severity(src));
	if (m->e[i].to && m->e[i].from == dst->findings && m->e[i].add == src->findings) {
		fset_ref(m->e[i].to);
		fset_unref(dst->findings);
		dst->findings = m->e[i].to;
		dst->nfindings = m->e[i].n;
		dst->severity = sev;
		return;
	}
	const struct owl_finding *from = dst->findings;
	fset_ref(from); /* kept alive for the memo */
	judge_add_all(dst, src);
	if (dst->findings == from) { /* nothing changed (full, or out of memory) */
		fset_unref(from);
		return;
	}
	memo_drop(m, i);
	m->e[i].from = from;
	fset_ref(src->findings);
	m->e[i].add = src->findings;
	fset_ref(dst->findings);
	m->e[i].to = dst->findings;
	m->e[i].n = dst->nfindings;
}

void judge_free_findings(struct owl_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fset_unref(recs[i].findings);
		recs[i].findings = NULL;
		recs[i].nfindings = 0;
	}
}

bool judge_has(const struct owl_record *rec, const char *id)
{
	for (uint32_t i = 0; i < rec->nfindings; i++)
		if (strcmp(rec->findings[i].id, id) == 0)
			return true;
	return false;
}

void judge_verdict(struct owl_record *rec)
{
	rec->severity = max_severity(rec);
}

void judge_records(struct owl_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		judge_verdict(&recs[i]);
}

static bool in_default_view(const struct owl_record *r)
{
	if (r->severity >= OWL_SEV_MEDIUM)
		return true;
	const struct owl_conn *c = &r->conn;
	if (c->direction != OWL_DIR_EGRESS)
		return false;
	if (c->transport != OWL_TP_TCP && c->transport != OWL_TP_UDP && c->transport != OWL_TP_RAW)
		return false;
	return !owl_addr_is_loopback(&c->raddr) && !owl_addr_is_any(&c->raddr);
}

size_t judge_filter_view(struct owl_record *recs, size_t n, bool all)
{
	if (all)
		return n;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (in_default_view(&recs[i])) {
			recs[k++] = recs[i];
		} else {
			judge_free_findings(&recs[i], 1); /* the record leaves the report */
		}
	}
	return k;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct owl_record *x = a, *y = b;
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	/* records with an owner before those without */
	if (!!x->proc != !!y->proc)
		return x->proc ? -1 : 1;
	if (x->proc && y->proc) {
		int c = strcmp(x->proc->comm, y->proc->comm);
		if (c)
			return c;
		if (x->proc->pid != y->proc->pid)
			return x->proc->pid < y->proc->pid ? -1 : 1;
	}
	if (x->conn.netns_ino != y->conn.netns_ino)
		return x->conn.netns_ino < y->conn.netns_ino ? -1 : 1;
	if (x->conn.transport != y->conn.transport)
		return x->conn.transport < y->conn.transport ? -1 : 1;
	bool x6 = x->conn.raddr.family == AF_INET6, y6 = y->conn.raddr.family == AF_INET6;
	if (x6 != y6)
		return x6 ? 1 : -1; /* IPv4 peers first */
	int c = memcmp(x->conn.raddr.bytes, y->conn.raddr.bytes, 16);
	if (c)
		return c;
	if (x->conn.rport != y->conn.rport)
		return x->conn.rport < y->conn.rport ? -1 : 1;
	if (x->conn.lport != y->conn.lport)
		return x->conn.lport < y->conn.lport ? -1 : 1;
	return (x->conn.inode > y->conn.inode) - (x->conn.inode < y->conn.inode);
}

/* Sorting 200,000 records of 200 bytes: sort 16-byte entries whose keys
 * order as cmp_rec does (severity, owner by (comm, pid) rank, namespace
 * rank, transport, family, an IPv4 peer's address, then its ports), in
 * place (no second buffer), never touching a record but to settle ties
 * (an IPv6 peer's address, ranks past their bits, the inode); then the
 * records are permuted in place, cycle by cycle. */
struct sort_ent {
	uint64_t k1;
	uint32_t k2;
	uint32_t idx;
};

static int cmp_ent(const struct owl_record *recs, const struct sort_ent *x, const struct sort_ent *y)
{
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2)
		return x->k2 < y->k2 ? -1 : 1;
	return cmp_rec(&recs[x->idx], &recs[y->idx]);
}

static void swap_ent(struct sort_ent *a, struct sort_ent *b)
{
	struct sort_ent t = *a;
	*a = *b;
	*b = t;
}

/* quicksort: median of three, insertion sort below 16, recursion on the
 * smaller side (depth <= log2 n) */
static void sort_ents(const struct owl_record *recs, struct sort_ent *e, size_t n)
{
	while (n > 16) {
		size_t m = n / 2;
		if (cmp_ent(recs, &e[m], &e[0]) < 0)
			swap_ent(&e[m], &e[0]);
		if (cmp_ent(recs, &e[n - 1], &e[0]) < 0)
			swap_ent(&e[n - 1], &e[0]);
		if (cmp_ent(recs, &e[n - 1], &e[m]) < 0)
			swap_ent(&e[n - 1], &e[m]);
		struct sort_ent pivot = e[m];
		size_t i = 0, j = n - 1;
		for (;;) {
			while (cmp_ent(recs, &e[i], &pivot) < 0)
				i++;
			while (cmp_ent(recs, &pivot, &e[j]) < 0)
				j--;
			if (i >= j)
				break;
			swap_ent(&e[i], &e[j]);
			i++;
			j--;
		}
		/* [0, j] <= pivot <= [j + 1, n) */
		size_t left = j + 1;
		if (left < n - left) {
			sort_ents(recs, e, left);
			e += left;
			n -= left;
		} else {
			sort_ents(recs, e + left, n - left);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct sort_ent t = e[i];
		size_t j = i;
		for (; j > 0 && cmp_ent(recs, &t, &e[j - 1]) < 0; j--)
			e[j] = e[j - 1];
		e[j] = t;
	}
}

static int cmp_proc_ptr(const void *a, const void *b)
{
	const struct owl_proc *x = *(const struct owl_proc *const *)a, *y = *(const struct owl_proc *const *)b;
	int c = strcmp(x->comm, y->comm);
	if (c)
		return c;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Ranks of the records' processes by (comm, pid) and of their namespaces
 * by inode, in maps from pointer / inode to rank.  -ENOMEM or 0. */
static int ranks(const struct owl_record *recs, size_t n, struct owl_u64map *prank, struct owl_u64map *nrank)
{
	int rc = -ENOMEM;
	const struct owl_proc **pv = NULL;
	uint64_t *nv = NULL;
	size_t np = 0, nn = 0;
	struct owl_u64map seen = {0};
	if (owl_u64map_init(prank, 64) < 0 || owl_u64map_init(nrank, 16) < 0 || owl_u64map_init(&seen, 64) < 0)
		goto out;
	uint32_t d;
	size_t capp = 0, capn = 0;
	for (size_t i = 0; i < n; i++) {
		const struct owl_proc *p = recs[i].proc;
		uint64_t pk = (uint64_t)(uintptr_t)p;
		if (p && !owl_u64map_get(&seen, pk, &d)) {
			if (np == capp) {
				capp = capp ? capp * 2 : 64;
				const struct owl_proc **t = realloc(pv, capp * sizeof(*t));
				if (!t)
					goto out;
				pv = t;
			}
			pv[np++] = p;
			if (owl_u64map_put(&seen, pk, 0) < 0)
				goto out;
		}
		uint64_t ns = recs[i].conn.netns_ino + 1; /* the map's key 0 is empty */
		if (!owl_u64map_get(nrank, ns, &d)) {
			if (nn == capn) {
				capn = capn ? capn * 2 : 16;
				uint64_t *t = realloc(nv, capn * sizeof(*t));
				if (!t)
					goto out;
				nv = t;
			}
			nv[nn++] = ns;
			if (owl_u64map_put(nrank, ns, 0) < 0)
				goto out;
		}
	}
	if (np)
		qsort(pv, np, sizeof(*pv), cmp_proc_ptr);
	if (nn)
		qsort(nv, nn, sizeof(*nv), cmp_u64);
	for (size_t i = 0; i < np; i++)
		if (owl_u64map_put(prank, (uint64_t)(uintptr_t)pv[i], (uint32_t)i) < 0)
			goto out;
	for (size_t i = 0; i < nn; i++)
		if (owl_u64map_put(nrank, nv[i], (uint32_t)i) < 0)
			goto out;
	rc = 0;
out:
	owl_u64map_free(&seen);
	free(pv);
	free(nv);
	return rc;
}

void judge_sort(struct owl_record *recs, size_t n)
{
	if (n < 2)
		return;
	struct owl_u64map prank = {0}, nrank = {0};
	struct sort_ent *e = n < UINT32_MAX ? malloc(n * sizeof(*e)) : NULL;
	if (!e || ranks(recs, n, &prank, &nrank) < 0) {
		free(e);
		owl_u64map_free(&prank);
		owl_u64map_free(&nrank);
		qsort(recs, n, sizeof(*recs), cmp_rec);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct owl_record *r = &recs[i];
		const struct owl_conn *c = &r->conn;
		uint32_t pr = 0, nr = 0;
		if (r->proc)
			(void)owl_u64map_get(&prank, (uint64_t)(uintptr_t)r->proc, &pr);
		(void)owl_u64map_get(&nrank, c->netns_ino + 1, &nr);
		bool v6 = c->raddr.family == AF_INET6;
		uint64_t a4 = (uint64_t)c->raddr.bytes[0] << 24 | (uint64_t)c->raddr.bytes[1] << 16 |
			      (uint64_t)c->raddr.bytes[2] << 8 | c->raddr.bytes[3];
		/* k1: severity (descending) 3 | no owner 1 | owner rank 17 |
		 * namespace rank 8 | transport 2 | IPv6 1 | the peer's first 4
		 * bytes 32.  Ranks past their bits all read as the last one:
		 * cmp_rec settles those ties. */
		e[i].k1 = (uint64_t)(OWL_SEV_CRITICAL - OWL_MIN(r->severity, (uint8_t)OWL_SEV_CRITICAL)) << 61 |
			  (uint64_t)!r->proc << 60 | (uint64_t)OWL_MIN(pr, 0x1ffffu) << 43 |
			  (uint64_t)OWL_MIN(nr, 0xffu) << 35 | (uint64_t)(c->transport & 3) << 33 | (uint64_t)v6 << 32 | a4;
		/* an IPv4 peer's ports; an IPv6 peer's order is cmp_rec's */
		e[i].k2 = v6 ? 0 : (uint32_t)c->rport << 16 | c->lport;
		e[i].idx = (uint32_t)i;
	}
	owl_u64map_free(&prank);
	owl_u64map_free(&nrank);
	sort_ents(recs, e, n);
	/* position i takes the record that was at e[i].idx */
	for (size_t i = 0; i < n; i++) {
		if (e[i].idx == i || e[i].idx == UINT32_MAX)
			continue;
		struct owl_record tmp = recs[i];
		size_t j = i;
		for (;;) {
			size_t from = e[j].idx;
			e[j].idx = UINT32_MAX;
			if (from == i) {
				recs[j] = tmp;
				break;
			}
			recs[j] = recs[from];
			j = from;
		}
	}
	free(e);
}
