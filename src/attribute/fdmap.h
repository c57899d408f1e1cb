/* Socket inode → owning processes, from a walk of /proc/PID/fd or from a
 * BPF task_file iterator (fdmap_bpf.c). */
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

/* Which backend builds the map (scan --owners). */
enum fdmap_backend {
	FDMAP_AUTO = 0, /* the BPF iterator where it is valid, else the /proc walk */
	FDMAP_PROC,     /* the /proc/PID/fd walk */
	FDMAP_BPF,      /* the BPF iterator or nothing (an error) */
};

/* How the map was built: for --verbose and the benchmark. */
struct fdmap_how {
	enum fdmap_backend used;  /* FDMAP_PROC or FDMAP_BPF */
	int bpf_err;              /* why the iterator did not serve (-errno), 0 if it did or was not tried */
	const char *bpf_step;     /* where it failed: a static string, NULL when it did not */
	char bpf_msg[160];        /* libbpf's last warning when it failed there (not escaped) */
	uint64_t load_ns, walk_ns; /* BPF: open+load+attach, then the iteration and the map */
	uint64_t read_ns;         /* BPF: of walk_ns, the time in read() (the kernel's walk) */
};

/* The same map from the BPF iterator (pids are init-namespace tgids;
 * pids_denied is 0).  Callers check fdmap_bpf_usable first.  Returns 0 or
 * -errno, with how->bpf_step and bpf_msg set on failure. */
int fdmap_build_bpf(struct fdmap *m, const struct owl_u64map *want, struct fdmap_how *how);

/* 0 when the iterator may serve for this proc_root: /proc itself, owl in
 * the initial pid namespace, root or CAP_BPF+CAP_PERFMON.  Else -errno
 * and *step says which condition failed. */
int fdmap_bpf_usable(const char *proc_root, const char **step);

/* fdmap_build or fdmap_build_bpf as `mode` asks; AUTO falls back to the
 * /proc walk silently (how says why).  FDMAP_BPF fails when the iterator
 * cannot serve.  Returns 0 or -errno. */
int fdmap_build_any(struct fdmap *m, const char *proc_root, const struct owl_u64map *want, int threads,
		    enum fdmap_backend mode, struct fdmap_how *how);

/* Parse a readlink result "socket:[12345]".  Returns the inode or 0. */
uint64_t fdmap_parse_socket_link(const char *s, size_t len);

#endif
