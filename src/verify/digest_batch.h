/* md5 and sha256 of many files at once (a cold scan's images).
 *
 * With a SIMD multi-buffer MD5 (md5mb.h), one thread runs every file's MD5
 * through the vector lanes (a lane takes the next file, biggest first,
 * when its file ends; data read with pread into per-lane buffers, never
 * mmap: a file truncated under us must not SIGBUS), while the other
 * threads compute sha256: in multi-buffer SHA-256 lanes (sha256mb.h) when
 * those are faster than OpenSSL on this CPU, else one stream per file with
 * OpenSSL (SHA-NI where the CPU has it).  When the MD5 thread is done it
 * helps with the remaining sha256.  One lane is slower than one stream, so
 * a file that would take longer in its lane than twice the lanes' whole
 * work (a big file among a few small ones; a batch of a handful) is hashed
 * alone, one stream, by a sha256 thread.
 * Without SIMD (MD5MB_NONE), each thread runs digest_fd() on whole files. */
#ifndef OWL_VERIFY_DIGEST_BATCH_H
#define OWL_VERIFY_DIGEST_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verify/digest.h"
#include "verify/md5mb.h"

struct digest_job {
	int fd;              /* in: read from offset 0 with pread */
	uint64_t size;       /* in: the expected size (order only: biggest first) */
	struct digest_val v; /* out, when rc == 0 */
	int rc;              /* out: 0, or -errno (unreadable, or no memory) */
};

/* Hash every job, on `threads` threads in all (the caller's included; at
 * least 1), with impl (md5mb_pick() normally).  sha_lanes: 1 sha256 in
 * lanes, 0 never, -1 when this CPU gains by it
 * (digest_batch_sha_lanes).  Each job gets its own rc; a job that fails
 * does not disturb the others. */
void digest_batch(struct digest_job *jobs, size_t n, int threads, enum md5mb_impl impl, int sha_lanes);
/* Are SHA-256 lanes of impl faster than OpenSSL's one stream on this CPU? */
bool digest_batch_sha_lanes(enum md5mb_impl impl);

#endif
