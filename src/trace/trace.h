/* The trace stage: live events from the kernel, as the records of
 * bpf/owl_trace.h, from one of two backends:
 *   ebpf  tracepoints + a ring buffer (trace_bpf.c): every connect, its
 *         outcome, accepts, closes, UDP destinations, DNS answers, exec, exit
 *   poll  sock_diag snapshots at an interval + the proc connector
 *         (trace_poll.c): sees only what lives across a snapshot.
 * Both deliver the same records to the same callback, so everything after
 * (watch.c) does not care which one runs. */
#ifndef OWL_TRACE_TRACE_H
#define OWL_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/bpf/owl_trace.h"

enum trace_backend {
	TRACE_BACKEND_AUTO = 0,
	TRACE_BACKEND_EBPF,
	TRACE_BACKEND_POLL,
};

struct trace_opts {
	enum trace_backend backend;
	uint32_t pid;           /* only this process (0 = all) */
	int64_t uid;            /* only this user (-1 = all) */
	bool no_loopback;       /* drop connections to 127/8 and ::1 in the kernel */
	int drain_ms;           /* ebpf: drain the ring buffer this often (default 50) */
	int interval_ms;        /* poll: snapshot interval (default 1000) */
	uint32_t ringbuf_bytes; /* ebpf: ring buffer size (power of two, default 16 MiB) */
	const char *proc_root;  /* "/proc" */
};

/* Called for each record, in the order the kernel produced them.  The
 * record is valid only during the call. */
typedef void (*trace_cb)(const struct owl_ev_hdr *ev, void *ud);

struct trace_counters {
	uint64_t lost;          /* records the kernel could not hand over */
	uint64_t untracked;     /* attempts that could not be remembered */
};

struct trace;

/* Open a backend.  AUTO tries eBPF and falls back to polling; *ret_ebpf_err
 * (may be NULL) gets why eBPF was not used (-errno, 0 when it runs).
 * Returns 0 or -errno. */
int trace_open(const struct trace_opts *o, struct trace **ret, int *ret_ebpf_err);

/* Which backend runs: TRACE_BACKEND_EBPF or TRACE_BACKEND_POLL. */
enum trace_backend trace_backend(const struct trace *t);

/* Wait up to timeout_ms for the next drain/snapshot, deliver what arrived.
 * Returns the number of records delivered, or -errno (-EINTR on a signal). */
int trace_poll(struct trace *t, int timeout_ms, trace_cb cb, void *ud);

/* Deliver whatever is still buffered (at stop, after detaching). */
int trace_drain(struct trace *t, trace_cb cb, void *ud);

/* Stop the kernel side: detach every program (the buffer stays readable). */
void trace_detach(struct trace *t);

int trace_counters(struct trace *t, struct trace_counters *ret);

/* What this backend cannot see, one line for people ("" for eBPF). */
const char *trace_blind_spots(const struct trace *t);

void trace_close(struct trace *t);

/* Backends (trace_bpf.c, trace_poll.c); used by trace.c. */
struct trace_ops {
	int (*poll)(struct trace *t, int timeout_ms, trace_cb cb, void *ud);
	int (*drain)(struct trace *t, trace_cb cb, void *ud);
	void (*detach)(struct trace *t);
	int (*counters)(struct trace *t, struct trace_counters *ret);
	void (*close)(struct trace *t);
	const char *blind_spots;
};

struct trace {
	const struct trace_ops *ops;
	enum trace_backend backend;
	void *priv;
};

int trace_bpf_open(const struct trace_opts *o, struct trace *t);
int trace_poll_open(const struct trace_opts *o, struct trace *t);

#endif
