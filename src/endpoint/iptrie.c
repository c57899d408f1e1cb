#include "endpoint/iptrie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define L1_BITS 16u
#define L1_SIZE (1u << L1_BITS)
#define L2_BITS 8u
#define L2_SIZE (1u << L2_BITS)
#define DENSE 16u /* candidates above which a first-level node gets a second level */

typedef unsigned __int128 u128;

struct iptrie_pfx {
	struct iptrie_key key;   /* host bits beyond plen are zero */
	uint32_t val;
	uint32_t seq;            /* insertion order: the first copy wins */
	uint8_t plen;
};

static inline u128 to128(struct iptrie_key k)
{
	return (u128)k.hi << 64 | k.lo;
}

static inline struct iptrie_key from128(u128 v)
{
	return (struct iptrie_key){(uint64_t)(v >> 64), (uint64_t)v};
}

static inline u128 mask128(unsigned plen)
{
	return plen == 0 ? 0 : ~(u128)0 << (128 - plen);
}

struct iptrie_key iptrie_key_from(const uint8_t *b, unsigned maxlen)
{
	struct iptrie_key k = {0, 0};
	unsigned n = maxlen == 32 ? 4 : 16;
	for (unsigned i = 0; i < n && i < 8; i++)
		k.hi |= (uint64_t)b[i] << (56 - 8 * i);
	for (unsigned i = 8; i < n; i++)
		k.lo |= (uint64_t)b[i] << (56 - 8 * (i - 8));
	return k;
}

void iptrie_key_bytes(struct iptrie_key k, unsigned maxlen, uint8_t *ret)
{
	unsigned n = maxlen == 32 ? 4 : 16;
	for (unsigned i = 0; i < n && i < 8; i++)
		ret[i] = (uint8_t)(k.hi >> (56 - 8 * i));
	for (unsigned i = 8; i < n; i++)
		ret[i] = (uint8_t)(k.lo >> (56 - 8 * (i - 8)));
}

int iptrie_init(struct iptrie *t, unsigned maxlen)
{
	if (maxlen != 32 && maxlen != 128)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->maxlen = maxlen;
	return 0;
}

static void free_table(struct iptrie *t)
{
	free(t->ranges);
	free(t->first);
	free(t->sub);
	free(t->subs);
	t->ranges = NULL;
	t->first = t->sub = t->subs = NULL;
	t->nranges = t->nsubs = 0;
	t->built = false;
}

void iptrie_free(struct iptrie *t)
{
	if (!t)
		return;
	free_table(t);
	free(t->pfx);
	memset(t, 0, sizeof(*t));
}

