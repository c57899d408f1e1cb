#include "endpoint/iptrie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 65536u
#define BUCKET_BITS 16u

struct iptrie_node {
	struct iptrie_key key;   /* host bits beyond plen are zero */
	uint32_t child[2];
	uint32_t val;            /* IPTRIE_NONE for a pure branching node */
	uint8_t plen;
};

struct iptrie_short {
	struct iptrie_key key;
	uint32_t val;
	uint8_t plen;
};

static inline uint64_t mask64(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 64 ? ~0ull : ~0ull << (64 - bits);
}

static inline struct iptrie_key key_mask(struct iptrie_key k, unsigned plen)
{
	k.hi &= mask64(plen);
	k.lo &= plen > 64 ? mask64(plen - 64) : 0;
	return k;
}

static inline bool key_match(struct iptrie_key k, struct iptrie_key p, unsigned plen)
{
	if (plen <= 64)
		return ((k.hi ^ p.hi) & mask64(plen)) == 0;
	return k.hi == p.hi && ((k.lo ^ p.lo) & mask64(plen - 64)) == 0;
}

static inline unsigned key_bit(struct iptrie_key k, unsigned i)
{
	return i < 64 ? (unsigned)(k.hi >> (63 - i)) & 1 : (unsigned)(k.lo >> (127 - i)) & 1;
}

/* Length of the common prefix of a and b, at most limit. */
static inline unsigned key_common(struct iptrie_key a, struct iptrie_key b, unsigned limit)
{
	unsigned n;
	uint64_t x = a.hi ^ b.hi;
	if (x)
		n = (unsigned)__builtin_clzll(x);
	else if ((x = a.lo ^ b.lo))
		n = 64 + (unsigned)__builtin_clzll(x);
	else
		n = 128;
	return n < limit ? n : limit;
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
	t->bucket = calloc(NBUCKETS, sizeof(*t->bucket));
	t->bucket_short = malloc(NBUCKETS * sizeof(*t->bucket_short));
	t->cap = 64;
	t->nodes = malloc(t->cap * sizeof(*t->nodes));
	if (!t->bucket || !t->bucket_short || !t->nodes) {
		iptrie_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < NBUCKETS; i++)
		t->bucket_short[i] = IPTRIE_NONE;
	t->nnodes = 1;
	return 0;
}

void iptrie_free(struct iptrie *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->bucket);
	free(t->bucket_short);
	free(t->shorts);
	memset(t, 0, sizeof(*t));
}

static int reserve(struct iptrie *t, uint32_t more)
{
	if (t->nnodes + more <= t->cap)
		return 0;
	if (t->cap > UINT32_MAX / 2 - more)
		return -ENOMEM;
	uint32_t ncap = t->cap * 2;
	struct iptrie_node *n = realloc(t->nodes, (size_t)ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->nodes = n;
	t->cap = ncap;
	return 0;
}

static uint32_t new_node(struct iptrie *t, struct iptrie_key k, unsigned plen, uint32_t val)
{
	uint32_t i = t->nnodes++;
	struct iptrie_node *n = &t->nodes[i];
	n->key = key_mask(k, plen);
	n->plen = (uint8_t)plen;
	n->val = val;
	n->child[0] = n->child[1] = 0;
	return i;
}

static int insert_short(struct iptrie *t, struct iptrie_key key, unsigned plen, uint32_t val)
{
	key = key_mask(key, plen);
	/* one bit per possible short prefix, laid out as a heap: (1 << plen) + bits */
	uint32_t seen = (1u << plen) + (plen ? (uint32_t)(key.hi >> (64 - plen)) : 0);
	if (t->short_seen[seen / 8] & (1u << (seen % 8)))
		return -EEXIST;
	if (t->nshorts == t->shorts_cap) {
		uint32_t ncap = t->shorts_cap ? t->shorts_cap * 2 : 16;
		struct iptrie_short *s = realloc(t->shorts, ncap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		t->shorts = s;
		t->shorts_cap = ncap;
	}
	uint32_t si = t->nshorts++;
	t->shorts[si] = (struct iptrie_short){.key = key, .val = val, .plen = (uint8_t)plen};
	t->short_seen[seen / 8] |= (uint8_t)(1u << (seen % 8));
	uint32_t first = (uint32_t)(key.hi >> 48);
	uint32_t count = 1u << (BUCKET_BITS - plen);
	for (uint32_t b = first; b < first + count; b++) {
		uint32_t cur = t->bucket_short[b];
		if (cur == IPTRIE_NONE || t->shorts[cur].plen < plen)
			t->bucket_short[b] = si;
	}
	t->nprefixes++;
	return 0;
}

int iptrie_insert(struct iptrie *t, struct iptrie_key key, unsigned plen, uint32_t val)
{
	if (plen > t->maxlen || val == IPTRIE_NONE)
		return -EINVAL;
	if (t->maxlen == 32)
		key.lo = 0, key.hi &= mask64(32);
	if (plen < BUCKET_BITS)
		return insert_short(t, key, plen, val);
	key = key_mask(key, plen);
	/* at most two new nodes: reserve first so that slot pointers stay valid */
	if (reserve(t, 2) < 0)
		return -ENOMEM;
	uint32_t *slot = &t->bucket[key.hi >> 48];
	for (;;) {
		if (*slot == 0) {
			*slot = new_node(t, key, plen, val);
			break;
		}
		struct iptrie_node *n = &t->nodes[*slot];
		unsigned cpl = key_common(key, n->key, plen < n->plen ? plen : n->plen);
		if (cpl == n->plen) {
			if (plen == n->plen) {
				if (n->val != IPTRIE_NONE)
					return -EEXIST;
				n->val = val;
				break;
			}
			slot = &n->child[key_bit(key, n->plen)];
			continue;
		}
		/* cpl < n->plen: the new prefix branches off above n */
		uint32_t old = *slot;
		unsigned obit = key_bit(n->key, cpl);
		if (cpl == plen) {
			uint32_t x = new_node(t, key, plen, val);
			t->nodes[x].child[obit] = old;
			*slot = x;
		} else {
			uint32_t x = new_node(t, key, cpl, IPTRIE_NONE);
			uint32_t leaf = new_node(t, key, plen, val);
			t->nodes[x].child[obit] = old;
			t->nodes[x].child[!obit] = leaf;
			*slot = x;
		}
		break;
	}
	t->nprefixes++;
	return 0;
}

bool iptrie_lookup(const struct iptrie *t, struct iptrie_key key, struct iptrie_match *ret)
{
	if (!t->bucket)
		return false;
	if (t->maxlen == 32)
		key.lo = 0, key.hi &= mask64(32);
	uint32_t b = (uint32_t)(key.hi >> 48);
	uint32_t i = t->bucket[b];
	const struct iptrie_node *best = NULL;
	while (i) {
		const struct iptrie_node *n = &t->nodes[i];
		if (!key_match(key, n->key, n->plen))
			break;
		if (n->val != IPTRIE_NONE)
			best = n;
		if (n->plen >= t->maxlen)
			break;
		i = n->child[key_bit(key, n->plen)];
	}
	if (best) {
		*ret = (struct iptrie_match){.key = best->key, .plen = best->plen, .val = best->val};
		return true;
	}
	uint32_t s = t->bucket_short[b];
	if (s == IPTRIE_NONE)
		return false;
	*ret = (struct iptrie_match){.key = t->shorts[s].key, .plen = t->shorts[s].plen, .val = t->shorts[s].val};
	return true;
}
