/* Multi-buffer SHA-256 (FIPS 180-4), see sha256mb.h and mb_lanes.h.
 * State word i of lane l is st[i][l] (a..h).  The vector kernels keep the
 * message schedule in a ring of 16 vectors, one word of every lane each. */
#include "verify/sha256mb.h"

#include "verify/mb_lanes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t sha_init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

struct sha256mb {
	struct mb_core core; /* first: aligned like the whole */
	enum md5mb_impl impl;
};

/* The 16 rounds of one pass, renaming a..h instead of moving them:
 * R(a, b, c, d, e, f, g, h, i) with i the round within the pass. */
#define SHA_16(R)                                                                                                  \
	R(a, b, c, d, e, f, g, h, 0) R(h, a, b, c, d, e, f, g, 1) R(g, h, a, b, c, d, e, f, 2)                     \
	R(f, g, h, a, b, c, d, e, 3) R(e, f, g, h, a, b, c, d, 4) R(d, e, f, g, h, a, b, c, 5)                     \
	R(c, d, e, f, g, h, a, b, 6) R(b, c, d, e, f, g, h, a, 7) R(a, b, c, d, e, f, g, h, 8)                     \
	R(h, a, b, c, d, e, f, g, 9) R(g, h, a, b, c, d, e, f, 10) R(f, g, h, a, b, c, d, e, 11)                   \
	R(e, f, g, h, a, b, c, d, 12) R(d, e, f, g, h, a, b, c, 13) R(c, d, e, f, g, h, a, b, 14)                  \
	R(b, c, d, e, f, g, h, a, 15)

/* ---- scalar */

