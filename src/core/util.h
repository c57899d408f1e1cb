/* Small helpers shared by every stage: bounded strings, bounded file reads,
 * number parsing with limits, growable arrays.  None of them print. */
#ifndef OWL_UTIL_H
#define OWL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define OWL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OWL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define OWL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Cleanup attributes (as in systemd's alloc-util.h / fd-util.h). */
static inline void owl_freep(void *p) { free(*(void **)p); }
static inline void owl_closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ __attribute__((cleanup(owl_freep)))
#define _cleanup_close_ __attribute__((cleanup(owl_closep)))

/* Copy at most dstsz-1 bytes and always terminate; returns strlen(src). */
size_t owl_strlcpy(char *dst, const char *src, size_t dstsz);

/* Copy n bytes of src (which need not be terminated), terminated. */
void owl_strncpy0(char *dst, size_t dstsz, const char *src, size_t n);

/* Read at most bufsz-1 bytes of a file into buf, NUL-terminate.
 * Returns bytes read (>= 0) or -errno. */
ssize_t owl_read_file(const char *path, char *buf, size_t bufsz);
/* Same, relative to a directory fd. */
ssize_t owl_read_fileat(int dirfd, const char *path, char *buf, size_t bufsz);

/* Parse an unsigned decimal (base 10) or hex (base 16) number of the whole
 * string s[0..len) into *ret, rejecting overflow, empty input and junk.
 * Returns 0 or -EINVAL/-ERANGE; *ret untouched on failure. */
int owl_parse_u64(const char *s, size_t len, int base, uint64_t *ret);

/* Like OpenBSD's strtonum: the whole NUL-terminated string as a number in
 * [min, max].  Returns 0 or -EINVAL/-ERANGE. */
int owl_strtonum(const char *s, long long min, long long max, long long *ret);

/* Monotonic clock in ns, for measuring. */
uint64_t owl_mono_ns(void);

/* Wall-clock now in ns since the epoch. */
uint64_t owl_now_ns(void);

/* Format ns-since-epoch as RFC 3339 UTC with milliseconds into buf (>= 32). */
void owl_format_time(uint64_t ns, char *buf, size_t bufsz);

/* A growable array of fixed-size elements. */
struct owl_vec {
	void *data;
	size_t len, cap, elsize;
};
void owl_vec_init(struct owl_vec *v, size_t elsize);
/* Returns a pointer to a new zeroed element at the end, or NULL on ENOMEM. */
void *owl_vec_push(struct owl_vec *v);
void owl_vec_free(struct owl_vec *v);
#define OWL_VEC_AT(v, type, i) (&((type *)(v)->data)[i])

#endif
