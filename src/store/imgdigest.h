/* sha256 of a process's running image, read through /proc/PID/exe (so a
 * deleted or replaced file still hashes as what actually runs), with a
 * cache keyed by (dev, inode, size, mtime, ctime) so each binary is read once. */
#ifndef OWL_IMGDIGEST_H
#define OWL_IMGDIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IMGDIGEST_HEX_MAX 65
/* Larger images are not hashed (-EFBIG): nothing legitimate is that big. */
#define IMGDIGEST_FILE_MAX (1ull << 31)

struct imgdigest_cache {
	struct imgdigest_slot *slots;
	size_t n, cap;
};

void imgdigest_cache_init(struct imgdigest_cache *c);
void imgdigest_cache_free(struct imgdigest_cache *c);

/* sha256 hex of the open file fd (read from offset 0), using the cache
 * (NULL = none).  Returns 0 or -errno; ret untouched on failure. */
int imgdigest_fd(int fd, struct imgdigest_cache *c, char ret[IMGDIGEST_HEX_MAX]);

/* The running image of pid under proc_root ("/proc").  -ENOENT/-ESRCH when
 * the process is gone, -EACCES without the privilege. */
int imgdigest_proc_exe(const char *proc_root, pid_t pid, struct imgdigest_cache *c, char ret[IMGDIGEST_HEX_MAX]);

/* A file by path (what `baseline allow --exe` pins). */
int imgdigest_path(const char *path, char ret[IMGDIGEST_HEX_MAX]);

#endif
