// SPDX-License-Identifier: GPL-2.0
/* owl_trace.bpf.c — the kernel half of `owl watch` (see owl_trace.h).
 *
 * Only tracepoints, attached as BTF-typed raw tracepoints (tp_btf: no tracefs
 * mount needed, no kprobes): they are global (every network namespace at
 * once) and stable.  The pid of a TCP connect is captured at SYN-SENT, when the
 * connecting task is current; the record goes out at the next state change,
 * when the source port is known.  Records are submitted without waking user
 * space (BPF_RB_NO_WAKEUP): a wakeup per event costs the *connecting*
 * process 14-22 us; user space drains the ring on a short timer instead. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "owl_trace.h"

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define ECONNREFUSED 111
#define ETIMEDOUT 110
#define EHOSTUNREACH 113
#define ENETUNREACH 101

char LICENSE[] SEC("license") = "GPL";

/* Settings, filled by user space between open and load. */
const volatile __u32 self_tgid = 0;      /* owl itself: never traced */
const volatile __u32 targ_tgid = 0;      /* 0 = every process */
const volatile __u32 targ_uid = (__u32)-1; /* -1 = every user */
const volatile bool skip_loopback = false;
const volatile bool want_udp = true;
const volatile bool want_dns = true;
const volatile bool want_exec = true;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OWL_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* A TCP socket owl follows: who opened it and when. */
struct sockinfo {
	struct owl_ev_task task;
	__u64 start_ns;
	__u32 flags;
	__u32 attributed; /* task is filled (accepted sockets get it at accept()) */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, struct sockinfo);
} socks SEC(".maps");

struct udpkey {
	__u64 sk;
	__u8 daddr[16];
	__u16 dport;
	__u16 pad1;
	__u32 pad2;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct udpkey);
	__type(value, __u8);
} udp_seen SEC(".maps");

/* (tgid, fd) of sockets that talked to port 53: their reads are DNS answers. */
struct fdkey {
	__u32 tgid;
	__u32 fd;
};

struct dnssock {
	__u64 sk;
	__u64 netns;
	__u8 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct fdkey);
	__type(value, struct dnssock);
} dns_fds SEC(".maps");

enum { RD_BUF = 0, RD_MSGHDR, RD_MMSGHDR };

struct dnsread {
	__u64 ptr;
	__u64 netns;
	__u32 kind;
	__u8 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct dnsread);
} dns_reads SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void *rb_reserve(__u64 size)
{
	void *p = bpf_ringbuf_reserve(&events, size, 0);
	if (!p)
		stat_inc(OWL_STAT_LOST);
	return p;
}

static __always_inline bool task_filtered(__u32 tgid, __u32 uid)
{
	if (tgid == self_tgid)
		return true;
	if (targ_tgid && tgid != targ_tgid)
		return true;
	if (targ_uid != (__u32)-1 && uid != targ_uid)
		return true;
	return false;
}

static __always_inline void fill_task(struct owl_ev_task *t)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	t->pid = (__u32)id;
	t->tgid = id >> 32;
	t->uid = (__u32)bpf_get_current_uid_gid();
	t->cgroup_id = bpf_get_current_cgroup_id();
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

static __always_inline bool is_loopback(__u16 family, const __u8 *a)
{
	if (family == AF_INET)
		return a[0] == 127;
	/* ::1 and ::ffff:127.x */
	__u64 hi, lo;
	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	if (hi == 0 && lo == ((__u64)bpf_htonl(1) << 32))
		return true;
	if (hi == 0 && a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff && a[12] == 127)
		return true;
	return false;
}

static __always_inline __u64 sk_netns(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Addresses and ports of a socket, as the tracepoint would give them.  The
 * source port comes from inet_sport: inet_num is already 0 when a closing
 * socket has given its port back. */
static __always_inline void sk_addrs(struct sock *sk, struct owl_ev_conn *e)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	if (!e->sport)
		e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* The socket behind fd in the current process, or NULL. */
static __always_inline struct sock *fd_sock(__u32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt)
		return NULL;
	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return NULL;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *so = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(so, sk);
}

