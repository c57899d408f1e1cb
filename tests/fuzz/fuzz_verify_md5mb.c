/* libFuzzer: multi-buffer MD5 and SHA-256 against OpenSSL's.  The input is
 * split into messages at each 0xff byte; each message is fed to its lane in
 * pieces whose sizes come from the message's own bytes, every
 * implementation the CPU runs is tried, and each digest must equal
 * OpenSSL's (abort if not). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "verify/md5mb.h"
#include "verify/sha256mb.h"

#define MSGS_MAX 64

struct msg {
	const uint8_t *p;
	size_t len, off;
};

static size_t piece(const struct msg *m)
{
	size_t left = m->len - m->off;
	/* a size from the data itself: 1..256, or the rest */
	size_t c = m->off < m->len ? (size_t)m->p[m->off] + 1 : left;
	if (c > 200)
		c = left;
	return c < left ? c : left;
}

static void check(enum md5mb_impl impl, struct msg *msgs, size_t n)
{
	struct md5mb *m;
	if (md5mb_new(impl, &m) != 0)
		return;
	unsigned nl = md5mb_lanes(m);
	size_t job[MD5MB_LANES_MAX], next = 0, done = 0;
	uint32_t hungry = 0;
	for (size_t i = 0; i < n; i++)
		msgs[i].off = 0;
	for (unsigned l = 0; l < nl && next < n; l++) {
		job[l] = next++;
		md5mb_begin(m, l);
		hungry |= 1u << l;
	}
	while (hungry) {
		for (unsigned l = 0; l < nl; l++) {
			if (!(hungry & (1u << l)))
				continue;
			for (;;) {
				struct msg *g = &msgs[job[l]];
				if (g->off < g->len) {
					size_t c = piece(g);
					md5mb_feed(m, l, g->p + g->off, c);
					g->off += c;
					break;
				}
				uint8_t got[16], want[16];
				unsigned int wl = 0;
				md5mb_end(m, l, got);
				if (!EVP_Digest(g->p, g->len, want, &wl, EVP_md5(), NULL) || memcmp(got, want, 16) != 0)
					abort();
				done++;
				if (next >= n)
					break;
				job[l] = next++;
				md5mb_begin(m, l);
			}
		}
		hungry = md5mb_run(m);
	}
	if (done != n)
		abort();
	md5mb_free(m);
}

static void check_sha(enum md5mb_impl impl, struct msg *msgs, size_t n)
{
	struct sha256mb *m;
	if (sha256mb_new(impl, &m) != 0)
		return;
	unsigned nl = sha256mb_lanes(m);
	size_t job[MD5MB_LANES_MAX], next = 0, done = 0;
	uint32_t hungry = 0;
	for (size_t i = 0; i < n; i++)
		msgs[i].off = 0;
	for (unsigned l = 0; l < nl && next < n; l++) {
		job[l] = next++;
		sha256mb_begin(m, l);
		hungry |= 1u << l;
	}
	while (hungry) {
		for (unsigned l = 0; l < nl; l++) {
			if (!(hungry & (1u << l)))
				continue;
			for (;;) {
				struct msg *g = &msgs[job[l]];
				if (g->off < g->len) {
					size_t c = piece(g);
					sha256mb_feed(m, l, g->p + g->off, c);
					g->off += c;
					break;
				}
				uint8_t got[32], want[32];
				unsigned int wl = 0;
				sha256mb_end(m, l, got);
				if (!EVP_Digest(g->p, g->len, want, &wl, EVP_sha256(), NULL) || memcmp(got, want, 32) != 0)
					abort();
				done++;
				if (next >= n)
					break;
				job[l] = next++;
				sha256mb_begin(m, l);
			}
		}
		hungry = sha256mb_run(m);
	}
	if (done != n)
		abort();
	sha256mb_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg msgs[MSGS_MAX];
	size_t n = 0;
	const uint8_t *p = data, *end = data + size;
	while (n < MSGS_MAX) {
		const uint8_t *q = memchr(p, 0xff, (size_t)(end - p));
		msgs[n++] = (struct msg){.p = p, .len = q ? (size_t)(q - p) : (size_t)(end - p)};
		if (!q)
			break;
		p = q + 1;
	}
	check(MD5MB_SCALAR, msgs, n);
	check(MD5MB_AVX2, msgs, n);
	check(MD5MB_AVX512, msgs, n);
	check_sha(MD5MB_SCALAR, msgs, n);
	check_sha(MD5MB_AVX2, msgs, n);
	check_sha(MD5MB_AVX512, msgs, n);
	return 0;
}
