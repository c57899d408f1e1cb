#include "collect/sockdiag.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/util.h"

static const char *const kind_names[SOCKDIAG__MAX] = {
	[SOCKDIAG_TCP4] = "tcp4", [SOCKDIAG_TCP6] = "tcp6",
	[SOCKDIAG_UDP4] = "udp4", [SOCKDIAG_UDP6] = "udp6",
	[SOCKDIAG_RAW4] = "raw4", [SOCKDIAG_RAW6] = "raw6",
	[SOCKDIAG_PACKET] = "packet",
};

const char *sockdiag_kind_name(enum sockdiag_kind k)
{
	return (unsigned)k < SOCKDIAG__MAX ? kind_names[k] : "?";
}

static void kind_params(enum sockdiag_kind k, int *family, int *proto, int *transport)
{
	switch (k) {
	case SOCKDIAG_TCP4: *family = AF_INET;  *proto = IPPROTO_TCP; *transport = OWL_TP_TCP; break;
	case SOCKDIAG_TCP6: *family = AF_INET6; *proto = IPPROTO_TCP; *transport = OWL_TP_TCP; break;
	case SOCKDIAG_UDP4: *family = AF_INET;  *proto = IPPROTO_UDP; *transport = OWL_TP_UDP; break;
	case SOCKDIAG_UDP6: *family = AF_INET6; *proto = IPPROTO_UDP; *transport = OWL_TP_UDP; break;
	case SOCKDIAG_RAW4: *family = AF_INET;  *proto = IPPROTO_RAW; *transport = OWL_TP_RAW; break;
	case SOCKDIAG_RAW6: *family = AF_INET6; *proto = IPPROTO_RAW; *transport = OWL_TP_RAW; break;
	default:            *family = AF_PACKET; *proto = 0;          *transport = OWL_TP_PACKET; break;
	}
}

struct attr_tab {
	const struct nlattr *a[32];
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attr_tab *t = data;
	unsigned type = mnl_attr_get_type(attr);
	if (type < OWL_ARRAY_SIZE(t->a))
		t->a[type] = attr;
	return MNL_CB_OK;
}

static void fill_tcpinfo(struct owl_conn *c, const struct nlattr *a)
{
	struct tcp_info ti;
	size_t n = mnl_attr_get_payload_len(a);
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, mnl_attr_get_payload(a), OWL_MIN(n, sizeof(ti)));
	c->has_tcpinfo = true;
	c->retransmits = ti.tcpi_retransmits;
	c->backoff = ti.tcpi_backoff;
	c->total_retrans = ti.tcpi_total_retrans;
	c->rtt_us = ti.tcpi_rtt;
	c->idle_ms = ti.tcpi_last_data_recv;
	if (n >= offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received)) {
		c->bytes_acked = ti.tcpi_bytes_acked;
		c->bytes_received = ti.tcpi_bytes_received;
	}
	if (n >= offsetof(struct tcp_info, tcpi_bytes_sent) + sizeof(ti.tcpi_bytes_sent))
		c->bytes_sent = ti.tcpi_bytes_sent;
}

