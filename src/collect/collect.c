#include "collect/collect.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "collect/netns.h"
#include "collect/procnet.h"
#include "core/addr.h"
#include "core/hashmap.h"

struct sink {
	struct owl_vec *conns;
	uint64_t ns_ino;
	int oom;
};

static int sink_cb(const struct owl_conn *c, void *arg)
{
	struct sink *s = arg;
	struct owl_conn *d = owl_vec_push(s->conns);
	if (!d) {
		s->oom = 1;
		return 1;
	}
	*d = *c;
	d->netns_ino = s->ns_ino;
	return 0;
}

static bool diag_missing(int err)
{
	return err == -ENOENT || err == -EOPNOTSUPP || err == -EPROTONOSUPPORT || err == -EINVAL ||
	       err == -EAFNOSUPPORT;
}

static bool wants_info(const struct owl_conn *c)
{
	switch (c->state) {
	case OWL_TCP_ESTABLISHED: case OWL_TCP_SYN_SENT: case OWL_TCP_FIN_WAIT1: case OWL_TCP_FIN_WAIT2:
	case OWL_TCP_CLOSE_WAIT: case OWL_TCP_LAST_ACK: case OWL_TCP_CLOSING:
		break;
	default:
		return false;
	}
	return !owl_addr_is_loopback(&c->raddr) && !owl_addr_is_any(&c->raddr);
}

/* tcp_info for the connections to non-loopback peers collected since
 * `mark`, one query each.  A socket that closed meanwhile keeps no info. */
static void fill_egress_info(struct collect_result *r, size_t mark)
{
	struct sockdiag_query *q = NULL;
	for (size_t i = mark; i < r->conns.len; i++) {
		struct owl_conn *c = collect_conn(r, i);
		if (!wants_info(c))
			continue;
		if (!q && sockdiag_query_open(&q) < 0)
			return;
		sockdiag_query_tcpinfo(q, c);
	}
	sockdiag_query_close(q);
}

/* Collect all kinds in the current namespace. */
static int collect_here(const struct collect_opts *o, uint32_t ns_index, uint64_t ino, struct collect_result *r)
{
	struct sink s = {.conns = &r->conns, .ns_ino = ino};
	for (int k = 0; k < SOCKDIAG__MAX; k++) {
		struct collect_note *n;
		size_t mark = r->conns.len;
		int diag_err = 0, count = 0;
		uint8_t src = OWL_SRC_DIAG;
		if (o->source != COLLECT_SRC_PROC) {
			count = sockdiag_dump((enum sockdiag_kind)k, o->with_info == COLLECT_INFO_ALL, sink_cb, &s);
			if (count < 0) {
				diag_err = count;
				r->conns.len = mark; /* drop a partial dump */
			}
		}
		if (s.oom)
			return -ENOMEM;
		if (o->source == COLLECT_SRC_PROC || (o->source == COLLECT_SRC_AUTO && diag_err < 0 && diag_missing(diag_err))) {
			src = OWL_SRC_PROC;
			count = procnet_read("/proc/thread-self/net", (enum sockdiag_kind)k, sink_cb, &s);
			if (s.oom)
				return -ENOMEM;
		}
		if ((k == SOCKDIAG_TCP4 || k == SOCKDIAG_TCP6) && o->with_info == COLLECT_INFO_EGRESS && src == OWL_SRC_DIAG)
			fill_egress_info(r, mark);
		if (k == SOCKDIAG_PACKET) {
			/* interface names only make sense inside their namespace */
			for (size_t i = mark; i < r->conns.len; i++) {
				struct owl_conn *c = collect_conn(r, i);
				char name[IF_NAMESIZE];
				if (c->ifindex > 0 && if_indextoname((unsigned)c->ifindex, name))
					owl_strlcpy(c->ifname, name, sizeof(c->ifname));
			}
		}
		n = owl_vec_push(&r->notes);
		if (!n)
			return -ENOMEM;
		n->ns_index = ns_index;
		n->kind = (uint8_t)k;
		n->source = src;
		n->count = count;
		n->diag_err = diag_err;
	}
	return 0;
}

static bool ns_selected(const struct collect_opts *o, const struct owl_netns *ns)
{
	if (!o->netns || strcmp(o->netns, "all") == 0)
		return true;
	if (strcmp(o->netns, ns->name) == 0)
		return true;
	char ino[32];
	snprintf(ino, sizeof(ino), "%llu", (unsigned long long)ns->ino);
	return strcmp(o->netns, ino) == 0;
}

