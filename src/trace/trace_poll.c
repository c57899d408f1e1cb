/* The poll backend: sock_diag snapshots of every namespace at an interval,
 * compared with the previous one, plus the proc connector for exec/exit.
 * It makes the same records as the eBPF backend, for what it can see: a
 * connection that opens and closes between two snapshots never shows. */
#include "trace/trace.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "attribute/fdmap.h"
#include "attribute/procinfo.h"
#include "collect/collect.h"
#include "core/addr.h"
#include "core/hashmap.h"
#include "core/util.h"

struct pent {
	uint64_t key;
	struct owl_conn c;
	struct owl_ev_task task;
	uint64_t first_ns;      /* boot clock */
	bool established;       /* reported as connected / accepted / sent */
	bool preexisting;       /* there before owl started: its close is not news either */
};

struct poll_priv {
	struct trace_opts o;
	const char *proc_root;
	int interval_ms;
	uint64_t next_ns;       /* monotonic: next snapshot */
	uint64_t ns_per_tick;
	struct pent *snap;      /* sorted by key */
	size_t nsnap;
	bool first;             /* the first snapshot only learns what exists */
	int cn_fd;              /* proc connector, -1 when unavailable */
	char blind[768];
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_pent(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;
	return (x->key > y->key) - (x->key < y->key);
}

/* bsearch that accepts an empty array (base may then be NULL) */
static struct pent *find_pent(const struct pent *key, struct pent *base, size_t n)
{
	return n ? bsearch(key, base, n, sizeof(*base), cmp_pent) : NULL;
}

static uint64_t conn_key(const struct owl_conn *c)
{
	uint64_t k = c->cookie ? c->cookie : c->inode * 1000003ULL ^ c->netns_ino;
	return k * 4 + c->transport;
}

static bool is_loop(const struct owl_conn *c)
{
	return owl_addr_is_loopback(&c->raddr);
}

/* ---- proc connector ---- */

static int cn_open(void)
{
	int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	/* nlmsghdr, cn_msg, then the op: laid out by hand (cn_msg ends in a
	 * flexible array) */
	char msg[NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(uint32_t))] __attribute__((aligned(NLMSG_ALIGNTO)));
	memset(msg, 0, sizeof(msg));
	struct nlmsghdr *nl = (struct nlmsghdr *)msg;
	nl->nlmsg_len = sizeof(msg);
	nl->nlmsg_type = NLMSG_DONE;
	struct cn_msg *cn = NLMSG_DATA(nl);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(uint32_t);
	uint32_t op = PROC_CN_MCAST_LISTEN;
	memcpy(cn->data, &op, sizeof(op));
	if (send(fd, msg, sizeof(msg), 0) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void task_of(struct poll_priv *p, pid_t pid, struct owl_ev_task *t, struct owl_proc *tmp)
{
	memset(t, 0, sizeof(*t));
	t->pid = t->tgid = (uint32_t)pid;
	if (procinfo_load(p->proc_root, pid, tmp) < 0)
		return;
	t->ppid = (uint32_t)tmp->ppid;
	t->uid = tmp->uid;
	t->start_ns = tmp->start_ticks * p->ns_per_tick;
	owl_strncpy0(t->comm, sizeof(t->comm), tmp->comm, strnlen(tmp->comm, sizeof(t->comm) - 1));
}

static bool task_filtered(const struct poll_priv *p, const struct owl_ev_task *t)
{
	if (t->tgid == (uint32_t)getpid())
		return true;
	if (p->o.pid && t->tgid != p->o.pid)
		return true;
	if (p->o.uid >= 0 && t->uid != (uint32_t)p->o.uid)
		return true;
	return false;
}

static int cn_read(struct poll_priv *p, trace_cb cb, void *ud)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int n = 0;
	for (;;) {
		ssize_t len = recv(p->cn_fd, buf, sizeof(buf), 0);
		if (len < 0)
			return errno == EAGAIN || errno == EINTR ? n : (errno == ENOBUFS ? n : -errno);
		for (struct nlmsghdr *nl = (struct nlmsghdr *)buf; NLMSG_OK(nl, (size_t)len); nl = NLMSG_NEXT(nl, len)) {
			if (nl->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg)))
				continue;
			struct cn_msg *cn = NLMSG_DATA(nl);
			if (cn->id.idx != CN_IDX_PROC || cn->len < sizeof(struct proc_event) ||
			    NLMSG_LENGTH(sizeof(*cn) + cn->len) > nl->nlmsg_len)
				continue;
			struct proc_event ev;
			memcpy(&ev, cn->data, sizeof(ev));
			struct owl_proc *tmp = malloc(sizeof(*tmp));
			if (!tmp)
				return -ENOMEM;
			if (ev.what == PROC_EVENT_EXEC) {
				struct owl_ev_exec *e = calloc(1, sizeof(*e));
				if (!e) {
					free(tmp);
					return -ENOMEM;
				}
				pid_t pid = ev.event_data.exec.process_tgid;
				task_of(p, pid, &e->h.task, tmp);
				/* read at once: a short-lived program is gone soon */
				if (!tmp->gone && !task_filtered(p, &e->h.task)) {
					e->h.ts_ns = clock_ns(CLOCK_BOOTTIME);
					e->h.type = OWL_EV_EXEC;
					e->h.size = sizeof(*e);
					e->path_len = (uint32_t)owl_strlcpy(e->path, tmp->exe, sizeof(e->path));
					e->path_len = OWL_MIN(e->path_len, (uint32_t)sizeof(e->path) - 1);
					size_t al = OWL_MIN(tmp->args_len, sizeof(e->args));
					memcpy(e->args, tmp->args, al);
					e->args_len = e->args_full = (uint32_t)al;
					if (tmp->args_truncated)
						e->args_full++;
					cb(&e->h, ud);
					n++;
				}
				free(e);
			} else if (ev.what == PROC_EVENT_EXIT &&
				   ev.event_data.exit.process_pid == ev.event_data.exit.process_tgid) {
				struct owl_ev_exit e;
				memset(&e, 0, sizeof(e));
				e.h.ts_ns = clock_ns(CLOCK_BOOTTIME);
				e.h.type = OWL_EV_EXIT;
				e.h.size = sizeof(e);
				e.h.task.pid = e.h.task.tgid = (uint32_t)ev.event_data.exit.process_tgid;
				e.exit_code = (int32_t)ev.event_data.exit.exit_code;
				cb(&e.h, ud);
				n++;
			}
			free(tmp);
		}
	}
}