static int parse_inet(enum sockdiag_kind kind, const struct nlmsghdr *nlh, struct owl_conn *ret)
{
	int family, proto, transport;
	struct owl_conn c;
	struct attr_tab t;
	kind_params(kind, &family, &proto, &transport);

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
		return -EINVAL;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return -EINVAL;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	c.transport = (uint8_t)transport;
	c.family = m->idiag_family;
	c.state = m->idiag_state;
	c.source = OWL_SRC_DIAG;
	owl_addr_set(&c.laddr, m->idiag_family, m->id.idiag_src);
	owl_addr_set(&c.raddr, m->idiag_family, m->id.idiag_dst);
	/* a v6 socket bound to or talking over v4-mapped addresses is shown as IPv4 */
	if (c.laddr.family == AF_INET ||
	    (c.raddr.family == AF_INET && owl_addr_is_any(&c.laddr)))
		c.family = AF_INET;
	c.lport = ntohs(m->id.idiag_sport);
	c.rport = ntohs(m->id.idiag_dport);
	c.ifindex = (int32_t)m->id.idiag_if;
	c.id_if = m->id.idiag_if;
	c.sk_family = m->idiag_family;
	c.cookie = (uint64_t)m->id.idiag_cookie[0] | ((uint64_t)m->id.idiag_cookie[1] << 32);
	c.inode = m->idiag_inode;
	c.uid = m->idiag_uid;
	c.has_uid = true;
	c.rqueue = m->idiag_rqueue;
	c.wqueue = m->idiag_wqueue;
	if (transport == OWL_TP_RAW)
		c.protocol = c.lport; /* raw: "port" is the protocol */

	if (mnl_attr_parse(nlh, sizeof(*m), attr_cb, &t) < 0)
		return -EINVAL;
	if (t.a[INET_DIAG_CGROUP_ID] && mnl_attr_get_payload_len(t.a[INET_DIAG_CGROUP_ID]) >= 8)
		memcpy(&c.cgroup_id, mnl_attr_get_payload(t.a[INET_DIAG_CGROUP_ID]), 8);
	if (t.a[INET_DIAG_PROTOCOL] && mnl_attr_get_payload_len(t.a[INET_DIAG_PROTOCOL]) >= 1)
		c.protocol = mnl_attr_get_u8(t.a[INET_DIAG_PROTOCOL]);
	if (transport == OWL_TP_TCP && t.a[INET_DIAG_INFO])
		fill_tcpinfo(&c, t.a[INET_DIAG_INFO]);
	if (transport == OWL_TP_UDP)
		c.state = (c.raddr.family && !owl_addr_is_any(&c.raddr)) ? OWL_TCP_ESTABLISHED : OWL_TCP_CLOSE;
	*ret = c;
	return 0;
}

static int parse_packet(const struct nlmsghdr *nlh, struct owl_conn *ret)
{
	struct owl_conn c;
	struct attr_tab t;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct packet_diag_msg)))
		return -EINVAL;
	const struct packet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	if (m->pdiag_family != AF_PACKET)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	c.transport = OWL_TP_PACKET;
	c.family = AF_PACKET;
	c.source = OWL_SRC_DIAG;
	c.pkt_type = m->pdiag_type;
	c.protocol = m->pdiag_num; /* host order, as the kernel reports it */
	c.inode = m->pdiag_ino;
	c.cookie = (uint64_t)m->pdiag_cookie[0] | ((uint64_t)m->pdiag_cookie[1] << 32);
	c.state = OWL_TCP_CLOSE;
	if (mnl_attr_parse(nlh, sizeof(*m), attr_cb, &t) < 0)
		return -EINVAL;
	if (t.a[PACKET_DIAG_UID] && mnl_attr_get_payload_len(t.a[PACKET_DIAG_UID]) >= 4) {
		c.uid = mnl_attr_get_u32(t.a[PACKET_DIAG_UID]);
		c.has_uid = true;
	}
	if (t.a[PACKET_DIAG_INFO] &&
	    mnl_attr_get_payload_len(t.a[PACKET_DIAG_INFO]) >= sizeof(struct packet_diag_info)) {
		const struct packet_diag_info *pi = mnl_attr_get_payload(t.a[PACKET_DIAG_INFO]);
		c.ifindex = (int32_t)pi->pdi_index;
	}
	if (t.a[PACKET_DIAG_FILTER]) {
		size_t n = mnl_attr_get_payload_len(t.a[PACKET_DIAG_FILTER]);
		c.has_filter = true;
		c.filter_len = (uint16_t)OWL_MIN(n / sizeof(struct sock_filter), 0xffffu);
	}
	if (t.a[PACKET_DIAG_MEMINFO] && mnl_attr_get_payload_len(t.a[PACKET_DIAG_MEMINFO]) >= 4 * 2) {
		const uint32_t *mi = mnl_attr_get_payload(t.a[PACKET_DIAG_MEMINFO]);
		c.rqueue = mi[0]; /* SK_MEMINFO_RMEM_ALLOC */
	}
	*ret = c;
	return 0;
}

