/* Multi-buffer MD5 (RFC 1321), see md5mb.h; the lanes' bookkeeping is
 * mb_lanes.h.  The state of lane l is st[0..3][l] (a, b, c, d: structure of
 * arrays, so that a vector load takes one word of every lane).  A kernel
 * advances every lane by n blocks, block k of lane l at p[l] + 64 k: the
 * vector kernels load one 64-byte block per lane and transpose them so that
 * vector j holds message word j of every lane; an unused lane reads a block
 * of zeros and its state is put back afterwards. */
#include "verify/md5mb.h"

#include "verify/mb_lanes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


static const uint32_t md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const uint32_t md5_init[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

/* The 64 steps: ST(function, a, b, c, d, message word, step, rotation),
 * with the roles of a..d rotating each step. */
#define MD5_STEPS(ST, F, G, H, I)                                                                                  \
	ST(F, a, b, c, d, 0, 0, 7) ST(F, d, a, b, c, 1, 1, 12) ST(F, c, d, a, b, 2, 2, 17)                         \
	ST(F, b, c, d, a, 3, 3, 22) ST(F, a, b, c, d, 4, 4, 7) ST(F, d, a, b, c, 5, 5, 12)                         \
	ST(F, c, d, a, b, 6, 6, 17) ST(F, b, c, d, a, 7, 7, 22) ST(F, a, b, c, d, 8, 8, 7)                         \
	ST(F, d, a, b, c, 9, 9, 12) ST(F, c, d, a, b, 10, 10, 17) ST(F, b, c, d, a, 11, 11, 22)                    \
	ST(F, a, b, c, d, 12, 12, 7) ST(F, d, a, b, c, 13, 13, 12) ST(F, c, d, a, b, 14, 14, 17)                   \
	ST(F, b, c, d, a, 15, 15, 22) ST(G, a, b, c, d, 1, 16, 5) ST(G, d, a, b, c, 6, 17, 9)                      \
	ST(G, c, d, a, b, 11, 18, 14) ST(G, b, c, d, a, 0, 19, 20) ST(G, a, b, c, d, 5, 20, 5)                     \
	ST(G, d, a, b, c, 10, 21, 9) ST(G, c, d, a, b, 15, 22, 14) ST(G, b, c, d, a, 4, 23, 20)                    \
	ST(G, a, b, c, d, 9, 24, 5) ST(G, d, a, b, c, 14, 25, 9) ST(G, c, d, a, b, 3, 26, 14)                      \
	ST(G, b, c, d, a, 8, 27, 20) ST(G, a, b, c, d, 13, 28, 5) ST(G, d, a, b, c, 2, 29, 9)                      \
	ST(G, c, d, a, b, 7, 30, 14) ST(G, b, c, d, a, 12, 31, 20) ST(H, a, b, c, d, 5, 32, 4)                     \
	ST(H, d, a, b, c, 8, 33, 11) ST(H, c, d, a, b, 11, 34, 16) ST(H, b, c, d, a, 14, 35, 23)                   \
	ST(H, a, b, c, d, 1, 36, 4) ST(H, d, a, b, c, 4, 37, 11) ST(H, c, d, a, b, 7, 38, 16)                      \
	ST(H, b, c, d, a, 10, 39, 23) ST(H, a, b, c, d, 13, 40, 4) ST(H, d, a, b, c, 0, 41, 11)                    \
	ST(H, c, d, a, b, 3, 42, 16) ST(H, b, c, d, a, 6, 43, 23) ST(H, a, b, c, d, 9, 44, 4)                      \
	ST(H, d, a, b, c, 12, 45, 11) ST(H, c, d, a, b, 15, 46, 16) ST(H, b, c, d, a, 2, 47, 23)                   \
	ST(I, a, b, c, d, 0, 48, 6) ST(I, d, a, b, c, 7, 49, 10) ST(I, c, d, a, b, 14, 50, 15)                     \
	ST(I, b, c, d, a, 5, 51, 21) ST(I, a, b, c, d, 12, 52, 6) ST(I, d, a, b, c, 3, 53, 10)                     \
	ST(I, c, d, a, b, 10, 54, 15) ST(I, b, c, d, a, 1, 55, 21) ST(I, a, b, c, d, 8, 56, 6)                     \
	ST(I, d, a, b, c, 15, 57, 10) ST(I, c, d, a, b, 6, 58, 15) ST(I, b, c, d, a, 13, 59, 21)                   \
	ST(I, a, b, c, d, 4, 60, 6) ST(I, d, a, b, c, 11, 61, 10) ST(I, c, d, a, b, 2, 62, 15)                     \
	ST(I, b, c, d, a, 9, 63, 21)

struct md5mb {
	struct mb_core core; /* first: aligned like the whole */
	enum md5mb_impl impl;
};

/* ---- scalar */

static inline uint32_t rol32(uint32_t x, unsigned s)
{
	return (x << s) | (x >> (32 - s));
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define SF(b, c, d) ((((c) ^ (d)) & (b)) ^ (d))
#define SG(b, c, d) ((((b) ^ (c)) & (d)) ^ (c))
#define SH(b, c, d) ((b) ^ (c) ^ (d))
#define SI(b, c, d) ((c) ^ ((b) | ~(d)))
#define SSTEP(FN, a, b, c, d, j, i, s) a = b + rol32(a + w[j] + md5_k[i] + FN(b, c, d), s);

/* one block into one lane's state (also the padding blocks of every impl) */
static void block1(uint32_t st[MB_WORDS][MB_LANES], unsigned l, const uint8_t *p)
{
	uint32_t w[16];
	for (int j = 0; j < 16; j++)
		w[j] = le32(p + 4 * j);
	uint32_t a = st[0][l], b = st[1][l], c = st[2][l], d = st[3][l];
	MD5_STEPS(SSTEP, SF, SG, SH, SI)
	st[0][l] += a;
	st[1][l] += b;
	st[2][l] += c;
	st[3][l] += d;
}

static void kernel_scalar(uint32_t st[MB_WORDS][MB_LANES], const uint8_t *const p[MB_LANES], size_t n)
{
	/* only the 4 lanes of this impl; the caller restores unused ones */
	for (unsigned l = 0; l < 4; l++)
		if (p[l] != mb_zero_block)
			for (size_t k = 0; k < n; k++)
				block1(st, l, p[l] + 64 * k);
}

#if MB_X86
/* ---- AVX2: 8 lanes */

#define V2ADD(x, y) _mm256_add_epi32(x, y)
#define V2ROL(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))
#define V2F(b, c, d) _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256(c, d), b), d)
#define V2G(b, c, d) _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256(b, c), d), c)
#define V2H(b, c, d) _mm256_xor_si256(_mm256_xor_si256(b, c), d)
#define V2I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))
#define V2STEP(FN, a, b, c, d, j, i, s)                                                                            \
	{                                                                                                          \
		__m256i t_ = V2ADD(a, V2ADD(w[j], _mm256_set1_epi32((int)md5_k[i])));                             \
		__asm__("" : "+x"(t_));                                                                            \
		a = V2ADD(b, V2ROL(V2ADD(t_, FN(b, c, d)), s));                                                     \
	}

__attribute__((target("avx2"))) static void kernel_avx2(uint32_t st[MB_WORDS][MB_LANES],
							  const uint8_t *const p[MB_LANES], size_t n)
{
	const __m256i ones = _mm256_set1_epi32(-1);
	__m256i a = _mm256_load_si256((const __m256i *)(const void *)st[0]);
	__m256i b = _mm256_load_si256((const __m256i *)(const void *)st[1]);
	__m256i c = _mm256_load_si256((const __m256i *)(const void *)st[2]);
	__m256i d = _mm256_load_si256((const __m256i *)(const void *)st[3]);
	for (size_t k = 0; k < n; k++) {
		__m256i w[16];
		MB_LOAD8_AVX2(p, 64 * k, w);
		__m256i a0 = a, b0 = b, c0 = c, d0 = d;
		MD5_STEPS(V2STEP, V2F, V2G, V2H, V2I)
		a = V2ADD(a, a0);
		b = V2ADD(b, b0);
		c = V2ADD(c, c0);
		d = V2ADD(d, d0);
	}
	_mm256_store_si256((__m256i *)(void *)st[0], a);
	_mm256_store_si256((__m256i *)(void *)st[1], b);
	_mm256_store_si256((__m256i *)(void *)st[2], c);
	_mm256_store_si256((__m256i *)(void *)st[3], d);
}

/* ---- AVX-512: 16 lanes; ternary logic gives F..I in one instruction */

/* truth tables with d as the first operand: the instruction overwrites its
 * first operand, so the compiler copies that one first, and d is ready long
 * before b (the newest value, on the chain) */
#define TD 0xf0
#define TB 0xcc
#define TC 0xaa
#define TT_F (((TB & TC) | (~TB & TD)) & 0xff)
#define TT_G (((TB & TD) | (TC & ~TD)) & 0xff)
#define TT_H ((TB ^ TC ^ TD) & 0xff)
#define TT_I ((TC ^ (TB | ~TD)) & 0xff)
#define V5F(b, c, d) _mm512_ternarylogic_epi32(d, b, c, TT_F)
#define V5G(b, c, d) _mm512_ternarylogic_epi32(d, b, c, TT_G)
#define V5H(b, c, d) _mm512_ternarylogic_epi32(d, b, c, TT_H)
#define V5I(b, c, d) _mm512_ternarylogic_epi32(d, b, c, TT_I)
#define V5ADD(x, y) _mm512_add_epi32(x, y)
/* a + w + k does not wait for b: computed first and kept whole (the empty
 * asm stops the compiler re-associating it into the chain), so that the
 * chain through b is four instructions: F, add, rotate, add */
#define V5STEP(FN, a, b, c, d, j, i, s)                                                                            \
	{                                                                                                          \
		__m512i t_ = V5ADD(a, V5ADD(w[j], _mm512_set1_epi32((int)md5_k[i])));                             \
		__asm__("" : "+v"(t_));                                                                            \
		a = V5ADD(b, _mm512_rol_epi32(V5ADD(t_, FN(b, c, d)), s));                                          \
	}

__attribute__((target("avx512f,avx512vl"))) static void
kernel_avx512(uint32_t st[MB_WORDS][MB_LANES], const uint8_t *const p[MB_LANES], size_t n)
{
	__m512i a = _mm512_load_si512(st[0]);
	__m512i b = _mm512_load_si512(st[1]);
	__m512i c = _mm512_load_si512(st[2]);
	__m512i d = _mm512_load_si512(st[3]);
	for (size_t k = 0; k < n; k++) {
		__m512i w[16];
		MB_LOAD16_AVX512(p, 64 * k, w);
		__m512i a0 = a, b0 = b, c0 = c, d0 = d;
		MD5_STEPS(V5STEP, V5F, V5G, V5H, V5I)
		a = V5ADD(a, a0);
		b = V5ADD(b, b0);
		c = V5ADD(c, c0);
		d = V5ADD(d, d0);
	}
	_mm512_store_si512(st[0], a);
	_mm512_store_si512(st[1], b);
	_mm512_store_si512(st[2], c);
	_mm512_store_si512(st[3], d);
}
#endif

/* ---- choosing */

bool md5mb_supported(enum md5mb_impl impl)
{
	switch (impl) {
	case MD5MB_NONE:
	case MD5MB_SCALAR:
		return true;
#if MB_X86
	case MD5MB_AVX2:
		return __builtin_cpu_supports("avx2");
	case MD5MB_AVX512:
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#else
	case MD5MB_AVX2:
	case MD5MB_AVX512:
		return false;
#endif
	}
	return false;
}

const char *md5mb_impl_name(enum md5mb_impl impl)
{
	switch (impl) {
	case MD5MB_NONE:
		return "off";
	case MD5MB_SCALAR:
		return "scalar";
	case MD5MB_AVX2:
		return "avx2";
	case MD5MB_AVX512:
		return "avx512";
	}
	return "?";
}

enum md5mb_impl md5mb_pick(void)
{
	const char *e = getenv("OWL_MD5MB");
	if (e && *e)
		for (int i = MD5MB_NONE; i <= MD5MB_AVX512; i++)
			if (strcmp(e, md5mb_impl_name((enum md5mb_impl)i)) == 0 && md5mb_supported((enum md5mb_impl)i))
				return (enum md5mb_impl)i;
	if (md5mb_supported(MD5MB_AVX512))
		return MD5MB_AVX512;
	if (md5mb_supported(MD5MB_AVX2))
		return MD5MB_AVX2;
	/* scalar lanes are no faster than one stream per file */
	return MD5MB_NONE;
}

int mb_core_new(enum md5mb_impl impl, size_t size, const struct mb_kernels *k, void **ret)
{
	if (impl != MD5MB_NONE && impl != MD5MB_SCALAR && impl != MD5MB_AVX2 && impl != MD5MB_AVX512)
		return -EINVAL;
	if (impl == MD5MB_NONE || !md5mb_supported(impl))
		return -ENOTSUP;
	struct mb_core *core = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (!core)
		return -ENOMEM;
	memset(core, 0, size);
	/* md5mb_supported() admits AVX2/AVX-512 only on x86, where both are set */
	core->nlanes = impl == MD5MB_AVX512 ? 16 : impl == MD5MB_AVX2 ? 8 : 4;
	core->kernel = impl == MD5MB_AVX512 ? k->avx512 : impl == MD5MB_AVX2 ? k->avx2 : k->scalar;
	*ret = core;
	return 0;
}

int md5mb_new(enum md5mb_impl impl, struct md5mb **ret)
{
	static const struct mb_kernels kernels = {
		.scalar = kernel_scalar,
#if MB_X86
		.avx2 = kernel_avx2,
		.avx512 = kernel_avx512,
#endif
	};
	void *v;
	int rc = mb_core_new(impl, sizeof(struct md5mb), &kernels, &v);
	if (rc < 0)
		return rc;
	struct md5mb *m = v;
	m->impl = impl;
	m->core.nwords = 4;
	m->core.init = md5_init;
	m->core.block1 = block1;
	*ret = m;
	return 0;
}

void md5mb_free(struct md5mb *m)
{
	free(m);
}

unsigned md5mb_lanes(const struct md5mb *m)
{
	return m->core.nlanes;
}

enum md5mb_impl md5mb_impl_of(const struct md5mb *m)
{
	return m->impl;
}

/* ---- lanes */

void md5mb_begin(struct md5mb *m, unsigned lane)
{
	mb_begin(&m->core, lane);
}

void md5mb_feed(struct md5mb *m, unsigned lane, const void *data, size_t len)
{
	mb_feed(&m->core, lane, data, len);
}

uint32_t md5mb_run(struct md5mb *m)
{
	return mb_run(&m->core);
}

void md5mb_end(struct md5mb *m, unsigned lane, uint8_t out[16])
{
	mb_end(&m->core, lane, out);
}
