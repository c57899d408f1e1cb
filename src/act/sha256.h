/* SHA-256 of files and streams (libcrypto), as lowercase hex. */
#ifndef OWL_ACT_SHA256_H
#define OWL_ACT_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACT_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

struct act_sha256;

/* A running SHA-256.  act_sha256_new() returns NULL on ENOMEM. */
struct act_sha256 *act_sha256_new(void);
void act_sha256_update(struct act_sha256 *d, const void *buf, size_t len);
/* Finish into hex (>= ACT_SHA256_HEX_LEN bytes) and free d. */
void act_sha256_final_hex(struct act_sha256 *d, char *hex);
/* Free without finishing (NULL is fine). */
void act_sha256_free(struct act_sha256 *d);

/* SHA-256 of at most cap bytes read from fd (from its current offset).
 * *ret_size gets the bytes hashed, *ret_truncated whether more remained.
 * Returns 0 or -errno; outputs untouched on failure. */
int act_sha256_fd(int fd, uint64_t cap, char *ret_hex, uint64_t *ret_size, bool *ret_truncated);

#endif
