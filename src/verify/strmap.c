#include "verify/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t vstrmap_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
	uint64_t w;
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return (uint32_t)(h >> 32);
}

void vstrmap_init(struct vstrmap *m)
{
	memset(m, 0, sizeof(*m));
}

void vstrmap_free(struct vstrmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->ents);
	free(m->arena);
	memset(m, 0, sizeof(*m));
}

static int grow_slots(struct vstrmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 1024;
	uint64_t *s = calloc(ncap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		size_t j = m->ents[i].hash & (ncap - 1);
		while (s[j])
			j = (j + 1) & (ncap - 1);
		s[j] = (uint64_t)m->ents[i].hash << 32 | ((uint32_t)i + 1);
	}
	free(m->slots);
	m->slots = s;
	m->cap = ncap;
	return 0;
}

static bool key_eq(const struct vstrmap *m, const struct vstrmap_ent *e, const char *key, size_t len, uint32_t h)
{
	return e->hash == h && e->len == len && memcmp(m->arena + e->off, key, len) == 0;
}

bool vstrmap_get(const struct vstrmap *m, const char *key, size_t len, uint32_t *ret_val)
{
	if (!m->cap)
		return false;
	uint32_t h = vstrmap_hash(key, len);
	for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
		uint64_t s = m->slots[j];
		if (!s)
			return false;
		if ((uint32_t)(s >> 32) != h)
			continue;
		const struct vstrmap_ent *e = &m->ents[(uint32_t)s - 1];
		if (key_eq(m, e, key, len, h)) {
			*ret_val = e->val;
			return true;
		}
	}
}

int vstrmap_put(struct vstrmap *m, const char *key, size_t len, uint32_t val, uint32_t *ret_ent, bool *ret_new)
{
	if ((m->n + 1) * 2 > m->cap && grow_slots(m) < 0)
		return -ENOMEM;
	uint32_t h = vstrmap_hash(key, len);
	size_t j;
	for (j = h & (m->cap - 1); m->slots[j]; j = (j + 1) & (m->cap - 1)) {
		uint64_t s = m->slots[j];
		if ((uint32_t)(s >> 32) != h)
			continue;
		uint32_t i = (uint32_t)s - 1;
		if (key_eq(m, &m->ents[i], key, len, h)) {
			if (ret_ent)
				*ret_ent = i;
			if (ret_new)
				*ret_new = false;
			return 0;
		}
	}
	if (m->alen + len + 1 > UINT32_MAX || m->n + 1 >= UINT32_MAX)
		return -E2BIG;
	if (m->alen + len + 1 > m->acap) {
		size_t nc = m->acap ? m->acap : 65536;
		while (nc < m->alen + len + 1)
			nc *= 2;
		char *a = realloc(m->arena, nc);
		if (!a)
			return -ENOMEM;
		m->arena = a;
		m->acap = nc;
	}
	if (m->n == m->ecap) {
		size_t nc = m->ecap ? m->ecap * 2 : 1024;
		struct vstrmap_ent *e = realloc(m->ents, nc * sizeof(*e));
		if (!e)
			return -ENOMEM;
		m->ents = e;
		m->ecap = nc;
	}
	memcpy(m->arena + m->alen, key, len);
	m->arena[m->alen + len] = '\0';
	m->ents[m->n] = (struct vstrmap_ent){.off = (uint32_t)m->alen, .len = (uint32_t)len, .val = val, .hash = h};
	m->alen += len + 1;
	m->slots[j] = (uint64_t)h << 32 | ((uint32_t)m->n + 1);
	if (ret_ent)
		*ret_ent = (uint32_t)m->n;
	if (ret_new)
		*ret_new = true;
	m->n++;
	return 0;
}

const char *vstrmap_key(const struct vstrmap *m, uint32_t i, size_t *ret_len)
{
	if (i >= m->n)
		return NULL;
	if (ret_len)
		*ret_len = m->ents[i].len;
	return m->arena + m->ents[i].off;
}
