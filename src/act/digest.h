/* SHA-256 of files and streams (libcrypto), as lowercase hex. */
#ifndef OWL_ACT_DIGEST_H
#define OWL_ACT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_HEX_LEN 65 /* 64 hex digits + NUL */

struct digest_ctx;

/* A running SHA-256.  digest_new() returns NULL on ENOMEM. */
struct digest_ctx *digest_new(void);
void digest_update(struct digest_ctx *d, const void *buf, size_t len);
/* Finish into hex (>= DIGEST_HEX_LEN bytes) and free d. */
void digest_final_hex(struct digest_ctx *d, char *hex);
/* Free without finishing (NULL is fine). */
void digest_free(struct digest_ctx *d);

/* SHA-256 of at most cap bytes read from fd (from its current offset).
 * *ret_size gets the bytes hashed, *ret_truncated whether more remained.
 * Returns 0 or -errno; outputs untouched on failure. */
int digest_fd(int fd, uint64_t cap, char *ret_hex, uint64_t *ret_size, bool *ret_truncated);

#endif
