/* Sockets from netlink NETLINK_SOCK_DIAG, in the caller's network namespace.
 *
 * Parsing is separate from the socket I/O so recorded dumps (tests, fuzz)
 * go through exactly the code a live dump does. */
#ifndef OWL_SOCKDIAG_H
#define OWL_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/netlink.h>

#include "core/model.h"

/* Called once per socket; a non-zero return stops the dump. */
typedef int (*owl_conn_cb)(const struct owl_conn *c, void *arg);

enum sockdiag_kind {
	SOCKDIAG_TCP4,
	SOCKDIAG_TCP6,
	SOCKDIAG_UDP4,
	SOCKDIAG_UDP6,
	SOCKDIAG_RAW4,
	SOCKDIAG_RAW6,
	SOCKDIAG_PACKET,
	SOCKDIAG__MAX,
};

const char *sockdiag_kind_name(enum sockdiag_kind k);

/* Dump one kind of socket in the current network namespace.  with_info asks
 * the kernel for tcp_info (byte counters, retransmits).  Returns the number
 * of sockets delivered, -ENOENT/-EOPNOTSUPP/-EPROTONOSUPPORT when the kernel
 * has no diag module for that kind (caller falls back to /proc/net), or
 * another -errno. */
int sockdiag_dump(enum sockdiag_kind kind, bool with_info, owl_conn_cb cb, void *arg);

/* Looking sockets up one by one (in the namespace the handle was opened in). */
struct sockdiag_query;

/* Open a query handle in the current network namespace.  Returns 0 or -errno. */
int sockdiag_query_open(struct sockdiag_query **ret);
void sockdiag_query_close(struct sockdiag_query *q);

/* Ask the kernel for the tcp_info of one TCP socket (matched by its tuple
 * and cookie) and fill c's has_tcpinfo, retransmits, backoff, byte counters,
 * rtt and idle time.  Returns 0, -ENOENT when the socket is gone, or -errno.
 * c is untouched on failure. */
int sockdiag_query_tcpinfo(struct sockdiag_query *q, struct owl_conn *c);

/* Parse one message of a dump of `kind` into *ret.  Returns 0, 1 when the
 * message is not a socket record (NLMSG_DONE etc.), or -EINVAL when it is
 * malformed.  *ret is untouched on failure. */
int sockdiag_parse_msg(enum sockdiag_kind kind, const struct nlmsghdr *nlh, struct owl_conn *ret);

/* Parse a buffer of concatenated netlink messages (a recorded dump).
 * Returns sockets delivered, or -errno from an NLMSG_ERROR in the stream,
 * or -EINVAL when the stream is malformed (delivering what came before). */
int sockdiag_parse_stream(enum sockdiag_kind kind, const void *buf, size_t len, owl_conn_cb cb, void *arg);

#endif
