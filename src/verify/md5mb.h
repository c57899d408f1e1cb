/* Multi-buffer MD5: many independent messages hashed side by side.
 *
 * One MD5 stream cannot go faster than its chain of dependent rounds, but
 * independent streams can share SIMD registers: each 32-bit lane of a
 * vector carries one message's state, and one pass of the 64 rounds
 * advances every lane by a 64-byte block.  AVX-512 gives 16 lanes, AVX2 8;
 * without either a portable scalar path runs 4 lanes one after another.
 *
 * Use: md5mb_begin() a message in a free lane, md5mb_feed() it data, call
 * md5mb_run() (which processes whole blocks in every lane that has some
 * until one of them has none left) and feed the lanes it returns, or
 * md5mb_end() them when their message is complete, and begin the next one
 * there.  Lanes start and end at different times.
 *
 * The implementation is chosen once per context: md5mb_pick() says which
 * is worth using on this CPU (and the environment variable OWL_MD5MB may
 * force one: "avx512", "avx2", "scalar", or "off" for none at all — for
 * tests and benchmarks). */
#ifndef OWL_VERIFY_MD5MB_H
#define OWL_VERIFY_MD5MB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD5MB_LANES_MAX 16

enum md5mb_impl {
	MD5MB_NONE = 0, /* "off": the caller should use a one-stream MD5 */
	MD5MB_SCALAR,   /* portable C, 4 lanes one after another */
	MD5MB_AVX2,     /* 8 lanes */
	MD5MB_AVX512,   /* 16 lanes */
};

/* Can this CPU run impl?  (NONE and SCALAR: always.) */
bool md5mb_supported(enum md5mb_impl impl);
/* The implementation worth using: AVX-512 or AVX2 when the CPU has it,
 * else NONE (scalar lanes are no faster than one MD5 stream per message),
 * unless OWL_MD5MB names another one the CPU runs ("off": NONE). */
enum md5mb_impl md5mb_pick(void);
const char *md5mb_impl_name(enum md5mb_impl impl);

struct md5mb;

/* A context running impl (not NONE).  Returns 0, -ENOTSUP (the CPU cannot
 * run impl, or NONE), -EINVAL or -ENOMEM. */
int md5mb_new(enum md5mb_impl impl, struct md5mb **ret);
void md5mb_free(struct md5mb *m);
unsigned md5mb_lanes(const struct md5mb *m);
enum md5mb_impl md5mb_impl_of(const struct md5mb *m);

/* Start a new message in lane (whatever it held is dropped). */
void md5mb_begin(struct md5mb *m, unsigned lane);
/* Append len bytes to lane's message.  Up to 63 bytes are copied at once;
 * the whole blocks are read from data by later md5mb_run() calls, so data
 * must stay valid and unchanged until md5mb_run() returns the lane as
 * hungry (or md5mb_end/md5mb_begin is called for it).  Feeding a lane that
 * still has unconsumed data or is not begun is a caller bug (ignored). */
void md5mb_feed(struct md5mb *m, unsigned lane, const void *data, size_t len);
/* Process blocks in every begun lane that has fed data, until at least one
 * of them has used all of its data.  Returns the bit mask of begun lanes
 * whose data is all used (feed them, or end them); 0 when no lane is
 * begun. */
uint32_t md5mb_run(struct md5mb *m);
/* Finish lane's message (all its fed data is hashed first) into out; the
 * lane becomes free. */
void md5mb_end(struct md5mb *m, unsigned lane, uint8_t out[16]);

#endif
