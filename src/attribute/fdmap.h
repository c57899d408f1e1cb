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
	uint64_t load_ns;         /* BPF: open+load+attach (on a thread when prepared) */
	uint64_t wait_ns;         /* BPF: how long the build waited for that load */
	uint64_t walk_ns;         /* the iteration and the map (proc: the whole walk) */
	uint64_t read_ns;         /* BPF: of walk_ns, the time in read() (the kernel's walk) */
};

/* The same map from the BPF iterator (pids are init-namespace tgids;
 * pids_denied is 0), for the real /proc.  Returns 0 or -errno, with
 * how->bpf_step and bpf_msg set on failure. */
int fdmap_build_bpf(struct fdmap *m, const struct owl_u64map *want, struct fdmap_how *how);

/* Fill m from the iterator's records (struct owl_fditer_rec of
 * bpf/owl_fditer.h, 16 bytes each; a trailing partial record is ignored) as
 * fdmap_build_bpf does: `want` filtering, owners in pid order, one per pid
 * with its lowest fd, pids_seen from the process markers.  Returns 0 or
 * -errno (m is then empty). */
int fdmap_from_records(struct fdmap *m, const void *buf, size_t len, const struct owl_u64map *want);

/* Loading the iterator takes milliseconds (libbpf parses the kernel's BTF):
 * fdmap_prepare starts it on a thread, to overlap other work, unless mode
 * is FDMAP_PROC (then NULL).  Hand the result to fdmap_build_any, which
 * waits for it and frees it, or to fdmap_prepare_drop when the build is not
 * reached.  NULL (also on ENOMEM) makes fdmap_build_any load in line. */
struct fdmap_pre;
struct fdmap_pre *fdmap_prepare(const char *proc_root, enum fdmap_backend mode);
void fdmap_prepare_drop(struct fdmap_pre *p);

/* 0 when the iterator may serve for this proc_root: /proc itself, owl in
 * the initial pid namespace, root or CAP_BPF+CAP_PERFMON.  Else -errno
 * and *step says which condition failed. */
int fdmap_bpf_usable(const char *proc_root, const char **step);

/* fdmap_build or the BPF iterator as `mode` asks; AUTO falls back to the
 * /proc walk silently (how says why).  FDMAP_BPF fails when the iterator
 * cannot serve.  Consumes `pre` (may be NULL).  Returns 0 or -errno. */
int fdmap_build_any(struct fdmap *m, const char *proc_root, const struct owl_u64map *want, int threads,
		    enum fdmap_backend mode, struct fdmap_pre *pre, struct fdmap_how *how);

/* Parse a readlink result "socket:[12345]".  Returns the inode or 0. */
uint64_t fdmap_parse_socket_link(const char *s, size_t len);

#endif
