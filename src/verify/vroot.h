/* Opening files inside another process's root (/proc/PID/root) without
 * letting that root's symlinks lead outside it. */
#ifndef OWL_VERIFY_VROOT_H
#define OWL_VERIFY_VROOT_H

#include <stddef.h>
#include <sys/types.h>

/* openat2(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
 * absolute symlinks and ".." stay inside root_fd.  path may be absolute
 * (taken relative to the root).  Returns an fd or -errno. */
int vroot_open(int root_fd, const char *path, int flags);

/* Read a whole file inside root into *buf (malloc'd, NUL-terminated),
 * at most max bytes.  Returns 0 or -errno (-EFBIG past max). */
int vroot_read(int root_fd, const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Read all of fd into a malloc'd NUL-terminated buffer (≤ max bytes). */
int vroot_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);

#endif