/* ---- snapshots ---- */

static void emit_conn(const struct pent *pe, uint32_t type, uint8_t result, trace_cb cb, void *ud, uint64_t now)
{
	struct owl_ev_conn e;
	const struct owl_conn *c = &pe->c;
	memset(&e, 0, sizeof(e));
	e.h.ts_ns = now;
	e.h.type = type;
	e.h.size = sizeof(e);
	e.h.task = pe->task;
	e.sock = pe->key;
	e.netns = c->netns_ino;
	size_t al = owl_addr_len(&c->laddr);
	memcpy(e.saddr, c->laddr.bytes, al);
	memcpy(e.daddr, c->raddr.bytes, owl_addr_len(&c->raddr));
	e.family = c->raddr.family ? c->raddr.family : c->laddr.family;
	e.sport = c->lport;
	e.dport = c->rport;
	e.proto = c->transport == OWL_TP_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	e.result = result;
	e.flags = OWL_F_POLLED | (c->direction == OWL_DIR_INGRESS ? OWL_F_ACCEPTED : 0);
	e.start_ns = pe->first_ns;
	if (c->has_tcpinfo) {
		e.bytes_sent = c->bytes_acked;
		e.bytes_received = c->bytes_received;
	}
	cb(&e.h, ud);
}

static bool wanted(const struct owl_conn *c)
{
	if (c->transport == OWL_TP_TCP)
		return c->state != OWL_TCP_LISTEN && c->state != OWL_TCP_TIME_WAIT && c->state != OWL_TCP_CLOSE &&
		       c->state != OWL_TCP_NEW_SYN_RECV && c->state != OWL_TCP_SYN_RECV;
	if (c->transport == OWL_TP_UDP)
		return c->rport != 0; /* connected UDP: it has a destination */
	return false;
}

