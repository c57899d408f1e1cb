/* The collect stage: every socket of every (selected) network namespace,
 * from sock_diag where the kernel serves it and /proc/net otherwise. */
#ifndef OWL_COLLECT_H
#define OWL_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "collect/sockdiag.h"
#include "core/model.h"
#include "core/util.h"

enum collect_source {
	COLLECT_SRC_AUTO = 0, /* sock_diag, /proc/net for kinds it lacks */
	COLLECT_SRC_DIAG,     /* sock_diag only */
	COLLECT_SRC_PROC,     /* /proc/net only */
};

struct collect_opts {
	enum collect_source source;
	const char *netns;    /* NULL or "all": every namespace; else a name or inode */
	/* tcp_info (byte counters, retransmits): COLLECT_INFO_EGRESS asks for
	 * it per socket, only for connections to non-loopback peers (the only
	 * ones judged on it), which keeps the dump as cheap as `ss -tan`;
	 * COLLECT_INFO_ALL asks for it in the dump for every socket. */
	enum { COLLECT_INFO_NONE = 0, COLLECT_INFO_EGRESS, COLLECT_INFO_ALL } with_info;
	const char *proc_root;  /* "/proc" unless testing */
	const char *run_netns;  /* "/run/netns" unless testing */
	/* Size of each element of the result's conns vector; 0 = sizeof(struct
	 * owl_conn).  Larger elements (e.g. struct owl_record) must begin with
	 * a struct owl_conn; the rest is zeroed.  Lets the caller build its
	 * records in place instead of copying every socket. */
	size_t elsize;
};

/* What served one kind of socket in one namespace (for --verbose). */
struct collect_note {
	uint32_t ns_index;
	uint8_t kind;         /* enum sockdiag_kind */
	uint8_t source;       /* enum owl_source that served it */
	int count;            /* sockets, or -errno when nothing could serve it */
	int diag_err;         /* why sock_diag did not serve it (0 if it did) */
};

struct collect_result {
	struct owl_netns *ns;      /* every namespace visited or skipped */
	size_t nns;
	int *ns_err;               /* per namespace: 0, or -errno why it was skipped */
	struct owl_vec conns;      /* elements of opts.elsize, each starting with a struct owl_conn */
	struct owl_vec notes;      /* struct collect_note */
	uint64_t self_ns;          /* the namespace owl started in */
};

/* Collect.  Namespaces that vanish or cannot be entered are recorded in
 * ns_err, not fatal.  Returns 0, -ENOENT when opts->netns names no
 * namespace, or -ENOMEM. */
int collect_sockets(const struct collect_opts *opts, struct collect_result *ret);
void collect_result_free(struct collect_result *r);

/* The i-th socket of a result. */
static inline struct owl_conn *collect_conn(const struct collect_result *r, size_t i)
{
	return (struct owl_conn *)((char *)r->conns.data + i * r->conns.elsize);
}

/* Fill conn.direction for n sockets laid out every `stride` bytes from
 * base, from the listening sockets of the same namespace.  Returns 0 or
 * -ENOMEM. */
int collect_set_directions(void *base, size_t n, size_t stride);

#endif
