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

#include "verify/md5mb.h"

#define MB_LANES 16 /* the most any implementation runs */
#define MB_WORDS 8  /* state words, the most any hash has */

/* Lane l's state word i is st[i][l]: a vector load takes word i of every
 * lane.  A kernel advances every lane by n blocks, block k of lane l at
 * p[l] + 64 k; a lane whose p is mb_zero_block is unused (it reads zeros,
 * its state is restored afterwards). */
typedef void mb_kernel_fn(uint32_t st[MB_WORDS][MB_LANES], const uint8_t *const p[MB_LANES], size_t n);
typedef void mb_block1_fn(uint32_t st[MB_WORDS][MB_LANES], unsigned l, const uint8_t *p);

static const _Alignas(64) uint8_t mb_zero_block[64];

#if defined(__x86_64__) || defined(__i386__)
#define MB_X86 1
#include <immintrin.h>

/* Inside a target("avx512f") function: w[j] = 32-bit word j of every lane's
 * block (lanes p[0..15], block at offset off; mb_zero_block is not
 * advanced).  A 16x16 transpose in four rounds of shuffles: after the two
 * unpack rounds r[4g+q] holds, in its 128-bit chunk x, word 4x+q of lanes
 * 4g..4g+3; the two shuffle_i32x4 rounds gather the chunks. */
#define MB_LOAD16_AVX512(p, off, w)                                                                               \
	do {                                                                                                       \
		__m512i r_[16], t_[16];                                                                            \
		for (int l_ = 0; l_ < 16; l_++)                                                                    \
			r_[l_] = _mm512_loadu_si512((p)[l_] == mb_zero_block ? (p)[l_] : (p)[l_] + (off));        \
		for (int l_ = 0; l_ < 16; l_ += 2) {                                                               \
			t_[l_] = _mm512_unpacklo_epi32(r_[l_], r_[l_ + 1]);                                        \
			t_[l_ + 1] = _mm512_unpackhi_epi32(r_[l_], r_[l_ + 1]);                                    \
		}                                                                                                  \
		for (int g_ = 0; g_ < 16; g_ += 4) {                                                               \
			r_[g_] = _mm512_unpacklo_epi64(t_[g_], t_[g_ + 2]);                                        \
			r_[g_ + 1] = _mm512_unpackhi_epi64(t_[g_], t_[g_ + 2]);                                    \
			r_[g_ + 2] = _mm512_unpacklo_epi64(t_[g_ + 1], t_[g_ + 3]);                                \
			r_[g_ + 3] = _mm512_unpackhi_epi64(t_[g_ + 1], t_[g_ + 3]);                                \
		}                                                                                                  \
		for (int q_ = 0; q_ < 4; q_++) {                                                                   \
			__m512i c0_ = _mm512_shuffle_i32x4(r_[q_], r_[4 + q_], 0x88);                              \
			__m512i c1_ = _mm512_shuffle_i32x4(r_[q_], r_[4 + q_], 0xdd);                              \
			__m512i c2_ = _mm512_shuffle_i32x4(r_[8 + q_], r_[12 + q_], 0x88);                         \
			__m512i c3_ = _mm512_shuffle_i32x4(r_[8 + q_], r_[12 + q_], 0xdd);                         \
			(w)[q_] = _mm512_shuffle_i32x4(c0_, c2_, 0x88);                                            \
			(w)[8 + q_] = _mm512_shuffle_i32x4(c0_, c2_, 0xdd);                                        \
			(w)[4 + q_] = _mm512_shuffle_i32x4(c1_, c3_, 0x88);                                        \
			(w)[12 + q_] = _mm512_shuffle_i32x4(c1_, c3_, 0xdd);                                       \
		}                                                                                                  \
	} while (0)

/* Inside a target("avx2") function: the same for 8 lanes, each block in two
 * halves of 8 words (two 8x8 transposes). */
#define MB_LOAD8_AVX2(p, off, w)                                                                                  \
	do {                                                                                                       \
		for (int h_ = 0; h_ < 2; h_++) {                                                                   \
			__m256i r_[8], t_[8], u_[8];                                                               \
			for (int l_ = 0; l_ < 8; l_++)                                                             \
				r_[l_] = _mm256_loadu_si256((const __m256i *)(const void *)(                      \
					((p)[l_] == mb_zero_block ? (p)[l_] : (p)[l_] + (off)) + 32 * h_));         \
			for (int l_ = 0; l_ < 8; l_ += 2) {                                                        \
				t_[l_] = _mm256_unpacklo_epi32(r_[l_], r_[l_ + 1]);                                \
				t_[l_ + 1] = _mm256_unpackhi_epi32(r_[l_], r_[l_ + 1]);                            \
			}                                                                                          \
			for (int g_ = 0; g_ < 8; g_ += 4) {                                                        \
				u_[g_] = _mm256_unpacklo_epi64(t_[g_], t_[g_ + 2]);                                \
				u_[g_ + 1] = _mm256_unpackhi_epi64(t_[g_], t_[g_ + 2]);                            \
				u_[g_ + 2] = _mm256_unpacklo_epi64(t_[g_ + 1], t_[g_ + 3]);                        \
				u_[g_ + 3] = _mm256_unpackhi_epi64(t_[g_ + 1], t_[g_ + 3]);                        \
			}                                                                                          \
			for (int q_ = 0; q_ < 4; q_++) {                                                           \
				(w)[8 * h_ + q_] = _mm256_permute2x128_si256(u_[q_], u_[4 + q_], 0x20);            \
				(w)[8 * h_ + 4 + q_] = _mm256_permute2x128_si256(u_[q_], u_[4 + q_], 0x31);        \
			}                                                                                          \
		}                                                                                                  \
	} while (0)
#else
#define MB_X86 0
#endif

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

/* A hash's kernels, one per implementation (avx2 and avx512 NULL off x86). */
struct mb_kernels {
	mb_kernel_fn *scalar, *avx2, *avx512;
};

/* A new zeroed object of `size` bytes that starts with its struct mb_core,
 * 64-byte aligned, with the kernel and lane count of impl.  Returns 0,
 * -EINVAL (no such impl), -ENOTSUP (off, or not on this CPU), -ENOMEM.
 * (md5mb.c) */
int mb_core_new(enum md5mb_impl impl, size_t size, const struct mb_kernels *k, void **ret);

#endif
