/* owl — the plain data that flows through the pipeline.
 *
 * collect fills struct owl_conn, attribute fills struct owl_proc, the later
 * stages (verify, endpoint, judge) add to struct owl_record.  Every string
 * here is bounded and came from an untrusted source: it must pass
 * render/escape before anyone sees it.
 */
#ifndef OWL_MODEL_H
#define OWL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum owl_transport {
	OWL_TP_TCP = 0,
	OWL_TP_UDP,
	OWL_TP_RAW,
	OWL_TP_PACKET,
	OWL_TP__MAX,
};

enum owl_direction {
	OWL_DIR_UNKNOWN = 0,
	OWL_DIR_EGRESS,
	OWL_DIR_INGRESS,
	OWL_DIR_LISTENING,
};

/* Where a socket was learnt from (for --verbose and the cross-check). */
enum owl_source {
	OWL_SRC_DIAG = 0,
	OWL_SRC_PROC,
	OWL_SRC_EBPF,           /* a live event from src/trace/ (issue 5) */
};

enum owl_severity {
	OWL_SEV_NONE = 0, /* no finding at all */
	OWL_SEV_INFO,
	OWL_SEV_LOW,
	OWL_SEV_MEDIUM,
	OWL_SEV_HIGH,
	OWL_SEV_CRITICAL,
};

/* TCP states, numbered as the kernel numbers them (include/net/tcp_states.h). */
enum owl_tcp_state {
	OWL_TCP_ESTABLISHED = 1,
	OWL_TCP_SYN_SENT,
	OWL_TCP_SYN_RECV,
	OWL_TCP_FIN_WAIT1,
	OWL_TCP_FIN_WAIT2,
	OWL_TCP_TIME_WAIT,
	OWL_TCP_CLOSE,
	OWL_TCP_CLOSE_WAIT,
	OWL_TCP_LAST_ACK,
	OWL_TCP_LISTEN,
	OWL_TCP_CLOSING,
	OWL_TCP_NEW_SYN_RECV,
	OWL_TCP_BOUND_INACTIVE,
};

/* An IP address; family is AF_INET (first 4 bytes used) or AF_INET6.
 * v4-mapped IPv6 addresses are stored as AF_INET (see addr_normalize). */
struct owl_addr {
	uint8_t family;
	uint8_t bytes[16];
};

#define OWL_IFNAME_MAX 16

struct owl_conn {
	uint64_t netns_ino;     /* inode of the network namespace */
	uint64_t inode;         /* socket inode; 0 for TIME-WAIT / orphans */
	uint64_t cookie;        /* sock_diag cookie (0 from /proc) */
	uint64_t cgroup_id;     /* cgroup v2 id from sock_diag, 0 if unknown */
	struct owl_addr laddr, raddr;
	uint16_t lport, rport;
	uint8_t transport;      /* enum owl_transport */
	uint8_t family;         /* AF_INET, AF_INET6, or AF_PACKET */
	uint8_t state;          /* enum owl_tcp_state for TCP; 7 (CLOSE) = UDP unconnected */
	uint8_t direction;      /* enum owl_direction */
	uint8_t source;         /* enum owl_source */
	uint8_t sk_family;      /* the socket's own family (AF_INET6 for a v6 socket on v4-mapped addresses) */
	bool has_uid;
	bool has_tcpinfo;       /* the TCP counters below are valid */
	/* raw: IP protocol number; packet: ethertype (host order); packet type in pkt_type */
	uint16_t protocol;
	uint32_t uid;
	uint32_t rqueue, wqueue;
	int32_t ifindex;        /* bound interface, 0 = any */
	uint32_t id_if;         /* sock_diag id.idiag_if, needed to look the socket up again */
	/* A socket is either TCP (counters from tcp_info) or packet, never
	 * both: the two share their bytes (100,000 records, 2.4 MB less). */
	union {
		struct { /* TCP, valid when has_tcpinfo */
			uint64_t bytes_acked, bytes_received, bytes_sent;
			uint32_t idle_ms;       /* time since last data received (tcpi_last_data_recv, u32 in the kernel) */
			uint32_t total_retrans;
			uint32_t rtt_us;
			uint8_t retransmits, backoff;
		};
		struct { /* packet */
			char ifname[OWL_IFNAME_MAX];
			uint16_t filter_len;    /* number of classic BPF instructions */
			uint8_t pkt_type;       /* SOCK_RAW / SOCK_DGRAM for packet sockets */
			bool has_filter;        /* a BPF filter is attached (packet, from diag) */
		};
	};
};