int collect_sockets(const struct collect_opts *o, struct collect_result *r)
{
	struct owl_netns *all = NULL;
	size_t nall = 0;
	int rc;
	memset(r, 0, sizeof(*r));
	owl_vec_init(&r->conns, o->elsize >= sizeof(struct owl_conn) ? o->elsize : sizeof(struct owl_conn));
	owl_vec_init(&r->notes, sizeof(struct collect_note));
	r->self_ns = netns_self_ino();

	rc = netns_list(o->proc_root ? o->proc_root : "/proc", o->run_netns ? o->run_netns : "/run/netns",
			&all, &nall);
	if (rc < 0)
		return rc;
	/* keep only the selected namespaces */
	size_t keep = 0;
	for (size_t i = 0; i < nall; i++)
		if (ns_selected(o, &all[i]))
			all[keep++] = all[i];
	if (keep == 0) {
		free(all);
		return -ENOENT;
	}
	r->ns = all;
	r->nns = keep;
	r->ns_err = calloc(keep, sizeof(int));
	if (!r->ns_err)
		return -ENOMEM;

	for (size_t i = 0; i < keep; i++) {
		int back = -1;
		bool here = all[i].ino == r->self_ns;
		if (!here) {
			int e = netns_enter(&all[i], &back);
			if (e < 0) {
				r->ns_err[i] = e;
				continue;
			}
		}
		rc = collect_here(o, (uint32_t)i, all[i].ino, r);
		if (!here && netns_leave(back) < 0 && rc == 0)
			rc = -EIO; /* cannot get back home: stop rather than mislabel */
		if (rc < 0)
			return rc;
	}
	return 0;
}

void collect_result_free(struct collect_result *r)
{
	if (!r)
		return;
	free(r->ns);
	free(r->ns_err);
	owl_vec_free(&r->conns);
	owl_vec_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

/* ---- direction ---- */

static uint64_t lkey(const struct owl_conn *c)
{
	/* namespace inodes fit in 32 bits; transport separates TCP from UDP */
	return ((c->netns_ino & 0xffffffffffull) << 20) | ((uint64_t)c->transport << 16) | c->lport;
}

static bool is_listener(const struct owl_conn *c)
{
	if (c->transport == OWL_TP_TCP)
		return c->state == OWL_TCP_LISTEN;
	if (c->transport == OWL_TP_UDP)
		return c->state == OWL_TCP_CLOSE && c->lport != 0 && owl_addr_is_any(&c->raddr);
	return false;
}

/* Does listener l accept what arrives at c's local address? */
static bool covers(const struct owl_conn *l, const struct owl_conn *c)
{
	if (owl_addr_is_any(&l->laddr)) {
		/* 0.0.0.0 takes IPv4 only; :: takes both unless V6ONLY (not visible: assume both) */
		return l->laddr.family == AF_INET6 || c->laddr.family == AF_INET;
	}
	return owl_addr_equal(&l->laddr, &c->laddr);
}

#define CONN_AT(i) ((struct owl_conn *)((char *)base + (size_t)(i) * stride))

int collect_set_directions(void *base, size_t n, size_t stride)
{
	struct owl_u64map heads;
	uint32_t *next = NULL;
	int rc = owl_u64map_init(&heads, 256);
	if (rc < 0)
		return rc;
	next = malloc((n ? n : 1) * sizeof(*next));
	if (!next) {
		owl_u64map_free(&heads);
		return -ENOMEM;
	}
	/* chain listeners by (netns, transport, port) */
	for (size_t i = 0; i < n; i++) {
		if (!is_listener(CONN_AT(i)))
			continue;
		uint32_t head;
		uint64_t k = lkey(CONN_AT(i));
		next[i] = owl_u64map_get(&heads, k, &head) ? head : UINT32_MAX;
		if (owl_u64map_put(&heads, k, (uint32_t)i) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct owl_conn *c = CONN_AT(i);
		if (c->transport == OWL_TP_RAW || c->transport == OWL_TP_PACKET) {
			c->direction = (c->transport == OWL_TP_RAW && !owl_addr_is_any(&c->raddr))
					       ? OWL_DIR_EGRESS : OWL_DIR_UNKNOWN;
			continue;
		}
		if (is_listener(c)) {
			c->direction = OWL_DIR_LISTENING;
			continue;
		}
		if (c->transport == OWL_TP_TCP && c->state == OWL_TCP_CLOSE && owl_addr_is_any(&c->raddr)) {
			c->direction = OWL_DIR_UNKNOWN; /* bound or closed, never connected */
			continue;
		}
		c->direction = OWL_DIR_EGRESS;
		uint32_t j;
		if (owl_u64map_get(&heads, lkey(c), &j)) {
			for (; j != UINT32_MAX; j = next[j]) {
				if (covers(CONN_AT(j), c)) {
					c->direction = OWL_DIR_INGRESS;
					break;
				}
			}
		}
	}
out:
	free(next);
	owl_u64map_free(&heads);
	return rc;
}