static inline uint32_t ror32(uint32_t x, unsigned s)
{
	return (x >> s) | (x << (32 - s));
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#define S_CH(e, f, g) ((((f) ^ (g)) & (e)) ^ (g))
#define S_MAJ(a, b, c) ((((b) ^ (c)) & (a)) ^ ((b) & (c)))
#define S_BS0(x) (ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22))
#define S_BS1(x) (ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25))
#define S_SS0(x) (ror32(x, 7) ^ ror32(x, 18) ^ ((x) >> 3))
#define S_SS1(x) (ror32(x, 17) ^ ror32(x, 19) ^ ((x) >> 10))
#define S_ROUND(a, b, c, d, e, f, g, h, i)                                                                        \
	{                                                                                                          \
		if (r)                                                                                             \
			w[i] += S_SS1(w[(i + 14) & 15]) + w[(i + 9) & 15] + S_SS0(w[(i + 1) & 15]);                \
		uint32_t t1_ = h + S_BS1(e) + S_CH(e, f, g) + sha_k[r + i] + w[i];                               \
		d += t1_;                                                                                          \
		h = t1_ + S_BS0(a) + S_MAJ(a, b, c);                                                               \
	}

static void block1(uint32_t st[MB_WORDS][MB_LANES], unsigned l, const uint8_t *p)
{
	uint32_t w[16];
	for (int j = 0; j < 16; j++)
		w[j] = be32(p + 4 * j);
	uint32_t a = st[0][l], b = st[1][l], c = st[2][l], d = st[3][l];
	uint32_t e = st[4][l], f = st[5][l], g = st[6][l], h = st[7][l];
	for (int r = 0; r < 64; r += 16) {
		SHA_16(S_ROUND)
	}
	st[0][l] += a;
	st[1][l] += b;
	st[2][l] += c;
	st[3][l] += d;
	st[4][l] += e;
	st[5][l] += f;
	st[6][l] += g;
	st[7][l] += h;
}

static void kernel_scalar(uint32_t st[MB_WORDS][MB_LANES], const uint8_t *const p[MB_LANES], size_t n)
{
	for (unsigned l = 0; l < 4; l++)
		if (p[l] != mb_zero_block)
			for (size_t k = 0; k < n; k++)
				block1(st, l, p[l] + 64 * k);
}

#if MB_X86
/* ---- AVX2: 8 lanes */

#define V2ADD(x, y) _mm256_add_epi32(x, y)
#define V2XOR(x, y) _mm256_xor_si256(x, y)
#define V2ROR(x, s) _mm256_or_si256(_mm256_srli_epi32(x, s), _mm256_slli_epi32(x, 32 - (s)))
#define V2CH(e, f, g) V2XOR(_mm256_and_si256(V2XOR(f, g), e), g)
#define V2MAJ(a, b, c) V2XOR(_mm256_and_si256(V2XOR(b, c), a), _mm256_and_si256(b, c))
#define V2BS0(x) V2XOR(V2XOR(V2ROR(x, 2), V2ROR(x, 13)), V2ROR(x, 22))
#define V2BS1(x) V2XOR(V2XOR(V2ROR(x, 6), V2ROR(x, 11)), V2ROR(x, 25))
#define V2SS0(x) V2XOR(V2XOR(V2ROR(x, 7), V2ROR(x, 18)), _mm256_srli_epi32(x, 3))
#define V2SS1(x) V2XOR(V2XOR(V2ROR(x, 17), V2ROR(x, 19)), _mm256_srli_epi32(x, 10))
#define V2SCHED(a, b, c, d, e, f, g, h, i)                                                                        \
	w[i] = V2ADD(V2ADD(w[i], V2SS1(w[(i + 14) & 15])), V2ADD(w[(i + 9) & 15], V2SS0(w[(i + 1) & 15])));       \
	V2ROUND(a, b, c, d, e, f, g, h, i)
/* shaped as V5ROUND's sums (below) */
#define KEEP2(x) __asm__("" : "+x"(x))
#define V2ROUND(a, b, c, d, e, f, g, h, i)                                                                        \
	{                                                                                                          \
		__m256i hk_ = V2ADD(h, V2ADD(w[i], _mm256_set1_epi32((int)sha_k[r + i])));                       \
		KEEP2(hk_);                                                                                        \
		__m256i dk_ = V2ADD(d, hk_);                                                                       \
		KEEP2(dk_);                                                                                        \
		__m256i ch_ = V2CH(e, f, g), s1_ = V2BS1(e);                                                       \
		__m256i y_ = V2ADD(dk_, ch_);                                                                      \
		KEEP2(y_);                                                                                         \
		__m256i x_ = V2ADD(hk_, ch_);                                                                      \
		KEEP2(x_);                                                                                         \
		__m256i u_ = V2ADD(x_, V2MAJ(a, b, c));                                                            \
		KEEP2(u_);                                                                                         \
		__m256i s_ = V2ADD(V2BS0(a), s1_);                                                                 \
		KEEP2(s_);                                                                                         \
		d = V2ADD(y_, s1_);                                                                                \
		h = V2ADD(s_, u_);                                                                                 \
	}

__attribute__((target("avx2"))) static void kernel_avx2(uint32_t st[MB_WORDS][MB_LANES],
							  const uint8_t *const p[MB_LANES], size_t n)
{
	const __m256i bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6,
					       5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
	__m256i s[8];
	for (int i = 0; i < 8; i++)
		s[i] = _mm256_load_si256((const __m256i *)(const void *)st[i]);
	for (size_t k = 0; k < n; k++) {
		__m256i w[16];
		MB_LOAD8_AVX2(p, 64 * k, w);
		for (int j = 0; j < 16; j++)
			w[j] = _mm256_shuffle_epi8(w[j], bswap);
		__m256i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
		{
			const int r = 0;
			SHA_16(V2ROUND)
		}
		for (int r = 16; r < 64; r += 16) {
			SHA_16(V2SCHED)
		}
		s[0] = V2ADD(s[0], a);
		s[1] = V2ADD(s[1], b);
		s[2] = V2ADD(s[2], c);
		s[3] = V2ADD(s[3], d);
		s[4] = V2ADD(s[4], e);
		s[5] = V2ADD(s[5], f);
		s[6] = V2ADD(s[6], g);
		s[7] = V2ADD(s[7], h);
	}
	for (int i = 0; i < 8; i++)
		_mm256_store_si256((__m256i *)(void *)st[i], s[i]);
}

/* ---- AVX-512: 16 lanes; three-input XORs, Ch and Maj in one ternary-logic
 * instruction each; rotations in one */

#define V5ADD(x, y) _mm512_add_epi32(x, y)
#define V5XOR3(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
/* Ch(e, f, g) = e ? f : g, with g (older than e) as the overwritten operand:
 * operands (g, e, f) = (0xf0, 0xcc, 0xaa) */
#define V5CH(e, f, g) _mm512_ternarylogic_epi32(g, e, f, ((0xcc & 0xaa) | (~0xcc & 0xf0)) & 0xff)
#define V5MAJ(a, b, c) _mm512_ternarylogic_epi32(c, b, a, 0xe8)
#define V5BS0(x) V5XOR3(_mm512_ror_epi32(x, 2), _mm512_ror_epi32(x, 13), _mm512_ror_epi32(x, 22))
#define V5BS1(x) V5XOR3(_mm512_ror_epi32(x, 6), _mm512_ror_epi32(x, 11), _mm512_ror_epi32(x, 25))
#define V5SS0(x) V5XOR3(_mm512_ror_epi32(x, 7), _mm512_ror_epi32(x, 18), _mm512_srli_epi32(x, 3))
#define V5SS1(x) V5XOR3(_mm512_ror_epi32(x, 17), _mm512_ror_epi32(x, 19), _mm512_srli_epi32(x, 10))
#define V5SCHED(a, b, c, d, e, f, g, h, i)                                                                        \
	w[i] = V5ADD(V5ADD(w[i], V5SS1(w[(i + 14) & 15])), V5ADD(w[(i + 9) & 15], V5SS0(w[(i + 1) & 15])));       \
	V5ROUND(a, b, c, d, e, f, g, h, i)
/* The sums are shaped so that the newest values (a and e) pass through as
 * few instructions as possible: e' = ((d + h + w + k) + Ch) + S1(e) and
 * a' = (S0(a) + S1(e)) + ((h + w + k + Ch) + Maj); the empty asm keeps the
 * compiler from re-associating them into one long chain of adds. */
#define KEEP5(x) __asm__("" : "+v"(x))
#define V5ROUND(a, b, c, d, e, f, g, h, i)                                                                        \
	{                                                                                                          \
		__m512i hk_ = V5ADD(h, V5ADD(w[i], _mm512_set1_epi32((int)sha_k[r + i])));                       \
		KEEP5(hk_);                                                                                        \
		__m512i dk_ = V5ADD(d, hk_);                                                                       \
		KEEP5(dk_);                                                                                        \
		__m512i ch_ = V5CH(e, f, g), s1_ = V5BS1(e);                                                       \
		__m512i y_ = V5ADD(dk_, ch_);                                                                      \
		KEEP5(y_);                                                                                         \
		__m512i x_ = V5ADD(hk_, ch_);                                                                      \
		KEEP5(x_);                                                                                         \
		__m512i u_ = V5ADD(x_, V5MAJ(a, b, c));                                                            \
		KEEP5(u_);                                                                                         \
		__m512i s_ = V5ADD(V5BS0(a), s1_);                                                                 \
		KEEP5(s_);                                                                                         \
		d = V5ADD(y_, s1_);                                                                                \
		h = V5ADD(s_, u_);                                                                                 \
	}

__attribute__((target("avx512f,avx512vl"))) static void
kernel_avx512(uint32_t st[MB_WORDS][MB_LANES], const uint8_t *const p[MB_LANES], size_t n)
{
	/* big-endian words: bytes 0 and 2 from rol 8, 1 and 3 from ror 8 */
	const __m512i m8 = _mm512_set1_epi32(0x00ff00ff);
	__m512i s[8];
	for (int i = 0; i < 8; i++)
		s[i] = _mm512_load_si512(st[i]);
	for (size_t k = 0; k < n; k++) {
		__m512i w[16];
		MB_LOAD16_AVX512(p, 64 * k, w);
		for (int j = 0; j < 16; j++)
			w[j] = _mm512_ternarylogic_epi32(m8, _mm512_rol_epi32(w[j], 8), _mm512_ror_epi32(w[j], 8), 0xca);
		__m512i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
		/* rounds 0..15 on the message itself, then on its schedule */
		{
			const int r = 0;
			SHA_16(V5ROUND)
		}
		for (int r = 16; r < 64; r += 16) {
			SHA_16(V5SCHED)
		}
		s[0] = V5ADD(s[0], a);
		s[1] = V5ADD(s[1], b);
		s[2] = V5ADD(s[2], c);
		s[3] = V5ADD(s[3], d);
		s[4] = V5ADD(s[4], e);
		s[5] = V5ADD(s[5], f);
		s[6] = V5ADD(s[6], g);
		s[7] = V5ADD(s[7], h);
	}
	for (int i = 0; i < 8; i++)
		_mm512_store_si512(st[i], s[i]);
}
#endif

int sha256mb_new(enum md5mb_impl impl, struct sha256mb **ret)
{
	static const struct mb_kernels kernels = {
		.scalar = kernel_scalar,
#if MB_X86
		.avx2 = kernel_avx2,
		.avx512 = kernel_avx512,
#endif
	};
	void *v;
	int rc = mb_core_new(impl, sizeof(struct sha256mb), &kernels, &v);
	if (rc < 0)
		return rc;
	struct sha256mb *m = v;
	m->impl = impl;
	m->core.nwords = 8;
	m->core.big_endian = true;
	m->core.init = sha_init;
	m->core.block1 = block1;
	*ret = m;
	return 0;
}

void sha256mb_free(struct sha256mb *m)
{
	free(m);
}

unsigned sha256mb_lanes(const struct sha256mb *m)
{
	return m->core.nlanes;
}

void sha256mb_begin(struct sha256mb *m, unsigned lane)
{
	mb_begin(&m->core, lane);
}

void sha256mb_feed(struct sha256mb *m, unsigned lane, const void *data, size_t len)
{
	mb_feed(&m->core, lane, data, len);
}

uint32_t sha256mb_run(struct sha256mb *m)
{
	return mb_run(&m->core);
}

void sha256mb_end(struct sha256mb *m, unsigned lane, uint8_t out[32])
{
	mb_end(&m->core, lane, out);
}
