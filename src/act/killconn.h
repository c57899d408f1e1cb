/* `owl contain kill-conn`: end a connection by destroying its socket with
 * sock_diag SOCK_DESTROY, inside the socket's network namespace.  The kernel
 * aborts the socket: the local process gets ECONNABORTED and a TCP peer
 * receives a reset.  Needs CONFIG_INET_DIAG_DESTROY and CAP_NET_ADMIN. */
#ifndef OWL_ACT_KILLCONN_H
#define OWL_ACT_KILLCONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/model.h"

/* Which connections to end.  Every given field must match; at least one of
 * pid, dst, src must be given (killconn_sel_empty() tells). */
struct killconn_sel {
	pid_t pid;                 /* 0 = any owner */
	bool has_dst, has_src;
	struct owl_addr dst, src;
	uint16_t dport, sport;     /* 0 = any port */
	int transport;             /* -1 = tcp or udp */
};

bool killconn_sel_empty(const struct killconn_sel *sel);

/* Does the record match?  Only connected TCP (not LISTEN, not TIME-WAIT:
 * those hold no process) and connected UDP sockets can match. */
bool killconn_match(const struct killconn_sel *sel, const struct owl_record *rec);

/* Destroy the socket c, entering ns first unless ns is NULL (the caller's
 * namespace).  Returns 0, -ENOENT when the socket is gone (already closed,
 * or the cookie no longer matches), -EOPNOTSUPP when the kernel lacks
 * CONFIG_INET_DIAG_DESTROY, -EPERM without CAP_NET_ADMIN, or -errno. */
int killconn_destroy(const struct owl_netns *ns, const struct owl_conn *c);

#endif