static __always_inline __u8 result_of(int err)
{
	switch (err) {
	case 0: return OWL_CONN_ABORTED;
	case ECONNREFUSED: return OWL_CONN_REFUSED;
	case ETIMEDOUT: return OWL_CONN_TIMEDOUT;
	case EHOSTUNREACH:
	case ENETUNREACH: return OWL_CONN_UNREACHABLE;
	default: return OWL_CONN_OTHER;
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(owl_set_state, const struct sock *skp, int os, int ns)
{
	struct sock *sock = (struct sock *)skp;
	if (BPF_CORE_READ(sock, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 sk = (__u64)skp;

	if (ns == TCP_SYN_SENT) {
		/* the connecting task is current: remember it for this socket */
		struct sockinfo si = {};
		struct owl_ev_conn tmp = {};
		sk_addrs(sock, &tmp);
		if (skip_loopback && is_loopback(tmp.family, tmp.daddr))
			return 0;
		fill_task(&si.task);
		if (task_filtered(si.task.tgid, si.task.uid))
			return 0;
		si.start_ns = bpf_ktime_get_boot_ns();
		si.flags = OWL_F_CONNECT_SEEN;
		si.attributed = 1;
		if (bpf_map_update_elem(&socks, &sk, &si, BPF_ANY))
			stat_inc(OWL_STAT_SOCKMAP_FULL);
		struct owl_ev_conn *e = rb_reserve(sizeof(*e));
		if (e) {
			__builtin_memset(e, 0, sizeof(*e));
			e->h.ts_ns = si.start_ns;
			e->h.type = OWL_EV_ATTEMPT;
			e->h.size = sizeof(*e);
			e->h.task = si.task;
			e->sock = sk;
			e->netns = sk_netns(sock);
			sk_addrs(sock, e);
			e->proto = IPPROTO_TCP;
			e->result = OWL_CONN_PENDING;
			e->flags = OWL_F_CONNECT_SEEN;
			e->start_ns = si.start_ns;
			bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
		}
		return 0;
	}

	if (os == TCP_SYN_RECV && ns == TCP_ESTABLISHED) {
		/* a passive open completed; accept() will name the process */
		struct sockinfo si = {};
		si.start_ns = bpf_ktime_get_boot_ns();
		si.flags = OWL_F_ACCEPTED;
		bpf_map_update_elem(&socks, &sk, &si, BPF_ANY);
		return 0;
	}

	if (os == TCP_SYN_SENT) {
		struct sockinfo *si = bpf_map_lookup_elem(&socks, &sk);
		if (!si)
			return 0;
		struct owl_ev_conn *e = rb_reserve(sizeof(*e));
		if (e) {
			__builtin_memset(e, 0, sizeof(*e));
			e->h.ts_ns = bpf_ktime_get_boot_ns();
			e->h.type = OWL_EV_CONNECT;
			e->h.size = sizeof(*e);
			e->h.task = si->task;
			e->sock = sk;
			e->netns = sk_netns(sock);
			sk_addrs(sock, e);
			e->proto = IPPROTO_TCP;
			e->flags = si->flags;
			e->start_ns = si->start_ns;
			if (ns == TCP_ESTABLISHED) {
				e->result = OWL_CONN_ESTABLISHED;
			} else {
				int err = BPF_CORE_READ(sock, sk_err);
				e->err = err;
				e->result = result_of(err);
			}
			bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
		}
		if (ns != TCP_ESTABLISHED)
			bpf_map_delete_elem(&socks, &sk);
		return 0;
	}

	if (ns == TCP_CLOSE) {
		struct sockinfo *si = bpf_map_lookup_elem(&socks, &sk);
		if (!si)
			return 0;
		/* an accepted socket that no accept() named stays anonymous; with
		 * a process filter it cannot be told apart, so it is dropped */
		if (!si->attributed && (targ_tgid || targ_uid != (__u32)-1)) {
			bpf_map_delete_elem(&socks, &sk);
			return 0;
		}
		struct owl_ev_conn *e = rb_reserve(sizeof(*e));
		if (e) {
			struct tcp_sock *tp = (struct tcp_sock *)skp;
			__builtin_memset(e, 0, sizeof(*e));
			e->h.ts_ns = bpf_ktime_get_boot_ns();
			e->h.type = OWL_EV_CLOSE;
			e->h.size = sizeof(*e);
			e->h.task = si->task;
			e->sock = sk;
			e->netns = sk_netns(sock);
			sk_addrs(sock, e);
			e->proto = IPPROTO_TCP;
			e->flags = si->flags;
			e->start_ns = si->start_ns;
			/* data bytes: bytes_sent counts data only (retransmits
			 * included); bytes_received counts the peer's FIN as one
			 * byte, received when closing from these states */
			e->bytes_sent = BPF_CORE_READ(tp, bytes_sent);
			e->bytes_received = BPF_CORE_READ(tp, bytes_received);
			if (e->bytes_received &&
			    (os == TCP_LAST_ACK || os == TCP_CLOSING || os == TCP_FIN_WAIT2 || os == TCP_CLOSE_WAIT))
				e->bytes_received--;
			bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
		}
		bpf_map_delete_elem(&socks, &sk);
	}
	return 0;
}

static __always_inline int on_accept(long ret)
{
	if (ret < 0)
		return 0;
	struct owl_ev_task t = {};
	fill_task(&t);
	if (task_filtered(t.tgid, t.uid))
		return 0;
	struct sock *sk = fd_sock((__u32)ret);
	if (!sk)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	struct owl_ev_conn *e = rb_reserve(sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	e->h.type = OWL_EV_ACCEPT;
	e->h.size = sizeof(*e);
	e->h.task = t;
	e->sock = key;
	e->netns = sk_netns(sk);
	sk_addrs(sk, e);
	e->proto = IPPROTO_TCP;
	e->flags = OWL_F_ACCEPTED;
	if (skip_loopback && is_loopback(e->family, e->daddr)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		bpf_map_delete_elem(&socks, &key);
		return 0;
	}
	struct sockinfo *si = bpf_map_lookup_elem(&socks, &key);
	if (si) {
		e->start_ns = si->start_ns;
		si->task = t;
		si->attributed = 1;
	} else {
		/* established before owl started, or already closed */
		e->start_ns = e->h.ts_ns;
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* A destination given to connect/sendto/sendmsg on socket fd (user pointer
 * to a sockaddr, NULL = the connected peer).  UDP: one record per new
 * destination on the socket.  Port 53 (UDP or TCP): its reads are DNS. */
static __always_inline int on_send(__u32 fd, const void *uaddr, bool is_connect)
{
	if (!want_udp && !want_dns)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (tgid == self_tgid)
		return 0;
	struct sock *sk = fd_sock(fd);
	if (!sk)
		return 0;
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;

	struct owl_ev_conn c = {};
	__u16 dport;
	if (uaddr) {
		struct sockaddr_in6 sa = {};
		if (bpf_probe_read_user(&sa, sizeof(sa), uaddr))
			return 0;
		if (sa.sin6_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
			__builtin_memcpy(c.daddr, &s4->sin_addr, 4);
			dport = bpf_ntohs(s4->sin_port);
			c.family = AF_INET;
		} else if (sa.sin6_family == AF_INET6) {
			__builtin_memcpy(c.daddr, &sa.sin6_addr, 16);
			dport = bpf_ntohs(sa.sin6_port);
			c.family = AF_INET6;
		} else {
			return 0;
		}
	} else {
		if (proto != IPPROTO_UDP)
			return 0;
		sk_addrs(sk, &c);
		dport = c.dport;
		if (!dport)
			return 0;
	}

	if (want_dns && dport == 53) {
		struct fdkey k = {.tgid = tgid, .fd = fd};
		struct dnssock d = {.sk = (__u64)sk, .netns = sk_netns(sk), .proto = (__u8)proto};
		bpf_map_update_elem(&dns_fds, &k, &d, BPF_ANY);
	}
	if (proto != IPPROTO_UDP || !want_udp)
		return 0;

	struct udpkey uk = {.sk = (__u64)sk, .dport = dport};
	__builtin_memcpy(uk.daddr, c.daddr, 16);
	__u8 one = 1;
	if (bpf_map_update_elem(&udp_seen, &uk, &one, BPF_NOEXIST))
		return 0; /* seen before on this socket */
	if (skip_loopback && is_loopback(c.family, c.daddr))
		return 0;
	struct owl_ev_conn *e = rb_reserve(sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	fill_task(&e->h.task);
	if (task_filtered(e->h.task.tgid, e->h.task.uid)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	e->h.type = OWL_EV_UDP;
	e->h.size = sizeof(*e);
	e->sock = (__u64)sk;
	e->netns = sk_netns(sk);
	e->family = c.family;
	__builtin_memcpy(e->daddr, c.daddr, 16);
	e->dport = dport;
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
	else
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
	e->proto = IPPROTO_UDP;
	e->flags = is_connect ? OWL_F_CONNECT_SEEN : 0;
	e->start_ns = e->h.ts_ns;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* struct user_msghdr and struct mmsghdr both start with msg_name */
static __always_inline int on_sendmsg(__u32 fd, const void *umsg)
{
	void *name = NULL;
	if (!umsg || bpf_probe_read_user(&name, sizeof(name), umsg))
		return 0;
	return on_send(fd, name, false);
}

/* DNS: remember the buffer of a read on a port-53 socket, copy it at exit. */
static __always_inline int dns_enter(__u32 fd, __u64 ptr, __u32 kind)
{
	if (!want_dns)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct fdkey k = {.tgid = id >> 32, .fd = fd};
	struct dnssock *d = bpf_map_lookup_elem(&dns_fds, &k);
	if (!d)
		return 0;
	struct dnsread r = {.ptr = ptr, .netns = d->netns, .kind = kind, .proto = d->proto};
	__u32 tid = (__u32)id;
	bpf_map_update_elem(&dns_reads, &tid, &r, BPF_ANY);
	return 0;
}

static __always_inline int dns_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct dnsread *r = bpf_map_lookup_elem(&dns_reads, &tid);
	if (!r)
		return 0;
	struct dnsread rd = *r;
	bpf_map_delete_elem(&dns_reads, &tid);
	if (ret <= 0)
		return 0;
	__u64 buf = rd.ptr;
	__u64 len = (__u64)ret;
	if (rd.kind != RD_BUF) {
		/* user_msghdr: name(8) namelen(4+4) iov(8) iovlen(8) ...; mmsghdr adds msg_len at 56 */
		__u64 iov = 0;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(rd.ptr + 16)) || !iov)
			return 0;
		if (bpf_probe_read_user(&buf, sizeof(buf), (void *)iov))
			return 0;
		if (rd.kind == RD_MMSGHDR) {
			__u32 ml = 0;
			if (bpf_probe_read_user(&ml, sizeof(ml), (void *)(rd.ptr + 56)))
				return 0;
			len = ml;
		}
	}
	struct owl_ev_dns *e = rb_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_task(&e->h.task);
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	e->h.type = OWL_EV_DNS;
	e->h.size = sizeof(*e);
	e->netns = rd.netns;
	e->proto = rd.proto;
	e->total = (__u32)len;
	__u32 n = len > OWL_DNS_DATA_LEN ? OWL_DNS_DATA_LEN : (__u32)len;
	e->len = n;
	if (bpf_probe_read_user(e->data, n, (void *)buf))
		e->len = 0;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* Syscalls through the raw sys_enter/sys_exit tracepoints (BTF-typed, no
 * tracefs needed): one program each, dispatching on the syscall number. */
#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_accept4 288
#define NR_recvmmsg 299
#define NR_sendmmsg 307
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_read 63
#define NR_connect 203
#define NR_accept 202
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_accept4 242
#define NR_recvmmsg 243
#define NR_sendmmsg 269
#define SYSCALL_NR(regs) BPF_CORE_READ((struct user_pt_regs___arm64 *)(regs), syscallno)
#else
#error "owl_trace.bpf.c: syscall numbers for this architecture are missing"
#endif

SEC("tp_btf/sys_enter")
int BPF_PROG(owl_sys_enter, struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_connect:
		return on_send((__u32)PT_REGS_PARM1_CORE_SYSCALL(regs), (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs), true);
	case NR_sendto:
		return on_send((__u32)PT_REGS_PARM1_CORE_SYSCALL(regs), (const void *)PT_REGS_PARM5_CORE_SYSCALL(regs), false);
	case NR_sendmsg:
	case NR_sendmmsg:
		return on_sendmsg((__u32)PT_REGS_PARM1_CORE_SYSCALL(regs), (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs));
	case NR_read:
	case NR_recvfrom:
		return dns_enter((__u32)PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs), RD_BUF);
	case NR_recvmsg:
		return dns_enter((__u32)PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs), RD_MSGHDR);
	case NR_recvmmsg:
		return dns_enter((__u32)PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs), RD_MMSGHDR);
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(owl_sys_exit, struct pt_regs *regs, long ret)
{
	long id = SYSCALL_NR(regs);
	switch (id) {
	case NR_accept:
	case NR_accept4:
		return on_accept(ret);
	case NR_read:
	case NR_recvfrom:
	case NR_recvmsg:
	case NR_recvmmsg:
		return dns_exit(ret);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(owl_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!want_exec)
		return 0;
	struct owl_ev_exec *e = rb_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_task(&e->h.task);
	if (task_filtered(e->h.task.tgid, e->h.task.uid)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	e->h.type = OWL_EV_EXEC;
	e->h.size = sizeof(*e);
	long n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	e->path_len = n > 0 ? (__u32)(n - 1) : 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 start = BPF_CORE_READ(task, mm, arg_start);
	__u64 end = BPF_CORE_READ(task, mm, arg_end);
	__u64 full = end > start ? end - start : 0;
	__u32 a = full > OWL_EXEC_ARGS_LEN ? OWL_EXEC_ARGS_LEN : (__u32)full;
	e->args_full = (__u32)full;
	e->args_len = a;
	if (bpf_probe_read_user(e->args, a, (void *)start))
		e->args_len = 0;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(owl_exit, struct task_struct *p)
{
	if (!want_exec)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)id != (__u32)(id >> 32))
		return 0; /* a thread, not the process */
	struct owl_ev_exit *e = rb_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_task(&e->h.task);
	if (task_filtered(e->h.task.tgid, e->h.task.uid)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	e->h.type = OWL_EV_EXIT;
	e->h.size = sizeof(*e);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->pad = 0;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