int iptrie_insert(struct iptrie *t, struct iptrie_key key, unsigned plen, uint32_t val)
{
	if (!t->maxlen || plen > t->maxlen || val == IPTRIE_NONE)
		return -EINVAL;
	if (t->npfx == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		struct iptrie_pfx *p = realloc(t->pfx, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->pfx = p;
		t->cap = ncap;
	}
	if (t->maxlen == 32)
		key.lo = 0, key.hi &= ~0ull << 32;
	u128 k = to128(key) & mask128(plen);
	t->pfx[t->npfx] = (struct iptrie_pfx){.key = from128(k), .val = val, .seq = (uint32_t)t->npfx,
					      .plen = (uint8_t)plen};
	t->npfx++;
	return 0;
}

/* Preorder of the nested prefixes: by start, then shorter (enclosing) first,
 * then insertion order. */
static int cmp_pfx(const void *a, const void *b)
{
	const struct iptrie_pfx *x = a, *y = b;
	if (x->key.hi != y->key.hi)
		return x->key.hi < y->key.hi ? -1 : 1;
	if (x->key.lo != y->key.lo)
		return x->key.lo < y->key.lo ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Tables of a million prefixes are tens of MiB read at random: ask for
 * transparent huge pages, so that a lookup is not also a TLB miss. */
static void *big_alloc(size_t size)
{
	const size_t huge = 2u << 20;
	if (size < 2 * huge)
		return malloc(size ? size : 1);
	size_t rounded = (size + huge - 1) / huge * huge;
	void *p = aligned_alloc(huge, rounded);
	if (p)
		madvise(p, rounded, MADV_HUGEPAGE);
	return p;
}

struct ranges {
	struct iptrie_range *v;
	uint32_t *ids;  /* which prefix each range is, while building */
	size_t n;
};

/* A new range from start on; a range starting at the same place as the
 * last one replaces it, and a range with the same id as the one before is
 * merged into it. */
static void emit(struct ranges *r, u128 start, uint32_t id, const struct iptrie_pfx *pfx)
{
	if (r->n && to128(r->v[r->n - 1].start) == start) {
		r->n--;
		if (r->n && r->ids[r->n - 1] == id)
			return;
	} else if (r->n && r->ids[r->n - 1] == id) {
		return;
	}
	r->v[r->n].start = from128(start);
	r->v[r->n].val = id == IPTRIE_NONE ? IPTRIE_NONE : pfx[id].val;
	r->v[r->n].plen = id == IPTRIE_NONE ? 0 : pfx[id].plen;
	r->ids[r->n] = id;
	r->n++;
}

/* Index of the first range starting at or after v in [lo, hi). */
static uint32_t lower_bound(const struct ranges *r, size_t lo, size_t hi, u128 v)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (to128(r->v[mid].start) < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

int iptrie_build(struct iptrie *t, void (*on_dup)(void *arg, uint32_t val), void *arg)
{
	if (t->npfx == 0) {
		/* nothing to look up: no table at all (lookups answer "no") */
		free_table(t);
		t->nprefixes = 0;
		return 0;
	}
	if (t->npfx)
		qsort(t->pfx, t->npfx, sizeof(*t->pfx), cmp_pfx);
	size_t k = 0;
	for (size_t i = 0; i < t->npfx; i++) {
		if (k && t->pfx[k - 1].plen == t->pfx[i].plen && t->pfx[k - 1].key.hi == t->pfx[i].key.hi &&
		    t->pfx[k - 1].key.lo == t->pfx[i].key.lo) {
			if (on_dup)
				on_dup(arg, t->pfx[i].val);
			continue;
		}
		t->pfx[k++] = t->pfx[i];
	}
	t->npfx = k;
	/* insertion order of the survivors no longer matters: renumber so a
	 * later build sees them before anything inserted after */
	for (size_t i = 0; i < k; i++)
		t->pfx[i].seq = (uint32_t)i;

	/* every prefix opens at most one range and closes at most one */
	struct ranges r = {.v = big_alloc((2 * k + 1) * sizeof(*r.v)), .ids = malloc((2 * k + 1) * sizeof(*r.ids))};
	uint32_t *first = malloc((L1_SIZE + 1) * sizeof(*first));
	uint32_t *sub = malloc(L1_SIZE * sizeof(*sub));
	if (!r.v || !r.ids || !first || !sub)
		goto nomem;

	/* sweep: a stack of the enclosing prefixes (at most 129 deep) */
	struct {
		u128 hi;
		uint32_t id;
	} stack[130];
	int sp = 0;
	stack[0].hi = ~(u128)0;
	stack[0].id = IPTRIE_NONE;
	emit(&r, 0, IPTRIE_NONE, t->pfx);
	for (size_t i = 0; i < k; i++) {
		u128 lo = to128(t->pfx[i].key), hi = lo | ~mask128(t->pfx[i].plen);
		while (stack[sp].hi < lo) {
			u128 end = stack[sp--].hi;
			emit(&r, end + 1, stack[sp].id, t->pfx);
		}
		emit(&r, lo, (uint32_t)i, t->pfx);
		stack[++sp].hi = hi;
		stack[sp].id = (uint32_t)i;
	}
	while (sp > 0) {
		u128 end = stack[sp--].hi;
		if (end != ~(u128)0)
			emit(&r, end + 1, stack[sp].id, t->pfx);
	}

	/* first level: the ranges that can hold an address of each /16 node
	 * (one sweep: both sequences are sorted) */
	for (uint32_t b = 0, j = 0; b < L1_SIZE; b++) {
		u128 bs = (u128)b << (128 - L1_BITS);
		while (j < r.n && to128(r.v[j].start) < bs)
			j++;
		first[b] = j;
	}
	first[L1_SIZE] = (uint32_t)r.n;
	size_t nsubs = 0;
	for (uint32_t b = 0; b < L1_SIZE; b++)
		sub[b] = first[b + 1] - first[b] > DENSE ? (uint32_t)nsubs++ : IPTRIE_NONE;
	uint32_t *subs = big_alloc((nsubs ? nsubs : 1) * (L2_SIZE + 1) * sizeof(*subs));
	if (!subs)
		goto nomem;
	for (uint32_t b = 0; b < L1_SIZE; b++) {
		if (sub[b] == IPTRIE_NONE)
			continue;
		uint32_t *s = subs + (size_t)sub[b] * (L2_SIZE + 1);
		u128 base = (u128)b << (128 - L1_BITS);
		for (uint32_t x = 0; x < L2_SIZE; x++)
			s[x] = lower_bound(&r, x ? s[x - 1] : first[b], first[b + 1],
					   base | (u128)x << (128 - L1_BITS - L2_BITS));
		s[L2_SIZE] = first[b + 1];
	}
	free(r.ids);
	free_table(t);
	t->ranges = r.v;
	t->nranges = r.n;
	t->first = first;
	t->sub = sub;
	t->subs = subs;
	t->nsubs = nsubs;
	t->nprefixes = k;
	t->built = true;
	return 0;
nomem:
	free(r.v);
	free(r.ids);
	free(first);
	free(sub);
	return -ENOMEM;
}

bool iptrie_lookup(const struct iptrie *t, struct iptrie_key key, struct iptrie_match *ret)
{
	if (!t->built || !t->nranges)
		return false;
	if (t->maxlen == 32)
		key.lo = 0, key.hi &= ~0ull << 32;
	u128 v = to128(key);
	uint32_t b = (uint32_t)(key.hi >> (64 - L1_BITS));
	size_t lo, hi;
	if (t->sub[b] == IPTRIE_NONE) {
		lo = t->first[b];
		hi = t->first[b + 1];
	} else {
		const uint32_t *s = t->subs + (size_t)t->sub[b] * (L2_SIZE + 1);
		uint32_t x = (uint32_t)(key.hi >> (64 - L1_BITS - L2_BITS)) & (L2_SIZE - 1);
		lo = s[x];
		hi = s[x + 1];
	}
	/* the answer is the last range starting at or before v: in [lo-1, hi) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (to128(t->ranges[mid].start) <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	const struct iptrie_range *rg = &t->ranges[lo - 1];
	if (rg->val == IPTRIE_NONE)
		return false;
	/* the range lies inside its prefix: masking its start gives the prefix */
	*ret = (struct iptrie_match){.key = from128(to128(rg->start) & mask128(rg->plen)), .plen = rg->plen,
				     .val = rg->val};
	return true;
}