int sockdiag_parse_msg(enum sockdiag_kind kind, const struct nlmsghdr *nlh, struct owl_conn *ret)
{
	if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_NOOP ||
	    nlh->nlmsg_type == NLMSG_ERROR)
		return 1;
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 1;
	if (kind == SOCKDIAG_PACKET)
		return parse_packet(nlh, ret);
	return parse_inet(kind, nlh, ret);
}

struct stream_state {
	enum sockdiag_kind kind;
	owl_conn_cb cb;
	void *arg;
	int count;
	int err;
	int stop;
};

/* Walk the messages of one buffer.  Returns MNL_CB_OK to continue,
 * MNL_CB_STOP at NLMSG_DONE, MNL_CB_ERROR on error (st->err set). */
static int walk_buffer(struct stream_state *st, const void *buf, size_t len)
{
	const char *p = buf;
	size_t rem = len;
	/* libmnl's mnl_nlmsg_ok() compares nlmsg_len as a signed int, so a
	 * length with the top bit set passes it: check lengths ourselves. */
	while (rem >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		if (nlh->nlmsg_len < sizeof(struct nlmsghdr) || nlh->nlmsg_len > rem) {
			st->err = -EINVAL;
			return MNL_CB_ERROR;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			/* a DONE may carry an error code (e.g. -ENOENT from inet_diag) */
			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
				int e;
				memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
				if (e < 0) {
					st->err = e;
					return MNL_CB_ERROR;
				}
			}
			return MNL_CB_STOP;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
				st->err = -EINVAL;
				return MNL_CB_ERROR;
			}
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			st->err = e->error < 0 ? e->error : -EPROTO;
			if (e->error == 0) /* an ACK */
				st->err = 0;
			return st->err ? MNL_CB_ERROR : MNL_CB_STOP;
		}
		struct owl_conn c;
		int r = sockdiag_parse_msg(st->kind, nlh, &c);
		if (r == 0) {
			st->count++;
			if (!st->stop && st->cb(&c, st->arg))
				st->stop = 1;
		}
		/* malformed records are skipped, not fatal */
		size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step >= rem)
			break;
		p += step;
		rem -= step;
	}
	return MNL_CB_OK;
}

int sockdiag_parse_stream(enum sockdiag_kind kind, const void *buf, size_t len, owl_conn_cb cb, void *arg)
{
	struct stream_state st = {.kind = kind, .cb = cb, .arg = arg};
	int r = walk_buffer(&st, buf, len);
	if (r == MNL_CB_ERROR)
		return st.err;
	return st.count;
}

static void record_chunk(enum sockdiag_kind kind, const void *buf, size_t len)
{
	/* OWL_DIAG_RECORD=PREFIX appends the raw netlink replies to
	 * PREFIX.<kind>, for the test fixtures (like ss's TCPDIAG_FILE). */
	const char *prefix = getenv("OWL_DIAG_RECORD");
	char path[4096];
	if (!prefix || !*prefix)
		return;
	snprintf(path, sizeof(path), "%s.%s", prefix, sockdiag_kind_name(kind));
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ssize_t w = write(fd, buf, len);
	(void)w;
	close(fd);
}

