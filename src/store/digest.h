/* sha256 of a process's running image, read through /proc/PID/exe (so a
 * deleted or replaced file still hashes as what actually runs), with a
 * cache keyed by (dev, inode, size, mtime) so each binary is read once. */
#ifndef OWL_DIGEST_H
#define OWL_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DIGEST_HEX_MAX 65
/* Larger images are not hashed (-EFBIG): nothing legitimate is that big. */
#define DIGEST_FILE_MAX (1ull << 31)

struct digest_cache {
	struct digest_slot *slots;
	size_t n, cap;
};

void digest_cache_init(struct digest_cache *c);
void digest_cache_free(struct digest_cache *c);

/* sha256 hex of the open file fd (read from offset 0), using the cache
 * (NULL = none).  Returns 0 or -errno; ret untouched on failure. */
int digest_fd(int fd, struct digest_cache *c, char ret[DIGEST_HEX_MAX]);

/* The running image of pid under proc_root ("/proc").  -ENOENT/-ESRCH when
 * the process is gone, -EACCES without the privilege. */
int digest_proc_exe(const char *proc_root, pid_t pid, struct digest_cache *c, char ret[DIGEST_HEX_MAX]);

/* A file by path (what `baseline allow --exe` pins). */
int digest_path(const char *path, char ret[DIGEST_HEX_MAX]);

#endif