static int snapshot(struct poll_priv *p, trace_cb cb, void *ud)
{
	struct collect_opts co = {.with_info = true, .proc_root = p->proc_root};
	struct collect_result col;
	int rc = collect_sockets(&co, &col);
	if (rc < 0)
		return rc;
	size_t nconn = col.conns.len;
	collect_set_directions(col.conns.data, nconn, col.conns.elsize);
	uint64_t now = clock_ns(CLOCK_BOOTTIME);

	struct pent *cur = calloc(nconn ? nconn : 1, sizeof(*cur));
	if (!cur) {
		collect_result_free(&col);
		return -ENOMEM;
	}
	size_t ncur = 0;
	for (size_t i = 0; i < nconn; i++) {
		const struct owl_conn *c = collect_conn(&col, i);
		if (!wanted(c) || (p->o.no_loopback && is_loop(c)))
			continue;
		cur[ncur].key = conn_key(c);
		cur[ncur].c = *c;
		cur[ncur].first_ns = now;
		ncur++;
	}
	qsort(cur, ncur, sizeof(*cur), cmp_pent);

	/* owners only for sockets not seen before */
	struct owl_u64map want;
	struct fdmap m;
	memset(&m, 0, sizeof(m));
	bool have_map = false;
	if (owl_u64map_init(&want, ncur + 16) == 0) {
		size_t nnew = 0;
		for (size_t i = 0; i < ncur; i++) {
			if (find_pent(&cur[i], p->snap, p->nsnap) || !cur[i].c.inode)
				continue;
			if (owl_u64map_put(&want, cur[i].c.inode, (uint32_t)i) == 0)
				nnew++;
		}
		if (nnew && !p->first && fdmap_build(&m, p->proc_root, &want, 1) == 0)
			have_map = true;
		owl_u64map_free(&want);
	}

	int n = 0;
	struct owl_proc *tmp = malloc(sizeof(*tmp));
	for (size_t i = 0; i < ncur && tmp; i++) {
		struct pent *pe = &cur[i];
		struct pent *old = find_pent(pe, p->snap, p->nsnap);
		if (old) {
			pe->task = old->task;
			pe->first_ns = old->first_ns;
			pe->established = old->established;
			pe->preexisting = old->preexisting;
		} else if (have_map) {
			uint32_t j;
			if (owl_u64map_get(&m.head, pe->c.inode, &j))
				task_of(p, (pid_t)m.owners[j].pid, &pe->task, tmp);
		}
		if (p->first) {
			pe->established = pe->preexisting = true; /* already there when owl started */
			continue;
		}
		if (pe->task.tgid && task_filtered(p, &pe->task))
			continue;
		if (pe->established)
			continue;
		const struct owl_conn *c = &pe->c;
		if (c->transport == OWL_TP_UDP) {
			emit_conn(pe, OWL_EV_UDP, 0, cb, ud, now);
			pe->established = true;
		} else if (c->state == OWL_TCP_SYN_SENT) {
			if (!old)
				emit_conn(pe, OWL_EV_CONNECT, OWL_CONN_PENDING, cb, ud, now);
			else
				continue;
		} else if (c->direction == OWL_DIR_INGRESS) {
			emit_conn(pe, OWL_EV_ACCEPT, 0, cb, ud, now);
			pe->established = true;
		} else {
			emit_conn(pe, OWL_EV_CONNECT, OWL_CONN_ESTABLISHED, cb, ud, now);
			pe->established = true;
		}
		n++;
	}
	/* gone since the last snapshot */
	for (size_t i = 0; i < p->nsnap && !p->first; i++) {
		struct pent *old = &p->snap[i];
		if (find_pent(old, cur, ncur))
			continue;
		if (old->task.tgid && task_filtered(p, &old->task))
			continue;
		if (old->c.transport != OWL_TP_TCP || old->preexisting)
			continue;
		if (old->c.state == OWL_TCP_SYN_SENT && !old->established) {
			emit_conn(old, OWL_EV_CONNECT, OWL_CONN_OTHER, cb, ud, now);
		} else if (old->established) {
			emit_conn(old, OWL_EV_CLOSE, 0, cb, ud, now);
		}
		n++;
	}
	free(tmp);
	if (have_map)
		fdmap_free(&m);
	free(p->snap);
	p->snap = cur;
	p->nsnap = ncur;
	p->first = false;
	collect_result_free(&col);
	return n;
}

