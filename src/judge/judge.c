#include "judge/judge.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
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
		for (uint32_t i = 0; i < src->nfindings; i++)
			if (src->findings[i].severity > dst->severity)
				dst->severity = src->findings[i].severity;
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
	uint8_t sev = dst->severity;
	for (uint32_t k = 0; k < src->nfindings; k++)
		if (src->findings[k].severity > sev)
			sev = src->findings[k].severity;
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
	uint8_t s = OWL_SEV_NONE;
	for (uint32_t i = 0; i < rec->nfindings; i++)
		if (rec->findings[i].severity > s)
			s = rec->findings[i].severity;
	rec->severity = s;
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
	int c = memcmp(x->conn.raddr.bytes, y->conn.raddr.bytes, 16);
	if (c)
		return c;
	if (x->conn.rport != y->conn.rport)
		return x->conn.rport < y->conn.rport ? -1 : 1;
	if (x->conn.lport != y->conn.lport)
		return x->conn.lport < y->conn.lport ? -1 : 1;
	return (x->conn.inode > y->conn.inode) - (x->conn.inode < y->conn.inode);
}

void judge_sort(struct owl_record *recs, size_t n)
{
	if (n < 2)
		return;
	qsort(recs, n, sizeof(*recs), cmp_rec);
}
