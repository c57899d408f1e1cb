/* md5 and sha256 of many files at once (a cold scan's images).
 *
 * With a SIMD multi-buffer MD5 (md5mb.h), one thread runs every file's MD5
 * through the vector lanes (a lane takes the next file, biggest first,
 * when its file ends; data read with pread into per-lane buffers, never
 * mmap: a file truncated under us must not SIGBUS), while the other
 * threads compute sha256 file by file (OpenSSL: SHA-NI where the CPU has
 * it); when the MD5 thread is done it helps with the remaining sha256.
 * Without one (MD5MB_NONE), each thread runs digest_fd() on whole files. */
#ifndef OWL_VERIFY_DIGEST_BATCH_H
#define OWL_VERIFY_DIGEST_BATCH_H

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
 * least 1), with impl (md5mb_pick() normally).  Each job gets its own rc;
 * a job that fails does not disturb the others. */
void digest_batch(struct digest_job *jobs, size_t n, int threads, enum md5mb_impl impl);

#endif