static int ppoll_fn(struct trace *t, int timeout_ms, trace_cb cb, void *ud)
{
	struct poll_priv *p = t->priv;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	int n = 0;
	if (now < p->next_ns) {
		uint64_t wait_ms = (p->next_ns - now) / 1000000 + 1;
		if (timeout_ms >= 0 && (uint64_t)timeout_ms < wait_ms)
			wait_ms = (uint64_t)timeout_ms;
		struct pollfd pfd = {.fd = p->cn_fd, .events = POLLIN};
		int r = poll(p->cn_fd >= 0 ? &pfd : NULL, p->cn_fd >= 0 ? 1 : 0, (int)wait_ms);
		if (r < 0 && errno == EINTR)
			return -EINTR;
		if (p->cn_fd >= 0) {
			int c = cn_read(p, cb, ud);
			if (c > 0)
				n += c;
		}
		if (clock_ns(CLOCK_MONOTONIC) < p->next_ns)
			return n;
	}
	p->next_ns = clock_ns(CLOCK_MONOTONIC) + (uint64_t)p->interval_ms * 1000000ULL;
	int s = snapshot(p, cb, ud);
	if (s < 0)
		return s;
	return n + s;
}

static int pdrain(struct trace *t, trace_cb cb, void *ud)
{
	struct poll_priv *p = t->priv;
	return p->cn_fd >= 0 ? cn_read(p, cb, ud) : 0;
}

static void pdetach(struct trace *t)
{
}

static int pcounters(struct trace *t, struct trace_counters *ret)
{
	memset(ret, 0, sizeof(*ret));
	return 0;
}

static void pclose_fn(struct trace *t)
{
	struct poll_priv *p = t->priv;
	if (!p)
		return;
	if (p->cn_fd >= 0)
		close(p->cn_fd);
	free(p->snap);
	free(p);
	t->priv = NULL;
	free((void *)t->ops);
}

int trace_poll_open(const struct trace_opts *o, struct trace *t)
{
	struct poll_priv *p = calloc(1, sizeof(*p));
	struct trace_ops *ops = calloc(1, sizeof(*ops));
	if (!p || !ops) {
		free(p);
		free(ops);
		return -ENOMEM;
	}
	p->o = *o;
	p->proc_root = o->proc_root ? o->proc_root : "/proc";
	p->interval_ms = o->interval_ms > 0 ? o->interval_ms : 1000;
	long hz = sysconf(_SC_CLK_TCK);
	p->ns_per_tick = 1000000000ULL / (uint64_t)(hz > 0 ? hz : 100);
	p->first = true;
	int cn = cn_open();
	p->cn_fd = cn >= 0 ? cn : -1;
	snprintf(p->blind, sizeof(p->blind),
		 "poll backend (sock_diag every %d ms): it cannot see connections that open and close between two "
		 "snapshots, refused or timed-out attempts (only those still in SYN-SENT), UDP datagrams on "
		 "unconnected sockets, DNS answers (no destination.domain), bytes after the last snapshot, nor "
		 "lost events; times are rounded to the interval%s%s",
		 p->interval_ms, cn < 0 ? "; exec/exit events unavailable (proc connector: " : "",
		 cn < 0 ? strerror(-cn) : "");
	if (cn < 0)
		owl_strlcpy(p->blind + strlen(p->blind), ")", sizeof(p->blind) - strlen(p->blind));
	ops->poll = ppoll_fn;
	ops->drain = pdrain;
	ops->detach = pdetach;
	ops->counters = pcounters;
	ops->close = pclose_fn;
	ops->blind_spots = p->blind;
	t->ops = ops;
	t->backend = TRACE_BACKEND_POLL;
	t->priv = p;
	/* the first snapshot: what exists now is not news */
	int rc = snapshot(p, NULL, NULL);
	if (rc < 0) {
		pclose_fn(t);
		return rc;
	}
	p->next_ns = clock_ns(CLOCK_MONOTONIC) + (uint64_t)p->interval_ms * 1000000ULL;
	return 0;
}
