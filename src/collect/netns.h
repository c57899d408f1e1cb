/* Network namespaces: find every one on the host and step into it. */
#ifndef OWL_NETNS_H
#define OWL_NETNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

/* Find every network namespace reachable from proc_root (normally "/proc"):
 * the host's (pid 1), each `ip netns` name under run_netns (normally
 * "/run/netns"), every nsfs bind mount in proc_root/self/mountinfo (docker
 * and others keep theirs elsewhere), and every process's /proc/PID/ns/net.
 * Each namespace is listed once (by inode), host first, named ones next.
 * Entries that cannot be opened (permissions, races) are skipped.
 * Returns 0 and a malloc'd array in *ret (caller frees), or -errno. */
int netns_list(const char *proc_root, const char *run_netns, struct owl_netns **ret, size_t *ret_n);

/* Inode of the caller's current network namespace, or 0. */
uint64_t netns_self_ino(void);

/* Move the calling thread into ns.  *ret_back gets an fd that
 * netns_leave() uses to return.  Returns 0 or -errno (EPERM without
 * CAP_SYS_ADMIN; ENOENT when the namespace vanished). */
int netns_enter(const struct owl_netns *ns, int *ret_back);
int netns_leave(int back);

#endif
