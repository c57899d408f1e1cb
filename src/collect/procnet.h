/* Sockets from /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,packet}: the fallback
 * when a sock_diag module is missing, and the cross-check. */
#ifndef OWL_PROCNET_H
#define OWL_PROCNET_H

#include <stddef.h>

#include "collect/sockdiag.h"

/* The file under /proc/net that lists `kind` ("tcp6", "packet", ...). */
const char *procnet_file(enum sockdiag_kind kind);

/* Parse one line of the file for `kind`.  Returns 0 and fills *ret, 1 for
 * the header line, or -EINVAL for a malformed line (*ret untouched). */
int procnet_parse_line(enum sockdiag_kind kind, const char *line, size_t len, struct owl_conn *ret);

/* Parse a whole file's contents; malformed lines are skipped and counted in
 * *ret_bad (may be NULL).  Returns sockets delivered. */
int procnet_parse_buffer(enum sockdiag_kind kind, const char *buf, size_t len, owl_conn_cb cb, void *arg,
			 unsigned *ret_bad);

/* Read the file `dir`/<procnet_file(kind)> (dir is usually "/proc/self/net",
 * which follows the caller's network namespace).  Returns sockets delivered
 * or -errno. */
int procnet_read(const char *dir, enum sockdiag_kind kind, owl_conn_cb cb, void *arg);

#endif
