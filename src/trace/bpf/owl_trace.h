/* owl_trace.h — the whole contract between the BPF programs
 * (owl_trace.bpf.c) and user space (src/trace/).  Fixed-width types only, no
 * pointers, no kernel types: both halves include this file as it is.
 *
 * The kernel half sends one record per *outcome*, not per state change:
 *   OWL_EV_CONNECT  a TCP connect finished (established, refused, timed out),
 *                   reported at the state change after SYN-SENT, so the source
 *                   port is known; the pid was remembered at SYN-SENT.
 *   OWL_EV_ACCEPT   accept() returned a TCP connection (pid of the acceptor).
 *   OWL_EV_CLOSE    a TCP connection owl saw start reached CLOSE: duration
 *                   and bytes sent (acked) / received.
 *   OWL_EV_UDP      a UDP datagram (or connect) to a destination not seen
 *                   before on that socket.
 *   OWL_EV_DNS      bytes a process received on a socket that talked to port
 *                   53 (UDP or TCP); user space parses them (src/trace/dns.c).
 *   OWL_EV_EXEC     a process executed a program (path and argv).
 *   OWL_EV_EXIT     a process (thread group) exited.
 *   OWL_EV_ATTEMPT  a TCP connect started (SYN-SENT).  User space holds it
 *                   for a moment and shows it only when no outcome follows
 *                   soon (a destination that does not answer).
 * Records go to one ring buffer submitted WITHOUT wakeup; user space drains it
 * on a timer.  A reserve that fails is counted in the per-CPU map `lost`. */
#ifndef OWL_TRACE_H
#define OWL_TRACE_H

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint8_t owl_u8;
typedef uint16_t owl_u16;
typedef uint32_t owl_u32;
typedef uint64_t owl_u64;
typedef int32_t owl_s32;
#else
typedef __u8 owl_u8;
typedef __u16 owl_u16;
typedef __u32 owl_u32;
typedef __u64 owl_u64;
typedef __s32 owl_s32;
#endif

#define OWL_TASK_COMM_LEN 16
#define OWL_EXEC_PATH_LEN 256
#define OWL_EXEC_ARGS_LEN 512
#define OWL_DNS_DATA_LEN 512

enum owl_ev_type {
	OWL_EV_CONNECT = 1,
	OWL_EV_ACCEPT,
	OWL_EV_CLOSE,
	OWL_EV_UDP,
	OWL_EV_DNS,
	OWL_EV_EXEC,
	OWL_EV_EXIT,
	OWL_EV_ATTEMPT,         /* a TCP connect entered SYN-SENT (source port may be 0) */
};

/* Outcome of a connect (OWL_EV_CONNECT.result). */
enum owl_conn_result {
	OWL_CONN_ESTABLISHED = 0,
	OWL_CONN_REFUSED,      /* RST to the SYN (ECONNREFUSED) */
	OWL_CONN_TIMEDOUT,     /* no answer (ETIMEDOUT) */
	OWL_CONN_UNREACHABLE,  /* EHOSTUNREACH / ENETUNREACH */
	OWL_CONN_ABORTED,      /* closed by the program before an answer */
	OWL_CONN_OTHER,        /* another socket error (err holds it) */
	OWL_CONN_PENDING,      /* poll backend only: seen in SYN-SENT, no outcome yet */
};

/* OWL_EV_CLOSE.flags / OWL_EV_CONNECT.flags */
#define OWL_F_ACCEPTED 0x1  /* the connection came in (accept), else went out */
#define OWL_F_CONNECT_SEEN 0x2 /* owl saw the attempt start (times are exact) */
#define OWL_F_POLLED 0x4       /* made by the poll backend from a sock_diag snapshot */

/* Who did it: read in the kernel at the moment of the event. */
struct owl_ev_task {
	owl_u32 pid;            /* thread id */
	owl_u32 tgid;           /* process id */
	owl_u32 ppid;           /* real parent's tgid */
	owl_u32 uid;
	owl_u64 cgroup_id;      /* cgroup v2 id */
	owl_u64 start_ns;       /* the process's start (boot clock, ns): with tgid, its identity */
	char comm[OWL_TASK_COMM_LEN];
};

struct owl_ev_hdr {
	owl_u64 ts_ns;          /* bpf_ktime_get_boot_ns() */
	owl_u32 type;           /* enum owl_ev_type */
	owl_u32 size;           /* bytes of the whole record */
	struct owl_ev_task task;
};

/* CONNECT, ACCEPT, CLOSE, UDP */
struct owl_ev_conn {
	struct owl_ev_hdr h;
	owl_u64 sock;           /* an opaque socket id (kernel address; only compared) */
	owl_u64 netns;          /* inode of the socket's network namespace */
	owl_u8 saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
	owl_u16 sport, dport;   /* host order */
	owl_u16 family;         /* AF_INET / AF_INET6 */
	owl_u8 proto;           /* IPPROTO_TCP / IPPROTO_UDP */
	owl_u8 result;          /* enum owl_conn_result (CONNECT) */
	owl_s32 err;            /* socket error (CONNECT failed), positive errno */
	owl_u32 flags;          /* OWL_F_* */
	owl_u64 start_ns;       /* CONNECT/CLOSE: when the attempt (or accept) started, boot ns */
	owl_u64 bytes_sent;     /* CLOSE: bytes acked by the peer */
	owl_u64 bytes_received; /* CLOSE */
};

/* DNS: a datagram (UDP) or a read (TCP, may be a fragment) from port 53. */
struct owl_ev_dns {
	struct owl_ev_hdr h;
	owl_u64 netns;
	owl_u8 proto;           /* IPPROTO_UDP / IPPROTO_TCP */
	owl_u8 pad[3];
	owl_u32 len;            /* bytes in data (<= OWL_DNS_DATA_LEN) */
	owl_u32 total;          /* bytes the syscall returned */
	owl_u32 pad2;
	owl_u8 data[OWL_DNS_DATA_LEN];
};

struct owl_ev_exec {
	struct owl_ev_hdr h;
	owl_u32 path_len;       /* bytes in path (no NUL) */
	owl_u32 args_len;       /* bytes in args: NUL-separated argv, maybe cut */
	owl_u32 args_full;      /* bytes of the whole argv area */
	owl_u32 pad;
	char path[OWL_EXEC_PATH_LEN];
	char args[OWL_EXEC_ARGS_LEN];
};

struct owl_ev_exit {
	struct owl_ev_hdr h;
	owl_s32 exit_code;
	owl_u32 pad;
};

/* Index of the counters in the per-CPU array `stats`. */
enum owl_stat {
	OWL_STAT_LOST = 0,      /* ring buffer reserve failed: a record is gone */
	OWL_STAT_SOCKMAP_FULL,  /* an attempt could not be remembered */
	OWL_STAT__MAX,
};

#endif
