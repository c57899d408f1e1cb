/* Socket inode → owning processes, from a walk of /proc/PID/fd. */
#ifndef OWL_FDMAP_H
#define OWL_FDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/hashmap.h"

struct fdmap_owner {
	uint32_t pid;
	uint32_t next;  /* index of the next owner of the same inode, UINT32_MAX = end */
	int32_t fd;     /* lowest fd number seen for this pid */
};

struct fdmap {
	struct owl_u64map head; /* inode → index of first owner */
	struct fdmap_owner *owners;
	size_t nowners, cap;
	unsigned pids_seen;
	unsigned pids_denied;   /* /proc/PID/fd unreadable (not root) */
};

/* Walk proc_root/<pid>/fd of every process.  When `want` is non-NULL only
 * inodes present in it are recorded.  threads > 1 splits the walk.
 * Processes that vanish are skipped.  Returns 0 or -errno. */
int fdmap_build(struct fdmap *m, const char *proc_root, const struct owl_u64map *want, int threads);
void fdmap_free(struct fdmap *m);

/* Parse a readlink result "socket:[12345]".  Returns the inode or 0. */
uint64_t fdmap_parse_socket_link(const char *s, size_t len);

#endif
