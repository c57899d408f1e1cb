#include "core/hashmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t mix(uint64_t x)
{
	/* splitmix64 finaliser */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int alloc_tab(struct owl_u64map *m, size_t cap)
{
	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	m->cap = cap;
	m->n = 0;
	return 0;
}

int owl_u64map_init(struct owl_u64map *m, size_t expect)
{
	size_t cap = 16;
	while (cap < expect * 2 && cap < ((size_t)1 << 40))
		cap <<= 1;
	memset(m, 0, sizeof(*m));
	return alloc_tab(m, cap);
}

void owl_u64map_free(struct owl_u64map *m)
{
	if (!m)
		return;
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static void put_nogrow(struct owl_u64map *m, uint64_t key, uint32_t val)
{
	size_t mask = m->cap - 1, i = mix(key) & mask;
	while (m->slots[i].key && m->slots[i].key != key)
		i = (i + 1) & mask;
	if (!m->slots[i].key)
		m->n++;
	m->slots[i].key = key;
	m->slots[i].val = val;
}

int owl_u64map_put(struct owl_u64map *m, uint64_t key, uint32_t val)
{
	if (key == 0)
		return -EINVAL;
	if (!m->cap && owl_u64map_init(m, 16) < 0)
		return -ENOMEM;
	if ((m->n + 1) * 4 > m->cap * 3) {
		struct owl_u64map old = *m;
		if (alloc_tab(m, old.cap * 2) < 0) {
			*m = old;
			return -ENOMEM;
		}
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i].key)
				put_nogrow(m, old.slots[i].key, old.slots[i].val);
		free(old.slots);
	}
	put_nogrow(m, key, val);
	return 0;
}

bool owl_u64map_get(const struct owl_u64map *m, uint64_t key, uint32_t *ret)
{
	if (!m->cap || key == 0)
		return false;
	size_t mask = m->cap - 1, i = mix(key) & mask;
	while (m->slots[i].key) {
		if (m->slots[i].key == key) {
			*ret = m->slots[i].val;
			return true;
		}
		i = (i + 1) & mask;
	}
	return false;
}
