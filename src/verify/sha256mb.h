/* Multi-buffer SHA-256 (FIPS 180-4): the same lanes as md5mb.h.  One
 * SHA-256 stream with SHA-NI (OpenSSL) is much faster than one lane, but 16
 * AVX-512 lanes together are faster than SHA-NI (5.3 against 1.9 GB/s on
 * the development machine): digest_batch.c uses them for many images, and
 * one stream for an image much bigger than the rest.
 * The implementations and their choice are md5mb's (md5mb_supported,
 * md5mb_pick, OWL_MD5MB); the calls mean what md5mb's do. */
#ifndef OWL_VERIFY_SHA256MB_H
#define OWL_VERIFY_SHA256MB_H

#include <stddef.h>
#include <stdint.h>

#include "verify/md5mb.h"

struct sha256mb;

/* Returns 0, -ENOTSUP (the CPU cannot run impl, or NONE), -EINVAL or
 * -ENOMEM. */
int sha256mb_new(enum md5mb_impl impl, struct sha256mb **ret);
void sha256mb_free(struct sha256mb *m);
unsigned sha256mb_lanes(const struct sha256mb *m);

void sha256mb_begin(struct sha256mb *m, unsigned lane);
void sha256mb_feed(struct sha256mb *m, unsigned lane, const void *data, size_t len);
uint32_t sha256mb_run(struct sha256mb *m);
void sha256mb_end(struct sha256mb *m, unsigned lane, uint8_t out[32]);

#endif
