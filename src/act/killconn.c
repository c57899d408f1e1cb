#include "act/killconn.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collect/netns.h"
#include "core/addr.h"

bool killconn_sel_empty(const struct killconn_sel *sel)
{
	return sel->pid <= 0 && !sel->has_dst && !sel->has_src;
}

static bool has_pid(const struct owl_record *rec, pid_t pid)
{
	for (uint32_t i = 0; i < rec->npids; i++)
		if (rec->pids[i] == (uint32_t)pid)
			return true;
	return false;
}

bool killconn_match(const struct killconn_sel *sel, const struct owl_record *rec)
{
	const struct owl_conn *c = &rec->conn;
	if (killconn_sel_empty(sel))
		return false;
	if (c->transport != OWL_TP_TCP && c->transport != OWL_TP_UDP)
		return false;
	if (sel->transport >= 0 && c->transport != sel->transport)
		return false;
	if (c->transport == OWL_TP_TCP &&
	    (c->state == OWL_TCP_LISTEN || c->state == OWL_TCP_TIME_WAIT || c->state == OWL_TCP_CLOSE ||
	     c->state == OWL_TCP_NEW_SYN_RECV || c->state == OWL_TCP_BOUND_INACTIVE))
		return false;
	if (c->transport == OWL_TP_UDP && (owl_addr_is_any(&c->raddr) || !c->rport))
		return false;
	if (sel->pid > 0 && !has_pid(rec, sel->pid))
		return false;
	if (sel->has_dst && (!owl_addr_equal(&sel->dst, &c->raddr) || (sel->dport && sel->dport != c->rport)))
		return false;
	if (sel->has_src && (!owl_addr_equal(&sel->src, &c->laddr) || (sel->sport && sel->sport != c->lport)))
		return false;
	return true;
}

static void put_addr(__be32 dst[4], const struct owl_addr *a, int family)
{
	memset(dst, 0, 16);
	if (family == AF_INET) {
		memcpy(dst, a->bytes, 4);
	} else if (a->family == AF_INET) {
		/* a dual-stack socket: v4-mapped */
		uint8_t *b = (uint8_t *)dst;
		b[10] = 0xff;
		b[11] = 0xff;
		memcpy(b + 12, a->bytes, 4);
	} else {
		memcpy(dst, a->bytes, 16);
	}
}

static int destroy_once(int fd, const struct owl_conn *c, int family)
{
	char buf[8192];
	memset(buf, 0, 512);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	uint32_t seq = (uint32_t)time(NULL);
	nlh->nlmsg_seq = seq;
	struct inet_diag_req_v2 *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = (uint8_t)family;
	r->sdiag_protocol = c->transport == OWL_TP_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	r->idiag_states = ~0u;
	r->id.idiag_sport = htons(c->lport);
	r->id.idiag_dport = htons(c->rport);
	put_addr(r->id.idiag_src, &c->laddr, family);
	put_addr(r->id.idiag_dst, &c->raddr, family);
	r->id.idiag_if = (uint32_t)(c->ifindex > 0 ? c->ifindex : 0);
	if (c->cookie) {
		r->id.idiag_cookie[0] = (uint32_t)c->cookie;
		r->id.idiag_cookie[1] = (uint32_t)(c->cookie >> 32);
	} else {
		r->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
		r->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	}
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		int rem = (int)n;
		while (mnl_nlmsg_ok(h, rem)) {
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq) {
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
					return -EPROTO;
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
				return e->error;
			}
			h = mnl_nlmsg_next(h, &rem);
		}
	}
}

int killconn_destroy(const struct owl_netns *ns, const struct owl_conn *c)
{
	int back = -1, r;
	if (c->transport != OWL_TP_TCP && c->transport != OWL_TP_UDP)
		return -EINVAL;
	if (ns) {
		r = netns_enter(ns, &back);
		if (r < 0)
			return r;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		r = -errno;
	} else {
		int family = c->laddr.family == AF_INET6 || c->raddr.family == AF_INET6 ? AF_INET6 : AF_INET;
		r = destroy_once(fd, c, family);
		/* an AF_INET6 socket talking IPv4 is reported with v4 addresses */
		if (r == -ENOENT && family == AF_INET)
			r = destroy_once(fd, c, AF_INET6);
		close(fd);
	}
	if (back >= 0) {
		int l = netns_leave(back);
		if (l < 0 && r == 0)
			r = l;
	}
	return r;
}