#define OWL_COMM_MAX 64         /* kernel comm is 16, but escaping may grow it */
#define OWL_PATH_MAX 4096
#define OWL_ARGS_MAX 4096       /* bytes of argv kept */
#define OWL_ARGC_MAX 64         /* argv entries kept */
#define OWL_USER_MAX 64
#define OWL_UNIT_MAX 256
#define OWL_CONTAINER_MAX 128

enum owl_container_rt {
	OWL_CT_NONE = 0,
	OWL_CT_DOCKER,
	OWL_CT_CONTAINERD,
	OWL_CT_CRIO,
	OWL_CT_PODMAN,
	OWL_CT_KUBERNETES,
	OWL_CT_LXC,
	OWL_CT_OTHER,
};

/* What a cgroup path says about the process. */
struct owl_cgroup_info {
	char unit[OWL_UNIT_MAX];           /* systemd unit (service/scope), "" if none */
	char slice[OWL_UNIT_MAX];          /* enclosing slice, "" if none */
	char container_id[OWL_CONTAINER_MAX]; /* "" if none */
	uint8_t runtime;                   /* enum owl_container_rt */
	char pod_uid[64];                  /* kubernetes pod uid, "" if none */
	bool user_session;                 /* under user-N.slice / session-N.scope */
};

struct owl_proc {
	pid_t pid, ppid;
	uint32_t uid, euid, gid;
	bool have_status;                  /* uid/gid/ppid read */
	char comm[OWL_COMM_MAX];           /* raw comm bytes (NUL-free) */
	char exe[OWL_PATH_MAX];            /* readlink(/proc/PID/exe), "" if unreadable */
	bool exe_unreadable;               /* readlink failed (kernel thread, EACCES) */
	/* argv: NUL-separated bytes, argc entries */
	char args[OWL_ARGS_MAX];
	size_t args_len;
	int argc;
	bool args_truncated;
	char user[OWL_USER_MAX];           /* user name, "" if unknown */
	uint64_t start_time_ns;            /* wall-clock start, ns since epoch */
	uint64_t start_ticks;              /* starttime from /proc/PID/stat */
	int tty_nr;                        /* controlling tty (0 = none) */
	uint32_t loginuid;                 /* (uint32_t)-1 if unset */
	uint32_t sessionid;
	uint64_t netns_ino;
	uint64_t mntns_ino;
	uint64_t pidns_ino;
	struct owl_cgroup_info cg;
	char cgroup_path[OWL_PATH_MAX];
	bool gone;                         /* vanished while being read */
	/* Read with the rest when verify will run (PROCINFO_F_VERIFY): the
	 * stat of the running image and of the root the process sees, through
	 * /proc/PID/{exe,root}.  Spares verify opening them again. */
	bool have_exe_st, have_root_st;
	struct stat exe_st;
	uint64_t root_dev, root_ino;
	uint64_t env_start, env_end;       /* the environment block (from stat; 0 = unknown) */
	/* Filled by later stages, each owning its struct (NULL = stage not run). */
	struct verify_info *verify;        /* src/verify/ (issue 3) */
	struct origin_info *origin;        /* src/attribute/origin (issue 7) */
};

#define OWL_REASON_MAX 256

struct owl_finding {
	const char *id;                    /* static string from the catalogue */
	uint8_t severity;                  /* enum owl_severity */
	char reason[OWL_REASON_MAX];       /* one line, may hold untrusted text (escaped at render) */
};

#define OWL_FINDINGS_MAX 16

/* One line of output: a socket, its owners and what was judged about it. */
struct owl_record {
	struct owl_conn conn;
	/* owners: indexes into the process table */
	uint32_t *pids;                    /* all pids holding the socket, sorted */
	struct owl_proc *proc;             /* the owner named in `process`, or NULL */
	/* findings: an interned, shared, immutable set (judge/fset.c) that
	 * only judge_add() and friends change; at most OWL_FINDINGS_MAX;
	 * dropped by judge_free_findings(). */
	const struct owl_finding *findings;
	struct endpoint_info *endpoint;    /* src/endpoint/ (issue 4), NULL = not run */
	struct baseline_match *baseline;   /* src/store/ (issue 6), NULL = not run */
	struct trace_info *trace;          /* src/trace/ (issue 5): what a live event adds, NULL in scan */
	uint32_t npids;
	uint16_t nfindings;
	uint8_t severity;                  /* verdict: max of the findings */
};

/* A network namespace and how it was found. */
#define OWL_NSNAME_MAX 256
struct owl_netns {
	uint64_t ino;
	char name[OWL_NSNAME_MAX];         /* "host", an ip-netns name, or "pid N" */
	char path[OWL_PATH_MAX];           /* a path that opens it */
	bool is_host;
};

#endif