int sockdiag_dump(enum sockdiag_kind kind, bool with_info, owl_conn_cb cb, void *arg)
{
	int family, proto, transport;
	char req[256];
	size_t bufsz = 64 * 1024;
	kind_params(kind, &family, &proto, &transport);

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	int rcvbuf = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	memset(req, 0, sizeof(req));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (kind == SOCKDIAG_PACKET) {
		struct packet_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = AF_PACKET;
		r->pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_FILTER | PACKET_SHOW_MEMINFO;
	} else {
		struct inet_diag_req_v2 *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = (uint8_t)family;
		r->sdiag_protocol = (uint8_t)proto;
		r->idiag_states = ~0u;
		if (with_info && transport == OWL_TP_TCP)
			r->idiag_ext |= 1 << (INET_DIAG_INFO - 1);
		if (transport == OWL_TP_RAW)
			r->pad = IPPROTO_RAW; /* raw_diag: sdiag_raw_protocol, 255 = every protocol */
	}

	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}

	char *buf = malloc(bufsz);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	struct stream_state st = {.kind = kind, .cb = cb, .arg = arg};
	int result = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, bufsz, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			result = -errno;
			break;
		}
		if (n == 0)
			break;
		record_chunk(kind, buf, (size_t)n);
		int r = walk_buffer(&st, buf, (size_t)n);
		if (r == MNL_CB_ERROR) {
			result = st.err;
			break;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	free(buf);
	close(fd);
	return result < 0 ? result : st.count;
}

struct sockdiag_query {
	int fd;
	uint32_t seq;
	char buf[16384];
};

int sockdiag_query_open(struct sockdiag_query **ret)
{
	struct sockdiag_query *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (q->fd < 0) {
		int e = -errno;
		free(q);
		return e;
	}
	struct timeval tv = {.tv_sec = 2};
	setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*ret = q;
	return 0;
}

void sockdiag_query_close(struct sockdiag_query *q)
{
	if (!q)
		return;
	close(q->fd);
	free(q);
}

/* The socket's own address bytes: v4-mapped when a v6 socket shows IPv4. */
static void id_addr(const struct owl_conn *c, const struct owl_addr *a, __be32 out[4])
{
	memset(out, 0, 16);
	if (c->sk_family == AF_INET6 && a->family == AF_INET) {
		uint8_t *b = (uint8_t *)out;
		b[10] = 0xff;
		b[11] = 0xff;
		memcpy(b + 12, a->bytes, 4);
	} else {
		memcpy(out, a->bytes, owl_addr_len(a));
	}
}

int sockdiag_query_tcpinfo(struct sockdiag_query *q, struct owl_conn *c)
{
	char req[256];
	if (c->transport != OWL_TP_TCP || (c->sk_family != AF_INET && c->sk_family != AF_INET6))
		return -EINVAL;
	memset(req, 0, sizeof(req));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++q->seq;
	struct inet_diag_req_v2 *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = c->sk_family;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	r->idiag_states = ~0u;
	r->id.idiag_sport = htons(c->lport);
	r->id.idiag_dport = htons(c->rport);
	id_addr(c, &c->laddr, r->id.idiag_src);
	id_addr(c, &c->raddr, r->id.idiag_dst);
	r->id.idiag_if = c->id_if;
	r->id.idiag_cookie[0] = (uint32_t)c->cookie;
	r->id.idiag_cookie[1] = (uint32_t)(c->cookie >> 32);

	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	if (sendto(q->fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(q->fd, q->buf, sizeof(q->buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		const char *p = q->buf;
		size_t rem = (size_t)n;
		while (rem >= sizeof(struct nlmsghdr)) {
			const struct nlmsghdr *h = (const struct nlmsghdr *)p;
			if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > rem)
				return -EINVAL;
			if (h->nlmsg_seq == q->seq) {
				if (h->nlmsg_type == NLMSG_ERROR) {
					if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
						return -EINVAL;
					const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
					return e->error < 0 ? e->error : -ENOENT;
				}
				if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
				    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
					struct attr_tab t;
					memset(&t, 0, sizeof(t));
					if (mnl_attr_parse(h, sizeof(struct inet_diag_msg), attr_cb, &t) < 0)
						return -EINVAL;
					if (!t.a[INET_DIAG_INFO])
						return -ENOENT;
					fill_tcpinfo(c, t.a[INET_DIAG_INFO]);
					return 0;
				}
			}
			size_t step = NLMSG_ALIGN(h->nlmsg_len);
			if (step >= rem)
				break;
			p += step;
			rem -= step;
		}
	}
}
