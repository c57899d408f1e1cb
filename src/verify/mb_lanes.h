/* The lane bookkeeping shared by the multi-buffer hashes (md5mb.c,
 * sha256mb.c): each lane holds one message's state, its pending whole
 * blocks (read in place from the caller's buffer) and its tail (< 64 bytes,
 * copied).  A hash supplies its kernel (n blocks in every lane at once), a
 * one-block scalar compression (tails and padding), its initial state and
 * its byte order.  Internal to src/verify. */
#ifndef OWL_VERIFY_MB_LANES_H
#define OWL_VERIFY_MB_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MB_LANES 16 /* the most any implementation runs */
#define MB_WORDS 8  /* state words, the most any hash has */

/* Lane l's state word i is st[i][l]: a vector load takes word i of every
 * lane.  A kernel advances every lane by n blocks, block k of lane l at
 * p[l] + 64 k; a lane whose p is mb_zero_block is unused (it reads zeros,
 * its state is restored afterwards). */
typedef void mb_kernel_fn(uint32_t st[MB_WORDS][MB_LANES], const uint8_t *const p[MB_LANES], size_t n);
typedef void mb_block1_fn(uint32_t st[MB_WORDS][MB_LANES], unsigned l, const uint8_t *p);

static const _Alignas(64) uint8_t mb_zero_block[64];

struct mb_lane {
	const uint8_t *p; /* whole blocks fed and not yet hashed */
	size_t nblocks;
	uint64_t total;   /* bytes fed */
	uint8_t tail[64]; /* bytes after the last whole block */
	size_t tlen;
	bool begun;
};

struct mb_core {
	_Alignas(64) uint32_t st[MB_WORDS][MB_LANES];
	struct mb_lane lane[MB_LANES];
	unsigned nlanes;
	unsigned nwords;     /* state words: 4 (md5) or 8 (sha256) */
	bool big_endian;     /* of the length and the digest */
	const uint32_t *init;
	mb_kernel_fn *kernel;
	mb_block1_fn *block1;
};

static inline void mb_begin(struct mb_core *m, unsigned lane)
{
	if (lane >= m->nlanes)
		return;
	m->lane[lane] = (struct mb_lane){.begun = true};
	for (unsigned i = 0; i < m->nwords; i++)
		m->st[i][lane] = m->init[i];
}

static inline void mb_feed(struct mb_core *m, unsigned lane, const void *data, size_t len)
{
	if (lane >= m->nlanes)
		return;
	struct mb_lane *L = &m->lane[lane];
	if (!L->begun || L->nblocks || !len)
		return;
	const uint8_t *p = data;
	L->total += len;
	if (L->tlen) {
		size_t take = 64 - L->tlen < len ? 64 - L->tlen : len;
		memcpy(L->tail + L->tlen, p, take);
		L->tlen += take;
		p += take;
		len -= take;
		if (L->tlen < 64)
			return;
		m->block1(m->st, lane, L->tail);
		L->tlen = 0;
	}
	L->p = p;
	L->nblocks = len / 64;
	L->tlen = len % 64;
	if (L->tlen)
		memcpy(L->tail, p + 64 * L->nblocks, L->tlen);
}

static inline uint32_t mb_run(struct mb_core *m)
{
	const uint8_t *p[MB_LANES];
	uint32_t saved[MB_WORDS][MB_LANES];
	size_t n = SIZE_MAX;
	uint32_t busy = 0, begun = 0;
	for (unsigned l = 0; l < MB_LANES; l++) {
		p[l] = mb_zero_block;
		if (l >= m->nlanes || !m->lane[l].begun)
			continue;
		begun |= 1u << l;
		if (!m->lane[l].nblocks)
			continue;
		busy |= 1u << l;
		p[l] = m->lane[l].p;
		if (m->lane[l].nblocks < n)
			n = m->lane[l].nblocks;
	}
	if (busy) {
		memcpy(saved, m->st, sizeof(saved));
		m->kernel(m->st, p, n);
		for (unsigned l = 0; l < m->nlanes; l++) {
			struct mb_lane *L = &m->lane[l];
			if (!(busy & (1u << l))) {
				for (unsigned i = 0; i < m->nwords; i++)
					m->st[i][l] = saved[i][l];
				continue;
			}
			L->p += 64 * n;
			L->nblocks -= n;
		}
	}
	uint32_t hungry = 0;
	for (unsigned l = 0; l < m->nlanes; l++)
		if ((begun & (1u << l)) && !m->lane[l].nblocks)
			hungry |= 1u << l;
	return hungry;
}

/* out: 4 * nwords bytes */
static inline void mb_end(struct mb_core *m, unsigned lane, uint8_t *out)
{
	if (lane >= m->nlanes)
		return;
	struct mb_lane *L = &m->lane[lane];
	if (!L->begun)
		mb_begin(m, lane);
	for (; L->nblocks; L->nblocks--, L->p += 64)
		m->block1(m->st, lane, L->p);
	uint8_t pad[128] = {0};
	memcpy(pad, L->tail, L->tlen);
	pad[L->tlen] = 0x80;
	size_t plen = L->tlen < 56 ? 64 : 128;
	uint64_t bits = L->total * 8;
	for (int i = 0; i < 8; i++)
		pad[m->big_endian ? plen - 1 - i : plen - 8 + i] = (uint8_t)(bits >> (8 * i));
	m->block1(m->st, lane, pad);
	if (plen == 128)
		m->block1(m->st, lane, pad + 64);
	for (unsigned i = 0; i < m->nwords; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(m->st[i][lane] >> (m->big_endian ? 24 - 8 * j : 8 * j));
	*L = (struct mb_lane){0};
}

#endif
